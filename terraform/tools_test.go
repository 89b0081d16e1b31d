package terraform_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elevenrelay/elevenrelay/internal/testenv"
)

// requireTool is testenv.RequireTool: skip with a hint, fail under CI=true.
func requireTool(t *testing.T, name, installHint string) string {
	t.Helper()
	return testenv.RequireTool(t, name, installHint)
}

// pluginMirror returns the Terraform filesystem mirror holding hashicorp/aws
// (TF_PLUGIN_MIRROR, default /opt/tf-plugins), skipping like requireTool
// when it is missing.
func pluginMirror(t *testing.T) string {
	t.Helper()
	dir := awsMirrorDir()
	if dir == "" {
		hint := "put hashicorp/aws 5.x in a filesystem mirror (terraform providers mirror DIR) and set TF_PLUGIN_MIRROR=DIR"
		if testenv.InCI() {
			t.Fatalf("no Terraform plugin mirror with hashicorp/aws (TF_PLUGIN_MIRROR), and CI must run this test: %s", hint)
		}
		t.Skipf("no Terraform plugin mirror with hashicorp/aws (TF_PLUGIN_MIRROR); to run this test: %s", hint)
	}
	return dir
}

// terraformEnv writes a CLI configuration that installs hashicorp/aws from
// the mirror only and returns an environment for terraform (see cliEnv).
func terraformEnv(t *testing.T, mirror string) []string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "terraformrc")
	text := `provider_installation {
  filesystem_mirror {
    path    = "` + mirror + `"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
`
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return cliEnv(cfg)
}

// cliEnv returns an environment for terraform with the CLI configuration
// cfg: no credentials, profiles or emulator settings of the caller, no
// prompts, no update checks.
func cliEnv(cfg string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") || strings.HasPrefix(name, "TF_") ||
			strings.HasPrefix(name, "GOOGLE_") || strings.HasPrefix(name, "CLOUDSDK_") ||
			strings.HasSuffix(name, "_EMULATOR_HOST") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"TF_CLI_CONFIG_FILE="+cfg,
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"CHECKPOINT_DISABLE=1",
	)
}

// repoRoot is the repository's root as seen from this package's directory.
const repoRoot = ".."

// googleProviders is the CLI configuration that installs hashicorp/google,
// made once for all the tests of the package.
var googleProviders struct {
	once sync.Once
	cfg  string
	err  error
}

// googleEnv returns an environment for terraform that can install
// hashicorp/google: from the filesystem mirror that
// ../shared/tf-providers/install-mirror (beside the repository) lays out
// under .local/iac/providers, where it stays for the next run; without that
// script, from the registry if it answers. Without either it skips with how
// to get the provider (CI=true: fails).
func googleEnv(t *testing.T) []string {
	t.Helper()
	p := &googleProviders
	p.once.Do(func() { p.cfg, p.err = googleCLIConfig() })
	if p.err != nil {
		if errors.Is(p.err, errNoGoogleProvider) && !testenv.InCI() {
			t.Skip(p.err)
		}
		t.Fatal(p.err)
	}
	return cliEnv(p.cfg)
}

var errNoGoogleProvider = errors.New("hashicorp/google cannot be installed: there is no ../shared/tf-providers/install-mirror beside the repository and registry.terraform.io does not answer; " +
	"run the test where terraform can reach the registry, or put a filesystem mirror of hashicorp/google 7.x (terraform providers mirror, run elsewhere) there with an install-mirror script that prints a CLI configuration")

func googleCLIConfig() (string, error) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		return "", err
	}
	script := filepath.Join(root, "..", "shared", "tf-providers", "install-mirror")
	if _, err := os.Stat(script); err == nil {
		env := os.Environ()
		if mirror := awsMirrorDir(); mirror != "" {
			env = append(env, "TF_AWS_MIRROR="+mirror)
		}
		out, err := tryRun(3*time.Minute, root, env, script, filepath.Join(root, ".local", "iac", "providers"))
		if err != nil {
			return "", fmt.Errorf("%s: %v\n%s", script, err, out)
		}
		lines := strings.Fields(out)
		if len(lines) == 0 {
			return "", fmt.Errorf("%s printed no CLI configuration", script)
		}
		return lines[len(lines)-1], nil
	}
	if !registryAnswers() {
		return "", errNoGoogleProvider
	}
	// From the registry, into a plugin cache under .local so that the
	// download happens once.
	dir := filepath.Join(root, ".local", "iac")
	cache := filepath.Join(dir, "plugin-cache")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	cfg := filepath.Join(dir, "terraformrc-registry")
	text := "plugin_cache_dir = \"" + cache + "\"\n"
	return cfg, os.WriteFile(cfg, []byte(text), 0o644)
}

// awsMirrorDir is the hashicorp/aws mirror (TF_PLUGIN_MIRROR, default
// /opt/tf-plugins) when it exists, else "".
func awsMirrorDir() string {
	dir := os.Getenv("TF_PLUGIN_MIRROR")
	if dir == "" {
		dir = "/opt/tf-plugins"
	}
	if _, err := os.Stat(filepath.Join(dir, "registry.terraform.io", "hashicorp", "aws")); err != nil {
		return ""
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	return abs
}

func registryAnswers() bool {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("https://registry.terraform.io/.well-known/terraform.json")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// run runs a command in dir, bounded by timeout, and returns its combined
// output; a failure or time-out fails the test with that output.
func run(t *testing.T, timeout time.Duration, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := tryRun(timeout, dir, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s (in %s): %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return out
}

func tryRun(timeout time.Duration, dir string, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	return string(out), err
}

// copyTree copies the terraform directory (without any .terraform data or
// state a developer may have) into a temporary directory, so that init and
// apply never write into the repository.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if name == ".terraform" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !strings.HasSuffix(name, ".tf") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
