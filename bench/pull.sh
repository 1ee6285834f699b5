#!/usr/bin/env bash
# Image pull + unpack: Spawnpoint against skopeo+umoci and podman, on the same image, from the
# same registry, in the same run.
#
#   RUNS=20 BUILD_DIR=/work/main/build bench/pull.sh      (as root, after `make build`)
#
# Method
#   Setup, all on loopback and all under one temp directory (removed at exit; every process this
#   script starts is stopped by its PID; nothing touches the machine's own podman storage):
#   - Debian's `docker-registry serve` on 127.0.0.1:<free port>, storage in the temp directory.
#   - One test image assembled with umoci, four gzip layers:
#       1. a busybox rootfs: the static /bin/busybox (busybox-static) and its applet symlinks;
#       2. and 3. BULK_MB MiB (default 14) each of random bytes in 4 files (incompressible);
#       4. SMALL_FILES (default 1000) random files of 512 B - 12 KiB in 20 directories;
#     cmd /bin/sh. Tag 1 is that image; tag 2 has the same layers and another config (one more
#     env variable), so pulling it after tag 1 measures a pull whose layers are all present.
#     Both are pushed with `skopeo copy oci:... docker://...`.
#     LAYER_TOOL=tar (default): each layer is a GNU tar archive added with `umoci raw add-layer`
#     (umoci gzips it). LAYER_TOOL=umoci-insert: `umoci insert` makes the layers instead; Debian
#     12's umoci 0.4.7 never closes its tar writer there (umoci issue #436, fixed in 2024 by
#     PR #534), so each layer lacks the end-of-archive blocks and, when the last file's size is not
#     a multiple of 512, that file's padding: GNU tar and Python's tarfile call such a layer
#     truncated, Go readers (umoci unpack, podman) accept it, and our pull refuses it ("read the
#     data of entry '...': Truncated input file (needed 242 bytes, only 0 available)").
#   - spawnd with a temp state dir, its embedded router on 127.0.0.1:0, a random bridge name and
#     /24 subnet, and the registry in `insecureRegistries`; stopped by PID (SIGTERM) at the end,
#     then `spawnd decommission`.
#   - podman with a temp containers.conf (runc, cgroupfs, the ulimits this machine allows), a temp
#     storage.conf and --root/--runroot in the temp dir (overlay driver), and a registries.conf
#     marking the registry insecure.
#   Measurement: WARMUP (default 1) untimed rounds, then RUNS (default 20) rounds. Each round runs
#   the tools interleaved (ours, skopeo+umoci, podman) so drift affects all equally. Each timed
#   step starts from a cold local cache (nothing of the image on disk) against the same warm
#   registry, after a `sync` so one tool's writeback does not land on the next one's clock:
#   - ours:    `spawnctl images prune` (untimed), then `spawnctl images pull REG/bench:1` until it
#              exits 0. This is what a user waits for: spawnctl start, bus request to spawnd,
#              download, digest checks, unpack of every layer into the store, progress messages.
#              Warm: then `spawnctl images pull REG/bench:2` (new manifest+config, layers present).
#   - skopeo+umoci: `skopeo copy docker://REG/bench:1 oci:FRESH:1` then
#              `umoci unpack --image FRESH:1 BUNDLE` (fresh directories, removed afterwards).
#   - podman:  `podman rmi -a -f` (untimed), then `podman pull REG/bench:1` (pull also unpacks the
#              layers into podman's overlay storage). Warm: then `podman pull REG/bench:2`.
#   Times are wall clock from CLOCK_MONOTONIC around each command (bench_time in lib.sh), in ms.
#   Once, after our first pull (the first round), the script checks that every layer of the
#   manifest is unpacked under <stateDir>/images/layers/<hex>/ and that a prune leaves no layer
#   behind, then pulls again so the round's figure is a cold pull.
#   Durability differs: our pull fsyncs each blob and syncfs()es each unpacked layer, podman
#   fsyncs too (about 90 calls per pull here), umoci unpack does not sync at all.
# Output: a table (median, min, max, runs, peer median / our median), the warm table, the
# image's compressed size and layer count, and the machine (CPU, cores, kernel).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"

