#!/usr/bin/env bash
# The bare Node.js dgram responder (node-dgram.mjs) behind the servers/*.sh
# interface, for the resolver scenario's floor row: it does not forward (the
# upstream arguments are ignored) and answers every A query with 10.0.0.1.
# usage: servers/node-dgram.sh version
#        servers/node-dgram.sh start LISTEN_ADDR LISTEN_PORT UPSTREAM_ADDR UPSTREAM_PORT WORKDIR
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
case "${1:-}" in
version) echo "node-dgram (node $(node --version))" ;;
start) exec node "$HERE/node-dgram.mjs" "$2" "$3" ;;
*) echo "usage: $0 version | start ADDR PORT UPADDR UPPORT DIR" >&2; exit 2 ;;
esac
