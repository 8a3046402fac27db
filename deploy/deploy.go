// Package deploy embeds the files that install an agent on a sensor, so
// the control plane can serve them over its pinned TLS listener. The files
// live next to this source because go:embed cannot reach parent
// directories.
package deploy

import _ "embed"

//go:embed install-agent.sh
var installScript string

//go:embed systemd/decnet-agent.service
var agentUnit string

// InstallScript returns the content of install-agent.sh.
func InstallScript() string { return installScript }

// AgentUnit returns the content of the decnet-agent.service systemd unit.
func AgentUnit() string { return agentUnit }
