"""Generate ARC tasks from the DSL: a program (2 to 6 lines) run on the inputs of an ARC task.

Writes one ARC JSON file per task ({"train": [...], "test": [...], "program": "..."}) into --out,
with a manifest (synth.manifest) of the config and the statistics. A set made with --name NAME
is also stored in the cache, where every command reaches it as --tasks synth/NAME. The
registered sets (synth/heldout, synth/pretrain) have fixed configs: --name heldout makes it ready
(or copies it to --out). Any other set excludes every held-out set (by program text, outputs and
behaviour) unless --no-exclude. The same options and seed give byte-identical task files.
"""

from __future__ import annotations

import argparse
import sys

from codeit.commands.errors import CommandError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", help="folder to write the task files into")
    parser.add_argument("--name", help="a set name: a registered one (heldout, pretrain) or a new one "
                                       "to store in the cache as synth/NAME")
    parser.add_argument("--n", type=int, default=None, help="tasks to generate (default 64)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    parser.add_argument("--mutant-share", type=float, default=None,
                        help="share of tasks whose program is a seed mutant (default 0.5; the rest random programs)")
    parser.add_argument("--min-lines", type=int, default=None, help="fewest program lines (default 2)")
    parser.add_argument("--max-lines", type=int, default=None, help="most program lines (default 6)")
    parser.add_argument("--source", default=None, help="task set whose inputs are used (default arc1/training)")
    parser.add_argument("--no-exclude", action="store_true",
                        help="do not keep the set disjoint from the held-out sets")
    parser.add_argument("--workers", type=int, default=0,
                        help="generating processes (0: one per core from 1,000 tasks); the tasks do not depend on it")
    parser.add_argument("--force", action="store_true", help="regenerate a registered set even when cached")
    parser.add_argument("--list", action="store_true", help="list the registered sets and the cache, then exit")


def _overrides(args: argparse.Namespace) -> dict:
    names = {"n": "n_tasks", "seed": "seed", "mutant_share": "mutant_share", "min_lines": "min_lines",
             "max_lines": "max_lines", "source": "source"}
    return {field: getattr(args, opt) for opt, field in names.items() if getattr(args, opt) is not None}


def _list(synth) -> int:
    root = synth.cache_root() / "synth"
    print(f"cache: {root}")
    for name, named in synth.NAMED_SETS.items():
        folder = synth.set_folder(name)
        state = "cached" if synth.is_current(folder, synth.config_key(named.config, named.exclude)) else "not generated"
        print(f"  synth/{name}: {named.description} [{state}]")
    if root.is_dir():
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if folder.name not in synth.NAMED_SETS:
                manifest = synth.read_manifest(folder) or {}
                print(f"  synth/{folder.name}: {len(manifest.get('tasks', []))} tasks (written with --name)")
    return 0


def main(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from tqdm import tqdm

    from codeit import synth
    from codeit.tasks import load_tasks

    if args.list:
        return _list(synth)
    if not args.out and not args.name:
        raise CommandError("give --out DIR, --name NAME, or both")
    overrides = _overrides(args)
    bar = None

    def progress(kept: int, wanted: int, stats) -> None:
        nonlocal bar
        if bar is not None and bar.total != wanted:  # an excluded set was generated first
            bar.close()
            bar = None
        if bar is None:
            bar = tqdm(total=wanted, unit="task", desc="synth", file=sys.stderr)
        bar.n = kept
        bar.set_postfix(candidates=f"{stats.candidates:,}", refresh=False)
        bar.refresh()

    try:
        if args.name in synth.NAMED_SETS:
            if overrides or args.no_exclude:
                raise CommandError(f"synth/{args.name} is a registered set with a fixed config; "
                                   "give another --name for a set of your own")
            folder = synth.ensure_set(args.name, load_tasks, force=args.force, workers=args.workers,
                                      progress=progress)
            if bar is not None:
                bar.close()
            manifest = synth.read_manifest(folder)
            print(f"synth/{args.name}: {len(manifest['tasks'])} tasks in {folder}")
            print(f"as generated: {synth.SynthStats.from_dict(manifest['stats']).summary()}")
            if args.out:
                synth.write_set(args.out, synth.read_set(folder), manifest)
                print(f"wrote {len(manifest['tasks'])} tasks to {args.out}")
            return 0

        if args.name:
            synth.set_folder(args.name)  # a bad name fails before the generation, not after
        config = replace(synth.SynthConfig(), **overrides)
        exclude = () if args.no_exclude else synth.HELDOUT_SETS
        result = synth.generate_corpus(config, load_tasks, heldout=exclude, workers=args.workers,
                                       progress=progress)
    except (ValueError, RuntimeError) as exc:
        if bar is not None:
            bar.close()
        raise CommandError(str(exc)) from exc
    if bar is not None:
        bar.close()
    if args.out:
        synth.write_set(args.out, result.tasks, synth.manifest_of(result, name=args.name or "", exclude=exclude))
        print(f"wrote {len(result.tasks)} tasks to {args.out}")
    if args.name:
        folder = synth.write_named(args.name, result, exclude=exclude)
        print(f"stored as synth/{args.name} in {folder}")
    print(result.stats.summary())
    return 0 if len(result.tasks) == config.n_tasks else 1
