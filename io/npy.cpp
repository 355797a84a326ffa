#include "io/npy.h"

#include <unistd.h>
#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <system_error>

#include "ir/error.h"
#include "ir/half.h"

namespace kiln::io {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

[[noreturn]] void fail(std::string_view name, const std::string& message) {
  throw Error("[npy] " + std::string(name) + ": " + message);
}

struct Descr {
  ir::DType dtype;
  bool big_endian;
  bool from_bf16 = false;
};

std::optional<Descr> parse_descr(std::string_view d) {
  if (d.size() < 3) return std::nullopt;
  char order = d[0];
  if (order != '<' && order != '>' && order != '|' && order != '=') return std::nullopt;
  bool big = order == '>';
  std::string_view code = d.substr(1);
  const std::pair<std::string_view, ir::DType> table[] = {
      {"b1", ir::DType::Bool}, {"i1", ir::DType::I8},  {"i2", ir::DType::I16},
      {"i4", ir::DType::I32},  {"i8", ir::DType::I64}, {"u1", ir::DType::U8},
      {"u4", ir::DType::U32},  {"f2", ir::DType::F16}, {"f4", ir::DType::F32},
      {"f8", ir::DType::F64}};
  for (auto [c, dtype] : table)
    if (c == code) return Descr{dtype, big};
  return std::nullopt;
}

std::string descr_for(ir::DType dtype) {
  switch (dtype) {
    case ir::DType::Bool:
      return "|b1";
    case ir::DType::I8:
      return "|i1";
    case ir::DType::I16:
      return "<i2";
    case ir::DType::I32:
      return "<i4";
    case ir::DType::I64:
      return "<i8";
    case ir::DType::U8:
      return "|u1";
    case ir::DType::U32:
      return "<u4";
    case ir::DType::F16:
      return "<f2";
    case ir::DType::BF16:  // numpy has no bf16: it travels as f32
    case ir::DType::F32:
      return "<f4";
    case ir::DType::F64:
      return "<f8";
  }
  return "";
}

// A reader for the Python dict literal in the header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class HeaderReader {
 public:
  HeaderReader(std::string_view text, std::string_view name) : text_(text), name_(name) {}

  struct Header {
    std::string descr;
    bool fortran_order = false;
    ir::Shape shape;
  };

