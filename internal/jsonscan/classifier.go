package jsonscan

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Envelope is what a Classifier reads of a webhook body: enough to route
// it.
type Envelope struct {
	// Type is the top-level "type" when it is a string; HasType says so.
	Type    string
	HasType bool
	// Timestamp is "event_timestamp" as sent: the contents of a string or
	// the text of a number or true/false. Empty when absent, null, an
	// object or an array.
	Timestamp string
	// ConversationID is the string "conversation_id" of "data" or of the
	// top level, whichever comes later. Empty when absent.
	ConversationID string
}

// MaxField bounds the stored length of each value the classifier keeps
// (and of the keys it compares): a longer "type", "event_timestamp" or
// "conversation_id" counts as absent, so that the classifier's memory stays
// small whatever the body. Message attributes cannot carry such values
// anyway.
const MaxField = 4 << 10

// Classifier finds "type", "event_timestamp" and "data.conversation_id" in
// a JSON object fed to it in pieces through Write, holding none of the body
// but those values: it is a state machine over the bytes, so a body of tens
// of megabytes (post-call audio) can be classified while it streams to
// storage, e.g. through io.MultiWriter or io.TeeReader. For a body in
// memory, one Write of all of it costs the same as a scanner over the
// slice: the long strings are skipped with a vectorised byte search, piece
// or no piece.
//
// It is lenient: unknown fields are ignored, and it checks JSON grammar only
// as far as it needs to follow the structure (a literal is any run of bytes
// up to a delimiter, string escapes are not checked), so an object that is
// invalid elsewhere ({"type":"t","x":nonsense}) is still classified. On
// valid JSON it agrees with encoding/json; a body that is not an object, or
// whose structure breaks, has no envelope (Envelope reports false).
//
// The zero value is ready to use; Reset makes it ready for the next body.
type Classifier struct {
	st      state
	depth   int                   // open containers
	arrays  [MaxDepth / 64]uint64 // bit d-1 set: container at depth d is an array
	dataObj bool                  // the container at depth 2 is the top-level "data" object
	field   field                 // what the value being read is
	inKey   bool                  // the string being read is a key
	keeping bool                  // the string or literal being read goes into tok
	slashes int                   // parity of backslashes ending the string so far
	tok     []byte                // the key or value being kept, quotes included
	long    bool                  // tok went over MaxField
	typ     string                // last "type" token, quotes included ("": not a string)
	ts      string                // last "event_timestamp" token
	conv    string                // last string "conversation_id" token
}

type state uint8

const (
	stValue      state = iota // a value is next
	stValueOrEnd              // a value or ']' is next (after '[')
	stKey                     // a key is next (after ',' in an object)
	stKeyOrEnd                // a key or '}' is next (after '{')
	stColon                   // ':' is next
	stAfter                   // ',' or the container's end is next
	stString                  // inside a string
	stLiteral                 // inside a number or true/false/null
	stDone                    // the top-level object has ended
	stFail                    // not an object we can read; the rest is ignored
)

// field is the meaning of the value (or key) being read.
type field uint8

const (
	fNone field = iota
	fType
	fTimestamp
	fConv // top-level or data's conversation_id
	fData
)

// Reset forgets everything written, keeping the storage.
func (c *Classifier) Reset() {
	tok := c.tok
	*c = Classifier{tok: tok[:0]}
}

// Write feeds the next piece of the body. It never fails and never keeps p,
// so it can sit beside storage in an io.MultiWriter.
func (c *Classifier) Write(p []byte) (int, error) {
	i := 0
	for i < len(p) && c.st < stDone {
		switch c.st {
		case stString:
			end, carry := closingQuote(p[i:], c.slashes)
			if end < 0 {
				c.keep(p[i:])
				c.slashes = carry
				return len(p), nil
			}
			c.keep(p[i : i+end+1])
			i += end + 1
			c.endString()
			continue
		case stLiteral:
			j := i
			for j < len(p) && !isDelim(p[j]) {
				j++
			}
			c.keep(p[i:j])
			i = j
			if i < len(p) {
				c.endValue(false)
			}
			continue
		}
		b := p[i]
		i++
		if isSpace(b) {
			continue
		}
		switch c.st {
		case stValue, stValueOrEnd:
			if b == ']' && c.st == stValueOrEnd {
				c.close(true)
				continue
			}
			c.value(b)
		case stKey, stKeyOrEnd:
			switch {
			case b == '}' && c.st == stKeyOrEnd:
				c.close(false)
			case b == '"':
				c.inKey = true
				c.startString(c.depth == 1 || (c.depth == 2 && c.dataObj))
			default:
				c.st = stFail
			}
		case stColon:
			if b == ':' {
				c.st = stValue
			} else {
				c.st = stFail
			}
		case stAfter:
			switch {
			case b == ',' && c.inArray():
				c.st = stValue
			case b == ',':
				c.st = stKey
			case b == ']' || b == '}':
				c.close(b == ']')
			default:
				c.st = stFail
			}
		}
	}
	if c.st == stDone {
		for ; i < len(p); i++ {
			if !isSpace(p[i]) {
				c.st = stFail
				break
			}
		}
	}
	return len(p), nil
}

