package flightrecorder

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
)

// store keeps snapshot bytes: in memory, or as files in a directory.
type store interface {
	// write creates snapshot id from what writeTo writes and returns its size.
	write(id string, writeTo func(io.Writer) (int64, error)) (int64, error)
	open(id string) (io.ReadSeekCloser, error)
	remove(id string)
}

type memStore struct {
	mu   sync.Mutex
	data map[string][]byte
}

func (m *memStore) write(id string, writeTo func(io.Writer) (int64, error)) (int64, error) {
	var buf bytes.Buffer
	if _, err := writeTo(&buf); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.data == nil {
		m.data = map[string][]byte{}
	}
	m.data[id] = buf.Bytes()
	return int64(buf.Len()), nil
}

func (m *memStore) open(id string) (io.ReadSeekCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.data[id]
	if !ok {
		return nil, fmt.Errorf("snapshot %q: %w", id, os.ErrNotExist)
	}
	return nopCloser{bytes.NewReader(b)}, nil
}

func (m *memStore) remove(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.data, id)
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

type diskStore struct{ dir string }

func newDiskStore(dir string) (*diskStore, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	return &diskStore{dir: dir}, nil
}

func (d *diskStore) path(id string) string { return filepath.Join(d.dir, id+".trace") }

func (d *diskStore) write(id string, writeTo func(io.Writer) (int64, error)) (int64, error) {
	// A temporary name first, so that a reader never sees half a snapshot.
	tmp := d.path(id) + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return 0, err
	}
	n, err := writeTo(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, d.path(id))
	}
	if err != nil {
		os.Remove(tmp)
		return 0, err
	}
	return n, nil
}

func (d *diskStore) open(id string) (io.ReadSeekCloser, error) {
	if !validID(id) {
		return nil, fmt.Errorf("snapshot %q: %w", id, os.ErrNotExist)
	}
	return os.Open(d.path(id))
}

func (d *diskStore) remove(id string) {
	// A file someone else already removed is no failure.
	if err := os.Remove(d.path(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		slog.Default().Warn("perfobs: flight recorder could not remove a dropped snapshot", "error", err)
	}
}

// validID reports whether id has the shape of the ids the Recorder makes, so that no id given
// by a client can name a path outside the directory.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}

// Open returns the bytes of the kept snapshot id, in the runtime's trace format (what `go tool
// trace` reads). The caller closes it. An unknown id is an error wrapping os.ErrNotExist.
func (r *Recorder) Open(id string) (io.ReadSeekCloser, error) {
	if _, ok := r.Snapshot(id); !ok {
		return nil, fmt.Errorf("snapshot %q: %w", id, os.ErrNotExist)
	}
	return r.store.open(id)
}
