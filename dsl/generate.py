"""A typed random program generator: grows well-formed programs from ``I`` using the registry.

Each line calls a primitive (or, sometimes, a variable holding a function of known arity) whose
every parameter can be filled with an earlier variable, the input, a constant or a primitive
used as a value of compatible static type. Recent variables are preferred so that lines build on
each other; the last line assigns ``O`` and prefers a primitive that returns a ``Grid``.
Every program it returns passes ``program.check``. Used by the property tests and the mutator.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from codeit.dsl import registry
from codeit.dsl.program import INPUT, INPUT_INFO, Line, Program, Ref, ValueInfo, check, infer_line, CheckFailure
from codeit.dsl.types import ANY, CALLABLE, GRID, DslType, Shape, is_compatible, is_subtype


@dataclass(frozen=True)
class GeneratorConfig:
    """How random programs are drawn."""

    min_lines: int = 1
    """Fewest lines of a program (the ``O`` line included)."""
    max_lines: int = 8
    """Most lines of a program (the ``O`` line included)."""
    p_call_variable: float = 0.1
    """Chance that a line calls a function-valued variable rather than a primitive, when one exists."""
    p_constant: float = 0.3
    """Chance of preferring a constant for a parameter a constant can fill."""
    p_grid_output: float = 0.9
    """Chance that the last line is forced to be a primitive returning a Grid."""
    recency: float = 0.6
    """Weight decay per line of age when choosing an earlier variable (1 = uniform)."""
    max_tries: int = 50
    """Attempts at drawing a fillable callee for one line before giving up on the line's constraint."""
    p_chain: float = 0.0
    """Chance that a line after the first must use the line before it (as an argument, or as the
    function it calls), so that fewer lines are dead; 0 (the default) leaves every line free."""


_GRID_RETURNING = tuple(p for p in registry.PRIMITIVES if is_subtype(p.return_type, GRID))


def _choose(rng: np.random.Generator, items: list, weights: list[float] | None = None):
    if weights is None:
        return items[int(rng.integers(len(items)))]
    w = np.asarray(weights, dtype=float)
    return items[int(rng.choice(len(items), p=w / w.sum()))]


@functools.lru_cache(maxsize=None)
def _constants_for(ptype: DslType) -> tuple[list, list]:
    """The constants that may fill a ``ptype`` parameter, and those that surely fit (memoized:
    the type tests on enum flags were most of the generator's time)."""
    constants = [c for c in registry.CONSTANTS if is_compatible(c.type, ptype)]
    return constants, [c for c in constants if is_subtype(c.type, ptype)]


def fill_parameter(rng: np.random.Generator, ptype: DslType, infos: list[ValueInfo],
          config: GeneratorConfig) -> Ref | None:
    """A ref of a type compatible with ``ptype``, or None when nothing fits."""
    wants_function = bool(ptype.shapes & Shape.FUNCTION)
    if wants_function and (ptype == CALLABLE or rng.random() < 0.3):
        fn_vars = [k for k, info in enumerate(infos) if info.may_be_function and is_compatible(info.type, ptype)]
        if fn_vars and rng.random() < 0.4:
            return Ref("var", _choose(rng, fn_vars))
        return Ref("prim", _choose(rng, registry.PRIMITIVES).name)

    constants, exact_constants = _constants_for(ptype)
    candidates: list[tuple[Ref, float]] = []
    n = len(infos)
    if is_compatible(INPUT_INFO.type, ptype):
        candidates.append((INPUT, (2.0 if is_subtype(GRID, ptype) else 0.5)))
    for k, info in enumerate(infos):
        if info.type.shapes == Shape.FUNCTION and not wants_function:
            continue
        if is_compatible(info.type, ptype):
            weight = config.recency ** (n - 1 - k)
            weight *= 1.0 if is_subtype(info.type, ptype) else 0.3
            candidates.append((Ref("var", k), weight))
    use_constant = constants and (not candidates or rng.random() < config.p_constant)
    if use_constant:
        return Ref("const", _choose(rng, exact_constants or constants).name)
    if not candidates:
        return None
    return _choose(rng, [r for r, _ in candidates], [w for _, w in candidates])




