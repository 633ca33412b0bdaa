"""How a run turns a task into a prompt: the same settings when sampling and when training.

Prompts hold the demo pairs only (CodeIt's layout): a relabeled experience has no test input of
its own, so the policy is trained and sampled on the same kind of text.
"""

from __future__ import annotations

import numpy as np

from codeit.run.config import RunConfig
from codeit.policy.encode import EncodeConfig, encode_task
from codeit.tasks import Pair, Task


def encode_config(prompt_format, config: RunConfig) -> EncodeConfig:
    """``prompt_format``: the policy's ``model.PromptFormat``."""
    return EncodeConfig(
        format=prompt_format.encode_format,
        max_tokens=config.sampling.max_prompt_tokens,
        include_test=False,
        max_pairs=1 if config.ablation.one_demo else None,
    )


def prompt_text(prompt_format, task, config: RunConfig) -> str:
    """The prompt text of ``task`` for a policy of ``prompt_format`` (what training reads)."""
    return encode_task(task, encode_config(prompt_format, config), prompt_format.count_tokens).text


def experience_task(experience) -> Task:
    """The relabeled task an experience stands for: its inputs with the outputs its program realized."""
    pairs = tuple(
        Pair(np.asarray(i, dtype=np.uint8), np.asarray(o, dtype=np.uint8))
        for i, o in zip(experience.inputs, experience.outputs)
    )
    return Task(experience.task_id, pairs, ())


def max_sequence_tokens(config: RunConfig) -> int:
    """Prompt budget, program budget and the few special tokens around them."""
    return config.sampling.max_prompt_tokens + config.sampling.max_new_tokens + 4
