#!/usr/bin/env bash
# Scenario "kube": the cluster-DNS role against a (fake) Kubernetes API server.
# Issue targets, each printed as PASS/FAIL under the table:
#   scale       5,000 nodes' size cluster (150,000 pods, 8,200 services + EndpointSlices) through
#               the fake API server in its own process: initial sync time and resident memory
#               after sync, RSS <= KUBE_RSS_INSECURE_MB (130) with pods not watched (`pods
#               insecure`) and <= KUBE_RSS_VERIFIED_MB (270) with `pods verified`; closed-loop
#               QPS for cluster names >= the QPS of `hosts` answers in the same run: the A names of
#               the query mix (ClusterIP, headless, endpoint names), answered by `hosts` from a file
#               holding those names with the same addresses (same query file, same reply sizes);
#               the whole mix (with SRV and PTR, which hosts cannot answer alike) is reported too.
#               The hosts server runs throughout; for each variant the two are measured alternately,
#               A hosts A hosts (rows closed-A, clusterdns-hosts paired-MODE), and the means compared:
#               a shared machine's speed drifts
#   propagation a Service created / deleted in the API answers / stops answering within
#               KUBE_PROP_TARGET_MS (100) of the watch event: p50/p99/max over KUBE_PROP_CHANGES
#               (1,000) changes (bench/kube-propagation.mjs)
#   outage      the API server away for KUBE_OUTAGE_S (30) s under KUBE_OUTAGE_QPS (1,000) QPS:
#               no query fails; the changes made meanwhile answer within KUBE_CATCHUP_MS (1,000)
#               of its return (bench/kube-outage.mjs)
#
# usage (through run-all.sh): SCENARIOS=kube bash bench/run-all.sh
# Knobs: KUBE_PARTS ("scale propagation outage"), KUBE_VARIANTS ("insecure verified"),
# KUBE_NAMES (4000), KUBE_PODS/KUBE_SERVICES/KUBE_NODES (150000/8200/5000), KUBE_SYNC_SECS (300),
# KUBE_SETTLE_S (3), KUBE_RSS_INSECURE_MB (130), KUBE_RSS_VERIFIED_MB (270),
# KUBE_PROP_CHANGES (1000), KUBE_PROP_TARGET_MS (100), KUBE_PROP_CLUSTER (scale|spec),
# KUBE_PROP_LOAD_QPS (20000: a second propagation run under a dnsperf load of that rate; 0 = none),
# KUBE_OUTAGE_S (30), KUBE_OUTAGE_QPS (1000), KUBE_OUTAGE_CLUSTER (scale|spec),
# KUBE_OUTAGE_COMPACT (0; 1: history compacted during the outage → 410 + relist on return),
# KUBE_CATCHUP_MS (1000), KUBE_PART_LIMIT_S (900: a propagation/outage script running longer is
# stopped).
set -euo pipefail
SCENARIO=kube
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"

: "${KUBE_PARTS:=scale propagation outage}"
: "${KUBE_VARIANTS:=insecure verified}"
: "${KUBE_NAMES:=4000}"
: "${KUBE_PODS:=150000}"
: "${KUBE_SERVICES:=8200}"
: "${KUBE_NODES:=5000}"
: "${KUBE_SYNC_SECS:=300}"
: "${KUBE_SETTLE_S:=3}"
: "${KUBE_RSS_INSECURE_MB:=130}"
: "${KUBE_RSS_VERIFIED_MB:=270}"
: "${KUBE_PROP_CHANGES:=1000}"
: "${KUBE_PROP_TARGET_MS:=100}"
: "${KUBE_PROP_CLUSTER:=scale}"
: "${KUBE_PROP_LOAD_QPS:=20000}"
: "${KUBE_OUTAGE_S:=30}"
: "${KUBE_OUTAGE_QPS:=1000}"
: "${KUBE_OUTAGE_CLUSTER:=scale}"
: "${KUBE_OUTAGE_COMPACT:=0}"
: "${KUBE_CATCHUP_MS:=1000}"
: "${KUBE_PART_LIMIT_S:=900}"
ZONE=cluster.local
# the hosts comparison serves the cluster names themselves
HOSTS_ZONE=$ZONE

