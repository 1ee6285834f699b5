#!/usr/bin/env bash
# Scale: many services at once, many idle services, many hosts. Spawnpoint against podman and
# docker, on the same busybox image, in the same run.
#
#   BUILD_DIR=/work/main/build bench/scale.sh        (as root, after `make build`)
#   BURST=10 DENSITY=10 HOSTS=10 RUNS=3 BURST_RUNS=1 bench/scale.sh     (a quick check)
#
# Rows (issue 5, rows 3 to 5 of the suite):
#   burst    BURST (default 100) services started at once, then stopped at once, BURST_RUNS
#            (default 3) times per tool. Ours: BURST `spawnctl deploy -c svc.yaml -n sbI -t 0s`
#            started together in the background (each exits 0 once its service runs); podman and
#            docker: BURST `run -d --network none --cpu-shares 32 --memory 16m IMAGE
#            /bin/sleep 1000`. Timed from the first start to the last exit (all running); then
#            BURST `spawnctl stop -n sbI` / `rm -f` (podman: `rm -f -t 0`) at once, timed until the
#            last exits (all gone; checked afterwards). The figure is the whole burst; "per
#            service" divides it by BURST. Also N=1: one service deployed and stopped alone, RUNS
#            (default 20) times, the same commands.
#   density  DENSITY (default 200) idle services (`/bin/sleep 1000000`), started DENSITY_JOBS
#            (default 4) at a time; after all run and SETTLE (default 10) seconds: the daemon's
#            RSS and PSS (ours: spawnd and its embedded nats-server apart; docker: dockerd and its
#            containerd; podman has no daemon), the per-service overhead (the processes each
#            service adds besides its own program: ours spawn-monitor, and spawn-init as the
#            container's PID 1, shown apart; podman conmon; docker containerd-shim-runc-v2), as
#            their summed RSS and PSS (/proc/PID/smaps_rollup) divided by DENSITY, with min and
#            max over the processes; and CPU over IDLE_SECONDS (default 30) idle seconds
#            (utime+stime from /proc/PID/stat, % of one core) of the daemon and of all
#            per-service processes together. Ours uses heartbeatInterval 10s (the default).
#   control  `spawnctl scan -u local/spawnpoint --json` with our host alone and with HOSTS
#            (default 100) more simulated hosts (spawn-bench-heartbeats: each host's daemon
#            heartbeat and 3 service heartbeats every 10 s, published as the admin entity on the
#            subjects the heartbeat stream keeps); each output is checked to list 1 or HOSTS+1
#            hosts. `spawnctl inspect -n sc1 --json` of a running service; `spawnctl deploy` of
#            a service asking more memory than the pool (refused at once with exit 5: a bus
#            request and reply, no container work). RUNS times each. Peers, where one exists:
#            `ps -a` and `inspect` of podman and docker with the same 3 containers running.
# All times are wall clock (CLOCK_MONOTONIC) in ms, each tool's command run as a user would.
#
# Setup: everything under one temp directory, removed at exit; every process this script starts
# is stopped by its PID. Debian's docker-registry on 127.0.0.1:<free port> holds the image (a
# static busybox and its applet symlinks) for our daemon, which pulls it once before timing;
# podman and docker import the same root filesystem (bench/lib.sh). spawnd: base URI
# local/spawnpoint/scale<pid>, embedded router on 127.0.0.1:0, bridge spc<hex> on a 10.216.x.0/24,
# runtime runc, pool cpuShares 16384 / memory 16384 MiB (services reserve 32 shares and 16 MiB,
# so 200 fit in the pool and in the /24). Our services get their own network namespace on the
# bridge (a veth and an address); podman and docker run with --network none, so they do less.
# podman: bench_setup_podman (runc, cgroupfs); docker: bench_start_dockerd (its own dockerd,
# containerd and network namespace). DOCKER=0 or PODMAN=0 leaves a peer out; PHASES (default
# "burst density control") picks the parts to run.
# Output: one table (median, min, max, runs, peer / ours), and the machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"

RUNS=${RUNS:-20}
BURST=${BURST:-100}
BURST_RUNS=${BURST_RUNS:-3}
DENSITY=${DENSITY:-200}
DENSITY_JOBS=${DENSITY_JOBS:-4}
SETTLE=${SETTLE:-10}
IDLE_SECONDS=${IDLE_SECONDS:-30}
HOSTS=${HOSTS:-100}
USE_PODMAN=${PODMAN:-1}
USE_DOCKER=${DOCKER:-1}
PHASES=${PHASES:-burst density control}
for phase in $PHASES; do
  case $phase in
    burst | density | control) ;;
    *) bench_die "PHASES: unknown phase '$phase' (burst, density, control)" ;;
  esac
