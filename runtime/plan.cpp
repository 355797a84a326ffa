#include "runtime/plan.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "ir/error.h"
#include "ir/hash.h"
#include "runtime/vulkan/vulkan_executable.h"

namespace kiln::runtime {

namespace {

constexpr char kMagic[8] = {'K', 'I', 'L', 'N', 'P', 'L', 'A', 'N'};
// 2: PlanKernel::workgroups (Vulkan kernels).
// Bounds that no real plan reaches, so that a corrupt count fails fast instead of allocating.
constexpr uint64_t kMaxRank = 64;

class Writer {
 public:
  void raw(const void* data, size_t size) {
    const auto* p = static_cast<const std::byte*>(data);
    out_.insert(out_.end(), p, p + size);
  }
  void u8(uint8_t v) { raw(&v, 1); }
  void u32(uint32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void i64(int64_t v) { raw(&v, 8); }
  void bytes(std::span<const std::byte> b) {
    u64(b.size());
    raw(b.data(), b.size());
  }
  void str(std::string_view s) { bytes(std::as_bytes(std::span(s.data(), s.size()))); }
  void type(const ir::TensorType& t) {
    u8(static_cast<uint8_t>(t.dtype));
    u64(t.shape.size());
    for (int64_t d : t.shape)
      i64(d);
  }
  void slot(const Slot& s) {
    u8(static_cast<uint8_t>(s.kind));
    u64(s.index);
    u64(s.bytes);
  }
  std::vector<std::byte> take() { return std::move(out_); }

 private:
  std::vector<std::byte> out_;
};

class Reader {
 public:
  Reader(std::span<const std::byte> in, std::string_view where) : in_(in), where_(where) {}

  [[noreturn]] void fail(const std::string& rule) const {
    throw Error("[plan] " + std::string(where_) + ": " + rule + " (at byte " +
                std::to_string(pos_) + ")");
  }
  void raw(void* data, size_t size) {
    if (size > in_.size() - pos_) fail("the file ends early");
    if (size) std::memcpy(data, in_.data() + pos_, size);
    pos_ += size;
  }
  uint8_t u8() { return get<uint8_t>(); }
  uint32_t u32() { return get<uint32_t>(); }
  uint64_t u64() { return get<uint64_t>(); }
  int64_t i64() { return get<int64_t>(); }
  // A count of items each at least `min_item_bytes` long: never more than the bytes left hold.
  size_t count(size_t min_item_bytes) {
    const uint64_t n = u64();
    if (n > (in_.size() - pos_) / std::max<size_t>(1, min_item_bytes))
      fail("a count of " + std::to_string(n) + " exceeds what the file holds");
    return static_cast<size_t>(n);
  }
  std::vector<std::byte> bytes() {
    std::vector<std::byte> b(count(1));
    raw(b.data(), b.size());
    return b;
  }
  // Names, symbols and targets are printable ASCII: they end up in messages and symbol lookups.
  std::string str() {
    std::string s(count(1), '\0');
    raw(s.data(), s.size());
    for (char c : s)
      if (c < 0x20 || c > 0x7e) fail("a name or target holds a byte that is not printable text");
    return s;
  }
  ir::TensorType type() {
    ir::TensorType t;
    const uint8_t dtype = u8();
    if (dtype > static_cast<uint8_t>(ir::DType::F64))
      fail("unknown dtype " + std::to_string(dtype));
    t.dtype = static_cast<ir::DType>(dtype);
    const size_t rank = count(8);
    if (rank > kMaxRank)
      fail("rank " + std::to_string(rank) + " is over " + std::to_string(kMaxRank));
    int64_t elements = 1;
    for (size_t i = 0; i < rank; ++i) {
      const int64_t d = i64();
      if (d < 0) fail("negative dimension");
      if (d != 0 && elements > std::numeric_limits<int64_t>::max() / 16 / d)
        fail("a tensor too large to exist");
      elements *= d;
      t.shape.push_back(d);
    }
    return t;
  }
  Slot slot() {
    Slot s;
    const uint8_t kind = u8();
    if (kind > static_cast<uint8_t>(Slot::Kind::Constant)) fail("unknown slot kind");
    s.kind = static_cast<Slot::Kind>(kind);
    s.index = u64();
    s.bytes = u64();
    return s;
  }
  size_t position() const { return pos_; }
  bool at_end() const { return pos_ == in_.size(); }

