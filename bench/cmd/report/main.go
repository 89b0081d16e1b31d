// Command report runs the side-by-side benchmarks in one go and writes the
// results as Markdown: verification against the HMAC floor and the peers
// (Go in-process, the ElevenLabs JS SDK under Node), Lambda cold start
// against a hello-world aws-lambda-go function, and the Lambda invoke cost.
//
// usage (from bench/, as `make bench-peers` runs it):
//
//	go run ./cmd/report -out ../docs/performance.md
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/elevenrelay/elevenrelay/bench"
	"github.com/elevenrelay/elevenrelay/bench/coldstart"
	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/rie"
)

// reproduceHeading starts the hand-written part of the output file, which
// is kept as it is when the figures above it are regenerated.
const reproduceHeading = "## How to reproduce"

type config struct {
	out        string
	benchtime  time.Duration
	clock      string
	rounds     int
	nodeDir    string
	root       string
	bootstrap  string
	coldRuns   int
	rieRuns    int
	gcfRuns    int
	skipVerify bool
	skipNode   bool
	skipCold   bool
	skipInvoke bool
}

func main() {
	testing.Init()
	var c config
	flag.StringVar(&c.out, "out", "", "write the Markdown report here too (keeps its '"+reproduceHeading+"' section)")
	flag.DurationVar(&c.benchtime, "benchtime", 200*time.Millisecond, "time per Go benchmark run")
	flag.StringVar(&c.clock, "clock", "cpu", "what a verification's time is: cpu (the process's CPU time, steady on a busy machine) or wall")
	flag.IntVar(&c.rounds, "rounds", 9, "runs of every case, interleaved; the median is reported")
	flag.StringVar(&c.nodeDir, "node", "node", "folder with bench.js and node_modules (npm ci)")
	flag.StringVar(&c.root, "root", "..", "the main module's folder")
	flag.StringVar(&c.bootstrap, "bootstrap", "./lambda/bootstrap", "the Lambda bootstrap's main package, relative to -root")
	flag.IntVar(&c.coldRuns, "coldstart-runs", 30, "fresh processes per binary for the cold start")
	flag.IntVar(&c.gcfRuns, "gcf-runs", 9, "fresh processes per Cloud Function for its cold start (Pub/Sub emulator); 0 leaves it out")
	flag.IntVar(&c.rieRuns, "rie-runs", 9, "fresh emulators per binary for the cold start under the runtime interface emulator; 0 leaves it out")
	flag.BoolVar(&c.skipVerify, "skip-verify", false, "leave out the verification table (Go and Node)")
	flag.BoolVar(&c.skipNode, "skip-node", false, "leave out the Node SDK")
	flag.BoolVar(&c.skipCold, "skip-coldstart", false, "leave out the cold start")
	flag.BoolVar(&c.skipInvoke, "skip-invoke", false, "leave out the Lambda invoke cost")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("bench-peers: ")
	if c.clock != "cpu" && c.clock != "wall" {
		log.Fatalf("-clock is cpu or wall, not %q", c.clock)
	}
	if err := flag.Set("test.benchtime", c.benchtime.String()); err != nil {
		log.Fatal(err)
	}

	r := report{clock: c.clock, rounds: c.rounds, benchtime: c.benchtime}
	r.facts = machineFacts()
	switch {
	case c.skipVerify:
	case c.skipNode:
		r.goResults = runGo(c)
		r.nodeNote = "left out (-skip-node)"
	default:
		r.goResults = runGo(c)
		if err := runNode(c, &r); err != nil {
			log.Fatalf("node: %v", err)
		}
	}
	if c.skipCold {
		r.coldNote = "left out (-skip-coldstart)"
	} else {
		runColdStart(c, &r)
	}
	if c.skipInvoke {
		r.invokeNote = "left out (-skip-invoke)"
	} else {
		runInvoke(c, &r)
	}

	md := r.markdown()
	fmt.Print(md)
	if c.out != "" {
		if err := writeReport(c.out, md); err != nil {
			log.Fatal(err)
		}
		log.Printf("wrote %s", c.out)
	}
}

// result is the median of the rounds of one case.
type result struct {
	name, size  string
	nsPerOp     float64
	allocsPerOp int64
	bytesPerOp  int64
	spread      float64 // (max-min)/median over the rounds
}

