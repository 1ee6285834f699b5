#!/usr/bin/env bash
# Container start and restart after a crash: Spawnpoint (runc and crun backends) against bare
# `runc run -d` / `crun run -d`, `podman run -d` and `docker run -d`, on the same busybox image,
# in the same run, printed as one table (rows 1 and 2 of the issue-5 suite).
#
#   RUNS=20 BUILD_DIR=/work/main/build bench/startup.sh      (as root, after `make build`)
#
# Environment: RUNS (default 20) timed rounds after WARMUP (default 1) untimed ones; SETTLE
# (default 0.2) seconds of pause before each timed step, so the previous step's asynchronous
# teardown (network namespaces, cgroups, overlay unmounts) lands on nobody's clock; BUILD_DIR;
# PROFILE=N (default 0): after the table, N more deploys per row of ours, each split into phases
# (see "Profile" below); PROFILE_ONLY=1 skips the peers and the table and prints only the profile;
# PEERS=0 leaves podman and docker out (ours and the bare runtimes only: a quicker check while
# working on our start path; the table's podman/docker rows and ratios then show "-").
#
# Setup (everything under one temp directory, removed at exit; every process this script starts
# is stopped by its PID; nothing touches the machine's own docker, podman or spawnd state):
#   - The image: a static /bin/busybox (busybox-static) and its applet symlinks, one layer, made
#     with umoci and pushed with skopeo to Debian's docker-registry on 127.0.0.1:<free port>.
#     Our daemons pull it once before timing (`spawnctl images pull`), so every start uses the
#     cached image; podman and docker get the same tree by `import`; the bare runtimes get an
#     unpacked copy of it as the overlay's lower directory.
#   - Two spawnd daemons, each with its own state directory, embedded router on 127.0.0.1:0,
#     bridge (spbs<runtime><hex>) and subnet (10.215.11.0/24 for runc, 10.215.12.0/24 for crun),
#     `enableHostNetworking: true`; one with the default `runtime: runc`, one with `runtime: crun`
#     (which runs crun in a private mount namespace without /sys/fs/cgroup/unified, see
#     /work/shared/FACTS.md). Stopped by PID, then `spawnd decommission`.
#   - podman (lib.sh bench_setup_podman: runc, cgroupfs, storage under the temp dir) with its own
#     bridge network (netavark, interface spbp<hex>, 10.215.201.0/24) for the network row, since
#     the default network `podman` (podman0, 10.88.0.0/16) would be shared with any other podman
#     on the machine.
#   - dockerd from docker.io (lib.sh bench_start_dockerd: data/exec roots under the temp dir,
#     overlay2, cgroupfs, docker's default iptables setup, docker0 at 10.215.200.1/24) in a network
#     namespace of its own so its iptables chains cannot clash with another dockerd's.
#
# Row 1, cold start (cached image): from the command to the service's process running. Each
# command below returns once the container's process has been started, so the time is the
# wall clock of the command, CLOCK_MONOTONIC around the child (python's time.monotonic_ns; the
# interpreter's own start is not counted), resolution 0.1 ms:
#   - ours: `spawnctl deploy -c deploy.yaml -n NAME -t 0s` (cpuShares 256, memory 64, the image,
#     run [/bin/sleep, "1000"]) until it exits 0; then `spawnctl stop` (untimed). Without network:
#     `useHostNet: true` (no network namespace is set up at all); with network: our CNI bridge.
#   - bare runc: `mount -t overlay` of the image copy (fresh upper and work directories each run)
#     then `runc --root R run -d --bundle B ID`, both timed (one python timer runs the two in a
#     row). config.json: `runc spec` edited to run sleep 1000, root read-write, no terminal,
#     memory 64 MiB (swap the same), cpu shares 256, pids 4096 (what our bundle sets); it keeps
#     the spec's network namespace, a fresh one with nothing configured, as `--network none`
#     does. Untimed: `runc delete -f`, umount, remove upper/work.
#   - bare crun: the same bundle with `crun` run through the wrapper this hybrid-cgroup host
#     needs: `unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified && exec crun
#     "$@"'`; the wrapper is part of the timed command, as it is part of our crun backend's.
#   - podman: `podman run -d --network none IMAGE sleep 1000` (and `--network <our bridge net>`);
#     then `podman rm -f -t 0` (untimed).
#   - docker: `docker run -d --network none IMAGE sleep 1000` (and `--network bridge`); then
#     `docker rm -f` (untimed).
# Row 2, restart after a crash: from the service's process exiting to its replacement running.
#   Each run starts a fresh service (so the first restart is the one measured: ours restarts
#   the first crash at once, per our restart policy; docker always waits its 100 ms restart
#   backoff first, that is docker's behaviour and is counted) running `/bin/sh -c 'sleep 1000'`
#   without network: ours with `autoRestart: true`, `restartPolicy: {initialDelay: 100ms}`,
#   `useHostNet: true`; `podman run -d --restart=always --network none`; `docker run -d
#   --restart=always --network none`. The script reads the container's host pid from inspect
#   and takes the process running the service's program: that pid for podman and docker, its
#   child for ours (our container's pid 1 is spawn-init, which runs the program as its child and
#   exits with its status). A python probe subscribes to the kernel's process events (netlink
#   proc connector, each event stamped by the kernel with CLOCK_MONOTONIC in ns), sends SIGKILL
#   to that process and waits for the replacement: the first exec by a process in the same
#   cgroup (the pids controller's path, which the container keeps across restarts) whose
#   command is sh or sleep.
#   The figure is exec timestamp minus the old process's exit timestamp, both from the kernel:
#   resolution well under 0.1 ms, and the probe does not poll, so it takes no CPU from the
#   daemons meanwhile. Untimed, the script then waits until inspect reports a new pid running
#   (whose program must be the process the probe saw) and prints a second figure, the daemon's
#   own record:
#   inspect's startedAt minus the wall-clock time taken just before kill(2) (ns resolution for
#   podman and docker, ms for ours, whose startedAt has millisecond precision).
# Profile (PROFILE=N): where our deploy's time goes. The proc connector records every fork, exec
# and exit of spawnctl and of spawnd's descendants during one `spawnctl deploy`, kernel-stamped;
# the phases are: spawnctl start -> spawn-monitor exec (spawnctl's start, connect and request,
# then the daemon's work: reservation, state, overlay mount, generated files, CNI), of which the
# CNI plugins' span; monitor exec -> the runtime's exec (`run --detach`; with crun, the unshare
# wrapper's first exec); the runtime process (its exec to its exit: it exits once the container
# is started, which may be just before the container's first exec); runtime exec -> the
# container's first exec (spawn-init: namespaces, mounts, cgroups); spawn-init exec -> the
# program's exec; the later of the runtime's exit and the program's exec -> spawnctl's exit (the
# monitor's readiness report, the daemon's reply, spawnctl's exit).
# Rounds interleave every row (ours runc, ours crun, runc, crun, podman, docker, then the
# restarts) so drift hits all alike. Output: one table (median, min, max, runs) with the ratios
# the issue's targets use, the tool versions and the machine (CPU, cores, memory, kernel, load).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"

