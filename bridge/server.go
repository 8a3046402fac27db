package bridge

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/rs/zerolog"

	bridgev1 "github.com/decnet/decnet/gen/decnet/bridge/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Log field keys of this package.
const (
	fieldRemote     = "remote"
	fieldAgentID    = "agent_id"
	fieldAddress    = "address"
	fieldSequence   = "sequence"
	fieldEvents     = "events"
	fieldPanic      = "panic"
	fieldVersion    = "version"
	fieldName       = "name"
	fieldDelay      = "delay"
	fieldReconnects = "reconnects"
	fieldSerial     = "serial"
	fieldNotAfter   = "not_after"
	fieldReason     = "reason"
	fieldConns      = "connections"
	// fieldConfigVersion and fieldCommand name control stream frames.
	fieldConfigVersion = "config_version"
	fieldCommand       = "command"
)

// QUIC application error codes sent when a side closes the connection.
const (
	codeNoError          quic.ApplicationErrorCode = 0
	codeProtocolError    quic.ApplicationErrorCode = 1
	codeIngestFailed     quic.ApplicationErrorCode = 2
	codeUnauthorized     quic.ApplicationErrorCode = 3
	codeClosedByServer   quic.ApplicationErrorCode = 4
	codeInternalError    quic.ApplicationErrorCode = 5
	codeClientShutdown   quic.ApplicationErrorCode = 6
	codeClientCommitFail quic.ApplicationErrorCode = 7
)

// Timeouts of a bridge connection. The idle timeout ends a connection whose
// peer vanished. Keep-alives at a third of it keep a quiet but healthy
// connection open through NAT and firewall state timeouts, which are
// commonly 30 s or more for UDP.
const (
	defaultIdleTimeout = 30 * time.Second
	keepAliveDivisor   = 3
	// helloTimeout bounds how long a connected agent may take to open its
	// stream and send Hello.
	helloTimeout = 10 * time.Second
)

// Ingester stores the events of one batch durably. It returns after the
// events are committed, with how many were new and how many were already
// stored. It must be safe for concurrent use by several connections.
type Ingester interface {
	Ingest(ctx context.Context, agentID string, events []*eventv1.Event) (stored, duplicates int, err error)
}

// ServerConfig configures NewServer.
type ServerConfig struct {
	// Addr is the UDP address to listen on. Port 0 picks a free port.
	Addr string
	// TLSConfig must set ClientAuth to tls.RequireAndVerifyClientCert and
	// ClientCAs (or return such configs from GetConfigForClient). The
	// server takes over the verification to log rejected handshakes, as
	// the serverTLS type in tls.go describes.
	TLSConfig *tls.Config
	// AgentID reads the agent id from a verified client certificate. An
	// error rejects the handshake. Required.
	AgentID func(*x509.Certificate) (string, error)
	// Ingester stores batches. Required.
	Ingester Ingester
	// Authorize, if set, is asked during every handshake whether the
	// agent may connect. An error wrapping ErrAgentRevoked or
	// ErrAgentUnknown refuses it with that reason; any other error refuses
	// it as a bad certificate.
	Authorize func(ctx context.Context, agentID string) error
	// Renewer, if set, issues new certificates to connected agents. With
	// nil the server rejects every renewal with
	// RENEW_ERROR_REASON_UNAVAILABLE.
	Renewer Renewer
	// Now is the clock for certificate expiry on live connections. Nil
	// means time.Now.
	Now func() time.Time
	// OnConnect, if set, is called once an agent has sent Hello.
	OnConnect func(agentID string, hello *bridgev1.Hello)
	// OnDisconnect, if set, is called when a connection for which
	// OnConnect ran ends.
	OnDisconnect func(agentID string)
	// Control, if set, receives the heartbeats and acknowledgements that
	// agents send on their control streams.
	Control ControlHandler
	// IdleTimeout closes a connection without traffic for this long.
	// Zero selects 30 s.
	IdleTimeout time.Duration
	// StatelessResetKey, when set, lets a restarted server respond to packets
	// of connections it no longer knows with a stateless reset, so agents
	// reconnect at once instead of after the idle timeout. It must be the
	// same across restarts and secret; nil disables stateless resets.
	StatelessResetKey *quic.StatelessResetKey
	Logger            zerolog.Logger
}

