package terraform_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// terraform validate (tools_test.go, aws_test.go, gcp_test.go) checks that the
// configurations are well-formed for the providers; these tests parse the HCL
// and check the wiring that the Go code, least privilege and the operators'
// alarms depend on, which validate cannot judge.

// tfConfig is the top-level blocks of one Terraform directory.
type tfConfig struct {
	dir    string
	blocks []*hclsyntax.Block
}

func parseDir(t *testing.T, dir string) *tfConfig {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .tf files in %s (%v)", dir, err)
	}
	parser := hclparse.NewParser()
	cfg := &tfConfig{dir: dir}
	for _, f := range files {
		file, diags := parser.ParseHCLFile(f)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", f, diags.Error())
		}
		cfg.blocks = append(cfg.blocks, file.Body.(*hclsyntax.Body).Blocks...)
	}
	return cfg
}

// block returns the top-level block with these labels, failing if absent.
func (c *tfConfig) block(t *testing.T, typ string, labels ...string) *hclsyntax.Block {
	t.Helper()
	for _, b := range c.blocks {
		if b.Type == typ && strings.Join(b.Labels, ".") == strings.Join(labels, ".") {
			return b
		}
	}
	t.Fatalf("%s: no %s %s", c.dir, typ, strings.Join(labels, "."))
	return nil
}

func (c *tfConfig) ofType(typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, b := range c.blocks {
		if b.Type == typ {
			out = append(out, b)
		}
	}
	return out
}

// nested returns the single nested block of a type, failing if there is not
// exactly one.
func nested(t *testing.T, b *hclsyntax.Block, typ string) *hclsyntax.Block {
	t.Helper()
	var found []*hclsyntax.Block
	for _, n := range b.Body.Blocks {
		if n.Type == typ {
			found = append(found, n)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s %v: %d %s blocks, want 1", b.Type, b.Labels, len(found), typ)
	}
	return found[0]
}

func attr(t *testing.T, b *hclsyntax.Block, name string) hclsyntax.Expression {
	t.Helper()
	a, ok := b.Body.Attributes[name]
	if !ok {
		t.Fatalf("%s %v has no attribute %s", b.Type, b.Labels, name)
	}
	return a.Expr
}

// literal evaluates an expression that must not reference anything.
func literal(t *testing.T, expr hclsyntax.Expression) cty.Value {
	t.Helper()
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("not a literal at %s: %s", expr.Range(), diags.Error())
	}
	return v
}

func literalString(t *testing.T, b *hclsyntax.Block, name string) string {
	t.Helper()
	v := literal(t, attr(t, b, name))
	if v.Type() != cty.String {
		t.Fatalf("%s %v: %s is %s, want a string", b.Type, b.Labels, name, v.Type().FriendlyName())
	}
	return v.AsString()
}

// reference returns the expression as a plain reference such as
// google_pubsub_topic.webhook.id, or "" when it is anything else.
func reference(expr hclsyntax.Expression) string {
	st, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	if !ok {
		return ""
	}
	return traversalString(st.Traversal)
}

func traversalString(tr hcl.Traversal) string {
	parts := []string{tr.RootName()}
	for _, step := range tr[1:] {
		switch s := step.(type) {
		case hcl.TraverseAttr:
			parts = append(parts, s.Name)
		case hcl.TraverseIndex:
			parts = append(parts, "[]")
		}
	}
	return strings.Join(parts, ".")
}

func wantReference(t *testing.T, b *hclsyntax.Block, name, want string) {
	t.Helper()
	if got := reference(attr(t, b, name)); got != want {
		t.Errorf("%s %v: %s = %q, want a reference to %s", b.Type, b.Labels, name, got, want)
	}
}

