// Command consume is the other side of the queue, as a program to copy: it
// reads the verified webhooks the local receiver spooled, dispatches each
// through a webhook.Router and prints one line per event. Transcripts are
// written as <conversation_id>.json and call audio as <conversation_id>.mp3
// under -out.
//
//	make run     # the receiver
//	make send    # a signed event
//	make consume # this: tails .local/spool.jsonl
//
// The Router that newRouter builds is the part to keep: on AWS hand it to
// lambda/consume.NewSQSHandler, on GCP to gcf/consume.Pull or
// gcf/consume.NewPushHandler, and the same handlers run there.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/local"
	"github.com/elevenrelay/elevenrelay/webhook"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("consume", flag.ContinueOnError)
	fs.SetOutput(stderr)
	spool := fs.String("spool", envOr("SPOOL_FILE", local.DefaultSpoolPath), "spool file to follow")
	out := fs.String("out", ".local/consumed", "directory for transcripts (.json) and audio (.mp3)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(stderr, "consume:", err)
		return 1
	}
	router := newRouter(*out, stdout)
	router.Seen = &webhook.MemorySeen{} // the spool holds each body once, but a resent event is a second line
	fmt.Fprintf(stderr, "consume: following %s, writing to %s (Ctrl-C stops)\n", *spool, *out)
	err := local.Tail(ctx, *spool, func(l local.SpoolLine, err error) {
		if err != nil {
			fmt.Fprintf(stdout, "skip     %v\n", err)
			return
		}
		dup, err := router.DispatchOnce(ctx, l.Attributes[core.AttrContentSHA256], l.RawBody())
		switch {
		case err != nil:
			fmt.Fprintf(stdout, "error    %s %s: %v\n", l.Attributes[core.AttrEventType], l.MessageID, err)
		case dup:
			fmt.Fprintf(stdout, "repeat   %s %s (content_sha256 seen before)\n", l.Attributes[core.AttrEventType], l.MessageID)
		}
	})
	if err != nil {
		fmt.Fprintln(stderr, "consume:", err)
		return 1
	}
	return 0
}

// newRouter handles each event type; w gets one line per event.
func newRouter(dir string, w io.Writer) *webhook.Router {
	return &webhook.Router{
		PostCallTranscription: func(_ context.Context, ev *webhook.PostCallTranscription) error {
			d := ev.Data
			path := filepath.Join(dir, fileName(d.ConversationID)+".json")
			b, err := json.MarshalIndent(ev, "", "  ")
			if err != nil {
				return err
			}
			if err := writeFile(path, func(f io.Writer) error { _, err := f.Write(b); return err }); err != nil {
				return err
			}
			summary := ""
			if d.Analysis != nil {
				summary = d.Analysis.CallSuccessful
			}
			fmt.Fprintf(w, "%-30s %s: %d turns, %.0fs, %s -> %s\n", ev.Type, d.ConversationID, len(d.Transcript), d.Metadata.CallDurationSecs, summary, path)
			return nil
		},
		PostCallAudio: func(_ context.Context, ev *webhook.PostCallAudio) error {
			path := filepath.Join(dir, fileName(ev.Data.ConversationID)+".mp3")
			var n int64
			err := writeFile(path, func(f io.Writer) (err error) {
				n, err = ev.Data.FullAudio.WriteTo(f)
				return err
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%-30s %s: %d bytes of MP3 -> %s\n", ev.Type, ev.Data.ConversationID, n, path)
			return nil
		},
		CallInitiationFailure: func(_ context.Context, ev *webhook.CallInitiationFailure) error {
			provider := ""
			if ev.Data.Metadata != nil {
				provider = ev.Data.Metadata.Type
			}
			fmt.Fprintf(w, "%-30s %s: %s (%s)\n", ev.Type, ev.Data.ConversationID, ev.Data.FailureReason, provider)
			return nil
		},
		SpeechToTextTranscription: func(_ context.Context, ev *webhook.SpeechToTextTranscription) error {
			tr := ev.Data.Transcription
			fmt.Fprintf(w, "%-30s %s: %d words, %d channels: %.60q\n", ev.Type, ev.Data.RequestID, len(tr.Words), max(1, len(tr.Transcripts)), tr.Text)
			return nil
		},
		Fallback: func(_ context.Context, ev webhook.Event) error {
			fmt.Fprintf(w, "%-30s %d bytes\n", ev.EventType(), len(ev.RawJSON()))
			return nil
		},
	}
}

// fileName keeps an id usable as a file name: ids are ElevenLabs', but the
// body is only as trustworthy as its signature.
func fileName(id string) string {
	if id == "" {
		return "no_conversation_id"
	}
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, id)
}

// writeFile writes through a temporary file and renames it, so that a
// reader never sees half a file and a failed write leaves none.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".consume-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
