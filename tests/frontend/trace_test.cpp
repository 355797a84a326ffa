// trace(): parameters, names, captured constants, several results, and the example models.

#include <gtest/gtest.h>

#include <cstring>

#include "examples/models.h"
#include "ir/interpreter.h"
#include "ir/json.h"
#include "ir/op_attrs.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

using ir::OpKind;
using test::count_op;
using test::ty;

TEST(Trace, VectorSignatureAndDefaultNames) {
  ir::Function f = trace([](const std::vector<Tensor>& in) { return in[0] * in[1]; },
                         {ty(DType::F32, {3}), ty(DType::F32, {3})});
  ASSERT_EQ(f.params().size(), 2u);
  EXPECT_EQ(f.node(f.params()[0]).param_name, "x0");
  EXPECT_EQ(f.node(f.params()[1]).param_name, "x1");
  EXPECT_EQ(f.name(), "main");
  EXPECT_EQ(test::ops_of(f), (std::vector<OpKind>{OpKind::Mul}));
  ir::verify(f);
}

TEST(Trace, VariadicSignatureNamesAndSeveralResults) {
  ir::Function f = trace(
      [](Tensor a, Tensor b) {
        return std::vector<Tensor>{a + b, a - b};
      },
      {ty(DType::I32, {2}), ty(DType::I32, {2})}, {"lhs", "rhs"}, "sum_and_difference");
  EXPECT_EQ(f.name(), "sum_and_difference");
  EXPECT_TRUE(f.find_param("lhs").has_value());
  EXPECT_TRUE(f.find_param("rhs").has_value());
  EXPECT_EQ(f.results().size(), 2u);
  EXPECT_EQ(ir::print(f),
            "func @sum_and_difference(%lhs: i32[2], %rhs: i32[2]) -> (i32[2], i32[2]) {\n"
            "  %0 = add %lhs, %rhs : i32[2]\n"
            "  %1 = sub %lhs, %rhs : i32[2]\n"
            "  return %0, %1\n"
            "}\n");
}

Tensor free_function(const Tensor& x) {
  return exp(x);
}

TEST(Trace, FreeFunctions) {
  ir::Function f = trace(free_function, {ty(DType::F32, {2})});
  EXPECT_EQ(test::ops_of(f), (std::vector<OpKind>{OpKind::Exp}));
}

TEST(Trace, CapturedDataBecomesConstants) {
  Tensor weights = {{1.0f, 2.0f}, {3.0f, 4.0f}};
  ir::Function f = trace([&](Tensor x) { return matmul(x, weights); }, {ty(DType::F32, {1, 2})});
  ASSERT_EQ(count_op(f, OpKind::Constant), 1);
  const ir::Node& c = f.nodes()[1];
  ASSERT_EQ(c.op, OpKind::Constant);
  EXPECT_EQ(ir::attr_str(c.attrs.get("value")), "[[1.0,2.0],[3.0,4.0]]");
  // The function runs on its own: the constant travels with it.
  ir::HostArray x(ty(DType::F32, {1, 2}));
  x.set_f64(0, 1);
  x.set_f64(1, 1);
  std::vector<ir::HostArray> args = {x};
  ir::HostArray out = ir::interpret(f, args).at(0);
  EXPECT_EQ(out.get_f64(0), 4);
  EXPECT_EQ(out.get_f64(1), 6);
}

