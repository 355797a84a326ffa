#pragma once
// A caching allocator of 64-byte aligned blocks (a cache line, and an AVX-512 vector): the one
// allocator under every HostArray, Tensor and runtime arena. Freed blocks go back to a free list
// per size class, so running an Executable again allocates nothing and touches no fresh page.
// Blocks of 2 MiB and more are 2 MiB aligned and advised for transparent huge pages. Blocks are
// handed out as move-only Buffer handles that return them on destruction.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace kiln::ir {

inline constexpr size_t kBufferAlignment = 64;

// The machine's physical memory in bytes. Whatever would allocate more is refused with a
// message before allocating: with overcommit such an allocation may succeed and get the process
// killed while it fills.
uint64_t physical_memory_bytes();

// "needs N bytes, more than this machine's memory (M bytes)" when `bytes` is more than
// physical memory, else nullopt: the one wording of every refusal made before allocating.
std::optional<std::string> exceeds_memory(uint64_t bytes);

// Asks the kernel to back the 2 MiB-aligned part of [data, data + bytes), not yet touched, with
// huge pages: filling 64 MiB then costs 32 page faults instead of 16,384. Harmless where
// transparent huge pages are off.
void advise_huge_pages(void* data, size_t bytes);

class BufferPool;

class Buffer {
 public:
  Buffer() = default;
  Buffer(Buffer&& other) noexcept { swap(other); }
  Buffer& operator=(Buffer&& other) noexcept {
    Buffer(std::move(other)).swap(*this);
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer();

  // Memory the caller owns (a model file's mapping, another library's array): the block is
  // not the pool's, is never written (HostArray copies before a write), and `release` runs
  // when the last user lets go of it.
  static Buffer external(void* data, size_t size, std::function<void()> release);
  bool read_only() const { return read_only_; }

  void* data() const { return data_; }
  std::byte* bytes() const { return static_cast<std::byte*>(data_); }
  size_t size() const { return size_; }          // as requested
  size_t capacity() const { return capacity_; }  // the size class actually held

 private:
  friend class BufferPool;
  Buffer(BufferPool* pool, void* data, size_t size, size_t capacity)
      : pool_(pool), data_(data), size_(size), capacity_(capacity) {}
  void swap(Buffer& other) noexcept;

  BufferPool* pool_ = nullptr;
  std::function<void()> release_;  // external blocks only
  bool read_only_ = false;
  void* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

class BufferPool {
 public:
  // The process's pool. Thread-safe.
  static BufferPool& instance();

  // `max_cached_bytes` bounds what the free lists keep; a block freed past it goes back to
  // the system.
  explicit BufferPool(size_t max_cached_bytes = size_t{2} << 30);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // A block of at least `bytes` (a non-null one for 0), 64-byte aligned, contents undefined.
  // Throws std::bad_alloc when the system has no memory left.
  Buffer allocate(size_t bytes);

  // The size class a request of `bytes` is served from: multiples of 64 up to 4 KiB, then
  // four classes per power of two (at most 25% slack).
  static size_t size_class(size_t bytes);

  size_t cached_bytes() const;
  void trim();  // returns every cached block to the system

 private:
  friend class Buffer;
  void release(void* data, size_t capacity);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::ir
