package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/fanout"
	"github.com/decnet/decnet/controlplane/ingest"
	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/store/sqlite"
	"github.com/decnet/decnet/controlplane/topics"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

const agentID = "0195a1b2-0000-7000-8000-000000000001"

// syncBuffer is a log sink shared by the server's goroutines and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type presence map[string]bool

func (p presence) Connected(id string) bool { return p[id] }

type fixture struct {
	srv           *httptest.Server
	store         store.Store
	hub           *fanout.Hub
	ingester      *ingest.Ingester
	logs          *syncBuffer
	adminPassword string
	// auth is the API's authenticator.
	auth *auth.Authenticator
	// api is the API under test.
	api *API
	// h1 speaks HTTP/1.1; h2c speaks HTTP/2 without TLS.
	h1  *http.Client
	h2c *http.Client

	// tokens are the bearer tokens the test received, for the log check.
	mu     sync.Mutex
	tokens []string
}

type options struct {
	secure  bool
	limiter auth.Limiter
	// broker replaces the fan-out hub the API streams from.
	broker fanout.Broker
	// onDecommission receives the agents DecommissionAgent revoked.
	onDecommission func(string)
	// tokens enables the TokenService.
	tokens *TokenServiceConfig
	// statuses and pushConfig are passed to Config as they are.
	statuses   AgentStatuses
	pushConfig func(ctx context.Context, agentID string) error
	// requireAdminTOTP and ssoPath are passed to Config.
	requireAdminTOTP bool
	ssoPath          string
	// notices feeds NoticeService.
	notices *topics.Publisher[*apiv1.Notice]
	// identities serves IdentityService.
	identities Identities
	// campaigns serves CampaignService.
	campaigns Campaigns
	// ready is passed to Config.
	ready func(ctx context.Context) error
}