// Captured data becomes dense elements that share the tensor's storage (bytes plus type, not a
// tree of attributes); it prints and serializes as the nested list it stands for, and a parsed
// copy of the printed text computes the same.
TEST(Trace, CapturedDataIsDenseAndShared) {
  std::vector<float> values(1000);
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = 0.25f * static_cast<float>(i) - 3.0f;
  Tensor big(values, {10, 100});
  ir::Function f = trace([&](Tensor x) { return x * big; }, {ty(DType::F32, {10, 100})});
  const ir::Node* constant = nullptr;
  for (const ir::Node& n : f.nodes())
    if (n.op == OpKind::Constant) constant = &n;
  ASSERT_NE(constant, nullptr);
  const ir::Attr& value = ir::constant_value(*constant);
  ASSERT_TRUE(value.is_dense());
  EXPECT_EQ(value.as_dense().data(), big.data().data()) << "the storage is shared, not copied";
  EXPECT_EQ(ir::attr_str(value), ir::attr_str(ir::nested_list(big.data())));

  const ir::Function reparsed = ir::parse_module(ir::print(f)).functions.front();
  EXPECT_EQ(ir::print(reparsed), ir::print(f));
  ir::Module module;
  module.functions.push_back(f);
  EXPECT_EQ(ir::print(ir::module_from_json(ir::to_json(module))), ir::print(f));
  ir::HostArray x(ty(DType::F32, {10, 100}));
  for (int64_t i = 0; i < x.num_elements(); ++i)
    x.set_f64(i, 0.5 + static_cast<double>(i % 7));
  std::vector<ir::HostArray> args = {x};
  EXPECT_EQ(ir::interpret(f, args), ir::interpret(reparsed, args));

  // Equal elements hash-cons to one constant, whichever array they came from.
  ir::Function g("g");
  ir::Value a =
      g.add(OpKind::Constant, {},
            ir::make_attrs(ir::ConstantAttrs{ir::constant_value_of(big.data())}), big.type());
  ir::HostArray copy(big.type());
  std::memcpy(copy.data(), big.data().data(), copy.size_bytes());
  ir::Value b = g.add(OpKind::Constant, {},
                      ir::make_attrs(ir::ConstantAttrs{ir::constant_value_of(copy)}), big.type());
  EXPECT_EQ(a, b);
  // Dense elements of another type than the constant's are refused.
  EXPECT_THROW(
      g.add(OpKind::Constant, {}, ir::make_attrs(ir::ConstantAttrs{ir::constant_value_of(copy)}),
            ty(DType::F32, {1000})),
      TypeError);
}

TEST(Trace, ReturningAnInputOrAConstant) {
  ir::Function f = trace(
      [](Tensor x) {
        return std::vector<Tensor>{x, Tensor(3)};
      },
      {ty(DType::F32, {2})});
  EXPECT_EQ(f.results()[0], f.params()[0]);
  EXPECT_EQ(f.result_types()[1], ty(DType::I32, {}));
}

TEST(Trace, Errors) {
  EXPECT_ERROR(trace([](Tensor x) { return x; }, {ty(DType::F32, {2})}, {"a", "b"}),
               "[frontend] trace: 2 names for 1 inputs");
  EXPECT_ERROR(trace([](Tensor x, Tensor) { return x; }, {ty(DType::F32, {2})}),
               "[frontend] trace: the function takes 2 tensors but 1 input types were given");
  EXPECT_ERROR(trace([](Tensor x, Tensor y) { return x + y; },
                     {ty(DType::F32, {2}), ty(DType::F32, {2})}, {"a", "a"}),
               "[frontend] trace: two inputs are named 'a'");
  EXPECT_ERROR(trace([](const std::vector<Tensor>&) { return std::vector<Tensor>{}; }, {}),
               "[frontend] trace: the function returned no tensors");
  EXPECT_ERROR(trace(
                   [](Tensor x) {
                     return x + Tensor({1.0f, 2.0f, 3.0f});
                   },
                   {ty(DType::F32, {2})}),
               "[frontend] add: shapes [2] and [3] do not broadcast");
}

TEST(Trace, TracedValuesHaveNoValue) {
  EXPECT_ERROR(trace([](Tensor x) { return Tensor(x.item<float>()); }, {ty(DType::F32, {})}),
               "[frontend] eval: the tensor depends on trace input 'x0'");
  Tensor leaked;
  trace([&](Tensor x) { return leaked = x * 2.0; }, {ty(DType::F32, {2})});
  EXPECT_ERROR(leaked.eval(), "has no value outside the trace that made it");
}

TEST(Trace, EvalAndTraceAgree) {
  auto fn = [](Tensor x, Tensor y) { return softmax(matmul(x, y) * 0.5) + mean(x); };
  Tensor a = examples::random_tensor({3, 4}, 1), b = examples::random_tensor({4, 2}, 2);
  ir::Function f = trace(fn, {a.type(), b.type()});
  std::vector<ir::HostArray> args = {a.data(), b.data()};
  ir::HostArray traced = ir::interpret(f, args).at(0);
  EXPECT_EQ(fn(a, b).data(), traced);
}

