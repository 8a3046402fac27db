package api

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/topics"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// apiProcedure is one method of the API with its declared access.
type apiProcedure struct {
	path      string
	streaming bool
	access    apiv1.Access
}

// apiProcedures walks the generated descriptors of the API package and
// adds the gRPC health procedures.
func apiProcedures(t *testing.T) []apiProcedure {
	t.Helper()
	var out []apiProcedure
	protoregistry.GlobalFiles.RangeFilesByPackage("decnet.api.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			svc := fd.Services().Get(i)
			for j := range svc.Methods().Len() {
				m := svc.Methods().Get(j)
				out = append(out, apiProcedure{
					path:      "/" + string(svc.FullName()) + "/" + string(m.Name()),
					streaming: m.IsStreamingClient() || m.IsStreamingServer(),
					access:    auth.MethodAccess(m),
				})
			}
		}
		return true
	})
	// The standard health procedures are served beside the API, and their
	// rule is the contract's: public. grpchealth registers its descriptors
	// under a package of its own, so the paths are spelled out.
	out = append(out,
		apiProcedure{path: auth.HealthCheckProcedure, access: apiv1.Access_ACCESS_PUBLIC},
		apiProcedure{path: auth.HealthWatchProcedure, streaming: true, access: apiv1.Access_ACCESS_PUBLIC},
	)
	if len(out) < 20 {
		t.Fatalf("found %d procedures in the API descriptors; the generated files are not registered", len(out))
	}
	return out
}

// Every procedure declares its access rule; one without is refused to
// everyone, so forgetting it shows here rather than as a locked-out
// feature.
func TestEveryProcedureDeclaresAccess(t *testing.T) {
	for _, p := range apiProcedures(t) {
		if p.access == apiv1.Access_ACCESS_UNSPECIFIED {
			t.Errorf("%s has no (decnet.api.v1.access) option", p.path)
		}
		if got := auth.AccessOf(p.path); got != p.access {
			t.Errorf("AccessOf(%s) = %v, want %v", p.path, got, p.access)
		}
	}
}

// Each role gets exactly the procedures its access allows, every other
// call fails with PermissionDenied, and a caller without a session gets
// Unauthenticated everywhere but the public procedures: login and the
// health checks.
func TestRolesGetExactlyTheirProcedures(t *testing.T) {
	f := newFixture(t, options{tokens: &TokenServiceConfig{}, notices: topics.New[*apiv1.Notice]()})
	ctx := context.Background()
	tokens := map[apiv1.Role]string{apiv1.Role_ROLE_ADMIN: f.login(t)}
	for _, role := range []apiv1.Role{apiv1.Role_ROLE_VIEWER, apiv1.Role_ROLE_ANALYST} {
		name := auth.RoleName(role) + "-user"
		password, err := f.auth.CreateUser(ctx, name, role)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := apiv1connect.NewAuthServiceClient(f.h1, f.srv.URL).Login(ctx,
			connect.NewRequest(&apiv1.LoginRequest{Username: name, Password: password.Reveal()}))
		if err != nil {
			t.Fatalf("login %s: %v", name, err)
		}
		if !resp.Msg.GetPasswordChangeRequired() || resp.Msg.GetRole() != role {
			t.Errorf("login of a created user: change required %v, role %v", resp.Msg.GetPasswordChangeRequired(), resp.Msg.GetRole())
		}
		// Until the first password is changed the session only reads;
		// TestFirstPasswordOnlyReads covers that.
		clearMustChange(t, f.store, name)
		resp, err = apiv1connect.NewAuthServiceClient(f.h1, f.srv.URL).Login(ctx,
			connect.NewRequest(&apiv1.LoginRequest{Username: name, Password: password.Reveal()}))
		if err != nil {
			t.Fatalf("login %s: %v", name, err)
		}
		tokens[role] = resp.Msg.GetToken()
	}

	for _, p := range apiProcedures(t) {
		// Logging out would end the session the other calls use; its
		// accepted case is TestLogout's.
		skipAllowed := p.path == apiv1connect.AuthServiceLogoutProcedure
		t.Run(strings.TrimPrefix(p.path, "/decnet.api.v1."), func(t *testing.T) {
			if got := callCode(t, f, p, ""); p.access == apiv1.Access_ACCESS_PUBLIC {
				if got == connect.CodeUnauthenticated && p.path != apiv1connect.AuthServiceLoginProcedure {
					t.Errorf("public procedure without session: %v", got)
				}
			} else if got != connect.CodeUnauthenticated {
				t.Errorf("without a session: %v, want unauthenticated", got)
			}
			for role, token := range tokens {
				allowed := auth.Allows(role, p.access)
				if allowed && skipAllowed {
					continue
				}
				got := callCode(t, f, p, token)
				switch {
				case allowed && (got == connect.CodePermissionDenied || got == connect.CodeUnauthenticated):
					t.Errorf("%s: %v, want the call to reach the handler", auth.RoleName(role), got)
				case !allowed && got != connect.CodePermissionDenied:
					t.Errorf("%s: %v, want permission_denied", auth.RoleName(role), got)
				}
			}
		})
	}
}

