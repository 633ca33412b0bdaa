"""Policies shipped inside the package, named ``shipped:NAME`` wherever a model path is taken.

``dsl-small``: a 0.48M-parameter Llama pretrained on the DSL (``codeit pretrain --config
configs/pretrain-small.yaml``); its folder holds the weights, the tokenizer, ``pretrain.yaml`` (the
exact settings) and ``pretrain.json`` (what the pretraining measured).

``resolve_model`` also names the pretrained general models that installed packages carry:
``smollm2:135m`` (``codeit.policy.smollm2``), converted into a policy folder on first use;
``require_model`` checks that any model spec (a folder, a hub id, a named model) can be loaded
before a command writes anything.
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


class ModelUnavailable(ValueError):
    """A model named by a folder or hub id is not on this machine and cannot be fetched."""


def require_model(spec: str, setting: str = "policy.model") -> None:
    """Check, before anything is written, that the model ``spec`` names can be loaded.

    ``default`` and the named models (``shipped:``, ``smollm2:``) are resolved by their own
    modules; a folder must hold a ``config.json``; a hub id must be in the local cache, or the hub
    must be reachable (a quick connection, not the download library's minute of retries). Raises
    ``ModelUnavailable`` with one line that names the model and how to point at a local copy.
    """
    from codeit.policy import smollm2

    if spec == "default" or spec.startswith((PREFIX, smollm2.PREFIX)):
        if spec != "default":
            resolve_model(spec)
        return
    folder = Path(spec)
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise ModelUnavailable(f"{setting} {spec}: the folder holds no config.json (not a saved model)")
        return
    if folder.exists() or spec.startswith((".", "/", "~")) or spec.count("/") > 1:
        raise ModelUnavailable(f"{setting} {spec}: no model folder there (and not a hub id of the form owner/name)")
    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(spec, local_files_only=True)
        return
    except OSError:
        pass
    name = spec.rsplit("/", 1)[-1]
    fix = (f"download it where there is a network (hf download {spec} --local-dir {name}) "
           f"and point at the copy: --set {setting}=/path/to/{name}")
    if not _hub_reachable():
        raise ModelUnavailable(f"{setting} {spec}: the weights are not on this machine and the model hub "
                               f"cannot be reached; {fix}")
    try:
        AutoConfig.from_pretrained(spec)
    except OSError as exc:
        raise ModelUnavailable(f"{setting} {spec}: cannot be fetched ({str(exc).splitlines()[0]}); {fix}") from None


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the model hub answers a TCP connection (never, when ``HF_HUB_OFFLINE`` is set)."""
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    url = urlparse(constants.ENDPOINT)
    try:
        with socket.create_connection((url.hostname, url.port or (443 if url.scheme == "https" else 80)), timeout):
            return True
    except OSError:
        return False
