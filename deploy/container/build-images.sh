#!/bin/sh
# Build the control plane and agent images from static binaries.
#
#   deploy/container/build-images.sh [TAG]
#
# Compiles decnet and decnet-agent on this machine with CGO_ENABLED=0 and
# -trimpath, copies them into a fresh build context, and runs docker build
# on the FROM scratch Dockerfiles next to this script. No Go toolchain image
# and no base image are pulled.
#
# Environment: DOCKER (default docker), IMAGE_PREFIX (default decnet),
# VERSION (written into the binaries, default TAG).
set -eu

tag=${1:-dev}
docker=${DOCKER:-docker}
prefix=${IMAGE_PREFIX:-decnet}
version=${VERSION:-$tag}

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT

cd "$root"
CGO_ENABLED=0 go build -trimpath -buildvcs=false \
	-ldflags "-s -w -X main.version=$version" \
	-o "$context/decnet" ./cmd/decnet
CGO_ENABLED=0 go build -trimpath -buildvcs=false \
	-ldflags "-s -w -X main.version=$version" \
	-o "$context/decnet-agent" ./cmd/decnet-agent
mkdir "$context/data"

"$docker" build -f "$here/Dockerfile.controlplane" -t "$prefix/controlplane:$tag" "$context"
"$docker" build -f "$here/Dockerfile.agent" -t "$prefix/agent:$tag" "$context"
