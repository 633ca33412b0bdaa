#include "sumtree.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <sstream>

namespace codeit_sumtree {

namespace {

constexpr size_t kCacheLine = 64;

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// Fixed pairwise order: the same 8 children always give bit-identical sums, which keeps a
// parent exactly equal to a recomputation from its children.
inline double sum8(const double* c) {
  return ((c[0] + c[1]) + (c[2] + c[3])) + ((c[4] + c[5]) + (c[6] + c[7]));
}

// Chooses the child of a node whose slice of [0, node sum) contains u and makes u relative to
// that child. Branch-free except for the rounding corner: when u lies at or past the end of the
// node (rounding of the sums), it falls back to the last child with a positive weight, so a
// zero-weight child is never chosen while the node has weight.
inline int64_t pick_child(const double* c, double& u) {
  double prefix[8];
  prefix[0] = 0.0;
  prefix[1] = c[0];
  prefix[2] = prefix[1] + c[1];
  prefix[3] = prefix[2] + c[2];
  prefix[4] = prefix[3] + c[3];
  prefix[5] = prefix[4] + c[4];
  prefix[6] = prefix[5] + c[5];
  prefix[7] = prefix[6] + c[6];
  int64_t j = static_cast<int64_t>(u >= prefix[1]) + static_cast<int64_t>(u >= prefix[2]) +
              static_cast<int64_t>(u >= prefix[3]) + static_cast<int64_t>(u >= prefix[4]) +
              static_cast<int64_t>(u >= prefix[5]) + static_cast<int64_t>(u >= prefix[6]) +
              static_cast<int64_t>(u >= prefix[7]);
  u -= prefix[j];
  // A zero child can only be chosen as the last one (see the header): u ran past the end.
  if (__builtin_expect(c[j] == 0.0 || u >= c[j], 0)) {
    while (j > 0 && c[j] == 0.0) --j;
    u = std::nextafter(c[j], 0.0);
  }
  return j;
}

std::string describe(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

}  // namespace

void Rng::seed(uint64_t seed) {
  uint64_t x = seed;
  for (auto& word : s) word = splitmix64(x);
}

uint64_t Rng::next() {
  const uint64_t result = rotl(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

AlignedDoubles::AlignedDoubles(size_t n) : n_(n) {
  const size_t bytes = ((n * sizeof(double) + kCacheLine - 1) / kCacheLine) * kCacheLine;
  void* p = std::aligned_alloc(kCacheLine, bytes == 0 ? kCacheLine : bytes);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, bytes == 0 ? kCacheLine : bytes);
  data_.reset(static_cast<double*>(p));
}

void AlignedDoubles::Free::operator()(double* p) const { std::free(p); }

SumTree::SumTree(int64_t capacity, double alpha, uint64_t seed) {
  if (capacity < 1) throw InvalidArgument("SumTree: capacity must be >= 1, got " + std::to_string(capacity));
  if (!std::isfinite(alpha) || alpha < 0.0)
    throw InvalidArgument("SumTree: alpha must be a finite number >= 0, got " + describe(alpha));
  alpha_ = alpha;
  rng_.seed(seed);
  build_levels(capacity);
}

double SumTree::weight_of(double raw) const {
  // The one place where the exponent is applied. Zero stays zero for every alpha (also 0),
  // so a zero-priority item is never drawn.
  if (raw == 0.0) return 0.0;
  if (alpha_ == 1.0) return raw;
  if (alpha_ == 0.0) return 1.0;
  if (alpha_ == 0.5) return std::sqrt(raw);
  return std::pow(raw, alpha_);
}

void SumTree::build_levels(int64_t capacity) {
  capacity_ = capacity;
  if (!leaves_are_raw()) raw_.resize(static_cast<size_t>(capacity), 0.0);
  levels_.clear();
  int64_t n = ((capacity + kFanout - 1) / kFanout) * kFanout;
  while (true) {
    levels_.emplace_back(static_cast<size_t>(n));
    if (n == kFanout) break;
    n = ((n / kFanout + kFanout - 1) / kFanout) * kFanout;
  }
}

void SumTree::rebuild_from_raw() {
  double* leaves = levels_[0].data();
  if (!leaves_are_raw())
    for (int64_t i = 0; i < size_; ++i) leaves[i] = weight_of(raw_[static_cast<size_t>(i)]);
  std::fill(leaves + size_, leaves + levels_[0].size(), 0.0);
  rebuild_upper();
}

void SumTree::rebuild_upper() {
  for (size_t l = 1; l < levels_.size(); ++l) {
    const double* child = levels_[l - 1].data();
    double* parent = levels_[l].data();
    const size_t parents_with_children = levels_[l - 1].size() / kFanout;
    for (size_t i = 0; i < parents_with_children; ++i) parent[i] = sum8(child + i * kFanout);
    std::fill(parent + parents_with_children, parent + levels_[l].size(), 0.0);
  }
}

double SumTree::total() const { return sum8(levels_.back().data()); }

void SumTree::recompute_parents(const int64_t* leaves, int64_t n) {
  // Level by level over the whole batch rather than path by path: the loads of one level are
  // independent across items, so their cache misses overlap.
  for (size_t l = 1; l < levels_.size(); ++l) {
    const double* child = levels_[l - 1].data();
    double* parent = levels_[l].data();
    const int shift = static_cast<int>(3 * l);
    const int64_t parents = static_cast<int64_t>(levels_[l - 1].size()) / kFanout;
    if (n >= parents) {
      // Near the root a batch touches every node many times over: one contiguous pass is cheaper.
      for (int64_t p = 0; p < parents; ++p) parent[p] = sum8(child + p * kFanout);
      continue;
    }
    for (int64_t k = 0; k < n; ++k) {
      const int64_t p = leaves[k] >> shift;
      parent[p] = sum8(child + p * kFanout);
    }
  }
}

void SumTree::set_leaf_and_path(int64_t leaf, double weight) {
  levels_[0][static_cast<size_t>(leaf)] = weight;
  int64_t i = leaf;
  for (size_t l = 1; l < levels_.size(); ++l) {
    i >>= 3;
    levels_[l][static_cast<size_t>(i)] = sum8(levels_[l - 1].data() + i * kFanout);
  }
}

void SumTree::validate_priorities(const char* call, const double* p, int64_t n) {
  for (int64_t k = 0; k < n; ++k) {
    const double v = p[k];
    if (!(v >= 0.0) || std::isinf(v)) {
      std::string what = std::isnan(v) ? "NaN" : (std::isinf(v) ? "infinite" : "negative");
      throw InvalidArgument(std::string(call) + ": priorities[" + std::to_string(k) + "] = " + describe(v) +
                            " is " + what + "; priorities must be finite and >= 0 (nothing was changed)");
    }
  }
}

void SumTree::validate_indices(const char* call, const int64_t* idx, int64_t n) const {
  for (int64_t k = 0; k < n; ++k) {
    const int64_t i = idx[k];
    if (static_cast<uint64_t>(i) >= static_cast<uint64_t>(size_)) {
      throw InvalidArgument(std::string(call) + ": indices[" + std::to_string(k) + "] = " + std::to_string(i) +
                            " is out of range [0, " + std::to_string(size_) + ") (nothing was changed)");
    }
  }
}

int64_t SumTree::add(const double* priorities, int64_t n) {
  if (n < 0) throw InvalidArgument("add: negative count");
  validate_priorities("add", priorities, n);
  const int64_t first = size_;
  const int64_t needed = size_ + n;
  if (needed > capacity_) {
    // Growth by rebuild: O(size) once per doubling, so O(1) amortized per item.
    AlignedDoubles old_leaves = std::move(levels_[0]);
    build_levels(std::max(needed, 2 * capacity_));
    std::copy(old_leaves.data(), old_leaves.data() + size_, levels_[0].data());
    double* leaves = levels_[0].data();
    for (int64_t k = 0; k < n; ++k) {
      if (!leaves_are_raw()) raw_[static_cast<size_t>(first + k)] = priorities[k];
      leaves[first + k] = weight_of(priorities[k]);
    }
    size_ = needed;
    rebuild_upper();
    return first;
  }
  double* leaves = levels_[0].data();
  for (int64_t k = 0; k < n; ++k) {
    if (!leaves_are_raw()) raw_[static_cast<size_t>(first + k)] = priorities[k];
    leaves[first + k] = weight_of(priorities[k]);
  }
  size_ = needed;
  if (n > 0) {
    // New items are contiguous: recompute each touched parent once per level.
    for (size_t l = 1; l < levels_.size(); ++l) {
      const int shift = static_cast<int>(3 * l);
      const int64_t lo = first >> shift, hi = (needed - 1) >> shift;
      const double* child = levels_[l - 1].data();
      double* parent = levels_[l].data();
      for (int64_t p = lo; p <= hi; ++p) parent[p] = sum8(child + p * kFanout);
    }
  }
  return first;
}

void SumTree::update(const int64_t* indices, const double* priorities, int64_t n) {
  validate_indices("update", indices, n);
  validate_priorities("update", priorities, n);
  double* leaves = levels_[0].data();
  // Touch every line the batch will write (leaf, raw priority, the first two parent levels)
  // first, so the cache misses of the whole batch overlap instead of queueing one by one.
  const bool has_l1 = levels_.size() > 1, has_l2 = levels_.size() > 2;
  for (int64_t k = 0; k < n; ++k) {
    const int64_t i = indices[k];
    __builtin_prefetch(leaves + i, 1);
    if (!leaves_are_raw()) __builtin_prefetch(raw_.data() + i, 1);
    if (has_l1) __builtin_prefetch(levels_[1].data() + (i >> 3), 1);
    if (has_l2) __builtin_prefetch(levels_[2].data() + (i >> 6), 1);
  }
  if (leaves_are_raw()) {
    for (int64_t k = 0; k < n; ++k) leaves[indices[k]] = priorities[k];
  } else {
    for (int64_t k = 0; k < n; ++k) {
      raw_[static_cast<size_t>(indices[k])] = priorities[k];
      leaves[indices[k]] = weight_of(priorities[k]);
    }
  }
  recompute_parents(indices, n);
}

void SumTree::get(const int64_t* indices, double* out, int64_t n) const {
  validate_indices("get", indices, n);
  for (int64_t k = 0; k < n; ++k) out[k] = raw_at(indices[k]);
}

void SumTree::raw_priorities(double* out) const {
  for (int64_t i = 0; i < size_; ++i) out[i] = raw_at(i);
}

int64_t SumTree::descend(double u) const {
  int64_t node = 0;
  for (size_t l = levels_.size(); l-- > 0;) {
    node = node * kFanout + pick_child(levels_[l].data() + node * kFanout, u);
  }
  return node;
}

void SumTree::sample(int64_t n, bool stratified, int64_t* out_indices, double* out_probs) {
  if (n < 0) throw InvalidArgument("sample: batch size must be >= 0, got " + std::to_string(n));
  if (n == 0) return;
  const double tot = total();
  if (!(tot > 0.0))
    throw InvalidArgument("sample: the tree has no item with a positive priority (size " + std::to_string(size_) +
                          ")");
  if (static_cast<int64_t>(scratch_u_.size()) < n) scratch_u_.resize(static_cast<size_t>(n));
  double* u = scratch_u_.data();
  if (stratified) {
    const double slice = tot / static_cast<double>(n);
    for (int64_t k = 0; k < n; ++k) u[k] = (static_cast<double>(k) + rng_.uniform()) * slice;
  } else {
    for (int64_t k = 0; k < n; ++k) u[k] = rng_.uniform() * tot;
  }
  // All draws descend together, one level at a time: the reads of one level are independent,
  // so the out-of-order core overlaps their cache misses.
  int64_t* node = out_indices;
  std::fill(node, node + n, int64_t{0});
  for (size_t l = levels_.size(); l-- > 0;) {
    const double* level = levels_[l].data();
    const double* below = l > 0 ? levels_[l - 1].data() : nullptr;
    for (int64_t k = 0; k < n; ++k) {
      node[k] = node[k] * kFanout + pick_child(level + node[k] * kFanout, u[k]);
      if (below != nullptr) __builtin_prefetch(below + node[k] * kFanout);
    }
  }
  if (out_probs != nullptr) {
    const double* leaves = levels_[0].data();
    for (int64_t k = 0; k < n; ++k) out_probs[k] = leaves[node[k]] / tot;
  }
}

int64_t SumTree::sample_without_replacement(int64_t k, int64_t* out_indices) {
  if (k < 0) throw InvalidArgument("sample_without_replacement: k must be >= 0, got " + std::to_string(k));
  if (k > size_)
    throw InvalidArgument("sample_without_replacement: k = " + std::to_string(k) + " exceeds the number of items " +
                          std::to_string(size_));
  std::vector<double> saved;
  saved.reserve(static_cast<size_t>(k));
  int64_t drawn = 0;
  // Successive sampling: draw, zero the drawn item so it cannot come again, repeat; the zeroed
  // weights are restored afterwards, so the tree is unchanged by the call.
  while (drawn < k) {
    const double tot = total();
    if (!(tot > 0.0)) break;
    const int64_t leaf = descend(rng_.uniform() * tot);
    out_indices[drawn++] = leaf;
    saved.push_back(levels_[0][static_cast<size_t>(leaf)]);
    set_leaf_and_path(leaf, 0.0);
  }
  double* leaves = levels_[0].data();
  for (int64_t t = 0; t < drawn; ++t) leaves[out_indices[t]] = saved[static_cast<size_t>(t)];
  recompute_parents(out_indices, drawn);
  const int64_t positive = drawn;
  if (drawn < k) {
    // Every positive item has been drawn; the remaining ones are the zero-weight items, taken
    // uniformly (a partial Fisher-Yates shuffle).
    std::vector<int64_t> zeros;
    for (int64_t i = 0; i < size_; ++i)
      if (leaves[i] == 0.0) zeros.push_back(i);
    const int64_t m = static_cast<int64_t>(zeros.size());
    for (int64_t t = 0; drawn < k; ++t) {
      const int64_t j = t + static_cast<int64_t>(rng_.below(static_cast<uint64_t>(m - t)));
      std::swap(zeros[static_cast<size_t>(t)], zeros[static_cast<size_t>(j)]);
      out_indices[drawn++] = zeros[static_cast<size_t>(t)];
    }
  }
  return positive;
}

void SumTree::set_alpha(double alpha) {
  if (!std::isfinite(alpha) || alpha < 0.0)
    throw InvalidArgument("set_alpha: alpha must be a finite number >= 0, got " + describe(alpha));
  if (alpha == alpha_) return;
  if (leaves_are_raw()) {
    // Leaving alpha = 1: the leaves held the raw priorities; keep them before reweighting.
    raw_.assign(levels_[0].data(), levels_[0].data() + capacity_);
  }
  alpha_ = alpha;
  if (leaves_are_raw()) {
    double* leaves = levels_[0].data();
    std::copy(raw_.begin(), raw_.begin() + size_, leaves);
    std::vector<double>().swap(raw_);
  }
  rebuild_from_raw();
}

void SumTree::clear() {
  std::fill(raw_.begin(), raw_.end(), 0.0);
  size_ = 0;
  rebuild_from_raw();
}

void SumTree::assign(const double* priorities, int64_t n) {
  if (n < 0) throw InvalidArgument("assign: negative count");
  validate_priorities("assign", priorities, n);
  if (n > capacity_) build_levels(n);
  if (leaves_are_raw()) {
    std::copy(priorities, priorities + n, levels_[0].data());
  } else {
    std::fill(raw_.begin(), raw_.end(), 0.0);
    std::copy(priorities, priorities + n, raw_.begin());
  }
  size_ = n;
  rebuild_from_raw();
}

void SumTree::rng_state(uint64_t out[4]) const { std::copy(rng_.s, rng_.s + 4, out); }

void SumTree::set_rng_state(const uint64_t state[4]) {
  if ((state[0] | state[1] | state[2] | state[3]) == 0)
    throw InvalidArgument("set_rng_state: the all-zero state is not a valid xoshiro256** state");
  std::copy(state, state + 4, rng_.s);
}

void SumTree::reseed(uint64_t seed) { rng_.seed(seed); }

double SumTree::check_consistency() const {
  double worst = 0.0;
  for (int64_t i = 0; i < static_cast<int64_t>(levels_[0].size()); ++i) {
    const double expect = i < size_ ? weight_of(raw_at(i)) : 0.0;
    if (levels_[0][static_cast<size_t>(i)] != expect) worst = std::max(worst, 1.0);
  }
  for (size_t l = 1; l < levels_.size(); ++l) {
    for (size_t i = 0; i < levels_[l].size(); ++i) {
      const double expect = (i + 1) * kFanout <= levels_[l - 1].size() ? sum8(levels_[l - 1].data() + i * kFanout) : 0.0;
      const double got = levels_[l][i];
      if (got != expect) {
        const double scale = std::max(std::fabs(expect), 1e-300);
        worst = std::max(worst, std::fabs(got - expect) / scale);
      }
    }
  }
  return worst;
}

}  // namespace codeit_sumtree