type coldResult struct {
	name    string
	summary coldstart.Summary
	// Through the runtime interface emulator: medians of the runs.
	rieResp, rieInit time.Duration
	rieRuns          int
	rieRSS           int64 // median peak RSS after the 5 KiB event
	sizeHost         int64
	sizeArm          int64
	answer           string
}

type gcfResult struct {
	name   string
	resp   time.Duration
	rss    int64
	size   int64
	runs   int
	answer string
}

type invokeResult struct {
	floor, invoke result
}

type report struct {
	clock       string
	rounds      int
	benchtime   time.Duration
	facts       []string
	goResults   []result
	nodeResults []result
	nodeNote    string
	nodeVersion string
	sdkVersion  string
	cold        []coldResult
	coldNote    string
	coldEvent   int
	rieNote     string
	gcf         []gcfResult
	gcfNote     string
	bigRSS      int64 // the bootstrap's peak RSS after a 6 MiB direct body
	bigStatus   string
	invoke      []invokeResult
	invokeNote  string
}

// A job is one case to time: prepare is called once per round and returns
// the operation, which must succeed.
type job struct {
	name, size string
	bytes      int
	prepare    func() func() error
}

// runGo times every Go verifier at every size.
func runGo(c config) []result {
	var jobs []job
	for _, v := range bench.Verifiers {
		for _, size := range bench.Sizes {
			jobs = append(jobs, job{v.Name, size.Name, size.Bytes, func() func() error {
				body := bench.Body(size.Bytes)
				verify := v.Prepare(body)
				return func() error { return verify(body) }
			}})
		}
	}
	return measure("Go verifiers", jobs, c)
}

// measure times every job c.rounds times, interleaving the jobs so that a
// burst of load elsewhere hits them all alike, and keeps the median.
func measure(what string, jobs []job, c config) []result {
	ns := make([][]float64, len(jobs))
	first := make([]testing.BenchmarkResult, len(jobs))
	for round := 0; round < c.rounds; round++ {
		log.Printf("%s, round %d of %d", what, round+1, c.rounds)
		for ji, j := range jobs {
			op := j.prepare()
			if err := op(); err != nil {
				log.Fatalf("%s at %s: %v", j.name, j.size, err)
			}
			var cpu time.Duration
			res := testing.Benchmark(func(b *testing.B) {
				b.SetBytes(int64(j.bytes))
				b.ReportAllocs()
				start := processCPU()
				for i := 0; i < b.N; i++ {
					if err := op(); err != nil {
						b.Fatal(err)
					}
				}
				cpu = processCPU() - start // the last call has the final b.N
			})
			if res.N == 0 {
				log.Fatalf("%s at %s failed", j.name, j.size)
			}
			t := res.T
			if c.clock == "cpu" {
				t = cpu
			}
			ns[ji] = append(ns[ji], float64(t.Nanoseconds())/float64(res.N))
			if round == 0 {
				first[ji] = res
			}
		}
	}
	out := make([]result, len(jobs))
	for ji, j := range jobs {
		med := medianF(ns[ji])
		out[ji] = result{
			name: j.name, size: j.size, nsPerOp: med,
			allocsPerOp: first[ji].AllocsPerOp(), bytesPerOp: first[ji].AllocedBytesPerOp(),
			spread: (slices.Max(ns[ji]) - slices.Min(ns[ji])) / med,
		}
	}
	return out
}

// processCPU is the CPU time this process has used, in user and kernel
// mode, on all its threads (the garbage collector's included).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func medianF(x []float64) float64 {
	x = slices.Clone(x)
	slices.Sort(x)
	if len(x)%2 == 1 {
		return x[len(x)/2]
	}
	return (x[len(x)/2-1] + x[len(x)/2]) / 2
}

