#pragma once
// Scratch space of n elements for one call: inline up to N (no allocation, the common case on
// paths that run per call, such as an Executable's argument pointers), on the heap beyond.

#include <array>
#include <cstddef>
#include <span>
#include <vector>

namespace kiln::ir {

template <class T, size_t N>
class Scratch {
 public:
  explicit Scratch(size_t n) : size_(n) {
    if (n > N) heap_.resize(n);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  std::span<T> span() { return size_ <= N ? std::span<T>(inline_.data(), size_) : heap_; }
  T* data() { return span().data(); }
  T& operator[](size_t i) { return span()[i]; }
  size_t size() const { return size_; }

 private:
  size_t size_;
  std::array<T, N> inline_{};
  std::vector<T> heap_;
};

}  // namespace kiln::ir
