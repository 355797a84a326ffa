// `kiln cache stats|clear`: the disk kernel cache as the environment configures it (the folder,
// its entries and bytes, the size limit), and removing its entries.

#include <iostream>
#include <memory>

#include "compiler/disk_cache.h"
#include "compiler/kernel_cache.h"
#include "ir/error.h"
#include "tools/commands.h"

namespace kiln::tools {

namespace {

int run_cache(const std::string& action) {
  const compiler::KernelCacheConfig config = compiler::cache_config_from_env();
  if (!config.disk_dir) {
    std::cout << "folder: none (KILN_NO_DISK_CACHE=1 or no HOME): kernels are cached in memory "
                 "only\n";
    return 0;
  }
  const std::filesystem::path& dir = *config.disk_dir;
  // The same check a run makes: a folder kiln would not use is not counted or cleared either.
  if (std::string refusal = compiler::prepare_cache_folder(dir); !refusal.empty())
    throw Error(refusal);
  if (action == "clear") {
    const compiler::DiskCacheUsage removed = compiler::clear_disk_cache(dir);
    std::cout << "removed " << removed.entries << " entries (" << removed.bytes << " bytes) from "
              << dir.string() << "\n";
    return 0;
  }
  const compiler::DiskCacheUsage usage = compiler::disk_cache_usage(dir);
  std::cout << "folder: " << dir.string() << "\nentries: " << usage.entries
            << "\nbytes: " << usage.bytes << "\nlimit: " << config.disk_max_bytes << "\n";
  return 0;
}

}  // namespace

Action add_cache_command(CLI::App& app) {
  auto action = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "cache",
      "Show (stats) or empty (clear) the disk kernel cache: $KILN_CACHE_DIR, else "
      "~/.cache/kiln, limited to $KILN_CACHE_MAX_BYTES (default 1 GiB). It holds compiled "
      "code that kiln runs");
  cmd->add_option("action", *action, "stats or clear")
      ->required()
      ->check(CLI::IsMember({"stats", "clear"}));
  return [cmd, action]() -> int { return cmd->parsed() ? run_cache(*action) : -1; };
}

}  // namespace kiln::tools
