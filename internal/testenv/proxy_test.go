package testenv

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestProxy(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	p := StartProxy(t, strings.TrimPrefix(srv.URL, "http://"))
	client := &http.Client{Timeout: 500 * time.Millisecond}
	get := func() error {
		resp, err := client.Get("http://" + p.Addr + "/")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(); err != nil {
		t.Fatalf("up: %v", err)
	}
	p.Down()
	if err := get(); err == nil {
		t.Fatal("down: the request went through")
	}
	p.Up()
	if err := get(); err != nil {
		t.Fatalf("up again: %v", err)
	}
	p.Slow(time.Second)
	start := time.Now()
	if err := get(); err == nil {
		t.Fatal("slow: answered within the client's timeout")
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("slow: the client gave up after %s", d)
	}
	p.Slow(0)
}