// Every service names the resource of its procedures in token scopes,
// and each procedure needs read of it when it changes nothing and write
// otherwise, unless it names its scope itself.
func TestEveryProcedureHasScope(t *testing.T) {
	overrides := map[string]string{
		apiv1connect.AuthServiceIssueStreamTicketProcedure: "events:read",
	}
	seen := map[string]string{}
	protoregistry.GlobalFiles.RangeFilesByPackage("decnet.api.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			svc := fd.Services().Get(i)
			resource := auth.ServiceScope(svc)
			if resource == "" || strings.ContainsAny(resource, ":* ") {
				t.Errorf("%s: scope option %q, want a resource name", svc.FullName(), resource)
			}
			if other, dup := seen[resource]; dup {
				t.Errorf("%s and %s share the scope resource %q", other, svc.FullName(), resource)
			}
			seen[resource] = string(svc.FullName())
			for j := range svc.Methods().Len() {
				m := svc.Methods().Get(j)
				path := "/" + string(svc.FullName()) + "/" + string(m.Name())
				want := resource + ":write"
				if opts, ok := m.Options().(*descriptorpb.MethodOptions); ok && opts.GetIdempotencyLevel() == descriptorpb.MethodOptions_NO_SIDE_EFFECTS {
					want = resource + ":read"
				}
				if o, ok := overrides[path]; ok {
					want = o
				}
				if got := auth.ScopeOf(path); got != want {
					t.Errorf("ScopeOf(%s) = %q, want %q", path, got, want)
				}
			}
		}
		return true
	})
	if got := auth.ScopeResources(); len(got) != len(seen) {
		t.Errorf("ScopeResources = %v, want the %d resources of the services", got, len(seen))
	}
}

// A scoped API token reaches exactly the procedures its scopes and role
// allow, and gets PermissionDenied for every other.
func TestScopedTokensGetExactlyTheirProcedures(t *testing.T) {
	f := newFixture(t, options{tokens: &TokenServiceConfig{}, notices: topics.New[*apiv1.Notice]()})
	ctx := context.Background()
	admin := f.login(t)
	analyst := f.loginNewUser(t, "analyst-user", apiv1.Role_ROLE_ANALYST)

	cases := []struct {
		name    string
		session string
		scopes  []string
		role    apiv1.Role
	}{
		{"events read", admin, []string{"events:read"}, apiv1.Role_ROLE_ADMIN},
		{"all reads", admin, []string{"*:read"}, apiv1.Role_ROLE_ADMIN},
		{"webhooks and attackers", admin, []string{"webhooks:write", "attackers:read"}, apiv1.Role_ROLE_ADMIN},
		{"analyst everything", analyst, []string{"*"}, apiv1.Role_ROLE_ANALYST},
		{"analyst users write", analyst, []string{"users:write"}, apiv1.Role_ROLE_ANALYST},
	}
	tokens := apiv1connect.NewApiTokenServiceClient(f.h1, f.srv.URL)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			created, err := tokens.CreateApiToken(ctx, withToken(&apiv1.CreateApiTokenRequest{Name: tc.name, Scopes: tc.scopes}, tc.session))
			if err != nil {
				t.Fatal(err)
			}
			if got := created.Msg.GetToken().GetScopes(); !slices.Equal(got, tc.scopes) {
				t.Errorf("created token scopes = %q, want %q", got, tc.scopes)
			}
			secret := created.Msg.GetSecret()
			f.recordToken(secret)

			reached := 0
			for _, p := range apiProcedures(t) {
				if p.access == apiv1.Access_ACCESS_PUBLIC {
					continue
				}
				allowed := auth.Allows(tc.role, p.access) && slices.ContainsFunc(tc.scopes, func(s string) bool {
					return auth.ScopesAllow([]string{s}, p.path)
				})
				// Logout with an API token has no session to end, so
				// its handler returns unauthenticated.
				if allowed && p.path == apiv1connect.AuthServiceLogoutProcedure {
					continue
				}
				got := callCode(t, f, p, secret)
				switch {
				case allowed && (got == connect.CodePermissionDenied || got == connect.CodeUnauthenticated):
					t.Errorf("%s: %v, want the call to reach the handler", p.path, got)
				case !allowed && got != connect.CodePermissionDenied:
					t.Errorf("%s: %v, want permission_denied", p.path, got)
				case allowed:
					reached++
				}
			}
			if reached == 0 {
				t.Error("the token reached no procedure")
			}
		})
	}

	// The contract in plain terms: events:read reads events, and only
	// that.
	created, err := tokens.CreateApiToken(ctx, withToken(&apiv1.CreateApiTokenRequest{Name: "events-only", Scopes: []string{"events:read"}}, admin))
	if err != nil {
		t.Fatal(err)
	}
	secret := created.Msg.GetSecret()
	f.recordToken(secret)
	if _, err := apiv1connect.NewEventServiceClient(f.h1, f.srv.URL).ListEvents(ctx, withToken(&apiv1.ListEventsRequest{}, secret)); err != nil {
		t.Errorf("ListEvents with events:read: %v", err)
	}
	_, err = apiv1connect.NewAttackerServiceClient(f.h1, f.srv.URL).ListAttackers(ctx, withToken(&apiv1.ListAttackersRequest{}, secret))
	if connect.CodeOf(err) != connect.CodePermissionDenied || !strings.Contains(err.Error(), "scopes") {
		t.Errorf("ListAttackers with events:read: %v, want permission_denied naming the scopes", err)
	}
}

