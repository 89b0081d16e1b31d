package terraform_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/elevenrelay/elevenrelay/internal/testenv"
)

// TestTerraformGCPValidate inits the module and the example root with the
// real Google provider and validates them.
func TestTerraformGCPValidate(t *testing.T) {
	t.Parallel()
	tf := requireTool(t, "terraform", terraformHint)
	env := googleEnv(t)
	root := copyTree(t, ".")
	for _, dir := range []string{"gcp/modules/receiver", "gcp/example"} {
		t.Run(dir, func(t *testing.T) {
			d := filepath.Join(root, dir)
			run(t, 2*time.Minute, d, env, tf, "init", "-backend=false", "-input=false", "-no-color")
			run(t, 2*time.Minute, d, env, tf, "validate", "-no-color")
		})
	}
}

const (
	gcpTestProject       = "elevenrelay-test"
	gcpTestProjectNumber = "123456789012"
)

// TestTerraformGCPEmulators goes as far as the Google provider allows
// without Google: it plans the whole example with a fake access token, then
// applies the Pub/Sub and Storage part against the Pub/Sub emulator and
// fake-gcs-server, and checks what they hold.
//
// Planning needs two Google APIs no emulator serves: data.google_project (the
// project number names Pub/Sub's service agent) reads the project from Cloud
// Resource Manager and its billing account from Cloud Billing, so a stand-in
// answers those two GETs, with a fixed project number.
// Secret Manager, IAM, Cloud Functions, Cloud Run, Logging and Monitoring
// have no emulator either: those resources are planned, not applied. Neither
// emulator implements IAM policies, so the topic, subscription and bucket
// grants are not applied; fake-gcs-server does not keep lifecycle rules.
func TestTerraformGCPEmulators(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the Pub/Sub emulator and applies part of the example; skipped with -short")
	}
	t.Parallel()
	tf := requireTool(t, "terraform", terraformHint)
	env := googleEnv(t)
	pubsub := testenv.StartPubSub(t)
	gcs := startFakeGCS(t)
	rm := projectStandIn(t)

	root := copyTree(t, ".")
	example := filepath.Join(root, "gcp", "example")
	override := fmt.Sprintf(`provider "google" {
  access_token = "fake-token-for-emulators"

  pubsub_custom_endpoint           = "http://%s/v1/"
  storage_custom_endpoint          = "%s/storage/v1/"
  resource_manager_custom_endpoint = "%s/v1/"
  cloud_billing_custom_endpoint    = "%s/v1/"
}
`, pubsub.Endpoint, gcs.URL(), rm.URL, rm.URL)
	if err := os.WriteFile(filepath.Join(example, "emulators_override.tf"), []byte(override), 0o644); err != nil {
		t.Fatal(err)
	}
	zipPath := filepath.Join(t.TempDir(), "gcf-source.zip")
	if err := os.WriteFile(zipPath, []byte("PK\x05\x06"+strings.Repeat("\x00", 18)), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := []string{
		"-var", "project_id=" + gcpTestProject,
		"-var", "source_zip_path=" + zipPath,
		"-var", "force_destroy_buckets=true",
		"-var", "log_level=warn",
		"-var", "bad_request_alarm_threshold=7",
	}

	run(t, 2*time.Minute, example, env, tf, "init", "-backend=false", "-input=false", "-no-color")
	start := time.Now()
	run(t, 2*time.Minute, example, env, tf, append([]string{"plan", "-input=false", "-no-color", "-out=tfplan"}, vars...)...)
	t.Logf("plan took %s", time.Since(start).Round(time.Second))
	checkGCPPlan(t, run(t, time.Minute, example, env, tf, "show", "-json", "-no-color", "tfplan"))

	// What the emulators can hold.
	var targets []string
	for _, r := range []string{
		"google_pubsub_topic.webhook", "google_pubsub_topic.dead_letter",
		"google_pubsub_subscription.webhook", "google_pubsub_subscription.dead_letter",
		"google_storage_bucket.claim_check", "google_storage_bucket.source",
		"google_storage_bucket_object.source",
	} {
		targets = append(targets, "-target=module.receiver."+r)
	}
	start = time.Now()
	run(t, 3*time.Minute, example, env, tf, append(append([]string{"apply", "-auto-approve", "-input=false", "-no-color"}, targets...), vars...)...)
	t.Logf("apply of the Pub/Sub and Storage resources took %s", time.Since(start).Round(time.Second))

	var sub struct {
		Topic              string
		AckDeadlineSeconds int
		DeadLetterPolicy   struct {
			DeadLetterTopic     string
			MaxDeliveryAttempts int
		}
		RetryPolicy struct{ MinimumBackoff, MaximumBackoff string }
	}
	getJSON(t, "http://"+pubsub.Endpoint+"/v1/projects/"+gcpTestProject+"/subscriptions/elevenrelay-webhook", &sub)
	topic := "projects/" + gcpTestProject + "/topics/elevenrelay-webhook"
	if sub.Topic != topic || sub.AckDeadlineSeconds != 60 ||
		sub.DeadLetterPolicy.DeadLetterTopic != topic+"-dlq" || sub.DeadLetterPolicy.MaxDeliveryAttempts != 5 ||
		sub.RetryPolicy.MinimumBackoff != "10s" || sub.RetryPolicy.MaximumBackoff != "600s" {
		t.Errorf("subscription as the emulator holds it: %+v", sub)
	}
	var dlq struct{ Topic string }
	getJSON(t, "http://"+pubsub.Endpoint+"/v1/projects/"+gcpTestProject+"/subscriptions/elevenrelay-webhook-dlq", &dlq)
	if dlq.Topic != topic+"-dlq" {
		t.Errorf("dead-letter subscription reads %q, want %s-dlq", dlq.Topic, topic)
	}
	for _, bucket := range []string{gcpTestProject + "-elevenrelay-claim-check", gcpTestProject + "-elevenrelay-gcf-source"} {
		if _, err := gcs.Client().Bucket(bucket).Attrs(t.Context()); err != nil {
			t.Errorf("bucket %s: %v", bucket, err)
		}
	}
	list, err := gcs.ListObjectsWithOptionsPaginated(gcpTestProject+"-elevenrelay-gcf-source", fakestorage.ListOptions{})
	if err != nil || len(list.Objects) != 1 || !strings.HasPrefix(list.Objects[0].Name, "elevenrelay-webhook/source-") {
		t.Errorf("source bucket holds %v (%v), want the one source zip", list.Objects, err)
	}
}

