#!/usr/bin/python3
"""Writes the interpreter's golden files (tests/golden/*.json), computed with numpy.

Run from anywhere with a Python that has numpy:  /usr/bin/python3 tests/golden/gen_goldens.py

Each file holds {"cases": [...]}; a case is one op applied to parameters:
  {"name": "div/i8/1", "op": "div", "attrs": {...},
   "operands": [{"dtype": "i8", "shape": [4], "data": [...]}, ...],
   "result": {"dtype": "i8", "shape": [4], "data": [...]},
   "tolerance": "approx"}   (absent: exact)
Data is flat and row-major. Floats are JSON numbers except "nan", "inf" and "-inf"; every
float value is exactly representable in its dtype. bool data is true/false. Attribute values
are integers, lists of integers, or (constant's value) nested lists of numbers, bools and
the float strings. "approx" allows a few ulps of the result dtype (transcendental functions,
whose libm results may differ by an ulp); "special" allows 16 ulps of f64 (lgamma and
digamma, whose double implementations, glibc's lgamma_r and kiln's digamma, lose a few bits
to cancellation between the recurrence and the series); everything else must match bit for
bit, with any NaN matching any NaN.

The semantics are StableHLO's where they differ from numpy's (integer div truncates and
x / 0 = -1, rem takes the dividend's sign and x % 0 = x, integer pow with negative exponents,
max/min propagate NaN and order -0 < +0, float -> int conversion saturates, sums and dot
products accumulate in double and round once). Rounding to f16, bf16 and f32 is done exactly
with fractions, so it never double-rounds and does not depend on how numpy casts.
"""

import json
import math
import os
from fractions import Fraction
import operator
from functools import reduce

import mpmath
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
nan, inf = math.nan, math.inf

FLOATS = ["f16", "bf16", "f32", "f64"]
SIGNED = ["i8", "i16", "i32", "i64"]
UNSIGNED = ["u8", "u32"]
INTS = SIGNED + UNSIGNED
NUMERIC = INTS + FLOATS
ALL = ["bool"] + NUMERIC
BITS = {"i8": 8, "i16": 16, "i32": 32, "i64": 64, "u8": 8, "u32": 32}
# (precision in bits including the implicit one, minimum normal exponent, maximum exponent)
FORMATS = {"f16": (11, -14, 15), "bf16": (8, -126, 127), "f32": (24, -126, 127)}


# ---- dtype rules ---------------------------------------------------------------------------

def int_range(dtype):
    if dtype == "bool":
        return 0, 1
    bits = BITS[dtype]
    return (0, 2**bits - 1) if dtype in UNSIGNED else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


def wrap(dtype, value):
    """An integer wrapped to the dtype's width (two's complement)."""
    if dtype == "bool":
        return value != 0
    bits = BITS[dtype]
    value %= 2**bits
    if dtype in SIGNED and value >= 2 ** (bits - 1):
        value -= 2**bits
    return value


def round_exact(value, dtype):
    """A float or int rounded once, to nearest even, to a float dtype's value (as a float)."""
    if dtype == "f64":
        return float(value) if isinstance(value, float) else float(Fraction(value))
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return value
    negative = value < 0 or (isinstance(value, float) and math.copysign(1.0, value) < 0)
    magnitude = abs(Fraction(value))
    if magnitude == 0:
        return -0.0 if negative else 0.0
    precision, emin, emax = FORMATS[dtype]
    exponent = magnitude.numerator.bit_length() - magnitude.denominator.bit_length()
    if Fraction(2) ** exponent > magnitude:
        exponent -= 1
    quantum = Fraction(2) ** (max(exponent, emin) - (precision - 1))
    scaled = magnitude / quantum
    n = math.floor(scaled)
    rest = scaled - n
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and n % 2 == 1):
        n += 1
    result = n * quantum
    if result > (2 - Fraction(2) ** (1 - precision)) * Fraction(2) ** emax:
        result_float = inf
    else:
        result_float = float(result)
    return -result_float if negative else result_float


def to_dtype(dtype, values):
    """Python values (floats, ints or bools) as the dtype's values."""
    out = []
    for v in values:
        if dtype == "bool":
            out.append(bool(v))
        elif dtype in FLOATS:
            out.append(round_exact(v if isinstance(v, int) else float(v), dtype))
        else:
            out.append(wrap(dtype, int(v)))
    return out


def encode(dtype, values):
    if dtype in FLOATS:
        out = []
        for v in values:
            v = float(v)
            out.append("nan" if math.isnan(v) else ("inf" if v == inf else ("-inf" if v == -inf else v)))
        return out
    if dtype == "bool":
        return [bool(v) for v in values]
    return [int(v) for v in values]


