// `call` and `stop_gradient`: the text form, the module verifier's rules for calls, and the
// interpreter running a function with calls through its module.

#include <gtest/gtest.h>

#include "ir/error.h"
#include "ir/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"

namespace kiln::ir {
namespace {

const char* const kModule = R"(func @main(%x: f32[3], %y: f32[3]) -> (f32[3], f32[]) {
  %0 = call @square_sum(%x, %y) : f32[3]
  %1 = call @square_sum(%x, %y) {result=1} : f32[]
  %2 = stop_gradient %0 : f32[3]
  return %2, %1
}

func @square_sum(%a: f32[3], %b: f32[3]) -> (f32[3], f32[]) {
  %0 = mul %a, %b : f32[3]
  %1 = reduce_sum %0 {axes=[0]} : f32[]
  return %0, %1
}
)";

HostArray vec(std::vector<double> values) {
  HostArray a(TensorType{DType::F32, {static_cast<int64_t>(values.size())}});
  for (size_t i = 0; i < values.size(); ++i)
    a.set_f64(static_cast<int64_t>(i), values[i]);
  return a;
}

std::string parse_error(const std::string& text) {
  try {
    parse_module(text, "t.kir");
  } catch (const ParseError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Calls, PrintParsePrintIsTheIdentity) {
  Module m = parse_module(kModule, "t.kir");
  EXPECT_NO_THROW(verify(m));
  EXPECT_EQ(print(m), kModule);
  const Node& call = m.functions[0].nodes()[2];
  EXPECT_EQ(call.op, OpKind::Call);
  EXPECT_EQ(call.attrs.get("callee").as_string(), "square_sum");
  EXPECT_FALSE(call.attrs.has("result"));  // the default is left out, so it hash-conses
}

TEST(Calls, AnExplicitDefaultResultHashConsesWithTheBareCall) {
  Module m = parse_module(R"(func @f(%x: f32[]) -> f32[] {
  %0 = call @g(%x) {result=0} : f32[]
  %1 = call @g(%x) : f32[]
  %2 = add %0, %1 : f32[]
  return %2
}
func @g(%x: f32[]) -> f32[] {
  return %x
}
)",
                          "t.kir");
  EXPECT_EQ(m.functions[0].num_nodes(), 3u);  // %x, one call, add
}

TEST(Calls, InterpreterRunsCalleesThroughTheModule) {
  Module m = parse_module(kModule, "t.kir");
  std::vector<HostArray> args = {vec({1, 2, 3}), vec({4, 5, 6})};
  std::vector<HostArray> out = interpret(m, m.functions[0], args);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].get_f64(2), 18.0);
  EXPECT_EQ(out[1].get_f64(0), 32.0);
  try {
    interpret(m.functions[0], args);
    ADD_FAILURE() << "a call ran without its module";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "[interp] call @square_sum: a function with calls runs only with the module that "
              "defines them");
  }
}

TEST(Calls, SyntaxErrorsNameThePlace) {
  const std::pair<std::string, std::string> cases[] = {
      {"func @f(%x: f32[]) -> f32[] {\n  %0 = call %x : f32[]\n",
       "t.kir:2:13: error: expected the called function like @f after 'call', got '%x'"},
      {"func @f(%x: f32[]) -> f32[] {\n  %0 = call @g %x : f32[]\n",
       "t.kir:2:16: error: expected '(' and the call's arguments, got '%x'"},
      {"func @f(%x: f32[]) -> f32[] {\n  %0 = call @g(%x : f32[]\n",
       "t.kir:2:19: error: expected ',' or ')' after the call's arguments, got ':'"},
      {"func @f(%x: f32[]) -> f32[] {\n  %0 = call @g(%x) {callee=\"h\"} : f32[]\n",
       "t.kir:2:20: error: the callee is written after 'call' as @name, not as an attribute"},
      {"func @f(%x: f32[]) -> f32[] {\n  %0 = call @g(%x) {result=-1} : f32[]\n",
       "t.kir:2:8: error: call result index -1 is negative"},
      {"func @f(%x: f32[]) -> f32[] {\n  %0 = call @g(%x) {vjp=3} : f32[]\n",
       "t.kir:2:8: error: attribute 'vjp' of call must be a string"},
  };
  for (const auto& [text, message] : cases) {
    SCOPED_TRACE(text);
    try {
      parse_module(text, "t.kir");
      ADD_FAILURE() << "parsed";
    } catch (const ParseError& e) {
      EXPECT_EQ(std::string(e.what()), message);
    }
  }
}

