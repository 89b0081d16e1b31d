package local_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
	"github.com/elevenrelay/elevenrelay/local"
)

const testSecret = "wsec_local_harden_test"

// server is a local receiver run in-process on a free loopback port.
type server struct {
	base  string // http://127.0.0.1:port
	addr  string
	spool string
	logs  *testenv.Buffer
}

// startLocal runs local.Run with o (Addr, SpoolPath, Getenv, Logger and
// Ready filled in) and env as its environment, and stops it at cleanup.
func startLocal(t *testing.T, o local.Options, env map[string]string) *server {
	t.Helper()
	s := &server{spool: filepath.Join(t.TempDir(), "spool.jsonl"), logs: &testenv.Buffer{}}
	if env == nil {
		env = map[string]string{}
	}
	if _, ok := env[envvar.Secret]; !ok {
		env[envvar.Secret] = testSecret
	}
	o.Addr = "127.0.0.1:0"
	o.SpoolPath = s.spool
	o.Getenv = func(k string) string { return env[k] }
	o.Logger = slog.New(slog.NewJSONHandler(s.logs, nil))
	ready := make(chan string, 1)
	o.Ready = func(addr string) { ready <- addr }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- local.Run(ctx, o) }()
	select {
	case s.addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("local.Run: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("local.Run did not start")
	}
	s.base = "http://" + s.addr
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("local.Run: %v", err)
		}
	})
	return s
}