// runNode times the ElevenLabs JS SDK in-process under Node, on the same
// bodies and key, signed now (the SDK checks the timestamp against the clock).
func runNode(c config, r *report) error {
	if _, err := os.Stat(filepath.Join(c.nodeDir, "node_modules", "@elevenlabs", "elevenlabs-js")); err != nil {
		return fmt.Errorf("the SDK is not installed in %s: run `npm ci` there (make bench-peers does)", c.nodeDir)
	}
	dir, err := os.MkdirTemp("", "bench-node-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	type nodeCase struct {
		Size     string `json:"size"`
		BodyFile string `json:"body_file"`
		Header   string `json:"header"`
	}
	in := struct {
		Secret  string     `json:"secret"`
		Rounds  int        `json:"rounds"`
		Clock   string     `json:"clock"`
		RoundMS int64      `json:"round_ms"`
		Cases   []nodeCase `json:"cases"`
	}{Secret: bench.Secret, Rounds: c.rounds, Clock: c.clock, RoundMS: c.benchtime.Milliseconds()}
	for _, size := range bench.Sizes {
		body := bench.Body(size.Bytes)
		f := filepath.Join(dir, strings.ReplaceAll(size.Name, " ", ""))
		if err := os.WriteFile(f, body, 0o600); err != nil {
			return err
		}
		in.Cases = append(in.Cases, nodeCase{size.Name, f, bench.ElevenLabsHeader(body)})
	}
	input := filepath.Join(dir, "input.json")
	b, _ := json.Marshal(in)
	if err := os.WriteFile(input, b, 0o600); err != nil {
		return err
	}
	log.Printf("Node: the ElevenLabs JS SDK, %d rounds", c.rounds)
	cmd := exec.Command("node", "bench.js", input)
	cmd.Dir = c.nodeDir
	cmd.Stderr = os.Stderr
	outb, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("node bench.js: %w", err)
	}
	var out struct {
		Node    string `json:"node"`
		SDK     string `json:"sdk"`
		Results []struct {
			Name    string  `json:"name"`
			Size    string  `json:"size"`
			NsPerOp float64 `json:"ns_per_op"`
		} `json:"results"`
	}
	if err := json.Unmarshal(outb, &out); err != nil {
		return fmt.Errorf("reading node's output %q: %w", outb, err)
	}
	r.nodeVersion, r.sdkVersion = out.Node, out.SDK
	for _, x := range out.Results {
		r.nodeResults = append(r.nodeResults, result{name: x.Name, size: x.Size, nsPerOp: x.NsPerOp, allocsPerOp: -1})
	}
	return nil
}

// coldEventBytes is the body size of the cold-start invocation.
const coldEventBytes = 5 << 10

// runColdStart builds the hello-world function and, when the main module has
// one, the real bootstrap, both stripped as they are deployed, and starts
// each c.coldRuns times, alternating, against the loopback Runtime API.
func runColdStart(c config, r *report) {
	r.coldEvent = coldEventBytes
	dir, err := os.MkdirTemp("", "bench-coldstart-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	type target struct {
		name, moduleDir, pkg string
	}
	targets := []target{{"hello-world aws-lambda-go", ".", "./cmd/hello"}}
	bootstrapDir := filepath.Join(c.root, filepath.FromSlash(c.bootstrap))
	if _, err := os.Stat(bootstrapDir); err == nil {
		targets = append([]target{{"elevenrelay bootstrap", c.root, c.bootstrap}}, targets...)
	} else {
		r.coldNote = fmt.Sprintf("The elevenrelay bootstrap is not in this checkout (no %s package), so only the reference was timed.", c.bootstrap)
		log.Printf("cold start: %s", r.coldNote)
	}

	sqs := coldstart.NewSQSStub()
	defer sqs.Close()
	// Both binaries get the same environment; the reference ignores it.
	env := []string{
		"ELEVENLABS_WEBHOOK_SECRET=" + bench.Secret,
		"SQS_QUEUE_URL=" + sqs.QueueURL(),
		"AWS_ENDPOINT_URL=" + sqs.URL,
		"AWS_ACCESS_KEY_ID=bench",
		"AWS_SECRET_ACCESS_KEY=bench",
		"AWS_EC2_METADATA_DISABLED=true",
	}
	api, err := coldstart.NewRuntimeAPI()
	if err != nil {
		log.Fatal(err)
	}
	defer api.Close()

	bins := make([]string, len(targets))
	for i, t := range targets {
		cr := coldResult{name: t.name}
		for _, arch := range []string{runtime.GOARCH, "arm64"} {
			out := filepath.Join(dir, fmt.Sprintf("%d-%s", i, arch), "bootstrap")
			log.Printf("cold start: building %s for linux/%s", t.name, arch)
			if err := coldstart.Build(t.moduleDir, t.pkg, "linux", arch, out); err != nil {
				log.Fatal(err)
			}
			fi, err := os.Stat(out)
			if err != nil {
				log.Fatal(err)
			}
			if arch == runtime.GOARCH {
				bins[i], cr.sizeHost = out, fi.Size()
			}
			if arch == "arm64" {
				cr.sizeArm = fi.Size()
			}
		}
		r.cold = append(r.cold, cr)
	}

	event := bench.FunctionURLEvent(bench.Body(coldEventBytes))
	runs := make([][]coldstart.Run, len(targets))
	log.Printf("cold start: %d runs of each binary, alternating", c.coldRuns)
	for n := 0; n < c.coldRuns; n++ {
		for i := range targets {
			run, err := api.Run(coldstart.Options{Binary: bins[i], Env: env, Event: event})
			if err != nil {
				log.Fatalf("cold start of %s: %v", targets[i].name, err)
			}
			runs[i] = append(runs[i], run)
		}
	}
	for i := range targets {
		r.cold[i].summary = coldstart.Summarize(runs[i])
		r.cold[i].answer = string(runs[i][len(runs[i])-1].Body)
	}
	runColdStartRIE(c, r, bins, env, event)
	runColdStartGCF(c, r)
}

