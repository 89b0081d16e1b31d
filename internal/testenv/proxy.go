package testenv

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy is a TCP proxy on a loopback port in front of an emulator, which a
// test takes down, brings back and slows down while clients keep their
// address: an outage the emulator itself survives with its state (a
// restarted moto starts empty). It carries HTTP and gRPC alike.
type Proxy struct {
	// Addr is where clients connect: "127.0.0.1:PORT".
	Addr   string
	target string
	ln     net.Listener
	down   atomic.Bool
	delay  atomic.Int64 // nanoseconds before each chunk of an answer
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// StartProxy forwards a loopback port to target ("host:port") until the
// test ends.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// Down cuts every open connection and refuses new ones (each is accepted
// and closed at once, as a crashed server's port would answer).
func (p *Proxy) Down() {
	p.down.Store(true)
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
}

// Up lets connections through again.
func (p *Proxy) Up() { p.down.Store(false) }

// Slow delays every chunk of every answer by d from now on; 0 ends it.
func (p *Proxy) Slow(d time.Duration) { p.delay.Store(int64(d)) }

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.down.Load() {
			c.Close()
			continue
		}
		p.wg.Add(1)
		go p.forward(c)
	}
}

func (p *Proxy) forward(c net.Conn) {
	defer p.wg.Done()
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, up) {
		return
	}
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { p.copySlow(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// track registers both ends so that Down and the cleanup can cut them; it
// refuses (and closes them) if the proxy went down meanwhile.
func (p *Proxy) track(c, up net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down.Load() || p.conns == nil {
		c.Close()
		up.Close()
		return false
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	return true
}

// copySlow copies the answer, waiting the current delay before each chunk.
func (p *Proxy) copySlow(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if d := time.Duration(p.delay.Load()); d > 0 {
				time.Sleep(d)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *Proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

// Outage calls send(i) for i in [0, n) from workers goroutines at once,
// taking the proxy down once a third of the calls have returned and
// bringing it back at two thirds: an outage in the middle of a run of
// concurrent requests. It returns when every call has.
func (p *Proxy) Outage(n, workers int, send func(i int)) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				send(i)
				mu.Lock()
				done++
				switch done {
				case n / 3:
					p.Down()
				case 2 * n / 3:
					p.Up()
				}
				mu.Unlock()
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
