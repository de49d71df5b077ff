#!/usr/bin/python3
"""Every committed result file is backed by the revision it names (#16).

  results_provenance_test.py SOURCE_DIR

For each results/*.json tracked by git, reads the sockbench revision stamped
in it and checks, with git on this checkout:

  (a) the tree was clean: the revision does not end in -dirty, and the
      context does not say sockbench_git_dirty: true (nor is the stamp
      missing or "unknown");
  (b) the revision is a commit of this repository (`git cat-file -e
      REV^{commit}`) and in the history of HEAD (a fresh clone has it);
  (c) it holds the code that produced the file: the producing command's
      source (`git ls-tree REV PATH`: bench/run_cmd.cc for `sockbench run`
      files, leak/leak_cmd.cc for `sockbench leak` files, bench/lazy_cmd.cc
      for `sockbench lazy` files, the price test for
      vm-price-*.json), the workload file the context names, and every
      approach (and leak strategy) the file names, as a quoted name in the
      revision's sources.

results/KNOWN_UNBACKED.txt lists the committed files known to fail, one line
each, "FILE: why"; they are a temporary allow-list, to be regenerated from
clean revisions. A file that fails and is not listed fails the test; so does
a listed file that passes (remove its line: the list only shrinks) and a
line naming no committed file.

Without a git checkout of SOURCE_DIR (an exported tarball): fails with a
clear message if results/ has files to check, passes otherwise.
"""
import glob
import json
import os
import re
import subprocess
import sys

ALLOW_LIST = "results/KNOWN_UNBACKED.txt"
# vm-price-*.json: written by the opt-in price measurement of a kernel test.
PRICE_PRODUCERS = {
    "vm-price-sleepable.json": "tests/kernel/sleepable_kfunc_price_test.cc",
    "vm-price-sockhash.json": "tests/kernel/sockhash_bucket_price_test.cc",
}

failures = 0


def fail(what):
    global failures
    failures += 1
    print("FAIL: " + what)


def git(source, *args):
    return subprocess.run(["git", "-C", source, *args], capture_output=True, text=True)


def read_allow_list(source):
    """{file name: why} from results/KNOWN_UNBACKED.txt ("#" comments)."""
    listed = {}
    path = os.path.join(source, ALLOW_LIST)
    if not os.path.exists(path):
        return listed
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, why = line.partition(":")
            if not sep or not why.strip():
                fail(f"{ALLOW_LIST}:{n}: '{line}' is not 'FILE: why'")
                continue
            if name.strip() in listed:
                fail(f"{ALLOW_LIST}:{n}: {name.strip()} listed twice")
            listed[name.strip()] = why.strip()
    return listed


def producer(name, doc):
    """(source path of the command that writes this shape of file, shape), or (None, why)."""
    if isinstance(doc, dict) and "benchmarks" in doc and "context" in doc:
        return "bench/run_cmd.cc", "sockbench run"
    if isinstance(doc, dict) and name.startswith("leak") and ("cells" in doc or "churn" in doc):
        return "leak/leak_cmd.cc", "sockbench leak"
    if isinstance(doc, dict) and "rows" in doc and "sockbench_price_schema_version" in doc.get("context", {}):
        return "bench/price_cmd.cc", "sockbench price"
    if isinstance(doc, dict) and "rows" in doc and "sockbench_lazy_schema_version" in doc.get("context", {}):
        return "bench/lazy_cmd.cc", "sockbench lazy"
    if name.startswith("vm-price-"):
        if name in PRICE_PRODUCERS:
            return PRICE_PRODUCERS[name], "price test"
        return None, "a vm-price file this test does not know the producer of (add it to PRICE_PRODUCERS)"
    return None, "a file of unknown shape (neither `sockbench run`, `sockbench leak`, `sockbench price` nor a price test's file)"


def named_in_file(doc):
    """Approaches (and leak strategies) the file says ran or were tried."""
    sys.path.insert(0, os.path.join(SOURCE, "plots"))
    import sockbench_results  # noqa: E402
    ctx = doc.get("context", {})
    names = set()
    if "benchmarks" in doc:
        _ctx, timed, not_timed = sockbench_results.parse(doc)
        names |= {a for a, _s in timed} | {e["approach"] for e in not_timed}
    names |= set(ctx.get("approaches", [])) | set(ctx.get("strategies", []))
    names |= {u["approach"] for u in ctx.get("unsupported", []) if isinstance(u, dict) and "approach" in u}
    return names


