// The shape rules: for each op family, the result type its operands and attributes give, or a
// TypeError naming the rule they break; and the canonical form of attributes.

#include <algorithm>
#include <cassert>
#include <string>

#include "ir/array.h"
#include "ir/error.h"
#include "ir/ops.h"

namespace kiln::ir {

namespace {

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
      case AttrKind::Bool:
        if (!value.is_bool())
          fail("attribute '" + name + "' of " + std::string(info.name) + " must be true or false");
        break;
    }
  }
  for (const AttrSpec& spec : info.attrs)
    if (spec.required() && !attrs.has(std::string(spec.name)))
      fail(std::string(info.name) + " needs attribute '" + std::string(spec.name) + "'");
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

// "a float dtype", "an integer or float dtype": the dtype classes the op's traits accept.
std::string accepted_dtypes_text(OpTraits traits) {
  std::vector<std::string_view> classes;
  if (traits.has(OpTrait::AcceptsBool)) classes.push_back("bool");
  if (traits.has(OpTrait::AcceptsInteger)) classes.push_back("integer");
  if (traits.has(OpTrait::AcceptsFloat)) classes.push_back("float");
  if (classes.size() == 3) return "any dtype";
  std::string text = classes.empty() || classes[0] != "integer" ? "a " : "an ";
  for (size_t i = 0; i < classes.size(); ++i)
    text += std::string(i ? " or " : "") + std::string(classes[i]);
  return text + " dtype";
}

// The values of an op (see the Accepts* traits) must be of a dtype class it takes.
void check_dtype(const OpInfo& info, DType d) {
  if (!accepts_dtype(info.kind, d))
    fail(std::string(info.name) + " expects " + accepted_dtypes_text(info.traits) + ", got " +
         std::string(dtype_name(d)));
}

// Checks that a constant's value is a scalar or a nested list matching `shape`, with element
// kinds that fit `dtype`.
void check_constant_value(const Attr& value, DType dtype, const Shape& shape, size_t depth) {
  if (value.is_dense()) {
    const TensorType want{dtype, shape};
    if (depth != 0 || value.as_dense().type() != want)
      fail("constant's dense elements are " + value.as_dense().type().str() + " but the type is " +
           want.str());
    return;
  }
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
          case DType::Bool:  // not integers: excluded above
          case DType::F16:
          case DType::BF16:
          case DType::F32:
          case DType::F64:
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
  check_dtype(info, in[0].dtype);
  if (info.traits.has(OpTrait::Comparison) || info.kind == OpKind::IsFinite)
    return {DType::Bool, in[0].shape};
  return in[0];
}

TensorType infer_select(const OpInfo& info, std::span<const TensorType> in) {
  if (in[0].dtype != DType::Bool) fail("select expects a bool predicate, got " + in[0].str());
  if (in[1] != in[2] || in[0].shape != in[1].shape)
    fail(
        "select expects a predicate and two operands of one shape (and the operands of one "
        "dtype), got " +
        types_str(in));
  check_dtype(info, in[1].dtype);
  return in[1];
}

TensorType infer_convert(const OpInfo& info, const TensorType& in, const TensorType& declared) {
  if (declared.shape != in.shape)
    fail("convert keeps the shape: " + in.str() + " cannot become " + declared.str());
  check_dtype(info, in.dtype);
  check_dtype(info, declared.dtype);
  return declared;
}

TensorType infer_bitcast_convert(const OpInfo& info, const TensorType& in,
                                 const TensorType& declared) {
  if (declared.shape != in.shape)
    fail("bitcast_convert keeps the shape: " + in.str() + " cannot become " + declared.str());
  check_dtype(info, in.dtype);
  check_dtype(info, declared.dtype);
  if (dtype_size(in.dtype) != dtype_size(declared.dtype))
    fail("bitcast_convert needs dtypes of one bit width, got " + std::string(dtype_name(in.dtype)) +
         " and " + std::string(dtype_name(declared.dtype)));
  return declared;
}

