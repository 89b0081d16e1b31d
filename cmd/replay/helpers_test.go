package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/lambda"
)

type answer struct {
	status int
	body   string
}

func (a answer) messageID() string {
	var v struct {
		MessageID string `json:"message_id"`
	}
	json.Unmarshal([]byte(a.body), &v)
	return v.MessageID
}

// invokeV2 hands h an HTTP API event carrying body, signed now.
func invokeV2(t *testing.T, h *lambda.Handler, body []byte) answer {
	t.Helper()
	ev, err := json.Marshal(events.APIGatewayV2HTTPRequest{Version: "2.0", Body: string(body),
		Headers:        map[string]string{"elevenlabs-signature": core.Sign(secret, time.Now(), body)},
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"}}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := h.Invoke(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return answer{res.StatusCode, res.Body}
}

// post sends body, signed now, to url.
func post(t *testing.T, url string, body []byte) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set(core.SignatureHeader, core.Sign(secret, time.Now(), body))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b)}
}
