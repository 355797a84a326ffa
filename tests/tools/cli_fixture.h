#pragma once
// A test fixture that runs the real `kiln` binary as a user does: each test gets a fresh
// folder, files written into it, and kiln's exit status, stdout and stderr back.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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

  // Runs `binary` (kiln or kiln-plan) the same way, stdin from `stdin_path`; stdout goes to
  // `stdout_path` if given (then Result::out is empty), else it is captured.
  Result run_binary(const std::string& binary, const std::string& args, std::string env = "",
                    const std::string& stdin_path = "/dev/null",
                    const std::string& stdout_path = "") {
    return shell(binary + " " + args, std::move(env), stdin_path, stdout_path);
  }

  // Runs a shell command line (a pipeline of kiln commands; $KILN stands for the binary) with
  // `env` exported, its stdout and stderr captured as kiln()'s are.
  Result shell(const std::string& command_line, std::string env = "",
               const std::string& stdin_path = "/dev/null", const std::string& stdout_path = "") {
    if (env.empty()) env = "KILN_CACHE_DIR=" + (dir_ / "cache").string();
    const fs::path out = stdout_path.empty() ? dir_ / "stdout" : fs::path(stdout_path);
    std::ofstream(dir_ / "stdout", std::ios::trunc).close();
    std::string command = "export " + env + " KILN=" + KILN_BINARY + "; ( " + command_line +
                          " ) >" + out.string() + " 2>" + (dir_ / "stderr").string() + " <" +
                          stdin_path;
    int raw = std::system(command.c_str());
    int status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    return {status, slurp(dir_ / "stdout"), slurp(dir_ / "stderr")};
  }

  // The command failed as a user error: status 1 and one line on stderr holding `fragment`.
  static void expect_error(const Result& r, const std::string& fragment) {
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << "stderr: " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one message: " << r.err;
  }

  fs::path dir_;
};

}  // namespace kiln::testing