RUNS=${RUNS:-20}
WARMUP=${WARMUP:-1}
SETTLE=${SETTLE:-0.2}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || bench_die "RUNS must be a positive integer, got '$RUNS'"
[[ $WARMUP =~ ^[0-9]+$ ]] || bench_die "WARMUP must be a non-negative integer, got '$WARMUP'"
PROFILE=${PROFILE:-0}
[[ $SETTLE =~ ^[0-9]+(\.[0-9]+)?$ ]] || bench_die "SETTLE must be a number of seconds, got '$SETTLE'"
[[ $PROFILE =~ ^[0-9]+$ ]] || bench_die "PROFILE must be a non-negative integer, got '$PROFILE'"
PROFILE_ONLY=${PROFILE_ONLY:-0}
PEERS=${PEERS:-1}
if [ "$PROFILE_ONLY" = 1 ] && [ "$PROFILE" -eq 0 ]; then PROFILE=5; fi

bench_require_root
bench_check_build
bench_ensure_tools docker-registry:docker-registry skopeo:skopeo umoci:umoci podman:podman \
  /bin/busybox:busybox-static curl:curl jq:jq runc:runc crun:crun /usr/sbin/dockerd:docker.io \
  /usr/bin/docker:docker.io unshare:util-linux nsenter:util-linux
[ -n "$BENCH_PY" ] || bench_die "python3 is needed for the timer"
bench_workdir startup

HEX=$(printf '%04x' $(($$ % 65536)))
IMAGE_NAME=spb-busybox:startup
CPU_SHARES=256
MEMORY_MIB=64

# ---- python helpers --------------------------------------------------------------------------

# Runs the commands of argv[2:] (separated by the word --then--) one after the other, output to
# argv[1], stopping at the first failure; prints "<exit code> <ms, 0.1 resolution>" for them all.
SEQ_TIMER='
import subprocess, sys, time
cmds, cur = [], []
for a in sys.argv[2:]:
    if a == "--then--":
        cmds.append(cur); cur = []
    else:
        cur.append(a)
cmds.append(cur)
rc = 0
with open(sys.argv[1], "wb") as log:
    t0 = time.monotonic_ns()
    for c in cmds:
        rc = subprocess.call(c, stdout=log, stderr=subprocess.STDOUT)
        if rc != 0:
            break
    t1 = time.monotonic_ns()
print(rc, "%.1f" % ((t1 - t0) / 1e6))
'

# The restart probe: argv[1] = the container's host pid, argv[2] = seconds to wait. Subscribes to
# the proc connector, kills the pid, and waits for the first exec of sh or sleep by a process in
# the same pids cgroup. Prints "<new pid> <exit->exec ms> <kill->exit ms> <kill wall-clock ns>".
RESTART_PROBE='
import os, signal, socket, struct, sys, time
old, limit = int(sys.argv[1]), float(sys.argv[2])
NETLINK_CONNECTOR, CN_IDX_PROC, CN_VAL_PROC, LISTEN = 11, 1, 1, 1
EXEC, EXIT = 0x2, 0x80000000
def pids_cgroup(pid):
    try:
        with open("/proc/%d/cgroup" % pid) as f:
            for line in f:
                _, ctl, path = line.rstrip("\n").split(":", 2)
                if "pids" in ctl.split(","):
                    return path
    except OSError:
        return None
    return None
def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None
target = pids_cgroup(old)
if not target or target == "/":
    sys.exit("pid %d has no pids cgroup of its own (got %r)" % (old, target))
