#!/usr/bin/python3
"""Independent checks of `kiln transform` against numpy.

Usage: /usr/bin/python3 check_transforms.py PATH/TO/kiln [--device cpu|vulkan|interp]

Every program under transforms/ is written in f64 and re-implemented here in numpy. For each
case this script runs `kiln transform` (--jvp, --vjp, --grad, --value-and-grad or --vmap),
checks the printed signature (name, parameter and result order and types), runs the output
with `kiln run --device interp` (or the --device given: the transformed functions compiled)
on seeded inputs and compares every result with a reference that never looks at kiln's rules:

  jvp             y and the directional derivative (f(x + h t) - f(x - h t)) / 2h
  vjp             y and, per picked parameter, the central-difference gradient of <c, f(x)>
  grad            the central-difference gradient of the scalar loss
  value_and_grad  the loss, then its gradient
  vmap            the reference looped over the batch and stacked at the out-axis

Second-order cases apply the transform to the output of `kiln transform --grad` (Hessian-vector
products, per-example gradients), against differences of central-difference gradients.
SHOW_ERRORS=1 prints each result's largest error.
"""

import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = os.path.join(HERE, "transforms")

NPY_DTYPE = {"bool": np.bool_, "i32": np.int32, "i64": np.int64, "f32": np.float32,
             "f64": np.float64}
FLOATS = {"f32", "f64"}

# Central differences in f64 with this step are accurate to about 1e-9 on these programs.
STEP = 1e-6
RTOL, ATOL = 1e-6, 1e-7
# Second order: central differences (OUTER_STEP) of central-difference gradients (INNER_STEP).
INNER_STEP, OUTER_STEP = 1e-5, 1e-4
SECOND_RTOL, SECOND_ATOL = 1e-4, 1e-5
# Values (not derivatives) are computed the same way on both sides, up to rounding.
VALUE_RTOL, VALUE_ATOL = 1e-12, 1e-12

# --------------------------------------------------------------------------------------------
# Signatures, read from .kir text.

TYPE_RE = re.compile(r"(bool|i32|i64|f32|f64)\s*\[([^\]]*)\]")
FUNC_RE = re.compile(r"func\s+@(\w+)\s*\((.*?)\)\s*->\s*(.*?)\{", re.S)


def parse_type(text):
    m = TYPE_RE.fullmatch(text.strip())
    return m.group(1), tuple(int(d) for d in m.group(2).split(",") if d.strip())


def signatures(text):
    """{name: ([(param, dtype, shape)], [(dtype, shape)])}, and the names in file order."""
    text = re.sub(r"//[^\n]*", "", text)
    funcs, order = {}, []
    for m in FUNC_RE.finditer(text):
        params = [(p, *parse_type(t)) for p, t in
                  re.findall(r"%(\w+)\s*:\s*(\w+\s*\[[^\]]*\])", m.group(2))]
        results = [parse_type(t.group(0)) for t in TYPE_RE.finditer(m.group(3))]
        funcs[m.group(1)] = (params, results)
        order.append(m.group(1))
    return funcs, order


# --------------------------------------------------------------------------------------------
# numpy re-implementations of the programs, from the README's op table.

def logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def clamp_take(x, idx, axis):
    return np.take(x, np.clip(idx, 0, x.shape[axis] - 1), axis=axis)


def scatter_add(x, idx, upd, axis):
    out = np.array(x, copy=True)
    idx = np.clip(np.asarray(idx, np.int64), 0, x.shape[axis] - 1)
    lead = (slice(None),) * axis
    for j in np.ndindex(idx.shape):
        out[lead + (idx[j],)] += upd[lead + j]
    return out


def pad(x, value, low, high, interior):
    inner = [n + (n - 1) * i for n, i in zip(x.shape, interior)]
    out = np.full([lo + n + hi for lo, n, hi in zip(low, inner, high)], value, dtype=x.dtype)
    out[tuple(slice(lo, lo + n, i + 1) for lo, n, i in zip(low, inner, interior))] = x
    return out


