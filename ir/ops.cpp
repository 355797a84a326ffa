#include "ir/ops.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <string>

#include "ir/error.h"

namespace kiln::ir {

namespace {

std::vector<OpInfo> build_table() {
  using K = OpKind;
  using C = OpClass;
  const AttrSpec axis{"axis", AttrKind::Int, true};
  const AttrSpec axes{"axes", AttrKind::IntList, true};
  std::vector<OpInfo> t(kNumOpKinds);
  auto row = [&](K k, std::string_view name, C c, int lo, int hi, std::vector<AttrSpec> attrs = {},
                 bool declares = false) {
    t[static_cast<int>(k)] = OpInfo{k, name, c, lo, hi, std::move(attrs), declares};
  };
  row(K::Parameter, "parameter", C::Parameter, 0, 0);
  const std::pair<K, std::string_view> unary[] = {
      {K::Neg, "neg"},           {K::Abs, "abs"},     {K::Sign, "sign"},   {K::Exp, "exp"},
      {K::Log, "log"},           {K::Log1p, "log1p"}, {K::Expm1, "expm1"}, {K::Sqrt, "sqrt"},
      {K::Rsqrt, "rsqrt"},       {K::Sin, "sin"},     {K::Cos, "cos"},     {K::Tanh, "tanh"},
      {K::Logistic, "logistic"}, {K::Erf, "erf"},     {K::Floor, "floor"}, {K::Ceil, "ceil"},
      {K::Round, "round"},       {K::Not, "not"}};
  for (auto [k, name] : unary)
    row(k, name, C::Unary, 1, 1);
  const std::pair<K, std::string_view> binary[] = {
      {K::Add, "add"}, {K::Sub, "sub"}, {K::Mul, "mul"}, {K::Div, "div"},
      {K::Rem, "rem"}, {K::Pow, "pow"}, {K::Max, "max"}, {K::Min, "min"},
      {K::And, "and"}, {K::Or, "or"},   {K::Xor, "xor"}};
  for (auto [k, name] : binary)
    row(k, name, C::Binary, 2, 2);
  const std::pair<K, std::string_view> compare[] = {{K::Eq, "eq"}, {K::Ne, "ne"}, {K::Lt, "lt"},
                                                    {K::Le, "le"}, {K::Gt, "gt"}, {K::Ge, "ge"}};
  for (auto [k, name] : compare)
    row(k, name, C::Compare, 2, 2);
  row(K::Select, "select", C::Other, 3, 3);
  row(K::Convert, "convert", C::Other, 1, 1, {}, true);
  row(K::Constant, "constant", C::Other, 0, 0, {{"value", AttrKind::Value, true}}, true);
  row(K::Iota, "iota", C::Other, 0, 0, {axis}, true);
  row(K::Broadcast, "broadcast", C::Other, 1, 1,
      {{"shape", AttrKind::IntList, true}, {"dims", AttrKind::IntList, true}});
  row(K::Reshape, "reshape", C::Other, 1, 1, {{"shape", AttrKind::IntList, true}});
  row(K::Transpose, "transpose", C::Other, 1, 1, {{"perm", AttrKind::IntList, true}});
  row(K::Slice, "slice", C::Other, 1, 1,
      {{"start", AttrKind::IntList, true},
       {"limit", AttrKind::IntList, true},
       {"stride", AttrKind::IntList, false}});
  row(K::Pad, "pad", C::Other, 2, 2,
      {{"low", AttrKind::IntList, true},
       {"high", AttrKind::IntList, true},
       {"interior", AttrKind::IntList, false}});
  row(K::Concatenate, "concatenate", C::Other, 1, -1, {axis});
  row(K::ReduceSum, "reduce_sum", C::Other, 1, 1, {axes});
  row(K::ReduceMax, "reduce_max", C::Other, 1, 1, {axes});
  row(K::ReduceMin, "reduce_min", C::Other, 1, 1, {axes});
  row(K::ReduceProd, "reduce_prod", C::Other, 1, 1, {axes});
  row(K::Argmax, "argmax", C::Other, 1, 1, {axis});
  row(K::Argmin, "argmin", C::Other, 1, 1, {axis});
  row(K::DotGeneral, "dot_general", C::Other, 2, 2,
      {{"lhs_batch", AttrKind::IntList, false},
       {"rhs_batch", AttrKind::IntList, false},
       {"lhs_contract", AttrKind::IntList, true},
       {"rhs_contract", AttrKind::IntList, true}});
  row(K::Take, "take", C::Other, 2, 2, {axis});
  row(K::ScatterAdd, "scatter_add", C::Other, 3, 3, {axis});
  row(K::StopGradient, "stop_gradient", C::Other, 1, 1);
  // A call's result type is the callee's, which only the module knows: it is written out, and
  // verify(Module) checks it against the callee.
  row(K::Call, "call", C::Other, 0, -1,
      {{"callee", AttrKind::String, true},
       {"result", AttrKind::Int, false},
       {"vjp", AttrKind::String, false},
       {"checkpoint", AttrKind::Int, false}},
      true);
  for (int i = 0; i < kNumOpKinds; ++i)
    assert(t[i].kind == static_cast<K>(i) && !t[i].name.empty());
  return t;
}

const std::vector<OpInfo>& table() {
  static const std::vector<OpInfo> t = build_table();
  return t;
}

[[noreturn]] void fail(std::string message) {
  throw TypeError(std::move(message));
}

std::string types_str(std::span<const TensorType> types) {
  std::string s;
  for (size_t i = 0; i < types.size(); ++i) {
    if (i) s += (i + 1 == types.size()) ? " and " : ", ";
    s += types[i].str();
  }
  return s;
}

std::string ints_str(const std::vector<int64_t>& v) {
  return shape_str(v);
}

// Checks the attribute dictionary against the op's schema: no unknown names, required ones
// present, each of the declared kind.
void check_attr_schema(const OpInfo& info, const Attrs& attrs) {
  for (const auto& [name, value] : attrs) {
    auto spec = std::find_if(info.attrs.begin(), info.attrs.end(),
                             [&](const AttrSpec& s) { return s.name == name; });
    if (spec == info.attrs.end()) fail(std::string(info.name) + " has no attribute '" + name + "'");
    switch (spec->kind) {
      case AttrKind::Int:
        if (!value.is_int())
          fail("attribute '" + name + "' of " + std::string(info.name) + " must be an integer");
        break;
      case AttrKind::IntList:
        if (!value.as_int_list())
          fail("attribute '" + name + "' of " + std::string(info.name) +
               " must be a list of integers");
        break;
      case AttrKind::Value:
        break;
      case AttrKind::String:
        if (!value.is_string())
          fail("attribute '" + name + "' of " + std::string(info.name) + " must be a string");
        break;
    }
  }
  for (const AttrSpec& spec : info.attrs)
    if (spec.required && !attrs.has(std::string(spec.name)))
      fail(std::string(info.name) + " needs attribute '" + std::string(spec.name) + "'");
}

std::vector<int64_t> ints_or(const Attrs& attrs, const std::string& name,
                             std::vector<int64_t> fallback) {
  const Attr* a = attrs.find(name);
  return a ? *a->as_int_list() : fallback;
}

void check_axis(std::string_view op, int64_t axis, int rank, std::string_view what = "axis") {
  if (axis < 0 || axis >= rank)
    fail(std::string(op) + " " + std::string(what) + " " + std::to_string(axis) +
         " is out of range for rank " + std::to_string(rank));
}

void check_distinct_axes(std::string_view op, const std::vector<int64_t>& axes, int rank,
                         std::string_view what) {
  std::vector<bool> seen(rank, false);
  for (int64_t a : axes) {
    check_axis(op, a, rank, what);
    if (seen[a])
      fail(std::string(op) + " " + std::string(what) + " lists axis " + std::to_string(a) +
           " twice");
    seen[a] = true;
  }
}

void check_shape(std::string_view op, const Shape& shape) {
  for (int64_t d : shape)
    if (d < 0) fail(std::string(op) + " shape " + shape_str(shape) + " has a negative dimension");
  // Rules and passes multiply dimensions; a count past int64 would silently wrap there.
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return;
  int64_t count = 1;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(count, d, &count))
      fail(std::string(op) + " shape " + shape_str(shape) + " has too many elements to count");
}

void check_rank_list(std::string_view op, std::string_view name, const std::vector<int64_t>& v,
                     int rank) {
  if (static_cast<int>(v.size()) != rank)
    fail(std::string(op) + " attribute '" + std::string(name) + "' needs " + std::to_string(rank) +
         " entries (the operand's rank), got " + std::to_string(v.size()));
}

enum class DTypeRule { Any, Numeric, Float, BoolOrInt, NumericOrBool };

bool accepts(DTypeRule rule, DType d) {
  switch (rule) {
    case DTypeRule::Any:
      return true;
    case DTypeRule::Numeric:
      return is_integer(d) || is_float(d);
    case DTypeRule::Float:
      return is_float(d);
    case DTypeRule::BoolOrInt:
      return d == DType::Bool || is_integer(d);
    case DTypeRule::NumericOrBool:
      return true;
  }
  return false;
}

std::string_view rule_text(DTypeRule rule) {
  switch (rule) {
    case DTypeRule::Any:
    case DTypeRule::NumericOrBool:
      return "any dtype";
    case DTypeRule::Numeric:
      return "an integer or float dtype";
    case DTypeRule::Float:
      return "a float dtype";
    case DTypeRule::BoolOrInt:
      return "a bool or integer dtype";
  }
  return "";
}

void check_dtype(std::string_view op, DTypeRule rule, DType d) {
  if (!accepts(rule, d))
    fail(std::string(op) + " expects " + std::string(rule_text(rule)) + ", got " +
         std::string(dtype_name(d)));
}

DTypeRule elementwise_rule(OpKind k) {
  switch (k) {
    case OpKind::Neg:
    case OpKind::Abs:
    case OpKind::Sign:
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
    case OpKind::Rem:
    case OpKind::Pow:
      return DTypeRule::Numeric;
    case OpKind::Not:
    case OpKind::And:
    case OpKind::Or:
    case OpKind::Xor:
      return DTypeRule::BoolOrInt;
    case OpKind::Max:
    case OpKind::Min:
      return DTypeRule::NumericOrBool;
    case OpKind::Eq:
    case OpKind::Ne:
    case OpKind::Lt:
    case OpKind::Le:
    case OpKind::Gt:
    case OpKind::Ge:
      return DTypeRule::Any;
    default:
      return DTypeRule::Float;  // the transcendental and rounding unary ops
  }
}

// Checks that a constant's value is a scalar or a nested list matching `shape`, with element
// kinds that fit `dtype`.
void check_constant_value(const Attr& value, DType dtype, const Shape& shape, size_t depth) {
  if (!value.is_list()) {
    if (value.is_bool()) {
      if (dtype != DType::Bool)
        fail("constant value " + attr_str(value) + " is a bool but the type is " +
             std::string(dtype_name(dtype)));
    } else if (value.is_int()) {
      if (dtype == DType::Bool)
        fail("constant of type bool needs true or false, got " + attr_str(value));
      if (is_integer(dtype)) {
        int64_t v = value.as_int();
        int64_t lo = 0, hi = 0;
        switch (dtype) {
          case DType::I8:
            lo = -128, hi = 127;
            break;
          case DType::I16:
            lo = -32768, hi = 32767;
            break;
          case DType::I32:
            lo = INT32_MIN, hi = INT32_MAX;
            break;
          case DType::I64:
            lo = INT64_MIN, hi = INT64_MAX;
            break;
          case DType::U8:
            lo = 0, hi = 255;
            break;
          case DType::U32:
            lo = 0, hi = UINT32_MAX;
            break;
          default:
            break;
        }
        if (v < lo || v > hi)
          fail("constant value " + std::to_string(v) + " does not fit " +
               std::string(dtype_name(dtype)));
      }
    } else if (value.is_float()) {
      if (!is_float(dtype))
        fail("constant value " + attr_str(value) + " is a float but the type is " +
             std::string(dtype_name(dtype)));
    } else {
      fail("constant value must be a number, a bool or a list, got " + attr_str(value));
    }
    return;
  }
  // A list: must match the shape at this depth exactly.
  if (depth >= shape.size())
    fail("constant value has more nesting than its type's rank " + std::to_string(shape.size()));
  const AttrList& list = value.as_list();
  if (static_cast<int64_t>(list.size()) != shape[depth])
    fail("constant value has " + std::to_string(list.size()) + " entries at depth " +
         std::to_string(depth) + " but the type " + TensorType{dtype, shape}.str() + " needs " +
         std::to_string(shape[depth]));
  for (const Attr& element : list) {
    if (depth + 1 < shape.size() && !element.is_list())
      fail("constant value is not nested deeply enough for the type " +
           TensorType{dtype, shape}.str());
    check_constant_value(element, dtype, shape, depth + 1);
  }
}

TensorType infer_elementwise(const OpInfo& info, std::span<const TensorType> in) {
  for (size_t i = 1; i < in.size(); ++i)
    if (in[i] != in[0])
      fail(std::string(info.name) + " expects operands of one shape and dtype, got " +
           types_str(in));
  check_dtype(info.name, elementwise_rule(info.kind), in[0].dtype);
  if (info.op_class == OpClass::Compare) return {DType::Bool, in[0].shape};
  return in[0];
}

TensorType infer_dot_general(std::span<const TensorType> in, const Attrs& attrs) {
  const TensorType& lhs = in[0];
  const TensorType& rhs = in[1];
  if (lhs.dtype != rhs.dtype)
    fail("dot_general expects operands of one dtype, got " + types_str(in));
  check_dtype("dot_general", DTypeRule::Numeric, lhs.dtype);
  auto lb = ints_or(attrs, "lhs_batch", {}), rb = ints_or(attrs, "rhs_batch", {});
  auto lc = attrs.get_ints("lhs_contract"), rc = attrs.get_ints("rhs_contract");
  if (lb.size() != rb.size())
    fail("dot_general lhs_batch and rhs_batch differ in length: " + ints_str(lb) + " and " +
         ints_str(rb));
  if (lc.size() != rc.size())
    fail("dot_general lhs_contract and rhs_contract differ in length: " + ints_str(lc) + " and " +
         ints_str(rc));
  std::vector<int64_t> lhs_used = lb, rhs_used = rb;
  lhs_used.insert(lhs_used.end(), lc.begin(), lc.end());
  rhs_used.insert(rhs_used.end(), rc.begin(), rc.end());
  check_distinct_axes("dot_general", lhs_used, lhs.rank(), "lhs dimension");
  check_distinct_axes("dot_general", rhs_used, rhs.rank(), "rhs dimension");
  for (size_t i = 0; i < lb.size(); ++i)
    if (lhs.shape[lb[i]] != rhs.shape[rb[i]])
      fail("dot_general batch dimensions differ in size: lhs dimension " + std::to_string(lb[i]) +
           " of " + lhs.str() + " and rhs dimension " + std::to_string(rb[i]) + " of " + rhs.str());
  for (size_t i = 0; i < lc.size(); ++i)
    if (lhs.shape[lc[i]] != rhs.shape[rc[i]])
      fail("dot_general contracting dimensions differ in size: lhs dimension " +
           std::to_string(lc[i]) + " of " + lhs.str() + " and rhs dimension " +
           std::to_string(rc[i]) + " of " + rhs.str());
  Shape out;
  for (int64_t d : lb)
    out.push_back(lhs.shape[d]);
  for (int i = 0; i < lhs.rank(); ++i)
    if (std::find(lhs_used.begin(), lhs_used.end(), i) == lhs_used.end())
      out.push_back(lhs.shape[i]);
  for (int i = 0; i < rhs.rank(); ++i)
    if (std::find(rhs_used.begin(), rhs_used.end(), i) == rhs_used.end())
      out.push_back(rhs.shape[i]);
  return {lhs.dtype, out};
}

TensorType infer_other(const OpInfo& info, std::span<const TensorType> in, const Attrs& attrs,
                       const std::optional<TensorType>& declared) {
  const std::string op(info.name);
  switch (info.kind) {
    case OpKind::Select: {
      if (in[0].dtype != DType::Bool) fail("select expects a bool predicate, got " + in[0].str());
      if (in[1] != in[2] || in[0].shape != in[1].shape)
        fail(
            "select expects a predicate and two operands of one shape (and the operands of one "
            "dtype), got " +
            types_str(in));
      return in[1];
    }
    case OpKind::Convert: {
      if (declared->shape != in[0].shape)
        fail("convert keeps the shape: " + in[0].str() + " cannot become " + declared->str());
      return *declared;
    }
    case OpKind::Constant: {
      check_shape(op, declared->shape);
      check_constant_value(attrs.get("value"), declared->dtype, declared->shape, 0);
      return *declared;
    }
    case OpKind::Iota: {
      check_shape(op, declared->shape);
      check_dtype(op, DTypeRule::Numeric, declared->dtype);
      check_axis(op, attrs.get_int("axis"), declared->rank());
      return *declared;
    }
    case OpKind::Broadcast: {
      auto shape = attrs.get_ints("shape");
      auto dims = attrs.get_ints("dims");
      check_shape(op, shape);
      check_rank_list(op, "dims", dims, in[0].rank());
      for (size_t i = 0; i < dims.size(); ++i) {
        check_axis(op, dims[i], static_cast<int>(shape.size()), "dims entry");
        if (i && dims[i] <= dims[i - 1])
          fail("broadcast dims must increase, got " + ints_str(dims));
        int64_t from = in[0].shape[i], to = shape[dims[i]];
        if (from != 1 && from != to)
          fail("broadcast cannot stretch operand dimension " + std::to_string(i) + " of size " +
               std::to_string(from) + " to size " + std::to_string(to) + " (result dimension " +
               std::to_string(dims[i]) + ")");
      }
      return {in[0].dtype, shape};
    }
    case OpKind::Reshape: {
      auto shape = attrs.get_ints("shape");
      check_shape(op, shape);
      TensorType out{in[0].dtype, shape};
      if (out.num_elements() != in[0].num_elements())
        fail("reshape cannot change the element count: " + in[0].str() + " has " +
             std::to_string(in[0].num_elements()) + ", shape " + shape_str(shape) + " has " +
             std::to_string(out.num_elements()));
      return out;
    }
    case OpKind::Transpose: {
      auto perm = attrs.get_ints("perm");
      check_rank_list(op, "perm", perm, in[0].rank());
      check_distinct_axes(op, perm, in[0].rank(), "perm entry");
      Shape out;
      for (int64_t p : perm)
        out.push_back(in[0].shape[p]);
      return {in[0].dtype, out};
    }
    case OpKind::Slice: {
      auto start = attrs.get_ints("start"), limit = attrs.get_ints("limit");
      auto stride = ints_or(attrs, "stride", std::vector<int64_t>(in[0].rank(), 1));
      check_rank_list(op, "start", start, in[0].rank());
      check_rank_list(op, "limit", limit, in[0].rank());
      check_rank_list(op, "stride", stride, in[0].rank());
      Shape out;
      for (int i = 0; i < in[0].rank(); ++i) {
        if (start[i] < 0 || start[i] > limit[i] || limit[i] > in[0].shape[i])
          fail("slice needs 0 <= start <= limit <= size in every dimension; dimension " +
               std::to_string(i) + " has start " + std::to_string(start[i]) + ", limit " +
               std::to_string(limit[i]) + ", size " + std::to_string(in[0].shape[i]));
        if (stride[i] < 1) fail("slice strides must be positive, got " + ints_str(stride));
        // ceil((limit - start) / stride), written so that a huge stride cannot overflow.
        out.push_back(limit[i] == start[i] ? 0 : (limit[i] - start[i] - 1) / stride[i] + 1);
      }
      return {in[0].dtype, out};
    }
    case OpKind::Pad: {
      if (in[1].rank() != 0 || in[1].dtype != in[0].dtype)
        fail("pad expects a scalar padding value of the operand's dtype, got " + types_str(in));
      auto low = attrs.get_ints("low"), high = attrs.get_ints("high");
      auto interior = ints_or(attrs, "interior", std::vector<int64_t>(in[0].rank(), 0));
      check_rank_list(op, "low", low, in[0].rank());
      check_rank_list(op, "high", high, in[0].rank());
      check_rank_list(op, "interior", interior, in[0].rank());
      Shape out;
      for (int i = 0; i < in[0].rank(); ++i) {
        if (low[i] < 0 || high[i] < 0 || interior[i] < 0)
          fail("pad amounts must be non-negative, got low " + ints_str(low) + ", high " +
               ints_str(high) + ", interior " + ints_str(interior));
        int64_t d = in[0].shape[i], size = 0;
        if (__builtin_mul_overflow(d > 0 ? d - 1 : 0, interior[i], &size) ||
            __builtin_add_overflow(size, d, &size) || __builtin_add_overflow(size, low[i], &size) ||
            __builtin_add_overflow(size, high[i], &size))
          fail("pad result dimension " + std::to_string(i) + " is too large to count");
        out.push_back(size);
      }
      return {in[0].dtype, out};
    }
    case OpKind::Concatenate: {
      int64_t axis = attrs.get_int("axis");
      check_axis(op, axis, in[0].rank());
      Shape out = in[0].shape;
      for (size_t i = 1; i < in.size(); ++i) {
        bool same = in[i].dtype == in[0].dtype && in[i].rank() == in[0].rank();
        for (int d = 0; same && d < in[0].rank(); ++d)
          same = d == axis || in[i].shape[d] == in[0].shape[d];
        if (!same)
          fail("concatenate expects operands of one dtype and rank that agree off axis " +
               std::to_string(axis) + ", got " + types_str(in));
        if (__builtin_add_overflow(out[axis], in[i].shape[axis], &out[axis]))
          fail("concatenate result dimension " + std::to_string(axis) + " is too large to count");
      }
      return {in[0].dtype, out};
    }
    case OpKind::ReduceSum:
    case OpKind::ReduceProd:
    case OpKind::ReduceMax:
    case OpKind::ReduceMin: {
      bool arithmetic = info.kind == OpKind::ReduceSum || info.kind == OpKind::ReduceProd;
      check_dtype(op, arithmetic ? DTypeRule::Numeric : DTypeRule::NumericOrBool, in[0].dtype);
      auto axes = attrs.get_ints("axes");
      check_distinct_axes(op, axes, in[0].rank(), "axis");
      Shape out;
      for (int i = 0; i < in[0].rank(); ++i)
        if (std::find(axes.begin(), axes.end(), i) == axes.end()) out.push_back(in[0].shape[i]);
      return {in[0].dtype, out};
    }
    case OpKind::Argmax:
    case OpKind::Argmin: {
      int64_t axis = attrs.get_int("axis");
      check_axis(op, axis, in[0].rank());
      if (in[0].shape[axis] == 0) fail(op + " needs a non-empty axis, got " + in[0].str());
      Shape out = in[0].shape;
      out.erase(out.begin() + axis);
      return {DType::I32, out};
    }
    case OpKind::DotGeneral:
      return infer_dot_general(in, attrs);
    case OpKind::Take:
    case OpKind::ScatterAdd: {
      int64_t axis = attrs.get_int("axis");
      check_axis(op, axis, in[0].rank());
      if (!is_integer(in[1].dtype)) fail(op + " expects integer indices, got " + in[1].str());
      if (in[0].shape[axis] == 0) fail(op + " needs a non-empty axis, got " + in[0].str());
      Shape out(in[0].shape.begin(), in[0].shape.begin() + axis);
      out.insert(out.end(), in[1].shape.begin(), in[1].shape.end());
      out.insert(out.end(), in[0].shape.begin() + axis + 1, in[0].shape.end());
      TensorType gathered{in[0].dtype, out};
      if (info.kind == OpKind::Take) return gathered;
      check_dtype(op, DTypeRule::Numeric, in[0].dtype);
      if (in[2] != gathered)
        fail("scatter_add expects updates of type " + gathered.str() + " (operand " + in[0].str() +
             " with indices " + in[1].str() + " on axis " + std::to_string(axis) + "), got " +
             in[2].str());
      return in[0];
    }
    case OpKind::StopGradient:
      return in[0];
    case OpKind::Call: {
      check_shape(op, declared->shape);
      if (attrs.get("callee").as_string().empty()) fail("call needs a callee name");
      const Attr* result = attrs.find("result");
      if (result && result->as_int() < 0)
        fail("call result index " + std::to_string(result->as_int()) + " is negative");
      const Attr* checkpoint = attrs.find("checkpoint");
      if (checkpoint && checkpoint->as_int() != 0 && checkpoint->as_int() != 1)
        fail("call attribute 'checkpoint' must be 0 or 1, got " +
             std::to_string(checkpoint->as_int()));
      return *declared;
    }
    default:
      break;
  }
  assert(false && "infer_other called for an elementwise op");
  return {};
}

}  // namespace

