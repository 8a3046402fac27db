package export

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/decnet/decnet/controlplane/auth"
)

// FileConfig is the export configuration file (decnet server
// --export-config). Secrets are never in it: token_file, api_key_file and
// password_file name files that hold them.
//
//	allow_cidrs: ["10.20.0.0/16"]   # private networks the outputs may reach
//	outputs:
//	  - name: siem
//	    topics: ["event.auth.attempt", "credential.>"]
//	    syslog: {address: "10.20.0.5:6514", tls: true, ca_file: /etc/decnet/siem-ca.pem, format: cef}
//	  - name: splunk
//	    splunk: {url: "https://splunk.example:8088", token_file: /etc/decnet/hec-token, index: honeypot}
//	  - name: elastic
//	    elastic: {url: "https://es.example:9200", index: decnet, api_key_file: /etc/decnet/es-key}
//	  - name: archive
//	    lines: {path: /var/log/decnet/events.ndjson, max_bytes: 104857600, max_files: 10}
//	    apply_suppression: true   # drop what the global webhook suppression rules drop
type FileConfig struct {
	AllowCIDRs []string     `yaml:"allow_cidrs"`
	Outputs    []FileOutput `yaml:"outputs"`
}

// FileOutput is one output of the file.
type FileOutput struct {
	Name   string   `yaml:"name"`
	Topics []string `yaml:"topics"`
	// ApplySuppression drops what the suppression rules covering every
	// webhook drop; off, the output receives everything.
	ApplySuppression bool         `yaml:"apply_suppression"`
	Syslog           *FileSyslog  `yaml:"syslog"`
	Lines            *FileLines   `yaml:"lines"`
	Splunk           *FileSplunk  `yaml:"splunk"`
	Elastic          *FileElastic `yaml:"elastic"`
}

// FileTLS selects TLS and the roots that verify the receiver.
type FileTLS struct {
	TLS        bool   `yaml:"tls"`
	CAFile     string `yaml:"ca_file"`
	ServerName string `yaml:"server_name"`
}

// FileSyslog is an RFC 5424 syslog output.
type FileSyslog struct {
	FileTLS  `yaml:",inline"`
	Address  string `yaml:"address"`
	Format   string `yaml:"format"`
	Hostname string `yaml:"hostname"`
	AppName  string `yaml:"app_name"`
	Facility int    `yaml:"facility"`
}

// FileLines is a newline-delimited JSON or CEF output to a file or a TCP
// receiver.
type FileLines struct {
	FileTLS  `yaml:",inline"`
	Path     string `yaml:"path"`
	MaxBytes int64  `yaml:"max_bytes"`
	MaxFiles int    `yaml:"max_files"`
	Address  string `yaml:"address"`
	Format   string `yaml:"format"`
}

// FileSplunk is a Splunk HTTP Event Collector output.
type FileSplunk struct {
	FileTLS    `yaml:",inline"`
	URL        string `yaml:"url"`
	TokenFile  string `yaml:"token_file"`
	Index      string `yaml:"index"`
	Source     string `yaml:"source"`
	Sourcetype string `yaml:"sourcetype"`
	Host       string `yaml:"host"`
}

// FileElastic is an Elasticsearch bulk output.
type FileElastic struct {
	FileTLS      `yaml:",inline"`
	URL          string `yaml:"url"`
	Index        string `yaml:"index"`
	APIKeyFile   string `yaml:"api_key_file"`
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
}

// LoadFile reads and checks an export configuration file and returns the
// outputs and the private prefixes they may reach.
func LoadFile(path string) ([]OutputConfig, []netip.Prefix, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the operator names this file, never the network
	if err != nil {
		return nil, nil, fmt.Errorf("read export configuration: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var fc FileConfig
	if err := dec.Decode(&fc); err != nil {
		return nil, nil, fmt.Errorf("export configuration %s: %w", path, err)
	}
	var allow []netip.Prefix
	for _, c := range fc.AllowCIDRs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, nil, fmt.Errorf("export configuration %s: allow_cidrs: %w", path, err)
		}
		allow = append(allow, p.Masked())
	}
	outputs := make([]OutputConfig, 0, len(fc.Outputs))
	for i, o := range fc.Outputs {
		oc, err := o.config()
		if err != nil {
			return nil, nil, fmt.Errorf("export configuration %s: output %d (%s): %w", path, i, o.Name, err)
		}
		outputs = append(outputs, oc)
	}
	return outputs, allow, nil
}

func (o FileOutput) config() (OutputConfig, error) {
	oc := OutputConfig{Name: o.Name, Topics: o.Topics, ApplySuppression: o.ApplySuppression}
	set := 0
	if o.Syslog != nil {
		set++
		t, err := o.Syslog.tlsConfig()
		if err != nil {
			return oc, err
		}
		oc.Syslog = &SyslogConfig{Address: o.Syslog.Address, TLS: t, Format: Format(o.Syslog.Format),
			Hostname: o.Syslog.Hostname, AppName: o.Syslog.AppName, Facility: o.Syslog.Facility}
	}
	if o.Lines != nil {
		set++
		t, err := o.Lines.tlsConfig()
		if err != nil {
			return oc, err
		}
		oc.Lines = &LinesConfig{Path: o.Lines.Path, MaxBytes: o.Lines.MaxBytes, MaxFiles: o.Lines.MaxFiles,
			Address: o.Lines.Address, TLS: t, Format: Format(o.Lines.Format)}
	}
	if o.Splunk != nil {
		set++
		t, err := o.Splunk.tlsConfig()
		if err != nil {
			return oc, err
		}
		token, err := readSecretFile(o.Splunk.TokenFile, "token_file")
		if err != nil {
			return oc, err
		}
		oc.Splunk = &SplunkConfig{URL: o.Splunk.URL, Token: token, Index: o.Splunk.Index, Source: o.Splunk.Source,
			Sourcetype: o.Splunk.Sourcetype, Host: o.Splunk.Host, TLS: t}
	}
	if o.Elastic != nil {
		set++
		t, err := o.Elastic.tlsConfig()
		if err != nil {
			return oc, err
		}
		ec := &ElasticConfig{URL: o.Elastic.URL, Index: o.Elastic.Index, Username: o.Elastic.Username, TLS: t}
		if o.Elastic.APIKeyFile != "" {
			if ec.APIKey, err = readSecretFile(o.Elastic.APIKeyFile, "api_key_file"); err != nil {
				return oc, err
			}
		}
		if o.Elastic.PasswordFile != "" {
			if ec.Password, err = readSecretFile(o.Elastic.PasswordFile, "password_file"); err != nil {
				return oc, err
			}
		}
		oc.Elastic = ec
	}
	if set != 1 {
		return oc, errors.New("set exactly one of syslog, lines, splunk and elastic")
	}
	return oc, nil
}

// tlsConfig returns nil without tls, else a configuration verifying the
// receiver against ca_file or the system roots.
func (f FileTLS) tlsConfig() (*tls.Config, error) {
	if !f.TLS && f.CAFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.ServerName}
	if f.CAFile != "" {
		pem, err := os.ReadFile(f.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate", f.CAFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// readSecretFile reads a secret from a file; its content never appears in
// an error.
func readSecretFile(path, key string) (auth.Secret, error) {
	if path == "" {
		return "", fmt.Errorf("%s is required", key)
	}
	data, err := os.ReadFile(path) //nolint:gosec // G304: a path from the operator's configuration file
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	secret := strings.TrimSpace(string(data))
	if secret == "" {
		return "", fmt.Errorf("%s %s is empty", key, path)
	}
	return auth.Secret(secret), nil
}
