"""The optional extras of the package, and the one line a command prints when it needs a missing one.

A base install (``pip install -e .``) runs every command that only parses, runs and mutates
programs. ``run`` and ``eval`` need the ``policy`` extra (torch, transformers, tokenizers),
``--ray`` needs ``cluster`` and the learning-curve plot needs ``plot``. A command checks for what
it needs before importing any of it (``require_extra``); ``codeit.cli`` turns the resulting
``MissingExtra`` into one line on standard error and exit status 2.
"""

from __future__ import annotations

import importlib.util

EXTRAS: dict[str, tuple[str, ...]] = {
    "policy": ("torch", "transformers", "tokenizers"),
    "plot": ("matplotlib",),
    "cluster": ("ray",),
}
"""Each extra of pyproject.toml that a command may need, and the modules it provides."""

CONSTRAINTS = "constraints/cpu.txt"


def install_command(extra: str) -> str:
    """The command that adds ``extra`` to a source checkout (run from its folder)."""
    return f'pip install -c {CONSTRAINTS} -e ".[{extra}]"'


def module_available(name: str) -> bool:
    """Whether ``name`` can be imported, found without importing it."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        # A finder that refuses the module, or a module already in sys.modules without a spec.
        return False


def missing_modules(extra: str, modules: tuple[str, ...] | list[str] | None = None) -> list[str]:
    """The modules of ``extra`` (or just ``modules``) that cannot be imported."""
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}: one of {', '.join(EXTRAS)}")
    return [m for m in (modules or EXTRAS[extra]) if not module_available(m)]


class MissingExtra(Exception):
    """A command needs an extra that is not installed; ``str()`` is the one line to print."""

    def __init__(self, command: str, extra: str, module: str):
        self.command, self.extra, self.module = command, extra, module
        super().__init__(f"codeit {command} needs the {extra} extra (no module named {module!r}): "
                         f"{install_command(extra)}")


def require_extra(extra: str, modules: tuple[str, ...] | list[str] | None = None, *, command: str) -> None:
    """Raise MissingExtra naming the first missing module of ``extra`` (or of ``modules``), if any."""
    missing = missing_modules(extra, modules)
    if missing:
        raise MissingExtra(command, extra, missing[0])
