"""Learner throughput: the trainer as it was (padded, fp32) against the fast one, on the run's own batches.

    python bench/learn.py                  # baseline, fast, and each idea on its own
    python bench/learn.py --quick          # baseline and fast only
    python bench/learn.py --compile        # add torch.compile (minutes of compiling on a small CPU)
    python bench/learn.py --json           # one JSON object instead of the table

The examples are what the learner trains on in the warm-up of a ``tiny`` run (``make_config("tiny")``:
a new Llama policy, hidden 128, 2 layers): the initial buffer (every seed program on its ARC-AGI-1
training task, plus ``initial_mutants`` relabelled mutants, built by ``codeit.search.initial`` as the
driver builds it) in a temporary experience store, drawn by ``codeit.train.learner.draw_examples``,
encoded with the run's prompt settings, too-long ones skipped as the learner skips them. The model
is that run's policy, freshly initialised; every variant starts from the same weights.

Timing: the examples are cut into chunks (``--chunk`` examples, whole batches); round r trains
every variant on chunk r, one ``train()`` call each from the initial weights, so a burst of load
from elsewhere on a shared machine hits all variants alike. A first untimed round on chunk 0 pays
one-time costs (kernel building, page faults, compiling) and is reported as ``first call``.
Tokens/s is prompt plus program tokens (no padding) over wall time, summed over the rounds; the
ratio is against the baseline's. CPU seconds of the process are reported beside wall time.

Loss: the baseline and the fast trainer then each train one uninterrupted pass (``--loss-epochs``)
over all examples from the same weights with the same seed, as the learner's warm-up does, and the
per-step losses (mean per program token) are compared at equal steps.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from machine import machine_info


def build_examples(config, policy, cache: str | None = None):
    """The warm-up draw of a fresh default run, as ``Example``s, and a description of where it came from."""
    from codeit.train.trainer import Example

    if cache and Path(cache).is_file():
        data = json.loads(Path(cache).read_text())
        return [Example(p, q) for p, q in data["examples"]], data["source"]

    from codeit.buffer.replay import BufferConfig, ReplayBuffer
    from codeit.buffer.store import ExperienceStore
    from codeit.execute.backends import make_executor
    from codeit.search import initial
    from codeit.train.learner import draw_examples

    t0 = time.perf_counter()
    seeds, tasks = initial.load_seed_set(config.seed_dirs, config.seed_tasks)
    ex = config.execution
    executor = make_executor(ex.backend, limits=ex.limits, threads=ex.threads)
    with tempfile.TemporaryDirectory(prefix="codeit-bench-learn-") as folder:
        path = Path(folder) / "experience.db"
        store = ExperienceStore(path)
        built = initial.build_initial_buffer(store, seeds, tasks, executor, np.random.default_rng(config.seed),
                                             config.initial_mutants)
        store.close()
        alpha = 0.0 if config.ablation.uniform_priorities else 1.0
        buffer = ReplayBuffer(path, BufferConfig(alpha=alpha, seed=config.seed))
        try:
            examples, drawn = draw_examples(buffer, policy, config)
        finally:
            buffer.close()
    source = (f"initial buffer of {built.seeds} seeds + {built.mutants} mutants ({config.seed_tasks}), "
              f"learner draw {drawn}, built in {time.perf_counter() - t0:.0f} s")
    if cache:
        Path(cache).write_text(json.dumps({"source": source, "examples": [[e.prompt, e.program] for e in examples]}))
    return examples, source


@dataclasses.dataclass
class Variant:
    name: str
    idea: str
    """What it measures."""
    settings: dict
    """Keyword arguments of ``train`` beyond lr and batch size."""
    threads: int
    batch_size: int
    lr: float
    tokens: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    first_call: float = math.nan
    losses: list = dataclasses.field(default_factory=list)
    """Mean loss of each round."""

    @property
    def tokens_s(self) -> float:
        return self.tokens / self.wall if self.wall else math.nan


def variants(args, threads: int, batch: int, lr: float) -> list[Variant]:
    base = Variant("baseline", "the trainer as it was: padded batches, fp32, transformers forward",
                   dict(packing=False, precision="fp32", fused=False), threads, batch, lr)
    fast = Variant("fast", f"the default: packed, fused Llama step, bf16 where native, batch split "
                   f"between {threads} worker thread(s)", {}, threads, batch, lr)
    compiled = Variant("compile", "(iv) torch.compile(dynamic=True) of the transformers forward, packed+bf16",
                       dict(packing=True, precision="bf16", fused=False, compile=True), threads, batch, lr)
    if args.quick:
        return [base, fast] + ([compiled] if args.compile else [])
    out = [
        base,
        Variant("packed", "(i) packing alone: no padding, per-example attention, fp32, transformers forward",
                dict(packing=True, precision="fp32", fused=False), threads, batch, lr),
        Variant("bf16", "(iii) bf16 autocast alone: padded batches, transformers forward",
                dict(packing=False, precision="bf16", fused=False), threads, batch, lr),
        Variant("packed+bf16", "(i)+(iii) through the transformers forward",
                dict(packing=True, precision="bf16", fused=False), threads, batch, lr),
        Variant("fused fp32", "packed, fused step (last layer only where the loss reads it, attention by "
                "groups of examples in causal blocks), fp32", dict(precision="fp32"), threads, batch, lr),
        fast,
    ]
    if threads > 1:
        out.append(Variant("fast omp", f"(ii) fast, one worker whose ops use {threads} torch threads",
                           dict(workers=1), threads, batch, lr))
    other = 1 if threads != 1 else 2
    out += [
        Variant(f"fast {other}t", f"(ii) fast at {other} torch thread(s)", {}, other, batch, lr),
        Variant(f"baseline {other}t", f"(ii) the baseline at {other} torch thread(s)",
                dict(packing=False, precision="fp32", fused=False), other, batch, lr),
    ]
    for factor in (2, 4):
        out.append(Variant(f"fast batch {batch * factor}", f"(v) batch x{factor}, lr x{math.sqrt(factor):.2f} "
                           "(square-root scaling)", {}, threads, batch * factor, lr * math.sqrt(factor)))
    if args.compile:
        out.append(compiled)
    return out


def run_once(policy, init, v: Variant, examples, max_seq_len: int, seed: int, progress=None):
    from codeit.train.trainer import train

    policy.model.load_state_dict(init)
    torch.set_num_threads(v.threads)
    wall, cpu = time.perf_counter(), time.process_time()
    stats = train(policy, examples, lr=v.lr, batch_size=v.batch_size, max_seq_len=max_seq_len, seed=seed,
                  progress=progress, **v.settings)
    return stats, time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk", type=int, default=192, help="examples per timed round (a multiple of the batch)")
    parser.add_argument("--rounds", type=int, default=0, help="timed rounds (0: as many chunks as the examples fill)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: as the learner, cpu_threads or one per core)")
    parser.add_argument("--interop", type=int, default=0, help="torch inter-op threads (0: torch's default)")
    parser.add_argument("--loss-epochs", type=int, default=1, help="epochs of the loss comparison (0: skip it)")
    parser.add_argument("--quick", action="store_true", help="baseline and fast only")
    parser.add_argument("--compile", action="store_true", help="also torch.compile (slow to compile)")
    parser.add_argument("--cache", help="keep the drawn examples in this JSON file and reuse them")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.interop:
        torch.set_num_interop_threads(args.interop)

    import transformers

    from codeit.policy.model import create_policy, describe
    from codeit.run.config import make_config
    from codeit.run.prompts import max_sequence_tokens
    from codeit.train.trainer import bf16_native, resolve_precision

    config = make_config("tiny")
    policy = create_policy(dataclasses.replace(config.policy.architecture, seed=config.seed))
    init = {k: v.clone() for k, v in policy.model.state_dict().items()}
    examples, source = build_examples(config, policy, args.cache)
    max_seq_len = max_sequence_tokens(config)
    rows = [policy.format.training_ids(e.prompt, e.program) for e in examples]
    kept = [e for e, r in zip(examples, rows) if len(r["input_ids"]) <= max_seq_len]
    lengths = np.array([len(r["input_ids"]) for r in rows if len(r["input_ids"]) <= max_seq_len])
    program_tokens = sum(sum(1 for t in r["labels"] if t != -100) for r in rows if len(r["input_ids"]) <= max_seq_len)
    threads = args.threads or config.learner.cpu_threads or max(1, os.cpu_count() or 1)
    batch, lr = config.learner.batch_size, config.learner.lr
    chunk = max(batch, args.chunk // batch * batch)
    n_rounds = args.rounds or max(1, len(kept) // chunk)
    chunks = [kept[(r * chunk) % len(kept):][:chunk] for r in range(n_rounds)]
    vs = variants(args, threads, batch, lr)

    info = describe(policy)
    out = {
        "machine": machine_info(torch=torch.__version__, transformers=transformers.__version__),
        "inputs": {
            "source": source, "examples": len(examples), "trained": len(kept), "skipped": len(examples) - len(kept),
            "tokens": int(lengths.sum()), "program_tokens": int(program_tokens),
            "length_mean": float(lengths.mean()), "length_max": int(lengths.max()),
            "model": f"{info['arch']} {info['parameters']:,} parameters (hidden {config.policy.architecture.hidden_size}, "
                     f"{config.policy.architecture.num_layers} layers, {config.policy.architecture.num_heads} heads)",
            "batch": batch, "lr": lr, "max_seq_len": max_seq_len, "threads": threads,
            "interop_threads": torch.get_num_interop_threads(),
            "bf16_native": bf16_native("cpu"), "fast_precision": resolve_precision("auto", "cpu"),
            "rounds": n_rounds, "chunk": chunk,
        },
    }
    say = (lambda *a, **k: None) if args.json else (lambda *a, **k: print(*a, **k, flush=True))
    say(out["machine"])
    inp = out["inputs"]
    say(f"inputs: {inp['source']}\n  {inp['trained']} examples trained ({inp['skipped']} too long for "
        f"{max_seq_len} tokens), {inp['tokens']:,} tokens ({inp['program_tokens']:,} program tokens with loss), "
        f"length mean {inp['length_mean']:.0f} max {inp['length_max']}\n  {inp['model']}, batch {batch}, lr {lr}, "
        f"{threads} torch threads, {inp['interop_threads']} inter-op threads, bf16 native: {inp['bf16_native']}\n"
        f"  {n_rounds} timed rounds of {chunk} examples after one warm-up round; every variant from the same weights")

    for v in vs:
        stats, wall, _ = run_once(policy, init, v, chunks[0], max_seq_len, config.seed)
        v.first_call = wall
        say(f"  warm-up {v.name:<16} {wall:6.1f} s", file=sys.stderr)
    for r, part in enumerate(chunks):
        line = []
        for v in vs:
            stats, wall, cpu = run_once(policy, init, v, part, max_seq_len, config.seed + r)
            v.tokens += stats.tokens
            v.wall += wall
            v.cpu += cpu
            v.losses.append(stats.mean_loss)
            line.append(f"{v.name} {stats.tokens / wall:,.0f}")
        say(f"  round {r}: " + " | ".join(line) + " tokens/s", file=sys.stderr)

    base = vs[0]
    say(f"\n{'variant':<18}{'tokens/s':>10}{'ratio':>8}{'cpu s/Mtok':>12}{'first call':>12}{'loss':>9}{'Δloss':>9}  idea")
    rows_out = []
    for v in vs:
        ratio = v.tokens_s / base.tokens_s
        dloss = float(np.mean(np.array(v.losses) - np.array(base.losses)))
        row = {"name": v.name, "idea": v.idea, "settings": v.settings, "threads": v.threads, "batch": v.batch_size,
               "lr": v.lr, "tokens": v.tokens, "wall_s": v.wall, "cpu_s": v.cpu, "tokens_s": v.tokens_s,
               "ratio": ratio, "first_call_s": v.first_call, "mean_loss": float(np.mean(v.losses)),
               "mean_loss_minus_baseline": dloss}
        rows_out.append(row)
        say(f"{v.name:<18}{v.tokens_s:>10,.0f}{ratio:>7.2f}x{1e6 * v.cpu / v.tokens:>12.1f}{v.first_call:>11.1f}s"
            f"{row['mean_loss']:>9.4f}{dloss:>+9.4f}  {v.idea}")
    out["variants"] = rows_out
    fast = next(v for v in vs if v.name == "fast")
    out["ratio"] = fast.tokens_s / base.tokens_s
    say(f"\nratio fast / baseline: {out['ratio']:.2f}x tokens/s "
        f"({fast.tokens_s:,.0f} vs {base.tokens_s:,.0f}, {threads} threads)")

    if args.loss_epochs:
        curves = {}
        for v in (base, fast):
            steps: list[float] = []
            stats, wall, _ = run_once(policy, init, dataclasses.replace(v, settings={**v.settings, "epochs": args.loss_epochs}),
                                      kept, max_seq_len, config.seed, progress=lambda i, n, loss: steps.append(loss))
            curves[v.name] = {"steps": stats.steps, "mean_loss": stats.mean_loss, "final_loss": stats.final_loss,
                              "tokens_s": stats.tokens / wall, "seconds": wall, "losses": steps}
        a, b = np.array(curves["baseline"]["losses"]), np.array(curves["fast"]["losses"])
        diff = np.abs(a - b)
        out["loss"] = {"epochs": args.loss_epochs, **{k: {x: y for x, y in c.items() if x != "losses"} for k, c in curves.items()},
                       "max_abs_diff": float(diff.max()), "mean_abs_diff": float(diff.mean()),
                       "mean_rel_diff": float(np.mean(diff / a))}
        say(f"\nloss at equal steps, {args.loss_epochs} epoch(s) over all {len(kept)} examples ({len(a)} steps each):")
        for k, c in curves.items():
            say(f"  {k:<9} mean {c['mean_loss']:.4f}  final {c['final_loss']:.4f}  {c['tokens_s']:,.0f} tokens/s  {c['seconds']:.1f} s")
        say(f"  per-step |baseline - fast|: mean {diff.mean():.5f} ({out['loss']['mean_rel_diff']:.3%}), max {diff.max():.5f}")
    if args.json:
        print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