// post signs body with testSecret and posts it.
func (s *server) post(t *testing.T, client *http.Client, body []byte, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.base+"/webhook", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(core.SignatureHeader, core.Sign(testSecret, time.Now(), body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// rawRequest is the head of a signed POST /webhook announcing length bytes.
func rawRequest(body []byte, length int, extra string) string {
	return "POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
		core.SignatureHeader + ": " + core.Sign(testSecret, time.Now(), body) + "\r\n" +
		"Content-Length: " + strconv.Itoa(length) + "\r\n" + extra + "\r\n"
}

// closedWithin reports whether the server closes c (or answers and then
// closes) within limit, returning what it wrote.
func closedWithin(t *testing.T, c net.Conn, limit time.Duration) (string, bool) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(limit))
	b, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return string(b), false
	}
	return string(b), true
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestSlowClientsAreCutOff holds the timeouts with short values set through
// Options: each stalled client is disconnected within a bounded time.
func TestSlowClientsAreCutOff(t *testing.T) {
	s := startLocal(t, local.Options{
		HeaderTimeout: 300 * time.Millisecond,
		BodyTimeout:   300 * time.Millisecond,
		MinBodyRate:   1000, // bytes per second
		IdleTimeout:   300 * time.Millisecond,
	}, nil)
	body := []byte(`{"type":"post_call_transcription"}`)
	const limit = 5 * time.Second // generous for a loaded machine; the timeouts are 300 ms

	t.Run("headers stalled", func(t *testing.T) {
		c := dial(t, s.addr)
		io.WriteString(c, "POST /webhook HTTP/1.1\r\nHost: x\r\n")
		if _, closed := closedWithin(t, c, limit); !closed {
			t.Fatal("connection with stalled headers still open")
		}
	})
	t.Run("headers stalled on a reused connection", func(t *testing.T) {
		c := dial(t, s.addr)
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("first request: %v %v", res, err)
		}
		io.Copy(io.Discard, res.Body)
		io.WriteString(c, "POST /webhook HTTP/1.1\r\nHo")
		if _, closed := closedWithin(t, c, limit); !closed {
			t.Fatal("reused connection with stalled headers still open")
		}
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		c := dial(t, s.addr)
		br := bufio.NewReader(c)
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		res, err := http.ReadResponse(br, nil)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("first request: %v %v", res, err)
		}
		io.Copy(io.Discard, res.Body)
		c.SetReadDeadline(time.Now().Add(limit))
		if _, err := br.ReadByte(); err != io.EOF {
			t.Fatalf("idle connection: read err = %v, want EOF (closed by the server)", err)
		}
	})
	t.Run("body trickled", func(t *testing.T) {
		c := dial(t, s.addr)
		io.WriteString(c, rawRequest(body, len(body), ""))
		// One byte every 100 ms is 10 B/s, far under MinBodyRate.
		stop := time.After(limit)
		for i := 0; i < len(body)-1; i++ {
			if _, err := c.Write(body[i : i+1]); err != nil {
				return // cut off
			}
			select {
			case <-stop:
				t.Fatal("trickling client still connected")
			case <-time.After(100 * time.Millisecond):
			}
			c.SetReadDeadline(time.Now().Add(time.Millisecond))
			if out, err := io.ReadAll(c); len(out) > 0 || (err != nil && !isTimeout(err)) {
				if len(out) > 0 && !strings.HasPrefix(string(out), "HTTP/1.1 400") {
					t.Fatalf("answer to a trickled body: %q", out)
				}
				return // answered 400 and closed, or closed
			}
		}
		t.Fatal("the whole trickled body was taken")
	})
	t.Run("content-length larger than the body, then stalled", func(t *testing.T) {
		c := dial(t, s.addr)
		io.WriteString(c, rawRequest(body, len(body)+100, ""))
		c.Write(body)
		out, closed := closedWithin(t, c, limit)
		if !closed || !strings.HasPrefix(out, "HTTP/1.1 400") {
			t.Fatalf("closed=%v answer %q, want a 400 and a closed connection", closed, out)
		}
	})
	t.Run("content-length larger than the body, then closed", func(t *testing.T) {
		c := dial(t, s.addr)
		io.WriteString(c, rawRequest(body, len(body)+100, ""))
		c.Write(body)
		c.(*net.TCPConn).CloseWrite()
		out, closed := closedWithin(t, c, limit)
		if !closed || !strings.HasPrefix(out, "HTTP/1.1 400") {
			t.Fatalf("closed=%v answer %q, want a 400", closed, out)
		}
	})
	t.Run("slow steady body passes", func(t *testing.T) {
		// 3 KB at about 3 KB/s: longer than BodyTimeout, but above
		// MinBodyRate, so the deadline keeps moving and the body passes.
		big := []byte(`{"type":"post_call_transcription","pad":"` + strings.Repeat("x", 3000) + `"}`)
		c := dial(t, s.addr)
		io.WriteString(c, rawRequest(big, len(big), ""))
		start := time.Now()
		for off := 0; off < len(big); off += 300 {
			c.Write(big[off:min(off+300, len(big))])
			time.Sleep(100 * time.Millisecond)
		}
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("slow steady body: %v", err)
		}
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("slow steady body: %d %s", res.StatusCode, b)
		}
		if took := time.Since(start); took < 600*time.Millisecond {
			t.Fatalf("upload took %v: not longer than BodyTimeout, the test proves nothing", took)
		}
	})
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestInflightBytesBound: two clients announcing bodies fill the bound and
// stall; a third gets 503 before sending its body; once the first two
// finish, it gets through.
func TestInflightBytesBound(t *testing.T) {
	s := startLocal(t, local.Options{MaxInflightBytes: 2500, BodyTimeout: 30 * time.Second},
		map[string]string{envvar.MaxBodyBytes: "1000"})
	body := []byte(`{"type":"post_call_transcription","pad":"` + strings.Repeat("x", 900) + `"}`)
	stalled := []net.Conn{dial(t, s.addr), dial(t, s.addr)}
	for _, c := range stalled {
		io.WriteString(c, rawRequest(body, len(body), ""))
	}
	// The two stalled requests reach the handler soon; until then a third
	// may still pass. Retry (bounded) until the bound holds.
	var status int
	var answer string
	for i := 0; i < 100; i++ {
		status, answer = s.post(t, nil, body, nil)
		if status == http.StatusServiceUnavailable {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status != http.StatusServiceUnavailable || !strings.Contains(answer, `"error":"busy`) {
		t.Fatalf("third request: %d %s, want 503 busy", status, answer)
	}
	for _, c := range stalled {
		c.Write(body)
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("stalled request after sending its body: %v %v", res, err)
		}
	}
	if status, answer := s.post(t, nil, body, nil); status != 200 {
		t.Fatalf("after the others finished: %d %s", status, answer)
	}
	// A body announced over the cap holds nothing: 413, not 503.
	big := bytes.Repeat([]byte("x"), 1001)
	if status, _ := s.post(t, nil, big, nil); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("body over the cap: %d, want 413", status)
	}
	if !strings.Contains(s.logs.String(), "too many bytes in flight") {
		t.Fatalf("no log line for the 503:\n%s", s.logs.String())
	}
}