RUNS=${RUNS:-20}
WARMUP=${WARMUP:-1}
BULK_MB=${BULK_MB:-14}
SMALL_FILES=${SMALL_FILES:-1000}
LAYER_TOOL=${LAYER_TOOL:-tar}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || bench_die "RUNS must be a positive integer, got '$RUNS'"
[[ $WARMUP =~ ^[0-9]+$ ]] || bench_die "WARMUP must be a non-negative integer, got '$WARMUP'"

bench_require_root
bench_check_build
bench_ensure_tools docker-registry:docker-registry skopeo:skopeo umoci:umoci podman:podman \
  /bin/busybox:busybox-static curl:curl jq:jq
[ -n "$BENCH_PY" ] || bench_die "python3 is needed for the timer"
bench_workdir pull

# ---- the test image --------------------------------------------------------------------------

make_image() {
  local img=$BENCH_WORK/image layout=$BENCH_WORK/image/layout app n
  mkdir -p "$img/l1/bin" "$img/l1/tmp" "$img/l1/etc" "$img/l2/data/bulk1" "$img/l3/data/bulk2" "$img/l4/data/small"
  cp /bin/busybox "$img/l1/bin/busybox"
  while read -r app; do
    [ "$app" = bin/busybox ] && continue
    mkdir -p "$img/l1/$(dirname "$app")"
    ln -sf /bin/busybox "$img/l1/$app"
  done < <(/bin/busybox --list-full)
  "$BENCH_PY" - "$img" "$BULK_MB" "$SMALL_FILES" <<'PY'
import os, random, sys
root, bulk_mb, small = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for layer in ("l2/data/bulk1", "l3/data/bulk2"):
    for i in range(4):
        with open(os.path.join(root, layer, "part%d.bin" % i), "wb") as f:
            f.write(os.urandom(bulk_mb * 1024 * 1024 // 4))
rng = random.Random(42)
for i in range(small):
    d = os.path.join(root, "l4/data/small", "d%02d" % (i % 20))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%04d" % i), "wb") as f:
        f.write(os.urandom(rng.randint(512, 12 * 1024)))
PY
  bench_run "umoci init" umoci init --layout "$layout"
  bench_run "umoci new" umoci new --image "$layout:1"
  for n in 1 2 3 4; do
    case $LAYER_TOOL in
      tar)
        bench_run "tar layer $n" tar --sort=name --numeric-owner --owner=0 --group=0 -C "$img/l$n" -cf "$img/l$n.tar" .
        bench_run "umoci raw add-layer $n" umoci raw add-layer --image "$layout:1" "$img/l$n.tar"
        rm -f "$img/l$n.tar"
        ;;
      umoci-insert)
        bench_run "umoci insert layer $n" umoci insert --image "$layout:1" "$img/l$n" /
        ;;
      *) bench_die "LAYER_TOOL must be tar or umoci-insert, got '$LAYER_TOOL'" ;;
    esac
    rm -rf "${img:?}/l$n"
  done
  bench_run "umoci config" umoci config --image "$layout:1" --config.cmd /bin/sh
  bench_run "umoci config tag 2" umoci config --image "$layout:1" --tag 2 --config.env BENCH_TAG=2
  bench_run "umoci gc" umoci gc --layout "$layout"
  bench_run "push bench:1" skopeo copy --dest-tls-verify=false "oci:$layout:1" "docker://$REG/bench:1"
  bench_run "push bench:2" skopeo copy --dest-tls-verify=false "oci:$layout:2" "docker://$REG/bench:2"
  MANIFEST=$(skopeo inspect --raw --tls-verify=false "docker://$REG/bench:1") ||
    bench_die "skopeo inspect of $REG/bench:1 failed"
  IMAGE_BYTES=$(jq '[.layers[].size] | add' <<< "$MANIFEST")
  IMAGE_LAYERS=$(jq '.layers | length' <<< "$MANIFEST")
  mapfile -t LAYER_HEX < <(jq -r '.layers[].digest | sub("^sha256:"; "")' <<< "$MANIFEST")
}

