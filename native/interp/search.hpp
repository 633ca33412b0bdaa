// Scoring many related programs on a search set's tasks with shared work: the mutation
// baseline's hot path.
//
// Programs come in groups (the mutants of one seed). A group is one "union" program whose lines
// are the distinct (callee, arguments) nodes of all its members, hash-consed by the caller so
// that a line equal to an earlier member's line (same callee, same argument nodes) is one node;
// each member is the list of its nodes in its own line order, the last one its output. On one
// input grid a node is computed at most once, however many members use it: a mutant shares
// every line with its seed except the mutated one and what depends on it.
//
// One job is one (group, task), or one group when each group names its task (group_tasks).
// Members run on the task's demonstrations in order; a member whose run on a demonstration fails
// is dead for the task (it can never be a candidate). Test inputs run only for members that are
// still alive and got at least one demonstration right (the only ones that can be candidates),
// and only when every test has a known answer.
//
// A member's run gives the status the straightforward run of its program would: its nodes'
// steps add up in its own line order, and a node whose own run failed, or that takes the
// member's running total past the step budget, ends the member there with that status (the
// step limit where the total passes it, as the step counter would have). Time and memory
// budgets are applied the same way to each node's measured time and arena bytes.
#pragma once

#include <cstdint>
#include <vector>

#include "batch.hpp"
#include "context.hpp"
#include "program.hpp"

namespace codeit {

struct SearchInputs {
  const std::vector<CompiledProgram>* groups;  // one union program per group
  const int32_t* member_offsets;  // [n_groups + 1]: members of group g are [off[g], off[g+1])
  const int32_t* node_offsets;    // [n_members + 1]: nodes of member m are nodes[off[m], off[m+1])
  const int32_t* nodes;           // node (line) indices into the member's group program
  int64_t n_members;
  const uint8_t* grid_data;       // [G, 30, 30] the search inputs
  const int32_t* grid_shapes;     // [G, 2]
  const uint8_t* target_data;     // [G, 30, 30] the known outputs
  const int32_t* target_shapes;   // [G, 2]; 0 x 0 where the output is unknown
  int64_t n_grids;
  const int32_t* task_offsets;    // [T + 1]: inputs of task t are [off[t], off[t+1]), demos first
  const int32_t* task_demos;      // [T]: demonstrations of task t
  int64_t n_tasks;
  // [n_groups] or null. Null: every group runs on every task (one job per (group, task)). Given:
  // group g runs on task group_tasks[g] alone (one job per group; the outputs of its members
  // for the other tasks are left 0), as when each task has programs of its own (codeit eval).
  const int32_t* group_tasks = nullptr;
};

// Per (member, task), member-major ([n_members, T]).
struct SearchOutputs {
  uint8_t* valid;         // ran OK on every demonstration
  uint8_t* demos_right;   // demonstrations whose output was exactly right
  uint8_t* test_correct;  // a candidate (valid, >= 1 demo right) that got every test output right
};

// Run counts by status (dsl.values.Status codes), and nodes computed.
struct SearchCounts {
  int64_t runs[8] = {};
  int64_t nodes = 0;
  void add(const SearchCounts& o) {
    for (int k = 0; k < 8; ++k) runs[k] += o.runs[k];
    nodes += o.nodes;
  }
};

// Checks the inputs (throws std::invalid_argument naming the fault), then runs every
// (group, task) job across the pool.
void run_search(ThreadPool& pool, const SearchInputs& in, const Limits& limits, const SearchOutputs& out,
                SearchCounts* counts);

}  // namespace codeit
