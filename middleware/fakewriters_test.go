package middleware_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
)

// fakeWriters returns one writer per combination of the optional interfaces, indexed by the mask
// Flusher=1, Hijacker=2, ReaderFrom=4, Pusher=8. Each records the optional calls it received.
func fakeWriters() []callRecorder {
	return []callRecorder{
		&fakePlain{rec: httptest.NewRecorder()},
		&fakeF{rec: httptest.NewRecorder()},
		&fakeH{rec: httptest.NewRecorder()},
		&fakeFH{rec: httptest.NewRecorder()},
		&fakeR{rec: httptest.NewRecorder()},
		&fakeFR{rec: httptest.NewRecorder()},
		&fakeHR{rec: httptest.NewRecorder()},
		&fakeFHR{rec: httptest.NewRecorder()},
		&fakeP{rec: httptest.NewRecorder()},
		&fakeFP{rec: httptest.NewRecorder()},
		&fakeHP{rec: httptest.NewRecorder()},
		&fakeFHP{rec: httptest.NewRecorder()},
		&fakeRP{rec: httptest.NewRecorder()},
		&fakeFRP{rec: httptest.NewRecorder()},
		&fakeHRP{rec: httptest.NewRecorder()},
		&fakeFHRP{rec: httptest.NewRecorder()},
	}
}

// callRecorder is a fake writer that lists the optional methods called on it.
type callRecorder interface {
	http.ResponseWriter
	Calls() []string
}

type base struct{ calls []string }

func (b *base) Calls() []string { return b.calls }

type fakePlain struct {
	base
	rec *httptest.ResponseRecorder
}

func (w *fakePlain) Header() http.Header         { return w.rec.Header() }
func (w *fakePlain) Write(b []byte) (int, error) { return w.rec.Write(b) }
func (w *fakePlain) WriteHeader(c int)           { w.rec.WriteHeader(c) }

type fakeF struct {
	base
	rec *httptest.ResponseRecorder
}

func (w *fakeF) Header() http.Header         { return w.rec.Header() }
func (w *fakeF) Write(b []byte) (int, error) { return w.rec.Write(b) }
func (w *fakeF) WriteHeader(c int)           { w.rec.WriteHeader(c) }
func (w *fakeF) Flush()                      { w.calls = append(w.calls, "Flush") }

type fakeH struct {
	base
	rec *httptest.ResponseRecorder
}

func (w *fakeH) Header() http.Header         { return w.rec.Header() }
func (w *fakeH) Write(b []byte) (int, error) { return w.rec.Write(b) }
func (w *fakeH) WriteHeader(c int)           { w.rec.WriteHeader(c) }
func (w *fakeH) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.calls = append(w.calls, "Hijack")
	return nil, nil, nil
}

type fakeFH struct {
	base
	rec *httptest.ResponseRecorder
}

func (w *fakeFH) Header() http.Header         { return w.rec.Header() }
func (w *fakeFH) Write(b []byte) (int, error) { return w.rec.Write(b) }
func (w *fakeFH) WriteHeader(c int)           { w.rec.WriteHeader(c) }
func (w *fakeFH) Flush()                      { w.calls = append(w.calls, "Flush") }
func (w *fakeFH) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.calls = append(w.calls, "Hijack")
	return nil, nil, nil
}

type fakeR struct {
	base
	rec *httptest.ResponseRecorder
}

func (w *fakeR) Header() http.Header         { return w.rec.Header() }
func (w *fakeR) Write(b []byte) (int, error) { return w.rec.Write(b) }
func (w *fakeR) WriteHeader(c int)           { w.rec.WriteHeader(c) }
func (w *fakeR) ReadFrom(src io.Reader) (int64, error) {
	w.calls = append(w.calls, "ReadFrom")
	return io.Copy(io.Discard, src)
}

type fakeFR struct {
	base
	rec *httptest.ResponseRecorder
}

func (w *fakeFR) Header() http.Header         { return w.rec.Header() }
func (w *fakeFR) Write(b []byte) (int, error) { return w.rec.Write(b) }
func (w *fakeFR) WriteHeader(c int)           { w.rec.WriteHeader(c) }
func (w *fakeFR) Flush()                      { w.calls = append(w.calls, "Flush") }
func (w *fakeFR) ReadFrom(src io.Reader) (int64, error) {
	w.calls = append(w.calls, "ReadFrom")
	return io.Copy(io.Discard, src)
}

type fakeHR struct {
	base
	rec *httptest.ResponseRecorder
}

func (w *fakeHR) Header() http.Header         { return w.rec.Header() }
func (w *fakeHR) Write(b []byte) (int, error) { return w.rec.Write(b) }
func (w *fakeHR) WriteHeader(c int)           { w.rec.WriteHeader(c) }
func (w *fakeHR) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.calls = append(w.calls, "Hijack")
	return nil, nil, nil
}
func (w *fakeHR) ReadFrom(src io.Reader) (int64, error) {
	w.calls = append(w.calls, "ReadFrom")
	return io.Copy(io.Discard, src)
}

type fakeFHR struct {
	base
	rec *httptest.ResponseRecorder
}

func (w *fakeFHR) Header() http.Header         { return w.rec.Header() }
func (w *fakeFHR) Write(b []byte) (int, error) { return w.rec.Write(b) }
func (w *fakeFHR) WriteHeader(c int)           { w.rec.WriteHeader(c) }
func (w *fakeFHR) Flush()                      { w.calls = append(w.calls, "Flush") }
func (w *fakeFHR) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.calls = append(w.calls, "Hijack")
	return nil, nil, nil
}
func (w *fakeFHR) ReadFrom(src io.Reader) (int64, error) {
	w.calls = append(w.calls, "ReadFrom")
	return io.Copy(io.Discard, src)
}