def elementwise_loss(x, y, p):
    return np.sum(np.tanh(x) * np.exp(y) + np.log1p(x * x) / (1 + y * y)
                  + np.sqrt(p) * logistic(x - y) + np.maximum(x, y))


def elementwise_pair(x, n, y, p):
    return [x * y + np.sin(x) * float(n), np.exp(y) / (1 + x * x) - np.cos(y) ** 2 + 1 / np.sqrt(p)]


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def logsumexp(x):
    m = x.max(axis=1)
    return np.log(np.exp(x - m[:, None]).sum(axis=1)) + m


def xent(x, t):
    return -np.sum(t * (x - logsumexp(x)[:, None]))


def mlp(x, w1, b1, w2):
    return np.tanh(x @ w1 + b1) @ w2


def mlp_loss(x, w1, b1, w2, t):
    return np.sum((mlp(x, w1, b1, w2) - t) ** 2) / 4


def bmm(a, c):
    return np.maximum(np.einsum("bik,bjk->bij", a, c), 0.0)


def mix(x, y, v):
    b = np.concatenate([x[:, 1:6:2], y], axis=1)
    c = pad(b, v, [0, 1], [1, 0], [0, 1])
    return (c * c).T


def mix_loss(x, y, v):
    return np.sum(np.sin(mix(x, y, v)).reshape(36) * np.arange(36.0))


def lookup(table, idx):
    return np.tanh(clamp_take(table, idx, 0))


def lookup_loss(table, idx, w):
    return np.sum(lookup(table, idx) * w)


def cols(x, idx, u):
    g = clamp_take(x, idx, 1)
    return [g * g, np.exp(scatter_add(x, idx, u, 1))]


# --------------------------------------------------------------------------------------------
# Inputs: generators (rng, shape) -> array per parameter name; floats default to U(-1, 1).

def uniform(lo, hi):
    return lambda rng, shape: rng.uniform(lo, hi, shape)


def fixed(values):
    return lambda rng, shape: np.asarray(values).reshape(shape)


# Indices with a repeat and an out-of-range entry (clamped to the last row).
LOOKUP_IDX = fixed([3, 0, 3, 9])
COLS_IDX = fixed([[1, 1], [5, -2]])

CASES = []


def case(program, func, mode, ref, inputs=None, wrt=None, in_axes=None, out_axes=None,
         batch=None, after_grad=None):
    """Registers a check of `kiln transform --MODE`. after_grad (a --wrt list, [] for the
    default) applies it to the output of `kiln transform --grad` instead: second order."""
    CASES.append(dict(program=program, func=func, mode=mode, ref=ref, inputs=inputs or {},
                      wrt=wrt, in_axes=in_axes, out_axes=out_axes, batch=batch,
                      after_grad=after_grad))


POSITIVE_P = {"p": uniform(0.2, 2)}

case("elementwise.kir", "loss", "grad", elementwise_loss, POSITIVE_P)
case("elementwise.kir", "loss", "value_and_grad", elementwise_loss, POSITIVE_P, wrt=[2, 0])
case("elementwise.kir", "loss", "jvp", elementwise_loss, POSITIVE_P)
case("elementwise.kir", "pair", "jvp", elementwise_pair, {**POSITIVE_P, "n": fixed(3)})
case("elementwise.kir", "pair", "vjp", elementwise_pair, {**POSITIVE_P, "n": fixed(-2)})
case("elementwise.kir", "pair", "vjp", elementwise_pair, {**POSITIVE_P, "n": fixed(1)},
     wrt=[3, 0])
case("elementwise.kir", "pair", "vmap", elementwise_pair, {**POSITIVE_P, "n": fixed(2)},
     in_axes=[0, None, None, -1], out_axes=[1, 0], batch=3)

case("softmax.kir", "softmax", "jvp", softmax, {"x": uniform(-3, 3)})
case("softmax.kir", "softmax", "vjp", softmax, {"x": uniform(-3, 3)})
case("softmax.kir", "logsumexp", "vjp", logsumexp, {"x": uniform(-3, 3)})
case("softmax.kir", "xent", "grad", xent, {"x": uniform(-3, 3), "t": uniform(0, 1)}, wrt=[0])
case("softmax.kir", "softmax", "vmap", softmax, {"x": uniform(-3, 3)}, in_axes=[1],
     out_axes=[-1], batch=2)