 private:
  template <typename T>
  T get() {
    T v;
    raw(&v, sizeof v);
    return v;
  }
  std::span<const std::byte> in_;
  size_t pos_ = 0;
  std::string_view where_;
};

void write_body(Writer& w, const Plan& plan) {
  w.str(plan.name);
  w.str(plan.target);
  w.u32(plan.imports_version);
  w.u64(plan.params.size());
  for (const PlanParam& p : plan.params) {
    w.str(p.name);
    w.type(p.type);
  }
  w.u64(plan.result_types.size());
  for (size_t r = 0; r < plan.result_types.size(); ++r) {
    w.type(plan.result_types[r]);
    w.slot(plan.result_slots[r]);
  }
  w.u64(plan.kernels.size());
  for (const PlanKernel& k : plan.kernels) {
    w.str(k.name);
    w.str(k.symbol);
    w.bytes(k.object);
    w.i64(k.outer_count);
    w.u64(k.buffer_bytes.size());
    for (uint64_t b : k.buffer_bytes)
      w.u64(b);
    for (uint8_t written : k.buffer_written)
      w.u8(written);
    w.u64(k.workgroups);
  }
  w.u64(plan.steps.size());
  for (const PlanStep& s : plan.steps) {
    w.u32(s.kernel);
    w.i64(s.grain);
    w.u8(s.one_block_per_thread);
    w.u64(s.slots.size());
    for (const Slot& slot : s.slots)
      w.slot(slot);
  }
  w.u64(plan.constants.size());
  for (const ir::HostArray& c : plan.constants) {
    w.type(c.type());
    w.bytes(c.bytes());
  }
  w.u64(plan.written_params.size());
  for (uint32_t p : plan.written_params)
    w.u32(p);
  w.u64(plan.arena_bytes);
  w.u64(plan.peak_bytes);
  w.raw(&plan.compile_ms, sizeof plan.compile_ms);
}

// Every slot names something that exists: a parameter, a result, a constant or a place inside
// the arena (the runtime trusts slots when it resolves pointers).
void check_slot(Reader& r, const Plan& plan, const Slot& slot) {
  auto within = [&](bool exists, uint64_t size, const char* what) {
    if (!exists) r.fail(std::string("a slot names a missing ") + what);
    // Kernel slots cover their value exactly; result slots (bytes 0) only name it.
    if (slot.bytes != 0 && slot.bytes != size)
      r.fail(std::string("a slot's size differs from its ") + what + "'s");
  };
  switch (slot.kind) {
    case Slot::Kind::Param: {
      const bool ok = slot.index < plan.params.size();
      return within(ok, ok ? plan.params[slot.index].type.size_bytes() : 0, "parameter");
    }
    case Slot::Kind::Result: {
      const bool ok = slot.index < plan.result_types.size();
      within(ok, ok ? plan.result_types[slot.index].size_bytes() : 0, "result");
      // A kernel's result buffer is allocated only for the result whose slot names it.
      if (slot.bytes != 0 &&
          plan.result_slots[slot.index] != Slot{Slot::Kind::Result, slot.index, 0})
        r.fail("a kernel uses a result that is read from elsewhere");
      return;
    }
    case Slot::Kind::Constant: {
      const bool ok = slot.index < plan.constants.size();
      return within(ok, ok ? plan.constants[slot.index].size_bytes() : 0, "constant");
    }
    case Slot::Kind::Arena:
      if (slot.index > plan.arena_bytes || slot.bytes > plan.arena_bytes - slot.index)
        r.fail("a slot lies outside the arena");
      return;
  }
}

// What a kernel writes must be the plan's own: a result (the one whose slot names it), the
// arena, or a donated parameter; never a constant or an argument the caller keeps.
void check_written_slot(Reader& r, const Plan& plan, const Slot& slot) {
  switch (slot.kind) {
    case Slot::Kind::Result:  // check_slot made sure it is the result's own buffer
    case Slot::Kind::Arena:
      return;
    case Slot::Kind::Param:
      if (std::find(plan.written_params.begin(), plan.written_params.end(), slot.index) ==
          plan.written_params.end())
        r.fail("a kernel writes a parameter that was not donated");
      return;
    case Slot::Kind::Constant:
      r.fail("a kernel writes a constant");
  }
}

Plan read_body(Reader& r) {
  Plan plan;
  plan.name = r.str();
  plan.target = r.str();
  plan.imports_version = r.u32();
  plan.params.resize(r.count(9));
  for (PlanParam& p : plan.params) {
    p.name = r.str();
    p.type = r.type();
  }
  const size_t results = r.count(26);
  for (size_t i = 0; i < results; ++i) {
    plan.result_types.push_back(r.type());
    plan.result_slots.push_back(r.slot());
  }
  plan.kernels.resize(r.count(48));
  for (PlanKernel& k : plan.kernels) {
    k.name = r.str();
    k.symbol = r.str();
    k.object = r.bytes();
    k.outer_count = r.i64();
    if (k.outer_count < 0) r.fail("a kernel's outer count is negative");
    k.buffer_bytes.resize(r.count(8));
    for (uint64_t& b : k.buffer_bytes)
      b = r.u64();
    k.buffer_written.resize(k.buffer_bytes.size());
    for (uint8_t& written : k.buffer_written)
      written = r.u8();
    k.workgroups = r.u64();
    // Only a Vulkan kernel is dispatched in workgroups; the CPU runs the outer count.
    if (k.workgroups != 0 && !is_vulkan_target(plan.target))
      r.fail("a kernel for target '" + plan.target + "' has workgroups");
  }
  plan.steps.resize(r.count(21));
  for (PlanStep& s : plan.steps) {
    s.kernel = r.u32();
    if (s.kernel >= plan.kernels.size()) r.fail("a step names a missing kernel");
    s.grain = r.i64();
    if (s.grain < 1) r.fail("a step's grain is out of range");
    s.one_block_per_thread = r.u8() != 0;
    s.slots.resize(r.count(17));
    for (Slot& slot : s.slots)
      slot = r.slot();
    const PlanKernel& kernel = plan.kernels[s.kernel];
    if (s.slots.size() != kernel.buffer_bytes.size())
      r.fail("a step gives " + std::to_string(s.slots.size()) + " buffers to a kernel of " +
             std::to_string(kernel.buffer_bytes.size()));
    for (size_t i = 0; i < s.slots.size(); ++i)
      if (s.slots[i].bytes != kernel.buffer_bytes[i])
        r.fail("a step's buffer " + std::to_string(i) + " has " + std::to_string(s.slots[i].bytes) +
               " bytes, its kernel needs " + std::to_string(kernel.buffer_bytes[i]));
  }
  const size_t constants = r.count(17);
  for (size_t i = 0; i < constants; ++i) {
    ir::TensorType type = r.type();
    std::vector<std::byte> bytes = r.bytes();
    if (bytes.size() != type.size_bytes()) r.fail("a constant's bytes do not match its type");
    ir::HostArray& c = plan.constants.emplace_back(ir::HostArray::uninitialized(type));
    if (!bytes.empty()) std::memcpy(c.data(), bytes.data(), bytes.size());
  }
  plan.written_params.resize(r.count(4));
  for (uint32_t& p : plan.written_params) {
    p = r.u32();
    if (p >= plan.params.size()) r.fail("a written parameter does not exist");
  }
  plan.arena_bytes = r.u64();
  plan.peak_bytes = r.u64();
  r.raw(&plan.compile_ms, sizeof plan.compile_ms);
  for (size_t i = 0; i < plan.result_slots.size(); ++i) {
    const Slot& slot = plan.result_slots[i];
    check_slot(r, plan, slot);
    // A result read from elsewhere is copied from there whole (Executable::run_raw): its
    // source must be a value of the result's own type, and another result only if that one is
    // written where it lives.
    const ir::TensorType* source = nullptr;
    switch (slot.kind) {
      case Slot::Kind::Param:
        source = &plan.params[slot.index].type;
        break;
      case Slot::Kind::Constant:
        source = &plan.constants[slot.index].type();
        break;
      case Slot::Kind::Result:
        if (plan.result_slots[slot.index] != Slot{Slot::Kind::Result, slot.index, 0})
          r.fail("result " + std::to_string(i) + " is read from a result that lives elsewhere");
        source = &plan.result_types[slot.index];
        break;
      case Slot::Kind::Arena:
        r.fail("result " + std::to_string(i) + " is read from the arena");
    }
    if (*source != plan.result_types[i])
      r.fail("result " + std::to_string(i) + " is " + plan.result_types[i].str() +
             " but is read from a " + source->str());
  }
  if (plan.peak_bytes < plan.arena_bytes) r.fail("the peak is smaller than the arena");
  for (const PlanStep& s : plan.steps)
    for (size_t i = 0; i < s.slots.size(); ++i) {
      const Slot& slot = s.slots[i];
      check_slot(r, plan, slot);
      if (plan.kernels[s.kernel].buffer_written[i]) check_written_slot(r, plan, slot);
    }
  return plan;
}

}  // namespace

std::vector<std::byte> save_plan(const Plan& plan) {
  Writer body;
  write_body(body, plan);
  std::vector<std::byte> payload = body.take();
  Writer w;
  w.raw(kMagic, sizeof kMagic);
  w.u32(kPlanFormatVersion);
  w.u64(payload.size());
  w.u64(ir::fnv1a64(payload));
  w.raw(payload.data(), payload.size());
  return w.take();
}

Plan load_plan(std::span<const std::byte> bytes, std::string_view where) {
  Reader header(bytes, where);
  char magic[sizeof kMagic];
  header.raw(magic, sizeof magic);
  if (std::memcmp(magic, kMagic, sizeof kMagic) != 0) header.fail("not a kiln plan (bad magic)");
  const uint32_t version = header.u32();
  if (version != kPlanFormatVersion)
    header.fail("plan format " + std::to_string(version) + ", this kiln reads format " +
                std::to_string(kPlanFormatVersion));
  const uint64_t size = header.u64();
  const uint64_t checksum = header.u64();
  const std::span<const std::byte> payload = bytes.subspan(header.position());
  if (payload.size() != size) header.fail("the file's length does not match its header");
  if (ir::fnv1a64(payload) != checksum) header.fail("the checksum does not match (a corrupt file)");
  Reader body(payload, where);
  Plan plan = read_body(body);
  if (!body.at_end()) body.fail("bytes after the end of the plan");
  return plan;
}

}  // namespace kiln::runtime