// Server accepts bridge connections from agents and ingests their batches.
type Server struct {
	cfg       ServerConfig
	log       zerolog.Logger
	udpConn   *net.UDPConn
	transport *quic.Transport
	listener  *quic.Listener

	mu      sync.Mutex
	conns   map[*quic.Conn]string // connection to agent id
	control map[string]*controlStream
	running bool
	wg      sync.WaitGroup
}

// NewServer validates cfg and binds the UDP socket, so Addr works before
// Run.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.AgentID == nil {
		return nil, errors.New("create bridge server: agent id function is nil")
	}
	if cfg.Ingester == nil {
		return nil, errors.New("create bridge server: ingester is nil")
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = defaultIdleTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger.With().Str("component", "bridge_server").Logger()

	tlsConf, err := newServerTLS(cfg.TLSConfig, cfg.AgentID, cfg.Authorize, log)
	if err != nil {
		return nil, fmt.Errorf("create bridge server: %w", err)
	}

	// The server owns the socket and the transport rather than using
	// quic.ListenAddr, whose socket stays bound until closed connections
	// have drained. Run releases the port when it returns, so a restarted
	// server can bind it again at once.
	udpAddr, err := net.ResolveUDPAddr("udp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("resolve bridge address %q: %w", cfg.Addr, err)
	}
	udpConn, err := net.ListenUDP("udp", udpAddr)
	if err != nil {
		return nil, fmt.Errorf("listen bridge on %s: %w", cfg.Addr, err)
	}
	transport := &quic.Transport{Conn: udpConn, StatelessResetKey: cfg.StatelessResetKey}
	ln, err := transport.Listen(tlsConf, quicConfig(cfg.IdleTimeout))
	if err != nil {
		_ = udpConn.Close() // the listen error is the one to report
		return nil, fmt.Errorf("listen bridge on %s: %w", cfg.Addr, err)
	}

	return &Server{
		cfg:       cfg,
		log:       log,
		udpConn:   udpConn,
		transport: transport,
		listener:  ln,
		conns:     map[*quic.Conn]string{},
		control:   map[string]*controlStream{},
	}, nil
}

func quicConfig(idle time.Duration) *quic.Config {
	return &quic.Config{
		MaxIdleTimeout:  idle,
		KeepAlivePeriod: idle / keepAliveDivisor,
		// One stream carries the session, and a few spare ones allow
		// later additions without a protocol change.
		MaxIncomingStreams:    4,
		MaxIncomingUniStreams: -1,
	}
}

// Addr returns the UDP address the server listens on.
func (s *Server) Addr() net.Addr {
	return s.listener.Addr()
}

// Run accepts connections until ctx ends, then closes the listener and
// every connection, waits for their handlers and returns nil.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return errors.New("run bridge server: already running")
	}
	s.running = true
	s.mu.Unlock()

	s.log.Info().Str(fieldAddress, s.Addr().String()).Msg("bridge server listening")
	defer s.shutdown()

	for {
		conn, err := s.listener.Accept(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("accept bridge connection: %w", err)
		}

		s.track(conn)
		s.wg.Add(1)
		go s.serveConn(ctx, conn)
	}
}

func (s *Server) shutdown() {
	s.mu.Lock()
	for conn := range s.conns {
		conn.CloseWithError(codeNoError, "server shutting down")
	}
	s.mu.Unlock()

	s.wg.Wait()
	if err := s.listener.Close(); err != nil {
		s.log.Warn().Err(err).Msg("bridge listener close failed")
	}
	if err := s.transport.Close(); err != nil {
		s.log.Warn().Err(err).Msg("bridge transport close failed")
	}
	if err := s.udpConn.Close(); err != nil {
		s.log.Warn().Err(err).Msg("bridge socket close failed")
	}
	s.log.Info().Msg("bridge server stopped")
}