// The key is u32[2], or u32[b..., 2] for one key per leading index (what vmap makes); the
// result is u32[b..., shape...].
TensorType infer_rng_bits(const OpInfo& info, const TensorType& key, const Attrs& attrs) {
  const RngBitsAttrs rng = rng_bits_attrs(attrs);
  check_shape(info.name, rng.shape);
  if (key.dtype != DType::U32 || key.rank() < 1 || key.shape.back() != 2)
    fail("rng_bits expects a key of type u32[2] (or u32[..., 2]), got " + key.str());
  Shape shape(key.shape.begin(), key.shape.end() - 1);
  shape.insert(shape.end(), rng.shape.begin(), rng.shape.end());
  TensorType result{DType::U32, shape};
  check_shape(info.name, result.shape);
  return result;
}

TensorType infer_constant(const OpInfo& info, const Attrs& attrs, const TensorType& declared) {
  check_shape(info.name, declared.shape);
  check_dtype(info, declared.dtype);
  check_constant_value(constant_value(attrs), declared.dtype, declared.shape, 0);
  return declared;
}

TensorType infer_iota(const OpInfo& info, const Attrs& attrs, const TensorType& declared) {
  check_shape(info.name, declared.shape);
  check_dtype(info, declared.dtype);
  check_axis(info.name, iota_attrs(attrs).axis, declared.rank());
  return declared;
}

TensorType infer_broadcast(const OpInfo& info, const TensorType& in, const Attrs& attrs) {
  const std::string op(info.name);
  const BroadcastAttrs broadcast = broadcast_attrs(attrs);
  const Shape& shape = broadcast.shape;
  const std::vector<int64_t>& dims = broadcast.dims;
  check_shape(op, shape);
  check_rank_list(op, BroadcastAttrs::dims_name, dims, in.rank());
  for (size_t i = 0; i < dims.size(); ++i) {
    check_axis(op, dims[i], static_cast<int>(shape.size()), "dims entry");
    if (i && dims[i] <= dims[i - 1]) fail("broadcast dims must increase, got " + ints_str(dims));
    int64_t from = in.shape[i], to = shape[dims[i]];
    if (from != 1 && from != to)
      fail("broadcast cannot stretch operand dimension " + std::to_string(i) + " of size " +
           std::to_string(from) + " to size " + std::to_string(to) + " (result dimension " +
           std::to_string(dims[i]) + ")");
  }
  check_dtype(info, in.dtype);
  return {in.dtype, shape};
}

TensorType infer_reshape(const OpInfo& info, const TensorType& in, const Attrs& attrs) {
  const Shape shape = reshape_attrs(attrs).shape;
  check_shape(info.name, shape);
  TensorType out{in.dtype, shape};
  if (out.num_elements() != in.num_elements())
    fail("reshape cannot change the element count: " + in.str() + " has " +
         std::to_string(in.num_elements()) + ", shape " + shape_str(shape) + " has " +
         std::to_string(out.num_elements()));
  check_dtype(info, in.dtype);
  return out;
}

TensorType infer_transpose(const OpInfo& info, const TensorType& in, const Attrs& attrs) {
  const std::vector<int64_t> perm = transpose_attrs(attrs).perm;
  check_rank_list(info.name, TransposeAttrs::perm_name, perm, in.rank());
  check_distinct_axes(info.name, perm, in.rank(), "perm entry");
  Shape out;
  for (int64_t p : perm)
    out.push_back(in.shape[p]);
  check_dtype(info, in.dtype);
  return {in.dtype, out};
}