// runColdStartGCF builds the Cloud Function from its source zip as the Go
// buildpack does and the hello-world functions-framework function, and
// starts each c.gcfRuns times, alternating, from the fork to the complete
// first 200 for a signed 5 KiB webhook, publishing to the Pub/Sub emulator.
func runColdStartGCF(c config, r *report) {
	if c.gcfRuns <= 0 {
		r.gcfNote = "The Cloud Function's cold start was left out (-gcf-runs 0)."
		return
	}
	if err := gcfRuns(c, r); err != nil {
		r.gcf = nil
		r.gcfNote = "The Cloud Function's cold start failed: " + err.Error()
		log.Printf("cold start: %s", r.gcfNote)
	}
}

func gcfRuns(c config, r *report) error {
	const topic = "projects/bench/topics/webhooks"
	ps, err := coldstart.StartPubSub()
	if err != nil {
		return err
	}
	defer ps.Stop()
	if err := ps.CreateTopic(topic); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bench-gcf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	fn, hello := filepath.Join(dir, "function"), filepath.Join(dir, "hello")
	log.Printf("cold start: building the Cloud Function from its source zip, as the buildpack does")
	if err := coldstart.BuildGCFSource(ctx, c.root, fn); err != nil {
		return err
	}
	if err := coldstart.BuildGCFHello(ctx, ".", hello); err != nil {
		return err
	}
	body := bench.Body(coldEventBytes)
	targets := []struct {
		name, bin string
		env       []string
	}{
		{"elevenrelay Cloud Function", fn, []string{"FUNCTION_TARGET=ElevenLabsWebhook", "PUBSUB_EMULATOR_HOST=" + ps.Host,
			"PUBSUB_TOPIC=" + topic, "ELEVENLABS_WEBHOOK_SECRET=" + bench.Secret}},
		{"hello-world functions-framework", hello, []string{"FUNCTION_TARGET=Hello"}},
	}
	resp := make([][]time.Duration, len(targets))
	rss := make([][]time.Duration, len(targets))
	r.gcf = make([]gcfResult, len(targets))
	log.Printf("cold start: %d runs of each Cloud Function, alternating", c.gcfRuns)
	for n := 0; n < c.gcfRuns; n++ {
		for i, t := range targets {
			h := http.Header{}
			h.Set("Content-Type", "application/json")
			h.Set("ElevenLabs-Signature", core.Sign(bench.Secret, time.Now(), body))
			run, err := coldstart.RunHTTP(coldstart.HTTPOptions{Binary: t.bin, Env: t.env, Body: body, Header: h})
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			resp[i] = append(resp[i], run.Response)
			rss[i] = append(rss[i], time.Duration(run.PeakRSS))
			r.gcf[i].answer = string(run.Body)
		}
	}
	for i, t := range targets {
		fi, err := os.Stat(t.bin)
		if err != nil {
			return err
		}
		r.gcf[i].name, r.gcf[i].size, r.gcf[i].runs = t.name, fi.Size(), c.gcfRuns
		r.gcf[i].resp, r.gcf[i].rss = medianDur(resp[i]), int64(medianDur(rss[i]))
	}
	return nil
}

