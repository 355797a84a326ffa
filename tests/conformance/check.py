#!/usr/bin/python3
"""Independent conformance suite for kiln's reference interpreter.

Usage: /usr/bin/python3 check.py PATH/TO/kiln [--device cpu|vulkan [--no-fuse] [--bundle]]

Every program under programs/ is written by hand from the README's "The IR" section. For each
(program, function) pair in CASES this script generates seeded inputs, runs
`kiln run --device interp`, and compares every result with a reference written here in numpy
(StableHLO semantics where the README says they differ from numpy). Each program must also
dump canonically (`kiln dump` is the identity on its own output, the JSON form reads back to
the same text, and the canonical text computes the same results). Every program under bad/
must be rejected with exit status 1 and a `FILE:LINE:COL: error:` message whose place and
text are given on its first line as `// expect: LINE:COL: error: TEXT`.

With --device, every program runs compiled for that device instead of on the interpreter
(--no-fuse: one kernel per op), against the same references. Float tolerances then also
absorb the compiled code's error (DEVICE_TOLERANCE). With --bundle, each function is first
compiled ahead of time (`kiln compile`, for x86-64-v3 and x86-64-v4, or for Vulkan) and run from
the bundle through the runtime alone (`kiln run B.kbundle`).
"""

import math
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = os.path.join(HERE, "programs")
BAD = os.path.join(HERE, "bad")

# --------------------------------------------------------------------------------------------
# dtypes

# kiln dtype -> the numpy dtype of its .npy files (numpy has no bf16: kiln uses f32 for it).
NPY_DTYPE = {
    "bool": np.bool_, "i8": np.int8, "i16": np.int16, "i32": np.int32, "i64": np.int64,
    "u8": np.uint8, "u32": np.uint32, "f16": np.float16, "bf16": np.float32,
    "f32": np.float32, "f64": np.float64,
}
FLOATS = {"f16", "bf16", "f32", "f64"}

# (rtol, atol) per float dtype.
TOLERANCE = {"f64": (1e-12, 1e-12), "f32": (1e-5, 1e-5), "f16": (2e-3, 2e-3),
             "bf16": (1.6e-2, 1.6e-2)}

# Compiled code (--device): transcendentals within a few ulp (f32 4 ulp ~ 5e-7 relative, f64
# 5 ulp ~ 1e-15: codegen/spirv/math.h, codegen/cpu/math_approx.h), sums and dot products in
# another order (a dot of k terms within k ulp of its magnitude), and on Vulkan f32/f64
# subnormals flushed to zero (an absolute error below 1.2e-38, or 2.3e-308, that every atol
# here covers). Only f64's bound needs widening; a `tol` a case gives is used as it is, unless
# tighter than this.
DEVICE_TOLERANCE = {"f64": (1e-11, 1e-12), "f32": (1e-5, 1e-5), "f16": (2e-3, 2e-3),
                    "bf16": (1.6e-2, 1.6e-2)}

# `kiln run` arguments choosing where programs run: the interpreter unless --device says.
DEVICE_ARGS = ["--device", "interp"]
# With --bundle: the `kiln compile` options (targets, --no-fuse), else None.
BUNDLE_ARGS = None

# Known bugs of a compiled device: (device, program, function) -> why. Such a case is
# reported "xfail" while it fails and fails the run once it passes, so the entry is removed
# with the fix.
KNOWN_BUGS = {}


def bf16(x):
    """Rounds to the nearest bf16 value (ties to even), returned as f32."""
    x = np.asarray(x, dtype=np.float64).astype(np.float32)
    bits = np.atleast_1d(x).view(np.uint32).astype(np.uint64)
    low_half, one = np.uint64(16), np.uint64(1)
    odd = (bits >> low_half) & one
    rounded = ((bits + np.uint64(0x7FFF) + odd) >> low_half) << low_half
    out = rounded.astype(np.uint32).view(np.float32).reshape(x.shape)
    return np.where(np.isnan(x), x, out).astype(np.float32)


def to_dtype(x, dtype):
    """Casts a reference value to kiln dtype `dtype` as stored in .npy (bf16 rounded)."""
    if dtype == "bf16":
        return bf16(x)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(x).astype(NPY_DTYPE[dtype])


# --------------------------------------------------------------------------------------------
# Signatures: `func @name(%p: T, ...) -> T` or `-> (T, ...)`, read from the program's text.

TYPE_RE = re.compile(r"(bool|i8|i16|i32|i64|u8|u32|f16|bf16|f32|f64)\s*\[([^\]]*)\]")
FUNC_RE = re.compile(r"func\s+@(\w+)\s*\((.*?)\)\s*->\s*(.*?)\{", re.S)


def strip_comments(text):
    return re.sub(r"//[^\n]*", "", text)


def parse_type(text):
    m = TYPE_RE.fullmatch(text.strip())
    dims = [int(d) for d in m.group(2).split(",") if d.strip()]
    return m.group(1), tuple(dims)


def signatures(path):
    """Returns [(name, [(param, dtype, shape)], [(dtype, shape)])] in file order."""
    with open(path) as f:
        text = strip_comments(f.read())
    funcs = []
    for m in FUNC_RE.finditer(text):
        params = [(p, *parse_type(t)) for p, t in
                  re.findall(r"%(\w+)\s*:\s*(\w+\s*\[[^\]]*\])", m.group(2))]
        results = [parse_type(t.group(0)) for t in TYPE_RE.finditer(m.group(3))]
        funcs.append((m.group(1), params, results))
    return funcs


# --------------------------------------------------------------------------------------------
# Input generators: callables (rng, shape, dtype) -> array. Unlisted parameters use default().

def uniform(lo, hi):
    return lambda rng, shape, dtype: rng.uniform(lo, hi, shape)


def ints(lo, hi):
    return lambda rng, shape, dtype: rng.integers(lo, hi, shape, endpoint=True)


def default(rng, shape, dtype):
    if dtype in FLOATS:
        return rng.uniform(-1, 1, shape)
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.startswith("u"):
        return rng.integers(0, 16, shape, endpoint=True)
    return rng.integers(-8, 8, shape, endpoint=True)