done
for v in RUNS BURST BURST_RUNS DENSITY DENSITY_JOBS IDLE_SECONDS HOSTS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || bench_die "$v must be a positive integer, got '${!v}'"
done
[[ $SETTLE =~ ^[0-9]+$ ]] || bench_die "SETTLE must be a non-negative integer, got '$SETTLE'"
[ "$DENSITY" -le 250 ] || bench_die "DENSITY must be at most 250: our services share one /24"
[ "$BURST" -le 250 ] || bench_die "BURST must be at most 250: our services share one /24"
[ "$HOSTS" -le 999 ] || bench_die "HOSTS must be at most 999"

bench_require_root
bench_check_build
SIM_BIN=${SIM_BIN:-$SP_BIN/spawn-bench-heartbeats}
[ -x "$SIM_BIN" ] || bench_die "$SIM_BIN is missing: run make build (target spawn-bench-heartbeats), or set SIM_BIN"
bench_ensure_tools docker-registry:docker-registry skopeo:skopeo umoci:umoci /bin/busybox:busybox-static \
  curl:curl jq:jq
[ "$USE_PODMAN" = 1 ] && bench_ensure_tools podman:podman
if [ "$USE_DOCKER" = 1 ]; then
  if declare -F bench_start_dockerd > /dev/null; then
    bench_ensure_tools /usr/sbin/dockerd:docker.io
  else
    bench_log "bench/lib.sh has no bench_start_dockerd: leaving docker out"
    USE_DOCKER=0
  fi
fi
[ -n "$BENCH_PY" ] || bench_die "python3 is needed for the timers"
bench_workdir scale

# ---- helpers in Python -----------------------------------------------------------------------

# Starts COUNT commands (the argv after COUNT, "{}" replaced by 1..COUNT), at most JOBS at a time
# (0: all at once), each with its output in LOGDIR/<i>.log. Prints "<ms> <failed indices...>":
# the time from the first start to the last exit (CLOCK_MONOTONIC), and every index whose command
# did not exit 0.
PAR_PY='
import os, subprocess, sys, time
logdir, jobs, count, tmpl = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
running, failed, nxt = {}, [], 1
t0 = time.monotonic_ns()
while nxt <= count or running:
    while nxt <= count and (jobs == 0 or len(running) < jobs):
        with open(os.path.join(logdir, "%d.log" % nxt), "wb") as log:
            p = subprocess.Popen([a.replace("{}", str(nxt)) for a in tmpl], stdout=log, stderr=subprocess.STDOUT)
        running[p.pid] = (nxt, p)
        nxt += 1
    pid, status = os.wait()
    if pid not in running:
        continue
    i, p = running.pop(pid)
    # Reaped here: tell the Popen, or its finalizer would wait for the pid again.
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        failed.append(i)
t1 = time.monotonic_ns()
print("%.1f" % ((t1 - t0) / 1e6), *sorted(failed))
'

# Processes of each tool, and their memory and CPU (see "density" above).
#   count ours STATE | podman DIR | docker DIR     number of per-service monitor processes
#   measure SECONDS TOOL ARGS...                     ours STATE SPAWND_PID; podman DIR; docker DIR DOCKERD_PID
# measure prints lines "proc LABEL N RSS_SUM_KIB PSS_SUM_KIB CPU_PCT" and "vals LABEL rss|pss K1 K2 ..."
# (per-process KiB); CPU_PCT is the group's utime+stime over SECONDS, in % of one core.
PROCS_PY='
import os, sys, time
TICK = os.sysconf("SC_CLK_TCK")

def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return None

def procs():
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        stat, cmd = read("/proc/%s/stat" % d), read("/proc/%s/cmdline" % d)
        if stat is None or cmd is None:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        rest = stat[stat.rindex(")") + 2:].split()
        if rest[0] == "Z":
            continue
        out.append({"pid": int(d), "comm": comm, "ppid": int(rest[1]), "cmd": cmd.replace("\0", " ")})
    return out

def groups(tool, args):
    ps = procs()
    if tool == "ours":
        state, daemon = args[0], int(args[1]) if len(args) > 1 else 0
        mons = [p for p in ps if p["comm"] == "spawn-monitor" and state + "/" in p["cmd"]]
        mon_pids = {p["pid"] for p in mons}
        # spawn-init is bind-mounted as /.spawnpoint/init: its comm is "init"
        inits = [p for p in ps if p["comm"] == "init" and p["ppid"] in mon_pids]
        nats = [p for p in ps if p["comm"] == "nats-server" and p["ppid"] == daemon]
        return [("spawnd", [p for p in ps if p["pid"] == daemon]), ("nats-server", nats),
                ("spawn-monitor", mons), ("spawn-init", inits)]
    if tool == "podman":
        return [("conmon", [p for p in ps if p["comm"] == "conmon" and args[0] + "/" in p["cmd"]])]
    if tool == "docker":
        dockerd = int(args[1]) if len(args) > 1 else 0
        shims = [p for p in ps if p["comm"].startswith("containerd-shim") and args[0] + "/" in p["cmd"]]
        ctrd = [p for p in ps if p["comm"] == "containerd" and p["ppid"] == dockerd]
        return [("dockerd", [p for p in ps if p["pid"] == dockerd]), ("containerd", ctrd), ("containerd-shim", shims)]
    sys.exit("unknown tool " + tool)

