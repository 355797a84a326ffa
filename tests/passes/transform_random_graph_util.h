#pragma once
// A seeded random-graph generator for the transform tests: DAGs over small random shapes that
// mix elementwise ops, reductions, index movement, dots, gathers and scatters, compares and
// selects, converts, constants and iota. Like tests/codegen/random_graph.h (whose shape rules
// it follows), but free of codegen, over any float dtype, with integer and bool values for
// vmap, and with a smooth subset for finite differences.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "ir/error.h"
#include "ir/function.h"
#include "ir/ops.h"

namespace kiln::passes::testing {

struct GraphOptions {
  ir::DType dtype = ir::DType::F32;  // the float parameters' dtype
  // Integer and bool values and the ops on them (integer arithmetic, bitwise ops, compares
  // kept as bool values); without it integers appear only as indices.
  bool integers = false;
  // log, log1p, sqrt, rsqrt, the base of pow and the divisor of div and rem read x*x + 0.5,
  // and exp and expm1 read tanh(x), so values stay finite and away from singular points.
  bool guard_domains = false;
  // No op with a kink or a jump (max, min, abs, sign, rounding, rem, compares and selects,
  // reduce_max/min, argmax/argmin, converts) and no stop_gradient: finite differences then
  // approximate the jvp.
  bool smooth = false;
  // Float values round-trip through a narrower float dtype. Off for the dot-product identity
  // in f64: the tangent and cotangent round there too, each in its own way.
  bool narrowing_converts = true;
  // Slices may come out empty (vmap must batch zero-size values too).
  bool empty_slices = false;
  int steps = 10;
  int64_t max_elements = 256;
};

class RandomGraph {
 public:
  RandomGraph(uint64_t seed, GraphOptions options) : rng_(seed), o_(options) {}

  ir::Function generate() {
    ir::Function f("random");
    const int64_t a = dim(), b = dim();
    pool_ = {f.add_param("x", {o_.dtype, {a, b}}), f.add_param("y", {o_.dtype, {a, b}}),
             f.add_param("w", {o_.dtype, {b}}), f.add_param("s", {o_.dtype, {}})};
    if (rng_() % 2) pool_.push_back(f.add_param("z", {o_.dtype, {b, a, dim()}}));
    // "idx" marks indices for vmap_test_util's random_args (mostly in range, some clamped).
    pool_.push_back(f.add_param("idx", {ir::DType::I32, {static_cast<int64_t>(1 + rng_() % 3)}}));
    if (o_.integers) pool_.push_back(f.add_param("k", {ir::DType::I32, {a, b}}));
    const size_t first_op_node = f.num_nodes();
    int added = 0;
    for (int tries = 0; added < o_.steps && tries < 50 * o_.steps; ++tries) {
      try {
        if (std::optional<ir::Value> v = step(f)) {
          pool_.push_back(*v);
          ++added;
        }
      } catch (const kiln::TypeError&) {
        // An op whose random attributes break its rule: try another.
      }
    }
    // The newest values nothing reads (at most three) are the results, so little is dead.
    std::vector<bool> read(f.num_nodes(), false);
    for (const ir::Node& n : f.nodes())
      for (ir::Value o : n.operands)
        read[o.id] = true;
    std::vector<ir::Value> results;
    for (size_t i = f.num_nodes(); i-- > first_op_node && results.size() < 3;)
      if (!read[i]) results.push_back(f.value_at(i));
    if (results.empty()) results.push_back(pool_.back());
    f.set_results(results);
    return f;
  }

 private:
  using Filter = std::function<bool(const ir::TensorType&)>;

  static bool is_float_type(const ir::TensorType& t) { return ir::is_float(t.dtype); }

  int64_t dim() { return std::vector<int64_t>{1, 2, 3, 4, 5}[pick(0, 5)]; }
  size_t pick(size_t lo, size_t hi) { return lo + rng_() % (hi - lo); }
  bool chance(int one_in) { return rng_() % one_in == 0; }

  // Adds an op after checking its type, refusing results past max_elements (as a TypeError,
  // so the step is retried) before they enter the graph.
  ir::Value add(ir::Function& f, ir::OpKind op, std::vector<ir::Value> operands,
                ir::Attrs attrs = {}, std::optional<ir::TensorType> declared = std::nullopt) {
    std::vector<ir::TensorType> types;
    for (ir::Value v : operands)
      types.push_back(f.type(v));
    const ir::TensorType t = ir::infer_type(op, types, attrs, declared);
    if (t.num_elements() > o_.max_elements) throw kiln::TypeError("too big for a test graph");
    return f.add(op, std::move(operands), std::move(attrs), std::move(declared));
  }