// TestExpectContinue: a client that asks before sending its body gets
// 100 Continue, then the answer.
func TestExpectContinue(t *testing.T) {
	s := startLocal(t, local.Options{}, nil)
	body := []byte(`{"type":"post_call_transcription"}`)
	c := dial(t, s.addr)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	io.WriteString(c, rawRequest(body, len(body), "Expect: 100-continue\r\n"))
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 Continue") {
		t.Fatalf("interim answer %q, %v", line, err)
	}
	br.ReadString('\n') // the blank line after the 100
	c.Write(body)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("answer after 100 Continue: %v %v", res, err)
	}
	lines, err := local.ReadSpool(s.spool)
	if err != nil || len(lines) != 1 || !bytes.Equal(lines[0].RawBody(), body) {
		t.Fatalf("spool: %v %v", lines, err)
	}
}

// TestEdgeBodies: the real 32 MiB cap (one byte under, at, over), an empty
// signed body, a UTF-8 BOM before JSON and a gzip body, each spooled byte
// for byte as sent.
func TestEdgeBodies(t *testing.T) {
	const maxBody = 32 << 20 // the local server's default cap
	// The race detector makes encoding 32 MiB slow: give the spool time.
	s := startLocal(t, local.Options{}, map[string]string{envvar.PublishTimeout: "2m"})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"type":"post_call_transcription"}`))
	zw.Close()
	atCap := append([]byte(`{"type":"post_call_audio","full_audio":"`), bytes.Repeat([]byte("A"), maxBody)...)
	atCap = append(atCap[:maxBody-2], '"', '}')
	tests := []struct {
		name       string
		body       []byte
		header     map[string]string
		wantStatus int
		wantType   string
	}{
		{"32 MiB exactly", atCap, nil, 200, "post_call_audio"},
		{"32 MiB + 1", append(append([]byte(nil), atCap...), ' '), nil, 413, ""},
		{"empty body", []byte{}, nil, 200, core.UnknownEventType},
		// The classifier reads JSON from its first byte: a BOM makes the
		// body unknown JSON-wise, but it is authentic, so it is queued.
		{"UTF-8 BOM before JSON", []byte("\uFEFF{\"type\":\"post_call_transcription\"}"), nil, 200, core.UnknownEventType},
		// Verified over the bytes as sent, queued as is: never decompressed.
		{"gzip", gz.Bytes(), map[string]string{"Content-Encoding": "gzip"}, 200, core.UnknownEventType},
	}
	var want [][]byte
	for _, tc := range tests {
		status, answer := s.post(t, nil, tc.body, tc.header)
		if status != tc.wantStatus {
			t.Fatalf("%s: %d %s, want %d", tc.name, status, answer, tc.wantStatus)
		}
		if status == 200 {
			want = append(want, tc.body)
		}
	}
	lines, err := local.ReadSpool(s.spool)
	if err != nil || len(lines) != len(want) {
		t.Fatalf("spool: %d lines, %v; want %d", len(lines), err, len(want))
	}
	i := 0
	for _, tc := range tests {
		if tc.wantStatus != 200 {
			continue
		}
		l := lines[i]
		i++
		if !bytes.Equal(l.RawBody(), tc.body) || l.Attributes[core.AttrEventType] != tc.wantType {
			t.Errorf("%s: spooled %d bytes, event_type %q; want %d bytes, %q", tc.name, len(l.RawBody()), l.Attributes[core.AttrEventType], len(tc.body), tc.wantType)
		}
	}
}

