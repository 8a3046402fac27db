// Command decnet runs the DECNET control plane (server), the all-in-one
// development setup (dev), and the administrative CLI.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `decnet: the DECNET control plane and CLI

Usage:
  decnet server [flags]          run the control plane
  decnet dev [flags]             run control plane, one agent and decoys in one process
  decnet ca init [flags]         create the CA (root and intermediate)
  decnet ca export-root-key [flags]
                                 move the root key out of the data directory
  decnet ca rotate-intermediate [flags]
                                 issue a new intermediate (needs the root key)
  decnet retention [flags]       prune raw events older than --older-than
  decnet backup [flags]          archive the store, the CA and keys while the server runs
  decnet restore [flags]         unpack a backup into a new data directory
  decnet version                 print the version

Client commands (through the API of a running control plane, as the user
whose API token they carry; flags --server, --ca-file, --config, --output
table|json|csv, csv for list commands; the token comes from DECNET_TOKEN
or the file decnet login writes):
  decnet login --server URL --username NAME
                                 read the password from standard input and
                                 save an API token for this machine
  decnet events list|tail [flags]
                                 list recent events, or follow new ones
  decnet attackers list|show ID|export ID
                                 attackers; export writes JSON lines
  decnet attackers notes ID|note ID [TEXT]|triage ID [--status S] [--tags T]
                                 read and write notes, tags and triage status
  decnet attackers intel ID [--refresh]
                                 threat-intel verdicts per address and provider
  decnet identities list|show ID [--attacker]
                                 identities: attackers judged to be one actor
  decnet campaigns list|show ID  campaigns: identities judged to work together
  decnet credentials list [flags]
                                 captured credentials
  decnet users list|create NAME|set-role NAME|reset-password NAME|delete NAME
                                 manage users (admin)
  decnet api-tokens list|create --name NAME [--scope S]…|revoke ID
                                 manage your API tokens; create prints the secret once
  decnet webhooks list|show ID|create|update ID|pause ID|resume ID|delete ID
                 |test ID|rotate-secret ID|deliveries [ID]|dead-letters [ID]|replay ID
                 |suppressions|suppress [flags]|unsuppress ID
                                 manage webhooks; create prints the signing secret once
  decnet export list|test NAME   SIEM export outputs with their state; send a test record
  decnet settings show|set [flags]
                                 show the server's settings; change the runtime
                                 ones (admin): --retention, --require-admin-totp,
                                 --streams-per-user, --webhook-allow-http,
                                 --webhook-allow-cidrs, --restore
  decnet completion bash|zsh     print a shell completion script

Agent and token commands (through the API as above; with --data-dir,
--store or --database-url-file, their DECNET_* variables or DECNET_DATABASE_URL,
they open the store directly on the control-plane host instead):
  decnet agents list|show ID     list enrolled agents, or show one
  decnet agents decommission ID  revoke an agent: close its connection, refuse it
  decnet tokens create --name NAME [flags]
                                 create a single-use bootstrap token for a new agent
  decnet tokens list             list bootstrap tokens with labels and state
  decnet tokens revoke ID        revoke the unused token of agent ID

Run "decnet COMMAND -h" for a command's flags. Every flag can also be set
through the environment: --data-dir reads DECNET_DATA_DIR.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "decnet:", err)
		}
		os.Exit(exitCode(err))
	}
}

func exitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) || errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

var errUsage = errors.New("invalid usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "server":
		return runServer(ctx, args[1:], stdout, stderr)
	case "dev":
		return runDev(ctx, args[1:], stdout, stderr)
	case "tokens":
		return runTokens(ctx, args[1:], stdout, stderr)
	case "agents":
		return runAgents(ctx, args[1:], stdout, stderr)
	case "ca":
		return runCA(ctx, args[1:], stdout, stderr)
	case "retention":
		return runRetention(ctx, args[1:], stdout, stderr)
	case "backup":
		return runBackup(ctx, args[1:], stdout, stderr)
	case "restore":
		return runRestore(ctx, args[1:], stdout, stderr)
	case "login":
		return runLogin(ctx, args[1:], os.Stdin, stdout, stderr)
	case "events":
		return runEvents(ctx, args[1:], stdout, stderr)
	case "attackers":
		return runAttackers(ctx, args[1:], stdout, stderr)
	case "credentials":
		return runCredentials(ctx, args[1:], stdout, stderr)
	case "identities":
		return runIdentities(ctx, args[1:], stdout, stderr)
	case "campaigns":
		return runCampaigns(ctx, args[1:], stdout, stderr)
	case "users":
		return runUsers(ctx, args[1:], stdout, stderr)
	case "api-tokens":
		return runAPITokens(ctx, args[1:], stdout, stderr)
	case "webhooks":
		return runWebhooks(ctx, args[1:], os.Stdin, stdout, stderr)
	case "export":
		return runExport(ctx, args[1:], stdout, stderr)
	case "settings":
		return runSettings(ctx, args[1:], stdout, stderr)
	case "completion":
		return runCompletion(args[1:], stdout)
	case "version":
		fmt.Fprintln(stdout, "decnet", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q: %w", args[0], errUsage)
	}
}
