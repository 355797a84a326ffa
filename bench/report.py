#!/usr/bin/env python3
"""Runs kiln_bench once and prints each workload's time and its share of its limit, all
measured in the same run, as the table bench/README.md records.

    python3 bench/report.py build/bench/kiln_bench --benchmark_repetitions=3
"""
import json
import subprocess
import sys


def run(binary, extra):
    out = subprocess.run([binary, "--benchmark_format=json", *extra], check=True,
                         capture_output=True, text=True).stdout
    runs = json.loads(out)["benchmarks"]
    # With --benchmark_repetitions, keep each benchmark's median: this machine is shared and
    # a single run of a limit can land on a noisy moment.
    medians = {b["run_name"]: b for b in runs if b.get("aggregate_name") == "median"}
    if medians:
        return medians
    return {b["name"]: b for b in runs}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    b = run(sys.argv[1], sys.argv[2:])

    def ms(name):
        return b[name]["real_time"]

    def counter(name, key):
        return b[name][key]

    # Each memory-bound workload against a stream at its own footprint.
    scale_16m = counter(f"Limit_StreamScale/{16 << 20}/real_time", "GB/s")
    scale_8m = counter(f"Limit_StreamScale/{8 << 20}/real_time", "GB/s")
    sum_64m = counter(f"Limit_StreamSum/{64 << 20}/real_time", "GB/s")
    sgemm = counter("Limit_Sgemm/real_time", "GFLOP/s")
    print(f"limits: read+write stream {scale_16m:.1f} GB/s at 16M floats (W1, W2), "
          f"{scale_8m:.1f} GB/s at 8M (W3), read stream {sum_64m:.1f} GB/s at 64M (W5), "
          f"OpenBLAS sgemm {sgemm:.1f} GFLOP/s, hand-written W1 {ms('Peer_HandwrittenW1/real_time'):.2f} ms")
    print(f"{'workload':<8} {'fused ms':>9} {'unfused ms':>11} {'speedup':>8} {'kernels':>8}  share of limit")
    rows = [("W1", "GB/s", scale_16m), ("W2", "GB/s", scale_16m), ("W3", "GB/s", scale_8m),
            ("W4", "GFLOP/s", sgemm), ("W5", "GB/s", sum_64m)]
    for name, key, limit in rows:
        fused, unfused = f"{name}/fused:1/real_time", f"{name}/fused:0/real_time"
        share = counter(fused, key) / limit
        print(f"{name:<8} {ms(fused):>9.2f} {ms(unfused):>11.2f} {ms(unfused) / ms(fused):>7.1f}x "
              f"{int(counter(fused, 'kernels')):>8}  {share:.0%} of {key}")
    print(f"W1 fused vs hand-written: {ms('W1/fused:1/real_time') / ms('Peer_HandwrittenW1/real_time'):.2f}x its time")
    print(f"fresh kernel compile: {ms('Compile_FreshKernel/real_time'):.1f} ms (1 kernel), "
          f"disk-cached rerun: {ms('Compile_DiskCached/real_time'):.2f} ms")


if __name__ == "__main__":
    main()
