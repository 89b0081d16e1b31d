package webhook

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"sync"
)

var (
	marshalerType = reflect.TypeFor[json.Marshaler]()
	rawType       = reflect.TypeFor[json.RawMessage]()
)

// reencode marshals v (an event without its MarshalJSON) and restores from
// raw every member that v's type has no field for.
func reencode(v any, raw json.RawMessage) ([]byte, error) {
	typed, err := json.Marshal(v)
	if err != nil || len(raw) == 0 {
		return typed, err
	}
	var buf bytes.Buffer
	if err := merge(&buf, typed, raw, reflect.TypeOf(v)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// merge writes typed, with the members of raw that t does not know added
// back, object by object, in raw's order. Array elements merge by index;
// values whose type encodes itself (or is raw JSON) are typed's alone.
func merge(buf *bytes.Buffer, typed, raw []byte, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != rawType && !t.Implements(marshalerType) && !reflect.PointerTo(t).Implements(marshalerType) {
		switch {
		case t.Kind() == reflect.Struct && isKind(typed, '{') && isKind(raw, '{'):
			return mergeObject(buf, typed, raw, jsonFields(t), nil)
		case t.Kind() == reflect.Map && isKind(typed, '{') && isKind(raw, '{'):
			return mergeObject(buf, typed, raw, nil, t.Elem())
		case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && isKind(typed, '[') && isKind(raw, '['):
			return mergeArray(buf, typed, raw, t.Elem())
		}
	}
	buf.Write(typed)
	return nil
}

// mergeObject merges two objects. With fields (a struct), raw's members
// that are not fields are kept; with elem (a map), every key is known and
// shared keys merge as elem.
func mergeObject(buf *bytes.Buffer, typed, raw []byte, fields map[string]reflect.Type, elem reflect.Type) error {
	tm, err := members(typed)
	if err != nil {
		return err
	}
	rm, err := members(raw)
	if err != nil {
		return err
	}
	byKey := make(map[string]json.RawMessage, len(tm))
	for _, m := range tm {
		byKey[m.key] = m.value
	}
	written := make(map[string]bool, len(tm))
	buf.WriteByte('{')
	first := true
	put := func(key string, write func() error) error {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		k, _ := json.Marshal(key)
		buf.Write(k)
		buf.WriteByte(':')
		return write()
	}
	for _, m := range rm {
		ft, known := fields[m.key]
		if elem != nil {
			ft, known = elem, true
		}
		tv, inTyped := byKey[m.key]
		switch {
		case !known:
			err = put(m.key, func() error { buf.Write(m.value); return nil })
		case inTyped:
			written[m.key] = true
			err = put(m.key, func() error { return merge(buf, tv, m.value, ft) })
		}
		if err != nil {
			return err
		}
	}
	for _, m := range tm {
		if !written[m.key] {
			if err := put(m.key, func() error { buf.Write(m.value); return nil }); err != nil {
				return err
			}
		}
	}
	buf.WriteByte('}')
	return nil
}

func mergeArray(buf *bytes.Buffer, typed, raw []byte, elem reflect.Type) error {
	var te, re []json.RawMessage
	if err := json.Unmarshal(typed, &te); err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &re); err != nil {
		return err
	}
	buf.WriteByte('[')
	for i, v := range te {
		if i > 0 {
			buf.WriteByte(',')
		}
		if i < len(re) {
			if err := merge(buf, v, re[i], elem); err != nil {
				return err
			}
			continue
		}
		buf.Write(v)
	}
	buf.WriteByte(']')
	return nil
}

type member struct {
	key   string
	value json.RawMessage
}

// members returns an object's members in order.
func members(b []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, member{key, v})
	}
	return out, nil
}

func isKind(b []byte, c byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == c
}

var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// jsonFields maps the JSON names of t's fields, embedded structs' included,
// to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	fields := make(map[string]reflect.Type)
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(f.Type) {
				fields[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	fieldCache.Store(t, fields)
	return fields
}

// UnknownFields lists the members of the event's raw JSON that its Go type
// has no field for, as dotted paths ("data.metadata.new_field"; "[]" for
// any array element, "*" for any map key), sorted. Log them to learn what
// ElevenLabs started sending before this package types it.
func UnknownFields(ev Event) []string {
	raw := ev.RawJSON()
	if len(raw) == 0 {
		return nil
	}
	if _, ok := ev.(*Unknown); ok {
		return nil // all of it is unknown by definition
	}
	if a, ok := ev.(*PostCallAudio); ok && !a.Data.FullAudio.IsZero() {
		// Walking a 40 MiB string to learn that it is known is a waste:
		// check the body with the audio left out.
		raw = withoutAudio(raw, a.Data.FullAudio.enc)
	}
	seen := map[string]bool{}
	unknownPaths(raw, reflect.TypeOf(ev), "", seen)
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func withoutAudio(raw, enc []byte) []byte {
	i := bytes.Index(raw, enc)
	if i < 0 {
		return raw
	}
	out := make([]byte, 0, len(raw)-len(enc))
	out = append(out, raw[:i]...)
	return append(out, raw[i+len(enc):]...)
}

func unknownPaths(raw []byte, t reflect.Type, prefix string, out map[string]bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawType || t.Kind() == reflect.Interface {
		return
	}
	switch {
	case t.Kind() == reflect.Struct && isKind(raw, '{'):
		if _, isEvent := t.FieldByName("Header"); t.Implements(marshalerType) && !isEvent {
			return // Timestamp, Audio: encode themselves, not a set of fields
		}
		fields := jsonFields(t)
		ms, err := members(raw)
		if err != nil {
			return
		}
		for _, m := range ms {
			ft, ok := fields[m.key]
			if !ok {
				out[prefix+m.key] = true
				continue
			}
			unknownPaths(m.value, ft, prefix+m.key+".", out)
		}
	case t.Kind() == reflect.Map && isKind(raw, '{'):
		ms, err := members(raw)
		if err != nil {
			return
		}
		for _, m := range ms {
			unknownPaths(m.value, t.Elem(), prefix+"*.", out)
		}
	case t.Kind() == reflect.Slice && isKind(raw, '['):
		var elems []json.RawMessage
		if json.Unmarshal(raw, &elems) != nil {
			return
		}
		p := strings.TrimSuffix(prefix, ".") + "[]."
		for _, e := range elems {
			unknownPaths(e, t.Elem(), p, out)
		}
	}
}
