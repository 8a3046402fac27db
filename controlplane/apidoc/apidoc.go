// Package apidoc serves the reference of the control plane's API, built from
// the protos. It lists every procedure with its path, the role it needs and
// whether it has side effects, the request and response fields with the
// secret ones marked, and the enums.
//
// The generated Go descriptors carry no source comments. So go generate
// builds reference.json from proto/ with buf, and the control plane embeds
// the committed file and needs no buf at run time. The tests fail when
// reference.json no longer matches the compiled descriptors and, where buf
// is installed, when it no longer matches the comments.
package apidoc

//go:generate go run ./gen -root ../.. -o reference.json

import (
	"bytes"
	"crypto/sha256"
	_ "embed" // for the go:embed directives
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// The paths the reference is served at.
const (
	HTMLPath = "/api/reference"
	JSONPath = "/api/reference.json"
	// CSSPath is a file of its own because the dashboard's
	// Content-Security-Policy rejects inline styles.
	CSSPath = "/api/reference.css"
)

// contentSecurityPolicy allows the page its stylesheet and nothing else:
// it has no script, image, font or form.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; base-uri 'none'; " +
	"form-action 'none'; frame-ancestors 'none'"

//go:embed reference.json
var referenceJSON []byte

//go:embed reference.css
var referenceCSS []byte

// Encode returns ref in the form of reference.json: indented, with a final
// newline, so that the committed file diffs well.
func Encode(ref *Reference) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Comments often quote <, > and &. Escaping is not needed because the
	// document is served as JSON with nosniff and never inlined into HTML.
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ref); err != nil {
		return nil, fmt.Errorf("encode api reference: %w", err)
	}
	return buf.Bytes(), nil
}

// decode parses a document Encode wrote. Unknown keys are an error, so a
// reference.json from another version of the model fails the tests
// instead of losing data.
func decode(doc []byte) (*Reference, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	var ref Reference
	if err := dec.Decode(&ref); err != nil {
		return nil, fmt.Errorf("decode api reference: %w", err)
	}
	return &ref, nil
}

// Handler returns the handler of HTMLPath, JSONPath and CSSPath. It serves
// GET and HEAD, responds 405 to other methods and 404 to other paths, and
// needs no session, because the reference contains nothing beyond the
// public protos. Wrap it with the authenticator's middleware to require one.
func Handler() http.Handler {
	h, err := newHandler(referenceJSON, referenceCSS)
	if err != nil {
		// reference.json is compiled in and the tests render it, so this
		// is a build from an edited or truncated file.
		panic(fmt.Errorf("load embedded api reference: %w", err))
	}
	return h
}

// Mount registers one Handler on each of its paths with handle, such as
// (*http.ServeMux).Handle or the API's Handle.
func Mount(handle func(pattern string, h http.Handler)) {
	h := Handler()
	for _, path := range []string{HTMLPath, JSONPath, CSSPath} {
		handle(path, h)
	}
}

type handler struct {
	files map[string]file
}

type file struct {
	content     []byte
	contentType string
	etag        string
}

func newHandler(doc, css []byte) (*handler, error) {
	ref, err := decode(doc)
	if err != nil {
		return nil, err
	}
	page, err := render(ref)
	if err != nil {
		return nil, err
	}
	return &handler{files: map[string]file{
		HTMLPath: newFile(page, "text/html; charset=utf-8"),
		JSONPath: newFile(doc, "application/json"),
		CSSPath:  newFile(css, "text/css; charset=utf-8"),
	}}, nil
}

func newFile(content []byte, contentType string) file {
	sum := sha256.Sum256(content)
	return file{
		content:     content,
		contentType: contentType,
		etag:        `"` + hex.EncodeToString(sum[:16]) + `"`,
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	header := w.Header()
	header.Set("X-Content-Type-Options", "nosniff")
	header.Set("Content-Security-Policy", contentSecurityPolicy)
	header.Set("Referrer-Policy", "no-referrer")

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		header.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f, ok := h.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}

	header.Set("Content-Type", f.contentType)
	// Revalidated on every use: a new release changes the reference at
	// the same URL.
	header.Set("Cache-Control", "no-cache")
	header.Set("ETag", f.etag)
	// ServeContent handles HEAD, Range and If-None-Match. The zero time
	// leaves out Last-Modified, which an embedded file does not have.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.content))
}
