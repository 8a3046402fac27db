package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// ClientConfigFile is where `decnet login` keeps the server address, the
// CA file and the API token, below the user's configuration directory.
const ClientConfigFile = "decnet/cli.json"

// TokenEnv names the variable that carries an API token. Tokens never
// travel in flags, which other users can read in the process list.
const TokenEnv = "DECNET_TOKEN" //nolint:gosec // G101: a variable name, not a credential

// ErrNoServer is returned by Resolve when neither the flags, the
// environment nor the configuration file name a server.
var ErrNoServer = errors.New("no server: pass --server or run decnet login")

// ClientConfig is the saved connection of the CLI client.
type ClientConfig struct {
	Server string `json:"server"`
	// CAFile is the control plane's root certificate (PEM); empty trusts
	// the system roots.
	CAFile string `json:"ca_file,omitempty"`
	Token  string `json:"token,omitempty"`
}

// ClientFlags are the connection and output flags every client command
// takes.
type ClientFlags struct {
	Server     string
	CAFile     string
	ConfigFile string
	Output     string
}

// Register adds --server, --ca-file, --config and --output to fs.
func (f *ClientFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Server, "server", "", "control plane API URL, such as https://decnet.example:8443 (default from the config file)")
	fs.StringVar(&f.CAFile, "ca-file", "", "PEM root certificate of the control plane (default from the config file, else the system roots)")
	fs.StringVar(&f.ConfigFile, "config", "", "client configuration file (default $XDG_CONFIG_HOME/"+ClientConfigFile+")")
	fs.StringVar(&f.Output, "output", OutputTable, "output format: table, json, or csv for list commands")
}

// ConfigPath returns the configuration file the flags select.
func (f *ClientFlags) ConfigPath() (string, error) {
	if f.ConfigFile != "" {
		return f.ConfigFile, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the configuration directory: %w; pass --config", err)
	}
	return filepath.Join(dir, ClientConfigFile), nil
}

// Resolve merges the flags, the environment and the configuration file,
// in that order of precedence, and checks the result.
func (f *ClientFlags) Resolve(getenv func(string) string) (ClientConfig, error) {
	if err := CheckOutput(f.Output); err != nil {
		return ClientConfig{}, err
	}
	var cfg ClientConfig
	path, err := f.ConfigPath()
	if err != nil {
		return ClientConfig{}, err
	}
	if data, err := os.ReadFile(path); err == nil { //nolint:gosec // G304: the user names their own configuration file
		if err := json.Unmarshal(data, &cfg); err != nil {
			return ClientConfig{}, fmt.Errorf("read %s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return ClientConfig{}, fmt.Errorf("read %s: %w", path, err)
	}
	if f.Server != "" {
		cfg.Server = f.Server
	}
	if f.CAFile != "" {
		cfg.CAFile = f.CAFile
	}
	if token := getenv(TokenEnv); token != "" {
		cfg.Token = token
	}
	if cfg.Server == "" {
		return ClientConfig{}, ErrNoServer
	}
	u, err := url.Parse(cfg.Server)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ClientConfig{}, fmt.Errorf("invalid server %q: want https://host:port", cfg.Server)
	}
	cfg.Server = strings.TrimSuffix(cfg.Server, "/")
	return cfg, nil
}

// SaveClientConfig writes cfg with mode 0600, since it holds a token.
func SaveClientConfig(path string, cfg ClientConfig) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save client configuration: %w", err)
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("save client configuration: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("save client configuration: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save client configuration: %w", err)
	}
	return nil
}

// Client is what client commands need: an HTTP client that trusts the
// control plane, its base URL, and the options that add the token.
type Client struct {
	HTTP    *http.Client
	BaseURL string
	Options []connect.ClientOption
}

// NewClient builds the client of cfg. Requests carry the token, if any,
// as a bearer token.
func NewClient(cfg ClientConfig) (*Client, error) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("read CA file %s: no PEM certificate in it", cfg.CAFile)
		}
		tlsConfig.RootCAs = pool
	}
	transport.TLSClientConfig = tlsConfig
	return &Client{
		HTTP:    &http.Client{Transport: transport},
		BaseURL: cfg.Server,
		Options: []connect.ClientOption{connect.WithInterceptors(bearer(cfg.Token))},
	}, nil
}

// bearer adds the Authorization header to every call.
type bearer string

func (b bearer) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if b != "" {
			req.Header().Set("Authorization", "Bearer "+string(b))
		}
		return next(ctx, req)
	}
}

func (b bearer) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		if b != "" {
			conn.RequestHeader().Set("Authorization", "Bearer "+string(b))
		}
		return conn
	}
}

func (b bearer) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// ExplainError turns API errors into messages that say what to do.
func ExplainError(err error) error {
	switch connect.CodeOf(err) {
	case connect.CodeUnauthenticated:
		return fmt.Errorf("%w: log in again with decnet login, or set %s to a valid API token", err, TokenEnv)
	case connect.CodePermissionDenied:
		if strings.Contains(err.Error(), "scopes") {
			return fmt.Errorf("%w: use an API token whose scopes include this call (decnet api-tokens create --scope)", err)
		}
		return fmt.Errorf("%w: ask an admin for a role that allows this", err)
	case connect.CodeUnavailable:
		return fmt.Errorf("%w: is the server address right and the server running?", err)
	}
	return err
}

// WriteJSON prints one message as a JSON line with the proto field names.
func WriteJSON(w io.Writer, m proto.Message) error {
	data, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}

// FormatTime prints a time in RFC 3339 UTC, "-" for the zero time.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// Progress reports the progress of a long operation on w, one line at a
// time, at most once per interval, and a final line on Done.
type Progress struct {
	W        io.Writer
	What     string
	Interval time.Duration
	last     time.Time
	n        int
}

// Add counts n more items.
func (p *Progress) Add(n int) {
	p.n += n
	if p.W == nil {
		return
	}
	interval := p.Interval
	if interval == 0 {
		interval = time.Second
	}
	if now := time.Now(); now.Sub(p.last) >= interval {
		p.last = now
		_, _ = fmt.Fprintf(p.W, "%s: %d so far\n", p.What, p.n) // progress is best effort
	}
}

// Done prints the total.
func (p *Progress) Done() {
	if p.W != nil {
		_, _ = fmt.Fprintf(p.W, "%s: %d in all\n", p.What, p.n) // progress is best effort
	}
}

// CheckOutput returns an error unless format is one of the --output
// formats.
func CheckOutput(format string) error {
	switch format {
	case OutputTable, OutputJSON, OutputCSV:
		return nil
	}
	return fmt.Errorf("invalid --output %q: want table, json or csv", format)
}
