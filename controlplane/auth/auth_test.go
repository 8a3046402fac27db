package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/store/sqlite"
)

// cheap keeps tests fast; production hashes use DefaultParams.
var cheap = Params{Memory: 64, Time: 1, Threads: 1}

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func TestPasswordHashRoundTrip(t *testing.T) {
	hash, err := HashPasswordWithParams("correct horse", cheap)
	if err != nil {
		t.Fatalf("HashPasswordWithParams: %v", err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q is not in PHC format with the given parameters", hash)
	}

	tests := []struct {
		password Secret
		want     bool
	}{
		{"correct horse", true},
		{"correct horsE", false},
		{"", false},
	}
	for _, tc := range tests {
		got, err := VerifyPassword(hash, tc.password)
		if err != nil {
			t.Fatalf("VerifyPassword: %v", err)
		}
		if got != tc.want {
			t.Errorf("VerifyPassword(%q) = %v, want %v", tc.password.Reveal(), got, tc.want)
		}
	}

	other, err := HashPasswordWithParams("correct horse", cheap)
	if err != nil {
		t.Fatalf("HashPasswordWithParams: %v", err)
	}
	if other == hash {
		t.Error("two hashes of one password are equal, want distinct salts")
	}
}

func TestVerifyMalformedHash(t *testing.T) {
	tests := []string{
		"",
		"plaintext",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=0,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$!!!$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$c2hvcnQ",
	}
	for _, encoded := range tests {
		if _, err := VerifyPassword(encoded, "x"); !errors.Is(err, ErrMalformedHash) {
			t.Errorf("VerifyPassword(%q) error = %v, want ErrMalformedHash", encoded, err)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := make(map[Secret]bool)
	for range 20 {
		pw, err := GeneratePassword(24)
		if err != nil {
			t.Fatalf("GeneratePassword: %v", err)
		}
		if len(pw.Reveal()) != 24 {
			t.Errorf("password length = %d, want 24", len(pw.Reveal()))
		}
		if strings.Trim(pw.Reveal(), passwordAlphabet) != "" {
			t.Errorf("password %q has characters outside the alphabet", pw.Reveal())
		}
		if seen[pw] {
			t.Errorf("password %q generated twice", pw.Reveal())
		}
		seen[pw] = true
	}
}

func TestSecretRedacted(t *testing.T) {
	const value = "s3cr3t-value"
	s := Secret(value)
	holder := struct{ Token Secret }{s}

	var logged bytes.Buffer
	logger := zerolog.New(&logged)
	logger.Info().Stringer("stringer", s).Interface("iface", s).Interface("holder", holder).Msg("m")
	jsonOut, err := json.Marshal(holder)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}

	outputs := map[string]string{
		"%v":      fmt.Sprintf("%v", s),
		"%s":      fmt.Sprintf("%s", s),
		"%q":      fmt.Sprintf("%q", s),
		"%x":      fmt.Sprintf("%x", s),
		"%#v":     fmt.Sprintf("%#v", s),
		"%+v":     fmt.Sprintf("%+v", holder),
		"json":    string(jsonOut),
		"zerolog": logged.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, value) || strings.Contains(out, fmt.Sprintf("%x", value)) {
			t.Errorf("%s output %q leaks the secret", name, out)
		}
		if !strings.Contains(out, redacted) {
			t.Errorf("%s output %q lacks %s", name, out, redacted)
		}
	}
	if s.Reveal() != value {
		t.Errorf("Reveal() = %q, want %q", s.Reveal(), value)
	}
}

func TestEnsureAdmin(t *testing.T) {
	st := openStore(t)
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()

	password, created, err := EnsureAdmin(ctx, st, dir)
	if err != nil {
		t.Fatalf("EnsureAdmin: %v", err)
	}
	if !created {
		t.Fatal("EnsureAdmin on an empty store created nothing")
	}
	if len(password) != 24 {
		t.Errorf("password length = %d, want 24", len(password))
	}

	path := filepath.Join(dir, AdminPasswordFile)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat password file: %v", err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("password file mode = %o, want 600", mode)
	}
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read password file: %v", err)
	}
	if string(content) != password+"\n" {
		t.Error("password file does not contain the returned password")
	}

	user, err := st.GetUser(ctx, AdminUsername)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if ok, err := VerifyPassword(user.PasswordHash, Secret(password)); err != nil || !ok {
		t.Errorf("stored hash does not verify the password: ok=%v err=%v", ok, err)
	}
	if user.Role != AdminRole {
		t.Errorf("role = %q, want %q", user.Role, AdminRole)
	}

	again, created, err := EnsureAdmin(ctx, st, dir)
	if err != nil {
		t.Fatalf("second EnsureAdmin: %v", err)
	}
	if created || again != "" {
		t.Errorf("second EnsureAdmin = %v created with a password, want nothing", created)
	}
	if after, err := os.ReadFile(path); err != nil || string(after) != string(content) {
		t.Errorf("second EnsureAdmin changed the password file (err %v)", err)
	}
}

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func newAuthenticator(t *testing.T) (*Authenticator, *clock, store.Store) {
	t.Helper()
	st := openStore(t)
	hash, err := HashPasswordWithParams("right password", cheap)
	if err != nil {
		t.Fatalf("hash: %v", err)
	}
	if err := st.CreateUser(context.Background(), store.User{Username: "analyst", PasswordHash: hash, Role: "admin"}); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	c := &clock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	a, err := New(Config{Store: st, Logger: zerolog.Nop(), Now: c.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a, c, st
}

func TestLoginAndSessions(t *testing.T) {
	a, c, _ := newAuthenticator(t)
	ctx := context.Background()

	failures := []struct {
		name, user string
		password   Secret
	}{
		{"wrong password", "analyst", "wrong"},
		{"unknown user", "nobody", "right password"},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := a.Login(ctx, tc.user, tc.password, "127.0.0.2:5000"); !errors.Is(err, ErrInvalidCredentials) {
				t.Errorf("Login error = %v, want ErrInvalidCredentials", err)
			}
		})
	}

	token, sess, err := a.Login(ctx, "analyst", "right password", "127.0.0.2:5000")
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if len(token.Reveal()) != 43 {
		t.Errorf("token length = %d, want 43 (32 bytes, base64url)", len(token.Reveal()))
	}
	if want := c.now.Add(DefaultSessionLifetime); !sess.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", sess.ExpiresAt, want)
	}

	got, err := a.Authenticate(ctx, token)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if got.Username != "analyst" {
		t.Errorf("session user = %q, want analyst", got.Username)
	}
	if _, err := a.Authenticate(ctx, token+"x"); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("Authenticate(wrong token) error = %v, want ErrUnauthenticated", err)
	}
	if _, err := a.Authenticate(ctx, ""); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("Authenticate(empty) error = %v, want ErrUnauthenticated", err)
	}

	c.now = sess.ExpiresAt
	if _, err := a.Authenticate(ctx, token); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("Authenticate at expiry error = %v, want ErrUnauthenticated", err)
	}

	c.now = sess.ExpiresAt.Add(-time.Minute)
	if err := a.Logout(ctx, got); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if _, err := a.Authenticate(ctx, token); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("Authenticate after logout error = %v, want ErrUnauthenticated", err)
	}
}

