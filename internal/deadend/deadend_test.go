package deadend_test

import (
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/internal/deadend"
	"github.com/perfobs/perfobs-go/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

func TestBlackHoleNeverAnswers(t *testing.T) {
	b := deadend.NewBlackHole(t)
	c, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read %d bytes, %v: want no answer until the deadline", n, err)
	}
	for deadline := time.Now().Add(time.Second); b.Accepted() != 1 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if b.Accepted() != 1 {
		t.Errorf("accepted %d connections, want 1", b.Accepted())
	}
}

func TestRefused(t *testing.T) {
	_, err := net.Dial("tcp", deadend.Refused(t))
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial: %v, want connection refused", err)
	}
}
