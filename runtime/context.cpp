#include "runtime/context.h"

namespace kiln::runtime {

Context& Context::default_context() {
  static Context context(ThreadPool::instance(), host_kernel_loader());
  return context;
}

Context::Context(int num_threads, KernelLoader& loader)
    : own_threads_(std::make_unique<ThreadPool>(num_threads)),
      threads_(own_threads_.get()),
      loader_(&loader) {}

}  // namespace kiln::runtime