def full_range(rng, shape, dtype):
    info = np.iinfo(NPY_DTYPE[dtype])
    return rng.integers(info.min, info.max, shape, endpoint=True, dtype=NPY_DTYPE[dtype])


def signed_floats(lo, hi):
    """Magnitudes in [lo, hi] with random signs (keeps products away from zero)."""
    def gen(rng, shape, dtype):
        return rng.uniform(lo, hi, shape) * rng.choice([-1.0, 1.0], shape)
    return gen


def small_floats(rng, shape, dtype):
    """Integers in [0, 2] as floats: many ties."""
    return rng.integers(0, 2, shape, endpoint=True).astype(np.float64)


# --------------------------------------------------------------------------------------------
# Reference semantics (numpy, independent of kiln).

def erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(np.asarray(x, np.float64))


def logistic(x):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def rsqrt(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1.0 / np.sqrt(x)


def int_div(a, b):
    """Truncating division; x / 0 = -1. Computed in Python ints, cast by the caller."""
    a, b = np.asarray(a, object), np.asarray(b, object)
    out = np.empty(a.shape, object)
    for i in np.ndindex(a.shape):
        x, y = int(a[i]), int(b[i])
        if y == 0:
            out[i] = -1
        else:
            q = abs(x) // abs(y)
            out[i] = q if (x < 0) == (y < 0) else -q
    return out


def int_rem(a, b):
    """Remainder with the dividend's sign; x rem 0 = x."""
    q = int_div(a, b)
    a, b = np.asarray(a, object), np.asarray(b, object)
    return np.where(b == 0, a, a - q * b)


def wrap(values, dtype):
    """Casts Python ints to kiln integer dtype with two's-complement wrap-around."""
    info = np.iinfo(NPY_DTYPE[dtype])
    span = int(info.max) - int(info.min) + 1
    flat = [((int(v) - int(info.min)) % span) + int(info.min) for v in np.ravel(values)]
    return np.array(flat, dtype=NPY_DTYPE[dtype]).reshape(np.shape(values))


def convert_float_to_int(x, dtype):
    """Truncates toward zero; NaN gives 0; out of range saturates."""
    info = np.iinfo(NPY_DTYPE[dtype])
    out = []
    for v in np.ravel(np.asarray(x, np.float64)):
        if math.isnan(v):
            out.append(0)
        elif v >= int(info.max):
            out.append(int(info.max))
        elif v <= int(info.min):
            out.append(int(info.min))
        else:
            out.append(int(math.trunc(v)))
    return np.array(out, dtype=NPY_DTYPE[dtype]).reshape(np.shape(x))


def broadcast(x, shape, dims):
    """Operand dim i goes to result dim dims[i]."""
    x = np.asarray(x)
    expanded = [1] * len(shape)
    for i, d in enumerate(dims):
        expanded[d] = x.shape[i]
    return np.broadcast_to(x.reshape(expanded), shape).copy()


def dot_general(a, b, lhs_batch=(), rhs_batch=(), lhs_contract=(), rhs_contract=()):
    """Result dims: batch, lhs free, rhs free. Floats accumulate in f64, ints in int64."""
    acc = np.float64 if np.asarray(a).dtype.kind == "f" else np.int64
    a, b = np.asarray(a, acc), np.asarray(b, acc)
    lhs_free = [d for d in range(a.ndim) if d not in lhs_batch and d not in lhs_contract]
    rhs_free = [d for d in range(b.ndim) if d not in rhs_batch and d not in rhs_contract]
    batch = [a.shape[d] for d in lhs_batch]
    m = [a.shape[d] for d in lhs_free]
    n = [b.shape[d] for d in rhs_free]
    k = int(np.prod([a.shape[d] for d in lhs_contract], dtype=np.int64))
    nb, nm, nn = (int(np.prod(s, dtype=np.int64)) for s in (batch, m, n))
    at = a.transpose(list(lhs_batch) + lhs_free + list(lhs_contract)).reshape(nb, nm, k)
    bt = b.transpose(list(rhs_batch) + list(rhs_contract) + rhs_free).reshape(nb, k, nn)
    return np.matmul(at, bt).reshape(batch + m + n)


def pad(x, value, low, high, interior=None):
    x = np.asarray(x)
    interior = interior or [0] * x.ndim
    inner = [0 if n == 0 else n + (n - 1) * i for n, i in zip(x.shape, interior)]
    shape = [lo + n + hi for lo, n, hi in zip(low, inner, high)]
    out = np.full(shape, value, dtype=x.dtype)
    out[tuple(slice(lo, lo + n, i + 1) for lo, n, i in zip(low, inner, interior))] = x
    return out


def take(x, idx, axis):
    idx = np.clip(np.asarray(idx, np.int64), 0, x.shape[axis] - 1)
    return np.take(x, idx, axis=axis)


def scatter_add(x, idx, upd, axis):
    out = np.array(x, copy=True)
    idx = np.clip(np.asarray(idx, np.int64), 0, x.shape[axis] - 1)
    lead = (slice(None),) * axis
    for j in np.ndindex(idx.shape):
        out[lead + (idx[j],)] += upd[lead + j]
    return out


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# --------------------------------------------------------------------------------------------
# The cases: (program, function) -> inputs and a reference.

CASES = []


def case(program, func, inputs=None, tol=None):
    """Registers a reference. func None runs without --func (the first function).

    inputs maps parameter names to generators or fixed values; tol overrides (rtol, atol)
    for every float result of the case.
    """
    def register(ref):
        CASES.append(dict(program=program, func=func, inputs=inputs or {}, tol=tol, ref=ref))
        return ref
    return register


F64 = np.float64

# ---- unary ------------------------------------------------------------------------------

@case("unary_float.kir", "f32_unary", {"x": uniform(-0.9, 0.9), "p": uniform(0.05, 4)})
def _(x, p):
    x, p = x.astype(F64), p.astype(F64)
    return [-x, np.abs(x), np.sign(x), np.exp(x), np.log(p), np.log1p(x), np.expm1(x),
            np.sqrt(p), rsqrt(p), np.sin(x), np.cos(x), np.tanh(x), logistic(x), erf(x)]


@case("unary_float.kir", "f64_unary", {"x": uniform(-0.9, 3), "p": uniform(1e-3, 50)})
def _(x, p):
    return [np.exp(x), np.log(p), np.log1p(x), np.expm1(x), np.sqrt(p), rsqrt(p), np.sin(x),
            np.cos(x), np.tanh(x), logistic(x), erf(x), np.sign(x)]


SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, -2.5, 1e-30])


