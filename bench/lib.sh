# shellcheck shell=bash
# Shared helpers for the bench/*.sh scripts; source it, do not run it.
#
#   . "$(dirname "$0")/lib.sh"
#
# What it gives a benchmark script:
#   - one EXIT trap that runs registered cleanups in reverse order (bench_on_exit), stops the
#     processes the script started by their PID (bench_track_pid), unmounts whatever is still
#     mounted under the script's work directory and removes it (bench_workdir);
#   - loud failures: bench_run runs a command with its output kept in a log and, when it fails,
#     prints that output and exits; bench_time does the same and measures the command with
#     CLOCK_MONOTONIC (Python's time.monotonic_ns around the child; the interpreter's own start is
#     not counted), leaving the elapsed milliseconds in BENCH_MS;
#   - statistics (bench_stats: median, min, max, n) and machine facts (bench_machine_info);
#   - servers on loopback: a free port, Debian's docker-registry on a temp directory,
#     spawnd with a temp state directory and its embedded router, and a podman whose
#     storage, run and temp directories are all under the work directory.
# Nothing here kills by name: every process is stopped by the PID recorded when it was started.
# Requires bash 4+, run as root (spawnd, podman storage and apt-get need it).

# ---- errors and logging ----------------------------------------------------------------------

bench_log() { printf '%s\n' "$*" >&2; }
bench_die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

bench_require_root() {
  [ "$(id -u)" -eq 0 ] || bench_die "run as root (spawnd, podman storage and package installs need it)"
}

# Python 3 for the monotonic timer and a few JSON/file helpers (Debian's, not a pyenv shim).
BENCH_PY=/usr/bin/python3
[ -x "$BENCH_PY" ] || BENCH_PY=$(command -v python3 || true)

# ---- cleanup ---------------------------------------------------------------------------------

BENCH_CLEANUPS=()
BENCH_PIDS=()
BENCH_WORK=""

# bench_on_exit CMD: run CMD (a string, eval'd) at exit; the last registered runs first.
bench_on_exit() { BENCH_CLEANUPS+=("$1"); }

# A process is named by "PID:STARTTIME" (its start time in clock ticks since boot, field 22 of
# /proc/PID/stat), so a PID the kernel has since given to another process is never signalled.
# bench_proc_id PID: prints "PID:STARTTIME", or nothing if PID is gone.
bench_proc_id() {
  local st
  [[ $1 =~ ^[0-9]+$ ]] || return 0
  st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 0
  [ -n "$st" ] && printf '%s:%s\n' "$1" "$(awk '{print $20}' <<< "$st")"
}

# bench_proc_alive ID: true while the process ID names is running (not gone, not a zombie).
bench_proc_alive() {
  local pid=${1%%:*} start=${1#*:} st f
  [[ $pid =~ ^[0-9]+$ && $start =~ ^[0-9]+$ ]] || return 1
  st=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ -n "$st" ] || return 1
  read -r -a f <<< "$st"
  [ "${f[19]}" = "$start" ] && [ "${f[0]}" != Z ]
}

# bench_track_pid PID: stop PID at exit (SIGTERM, then SIGKILL after 10 s) unless already gone.
bench_track_pid() {
  local id
  id=$(bench_proc_id "$1")
  [ -n "$id" ] && BENCH_PIDS+=("$id")
  return 0
}

# bench_stop_pid ID [SECONDS]: ID is "PID:STARTTIME" (bench_proc_id) or a bare PID of a child
# started just before. SIGTERM, wait up to SECONDS (default 10), then SIGKILL. Returns once the
# process is gone; reaps it when it is this shell's child.
bench_stop_pid() {
  local id=$1 limit=${2:-10} pid i
  [[ $id == *:* ]] || id=$(bench_proc_id "$id")
  [ -n "$id" ] || return 0
  pid=${id%%:*}
  if bench_proc_alive "$id"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < limit * 10; i++)); do
      bench_proc_alive "$id" || break
      sleep 0.1
    done
    if bench_proc_alive "$id"; then
      bench_log "pid $pid ($(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c1-80)) did not stop" \
        "after SIGTERM within ${limit}s ($(grep -E '^(State|SigBlk|SigIgn|SigCgt):' "/proc/$pid/status" 2>/dev/null |
          tr '\n\t' '  ')); sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

