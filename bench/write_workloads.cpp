// Writes the benchmark workloads W1-W5 as .kir files (w1.kir ... w5.kir) into a folder, so the
// `kiln` command can run the very functions kiln_bench times: bench/end_to_end.sh compares
// `kiln run --stats` with `kiln bench` on them. With --vulkan it also writes what
// kiln-vulkan-bench runs: each workload compiled for kiln's portable Vulkan profile
// (w1.kplan ...; no device needed) and the hand-written GLSL kernels (w1.spv, copy.spv).

#include <filesystem>
#include <iostream>

#include "bench/workloads.h"
#include "compiler/pipeline.h"
#include "ir/error.h"
#include "ir/file_io.h"
#include "ir/printer.h"

int main(int argc, char** argv) {
  const bool vulkan = argc == 3 && std::string(argv[2]) == "--vulkan";
  if (argc != 2 && !vulkan) {
    std::cerr << "usage: kiln_bench_write_workloads DIR [--vulkan]\n";
    return 1;
  }
  const std::filesystem::path dir = argv[1];
  try {
    std::filesystem::create_directories(dir);
    const kiln::ir::Function workloads[] = {kiln::bench::w1_elementwise(),
                                            kiln::bench::w2_softmax(), kiln::bench::w3_layernorm(),
                                            kiln::bench::w4_mlp(), kiln::bench::w5_sum()};
    for (const kiln::ir::Function& f : workloads) {
      const std::string text = kiln::ir::print(f);
      kiln::ir::write_file_atomically(dir / (f.name() + ".kir"), std::as_bytes(std::span(text)),
                                      "[bench] " + (dir / (f.name() + ".kir")).string());
      if (!vulkan) continue;
      const kiln::runtime::Plan plan = kiln::compiler::compile_plan(
          f, {.device = kiln::compiler::Device::Vulkan, .portable = true});
      const std::filesystem::path path = dir / (f.name() + ".kplan");
      kiln::ir::write_file_atomically(path, kiln::runtime::save_plan(plan),
                                      "[bench] " + path.string());
    }
    if (vulkan)
      for (const char* shader : {"w1.spv", "copy.spv"})
        std::filesystem::copy_file(std::filesystem::path(KILN_BENCH_SPIRV_DIR) / shader,
                                   dir / shader, std::filesystem::copy_options::overwrite_existing);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}