// objectItems returns the keys and values of an object constructor.
func objectItems(t *testing.T, expr hclsyntax.Expression) map[string]hclsyntax.Expression {
	t.Helper()
	obj, ok := expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		t.Fatalf("not an object at %s", expr.Range())
	}
	items := map[string]hclsyntax.Expression{}
	for _, item := range obj.Items {
		k := literal(t, item.KeyExpr)
		items[k.AsString()] = item.ValueExpr
	}
	return items
}

// references lists every traversal used anywhere in a body.
func references(body *hclsyntax.Body) []hcl.Traversal {
	var out []hcl.Traversal
	for _, a := range body.Attributes {
		out = append(out, a.Expr.Variables()...)
	}
	for _, b := range body.Blocks {
		out = append(out, references(b.Body)...)
	}
	return out
}

// checkDeclarations: every var.X and local.X used is declared, and every
// variable and output has a description.
func checkDeclarations(t *testing.T, c *tfConfig) {
	t.Helper()
	vars := map[string]bool{}
	for _, v := range c.ofType("variable") {
		vars[v.Labels[0]] = true
		if _, ok := v.Body.Attributes["description"]; !ok {
			t.Errorf("%s: variable %s has no description", c.dir, v.Labels[0])
		}
	}
	for _, o := range c.ofType("output") {
		if _, ok := o.Body.Attributes["description"]; !ok {
			t.Errorf("%s: output %s has no description", c.dir, o.Labels[0])
		}
	}
	locals := map[string]bool{}
	for _, l := range c.ofType("locals") {
		for name := range l.Body.Attributes {
			locals[name] = true
		}
	}
	for _, b := range c.blocks {
		for _, tr := range references(b.Body) {
			if len(tr) < 2 {
				continue
			}
			step, ok := tr[1].(hcl.TraverseAttr)
			if !ok {
				continue
			}
			switch tr.RootName() {
			case "var":
				if !vars[step.Name] {
					t.Errorf("%s: var.%s is used at %s but not declared", c.dir, step.Name, tr.SourceRange())
				}
			case "local":
				if !locals[step.Name] {
					t.Errorf("%s: local.%s is used at %s but not declared", c.dir, step.Name, tr.SourceRange())
				}
			}
		}
	}
}

// checkModuleCall: the example passes only arguments the module declares
// and every variable of the module without a default.
func checkModuleCall(t *testing.T, example, module *tfConfig) {
	t.Helper()
	call := example.block(t, "module", "receiver")
	declared := map[string]bool{}
	for _, v := range module.ofType("variable") {
		declared[v.Labels[0]] = true
		_, hasDefault := v.Body.Attributes["default"]
		if _, passed := call.Body.Attributes[v.Labels[0]]; !hasDefault && !passed {
			t.Errorf("%s: module receiver lacks required argument %s", example.dir, v.Labels[0])
		}
	}
	for name := range call.Body.Attributes {
		if name != "source" && !declared[name] {
			t.Errorf("%s: module receiver gets %s, which the module does not declare", example.dir, name)
		}
	}
}

func TestTerraformDeclarations(t *testing.T) {
	t.Parallel()
	for _, cloud := range []string{"aws", "gcp"} {
		t.Run(cloud, func(t *testing.T) {
			module := parseDir(t, filepath.Join(cloud, "modules", "receiver"))
			example := parseDir(t, filepath.Join(cloud, "example"))
			checkDeclarations(t, module)
			checkDeclarations(t, example)
			checkModuleCall(t, example, module)
		})
	}
}