// A token can only mint tokens within its own scopes; without scopes the
// new token inherits them, and a login session's token gets "*".
func TestTokenScopesOnCreate(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	admin := f.login(t)
	tokens := apiv1connect.NewApiTokenServiceClient(f.h1, f.srv.URL)
	create := func(session string, scopes ...string) (*apiv1.ApiToken, string, error) {
		resp, err := tokens.CreateApiToken(ctx, withToken(&apiv1.CreateApiTokenRequest{Name: "t", Scopes: scopes}, session))
		if err != nil {
			return nil, "", err
		}
		f.recordToken(resp.Msg.GetSecret())
		return resp.Msg.GetToken(), resp.Msg.GetSecret(), nil
	}

	full, _, err := create(admin)
	if err != nil {
		t.Fatal(err)
	}
	if got := full.GetScopes(); !slices.Equal(got, []string{"*"}) {
		t.Errorf("token without scopes from a login session: scopes %q, want [*]", got)
	}
	if _, _, err := create(admin, "event:read"); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("unknown resource: %v, want invalid_argument", err)
	}
	if _, _, err := create(admin, "events:delete"); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("unknown access: %v, want invalid_argument", err)
	}

	minter, minterSecret, err := create(admin, "api-tokens:write", "events:read", "events:read")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := minter.GetScopes(), []string{"api-tokens:write", "events:read"}; !slices.Equal(got, want) {
		t.Errorf("scopes with a duplicate = %q, want %q", got, want)
	}
	inherited, _, err := create(minterSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := inherited.GetScopes(); !slices.Equal(got, minter.GetScopes()) {
		t.Errorf("token minted without scopes by a token: %q, want its scopes %q", got, minter.GetScopes())
	}
	narrower, _, err := create(minterSecret, "events:read")
	if err != nil || !slices.Equal(narrower.GetScopes(), []string{"events:read"}) {
		t.Errorf("narrower token = %v, %v, want events:read", narrower, err)
	}
	for _, wider := range [][]string{{"*"}, {"*:read"}, {"events:write"}, {"attackers:read"}} {
		if _, _, err := create(minterSecret, wider...); connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("token minting %q: %v, want invalid_argument", wider, err)
		}
	}

	list, err := tokens.ListApiTokens(ctx, withToken(&apiv1.ListApiTokensRequest{}, admin))
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range list.Msg.GetTokens() {
		if tok.GetId() == minter.GetId() && !slices.Equal(tok.GetScopes(), minter.GetScopes()) {
			t.Errorf("listed scopes %q, want %q", tok.GetScopes(), minter.GetScopes())
		}
	}
}