@case("specials.kir", "specials", {"x": SPECIALS})
def _(x):
    x = x.astype(F64)
    with np.errstate(all="ignore"):
        return [np.abs(x), np.sign(x), np.exp(x), np.log(x), np.sqrt(x), rsqrt(x), np.tanh(x),
                logistic(x), erf(x), np.floor(x), np.ceil(x), -x]


ROUNDING = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4999, -0.3, 7.0, np.nan, np.inf, -np.inf])


def round_ref(x):
    return [np.floor(x), np.ceil(x), np.round(x)]  # np.round is half to even


case("rounding.kir", "round_f32", {"x": ROUNDING})(round_ref)
case("rounding.kir", "round_f64", {"x": ROUNDING})(round_ref)
case("rounding.kir", "round_f16", {"x": ROUNDING})(round_ref)


@case("rounding.kir", "round_const")
def _():
    return [np.round(np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 0.49999997], np.float32))]


@case("unary_int.kir", "i32_unary", {"x": np.array([-7, -1, 0, 1, 5, 2147483647, -2147483647,
                                                     100, -100])})
def _(x):
    x = x.astype(np.int64)
    return [-x, np.abs(x), np.sign(x)]


@case("unary_int.kir", "i8_i64_unary", {"a": np.array([-127, -3, 0, 3, 127, -1]),
                                        "b": np.array([-(2**62), -5, 0, 9, 2**62, 1])})
def _(a, b):
    a, b = a.astype(np.int64), b.astype(np.int64)
    return [np.abs(a), np.sign(a), -b, np.abs(b), np.sign(b)]


# ---- integer arithmetic -------------------------------------------------------------------

GRID_A, GRID_B = (g.ravel() for g in np.meshgrid(np.arange(-7, 8), np.arange(-3, 5)))


def divrem(dtype):
    def ref(a, b):
        return [wrap(int_div(a, b), dtype), wrap(int_rem(a, b), dtype)]
    return ref


for _dtype in ("i32", "i64", "i8"):
    case("int_divrem.kir", "divrem_" + _dtype, {"a": GRID_A, "b": GRID_B})(divrem(_dtype))
case("int_divrem.kir", "divrem_u32",
     {"a": np.array([0, 7, 4294967295, 100, 5, 9, 3, 4000000000], np.uint64),
      "b": np.array([0, 2, 0, 7, 5, 3, 0, 3], np.uint64)})(divrem("u32"))
case("int_divrem.kir", "divrem_u8", {"a": np.array([0, 7, 255, 100, 5, 9, 3, 200]),
                                     "b": np.array([0, 2, 0, 7, 5, 3, 0, 3])})(divrem("u8"))
case("int_divrem.kir", "divrem_overflow", {"a": np.array([-2**31, -2**31]),
                                           "b": np.array([-1, 1])})(divrem("i32"))


@case("int_arith.kir", "arith_i32", {"a": ints(-1000, 1000), "b": ints(-1000, 1000)})
def _(a, b):
    a, b = a.astype(np.int64), b.astype(np.int64)
    return [a + b, a - b, a * b, np.maximum(a, b), np.minimum(a, b)]


@case("int_arith.kir", "pow_int", {"a": ints(-3, 3), "e": ints(0, 4), "c": ints(-9, 9),
                                   "f": ints(0, 4)})
def _(a, e, c, f):
    return [np.power(a.astype(np.int64), e.astype(np.int64)),
            np.power(c.astype(np.int64), f.astype(np.int64))]


@case("int_arith.kir", "arith_small", {"a": ints(-10, 10), "b": ints(-10, 10), "c": ints(0, 15),
                                       "d": ints(0, 15), "e": ints(-100, 100),
                                       "f": ints(-100, 100)})
def _(a, b, c, d, e, f):
    a, b, c, d, e, f = (v.astype(np.int64) for v in (a, b, c, d, e, f))
    return [a + b, a * b, np.maximum(a, b), c + d, np.minimum(c, d), c * d, e - f, e * f]


@case("int_arith.kir", "arith_u32_i64", {"a": ints(0, 60000), "b": ints(0, 60000),
                                         "c": ints(-2**31, 2**31), "d": ints(-2**31, 2**31)})
def _(a, b, c, d):
    a, b, c, d = (v.astype(np.int64) for v in (a, b, c, d))
    return [a + b, a * b, np.maximum(a, b), c - d, c * d, np.minimum(c, d)]


# ---- bitwise and logic ----------------------------------------------------------------------

@case("bitwise.kir", "bits_i32", {"a": full_range, "b": full_range})
def _(a, b):
    return [a & b, a | b, a ^ b, ~a]


@case("bitwise.kir", "bits_unsigned", {"a": full_range, "b": full_range, "c": full_range,
                                       "d": full_range})
def _(a, b, c, d):
    return [a & b, a | b, a ^ b, ~a, ~c, ~d]


@case("bitwise.kir", "logic_bool", {"p": np.array([[True, True], [False, False]]),
                                    "q": np.array([[True, False], [True, False]])})
def _(p, q):
    return [p & q, p | q, p ^ q, ~p]


# ---- float binary ---------------------------------------------------------------------------

@case("float_binary.kir", "binary_f32", {"a": uniform(-2, 2), "b": signed_floats(0.2, 2),
                                         "p": uniform(0.1, 3)})
def _(a, b, p):
    a, b, p = a.astype(F64), b.astype(F64), p.astype(F64)
    # fmod of f32 operands is exact, so computing it in f64 is the same.
    return [a + b, a - b, a * b, a / b, np.fmod(a, b), np.power(p, b), np.maximum(a, b),
            np.minimum(a, b)]


@case("float_binary.kir", "binary_f64", {"a": uniform(-100, 100), "b": signed_floats(0.1, 10),
                                         "p": uniform(0.1, 3)})
