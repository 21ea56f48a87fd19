#!/usr/bin/env bash
# NSD as the authoritative upstream, serving one zone from a zone file.
# usage: servers/nsd.sh version
#        servers/nsd.sh start LISTEN_ADDR LISTEN_PORT ZONE ZONEFILE WORKDIR
# Response rate limiting (on by default in Debian's build) is switched off.
# Copied from the project's shared harness; added: minimal-responses (NSD_MINIMAL,
# default yes) so that a positive answer carries only the answer RRset, like
# the CoreDNS hosts plugin's (without it NSD adds the NS RRset and its glue).
set -euo pipefail
case "${1:-}" in
version) nsd -v 2>&1 | awk 'NR==1 {print "nsd " $NF}' ;;
start)
  addr=$2 port=$3 zone=$4 zonefile=$5 dir=$6
  cat > "$dir/nsd.conf" <<CONF
server:
  ip-address: $addr@$port
  port: $port
  server-count: ${NSD_SERVER_COUNT:-1}
  username: ""
  chroot: ""
  zonesdir: "$dir"
  database: ""
  zonelistfile: "$dir/zone.list"
  xfrdfile: "$dir/xfrd.state"
  xfrdir: "$dir"
  pidfile: "$dir/nsd.pid"
  logfile: "$dir/nsd.log"
  verbosity: 0
  do-ip6: no
  hide-version: yes
  refuse-any: no
  minimal-responses: ${NSD_MINIMAL:-yes}
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: $zone
  zonefile: "$zonefile"
CONF
  exec nsd -d -c "$dir/nsd.conf" ;;
*) echo "usage: $0 version | start ADDR PORT ZONE ZONEFILE DIR" >&2; exit 2 ;;
esac
