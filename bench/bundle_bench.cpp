// Bundles against the JIT path (issue 12's figures):
//   Bundle_Open/W4        open + validate W4's bundle (container, digests, manifest, plans, the
//                         code object's checks and mapping) from memory
//   Call/W1..W5/jit|bundle the same kernels through compiler::compile's executable (run_raw)
//                         and through the bundle (BundleFunction::call_raw): they should match
//   Tiny/run_raw|kiln_call  y = x + 1 on f32[4]: what a C API call costs over run_raw
// Bundles are compiled for `host`, so both sides run the same code.

#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
#include <memory>
#include <random>

#include "bench/workloads.h"
#include "compiler/bundle_writer.h"
#include "compiler/pipeline.h"
#include "ir/parser.h"
#include "kiln/runtime.h"
#include "runtime/bundle/bundle.h"

namespace {

using namespace kiln;

ir::Function workload(int w) {
  switch (w) {
    case 1:
      return bench::w1_elementwise();
    case 2:
      return bench::w2_softmax();
    case 3:
      return bench::w3_layernorm();
    case 4:
      return bench::w4_mlp();
    default:
      return bench::w5_sum();
  }
}

const std::vector<std::byte>& bundle_bytes(int w) {
  static std::map<int, std::vector<std::byte>> cache;
  auto it = cache.find(w);
  if (it != cache.end()) return it->second;
  compiler::BundleSpec spec;
  spec.functions.push_back({workload(w), "w"});
  spec.targets = {"host"};
  return cache[w] = compiler::write_bundle(spec);
}

// Arguments and results for `plan`, 64-byte aligned, inputs random in [-1, 1).
struct Buffers {
  std::vector<ir::HostArray> args, results;
  std::vector<const void*> in;
  std::vector<void*> out;
  explicit Buffers(const runtime::Plan& plan) {
    std::mt19937 engine(1);
    std::uniform_real_distribution<float> dist(-1, 1);
    for (const runtime::PlanParam& p : plan.params) {
      ir::HostArray a(p.type);
      for (int64_t i = 0; i < a.num_elements(); ++i)
        a.set_f64(i, dist(engine));
      args.push_back(std::move(a));
      in.push_back(args.back().data());
    }
    for (const ir::TensorType& t : plan.result_types) {
      results.push_back(ir::HostArray::uninitialized(t));
      out.push_back(results.back().data());
    }
  }
};

void Bundle_Open(benchmark::State& state) {
  const std::vector<std::byte>& bytes = bundle_bytes(4);
  state.SetLabel(std::to_string(bytes.size()) + " bytes");
  for (auto _ : state)
    benchmark::DoNotOptimize(runtime::bundle::Bundle::open_memory(bytes));
}

void Call(benchmark::State& state) {
  const int w = static_cast<int>(state.range(0));
  const bool bundled = state.range(1) == 1;
  static std::map<int, runtime::Executable> jit;
  static std::map<int, runtime::bundle::Bundle> bundles;
  if (!jit.contains(w)) jit.emplace(w, compiler::compile(workload(w)));
  if (!bundles.contains(w))
    bundles.emplace(w, runtime::bundle::Bundle::open_memory(bundle_bytes(w)));
  const runtime::Executable& exe = jit.at(w);
  const runtime::bundle::BundleFunction& f = bundles.at(w).functions().front();
  // One set of buffers per workload for both sides, so that neither gets memory the other
  // lacks (huge pages, pages already faulted in).
  static std::map<int, std::unique_ptr<Buffers>> all_buffers;
  if (!all_buffers.contains(w)) all_buffers.emplace(w, std::make_unique<Buffers>(exe.plan()));
  Buffers& buffers = *all_buffers.at(w);
  state.SetLabel(bundled ? "bundle (" + bundles.at(w).target() + ")" : "jit");
  const auto call = [&] {
    if (bundled)
      f.call_raw(buffers.in, buffers.out);
    else
      exe.run_raw(buffers.in, buffers.out);
  };
  call();  // the first run faults the arena's and results' pages in
  for (auto _ : state) {
    call();
    benchmark::DoNotOptimize(buffers.out.front());
  }
}

constexpr const char* kTiny = R"(func @tiny(%x: f32[4]) -> f32[4] {
  %one = constant {value=1.0} : f32[4]
  %y = add %x, %one : f32[4]
  return %y
})";

void Tiny(benchmark::State& state) {
  const bool c_api = state.range(0) == 1;
  const ir::Module module = ir::parse_module(kTiny);
  static const runtime::Executable exe = compiler::compile(module.functions.front());
  compiler::BundleSpec spec;
  spec.functions.push_back({module.functions.front(), "tiny"});
  spec.targets = {"host"};
  static const std::vector<std::byte> bytes = compiler::write_bundle(spec);
  kiln_runtime* rt = nullptr;
  kiln_bundle* bundle = nullptr;
  kiln_function* fn = nullptr;
  kiln_runtime_create(nullptr, &rt);
  if (kiln_bundle_open_memory(rt, bytes.data(), bytes.size(), &bundle) != KILN_OK ||
      kiln_bundle_find_function(bundle, "tiny", &fn) != KILN_OK) {
    state.SkipWithError(kiln_last_error());
    return;
  }
  alignas(64) float x[4] = {1, 2, 3, 4}, y[4];
  const void* in[] = {x};
  void* out[] = {y};
  static const int64_t shape[] = {4};
  const kiln_tensor input = {KILN_F32, 1, shape, x, sizeof x};
  kiln_tensor output = {KILN_F32, 1, shape, y, sizeof y};
  state.SetLabel(c_api ? "kiln_call" : "Executable::run_raw");
  for (auto _ : state) {
    if (c_api)
      kiln_call(fn, &input, 1, &output, 1);
    else
      exe.run_raw(in, out);
    benchmark::DoNotOptimize(y);
  }
  kiln_bundle_close(bundle);
  kiln_runtime_destroy(rt);
}

}  // namespace

BENCHMARK(Bundle_Open)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(Call)
    ->ArgNames({"W", "bundle"})
    ->ArgsProduct({{1, 2, 3, 4, 5}, {0, 1}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(Tiny)->ArgName("c_api")->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
