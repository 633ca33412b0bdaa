"""Sampling throughput: vLLM against transformers generate, same model and prompts, one run.

    python bench/sample.py [--model DIR] [--tasks 4] [--n 24] [--max-new-tokens 128] [--threads 1]

Prints programs/s and generated tokens/s for each backend and their ratio, and the share of
samples that parse (``codeit.dsl.program.parse``) without and with constrained decoding. With no
``--model``, the default policy architecture (``PolicyConfig()``) is trained for a few seconds on
the toy programs (``codeit.policy.toy``) so that samples end with eos as a real policy's do.
Engine start-up is timed apart from sampling. vLLM is skipped (and said so) where it does not import.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch

from codeit.dsl.program import ProgramError, parse
from codeit.policy.model import PolicyConfig, describe
from codeit.policy.sampler import SamplingConfig, budget_for, task_prompts
from codeit.policy.toy import toy_policy
from codeit.tasks import load_tasks
from machine import machine_info


def parse_share(out) -> float:
    ok = total = 0
    for samples in out:
        for s in samples:
            total += 1
            try:
                parse(s.text)
                ok += 1
            except ProgramError:
                pass
    return ok / max(total, 1)


def measure(name: str, sampler, prompts, config) -> dict:
    sampler.sample(prompts[:1], SamplingConfig(n=1, max_new_tokens=4))  # warm-up
    t0 = time.perf_counter()
    out = sampler.sample(prompts, config)
    seconds = time.perf_counter() - t0
    n_samples = sum(len(s) for s in out)
    n_tokens = sum(x.n_tokens for s in out for x in s)
    row = {"name": name, "seconds": seconds, "programs_s": n_samples / seconds, "tokens_s": n_tokens / seconds,
           "parse": parse_share(out), "finished": sum(x.finished for s in out for x in s) / n_samples,
           "mean_tokens": n_tokens / n_samples}
    print(f"{name:<28} {seconds:7.1f} s  {row['programs_s']:8.2f} programs/s  {row['tokens_s']:8.1f} tokens/s  "
          f"parse {row['parse']:6.1%}  finished {row['finished']:6.1%}  mean {row['mean_tokens']:.0f} tokens/sample",
          flush=True)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a saved decoder-only policy folder (default: train the default size briefly)")
    parser.add_argument("--tasks", type=int, default=4, help="first N ARC-AGI-1 evaluation tasks as prompts")
    parser.add_argument("--n", type=int, default=24, help="samples per prompt")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--max-prompt-tokens", type=int, default=512, help="encoding budget per prompt")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads for transformers (vLLM uses its own)")
    parser.add_argument("--skip-vllm", action="store_true")
    parser.add_argument("--skip-constrained", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    workdir = tempfile.mkdtemp(prefix="codeit-bench-sample-")
    model_dir = args.model
    if model_dir is None:
        t0 = time.perf_counter()
        policy = toy_policy(PolicyConfig(max_positions=2048), steps=150)
        model_dir = os.path.join(workdir, "policy")
        policy.save(model_dir)
        print(f"trained the default-size policy for {time.perf_counter() - t0:.0f} s: {describe(policy)}")

    from codeit.policy.hf_sampler import HFSampler

    hf = HFSampler(model_dir)
    tasks = list(load_tasks("arc1/evaluation"))[: args.tasks]
    config = SamplingConfig(n=args.n, max_new_tokens=args.max_new_tokens, temperature=args.temperature, seed=0,
                            prompts_per_batch=args.tasks)
    budget = min(args.max_prompt_tokens, budget_for(hf.max_positions, config) or args.max_prompt_tokens)
    prompts = task_prompts(hf.format, tasks, budget)
    print(machine_info(torch=torch.__version__))
    print(f"{args.threads} torch thread(s) for transformers")
    print(f"inputs: {len(prompts)} evaluation tasks ({', '.join(t.id for t in tasks)}), prompt tokens "
          f"{[len(p) for p in prompts]}, n={args.n}, max_new_tokens={args.max_new_tokens}, "
          f"temperature={args.temperature}, model {describe(hf.policy)['parameters']:,} parameters")

    rows = [measure("transformers generate", hf, prompts, config)]
    if not args.skip_constrained:
        from dataclasses import replace
        constrained = replace(config, constrained=True)
        growing = HFSampler(model_dir, static_cache=False)
        before = measure("  ... growing cache (before)", growing, prompts, constrained)
        growing.close()
        rows.append(measure("transformers + constraints", hf, prompts, constrained))
        print(f"ratio static / growing cache (constrained): programs/s {rows[-1]['programs_s'] / before['programs_s']:.2f}x")
    hf.close()

    vllm_row = None
    if not args.skip_vllm:
        try:
            import vllm  # noqa: F401
        except ImportError as e:
            print(f"vLLM: not importable here ({e}); skipped")
        else:
            from codeit.policy.vllm_sampler import VLLMSampler
            t0 = time.perf_counter()
            engine = VLLMSampler(model_dir)
            print(f"vLLM engine start {time.perf_counter() - t0:.1f} s (cpu={engine.cpu})", flush=True)
            vllm_row = measure("vLLM", engine, prompts, config)
            t0 = time.perf_counter()
            engine.load_weights(model_dir)
            print(f"vLLM load_weights {time.perf_counter() - t0:.1f} s ({'restart' if engine.cpu else 'in place'})")
            engine.close()
    if vllm_row is not None:
        base = rows[0]
        print(f"ratio vLLM / transformers: programs/s {vllm_row['programs_s'] / base['programs_s']:.2f}x, "
              f"tokens/s {vllm_row['tokens_s'] / base['tokens_s']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
