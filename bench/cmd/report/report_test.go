package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteReportKeepsHandWrittenPart runs the generator twice over a file
// whose hand-written section was edited: the edit survives and is not doubled.
func TestWriteReportKeepsHandWrittenPart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "performance.md")
	r := report{clock: "cpu", facts: []string{"Date: test"}}
	if err := writeReport(path, r.markdown()); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	edited := string(b) + "\nA note kept by hand.\n"
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := writeReport(path, r.markdown()); err != nil {
			t.Fatal(err)
		}
	}
	b, _ = os.ReadFile(path)
	got := string(b)
	if strings.Count(got, "A note kept by hand.") != 1 || strings.Count(got, "# Performance") != 1 ||
		strings.Count(got, "\n"+reproduceHeading+"\n") != 1 {
		t.Errorf("after two runs the file reads:\n%s", got)
	}
}