  // A pool value passing `keep`, mostly one of the newest, so the graph grows deep rather
  // than wide.
  std::optional<ir::Value> any(const ir::Function& f, const Filter& keep) {
    std::vector<ir::Value> candidates;
    for (ir::Value v : pool_)
      if (keep(f.type(v))) candidates.push_back(v);
    if (candidates.empty()) return std::nullopt;
    const size_t n = candidates.size();
    return !chance(4) && n > 3 ? candidates[pick(n - 3, n)] : candidates[pick(0, n)];
  }
  ir::Value any_float(const ir::Function& f) { return *any(f, is_float_type); }
  // A value of v's type, or v itself.
  ir::Value partner(const ir::Function& f, ir::Value v) {
    const ir::TensorType t = f.type(v);
    for (int i = 0; i < 8; ++i)
      if (std::optional<ir::Value> u = any(f, [&](const ir::TensorType& u) { return u == t; }))
        if (*u != v || chance(4)) return *u;
    return v;
  }

  ir::Value constant(ir::Function& f, ir::TensorType t, double value) {
    return ir::is_float(t.dtype) ? add(f, ir::OpKind::Constant, {}, ir::Attrs{{"value", value}}, t)
                                 : add(f, ir::OpKind::Constant, {},
                                       ir::Attrs{{"value", static_cast<int64_t>(value)}}, t);
  }
  // v*v + 0.5: positive and smooth.
  ir::Value positive(ir::Function& f, ir::Value v) {
    if (!o_.guard_domains) return v;
    return add(f, ir::OpKind::Add, {add(f, ir::OpKind::Mul, {v, v}), constant(f, f.type(v), 0.5)});
  }

  std::optional<ir::Value> step(ir::Function& f) {
    switch (rng_() % 16) {
      case 0:
      case 1:
        return unary(f);
      case 2:
      case 3:
        return binary(f);
      case 4:
        return reduce(f);
      case 5:
        return broadcast(f);
      case 6:
        return transpose_or_reshape(f);
      case 7:
        return slice(f);
      case 8:
        return pad_or_concatenate(f);
      case 9:
        return dot(f);
      case 10:
        return gather_or_scatter(f);
      case 11:
        return constant_or_iota(f);
      case 12:
        return o_.smooth ? unary(f) : select(f);
      case 13:
        return o_.smooth ? binary(f) : convert_or_arg(f);
      case 14:
        return o_.integers ? integer_op(f) : unary(f);
      default:
        if (o_.smooth) return unary(f);
        return add(f, ir::OpKind::StopGradient,
                   {*any(f, [](const ir::TensorType&) { return true; })});
    }
  }

  std::optional<ir::Value> unary(ir::Function& f) {
    using K = ir::OpKind;
    static const K smooth[] = {K::Neg,   K::Exp,   K::Sin,   K::Cos,    K::Tanh,   K::Logistic,
                               K::Erf,   K::Log,   K::Sqrt,  K::Rsqrt,  K::Log1p,  K::Expm1,
                               K::Tan,   K::Asin,  K::Acos,  K::Atan,   K::Sinh,   K::Cosh,
                               K::Asinh, K::Acosh, K::Atanh, K::ErfInv, K::Lgamma, K::Digamma};
    static const K rough[] = {K::Abs, K::Sign, K::Floor, K::Ceil, K::Round};
    const size_t n = std::size(smooth) + (o_.smooth ? 0 : std::size(rough));
    const size_t i = pick(0, n);
    const K op = i < std::size(smooth) ? smooth[i] : rough[i - std::size(smooth)];
    ir::Value v = any_float(f);
    if (op == K::Log || op == K::Sqrt || op == K::Rsqrt || op == K::Log1p || op == K::Lgamma ||
        op == K::Digamma)
      v = positive(f, v);
    // Inside (-0.9, 0.9): the domains of asin, acos, atanh and erf_inv, and tan far from its
    // poles.
    if ((op == K::Asin || op == K::Acos || op == K::Atanh || op == K::ErfInv || op == K::Tan) &&
        o_.guard_domains)
      v = add(f, K::Mul, {add(f, K::Tanh, {v}), constant(f, f.type(v), 0.9)});
    if (op == K::Acosh && o_.guard_domains)
      v = add(f, K::Add, {positive(f, v), constant(f, f.type(v), 1.0)});
    if ((op == K::Sinh || op == K::Cosh) && o_.guard_domains) v = add(f, K::Tanh, {v});
    // exp of a big value overflows; bound its argument when values must stay finite.
    if ((op == K::Exp || op == K::Expm1) && o_.guard_domains) v = add(f, K::Tanh, {v});
    return add(f, op, {v});
  }

