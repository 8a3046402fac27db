//go:build integration

package apidoc

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"golang.org/x/net/html"

	"github.com/decnet/decnet/controlplane/api"
	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/fanout"
	"github.com/decnet/decnet/controlplane/store/sqlite"
)

// TestCurlExamples runs the shell examples exactly as the page shows them,
// against the real API on a loopback port, so that the page cannot teach a
// call that fails. Only the address, the TLS root and the user name are
// replaced, because the test server uses plain HTTP and its first user is
// admin.
func TestCurlExamples(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}

	srv, password := newAPIServer(t)
	// Mounted on the API's mux beside the Connect services, as the
	// control plane mounts it.
	resp, err := srv.Client().Get(srv.URL + HTMLPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s on the API mux = %d, want 200", HTMLPath, resp.StatusCode)
	}

	examples := pageExamples(t)
	if len(examples) != 2 {
		t.Fatalf("page has %d shell examples, want login and call", len(examples))
	}
	adapt := strings.NewReplacer("--cacert ca.crt ", "", "https://decnet.example:8443", srv.URL,
		`"username": "alice"`, `"username": "admin"`)
	dir := t.TempDir()

	// The login example reads the password from standard input.
	out := runShell(t, dir, adapt.Replace(examples[0]), password+"\n", nil)
	var login struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(out, &login); err != nil || login.Token == "" {
		t.Fatalf("login example printed %q, want a JSON response with a token (%v)", out, err)
	}

	// The call example runs one POST and one GET, each printing a
	// ListEventsResponse. The store is empty, so each is an empty object.
	out = runShell(t, dir, adapt.Replace(examples[1]), "", []string{"DECNET_TOKEN=" + login.Token})
	dec := json.NewDecoder(bytes.NewReader(out))
	for i := range 2 {
		var resp map[string]any
		if err := dec.Decode(&resp); err != nil {
			t.Fatalf("call example response %d: %v in %q", i+1, err, out)
		}
		if len(resp) != 0 {
			t.Errorf("call example response %d = %v, want {}", i+1, resp)
		}
	}
}

// newAPIServer serves the API with a fresh store on a loopback port and
// returns it with the first admin's password.
func newAPIServer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })

	password, _, err := auth.EnsureAdmin(ctx, st, t.TempDir())
	if err != nil {
		t.Fatalf("EnsureAdmin: %v", err)
	}
	a, err := api.New(api.Config{Store: st, Hub: fanout.New(), Logger: zerolog.Nop()})
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	Mount(a.Handle)

	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return srv, password
}

// pageExamples returns the text of the page's <pre> blocks.
func pageExamples(t *testing.T) []string {
	t.Helper()
	ref, err := decode(referenceJSON)
	if err != nil {
		t.Fatal(err)
	}
	page, err := render(ref)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}

	var examples []string
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "pre" {
			continue
		}
		var text strings.Builder
		for c := range n.Descendants() {
			if c.Type == html.TextNode {
				text.WriteString(c.Data)
			}
		}
		examples = append(examples, text.String())
	}
	return examples
}

func runShell(t *testing.T, dir, script, stdin string, env []string) []byte {
	t.Helper()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("run example: %v\nscript:\n%s\nstderr: %s", err, script, stderr.Bytes())
	}
	return out
}
