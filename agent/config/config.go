// Package config reads the agent's decoy configuration: the deckies it runs
// and the services of each. Pushed topology state will replace this file;
// until then it is the agent's only source of deckies.
package config

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"

	"go.yaml.in/yaml/v3"
)

// Decoys is the whole decoy configuration file.
type Decoys struct {
	Deckies []Decky `yaml:"deckies"`
}

// Decky is one fake host.
type Decky struct {
	// Name identifies the decky in events; unique within the file.
	Name string `yaml:"name"`
	// Seed derives the decky's per-host values (host keys, hostnames,
	// challenges). Hexadecimal, at least 16 bytes. Keep it stable: a new
	// seed gives the decky new host keys.
	Seed     string    `yaml:"seed"`
	Services []Service `yaml:"services"`
}

// Service is one protocol on a decky.
type Service struct {
	// Name selects the decoy implementation, such as "ssh" or "http".
	Name string `yaml:"name"`
	// Persona is the real product imitated, such as
	// "openssh-9.2p1-debian12"; empty selects the service's default.
	Persona string `yaml:"persona"`
	// Listen is host:port; port 0 picks a free port.
	Listen string `yaml:"listen"`
	// Options are settings of the service itself, documented by each
	// service (for example advertised_address for FTP behind NAT).
	Options map[string]string `yaml:"options,omitempty"`
}

// minSeedBytes is the shortest seed accepted: 128 bits, so that two
// deckies' seeds never collide by chance.
const minSeedBytes = 16

var namePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// Load reads and validates a decoy configuration file.
func Load(path string) (*Decoys, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read decoy config: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("decoy config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes and validates a decoy configuration. Unknown keys are
// errors.
func Parse(data []byte) (*Decoys, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)

	var cfg Decoys
	if err := dec.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty file: at least one decky is required")
		}
		return nil, fmt.Errorf("parse yaml: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// Validate checks names, seeds and listen addresses.
func (c *Decoys) Validate() error {
	if len(c.Deckies) == 0 {
		return errors.New("no deckies: at least one is required")
	}

	deckyNames := make(map[string]bool)
	listens := make(map[string]string)
	for i, d := range c.Deckies {
		if !namePattern.MatchString(d.Name) {
			return fmt.Errorf("decky %d: invalid name %q: use lowercase letters, digits and hyphens", i, d.Name)
		}
		if deckyNames[d.Name] {
			return fmt.Errorf("decky %q: duplicate name", d.Name)
		}
		deckyNames[d.Name] = true

		if _, err := d.SeedBytes(); err != nil {
			return fmt.Errorf("decky %q: %w", d.Name, err)
		}
		if len(d.Services) == 0 {
			return fmt.Errorf("decky %q: no services", d.Name)
		}

		for _, s := range d.Services {
			if s.Name == "" {
				return fmt.Errorf("decky %q: service without a name", d.Name)
			}
			ap, err := netip.ParseAddrPort(s.Listen)
			if err != nil {
				return fmt.Errorf("decky %q service %q: invalid listen address %q: want ip:port", d.Name, s.Name, s.Listen)
			}
			if ap.Port() == 0 {
				continue
			}
			if other, ok := listens[s.Listen]; ok {
				return fmt.Errorf("decky %q service %q: listen address %s already used by %s", d.Name, s.Name, s.Listen, other)
			}
			listens[s.Listen] = d.Name + "/" + s.Name
		}
	}
	return nil
}

// SeedBytes decodes the decky's seed.
func (d Decky) SeedBytes() ([]byte, error) {
	seed, err := hex.DecodeString(d.Seed)
	if err != nil {
		return nil, fmt.Errorf("invalid seed: want hexadecimal: %w", err)
	}
	if len(seed) < minSeedBytes {
		return nil, fmt.Errorf("seed too short: %d bytes, want at least %d", len(seed), minSeedBytes)
	}
	return seed, nil
}

// NewSeed returns a random seed in the file's hexadecimal form.
func NewSeed() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random seed: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Marshal encodes the configuration as YAML.
func (c *Decoys) Marshal() ([]byte, error) {
	return yaml.Marshal(c)
}

// DevDefault returns the configuration `decnet dev` writes on its first
// run: one decky with SSH and HTTP on free loopback ports and a fresh seed.
func DevDefault() (*Decoys, error) {
	seed, err := NewSeed()
	if err != nil {
		return nil, err
	}
	return &Decoys{Deckies: []Decky{{
		Name: "dev-01",
		Seed: seed,
		Services: []Service{
			{Name: "ssh", Persona: "openssh-9.2p1-debian12", Listen: "127.0.0.1:0", Options: map[string]string{"login": "after:3"}},
			{Name: "http", Persona: "nginx-1.22.1-debian12", Listen: "127.0.0.1:0"},
			{Name: "smtp", Persona: "postfix-3.7-debian12", Listen: "127.0.0.1:0"},
			{Name: "telnet", Persona: "debian12-telnetd", Listen: "127.0.0.1:0", Options: map[string]string{"login": "after:3"}},
			{Name: "ftp", Persona: "vsftpd-3.0.3-debian12", Listen: "127.0.0.1:0"},
			{Name: "pop3", Persona: "dovecot-2.3-debian12", Listen: "127.0.0.1:0"},
			{Name: "imap", Persona: "dovecot-2.3-debian12", Listen: "127.0.0.1:0"},
			{Name: "tftp", Persona: "tftpd-hpa-5.2-debian12", Listen: "127.0.0.1:0"},
		},
	}}}, nil
}
