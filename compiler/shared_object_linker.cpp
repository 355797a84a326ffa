// lld as a library. Its ELF driver keeps one global context and, on a fatal error, would end
// the process; so links are serialized, run inside an llvm::CrashRecoveryContext (which turns
// lld's exit into a return) and followed by CommonLinkerContext::destroy(). This file is the
// only one that names lld: LLVM 17 changes the driver's API (lld::lldMain).

#include "compiler/shared_object_linker.h"

#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <mutex>
#include <system_error>

#include <lld/Common/CommonLinkerContext.h>
#include <lld/Common/Driver.h>
#include <llvm/Support/CrashRecoveryContext.h>
#include <llvm/Support/raw_ostream.h>

#include "ir/error.h"
#include "ir/file_io.h"

namespace kiln::compiler {

namespace fs = std::filesystem;

namespace {

// A fresh private folder for one link's files, removed with everything in it.
class TemporaryFolder {
 public:
  TemporaryFolder() {
    std::string pattern = (fs::temp_directory_path() / "kiln-link-XXXXXX").string();
    if (!mkdtemp(pattern.data()))
      throw Error("[link] cannot create a temporary folder under " +
                  fs::temp_directory_path().string() + ": " + std::strerror(errno));
    path_ = pattern;
  }
  ~TemporaryFolder() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::vector<std::byte> read_whole_file(const fs::path& path) {
  ir::InputFile file(path, "[link] " + path.string());
  std::string bytes = file.read_to_end(uint64_t{1} << 32);
  const auto* data = reinterpret_cast<const std::byte*>(bytes.data());
  return {data, data + bytes.size()};
}

}  // namespace

std::vector<std::byte> link_shared_object(std::span<const LinkInput> objects) {
  static std::mutex one_link_at_a_time;
  std::lock_guard lock(one_link_at_a_time);

  TemporaryFolder folder;
  // Inputs are named by position, so nothing about where they came from reaches the output.
  std::vector<std::string> inputs;
  for (size_t i = 0; i < objects.size(); ++i) {
    inputs.push_back((folder.path() / ("k" + std::to_string(i) + ".o")).string());
    ir::write_file_atomically(inputs.back(), objects[i].object, "[link] " + objects[i].name);
  }
  const std::string output = (folder.path() / "code.so").string();
  // No --gc-sections: every kernel is an export the runtime looks up by name. -z text refuses
  // relocations in code; --discard-locals keeps the kernels' names (exported, so profilers
  // still see them) and drops the assembler's temporaries.
  std::vector<const char*> args = {"ld.lld",
                                   "-shared",
                                   "-nostdlib",
                                   "-z",
                                   "now",
                                   "-z",
                                   "relro",
                                   "-z",
                                   "noexecstack",
                                   "-z",
                                   "text",
                                   "--hash-style=sysv",
                                   "--build-id=none",
                                   "--threads=1",
                                   "--discard-locals",
                                   "-o",
                                   output.c_str()};
  for (const std::string& input : inputs)
    args.push_back(input.c_str());

  std::string messages;
  llvm::raw_string_ostream out(messages), err(messages);
  bool linked = false;
  // lld's fatal errors end in exitLld, which exits the process unless a recovery context is
  // current and enabled; enabled only for the link, as it installs process-wide handlers.
  llvm::CrashRecoveryContext::Enable();
  bool returned = false;
  {
    llvm::CrashRecoveryContext recovery;
    returned = recovery.RunSafely([&] {
      linked = lld::elf::link(args, out, err, /*exitEarly=*/false, /*disableOutput=*/false);
    });
  }
  llvm::CrashRecoveryContext::Disable();
  lld::CommonLinkerContext::destroy();
  out.flush();
  if (!returned || !linked) {
    std::string reason = messages.empty() ? "lld gave no reason" : messages;
    while (!reason.empty() && reason.back() == '\n')
      reason.pop_back();
    for (size_t i = 0; i < objects.size(); ++i) {  // name the kernels, not the temporaries
      const std::string temporary = inputs[i];
      for (size_t at = reason.find(temporary); at != std::string::npos;
           at = reason.find(temporary, at))
        reason.replace(at, temporary.size(), objects[i].name);
    }
    throw Error("[link] linking " + std::to_string(objects.size()) + " kernel object" +
                (objects.size() == 1 ? "" : "s") + " failed: " + reason);
  }
  return read_whole_file(output);
}

}  // namespace kiln::compiler