s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE: past rmem_max (root)
s.bind((0, CN_IDX_PROC))
cn = struct.pack("=IIIIHH", CN_IDX_PROC, CN_VAL_PROC, 0, 0, 4, 0) + struct.pack("=I", LISTEN)
s.send(struct.pack("=IHHII", 16 + len(cn), 3, 0, 0, 0) + cn)
kill_real = time.time_ns()
kill_mono = time.monotonic_ns()
os.kill(old, signal.SIGKILL)
deadline = time.monotonic() + limit
exit_ts = None
found = None
nevents = 0
seen = []
while found is None or exit_ts is None:
    left = deadline - time.monotonic()
    if left <= 0:
        sys.exit("no replacement of pid %d seen in cgroup %s within %gs (old exit seen: %s; "
                 "%d events read; execs in that cgroup: %s)"
                 % (old, target, limit, exit_ts is not None, nevents, seen or "none"))
    s.settimeout(left)
    try:
        data = s.recv(1 << 16)
    except socket.timeout:
        continue
    except OSError as e:
        sys.exit("reading process events: %s (events were lost)" % e)
    off = 0
    while off + 16 <= len(data):
        nl_len = struct.unpack_from("=I", data, off)[0]
        if nl_len < 16:
            break
        nevents += 1
        what, _cpu, ts = struct.unpack_from("=IIQ", data, off + 36)
        if what == EXIT:
            _pid, tgid = struct.unpack_from("=II", data, off + 52)
            if tgid == old and _pid == old and exit_ts is None:
                exit_ts = ts
        elif what == EXEC and found is None and ts > kill_mono:
            pid, tgid = struct.unpack_from("=II", data, off + 52)
            cg = pids_cgroup(pid)
            if pid == tgid and pid != old and cg == target:
                name = comm(pid)
                seen.append("%d:%s" % (pid, name))
                if name in ("sh", "sleep"):
                    found = (pid, ts)
        off += (nl_len + 3) & ~3
print(found[0], "%.2f" % ((found[1] - exit_ts) / 1e6), "%.2f" % ((exit_ts - kill_mono) / 1e6), kill_real)
'

# RFC 3339 (any fraction, Z or an offset) to ns since the epoch; prints "-" when it cannot parse.
RFC3339_NS='
import re, sys, calendar
m = re.match(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?\s*(Z|[+-]\d\d:?\d\d)", sys.argv[1])
if not m:
    print("-"); sys.exit(0)
y, mo, d, h, mi, se, frac, tz = m.groups()
ns = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(se))) * 10**9
ns += int(((frac or "") + "000000000")[:9])
if tz != "Z":
    sign = 1 if tz[0] == "+" else -1
    tz = tz[1:].replace(":", "")
    ns -= sign * (int(tz[:2]) * 3600 + int(tz[2:]) * 60) * 10**9
print(ns)
'

# The deploy profile: argv[1] = spawnd's pid, argv[2:] = the spawnctl deploy command. Prints
# "name=ms ..." for the phases in the header, or "skip=<reason>" when a marker was not seen.
DEPLOY_PROFILE='
import os, re, socket, struct, subprocess, sys, threading, time
root, cmd = int(sys.argv[1]), sys.argv[2:]
s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 11)
s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)
s.bind((0, 1))
cn = struct.pack("=IIIIHH", 1, 1, 0, 0, 4, 0) + struct.pack("=I", 1)
s.send(struct.pack("=IHHII", 16 + len(cn), 3, 0, 0, 0) + cn)
events, parent, stop = [], {}, []
def reader():  # until stopped and 0.1 s without events (it may lag behind the kernel)
    s.settimeout(0.1)
    while True:
        try:
            d = s.recv(1 << 16)
        except socket.timeout:
            if stop:
                break
            continue
        what, _cpu, ts = struct.unpack_from("=IIQ", d, 36)
        if what == 1:
            _pp, ptgid, cpid, ctgid = struct.unpack_from("=IIII", d, 52)
            if cpid == ctgid:
                parent[cpid] = ptgid
        elif what == 2:
            pid, tgid = struct.unpack_from("=II", d, 52)
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    line = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                line = "?"
            events.append((ts, "exec", pid, line))
        elif what == 0x80000000:
            pid, tgid = struct.unpack_from("=II", d, 52)
            if pid == tgid:
                events.append((ts, "exit", pid, ""))
t = threading.Thread(target=reader)
t.start()
time.sleep(0.05)
t0 = time.monotonic_ns()
child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
rc = child.wait()
t1 = time.monotonic_ns()
time.sleep(0.05)
stop.append(1)
t.join()
if rc != 0:
    sys.exit("the profiled deploy failed (exit %d)" % rc)
top = {root, child.pid}
def ours(pid):
    for _ in range(64):
        if pid in top:
            return True
        if pid not in parent:
            return False
        pid = parent[pid]
    return False
ev = sorted(e for e in events if t0 <= e[0] <= t1 and ours(e[2]))
def first(kind, pattern, after):
    for ts, k, pid, line in ev:
        if k == kind and ts >= after and re.search(pattern, line):
            return ts, pid
    return None, None
def exit_of(pid, after):
    for ts, k, p, _ in ev:
        if k == "exit" and p == pid and ts >= after:
            return ts
    return None
mon, _ = first("exec", r"spawn-monitor ", t0)
rt, rtpid = first("exec", r" run --detach |^\S*unshare ", mon or t1)
init, _ = first("exec", r"^/\.spawnpoint/init ", rt or t1)
prog, _ = first("exec", r"^/bin/sleep ", init or t1)
rtx = exit_of(rtpid, rt) if rtpid else None
marks = dict(monitor=mon, runtime=rt, init=init, program=prog, runtime_exit=rtx)
missing = [k for k, v in marks.items() if v is None]
if missing:
    print("skip=" + ",".join(missing))
    sys.exit(0)
cni = [ts for ts, k, pid, line in ev if k == "exec" and "/cni/" in line and ts < mon]
cni_end = [ts for ts, k, pid, line in ev if k == "exit" and ts < mon and any(p == pid for _, kk, p, l in ev if kk == "exec" and "/cni/" in l)]
ms = lambda a, b: "%.1f" % ((b - a) / 1e6)
print(" ".join([
    "to_monitor=" + ms(t0, mon),
    "cni=" + (ms(min(cni), max(cni_end)) if cni and cni_end else "0.0"),
    "to_runtime=" + ms(mon, rt),
    "runtime=" + ms(rt, rtx),
    "to_init=" + ms(rt, init),
    "to_program=" + ms(init, prog),
    "reply=" + ms(max(prog, rtx), t1),
    "total=" + ms(t0, t1)]))
