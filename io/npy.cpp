#include "io/npy.h"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "ir/buffer_pool.h"
#include "ir/error.h"
#include "ir/file_io.h"
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

// The fixed start of a file: magic, version, header length. Version 1 stores the length in
// 2 bytes, versions 2 and 3 in 4.
constexpr size_t kPrefixV1 = kMagicSize + 4, kPrefixV2 = kMagicSize + 6;
// numpy writes headers of a few hundred bytes; a longer one is not worth reading.
constexpr size_t kMaxHeaderBytes = size_t{1} << 20;

// The prefix's total size (10 or 12 bytes), from its first 8 bytes.
size_t prefix_size(std::span<const char> first8, std::string_view name) {
  if (first8.size() < kMagicSize + 2 || std::memcmp(first8.data(), kMagic, kMagicSize) != 0)
    fail(name, "not a .npy file (bad magic)");
  const uint8_t major = static_cast<uint8_t>(first8[6]);
  if (major == 1) return kPrefixV1;
  if (major == 2 || major == 3) return kPrefixV2;
  fail(name, "unsupported .npy format version " + std::to_string(major));
}

// The header's length, from the whole prefix.
size_t header_length(std::span<const char> prefix, std::string_view name) {
  size_t length = 0;
  for (size_t i = prefix.size(); i-- > kMagicSize + 2;)
    length = (length << 8) | static_cast<uint8_t>(prefix[i]);
  if (length > kMaxHeaderBytes)
    fail(name, "header of " + std::to_string(length) + " bytes is longer than kiln reads (" +
                   std::to_string(kMaxHeaderBytes) + ")");
  return length;
}

struct Layout {
  Descr descr;
  bool fortran_order = false;
  ir::TensorType type;
  size_t data_bytes = 0;
};

// Everything the header says, checked: the dtype is one kiln reads and the data's size fits in
// memory, so the body can be read with exactly that many bytes.
Layout parse_header(std::string_view text, std::string_view name) {
  auto header = HeaderReader(text, name).read();
  auto descr = parse_descr(header.descr);
  if (!descr)
    fail(name, "unsupported dtype '" + header.descr +
                   "' (kiln reads bool, i1, i2, i4, i8, u1, u4, f2, f4, f8)");
  ir::TensorType type{descr->dtype, header.shape};
  std::optional<size_t> bytes = type.checked_size_bytes();
  if (!bytes) fail(name, type.str() + " has more bytes than a 64-bit size holds");
  if (std::optional<std::string> refusal = ir::exceeds_memory(*bytes))
    fail(name, type.str() + " " + *refusal);
  return {*descr, header.fortran_order, std::move(type), *bytes};
}

[[noreturn]] void fail_truncated(std::string_view name, const Layout& layout, size_t available) {
  fail(name, "data is truncated: " + layout.type.str() + " needs " +
                 std::to_string(layout.data_bytes) + " bytes, the file has " +
                 std::to_string(available));
}

void check_bools(std::span<const std::byte> bytes, std::string_view name) {
  for (std::byte b : bytes)
    if (b != std::byte{0} && b != std::byte{1})
      fail(name, "bool data holds a byte other than 0 or 1");
}

// The data as read, in the file's byte order and element order, made kiln's.
ir::HostArray finish(ir::HostArray array, const Layout& layout, std::string_view name) {
  const size_t item = ir::dtype_size(layout.type.dtype);
  if (layout.descr.big_endian && item > 1) {
    for (int64_t i = 0; i < array.num_elements(); ++i)
      std::reverse(array.data() + i * item, array.data() + (i + 1) * item);
  }
  if (layout.type.dtype == ir::DType::Bool) check_bools(std::as_const(array).bytes(), name);
  if (layout.fortran_order) array = from_fortran_order(array);
  return array;
}

// Arrays this large are mapped rather than read: loading costs no copy, and pages are read
// when the data is first used. Below it a read is as fast and holds no mapping.
constexpr size_t kMapAtLeastBytes = size_t{1} << 20;

// The data mapped in place (MAP_PRIVATE, read-only), when the file allows: a regular file whose
// data starts on a 64-byte boundary (numpy and kiln pad the header to one) in kiln's own layout
// (little-endian, C order). The mapping lives as long as the array's storage; kiln never writes
// through it (HostArray copies an external block before a write). Like numpy's mmap_mode, it
// assumes no other program truncates the file meanwhile.
std::optional<ir::HostArray> map_data(ir::InputFile& file, const Layout& layout,
                                      size_t data_start) {
  const size_t item = ir::dtype_size(layout.type.dtype);
  if (!file.size() || layout.data_bytes < kMapAtLeastBytes || data_start % 64 != 0 ||
      layout.fortran_order || (layout.descr.big_endian && item > 1))
    return std::nullopt;
  const size_t length = data_start + layout.data_bytes;
  void* base = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE, file.fd(), 0);
  if (base == MAP_FAILED) return std::nullopt;  // the read path reports real errors
  auto* data = static_cast<std::byte*>(base) + data_start;
  auto block = std::make_shared<ir::Buffer>(
      ir::Buffer::external(data, layout.data_bytes, [base, length] { ::munmap(base, length); }));
  return ir::HostArray(layout.type, std::move(block));
}

}  // namespace

