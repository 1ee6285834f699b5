#!/usr/bin/env bash
# Installs what Spawnpoint needs to build, test and run, from Debian's
# packages, and only what is missing (so a prepared machine does no apt work).
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libexpected-dev
  libsqlite3-dev libarchive-dev zlib1g-dev libsodium-dev libnats-dev libcurl4-openssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  runc crun nats-server containernetworking-plugins iptables iproute2
  # tests: a real registry, git sources, a static busybox for test images, python3 for the token proxy
  # and scripts/check-structure, umoci and skopeo for the image-tool interop tests
  docker-registry busybox-static python3 zstd umoci skopeo
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root (or: sudo $0)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