  std::optional<ir::Value> binary(ir::Function& f) {
    using K = ir::OpKind;
    static const K smooth[] = {K::Add, K::Sub, K::Mul, K::Div, K::Pow, K::Atan2};
    static const K rough[] = {K::Max, K::Min, K::Rem};
    const size_t n = std::size(smooth) + (o_.smooth ? 0 : std::size(rough));
    const size_t i = pick(0, n);
    const K op = i < std::size(smooth) ? smooth[i] : rough[i - std::size(smooth)];
    ir::Value a = any_float(f);
    ir::Value b = partner(f, a);
    if (op == K::Div || op == K::Rem) b = positive(f, b);
    if (op == K::Pow) a = positive(f, a);
    if (op == K::Atan2) b = positive(f, b);  // away from the origin and the branch cut
    return add(f, op, {a, b});
  }

  std::optional<ir::Value> reduce(ir::Function& f) {
    using K = ir::OpKind;
    const ir::Value v = *any(f, [&](const ir::TensorType& t) {
      return t.rank() > 0 && (o_.integers || ir::is_float(t.dtype));
    });
    const int rank = f.type(v).rank();
    if (rank == 0) return std::nullopt;
    std::vector<int64_t> axes;
    for (int d = 0; d < rank; ++d)
      if (rng_() % 2) axes.push_back(d);
    if (axes.empty() && !chance(4)) axes.push_back(rank - 1);
    const K ops[] = {K::ReduceSum, K::ReduceProd, K::ReduceMax, K::ReduceMin};
    return add(f, ops[pick(0, o_.smooth ? 2 : 4)], {v}, ir::Attrs{{"axes", ir::int_list(axes)}});
  }

  // To the shape of another value, mapping dims where sizes agree.
  std::optional<ir::Value> broadcast(ir::Function& f) {
    const ir::Value v = *any(f, [](const ir::TensorType&) { return true; });
    const ir::Shape from = f.type(v).shape;
    const ir::Shape to = f.type(*any(f, [](const ir::TensorType&) { return true; })).shape;
    std::vector<int64_t> dims;
    size_t next = 0;
    for (int64_t d = 0; d < static_cast<int64_t>(to.size()) && next < from.size(); ++d)
      if (from[next] == to[d] || from[next] == 1) {
        dims.push_back(d);
        ++next;
      }
    if (next != from.size()) return std::nullopt;
    return add(f, ir::OpKind::Broadcast, {v},
               ir::Attrs{{"shape", ir::int_list(to)}, {"dims", ir::int_list(dims)}});
  }

  std::optional<ir::Value> transpose_or_reshape(ir::Function& f) {
    const ir::Value v = *any(f, [](const ir::TensorType&) { return true; });
    const ir::Shape shape = f.type(v).shape;
    if (rng_() % 2) {
      std::vector<int64_t> perm(shape.size());
      for (size_t d = 0; d < perm.size(); ++d)
        perm[d] = static_cast<int64_t>(d);
      std::shuffle(perm.begin(), perm.end(), rng_);
      return add(f, ir::OpKind::Transpose, {v}, ir::Attrs{{"perm", ir::int_list(perm)}});
    }
    // Split the elements into a random factorization, with unit dims sprinkled in.
    int64_t n = f.type(v).num_elements();
    std::vector<int64_t> to;
    for (int64_t p : {2, 3, 5})
      while (n > 1 && n % p == 0 && rng_() % 3) {
        to.push_back(p);
        n /= p;
      }
    if (n != 1 || to.empty()) to.push_back(n);
    if (chance(3)) to.insert(to.begin() + static_cast<long>(pick(0, to.size() + 1)), 1);
    std::shuffle(to.begin(), to.end(), rng_);
    if (to.size() > 4) return std::nullopt;
    return add(f, ir::OpKind::Reshape, {v}, ir::Attrs{{"shape", ir::int_list(to)}});
  }