const OpInfo& op_info(OpKind kind) {
  return table()[static_cast<int>(kind)];
}
std::string_view op_name(OpKind kind) {
  return op_info(kind).name;
}

std::optional<OpKind> op_from_name(std::string_view name) {
  for (const OpInfo& info : table())
    if (info.name == name && info.kind != OpKind::Parameter) return info.kind;
  return std::nullopt;
}

std::span<const OpKind> all_ops() {
  static const std::vector<OpKind> ops = [] {
    std::vector<OpKind> v;
    for (int i = 1; i < kNumOpKinds; ++i)
      v.push_back(static_cast<OpKind>(i));
    return v;
  }();
  return ops;
}

TensorType infer_type(OpKind kind, std::span<const TensorType> operands, const Attrs& attrs,
                      const std::optional<TensorType>& declared) {
  const OpInfo& info = op_info(kind);
  assert(kind != OpKind::Parameter);
  int n = static_cast<int>(operands.size());
  if (n < info.min_operands || (info.max_operands >= 0 && n > info.max_operands)) {
    std::string expected =
        info.max_operands < 0 ? "at least " + std::to_string(info.min_operands)
        : info.min_operands == info.max_operands
            ? std::to_string(info.min_operands)
            : std::to_string(info.min_operands) + " to " + std::to_string(info.max_operands);
    fail(std::string(info.name) + " takes " + expected + " operand" +
         (expected == "1" || expected == "at least 1" ? "" : "s") + ", got " + std::to_string(n));
  }
  check_attr_schema(info, attrs);
  if (info.declares_result_type && !declared)
    fail(std::string(info.name) + " needs its result type written out");
  for (const TensorType& t : operands)
    check_shape(info.name, t.shape);
  switch (info.op_class) {
    case OpClass::Unary:
    case OpClass::Binary:
    case OpClass::Compare:
      return infer_elementwise(info, operands);
    case OpClass::Other:
      return infer_other(info, operands, attrs, declared);
    case OpClass::Parameter:
      break;
  }
  assert(false);
  return {};
}