// Calls may point forward, so these rules are checked once the file is read, and reported at
// the callee's name.
TEST(Calls, CalleesSignaturesAndRecursionAreCheckedAtTheCall) {
  const std::string g =
      "func @g(%a: f32[]) -> (f32[], i32[]) {\n"
      "  %0 = convert %a : i32[]\n  return %a, %0\n}\n";
  EXPECT_EQ(parse_error("func @f(%x: f32[]) -> f32[] {\n  %0 = call @h(%x) : f32[]\n"
                        "  return %0\n}\n"),
            "t.kir:2:13: error: calls @h, which the module does not define");
  EXPECT_EQ(parse_error("func @f(%x: f32[2]) -> f32[] {\n  %0 = call @g(%x) : f32[]\n"
                        "  return %0\n}\n" +
                        g),
            "t.kir:2:13: error: passes (f32[2]) to @g, which takes (f32[])");
  EXPECT_EQ(parse_error("func @f(%x: f32[]) -> f32[] {\n  %0 = call @g(%x) {result=2} : f32[]\n"
                        "  return %0\n}\n" +
                        g),
            "t.kir:2:13: error: asks for result 2 of @g, which has 2");
  EXPECT_EQ(parse_error("func @f(%x: f32[]) -> f32[] {\n  %0 = call @g(%x) {result=1} : f32[]\n"
                        "  return %0\n}\n" +
                        g),
            "t.kir:2:13: error: result 1 of @g is i32[], not f32[]");
  EXPECT_EQ(parse_error("func @f(%x: f32[]) -> f32[] {\n  %0 = call @g(%x) {vjp=\"b\"} : f32[]\n"
                        "  return %0\n}\n" +
                        g + "func @b(%a: f32[], %c: f32[]) -> f32[] {\n  return %c\n}\n"),
            "t.kir:2:13: error: vjp @b must map (f32[], f32[], i32[]) to (f32[]) (the callee's "
            "arguments and a cotangent per result, to a cotangent per argument)");
  EXPECT_EQ(parse_error("func @f(%x: f32[]) -> f32[] {\n  %0 = call @k(%x) : f32[]\n"
                        "  return %0\n}\n"
                        "func @k(%x: f32[]) -> f32[] {\n  %0 = call @f(%x) : f32[]\n"
                        "  return %0\n}\n"),
            "t.kir:1:6: error: @f calls itself (@f -> @k -> @f); recursion is not allowed");
}

TEST(Calls, ModuleVerifierChecksCallsBuiltThroughTheApi) {
  Module m;
  Function& f = m.functions.emplace_back("f");
  Value x = f.add_param("x", {DType::F32, {}});
  f.set_results(
      {f.add(OpKind::Call, {x}, {{"callee", std::string("nowhere")}}, TensorType{DType::F32, {}})});
  try {
    verify(m);
    ADD_FAILURE() << "verified";
  } catch (const TypeError& e) {
    EXPECT_EQ(std::string(e.what()),
              "[verify] @f: %1 = call: calls @nowhere, which the module does not define");
  }
}

TEST(StopGradient, IsTheIdentityOnEveryDtype) {
  for (DType d : {DType::F32, DType::I32, DType::Bool, DType::BF16}) {
    Function f;
    Value x = f.add_param("x", {d, {2}});
    f.set_results({f.add(OpKind::StopGradient, {x})});
    HostArray a(TensorType{d, {2}});
    a.set_i64(0, 1);
    EXPECT_EQ(interpret(f, std::vector<HostArray>{a})[0].get_i64(0), 1);
  }
}

}  // namespace
}  // namespace kiln::ir