def _(a, b, p):
    return [a + b, a * b, a / b, np.fmod(a, b), np.power(p, b), a - b]


@case("float_binary.kir", "binary_special",
      {"a": np.array([np.nan, 1, np.inf, -np.inf, 0, 3, -0.0, 5]),
       "b": np.array([1, np.nan, 2, np.inf, 0, 0, 2, -np.inf])})
def _(a, b):
    with np.errstate(all="ignore"):
        return [np.maximum(a, b), np.minimum(a, b), a / b, np.fmod(a, b), a + b]


# ---- comparisons, select, convert -----------------------------------------------------------

@case("compare.kir", "cmp_f32", {"a": np.array([1, 2, np.nan, 3, -0.0, np.inf, 5, np.nan, -1, 2]),
                                 "b": np.array([1, 3, 1, np.nan, 0.0, np.inf, 4, np.nan, -1, -2])})
def _(a, b):
    with np.errstate(invalid="ignore"):
        return [a == b, a != b, a < b, a <= b, a > b, a >= b]


@case("compare.kir", "cmp_ints", {"a": ints(-2, 2), "b": ints(-2, 2), "c": ints(0, 3),
                                  "d": ints(0, 3),
                                  "e": np.array([2**62, -1, 5, 2**62 + 1]),
                                  "f": np.array([2**62, 1, 5, 2**62])})
def _(a, b, c, d, e, f):
    return [a < b, a >= b, c > d, c <= d, e != f]


@case("compare.kir", "cmp_bool_f16", {"h": small_floats, "k": small_floats})
def _(p, q, h, k):
    return [p == q, p != q, h < k]


@case("select_convert.kir", "select_ops")
def _(p, a, b, i, j):
    return [np.where(p, a, b), np.where(p, i, j)]


# The last four are f32 values on the saturation boundaries: 2^31, -2^31 - 256, 2^32, 2^63.
FLOAT_TO_INT = np.array([1.9, -1.9, 0.5, -0.5, np.nan, np.inf, -np.inf, 1e10, -1e10, 300.7,
                         -129.5, 127.9, 2.0**31, -(2.0**31) - 256, 2.0**32, 2.0**63])


@case("select_convert.kir", "float_to_int", {"x": FLOAT_TO_INT})
def _(x):
    return [convert_float_to_int(x, t) for t in ("i32", "u8", "i8", "i64", "u32")]


@case("select_convert.kir", "int_to_float",
      {"i": np.array([16777217, -2147483648, 2147483647, 0, -5, 123456789]),
       "u": np.array([0, 1, 255, 128, 17, 200]),
       "l": np.array([2**53 + 1, -(2**63), 2**63 - 1, 0, -3, 10**15]),
       "s": np.array([-128, 127, 0, -1, 1, -100])})
def _(i, u, l, s):
    return [i.astype(np.float32), l.astype(np.float64), u.astype(np.float16),
            s.astype(np.float32), s.astype(np.int32), u.astype(np.int64)]


@case("select_convert.kir", "bool_convert",
      {"p": np.array([True, False, True, True, False]),
       "x": np.array([0.0, -0.0, 0.5, -3.0, 1e-30]),
       "i": np.array([0, 1, -1, 7, 0])})
def _(p, x, i):
    return [p.astype(F64), p.astype(np.int32), x != 0, i != 0]


@case("select_convert.kir", "float_to_float",
      {"x": np.array([0.1, 1 / 3, 65504.0, 70000.0, 1e-8, -2.718281828459045])})
def _(x):
    with np.errstate(over="ignore"):
        h = x.astype(np.float16)  # 70000 overflows to inf
    return [x.astype(np.float32), h, bf16(x), h.astype(F64)]


# ---- constants and iota ---------------------------------------------------------------------

@case("constants.kir", "consts")
def _():
    return [np.ones((2, 2)), np.array([[1, 2.5], [-3, 0.4]]), np.full(3, -7),
            np.array([True, False, True]), np.array(255), np.array(0.1),
            np.array([0.1, -65504]), np.array(3.14159), np.array([0.25, -1000, 150])]


@case("constants.kir", "big_ints")
def _():
    return [np.array([9007199254740993, -4611686018427387905], np.int64),
            np.array(4294967295, np.uint32), np.array([2147483647, -2147483648])]


def iota(shape, axis):
    return broadcast(np.arange(shape[axis]), shape, [axis])


@case("constants.kir", "iotas")
def _():
    return [iota((3, 4), 1), iota((2, 3), 0), iota((5,), 0), iota((2, 2, 2), 2), iota((4,), 0)]


# ---- data movement --------------------------------------------------------------------------

@case("broadcast.kir", "bcast")
def _(s, v, c, r, t):
    return [broadcast(s, (2, 3), []), broadcast(v, (2, 3), [1]), broadcast(c, (2, 4), [0, 1]),
            broadcast(r, (2, 3, 4), [0]), broadcast(t, (4, 2, 3), [1, 2]),
            broadcast(v, (2, 3), [1])]


@case("broadcast.kir", "bcast_rank4")
def _(x, b):
    return [broadcast(x, (2, 3, 4, 5), [1, 2]), broadcast(b, (2, 2, 2, 2), [2])]


@case("reshape_transpose.kir", "reshape")
def _(x, o):
    return [x.reshape(6, 4), x.reshape(24), x.reshape(4, 3, 2), o.reshape(()),
            x.reshape(1, 2, 1, 12)]


@case("reshape_transpose.kir", "transpose")
def _(x, y):
    return [x.transpose(2, 0, 1), x.transpose(1, 0, 2), y.transpose(0, 2, 3, 1),
            y.transpose(3, 2, 1, 0)]


@case("slice.kir", "slices")
def _(x, v):
    return [x[1:3, 2:5], x[0:6:2, 0:7:3], x[0:6, 6:7], v[1:10:3], v[4:4], x[1:5:3, 1:4:2]]


@case("pad.kir", "pads", {"v": np.array(-1.5), "w": np.array(9)})
def _(x, v, i, w):
    return [pad(x, v, [1, 2], [2, 1]), pad(x, v, [0, 1], [0, 1], [1, 1]),
            pad(i, w, [2], [1], [2]), x, pad(np.array([True, True]), False, [1], [1], [1])]


