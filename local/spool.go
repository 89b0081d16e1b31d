package local

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/elevenrelay/elevenrelay/core"
)

// SpoolLine is one accepted message in the spool file.
type SpoolLine struct {
	MessageID  string            `json:"message_id"`
	Attributes map[string]string `json:"attributes"`
	// Body is the raw body when it is valid UTF-8 and JSON escaping costs
	// no more than base64 would (JSON strings keep every byte of it);
	// otherwise BodyBase64 holds it, so a line stays within about 1.4×
	// its body whatever the bytes.
	Body       *string `json:"body,omitempty"`
	BodyBase64 []byte  `json:"body_base64,omitempty"`
}

// RawBody returns the line's body bytes.
func (l SpoolLine) RawBody() []byte {
	if l.Body != nil {
		return []byte(*l.Body)
	}
	return l.BodyBase64
}

// Spool is a core.Sink that appends each message as one JSON line to a file
// and syncs it before answering, as a durable queue would.
//
// The first Publish (or Run, at start) repairs a line torn by a crash: the
// bytes after the last newline are moved to a file beside the spool
// (<spool>.torn-<time>-<n>) and cut from it, so that the next line starts
// on a line of its own instead of being glued to the fragment.
type Spool struct {
	Path   string
	Logger *slog.Logger

	mu      sync.Mutex // guards the fields below and orders appends
	f       *os.File
	size    int64  // bytes in the file: where a failed append is cut back to
	written uint64 // lines appended
	broken  error  // set when the file may end in a torn line we could not cut

	syncMu sync.Mutex // one fsync at a time; it covers every line appended before it
	synced uint64     // lines known to be on disk
}

var _ core.Sink = (*Spool)(nil)

// errSpoolClosed is returned by Publish after Close.
var errSpoolClosed = errors.New("spool closed")

// Publish appends m to the spool file and returns once the line is on disk.
// Concurrent calls share fsyncs (group commit): each waits for one sync
// that started after its own write.
func (s *Spool) Publish(ctx context.Context, m *core.Message) (string, error) {
	id := newID()
	line, err := encodeLine(id, m)
	if err != nil {
		return "", err
	}

	s.mu.Lock()
	if err := ctx.Err(); err != nil {
		// The caller gave up (and answered 503) while this waited its
		// turn: a line now would be an event queued without a 2xx.
		s.mu.Unlock()
		return "", err
	}
	if err := s.openLocked(); err != nil {
		s.mu.Unlock()
		return "", err
	}
	f := s.f
	if _, err := f.Write(line); err != nil {
		// Cut a partial write back so that the next line is not glued to it.
		if terr := f.Truncate(s.size); terr != nil {
			s.broken = fmt.Errorf("spool %s: append failed (%v) and could not be cut back: %w", s.Path, err, terr)
		}
		s.mu.Unlock()
		return "", err
	}
	s.size += int64(len(line))
	s.written++
	mine := s.written
	s.mu.Unlock()

	s.syncMu.Lock()
	if s.synced < mine {
		s.mu.Lock()
		upto, broken := s.written, s.broken
		s.mu.Unlock()
		// An fsync that failed for a line written before ours may have
		// dropped our pages too, and Linux reports that error only once:
		// a second Sync would return nil for bytes that are not on disk.
		if broken != nil {
			s.syncMu.Unlock()
			return "", broken
		}
		if err := f.Sync(); err != nil {
			// After a failed fsync the kernel may have dropped the pages:
			// nothing written since can be trusted, so stop accepting.
			s.mu.Lock()
			s.broken = fmt.Errorf("spool %s: fsync: %w", s.Path, err)
			s.mu.Unlock()
			s.syncMu.Unlock()
			return "", err
		}
		s.synced = upto
	}
	s.syncMu.Unlock()

	if s.Logger != nil {
		s.Logger.Info("spooled", "message_id", id, "event_type", m.EventType, "bytes", len(m.Body), "spool", s.Path)
	}
	return id, nil
}

// Close closes the spool file; Publish fails after it.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken == nil {
		s.broken = errSpoolClosed
	}
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// open opens the spool (repairing a torn last line) if it is not open yet.
func (s *Spool) open() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.openLocked()
}

