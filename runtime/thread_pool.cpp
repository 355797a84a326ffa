#include "runtime/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

namespace kiln::runtime {

namespace {

// Set while a thread runs a range of some parallel_for: a nested call runs inline instead of
// waiting for workers that may all be busy waiting on it.
thread_local bool t_in_parallel_region = false;

int default_thread_count() {
  if (const char* env = std::getenv("KILN_NUM_THREADS")) {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n >= 1 && n <= 1024) return static_cast<int>(n);
  }
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// One parallel_for in flight: chunks are claimed from `next` by every participant.
struct Job {
  const ThreadPool::RangeFn* fn = nullptr;
  int64_t n = 0;
  int64_t chunk = 1;
  int64_t num_chunks = 0;
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> done{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;  // written once, by whoever sets `failed` first
};

}  // namespace

struct ThreadPool::Impl {
  int num_threads = 1;
  std::mutex call_mutex;  // one parallel_for at a time owns the workers
  std::mutex mutex;
  std::condition_variable_any wake;
  std::condition_variable finished;
  std::shared_ptr<Job> job;  // guarded by `mutex`
  uint64_t generation = 0;   // bumped for each job so a worker joins each job once
  std::vector<std::jthread> workers;

  void work_on(Job& job) {
    t_in_parallel_region = true;
    for (;;) {
      int64_t c = job.next.fetch_add(1);
      if (c >= job.num_chunks) break;
      if (!job.failed.load()) {
        int64_t begin = c * job.chunk;
        int64_t end = std::min(job.n, begin + job.chunk);
        try {
          (*job.fn)(begin, end);
        } catch (...) {
          if (!job.failed.exchange(true)) job.error = std::current_exception();
        }
      }
      if (job.done.fetch_add(1) + 1 == job.num_chunks) {
        std::lock_guard lock(mutex);
        finished.notify_all();
      }
    }
    t_in_parallel_region = false;
  }

  void worker_loop(std::stop_token stop) {
    uint64_t seen = 0;
    for (;;) {
      std::shared_ptr<Job> current;
      {
        std::unique_lock lock(mutex);
        if (!wake.wait(lock, stop, [&] { return job && generation != seen; })) return;
        seen = generation;
        current = job;
      }
      work_on(*current);
    }
  }
};

ThreadPool::ThreadPool(int num_threads) : impl_(std::make_unique<Impl>()) {
  impl_->num_threads = std::max(1, num_threads);
  for (int i = 1; i < impl_->num_threads; ++i)
    impl_->workers.emplace_back(
        [impl = impl_.get()](std::stop_token stop) { impl->worker_loop(stop); });
}

ThreadPool::~ThreadPool() {
  for (auto& w : impl_->workers)
    w.request_stop();
  impl_->workers.clear();  // joins
}

ThreadPool& ThreadPool::instance() {
  static ThreadPool pool(default_thread_count());
  return pool;
}

int ThreadPool::num_threads() const {
  return impl_->num_threads;
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const RangeFn& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t max_chunks = (n + grain - 1) / grain;
  // A few chunks per thread balance uneven ranges without making chunks tiny.
  const int64_t num_chunks = std::min<int64_t>(max_chunks, int64_t{impl_->num_threads} * 4);
  std::unique_lock call(impl_->call_mutex, std::defer_lock);
  if (num_chunks <= 1 || impl_->num_threads == 1 || t_in_parallel_region || !call.try_lock()) {
    bool outer = t_in_parallel_region;
    t_in_parallel_region = true;
    try {
      fn(0, n);
    } catch (...) {
      t_in_parallel_region = outer;
      throw;
    }
    t_in_parallel_region = outer;
    return;
  }
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->n = n;
  job->chunk = (n + num_chunks - 1) / num_chunks;
  job->num_chunks = (n + job->chunk - 1) / job->chunk;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->job = job;
    ++impl_->generation;
  }
  impl_->wake.notify_all();
  impl_->work_on(*job);
  {
    std::unique_lock lock(impl_->mutex);
    impl_->finished.wait(lock, [&] { return job->done.load() == job->num_chunks; });
    impl_->job.reset();
  }
  if (job->error) std::rethrow_exception(job->error);
}

void parallel_for(int64_t n, int64_t grain, const ThreadPool::RangeFn& fn) {
  ThreadPool::instance().parallel_for(n, grain, fn);
}

}  // namespace kiln::runtime
