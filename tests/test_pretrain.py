"""codeit pretrain: a corpus disjoint from the held-out sets, a resumable pass, a summary."""

from __future__ import annotations

import json

import pytest

from codeit.policy.config import PolicyConfig
from codeit.train import pretrain as pt

TINY = pt.PretrainConfig(
    corpus_tasks=48, corpus_seed=5, architecture=PolicyConfig(hidden_size=64, num_layers=2, num_heads=1,
                                                               intermediate_size=128, max_positions=1024),
    lr=3e-3, warmup_steps=2, batch_size=8, max_prompt_tokens=384, segment_examples=16, eval_tasks=2,
    eval_samples=2, heldout="", seed=3, threads=1)


def weights(path):
    from codeit.policy.model import load_policy

    return {k: v.clone() for k, v in load_policy(path).model.state_dict().items()}


@pytest.mark.slow
def test_pretrain_resumes_to_the_same_model_as_one_pass(tmp_path, monkeypatch):
    import torch

    whole = pt.pretrain(TINY, tmp_path / "whole", log=lambda s: None)
    assert whole["examples"] == 48 and whole["steps"] == 6  # 3 segments of 16, batches of 8
    assert len(whole["segment_losses"]) == 3
    assert whole["segment_losses"][-1] < whole["segment_losses"][0]
    samples = whole["samples"]["arc1/evaluation"]
    assert samples["tasks"] == 2 and 0.0 <= samples["valid_rate"] <= 1.0
    assert json.loads((tmp_path / "whole" / "pretrain.json").read_text())["steps"] == 6

    # A pretraining killed after its second segment, then run again, ends where one pass does.
    saves = {"n": 0}
    real_save = pt._save

    def save_then_die(*args):
        real_save(*args)
        saves["n"] += 1
        if saves["n"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(pt, "_save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        pt.pretrain(TINY, tmp_path / "killed", log=lambda s: None)
    monkeypatch.setattr(pt, "_save", real_save)
    state = json.loads((tmp_path / "killed" / "checkpoint" / "pretrain_state.json").read_text())
    assert state["segments_done"] == 2
    resumed = pt.pretrain(TINY, tmp_path / "killed", log=lambda s: None)
    assert resumed["steps"] == 6 and resumed["segment_losses"] == whole["segment_losses"]
    a, b = weights(tmp_path / "whole" / "checkpoint"), weights(tmp_path / "killed" / "checkpoint")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_folder_of_other_settings_is_refused(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "pretrain.yaml").write_text("corpus_tasks: 7\n")
    with pytest.raises(ValueError, match="other settings"):
        pt.pretrain(TINY, tmp_path / "p", log=lambda s: None)


def test_unknown_settings_are_named(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("corpus_taks: 10\n")
    with pytest.raises(ValueError, match="corpus_taks"):
        pt.load_pretrain_config(path)
