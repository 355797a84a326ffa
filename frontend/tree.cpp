#include "frontend/tree.h"

#include "ir/hash.h"

namespace kiln {

TreeDef::TreeDef(Kind kind, std::vector<TreeDef> children, std::vector<std::string> keys)
    : kind_(kind), children_(std::move(children)), keys_(std::move(keys)), num_leaves_(0) {
  if (kind_ == Kind::Leaf) num_leaves_ = 1;
  for (const TreeDef& child : children_)
    num_leaves_ += child.num_leaves_;
}

std::string TreeDef::str() const {
  if (kind_ == Kind::Leaf) return "*";
  const char* open = kind_ == Kind::Tuple ? "(" : kind_ == Kind::Sequence ? "[" : "{";
  const char* close = kind_ == Kind::Tuple ? ")" : kind_ == Kind::Sequence ? "]" : "}";
  std::string out = open;
  for (size_t i = 0; i < children_.size(); ++i) {
    if (i > 0) out += ", ";
    if (kind_ == Kind::Map) out += "'" + keys_[i] + "': ";
    out += children_[i].str();
  }
  // A one-element tuple keeps its comma, as Python writes it, so it reads apart from a group.
  if (kind_ == Kind::Tuple && children_.size() == 1) out += ",";
  return out + close;
}

size_t TreeDef::hash() const {
  size_t h = static_cast<size_t>(kind_) * 31 + children_.size();
  auto mix = [&h](size_t v) { h = ir::hash_combine(h, v); };
  for (const std::string& key : keys_)
    mix(std::hash<std::string>{}(key));
  for (const TreeDef& child : children_)
    mix(child.hash());
  return h;
}

}  // namespace kiln
