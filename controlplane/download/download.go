// Package download serves what a sensor needs to install the agent: the
// decnet-agent binary for its platform, a SHA-256 checksum of it, the
// install script and the systemd unit. It is mounted on the enrollment
// listener, whose TLS certificate chains to the CA root that bootstrap
// tokens pin, so a sensor fetches everything over a connection it has
// verified against that root.
//
// Routes:
//
//	GET /download/decnet-agent/{os}-{arch}         the binary
//	GET /download/decnet-agent/{os}-{arch}.sha256  "<hex>  decnet-agent\n"
//	GET /download/install-agent.sh                 deploy/install-agent.sh
//	GET /download/decnet-agent.service             the systemd unit
//
// Binary responses also carry the checksum in the X-Checksum-Sha256
// header. Nothing here needs authentication: the binary, the script and
// the unit are the same for every sensor and contain no secret.
package download

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/deploy"
)

// Prefix is the path under which the handler serves.
const Prefix = "/download/"

// Paths of the fixed files, for clients and tests.
const (
	ScriptPath = Prefix + "install-agent.sh"
	UnitPath   = Prefix + "decnet-agent.service"
	// BinaryPathPrefix is followed by "{os}-{arch}", such as
	// "linux-amd64", and optionally by ChecksumSuffix.
	BinaryPathPrefix = Prefix + "decnet-agent/"
	ChecksumSuffix   = ".sha256"
)

// ChecksumHeader carries the hex SHA-256 of a served file.
const ChecksumHeader = "X-Checksum-Sha256"

// binaryName is the agent executable's name. A directory may hold one
// binary per platform as binaryName-{os}-{arch}; a plain binaryName is the
// binary for the platform the control plane runs on.
const binaryName = "decnet-agent"

// platformPattern accepts Go's GOOS-GOARCH pairs and nothing that could
// leave the directory.
var platformPattern = regexp.MustCompile(`^[a-z0-9]{1,16}-[a-z0-9]{1,16}$`)

// Log field keys.
const (
	fieldPlatform = "platform"
	fieldPath     = "path"
)

// Config configures a Server.
type Config struct {
	// Dir contains the agent binaries. Empty means the directory of the
	// running executable, where release archives and `make build` put
	// decnet-agent next to decnet.
	Dir string
	// Platform is the os-arch pair a plain decnet-agent in Dir is built
	// for. Empty means the running platform (runtime.GOOS-runtime.GOARCH).
	Platform string
	Logger   zerolog.Logger
}

// Server serves the downloads. It is safe for concurrent use.
type Server struct {
	dir      string
	platform string
	log      zerolog.Logger
	script   fileWithSum
	unit     fileWithSum

	mu   sync.Mutex
	sums map[string]cachedSum
}

// fileWithSum is an embedded file with its checksum.
type fileWithSum struct {
	content string
	sum     string
}

// cachedSum is a binary's checksum, valid while the file keeps its size and
// modification time.
type cachedSum struct {
	size    int64
	modTime time.Time
	sum     string
}

// New returns a Server. It does not require the binaries to exist: a
// missing one is a 404 at request time, so the control plane runs without
// them.
func New(cfg Config) (*Server, error) {
	dir := cfg.Dir
	if dir == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find agent download directory: %w", err)
		}
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
		dir = filepath.Dir(exe)
	}
	platform := cfg.Platform
	if platform == "" {
		platform = runtime.GOOS + "-" + runtime.GOARCH
	}
	if !platformPattern.MatchString(platform) {
		return nil, fmt.Errorf("invalid platform %q: want os-arch such as linux-amd64", platform)
	}

	return &Server{
		dir:      dir,
		platform: platform,
		log:      cfg.Logger.With().Str("component", "download").Logger(),
		script:   newFileWithSum(deploy.InstallScript()),
		unit:     newFileWithSum(deploy.AgentUnit()),
		sums:     make(map[string]cachedSum),
	}, nil
}

func newFileWithSum(content string) fileWithSum {
	sum := sha256.Sum256([]byte(content))
	return fileWithSum{content: content, sum: hex.EncodeToString(sum[:])}
}

