package local

import (
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// guard protects the receiver from slow and greedy clients: it refuses a
// request with 503 when the bodies in flight would pass
// Options.MaxInflightBytes, and gives each request read and write deadlines
// that move with its body's progress (see paced).
type guard struct {
	next    http.Handler
	opts    Options
	maxBody int64
	log     *slog.Logger
	now     func() time.Time

	mu   sync.Mutex
	held int64
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		// No body is read (POST only); the answer still gets a deadline of
		// its own, as a kept-alive connection would otherwise keep the one
		// an earlier request set.
		http.NewResponseController(w).SetWriteDeadline(g.now().Add(g.opts.WriteTimeout))
		g.next.ServeHTTP(w, r)
		return
	}
	// What the request may hold: the announced length, or the cap when
	// none is announced. A body announced over the cap is refused by the
	// receiver before it is read, so it holds nothing.
	need := r.ContentLength
	switch {
	case need < 0:
		need = g.maxBody
	case need > g.maxBody:
		need = 0
	}
	if !g.take(need) {
		g.log.Warn("request refused: too many bytes in flight", "outcome", "error", "status", http.StatusServiceUnavailable,
			"bytes", r.ContentLength, "max_inflight_bytes", g.opts.MaxInflightBytes)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":"busy: too many request bytes in flight, retry later (limit `+strconv.FormatInt(g.opts.MaxInflightBytes, 10)+` bytes)"}`)
		return
	}
	defer g.give(need)

	p := &paced{body: r.Body, rc: http.NewResponseController(w), opts: &g.opts, now: g.now, start: g.now()}
	p.extend()
	r.Body = p
	g.next.ServeHTTP(w, r)
}

func (g *guard) take(n int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held+n > g.opts.MaxInflightBytes {
		return false
	}
	g.held += n
	return true
}

func (g *guard) give(n int64) {
	g.mu.Lock()
	g.held -= n
	g.mu.Unlock()
}

// paced reads a request body under a deadline that grows with what has
// arrived: start + BodyTimeout + bytes/MinBodyRate. A client keeping up the
// rate never meets it; one that stalls or trickles does, after at most
// BodyTimeout plus the time its bytes bought. The write deadline follows
// (WriteTimeout beyond), and once the body is complete the read deadline is
// lifted, so that publishing is bounded by WriteTimeout alone and the
// server's background read does not cancel the request while it publishes.
type paced struct {
	body  io.ReadCloser
	rc    *http.ResponseController
	opts  *Options
	now   func() time.Time
	start time.Time
	n     int64
	done  bool
}

func (p *paced) Read(b []byte) (int, error) {
	n, err := p.body.Read(b)
	p.n += int64(n)
	switch {
	case err == io.EOF && !p.done:
		p.done = true
		p.rc.SetReadDeadline(time.Time{})
		p.rc.SetWriteDeadline(p.now().Add(p.opts.WriteTimeout))
	case n > 0:
		p.extend()
	}
	return n, err
}

func (p *paced) Close() error { return p.body.Close() }

func (p *paced) extend() {
	d := p.start.Add(p.opts.BodyTimeout + time.Duration(p.n*int64(time.Second)/p.opts.MinBodyRate))
	// Errors mean the connection cannot take deadlines (not HTTP/1 over
	// TCP); then only the server's own timeouts apply.
	p.rc.SetReadDeadline(d)
	p.rc.SetWriteDeadline(d.Add(p.opts.WriteTimeout))
}
