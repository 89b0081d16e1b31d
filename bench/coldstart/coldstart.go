// Package coldstart times how long a Lambda bootstrap binary takes from
// process start to its first request for work, and to its first answer.
//
// It plays the Lambda Runtime API on loopback, as the Lambda service does
// inside the execution environment: the binary is started with
// AWS_LAMBDA_RUNTIME_API pointing at it, fetches one event from
// /runtime/invocation/next, and posts the answer to
// /runtime/invocation/<id>/response. Each run is a fresh process.
package coldstart

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options describe what to start and how often.
type Options struct {
	// Binary is the path of the bootstrap executable.
	Binary string
	// Env is added to a small fixed environment, as Lambda sets it.
	Env []string
	// Event is the invocation payload delivered on the first /next.
	Event []byte
	// Runs is the number of fresh processes timed; zero means 30.
	Runs int
	// Timeout bounds one run; zero means 10 s.
	Timeout time.Duration
}

// Run is one process's timings, measured from just before the fork.
type Run struct {
	// Next is the time to the first GET /runtime/invocation/next: the
	// runtime's initialisation, as Lambda's Init phase bills it.
	Next time.Duration
	// Response is the time to the complete POST of the first response.
	Response time.Duration
	// CPU is the user and system time the process used, all threads, from
	// its start until it was stopped right after the response: unlike the
	// two above, it barely moves when other work competes for the CPUs.
	CPU time.Duration
	// PageFaults counts the process's minor page faults: first touches of
	// its memory, which grow with the binary and what init does.
	PageFaults int64
	// Body is what the function answered.
	Body []byte
}

// Summary is the median of the runs.
type Summary struct {
	Runs                              []Run
	NextMedian, RespMedian, CPUMedian time.Duration
}

// Measure starts opts.Binary opts.Runs times, one after the other.
func Measure(opts Options) (Summary, error) {
	if opts.Runs <= 0 {
		opts.Runs = 30
	}
	api, err := NewRuntimeAPI()
	if err != nil {
		return Summary{}, err
	}
	defer api.Close()
	var runs []Run
	for i := 0; i < opts.Runs; i++ {
		r, err := api.Run(opts)
		if err != nil {
			return Summary{}, fmt.Errorf("run %d of %s: %w", i+1, opts.Binary, err)
		}
		runs = append(runs, r)
	}
	return Summarize(runs), nil
}

// Summarize takes the medians of runs.
func Summarize(runs []Run) Summary {
	return Summary{
		Runs:       runs,
		NextMedian: median(runs, func(r Run) time.Duration { return r.Next }),
		RespMedian: median(runs, func(r Run) time.Duration { return r.Response }),
		CPUMedian:  median(runs, func(r Run) time.Duration { return r.CPU }),
	}
}

func median(runs []Run, f func(Run) time.Duration) time.Duration {
	d := make([]time.Duration, len(runs))
	for i, r := range runs {
		d[i] = f(r)
	}
	slices.Sort(d)
	if len(d)%2 == 1 {
		return d[len(d)/2]
	}
	return (d[len(d)/2-1] + d[len(d)/2]) / 2
}

// RuntimeAPI is the loopback Runtime API. Each run gets a listener of its
// own, closed when its process is gone, so that a request still in flight
// from a stopped process can never take the next process's event.
type RuntimeAPI struct {
	mu sync.Mutex
	n  int
}

type runState struct {
	id       string
	event    []byte
	mu       sync.Mutex
	sent     bool
	next     chan time.Time // first /next
	response chan posted    // first response, or an error report
}

type posted struct {
	at   time.Time
	body []byte
	err  error
}

const apiPrefix = "/2018-06-01/runtime/"

// NewRuntimeAPI returns a Runtime API; Close releases it.
func NewRuntimeAPI() (*RuntimeAPI, error) { return &RuntimeAPI{}, nil }

// Close releases the API. Runs close their own listeners.
func (a *RuntimeAPI) Close() {}

func (st *runState) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	path := strings.TrimPrefix(r.URL.Path, apiPrefix)
	switch {
	case r.Method == http.MethodGet && path == "invocation/next":
		st.mu.Lock()
		first := !st.sent
		st.sent = true
		st.mu.Unlock()
		if !first {
			// The function is ready for a second event: hold it, as Lambda
			// does, until the process is stopped.
			<-r.Context().Done()
			return
		}
		select {
		case st.next <- at:
		default:
		}
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", st.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:bench")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
		h.Set("Content-Type", "application/json")
		w.Write(st.event)
	case r.Method == http.MethodPost && path == "invocation/"+st.id+"/response":
		body, err := io.ReadAll(r.Body)
		at = time.Now() // the answer is complete once its body has arrived
		w.WriteHeader(http.StatusAccepted)
		select {
		case st.response <- posted{at: at, body: body, err: err}:
		default:
		}
	case r.Method == http.MethodPost && (path == "init/error" || strings.HasSuffix(path, "/error")):
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		select {
		case st.response <- posted{at: at, err: fmt.Errorf("function reported an error at %s: %s", path, body)}:
		default:
		}
	default:
		http.Error(w, "not part of the Runtime API", http.StatusNotFound)
	}
}

// Run starts opts.Binary once, times it and stops it.
func (a *RuntimeAPI) Run(opts Options) (Run, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	a.mu.Lock()
	a.n++
	i := a.n
	a.mu.Unlock()
	st := &runState{
		id:       "bench-" + strconv.Itoa(i),
		event:    opts.Event,
		next:     make(chan time.Time, 1),
		response: make(chan posted, 1),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Run{}, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(st.serve)}
	go srv.Serve(ln)
	defer srv.Close() // after stop: also ends a held /next

	cmd := exec.Command(opts.Binary)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(),
		"AWS_LAMBDA_FUNCTION_NAME=bench",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/bench",
		"AWS_REGION=us-east-1",
		"TZ=:UTC",
	}, opts.Env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Run{}, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}
	timeout := time.NewTimer(opts.Timeout)
	defer timeout.Stop()

	var r Run
	select {
	case at := <-st.next:
		r.Next = at.Sub(start)
	case err := <-exited:
		return Run{}, fmt.Errorf("exited before asking for work (%v): %s", err, out.Bytes())
	case <-timeout.C:
		stop()
		return Run{}, fmt.Errorf("no /next within %s: %s", opts.Timeout, out.Bytes())
	}
	select {
	case p := <-st.response:
		stop()
		if p.err != nil {
			return Run{}, fmt.Errorf("%w; output: %s", p.err, out.Bytes())
		}
		r.Response, r.Body = p.at.Sub(start), p.body
		r.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.PageFaults = ru.Minflt
		}
	case err := <-exited:
		return Run{}, fmt.Errorf("exited before answering (%v): %s", err, out.Bytes())
	case <-timeout.C:
		stop()
		return Run{}, fmt.Errorf("no response within %s: %s", opts.Timeout, out.Bytes())
	}
	return r, nil
}

// Build compiles the main package pkg of the module in dir into out, for
// goos/goarch, as a Lambda bootstrap is built: no cgo, no RPC mode, trimmed
// paths, no symbol table or DWARF.
func Build(dir, pkg, goos, goarch, out string) error {
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s for %s/%s: %w\n%s", pkg, goos, goarch, err, b)
	}
	return nil
}
