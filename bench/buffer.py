"""Replay-buffer benchmark: the native sum tree against a numpy baseline (and TorchRL / cpprb
when importable), all in one run, plus the SQLite experience store's append throughput.

    python bench/buffer.py                 # 1e6 items, batch 256
    python bench/buffer.py --items 100000 --calls 500

Every latency is the median over many calls of one Python call (so it includes the call
overhead), timed with perf_counter around that call only; the fresh random values each call
uses are made before the clock starts. Targets: sample(256) <= 60 us, update(256) <= 15 us,
store append >= 50,000 experiences/s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from codeit.buffer.replay import BufferConfig, ReplayBuffer
from codeit.buffer.store import Experience, ExperienceStore
from codeit.buffer.sumtree import SumTree
from machine import machine_info

TARGET_SAMPLE_US = 60.0
TARGET_UPDATE_US = 15.0
TARGET_APPEND_PER_S = 50_000.0


def median_us(fn, calls: int, make_args=None, warmup: int = 20) -> float:
    """Median latency of fn(*make_args()) in microseconds; make_args runs outside the clock."""
    times = []
    for k in range(warmup + calls):
        args = make_args() if make_args is not None else ()
        t0 = time.perf_counter()
        fn(*args)
        t1 = time.perf_counter()
        if k >= warmup:
            times.append(t1 - t0)
    return statistics.median(times) * 1e6


class NumpyBaseline:
    """The straightforward numpy prioritized sampler: a flat priority array; sampling takes a
    cumulative sum (priorities change between calls, so it cannot be kept) and searchsorted;
    updates are fancy-index assignments."""

    def __init__(self, priorities: np.ndarray, seed: int):
        self.p = priorities.copy()
        self.rng = np.random.default_rng(seed)

    def sample(self, n: int) -> np.ndarray:
        c = np.cumsum(self.p)
        return np.searchsorted(c, self.rng.random(n) * c[-1], side="right")

    def update(self, idx: np.ndarray, values: np.ndarray) -> None:
        self.p[idx] = values


def bench_tree(args, rng) -> dict[str, float]:
    n, batch, calls = args.items, args.batch, args.calls
    priorities = rng.random(n) + 1e-3
    results: dict[str, float] = {}

    tree = SumTree(capacity=n, alpha=1.0, seed=args.seed)
    tree.add(priorities)
    fresh = lambda: (rng.integers(0, n, batch), rng.random(batch) + 1e-3)  # noqa: E731
    results["ours sample"] = median_us(lambda: tree.sample(batch), calls)
    results["ours sample stratified"] = median_us(lambda: tree.sample(batch, stratified=True), calls)
    out = np.empty(batch, np.int64)
    results["ours sample_into"] = median_us(lambda: tree.sample_into(out), calls)
    results["ours update"] = median_us(tree.update, calls, fresh)
    assert tree.check_consistency() == 0.0

    tree_alpha = SumTree(capacity=n, alpha=0.6, seed=args.seed)
    tree_alpha.add(priorities)
    results["ours sample (alpha 0.6)"] = median_us(lambda: tree_alpha.sample(batch), calls)
    results["ours update (alpha 0.6)"] = median_us(tree_alpha.update, calls, fresh)

    base = NumpyBaseline(priorities, args.seed)
    base_calls = max(20, calls // 20)  # each numpy sample is O(n); fewer calls keep the run short
    results["numpy sample"] = median_us(lambda: base.sample(batch), base_calls, warmup=3)
    results["numpy update"] = median_us(base.update, calls, fresh)

    k = min(args.without_replacement, n)
    t0 = time.perf_counter()
    idx, _ = tree.sample_without_replacement(k)
    results[f"ours without replacement k={k} (ms)"] = (time.perf_counter() - t0) * 1e3
    assert np.unique(idx).size == k

    try:
        import torch  # noqa: F401
        from torchrl.data.replay_buffers.samplers import PrioritizedSampler  # noqa: F401
        from torchrl._torchrl import SumSegmentTreeFp64
    except Exception:  # noqa: BLE001 - optional comparison, skipped silently
        SumSegmentTreeFp64 = None
    if SumSegmentTreeFp64 is not None:
        try:
            st = SumSegmentTreeFp64(n)
            st[np.arange(n)] = priorities
            results["torchrl sample"] = median_us(
                lambda: st.scan_lower_bound(rng.random(batch) * st.query(0, n)), calls
            )
            results["torchrl update"] = median_us(lambda i, v: st.__setitem__(i, v), calls, fresh)
        except Exception as err:  # noqa: BLE001 - an API drift in the optional comparison
            print(f"(torchrl comparison skipped: {err})")

    try:
        import cpprb
    except Exception:  # noqa: BLE001 - optional comparison, skipped silently
        cpprb = None
    if cpprb is not None:
        try:
            rb = cpprb.PrioritizedReplayBuffer(n, {"x": {"shape": 1}}, alpha=1.0)
            rb.add(x=np.zeros((n, 1)), priorities=priorities)
            results["cpprb sample"] = median_us(lambda: rb.sample(batch, beta=0.0), calls)
            results["cpprb update"] = median_us(rb.update_priorities, calls, fresh)
        except Exception as err:  # noqa: BLE001 - an API drift in the optional comparison
            print(f"(cpprb comparison skipped: {err})")
    return results


def realistic_experiences(rng, count: int, start: int) -> list[Experience]:
    grid = lambda: tuple(tuple(row) for row in rng.integers(0, 10, (10, 10)).tolist())  # noqa: E731
    inputs = [grid() for _ in range(3)]
    program = "\n".join(f"x{j} = objects(I, T, F, T)" for j in range(1, 10)) + "\nO = x9"
    return [
        Experience(
            task_id=f"task{(start + i) % 400}",
            origin="policy",
            program=f"{program}\n# {start + i}",
            inputs=inputs,
            outputs=[grid() for _ in range(3)],
            demo_accuracy=1.0,
            priority=1.0,
            iteration=1,
        )
        for i in range(count)
    ]


def bench_store(args, rng) -> dict[str, float]:
    results: dict[str, float] = {}
    batches = [realistic_experiences(rng, args.append_batch, b * args.append_batch) for b in range(args.append_batches)]
    wall_rates, cpu_rates = [], []
    for repeat in range(args.append_repeats):
        with tempfile.TemporaryDirectory() as tmp:
            store = ExperienceStore(Path(tmp) / "store.db")
            t0, c0 = time.perf_counter(), time.process_time()
            inserted = sum(store.add_experiences(b) for b in batches)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            assert inserted == args.append_batch * args.append_batches
            wall_rates.append(inserted / wall)
            cpu_rates.append(inserted / cpu)
            store.close()
    # Median over fresh stores; the per-CPU-second rate shows what a core of our own would give
    # on a machine shared with other work.
    results["store append (experiences/s)"] = statistics.median(wall_rates)
    results["store append (experiences per CPU-second)"] = statistics.median(cpu_rates)
    with tempfile.TemporaryDirectory() as tmp:
        store = ExperienceStore(Path(tmp) / "store.db")
        for b in batches:
            store.add_experiences(b)
        store.close()

        t0 = time.perf_counter()
        buf = ReplayBuffer(Path(tmp) / "store.db", BufferConfig(seed=args.seed))
        results["buffer open + refresh of the store (ms)"] = (time.perf_counter() - t0) * 1e3
        half = max(1, buf.size("policy") // 2)
        results[f"buffer draw_without_replacement({half:,}) us"] = median_us(
            lambda: buf.draw_without_replacement({"policy": half}), 20)
        ids = buf.draw_without_replacement({"policy": 256})["policy"]
        results["buffer experiences(256) decoded us"] = median_us(lambda: buf.experiences(ids), 50)
        buf.close()
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--without-replacement", type=int, default=100_000)
    parser.add_argument("--append-batch", type=int, default=1000)
    parser.add_argument("--append-batches", type=int, default=20)
    parser.add_argument("--append-repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    print(machine_info(numpy=np.__version__))
    print(
        f"inputs: {args.items:,} items, priorities uniform in [0.001, 1.001), batch {args.batch}, "
        f"{args.calls} timed calls, fresh random indices/priorities every update call; "
        f"store: {args.append_repeats} x {args.append_batches} batches of {args.append_batch} experiences "
        "(3 input + 3 output 10x10 grids, a 10-line program), one transaction per batch"
    )
    rng = np.random.default_rng(args.seed)
    tree = bench_tree(args, rng)
    store = bench_store(args, rng)

    print("\nsum tree (median us per call, Python call included)")
    for name, value in tree.items():
        print(f"  {name:<42} {value:10.1f}")
    print("\nratios (baseline / ours; > 1 means ours is faster)")
    print(f"  sample: numpy / ours = {tree['numpy sample'] / tree['ours sample']:.1f}x")
    print(f"  update: numpy / ours = {tree['numpy update'] / tree['ours update']:.2f}x")
    for other in ("torchrl", "cpprb"):
        if f"{other} sample" in tree:
            print(f"  sample: {other} / ours = {tree[f'{other} sample'] / tree['ours sample']:.2f}x")
            print(f"  update: {other} / ours = {tree[f'{other} update'] / tree['ours update']:.2f}x")
    print("\nstore and buffer")
    for name, value in store.items():
        print(f"  {name:<46} {value:12,.1f}")

    checks = [
        ("sample(256) us", tree["ours sample"], TARGET_SAMPLE_US, tree["ours sample"] <= TARGET_SAMPLE_US),
        ("update(256) us", tree["ours update"], TARGET_UPDATE_US, tree["ours update"] <= TARGET_UPDATE_US),
        (
            "store append /s",
            store["store append (experiences/s)"],
            TARGET_APPEND_PER_S,
            store["store append (experiences/s)"] >= TARGET_APPEND_PER_S,
        ),
    ]
    print("\ntargets")
    for name, value, target, ok in checks:
        print(f"  {name:<18} {value:12,.1f}  target {target:10,.0f}  {'met' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