func TestGCPFunction(t *testing.T) {
	t.Parallel()
	c := parseDir(t, filepath.Join("gcp", "modules", "receiver"))
	fn := c.block(t, "resource", "google_cloudfunctions2_function", "webhook")

	build := nested(t, fn, "build_config")
	if got := literalString(t, build, "entry_point"); got != "ElevenLabsWebhook" {
		t.Errorf("entry_point = %q, want ElevenLabsWebhook", got)
	}
	wantReference(t, build, "runtime", "var.runtime")
	wantReference(t, build, "service_account", "var.build_service_account")
	if got := literalString(t, c.block(t, "variable", "runtime"), "default"); got != "go126" {
		t.Errorf("runtime defaults to %q, want go126", got)
	}
	storage := nested(t, nested(t, build, "source"), "storage_source")
	wantReference(t, storage, "bucket", "google_storage_bucket.source.name")
	wantReference(t, storage, "object", "google_storage_bucket_object.source.name")
	wantReference(t, c.block(t, "resource", "google_storage_bucket_object", "source"), "source", "var.source_zip_path")

	svc := nested(t, fn, "service_config")
	wantReference(t, svc, "service_account_email", "google_service_account.runtime.email")
	env := objectItems(t, attr(t, svc, "environment_variables"))
	for name, want := range map[string]string{
		"PUBSUB_TOPIC":       "google_pubsub_topic.webhook.id", // projects/P/topics/T
		"CLAIM_CHECK_BUCKET": "google_storage_bucket.claim_check.name",
		"WEBHOOK_TOLERANCE":  "var.webhook_tolerance",
		"PUBLISH_TIMEOUT":    "var.publish_timeout",
		"LOG_LEVEL":          "var.log_level",
	} {
		expr, ok := env[name]
		if !ok {
			t.Errorf("environment_variables lacks %s", name)
		} else if got := reference(expr); got != want {
			t.Errorf("environment_variables.%s = %q, want a reference to %s", name, got, want)
		}
	}
	if _, ok := env["PUBSUB_ORDERING"]; !ok {
		t.Error("environment_variables lacks PUBSUB_ORDERING")
	}
	if _, ok := env["ELEVENLABS_WEBHOOK_SECRET"]; ok {
		t.Error("ELEVENLABS_WEBHOOK_SECRET must come from Secret Manager, not a plain environment variable")
	}

	secret := nested(t, svc, "secret_environment_variables")
	if got := literalString(t, secret, "key"); got != "ELEVENLABS_WEBHOOK_SECRET" {
		t.Errorf("secret_environment_variables.key = %q", got)
	}
	wantReference(t, secret, "secret", "google_secret_manager_secret.webhook.secret_id")

	// Public: the signature is the authentication.
	invoker := c.block(t, "resource", "google_cloud_run_service_iam_member", "public_invoker")
	if literalString(t, invoker, "role") != "roles/run.invoker" || literalString(t, invoker, "member") != "allUsers" {
		t.Error("the function's Cloud Run service must grant roles/run.invoker to allUsers")
	}
	wantReference(t, invoker, "service", "google_cloudfunctions2_function.webhook.name")
}

// TestGCPRuntimeGrants: the runtime service account gets exactly three
// roles, each on one resource, and nothing project-wide.
func TestGCPRuntimeGrants(t *testing.T) {
	t.Parallel()
	c := parseDir(t, filepath.Join("gcp", "modules", "receiver"))
	want := map[string]string{
		"google_pubsub_topic_iam_member roles/pubsub.publisher":                      "google_pubsub_topic.webhook.name",
		"google_secret_manager_secret_iam_member roles/secretmanager.secretAccessor": "google_secret_manager_secret.webhook.secret_id",
		"google_storage_bucket_iam_member roles/storage.objectCreator":               "google_storage_bucket.claim_check.name",
	}
	target := map[string]string{
		"google_pubsub_topic_iam_member":          "topic",
		"google_secret_manager_secret_iam_member": "secret_id",
		"google_storage_bucket_iam_member":        "bucket",
	}
	got := map[string]string{}
	for _, r := range c.ofType("resource") {
		typ := r.Labels[0]
		if strings.HasPrefix(typ, "google_project_iam") || strings.HasPrefix(typ, "google_organization_iam") {
			t.Errorf("project- or organisation-wide grant %s.%s", typ, r.Labels[1])
		}
		if !strings.HasSuffix(typ, "_iam_member") && !strings.HasSuffix(typ, "_iam_binding") && !strings.HasSuffix(typ, "_iam_policy") {
			continue
		}
		member, ok := r.Body.Attributes["member"]
		if !ok || reference(member.Expr) != "google_service_account.runtime.member" {
			continue
		}
		key := typ + " " + literalString(t, r, "role")
		got[key] = reference(attr(t, r, target[typ]))
	}
	keys := func(m map[string]string) []string {
		var out []string
		for k, v := range m {
			out = append(out, k+" on "+v)
		}
		sort.Strings(out)
		return out
	}
	if g, w := strings.Join(keys(got), "\n"), strings.Join(keys(want), "\n"); g != w {
		t.Errorf("runtime service account grants:\n%s\nwant exactly:\n%s", g, w)
	}
}

