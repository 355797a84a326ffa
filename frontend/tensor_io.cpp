#include "frontend/tensor_io.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <vector>

#include "frontend/ops.h"
#include "io/npy.h"

namespace kiln {

Tensor load(const std::filesystem::path& path) {
  return Tensor(io::load_npy(path));
}

void save(const std::filesystem::path& path, const Tensor& tensor) {
  const Tensor& t = tensor.dtype() == DType::BF16 ? astype(tensor, DType::F32) : tensor;
  io::save_npy(path, t.data());
}

namespace {

// Floats print in fixed notation with `precision` decimals when the magnitudes allow it
// (numpy's default look), else in %g; trailing zeros common to every element are dropped.
std::vector<std::string> float_cells(const ir::HostArray& a, int precision) {
  double largest = 0, smallest = INFINITY;
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    double v = std::abs(a.get_f64(i));
    if (!std::isfinite(v)) continue;
    largest = std::max(largest, v);
    if (v != 0) smallest = std::min(smallest, v);
  }
  bool fixed = largest < 1e6 && (smallest == INFINITY || smallest >= std::pow(10.0, -precision));
  std::vector<std::string> cells;
  char buffer[64];
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    std::snprintf(buffer, sizeof buffer, fixed ? "%.*f" : "%.*g", precision, a.get_f64(i));
    cells.push_back(buffer);
  }
  if (!fixed) return cells;
  size_t trim = static_cast<size_t>(precision) - 1;  // keep one decimal
  for (const std::string& c : cells) {
    if (c.find('.') == std::string::npos) continue;  // nan, inf
    size_t zeros = c.size() - 1 - c.find_last_not_of('0');
    trim = std::min(trim, zeros);
  }
  for (std::string& c : cells)
    if (c.find('.') != std::string::npos) c.resize(c.size() - trim);
  return cells;
}

std::vector<std::string> cells_of(const ir::HostArray& a, int precision) {
  if (ir::is_float(a.dtype())) return float_cells(a, precision);
  std::vector<std::string> cells;
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    if (a.dtype() == DType::Bool)
      cells.push_back(a.get_i64(i) ? "true" : "false");
    else
      cells.push_back(std::to_string(a.get_i64(i)));
  }
  return cells;
}

// Writes elements [first, first + count of this sub-block) as nested brackets; `cells` are
// already padded to one width so columns line up.
void write_block(std::string& out, const std::vector<std::string>& cells, const Shape& shape,
                 size_t depth, int64_t& next) {
  if (depth == shape.size()) {
    out += cells[next++];
    return;
  }
  out += '[';
  for (int64_t i = 0; i < shape[depth]; ++i) {
    if (i) {
      out += ',';
      if (depth + 1 == shape.size()) {
        out += ' ';
      } else {
        // One newline per remaining level, as numpy separates matrices by a blank line.
        out.append(shape.size() - depth - 1, '\n');
        out.append(depth + 1, ' ');
      }
    }
    write_block(out, cells, shape, depth + 1, next);
  }
  out += ']';
}

}  // namespace

std::string to_string(const Tensor& tensor, int precision) {
  const ir::HostArray& a = tensor.data();
  std::vector<std::string> cells = cells_of(a, precision);
  size_t width = 0;
  for (const std::string& cell : cells)
    width = std::max(width, cell.size());
  for (std::string& cell : cells)
    cell.insert(0, width - cell.size(), ' ');
  std::string out;
  int64_t next = 0;
  write_block(out, cells, a.shape(), 0, next);
  return out;
}

std::ostream& operator<<(std::ostream& os, const Tensor& tensor) {
  return os << to_string(tensor);
}

}  // namespace kiln