func (s *Server) track(conn *quic.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns[conn] = ""
}

func (s *Server) untrack(conn *quic.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, conn)
}

func (s *Server) setAgent(conn *quic.Conn, agentID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conns[conn]; ok {
		s.conns[conn] = agentID
	}
}

// CloseAgent closes every connection of the agent, for example after its
// certificate was revoked, and returns how many it closed. The agent's
// next handshake is subject to the TLS configuration as usual.
func (s *Server) CloseAgent(agentID, reason string) int {
	s.mu.Lock()
	defer s.mu.Unlock()

	n := 0
	for conn, id := range s.conns {
		if id == agentID {
			conn.CloseWithError(codeClosedByServer, reason)
			n++
		}
	}
	return n
}

// CloseRevoked closes every connection of a decommissioned agent with the
// code the agent reports as "certificate revoked", and returns how many it
// closed. Authorize must refuse the agent from now on, or it reconnects.
func (s *Server) CloseRevoked(agentID string) int {
	s.mu.Lock()
	n := 0
	for conn, id := range s.conns {
		if id == agentID {
			conn.CloseWithError(codeAgentRevoked, "agent decommissioned")
			n++
		}
	}
	s.mu.Unlock()

	if n > 0 {
		s.log.Info().Str(fieldAgentID, agentID).Int(fieldConns, n).Msg("bridge connection of revoked agent closed")
	}
	return n
}

// serveConn runs one agent connection. It recovers a panic, so one bad
// connection cannot stop the server.
func (s *Server) serveConn(ctx context.Context, conn *quic.Conn) {
	defer s.wg.Done()
	defer s.untrack(conn)

	log := s.log.With().Str(fieldRemote, conn.RemoteAddr().String()).Logger()
	defer func() {
		if r := recover(); r != nil {
			log.Error().Str(fieldPanic, fmt.Sprint(r)).Msg("bridge connection handler panicked")
			conn.CloseWithError(codeInternalError, "internal error")
		}
	}()

	err := s.session(ctx, conn, &log)
	switch {
	case err == nil, ctx.Err() != nil, isClosedByPeer(err):
		log.Info().Err(err).Msg("bridge connection closed")
	default:
		log.Warn().Err(err).Msg("bridge connection failed")
	}
}

// session runs the protocol on an accepted connection. It adds the agent
// id to log once the id is known.
func (s *Server) session(ctx context.Context, conn *quic.Conn, log *zerolog.Logger) error {
	agentID, leaf, err := s.peerAgentID(conn)
	if err != nil {
		conn.CloseWithError(codeUnauthorized, "unauthorized")
		return err
	}
	*log = log.With().Str(fieldAgentID, agentID).Logger()
	s.setAgent(conn, agentID)

	stream, hello, err := s.acceptHello(ctx, conn)
	if err != nil {
		conn.CloseWithError(codeProtocolError, "expected hello")
		return err
	}
	if err := WriteFrame(stream, &bridgev1.ServerFrame{Frame: &bridgev1.ServerFrame_Welcome{
		Welcome: &bridgev1.Welcome{AgentId: agentID},
	}}); err != nil {
		conn.CloseWithError(codeProtocolError, "write failed")
		return err
	}

	log.Info().Str(fieldVersion, hello.GetVersion()).Str(fieldName, hello.GetName()).Msg("bridge agent connected")
	if s.cfg.OnConnect != nil {
		s.cfg.OnConnect(agentID, hello)
	}
	if s.cfg.OnDisconnect != nil {
		defer s.cfg.OnDisconnect(agentID)
	}

	// The handshake checked the certificate once; a connection outliving
	// it without a renewal is closed when it expires.
	expiry := time.AfterFunc(leaf.NotAfter.Sub(s.cfg.Now()), func() {
		log.Warn().Msg("bridge connection closed: certificate expired without renewal")
		conn.CloseWithError(codeCertificateExpired, "certificate expired")
	})
	defer expiry.Stop()

	renewals := make(chan struct{})
	go func() {
		defer close(renewals)
		s.serveStreams(conn, agentID, expiry, *log)
	}()
	defer func() {
		// Ends the renewal loop's AcceptStream; a no-op on a connection
		// closed already.
		conn.CloseWithError(codeNoError, "")
		<-renewals
	}()

	return s.receiveBatches(conn, stream, agentID)
}

