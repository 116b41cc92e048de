// A fixed pool of worker threads that run the tasks 0..n−1 of one parallel loop together with
// the calling thread. One loop at a time (callers from several JS threads take turns). The
// threads are detached and never joined: the process may exit while they sleep.
#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lmsweep {

class Pool {
 public:
  /** Threads that take part in a loop, the caller included (≥ 1). */
  int size() const { return active_ + 1; }

  void resize(int threads) {
    std::lock_guard<std::mutex> loop(loopMu_);
    if (threads < 1) threads = 1;
    while (workers_ + 1 < threads) {
      std::thread([this] { workerLoop(); }).detach();
      workers_++;
    }
    // Fewer threads: the extra ones stay asleep (only `active_` of them join a loop).
    active_ = threads - 1;
  }

  /** Runs f(0) … f(n−1), spread over the pool; returns when all are done and no worker still holds f. */
  void run(long n, const std::function<void(long)>& f) {
    if (n <= 0) return;
    std::lock_guard<std::mutex> loop(loopMu_);
    if (active_ == 0 || n == 1) {
      for (long i = 0; i < n; i++) f(i);
      return;
    }
    {
      std::lock_guard<std::mutex> g(mu_);
      task_ = &f;
      count_ = n;
      next_.store(0);
      unfinished_ = n;
      joined_ = 0;
      generation_++;
    }
    cv_.notify_all();
    finish(work(f));
    std::unique_lock<std::mutex> g(mu_);
    done_.wait(g, [this] { return unfinished_ == 0 && inside_ == 0; });
    task_ = nullptr;
  }

 private:
  long work(const std::function<void(long)>& f) {
    long done = 0;
    for (long i; (i = next_.fetch_add(1)) < count_;) {
      f(i);
      done++;
    }
    return done;
  }

  void finish(long done, bool worker = false) {
    std::lock_guard<std::mutex> g(mu_);
    unfinished_ -= done;
    if (worker) inside_--;
    if (unfinished_ == 0 && inside_ == 0) done_.notify_all();
  }

  void workerLoop() {
    unsigned long seen = 0;
    for (;;) {
      const std::function<void(long)>* f;
      {
        std::unique_lock<std::mutex> g(mu_);
        cv_.wait(g, [&] { return generation_ != seen && task_ != nullptr && joined_ < active_; });
        seen = generation_;
        joined_++;
        inside_++;
        f = task_;
      }
      finish(work(*f), true);
    }
  }

  std::mutex loopMu_;
  std::mutex mu_;
  std::condition_variable cv_, done_;
  const std::function<void(long)>* task_ = nullptr;
  long count_ = 0;
  std::atomic<long> next_{0};
  long unfinished_ = 0;
  int joined_ = 0;
  int inside_ = 0;
  unsigned long generation_ = 0;
  int workers_ = 0;
  int active_ = 0;
};

Pool& pool();

}  // namespace lmsweep