func TestGCPPubSubDeadLetter(t *testing.T) {
	t.Parallel()
	c := parseDir(t, filepath.Join("gcp", "modules", "receiver"))
	sub := c.block(t, "resource", "google_pubsub_subscription", "webhook")
	wantReference(t, sub, "topic", "google_pubsub_topic.webhook.id")
	nested(t, sub, "retry_policy")
	wantReference(t, nested(t, sub, "dead_letter_policy"), "dead_letter_topic", "google_pubsub_topic.dead_letter.id")
	// Dead-lettered messages need a subscription, or Pub/Sub drops them.
	wantReference(t, c.block(t, "resource", "google_pubsub_subscription", "dead_letter"), "topic", "google_pubsub_topic.dead_letter.id")

	// Pub/Sub's service agent forwards: publisher on the dead-letter topic,
	// subscriber on the subscription.
	agent := c.block(t, "locals").Body.Attributes["pubsub_service_agent"]
	if agent == nil {
		t.Fatal("no local pubsub_service_agent")
	}
	text := string(agent.SrcRange.SliceBytes(mustRead(t, agent.SrcRange.Filename)))
	if !strings.Contains(text, "@gcp-sa-pubsub.iam.gserviceaccount.com") || !strings.Contains(text, "data.google_project.this.number") {
		t.Errorf("pubsub_service_agent = %s, want service-<project number>@gcp-sa-pubsub.iam.gserviceaccount.com", text)
	}
	pub := c.block(t, "resource", "google_pubsub_topic_iam_member", "dead_letter_publisher")
	wantReference(t, pub, "topic", "google_pubsub_topic.dead_letter.name")
	wantReference(t, pub, "member", "local.pubsub_service_agent")
	if literalString(t, pub, "role") != "roles/pubsub.publisher" {
		t.Error("the service agent must publish to the dead-letter topic")
	}
	subIAM := c.block(t, "resource", "google_pubsub_subscription_iam_member", "dead_letter_subscriber")
	wantReference(t, subIAM, "subscription", "google_pubsub_subscription.webhook.name")
	wantReference(t, subIAM, "member", "local.pubsub_service_agent")
	if literalString(t, subIAM, "role") != "roles/pubsub.subscriber" {
		t.Error("the service agent must subscribe to the subscription")
	}
}

func TestGCPBuckets(t *testing.T) {
	t.Parallel()
	c := parseDir(t, filepath.Join("gcp", "modules", "receiver"))
	for _, name := range []string{"claim_check", "source"} {
		b := c.block(t, "resource", "google_storage_bucket", name)
		if v := literal(t, attr(t, b, "uniform_bucket_level_access")); !v.True() {
			t.Errorf("bucket %s: uniform_bucket_level_access is not true", name)
		}
		if got := literalString(t, b, "public_access_prevention"); got != "enforced" {
			t.Errorf("bucket %s: public_access_prevention = %q", name, got)
		}
	}
	cc := c.block(t, "resource", "google_storage_bucket", "claim_check")
	text := string(cc.Body.SrcRange.SliceBytes(mustRead(t, cc.Body.SrcRange.Filename)))
	for _, want := range []string{`"elevenlabs/"`, `"spill/"`, "var.spill_expiration_days", "var.claim_check_expiration_days"} {
		if !strings.Contains(text, want) {
			t.Errorf("claim-check bucket lifecycle lacks %s", want)
		}
	}
}

