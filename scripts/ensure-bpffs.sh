#!/usr/bin/env bash
# bpffs is not mounted at boot on every machine; tools like bpftool want it.
set -euo pipefail
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
