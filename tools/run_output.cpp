#include "tools/run_output.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>

#include "io/npy.h"
#include "ir/error.h"
#include "ir/file_io.h"

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

namespace {

// The user's file at `path` before results replace it, kept as a hard link so that a failure
// part way through the renames can put it back. Hard links cost no copy; where the file system
// has none (or there is no old file) nothing is kept, and a failure removes the new file.
class Backup {
 public:
  explicit Backup(const std::filesystem::path& path) : path_(path) {
    backup_ = path;
    backup_ += ".old-" + std::to_string(::getpid());
    ::unlink(backup_.c_str());
    kept_ = ::link(path.c_str(), backup_.c_str()) == 0;
  }
  ~Backup() {
    if (kept_) ::unlink(backup_.c_str());
  }
  Backup(const Backup&) = delete;
  Backup& operator=(const Backup&) = delete;
  // Puts the old file back, or removes the new one where there was none.
  void restore() {
    if (kept_)
      kept_ = ::rename(backup_.c_str(), path_.c_str()) != 0;
    else
      ::unlink(path_.c_str());
  }

 private:
  std::filesystem::path path_, backup_;
  bool kept_ = false;
};

}  // namespace

void write_results(const std::filesystem::path& dir, const std::vector<ir::HostArray>& results) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    throw Error("[run] " + dir.string() + ": cannot create the output directory" +
                (ec ? ": " + ec.message() : ""));
  // Every result is written to a temporary file first; a failure there removes them all
  // (OutputFile's destructor) and leaves the folder as it was.
  std::vector<std::unique_ptr<ir::OutputFile>> files;
  for (size_t k = 0; k < results.size(); ++k) {
    const std::filesystem::path path = dir / (std::to_string(k) + ".npy");
    files.push_back(std::make_unique<ir::OutputFile>(path, "[run] " + path.string()));
    io::write_npy(*files.back(), results[k]);
    files.back()->close();
  }
  // Only then are they renamed into place. Renames within a folder rarely fail, but one can
  // (the name is a directory, the folder was made read-only): then the results renamed so far
  // are undone, so the folder never holds new results beside old ones.
  std::vector<std::unique_ptr<Backup>> backups;
  for (const auto& file : files)
    backups.push_back(std::make_unique<Backup>(file->destination()));
  for (size_t k = 0; k < files.size(); ++k) {
    try {
      files[k]->commit();
    } catch (const Error&) {
      for (size_t j = 0; j < k; ++j)
        backups[j]->restore();
      throw;
    }
  }
}

namespace {

// Forwards to stdout's own buffer and keeps the reason of the first write that failed: by the
// time check_stdout runs, errno has long moved on (a mid-output std::endl on a full disk, then
// the stream refuses every later write without trying).
class RecordingStdoutBuffer : public std::streambuf {
 public:
  explicit RecordingStdoutBuffer(std::streambuf* inner) : inner_(inner) {}
  int first_error() const { return first_error_; }

 protected:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    errno = 0;
    const int_type r = inner_->sputc(traits_type::to_char_type(c));
    if (traits_type::eq_int_type(r, traits_type::eof())) record();
    return r;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    errno = 0;
    const std::streamsize written = inner_->sputn(s, n);
    if (written < n) record();
    return written;
  }
  int sync() override {
    errno = 0;
    const int r = inner_->pubsync();
    if (r != 0) record();
    return r;
  }

 private:
  void record() {
    if (!first_error_) first_error_ = errno ? errno : EIO;
  }
  std::streambuf* inner_;
  int first_error_ = 0;
};

RecordingStdoutBuffer* recorder = nullptr;

}  // namespace

void watch_stdout() {
  if (recorder) return;
  // Never destroyed: std::cout is flushed after static destructors have run.
  recorder = new RecordingStdoutBuffer(std::cout.rdbuf());
  std::cout.rdbuf(recorder);
}

int check_stdout(std::string_view program) {
  // Output is buffered, so a write that failed (a full disk, /dev/full, a closed pipe) may
  // show only when it is flushed: flush, then ask both the stream and the C stream beneath it.
  errno = 0;
  std::cout.flush();
  const bool failed = !std::cout || std::fflush(stdout) != 0 || std::ferror(stdout);
  if (!failed) return 0;
  const int error = recorder && recorder->first_error() ? recorder->first_error() : errno;
  std::cerr << "[" << program << "] cannot write to standard output"
            << (error ? std::string(": ") + std::strerror(error) : std::string()) << "\n";
  return 1;
}

void print_results(const std::filesystem::path& dir, const std::vector<ir::HostArray>& results) {
  for (size_t k = 0; k < results.size(); ++k)
    std::cout << "result " << k << ": " << summarize(results[k]) << "  -> "
              << (dir / (std::to_string(k) + ".npy")).string() << "\n";
}

}  // namespace kiln::tools
