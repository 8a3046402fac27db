package netguard

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

// loopbackServer serves /ok, and /hop/N which redirects N more times before
// landing on /ok, and /away which redirects to target.
func loopbackServer(t *testing.T, target string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "fine") })
	mux.HandleFunc("/hop/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		next := "/ok"
		if n > 1 {
			next = "/hop/" + strconv.Itoa(n-1)
		}
		http.Redirect(w, r, next, http.StatusFound)
	})
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, target, http.StatusFound) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func onlyFirstLoopback() *Guard {
	return &Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body), nil
}

func TestHTTPClientFollowsRedirectsUpToLimit(t *testing.T) {
	srv := loopbackServer(t, "")
	c := onlyFirstLoopback().HTTPClient(5*time.Second, 2)

	resp, body, err := get(t, c, srv.URL+"/hop/2")
	if err != nil || resp.StatusCode != http.StatusOK || body != "fine" {
		t.Fatalf("two hops: %v %v %q", resp, err, body)
	}
	resp, _, err = get(t, c, srv.URL+"/hop/3")
	if err != nil || resp.StatusCode != http.StatusFound || resp.Request.URL.Path != "/hop/1" {
		t.Fatalf("three hops: %v, want the third redirect returned as is", err)
	}

	none := onlyFirstLoopback().HTTPClient(5*time.Second, 0)
	resp, _, err = get(t, none, srv.URL+"/hop/1")
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("no redirects: %v %v", resp, err)
	}
}

func TestHTTPClientRefusesRedirectToRefusedAddress(t *testing.T) {
	for _, target := range []string{
		"http://127.0.0.2:1/",
		"http://[::1]:1/",
		"http://2130706434:1/",
		"http://169.254.169.254/latest/meta-data/",
		"file:///etc/passwd",
	} {
		srv := loopbackServer(t, target)
		c := onlyFirstLoopback().HTTPClient(5*time.Second, 5)
		_, _, err := get(t, c, srv.URL+"/away")
		if err == nil {
			t.Errorf("redirect to %s followed", target)
			continue
		}
		if target != "file:///etc/passwd" && !errors.Is(err, ErrRefused) {
			t.Errorf("redirect to %s: %v, want a refusal", target, err)
		}
	}
}

func TestHTTPClientRefusesAtDialTime(t *testing.T) {
	// Hosts that pass CheckURL's literal test but that the transport maps
	// to a refused address: IDNA turns full-width digits and the
	// ideographic full stop into ASCII before the dial.
	c := onlyFirstLoopback().HTTPClient(5*time.Second, 0)
	for _, raw := range []string{
		"http://\uff11\uff12\uff17.\uff10.\uff10.\uff12:1/",
		"http://127\u30020\u30020\u30022:1/",
		"http://\uff10x7f.2:1/",
	} {

		_, _, err := get(t, c, raw)
		if !errors.Is(err, ErrRefused) {
			t.Errorf("GET %s = %v, want a refusal", raw, err)
		}
		t.Log(err)
	}
}

func TestHTTPClientUsesNoProxy(t *testing.T) {
	c := (&Guard{}).HTTPClient(time.Second, 0)
	tr, ok := c.Transport.(*http.Transport)
	if !ok || tr.Proxy != nil || tr.TLSClientConfig.InsecureSkipVerify || !tr.DisableCompression {
		t.Fatalf("transport = %+v", c.Transport)
	}
}
