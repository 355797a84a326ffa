// Checks the reference interpreter against goldens computed by numpy
// (tests/golden/gen_goldens.py, which documents the file format). Each case applies one op
// to parameters; the result must match exactly, or within a few ulps of its dtype for cases
// marked "approx" (transcendental functions, where libms differ in the last bit). Any NaN
// matches any NaN; signed zeros must match in exact cases.

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "ir/function.h"
#include "ir/half.h"
#include "ir/interpreter.h"

namespace kiln::ir {
namespace {

using nlohmann::json;

const char* const kGoldenFiles[] = {"unary.json",          "binary.json",        "compare.json",
                                    "select_convert.json", "constant_iota.json", "movement.json",
                                    "gather.json",         "reduce.json",        "dot.json",
                                    "bits.json",           "along.json",         "scan.json"};

json load_golden(const std::string& file) {
  std::ifstream in(std::filesystem::path(KILN_GOLDEN_DIR) / file);
  if (!in) ADD_FAILURE() << "cannot open golden file " << file;
  return in ? json::parse(in) : json::object({{"cases", json::array()}});
}

double special_float(const std::string& s) {
  if (s == "nan") return std::nan("");
  if (s == "inf") return INFINITY;
  if (s == "-inf") return -INFINITY;
  ADD_FAILURE() << "unknown float string " << s;
  return 0.0;
}

double number(const json& v) {
  if (v.is_string()) return special_float(v.get<std::string>());
  if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
  return v.get<double>();
}

Attr attr_of(const json& v) {
  if (v.is_array()) {
    AttrList list;
    for (const json& element : v)
      list.push_back(attr_of(element));
    return list;
  }
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s != "nan" && s != "inf" && s != "-inf") return s;  // a string attribute (a mode)
  }
  return number(v);  // a float or one of the float strings
}

TensorType type_of(const json& t) {
  auto dtype = parse_dtype(t.at("dtype").get<std::string>());
  EXPECT_TRUE(dtype.has_value()) << t.at("dtype");
  return {dtype.value_or(DType::F32), t.at("shape").get<Shape>()};
}

HostArray array_of(const json& t) {
  HostArray a(type_of(t));
  const json& data = t.at("data");
  EXPECT_EQ(static_cast<int64_t>(data.size()), a.num_elements());
  for (int64_t i = 0; i < a.num_elements() && i < static_cast<int64_t>(data.size()); ++i) {
    const json& v = data[i];
    if (is_float(a.dtype()))
      a.set_f64(i, number(v));  // the generator wrote values exact in the dtype
    else
      a.set_i64(i, v.is_boolean() ? int64_t{v.get<bool>()} : v.get<int64_t>());
  }
  return a;
}

// The value's position among the dtype's floats, so that adjacent floats differ by 1.
int64_t float_ordinal(double v, DType dtype) {
  uint64_t bits = 0, sign_bit = 0;
  switch (dtype) {
    case DType::F16:
      bits = float_to_f16(static_cast<float>(v)), sign_bit = 0x8000u;
      break;
    case DType::BF16:
      bits = float_to_bf16(static_cast<float>(v)), sign_bit = 0x8000u;
      break;
    case DType::F32:
      bits = std::bit_cast<uint32_t>(static_cast<float>(v)), sign_bit = 0x80000000u;
      break;
    default:
      bits = std::bit_cast<uint64_t>(v), sign_bit = uint64_t{1} << 63;
      break;
  }
  const int64_t magnitude = static_cast<int64_t>(bits & ~sign_bit);
  return (bits & sign_bit) ? -magnitude : magnitude;
}

// "special" cases (lgamma, digamma) allow more in f64, where the interpreter's double is the
// result itself (see gen_goldens.py).
int64_t allowed_ulps(DType dtype, bool special) {
  switch (dtype) {
    case DType::F16:
    case DType::BF16:
      return 1;
    case DType::F32:
      return 2;
    default:
      return special ? 16 : 4;
  }
}

// Empty if the element matches, else why not.
std::string mismatch(double expected, double actual, DType dtype, bool approx, bool special) {
  const bool nan_e = std::isnan(expected), nan_a = std::isnan(actual);
  if (nan_e || nan_a) return nan_e == nan_a ? "" : "NaN on one side only";
  if (!approx || std::isinf(expected) || std::isinf(actual)) {
    if (expected == actual && std::signbit(expected) == std::signbit(actual)) return "";
    return "not bit-identical";
  }
  const int64_t ulps = std::llabs(float_ordinal(expected, dtype) - float_ordinal(actual, dtype));
  if (ulps <= allowed_ulps(dtype, special)) return "";
  return std::to_string(ulps) + " ulps apart";
}

