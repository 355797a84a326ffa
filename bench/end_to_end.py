#!/usr/bin/python3
"""End to end through the `kiln` command against the kernels alone, in one run.

For each workload W1-W5 (written as .kir by kiln_bench_write_workloads), runs
`kiln bench wN.kir` (the kernels on the runtime's buffers, fused) and
`kiln run wN.kir --random-inputs --stats` (a whole call: argument checks, result storage; its
kernel_ms is the kernels alone in the same process), interleaved, and prints each median and
the ratio of a whole call to the kernels.

usage: bench/end_to_end.py BUILD_DIR [--repeat N] [--rounds R]
"""

import argparse
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile


def bench_fused_ms(kiln, program, repeat):
    out = subprocess.run([kiln, "bench", program, "--repeat", str(repeat)], check=True,
                         capture_output=True, text=True).stdout
    unit = 1e-3 if "median_us" in out else 1.0
    row = re.search(r"^fused\s+\d+\s+[0-9.]+\s+([0-9.]+)", out, re.M)
    return float(row.group(1)) * unit


def run_stats_ms(kiln, program, repeat, out_dir):
    out = subprocess.run([kiln, "run", program, "--random-inputs", "--stats", "--repeat",
                          str(repeat), "--output-dir", out_dir], check=True,
                         capture_output=True, text=True).stdout
    value = lambda key: float(re.search(rf"^{key}: ([0-9.]+)", out, re.M).group(1))
    return value("run_ms"), value("kernel_ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    build = pathlib.Path(args.build)
    kiln = str(build / "tools" / "kiln")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([str(build / "bench" / "kiln_bench_write_workloads"), tmp], check=True)
        print(f"{'workload':<9}{'bench ms':>10}{'kernel_ms':>11}{'run_ms':>10}"
              f"{'run/bench':>11}{'run/kernel':>12}")
        for w in ["w1", "w2", "w3", "w4", "w5"]:
            program = str(pathlib.Path(tmp) / f"{w}.kir")
            bench, run, kernel = [], [], []
            for _ in range(args.rounds):
                bench.append(bench_fused_ms(kiln, program, args.repeat))
                r, k = run_stats_ms(kiln, program, args.repeat, str(pathlib.Path(tmp) / "out"))
                run.append(r)
                kernel.append(k)
            b, r, k = (statistics.median(v) for v in (bench, run, kernel))
            print(f"{w.upper():<9}{b:>10.2f}{k:>11.2f}{r:>10.2f}{r / b:>10.2f}x{r / k:>11.2f}x")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
