// W1-W5 fused and unfused, and the limits they are judged against, measured in one run:
// memory bandwidth (read+write and read-only streams), sgemm rates at W4's shapes (OpenBLAS,
// oneDNN where it was found, kiln's own GEMM), and hand-written AVX-512 fused loops for W1.
// bench/report.py turns a JSON run into ratios, running the limits that need a process of their
// own (OPENBLAS_CORETYPE, oneDNN's OpenMP threads) as separate kiln_bench processes.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "bench/peers.h"
#include "bench/workloads.h"
#include "compiler/kernel_cache.h"
#include "compiler/pipeline.h"
#include "frontend/kiln.h"

namespace kiln::bench {
namespace {

int threads() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

ir::HostArray random_f32(const ir::TensorType& type, uint64_t seed) {
  ir::HostArray a(type);
  std::mt19937 engine(static_cast<uint32_t>(seed));
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  auto* p = reinterpret_cast<float*>(a.data());
  for (int64_t i = 0; i < a.num_elements(); ++i)
    p[i] = dist(engine);
  return a;
}

// Runs a workload through the compiled path; `bytes` is the traffic its memory floor counts.
// Arguments and results live in kiln's own arrays (64-byte aligned, as Executable::run_raw
// requires, and on the pool's huge pages, as the limits' buffers and a program's arrays are).
void run_workload(benchmark::State& state, const ir::Function& f, bool fuse, double bytes,
                  double flops = 0) {
  runtime::Executable exe = compiler::compile(f, compiler::CompileOptions{.fuse = fuse});
  std::vector<ir::HostArray> storage;
  std::vector<const void*> params;
  std::vector<void*> results;
  for (size_t i = 0; i < f.params().size(); ++i)
    storage.push_back(random_f32(f.type(f.params()[i]), i + 1));
  for (const ir::TensorType& type : f.result_types())
    storage.emplace_back(type);
  for (size_t i = 0; i < storage.size(); ++i) {
    if (i < f.params().size())
      params.push_back(storage[i].data());
    else
      results.push_back(storage[i].data());
  }
  exe.run_raw(params, results);  // warm the pools and caches
  for (auto _ : state) {
    exe.run_raw(params, results);
    benchmark::DoNotOptimize(results.front());
  }
  state.counters["kernels"] = static_cast<double>(exe.num_kernels());
  state.counters["GB/s"] = benchmark::Counter(bytes * static_cast<double>(state.iterations()) / 1e9,
                                              benchmark::Counter::kIsRate);
  if (flops > 0)
    state.counters["GFLOP/s"] = benchmark::Counter(
        flops * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

constexpr int64_t kW1 = 16 << 20, kW5 = 64 << 20;

void W1(benchmark::State& state) {
  static const ir::Function f = w1_elementwise(kW1);
  run_workload(state, f, state.range(0) != 0, 8.0 * kW1);
}
void W2(benchmark::State& state) {
  static const ir::Function f = w2_softmax();
  run_workload(state, f, state.range(0) != 0, 8.0 * 4096 * 4096);
}
void W3(benchmark::State& state) {
  static const ir::Function f = w3_layernorm();
  run_workload(state, f, state.range(0) != 0, 8.0 * 8192 * 1024);
}
void W4(benchmark::State& state) {
  static const ir::Function f = w4_mlp();
  run_workload(state, f, state.range(0) != 0, 0, 2.0 * 256 * 1024 * 4096 * 2);
}
void W5(benchmark::State& state) {
  static const ir::Function f = w5_sum(kW5);
  run_workload(state, f, state.range(0) != 0, 4.0 * kW5);
}

// The user's path: a kiln::compile'd function called on Tensors, as a program calls it (the
// signature lookup, argument checks, result storage and Tensor wrapping all counted), against
// the kernels alone above.
template <class F>
void run_end_to_end(benchmark::State& state, F fn, const ir::Function& traced) {
  Compiled compiled = compile(fn);
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < traced.params().size(); ++i)
    inputs.emplace_back(random_f32(traced.type(traced.params()[i]), i + 1));
  compiled(inputs);  // compiles, warms the pools and caches
  for (auto _ : state) {
    std::vector<Tensor> out = compiled(inputs);
    benchmark::DoNotOptimize(out.front().node().get());
  }
}

void EndToEnd_W1(benchmark::State& state) {
  static const ir::Function f = w1_elementwise(kW1);
  run_end_to_end(
      state, [](Tensor x, Tensor a, Tensor b) { return w1_fn(x, a, b); }, f);
}
void EndToEnd_W2(benchmark::State& state) {
  static const ir::Function f = w2_softmax();
  run_end_to_end(
      state, [](Tensor x) { return w2_fn(x); }, f);
}
void EndToEnd_W3(benchmark::State& state) {
  static const ir::Function f = w3_layernorm();
  run_end_to_end(
      state, [](Tensor x) { return w3_fn(x); }, f);
}
void EndToEnd_W4(benchmark::State& state) {
  static const ir::Function f = w4_mlp();
  run_end_to_end(
      state,
      [](Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2) { return w4_fn(x, w1, b1, w2, b2); },
      f);
}
void EndToEnd_W5(benchmark::State& state) {
  static const ir::Function f = w5_sum(kW5);
  run_end_to_end(
      state, [](Tensor x) { return w5_fn(x); }, f);
}

// eval() of one small op: the fixed cost of the lazy path (lowering the graph, finding the
// compiled function in the eval cache, running it).
void Eval_SmallOp(benchmark::State& state) {
  const Tensor a(std::vector<float>(16, 1.5f)), b(std::vector<float>(16, 0.25f));
  (a + b).eval();
  for (auto _ : state) {
    Tensor c = a + b;
    c.eval();
    benchmark::DoNotOptimize(c.node().get());
  }
}

// Memory limits at each workload's own footprint (a 128 MiB footprint may run from the
// last-level cache where 256 MiB cannot), in buffers from the same pool kiln's arrays use
// (2 MiB aligned, advised for huge pages), so the loop and the kernels see the same pages.
// Limit_StreamScale/N: read N floats and write N (W1 and W2 at 16M, W3 at 8M);
// Limit_StreamSum/N: read N floats (W5 at 64M).
void Limit_StreamScale(benchmark::State& state) {
  const int64_t n = state.range(0);
  ir::HostArray in(ir::TensorType{ir::DType::F32, {n}}), out(ir::TensorType{ir::DType::F32, {n}});
  auto* x = reinterpret_cast<float*>(in.data());
  auto* y = reinterpret_cast<float*>(out.data());
  std::fill(x, x + n, 1.0f);
  for (auto _ : state) {
    stream_scale(x, y, n, threads());
    benchmark::DoNotOptimize(y);
  }
  state.counters["GB/s"] = benchmark::Counter(
      8.0 * static_cast<double>(n) * static_cast<double>(state.iterations()) / 1e9,
      benchmark::Counter::kIsRate);
}

void Limit_StreamSum(benchmark::State& state) {
  const int64_t n = state.range(0);
  ir::HostArray in(ir::TensorType{ir::DType::F32, {n}});
  auto* x = reinterpret_cast<float*>(in.data());
  std::fill(x, x + n, 1.0f);
  for (auto _ : state)
    benchmark::DoNotOptimize(stream_sum(x, n, threads()));
  state.counters["GB/s"] = benchmark::Counter(
      4.0 * static_cast<double>(n) * static_cast<double>(state.iterations()) / 1e9,
      benchmark::Counter::kIsRate);
}

// W4's two matrix products, no epilogue, with gemm(a, b, c, m, n, k): the rates W4 is judged
// against; report.py takes the fastest.
template <class Gemm>
void run_sgemm_limit(benchmark::State& state, Gemm gemm) {
  const int64_t batch = 256, in = 1024, hidden = 4096, out = 1024;
  std::vector<float> x(batch * in, 0.5f), w1(in * hidden, 0.25f), h(batch * hidden),
      w2(hidden * out, 0.125f), y(batch * out);
  const auto both = [&] {
    gemm(x.data(), w1.data(), h.data(), batch, hidden, in);
    gemm(h.data(), w2.data(), y.data(), batch, out, hidden);
  };
  both();  // oneDNN generates its kernels on the first call
  for (auto _ : state) {
    both();
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * batch * in * hidden * 2 * static_cast<double>(state.iterations()) / 1e9,
      benchmark::Counter::kIsRate);
}

// OpenBLAS's serial sgemm, rows split over the threads. It picks its kernels for the core
// OPENBLAS_CORETYPE names, or the one it detects, when it loads (the label says which), so
// report.py runs this once per core type, each in a process of its own.
void Limit_Sgemm(benchmark::State& state) {
  state.SetLabel(openblas_core());
  run_sgemm_limit(state, [](const float* a, const float* b, float* c, int64_t m, int64_t n,
                            int64_t k) { openblas_sgemm(a, b, c, m, n, k, threads()); });
}

// kiln's own GEMM, the rows split over kiln's thread pool as W4's kernels split them.
void Limit_KilnSgemm(benchmark::State& state) {
  state.SetLabel(std::to_string(kiln_threads()) + " threads");
  run_sgemm_limit(state, kiln_sgemm);
}

#if KILN_BENCH_HAVE_ONEDNN
// oneDNN's sgemm on its own OpenMP threads, one per hardware thread. libgomp's threads stay
// behind, spinning after each call unless OMP_WAIT_POLICY=passive: report.py runs both oneDNN
// limits in a process of their own with that set.
void Limit_OnednnSgemm(benchmark::State& state) {
  state.SetLabel(std::to_string(threads()) + " OpenMP threads");
  run_sgemm_limit(state, [](const float* a, const float* b, float* c, int64_t m, int64_t n,
                            int64_t k) { onednn_sgemm(a, b, c, m, n, k, threads()); });
}

// The same with the rows split over std::threads, one OpenMP thread each, as the other sgemm
// limits run.
void Limit_OnednnSgemmSplit(benchmark::State& state) {
  state.SetLabel(std::to_string(threads()) + " threads x 1 OpenMP thread");
  run_sgemm_limit(state, [](const float* a, const float* b, float* c, int64_t m, int64_t n,
                            int64_t k) { onednn_sgemm_split(a, b, c, m, n, k, threads()); });
}
#endif

using HandwrittenW1 = void (*)(const float*, float, float, float*, int64_t, int);

// What is wrong with `w1`'s results, or an empty string: on random x in [-10, 10] against
// W1's definition evaluated in double, |y - exact| <= rel * |exact| + abs (through both
// threads' parts, into an output not 64-byte aligned, so every store path runs); and for
// extreme x, a finite y. In f32 the fastest form's relative error reaches about 6e-6 near
// x = -10, where y ~ z exp(2u) amplifies the rounding of u.
std::string check_handwritten_w1(HandwrittenW1 w1, double rel, double abs) {
  const float a = 0.7f, b = 0.1f;
  std::vector<float> x(4099);
  std::mt19937 engine(7);
  std::uniform_real_distribution<float> dist(-10.0f, 10.0f);
  for (float& v : x)
    v = dist(engine);
  constexpr float kMax = std::numeric_limits<float>::max();
  const std::vector<float> extremes = {kMax,   -kMax,   1e30f, -1e30f, 1e10f,  -1e10f,
                                       200.0f, -200.0f, 89.0f, -89.0f, 88.0f,  -88.0f,
                                       44.0f,  -44.0f,  0.0f,  -0.0f,  1e-40f, -1e-40f};
  x.insert(x.end(), extremes.begin(), extremes.end());
  std::vector<float> storage(x.size() + 16);
  float* y = storage.data() + 1;
  if (reinterpret_cast<uintptr_t>(y) % 64 == 0) ++y;
  w1(x.data(), a, b, y, static_cast<int64_t>(x.size()), threads());
  const auto show = [](double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.9g", v);
    return std::string(text);
  };
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(y[i])) return "x = " + show(x[i]) + " gives " + show(y[i]);
    if (i >= x.size() - extremes.size()) continue;
    double z = static_cast<double>(x[i]) * a + b;
    // 0.5 (1 + tanh(u)) = 1 / (1 + exp(-2u)): even in double, 1 + tanh(u) keeps only a few
    // digits for u near -17 (x near -10).
    double minus_2u = -2 * 0.7978845608028654 * (z + 0.044715 * z * z * z);
    double exact = z / ((1 + std::exp(minus_2u)) * (1 + std::exp(-static_cast<double>(x[i]))));
    if (std::abs(y[i] - exact) > rel * std::abs(exact) + abs)
      return "x = " + show(x[i]) + " gives " + show(y[i]) + ", not " + show(exact);
  }
  return "";
}

// A hand-written W1 on the same pool buffers as kiln's kernels, after checking its results.
void run_handwritten_w1(benchmark::State& state, HandwrittenW1 w1, double rel, double abs) {
  if (std::string error = check_handwritten_w1(w1, rel, abs); !error.empty()) {
    state.SkipWithError(("wrong result: " + error).c_str());
    return;
  }
  ir::HostArray in(ir::TensorType{ir::DType::F32, {kW1}}),
      out(ir::TensorType{ir::DType::F32, {kW1}});
  auto* x = reinterpret_cast<float*>(in.data());
  auto* y = reinterpret_cast<float*>(out.data());
  std::mt19937 engine(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::generate(x, x + kW1, [&] { return dist(engine); });
  for (auto _ : state) {
    w1(x, 0.7f, 0.1f, y, kW1, threads());
    benchmark::DoNotOptimize(y);
  }
}

// The fastest form (2 exps, 1 division, non-temporal stores): within 1e-5 of the definition.
void Peer_HandwrittenW1(benchmark::State& state) {
  run_handwritten_w1(state, handwritten_w1, 1e-5, 0);
}

// The same with ordinary stores.
void Peer_HandwrittenW1Cached(benchmark::State& state) {
  run_handwritten_w1(state, handwritten_w1_cached, 1e-5, 0);
}

// The tanh form: 1 + tanh(u) cancels where gelu is tiny, so it is within 1e-5 relative or
// 1e-6 absolute.
void Peer_HandwrittenW1Tanh(benchmark::State& state) {
  run_handwritten_w1(state, handwritten_w1_tanh, 1e-5, 1e-6);
}

// A fresh kernel's JIT compile: each iteration compiles a W1 variant never seen before (the
// sizes start at a random point, so no earlier run's disk entry matches either).
void Compile_FreshKernel(benchmark::State& state) {
  static int64_t variant = 1024 + std::random_device{}() % (1 << 24);
  for (auto _ : state) {
    ir::Function f = w1_elementwise(variant++);
    runtime::Executable exe = compiler::compile(f, compiler::CompileOptions{.fuse = true});
    benchmark::DoNotOptimize(exe.num_kernels());
  }
}

// A rerun that finds its kernel on disk: the memory cache is emptied before every compile.
void Compile_DiskCached(benchmark::State& state) {
  const ir::Function f = w1_elementwise(4096);
  compiler::compile(f);  // puts the kernel on disk
  for (auto _ : state) {
    compiler::KernelCache::instance().clear_memory();
    runtime::Executable exe = compiler::compile(f, compiler::CompileOptions{.fuse = true});
    benchmark::DoNotOptimize(exe.num_kernels());
  }
}

BENCHMARK(Limit_StreamScale)->Arg(kW1)->Arg(8 << 20)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(Limit_StreamSum)->Arg(kW5)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(Limit_Sgemm)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(Limit_KilnSgemm)->UseRealTime()->Unit(benchmark::kMillisecond);
#if KILN_BENCH_HAVE_ONEDNN
BENCHMARK(Limit_OnednnSgemm)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(Limit_OnednnSgemmSplit)->UseRealTime()->Unit(benchmark::kMillisecond);
#endif
BENCHMARK(Peer_HandwrittenW1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(Peer_HandwrittenW1Cached)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(Peer_HandwrittenW1Tanh)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(W1)->ArgName("fused")->Arg(1)->Arg(0)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(W2)->ArgName("fused")->Arg(1)->Arg(0)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(W3)->ArgName("fused")->Arg(1)->Arg(0)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(W4)->ArgName("fused")->Arg(1)->Arg(0)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(W5)->ArgName("fused")->Arg(1)->Arg(0)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(EndToEnd_W1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(EndToEnd_W2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(EndToEnd_W3)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(EndToEnd_W4)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(EndToEnd_W5)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(Eval_SmallOp)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(Compile_FreshKernel)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(Compile_DiskCached)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kiln::bench

BENCHMARK_MAIN();