// newFixture serves the API on a loopback port, over HTTP/1.1 and h2c, with
// a fresh store and an admin user. At cleanup it checks that neither the
// admin password nor any bearer token the test saw was logged.
func newFixture(t *testing.T, opts options) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })

	f := &fixture{store: st, hub: fanout.New(), logs: &syncBuffer{}}
	logger := zerolog.New(f.logs).Level(zerolog.TraceLevel)

	f.adminPassword, _, err = auth.EnsureAdmin(ctx, st, t.TempDir())
	if err != nil {
		t.Fatalf("EnsureAdmin: %v", err)
	}
	// Most tests act as an admin who chose their password; the tests of
	// the first login set the flag again.
	clearMustChange(t, st, "admin")
	if err := st.UpsertAgent(ctx, store.Agent{ID: agentID, Name: "edge-1", EnrolledAt: time.Now()}); err != nil {
		t.Fatalf("UpsertAgent: %v", err)
	}

	f.ingester, err = ingest.New(ingest.Config{Store: st, Hub: f.hub, Logger: logger})
	if err != nil {
		t.Fatalf("ingest.New: %v", err)
	}

	var authn *auth.Authenticator
	if opts.limiter != nil {
		authn, err = auth.New(auth.Config{Store: st, Logger: logger, Limiter: opts.limiter})
		if err != nil {
			t.Fatalf("auth.New: %v", err)
		}
	}
	var broker fanout.Broker = f.hub
	if opts.broker != nil {
		broker = opts.broker
	}
	a, err := New(Config{
		Store:          st,
		Hub:            broker,
		Presence:       presence{agentID: true},
		OnDecommission: opts.onDecommission,
		Tokens:         opts.tokens,
		Statuses:       opts.statuses,
		PushConfig:     opts.pushConfig,
		Secure:         opts.secure,
		Logger:         logger,
		Auth:           authn,
		Identities:     opts.identities,
		Campaigns:      opts.campaigns,

		RequireAdminTOTP: opts.requireAdminTOTP,
		SingleSignOnPath: opts.ssoPath,
		Notices:          opts.notices,
		Ready:            opts.ready,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.auth = a.Authenticator()
	f.api = a

	f.srv = httptest.NewUnstartedServer(a.Handler())
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	f.srv.Config.Protocols = &protocols
	f.srv.Start()
	t.Cleanup(f.srv.Close)

	f.h1 = f.srv.Client()
	var h2Only http.Protocols
	h2Only.SetUnencryptedHTTP2(true)
	h2Transport := &http.Transport{Protocols: &h2Only}
	t.Cleanup(h2Transport.CloseIdleConnections)
	f.h2c = &http.Client{Transport: h2Transport}

	t.Cleanup(func() { f.assertNoSecretsLogged(t) })
	return f
}

func (f *fixture) recordToken(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = append(f.tokens, token)
}

func (f *fixture) assertNoSecretsLogged(t *testing.T) {
	t.Helper()
	logs := f.logs.String()
	if strings.Contains(logs, f.adminPassword) {
		t.Error("logs contain the admin password")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, token := range f.tokens {
		if strings.Contains(logs, token) {
			t.Error("logs contain a bearer token")
		}
	}
}

// clearMustChange marks the user's password as their own, as a password
// change would, without a round trip through the API.
func clearMustChange(t *testing.T, st store.Store, username string) {
	t.Helper()
	ctx := context.Background()
	u, err := st.GetUser(ctx, username)
	if err != nil {
		t.Fatalf("GetUser %s: %v", username, err)
	}
	if err := st.SetUserPassword(ctx, username, u.PasswordHash, false, nil); err != nil {
		t.Fatalf("SetUserPassword %s: %v", username, err)
	}
}

// login returns a bearer token for the admin user.
func (f *fixture) login(t *testing.T) string {
	t.Helper()
	client := apiv1connect.NewAuthServiceClient(f.h1, f.srv.URL)
	resp, err := client.Login(context.Background(), connect.NewRequest(&apiv1.LoginRequest{Username: "admin", Password: f.adminPassword}))
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	f.recordToken(resp.Msg.GetToken())
	return resp.Msg.GetToken()
}

func withToken[T any](msg *T, token string) *connect.Request[T] {
	req := connect.NewRequest(msg)
	req.Header().Set("Authorization", "Bearer "+token)
	return req
}

// postJSON sends a Connect-protocol unary call as plain HTTP.
func (f *fixture) postJSON(t *testing.T, procedure, body string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+procedure, strings.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := f.h1.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", procedure, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	return resp, data
}

func newEvent(src, kind string) *eventv1.Event {
	ev := &eventv1.Event{
		Id:      uuid.Must(uuid.NewV7()).String(),
		Time:    timestamppb.Now(),
		Decky:   "web-01",
		Service: "ssh",
		Kind:    kind,
		Source:  &eventv1.Endpoint{Address: src, Port: 40000},
	}
	if kind == "auth.attempt" {
		ev.Payload = &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{
			Principal: "root", SecretKind: "plaintext", Mechanism: "ssh_password", Secret: []byte("toor"),
		}}
	}
	return ev
}

func (f *fixture) ingest(t *testing.T, evs ...*eventv1.Event) {
	t.Helper()
	if _, _, err := f.ingester.Ingest(context.Background(), agentID, evs); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
}

// The login page asks, without a session, whether to offer single
// sign-on.
func TestLoginOptions(t *testing.T) {
	for _, path := range []string{"", "/auth/oidc/login"} {
		f := newFixture(t, options{ssoPath: path})
		resp, err := apiv1connect.NewAuthServiceClient(f.h1, f.srv.URL).GetLoginOptions(context.Background(),
			connect.NewRequest(&apiv1.GetLoginOptionsRequest{}))
		if err != nil {
			t.Fatalf("GetLoginOptions without a session: %v", err)
		}
		if got := resp.Msg.GetSingleSignOnPath(); got != path {
			t.Errorf("single sign-on path = %q, want %q", got, path)
		}
	}
}

func TestLoginJSON(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "secure"}[secure], func(t *testing.T) {
			f := newFixture(t, options{secure: secure})

			resp, body := f.postJSON(t, apiv1connect.AuthServiceLoginProcedure, `{"username":"admin","password":"wrong"}`, nil)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("wrong password: status %d, want 401", resp.StatusCode)
			}
			var cerr struct{ Code, Message string }
			if err := json.Unmarshal(body, &cerr); err != nil || cerr.Code != "unauthenticated" {
				t.Errorf("wrong password: body %s, want code unauthenticated", body)
			}
			if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
				t.Errorf("wrong password set cookies %v", got)
			}

			payload, _ := json.Marshal(map[string]string{"username": "admin", "password": f.adminPassword})
			resp, body = f.postJSON(t, apiv1connect.AuthServiceLoginProcedure, string(payload), nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("right password: status %d, body %s", resp.StatusCode, body)
			}
			var login struct{ Token, ExpiresAt, Username string }
			if err := json.Unmarshal(body, &login); err != nil {
				t.Fatalf("decode login response %s: %v", body, err)
			}
			f.recordToken(login.Token)
			if len(login.Token) != 43 || login.Username != "admin" {
				t.Errorf("login response = %+v, want a 43-character token for admin", login)
			}
			expires, err := time.Parse(time.RFC3339Nano, login.ExpiresAt)
			if err != nil {
				t.Fatalf("parse expiresAt %q: %v", login.ExpiresAt, err)
			}
			if d := time.Until(expires); d < 11*time.Hour || d > 12*time.Hour {
				t.Errorf("session lasts %v, want 12h", d)
			}

			cookies := resp.Cookies()
			if len(cookies) != 1 {
				t.Fatalf("cookies = %v, want one", cookies)
			}
			c := cookies[0]
			if c.Name != auth.CookieName || c.Value != login.Token {
				t.Errorf("cookie %s=%q, want %s with the token", c.Name, c.Value, auth.CookieName)
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
				t.Errorf("cookie HttpOnly=%v SameSite=%v Path=%q, want HttpOnly, Strict, /", c.HttpOnly, c.SameSite, c.Path)
			}
			if c.Secure != secure {
				t.Errorf("cookie Secure = %v, want %v", c.Secure, secure)
			}
		})
	}
}