@case("concatenate.kir", "concat")
def _(a, b, c, e):
    return [np.concatenate([a, b, c], 0), np.concatenate([a, e, b], 0),
            np.concatenate([a, a, a], 1)]


@case("concatenate.kir", "concat_int")
def _(a, b):
    return [np.concatenate([a, b], 2)]


# ---- reductions and argmax ------------------------------------------------------------------

@case("reduce.kir", "reduce_f32", {"x": signed_floats(0.6, 1.4)})
def _(x):
    x = x.astype(F64)
    return [x.sum(1), x.max((0, 2)), x.min(), x.prod((1, 2)), x.sum(0), x]


@case("reduce.kir", "reduce_int")
def _(x, y, u):
    x, y = x.astype(np.int64), y.astype(np.int64)
    return [x.sum(1), x.max(0), x.min(), y.prod(1), y.sum(0), u.max()]


@case("reduce.kir", "reduce_f64", {"x": signed_floats(0.5, 1.5)})
def _(x):
    return [x.sum(1), x.prod(0)]


@case("reduce.kir", "reduce_nan", {"x": np.array([[1, np.nan, 3], [-1, 2, -5]])})
def _(x):
    return [x.max(1), x.min(1), x.sum(1)]


@case("reduce.kir", "reduce_empty")
def _(x):
    return [np.zeros(3), np.ones(3), np.full(3, -np.inf), np.full(3, np.inf)]


@case("argmax.kir", "arg_f32", {"x": small_floats})
def _(x):
    return [x.argmax(0), x.argmax(1), x.argmin(0), x.argmin(1)]


@case("argmax.kir", "arg_int", {"x": ints(0, 2), "u": ints(0, 2)})
def _(x, u):
    return [x.argmax(1), x.argmin(1), u.argmax(2), u.argmin(1)]


@case("argmax.kir", "arg_vector", {"v": np.array([1, 5, 2, 5, -3, 0, -3, 5, 1])})
def _(v):
    return [v.argmax(), v.argmin()]


# ---- dot_general ----------------------------------------------------------------------------

@case("dot_general.kir", "matmul")
def _(a, b):
    return [dot_general(a, b, lhs_contract=[1], rhs_contract=[0])]


@case("dot_general.kir", "transposed")
def _(a, b):
    return [dot_general(a, b, lhs_contract=[0], rhs_contract=[1])]


@case("dot_general.kir", "batched")
def _(a, b):
    return [np.einsum("bik,bkj->bij", a.astype(F64), b.astype(F64))]


@case("dot_general.kir", "batch_middle")
def _(a, b):
    return [np.einsum("ibk,kbj->bij", a.astype(F64), b.astype(F64))]


@case("dot_general.kir", "two_batch")
def _(a, b):
    # lhs_batch=[1, 0] pairs with rhs_batch=[0, 1]: batch dims are (a.1 = b.0, a.0 = b.1).
    return [np.einsum("yxik,xykj->xyij", a.astype(F64), b.astype(F64))]


@case("dot_general.kir", "multi_contract")
def _(a, b):
    return [np.einsum("ijk,knj->in", a.astype(F64), b.astype(F64))]


@case("dot_general.kir", "vec_outer")
def _(u, v, w):
    return [dot_general(u, v, lhs_contract=[0], rhs_contract=[0]), np.outer(u, w)]


@case("dot_general.kir", "dot_types", {"a": ints(-100, 100), "b": ints(-100, 100)})
def _(a, b, c, d):
    return [dot_general(a, b, lhs_contract=[1], rhs_contract=[0]),
            dot_general(c, d, lhs_contract=[1], rhs_contract=[0])]


@case("dot_general.kir", "dot_lowp")
def _(a, b, c, d):
    return [dot_general(a, b, lhs_contract=[1], rhs_contract=[0]),
            dot_general(c, d, lhs_contract=[1], rhs_contract=[0])]


# ---- take and scatter_add -------------------------------------------------------------------

@case("take.kir", "take_rows", {"idx": np.array([4, 0, -3, 9])})
def _(x, idx):
    return [take(x, idx, 0)]


@case("take.kir", "take_cols", {"idx": np.array([[5, 0], [1, 100]])})
def _(x, idx):
    return [take(x, idx, 1)]


@case("take.kir", "take_clamp", {"idx": np.array([-1, 0, 4, 5, 2, -100]), "s": np.array(7)})
def _(x, idx, s):
    return [take(x, idx, 1), take(x, s, 0)]


@case("take.kir", "embedding", {"ids": np.array([[3, 15, 0], [200, 7, 7]])})
def _(table, ids):
    return [take(table, ids, 0)]


@case("scatter_add.kir", "scatter_rows", {"idx": np.array([1, 1, 4, -2, 7, 1])})
def _(x, idx, upd):
    return [scatter_add(x.astype(F64), idx, upd.astype(F64), 0)]


@case("scatter_add.kir", "scatter_axis1", {"idx": np.array([[0, 3, 3], [9, -1, 1]])})
def _(x, idx, upd):
    return [scatter_add(x.astype(np.int64), idx, upd, 1)]


@case("scatter_add.kir", "embedding_grad", {"ids": np.array([0, 3, 3, 1, 0, 5, -1])})
def _(ids, g):
    return [scatter_add(np.zeros((4, 2)), ids, g, 0)]


# ---- composites -----------------------------------------------------------------------------

@case("softmax.kir", "softmax", {"x": uniform(-5, 5)})
def _(x):
    return [softmax(x.astype(F64), 1)]


@case("softmax.kir", "log_softmax", {"x": uniform(-300, 300)})
def _(x):
    d = x - x.max(1, keepdims=True)
    return [d - np.log(np.exp(d).sum(1, keepdims=True))]


@case("layernorm.kir", "layernorm", {"x": uniform(-3, 3), "g": uniform(0.5, 1.5)})
def _(x, g, b):
    x = x.astype(F64)
    mean = x.mean(2, keepdims=True)
    var = ((x - mean) ** 2).mean(2, keepdims=True)
    return [(x - mean) / np.sqrt(var + 1e-5) * g + b]