  std::optional<ir::Value> slice(ir::Function& f) {
    const ir::Value v = *any(f, [](const ir::TensorType& t) { return t.rank() > 0; });
    std::vector<int64_t> start, limit, stride;
    for (int64_t n : f.type(v).shape) {
      const int64_t s = n > 1 ? static_cast<int64_t>(rng_() % 2) : 0;
      int64_t l = n > 2 && rng_() % 2 ? n - 1 : n;
      if (o_.empty_slices && chance(12)) l = s;
      start.push_back(s);
      limit.push_back(l);
      stride.push_back(1 + static_cast<int64_t>(rng_() % 2));
    }
    return add(f, ir::OpKind::Slice, {v},
               ir::Attrs{{"start", ir::int_list(start)},
                         {"limit", ir::int_list(limit)},
                         {"stride", ir::int_list(stride)}});
  }

  std::optional<ir::Value> pad_or_concatenate(ir::Function& f) {
    const ir::Value v = *any(f, [&](const ir::TensorType& t) {
      return t.rank() > 0 && (o_.integers || ir::is_float(t.dtype));
    });
    const int rank = f.type(v).rank();
    if (rank == 0) return std::nullopt;
    if (rng_() % 2) {
      const int64_t axis = static_cast<int64_t>(pick(0, static_cast<size_t>(rank)));
      const ir::TensorType t = f.type(v);
      // Another value that agrees off the axis, else v itself.
      std::optional<ir::Value> u = any(f, [&](const ir::TensorType& u) {
        if (u.dtype != t.dtype || u.rank() != t.rank()) return false;
        for (int d = 0; d < rank; ++d)
          if (d != axis && u.shape[d] != t.shape[d]) return false;
        return true;
      });
      std::vector<ir::Value> parts = {v, u.value_or(v)};
      if (chance(3)) parts.push_back(v);
      return add(f, ir::OpKind::Concatenate, parts, ir::Attrs{{"axis", axis}});
    }
    std::vector<int64_t> low, high, interior;
    for (int d = 0; d < rank; ++d) {
      low.push_back(static_cast<int64_t>(rng_() % 2));
      high.push_back(static_cast<int64_t>(rng_() % 2));
      interior.push_back(static_cast<int64_t>(rng_() % 2));
    }
    const ir::TensorType scalar{f.type(v).dtype, {}};
    std::optional<ir::Value> pad_value =
        any(f, [&](const ir::TensorType& t) { return t == scalar; });
    const ir::Value value = pad_value && rng_() % 2 ? *pad_value : constant(f, scalar, -0.75);
    return add(f, ir::OpKind::Pad, {v, value},
               ir::Attrs{{"low", ir::int_list(low)},
                         {"high", ir::int_list(high)},
                         {"interior", ir::int_list(interior)}});
  }

  // Contracts one pair of equal-sized dims, and sometimes batches over another pair.
  std::optional<ir::Value> dot(ir::Function& f) {
    const ir::Value a = *any(f, [&](const ir::TensorType& t) {
      return t.rank() > 0 && (o_.integers || ir::is_float(t.dtype));
    });
    const ir::TensorType ta = f.type(a);
    const ir::Value b =
        *any(f, [&](const ir::TensorType& t) { return t.rank() > 0 && t.dtype == ta.dtype; });
    const ir::TensorType tb = f.type(b);
    std::vector<std::pair<int64_t, int64_t>> pairs;
    for (int i = 0; i < ta.rank(); ++i)
      for (int j = 0; j < tb.rank(); ++j)
        if (ta.shape[i] == tb.shape[j]) pairs.emplace_back(i, j);
    if (pairs.empty()) return std::nullopt;
    std::shuffle(pairs.begin(), pairs.end(), rng_);
    ir::Attrs attrs{{"lhs_contract", ir::int_list({pairs[0].first})},
                    {"rhs_contract", ir::int_list({pairs[0].second})}};
    for (size_t k = 1; k < pairs.size(); ++k)
      if (pairs[k].first != pairs[0].first && pairs[k].second != pairs[0].second && rng_() % 2) {
        attrs.set("lhs_batch", ir::int_list({pairs[k].first}));
        attrs.set("rhs_batch", ir::int_list({pairs[k].second}));
        break;
      }
    return add(f, ir::OpKind::DotGeneral, {a, b}, attrs);
  }

