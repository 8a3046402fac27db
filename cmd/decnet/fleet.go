package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/decnet/decnet/internal/cli"
)

// The agents and tokens commands run in one of two modes. They open the
// store directly when a store is named explicitly: by --data-dir, --store
// or --database-url-file on the command line, or by DECNET_DATA_DIR,
// DECNET_STORE, DECNET_DATABASE_URL_FILE or DECNET_DATABASE_URL in the
// environment. Otherwise they call the API of the server that --server,
// DECNET_SERVER or the saved login names. Naming a store and --server or
// DECNET_SERVER together is a usage error, so a command never acts on a
// control plane the caller did not mean.

// fleetMode is the target of an agents or tokens command: the API or the
// store.
type fleetMode int

const (
	// modeAPI calls the API as the user whose API token the command
	// carries, so the server applies that user's role.
	modeAPI fleetMode = iota + 1
	// modeStore opens the control plane's store directly. It is for the
	// operator on the control-plane host.
	modeStore
)

// storeSelectorFlags name a store. Any of them on the command line
// selects the store mode.
var storeSelectorFlags = []string{"data-dir", "store", "database-url-file"}

// storeSelectorEnv are the environment variables that select the store
// mode: the variables behind storeSelectorFlags, and the PostgreSQL URL
// that decnet server reads too.
var storeSelectorEnv = []string{"DECNET_DATA_DIR", "DECNET_STORE", "DECNET_DATABASE_URL_FILE", databaseURLEnv}

// serverEnv is the variable behind --server.
const serverEnv = "DECNET_SERVER"

// errNoControlPlane is returned when neither a server nor a store is
// named.
var errNoControlPlane = errors.New("no control plane selected: pass --server URL or run decnet login to call the API, " +
	"or pass --data-dir DIR (or --store) on the control-plane host to open its store")

// fleetCommand is a parsed agents or tokens subcommand. In the API mode
// the embedded clientCommand is connected, and in the store mode its
// client is nil.
type fleetCommand struct {
	clientCommand
	store   storeFlags
	dataDir string
	mode    fleetMode
	// given lists the flags set on the command line, not through the
	// environment.
	given map[string]bool
}

// parseFleet parses the flags of both modes plus the command's own, which
// register adds, selects the mode and, in the API mode, connects.
// valueFlags lists the command's flags that take a value, so positional
// arguments may stand among the flags.
func parseFleet(name string, args []string, stdout, stderr io.Writer, getenv func(string) string,
	register func(fs *flag.FlagSet), valueFlags ...string) (*fleetCommand, error) {
	fs := newFlagSet(name, stderr)
	c := &fleetCommand{clientCommand: clientCommand{stdout: stdout, stderr: stderr}}
	c.flags.Register(fs)
	c.store.register(fs)
	fs.StringVar(&c.dataDir, "data-dir", "/var/lib/decnet", "control plane data directory; giving it opens the store directly instead of calling the API")
	if register != nil {
		register(fs)
	}
	valueFlags = append(valueFlags, "server", "ca-file", "config", "output", "data-dir", "store", "database-url-file")
	flags, positional := splitPositional(args, valueFlags...)
	if err := cli.Parse(fs, flags, getenv); err != nil {
		return nil, err
	}
	c.args = positional
	c.given = make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { c.given[f.Name] = true })

	command := strings.TrimPrefix(name, "decnet ")
	mode, err := selectMode(c.given, getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", command, err)
	}
	c.mode = mode
	if err := cli.CheckOutput(c.flags.Output); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", command, err, errUsage)
	}
	if err := checkCSV(name, c.flags.Output); err != nil {
		return nil, err
	}
	if err := c.only(modeAPI, "ca-file", "config"); err != nil {
		return nil, fmt.Errorf("%s: %w", command, err)
	}
	if mode == modeStore {
		return c, nil
	}
	err = c.connect(getenv)
	if errors.Is(err, cli.ErrNoServer) {
		return nil, fmt.Errorf("%s: %w: %w", command, errNoControlPlane, errUsage)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// selectMode applies the rule at the top of this file. given lists the
// flags set on the command line.
func selectMode(given map[string]bool, getenv func(string) string) (fleetMode, error) {
	store := ""
	for _, name := range storeSelectorFlags {
		if given[name] {
			store = "--" + name
			break
		}
	}
	for _, env := range storeSelectorEnv {
		if store != "" {
			break
		}
		if getenv(env) != "" {
			store = env
		}
	}
	server := ""
	switch {
	case given["server"]:
		server = "--server"
	case getenv(serverEnv) != "":
		server = serverEnv
	}

	switch {
	case store != "" && server != "":
		return 0, fmt.Errorf("%s names a store and %s a server: give only one, the server to call the API or the store to open it directly: %w",
			store, server, errUsage)
	case store != "":
		return modeStore, nil
	}
	// The server may still come from the saved login, and connect
	// reports when there is none.
	return modeAPI, nil
}

// only rejects the named flags, when given on the command line, unless
// the command runs in mode.
func (c *fleetCommand) only(mode fleetMode, names ...string) error {
	for _, name := range names {
		if !c.given[name] || c.mode == mode {
			continue
		}
		if mode == modeStore {
			return fmt.Errorf("--%s applies only when the command opens the store: add --data-dir or --store, or leave it out: %w", name, errUsage)
		}
		return fmt.Errorf("--%s applies only when the command calls the API: drop --data-dir and the store flags, or leave it out: %w", name, errUsage)
	}
	return nil
}
