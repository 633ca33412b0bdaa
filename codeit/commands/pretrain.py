"""Pretrain a policy on the DSL: a large corpus of synthetic tasks, before any run.

Writes into OUT: ``pretrain.yaml`` (the settings), ``corpus.jsonl`` (the corpus, generated once),
``checkpoint/`` (the policy, saved after every segment of examples) and ``pretrain.json`` (loss,
tokens/s, and the policy's samples on ARC-AGI-1 evaluation and the held-out set). Running again
with the same OUT resumes at the last saved segment. The checkpoint is what ``codeit run`` starts
from with ``--set policy.model=OUT/checkpoint``. ``--set init=smollm2:135m`` starts from the
pretrained SmolLM2-135M-Instruct instead of a new policy (``codeit.policy.smollm2``; the
``smollm2`` extra); a model that is not on this machine stops the command before OUT is made.
The corpus's mutants grow from the seed folders of ``seed_dirs``, as a run's
(``--set 'seed_dirs=[builtin, runs/imported]'`` adds imported solvers to the built-in library).
"""

from __future__ import annotations

import argparse
import json

from codeit.commands.extras import require_extra


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="runs/pretrain", help="output folder; an existing one is resumed")
    parser.add_argument("--config", help="YAML file of pretraining settings (see codeit.train.pretrain.PretrainConfig)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one setting, e.g. --set corpus_tasks=20000 --set architecture.num_layers=2")


def main(args: argparse.Namespace) -> int:
    require_extra("policy", command="pretrain")
    from codeit.commands.run import parse_overrides
    from codeit.textfile import naming
    from codeit.train.pretrain import PretrainConfig, load_pretrain_config, pretrain

    if args.config:
        with naming(args.config):
            base = load_pretrain_config(args.config).to_dict()
    else:
        base = PretrainConfig().to_dict()
    overrides = parse_overrides(args.set)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    config = PretrainConfig.from_dict(base)
    from pathlib import Path

    from codeit.policy.shipped import require_model

    if not (Path(args.out) / "checkpoint").exists():  # (a resumed pretraining has its own weights)
        require_model(config.init, setting="init")
    summary = pretrain(config, args.out)
    print(json.dumps({k: v for k, v in summary.items() if k != "segment_losses"}, indent=1))
    return 0