def mem(pid):
    rss = pss = 0
    for line in (read("/proc/%d/status" % pid) or "").splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    for line in (read("/proc/%d/smaps_rollup" % pid) or "").splitlines():
        if line.startswith("Pss:"):
            pss = int(line.split()[1])
    return rss, pss

def ticks(pid):
    s = read("/proc/%d/stat" % pid)
    if s is None:
        return None
    f = s[s.rindex(")") + 2:].split()
    return int(f[11]) + int(f[12])

mode = sys.argv[1]
if mode == "count":
    g = dict(groups(sys.argv[2], sys.argv[3:]))
    print(len(g["spawn-monitor" if sys.argv[2] == "ours" else "conmon" if sys.argv[2] == "podman" else "containerd-shim"]))
    sys.exit(0)
seconds, tool = float(sys.argv[2]), sys.argv[3]
gs = groups(tool, sys.argv[4:])
before = {p["pid"]: ticks(p["pid"]) for _, ps in gs for p in ps}
t0 = time.monotonic()
time.sleep(seconds)
wall = time.monotonic() - t0
for label, ps in gs:
    rss_l, pss_l, cpu = [], [], 0
    for p in ps:
        t1, t0p = ticks(p["pid"]), before.get(p["pid"])
        if t1 is None or t0p is None:
            sys.exit("%s process %d ended during the measurement" % (label, p["pid"]))
        cpu += t1 - t0p
        r, s = mem(p["pid"])
        rss_l.append(r)
        pss_l.append(s)
    print("proc", label, len(ps), sum(rss_l), sum(pss_l), "%.3f" % (100.0 * cpu / TICK / wall))
    print("vals", label, "rss", *rss_l)
    print("vals", label, "pss", *pss_l)
'