def encode_value(value):
    """A constant's value attribute: nested lists, with the float strings for NaN and inf."""
    if isinstance(value, list):
        return [encode_value(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return encode("f64", [value])[0]
    return value


def tensor(dtype, shape, values):
    values = list(values)
    assert len(values) == (math.prod(shape) if shape else 1), (dtype, shape, len(values))
    return {"dtype": dtype, "shape": list(shape), "data": encode(dtype, values)}


class Cases:
    def __init__(self):
        self.cases = []
        self.counts = {}

    def add(self, op, operands, result, attrs=None, tolerance="exact", tag=None):
        key = f"{op}/{result['dtype'] if tag is None else tag}"
        self.counts[key] = self.counts.get(key, 0) + 1
        case = {"name": f"{key}/{self.counts[key]}", "op": op, "attrs": attrs or {},
                "operands": operands, "result": result}
        if tolerance != "exact":
            case["tolerance"] = tolerance
        self.cases.append(case)

    def write(self, filename):
        with open(os.path.join(HERE, filename), "w") as f:
            json.dump({"cases": self.cases}, f, separators=(",", ":"), allow_nan=False)
            f.write("\n")


# ---- edge values ---------------------------------------------------------------------------

FLOAT_EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, -2.5, 3.7, -3.7, 0.1, 10.0, -100.0,
               1e-3, 1e4, nan, inf, -inf]


def int_edges(dtype):
    lo, hi = int_range(dtype)
    if dtype in UNSIGNED:
        return [0, 1, 2, 7, 100, 128, hi - 1, hi]
    return [0, 1, -1, 2, -2, 7, -7, 100, -100, lo, lo + 1, hi - 1, hi]


def float_pairs():
    a = [1.0, -1.0, 0.0, -0.0, 0.0, 5.5, -5.5, 5.5, 2.0, -8.0, nan, 1.0, inf, inf, -inf, 3.0,
         0.1, 1e4, -0.0, -2.0, 2.0, 1.0, nan, 0.0]
    b = [0.0, 0.0, 0.0, 0.0, -0.0, 2.0, 2.0, -2.0, 0.5, 1 / 3, 1.0, nan, -inf, inf, 2.0, 7.0,
         0.2, 1e4, -0.0, 3.0, -3.0, inf, 0.0, 5.0]
    return a, b


def int_pairs(dtype):
    lo, hi = int_range(dtype)
    if dtype in UNSIGNED:
        pairs = [(7, 2), (5, 0), (0, 0), (hi, 1), (0, 1), (hi, hi), (3, 5), (2, 10), (2, 40),
                 (1, 7), (100, 3), (hi, 2), (6, 4), (12, 10)]
    else:
        pairs = [(7, 2), (-7, 2), (7, -2), (-7, -2), (5, 0), (-5, 0), (0, 0), (lo, -1), (hi, 1),
                 (lo, 1), (hi, hi), (lo, lo), (3, 5), (2, 10), (-3, 3), (3, -1), (1, -5),
                 (-1, -3), (-1, -4), (0, -1), (0, 3), (hi, 2), (6, -4), (-12, 10)]
    return [x for x, _ in pairs], [y for _, y in pairs]


# ---- scalar semantics ----------------------------------------------------------------------

def ieee_max(a, b):
    if math.isnan(a) or math.isnan(b):
        return nan
    if a == b:
        return b if math.copysign(1.0, a) < 0 else a
    return max(a, b)


def ieee_min(a, b):
    if math.isnan(a) or math.isnan(b):
        return nan
    if a == b:
        return a if math.copysign(1.0, a) < 0 else b
    return min(a, b)


def int_div(a, b):
    if b == 0:
        return -1
    q = abs(a) // abs(b)
    return -q if (a < 0) != (b < 0) else q


def int_rem(a, b):
    return a if b == 0 else a - b * int_div(a, b)


def int_pow(a, b, dtype):
    if b < 0:
        return 1 if a == 1 else ((-1 if b % 2 else 1) if a == -1 else 0)
    return pow(a, b, 2 ** BITS[dtype])


def mp_erf_inv(y):
    """erf's inverse by mpmath, with IEEE's special values."""
    if math.isnan(y) or abs(y) > 1:
        return nan
    if abs(y) == 1:
        return math.copysign(inf, y)
    return y if y == 0 else float(mpmath.erfinv(y))


def mp_lgamma(x):
    """log |Gamma(x)|: +inf at the poles and at +-inf."""
    if math.isnan(x):
        return nan
    if math.isinf(x) or (x <= 0 and x == math.floor(x)):
        return inf
    return float(mpmath.log(abs(mpmath.gamma(x))))


def mp_digamma(x):
    """Gamma'/Gamma: NaN at the poles and at -inf, +inf at +inf."""
    if math.isnan(x) or x == -inf or (x <= 0 and x == math.floor(x)):
        return nan
    if x == inf:
        return inf
    return float(mpmath.digamma(x))


def f64_unary(fn):
    def apply(values):
        with np.errstate(all="ignore"):
            return [float(v) for v in fn(np.array(values, dtype=np.float64))]
    return apply


FLOAT_UNARY = {
    "neg": (f64_unary(np.negative), "exact"),
    "abs": (f64_unary(np.abs), "exact"),
    "sign": (f64_unary(lambda x: np.where((x == 0) | np.isnan(x), x, np.sign(x))), "exact"),
    "exp": (f64_unary(np.exp), "approx"),
    "log": (f64_unary(np.log), "approx"),
    "log1p": (f64_unary(np.log1p), "approx"),
    "expm1": (f64_unary(np.expm1), "approx"),
    "sqrt": (f64_unary(np.sqrt), "exact"),
    "rsqrt": (f64_unary(lambda x: 1.0 / np.sqrt(x)), "approx"),
    "sin": (f64_unary(np.sin), "approx"),
    "cos": (f64_unary(np.cos), "approx"),
    "tanh": (f64_unary(np.tanh), "approx"),
    "logistic": (f64_unary(lambda x: 1.0 / (1.0 + np.exp(-x))), "approx"),
    "erf": (lambda values: [math.erf(v) for v in values], "approx"),
    "floor": (f64_unary(np.floor), "exact"),
    "ceil": (f64_unary(np.ceil), "exact"),
    "round": (f64_unary(np.round), "exact"),  # numpy rounds half to even
    "tan": (f64_unary(np.tan), "approx"),
    "asin": (f64_unary(np.arcsin), "approx"),
    "acos": (f64_unary(np.arccos), "approx"),
    "atan": (f64_unary(np.arctan), "approx"),
    "sinh": (f64_unary(np.sinh), "approx"),
    "cosh": (f64_unary(np.cosh), "approx"),
    "asinh": (f64_unary(np.arcsinh), "approx"),
    "acosh": (f64_unary(np.arccosh), "approx"),
    "atanh": (f64_unary(np.arctanh), "approx"),
    "erf_inv": (lambda values: [mp_erf_inv(v) for v in values], "approx"),
    "lgamma": (lambda values: [mp_lgamma(v) for v in values], "special"),
    "digamma": (lambda values: [mp_digamma(v) for v in values], "special"),
}

INT_UNARY = {
    "neg": lambda v, d: -v,
    "abs": lambda v, d: abs(v),
    "sign": lambda v, d: (v > 0) - (v < 0),
    "not": lambda v, d: ~v,
}

FLOAT_BINARY = {
    "add": (np.add, "exact"),
    "sub": (np.subtract, "exact"),
    "mul": (np.multiply, "exact"),
    "div": (np.divide, "exact"),
    "rem": (np.fmod, "exact"),
    "pow": (np.power, "approx"),
    "atan2": (np.arctan2, "approx"),
    "max": (np.vectorize(ieee_max, otypes=[np.float64]), "exact"),
    "min": (np.vectorize(ieee_min, otypes=[np.float64]), "exact"),
}

INT_BINARY = {
    "add": lambda a, b, d: a + b,
    "sub": lambda a, b, d: a - b,
    "mul": lambda a, b, d: a * b,
    "div": lambda a, b, d: int_div(a, b),
    "rem": lambda a, b, d: int_rem(a, b),
    "pow": int_pow,
    "max": lambda a, b, d: max(a, b),
    "min": lambda a, b, d: min(a, b),
    "and": lambda a, b, d: a & b,
    "or": lambda a, b, d: a | b,
    "xor": lambda a, b, d: a ^ b,
}

BOOL_BINARY = {"and": lambda a, b: a and b, "or": lambda a, b: a or b,
               "xor": lambda a, b: a != b, "max": lambda a, b: a or b,
               "min": lambda a, b: a and b}

COMPARE = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
           "gt": np.greater, "ge": np.greater_equal}


