#pragma once
// Op attributes: integers, floats, booleans, dtypes, strings, (nested) lists of them, and dense
// elements (a constant's values as bytes). An op's attributes are a name-sorted dictionary so
// that equal ops compare and hash equal.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ir/dtype.h"

namespace kiln::ir {

struct Attr;
using AttrList = std::vector<Attr>;
class HostArray;

// A constant's elements as their bytes and type, shared with the array they came from: what
// tracing and constant folding make, where a nested list would cost some 40 bytes an element.
// It prints, and goes to JSON, as the nested list it stands for (so text is unchanged), and
// compares and hashes by content. The parser makes lists; only code makes these.
struct DenseElements {
  std::shared_ptr<const HostArray> array;
};

struct Attr {
  std::variant<int64_t, double, bool, DType, std::string, AttrList, DenseElements> value;

  Attr() : value(int64_t{0}) {}
  Attr(int64_t v) : value(v) {}
  Attr(int v) : value(int64_t{v}) {}
  Attr(double v) : value(v) {}
  Attr(bool v) : value(v) {}
  Attr(DType v) : value(v) {}
  Attr(std::string v) : value(std::move(v)) {}
  Attr(const char* v) : value(std::string(v)) {}
  Attr(AttrList v) : value(std::move(v)) {}
  Attr(DenseElements v) : value(std::move(v)) {}

  bool is_int() const { return std::holds_alternative<int64_t>(value); }
  bool is_float() const { return std::holds_alternative<double>(value); }
  bool is_bool() const { return std::holds_alternative<bool>(value); }
  bool is_dtype() const { return std::holds_alternative<DType>(value); }
  bool is_string() const { return std::holds_alternative<std::string>(value); }
  bool is_list() const { return std::holds_alternative<AttrList>(value); }
  bool is_dense() const { return std::holds_alternative<DenseElements>(value); }

  int64_t as_int() const { return std::get<int64_t>(value); }
  double as_float() const { return std::get<double>(value); }
  bool as_bool() const { return std::get<bool>(value); }
  DType as_dtype() const { return std::get<DType>(value); }
  const std::string& as_string() const { return std::get<std::string>(value); }
  const AttrList& as_list() const { return std::get<AttrList>(value); }
  const HostArray& as_dense() const { return *std::get<DenseElements>(value).array; }

  // A flat list of integers, or nullopt if this is anything else.
  std::optional<std::vector<int64_t>> as_int_list() const;

  // Floats compare by bit pattern (all NaNs alike), so constants 0.0 and -0.0 stay distinct
  // under hash-consing and two NaN constants merge.
  bool operator==(const Attr& other) const;
};

Attr int_list(const std::vector<int64_t>& values);
// An array's elements as a constant's value: a scalar for rank 0, else dense elements sharing
// the array's storage.
Attr constant_value_of(const HostArray& array);
// Element i (row-major) as a scalar attribute: a double for floats, a bool, else an integer.
Attr element_attr(const HostArray& array, int64_t i);
// Dense elements as the nested list they stand for (floats as doubles, bools, integers).
Attr nested_list(const HostArray& array);
// A constant's value as its elements in row-major order (one for a scalar).
std::vector<Attr> flat_elements(const Attr& value);
size_t hash_attr(const Attr& attr);
// Text form: 3, 2.5, true, f32, "s", [1,2]. Floats always show a '.' or an exponent (or are
// nan/inf/-inf) so that they parse back as floats, and print with the fewest digits that
// round-trip.
std::string attr_str(const Attr& attr);
std::string float_str(double value);

class Attrs {
 public:
  Attrs() = default;
  Attrs(std::initializer_list<std::pair<const std::string, Attr>> init) : map_(init) {}

  void set(const std::string& name, Attr value) { map_[name] = std::move(value); }
  void erase(const std::string& name) { map_.erase(name); }
  bool has(const std::string& name) const { return map_.count(name) != 0; }
  const Attr* find(std::string_view name) const;
  // These assume the verifier has checked the attribute exists with the right kind.
  const Attr& get(const std::string& name) const;
  int64_t get_int(const std::string& name) const { return get(name).as_int(); }
  std::vector<int64_t> get_ints(const std::string& name) const;
  size_t size() const { return map_.size(); }
  auto begin() const { return map_.begin(); }
  auto end() const { return map_.end(); }
  size_t hash() const;
  bool operator==(const Attrs&) const = default;

 private:
  std::map<std::string, Attr, std::less<>> map_;  // less<>: found by string_view too
};

}  // namespace kiln::ir
