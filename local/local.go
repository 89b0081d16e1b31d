// Package local is the receiver's embedded default: an HTTP server on the
// loopback interface whose queue is a spool file, so that the whole flow
// (sign, send, verify, queue) runs on a laptop with nothing installed but Go.
package local

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/logging"
)

// DevSecret is the webhook secret the local server and the send tool use when
// ELEVENLABS_WEBHOOK_SECRET is unset. It is public, so deployed entrypoints
// never fall back to it.
const DevSecret = "wsec_dev_elevenrelay_not_for_production"

// DefaultSpoolPath is where accepted messages go unless SPOOL_FILE says.
const DefaultSpoolPath = ".local/spool.jsonl"

// SpoolLine is one accepted message in the spool file.
type SpoolLine struct {
	MessageID  string            `json:"message_id"`
	Attributes map[string]string `json:"attributes"`
	// Body is the raw body when it is valid UTF-8 (JSON strings keep every
	// byte of it); otherwise BodyBase64 holds it.
	Body       *string `json:"body,omitempty"`
	BodyBase64 []byte  `json:"body_base64,omitempty"`
}

// Spool is a core.Sink that appends each message as one JSON line to a file
// and syncs it before answering, as a durable queue would.
type Spool struct {
	Path   string
	Logger *slog.Logger

	mu sync.Mutex
}

var _ core.Sink = (*Spool)(nil)

// Publish appends m to the spool file.
func (s *Spool) Publish(ctx context.Context, m *core.Message) (string, error) {
	id := newID()
	line := SpoolLine{MessageID: id, Attributes: m.Attributes()}
	if utf8.Valid(m.Body) {
		b := string(m.Body)
		line.Body = &b
	} else {
		line.BodyBase64 = m.Body
	}
	b, err := json.Marshal(line)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o755); err != nil {
		return "", err
	}
	f, err := os.OpenFile(s.Path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if s.Logger != nil {
		s.Logger.Info("spooled", "message_id", id, "event_type", m.EventType, "bytes", len(m.Body), "spool", s.Path)
	}
	return id, nil
}

// ReadSpool returns every line of a spool file, for tests and tools.
func ReadSpool(path string) ([]SpoolLine, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []SpoolLine
	dec := json.NewDecoder(bytes.NewReader(raw))
	for dec.More() {
		var l SpoolLine
		if err := dec.Decode(&l); err != nil {
			return out, fmt.Errorf("spool %s: %w", path, err)
		}
		out = append(out, l)
	}
	return out, nil
}

// RawBody returns the line's body bytes.
func (l SpoolLine) RawBody() []byte {
	if l.Body != nil {
		return []byte(*l.Body)
	}
	return l.BodyBase64
}

// Options configure Run. Zero fields take the environment's or the defaults.
type Options struct {
	Addr      string // host:port; default 127.0.0.1:$PORT, PORT default 8080
	SpoolPath string
	Getenv    func(string) string
	Logger    *slog.Logger // default: JSON on stderr at LOG_LEVEL
	// Ready, if set, receives the listening address once the server serves.
	Ready func(addr string)
}

// Run serves POST /webhook until ctx is done. The secret comes from
// ELEVENLABS_WEBHOOK_SECRET, or is DevSecret with a warning. Unlike the
// deployed entrypoints, it returns unusable configuration as an error
// instead of serving 500s. Without o.Logger it logs JSON to stderr at
// LOG_LEVEL.
func Run(ctx context.Context, o Options) error {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg, err := core.LoadConfig(getenv)
	if err != nil {
		return err
	}
	log := o.Logger
	if log == nil {
		log = logging.New(os.Stderr, cfg.LogLevel)
	}
	if len(cfg.Secrets) == 0 {
		cfg.Secrets = []string{DevSecret}
		log.Warn("ELEVENLABS_WEBHOOK_SECRET is unset: using the public development secret; set it to your webhook's secret to receive real ElevenLabs events",
			"dev_secret_name", "local.DevSecret")
	}
	if o.SpoolPath == "" {
		o.SpoolPath = getenv("SPOOL_FILE")
	}
	if o.SpoolPath == "" {
		o.SpoolPath = DefaultSpoolPath
	}
	if o.Addr == "" {
		port := getenv("PORT")
		if port == "" {
			port = "8080"
		}
		o.Addr = net.JoinHostPort("127.0.0.1", port)
	}
	recv, err := cfg.Receiver(&Spool{Path: o.SpoolPath, Logger: log}, nil, log)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/webhook", recv)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`))
	})
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("local receiver listening", "url", "http://"+ln.Addr().String()+"/webhook", "spool", o.SpoolPath)
	if o.Ready != nil {
		o.Ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
