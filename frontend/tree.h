#pragma once
// Tensor trees, as JAX's pytrees: a Tensor, or a std::vector, std::array, std::tuple, std::pair
// or std::map<std::string, ...> of trees, nested to any depth. Flattening a tree gives its
// Tensors (the leaves), depth first in order, a map's in key order, and a TreeDef: the structure
// without the tensors. Unflattening rebuilds the tree from a TreeDef and leaves.
//
//   std::map<std::string, Tensor> params = {{"w", w}, {"b", b}};
//   std::vector<Tensor> leaves;
//   TreeDef def = flatten_tree(params, leaves);   // leaves {b, w}; def {'b': *, 'w': *}
//   auto same = unflatten_like(params, leaves);   // a map again
//
// The C++ type fixes a tree's structure up to vector lengths and map keys; the TreeDef records
// all of it, so that two trees of one type compare equal only when they have the same shape.
// Which types are trees, and where the frontend takes them, is decided in frontend/callable.h;
// this header only takes them apart and puts them back together.

#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "frontend/tensor.h"

namespace kiln {

// A tree's structure: what each node is and, for vectors and maps, its length and keys.
class TreeDef {
 public:
  enum class Kind {
    Leaf,      // a Tensor
    Tuple,     // a std::tuple or std::pair
    Sequence,  // a std::array or std::vector
    Map,       // a std::map<std::string, ...>, children in key order
  };

  static TreeDef leaf() { return TreeDef(Kind::Leaf, {}, {}); }
  static TreeDef tuple(std::vector<TreeDef> children) {
    return TreeDef(Kind::Tuple, std::move(children), {});
  }
  static TreeDef sequence(std::vector<TreeDef> children) {
    return TreeDef(Kind::Sequence, std::move(children), {});
  }
  static TreeDef map(std::vector<std::string> keys, std::vector<TreeDef> children) {
    return TreeDef(Kind::Map, std::move(children), std::move(keys));
  }

  Kind kind() const { return kind_; }
  const std::vector<TreeDef>& children() const { return children_; }
  const std::vector<std::string>& keys() const { return keys_; }
  size_t num_leaves() const { return num_leaves_; }

  // As JAX prints a treedef: "(*, {'b': *, 'w': *}, [*, *])".
  std::string str() const;
  size_t hash() const;
  friend bool operator==(const TreeDef&, const TreeDef&) = default;

 private:
  TreeDef(Kind kind, std::vector<TreeDef> children, std::vector<std::string> keys);

  Kind kind_;
  std::vector<TreeDef> children_;
  std::vector<std::string> keys_;
  size_t num_leaves_;
};

struct TreeDefHash {
  size_t operator()(const TreeDef& def) const { return def.hash(); }
};

namespace detail {

template <class T>
struct IsStdArray : std::false_type {};
template <class T, size_t N>
struct IsStdArray<std::array<T, N>> : std::true_type {};
template <class T>
struct IsStdVector : std::false_type {};
template <class T, class A>
struct IsStdVector<std::vector<T, A>> : std::true_type {};
template <class T>
struct IsStringMap : std::false_type {};
template <class T>
struct IsStringMap<std::map<std::string, T>> : std::true_type {};

template <class T>
inline constexpr bool dependent_false = false;

// Rebuilds a tree of type T from `def` (made by flattening a T) and the leaves from `next` on.
template <class T>
T unflatten_from(const TreeDef& def, std::span<const Tensor> leaves, size_t& next) {
  if constexpr (std::is_same_v<T, Tensor>) {
    return leaves[next++];
  } else if constexpr (IsStringMap<T>::value) {
    T out;
    for (size_t i = 0; i < def.keys().size(); ++i)
      out.emplace(def.keys()[i],
                  unflatten_from<typename T::mapped_type>(def.children()[i], leaves, next));
    return out;
  } else if constexpr (IsStdVector<T>::value) {
    T out;
    out.reserve(def.children().size());
    for (const TreeDef& child : def.children())
      out.push_back(unflatten_from<typename T::value_type>(child, leaves, next));
    return out;
  } else {
    // A braced list evaluates in order, so the leaves are taken left to right.
    return [&]<size_t... I>(std::index_sequence<I...>) {
      return T{unflatten_from<std::tuple_element_t<I, T>>(def.children()[I], leaves, next)...};
    }
    (std::make_index_sequence<std::tuple_size_v<T>>{});
  }
}

}  // namespace detail

// Appends value's tensors to `leaves` and returns its structure.
template <class T>
TreeDef flatten_tree(const T& value, std::vector<Tensor>& leaves) {
  if constexpr (std::is_same_v<T, Tensor>) {
    leaves.push_back(value);
    return TreeDef::leaf();
  } else if constexpr (detail::IsStringMap<T>::value) {
    std::vector<std::string> keys;
    std::vector<TreeDef> children;
    for (const auto& [key, child] : value) {
      keys.push_back(key);
      children.push_back(flatten_tree(child, leaves));
    }
    return TreeDef::map(std::move(keys), std::move(children));
  } else if constexpr (detail::IsStdVector<T>::value || detail::IsStdArray<T>::value) {
    std::vector<TreeDef> children;
    children.reserve(value.size());
    for (const auto& child : value)
      children.push_back(flatten_tree(child, leaves));
    return TreeDef::sequence(std::move(children));
  } else if constexpr (requires { std::tuple_size<T>::value; }) {
    return std::apply(
        [&](const auto&... child) {
          // A braced list evaluates in order, so the leaves are appended left to right.
          return TreeDef::tuple(std::vector<TreeDef>{flatten_tree(child, leaves)...});
        },
        value);
  } else {
    static_assert(detail::dependent_false<T>,
                  "kiln: a tensor tree is a Tensor, or a std::vector, std::array, std::tuple, "
                  "std::pair or std::map<std::string, ...> of tensor trees");
  }
}

// The tree `like` is, rebuilt with `leaves` in place of its tensors: gradients in the structure
// of the parameters, kiln::unflatten_like(params, kiln::grad(loss)(params, x)). Throws
// kiln::Error "[frontend] unflatten_like: ..." when the number of leaves is not like's.
template <class T>
T unflatten_like(const T& like, std::span<const Tensor> leaves) {
  std::vector<Tensor> like_leaves;
  const TreeDef def = flatten_tree(like, like_leaves);
  if (leaves.size() != def.num_leaves())
    detail::fail("unflatten_like", "got " + std::to_string(leaves.size()) +
                                       " tensors for a tree of " +
                                       std::to_string(def.num_leaves()) + ": " + def.str());
  size_t next = 0;
  return detail::unflatten_from<T>(def, leaves, next);
}
template <class T>
T unflatten_like(const T& like, const std::vector<Tensor>& leaves) {
  return unflatten_like(like, std::span<const Tensor>(leaves));
}

}  // namespace kiln
