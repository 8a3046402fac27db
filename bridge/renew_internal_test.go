package bridge

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/proto"

	bridgev1 "github.com/decnet/decnet/gen/decnet/bridge/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
	"github.com/decnet/decnet/pki"
)

func TestRenewFramesRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   proto.Message
		out  proto.Message
	}{
		{"renew", &bridgev1.AgentFrame{Frame: &bridgev1.AgentFrame_Renew{Renew: &bridgev1.RenewRequest{Csr: []byte{0x30, 0x82, 1, 2}}}}, &bridgev1.AgentFrame{}},
		{"renewed", &bridgev1.ServerFrame{Frame: &bridgev1.ServerFrame_Renewed{Renewed: &bridgev1.RenewResponse{CertificateChain: [][]byte{{1, 2, 3}, {4, 5}}}}}, &bridgev1.ServerFrame{}},
		{"renew error", &bridgev1.ServerFrame{Frame: &bridgev1.ServerFrame_RenewError{RenewError: &bridgev1.RenewError{
			Reason: bridgev1.RenewErrorReason_RENEW_ERROR_REASON_REVOKED, Message: "agent decommissioned",
		}}}, &bridgev1.ServerFrame{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteFrame(&buf, tt.in); err != nil {
				t.Fatalf("WriteFrame: %v", err)
			}
			if err := ReadFrame(&buf, tt.out); err != nil {
				t.Fatalf("ReadFrame: %v", err)
			}
			if !proto.Equal(tt.in, tt.out) {
				t.Errorf("read %v, want %v", tt.out, tt.in)
			}
		})
	}
}

func TestRenewErrorFromFrame(t *testing.T) {
	tests := []struct {
		reason bridgev1.RenewErrorReason
		want   error
	}{
		{bridgev1.RenewErrorReason_RENEW_ERROR_REASON_REVOKED, ErrAgentRevoked},
		{bridgev1.RenewErrorReason_RENEW_ERROR_REASON_UNKNOWN_AGENT, ErrAgentUnknown},
		{bridgev1.RenewErrorReason_RENEW_ERROR_REASON_BAD_REQUEST, ErrInvalidRenewal},
	}
	for _, tt := range tests {
		t.Run(tt.reason.String(), func(t *testing.T) {
			err := renewErrorFromFrame(&bridgev1.RenewError{Reason: tt.reason})
			if !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want one wrapping %v", err, tt.want)
			}
			// The server maps the sentinel back to the same reason.
			if got, _ := renewRefusal(tt.want); got != tt.reason {
				t.Errorf("renewRefusal(%v) = %v, want %v", tt.want, got, tt.reason)
			}
		})
	}
	if got, msg := renewRefusal(errors.New("disk full")); got != bridgev1.RenewErrorReason_RENEW_ERROR_REASON_INTERNAL || msg == "disk full" {
		t.Errorf("renewRefusal(internal) = %v %q, want INTERNAL without the cause", got, msg)
	}
}