# ---- elementwise files ---------------------------------------------------------------------

def gen_unary():
    cases = Cases()
    for op, (fn, tolerance) in FLOAT_UNARY.items():
        for d in FLOATS:
            x = to_dtype(d, FLOAT_EDGES)
            cases.add(op, [tensor(d, [len(x)], x)], tensor(d, [len(x)], to_dtype(d, fn(x))),
                      tolerance=tolerance)
    for op, fn in INT_UNARY.items():
        for d in INTS:
            x = int_edges(d)
            cases.add(op, [tensor(d, [len(x)], x)],
                      tensor(d, [len(x)], [wrap(d, fn(v, d)) for v in x]))
    x = [True, False]
    cases.add("not", [tensor("bool", [2], x)], tensor("bool", [2], [not v for v in x]))
    # rank 2 and scalar shapes go through the same code; one each keeps that honest
    x = to_dtype("f32", [0.25, -4.0, 9.0, 2.0, 1e-2, 100.0])
    cases.add("sqrt", [tensor("f32", [2, 3], x)],
              tensor("f32", [2, 3], to_dtype("f32", FLOAT_UNARY["sqrt"][0](x))))
    cases.add("neg", [tensor("i32", [], [5])], tensor("i32", [], [-5]))
    cases.write("unary.json")


def gen_binary():
    cases = Cases()
    for op, (fn, tolerance) in FLOAT_BINARY.items():
        for d in FLOATS:
            a, b = (to_dtype(d, v) for v in float_pairs())
            with np.errstate(all="ignore"):
                r = [float(v) for v in fn(np.array(a), np.array(b))]
            n = len(a)
            cases.add(op, [tensor(d, [n], a), tensor(d, [n], b)], tensor(d, [n], to_dtype(d, r)),
                      tolerance=tolerance)
    for op, fn in INT_BINARY.items():
        for d in INTS:
            a, b = int_pairs(d)
            n = len(a)
            r = [wrap(d, fn(x, y, d)) for x, y in zip(a, b)]
            cases.add(op, [tensor(d, [n], a), tensor(d, [n], b)], tensor(d, [n], r))
    a, b = [False, False, True, True], [False, True, False, True]
    for op, fn in BOOL_BINARY.items():
        cases.add(op, [tensor("bool", [4], a), tensor("bool", [4], b)],
                  tensor("bool", [4], [fn(x, y) for x, y in zip(a, b)]))
    # f16 rounding of an exact double result: 2049 is a tie between 2048 and 2050
    cases.add("add", [tensor("f16", [2], [2048.0, 2048.0]), tensor("f16", [2], [1.0, 3.0])],
              tensor("f16", [2], [2048.0, 2052.0]))
    cases.write("binary.json")


def gen_compare():
    cases = Cases()
    for op, fn in COMPARE.items():
        for d in ALL:
            if d in FLOATS:
                a, b = (to_dtype(d, v) for v in float_pairs())
            elif d == "bool":
                a, b = [False, False, True, True], [False, True, False, True]
            else:
                a, b = (v[::2] for v in int_pairs(d))
            r = [bool(v) for v in fn(np.array(a, dtype=object if d in INTS else None),
                                      np.array(b, dtype=object if d in INTS else None))]
            n = len(a)
            cases.add(op, [tensor(d, [n], a), tensor(d, [n], b)], tensor("bool", [n], r), tag=d)
    cases.write("compare.json")


def convert_sources(d):
    if d == "bool":
        return [False, True]
    if d in FLOATS:
        extra = [300.0, -300.0, 1e10, -1e10, 70000.0, 2.5e9, -129.0, 255.5, 256.0, 1e30, -1e30,
                 -0.9, 0.9, 65519.0, 65520.0]
        if d == "f64":
            # each a hair above a tie for f16, bf16 and f32: rounding via f32 would lose it
            extra += [1 + 2**-11 + 2**-40, 1 + 2**-8 + 2**-40, 1 + 2**-24 + 2**-60, 1e300]
        return to_dtype(d, FLOAT_EDGES + extra)
    values = int_edges(d)
    if d == "i64":
        values += [2**60 + 2**36 + 1, 2**53 + 1, -(2**60 + 2**36 + 1)]
    if d == "i32":
        values += [2**30 + 2**22 + 1, 16777217]
    return values


def convert_value(v, src, dst):
    if dst == "bool":
        return bool(v != 0) if not (isinstance(v, float) and math.isnan(v)) else True
    if src == "bool":
        v = int(v)
    if dst in FLOATS:
        return round_exact(v, dst)
    if src in FLOATS:
        lo, hi = int_range(dst)
        if math.isnan(v):
            return 0
        if v < lo:
            return lo
        if v >= hi + 1:
            return hi
        return int(v)  # truncates toward zero
    return wrap(dst, v)


