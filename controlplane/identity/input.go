// Package identity clusters attacker observations into identities: the
// people or groups behind many source addresses and sessions. Evidence is
// weighted: equal client fingerprints, shared payloads or C2 endpoints,
// command-sequence and credential-set similarity, typing rhythm, the same
// address or ASN. Pairs whose evidence passes a threshold are joined. The
// Engine turns successive clusterings into soft, revocable merges, so a
// merged identity points at the one that absorbed it and is revived when
// later evidence no longer joins them.
//
// The clusterer reads only what real events carry. Client fingerprints
// reach it as ProposedFields: the worker fills them from
// client.fingerprinted events, the scenario generator sets them directly.
package identity

import eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"

// Input is one event in the form the clusterer reads.
type Input struct {
	Event *eventv1.Event
	// Proposed holds the client fingerprints of a client.fingerprinted
	// event.
	Proposed ProposedFields
}

// ProposedFields are the client fingerprints the clusterer weighs, the
// fields of eventv1.ClientFingerprint it reads.
type ProposedFields struct {
	// SSHClientVersion is the client's identification line without CR LF,
	// such as "SSH-2.0-OpenSSH_9.2p1 Debian-2".
	SSHClientVersion string
	// HASSH is the MD5 (hex) of the client's KEXINIT algorithm lists.
	HASSH string
	// JA4 is the TLS client fingerprint of the ClientHello.
	JA4 string
}

// ASNLookup maps a source address to its autonomous system number, the
// enrichment the control plane already does; 0 means unknown.
type ASNLookup func(address string) uint32
