#!/usr/bin/env bash
# Runs a command with a private Redis and a private S3 server (versitygw) on loopback,
# then stops them, whatever the command's outcome. The command sees:
#   BLINDPACK_TEST_REDIS       host:port of Redis
#   BLINDPACK_TEST_S3          host:port of the S3 server (plain HTTP)
#   BLINDPACK_TEST_S3_ACCESS   access key
#   BLINDPACK_TEST_S3_SECRET   secret key
#   BLINDPACK_TEST_SERVICES=required   so that tests fail, not skip, without them
# Usage: deploy/local/with-services.sh go test ./...
set -euo pipefail

BIN_DIR=${BLINDPACK_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/blindpack/bin}
work=$(mktemp -d "${TMPDIR:-/tmp}/blindpack-services.XXXXXX")
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

wait_port() {
  local port=$1 name=$2
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "with-services: $name did not start on port $port" >&2
  cat "$work/$name.log" >&2 || true
  exit 1
}

redis_port=$(free_port 16379)
mkdir -p "$work/redis"
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
  --dir "$work/redis" --logfile "$work/redis.log" &
pids+=($!)
wait_port "$redis_port" redis

s3_port=$(free_port 17070)
access=blindpack-test
secret=blindpack-test-secret-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
mkdir -p "$work/s3"
"$BIN_DIR/versitygw" --port "127.0.0.1:$s3_port" --access "$access" --secret "$secret" \
  posix "$work/s3" >"$work/versitygw.log" 2>&1 &
pids+=($!)
wait_port "$s3_port" versitygw

export BLINDPACK_TEST_REDIS="127.0.0.1:$redis_port"
export BLINDPACK_TEST_S3="127.0.0.1:$s3_port"
export BLINDPACK_TEST_S3_ACCESS="$access"
export BLINDPACK_TEST_S3_SECRET="$secret"
export BLINDPACK_TEST_SERVICES=required
echo "with-services: redis $BLINDPACK_TEST_REDIS, s3 $BLINDPACK_TEST_S3" >&2
"$@"
