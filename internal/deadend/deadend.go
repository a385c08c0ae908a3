// Package deadend gives tests the two backends a service must survive: a black hole, which
// accepts connections and never answers, and an address that refuses them.
package deadend

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// BlackHole accepts connections on loopback, reads whatever they send and never answers. It
// closes them, and its listener, when the test ends.
type BlackHole struct {
	ln       net.Listener
	mu       sync.Mutex
	conns    []net.Conn
	wg       sync.WaitGroup
	accepted atomic.Int64
}

// NewBlackHole starts one for the test.
func NewBlackHole(t testing.TB) *BlackHole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &BlackHole{ln: ln}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.accepted.Add(1)
			b.mu.Lock()
			b.conns = append(b.conns, c)
			b.mu.Unlock()
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				_, _ = io.Copy(io.Discard, c)
			}()
		}
	}()
	t.Cleanup(b.close)
	return b
}

// Addr is its host:port.
func (b *BlackHole) Addr() string { return b.ln.Addr().String() }

// URL is its address as an http URL.
func (b *BlackHole) URL() string { return "http://" + b.Addr() }

// Accepted counts the connections it took.
func (b *BlackHole) Accepted() int64 { return b.accepted.Load() }

func (b *BlackHole) close() {
	b.ln.Close()
	b.mu.Lock()
	for _, c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// Refused returns a loopback address where nothing listens, so that connections are refused.
func Refused(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
