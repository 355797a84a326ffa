// Writes the benchmark workloads W1-W5 as .kir files (w1.kir ... w5.kir) into a folder, so the
// `kiln` command can run the very functions kiln_bench times: bench/end_to_end.sh compares
// `kiln run --stats` with `kiln bench` on them.

#include <filesystem>
#include <iostream>

#include "bench/workloads.h"
#include "ir/error.h"
#include "ir/file_io.h"
#include "ir/printer.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: kiln_bench_write_workloads DIR\n";
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
    }
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}
