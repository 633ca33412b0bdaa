"""The executor options every command that runs programs shares, and the one line it logs."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from codeit.execute.limits import Limits

if TYPE_CHECKING:
    from codeit.execute.executor import Executor


def add_executor_arguments(parser: argparse.ArgumentParser, defaults: Limits = Limits(), *, ray: bool = False) -> None:
    """``ray``: also offer ``--executor ray`` (native interpreters in Ray actors) and ``--ray-address``."""
    from codeit.execute.backends import BACKENDS

    group = parser.add_argument_group("execution")
    group.add_argument("--executor", default="native", choices=BACKENDS + (("ray",) if ray else ()),
                       help="interpreter: native (default, the fast C++ one) or reference (Python)"
                            + ("; ray: native interpreters in actors of a Ray cluster (--ray-address)" if ray else ""))
    group.add_argument("--threads", type=int, default=0,
                       help="interpreter threads (0: one per core)" +
                            ("; with --executor ray and --ray-address local: the local cluster's CPUs, one actor each"
                             if ray else ""))
    if ray:
        group.add_argument("--ray-address", default="local",
                           help="with --executor ray: 'local' (a Ray cluster of this machine, default), 'auto', or "
                                "a cluster address (host:port, ray://host:port)")
    group.add_argument("--time-limit", type=float, default=defaults.time_limit,
                       help=f"wall seconds per run (default {defaults.time_limit:g})")
    group.add_argument("--max-steps", type=int, default=defaults.max_steps,
                       help=f"primitive calls per run (default {defaults.max_steps:,})")


def limits_from_args(args: argparse.Namespace, defaults: Limits = Limits()) -> Limits:
    from dataclasses import replace

    return replace(defaults, time_limit=args.time_limit, max_steps=args.max_steps)


def executor_from_args(args: argparse.Namespace, defaults: Limits = Limits()) -> Executor:
    """The executor the options name, after logging which one it is on standard error."""
    from codeit.execute.backends import describe, make_executor

    if args.executor == "ray":
        from codeit.cluster import connect
        from codeit.execute.ray import RayExecutor

        connect(args.ray_address, num_cpus=args.threads or None)
        executor = RayExecutor.filling_cluster(limits_from_args(args, defaults), threads_per_actor=1)
    else:
        executor = make_executor(args.executor, limits=limits_from_args(args, defaults), threads=args.threads)
    print(describe(executor), file=sys.stderr)
    return executor