// runColdStartRIE starts each binary c.rieRuns times under the AWS Lambda
// runtime interface emulator (what sam local runs), alternating, and then
// the bootstrap once more with a 6 MiB body for its peak RSS.
func runColdStartRIE(c config, r *report, bins []string, env []string, event []byte) {
	if c.rieRuns <= 0 {
		r.rieNote = "Runs under the runtime interface emulator left out (-rie-runs 0)."
		return
	}
	root, err := rie.FindRoot(c.root)
	if err == nil {
		var emulator string
		emulator, err = rie.Build(context.Background(), root)
		if err == nil {
			err = rieRuns(c, r, emulator, bins, env, event)
		}
	}
	if err != nil {
		r.rieNote = "Runs under the runtime interface emulator failed: " + err.Error()
		log.Printf("cold start: %s", r.rieNote)
	}
}

func rieRuns(c config, r *report, emulator string, bins []string, env []string, event []byte) error {
	log.Printf("cold start: %d runs of each binary under the runtime interface emulator, alternating", c.rieRuns)
	resp := make([][]time.Duration, len(bins))
	init := make([][]time.Duration, len(bins))
	rss := make([][]time.Duration, len(bins)) // bytes, sorted as durations
	for n := 0; n < c.rieRuns; n++ {
		for i, bin := range bins {
			run, err := coldstart.RunEmulator(coldstart.EmulatorOptions{Emulator: emulator, Binary: bin, Env: env, Event: event})
			if err != nil {
				return fmt.Errorf("%s: %w", r.cold[i].name, err)
			}
			if run.Status != 200 || !strings.Contains(string(run.Body), `"statusCode":200`) {
				return fmt.Errorf("%s answered %d %s", r.cold[i].name, run.Status, run.Body)
			}
			resp[i] = append(resp[i], run.Response)
			init[i] = append(init[i], run.Init)
			rss[i] = append(rss[i], time.Duration(run.PeakRSS))
		}
	}
	for i := range bins {
		r.cold[i].rieResp, r.cold[i].rieInit = medianDur(resp[i]), medianDur(init[i])
		r.cold[i].rieRSS, r.cold[i].rieRuns = int64(medianDur(rss[i])), c.rieRuns
	}
	if len(bins) < 2 {
		return nil
	}
	// The largest body Lambda delivers to a synchronous invocation: 6 MiB
	// of event, so the body is what remains after the event's own fields.
	big := bench.FunctionURLEvent(bench.Body(6<<20 - 4<<10))
	for len(big) > 6<<20 {
		big = bench.FunctionURLEvent(bench.Body(6<<20 - 4<<10 - (len(big) - 6<<20) - 64))
	}
	run, err := coldstart.RunEmulator(coldstart.EmulatorOptions{Emulator: emulator, Binary: bins[0],
		Env: append(slices.Clone(env), "CLAIM_CHECK_BUCKET=bench-claims"), Event: big, Timeout: time.Minute})
	if err != nil {
		return fmt.Errorf("6 MiB body: %w", err)
	}
	r.bigRSS, r.bigStatus = run.PeakRSS, fmt.Sprintf("%d bytes of event, answered %s", len(big), trim(string(run.Body)))
	return nil
}

func medianDur(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	if len(d) == 0 {
		return 0
	}
	if len(d)%2 == 1 {
		return d[len(d)/2]
	}
	return (d[len(d)/2-1] + d[len(d)/2]) / 2
}