@case("mlp.kir", "mlp", tol=(1e-5, 1e-4))
def _(x, w, b):
    return [np.maximum(x.astype(F64) @ w + b, 0.0)]


def gelu_tanh(h):
    return 0.5 * h * (1 + np.tanh(0.7978845608 * (h + 0.044715 * h ** 3)))


@case("mlp.kir", "mlp2")
def _(x, w1, b1, w2, b2):
    return [gelu_tanh(x.astype(F64) @ w1 + b1) @ w2 + b2]


@case("attention.kir", "attention")
def _(q, k, v):
    s = np.einsum("bhqd,bhkd->bhqk", q.astype(F64), k.astype(F64)) * 0.5
    causal = np.tril(np.ones((5, 5), bool))
    p = softmax(np.where(causal, s, -1e9), 3)
    return [np.einsum("bhqk,bhkd->bhqd", p, v), p]


@case("masks.kir", "one_hot", {"labels": np.array([0, 3, 1, -1, 4, 2])})
def _(labels):
    hit = labels[:, None] == np.arange(4)[None, :]
    return [hit.astype(F64), hit.astype(np.int32)]


@case("masks.kir", "band")
def _(x):
    i, j = np.indices((5, 5))
    keep = np.abs(i - j) <= 1
    return [np.where(keep, x, 0.0), keep.sum()]


@case("masks.kir", "length_mask", {"lengths": np.array([0, 3, 9])})
def _(lengths):
    return [np.arange(6)[None, :] < lengths[:, None]]


@case("quantize.kir", "quantize", {"x": uniform(-2, 2), "s": np.array(0.01)})
def _(x, s):
    # Computed in f32 so that the division rounds exactly as kiln's f32 div must.
    with np.errstate(invalid="ignore"):
        r = np.round(np.float32(x) / np.float32(s))
    q = np.clip(r, -127, 127).astype(np.int8)
    return [q, q.astype(np.float32) * np.float32(s)]