# par_time DESC JOBS COUNT CMD...: run COUNT commands (PAR_PY); sets PAR_MS. Exits with the
# output of the first failed command when any failed.
par_time() {
  local desc=$1 jobs=$2 count=$3 logdir out failed
  shift 3
  BENCH_LOG_SEQ=$((BENCH_LOG_SEQ + 1))
  logdir=$BENCH_WORK/.par-$BENCH_LOG_SEQ
  mkdir -p "$logdir"
  out=$("$BENCH_PY" -c "$PAR_PY" "$logdir" "$jobs" "$count" "$@") || bench_die "parallel runner failed for $desc: $out"
  PAR_MS=${out%% *}
  failed=${out#"$PAR_MS"}
  if [ -n "${failed// /}" ]; then
    bench_log "---- $desc: $(wc -w <<< "$failed") of $count commands failed (indices:$failed); first failure's output ($*):"
    cat "$logdir/$(awk '{print $1}' <<< "$failed").log" >&2
    bench_log "----"
    exit 1
  fi
  rm -rf "$logdir"
}

# expect_count WHAT WANT TOOL ARGS...: the tool has WANT per-service processes, within 20 s.
expect_count() {
  local what=$1 want=$2 n i
  shift 2
  for ((i = 0; i < 200; i++)); do
    n=$("$BENCH_PY" -c "$PROCS_PY" count "$@")
    [ "$n" = "$want" ] && return 0
    sleep 0.1
  done
  bench_die "$what: expected $want per-service processes of $1, found $n after 20 s"
}

# ---- setup -----------------------------------------------------------------------------------

make_image() {
  local root=$BENCH_WORK/rootfs layout=$BENCH_WORK/layout app
  mkdir -p "$root/bin" "$root/tmp" "$root/etc"
  cp /bin/busybox "$root/bin/busybox"
  while read -r app; do
    [ "$app" = bin/busybox ] && continue
    mkdir -p "$root/$(dirname "$app")"
    ln -sf /bin/busybox "$root/$app"
  done < <(/bin/busybox --list-full)
  ROOTFS=$root
  tar --sort=name --numeric-owner --owner=0 --group=0 -C "$root" -cf "$BENCH_WORK/layer.tar" .
  bench_run "umoci init" umoci init --layout "$layout"
  bench_run "umoci new" umoci new --image "$layout:1"
  bench_run "umoci raw add-layer" umoci raw add-layer --image "$layout:1" "$BENCH_WORK/layer.tar"
  bench_run "umoci config" umoci config --image "$layout:1" --config.cmd /bin/sh
  rm -f "$BENCH_WORK/layer.tar"
  bench_run "push the image" skopeo copy --dest-tls-verify=false "oci:$layout:1" "docker://$REG/scale/busybox:1"
  IMAGE=$REG/scale/busybox:1
}

# bench_start_spawnd (lib.sh) with this script's base URI, pool, bridge and subnet.
start_spawnd() {
  OUR_URI=local/spawnpoint/scale$$
  SPAWND_PATH=$OUR_URI SPAWND_CPU=16384 SPAWND_MEM=16384 SPAWND_BRIDGE_PREFIX=spc SPAWND_NET=10.216 \
    bench_start_spawnd "insecureRegistries: [\"$REG\"]"
}

write_service_files() {
  cat > "$BENCH_WORK/svc.yaml" <<YML
cpuShares: 32
memory: 16
image: $IMAGE
run: [/bin/sleep, "1000"]
YML
  cat > "$BENCH_WORK/idle.yaml" <<YML
cpuShares: 32
memory: 16
image: $IMAGE
run: [/bin/sleep, "1000000"]
YML
  cat > "$BENCH_WORK/toobig.yaml" <<YML
cpuShares: 32
memory: 1000000
image: $IMAGE
run: [/bin/sleep, "1000"]
YML
}

# ---- the tools' commands ---------------------------------------------------------------------
# TOOLS lists the tools in this run; start_cmd/stop_cmd fill the array CMD with one tool's
# command for service "<prefix>{}" (PAR_PY replaces {}).

TOOLS=(ours)
start_cmd() {  # TOOL PREFIX YAML SLEEP_SECONDS
  case $1 in
    ours) CMD=("$SP_BIN/spawnctl" deploy -c "$BENCH_WORK/$3" -n "$2{}" -t 0s) ;;
    podman) CMD=("${PODMAN[@]}" run -d --network none --cpu-shares 32 --memory 16m --name "$2{}" scale-busybox:1 /bin/sleep "$4") ;;
    docker) CMD=("${DOCKER[@]}" run -d --network none --cpu-shares 32 --memory 16m --name "$2{}" scale-busybox:1 /bin/sleep "$4") ;;
  esac
}
stop_cmd() {  # TOOL PREFIX
  case $1 in
    ours) CMD=("$SP_BIN/spawnctl" stop -n "$2{}") ;;
    podman) CMD=("${PODMAN[@]}" rm -f -t 0 "$2{}") ;;
    docker) CMD=("${DOCKER[@]}" rm -f "$2{}") ;;
  esac
}
count_args() {  # TOOL: the arguments of PROCS_PY count/measure for the tool
  case $1 in
    ours) CARGS=(ours "$SPAWND_STATE" "$SPAWND_PID") ;;
    podman) CARGS=(podman "$BENCH_WORK/podman") ;;
    docker) CARGS=(docker "$BENCH_WORK/docker" "$DOCKERD_PID") ;;
  esac
}
prefix_of() {
  case $1 in ours) echo s ;; podman) echo p ;; docker) echo d ;; esac
}

# ---- results ---------------------------------------------------------------------------------
# Each row: "SECTION|NAME|UNIT|BASE_KEY|median min max n"; BASE_KEY names the row ours is compared
# against (ratio = this row's median / the base's), "-" for none.
ROWS=()
SECTIONS=()
declare -A MEDIAN
note_section() {
  local s
  for s in "${SECTIONS[@]}"; do [ "$s" = "$1" ] && return 0; done
  SECTIONS+=("$1")
}
add_row() {  # SECTION KEY NAME UNIT BASE_KEY VALUES...
  local section=$1 key=$2 name=$3 unit=$4 base=$5 stats
  shift 5
  stats=$(bench_stats "$@")
  MEDIAN[$key]=${stats%% *}
  note_section "$section"
  ROWS+=("$section|$name|$unit|$base|$stats")
}
add_fixed() {  # SECTION KEY NAME UNIT BASE_KEY FIGURE MIN MAX N
  MEDIAN[$2]=$6
  note_section "$1"
  ROWS+=("$1|$3|$4|$5|$6 $7 $8 $9")
}

# ---- burst -----------------------------------------------------------------------------------

burst_round() {  # TOOL
  local tool=$1 p
  p=$(prefix_of "$tool")b
  count_args "$tool"
  start_cmd "$tool" "$p" svc.yaml 1000
  par_time "$tool: $BURST starts at once" 0 "$BURST" "${CMD[@]}"
  B_START=$PAR_MS
  expect_count "$tool burst" "$BURST" "${CARGS[@]}"
  stop_cmd "$tool" "$p"
  par_time "$tool: $BURST stops at once" 0 "$BURST" "${CMD[@]}"
  B_STOP=$PAR_MS
  expect_count "$tool burst stop" 0 "${CARGS[@]}"
}