// callCode calls the procedure with an empty request and returns the
// error code, 0 for success.
func callCode(t *testing.T, f *fixture, p apiProcedure, token string) connect.Code {
	t.Helper()
	if p.streaming {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		header := http.Header{}
		if token != "" {
			header.Set("Authorization", "Bearer "+token)
		}
		var stream interface {
			Receive() bool
			Err() error
			Close() error
		}
		var err error
		switch p.path {
		case apiv1connect.EventServiceStreamEventsProcedure:
			req := connect.NewRequest(&apiv1.StreamEventsRequest{})
			maps.Copy(req.Header(), header)
			stream, err = apiv1connect.NewEventServiceClient(f.h1, f.srv.URL).StreamEvents(ctx, req)
		case apiv1connect.AgentServiceStreamAgentUpdatesProcedure:
			req := connect.NewRequest(&apiv1.StreamAgentUpdatesRequest{})
			maps.Copy(req.Header(), header)
			stream, err = apiv1connect.NewAgentServiceClient(f.h1, f.srv.URL).StreamAgentUpdates(ctx, req)
		case apiv1connect.NoticeServiceStreamNoticesProcedure:
			req := connect.NewRequest(&apiv1.StreamNoticesRequest{})
			maps.Copy(req.Header(), header)
			stream, err = apiv1connect.NewNoticeServiceClient(f.h1, f.srv.URL).StreamNotices(ctx, req)
		case auth.HealthWatchProcedure:
			// The health messages are internal to grpchealth; an empty
			// request encodes as an empty Empty does.
			req := connect.NewRequest(&emptypb.Empty{})
			maps.Copy(req.Header(), header)
			stream, err = connect.NewClient[emptypb.Empty, emptypb.Empty](f.h1, f.srv.URL+p.path).CallServerStream(ctx, req)
		default:
			t.Fatalf("%s: a streaming procedure this test does not know how to call", p.path)
		}
		if err != nil {
			return connect.CodeOf(err)
		}
		defer stream.Close()
		if stream.Receive() {
			return 0
		}
		if err := stream.Err(); err != nil && connect.CodeOf(err) != connect.CodeDeadlineExceeded {
			return connect.CodeOf(err)
		}
		return 0
	}
	var header http.Header
	if token != "" {
		header = http.Header{"Authorization": {"Bearer " + token}}
	}
	resp, body := f.postJSON(t, p.path, `{}`, header)
	if resp.StatusCode == http.StatusOK {
		return 0
	}
	for code := connect.Code(1); code <= connect.CodeUnauthenticated; code++ {
		if strings.Contains(string(body), `"code":"`+code.String()+`"`) {
			return code
		}
	}
	t.Fatalf("%s: status %d with body %s", p.path, resp.StatusCode, body)
	return 0
}

// Viewers read credentials without their secret values; analysts get
// them.
func TestViewerSeesMaskedSecrets(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	f.ingest(t, newEvent("127.0.0.2", "auth.attempt"))

	tokens := map[apiv1.Role]string{}
	for _, role := range []apiv1.Role{apiv1.Role_ROLE_VIEWER, apiv1.Role_ROLE_ANALYST} {
		name := auth.RoleName(role) + "-user"
		password, err := f.auth.CreateUser(ctx, name, role)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := apiv1connect.NewAuthServiceClient(f.h1, f.srv.URL).Login(ctx,
			connect.NewRequest(&apiv1.LoginRequest{Username: name, Password: password.Reveal()}))
		if err != nil {
			t.Fatal(err)
		}
		tokens[role] = resp.Msg.GetToken()
	}
	creds := apiv1connect.NewCredentialServiceClient(f.h1, f.srv.URL)
	viewer, err := creds.ListCredentials(ctx, withToken(&apiv1.ListCredentialsRequest{}, tokens[apiv1.Role_ROLE_VIEWER]))
	if err != nil {
		t.Fatal(err)
	}
	if c := viewer.Msg.GetCredentials(); len(c) != 1 || len(c[0].GetSecret()) != 0 || !c[0].GetSecretMasked() ||
		c[0].GetPrincipal() != "root" || c[0].GetMechanism() != "ssh_password" {
		t.Errorf("viewer sees %v, want the credential with its secret masked", c)
	}
	analyst, err := creds.ListCredentials(ctx, withToken(&apiv1.ListCredentialsRequest{}, tokens[apiv1.Role_ROLE_ANALYST]))
	if err != nil {
		t.Fatal(err)
	}
	if c := analyst.Msg.GetCredentials(); len(c) != 1 || string(c[0].GetSecret()) != "toor" || c[0].GetSecretMasked() {
		t.Errorf("analyst sees %v, want the secret", c)
	}
}

