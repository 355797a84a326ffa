#pragma once
// The attribute schema, written once: KILN_ATTR_FAMILIES lists every op family's attributes
// (name, kind, what leaving it out means, its default). From that one list come
//   - the schema the op table hands to the parser, printer, JSON form and verifier
//     (op_info(op).attrs), which work by attribute name;
//   - a typed view per family, read with `<family>_attrs(node)`:
//       dot_general_attrs(node).lhs_contract, reduce_attrs(node).axes, call_attrs(node).callee
//     with defaults filled in, so no pass looks an attribute up by its name;
//   - `make_attrs(view)`, the other direction, for code that builds ops:
//       f.add(OpKind::Transpose, {x}, make_attrs(TransposeAttrs{perm}))
// A new op with attributes adds a line here (and its family to its OpInfo row); its view,
// builder and schema follow.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ir/attr.h"

namespace kiln::ir {

struct Node;

enum class AttrKind : uint8_t {
  Int,      // an integer
  IntList,  // a list of integers
  Value,    // a scalar or a nested list (constant's value)
  String,   // a string (call's callee)
  Bool,     // true or false (a scan's reverse)
};

// What an attribute's absence means.
enum class AttrPresence : uint8_t {
  Required,  // it must be given
  Filled,    // it has a default that the canonical form writes out (slice's stride)
  Elided,    // it has a default that the canonical form leaves out (call's result)
  Optional,  // absence means something of its own, not a value (call's vjp: no custom rule)
};

struct AttrSpec {
  std::string_view name;
  AttrKind kind;
  AttrPresence presence;
  bool required() const { return presence == AttrPresence::Required; }
};

// Every family: FAMILY(Name, view, FIELDS), FIELDS a run of FIELD(kind, name, presence[,
// default]) in the order the printer writes them. A default is an expression over `v`, the view
// with the fields before it already read (a stride of ones, one per start index).
// clang-format off
#define KILN_ATTR_FAMILIES(FAMILY, FIELD)                                          \
  FAMILY(Constant, constant,                                                       \
         FIELD(Value, value, Required))                                            \
  FAMILY(Iota, iota,                                                               \
         FIELD(Int, axis, Required))                                               \
  FAMILY(RngBits, rng_bits,                                                        \
         FIELD(IntList, shape, Required))                                          \
  FAMILY(Broadcast, broadcast,                                                     \
         FIELD(IntList, shape, Required)                                           \
         FIELD(IntList, dims, Required))                                           \
  FAMILY(Reshape, reshape,                                                         \
         FIELD(IntList, shape, Required))                                          \
  FAMILY(Transpose, transpose,                                                     \
         FIELD(IntList, perm, Required))                                           \
  FAMILY(Slice, slice,                                                             \
         FIELD(IntList, start, Required)                                           \
         FIELD(IntList, limit, Required)                                           \
         FIELD(IntList, stride, Filled, std::vector<int64_t>(v.start.size(), 1)))  \
  FAMILY(Pad, pad,                                                                 \
         FIELD(IntList, low, Required)                                             \
         FIELD(IntList, high, Required)                                            \
         FIELD(IntList, interior, Filled, std::vector<int64_t>(v.low.size(), 0)))  \
  FAMILY(Concatenate, concatenate,                                                 \
         FIELD(Int, axis, Required))                                               \
  FAMILY(Reduce, reduce, /* reduce_sum, reduce_max, reduce_min, reduce_prod */     \
         FIELD(IntList, axes, Required))                                           \
  FAMILY(ArgReduce, arg_reduce, /* argmax, argmin */                               \
         FIELD(Int, axis, Required))                                               \
  FAMILY(DotGeneral, dot_general,                                                  \
         FIELD(IntList, lhs_batch, Filled, std::vector<int64_t>{})                 \
         FIELD(IntList, rhs_batch, Filled, std::vector<int64_t>{})                 \
         FIELD(IntList, lhs_contract, Required)                                    \
         FIELD(IntList, rhs_contract, Required))                                   \
  FAMILY(Take, take,                                                               \
         FIELD(Int, axis, Required))                                               \
  FAMILY(ScatterAdd, scatter_add,                                                  \
         FIELD(Int, axis, Required))                                               \
  FAMILY(AlongAxis, along_axis, /* take_along_axis */                            \
         FIELD(Int, axis, Required))                                               \
  FAMILY(ScatterAlongAxis, scatter_along_axis,                                     \
         FIELD(Int, axis, Required)                                                \
         FIELD(String, mode, Elided, std::string("add")))                          \
  FAMILY(Scan, scan, /* cumsum, cumprod, cummax, cummin, cumlogsumexp */          \
         FIELD(Int, axis, Required)                                                \
         FIELD(Bool, reverse, Elided, false))                                      \
  FAMILY(Call, call,                                                               \
         FIELD(String, callee, Required)                                           \
         FIELD(Int, result, Elided, int64_t{0})                                    \
         FIELD(String, vjp, Optional)                                              \
         FIELD(Int, checkpoint, Elided, int64_t{0}))
// clang-format on

#define KILN_ATTR_NO_FIELDS(...)
#define KILN_ATTR_FAMILY_ENUMERATOR(Family, view, FIELDS) Family,

// Which attributes an op has; ops of one family (reduce_sum and reduce_max) share them.
enum class AttrFamily : uint8_t {
  None,  // no attributes
  KILN_ATTR_FAMILIES(KILN_ATTR_FAMILY_ENUMERATOR, KILN_ATTR_NO_FIELDS)
};

#undef KILN_ATTR_FAMILY_ENUMERATOR

// The family's attributes in the order the printer writes them; empty for None.
std::span<const AttrSpec> attr_schema(AttrFamily family);

namespace detail {
template <AttrKind kind>
struct AttrValueType;
template <>
struct AttrValueType<AttrKind::Int> {
  using type = int64_t;
};
template <>
struct AttrValueType<AttrKind::IntList> {
  using type = std::vector<int64_t>;
};
template <>
struct AttrValueType<AttrKind::Value> {
  using type = Attr;
};
template <>
struct AttrValueType<AttrKind::String> {
  using type = std::string;
};
template <>
struct AttrValueType<AttrKind::Bool> {
  using type = bool;
};
}  // namespace detail

// A view field's type: the kind's C++ type, in std::optional where absence is a meaning.
template <AttrKind kind, AttrPresence presence>
using AttrFieldType = std::conditional_t<presence == AttrPresence::Optional,
                                         std::optional<typename detail::AttrValueType<kind>::type>,
                                         typename detail::AttrValueType<kind>::type>;

#define KILN_ATTR_VIEW_FIELD(kind, name, presence, ...)         \
  AttrFieldType<AttrKind::kind, AttrPresence::presence> name{}; \
  static constexpr std::string_view name##_name = #name;
// Each field comes with its attribute's name (CallAttrs::callee_name), for the text form's
// special syntax. The view reads attributes that the op's rule accepted (every node of a Function
// has); the Node overload also asserts the node's op is of the family. make_attrs writes every
// field but defaults the canonical form leaves out, and absent optional ones.
#define KILN_ATTR_VIEW(Family, view, FIELDS)               \
  struct Family##Attrs {                                   \
    FIELDS                                                 \
    bool operator==(const Family##Attrs&) const = default; \
  };                                                       \
  Family##Attrs view##_attrs(const Attrs& attrs);          \
  Family##Attrs view##_attrs(const Node& node);            \
  Attrs make_attrs(Family##Attrs view);

KILN_ATTR_FAMILIES(KILN_ATTR_VIEW, KILN_ATTR_VIEW_FIELD)

#undef KILN_ATTR_VIEW
#undef KILN_ATTR_VIEW_FIELD

// A constant's value without copying it (constant_attrs copies, and a constant may be large).
const Attr& constant_value(const Attrs& attrs);
const Attr& constant_value(const Node& node);

}  // namespace kiln::ir