func TestCallsRequireSession(t *testing.T) {
	f := newFixture(t, options{})
	token := f.login(t)

	procedures := []string{
		apiv1connect.EventServiceListEventsProcedure,
		apiv1connect.AttackerServiceListAttackersProcedure,
		apiv1connect.CredentialServiceListCredentialsProcedure,
		apiv1connect.AgentServiceListAgentsProcedure,
		apiv1connect.AgentServiceDecommissionAgentProcedure,
		apiv1connect.AgentServiceGetAgentProcedure,
		apiv1connect.AgentServiceSetAgentConfigProcedure,
		apiv1connect.SessionServiceListSessionRecordingsProcedure,
		apiv1connect.SessionServiceGetSessionRecordingProcedure,
		apiv1connect.AuthServiceLogoutProcedure,
	}
	credentials := []struct {
		name   string
		header http.Header
		want   int
	}{
		{"none", nil, http.StatusUnauthorized},
		{"unknown token", http.Header{"Authorization": {"Bearer " + strings.Repeat("A", 43)}}, http.StatusUnauthorized},
		{"basic scheme", http.Header{"Authorization": {"Basic YWRtaW46YWRtaW4="}}, http.StatusUnauthorized},
		{"unknown cookie", http.Header{"Cookie": {auth.CookieName + "=nope"}}, http.StatusUnauthorized},
		{"bearer", http.Header{"Authorization": {"Bearer " + token}}, http.StatusOK},
		{"cookie", http.Header{"Cookie": {auth.CookieName + "=" + token}}, http.StatusOK},
	}
	for _, p := range procedures {
		for _, c := range credentials {
			if p == apiv1connect.AuthServiceLogoutProcedure && c.want == http.StatusOK {
				continue // would end the session the other cases use
			}
			if needsID(p) && c.want == http.StatusOK {
				continue // needs an id; TestDecommissionAgent and TestSetAgentConfig cover the accepted calls
			}
			t.Run(p+"/"+c.name, func(t *testing.T) {
				resp, body := f.postJSON(t, p, `{}`, c.header)
				if resp.StatusCode != c.want {
					t.Errorf("status %d, want %d; body %s", resp.StatusCode, c.want, body)
				}
				if c.want == http.StatusUnauthorized && !strings.Contains(string(body), `"code":"unauthenticated"`) {
					t.Errorf("body %s, want code unauthenticated", body)
				}
			})
		}
	}

	// The generated client gets CodeUnauthenticated too.
	client := apiv1connect.NewEventServiceClient(f.h1, f.srv.URL)
	_, err := client.ListEvents(context.Background(), connect.NewRequest(&apiv1.ListEventsRequest{}))
	if connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("ListEvents without a token: %v, want CodeUnauthenticated", err)
	}
}