case("mlp.kir", "loss", "grad", mlp_loss, wrt=[1, 2, 3])
case("mlp.kir", "loss", "value_and_grad", mlp_loss)
case("mlp.kir", "loss_remat", "grad", mlp_loss)
case("mlp.kir", "loss_remat", "vjp", mlp_loss, wrt=[3, 1])
case("mlp.kir", "mlp", "jvp", mlp, wrt=[0, 3])
case("mlp.kir", "mlp", "vjp", mlp)
case("mlp.kir", "mlp", "vmap", mlp, in_axes=[0, None, None, 2], out_axes=[0], batch=3)
case("mlp.kir", "loss", "vmap", mlp_loss, in_axes=[None, 0, 0, 0, None], batch=2)
case("mlp.kir", "bmm", "vjp", bmm)
case("mlp.kir", "bmm", "vmap", bmm, in_axes=[1, None], out_axes=[-1], batch=2)

case("movement.kir", "mix", "jvp", mix)
case("movement.kir", "mix", "vjp", mix)
case("movement.kir", "mix_loss", "grad", mix_loss)
case("movement.kir", "mix", "vmap", mix, in_axes=[1, None, 0], batch=2)

case("gather.kir", "lookup", "vjp", lookup, {"idx": LOOKUP_IDX})
case("gather.kir", "lookup_loss", "grad", lookup_loss, {"idx": LOOKUP_IDX})
case("gather.kir", "lookup", "jvp", lookup, {"idx": LOOKUP_IDX})
case("gather.kir", "cols", "vjp", cols, {"idx": COLS_IDX})
case("gather.kir", "cols", "jvp", cols, {"idx": COLS_IDX}, wrt=[2])
case("gather.kir", "lookup", "vmap", lookup, {"idx": fixed([[3, 0, 3, 9], [1, 1, 4, -1]])},
     in_axes=[None, 0], batch=2)
case("gather.kir", "cols", "vmap", cols,
     {"idx": fixed([[[1, 1], [5, -2]], [[0, 3], [3, 2]], [[2, 2], [2, 2]]])},
     in_axes=[0, 0, 2], out_axes=[3, 0], batch=3)

# Second order: Hessian-vector products forward-over-reverse and reverse-over-reverse, and
# per-example gradients (vmap of grad).
case("elementwise.kir", "loss", "jvp", elementwise_loss, POSITIVE_P, after_grad=[])
case("elementwise.kir", "loss", "vjp", elementwise_loss, POSITIVE_P, after_grad=[0, 1])
case("softmax.kir", "xent", "jvp", xent, {"x": uniform(-3, 3), "t": uniform(0, 1)},
     wrt=[0], after_grad=[0])
case("mlp.kir", "loss", "jvp", mlp_loss, wrt=[1, 3], after_grad=[1, 3])
case("mlp.kir", "loss_remat", "vjp", mlp_loss, wrt=[3], after_grad=[3, 2])
case("mlp.kir", "loss", "vmap", mlp_loss, in_axes=[0, None, None, None, 0], batch=3,
     after_grad=[1, 2, 3])
case("movement.kir", "mix_loss", "jvp", mix_loss, after_grad=[])


# --------------------------------------------------------------------------------------------
# References.

def as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def call(ref, values):
    return [np.asarray(r, np.float64) for r in as_list(ref(*values))]


def directional(ref, values, picked, tangents, step):
    """(f(x + h t) - f(x - h t)) / 2h for every result."""
    plus, minus = list(values), list(values)
    for i, t in zip(picked, tangents):
        plus[i] = np.asarray(values[i] + step * t)
        minus[i] = np.asarray(values[i] - step * t)
    return [(a - b) / (2 * step) for a, b in zip(call(ref, plus), call(ref, minus))]


def gradient(scalar, values, i, step):
    """The central-difference gradient of scalar(values) with respect to values[i]."""
    g = np.zeros_like(values[i])
    for k in np.ndindex(values[i].shape):
        plus, minus = list(values), list(values)
        plus[i] = np.array(values[i], copy=True)
        minus[i] = np.array(values[i], copy=True)
        plus[i][k] += step
        minus[i][k] -= step
        g[k] = (scalar(plus) - scalar(minus)) / (2 * step)
    return g


