#!/usr/bin/python3
"""numpy's side of bench/random: 16M uniform f32 from numpy's default generator (PCG64, one
thread) and a 64 MiB fill, the write bandwidth limit at the same footprint. Best of 10 runs.

    /usr/bin/python3 bench/random/peers.py
    kiln bench bench/random/uniform.kir --repeat 20
"""
import time

import numpy as np

rng = np.random.default_rng(0)
for name, fn in [("numpy default_rng().random(2^24, float32)",
                  lambda: rng.random(1 << 24, dtype=np.float32)),
                 ("np.full(2^24, 1.0, float32): write bandwidth",
                  lambda: np.full(1 << 24, 1.0, dtype=np.float32))]:
    times = []
    for _ in range(10):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    print(f"{name}: {min(times) * 1e3:.2f} ms")
