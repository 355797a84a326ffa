// Dot phases: the Rows strategy's loops, and the Tiled strategy (spirv_compiler.h).

#include <cassert>
#include <cmath>
#include <optional>

#include "codegen/dot_layout.h"
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

std::optional<DispatchPlan> plan_tiled(const Kernel& kernel, const SpirvTarget& target) {
  if (kernel.phases.empty()) return std::nullopt;
  const std::optional<DotLayout> layout = dot_layout(kernel, 0);
  if (!layout || kernel.phases[0].sequential) return std::nullopt;
  if (kernel.phases.size() > 1 && !dot_epilogue_fits(kernel, *layout)) return std::nullopt;
  for (const Phase& phase : kernel.phases)
    if (phase.sequential) return std::nullopt;
  const uint32_t invocations =
      floor_pow2(std::min(kMaxWorkgroup, target.max_workgroup_invocations));
  // A square grid of invocations, each with a 4 x 4 register tile (64 x 64 for 256)...
  const int log2 = std::bit_width(invocations) - 1;
  uint32_t tx = 1u << ((log2 + 1) / 2), ty = invocations / tx, tm = 4, tn = 4;
  // ...but a product with few rows (a matrix times a vector) spends them on columns, and one
  // with few columns on rows.
  const int64_t m = layout->m, n = layout->n;
  while (ty > 1 && int64_t{tm} * ty >= 2 * m) {
    ty /= 2;
    tx *= 2;
  }
  while (tm > 1 && int64_t{tm} * ty >= 2 * m)
    tm /= 2;
  while (tx > 1 && int64_t{tn} * tx >= 2 * n && int64_t{tm} * ty < m) {
    tx /= 2;
    ty *= 2;
  }
  while (tn > 1 && int64_t{tn} * tx >= 2 * n)
    tn /= 2;
  const uint32_t bm = tm * ty, bn = tn * tx;
  const uint64_t acc_bytes = ir::dtype_size(kernel.phases[0].accumulator) == 8 ? 8 : 4;
  uint32_t bk = 16;
  while (bk > 1 && (bm + bn) * bk * acc_bytes > target.max_shared_memory_bytes)
    bk /= 2;
  if ((bm + bn) * bk * acc_bytes > target.max_shared_memory_bytes) return std::nullopt;
  const auto tiles = [](int64_t extent, uint32_t tile) {
    return static_cast<uint64_t>((extent + tile - 1) / tile);
  };
  const uint64_t workgroups = static_cast<uint64_t>(layout->batch) * tiles(m, bm) * tiles(n, bn);
  if (workgroups > UINT32_MAX) return std::nullopt;  // workgroups number themselves in 32 bits
  DispatchPlan plan;
  plan.strategy = DispatchPlan::Strategy::Tiled;
  plan.workgroup_size = invocations;
  plan.workgroups = workgroups;
  plan.tile_m = bm;
  plan.tile_n = bn;
  plan.thread_m = tm;
  plan.thread_n = tn;
  plan.tile_k = bk;
  return plan;
}