func TestDataWithSession(t *testing.T) {
	f := newFixture(t, options{})
	token := f.login(t)
	ctx := context.Background()

	opened := newEvent("127.0.0.2", "connection.opened")
	attempt := newEvent("127.0.0.2", "auth.attempt")
	other := newEvent("127.0.0.3", "connection.opened")
	f.ingest(t, opened, attempt, other)

	events := apiv1connect.NewEventServiceClient(f.h1, f.srv.URL)
	evResp, err := events.ListEvents(ctx, withToken(&apiv1.ListEventsRequest{
		Filter: &apiv1.EventFilter{SourceAddress: "127.0.0.2"},
	}, token))
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	if got := len(evResp.Msg.GetEvents()); got != 2 {
		t.Fatalf("ListEvents(source 127.0.0.2) returned %d events, want 2", got)
	}
	attackerID := evResp.Msg.GetEvents()[0].GetAttackerId()

	attackers := apiv1connect.NewAttackerServiceClient(f.h1, f.srv.URL)
	list, err := attackers.ListAttackers(ctx, withToken(&apiv1.ListAttackersRequest{}, token))
	if err != nil {
		t.Fatalf("ListAttackers: %v", err)
	}
	if got := len(list.Msg.GetAttackers()); got != 2 {
		t.Errorf("ListAttackers returned %d attackers, want 2", got)
	}

	got, err := attackers.GetAttacker(ctx, withToken(&apiv1.GetAttackerRequest{Id: attackerID}, token))
	if err != nil {
		t.Fatalf("GetAttacker: %v", err)
	}
	a := got.Msg.GetAttacker()
	if a.GetEventCount() != 2 || a.GetAuthAttemptCount() != 1 || len(a.GetAddresses()) != 1 || a.GetAddresses()[0] != "127.0.0.2" {
		t.Errorf("GetAttacker = %v, want 2 events, 1 auth attempt from 127.0.0.2", a)
	}

	errorCases := []struct {
		name string
		call func() error
		want connect.Code
	}{
		{"unknown attacker", func() error {
			_, err := attackers.GetAttacker(ctx, withToken(&apiv1.GetAttackerRequest{Id: uuid.Must(uuid.NewV7()).String()}, token))
			return err
		}, connect.CodeNotFound},
		{"malformed attacker id", func() error {
			_, err := attackers.GetAttacker(ctx, withToken(&apiv1.GetAttackerRequest{Id: "127.0.0.2"}, token))
			return err
		}, connect.CodeInvalidArgument},
		{"empty attacker id", func() error {
			_, err := attackers.GetAttacker(ctx, withToken(&apiv1.GetAttackerRequest{}, token))
			return err
		}, connect.CodeInvalidArgument},
		{"malformed address filter", func() error {
			_, err := attackers.ListAttackers(ctx, withToken(&apiv1.ListAttackersRequest{Address: "999.1.1.1"}, token))
			return err
		}, connect.CodeInvalidArgument},
		{"invalid page token", func() error {
			_, err := events.ListEvents(ctx, withToken(&apiv1.ListEventsRequest{PageToken: "garbage"}, token))
			return err
		}, connect.CodeInvalidArgument},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); connect.CodeOf(err) != tc.want {
				t.Errorf("error %v, want code %v", err, tc.want)
			}
		})
	}

	creds := apiv1connect.NewCredentialServiceClient(f.h1, f.srv.URL)
	credResp, err := creds.ListCredentials(ctx, withToken(&apiv1.ListCredentialsRequest{AttackerId: attackerID}, token))
	if err != nil {
		t.Fatalf("ListCredentials: %v", err)
	}
	if cs := credResp.Msg.GetCredentials(); len(cs) != 1 || cs[0].GetEventId() != attempt.GetId() || string(cs[0].GetSecret()) != "toor" {
		t.Errorf("ListCredentials = %v, want the one attempt with secret toor", cs)
	}

	agents := apiv1connect.NewAgentServiceClient(f.h1, f.srv.URL)
	agResp, err := agents.ListAgents(ctx, withToken(&apiv1.ListAgentsRequest{}, token))
	if err != nil {
		t.Fatalf("ListAgents: %v", err)
	}
	if ag := agResp.Msg.GetAgents(); len(ag) != 1 || ag[0].GetId() != agentID || !ag[0].GetConnected() || ag[0].GetLastSeen() == nil {
		t.Errorf("ListAgents = %v, want %s connected with a last-seen time", ag, agentID)
	}
}

