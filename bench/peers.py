#!/usr/bin/python3
"""The peers a user would pick instead of kiln, on the same workloads: numpy and torch eager
(Debian's python3-numpy and python3-torch), timed as a user calls them (one call, results
allocated). Prints the median of repetitions in ms, and the cost of one small op.

    /usr/bin/python3 bench/peers.py            # numpy and torch (torch skipped if absent)

Run it beside `build/bench/kiln_bench --benchmark_filter='EndToEnd|Eval_SmallOp'` on a quiet
machine; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, set on some hosts for old OpenBLAS builds,
slow a current numpy: unset both for this command only.
"""
import os
import statistics
import time

import numpy as np

REPEATS = 15


def median_ms(fn, repeats=REPEATS):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def workloads_numpy(rng):
    x1 = rng.uniform(-1, 1, 16 << 20).astype(np.float32)
    a, b = np.float32(0.7), np.float32(0.1)
    x2 = rng.uniform(-1, 1, (4096, 4096)).astype(np.float32)
    x3 = rng.uniform(-1, 1, (8192, 1024)).astype(np.float32)
    x4 = rng.uniform(-1, 1, (256, 1024)).astype(np.float32)
    w1 = rng.uniform(-1, 1, (1024, 4096)).astype(np.float32)
    b1 = rng.uniform(-1, 1, 4096).astype(np.float32)
    w2 = rng.uniform(-1, 1, (4096, 1024)).astype(np.float32)
    b2 = rng.uniform(-1, 1, 1024).astype(np.float32)
    x5 = rng.uniform(-1, 1, 64 << 20).astype(np.float32)
    c = np.float32(0.7978845608028654)

    def gelu(z):
        return 0.5 * z * (1 + np.tanh(c * (z + np.float32(0.044715) * z * z * z)))

    def w1_fn():
        z = x1 * a + b
        return gelu(z) * (1 / (1 + np.exp(-x1)))

    def w2_fn():
        e = np.exp(x2 - x2.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def w3_fn():
        m = x3.mean(axis=1, keepdims=True)
        d = x3 - m
        return d / np.sqrt((d * d).mean(axis=1, keepdims=True) + np.float32(1e-5))

    def w4_fn():
        return gelu(x4 @ w1 + b1) @ w2 + b2

    def w5_fn():
        return x5.sum()

    return [w1_fn, w2_fn, w3_fn, w4_fn, w5_fn]


def workloads_torch(torch, rng):
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a))
    x1 = t(rng.uniform(-1, 1, 16 << 20).astype(np.float32))
    x2 = t(rng.uniform(-1, 1, (4096, 4096)).astype(np.float32))
    x3 = t(rng.uniform(-1, 1, (8192, 1024)).astype(np.float32))
    x4 = t(rng.uniform(-1, 1, (256, 1024)).astype(np.float32))
    w1 = t(rng.uniform(-1, 1, (1024, 4096)).astype(np.float32))
    b1 = t(rng.uniform(-1, 1, 4096).astype(np.float32))
    w2 = t(rng.uniform(-1, 1, (4096, 1024)).astype(np.float32))
    b2 = t(rng.uniform(-1, 1, 1024).astype(np.float32))
    x5 = t(rng.uniform(-1, 1, 64 << 20).astype(np.float32))
    F = torch.nn.functional
    with torch.no_grad():
        fns = [
            lambda: F.gelu(x1 * 0.7 + 0.1, approximate="tanh") * torch.sigmoid(x1),
            lambda: torch.softmax(x2, dim=1),
            lambda: F.layer_norm(x3, (1024,), eps=1e-5),
            lambda: F.gelu(x4 @ w1 + b1, approximate="tanh") @ w2 + b2,
            lambda: x5.sum(),
        ]
    return [lambda f=f: _no_grad(torch, f) for f in fns]


def _no_grad(torch, f):
    with torch.no_grad():
        return f()


def main():
    rng = np.random.default_rng(1)
    rows = {"numpy": [median_ms(f) for f in workloads_numpy(rng)]}
    a = np.full(16, 1.5, np.float32)
    small = {"numpy": median_ms(lambda: a + a, 2000) * 1e3}
    # sum(x * i) with a new Python number each time, as kiln's Eval_ChangingScalar.
    x = np.full(1024, 0.5, np.float32)
    counter = iter(range(1 << 30))
    scalar = {"numpy": median_ms(lambda: float((x * np.float32(next(counter))).sum()), 2000) * 1e3}
    try:
        import torch

        torch.set_num_threads(os.cpu_count() or 1)
        rows["torch"] = [median_ms(f) for f in workloads_torch(torch, rng)]
        ta = torch.full((16,), 1.5)
        small["torch"] = median_ms(lambda: ta + ta, 2000) * 1e3
        tx = torch.full((1024,), 0.5)
        scalar["torch"] = median_ms(lambda: (tx * float(next(counter))).sum().item(), 2000) * 1e3
    except ImportError:
        pass
    print(f"{'peer':<6}" + "".join(f"{'W' + str(i + 1) + ' ms':>10}" for i in range(5)) +
          f"{'small op us':>13}{'scalar loop us':>16}")
    for name, times in rows.items():
        print(f"{name:<6}" + "".join(f"{t:>10.2f}" for t in times) + f"{small[name]:>13.2f}" +
              f"{scalar[name]:>16.2f}")


if __name__ == "__main__":
    main()