single_round() {  # TOOL
  local tool=$1 p
  p=$(prefix_of "$tool")1
  start_cmd "$tool" "$p" svc.yaml 1000
  bench_time "$tool: one start" "${CMD[@]/\{\}/x}"
  S_START=$BENCH_MS
  stop_cmd "$tool" "$p"
  bench_time "$tool: one stop" "${CMD[@]/\{\}/x}"
  S_STOP=$BENCH_MS
}

phase_burst() {
  local t r
  declare -gA BS BT SS ST
  for t in "${TOOLS[@]}"; do BS[$t]="" BT[$t]="" SS[$t]="" ST[$t]=""; done
  for ((r = 1; r <= RUNS; r++)); do
    for t in "${TOOLS[@]}"; do
      single_round "$t"
      SS[$t]+=" $S_START" ST[$t]+=" $S_STOP"
    done
  done
  bench_log "N=1 done ($RUNS runs per tool)"
  for ((r = 1; r <= BURST_RUNS; r++)); do
    for t in "${TOOLS[@]}"; do
      burst_round "$t"
      BS[$t]+=" $B_START" BT[$t]+=" $B_STOP"
      bench_log "burst round $r/$BURST_RUNS, $t: $BURST starts $B_START ms, $BURST stops $B_STOP ms"
    done
  done
  local sec1="burst, 1 service alone (ms, wall clock of the command)"
  local secn="burst, $BURST at once (ms, first start to last exit)"
  for t in "${TOOLS[@]}"; do
    # shellcheck disable=SC2086  # one value per word
    add_row "$sec1" "b1s-$t" "start: $(tool_label "$t" start)" ms b1s-ours ${SS[$t]}
  done
  for t in "${TOOLS[@]}"; do
    # shellcheck disable=SC2086
    add_row "$sec1" "b1t-$t" "stop: $(tool_label "$t" stop)" ms b1t-ours ${ST[$t]}
  done
  for t in "${TOOLS[@]}"; do
    # shellcheck disable=SC2086
    add_row "$secn" "bns-$t" "$BURST starts: $(tool_label "$t" start)" ms bns-ours ${BS[$t]}
  done
  for t in "${TOOLS[@]}"; do
    # shellcheck disable=SC2086
    add_row "$secn" "bnt-$t" "$BURST stops: $(tool_label "$t" stop)" ms bnt-ours ${BT[$t]}
  done
}

tool_label() {  # TOOL start|stop
  case $1-$2 in
    ours-start) echo "spawnctl deploy -t 0s (ours)" ;;
    ours-stop) echo "spawnctl stop (ours)" ;;
    podman-start) echo "podman run -d --network none" ;;
    podman-stop) echo "podman rm -f -t 0" ;;
    docker-start) echo "docker run -d --network none" ;;
    docker-stop) echo "docker rm -f" ;;
  esac
}

# ---- density ---------------------------------------------------------------------------------

# density_rows TOOL FILE: the rows of one tool from PROCS_PY's measure output, in three sections
# (daemon, per-service memory, idle CPU). Daemons in MiB (ours: spawnd + nats-server; docker:
# dockerd + containerd; podman has none), the parts in the row's name. Per-service processes in
# KiB per service (sum / DENSITY), min and max over the processes. Ratios compare a peer with
# ours' total, spawn-monitor + spawn-init per service; ours' parts are shown without a ratio.
density_rows() {
  local tool=$1 file=$2 kind label n rss pss cpu want
  declare -A R P C
  while read -r kind label n rss pss cpu; do
    [ "$kind" = proc ] || continue
    case $label in
      spawnd | nats-server | dockerd | containerd) want=1 ;;
      *) want=$DENSITY ;;
    esac
    [ "$n" = "$want" ] || bench_die "density $tool: expected $want $label process(es), found $n"
    R[$label]=$rss P[$label]=$pss C[$label]=$cpu
  done < "$file"
  case $tool in
    ours)
      daemon_rows ours spawnd nats-server "${R[spawnd]}" "${R[nats-server]}" "${P[spawnd]}" "${P[nats-server]}" \
        "${C[spawnd]}" "${C[nats-server]}"
      per_service_rows ours "spawn-monitor + spawn-init" "$(plus "${R[spawn-monitor]}" "${R[spawn-init]}")" \
        "$(plus "${P[spawn-monitor]}" "${P[spawn-init]}")" \
        "$(plus "${C[spawn-monitor]}" "${C[spawn-init]}")" "" ""
      per_service_rows "" "  of which spawn-monitor" "${R[spawn-monitor]}" "${P[spawn-monitor]}" \
        "${C[spawn-monitor]}" "$file" spawn-monitor
      per_service_rows "" "  of which spawn-init (PID 1)" "${R[spawn-init]}" "${P[spawn-init]}" \
        "${C[spawn-init]}" "$file" spawn-init
      ;;
    podman)
      per_service_rows podman conmon "${R[conmon]}" "${P[conmon]}" "${C[conmon]}" "$file" conmon
      ;;
    docker)
      daemon_rows docker dockerd containerd "${R[dockerd]}" "${R[containerd]}" "${P[dockerd]}" "${P[containerd]}" \
        "${C[dockerd]}" "${C[containerd]}"
      per_service_rows docker containerd-shim "${R[containerd-shim]}" "${P[containerd-shim]}" \
        "${C[containerd-shim]}" "$file" containerd-shim
      ;;
  esac
}

