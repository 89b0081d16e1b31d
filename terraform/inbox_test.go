package terraform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// checkStorageFirstApplied checks, through moto's APIs, what the example
// created with storage_first = true, then proves the S3 -> SQS wiring the
// function relies on: an object put under inbox/ arrives in the inbox queue
// as an ObjectCreated record, after S3's test event, with its key
// URL-encoded; an object elsewhere does not.
//
// Moto cannot execute API Gateway integrations (TestStorageFirstTemplate and
// TestStorageFirstTerraform check them in the configuration). It also drops
// the REST API's binaryMediaTypes on CreateRestApi (checked there too), and
// it does not enforce the queue policy: the notification would arrive
// without it, so its content is checked here as text.
func checkStorageFirstApplied(t *testing.T, endpoint string, out func(string) string) {
	t.Helper()
	bucket := out("claim_check_bucket_name")
	inboxURL := out("inbox_queue_url")
	if u := out("storage_first_webhook_url"); !strings.HasPrefix(u, "https://") || !strings.HasSuffix(u, "/v1/webhook") {
		t.Errorf("storage_first_webhook_url = %q, want https://…/v1/webhook", u)
	}

	// The REST API and its POST integration as API Gateway reports them.
	var apis struct {
		Item []struct {
			ID                    string
			Name                  string
			Policy                string
			EndpointConfiguration struct{ Types []string }
		}
	}
	motoJSON(t, motoCall(t, http.MethodGet, endpoint+"/restapis", "apigateway", "", nil), &apis)
	apiID := ""
	for _, api := range apis.Item {
		if api.Name != "elevenrelay-storage-first" {
			continue
		}
		apiID = api.ID
		if strings.Join(api.EndpointConfiguration.Types, ",") != "REGIONAL" {
			t.Errorf("endpoint types = %q, want [REGIONAL]", api.EndpointConfiguration.Types)
		}
		if api.Policy != "" {
			t.Errorf("resource policy %s without storage_first_source_allowlist", api.Policy)
		}
	}
	if apiID == "" {
		t.Fatalf("no REST API elevenrelay-storage-first among %+v", apis.Item)
	}
	var resources struct {
		Item []struct {
			ID              string
			Path            string
			ResourceMethods map[string]any
		}
	}
	motoJSON(t, motoCall(t, http.MethodGet, endpoint+"/restapis/"+apiID+"/resources", "apigateway", "", nil), &resources)
	resourceID := ""
	for _, r := range resources.Item {
		if r.Path == "/webhook" {
			resourceID = r.ID
			if _, ok := r.ResourceMethods["POST"]; !ok {
				t.Errorf("/webhook has no POST method: %v", r.ResourceMethods)
			}
			if _, ok := r.ResourceMethods["ANY"]; !ok {
				t.Errorf("/webhook has no ANY method (the 405): %v", r.ResourceMethods)
			}
		}
	}
	if resourceID == "" {
		t.Fatalf("no /webhook resource in %+v", resources.Item)
	}
	methods := endpoint + "/restapis/" + apiID + "/resources/" + resourceID + "/methods/"
	var post apiIntegration
	motoJSON(t, motoCall(t, http.MethodGet, methods+"POST/integration", "apigateway", "", nil), &post)
	checkPutObjectIntegration(t, "applied", post, "arn:aws:apigateway:us-east-1:s3:path/"+bucket+"/inbox/{key}")
	var other apiIntegration
	motoJSON(t, motoCall(t, http.MethodGet, methods+"ANY/integration", "apigateway", "", nil), &other)
	checkMethodNotAllowed(t, "applied", other)

	var stage struct {
		MethodSettings map[string]struct {
			ThrottlingBurstLimit int
			ThrottlingRateLimit  float64
		}
	}
	motoJSON(t, motoCall(t, http.MethodGet, endpoint+"/restapis/"+apiID+"/stages/v1", "apigateway", "", nil), &stage)
	if s := stage.MethodSettings["*/*"]; s.ThrottlingBurstLimit != 100 || s.ThrottlingRateLimit != 50 {
		t.Errorf("stage v1 throttling = %+v, want burst 100 and rate 50 for */*", stage.MethodSettings)
	}

	// The inbox queue, its policy and its mapping to the function.
	var queue struct{ Attributes map[string]string }
	body, _ := json.Marshal(map[string]any{"QueueUrl": inboxURL, "AttributeNames": []string{"All"}})
	motoJSON(t, motoCall(t, http.MethodPost, endpoint+"/", "sqs", "AmazonSQS.GetQueueAttributes", body), &queue)
	inboxArn := queue.Attributes["QueueArn"]
	if got := queue.Attributes["VisibilityTimeout"]; got != "120" {
		t.Errorf("inbox queue VisibilityTimeout = %q, want 120 (6 × the function's 20 s)", got)
	}
	if got := queue.Attributes["MessageRetentionPeriod"]; got != "1209600" {
		t.Errorf("inbox queue MessageRetentionPeriod = %q, want 1209600 (14 days)", got)
	}
	if got := queue.Attributes["SqsManagedSseEnabled"]; got != "true" {
		t.Errorf("inbox queue SqsManagedSseEnabled = %q", got)
	}
	if got := queue.Attributes["RedrivePolicy"]; !strings.Contains(got, "elevenrelay-inbox-dlq") {
		t.Errorf("inbox queue RedrivePolicy = %q, want the inbox dead-letter queue", got)
	}
	for _, want := range []string{"s3.amazonaws.com", "sqs:SendMessage", "aws:SourceArn", "arn:aws:s3:::" + bucket, "aws:SourceAccount"} {
		if !strings.Contains(queue.Attributes["Policy"], want) {
			t.Errorf("inbox queue policy lacks %s: %s", want, queue.Attributes["Policy"])
		}
	}
	var mappings struct {
		EventSourceMappings []struct {
			UUID                  string
			EventSourceArn        string
			FunctionArn           string
			BatchSize             int
			FunctionResponseTypes []string
		}
	}
	motoJSON(t, motoCall(t, http.MethodGet, endpoint+"/2015-03-31/event-source-mappings/", "lambda", "", nil), &mappings)
	if len(mappings.EventSourceMappings) != 1 {
		t.Fatalf("event source mappings: %+v, want one", mappings.EventSourceMappings)
	}
	esm := mappings.EventSourceMappings[0]
	if esm.EventSourceArn != inboxArn || !strings.HasSuffix(esm.FunctionArn, ":function:elevenrelay-webhook") ||
		strings.Join(esm.FunctionResponseTypes, ",") != "ReportBatchItemFailures" || esm.BatchSize != 5 {
		t.Errorf("event source mapping = %+v, want the inbox queue %s to elevenrelay-webhook, batches of 5, ReportBatchItemFailures", esm, inboxArn)
	}

	// Moto hands a queue's new messages straight to a mapped function, which
	// it cannot run here: pause the mapping, as an operator would, to read
	// the queue ourselves.
	pause, _ := json.Marshal(map[string]any{"Enabled": false})
	req, err := http.NewRequest(http.MethodPut, endpoint+"/2015-03-31/event-source-mappings/"+esm.UUID, bytes.NewReader(pause))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted { // UpdateEventSourceMapping answers 202
		t.Fatalf("pause the event source mapping: %s", resp.Status)
	}

	checkInboxNotifications(t, endpoint, bucket, inboxURL)
}

