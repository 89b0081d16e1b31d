package core

import (
	"bytes"
)

// eventStream is ParseEvent for a body that arrives in pieces: post-call
// audio read from object storage is tens of megabytes, and only the few
// short values that ParseEvent keeps are held. Fed the same bytes, in any
// split, it finds the same event as ParseEvent, except that a kept value
// longer than maxTokenBytes is not kept: it would be dropped from the
// message's attributes anyway (see attrValue), so the messages built from
// the two are the same. The grammar it accepts is ParseEvent's, lenient in
// exactly the same places; TestEventStreamMatchesParseEvent holds them to it.
type eventStream struct {
	st    streamState
	level uint8 // 0: the top-level object, 1: inside "data"
	// member is what the value being read is to the classifier.
	member memberKind
	// str is what the string being read is (key, kept value, skipped).
	str strKind
	// esc: the string's bytes so far end in an odd run of backslashes, so
	// the next byte is escaped.
	esc bool
	// depth counts open brackets inside a skipped object or array.
	depth int

	tok  []byte // the key or kept value being read, quotes included
	over bool   // tok outgrew maxTokenBytes
	key  keyCheck

	typ, ts, conv keptValue
	failed        bool
}

// maxTokenBytes bounds a key or kept value held while streaming. A string
// whose token is longer decodes to more than maxAttrValue bytes (an escape
// is at most six bytes for one character), so it cannot become an
// attribute.
const maxTokenBytes = 6*maxAttrValue + 2

type streamState uint8

const (
	sTopStart   streamState = iota // before the top-level '{'
	sObjFirst                      // after '{': a key or '}'
	sObjKey                        // after ',': a key
	sString                        // inside a string (of kind str)
	sColon                         // after a key
	sValue                         // after ':'
	sBare                          // inside a number, true, false, null or nonsense
	sContainer                     // inside a skipped object or array
	sAfterValue                    // after a member's value: ',' or '}'
	sEnd                           // after the top-level object: white space only
)

type memberKind uint8

const (
	mSkip memberKind = iota
	mType
	mTimestamp
	mConversation
	mData
)

type strKind uint8

const (
	strKey strKind = iota
	strKept
	strSkip
	strInContainer
)

// keptValue is the last token seen for a kept member.
type keptValue struct {
	tok  []byte // nil: absent, or an object or array
	str  bool   // tok is a string token
	over bool   // longer than maxTokenBytes, so not kept
}

// keyCheck follows a key that outgrows maxTokenBytes: such a key cannot be
// one of the names, but ParseEvent still refuses it if it has an escape and
// is not a valid JSON string.
type keyCheck struct {
	backslash bool
	bad       bool
	inEsc     bool
	hex       int // hex digits still due after \u
}

