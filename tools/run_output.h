#pragma once
// What `kiln run` and `kiln-plan` print and write for results: a one-line summary per result,
// and the results as k.npy files, all renamed into place only once every one was written.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ir/array.h"

namespace kiln::tools {

// The result's type, range, mean and first values.
std::string summarize(const ir::HostArray& array);

// Writes results[k] to DIR/k.npy: all to temporary files first, then renamed into place. Throws
// "[run] DIR/k.npy: ..." naming the file and the system's reason, and leaves the folder as it
// was: no temporary file, no new result beside an old one.
void write_results(const std::filesystem::path& dir, const std::vector<ir::HostArray>& results);

// Routes std::cout through a buffer that remembers why its first failed write failed, for
// check_stdout to report; the first step of every program's main.
void watch_stdout();

// Flushes stdout and checks that everything written to it arrived: 0 if so, else 1 after
// "[PROGRAM] cannot write to standard output: REASON" on stderr. Every command's last step.
int check_stdout(std::string_view program);

// "result k: SUMMARY  -> DIR/k.npy" for each result, to stdout.
void print_results(const std::filesystem::path& dir, const std::vector<ir::HostArray>& results);

}  // namespace kiln::tools
