#!/usr/bin/env bash
# dnsmasq as a caching forwarder (single-threaded by design).
# usage: servers/dnsmasq.sh version
#        servers/dnsmasq.sh start LISTEN_ADDR LISTEN_PORT UPSTREAM_ADDR UPSTREAM_PORT WORKDIR
# Copied unchanged (but for this note) from the project's shared harness (../shared/bench/servers/).
set -euo pipefail
case "${1:-}" in
version) dnsmasq --version | awk 'NR==1 {print "dnsmasq " $3}' ;;
start)
  addr=$2 port=$3 up=$4 upport=$5 dir=$6
  # --cache-size: large enough for every name of the miss workload.
  # --dns-forward-max: default 150 concurrent upstream queries would cap the miss path.
  exec dnsmasq --keep-in-foreground --conf-file=/dev/null --no-hosts --no-resolv \
    --no-poll --bind-interfaces --listen-address="$addr" --port="$port" \
    --server="$up#$upport" --cache-size=200000 --dns-forward-max=5000 \
    --user=root --group=root --pid-file="$dir/dnsmasq.pid" --log-facility="$dir/dnsmasq.log" ;;
*) echo "usage: $0 version | start ADDR PORT UPADDR UPPORT DIR" >&2; exit 2 ;;
esac
