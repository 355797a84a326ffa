#pragma once
// Tensors to and from .npy files and text. bf16 has no numpy dtype: it is saved as f32, and a
// file saved from bf16 loads back as f32 (astype(DType::BF16) restores it exactly).

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>

#include "frontend/tensor.h"

namespace kiln {

// A file of 1 MiB of data or more in kiln's layout (little-endian, C order, data 64-byte
// aligned, as numpy and kiln write it) is mapped, not read: the tensor reads the file's pages
// in place. As with numpy's mmap_mode, the file must not be truncated or rewritten in place
// while the tensor lives (saving over it with kiln, which writes a new file and renames it, is
// fine); copy the tensor (x * 1, or assign into another) to detach it.
Tensor load(const std::filesystem::path& path);
void save(const std::filesystem::path& path, const Tensor& tensor);  // evaluates

// How tensors print, after numpy's set_printoptions.
struct PrintOptions {
  int precision = 6;         // decimals of floats (fewer when every element ends in zeros)
  int64_t threshold = 1000;  // tensors of more elements print summarised...
  int64_t edgeitems = 3;     // ...as this many items at each end of every longer axis, and "..."
  int64_t linewidth = 75;    // a row longer than this many characters wraps
};
// Process-wide, as in numpy; read by to_string(tensor) and operator<<. Throws
// "[frontend] set_printoptions: ..." for a precision outside [0, 100], a negative threshold,
// or an edgeitems or linewidth below 1.
void set_printoptions(const PrintOptions& options);
PrintOptions get_printoptions();

// Sets print options for the lifetime of the guard, then restores the previous ones.
class ScopedPrintOptions {
 public:
  explicit ScopedPrintOptions(const PrintOptions& options);
  ~ScopedPrintOptions();
  ScopedPrintOptions(const ScopedPrintOptions&) = delete;
  ScopedPrintOptions& operator=(const ScopedPrintOptions&) = delete;

 private:
  PrintOptions saved_;
};

// numpy-like text, as numpy's array2string with separator ", ": columns aligned,
// "[[1, 2],\n [3, 4]]"; rows wrap at linewidth; past `threshold` elements only the corners
// print: "[   0,    1,    2, ..., 1997, 1998, 1999]". Floats show `precision` decimals (fewer
// when every element shown ends in zeros), or %g when magnitudes call for exponents; bools are
// true and false. Evaluates the tensor.
std::string to_string(const Tensor& tensor, const PrintOptions& options);
std::string to_string(const Tensor& tensor);                 // with get_printoptions()
std::string to_string(const Tensor& tensor, int precision);  // those, at this precision
std::ostream& operator<<(std::ostream& os, const Tensor& tensor);

}  // namespace kiln
