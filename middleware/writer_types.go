// One thin type per combination of the optional interfaces a wrapped writer can have
// (Flusher, Hijacker, io.ReaderFrom, http.Pusher), so the wrapper never claims one the writer lacks.

package middleware

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// Each type is a struct holding only *core, so converting it to http.ResponseWriter stores the
// pointer in the interface without allocating. The bit order is Flusher, Hijacker, ReaderFrom, Pusher.
type wPlain struct{ *core }

type wF struct{ *core }

func (w wF) Flush() { w.flush() }

type wH struct{ *core }

func (w wH) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }

type wFH struct{ *core }

func (w wFH) Flush()                                       { w.flush() }
func (w wFH) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }

type wR struct{ *core }

func (w wR) ReadFrom(src io.Reader) (int64, error) { return w.readFrom(src) }

type wFR struct{ *core }

func (w wFR) Flush()                                { w.flush() }
func (w wFR) ReadFrom(src io.Reader) (int64, error) { return w.readFrom(src) }

type wHR struct{ *core }

func (w wHR) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }
func (w wHR) ReadFrom(src io.Reader) (int64, error)        { return w.readFrom(src) }

type wFHR struct{ *core }

func (w wFHR) Flush()                                       { w.flush() }
func (w wFHR) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }
func (w wFHR) ReadFrom(src io.Reader) (int64, error)        { return w.readFrom(src) }

type wP struct{ *core }

func (w wP) Push(target string, opts *http.PushOptions) error { return w.push(target, opts) }

type wFP struct{ *core }

func (w wFP) Flush()                                           { w.flush() }
func (w wFP) Push(target string, opts *http.PushOptions) error { return w.push(target, opts) }

type wHP struct{ *core }

func (w wHP) Hijack() (net.Conn, *bufio.ReadWriter, error)     { return w.hijack() }
func (w wHP) Push(target string, opts *http.PushOptions) error { return w.push(target, opts) }

type wFHP struct{ *core }

func (w wFHP) Flush()                                           { w.flush() }
func (w wFHP) Hijack() (net.Conn, *bufio.ReadWriter, error)     { return w.hijack() }
func (w wFHP) Push(target string, opts *http.PushOptions) error { return w.push(target, opts) }

type wRP struct{ *core }

func (w wRP) ReadFrom(src io.Reader) (int64, error)            { return w.readFrom(src) }
func (w wRP) Push(target string, opts *http.PushOptions) error { return w.push(target, opts) }

type wFRP struct{ *core }

func (w wFRP) Flush()                                           { w.flush() }
func (w wFRP) ReadFrom(src io.Reader) (int64, error)            { return w.readFrom(src) }
func (w wFRP) Push(target string, opts *http.PushOptions) error { return w.push(target, opts) }

type wHRP struct{ *core }

func (w wHRP) Hijack() (net.Conn, *bufio.ReadWriter, error)     { return w.hijack() }
func (w wHRP) ReadFrom(src io.Reader) (int64, error)            { return w.readFrom(src) }
func (w wHRP) Push(target string, opts *http.PushOptions) error { return w.push(target, opts) }

type wFHRP struct{ *core }

func (w wFHRP) Flush()                                           { w.flush() }
func (w wFHRP) Hijack() (net.Conn, *bufio.ReadWriter, error)     { return w.hijack() }
func (w wFHRP) ReadFrom(src io.Reader) (int64, error)            { return w.readFrom(src) }
func (w wFHRP) Push(target string, opts *http.PushOptions) error { return w.push(target, opts) }

// wrap returns the thin type that claims exactly the interfaces in mask.
func (c *core) wrap(mask uint8) http.ResponseWriter {
	switch mask {
	case 0:
		return wPlain{c}
	case 1:
		return wF{c}
	case 2:
		return wH{c}
	case 3:
		return wFH{c}
	case 4:
		return wR{c}
	case 5:
		return wFR{c}
	case 6:
		return wHR{c}
	case 7:
		return wFHR{c}
	case 8:
		return wP{c}
	case 9:
		return wFP{c}
	case 10:
		return wHP{c}
	case 11:
		return wFHP{c}
	case 12:
		return wRP{c}
	case 13:
		return wFRP{c}
	case 14:
		return wHRP{c}
	case 15:
		return wFHRP{c}
	}
	return wPlain{c}
}
