#!/usr/bin/env python3
"""Runs kiln_bench and prints, per workload, its kernel and end-to-end times and its share of
its limit, every limit measured in the same report run, as bench/README.md records.

    python3 bench/report.py build/bench/kiln_bench --benchmark_repetitions=3

The limits that need a process of their own run as separate kiln_bench processes after the
main one, with the same arguments: OpenBLAS reads OPENBLAS_CORETYPE once, when it loads, so
each core type's kernels get a process; oneDNN's OpenMP threads get one too, with
OMP_WAIT_POLICY=passive, so their spinning slows nothing else. W4's limit is the fastest
sgemm of all of them; W1's the fastest hand-written loop.
"""
import json
import os
import subprocess
import sys

# OpenBLAS core types whose kernels this CPU may run fastest (`strings` on the library lists
# the names it knows); None is the library's own pick.
CORETYPES = [None, "SkylakeX", "Haswell", "Zen"]
SEPARATE = "^Limit_(Sgemm|OnednnSgemm)"  # the benchmarks that run in processes of their own


def run(binary, args, env=None):
    """Runs kiln_bench, returning {name: result} (the medians with --benchmark_repetitions:
    this machine is shared and a single run can land on a noisy moment; empty when nothing
    matched the filter), or why it failed."""
    proc = subprocess.run([binary, "--benchmark_format=json", *args], capture_output=True,
                          text=True, env=env)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return f"failed, exit status {proc.returncode}: {lines[-1] if lines else ''}"
    if not proc.stdout.strip():  # nothing matched the filter: no JSON at all
        return {}
    runs = json.loads(proc.stdout)["benchmarks"]
    repeated = any("aggregate_name" in b for b in runs)
    # A benchmark that failed (SkipWithError) has no aggregates: keep its error instead.
    results = {b["run_name"]: b for b in runs
               if not repeated or b.get("aggregate_name") == "median" or b.get("error_occurred")}
    for b in runs:  # aggregates carry no label
        if b.get("label") and b["run_name"] in results:
            results[b["run_name"]].setdefault("label", b["label"])
    return results


def separate(binary, extra, name, env_changes):
    """Runs the benchmarks matching ^name in a process of their own, with env_changes made
    to the environment (a value of None removes the variable)."""
    env = dict(os.environ)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    # Last, so it wins over a --benchmark_filter among the caller's arguments.
    return run(binary, [*extra, f"--benchmark_filter=^{name}"], env)


def sgemm_candidates(binary, extra, main):
    """Every sgemm rate at W4's shapes: [(what, GFLOP/s or why there is none)]."""
    found = []
    for core in CORETYPES:
        b = separate(binary, extra, "Limit_Sgemm", {"OPENBLAS_CORETYPE": core})
        result = b if isinstance(b, str) else b.get("Limit_Sgemm/real_time")
        # The label is the core whose kernels OpenBLAS loaded.
        ran = result.get("label", "?") if isinstance(result, dict) else "?"
        if not core:
            what = f"OpenBLAS, its own pick ({ran})"
        else:
            what = f"OpenBLAS {core}" + ("" if ran in (core, "?") else f" (ran {ran})")
        found.append((what, result))
    onednn = separate(binary, extra, "Limit_OnednnSgemm", {"OMP_WAIT_POLICY": "passive"})
    if isinstance(onednn, str):
        found.append(("oneDNN", onednn))
    elif not onednn:
        found.append(("oneDNN", "not measured: kiln_bench was built without it (libdnnl-dev)"))
    else:
        found += [(f"oneDNN, {r.get('label', name)}", r) for name, r in onednn.items()]
    kiln = main.get("Limit_KilnSgemm/real_time")
    found.append((f"kiln's GEMM, {kiln.get('label', '') if kiln else ''}", kiln))
    return [(what, rate(r, "GFLOP/s")) for what, r in found]


def rate(result, key):
    """A result's counter, or why there is none."""
    if result is None:
        return "not run"
    if isinstance(result, str):
        return result
    if result.get("error_occurred"):
        return result.get("error_message", "error")
    return result[key]