# ---- the three pullers -----------------------------------------------------------------------
# Each sets its *_MS globals from BENCH_MS, which bench_time (lib.sh) sets.
# shellcheck disable=SC2153

ours_cold() {
  bench_run "spawnctl images prune" "$SP_BIN/spawnctl" images prune
  sync
  bench_time "spawnctl images pull $REG/bench:1" "$SP_BIN/spawnctl" images pull "$REG/bench:1"
  OURS_MS=$BENCH_MS
  sync
  bench_time "spawnctl images pull $REG/bench:2 (layers present)" "$SP_BIN/spawnctl" images pull "$REG/bench:2"
  OURS_WARM_MS=$BENCH_MS
}

skopeo_umoci() {
  local d=$BENCH_WORK/su
  rm -rf "$d"
  mkdir -p "$d"
  sync
  bench_time "skopeo copy $REG/bench:1" skopeo copy --src-tls-verify=false "docker://$REG/bench:1" "oci:$d/layout:1"
  SKOPEO_MS=$BENCH_MS
  bench_time "umoci unpack" umoci unpack --image "$d/layout:1" "$d/bundle"
  UMOCI_MS=$BENCH_MS
  rm -rf "$d"
}

podman_cold() {
  bench_run "podman rmi" "${PODMAN[@]}" rmi -a -f
  sync
  bench_time "podman pull $REG/bench:1" "${PODMAN[@]}" pull --tls-verify=false "$REG/bench:1"
  PODMAN_MS=$BENCH_MS
  sync
  bench_time "podman pull $REG/bench:2 (layers present)" "${PODMAN[@]}" pull --tls-verify=false "$REG/bench:2"
  PODMAN_WARM_MS=$BENCH_MS
}

# Once: every layer of the manifest is unpacked in our store, and a prune removes them all.
check_our_store() {
  local layers=$SPAWND_STATE/images/layers hex found=0
  for hex in "${LAYER_HEX[@]}"; do
    [ -d "$layers/$hex" ] || bench_die "after the pull, layer $hex is not unpacked under $layers (it holds: $(find "$layers" -mindepth 1 -maxdepth 1 -printf '%f ' 2>&1))"
  done
  [ -x "$layers/${LAYER_HEX[0]}/bin/busybox" ] || bench_die "$layers/${LAYER_HEX[0]}/bin/busybox is missing"
  for hex in "${LAYER_HEX[@]}"; do
    [ -f "$layers/$hex/data/bulk1/part0.bin" ] && found=1
  done
  [ "$found" -eq 1 ] || bench_die "no layer under $layers holds data/bulk1/part0.bin"
  bench_run "spawnctl images prune" "$SP_BIN/spawnctl" images prune
  if [ -n "$(find "$layers" -mindepth 1 -maxdepth 1 2>/dev/null)" ]; then
    bench_die "spawnctl images prune left layers behind: $(find "$layers" -mindepth 1 -maxdepth 1 -printf '%f ')"
  fi
  bench_log "checked: all $IMAGE_LAYERS layers unpacked under $layers; prune removed them"
}

# ---- run -------------------------------------------------------------------------------------

bench_log "starting docker-registry, spawnd and a private podman under $BENCH_WORK"
bench_start_registry
REG=$BENCH_REGISTRY
bench_log "building and pushing the test image to $REG"
make_image
bench_start_spawnd "insecureRegistries: [\"$REG\"]"
bench_setup_podman "$REG"

