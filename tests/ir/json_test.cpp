// The JSON form: its schema, exact round trips with the text form, error pointers, and fuzzing
// of both the JSON text and the JSON tree.

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

#include "ir/json.h"
#include "ir/json_attr.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"

namespace kiln::ir {
namespace {

using nlohmann::json;

std::string kir_path(const std::string& name) {
  return std::string(KILN_SOURCE_DIR) + "/tests/ir/kir/" + name;
}

const char* const kSampleFiles[] = {"all_ops.kir", "softmax.kir", "mlp.kir", "comments.kir"};

TEST(Json, FollowsTheDocumentedSchema) {
  json expected = json::parse(R"({
    "version": 1,
    "functions": [{
      "name": "mlp",
      "params": [{"name": "x", "type": "f32[32,784]"}, {"name": "w", "type": "f32[784,128]"},
                 {"name": "b", "type": "f32[128]"}],
      "body": [
        {"name": "0", "op": "dot_general", "operands": ["x", "w"],
         "attrs": {"lhs_contract": [1], "rhs_contract": [0]}, "type": "f32[32,128]"},
        {"name": "1", "op": "broadcast", "operands": ["b"],
         "attrs": {"shape": [32, 128], "dims": [1]}, "type": "f32[32,128]"},
        {"name": "2", "op": "add", "operands": ["0", "1"], "attrs": {}, "type": "f32[32,128]"},
        {"name": "3", "op": "constant", "operands": [], "attrs": {"value": 0.0}, "type": "f32[]"},
        {"name": "4", "op": "broadcast", "operands": ["3"],
         "attrs": {"shape": [32, 128], "dims": []}, "type": "f32[32,128]"},
        {"name": "5", "op": "max", "operands": ["2", "4"], "attrs": {}, "type": "f32[32,128]"}
      ],
      "results": ["5"]
    }]
  })");
  json actual = to_json(parse_file(kir_path("mlp.kir")));
  EXPECT_EQ(actual, expected) << actual.dump(2);
  EXPECT_TRUE(actual["functions"][0]["body"][3]["attrs"]["value"].is_number_float());
}

TEST(Json, EverySampleRoundTripsThroughJsonText) {
  for (const char* name : kSampleFiles) {
    SCOPED_TRACE(name);
    Module m = parse_file(kir_path(name));
    for (int indent : {-1, 2}) {
      Module back = parse_json(to_json(m).dump(indent));
      EXPECT_EQ(print(back), print(m));
      EXPECT_NO_THROW(verify(back));
      ASSERT_EQ(back.functions.size(), m.functions.size());
      for (size_t i = 0; i < m.functions.size(); ++i)
        EXPECT_EQ(back.functions[i].structural_hash(), m.functions[i].structural_hash());
    }
  }
}

TEST(Json, ReadersAcceptTheOptionalFieldsLeftOut) {
  Module m = parse_json(R"({"functions": [{"name": "f", "params": [],
      "body": [{"name": "c", "op": "iota", "attrs": {"axis": 0}, "type": "i32[3]"},
               {"name": "n", "op": "neg", "operands": ["c"], "type": "i32[3]"}],
      "results": ["n", "c"]}]})");
  EXPECT_EQ(print(m), R"(func @f() -> (i32[3], i32[3]) {
  %0 = iota {axis=0} : i32[3]
  %1 = neg %0 : i32[3]
  return %1, %0
}
)");
}

TEST(Json, FloatsIntsAndSpecialsKeepTheirKind) {
  Module m = parse_module(R"(func @c() -> (f64[5], i64[2], f32[]) {
  %0 = constant {value=[nan,inf,-inf,-0.0,1e+300]} : f64[5]
  %1 = constant {value=[-9223372036854775808,9223372036854775807]} : i64[2]
  %2 = constant {value=3} : f32[]
  return %0, %1, %2
})");
  json j = to_json(m);
  const json& body = j["functions"][0]["body"];
  EXPECT_EQ(body[0]["attrs"]["value"].dump(),
            R"([{"float":"nan"},{"float":"inf"},{"float":"-inf"},-0.0,1e+300])");
  EXPECT_EQ(body[1]["attrs"]["value"].dump(), "[-9223372036854775808,9223372036854775807]");
  EXPECT_EQ(body[2]["attrs"]["value"].dump(), "3.0");
  Module back = parse_json(j.dump());
  EXPECT_EQ(print(back), print(m));
  EXPECT_TRUE(
      std::signbit(back.functions[0].nodes()[0].attrs.get("value").as_list()[3].as_float()));
}

