// The user's path around the kernels: the fixed cost of a compiled call and of eval(), a loop
// over changing C++ numbers, host <-> tensor conversion against memcpy, and compile time
// against graph size (a chain of lazy adds, a deep MLP). Part of kiln_bench.

#include <benchmark/benchmark.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "compiler/kernel_cache.h"
#include "frontend/kiln.h"

namespace kiln::bench {
namespace {

constexpr size_t kConvert = 10'000'000;  // floats, as in the issue that set the target

// A compiled call of a small function: signature lookup, argument checks, the run and the
// result tensors, for 16 floats.
void Call_SmallCompiled(benchmark::State& state) {
  const Tensor a(std::vector<float>(16, 1.5f)), b(std::vector<float>(16, 0.25f));
  auto f = compile([](Tensor x, Tensor y) { return x + y; });
  f(a, b);
  for (auto _ : state) {
    std::vector<Tensor> out = f(a, b);
    benchmark::DoNotOptimize(out.front().node().get());
  }
}

// sum(x * i).item() with a new C++ number every iteration: compiles once, then runs.
void Eval_ChangingScalar(benchmark::State& state) {
  const Tensor x(std::vector<float>(1024, 0.5f));
  float i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(sum(x * (i += 1.0f)).item<float>());
  }
}

void Limit_Memcpy10M(benchmark::State& state) {
  std::vector<float> in(kConvert, 1.0f), out(kConvert);
  for (auto _ : state) {
    std::memcpy(out.data(), in.data(), kConvert * sizeof(float));
    benchmark::DoNotOptimize(out.data());
  }
}

// The same copy into a new std::vector each time, as any conversion that returns one must
// make: the destination's first touch (page faults, the kernel's zero-fill) included.
void Limit_MemcpyToNewVector10M(benchmark::State& state) {
  std::vector<float> in(kConvert, 1.0f);
  for (auto _ : state) {
    std::vector<float> out(in.begin(), in.end());
    benchmark::DoNotOptimize(out.data());
  }
}

void Convert_VectorToTensor10M(benchmark::State& state) {
  const std::vector<float> in(kConvert, 1.0f);
  for (auto _ : state) {
    Tensor t(in);
    benchmark::DoNotOptimize(t.node().get());
  }
}

void Convert_TensorToVector10M(benchmark::State& state) {
  const Tensor t(std::vector<float>(kConvert, 1.0f));
  for (auto _ : state) {
    std::vector<float> out = t.to_vector<float>();
    benchmark::DoNotOptimize(out.data());
  }
}

// load() of a 10M-float .npy (mapped, as numpy and kiln write the data 64-byte aligned) and a
// read of one float per 4 KiB page, so that every page is brought in: against memcpy.
void Load_Npy10M(benchmark::State& state) {
  const auto path = std::filesystem::temp_directory_path() / "kiln_bench_load.npy";
  save(path, Tensor(std::vector<float>(kConvert, 1.0f)));
  for (auto _ : state) {
    Tensor t = load(path);
    std::span<const float> values = t.data<float>();
    float touched = 0;
    for (size_t i = 0; i < values.size(); i += 1024)
      touched += values[i];
    benchmark::DoNotOptimize(touched);
  }
  std::filesystem::remove(path);
}

// Compile time of a new graph against its size: eval() of x + 0 + 1 + ... + 6 + 0 + ...
// (state.range(0) lazy adds) with the compile caches emptied first, as in a new process
// (kernels of a known shape still come from the disk cache unless KILN_NO_DISK_CACHE=1).
void Compile_AddChain(benchmark::State& state) {
  const Tensor x(std::vector<float>(256, 1.0f));
  for (auto _ : state) {
    clear_caches();
    Tensor y = x;
    for (int64_t i = 0; i < state.range(0); ++i)
      y = y + static_cast<float>(i % 7);
    y.eval();
    benchmark::DoNotOptimize(y.node().get());
  }
  state.counters["us/op"] = benchmark::Counter(
      static_cast<double>(state.range(0)),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// kiln::compile of an MLP with state.range(0) layers of 16x16 (matmul, bias, tanh).
void Compile_DeepMlp(benchmark::State& state) {
  const int64_t layers = state.range(0);
  std::vector<Tensor> weights;
  for (int64_t l = 0; l < layers; ++l)
    weights.push_back(full({16, 16}, 0.01f * static_cast<float>(l % 5)));
  const Tensor x = full({4, 16}, 0.5f);
  for (auto _ : state) {
    compiler::KernelCache::instance().clear_memory();
    auto f = compile([&](Tensor h) {
      for (const Tensor& w : weights)
        h = tanh(matmul(h, w) + 0.1);
      return h;
    });
    benchmark::DoNotOptimize(f(x).front().node().get());
  }
  state.counters["us/layer"] = benchmark::Counter(
      static_cast<double>(layers),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

BENCHMARK(Call_SmallCompiled)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(Eval_ChangingScalar)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(Limit_Memcpy10M)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(Limit_MemcpyToNewVector10M)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(Convert_VectorToTensor10M)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(Convert_TensorToVector10M)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(Load_Npy10M)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(Compile_AddChain)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(Compile_DeepMlp)->Arg(100)->Arg(1000)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kiln::bench
