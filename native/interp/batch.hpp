// The batch API: many (program, input grid) jobs over a persistent thread pool. Programs and
// input grids are given once; each worker thread has its own arena, reused job after job.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "arena.hpp"
#include "context.hpp"
#include "program.hpp"

namespace codeit {

constexpr int kSide = 30;
// More worker threads than this is a caller's mistake (each has its own arena), not a machine.
constexpr int kMaxThreads = 1024;

// Where one batch writes its results (arrays owned by the caller, n_jobs long).
struct BatchOutputs {
  uint8_t* status;      // [n]
  int32_t* error_line;  // [n] IR line index, -1 when none
  int64_t* steps;       // [n]
  int32_t* shapes;      // [n, 2]; 0 x 0 when there is no output grid
  uint8_t* grids;       // [n, 30, 30]; zero outside the shape
  // Profiling outputs, written only when not null (run_batch with profiles):
  int64_t* job_nanos = nullptr;    // [n] wall nanoseconds of the job
  int64_t* line_nanos = nullptr;   // [n, line_stride] wall nanoseconds of each program line
  int64_t line_stride = 0;         // at least the longest program's line count
  int64_t* output_size = nullptr;  // [n] value_size of O (OK, BAD_OUTPUT), else -1
};

// Statuses a job can end with (OK .. BAD_OUTPUT).
constexpr int kNumStatuses = 7;

struct BatchInputs {
  const std::vector<CompiledProgram>* programs;
  const uint8_t* grid_data;     // [G, 30, 30]
  const int32_t* grid_shapes;   // [G, 2]
  int64_t n_grids;
  const int32_t* jobs;          // [n, 2] (program, grid); null for the full cross product
  int64_t n_jobs;
};

class ThreadPool {
 public:
  // `threads` workers in all, the calling thread included.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return int(arenas_.size()); }

  // Calls fn(worker, item) for every item in [0, n) across the workers; returns when all
  // are done. fn must not throw.
  void run(int64_t n, const std::function<void(int, int64_t)>& fn);

  Arena& arena(int worker) { return *arenas_[size_t(worker)]; }

 private:
  void worker_loop(int worker);
  void drain(int worker);

  std::vector<std::unique_ptr<Arena>> arenas_;
  std::vector<std::thread> threads_;
  std::mutex run_mu_;  // one batch at a time per pool
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(int, int64_t)>* fn_ = nullptr;
  std::atomic<int64_t> next_{0};
  int64_t n_ = 0;
  int64_t chunk_ = 1;
  uint64_t generation_ = 0;
  int busy_ = 0;
  bool stop_ = false;
};

// An input grid (row stride kSide) as a value in c's arena: int8 cells where every cell fits.
Value input_grid(Ctx& c, const uint8_t* data, int32_t h, int32_t w);

// Runs every job of `in`, writing `out`; `profiles` (may be null) collect per-primitive counters,
// kNumStatuses per worker: job k's calls land in profiles[worker * kNumStatuses + its status].
// With profiles, each line is timed (out.job_nanos, out.line_nanos, out.output_size).
void run_batch(ThreadPool& pool, const BatchInputs& in, const Limits& limits,
               const BatchOutputs& out, std::vector<PrimProfile>* profiles);

}  // namespace codeit
