"""Run CodeIt's self-improvement loop (the main job).

With no arguments: the embedded ``cpu`` configuration (the shipped DSL-pretrained policy on the
held-out synthetic set ``synth/heldout``), CPU only, in runs/cpu; under 15 minutes on 2 cores. ``--config configs/paper.yaml`` runs CodeIt's settings. Running
again in an existing run folder continues where it stopped (clean stop or SIGKILL).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from codeit.commands.errors import CommandError
from codeit.commands.extras import require_extra
from codeit.run.config import load_config, make_config, read_yaml
from codeit.textfile import naming

DEFAULT_PRESET = "cpu"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", nargs="?", help="run folder (default runs/<preset>); an existing one is resumed")
    parser.add_argument("--config", help="YAML file of settings (its 'preset' key picks the base)")
    parser.add_argument("--preset", choices=["cpu", "tiny", "paper", "paper-scratch"],
                        help="base configuration (default cpu)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one setting, e.g. --set meta_iterations=3 --set sampling.temperature=1.0")
    add_ray_argument(parser)


def add_ray_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ray", metavar="ADDRESS",
                        help="execute programs on Ray actors: 'auto' (the cluster of this node), a cluster address, "
                             "or 'local' (a Ray cluster of this machine); needs codeit[cluster]")


def ray_executor(address: str | None, config):
    """None without --ray (the local executor, and no Ray import); else a RayExecutor on the connected cluster."""
    if not address:
        return None
    from codeit.cluster import connect
    from codeit.execute.ray import RayExecutor

    connect(address)
    return RayExecutor.for_run(config.execution)


def ray_sampler(address: str | None):
    """None (local sampling) unless --ray finds GPUs: then one sampler replica per GPU."""
    if not address:
        return None
    from codeit.cluster import cluster_gpus
    from codeit.policy.ray_pool import SamplerPool, SamplerPoolConfig

    gpus = int(cluster_gpus())
    if gpus == 0:
        return None
    return SamplerPool.factory(SamplerPoolConfig(replicas=gpus, gpus_per_replica=1))


def parse_overrides(pairs: list[str]) -> dict:
    """``a.b=value`` strings as a nested mapping; values are read as YAML scalars (``2e-4`` a float)."""
    out: dict = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"--set expects KEY=VALUE, got {pair!r}")
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise CommandError(f"--set {key}: {part} is set to a value, not a section, by another --set")
        try:
            node[parts[-1]] = read_yaml(value)
        except (yaml.YAMLError, RecursionError) as exc:
            raise CommandError(f"--set {key}: not a YAML value ({type(exc).__name__})") from None
    return out


def format_overrides(overrides: dict, prefix: str = "") -> list[str]:
    """The ``--set KEY=VALUE`` arguments that ``parse_overrides`` reads back as ``overrides``."""
    out: list[str] = []
    for key, value in overrides.items():
        if isinstance(value, dict):
            out += format_overrides(value, f"{prefix}{key}.")
        else:
            out += ["--set", f"{prefix}{key}={json.dumps(value)}"]
    return out


def read_config(path: str | Path):
    """The settings of a YAML file (``load_config``); bytes that are not UTF-8 and nesting too deep
    to parse are reported naming the file."""
    with naming(path):
        return load_config(path)


def build_config(args: argparse.Namespace):
    overrides = parse_overrides(args.set)
    if args.config:
        base = read_config(args.config)
        if args.preset and args.preset != base.preset:
            raise CommandError(f"--preset {args.preset} conflicts with {args.config} (preset {base.preset})")
        return make_config(base.preset, _merge(_as_overrides(base), overrides))
    return make_config(args.preset or DEFAULT_PRESET, overrides)


def _as_overrides(config) -> dict:
    d = config.to_dict()
    d.pop("preset")
    return d


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def require_run_extras(args: argparse.Namespace, command: str) -> None:
    """The policy extra, and the cluster extra with --ray, before anything imports them."""
    require_extra("policy", command=command)
    if args.ray:
        require_extra("cluster", command=f"{command} --ray")


def main(args: argparse.Namespace) -> int:
    require_run_extras(args, "run")
    from codeit.run.driver import Run, format_summary

    explicit = bool(args.config or args.preset or args.set)
    preset = args.preset or (read_config(args.config).preset if args.config else DEFAULT_PRESET)
    run_dir = Path(args.run_dir or f"runs/{preset}")
    config = build_config(args) if explicit or not (run_dir / "config.yaml").exists() else None
    if config is None:
        print(f"resuming the run in {run_dir}")
    executor = ray_executor(args.ray, config or read_config(run_dir / "config.yaml")) if args.ray else None
    try:
        run = Run(run_dir, config, executor=executor, sampler_factory=ray_sampler(args.ray))
        summary = run.run()
    finally:
        if executor is not None:
            executor.close()
    print(format_summary(summary))
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=1))
    return 0
