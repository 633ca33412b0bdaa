// One job's execution context: its arena, its budgets and counters, optional profiling.
#pragma once

#include <cstdint>
#include <ctime>

#include "arena.hpp"
#include "value.hpp"

namespace codeit {

constexpr int kNumPrimitives = 160;

// The largest time limit a job may have: its deadline is int64 nanoseconds on the monotonic
// clock (and no job should run for longer than days anyway).
constexpr double kMaxTimeLimit = 1e6;
// The largest max_depth a job may have: each nested call of a function value takes native
// stack (call -> primitive -> call ...), and worker threads have the platform's default stack.
constexpr int32_t kMaxCallDepth = 10000;

struct Limits {
  // Steps (primitive applications) one job may take.
  int64_t max_steps = 100000;
  // Wall-time budget of one job, in seconds.
  double time_limit = 1.0;
  // Cap on value_size of every line result and of the known-size pre-checks.
  int64_t max_value_size = 1000000;
  // Cap on the bytes one job may allocate; past it the job ends with SIZE_LIMIT.
  int64_t max_memory = int64_t(128) << 20;
  // Deepest nesting of function calls (and of values) before RUNTIME_ERROR (Python's
  // RecursionError).
  int32_t max_depth = 900;
};

struct PrimProfile {
  uint64_t calls[kNumPrimitives] = {};
  uint64_t nanos[kNumPrimitives] = {};
  void add(const PrimProfile& o) {
    for (int k = 0; k < kNumPrimitives; ++k) {
      calls[k] += o.calls[k];
      nanos[k] += o.nanos[k];
    }
  }
};

// The coarse clock is a few ns to read (no syscall even where the fine one needs one); its
// resolution (a few ms) is ample for budgets of tens of ms and up.
inline int64_t coarse_now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

inline int64_t precise_now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct Ctx {
  Arena& arena;
  int64_t steps = 0;
  int64_t max_steps;
  int64_t max_size;
  int64_t deadline_ns;
  int32_t depth = 0;
  int32_t max_depth;
  int32_t line = 0;  // the program line being run (read after a failure)
  int64_t work = 0;
  PrimProfile* profile = nullptr;

  Ctx(Arena& a, const Limits& lim)
      : arena(a),
        max_steps(lim.max_steps),
        max_size(lim.max_value_size),
        deadline_ns(coarse_now_ns() + int64_t(lim.time_limit * 1e9) + 1),
        max_depth(lim.max_depth) {
    a.set_limit(size_t(lim.max_memory > 0 ? lim.max_memory : 0));
  }

  void check_time() const {
    if (coarse_now_ns() > deadline_ns) fail(TIMEOUT);
  }

  // Called before every primitive application (dsl/README.md: the step budget is checked
  // before each step, the deadline at each step).
  void step() {
    if (steps >= max_steps) fail(STEP_LIMIT);
    ++steps;
    check_time();
  }

  // Long loops inside one primitive report their work; the clock is read every 64k units.
  void tick(int64_t units) {
    work += units;
    if (work >= (int64_t(1) << 16)) {
      work = 0;
      check_time();
    }
  }

  void check_size(int64_t n) const {
    if (n > max_size) fail(SIZE_LIMIT);
  }

  void* alloc(size_t bytes) { return arena.alloc(bytes); }
  template <class T>
  T* alloc_array(size_t n) {
    return arena.alloc_array<T>(n);
  }
};

// Scoped call depth (function values calling function values).
struct DepthGuard {
  Ctx& c;
  explicit DepthGuard(Ctx& ctx) : c(ctx) {
    if (++c.depth > c.max_depth) {
      --c.depth;
      fail(RUNTIME_ERROR);
    }
  }
  ~DepthGuard() { --c.depth; }
  DepthGuard(const DepthGuard&) = delete;
  DepthGuard& operator=(const DepthGuard&) = delete;
};

}  // namespace codeit
