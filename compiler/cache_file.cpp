#include "compiler/cache_file.h"

#include <bit>
#include <cstring>
#include <type_traits>

namespace kiln::compiler {

namespace {

constexpr char kMagic[8] = {'K', 'I', 'L', 'N', 'K', 'O', 'B', 'J'};

class Writer {
 public:
  template <class T>
  requires std::is_integral_v<T> || std::is_enum_v<T>
  void put(T value) {
    uint64_t v = static_cast<uint64_t>(value);
    for (size_t i = 0; i < sizeof(T); ++i)
      out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void put_f64(double value) { put(std::bit_cast<uint64_t>(value)); }
  void put_string(std::string_view s) {
    put(static_cast<uint32_t>(s.size()));
    out_.insert(out_.end(), s.begin(), s.end());
  }
  void put_bytes(std::span<const char> bytes) {
    out_.insert(out_.end(), bytes.begin(), bytes.end());
  }
  template <class T>
  void put_vector(const std::vector<T>& values) {
    put(static_cast<uint32_t>(values.size()));
    for (const T& v : values)
      put(v);
  }
  std::vector<char>& bytes() { return out_; }

 private:
  std::vector<char> out_;
};

class Reader {
 public:
  explicit Reader(std::span<const char> in) : in_(in) {}
  bool ok() const { return ok_; }
  size_t position() const { return pos_; }
  uint64_t get(size_t size) {
    if (!need(size)) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < size; ++i)
      v |= uint64_t{static_cast<unsigned char>(in_[pos_ + i])} << (8 * i);
    pos_ += size;
    return v;
  }
  std::string get_string() {
    uint32_t size = static_cast<uint32_t>(get(4));
    if (!need(size)) return {};
    std::string s(in_.data() + pos_, size);
    pos_ += size;
    return s;
  }
  std::span<const char> rest() const { return in_.subspan(pos_); }

 private:
  bool need(size_t size) {
    if (!ok_ || in_.size() - pos_ < size) ok_ = false;
    return ok_;
  }
  std::span<const char> in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

void encode_type(Writer& w, const ir::TensorType& type) {
  w.put(type.dtype);
  w.put_vector(type.shape);
}

void encode_expr(Writer& w, const codegen::Expr& e) {
  w.put(e.kind);
  w.put(e.dtype);
  w.put(e.op);
  w.put_vector(e.operands);
  w.put(e.loop);
  w.put(e.axis);
  w.put(e.buffer);
  w.put(e.phase);
  w.put_f64(e.float_value);
  w.put(e.int_value);
}

void encode_phase(Writer& w, const codegen::Phase& p) {
  w.put(p.kind);
  w.put_vector(p.extents);
  w.put(p.reduce_op);
  w.put(p.value);
  w.put(p.result_dtype);
  w.put(p.dot_lhs);
  w.put(p.dot_rhs);
  w.put(p.contraction);
  w.put(p.accumulator);
  w.put(p.sequential);
  w.put(static_cast<uint32_t>(p.stores.size()));
  for (const codegen::Store& s : p.stores) {
    w.put(s.buffer);
    w.put(s.offset);
    w.put(s.value);
  }
}

}  // namespace

// Keep in step with codegen::Kernel: a field left out here would let two different kernels
// share a cache entry.
std::string encode_kernel(const codegen::Kernel& kernel) {
  Writer w;
  w.put(static_cast<uint32_t>(kernel.buffers.size()));
  for (const codegen::KernelBuffer& b : kernel.buffers) {
    encode_type(w, b.type);
    w.put(b.is_output);
  }
  w.put_vector(kernel.outer);
  w.put(static_cast<uint32_t>(kernel.phases.size()));
  for (const codegen::Phase& p : kernel.phases)
    encode_phase(w, p);
  w.put(static_cast<uint32_t>(kernel.exprs.size()));
  for (const codegen::Expr& e : kernel.exprs)
    encode_expr(w, e);
  w.put_vector(kernel.scratch);
  return std::string(w.bytes().begin(), w.bytes().end());
}

uint64_t cache_key(const std::string& encoded_kernel, const std::string& kiln_version,
                   const std::string& target) {
  uint64_t h = fnv1a64(std::span<const char>(encoded_kernel));
  h = fnv1a64(std::span<const char>(kiln_version), h ^ 0x9e3779b97f4a7c15ull);
  return fnv1a64(std::span<const char>(target), h ^ 0x9e3779b97f4a7c15ull);
}

std::string cache_file_name(uint64_t key) {
  static const char* digits = "0123456789abcdef";
  std::string name(16, '0');
  for (int i = 15; i >= 0; --i, key >>= 4)
    name[static_cast<size_t>(i)] = digits[key & 0xf];
  return name + ".o";
}

std::vector<char> write_cache_entry(const CacheEntryHeader& header, std::span<const char> payload) {
  Writer w;
  w.put_bytes(kMagic);
  w.put(kCacheFormatVersion);
  w.put_string(header.kiln_version);
  w.put_string(header.target);
  w.put_string(header.symbol);
  w.put_string(header.kernel);
  w.put(header.key);
  w.put(static_cast<uint64_t>(payload.size()));
  w.put(fnv1a64(payload));
  w.put(fnv1a64(w.bytes()));
  w.put_bytes(payload);
  return std::move(w.bytes());
}

std::string cache_symbol(uint64_t key) {
  return "kiln_kernel_" + cache_file_name(key).substr(0, 16);
}

std::optional<std::vector<char>> read_cache_entry(std::span<const char> file,
                                                  const CacheEntryHeader& expected) {
  if (file.size() < sizeof kMagic || std::memcmp(file.data(), kMagic, sizeof kMagic) != 0)
    return std::nullopt;
  Reader r(file.subspan(sizeof kMagic));
  if (r.get(4) != kCacheFormatVersion) return std::nullopt;
  CacheEntryHeader found;
  found.kiln_version = r.get_string();
  found.target = r.get_string();
  found.symbol = r.get_string();
  found.kernel = r.get_string();
  found.key = r.get(8);
  uint64_t payload_size = r.get(8);
  uint64_t payload_hash = r.get(8);
  const size_t header_end = sizeof kMagic + r.position();
  uint64_t header_hash = r.get(8);
  if (!r.ok() || header_hash != fnv1a64(file.first(header_end))) return std::nullopt;
  if (found.kiln_version != expected.kiln_version || found.target != expected.target ||
      found.kernel != expected.kernel || found.key != expected.key ||
      found.symbol != expected.symbol)
    return std::nullopt;
  std::span<const char> payload = r.rest();
  if (payload.size() != payload_size || fnv1a64(payload) != payload_hash) return std::nullopt;
  return std::vector<char>(payload.begin(), payload.end());
}

}  // namespace kiln::compiler