# corefile_kube VARIANT FILE ADDR PORT URL: the stock kubernetes options (ttl 30, pods MODE), no
# cache (the lookups themselves are measured), no fallthrough/forward (every query is in the zones)
corefile_kube() {
  cat > "$2" <<EOF
.:$4 {
    bind $3
    kubernetes $ZONE in-addr.arpa ip6.arpa {
        endpoint $5
        pods $1
        ttl 30
        startup_timeout ${KUBE_SYNC_SECS}s
    }
}
EOF
}
# corefile_hosts FILE ADDR PORT HOSTSFILE: as the auth scenario's clusterdns-hosts
corefile_hosts() {
  cat > "$1" <<EOF
$HOSTS_ZONE:$3 {
    bind $2
    hosts $4 $HOSTS_ZONE {
        no_reverse
        reload 0
    }
}
EOF
}

# wait_file FILE SECS PID: until FILE exists (0), PID died (2) or SECS passed (1)
wait_file() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    [ -s "$1" ] && return 0
    alive "$3" || return 2
    sleep 0.1
  done
  return 1
}
# wait_grep FILE REGEX SECS PID: until FILE has a line matching REGEX (0), PID died (2), SECS (1)
wait_grep() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -Eq "$2" "$1" 2>/dev/null && return 0
    alive "$4" || return 2
    sleep 0.1
  done
  return 1
}
# wait_exit PID SECS: until PID exits (0) or SECS passed (1)
wait_exit() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    alive "$1" || return 0
    sleep 0.1
  done
  return 1
}
ms_now() { echo $(($(date +%s%N) / 1000000)); }

declare -A DESCRIBED=()
describe_once() {
  [ -z "${DESCRIBED[$1]:-}" ] || return 0
  DESCRIBED[$1]=1
  echo "$2" >> "$DESC_FILE"
}