ours=() ours_warm=() su=() skopeo_only=() umoci_only=() pod=() pod_warm=()
checked=0
for ((i = 1; i <= WARMUP + RUNS; i++)); do
  ours_cold
  if [ "$checked" -eq 0 ]; then
    check_our_store
    checked=1
    ours_cold  # the check's prune made the cache cold again; measure this one
  fi
  skopeo_umoci
  podman_cold
  if [ "$i" -le "$WARMUP" ]; then
    bench_log "warm-up round $i: ours ${OURS_MS} ms, skopeo+umoci $(awk -v a="$SKOPEO_MS" -v b="$UMOCI_MS" 'BEGIN {print a + b}') ms, podman ${PODMAN_MS} ms (not counted)"
    continue
  fi
  ours+=("$OURS_MS")
  ours_warm+=("$OURS_WARM_MS")
  skopeo_only+=("$SKOPEO_MS")
  umoci_only+=("$UMOCI_MS")
  su+=("$(awk -v a="$SKOPEO_MS" -v b="$UMOCI_MS" 'BEGIN {printf "%.1f", a + b}')")
  pod+=("$PODMAN_MS")
  pod_warm+=("$PODMAN_WARM_MS")
  bench_log "round $((i - WARMUP))/$RUNS: ours $OURS_MS ms, skopeo $SKOPEO_MS + umoci $UMOCI_MS ms, podman $PODMAN_MS ms; warm: ours $OURS_WARM_MS ms, podman $PODMAN_WARM_MS ms"
done

# ---- report ----------------------------------------------------------------------------------

read -r ours_med _ _ _ <<< "$(bench_stats "${ours[@]}")"
read -r ours_warm_med _ _ _ <<< "$(bench_stats "${ours_warm[@]}")"
row() {  # row NAME BASE_MEDIAN VALUES...
  local name=$1 base=$2 med min max n
  shift 2
  read -r med min max n <<< "$(bench_stats "$@")"
  printf '%-34s %9s %9s %9s %5s %7s\n' "$name" "$med" "$min" "$max" "$n" \
    "$(awk -v a="$med" -v b="$base" 'BEGIN {if (b > 0) printf "%.2fx", a / b; else print "-"}')"
}
echo
echo "image pull + unpack, cold local cache, warm loopback registry ($REG)"
printf 'image: %s layers, %s compressed bytes (%.1f MiB), gzip; layers made with %s\n' \
  "$IMAGE_LAYERS" "$IMAGE_BYTES" "$(awk -v b="$IMAGE_BYTES" 'BEGIN {print b / 1048576}')" \
  "$([ "$LAYER_TOOL" = tar ] && echo "GNU tar + umoci raw add-layer" || echo "umoci insert")"
bench_machine_info
printf 'peers: skopeo %s, umoci %s, podman %s (overlay)\n' "$(skopeo --version | awk '{print $3}')" \
  "$(umoci --version | awk '{print $3}')" "$(podman --version | awk '{print $3}')"
echo
printf '%-34s %9s %9s %9s %5s %7s\n' tool "median ms" "min ms" "max ms" runs "vs ours"
row "spawnctl images pull (ours)" "$ours_med" "${ours[@]}"
row "skopeo copy + umoci unpack" "$ours_med" "${su[@]}"
row "  skopeo copy alone" "$ours_med" "${skopeo_only[@]}"
row "  umoci unpack alone" "$ours_med" "${umoci_only[@]}"
row "podman pull" "$ours_med" "${pod[@]}"
echo
echo "warm: layers already present (tag 2: same layers, new manifest and config)"
printf '%-34s %9s %9s %9s %5s %7s\n' tool "median ms" "min ms" "max ms" runs "vs ours"
row "spawnctl images pull (ours)" "$ours_warm_med" "${ours_warm[@]}"
row "podman pull" "$ours_warm_med" "${pod_warm[@]}"