def gen_select_convert():
    cases = Cases()
    for d in ALL:
        if d in FLOATS:
            a = to_dtype(d, [1.5, -0.0, nan, inf, 2.0])
            b = to_dtype(d, [-1.0, 0.0, 3.0, -inf, nan])
        elif d == "bool":
            a, b = [True, False, True, False, True], [False, True, False, True, False]
        else:
            a, b = int_edges(d)[:5], int_edges(d)[-5:]
        p = [True, False, True, True, False]
        cases.add("select", [tensor("bool", [5], p), tensor(d, [5], a), tensor(d, [5], b)],
                  tensor(d, [5], [x if c else y for c, x, y in zip(p, a, b)]))
        cases.add("stop_gradient", [tensor(d, [5], a)], tensor(d, [5], a))
    for src in ALL:
        x = convert_sources(src)
        for dst in ALL:
            r = [convert_value(v, src, dst) for v in x]
            cases.add("convert", [tensor(src, [len(x)], x)], tensor(dst, [len(x)], r),
                      tag=f"{src}_to_{dst}")
    cases.write("select_convert.json")


def gen_constant_iota():
    cases = Cases()
    for d in ALL:
        if d in FLOATS:
            scalar, nested = 0.1, [[1.5, -0.0, nan], [inf, -inf, 70000.0]]
            flat = [1.5, -0.0, nan, inf, -inf, 70000.0]
        elif d == "bool":
            scalar, nested = True, [[True, False, True], [False, False, True]]
            flat = [True, False, True, False, False, True]
        else:
            lo, hi = int_range(d)
            scalar, nested = hi, [[lo, 0, 1], [hi, 7, 100]]
            flat = [lo, 0, 1, hi, 7, 100]
        cases.add("constant", [], tensor(d, [2, 3], to_dtype(d, [scalar] * 6)),
                  attrs={"value": encode_value(scalar)})
        cases.add("constant", [], tensor(d, [2, 3], to_dtype(d, flat)),
                  attrs={"value": encode_value(nested)})
        cases.add("constant", [], tensor(d, [], to_dtype(d, [scalar])), attrs={"value": scalar})
    for d in NUMERIC:
        for axis in (0, 1):
            idx = np.indices((2, 3))[axis].flatten()
            cases.add("iota", [], tensor(d, [2, 3], to_dtype(d, [int(v) for v in idx])),
                      attrs={"axis": axis})
    for d in ["i8", "u8"]:  # wraps past the dtype's range
        cases.add("iota", [], tensor(d, [260], to_dtype(d, list(range(260)))), attrs={"axis": 0})
    cases.add("iota", [], tensor("f32", [0, 3], []), attrs={"axis": 1})
    cases.write("constant_iota.json")


# ---- index movement ------------------------------------------------------------------------

# Movement copies bytes, so one dtype per element size covers it.
MOVEMENT_DTYPES = ["bool", "bf16", "f32", "i64"]


def sample_values(d, n, seed):
    """n distinct-ish values of dtype d, with NaN and -0.0 among the floats."""
    rng = np.random.default_rng(seed)
    raw = [int(v) for v in rng.integers(-50, 50, size=n)]
    if d == "bool":
        return [v % 2 == 1 for v in raw]
    if d in UNSIGNED:
        return [wrap(d, v) for v in raw]
    if d in INTS:
        return raw
    values = [v / 4 for v in raw]
    if n >= 3:
        values[1], values[2] = nan, -0.0
    return to_dtype(d, values)


def moved(values, index_array):
    """Values picked by an array of indices into them (-1 picks the last entry)."""
    return [values[i] for i in index_array.flatten()]


def gen_movement():
    cases = Cases()
    for k, d in enumerate(MOVEMENT_DTYPES):
        def source(shape, seed=0):
            n = math.prod(shape)
            return sample_values(d, n, seed + k), np.arange(n).reshape(shape)

        # broadcast: operand dim i goes to result dim dims[i]; size-1 dims stretch
        for shape, result, dims in [([3], [2, 3], [1]), ([2], [2, 3], [0]), ([], [2, 2], []),
                                    ([1, 3], [2, 4, 3], [1, 2]), ([2, 1], [2, 3], [0, 1]),
                                    ([3], [0, 3], [1])]:
            values, idx = source(shape)
            view = idx.reshape([shape[dims.index(r)] if r in dims else 1
                                for r in range(len(result))])
            cases.add("broadcast", [tensor(d, shape, values)],
                      tensor(d, result, moved(values, np.broadcast_to(view, result))),
                      attrs={"shape": result, "dims": dims})
        for shape, result in [([2, 3], [3, 2]), ([2, 3], [6]), ([6], [1, 2, 3]), ([1], []),
                              ([0, 2], [2, 0])]:
            values, idx = source(shape)
            cases.add("reshape", [tensor(d, shape, values)],
                      tensor(d, result, moved(values, idx.reshape(result))),
                      attrs={"shape": result})
        for shape, perm in [([2, 3], [1, 0]), ([2, 3, 4], [2, 0, 1]), ([2, 3, 4], [0, 2, 1]),
                            ([3], [0])]:
            values, idx = source(shape)
            out = np.transpose(idx, perm)
            cases.add("transpose", [tensor(d, shape, values)],
                      tensor(d, list(out.shape), moved(values, out)), attrs={"perm": perm})
        for shape, start, limit, stride in [([5], [1], [4], [1]), ([7], [0], [7], [3]),
                                            ([4, 5], [1, 0], [4, 5], [2, 2]),
                                            ([4, 5], [2, 3], [2, 5], [1, 1]),
                                            ([3, 4, 2], [0, 1, 1], [3, 4, 2], [2, 2, 1])]:
            values, idx = source(shape)
            out = idx[tuple(slice(s, l, t) for s, l, t in zip(start, limit, stride))]
            cases.add("slice", [tensor(d, shape, values)],
                      tensor(d, list(out.shape), moved(values, out)),
                      attrs={"start": start, "limit": limit, "stride": stride})
        for shape, low, high, interior in [([3], [1], [2], [0]), ([3], [0], [0], [2]),
                                           ([2, 3], [1, 0], [0, 2], [1, 1]),
                                           ([0, 2], [1, 1], [1, 0], [3, 0]),
                                           ([2], [0], [0], [0])]:
            values, idx = source(shape)
            pad_value = sample_values(d, 1, 99)
            out_shape = [lo + hi + n + max(n - 1, 0) * it
                         for n, lo, hi, it in zip(shape, low, high, interior)]
            out = np.full(out_shape, len(values), dtype=np.int64)  # index of the pad value
            out[tuple(slice(lo, lo + max(n - 1, 0) * (it + 1) + 1 if n else lo, it + 1)
                      for n, lo, it in zip(shape, low, interior))] = idx
            cases.add("pad", [tensor(d, shape, values), tensor(d, [], pad_value)],
                      tensor(d, out_shape, moved(values + pad_value, out)),
                      attrs={"low": low, "high": high, "interior": interior})
        for shapes, axis in [([[2, 1], [2, 3]], 1), ([[1, 3], [2, 3], [0, 3]], 0),
                             ([[4]], 0), ([[2, 2, 1], [2, 2, 2]], 2)]:
            all_values, parts, operands = [], [], []
            for j, shape in enumerate(shapes):
                values, idx = source(shape, seed=10 * j)
                parts.append(idx + len(all_values))
                operands.append(tensor(d, shape, values))
                all_values += values
            out = np.concatenate(parts, axis=axis)
            cases.add("concatenate", operands, tensor(d, list(out.shape), moved(all_values, out)),
                      attrs={"axis": axis})
    cases.write("movement.json")


