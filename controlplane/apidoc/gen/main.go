// Command gen writes the API reference document from the protos. It runs
// from go generate in controlplane/apidoc:
//
//	go generate ./controlplane/apidoc
//
// It needs buf (make tools). The control plane only embeds its output.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/decnet/decnet/controlplane/apidoc"
	"github.com/decnet/decnet/controlplane/apidoc/internal/protosource"
)

func main() {
	root := flag.String("root", "../..", "buf workspace, the repository root")
	out := flag.String("o", "reference.json", "file to write")
	flag.Parse()

	if err := run(context.Background(), *root, *out); err != nil {
		fmt.Fprintln(os.Stderr, "apidoc gen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, root, out string) error {
	buf, err := protosource.FindBuf(root)
	if err != nil {
		return err
	}
	files, err := protosource.Build(ctx, buf, root)
	if err != nil {
		return err
	}
	ref, err := apidoc.Build(files)
	if err != nil {
		return fmt.Errorf("describe api: %w", err)
	}
	doc, err := apidoc.Encode(ref)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, doc, 0o644); err != nil { //nolint:gosec // G306: a source file, committed and world-readable
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}