void Emitter::emit_tiled(Id group) {
  const Phase& phase = k_.phases[0];
  const DotLayout layout = *dot_layout(k_, 0);
  const DType dtype = phase.result_dtype;
  const DType acc_dtype = phase.accumulator;
  const bool fp = ir::is_float(acc_dtype);
  const uint32_t bm = plan_.tile_m, bn = plan_.tile_n, bk = plan_.tile_k;
  const uint32_t tm = plan_.thread_m, tn = plan_.thread_n;
  const uint32_t tx_count = bn / tn, ty_count = bm / tm;
  const uint32_t invocations = plan_.workgroup_size;
  const int64_t m = layout.m, n = layout.n, k = layout.k;
  const int64_t tiles_m = (m + bm - 1) / bm, tiles_n = (n + bn - 1) / bn;
  Id acc_type = register_type(b_, acc_dtype);

  // Which tile: batch-major, then rows of tiles.
  Id g = narrow_ ? group : b_.convert(Op::OpUConvert, index_type_, group);
  Id per_batch = index_constant(tiles_m * tiles_n);
  Id batch = layout.batch == 1 ? index_constant(0) : b_.udiv(g, per_batch);
  Id rest = layout.batch == 1 ? g : b_.umod(g, per_batch);
  Id m0 = b_.imul(b_.udiv(rest, index_constant(tiles_n)), index_constant(bm));
  Id n0 = b_.imul(b_.umod(rest, index_constant(tiles_n)), index_constant(bn));
  Id tx = b_.umod(lid_index_, index_constant(tx_count));
  Id ty = b_.udiv(lid_index_, index_constant(tx_count));
  Id zero = index_constant(0);

  // Shared blocks, contraction-major: a[kk][row], b[kk][column].
  auto shared_array = [&](uint32_t length) {
    Id array = b_.type_array(acc_type, length);
    Id var = b_.global_variable(b_.type_pointer(spv::StorageClass::Workgroup, array),
                                spv::StorageClass::Workgroup);
    interface_.push_back(var);
    return var;
  };
  Id a_shared = shared_array(bk * bm), b_shared = shared_array(bk * bn);
  Id shared_ptr = b_.type_pointer(spv::StorageClass::Workgroup, acc_type);

  // The register tile, starting from the sum's identity (-0 for a non-empty float sum).
  std::vector<Id> acc(static_cast<size_t>(tm) * tn);
  Id init = fp ? b_.float_constant(acc_type, k > 0 ? -0.0 : 0.0) : b_.int_constant(acc_type, 0);
  for (Id& v : acc) {
    v = b_.local_variable(acc_type);
    b_.store(v, init);
  }

  auto in_range = [&](Id index, int64_t extent, bool needed) {
    return needed ? b_.compare(Op::OpULessThan, index, index_constant(extent))
                  : b_.constant_bool(true);
  };
  // Fills the shared blocks from contraction index k0 for `count` indices (the last block may
  // be short), then adds their products to the register tile in contraction order.
  auto block = [&](Id k0, uint32_t count) {
    const bool short_block = count < bk;
    // The operands' contiguous axis runs across consecutive invocations.
    strided_loop(
        lid_index_, index_constant(int64_t{bm} * bk), index_constant(invocations), [&](Id e) {
          Id row = layout.lhs_transposed ? b_.umod(e, index_constant(bm))
                                         : b_.udiv(e, index_constant(bk));
          Id kk = layout.lhs_transposed ? b_.udiv(e, index_constant(bm))
                                        : b_.umod(e, index_constant(bk));
          Id mi = b_.iadd(m0, row);
          Id cond = b_.logical_and(in_range(mi, m, m % bm != 0), in_range(kk, count, short_block));
          if_then(cond, [&] {
            outer_ = {batch, mi};
            inner_ = {zero};
            contraction_ = b_.iadd(k0, kk);
            Id v = emit_convert(b_, value(phase.dot_lhs), dtype, acc_dtype);
            Id at = b_.iadd(b_.imul(kk, index_constant(bm)), row);
            b_.store(b_.access_chain(shared_ptr, a_shared, {at}), v);
          });
        });
    strided_loop(
        lid_index_, index_constant(int64_t{bn} * bk), index_constant(invocations), [&](Id e) {
          Id column = layout.rhs_transposed ? b_.udiv(e, index_constant(bk))
                                            : b_.umod(e, index_constant(bn));
          Id kk = layout.rhs_transposed ? b_.umod(e, index_constant(bk))
                                        : b_.udiv(e, index_constant(bn));
          Id ni = b_.iadd(n0, column);
          Id cond = b_.logical_and(in_range(ni, n, n % bn != 0), in_range(kk, count, short_block));
          if_then(cond, [&] {
            outer_ = {batch, zero};
            inner_ = {ni};
            contraction_ = b_.iadd(k0, kk);
            Id v = emit_convert(b_, value(phase.dot_rhs), dtype, acc_dtype);
            Id at = b_.iadd(b_.imul(kk, index_constant(bn)), column);
            b_.store(b_.access_chain(shared_ptr, b_shared, {at}), v);
          });
        });
    barrier();
    // Unrolled: the block's length is known when the kernel compiles.
    for (uint32_t kk = 0; kk < count; ++kk) {
      std::vector<Id> a(tm), bv(tn);
      for (uint32_t i = 0; i < tm; ++i)
        a[i] = b_.load(b_.access_chain(
            shared_ptr, a_shared,
            {b_.iadd(ty, index_constant(int64_t{kk} * bm + int64_t{i} * ty_count))}));
      for (uint32_t j = 0; j < tn; ++j)
        bv[j] = b_.load(b_.access_chain(
            shared_ptr, b_shared,
            {b_.iadd(tx, index_constant(int64_t{kk} * bn + int64_t{j} * tx_count))}));
      for (uint32_t i = 0; i < tm; ++i)
        for (uint32_t j = 0; j < tn; ++j) {
          Id sum = acc[i * tn + j];
          Id s = b_.load(sum);
          b_.store(sum, fp ? b_.fma(a[i], bv[j], s) : b_.iadd(s, b_.imul(a[i], bv[j])));
        }
    }
    barrier();  // everyone has read the blocks before the next fill
  };
  const int64_t full = k - k % bk;
  if (full > 0)
    strided_loop(zero, index_constant(full), index_constant(bk), [&](Id k0) { block(k0, bk); });
  if (k % bk != 0) block(index_constant(full), static_cast<uint32_t>(k % bk));

  // The epilogue, on the register tile: the product's loads read the register instead.
  const Store& product = phase.stores[0];
  const bool epilogue = k_.phases.size() > 1;
  const bool store_product = !(epilogue && k_.is_scratch(product.buffer));
  std::vector<ExprId> product_loads;
  for (size_t e = 0; e < k_.exprs.size(); ++e) {
    const Expr& x = k_.exprs[e];
    if (x.kind == ExprKind::Load && x.buffer == product.buffer && x.operands[0] == product.offset)
      product_loads.push_back(static_cast<ExprId>(e));
  }
  for (uint32_t i = 0; i < tm; ++i)
    for (uint32_t j = 0; j < tn; ++j) {
      Id mi = b_.iadd(m0, b_.iadd(ty, index_constant(int64_t{i} * ty_count)));
      Id ni = b_.iadd(n0, b_.iadd(tx, index_constant(int64_t{j} * tx_count)));
      Id cond = b_.logical_and(in_range(mi, m, m % bm != 0), in_range(ni, n, n % bn != 0));
      if_then(cond, [&] {
        Id total = b_.load(acc[i * tn + j]);
        Id result =
            fp ? emit_convert(b_, total, acc_dtype, dtype) : wrap_to_dtype(b_, total, dtype);
        outer_ = {batch, mi};
        inner_ = {ni};
        phase_results_[0] = result;
        if (store_product) emit_stores(phase);
        for (ExprId e : product_loads)
          scopes_.back()[e] = result;
        for (size_t p = 1; p < k_.phases.size(); ++p)
          emit_stores(k_.phases[p]);
      });
    }
}

}  // namespace kiln::codegen::spirv::detail
