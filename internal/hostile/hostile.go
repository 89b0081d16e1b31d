// Package hostile loads the corpus of malformed and hostile requests in
// core/testdata/hostile.json, so that every entrypoint's tests run the same
// cases and expect the same answers (docs/spec.md §2).
package hostile

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/elevenrelay/elevenrelay/core"
)

// Case is one corpus entry; see the file's "about" for the placeholders.
type Case struct {
	Name         string              `json:"name"`
	Method       string              `json:"method"`
	Headers      map[string][]string `json:"headers"`
	ExtraHeaders int                 `json:"extra_headers"`
	Body         string              `json:"body"`
	BodyBase64   string              `json:"body_base64"`
	BodyRepeat   *struct {
		Prefix string `json:"prefix"`
		Chunk  string `json:"chunk"`
		Count  int    `json:"count"`
	} `json:"body_repeat"`
	MaxBodyBytes int64  `json:"max_body_bytes"`
	WantStatus   int    `json:"want_status"`
	WantError    string `json:"want_error"`
	// HTTPUnsendable cases cannot cross net/http (a client refuses them).
	HTTPUnsendable bool `json:"http_unsendable"`
	// HTTPChunked cases are sent without a Content-Length.
	HTTPChunked bool `json:"http_chunked"`
	// LambdaOnly cases exist only as API Gateway events: their body is
	// LambdaBody, flagged isBase64Encoded when LambdaBase64.
	LambdaOnly   bool   `json:"lambda_only"`
	LambdaBody   string `json:"lambda_body"`
	LambdaBase64 bool   `json:"lambda_base64"`
}

// Load reads the corpus from core/testdata/hostile.json.
func Load() ([]Case, error) {
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "..", "..", "core", "testdata", "hostile.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Cases []Case `json:"cases"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc.Cases, nil
}

// Request materialises the case for secret at now: the method, headers with
// placeholders filled, and the body bytes.
func (c Case) Request(secret string, now time.Time) (method string, headers map[string][]string, body []byte) {
	method = c.Method
	if method == "" {
		method = "POST"
	}
	switch {
	case c.BodyBase64 != "":
		body, _ = base64.StdEncoding.DecodeString(c.BodyBase64)
	case c.BodyRepeat != nil:
		body = []byte(c.BodyRepeat.Prefix + strings.Repeat(c.BodyRepeat.Chunk, c.BodyRepeat.Count))
	default:
		body = []byte(c.Body)
	}
	headers = make(map[string][]string, len(c.Headers)+c.ExtraHeaders)
	for k, vs := range c.Headers {
		for _, v := range vs {
			headers[k] = append(headers[k], fill(v, secret, now, body))
		}
	}
	for i := 0; i < c.ExtraHeaders; i++ {
		headers["X-Junk-"+strconv.Itoa(i)] = []string{strings.Repeat("j", 64)}
	}
	return method, headers, body
}

func fill(v, secret string, now time.Time, body []byte) string {
	v = strings.ReplaceAll(v, "{{signature}}", core.Sign(secret, now, body))
	v = strings.ReplaceAll(v, "{{now}}", strconv.FormatInt(now.Unix(), 10))
	for {
		i := strings.Index(v, "{{repeat:")
		if i < 0 {
			return v
		}
		j := strings.Index(v[i:], "}}")
		if j < 0 {
			return v
		}
		spec := v[i+len("{{repeat:") : i+j]
		k := strings.LastIndexByte(spec, ':')
		n, _ := strconv.Atoi(spec[k+1:])
		v = v[:i] + strings.Repeat(spec[:k], n) + v[i+j+2:]
	}
}

// Send posts the materialised case to url over real HTTP, without a
// Content-Length (chunked) where the case says so, and returns the answer.
func (c Case) Send(url, method string, headers map[string][]string, body []byte) (status int, answer []byte, err error) {
	var rd io.Reader = bytes.NewReader(body)
	if c.HTTPChunked {
		rd = io.MultiReader(rd) // no length known: sent chunked
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	for k, vs := range headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	answer, err = io.ReadAll(res.Body)
	return res.StatusCode, answer, err
}