// TestStorageFirstAllowlistPlan plans the example with storage_first and
// storage_first_source_allowlist and checks the resource policy the REST API
// would get. It is not applied: moto returns a REST API's policy as plain
// JSON, where API Gateway escapes it, and the AWS provider then fails to
// read it back ("invalid character 'S' after top-level value"). Only the
// REST API is planned, which needs no AWS call: the endpoints point at a
// closed port.
func TestStorageFirstAllowlistPlan(t *testing.T) {
	if testing.Short() {
		t.Skip("runs terraform init and plan; skipped with -short")
	}
	t.Parallel()
	tf := requireTool(t, "terraform", terraformHint)
	env := terraformEnv(t, pluginMirror(t))
	root := copyTree(t, ".")
	example := filepath.Join(root, "aws", "example")
	writeMotoOverride(t, example, "http://127.0.0.1:9")
	run(t, 2*time.Minute, example, env, tf, "init", "-backend=false", "-input=false", "-no-color")
	start := time.Now()
	plan := run(t, 3*time.Minute, example, env, tf, "plan", "-input=false", "-no-color",
		"-target=module.receiver.aws_api_gateway_rest_api.storage_first",
		"-var", "lambda_zip_path="+writeDummyLambdaZip(t),
		"-var", "storage_first=true",
		"-var", `storage_first_source_allowlist=["elevenlabs-eu","198.51.100.0/24"]`)
	t.Logf("plan took %s", time.Since(start).Round(time.Second))
	i := strings.Index(plan, "aws_api_gateway_rest_api.storage_first[0] will be created")
	if i < 0 {
		t.Fatalf("the plan does not create the REST API:\n%s", plan)
	}
	change := plan[i:]
	if j := strings.Index(change, "\n    }\n"); j >= 0 {
		change = change[:j]
	}
	// elevenlabs-eu and a CIDR were asked for; no other region.
	for _, want := range []string{`"35.204.38.71"`, `"34.147.113.54"`, `"198.51.100.0/24"`, "NotIpAddress", "aws:SourceIp", `"execute-api:/*"`, `"*/*"`, `"REGIONAL"`} {
		if !strings.Contains(change, want) {
			t.Errorf("planned REST API lacks %s:\n%s", want, change)
		}
	}
	if strings.Contains(change, "34.67.146.145") {
		t.Errorf("planned resource policy admits a US address, only elevenlabs-eu was asked for:\n%s", change)
	}
}

