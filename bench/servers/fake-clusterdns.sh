#!/usr/bin/env bash
# Harness self-test stand-in for clusterdns: takes "-conf COREFILE", reads the
# first server block's port (":PORT {") and "bind ADDR", and execs the bare
# Node.js dgram responder there (every A query answered with 10.0.0.1).
# usage: CLUSTERDNS_CMD=bench/servers/fake-clusterdns.sh bash bench/run-all.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ "${1:-}" != -conf ] || [ ! -r "${2:-}" ]; then echo "usage: $0 -conf COREFILE" >&2; exit 2; fi
port=$(sed -n 's/^[^#]*:\([0-9][0-9]*\)[[:space:]]*{.*/\1/p' "$2" | head -n 1)
addr=$(awk '$1 == "bind" {print $2; exit}' "$2")
exec node "$HERE/node-dgram.mjs" "${addr:-127.0.0.1}" "${port:?no :PORT in $2}"
