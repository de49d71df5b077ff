#!/usr/bin/env bash
# Installs every Debian package sockbench needs to build, test and plot.
# Idempotent: a second call on a ready machine returns quickly.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
  libbenchmark-dev libabsl-dev googletest libgtest-dev libgmock-dev
  nlohmann-json3-dev libmnl-dev libssl-dev zlib1g-dev
  # The lazy runner's datapath rules (nft reject, lazy/nft.cc).
  libnftables-dev
  iproute2 util-linux procps
  python3-matplotlib
  # The consumer tests (tests/unit/consumers/): Google Benchmark's compare.py
  # (/usr/share/benchmark/compare.py) and the scipy it imports, and a JSON
  # Schema validator for the Bencher Metric Format export.
  libbenchmark-tools python3-scipy python3-numpy python3-jsonschema
  # The results dashboard's test renders the page in headless Chromium
  # (plots/dashboard.py, tests/unit/dashboard_test.py).
  chromium
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