TEST(JsonAttr, Encodings) {
  EXPECT_EQ(attr_to_json(Attr(3)).dump(), "3");
  EXPECT_EQ(attr_to_json(Attr(3.0)).dump(), "3.0");
  EXPECT_EQ(attr_to_json(Attr(true)).dump(), "true");
  EXPECT_EQ(attr_to_json(Attr(DType::BF16)).dump(), R"({"dtype":"bf16"})");
  EXPECT_EQ(attr_to_json(Attr("a\"b")).dump(), R"("a\"b")");
  EXPECT_EQ(attr_to_json(Attr(-std::numeric_limits<double>::infinity())).dump(),
            R"({"float":"-inf"})");
  EXPECT_EQ(attr_to_json(Attr(AttrList{1, 2.5, Attr(AttrList{})})).dump(), "[1,2.5,[]]");
  EXPECT_EQ(attr_from_json(json::parse(R"({"float": 2})")), Attr(2.0));
  EXPECT_TRUE(attr_from_json(json::parse("2")).is_int());
  EXPECT_TRUE(attr_from_json(json::parse("2.0")).is_float());
  EXPECT_EQ(attr_from_json(json::parse("9223372036854775807")), Attr(INT64_MAX));
}

bool same_attr(const Attr& a, const Attr& b) {
  if (a.is_float() && b.is_float()) {
    double x = a.as_float(), y = b.as_float();
    return std::isnan(x) ? std::isnan(y) : std::bit_cast<uint64_t>(x) == std::bit_cast<uint64_t>(y);
  }
  if (a.is_list() && b.is_list()) {
    if (a.as_list().size() != b.as_list().size()) return false;
    for (size_t i = 0; i < a.as_list().size(); ++i)
      if (!same_attr(a.as_list()[i], b.as_list()[i])) return false;
    return true;
  }
  return a == b;
}

Attr random_attr(std::mt19937_64& rng, int depth) {
  switch (rng() % (depth < 4 ? 6 : 5)) {
    case 0:
      return Attr(static_cast<int64_t>(rng()));
    case 1:
      return Attr(std::bit_cast<double>(rng()));
    case 2:
      return Attr(rng() % 2 == 0);
    case 3:
      return Attr(kAllDTypes[rng() % std::size(kAllDTypes)]);
    case 4: {  // JSON strings are UTF-8: printable ASCII and escapes
      std::string s;
      for (size_t n = rng() % 6; n > 0; --n)
        s += static_cast<char>(rng() % 96 + 31);
      return Attr(s);
    }
    default: {
      AttrList list;
      for (size_t n = rng() % 4; n > 0; --n)
        list.push_back(random_attr(rng, depth + 1));
      return Attr(list);
    }
  }
}

TEST(JsonAttr, RandomValuesRoundTripExactly) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 3000; ++i) {
    Attr a = random_attr(rng, 0);
    std::string text = attr_to_json(a).dump();
    Attr b = attr_from_json(json::parse(text));
    ASSERT_TRUE(same_attr(a, b)) << text;
  }
}

// ----- errors -----

struct JsonErrorCase {
  const char* name;
  std::string text;
  std::string message;  // after "m.json: error: "
};

// One function whose body entry 0 is `statement`.
std::string with_statement(const std::string& statement, const std::string& results = R"(["x"])") {
  return R"({"functions": [{"name": "f", "params": [{"name": "x", "type": "f32[2]"},
      {"name": "y", "type": "f32[3]"}], "body": [)" +
         statement + R"(], "results": )" + results + "}]}";
}

