package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/internal/cli"
)

// logFlags are the logging flags every command shares.
type logFlags struct {
	level  string
	format string
}

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.level, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&l.format, "log-format", "console", "log format: console or json")
}

func (l *logFlags) logger(w io.Writer) (zerolog.Logger, error) {
	switch l.format {
	case "console", "json":
	default:
		return zerolog.Nop(), fmt.Errorf("invalid --log-format %q: want console or json", l.format)
	}
	return cli.NewLogger(w, l.level, l.format == "console")
}

// listFlag collects a repeatable, comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*l = append(*l, item)
		}
	}
	return nil
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	return cli.Parse(fs, args, os.Getenv)
}
