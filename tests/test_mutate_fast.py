"""The mutator's shortcuts (a seed checked once, a mutant's shared top lines keeping their
parent's types) change nothing: the same draws give the same mutants, and a mutant passes
exactly when ``check`` passes."""

import numpy as np
from codeit.dsl.program import ProgramError, check, parse, print_program

from codeit.search.mutate import _well_typed, mutate
from codeit.seeds import load_seeds


def test_a_seed_checked_once_draws_the_same_mutants():
    seeds = load_seeds()[:40]

    def draw(with_static):
        rng = np.random.default_rng(11)
        texts = []
        for k in range(300):
            seed = seeds[k % len(seeds)]
            m = mutate(seed.program, rng, static=check(seed.program) if with_static else None)
            texts.append(print_program(m) if m is not None else None)
        return texts

    plain = draw(False)
    assert draw(True) == plain
    assert sum(t is not None for t in plain) > 250


def test_well_typed_agrees_with_check():
    parent = parse("x1 = objects(I, T, F, T)\nx2 = first(x1)\nO = subgrid(x2, I)")
    infos = check(parent)
    cases = [
        "x1 = objects(I, T, F, T)\nx2 = last(x1)\nO = subgrid(x2, I)",      # well typed, shares line 1
        "x1 = objects(I, T, F, T)\nx2 = first(x1)\nO = subgrid(x2, x1)",    # subgrid of a set of objects
        "x1 = objects(I, T, F, T)\nx2 = size(x1)\nO = subgrid(x2, I)",      # an int where a patch goes
        "x1 = vmirror(I)\nx2 = first(x1)\nO = subgrid(x2, I)",              # differs from the first line
    ]
    from codeit.dsl.program import Line, Program, Ref

    outcomes = set()
    for text in cases:
        lines = []
        for raw in text.splitlines():  # built without the parser, which would check types itself
            name, call = raw.split(" = ")
            func, args = call[:-1].split("(")
            names = {f"x{k + 1}": k for k in range(len(lines))}

            def ref(a):
                a = a.strip()
                if a == "I":
                    return Ref("input", 0)
                if a in names:
                    return Ref("var", names[a])
                return Ref("const", a)

            lines.append(Line(Ref("prim", func), tuple(ref(a) for a in args.split(","))))
        program = Program(tuple(lines))
        try:
            check(program)
            expected = True
        except ProgramError:
            expected = False
        assert _well_typed(program, parent, infos) == expected, text
        outcomes.add(expected)
    assert outcomes == {True, False}