TensorType infer_slice(const OpInfo& info, const TensorType& in, const Attrs& attrs) {
  const std::string op(info.name);
  const SliceAttrs slice = slice_attrs(attrs);
  const std::vector<int64_t>&start = slice.start, &limit = slice.limit, &stride = slice.stride;
  check_rank_list(op, SliceAttrs::start_name, start, in.rank());
  check_rank_list(op, SliceAttrs::limit_name, limit, in.rank());
  check_rank_list(op, SliceAttrs::stride_name, stride, in.rank());
  Shape out;
  for (int i = 0; i < in.rank(); ++i) {
    if (start[i] < 0 || start[i] > limit[i] || limit[i] > in.shape[i])
      fail("slice needs 0 <= start <= limit <= size in every dimension; dimension " +
           std::to_string(i) + " has start " + std::to_string(start[i]) + ", limit " +
           std::to_string(limit[i]) + ", size " + std::to_string(in.shape[i]));
    if (stride[i] < 1) fail("slice strides must be positive, got " + ints_str(stride));
    // ceil((limit - start) / stride), written so that a huge stride cannot overflow.
    out.push_back(limit[i] == start[i] ? 0 : (limit[i] - start[i] - 1) / stride[i] + 1);
  }
  check_dtype(info, in.dtype);
  return {in.dtype, out};
}

TensorType infer_pad(const OpInfo& info, std::span<const TensorType> in, const Attrs& attrs) {
  const std::string op(info.name);
  if (in[1].rank() != 0 || in[1].dtype != in[0].dtype)
    fail("pad expects a scalar padding value of the operand's dtype, got " + types_str(in));
  const PadAttrs pad = pad_attrs(attrs);
  const std::vector<int64_t>&low = pad.low, &high = pad.high, &interior = pad.interior;
  check_rank_list(op, PadAttrs::low_name, low, in[0].rank());
  check_rank_list(op, PadAttrs::high_name, high, in[0].rank());
  check_rank_list(op, PadAttrs::interior_name, interior, in[0].rank());
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
  check_dtype(info, in[0].dtype);
  return {in[0].dtype, out};
}

TensorType infer_concatenate(const OpInfo& info, std::span<const TensorType> in,
                             const Attrs& attrs) {
  const int64_t axis = concatenate_attrs(attrs).axis;
  check_axis(info.name, axis, in[0].rank());
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
  check_dtype(info, in[0].dtype);
  return {in[0].dtype, out};
}

TensorType infer_reduce(const OpInfo& info, const TensorType& in, const Attrs& attrs) {
  check_dtype(info, in.dtype);
  const std::vector<int64_t> axes = reduce_attrs(attrs).axes;
  check_distinct_axes(info.name, axes, in.rank(), "axis");
  Shape out;
  for (int i = 0; i < in.rank(); ++i)
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) out.push_back(in.shape[i]);
  return {in.dtype, out};
}

TensorType infer_arg_reduce(const OpInfo& info, const TensorType& in, const Attrs& attrs) {
  const std::string op(info.name);
  const int64_t axis = arg_reduce_attrs(attrs).axis;
  check_axis(op, axis, in.rank());
  if (in.shape[axis] == 0) fail(op + " needs a non-empty axis, got " + in.str());
  check_dtype(info, in.dtype);
  Shape out = in.shape;
  out.erase(out.begin() + axis);
  return {DType::I32, out};
}

