#!/usr/bin/env bash
# Scenario "auth": authoritative answers from memory.
# Target (issue): clusterdns `hosts` answers at >= 0.5x NSD's QPS in the same
# run, and p99 < 1 ms at 20,000 QPS offered.
#
# Data: NAMES names hN.bench.test (N = 1..NAMES) with IPv4 addresses 10.x.y.z,
# served as
#   nsd                NSD authoritative for bench.test (zone file, RRL off, one server process)
#   clusterdns-hosts   clusterdns: bench.test:PORT { bind; hosts FILE bench.test { no_reverse; reload 0 } }
#   clusterdns-whoami  clusterdns: .:PORT { bind; whoami } (answers anything; plugin-chain floor)
#   node-dgram         servers/node-dgram.mjs: bare Node.js dgram responder, fixed A record
#                      (the floor for any Node.js server on this machine)
# Query file: every name once in a scattered order, 98% A, 2% AAAA (NODATA).
# Each server is started fresh for each workload ("closed": closed loop,
# -c CLIENTS -q OUTSTANDING; "fixed": -Q LAT_QPS), pinned to SERVER_CPU.
#
# usage (normally through run-all.sh):
#   scenarios/auth.sh run                              append rows to RESULTS_TSV
#   scenarios/auth.sh profile-setup DIR ADDR PORT [VARIANT]
#       generate the data in DIR, write the clusterdns Corefile of VARIANT
#       (hosts | whoami; default hosts) and print shell assignments
#       COREFILE= QFILE= READY_NAME= for profile.sh
# Knobs: NAMES (1000), AUTH_SERVERS ("nsd clusterdns-hosts clusterdns-whoami node-dgram"),
# NSD_MINIMAL (yes: NSD leaves the NS RRset and glue out of positive answers, as hosts does).
set -euo pipefail
SCENARIO=auth
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"

: "${NAMES:=1000}"
: "${AUTH_SERVERS:=nsd clusterdns-hosts clusterdns-whoami node-dgram}"
ZONE=bench.test
READY_NAME=h1.$ZONE
if ! [[ "$NAMES" =~ ^[1-9][0-9]*$ ]] || [ "$NAMES" -gt 16000000 ]; then die "NAMES=$NAMES: want 1..16000000"; fi

# generate DIR: DIR/zone (NSD zone file), DIR/hosts, DIR/queries.txt
generate() {
  local dir=$1
  awk -v zone="$ZONE" -v n="$NAMES" -v ns="$BENCH_ADDR" \
      -v zf="$dir/zone" -v hf="$dir/hosts" -v qf="$dir/queries.txt" 'BEGIN {
    printf "$ORIGIN %s.\n$TTL 3600\n", zone > zf
    printf "@ IN SOA ns1 hostmaster 1 7200 3600 1209600 3600\n@ IN NS ns1\nns1 IN A %s\n", ns > zf
    printf "# %d names of %s for the auth benchmark\n", n, zone > hf
    for (i = 1; i <= n; i++) {
      ip = sprintf("10.%d.%d.%d", int(i / 65536) % 256, int(i / 256) % 256, i % 256)
      printf "h%d IN A %s\n", i, ip > zf
      printf "%s h%d.%s\n", ip, i, zone > hf
    }
    # every name once, consecutive lines on unrelated names (stride coprime to n)
    stride = (n % 7919 == 0) ? 7907 : 7919
    for (k = 0; k < n; k++) {
      printf "h%d.%s %s\n", (k * stride) % n + 1, zone, (k % 50 == 49) ? "AAAA" : "A" > qf
    }
  }'
}

# corefile VARIANT DIR ADDR PORT: write DIR/VARIANT.Corefile, print its path
corefile() {
  local variant=$1 dir=$2 addr=$3 port=$4 f=$2/$1.Corefile
  case "$variant" in
    hosts) cat > "$f" <<EOF
$ZONE:$port {
    bind $addr
    hosts $dir/hosts $ZONE {
        no_reverse
        reload 0
    }
}
EOF
    ;;
    whoami) cat > "$f" <<EOF
