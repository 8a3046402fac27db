// Package ui serves the dashboard, a single-page application built by Vite
// from this directory.
//
// Binaries built with the uidist tag embed ui/dist, which `npm run build`
// writes. Without the tag the package embeds ui/placeholder, a page stating
// that the dashboard was not built, so the Go build and tests need no
// Node.js.
package ui

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

const (
	indexFile = "index.html"

	// Vite writes every bundled file under assets/ with a content hash in
	// its name, so a name never changes content and can be cached for good.
	assetsDir       = "assets"
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// contentSecurityPolicy allows only same-origin scripts, styles and API
// calls: the built dashboard has no inline script or style and loads nothing
// from other origins. Images may also be data: URLs. 'wasm-unsafe-eval'
// lets the session player compile its WebAssembly terminal emulator; it
// does not allow eval of JavaScript.
const contentSecurityPolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
	"img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// mediaTypes fixes the Content-Type of the files a Vite build produces.
// mime.TypeByExtension also reads the host's mime.types files, which differ
// between distributions (some map .js to application/javascript), so it is
// used only for extensions missing here.
var mediaTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".webp":        "image/webp",
	".ico":         "image/x-icon",
	".woff2":       "font/woff2",
	".woff":        "font/woff",
	".txt":         "text/plain; charset=utf-8",
	".wasm":        "application/wasm",
}

// file is one embedded file with the headers computed once at startup.
type file struct {
	content      []byte
	contentType  string
	cacheControl string
	etag         string
}

type handler struct {
	files map[string]*file
}

// Handler returns an http.Handler that serves the embedded dashboard. Mount
// it at "/" of the origin that also serves the Connect API, because the
// build refers to its files by absolute paths (/assets/...) and the page
// calls the API on its own origin.
//
// It serves GET and HEAD and rejects other methods with 405. For a request
// path:
//   - a file that exists is served with its Content-Type. Files under
//     /assets/ are cached for a year, and everything else is revalidated
//     (Cache-Control: no-cache) against a content ETag;
//   - a missing path under /assets/ or with a static file extension is 404;
//   - any other path returns index.html, so client-side routes survive a
//     reload.
//
// Every response carries a Content-Security-Policy that limits the page to
// its own origin, X-Content-Type-Options: nosniff and no referrer.
func Handler() http.Handler {
	h, err := newHandler(assets, assetsRoot)
	if err != nil {
		// The files are compiled into the binary and cannot fail to read,
		// so this means the embedded tree has no index.html: a dist
		// directory left over from a failed or partial build.
		panic(fmt.Errorf("load embedded dashboard: %w", err))
	}
	return h
}

// newHandler loads every file under root in fsys.
func newHandler(fsys fs.FS, root string) (*handler, error) {
	h := &handler{files: make(map[string]*file)}

	err := fs.WalkDir(fsys, root, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}

		content, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(name, root), "/")
		h.files[rel] = newFile(rel, content)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", root, err)
	}

	if _, ok := h.files[indexFile]; !ok {
		return nil, fmt.Errorf("find %s in %s: %w", indexFile, root, fs.ErrNotExist)
	}
	return h, nil
}

func newFile(name string, content []byte) *file {
	f := &file{
		content:      content,
		contentType:  mediaType(name),
		cacheControl: cacheRevalidate,
	}

	if isUnderAssets(name) {
		f.cacheControl = cacheImmutable
		return f
	}

	// A strong validator, so a browser revalidating index.html gets a 304
	// until a new build changes it.
	sum := sha256.Sum256(content)
	f.etag = `"` + hex.EncodeToString(sum[:16]) + `"`
	return f
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	header := w.Header()
	header.Set("X-Content-Type-Options", "nosniff")
	header.Set("Content-Security-Policy", contentSecurityPolicy)
	header.Set("Referrer-Policy", "no-referrer")
	header.Set("X-Frame-Options", "DENY")

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		header.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = indexFile
	}

	f, ok := h.files[name]
	if !ok {
		if isUnderAssets(name) || isStaticFileName(name) {
			http.NotFound(w, r)
			return
		}
		name = indexFile
		f = h.files[indexFile]
	}

	header.Set("Content-Type", f.contentType)
	header.Set("Cache-Control", f.cacheControl)
	if f.etag != "" {
		header.Set("ETag", f.etag)
	}

	// ServeContent handles HEAD, Range and If-None-Match. The zero time
	// leaves out Last-Modified, which embedded files do not have.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.content))
}

func isUnderAssets(name string) bool {
	return name == assetsDir || strings.HasPrefix(name, assetsDir+"/")
}

// isStaticFileName reports whether name ends in the extension of a file
// type the build produces. Such a request is for a file, not a client-side
// route, so a miss must be a 404 and not index.html served as a script.
// Route segments with dots, such as an IP address, do not match.
func isStaticFileName(name string) bool {
	_, ok := mediaTypes[path.Ext(name)]
	return ok
}

func mediaType(name string) string {
	ext := path.Ext(name)
	if t, ok := mediaTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}
