#!/usr/bin/env bash
# Where does clusterdns spend its time? Runs it under `node --cpu-prof` during
# one closed-loop dnsperf run of a scenario and prints the top functions by
# self time (plus time by category and by file).
#
# usage: bash bench/profile.sh [SCENARIO [VARIANT]]     (default: auth hosts)
#   e.g. bash bench/profile.sh auth whoami
#        bash bench/profile.sh resolver hit    (cache hits: forward + cache, hot names looped)
#        bash bench/profile.sh resolver miss   (cache misses: PROFILE_MISS_NAMES distinct names, one pass)
#        DURATION=20 TOP=40 bash bench/profile.sh auth
# Builds nothing: run `npx tsc -p tsconfig.json` first (npm run bench does).
# Knobs: DURATION (10), WARMUP (1), TOP (25), PIN/SERVER_CPU/LOADGEN_CPU,
# CLUSTERDNS_CMD (node bin/clusterdns; any command that runs `node` from PATH
# works: a shim first in PATH adds --cpu-prof), KEEP.
# The .cpuprofile is copied to bench/results/ (open it in Chrome DevTools ->
# Performance, or VS Code). The server is stopped with SIGTERM; a preloaded
# handler (tools/exit-on-signal.cjs) turns that into process.exit() unless the
# server handles SIGTERM itself, so the profile gets written either way.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
cd "$REPO_DIR"

SCENARIO=${1:-auth}
VARIANT=${2:-}
: "${TOP:=25}"
[ -f "$BENCH_DIR/scenarios/$SCENARIO.sh" ] || die "no scenario '$SCENARIO' in bench/scenarios/"
need_tools dnsperf dig taskset node