func TestRefusalReason(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"revoked on a live connection", &quic.ApplicationError{Remote: true, ErrorCode: codeAgentRevoked}, ErrAgentRevoked},
		{"expired on a live connection", &quic.ApplicationError{Remote: true, ErrorCode: codeCertificateExpired}, ErrCertificateExpired},
		{"revoked alert", &quic.TransportError{Remote: true, ErrorCode: 0x100 + 44}, ErrAgentRevoked},
		{"expired alert", &quic.TransportError{Remote: true, ErrorCode: 0x100 + 45}, ErrCertificateExpired},
		{"unknown agent alert", &quic.TransportError{Remote: true, ErrorCode: 0x100 + 46}, ErrAgentUnknown},
		{"unknown CA alert", &quic.TransportError{Remote: true, ErrorCode: 0x100 + 48}, ErrUnknownAuthority},
		{"wrapped", fmt.Errorf("read welcome: %w", &quic.TransportError{Remote: true, ErrorCode: 0x100 + 44}), ErrAgentRevoked},
		{"bad certificate alert", &quic.TransportError{Remote: true, ErrorCode: 0x100 + 42}, nil},
		{"local close", &quic.ApplicationError{Remote: false, ErrorCode: codeAgentRevoked}, nil},
		{"server shutdown", &quic.ApplicationError{Remote: true, ErrorCode: codeNoError}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := refusalReason(tt.err); got != tt.want { //nolint:errorlint // refusalReason must return the sentinel itself, unwrapped
				t.Errorf("refusalReason = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAlertForMatchesRefusalReason(t *testing.T) {
	for _, r := range refusalAlerts {
		alert, ok := alertFor(fmt.Errorf("authorize: %w", r.reason))
		if !ok || alert != r.alert {
			t.Errorf("alertFor(%v) = %v, %v, want %v", r.reason, alert, ok, r.alert)
		}
		back := refusalReason(&quic.TransportError{Remote: true, ErrorCode: quic.TransportErrorCode(0x100 + uint64(alert))})
		if back != r.reason { //nolint:errorlint // refusalReason must return the sentinel itself, unwrapped
			t.Errorf("alert %v maps back to %v, want %v", alert, back, r.reason)
		}
		if refusalMessages[r.reason].server == refusalMessages[r.reason].client {
			t.Errorf("%v: server and client messages are the same", r.reason)
		}
	}
	if _, ok := alertFor(errors.New("other")); ok {
		t.Error("alertFor(other) found an alert")
	}
}

// leafIssued returns a certificate as pki.CA issues it: NotBefore
// backdated by pki.Backdate from issued.
func leafIssued(issued time.Time, lifetime time.Duration) *x509.Certificate {
	return &x509.Certificate{NotBefore: issued.Add(-pki.Backdate), NotAfter: issued.Add(lifetime)}
}

func TestRenewalTime(t *testing.T) {
	issued := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		lifetime time.Duration
		random   float64
		want     time.Duration // after issued
	}{
		{"day, no jitter draw", 24 * time.Hour, 0.5, 16 * time.Hour},
		{"day, earliest", 24 * time.Hour, 0, 24 * time.Hour * 3 / 5},
		{"six seconds, middle", 6 * time.Second, 0.5, 4 * time.Second},
		{"six seconds, earliest", 6 * time.Second, 0, 3600 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := renewalTime(leafIssued(issued, tt.lifetime), tt.random).Sub(issued)
			if diff := got - tt.want; diff < -time.Millisecond || diff > time.Millisecond {
				t.Errorf("renewal %s after issue, want %s", got, tt.want)
			}
		})
	}

	// Every draw lands within two thirds plus or minus a fifteenth.
	leaf := leafIssued(issued, 24*time.Hour)
	lo, hi := issued.Add(24*time.Hour*3/5), issued.Add(24*time.Hour*11/15)
	for _, r := range []float64{0, 0.1, 0.5, 0.9, 0.999999} {
		at := renewalTime(leaf, r)
		if at.Before(lo) || at.After(hi) {
			t.Errorf("random %v: renewal at %s, want within [%s, %s]", r, at, lo, hi)
		}
	}
}

func TestRenewRetryDelay(t *testing.T) {
	issued := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		leaf *x509.Certificate
		now  time.Time
		want time.Duration
	}{
		{"a tenth of what remains", leafIssued(issued, time.Minute), issued.Add(40 * time.Second), 2 * time.Second},
		{"capped", leafIssued(issued, 240*time.Hour), issued.Add(20 * time.Hour), maxRenewRetry},
		{"floor", leafIssued(issued, 6*time.Second), issued.Add(5 * time.Second), minRenewRetry},
		{"expired", leafIssued(issued, 6*time.Second), issued.Add(7 * time.Second), 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := renewRetryDelay(tt.leaf, tt.now, 30*time.Second); got != tt.want {
				t.Errorf("renewRetryDelay = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestRenewLoopSchedule drives the loop with an injected clock and sleep:
// it waits until the jittered renewal time, and retries after a failure
// (here: no connection) with the retry delay.
func TestRenewLoopSchedule(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := leafIssued(now, 24*time.Hour)
	holder := NewClientCertificate(&tls.Certificate{PrivateKey: key, Leaf: leaf})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var sleeps []time.Duration
	c, err := NewClient(ClientConfig{
		Addresses: []string{"127.0.0.1:1"},
		TLSConfig: &tls.Config{},
		Source:    nopSource{},
		Renewal:   &RenewalConfig{Certificate: holder, Roots: x509.NewCertPool(), Now: func() time.Time { return now }},
		Random:    func() float64 { return 0.25 },
		Sleep: func(ctx context.Context, d time.Duration) error {
			sleeps = append(sleeps, d)
			if len(sleeps) == 1 {
				// Time passes to the renewal.
				now = now.Add(d)
				return nil
			}
			cancel()
			return ctx.Err()
		},
		Logger: zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	c.renewLoop(ctx)

	wantFirst := time.Duration(float64(24*time.Hour) * (renewFraction - renewJitter + 2*renewJitter*0.25))
	if len(sleeps) != 2 {
		t.Fatalf("loop slept %d times, want 2: %v", len(sleeps), sleeps)
	}
	if diff := sleeps[0] - wantFirst; diff < -time.Millisecond || diff > time.Millisecond {
		t.Errorf("first sleep %s, want %s (the jittered renewal time)", sleeps[0], wantFirst)
	}
	if want := renewRetryDelay(leaf, now, defaultBackoffMax); sleeps[1] != want {
		t.Errorf("retry sleep %s, want %s", sleeps[1], want)
	}
	if holder.Load().Leaf != leaf {
		t.Error("certificate replaced without a renewal")
	}
}

type nopSource struct{}

func (nopSource) Read(ctx context.Context, _, _ int) ([]*eventv1.Event, Position, error) {
	<-ctx.Done()
	return nil, 0, ctx.Err()
}
func (nopSource) Commit(Position) error { return nil }
func (nopSource) Rewind() error         { return nil }
