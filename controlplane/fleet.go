package controlplane

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/bridge"
	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/pki"
)

// revocationPollInterval is how often the control plane reads the store
// for agents decommissioned by another process, such as `decnet agents
// decommission`. One second keeps the close well within five seconds at
// the cost of one small query per second.
const revocationPollInterval = time.Second

// fleetStore is the part of the store the fleet reads and writes.
type fleetStore interface {
	GetAgent(ctx context.Context, id string) (store.Agent, error)
	ListAgents(ctx context.Context) ([]store.Agent, error)
	UpsertAgent(ctx context.Context, a store.Agent) error
}

// fleet decides which agents may use the bridge: it authorizes
// handshakes, renews certificates and closes the connections of
// decommissioned agents.
type fleet struct {
	store    fleetStore
	ca       *pki.CA
	lifetime time.Duration
	log      zerolog.Logger
	// closeRevoked closes an agent's live connections; connected reports
	// whether it has one. Both are set once the bridge exists.
	closeRevoked func(agentID string) int
	connected    func(agentID string) bool
}

var _ bridge.Renewer = (*fleet)(nil)

// authorize refuses decommissioned and unknown agents during the bridge
// handshake. It reads the store on every handshake, so a revocation by
// another process applies to the next reconnect at once.
func (f *fleet) authorize(ctx context.Context, agentID string) error {
	_, err := f.activeAgent(ctx, agentID)
	return err
}

func (f *fleet) activeAgent(ctx context.Context, agentID string) (store.Agent, error) {
	a, err := f.store.GetAgent(ctx, agentID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Agent{}, bridge.ErrAgentUnknown
	case err != nil:
		return store.Agent{}, err
	case a.Revoked():
		return store.Agent{}, fmt.Errorf("%w at %s", bridge.ErrAgentRevoked, a.RevokedAt.UTC().Format(time.RFC3339))
	}
	return a, nil
}

// Renew issues a certificate for the connection's agent and records its
// serial and expiry. The name comes from the store, never from the CSR.
func (f *fleet) Renew(ctx context.Context, agentID string, csrDER []byte) ([]*x509.Certificate, error) {
	a, err := f.activeAgent(ctx, agentID)
	if err != nil {
		return nil, err
	}
	if _, err := pki.ParseAgentCSR(csrDER); err != nil {
		return nil, fmt.Errorf("%w: %w", bridge.ErrInvalidRenewal, err)
	}
	cert, err := f.ca.SignAgentCSR(csrDER, agentID, a.Name, f.lifetime)
	if err != nil {
		return nil, err
	}

	// NOTE: a revocation between the check above and this write leaves a
	// certificate the agent cannot use: the handshake check and the
	// revocation watcher both read revoked_at, which this write keeps.
	err = f.store.UpsertAgent(ctx, store.Agent{
		ID:                   agentID,
		Name:                 a.Name,
		CertificateSerial:    cert.SerialNumber.Text(16),
		CertificateExpiresAt: cert.NotAfter,
	})
	if err != nil {
		return nil, fmt.Errorf("record renewed certificate: %w", err)
	}
	// The intermediate goes along: the agent trusts only the root.
	return append([]*x509.Certificate{cert}, f.ca.IssuerChain()...), nil
}

// decommissioned closes the live connections of an agent just revoked in
// this process.
func (f *fleet) decommissioned(agentID string) {
	f.closeRevoked(agentID)
}

// watchRevocations closes the connections of revoked agents until ctx
// ends, polling the store because other processes revoke agents too.
func (f *fleet) watchRevocations(ctx context.Context) error {
	ticker := time.NewTicker(revocationPollInterval)
	defer ticker.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}

		err := f.closeRevokedConnections(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil
		case err != nil && !failing:
			// Logged once per outage, not every second.
			f.log.Warn().Err(err).Msg("check for revoked agents failed")
			failing = true
		case err == nil && failing:
			f.log.Info().Msg("check for revoked agents recovered")
			failing = false
		}
	}
}

func (f *fleet) closeRevokedConnections(ctx context.Context) error {
	agents, err := f.store.ListAgents(ctx)
	if err != nil {
		return err
	}
	for _, a := range agents {
		if a.Revoked() && f.connected(a.ID) {
			f.closeRevoked(a.ID)
		}
	}
	return nil
}
