#!/usr/bin/env bash
# `sockbench price --sockets 200` on the running kernel: the result file has
# the run context and exactly one row per approach (the baseline and every
# approach that records sockets at connect time) x protocol x family; a row
# the kernel supports (as `sockbench probe` says) holds numbers and
# recorded every socket, a row it does not is "unsupported: <the probe's
# reason>" and nothing else. `--approach none` is the baseline alone. Each
# run leaves no cgroup and no measuring process behind.
set -uo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

"$bin" probe --json >"$tmp/probe.json" || { echo "FAIL: sockbench probe"; exit 1; }

run_price() {  # run_price <name> <price args...>: runs it, checks what it leaves behind
  local name=$1; shift
  "$bin" price "$@" --out "$tmp/$name.json" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  local pid=$!
  wait "$pid"
  local status=$?
  cat "$tmp/$name.out"
  if [[ $status -ne 0 ]]; then
    echo "FAIL: sockbench price $* exited $status: $(cat "$tmp/$name.err")"; fail=1
  fi
  if ls -d /sys/fs/cgroup/unified/sockbench-"$pid"-* >/dev/null 2>&1; then
    echo "FAIL: price $* left its cgroup behind"; fail=1
  fi
  local workers
  workers=$(sed -n 's/^measuring .* in process \([0-9]*\)$/\1/p' "$tmp/$name.out")
  [[ -n $workers ]] || { echo "FAIL: price $* names no measuring process"; fail=1; }
  for w in $workers; do
    if grep -q "sockbench-$pid-" "/proc/$w/cgroup" 2>/dev/null; then
      echo "FAIL: measuring process $w survived"; fail=1
    fi
  done
}

run_price all --sockets 200
run_price none --approach none --sockets 200

/usr/bin/python3 - "$tmp/probe.json" "$tmp/all.json" "$tmp/none.json" "$tmp/all.out" <<'EOF' || fail=1
import json, numbers, sys

probe = {a["name"]: a for a in json.load(open(sys.argv[1]))["approaches"]}
TRACKING = ["sockhash_bucket", "sk_storage_iter", "sleepable_kfunc", "sleepable_kfunc_rbtree"]
CASES = [(p, f) for f in ("ipv4", "ipv6") for p in ("udp", "tcp")]
NUMBERS = ["sockets", "connect_us_mean", "connect_us_median", "added_us_median", "added_us_mean",
           "slab_bytes", "slab_bytes_per_socket", "map_bytes_empty", "map_bytes", "recorded",
           "record_failed"]
LISTS = ["block_sockets", "connect_us_per_block", "connect_us_median_per_block"]
errors = []

def number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)

def check(path, approaches):
    doc = json.load(open(path))
    ctx = doc.get("context", {})
    for k in ("kernel_release", "kernel_config_sha256", "patchset", "vm", "machine", "sockbench_git_revision"):
        if not isinstance(ctx.get(k), str) or not ctx[k]:
            errors.append(f"{path}: context.{k} missing: {ctx.get(k)!r}")
    if ctx.get("sockbench_price_schema_version") != 1 or ctx.get("command") != "price":
        errors.append(f"{path}: context names no price schema: {ctx.get('sockbench_price_schema_version')!r}")
    if ctx.get("sockets") != 200 or ctx.get("blocks") != 5 or ctx.get("approaches") != approaches:
        errors.append(f"{path}: context sockets/blocks/approaches: {ctx.get('sockets')}, {ctx.get('blocks')}, "
                      f"{ctx.get('approaches')}")
    rows = doc.get("rows", [])
    keys = sorted((r.get("approach"), r.get("protocol"), r.get("family")) for r in rows)
    want = sorted((a, p, f) for a in ["none"] + approaches for p, f in CASES)
    if keys != want:
        errors.append(f"{path}: rows {keys}, want {want}")
    for r in rows:
        where = f"{path}: {r.get('approach')} {r.get('protocol')}/{r.get('family')}"
        a, status = r.get("approach"), r.get("status")
        supported = a == "none" or probe[a]["supported"]
        if not supported:
            want_status = "unsupported: " + probe[a]["reason"]
            if status != want_status:
                errors.append(f"{where}: status {status!r}, want {want_status!r}")
            if set(r) != {"approach", "protocol", "family", "status"}:
                errors.append(f"{where}: an unsupported row carries {sorted(set(r) - {'approach', 'protocol', 'family', 'status'})}")
            continue
        if status != "ok":
            errors.append(f"{where}: status {status!r}, want ok")
        for k in NUMBERS:
            if not number(r.get(k)):
                errors.append(f"{where}: {k} is {r.get(k)!r}, not a number")
        for k in LISTS:
            v = r.get(k)
            if not isinstance(v, list) or len(v) != 5 or not all(number(x) and x > 0 for x in v):
                errors.append(f"{where}: {k} is {v!r}, not 5 positive numbers")
        if r.get("block_sockets") and sum(r["block_sockets"]) != 200:
            errors.append(f"{where}: blocks hold {r['block_sockets']}, not the 200 sockets")
        if a == "none":
            if r.get("recorded") != 0 or r.get("map_bytes") != 0 or r.get("added_us_median") != 0:
                errors.append(f"{where}: the baseline recorded {r.get('recorded')}, map {r.get('map_bytes')}, "
                              f"added {r.get('added_us_median')}")
        else:
            if r.get("recorded") != 200 or r.get("record_failed") != 0:
                errors.append(f"{where}: recorded {r.get('recorded')} (failed {r.get('record_failed')}), want 200")
            if not (number(r.get("map_bytes")) and r["map_bytes"] > 0):
                errors.append(f"{where}: map_bytes {r.get('map_bytes')!r}, want > 0")
    return rows

rows = check(sys.argv[2], TRACKING)
check(sys.argv[3], [])
# The table names every row, unsupported ones with the reason.
table = open(sys.argv[4]).read()
for r in rows:
    if r["status"].startswith("unsupported: ") and f"{r['protocol']}/{r['family']}  {r['status']}" not in table:
        errors.append(f"table: no line for {r['approach']} {r['protocol']}/{r['family']} {r['status']!r}")
for e in errors:
    print("FAIL:", e)
supported = [a for a in TRACKING if probe[a]["supported"]]
print(f"checked {len(rows)} rows; measured: none{''.join(', ' + a for a in supported)}; "
      f"unsupported here: {', '.join(a for a in TRACKING if a not in supported) or 'none'}")
sys.exit(1 if errors else 0)
EOF
exit $fail
