#!/usr/bin/env bash
# Installs every Debian package sockbench needs to build, test and plot.
# Idempotent: a second call on a ready machine returns quickly.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
  libbenchmark-dev libabsl-dev googletest libgtest-dev libgmock-dev
  nlohmann-json3-dev libmnl-dev libssl-dev zlib1g-dev
  iproute2 util-linux procps
  python3-matplotlib
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