// A password change ends the user's other sessions and clears the
// must-change flag; a role change applies to the next call.
func TestPasswordAndRoleChanges(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	admin := f.login(t)
	users := apiv1connect.NewUserServiceClient(f.h1, f.srv.URL)
	created, err := users.CreateUser(ctx, withToken(&apiv1.CreateUserRequest{Username: "mia", Role: apiv1.Role_ROLE_VIEWER}, admin))
	if err != nil {
		t.Fatal(err)
	}
	password := created.Msg.GetPassword()
	if len(password) < auth.MinPasswordLength || !created.Msg.GetUser().GetPasswordChangeRequired() {
		t.Fatalf("created user %v with a password of %d characters", created.Msg.GetUser(), len(password))
	}
	login := func(pw string) (string, error) {
		resp, err := apiv1connect.NewAuthServiceClient(f.h1, f.srv.URL).Login(ctx, connect.NewRequest(&apiv1.LoginRequest{Username: "mia", Password: pw}))
		return resp.Msg.GetToken(), err
	}
	first, err := login(password)
	if err != nil {
		t.Fatal(err)
	}
	second, err := login(password)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := users.ChangePassword(ctx, withToken(&apiv1.ChangePasswordRequest{CurrentPassword: password, NewPassword: "short"}, first)); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("weak password: %v, want invalid_argument", err)
	}
	if _, err := users.ChangePassword(ctx, withToken(&apiv1.ChangePasswordRequest{CurrentPassword: "wrong-password", NewPassword: "a much longer passphrase"}, first)); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("wrong current password: %v, want invalid_argument", err)
	}
	if _, err := users.ChangePassword(ctx, withToken(&apiv1.ChangePasswordRequest{CurrentPassword: password, NewPassword: "a much longer passphrase"}, first)); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	me, err := users.GetCurrentUser(ctx, withToken(&apiv1.GetCurrentUserRequest{}, first))
	if err != nil || me.Msg.GetUser().GetPasswordChangeRequired() {
		t.Errorf("after the change: %v, %v", me.Msg.GetUser(), err)
	}
	if _, err := users.GetCurrentUser(ctx, withToken(&apiv1.GetCurrentUserRequest{}, second)); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("other session after the change: %v, want unauthenticated", err)
	}

	// Promoted to admin, the same session may list users at once.
	list := func() error {
		_, err := users.ListUsers(ctx, withToken(&apiv1.ListUsersRequest{}, first))
		return err
	}
	if err := list(); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("viewer ListUsers: %v", err)
	}
	if _, err := users.SetUserRole(ctx, withToken(&apiv1.SetUserRoleRequest{Username: "mia", Role: apiv1.Role_ROLE_ADMIN}, admin)); err != nil {
		t.Fatal(err)
	}
	if err := list(); err != nil {
		t.Errorf("ListUsers after promotion: %v", err)
	}

	// A reset ends every session; a deleted user's session ends too.
	if _, err := users.ResetUserPassword(ctx, withToken(&apiv1.ResetUserPasswordRequest{Username: "mia"}, admin)); err != nil {
		t.Fatal(err)
	}
	if err := list(); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("session after reset: %v, want unauthenticated", err)
	}
	if _, err := users.DeleteUser(ctx, withToken(&apiv1.DeleteUserRequest{Username: "admin"}, admin)); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("admin deleting themselves: %v, want invalid_argument", err)
	}
	if _, err := users.DeleteUser(ctx, withToken(&apiv1.DeleteUserRequest{Username: "mia"}, admin)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.GetUser(ctx, "mia"); err == nil {
		t.Error("deleted user still stored")
	}
}

// Calls that change something leave one audit entry each, with the
// outcome and without secret fields; reads leave none.
func TestAuditLog(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	admin := f.login(t)
	users := apiv1connect.NewUserServiceClient(f.h1, f.srv.URL)
	if _, err := users.ListUsers(ctx, withToken(&apiv1.ListUsersRequest{}, admin)); err != nil {
		t.Fatal(err)
	}
	if _, err := users.CreateUser(ctx, withToken(&apiv1.CreateUserRequest{Username: "noor", Role: apiv1.Role_ROLE_ANALYST}, admin)); err != nil {
		t.Fatal(err)
	}
	if _, err := users.SetUserRole(ctx, withToken(&apiv1.SetUserRoleRequest{Username: "ghost", Role: apiv1.Role_ROLE_ADMIN}, admin)); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("SetUserRole(unknown) = %v", err)
	}
	const secret = "correct horse battery staple"
	if _, err := users.ChangePassword(ctx, withToken(&apiv1.ChangePasswordRequest{CurrentPassword: f.adminPassword, NewPassword: secret}, admin)); err != nil {
		t.Fatal(err)
	}

	resp, err := apiv1connect.NewAuditServiceClient(f.h1, f.srv.URL).ListAuditLog(ctx, withToken(&apiv1.ListAuditLogRequest{}, admin))
	if err != nil {
		t.Fatal(err)
	}
	entries := resp.Msg.GetEntries()
	want := []struct{ procedure, outcome, contains string }{
		{apiv1connect.UserServiceChangePasswordProcedure, "ok", "{}"},
		{apiv1connect.UserServiceSetUserRoleProcedure, "not_found", `"username":"ghost"`},
		{apiv1connect.UserServiceCreateUserProcedure, "ok", `"username":"noor"`},
	}
	if len(entries) != len(want) {
		t.Fatalf("%d audit entries, want %d: %v", len(entries), len(want), entries)
	}
	for i, w := range want {
		e := entries[i]
		if e.GetProcedure() != w.procedure || e.GetOutcome() != w.outcome || !strings.Contains(e.GetRequest(), w.contains) ||
			e.GetUsername() != "admin" || e.GetRole() != apiv1.Role_ROLE_ADMIN || e.GetSource() == "" {
			t.Errorf("entry %d = %v, want %s %s containing %s", i, e, w.procedure, w.outcome, w.contains)
		}
		if strings.Contains(e.GetRequest(), secret) || strings.Contains(e.GetRequest(), f.adminPassword) {
			t.Errorf("entry %d keeps a password: %s", i, e.GetRequest())
		}
	}
}

