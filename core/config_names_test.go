package core

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// The expressions isTopicPath and isBucketName replace, kept as their
// specification.
var (
	topicPattern  = regexp.MustCompile(`^projects/[^/]+/topics/[^/]+$`)
	bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$`)
)

func TestNameChecksMatchTheirPatterns(t *testing.T) {
	cases := []string{
		"", "a", "ab", "abc", "a.c", ".bc", "ab.", "a-b_c.d", "My-Bucket", "s3://bucket", "gs://b/c",
		"bucket\n", "buc ket", "bücket", strings.Repeat("a", 222), strings.Repeat("a", 223),
		"a" + strings.Repeat("-", 220) + "b", "a" + strings.Repeat("-", 221) + "b",
		"projects/p/topics/t", "projects//topics/t", "projects/p/topics/", "projects/p/topics/t/x",
		"projects/p/x/topics/t", "projects/p/topics/t\n", "projects/p/topicst", "project/p/topics/t",
		"projects/p/topics/topics/t", "projects/\xff/topics/\xfe", "/projects/p/topics/t",
	}
	// And random strings over the characters that matter.
	const alphabet = "abz09._-/A \n"
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		if r.IntN(3) == 0 {
			b.WriteString("projects/")
		}
		for range r.IntN(14) {
			if r.IntN(8) == 0 {
				b.WriteString("/topics/")
			}
			b.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		cases = append(cases, b.String())
	}
	var buckets, topics int
	for _, s := range cases {
		if bucketPattern.MatchString(s) {
			buckets++
		}
		if topicPattern.MatchString(s) {
			topics++
		}
		if got, want := isBucketName(s), bucketPattern.MatchString(s); got != want {
			t.Errorf("isBucketName(%q) = %v, the pattern says %v", s, got, want)
		}
		if got, want := isTopicPath(s), topicPattern.MatchString(s); got != want {
			t.Errorf("isTopicPath(%q) = %v, the pattern says %v", s, got, want)
		}
	}
	// The comparison means something only if both sides accept often.
	if buckets < 100 || topics < 100 {
		t.Errorf("only %d bucket names and %d topic paths among the cases", buckets, topics)
	}
}
