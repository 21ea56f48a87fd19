#!/usr/bin/env bash
# Run the load-benchmark scenarios (bench/scenarios/<name>.sh) and print one
# markdown table; also write it to bench/results/<timestamp>.md and the raw
# key=value rows to bench/results/<timestamp>.tsv.
#
# usage: bash bench/run-all.sh            (npm run bench: tsc first, then this)
#        SCENARIOS="auth" DURATION=5 bash bench/run-all.sh
# Knobs: see bench/README.md and the top of bench/lib.sh.
# Exit status: 0 if every server of every scenario was measured, 1 otherwise
# (the table is printed either way). Performance targets that are missed are
# reported under the table but do not change the exit status.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
cd "$REPO_DIR"   # CLUSTERDNS_CMD is relative to the repo root

: "${SCENARIOS:=all}"
if [ "$SCENARIOS" = all ]; then
  SCENARIOS=$(for f in "$BENCH_DIR"/scenarios/*.sh; do basename "$f" .sh; done | sort | paste -sd ' ')
fi
for s in $SCENARIOS; do
  [ -f "$BENCH_DIR/scenarios/$s.sh" ] || die "no scenario '$s' in bench/scenarios/"
done
need_tools dnsperf dig taskset awk ss getconf

WORK=$(mktemp -d "${TMPDIR:-/tmp}/clusterdns-bench.XXXXXX")
# dnsperf's per-answer output goes to memory, not disk (see dnsperf_measure in lib.sh)
BENCH_SHM=""
if [ -d /dev/shm ] && [ -w /dev/shm ]; then BENCH_SHM=$(mktemp -d /dev/shm/clusterdns-bench.XXXXXX) || BENCH_SHM=""; fi
export BENCH_SHM
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  if [ -n "$BENCH_SHM" ]; then rm -rf "$BENCH_SHM"; fi
  if [ "$KEEP" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
# a scenario runs as a child; on INT/TERM stop it (its own trap stops its servers)
SCEN_PID=""
# shellcheck disable=SC2317  # signal trap
on_signal() {
  if [ -n "$SCEN_PID" ]; then kill -TERM "$SCEN_PID" 2>/dev/null || true; wait "$SCEN_PID" 2>/dev/null || true; fi
  exit 130
}
trap on_signal INT TERM HUP
trap 'exit 141' PIPE   # e.g. piped into head: still clean up

export BENCH_TMP=$WORK   # dnsperf scratch dirs go there too
RESULTS_TSV=$WORK/results.tsv
NOTES_FILE=$WORK/notes.txt
DESC_FILE=$WORK/desc.txt   # scenarios add "- " lines for the report header (versions, data)
: > "$RESULTS_TSV"; : > "$NOTES_FILE"; : > "$DESC_FILE"
export RESULTS_TSV NOTES_FILE DESC_FILE
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
STARTED_AT=$(date -u '+%Y-%m-%d %H:%M UTC')
status=0

for s in $SCENARIOS; do
  log "scenario $s (work dir $WORK/$s)"
  rc=0
  SCENARIO_DIR=$WORK/$s bash "$BENCH_DIR/scenarios/$s.sh" run &
  SCEN_PID=$!
  wait "$SCEN_PID" || rc=$?
  SCEN_PID=""
  if [ "$rc" != 0 ]; then
    echo "scenario $s failed (exit $rc); its rows may be missing" >> "$NOTES_FILE"; status=1
  fi
done

# ---- report -----------------------------------------------------------------
if [ "$PIN" = 1 ]; then
  pinning="yes: server under test on CPU $SERVER_CPU (taskset, all threads), dnsperf on CPU $LOADGEN_CPU"
else
  pinning="no (PIN=0): server and dnsperf float over all CPUs"
fi
show_run=0; [ "$REPEAT" -gt 1 ] && show_run=1
# ratio columns: each scenario's reference server(s) (auth: nsd; resolver: unbound, and dnsmasq)
has_resolver=0; [[ " $SCENARIOS " == *" resolver "* ]] && has_resolver=1
has_auth=0; [[ " $SCENARIOS " == *" auth "* ]] && has_auth=1
if [ "$has_resolver" = 1 ] && [ "$has_auth" = 1 ]; then ref_hdr="ratio vs nsd (auth) / unbound (resolver)"
elif [ "$has_resolver" = 1 ]; then ref_hdr="ratio vs unbound"
else ref_hdr="ratio vs nsd"; fi
{
  echo "### clusterdns load benchmark, $STARTED_AT"
  echo
  echo "- machine: $(machine_desc)"
  echo "- node $(node --version 2>/dev/null || echo '?'), dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ {print $2; exit}'), nsd $(nsd -v 2>&1 | awk 'NR == 1 {print $NF}')"
  echo "- commit: $(bench_commit); clusterdns command: \`$CLUSTERDNS_CMD -conf FILE\`"
  echo "- scenarios: $SCENARIOS; DURATION=${DURATION}s per run (after ${WARMUP}s warm-up), REPEAT=$REPEAT, LAT_QPS=$LAT_QPS, NAMES=${NAMES:-1000}"
  echo "- pinned: $pinning"
  sed 's/^/- /' "$DESC_FILE"
  echo "- dnsperf: \`$(QPS_LIMIT="" MAX_RUNS="" dnsperf_cmd ADDR PORT QUERYFILE "$DURATION")\`; the @$LAT_QPS rows add \`-Q $LAT_QPS\`$([ "$has_resolver" = 1 ] && echo "; resolver: hit rows after \`-n ${WARMUP_PASSES:-3}\` warm-up passes, miss and flood rows one pass \`-n 1\` (\`-l ${MIXED_LIMIT:-30}\` / \`-l ${FLOOD_LIMIT:-120}\`) instead of \`-l $DURATION\`")"
  echo
  hdr="| scenario | server | workload |"; sep="|---|---|---|"
  if [ "$show_run" = 1 ]; then hdr+=" run |"; sep+="---:|"; fi
  r2hdr=""; r2sep=""
  if [ "$has_resolver" = 1 ]; then r2hdr=" ratio vs dnsmasq |"; r2sep="---:|"; fi
  echo "$hdr QPS | $ref_hdr |$r2hdr p50 ms | p99 ms | p99.9 ms | lost | server µs/query | server kinstr/query | server CPU % | dnsperf CPU % | peak RSS MB | other CPU % |"
  echo "$sep---:|---:|$r2sep---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' -v show_run="$show_run" -v r2col="$has_resolver" '
    function kv(line, key,   n, a, i) { n = split(line, a, " "); for (i = 1; i <= n; i++) if (index(a[i], key "=") == 1) return substr(a[i], length(key) + 2); return "-" }
    { row[NR] = $0; sc[NR] = $1; srv[NR] = $2; wl[NR] = $3; run[NR] = $4; line[NR] = $5
      if (kv($5, "failed") == "-" && (($1 == "auth" && $2 == "nsd") || ($1 == "resolver" && $2 == "unbound"))) ref[$1 SUBSEP $3 SUBSEP $4] = kv($5, "qps")
      if (kv($5, "failed") == "-" && $1 == "resolver" && $2 == "dnsmasq") ref2[$1 SUBSEP $3 SUBSEP $4] = kv($5, "qps") }
    END {
      for (i = 1; i <= NR; i++) {
        r = "| " sc[i] " | " srv[i] " | " wl[i] " |"
        if (show_run) r = r " " run[i] " |"
        l = line[i]; f = kv(l, "failed")
        if (f != "-") { print r " failed: " f " | | | | | | | | | | | | |" (r2col ? " |" : ""); continue }
        q = kv(l, "qps"); k = sc[i] SUBSEP wl[i] SUBSEP run[i]
        ratio = (q != "-" && k in ref && ref[k] > 0) ? sprintf("%.2f", q / ref[k]) : "-"
        if (r2col) ratio = ratio " | " ((q != "-" && k in ref2 && ref2[k] > 0) ? sprintf("%.2f", q / ref2[k]) : "-")
        hwm = kv(l, "srv_hwm_kb"); if (hwm != "-") hwm = sprintf("%.1f", hwm / 1024)
        if (kv(l, "died") == "1") q = q " (server died)"
        printf "%s %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r, q, ratio, kv(l, "p50_ms"), kv(l, "p99_ms"), kv(l, "p999_ms"), \
          kv(l, "lost"), kv(l, "srv_us_per_q"), kv(l, "srv_kinstr_per_q"), kv(l, "srv_cpu_pct"), kv(l, "lg_cpu_pct"), hwm, kv(l, "other_cpu_pct")
      }
    }' "$RESULTS_TSV"
  echo
  # rows whose answers were not all NOERROR (a fast SERVFAIL is not a fast answer);
  # rows with rc_expect=RCODE,... (resolver: NOERROR,NXDOMAIN) only flag other rcodes
  awk -F'\t' -v lim="$OTHER_CPU_WARN" '
    { n = split($5, a, " "); exp_rc = "NOERROR"
      for (i = 1; i <= n; i++) if (a[i] ~ /^rc_expect=/) exp_rc = substr(a[i], 11)
      for (i = 1; i <= n; i++) {
        if (a[i] ~ /^rcodes=/) { rc = substr(a[i], 8); bad = 0; nr = split(rc, rs, ",")
          for (j = 1; j <= nr; j++) { split(rs[j], f, ":"); if (index("," exp_rc ",", "," f[1] ",") == 0) bad = 1 }
          if (exp_rc == "NOERROR" && rc != "NOERROR:100.00" && rc != "-") bad = 1
          if (bad) printf "%s/%s %s: response codes %s\n", $1, $2, $3, rc }
        if (a[i] ~ /^other_cpu_pct=/ && substr(a[i], 15) + 0 > lim) { busy++; if (substr(a[i], 15) + 0 > mx) mx = substr(a[i], 15) + 0 }
      } }
    END { if (busy) printf "the machine was not idle: other processes used up to %d%% of a CPU during %d run(s) (column \"other CPU %%\"); those numbers are disturbed, rerun on a quiet machine\n", mx, busy }' "$RESULTS_TSV" > "$WORK/rcodes"
  if [ -s "$NOTES_FILE" ] || [ -s "$WORK/rcodes" ]; then
    echo "Notes:"
    echo
    sed 's/^\([^ ]\)/- \1/' "$NOTES_FILE" "$WORK/rcodes"
    echo
  fi
  echo "QPS: answered queries per second (closed rows: as fast as the server answers with $OUTSTANDING in flight; @$LAT_QPS rows: offered rate, so QPS ≈ $LAT_QPS unless the server falls behind)."
  [ "$has_auth" = 1 ] && echo "ratio vs nsd (auth): QPS / NSD's QPS in the same scenario, workload and run."
  [ "$has_resolver" = 1 ] && echo "ratio vs unbound / vs dnsmasq (resolver): QPS / that forwarder's QPS in the same workload and run (the issue's targets: hit >= 0.6x unbound and >= 1.0x dnsmasq, miss >= 1.0x unbound). resolver rows: hit = ${HOT_NAMES:-1000} names, all cache hits (looped), hit@$LAT_QPS the same at a fixed rate, miss = every query a cache miss forwarded to NSD (one pass over distinct names, cold cache), flood:N = the chunk of the one-pass flood of distinct names ending at N queries (peak RSS column: VmHWM at the end of the chunk; flood:warm = after the warm-up, before the flood). Expected response codes there: NOERROR and NXDOMAIN (1 % in hit/miss, 90 % in the flood)."
  echo "Latency percentiles: dnsperf -v per-answer times (closed-loop latency is mostly queueing, ≈ $OUTSTANDING / QPS; compare latency on the @$LAT_QPS rows)."
  echo "server µs/query: CPU time (user+sys, all threads and child processes) of the server during the run / answered queries; 1e6 / that ≈ what one core could answer. server kinstr/query: thousands of instructions the server retired per answered query (perf stat, user + kernel; "-" where perf has no counters): the figure other tenants of a shared machine hardly move. server CPU %: the same over wall time (100 = one core). dnsperf CPU %: the load generator's (≈100 = dnsperf is the limit). peak RSS: VmHWM summed over the server's processes. other CPU %: user+system CPU of every other process on the machine during the run (should be ~0)."
} > "$WORK/report.md"

if grep -q 'failed=' "$RESULTS_TSV"; then status=1; fi
mkdir -p "$BENCH_DIR/results"
cp "$WORK/report.md" "$BENCH_DIR/results/$STAMP.md"
cp "$RESULTS_TSV" "$BENCH_DIR/results/$STAMP.tsv"
echo
cat "$WORK/report.md"
echo
echo "written: bench/results/$STAMP.md, bench/results/$STAMP.tsv"
exit "$status"
