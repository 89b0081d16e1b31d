package terraform_test

import (
	"math/big"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Moto cannot execute API Gateway service integrations, so these tests read
// the storage-first endpoint's configuration in both stacks and check what
// the function relies on: the raw bytes PutObject to inbox/<request id>,
// the signature and request time as metadata, binary media types, the
// execution role limited to inbox/*, the answers, and the S3 -> SQS ->
// function wiring.

const functionTimeout = 20 // seconds, in both stacks

func TestStorageFirstTemplate(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)

	api := tpl.resource(t, "StorageFirstApi")
	if str(api["Type"]) != "AWS::Serverless::Api" || str(api["Condition"]) != "StorageFirstEnabled" {
		t.Errorf("StorageFirstApi is %s under %s, want an AWS::Serverless::Api under StorageFirstEnabled", api["Type"], api["Condition"])
	}
	props := at(t, api, "Properties").(map[string]any)
	if got := str(at(t, props, "EndpointConfiguration", "Type")); got != "REGIONAL" {
		t.Errorf("StorageFirstApi endpoint type = %s, want REGIONAL", got)
	}
	if _, ok := props["MinimumCompressionSize"]; ok {
		t.Error("StorageFirstApi sets MinimumCompressionSize: payload compression must stay off")
	}
	if _, ok := props["BinaryMediaTypes"]; ok {
		t.Error("StorageFirstApi: set the binary media types in the OpenAPI body only")
	}
	throttle := at(t, props, "MethodSettings", "0").(map[string]any)
	if str(throttle["ResourcePath"]) != "/*" || str(throttle["HttpMethod"]) != "*" ||
		str(throttle["ThrottlingBurstLimit"]) != "ThrottlingBurstLimit" || str(throttle["ThrottlingRateLimit"]) != "ThrottlingRateLimit" {
		t.Errorf("StorageFirstApi stage throttling = %v, want the Throttling* parameters on /* *", throttle)
	}
	if got := str(props["StageName"]); got != "v1" {
		t.Errorf("StageName = %s, want v1 (the URL output says /v1/webhook)", got)
	}
	body := at(t, props, "DefinitionBody")
	if got := strList(at(t, body, "x-amazon-apigateway-binary-media-types")); !slices.Equal(got, []string{"*/*"}) {
		t.Errorf("binary media types = %q, want [*/*]", got)
	}

	post := at(t, body, "paths", "/webhook", "post")
	in := openAPIIntegration(t, at(t, post, "x-amazon-apigateway-integration"))
	checkPutObjectIntegration(t, "template.yaml", in, "arn:${AWS::Partition}:apigateway:${AWS::Region}:s3:path/${ClaimCheckBucket}/inbox/{key}")
	if in.Credentials != "StorageFirstApiRole.Arn" {
		t.Errorf("template.yaml: POST credentials = %s, want StorageFirstApiRole.Arn", in.Credentials)
	}
	// The method must declare what it maps and answers.
	var headers []string
	for _, p := range at(t, post, "parameters").([]any) {
		if str(at(t, p, "in")) == "header" {
			headers = append(headers, str(at(t, p, "name")))
		}
	}
	if !slices.Contains(headers, "ElevenLabs-Signature") || !slices.Contains(headers, "Content-Type") {
		t.Errorf("POST declares headers %q, want ElevenLabs-Signature and Content-Type", headers)
	}
	for status := range in.IntegrationResponses {
		at(t, post, "responses", status)
	}
	other := at(t, body, "paths", "/webhook", "x-amazon-apigateway-any-method")
	checkMethodNotAllowed(t, "template.yaml", openAPIIntegration(t, at(t, other, "x-amazon-apigateway-integration")))
	at(t, other, "responses", "405", "headers", "Allow")

	// The execution role: PutObject under inbox/ and nothing else.
	role := tpl.resource(t, "StorageFirstApiRole")
	if got := str(at(t, role, "Properties", "AssumeRolePolicyDocument", "Statement", "0", "Principal", "Service")); got != "apigateway.amazonaws.com" {
		t.Errorf("StorageFirstApiRole is assumed by %s", got)
	}
	policies := at(t, role, "Properties", "Policies").([]any)
	statements := at(t, policies[0], "PolicyDocument", "Statement").([]any)
	if len(policies) != 1 || len(statements) != 1 {
		t.Fatalf("StorageFirstApiRole has %d policies, %d statements, want one of each", len(policies), len(statements))
	}
	if a, r := str(at(t, statements[0], "Action")), str(at(t, statements[0], "Resource")); a != "s3:PutObject" || r != "${ClaimCheckBucket.Arn}/inbox/*" {
		t.Errorf("StorageFirstApiRole allows %s on %s, want s3:PutObject on the bucket's inbox/*", a, r)
	}

	// S3 -> inbox queue -> function.
	bucket := tpl.resource(t, "ClaimCheckBucket")
	if str(bucket["DependsOn"]) != "InboxQueuePolicy" {
		t.Errorf("ClaimCheckBucket DependsOn = %v, want InboxQueuePolicy (S3 checks it when the notification is written)", bucket["DependsOn"])
	}
	notification := at(t, bucket, "Properties", "NotificationConfiguration", "Fn::If").([]any)
	if str(notification[0]) != "StorageFirstEnabled" {
		t.Errorf("bucket notification under %v, want StorageFirstEnabled", notification[0])
	}
	queueCfg := at(t, notification[1], "QueueConfigurations", "0")
	if str(at(t, queueCfg, "Event")) != "s3:ObjectCreated:*" || str(at(t, queueCfg, "Queue")) != "InboxQueue.Arn" {
		t.Errorf("bucket notification = %v, want s3:ObjectCreated:* to InboxQueue", queueCfg)
	}
	rule := at(t, queueCfg, "Filter", "S3Key", "Rules", "0")
	if str(at(t, rule, "Name")) != "prefix" || str(at(t, rule, "Value")) != "inbox/" {
		t.Errorf("bucket notification filter = %v, want prefix inbox/", rule)
	}
	qp := at(t, tpl.resource(t, "InboxQueuePolicy"), "Properties", "PolicyDocument", "Statement", "0")
	if str(at(t, qp, "Principal", "Service")) != "s3.amazonaws.com" || str(at(t, qp, "Action")) != "sqs:SendMessage" ||
		str(at(t, qp, "Condition", "StringEquals", "aws:SourceAccount")) != "AWS::AccountId" {
		t.Errorf("InboxQueuePolicy = %v, want s3.amazonaws.com SendMessage from this account", qp)
	}

	inbox := at(t, tpl.resource(t, "InboxQueue"), "Properties")
	if fn := str(at(t, tpl.resource(t, "WebhookFunction"), "Properties", "Timeout")); fn != "20" {
		t.Errorf("WebhookFunction Timeout = %s, this test assumes %d", fn, functionTimeout)
	}
	if v := atoi(t, str(at(t, inbox, "VisibilityTimeout"))); v < 6*functionTimeout {
		t.Errorf("InboxQueue VisibilityTimeout = %d, want at least 6 × the function's %d s", v, functionTimeout)
	}
	if got := str(at(t, inbox, "RedrivePolicy", "deadLetterTargetArn")); got != "InboxDeadLetterQueue.Arn" {
		t.Errorf("InboxQueue redrives to %s, want InboxDeadLetterQueue", got)
	}
	if str(at(t, inbox, "SqsManagedSseEnabled")) != "true" || str(at(t, tpl.resource(t, "InboxDeadLetterQueue"), "Properties", "SqsManagedSseEnabled")) != "true" {
		t.Error("the inbox queues must be encrypted (SqsManagedSseEnabled)")
	}
	retention := atoi(t, str(at(t, inbox, "MessageRetentionPeriod")))
	if days := atoi(t, str(at(t, tpl, "Parameters", "InboxExpirationDays", "Default"))); days*86400 < retention {
		t.Errorf("InboxExpirationDays defaults to %d days, shorter than the inbox queue's retention (%d s)", days, retention)
	}

	esm := tpl.resource(t, "InboxEventSourceMapping")
	if str(esm["Condition"]) != "StorageFirstEnabled" || str(at(t, esm, "Properties", "EventSourceArn")) != "InboxQueue.Arn" ||
		str(at(t, esm, "Properties", "FunctionName")) != "WebhookFunction" ||
		!slices.Equal(strList(at(t, esm, "Properties", "FunctionResponseTypes")), []string{"ReportBatchItemFailures"}) {
		t.Errorf("InboxEventSourceMapping = %v, want InboxQueue -> WebhookFunction with ReportBatchItemFailures", esm)
	}

	// The function's extra permissions, exactly.
	fp := tpl.resource(t, "StorageFirstFunctionPolicy")
	if str(at(t, fp, "Properties", "RoleName")) != "WebhookFunctionRole" {
		t.Error("StorageFirstFunctionPolicy is not on the function's role")
	}
	var grants []string
	for _, s := range at(t, fp, "Properties", "PolicyDocument", "Statement").([]any) {
		actions := strList(at(t, s, "Action"))
		if actions == nil {
			actions = []string{str(at(t, s, "Action"))}
		}
		for _, a := range actions {
			grants = append(grants, a+" on "+str(at(t, s, "Resource")))
		}
	}
	slices.Sort(grants)
	want := []string{
		"s3:DeleteObject on ${ClaimCheckBucket.Arn}/inbox/*",
		"s3:GetObject on ${ClaimCheckBucket.Arn}/inbox/*",
		"s3:ListBucket on ClaimCheckBucket.Arn",
		"s3:PutObject on ${ClaimCheckBucket.Arn}/rejected/*",
		"sqs:DeleteMessage on InboxQueue.Arn",
		"sqs:GetQueueAttributes on InboxQueue.Arn",
		"sqs:ReceiveMessage on InboxQueue.Arn",
	}
	if !slices.Equal(grants, want) {
		t.Errorf("StorageFirstFunctionPolicy grants\n%s\nwant exactly\n%s", strings.Join(grants, "\n"), strings.Join(want, "\n"))
	}

	// Lifecycle backstops and the alarms.
	var prefixes []string
	for _, r := range at(t, bucket, "Properties", "LifecycleConfiguration", "Rules").([]any) {
		if p, ok := r.(map[string]any)["Prefix"]; ok {
			prefixes = append(prefixes, str(p))
		}
	}
	for _, p := range []string{"inbox/", "rejected/"} {
		if !slices.Contains(prefixes, p) {
			t.Errorf("no lifecycle rule for %s (rules for %q)", p, prefixes)
		}
	}
	if got := str(at(t, tpl.resource(t, "RejectedObjectsMetricFilter"), "Properties", "FilterPattern")); !strings.Contains(got, `$.outcome = "rejected"`) {
		t.Errorf("RejectedObjectsMetricFilter pattern = %s, want the rejected outcome", got)
	}
	if got := str(at(t, tpl.resource(t, "InboxDeadLetterQueueAlarm"), "Properties", "Dimensions", "0", "Value")); got != "InboxDeadLetterQueue.QueueName" {
		t.Errorf("InboxDeadLetterQueueAlarm watches %s", got)
	}
	tpl.resource(t, "RejectedObjectsAlarm")
	at(t, tpl, "Outputs", "StorageFirstWebhookUrl")

	// The allowlist presets are core's.
	sources := at(t, tpl, "Mappings", "StorageFirstSources").(map[string]any)
	presets := map[string][]string{}
	for name, v := range sources {
		presets[name] = strList(at(t, v, "Addresses"))
	}
	checkEgressPresets(t, "template.yaml", presets)
	allowed := strList(at(t, tpl, "Parameters", "StorageFirstSourceAllowlist", "AllowedValues"))
	for name := range presets {
		if !slices.Contains(allowed, name) {
			t.Errorf("StorageFirstSourceAllowlist does not allow the preset %s", name)
		}
	}
}