// TestConcurrentRequestsIntoSpool sends 2,000 distinct signed bodies at
// once and checks the spool byte for byte: every 200 has its line with its
// message id, nothing else is there, and no line is torn or interleaved.
func TestConcurrentRequestsIntoSpool(t *testing.T) {
	s := startLocal(t, local.Options{}, nil)
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 256, MaxIdleConnsPerHost: 256}}
	t.Cleanup(client.CloseIdleConnections)
	const n = 2000
	bodies := make([][]byte, n)
	for i := range bodies {
		switch i % 3 {
		case 0:
			bodies[i] = fmt.Appendf(nil, `{"type":"post_call_transcription","data":{"conversation_id":"c%d","text":"line\nbreak \"q\""}}`, i)
		case 1: // control bytes: spooled as base64
			bodies[i] = append(fmt.Appendf(nil, "%d:", i), bytes.Repeat([]byte{1, 2, 3}, i%50)...)
		default: // invalid UTF-8
			bodies[i] = append(fmt.Appendf(nil, "%d:", i), 0xff, 0xfe)
		}
	}
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, s.base+"/webhook", bytes.NewReader(bodies[i]))
			req.Header.Set(core.SignatureHeader, core.Sign(testSecret, time.Now(), bodies[i]))
			res, err := client.Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			defer res.Body.Close()
			var a struct {
				Status    string `json:"status"`
				MessageID string `json:"message_id"`
			}
			if err := json.NewDecoder(res.Body).Decode(&a); err != nil || res.StatusCode != 200 {
				errs <- fmt.Sprintf("request %d: %d %v", i, res.StatusCode, err)
				return
			}
			ids[i] = a.MessageID
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	lines, err := local.ReadSpool(s.spool)
	if err != nil || len(lines) != n {
		t.Fatalf("spool: %d lines, %v; want %d", len(lines), err, n)
	}
	byID := make(map[string]local.SpoolLine, n)
	for _, l := range lines {
		byID[l.MessageID] = l
	}
	for i, id := range ids {
		l, ok := byID[id]
		if !ok {
			t.Fatalf("request %d answered 200 with %s, which is not in the spool", i, id)
		}
		sum := sha256.Sum256(bodies[i])
		if !bytes.Equal(l.RawBody(), bodies[i]) || l.Attributes[core.AttrContentSHA256] != hex.EncodeToString(sum[:]) {
			t.Fatalf("request %d: spooled body differs", i)
		}
		delete(byID, id)
	}
	if len(byID) != 0 {
		t.Fatalf("%d lines in the spool without a 200", len(byID))
	}
}

// TestKeptAliveConnectionOutlivesWriteDeadline: a deadline set for one
// request does not fail a later request on the same connection.
func TestKeptAliveConnectionOutlivesWriteDeadline(t *testing.T) {
	s := startLocal(t, local.Options{WriteTimeout: 200 * time.Millisecond, IdleTimeout: 10 * time.Second}, nil)
	c := dial(t, s.addr)
	br := bufio.NewReader(c)
	body := []byte(`{"type":"post_call_transcription"}`)
	io.WriteString(c, rawRequest(body, len(body), ""))
	c.Write(body)
	for i, req := range []string{"", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "GET /webhook HTTP/1.1\r\nHost: x\r\n\r\n"} {
		if i > 0 {
			time.Sleep(400 * time.Millisecond) // past the earlier request's write deadline
			io.WriteString(c, req)
		}
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d on the kept-alive connection: %v", i, err)
		}
		io.Copy(io.Discard, res.Body)
		if want := []int{200, 200, 405}[i]; res.StatusCode != want {
			t.Fatalf("request %d: %d, want %d", i, res.StatusCode, want)
		}
	}
}

// TestSecretOfOnlyCommas: a secret variable that is set but holds no secret
// stops the server with an error naming it, instead of a warning that it is
// unset and a fall back to the public development secret.
func TestSecretOfOnlyCommas(t *testing.T) {
	err := local.Run(context.Background(), local.Options{Addr: "127.0.0.1:0", SpoolPath: filepath.Join(t.TempDir(), "s.jsonl"),
		Getenv: func(k string) string { return map[string]string{envvar.Secret: " , "}[k] }})
	if !errors.Is(err, core.ErrConfig) || !strings.Contains(err.Error(), "ELEVENLABS_WEBHOOK_SECRET holds only commas and white space") {
		t.Fatalf("err = %v", err)
	}
}
