package gcf_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/elevenrelay/elevenrelay/gcf"
	"github.com/elevenrelay/elevenrelay/internal/hostile"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
)

// TestHostileCorpus runs every corpus case through the function in process
// (httptest.NewRecorder) and over real HTTP on loopback, publishing to
// pstest, and checks the answer of docs/spec.md §2, that nothing is published unless the
// answer is 200, and that the log holds neither the secret, nor the
// signature, nor the body.
func TestHostileCorpus(t *testing.T) {
	cases, err := hostile.Load()
	if err != nil {
		t.Fatal(err)
	}
	ps := startPstest(t)
	now := time.Now()
	for _, tc := range cases {
		if tc.LambdaOnly {
			continue
		}
		t.Run(tc.Name, func(t *testing.T) {
			e := baseEnv()
			if tc.MaxBodyBytes > 0 {
				e["WEBHOOK_MAX_BODY_BYTES"] = strconv.FormatInt(tc.MaxBodyBytes, 10)
			}
			logs := &testenv.Buffer{}
			f := gcf.New(context.Background(), gcf.Options{Getenv: e.getenv, LogWriter: logs})
			t.Cleanup(func() { f.Close() })
			method, headers, body := tc.Request(testSecret, now)
			check := func(how string, status int, got []byte, before int) {
				t.Helper()
				queued := len(ps.Messages()) - before
				if status != tc.WantStatus {
					t.Fatalf("%s: status %d, want %d (%s)", how, status, tc.WantStatus, got)
				}
				if tc.WantError != "" && !strings.Contains(string(got), tc.WantError) {
					t.Fatalf("%s: body %s, want error %q", how, got, tc.WantError)
				}
				if (status == http.StatusOK) != (queued == 1) {
					t.Fatalf("%s: status %d with %d published", how, status, queued)
				}
			}

			before := len(ps.Messages())
			req := httptest.NewRequest(method, "/", bytes.NewReader(body))
			for k, vs := range headers {
				req.Header[k] = vs
			}
			if tc.HTTPChunked {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			f.ServeHTTP(rec, req)
			check("in process", rec.Code, rec.Body.Bytes(), before)

			if !tc.HTTPUnsendable {
				srv := httptest.NewServer(f)
				defer srv.Close()
				before = len(ps.Messages())
				status, got, err := tc.Send(srv.URL, method, headers, body)
				if err != nil {
					t.Fatal(err)
				}
				check("over HTTP", status, got, before)
			}

			l := logs.String()
			if strings.Contains(l, testSecret) || strings.Contains(l, "v0=") {
				t.Fatal("log holds the secret or a signature")
			}
			if len(body) >= 12 && strings.Contains(l, string(body)) {
				t.Fatal("log holds the body")
			}
		})
	}
}
