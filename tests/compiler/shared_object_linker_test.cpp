// lld as a library: a failed link is a kiln::Error naming the kernel, and the process (with its
// LLVM state) goes on, however lld fails.

#include "compiler/shared_object_linker.h"

#include <gtest/gtest.h>

#include <cstring>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include "ir/error.h"

namespace kiln::compiler {
namespace {

std::vector<std::byte> bytes_of(std::string_view text) {
  const auto* data = reinterpret_cast<const std::byte*>(text.data());
  return {data, data + text.size()};
}

TEST(SharedObjectLinker, GarbageIsAnErrorNotAnExit) {
  const std::vector<std::byte> garbage = bytes_of("this is not an object file at all");
  const LinkInput inputs[] = {{"kiln_kernel_broken", garbage}};
  for (int attempt = 0; attempt < 2; ++attempt) {  // lld's state is reset after a failure
    try {
      link_shared_object(inputs);
      FAIL() << "linked garbage";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("[link]"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("kiln_kernel_broken"), std::string::npos) << e.what();
    }
  }
}

TEST(SharedObjectLinker, TruncatedElfIsAnErrorNotAnExit) {
  // An ELF header that promises sections past the end of the file: lld reports it as fatal.
  std::vector<std::byte> elf(64, std::byte{0});
  const unsigned char ident[] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
  std::memcpy(elf.data(), ident, sizeof ident);
  elf[16] = std::byte{1};     // ET_REL
  elf[18] = std::byte{62};    // EM_X86_64
  elf[20] = std::byte{1};     // EV_CURRENT
  elf[40] = std::byte{0xff};  // section headers far past the end
  elf[58] = std::byte{64};    // e_shentsize
  elf[60] = std::byte{9};     // e_shnum
  const LinkInput inputs[] = {{"kiln_kernel_truncated", elf}};
#if defined(__SANITIZE_ADDRESS__)
  // lld's fatal path jumps out past the destructors of what it had parsed: a few KiB that
  // are lld's to lose, not kiln's, on a path only a corrupt object reaches.
  __lsan::ScopedDisabler lld_leaks_on_fatal_errors;
#endif
  EXPECT_THROW(link_shared_object(inputs), Error);
  EXPECT_THROW(link_shared_object(inputs), Error);
}

}  // namespace
}  // namespace kiln::compiler
