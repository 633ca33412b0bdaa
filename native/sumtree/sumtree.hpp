// A sum tree over non-negative priorities for prioritized replay.
//
// Layout. The tree is 8-ary: the 8 children of a node sit next to each other in one 64-byte
// cache line, so a descent from the root to a leaf at 1e6 items reads 7 cache lines instead of
// the 20 scattered ones of a binary tree. Level 0 holds the leaf weights; entry i of level l+1
// is the sum of entries 8i..8i+7 of level l; the top level has exactly 8 entries and the total
// is their sum. Every level is padded to a multiple of 8 with zeros.
//
// Priorities. The tree keeps the raw priorities the caller gave and, in its leaves, their
// sampling weights. The exponent alpha is applied in exactly one place, weight_of(), when a raw
// priority enters a leaf; changing alpha rebuilds the leaves from the raw priorities. With
// alpha = 1 weights equal raw priorities, so the leaves are the only copy (raw_ stays empty).
//
// Sums. Parents are recomputed from their 8 children (never updated by adding deltas), so no
// rounding error accumulates however many updates are made.
//
// Errors. Every mutating call validates all of its input before it writes anything, so a
// call that throws leaves the tree exactly as it was.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace codeit_sumtree {

// xoshiro256** (Blackman and Vigna): small, fast, and its whole state can be saved and restored
// as four integers, which makes draws reproducible across a checkpoint.
struct Rng {
  uint64_t s[4];

  void seed(uint64_t seed);
  uint64_t next();
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; bias below 2^-64 * n).
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
};

// Thrown for bad arguments; the bindings map it to Python's ValueError.
struct InvalidArgument : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Storage for doubles aligned to a cache line, so every 8-child block is one line.
class AlignedDoubles {
 public:
  AlignedDoubles() = default;
  explicit AlignedDoubles(size_t n);
  double* data() { return data_.get(); }
  const double* data() const { return data_.get(); }
  size_t size() const { return n_; }
  double& operator[](size_t i) { return data_[i]; }
  double operator[](size_t i) const { return data_[i]; }

 private:
  struct Free {
    void operator()(double* p) const;
  };
  std::unique_ptr<double[], Free> data_;
  size_t n_ = 0;
};

class SumTree {
 public:
  static constexpr int64_t kFanout = 8;

  SumTree(int64_t capacity, double alpha, uint64_t seed);

  int64_t size() const { return size_; }
  int64_t capacity() const { return capacity_; }
  double alpha() const { return alpha_; }
  // Sum of all sampling weights (raw priorities raised to alpha).
  double total() const;

  // Appends priorities as new items size()..size()+n-1; grows the capacity when needed.
  // Returns the index of the first new item.
  int64_t add(const double* priorities, int64_t n);
  // Sets priorities[k] at indices[k]; with repeated indices the last one wins.
  void update(const int64_t* indices, const double* priorities, int64_t n);
  // Raw priorities at indices into out.
  void get(const int64_t* indices, double* out, int64_t n) const;
  // Copies all raw priorities (size() of them) into out.
  void raw_priorities(double* out) const;

  // n draws with replacement, each item with probability weight/total. Stratified: draw k is
  // uniform within the k-th of n equal slices of the total. probs (may be null) receives
  // weight/total of each drawn item.
  void sample(int64_t n, bool stratified, int64_t* out_indices, double* out_probs);
  // k distinct items, drawn one after another each in proportion to the weight among those not
  // yet drawn (successive sampling). When fewer than k items have a positive weight, the rest
  // are drawn uniformly from the zero-weight items. Requires k <= size().
  // Returns how many of the k have a positive weight.
  int64_t sample_without_replacement(int64_t k, int64_t* out_indices);

  void set_alpha(double alpha);
  void clear();
  // Replaces the contents with raw priorities (validated as in add); capacity grows as needed.
  void assign(const double* priorities, int64_t n);

  void rng_state(uint64_t out[4]) const;
  void set_rng_state(const uint64_t state[4]);
  void reseed(uint64_t seed);

  // Held by the bindings around every call, so calls from several Python threads (which run
  // with the GIL released) never interleave.
  std::mutex& mutex() { return mutex_; }

  // Checks, without writing, that the tree's sums equal the sums of its children; returns the
  // largest relative discrepancy found (0 for a consistent tree). For tests.
  double check_consistency() const;

 private:
  double weight_of(double raw) const;
  void build_levels(int64_t capacity);
  void rebuild_from_raw();
  void rebuild_upper();
  // With alpha = 1 the weights are the raw priorities, so the leaves hold them and raw_ stays
  // empty: half the memory and one cache miss fewer per update.
  bool leaves_are_raw() const { return alpha_ == 1.0; }
  double raw_at(int64_t i) const { return leaves_are_raw() ? levels_[0][static_cast<size_t>(i)] : raw_[static_cast<size_t>(i)]; }
  void recompute_parents(const int64_t* leaves, int64_t n);
  void set_leaf_and_path(int64_t leaf, double weight);
  int64_t descend(double u) const;
  static void validate_priorities(const char* call, const double* p, int64_t n);
  void validate_indices(const char* call, const int64_t* idx, int64_t n) const;

  int64_t size_ = 0;
  int64_t capacity_ = 0;
  double alpha_ = 1.0;
  std::vector<double> raw_;  // raw priorities, capacity_ of them; empty while leaves_are_raw()
  std::vector<AlignedDoubles> levels_;  // levels_[0] = leaf weights, back() = top (8 entries)
  std::vector<int64_t> scratch_nodes_;  // reused by sampling, so calls do not allocate
  std::vector<double> scratch_u_;
  Rng rng_;
  std::mutex mutex_;
};

}  // namespace codeit_sumtree
