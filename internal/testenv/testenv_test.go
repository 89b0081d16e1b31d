package testenv

import (
	"net/http"
	"testing"
)

func TestStartMotoAnswersAndStops(t *testing.T) {
	p := StartMoto(t)
	resp, err := http.Get(p.Endpoint + "/moto-api/data.json")
	if err != nil {
		t.Fatalf("moto not answering: %v", err)
	}
	resp.Body.Close()
	p.Stop()
	if _, err := http.Get(p.Endpoint + "/moto-api/data.json"); err == nil {
		t.Fatal("moto still answering after Stop")
	}
}

func TestStartPubSubAnswersAndStops(t *testing.T) {
	p := StartPubSub(t)
	resp, err := http.Get("http://" + p.Endpoint + "/")
	if err != nil {
		t.Fatalf("emulator not answering: %v", err)
	}
	resp.Body.Close()
	p.Stop()
	if _, err := http.Get("http://" + p.Endpoint + "/"); err == nil {
		t.Fatal("emulator still answering after Stop")
	}
}
