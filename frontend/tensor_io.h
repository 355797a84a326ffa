#pragma once
// Tensors to and from .npy files and text. bf16 has no numpy dtype: it is saved as f32, and a
// file saved from bf16 loads back as f32 (astype(DType::BF16) restores it exactly).

#include <filesystem>
#include <iosfwd>
#include <string>

#include "frontend/tensor.h"

namespace kiln {

Tensor load(const std::filesystem::path& path);
void save(const std::filesystem::path& path, const Tensor& tensor);  // evaluates

// numpy-like text, columns aligned: "[[1, 2],\n [3, 4]]". Floats show `precision` decimals
// (fewer when every element ends in zeros), or %g when magnitudes call for exponents.
std::string to_string(const Tensor& tensor, int precision = 6);
std::ostream& operator<<(std::ostream& os, const Tensor& tensor);

}  // namespace kiln
