#include "tools/run_inputs.h"

#include <algorithm>
#include <map>
#include <optional>
#include <random>

#include "io/npy.h"
#include "ir/buffer_pool.h"
#include "ir/error.h"

namespace kiln::tools {

namespace {

[[noreturn]] void fail(const InputOptions& options, const std::string& message) {
  throw Error("[" + options.component + "] " + message);
}

std::string param_list(const Signature& signature) {
  std::string s;
  for (const auto& [name, type] : signature.params)
    s += (s.empty() ? "%" : ", %") + name + ": " + type.str();
  return s.empty() ? "none" : s;
}

// Reads FILE.npy for parameter `param`; bf16 parameters take f32 files, as .npy has no bf16.
ir::HostArray load_input(const InputOptions& options, const std::string& file,
                         const std::string& param, const ir::TensorType& expected) {
  ir::HostArray array = io::load_npy(file);
  if (expected.dtype == ir::DType::BF16 && array.dtype() == ir::DType::F32 &&
      array.shape() == expected.shape) {
    ir::HostArray converted(expected);
    for (int64_t i = 0; i < array.num_elements(); ++i)
      converted.set_f64(i, array.get_f64(i));
    return converted;
  }
  if (array.type() != expected)
    fail(options, (file == "-" ? "<stdin>" : file) + ": holds " + array.type().str() +
                      " but parameter %" + param + " is " + expected.str());
  return array;
}

}  // namespace

ir::HostArray random_array(const ir::TensorType& type, uint64_t seed) {
  ir::HostArray array(type);
  std::mt19937_64 engine(seed);
  for (int64_t i = 0; i < array.num_elements(); ++i) {
    if (ir::is_float(type.dtype)) {
      array.set_f64(i, std::uniform_real_distribution<double>(-1.0, 1.0)(engine));
    } else if (type.dtype == ir::DType::Bool) {
      array.set_i64(i, static_cast<int64_t>(engine() & 1));
    } else if (ir::is_unsigned(type.dtype)) {
      array.set_i64(i, std::uniform_int_distribution<int64_t>(0, 16)(engine));
    } else {
      array.set_i64(i, std::uniform_int_distribution<int64_t>(-8, 8)(engine));
    }
  }
  return array;
}

Signature signature_of(const ir::Function& f) {
  Signature signature{f.name(), {}};
  for (ir::Value p : f.params())
    signature.params.emplace_back(f.node(p).param_name, f.type(p));
  return signature;
}

std::vector<ir::HostArray> bind_inputs(const Signature& f, const InputOptions& options) {
  std::map<std::string, std::string> files;  // parameter name -> file
  int from_stdin = 0;
  for (const std::string& spec : options.inputs) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      fail(options, "--input takes NAME=FILE.npy, got '" + spec + "'");
    std::string name = spec.substr(0, eq);
    if (name.front() == '%') name.erase(0, 1);
    const bool known = std::any_of(f.params.begin(), f.params.end(),
                                   [&](const auto& param) { return param.first == name; });
    if (!known)
      fail(options, "--input names '" + name + "', which is not a parameter of @" + f.function +
                        " (parameters: " + param_list(f) + ")");
    if (!files.emplace(name, spec.substr(eq + 1)).second)
      fail(options, "--input gives parameter %" + name + " twice");
    if (spec.substr(eq + 1) == "-" && options.program_from_stdin)
      fail(options, "--input " + spec + ": stdin (-) already holds the program");
    if (spec.substr(eq + 1) == "-" && ++from_stdin > 1)
      fail(options, "--input: only one input can come from stdin (-)");
  }
  std::vector<ir::HostArray> args;
  uint64_t random_bytes = 0;
  for (size_t i = 0; i < f.params.size(); ++i) {
    const auto& [name, type] = f.params[i];
    if (auto it = files.find(name); it != files.end()) {
      args.push_back(load_input(options, it->second, name, type));
    } else if (options.random_inputs) {
      // Sizes are checked before anything is allocated: past physical memory an allocation
      // fails, or with overcommit succeeds and the process is killed while filling it.
      const std::optional<size_t> bytes = type.checked_size_bytes();
      const std::string what = "--random-inputs: parameter %" + name + ": " + type.str() + " ";
      if (!bytes) fail(options, what + "has more bytes than a 64-bit size holds");
      if (std::optional<std::string> refusal = ir::exceeds_memory(*bytes))
        fail(options, what + *refusal);
      if (__builtin_add_overflow(random_bytes, *bytes, &random_bytes)) random_bytes = UINT64_MAX;
      if (std::optional<std::string> refusal = ir::exceeds_memory(random_bytes))
        fail(options, "--random-inputs: the parameters up to %" + name + " together " + *refusal);
      args.push_back(random_array(type, options.seed + i));
    } else {
      fail(options, "no --input for parameter %" + name + ": " + type.str() + " of @" + f.function +
                        " (give --input " + name + "=FILE.npy or --random-inputs)");
    }
  }
  return args;
}

}  // namespace kiln::tools
