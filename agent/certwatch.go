package agent

import (
	"context"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/pki"
)

// certCheckInterval is the longest interval between checks of the
// certificate's remaining validity. Hourly is frequent enough for
// certificates that live a day or more.
const certCheckInterval = time.Hour

// checkCertificate returns an error when the certificate has expired, so
// the agent fails at start with the reason rather than retrying a bridge
// handshake the control plane will always refuse.
func checkCertificate(leaf *x509.Certificate, now time.Time) error {
	if leaf == nil {
		return fmt.Errorf("agent certificate missing: enroll again")
	}
	if !now.Before(leaf.NotAfter) {
		return fmt.Errorf("agent certificate expired at %s: the control plane rejects it; remove the identity files and enroll again with a new bootstrap token",
			leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// renewalOverdue is the fraction of a certificate's lifetime after which
// the watcher warns: the bridge client renews at two thirds, give or take
// a fifteenth, so by four fifths a renewal has failed or not yet run.
const renewalOverdue = 0.8

// watchCertificate is the safety net of renewal: it logs a warning once
// renewalOverdue of the current certificate's lifetime has passed without
// a renewal, and an error once it has expired, checking every interval
// until ctx ends. current returns the certificate in use, which renewal
// replaces.
func watchCertificate(ctx context.Context, current func() *x509.Certificate, now func() time.Time, interval time.Duration, log zerolog.Logger) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()

	for {
		leaf := current()
		issued := leaf.NotBefore.Add(pki.Backdate)
		if !issued.Before(leaf.NotAfter) {
			issued = leaf.NotBefore
		}
		warnAt := issued.Add(time.Duration(float64(leaf.NotAfter.Sub(issued)) * renewalOverdue))

		t := now()
		switch {
		case !t.Before(leaf.NotAfter):
			log.Error().Time("not_after", leaf.NotAfter).Msg("agent certificate expired without renewal: the control plane rejects the bridge until the agent is enrolled again")
		case !t.Before(warnAt):
			log.Warn().Time("not_after", leaf.NotAfter).Dur("remaining", leaf.NotAfter.Sub(t)).Msg("agent certificate expires soon and renewal has not succeeded yet: check the bridge connection")
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// watchInterval checks a few times per renewal window: hourly for
// certificates of a day or more, more often for short ones.
func watchInterval(leaf *x509.Certificate) time.Duration {
	lifetime := leaf.NotAfter.Sub(leaf.NotBefore.Add(pki.Backdate))
	return min(certCheckInterval, max(lifetime/10, time.Second))
}
