#pragma once
// kiln::Tensor: a lazy handle to a node of a computation graph. Ops build nodes; eval() lowers
// the graph reachable from the requested tensors to an ir::Function, compiles it for the CPU
// (or runs the reference interpreter, see frontend/compile.h) and stores the results back in
// the nodes as data, dropping their inputs so that graphs do not grow without bound (as MLX
// does). Data lives in ir::HostArray's shared, aligned storage: compiled code reads and writes
// it in place.
//
// Numbers from C++ are weakly typed (as in JAX and MLX): Tensor(2.0) is an f32 scalar that
// takes the dtype of the tensor it meets, so `x_f16 * 2.0` stays f16 and `x_u8 + 1` stays u8.

#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "ir/array.h"
#include "ir/attr.h"
#include "ir/buffer_pool.h"
#include "ir/error.h"
#include "ir/function.h"
#include "ir/ops.h"
#include "ir/type.h"

namespace kiln {

using ir::DType;
using ir::Shape;

// Element types a Tensor can be built from and read back into.
template <class T>
concept Element = std::same_as<T, bool> || std::same_as<T, int8_t> || std::same_as<T, int16_t> ||
    std::same_as<T, int32_t> || std::same_as<T, int64_t> || std::same_as<T, uint8_t> ||
    std::same_as<T, uint32_t> || std::same_as<T, float> || std::same_as<T, double>;

// Any C++ number; these become weakly typed scalars.
template <class T>
concept Number = std::is_arithmetic_v<T>;

template <Element T>
constexpr DType dtype_of() {
  if constexpr (std::same_as<T, bool>)
    return DType::Bool;
  else if constexpr (std::same_as<T, int8_t>)
    return DType::I8;
  else if constexpr (std::same_as<T, int16_t>)
    return DType::I16;
  else if constexpr (std::same_as<T, int32_t>)
    return DType::I32;
  else if constexpr (std::same_as<T, int64_t>)
    return DType::I64;
  else if constexpr (std::same_as<T, uint8_t>)
    return DType::U8;
  else if constexpr (std::same_as<T, uint32_t>)
    return DType::U32;
  else if constexpr (std::same_as<T, float>)
    return DType::F32;
  else
    return DType::F64;
}

// The C++ number a scalar was made from, kept at full precision so that a weak scalar meeting
// an f64 or i64 tensor loses nothing.
using Literal = std::variant<double, int64_t, bool>;

namespace detail {

// A graph node. Three states: an op with inputs (lazy), data (a leaf or an evaluated node:
// inputs empty), or a trace parameter (op Parameter, no data; only meaningful while trace()
// that made it runs).
// A number larger than every earlier node's serial.
uint64_t next_node_serial();

struct Node {
  ir::OpKind op = ir::OpKind::Constant;
  ir::Attrs attrs;
  std::vector<std::shared_ptr<Node>> inputs;
  ir::TensorType type;
  std::optional<ir::HostArray> data;
  std::optional<Literal> literal;  // scalars made from C++ numbers
  bool weak = false;
  // Lower as a `constant` even when evaluating (literals, small index tables); other data
  // becomes a parameter of the evaluated function so that big arrays are not copied into
  // attributes.
  bool embed = false;
  std::string param_name;  // trace parameters
  // Call nodes: the functions the call may reach (its callee, named in attrs, and everything
  // that calls), shared by every node that calls into them.
  std::shared_ptr<const ir::Module> callees;

  // Creation order: a trace tells the tensors a function closed over (made before the trace
  // began) from those it made.
  uint64_t serial = next_node_serial();

  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Tears long chains down iteratively: a loop of a million adds must not overflow the stack.
  ~Node();
};

}  // namespace detail

class IndexedUpdate;

class Tensor {
 public:
  // An empty handle; every operation on it throws. Exists so Tensors fit in containers.
  Tensor() = default;

  // Weakly typed scalars: floating -> f32, integral -> i32 (i64 if the value needs it). A bool
  // is a strong bool (bool is the bottom of the promotion lattice, so weakness changes nothing).
  template <Number T>
  Tensor(T value) : Tensor(from_literal(to_literal(value))) {}  // NOLINT: implicit by design

