#pragma once
// Files read and written the one careful way every reader and writer of kiln shares (.kir and
// JSON programs, .npy arrays, plans, kernel cache entries):
//
// - InputFile reads only regular files (or stdin for "-"): a directory, a FIFO that would block
//   forever or a device such as /dev/zero that never ends is refused before a byte is read, and
//   every read is bounded by a size the caller knows (a header's, or a limit).
// - OutputFile writes under a temporary name beside the destination and renames into place
//   only on commit(), so a failure never leaves a half-written file; the temporary is removed
//   if it is never committed.
//
// Errors are kiln::Error "CONTEXT: reason", where the caller's context names the component
// and the file ("[npy] x.npy") and the reason is the system's (strerror), never "Success".

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>

namespace kiln::ir {

class InputFile {
 public:
  // Opens `path` for reading, or takes stdin when `path` is "-". `follow_links = false` refuses
  // a symbolic link (the kernel cache must not be steered to another file).
  InputFile(const std::filesystem::path& path, std::string context, bool follow_links = true);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  // The size of a regular file; nullopt for stdin, whose end is known only once reached.
  std::optional<uint64_t> size() const { return size_; }
  int fd() const { return fd_; }
  // Reads `size` bytes, fewer only at the end of the file.
  size_t read(void* out, size_t size);
  // The rest of the file, refused past `max_bytes`.
  std::string read_to_end(uint64_t max_bytes);
  // True if nothing follows (reads at most one byte).
  bool at_end();
  [[noreturn]] void fail(const std::string& reason) const;

 private:
  int fd_ = -1;
  bool owned_ = false;
  std::optional<uint64_t> size_;
  std::string context_;
};

class OutputFile {
 public:
  // Creates a fresh temporary file beside `destination` with permissions `mode`.
  OutputFile(std::filesystem::path destination, std::string context, mode_t mode = 0644);
  ~OutputFile();  // removes the temporary unless committed
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void write(std::span<const std::byte> bytes);
  // Closes the temporary file (checked: a full disk may show only here). Idempotent.
  void close();
  // close(), then renames the temporary onto the destination.
  void commit();

  const std::filesystem::path& destination() const { return destination_; }
  const std::filesystem::path& temporary() const { return temporary_; }
  [[noreturn]] void fail(const std::string& reason) const;

 private:
  std::filesystem::path destination_, temporary_;
  std::string context_;
  int fd_ = -1;
  bool committed_ = false;
};

// Writes `bytes` to `destination` through an OutputFile.
void write_file_atomically(const std::filesystem::path& destination,
                           std::span<const std::byte> bytes, const std::string& context,
                           mode_t mode = 0644);

// "a directory", "a FIFO", ... for a file's st_mode: what it is when it is not a regular file.
std::string file_kind(mode_t mode);

}  // namespace kiln::ir
