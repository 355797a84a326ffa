// The math ops lowering writes out (codegen/math_expand.h), compiled for the CPU, against the
// interpreter: each op on f32 and f64 over its domain, and on f16/bf16 (computed in f32,
// rounded once). The bounds are the ones codegen/math_expand.h promises.

#include <gtest/gtest.h>

#include "codegen/math_expand.h"
#include "compiler/pipeline.h"
#include "tests/common/math_check.h"

namespace kiln::runtime {
namespace {

using ir::DType;
using ir::OpKind;
using kiln::testing::math::Bound;

std::vector<ir::HostArray> run_on_cpu(const ir::Function& f, const std::vector<ir::HostArray>& args,
                                      bool fuse) {
  return compiler::compile(f, {.fuse = fuse}).run(args);
}

// f32 on the CPU: a few of its inline approximations chained (each <= 4 ulp).
Bound cpu_bound(OpKind op, DType d) {
  const bool f64 = d == DType::F64;
  const bool half = d == DType::F16 || d == DType::BF16;
  switch (op) {
    case OpKind::Lgamma:
      return half ? Bound{1, 0.004} : f64 ? Bound{8, 8e-15} : Bound{8, 4e-6};
    case OpKind::Digamma:
      return half ? Bound{1, 0.004} : f64 ? Bound{8, 8e-15} : Bound{8, 4e-6};
    case OpKind::ErfInv:
      return half ? Bound{1, 0} : f64 ? Bound{8, 4e-12} : Bound{8, 0};
    default:
      return half ? Bound{1, 0} : f64 ? Bound{4, 0} : Bound{8, 0};
  }
}

TEST(MathExpandCpu, EveryOpOnEveryFloatDtypeWithinItsBound) {
  int checked = 0;
  for (OpKind op : ir::all_ops()) {
    if (!codegen::expanded_by_lowering(op)) continue;
    for (DType d : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
      SCOPED_TRACE(std::string(ir::op_name(op)) + " " + std::string(ir::dtype_name(d)));
      kiln::testing::math::check_expanded_op(op, d, cpu_bound(op, d), run_on_cpu);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 13 * 4);
}

}  // namespace
}  // namespace kiln::runtime