def gradient_ref(ref, picked, step):
    """A reference for the output of --grad: the central-difference gradient of ref."""
    def grads(*values):
        return [gradient(lambda vals: float(call(ref, vals)[0]), list(values), i, step)
                for i in picked]
    return grads


def float_indices(types):
    return [k for k, (dtype, _) in enumerate(types) if dtype in FLOATS]


def expected_autodiff(stage, params, results, values, rng):
    """(extra inputs, expected output signature, expected results, per-result tolerances)."""
    ref, mode, step = stage["ref"], stage["mode"], stage["step"]
    picked = stage["wrt"] if stage["wrt"] is not None else float_indices(
        [(d, s) for _, d, s in params])
    y = call(ref, values)
    exact, derived = stage["value_tol"], stage["derived_tol"]
    picked_types = [params[i][1:] for i in picked]
    if mode == "jvp":
        tangents = [rng.uniform(-1, 1, params[i][2]) for i in picked]
        extra = [("t_" + params[i][0], params[i][1], params[i][2], t)
                 for i, t in zip(picked, tangents)]
        ty = directional(ref, values, picked, tangents, step)
        floats = float_indices(results)
        return (extra, results + [results[k] for k in floats], y + [ty[k] for k in floats],
                [exact] * len(y) + [derived] * len(floats))
    if mode == "vjp":
        floats = float_indices(results)
        cots = {k: rng.uniform(-1, 1, results[k][1]) for k in floats}
        extra = [("c%d" % k, results[k][0], results[k][1], cots[k]) for k in floats]

        def pulled(vals):
            out = call(ref, vals)
            return sum(float(np.sum(cots[k] * out[k])) for k in floats)

        grads = [gradient(pulled, values, i, step) for i in picked]
        return (extra, results + picked_types, y + grads,
                [exact] * len(y) + [derived] * len(grads))
    grads = [gradient(lambda vals: float(call(ref, vals)[0]), values, i, step) for i in picked]
    if mode == "grad":
        return [], picked_types, grads, [derived] * len(grads)
    return [], results + picked_types, y + grads, [exact] + [derived] * len(grads)


def batched_type(shape, axis, batch):
    """The shape with a batch dimension inserted at `axis` (negative counts from the end of the
    batched rank, as numpy's np.stack and np.expand_dims do)."""
    rank = len(shape) + 1
    at = axis % rank
    return shape[:at] + (batch,) + shape[at:]


def expected_vmap(entry, ref, results, values_per_batch):
    """The reference looped over the batch: results stacked at each out-axis."""
    batch = entry["batch"]
    out_axes = entry["out_axes"] or [0]
    if len(out_axes) == 1:
        out_axes = out_axes * len(results)
    per_b = [call(ref, values_per_batch(b)) for b in range(batch)]
    stacked = [np.stack([per_b[b][k] for b in range(batch)], axis=out_axes[k])
               for k in range(len(results))]
    types = [(dtype, batched_type(shape, out_axes[k], batch))
             for k, (dtype, shape) in enumerate(results)]
    return types, stacked


# --------------------------------------------------------------------------------------------
# Running kiln.

def kiln(binary, *args):
    return subprocess.run([binary, *map(str, args)], capture_output=True, text=True, timeout=60)


def transform_args(entry):
    args = ["--" + entry["mode"].replace("_", "-")]
    if entry["wrt"] is not None:
        args.append("--wrt=" + ",".join(map(str, entry["wrt"])))
    if entry["in_axes"] is not None:
        args.append("--in-axes=" + ",".join("none" if a is None else str(a)
                                            for a in entry["in_axes"]))
    if entry["out_axes"] is not None:
        args.append("--out-axes=" + ",".join(map(str, entry["out_axes"])))
    if entry["batch"] is not None:
        args.append("--batch-size=%d" % entry["batch"])
    return args


