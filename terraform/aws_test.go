package terraform_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/elevenrelay/elevenrelay/internal/testenv"
)

const terraformHint = "install Terraform >= 1.5 (https://developer.hashicorp.com/terraform/install)"

// TestTerraformAWSValidate inits the module and the example root from the
// plugin mirror and validates them.
func TestTerraformAWSValidate(t *testing.T) {
	t.Parallel()
	tf := requireTool(t, "terraform", terraformHint)
	env := terraformEnv(t, pluginMirror(t))
	root := copyTree(t, ".")
	for _, dir := range []string{"aws/modules/receiver", "aws/example"} {
		t.Run(dir, func(t *testing.T) {
			d := filepath.Join(root, dir)
			run(t, 2*time.Minute, d, env, tf, "init", "-backend=false", "-input=false", "-no-color")
			run(t, time.Minute, d, env, tf, "validate", "-no-color")
		})
	}
}

// TestTerraformAWSApplyMoto applies the example root against moto_server
// and destroys it again, then checks what was created through moto's API.
//
// Moto creates every resource of the module: the HTTP API, function,
// function URL, queues, bucket settings, secret, IAM, log group, metric
// filters, alarms and SNS; enable_alarms stays on; with storage_first also
// the REST API with its methods, integrations, deployment, stage and method
// settings, the inbox queues, queue policy, bucket notification and event
// source mapping (checkStorageFirstApplied says what moto cannot do there).
// It does not keep everything it is given: the
// function's logging_config is not returned, and IAM/SQS JSON comes back
// reformatted, so a second plan against moto is not empty; that is moto,
// not drift in AWS. The lifecycle configuration takes about a minute
// because the provider waits for S3 to report it stably.
func TestTerraformAWSApplyMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("applies against moto for about two minutes; skipped with -short")
	}
	t.Parallel()
	tf := requireTool(t, "terraform", terraformHint)
	env := terraformEnv(t, pluginMirror(t))
	endpoint := testenv.StartMoto(t).Endpoint

	root := copyTree(t, ".")
	example := filepath.Join(root, "aws", "example")
	writeMotoOverride(t, example, endpoint)
	zipPath := writeDummyLambdaZip(t)

	vars := []string{
		"-var", "lambda_zip_path=" + zipPath,
		"-var", "force_destroy_buckets=true",
		"-var", "fifo_queue=true",
		"-var", "enable_function_url=true",
		"-var", "webhook_secret=wsec_moto_test",
		"-var", "alarm_email=alarms@example.com",
		"-var", "storage_first=true",
	}
	run(t, 2*time.Minute, example, env, tf, "init", "-backend=false", "-input=false", "-no-color")
	start := time.Now()
	applyOut := run(t, 6*time.Minute, example, env, tf, append([]string{"apply", "-auto-approve", "-input=false", "-no-color"}, vars...)...)
	t.Logf("apply took %s", time.Since(start).Round(time.Second))
	logSlowSteps(t, applyOut)

	var outputs map[string]struct {
		Value any `json:"value"`
	}
	raw := run(t, time.Minute, example, env, tf, "output", "-json", "-no-color")
	if err := json.Unmarshal([]byte(raw), &outputs); err != nil {
		t.Fatalf("terraform output -json: %v\n%s", err, raw)
	}
	out := func(name string) string {
		s, _ := outputs[name].Value.(string)
		if s == "" {
			t.Errorf("output %s is empty", name)
		}
		return s
	}
	queueURL := out("queue_url")
	bucket := out("claim_check_bucket_name")
	secretArn := out("webhook_secret_arn")
	if u := out("webhook_url"); !strings.HasPrefix(u, "https://") || !strings.HasSuffix(u, "/webhook") {
		t.Errorf("webhook_url = %q, want https://…/webhook", u)
	}
	if !strings.HasSuffix(queueURL, ".fifo") || !strings.HasSuffix(out("dead_letter_queue_url"), ".fifo") {
		t.Errorf("FIFO queues expected, got %q and %q", queueURL, out("dead_letter_queue_url"))
	}
	out("function_url")

	// The queue as SQS reports it.
	var queue struct{ Attributes map[string]string }
	body, _ := json.Marshal(map[string]any{"QueueUrl": queueURL, "AttributeNames": []string{"All"}})
	motoJSON(t, motoCall(t, http.MethodPost, endpoint+"/", "sqs", "AmazonSQS.GetQueueAttributes", body), &queue)
	for k, want := range map[string]string{
		"MaximumMessageSize":   "262144",
		"SqsManagedSseEnabled": "true",
		"VisibilityTimeout":    "300",
		"FifoQueue":            "true",
	} {
		if got := queue.Attributes[k]; got != want {
			t.Errorf("queue attribute %s = %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(queue.Attributes["RedrivePolicy"], `"maxReceiveCount":5`) &&
		!strings.Contains(queue.Attributes["RedrivePolicy"], `"maxReceiveCount": 5`) {
		t.Errorf("queue RedrivePolicy = %q, want maxReceiveCount 5", queue.Attributes["RedrivePolicy"])
	}

	// The function's configuration: the contract's environment.
	var got struct {
		Configuration struct {
			Runtime       string
			Handler       string
			Timeout       int
			Architectures []string
			Environment   struct{ Variables map[string]string }
		}
	}
	motoJSON(t, motoCall(t, http.MethodGet, endpoint+"/2015-03-31/functions/elevenrelay-webhook", "lambda", "", nil), &got)
	fn := got.Configuration
	if fn.Runtime != "provided.al2023" || fn.Handler != "bootstrap" || fn.Timeout != 20 ||
		len(fn.Architectures) != 1 || fn.Architectures[0] != "arm64" {
		t.Errorf("function runtime/handler/timeout/architectures = %s/%s/%d/%v", fn.Runtime, fn.Handler, fn.Timeout, fn.Architectures)
	}
	for k, want := range map[string]string{
		"SQS_QUEUE_URL":                 queueURL,
		"CLAIM_CHECK_BUCKET":            bucket,
		"ELEVENLABS_WEBHOOK_SECRET_ARN": secretArn,
		"WEBHOOK_TOLERANCE":             "30m",
		"PUBLISH_TIMEOUT":               "10s",
	} {
		if got := fn.Environment.Variables[k]; got != want {
			t.Errorf("function env %s = %q, want %q", k, got, want)
		}
	}

	// The bucket's lifecycle and TLS-only policy.
	lifecycle := motoCall(t, http.MethodGet, endpoint+"/"+bucket+"?lifecycle", "s3", "", nil)
	for _, want := range []string{"elevenlabs/", "spill/", "<Days>21</Days>", "<Days>30</Days>"} {
		if !strings.Contains(lifecycle, want) {
			t.Errorf("bucket lifecycle lacks %s:\n%s", want, lifecycle)
		}
	}
	if policy := motoCall(t, http.MethodGet, endpoint+"/"+bucket+"?policy", "s3", "", nil); !strings.Contains(policy, "aws:SecureTransport") {
		t.Errorf("bucket policy is not TLS-only:\n%s", policy)
	}

	// The alarms, as CloudWatch holds them: all of them, with the function
	// URL's since it is enabled, and the bad-requests one over an hour.
	alarms := motoCall(t, http.MethodPost, endpoint+"/", "monitoring", "",
		[]byte("Action=DescribeAlarms&Version=2010-08-01&MaxRecords=100"))
	for _, name := range []string{
		"dead-letter-queue", "function-errors", "function-throttles", "api-5xx",
		"spilled-events", "bad-requests", "function-url-5xx",
		"inbox-dead-letter-queue", "rejected-objects", "storage-first-5xx",
	} {
		if !strings.Contains(alarms, "<AlarmName>elevenrelay-"+name+"</AlarmName>") {
			t.Errorf("CloudWatch has no alarm elevenrelay-%s", name)
		}
	}
	// Moto lists each alarm's fields from its name to the next alarm's.
	_, bad, _ := strings.Cut(alarms, "<AlarmName>elevenrelay-bad-requests</AlarmName>")
	bad, _, _ = strings.Cut(bad, "<AlarmName>")
	for _, want := range []string{`<MetricName>BadRequests</MetricName>`, `<Period>3600</Period>`, `<Threshold>5(\.0)?</Threshold>`} {
		if !regexp.MustCompile(want).MatchString(bad) {
			t.Errorf("bad-requests alarm lacks %s:\n%s", want, bad)
		}
	}

	checkStorageFirstApplied(t, endpoint, out)

	start = time.Now()
	destroyOut := run(t, 4*time.Minute, example, env, tf, append([]string{"destroy", "-auto-approve", "-input=false", "-no-color"}, vars...)...)
	t.Logf("destroy took %s", time.Since(start).Round(time.Second))
	logSlowSteps(t, destroyOut)
}

// writeMotoOverride points the example's provider at moto. Terraform merges
// *_override.tf files into the configuration, so the example itself keeps no
// test settings.
func writeMotoOverride(t *testing.T, dir, endpoint string) {
	t.Helper()
	var endpoints strings.Builder
	for _, service := range []string{
		"apigateway", "apigatewayv2", "cloudwatch", "iam", "lambda", "logs",
		"s3", "secretsmanager", "sns", "sqs", "sts",
	} {
		fmt.Fprintf(&endpoints, "    %s = %q\n", service, endpoint)
	}
	text := `provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true

  endpoints {
` + endpoints.String() + `  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "moto_override.tf"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeDummyLambdaZip writes a deployment zip holding an executable
// bootstrap, so that the test needs no real build of the function.
func writeDummyLambdaZip(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bootstrap.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err == nil {
		_, err = io.WriteString(w, "#!/bin/sh\nexit 0\n")
	}
	if err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// motoCall sends one request to moto and returns the body of its 200
// answer. Moto checks no signatures but tells services apart by the
// credential scope of the Authorization header, so a dummy one names the
// service; target is the X-Amz-Target of JSON protocols.
func motoCall(t *testing.T, method, u, service, target string, body []byte) string {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/"+service+
		"/aws4_request, SignedHeaders=host, Signature=0")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	} else if body != nil {
		// The query protocol (CloudWatch's DescribeAlarms).
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s\n%s", method, u, resp.Status, data)
	}
	return string(data)
}

func motoJSON(t *testing.T, data string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(data), v); err != nil {
		t.Fatalf("%v in %s", err, data)
	}
}

// logSlowSteps logs the resources that took 10 s or more, to see where the
// test's time goes.
func logSlowSteps(t *testing.T, out string) {
	t.Helper()
	slow := regexp.MustCompile(`^(\S+): \w+ complete after (\d+m)?[1-9]\d+s`)
	for _, line := range strings.Split(out, "\n") {
		if slow.MatchString(line) {
			t.Log(line)
		}
	}
}
