package jsonscan

import (
	"strings"
	"testing"
)

func TestScannerSkip(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
		rest     int // bytes left after the value
	}{
		{"string with escaped quotes", `"a\"b\\" ,`, true, 2},
		{"nested", `{"a":[1,{"b":"]"}],"c":null}x`, true, 1},
		{"literal", `-1.5e3}`, true, 1},
		{"unterminated string", `"a\"`, false, 0},
		{"stray close", `]`, false, 0},
		{"comma at top", `,`, false, 0},
		{"within the limit", strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), true, 0},
		{"beyond the limit", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewScanner([]byte(tc.in))
			ok := s.Skip()
			if ok != tc.ok || (ok && s.Remaining() != tc.rest) {
				t.Fatalf("Skip = %v with %d left, want %v with %d", ok, s.Remaining(), tc.ok, tc.rest)
			}
		})
	}
}

func TestScannerString(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"plain", `"abc"`, "abc", true},
		{"escapes", `"\"\\\/\b\f\n\r\t\u0041"`, "\"\\/\b\f\n\r\tA", true},
		{"surrogate pair", `"\ud83d\ude00"`, "😀", true},
		{"lone surrogate", `"\ud800x"`, "\uFFFDx", true},
		{"bad escape", `"\x"`, "", false},
		{"unterminated", `"abc`, "", false},
		{"not a string", `12`, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := NewScanner([]byte(tc.in)).String()
			if ok != tc.ok || (ok && got != tc.want) {
				t.Fatalf("String = %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestClosingQuote(t *testing.T) {
	tests := []struct {
		p              string
		slashes        int
		end, carryWant int
	}{
		{`ab"`, 0, 2, 0},
		{`a\"b"`, 0, 4, 0},
		{`"`, 1, -1, 0}, // escaped by a backslash at the end of the piece before
		{`\\"`, 1, -1, 0},
		{`\\"`, 0, 2, 0},
		{`abc\`, 0, -1, 1},
		{`\`, 1, -1, 0},
	}
	for _, tc := range tests {
		end, carry := closingQuote([]byte(tc.p), tc.slashes)
		if end != tc.end || (end < 0 && carry != tc.carryWant) {
			t.Errorf("closingQuote(%q, %d) = %d, %d; want %d, %d", tc.p, tc.slashes, end, carry, tc.end, tc.carryWant)
		}
	}
}