# ---- scale: sync time, RSS after sync, QPS vs hosts ---------------------------
kube_scale() {
  local d=$SCENARIO_DIR/scale-$RUN api_pid url kready hready v port cf pid rc t0 t1 sync_ms rss hwm line try wl qf hport round hpid=""
  mkdir -p "$d"
  # the API server on the load generator's CPU (idle during the DNS load), never counted as the server.
  # --no-memory-reducer: else V8 shrinks its ~450 MB heap with three full GCs some 20 s after the
  # initial lists (~0.9 s of CPU, measured), which starve dnsperf on that CPU in the middle of a run
  launch "$LOADGEN_CPU" "$d/api.log" node --no-memory-reducer "$BENCH_DIR/servers/fake-apiserver.mjs" "$d" \
    --names "$KUBE_NAMES" --pods "$KUBE_PODS" --services "$KUBE_SERVICES" --nodes "$KUBE_NODES"
  api_pid=$LAUNCHED_PID
  rc=0; wait_file "$d/api.url" 300 "$api_pid" || rc=$?
  if [ "$rc" != 0 ]; then
    note "$SCENARIO: the fake API server did not come up (rc $rc); last lines:"; tail -n 15 "$d/api.log" | sed 's/^/    /' >> "$NOTES_FILE"
    record fake-apiserver load "$RUN" "failed=not_ready"; unstart "$api_pid" || true; return 1
  fi
  url=$(cat "$d/api.url"); kready=$(cat "$d/kube-ready-name"); hready=$(cat "$d/hosts-ready-name")
  describe_once scale "kube: fake API server (own process, CPU ${LOADGEN_CPU:-any}): $(head -n 1 "$d/api.log"); cluster query file: $(wc -l < "$d/kube-queries.txt") distinct names ($(cat "$d/kube-mix.txt")), A-name query file (cluster and hosts): $(wc -l < "$d/kube-queries-a.txt") names; clusterdns: \`kubernetes $ZONE in-addr.arpa ip6.arpa { endpoint URL; pods MODE; ttl 30 }\`, no cache; closed-A and clusterdns-hosts \`paired-MODE\` rows: the kubernetes and the hosts server (the same names and addresses from a hosts file) measured alternately, A hosts A hosts, same query file; their ratio is of the means"
  # hosts: the same A names and addresses; started once, idle until its turns after each variant's
  # closed-A runs (alternating: a shared machine's speed drifts)
  next_port; hport=$FREE_PORT
  corefile_hosts "$d/hosts.Corefile" "$BENCH_ADDR" "$hport" "$d/hosts"
  # shellcheck disable=SC2086
  launch "$SERVER_CPU" "$d/hosts.log" $CLUSTERDNS_CMD -conf "$d/hosts.Corefile"
  hpid=$LAUNCHED_PID
  rc=0; wait_ready "$BENCH_ADDR" "$hport" "$hready" "$READY_SECS" "$hpid" || rc=$?
  if [ "$rc" != 0 ]; then
    note "$SCENARIO/clusterdns-hosts: did not answer '$hready'"; tail -n 15 "$d/hosts.log" | sed 's/^/    /' >> "$NOTES_FILE"
    unstart "$hpid" || true; hpid=""
  else
    pin_tree "$hpid" "$SERVER_CPU"
  fi
  for v in $KUBE_VARIANTS; do
    # a port can be taken between the check and the bind (a shared box): retry on EADDRINUSE
    for try in 1 2 3; do
      next_port; port=$FREE_PORT
      cf=$d/kube-$v.Corefile
      corefile_kube "$v" "$cf" "$BENCH_ADDR" "$port" "$url"
      t0=$(ms_now)
      # shellcheck disable=SC2086  # CLUSTERDNS_CMD is a command line
      launch "$SERVER_CPU" "$d/kube-$v.log" $CLUSTERDNS_CMD -conf "$cf"
      pid=$LAUNCHED_PID
      rc=0; wait_grep "$d/kube-$v.log" 'Kubernetes API synced in|starting server with unsynced' "$KUBE_SYNC_SECS" "$pid" || rc=$?
      if [ "$rc" = 0 ] && grep -q 'starting server with unsynced' "$d/kube-$v.log"; then rc=3; fi
      if [ "$rc" = 0 ]; then wait_ready "$BENCH_ADDR" "$port" "$kready" 30 "$pid" || rc=$?; fi
      if [ "$rc" != 0 ] && grep -q EADDRINUSE "$d/kube-$v.log" && [ "$try" -lt 3 ]; then
        log "clusterdns-kube-$v: port $port taken meanwhile; trying the next one"; unstart "$pid" || true; continue
      fi
      break
    done
    t1=$(ms_now)
    if [ "$rc" != 0 ]; then
      note "$SCENARIO/clusterdns-kube-$v: no synced answer for '$kready' (rc $rc); last lines:"; tail -n 15 "$d/kube-$v.log" | sed 's/^/    /' >> "$NOTES_FILE"
      record "clusterdns-kube-$v" closed "$RUN" "failed=not_ready"; unstart "$pid" || true; continue
    fi
    sync_ms=$(grep -oE 'Kubernetes API synced in [0-9]+ms' "$d/kube-$v.log" | head -n 1 | grep -oE '[0-9]+' || echo -)
    pin_tree "$pid" "$SERVER_CPU"
    sleep "$KUBE_SETTLE_S"
    rss=$(tree_rss_kb "$pid"); hwm=$(tree_hwm_kb "$pid")
    log "pods $v: synced in ${sync_ms} ms, answering $((t1 - t0)) ms after start; after ${KUBE_SETTLE_S}s: VmRSS $((rss / 1024)) MB, VmHWM $((hwm / 1024)) MB"
    # closed: the mix of cluster names; closed-A: its A names, the query file hosts gets (like for like)
    for wl in closed closed-A; do
      qf=$d/kube-queries.txt; [ "$wl" = closed-A ] && qf=$d/kube-queries-a.txt
      wait_idle || log "machine still busy after ${WAIT_IDLE}s; measuring anyway"
      if [ "$WARMUP" != 0 ]; then QPS_LIMIT="" dnsperf_measure "$BENCH_ADDR" "$port" "$qf" "$WARMUP" > /dev/null; fi
      line=$(SERVER_PID=$pid QPS_LIMIT="" dnsperf_measure "$BENCH_ADDR" "$port" "$qf" "$DURATION")
      if ! alive "$pid"; then line+=" died=1"; note "$SCENARIO/clusterdns-kube-$v: exited during the load"; fi
      if [ "$wl" = closed ]; then line+=" sync_ms=$sync_ms ready_ms=$((t1 - t0)) sync_rss_kb=$rss sync_hwm_kb=$hwm"; fi
      record "clusterdns-kube-$v" "$wl" "$RUN" "$line"
    done
    # like for like with hosts, alternating (kube A, hosts, kube A, hosts: drift cancels out)
    if [ -z "$hpid" ]; then
      record clusterdns-hosts "paired-$v" "$RUN" "failed=not_ready"
    else
      for round in 1 2; do
        if [ "$round" = 2 ]; then
          wait_idle || true
          if [ "$WARMUP" != 0 ]; then QPS_LIMIT="" dnsperf_measure "$BENCH_ADDR" "$port" "$d/kube-queries-a.txt" "$WARMUP" > /dev/null; fi
          line=$(SERVER_PID=$pid QPS_LIMIT="" dnsperf_measure "$BENCH_ADDR" "$port" "$d/kube-queries-a.txt" "$DURATION")
          if ! alive "$pid"; then line+=" died=1"; fi
          record "clusterdns-kube-$v" closed-A "$RUN" "$line"
        fi
        wait_idle || true
        if [ "$WARMUP" != 0 ]; then QPS_LIMIT="" dnsperf_measure "$BENCH_ADDR" "$hport" "$d/hosts-queries.txt" "$WARMUP" > /dev/null; fi
        line=$(SERVER_PID=$hpid QPS_LIMIT="" dnsperf_measure "$BENCH_ADDR" "$hport" "$d/hosts-queries.txt" "$DURATION")
        if ! alive "$hpid"; then line+=" died=1"; fi
        record clusterdns-hosts "paired-$v" "$RUN" "$line"
      done
    fi
    unstart "$pid" || note "$SCENARIO/clusterdns-kube-$v: did not exit within ${GRACE_S:-5}s of SIGTERM (killed)"
  done
  if [ -n "$hpid" ]; then unstart "$hpid" || true; fi
  unstart "$api_pid" || true
}