std::vector<JsonErrorCase> json_error_cases() {
  const std::string s = "/functions/0/body/0";
  return {
      {"syntax", "{\"functions\": [",
       "parse error at line 1, column 16: syntax error while parsing value - unexpected end of "
       "input; expected '[', '{', or a literal"},
      {"root kind", "[]", "expected an object, got array"},
      {"missing functions", "{}", "missing field 'functions'"},
      {"unknown root field", R"({"functions": [], "extra": 1})", "/extra: unknown field 'extra'"},
      {"version", R"({"version": 2, "functions": []})",
       "/version: unsupported version 2 (this reader knows 1)"},
      {"no functions", R"({"functions": []})", "/functions: a module holds at least one function"},
      {"number overflow", R"({"functions": [1e99999]})", "number overflow parsing '1e99999'"},
      {"functions kind", R"({"functions": {}})", "/functions: expected an array, got object"},
      {"function kind", R"({"functions": [7]})", "/functions/0: expected an object, got number"},
      {"function name",
       R"({"functions": [{"name": "1f", "params": [], "body": [], "results": []}]})",
       "/functions/0/name: a function name is an identifier, got '1f'"},
      {"function name kind", R"({"functions": [{"name": null}]})",
       "/functions/0/name: expected a string, got null"},
      {"duplicate function",
       R"({"functions": [{"name": "f", "params": [{"name": "x", "type": "f32[]"}], "body": [],
           "results": ["x"]}, {"name": "f"}]})",
       "/functions/1/name: redefinition of function @f"},
      {"missing params", R"({"functions": [{"name": "f"}]})",
       "/functions/0: missing field 'params'"},
      {"param kind", R"({"functions": [{"name": "f", "params": ["x"]}]})",
       "/functions/0/params/0: expected an object, got string"},
      {"param type",
       R"({"functions": [{"name": "f", "params": [{"name": "x", "type": "f31[2]"}]}]})",
       "/functions/0/params/0/type: unknown dtype 'f31'"},
      {"param type tail",
       R"({"functions": [{"name": "f", "params": [{"name": "x", "type": "f32[2] x"}]}]})",
       "/functions/0/params/0/type: unexpected 'x' after the type"},
      {"param name",
       R"({"functions": [{"name": "f", "params": [{"name": "a b", "type": "f32[2]"}]}]})",
       "/functions/0/params/0/name: a value name is digits or an identifier, got 'a b'"},
      {"param twice",
       R"({"functions": [{"name": "f", "params": [{"name": "x", "type": "f32[2]"}, {"name": "x", "type": "f32[2]"}]}]})",
       "/functions/0/params/1/name: redefinition of value %x"},
      {"huge type",
       R"({"functions": [{"name": "f", "params": [{"name": "x", "type": "f32[1048576,1048577]"}]}]})",
       "/functions/0/params/0/type: type f32[1048576,1048577] has more than 2^40 elements"},
      {"unknown field in a statement", with_statement(R"({"name": "0", "op": "neg", "typo": 1})"),
       s + "/typo: unknown field 'typo'"},
      {"unknown op", with_statement(R"({"name": "0", "op": "foo", "type": "f32[2]"})"),
       s + "/op: unknown op 'foo'"},
      {"statement name taken", with_statement(R"({"name": "y", "op": "neg", "type": "f32[2]"})"),
       s + "/name: redefinition of value %y"},
      {"operands kind",
       with_statement(R"({"name": "0", "op": "neg", "operands": "x", "type": "f32[2]"})"),
       s + "/operands: expected an array, got string"},
      {"operand kind",
       with_statement(R"({"name": "0", "op": "add", "operands": ["x", 1], "type": "f32[2]"})"),
       s + "/operands/1: expected a string, got number"},
      {"undefined operand",
       with_statement(R"({"name": "0", "op": "add", "operands": ["x", "q"], "type": "f32[2]"})"),
       s + "/operands/1: use of undefined value %q"},
      {"missing type", with_statement(R"({"name": "0", "op": "neg", "operands": ["x"]})"),
       s + ": missing field 'type'"},
      {"shape rule",
       with_statement(R"({"name": "0", "op": "add", "operands": ["x", "y"], "type": "f32[2]"})"),
       s + ": add expects operands of one shape and dtype, got f32[2] and f32[3]"},
      {"result type",
       with_statement(R"({"name": "0", "op": "neg", "operands": ["y"], "type": "f32[2]"})"),
       s + "/type: neg result type is written f32[2] but the op gives f32[3]"},
      {"attrs kind", with_statement(R"({"name": "0", "op": "neg", "attrs": [], "type": "f32[2]"})"),
       s + "/attrs: expected an object, got array"},
      {"attr null",
       with_statement(R"({"name": "0", "op": "iota", "attrs": {"axis": null}, "type": "f32[2]"})"),
       s + "/attrs/axis: expected an attribute value, got null"},
      {"attr name escaped",
       with_statement(R"({"name": "0", "op": "iota", "attrs": {"a/~b": null}, "type": "f32[2]"})"),
       s + "/attrs/a~1~0b: expected an attribute value, got null"},
      {"attr schema",
       with_statement(R"({"name": "0", "op": "iota", "attrs": {"axis": 0.0}, "type": "f32[2]"})"),
       s + ": attribute 'axis' of iota must be an integer"},
      {"unsigned overflow",
       with_statement(
           R"({"name": "0", "op": "iota", "attrs": {"axis": 18446744073709551615}, "type": "f32[2]"})"),
       s + "/attrs/axis: integer 18446744073709551615 does not fit in 64 bits"},
      {"bad float tag",
       with_statement(
           R"({"name": "0", "op": "constant", "attrs": {"value": {"float": "x"}}, "type": "f32[]"})"),
       s + "/attrs/value/float: expected a number, \"nan\", \"inf\" or \"-inf\", got \"x\""},
      {"bad dtype tag",
       with_statement(
           R"({"name": "0", "op": "constant", "attrs": {"value": [{"dtype": "f31"}]}, "type": "f32[1]"})"),
       s + "/attrs/value/0/dtype: unknown dtype 'f31'"},
      {"unknown tag",
       with_statement(
           R"({"name": "0", "op": "constant", "attrs": {"value": {"int": 1}}, "type": "f32[]"})"),
       s + "/attrs/value: an attribute object is {\"float\": ...} or {\"dtype\": ...}, got "
           "{\"int\":1}"},
      {"deep attribute",
       with_statement(R"({"name": "0", "op": "constant", "attrs": {"value": )" +
                      std::string(70, '[') + std::string(70, ']') + R"(}, "type": "f32[]"})"),
       s + "/attrs/value/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/"
           "0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0: attribute lists nest deeper "
           "than 64 levels"},
      {"no results", with_statement("", "[]"),
       "/functions/0/results: a function returns at least one value"},
      {"undefined result", with_statement("", R"(["x", "zz"])"),
       "/functions/0/results/1: use of undefined value %zz"},
      {"odd result name", with_statement("", R"(["a b"])"),
       "/functions/0/results/0: use of undefined value 'a b'"},
  };
}