'

# time_seq DESC CMD... [--then-- CMD...]: like bench_time (lib.sh) for a sequence; sets BENCH_MS.
time_seq() { bench_time_with "$SEQ_TIMER" "$@"; }

settle() { sleep "$SETTLE"; }

# ---- the image -------------------------------------------------------------------------------

make_image() {
  local rootfs=$BENCH_WORK/rootfs layout=$BENCH_WORK/layout app
  mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev"
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  while read -r app; do
    [ "$app" = bin/busybox ] && continue
    mkdir -p "$rootfs/$(dirname "$app")"
    ln -sf /bin/busybox "$rootfs/$app"
  done < <(/bin/busybox --list-full)
  bench_run "tar the busybox rootfs" tar --sort=name --numeric-owner --owner=0 --group=0 -C "$rootfs" \
    -cf "$BENCH_WORK/layer.tar" .
  bench_run "umoci init" umoci init --layout "$layout"
  bench_run "umoci new" umoci new --image "$layout:1"
  bench_run "umoci raw add-layer" umoci raw add-layer --image "$layout:1" "$BENCH_WORK/layer.tar"
  bench_run "umoci config" umoci config --image "$layout:1" --config.cmd /bin/sh
  rm -f "$BENCH_WORK/layer.tar"
  bench_run "push startup:1" skopeo copy --dest-tls-verify=false "oci:$layout:1" "docker://$REG/startup:1"
  IMAGE_REF=$REG/startup:1
  IMAGE_BYTES=$(du -sk --apparent-size "$rootfs" | cut -f1)
  ROOTFS=$rootfs
}

# ---- our daemons -----------------------------------------------------------------------------

declare -A OURS_DIR OURS_ID
# start_ours KEY RUNTIME OCTET: a spawnd with runtime RUNTIME, state under BENCH_WORK/ours-KEY,
# bridge spbs<KEY><hex> on 10.215.OCTET.0/24; the image pulled into its store.
start_ours() {
  local key=$1 runtime=$2 octet=$3 dir=$BENCH_WORK/ours-$1 pid i rc
  mkdir -p "$dir"
  cat > "$dir/spawnd.yml" <<YML
path: bench/spawnpoint/startup$$$key
cpuShares: 8192
memory: 8192
stateDir: $dir/state
routerListen: 127.0.0.1:0
runtime: $runtime
enableHostNetworking: true
insecureRegistries: ["$REG"]
bridgeName: spbs$key$HEX
bridgeSubnet: 10.215.$octet.0/24
YML
  OURS_DIR[$key]=$dir
  use_ours "$key"  # SPAWNPOINT_STATE_DIR overrides stateDir, for spawnd too
  "$SP_BIN/spawnd" run -c "$dir/spawnd.yml" > "$dir/spawnd.log" 2>&1 &
  pid=$!
  OURS_ID[$key]=$(bench_proc_id "$pid")
  bench_on_exit "stop_ours $key"
  for ((i = 0; i < 300; i++)); do
    rc=0
    "$SP_BIN/spawnctl" scan > /dev/null 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then
      bench_run "spawnctl images pull $IMAGE_REF ($key daemon)" "$SP_BIN/spawnctl" images pull "$IMAGE_REF"
      return 0
    fi
    bench_proc_alive "${OURS_ID[$key]}" || break
    sleep 0.1
  done
  cat "$dir/spawnd.log" >&2
  bench_die "spawnd ($runtime) did not answer spawnctl scan within 30 s (its log is above)"
}

use_ours() { export SPAWNPOINT_STATE_DIR=${OURS_DIR[$1]}/state; }

# stop_ours KEY: at exit. decommission stops whatever service is still running.
stop_ours() {
  local key=$1 dir=${OURS_DIR[$1]}
  [ -n "${OURS_ID[$key]:-}" ] || return 0
  bench_stop_pid "${OURS_ID[$key]}" 20
  SPAWNPOINT_STATE_DIR=$dir/state "$SP_BIN/spawnd" decommission -c "$dir/spawnd.yml" > "$dir/decommission.log" 2>&1 ||
    { bench_log "spawnd decommission ($key) failed:"; cat "$dir/decommission.log" >&2; }
  OURS_ID[$key]=""
  drop_router_rules "spbs$key$HEX" "$dir/decommission.log"
}

# drop_router_rules BRIDGE LOG: decommission removes the router-access DNAT rule of BRIDGE (a
# name only this script uses); should one remain, say so and delete it.
drop_router_rules() {
  local bridge=$1 rule
  local -a args
  while read -r rule; do
    [ -n "$rule" ] || continue
    bench_log "spawnd decommission left an iptables rule behind, deleting it: $rule (decommission log: $2)"
    read -r -a args <<< "${rule/#-A /-D }"
    iptables -t nat "${args[@]}" || bench_log "could not delete it"
  done < <(iptables -t nat -S PREROUTING 2> /dev/null | grep -F -- "-i $bridge " || true)
}