func TestLoginRateLimited(t *testing.T) {
	a, c, _ := newAuthenticator(t)
	ctx := context.Background()

	for i := range 10 {
		if _, _, err := a.Login(ctx, "analyst", "wrong", "127.0.0.2:1000"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("attempt %d error = %v, want ErrInvalidCredentials", i, err)
		}
	}
	// The right password is refused too once the burst is spent.
	if _, _, err := a.Login(ctx, "analyst", "right password", "127.0.0.2:1001"); !errors.Is(err, ErrRateLimited) {
		t.Errorf("attempt after burst error = %v, want ErrRateLimited", err)
	}
	// The burst also spent the user's own bucket, so another address
	// gets no more attempts at this user.
	if _, _, err := a.Login(ctx, "analyst", "right password", "127.0.0.3:1000"); !errors.Is(err, ErrRateLimited) {
		t.Errorf("login from another address error = %v, want ErrRateLimited", err)
	}
	// Other names from that address are not limited by this user's burst.
	if _, _, err := a.Login(ctx, "someone-else", "right password", "127.0.0.3:1001"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("other user from another address error = %v, want ErrInvalidCredentials", err)
	}

	c.now = c.now.Add(6 * time.Second)
	if _, _, err := a.Login(ctx, "analyst", "right password", "127.0.0.2:1002"); err != nil {
		t.Errorf("login after refill: %v", err)
	}
}

// A spray from many addresses, one attempt each, is throttled by the
// user name's bucket, with the same error for an existing user and an
// unknown name, whichever limit trips.
func TestLoginSprayAgainstOneUser(t *testing.T) {
	for _, user := range []string{"analyst", "ghost"} {
		t.Run(user, func(t *testing.T) {
			a, c, _ := newAuthenticator(t)
			ctx := context.Background()

			for i := range 10 {
				source := fmt.Sprintf("127.0.1.%d:4000", i+1)
				if _, _, err := a.Login(ctx, user, "wrong", source); !errors.Is(err, ErrInvalidCredentials) {
					t.Fatalf("attempt %d from %s error = %v, want ErrInvalidCredentials", i, source, err)
				}
			}
			for i := range 5 {
				source := fmt.Sprintf("127.0.2.%d:4000", i+1)
				if _, _, err := a.Login(ctx, user, "right password", source); !errors.Is(err, ErrRateLimited) {
					t.Errorf("fresh source %s error = %v, want ErrRateLimited", source, err)
				}
			}
			// Case variants of the name share its bucket.
			if _, _, err := a.Login(ctx, strings.ToUpper(user), "right password", "127.0.3.1:4000"); !errors.Is(err, ErrRateLimited) {
				t.Errorf("upper-case name error = %v, want ErrRateLimited", err)
			}

			// One attempt is earned back per interval.
			c.now = c.now.Add(6 * time.Second)
			_, _, err := a.Login(ctx, user, "right password", "127.0.3.2:4000")
			if want := map[string]error{"analyst": nil, "ghost": ErrInvalidCredentials}[user]; !errors.Is(err, want) {
				t.Errorf("after one interval error = %v, want %v", err, want)
			}
			if _, _, err := a.Login(ctx, user, "right password", "127.0.3.3:4000"); !errors.Is(err, ErrRateLimited) {
				t.Errorf("second attempt after one interval error = %v, want ErrRateLimited", err)
			}
		})
	}
}

