#include "ir/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "ir/error.h"

namespace kiln::ir {

namespace {

std::string system_reason(const std::string& what, int error) {
  return what + ": " + std::strerror(error);
}

}  // namespace

std::string file_kind(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

InputFile::InputFile(const std::filesystem::path& path, std::string context, bool follow_links)
    : context_(std::move(context)) {
  if (path == "-") {
    fd_ = STDIN_FILENO;
    return;
  }
  // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever, before fstat could
  // tell what it is. Regular files ignore the flag.
  const int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (follow_links ? 0 : O_NOFOLLOW);
  fd_ = ::open(path.c_str(), flags);
  if (fd_ < 0) {
    if (!follow_links && errno == ELOOP)
      fail("is a symbolic link, which kiln does not follow here");
    fail(system_reason("cannot open", errno));
  }
  // A constructor that throws runs no destructor: the descriptor is closed here on refusal.
  struct stat st {};
  std::string refusal;
  if (::fstat(fd_, &st) != 0)
    refusal = system_reason("cannot stat", errno);
  else if (!S_ISREG(st.st_mode))
    refusal = "is " + file_kind(st.st_mode) + ", not a regular file";
  if (!refusal.empty()) {
    ::close(fd_);
    fail(refusal);
  }
  owned_ = true;
  size_ = static_cast<uint64_t>(st.st_size);
}

InputFile::~InputFile() {
  if (owned_) ::close(fd_);
}

void InputFile::fail(const std::string& reason) const {
  throw Error(context_ + ": " + reason);
}

size_t InputFile::read(void* out, size_t size) {
  auto* bytes = static_cast<char*>(out);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd_, bytes + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(system_reason("cannot read", errno));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

std::string InputFile::read_to_end(uint64_t max_bytes) {
  const std::string limit = " (kiln reads at most " + std::to_string(max_bytes) + " bytes)";
  if (size_ && *size_ > max_bytes)
    fail("is " + std::to_string(*size_) + " bytes, too large" + limit);
  // One read of a regular file's size, then one to see its end. Stdin, and files of /proc that
  // say they hold 0 bytes, are read in doubling steps; the limit bounds both.
  std::string text;
  size_t step = size_ && *size_ ? static_cast<size_t>(*size_) : size_t{1} << 16;
  while (true) {
    const size_t old = text.size();
    text.resize(old + step);
    const size_t got = read(text.data() + old, step);
    text.resize(old + got);
    if (got < step) return text;
    if (text.size() > max_bytes) fail("is too large" + limit);
    step = std::min<size_t>(text.size(), max_bytes + 1 - text.size());
  }
}

bool InputFile::at_end() {
  char extra;
  return read(&extra, 1) == 0;
}

OutputFile::OutputFile(std::filesystem::path destination, std::string context, mode_t mode)
    : destination_(std::move(destination)), context_(std::move(context)) {
  // The process id and a counter keep concurrent writers, in this process or another, apart;
  // O_EXCL refuses to reuse whatever already has the name.
  static std::atomic<uint64_t> counter{0};
  temporary_ = destination_;
  temporary_ += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd_ < 0) fail(system_reason("cannot create " + temporary_.string(), errno));
}

OutputFile::~OutputFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temporary_.c_str());
}

void OutputFile::fail(const std::string& reason) const {
  throw Error(context_ + ": " + reason);
}

void OutputFile::write(std::span<const std::byte> bytes) {
  const auto* data = reinterpret_cast<const char*>(bytes.data());
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, data + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(system_reason("cannot write", errno));
    done += static_cast<size_t>(n);
  }
}

void OutputFile::close() {
  if (fd_ < 0) return;
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail(system_reason("cannot write", errno));
}

void OutputFile::commit() {
  close();
  if (::rename(temporary_.c_str(), destination_.c_str()) != 0)
    fail(system_reason("cannot move the finished file into place", errno));
  committed_ = true;
}

void write_file_atomically(const std::filesystem::path& destination,
                           std::span<const std::byte> bytes, const std::string& context,
                           mode_t mode) {
  OutputFile file(destination, context, mode);
  file.write(bytes);
  file.commit();
}

}  // namespace kiln::ir
