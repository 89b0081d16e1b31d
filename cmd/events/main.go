// Command events writes the sample Lambda invocation events in events/,
// signed now, for `sam local invoke -e` and `sam local start-api`. Their
// signatures go stale after WEBHOOK_TOLERANCE (30 minutes), so `make events`
// runs it again before each session.
//
// For each body in events/bodies/<type>.json it writes apigw-v2-<type>.json
// (HTTP API payload 2.0), apigw-v1-<type>.json (REST proxy, with
// multiValueHeaders) and function-url-<type>.json; the REST event of
// post_call_audio is base64-encoded, as a REST API with binary media types
// sends it. It also writes events that must be refused (a wrong signature,
// a stale one) and env.json for `sam local --env-vars`.
//
// It signs with the first secret of ELEVENLABS_WEBHOOK_SECRET (the rotation
// form "new,old" signs with the new one), or with the development secret.
// events/env.json is tracked, so it only ever holds the public development
// secret: with a secret of your own, the environment for sam local goes to
// .local/sam-env.json, which git ignores.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
	"github.com/elevenrelay/elevenrelay/local"
)

// wrongSecret signs the bad-signature events.
const wrongSecret = "wsec_not_the_configured_secret"

const (
	sourceIP  = "34.67.146.145" // one of ElevenLabs' US egress addresses
	userAgent = "ElevenLabs-Webhooks/1.0"
	accountID = "123456789012"
	apiID     = "a1b2c3d4e5"
	urlID     = "abcdefghijklmnopqrstuvwxyz123456"
	region    = "us-east-1"
)

// privateEnv is where the sam local environment goes when the events are
// signed with a secret other than the development one.
const privateEnv = ".local/sam-env.json"

