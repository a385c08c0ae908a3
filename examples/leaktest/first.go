package leakexample

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// result is one backend's answer.
type result struct {
	body string
	err  error
}

// FirstLeaky asks every backend at once and returns the first answer. It leaks: the goroutines asking the
// slower backends block on the unbuffered channel once nobody reads it, and stay blocked until ctx ends, which
// for a request-independent context (context.Background) is never. They also keep their requests running
// after the answer is known.
func FirstLeaky(ctx context.Context, client *http.Client, urls []string) (string, error) {
	results := make(chan result) // unbuffered: a sender waits for a receiver
	for _, u := range urls {
		go func() {
			r := get(ctx, client, u)
			select {
			case results <- r:
			case <-ctx.Done():
			}
		}()
	}
	var errs []error
	for range urls {
		r := <-results
		if r.err == nil {
			return r.body, nil // the other senders are left waiting
		}
		errs = append(errs, r.err)
	}
	return "", errors.Join(errs...)
}

// First asks every backend at once and returns the first answer, like FirstLeaky, without the leak: the channel
// has room for every answer, so no sender ever waits, and the derived context is cancelled on return, so the
// slower requests stop at once instead of running to completion.
func First(ctx context.Context, client *http.Client, urls []string) (string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan result, len(urls))
	for _, u := range urls {
		go func() { results <- get(ctx, client, u) }()
	}
	var errs []error
	for range urls {
		r := <-results
		if r.err == nil {
			return r.body, nil
		}
		errs = append(errs, r.err)
	}
	return "", errors.Join(errs...)
}

// get fetches url and returns its body; it always closes the body, so the connection can be reused.
func get(ctx context.Context, client *http.Client, url string) result {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return result{err: fmt.Errorf("request %q: %w", url, err)}
	}
	resp, err := client.Do(req)
	if err != nil {
		return result{err: fmt.Errorf("get %q: %w", url, err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{err: fmt.Errorf("read %q: %w", url, err)}
	}
	if resp.StatusCode != http.StatusOK {
		return result{err: fmt.Errorf("get %q: status %d", url, resp.StatusCode)}
	}
	return result{body: string(body)}
}
