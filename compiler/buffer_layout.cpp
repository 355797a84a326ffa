#include "compiler/buffer_layout.h"

#include <algorithm>
#include <cassert>
#include <map>
#include <optional>

namespace kiln::compiler {

namespace {

// Numbers the buffers of the memory problem: one per function value kernels touch, one per
// scratch buffer of each kernel.
struct Numbering {
  std::map<uint32_t, int32_t> by_value;
  std::vector<ir::Value> values;  // invalid for scratch
  std::vector<size_t> sizes;

  int32_t add(ir::Value v, size_t bytes) {
    if (v.valid()) {
      auto [it, fresh] = by_value.emplace(v.id, static_cast<int32_t>(values.size()));
      if (!fresh) return it->second;
    }
    values.push_back(v);
    sizes.push_back(bytes);
    return static_cast<int32_t>(values.size() - 1);
  }
};

}  // namespace

// Gives a result the buffer of a donated parameter where that is safe (see buffer_layout.h).
// `writer[b]` is the step that writes buffer b; slots of reused results become Param slots.
void place_results_in_donations(const ir::Function& function, const passes::MemoryProblem& problem,
                                const Numbering& numbering, const std::vector<size_t>& donated,
                                std::vector<Slot>& slots) {
  const size_t n = numbering.values.size();
  std::vector<int> writer(n, -1), last_reader(n, -1);
  for (size_t k = 0; k < problem.steps.size(); ++k) {
    for (int32_t b : problem.steps[k].writes)
      writer[b] = static_cast<int>(k);
    for (int32_t b : problem.steps[k].reads)
      last_reader[b] = static_cast<int>(k);
  }
  std::vector<bool> returned_as_is(function.params().size(), false);
  for (ir::Value r : function.results())
    for (size_t p = 0; p < function.params().size(); ++p)
      if (function.params()[p] == r) returned_as_is[p] = true;
  for (size_t p : donated) {
    if (p >= function.params().size() || returned_as_is[p]) continue;
    const ir::Value param = function.params()[p];
    auto found = numbering.by_value.find(param.id);
    const int32_t param_buffer = found == numbering.by_value.end() ? -1 : found->second;
    for (size_t b = 0; b < n; ++b) {
      if (slots[b].kind != Slot::Kind::Result || writer[b] < 0) continue;
      if (function.type(numbering.values[b]) != function.type(param)) continue;
      if (param_buffer >= 0) {
        const int last_read = last_reader[param_buffer];
        if (last_read > writer[b]) continue;
        const auto& pairs = problem.steps[writer[b]].in_place;
        const bool in_place = std::find(pairs.begin(), pairs.end(),
                                        std::pair<int32_t, int32_t>{
                                            param_buffer, static_cast<int32_t>(b)}) != pairs.end();
        if (last_read == writer[b] && !in_place) continue;
      }
      slots[b] = {Slot::Kind::Param, p, 0};
      break;
    }
  }
}

BufferLayout layout_buffers(const ir::Function& function, const codegen::LoweredFunction& lowered,
                            const std::vector<size_t>& donated) {
  BufferLayout layout;
  const size_t num_kernels = lowered.kernels.size();
  assert(lowered.kernel_values.size() == num_kernels);

  Numbering numbering;
  std::vector<std::vector<int32_t>> ids(num_kernels);
  std::vector<bool> produced;  // per buffer id: some kernel writes it
  passes::MemoryProblem problem;
  for (size_t k = 0; k < num_kernels; ++k) {
    const codegen::Kernel& kernel = lowered.kernels[k];
    assert(lowered.kernel_values[k].size() == kernel.buffers.size());
    passes::MemoryStep step;
    for (size_t i = 0; i < kernel.buffers.size(); ++i) {
      int32_t id = numbering.add(lowered.kernel_values[k][i], kernel.buffers[i].type.size_bytes());
      ids[k].push_back(id);
      produced.resize(numbering.values.size(), false);
      if (kernel.buffers[i].is_output || kernel.is_scratch(static_cast<int32_t>(i))) {
        step.writes.push_back(id);
        produced[id] = true;
      } else {
        step.reads.push_back(id);
      }
    }
    for (auto [in, out] : codegen::in_place_pairs(kernel))
      step.in_place.emplace_back(ids[k][in], ids[k][out]);
    problem.steps.push_back(std::move(step));
  }

  // Classify: parameters, results, constants, arena.
  std::map<uint32_t, size_t> param_index, result_index;
  for (size_t i = 0; i < function.params().size(); ++i)
    param_index.emplace(function.params()[i].id, i);
  for (size_t i = 0; i < function.results().size(); ++i)
    result_index.emplace(function.results()[i].id, i);  // keeps the first position

  const size_t n = numbering.values.size();
  std::vector<Slot> slots(n);
  problem.sizes = numbering.sizes;
  problem.planned.assign(n, false);
  problem.counts_toward_peak.assign(n, false);
  std::map<uint32_t, size_t> constant_index;
  auto constant_slot = [&](ir::Value v) {
    auto [it, fresh] = constant_index.emplace(v.id, layout.constants.size());
    if (fresh) layout.constants.push_back(v);
    return Slot{Slot::Kind::Constant, it->second, 0};
  };
  for (size_t b = 0; b < n; ++b) {
    ir::Value v = numbering.values[b];
    if (v.valid() && param_index.count(v.id)) {
      slots[b] = {Slot::Kind::Param, param_index[v.id], 0};
    } else if (v.valid() && result_index.count(v.id) && produced[b]) {
      slots[b] = {Slot::Kind::Result, result_index[v.id], 0};
      problem.counts_toward_peak[b] = true;
    } else if (v.valid() && !produced[b]) {
      slots[b] = constant_slot(v);
    } else {
      problem.planned[b] = true;
    }
  }
  place_results_in_donations(function, problem, numbering, donated, slots);
  layout.plan = passes::plan_memory(problem);
  for (size_t b = 0; b < n; ++b)
    if (problem.planned[b]) slots[b] = {Slot::Kind::Arena, layout.plan.offsets[b].value_or(0), 0};

  for (size_t k = 0; k < num_kernels; ++k) {
    std::vector<Slot>& row = layout.kernel_slots.emplace_back();
    for (int32_t id : ids[k]) {
      Slot slot = slots[id];
      slot.bytes = numbering.sizes[id];
      row.push_back(slot);
    }
  }
  for (size_t r = 0; r < function.results().size(); ++r) {
    ir::Value v = function.results()[r];
    auto it = numbering.by_value.find(v.id);
    if (param_index.count(v.id))
      layout.result_slots.push_back({Slot::Kind::Param, param_index[v.id], 0});
    else if (it != numbering.by_value.end() && produced[it->second])
      layout.result_slots.push_back(slots[it->second]);
    else
      layout.result_slots.push_back(constant_slot(v));
  }
  return layout;
}

}  // namespace kiln::compiler
