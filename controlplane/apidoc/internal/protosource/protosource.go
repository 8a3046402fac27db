// Package protosource compiles the repository's protos with buf, keeping
// the source comments that the generated Go descriptors leave out. Only
// the reference generator and its staleness test use it, so the control
// plane never needs buf.
package protosource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// ErrNoBuf means buf is neither in the workspace's tool directory nor on
// PATH.
var ErrNoBuf = errors.New("buf not found: run make tools")

// maxStderr bounds how much of buf's error output goes into an error.
const maxStderr = 4 << 10

// FindBuf returns the buf the Makefile pins, under root/.tools/bin, or
// else one on PATH.
func FindBuf(root string) (string, error) {
	pinned := filepath.Join(root, ".tools", "bin", "buf")
	if info, err := os.Stat(pinned); err == nil && !info.IsDir() {
		return pinned, nil
	}
	path, err := exec.LookPath("buf")
	if err != nil {
		return "", ErrNoBuf
	}
	return path, nil
}

// Build compiles the buf workspace at root and returns every file with its
// imports and source info. Options are decoded against
// protoregistry.GlobalTypes, so custom options whose Go types the caller
// links in, such as (decnet.api.v1.access), read as typed extensions.
func Build(ctx context.Context, buf, root string) (*protoregistry.Files, error) {
	// Source info and imports are in buf's output by default.
	cmd := exec.CommandContext(ctx, buf, "build", root, "--as-file-descriptor-set", "--output", "-#format=binpb") //nolint:gosec // G204: buf and root come from the developer running go generate or the tests
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := stderr.Bytes()
		if len(msg) > maxStderr {
			msg = msg[:maxStderr]
		}
		return nil, fmt.Errorf("run buf build: %w: %s", err, bytes.TrimSpace(msg))
	}

	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(stdout.Bytes(), &set); err != nil {
		return nil, fmt.Errorf("decode buf image: %w", err)
	}
	files, err := protodesc.NewFiles(&set)
	if err != nil {
		return nil, fmt.Errorf("link buf image: %w", err)
	}
	return files, nil
}
