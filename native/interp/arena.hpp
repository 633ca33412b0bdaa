// Per-job bump allocator. Every value a job builds lives here until the job ends; values are
// immutable, so nothing is freed one by one. A job's memory is capped (past the cap the job
// ends with SIZE_LIMIT), and HOF loops whose intermediate results are garbage (a filter's
// predicate results, an argmax's int keys) roll the arena back to a mark.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

#include "value.hpp"

namespace codeit {

// Cache-line aligned: each worker's arena is written on every allocation, and two arenas on
// one line would make the workers' cores fight over it.
class alignas(64) Arena {
 public:
  static constexpr size_t kChunk = size_t(1) << 16;
  // Chunks kept across jobs; a job that needed more gives the rest back when it ends.
  static constexpr size_t kRetain = size_t(32) << 20;

  struct Mark {
    size_t chunk, offset, used;
  };

  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena() {
    for (Chunk& c : chunks_) std::free(c.data);
  }

  void set_limit(size_t bytes) { limit_ = bytes; }

  void* alloc(size_t bytes) {
    bytes = (bytes + 15) & ~size_t(15);
    if (!chunks_.empty() && offset_ + bytes <= chunks_[cur_].cap) {
      void* p = chunks_[cur_].data + offset_;
      offset_ += bytes;
      used_ += bytes;
      return p;
    }
    return alloc_slow(bytes);
  }

  template <class T>
  T* alloc_array(size_t n) {
    return static_cast<T*>(alloc(n * sizeof(T)));
  }

  Mark mark() const { return Mark{cur_, offset_, used_}; }
  void release(const Mark& m) {
    cur_ = m.chunk;
    offset_ = m.offset;
    used_ = m.used;
  }

  // Forget every allocation; keep up to kRetain bytes of chunks for the next job.
  void reset() {
    size_t kept = 0, k = 0;
    for (; k < chunks_.size(); ++k) {
      if (kept + chunks_[k].cap > kRetain) break;
      kept += chunks_[k].cap;
    }
    for (size_t r = k; r < chunks_.size(); ++r) std::free(chunks_[r].data);
    chunks_.resize(k);
    cur_ = 0;
    offset_ = 0;
    used_ = 0;
  }

  size_t used() const { return used_; }

 private:
  struct Chunk {
    char* data;
    size_t cap;
  };

  void* alloc_slow(size_t bytes) {
    if (used_ + bytes > limit_) fail(SIZE_LIMIT);
    // Waste the rest of the current chunk; move to the next kept chunk if it is big enough,
    // else put a fresh one there.
    size_t next = chunks_.empty() ? 0 : cur_ + 1;
    if (next >= chunks_.size() || chunks_[next].cap < bytes) {
      size_t cap = bytes > kChunk ? bytes : kChunk;
      char* data = static_cast<char*>(std::malloc(cap));
      if (data == nullptr) fail(SIZE_LIMIT);
      chunks_.insert(chunks_.begin() + static_cast<std::ptrdiff_t>(next), Chunk{data, cap});
    }
    cur_ = next;
    offset_ = bytes;
    used_ += bytes;
    return chunks_[cur_].data;
  }

  std::vector<Chunk> chunks_;
  size_t cur_ = 0;
  size_t offset_ = 0;
  size_t used_ = 0;
  size_t limit_ = size_t(1) << 30;
};

}  // namespace codeit
