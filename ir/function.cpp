#include "ir/function.h"

#include "ir/hash.h"

#include <cassert>
#include <functional>

#include "ir/error.h"

namespace kiln::ir {

namespace {
size_t hash_type(const TensorType& t) {
  size_t h = static_cast<size_t>(t.dtype);
  for (int64_t d : t.shape)
    h = hash_combine(h, std::hash<int64_t>{}(d));
  return h;
}
}  // namespace

size_t Function::KeyHash::operator()(const Key& key) const {
  size_t h = static_cast<size_t>(key.op);
  for (Value v : key.operands)
    h = hash_combine(h, v.id);
  return hash_combine(hash_combine(h, key.attrs.hash()), hash_type(key.type));
}

Value Function::add_param(std::string name, TensorType type) {
  Value v{static_cast<uint32_t>(nodes_.size())};
  Node node;
  node.op = OpKind::Parameter;
  node.type = std::move(type);
  node.param_name = std::move(name);
  nodes_.push_back(std::move(node));
  params_.push_back(v);
  return v;
}

Value Function::add(OpKind op, std::vector<Value> operands, Attrs attrs,
                    std::optional<TensorType> declared) {
  assert(op != OpKind::Parameter && "use add_param");
  std::vector<TensorType> operand_types;
  operand_types.reserve(operands.size());
  for (Value v : operands) {
    assert(v.valid() && v.id < nodes_.size() && "operand from another function");
    operand_types.push_back(nodes_[v.id].type);
  }
  TensorType type = infer_type(op, operand_types, attrs, declared);
  attrs = canonical_attrs(op, std::move(attrs), type);
  Key key{op, operands, attrs, type};
  if (auto it = interned_.find(key); it != interned_.end()) return it->second;
  Value v{static_cast<uint32_t>(nodes_.size())};
  nodes_.push_back(Node{op, std::move(operands), std::move(attrs), std::move(type), {}});
  interned_.emplace(std::move(key), v);
  return v;
}

void Function::set_results(std::vector<Value> results) {
  for ([[maybe_unused]] Value v : results)
    assert(v.valid() && v.id < nodes_.size());
  results_ = std::move(results);
}

std::vector<TensorType> Function::param_types() const {
  std::vector<TensorType> out;
  for (Value v : params_)
    out.push_back(type(v));
  return out;
}

std::vector<TensorType> Function::result_types() const {
  std::vector<TensorType> out;
  for (Value v : results_)
    out.push_back(type(v));
  return out;
}

std::optional<Value> Function::find_param(std::string_view name) const {
  for (Value v : params_)
    if (node(v).param_name == name) return v;
  return std::nullopt;
}

size_t Function::structural_hash() const {
  size_t h = nodes_.size();
  for (const Node& node : nodes_) {
    h = hash_combine(h, static_cast<size_t>(node.op));
    h = hash_combine(h, hash_type(node.type));
    h = hash_combine(h, node.attrs.hash());
    for (Value v : node.operands)
      h = hash_combine(h, v.id);
  }
  for (Value v : params_)
    h = hash_combine(h, v.id);
  h = hash_combine(h, 0x5eed);
  for (Value v : results_)
    h = hash_combine(h, v.id);
  return h;
}

const Function* Module::find(std::string_view name) const {
  for (const Function& f : functions)
    if (f.name() == name) return &f;
  return nullptr;
}

}  // namespace kiln::ir
