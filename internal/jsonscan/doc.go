// Package jsonscan walks JSON without building values, for the two places
// that read a few fields out of bodies of megabytes: the classifier of
// webhook bodies (type, event_timestamp, data.conversation_id) and the Lambda
// adapter's decoder of API Gateway and Function URL events.
//
// Both skip the long string (base64 audio, or the event's body) with a
// vectorised byte search instead of decoding it, share one rule for where a
// string ends (a quote after an even number of backslashes), one set of
// delimiters and one nesting limit, MaxDepth.
//
// Why hand-written rather than a library: measured on post-call audio
// (busy 2-CPU machine, medians of 6 runs), the libraries cost many times
// more. Classifying a 1 MiB body: this package ~0.11 ms;
// github.com/go-json-experiment/json v1.27.2 Unmarshal 4.5 ms, its jsontext
// Decoder 6.4 ms; encoding/json/v2 18 ms. Decoding a Lambda event around a
// 1 MiB body (text / base64): this package ~0.9 / 1.1 ms;
// go-json-experiment 27 / 7.0 ms; encoding/json/v2 30 / 26 ms;
// encoding/json 60 / 66 ms (it stays as the fallback). At 6 MiB the ratios
// are alike. encoding/json/jsontext and v2 also still need GOEXPERIMENT=jsonv2
// in Go 1.26, which the Cloud Functions buildpack does not set. The full
// table is in docs/performance.md, "JSON scanning".
package jsonscan

import "bytes"

// MaxDepth bounds how deeply arrays and objects may nest. Deeper input is
// refused (classified as unknown, or left to encoding/json by the Lambda
// decoder) rather than walked: nesting is counted, never recursed, so this
// is a bound on work spent on hostile input, not on the stack.
const MaxDepth = 256

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// isDelim reports whether c ends a number or a literal (true, false, null).
func isDelim(c byte) bool {
	switch c {
	case ',', ':', '{', '}', '[', ']', '"', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// closingQuote finds the quote that ends a string whose contents continue
// in p, given slashes, the number of backslashes that ended the contents
// seen before p (only its parity matters). A quote after an odd number of
// backslashes is escaped. It returns the quote's index, or -1 and the
// backslash count to carry into the next piece of the string.
func closingQuote(p []byte, slashes int) (end, carry int) {
	i := 0
	for {
		q := bytes.IndexByte(p[i:], '"')
		if q < 0 {
			n := 0
			for k := len(p) - 1; k >= i && p[k] == '\\'; k-- {
				n++
			}
			if n == len(p)-i {
				n += slashes
			}
			return -1, n & 1
		}
		j := i + q
		n := 0
		k := j - 1
		for ; k >= i && p[k] == '\\'; k-- {
			n++
		}
		if k < i {
			n += slashes
		}
		if n&1 == 0 {
			return j, 0
		}
		i, slashes = j+1, 0
	}
}
