package gcf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/storage"
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
)

// EntryPoint is the function's name for the Functions Framework: the
// --entry-point of `gcloud functions deploy` and Terraform's entry_point.
const EntryPoint = "ElevenLabsWebhook"

func init() {
	// Cloud Functions (and the Functions Framework locally) name the
	// function to serve in FUNCTION_TARGET: then it is built once per
	// instance, at cold start, before the first request. New never fails: a
	// function that cannot be set up still registers and answers 500 to
	// everything (fail closed), and says why in the log.
	if os.Getenv("FUNCTION_TARGET") != "" {
		functions.HTTP(EntryPoint, New(context.Background(), Options{}).ServeHTTP)
		return
	}
	// Otherwise the package is imported for its types (the replay and load
	// commands, tests): build on the first request, if one ever comes, so
	// that such programs neither set up clients nor log a configuration
	// error at start.
	var once sync.Once
	var fn *Function
	functions.HTTP(EntryPoint, func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { fn = New(context.Background(), Options{}) })
		fn.ServeHTTP(w, r)
	})
}

// Function is the webhook function: core's Receiver with Pub/Sub as its
// queue and, when a bucket is configured, Cloud Storage for claim checks and
// spills.
type Function struct {
	receiver *core.Receiver
	queue    *Queue // nil when failing closed
}

// Options adjusts New and NewQueue. The zero value is what the deployed
// function uses. lambda.Options has the same fields, and AWS.
type Options struct {
	// Getenv reads the configuration; nil means os.Getenv.
	Getenv func(string) string
	// Logger gets the start-up lines and one line per request; nil means
	// JSON lines on LogWriter at LOG_LEVEL, with the field names Cloud
	// Logging reads (severity, message).
	Logger *slog.Logger
	// LogWriter is where the default Logger writes; nil means standard
	// output, which Cloud Functions sends to Cloud Logging.
	LogWriter io.Writer
}

func (o Options) getenv() func(string) string {
	if o.Getenv == nil {
		return os.Getenv
	}
	return o.Getenv
}

func (o Options) logger(level slog.Level) *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	w := o.LogWriter
	if w == nil {
		w = os.Stdout
	}
	return newLogger(w, level)
}

// New sets the function up from the environment read through
// opts.Getenv (the variables of the README's configuration table:
// ELEVENLABS_WEBHOOK_SECRET, PUBSUB_TOPIC, CLAIM_CHECK_BUCKET and the
// optional ones). The Pub/Sub and Storage clients find their credentials
// and emulators (PUBSUB_EMULATOR_HOST, STORAGE_EMULATOR_HOST) the SDKs' own
// way.
//
// Whatever is missing or wrong, New returns a Function: one that fails
// closed, answering 500 to every request, after one log line per problem.
func New(ctx context.Context, opts Options) *Function {
	cfg, err := core.LoadConfig(opts.getenv())
	logger := opts.logger(cfg.LogLevel)
	f := &Function{}
	failClosed := func(err error) *Function {
		// One line, however many problems errors.Join gathered.
		why := strings.ReplaceAll(err.Error(), "\n", "; ")
		// "error" is the outcome the Receiver logs for a 5xx, so that one
		// query finds this line with the 500s that follow it.
		logger.Error("refusing every request until this is fixed: "+why, slog.String("outcome", "error"))
		f.receiver = &core.Receiver{Err: err, Logger: logger, SourceAddr: callerIP}
		return f
	}
	if err != nil {
		return failClosed(err)
	}
	var missing []error
	if len(cfg.Secrets) == 0 {
		missing = append(missing, fmt.Errorf("%w: %s is not set", core.ErrNoSecret, envvar.Secret))
	}
	if cfg.PubSubTopic == "" {
		missing = append(missing, fmt.Errorf("%w: %s is not set", core.ErrConfig, envvar.PubSubTopic))
	}
	if err := errors.Join(missing...); err != nil {
		return failClosed(err)
	}

	q, err := NewQueue(ctx, cfg, opts)
	if err != nil {
		return failClosed(err)
	}
	f.queue = q
	sink := q.Sink
	var spill core.ObjectStore
	if q.Bucket != nil {
		spill = q.Bucket
	}
	r, err := cfg.Receiver(sink, spill, logger)
	if err != nil { // LoadConfig let an unusable secret through
		q.Close()
		f.queue = nil
		return failClosed(err)
	}
	f.receiver = r
	f.receiver.SourceAddr = callerIP
	logger.Info("ready",
		slog.String("topic", cfg.PubSubTopic),
		slog.Bool("ordering", cfg.PubSubOrdering),
		slog.String("claim_check_bucket", cfg.ClaimCheckBucket),
		slog.Int("claim_check_threshold", sink.Limit),
		slog.Int("secrets", len(cfg.Secrets)))
	return f
}

