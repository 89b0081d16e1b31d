package testenv

import (
	"bytes"
	"sync"
)

// Buffer collects a process's or a logger's output for a test, from any
// number of goroutines. It keeps the first MiB, where the errors are.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p, or drops it once the buffer holds a MiB.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 {
		return len(p), nil
	}
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