def gen_gather():
    cases = Cases()
    index_dtypes = ["i32", "i64", "u8", "u32", "i8"]
    for k, d in enumerate(MOVEMENT_DTYPES):
        idx_dtype = index_dtypes[k % len(index_dtypes)]
        for shape, indices, idx_shape, axis in [
                ([5], [0, 4, -2, 2], [4], 0),  # negative clamps to 0
                ([3, 4], [3, 0, 9, -200], [2, 2], 1),  # past the end clamps to 3
                ([3, 2], [1], [], 0),
                ([2, 3, 2], [2, 0], [2], 1),
                ([3], [], [0], 0)]:
            if idx_dtype in UNSIGNED:
                indices = [abs(v) for v in indices]
            indices = [wrap(idx_dtype, v) for v in indices]
            values = sample_values(d, math.prod(shape), k)
            src = np.arange(math.prod(shape)).reshape(shape)
            clamped = np.clip(np.array(indices, dtype=np.int64), 0, shape[axis] - 1)
            out = np.take(src, clamped.reshape(idx_shape), axis=axis)
            cases.add("take", [tensor(d, shape, values), tensor(idx_dtype, idx_shape, indices)],
                      tensor(d, list(out.shape), moved(values, out)), attrs={"axis": axis})
    for k, d in enumerate(NUMERIC):
        idx_dtype = index_dtypes[k % len(index_dtypes)]
        for shape, indices, idx_shape, axis in [
                ([4], [1, 1, 3, 1], [4], 0),  # duplicates accumulate
                ([2, 3], [2, 0, 2, 7], [2, 2], 1),  # 7 clamps to 2
                ([3, 2], [-5, 10], [2], 0)]:
            if idx_dtype in UNSIGNED:
                indices = [abs(v) for v in indices]
            indices = [wrap(idx_dtype, v) for v in indices]
            x = sample_values(d, math.prod(shape), k)
            if d in FLOATS:  # NaN and -0.0 are reduce's business; keep sums exact here
                x = [0.0 if math.isnan(v) or v == 0 else v for v in x]
            upd_shape = shape[:axis] + idx_shape + shape[axis + 1:]
            upd = sample_values(d, math.prod(upd_shape), k + 1)
            if d in FLOATS:
                upd = [0.5 if math.isnan(v) else v for v in upd]
            acc = np.array([Fraction(v) if d in FLOATS else v for v in x], dtype=object)
            acc = acc.reshape(shape)
            upd_arr = np.array([Fraction(v) if d in FLOATS else v for v in upd],
                               dtype=object).reshape(upd_shape)
            clamped = np.clip(np.array(indices, dtype=np.int64), 0, shape[axis] - 1)
            clamped = clamped.reshape(idx_shape)
            for pos in np.ndindex(*upd_shape):
                j = pos[axis:axis + len(idx_shape)]
                target = pos[:axis] + (int(clamped[j]),) + pos[axis + len(idx_shape):]
                acc[target] = acc[target] + upd_arr[pos]
            result = [round_exact(v, d) if d in FLOATS else wrap(d, int(v))
                      for v in acc.flatten()]
            cases.add("scatter_add", [tensor(d, shape, x), tensor(idx_dtype, idx_shape, indices),
                                      tensor(d, upd_shape, upd)],
                      tensor(d, shape, result), attrs={"axis": axis})
    # i8 wraps when updates overflow
    cases.add("scatter_add", [tensor("i8", [2], [100, 0]), tensor("i32", [2], [0, 0]),
                              tensor("i8", [2], [20, 10])], tensor("i8", [2], [-126, 0]),
              attrs={"axis": 0})
    cases.write("gather.json")


# ---- reductions and dot_general ------------------------------------------------------------

def reduce_rows(values, shape, axes):
    """Returns (result shape, rows): each row holds the values reduced into one result element."""
    arr = np.array(values, dtype=object).reshape(shape)
    kept = [a for a in range(len(shape)) if a not in axes]
    moved_arr = np.transpose(arr, kept + list(axes))
    out_shape = [shape[a] for a in kept]
    rows = moved_arr.reshape(math.prod(out_shape), math.prod([shape[a] for a in axes]))
    return out_shape, [list(r) for r in rows]