ir::HostArray parse_npy(std::span<const std::byte> bytes, std::string_view name) {
  std::span<const char> chars(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const size_t prefix = prefix_size(chars.first(std::min<size_t>(chars.size(), 8)), name);
  if (chars.size() < prefix) fail(name, "truncated header");
  const size_t header_len = header_length(chars.first(prefix), name);
  if (header_len > chars.size() - prefix) fail(name, "truncated header");
  const Layout layout = parse_header(std::string_view(chars.data() + prefix, header_len), name);
  const size_t available = chars.size() - prefix - header_len;
  if (layout.data_bytes > available) fail_truncated(name, layout, available);
  if (layout.data_bytes < available)
    fail(name, "file has " + std::to_string(available - layout.data_bytes) +
                   " bytes after the data of " + layout.type.str());
  ir::HostArray array = ir::HostArray::uninitialized(layout.type);
  // memcpy with a null pointer is undefined even for zero bytes, and empty arrays have none.
  if (layout.data_bytes > 0)
    std::memcpy(array.data(), chars.data() + prefix + header_len, layout.data_bytes);
  return finish(std::move(array), layout, name);
}

namespace {

// Magic, version 1.0, header length and the header, padded with spaces so that the data starts
// on a 64-byte boundary (as numpy pads it; load_npy can then map the data in place).
std::string npy_header(const ir::TensorType& type) {
  std::string shape = "(";
  for (size_t i = 0; i < type.shape.size(); ++i)
    shape += std::to_string(type.shape[i]) + ", ";
  if (type.shape.size() > 1) shape.resize(shape.size() - 2);
  if (type.shape.size() == 1) shape.resize(shape.size() - 1);
  shape += ")";
  std::string header = "{'descr': '" + descr_for(type.dtype) +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  const size_t total = kMagicSize + 4 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out(kMagic, kMagicSize);
  out += {'\x01', '\x00', static_cast<char>(header.size() & 0xff),
          static_cast<char>(header.size() >> 8)};
  return out + header;
}

// The file's bytes after the header, in pieces of at most kPiece bytes: the array's own bytes,
// or bf16 widened to f32 a piece at a time (numpy has no bf16).
template <class Sink>
void for_each_data_piece(const ir::HostArray& array, Sink sink) {
  if (array.dtype() != ir::DType::BF16) {
    sink(array.bytes());
    return;
  }
  constexpr int64_t kPiece = 16384;
  std::vector<float> widened;
  for (int64_t first = 0; first < array.num_elements(); first += kPiece) {
    const int64_t last = std::min(array.num_elements(), first + kPiece);
    widened.clear();
    for (int64_t i = first; i < last; ++i)
      widened.push_back(static_cast<float>(array.get_f64(i)));
    sink(std::as_bytes(std::span(widened)));
  }
}

}  // namespace

std::vector<std::byte> serialize_npy(const ir::HostArray& array) {
  const std::string header = npy_header(array.type());
  const auto header_bytes = std::as_bytes(std::span(header));
  std::vector<std::byte> out(header_bytes.begin(), header_bytes.end());
  for_each_data_piece(array, [&](std::span<const std::byte> piece) {
    out.insert(out.end(), piece.begin(), piece.end());
  });
  return out;
}

void write_npy(ir::OutputFile& file, const ir::HostArray& array) {
  const std::string header = npy_header(array.type());
  file.write(std::as_bytes(std::span(header)));
  for_each_data_piece(array, [&](std::span<const std::byte> piece) { file.write(piece); });
}

ir::HostArray load_npy(const std::filesystem::path& path) {
  const std::string name = path == "-" ? "<stdin>" : path.string();
  ir::InputFile file(path, "[npy] " + name);
  // The header first, so that its sizes bound every later read: nothing is read past the data
  // it announces, and the data is checked against the file's size before it is allocated.
  char prefix[kPrefixV2];
  const size_t got = file.read(prefix, 8);
  const size_t prefix_bytes = prefix_size(std::span<const char>(prefix, got), name);
  if (file.read(prefix + 8, prefix_bytes - 8) != prefix_bytes - 8) fail(name, "truncated header");
  const size_t header_len = header_length(std::span<const char>(prefix, prefix_bytes), name);
  std::string header(header_len, '\0');
  if (file.read(header.data(), header_len) != header_len) fail(name, "truncated header");
  const Layout layout = parse_header(header, name);
  if (std::optional<uint64_t> size = file.size()) {
    const uint64_t data_start = prefix_bytes + header_len;
    const uint64_t available = *size >= data_start ? *size - data_start : 0;
    if (layout.data_bytes > available) fail_truncated(name, layout, available);
    if (layout.data_bytes < available)
      fail(name, "file has " + std::to_string(available - layout.data_bytes) +
                     " bytes after the data of " + layout.type.str());
  }
  if (std::optional<ir::HostArray> mapped = map_data(file, layout, prefix_bytes + header_len)) {
    if (layout.type.dtype == ir::DType::Bool) check_bools(std::as_const(*mapped).bytes(), name);
    return std::move(*mapped);
  }
  ir::HostArray array = ir::HostArray::uninitialized(layout.type);
  const size_t read = layout.data_bytes ? file.read(array.data(), layout.data_bytes) : 0;
  if (read < layout.data_bytes) fail_truncated(name, layout, read);
  // Then the end: a file that grew, or a stream with more behind the data, is refused.
  if (!file.at_end()) fail(name, "file has bytes after the data of " + layout.type.str());
  return finish(std::move(array), layout, name);
}

void save_npy(const std::filesystem::path& path, const ir::HostArray& array) {
  ir::OutputFile file(path, "[npy] " + path.string());
  write_npy(file, array);
  file.commit();
}

}  // namespace kiln::io
