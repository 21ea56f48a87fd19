#!/usr/bin/env bash
# Unbound as a caching forwarder (one thread, no DNSSEC validation).
# usage: servers/unbound.sh version
#        servers/unbound.sh start LISTEN_ADDR LISTEN_PORT UPSTREAM_ADDR UPSTREAM_PORT WORKDIR
# "start" writes its config into WORKDIR and execs the server in the foreground.
# Copied unchanged (but for this note) from the project's shared harness (../shared/bench/servers/).
set -euo pipefail
case "${1:-}" in
version) unbound -V 2>&1 | awk '/^Version/ {print "unbound " $2; exit}' ;;
start)
  addr=$2 port=$3 up=$4 upport=$5 dir=$6
  cat > "$dir/unbound.conf" <<CONF
server:
  interface: $addr
  port: $port
  do-ip6: no
  do-tcp: yes
  num-threads: 1
  so-reuseport: no
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  username: ""
  chroot: ""
  directory: "$dir"
  pidfile: ""
  use-syslog: no
  logfile: "$dir/unbound.log"
  verbosity: 0
  module-config: "iterator"
  msg-cache-size: 64m
  rrset-cache-size: 128m
  outgoing-range: 4096
  num-queries-per-thread: 4096
  so-rcvbuf: 4m
  so-sndbuf: 4m
  local-zone: "test." nodefault
  domain-insecure: "bench.test"
  minimal-responses: yes
  qname-minimisation: no
  harden-referral-path: no
forward-zone:
  name: "."
  forward-addr: $up@$upport
remote-control:
  control-enable: no
CONF
  exec unbound -d -p -c "$dir/unbound.conf" ;;
*) echo "usage: $0 version | start ADDR PORT UPADDR UPPORT DIR" >&2; exit 2 ;;
esac
