"""The ``codeit`` command: one subcommand per module under ``codeit.commands``."""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> module under codeit.commands; each module defines add_arguments(parser) and main(args).
COMMANDS = {
    "exec": "exec",
    "seeds": "seeds",
    "import-solvers": "import_solvers",
    "mutate": "mutate",
    "run": "run",
    "eval": "eval",
    "profile": "profile",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codeit", description=__doc__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"codeit.commands.{module_name}")
        sp = sub.add_parser(name, help=module.__doc__.strip().splitlines()[0], description=module.__doc__)
        module.add_arguments(sp)
        sp.set_defaults(_main=module.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    return int(args._main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
