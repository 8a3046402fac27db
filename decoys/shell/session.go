package shell

import (
	"context"
	"strings"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/fetch"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// ForSession completes cfg for a shell behind one decoy connection: each
// command line becomes a command event on channel, each download request
// a download.requested event, and downloads are fetched through fetcher
// when the operator enabled fetching (fetcher not nil).
func ForSession(cfg Config, session *decoys.Session, channel string, fetcher *fetch.Fetcher) Config {
	cfg.OnCommand = func(line string) { session.Command(strings.ToValidUTF8(line, "\uFFFD"), channel) }
	cfg.OnDownload = func(d *eventv1.DownloadRequested) { session.Download(d) }
	if fetcher != nil {
		cfg.Fetch = func(ctx context.Context, tool, url string) FetchResult {
			r := fetcher.Fetch(ctx, tool, url)
			return FetchResult{Outcome: r.Outcome, SHA256: r.SHA256, Size: r.Size}
		}
	}
	return cfg
}