// Envelope reports what the body written so far holds, as if it ended
// there; ok is false unless it is one whole JSON object (give or take the
// leniency above) within MaxDepth.
func (c *Classifier) Envelope() (env Envelope, ok bool) {
	if c.st != stDone {
		return Envelope{}, false
	}
	if c.typ != "" {
		env.Type, env.HasType = unquote(c.typ)
	}
	if c.ts != "" {
		if t, ok := unquote(c.ts); ok {
			env.Timestamp = t
		} else if c.ts[0] != '"' && c.ts != "null" {
			env.Timestamp = c.ts // a number (or true/false), as sent
		}
	}
	if c.conv != "" {
		env.ConversationID, _ = unquote(c.conv)
	}
	return env, true
}

// value starts a value whose first byte is b.
func (c *Classifier) value(b byte) {
	switch b {
	case '"':
		c.startString(c.field != fNone && c.field != fData)
	case '{', '[':
		if c.depth == 0 && b == '[' {
			c.st = stFail // the body must be an object
			return
		}
		switch c.field {
		case fType:
			c.typ = ""
		case fTimestamp:
			c.ts = ""
		}
		c.dataObj = c.field == fData && b == '{' || c.depth >= 2 && c.dataObj
		c.field = fNone
		c.depth++
		if c.depth > MaxDepth {
			c.st = stFail
			return
		}
		d := c.depth - 1
		if b == '[' {
			c.arrays[d/64] |= 1 << (d % 64)
			c.st = stValueOrEnd
		} else {
			c.arrays[d/64] &^= 1 << (d % 64)
			c.st = stKeyOrEnd
		}
	case ',', ':', '}', ']':
		c.st = stFail
	default:
		if c.depth == 0 {
			c.st = stFail // the body must be an object
			return
		}
		c.tok, c.long, c.keeping = append(c.tok[:0], b), false, c.field != fNone && c.field != fData
		c.st = stLiteral
	}
}

func (c *Classifier) inArray() bool {
	d := c.depth - 1
	return c.arrays[d/64]&(1<<(d%64)) != 0
}

// close ends the innermost container, an array if array.
func (c *Classifier) close(array bool) {
	if c.depth == 0 || c.inArray() != array {
		c.st = stFail
		return
	}
	c.depth--
	if c.depth < 2 {
		c.dataObj = false
	}
	if c.depth == 0 {
		c.st = stDone
		return
	}
	c.st = stAfter
}

func (c *Classifier) startString(keep bool) {
	if c.depth == 0 {
		c.st = stFail
		return
	}
	c.st, c.slashes = stString, 0
	c.tok, c.long, c.keeping = c.tok[:0], false, keep
	if keep {
		c.tok = append(c.tok, '"')
	}
}

// keep appends to the token being kept, if one is.
func (c *Classifier) keep(p []byte) {
	if !c.keeping {
		return
	}
	if len(c.tok)+len(p) > MaxField {
		c.long = true
		return
	}
	c.tok = append(c.tok, p...)
}

func (c *Classifier) endString() {
	if c.inKey {
		c.inKey = false
		c.field = fNone
		if c.keeping && !c.long {
			k := c.tok[1 : len(c.tok)-1]
			if bytes.IndexByte(k, '\\') >= 0 {
				s, ok := unquote(string(c.tok))
				if !ok {
					c.st = stFail
					return
				}
				k = []byte(s)
			}
			c.field = keyField(string(k), c.depth)
		}
		c.st = stColon
		return
	}
	c.endValue(true)
}

func keyField(k string, depth int) field {
	if depth == 2 {
		if k == "conversation_id" {
			return fConv
		}
		return fNone
	}
	switch k {
	case "type":
		return fType
	case "event_timestamp":
		return fTimestamp
	case "conversation_id":
		return fConv
	case "data":
		return fData
	}
	return fNone
}

// endValue ends a string (isString) or literal value, storing it if it is
// one the envelope keeps.
func (c *Classifier) endValue(isString bool) {
	c.st = stAfter
	f := c.field
	c.field = fNone
	if f == fNone || f == fData {
		return
	}
	var tok string
	if !c.long {
		tok = string(c.tok)
	}
	switch f {
	case fType:
		c.typ = ""
		if isString {
			c.typ = tok
		}
	case fTimestamp:
		c.ts = tok
	case fConv:
		if isString && tok != "" {
			c.conv = tok
		}
	}
}

// unquote decodes a JSON string token. Strings without escapes (nearly all)
// are sliced without the decoder.
func unquote(tok string) (string, bool) {
	if len(tok) < 2 || tok[0] != '"' {
		return "", false
	}
	inner := tok[1 : len(tok)-1]
	if strings.IndexByte(inner, '\\') < 0 && utf8.ValidString(inner) {
		return inner, true
	}
	var s string
	if err := json.Unmarshal([]byte(tok), &s); err != nil {
		return "", false
	}
	return s, true
}
