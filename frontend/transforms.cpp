#include "frontend/transforms.h"

#include <atomic>
#include <cassert>
#include <map>
#include <memory>
#include <string>

#include "frontend/creation.h"
#include "frontend/graph_lowering.h"
#include "ir/verifier.h"
#include "ir/walk.h"
#include "passes/autodiff.h"
#include "passes/inline.h"
#include "passes/pass_manager.h"
#include "passes/rewriter.h"
#include "passes/vmap.h"

namespace kiln {

namespace {

using Traced = detail::TraceResult;

// A function traced for a transform: its parameters are the inputs, then what it closed over.
Traced trace_for_transform(const TracedFn& fn, const std::vector<ir::TensorType>& types,
                           const std::string& caller, GraphLowering::Leaves leaves) {
  return detail::trace_lowered(fn, types, {}, "f", leaves, caller);
}

std::vector<ir::TensorType> types_of(const std::vector<Tensor>& tensors,
                                     const std::string& caller) {
  std::vector<ir::TensorType> types;
  for (const Tensor& t : tensors) {
    if (!t.valid()) detail::fail(caller, "called with an empty Tensor");
    types.push_back(t.type());
  }
  return types;
}

std::vector<Tensor> concat(std::vector<Tensor> a, const std::vector<Tensor>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Every function but the first gets a name no other applied module has, and calls follow, so
// that graphs built from several transforms never confuse two callees of one name.
ir::Module uniquely_named(const ir::Module& module) {
  static std::atomic<uint64_t> counter{0};
  const std::string suffix = "_" + std::to_string(counter++);
  std::map<std::string, std::string> renamed;
  for (size_t i = 1; i < module.functions.size(); ++i)
    renamed[module.functions[i].name()] = module.functions[i].name() + suffix;
  ir::Module out;
  for (size_t i = 0; i < module.functions.size(); ++i) {
    ir::Function f = passes::rewrite(module.functions[i],
                                     [&](const ir::Node& node, std::span<const ir::Value> operands,
                                         ir::Function& to) -> std::optional<ir::Value> {
                                       if (node.op != ir::OpKind::Call) return std::nullopt;
                                       ir::CallAttrs call = ir::call_attrs(node);
                                       call.callee = renamed.at(call.callee);
                                       if (call.vjp) call.vjp = renamed.at(*call.vjp);
                                       return to.add(node.op, {operands.begin(), operands.end()},
                                                     make_attrs(std::move(call)), node.type);
                                     });
    if (i > 0) f.set_name(renamed.at(f.name()));
    out.functions.push_back(std::move(f));
  }
  return out;
}

// The module's first function built on `args` as lazy tensors: where transformed functions
// rejoin the user's graph (and an enclosing trace's).
std::vector<Tensor> apply_module(const ir::Module& module, const std::vector<Tensor>& args) {
  // Without callees (the usual case) there is nothing to rename, and no copy is made.
  std::optional<ir::Module> named;
  if (module.functions.size() > 1) named = uniquely_named(module);
  const ir::Function& f = (named ? *named : module).functions.front();
  std::shared_ptr<const ir::Module> callees;
  if (named) {
    auto rest = std::make_shared<ir::Module>();
    rest->functions.assign(named->functions.begin() + 1, named->functions.end());
    callees = std::move(rest);
  }
  assert(args.size() == f.params().size());
  return ir::map_results(f, std::vector<Tensor>(args.begin(), args.end()),
                         [&](const ir::Node& node, std::span<const Tensor> inputs) {
                           std::optional<ir::TensorType> declared;
                           if (ir::op_info(node.op).declares_result_type) declared = node.type;
                           Tensor value = detail::make(node.op, {inputs.begin(), inputs.end()},
                                                       node.attrs, declared, "transform");
                           if (node.op == ir::OpKind::Call) value.node()->callees = callees;
                           return value;
                         });
}

ir::Module simplified(ir::Module module) {
  passes::PassManager manager;
  manager.add("simplify");
  return manager.run(std::move(module));
}

std::vector<int> resolve_argnums(const std::vector<int>& argnums, const std::vector<Tensor>& inputs,
                                 const std::string& caller) {
  std::vector<int> out;
  const int n = static_cast<int>(inputs.size());
  for (int a : argnums) {
    const int i = a < 0 ? a + n : a;
    if (i < 0 || i >= n)
      detail::fail(caller, "argnum " + std::to_string(a) + " is out of range for " +
                               std::to_string(n) + " input" + (n == 1 ? "" : "s"));
    if (!ir::is_float(inputs[i].dtype()))
      detail::fail(caller, "input " + std::to_string(i) + " is " + inputs[i].type().str() +
                               "; only float inputs have gradients");
    out.push_back(i);
  }
  if (out.empty()) detail::fail(caller, "argnums is empty");
  return out;
}

std::vector<int> float_indices(const std::vector<Tensor>& tensors) {
  std::vector<int> out;
  for (size_t i = 0; i < tensors.size(); ++i)
    if (ir::is_float(tensors[i].dtype())) out.push_back(static_cast<int>(i));
  return out;
}

// One entry per tensor of `like`: the next of `given` for floats, zeros for the others.
std::vector<Tensor> fill_integers_with_zeros(const std::vector<Tensor>& like,
                                             const std::vector<Tensor>& given) {
  std::vector<Tensor> out;
  size_t next = 0;
  for (const Tensor& t : like)
    out.push_back(ir::is_float(t.dtype()) ? given.at(next++) : zeros_like(t));
  return out;
}

void check_like(const std::vector<Tensor>& got, const std::vector<Tensor>& like,
                const std::string& what, const std::string& caller) {
  if (got.size() != like.size())
    detail::fail(caller, std::to_string(got.size()) + " " + what + " for " +
                             std::to_string(like.size()) + " values");
  for (size_t i = 0; i < got.size(); ++i) {
    if (!got[i].valid()) detail::fail(caller, what + " " + std::to_string(i) + " is empty");
    if (got[i].type() != like[i].type())
      detail::fail(caller, what + " " + std::to_string(i) + " is " + got[i].type().str() +
                               " but its value is " + like[i].type().str());
  }
}

// A module whose first function calls `call.callee` once per result, the calls marked as `call`
// is: main(x...) -> (call @callee(x...) {result=k, vjp=..., checkpoint=...} ...).
ir::Module calling(const ir::Module& callees, ir::CallAttrs call) {
  const ir::Function& target = *callees.find(call.callee);
  ir::Function main("main");
  std::vector<ir::Value> args;
  for (size_t i = 0; i < target.params().size(); ++i)
    args.push_back(main.add_param("x" + std::to_string(i), target.type(target.params()[i])));
  std::vector<ir::Value> results;
  for (size_t k = 0; k < target.results().size(); ++k) {
    call.result = static_cast<int64_t>(k);
    results.push_back(
        main.add(ir::OpKind::Call, args, make_attrs(call), target.type(target.results()[k])));
  }
  main.set_results(std::move(results));
  ir::Module module;
  module.functions.push_back(std::move(main));
  for (const ir::Function& f : callees.functions)
    module.functions.push_back(f);
  return module;
}

// Appends `from`'s functions to `to`, the first one renamed `name`.
void add_functions(ir::Module& to, ir::Module from, const std::string& name) {
  from.functions.front().set_name(name);
  for (ir::Function& f : from.functions)
    if (!to.find(f.name())) to.functions.push_back(std::move(f));  // callees both share
}

}  // namespace

namespace detail {

namespace {

// grad or value_and_grad of f at `inputs`, and with has_aux f's results after the first (the
// loss), computed from the same trace.
std::pair<std::vector<Tensor>, std::vector<Tensor>> gradients(const TracedFn& f,
                                                              const std::vector<int>& argnums,
                                                              bool with_value, bool has_aux,
                                                              const std::vector<Tensor>& inputs) {
  const std::string caller = with_value ? "value_and_grad" : "grad";
  const std::vector<int> wrt = resolve_argnums(argnums, inputs, caller);
  Traced traced =
      trace_for_transform(f, types_of(inputs, caller), caller, GraphLowering::Leaves::Captured);
  const std::vector<Tensor> args = concat(inputs, traced.captured);
  std::vector<Tensor> aux;
  if (has_aux) {
    // The aux results join the caller's graph as traced; the pass sees only the loss. Their
    // shared forward computation is one graph again once evaluated (hash-consing).
    std::vector<Tensor> results = apply_module(traced.module, args);
    aux.assign(results.begin() + 1, results.end());
    ir::Function& fn = traced.module.functions.front();
    fn.set_results({fn.results().front()});
  }
  const ir::Function& fn = traced.module.functions.front();
  ir::Module out = with_value ? passes::value_and_grad(traced.module, fn, wrt)
                              : passes::grad(traced.module, fn, wrt);
  return {apply_module(simplified(std::move(out)), args), std::move(aux)};
}

}  // namespace

Transformed grad(TracedFn f, std::vector<int> argnums, bool with_value) {
  return Transformed([f = std::move(f), argnums = std::move(argnums),
                      with_value](const std::vector<Tensor>& inputs) {
    return gradients(f, argnums, with_value, false, inputs).first;
  });
}

TransformedWithAux grad_with_aux(TracedFn f, std::vector<int> argnums, bool with_value) {
  return TransformedWithAux([f = std::move(f), argnums = std::move(argnums),
                             with_value](const std::vector<Tensor>& inputs) {
    return gradients(f, argnums, with_value, true, inputs);
  });
}

std::pair<std::vector<Tensor>, std::vector<Tensor>> jvp(const TracedFn& f,
                                                        const std::vector<Tensor>& primals,
                                                        const std::vector<Tensor>& tangents) {
  check_like(tangents, primals, "tangents", "jvp");
  Traced traced =
      trace_for_transform(f, types_of(primals, "jvp"), "jvp", GraphLowering::Leaves::Captured);
  const std::vector<int> wrt = float_indices(primals);
  std::vector<Tensor> args = concat(primals, traced.captured);
  for (int i : wrt)
    args.push_back(tangents[i]);
  const ir::Function& fn = traced.module.functions.front();
  std::vector<Tensor> out = apply_module(simplified(passes::jvp(traced.module, fn, wrt)), args);
  const size_t n = fn.results().size();
  std::vector<Tensor> outputs(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
  std::vector<Tensor> tangent_outputs(out.begin() + static_cast<std::ptrdiff_t>(n), out.end());
  return {outputs, fill_integers_with_zeros(outputs, tangent_outputs)};
}

Transformed vmap(TracedFn f, std::vector<std::optional<int>> in_axes, std::vector<int> out_axes) {
  return Transformed([f = std::move(f), in_axes = std::move(in_axes),
                      out_axes = std::move(out_axes)](const std::vector<Tensor>& inputs) {
    std::vector<std::optional<int>> axes = in_axes;
    if (axes.empty()) axes.assign(inputs.size(), 0);
    const std::vector<ir::TensorType> types = types_of(inputs, "vmap");
    passes::UnbatchedSignature signature = passes::unbatched_signature(types, axes);
    Traced traced =
        trace_for_transform(f, signature.param_types, "vmap", GraphLowering::Leaves::Captured);
    axes.resize(axes.size() + traced.captured.size(), std::nullopt);
    // Batching sees one flat graph: custom rules inside f do not survive vmap.
    ir::Function flat = passes::inline_calls(traced.module, traced.module.functions.front());
    ir::Module out;
    out.functions.push_back(passes::vmap(flat, axes, out_axes, signature.batch_size));
    return apply_module(simplified(std::move(out)), concat(inputs, traced.captured));
  });
}

Transformed custom_vjp(TracedFn f, TracedFn bwd) {
  return Transformed([f = std::move(f), bwd = std::move(bwd)](const std::vector<Tensor>& inputs) {
    const std::vector<ir::TensorType> types = types_of(inputs, "custom_vjp");
    Traced fwd = trace_for_transform(f, types, "custom_vjp", GraphLowering::Leaves::Constants);
    std::vector<ir::TensorType> bwd_types = types;
    for (const ir::TensorType& t : fwd.module.functions.front().result_types())
      bwd_types.push_back(t);
    Traced back =
        trace_for_transform(bwd, bwd_types, "custom_vjp", GraphLowering::Leaves::Constants);
    ir::Module callees;
    add_functions(callees, std::move(fwd.module), "custom_fwd");
    add_functions(callees, std::move(back.module), "custom_bwd");
    ir::Module module = calling(callees, {.callee = "custom_fwd", .vjp = "custom_bwd"});
    try {
      ir::verify(module);
    } catch (const TypeError& e) {
      fail("custom_vjp",
           std::string(e.what()) +
               " (bwd takes the primals and one cotangent per result, and returns one "
               "cotangent per primal of the primal's type)");
    }
    return apply_module(module, inputs);
  });
}

Transformed checkpoint(TracedFn f) {
  return Transformed([f = std::move(f)](const std::vector<Tensor>& inputs) {
    Traced traced = trace_for_transform(f, types_of(inputs, "checkpoint"), "checkpoint",
                                        GraphLowering::Leaves::Captured);
    ir::Module callees;
    add_functions(callees, std::move(traced.module), "checkpointed");
    return apply_module(calling(callees, {.callee = "checkpointed", .checkpoint = 1}),
                        concat(inputs, traced.captured));
  });
}

std::vector<int> leaf_argnums(const std::vector<int>& argnums, const TreeDef& arguments,
                              const std::string& caller) {
  const std::vector<TreeDef>& trees = arguments.children();
  const int n = static_cast<int>(trees.size());
  std::vector<int> first_leaf(trees.size());
  for (size_t i = 1; i < trees.size(); ++i)
    first_leaf[i] = first_leaf[i - 1] + static_cast<int>(trees[i - 1].num_leaves());
  std::vector<int> out;
  for (int a : argnums) {
    const int i = a < 0 ? a + n : a;
    if (i < 0 || i >= n)
      fail(caller, "argnum " + std::to_string(a) + " is out of range for " + std::to_string(n) +
                       " argument" + (n == 1 ? "" : "s"));
    for (size_t k = 0; k < trees[i].num_leaves(); ++k)
      out.push_back(first_leaf[i] + static_cast<int>(k));
  }
  if (out.empty() && !argnums.empty())
    fail(caller, "the arguments argnums names hold no tensors: " + arguments.str());
  return out;
}

std::vector<std::optional<int>> leaf_in_axes(const std::vector<std::optional<int>>& in_axes,
                                             const TreeDef& arguments) {
  if (in_axes.empty()) return {};
  const std::vector<TreeDef>& trees = arguments.children();
  if (in_axes.size() != trees.size())
    fail("vmap", "in_axes has " + std::to_string(in_axes.size()) + " entries for " +
                     std::to_string(trees.size()) + " arguments");
  std::vector<std::optional<int>> out;
  for (size_t i = 0; i < trees.size(); ++i)
    out.insert(out.end(), trees[i].num_leaves(), in_axes[i]);
  return out;
}

void check_same_structure(const TreeDef& primals, const TreeDef& given, const std::string& what,
                          const std::string& caller) {
  if (given != primals)
    fail(caller, "the " + what + " are " + given.str() + " but the primals are " + primals.str());
}

}  // namespace detail

VjpResult vjp_traced(const TracedFn& f, const std::vector<Tensor>& primals) {
  auto traced = std::make_shared<Traced>(
      trace_for_transform(f, types_of(primals, "vjp"), "vjp", GraphLowering::Leaves::Captured));
  std::vector<Tensor> args = concat(primals, traced->captured);
  std::vector<Tensor> outputs = apply_module(traced->module, args);
  Transformed pullback([traced, args, outputs, primals](const std::vector<Tensor>& cotangents) {
    check_like(cotangents, outputs, "cotangents", "vjp");
    const std::vector<int> wrt = float_indices(primals);
    if (wrt.empty()) return fill_integers_with_zeros(primals, {});
    std::vector<Tensor> call_args = args;
    for (size_t k = 0; k < outputs.size(); ++k)
      if (ir::is_float(outputs[k].dtype())) call_args.push_back(cotangents[k]);
    const ir::Function& fn = traced->module.functions.front();
    std::vector<Tensor> out =
        apply_module(simplified(passes::vjp(traced->module, fn, wrt)), call_args);
    std::vector<Tensor> given(out.begin() + static_cast<std::ptrdiff_t>(fn.results().size()),
                              out.end());
    return fill_integers_with_zeros(primals, given);
  });
  return {outputs, pullback};
}

Tensor stop_gradient(const Tensor& x) {
  return detail::make(ir::OpKind::StopGradient, {x}, {}, std::nullopt, "stop_gradient");
}

}  // namespace kiln