// checkEgressPresets: each preset ("elevenlabs", "elevenlabs-<region>")
// holds exactly the addresses core.ParseAllowlist admits for it: all of them
// are admitted, and core admits none of the other presets' addresses that
// the preset lacks.
func checkEgressPresets(t *testing.T, stack string, presets map[string][]string) {
	t.Helper()
	all := presets["elevenlabs"]
	if len(all) == 0 || len(presets) < 7 {
		t.Fatalf("%s: presets %v, want elevenlabs and six regions", stack, presets)
	}
	for name, ips := range presets {
		list, err := core.ParseAllowlist(name)
		if err != nil {
			t.Errorf("%s: preset %s unknown to core: %v", stack, name, err)
			continue
		}
		for _, ip := range all {
			if got, want := list.Allows(ip), slices.Contains(ips, ip); got != want {
				t.Errorf("%s: preset %s: core admits %s: %v, the stack: %v", stack, name, ip, got, want)
			}
		}
		for _, ip := range ips {
			if !slices.Contains(all, ip) {
				t.Errorf("%s: preset %s has %s, which the elevenlabs preset lacks", stack, name, ip)
			}
		}
	}
}

func TestStorageFirstTerraform(t *testing.T) {
	t.Parallel()
	c := parseDir(t, filepath.Join("aws", "modules", "receiver"))
	locals := literalLocals(c)

	api := c.block(t, "resource", "aws_api_gateway_rest_api", "storage_first")
	if got := literal(t, attr(t, api, "binary_media_types")); !got.Equals(cty.TupleVal([]cty.Value{cty.StringVal("*/*")})).True() {
		t.Errorf("binary_media_types = %#v, want [*/*]", got)
	}
	if _, ok := api.Body.Attributes["minimum_compression_size"]; ok {
		t.Error("minimum_compression_size is set: payload compression must stay off")
	}
	if got := literal(t, attr(t, nested(t, api, "endpoint_configuration"), "types")); !got.Equals(cty.TupleVal([]cty.Value{cty.StringVal("REGIONAL")})).True() {
		t.Errorf("endpoint types = %#v, want [REGIONAL]", got)
	}

	post := c.block(t, "resource", "aws_api_gateway_integration", "storage_first_post")
	in := apiIntegration{
		Type:                 literalString(t, post, "type"),
		HTTPMethod:           literalString(t, post, "integration_http_method"),
		URI:                  strings.Trim(sourceText(t, attr(t, post, "uri")), `"`),
		Credentials:          reference(attr(t, post, "credentials")),
		PassthroughBehavior:  literalString(t, post, "passthrough_behavior"),
		RequestParameters:    literalStrings(t, attr(t, post, "request_parameters")),
		IntegrationResponses: map[string]apiResponse{},
	}
	if a, ok := post.Body.Attributes["request_templates"]; ok {
		in.RequestTemplates = literalStrings(t, a.Expr)
	}
	if a, ok := post.Body.Attributes["content_handling"]; ok {
		in.ContentHandling = literal(t, a.Expr).AsString()
	}
	if got := reference(attr(t, post, "http_method")); got != "aws_api_gateway_method.storage_first_post.[].http_method" {
		t.Errorf("storage_first_post integration is on %s", got)
	}
	if got := literalString(t, c.block(t, "resource", "aws_api_gateway_method", "storage_first_post"), "http_method"); got != "POST" {
		t.Errorf("storage_first_post method = %s, want POST", got)
	}
	// The responses come from a local map through for_each.
	ir := c.block(t, "resource", "aws_api_gateway_integration_response", "storage_first_post")
	if reference(attr(t, ir, "selection_pattern")) != "each.value.pattern" ||
		reference(objectItems(t, attr(t, ir, "response_templates"))["application/json"]) != "each.value.body" {
		t.Error("storage_first_post integration responses do not take pattern and body from their for_each map")
	}
	params := literalStrings(t, attr(t, ir, "response_parameters"))
	responses, ok := locals["storage_first_post_responses"]
	if !ok {
		t.Fatal("no literal local storage_first_post_responses")
	}
	for it := responses.ElementIterator(); it.Next(); {
		status, r := it.Element()
		resp := apiResponse{
			StatusCode:         status.AsString(),
			ResponseParameters: params,
			ResponseTemplates:  map[string]string{"application/json": r.GetAttr("body").AsString()},
		}
		if p := r.GetAttr("pattern"); !p.IsNull() {
			resp.SelectionPattern = p.AsString()
		}
		in.IntegrationResponses[resp.StatusCode] = resp
	}
	checkPutObjectIntegration(t, "terraform", in,
		"arn:${data.aws_partition.current.partition}:apigateway:${data.aws_region.current.name}:s3:path/${aws_s3_bucket.claim_check.id}/inbox/{key}")
	if in.Credentials != "aws_iam_role.storage_first_api.[].arn" {
		t.Errorf("terraform: POST credentials = %s, want aws_iam_role.storage_first_api[0].arn", in.Credentials)
	}
	declared := literalBools(t, attr(t, c.block(t, "resource", "aws_api_gateway_method", "storage_first_post"), "request_parameters"))
	for _, h := range []string{"ElevenLabs-Signature", "Content-Type"} {
		if _, ok := declared["method.request.header."+h]; !ok {
			t.Errorf("POST does not declare the header %s it maps", h)
		}
	}

	other := c.block(t, "resource", "aws_api_gateway_integration", "storage_first_other")
	otherResp := c.block(t, "resource", "aws_api_gateway_integration_response", "storage_first_other")
	otherIn := apiIntegration{
		Type: literalString(t, other, "type"),
		IntegrationResponses: map[string]apiResponse{
			literalString(t, c.block(t, "resource", "aws_api_gateway_method_response", "storage_first_other"), "status_code"): {
				StatusCode:         literalString(t, c.block(t, "resource", "aws_api_gateway_method_response", "storage_first_other"), "status_code"),
				ResponseParameters: literalStrings(t, attr(t, otherResp, "response_parameters")),
			},
		},
	}
	if _, ok := otherResp.Body.Attributes["selection_pattern"]; ok {
		t.Error("the 405 response must be the default one (no selection_pattern)")
	}
	if got := literalString(t, c.block(t, "resource", "aws_api_gateway_method", "storage_first_other"), "http_method"); got != "ANY" {
		t.Errorf("storage_first_other method = %s, want ANY", got)
	}
	checkMethodNotAllowed(t, "terraform", otherIn)

	// The execution role: PutObject under inbox/ and nothing else.
	doc := c.block(t, "data", "aws_iam_policy_document", "storage_first_api")
	var stmts []*hclsyntax.Block
	for _, b := range doc.Body.Blocks {
		if b.Type == "statement" {
			stmts = append(stmts, b)
		}
	}
	if len(stmts) != 1 {
		t.Fatalf("storage_first_api policy has %d statements, want 1", len(stmts))
	}
	if a, r := sourceText(t, attr(t, stmts[0], "actions")), sourceText(t, attr(t, stmts[0], "resources")); a != `["s3:PutObject"]` || r != `["${aws_s3_bucket.claim_check.arn}/inbox/*"]` {
		t.Errorf("storage_first_api allows %s on %s, want s3:PutObject on the bucket's inbox/*", a, r)
	}
	wantReference(t, c.block(t, "resource", "aws_iam_role_policy", "storage_first_api"), "policy", "data.aws_iam_policy_document.storage_first_api.[].json")

	// The function's extra permissions, exactly.
	var grants []string
	for _, b := range c.block(t, "data", "aws_iam_policy_document", "storage_first_function").Body.Blocks {
		if b.Type != "statement" {
			continue
		}
		resources := sourceText(t, attr(t, b, "resources"))
		for _, a := range literal(t, attr(t, b, "actions")).AsValueSlice() {
			grants = append(grants, a.AsString()+" on "+resources)
		}
	}
	slices.Sort(grants)
	wantGrants := []string{
		`s3:DeleteObject on ["${aws_s3_bucket.claim_check.arn}/inbox/*"]`,
		`s3:GetObject on ["${aws_s3_bucket.claim_check.arn}/inbox/*"]`,
		`s3:ListBucket on [aws_s3_bucket.claim_check.arn]`,
		`s3:PutObject on ["${aws_s3_bucket.claim_check.arn}/rejected/*"]`,
		`sqs:DeleteMessage on [aws_sqs_queue.inbox[0].arn]`,
		`sqs:GetQueueAttributes on [aws_sqs_queue.inbox[0].arn]`,
		`sqs:ReceiveMessage on [aws_sqs_queue.inbox[0].arn]`,
	}
	if !slices.Equal(grants, wantGrants) {
		t.Errorf("storage_first_function grants\n%s\nwant exactly\n%s", strings.Join(grants, "\n"), strings.Join(wantGrants, "\n"))
	}
	wantReference(t, c.block(t, "resource", "aws_iam_role_policy", "storage_first_function"), "role", "aws_iam_role.webhook.id")

	// Stage throttling.
	settings := nested(t, c.block(t, "resource", "aws_api_gateway_method_settings", "storage_first"), "settings")
	wantReference(t, settings, "throttling_burst_limit", "var.throttling_burst_limit")
	wantReference(t, settings, "throttling_rate_limit", "var.throttling_rate_limit")

	// S3 -> inbox queue -> function.
	queue := nested(t, c.block(t, "resource", "aws_s3_bucket_notification", "claim_check"), "queue")
	wantReference(t, queue, "queue_arn", "aws_sqs_queue.inbox.[].arn")
	if got := literal(t, attr(t, queue, "events")); !got.Equals(cty.TupleVal([]cty.Value{cty.StringVal("s3:ObjectCreated:*")})).True() {
		t.Errorf("notification events = %#v", got)
	}
	if p := locals["inbox_prefix"]; reference(attr(t, queue, "filter_prefix")) != "local.inbox_prefix" || p.AsString() != "inbox/" {
		t.Error("the notification is not filtered to inbox/")
	}
	esm := c.block(t, "resource", "aws_lambda_event_source_mapping", "inbox")
	wantReference(t, esm, "event_source_arn", "aws_sqs_queue.inbox.[].arn")
	wantReference(t, esm, "function_name", "aws_lambda_function.webhook.arn")
	if got := literal(t, attr(t, esm, "function_response_types")); !got.Equals(cty.TupleVal([]cty.Value{cty.StringVal("ReportBatchItemFailures")})).True() {
		t.Errorf("function_response_types = %#v", got)
	}
	inbox := c.block(t, "resource", "aws_sqs_queue", "inbox")
	v, diags := attr(t, inbox, "visibility_timeout_seconds").Value(&hcl.EvalContext{Variables: map[string]cty.Value{"local": cty.ObjectVal(locals)}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if ft := locals["function_timeout"]; v.LessThan(ft.Multiply(cty.NumberIntVal(6))).True() {
		t.Errorf("inbox visibility_timeout_seconds = %s, want at least 6 × function_timeout (%s)", v.AsBigFloat(), ft.AsBigFloat())
	}
	qp := sourceText(t, c.block(t, "data", "aws_iam_policy_document", "inbox_queue").Body)
	for _, want := range []string{`"s3.amazonaws.com"`, `"sqs:SendMessage"`, `"aws:SourceArn"`, "aws_s3_bucket.claim_check.arn", `"aws:SourceAccount"`} {
		if !strings.Contains(qp, want) {
			t.Errorf("inbox queue policy lacks %s", want)
		}
	}

	// Lifecycle, alarms, the message size variable.
	lifecycle := sourceText(t, c.block(t, "resource", "aws_s3_bucket_lifecycle_configuration", "claim_check").Body)
	for _, want := range []string{`prefix = "inbox/"`, `prefix = "rejected/"`, "var.inbox_expiration_days", "var.rejected_expiration_days"} {
		if !strings.Contains(lifecycle, want) {
			t.Errorf("claim-check lifecycle lacks %s", want)
		}
	}
	seconds := literal(t, attr(t, inbox, "message_retention_seconds")).AsBigFloat()
	days := literal(t, attr(t, c.block(t, "variable", "inbox_expiration_days"), "default")).AsBigFloat()
	if new(big.Float).Mul(days, big.NewFloat(86400)).Cmp(seconds) < 0 {
		t.Errorf("inbox_expiration_days defaults to %s days, shorter than the inbox queue's retention (%s s)", days, seconds)
	}
	if p := locals["rejected_objects_pattern"]; !strings.Contains(p.AsString(), `$.outcome = "rejected"`) {
		t.Errorf("rejected_objects_pattern = %s", p.AsString())
	}
	wantReference(t, c.block(t, "resource", "aws_cloudwatch_log_metric_filter", "rejected"), "pattern", "local.rejected_objects_pattern")
	var alarms string
	for _, l := range c.ofType("locals") {
		if a, ok := l.Body.Attributes["storage_first_alarms"]; ok {
			alarms = sourceText(t, a.Expr)
		}
	}
	for _, want := range []string{"inbox-dead-letter-queue", "aws_sqs_queue.inbox_dead_letter[0].name", "rejected-objects", `"RejectedObjects"`} {
		if !strings.Contains(alarms, want) {
			t.Errorf("storage_first_alarms lacks %s", want)
		}
	}
	if got := literal(t, attr(t, c.block(t, "variable", "max_message_size"), "default")); !got.Equals(cty.NumberIntVal(262144)).True() {
		t.Errorf("max_message_size defaults to %#v, want 262144 (the 5.x provider's limit)", got)
	}
	for _, q := range []string{"webhook", "dead_letter"} {
		wantReference(t, c.block(t, "resource", "aws_sqs_queue", q), "max_message_size", "var.max_message_size")
	}

	// The allowlist presets are core's.
	egress, ok := locals["elevenlabs_egress"]
	if !ok {
		t.Fatal("no literal local elevenlabs_egress")
	}
	presets := map[string][]string{}
	for it := egress.ElementIterator(); it.Next(); {
		region, ips := it.Element()
		var list []string
		for _, ip := range ips.AsValueSlice() {
			list = append(list, ip.AsString())
			presets["elevenlabs"] = append(presets["elevenlabs"], ip.AsString())
		}
		presets["elevenlabs-"+region.AsString()] = list
	}
	checkEgressPresets(t, "terraform", presets)
}

// literalLocals evaluates every local that references nothing.
func literalLocals(c *tfConfig) map[string]cty.Value {
	out := map[string]cty.Value{}
	for _, l := range c.ofType("locals") {
		for name, a := range l.Body.Attributes {
			if v, diags := a.Expr.Value(nil); !diags.HasErrors() {
				out[name] = v
			}
		}
	}
	return out
}

func literalStrings(t *testing.T, expr hclsyntax.Expression) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, v := range objectItems(t, expr) {
		out[k] = literal(t, v).AsString()
	}
	return out
}

func literalBools(t *testing.T, expr hclsyntax.Expression) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for k, v := range objectItems(t, expr) {
		out[k] = literal(t, v).True()
	}
	return out
}

// sourceText is the configuration text of a node, as written.
func sourceText(t *testing.T, n hclsyntax.Node) string {
	t.Helper()
	r := n.Range()
	return string(r.SliceBytes(mustRead(t, r.Filename)))
}