// TestGCPRegionValidation checks the region variable's regex, taken from
// its can(regex(...)) condition, against real region names; Terraform's
// regex is RE2, as Go's regexp is.
func TestGCPRegionValidation(t *testing.T) {
	t.Parallel()
	c := parseDir(t, filepath.Join("gcp", "modules", "receiver"))
	cond := attr(t, nested(t, c.block(t, "variable", "region"), "validation"), "condition")
	can, ok := cond.(*hclsyntax.FunctionCallExpr)
	if !ok || can.Name != "can" || len(can.Args) != 1 {
		t.Fatalf("region condition is not can(regex(...))")
	}
	call, ok := can.Args[0].(*hclsyntax.FunctionCallExpr)
	if !ok || call.Name != "regex" || len(call.Args) != 2 {
		t.Fatalf("region condition is not can(regex(...))")
	}
	re, err := regexp.Compile(literal(t, call.Args[0]).AsString())
	if err != nil {
		t.Fatal(err)
	}
	for _, region := range []string{"europe-west1", "europe-west10", "europe-west12", "us-central1", "northamerica-northeast2", "me-central2"} {
		if !re.MatchString(region) {
			t.Errorf("region %q refused by %s", region, re)
		}
	}
	for _, region := range []string{"", "europe-west", "europe-west1-b", "Europe-West1", "global"} {
		if re.MatchString(region) {
			t.Errorf("%q accepted as a region by %s", region, re)
		}
	}
}

func TestGCPOutputs(t *testing.T) {
	t.Parallel()
	module := parseDir(t, filepath.Join("gcp", "modules", "receiver"))
	wantReference(t, module.block(t, "output", "webhook_url"), "value", "google_cloudfunctions2_function.webhook.url")
	wantReference(t, module.block(t, "output", "topic_id"), "value", "google_pubsub_topic.webhook.id")
	wantReference(t, module.block(t, "output", "subscription_id"), "value", "google_pubsub_subscription.webhook.id")
	wantReference(t, module.block(t, "output", "claim_check_bucket_name"), "value", "google_storage_bucket.claim_check.name")
	example := parseDir(t, filepath.Join("gcp", "example"))
	for _, name := range []string{"webhook_url", "topic_id", "subscription_id", "claim_check_bucket_name"} {
		wantReference(t, example.block(t, "output", name), "value", "module.receiver."+name)
	}
	if got := literalString(t, example.block(t, "variable", "source_zip_path"), "default"); got != "dist/gcf-source.zip" {
		t.Errorf("source_zip_path defaults to %q, want dist/gcf-source.zip", got)
	}
}

// Every method must reach the function, which answers 405 with Allow: POST
// to all but POST (docs/spec.md §2); a POST-only route would get API Gateway's 404.
func TestAWSWebhookRoute(t *testing.T) {
	t.Parallel()
	c := parseDir(t, filepath.Join("aws", "modules", "receiver"))
	if got := literalString(t, c.block(t, "resource", "aws_apigatewayv2_route", "webhook"), "route_key"); got != "ANY /webhook" {
		t.Errorf("route_key = %q, want ANY /webhook", got)
	}
	perm := c.block(t, "resource", "aws_lambda_permission", "api")
	expr := attr(t, perm, "source_arn")
	text := string(expr.Range().SliceBytes(mustRead(t, expr.Range().Filename)))
	if !strings.HasSuffix(text, `/*/*/webhook"`) {
		t.Errorf("source_arn = %s, want the API to invoke the function for any method (…/*/*/webhook)", text)
	}
}

