"""The loop's view of sampling: tasks in, program texts out, with the run's settings applied.

Wraps a ``codeit.policy.sampler.Sampler`` (transformers or vLLM backend, chosen by the run's
``sampling.backend``) and turns the run config into its ``SamplingConfig`` and task encoding, so
the driver, ``codeit eval`` and the cluster's sampler replicas all sample the same way.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path
from typing import Sequence

from codeit.run.config import RunConfig
from codeit.run.prompts import encode_config
from codeit.policy.backends import open_sampler
from codeit.policy.sampler import SamplingConfig
from codeit.tasks import Task


VLLM_GPU_SHARE = 0.5
"""Share of the GPU's memory a run's vLLM engine reserves (weights and key/value cache): the
learner trains on the same GPU, in its own process, while the engine holds its share."""


def choose_backend(config: RunConfig, policy_path: Path, device: str) -> str:
    """``auto``: vLLM for a decoder-only policy whenever vllm is importable (GPU or CPU), else transformers.

    vLLM decodes under the same grammar constraint as transformers and loads each new checkpoint
    into the running engine; on this project's shared 2-core CPU it sampled the shipped policy's
    constrained programs 1.2-3.5x as fast as transformers over four runs (``bench/sample.py``;
    the load from other jobs moves it). It serves no
    encoder-decoder policy (CodeT5+): those stay on transformers.
    """
    backend = config.sampling.backend
    if backend != "auto":
        return backend
    if importlib.util.find_spec("vllm") is not None:
        from codeit.policy.model import PromptFormat

        if not PromptFormat.from_pretrained(policy_path).is_encoder_decoder:
            return "vllm"
    return "hf"


def policy_sampling(config: RunConfig, n: int | None = None, seed: int | None = None) -> SamplingConfig:
    s = config.sampling
    return SamplingConfig(
        n=n or s.samples_per_task,
        temperature=s.temperature,
        top_k=s.top_k,
        top_p=s.top_p,
        max_new_tokens=s.max_new_tokens,
        seed=config.seed if seed is None else seed,
        constrained=s.constrained,
        prompts_per_batch=s.batch_size,
    )


class RunSampler:
    """Samples programs for tasks under a run's settings; reloads weights between iterations."""

    def __init__(self, config: RunConfig, policy_path: Path, device: str):
        self.config = config
        self.backend = choose_backend(config, policy_path, device)
        if device == "cpu" and config.sampling.cpu_threads:
            import torch

            # vLLM's engine runs in this process, on torch's threads, as transformers does.
            torch.set_num_threads(config.sampling.cpu_threads)
        from codeit.policy.model import resolve_dtype

        dtype = resolve_dtype(config.policy.dtype, device)
        if self.backend == "hf":
            options = {"device": device, "dtype": dtype}
        else:
            from codeit.policy.vllm_sampler import VLLMOptions

            options = {"options": VLLMOptions(dtype=str(dtype).removeprefix("torch."),
                                              gpu_memory_utilization=VLLM_GPU_SHARE)}
        self.sampler = open_sampler(self.backend, str(policy_path), **options)
        self.sampling = policy_sampling(config)
        if self.sampling.constrained and not self.sampler.format.dsl_vocab:
            # The grammar constraint walks the DSL tokenizer's tokens: a policy of its own tokenizer
            # (CodeT5+) samples unconstrained, as CodeIt did.
            self.sampling = dataclasses.replace(self.sampling, constrained=False)
        self.encode = encode_config(self.sampler.format, config)
        self._draws = 0

    def set_samples(self, n: int, seed: int | None = None) -> None:
        """``n`` programs per task from now on; with ``seed``, the draws after this call are those of
        that seed whatever was drawn before (a resumed run samples what an uninterrupted one did)."""
        self.sampling = dataclasses.replace(self.sampling, n=n, seed=self.sampling.seed if seed is None else seed)
        if seed is not None:
            self._draws = 0

    def sample_tasks(self, tasks: Sequence[Task]) -> list[list[str]]:
        """``n`` program texts per task; each call draws with a new seed (reproducible per run)."""
        self._draws += 1
        sampling = dataclasses.replace(self.sampling, seed=(self.sampling.seed or 0) * 1_000_003 + self._draws)
        samples = self.sampler.sample_tasks(list(tasks), sampling, self.encode)
        return [[s.text for s in per_task] for per_task in samples]

    def load_weights(self, path: str | Path) -> None:
        self.sampler.load_weights(str(path))

    def close(self) -> None:
        self.sampler.close()


def open_run_sampler(config: RunConfig, policy_path: Path, device: str) -> RunSampler:
    return RunSampler(config, policy_path, device)