# run_script NAME LOGFILE ARGS...: a bench/kube-*.mjs script on the load generator's CPU, bounded
# by KUBE_PART_LIMIT_S; sets RESULT_LINE to its RESULT line (empty if none). Not to be called in
# a subshell (the EXIT trap must know the PID).
RESULT_LINE=""
run_script() {
  local name=$1 logf=$2 pid; shift 2
  launch "$LOADGEN_CPU" "$logf" env CLUSTERDNS_CMD="$CLUSTERDNS_CMD" node "$@"
  pid=$LAUNCHED_PID
  if ! wait_exit "$pid" "$KUBE_PART_LIMIT_S"; then
    note "$SCENARIO/$name: still running after ${KUBE_PART_LIMIT_S}s; stopped"
  fi
  unstart "$pid" || true
  RESULT_LINE=$(grep -E '^RESULT ' "$logf" | tail -n 1 | sed 's/^RESULT //' || true)
}

kube_propagation() {
  local d res load wl extra rc=0 loads=0
  if [ "${KUBE_PROP_LOAD_QPS:-0}" != 0 ]; then loads="0 $KUBE_PROP_LOAD_QPS"; fi
  for load in $loads; do
    d=$SCENARIO_DIR/propagation-$RUN-$load; mkdir -p "$d"
    wl=propagation; extra=()
    if [ "$load" != 0 ]; then wl="propagation@$load"; extra=(--load-qps "$load" --load-cpu "${LOADGEN_CPU:-}"); fi
    log "$wl: $KUBE_PROP_CHANGES changes, $KUBE_PROP_CLUSTER cluster"
    run_script "$wl" "$d/out.log" "$BENCH_DIR/kube-propagation.mjs" --changes "$KUBE_PROP_CHANGES" \
      --cluster "$KUBE_PROP_CLUSTER" --target-ms "$KUBE_PROP_TARGET_MS" --server-cpu "${SERVER_CPU:-}" --dir "$d" "${extra[@]+"${extra[@]}"}"
    res=$RESULT_LINE
    if [ -z "$res" ]; then
      note "$SCENARIO/$wl: no result; last lines:"; tail -n 15 "$d/out.log" | sed 's/^/    /' >> "$NOTES_FILE"
      record clusterdns-kube-insecure "$wl" "$RUN" "failed=no_result"; rc=1; continue
    fi
    record clusterdns-kube-insecure "$wl" "$RUN" "$(echo "$res" | sed 's/\([a-z0-9_]*\)=/prop_\1=/g')"
    grep -E '^missed: ' "$d/out.log" | head -n 5 | sed "s/^/$SCENARIO run $RUN $wl /" >> "$NOTES_FILE" || true
  done
  describe_once propagation "kube propagation: bench/kube-propagation.mjs, $KUBE_PROP_CLUSTER cluster + §15 fixture, clusterdns CLI (pods insecure) on CPU ${SERVER_CPU:-any}, the API server and the UDP poller (back-to-back queries) in one process on CPU ${LOADGEN_CPU:-any}; the propagation@$KUBE_PROP_LOAD_QPS row: the same with dnsperf sending $KUBE_PROP_LOAD_QPS QPS of §15 names meanwhile (on CPU ${LOADGEN_CPU:-any})"
  return "$rc"
}

