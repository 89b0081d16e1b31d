// Package docs_test checks that the repository's citations of its own
// contract resolve: every "spec.md §N" in code, docs and infrastructure
// names a section that docs/spec.md has, and nothing cites a document the
// repository does not contain.
package docs_test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

var (
	specRef     = regexp.MustCompile(`spec\.md\)? ?§ ?(\d+)`)
	specHeading = regexp.MustCompile(`(?m)^## (\d+)\. `)
	// A bare "SPEC §2" or "issue 6" points outside the repository.
	foreignRef = regexp.MustCompile(`\bSPEC\b|\b[Ii]ssue \d+\b`)
)

// trackedFiles lists the files git tracks, from the repository root.
func trackedFiles(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", "..", "ls-files").Output()
	if err != nil {
		t.Skipf("git ls-files: %v (the check needs a git checkout)", err)
	}
	return strings.Fields(string(out))
}

func TestSpecReferencesResolve(t *testing.T) {
	spec, err := os.ReadFile("spec.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]bool{}
	for _, m := range specHeading.FindAllStringSubmatch(string(spec), -1) {
		sections[m[1]] = true
	}
	if len(sections) < 7 {
		t.Fatalf("docs/spec.md has %d numbered sections, want at least 7", len(sections))
	}
	refs := 0
	for _, f := range trackedFiles(t) {
		if strings.HasSuffix(f, "docs/refs_test.go") {
			continue
		}
		b, err := os.ReadFile("../" + f)
		if err != nil {
			continue // deleted in the work tree
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range specRef.FindAllStringSubmatch(line, -1) {
				refs++
				if !sections[m[1]] {
					t.Errorf("%s:%d cites docs/spec.md §%s, which does not exist", f, i+1, m[1])
				}
			}
			if foreignRef.MatchString(line) {
				t.Errorf("%s:%d cites a document the repository lacks: %q", f, i+1, strings.TrimSpace(line))
			}
		}
	}
	if refs == 0 {
		t.Fatal("found no citation of docs/spec.md at all; is the pattern still right?")
	}
}