def problems(source, name, doc):
    """-> (revision or None, [reasons the file is not backed])."""
    why = []
    if not isinstance(doc, dict):
        return None, ["not a JSON object"]
    ctx = doc.get("context", {}) if isinstance(doc.get("context"), dict) else {}
    rev = ctx.get("sockbench_git_revision")
    path, shape = producer(name, doc)
    if path is None:
        why.append(shape)
    if not rev:
        why.append("no sockbench_git_revision stamp (written before the producer stamped one)")
        return None, why
    if rev == "unknown":
        why.append("revision 'unknown': built outside a git checkout")
        return rev, why
    base = rev
    if rev.endswith("-dirty"):
        base = rev[: -len("-dirty")]
        sha = ctx.get("sockbench_git_diff_sha256")
        why.append(f"built from {base} with uncommitted changes ({rev}"
                   + (f", diff sha256 {sha[:12]}" if sha else ", diff not recorded") + ")")
    elif ctx.get("sockbench_git_dirty") is True:
        why.append(f"context says sockbench_git_dirty: true for revision {rev}")
    if git(source, "cat-file", "-e", f"{base}^{{commit}}").returncode != 0:
        why.append(f"revision {base} is not a commit of this repository")
        return rev, why
    if git(source, "merge-base", "--is-ancestor", f"{base}^{{commit}}", "HEAD").returncode != 0:
        why.append(f"revision {base} is not in the history of HEAD")
    needed = [path] if path else []
    wf = ctx.get("workload_file")
    if wf and not os.path.isabs(wf):
        needed.append(wf)
    for p in needed:
        out = git(source, "ls-tree", "--name-only", base, "--", p)
        if out.returncode != 0 or out.stdout.strip() != p:
            why.append(f"{p} is not in revision {base}" + (f" ({shape})" if p == path else ""))
    dirs = ["harness", "bench", "leak", "lazy"]
    for a in sorted(named_in_file(doc)):
        if git(source, "grep", "-q", "-F", f'"{a}"', base, "--", *dirs).returncode != 0:
            why.append(f"'{a}', which the file names, is not in revision {base}'s sources")
    return rev, why


def main():
    global SOURCE
    SOURCE = os.path.realpath(sys.argv[1])
    on_disk = sorted(os.path.basename(p) for p in glob.glob(os.path.join(SOURCE, "results", "*.json")))
    top = git(SOURCE, "rev-parse", "--show-toplevel")
    if top.returncode != 0 or os.path.realpath(top.stdout.strip()) != SOURCE:
        if on_disk:
            where = (f"it is inside the repository {top.stdout.strip()}" if top.returncode == 0
                     else "no .git")
            fail(f"{SOURCE} is not a git checkout ({where}): the stamps of results/ ({len(on_disk)} files) "
                 f"cannot be checked against git; run this test in a clone of sockbench")
        else:
            print(f"ok: {SOURCE} has no git checkout and no results/*.json: nothing to check")
        return finish([])
    tracked = git(SOURCE, "ls-files", "--", "results/*.json")
    files = sorted(os.path.basename(p) for p in tracked.stdout.split())
    listed = read_allow_list(SOURCE)
    unbacked = []
    for name in files:
        try:
            with open(os.path.join(SOURCE, "results", name)) as f:
                doc = json.load(f)
            rev, why = problems(SOURCE, name, doc)
        except (OSError, ValueError) as e:
            rev, why = None, [f"cannot read: {e}"]
        if not why:
            if name in listed:
                fail(f"{name} ({rev}) is backed now: remove its line from {ALLOW_LIST}")
            else:
                print(f"ok: {name}: {rev}, clean, in history, holds its producer")
            continue
        unbacked.append((name, why))
        if name in listed:
            print(f"known unbacked ({ALLOW_LIST}): {name}: " + "; ".join(why))
        else:
            fail(f"{name} is not backed by its stamp, and not in {ALLOW_LIST}: " + "; ".join(why))
    for name in sorted(set(listed) - set(files)):
        fail(f"{ALLOW_LIST} lists {name}, which is not a committed results/*.json: remove the line")
    return finish(unbacked)


def finish(unbacked):
    if unbacked:
        print(f"\n{len(unbacked)} committed result file(s) not backed by their stamp:")
        for name, why in unbacked:
            print(f"  {name}: " + "; ".join(why))
    print(f"{failures} failed" if failures else "all passed")
    return 1 if failures else 0


SOURCE = ""

if __name__ == "__main__":
    sys.exit(main())