plus() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a + b}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

daemon_rows() {  # TOOL PART1 PART2 RSS1 RSS2 PSS1 PSS2 CPU1 CPU2 (KiB, % core)
  local tool=$1 a=$2 b=$3
  add_fixed "density: the daemon" "d-rss-$tool" "daemon RSS: $a + $b ($(mib "$4") + $(mib "$5"))" MiB d-rss-ours \
    "$(mib "$(plus "$4" "$5")")" - - 1
  add_fixed "density: the daemon" "d-pss-$tool" "daemon PSS: $a + $b ($(mib "$6") + $(mib "$7"))" MiB d-pss-ours \
    "$(mib "$(plus "$6" "$7")")" - - 1
  add_fixed "density: idle CPU over ${IDLE_SECONDS}s" "d-cpu-$tool" "daemon: $a + $b ($8 + $9)" "% core" d-cpu-ours \
    "$(plus "$8" "$9")" - - 1
}

# per_service_rows TOOL NAME RSS_SUM PSS_SUM CPU FILE LABEL: per-service rows; with TOOL the row
# is compared (ours: the base), without it the row is a part of ours shown without a ratio. With
# FILE and LABEL, min and max over that group's processes.
per_service_rows() {
  local tool=$1 name=$2 rss=$3 pss=$4 cpu=$5 file=$6 label=$7 what sum vals lo hi key base
  for what in rss pss; do
    [ "$what" = rss ] && sum=$rss || sum=$pss
    lo=- hi=-
    if [ -n "$label" ]; then
      vals=$(awk -v l="$label" -v w="$what" '$1 == "vals" && $2 == l && $3 == w {$1 = $2 = $3 = ""; print}' "$file")
      # shellcheck disable=SC2086  # one value per word
      read -r _ lo hi _ <<< "$(bench_stats $vals)"
    fi
    key=per-$what-${tool:-$label} base=per-$what-ours
    [ -n "$tool" ] || base=-
    add_fixed "density: per-service memory ($DENSITY services; figure = sum / $DENSITY)" "$key" \
      "${what^^}: $name" KiB "$base" "$(awk -v s="$sum" -v n="$DENSITY" 'BEGIN {printf "%.1f", s / n}')" \
      "$lo" "$hi" "$DENSITY"
  done
  key=per-cpu-${tool:-$label} base=per-cpu-ours
  [ -n "$tool" ] || base=-
  add_fixed "density: idle CPU over ${IDLE_SECONDS}s" "$key" "all $DENSITY per-service processes: $name" "% core" \
    "$base" "$cpu" - - 1
}

density_tool() {  # TOOL
  local tool=$1 p out=$BENCH_WORK/density-$1.txt
  p=$(prefix_of "$tool")i
  count_args "$tool"
  start_cmd "$tool" "$p" idle.yaml 1000000
  par_time "$tool: $DENSITY idle services" "$DENSITY_JOBS" "$DENSITY" "${CMD[@]}"
  bench_log "density, $tool: $DENSITY services started in $PAR_MS ms ($DENSITY_JOBS at a time); settling ${SETTLE}s"
  expect_count "$tool density" "$DENSITY" "${CARGS[@]}"
  sleep "$SETTLE"
  "$BENCH_PY" -c "$PROCS_PY" measure "$IDLE_SECONDS" "${CARGS[@]}" > "$out" ||
    bench_die "measuring $tool's processes failed"
  density_rows "$tool" "$out"
  if [ "$tool" = ours ]; then
    DENSITY_FDS="spawnd $(find "/proc/$SPAWND_PID/fd" -mindepth 1 -maxdepth 1 | wc -l) open files (limit $(awk '/Max open files/ {print $4}' "/proc/$SPAWND_PID/limits"))"
  fi
  stop_cmd "$tool" "$p"
  par_time "$tool: stop $DENSITY idle services" "$DENSITY_JOBS" "$DENSITY" "${CMD[@]}"
  expect_count "$tool density stop" 0 "${CARGS[@]}"
}

phase_density() {
  local t
  for t in "${TOOLS[@]}"; do density_tool "$t"; done
}

# ---- control plane ---------------------------------------------------------------------------

