package agent

import (
	"context"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/rs/zerolog"
)

// certCheckInterval is how often the agent checks its certificate's
// remaining validity. Hourly is frequent enough for certificates that live
// a day or more.
const certCheckInterval = time.Hour

// checkCertificate returns an error when the certificate has expired, so
// the agent fails at start with the reason rather than retrying a bridge
// handshake the control plane will always refuse.
func checkCertificate(leaf *x509.Certificate, now time.Time) error {
	if leaf == nil {
		return fmt.Errorf("agent certificate missing: enroll again")
	}
	if !now.Before(leaf.NotAfter) {
		return fmt.Errorf("agent certificate expired at %s: the control plane refuses it; remove the identity files and enroll again with a new bootstrap token",
			leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// watchCertificate logs a warning once a third of the certificate's
// lifetime remains and an error once it has expired, checking every
// interval until ctx ends.
//
// NOTE: certificates are not renewed yet, so an agent must be enrolled
// again before its certificate expires; these log lines are the only
// warning it gives.
func watchCertificate(ctx context.Context, leaf *x509.Certificate, now func() time.Time, interval time.Duration, log zerolog.Logger) {
	lifetime := leaf.NotAfter.Sub(leaf.NotBefore)
	warnAt := leaf.NotAfter.Add(-lifetime / 3)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()

	for {
		t := now()
		switch {
		case !t.Before(leaf.NotAfter):
			log.Error().Time("not_after", leaf.NotAfter).Msg("agent certificate expired: the bridge will be refused until the agent is enrolled again")
		case !t.Before(warnAt):
			log.Warn().Time("not_after", leaf.NotAfter).Dur("remaining", leaf.NotAfter.Sub(t)).Msg("agent certificate expires soon and is not renewed automatically: enroll the agent again")
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
