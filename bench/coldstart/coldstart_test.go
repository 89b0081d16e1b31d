package coldstart

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/elevenrelay/elevenrelay/internal/rie"
)

// TestMeasureHello starts the reference function a few times against the
// loopback Runtime API and checks that each run was timed and answered.
func TestMeasureHello(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts a binary")
	}
	bin := filepath.Join(t.TempDir(), "bootstrap")
	if err := Build("..", "./cmd/hello", "linux", runtime.GOARCH, bin); err != nil {
		t.Fatal(err)
	}
	s, err := Measure(Options{Binary: bin, Event: []byte(`{"version":"2.0","body":"{}"}`), Runs: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range s.Runs {
		if r.Next <= 0 || r.Response < r.Next {
			t.Errorf("run %d: next %v, response %v", i, r.Next, r.Response)
		}
		if !strings.Contains(string(r.Body), `"statusCode":200`) {
			t.Errorf("run %d answered %s", i, r.Body)
		}
	}
}

// TestRunEmulatorHello starts the reference function once under the
// runtime interface emulator and checks that it was timed and measured.
func TestRunEmulatorHello(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the emulator and starts a binary")
	}
	root, err := rie.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	emulator, err := rie.Build(context.Background(), root)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (CI=true, so this fails instead of skipping)", err)
		}
		t.Skipf("%v (the emulator needs the Go module proxy or a module cache holding it)", err)
	}
	bin := filepath.Join(t.TempDir(), "bootstrap")
	if err := Build("..", "./cmd/hello", "linux", runtime.GOARCH, bin); err != nil {
		t.Fatal(err)
	}
	r, err := RunEmulator(EmulatorOptions{Emulator: emulator, Binary: bin, Event: []byte(`{"version":"2.0","body":"{}"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Init <= 0 || r.Response < r.Init || r.PeakRSS <= 0 {
		t.Errorf("init %v, response %v, peak RSS %d", r.Init, r.Response, r.PeakRSS)
	}
	if !strings.Contains(string(r.Body), `"statusCode":200`) {
		t.Errorf("answered %d %s", r.Status, r.Body)
	}
}
