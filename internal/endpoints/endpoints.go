// Package endpoints writes and reads <data-dir>/endpoints.json: the
// addresses a process listens on, written once everything listens, so that
// scripts and tests never parse log output.
package endpoints

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// FileName is the name of the file inside the data directory.
const FileName = "endpoints.json"

// Endpoints lists what a DECNET process serves. Empty fields are omitted:
// an agent has no API, a server without agents in-process has no decoys.
type Endpoints struct {
	// API is the base URL of the Connect-RPC API.
	API string `json:"api,omitempty"`
	// Dashboard is the URL of the web dashboard.
	Dashboard string `json:"dashboard,omitempty"`
	// Enroll is the base URL agents enroll at (HTTPS).
	Enroll string `json:"enroll,omitempty"`
	// Bridge is the host:port of the QUIC bridge listener (UDP).
	Bridge string `json:"bridge,omitempty"`
	// Metrics is the URL of the Prometheus metrics endpoint.
	Metrics string  `json:"metrics,omitempty"`
	Decoys  []Decoy `json:"decoys,omitempty"`
}

// Decoy is one listening decoy service.
type Decoy struct {
	Decky   string `json:"decky"`
	Service string `json:"service"`
	Persona string `json:"persona,omitempty"`
	// Address is host:port.
	Address string `json:"address"`
	// Transport is "udp" for datagram services; empty means TCP.
	Transport string `json:"transport,omitempty"`
}

// Write replaces dataDir/endpoints.json atomically, so a reader sees the
// old file or the new one, never a partial one.
func Write(dataDir string, e Endpoints) error {
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return fmt.Errorf("encode endpoints: %w", err)
	}
	data = append(data, '\n')

	tmp, err := os.CreateTemp(dataDir, ".endpoints-*.json")
	if err != nil {
		return fmt.Errorf("write endpoints: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()

	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write endpoints: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write endpoints: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write endpoints: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dataDir, FileName)); err != nil {
		return fmt.Errorf("write endpoints: %w", err)
	}
	return nil
}

// Read loads dataDir/endpoints.json.
func Read(dataDir string) (Endpoints, error) {
	var e Endpoints
	data, err := os.ReadFile(filepath.Join(dataDir, FileName))
	if err != nil {
		return e, fmt.Errorf("read endpoints: %w", err)
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return e, fmt.Errorf("decode endpoints: %w", err)
	}
	return e, nil
}

// Remove deletes the file, so a stopped process leaves no stale addresses.
func Remove(dataDir string) error {
	err := os.Remove(filepath.Join(dataDir, FileName))
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove endpoints: %w", err)
	}
	return nil
}

// FindDecoy returns the first decoy of this service, or false.
func (e Endpoints) FindDecoy(service string) (Decoy, bool) {
	for _, d := range e.Decoys {
		if d.Service == service {
			return d, true
		}
	}
	return Decoy{}, false
}
