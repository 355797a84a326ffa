#pragma once
// Binds `kiln run`'s inputs to a function's parameters: --input NAME=FILE.npy pairs, and
// seeded random data for the rest when --random-inputs is given.

#include <cstdint>
#include <string>
#include <vector>

#include "ir/array.h"
#include "ir/function.h"

namespace kiln::tools {

struct InputOptions {
  std::vector<std::string> inputs;  // "NAME=FILE.npy"
  bool random_inputs = false;
  uint64_t seed = 0;
};

// One array per parameter, in parameter order. Throws "[run] ..." for a malformed, unknown,
// duplicate or missing input and for an .npy whose type differs from its parameter.
std::vector<ir::HostArray> bind_inputs(const ir::Function& function, const InputOptions& options);

// Random data of a type: floats uniform in [-1, 1), signed integers in [-8, 8], unsigned in
// [0, 16], bools fair coins. The same seed and type give the same array.
ir::HostArray random_array(const ir::TensorType& type, uint64_t seed);

}  // namespace kiln::tools