  // Data, row-major. Without a shape the tensor is 1-D; `dtype` converts the values (e.g. to
  // f16 or bf16, which have no C++ type).
  template <Element T>
  explicit Tensor(const std::vector<T>& values, Shape shape,
                  std::optional<DType> dtype = std::nullopt)
      : Tensor(pack(values, std::move(shape), dtype)) {}
  template <Element T>
  explicit Tensor(const std::vector<T>& values)
      : Tensor(pack(values, Shape{static_cast<int64_t>(values.size())}, std::nullopt)) {}
  // A braced list of C++ numbers takes the dtype a scalar of them would: {1.0, 2.0} is f32, as
  // Tensor(1.0), zeros and arange are (MLX's rule), so one literal list cannot promote a model
  // to f64; ask for another dtype by name: Tensor({1.0, 2.0}, DType::F64). Integer lists keep
  // their C++ type ({1, 2} is i32). A std::vector<double> is data of a stated type: f64.
  template <Element T>
  Tensor(std::initializer_list<T> values, std::optional<DType> dtype = std::nullopt)
      : Tensor(pack(std::vector<T>(values), Shape{static_cast<int64_t>(values.size())},
                    dtype.value_or(literal_list_dtype<T>()))) {}
  template <Element T>
  Tensor(std::initializer_list<std::initializer_list<T>> rows,
         std::optional<DType> dtype = std::nullopt)
      : Tensor(pack_rows(rows, dtype.value_or(literal_list_dtype<T>()))) {}
  explicit Tensor(ir::HostArray array);
  // The caller's memory as a tensor: row-major elements of `type`, used in place when `data`
  // is 64-byte aligned (what compiled code requires; std::aligned_alloc(64, ...) and mmap give
  // it), copied once otherwise. `release` runs once kiln no longer needs the memory: when the
  // last tensor, result or copy-on-write view sharing it is gone (at once after a copy). Kiln
  // never writes to it: in-place updates (assign, donation) copy first. Throws
  // "[frontend] from_buffer: ..." for null data or bool bytes other than 0 and 1, without
  // calling `release`: on an error the memory stays the caller's.
  static Tensor from_buffer(const void* data, ir::TensorType type,
                            std::function<void()> release = {});

  // A strong scalar of the given dtype.
  static Tensor scalar(Literal value, DType dtype);
  static Tensor from_node(std::shared_ptr<detail::Node> node);

  bool valid() const { return node_ != nullptr; }
  const ir::TensorType& type() const;
  const Shape& shape() const { return type().shape; }
  int64_t shape(int axis) const;  // negative counts from the end
  DType dtype() const { return type().dtype; }
  int ndim() const { return type().rank(); }
  int64_t size() const { return type().num_elements(); }
  bool is_weak() const;

  // Graph introspection: nullopt once the tensor holds data.
  std::optional<ir::OpKind> op() const;
  const ir::Attrs& attrs() const;
  std::vector<Tensor> inputs() const;
  bool has_data() const;
  bool same_node(const Tensor& other) const { return node_ == other.node_; }
  const std::shared_ptr<detail::Node>& node() const { return node_; }

  // Computes the value (if not yet computed) and keeps it; returns *this.
  const Tensor& eval() const;
  // Replaces this tensor's value in place with `value`'s, which must have the same dtype and
  // shape; the storage is shared, not copied. Every handle to this tensor sees the new value,
  // including functions made by kiln::compile that close over it (they do not compile again):
  // this is how a training loop updates weights and optimizer state. As with PyTorch's
  // in-place ops, lazy tensors computed from the old value and not yet evaluated will see the
  // new one: evaluate them first if they need the old. Throws "[frontend] assign: ..." for a
  // trace input or a mismatched type.
  void assign(const Tensor& value) const;
  const ir::HostArray& data() const;  // evaluates
  // The elements in place, without copying (evaluates first). T must be the dtype's C++ type
  // ("[frontend] data: ..." otherwise; f16 and bf16 have none: use data().bytes()). The span
  // stays valid while this tensor holds this value (until assign or destruction).
  template <Element T>
  std::span<const T> data() const {
    const ir::HostArray& a = data();
    check_view(dtype_of<T>());
    return {reinterpret_cast<const T*>(a.data()), static_cast<size_t>(a.num_elements())};
  }

  template <Element T>
  T item() const {
    const ir::HostArray& a = data();
    check_item();
    return read<T>(a, 0);
  }
  template <Element T>
  std::vector<T> to_vector() const {
    const ir::HostArray& a = data();
    if (a.dtype() == dtype_of<T>()) {  // one copy at memory speed, no zero-fill first
      const auto* first = reinterpret_cast<const T*>(a.data());
      if constexpr (std::same_as<T, bool>) {
        return std::vector<T>(first, first + a.num_elements());
      } else {
        std::vector<T> out;
        out.reserve(static_cast<size_t>(a.num_elements()));
        ir::advise_huge_pages(out.data(), a.size_bytes());
        out.assign(first, first + a.num_elements());
        return out;
      }
    }
    std::vector<T> out;
    out.reserve(static_cast<size_t>(a.num_elements()));
    for (int64_t i = 0; i < a.num_elements(); ++i)
      out.push_back(read<T>(a, i));
    return out;
  }

