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


def test_the_cosine_schedule_warms_up_peaks_and_ends_at_its_floor():
    config = pt.PretrainConfig(lr_schedule="cosine", warmup_steps=10, min_lr_ratio=0.1)
    scale = [pt.lr_multiplier(config, step, 110) for step in range(110)]
    assert scale[0] == pytest.approx(0.1) and scale[9] == pytest.approx(1.0)
    assert scale[10] == pytest.approx(1.0) and scale[-1] == pytest.approx(0.1)
    decay = scale[10:]
    assert all(a >= b for a, b in zip(decay, decay[1:])) and decay[50] < 0.6


def test_the_constant_schedule_stays_at_the_peak_after_warm_up():
    config = pt.PretrainConfig(warmup_steps=4)
    assert [pt.lr_multiplier(config, step, 100) for step in (0, 3, 4, 99)] == [0.25, 1.0, 1.0, 1.0]


def test_a_bad_schedule_is_named():
    with pytest.raises(ValueError, match="lr_schedule"):
        pt.PretrainConfig(lr_schedule="linear")
    with pytest.raises(ValueError, match="min_lr_ratio"):
        pt.PretrainConfig(min_lr_ratio=2.0)
