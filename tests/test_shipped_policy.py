"""The shipped DSL-pretrained policy: what `codeit run` starts from, and the command that made it."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeit.policy.shipped import resolve_model
from codeit.run.config import make_config
from codeit.train.pretrain import load_pretrain_config

ROOT = Path(__file__).resolve().parent.parent


def test_the_default_run_starts_from_the_shipped_policy_on_the_heldout_set():
    config = make_config("cpu")
    assert config.policy.model == "shipped:dsl-small"
    assert config.search_set == "synth/heldout" and config.max_search_tasks == 0
    assert Path(resolve_model(config.policy.model), "config.json").is_file()


def test_the_shipped_policy_was_made_by_the_committed_command():
    folder = Path(resolve_model("shipped:dsl-small"))
    assert load_pretrain_config(folder / "pretrain.yaml") == load_pretrain_config(ROOT / "configs" / "pretrain-small.yaml")


def test_the_shipped_policy_loads_and_writes_programs():
    from codeit.policy.model import load_policy

    policy = load_policy(resolve_model("shipped:dsl-small"))
    ids = policy.format.program_ids("O = vmirror(I)")
    assert policy.format.decode_program(ids).strip() == "O = vmirror(I)"


def test_unknown_shipped_names_are_listed():
    with pytest.raises(ValueError, match="dsl-small"):
        resolve_model("shipped:nothing")
    assert resolve_model("some/hub-id") == "some/hub-id"
