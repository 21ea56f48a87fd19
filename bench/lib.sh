# Shared helpers for run-all.sh, profile.sh and scenarios/*.sh. Source it; do not run it.
# Adapted from the project's shared harness (../shared/bench/lib.sh) so that
# bench/ works from a plain clone. Every server these scripts start listens on
# 127.0.0.0/8 only, and every dnsperf run is bounded by -l (seconds).
# shellcheck shell=bash

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
export BENCH_DIR REPO_DIR

# ---- knobs (environment), defaults for a 2-core box -------------------------
: "${DURATION:=10}"      # seconds per measured dnsperf run (-l)
: "${WARMUP:=1}"         # seconds of closed-loop load before each measured run (0 = none)
: "${LAT_QPS:=20000}"    # offered rate of the fixed-rate runs (-Q)
: "${REPEAT:=1}"         # every scenario is repeated this many times (rows per repeat)
: "${PIN:=1}"            # 1: server on SERVER_CPU, dnsperf on LOADGEN_CPU
: "${SERVER_CPU:=0}"
: "${LOADGEN_CPU:=1}"    # taskset -c for dnsperf; empty = not pinned
: "${BENCH_ADDR:=127.0.0.1}"
: "${BASE_PORT:=5390}"   # first port tried; each server gets the next free one
: "${KEEP:=0}"           # 1: keep the temp dir
: "${CLUSTERDNS_CMD:=node bin/clusterdns}"   # run from the repo root, gets "-conf FILE"
: "${READY_SECS:=20}"    # how long a server may take to answer its first query
: "${OTHER_CPU_WARN:=10}" # flag runs during which other processes used more CPU % than this
: "${WAIT_IDLE:=0}"      # before each measured run, wait up to this many s for the machine to be idle
# dnsperf
: "${CLIENTS:=4}"        # -c: client sockets (source ports)
: "${THREADS:=1}"        # -T
: "${OUTSTANDING:=100}"  # -q: max queries in flight (closed loop: latency ~= q / qps)
: "${TIMEOUT_S:=2}"      # -t: unanswered this long = lost
: "${QPS_LIMIT:=}"       # -Q: empty = closed loop
: "${MAX_RUNS:=}"        # -n: passes over the query file; empty = loop until -l ends
: "${DNSPERF_EXTRA:=}"   # anything else for dnsperf, word-split
if [ "$PIN" != 1 ]; then SERVER_CPU=""; LOADGEN_CPU=""; fi
export MAX_RUNS DURATION WARMUP LAT_QPS REPEAT PIN SERVER_CPU LOADGEN_CPU BENCH_ADDR BASE_PORT KEEP \
  CLUSTERDNS_CMD READY_SECS OTHER_CPU_WARN WAIT_IDLE CLIENTS THREADS OUTSTANDING TIMEOUT_S DNSPERF_EXTRA

case "$BENCH_ADDR" in
  127.*) ;;
  *) echo "BENCH_ADDR=$BENCH_ADDR: this harness only uses 127.0.0.0/8" >&2; exit 2 ;;
esac

log() { echo "[bench${SCENARIO:+ $SCENARIO}] $*" >&2; }
die() { log "error: $*"; exit 1; }

need_tools() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || die "missing $t (apt-get install dnsperf dnsutils nsd util-linux)"
  done
}

# ---- process trees -----------------------------------------------------------
# All PIDs of a process tree: the root first, then its descendants.
tree_pids() {
  local p c
  for p in "$@"; do
    [ -d "/proc/$p" ] || continue
    echo "$p"
    for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do tree_pids "$c"; done
  done
}

# utime+stime in clock ticks, summed over a process tree (all threads included).
tree_cpu_ticks() {
  local t=0 p v
  for p in $(tree_pids "$1"); do
    # fields after "pid (comm) ": comm may contain spaces ("nsd: server 1")
    v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') || v=0
    t=$((t + ${v:-0}))
  done
  echo "$t"
}