// A claim-checked message can wait the queue's retention and then the
// dead-letter queue's (a FIFO dead-letter queue restarts its age): its object
// must last as long by default.
func TestAWSClaimCheckOutlivesQueues(t *testing.T) {
	t.Parallel()
	c := parseDir(t, filepath.Join("aws", "modules", "receiver"))
	seconds := func(queue string) int64 {
		v := literal(t, attr(t, c.block(t, "resource", "aws_sqs_queue", queue), "message_retention_seconds"))
		n, _ := v.AsBigFloat().Int64()
		return n
	}
	queues := seconds("webhook") + seconds("dead_letter")
	v := literal(t, attr(t, c.block(t, "variable", "claim_check_expiration_days"), "default"))
	days, _ := v.AsBigFloat().Int64()
	if days*86400 < queues {
		t.Errorf("claim_check_expiration_days defaults to %d days, shorter than the queues' retention together (%d s)", days, queues)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// srcText is the source text of an expression or body range.
func srcText(t *testing.T, r hcl.Range) string {
	t.Helper()
	return string(r.SliceBytes(mustRead(t, r.Filename)))
}

// TestSharedVariables: the settings both clouds have carry one name, in the
// modules and in the examples, which pass them on.
func TestSharedVariables(t *testing.T) {
	t.Parallel()
	shared := map[string]string{ // name: type
		"force_destroy_buckets":       "bool",
		"enable_alarms":               "bool",
		"log_level":                   "string",
		"bad_request_alarm_threshold": "number",
	}
	retired := []string{"force_destroy_bucket", "enable_alerts"}
	for _, cloud := range []string{"aws", "gcp"} {
		t.Run(cloud, func(t *testing.T) {
			module := parseDir(t, filepath.Join(cloud, "modules", "receiver"))
			example := parseDir(t, filepath.Join(cloud, "example"))
			call := example.block(t, "module", "receiver")
			for name, typ := range shared {
				for _, c := range []*tfConfig{module, example} {
					v := c.block(t, "variable", name)
					if got := srcText(t, attr(t, v, "type").Range()); got != typ {
						t.Errorf("%s: variable %s has type %s, want %s", c.dir, name, got, typ)
					}
				}
				if a, ok := call.Body.Attributes[name]; !ok || reference(a.Expr) != "var."+name {
					t.Errorf("%s: module receiver does not get %s = var.%s", example.dir, name, name)
				}
			}
			if got := literalString(t, module.block(t, "variable", "log_level"), "default"); got != "info" {
				t.Errorf("log_level defaults to %q, want info", got)
			}
			for _, c := range []*tfConfig{module, example} {
				for _, name := range retired {
					for _, v := range c.ofType("variable") {
						if v.Labels[0] == name {
							t.Errorf("%s: variable %s is now %s", c.dir, name, "one of the shared names")
						}
					}
				}
			}
		})
	}
	// Each function gets LOG_LEVEL from the variable.
	aws := parseDir(t, filepath.Join("aws", "modules", "receiver"))
	env := objectItems(t, attr(t, nested(t, aws.block(t, "resource", "aws_lambda_function", "webhook"), "environment"), "variables"))
	if env["LOG_LEVEL"] == nil || reference(env["LOG_LEVEL"]) != "var.log_level" {
		t.Error("the Lambda function's LOG_LEVEL is not var.log_level")
	}
	gcp := parseDir(t, filepath.Join("gcp", "modules", "receiver"))
	svc := nested(t, gcp.block(t, "resource", "google_cloudfunctions2_function", "webhook"), "service_config")
	env = objectItems(t, attr(t, svc, "environment_variables"))
	if env["LOG_LEVEL"] == nil || reference(env["LOG_LEVEL"]) != "var.log_level" {
		t.Error("the Cloud Function's LOG_LEVEL is not var.log_level")
	}
}

// TestAWSAlarms: the alarms an operator gets, what they watch, and that the
// metric filters count what the function logs.
func TestAWSAlarms(t *testing.T) {
	t.Parallel()
	c := parseDir(t, filepath.Join("aws", "modules", "receiver"))
	var defs *hclsyntax.Attribute
	for _, l := range c.ofType("locals") {
		if a, ok := l.Body.Attributes["alarm_definitions"]; ok {
			defs = a
		}
	}
	if defs == nil {
		t.Fatal("no local alarm_definitions")
	}
	merge, ok := defs.Expr.(*hclsyntax.FunctionCallExpr)
	if !ok || merge.Name != "merge" || len(merge.Args) != 2 {
		t.Fatalf("alarm_definitions is not merge(always, function URL ones): %s", srcText(t, defs.Expr.Range()))
	}
	always := objectItems(t, merge.Args[0])
	cond, ok := merge.Args[1].(*hclsyntax.ConditionalExpr)
	if !ok || reference(cond.Condition) != "var.enable_function_url" {
		t.Fatalf("the second part of alarm_definitions is not conditional on var.enable_function_url")
	}
	withURL := objectItems(t, cond.TrueResult)

	type alarm struct{ namespace, metric string }
	want := map[string]alarm{
		"dead-letter-queue":  {"AWS/SQS", "ApproximateNumberOfMessagesVisible"},
		"function-errors":    {"AWS/Lambda", "Errors"},
		"function-throttles": {"AWS/Lambda", "Throttles"},
		"api-5xx":            {"AWS/ApiGateway", "5xx"},
		"spilled-events":     {"local.spill_metric_ns", "SpilledEvents"},
		"bad-requests":       {"local.spill_metric_ns", "BadRequests"},
	}
	check := func(items map[string]hclsyntax.Expression, name string, w alarm) map[string]hclsyntax.Expression {
		expr, ok := items[name]
		if !ok {
			t.Errorf("no alarm %s", name)
			return nil
		}
		fields := objectItems(t, expr)
		ns := reference(fields["namespace"])
		if ns == "" {
			ns = literal(t, fields["namespace"]).AsString()
		}
		if ns != w.namespace || literal(t, fields["metric"]).AsString() != w.metric {
			t.Errorf("alarm %s watches %s %s, want %s %s", name, ns, srcText(t, fields["metric"].Range()), w.namespace, w.metric)
		}
		return fields
	}
	for name, w := range want {
		check(always, name, w)
	}
	if len(always) != len(want) {
		t.Errorf("%d alarms always, want %d", len(always), len(want))
	}
	if f := check(withURL, "function-url-5xx", alarm{"AWS/Lambda", "Url5xxCount"}); f != nil {
		if got := srcText(t, f["dimensions"].Range()); !strings.Contains(got, "FunctionName = aws_lambda_function.webhook.function_name") {
			t.Errorf("function-url-5xx dimensions = %s", got)
		}
	}
	bad := objectItems(t, always["bad-requests"])
	if literal(t, bad["period"]).AsBigFloat().String() != "3600" || reference(bad["threshold"]) != "var.bad_request_alarm_threshold" {
		t.Errorf("bad-requests: period %s, threshold %s; want an hour and var.bad_request_alarm_threshold",
			srcText(t, bad["period"].Range()), srcText(t, bad["threshold"].Range()))
	}

	alarmRes := c.block(t, "resource", "aws_cloudwatch_metric_alarm", "this")
	for name, ref := range map[string]string{"period": "each.value.period", "threshold": "each.value.threshold", "alarm_actions": "local.alarm_actions"} {
		wantReference(t, alarmRes, name, ref)
	}
	if got := srcText(t, attr(t, alarmRes, "for_each").Range()); !strings.HasPrefix(got, "var.enable_alarms ?") {
		t.Errorf("alarms for_each = %s, want them under var.enable_alarms", got)
	}

	// The metric filters count the function's JSON log lines.
	for name, w := range map[string][2]string{
		"spilled":      {`{ $.outcome = \"spilled\" }`, "SpilledEvents"},
		"bad_requests": {`{ $.status = 400 }`, "BadRequests"},
	} {
		f := c.block(t, "resource", "aws_cloudwatch_log_metric_filter", name)
		if got := srcText(t, attr(t, f, "pattern").Range()); got != `"`+w[0]+`"` {
			t.Errorf("metric filter %s pattern = %s, want %q", name, got, w[0])
		}
		tr := nested(t, f, "metric_transformation")
		if literalString(t, tr, "name") != w[1] {
			t.Errorf("metric filter %s counts into %s, want %s", name, literalString(t, tr, "name"), w[1])
		}
		wantReference(t, tr, "namespace", "local.spill_metric_ns")
	}
}

// TestGCPAlerts: the GCP alert policies match the AWS alarms: 5xx, failing
// closed, spilled events, dead-lettered messages and sustained 400s.
func TestGCPAlerts(t *testing.T) {
	t.Parallel()
	c := parseDir(t, filepath.Join("gcp", "modules", "receiver"))
	for _, b := range c.ofType("resource") {
		if b.Labels[0] != "google_monitoring_alert_policy" && b.Labels[0] != "google_logging_metric" {
			continue
		}
		if got := srcText(t, attr(t, b, "count").Range()); got != "var.enable_alarms ? 1 : 0" {
			t.Errorf("%s.%s count = %s, want var.enable_alarms ? 1 : 0", b.Labels[0], b.Labels[1], got)
		}
	}
	service := `resource.labels.service_name=\"${google_cloudfunctions2_function.webhook.name}\"`
	metrics := map[string]string{
		"spilled":      `jsonPayload.outcome=\"spilled\"`,
		"fail_closed":  `jsonPayload.outcome=\"error\" AND jsonPayload.status=500`,
		"bad_requests": `jsonPayload.status=400`,
	}
	for name, want := range metrics {
		filter := srcText(t, attr(t, c.block(t, "resource", "google_logging_metric", name), "filter").Range())
		if !strings.Contains(filter, service) || !strings.Contains(filter, want) {
			t.Errorf("logging metric %s filter = %s, want the function's lines with %s", name, filter, want)
		}
	}
	condition := func(policy string) *hclsyntax.Block {
		return nested(t, nested(t, c.block(t, "resource", "google_monitoring_alert_policy", policy), "conditions"), "condition_threshold")
	}
	for name := range metrics {
		filter := srcText(t, attr(t, condition(name), "filter").Range())
		if !strings.Contains(filter, "logging.googleapis.com/user/${google_logging_metric."+name+"[0].name}") {
			t.Errorf("alert policy %s filter = %s, want the logging metric %s", name, filter, name)
		}
	}
	fiveXX := srcText(t, attr(t, condition("server_errors"), "filter").Range())
	for _, want := range []string{`metric.type=\"run.googleapis.com/request_count\"`, service, `metric.labels.response_code_class=\"5xx\"`} {
		if !strings.Contains(fiveXX, want) {
			t.Errorf("server_errors filter lacks %s: %s", want, fiveXX)
		}
	}
	dl := srcText(t, attr(t, condition("dead_letter"), "filter").Range())
	if !strings.Contains(dl, "num_undelivered_messages") || !strings.Contains(dl, "google_pubsub_subscription.dead_letter.name") {
		t.Errorf("dead_letter filter = %s", dl)
	}
	bad := condition("bad_requests")
	wantReference(t, bad, "threshold_value", "var.bad_request_alarm_threshold")
	if got := literalString(t, nested(t, bad, "aggregations"), "alignment_period"); got != "3600s" {
		t.Errorf("bad_requests alignment_period = %s, want an hour", got)
	}
	for _, p := range c.ofType("resource") {
		if p.Labels[0] == "google_monitoring_alert_policy" {
			wantReference(t, p, "notification_channels", "var.notification_channels")
		}
	}
}