// Every procedure is either declared read-only or audited; this lists
// the audited ones so that a new procedure is a conscious choice.
func TestAuditedProcedures(t *testing.T) {
	var audited []string
	protoregistry.GlobalFiles.RangeFilesByPackage("decnet.api.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			svc := fd.Services().Get(i)
			for j := range svc.Methods().Len() {
				m := svc.Methods().Get(j)
				opts, _ := m.Options().(*descriptorpb.MethodOptions)
				if opts.GetIdempotencyLevel() != descriptorpb.MethodOptions_NO_SIDE_EFFECTS {
					audited = append(audited, string(svc.Name())+"."+string(m.Name()))
				}
			}
		}
		return true
	})
	slices.Sort(audited)
	want := []string{
		"AgentService.DecommissionAgent", "AgentService.SetAgentConfig",
		"AnnotationService.AddNote", "AnnotationService.DeleteNote", "AnnotationService.SetTriage",
		"ApiTokenService.CreateApiToken", "ApiTokenService.RevokeApiToken",
		"AuthService.IssueStreamTicket", "AuthService.Login", "AuthService.Logout", "ExportService.TestExportOutput",
		"IntelService.RefreshAttackerIntel", "SettingsService.UpdateSettings",
		"TokenService.CreateToken", "TokenService.RevokeToken",
		"UserService.BeginTotpEnrollment", "UserService.ChangePassword", "UserService.ConfirmTotpEnrollment",
		"UserService.CreateUser", "UserService.DeleteUser", "UserService.DisableTotp",
		"UserService.ResetUserPassword", "UserService.ResetUserTotp", "UserService.SetUserRole",
		"WebhookService.CreateWebhook", "WebhookService.CreateWebhookSuppression", "WebhookService.DeleteWebhook",
		"WebhookService.DeleteWebhookSuppression", "WebhookService.ReplayWebhookDeadLetters",
		"WebhookService.RotateWebhookSecret", "WebhookService.TestWebhook", "WebhookService.UpdateWebhook",
	}
	if !slices.Equal(audited, want) {
		t.Errorf("audited procedures = %v, want %v", audited, want)
	}
}

// An API token acts as its user with at most its own role, and stops
// working when revoked.
func TestAPITokens(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	admin := f.login(t)
	tokens := apiv1connect.NewApiTokenServiceClient(f.h1, f.srv.URL)
	created, err := tokens.CreateApiToken(ctx, withToken(&apiv1.CreateApiTokenRequest{Name: "siem", Role: apiv1.Role_ROLE_VIEWER}, admin))
	if err != nil {
		t.Fatal(err)
	}
	secret := created.Msg.GetSecret()
	if !strings.HasPrefix(secret, auth.APITokenPrefix) || created.Msg.GetToken().GetRole() != apiv1.Role_ROLE_VIEWER ||
		created.Msg.GetToken().GetUsername() != "admin" {
		t.Fatalf("created %v", created.Msg.GetToken())
	}
	f.recordToken(secret)

	users := apiv1connect.NewUserServiceClient(f.h1, f.srv.URL)
	me, err := users.GetCurrentUser(ctx, withToken(&apiv1.GetCurrentUserRequest{}, secret))
	if err != nil || me.Msg.GetUser().GetUsername() != "admin" {
		t.Fatalf("GetCurrentUser with the token: %v, %v", me, err)
	}
	// The token is a viewer although its user is an admin.
	if _, err := users.ListUsers(ctx, withToken(&apiv1.ListUsersRequest{}, secret)); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("ListUsers with a viewer token: %v, want permission_denied", err)
	}
	if _, err := tokens.CreateApiToken(ctx, withToken(&apiv1.CreateApiTokenRequest{Name: "escalate", Role: apiv1.Role_ROLE_ADMIN}, secret)); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("a viewer token minting an admin token: %v, want invalid_argument", err)
	}

	if _, err := tokens.RevokeApiToken(ctx, withToken(&apiv1.RevokeApiTokenRequest{Id: created.Msg.GetToken().GetId()}, admin)); err != nil {
		t.Fatal(err)
	}
	if _, err := users.GetCurrentUser(ctx, withToken(&apiv1.GetCurrentUserRequest{}, secret)); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("revoked token: %v, want unauthenticated", err)
	}
	list, err := tokens.ListApiTokens(ctx, withToken(&apiv1.ListApiTokensRequest{}, admin))
	if err != nil || len(list.Msg.GetTokens()) != 1 || list.Msg.GetTokens()[0].GetRevokedAt() == nil {
		t.Errorf("ListApiTokens = %v, %v", list, err)
	}
}

