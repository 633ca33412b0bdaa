"""Many programs as four flat int32 arrays, so a whole program list crosses to Ray workers once.

A list of ``Program`` objects pickles as a tree of small Python objects that every worker would
unpickle in full for every batch. Flat numpy arrays instead sit in Ray's object store and are read
zero-copy; a worker slices out only the programs its batch runs and compiles those.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from codeit.dsl.program import Program, ProgramArrays, ProgramError, parse


@dataclass(frozen=True)
class PackedPrograms:
    """Programs ``0..n-1`` packed end to end (the layout of ``ProgramArrays``, concatenated)."""

    callee: np.ndarray
    """int32 [total lines, 2]: callee ref of every line of every program, program after program."""
    arg_count: np.ndarray
    """int32 [total lines]: number of arguments of each line."""
    args: np.ndarray
    """int32 [total args, 2]: every argument ref, line after line."""
    line_start: np.ndarray
    """int64 [n + 1]: program p's lines are ``callee[line_start[p]:line_start[p + 1]]``."""
    arg_start: np.ndarray
    """int64 [n + 1]: program p's arguments are ``args[arg_start[p]:arg_start[p + 1]]``."""

    def __len__(self) -> int:
        return len(self.line_start) - 1

    def program(self, p: int) -> ProgramArrays:
        """Program p as the ``ProgramArrays`` the native interpreter compiles."""
        lo, hi = int(self.line_start[p]), int(self.line_start[p + 1])
        offsets = np.zeros(hi - lo + 1, dtype=np.int32)
        np.cumsum(self.arg_count[lo:hi], out=offsets[1:])
        args = self.args[int(self.arg_start[p]) : int(self.arg_start[p + 1])]
        return ProgramArrays(callee=self.callee[lo:hi], arg_offsets=offsets, args=args)


def as_arrays(program: Program | str | ProgramArrays, index: int) -> ProgramArrays:
    if isinstance(program, ProgramArrays):
        return program
    if isinstance(program, str):
        try:
            program = parse(program)
        except ProgramError as exc:
            raise ProgramError(exc.line, f"program {index}: {exc.reason}", exc.text) from None
    if not isinstance(program, Program):
        raise TypeError(f"program {index}: expected a Program, program text or ProgramArrays, got {type(program).__name__}")
    return program.to_arrays()


def pack_programs(programs: Sequence[Program | str | ProgramArrays]) -> PackedPrograms:
    """Pack programs (IR, text or arrays) in order; a text that does not parse names its index."""
    arrays = [as_arrays(p, k) for k, p in enumerate(programs)]
    n_lines = np.array([len(a.callee) for a in arrays], dtype=np.int64)
    n_args = np.array([len(a.args) for a in arrays], dtype=np.int64)
    line_start = np.zeros(len(arrays) + 1, dtype=np.int64)
    arg_start = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum(n_lines, out=line_start[1:])
    np.cumsum(n_args, out=arg_start[1:])
    if arrays:
        callee = np.concatenate([np.asarray(a.callee, dtype=np.int32).reshape(-1, 2) for a in arrays])
        arg_count = np.concatenate([np.diff(np.asarray(a.arg_offsets, dtype=np.int64)).astype(np.int32) for a in arrays])
        args = np.concatenate([np.asarray(a.args, dtype=np.int32).reshape(-1, 2) for a in arrays])
    else:
        callee = np.zeros((0, 2), np.int32)
        arg_count = np.zeros(0, np.int32)
        args = np.zeros((0, 2), np.int32)
    return PackedPrograms(callee, arg_count, args, line_start, arg_start)