  // Member spellings of common free functions.
  Tensor astype(DType dtype) const;
  // x.at(indices).add(v) and the other updates of MLX's array.at (frontend/shape_ops.h).
  IndexedUpdate at(const Tensor& indices) const;
  Tensor reshape(const Shape& shape) const;
  Tensor transpose() const;
  Tensor transpose(const std::vector<int>& axes) const;
  Tensor T() const { return transpose(); }
  Tensor slice(int axis, std::optional<int64_t> start, std::optional<int64_t> stop,
               int64_t step = 1) const;
  Tensor operator[](int64_t index) const;  // along axis 0, which disappears

 private:
  static Literal to_literal(bool v) { return v; }
  template <Number T>
  static Literal to_literal(T v) {
    if constexpr (std::is_floating_point_v<T>)
      return static_cast<double>(v);
    else
      return static_cast<int64_t>(v);
  }
  static Tensor from_literal(const Literal& value);
  static ir::HostArray pack_bytes(const void* data, size_t count, Shape shape, DType dtype);
  static ir::HostArray pack_f64(std::span<const double> values, Shape shape, DType dtype);
  static ir::HostArray pack_i64(std::span<const int64_t> values, Shape shape, DType dtype);

  template <Element T>
  static ir::HostArray pack(const std::vector<T>& values, Shape shape, std::optional<DType> dtype) {
    DType d = dtype.value_or(dtype_of<T>());
    if constexpr (!std::same_as<T, bool>)  // std::vector<bool> is packed bits
      if (d == dtype_of<T>())              // the elements' own layout: one copy at memory speed
        return pack_bytes(values.data(), values.size(), std::move(shape), d);
    if constexpr (std::is_floating_point_v<T>) {
      std::vector<double> wide(values.begin(), values.end());
      return pack_f64(wide, std::move(shape), d);
    } else {
      std::vector<int64_t> wide(values.begin(), values.end());
      return pack_i64(wide, std::move(shape), d);
    }
  }
  template <Element T>
  static constexpr DType literal_list_dtype() {
    return std::same_as<T, double> ? DType::F32 : dtype_of<T>();
  }
  template <Element T>
  static ir::HostArray pack_rows(std::initializer_list<std::initializer_list<T>> rows,
                                 DType dtype) {
    std::vector<T> flat;
    size_t width = rows.size() ? rows.begin()->size() : 0;
    for (const auto& row : rows) {
      check_row_width(row.size(), width);
      flat.insert(flat.end(), row.begin(), row.end());
    }
    return pack(flat, Shape{static_cast<int64_t>(rows.size()), static_cast<int64_t>(width)}, dtype);
  }
  static void check_row_width(size_t got, size_t expected);
  void check_item() const;
  void check_view(DType requested) const;

  template <Element T>
  static T read(const ir::HostArray& a, int64_t i) {
    if constexpr (std::same_as<T, bool>)
      return a.get_f64(i) != 0.0;
    else if constexpr (std::is_floating_point_v<T>)
      return static_cast<T>(a.get_f64(i));
    else
      return static_cast<T>(a.get_i64(i));  // floats truncate, saturating
  }

  std::shared_ptr<detail::Node> node_;
};

// Evaluates several tensors with one function (shared subgraphs are computed once).
void eval(const std::vector<Tensor>& tensors);

namespace detail {

// Builds a lazy node, checking it against the IR op's rule now so that errors point at the
// line that made the mistake. IR messages are rethrown as "[frontend] FN: ...".
Tensor make(ir::OpKind op, const std::vector<Tensor>& inputs, ir::Attrs attrs,
            std::optional<ir::TensorType> declared, std::string_view fn, bool weak = false);

// A data node lowered as a constant even when evaluating.
Tensor embedded(ir::HostArray array);

// Throws kiln::Error("[frontend] FN: RULE").
[[noreturn]] void fail(std::string_view fn, const std::string& rule);

// Validates a (possibly negative) axis against `rank` and returns it normalized.
int normalize_axis(std::string_view fn, int64_t axis, int rank);
// The same, naming the whole type in the error: "axis 2 is out of range for f32[2,3]".
int normalize_axis(std::string_view fn, int64_t axis, const ir::TensorType& type);

}  // namespace detail

}  // namespace kiln