func (s *Spool) openLocked() error {
	if s.broken != nil {
		return s.broken
	}
	if s.f != nil {
		return nil
	}
	dir := filepath.Dir(s.Path)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := syncDir(filepath.Dir(dir)); err != nil {
			return err
		}
	}
	if err := s.repairLocked(); err != nil {
		return err
	}
	_, statErr := os.Stat(s.Path)
	f, err := os.OpenFile(s.Path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if errors.Is(statErr, os.ErrNotExist) {
		// A new file's name is durable only once its directory is synced.
		if err := syncDir(dir); err != nil {
			f.Close()
			return err
		}
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	s.f, s.size = f, st.Size()
	return nil
}

// repairLocked moves a torn last line (bytes after the last newline) to a
// file of its own, durably, and only then cuts it from the spool.
func (s *Spool) repairLocked() error {
	f, err := os.OpenFile(s.Path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	keep, err := lastNewlineEnd(f, st.Size())
	if err != nil || keep == st.Size() {
		return err
	}
	dir, base := filepath.Split(s.Path)
	if dir == "" {
		dir = "."
	}
	frag, err := os.CreateTemp(dir, base+".torn-"+time.Now().UTC().Format("20060102T150405Z")+"-*")
	if err != nil {
		return err
	}
	_, err = io.Copy(frag, io.NewSectionReader(f, keep, st.Size()-keep))
	if err == nil {
		err = frag.Sync()
	}
	if cerr := frag.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err == nil {
		err = f.Truncate(keep)
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		return fmt.Errorf("spool %s: moving a torn last line aside: %w", s.Path, err)
	}
	if s.Logger != nil {
		s.Logger.Warn("spool ended in a torn line (a crash during a write); moved it aside",
			"spool", s.Path, "fragment", frag.Name(), "bytes", st.Size()-keep)
	}
	return nil
}

// lastNewlineEnd returns the offset just after the last '\n' in the first
// size bytes of f (0 when there is none), reading backwards in blocks.
func lastNewlineEnd(f io.ReaderAt, size int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for end := size; end > 0; {
		start := max(0, end-int64(len(buf)))
		b := buf[:end-start]
		if _, err := f.ReadAt(b, start); err != nil && err != io.EOF {
			return 0, err
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// encodeLine is the spool line for m, newline included. The body is a JSON
// string when that costs no more than base64, else base64: escaping control
// bytes can make a string six times its body (\u0001 for each byte), while
// base64 is always 4/3.
func encodeLine(id string, m *core.Message) ([]byte, error) {
	line := SpoolLine{MessageID: id, Attributes: m.Attributes()}
	if utf8.Valid(m.Body) && escapedLen(m.Body) <= base64.StdEncoding.EncodedLen(len(m.Body)) {
		b := string(m.Body)
		line.Body = &b
	} else {
		line.BodyBase64 = m.Body
	}
	var buf bytes.Buffer
	buf.Grow(base64.StdEncoding.EncodedLen(len(m.Body)) + 512)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // <, > and & cost six bytes each and need no escaping in a file
	if err := enc.Encode(line); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// escapedLen is the length of b as the contents of a JSON string written by
// encoding/json without HTML escaping (b is valid UTF-8).
func escapedLen(b []byte) int {
	n := len(b)
	for _, c := range b {
		switch {
		case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f':
			n++
		case c < 0x20:
			n += 5
		}
	}
	// U+2028 and U+2029 (three bytes each) are written as \u2028, \u2029.
	return n + 3*(bytes.Count(b, []byte("\u2028"))+bytes.Count(b, []byte("\u2029")))
}

// ReadSpool returns every line of a spool file, for tests and tools. A last
// line without its newline that does not parse is a write in progress, or
// one torn by a crash that the server moves aside when it starts: it is
// left out, not reported. Any other line that does not parse is an error,
// returned with the lines before it.
func ReadSpool(path string) ([]SpoolLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []SpoolLine
	r := bufio.NewReaderSize(f, 64<<10)
	for n := 1; ; n++ {
		raw, err := r.ReadBytes('\n')
		last := err == io.EOF
		if err != nil && !last {
			return out, fmt.Errorf("spool %s: %w", path, err)
		}
		if len(bytes.TrimSpace(raw)) > 0 {
			var l SpoolLine
			if err := json.Unmarshal(raw, &l); err != nil {
				if last {
					return out, nil
				}
				return out, fmt.Errorf("spool %s line %d: %w", path, n, err)
			}
			out = append(out, l)
		}
		if last {
			return out, nil
		}
	}
}