def fold_floats(kind, row):
    """reduce_<kind> of float values as the interpreter defines it: exact, not yet rounded."""
    if kind == "max":
        return reduce(ieee_max, row, -inf)
    if kind == "min":
        return reduce(ieee_min, row, inf)
    if any(not math.isfinite(v) for v in row):  # NaN and inf decide the result
        return reduce(operator.add, row, 0.0) if kind == "sum" else reduce(operator.mul, row, 1.0)
    if kind == "sum":
        # IEEE sums give -0 only when every term is -0; an empty sum is +0
        if row and all(v == 0 and math.copysign(1.0, v) < 0 for v in row):
            return -0.0
        return sum((Fraction(v) for v in row), Fraction(0))
    negative = sum(math.copysign(1.0, v) < 0 for v in row) % 2 == 1
    magnitude = math.prod((abs(Fraction(v)) for v in row), start=Fraction(1))
    if magnitude == 0:
        return -0.0 if negative else 0.0
    return -magnitude if negative else magnitude


def fold_ints(kind, row, d):
    lo, hi = int_range(d)
    start = {"sum": 0, "prod": 1, "max": lo, "min": hi}[kind]
    fn = {"sum": operator.add, "prod": operator.mul, "max": max, "min": min}[kind]
    return wrap(d, int(reduce(fn, [int(v) for v in row], start)))


def gen_reduce():
    cases = Cases()
    shapes = [([2, 3, 2], [1]), ([2, 3, 2], [0, 2]), ([0, 3], [0]), ([4], [0])]
    # rarer shapes on a few dtypes only, to keep the file small
    more_shapes = [([2, 3, 2], [0, 1, 2]), ([3, 2], []), ([3, 0], [1])]
    for kind in ["sum", "prod", "max", "min"]:
        dtypes = NUMERIC if kind in ("sum", "prod") else ALL
        for k, d in enumerate(dtypes):
            extra = more_shapes if d in ("bool", "i8", "u32", "bf16", "f32") else []
            for j, (shape, axes) in enumerate(shapes + extra):
                n = math.prod(shape)
                values = sample_values(d, n, 7 * k + j)
                if kind == "prod" and d in FLOATS:
                    # factors 2^a 3^b keep every partial product exact in double
                    rng = np.random.default_rng(j)
                    values = to_dtype(d, [[1, -1, 2, 0.5, 1.5, -2, 0.75, -0.5][i]
                                          for i in rng.integers(0, 8, size=n)])
                    if n >= 3:
                        values[1], values[2] = nan, -0.0
                if d in FLOATS and j != 0:
                    values = [0.25 if math.isnan(v) else v for v in values]  # one NaN case
                out_shape, rows = reduce_rows(values, shape, axes)
                if d in FLOATS:
                    results = [round_exact(fold_floats(kind, r), d) for r in rows]
                else:
                    results = [fold_ints(kind, r, d) for r in rows]
                cases.add(f"reduce_{kind}", [tensor(d, shape, values)],
                          tensor(d, out_shape, results), attrs={"axes": axes})
    # signed zeros: a lone -0 sums to -0, an empty sum is +0, max orders -0 < +0
    cases.add("reduce_sum", [tensor("f32", [2, 1], [-0.0, 0.0])], tensor("f32", [2], [-0.0, 0.0]),
              attrs={"axes": [1]})
    cases.add("reduce_max", [tensor("f32", [2], [-0.0, 0.0])], tensor("f32", [], [0.0]),
              attrs={"axes": [0]})
    cases.add("reduce_min", [tensor("f32", [2], [0.0, -0.0])], tensor("f32", [], [-0.0]),
              attrs={"axes": [0]})
    # f16 sums accumulate wider and round once: sequential f16 would give 2048
    cases.add("reduce_sum", [tensor("f16", [3], [2048.0, 1.0, 1.0])], tensor("f16", [], [2050.0]),
              attrs={"axes": [0]})
    # i8 wraps
    cases.add("reduce_sum", [tensor("i8", [3], [100, 100, 1])], tensor("i8", [], [-55]),
              attrs={"axes": [0]})
    for op, fn in [("argmax", np.argmax), ("argmin", np.argmin)]:
        for k, d in enumerate(ALL):
            for shape, axis in [([2, 4], 1), ([3, 1, 2], 0), ([4], 0)]:
                values = sample_values(d, math.prod(shape), k)
                if d in INTS or d == "bool":
                    values[1] = values[0]  # a tie: the first index wins
                if d in FLOATS and shape == [4]:
                    values = to_dtype(d, [1.0, nan, 5.0, nan])  # the first NaN wins
                arr = np.array([float(v) for v in values] if d in FLOATS else
                               [int(v) for v in values]).reshape(shape)
                out = fn(arr, axis=axis)
                cases.add(op, [tensor(d, shape, values)],
                          tensor("i32", list(out.shape), [int(v) for v in out.flatten()]),
                          attrs={"axis": axis}, tag=d)
    cases.write("reduce.json")


