#include "frontend/tensor_io.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <ostream>
#include <vector>

#include "frontend/ops.h"
#include "io/npy.h"

namespace kiln {

Tensor load(const std::filesystem::path& path) {
  return Tensor(io::load_npy(path));
}

void save(const std::filesystem::path& path, const Tensor& tensor) {
  io::save_npy(path, tensor.data());  // bf16 is widened to f32 as it is written
}

namespace {

std::mutex options_mutex;
PrintOptions current_options;

// Floats print in fixed notation with `precision` decimals when the magnitudes allow it
// (numpy's default look), else in %g; trailing zeros common to every element are dropped.
std::vector<std::string> float_cells(const std::vector<double>& values, int precision) {
  double largest = 0, smallest = INFINITY;
  for (double x : values) {
    double v = std::abs(x);
    if (!std::isfinite(v)) continue;
    largest = std::max(largest, v);
    if (v != 0) smallest = std::min(smallest, v);
  }
  bool fixed = largest < 1e6 && (smallest == INFINITY || smallest >= std::pow(10.0, -precision));
  std::vector<std::string> cells;
  char buffer[512];  // %f of a value below 1e6 at any precision set_printoptions allows
  for (double x : values) {
    std::snprintf(buffer, sizeof buffer, fixed ? "%.*f" : "%.*g", precision, x);
    cells.push_back(buffer);
  }
  if (!fixed || precision == 0) return cells;
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

// The elements at `flat` (row-major offsets), formatted and padded to one width, as numpy
// formats only what it shows.
std::vector<std::string> cells_of(const ir::HostArray& a, const std::vector<int64_t>& flat,
                                  int precision) {
  std::vector<std::string> cells;
  if (ir::is_float(a.dtype())) {
    std::vector<double> values;
    for (int64_t i : flat)
      values.push_back(a.get_f64(i));
    cells = float_cells(values, precision);
  } else {
    for (int64_t i : flat) {
      if (a.dtype() == DType::Bool)
        cells.push_back(a.get_i64(i) ? "true" : "false");
      else
        cells.push_back(std::to_string(a.get_i64(i)));
    }
  }
  size_t width = 0;
  for (const std::string& cell : cells)
    width = std::max(width, cell.size());
  for (std::string& cell : cells)
    cell.insert(0, width - cell.size(), ' ');
  return cells;
}

// The indices of one axis that print: all of them, or the first and last `edge` with "..."
// between (numpy summarises each axis longer than 2 * edgeitems once the tensor is too big).
struct AxisView {
  std::vector<int64_t> shown;
  bool summarised = false;
};

std::vector<AxisView> axis_views(const Shape& shape, bool summarise, int64_t edge) {
  std::vector<AxisView> views;
  for (int64_t n : shape) {
    AxisView v;
    v.summarised = summarise && n > 2 * edge;
    for (int64_t i = 0; i < n; ++i)
      if (!v.summarised || i < edge || i >= n - edge) v.shown.push_back(i);
    views.push_back(std::move(v));
  }
  return views;
}

// Row-major offsets of the shown elements, in printing order.
void shown_offsets(const std::vector<AxisView>& views, const Shape& shape, size_t axis,
                   int64_t base, std::vector<int64_t>& out) {
  if (axis == views.size()) {
    out.push_back(base);
    return;
  }
  for (int64_t i : views[axis].shown)
    shown_offsets(views, shape, axis + 1, base * shape[axis] + i, out);
}

// numpy's _formatArray (arrayprint.py, separator ", "), consuming the cells in order: rows
// wrap before `width`, nested blocks hang one space further in, and each level of nesting
// separates its blocks by one more newline.
class Layout {
 public:
  Layout(const std::vector<AxisView>& views, const std::vector<std::string>& cells, int64_t edge)
      : views_(views), cells_(cells), edge_(static_cast<size_t>(edge)) {}

  std::string block(size_t axis, const std::string& hanging, int64_t width) {
    if (axis == views_.size()) return cells_[next_++];
    const AxisView& view = views_[axis];
    const std::string inner = hanging + ' ';
    const size_t n = view.shown.size();
    std::string s;
    if (axis + 1 == views_.size()) {
      const int64_t elem_width = width - 1;  // room for the ',' or ']' that follows
      std::string line = hanging;
      for (size_t k = 0; k < n; ++k) {
        if (view.summarised && k == edge_) {
          extend(s, line, "...", elem_width, hanging);
          line += ", ";
        }
        extend(s, line, block(axis + 1, inner, width - 1), elem_width, hanging);
        if (k + 1 < n) line += ", ";
      }
      s += line;
    } else {
      const std::string separator = "," + std::string(views_.size() - axis - 1, '\n');
      for (size_t k = 0; k < n; ++k) {
        if (view.summarised && k == edge_) s += hanging + "..." + separator;
        s += hanging + block(axis + 1, inner, width - 1);
        if (k + 1 < n) s += separator;
      }
    }
    return "[" + s.substr(hanging.size()) + "]";
  }

 private:
  // numpy's _extendLine: wrap before a word that would pass `width`, unless the line holds
  // nothing yet (wrapping would not help).
  static void extend(std::string& s, std::string& line, const std::string& word, int64_t width,
                     const std::string& prefix) {
    const bool wrap =
        static_cast<int64_t>(line.size() + word.size()) > width && line.size() > prefix.size();
    if (wrap) {
      s += line.substr(0, line.find_last_not_of(' ') + 1) + "\n";
      line = prefix;
    }
    line += word;
  }

  const std::vector<AxisView>& views_;
  const std::vector<std::string>& cells_;
  size_t edge_;
  size_t next_ = 0;
};

void check_options(const PrintOptions& options, std::string_view fn) {
  if (options.precision < 0 || options.precision > 100)
    detail::fail(fn, "precision " + std::to_string(options.precision) + " is not in [0, 100]");
  if (options.threshold < 0)
    detail::fail(fn, "threshold " + std::to_string(options.threshold) + " is negative");
  if (options.edgeitems < 1)
    detail::fail(fn, "edgeitems " + std::to_string(options.edgeitems) + " is below 1");
  if (options.linewidth < 1)
    detail::fail(fn, "linewidth " + std::to_string(options.linewidth) + " is below 1");
}

}  // namespace

void set_printoptions(const PrintOptions& options) {
  check_options(options, "set_printoptions");
  std::lock_guard lock(options_mutex);
  current_options = options;
}

PrintOptions get_printoptions() {
  std::lock_guard lock(options_mutex);
  return current_options;
}

ScopedPrintOptions::ScopedPrintOptions(const PrintOptions& options) : saved_(get_printoptions()) {
  set_printoptions(options);
}

ScopedPrintOptions::~ScopedPrintOptions() {
  set_printoptions(saved_);
}

std::string to_string(const Tensor& tensor, const PrintOptions& options) {
  check_options(options, "to_string");
  const ir::HostArray& a = tensor.data();
  if (a.num_elements() == 0) return "[]";  // as numpy, whatever the shape
  const bool summarise = a.num_elements() > options.threshold;
  const std::vector<AxisView> views = axis_views(a.shape(), summarise, options.edgeitems);
  std::vector<int64_t> flat;
  shown_offsets(views, a.shape(), 0, 0, flat);
  const std::vector<std::string> cells = cells_of(a, flat, options.precision);
  return Layout(views, cells, options.edgeitems).block(0, " ", options.linewidth);
}

std::string to_string(const Tensor& tensor) {
  return to_string(tensor, get_printoptions());
}

std::string to_string(const Tensor& tensor, int precision) {
  PrintOptions options = get_printoptions();
  options.precision = precision;
  return to_string(tensor, options);
}

std::ostream& operator<<(std::ostream& os, const Tensor& tensor) {
  return os << to_string(tensor);
}

}  // namespace kiln
