#!/usr/bin/env bash
# Deploy and stop latency through spawnctl (process start, connect, request,
# container running / gone), against a spawnd this script starts in a
# temporary state directory with its embedded router. Prints median, min and
# max over N runs. The side-by-side suite against runc/crun/podman/docker
# comes with issue 5; this is the foundation's own figure.
#   bench/lifecycle.sh [N]      (as root, after `make build`)
set -euo pipefail
N=${1:-20}
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/build/bin
work=$(mktemp -d /tmp/sp-bench-XXXXXX)
state=$work/state
cat > "$work/spawnd.yml" <<YML
path: bench/spawnpoint/host
cpuShares: 4096
memory: 4096
stateDir: $state
routerListen: 127.0.0.1:0
bridgeName: spbench0
bridgeSubnet: 10.212.0.0/24
YML
cat > "$work/svc.yaml" <<YML
cpuShares: 64
memory: 32
run: [/bin/sleep, "1000"]
YML
"$bin/spawnd" run -c "$work/spawnd.yml" > "$work/spawnd.log" 2>&1 &
daemon=$!
cleanup() {
  kill "$daemon" 2>/dev/null || true
  wait "$daemon" 2>/dev/null || true
  "$bin/spawnd" decommission -c "$work/spawnd.yml" > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
export SPAWNPOINT_STATE_DIR=$state
for _ in $(seq 100); do
  rc=0; "$bin/spawnctl" inspect -n probe > /dev/null 2>&1 || rc=$?
  [ "$rc" -eq 3 ] && break  # not_found: the daemon is answering
  sleep 0.1
done

ms() { echo $(( ($2 - $1) / 1000000 )); }
stats() { sort -n | awk '{a[NR]=$1} END {printf "median %d ms  min %d ms  max %d ms  (n=%d)\n", a[int((NR+1)/2)], a[1], a[NR], NR}'; }
deploys=(); stops=()
for i in $(seq "$N"); do
  t0=$(date +%s%N); "$bin/spawnctl" deploy -c "$work/svc.yaml" -n "b$i" -t 0s > /dev/null; t1=$(date +%s%N)
  deploys+=("$(ms "$t0" "$t1")")
  t0=$(date +%s%N); "$bin/spawnctl" stop -n "b$i" > /dev/null; t1=$(date +%s%N)
  stops+=("$(ms "$t0" "$t1")")
done
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%d MiB", $2/1024}' /proc/meminfo), $(uname -r), runc $(runc --version | head -1 | awk '{print $3}')"
printf 'spawnctl deploy (to running): '; printf '%s\n' "${deploys[@]}" | stats
printf 'spawnctl stop (SIGTERM, gone): '; printf '%s\n' "${stops[@]}" | stats
