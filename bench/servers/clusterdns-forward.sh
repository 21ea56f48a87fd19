#!/usr/bin/env bash
# clusterdns as a caching forwarder (the node-local role: forward + cache), with
# the servers/*.sh interface of the shared harness (../shared/bench), so it can
# also be used there as a peer.
# usage: servers/clusterdns-forward.sh version
#        servers/clusterdns-forward.sh start LISTEN_ADDR LISTEN_PORT UPSTREAM_ADDR UPSTREAM_PORT WORKDIR
# "start" writes WORKDIR/Corefile and execs CLUSTERDNS_CMD (default
# "node bin/clusterdns", run from the repo root) with "-conf WORKDIR/Corefile".
# CACHE_CAPACITY (env): a number N -> "cache { success N; denial N }" (rounded
#   down to a multiple of 256 by the cache plugin); "default" -> "cache 30"
#   (9,984 entries per store, the stock node-local Corefile line). Default 200192
#   (782 x 256): every name of the resolver scenario's hit and miss runs fits.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
: "${CLUSTERDNS_CMD:=node bin/clusterdns}"
: "${CACHE_CAPACITY:=200192}"
case "${1:-}" in
version)
  v=$(cd "$REPO" && node -e 'console.log(JSON.parse(require("fs").readFileSync("package.json")).version)' 2>/dev/null) || v="?"
  echo "clusterdns $v" ;;
start)
  addr=$2 port=$3 up=$4 upport=$5 dir=$6
  if [ "$CACHE_CAPACITY" = default ]; then
    cache="    cache 30"
  elif [[ "$CACHE_CAPACITY" =~ ^[0-9]+$ ]]; then
    cache="    cache {
        success $CACHE_CAPACITY
        denial $CACHE_CAPACITY
    }"
  else
    echo "CACHE_CAPACITY=$CACHE_CAPACITY: want a number or 'default'" >&2; exit 2
  fi
  # forward: default settings (health checks only start after an upstream error,
  # and go to the same upstream, so no packet leaves loopback).
  cat > "$dir/Corefile" <<CONF
.:$port {
    bind $addr
    forward . $up:$upport
$cache
}
CONF
  cd "$REPO"
  # shellcheck disable=SC2086  # CLUSTERDNS_CMD is a command line
  exec $CLUSTERDNS_CMD -conf "$dir/Corefile" ;;
*) echo "usage: $0 version | start ADDR PORT UPADDR UPPORT DIR" >&2; exit 2 ;;
esac