# write_deploy FILE NET|NONET|RESTART
write_deploy() {
  {
    printf 'cpuShares: %s\nmemory: %s\nimage: %s\n' "$CPU_SHARES" "$MEMORY_MIB" "$IMAGE_REF"
    case $2 in
      NET) printf 'run: [/bin/sleep, "1000"]\n' ;;
      NONET) printf 'run: [/bin/sleep, "1000"]\nuseHostNet: true\n' ;;
      RESTART)
        printf 'run: [/bin/sh, -c, "sleep 1000"]\nuseHostNet: true\nautoRestart: true\n'
        printf 'restartPolicy: {initialDelay: 100ms}\n'
        ;;
    esac
  } > "$1"
}

# ours_cold KEY NET|NONET NAME: sets BENCH_MS.
ours_cold() {
  local key=$1 net=$2 name=$3 ms
  use_ours "$key"
  settle
  bench_time "spawnctl deploy $name ($key, $net)" "$SP_BIN/spawnctl" deploy -c "$BENCH_WORK/deploy-$net.yaml" \
    -n "$name" -t 0s
  ms=$BENCH_MS
  bench_run "spawnctl stop $name" "$SP_BIN/spawnctl" stop -n "$name"
  BENCH_MS=$ms
}

# ---- bare runtimes ---------------------------------------------------------------------------

CRUN_WRAP=(unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified && exec crun "$@"' crun)

make_bundles() {
  local b=$BENCH_WORK/bare
  mkdir -p "$b/lower" "$b/bundle" "$b/runc-root" "$b/crun-root"
  cp -a "$ROOTFS/." "$b/lower/"
  (cd "$b/bundle" && runc spec) || bench_die "runc spec failed"
  jq --argjson shares "$CPU_SHARES" --argjson mem $((MEMORY_MIB * 1024 * 1024)) '
    .process.terminal = false | .process.args = ["/bin/sleep", "1000"] |
    .root = {path: "rootfs", readonly: false} | .hostname = "bench" |
    .linux.resources.memory = {limit: $mem, swap: $mem} | .linux.resources.cpu = {shares: $shares} |
    .linux.resources.pids = {limit: 4096}' "$b/bundle/config.json" > "$b/config.json" ||
    bench_die "editing config.json with jq failed"
  mv "$b/config.json" "$b/bundle/config.json"
  mkdir -p "$b/bundle/rootfs"
  # shellcheck disable=SC2016  # expanded at exit, by eval
  bench_on_exit 'delete_bare_leftovers'
}

# At exit: containers a failed round left behind.
delete_bare_leftovers() {
  local b=$BENCH_WORK/bare id
  for id in $(runc --root "$b/runc-root" list -q 2> /dev/null); do runc --root "$b/runc-root" delete -f "$id"; done
  for id in $("${CRUN_WRAP[@]}" --root "$b/crun-root" list -q 2> /dev/null); do
    "${CRUN_WRAP[@]}" --root "$b/crun-root" delete -f "$id"
  done
  umount "$b/bundle/rootfs" 2> /dev/null
  return 0
}

# bare_cold runc|crun ID: sets BENCH_MS (overlay mount + run -d).
bare_cold() {
  local rt=$1 id=$2 b=$BENCH_WORK/bare ms
  local run=(runc --root "$b/runc-root")
  [ "$rt" = crun ] && run=("${CRUN_WRAP[@]}" --root "$b/crun-root")
  rm -rf "$b/upper" "$b/work"
  mkdir -p "$b/upper" "$b/work"
  settle
  time_seq "$rt run -d $id" mount -t overlay overlay \
    -o "lowerdir=$b/lower,upperdir=$b/upper,workdir=$b/work" "$b/bundle/rootfs" \
    --then-- "${run[@]}" run -d --bundle "$b/bundle" "$id"
  ms=$BENCH_MS
  bench_run "$rt delete -f $id" "${run[@]}" delete -f "$id"
  bench_run "umount the $rt overlay" umount "$b/bundle/rootfs"
  BENCH_MS=$ms
}

# ---- podman and docker -----------------------------------------------------------------------

# engine_cold podman|docker NETWORK NAME: sets BENCH_MS.
engine_cold() {
  local eng=$1 net=$2 name=$3 ms
  local -n cmd=${eng^^}
  settle
  bench_time "$eng run -d --network $net" "${cmd[@]}" run -d --name "$name" --network "$net" "$IMAGE_NAME" \
    /bin/sleep 1000
  ms=$BENCH_MS
  if [ "$eng" = podman ]; then
    bench_run "podman rm $name" "${cmd[@]}" rm -f -t 0 "$name"
  else
    bench_run "docker rm $name" "${cmd[@]}" rm -f "$name"
  fi
  BENCH_MS=$ms
}

# ---- restart after a crash -------------------------------------------------------------------

# inspect_state SYSTEM ID: prints "pid running(0|1) startedAt"
inspect_state() {
  local sys=$1 id=$2 out
  case $sys in
    ours)
      out=$("$SP_BIN/spawnctl" inspect -n "$id" --json 2> /dev/null) || return 1
      jq -r '"\(.pid) \(if .state == "running" then 1 else 0 end) \(.startedAt)"' <<< "$out"
      ;;
    podman | docker)
      local -n cmd=${sys^^}
      out=$("${cmd[@]}" inspect "$id" 2> /dev/null) || return 1
      jq -r '.[0].State | "\(.Pid) \(if .Running then 1 else 0 end) \(.StartedAt)"' <<< "$out"
      ;;
  esac
}

# program_pid PID: PID when it runs sh or sleep, else its child that does (ours: the container's
# pid 1 is spawn-init, which runs the service's program as its child). Fails when neither does.
# Waits up to 2 s for spawn-init to have started it.
program_pid() {
  local pid=$1 c i
  for ((i = 0; i < 200; i++)); do
    case $(cat "/proc/$pid/comm" 2> /dev/null) in sh | sleep) echo "$pid" && return 0 ;; esac
    # shellcheck disable=SC2013  # the file is one line of space-separated pids
    for c in $(cat "/proc/$pid/task/$pid/children" 2> /dev/null); do
      case $(cat "/proc/$c/comm" 2> /dev/null) in sh | sleep) echo "$c" && return 0 ;; esac
    done
    sleep 0.01
  done
  return 1
}

