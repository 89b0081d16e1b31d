package core

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRemoteIP(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.1:80":      "192.0.2.1",
		"[2001:db8::1]:443": "2001:db8::1",
		"192.0.2.9":         "192.0.2.9",
		"2001:db8::2":       "2001:db8::2",
	} {
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		req.RemoteAddr = addr
		if got := remoteIP(req); got != want {
			t.Errorf("remoteIP(%q) = %q, want %q", addr, got, want)
		}
	}
}
