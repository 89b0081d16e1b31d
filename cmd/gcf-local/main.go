// Command gcf-local runs the Cloud Function on this machine through the
// Functions Framework, as Cloud Functions runs it:
//
//	PUBSUB_EMULATOR_HOST=127.0.0.1:8085 PUBSUB_TOPIC=projects/local/topics/webhooks \
//	ELEVENLABS_WEBHOOK_SECRET=wsec_... FUNCTION_TARGET=ElevenLabsWebhook go run ./cmd/gcf-local
//
// It listens on 127.0.0.1:$PORT (8080 by default); HOST changes the address.
package main

import (
	"log"
	"os"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	// The function registers itself in init, as in the deployed build.
	"github.com/elevenrelay/elevenrelay/gcf"
)

func main() {
	if os.Getenv("FUNCTION_TARGET") == "" {
		os.Setenv("FUNCTION_TARGET", gcf.EntryPoint)
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	host := os.Getenv("HOST")
	if host == "" {
		host = "127.0.0.1" // a local run is not for the network
	}
	log.Printf("serving %s on http://%s:%s/", os.Getenv("FUNCTION_TARGET"), host, port)
	if err := funcframework.StartHostPort(host, port); err != nil {
		log.Fatalf("funcframework: %v", err)
	}
}
