"""Policies shipped inside the package, named ``shipped:NAME`` wherever a model path is taken.

``dsl-small``: a 0.48M-parameter Llama pretrained on the DSL (``codeit pretrain --config
configs/pretrain-small.yaml``); its folder holds the weights, the tokenizer, ``pretrain.yaml`` (the
exact settings) and ``pretrain.json`` (what the pretraining measured).
"""

from __future__ import annotations

from pathlib import Path

PREFIX = "shipped:"
FOLDER = Path(__file__).resolve().parent


def shipped_names() -> list[str]:
    return sorted(p.name for p in FOLDER.iterdir() if p.is_dir() and (p / "config.json").exists())


def resolve_model(spec: str) -> str:
    """``shipped:NAME`` as the folder of that shipped policy; any other spec unchanged."""
    if not spec.startswith(PREFIX):
        return spec
    name = spec[len(PREFIX):]
    folder = FOLDER / name
    if not (folder / "config.json").exists():
        raise ValueError(f"no shipped policy {name!r} (shipped: {', '.join(shipped_names()) or 'none'})")
    return str(folder)
