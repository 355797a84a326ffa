#pragma once
// What `kiln run` and `kiln-plan` print and write for results: a one-line summary per result,
// and the results as k.npy files, all renamed into place only once every one was written.

#include <filesystem>
#include <string>
#include <vector>

#include "ir/array.h"

namespace kiln::tools {

// The result's type, range, mean and first values.
std::string summarize(const ir::HostArray& array);

// Writes results[k] to DIR/k.npy. Throws "[run] ..." and leaves no partial file behind.
void write_results(const std::filesystem::path& dir, const std::vector<ir::HostArray>& results);

// "result k: SUMMARY  -> DIR/k.npy" for each result, to stdout.
void print_results(const std::filesystem::path& dir, const std::vector<ir::HostArray>& results);

}  // namespace kiln::tools