# `kiln run` arguments choosing where the transformed programs run: the interpreter unless
# --device says (compiled code's few-ulp differences are far inside the finite-difference
# tolerances).
DEVICE_ARGS = ["--device", "interp"]


def run_kiln(binary, program, inputs, work):
    """Runs `kiln run` on `inputs` [(name, dtype, array)]; returns the result arrays."""
    out = os.path.join(work, "out")
    args = ["run", program, *DEVICE_ARGS, "--output-dir", out]
    for name, dtype, value in inputs:
        path = os.path.join(work, "in-%s.npy" % name)
        np.save(path, np.asarray(value).astype(NPY_DTYPE[dtype]))
        args += ["--input", "%s=%s" % (name, path)]
    proc = kiln(binary, *args)
    if proc.returncode != 0:
        raise RuntimeError("kiln run exited %d: %s" % (proc.returncode, proc.stderr.strip()))
    results = []
    while os.path.exists(os.path.join(out, "%d.npy" % len(results))):
        results.append(np.load(os.path.join(out, "%d.npy" % len(results))))
    return results


def compare(got, want, dtype, shape, tol):
    if got.dtype != np.dtype(NPY_DTYPE[dtype]) or got.shape != tuple(shape):
        return "%s%s, expected %s%s" % (got.dtype, list(got.shape), dtype, list(shape))
    want = np.broadcast_to(np.asarray(want), shape)
    if dtype not in FLOATS:
        bad = got != want
    else:
        bad = ~np.isclose(got.astype(np.float64), want.astype(np.float64), rtol=tol[0],
                          atol=tol[1])
    if not bad.any():
        return None
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    return "%d of %d elements differ; at %s got %r, expected %r" % (
        bad.sum(), bad.size, first, got[first].item(), want[first].item())


def first_stage(binary, entry, work):
    """The function the checked transform applies to and its reference: the program's own, or
    for second-order cases the output of a first `kiln transform --grad` with the central-
    difference gradient of the reference (and looser steps and tolerances to match)."""
    program = os.path.join(PROGRAMS, entry["program"])
    stage = dict(program=program, func=entry["func"], mode=entry["mode"], wrt=entry["wrt"],
                 ref=entry["ref"], step=STEP, value_tol=(VALUE_RTOL, VALUE_ATOL),
                 derived_tol=(RTOL, ATOL))
    if entry["after_grad"] is None:
        return stage, None
    with open(program) as f:
        params, _ = signatures(f.read())[0][entry["func"]]
    picked = entry["after_grad"] or float_indices([(d, s) for _, d, s in params])
    args = ["--grad"] + (["--wrt=" + ",".join(map(str, picked))] if entry["after_grad"] else [])
    proc = kiln(binary, "transform", program, "--func", entry["func"], *args)
    if proc.returncode != 0:
        return None, "kiln transform %s exited %d: %s" % (
            " ".join(args), proc.returncode, proc.stderr.strip())
    stage["program"] = os.path.join(work, "first.kir")
    with open(stage["program"], "w") as f:
        f.write(proc.stdout)
    stage["func"] = entry["func"] + "_grad"
    stage["ref"] = gradient_ref(entry["ref"], picked, INNER_STEP)
    stage["step"] = OUTER_STEP
    stage["value_tol"] = (RTOL, ATOL)
    stage["derived_tol"] = (SECOND_RTOL, SECOND_ATOL)
    return stage, None


def check_case(binary, entry, seed):
    with tempfile.TemporaryDirectory() as work:
        stage, error = first_stage(binary, entry, work)
        if error:
            return [error]
        return check_stage(binary, entry, stage, seed, work)


