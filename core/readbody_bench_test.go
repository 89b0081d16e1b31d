package core

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkReadBody measures reading a request body under the size cap
// (the figures behind readBody's comment).
func BenchmarkReadBody(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 20, 6 << 20} {
		body := bytes.Repeat([]byte("x"), n)
		b.Run(sizeName(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			w := httptest.NewRecorder()
			r := bytes.NewReader(body)
			hr := httptest.NewRequest(http.MethodPost, "/", r)
			for b.Loop() {
				r.Reset(body)
				hr.Body = io.NopCloser(r)
				hr.ContentLength = int64(n)
				got, err := readBody(w, hr, defaultMaxBodyBytes)
				if err != nil || len(got) != n {
					b.Fatal(err, len(got))
				}
			}
		})
	}
}