namespace {
Attr floats_for_constant(const Attr& value) {
  if (value.is_list()) {
    AttrList out;
    out.reserve(value.as_list().size());
    for (const Attr& a : value.as_list())
      out.push_back(floats_for_constant(a));
    return out;
  }
  if (value.is_int()) return static_cast<double>(value.as_int());
  return value;
}
}  // namespace

Attrs canonical_attrs(OpKind kind, Attrs attrs, const TensorType& result) {
  switch (kind) {
    case OpKind::Constant:
      if (is_float(result.dtype)) attrs.set("value", floats_for_constant(attrs.get("value")));
      break;
    case OpKind::Slice:
      if (!attrs.has("stride"))
        attrs.set("stride", int_list(std::vector<int64_t>(attrs.get_ints("start").size(), 1)));
      break;
    case OpKind::Pad:
      if (!attrs.has("interior"))
        attrs.set("interior", int_list(std::vector<int64_t>(attrs.get_ints("low").size(), 0)));
      break;
    case OpKind::Call:
      // Defaults are left out so that `call @f(%x)` and `call @f(%x) {result=0}` hash-cons.
      if (const Attr* r = attrs.find("result"); r && r->as_int() == 0) attrs.erase("result");
      if (const Attr* c = attrs.find("checkpoint"); c && c->as_int() == 0)
        attrs.erase("checkpoint");
      break;
    case OpKind::DotGeneral:
      if (!attrs.has("lhs_batch")) attrs.set("lhs_batch", int_list({}));
      if (!attrs.has("rhs_batch")) attrs.set("rhs_batch", int_list({}));
      break;
    case OpKind::ReduceSum:
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
    case OpKind::ReduceProd: {
      auto axes = attrs.get_ints("axes");
      std::sort(axes.begin(), axes.end());
      attrs.set("axes", int_list(axes));
      break;
    }
    default:
      break;
  }
  return attrs;
}

}  // namespace kiln::ir
