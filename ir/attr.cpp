#include "ir/attr.h"

#include <bit>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>

#include "ir/array.h"
#include "ir/hash.h"

namespace kiln::ir {

namespace {
// The identity of a float attribute: its bits, with every NaN the same.
uint64_t float_bits(double v) {
  return std::isnan(v) ? 0x7ff8000000000000ull : std::bit_cast<uint64_t>(v);
}
}  // namespace

bool operator==(const DenseElements& a, const DenseElements& b) {
  return a.array == b.array || *a.array == *b.array;
}

bool Attr::operator==(const Attr& other) const {
  if (is_float() && other.is_float()) return float_bits(as_float()) == float_bits(other.as_float());
  return value == other.value;  // lists recurse through this operator
}

Attr element_attr(const HostArray& array, int64_t i) {
  const DType d = array.dtype();
  if (d == DType::Bool) return array.get_i64(i) != 0;
  if (is_float(d)) return array.get_f64(i);
  return array.get_i64(i);
}

namespace {

Attr nested_from(const HostArray& array, size_t depth, int64_t& next) {
  const Shape& shape = array.shape();
  if (depth == shape.size()) return element_attr(array, next++);
  AttrList list;
  list.reserve(static_cast<size_t>(shape[depth]));
  for (int64_t i = 0; i < shape[depth]; ++i)
    list.push_back(nested_from(array, depth + 1, next));
  return list;
}

}  // namespace

Attr nested_list(const HostArray& array) {
  int64_t next = 0;
  return nested_from(array, 0, next);
}

namespace {
void flatten_into(const Attr& value, std::vector<Attr>& out) {
  if (value.is_dense()) return flatten_into(nested_list(value.as_dense()), out);
  if (!value.is_list()) {
    out.push_back(value);
    return;
  }
  for (const Attr& element : value.as_list())
    flatten_into(element, out);
}
}  // namespace

std::vector<Attr> flat_elements(const Attr& value) {
  std::vector<Attr> out;
  flatten_into(value, out);
  return out;
}

Attr constant_value_of(const HostArray& array) {
  if (array.shape().empty()) return element_attr(array, 0);
  return DenseElements{std::make_shared<const HostArray>(array)};
}

std::optional<std::vector<int64_t>> Attr::as_int_list() const {
  if (!is_list()) return std::nullopt;
  std::vector<int64_t> out;
  for (const Attr& a : as_list()) {
    if (!a.is_int()) return std::nullopt;
    out.push_back(a.as_int());
  }
  return out;
}

Attr int_list(const std::vector<int64_t>& values) {
  AttrList list;
  list.reserve(values.size());
  for (int64_t v : values)
    list.emplace_back(v);
  return Attr(std::move(list));
}

size_t hash_attr(const Attr& attr) {
  size_t h = attr.value.index();
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, AttrList>) {
          for (const Attr& a : v)
            h = hash_combine(h, hash_attr(a));
        } else if constexpr (std::is_same_v<T, DenseElements>) {
          h = hash_combine(h, static_cast<size_t>(v.array->dtype()));
          for (int64_t d : v.array->shape())
            h = hash_combine(h, static_cast<size_t>(d));
          h = hash_combine(h, fnv1a64(v.array->bytes()));
        } else if constexpr (std::is_same_v<T, DType>) {
          h = hash_combine(h, static_cast<size_t>(v));
        } else if constexpr (std::is_same_v<T, double>) {
          h = hash_combine(h, float_bits(v));
        } else {
          h = hash_combine(h, std::hash<T>{}(v));
        }
      },
      attr.value);
  return h;
}

std::string float_str(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  assert(ec == std::errc());
  std::string s(buffer, end);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

std::string attr_str(const Attr& attr) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          return std::to_string(v);
        } else if constexpr (std::is_same_v<T, double>) {
          return float_str(v);
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, DType>) {
          return std::string(dtype_name(v));
        } else if constexpr (std::is_same_v<T, std::string>) {
          std::string s = "\"";
          for (char c : v) {
            if (c == '"' || c == '\\') s += '\\';
            if (c == '\n') {
              s += "\\n";
              continue;
            }
            s += c;
          }
          return s + "\"";
        } else if constexpr (std::is_same_v<T, DenseElements>) {
          return attr_str(nested_list(*v.array));
        } else {
          std::string s = "[";
          for (size_t i = 0; i < v.size(); ++i) {
            if (i) s += ",";
            s += attr_str(v[i]);
          }
          return s + "]";
        }
      },
      attr.value);
}

const Attr* Attrs::find(std::string_view name) const {
  auto it = map_.find(name);
  return it == map_.end() ? nullptr : &it->second;
}

const Attr& Attrs::get(const std::string& name) const {
  const Attr* attr = find(name);
  assert(attr && "attribute checked by the verifier");
  return *attr;
}

std::vector<int64_t> Attrs::get_ints(const std::string& name) const {
  auto list = get(name).as_int_list();
  assert(list && "integer list checked by the verifier");
  return *list;
}

size_t Attrs::hash() const {
  size_t h = map_.size();
  for (const auto& [name, value] : map_)
    h = hash_combine(hash_combine(h, std::hash<std::string>{}(name)), hash_attr(value));
  return h;
}

}  // namespace kiln::ir