kube_outage() {
  local d=$SCENARIO_DIR/outage-$RUN res extra=()
  mkdir -p "$d"
  [ "$KUBE_OUTAGE_COMPACT" = 1 ] && extra=(--compact)
  log "outage: API away ${KUBE_OUTAGE_S}s under ${KUBE_OUTAGE_QPS} QPS, $KUBE_OUTAGE_CLUSTER cluster"
  run_script outage "$d/out.log" "$BENCH_DIR/kube-outage.mjs" --outage-s "$KUBE_OUTAGE_S" --qps "$KUBE_OUTAGE_QPS" \
    --cluster "$KUBE_OUTAGE_CLUSTER" --catch-up-ms "$KUBE_CATCHUP_MS" --server-cpu "${SERVER_CPU:-}" --dir "$d" "${extra[@]+"${extra[@]}"}"
  res=$RESULT_LINE
  describe_once outage "kube outage: bench/kube-outage.mjs, $KUBE_OUTAGE_CLUSTER cluster + §15 fixture, a paced UDP load over 8 §15 names with known answers (lost = no reply within 2 s)"
  if [ -z "$res" ]; then
    note "$SCENARIO/outage: no result; last lines:"; tail -n 15 "$d/out.log" | sed 's/^/    /' >> "$NOTES_FILE"
    record clusterdns-kube-insecure outage "$RUN" "failed=no_result"; return 1
  fi
  record clusterdns-kube-insecure outage "$RUN" "$(echo "$res" | sed 's/\([a-z0-9_]*\)=/outage_\1=/g')"
  grep -E '^failed query: ' "$d/out.log" | head -n 5 | sed "s/^/$SCENARIO run $RUN outage /" >> "$NOTES_FILE" || true
}

run() {
  if [ -z "${RESULTS_TSV:-}" ] || [ -z "${NOTES_FILE:-}" ] || [ -z "${SCENARIO_DIR:-}" ]; then
    die "run it through run-all.sh: SCENARIOS=kube bash bench/run-all.sh"
  fi
  need_tools dnsperf dig taskset node
  [ -f "$REPO_DIR/dist/test/helpers/kube-bench.js" ] || die "dist/ is missing the test helpers: run npx tsc -p tsconfig.json (npm run bench does)"
  mkdir -p "$SCENARIO_DIR"
  trap cleanup_started EXIT
  trap 'exit 130' INT TERM HUP PIPE
  local run part status=0
  for run in $(seq "$REPEAT"); do
    export RUN=$run
    for part in $KUBE_PARTS; do
      case "$part" in
        scale) kube_scale || status=1 ;;
        propagation) kube_propagation || status=1 ;;
        outage) kube_outage || status=1 ;;
        *) note "$SCENARIO: unknown part '$part' in KUBE_PARTS (scale propagation outage)" ;;
      esac
    done
  done
  checks
  return "$status"
}

