"""CodeIt's ablations on the default run's budget: does each part of the loop make it learn more?

Runs the ``cpu`` preset (or ``--preset``) once per variant and seed, each in its own run folder
under ``--out`` (an existing folder resumes, so a killed sweep continues where it stopped), then
prints policy-only and cumulative tasks solved per meta-iteration for every variant (the median
over seeds) and draws the curves into ``ablations.png``:

- ``full``: the whole loop;
- ``no_relabel``: sampled programs are kept only when they solve their task exactly;
- ``uniform``: experiences drawn uniformly instead of by demo accuracy;
- ``no_initial_buffer``: no seed or mutant experiences;
- ``random_init``: the policy starts from random weights instead of the DSL-pretrained ones.

    python bench/ablations.py --seeds 0 1 2 --out runs/ablations [--set meta_iterations=4 ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from machine import machine_info

VARIANTS: dict[str, dict] = {
    "full": {},
    "no_relabel": {"ablation": {"relabel": False}},
    "uniform": {"ablation": {"uniform_priorities": True}},
    "no_initial_buffer": {"initial_mutants": 0, "ablation": {"mutation_data": False}},
    "random_init": {"ablation": {"random_init": True}},
}


def merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def run_variant(preset: str, overrides: dict, folder: Path) -> list[dict]:
    from codeit.run.config import make_config
    from codeit.run.driver import Run

    config = make_config(preset, overrides)
    metrics = folder / "metrics.jsonl"
    # A finished run (every iteration counted, its final report written) is read, not reopened:
    # reopening starts its sampler (seconds to a minute for vLLM) only to find nothing left to do.
    finished = (metrics.exists() and len(metrics.read_text().splitlines()) >= config.meta_iterations
                and (not config.report_set or (folder / "report_set.json").exists()))
    if not finished:
        Run(folder, config, log=lambda line: print(f"  [{folder.name}] {line}", flush=True)).run()
    return [json.loads(line) for line in metrics.read_text().splitlines()]


def plot(curves: dict[str, list[int]], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install -e \".[plot]\")", file=sys.stderr)
        return
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    for name, solved in curves.items():
        ax.plot(range(1, len(solved) + 1), solved, marker="o", label=name)
    ax.set_xlabel("meta-iteration")
    ax.set_ylabel("tasks solved, policy only (median over seeds)")
    ax.set_title("codeit ablations")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--out", default="runs/ablations")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting every variant shares, e.g. --set meta_iterations=4")
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    args = parser.parse_args(argv)
    from codeit.commands.run import parse_overrides

    shared = parse_overrides(args.set)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(machine_info())
    print(f"preset {args.preset}, seeds {args.seeds}, shared settings {shared or 'none'}")
    results: dict[str, dict] = {}
    for name in args.variants:
        per_seed = []
        started = time.perf_counter()
        for seed in args.seeds:
            overrides = merge(merge(shared, VARIANTS[name]), {"seed": seed})
            per_seed.append(run_variant(args.preset, overrides, out / f"{name}-seed{seed}"))
        iterations = min(len(m) for m in per_seed)
        results[name] = {
            "policy": [statistics.median(m[i]["solved_policy"] for m in per_seed) for i in range(iterations)],
            "cumulative": [statistics.median(m[i]["solved_cumulative"] for m in per_seed) for i in range(iterations)],
            "wall_seconds": round(time.perf_counter() - started, 1),
        }
    width = max(len(n) for n in results)
    print(f"\n{'variant':<{width}}  policy-only solved per meta-iteration (median)   cumulative at the end   wall s")
    for name, r in results.items():
        curve = " ".join(f"{x:g}" for x in r["policy"])
        print(f"{name:<{width}}  {curve:<46}  {r['cumulative'][-1] if r['cumulative'] else 0:>20g}   {r['wall_seconds']:>6}")
    plot({n: r["policy"] for n, r in results.items()}, out / "ablations.png")
    print(f"plot: {out / 'ablations.png'}")
    if args.json:
        print(json.dumps({"machine": machine_info(), "preset": args.preset, "seeds": args.seeds, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