# restart_once SYSTEM NAME: sets RESTART_MS (exit -> exec) and RESTART_REC_MS (kill -> startedAt).
restart_once() {
  local sys=$1 name=$2 id pid victim st running started probe newpid kill_ns i started_ns
  case $sys in
    ours)
      use_ours runc
      bench_run "spawnctl deploy $name" "$SP_BIN/spawnctl" deploy -c "$BENCH_WORK/deploy-RESTART.yaml" -n "$name" -t 0s
      id=$name
      ;;
    podman | docker)
      local -n cmd=${sys^^}
      id=$("${cmd[@]}" run -d --restart=always --network none "$IMAGE_NAME" /bin/sh -c 'sleep 1000') ||
        bench_die "$sys run -d --restart=always failed"
      ;;
  esac
  read -r pid running started <<< "$(inspect_state "$sys" "$id")" || true
  if [ "${running:-0}" != 1 ] || [ "${pid:-0}" -le 0 ]; then
    bench_die "$sys: $id is not running after start (inspect: pid ${pid:-?}, running ${running:-?})"
  fi
  victim=$(program_pid "$pid") || bench_die "$sys: no process running sh in container $id (pid $pid)"
  settle
  if ! probe=$("$BENCH_PY" -c "$RESTART_PROBE" "$victim" 30); then
    bench_log "$sys: inspect now says (pid, running, startedAt): $(inspect_state "$sys" "$id" || echo '?')"
    [ "$sys" = podman ] && tail -n 5 "$BENCH_WORK/podman/events.log" >&2
    # The probe reads kernel process events; when it misses the new exec this sample is dropped
    # (and counted in the table's runs column) rather than ending the whole suite.
    bench_log "$sys: restart probe missed the new process; sample dropped"
    case $sys in
      ours) "$SP_BIN/spawnctl" stop -n "$name" > /dev/null 2>&1 || true ;;
      podman) "${PODMAN[@]}" rm -f -t 0 "$id" > /dev/null 2>&1 || true ;;
      docker) "${DOCKER[@]}" rm -f "$id" > /dev/null 2>&1 || true ;;
    esac
    DROPPED=$((${DROPPED:-0} + 1))
    return 1
  fi
  read -r newpid RESTART_MS _ kill_ns <<< "$probe"
  for ((i = 0; i < 200; i++)); do
    read -r st running started <<< "$(inspect_state "$sys" "$id")" || true
    [ "${running:-0}" = 1 ] && [ "${st:-0}" != "$pid" ] && [ "${st:-0}" != 0 ] && break
    sleep 0.05
  done
  if [ "${running:-0}" != 1 ] || [ "${st:-0}" = "$pid" ] || [ "${st:-0}" = 0 ]; then
    bench_die "$sys: $id not reported running with a new pid within 10 s of its new process starting (inspect: pid $st running $running)"
  fi
  [ "$(program_pid "$st")" = "$newpid" ] ||
    bench_die "$sys: inspect reports pid $st after the restart, whose program is not pid $newpid that the probe saw exec sh/sleep in the container's cgroup"
  started_ns=$("$BENCH_PY" -c "$RFC3339_NS" "$started")
  [ "$started_ns" != - ] || bench_die "$sys: cannot read startedAt '$started'"
  RESTART_REC_MS=$(awk -v a="$started_ns" -v b="$kill_ns" 'BEGIN {printf "%.1f", (a - b) / 1e6}')
  case $sys in
    ours)
      local restarts
      restarts=$("$SP_BIN/spawnctl" inspect -n "$id" --json | jq -r .restarts)
      [ "$restarts" = 1 ] || bench_die "ours: restarts is $restarts after one crash, expected 1"
      bench_run "spawnctl stop $name" "$SP_BIN/spawnctl" stop -n "$name"
      ;;
    podman) bench_run "podman rm" "${PODMAN[@]}" rm -f -t 0 "$id" ;;
    docker) bench_run "docker rm" "${DOCKER[@]}" rm -f "$id" ;;
  esac
}

# ---- a check, once, that each row runs what it says ------------------------------------------

netns_of() { readlink "/proc/$1/ns/net"; }