.:$port {
    bind $addr
    whoami
}
EOF
    ;;
    *) die "unknown clusterdns variant '$variant' (hosts, whoami)" ;;
  esac
  echo "$f"
}

# after_ready NAME PORT (called by measure_server once the server answers):
# on the first start of each server, check an A answer (hosts and nsd must
# return the address from the data) and that AAAA is NOERROR/NODATA.
declare -A CHECKED=()
after_ready() {
  local name=$1 port=$2 want a aaaa
  [ -z "${CHECKED[$name]:-}" ] || return 0
  CHECKED[$name]=1
  case "$name" in nsd|clusterdns-hosts) want=$H1_IP ;; *) return 0 ;; esac
  a=$(dig +time=1 +tries=2 +norec "@$BENCH_ADDR" -p "$port" "h1.$ZONE" A 2>&1 || true)
  aaaa=$(dig +time=1 +tries=2 +norec "@$BENCH_ADDR" -p "$port" "h1.$ZONE" AAAA 2>&1 || true)
  if ! echo "$a" | grep -q "^h1\.$ZONE\.[[:space:]].*[[:space:]]A[[:space:]]*$want\$"; then
    note "$SCENARIO/$name: 'h1.$ZONE A' did not return $want: $(echo "$a" | grep -E 'status:|[[:space:]]A[[:space:]]' | tr -s ' \t\n' ' ')"
  fi
  if ! echo "$aaaa" | grep -q 'status: NOERROR' || ! echo "$aaaa" | grep -q 'ANSWER: 0,'; then
    note "$SCENARIO/$name: 'h1.$ZONE AAAA' is not NOERROR/NODATA: $(echo "$aaaa" | grep -E 'status:|flags:' | tr -s ' \t\n' ' ')"
  fi
}

run() {
  if [ -z "${RESULTS_TSV:-}" ] || [ -z "${NOTES_FILE:-}" ] || [ -z "${SCENARIO_DIR:-}" ]; then
    die "run it through run-all.sh: SCENARIOS=auth bash bench/run-all.sh"
  fi
  need_tools dnsperf dig taskset nsd node
  local dir=$SCENARIO_DIR run srv port cf
  mkdir -p "$dir"
  generate "$dir"
  H1_IP=$(awk -v n="h1.$ZONE" '$2 == n {print $1}' "$dir/hosts")
  [ -n "$H1_IP" ] || H1_IP=none
  log "$NAMES names, $(wc -l < "$dir/queries.txt") queries in $dir/queries.txt; servers: $AUTH_SERVERS"
  trap cleanup_started EXIT
  trap 'exit 130' INT TERM HUP PIPE
  for run in $(seq "$REPEAT"); do
    export RUN=$run
    for srv in $AUTH_SERVERS; do
      next_port; port=$FREE_PORT
      case "$srv" in
        nsd)
          mkdir -p "$dir/nsd-$run"
          # servers/nsd.sh starts "nsd -d" in the foreground
          measure_server nsd "$READY_NAME" "$dir/queries.txt" "$dir/nsd-$run" "$port" -- \
            "$BENCH_DIR/servers/nsd.sh" start "$BENCH_ADDR" "$port" "$ZONE" "$dir/zone" "$dir/nsd-$run" || true
          ;;
        clusterdns-hosts|clusterdns-whoami)
          cf=$(corefile "${srv#clusterdns-}" "$dir" "$BENCH_ADDR" "$port")
          # shellcheck disable=SC2086  # CLUSTERDNS_CMD is a command line
          measure_server "$srv" "$READY_NAME" "$dir/queries.txt" "$dir/$srv-$run" "$port" -- \
            $CLUSTERDNS_CMD -conf "$cf" || true
          ;;
        node-dgram)
          measure_server node-dgram "$READY_NAME" "$dir/queries.txt" "$dir/node-dgram-$run" "$port" -- \
            node "$BENCH_DIR/servers/node-dgram.mjs" "$BENCH_ADDR" "$port" || true
          ;;
        *) note "$SCENARIO: unknown server '$srv' in AUTH_SERVERS (nsd clusterdns-hosts clusterdns-whoami node-dgram)" ;;
      esac
    done
  done
  checks
}

