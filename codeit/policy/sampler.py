"""The sampler interface: prompts in, program texts with log-probabilities out.

A narrow client interface in the spirit of vLLM's ``LLM.generate``: a batch of prompts (token ids,
or task encodings as text) and one ``SamplingConfig``; back come, per prompt, ``n`` ``Sample``s.
Two backends implement it: ``hf_sampler.HFSampler`` (transformers ``generate``, every policy) and
``vllm_sampler.VLLMSampler`` (an in-process vLLM engine, decoder-only policies);
``backends.open_sampler`` opens one by name.

A sample's ``logprob`` is the sum, over the tokens it generated (its closing eos included), of
the token's log-probability under the policy itself: the softmax of the raw logits, before
temperature, top-k, top-p or constraints reshape the sampling distribution. Both backends report
this same quantity (vLLM's ``raw_logprobs``), so their numbers compare.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from codeit.policy.encode import EncodeConfig, encode_task

@dataclass(frozen=True)
class SamplingConfig:
    """How many programs to draw per prompt, and how."""

    n: int = 24
    """Samples per prompt."""
    temperature: float = 1.0
    """Softmax temperature; 0 means greedy decoding (then the n samples are the same program)."""
    top_k: int = 0
    """Sample only among the k most likely tokens; 0 turns it off."""
    top_p: float = 1.0
    """Nucleus sampling: the smallest set of tokens whose probability reaches top_p; 1.0 turns it off."""
    max_new_tokens: int = 256
    """Most tokens generated per sample (its eos included); a sample cut here has finished=False."""
    seed: int | None = 0
    """Seed of the draw: the same seed, prompts and weights give the same samples; None draws fresh."""
    constrained: bool = False
    """Mask tokens so that every sample is a program that parses (``constrained.DSLGrammar``, on
    either backend); needs the DSL tokenizer."""
    prompts_per_batch: int = 8
    """Prompts per generate call in the transformers backend (batch rows = this times n)."""

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"SamplingConfig.n must be at least 1, got {self.n}")
        if self.temperature < 0:
            raise ValueError(f"SamplingConfig.temperature must be >= 0, got {self.temperature}")
        if self.top_k < 0:
            raise ValueError(f"SamplingConfig.top_k must be >= 0 (0 = off), got {self.top_k}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"SamplingConfig.top_p must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            raise ValueError(f"SamplingConfig.max_new_tokens must be at least 1, got {self.max_new_tokens}")
        if self.prompts_per_batch < 1:
            raise ValueError(f"SamplingConfig.prompts_per_batch must be at least 1, got {self.prompts_per_batch}")


@dataclass(frozen=True)
class Sample:
    """One sampled program."""

    text: str
    """The program text, decoded up to (not including) the eos."""
    logprob: float
    """Sum of the policy's log-probabilities of the generated tokens, eos included."""
    token_ids: tuple[int, ...]
    """The generated token ids, eos included when the sample finished."""
    finished: bool
    """Whether the sample ended with eos (False: cut at max_new_tokens)."""

    @property
    def n_tokens(self) -> int:
        return len(self.token_ids)


class Sampler(abc.ABC):
    """Draws programs from a policy. Use as a context manager, or call ``close``."""

    format: Any
    """The policy's ``model.PromptFormat``: how prompts are built and programs decoded."""

    @abc.abstractmethod
    def sample(self, prompts: Sequence[Any], config: SamplingConfig = SamplingConfig()) -> list[list[Sample]]:
        """``config.n`` samples for each prompt, in prompt order.

        A prompt is a list of token ids (``format.prompt_ids``) or a task encoding's text.
        """

    @abc.abstractmethod
    def load_weights(self, path: str) -> None:
        """Serve the weights saved at ``path`` (same architecture and tokenizer) from now on."""

    def close(self) -> None:
        """Release the model or engine."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def max_positions(self) -> int | None:
        """Longest prompt plus program this sampler's model takes, when it has such a limit."""
        return None

    def prompt_ids(self, prompt: Any) -> list[int]:
        """A prompt as token ids (text goes through the policy's prompt format)."""
        if isinstance(prompt, str):
            return self.format.prompt_ids(prompt)
        return [int(t) for t in prompt]

    def task_prompts(self, tasks: Iterable[Any], config: SamplingConfig = SamplingConfig(),
                     encode: EncodeConfig | None = None) -> list[list[int]]:
        """Prompt ids for ``tasks``, each encoded to fit the model with room for ``max_new_tokens``."""
        return task_prompts(self.format, tasks, budget_for(self.max_positions, config), encode)

    def sample_tasks(self, tasks: Sequence[Any], config: SamplingConfig = SamplingConfig(),
                     encode: EncodeConfig | None = None) -> list[list[Sample]]:
        """Encode ``tasks`` and sample ``config.n`` programs for each."""
        return self.sample(self.task_prompts(tasks, config, encode), config)


def budget_for(max_positions: int | None, config: SamplingConfig) -> int | None:
    """Prompt tokens left by a model of ``max_positions`` once ``max_new_tokens`` are reserved."""
    if max_positions is None:
        return None
    budget = max_positions - config.max_new_tokens
    if budget < 1:
        raise ValueError(f"max_new_tokens {config.max_new_tokens} leaves no room for a prompt "
                         f"in a model of {max_positions} positions")
    return budget


def task_prompts(format, tasks: Iterable[Any], max_prompt_tokens: int | None,
                 encode: EncodeConfig | None = None) -> list[list[int]]:
    """Prompt ids for ``tasks`` under ``format`` (a ``model.PromptFormat``), each at most
    ``max_prompt_tokens`` long (whole demo pairs are dropped to fit; see ``encode``)."""
    base = encode or EncodeConfig(format=format.encode_format)
    limits = [x for x in (base.max_tokens, max_prompt_tokens) if x is not None]
    text_budget = min(limits) - format.prompt_overhead if limits else None
    if text_budget is not None and text_budget < 1:
        raise ValueError(f"a prompt budget of {min(limits)} tokens leaves no room for the task")
    config = EncodeConfig(format=base.format, max_tokens=text_budget, include_test=base.include_test,
                          max_pairs=base.max_pairs)
    prompts = []
    for task in tasks:
        encoded = encode_task(task, config, count_tokens=format.count_tokens)
        ids = format.prompt_ids(encoded.text)
        if max_prompt_tokens is not None and len(ids) > max_prompt_tokens:
            # A foreign tokenizer may split the text differently than the budget assumed.
            ids = ids[:max_prompt_tokens]
        prompts.append(ids)
    return prompts