// A user who enables TOTP needs a fresh code at every login, and an
// operator can require admins to enroll before anything else.
func TestTOTP(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	admin := f.login(t)
	users := apiv1connect.NewUserServiceClient(f.h1, f.srv.URL)
	authClient := apiv1connect.NewAuthServiceClient(f.h1, f.srv.URL)

	begin, err := users.BeginTotpEnrollment(ctx, withToken(&apiv1.BeginTotpEnrollmentRequest{}, admin))
	if err != nil {
		t.Fatal(err)
	}
	secret := begin.Msg.GetSecret()
	if !strings.HasPrefix(begin.Msg.GetUrl(), "otpauth://totp/DECNET:admin?") {
		t.Errorf("url = %s", begin.Msg.GetUrl())
	}
	if _, err := users.ConfirmTotpEnrollment(ctx, withToken(&apiv1.ConfirmTotpEnrollmentRequest{Code: "000000"}, admin)); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("wrong confirmation code: %v", err)
	}
	// The confirming code belongs to the previous step, so the login
	// below can use the current one.
	prev, _ := auth.TOTPCode(secret, time.Now().Add(-30*time.Second))
	if _, err := users.ConfirmTotpEnrollment(ctx, withToken(&apiv1.ConfirmTotpEnrollmentRequest{Code: prev}, admin)); err != nil {
		t.Fatalf("confirm: %v", err)
	}

	login := func(code string) error {
		_, err := authClient.Login(ctx, connect.NewRequest(&apiv1.LoginRequest{Username: "admin", Password: f.adminPassword, TotpCode: code}))
		return err
	}
	if err := login(""); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("login without a code: %v, want failed_precondition", err)
	}
	if err := login("123456"); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("login with a wrong code: %v, want unauthenticated", err)
	}
	now, _ := auth.TOTPCode(secret, time.Now())
	if err := login(now); err != nil {
		t.Fatalf("login with the current code: %v", err)
	}
	if err := login(now); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("replayed code: %v, want unauthenticated", err)
	}
	me, err := users.GetCurrentUser(ctx, withToken(&apiv1.GetCurrentUserRequest{}, admin))
	if err != nil || !me.Msg.GetUser().GetTotpEnabled() {
		t.Errorf("current user = %v, %v", me, err)
	}
}

func TestAdminTOTPRequired(t *testing.T) {
	f := newFixture(t, options{requireAdminTOTP: true})
	ctx := context.Background()
	resp, err := apiv1connect.NewAuthServiceClient(f.h1, f.srv.URL).Login(ctx,
		connect.NewRequest(&apiv1.LoginRequest{Username: "admin", Password: f.adminPassword}))
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Msg.GetTotpEnrollmentRequired() {
		t.Fatal("login does not report the required enrollment")
	}
	token := resp.Msg.GetToken()
	f.recordToken(token)
	users := apiv1connect.NewUserServiceClient(f.h1, f.srv.URL)
	if _, err := users.ListUsers(ctx, withToken(&apiv1.ListUsersRequest{}, token)); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("ListUsers before enrolling: %v, want permission_denied", err)
	}
	begin, err := users.BeginTotpEnrollment(ctx, withToken(&apiv1.BeginTotpEnrollmentRequest{}, token))
	if err != nil {
		t.Fatal(err)
	}
	code, _ := auth.TOTPCode(begin.Msg.GetSecret(), time.Now())
	if _, err := users.ConfirmTotpEnrollment(ctx, withToken(&apiv1.ConfirmTotpEnrollmentRequest{Code: code}, token)); err != nil {
		t.Fatal(err)
	}
	if _, err := users.ListUsers(ctx, withToken(&apiv1.ListUsersRequest{}, token)); err != nil {
		t.Errorf("ListUsers after enrolling: %v", err)
	}
}

