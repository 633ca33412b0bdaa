"""Tokens per ARC-AGI-1 evaluation task: our compact encoding against CodeIt's grid text.

    python bench/encode.py [--tasks arc1/evaluation]

For each encoding: median, p90 and max tokens per task, and the share of tasks that fit whole
(every demo pair, plus the test inputs where the format has them) in 1,024 and 2,048 tokens.
Tokens are counted with the DSL tokenizer (codeit.policy.tokenizer), which splits CodeIt's text
into numbers, words and marks; CodeIt's own CodeT5 BPE tokenizer is not on this machine.
Baselines, measured in the same run: CodeIt's layout, and plain dense digits (one token a cell).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from codeit.policy import encode as enc
from codeit.policy.tokenizer import build_tokenizer
from codeit.tasks import load_tasks
from machine import machine_info


def dense_tokens(task, include_test: bool) -> int:
    """Plain digits: marker, 'H x W', one token per cell, '|' between rows."""
    def grid(g):
        h, w = np.asarray(g).shape
        return 3 + h * w + (h - 1)
    n = sum(2 + grid(p.input) + grid(p.output) for p in task.train)
    if include_test:
        n += sum(1 + grid(p.input) for p in task.test)
    return n


def summary(name: str, counts: list[int]) -> str:
    a = np.asarray(counts)
    return (f"{name:<34} median {int(np.median(a)):>5}  p90 {int(np.percentile(a, 90)):>5}  max {a.max():>6}  "
            f"whole<=1024 {np.mean(a <= 1024):6.1%}  whole<=2048 {np.mean(a <= 2048):6.1%}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="arc1/evaluation", help="task set spec (codeit.tasks.load_tasks)")
    args = parser.parse_args()
    tasks = list(load_tasks(args.tasks))
    tok = build_tokenizer()
    count = lambda text: len(tok.encode(text).ids)

    t0 = time.perf_counter()
    compact = [enc.encode_task(t) for t in tasks]
    t_compact = time.perf_counter() - t0
    compact_demo = [enc.encode_task(t, enc.EncodeConfig(include_test=False)) for t in tasks]
    t0 = time.perf_counter()
    codeit = [enc.encode_task(t, enc.EncodeConfig(format="codeit")) for t in tasks]
    t_codeit = time.perf_counter() - t0
    # The compact token lists are what the tokenizer yields; check that on every task.
    mismatched = sum(tok.encode(e.text).tokens != list(e.tokens) for e in compact)

    ours = [len(e.tokens) for e in compact]
    ours_demo = [len(e.tokens) for e in compact_demo]
    theirs = [count(e.text) for e in codeit]
    dense = [dense_tokens(t, True) for t in tasks]
    dense_demo = [dense_tokens(t, False) for t in tasks]

    print(machine_info())
    print(f"inputs: {args.tasks}, {len(tasks)} tasks; tokens counted with the DSL tokenizer "
          f"({tok.get_vocab_size()} tokens)")
    print(summary("ours (compact, demos + test)", ours))
    print(summary("ours (compact, demos only)", ours_demo))
    print(summary("CodeIt's text (demos only)", theirs))
    print(summary("dense digits (demos + test)", dense))
    print(summary("dense digits (demos only)", dense_demo))
    print(f"ratio, median tokens, demos only: CodeIt / ours = {statistics.median(theirs) / statistics.median(ours_demo):.2f}x,"
          f" dense / ours = {statistics.median(dense_demo) / statistics.median(ours_demo):.2f}x")
    print(f"CodeIt's truncation: tasks whose input half or output half exceeds 512 tokens: "
          f"{np.mean([max(count(e.text.split(chr(10))[0]), count(e.text.split(chr(10))[1])) > 512 for e in codeit]):.1%}")
    print(f"encode time per task: compact {1e3 * t_compact / len(tasks):.2f} ms, CodeIt's {1e3 * t_codeit / len(tasks):.2f} ms")
    print(f"tokenizer check: {mismatched} tasks whose text splits differently than the encoder's tokens")
    goal = np.mean(np.asarray(ours) <= 2048)
    print(f"goal >= 95% of tasks whole at 2,048 tokens (demos + test): {goal:.1%} {'met' if goal >= 0.95 else 'NOT met'}")
    return 0 if mismatched == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
