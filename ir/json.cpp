#include "ir/json.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "ir/json_attr.h"
#include "ir/parser.h"
#include "ir/syntax.h"
#include "ir/verifier.h"

namespace kiln::ir {

using nlohmann::json;

namespace {

constexpr int kFormatVersion = 1;

json names_json(const std::vector<Value>& values, const std::vector<std::string>& names) {
  json list = json::array();
  for (Value v : values)
    list.push_back(names[v.id]);
  return list;
}

json function_to_json(const Function& f) {
  std::vector<std::string> names = value_names(f);
  json params = json::array();
  for (Value p : f.params())
    params.push_back({{"name", names[p.id]}, {"type", f.type(p).str()}});
  json body = json::array();
  for (size_t i = 0; i < f.num_nodes(); ++i) {
    const Node& node = f.nodes()[i];
    if (node.op == OpKind::Parameter) continue;
    json attrs = json::object();
    for (const auto& [name, value] : written_attrs(node))
      attrs[std::string(name)] = attr_to_json(*value);
    body.push_back({{"name", names[i]},
                    {"op", std::string(op_name(node.op))},
                    {"operands", names_json(node.operands, names)},
                    {"attrs", std::move(attrs)},
                    {"type", node.type.str()}});
  }
  return {{"name", f.name()},
          {"params", std::move(params)},
          {"body", std::move(body)},
          {"results", names_json(f.results(), names)}};
}

[[noreturn]] void json_error(std::string_view filename, const std::string& pointer,
                             const std::string& message) {
  throw ParseError(std::string(filename) + ": error: " + (pointer.empty() ? "" : pointer + ": ") +
                   message);
}

// JSON pointer syntax (RFC 6901) for one member name.
std::string pointer_token(std::string_view key) {
  std::string s;
  for (char c : key) {
    if (c == '~')
      s += "~0";
    else if (c == '/')
      s += "~1";
    else
      s += c;
  }
  return s;
}

// A value name as messages write it: %x, or quoted when it is not a name at all.
std::string value_ref(const std::string& name) {
  return is_value_name(name) && name.size() <= 40 ? "%" + name : quote_text(name);
}

std::string at(const std::string& pointer, std::string_view key) {
  return pointer + "/" + pointer_token(key);
}
std::string at(const std::string& pointer, size_t index) {
  return pointer + "/" + std::to_string(index);
}

// Reads one attribute value; kinds are checked before any accessor runs.
class AttrReader {
 public:
  explicit AttrReader(std::string_view filename) : filename_(filename) {}
  Attr read(const json& j, const std::string& pointer, int depth) const;

 private:
  [[noreturn]] void fail(const std::string& pointer, const std::string& message) const {
    json_error(filename_, pointer, message);
  }
  Attr read_tagged(const json& j, const std::string& pointer) const;

  std::string_view filename_;
};

Attr AttrReader::read(const json& j, const std::string& pointer, int depth) const {
  switch (j.type()) {
    case json::value_t::number_integer:
      return Attr(j.get<int64_t>());
    case json::value_t::number_unsigned: {
      auto value = j.get<uint64_t>();
      if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        fail(pointer, "integer " + std::to_string(value) + " does not fit in 64 bits");
      return Attr(static_cast<int64_t>(value));
    }
    case json::value_t::number_float:
      return Attr(j.get<double>());
    case json::value_t::boolean:
      return Attr(j.get<bool>());
    case json::value_t::string:
      return Attr(j.get<std::string>());
    case json::value_t::array: {
      if (depth >= kMaxAttrDepth)
        fail(pointer,
             "attribute lists nest deeper than " + std::to_string(kMaxAttrDepth) + " levels");
      AttrList list;
      for (size_t i = 0; i < j.size(); ++i)
        list.push_back(read(j[i], at(pointer, i), depth + 1));
      return Attr(std::move(list));
    }
    case json::value_t::object:
      return read_tagged(j, pointer);
    default:
      break;
  }
  fail(pointer, std::string("expected an attribute value, got ") + j.type_name());
}

// {"float": 1.5}, {"float": "nan"} or {"dtype": "f32"}: the kinds JSON cannot say directly.
Attr AttrReader::read_tagged(const json& j, const std::string& pointer) const {
  if (j.size() == 1 && j.contains("dtype")) {
    const json& dtype_json = j["dtype"];
    if (!dtype_json.is_string())
      fail(at(pointer, "dtype"), std::string("expected a string, got ") + dtype_json.type_name());
    const std::string& name = dtype_json.get_ref<const std::string&>();
    if (auto dtype = parse_dtype(name)) return Attr(*dtype);
    fail(at(pointer, "dtype"), "unknown dtype " + quote_text(name));
  }
  if (j.size() == 1 && j.contains("float")) {
    const json& value = j["float"];
    if (value.is_number()) return Attr(value.get<double>());
    if (value.is_string()) {
      const std::string& word = value.get_ref<const std::string&>();
      if (word == "nan") return Attr(std::numeric_limits<double>::quiet_NaN());
      if (word == "inf") return Attr(std::numeric_limits<double>::infinity());
      if (word == "-inf") return Attr(-std::numeric_limits<double>::infinity());
    }
    fail(at(pointer, "float"),
         "expected a number, \"nan\", \"inf\" or \"-inf\", got " + value.dump());
  }
  fail(pointer, "an attribute object is {\"float\": ...} or {\"dtype\": ...}, got " + j.dump());
}

// Reads a module, checking every field's kind before it touches it, so that no JSON (however
// odd) reaches an nlohmann accessor that would throw or a rule that would assert.
class JsonReader {
 public:
  explicit JsonReader(std::string_view filename) : filename_(filename) {}