// Viewers get events without secret values, listed and streamed.
func TestViewerEventsMasked(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	password, err := f.auth.CreateUser(ctx, "vera", apiv1.Role_ROLE_VIEWER)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := apiv1connect.NewAuthServiceClient(f.h1, f.srv.URL).Login(ctx, connect.NewRequest(&apiv1.LoginRequest{Username: "vera", Password: password.Reveal()}))
	if err != nil {
		t.Fatal(err)
	}
	token := resp.Msg.GetToken()
	events := apiv1connect.NewEventServiceClient(f.h1, f.srv.URL)

	streamCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	stream, err := events.StreamEvents(streamCtx, withToken(&apiv1.StreamEventsRequest{}, token))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	// The call returns once the handler subscribed.
	f.ingest(t, newEvent("127.0.0.2", "auth.attempt"))
	if !stream.Receive() {
		t.Fatalf("stream: %v", stream.Err())
	}
	if a := stream.Msg().GetEvent().GetEvent().GetAuthAttempt(); a.GetPrincipal() != "root" || len(a.GetSecret()) != 0 {
		t.Errorf("streamed attempt = %v, want masked", a)
	}
	list, err := events.ListEvents(ctx, withToken(&apiv1.ListEventsRequest{}, token))
	if err != nil {
		t.Fatal(err)
	}
	if evs := list.Msg.GetEvents(); len(evs) != 1 || len(evs[0].GetEvent().GetAuthAttempt().GetSecret()) != 0 {
		t.Errorf("listed = %v, want the attempt masked", evs)
	}
	// Analysts and admins still get the value.
	admin := f.login(t)
	list, err = events.ListEvents(ctx, withToken(&apiv1.ListEventsRequest{}, admin))
	if err != nil || string(list.Msg.GetEvents()[0].GetEvent().GetAuthAttempt().GetSecret()) != "toor" {
		t.Errorf("admin list = %v, %v", list, err)
	}
}

// A user with a password someone else chose reads but changes nothing
// until they pick their own; their API tokens are not limited.
func TestFirstPasswordOnlyReads(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	f.ingest(t, newEvent("127.0.0.2", "auth.attempt"))
	password, err := f.auth.CreateUser(ctx, "lee", apiv1.Role_ROLE_ANALYST)
	if err != nil {
		t.Fatal(err)
	}
	login, err := apiv1connect.NewAuthServiceClient(f.h1, f.srv.URL).Login(ctx,
		connect.NewRequest(&apiv1.LoginRequest{Username: "lee", Password: password.Reveal()}))
	if err != nil || !login.Msg.GetPasswordChangeRequired() {
		t.Fatalf("login: %v, change required %v", err, login.Msg.GetPasswordChangeRequired())
	}
	token := login.Msg.GetToken()

	attackers, err := apiv1connect.NewAttackerServiceClient(f.h1, f.srv.URL).ListAttackers(ctx, withToken(&apiv1.ListAttackersRequest{}, token))
	if err != nil || len(attackers.Msg.GetAttackers()) != 1 {
		t.Fatalf("a read before the change: %v %v", attackers, err)
	}
	attackerID := attackers.Msg.GetAttackers()[0].GetId()
	notes := apiv1connect.NewAnnotationServiceClient(f.h1, f.srv.URL)
	_, err = notes.AddNote(ctx, withToken(&apiv1.AddNoteRequest{AttackerId: attackerID, Text: "x"}, token))
	if connect.CodeOf(err) != connect.CodePermissionDenied || !strings.Contains(err.Error(), "change your password first") {
		t.Fatalf("a change before the password change: %v", err)
	}
	if _, err := apiv1connect.NewApiTokenServiceClient(f.h1, f.srv.URL).CreateApiToken(ctx,
		withToken(&apiv1.CreateApiTokenRequest{Name: "ci"}, token)); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Fatalf("an API token before the password change: %v", err)
	}

	users := apiv1connect.NewUserServiceClient(f.h1, f.srv.URL)
	if _, err := users.ChangePassword(ctx, withToken(&apiv1.ChangePasswordRequest{
		CurrentPassword: password.Reveal(), NewPassword: "a long passphrase of lee's own",
	}, token)); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	if _, err := notes.AddNote(ctx, withToken(&apiv1.AddNoteRequest{AttackerId: attackerID, Text: "x"}, token)); err != nil {
		t.Fatalf("a change after the password change: %v", err)
	}
}