  std::optional<ir::Value> gather_or_scatter(ir::Function& f) {
    const ir::Value v = *any(f, [&](const ir::TensorType& t) {
      return t.rank() > 0 && (o_.integers || ir::is_float(t.dtype));
    });
    const ir::Value idx =
        *any(f, [](const ir::TensorType& t) { return ir::is_integer(t.dtype) && t.rank() <= 2; });
    const int64_t axis = static_cast<int64_t>(pick(0, static_cast<size_t>(f.type(v).rank())));
    const ir::Attrs attrs{{"axis", axis}};
    if (chance(3)) return along_axis(f, v, axis);
    if (chance(3)) {
      // A scan along the axis (the smooth ones where derivatives are checked).
      using K = ir::OpKind;
      const K smooth[] = {K::CumSum, K::CumProd, K::CumLogSumExp};
      const K all[] = {K::CumSum, K::CumProd, K::CumLogSumExp, K::CumMax, K::CumMin};
      const K op = o_.smooth ? smooth[pick(0, 3)] : all[pick(0, 5)];
      return add(f, op, {v}, ir::Attrs{{"axis", axis}, {"reverse", rng_() % 2 == 0}});
    }
    if (rng_() % 2) return add(f, ir::OpKind::Take, {v, idx}, attrs);
    ir::Value updates = add(f, ir::OpKind::Take, {partner(f, v), idx}, attrs);
    if (ir::is_float(f.type(updates).dtype) && rng_() % 2)
      updates = add(f, ir::OpKind::Sin, {updates});
    return add(f, ir::OpKind::ScatterAdd, {v, idx, updates}, attrs);
  }

  // take_along_axis or scatter_along_axis on v, with indices (i * k) % n along the axis: a
  // permutation for odd k, duplicates for even k; constant, so the transforms' checks stay
  // smooth.
  std::optional<ir::Value> along_axis(ir::Function& f, ir::Value v, int64_t axis) {
    const ir::TensorType t = f.type(v);
    const ir::TensorType it{ir::DType::I32, t.shape};
    const ir::Value iota = add(f, ir::OpKind::Iota, {}, ir::Attrs{{"axis", axis}}, it);
    const int64_t k = static_cast<int64_t>(pick(1, 4)), n = t.shape[static_cast<size_t>(axis)];
    const ir::Value idx =
        add(f, ir::OpKind::Rem,
            {add(f, ir::OpKind::Mul, {iota, constant(f, it, static_cast<double>(k))}),
             constant(f, it, static_cast<double>(n))});
    if (rng_() % 2) return add(f, ir::OpKind::TakeAlongAxis, {v, idx}, ir::Attrs{{"axis", axis}});
    const char* smooth_modes[] = {"add", "set", "mul"};
    const char* modes[] = {"add", "set", "mul", "max", "min"};
    std::string mode = o_.smooth ? smooth_modes[pick(0, 3)] : modes[pick(0, 5)];
    if (t.dtype == ir::DType::Bool && (mode == "add" || mode == "mul")) mode = "set";
    return add(f, ir::OpKind::ScatterAlongAxis, {v, idx, partner(f, v)},
               ir::Attrs{{"axis", axis}, {"mode", mode}});
  }

  std::optional<ir::Value> constant_or_iota(ir::Function& f) {
    const ir::Value v = any_float(f);
    const ir::TensorType t = f.type(v);
    ir::Value c;
    if (t.rank() > 0 && rng_() % 2) {
      const int64_t axis = static_cast<int64_t>(pick(0, static_cast<size_t>(t.rank())));
      c = add(f, ir::OpKind::Iota, {}, ir::Attrs{{"axis", axis}}, t);
    } else {
      const double values[] = {0.5, -1.25, 2.0, 0.0, -0.0};
      c = constant(f, t, values[pick(0, std::size(values))]);
    }
    const ir::OpKind ops[] = {ir::OpKind::Add, ir::OpKind::Mul, ir::OpKind::Sub};
    return rng_() % 2 ? add(f, ops[pick(0, 3)], {v, c}) : add(f, ops[pick(0, 3)], {c, v});
  }

