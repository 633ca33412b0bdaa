"""Opening a sampler backend by name: ``hf`` (transformers ``generate``) or ``vllm``.

Each backend is imported only when asked for, so a machine without vLLM never imports it.
"""

from __future__ import annotations

from typing import Any

from codeit.policy.sampler import Sampler

BACKENDS = ("hf", "vllm")


def open_sampler(backend: str, policy: Any, **options) -> Sampler:
    """A sampler by backend name: ``hf`` (transformers) or ``vllm``.

    ``policy``: a folder (or hub id) of a saved policy; ``hf`` also takes a loaded ``model.Policy``.
    ``options`` go to the backend's constructor.
    """
    if backend == "hf":
        from codeit.policy.hf_sampler import HFSampler
        return HFSampler(policy, **options)
    if backend == "vllm":
        from codeit.policy.vllm_sampler import VLLMSampler
        return VLLMSampler(policy, **options)
    raise ValueError(f"unknown sampler backend {backend!r}: use one of {BACKENDS}")
