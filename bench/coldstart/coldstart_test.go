package coldstart

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"
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
