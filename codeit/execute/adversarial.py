"""Programs built to overrun their limits, and how far past its time limit each interpreter
returns on them.

Each program turns a 30x30 input into values at the size cap (a 990x990 grid, a tiled grid of
tens of thousands of small objects, a million-element tuple) and hands them to the costliest
primitives, or grows an int, a tuple or a function without bound. ``overruns`` runs every one
under an executor and reports its wall time over the time limit; a run must return within twice
its limit (tests/test_limits.py). ``python -m codeit.execute.adversarial`` prints the table and
the worst ratio of both interpreters.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from codeit.dsl.program import parse
from codeit.dsl.values import Status
from codeit.execute.backends import make_executor
from codeit.execute.limits import SEARCH_LIMITS, Limits

# Ints from the constants: 100, 10**4, 10**6 and 999,990 (a tuple of that many ints is just
# inside the size cap of 1,000,000).
_MILLION = ("n1 = multiply(TEN, TEN)\nn2 = multiply(n1, n1)\nn3 = multiply(n2, n1)\n"
            "n4 = subtract(n3, TEN)\n")
# The input tiled 32 times each way: 960x960, random colours (most cells their own object).
_TILED_960 = "".join(f"h{k} = hconcat({'I' if k == 1 else f'v{k - 1}'}, {'I' if k == 1 else f'v{k - 1}'})\n"
                     f"v{k} = vconcat(h{k}, h{k})\n" for k in range(1, 6))
# The input tiled 16 times down and 8 across (480x240): some 60,000 objects, within the cap.
_TILED_480 = "".join(f"h{k} = hconcat({'I' if k == 1 else f'v{k - 1}'}, {'I' if k == 1 else f'v{k - 1}'})\n"
                     f"v{k} = vconcat(h{k}, h{k})\n" for k in range(1, 4)) + "w1 = vconcat(v3, v3)\n"
_FORTY = "k = multiply(FOUR, TEN)\n"
_UPSCALED_990 = "g1 = multiply(THREE, TEN)\ng2 = add(g1, THREE)\nG = upscale(I, g2)\n"

ADVERSARIAL: dict[str, str] = {
    "objects of a 990x990 grid": _UPSCALED_990 + "O = objects(G, T, F, F)\n",
    "objects of a 960x960 tiling": _TILED_960 + "O = objects(v5, T, T, F)\n",
    "partition of a 990x990 grid": _UPSCALED_990 + "O = partition(G)\n",
    "palette of a 990x990 grid": _UPSCALED_990 + "O = palette(G)\n",
    "mostcolor of a 960x960 tiling": _TILED_960 + "O = mostcolor(v5)\n",
    "asobject of a 990x990 grid": _UPSCALED_990 + "O = asobject(G)\n",
    "frontiers of a 990x990 grid": _UPSCALED_990 + "O = frontiers(G)\n",
    "compress of a 990x990 grid": _UPSCALED_990 + "O = compress(G)\n",
    "rot90 of a 990x990 grid, repeatedly": _UPSCALED_990 + "x1 = power(rot90, TEN)\nO = x1(G)\n",
    "hsplit of a 990x990 grid": _UPSCALED_990 + "x1 = multiply(g2, g1)\nO = hsplit(G, x1)\n",
    "occurrences in a 990x990 grid": _UPSCALED_990 + "x1 = objects(I, T, F, F)\nx2 = first(x1)\nO = occurrences(G, x2)\n",
    "cellwise of 990x990 grids": _UPSCALED_990 + "x1 = rot90(G)\nO = cellwise(G, x1, ZERO)\n",
    "order of 60,000 objects": _TILED_480 + "x1 = objects(w1, T, F, F)\nO = order(x1, identity)\n",
    "argmax of 60,000 objects": _TILED_480 + "x1 = objects(w1, T, F, F)\nO = argmax(x1, identity)\n",
    "valmin of 60,000 objects": _TILED_480 + "x1 = objects(w1, T, F, F)\nO = valmin(x1, identity)\n",
    "sizefilter of 60,000 objects": _TILED_480 + "x1 = objects(w1, T, F, F)\nO = sizefilter(x1, ONE)\n",
    "merge of 60,000 objects": _TILED_480 + "x1 = objects(w1, T, F, F)\nO = merge(x1)\n",
    "manhattan of two big patches": _TILED_480 + "x1 = ofcolor(w1, ONE)\nx2 = ofcolor(w1, TWO)\nO = manhattan(x1, x2)\n",
    "hperiod of a big object": _TILED_480 + "x1 = asobject(w1)\nO = hperiod(x1)\n",
    "difference of two million-element tuples": _MILLION + "x1 = interval(ZERO, n4, ONE)\nx2 = interval(ONE, n4, ONE)\nO = difference(x1, x2)\n",
    "contained in a million-element tuple": _MILLION + "x1 = interval(ZERO, n4, ONE)\nx2 = invert(ONE)\nO = contained(x2, x1)\n",
    "dedupe of a million-element tuple": _MILLION + "x1 = interval(ZERO, n4, ONE)\nO = dedupe(x1)\n",
    "mostcommon of a million-element tuple": _MILLION + "x1 = interval(ZERO, n4, ONE)\nO = mostcommon(x1)\n",
    "merge of a million-element tuple repeated": _MILLION + ("x1 = interval(ZERO, n4, ONE)\nx2 = rbind(repeat, n1)\n"
                                                             "x3 = compose(merge, x2)\nO = x3(x1)\n"),
    "product of two 990x990 grids": _UPSCALED_990 + "O = product(G, G)\n",
    "an int squared forty times": _FORTY + "x1 = fork(multiply, identity, identity)\nx2 = power(x1, k)\nO = x2(TEN)\n",
    "a tuple doubled forty times": _FORTY + "x1 = fork(combine, identity, identity)\nx2 = power(x1, k)\nO = x2(I)\n",
    "a grid doubled forty times": _FORTY + "x1 = fork(vconcat, identity, identity)\nx2 = power(x1, k)\nO = x2(I)\n",
    "rot90 a hundred million times": _MILLION + "x1 = multiply(n3, n1)\nx2 = power(rot90, x1)\nO = x2(I)\n",
    "a function nested two thousand deep": ("x1 = rbind(compose, increment)\nx2 = multiply(TEN, TEN)\nx3 = multiply(x2, TEN)\n"
                                            "x4 = multiply(x3, TWO)\nx5 = power(x1, x4)\nx6 = x5(increment)\nO = x6(ONE)\n"),
}
"""Adversarial programs by what they do; each runs on ``adversarial_grid()``."""


def adversarial_grid(seed: int = 0) -> np.ndarray:
    """A 30x30 grid of random colours: tiled, nearly every cell is an object of its own."""
    return np.random.default_rng(seed).integers(0, 10, size=(30, 30)).astype(np.uint8)


@dataclass(frozen=True)
class Overrun:
    """One adversarial program under one executor."""

    name: str
    status: Status
    seconds: float
    """Wall time of the run."""
    ratio: float
    """``seconds`` over the time limit: at most 2 is the contract."""


def overruns(backend: str, limits: Limits, names: list[str] | None = None) -> Iterator[Overrun]:
    """Every adversarial program (or those named) run alone under ``backend`` and ``limits``,
    one after another, each reported as soon as it returns."""
    executor = make_executor(backend, limits=limits, threads=1)
    grid = adversarial_grid()
    for name in names or list(ADVERSARIAL):
        program = parse(ADVERSARIAL[name])
        started = time.perf_counter()
        result = executor.run([program], [grid], np.array([[0, 0]]))
        seconds = time.perf_counter() - started
        yield Overrun(name, Status(int(result.status[0])), seconds, seconds / limits.time_limit)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("native", "reference"), action="append",
                        help="an interpreter to measure (default: both)")
    parser.add_argument("--search-limits", action="store_true", help="the search limits (0.25 s), not the default (1 s)")
    parser.add_argument("--program", action="append", choices=list(ADVERSARIAL), metavar="NAME",
                        help="run only this program (repeatable; default: all)")
    args = parser.parse_args(argv)
    limits = SEARCH_LIMITS if args.search_limits else Limits()
    print(f"time limit {limits.time_limit:g} s, {limits.max_steps:,} steps, size {limits.max_value_size:,}, "
          f"memory {limits.max_memory >> 20} MiB")
    for backend in args.backend or ["native", "reference"]:
        runs = []
        for run in overruns(backend, limits, args.program):
            print(f"{backend:9s} {run.ratio:6.2f}x {run.seconds:7.3f} s  {run.status.name:13s} {run.name}", flush=True)
            runs.append(run)
        worst = max(runs, key=lambda r: r.ratio)
        print(f"{backend:9s} worst overrun {worst.ratio:.2f}x ({worst.name})\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
