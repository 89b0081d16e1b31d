package jsonscan_test

import (
	"fmt"
	"io"
	"strings"

	"github.com/elevenrelay/elevenrelay/internal/jsonscan"
)

// A body streamed to storage is classified on the way, without being held:
// here io.Discard stands for the object store's writer.
func ExampleClassifier() {
	body := strings.NewReader(`{"type":"post_call_audio","event_timestamp":1763859605,` +
		`"data":{"conversation_id":"conv_1","full_audio":"` + strings.Repeat("QUFB", 1<<16) + `"}}`)
	var c jsonscan.Classifier
	if _, err := io.Copy(io.MultiWriter(io.Discard, &c), body); err != nil {
		panic(err)
	}
	env, ok := c.Envelope()
	fmt.Println(ok, env.Type, env.Timestamp, env.ConversationID)
	// Output: true post_call_audio 1763859605 conv_1
}