type fakeP struct {
	base
	rec *httptest.ResponseRecorder
}

func (w *fakeP) Header() http.Header         { return w.rec.Header() }
func (w *fakeP) Write(b []byte) (int, error) { return w.rec.Write(b) }
func (w *fakeP) WriteHeader(c int)           { w.rec.WriteHeader(c) }
func (w *fakeP) Push(target string, opts *http.PushOptions) error {
	w.calls = append(w.calls, "Push")
	return nil
}

type fakeFP struct {
	base
	rec *httptest.ResponseRecorder
}

func (w *fakeFP) Header() http.Header         { return w.rec.Header() }
func (w *fakeFP) Write(b []byte) (int, error) { return w.rec.Write(b) }
func (w *fakeFP) WriteHeader(c int)           { w.rec.WriteHeader(c) }
func (w *fakeFP) Flush()                      { w.calls = append(w.calls, "Flush") }
func (w *fakeFP) Push(target string, opts *http.PushOptions) error {
	w.calls = append(w.calls, "Push")
	return nil
}

type fakeHP struct {
	base
	rec *httptest.ResponseRecorder
}

func (w *fakeHP) Header() http.Header         { return w.rec.Header() }
func (w *fakeHP) Write(b []byte) (int, error) { return w.rec.Write(b) }
func (w *fakeHP) WriteHeader(c int)           { w.rec.WriteHeader(c) }
func (w *fakeHP) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.calls = append(w.calls, "Hijack")
	return nil, nil, nil
}
func (w *fakeHP) Push(target string, opts *http.PushOptions) error {
	w.calls = append(w.calls, "Push")
	return nil
}

type fakeFHP struct {
	base
	rec *httptest.ResponseRecorder
}

func (w *fakeFHP) Header() http.Header         { return w.rec.Header() }
func (w *fakeFHP) Write(b []byte) (int, error) { return w.rec.Write(b) }
func (w *fakeFHP) WriteHeader(c int)           { w.rec.WriteHeader(c) }
func (w *fakeFHP) Flush()                      { w.calls = append(w.calls, "Flush") }
func (w *fakeFHP) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.calls = append(w.calls, "Hijack")
	return nil, nil, nil
}
func (w *fakeFHP) Push(target string, opts *http.PushOptions) error {
	w.calls = append(w.calls, "Push")
	return nil
}

type fakeRP struct {
	base
	rec *httptest.ResponseRecorder
}

func (w *fakeRP) Header() http.Header         { return w.rec.Header() }
func (w *fakeRP) Write(b []byte) (int, error) { return w.rec.Write(b) }
func (w *fakeRP) WriteHeader(c int)           { w.rec.WriteHeader(c) }
func (w *fakeRP) ReadFrom(src io.Reader) (int64, error) {
	w.calls = append(w.calls, "ReadFrom")
	return io.Copy(io.Discard, src)
}
func (w *fakeRP) Push(target string, opts *http.PushOptions) error {
	w.calls = append(w.calls, "Push")
	return nil
}

type fakeFRP struct {
	base
	rec *httptest.ResponseRecorder
}

func (w *fakeFRP) Header() http.Header         { return w.rec.Header() }
func (w *fakeFRP) Write(b []byte) (int, error) { return w.rec.Write(b) }
func (w *fakeFRP) WriteHeader(c int)           { w.rec.WriteHeader(c) }
func (w *fakeFRP) Flush()                      { w.calls = append(w.calls, "Flush") }
func (w *fakeFRP) ReadFrom(src io.Reader) (int64, error) {
	w.calls = append(w.calls, "ReadFrom")
	return io.Copy(io.Discard, src)
}
func (w *fakeFRP) Push(target string, opts *http.PushOptions) error {
	w.calls = append(w.calls, "Push")
	return nil
}

type fakeHRP struct {
	base
	rec *httptest.ResponseRecorder
}

func (w *fakeHRP) Header() http.Header         { return w.rec.Header() }
func (w *fakeHRP) Write(b []byte) (int, error) { return w.rec.Write(b) }
func (w *fakeHRP) WriteHeader(c int)           { w.rec.WriteHeader(c) }
func (w *fakeHRP) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.calls = append(w.calls, "Hijack")
	return nil, nil, nil
}
func (w *fakeHRP) ReadFrom(src io.Reader) (int64, error) {
	w.calls = append(w.calls, "ReadFrom")
	return io.Copy(io.Discard, src)
}
func (w *fakeHRP) Push(target string, opts *http.PushOptions) error {
	w.calls = append(w.calls, "Push")
	return nil
}

type fakeFHRP struct {
	base
	rec *httptest.ResponseRecorder
}

func (w *fakeFHRP) Header() http.Header         { return w.rec.Header() }
func (w *fakeFHRP) Write(b []byte) (int, error) { return w.rec.Write(b) }
func (w *fakeFHRP) WriteHeader(c int)           { w.rec.WriteHeader(c) }
func (w *fakeFHRP) Flush()                      { w.calls = append(w.calls, "Flush") }
func (w *fakeFHRP) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.calls = append(w.calls, "Hijack")
	return nil, nil, nil
}
func (w *fakeFHRP) ReadFrom(src io.Reader) (int64, error) {
	w.calls = append(w.calls, "ReadFrom")
	return io.Copy(io.Discard, src)
}
func (w *fakeFHRP) Push(target string, opts *http.PushOptions) error {
	w.calls = append(w.calls, "Push")
	return nil
}