// checkInboxNotifications puts objects into the bucket and reads what the
// inbox queue received.
func checkInboxNotifications(t *testing.T, endpoint, bucket, queueURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	sqsc := sqs.NewFromConfig(cfg)

	// Moto enforces the bucket's TLS-only policy, and it serves plain HTTP:
	// lift the policy while putting the objects, then put it back for the
	// destroy.
	policy, err := s3c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("bucket policy: %v", err)
	}
	if _, err := s3c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("lift the bucket policy: %v", err)
	}
	// Request ids are UUIDs, but a key with characters that need encoding
	// (a replayed or hand-copied object) must arrive too.
	key := "inbox/5d0c7f1e-test id+ü=1"
	keys := []string{"spill/not-for-the-inbox", key}
	defer func() {
		// Leave the bucket as the apply made it: with these objects in it,
		// terraform destroy (force_destroy) did not finish emptying it
		// against moto within minutes.
		for _, k := range keys {
			if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)}); err != nil {
				t.Errorf("delete %s: %v", k, err)
			}
		}
		if left, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}); err != nil || len(left.Contents) != 0 {
			t.Errorf("objects left in the bucket: %v (%v)", left, err)
		}
		if _, err := s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: policy.Policy}); err != nil {
			t.Errorf("put the bucket policy back: %v", err)
		}
	}()
	for _, k := range keys {
		_, err := s3c.PutObject(ctx, &s3.PutObjectInput{
			Bucket:   aws.String(bucket),
			Key:      aws.String(k),
			Body:     strings.NewReader(`{"type":"post_call_transcription"}`),
			Metadata: map[string]string{"elevenlabs-signature": "t=1,v0=00", "received-at": "1764266400000"},
		})
		if err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}

	var bodies []string
	for i := 0; i < 10 && len(bodies) < 3; i++ {
		got, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            aws.String(queueURL),
			MaxNumberOfMessages: 10,
			WaitTimeSeconds:     1,
		})
		if err != nil {
			t.Fatalf("receive from the inbox queue: %v", err)
		}
		for _, m := range got.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
		}
	}
	if len(bodies) != 2 {
		t.Fatalf("inbox queue delivered %d messages, want S3's test event and one record:\n%s", len(bodies), strings.Join(bodies, "\n"))
	}
	var test struct{ Event, Bucket string }
	if err := json.Unmarshal([]byte(bodies[0]), &test); err != nil || test.Event != "s3:TestEvent" || test.Bucket != bucket {
		t.Errorf("first message = %s, want S3's s3:TestEvent for %s", bodies[0], bucket)
	}
	var event struct {
		Records []struct {
			EventSource, EventName string
			S3                     struct {
				Bucket struct{ Name string }
				Object struct {
					Key  string
					Size int
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(bodies[1]), &event); err != nil || len(event.Records) != 1 {
		t.Fatalf("second message = %s (%v), want one S3 record", bodies[1], err)
	}
	r := event.Records[0]
	if r.EventSource != "aws:s3" || !strings.HasPrefix(r.EventName, "ObjectCreated:") || r.S3.Bucket.Name != bucket {
		t.Errorf("record = %+v, want aws:s3 ObjectCreated:* in %s", r, bucket)
	}
	// S3 form-encodes keys in notifications: "/" as %2F, " " as "+".
	if r.S3.Object.Key == key {
		t.Errorf("record key %q arrived unencoded", r.S3.Object.Key)
	}
	if got, err := url.QueryUnescape(r.S3.Object.Key); err != nil || got != key {
		t.Errorf("record key %q decodes to %q (%v), want %q", r.S3.Object.Key, got, err, key)
	}
}