// runInvoke times one invocation of the real Lambda handler beside the
// floor at the same sizes, the same way as the verifiers.
func runInvoke(c config, r *report) {
	floor := bench.Verifiers[0]
	var jobs []job
	for _, size := range bench.InvokeSizes {
		jobs = append(jobs,
			job{floor.Name, size.Name, size.Bytes, func() func() error {
				body := bench.Body(size.Bytes)
				verify := floor.Prepare(body)
				return func() error { return verify(body) }
			}},
			job{"lambda.Handler.Invoke", size.Name, size.Bytes, func() func() error {
				return bench.PrepareInvoke(bench.Body(size.Bytes))
			}})
	}
	res := measure("Lambda invoke", jobs, c)
	for i := 0; i+1 < len(res); i += 2 {
		r.invoke = append(r.invoke, invokeResult{floor: res[i], invoke: res[i+1]})
	}
}

func machineFacts() []string {
	cpu := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	load := "unknown"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			load = strings.Join(f[:3], " ")
		}
	}
	node := "not found"
	if out, err := exec.Command("node", "--version").Output(); err == nil {
		node = strings.TrimSpace(string(out))
	}
	return []string{
		"Date: " + time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		fmt.Sprintf("Machine: %s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpu),
		"Go: " + runtime.Version() + "; Node: " + node,
		"Load average when the run started (1, 5, 15 min): " + load,
	}
}

func (r *report) markdown() string {
	var w strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&w, format, a...) }
	p("# Performance\n\n")
	p("<!-- Generated by `make bench-peers` (bench/cmd/report) down to the \"How to reproduce\" heading; edit only from there on. -->\n\n")
	for _, f := range r.facts {
		p("- %s\n", f)
	}
	if len(r.goResults) > 0 {
		r.verification(p)
	}
	r.lambda(p)
	return w.String()
}

func (r *report) verification(p func(string, ...any)) {
	p("\n## Verification beside the floor and the peers\n\n")
	if r.clock == "cpu" {
		p("Median CPU time per verification (the process's user and system time over the timed loop, all threads, ")
		p("so garbage collection counts and time spent waiting for a busy CPU does not) over the rounds ")
	} else {
		p("Median wall-clock time per verification over the rounds ")
	}
	p("(each round `testing.Benchmark` in-process for Go, many awaited calls after warm-up for Node), and the ratio to the ")
	p("HMAC-SHA256 floor at the same size. Same bodies (JSON shaped like an ElevenLabs event), same 32-byte key; ")
	p("each verifier on its own scheme with a valid signature made at the start of the round.\n\n")
	p("| verifier |")
	for _, s := range bench.Sizes {
		p(" %s | × floor |", s.Name)
	}
	p(" allocs/op (B/op) at %s |\n|---|", bench.Sizes[len(bench.Sizes)-1].Name)
	for range bench.Sizes {
		p("---:|---:|")
	}
	p("---:|\n")
	floor := map[string]float64{}
	for _, x := range r.goResults {
		if x.name == bench.Floor {
			floor[x.size] = x.nsPerOp
		}
	}
	rows := map[string][]result{}
	var names []string
	for _, x := range append(slices.Clone(r.goResults), r.nodeResults...) {
		if _, ok := rows[x.name]; !ok {
			names = append(names, x.name)
		}
		rows[x.name] = append(rows[x.name], x)
	}
	for _, name := range names {
		p("| %s |", name)
		var last result
		for _, s := range bench.Sizes {
			for _, x := range rows[name] {
				if x.size == s.Name {
					p(" %s | %.2f× |", formatNs(x.nsPerOp), x.nsPerOp/floor[s.Name])
					last = x
				}
			}
		}
		if last.allocsPerOp >= 0 {
			p(" %d (%s) |\n", last.allocsPerOp, formatBytes(last.bytesPerOp))
		} else {
			p(" n/a (V8 heap) |\n")
		}
	}
	p("\nSchemes: ")
	for i, v := range bench.Verifiers {
		if i > 0 {
			p("; ")
		}
		p("%s: %s", v.Name, v.Scheme)
	}
	p(". The stripe-go row is `webhook.ValidatePayloadWithTolerance` (verification only, no event decoding).\n")
	if r.nodeNote != "" {
		p("\nNode: %s.\n", r.nodeNote)
	} else {
		p("\nNode %s, @elevenlabs/elevenlabs-js %s: `client.webhooks.constructEvent(rawBody, header, secret)` is async, ", r.nodeVersion, r.sdkVersion)
		p("imports the key into Web Crypto on every call and ends with `JSON.parse(rawBody)`, which is part of its cost; ")
		p("the reference row is Node's own `crypto.createHmac` over the same string, to separate the SDK from the runtime.\n")
	}
	var spread float64
	for _, x := range r.goResults {
		spread = max(spread, x.spread)
	}
	p("\nLargest spread between rounds of one Go case: %.0f%% of its median (%d rounds of %s each).\n", spread*100, r.rounds, r.benchtime)

}

