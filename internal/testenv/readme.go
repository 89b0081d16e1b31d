package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// RepoRoot is the module's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

var shellBlock = regexp.MustCompile("(?ms)^```sh\n(.*?)^```")

// ReadmeBlock returns the README's first ```sh block that contains every
// one of marks, so that a test runs the commands exactly as users read
// them, and fails when the README's commands stop working.
func ReadmeBlock(t testing.TB, marks ...string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range shellBlock.FindAllStringSubmatch(string(raw), -1) {
		ok := true
		for _, mark := range marks {
			ok = ok && strings.Contains(m[1], mark)
		}
		if ok {
			return m[1]
		}
	}
	t.Fatalf("README.md has no sh block with %q", marks)
	return ""
}

// CopyRepo copies the files git tracks into a temporary directory, so that
// a walkthrough's files (.local/, dist/) land there and not in the
// developer's checkout.
func CopyRepo(t testing.TB) string {
	t.Helper()
	root := RepoRoot()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("git ls-files: %v (the walkthrough copies the tracked files)", err)
	}
	dir := t.TempDir()
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			continue // deleted in the work tree
		}
		st, _ := os.Stat(filepath.Join(root, f))
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Shell runs script with bash in dir, stopping on the first failing
// command; with job control when the script uses "kill %1", so that it
// behaves as in a terminal. Its process group is killed at cleanup.
func Shell(t testing.TB, dir, script string, env []string) *exec.Cmd {
	t.Helper()
	args := []string{"-e", "-o", "pipefail", "-c", script}
	if strings.Contains(script, "%1") {
		args = append([]string{"-m"}, args...) // "kill %1" signals the job's process group
	}
	cmd := exec.Command("bash", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	t.Cleanup(func() {
		if cmd.Process != nil {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	})
	return cmd
}