TEST(JsonErrors, ExactMessageAndPointer) {
  for (const JsonErrorCase& c : json_error_cases()) {
    SCOPED_TRACE(c.name);
    try {
      Module m = parse_json(c.text, "m.json");
      ADD_FAILURE() << "parsed without error:\n" << print(m);
    } catch (const ParseError& e) {
      EXPECT_EQ(std::string(e.what()), "m.json: error: " + c.message);
    }
  }
}

// ----- fuzzing -----

std::vector<json> seed_documents() {
  std::vector<json> seeds;
  for (const char* name : kSampleFiles)
    for (const Function& f : parse_file(kir_path(name)).functions) {
      Module one;
      one.functions.push_back(f);
      seeds.push_back(to_json(one));
    }
  return seeds;
}

// Parses `text`; only ParseError may come out, and what parses must verify and print stably.
void check_json(const std::string& text) {
  try {
    Module m = parse_json(text);
    verify(m);
    std::string printed = print(m);
    ASSERT_EQ(print(parse_json(to_json(m).dump())), printed);
    ASSERT_EQ(print(parse_module(printed)), printed);
  } catch (const ParseError& e) {
    ASSERT_EQ(std::string(e.what()).rfind("<json>: error: ", 0), 0u) << e.what();
  } catch (const std::exception& e) {
    FAIL() << "unexpected exception: " << e.what() << "\ninput:\n" << text;
  } catch (...) {
    FAIL() << "unexpected non-standard exception\ninput:\n" << text;
  }
}