def gen_dot():
    cases = Cases()
    configs = [  # lhs shape, rhs shape, lhs_batch, rhs_batch, lhs_contract, rhs_contract
        ([2, 3], [3, 4], [], [], [1], [0]),
        ([3, 2], [3, 4], [], [], [0], [0]),
        ([2, 2, 3], [2, 3, 2], [0], [0], [2], [1]),
        ([2, 3, 4], [4, 2, 3], [], [], [1, 2], [2, 0]),
        ([3, 2, 2, 2], [2, 2, 3], [1], [0], [0, 3], [2, 1]),
        ([3], [3], [], [], [0], [0]),
        ([2], [3], [], [], [], []),
        ([2, 0], [0, 3], [], [], [1], [0]),
    ]
    letters = "abcdefghij"
    for k, d in enumerate(NUMERIC):
        # every layout on a few dtypes, the batched and multi-contracting ones on all
        full = d in ("i8", "u32", "i64", "f16", "f32")
        for j, (ls, rs, lb, rb, lc, rc) in enumerate(configs):
            if not full and j not in (2, 3, 4):
                continue
            lhs = sample_values(d, math.prod(ls), 3 * k + j)
            rhs = sample_values(d, math.prod(rs), 5 * k + j + 1)
            if d in FLOATS:
                lhs = [0.5 if math.isnan(v) else v for v in lhs]
                rhs = [-1.25 if math.isnan(v) else v for v in rhs]
            # einsum subscripts: batch and contracting dims share letters
            lsub = [letters[i] for i in range(len(ls))]
            rsub = [letters[len(ls) + i] for i in range(len(rs))]
            for a, b in zip(lb + lc, rb + rc):
                rsub[b] = lsub[a]
            out_sub = [lsub[a] for a in lb]
            out_sub += [lsub[i] for i in range(len(ls)) if i not in lb + lc]
            out_sub += [rsub[i] for i in range(len(rs)) if i not in rb + rc]
            spec = f"{''.join(lsub)},{''.join(rsub)}->{''.join(out_sub)}"
            np_type = np.float64 if d in FLOATS else np.int64
            out = np.einsum(spec, np.array(lhs, dtype=np_type).reshape(ls),
                            np.array(rhs, dtype=np_type).reshape(rs))
            out = np.asarray(out)
            result = ([round_exact(float(v), d) for v in out.flatten()] if d in FLOATS
                      else [wrap(d, int(v)) for v in out.flatten()])
            cases.add("dot_general", [tensor(d, ls, lhs), tensor(d, rs, rhs)],
                      tensor(d, list(out.shape), result),
                      attrs={"lhs_batch": lb, "rhs_batch": rb, "lhs_contract": lc,
                             "rhs_contract": rc})
    # f16 accumulates wider and rounds once
    cases.add("dot_general", [tensor("f16", [3], [2048.0, 1.0, 1.0]),
                              tensor("f16", [3], [1.0, 1.0, 1.0])], tensor("f16", [], [2050.0]),
              attrs={"lhs_contract": [0], "rhs_contract": [0]})
    cases.write("dot.json")


def threefry2x32(key, counter):
    """Random123's threefry2x32 with 20 rounds, written from its definition."""
    mask = 0xFFFFFFFF
    rotations = [13, 15, 26, 6, 17, 29, 16, 24]
    ks = [key[0], key[1], key[0] ^ key[1] ^ 0x1BD11BDA]
    x = [(counter[0] + ks[0]) & mask, (counter[1] + ks[1]) & mask]
    for r in range(20):
        x[0] = (x[0] + x[1]) & mask
        rot = rotations[r % 8]
        x[1] = (((x[1] << rot) | (x[1] >> (32 - rot))) & mask) ^ x[0]
        if r % 4 == 3:
            i = r // 4 + 1
            x[0] = (x[0] + ks[i % 3]) & mask
            x[1] = (x[1] + ks[(i + 1) % 3] + i) & mask
    return x


def gen_bits():
    """Shifts, popcount and clz on Python integers at each width (StableHLO's rules: the
    amount is unsigned, shifting by the width or more empties the value or fills it with
    the sign), is_finite, bitcast_convert through numpy's view, rng_bits by threefry2x32."""
    cases = Cases()
    for d in INTS:
        bits = BITS[d]
        mask = 2**bits - 1
        a, b = int_pairs(d)
        a = a + [1, 1, -1 if d in SIGNED else mask, 5]
        b = b + [bits - 1, bits, bits + 1, -1 if d in SIGNED else mask]

        def signed(v):
            v &= mask
            return v - 2**bits if v >> (bits - 1) else v

        def shl(x, n):
            return 0 if n & mask >= bits else wrap(d, (x & mask) << (n & mask))

        def shr_logical(x, n):
            return 0 if n & mask >= bits else wrap(d, (x & mask) >> (n & mask))

        def shr_arith(x, n):
            return wrap(d, signed(x) >> min(n & mask, bits - 1))

        for op, fn in [("shift_left", shl), ("shift_right_logical", shr_logical),
                       ("shift_right_arithmetic", shr_arith)]:
            cases.add(op, [tensor(d, [len(a)], a), tensor(d, [len(b)], b)],
                      tensor(d, [len(a)], [fn(x, n) for x, n in zip(a, b)]))
        x = int_edges(d)
        cases.add("popcount", [tensor(d, [len(x)], x)],
                  tensor(d, [len(x)], [bin(v & mask).count("1") for v in x]))
        cases.add("clz", [tensor(d, [len(x)], x)],
                  tensor(d, [len(x)], [bits - (v & mask).bit_length() for v in x]))
    for d in FLOATS:
        x = [v for v in FLOAT_EDGES]
        cases.add("is_finite", [tensor(d, [len(x)], x)],
                  tensor("bool", [len(x)], [math.isfinite(v) for v in x]))
    # bitcast_convert: same-width pairs, through numpy's view (bf16 as f32's top half).
    views = [("f32", "i32", np.float32, np.int32), ("f32", "u32", np.float32, np.uint32),
             ("i32", "f32", np.int32, np.float32), ("f64", "i64", np.float64, np.int64),
             ("i64", "f64", np.int64, np.float64), ("f16", "i16", np.float16, np.int16),
             ("i16", "f16", np.int16, np.float16), ("u8", "i8", np.uint8, np.int8),
             ("i8", "u8", np.int8, np.uint8), ("u32", "i32", np.uint32, np.int32)]
    for src, dst, src_np, dst_np in views:
        x = ([0.0, -0.0, 1.0, -2.5, 1e-3, inf, -inf, 0.1] if src in FLOATS
             else [0, 1, -1 if src in SIGNED else 255, 7, 100, 0x3c00 if BITS[src] >= 16 else 60])
        if src in FLOATS:
            x = to_dtype(src, x)
        out = np.array(x, dtype=src_np).view(dst_np)
        result = [float(v) for v in out] if dst in FLOATS else [int(v) for v in out]
        cases.add("bitcast_convert", [tensor(src, [len(x)], x)], tensor(dst, [len(x)], result),
                  tag=f"{src}-{dst}")
    bf = to_dtype("bf16", [1.0, -2.5, 0.1, inf])
    bf_bits = [int(v) >> 16 for v in np.array(bf, dtype=np.float32).view(np.uint32)]
    cases.add("bitcast_convert", [tensor("bf16", [4], bf)],
              tensor("i16", [4], [wrap("i16", v) for v in bf_bits]), tag="bf16-i16")
    # rng_bits: element i is a ^ b for (a, b) = threefry2x32(key, (i >> 32, i & 0xffffffff)).
    for key, shape in [((0, 0), [4]), ((0x13198A2E, 0x03707344), [2, 3]),
                       ((0xFFFFFFFF, 0xFFFFFFFF), [5])]:
        n = math.prod(shape)
        data = [reduce(operator.xor, threefry2x32(key, (i >> 32, i & 0xFFFFFFFF)))
                for i in range(n)]
        cases.add("rng_bits", [tensor("u32", [2], list(key))], tensor("u32", shape, data),
                  attrs={"shape": shape})
    keys = [1, 2, 3, 4]
    data = [reduce(operator.xor, threefry2x32((keys[2 * k], keys[2 * k + 1]), (0, i)))
            for k in range(2) for i in range(3)]
    cases.add("rng_bits", [tensor("u32", [2, 2], keys)], tensor("u32", [2, 3], data),
              attrs={"shape": [3]}, tag="batched")
    cases.write("bits.json")


