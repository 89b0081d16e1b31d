package terraform_test

import (
	"regexp"
	"strings"
	"testing"
)

// apiIntegration is an API Gateway REST integration in one shape, whether
// read from API Gateway's API (moto), from template.yaml's OpenAPI body or
// from the Terraform module, so that all three are checked by the same code.
type apiIntegration struct {
	Type                string
	HTTPMethod          string
	URI                 string
	Credentials         string
	PassthroughBehavior string
	ContentHandling     string
	RequestParameters   map[string]string
	RequestTemplates    map[string]string
	// IntegrationResponses by method response status code.
	IntegrationResponses map[string]apiResponse
}

type apiResponse struct {
	StatusCode         string
	SelectionPattern   string // empty: the default response
	ResponseParameters map[string]string
	ResponseTemplates  map[string]string
}

// choose returns the integration response API Gateway picks for a backend
// status: the one whose selection pattern matches the whole status code,
// else the default one.
func (in apiIntegration) choose(t *testing.T, status string) (apiResponse, bool) {
	t.Helper()
	var def *apiResponse
	for _, r := range in.IntegrationResponses {
		if r.SelectionPattern == "" {
			def = &r
			continue
		}
		re, err := regexp.Compile(`^(?:` + r.SelectionPattern + `)$`)
		if err != nil {
			t.Errorf("selection pattern %q: %v", r.SelectionPattern, err)
			continue
		}
		if re.MatchString(status) {
			return r, true
		}
	}
	if def == nil {
		return apiResponse{}, false
	}
	return *def, true
}

// checkPutObjectIntegration: POST /webhook is PutObject of the raw bytes to
// inbox/<request id>, with the signature header and the request time as
// metadata, and answers 200 {"status":"stored"} only when S3 answered 2xx.
func checkPutObjectIntegration(t *testing.T, stack string, in apiIntegration, wantURI string) {
	t.Helper()
	if !strings.EqualFold(in.Type, "AWS") || in.HTTPMethod != "PUT" {
		t.Errorf("%s: POST integration is %s %s, want an AWS service integration with PUT", stack, in.Type, in.HTTPMethod)
	}
	if in.URI != wantURI {
		t.Errorf("%s: POST integration uri = %q, want %q", stack, in.URI, wantURI)
	}
	if in.Credentials == "" {
		t.Errorf("%s: POST integration has no credentials (execution role)", stack)
	}
	want := map[string]string{
		"integration.request.path.key":                               "context.requestId",
		"integration.request.header.x-amz-meta-elevenlabs-signature": "method.request.header.ElevenLabs-Signature",
		"integration.request.header.x-amz-meta-received-at":          "context.requestTimeEpoch",
		"integration.request.header.Content-Type":                    "method.request.header.Content-Type",
	}
	for k, v := range want {
		if got := in.RequestParameters[k]; got != v {
			t.Errorf("%s: request parameter %s = %q, want %q", stack, k, got, v)
		}
	}
	for k, v := range in.RequestParameters {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected request parameter %s = %q", stack, k, v)
		}
	}
	// The bytes must reach S3 unchanged: no template, no conversion.
	if len(in.RequestTemplates) != 0 || in.ContentHandling != "" {
		t.Errorf("%s: POST integration transforms the body (templates %v, content handling %q)", stack, in.RequestTemplates, in.ContentHandling)
	}
	if !strings.EqualFold(in.PassthroughBehavior, "WHEN_NO_TEMPLATES") {
		t.Errorf("%s: passthrough behaviour = %q, want WHEN_NO_TEMPLATES", stack, in.PassthroughBehavior)
	}

	for _, s3Status := range []string{"200", "301", "400", "403", "404", "500", "503"} {
		r, ok := in.choose(t, s3Status)
		if !ok {
			t.Errorf("%s: no integration response for S3 status %s", stack, s3Status)
			continue
		}
		switch {
		case s3Status == "200":
			if r.StatusCode != "200" || r.ResponseTemplates["application/json"] != `{"status":"stored"}` {
				t.Errorf("%s: S3 200 answers %s %q, want 200 {\"status\":\"stored\"}", stack, r.StatusCode, r.ResponseTemplates["application/json"])
			}
		case !strings.HasPrefix(r.StatusCode, "5"):
			// Anything but success must be retried by ElevenLabs.
			t.Errorf("%s: S3 %s answers %s, want 5xx", stack, s3Status, r.StatusCode)
		}
		if r.ResponseParameters["method.response.header.Content-Type"] != "'application/json'" {
			t.Errorf("%s: S3 %s answer is not application/json: %v", stack, s3Status, r.ResponseParameters)
		}
	}
}

// checkMethodNotAllowed: every other method gets 405 with Allow: POST.
func checkMethodNotAllowed(t *testing.T, stack string, in apiIntegration) {
	t.Helper()
	if !strings.EqualFold(in.Type, "MOCK") {
		t.Errorf("%s: other methods' integration is %q, want MOCK", stack, in.Type)
	}
	r, ok := in.choose(t, "200")
	if !ok || r.StatusCode != "405" || r.ResponseParameters["method.response.header.Allow"] != "'POST'" {
		t.Errorf("%s: other methods answer %+v, want 405 with Allow: POST", stack, r)
	}
	if len(in.IntegrationResponses) != 1 {
		t.Errorf("%s: other methods have %d integration responses, want only the 405", stack, len(in.IntegrationResponses))
	}
}
