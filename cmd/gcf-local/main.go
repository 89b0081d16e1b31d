// Command gcf-local runs the Cloud Function on this machine through the
// Functions Framework, as Cloud Functions runs it. It listens on
// 127.0.0.1:$PORT (8080 by default; `make gcf-local` uses 8081, beside
// `make run`); HOST changes the address.
//
// With -emulator (`make gcf-local`) it first starts the Pub/Sub emulator
// on 127.0.0.1:$PUBSUB_PORT (8085), creates the topic (PUBSUB_TOPIC,
// default projects/local/topics/webhooks) and a subscription beside it,
// prints the command that pulls the queued messages, then serves the
// function against the emulator until interrupted or until -stop (`make
// gcf-local-stop`), and stops the emulator.
//
// Without it, the environment says where to publish:
//
//	PUBSUB_EMULATOR_HOST=127.0.0.1:8085 PUBSUB_TOPIC=projects/local/topics/webhooks \
//	ELEVENLABS_WEBHOOK_SECRET=wsec_... go run ./cmd/gcf-local
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	// The function registers itself in init, as in the deployed build.
	"github.com/elevenrelay/elevenrelay/gcf"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
	"github.com/elevenrelay/elevenrelay/local"
)

const defaultTopic = "projects/local/topics/webhooks"

func main() {
	emulator := flag.Bool("emulator", false, "start the Pub/Sub emulator on 127.0.0.1:$PUBSUB_PORT (8085) with a topic and a subscription first")
	stop := flag.Bool("stop", false, "stop the run that -emulator started (make gcf-local-stop)")
	flag.Parse()
	switch {
	case *stop:
		os.Exit(stopRun())
	case *emulator:
		os.Exit(withEmulator())
	}
	if os.Getenv("FUNCTION_TARGET") == "" {
		os.Setenv("FUNCTION_TARGET", gcf.EntryPoint)
	}
	port := env("PORT", "8080")
	host := env("HOST", "127.0.0.1") // a local run is not for the network
	log.Printf("serving %s on http://%s:%s/", os.Getenv("FUNCTION_TARGET"), host, port)
	if err := funcframework.StartHostPort(host, port); err != nil {
		log.Fatalf("funcframework: %v", err)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// withEmulator starts the emulator, creates the topic and subscription,
// and runs this command again without -emulator, pointed at it: the
// function reads its environment once, in init, so the variables must be
// set before the process starts.
func withEmulator() int {
	port, err := strconv.Atoi(env("PUBSUB_PORT", "8085"))
	if err != nil {
		log.Printf("PUBSUB_PORT=%q: want a port number", os.Getenv("PUBSUB_PORT"))
		return 2
	}
	topic := env("PUBSUB_TOPIC", defaultTopic)
	project, name, ok := strings.Cut(strings.TrimPrefix(topic, "projects/"), "/topics/")
	if !ok || !strings.HasPrefix(topic, "projects/") {
		log.Printf("PUBSUB_TOPIC=%q: want projects/P/topics/T", topic)
		return 2
	}
	log.Printf("starting the Pub/Sub emulator on 127.0.0.1:%d", port)
	emu, err := testenv.LaunchPubSubOn(port)
	if err != nil {
		log.Printf("pubsub emulator: %v", err)
		return 1
	}
	defer emu.Stop()
	if err := os.MkdirAll(filepath.Dir(pidFile), 0o755); err == nil {
		os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())), 0o644)
		defer os.Remove(pidFile)
	}
	base := "http://" + emu.Endpoint + "/v1/projects/" + project
	sub := name + "-local"
	for _, put := range []struct{ url, body string }{
		{base + "/topics/" + name, ""},
		{base + "/subscriptions/" + sub, `{"topic":"` + topic + `"}`},
	} {
		if err := putJSON(put.url, put.body); err != nil {
			log.Printf("pubsub emulator: %v", err)
			return 1
		}
	}
	secret := os.Getenv("ELEVENLABS_WEBHOOK_SECRET")
	if strings.TrimSpace(strings.ReplaceAll(secret, ",", "")) == "" {
		secret = local.DevSecret
		log.Printf("ELEVENLABS_WEBHOOK_SECRET is unset: the function takes the public development secret, as make send signs")
	}
	fmt.Printf("topic %s, subscription %s; pull the queued messages with:\n"+
		"  curl -sS -X POST %s/subscriptions/%s:pull -H 'Content-Type: application/json' -d '{\"maxMessages\":10}'\n",
		topic, sub, base, sub)

	fn := exec.Command(os.Args[0])
	fn.Env = append(os.Environ(), "PUBSUB_EMULATOR_HOST="+emu.Endpoint, "PUBSUB_TOPIC="+topic,
		"ELEVENLABS_WEBHOOK_SECRET="+secret, "FUNCTION_TARGET="+gcf.EntryPoint, "PORT="+env("PORT", "8081"))
	fn.Stdout, fn.Stderr = os.Stdout, os.Stderr
	if err := fn.Start(); err != nil {
		log.Printf("function: %v", err)
		return 1
	}
	done := make(chan error, 1)
	go func() { done <- fn.Wait() }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case err := <-done:
		log.Printf("function exited: %v", err)
		return 1
	case s := <-sig:
		fn.Process.Signal(s)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			fn.Process.Kill()
			<-done
		}
		return 0
	}
}

// pidFile names the running -emulator process, so that -stop can end it
// from another command, whatever shell started it (a script's "kill %1"
// reaches only make, not the processes make started).
const pidFile = ".local/gcf-local.pid"

// stopRun sends SIGTERM to the -emulator process and waits (bounded) for
// it to stop the function and the emulator.
func stopRun() int {
	b, err := os.ReadFile(pidFile)
	if errors.Is(err, os.ErrNotExist) {
		log.Printf("nothing to stop: no %s (make gcf-local is not running here)", pidFile)
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		log.Printf("%s: %v", pidFile, err)
		return 1
	}
	p, _ := os.FindProcess(pid)
	if err := p.Signal(syscall.SIGTERM); err != nil {
		log.Printf("process %d: %v; removing %s", pid, err, pidFile)
		os.Remove(pidFile)
		return 0
	}
	for i := 0; i < 150; i++ {
		if _, err := os.Stat(pidFile); errors.Is(err, os.ErrNotExist) {
			log.Printf("stopped the function and the Pub/Sub emulator")
			return 0
		}
		time.Sleep(100 * time.Millisecond)
	}
	log.Printf("process %d did not stop within 15s", pid)
	return 1
}

func putJSON(url, body string) error {
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusConflict {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
		return fmt.Errorf("PUT %s: %s %s", url, res.Status, b)
	}
	return nil
}
