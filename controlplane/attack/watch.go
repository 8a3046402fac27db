package attack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"time"
)

// pollInterval is how often Watch checks the rules file. A few seconds
// keeps an operator's edit prompt without measurable cost.
const pollInterval = 3 * time.Second

// Watch loads the rules file at path, reports it through onReload, then
// polls it every few seconds and reports again whenever its content
// changes. A file that fails to load is reported with the error and the
// previous good rule set (nil if there never was one), which the caller
// keeps using. Watch blocks until ctx ends and returns nil.
func Watch(ctx context.Context, path string, onReload func(*RuleSet, error)) error {
	w := &watcher{path: path, onReload: onReload}
	w.poll()

	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			w.poll()
		}
	}
}

// watcher is the state of one Watch, apart from its timer so tests can
// drive poll directly.
type watcher struct {
	path     string
	onReload func(*RuleSet, error)

	modTime time.Time
	size    int64
	sum     [sha256.Size]byte
	checked bool
	current *RuleSet
	lastErr error
}

// poll reloads when the file's modification time or size moved and its
// content really changed; an unchanged broken file is reported once.
func (w *watcher) poll() {
	fi, err := os.Stat(w.path)
	if err != nil {
		w.fail(fmt.Errorf("stat attack rules: %w", err))
		return
	}
	if w.checked && fi.ModTime().Equal(w.modTime) && fi.Size() == w.size {
		return
	}

	data, err := readCapped(w.path)
	if err != nil {
		w.fail(err)
		return
	}
	w.modTime, w.size, w.checked = fi.ModTime(), fi.Size(), true
	sum := sha256.Sum256(data)
	if w.current != nil && w.lastErr == nil && sum == w.sum {
		return
	}
	w.sum = sum

	rs, err := Load(bytes.NewReader(data))
	if err != nil {
		w.fail(fmt.Errorf("load %s: %w", w.path, err))
		return
	}
	w.current, w.lastErr = rs, nil
	w.onReload(rs, nil)
}

func (w *watcher) fail(err error) {
	if w.lastErr != nil && w.lastErr.Error() == err.Error() {
		return
	}
	w.lastErr = err
	w.onReload(w.current, err)
}

func readCapped(path string) ([]byte, error) {
	f, err := os.Open(path) //nolint:gosec // G304: the operator names the rules file
	if err != nil {
		return nil, fmt.Errorf("open attack rules: %w", err)
	}
	defer func() { _ = f.Close() }() // read only: closing cannot lose data

	// One byte over the cap lets Load report the file as too large.
	data, err := io.ReadAll(io.LimitReader(f, maxRulesFile+1))
	if err != nil {
		return nil, fmt.Errorf("read attack rules: %w", err)
	}
	return data, nil
}
