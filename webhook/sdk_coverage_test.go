package webhook

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// sdkModels pairs each Go type with the JS SDK serialization schema it
// mirrors. Every wire name of the schema must be a field of the type:
// after an SDK upgrade this test lists the fields to add.
var sdkModels = []struct {
	model  string
	goType reflect.Type
}{
	{"GetConversationResponseModel", reflect.TypeFor[Conversation]()},
	{"ConversationHistoryTranscriptResponseModel", reflect.TypeFor[TranscriptTurn]()},
	{"ConversationHistoryTranscriptToolCallCommonModelOutput", reflect.TypeFor[ToolCall]()},
	{"ConversationHistoryTranscriptResponseModelToolResultsItem", reflect.TypeFor[ToolResult]()},
	{"ConversationHistoryMetadataCommonModel", reflect.TypeFor[ConversationMetadata]()},
	{"ConversationHistoryErrorCommonModel", reflect.TypeFor[ConversationError]()},
	{"ConversationHistoryMetadataCommonModelPhoneCall", reflect.TypeFor[PhoneCall]()},
	{"ConversationDeletionSettings", reflect.TypeFor[DeletionSettings]()},
	{"ConversationHistoryFeedbackCommonModel", reflect.TypeFor[Feedback]()},
	{"ConversationHistoryAnalysisCommonModel", reflect.TypeFor[Analysis]()},
	{"ConversationHistoryEvaluationCriteriaResultCommonModel", reflect.TypeFor[EvaluationResult]()},
	{"DataCollectionResultCommonModel", reflect.TypeFor[DataCollectionResult]()},
	{"ConversationInitiationClientDataRequestOutput", reflect.TypeFor[InitiationClientData]()},
	{"SpeechToTextChunkResponseModel", reflect.TypeFor[Transcription]()},
	{"MultichannelSpeechToTextResponseModel", reflect.TypeFor[Transcription]()},
	{"SpeechToTextWordResponseModel", reflect.TypeFor[Word]()},
}

// sdkDir is where make's npm ci rule installs the pinned SDK.
const sdkDir = "../bench/node"

func TestSDKFieldCoverage(t *testing.T) {
	ci := os.Getenv("CI") == "true"
	missingTool := func(msg string) {
		t.Helper()
		if ci {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missingTool("node is not installed: install Node.js (20 or later) to check the webhook types against the JS SDK")
	}
	if _, err := os.Stat(filepath.Join(sdkDir, "node_modules", "@elevenlabs", "elevenlabs-js", "package.json")); err != nil {
		missingTool("the JS SDK is not installed: make sdk-coverage (or make test) runs npm ci in bench/node")
	}
	script, err := filepath.Abs("testdata/sdkfields.js")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{script}
	for _, m := range sdkModels {
		args = append(args, m.model)
	}
	cmd := exec.Command(node, args...)
	cmd.Dir = sdkDir
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("node: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("node: %v", err)
	}
	var wire map[string][]string
	if err := json.Unmarshal(out, &wire); err != nil {
		t.Fatalf("node printed %q: %v", out, err)
	}
	var report []string
	for _, m := range sdkModels {
		names := wire[m.model]
		if len(names) == 0 {
			report = append(report, m.model+": the SDK has no such schema (renamed?)")
			continue
		}
		fields := jsonFields(m.goType)
		var missing []string
		for _, n := range names {
			if _, ok := fields[n]; !ok {
				missing = append(missing, n)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			report = append(report, m.goType.Name()+" ("+m.model+") lacks: "+strings.Join(missing, ", "))
		}
	}
	if len(report) > 0 {
		t.Fatalf("the JS SDK has wire names the Go types miss:\n%s", strings.Join(report, "\n"))
	}
}