  std::optional<ir::Value> select(ir::Function& f) {
    using K = ir::OpKind;
    const ir::Value a =
        *any(f, [&](const ir::TensorType& t) { return o_.integers || ir::is_float(t.dtype); });
    const ir::Value b = partner(f, a);
    const K compares[] = {K::Eq, K::Ne, K::Lt, K::Le, K::Gt, K::Ge};
    const ir::Value p = ir::is_float(f.type(a).dtype) && chance(6)
                            ? add(f, K::IsFinite, {a})
                            : add(f, compares[pick(0, 6)], {a, b});
    if (o_.integers && chance(3)) return p;  // a bool value for the integer ops
    const ir::Value c = partner(f, a), d = partner(f, a);
    return add(f, K::Select, {p, c, d});
  }

  // Converts through another dtype and back, or out to integers (argmax/argmin too), which
  // later steps use as indices or convert back.
  std::optional<ir::Value> convert_or_arg(ir::Function& f) {
    using K = ir::OpKind;
    const ir::Value v = any_float(f);
    const ir::TensorType t = f.type(v);
    switch (rng_() % 4) {
      case 0: {
        if (!o_.narrowing_converts) return std::nullopt;
        const ir::DType other = t.dtype == ir::DType::F32 ? ir::DType::F16 : ir::DType::F32;
        const ir::Value narrow = add(f, K::Convert, {v}, {}, ir::TensorType{other, t.shape});
        return add(f, K::Convert, {narrow}, {}, t);
      }
      case 1: {
        const ir::Value i = add(f, K::Convert, {v}, {}, ir::TensorType{ir::DType::I32, t.shape});
        return o_.integers || rng_() % 2 ? i : add(f, K::Convert, {i}, {}, t);
      }
      default: {
        if (t.rank() == 0) return std::nullopt;
        const int64_t axis = static_cast<int64_t>(pick(0, static_cast<size_t>(t.rank())));
        return add(f, rng_() % 2 ? K::Argmax : K::Argmin, {v}, ir::Attrs{{"axis", axis}});
      }
    }
  }

  std::optional<ir::Value> integer_op(ir::Function& f) {
    using K = ir::OpKind;
    static const K unary_ops[] = {K::Neg, K::Abs, K::Sign, K::Not, K::Popcount, K::Clz};
    static const K binary_ops[] = {K::Add,
                                   K::Sub,
                                   K::Mul,
                                   K::Div,
                                   K::Rem,
                                   K::Pow,
                                   K::Max,
                                   K::Min,
                                   K::And,
                                   K::Or,
                                   K::Xor,
                                   K::ShiftLeft,
                                   K::ShiftRightLogical,
                                   K::ShiftRightArithmetic};
    const std::optional<ir::Value> v = any(f, [](const ir::TensorType& t) {
      return ir::is_integer(t.dtype) || t.dtype == ir::DType::Bool;
    });
    if (!v) return std::nullopt;
    if (chance(3)) return add(f, unary_ops[pick(0, std::size(unary_ops))], {*v});
    if (chance(8)) {
      // Counter-based bits of a value's shape under a constant key.
      const ir::Attrs key_value{{"value", ir::AttrList{static_cast<int64_t>(rng_() >> 32),
                                                       static_cast<int64_t>(rng_() >> 32)}}};
      const ir::Value key = add(f, K::Constant, {}, key_value, ir::TensorType{ir::DType::U32, {2}});
      return add(f, K::RngBits, {key}, ir::Attrs{{"shape", ir::int_list(f.type(*v).shape)}});
    }
    if (chance(8)) {
      // The same bits under the other signedness (i8 <-> u8, i32 <-> u32).
      const ir::TensorType t = f.type(*v);
      const ir::DType other = t.dtype == ir::DType::I8    ? ir::DType::U8
                              : t.dtype == ir::DType::U8  ? ir::DType::I8
                              : t.dtype == ir::DType::I32 ? ir::DType::U32
                              : t.dtype == ir::DType::U32 ? ir::DType::I32
                                                          : t.dtype;
      if (other == t.dtype) return std::nullopt;
      return add(f, K::BitcastConvert, {*v}, {}, ir::TensorType{other, t.shape});
    }
    if (chance(4)) {
      const ir::TensorType t = f.type(*v);
      return add(f, K::Convert, {*v}, {}, ir::TensorType{o_.dtype, t.shape});
    }
    return add(f, binary_ops[pick(0, std::size(binary_ops))], {*v, partner(f, *v)});
  }

  std::mt19937_64 rng_;
  GraphOptions o_;
  std::vector<ir::Value> pool_;
};

}  // namespace kiln::passes::testing
