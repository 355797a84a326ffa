#include "ir/op_attrs.h"

#include <cassert>

#include "ir/function.h"

namespace kiln::ir {

namespace {

template <AttrKind kind>
typename detail::AttrValueType<kind>::type from_attr(const Attr& attr) {
  if constexpr (kind == AttrKind::Int) {
    return attr.as_int();
  } else if constexpr (kind == AttrKind::IntList) {
    auto list = attr.as_int_list();
    assert(list && "integer list checked by the op's rule");
    return *list;
  } else if constexpr (kind == AttrKind::Value) {
    return attr;
  } else if constexpr (kind == AttrKind::Bool) {
    return attr.as_bool();
  } else {
    static_assert(kind == AttrKind::String);
    return attr.as_string();
  }
}

template <AttrKind kind>
Attr to_attr(typename detail::AttrValueType<kind>::type value) {
  if constexpr (kind == AttrKind::IntList)
    return int_list(value);
  else
    return Attr(std::move(value));
}

template <AttrKind kind, AttrPresence presence, typename Default>
void read_field(const Attrs& attrs, std::string_view name, AttrFieldType<kind, presence>& field,
                [[maybe_unused]] Default default_value) {
  const Attr* attr = attrs.find(name);
  if constexpr (presence == AttrPresence::Required) {
    assert(attr && "required attribute checked by the op's rule");
    field = from_attr<kind>(*attr);
  } else if constexpr (presence == AttrPresence::Optional) {
    if (attr) field = from_attr<kind>(*attr);
  } else {
    field = attr ? from_attr<kind>(*attr) : default_value();
  }
}

template <AttrKind kind, AttrPresence presence, typename Default>
void write_field(Attrs& attrs, std::string_view name, AttrFieldType<kind, presence>& field,
                 [[maybe_unused]] Default default_value) {
  if constexpr (presence == AttrPresence::Required || presence == AttrPresence::Filled) {
    attrs.set(std::string(name), to_attr<kind>(std::move(field)));
  } else if constexpr (presence == AttrPresence::Optional) {
    if (field) attrs.set(std::string(name), to_attr<kind>(std::move(*field)));
  } else {
    static_assert(presence == AttrPresence::Elided);
    if (field != default_value()) attrs.set(std::string(name), to_attr<kind>(std::move(field)));
  }
}

}  // namespace

// `v` is the view being read or written: the defaults in KILN_ATTR_FAMILIES name it.
#define KILN_ATTR_READ_FIELD(kind, name, presence, ...)                    \
  read_field<AttrKind::kind, AttrPresence::presence>(attrs, #name, v.name, \
                                                     [&] { return __VA_ARGS__; });
#define KILN_ATTR_READ(Family, view, FIELDS)       \
  Family##Attrs view##_attrs(const Attrs& attrs) { \
    Family##Attrs v;                               \
    FIELDS                                         \
    return v;                                      \
  }
KILN_ATTR_FAMILIES(KILN_ATTR_READ, KILN_ATTR_READ_FIELD)
#undef KILN_ATTR_READ
#undef KILN_ATTR_READ_FIELD

#define KILN_ATTR_WRITE_FIELD(kind, name, presence, ...)                    \
  write_field<AttrKind::kind, AttrPresence::presence>(attrs, #name, v.name, \
                                                      [&] { return __VA_ARGS__; });
#define KILN_ATTR_WRITE(Family, view, FIELDS) \
  Attrs make_attrs(Family##Attrs v) {         \
    Attrs attrs;                              \
    FIELDS                                    \
    return attrs;                             \
  }
KILN_ATTR_FAMILIES(KILN_ATTR_WRITE, KILN_ATTR_WRITE_FIELD)
#undef KILN_ATTR_WRITE
#undef KILN_ATTR_WRITE_FIELD

#define KILN_ATTR_READ_NODE(Family, view, FIELDS)                                        \
  Family##Attrs view##_attrs(const Node& node) {                                         \
    assert(op_info(node.op).attr_family == AttrFamily::Family && "an op of the family"); \
    return view##_attrs(node.attrs);                                                     \
  }
KILN_ATTR_FAMILIES(KILN_ATTR_READ_NODE, KILN_ATTR_NO_FIELDS)
#undef KILN_ATTR_READ_NODE

#define KILN_ATTR_SPEC(kind, name, presence, ...) \
  AttrSpec{#name, AttrKind::kind, AttrPresence::presence},
#define KILN_ATTR_SCHEMA_CASE(Family, view, FIELDS) \
  case AttrFamily::Family: {                        \
    static constexpr AttrSpec specs[] = {FIELDS};   \
    return specs;                                   \
  }
std::span<const AttrSpec> attr_schema(AttrFamily family) {
  switch (family) {
    case AttrFamily::None:
      return {};
      KILN_ATTR_FAMILIES(KILN_ATTR_SCHEMA_CASE, KILN_ATTR_SPEC)
  }
  assert(false && "every family returns above");
  return {};
}
#undef KILN_ATTR_SCHEMA_CASE
#undef KILN_ATTR_SPEC

const Attr& constant_value(const Attrs& attrs) {
  const Attr* value = attrs.find(attr_schema(AttrFamily::Constant).front().name);
  assert(value && "constant's value checked by its rule");
  return *value;
}

const Attr& constant_value(const Node& node) {
  assert(node.op == OpKind::Constant);
  return constant_value(node.attrs);
}

}  // namespace kiln::ir
