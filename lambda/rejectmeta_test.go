package lambda

import (
	"strings"
	"testing"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/stretchr/testify/assert"
)

func metadataSize(m map[string]string) int {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	return n
}

// TestRejectedMetadataFitsS3: the rejected copy's metadata stays within S3's
// 2 KB however long the stored signature header was, so an attacker cannot
// make the move to rejected/ fail for ever.
func TestRejectedMetadataFitsS3(t *testing.T) {
	tests := []struct {
		name    string
		sig     string
		keepSig bool
	}{
		{"ordinary header", "t=1700000000,v0=" + strings.Repeat("a", 64), true},
		{"header that fits the stored object but not the copy", strings.Repeat("v", maxUserMetadata-len(metaSignature)-len(metaReceivedAt)-13-10), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			meta := map[string]string{metaSignature: tt.sig, metaReceivedAt: "1700000000000"}
			assert.LessOrEqual(t, metadataSize(meta), maxUserMetadata, "the stored object must have fitted")
			got := rejectedMetadata(meta, core.ErrSignatureMismatch)
			assert.LessOrEqual(t, metadataSize(got), maxUserMetadata)
			assert.Equal(t, "1700000000000", got[metaReceivedAt])
			assert.Contains(t, got[metaRejection], core.ErrSignatureMismatch.Error())
			_, kept := got[metaSignature]
			assert.Equal(t, tt.keepSig, kept)
		})
	}
}