WORK=$(mktemp -d "${TMPDIR:-/tmp}/clusterdns-prof.XXXXXX")
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  cleanup_started
  if [ "$KEEP" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
trap 'exit 141' PIPE   # e.g. piped into head: still clean up
export BENCH_TMP=$WORK

next_port; port=$FREE_PORT
COREFILE="" QFILE="" READY_NAME=""
# optional (resolver): an upstream to start first, and warm-up / measured-run shapes
UPSTREAM_CMD=() UPSTREAM_CPU=${UPSTREAM_CPU:-}
WARM_QFILE="" WARM_RUNS="" MEASURE_RUNS="" MEASURE_LIMIT=""
setup=$(bash "$BENCH_DIR/scenarios/$SCENARIO.sh" profile-setup "$WORK/data" "$BENCH_ADDR" "$port" ${VARIANT:+"$VARIANT"})
eval "$setup"
if [ ! -r "$COREFILE" ] || [ ! -r "$QFILE" ] || [ -z "$READY_NAME" ]; then die "scenario $SCENARIO gave no profile setup"; fi

up_pid=""
if [ "${#UPSTREAM_CMD[@]}" -gt 0 ]; then
  log "starting the upstream on $UPSTREAM_ADDR:$UPSTREAM_PORT"
  launch "$UPSTREAM_CPU" "$WORK/upstream.log" "${UPSTREAM_CMD[@]}"
  up_pid=$LAUNCHED_PID
  rc=0
  wait_ready "$UPSTREAM_ADDR" "$UPSTREAM_PORT" "$READY_NAME" 120 "$up_pid" || rc=$?
  if [ "$rc" != 0 ]; then tail -n 20 "$WORK/upstream.log" >&2; die "the upstream did not answer '$READY_NAME A'"; fi
  pin_tree "$up_pid" "$UPSTREAM_CPU"
fi

mkdir -p "$WORK/prof"
# node refuses --cpu-prof in NODE_OPTIONS, so a "node" shim first in PATH adds
# the flags to whichever node the command line (or a wrapper script) runs.
real_node=$(command -v node)
mkdir -p "$WORK/bin"
printf '#!/bin/sh\nexec %q --cpu-prof --cpu-prof-dir=%q --require=%q "$@"\n' \
  "$real_node" "$WORK/prof" "$BENCH_DIR/tools/exit-on-signal.cjs" > "$WORK/bin/node"
chmod +x "$WORK/bin/node"
log "profiling \`$CLUSTERDNS_CMD -conf $COREFILE\` ($SCENARIO ${VARIANT:-default}) for ${DURATION}s on $BENCH_ADDR:$port"
# shellcheck disable=SC2086  # CLUSTERDNS_CMD is a command line
launch "$SERVER_CPU" "$WORK/server.log" env PATH="$WORK/bin:$PATH" $CLUSTERDNS_CMD -conf "$COREFILE"
pid=$LAUNCHED_PID
rc=0
wait_ready "$BENCH_ADDR" "$port" "$READY_NAME" "$READY_SECS" "$pid" || rc=$?
if [ "$rc" != 0 ]; then
  tail -n 20 "$WORK/server.log" >&2
  if [ "$rc" = 2 ]; then die "the server exited before answering (output above)"; fi
  die "the server did not answer '$READY_NAME A' with NOERROR within ${READY_SECS}s"
fi
pin_tree "$pid" "$SERVER_CPU"
if [ -n "$WARM_QFILE" ]; then
  warm_desc="warm-up: ${WARM_RUNS:-?} pass(es) over $(wc -l < "$WARM_QFILE") queries ($(basename "$WARM_QFILE"))"
  QPS_LIMIT="" MAX_RUNS=$WARM_RUNS dnsperf_measure "$BENCH_ADDR" "$port" "$WARM_QFILE" "$DURATION" > /dev/null
elif [ "$WARMUP" != 0 ]; then
  warm_desc="${WARMUP}s warm-up"
  QPS_LIMIT="" dnsperf_measure "$BENCH_ADDR" "$port" "$QFILE" "$WARMUP" > /dev/null
else
  warm_desc="no warm-up"
fi
load_desc="closed loop ${MEASURE_LIMIT:-$DURATION}s"
[ -n "$MEASURE_RUNS" ] && load_desc="closed loop, $MEASURE_RUNS pass(es) over $(wc -l < "$QFILE") queries ($(basename "$QFILE")), at most ${MEASURE_LIMIT:-$DURATION}s"
line=$(SERVER_PID=$pid UPSTREAM_PID=$up_pid QPS_LIMIT="" MAX_RUNS=$MEASURE_RUNS dnsperf_measure "$BENCH_ADDR" "$port" "$QFILE" "${MEASURE_LIMIT:-$DURATION}")

exit_how="exited on SIGTERM"
if ! GRACE_S=10 unstart "$pid" TERM; then exit_how="did NOT exit within 10 s of SIGTERM (killed; no profile)"; fi
if grep -q '^\[bench exit-on-signal\]' "$WORK/server.log"; then
  exit_how+=" (it has no SIGTERM handler of its own: the preloaded tools/exit-on-signal.cjs exited)"
elif [ "$exit_how" = "exited on SIGTERM" ]; then
  exit_how+=" (its own handler)"
fi
prof=$(find "$WORK/prof" -name '*.cpuprofile' -size +0 | head -n 1)

echo
echo "### CPU profile: $SCENARIO ${VARIANT:-(default variant)}, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- machine: $(machine_desc); node $(node --version); commit $(bench_commit)"
echo "- server: \`$CLUSTERDNS_CMD -conf $(basename "$COREFILE")\` under --cpu-prof, pinned: $([ "$PIN" = 1 ] && echo "server CPU $SERVER_CPU, dnsperf CPU $LOADGEN_CPU" || echo no); $exit_how"
if [ -n "$up_pid" ]; then unstart "$up_pid" || true; fi
echo "- load: $load_desc after $warm_desc: qps=$(kv "$line" qps) completed=$(kv "$line" completed) p50_ms=$(kv "$line" p50_ms) p99_ms=$(kv "$line" p99_ms) server_us_per_q=$(kv "$line" srv_us_per_q) server_cpu_pct=$(kv "$line" srv_cpu_pct) rcodes=$(kv "$line" rcodes) (the profiler itself costs a few %)"
echo "- the profile covers the whole process life (startup and warm-up included)"
echo
if [ -z "$prof" ]; then
  echo "No .cpuprofile was written. Server output:"; tail -n 20 "$WORK/server.log"
  exit 1
fi
node "$BENCH_DIR/tools/cpuprofile-top.mjs" "$prof" "$TOP" "$REPO_DIR"
mkdir -p "$BENCH_DIR/results"
out="$BENCH_DIR/results/profile-$(date -u +%Y%m%dT%H%M%SZ)-$SCENARIO${VARIANT:+-$VARIANT}.cpuprofile"
cp "$prof" "$out"
echo
echo "profile: ${out#"$REPO_DIR"/} (Chrome DevTools > Performance > Load profile)"