// Invented user names cost one bounded-size key each and leave the table
// once their bucket is full again, so a spray of names cannot grow the
// limiter past its size.
func TestUnknownUserNamesStayBounded(t *testing.T) {
	a, c, _ := newAuthenticator(t)
	limiter := NewTokenBucket(TokenBucketConfig{MaxKeys: 64, Now: c.Now})
	a.limiter = limiter
	ctx := context.Background()

	for round := range 6 {
		for i := range 16 {
			name := fmt.Sprintf("%s-%d-%d", strings.Repeat("x", 1000), round, i)
			source := fmt.Sprintf("127.0.4.%d:4000", i+1)
			if _, _, err := a.Login(ctx, name, "wrong", source); !errors.Is(err, ErrInvalidCredentials) {
				t.Fatalf("round %d name %d error = %v, want ErrInvalidCredentials", round, i, err)
			}
		}
		c.now = c.now.Add(time.Minute)
	}

	limiter.mu.Lock()
	defer limiter.mu.Unlock()
	if n := len(limiter.buckets); n > 64 {
		t.Errorf("limiter holds %d keys, want at most its MaxKeys 64", n)
	}
	for key := range limiter.buckets {
		if len(key) > len(usernameKeyPrefix)+32 && strings.HasPrefix(key, usernameKeyPrefix) {
			t.Errorf("user-name key %q longer than its fixed size", key)
		}
	}
	if got := usernameKey("Analyst"); got != usernameKey("analyst") || len(got) != len(usernameKeyPrefix)+32 {
		t.Errorf("usernameKey(Analyst) = %q, want the key of analyst with a 32-digit hash", got)
	}
}

func TestTokenBucket(t *testing.T) {
	c := &clock{now: time.Unix(0, 0)}
	l := NewTokenBucket(TokenBucketConfig{Burst: 2, Interval: time.Second, MaxKeys: 2, Now: c.Now})

	steps := []struct {
		advance time.Duration
		key     string
		want    bool
	}{
		{0, "a", true},
		{0, "a", true},
		{0, "a", false},
		{0, "b", true},
		{0, "c", false}, // table full of active keys
		{500 * time.Millisecond, "a", false},
		{500 * time.Millisecond, "a", true},
		{10 * time.Second, "c", true}, // full buckets swept
	}
	for i, s := range steps {
		c.now = c.now.Add(s.advance)
		if got := l.Allow(s.key); got != s.want {
			t.Errorf("step %d: Allow(%q) = %v, want %v", i, s.key, got, s.want)
		}
	}
}

func TestSourceKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"127.0.0.2:5000", "127.0.0.2"},
		{"127.0.0.2", "127.0.0.2"},
		{"[::ffff:127.0.0.2]:5000", "127.0.0.2"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:22", "fe80::/64"},
		{"not an address", "not an address"},
	}
	for _, tc := range tests {
		if got := sourceKey(tc.in); got != tc.want {
			t.Errorf("sourceKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTokenFromHeader(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		want   Secret
	}{
		{"bearer", http.Header{"Authorization": {"Bearer abc"}}, "abc"},
		{"bearer lower case", http.Header{"Authorization": {"bearer abc"}}, "abc"},
		{"basic ignored", http.Header{"Authorization": {"Basic YTpi"}, "Cookie": {CookieName + "=zzz"}}, ""},
		{"cookie", http.Header{"Cookie": {"theme=dark; " + CookieName + "=xyz"}}, "xyz"},
		{"split cookies", http.Header{"Cookie": {"theme=dark", CookieName + "=xyz"}}, "xyz"},
		{"none", http.Header{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := TokenFromHeader(tc.header); got != tc.want {
				t.Errorf("TokenFromHeader = %q, want %q", got.Reveal(), tc.want.Reveal())
			}
		})
	}
}

func TestLoginRefusedWhenHashingBusy(t *testing.T) {
	a, _, _ := newAuthenticator(t)
	a.slotWait = 10 * time.Millisecond
	for range cap(a.hashSlots) {
		a.hashSlots <- struct{}{}
	}

	if _, _, err := a.Login(context.Background(), "analyst", "right password", "127.0.0.2:1000"); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("Login with every hashing slot taken: error = %v, want ErrRateLimited", err)
	}

	<-a.hashSlots
	if _, _, err := a.Login(context.Background(), "analyst", "right password", "127.0.0.3:1000"); err != nil {
		t.Fatalf("Login with a free slot: %v", err)
	}
}