  Module read_module(const json& root) {
    check_fields(root, "", {"version", "functions"});
    if (root.contains("version")) {
      const json& version = root["version"];
      if (!version.is_number_integer() || version.get<int64_t>() != kFormatVersion)
        fail("/version", "unsupported version " + version.dump() + " (this reader knows " +
                             std::to_string(kFormatVersion) + ")");
    }
    Module module;
    const json& functions = array_field(root, "", "functions");
    // As in text, where an empty file is an error: a module holds at least one function.
    if (functions.empty()) fail("/functions", "a module holds at least one function");
    for (size_t i = 0; i < functions.size(); ++i)
      module.functions.push_back(read_function(functions[i], at("/functions", i)));
    check_calls(module);
    return module;
  }

 private:
  using Names = std::unordered_map<std::string, Value>;

  // As the text parser does once a file is read: calls against their callees, no recursion.
  void check_calls(const Module& module) const {
    for (size_t i = 0; i < module.functions.size(); ++i) {
      const Function& f = module.functions[i];
      const std::vector<std::string> names = value_names(f);
      for (size_t k = 0; k < f.num_nodes(); ++k) {
        const Node& node = f.nodes()[k];
        if (node.op != OpKind::Call) continue;
        std::vector<TensorType> args;
        for (Value v : node.operands)
          args.push_back(f.type(v));
        if (auto rule = call_rule_broken(module, node, args))
          fail(at("/functions", i), "%" + names[k] + " = call: " + *rule);
      }
    }
    if (auto cycle = recursion_in(module))
      fail("/functions",
           "@" + cycle->first + " calls itself (" + cycle->second + "); recursion is not allowed");
  }

  [[noreturn]] void fail(const std::string& pointer, const std::string& message) const {
    json_error(filename_, pointer, message);
  }

  void check_fields(const json& object, const std::string& pointer,
                    std::initializer_list<std::string_view> known) const {
    if (!object.is_object())
      fail(pointer, std::string("expected an object, got ") + object.type_name());
    for (const auto& [key, value] : object.items())
      if (std::find(known.begin(), known.end(), key) == known.end())
        fail(at(pointer, key), "unknown field " + quote_text(key));
  }

  const json& field(const json& object, const std::string& pointer, const char* key) const {
    if (!object.contains(key)) fail(pointer, std::string("missing field '") + key + "'");
    return object[key];
  }

  const json& array_field(const json& object, const std::string& pointer, const char* key) const {
    const json& value = field(object, pointer, key);
    if (!value.is_array())
      fail(at(pointer, key), std::string("expected an array, got ") + value.type_name());
    return value;
  }

  const std::string& string_at(const json& value, const std::string& pointer) const {
    if (!value.is_string())
      fail(pointer, std::string("expected a string, got ") + value.type_name());
    return value.get_ref<const std::string&>();
  }

  TensorType type_at(const json& value, const std::string& pointer) const {
    try {
      return parse_type_string(string_at(value, pointer));
    } catch (const SyntaxError& e) {
      fail(pointer, e.message);
    }
  }

  std::string new_name(const json& value, const std::string& pointer, const Names& names) const {
    const std::string& name = string_at(value, pointer);
    if (!is_value_name(name))
      fail(pointer, "a value name is digits or an identifier, got " + quote_text(name));
    if (names.count(name)) fail(pointer, "redefinition of value %" + name);
    return name;
  }

  Value lookup(const json& value, const std::string& pointer, const Names& names) const {
    const std::string& name = string_at(value, pointer);
    auto it = names.find(name);
    if (it == names.end()) fail(pointer, "use of undefined value " + value_ref(name));
    return it->second;
  }

  Function read_function(const json& j, const std::string& pointer);
  void read_params(Function& f, const json& params, const std::string& pointer, Names& names);
  void read_statement(Function& f, const json& j, const std::string& pointer, Names& names);

