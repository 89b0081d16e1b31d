package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/elevenrelay/elevenrelay/internal/jsonscan"
)

// UnmarshalJSON decodes a transcript turn with the jsonscan Scanner, as
// Decode does (see decodeTranscription), for callers of json.Unmarshal.
func (t *TranscriptTurn) UnmarshalJSON(b []byte) error {
	d := &scanDecoder{s: jsonscan.NewScanner(b), b: b}
	if d.s.Literal("null") && d.s.End() {
		return nil
	}
	var nt TranscriptTurn
	if !d.turn(&nt) || !d.s.End() {
		return d.error()
	}
	*t = nt
	return nil
}

// turn decodes one transcript turn at the scanner.
func (d *scanDecoder) turn(t *TranscriptTurn) bool {
	return d.s.Object(func(key string) bool {
		var ok bool
		switch key {
		case "role":
			ok = d.s.StringOrNull(&t.Role)
		case "message":
			ok = d.s.StringOrNull(&t.Message)
		case "time_in_call_secs":
			ok = d.number(&t.TimeInCallSecs)
		case "tool_calls":
			ok = d.value(reflect.ValueOf(&t.ToolCalls).Elem())
		case "tool_results":
			ok = d.value(reflect.ValueOf(&t.ToolResults).Elem())
		case "id":
			ok = d.s.StringOrNull(&t.ID)
		case "interrupted":
			ok = d.boolPtr(&t.Interrupted)
		case "original_message":
			ok = d.s.StringOrNull(&t.OriginalMessage)
		case "agent_metadata":
			ok = d.raw(&t.AgentMetadata)
		case "multivoice_message":
			ok = d.raw(&t.MultivoiceMessage)
		case "feedback":
			ok = d.raw(&t.Feedback)
		case "llm_override":
			ok = d.s.StringOrNull(&t.LLMOverride)
		case "producing_llm":
			ok = d.s.StringOrNull(&t.ProducingLLM)
		case "conversation_turn_metrics":
			ok = d.raw(&t.ConversationTurnMetrics)
		case "rag_retrieval_info":
			ok = d.raw(&t.RAGRetrievalInfo)
		case "llm_usage":
			ok = d.raw(&t.LLMUsage)
		case "ignored_as_backchannel":
			ok = d.boolPtr(&t.IgnoredAsBackchannel)
		case "platform_event":
			ok = d.raw(&t.PlatformEvent)
		case "reasoning":
			ok = d.raw(&t.Reasoning)
		case "source_medium":
			ok = d.s.StringOrNull(&t.SourceMedium)
		case "source_event_id":
			ok = d.numberPtr(&t.SourceEventID)
		case "used_static_kb_document_ids":
			ok = d.std(&t.UsedStaticKBDocumentIDs)
		case "user_identifier":
			ok = d.s.StringOrNull(&t.UserIdentifier)
		case "triggered_guardrails":
			ok = d.raw(&t.TriggeredGuardrails)
		case "file_input":
			ok = d.raw(&t.FileInput)
		case "file_inputs":
			ok = d.raw(&t.FileInputs)
		case "contextual_update_info":
			ok = d.raw(&t.ContextualUpdateInfo)
		case "reasoned":
			ok = d.boolPtr(&t.Reasoned)
		default:
			ok = d.s.Skip()
		}
		if !ok && d.bad == "" {
			d.bad = "transcript[]." + key
		}
		return ok
	})
}

// scanDecoder decodes with a jsonscan Scanner over b: strings and bools
// itself, numbers with strconv, and the values it does not know how to
// read by handing their bytes to encoding/json.
type scanDecoder struct {
	s   *jsonscan.Scanner
	b   []byte
	err error
	bad string // the first key whose value did not decode
}

func (d *scanDecoder) error() error {
	switch {
	case d.err != nil:
		return fmt.Errorf("%s: %w", d.bad, d.err)
	case d.bad != "":
		return fmt.Errorf("%s: unexpected JSON type", d.bad)
	}
	return errors.New("not a JSON object")
}

// span returns the next value's bytes.
func (d *scanDecoder) span() ([]byte, bool) {
	d.s.Peek()
	start := len(d.b) - d.s.Remaining()
	if !d.s.Skip() {
		return nil, false
	}
	return d.b[start : len(d.b)-d.s.Remaining()], true
}

// raw keeps a copy of the value (null included, as encoding/json does).
func (d *scanDecoder) raw(into *json.RawMessage) bool {
	v, ok := d.span()
	if ok {
		*into = bytes.Clone(v)
	}
	return ok
}

func (d *scanDecoder) std(into any) bool {
	if d.s.Literal("null") {
		return true // encoding/json leaves a slice as it was
	}
	v, ok := d.span()
	if !ok {
		return false
	}
	d.err = json.Unmarshal(v, into)
	return d.err == nil
}

func (d *scanDecoder) number(into *float64) bool {
	if d.s.Literal("null") {
		return true
	}
	v, ok := d.span()
	if !ok || len(v) == 0 || v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return false
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		d.err = err
		return false
	}
	*into = f
	return true
}

func (d *scanDecoder) numberPtr(into **float64) bool {
	if d.s.Literal("null") {
		return true
	}
	var f float64
	if !d.number(&f) {
		return false
	}
	*into = &f
	return true
}