def gen_along():
    """take_along_axis and scatter_along_axis, by plain loops over the indices (clamped, the
    scatter in their row-major order, floats combined in double and rounded once)."""
    cases = Cases()
    combine = {"add": operator.add, "mul": operator.mul, "set": lambda a, b: b,
               "max": ieee_max, "min": ieee_min}
    shape_x, shape_i = [3, 4], [3, 5]
    rng = np.random.default_rng(7)
    idx = [int(v) for v in rng.integers(-2, 6, size=15)]  # out of range on both sides
    for axis in (0, 1):
        sx, si = (shape_x, shape_i) if axis == 1 else ([4, 3], [5, 3])
        for d in ["f32", "i32", "f16", "bool"]:
            x = [(i * 7 % 11) - 5 for i in range(12)]
            u = [(i * 5 % 13) - 6 for i in range(15)]
            if d in FLOATS:
                x = to_dtype(d, [v / 4 for v in x])
                u = to_dtype(d, [v / 4 for v in u])
                u[3] = nan
            elif d == "bool":
                x = [v > 0 for v in x]
                u = [v > 0 for v in u]
            def pos(e):
                r, c = divmod(e, si[1])
                k = min(max(idx[e], 0), sx[axis] - 1)
                return r * sx[1] + k if axis == 1 else k * sx[1] + c
            taken = [x[pos(e)] for e in range(15)]
            cases.add("take_along_axis", [tensor(d, sx, x), tensor("i32", si, idx)],
                      tensor(d, si, taken), attrs={"axis": axis})
            for mode, fn in combine.items():
                if d == "bool" and mode in ("add", "mul"):
                    continue
                acc = [float(v) if d in FLOATS else int(v) for v in x]
                for e in range(15):
                    acc[pos(e)] = fn(acc[pos(e)], float(u[e]) if d in FLOATS else int(u[e]))
                result = to_dtype(d, acc) if d in FLOATS else [wrap(d, int(v)) for v in acc]
                attrs = {"axis": axis} if mode == "add" else {"axis": axis, "mode": mode}
                cases.add("scatter_along_axis", [tensor(d, sx, x), tensor("i32", si, idx),
                                                  tensor(d, si, u)], tensor(d, sx, result),
                          attrs=attrs, tag=f"{d}-{mode}")
    cases.write("along.json")


def log_add_exp(a, b):
    if a == b:
        return a + math.log(2.0)
    if math.isnan(a) or math.isnan(b):
        return nan
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


def gen_scans():
    """The inclusive scans along an axis, forwards and reversed, by plain loops: floats carry
    the running value in double and round each result once."""
    cases = Cases()
    combine = {"cumsum": operator.add, "cumprod": operator.mul, "cummax": ieee_max,
               "cummin": ieee_min, "cumlogsumexp": log_add_exp}
    shape = [3, 4]
    for op, fn in combine.items():
        for d in (["f32", "f64", "f16"] if op == "cumlogsumexp" else ["f32", "f16", "i32", "u8"]):
            for axis in (0, 1):
                for reverse in (False, True):
                    x = [((i * 7) % 9 - 4) / (2 if d in FLOATS else 1) for i in range(12)]
                    if d in FLOATS:
                        x[5] = nan if op in ("cummax", "cummin", "cumsum") else x[5]
                        x = to_dtype(d, x)
                    else:
                        x = [wrap(d, int(v)) for v in x]
                    acc = [float(v) if d in FLOATS else int(v) for v in x]
                    rows, cols = shape
                    n = shape[axis]
                    for other in range(shape[1 - axis]):
                        order = list(range(n))[::-1] if reverse else list(range(n))
                        for k in range(1, n):
                            i, p = order[k], order[k - 1]
                            at = (lambda j: j * cols + other) if axis == 0 else (lambda j: other * cols + j)
                            acc[at(i)] = fn(acc[at(p)], acc[at(i)])
                    result = (to_dtype(d, acc) if d in FLOATS
                              else [wrap(d, int(v)) for v in acc])
                    attrs = {"axis": axis, "reverse": reverse} if reverse else {"axis": axis}
                    cases.add(op, [tensor(d, shape, x)], tensor(d, shape, result), attrs=attrs,
                              tolerance="approx" if d in FLOATS else "exact")
    cases.write("scan.json")


def main():
    gen_scans()
    gen_along()
    gen_bits()
    gen_unary()
    gen_binary()
    gen_compare()
    gen_select_convert()
    gen_constant_iota()
    gen_movement()
    gen_gather()
    gen_reduce()
    gen_dot()


if __name__ == "__main__":
    main()
