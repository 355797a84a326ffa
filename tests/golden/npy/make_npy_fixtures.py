#!/usr/bin/python3
"""Writes the .npy fixtures that tests/frontend/npy_test.cpp reads: files made by numpy
itself, so kiln's reader is checked against the format's reference writer."""
import os
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))


def save(name, array, **kwargs):
    np.save(os.path.join(here, name), array, **kwargs)


save("f32_2x3.npy", np.arange(6, dtype=np.float32).reshape(2, 3) / 4)
save("i32_big_endian.npy", np.array([1, -2, 300000], dtype=">i4"))
save("f64_fortran.npy", np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)))
save("bool_4.npy", np.array([True, False, False, True]))
save("f16_scalar.npy", np.float16(1.5))
save("u8_empty.npy", np.zeros((0, 3), dtype=np.uint8))
save("complex_unsupported.npy", np.array([1 + 2j]))
with open(os.path.join(here, "f32_v2.npy"), "wb") as f:
    np.lib.format.write_array(f, np.array([7.0, 8.0], dtype=np.float32), version=(2, 0))