func (k *keyCheck) feed(p []byte) {
	for _, c := range p {
		switch {
		case k.hex > 0:
			if !isHex(c) {
				k.bad = true
			}
			k.hex--
		case k.inEsc:
			k.inEsc = false
			switch c {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				k.hex = 4
			default:
				k.bad = true
			}
		case c == '\\':
			k.backslash, k.inEsc = true, true
		case c < 0x20:
			k.bad = true
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// Write feeds the next piece of the body. It never fails.
func (e *eventStream) Write(p []byte) (int, error) {
	for i := 0; i < len(p) && !e.failed; {
		i = e.step(p, i)
	}
	return len(p), nil
}

// step consumes p from i on, at least one byte, and returns where it stopped.
func (e *eventStream) step(p []byte, i int) int {
	c := p[i]
	switch e.st {
	case sTopStart, sEnd:
		switch {
		case isSpace(c):
		case e.st == sTopStart && c == '{':
			e.st = sObjFirst
		default:
			e.failed = true
		}
		return i + 1
	case sObjFirst, sObjKey:
		switch {
		case isSpace(c):
		case c == '}' && e.st == sObjFirst:
			e.closeObject()
		case c == '"':
			e.startString(strKey)
			e.key = keyCheck{}
		default:
			e.failed = true
		}
		return i + 1
	case sString:
		return e.stringBytes(p, i)
	case sColon:
		switch {
		case isSpace(c):
		case c == ':':
			e.st = sValue
		default:
			e.failed = true
		}
		return i + 1
	case sValue:
		if isSpace(c) {
			return i + 1
		}
		return e.value(c, i)
	case sBare:
		j := i
		for j < len(p) && !isDelimiter(p[j]) {
			j++
		}
		e.capture(p[i:j])
		if j < len(p) {
			e.endBare()
		}
		return j
	case sContainer:
		for j := i; j < len(p); j++ {
			switch p[j] {
			case '"':
				e.startString(strInContainer)
				return j + 1
			case '{', '[':
				e.depth++
				if e.depth > maxEnvelopeDepth {
					e.failed = true
					return j + 1
				}
			case '}', ']':
				e.depth--
				if e.depth == 0 {
					e.st = sAfterValue
					return j + 1
				}
			}
		}
		return len(p)
	case sAfterValue:
		switch {
		case isSpace(c):
		case c == ',':
			e.st = sObjKey
		case c == '}':
			e.closeObject()
		default:
			e.failed = true
		}
		return i + 1
	}
	e.failed = true
	return len(p)
}

// value starts a member's value at its first byte c (at i).
func (e *eventStream) value(c byte, i int) int {
	kept := e.member == mType || e.member == mTimestamp || e.member == mConversation
	switch {
	case e.member == mData && c == '{':
		e.level = 1
		e.st = sObjFirst
	case c == '"':
		if kept {
			e.startString(strKept)
		} else {
			e.startString(strSkip)
		}
	case c == '{' || c == '[':
		// ParseEvent's scalar skips a nested value and keeps nothing: the
		// type and the timestamp are then absent, a conversation id is
		// left as it was.
		switch e.member {
		case mType:
			e.typ = keptValue{}
		case mTimestamp:
			e.ts = keptValue{}
		}
		e.depth = 1
		e.st = sContainer
	case isDelimiter(c):
		e.failed = true // an empty scalar
	default:
		e.tok, e.over = e.tok[:0], false
		e.st = sBare
		return i // sBare captures from c on
	}
	return i + 1
}

// isDelimiter ends a scalar that is not a string, as ParseEvent's scanner has it.
func isDelimiter(c byte) bool {
	return c == ',' || c == '}' || c == ']' || isSpace(c)
}

func (e *eventStream) startString(k strKind) {
	e.st, e.str, e.esc = sString, k, false
	e.tok, e.over = append(e.tok[:0], '"'), false
}

// stringBytes consumes a string's bytes from i up to and including its
// closing quote, or to the end of p. Contents are not looked at, only
// searched for the closing quote, so megabytes of base64 pass at the speed
// of a byte search.
func (e *eventStream) stringBytes(p []byte, i int) int {
	for from := i; ; {
		k := bytes.IndexByte(p[from:], '"')
		if k < 0 {
			e.stringPart(p[i:])
			n := trailingBackslashes(p, i, len(p))
			if n == len(p)-i {
				e.esc = e.esc != (n%2 == 1)
			} else {
				e.esc = n%2 == 1
			}
			return len(p)
		}
		j := from + k
		n := trailingBackslashes(p, i, j)
		escaped := n%2 == 1
		if n == j-i {
			escaped = escaped != e.esc
		}
		if escaped {
			from = j + 1
			continue
		}
		e.stringPart(p[i:j])
		e.capture([]byte{'"'})
		e.endString()
		return j + 1
	}
}

// trailingBackslashes counts the backslashes just before p[end], not
// looking before p[start].
func trailingBackslashes(p []byte, start, end int) int {
	n := 0
	for k := end - 1; k >= start && p[k] == '\\'; k-- {
		n++
	}
	return n
}

// stringPart takes in a piece of the current string's contents.
func (e *eventStream) stringPart(part []byte) {
	switch e.str {
	case strKey:
		e.key.feed(part)
		e.capture(part)
	case strKept:
		e.capture(part)
	}
}

// capture appends to the token being kept, until it is too long to matter.
func (e *eventStream) capture(b []byte) {
	if e.over {
		return
	}
	if len(e.tok)+len(b) > maxTokenBytes {
		e.over = true
		return
	}
	e.tok = append(e.tok, b...)
}

func (e *eventStream) endString() {
	switch e.str {
	case strKey:
		e.endKey()
	case strKept:
		e.keep(true)
		e.st = sAfterValue
	case strSkip:
		e.st = sAfterValue
	case strInContainer:
		e.st = sContainer
	}
}

func (e *eventStream) endBare() {
	if e.member == mType || e.member == mTimestamp {
		e.keep(false)
	}
	e.st = sAfterValue
}

// keep records the token just read for the current member, as ParseEvent
// does: a later occurrence wins; a conversation id only if it is a string.
func (e *eventStream) keep(isString bool) {
	v := keptValue{str: isString, over: e.over}
	if !e.over {
		v.tok = append([]byte(nil), e.tok...)
	}
	switch e.member {
	case mType:
		e.typ = v
	case mTimestamp:
		e.ts = v
	case mConversation:
		if isString {
			e.conv = v
		}
	}
}

// endKey decides what the value after the key is to the classifier.
func (e *eventStream) endKey() {
	e.st = sColon
	e.member = mSkip
	if e.over {
		// Too long to be a name; refused as ParseEvent refuses it if it
		// has escapes that are not valid JSON.
		if e.key.backslash && (e.key.bad || e.key.inEsc || e.key.hex > 0) {
			e.failed = true
		}
		return
	}
	key := e.tok[1 : len(e.tok)-1]
	if bytes.IndexByte(key, '\\') >= 0 {
		k, ok := unquote(e.tok)
		if !ok {
			e.failed = true
			return
		}
		key = []byte(k)
	}
	switch string(key) {
	case "type":
		if e.level == 0 {
			e.member = mType
		}
	case "event_timestamp":
		if e.level == 0 {
			e.member = mTimestamp
		}
	case "conversation_id":
		e.member = mConversation
	case "data":
		if e.level == 0 {
			e.member = mData
		}
	}
}

func (e *eventStream) closeObject() {
	if e.level == 1 {
		e.level = 0
		e.member = mSkip
		e.st = sAfterValue
		return
	}
	e.st = sEnd
}

// Event is what ParseEvent would have found in all the bytes written, with
// any kept value too long for an attribute left out (the type then
// UnknownEventType).
func (e *eventStream) Event() Event {
	ev := Event{Type: UnknownEventType}
	if e.failed || e.st != sEnd {
		return ev
	}
	if e.typ.str && !e.typ.over {
		if t, ok := unquote(e.typ.tok); ok {
			ev.Type = t
		}
	}
	if e.ts.tok != nil {
		if t, ok := unquote(e.ts.tok); ok {
			ev.Timestamp = t
		} else if !bytes.ContainsAny(e.ts.tok, `"{[`) && string(e.ts.tok) != "null" {
			ev.Timestamp = string(e.ts.tok)
		}
	}
	if e.conv.tok != nil {
		if c, ok := unquote(e.conv.tok); ok {
			ev.ConversationID = c
		}
	}
	return ev
}