# The issue's targets, per run, from the rows just recorded.
checks() {
  local fixed="@$LAT_QPS"
  awk -F'\t' -v sc="$SCENARIO" -v fixed="$fixed" -v lat="$LAT_QPS" -v warn="$OTHER_CPU_WARN" '
    function kv(line, key,   n, a, i) { n = split(line, a, " "); for (i = 1; i <= n; i++) if (index(a[i], key "=") == 1) return substr(a[i], length(key) + 2); return "" }
    $1 != sc { next }
    # other processes CPU %: ob = during the closed rows (QPS check), fb = the fixed row (p99 check)
    function busy(r, o) { o = kv($5, "other_cpu_pct") + 0; if ($3 == "closed" && o > ob[r]) ob[r] = o; if ($3 == fixed && o > fb[r]) fb[r] = o }
    $2 == "nsd" && $3 == "closed" { nsd[$4] = kv($5, "qps"); busy($4) }
    $2 == "clusterdns-hosts" && $3 == "closed" { h[$4] = kv($5, "qps"); hf[$4] = kv($5, "failed"); busy($4) }
    $2 == "clusterdns-hosts" && $3 == fixed { p99[$4] = kv($5, "p99_ms"); lost[$4] = kv($5, "lost"); fq[$4] = kv($5, "qps"); ff[$4] = kv($5, "failed"); seen[$4] = 1; busy($4) }
    { runs[$4] = 1 }
    function unrel(o) { return (o > warn) ? sprintf(" (UNRELIABLE: other processes used %d%% CPU meanwhile)", o) : "" }
    END {
      for (r in runs) {
        if (hf[r] != "" || h[r] == "") printf "auth run %s: clusterdns-hosts QPS >= 0.5x nsd: NOT MEASURED (clusterdns-hosts %s)\n", r, (hf[r] != "" ? "failed: " hf[r] : "not run")
        else if (nsd[r] + 0 <= 0) printf "auth run %s: clusterdns-hosts QPS >= 0.5x nsd: NOT MEASURED (no nsd row)\n", r
        else { x = h[r] / nsd[r]; printf "auth run %s: clusterdns-hosts QPS = %.2fx nsd (%d vs %d; target >= 0.5x): %s%s\n", r, x, h[r], nsd[r], (x >= 0.5 ? "PASS" : "FAIL"), unrel(ob[r] - 0) }
        if (!seen[r] || ff[r] != "") printf "auth run %s: clusterdns-hosts p99 < 1 ms at %s QPS offered: NOT MEASURED\n", r, lat
        else {
          ok = (p99[r] != "-" && p99[r] + 0 < 1.0 && lost[r] + 0 == 0 && fq[r] + 0 >= 0.98 * lat)
          printf "auth run %s: clusterdns-hosts at %s QPS offered: p99 %s ms, lost %d, answered %d QPS (target p99 < 1 ms, nothing lost%s): %s%s\n", \
            r, lat, p99[r], lost[r], fq[r], (lat == 20000 ? "" : "; NB the issue asks for 20000"), (ok ? "PASS" : "FAIL"), unrel(fb[r] - 0)
        }
      }
    }' "$RESULTS_TSV" | sort | while IFS= read -r line; do note "$line"; done
}

case "${1:-run}" in
  run) run ;;
  profile-setup)
    [ $# -ge 4 ] || die "usage: $0 profile-setup DIR ADDR PORT [hosts|whoami]"
    mkdir -p "$2"; BENCH_ADDR=$3
    generate "$2"
    printf 'COREFILE=%q\nQFILE=%q\nREADY_NAME=%q\n' "$(corefile "${5:-hosts}" "$2" "$3" "$4")" "$2/queries.txt" "$READY_NAME"
    ;;
  *) die "usage: $0 run | profile-setup DIR ADDR PORT [hosts|whoami]" ;;
esac
