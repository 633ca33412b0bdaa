"""Policies shipped inside the package, named ``shipped:NAME`` wherever a model path is taken.

``dsl-small``: a 0.48M-parameter Llama pretrained on the DSL (``codeit pretrain --config
configs/pretrain-small.yaml``); its folder holds the weights, the tokenizer, ``pretrain.yaml`` (the
exact settings) and ``pretrain.json`` (what the pretraining measured).

``resolve_model`` also names the pretrained general models that installed packages carry:
``smollm2:135m`` (``codeit.policy.smollm2``), converted into a policy folder on first use.
"""

from __future__ import annotations

from pathlib import Path

PREFIX = "shipped:"
FOLDER = Path(__file__).resolve().parent


def shipped_names() -> list[str]:
    return sorted(p.name for p in FOLDER.iterdir() if p.is_dir() and (p / "config.json").exists())


def resolve_model(spec: str) -> str:
    """``shipped:NAME`` as the folder of that shipped policy, ``smollm2:SIZE`` as the folder of that
    converted model; any other spec unchanged."""
    from codeit.policy import smollm2

    if spec.startswith(smollm2.PREFIX):
        return smollm2.resolve(spec)
    if not spec.startswith(PREFIX):
        return spec
    name = spec[len(PREFIX):]
    folder = FOLDER / name
    if not (folder / "config.json").exists():
        raise ValueError(f"no shipped policy {name!r} (shipped: {', '.join(shipped_names()) or 'none'})")
    return str(folder)
