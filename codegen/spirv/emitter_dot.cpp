// Dot phases: the Rows strategy's loops.

#include <cassert>
#include <cmath>

#include "codegen/spirv/emitter_internal.h"
#include "codegen/spirv/scalar_ops.h"
#include "ir/scalar_semantics.h"

namespace kiln::codegen::spirv::detail {

void Emitter::emit_dot(const Phase& phase, size_t p) {
  const DType dtype = phase.result_dtype;
  const DType acc_dtype = phase.accumulator;
  const bool fp = ir::is_float(acc_dtype);
  Id acc_type = register_type(b_, acc_dtype);
  Id acc = b_.local_variable(acc_type);
  Id width = index_constant(plan_.workgroup_size);
  strided_loop(lid_index_, index_constant(count_of(phase.extents)), width, [&](Id i) {
    inner_ = decompose(i, phase.extents);
    // The -0 identity of a non-empty float sum, as on the CPU.
    b_.store(acc, fp ? b_.float_constant(acc_type, phase.contraction > 0 ? -0.0 : 0.0)
                     : b_.int_constant(acc_type, 0));
    strided_loop(index_constant(0), index_constant(phase.contraction), index_constant(1),
                 [&](Id kk) {
                   contraction_ = kk;
                   Id l = emit_convert(b_, value(phase.dot_lhs), dtype, acc_dtype);
                   Id r = emit_convert(b_, value(phase.dot_rhs), dtype, acc_dtype);
                   Id a = b_.load(acc);
                   b_.store(acc, fp ? b_.fma(l, r, a) : b_.iadd(a, b_.imul(l, r)));
                 });
    Id total = b_.load(acc);
    phase_results_[p] =
        fp ? emit_convert(b_, total, acc_dtype, dtype) : wrap_to_dtype(b_, total, dtype);
    emit_stores(phase);
  });
}

}  // namespace kiln::codegen::spirv::detail
