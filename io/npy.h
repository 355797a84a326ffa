#pragma once
// NumPy .npy files (format versions 1.0, 2.0 and 3.0; little- and big-endian; C order).
// bf16 has no numpy dtype, so it is written as f32 and read back from f32 by the caller's
// choice of conversion. Errors are kiln::Error "[npy] PATH: what is wrong"; writes go to a
// temporary file renamed into place, so a failed write never leaves a half-written file.
//
// load_npy reads a regular file, or stdin for the path "-" (anything else, such as a FIFO or a
// device, is refused unread), the header before the data, and then exactly the data's size as
// the header gives it, checked against the file's size and the machine's memory first. Data
// of 1 MiB or more in kiln's layout (little-endian, C order, 64-byte aligned) is mapped
// read-only instead of read; the file must then not be truncated or rewritten in place while
// the array lives (replacing it by rename, as save_npy does, is fine).

#include <cstddef>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "ir/array.h"
#include "ir/file_io.h"

namespace kiln::io {

ir::HostArray load_npy(const std::filesystem::path& path);
void save_npy(const std::filesystem::path& path, const ir::HostArray& array);

// Writes the file's bytes to `file` straight from the array's storage (no copy of the data);
// the caller commits.
void write_npy(ir::OutputFile& file, const ir::HostArray& array);

// The same in memory; `name` is what errors call the data.
ir::HostArray parse_npy(std::span<const std::byte> bytes, std::string_view name);
std::vector<std::byte> serialize_npy(const ir::HostArray& array);

}  // namespace kiln::io