func (d *scanDecoder) boolPtr(into **bool) bool {
	if d.s.Literal("null") {
		return true
	}
	var v bool
	if !d.s.BoolOrNull(&v) {
		return false
	}
	*into = &v
	return true
}

// decodeTranscription decodes a post_call_transcription body with the
// jsonscan Scanner. A long conversation is thousands of turns, most of the
// body: decoded through encoding/json's reflection they cost about twice
// what the same body costs as map[string]any, decoded here they cost less
// (BenchmarkDecodeTranscript). The small parts (metadata, analysis, …) go
// through encoding/json, so they decode exactly as they would there. Keys
// match exactly, where encoding/json would also take "Message".
func decodeTranscription(body []byte) (*PostCallTranscription, error) {
	d := &scanDecoder{s: jsonscan.NewScanner(body), b: body}
	ev := &PostCallTranscription{}
	ok := d.s.Object(func(key string) bool {
		var ok bool
		switch key {
		case "type":
			ok = d.s.StringOrNull(&ev.Type)
		case "event_timestamp":
			ok = d.std(&ev.EventTimestamp)
		case "data":
			ok = d.s.Literal("null") || d.object(&ev.Data, func(key string) (bool, bool) {
				if key != "transcript" {
					return false, false
				}
				return true, d.transcript(&ev.Data.Transcript)
			})
		default:
			ok = d.s.Skip()
		}
		if !ok && d.bad == "" {
			d.bad = key
		}
		return ok
	})
	if !ok || !d.s.End() {
		return nil, fmt.Errorf("%w: %s: %w", ErrDecode, TypePostCallTranscription, d.error())
	}
	ev.Raw = body
	return ev, nil
}

// transcript decodes the turns into a slice of the right length, counted
// first with a cheap skip.
func (d *scanDecoder) transcript(into *[]TranscriptTurn) bool {
	if d.s.Literal("null") {
		return true
	}
	d.s.Peek()
	count := jsonscan.NewScanner(d.b[len(d.b)-d.s.Remaining():])
	n := 0
	count.Array(func() bool { n++; return count.Skip() })
	turns := make([]TranscriptTurn, 0, n)
	ok := d.s.Array(func() bool {
		turns = append(turns, TranscriptTurn{})
		return d.turn(&turns[len(turns)-1])
	})
	*into = turns
	return ok
}

// object decodes a JSON object into the struct v points to: custom gets
// each key first (handled reports that it took the value), the other
// fields go through encoding/json, unknown keys are skipped.
func (d *scanDecoder) object(v any, custom func(key string) (handled, ok bool)) bool {
	rv := reflect.ValueOf(v).Elem()
	idx := fieldIndex(rv.Type())
	return d.s.Object(func(key string) bool {
		if handled, ok := custom(key); handled {
			return ok
		}
		i, known := idx[key]
		if !known {
			return d.s.Skip()
		}
		if !d.value(rv.FieldByIndex(i)) {
			if d.bad == "" {
				d.bad = key
			}
			return false
		}
		return true
	})
}

var indexCache sync.Map // reflect.Type → map[string][]int

// fieldIndex maps the JSON names of t's fields to their indexes.
func fieldIndex(t reflect.Type) map[string][]int {
	if f, ok := indexCache.Load(t); ok {
		return f.(map[string][]int)
	}
	idx := map[string][]int{}
	for _, f := range reflect.VisibleFields(t) {
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if tag == "-" || !f.IsExported() || f.Anonymous {
			continue
		}
		if name == "" {
			name = f.Name
		}
		idx[name] = f.Index
	}
	indexCache.Store(t, idx)
	return idx
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	turnType        = reflect.TypeFor[TranscriptTurn]()
	stringType      = reflect.TypeFor[string]()
	boolType        = reflect.TypeFor[bool]()
	float64Type     = reflect.TypeFor[float64]()
)

// value decodes the next value into v (addressable): strings, bools and
// float64s, pointers to them, slices and structs of them by the Scanner;
// anything else (integers, maps, raw JSON, types that decode themselves)
// through encoding/json.
func (d *scanDecoder) value(v reflect.Value) bool {
	t := v.Type()
	switch {
	case t == turnType:
		return d.turn(v.Addr().Interface().(*TranscriptTurn))
	case t == stringType:
		return d.s.StringOrNull(v.Addr().Interface().(*string))
	case t == boolType:
		return d.s.BoolOrNull(v.Addr().Interface().(*bool))
	case t == float64Type:
		return d.number(v.Addr().Interface().(*float64))
	case reflect.PointerTo(t).Implements(unmarshalerType):
		return d.std(v.Addr().Interface())
	case t.Kind() == reflect.Pointer:
		if d.s.Literal("null") {
			v.SetZero()
			return true
		}
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		return d.value(v.Elem())
	case t.Kind() == reflect.Slice:
		if d.s.Literal("null") {
			return true // encoding/json leaves a slice as it was
		}
		v.SetLen(0)
		return d.s.Array(func() bool {
			v.Grow(1)
			v.SetLen(v.Len() + 1)
			return d.value(v.Index(v.Len() - 1))
		})
	case t.Kind() == reflect.Struct:
		if d.s.Literal("null") {
			return true
		}
		return d.object(v.Addr().Interface(), func(string) (bool, bool) { return false, false })
	}
	return d.std(v.Addr().Interface())
}