// ServeHTTP answers one webhook request as docs/spec.md §2 says.
func (f *Function) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.receiver.ServeHTTP(w, r)
}

// Close stops the publisher, sending what is outstanding, and closes the
// clients.
func (f *Function) Close() error {
	if f.queue == nil {
		return nil
	}
	return f.queue.Close()
}

// callerIP is the caller's address as Cloud Functions reports it. Its front
// end terminates the connection, so RemoteAddr is the front end; the
// caller is the first X-Forwarded-For entry. Without the header (a local
// run) it is "", which tells the Receiver to use the connection's peer. Behind a load balancer of your own the
// first entry is whatever the client sent: keep SOURCE_ALLOWLIST off there,
// the signature is the real check either way.
func callerIP(r *http.Request) string {
	first, _, _ := strings.Cut(r.Header.Get("X-Forwarded-For"), ",")
	if ip, err := netip.ParseAddr(strings.TrimSpace(first)); err == nil {
		return ip.String()
	}
	return ""
}

// newLogger is core's JSON logger with the field names Cloud Logging reads
// from a function's output: "severity" for the level and "message" for the
// message, so that levels show and error lines count as errors.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.LevelKey:
				// The record's level is a slog.Level; an attribute the
				// caller named "level" is left as it is.
				if l, ok := a.Value.Any().(slog.Level); ok {
					return slog.String("severity", severity(l))
				}
			case slog.MessageKey:
				a.Key = "message"
			}
			return a
		},
	}))
}

func severity(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	default:
		return "DEBUG"
	}
}

// Queue is the publishing side that New wires from the configuration:
// Pub/Sub behind a claim check, and the Cloud Storage bucket for claim
// checks and spills. cmd/replay re-publishes spilled bodies through the
// same Queue, so they are claim-checked exactly as the receiver would have.
type Queue struct {
	// Sink publishes to the topic, claim-checking bodies above Sink.Limit.
	Sink *core.ClaimCheck
	// Bucket is the claim-check and spill bucket (and the spill source for
	// replay); nil without CLAIM_CHECK_BUCKET.
	Bucket  *Bucket
	closers []func() error
}

// NewQueue builds the Queue for cfg.PubSubTopic and cfg.ClaimCheckBucket,
// as New does. The clients find credentials and emulators
// (PUBSUB_EMULATOR_HOST, STORAGE_EMULATOR_HOST) the SDKs' own way; opts is
// taken for the same shape as lambda.NewQueue and has nothing to set here
// yet. It fails, wrapping core.ErrConfig, without a usable topic or when a
// client cannot be made. Close it when done.
func NewQueue(ctx context.Context, cfg core.Config, opts Options) (*Queue, error) {
	project, ok := envvar.TopicProject(cfg.PubSubTopic)
	if !ok {
		return nil, fmt.Errorf("%w: %s=%q: want projects/P/topics/T", core.ErrConfig, envvar.PubSubTopic, cfg.PubSubTopic)
	}
	ps, err := pubsub.NewClient(ctx, project)
	if err != nil {
		return nil, fmt.Errorf("%w: pubsub client: %w", core.ErrConfig, err)
	}
	q := &Queue{}
	q.closers = append(q.closers, ps.Close)
	topic := newTopicSink(ps, cfg.PubSubTopic, cfg.PubSubOrdering, cfg.PublishTimeout)
	q.closers = append(q.closers, func() error { topic.Stop(); return nil })

	q.Sink = &core.ClaimCheck{Sink: topic, Limit: topic.Limit()}
	if t := cfg.ClaimCheckThreshold; t > 0 && t < int64(q.Sink.Limit) {
		q.Sink.Limit = int(t)
	}
	if cfg.ClaimCheckBucket != "" {
		gcs, err := storage.NewClient(ctx)
		if err != nil {
			q.Close()
			return nil, fmt.Errorf("%w: storage client: %w", core.ErrConfig, err)
		}
		q.closers = append(q.closers, gcs.Close)
		q.Bucket = NewBucket(gcs, cfg.ClaimCheckBucket)
		q.Sink.Store, q.Sink.URLPrefix = q.Bucket, q.Bucket.URLPrefix()
	}
	return q, nil
}

// Close stops the publisher, sending what is outstanding, and closes the
// clients.
func (q *Queue) Close() error {
	var errs []error
	for i := len(q.closers) - 1; i >= 0; i-- {
		errs = append(errs, q.closers[i]())
	}
	q.closers = nil
	return errors.Join(errs...)
}
