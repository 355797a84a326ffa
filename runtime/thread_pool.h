#pragma once
// The process's one thread pool. Kernels split their outer iteration space over it and the
// compiler uses it to JIT distinct kernels concurrently. Workers are std::jthreads; the thread
// that calls parallel_for works too, so a pool of N threads has N - 1 workers. No OpenMP: a
// second threading runtime next to this one would fight it for the cores.

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>

namespace kiln::runtime {

class ThreadPool {
 public:
  using RangeFn = std::function<void(int64_t begin, int64_t end)>;

  // The process-wide pool: std::thread::hardware_concurrency() threads, or KILN_NUM_THREADS.
  static ThreadPool& instance();

  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Threads that take part in a parallel_for, the caller included.
  int num_threads() const;

  // Calls fn over disjoint ranges that cover [0, n) exactly once, each at least `grain` long
  // (but the last), on the workers and the calling thread, and returns when all are done. The
  // first exception thrown by fn is rethrown here (ranges not yet started are skipped). A call
  // made from inside fn, or while another thread's call holds the pool, runs inline.
  void parallel_for(int64_t n, int64_t grain, const RangeFn& fn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ThreadPool::instance().parallel_for(n, grain, fn).
void parallel_for(int64_t n, int64_t grain, const ThreadPool::RangeFn& fn);

}  // namespace kiln::runtime
