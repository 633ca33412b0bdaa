#include "batch.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "functions.hpp"
#include "values.hpp"

namespace codeit {

ThreadPool::ThreadPool(int threads) {
  if (threads < 1) threads = 1;
  for (int k = 0; k < threads; ++k) arenas_.push_back(std::make_unique<Arena>());
  for (int k = 1; k < threads; ++k) threads_.emplace_back([this, k] { worker_loop(k); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void ThreadPool::drain(int worker) {
  // Consecutive items in chunks: a worker's results then share cache lines with its own, not
  // with another worker's (per-item handout made neighbouring result slots ping-pong), and the
  // counter is touched once a chunk. Chunks stay small so that a few long jobs still spread.
  for (;;) {
    int64_t begin = next_.fetch_add(chunk_, std::memory_order_relaxed);
    if (begin >= n_) return;
    int64_t end = std::min(begin + chunk_, n_);
    for (int64_t item = begin; item < end; ++item) (*fn_)(worker, item);
  }
}

void ThreadPool::worker_loop(int worker) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    drain(worker);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (--busy_ == 0) done_.notify_all();
    }
  }
}

void ThreadPool::run(int64_t n, const std::function<void(int, int64_t)>& fn) {
  if (n <= 0) return;
  std::lock_guard<std::mutex> one_batch_at_a_time(run_mu_);
  if (threads_.empty() || n == 1) {
    for (int64_t k = 0; k < n; ++k) fn(0, k);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn_ = &fn;
    n_ = n;
    chunk_ = std::max<int64_t>(1, std::min<int64_t>(32, n / (int64_t(arenas_.size()) * 16)));
    next_.store(0, std::memory_order_relaxed);
    busy_ = int(threads_.size());
    ++generation_;
  }
  wake_.notify_all();
  drain(0);
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [&] { return busy_ == 0; });
  fn_ = nullptr;
}

Value input_grid(Ctx& c, const uint8_t* data, int32_t h, int32_t w) {
  bool small = true;
  for (int32_t i = 0; i < h; ++i)
    for (int32_t j = 0; j < w; ++j) small = small && data[i * kSide + j] <= 127;
  if (small) {
    GridHdr* g = new_grid(c, h, w);
    for (int32_t i = 0; i < h; ++i)
      for (int32_t j = 0; j < w; ++j) g->data()[i * w + j] = int8_t(data[i * kSide + j]);
    return grid_value(g);
  }
  std::vector<int64_t> cells(size_t(h) * size_t(w));
  for (int32_t i = 0; i < h; ++i)
    for (int32_t j = 0; j < w; ++j) cells[size_t(i * w + j)] = data[i * kSide + j];
  return make_grid_i64(c, h, w, cells.data());
}

void run_batch(ThreadPool& pool, const BatchInputs& in, const Limits& limits,
               const BatchOutputs& out, std::vector<PrimProfile>* profiles) {
  const auto& programs = *in.programs;
  const int64_t n_programs = int64_t(programs.size());
  const int64_t n_jobs = in.jobs ? in.n_jobs : n_programs * in.n_grids;
  if (in.jobs) {
    for (int64_t k = 0; k < n_jobs; ++k) {
      int64_t p = in.jobs[2 * k], g = in.jobs[2 * k + 1];
      if (p < 0 || p >= n_programs || g < 0 || g >= in.n_grids)
        throw std::invalid_argument("job " + std::to_string(k) + " = (" + std::to_string(p) + ", " +
                                    std::to_string(g) + ") is out of range for " +
                                    std::to_string(n_programs) + " programs and " +
                                    std::to_string(in.n_grids) + " grids");
    }
  }
  // The input grids as values, built once and only read by the workers.
  Arena shared;
  Limits unlimited;
  unlimited.max_memory = int64_t(1) << 40;
  Ctx sc(shared, unlimited);
  std::vector<Value> inputs(size_t(in.n_grids));
  for (int64_t g = 0; g < in.n_grids; ++g) {
    int32_t h = in.grid_shapes[2 * g], w = in.grid_shapes[2 * g + 1];
    if (h < 1 || h > kSide || w < 1 || w > kSide)
      throw std::invalid_argument("input grid " + std::to_string(g) + " has shape " +
                                  std::to_string(h) + "x" + std::to_string(w) +
                                  "; expected 1..30 x 1..30");
    inputs[size_t(g)] = input_grid(sc, in.grid_data + g * kSide * kSide, h, w);
  }
  if (profiles) {
    profiles->assign(size_t(pool.size()) * kNumStatuses, PrimProfile());
    size_t longest = 0;
    for (const CompiledProgram& prog : programs) longest = std::max(longest, prog.lines.size());
    if (!out.job_nanos || !out.line_nanos || !out.output_size || out.line_stride < int64_t(longest))
      throw std::invalid_argument("a profiled batch needs job, line and output-size outputs");
  }

  pool.run(n_jobs, [&](int worker, int64_t job) {
    int64_t p, g;
    if (in.jobs) {
      p = in.jobs[2 * job];
      g = in.jobs[2 * job + 1];
    } else {
      p = job / in.n_grids;
      g = job % in.n_grids;
    }
    Arena& arena = pool.arena(worker);
    arena.reset();
    Ctx c(arena, limits);
    JobResult r;
    if (profiles) {
      PrimProfile job_profile;
      c.profile = &job_profile;
      int64_t* line_ns = out.line_nanos + job * out.line_stride;
      std::fill(line_ns, line_ns + out.line_stride, int64_t(0));
      const int64_t t0 = precise_now_ns();
      r = run_program_timed(c, programs[size_t(p)], inputs[size_t(g)], line_ns,
                            out.output_size + job);
      out.job_nanos[job] = precise_now_ns() - t0;
      (*profiles)[size_t(worker) * kNumStatuses + r.status].add(job_profile);
    } else {
      r = run_program(c, programs[size_t(p)], inputs[size_t(g)]);
    }
    out.status[job] = r.status;
    out.error_line[job] = r.error_line;
    out.steps[job] = r.steps;
    if (r.status == OK) {
      const GridHdr* grid = r.output.grid();
      out.shapes[2 * job] = grid->h;
      out.shapes[2 * job + 1] = grid->w;
      uint8_t* dst = out.grids + job * kSide * kSide;
      for (int32_t i = 0; i < grid->h; ++i)
        std::memcpy(dst + i * kSide, grid->data() + int64_t(i) * grid->w, size_t(grid->w));
    } else {
      out.shapes[2 * job] = 0;
      out.shapes[2 * job + 1] = 0;
    }
  });
}

}  // namespace codeit