  Header read() {
    Header header;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{');
    while (!consume('}')) {
      std::string key = read_string();
      expect(':');
      if (key == "descr") {
        header.descr = read_string();
        seen_descr = true;
      } else if (key == "fortran_order") {
        header.fortran_order = read_bool();
        seen_order = true;
      } else if (key == "shape") {
        header.shape = read_shape();
        seen_shape = true;
      } else {
        fail(name_, "unexpected header key '" + key + "'");
      }
      if (!consume(',')) {
        expect('}');
        break;
      }
    }
    if (!seen_descr || !seen_order || !seen_shape)
      fail(name_, "header lacks one of 'descr', 'fortran_order', 'shape'");
    return header;
  }

 private:
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])))
      ++pos_;
  }
  bool consume(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!consume(c))
      fail(name_,
           std::string("malformed header: expected '") + c + "' at offset " + std::to_string(pos_));
  }
  std::string read_string() {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      fail(name_, "malformed header: expected a string at offset " + std::to_string(pos_));
    char quote = text_[pos_++];
    size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) fail(name_, "malformed header: unterminated string");
    std::string s(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  bool read_bool() {
    skip_space();
    for (auto [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      if (text_.substr(pos_, std::strlen(word)) == word) {
        pos_ += std::strlen(word);
        return value;
      }
    }
    fail(name_, "malformed header: fortran_order must be True or False");
  }
  ir::Shape read_shape() {
    expect('(');
    ir::Shape shape;
    while (!consume(')')) {
      skip_space();
      int64_t dim = 0;
      auto [end, ec] = std::from_chars(text_.data() + pos_, text_.data() + text_.size(), dim);
      if (ec != std::errc() || dim < 0)
        fail(name_, "malformed header: shape entries must be non-negative integers");
      pos_ = end - text_.data();
      shape.push_back(dim);
      if (shape.size() > 32) fail(name_, "shape has more than 32 dimensions");
      if (!consume(',')) {
        expect(')');
        break;
      }
    }
    return shape;
  }

  std::string_view text_;
  std::string_view name_;
  size_t pos_ = 0;
};

// Reorders Fortran-order elements (first index fastest) into row-major order.
ir::HostArray from_fortran_order(const ir::HostArray& column_major) {
  ir::HostArray out(column_major.type());
  const ir::Shape& shape = column_major.shape();
  size_t item = ir::dtype_size(column_major.dtype());
  int rank = static_cast<int>(shape.size());
  std::vector<int64_t> index(rank, 0);
  for (int64_t i = 0; i < out.num_elements(); ++i) {
    int64_t source = 0, stride = 1;
    for (int d = 0; d < rank; ++d) {
      source += index[d] * stride;
      stride *= shape[d];
    }
    std::memcpy(out.data() + i * item, column_major.data() + source * item, item);
    for (int d = rank - 1; d >= 0; --d) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

}  // namespace

ir::HostArray parse_npy(std::span<const std::byte> bytes, std::string_view name) {
  auto chars = reinterpret_cast<const char*>(bytes.data());
  if (bytes.size() < kMagicSize + 4 || std::memcmp(chars, kMagic, kMagicSize) != 0)
    fail(name, "not a .npy file (bad magic)");
  uint8_t major = static_cast<uint8_t>(chars[6]);
  size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = static_cast<uint8_t>(chars[8]) | (static_cast<uint8_t>(chars[9]) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail(name, "truncated header");
    for (int i = 3; i >= 0; --i)
      header_len = (header_len << 8) | static_cast<uint8_t>(chars[8 + i]);
    header_start = 12;
  } else {
    fail(name, "unsupported .npy format version " + std::to_string(major));
  }
  if (header_len > bytes.size() - header_start) fail(name, "truncated header");
  std::string_view header_text(chars + header_start, header_len);
  auto header = HeaderReader(header_text, name).read();
  auto descr = parse_descr(header.descr);
  if (!descr)
    fail(name, "unsupported dtype '" + header.descr +
                   "' (kiln reads bool, i1, i2, i4, i8, u1, u4, f2, f4, f8)");

  ir::TensorType type{descr->dtype, header.shape};
  // Guard the size product against overflow before allocating.
  long double count = 1;
  for (int64_t d : header.shape)
    count *= static_cast<long double>(d);
  size_t item = ir::dtype_size(type.dtype);
  size_t available = bytes.size() - header_start - header_len;
  if (count * item > static_cast<long double>(available))
    fail(name, "data is truncated: " + type.str() + " needs " +
                   std::to_string(static_cast<unsigned long long>(count * item)) +
                   " bytes, the file has " + std::to_string(available));
  if (count * item < static_cast<long double>(available))
    fail(name, "file has " + std::to_string(available - type.size_bytes()) +
                   " bytes after the data of " + type.str());

  ir::HostArray array(type);
  // memcpy with a null pointer is undefined even for zero bytes, and empty arrays have none.
  if (type.size_bytes() > 0)
    std::memcpy(array.data(), chars + header_start + header_len, type.size_bytes());
  if (descr->big_endian && item > 1) {
    for (int64_t i = 0; i < array.num_elements(); ++i)
      std::reverse(array.data() + i * item, array.data() + (i + 1) * item);
  }
  if (type.dtype == ir::DType::Bool) {
    for (std::byte& b : array.bytes())
      if (b != std::byte{0} && b != std::byte{1})
        fail(name, "bool data holds a byte other than 0 or 1");
  }
  if (header.fortran_order) array = from_fortran_order(array);
  return array;
}

std::vector<std::byte> serialize_npy(const ir::HostArray& array) {
  const ir::TensorType& type = array.type();
  std::string shape = "(";
  for (size_t i = 0; i < type.shape.size(); ++i)
    shape += std::to_string(type.shape[i]) + ", ";
  if (type.shape.size() > 1) shape.resize(shape.size() - 2);
  if (type.shape.size() == 1) shape.resize(shape.size() - 1);
  shape += ")";
  std::string header = "{'descr': '" + descr_for(type.dtype) +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad with spaces so the data starts on a 64-byte boundary; the header ends in '\n'.
  size_t total = kMagicSize + 4 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';

  std::vector<std::byte> out;
  auto append = [&](const void* p, size_t n) {
    auto b = static_cast<const std::byte*>(p);
    out.insert(out.end(), b, b + n);
  };
  append(kMagic, kMagicSize);
  const uint8_t version_and_length[] = {1, 0, static_cast<uint8_t>(header.size() & 0xff),
                                        static_cast<uint8_t>(header.size() >> 8)};
  append(version_and_length, 4);
  append(header.data(), header.size());
  if (type.dtype == ir::DType::BF16) {
    for (int64_t i = 0; i < array.num_elements(); ++i) {
      float v = static_cast<float>(array.get_f64(i));
      append(&v, sizeof v);
    }
  } else {
    append(array.data(), array.bytes().size());
  }
  return out;
}

ir::HostArray load_npy(const std::filesystem::path& path) {
  std::string name = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(name, "is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(name, "cannot open: " + std::string(std::strerror(errno)));
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(name, "read failed");
  return parse_npy(std::as_bytes(std::span(chars)), name);
}

void save_npy(const std::filesystem::path& path, const ir::HostArray& array) {
  std::string name = path.string();
  std::vector<std::byte> bytes = serialize_npy(array);
  std::filesystem::path temp = path;
  temp += ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) fail(name, "cannot write: " + std::string(std::strerror(errno)));
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temp, ignored);
      fail(name, "write failed: " + std::string(std::strerror(errno)));
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    fail(name, "cannot move the finished file into place: " + ec.message());
  }
}

}  // namespace kiln::io
