// Package local is the receiver's embedded default: an HTTP server on the
// loopback interface whose queue is a spool file, so that the whole flow
// (sign, send, verify, queue) runs on a laptop with nothing installed but Go.
package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
	"github.com/elevenrelay/elevenrelay/internal/logging"
)

// DevSecret is the webhook secret the local server and the send tool use when
// ELEVENLABS_WEBHOOK_SECRET is unset. It is public, so deployed entrypoints
// never fall back to it.
const DevSecret = "wsec_dev_elevenrelay_not_for_production"

// defaultMaxBodyBytes caps bodies when WEBHOOK_MAX_BODY_BYTES is not set:
// 32 MiB, as on Cloud Functions, so that what passes here passes there.
const defaultMaxBodyBytes = 32 << 20

// DefaultSpoolPath is where accepted messages go unless SPOOL_FILE says.
const DefaultSpoolPath = ".local/spool.jsonl"

// Options configure Run. Zero fields take the environment's or the defaults.
type Options struct {
	Addr      string // host:port; default 127.0.0.1:$PORT, PORT default 8080
	SpoolPath string
	Getenv    func(string) string
	Logger    *slog.Logger // default: JSON on stderr at LOG_LEVEL
	// Ready, if set, receives the listening address once the server serves.
	Ready func(addr string)

	// Slow clients. A body may take as long as it keeps up an average of
	// MinBodyRate after a grace of BodyTimeout, so a 32 MiB upload passes
	// a slow link while a client trickling bytes is cut off.
	HeaderTimeout time.Duration // to read a request's headers; default 10s
	BodyTimeout   time.Duration // grace before the body must keep MinBodyRate; default 10s
	MinBodyRate   int64         // bytes per second, on average; default 16 KiB/s
	WriteTimeout  time.Duration // from the end of the body to the end of the answer; default PUBLISH_TIMEOUT + 10s
	IdleTimeout   time.Duration // a kept-alive connection without a request; default 60s
	// MaxInflightBytes bounds the bodies held by requests in flight (the
	// announced Content-Length, or the body cap when none is announced);
	// a request past it gets 503 before its body is read. Default: four
	// bodies at the cap (128 MiB at the default 32 MiB).
	MaxInflightBytes int64
}

func (o *Options) defaults(cfg core.Config, maxBody int64) {
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = 10 * time.Second
	}
	if o.BodyTimeout <= 0 {
		o.BodyTimeout = 10 * time.Second
	}
	if o.MinBodyRate <= 0 {
		o.MinBodyRate = 16 << 10
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = cfg.PublishTimeout + 10*time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 60 * time.Second
	}
	if o.MaxInflightBytes <= 0 {
		o.MaxInflightBytes = 4 * maxBody
	}
	o.MaxInflightBytes = max(o.MaxInflightBytes, maxBody) // else a body at the cap could never pass
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
	if len(cfg.Secrets) == 0 && strings.TrimSpace(getenv(envvar.Secret)) != "" {
		// Set, but only commas and spaces: a mistake, not "unset", and no
		// reason to fall back to the public secret.
		return fmt.Errorf("%w: %s holds only commas and white space: want one secret, or several separated by commas", core.ErrConfig, envvar.Secret)
	}
	if len(cfg.Secrets) == 0 {
		cfg.Secrets = []string{DevSecret}
		log.Warn("ELEVENLABS_WEBHOOK_SECRET is unset: using the public development secret; set it to your webhook's secret to receive real ElevenLabs events")
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
	maxBody := cfg.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = defaultMaxBodyBytes
	}
	o.defaults(cfg, maxBody)

	spool := &Spool{Path: o.SpoolPath, Logger: log}
	if err := spool.open(); err != nil { // repairs a torn line before serving
		return err
	}
	defer spool.Close()
	recv, err := cfg.Receiver(spool, nil, log)
	if err != nil {
		return err
	}
	recv.MaxBodyBytes = maxBody // the guard's bound counts with the same cap
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
	srv := &http.Server{
		Handler:           &guard{next: mux, opts: o, maxBody: maxBody, log: log, now: time.Now},
		ReadHeaderTimeout: o.HeaderTimeout,
		IdleTimeout:       o.IdleTimeout,
		// No ReadTimeout or WriteTimeout: both would count from the
		// headers and cut a large upload on a slow link. The guard sets
		// per-request deadlines that move with the body's progress.
	}
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
