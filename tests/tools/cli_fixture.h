#pragma once
// A test fixture that runs the real `kiln` binary as a user does: each test gets a fresh
// folder, files written into it, and kiln's exit status, stdout and stderr back.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace kiln::testing {

namespace fs = std::filesystem;

struct Result {
  int status;
  std::string out;
  std::string err;
};

class KilnCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    // The process id keeps suites running at once on one machine apart.
    dir_ = fs::temp_directory_path() / ("kiln_" + std::string(info->test_suite_name()) + "_" +
                                        info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

  static std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // Runs kiln with `env` ("NAME=value ...") in front. The disk cache stays in the test folder
  // unless `env` names another.
  Result kiln(const std::string& args, std::string env = "") {
    return run_binary(KILN_BINARY, args, std::move(env));
  }

  // Runs `binary` (kiln or kiln-plan) the same way.
  Result run_binary(const std::string& binary, const std::string& args, std::string env = "") {
    if (env.empty()) env = "KILN_CACHE_DIR=" + (dir_ / "cache").string();
    std::string command = "env " + env + " " + binary + " " + args + " >" +
                          (dir_ / "stdout").string() + " 2>" + (dir_ / "stderr").string() +
                          " </dev/null";
    int raw = std::system(command.c_str());
    int status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    return {status, slurp(dir_ / "stdout"), slurp(dir_ / "stderr")};
  }

  fs::path dir_;
};

}  // namespace kiln::testing