TensorType infer_dot_general(std::span<const TensorType> in, const Attrs& attrs) {
  const TensorType& lhs = in[0];
  const TensorType& rhs = in[1];
  if (lhs.dtype != rhs.dtype)
    fail("dot_general expects operands of one dtype, got " + types_str(in));
  check_dtype(op_info(OpKind::DotGeneral), lhs.dtype);
  const DotGeneralAttrs dims = dot_general_attrs(attrs);
  const std::vector<int64_t>&lb = dims.lhs_batch, &rb = dims.rhs_batch;
  const std::vector<int64_t>&lc = dims.lhs_contract, &rc = dims.rhs_contract;
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

// take gathers operand rows along `axis` at the indices; scatter_add adds `updates`, shaped as
// that gather's result, into the operand at them.
TensorType gathered_type(const OpInfo& info, std::span<const TensorType> in, int64_t axis) {
  const std::string op(info.name);
  check_axis(op, axis, in[0].rank());
  if (!is_integer(in[1].dtype)) fail(op + " expects integer indices, got " + in[1].str());
  if (in[0].shape[axis] == 0) fail(op + " needs a non-empty axis, got " + in[0].str());
  Shape out(in[0].shape.begin(), in[0].shape.begin() + axis);
  out.insert(out.end(), in[1].shape.begin(), in[1].shape.end());
  out.insert(out.end(), in[0].shape.begin() + axis + 1, in[0].shape.end());
  return {in[0].dtype, out};
}

TensorType infer_take(const OpInfo& info, std::span<const TensorType> in, const Attrs& attrs) {
  const TensorType gathered = gathered_type(info, in, take_attrs(attrs).axis);
  check_dtype(info, in[0].dtype);
  return gathered;
}

TensorType infer_scatter_add(const OpInfo& info, std::span<const TensorType> in,
                             const Attrs& attrs) {
  const int64_t axis = scatter_add_attrs(attrs).axis;
  const TensorType gathered = gathered_type(info, in, axis);
  check_dtype(info, in[0].dtype);
  if (in[2] != gathered)
    fail("scatter_add expects updates of type " + gathered.str() + " (operand " + in[0].str() +
         " with indices " + in[1].str() + " on axis " + std::to_string(axis) + "), got " +
         in[2].str());
  return in[0];
}

// take_along_axis and scatter_along_axis: integer indices of x's rank and x's sizes but along
// the axis; the result of the take (and the scatter's updates) has the indices' shape.
TensorType along_axis_type(const OpInfo& info, std::span<const TensorType> in, int64_t axis) {
  const std::string op(info.name);
  check_axis(op, axis, in[0].rank());
  if (!is_integer(in[1].dtype)) fail(op + " expects integer indices, got " + in[1].str());
  bool fits = in[1].rank() == in[0].rank();
  for (int d = 0; fits && d < in[0].rank(); ++d)
    fits = d == axis || in[1].shape[d] == in[0].shape[d];
  if (!fits)
    fail(op + " expects indices of the operand's rank and sizes but along axis " +
         std::to_string(axis) + ", got " + in[0].str() + " and " + in[1].str());
  if (in[0].shape[axis] == 0 && in[1].num_elements() > 0)
    fail(op + " needs a non-empty axis, got " + in[0].str());
  check_dtype(info, in[0].dtype);
  return {in[0].dtype, in[1].shape};
}

TensorType infer_scatter_along_axis(const OpInfo& info, std::span<const TensorType> in,
                                    const Attrs& attrs) {
  const ScatterAlongAxisAttrs a = scatter_along_axis_attrs(attrs);
  const TensorType updates = along_axis_type(info, in, a.axis);
  if (in[2] != updates)
    fail("scatter_along_axis expects updates of type " + updates.str() + ", got " + in[2].str());
  if (a.mode != "add" && a.mode != "mul" && a.mode != "max" && a.mode != "min" && a.mode != "set")
    fail("scatter_along_axis mode must be add, mul, max, min or set, got \"" + a.mode + "\"");
  if ((a.mode == "add" || a.mode == "mul") && in[0].dtype == DType::Bool)
    fail("scatter_along_axis mode " + a.mode + " expects a numeric operand, got " + in[0].str());
  return in[0];
}

TensorType infer_call(const OpInfo& info, const Attrs& attrs, const TensorType& declared) {
  check_shape(info.name, declared.shape);
  const CallAttrs call = call_attrs(attrs);
  if (call.callee.empty()) fail("call needs a callee name");
  if (call.result < 0) fail("call result index " + std::to_string(call.result) + " is negative");
  if (call.checkpoint != 0 && call.checkpoint != 1)
    fail("call attribute 'checkpoint' must be 0 or 1, got " + std::to_string(call.checkpoint));
  check_dtype(info, declared.dtype);
  return declared;
}

void check_operand_count(const OpInfo& info, int n) {
  if (n >= info.min_operands && (info.max_operands < 0 || n <= info.max_operands)) return;
  std::string expected =
      info.max_operands < 0 ? "at least " + std::to_string(info.min_operands)
      : info.min_operands == info.max_operands
          ? std::to_string(info.min_operands)
          : std::to_string(info.min_operands) + " to " + std::to_string(info.max_operands);
  fail(std::string(info.name) + " takes " + expected + " operand" +
       (expected == "1" || expected == "at least 1" ? "" : "s") + ", got " + std::to_string(n));
}

}  // namespace

