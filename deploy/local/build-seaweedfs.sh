#!/usr/bin/env bash
# Builds SeaweedFS's `weed` (Apache-2.0) once from the Go module proxy into the same cache as
# versitygw, for the distributed-store fault tests (`make faults`). Not needed by `make test`.
# SeaweedFS's go.mod has a replace directive, so `go install M@V` refuses it: the module is
# downloaded, copied out of the read-only module cache and built in place.
set -euo pipefail

SEAWEEDFS_VERSION=v0.0.0-20261109003541-7506e5f91cd6
BIN_DIR=${BLINDPACK_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/blindpack/bin}

if [ -x "$BIN_DIR/weed" ] && [ -f "$BIN_DIR/weed.$SEAWEEDFS_VERSION" ]; then
  exit 0
fi
echo "build-seaweedfs: building SeaweedFS weed $SEAWEEDFS_VERSION (once; takes several minutes)" >&2
src=$(go mod download -json "github.com/seaweedfs/seaweedfs@$SEAWEEDFS_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -n "$src" ] || { echo "build-seaweedfs: download failed" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/seaweedfs-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$src/." "$work/"
chmod -R u+w "$work"
mkdir -p "$BIN_DIR"
(cd "$work" && go build -o "$BIN_DIR/weed" ./weed)
touch "$BIN_DIR/weed.$SEAWEEDFS_VERSION"