func TestStreamEvents(t *testing.T) {
	f := newFixture(t, options{})
	token := f.login(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// HTTP/2, as a dashboard behind TLS would use.
	client := apiv1connect.NewEventServiceClient(f.h2c, f.srv.URL)
	stream, err := client.StreamEvents(ctx, withToken(&apiv1.StreamEventsRequest{
		Filter: &apiv1.EventFilter{Kind: "auth.attempt"},
	}, token))
	if err != nil {
		t.Fatalf("StreamEvents: %v", err)
	}
	defer stream.Close()

	// The call returns once the response headers arrive, which the
	// handler sends after it subscribed, so the next event reaches it.
	if n := f.hub.Subscribers(); n != 1 {
		t.Fatalf("hub has %d subscribers once the call returned, want 1", n)
	}
	skipped := newEvent("127.0.0.2", "connection.opened")
	wanted := newEvent("127.0.0.2", "auth.attempt")
	f.ingest(t, skipped, wanted)

	if !stream.Receive() {
		t.Fatalf("Receive: %v", stream.Err())
	}
	got := stream.Msg().GetEvent()
	if got.GetEvent().GetId() != wanted.GetId() {
		t.Errorf("streamed event %s (%s), want %s: the filter should skip %s",
			got.GetEvent().GetId(), got.GetEvent().GetKind(), wanted.GetId(), skipped.GetId())
	}
	if got.GetAttackerId() == "" || got.GetReceivedAt() == nil {
		t.Errorf("streamed event lacks attacker id or received time: %v", got)
	}
	if got.GetEvent().GetAgentId() != agentID {
		t.Errorf("streamed agent id %q, want %q", got.GetEvent().GetAgentId(), agentID)
	}
}

// droppingBroker drops every subscriber at once, as the hub does to one
// that falls behind.
type droppingBroker struct{}

func (droppingBroker) Publish([]*apiv1.StoredEvent) {}

func (droppingBroker) Subscribe(int) (<-chan *apiv1.StoredEvent, func()) {
	ch := make(chan *apiv1.StoredEvent)
	close(ch)
	return ch, func() {}
}

func TestStreamEventsDropped(t *testing.T) {
	f := newFixture(t, options{broker: droppingBroker{}})
	token := f.login(t)

	client := apiv1connect.NewEventServiceClient(f.h2c, f.srv.URL)
	stream, err := client.StreamEvents(context.Background(), withToken(&apiv1.StreamEventsRequest{}, token))
	if err != nil {
		t.Fatalf("StreamEvents: %v", err)
	}
	defer stream.Close()
	if stream.Receive() {
		t.Fatal("Receive succeeded on a dropped stream")
	}
	if connect.CodeOf(stream.Err()) != connect.CodeResourceExhausted {
		t.Errorf("stream error %v, want CodeResourceExhausted", stream.Err())
	}
}

func TestStreamEventsUnauthenticated(t *testing.T) {
	f := newFixture(t, options{})
	client := apiv1connect.NewEventServiceClient(f.h2c, f.srv.URL)
	stream, err := client.StreamEvents(context.Background(), connect.NewRequest(&apiv1.StreamEventsRequest{}))
	if err != nil {
		t.Fatalf("StreamEvents: %v", err)
	}
	defer stream.Close()
	if stream.Receive() {
		t.Fatal("Receive succeeded without a session")
	}
	if connect.CodeOf(stream.Err()) != connect.CodeUnauthenticated {
		t.Errorf("stream error %v, want CodeUnauthenticated", stream.Err())
	}
}

func TestGRPCProtocol(t *testing.T) {
	f := newFixture(t, options{})
	f.ingest(t, newEvent("127.0.0.4", "connection.opened"))
	ctx := context.Background()

	authClient := apiv1connect.NewAuthServiceClient(f.h2c, f.srv.URL, connect.WithGRPC())
	login, err := authClient.Login(ctx, connect.NewRequest(&apiv1.LoginRequest{Username: "admin", Password: f.adminPassword}))
	if err != nil {
		t.Fatalf("gRPC Login: %v", err)
	}
	token := login.Msg.GetToken()
	f.recordToken(token)

	client := apiv1connect.NewAttackerServiceClient(f.h2c, f.srv.URL, connect.WithGRPC())
	if _, err := client.ListAttackers(ctx, connect.NewRequest(&apiv1.ListAttackersRequest{})); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("gRPC ListAttackers without a token: %v, want CodeUnauthenticated", err)
	}
	resp, err := client.ListAttackers(ctx, withToken(&apiv1.ListAttackersRequest{Address: "127.0.0.4"}, token))
	if err != nil {
		t.Fatalf("gRPC ListAttackers: %v", err)
	}
	if got := resp.Msg.GetAttackers(); len(got) != 1 || got[0].GetAddresses()[0] != "127.0.0.4" {
		t.Errorf("gRPC ListAttackers = %v, want the attacker from 127.0.0.4", got)
	}

	web := apiv1connect.NewAttackerServiceClient(f.h1, f.srv.URL, connect.WithGRPCWeb())
	if _, err := web.ListAttackers(ctx, withToken(&apiv1.ListAttackersRequest{}, token)); err != nil {
		t.Errorf("gRPC-Web ListAttackers: %v", err)
	}
}

