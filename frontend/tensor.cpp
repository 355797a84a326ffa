#include "frontend/tensor.h"

#include <cstring>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "frontend/compile.h"
#include "frontend/graph_lowering.h"
#include "frontend/ops.h"
#include "frontend/shape_ops.h"
#include "passes/inline.h"

namespace kiln {

namespace detail {

uint64_t next_node_serial() {
  static std::atomic<uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed);
}

Node::~Node() {
  std::vector<std::shared_ptr<Node>> pending = std::move(inputs);
  while (!pending.empty()) {
    std::shared_ptr<Node> node = std::move(pending.back());
    pending.pop_back();
    // Only the last owner unlinks, so shared subgraphs stay intact.
    if (node && node.use_count() == 1) {
      for (auto& input : node->inputs)
        pending.push_back(std::move(input));
      node->inputs.clear();
    }
  }
}

void fail(std::string_view fn, const std::string& rule) {
  throw Error("[frontend] " + std::string(fn) + ": " + rule);
}

int normalize_axis(std::string_view fn, int64_t axis, int rank) {
  if (axis < -rank || axis >= rank)
    fail(fn, "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

int normalize_axis(std::string_view fn, int64_t axis, const ir::TensorType& type) {
  const int rank = type.rank();
  if (axis < -rank || axis >= rank)
    fail(fn, "axis " + std::to_string(axis) + " is out of range for " + type.str());
  return normalize_axis(fn, axis, rank);
}

Tensor make(ir::OpKind op, const std::vector<Tensor>& inputs, ir::Attrs attrs,
            std::optional<ir::TensorType> declared, std::string_view fn, bool weak) {
  std::vector<ir::TensorType> types;
  types.reserve(inputs.size());
  for (const Tensor& t : inputs)
    types.push_back(t.type());
  auto node = std::make_shared<Node>();
  try {
    node->type = ir::infer_type(op, types, attrs, declared);
  } catch (const TypeError& e) {
    fail(fn, e.what());
  }
  node->attrs = ir::canonical_attrs(op, std::move(attrs), node->type);
  node->op = op;
  node->weak = weak;
  for (const Tensor& t : inputs)
    node->inputs.push_back(t.node());
  return Tensor::from_node(std::move(node));
}

Tensor embedded(ir::HostArray array) {
  auto node = std::make_shared<Node>();
  node->type = array.type();
  node->data = std::move(array);
  node->embed = true;
  return Tensor::from_node(std::move(node));
}

}  // namespace detail

namespace {

const detail::Node& checked(const std::shared_ptr<detail::Node>& node) {
  if (!node) detail::fail("Tensor", "the tensor is empty (default-constructed)");
  return *node;
}

void set_literal(ir::HostArray& array, const Literal& value) {
  if (const double* d = std::get_if<double>(&value))
    array.set_f64(0, *d);
  else if (const int64_t* i = std::get_if<int64_t>(&value))
    array.set_i64(0, *i);
  else
    array.set_i64(0, std::get<bool>(value) ? 1 : 0);
}

}  // namespace

Tensor::Tensor(ir::HostArray array) {
  node_ = std::make_shared<detail::Node>();
  node_->type = array.type();
  node_->data = std::move(array);
}

Tensor Tensor::from_node(std::shared_ptr<detail::Node> node) {
  Tensor t;
  t.node_ = std::move(node);
  return t;
}

Tensor Tensor::from_literal(const Literal& value) {
  DType dtype = DType::Bool;
  bool weak = true;
  if (std::holds_alternative<double>(value)) {
    dtype = DType::F32;
  } else if (const int64_t* i = std::get_if<int64_t>(&value)) {
    bool fits =
        *i >= std::numeric_limits<int32_t>::min() && *i <= std::numeric_limits<int32_t>::max();
    dtype = fits ? DType::I32 : DType::I64;
  } else {
    weak = false;
  }
  Tensor t = scalar(value, dtype);
  t.node_->weak = weak;
  return t;
}

Tensor Tensor::scalar(Literal value, DType dtype) {
  ir::HostArray array(ir::TensorType{dtype, {}});
  set_literal(array, value);
  Tensor t = detail::embedded(std::move(array));
  t.node_->literal = value;
  return t;
}

ir::HostArray Tensor::pack_bytes(const void* data, size_t count, Shape shape, DType dtype) {
  ir::HostArray array = ir::HostArray::uninitialized(ir::TensorType{dtype, std::move(shape)});
  if (array.num_elements() != static_cast<int64_t>(count))
    detail::fail("Tensor", std::to_string(count) + " values do not fill shape " +
                               ir::shape_str(array.shape()));
  if (count) std::memcpy(array.data(), data, array.size_bytes());
  return array;
}

Tensor Tensor::from_buffer(const void* data, ir::TensorType type, std::function<void()> release) {
  const size_t bytes = type.size_bytes();
  if (!data && bytes) detail::fail("from_buffer", "data is null for " + type.str());
  if (type.dtype == DType::Bool) {
    const auto* first = static_cast<const uint8_t*>(data);
    if (std::any_of(first, first + bytes, [](uint8_t b) { return b > 1; }))
      detail::fail("from_buffer", "bool data holds a byte other than 0 or 1");
  }
  if (reinterpret_cast<uintptr_t>(data) % 64 != 0 || !data) {
    ir::HostArray copy = ir::HostArray::uninitialized(type);
    if (bytes) std::memcpy(copy.data(), data, bytes);
    if (release) release();
    return Tensor(std::move(copy));
  }
  // An external block is read-only: HostArray copies it before any write.
  auto block = std::make_shared<ir::Buffer>(
      ir::Buffer::external(const_cast<void*>(data), bytes, std::move(release)));
  return Tensor(ir::HostArray(std::move(type), std::move(block)));
}

void Tensor::check_view(DType requested) const {
  if (dtype() != requested)
    detail::fail("data", "the tensor is " + type().str() + ", not " +
                             std::string(ir::dtype_name(requested)));
}

ir::HostArray Tensor::pack_f64(std::span<const double> values, Shape shape, DType dtype) {
  ir::HostArray array(ir::TensorType{dtype, std::move(shape)});
  if (array.num_elements() != static_cast<int64_t>(values.size()))
    detail::fail("Tensor", std::to_string(values.size()) + " values do not fill shape " +
                               ir::shape_str(array.shape()));
  for (size_t i = 0; i < values.size(); ++i)
    array.set_f64(static_cast<int64_t>(i), values[i]);
  return array;
}

ir::HostArray Tensor::pack_i64(std::span<const int64_t> values, Shape shape, DType dtype) {
  ir::HostArray array(ir::TensorType{dtype, std::move(shape)});
  if (array.num_elements() != static_cast<int64_t>(values.size()))
    detail::fail("Tensor", std::to_string(values.size()) + " values do not fill shape " +
                               ir::shape_str(array.shape()));
  for (size_t i = 0; i < values.size(); ++i)
    array.set_i64(static_cast<int64_t>(i), values[i]);
  return array;
}

void Tensor::check_row_width(size_t got, size_t expected) {
  if (got != expected)
    detail::fail("Tensor", "rows of a nested initializer list differ in length: " +
                               std::to_string(expected) + " and " + std::to_string(got));
}

void Tensor::check_item() const {
  if (size() != 1) detail::fail("item", "needs a tensor of one element, got " + type().str());
}

const ir::TensorType& Tensor::type() const {
  return checked(node_).type;
}

int64_t Tensor::shape(int axis) const {
  return shape()[detail::normalize_axis("shape", axis, ndim())];
}

bool Tensor::is_weak() const {
  return checked(node_).weak;
}

std::optional<ir::OpKind> Tensor::op() const {
  const detail::Node& n = checked(node_);
  if (n.data) return std::nullopt;
  return n.op;
}

const ir::Attrs& Tensor::attrs() const {
  return checked(node_).attrs;
}

std::vector<Tensor> Tensor::inputs() const {
  std::vector<Tensor> out;
  for (const auto& input : checked(node_).inputs)
    out.push_back(from_node(input));
  return out;
}

bool Tensor::has_data() const {
  return checked(node_).data.has_value();
}

const Tensor& Tensor::eval() const {
  if (!has_data()) kiln::eval({*this});
  return *this;
}

void Tensor::assign(const Tensor& value) const {
  checked(node_);
  detail::Node& node = *node_;
  if (!value.valid()) detail::fail("assign", "the new value is an empty Tensor");
  if (node.op == ir::OpKind::Parameter && !node.data)
    detail::fail("assign", "cannot assign to trace input '" + node.param_name + "'");
  if (value.type() != node.type)
    detail::fail("assign", "the new value is " + value.type().str() + " but the tensor is " +
                               node.type.str());
  ir::HostArray data = value.data();  // shares the storage
  node.data = std::move(data);
  node.inputs.clear();
  node.attrs = {};
  node.literal.reset();
  node.weak = false;
  node.embed = false;
}

const ir::HostArray& Tensor::data() const {
  eval();
  return *node_->data;
}

Tensor Tensor::astype(DType dtype) const {
  return kiln::astype(*this, dtype);
}
Tensor Tensor::reshape(const Shape& shape) const {
  return kiln::reshape(*this, shape);
}
Tensor Tensor::transpose() const {
  return kiln::transpose(*this);
}
Tensor Tensor::transpose(const std::vector<int>& axes) const {
  return kiln::transpose(*this, axes);
}
Tensor Tensor::slice(int axis, std::optional<int64_t> start, std::optional<int64_t> stop,
                     int64_t step) const {
  return kiln::slice(*this, axis, start, stop, step);
}
Tensor Tensor::operator[](int64_t index) const {
  return kiln::index(*this, index, 0);
}

void eval(const std::vector<Tensor>& tensors) {
  std::vector<Tensor> pending;
  std::unordered_set<const detail::Node*> seen;
  for (const Tensor& t : tensors) {
    checked(t.node());
    if (!t.has_data() && seen.insert(t.node().get()).second) pending.push_back(t);
  }
  if (pending.empty()) return;
  ir::Function function("eval");
  GraphLowering lowering(function, GraphLowering::Leaves::Parameters, "eval");
  std::vector<ir::Value> results;
  for (const Tensor& t : pending)
    results.push_back(lowering.lower(t));
  function.set_results(results);
  if (!lowering.callees().functions.empty()) {
    // Nothing transforms an evaluated graph any more: checkpointed calls keep their barriers.
    ir::Module module = lowering.callees();
    module.functions.insert(module.functions.begin(), std::move(function));
    function =
        passes::inline_calls(module, module.functions.front(), {.checkpoint_barriers = true});
  }
  std::vector<ir::HostArray> arguments = lowering.take_arguments();
  std::vector<ir::HostArray> values = detail::run_for_eval(function, arguments);
  for (size_t i = 0; i < pending.size(); ++i) {
    detail::Node& node = *pending[i].node();
    node.data = std::move(values[i]);
    // The value now stands alone: dropping the inputs frees the graph behind it.
    node.inputs.clear();
    node.attrs = {};
  }
}

}  // namespace kiln
