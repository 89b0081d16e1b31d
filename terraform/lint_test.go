package terraform_test

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCFNLint(t *testing.T) {
	t.Parallel()
	cfnLint := requireTool(t, "cfn-lint", "pip install cfn-lint")
	// Informational findings included: the template is meant to have none.
	run(t, 2*time.Minute, "..", os.Environ(), cfnLint, "--include-checks", "I", "--", "template.yaml")
}

func TestTerraformFmt(t *testing.T) {
	t.Parallel()
	tf := requireTool(t, "terraform", "install Terraform >= 1.5 (https://developer.hashicorp.com/terraform/install)")
	run(t, time.Minute, ".", os.Environ(), tf, "fmt", "-check", "-recursive", "-diff", ".")
}

// TestSAMTemplateContract checks, as text, the names other parts of the
// project rely on; cfn-lint checks everything else.
func TestSAMTemplateContract(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	template := string(data)
	for _, want := range []string{
		// sam build runs make build-WebhookFunction (mk/iac.mk).
		"  WebhookFunction:\n    Type: AWS::Serverless::Function\n    Metadata:\n",
		"BuildMethod: makefile",
		"Runtime: provided.al2023",
		"Handler: bootstrap",
		"Timeout: 20",
		"Path: /webhook",
		// Any method reaches the function, which answers 405 to all but POST.
		"Method: ANY",
		"MaximumMessageSize: 1048576",
		"SqsManagedSseEnabled: true",
		"SSEAlgorithm: AES256",
		"ObjectOwnership: BucketOwnerEnforced",
		"aws:SecureTransport: \"false\"",
		"Prefix: spill/",
		`FilterPattern: '{ $.outcome = "spilled" }'`,
		"NoEcho: true",
	} {
		if !strings.Contains(template, want) {
			t.Errorf("template.yaml lacks %q", want)
		}
	}
	if strings.Contains(template, "Method: POST") {
		t.Error("template.yaml routes only POST: API Gateway would answer other methods 404, not the function 405")
	}
	for _, env := range []string{
		"ELEVENLABS_WEBHOOK_SECRET_ARN", "SQS_QUEUE_URL", "CLAIM_CHECK_BUCKET",
		"WEBHOOK_TOLERANCE", "PUBLISH_TIMEOUT", "LOG_LEVEL",
	} {
		if !regexp.MustCompile(`(?m)^ {10}` + env + `: `).MatchString(template) {
			t.Errorf("template.yaml does not set the function's %s", env)
		}
	}
	outputs := template[strings.Index(template, "\nOutputs:\n"):]
	for _, name := range []string{
		"WebhookUrl", "FunctionUrl", "QueueUrl", "QueueArn",
		"DeadLetterQueueUrl", "ClaimCheckBucketName", "WebhookSecretArn",
	} {
		if !strings.Contains(outputs, "\n  "+name+":\n") {
			t.Errorf("template.yaml has no output %s", name)
		}
	}
	// A claim-checked message can wait the queue's retention and then the
	// dead-letter queue's (a FIFO dead-letter queue restarts its age): its
	// object must last as long by default.
	tpl := loadTemplate(t)
	queues := 0
	for _, q := range []string{"WebhookQueue", "WebhookDeadLetterQueue"} {
		queues += atoi(t, str(at(t, tpl.resource(t, q), "Properties", "MessageRetentionPeriod")))
	}
	if days := atoi(t, str(at(t, tpl, "Parameters", "ClaimCheckExpirationDays", "Default"))); days*86400 < queues {
		t.Errorf("ClaimCheckExpirationDays defaults to %d days, shorter than the queues' retention together (%d s)", days, queues)
	}

	checkSAMAlarms(t, template)

	// Only X-Ray may have "*" as a resource in the function's role.
	if n := strings.Count(template, `Resource: "*"`); n != 1 {
		t.Errorf(`template.yaml has %d Resource: "*", want 1 (X-Ray)`, n)
	}

	mk, err := os.ReadFile("../mk/iac.mk")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^build-WebhookFunction:`).Match(mk) {
		t.Error("mk/iac.mk has no build-WebhookFunction target for sam build")
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// samResource returns the text of one top-level resource of the template,
// from its name to the next resource.
func samResource(t *testing.T, template, name string) string {
	t.Helper()
	start := strings.Index(template, "\n  "+name+":\n")
	if start < 0 {
		t.Errorf("template.yaml has no resource %s", name)
		return ""
	}
	rest := template[start+1:]
	if end := regexp.MustCompile(`\n(  [A-Za-z]|[A-Za-z])`).FindStringIndex(rest[1:]); end != nil {
		rest = rest[:end[0]+1]
	}
	return rest
}

// checkSAMAlarms: the alarms of the stack, the same as the Terraform
// module's, and the metric filters they count from the function's log lines.
func checkSAMAlarms(t *testing.T, template string) {
	t.Helper()
	want := map[string][]string{
		"DeadLetterQueueAlarm":   {"Namespace: AWS/SQS", "MetricName: ApproximateNumberOfMessagesVisible", "Threshold: 0"},
		"FunctionErrorsAlarm":    {"Namespace: AWS/Lambda", "MetricName: Errors", "Threshold: 0"},
		"FunctionThrottlesAlarm": {"Namespace: AWS/Lambda", "MetricName: Throttles", "Threshold: 0"},
		"Api5xxAlarm":            {"Namespace: AWS/ApiGateway", "MetricName: 5xx", "Threshold: 0"},
		"FunctionUrl5xxAlarm": {"Condition: FunctionUrlEnabled", "Namespace: AWS/Lambda", "MetricName: Url5xxCount",
			"Value: !Ref WebhookFunction", "Threshold: 0"},
		"SpilledEventsAlarm": {"Namespace: !Sub ElevenRelay/${AWS::StackName}", "MetricName: SpilledEvents", "Threshold: 0"},
		"BadRequestsAlarm": {"Namespace: !Sub ElevenRelay/${AWS::StackName}", "MetricName: BadRequests",
			"Period: 3600", "Threshold: !Ref BadRequestAlarmThreshold"},
		"SpilledEventsMetricFilter": {`FilterPattern: '{ $.outcome = "spilled" }'`, "MetricNamespace: !Sub ElevenRelay/${AWS::StackName}", "MetricName: SpilledEvents"},
		"BadRequestsMetricFilter":   {`FilterPattern: '{ $.status = 400 }'`, "MetricNamespace: !Sub ElevenRelay/${AWS::StackName}", "MetricName: BadRequests"},
	}
	for name, lines := range want {
		text := samResource(t, template, name)
		if text == "" {
			continue
		}
		have := map[string]bool{}
		for _, l := range strings.Split(text, "\n") {
			have[strings.TrimPrefix(strings.TrimSpace(l), "- ")] = true
		}
		for _, line := range lines {
			if !have[line] {
				t.Errorf("%s lacks %q:\n%s", name, line, text)
			}
		}
		if strings.HasSuffix(name, "Alarm") && !strings.Contains(text, "AlarmActions: !If [HasAlarmEmail, [!Ref AlarmTopic], !Ref AWS::NoValue]") {
			t.Errorf("%s does not notify the alarm topic", name)
		}
	}
	if !regexp.MustCompile(`(?m)^  BadRequestAlarmThreshold:\n    Type: Number\n    Default: 5$`).MatchString(template) {
		t.Error("template.yaml has no BadRequestAlarmThreshold parameter defaulting to 5, as the Terraform module's bad_request_alarm_threshold")
	}
}
