#!/usr/bin/env bash
# Install dependencies, build, and run every test (unit, kernel, VM) with ctest.
# Needs root: the kernel tests create namespaces, sockets and BPF programs.
set -euo pipefail
cd "$(dirname "$0")"
if [[ $EUID -ne 0 ]]; then echo "test.sh: run as root (sudo ./test.sh)" >&2; exit 2; fi
bash scripts/install-deps.sh
bash scripts/ensure-bpffs.sh
bash scripts/build.sh
cd build
ctest --output-on-failure --timeout 3600 "$@"
