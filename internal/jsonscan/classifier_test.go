package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

// classify feeds body in pieces of the given sizes (cycled; whole if none).
func classify(body []byte, pieces ...int) (Envelope, bool) {
	var c Classifier
	if len(pieces) == 0 {
		c.Write(body)
		return c.Envelope()
	}
	for i, k := 0, 0; i < len(body); k++ {
		n := min(pieces[k%len(pieces)], len(body)-i)
		c.Write(body[i : i+n])
		i += n
	}
	return c.Envelope()
}

func TestClassifier(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Envelope
		ok   bool
	}{
		{"all three", `{"type":"t","event_timestamp":17,"data":{"conversation_id":"c"}}`, Envelope{"t", true, "17", "c"}, true},
		{"escapes split anywhere", `{"t\u0079pe":"a\\\"b\\\\","data":{"x":"\\\\\"}","conversation_id":"c\u00e9"}}`, Envelope{`a\"b\\`, true, "", "cé"}, true},
		{"string timestamp", `{"event_timestamp":"2025-01-01T00:00:00Z"}`, Envelope{"", false, "2025-01-01T00:00:00Z", ""}, true},
		{"null timestamp", `{"event_timestamp":null}`, Envelope{}, true},
		{"object timestamp", `{"event_timestamp":{"a":1}}`, Envelope{}, true},
		{"nested conversation_id ignored", `{"data":{"x":{"conversation_id":"no"}},"y":{"conversation_id":"no"}}`, Envelope{}, true},
		{"data not an object", `{"data":["conversation_id","no"],"conversation_id":"top"}`, Envelope{"", false, "", "top"}, true},
		{"later type object wins", `{"type":"a","type":{}}`, Envelope{}, true},
		{"non-string conversation_id keeps the earlier", `{"conversation_id":"a","data":{"conversation_id":1}}`, Envelope{"", false, "", "a"}, true},
		{"lenient elsewhere", `{"type":"t","x":nonsense}`, Envelope{"t", true, "", ""}, true},
		{"trailing space", "{\"type\":\"t\"} \n", Envelope{"t", true, "", ""}, true},
		{"trailing garbage", `{"type":"t"}x`, Envelope{}, false},
		{"array", `[{"type":"t"}]`, Envelope{}, false},
		{"mismatched close", `{"x":[}`, Envelope{}, false},
		{"missing colon", `{"type" "t"}`, Envelope{}, false},
		{"truncated", `{"type":"t"`, Envelope{}, false},
		{"too deep", `{"x":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`, Envelope{}, false},
		{"deep enough", `{"type":"t","x":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`, Envelope{"t", true, "", ""}, true},
		{"long type absent", `{"type":"` + strings.Repeat("a", MaxField) + `"}`, Envelope{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, pieces := range [][]int{nil, {1}, {2, 3}, {7}} {
				got, ok := classify([]byte(tc.body), pieces...)
				if got != tc.want || ok != tc.ok {
					t.Fatalf("pieces %v: got %+v %v, want %+v %v", pieces, got, ok, tc.want, tc.ok)
				}
			}
		})
	}
}

// FuzzClassifier: any split of a body gives what one Write gives, and on
// every object encoding/json accepts, the envelope is what encoding/json
// reads.
func FuzzClassifier(f *testing.F) {
	for _, s := range []string{`{"type":"a","event_timestamp":1,"data":{"conversation_id":"c"}}`, `{"type":"a\"b\\","data":{"x":[1,{"y":"\\\""}]}}`, `[1]`, `{"type":1}`, `{"a":"\\"}`} {
		f.Add([]byte(s), uint8(3), uint8(5))
	}
	f.Fuzz(func(t *testing.T, body []byte, p1, p2 uint8) {
		whole, wholeOK := classify(body)
		split, splitOK := classify(body, int(p1)+1, int(p2)+1)
		if whole != split || wholeOK != splitOK {
			t.Fatalf("split %d,%d: %+v %v, whole: %+v %v", p1, p2, split, splitOK, whole, wholeOK)
		}
		var ref map[string]any
		if json.Unmarshal(body, &ref) != nil || len(body) > MaxField {
			return // lenient beyond JSON; long values are left out by design
		}
		if !wholeOK {
			t.Fatalf("encoding/json reads %q, the classifier does not", body)
		}
		typ, hasType := ref["type"].(string)
		topConv, top := ref["conversation_id"].(string)
		conv := topConv
		data, _ := ref["data"].(map[string]any)
		dataConv, inData := data["conversation_id"].(string)
		if inData {
			conv = dataConv
		}
		if whole.Type != typ || whole.HasType != hasType {
			t.Fatalf("type %q %v, encoding/json %q %v (body %q)", whole.Type, whole.HasType, typ, hasType, body)
		}
		if s, ok := ref["event_timestamp"].(string); ok && whole.Timestamp != s {
			t.Fatalf("timestamp %q, encoding/json %q (body %q)", whole.Timestamp, s, body)
		}
		// With both, the later in the body wins, which a map cannot say.
		if !(top && inData) && whole.ConversationID != conv {
			t.Fatalf("conversation_id %q, encoding/json %q (body %q)", whole.ConversationID, conv, body)
		}
	})
}
