// The rewriter (dead code removal, parameters kept), the pass registry and the pass manager
// (order, dumps, verification after each pass).

#include <filesystem>

#include "ir/error.h"
#include "passes/rewriter.h"
#include "tests/passes/pass_test_util.h"

namespace kiln::passes {
namespace {

using testing::expect_passes;

TEST(Dce, RemovesDeadCodeAndKeepsEveryParameterInOrder) {
  expect_passes("dce", R"(func @f(%b: f32[2], %unused: i32[], %a: f32[2]) -> f32[2] {
  %0 = exp %a : f32[2]
  %1 = sub %b, %a : f32[2]
  %2 = tanh %1 : f32[2]
  %3 = neg %0 : f32[2]
  return %1
})",
                R"(func @f(%b: f32[2], %unused: i32[], %a: f32[2]) -> f32[2] {
  %0 = sub %b, %a : f32[2]
  return %0
}
)");
}

TEST(Dce, KeepsEveryFunctionOfAModule) {
  expect_passes("dce", R"(func @one(%x: f32[]) -> f32[] {
  %0 = exp %x : f32[]
  return %x
}
func @two(%x: f32[]) -> (f32[], f32[]) {
  %0 = exp %x : f32[]
  %1 = log %x : f32[]
  return %0, %0
})",
                R"(func @one(%x: f32[]) -> f32[] {
  return %x
}

func @two(%x: f32[]) -> (f32[], f32[]) {
  %0 = exp %x : f32[]
  return %0, %0
}
)");
}

TEST(Rewriter, CallbackReplacesOpsAndUnusedNewValuesAreDropped) {
  ir::Module m = ir::parse_module(R"(func @f(%x: f32[3]) -> f32[3] {
  %0 = exp %x : f32[3]
  %1 = neg %0 : f32[3]
  return %1
})");
  // exp -> tanh, and a stray value built along the way that nothing uses.
  ir::Function out = rewrite(m.functions[0],
                             [](const ir::Node& node, std::span<const ir::Value> operands,
                                ir::Function& f) -> std::optional<ir::Value> {
                               if (node.op != ir::OpKind::Exp) return std::nullopt;
                               f.add(ir::OpKind::Sin, {operands[0]});
                               return f.add(ir::OpKind::Tanh, {operands[0]});
                             });
  EXPECT_EQ(ir::print(out), R"(func @f(%x: f32[3]) -> f32[3] {
  %0 = tanh %x : f32[3]
  %1 = neg %0 : f32[3]
  return %1
}
)");
}

TEST(Rewriter, ParametersAddedLateComeFirst) {
  ir::Function f("late");
  ir::Value a = f.add_param("a", {ir::DType::F32, {}});
  ir::Value e = f.add(ir::OpKind::Exp, {a});
  ir::Value b = f.add_param("b", {ir::DType::F32, {}});
  f.set_results({f.add(ir::OpKind::Add, {e, b})});
  ir::Function out = rewrite(f);
  EXPECT_EQ(ir::print(out), R"(func @late(%a: f32[], %b: f32[]) -> f32[] {
  %0 = exp %a : f32[]
  %1 = add %0, %b : f32[]
  return %1
}
)");
  testing::expect_same_results(f, out);
}

TEST(PassRegistry, ListsTheKnownPasses) {
  EXPECT_EQ(known_pass_names(),
            "simplify, fold-constants, algebraic, dce, inline, split-reductions; pipelines: cpu");
  ASSERT_NE(find_pipeline("cpu"), nullptr);
  EXPECT_EQ(find_pipeline("cpu")->passes,
            (std::vector<std::string>{"inline", "simplify", "split-reductions"}));
  ASSERT_NE(find_pass("dce"), nullptr);
  EXPECT_EQ(find_pass("fuse"), nullptr);
}

TEST(PassManager, UnknownPassNamesTheKnownOnes) {
  PassManager manager;
  try {
    manager.add_list("simplify,fuse");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "[opt] unknown pass 'fuse' (known: simplify, fold-constants, algebraic, dce, "
                 "inline, split-reductions; pipelines: cpu)");
  }
  EXPECT_THROW(manager.add_list("simplify,,dce"), Error);
  EXPECT_THROW(manager.add_list(""), Error);
}

TEST(PassManager, RunsInOrderAndDumpsAfterEachPass) {
  ir::Module m = ir::parse_module(R"(func @f(%x: f32[]) -> f32[] {
  %0 = neg %x : f32[]
  %1 = neg %0 : f32[]
  %2 = exp %x : f32[]
  return %1
})");
  PassManager manager;
  manager.add_list("dce,algebraic");
  std::vector<std::string> seen;
  manager.set_dump([&](std::string_view pass, const ir::Module& now) {
    seen.push_back(std::string(pass) + ":" + std::to_string(now.functions[0].num_nodes()));
  });
  ir::Module out = manager.run(m);
  EXPECT_EQ(seen, (std::vector<std::string>{"dce:3", "algebraic:1"}));
  EXPECT_EQ(out.functions[0].results()[0], out.functions[0].params()[0]);
}

TEST(PassManager, VerifiesAfterEachPassNamingTheCulprit) {
  ir::Module m = ir::parse_module("func @f(%x: f32[]) -> f32[] {\n  return %x\n}\n");
  Pass broken{"broken", "drops the results", [](const ir::Function& f) {
                ir::Function out = rewrite(f);
                out.set_results({});
                return out;
              }};
  PassManager checked;
  checked.add(broken);
  try {
    checked.run(m);
    FAIL() << "expected the verifier to reject the pass's output";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[opt] pass 'broken' produced invalid IR: [verify] @f"),
              std::string::npos)
        << e.what();
  }
  PassManager unchecked(PassManager::Options{.verify_each = false});
  unchecked.add(broken);
  EXPECT_NO_THROW(unchecked.run(m));
}

}  // namespace
}  // namespace kiln::passes
