package rie

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestInitDuration(t *testing.T) {
	tests := []struct {
		name   string
		output string
		want   time.Duration
		ok     bool
	}{
		{"emulator line", "27 Nov 2026 18:09:28,843 [INFO] (rapid) INIT REPORT(durationMs: 12.500000)\n", 12500 * time.Microsecond, true},
		{"the REPORT line's Init Duration is not it", "REPORT RequestId: x\tInit Duration: 2.98 ms\t", 0, false},
		{"nothing", "", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := InitDuration(tc.output)
			if got != tc.want || ok != tc.ok {
				t.Errorf("InitDuration = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestFindRoot(t *testing.T) {
	root, err := FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ToolsDir, "go.mod")); err != nil {
		t.Fatal(err)
	}
	if _, err := FindRoot(t.TempDir()); err == nil {
		t.Error("FindRoot found a root above a directory that has none")
	}
}

// Both ways of listing a process's children find a child this test starts
// (the test binary again, waiting for its standard input to close).
func TestChildren(t *testing.T) {
	if os.Getenv("RIE_TEST_CHILD") == "1" {
		_, _ = io.Copy(io.Discard, os.Stdin)
		return
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildren$")
	cmd.Env = append(os.Environ(), "RIE_TEST_CHILD=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		_ = cmd.Wait()
	}()
	if c, ok := childrenOfTasks(os.Getpid()); ok && !slices.Contains(c, cmd.Process.Pid) {
		t.Errorf("childrenOfTasks = %v, without the child %d", c, cmd.Process.Pid)
	}
	if c := childrenByParent(os.Getpid()); !slices.Contains(c, cmd.Process.Pid) {
		t.Errorf("childrenByParent = %v, without the child %d", c, cmd.Process.Pid)
	}
	if c := children(cmd.Process.Pid); len(c) != 0 {
		t.Errorf("children of the child = %v, want none", c)
	}
}
