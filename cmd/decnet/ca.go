package main

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/decnet/decnet/pki"
)

// defaultKeepOld keeps a rotated-away intermediate trusted for a week:
// longer than the default agent certificate lifetime (24 hours), so every
// agent renews under the new intermediate first.
const defaultKeepOld = 7 * 24 * time.Hour

func runCA(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("ca: want a subcommand, init, export-root-key or rotate-intermediate: %w", errUsage)
	}
	switch args[0] {
	case "init":
		return runCAInit(ctx, args[1:], stdout, stderr)
	case "export-root-key":
		return runCAExportRootKey(ctx, args[1:], stdout, stderr)
	case "rotate-intermediate":
		return runCARotate(ctx, args[1:], stdout, stderr)
	default:
		return fmt.Errorf("ca: unknown subcommand %q, want init, export-root-key or rotate-intermediate: %w", args[0], errUsage)
	}
}

func runCAInit(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("decnet ca init", stderr)
	dataDir := fs.String("data-dir", "/var/lib/decnet", "control plane data directory")
	offline := fs.String("root-key-offline", "", "move the new root key to this file (which must not exist) instead of keeping it in the data directory")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir := filepath.Join(*dataDir, "ca")
	ca, err := pki.LoadOrCreateCA(dir, time.Now)
	if err != nil {
		return err
	}
	if *offline != "" {
		if err := pki.ExportRootKey(dir, *offline); err != nil {
			return err
		}
	}
	printCA(stdout, dir, ca.Root(), ca.Intermediate())
	if *offline != "" {
		fmt.Fprintf(stdout, "root key:      moved to %s; store it offline\n", *offline)
	}
	return nil
}

func runCAExportRootKey(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("decnet ca export-root-key", stderr)
	dataDir := fs.String("data-dir", "/var/lib/decnet", "control plane data directory")
	out := fs.String("out", "", "file to move the root key to; must not exist (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("ca export-root-key: --out is required")
	}
	if err := pki.ExportRootKey(filepath.Join(*dataDir, "ca"), *out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Root key moved to %s. The server runs on the intermediate alone; keep the key offline and pass it to decnet ca rotate-intermediate --root-key.\n", *out)
	return nil
}

func runCARotate(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("decnet ca rotate-intermediate", stderr)
	dataDir := fs.String("data-dir", "/var/lib/decnet", "control plane data directory")
	rootKey := fs.String("root-key", "", "root key file (default: ca/ca.key in the data directory)")
	keepOld := fs.Duration("keep-old", defaultKeepOld, "how long agent certificates from the current intermediate stay accepted; at least the agent certificate lifetime")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir := filepath.Join(*dataDir, "ca")
	cert, err := pki.RotateIntermediate(dir, *rootKey, *keepOld, time.Now)
	if err != nil {
		return err
	}
	fp := pki.Fingerprint(cert)
	fmt.Fprintf(stdout, "New intermediate %s (SHA-256 %s), valid until %s.\nRestart the server to issue with it; agents keep working without enrolling again.\n",
		cert.SerialNumber.Text(16), hex.EncodeToString(fp[:]), cert.NotAfter.UTC().Format(time.RFC3339))
	return nil
}

// printCA prints what an operator needs after init: where the CA is and
// the root fingerprint that bootstrap tokens pin.
func printCA(w io.Writer, dir string, root, intermediate *x509.Certificate) {
	rootFP := pki.Fingerprint(root)
	fmt.Fprintf(w, "CA directory:  %s\n", dir)
	fmt.Fprintf(w, "root:          SHA-256 %s, valid until %s\n", hex.EncodeToString(rootFP[:]), root.NotAfter.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "intermediate:  serial %s, valid until %s\n", intermediate.SerialNumber.Text(16), intermediate.NotAfter.UTC().Format(time.RFC3339))
}
