// Package cli is the plumbing the DECNET binaries share: flags that fall
// back to DECNET_* environment variables, and the process logger.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rs/zerolog"
)

// EnvPrefix prefixes every environment variable a flag reads.
const EnvPrefix = "DECNET_"

// EnvName returns the variable that backs a flag: --data-dir reads
// DECNET_DATA_DIR.
func EnvName(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Parse parses args into fs, then sets every flag not given on the command
// line from its environment variable, if set. A flag given both ways is an
// error when the values differ, since one of them would be silently
// ignored. Secrets are never passed through flags by design, so values may
// appear in error messages.
func Parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	given := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		value := getenv(EnvName(f.Name))
		if value == "" {
			return
		}
		if given[f.Name] {
			if f.Value.String() != value {
				errs = append(errs, fmt.Errorf("--%s=%s conflicts with %s=%s: set one", f.Name, f.Value.String(), EnvName(f.Name), value))
			}
			return
		}
		if err := f.Value.Set(value); err != nil {
			errs = append(errs, fmt.Errorf("invalid %s=%q: %w", EnvName(f.Name), value, err))
		}
	})
	return errors.Join(errs...)
}

// NewLogger returns the process logger: JSON lines, or a console format when
// pretty is set.
func NewLogger(w io.Writer, level string, pretty bool) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		return zerolog.Nop(), fmt.Errorf("invalid log level %q: want debug, info, warn or error", level)
	}
	if pretty {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05"}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}

// Stderr is the default log destination.
var Stderr io.Writer = os.Stderr