def check_stage(binary, entry, stage, seed, work):
    with open(stage["program"]) as f:
        funcs, _ = signatures(f.read())
    params, results = funcs[stage["func"]]
    rng = np.random.default_rng(seed)
    proc = kiln(binary, "transform", stage["program"], "--func", stage["func"],
                *transform_args(entry))
    if proc.returncode != 0:
        return ["kiln transform exited %d: %s" % (proc.returncode, proc.stderr.strip())]
    out_funcs, out_order = signatures(proc.stdout)
    name = stage["func"] + "_" + entry["mode"]
    if not out_order or out_order[0] != name:
        return ["the output's first function is %s, expected @%s"
                % ("@" + out_order[0] if out_order else "missing", name)]
    out_params, out_results = out_funcs[name]

    def generate(pname, dtype, shape):
        gen = entry["inputs"].get(pname, uniform(-1, 1))
        return np.asarray(gen(rng, shape)).astype(NPY_DTYPE[dtype])

    if entry["mode"] == "vmap":
        in_axes = entry["in_axes"] or [0] * len(params)
        batch = entry["batch"]
        inputs, want_params = [], []
        for (pname, dtype, shape), axis in zip(params, in_axes):
            full = shape if axis is None else batched_type(shape, axis, batch)
            inputs.append((pname, dtype, generate(pname, dtype, full)))
            want_params.append((pname, dtype, full))

        def values_per_batch(b):
            return [v if axis is None else np.take(v, b, axis=axis)
                    for (_, _, v), axis in zip(inputs, in_axes)]

        want_results, want = expected_vmap(entry, stage["ref"], results, values_per_batch)
        tols = [stage["value_tol"]] * len(want)
    else:
        inputs = [(pname, dtype, generate(pname, dtype, shape)) for pname, dtype, shape in params]
        values = [v for _, _, v in inputs]
        extra, want_results, want, tols = expected_autodiff(stage, params, results, values, rng)
        inputs += [(n, d, v) for n, d, _, v in extra]
        want_params = list(params) + [(n, d, s) for n, d, s, _ in extra]

    problems = []
    if [tuple(p) for p in out_params] != [tuple(p) for p in want_params]:
        problems.append("parameters %s, expected %s" % (out_params, want_params))
    if list(out_results) != list(want_results):
        problems.append("results %s, expected %s" % (out_results, want_results))
    if problems:
        return problems
    transformed = os.path.join(work, "t.kir")
    with open(transformed, "w") as f:
        f.write(proc.stdout)
    got = run_kiln(binary, transformed, inputs, work)
    if len(got) != len(want):
        return ["%d results, expected %d" % (len(got), len(want))]
    for k, ((dtype, shape), g, w, tol) in enumerate(zip(want_results, got, want, tols)):
        diff = compare(g, w, dtype, shape, tol)
        if diff:
            problems.append("result %d (%s%s): %s" % (k, dtype, list(shape), diff))
        if os.environ.get("SHOW_ERRORS"):
            err = np.abs(g.astype(np.float64) - np.asarray(w, np.float64))
            print("    result %d: max abs err %.3g, max |want| %.3g" % (
                k, err.max(), np.abs(w).max()))
    return problems


def label_of(entry):
    first = ""
    if entry["after_grad"] is not None:
        first = "--grad%s | " % ("" if not entry["after_grad"] else
                                 " --wrt=" + ",".join(map(str, entry["after_grad"])))
    return "%s @%s %s%s" % (entry["program"], entry["func"], first,
                            " ".join(transform_args(entry)))


def main():
    args = sys.argv[1:]
    usage = "usage: check_transforms.py PATH/TO/kiln [--device cpu|vulkan|interp]"
    if len(args) not in (1, 3) or (len(args) == 3 and (
            args[1] != "--device" or args[2] not in ("cpu", "vulkan", "interp"))):
        sys.exit(usage)
    if len(args) == 3:
        DEVICE_ARGS[:] = args[1:]
    binary = os.path.abspath(args[0])
    passed = failed = 0
    covered = {c["program"] for c in CASES}
    for program in sorted(os.listdir(PROGRAMS)):
        if program.endswith(".kir") and program not in covered:
            print("FAIL %s: no case runs this program" % program)
            failed += 1
    for seed, entry in enumerate(CASES):
        label = label_of(entry)
        try:
            problems = check_case(binary, entry, seed)
        except Exception as e:  # a crash of kiln or of the reference is one failure
            problems = ["%s: %s" % (type(e).__name__, e)]
        if problems:
            failed += 1
            print("FAIL " + label)
            for p in problems:
                print("    " + p)
        else:
            passed += 1
            print("ok   " + label)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