func (r *report) lambda(p func(string, ...any)) {
	p("\n## Lambda cold start\n\n")
	if len(r.cold) > 0 {
		p("Each binary built as deployed (`CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags \"-s -w\"`) and started %d times, ", len(r.cold[0].summary.Runs))
		p("alternating, each a fresh process with `AWS_LAMBDA_RUNTIME_API` on a loopback Runtime API. ")
		p("Times run from just before the fork to the first `GET /runtime/invocation/next` (the Init phase) and to the complete ")
		p("`POST …/response` for a %d KiB signed Function URL event; medians.\n\n", r.coldEvent>>10)
		p("| binary | start → first /next | start → first response | CPU time to first response | size %s | size arm64 |\n|---|---:|---:|---:|---:|---:|\n", runtime.GOARCH)
		for _, c := range r.cold {
			p("| %s | %s | %s | %s | %s | %s |\n", c.name, formatDur(c.summary.NextMedian), formatDur(c.summary.RespMedian),
				formatDur(c.summary.CPUMedian), formatBytes(c.sizeHost), formatBytes(c.sizeArm))
		}
		p("\nCPU time is the process's user and system time, all threads, from its start until it was stopped right after the response; ")
		p("it does not count time spent waiting for a busy CPU, so it is the steadier figure on a shared machine.\n")
		if len(r.cold) == 2 {
			a, b := r.cold[0].summary, r.cold[1].summary
			p("\nRatio, bootstrap to hello-world: **%.2f×** to the first /next, **%.2f×** to the first response, %.2f× in CPU time; binary size %.2f× (%s), %.2f× (arm64).\n",
				float64(a.NextMedian)/float64(b.NextMedian), float64(a.RespMedian)/float64(b.RespMedian),
				float64(a.CPUMedian)/float64(b.CPUMedian),
				float64(r.cold[0].sizeHost)/float64(r.cold[1].sizeHost), runtime.GOARCH,
				float64(r.cold[0].sizeArm)/float64(r.cold[1].sizeArm))
			p("\nThe bootstrap's first response includes what it does for a real event: verification, the SQS `SendMessage` to a ")
			p("loopback stub that answers at once (`AWS_ENDPOINT_URL`), and any start-up calls it makes (the queue's ")
			p("`GetQueueAttributes`, answered by the same stub). The hello-world function only decodes the event and answers 200.\n")
			p("\nLast answers: bootstrap `%s`; hello-world `%s`.\n", trim(r.cold[0].answer), trim(r.cold[1].answer))
		}
	}
	if r.coldNote != "" {
		p("\n%s\n", r.coldNote)
	}
	if len(r.cold) > 0 && r.cold[0].rieRuns > 0 {
		p("\n### Through the Lambda runtime interface emulator\n\n")
		p("The same binaries and event under the AWS Lambda runtime interface emulator (the program `sam local` runs, pinned in `tools/rie`), ")
		p("%d fresh emulators each, alternating. *First response* runs from the invocation request to the emulator to its complete answer ", r.cold[0].rieRuns)
		p("(the function's exec, its init, the event, its answer, and the emulator's own work, the same for both); ")
		p("*Init Duration* is the emulator's `INIT REPORT`, from the function's exec to its first `/next`, as Lambda bills it. ")
		p("Peak RSS is the function's `VmHWM` after its answer. Medians.\n\n")
		p("| binary | first response | Init Duration | peak RSS |\n|---|---:|---:|---:|\n")
		for _, c := range r.cold {
			p("| %s | %s | %s | %s |\n", c.name, formatDur(c.rieResp), formatDur(c.rieInit), formatBytes(c.rieRSS))
		}
		if len(r.cold) == 2 {
			a, b := r.cold[0], r.cold[1]
			p("\nRatio, bootstrap to hello-world: **%.2f×** to the first response, **%.2f×** in Init Duration.\n",
				float64(a.rieResp)/float64(b.rieResp), float64(a.rieInit)/float64(b.rieInit))
		}
		if r.bigRSS > 0 {
			p("\nPeak RSS of the bootstrap for a 6 MiB direct body (the largest event Lambda delivers; %s, claim-checked to a loopback S3 stub): **%s**.\n",
				r.bigStatus, formatBytes(r.bigRSS))
		}
	}
	if r.rieNote != "" {
		p("\n%s\n", r.rieNote)
	}

	p("\n## Cloud Function cold start\n\n")
	if len(r.gcf) == 2 {
		p("The Cloud Function built from `make gcf-source` the way the Go buildpack builds it (its generated main, vendored modules, `-trimpath`) ")
		p("beside a hello-world functions-framework-go function built the same way; each started %d times, alternating, ", r.gcf[0].runs)
		p("a fresh process with `PORT` on loopback. Time from just before the fork to the complete first 200 for a %d KiB signed webhook, ", coldEventBytes>>10)
		p("sent as soon as the port accepts (Cloud Run holds the first request until then); the function publishes it to the ")
		p("Pub/Sub emulator. Peak RSS is `VmHWM` after the answer. Medians.\n\n")
		p("| function | start → first 200 | peak RSS | size %s |\n|---|---:|---:|---:|\n", runtime.GOARCH)
		for _, g := range r.gcf {
			p("| %s | %s | %s | %s |\n", g.name, formatDur(g.resp), formatBytes(g.rss), formatBytes(g.size))
		}
		p("\nRatio, function to hello-world: **%.2f×** to the first 200; binary size %.2f×.\n",
			float64(r.gcf[0].resp)/float64(r.gcf[1].resp), float64(r.gcf[0].size)/float64(r.gcf[1].size))
		p("\nLast answers: function `%s`; hello-world `%s`.\n", trim(r.gcf[0].answer), trim(r.gcf[1].answer))
	}
	if r.gcfNote != "" {
		p("\n%s\n", r.gcfNote)
	}

	p("\n## Lambda invoke cost\n\n")
	if len(r.invoke) > 0 {
		p("One invocation of the real handler (`lambda.Handler.Invoke`), from the raw Function URL event bytes to the response bytes, ")
		p("with a queue that accepts at once and logging on into a discarding handler, timed as above beside the floor at the same size: ")
		p("decoding the event, verifying, the SHA-256 of the body for `content_sha256`, the message, the answer and the log line.\n\n")
		p("| body | invoke | floor | × floor | allocs/op | B/op |\n|---|---:|---:|---:|---:|---:|\n")
		for _, x := range r.invoke {
			p("| %s | %s | %s | %.2f× | %d | %s |\n", x.invoke.size, formatNs(x.invoke.nsPerOp), formatNs(x.floor.nsPerOp),
				x.invoke.nsPerOp/x.floor.nsPerOp, x.invoke.allocsPerOp, formatBytes(x.invoke.bytesPerOp))
		}
	}
	if r.invokeNote != "" {
		p("%s\n", r.invokeNote)
	}
	p("\n")
}

func trim(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return strings.ReplaceAll(s, "`", "'")
}

func formatNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	default:
		return fmt.Sprintf("%.0f ns", ns)
	}
}

func formatDur(d time.Duration) string { return formatNs(float64(d.Nanoseconds())) }

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}

// writeReport writes md to path, keeping the hand-written section that
// starts at reproduceHeading if the file has one.
func writeReport(path, md string) error {
	tail := defaultReproduce
	old, err := os.ReadFile(path)
	switch {
	case err == nil:
		if i := bytes.Index(old, []byte("\n"+reproduceHeading+"\n")); i >= 0 {
			tail = string(old[i+1:])
		}
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(md+tail), 0o644)
}

const defaultReproduce = reproduceHeading + `

` + "```sh" + `
make bench-peers
` + "```" + `

This installs the pinned ElevenLabs JS SDK with ` + "`npm ci`" + ` into ` + "`bench/node`" + ` (git-ignored), runs
` + "`bench/cmd/report`" + ` and rewrites the figures above. The peers live only in the ` + "`bench/`" + ` module;
the product does not depend on them.
`