func TestLogout(t *testing.T) {
	f := newFixture(t, options{})
	token := f.login(t)

	resp, body := f.postJSON(t, apiv1connect.AuthServiceLogoutProcedure, `{}`, http.Header{"Authorization": {"Bearer " + token}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("Logout status %d, body %s", resp.StatusCode, body)
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 || cookies[0].Name != auth.CookieName || cookies[0].MaxAge >= 0 || cookies[0].Value != "" {
		t.Errorf("Logout cookies = %v, want %s cleared", cookies, auth.CookieName)
	}

	resp, _ = f.postJSON(t, apiv1connect.AgentServiceListAgentsProcedure, `{}`, http.Header{"Authorization": {"Bearer " + token}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("call after logout: status %d, want 401", resp.StatusCode)
	}
}

func TestLoginRateLimit(t *testing.T) {
	f := newFixture(t, options{limiter: auth.NewTokenBucket(auth.TokenBucketConfig{Burst: 2, Interval: time.Hour})})
	client := apiv1connect.NewAuthServiceClient(f.h1, f.srv.URL)
	ctx := context.Background()

	wants := []connect.Code{connect.CodeUnauthenticated, connect.CodeUnauthenticated, connect.CodeResourceExhausted}
	for i, want := range wants {
		_, err := client.Login(ctx, connect.NewRequest(&apiv1.LoginRequest{Username: "admin", Password: "guess"}))
		if connect.CodeOf(err) != want {
			t.Errorf("attempt %d: %v, want %v", i, err, want)
		}
	}
	_, err := client.Login(ctx, connect.NewRequest(&apiv1.LoginRequest{Username: "admin", Password: f.adminPassword}))
	if connect.CodeOf(err) != connect.CodeResourceExhausted {
		t.Errorf("right password after the limit: %v, want CodeResourceExhausted", err)
	}
}

func TestSecretsNotLogged(t *testing.T) {
	f := newFixture(t, options{})
	token := f.login(t)
	ctx := context.Background()

	// A failed login with the password sent as the user name, and a call
	// with the token in a place it is not valid, both get logged.
	client := apiv1connect.NewAuthServiceClient(f.h1, f.srv.URL)
	_, _ = client.Login(ctx, connect.NewRequest(&apiv1.LoginRequest{Username: "admin", Password: "wrong-" + f.adminPassword}))
	_, _ = apiv1connect.NewAgentServiceClient(f.h1, f.srv.URL).ListAgents(ctx, withToken(&apiv1.ListAgentsRequest{}, token+"x"))

	logs := f.logs.String()
	for _, want := range []string{"login succeeded", "login failed"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q, so the secret check below proves little:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, f.adminPassword) {
		t.Error("logs contain the admin password")
	}
	if strings.Contains(logs, token) {
		t.Error("logs contain the bearer token")
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want connect.Code
	}{
		{store.ErrNotFound, connect.CodeNotFound},
		{store.ErrInvalidPageToken, connect.CodeInvalidArgument},
		{auth.ErrInvalidCredentials, connect.CodeUnauthenticated},
		{auth.ErrRateLimited, connect.CodeResourceExhausted},
		{fmt.Errorf("%w: %q", auth.ErrInvalidScope, "event:read"), connect.CodeInvalidArgument},
		{auth.ErrTokenScopeTooWide, connect.CodeInvalidArgument},
		{context.Canceled, connect.CodeCanceled},
		{errors.New("disk on fire at /var/lib/decnet"), connect.CodeInternal},
	}
	for _, tc := range tests {
		code, msg := classify(tc.err)
		if code != tc.want {
			t.Errorf("classify(%v) = %v, want %v", tc.err, code, tc.want)
		}
		if code == connect.CodeInternal && strings.Contains(msg, "/var/lib") {
			t.Errorf("internal message %q leaks the cause", msg)
		}
	}
}

func TestStreamFilterMatches(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	se := &apiv1.StoredEvent{
		AttackerId: "0195a1b2-0000-7000-8000-0000000000aa",
		Event: &eventv1.Event{
			Time: timestamppb.New(at), AgentId: agentID, Decky: "web-01", Service: "ssh", Kind: "auth.attempt",
			Source: &eventv1.Endpoint{Address: "::ffff:127.0.0.2"},
		},
	}
	tests := []struct {
		name   string
		filter *apiv1.EventFilter
		want   bool
	}{
		{"nil", nil, true},
		{"empty", &apiv1.EventFilter{}, true},
		{"kind", &apiv1.EventFilter{Kind: "auth.attempt"}, true},
		{"other kind", &apiv1.EventFilter{Kind: "command"}, false},
		{"other service", &apiv1.EventFilter{Service: "http"}, false},
		{"other decky", &apiv1.EventFilter{Decky: "db-01"}, false},
		{"other agent", &apiv1.EventFilter{AgentId: "0195a1b2-0000-7000-8000-0000000000ff"}, false},
		{"attacker", &apiv1.EventFilter{AttackerId: se.GetAttackerId()}, true},
		{"other attacker", &apiv1.EventFilter{AttackerId: "0195a1b2-0000-7000-8000-0000000000bb"}, false},
		{"mapped source", &apiv1.EventFilter{SourceAddress: "127.0.0.2"}, true},
		{"other source", &apiv1.EventFilter{SourceAddress: "127.0.0.3"}, false},
		{"since equal", &apiv1.EventFilter{Since: timestamppb.New(at)}, true},
		{"since later", &apiv1.EventFilter{Since: timestamppb.New(at.Add(time.Second))}, false},
		{"until equal", &apiv1.EventFilter{Until: timestamppb.New(at)}, false},
		{"until later", &apiv1.EventFilter{Until: timestamppb.New(at.Add(time.Second))}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := normalizeFilter(tc.filter)
			if err != nil {
				t.Fatalf("normalizeFilter: %v", err)
			}
			if got := matches(f, se); got != tc.want {
				t.Errorf("matches = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDecommissionAgent(t *testing.T) {
	var closed []string
	f := newFixture(t, options{onDecommission: func(id string) { closed = append(closed, id) }})
	token := f.login(t)
	ctx := context.Background()
	agents := apiv1connect.NewAgentServiceClient(f.h1, f.srv.URL)

	resp, err := agents.DecommissionAgent(ctx, withToken(&apiv1.DecommissionAgentRequest{Id: agentID}, token))
	if err != nil {
		t.Fatalf("DecommissionAgent: %v", err)
	}
	got := resp.Msg.GetAgent()
	if got.GetId() != agentID || !got.GetRevoked() || got.GetDecommissionedAt() == nil {
		t.Errorf("DecommissionAgent returned %v, want %s revoked with a time", got, agentID)
	}
	if len(closed) != 1 || closed[0] != agentID {
		t.Errorf("OnDecommission called with %v, want [%s]", closed, agentID)
	}
	first := got.GetDecommissionedAt().AsTime()

	// Again: the first time stays.
	resp, err = agents.DecommissionAgent(ctx, withToken(&apiv1.DecommissionAgentRequest{Id: agentID}, token))
	if err != nil {
		t.Fatalf("DecommissionAgent again: %v", err)
	}
	if !resp.Msg.GetAgent().GetDecommissionedAt().AsTime().Equal(first) {
		t.Errorf("second decommission moved the time to %v, want %v", resp.Msg.GetAgent().GetDecommissionedAt().AsTime(), first)
	}

	list, err := agents.ListAgents(ctx, withToken(&apiv1.ListAgentsRequest{}, token))
	if err != nil {
		t.Fatalf("ListAgents: %v", err)
	}
	if ag := list.Msg.GetAgents(); len(ag) != 1 || !ag[0].GetRevoked() || !ag[0].GetDecommissionedAt().AsTime().Equal(first) {
		t.Errorf("ListAgents = %v, want %s revoked at %v", ag, agentID, first)
	}

	errorCases := []struct {
		name string
		id   string
		want connect.Code
	}{
		{"unknown agent", "0195a1b2-0000-7000-8000-0000000000ff", connect.CodeNotFound},
		{"empty id", "", connect.CodeInvalidArgument},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := agents.DecommissionAgent(ctx, withToken(&apiv1.DecommissionAgentRequest{Id: tc.id}, token))
			if connect.CodeOf(err) != tc.want {
				t.Errorf("error %v, want code %v", err, tc.want)
			}
		})
	}
	if len(closed) != 2 {
		t.Errorf("OnDecommission called %d times, want 2 (failed calls close nothing)", len(closed))
	}
}

// Replies of the API carry session tokens and captured credentials; no
// browser or proxy may keep them, whether the call succeeds or fails.
func TestAPIResponsesAreNotCached(t *testing.T) {
	f := newFixture(t, options{})
	admin := f.login(t)
	for _, tc := range []struct {
		procedure string
		header    http.Header
		status    int
	}{
		{"/decnet.api.v1.AuthService/GetLoginOptions", nil, http.StatusOK},
		{"/decnet.api.v1.CredentialService/ListCredentials", http.Header{"Authorization": {"Bearer " + admin}}, http.StatusOK},
		{"/decnet.api.v1.CredentialService/ListCredentials", nil, http.StatusUnauthorized},
	} {
		resp, _ := f.postJSON(t, tc.procedure, "{}", tc.header)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.procedure, resp.StatusCode, tc.status)
		}
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", tc.procedure, got)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q, want nosniff", tc.procedure, got)
		}
	}
}