  std::string_view filename_;
  std::unordered_set<std::string> function_names_;
};

Function JsonReader::read_function(const json& j, const std::string& pointer) {
  check_fields(j, pointer, {"name", "params", "body", "results"});
  const std::string& name = string_at(field(j, pointer, "name"), at(pointer, "name"));
  if (!is_identifier(name))
    fail(at(pointer, "name"), "a function name is an identifier, got " + quote_text(name));
  if (!function_names_.insert(name).second)
    fail(at(pointer, "name"), "redefinition of function @" + name);
  Function f(name);
  Names names;
  read_params(f, array_field(j, pointer, "params"), at(pointer, "params"), names);
  const json& body = array_field(j, pointer, "body");
  for (size_t i = 0; i < body.size(); ++i)
    read_statement(f, body[i], at(at(pointer, "body"), i), names);
  const json& results = array_field(j, pointer, "results");
  if (results.empty()) fail(at(pointer, "results"), "a function returns at least one value");
  std::vector<Value> values;
  for (size_t i = 0; i < results.size(); ++i)
    values.push_back(lookup(results[i], at(at(pointer, "results"), i), names));
  f.set_results(std::move(values));
  return f;
}

void JsonReader::read_params(Function& f, const json& params, const std::string& pointer,
                             Names& names) {
  for (size_t i = 0; i < params.size(); ++i) {
    std::string p = at(pointer, i);
    check_fields(params[i], p, {"name", "type"});
    std::string name = new_name(field(params[i], p, "name"), at(p, "name"), names);
    TensorType type = type_at(field(params[i], p, "type"), at(p, "type"));
    names.emplace(name, f.add_param(name, std::move(type)));
  }
}

void JsonReader::read_statement(Function& f, const json& j, const std::string& pointer,
                                Names& names) {
  check_fields(j, pointer, {"name", "op", "operands", "attrs", "type"});
  std::string name = new_name(field(j, pointer, "name"), at(pointer, "name"), names);
  const std::string& op_text = string_at(field(j, pointer, "op"), at(pointer, "op"));
  std::optional<OpKind> op = op_from_name(op_text);
  if (!op) fail(at(pointer, "op"), "unknown op " + quote_text(op_text));
  std::vector<Value> operands;
  if (j.contains("operands")) {
    const json& list = array_field(j, pointer, "operands");
    for (size_t i = 0; i < list.size(); ++i)
      operands.push_back(lookup(list[i], at(at(pointer, "operands"), i), names));
  }
  Attrs attrs;
  if (j.contains("attrs")) {
    const json& dict = j["attrs"];
    if (!dict.is_object())
      fail(at(pointer, "attrs"), std::string("expected an object, got ") + dict.type_name());
    for (const auto& [key, value] : dict.items())
      attrs.set(key, attr_from_json(value, filename_, at(at(pointer, "attrs"), key)));
  }
  TensorType type = type_at(field(j, pointer, "type"), at(pointer, "type"));
  try {
    names.emplace(name, add_written_op(f, *op, std::move(operands), std::move(attrs), type));
  } catch (const OpRuleError& e) {
    fail(e.at_type ? at(pointer, "type") : pointer, e.message);
  }
}

}  // namespace

json attr_to_json(const Attr& attr) {
  return std::visit(
      [](const auto& v) -> json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, double>) {
          if (std::isfinite(v)) return json(v);
          return json{{"float", float_str(v)}};
        } else if constexpr (std::is_same_v<T, DType>) {
          return json{{"dtype", std::string(dtype_name(v))}};
        } else if constexpr (std::is_same_v<T, AttrList>) {
          json list = json::array();
          for (const Attr& a : v)
            list.push_back(attr_to_json(a));
          return list;
        } else if constexpr (std::is_same_v<T, DenseElements>) {
          return attr_to_json(nested_list(*v.array));
        } else {
          return json(v);  // int64_t, bool, std::string
        }
      },
      attr.value);
}

Attr attr_from_json(const json& value, std::string_view filename, const std::string& pointer) {
  return AttrReader(filename).read(value, pointer, 0);
}

json to_json(const Module& module) {
  json functions = json::array();
  for (const Function& f : module.functions)
    functions.push_back(function_to_json(f));
  return {{"version", kFormatVersion}, {"functions", std::move(functions)}};
}

Module module_from_json(const json& root, std::string_view filename) {
  try {
    return JsonReader(filename).read_module(root);
  } catch (const nlohmann::json::exception& e) {
    // The reader checks kinds before it reads; this is a backstop so that no JSON, however
    // odd, escapes as anything but a ParseError.
    throw ParseError(std::string(filename) + ": error: " + e.what());
  }
}

Module parse_json(std::string_view text, std::string_view filename) {
  json root;
  try {
    root = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    // A syntax error, or a number too large for a double (out_of_range.406). Drop nlohmann's
    // "[json.exception.parse_error.101] " tag; keep its line and column.
    std::string what = e.what();
    size_t tag_end = what.find("] ");
    throw ParseError(std::string(filename) + ": error: " +
                     (tag_end == std::string::npos ? what : what.substr(tag_end + 2)));
  }
  return module_from_json(root, filename);
}

}  // namespace kiln::ir