func (s *Server) peerAgentID(conn *quic.Conn) (string, *x509.Certificate, error) {
	certs := conn.ConnectionState().TLS.PeerCertificates
	if len(certs) == 0 {
		return "", nil, ErrNoClientCertificate
	}
	id, err := s.cfg.AgentID(certs[0])
	if err != nil {
		return "", nil, fmt.Errorf("read agent id from client certificate: %w", err)
	}
	return id, certs[0], nil
}

func (s *Server) acceptHello(ctx context.Context, conn *quic.Conn) (*quic.Stream, *bridgev1.Hello, error) {
	helloCtx, cancel := context.WithTimeout(ctx, helloTimeout)
	defer cancel()

	stream, err := conn.AcceptStream(helloCtx)
	if err != nil {
		return nil, nil, fmt.Errorf("accept bridge stream: %w", err)
	}
	if err := stream.SetReadDeadline(time.Now().Add(helloTimeout)); err != nil {
		return nil, nil, fmt.Errorf("set hello deadline: %w", err)
	}

	var frame bridgev1.AgentFrame
	if err := ReadFrame(stream, &frame); err != nil {
		return nil, nil, fmt.Errorf("read hello: %w", err)
	}
	hello := frame.GetHello()
	if hello == nil {
		return nil, nil, fmt.Errorf("read hello: first frame is %T", frame.GetFrame())
	}

	if err := stream.SetReadDeadline(time.Time{}); err != nil {
		return nil, nil, fmt.Errorf("clear hello deadline: %w", err)
	}
	return stream, hello, nil
}

// receiveBatches ingests batches in order and acknowledges each after its
// events are stored. The agent id on every event is replaced by the one
// from the certificate, whatever the agent put there.
func (s *Server) receiveBatches(conn *quic.Conn, stream *quic.Stream, agentID string) error {
	ctx := conn.Context()
	var last uint64

	for {
		var frame bridgev1.AgentFrame
		if err := ReadFrame(stream, &frame); err != nil {
			return err
		}
		batch := frame.GetBatch()
		if batch == nil {
			conn.CloseWithError(codeProtocolError, "expected batch")
			return fmt.Errorf("read batch: frame is %T", frame.GetFrame())
		}
		if batch.GetSequence() != last+1 {
			conn.CloseWithError(codeProtocolError, "batch out of sequence")
			return fmt.Errorf("read batch: sequence %d, want %d", batch.GetSequence(), last+1)
		}
		last = batch.GetSequence()

		for _, ev := range batch.GetEvents() {
			ev.AgentId = agentID
		}
		stored, duplicates, err := s.cfg.Ingester.Ingest(ctx, agentID, batch.GetEvents())
		if err != nil {
			conn.CloseWithError(codeIngestFailed, "ingest failed")
			return fmt.Errorf("ingest batch %d of %d events: %w", last, len(batch.GetEvents()), err)
		}

		ack := &bridgev1.Ack{Sequence: last, Stored: uint32(stored), Duplicates: uint32(duplicates)}
		if err := WriteFrame(stream, &bridgev1.ServerFrame{Frame: &bridgev1.ServerFrame_Ack{Ack: ack}}); err != nil {
			return err
		}
	}
}

// isClosedByPeer reports whether err is the normal end of a connection:
// the peer closed it without an error code, or it timed out idle.
func isClosedByPeer(err error) bool {
	var appErr *quic.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.ErrorCode == codeNoError || appErr.ErrorCode == codeClientShutdown
	}
	var idle *quic.IdleTimeoutError
	return errors.As(err, &idle)
}
