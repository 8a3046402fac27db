package tlsfp

import (
	"context"
	"crypto/tls"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Sink receives the fingerprint of one handshake, typically a
// decoys.Session's Fingerprinted method. It runs on the handshake's
// goroutine, so it must not block.
type Sink func(*eventv1.ClientFingerprint)

type sinkKey struct{}

// WithSink returns a context that, passed to tls.Conn.HandshakeContext on
// a configuration from Capture, sends the handshake's fingerprint to
// sink.
func WithSink(ctx context.Context, sink Sink) context.Context {
	return context.WithValue(ctx, sinkKey{}, sink)
}

// Capture returns a copy of cfg that fingerprints every ClientHello it
// receives and sends the result to the Sink in the handshake's context
// (see WithSink). The copy then calls cfg's own GetConfigForClient, if
// any, so the server responds exactly as cfg would.
//
// The sink travels in the context rather than in a per-connection copy of
// the configuration because crypto/tls keeps its automatic session ticket
// keys in the configuration passed to tls.Server: a copy per connection
// would stop tickets from resuming across connections. crypto/tls calls
// GetConfigForClient once per handshake, on the first ClientHello, so a
// HelloRetryRequest does not produce a second event.
//
// Call Capture once when the server is built, before cfg is in use.
func Capture(cfg *tls.Config) *tls.Config {
	out := cfg.Clone()
	next := cfg.GetConfigForClient
	out.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		if ctx := hello.Context(); ctx != nil {
			if sink, ok := ctx.Value(sinkKey{}).(Sink); ok && sink != nil {
				sink(Compute(hello).Event())
			}
		}
		if next == nil {
			return nil, nil
		}
		return next(hello)
	}
	return out
}
