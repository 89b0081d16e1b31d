package testenv

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/elevenrelay/elevenrelay/internal/rie"
)

// RIEHint says what the emulator needs when it cannot be built.
const RIEHint = "the Lambda runtime interface emulator is built with `go tool` from tools/rie/go.mod; it needs the Go module proxy (or a module cache holding it)"

var rieBuild struct {
	once sync.Once
	path string
	root string
	err  error
}

// RIE builds the pinned Lambda runtime interface emulator once per test
// binary (later builds are Go build cache hits) and returns its path and
// the repository root. When it cannot be built the test is skipped, or
// fails under CI=true.
func RIE(t testing.TB) (emulator, root string) {
	t.Helper()
	RequireTool(t, "go", "install Go")
	rieBuild.once.Do(func() {
		rieBuild.root, rieBuild.err = rie.FindRoot(".")
		if rieBuild.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		rieBuild.path, rieBuild.err = rie.Build(ctx, rieBuild.root)
	})
	if rieBuild.err != nil {
		if InCI() {
			t.Fatalf("%v (CI=true, so this fails instead of skipping); %s", rieBuild.err, RIEHint)
		}
		t.Skipf("%v; %s", rieBuild.err, RIEHint)
	}
	return rieBuild.path, rieBuild.root
}

// BuildBootstrap compiles the main package pkg (relative to the repository
// root, like ./lambda/bootstrap) as it is deployed, into the test's
// temporary directory, and returns its path.
func BuildBootstrap(t testing.TB, root, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := rie.BuildBootstrap(ctx, root, pkg, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// StartRIE runs bootstrap under the emulator with env (the whole
// environment the function sees, besides what the emulator adds) and stops
// both when the test ends. What they print goes to out when it is not nil.
func StartRIE(t testing.TB, emulator, bootstrap string, env []string, out *Buffer) *rie.Emulator {
	t.Helper()
	opts := rie.Options{Emulator: emulator, Bootstrap: bootstrap, Env: env, Timeout: 30 * time.Second}
	if out != nil {
		opts.Output = out
	}
	e, err := rie.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	return e
}