# The issue's targets, per run, from the rows just recorded.
checks() {
  awk -F'\t' -v sc="$SCENARIO" -v rin="$KUBE_RSS_INSECURE_MB" -v rver="$KUBE_RSS_VERIFIED_MB" -v ptarget="$KUBE_PROP_TARGET_MS" \
      -v ctarget="$KUBE_CATCHUP_MS" -v warn="$OTHER_CPU_WARN" -v variants="$KUBE_VARIANTS" '
    function kv(line, key,   n, a, i) { n = split(line, a, " "); for (i = 1; i <= n; i++) if (index(a[i], key "=") == 1) return substr(a[i], length(key) + 2); return "" }
    function unrel(o) { return (o + 0 > warn) ? sprintf(" (UNRELIABLE: other processes used %d%% CPU meanwhile)", o) : "" }
    $1 != sc { next }
    { runs[$4] = 1 }
    $3 == "closed" { ki[$2, $4] = kv($5, "srv_kinstr_per_q"); us[$2, $4] = kv($5, "srv_us_per_q"); q[$2, $4] = kv($5, "qps"); f[$2, $4] = kv($5, "failed"); o[$2, $4] = kv($5, "other_cpu_pct")
                     s[$2, $4] = kv($5, "sync_ms"); rd[$2, $4] = kv($5, "ready_ms"); rss[$2, $4] = kv($5, "sync_rss_kb"); hwm[$2, $4] = kv($5, "sync_hwm_kb"); seen[$2, $4] = 1 }
    # closed-A and paired-MODE come twice each (alternating): averaged
    $3 == "closed-A" { if (kv($5, "failed") != "") { fa[$2, $4] = kv($5, "failed"); next }
                       qa[$2, $4] += kv($5, "qps"); usa[$2, $4] += kv($5, "srv_us_per_q"); kia[$2, $4] += kv($5, "srv_kinstr_per_q"); na[$2, $4]++
                       if (kv($5, "other_cpu_pct") + 0 > oa[$2, $4] + 0) oa[$2, $4] = kv($5, "other_cpu_pct") }
    $2 == "clusterdns-hosts" && $3 ~ /^paired-/ { hv = substr($3, 8); if (kv($5, "failed") != "") { hf[hv, $4] = kv($5, "failed"); next }
                       hq[hv, $4] += kv($5, "qps"); hus[hv, $4] += kv($5, "srv_us_per_q"); hki[hv, $4] += kv($5, "srv_kinstr_per_q"); hn[hv, $4]++
                       if (kv($5, "other_cpu_pct") + 0 > ho[hv, $4] + 0) ho[hv, $4] = kv($5, "other_cpu_pct"); next }
    $3 ~ /^propagation/ { prop[$4, $3] = $5; pw[$4] = pw[$4] " " $3 }
    $3 == "outage" { out[$4] = $5 }
    END {
      nv = split(variants, vs, " ")
      for (r in runs) {
        for (i = 1; i <= nv; i++) {
          v = vs[i]; k = "clusterdns-kube-" v; lim = (v == "verified") ? rver : rin
          if (!((k, r) in seen)) continue
          if (f[k, r] != "") { printf "kube run %s: pods %s: sync / RSS after sync: NOT MEASURED (%s)\n", r, v, f[k, r]; continue }
          m = rss[k, r] / 1024; h = hwm[k, r] / 1024
          printf "kube run %s: pods %s: initial sync %s ms (answering %s ms after start); RSS after sync %.0f MB (VmRSS; VmHWM %.0f MB) (target <= %d MB): %s\n", \
            r, v, s[k, r], rd[k, r], m, h, lim, (m <= lim ? "PASS" : "FAIL")
        }
        for (i = 1; i <= nv; i++) {
          v = vs[i]; k = "clusterdns-kube-" v
          if (!((k, r) in seen)) continue
          if (fa[k, r] != "" || na[k, r] + 0 == 0 || hf[v, r] != "" || hn[v, r] + 0 == 0) { printf "kube run %s: pods %s: cluster-name QPS >= hosts QPS: NOT MEASURED\n", r, v; continue }
          ka = qa[k, r] / na[k, r]; h = hq[v, r] / hn[v, r]
          if (h <= 0) { printf "kube run %s: pods %s: cluster-name QPS >= hosts QPS: NOT MEASURED\n", r, v; continue }
          x = ka / h; ob = (oa[k, r] + 0 > ho[v, r] + 0) ? oa[k, r] : ho[v, r]
          printf "kube run %s: pods %s: cluster-name QPS (A names of the mix) = %.2fx hosts answering the same names (mean of %d alternating runs each: %d vs %d; server CPU %.2f vs %.2f µs/query; target >= 1.0x): %s%s\n", r, v, x, na[k, r], ka, h, usa[k, r] / na[k, r], hus[v, r] / hn[v, r], (x >= 1.0 ? "PASS" : "FAIL"), unrel(ob)
          if (kia[k, r] > 0 && hki[v, r] > 0) printf "kube run %s: pods %s: (info) server instructions per query, A names: %.2f k vs hosts %.2f k (%.3fx; not moved by other tenants)\n", r, v, kia[k, r] / na[k, r], hki[v, r] / hn[v, r], (kia[k, r] / na[k, r]) / (hki[v, r] / hn[v, r])
          if (f[k, r] == "") printf "kube run %s: pods %s: (info) the whole mix (A, SRV, PTR): %.2fx hosts (%d vs %d; server CPU %s µs/query)\n", r, v, q[k, r] / h, q[k, r], h, us[k, r]
        }
        nw = split(pw[r], ws, " ")
        for (j = 1; j <= nw; j++) {
          l = prop[r, ws[j]]; lbl = (ws[j] == "propagation") ? "propagation" : "propagation under a " substr(ws[j], 13) " QPS query load"
          if (kv(l, "failed") != "") printf "kube run %s: %s: NOT MEASURED (%s)\n", r, lbl, kv(l, "failed")
          else printf "kube run %s: %s over %s changes: event -> answer p50 %s ms, p99 %s ms, max %s ms (creates p50/p99 %s/%s ms, deletes %s/%s ms), %s not seen (target: within %s ms): %s\n", \
            r, lbl, kv(l, "prop_n"), kv(l, "prop_p50_ms"), kv(l, "prop_p99_ms"), kv(l, "prop_max_ms"), kv(l, "prop_create_p50_ms"), kv(l, "prop_create_p99_ms"), \
            kv(l, "prop_delete_p50_ms"), kv(l, "prop_delete_p99_ms"), kv(l, "prop_missed"), ptarget, (kv(l, "prop_pass") == "1" ? "PASS" : "FAIL")
        }
        if (r in out) {
          l = out[r]
          if (kv(l, "failed") != "") { printf "kube run %s: outage: NOT MEASURED (%s)\n", r, kv(l, "failed"); continue }
          nf = kv(l, "outage_failed") + 0
          printf "kube run %s: API away %s s under %s QPS: %s queries, %d failed (%s lost, %s SERVFAIL, %s wrong) (target 0): %s\n", \
            r, kv(l, "outage_outage_s"), kv(l, "outage_qps"), kv(l, "outage_sent"), nf, kv(l, "outage_timeouts"), kv(l, "outage_servfail"), kv(l, "outage_wrong"), (nf == 0 && kv(l, "outage_sent") + 0 > 0 ? "PASS" : "FAIL")
          cu = kv(l, "outage_catch_up_ms")
          printf "kube run %s: changes made while the API was away answered %s ms after its return (target <= %s ms): %s\n", r, cu, ctarget, (cu != "nan" && cu + 0 <= ctarget ? "PASS" : "FAIL")
        }
      }
    }' "$RESULTS_TSV" | sort | while IFS= read -r line; do note "$line"; done
}

case "${1:-run}" in
  run) run ;;
  *) die "usage: $0 run" ;;
esac