# verify_rows: the network rows get an address on their bridge, the no-network rows none (ours:
# the host's namespace; the peers: a namespace of their own), before anything is timed.
verify_rows() {
  local host_ns addr pid key octet
  host_ns=$(netns_of self)
  for key in runc crun; do
    use_ours "$key"
    octet=$([ "$key" = runc ] && echo 11 || echo 12)
    bench_run "check deploy ($key)" "$SP_BIN/spawnctl" deploy -c "$BENCH_WORK/deploy-NET.yaml" -n check -t 0s
    addr=$("$SP_BIN/spawnctl" inspect -n check --json | jq -r .address)
    [[ $addr == 10.215.$octet.* ]] || bench_die "ours ($key): a service with network has address '$addr', expected one in 10.215.$octet.0/24"
    bench_run "check stop ($key)" "$SP_BIN/spawnctl" stop -n check
    bench_run "check deploy ($key, no network)" "$SP_BIN/spawnctl" deploy -c "$BENCH_WORK/deploy-NONET.yaml" -n check -t 0s
    pid=$("$SP_BIN/spawnctl" inspect -n check --json | jq -r .pid)
    [ "$(netns_of "$pid")" = "$host_ns" ] || bench_die "ours ($key): a useHostNet service is not in the host's network namespace"
    bench_run "check stop ($key)" "$SP_BIN/spawnctl" stop -n check
  done
  if [ "$PEERS" != 1 ]; then
    bench_log "checked: our network rows get addresses on the bridge, no-network rows none"
    return 0
  fi
  bench_run "check podman bridge" "${PODMAN[@]}" run -d --name check --network "$PODMAN_NET" "$IMAGE_NAME" /bin/sleep 1000
  addr=$("${PODMAN[@]}" inspect check | jq -r '.[0].NetworkSettings.Networks[].IPAddress')
  [[ $addr == 10.215.201.* ]] || bench_die "podman: the bridge row's container has address '$addr', expected 10.215.201.x"
  ip link show "spbp$HEX" > /dev/null 2>&1 || bench_die "podman: bridge spbp$HEX does not exist while a container uses $PODMAN_NET"
  bench_run "check podman rm" "${PODMAN[@]}" rm -f -t 0 check
  bench_run "check docker bridge" "${DOCKER[@]}" run -d --name check --network bridge "$IMAGE_NAME" /bin/sleep 1000
  addr=$("${DOCKER[@]}" inspect check | jq -r '.[0].NetworkSettings.IPAddress')
  [[ $addr == 10.215.200.* ]] || bench_die "docker: the bridge row's container has address '$addr', expected 10.215.200.x"
  bench_run "check docker rm" "${DOCKER[@]}" rm -f check
  for eng in podman docker; do
    local -n cmd=${eng^^}
    bench_run "check $eng none" "${cmd[@]}" run -d --name checknone --network none "$IMAGE_NAME" /bin/sleep 1000
    pid=$("${cmd[@]}" inspect checknone | jq -r '.[0].State.Pid')
    [ "$(netns_of "$pid")" != "$host_ns" ] || bench_die "$eng: a --network none container is in the host's namespace"
    bench_run "check $eng rm" "${cmd[@]}" rm -f checknone
  done
  bench_log "checked: network rows get addresses on their bridges, no-network rows none"
}

# ---- run -------------------------------------------------------------------------------------