@functools.lru_cache(maxsize=None)
def _accepting(vtype: DslType, want_grid: bool) -> list[tuple]:
    """(primitive, parameter positions) pairs whose parameters at those positions accept ``vtype``."""
    options = []
    for spec in (_GRID_RETURNING if want_grid else registry.PRIMITIVES):
        positions = [p for p, ptype in enumerate(spec.param_types) if is_compatible(vtype, ptype)]
        if positions:
            options.append((spec, positions))
    return options


def _draw_chained_line(rng: np.random.Generator, infos: list[ValueInfo], config: GeneratorConfig,
                       want_grid: bool, must_use: int) -> tuple[Line, ValueInfo] | None:
    """A line that uses variable ``must_use``: calls it (a function) or passes it as an argument."""
    info = infos[must_use]
    if info.may_be_function and info.arity is not None and not want_grid and rng.random() < 0.5:
        args = []
        for _ in range(info.arity):
            ref = fill_parameter(rng, ANY, infos, config)
            if ref is None:
                return None
            args.append(ref)
        line = Line(Ref("var", must_use), tuple(args))
    else:
        options = _accepting(info.type, want_grid)
        if not options:
            return None
        spec, positions = _choose(rng, options)
        at = _choose(rng, positions)
        args = []
        for p, ptype in enumerate(spec.param_types):
            ref = Ref("var", must_use) if p == at else fill_parameter(rng, ptype, infos, config)
            if ref is None:
                return None
            args.append(ref)
        line = Line(Ref("prim", spec.name), tuple(args))
    try:
        return line, infer_line(line, infos)
    except CheckFailure:
        return None


def _draw_line(rng: np.random.Generator, infos: list[ValueInfo], config: GeneratorConfig,
               want_grid: bool, must_use: int | None = None) -> tuple[Line, ValueInfo] | None:
    if must_use is not None:
        return _draw_chained_line(rng, infos, config, want_grid, must_use)
    fn_vars = [k for k, info in enumerate(infos) if info.may_be_function and info.arity is not None]
    if fn_vars and not want_grid and rng.random() < config.p_call_variable:
        k = _choose(rng, fn_vars)
        args = []
        for _ in range(infos[k].arity):
            ref = fill_parameter(rng, ANY, infos, config)
            if ref is None:
                return None
            args.append(ref)
        line = Line(Ref("var", k), tuple(args))
    else:
        spec = _choose(rng, list(_GRID_RETURNING if want_grid else registry.PRIMITIVES))
        args = []
        for ptype in spec.param_types:
            ref = fill_parameter(rng, ptype, infos, config)
            if ref is None:
                return None
            args.append(ref)
        line = Line(Ref("prim", spec.name), tuple(args))
    try:
        return line, infer_line(line, infos)
    except CheckFailure:
        return None


def random_program(rng: np.random.Generator, config: GeneratorConfig = GeneratorConfig()) -> Program:
    """A random well-formed program of ``min_lines..max_lines`` lines, drawn from ``rng``."""
    if not 1 <= config.min_lines <= config.max_lines:
        raise ValueError(f"GeneratorConfig needs 1 <= min_lines <= max_lines, got {config.min_lines}, {config.max_lines}")
    n_lines = int(rng.integers(config.min_lines, config.max_lines + 1))
    infos: list[ValueInfo] = []
    lines: list[Line] = []
    for k in range(n_lines):
        last = k == n_lines - 1
        want_grid = last and rng.random() < config.p_grid_output
        chain = k > 0 and config.p_chain > 0 and rng.random() < config.p_chain
        drawn = None
        for attempt in range(config.max_tries):
            early = attempt < config.max_tries // 2
            drawn = _draw_line(rng, infos, config, want_grid and early, k - 1 if chain and early else None)
            if drawn is not None:
                break
        if drawn is None:
            # identity(I) always fits: the program stays well-formed whatever was drawn before.
            drawn = (Line(Ref("prim", "identity"), (INPUT,)), INPUT_INFO)
        lines.append(drawn[0])
        infos.append(drawn[1])
    program = Program(tuple(lines))
    check(program)
    return program
