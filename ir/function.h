#pragma once
// The typed SSA graph. A Function owns its nodes; a Value is a handle to one of them. Building
// is hash-consed: adding the same (op, operands, attributes, result type) twice returns the
// first value, so common subexpressions never exist and structural hashes make cache keys.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ir/attr.h"
#include "ir/ops.h"
#include "ir/type.h"

namespace kiln::ir {

struct Value {
  uint32_t id = UINT32_MAX;
  bool valid() const { return id != UINT32_MAX; }
  auto operator<=>(const Value&) const = default;
};

struct Node {
  OpKind op = OpKind::Parameter;
  std::vector<Value> operands;
  Attrs attrs;
  TensorType type;
  std::string param_name;  // parameters only
  bool operator==(const Node&) const = default;
};

class Function {
 public:
  explicit Function(std::string name = "main") : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  // Parameters may be added at any time; they print in the order added. Names must be unique
  // identifiers or digit strings (the printer writes them as %name).
  Value add_param(std::string name, TensorType type);

  // Adds an op, checking it against the op's rule (throws TypeError) and returning an existing
  // identical value where there is one. `declared` is required for convert, constant and iota.
  Value add(OpKind op, std::vector<Value> operands, Attrs attrs = {},
            std::optional<TensorType> declared = std::nullopt);

  void set_results(std::vector<Value> results);

  const Node& node(Value v) const { return nodes_.at(v.id); }
  const TensorType& type(Value v) const { return node(v).type; }
  std::span<const Node> nodes() const { return nodes_; }
  size_t num_nodes() const { return nodes_.size(); }
  Value value_at(size_t index) const { return Value{static_cast<uint32_t>(index)}; }
  const std::vector<Value>& params() const { return params_; }
  const std::vector<Value>& results() const { return results_; }
  std::vector<TensorType> param_types() const;
  std::vector<TensorType> result_types() const;
  std::optional<Value> find_param(std::string_view name) const;

  // Hash of the graph's structure: ops, attributes, types, wiring, parameter and result
  // types. Names (the function's and parameters') do not count.
  size_t structural_hash() const;
  // Equal in everything the printer shows (names included), without printing.
  bool operator==(const Function& other) const {
    return name_ == other.name_ && params_ == other.params_ && results_ == other.results_ &&
           nodes_ == other.nodes_;
  }

 private:
  struct Key {
    OpKind op;
    std::vector<Value> operands;
    Attrs attrs;
    TensorType type;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& key) const;
  };

  std::string name_;
  std::vector<Node> nodes_;
  std::vector<Value> params_;
  std::vector<Value> results_;
  std::unordered_map<Key, Value, KeyHash> interned_;
};

// A file's worth of functions.
struct Module {
  std::vector<Function> functions;
  const Function* find(std::string_view name) const;
};

}  // namespace kiln::ir
