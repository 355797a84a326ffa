#pragma once
// The runtime's state, in one place instead of scattered singletons: the thread pool kernels
// split their work over and the loader that maps their code. A program uses the default
// context (one pool of KILN_NUM_THREADS or all hardware threads, the host loader) unless it
// makes its own, for instance to pin a service to two threads or to test thread counts. A
// context must outlive the executables loaded into it. Results never depend on the context's
// thread count (runtime/plan.h says why).

#include <memory>

#include "runtime/kernel_loader.h"
#include "runtime/thread_pool.h"

namespace kiln::runtime {

class Context {
 public:
  // The process's context: ThreadPool::instance() and host_kernel_loader().
  static Context& default_context();

  // A context with a pool of its own.
  explicit Context(int num_threads, KernelLoader& loader = host_kernel_loader());
  // A context sharing `pool` (which must outlive it), with its own loader: a bundle's code is
  // reached through a loader of its own (runtime/bundle/bundle.h).
  Context(ThreadPool& shared_pool, KernelLoader& loader)
      : threads_(&shared_pool), loader_(&loader) {}

  ThreadPool& threads() const { return *threads_; }
  KernelLoader& loader() const { return *loader_; }

 private:
  std::unique_ptr<ThreadPool> own_threads_;
  ThreadPool* threads_;
  KernelLoader* loader_;
};

}  // namespace kiln::runtime
