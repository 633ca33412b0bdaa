"""A toy policy for tests and benchmarks: tiny, trained for seconds, so that it writes programs.

A freshly initialised model almost never emits eos, so every sample would run to
``max_new_tokens``; a few optimiser steps on a handful of (prompt, program) pairs teach it the
shape of a program and when to stop. This is not a useful policy, only a realistic workload.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from codeit.policy.model import Policy, PolicyConfig, create_policy

TOY_CONFIG = PolicyConfig(hidden_size=64, num_layers=2, num_heads=1, intermediate_size=128, max_positions=1024)
"""Tiny: about 0.1M parameters; head size 64 suits vLLM's CPU attention."""

TOY_PROGRAMS = (
    "x1 = rot90(I)\nO = hmirror(x1)\n",
    "x1 = objects(I, T, F, T)\nx2 = argmax(x1, size)\nO = subgrid(x2, I)\n",
    "x1 = mostcolor(I)\nx2 = ofcolor(I, x1)\nO = fill(I, ZERO, x2)\n",
    "O = vmirror(I)\n",
)
TOY_PROMPTS = (
    "<in> 2 x 2 1 2 | 3 4 <out> 2 x 2 3 1 | 4 2",
    "<in> 3 x 3 bg 0 ; 5 r1 1 <out> 1 x 1 5",
    "<in> 2 x 3 1 *3 | 2 1 1 <out> diff ; 0 r0 1 2",
    "<in> 1 x 3 1 2 3 <out> 1 x 3 3 2 1",
)


def toy_policy(config: PolicyConfig = TOY_CONFIG, steps: int = 150, lr: float = 5e-3, seed: int = 0) -> Policy:
    """A tiny policy trained ``steps`` optimiser steps on ``TOY_PROMPTS`` -> ``TOY_PROGRAMS``."""
    import torch

    policy = create_policy(replace(config, seed=seed))
    examples = [policy.format.training_ids(p, q) for p, q in zip(TOY_PROMPTS, TOY_PROGRAMS)]
    pad = policy.format.pad_id

    def padded(key: str, fill: int):
        width = max(len(e[key]) for e in examples)
        return torch.tensor([e[key] + [fill] * (width - len(e[key])) for e in examples])

    # Right padding is fine for teacher forcing: the mask hides the pads, -100 drops their loss.
    ids = padded("input_ids", pad)
    mask = (padded("input_ids", -1) != -1).long()
    labels = padded("labels", -100)
    model = policy.model
    model.train()
    torch.manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    # Ops this small are fastest on one thread; on a shared machine more threads spin and wait.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(steps):
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    finally:
        torch.set_num_threads(threads)
    model.eval()
    return policy


def save_toy_policy(path: str | Path, **kwargs) -> Policy:
    """``toy_policy(**kwargs)`` saved into the folder ``path``."""
    policy = toy_policy(**kwargs)
    policy.save(path)
    return policy
