package bench

import (
	"encoding/json"
	"time"
)

// FunctionURLEvent is a Function URL (HTTP API payload 2.0) request carrying
// body, signed now.
func FunctionURLEvent(body []byte) []byte {
	ev := map[string]any{
		"version":        "2.0",
		"routeKey":       "$default",
		"rawPath":        "/",
		"rawQueryString": "",
		"headers": map[string]string{
			"content-type":         "application/json",
			"elevenlabs-signature": ElevenLabsHeader(body),
			"host":                 "bench.lambda-url.us-east-1.on.aws",
			"user-agent":           "ElevenLabs/1.0",
		},
		"requestContext": map[string]any{
			"accountId":    "anonymous",
			"apiId":        "bench",
			"domainName":   "bench.lambda-url.us-east-1.on.aws",
			"domainPrefix": "bench",
			"http": map[string]string{
				"method": "POST", "path": "/", "protocol": "HTTP/1.1",
				"sourceIp": "127.0.0.1", "userAgent": "ElevenLabs/1.0",
			},
			"requestId": "bench-request",
			"routeKey":  "$default",
			"stage":     "$default",
			"time":      time.Now().UTC().Format("02/Jan/2006:15:04:05 -0700"),
			"timeEpoch": time.Now().UnixMilli(),
		},
		"body":            string(body),
		"isBase64Encoded": false,
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return b
}