// checkGCPPlan checks the plan of the whole example: every resource the
// module declares is planned, and the values that come from variables and
// from the project lookup arrive where they belong.
func checkGCPPlan(t *testing.T, planJSON string) {
	t.Helper()
	type resource struct {
		Address string
		Values  map[string]any
	}
	var plan struct {
		PlannedValues struct {
			RootModule struct {
				ChildModules []struct{ Resources []resource } `json:"child_modules"`
			} `json:"root_module"`
		} `json:"planned_values"`
	}
	if err := json.Unmarshal([]byte(planJSON), &plan); err != nil {
		t.Fatalf("terraform show -json: %v", err)
	}
	planned := map[string]map[string]any{}
	for _, m := range plan.PlannedValues.RootModule.ChildModules {
		for _, r := range m.Resources {
			planned[strings.TrimPrefix(r.Address, "module.receiver.")] = r.Values
		}
	}

	// Every managed resource of the module is in the plan (count and
	// for_each resulting in none would show here).
	module := parseDir(t, filepath.Join("gcp", "modules", "receiver"))
	var missing []string
	for _, b := range module.ofType("resource") {
		addr := b.Labels[0] + "." + b.Labels[1]
		found := false
		for got := range planned {
			if got == addr || strings.HasPrefix(got, addr+"[") {
				found = true
			}
		}
		if !found && addr != "google_secret_manager_secret_version.webhook" { // no webhook_secret given
			missing = append(missing, addr)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("not planned: %s", strings.Join(missing, ", "))
	}

	agent := "serviceAccount:service-" + gcpTestProjectNumber + "@gcp-sa-pubsub.iam.gserviceaccount.com"
	if got := planned["google_pubsub_topic_iam_member.dead_letter_publisher"]["member"]; got != agent {
		t.Errorf("dead-letter publisher = %v, want Pub/Sub's service agent %s", got, agent)
	}
	// The function's environment is planned unknown as a whole (the topic's
	// ID is known only after apply); the alerts' settings are known.
	metric := planned["google_logging_metric.bad_requests[0]"]
	if f, _ := metric["filter"].(string); !strings.Contains(f, `resource.labels.service_name="elevenrelay-webhook"`) || !strings.Contains(f, "jsonPayload.status=400") {
		t.Errorf("bad_requests metric filter planned as %q", f)
	}
	policy := planned["google_monitoring_alert_policy.bad_requests[0]"]
	conds, _ := policy["conditions"].([]any)
	if len(conds) != 1 {
		t.Fatalf("bad_requests alert conditions planned as %v", policy["conditions"])
	}
	threshold, _ := conds[0].(map[string]any)["condition_threshold"].([]any)
	if len(threshold) != 1 || threshold[0].(map[string]any)["threshold_value"] != float64(7) {
		t.Errorf("bad_requests alert threshold planned as %v, want 7 (bad_request_alarm_threshold)", threshold)
	}
}

// startFakeGCS runs fake-gcs-server in process on a loopback port, without
// pointing this process's Storage client at it (the tests run in parallel).
func startFakeGCS(t *testing.T) *fakestorage.Server {
	t.Helper()
	port := testenv.FreePort(t)
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		Scheme: "http", Host: "127.0.0.1", Port: uint16(port),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// projectStandIn answers the two reads of data.google_project for the test
// project, Resource Manager's projects.get and Cloud Billing's
// getBillingInfo; anything else fails the test.
func projectStandIn(t *testing.T) *httptest.Server {
	t.Helper()
	answers := map[string]map[string]any{
		"/v1/projects/" + gcpTestProject: {
			"projectId":      gcpTestProject,
			"projectNumber":  gcpTestProjectNumber,
			"name":           gcpTestProject,
			"lifecycleState": "ACTIVE",
		},
		"/v1/projects/" + gcpTestProject + "/billingInfo": {
			"name":           "projects/" + gcpTestProject + "/billingInfo",
			"projectId":      gcpTestProject,
			"billingEnabled": false,
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer, ok := answers[r.URL.Path]
		if r.Method != http.MethodGet || !ok {
			t.Errorf("unexpected call %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(answer)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", u, resp.Status, data)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%v in %s", err, data)
	}
}