# Peak resident set (VmHWM, KiB) summed over a process tree. For forking
# servers (nsd) pages shared between the processes are counted once per process.
tree_hwm_kb() {
  local t=0 p v
  for p in $(tree_pids "$1"); do
    v=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null) || v=0
    t=$((t + ${v:-0}))
  done
  echo "$t"
}

# Current resident set (VmRSS, KiB) summed over a process tree.
tree_rss_kb() {
  local t=0 p v
  for p in $(tree_pids "$1"); do
    v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null) || v=0
    t=$((t + ${v:-0}))
  done
  echo "$t"
}

# alive PID: the process exists and is not a zombie.
alive() {
  [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# Pin every thread of every process of a tree to one CPU list (no-op if empty).
pin_tree() {
  local p
  [ -n "${2:-}" ] || return 0
  for p in $(tree_pids "$1"); do taskset -a -p -c "$2" "$p" >/dev/null 2>&1 || true; done
}

# Stop a process tree we started: SIGNAL (default TERM) to the root, wait up to
# GRACE_S seconds, then KILL what is left. Returns 0 if the root exited on its own.
stop_tree() {
  local root=$1 sig=${2:-TERM} grace=${GRACE_S:-5} pids p i left=1
  pids=$(tree_pids "$root")
  [ -n "$pids" ] || { wait "$root" 2>/dev/null || true; return 0; }
  kill "-$sig" "$root" 2>/dev/null || true
  for i in $(seq $((grace * 10))); do
    left=0
    for p in $pids; do if alive "$p"; then left=1; fi; done
    [ "$left" = 0 ] && break
    sleep 0.1
  done
  for p in $pids; do
    if [ -d "/proc/$p" ]; then kill -KILL "$p" 2>/dev/null || true; fi
  done
  wait "$root" 2>/dev/null || true
  [ "$left" = 0 ]
}

# Background processes started by this shell; cleanup_started stops them all.
STARTED=()
# launch CPU LOGFILE CMD... : start CMD in the background (pinned to CPU if
# non-empty), cwd unchanged; sets LAUNCHED_PID.
launch() {
  local cpu=$1 logf=$2; shift 2
  if [ -n "$cpu" ]; then taskset -c "$cpu" "$@" > "$logf" 2>&1 &
  else "$@" > "$logf" 2>&1 &
  fi
  LAUNCHED_PID=$!
  STARTED+=("$LAUNCHED_PID")
}
# unstart PID [SIGNAL]: stop one launched tree and forget it.
unstart() {
  local p=$1 keep=() q rc=0
  stop_tree "$p" "${2:-TERM}" || rc=1
  for q in "${STARTED[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
  STARTED=("${keep[@]+"${keep[@]}"}")
  return "$rc"
}
cleanup_started() {
  local p
  for p in "${STARTED[@]+"${STARTED[@]}"}"; do stop_tree "$p" || true; done
  STARTED=()
}

# ---- ports / readiness ---------------------------------------------------------
# True if some socket (UDP or TCP listener) is bound to ADDR:PORT (or *:PORT).
port_busy() {
  local addr=$1 port=$2
  [ -n "$(ss -Hlntu "( sport = :$port )" 2>/dev/null | awk -v a="$addr" -v p="$port" \
    '$5 == a ":" p || $5 == "0.0.0.0:" p || $5 == "*:" p || $5 == "[::]:" p')" ]
}
# First free port at or after START on ADDR (tries 200 ports); sets FREE_PORT.
free_port() {
  local addr=$1 p=$2 i
  for i in $(seq 200); do
    if ! port_busy "$addr" "$p"; then FREE_PORT=$p; return 0; fi
    p=$((p + 1))
  done
  die "no free port on $addr in $2..$p"
}
NEXT_PORT=$BASE_PORT
# next_port: a fresh free port for the next server (sets FREE_PORT).
next_port() { free_port "$BENCH_ADDR" "$NEXT_PORT"; NEXT_PORT=$((FREE_PORT + 1)); }

# wait_ready ADDR PORT NAME SECS [PID]: until ADDR:PORT answers NAME A with
# NOERROR. Returns 1 after SECS, 2 at once if PID (the server) exits.
wait_ready() {
  local addr=$1 port=$2 name=$3 secs=${4:-20} pid=${5:-} i
  for ((i = 0; i < secs * 5; i++)); do
    if dig +time=1 +tries=1 "@$addr" -p "$port" "$name" A 2>/dev/null | grep -q 'status: NOERROR'; then
      return 0
    fi
    if [ -n "$pid" ] && ! alive "$pid"; then return 2; fi
    sleep 0.2
  done
  return 1
}

# ---- /proc/stat ----------------------------------------------------------------
# Per-CPU jiffies: "cpuN busy softirq steal total user+nice+system" per line.
cpu_snap() {
  awk '/^cpu[0-9]/ {b = $2 + $3 + $4 + $7 + $8; print $1, b, $8, $9, b + $5 + $6 + $9, $2 + $3 + $4}' /proc/stat
}
# Process CPU (user+nice+system, no irq/softirq) of the whole machine between two
# cpu_snap files, in % of one CPU summed over the CPUs.
cpu_procs_pct() {
  awk 'NR == FNR {u[$1] = $6; t[$1] = $5; next}
       { dt = $5 - t[$1]; if (dt > 0) sum += ($6 - u[$1]) / dt * 100 } END {printf "%.0f", sum}' "$1" "$2"
}
# key=value pairs from two cpu_snap files: cpuN_busy_pct cpuN_sirq_pct cpuN_steal_pct
cpu_delta() {
  awk 'NR == FNR {b[$1] = $2; s[$1] = $3; st[$1] = $4; t[$1] = $5; next}
       { dt = $5 - t[$1]; if (dt <= 0) next
         printf " %s_busy_pct=%.0f %s_sirq_pct=%.0f %s_steal_pct=%.0f", $1, ($2 - b[$1]) / dt * 100, $1, ($3 - s[$1]) / dt * 100, $1, ($4 - st[$1]) / dt * 100 }' "$1" "$2"
}

# wait_idle: wait (at most WAIT_IDLE s) until the machine's processes use less
# than OTHER_CPU_WARN % CPU over one second; on a shared box this keeps other
# people's builds and tests out of the numbers. Returns 1 if it never got idle.
wait_idle() {
  local i a b p
  [ "$WAIT_IDLE" -gt 0 ] 2>/dev/null || return 0
  a=$(mktemp "${BENCH_TMP:-${TMPDIR:-/tmp}}/idle.XXXXXX"); b=$a.b
  for ((i = 0; i < WAIT_IDLE; i++)); do
    cpu_snap > "$a"; sleep 1; cpu_snap > "$b"
    p=$(cpu_procs_pct "$a" "$b")
    if [ "$p" -le "$OTHER_CPU_WARN" ]; then rm -f "$a" "$b"; return 0; fi
    [ "$i" = 0 ] && log "machine busy ($p% CPU in other processes); waiting up to ${WAIT_IDLE}s"
  done
  rm -f "$a" "$b"
  return 1
}

# ---- dnsperf -------------------------------------------------------------------
# The dnsperf command line for ADDR PORT QFILE SECONDS (printed for the record).
dnsperf_cmd() {
  local addr=$1 port=$2 qfile=$3 secs=$4 cmd=""
  [ -n "$LOADGEN_CPU" ] && cmd="taskset -c $LOADGEN_CPU "
  cmd+="dnsperf -s $addr -p $port -d $qfile -l $secs -c $CLIENTS -T $THREADS -q $OUTSTANDING -t $TIMEOUT_S"
  [ -n "$QPS_LIMIT" ] && cmd+=" -Q $QPS_LIMIT"
  [ -n "$MAX_RUNS" ] && cmd+=" -n $MAX_RUNS"
  [ -n "$DNSPERF_EXTRA" ] && cmd+=" $DNSPERF_EXTRA"
  cmd+=" -v"
  echo "$cmd"
}

# dnsperf_measure ADDR PORT QFILE SECONDS: run dnsperf once, print one line of
# key=value pairs:
#   qps avg_ms p50_ms p99_ms p999_ms max_ms lost sent completed runtime_s
#   lg_cpu_pct rcodes [srv_cpu_pct srv_us_per_q other_cpu_pct srv_hwm_kb srv_rss_kb] [up_cpu_pct]
#   cpuN_{busy,sirq,steal}_pct
# other_cpu_pct: user+system CPU of all other processes (100 = one core); well
# above 0 means something else ran on the machine and disturbed the numbers.
# SERVER_PID (env, optional): root of the server's process tree (its CPU time
# during the run, its peak RSS and its RSS at the end). UPSTREAM_PID (optional):
# the same for an upstream the server forwards to (its CPU %, which is then not
# counted in other_cpu_pct). RAW (optional): keep dnsperf's output there.
# Percentiles come from dnsperf -v (one line per answer, 1 µs buckets);
# dnsperf 2.10 prints none itself.
# perf_ok: 0 when `perf stat` can count instructions here (some VMs give no counters); cached
PERF_OK=""
perf_ok() {
  if [ -z "$PERF_OK" ]; then
    PERF_OK=1
    if command -v perf > /dev/null 2>&1 && perf stat -x, -e instructions true 2>&1 >/dev/null | grep -Eq '^[0-9]+,'; then PERF_OK=0; fi
  fi
  return "$PERF_OK"
}

dnsperf_measure() {
  local addr=$1 port=$2 qfile=$3 secs=$4
  local tmp raw tfile cmd s0=0 s1=0 u0=0 u1=0 hz line perf_pid="" pids
  # dnsperf -v writes a line per answer (~40 MB per 5 s run): on a disk, the writeback of one run
  # throttles dnsperf's writes in a later one (sleeps of a few ms in the kernel: both sides idle,
  # p99 ~4 ms). So the scratch dir is in memory: BENCH_SHM (run-all.sh makes one in /dev/shm
  # where it can), else BENCH_TMP.
  tmp=$(mktemp -d "${BENCH_SHM:-${BENCH_TMP:-${TMPDIR:-/tmp}}}/dnsperf.XXXXXX")
  raw=${RAW:-$tmp/raw}
  tfile=$tmp/time
  cmd=$(dnsperf_cmd "$addr" "$port" "$qfile" "$secs")
  hz=$(getconf CLK_TCK)
  [ -n "${SERVER_PID:-}" ] && s0=$(tree_cpu_ticks "$SERVER_PID")
  [ -n "${UPSTREAM_PID:-}" ] && u0=$(tree_cpu_ticks "$UPSTREAM_PID")
  local TIMEFORMAT='%U %S %R'
  cpu_snap > "$tmp/cpu0"
  # instructions the server retired during the run (user + kernel): unlike its CPU time, hardly
  # moved by what the other tenants of a shared machine do, so two servers compare within ~1 %
  if [ -n "${SERVER_PID:-}" ] && perf_ok; then
    pids=$(tree_pids "$SERVER_PID" | paste -sd, -)
    perf stat -x, -e instructions -p "$pids" -o "$tmp/perf" -- sleep "$secs" > /dev/null 2>&1 &
    perf_pid=$!
  fi
  # shellcheck disable=SC2086
  { time $cmd > "$raw" 2>&1; } 2> "$tfile" || true
  if [ -n "$perf_pid" ]; then wait "$perf_pid" 2>/dev/null || true; fi
  cpu_snap > "$tmp/cpu1"
  [ -n "${SERVER_PID:-}" ] && s1=$(tree_cpu_ticks "$SERVER_PID")
  [ -n "${UPSTREAM_PID:-}" ] && u1=$(tree_cpu_ticks "$UPSTREAM_PID")
  line=$(awk -v hz="$hz" -v s="$((s1 - s0))" -v u="$((u1 - u0))" -v upid="${UPSTREAM_PID:-}" -v spid="${SERVER_PID:-}" -v tf="$tfile" -v procs="$(cpu_procs_pct "$tmp/cpu0" "$tmp/cpu1")" '
    /^> / { v = int($NF * 1000000 + 0.5); h[v]++; n++; if (v > mx) mx = v; next }
    /Queries sent:/ { sent = $3 }
    /Queries completed:/ { comp = $3 }
    /Queries lost:/ { lost = $3 }
    /Response codes:/ {   # "NOERROR 9800 (98.00%), NXDOMAIN 200 (2.00%)" -> NOERROR:98.00,NXDOMAIN:2.00
      rs = $0; sub(/.*Response codes: */, "", rs); nc = split(rs, it, /, */); rc = ""
      for (j = 1; j <= nc; j++) if (split(it[j], f, /[ ()%]+/) >= 3) rc = rc (rc == "" ? "" : ",") f[1] ":" f[3]
    }
    /Run time \(s\):/ { rt = $4 }
    /Queries per second:/ { qps = $4 }
    /Average Latency \(s\):/ { avg = $4 }
    function pct(p,   need, c, i) {
      if (n == 0) return "-"
      need = p * n; c = 0
      for (i = 0; i <= mx; i++) if (i in h) { c += h[i]; if (c >= need) return sprintf("%.3f", i / 1000) }
      return sprintf("%.3f", mx / 1000)
    }
    END {
      getline tl < tf; split(tl, t, " ")
      lg = (rt > 0) ? (t[1] + t[2]) / rt * 100 : 0
      printf "qps=%.0f avg_ms=%.3f p50_ms=%s p99_ms=%s p999_ms=%s max_ms=%.3f lost=%d sent=%d completed=%d runtime_s=%.2f lg_cpu_pct=%.0f rcodes=%s", \
        qps, avg * 1000, pct(0.50), pct(0.99), pct(0.999), mx / 1000, lost, sent, comp, rt, lg, (rc == "" ? "-" : rc)
      sp = (rt > 0 ? s / hz / rt * 100 : 0)
      if (spid != "") printf " srv_cpu_pct=%.0f srv_us_per_q=%.2f", sp, (comp > 0 ? s / hz / comp * 1e6 : 0)
      # CPU used by every other process (the rest of the machine) during the run
      up = (upid != "" && rt > 0) ? u / hz / rt * 100 : 0
      if (upid != "") printf " up_cpu_pct=%.0f", up
      if (spid != "") { o = procs - sp - lg - up; printf " other_cpu_pct=%.0f", (o < 0 ? 0 : o) }
      printf "\n"
    }' "$raw")
  if [ -n "${SERVER_PID:-}" ]; then line+=" srv_hwm_kb=$(tree_hwm_kb "$SERVER_PID") srv_rss_kb=$(tree_rss_kb "$SERVER_PID")"; fi
  if [ -n "$perf_pid" ] && [ -s "$tmp/perf" ]; then
    # per answered query, over the perf window (the first `secs` of the run ≈ all of it)
    line+=$(awk -F, -v l="$line" '/instructions/ && $1 ~ /^[0-9]+$/ {
      n = split(l, a, " "); q = 0; rt = 0
      for (i = 1; i <= n; i++) { if (index(a[i], "completed=") == 1) q = substr(a[i], 11); if (index(a[i], "runtime_s=") == 1) rt = substr(a[i], 11) }
      if (q > 0 && rt > 0) printf " srv_kinstr_per_q=%.2f", $1 / (q * ('"$secs"' < rt ? '"$secs"' / rt : 1)) / 1000 }' "$tmp/perf")
  fi
  line+=$(cpu_delta "$tmp/cpu0" "$tmp/cpu1")
  echo "$line"
  if ! grep -q '^Statistics:' "$raw"; then
    echo "dnsperf failed; its output:" >&2; grep -v '^> ' "$raw" | tail -20 >&2
  fi
  rm -rf "$tmp"
}

# ---- results -------------------------------------------------------------------
# kv KVLINE KEY: the value of KEY in a "k=v k=v" line, "-" if absent.
kv() {
  echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k {print substr($0, length(k) + 2); f = 1; exit} END {if (!f) print "-"}'
}
# record SERVER WORKLOAD RUN KVLINE: one result row for the current SCENARIO,
# appended to RESULTS_TSV (set by run-all.sh / the scenario).
record() {
  printf '%s\t%s\t%s\t%s\t%s\n' "${SCENARIO:-?}" "$1" "$2" "$3" "$4" >> "$RESULTS_TSV"
  log "$1 $2 #$3: $4"
}
# note TEXT: a line printed under the table (pass/fail checks, failures).
note() {
  echo "$*" >> "$NOTES_FILE"
  log "$*"
}

# ---- generic "start, wait, measure, stop" ---------------------------------------
# measure_server NAME READY_NAME QFILE DIR PORT -- CMD...
# For each workload in WORKLOADS ("closed" and/or "fixed"): start CMD fresh
# (pinned to SERVER_CPU, in the current directory, log in DIR), wait until it answers
# READY_NAME at BENCH_ADDR:PORT, WARMUP s of closed-loop load, then the measured
# dnsperf run; record one row per workload (RUN from env RUN); stop the server.
# If the caller defines a function after_ready, it is called as
# "after_ready NAME PORT" once the server answers (answer checks).
# A server that does not come up gets a "failed" row and the function returns 1.
: "${WORKLOADS:=closed fixed}"
measure_server() {
  local name=$1 ready=$2 qfile=$3 dir=$4 port=$5 wl pid line wname q
  shift 6   # the 5 arguments and "--"
  mkdir -p "$dir"
  for wl in $WORKLOADS; do
    case "$wl" in
      closed) q=""; wname=closed ;;
      fixed) q=$LAT_QPS; wname="@$LAT_QPS" ;;
      *) die "unknown workload $wl (closed, fixed)" ;;
    esac
    if port_busy "$BENCH_ADDR" "$port"; then
      note "$SCENARIO/$name: $BENCH_ADDR:$port is taken by another process; skipped"
      record "$name" "$wname" "$RUN" "failed=port_busy"; return 1
    fi
    launch "$SERVER_CPU" "$dir/$wl.log" "$@"
    pid=$LAUNCHED_PID
    local rc=0 why
    wait_ready "$BENCH_ADDR" "$port" "$ready" "$READY_SECS" "$pid" || rc=$?
    if [ "$rc" != 0 ]; then
      if [ "$rc" = 2 ]; then why="exited before answering"; else why="did not answer '$ready A' with NOERROR on $BENCH_ADDR:$port within ${READY_SECS}s"; fi
      note "$SCENARIO/$name: $why; command: $*; last lines of its output:"
      tail -n 15 "$dir/$wl.log" | sed 's/^/    /' >> "$NOTES_FILE"
      tail -n 15 "$dir/$wl.log" >&2
      record "$name" "$wname" "$RUN" "failed=not_ready"
      unstart "$pid" || true
      return 1
    fi
    pin_tree "$pid" "$SERVER_CPU"
    if declare -F after_ready >/dev/null; then after_ready "$name" "$port"; fi
    wait_idle || log "machine still busy after ${WAIT_IDLE}s; measuring anyway"
    if [ "$WARMUP" != 0 ]; then
      QPS_LIMIT="" dnsperf_measure "$BENCH_ADDR" "$port" "$qfile" "$WARMUP" > /dev/null
    fi
    line=$(SERVER_PID=$pid QPS_LIMIT=$q dnsperf_measure "$BENCH_ADDR" "$port" "$qfile" "$DURATION")
    if ! alive "$pid"; then line+=" died=1"; note "$SCENARIO/$name: exited during the $wname run"; fi
    record "$name" "$wname" "$RUN" "$line"
    if ! unstart "$pid"; then note "$SCENARIO/$name: did not exit within ${GRACE_S:-5}s of SIGTERM (killed)"; fi
  done
}

# ---- environment description ------------------------------------------------------
bench_commit() {
  local c
  if c=$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null); then
    if [ -n "$(git -C "$REPO_DIR" status --porcelain --untracked-files=no 2>/dev/null)" ]; then c+="+dirty"; fi
    echo "$c"
  else
    echo "none (no commit yet)"
  fi
}
machine_desc() {
  echo "$(nproc) CPUs, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r)"
}