void run_case(const json& c) {
  const std::string name = c.at("name").get<std::string>();
  SCOPED_TRACE("golden case " + name);
  const std::string op_text = c.at("op").get<std::string>();
  auto op = op_from_name(op_text);
  if (!op) {
    ADD_FAILURE() << "unknown op " << op_text;
    return;
  }
  Attrs attrs;
  for (const auto& [key, value] : c.at("attrs").items())
    attrs.set(key, attr_of(value));
  const HostArray expected = array_of(c.at("result"));

  Function f("golden");
  std::vector<Value> params;
  std::vector<HostArray> args;
  for (const json& operand : c.at("operands")) {
    args.push_back(array_of(operand));
    params.push_back(f.add_param("a" + std::to_string(params.size()), args.back().type()));
  }
  std::optional<TensorType> declared;
  if (op_info(*op).declares_result_type) declared = expected.type();
  Value result;
  try {
    result = f.add(*op, params, attrs, declared);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "building the op failed: " << e.what();
    return;
  }
  f.set_results({result});
  std::vector<HostArray> out = interpret(f, args);
  if (out.size() != 1 || out[0].type() != expected.type()) {
    ADD_FAILURE() << "result type " << (out.empty() ? "none" : out[0].type().str()) << ", expected "
                  << expected.type().str();
    return;
  }
  const std::string tolerance = c.value("tolerance", "exact");
  const bool special = tolerance == "special", approx = tolerance == "approx" || special;
  const bool floats = is_float(expected.dtype());
  int reported = 0;
  for (int64_t i = 0; i < expected.num_elements() && reported < 5; ++i) {
    std::string why;
    if (floats)
      why = mismatch(expected.get_f64(i), out[0].get_f64(i), expected.dtype(), approx, special);
    else if (expected.get_i64(i) != out[0].get_i64(i))
      why = "differs";
    if (why.empty()) continue;
    ++reported;
    ADD_FAILURE() << "element " << i << ": expected "
                  << (floats ? std::to_string(expected.get_f64(i))
                             : std::to_string(expected.get_i64(i)))
                  << ", got "
                  << (floats ? std::to_string(out[0].get_f64(i))
                             : std::to_string(out[0].get_i64(i)))
                  << " (" << why << ")";
  }
}

void run_file(const std::string& file) {
  const json golden = load_golden(file);
  for (const json& c : golden.at("cases"))
    run_case(c);
  EXPECT_FALSE(golden.at("cases").empty()) << file;
}

TEST(GoldenTest, Unary) {
  run_file("unary.json");
}
TEST(GoldenTest, Binary) {
  run_file("binary.json");
}
TEST(GoldenTest, Compare) {
  run_file("compare.json");
}
TEST(GoldenTest, SelectConvert) {
  run_file("select_convert.json");
}
TEST(GoldenTest, ConstantIota) {
  run_file("constant_iota.json");
}
TEST(GoldenTest, Movement) {
  run_file("movement.json");
}
TEST(GoldenTest, Gather) {
  run_file("gather.json");
}
TEST(GoldenTest, Reduce) {
  run_file("reduce.json");
}
TEST(GoldenTest, Dot) {
  run_file("dot.json");
}
TEST(GoldenTest, Scans) {
  run_file("scan.json");
}
TEST(GoldenTest, AlongAxis) {
  run_file("along.json");
}
TEST(GoldenTest, BitsShiftsBitcastsAndRngBits) {
  run_file("bits.json");
}

// Every op in the table has goldens, so a new op cannot slip in without them.
TEST(GoldenTest, EveryOpIsCovered) {
  std::set<std::string> covered;
  for (const char* file : kGoldenFiles) {
    const json golden = load_golden(file);
    for (const json& c : golden.at("cases"))
      covered.insert(c.at("op").get<std::string>());
  }
  for (OpKind op : all_ops()) {
    if (op == OpKind::Call) continue;  // needs a module: Interpreter.Calls* cover it
    EXPECT_TRUE(covered.count(std::string(op_name(op)))) << "no goldens for " << op_name(op);
  }
}

}  // namespace
}  // namespace kiln::ir
