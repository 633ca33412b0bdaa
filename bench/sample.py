"""Sampling throughput: vLLM against transformers generate, same model and prompts, one run.

    python bench/sample.py [--model DIR] [--tasks 4] [--n 24] [--max-new-tokens 128] [--threads 1] [--repeat 1]

Prints, for each backend with and without the DSL grammar constraint, programs/s, valid
programs/s (those that parse, ``codeit.dsl.program.parse``), generated tokens/s and the share that
parse, then the ratios vLLM / transformers: unconstrained, and constrained (the path a run takes)
on valid programs/s. With no ``--model``, the default policy architecture (``PolicyConfig()``) is
trained for a few seconds on the toy programs (``codeit.policy.toy``) so that samples end with eos
as a real policy's do. Engine start-up is timed apart from sampling; vLLM's prefix cache is emptied
before every timed draw (a run's draws follow a weight update, which empties it). ``--repeat R``
draws R rounds (each variant once per round, so that load from elsewhere hits all alike) and reports
each variant's median. vLLM is skipped (and said so) where it does not
import.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import replace

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


class Variant:
    """One backend and setting under test: its sampler, config, and the seconds of each draw."""

    def __init__(self, name: str, sampler, config, before=None):
        self.name, self.sampler, self.config, self.before = name, sampler, config, before
        self.times: list[float] = []
        self.out = None
        sampler.sample([[1, 2]], SamplingConfig(n=1, max_new_tokens=8, constrained=config.constrained))  # warm-up

    def draw(self, prompts) -> None:
        if self.before is not None:
            self.before()
        t0 = time.perf_counter()
        self.out = self.sampler.sample(prompts, self.config)
        self.times.append(time.perf_counter() - t0)

    def row(self) -> dict:
        out, seconds = self.out, statistics.median(self.times)
        n_samples = sum(len(s) for s in out)
        n_tokens = sum(x.n_tokens for s in out for x in s)
        share = parse_share(out)
        row = {"name": self.name, "seconds": seconds, "programs_s": n_samples / seconds,
               "tokens_s": n_tokens / seconds, "parse": share, "valid_s": share * n_samples / seconds,
               "finished": sum(x.finished for s in out for x in s) / n_samples, "mean_tokens": n_tokens / n_samples}
        print(f"{self.name:<28} {seconds:7.2f} s  {row['programs_s']:8.2f} programs/s  {row['valid_s']:8.2f} valid/s  "
              f"{row['tokens_s']:8.1f} tokens/s  parse {share:6.1%}  finished {row['finished']:6.1%}  "
              f"mean {row['mean_tokens']:.0f} tokens/sample  (draws: {', '.join(f'{t:.2f}' for t in self.times)} s)",
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
    parser.add_argument("--repeat", type=int, default=1, help="rounds of draws (each variant once per round); medians are reported")
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
    constrained = replace(config, constrained=True)
    budget = min(args.max_prompt_tokens, budget_for(hf.max_positions, config) or args.max_prompt_tokens)
    prompts = task_prompts(hf.format, tasks, budget)
    dsl = hf.format.dsl_vocab
    print(machine_info(torch=torch.__version__))
    print(f"{args.threads} torch thread(s) for transformers")
    print(f"inputs: {len(prompts)} evaluation tasks ({', '.join(t.id for t in tasks)}), prompt tokens "
          f"{[len(p) for p in prompts]}, n={args.n}, max_new_tokens={args.max_new_tokens}, "
          f"temperature={args.temperature}, model {describe(hf.policy)['parameters']:,} parameters")
    with_constraints = dsl and not args.skip_constrained
    if not dsl:
        print("a foreign tokenizer: the DSL grammar constraint does not apply, unconstrained only")

    variants = [Variant("transformers generate", hf, config)]
    if with_constraints:
        variants.append(Variant("transformers + constraints", hf, constrained))
    engine = None
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
            cold = engine.llm.reset_prefix_cache
            variants.append(Variant("vLLM", engine, config, cold))
            if with_constraints:
                variants.append(Variant("vLLM + constraints", engine, constrained, cold))
    # Rounds: every variant draws once per round, so a burst of load from elsewhere hits them alike.
    for _ in range(args.repeat):
        for variant in variants:
            variant.draw(prompts)
    keys = ["hf", "hf+c", "vllm", "vllm+c"] if with_constraints else ["hf", "vllm"]
    rows = {key: variant.row() for key, variant in zip(keys, variants)}
    if engine is not None:
        t0 = time.perf_counter()
        engine.load_weights(model_dir)
        print(f"vLLM load_weights {time.perf_counter() - t0:.2f} s ({engine.reload_kind})")
        engine.close()
    hf.close()
    if "vllm" in rows:
        v, h = rows["vllm"], rows["hf"]
        print(f"ratio vLLM / transformers: programs/s {v['programs_s'] / h['programs_s']:.2f}x, "
              f"tokens/s {v['tokens_s'] / h['tokens_s']:.2f}x")
    if "vllm+c" in rows:
        v, h = rows["vllm+c"], rows["hf+c"]
        print(f"ratio constrained vLLM / constrained transformers: valid programs/s {v['valid_s'] / h['valid_s']:.2f}x "
              f"({v['valid_s']:.1f} vs {h['valid_s']:.1f}; parse {v['parse']:.1%} vs {h['parse']:.1%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
