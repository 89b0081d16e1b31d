package terraform_test

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	dir := os.Getenv("TF_PLUGIN_MIRROR")
	if dir == "" {
		dir = "/opt/tf-plugins"
	}
	if _, err := os.Stat(filepath.Join(dir, "registry.terraform.io", "hashicorp", "aws")); err != nil {
		hint := "put hashicorp/aws 5.x in a filesystem mirror (terraform providers mirror DIR) and set TF_PLUGIN_MIRROR=DIR"
		if testenv.InCI() {
			t.Fatalf("no Terraform plugin mirror at %s, and CI must run this test: %s", dir, hint)
		}
		t.Skipf("no Terraform plugin mirror at %s; to run this test: %s", dir, hint)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// terraformEnv writes a CLI configuration that installs hashicorp/aws from
// the mirror only and returns an environment for terraform: no AWS
// credentials or profiles of the caller, no prompts, no update checks.
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
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "TF_") {
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