TensorType infer_type(OpKind kind, std::span<const TensorType> operands, const Attrs& attrs,
                      const std::optional<TensorType>& declared) {
  const OpInfo& info = op_info(kind);
  check_operand_count(info, static_cast<int>(operands.size()));
  check_attr_schema(info, attrs);
  if (info.declares_result_type && !declared)
    fail(std::string(info.name) + " needs its result type written out");
  for (const TensorType& t : operands)
    check_shape(info.name, t.shape);
  std::span<const TensorType> in = operands;
  switch (kind) {
    case OpKind::Neg:
    case OpKind::Abs:
    case OpKind::Sign:
    case OpKind::Exp:
    case OpKind::Log:
    case OpKind::Log1p:
    case OpKind::Expm1:
    case OpKind::Sqrt:
    case OpKind::Rsqrt:
    case OpKind::Sin:
    case OpKind::Cos:
    case OpKind::Tanh:
    case OpKind::Logistic:
    case OpKind::Erf:
    case OpKind::Tan:
    case OpKind::Asin:
    case OpKind::Acos:
    case OpKind::Atan:
    case OpKind::Sinh:
    case OpKind::Cosh:
    case OpKind::Asinh:
    case OpKind::Acosh:
    case OpKind::Atanh:
    case OpKind::ErfInv:
    case OpKind::Lgamma:
    case OpKind::Digamma:
    case OpKind::Floor:
    case OpKind::Ceil:
    case OpKind::Round:
    case OpKind::Not:
    case OpKind::Popcount:
    case OpKind::Clz:
    case OpKind::IsFinite:
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
    case OpKind::Rem:
    case OpKind::Pow:
    case OpKind::Atan2:
    case OpKind::Max:
    case OpKind::Min:
    case OpKind::And:
    case OpKind::Or:
    case OpKind::Xor:
    case OpKind::ShiftLeft:
    case OpKind::ShiftRightLogical:
    case OpKind::ShiftRightArithmetic:
    case OpKind::Eq:
    case OpKind::Ne:
    case OpKind::Lt:
    case OpKind::Le:
    case OpKind::Gt:
    case OpKind::Ge:
    case OpKind::StopGradient:
      return infer_elementwise(info, in);
    case OpKind::Select:
      return infer_select(info, in);
    case OpKind::Convert:
      return infer_convert(info, in[0], *declared);
    case OpKind::BitcastConvert:
      return infer_bitcast_convert(info, in[0], *declared);
    case OpKind::RngBits:
      return infer_rng_bits(info, in[0], attrs);
    case OpKind::Constant:
      return infer_constant(info, attrs, *declared);
    case OpKind::Iota:
      return infer_iota(info, attrs, *declared);
    case OpKind::Broadcast:
      return infer_broadcast(info, in[0], attrs);
    case OpKind::Reshape:
      return infer_reshape(info, in[0], attrs);
    case OpKind::Transpose:
      return infer_transpose(info, in[0], attrs);
    case OpKind::Slice:
      return infer_slice(info, in[0], attrs);
    case OpKind::Pad:
      return infer_pad(info, in, attrs);
    case OpKind::Concatenate:
      return infer_concatenate(info, in, attrs);
    case OpKind::ReduceSum:
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
    case OpKind::ReduceProd:
      return infer_reduce(info, in[0], attrs);
    case OpKind::Argmax:
    case OpKind::Argmin:
      return infer_arg_reduce(info, in[0], attrs);
    case OpKind::DotGeneral:
      return infer_dot_general(in, attrs);
    case OpKind::Take:
      return infer_take(info, in, attrs);
    case OpKind::ScatterAdd:
      return infer_scatter_add(info, in, attrs);
    case OpKind::CumSum:
    case OpKind::CumProd:
    case OpKind::CumMax:
    case OpKind::CumMin:
    case OpKind::CumLogSumExp:
      check_axis(info.name, scan_attrs(attrs).axis, in[0].rank());
      check_dtype(info, in[0].dtype);
      return in[0];
    case OpKind::TakeAlongAxis:
      return along_axis_type(info, in, along_axis_attrs(attrs).axis);
    case OpKind::ScatterAlongAxis:
      return infer_scatter_along_axis(info, in, attrs);
    case OpKind::Call:
      return infer_call(info, attrs, *declared);
    case OpKind::Parameter:  // parameters are added by Function::add_param, never by a rule
      break;
  }
  assert(false && "infer_type of a parameter");
  fail("parameter has no shape rule");
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
      if (is_float(result.dtype))
        return make_attrs(ConstantAttrs{floats_for_constant(constant_value(attrs))});
      return attrs;
    // The view fills in the defaults that the canonical form writes (stride, interior, the
    // batch dimensions) and make_attrs leaves out those it does not (call's result=0).
    case OpKind::Slice:
      return make_attrs(slice_attrs(attrs));
    case OpKind::Pad:
      return make_attrs(pad_attrs(attrs));
    case OpKind::DotGeneral:
      return make_attrs(dot_general_attrs(attrs));
    case OpKind::Call:
      return make_attrs(call_attrs(attrs));
    case OpKind::ReduceSum:
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
    case OpKind::ReduceProd: {
      ReduceAttrs reduce = reduce_attrs(attrs);
      std::sort(reduce.axes.begin(), reduce.axes.end());
      return make_attrs(std::move(reduce));
    }
    // Every attribute of these is required, so the given ones are already canonical.
    case OpKind::Parameter:
    case OpKind::Neg:
    case OpKind::Abs:
    case OpKind::Sign:
    case OpKind::Exp:
    case OpKind::Log:
    case OpKind::Log1p:
    case OpKind::Expm1:
    case OpKind::Sqrt:
    case OpKind::Rsqrt:
    case OpKind::Sin:
    case OpKind::Cos:
    case OpKind::Tanh:
    case OpKind::Logistic:
    case OpKind::Erf:
    case OpKind::Tan:
    case OpKind::Asin:
    case OpKind::Acos:
    case OpKind::Atan:
    case OpKind::Sinh:
    case OpKind::Cosh:
    case OpKind::Asinh:
    case OpKind::Acosh:
    case OpKind::Atanh:
    case OpKind::ErfInv:
    case OpKind::Lgamma:
    case OpKind::Digamma:
    case OpKind::Floor:
    case OpKind::Ceil:
    case OpKind::Round:
    case OpKind::Not:
    case OpKind::Popcount:
    case OpKind::Clz:
    case OpKind::IsFinite:
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
    case OpKind::Rem:
    case OpKind::Pow:
    case OpKind::Atan2:
    case OpKind::Max:
    case OpKind::Min:
    case OpKind::And:
    case OpKind::Or:
    case OpKind::Xor:
    case OpKind::ShiftLeft:
    case OpKind::ShiftRightLogical:
    case OpKind::ShiftRightArithmetic:
    case OpKind::Eq:
    case OpKind::Ne:
    case OpKind::Lt:
    case OpKind::Le:
    case OpKind::Gt:
    case OpKind::Ge:
    case OpKind::Select:
    case OpKind::Convert:
    case OpKind::BitcastConvert:
    case OpKind::Iota:
    case OpKind::RngBits:
    case OpKind::Broadcast:
    case OpKind::Reshape:
    case OpKind::Transpose:
    case OpKind::Concatenate:
    case OpKind::Argmax:
    case OpKind::Argmin:
    case OpKind::Take:
    case OpKind::ScatterAdd:
    case OpKind::TakeAlongAxis:
    case OpKind::StopGradient:
      return attrs;
    case OpKind::ScatterAlongAxis:  // the default mode left out
      return make_attrs(scatter_along_axis_attrs(attrs));
    case OpKind::CumSum:
    case OpKind::CumProd:
    case OpKind::CumMax:
    case OpKind::CumMin:
    case OpKind::CumLogSumExp:  // reverse=false left out
      return make_attrs(scan_attrs(attrs));
  }
  return attrs;
}

}  // namespace kiln::ir