// Handler returns the route pattern and handler to mount on the agent
// listener's mux.
func (s *Server) Handler() (string, http.Handler) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ScriptPath, func(w http.ResponseWriter, r *http.Request) {
		s.serveEmbedded(w, r, s.script, "text/x-shellscript; charset=utf-8")
	})
	mux.HandleFunc("GET "+UnitPath, func(w http.ResponseWriter, r *http.Request) {
		s.serveEmbedded(w, r, s.unit, "text/plain; charset=utf-8")
	})
	mux.HandleFunc("GET "+BinaryPathPrefix+"{file}", s.serveBinary)
	mux.HandleFunc(Prefix, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "not found: downloads are "+ScriptPath+", "+UnitPath+" and "+BinaryPathPrefix+"{os}-{arch}[.sha256]", http.StatusNotFound)
	})
	return Prefix, mux
}

func (s *Server) serveEmbedded(w http.ResponseWriter, r *http.Request, f fileWithSum, contentType string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set(ChecksumHeader, f.sum)
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(w, r, "", time.Time{}, strings.NewReader(f.content))
}

func (s *Server) serveBinary(w http.ResponseWriter, r *http.Request) {
	platform, wantSum := strings.CutSuffix(r.PathValue("file"), ChecksumSuffix)
	if !platformPattern.MatchString(platform) {
		http.Error(w, fmt.Sprintf("invalid platform %q: want os-arch such as linux-amd64", platform), http.StatusNotFound)
		return
	}

	f, info, err := s.openBinary(platform)
	if errors.Is(err, fs.ErrNotExist) {
		s.log.Warn().Str(fieldPlatform, platform).Str(fieldPath, s.dir).Msg("agent binary requested but not present")
		http.Error(w, fmt.Sprintf("no decnet-agent binary for %s on this control plane: place it as %s-%s in the control plane's agent download directory",
			platform, binaryName, platform), http.StatusNotFound)
		return
	}
	if err != nil {
		s.log.Error().Err(err).Str(fieldPlatform, platform).Msg("open agent binary failed")
		http.Error(w, "reading the agent binary failed on the server; see the server log", http.StatusInternalServerError)
		return
	}
	defer func() { _ = f.Close() }() // read-only

	sum, err := s.checksum(f, info)
	if err != nil {
		s.log.Error().Err(err).Str(fieldPlatform, platform).Msg("hash agent binary failed")
		http.Error(w, "reading the agent binary failed on the server; see the server log", http.StatusInternalServerError)
		return
	}
	w.Header().Set(ChecksumHeader, sum)
	w.Header().Set("Cache-Control", "no-store")

	if wantSum {
		// The sha256sum format, so `sha256sum -c` can check a file saved
		// as decnet-agent.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, sum+"  "+binaryName+"\n")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+binaryName+`"`)
	// ServeContent sets Content-Length and serves Range requests, so an
	// interrupted download can resume.
	http.ServeContent(w, r, "", info.ModTime(), f)
}

// openBinary opens decnet-agent-{platform} in the directory, or a plain
// decnet-agent when platform is the one it is built for.
func (s *Server) openBinary(platform string) (*os.File, fs.FileInfo, error) {
	candidates := []string{binaryName + "-" + platform}
	if platform == s.platform {
		candidates = append(candidates, binaryName)
	}
	for _, name := range candidates {
		f, err := os.Open(filepath.Join(s.dir, name)) //nolint:gosec // G304: platform matched platformPattern, so name has no separator or dot
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("open agent binary: %w", err)
		}
		info, err := f.Stat()
		if err != nil {
			_ = f.Close()
			return nil, nil, fmt.Errorf("stat agent binary: %w", err)
		}
		if !info.Mode().IsRegular() {
			_ = f.Close()
			return nil, nil, fmt.Errorf("agent binary %s is not a regular file", f.Name())
		}
		return f, info, nil
	}
	return nil, nil, fs.ErrNotExist
}

// checksum returns the hex SHA-256 of f, from the cache while the file
// keeps its size and modification time. It hashes the open file itself,
// so the sum matches the bytes served from it even when the path is
// replaced in between, and leaves the offset at the start.
func (s *Server) checksum(f *os.File, info fs.FileInfo) (string, error) {
	s.mu.Lock()
	cached, ok := s.sums[f.Name()]
	s.mu.Unlock()
	if ok && cached.size == info.Size() && cached.modTime.Equal(info.ModTime()) {
		return cached.sum, nil
	}

	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", f.Name(), err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("rewind %s: %w", f.Name(), err)
	}
	sum := hex.EncodeToString(h.Sum(nil))

	s.mu.Lock()
	s.sums[f.Name()] = cachedSum{size: info.Size(), modTime: info.ModTime(), sum: sum}
	s.mu.Unlock()
	return sum, nil
}