# timed_expect DESC RC OUT CMD...: time CMD (BENCH_TIMER), which must exit RC; its output stays in
# OUT. Sets BENCH_MS.
timed_expect() {
  local desc=$1 want=$2 outf=$3 res rc
  shift 3
  res=$("$BENCH_PY" -c "$BENCH_TIMER" "$outf" "$@") || bench_die "timer failed for $desc: $res"
  rc=${res%% *}
  BENCH_MS=${res#* }
  if [ "$rc" != "$want" ]; then
    bench_log "---- $desc: exit $rc, expected $want: $*"
    cat "$outf" >&2
    bench_die "$desc failed (output above)"
  fi
}

# scan_check FILE WANT: the scan output lists WANT hosts, all up, with 3 running services each.
scan_check() {
  local hosts up svcs
  hosts=$(jq '.hosts | length' "$1") || bench_die "scan output is not the expected JSON: $(head -c 300 "$1")"
  up=$(jq '[.hosts[] | select(.up)] | length' "$1")
  svcs=$(jq '[.hosts[].services[] | select(.up and .state == "running")] | length' "$1")
  if [ "$hosts" != "$2" ] || [ "$up" != "$2" ] || [ "$svcs" != $((3 * $2)) ]; then
    bench_die "scan listed $hosts hosts ($up up) and $svcs running services, expected $2 and $((3 * $2)):" \
      "$(jq -c '[.hosts[] | {uri, up, services: (.services | length)}]' "$1" | head -c 600)"
  fi
}

scan_runs() {  # KEY WANT
  local key=$1 want=$2 i vals=() outf=$BENCH_WORK/scan.json
  for ((i = 1; i <= RUNS; i++)); do
    timed_expect "spawnctl scan" 0 "$outf" "$SP_BIN/spawnctl" scan -u local/spawnpoint --json
    scan_check "$outf" "$want"
    vals+=("$BENCH_MS")
  done
  add_row "$CSEC" "$key" "spawnctl scan --json, $want host(s)$([ "$want" = 1 ] || echo " (ratio: vs 1 host)")" ms scan1 "${vals[@]}"
}

peer_runs() {  # KEY BASE NAME CMD...
  local key=$1 base=$2 name=$3 i vals=()
  shift 3
  for ((i = 1; i <= RUNS; i++)); do
    bench_time "$name" "$@"
    vals+=("$BENCH_MS")
  done
  add_row "$CSEC" "$key" "$name" ms "$base" "${vals[@]}"
}

wait_hosts() {  # WANT: until a scan lists WANT hosts, all up (30 s)
  local i outf=$BENCH_WORK/scan-wait.json n=0
  for ((i = 0; i < 300; i++)); do
    if "$SP_BIN/spawnctl" scan -u local/spawnpoint --json > "$outf" 2> /dev/null; then
      n=$(jq '[.hosts[] | select(.up)] | length' "$outf")
      [ "$n" = "$1" ] && return 0
    fi
    bench_proc_alive "$SIM_ID" || break
    sleep 0.1
  done
  cat "$BENCH_WORK/sim.log" >&2
  bench_die "scan did not list $1 live hosts within 30 s (last: $n); the simulator's log is above"
}

CSEC="control plane (ms per command, wall clock)"
phase_control() {
  local t i p vals=() outf=$BENCH_WORK/cp.out
  for t in "${TOOLS[@]}"; do
    p=$(prefix_of "$t")c
    start_cmd "$t" "$p" svc.yaml 1000
    par_time "$t: 3 services for the control-plane rows" 0 3 "${CMD[@]}"
  done
  scan_runs scan1 1
  [ "$USE_PODMAN" = 1 ] && peer_runs ps-podman scan1 "podman ps -a (3 containers)" "${PODMAN[@]}" ps -a
  [ "$USE_DOCKER" = 1 ] && peer_runs ps-docker scan1 "docker ps -a (3 containers)" "${DOCKER[@]}" ps -a
  for ((i = 1; i <= RUNS; i++)); do
    bench_time "spawnctl inspect" "$SP_BIN/spawnctl" inspect -n sc1 --json
    vals+=("$BENCH_MS")
  done
  add_row "$CSEC" inspect "spawnctl inspect --json" ms inspect "${vals[@]}"
  [ "$USE_PODMAN" = 1 ] && peer_runs inspect-podman inspect "podman inspect" "${PODMAN[@]}" inspect pc1
  [ "$USE_DOCKER" = 1 ] && peer_runs inspect-docker inspect "docker inspect" "${DOCKER[@]}" inspect dc1
  vals=()
  for ((i = 1; i <= RUNS; i++)); do
    timed_expect "refused deploy" 5 "$outf" "$SP_BIN/spawnctl" deploy -c "$BENCH_WORK/toobig.yaml" -n toobig -t 0s
    vals+=("$BENCH_MS")
  done
  REFUSAL=$(grep -v '^$' "$outf" | tail -1)
  add_row "$CSEC" refused "spawnctl deploy refused (pool too small)" ms - "${vals[@]}"

  "$SIM_BIN" --hosts "$HOSTS" --services 3 --interval 10s --prefix local/spawnpoint/sim > "$BENCH_WORK/sim.log" 2>&1 &
  SIM_PID=$!
  SIM_ID=$(bench_proc_id "$SIM_PID")
  bench_track_pid "$SIM_PID"
  wait_hosts $((HOSTS + 1))
  scan_runs scan101 $((HOSTS + 1))
  bench_stop_pid "$SIM_ID"
  for t in "${TOOLS[@]}"; do
    p=$(prefix_of "$t")c
    stop_cmd "$t" "$p"
    par_time "$t: stop the control-plane services" 0 3 "${CMD[@]}"
  done
}

# ---- report ----------------------------------------------------------------------------------

report() {
  local row section sec name unit base med min max n ratio b
  echo
  echo "scale: burst ($BURST at once), density ($DENSITY idle), control plane (scan of 1 and $((HOSTS + 1)) hosts)"
  bench_machine_info
  printf 'peers: runc %s, podman %s, conmon %s%s; ours: runtime runc, heartbeatInterval 10s\n' \
    "$(runc --version | awk 'NR == 1 {print $3}')" \
    "$([ "$USE_PODMAN" = 1 ] && podman --version | awk '{print $3}' || echo "not run")" \
    "$(conmon --version 2> /dev/null | awk 'NR == 1 {print $3}')" \
    "$([ "$USE_DOCKER" = 1 ] && printf ', docker %s' "$("${DOCKER[@]}" version --format '{{.Server.Version}}' 2> /dev/null)" || echo ", docker not run")"
  echo "vs ours: this row's median / ours' median (lower is better for ours when > 1). Density rows: one"
  echo "figure each; where runs > 1 it is per service (sum / services) with min and max over the processes."
  printf '%-64s %7s %9s %9s %9s %5s %7s\n' row unit median min max runs "vs ours"
  for section in "${SECTIONS[@]}"; do
    echo "-- $section"
    for row in "${ROWS[@]}"; do
      IFS='|' read -r sec name unit base rest <<< "$row"
      [ "$sec" = "$section" ] || continue
      read -r med min max n <<< "$rest"
      ratio=-
      if [ "$base" != - ] && [ -n "${MEDIAN[$base]:-}" ]; then
        b=${MEDIAN[$base]}
        ratio=$(awk -v a="$med" -v b="$b" 'BEGIN {if (b > 0) printf "%.2fx", a / b; else print "-"}')
      fi
      printf '%-64s %7s %9s %9s %9s %5s %7s\n' "$name" "$unit" "$med" "$min" "$max" "$n" "$ratio"
    done
  done
  echo
  if [ -n "${MEDIAN[bns-ours]:-}" ]; then
    printf 'per service, %s at once (median burst / %s): start ours %s ms' "$BURST" "$BURST" \
      "$(awk -v a="${MEDIAN[bns-ours]}" -v n="$BURST" 'BEGIN {printf "%.1f", a / n}')"
    for t in "${TOOLS[@]:1}"; do
      printf ', %s %s ms' "$t" "$(awk -v a="${MEDIAN[bns-$t]}" -v n="$BURST" 'BEGIN {printf "%.1f", a / n}')"
    done
    echo
  fi
  [ -z "${DENSITY_FDS:-}" ] || echo "with $DENSITY idle services: $DENSITY_FDS"
  [ -z "${REFUSAL:-}" ] || echo "refused deploy said: $REFUSAL"
}

# ---- run -------------------------------------------------------------------------------------

bench_log "starting docker-registry, spawnd and the peers under $BENCH_WORK"
bench_start_registry
REG=$BENCH_REGISTRY
make_image
start_spawnd
write_service_files
bench_run "spawnctl images pull $IMAGE" "$SP_BIN/spawnctl" images pull "$IMAGE"
if [ "$USE_PODMAN" = 1 ]; then
  bench_setup_podman ""
  bench_podman_import "$ROOTFS" scale-busybox:1
  TOOLS+=(podman)
fi
if [ "$USE_DOCKER" = 1 ]; then
  bench_start_dockerd 10.216.0.1/24
  bench_docker_import "$ROOTFS" scale-busybox:1
  TOOLS+=(docker)
fi
bench_log "tools: ${TOOLS[*]}; burst $BURST x $BURST_RUNS, N=1 x $RUNS, density $DENSITY, $HOSTS simulated hosts"
for phase in $PHASES; do
  case $phase in
    burst) phase_burst ;;
    density) phase_density ;;
    control) phase_control ;;
  esac
done
report
