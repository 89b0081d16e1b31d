package local

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// ParseSpoolLine decodes one line of the spool file (without its newline).
// Its body may be inline or base64 (body_base64); RawBody gives the bytes.
func ParseSpoolLine(b []byte) (SpoolLine, error) {
	var l SpoolLine
	if err := json.Unmarshal(b, &l); err != nil {
		return SpoolLine{}, fmt.Errorf("spool line: %w", err)
	}
	if l.Body == nil && l.BodyBase64 == nil {
		return SpoolLine{}, errors.New("spool line: no body")
	}
	return l, nil
}

// tailPoll is how often Tail looks for new lines.
const tailPoll = 200 * time.Millisecond

// Tail reads the spool file at path from its first line, then follows it as
// the server appends, calling each with every line in order, until ctx is
// done (it then returns nil). A line that is not a spool line comes with a
// non-nil error, and Tail goes on. It waits for a file not yet created and
// starts over when the file is replaced or truncated (make clean). A line
// still being written (no newline yet) waits for its end; one that the
// server cuts as torn by a crash, when it restarts, is never delivered.
func Tail(ctx context.Context, path string, each func(SpoolLine, error)) error {
	var (
		f       *os.File
		r       *bufio.Reader
		offset  int64
		partial []byte
	)
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	wait := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(tailPoll):
			return true
		}
	}
	for ctx.Err() == nil {
		if f == nil {
			var err error
			f, err = os.Open(path)
			if errors.Is(err, fs.ErrNotExist) {
				if !wait() {
					break
				}
				continue
			}
			if err != nil {
				return err
			}
			r, offset, partial = bufio.NewReaderSize(f, 64<<10), 0, nil
		}
		line, err := r.ReadBytes('\n')
		offset += int64(len(line))
		if err == nil {
			line = append(partial, line[:len(line)-1]...)
			partial = nil
			if len(bytes.TrimSpace(line)) > 0 {
				each(ParseSpoolLine(line))
			}
			continue
		}
		if !errors.Is(err, io.EOF) {
			return err
		}
		partial = append(partial, line...)
		start := offset - int64(len(partial)) // where the unfinished line began
		if size, same := current(f, path); !same || size < start {
			// Replaced or truncated (make clean): start over.
			f.Close()
			f = nil
			continue
		}
		if !wait() {
			break
		}
		if len(partial) > 0 && !stillThere(f, start, partial) {
			// The unfinished line was cut (the restarted server moved a
			// line torn by a crash aside), and lines may follow already:
			// drop it and read on from the last whole line.
			offset, partial = start, nil
			if _, err := f.Seek(offset, io.SeekStart); err != nil {
				return err
			}
			r.Reset(f)
		}
	}
	return nil
}

// current returns the size of the file at path and whether it is still
// the file f reads.
func current(f *os.File, path string) (int64, bool) {
	cur, err1 := f.Stat()
	now, err2 := os.Stat(path)
	if err1 != nil || err2 != nil || !os.SameFile(cur, now) {
		return 0, false
	}
	return now.Size(), true
}

// stillThere reports whether f holds b at off.
func stillThere(f *os.File, off int64, b []byte) bool {
	got := make([]byte, len(b))
	n, _ := f.ReadAt(got, off)
	return n == len(b) && bytes.Equal(got, b)
}
