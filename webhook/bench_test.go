package webhook

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// transcriptBody is a post_call_transcription body of about size bytes:
// the full sample with its transcript repeated.
func transcriptBody(tb testing.TB, size int) []byte {
	raw, err := os.ReadFile("testdata/post_call_transcription_full.json")
	require.NoError(tb, err)
	var doc map[string]any
	require.NoError(tb, json.Unmarshal(raw, &doc))
	data := doc["data"].(map[string]any)
	turns := data["transcript"].([]any)
	var all []any
	for i := 0; ; i++ {
		all = append(all, turns[i%len(turns)])
		if i%64 == 0 {
			data["transcript"] = all
			b, _ := json.Marshal(doc)
			if len(b) >= size {
				return b
			}
		}
	}
}

const audioSize = 30 << 20 // decoded; the body is 40 MiB of base64

// audioFile writes a post_call_audio body with size bytes of audio
// (audioSize: 40 MiB of base64) and returns its path.
func audioFile(tb testing.TB, size int) string {
	p := filepath.Join(tb.TempDir(), "audio.json")
	f, err := os.Create(p)
	require.NoError(tb, err)
	_, err = io.WriteString(f, `{"type":"post_call_audio","event_timestamp":1700000000,"data":{"agent_id":"ag","conversation_id":"conv_big","full_audio":"`)
	require.NoError(tb, err)
	enc := base64.NewEncoder(base64.StdEncoding, f)
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	for n := 0; n < size; n += len(chunk) {
		_, err = enc.Write(chunk)
		require.NoError(tb, err)
	}
	require.NoError(tb, enc.Close())
	_, err = io.WriteString(f, `"}}`)
	require.NoError(tb, err)
	require.NoError(tb, f.Close())
	return p
}

// BenchmarkDecodeTranscript and BenchmarkDecodeTranscriptMap compare Decode
// of a 1 MiB transcript with encoding/json into map[string]any, the
// untyped baseline; Decode must not be slower.
func BenchmarkDecodeTranscript(b *testing.B) {
	body := transcriptBody(b, 1<<20)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeTranscriptMap(b *testing.B) {
	body := transcriptBody(b, 1<<20)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAudioToFile streams a 40 MiB post_call_audio body from a file
// into an MP3 file. B/op is all it allocates (an upper bound on the extra
// memory it holds): it must stay under a quarter of the body. The
// "extra-heap-B" metric is the peak heap growth seen around one run.
func BenchmarkAudioToFile(b *testing.B) {
	src := audioFile(b, audioSize)
	dst := filepath.Join(b.TempDir(), "out.mp3")
	fi, err := os.Stat(src)
	require.NoError(b, err)
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	for b.Loop() {
		in, err := os.Open(src)
		require.NoError(b, err)
		out, err := os.Create(dst)
		require.NoError(b, err)
		if _, _, err := DecodePostCallAudio(in, out); err != nil {
			b.Fatal(err)
		}
		in.Close()
		require.NoError(b, out.Close())
	}
}

// BenchmarkAudioBodyToFile is the Router's path: the body is in memory (as
// core.Resolve returns it) and Decode plus WriteTo must add little to it.
func BenchmarkAudioBodyToFile(b *testing.B) {
	body, err := os.ReadFile(audioFile(b, audioSize))
	require.NoError(b, err)
	dst := filepath.Join(b.TempDir(), "out.mp3")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		ev, err := Decode(body)
		require.NoError(b, err)
		out, err := os.Create(dst)
		require.NoError(b, err)
		if _, err := ev.(*PostCallAudio).Data.FullAudio.WriteTo(out); err != nil {
			b.Fatal(err)
		}
		require.NoError(b, out.Close())
	}
}

// TestAudioMemoryBound checks the bound the benchmarks report, once: both
// audio paths allocate less than a quarter of the 40 MiB body. (Bytes
// allocated, not time: the figure does not depend on the machine's load.)
// Under the race detector the body is smaller, the ratio the same.
func TestAudioMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 70 MiB of files")
	}
	size := audioSize
	if raceEnabled {
		size = 6 << 20 // the bound is a ratio; the allocations do not grow with the body
	}
	src := audioFile(t, size)
	body, err := os.ReadFile(src)
	require.NoError(t, err)
	limit := uint64(len(body) / 4)
	dst := filepath.Join(t.TempDir(), "out.mp3")

	measure := func(run func()) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		run()
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	streamed := measure(func() {
		in, err := os.Open(src)
		require.NoError(t, err)
		defer in.Close()
		out, err := os.Create(dst)
		require.NoError(t, err)
		_, n, err := DecodePostCallAudio(in, out)
		require.NoError(t, err)
		require.Equal(t, int64(size), n)
		require.NoError(t, out.Close())
	})
	inMemory := measure(func() {
		ev, err := Decode(body)
		require.NoError(t, err)
		out, err := os.Create(dst)
		require.NoError(t, err)
		n, err := ev.(*PostCallAudio).Data.FullAudio.WriteTo(out)
		require.NoError(t, err)
		require.Equal(t, int64(size), n)
		require.NoError(t, out.Close())
	})
	t.Logf("body %d B; allocated: streamed %d B, from memory %d B", len(body), streamed, inMemory)
	require.Less(t, streamed, limit)
	require.Less(t, inMemory, limit)
}