bench_log "starting docker-registry, two spawnd, podman and dockerd under $BENCH_WORK"
bench_start_registry
REG=$BENCH_REGISTRY
make_image
make_bundles
start_ours runc runc 11
start_ours crun crun 12
for v in NET NONET RESTART; do write_deploy "$BENCH_WORK/deploy-$v.yaml" "$v"; done
if [ "$PROFILE_ONLY" != 1 ]; then
  if [ "$PEERS" = 1 ]; then
    bench_setup_podman "$REG"
    bench_podman_import "$ROOTFS" "$IMAGE_NAME"
    PODMAN_NET=spbstart$HEX
    # podman 4.3 has no --interface-name: it would pick the next free podmanN, which another private
    # podman may pick too. The network's file is renamed to our interface before first use.
    bench_run "podman network create" "${PODMAN[@]}" network create --driver bridge --disable-dns \
      --subnet 10.215.201.0/24 "$PODMAN_NET"
    net_file=$BENCH_WORK/podman/net/$PODMAN_NET.json
    [ -f "$net_file" ] || bench_die "podman network create wrote no $net_file"
    if ! jq --arg ifname "spbp$HEX" '.network_interface = $ifname' "$net_file" > "$net_file.new"; then
      bench_die "could not set the interface name in $net_file"
    fi
    mv "$net_file.new" "$net_file"
    # shellcheck disable=SC2016  # expanded at exit, by eval
    bench_on_exit '"${PODMAN[@]}" rm -f -a -t 0 > /dev/null 2>&1; "${PODMAN[@]}" network rm -f "$PODMAN_NET" > /dev/null 2>&1'
    bench_start_dockerd 10.215.200.1/24
    bench_docker_import "$ROOTFS" "$IMAGE_NAME"
  fi  # PEERS
  verify_rows

  ROWS=(ours-runc-none ours-crun-none runc-none crun-none podman-none docker-none
    ours-runc-net ours-crun-net podman-net docker-net
    restart-ours restart-podman restart-docker rec-ours rec-podman rec-docker)
  declare -A V
  for r in "${ROWS[@]}"; do V[$r]=""; done
  record() { [ "$ROUND" -gt "$WARMUP" ] && V[$1]+="$2 "; return 0; }

  for ((ROUND = 1; ROUND <= WARMUP + RUNS; ROUND++)); do
    n=$ROUND
    ours_cold runc NONET "csr$n" && record ours-runc-none "$BENCH_MS"
    ours_cold runc NET "csrn$n" && record ours-runc-net "$BENCH_MS"
    ours_cold crun NONET "csc$n" && record ours-crun-none "$BENCH_MS"
    ours_cold crun NET "cscn$n" && record ours-crun-net "$BENCH_MS"
    bare_cold runc "spb-runc-$$-$n" && record runc-none "$BENCH_MS"
    bare_cold crun "spb-crun-$$-$n" && record crun-none "$BENCH_MS"
    if [ "$PEERS" = 1 ]; then
      engine_cold podman none "cs$n" && record podman-none "$BENCH_MS"
      engine_cold podman "$PODMAN_NET" "csn$n" && record podman-net "$BENCH_MS"
      engine_cold docker none "cs$n" && record docker-none "$BENCH_MS"
      engine_cold docker bridge "csn$n" && record docker-net "$BENCH_MS"
    fi
    for s in ours $([ "$PEERS" = 1 ] && echo podman docker); do
      restart_once "$s" "rs$n" || continue
      record "restart-$s" "$RESTART_MS"
      record "rec-$s" "$RESTART_REC_MS"
    done
    if [ "$ROUND" -le "$WARMUP" ]; then
      bench_log "warm-up round $ROUND done (not counted)"
    else
      bench_log "round $((ROUND - WARMUP))/$RUNS done"
    fi
  done

  # ---- report ----------------------------------------------------------------------------------

  declare -A MED
  row() {  # row KEY LABEL
    local med min max n
    # shellcheck disable=SC2086  # the values are space-separated numbers
    read -r med min max n <<< "$(bench_stats ${V[$1]})"
    MED[$1]=$med
    printf '  %-52s %9s %9s %9s %5s\n' "$2" "$med" "$min" "$max" "$n"
  }
  ratio() {  # ratio LABEL NUM_KEY DEN_KEY
    printf '  %-52s %8s\n' "$1" "$(awk -v a="${MED[$2]}" -v b="${MED[$3]}" 'BEGIN {if (b > 0) printf "%.2fx", a / b; else print "-"}')"
  }
  echo
  echo "container start (cached busybox image) and restart after a crash; medians of $RUNS runs, ms"
  bench_machine_info
  printf 'versions: spawnd %s; runc %s; crun %s; podman %s (runc, cgroupfs, overlay); docker %s (overlay2, cgroupfs)\n' \
    "$(git -C "$here/.." rev-parse --short HEAD 2> /dev/null || echo '?')" "$(runc --version | awk 'NR == 1 {print $3}')" \
    "$(crun --version | awk 'NR == 1 {print $3}')" "$(podman --version | awk '{print $3}')" \
    "$([ "$PEERS" = 1 ] && "${DOCKER[@]}" version --format '{{.Server.Version}}' 2> /dev/null || echo '?')"
  printf 'image: busybox %s (static) + applet symlinks, %s KiB, one layer\n' "$(/bin/busybox | awk 'NR == 1 {print $2}')" "$IMAGE_BYTES"
  echo
  printf '  %-52s %9s %9s %9s %5s\n' row "median" "min" "max" runs
  echo "1. cold start, command -> process running, no network"
  row ours-runc-none "ours: spawnctl deploy (runc, useHostNet)"
  row ours-crun-none "ours: spawnctl deploy (crun, useHostNet)"
  row runc-none "runc run -d (bare; overlay mount, empty netns)"
  row crun-none "crun run -d (bare; overlay mount, empty netns)"
  row podman-none "podman run -d --network none"
  row docker-none "docker run -d --network none"
  echo "1. cold start, with network"
  row ours-runc-net "ours: spawnctl deploy (runc, CNI bridge)"
  row ours-crun-net "ours: spawnctl deploy (crun, CNI bridge)"
  row podman-net "podman run -d (netavark bridge)"
  row docker-net "docker run -d --network bridge"
  echo "2. restart after kill -9: old process exit -> new process exec (kernel)"
  row restart-ours "ours (autoRestart, first restart)"
  row restart-podman "podman --restart=always"
  row restart-docker "docker --restart=always (100 ms backoff built in)"
  echo "2. restart, as each daemon records it: kill(2) -> inspect startedAt"
  row rec-ours "ours (startedAt in ms)"
  row rec-podman "podman"
  row rec-docker "docker"
  echo
  echo "ratios of medians (same run)"
  ratio "ours runc / bare runc (no network)" ours-runc-none runc-none
  ratio "ours crun / bare crun (no network)" ours-crun-none crun-none
  ratio "podman / ours runc (no network)" podman-none ours-runc-none
  ratio "docker / ours runc (no network)" docker-none ours-runc-none
  ratio "podman / ours runc (network)" podman-net ours-runc-net
  ratio "docker / ours runc (network)" docker-net ours-runc-net
  ratio "restart: podman / ours" restart-podman restart-ours
  ratio "restart: docker / ours" restart-docker restart-ours
fi  # PROFILE_ONLY

# ---- profile of our deploy ------------------------------------------------------------------

if [ "$PROFILE" -gt 0 ]; then
  PHASES=(to_monitor cni to_runtime runtime to_init to_program reply total)
  echo
  echo "profile of spawnctl deploy, ms (medians of $PROFILE; kernel process events)"
  printf '  %-22s' phase
  printf ' %10s' "${PHASES[@]}"
  echo
  for key in runc crun; do
    for net in NONET NET; do
      declare -A P=()
      skipped=0
      use_ours "$key"
      for ((i = 1; i <= PROFILE; i++)); do
        settle
        out=$("$BENCH_PY" -c "$DEPLOY_PROFILE" "${OURS_ID[$key]%%:*}" "$SP_BIN/spawnctl" deploy \
          -c "$BENCH_WORK/deploy-$net.yaml" -n "pf$i" -t 0s) || bench_die "profile of spawnctl deploy failed: $out"
        bench_run "spawnctl stop pf$i" "$SP_BIN/spawnctl" stop -n "pf$i"
        if [[ $out == skip=* ]]; then
          [ "$PROFILE_ONLY" = 1 ] && bench_log "profile run $i: missing ${out#skip=}"
          skipped=$((skipped + 1))
          continue
        fi
        for kv in $out; do P[${kv%%=*}]+="${kv#*=} "; done
      done
      printf '  %-22s' "$key, ${net,,}"
      for ph in "${PHASES[@]}"; do
        # shellcheck disable=SC2086  # space-separated numbers
        read -r med _ <<< "$(bench_stats ${P[$ph]:-})"
        printf ' %10s' "$med"
      done
      [ "$skipped" -gt 0 ] && printf '  (%d of %d runs lacked a marker)' "$skipped" "$PROFILE"
      echo
      unset P
    done
  done
fi