def best(candidates):
    numbers = [(value, what) for what, value in candidates if not isinstance(value, str)]
    return max(numbers) if numbers else (None, "none measured")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary, extra = sys.argv[1], sys.argv[2:]
    # The caller's own filter, if any, comes after this one and wins.
    main_run = run(binary, [f"--benchmark_filter=-{SEPARATE}", *extra])
    if isinstance(main_run, str):
        sys.exit(f"{binary}: {main_run}")
    b = main_run

    def ms(name):
        return b[name]["real_time"]

    def counter(name, key):
        return b[name][key]

    # Each memory-bound workload against a stream at its own footprint.
    scale_16m = counter(f"Limit_StreamScale/{16 << 20}/real_time", "GB/s")
    scale_8m = counter(f"Limit_StreamScale/{8 << 20}/real_time", "GB/s")
    sum_64m = counter(f"Limit_StreamSum/{64 << 20}/real_time", "GB/s")
    print(f"limits, all measured in this run: read+write stream {scale_16m:.1f} GB/s at 16M "
          f"floats (W1, W2), {scale_8m:.1f} GB/s at 8M (W3); read stream {sum_64m:.1f} GB/s at "
          f"64M (W5)")

    sgemms = sgemm_candidates(binary, extra, b)
    sgemm, sgemm_what = best(sgemms)
    print("sgemm at W4's shapes, GFLOP/s:")
    for what, value in sgemms:
        shown = value if isinstance(value, str) else f"{value:.1f}"
        print(f"  {what + ':':<44} {shown}{'  <- the limit' if what == sgemm_what else ''}")

    loops = [(what, rate(b.get(f"{name}/real_time"), "real_time")) for what, name in
             [("2 exps, 1 division, non-temporal stores", "Peer_HandwrittenW1"),
              ("2 exps, 1 division, ordinary stores", "Peer_HandwrittenW1Cached"),
              ("tanh form", "Peer_HandwrittenW1Tanh")]]
    # The fastest loop is the smallest time.
    w1_best = min(((value, what) for what, value in loops if not isinstance(value, str)),
                  default=(None, "none measured"))
    print("hand-written W1, ms:")
    for what, value in loops:
        shown = value if isinstance(value, str) else f"{value:.2f}"
        print(f"  {what + ':':<44} {shown}{'  <- the limit' if what == w1_best[1] else ''}")

    print(f"\n{'':<3} {'kernel ms':>9} {'end to end ms':>13} {'unfused ms':>10} {'speedup':>7} "
          f"{'kernels':>7}  share of limit")
    streams = {"W2": (scale_16m, "16M"), "W3": (scale_8m, "8M"), "W5": (sum_64m, "64M")}
    for w in ["W1", "W2", "W3", "W4", "W5"]:
        fused, unfused = f"{w}/fused:1/real_time", f"{w}/fused:0/real_time"
        if w == "W1" and not w1_best[0]:
            share = "no hand-written loop measured"
        elif w == "W1":
            share = (f"{w1_best[0] / ms(fused):.0%}: kiln takes {ms(fused) / w1_best[0]:.2f}x "
                     f"the hand-written loop's {w1_best[0]:.2f} ms")
        elif w == "W4":
            share = (f"{counter(fused, 'GFLOP/s') / sgemm:.0%} of {sgemm:.1f} GFLOP/s "
                     f"({sgemm_what})" if sgemm else "no sgemm limit measured")
        else:
            limit, size = streams[w]
            share = f"{counter(fused, 'GB/s') / limit:.0%} of {limit:.1f} GB/s ({size} floats)"
        print(f"{w:<3} {ms(fused):>9.2f} {ms(f'EndToEnd_{w}/real_time'):>13.2f} "
              f"{ms(unfused):>10.2f} {ms(unfused) / ms(fused):>6.1f}x "
              f"{int(counter(fused, 'kernels')):>7}  {share}")
    print(f"\nfresh kernel compile: {ms('Compile_FreshKernel/real_time'):.1f} ms (1 kernel), "
          f"disk-cached rerun: {ms('Compile_DiskCached/real_time'):.2f} ms")


if __name__ == "__main__":
    main()
