"""The GPU check: one CUDA GPU, about 8 minutes, one JSON line of figures.

    python bench/gpu_check.py [--config configs/vllm-qwen.yaml] [--model SPEC] [--tasks 16]

On the vLLM preset's policy (``--config``'s ``policy.model``, or ``--model``: a folder, a hub id in
the local cache, ``shipped:NAME`` or ``smollm2:SIZE``), in this order:

1. sampling: the first ``--tasks`` ARC-AGI-1 evaluation tasks, the preset's samples per task,
   temperature, token limits and constraint, drawn once by transformers ``generate`` (bf16) and once
   by vLLM (bf16, prefix cache emptied first): samples/s and generated tokens/s of each, and the
   ratios vLLM / transformers;
2. weight reload: ``VLLMSampler.load_weights`` into the running engine, median of 3, in seconds;
3. the learner: one pass of ``codeit.train.trainer.train`` in bf16 over the seed programs on their
   ARC-AGI-1 training tasks, encoded as the run encodes them: tokens/s;
4. one meta-iteration of the preset (``codeit.run.driver.Run``, ``meta_iterations=1``): CodeIt's
   per-iteration sample count (samples per task x every search task), execution, relabelling and
   one learning pass, then the weight reload; its wall time. The learning pass draws
   ``--learn-experiences`` experiences (the preset's 100,000 take longer than the check may), and
   the figure at the preset's count is extrapolated from the measured pass and printed beside it.
   The initial buffer is built first with ``--initial-mutants`` mutants and timed apart.

Without CUDA it exits at once (status 2) with one line saying so; nothing is measured.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time

NO_GPU = "gpu_check: no CUDA GPU here (torch.cuda.is_available() is False): nothing measured; run it on a machine with one"


def cuda_available() -> bool:
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return torch.cuda.is_available()


def timed_sample(sampler, prompts, config, before=None) -> dict:
    sampler.sample(prompts[:1], type(config)(n=1, max_new_tokens=8, constrained=config.constrained))  # warm-up
    if before is not None:
        before()
    t0 = time.perf_counter()
    out = sampler.sample(prompts, config)
    seconds = time.perf_counter() - t0
    samples = sum(len(s) for s in out)
    tokens = sum(x.n_tokens for s in out for x in s)
    return {"seconds": round(seconds, 2), "samples_s": round(samples / seconds, 1),
            "tokens_s": round(tokens / seconds, 1), "samples": samples}


def learner_tokens_s(model_dir: str, config, device: str) -> dict:
    """One bf16 pass over the seed programs on their training tasks, as the learner encodes them."""
    import torch

    from codeit.policy.model import load_policy
    from codeit.run.prompts import encode_config
    from codeit.seeds import load_seeds
    from codeit.tasks import load_tasks
    from codeit.train.trainer import encode_example, train

    policy = load_policy(model_dir)
    policy.model.to(device)
    tasks = {t.id: t for t in load_tasks(config.seed_tasks)}
    encode = encode_config(policy.format, config)
    examples = [encode_example(tasks[s.task_id], s.text, encode) for s in load_seeds() if s.task_id in tasks]
    stats = train(policy, examples, lr=config.learner.lr, batch_size=min(config.learner.batch_size, 64),
                  device=device, precision="bf16")
    del policy
    torch.cuda.empty_cache()
    return {"tokens_s": round(stats.tokens / stats.seconds, 1), "examples": stats.examples, "seconds": round(stats.seconds, 1)}


def meta_iteration(config, spec: str, args) -> dict:
    """Wall time of one meta-iteration of the preset (initial buffer and engine start timed apart)."""
    import dataclasses

    from codeit.run.driver import Run

    learner = config.learner
    preset_experiences = learner.policy_experiences + learner.mutation_experiences
    share = min(1.0, args.learn_experiences / preset_experiences)
    run_config = dataclasses.replace(
        config, meta_iterations=1, initial_mutants=args.initial_mutants, report_set="",
        policy=dataclasses.replace(config.policy, model=spec),
        learner=dataclasses.replace(learner, warmup_epochs=0,
                                    policy_experiences=round(learner.policy_experiences * share),
                                    mutation_experiences=round(learner.mutation_experiences * share)))
    walls = []
    with tempfile.TemporaryDirectory(prefix="codeit-gpu-check-") as folder:
        run = Run(folder, run_config, log=lambda _: None)
        inner = run._meta_iteration

        def timed(*a, **k):
            t0 = time.perf_counter()
            try:
                return inner(*a, **k)
            finally:
                walls.append(time.perf_counter() - t0)

        run._meta_iteration = timed
        summary = run.run()
    seconds = summary["stage_seconds"]
    wall = walls[0]
    learn = seconds.get("learn", 0.0)
    return {
        "seconds": round(wall, 1),
        "samples": summary["programs_sampled"],
        "search_tasks": summary["programs_sampled"] // run_config.sampling.samples_per_task,
        "learn_experiences": run_config.learner.policy_experiences + run_config.learner.mutation_experiences,
        "learn_seconds": round(learn, 1),
        "seconds_at_preset_learning": round(wall - learn + learn / share, 1),
        "stage_seconds": {k: round(v, 1) for k, v in seconds.items()},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/vllm-qwen.yaml", help="the vLLM preset (a run config)")
    parser.add_argument("--model", help="the policy to check instead of the preset's policy.model")
    parser.add_argument("--tasks", type=int, default=16, help="evaluation tasks in the sampling comparison")
    parser.add_argument("--learn-experiences", type=int, default=10_000,
                        help="experiences of the meta-iteration's learning pass (extrapolated to the preset's)")
    parser.add_argument("--initial-mutants", type=int, default=2_000, help="mutants in the check's initial buffer")
    parser.add_argument("--skip-iteration", action="store_true", help="leave out the meta-iteration")
    args = parser.parse_args(argv)
    if not cuda_available():
        print(NO_GPU, file=sys.stderr)
        return 2

    import dataclasses

    import torch

    from codeit.policy.hf_sampler import HFSampler
    from codeit.policy.model import ModelUnavailable, require_model
    from codeit.policy.shipped import resolve_model
    from codeit.policy.vllm_sampler import VLLMOptions, VLLMSampler
    from codeit.run.config import load_config
    from codeit.run.prompts import encode_config
    from codeit.run.sampling import policy_sampling
    from codeit.tasks import load_tasks

    started = time.perf_counter()
    config = load_config(args.config)
    spec = args.model or config.policy.model
    try:
        require_model(spec)
    except ModelUnavailable as exc:
        print(f"gpu_check: {exc}", file=sys.stderr)
        return 2
    model_dir = resolve_model(spec)
    device = "cuda"
    result: dict = {"device": torch.cuda.get_device_name(0), "config": args.config, "model": spec}

    hf = HFSampler(model_dir, device=device, dtype=torch.bfloat16)
    sampling = policy_sampling(config)
    sampling = dataclasses.replace(sampling, constrained=sampling.constrained and hf.format.dsl_vocab,
                                   prompts_per_batch=args.tasks)
    tasks = list(load_tasks("arc1/evaluation"))[: args.tasks]
    prompts = hf.task_prompts(tasks, sampling, encode_config(hf.format, config))
    result.update(tasks=len(prompts), samples_per_task=sampling.n, max_new_tokens=sampling.max_new_tokens,
                  constrained=sampling.constrained)
    result["transformers"] = timed_sample(hf, prompts, sampling)
    hf.close()
    del hf
    torch.cuda.empty_cache()

    t0 = time.perf_counter()
    engine = VLLMSampler(model_dir, VLLMOptions(dtype="bfloat16", gpu_memory_utilization=0.5))
    result["vllm_start_seconds"] = round(time.perf_counter() - t0, 1)
    result["vllm"] = timed_sample(engine, prompts, sampling, engine.llm.reset_prefix_cache)
    reloads = []
    for _ in range(3):
        t0 = time.perf_counter()
        engine.load_weights(model_dir)
        reloads.append(time.perf_counter() - t0)
    result["reload_seconds"] = round(statistics.median(reloads), 3)
    engine.close()
    torch.cuda.empty_cache()
    result["ratio_samples_s"] = round(result["vllm"]["samples_s"] / result["transformers"]["samples_s"], 2)
    result["ratio_tokens_s"] = round(result["vllm"]["tokens_s"] / result["transformers"]["tokens_s"], 2)

    result["learner_bf16"] = learner_tokens_s(model_dir, config, device)
    if not args.skip_iteration:
        result["meta_iteration"] = meta_iteration(config, spec, args)
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
