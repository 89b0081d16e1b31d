package rie

import (
	"os"
	"path/filepath"
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