TEST(JsonFuzz, MutatedTextOnlyRaisesParseError) {
  std::vector<json> seeds = seed_documents();
  std::mt19937 rng(99);
  for (int i = 0; i < 2000; ++i) {
    std::string text = seeds[rng() % seeds.size()].dump();
    for (int k = 1 + rng() % 3; k > 0; --k) {
      size_t pos = rng() % (text.size() + 1);
      switch (rng() % 4) {
        case 0:
          text.erase(pos, 1 + rng() % 6);
          break;
        case 1:
          text.insert(pos, 1, "{}[]\",:0-.e1nft\\ \xff"[rng() % 19]);
          break;
        case 2:
          text.resize(pos);
          break;
        default:
          if (pos < text.size()) text[pos] = static_cast<char>(rng() % 256);
      }
    }
    ASSERT_NO_FATAL_FAILURE(check_json(text)) << "mutant " << i;
  }
}

json random_json(std::mt19937& rng) {
  static const char* const words[] = {
      "x",   "0",   "1",   "f", "neg", "add", "constant", "f32[2]", "i32[]",   "f32[2,3]",
      "nan", "inf", "f32", "",  "%x",  "a b", "dtype",    "float",  "\xc3\xa9"};
  switch (rng() % 12) {
    case 0:
      return nullptr;
    case 1:
      return static_cast<int64_t>(rng() % 7) - 2;
    case 2:
      return std::numeric_limits<uint64_t>::max();
    case 3:
      return std::numeric_limits<int64_t>::min();
    case 4:
      return 0.5;
    case 5:
      return rng() % 2 == 0;
    case 6:
      return json::array();
    case 7:
      return json::object();
    case 8:
      return json{{"float", "nan"}};
    case 9:
      return json{{"dtype", "f32"}};
    case 10:
      return json::array({1, json::array({2})});
    default:
      return words[rng() % std::size(words)];
  }
}

// Every node of `j` (itself included), so that a mutation can pick one.
void collect_nodes(json& j, std::vector<json*>& out) {
  out.push_back(&j);
  if (j.is_structured())
    for (json& child : j)
      collect_nodes(child, out);
}

void mutate_tree(json& doc, std::mt19937& rng) {
  std::vector<json*> nodes;
  collect_nodes(doc, nodes);
  json& node = *nodes[rng() % nodes.size()];
  switch (rng() % 4) {
    case 0:
      node = random_json(rng);
      break;
    case 1:  // drop a member or element
      if (node.is_object() && !node.empty()) {
        auto it = node.begin();
        std::advance(it, rng() % node.size());
        node.erase(it.key());
      } else if (node.is_array() && !node.empty()) {
        node.erase(node.begin() + static_cast<long>(rng() % node.size()));
      }
      break;
    case 2:  // repeat an element, as a duplicated statement or parameter would
      if (node.is_array() && !node.empty()) node.push_back(node[rng() % node.size()]);
      break;
    default:  // add a member
      if (node.is_object()) node[rng() % 2 ? "extra" : "attrs"] = random_json(rng);
  }
}

TEST(JsonFuzz, MutatedTreesOnlyRaiseParseError) {
  std::vector<json> seeds = seed_documents();
  std::mt19937 rng(1234);
  for (int i = 0; i < 3000; ++i) {
    json doc = seeds[rng() % seeds.size()];
    for (int k = 1 + rng() % 3; k > 0; --k)
      mutate_tree(doc, rng);
    ASSERT_NO_FATAL_FAILURE(check_json(doc.dump())) << "mutant " << i;
  }
}

TEST(JsonFuzz, PathologicalInputs) {
  check_json(std::string(100000, '[') + std::string(100000, ']'));
  check_json(std::string(100000, '['));
  check_json(with_statement(R"({"name": "0", "op": "constant", "attrs": {"value": )" +
                            std::string(100000, '[') + std::string(100000, ']') +
                            R"(}, "type": "f32[]"})"));
  check_json(std::string("{\"functions\": \0 []}", 19));
  check_json("\"\xff\xfe\"");
  check_json("1e99999");
}

}  // namespace
}  // namespace kiln::ir
