#pragma once
// Binds `kiln run`'s inputs to a function's parameters: --input NAME=FILE.npy pairs, and
// seeded random data for the rest when --random-inputs is given.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ir/array.h"
#include "ir/function.h"

namespace kiln::tools {

struct InputOptions {
  std::vector<std::string> inputs;  // "NAME=FILE.npy"
  bool random_inputs = false;
  uint64_t seed = 0;
  std::string component = "run";    // names the command in errors: "[run] ..."
  bool program_from_stdin = false;  // `-` as the program: no input can come from stdin too
};

// What inputs bind to: a function's name and its parameters (names and types, in order).
struct Signature {
  std::string function;
  std::vector<std::pair<std::string, ir::TensorType>> params;
};
Signature signature_of(const ir::Function& function);

// One array per parameter, in parameter order. FILE may be "-", stdin, for one input. Throws
// "[run] ..." for a malformed, unknown, duplicate or missing input, for an .npy whose type
// differs from its parameter, and for random inputs larger than the machine's memory, which
// are checked before anything is allocated.
std::vector<ir::HostArray> bind_inputs(const Signature& signature, const InputOptions& options);

// Random data of a type: floats uniform in [-1, 1), signed integers in [-8, 8], unsigned in
// [0, 16], bools fair coins. The same seed and type give the same array.
ir::HostArray random_array(const ir::TensorType& type, uint64_t seed);

}  // namespace kiln::tools
