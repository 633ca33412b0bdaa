#include "search.hpp"

#include <csetjmp>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include "functions.hpp"
#include "values.hpp"

namespace codeit {

namespace {

// The most bytes of node values a worker keeps for one input before it starts over.
constexpr size_t kKeepBytes = size_t(256) << 20;

// One node's run on the current input: computed at most once per input.
struct NodeRun {
  bool done = false;
  Status status = OK;
  int64_t steps = 0, nanos = 0, bytes = 0;
};

// Runs node k with a fresh budget (steps, deadline, memory) and records what it took.
void run_node(Ctx& c, const Limits& limits, const CompiledProgram& p, int64_t k, Value* slots, Value* argv,
              NodeRun& run) {
  c.steps = 0;
  c.depth = 0;
  c.work = 0;
  const int64_t start_ns = coarse_now_ns();
  c.deadline_ns = start_ns + int64_t(limits.time_limit * 1e9) + 1;
  const size_t start_bytes = c.arena.used();
  c.arena.set_limit(start_bytes + size_t(limits.max_memory));
  Value result = Value::none();
  const Status status = run_guarded([&] { result = run_line(c, p, k, slots, argv); });
  run.done = true;
  run.status = status;
  run.steps = c.steps;
  run.nanos = coarse_now_ns() - start_ns;
  run.bytes = int64_t(c.arena.used() - start_bytes);
  if (status == OK) slots[k + 1] = result;
}

bool same_grid(const Value& v, const uint8_t* data, const int32_t* shape) {
  const GridHdr* g = v.grid();
  if (g->h != shape[0] || g->w != shape[1]) return false;
  const uint8_t* d = reinterpret_cast<const uint8_t*>(g->data());
  for (int32_t i = 0; i < g->h; ++i)
    if (std::memcmp(d + int64_t(i) * g->w, data + i * kSide, size_t(g->w)) != 0) return false;
  return true;
}

void check_inputs(const SearchInputs& in) {
  auto bad = [](const std::string& what) { throw std::invalid_argument(what); };
  const int64_t n_groups = int64_t(in.groups->size());
  if (in.member_offsets[0] != 0 || in.member_offsets[n_groups] != in.n_members)
    bad("member_offsets must run from 0 to the number of members");
  if (in.node_offsets[0] != 0) bad("node_offsets must start at 0");
  std::vector<int64_t> seen;  // member (+1) that last listed each node of the group
  for (int64_t g = 0; g < n_groups; ++g) {
    const CompiledProgram& p = (*in.groups)[size_t(g)];
    const int64_t n_nodes = int64_t(p.lines.size());
    const int64_t m0 = in.member_offsets[g], m1 = in.member_offsets[g + 1];
    if (m0 < 0 || m1 < m0 || m1 > in.n_members) bad("member_offsets decrease or run past the members at group " + std::to_string(g));
    seen.assign(size_t(n_nodes), 0);
    for (int64_t m = m0; m < m1; ++m) {
      const int64_t a = in.node_offsets[m], b = in.node_offsets[m + 1];
      if (b <= a) bad("member " + std::to_string(m) + " has no nodes");
      for (int64_t q = a; q < b; ++q) {
        const int64_t node = in.nodes[q];
        if (node < 0 || node >= n_nodes)
          bad("member " + std::to_string(m) + ": node " + std::to_string(node) + " is not a line of group " +
              std::to_string(g));
        // Every variable the node reads must be a node this member computed before it.
        const CompiledLine& line = p.lines[size_t(node)];
        auto listed = [&](const Operand& op) { return op.slot <= 0 || seen[size_t(op.slot - 1)] == m + 1; };
        bool ok = listed(line.callee);
        for (int32_t k = 0; k < line.nargs; ++k) ok = ok && listed(p.args[size_t(line.arg_begin + k)]);
        if (!ok)
          bad("member " + std::to_string(m) + ": node " + std::to_string(node) +
              " reads a node the member does not list before it");
        seen[size_t(node)] = m + 1;
      }
    }
  }
  if (in.group_tasks)
    for (int64_t g = 0; g < n_groups; ++g)
      if (in.group_tasks[g] < 0 || in.group_tasks[g] >= in.n_tasks)
        bad("group " + std::to_string(g) + ": task " + std::to_string(in.group_tasks[g]) + " is not a task");
  for (int64_t t = 0; t < in.n_tasks; ++t) {
    const int64_t a = in.task_offsets[t], b = in.task_offsets[t + 1];
    if (a < 0 || b < a || b > in.n_grids) bad("task " + std::to_string(t) + ": inputs out of range");
    if (in.task_demos[t] < 0 || in.task_demos[t] > b - a)
      bad("task " + std::to_string(t) + ": more demonstrations than inputs");
  }
  for (int64_t g = 0; g < in.n_grids; ++g) {
    const int32_t h = in.grid_shapes[2 * g], w = in.grid_shapes[2 * g + 1];
    if (h < 1 || h > kSide || w < 1 || w > kSide)
      bad("input grid " + std::to_string(g) + " has shape " + std::to_string(h) + "x" + std::to_string(w));
    const int32_t th = in.target_shapes[2 * g], tw = in.target_shapes[2 * g + 1];
    if (!((th == 0 && tw == 0) || (th >= 1 && th <= kSide && tw >= 1 && tw <= kSide)))
      bad("target grid " + std::to_string(g) + " has shape " + std::to_string(th) + "x" + std::to_string(tw));
  }
}

}  // namespace

void run_search(ThreadPool& pool, const SearchInputs& in, const Limits& limits, const SearchOutputs& out,
                SearchCounts* counts) {
  check_inputs(in);
  Arena shared;
  Limits unlimited;
  unlimited.max_memory = int64_t(1) << 40;
  Ctx sc(shared, unlimited);
  std::vector<Value> inputs(size_t(in.n_grids));
  for (int64_t g = 0; g < in.n_grids; ++g)
    inputs[size_t(g)] = input_grid(sc, in.grid_data + g * kSide * kSide, in.grid_shapes[2 * g],
                                    in.grid_shapes[2 * g + 1]);
  std::vector<SearchCounts> per_worker(size_t(pool.size()));
  const int64_t n_tasks = in.n_tasks;
  const int64_t n_groups = int64_t(in.groups->size());
  const int64_t time_ns = int64_t(limits.time_limit * 1e9);

  const int64_t n_jobs = in.group_tasks ? n_groups : n_groups * n_tasks;
  pool.run(n_jobs, [&](int worker, int64_t job) {
    const int64_t g = in.group_tasks ? job : job / n_tasks;
    const int64_t t = in.group_tasks ? int64_t(in.group_tasks[g]) : job % n_tasks;
    const CompiledProgram& p = (*in.groups)[size_t(g)];
    const int64_t n_nodes = int64_t(p.lines.size());
    const int64_t m0 = in.member_offsets[g], m1 = in.member_offsets[g + 1];
    const int64_t first = in.task_offsets[t], n_inputs = in.task_offsets[t + 1] - first;
    const int64_t n_demo = in.task_demos[t];
    SearchCounts& count = per_worker[size_t(worker)];
    std::vector<uint8_t> alive(size_t(m1 - m0), 1), right(size_t(m1 - m0), 0), tests_ok(size_t(m1 - m0), 1);
    std::vector<NodeRun> runs(static_cast<size_t>(n_nodes));
    std::vector<Value> slots(static_cast<size_t>(n_nodes + 1));
    std::vector<Value> argv(static_cast<size_t>(p.max_args + 1));
    std::vector<int64_t> touched;
    bool answers = true;
    for (int64_t i = n_demo; i < n_inputs; ++i) answers = answers && in.target_shapes[2 * (first + i)] > 0;
    Arena& arena = pool.arena(worker);
    for (int64_t i = 0; i < n_inputs; ++i) {
      const bool demo = i < n_demo;
      if (!demo && !answers) break;
      bool any = false;
      for (int64_t m = m0; m < m1; ++m) any = any || (alive[size_t(m - m0)] && (demo || right[size_t(m - m0)] > 0));
      if (!any) break;
      const int64_t grid = first + i;
      arena.reset();
      Ctx c(arena, limits);
      for (int64_t k : touched) runs[size_t(k)] = NodeRun();
      touched.clear();
      slots[0] = inputs[size_t(grid)];
      for (int64_t m = m0; m < m1; ++m) {
        const size_t me = size_t(m - m0);
        if (!alive[me] || (!demo && right[me] == 0)) continue;
        int64_t steps = 0, nanos = 0, bytes = 0;
        Status status = OK;
        int64_t last = -1;
        for (int64_t q = in.node_offsets[m]; q < in.node_offsets[m + 1]; ++q) {
          const int64_t node = in.nodes[q];
          NodeRun& run = runs[size_t(node)];
          if (!run.done) {
            run_node(c, limits, p, node, slots.data(), argv.data(), run);
            touched.push_back(node);
            ++count.nodes;
          }
          if (run.status != OK) {
            status = steps + run.steps > limits.max_steps ? STEP_LIMIT : run.status;
            break;
          }
          steps += run.steps;
          nanos += run.nanos;
          bytes += run.bytes;
          if (steps > limits.max_steps) status = STEP_LIMIT;
          else if (nanos > time_ns) status = TIMEOUT;
          else if (bytes > limits.max_memory) status = SIZE_LIMIT;
          if (status != OK) break;
          last = node;
        }
        if (status == OK && !is_valid_arc_grid(slots[size_t(last + 1)])) status = BAD_OUTPUT;
        ++count.runs[status];
        const bool correct = status == OK && in.target_shapes[2 * grid] > 0 &&
                             same_grid(slots[size_t(last + 1)], in.target_data + grid * kSide * kSide,
                                       in.target_shapes + 2 * grid);
        if (demo) {
          if (status != OK) alive[me] = 0;
          else if (correct && right[me] < 255) ++right[me];
        } else if (!correct) {
          tests_ok[me] = 0;
        }
        // Values stay for the members after this one; past a bound they are dropped (and
        // recomputed if needed), so a large group cannot grow a worker's arena without end.
        if (arena.used() > kKeepBytes) {
          arena.reset();
          for (int64_t k : touched) runs[size_t(k)] = NodeRun();
          touched.clear();
        }
      }
    }
    for (int64_t m = m0; m < m1; ++m) {
      const size_t me = size_t(m - m0);
      const int64_t at = m * n_tasks + t;
      out.valid[at] = alive[me];
      out.demos_right[at] = right[me];
      out.test_correct[at] = uint8_t(alive[me] && right[me] > 0 && answers && tests_ok[me]);
    }
  });
  if (counts) {
    *counts = SearchCounts();
    for (const SearchCounts& w : per_worker) counts->add(w);
  }
}

}  // namespace codeit