# bench_umount_under DIR: unmount every mount point at or below DIR, deepest first.
bench_umount_under() {
  local dir=$1 m
  [ -n "$dir" ] || return 0
  awk -v d="$dir" '$2 == d || index($2, d "/") == 1 {print $2}' /proc/self/mounts | sort -r |
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
}

bench_cleanup() {
  local rc=$? i
  set +e
  for ((i = ${#BENCH_CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${BENCH_CLEANUPS[$i]}"; done
  for ((i = ${#BENCH_PIDS[@]} - 1; i >= 0; i--)); do bench_stop_pid "${BENCH_PIDS[$i]}"; done
  if [ -n "$BENCH_WORK" ] && [ -d "$BENCH_WORK" ]; then
    if [ -n "${BENCH_KEEP:-}" ]; then
      bench_log "BENCH_KEEP set: leaving $BENCH_WORK"
    else
      bench_umount_under "$BENCH_WORK"
      rm -rf "$BENCH_WORK"
    fi
  fi
  return "$rc"
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# bench_workdir NAME: make the script's temp directory (removed at exit); sets BENCH_WORK.
bench_workdir() {
  BENCH_WORK=$(mktemp -d "/tmp/sp-bench-$1-XXXXXX")
}

# ---- tools -----------------------------------------------------------------------------------

# bench_ensure_tools CMD:PACKAGE ...: apt-get install the packages whose command is missing.
# A CMD starting with / is checked as a file (e.g. /bin/busybox from busybox-static).
bench_ensure_tools() {
  local spec cmd pkg missing=()
  for spec in "$@"; do
    cmd=${spec%%:*}
    pkg=${spec#*:}
    if [[ $cmd == /* ]]; then [ -x "$cmd" ] && continue; else command -v "$cmd" > /dev/null && continue; fi
    missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  bench_log "installing missing packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" > /tmp/sp-bench-apt.log 2>&1 || {
    cat /tmp/sp-bench-apt.log >&2
    bench_die "apt-get install ${missing[*]} failed (output above)"
  }
  rm -f /tmp/sp-bench-apt.log
}

# bench_check_build: the Spawnpoint binaries from BUILD_DIR (default: the checkout's build/);
# sets SP_BIN. Builds nothing.
bench_check_build() {
  local root b
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  SP_BIN=${BUILD_DIR:-$root/build}/bin
  for b in spawnd spawnctl spawn-monitor spawn-init; do
    [ -x "$SP_BIN/$b" ] || bench_die "$SP_BIN/$b is missing or not executable: run make build first (or set BUILD_DIR)"
  done
}

# ---- running and timing ----------------------------------------------------------------------

BENCH_LOG_SEQ=0
# bench_run DESC CMD...: run CMD with stdout+stderr in a log; on failure print the log and exit.
bench_run() {
  local desc=$1 log rc=0
  shift
  BENCH_LOG_SEQ=$((BENCH_LOG_SEQ + 1))
  log=${BENCH_WORK:-/tmp}/.cmd-$BENCH_LOG_SEQ.log
  "$@" > "$log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    bench_log "---- $desc failed (exit $rc): $*"
    cat "$log" >&2
    bench_log "----"
    exit 1
  fi
  rm -f "$log"
}

# The timer: runs argv[2:] with output to argv[1], measures with CLOCK_MONOTONIC, prints
# "<exit code> <milliseconds with 0.1 resolution>".
BENCH_TIMER='
import subprocess, sys, time
with open(sys.argv[1], "wb") as log:
    t0 = time.monotonic_ns()
    rc = subprocess.call(sys.argv[2:], stdout=log, stderr=subprocess.STDOUT)
    t1 = time.monotonic_ns()
print(rc, "%.1f" % ((t1 - t0) / 1e6))
'

# bench_time DESC CMD...: like bench_run, and sets BENCH_MS to the command's wall-clock time.
bench_time() { bench_time_with "$BENCH_TIMER" "$@"; }

# bench_time_with TIMER DESC ARGS...: bench_time with another timer script (python source that
# gets the log path and ARGS, runs what ARGS say and prints "<exit code> <ms>").
bench_time_with() {
  local timer=$1 desc=$2 log out rc
  shift 2
  BENCH_LOG_SEQ=$((BENCH_LOG_SEQ + 1))
  log=${BENCH_WORK:-/tmp}/.cmd-$BENCH_LOG_SEQ.log
  out=$("$BENCH_PY" -c "$timer" "$log" "$@") || bench_die "timer failed for $desc: $out"
  rc=${out%% *}
  BENCH_MS=${out#* }
  if [ "$rc" -ne 0 ]; then
    bench_log "---- $desc failed (exit $rc after $BENCH_MS ms): $*"
    cat "$log" >&2
    bench_log "----"
    exit 1
  fi
  rm -f "$log"
}

# bench_stats V...: prints "median min max n" (median of an even count: mean of the middle two).
bench_stats() {
  printf '%s\n' "$@" | sort -g | awk 'NF {a[++n] = $1}
    END {
      if (n == 0) { print "- - - 0"; exit }
      m = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
      printf "%.1f %.1f %.1f %d\n", m, a[1], a[n], n
    }'
}

# bench_machine_info: one line: CPU model, cores, memory, kernel, load average (1, 5, 15 min).
bench_machine_info() {
  local cpu
  cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  printf 'machine: %s, %s cores, %s, kernel %s, load average %s\n' "${cpu:-unknown CPU}" "$(nproc)" \
    "$(awk '/MemTotal/ {printf "%d MiB", $2 / 1024}' /proc/meminfo)" "$(uname -r)" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# ---- loopback servers ------------------------------------------------------------------------

# bench_free_port: a TCP port free on 127.0.0.1 right now.
bench_free_port() {
  "$BENCH_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# bench_wait_http URL SECONDS LOGFILE: wait until URL answers with any HTTP status.
bench_wait_http() {
  local url=$1 limit=$2 logf=$3 i
  for ((i = 0; i < limit * 10; i++)); do
    curl -s -o /dev/null "$url" && return 0
    sleep 0.1
  done
  [ -f "$logf" ] && cat "$logf" >&2
  bench_die "$url did not answer within ${limit}s (log above)"
}

# bench_start_registry: Debian's docker-registry on 127.0.0.1:<free port>, storage under
# BENCH_WORK/registry. Sets BENCH_REGISTRY (host:port) and BENCH_REGISTRY_PID.
bench_start_registry() {
  local dir=$BENCH_WORK/registry port
  mkdir -p "$dir/data"
  port=$(bench_free_port)
  cat > "$dir/config.yml" <<YML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YML
  docker-registry serve "$dir/config.yml" > "$dir/registry.log" 2>&1 &
  BENCH_REGISTRY_PID=$!
  bench_track_pid "$BENCH_REGISTRY_PID"
  BENCH_REGISTRY=127.0.0.1:$port
  bench_wait_http "http://$BENCH_REGISTRY/v2/" 20 "$dir/registry.log"
}

# bench_start_spawnd [EXTRA_YAML]: spawnd with its embedded router on a free loopback port, a
# state directory under BENCH_WORK, a random bridge name and /24 subnet, and EXTRA_YAML appended
# to its config. Exports SPAWNPOINT_STATE_DIR for spawnctl; sets SPAWND_CONFIG, SPAWND_STATE,
# SPAWND_PID and SPAWND_ID (bench_proc_id). At exit: SIGTERM by PID, then `spawnd decommission` (bridge, firewall, cgroups).
# bench_start_spawnd [EXTRA-YAML]: spawnd on a temp state dir and its own router port. A caller
# may set SPAWND_PATH, SPAWND_CPU, SPAWND_MEM, SPAWND_BRIDGE_PREFIX and SPAWND_NET (the /16 its
# random /24 comes from) to keep apart from other scripts' daemons.
bench_start_spawnd() {
  local extra=${1:-} i rc
  SPAWND_STATE=$BENCH_WORK/state
  SPAWND_CONFIG=$BENCH_WORK/spawnd.yml
  cat > "$SPAWND_CONFIG" <<YML
path: ${SPAWND_PATH:-bench/spawnpoint/host$$}
cpuShares: ${SPAWND_CPU:-4096}
memory: ${SPAWND_MEM:-4096}
stateDir: $SPAWND_STATE
routerListen: 127.0.0.1:0
bridgeName: ${SPAWND_BRIDGE_PREFIX:-spb}$(printf '%04x' $((RANDOM % 65536)))
bridgeSubnet: ${SPAWND_NET:-10.214}.$((RANDOM % 250 + 1)).0/24
$extra
YML
  "$SP_BIN/spawnd" run -c "$SPAWND_CONFIG" > "$BENCH_WORK/spawnd.log" 2>&1 &
  SPAWND_PID=$!
  SPAWND_ID=$(bench_proc_id "$SPAWND_PID")
  # Registered as a cleanup (not a tracked PID) so decommission runs after the daemon is gone.
  bench_on_exit 'bench_stop_spawnd'
  export SPAWNPOINT_STATE_DIR=$SPAWND_STATE
  for ((i = 0; i < 300; i++)); do
    rc=0
    "$SP_BIN/spawnctl" scan > /dev/null 2>&1 || rc=$?
    [ "$rc" -eq 0 ] && return 0
    bench_proc_alive "$SPAWND_ID" || break
    sleep 0.1
  done
  cat "$BENCH_WORK/spawnd.log" >&2
  bench_log "spawnctl scan output:"
  "$SP_BIN/spawnctl" scan >&2 || true
  bench_die "spawnd did not answer spawnctl scan within 30 s (its log and spawnctl's answer are above)"
}

bench_stop_spawnd() {
  [ -n "${SPAWND_PID:-}" ] || return 0
  [ -n "${SPAWND_ID:-}" ] && bench_stop_pid "$SPAWND_ID" 20
  "$SP_BIN/spawnd" decommission -c "$SPAWND_CONFIG" > "$BENCH_WORK/decommission.log" 2>&1 ||
    { bench_log "spawnd decommission failed:"; cat "$BENCH_WORK/decommission.log" >&2; }
  SPAWND_PID=""
}

# bench_setup_podman [INSECURE_REGISTRY]: a podman whose every directory is under
# BENCH_WORK/podman (storage root, run root, tmp, static, volumes, events log), runc with
# cgroupfs and the open-files limit this machine allows, and INSECURE_REGISTRY reached over
# plain HTTP. Exports CONTAINERS_CONF, CONTAINERS_REGISTRIES_CONF and CONTAINERS_STORAGE_CONF;
# sets the array PODMAN (the command with --root/--runroot). At exit: rmi everything, unmount.
bench_setup_podman() {
  local reg=${1:-} d=$BENCH_WORK/podman
  mkdir -p "$d/root" "$d/runroot" "$d/tmp" "$d/net"
  cat > "$d/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$d/events.log"
tmp_dir = "$d/tmp"
static_dir = "$d/root/libpod"
volume_path = "$d/root/volumes"

[network]
network_config_dir = "$d/net"
CONF
  cat > "$d/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$d/root"
runroot = "$d/runroot"
CONF
  {
    echo 'unqualified-search-registries = []'
    if [ -n "$reg" ]; then
      printf '\n[[registry]]\nlocation = "%s"\ninsecure = true\n' "$reg"
    fi
  } > "$d/registries.conf"
  export CONTAINERS_CONF=$d/containers.conf
  export CONTAINERS_STORAGE_CONF=$d/storage.conf
  export CONTAINERS_REGISTRIES_CONF=$d/registries.conf
  # shellcheck disable=SC2034  # used by the scripts that source this file
  PODMAN=(podman --root "$d/root" --runroot "$d/runroot" --storage-driver overlay)
  # shellcheck disable=SC2016  # expanded at exit, by eval
  bench_on_exit '"${PODMAN[@]}" rmi -a -f > /dev/null 2>&1; bench_umount_under "$BENCH_WORK/podman"'
}

# ==== docker, and importing a rootfs into docker and podman (added with bench/startup.sh) =====
# A private dockerd: every directory it writes under BENCH_WORK/docker (data root, exec root with
# its own containerd, pid file, socket, an empty daemon.json so /etc/docker/daemon.json is not
# read), the cgroup parent /spbdocker-<script pid>, and its own network namespace (ip netns
# spbd-<script pid>) so the bridge, the iptables rules and ip_forward it sets up (with
# --iptables, docker's defaults) neither clash with another dockerd nor outlive the run: a
# second dockerd with iptables in the same namespace deletes and recreates the DOCKER chains.
# The namespace changes no code path of docker's: `--network bridge` still creates a veth pair,
# moves one end into the container and adds NAT rules, only in a namespace that holds nothing
# else.

# bench_start_dockerd [BIP]: start dockerd (docker.io's /usr/sbin/dockerd), its default bridge
# docker0 at BIP (default 10.215.200.1/24) inside the private namespace, overlay2, cgroupfs.
# Sets the array DOCKER (/usr/bin/docker with -H and --config), DOCKERD_PID and DOCKERD_ID.
# At exit: every container removed, dockerd stopped by PID, the namespace and cgroup parent
# removed.
bench_start_dockerd() {
  local bip=${1:-10.215.200.1/24} d=$BENCH_WORK/docker i
  if [ ! -x /usr/sbin/dockerd ] || [ ! -x /usr/bin/docker ]; then
    bench_die "dockerd or /usr/bin/docker is missing: apt-get install docker.io"
  fi
  mkdir -p "$d/data" "$d/exec" "$d/client"
  echo '{}' > "$d/daemon.json"
  DOCKERD_NETNS=spbd-$$
  DOCKERD_CGROUP=/spbdocker-$$
  ip netns add "$DOCKERD_NETNS" || bench_die "ip netns add $DOCKERD_NETNS failed"
  bench_on_exit 'bench_stop_dockerd'
  ip -n "$DOCKERD_NETNS" link set lo up
  # nsenter enters only the network namespace (ip netns exec would also remount /sys and hide
  # the cgroup hierarchies from dockerd).
  nsenter --net="/run/netns/$DOCKERD_NETNS" /usr/sbin/dockerd --data-root "$d/data" --exec-root "$d/exec" \
    --pidfile "$d/dockerd.pid" -H "unix://$d/docker.sock" --config-file "$d/daemon.json" \
    --storage-driver overlay2 --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "$DOCKERD_CGROUP" \
    --bip "$bip" --log-level warn > "$d/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  DOCKERD_ID=$(bench_proc_id "$DOCKERD_PID")
  # shellcheck disable=SC2034  # used by the scripts that source this file
  DOCKER=(/usr/bin/docker -H "unix://$d/docker.sock" --config "$d/client")
  for ((i = 0; i < 300; i++)); do
    "${DOCKER[@]}" version > /dev/null 2>&1 && return 0
    bench_proc_alive "$DOCKERD_ID" || break
    sleep 0.1
  done
  cat "$d/dockerd.log" >&2
  bench_die "dockerd did not answer on $d/docker.sock within 30 s (its log is above)"
}

bench_stop_dockerd() {
  local ids c
  if [ -n "${DOCKERD_ID:-}" ]; then
    if bench_proc_alive "$DOCKERD_ID"; then
      ids=$("${DOCKER[@]}" ps -aq 2> /dev/null) || ids=""
      # shellcheck disable=SC2086  # one id per word
      [ -n "$ids" ] && "${DOCKER[@]}" rm -f $ids > /dev/null 2>&1
    fi
    bench_stop_pid "$DOCKERD_ID" 30
    DOCKERD_ID=""
  fi
  if [ -n "${DOCKERD_NETNS:-}" ]; then
    ip netns del "$DOCKERD_NETNS" 2> /dev/null
    DOCKERD_NETNS=""
  fi
  if [ -n "${DOCKERD_CGROUP:-}" ]; then
    for c in /sys/fs/cgroup/*/; do
      [ -d "$c${DOCKERD_CGROUP#/}" ] && find "$c${DOCKERD_CGROUP#/}" -depth -type d -exec rmdir {} + 2> /dev/null
    done
    DOCKERD_CGROUP=""
  fi
  return 0
}

# bench_tar_rootfs ROOTFS: write ROOTFS as a tar stream (numeric owners) to stdout.
bench_tar_rootfs() { tar --numeric-owner -C "$1" -cf - .; }

# bench_docker_import ROOTFS NAME: make docker image NAME (one layer) from the directory ROOTFS.
bench_docker_import() {
  bench_tar_rootfs "$1" | "${DOCKER[@]}" import - "$2" > "$BENCH_WORK/.docker-import.log" 2>&1 || {
    cat "$BENCH_WORK/.docker-import.log" >&2
    bench_die "docker import of $1 as $2 failed (output above)"
  }
}

# bench_podman_import ROOTFS NAME: the same for the podman of bench_setup_podman.
bench_podman_import() {
  bench_tar_rootfs "$1" | "${PODMAN[@]}" import - "$2" > "$BENCH_WORK/.podman-import.log" 2>&1 || {
    cat "$BENCH_WORK/.podman-import.log" >&2
    bench_die "podman import of $1 as $2 failed (output above)"
  }
}
# ==== end of the docker section ================================================================
