package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
	"github.com/elevenrelay/elevenrelay/local"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConsumeSpool is make consume on the sample events: a line per event,
// the transcript as JSON and the audio as MP3, a repeat skipped.
func TestConsumeSpool(t *testing.T) {
	dir := t.TempDir()
	spool := &local.Spool{Path: filepath.Join(dir, "spool.jsonl")}
	paths, err := filepath.Glob("../../events/bodies/*.json")
	require.NoError(t, err)
	require.Len(t, paths, 4)
	paths = append(paths, paths[0]) // sent twice
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		_, err = spool.Publish(context.Background(), core.NewMessage(b, core.Signature{Timestamp: "1"}, time.Now()))
		require.NoError(t, err)
	}
	out := filepath.Join(dir, "out")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testenv.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"-spool", spool.Path, "-out", out}, &stdout, &stderr) }()
	for i := 0; i < 200 && strings.Count(stdout.String(), "\n") < len(paths); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	require.Equal(t, 0, <-done, stderr.String())

	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	require.Len(t, lines, 5, stdout.String())
	text := stdout.String()
	assert.Contains(t, text, "call_initiation_failure")
	assert.Contains(t, text, "busy (twilio)")
	assert.Contains(t, text, "speech_to_text_transcription")
	assert.Contains(t, text, "repeat")

	conv := "conv_01jxq5a7w3d9hc6y2b4k8m1n3p"
	mp3, err := os.ReadFile(filepath.Join(out, conv+".mp3"))
	require.NoError(t, err)
	assert.Equal(t, "ID3", string(mp3[:3]))
	js, err := os.ReadFile(filepath.Join(out, conv+".json"))
	require.NoError(t, err)
	assert.Contains(t, string(js), `"transcript"`)
}

func TestFileName(t *testing.T) {
	for in, want := range map[string]string{
		"conv_01abc":   "conv_01abc",
		"../../etc/pw": "______etc_pw",
		"":             "no_conversation_id",
	} {
		assert.Equal(t, want, fileName(in), in)
	}
}
