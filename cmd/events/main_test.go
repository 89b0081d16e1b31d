package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/local"
)

// The generated events carry the body unchanged and a signature that
// verifies (or, for the bad ones, fails the way their names say).
func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "bodies"), os.DirFS(filepath.Join("..", "..", "events", "bodies"))); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	names, err := generate(dir, local.DevSecret, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 17 {
		t.Fatalf("wrote %d files: %v", len(names), names)
	}
	v, err := core.NewVerifier([]string{local.DevSecret}, core.VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if name == "env.json" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			var ev events.APIGatewayProxyRequest // the fields shared by every shape
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			body := []byte(ev.Body)
			if ev.IsBase64Encoded {
				body = mustBase64(t, ev.Body)
			}
			header := ev.Headers["elevenlabs-signature"] + ev.Headers["ElevenLabs-Signature"]
			if header == "" {
				t.Fatal("no signature header")
			}
			_, err = v.Verify(body, header)
			switch {
			case strings.HasSuffix(name, "-bad-signature.json"):
				if err != core.ErrSignatureMismatch {
					t.Fatalf("err = %v", err)
				}
			case strings.HasSuffix(name, "-stale.json"):
				if err != core.ErrTimestampTolerance {
					t.Fatalf("err = %v", err)
				}
			case err != nil:
				t.Fatal(err)
			}
		})
	}
}

func mustBase64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// env.json is the committed one, gives a configuration the function takes,
// and overrides every variable template.yaml sets from a resource's !Ref,
// which sam local would otherwise set to the resource's logical id.
func TestEnvJSON(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "bodies"), os.DirFS(filepath.Join("..", "..", "events", "bodies"))); err != nil {
		t.Fatal(err)
	}
	if _, err := generate(dir, local.DevSecret, time.Now()); err != nil {
		t.Fatal(err)
	}
	generated, err := os.ReadFile(filepath.Join(dir, "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join("..", "..", "events", "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(committed) != string(generated) {
		t.Fatalf("events/env.json is stale; run make events. Want:\n%s", generated)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(generated, &env); err != nil {
		t.Fatal(err)
	}
	vars := env["WebhookFunction"]
	cfg, err := core.LoadConfig(func(name string) string { return vars[name] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SecretARN != "" || len(cfg.Secrets) != 1 || cfg.Secrets[0] != local.DevSecret {
		t.Errorf("secret ARN %q, secrets %q: want the development secret only", cfg.SecretARN, cfg.Secrets)
	}

	template, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`(?m)^ {10}([A-Z_]+): !Ref (\w+)$`).FindAllStringSubmatch(string(template), -1)
	if len(refs) < 6 {
		t.Fatalf("found %d function variables in template.yaml", len(refs))
	}
	for _, m := range refs {
		name, ref := m[1], m[2]
		isResource := regexp.MustCompile(`(?m)^  ` + ref + `:\n    Type: AWS::`).Match(template)
		if _, ok := vars[name]; isResource && !ok {
			t.Errorf("env.json does not override %s (!Ref %s, a resource)", name, ref)
		}
	}
}

// TestOwnSecret: with the rotation form "new,old" the events are signed with
// the first secret, so that they verify, and the tracked env.json still
// holds only the development secret.
func TestOwnSecret(t *testing.T) {
	secret := firstSecret(" wsec_new , wsec_old")
	if secret != "wsec_new" {
		t.Fatalf("firstSecret = %q, want wsec_new", secret)
	}
	for _, unset := range []string{"", " , "} {
		if got := firstSecret(unset); got != local.DevSecret {
			t.Fatalf("firstSecret(%q) = %q, want the development secret", unset, got)
		}
	}
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "bodies"), os.DirFS(filepath.Join("..", "..", "events", "bodies"))); err != nil {
		t.Fatal(err)
	}
	if _, err := generate(dir, secret, time.Now()); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "apigw-v2-post_call_transcription.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	v, _ := core.NewVerifier([]string{"wsec_new"}, core.VerifierOptions{})
	if _, err := v.Verify([]byte(ev.Body), ev.Headers["elevenlabs-signature"]); err != nil {
		t.Fatalf("event signed with the first secret does not verify: %v", err)
	}
	env, _ := os.ReadFile(filepath.Join(dir, "env.json"))
	if strings.Contains(string(env), "wsec_new") || !strings.Contains(string(env), local.DevSecret) {
		t.Fatalf("env.json holds a secret other than the development one:\n%s", env)
	}
}
