package coldstart

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/elevenrelay/elevenrelay/internal/rie"
)

// EmulatorRun is one cold start through the AWS Lambda runtime interface
// emulator, the program `sam local` runs: a fresh emulator, whose first
// invocation starts the function (an on-demand init).
type EmulatorRun struct {
	// Response is the time from the invocation's request to the emulator
	// to the complete answer: the function's exec, its init, the event's
	// delivery and its answer, plus the emulator's own work, the same for
	// every binary.
	Response time.Duration
	// Init is the emulator's INIT REPORT duration: from the function's
	// exec to its first request for work, Lambda's Init Duration.
	Init time.Duration
	// PeakRSS is the function's peak resident set (VmHWM) after answering.
	PeakRSS int64
	// Status and Body are the emulator's answer.
	Status int
	Body   []byte
}

// EmulatorOptions say what to run under the emulator.
type EmulatorOptions struct {
	// Emulator is the emulator's executable (rie.Build).
	Emulator string
	// Binary is the function's bootstrap.
	Binary string
	// Env is added to a small fixed environment, as Lambda sets it.
	Env []string
	// Event is the payload of the one invocation.
	Event []byte
	// Timeout bounds one run; zero means 30 s.
	Timeout time.Duration
}

// RunEmulator starts a fresh emulator for opts.Binary, invokes it once,
// and stops both.
func RunEmulator(opts EmulatorOptions) (EmulatorRun, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	out := &syncBuffer{}
	env := append([]string{
		"PATH=" + os.Getenv("PATH"),
		"AWS_LAMBDA_FUNCTION_NAME=bench",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_REGION=us-east-1",
		"TZ=:UTC",
	}, opts.Env...)
	e, err := rie.Start(rie.Options{Emulator: opts.Emulator, Bootstrap: opts.Binary, Env: env, Output: out, Timeout: opts.Timeout})
	if err != nil {
		return EmulatorRun{}, err
	}
	defer e.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	defer cancel()
	start := time.Now()
	status, body, err := e.Invoke(ctx, opts.Event)
	r := EmulatorRun{Response: time.Since(start), Status: status, Body: body}
	if err != nil {
		return r, fmt.Errorf("invoke: %w; output: %s", err, out.String())
	}
	r.PeakRSS = peakRSS(e.Pid(), filepath.Base(opts.Binary))
	// The INIT REPORT line is printed as init ends, before the answer.
	init, ok := rie.InitDuration(out.String())
	if !ok {
		return r, fmt.Errorf("no INIT REPORT in the emulator's output: %s", out.String())
	}
	r.Init = init
	return r, nil
}

// peakRSS is VmHWM, in bytes, of the emulator's child process named name:
// the function. 0 when it cannot be read.
func peakRSS(emulatorPid int, name string) int64 {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so split after ')'.
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		fields := strings.Fields(s[end+1:])
		if s[open+1:end] != name || len(fields) < 2 || fields[1] != strconv.Itoa(emulatorPid) {
			continue
		}
		return statusField(filepath.Join(filepath.Dir(p), "status"), "VmHWM:")
	}
	return 0
}

// statusField reads a size in kB from a /proc/PID/status file, in bytes; 0
// when it cannot be read.
func statusField(path, field string) int64 {
	status, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
