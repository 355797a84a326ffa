#pragma once
// What the kernel cache's tests share: a stand-in backend that counts compiles, file helpers
// and an environment variable restored on scope exit.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/cache_file.h"
#include "compiler/kernel_cache.h"

namespace kiln::compiler::testing {

namespace fs = std::filesystem;

// "Object code" is the kernel's encoding behind a marker, so a test can tell what was
// compiled from what was read back.
class FakeBackend final : public KernelBackend {
 public:
  explicit FakeBackend(std::string target = "fake-target +x") : target_(std::move(target)) {}
  std::string cache_description() const override { return target_; }
  std::vector<std::byte> compile_to_object(const codegen::Kernel& kernel,
                                           const std::string& symbol) override {
    ++compiles;
    return object_for(kernel, symbol);
  }
  static std::vector<std::byte> object_for(const codegen::Kernel& kernel,
                                           const std::string& symbol) {
    std::string object = "OBJ:" + symbol + ":" + encode_kernel(kernel);
    const auto* p = reinterpret_cast<const std::byte*>(object.data());
    return {p, p + object.size()};
  }
  int compiles = 0;

 private:
  std::string target_;
};

// The cache hands out exactly what the backend compiled for `k`.
inline void expect_code_of(const std::shared_ptr<const runtime::PlanKernel>& code,
                           const codegen::Kernel& k) {
  ASSERT_TRUE(code);
  EXPECT_EQ(code->object, FakeBackend::object_for(k, code->symbol));
}

inline std::vector<char> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void spit(const fs::path& p, const std::vector<char>& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Restores an environment variable when it goes out of scope.
class ScopedEnv {
 public:
  explicit ScopedEnv(const char* name) : name_(name) {
    if (const char* v = std::getenv(name)) old_ = v;
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace kiln::compiler::testing
