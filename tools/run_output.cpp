#include "tools/run_output.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "io/npy.h"
#include "ir/error.h"

namespace kiln::tools {

namespace {

std::string format_number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", v);
  return buffer;
}

}  // namespace

std::string summarize(const ir::HostArray& array) {
  std::ostringstream out;
  out << array.type().str();
  int64_t n = array.num_elements();
  if (n == 0) return out.str() + "  (empty)";
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  int64_t nans = 0;
  for (int64_t i = 0; i < n; ++i) {
    double v = array.get_f64(i);
    if (std::isnan(v)) {
      ++nans;
      continue;
    }
    lo = std::min(lo, v), hi = std::max(hi, v), sum += v;
  }
  if (nans < n)
    out << "  min " << format_number(lo) << "  max " << format_number(hi) << "  mean "
        << format_number(sum / static_cast<double>(n - nans));
  if (nans) out << "  nan " << nans;
  out << "  [";
  for (int64_t i = 0; i < std::min<int64_t>(n, 6); ++i)
    out << (i ? ", " : "") << format_number(array.get_f64(i));
  return out.str() + (n > 6 ? ", ...]" : "]");
}

// Every result is written next to its final name first and renamed into place only when all
// were written, so a failure never leaves some results new and others stale or partial.
void write_results(const std::filesystem::path& dir, const std::vector<ir::HostArray>& results) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    throw Error("[run] " + dir.string() + ": cannot create the output directory" +
                (ec ? ": " + ec.message() : ""));
  std::vector<std::filesystem::path> temps;
  auto remove_temps = [&] {
    for (const auto& t : temps)
      std::filesystem::remove(t, ec);
  };
  for (size_t k = 0; k < results.size(); ++k) {
    auto temp = dir / (std::to_string(k) + ".npy.tmp-" + std::to_string(::getpid()));
    temps.push_back(temp);
    std::vector<std::byte> bytes = io::serialize_npy(results[k]);
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      remove_temps();
      throw Error("[run] " + temp.string() + ": cannot write the result");
    }
  }
  for (size_t k = 0; k < results.size(); ++k) {
    std::filesystem::rename(temps[k], dir / (std::to_string(k) + ".npy"), ec);
    if (ec) {
      remove_temps();
      throw Error("[run] " + dir.string() + ": cannot move result " + std::to_string(k) +
                  " into place: " + ec.message());
    }
  }
}

void print_results(const std::filesystem::path& dir, const std::vector<ir::HostArray>& results) {
  for (size_t k = 0; k < results.size(); ++k)
    std::cout << "result " << k << ": " << summarize(results[k]) << "  -> "
              << (dir / (std::to_string(k) + ".npy")).string() << "\n";
}

}  // namespace kiln::tools