func main() {
	dir := flag.String("dir", "events", "directory holding bodies/ and receiving the events")
	flag.Parse()
	secret := firstSecret(os.Getenv(envvar.Secret))
	files, err := generate(*dir, secret, time.Now())
	if err != nil {
		fmt.Fprintln(os.Stderr, "events:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %d files in %s, signed at %s (valid for %s)\n", len(files), *dir, time.Now().UTC().Format(time.RFC3339), core.DefaultTolerance)
	if secret == local.DevSecret {
		fmt.Println("signed with the development secret; sam local: --env-vars " + filepath.Join(*dir, "env.json"))
		return
	}
	if err := writeJSON(privateEnv, samEnv(secret)); err != nil {
		fmt.Fprintln(os.Stderr, "events:", err)
		os.Exit(1)
	}
	fmt.Println("signed with the first secret of " + envvar.Secret + "; sam local: --env-vars " + privateEnv +
		" (" + filepath.Join(*dir, "env.json") + " keeps the development secret and is tracked by git)")
}

// firstSecret is the secret a sender signs with: the first of a
// comma-separated list (the rotation form), or the development secret.
func firstSecret(env string) string {
	for _, s := range strings.Split(env, ",") {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return local.DevSecret
}

// samEnv is the environment sam local gives the function. sam local
// resolves a resource's !Ref in template.yaml to its logical id, so each
// variable set from one is overridden here: the secret's ARN to empty, or
// the function would refuse "WebhookSecretValue" (not an ARN) and answer
// 500 to everything.
func samEnv(secret string) map[string]map[string]string {
	return map[string]map[string]string{"WebhookFunction": {
		envvar.Secret:           secret,
		envvar.SecretARN:        "",
		envvar.SQSQueueURL:      "http://host.docker.internal:5000/" + accountID + "/elevenrelay-events",
		envvar.ClaimCheckBucket: "elevenrelay-claim-check",
		"AWS_ENDPOINT_URL":      "http://host.docker.internal:5000",
		envvar.LogLevel:         "debug",
	}}
}

func writeJSON(path string, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// generate writes every event into dir, signed with secret, and returns
// the names written. env.json always holds the development secret.
func generate(dir, secret string, now time.Time) ([]string, error) {
	bodies, err := filepath.Glob(filepath.Join(dir, "bodies", "*.json"))
	if err != nil || len(bodies) == 0 {
		return nil, fmt.Errorf("no bodies in %s", filepath.Join(dir, "bodies"))
	}
	sort.Strings(bodies)
	out := map[string]any{}
	for _, path := range bodies {
		body, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		typ := strings.TrimSuffix(filepath.Base(path), ".json")
		sig := core.Sign(secret, now, body)
		out["apigw-v2-"+typ+".json"] = httpAPIEvent(typ, body, sig, now)
		out["apigw-v1-"+typ+".json"] = restEvent(typ, body, sig, now, typ == "post_call_audio")
		out["function-url-"+typ+".json"] = functionURLEvent(typ, body, sig, now)
		if typ == "post_call_transcription" {
			bad := core.Sign(wrongSecret, now, body)
			stale := core.Sign(secret, now.Add(-2*time.Hour), body)
			out["apigw-v2-bad-signature.json"] = httpAPIEvent("bad-signature", body, bad, now)
			out["apigw-v2-stale.json"] = httpAPIEvent("stale", body, stale, now)
			out["apigw-v1-bad-signature.json"] = restEvent("bad-signature", body, bad, now, false)
			out["apigw-v1-stale.json"] = restEvent("stale", body, stale, now, false)
		}
	}
	// Tracked, so never a real secret.
	out["env.json"] = samEnv(local.DevSecret)
	var names []string
	for name, v := range out {
		if err := writeJSON(filepath.Join(dir, name), v); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

func requestTime(now time.Time) string { return now.UTC().Format("02/Jan/2006:15:04:05 -0700") }

// httpAPIEvent is an HTTP API (payload 2.0) event: a POST on the route
// ANY /webhook. HTTP APIs lower-case header names.
func httpAPIEvent(id string, body []byte, sig string, now time.Time) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: "ANY /webhook",
		RawPath:  "/webhook",
		Headers: map[string]string{
			"content-length":       strconv.Itoa(len(body)),
			"content-type":         "application/json",
			"elevenlabs-signature": sig,
			"host":                 apiID + ".execute-api." + region + ".amazonaws.com",
			"user-agent":           userAgent,
			"x-forwarded-for":      sourceIP,
			"x-forwarded-port":     "443",
			"x-forwarded-proto":    "https",
		},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     "ANY /webhook",
			AccountID:    accountID,
			Stage:        "$default",
			RequestID:    "apigw-v2-" + id,
			APIID:        apiID,
			DomainName:   apiID + ".execute-api." + region + ".amazonaws.com",
			DomainPrefix: apiID,
			Time:         requestTime(now),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: "POST", Path: "/webhook", Protocol: "HTTP/1.1", SourceIP: sourceIP, UserAgent: userAgent,
			},
		},
		Body: string(body),
	}
}

// functionURLEvent is a Function URL event: payload 2.0 on a lambda-url
// domain, without a route.
func functionURLEvent(id string, body []byte, sig string, now time.Time) events.LambdaFunctionURLRequest {
	domain := urlID + ".lambda-url." + region + ".on.aws"
	return events.LambdaFunctionURLRequest{
		Version: "2.0",
		RawPath: "/",
		Headers: map[string]string{
			"content-length":       strconv.Itoa(len(body)),
			"content-type":         "application/json",
			"elevenlabs-signature": sig,
			"host":                 domain,
			"user-agent":           userAgent,
			"x-forwarded-for":      sourceIP,
			"x-forwarded-proto":    "https",
		},
		RequestContext: events.LambdaFunctionURLRequestContext{
			AccountID:    "anonymous",
			RequestID:    "function-url-" + id,
			APIID:        urlID,
			DomainName:   domain,
			DomainPrefix: urlID,
			Time:         requestTime(now),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{
				Method: "POST", Path: "/", Protocol: "HTTP/1.1", SourceIP: sourceIP, UserAgent: userAgent,
			},
		},
		Body: string(body),
	}
}

// restEvent is a REST API proxy event for POST /webhook. REST APIs keep the
// sender's header case and send every header in multiValueHeaders too.
func restEvent(id string, body []byte, sig string, now time.Time, b64 bool) events.APIGatewayProxyRequest {
	headers := map[string]string{
		"Content-Type":         "application/json",
		"ElevenLabs-Signature": sig,
		"Host":                 apiID + ".execute-api." + region + ".amazonaws.com",
		"User-Agent":           userAgent,
		"X-Forwarded-For":      sourceIP,
		"X-Forwarded-Port":     "443",
		"X-Forwarded-Proto":    "https",
	}
	multi := make(map[string][]string, len(headers))
	for k, v := range headers {
		multi[k] = []string{v}
	}
	ev := events.APIGatewayProxyRequest{
		Resource:          "/webhook",
		Path:              "/webhook",
		HTTPMethod:        "POST",
		Headers:           headers,
		MultiValueHeaders: multi,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:        accountID,
			ResourceID:       "abc123",
			Stage:            "prod",
			DomainName:       apiID + ".execute-api." + region + ".amazonaws.com",
			DomainPrefix:     apiID,
			RequestID:        "apigw-v1-" + id,
			Protocol:         "HTTP/1.1",
			Identity:         events.APIGatewayRequestIdentity{SourceIP: sourceIP, UserAgent: userAgent},
			ResourcePath:     "/webhook",
			Path:             "/prod/webhook",
			HTTPMethod:       "POST",
			RequestTime:      requestTime(now),
			RequestTimeEpoch: now.UnixMilli(),
			APIID:            apiID,
		},
		Body: string(body),
	}
	if b64 {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	return ev
}