@case("quantize.kir", "image", {"img": ints(0, 255)})
def _(img):
    return [img / 255.0, np.bincount((img // 64).ravel(), minlength=4)]


# ---- dtype-specific ---------------------------------------------------------------------------

@case("f16_ops.kir", "f16_ops", tol=(2e-3, 8e-3))
def _(a, b):
    # numpy's float16 ufuncs round each result to f16. The sum is accumulated in f32: the
    # README leaves the accumulation precision of reductions open, hence the wider atol.
    return [a + b, a * b, np.exp(a), np.tanh(b), np.maximum(a, b),
            a.astype(np.float32).sum(1), logistic(a), a >= b]


@case("f16_ops.kir", "f16_convert", {"x": np.array([0.1, 1000, 300, -2.5, 1e-5, 65519])})
def _(x):
    h = x.astype(np.float16)
    with np.errstate(over="ignore"):
        return [h, h * h]


@case("bf16_ops.kir", "bf16_ops")
def _(a, b):
    prod = bf16(a * b)  # exact in f32, then rounded once
    return [a + b, prod, a - b, np.exp(a), b.max(1), np.minimum(a, b), prod]


@case("bf16_ops.kir", "bf16_softmax", {"x": uniform(-4, 4)})
def _(x):
    # Every op rounds to bf16.
    d = bf16(x - x.max(1, keepdims=True))
    e = bf16(np.exp(d))
    s = bf16(e.sum(1, keepdims=True))
    return [e / s]


# ---- edge shapes --------------------------------------------------------------------------------

@case("scalars.kir", "scalar_ops", {"i": np.array(-7), "j": np.array(2)})
def _(a, b, i, j):
    ab = np.float32(a) * np.float32(b)
    return [ab, np.exp(F64(ab)), a > b, np.array(-1), a if a > b else b, a.reshape(1, 1),
            np.array(-3)]


@case("scalars.kir", "scalar_reduce")
def _(a, v):
    return [a, a.astype(F64) * v, a]


@case("zero_size.kir", "zeros")
def _(x, y, w):
    return [x + y, np.zeros(3), np.zeros(0), np.zeros((0, 0)), np.zeros((3, 3)),
            x.T, np.zeros((2, 0, 3)), np.zeros((0, 3), bool)]


@case("zero_size.kir", "zero_gather")
def _(x, idx):
    return [np.zeros((0, 2)), x]


@case("zero_size.kir", "zero_pad")
def _(z, v, x):
    return [np.full(2, v), x[1:4:10], np.zeros((0, 4))]


@case("rank4.kir", "rank4")
def _(x, s):
    y = x.astype(F64) * s[None, :, None, None]
    return [y.transpose(0, 2, 3, 1), y.sum((2, 3)), x[:, :, 1:4:2, :],
            pad(x, 0.0, [0, 0, 1, 0], [0, 0, 1, 0])]


# ---- the text form ------------------------------------------------------------------------------

@case("hashcons.kir", "distinct")
def _(x):
    return [x.reshape(3, 2), x.reshape(6), convert_float_to_int(x, "i32"),
            convert_float_to_int(x, "u8"), np.ones((2, 3)), np.full((2, 3), 2.0), x.sum(1),
            x.sum(0), np.full((2, 3), 3.0), x.T]


@case("hashcons.kir", "same_value_other_type")
def _():
    return [np.array(1.0), np.array(1), np.arange(2.0), np.arange(2.0), np.arange(2),
            np.array([5.0, 7.0]), np.array([6.0, 8.0])]


@case("multi_func.kir", None)  # no --func: the first function runs
def _(x):
    return [x.astype(np.int64) * 2]


@case("multi_func.kir", "second")
def _(x, y):
    return [x.astype(F64) + y, x.astype(F64) - y, x]


@case("multi_func.kir", "third")
def _(x):
    return [np.exp(x.astype(F64)), np.exp(x.astype(F64))]


@case("random_inputs.kir", "identity")
def _(a, b, c, d, e, f):
    return [a, b, c, d, e, f]


@case("formatting.kir", "odd_layout")
def _(input_x, w2):
    p = input_x * w2[None, :]
    return [p, p.astype(F64).sum()]


# --------------------------------------------------------------------------------------------
# Running kiln.

def kiln(binary, *args):
    return subprocess.run([binary, *map(str, args)], capture_output=True, text=True, timeout=60)


def make_inputs(spec, params, rng):
    values = {}
    for name, dtype, shape in params:
        gen = spec.get(name, default)
        value = gen(rng, shape, dtype) if callable(gen) else np.asarray(gen)
        value = to_dtype(np.asarray(value).reshape(shape), dtype)
        values[name] = value
    unknown = set(spec) - set(values)
    if unknown:
        raise ValueError("inputs for unknown parameters: %s" % sorted(unknown))
    return values


def run_function(binary, program, func, values, workdir, tag):
    """Runs kiln; returns the list of result arrays (or raises with kiln's stderr)."""
    out = os.path.join(workdir, "out-" + tag)
    os.makedirs(out)
    if BUNDLE_ARGS is not None:
        bundle = os.path.join(workdir, "bundle-%s.kbundle" % tag)
        compile_args = ["compile", program, "-o", bundle, *BUNDLE_ARGS]
        if func is not None:
            compile_args += ["--func", func]
        proc = kiln(binary, *compile_args)
        if proc.returncode != 0:
            raise RuntimeError("kiln compile exited %d: %s" % (proc.returncode, proc.stderr.strip()))
        program = bundle
    args = ["run", program, *DEVICE_ARGS, "--output-dir", out]
    if func is not None:
        args += ["--func", func]
    for name, value in values.items():
        path = os.path.join(workdir, "in-%s.npy" % name)
        np.save(path, value)
        args += ["--input", "%s=%s" % (name, path)]
    proc = kiln(binary, *args)
    if proc.returncode != 0:
        raise RuntimeError("kiln run exited %d: %s" % (proc.returncode, proc.stderr.strip()))
    results = []
    while os.path.exists(os.path.join(out, "%d.npy" % len(results))):
        results.append(np.load(os.path.join(out, "%d.npy" % len(results))))
    return results


def compare(got, want, dtype, shape, tol):
    """Returns None when `got` matches, else a description of the difference."""
    if got.dtype != np.dtype(NPY_DTYPE[dtype]):
        return "dtype %s, expected %s (%s)" % (got.dtype, np.dtype(NPY_DTYPE[dtype]), dtype)
    if got.shape != shape:
        return "shape %s, expected %s" % (got.shape, shape)
    want = to_dtype(np.broadcast_to(np.asarray(want), shape), dtype)
    if dtype not in FLOATS:
        bad = got != want
    else:
        rtol, atol = tol or TOLERANCE[dtype]
        if DEVICE_ARGS[1] != "interp":
            rtol, atol = (max(a, b) for a, b in zip((rtol, atol), DEVICE_TOLERANCE[dtype]))
        g, w = got.astype(F64), want.astype(F64)
        with np.errstate(invalid="ignore"):
            bad = ~(np.isclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
                    | ((g == w) & np.isinf(w)))
    if not bad.any():
        return None
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    return "%d of %d elements differ; at %s got %r, expected %r" % (
        bad.sum(), bad.size, first, got[first].item(), want[first].item())


def check_case(binary, entry, canonical, seed):
    program = os.path.join(PROGRAMS, entry["program"])
    funcs = signatures(program)
    name = entry["func"] if entry["func"] is not None else funcs[0][0]
    _, params, results = next(f for f in funcs if f[0] == name)
    rng = np.random.default_rng(seed)
    values = make_inputs(entry["inputs"], params, rng)
    with tempfile.TemporaryDirectory() as work:
        got = run_function(binary, program, entry["func"], values, work, "orig")
        expected = entry["ref"](**{k: v.copy() for k, v in values.items()})
        if not isinstance(expected, (list, tuple)):
            expected = [expected]
        problems = []
        if len(got) != len(results) or len(expected) != len(results):
            return ["%d results, expected %d (reference gives %d)"
                    % (len(got), len(results), len(expected))]
        for k, ((dtype, shape), g, w) in enumerate(zip(results, got, expected)):
            diff = compare(g, w, dtype, shape, entry["tol"])
            if diff:
                problems.append("result %d (%s%s): %s" % (k, dtype, list(shape), diff))
        # The canonical text must compute exactly the same results.
        again = run_function(binary, canonical, entry["func"], values, work, "canon")
        for k, (a, b) in enumerate(zip(got, again)):
            if a.dtype != b.dtype or a.shape != b.shape or not np.array_equal(
                    a, b, equal_nan=a.dtype.kind == "f"):
                problems.append("result %d differs when run from the canonical dump" % k)
        return problems


def check_dump(binary, program, work):
    """Checks dump idempotence and the JSON round trip; returns (canonical path, problems)."""
    first = kiln(binary, "dump", program)
    if first.returncode != 0:
        return None, ["kiln dump failed: " + first.stderr.strip()]
    canonical = os.path.join(work, os.path.basename(program))
    with open(canonical, "w") as f:
        f.write(first.stdout)
    problems = []
    second = kiln(binary, "dump", canonical)
    if second.returncode != 0 or second.stdout != first.stdout:
        problems.append("kiln dump is not idempotent" + (": " + second.stderr.strip()
                                                         if second.returncode else ""))
    as_json = kiln(binary, "dump", program, "--json")
    json_path = canonical[:-4] + ".json"
    with open(json_path, "w") as f:
        f.write(as_json.stdout)
    back = kiln(binary, "dump", json_path)
    if as_json.returncode != 0 or back.returncode != 0 or back.stdout != first.stdout:
        problems.append("the JSON form does not read back to the same text")
    return canonical, problems


# --------------------------------------------------------------------------------------------
# Negative cases.

EXPECT_RE = re.compile(r"//\s*expect:\s*(\d+):(\d+): error: (.*)")


def check_bad(binary, path):
    with open(path) as f:
        m = EXPECT_RE.match(f.readline().strip())
    if not m:
        return ["first line lacks `// expect: LINE:COL: error: TEXT`"]
    line, col, text = m.groups()
    proc = subprocess.run([binary, "dump", os.path.basename(path)], cwd=os.path.dirname(path),
                          capture_output=True, text=True, timeout=60)
    prefix = "%s:%s:%s: error: " % (os.path.basename(path), line, col)
    problems = []
    if proc.returncode != 1:
        problems.append("exit status %d, expected 1" % proc.returncode)
    if not proc.stderr.startswith(prefix) or text.strip() not in proc.stderr:
        problems.append("stderr %r, expected it to start with %r and contain %r"
                        % (proc.stderr.strip(), prefix, text.strip()))
    if proc.stdout:
        problems.append("wrote to stdout: %r" % proc.stdout[:200])
    return problems


def check_bad_inputs(binary, work):
    """`kiln run` with a wrong-shape and a missing input: status 1, one line on stderr naming
    the file or the parameter, no outputs."""
    program = os.path.join(PROGRAMS, "softmax.kir")
    problems = []
    wrong = os.path.join(work, "wrong.npy")
    np.save(wrong, np.zeros((4, 9), np.float32))
    for label, extra, named in (("wrong shape", ["--input", "x=" + wrong], wrong),
                                ("missing input", [], "%x")):
        out = os.path.join(work, "bad-out-" + label.replace(" ", "-"))
        proc = kiln(binary, "run", program, *DEVICE_ARGS, "--output-dir", out, *extra)
        lines = proc.stderr.strip().splitlines()
        if proc.returncode != 1 or len(lines) != 1 or named not in lines[0]:
            problems.append("%s: exit %d, stderr %r" % (label, proc.returncode, proc.stderr))
        if os.path.exists(os.path.join(out, "0.npy")):
            problems.append("%s: wrote an output anyway" % label)
    return problems


def check_random_inputs(binary, work):
    """--random-inputs: floats in [-1, 1), signed ints in [-8, 8], unsigned in [0, 16], both
    bools; parameter k uses seed N + k; the same seed gives the same data."""
    program = os.path.join(PROGRAMS, "random_inputs.kir")
    runs = {}
    for seed in (0, 5, 0):
        out = os.path.join(work, "random-%d-%d" % (seed, len(runs)))
        proc = kiln(binary, "run", program, *DEVICE_ARGS, "--random-inputs", "--seed", seed,
                    "--output-dir", out)
        if proc.returncode != 0:
            return ["kiln run --random-inputs exited %d: %s" % (proc.returncode, proc.stderr)]
        arrays = [np.load(os.path.join(out, "%d.npy" % k)) for k in range(6)]
        if seed in runs and not all(np.array_equal(x, y) for x, y in zip(runs[seed], arrays)):
            return ["the same seed gave different data"]
        runs[seed] = arrays
    a, b, c, d, e, f = runs[0]
    problems = []
    for label, x, lo, hi in (("f32", a, -1, 1), ("bf16", e, -1, 1)):
        if not (x.min() >= lo and x.max() < hi):
            problems.append("%s data outside [-1, 1): %g..%g" % (label, x.min(), x.max()))
    if not (b.min() >= -8 and b.max() <= 8 and len(np.unique(b)) > 10):
        problems.append("i32 data not spread over [-8, 8]: %d..%d" % (b.min(), b.max()))
    if not (c.min() >= 0 and c.max() <= 16 and len(np.unique(c)) > 10):
        problems.append("u8 data not spread over [0, 16]: %d..%d" % (c.min(), c.max()))
    if d.all() or not d.any():
        problems.append("bool data not mixed")
    if not np.array_equal(f, runs[5][0]):
        problems.append("parameter 5 under --seed 0 differs from parameter 0 under --seed 5")
    return problems


# --------------------------------------------------------------------------------------------

def main():
    args = sys.argv[1:]
    usage = "usage: check.py PATH/TO/kiln [--device cpu|vulkan [--no-fuse] [--bundle]]"
    global BUNDLE_ARGS
    if "--bundle" in args[3:]:
        args.remove("--bundle")
        BUNDLE_ARGS = ["--target", "vulkan" if args[2:3] == ["vulkan"] else "x86-64-v3,x86-64-v4"]
        if "--no-fuse" in args:
            args.remove("--no-fuse")
            BUNDLE_ARGS.append("--no-fuse")
    if len(args) not in (1, 3, 4) or (len(args) > 1 and (
            args[1] != "--device" or args[2] not in ("cpu", "vulkan", "interp"))) or (
            len(args) == 4 and args[3] != "--no-fuse"):
        sys.exit(usage)
    if len(args) > 1:
        DEVICE_ARGS[:] = args[1:]
    binary = os.path.abspath(args[0])
    passed = failed = 0

    def report(label, problems):
        nonlocal passed, failed
        if problems:
            failed += 1
            print("FAIL %s" % label)
            for p in problems:
                print("    " + p)
        else:
            passed += 1
            print("ok   %s" % label)

    with tempfile.TemporaryDirectory() as work:
        canonical = {}
        for program in sorted(os.listdir(PROGRAMS)):
            if program.endswith(".kir"):
                path, problems = check_dump(binary, os.path.join(PROGRAMS, program), work)
                canonical[program] = path
                report("dump %s" % program, problems)
        covered = {c["program"] for c in CASES}
        for program in sorted(set(canonical) - covered):
            report("cases %s" % program, ["no case runs this program"])

        for seed, entry in enumerate(CASES):
            label = "run %s @%s" % (entry["program"], entry["func"] or "(first)")
            if canonical.get(entry["program"]) is None:
                report(label, ["the program does not dump"])
                continue
            try:
                problems = check_case(binary, entry, canonical[entry["program"]], seed)
            except Exception as e:  # a crash of kiln or of the reference is one failure
                problems = ["%s: %s" % (type(e).__name__, e)]
            bug = KNOWN_BUGS.get((DEVICE_ARGS[1], entry["program"], entry["func"]))
            if bug and problems:
                print("xfail %s (known bug: %s)" % (label, bug))
                continue
            if bug:
                problems = ["passes, but KNOWN_BUGS lists it: remove the entry"]
            report(label, problems)

        for bad in sorted(os.listdir(BAD)):
            if bad.endswith(".kir"):
                report("reject bad/%s" % bad, check_bad(binary, os.path.join(BAD, bad)))
        report("reject bad inputs to kiln run", check_bad_inputs(binary, work))
        report("kiln run --random-inputs", check_random_inputs(binary, work))

    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
