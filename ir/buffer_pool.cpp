#include "ir/buffer_pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <bit>
#include <cassert>
#include <map>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

namespace kiln::ir {

uint64_t physical_memory_bytes() {
  static const uint64_t bytes =
      static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return bytes;
}

std::optional<std::string> exceeds_memory(uint64_t bytes) {
  if (bytes <= physical_memory_bytes()) return std::nullopt;
  return "needs " + std::to_string(bytes) + " bytes, more than this machine's memory (" +
         std::to_string(physical_memory_bytes()) + " bytes)";
}

namespace {
constexpr size_t kHugePage = size_t{2} << 20;
}  // namespace

void advise_huge_pages(void* data, size_t bytes) {
  const auto first = (reinterpret_cast<uintptr_t>(data) + kHugePage - 1) / kHugePage * kHugePage;
  const auto end = (reinterpret_cast<uintptr_t>(data) + bytes) / kHugePage * kHugePage;
  if (end > first) madvise(reinterpret_cast<void*>(first), end - first, MADV_HUGEPAGE);
}

namespace {

// Large blocks start on a huge-page boundary so that the kernel can back them with 2 MiB pages:
// a 64 MiB array then costs 32 page faults instead of 16,384.
size_t alignment_for(size_t capacity) {
  return capacity >= kHugePage ? kHugePage : kBufferAlignment;
}

void* system_allocate(size_t capacity) {
  void* data = ::operator new (capacity, std::align_val_t{alignment_for(capacity)});
  advise_huge_pages(data, capacity);
  return data;
}

void system_free(void* data, size_t capacity) {
  ::operator delete (data, std::align_val_t{alignment_for(capacity)});
}

}  // namespace

struct BufferPool::Impl {
  size_t max_cached = 0;
  mutable std::mutex mutex;
  size_t cached = 0;
  std::map<size_t, std::vector<void*>> free_lists;  // by size class
};

Buffer Buffer::external(void* data, size_t size, std::function<void()> release) {
  Buffer b(nullptr, data, size, size);
  b.release_ = std::move(release);
  b.read_only_ = true;
  return b;
}

Buffer::~Buffer() {
  if (!pool_) {  // external: the caller's memory, theirs to free
    if (release_) release_();
  } else if (data_) {
    pool_->release(data_, capacity_);
  }
}

void Buffer::swap(Buffer& other) noexcept {
  std::swap(pool_, other.pool_);
  std::swap(release_, other.release_);
  std::swap(read_only_, other.read_only_);
  std::swap(data_, other.data_);
  std::swap(size_, other.size_);
  std::swap(capacity_, other.capacity_);
}

BufferPool::BufferPool(size_t max_cached_bytes) : impl_(std::make_unique<Impl>()) {
  impl_->max_cached = max_cached_bytes;
}

BufferPool::~BufferPool() {
  trim();
}

BufferPool& BufferPool::instance() {
  // Never destroyed: Buffers held by other statics may still return blocks at exit.
  static BufferPool* pool = new BufferPool();
  return *pool;
}

size_t BufferPool::size_class(size_t bytes) {
  constexpr size_t kSmall = 4096;
  if (bytes <= kSmall) return std::max<size_t>(kBufferAlignment, (bytes + 63) / 64 * 64);
  // Four classes between consecutive powers of two.
  const size_t high = std::bit_floor(bytes);
  const size_t step = high / 4;
  return (bytes + step - 1) / step * step;
}

Buffer BufferPool::allocate(size_t bytes) {
  const size_t capacity = size_class(bytes);
  {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->free_lists.find(capacity);
    if (it != impl_->free_lists.end() && !it->second.empty()) {
      void* data = it->second.back();
      it->second.pop_back();
      impl_->cached -= capacity;
      return Buffer(this, data, bytes, capacity);
    }
  }
  void* data = nullptr;
  try {
    data = system_allocate(capacity);
  } catch (const std::bad_alloc&) {
    // Cached blocks of other sizes may be what stands between this request and success.
    trim();
    data = system_allocate(capacity);
  }
  return Buffer(this, data, bytes, capacity);
}

void BufferPool::release(void* data, size_t capacity) {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->cached + capacity <= impl_->max_cached) {
      impl_->free_lists[capacity].push_back(data);
      impl_->cached += capacity;
      return;
    }
  }
  system_free(data, capacity);
}

size_t BufferPool::cached_bytes() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->cached;
}

void BufferPool::trim() {
  std::map<size_t, std::vector<void*>> lists;
  {
    std::lock_guard lock(impl_->mutex);
    lists.swap(impl_->free_lists);
    impl_->cached = 0;
  }
  for (auto& [capacity, blocks] : lists)
    for (void* block : blocks)
      system_free(block, capacity);
}

}  // namespace kiln::ir