TEST(Trace, MlpExample) {
  examples::MlpConfig config;
  ir::Function f = examples::trace_mlp(config);
  ir::verify(f);
  EXPECT_EQ(f.name(), "mlp");
  EXPECT_EQ(f.param_types(), examples::mlp_input_types(config));
  EXPECT_EQ(f.result_types(), (std::vector<ir::TensorType>{ty(DType::F32, {4, 4})}));
  EXPECT_EQ(count_op(f, OpKind::DotGeneral), 2);
  EXPECT_EQ(count_op(f, OpKind::Erf), 1);
  EXPECT_EQ(count_op(f, OpKind::Exp), 1);
  EXPECT_EQ(count_op(f, OpKind::ReduceMax), 1);
  EXPECT_EQ(count_op(f, OpKind::ReduceSum), 1);
  EXPECT_EQ(count_op(f, OpKind::Div), 1);
  EXPECT_EQ(count_op(f, OpKind::Convert), 0);
  EXPECT_EQ(count_op(f, OpKind::StopGradient), 1);  // softmax's max shift
  EXPECT_EQ(count_op(f, OpKind::IsFinite), 1);      // softmax keeps an infinite max out
  EXPECT_EQ(test::ops_of(f).size(), 31u);
  // Bigger configurations trace to the same graph shape.
  ir::Function big = examples::trace_mlp({.batch = 32, .in = 784, .hidden = 128, .out = 10});
  EXPECT_EQ(big.num_nodes(), f.num_nodes());
  EXPECT_EQ(big.result_types()[0], ty(DType::F32, {32, 10}));
}

TEST(Trace, AttentionExample) {
  examples::AttentionConfig config;
  ir::Function f = examples::trace_attention(config);
  ir::verify(f);
  EXPECT_EQ(f.params().size(), 5u);
  EXPECT_EQ(f.result_types(), (std::vector<ir::TensorType>{ty(DType::F32, {2, 8, 32})}));
  EXPECT_EQ(count_op(f, OpKind::DotGeneral), 6);  // q, k, v, scores, context, output
  EXPECT_EQ(count_op(f, OpKind::Rsqrt), 1);       // layer_norm
  EXPECT_EQ(count_op(f, OpKind::Exp), 1);         // softmax
  EXPECT_EQ(count_op(f, OpKind::Iota), 1);        // causal mask (hash-consed)
  EXPECT_EQ(count_op(f, OpKind::Select), 2);      // mask and the softmax max guard
  EXPECT_EQ(count_op(f, OpKind::Transpose), 5);
  EXPECT_EQ(count_op(f, OpKind::Convert), 0);
  int batched = 0;
  for (const ir::Node& n : f.nodes())
    if (n.op == OpKind::DotGeneral && !n.attrs.get_ints("lhs_batch").empty()) ++batched;
  EXPECT_EQ(batched, 2);
  ir::Function open = examples::trace_attention({.causal = false});
  EXPECT_EQ(count_op(open, OpKind::Iota), 0);
  EXPECT_EQ(count_op(open, OpKind::Select), 1);
}

TEST(Trace, AttentionRunsAndIsCausal) {
  examples::AttentionConfig c{.batch = 1, .seq = 4, .d_model = 8, .heads = 2, .causal = true};
  Tensor x = examples::random_tensor({1, 4, 8}, 11);
  std::vector<Tensor> w;
  for (uint64_t i = 0; i < 4; ++i)
    w.push_back(examples::random_tensor({8, 8}, 20 + i, 0.3f));
  Tensor y = examples::attention(x, w[0], w[1], w[2], w[3], c.heads, c.causal);
  // Changing the last position must not change earlier outputs.
  std::vector<float> xv = x.to_vector<float>();
  for (int i = 24; i < 32; ++i)
    xv[i] += 1.0f;
  Tensor x2(xv, {1, 4, 8});
  Tensor y2 = examples::attention(x2, w[0], w[1], w[2], w[3], c.heads, c.causal);
  std::vector<float> a = y.to_vector<float>(), b = y2.to_vector<float>();
  for (int i = 0; i < 24; ++i)
    EXPECT_FLOAT_EQ(a[i], b[i]) << i;
  bool changed = false;
  for (int i = 24; i < 32; ++i)
    changed = changed || a[i] != b[i];
  EXPECT_TRUE(changed);
}

TEST(Trace, ExamplesRoundTripThroughText) {
  for (const ir::Function& f : {examples::trace_mlp(), examples::trace_attention()}) {
    std::string text = ir::print(f);
    ir::Module parsed = ir::parse_module(text, f.name() + ".kir");
    ASSERT_EQ(parsed.functions.size(), 1u);
    EXPECT_EQ(ir::print(parsed.functions[0]), text);
    EXPECT_EQ(parsed.functions[0].structural_hash(), f.structural_hash());
  }
}

TEST(Trace, DemoInputsAreDeterministic) {
  EXPECT_EQ(examples::pseudo_random(4, 1), examples::pseudo_random(4, 1));
  EXPECT_NE(examples::pseudo_random(4, 1), examples::pseudo_random(4, 2));
  for (float v : examples::pseudo_random(1000, 3, 2.0f)) {
    EXPECT_GE(v, -2.0f);
    EXPECT_LT(v, 2.0f);
  }
}

}  // namespace
}  // namespace kiln
