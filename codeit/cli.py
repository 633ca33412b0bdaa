"""The ``codeit`` command: one subcommand per module under ``codeit.commands``."""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import sys
from typing import Iterable

from codeit.commands.errors import BAD_INPUT, INPUT_FAULTS, error_line, one_line
from codeit.commands.extras import EXTRAS, MissingExtra, install_command

# name -> module under codeit.commands; each module defines add_arguments(parser) and main(args).
COMMANDS = {
    "exec": "exec",
    "seeds": "seeds",
    "import-solvers": "import_solvers",
    "mutate": "mutate",
    "run": "run",
    "eval": "eval",
    "profile": "profile",
    "synth": "synth",
    "pretrain": "pretrain",
}

# Only the module of the command being run is imported; the others are listed by their docstring,
# read from the source, so that `codeit --help` and every command start without loading the rest.


def _summary(module_name: str) -> tuple[str, str]:
    """(first line, whole docstring) of a command module, read without importing it."""
    spec = importlib.util.find_spec(f"codeit.commands.{module_name}")
    doc = None
    if spec is not None and spec.origin and spec.origin.endswith(".py"):
        with open(spec.origin, encoding="utf-8") as f:
            doc = ast.get_docstring(ast.parse(f.read()))
    if doc is None:
        doc = importlib.import_module(f"codeit.commands.{module_name}").__doc__ or module_name
    return doc.strip().splitlines()[0], doc


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The parser; the commands in ``commands`` (all when None) get their module imported and
    their arguments, the others are listed only."""
    loaded = set(COMMANDS if commands is None else commands)
    parser = argparse.ArgumentParser(prog="codeit", description=__doc__)
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an error instead of its one line")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        if name not in loaded:
            summary, doc = _summary(module_name)
            sub.add_parser(name, help=summary, description=doc)
            continue
        module = importlib.import_module(f"codeit.commands.{module_name}")
        sp = sub.add_parser(name, help=module.__doc__.strip().splitlines()[0], description=module.__doc__)
        module.add_arguments(sp)
        sp.set_defaults(_main=module.main)
    return parser


def _command_of(argv: list[str]) -> str | None:
    """The command ``argv`` names: its first word that is not an option (the top level has no
    option that takes a value)."""
    for arg in argv:
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def _extra_of(module: str | None) -> str | None:
    top = (module or "").partition(".")[0]
    return next((extra for extra, modules in EXTRAS.items() if top in modules), None)


def main(argv: list[str] | None = None) -> int:
    """Run the command ``argv`` names; bad input ends it with one line on standard error and exit
    status 2 (``codeit.commands.errors``), or with its traceback under ``--debug``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = _command_of(argv)
    args = None
    try:
        parser = build_parser([command] if command else [])
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help()
            return 2
        return int(args._main(args) or 0)
    except MissingExtra as exc:
        print(one_line(str(exc)), file=sys.stderr)
        return BAD_INPUT
    except ModuleNotFoundError as exc:
        # A command that reached an optional dependency without checking for it first: still one
        # line that names what to install, not a traceback.
        extra = _extra_of(exc.name)
        if extra is None:
            raise
        print(one_line(f"codeit {command} needs the {extra} extra (no module named {exc.name!r}): "
                       f"{install_command(extra)}"), file=sys.stderr)
        return BAD_INPUT
    except INPUT_FAULTS as exc:
        if args is None or args.debug:
            raise
        print(error_line(command, exc), file=sys.stderr)
        return BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
