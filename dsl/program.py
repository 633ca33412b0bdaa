"""Program text <-> IR: the hand-written parser, the type checker and the canonical printer.

Text format (see README.md): one assignment a line, ``NAME = CALLEE(ARG, ARG, ...)``; the callee
and every argument are names (``I``, an earlier variable, a constant, a primitive); the last line
assigns ``O``; blank lines and ``#`` comments are dropped. The parser reads the text with a small
tokenizer and never hands it to Python (no eval, exec or ast): program text is data.

IR: ``Program(lines)``; ``Line(func, args)``; line k defines variable k, the last line defines
``O``; ``Ref(kind, value)`` with kind ``"input"`` (value 0), ``"var"`` (value: index of an earlier
line), ``"const"`` (value: constant name) or ``"prim"`` (value: primitive name).

Compact form for the native side (``Program.to_arrays``): every ref is an integer pair
``(kind_code, value_id)``: kind codes ``0`` input (id 0), ``1`` var (id: line index), ``2`` const
(id: row in constants.tsv), ``3`` prim (id: row in primitives.tsv). ``ProgramArrays.callee`` is
an ``int32[n_lines, 2]`` array of callee refs; the arguments of line k are the rows
``args[arg_offsets[k]:arg_offsets[k + 1]]`` of the ``int32[n_args, 2]`` array ``args``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from codeit.dsl import registry
from codeit.dsl.types import (
    ANY, BOOLEAN, CALLABLE, GRID, DslType, Shape, is_compatible,
)

INPUT_NAME = "I"
OUTPUT_NAME = "O"
KINDS = ("input", "var", "const", "prim")
KIND_CODES = {kind: code for code, kind in enumerate(KINDS)}


@dataclass(frozen=True)
class Ref:
    """A name in a program: the input, an earlier variable, a constant or a primitive."""

    kind: str
    """One of ``"input"``, ``"var"``, ``"const"``, ``"prim"``."""
    value: int | str
    """0 for the input; the defining line's index for a var; the name of a const or prim."""

    def __post_init__(self) -> None:
        if self.kind not in KIND_CODES:
            raise ValueError(f"Ref kind must be one of {KINDS}, got {self.kind!r}")


INPUT = Ref("input", 0)


@dataclass(frozen=True)
class Line:
    """One program line: ``func(*args)``; line k of a program defines variable k."""

    func: Ref
    """The callee: a primitive, or a variable that holds a function."""
    args: tuple[Ref, ...]
    """The arguments, in order."""


@dataclass(frozen=True)
class Program:
    """A straight-line program; the last line defines the output ``O``."""

    lines: tuple[Line, ...]
    """The lines, in order."""
    source_lines: tuple[int, ...] = field(default=(), compare=False, repr=False)
    """1-based line number in the parsed text of each IR line (empty when not parsed from text)."""

    def source_line(self, index: int) -> int:
        """1-based text line of IR line ``index``: the parsed line number, else ``index + 1``."""
        if index < len(self.source_lines):
            return self.source_lines[index]
        return index + 1

    def to_arrays(self) -> ProgramArrays:
        """The compact integer form for the native interpreter (see the module docstring)."""
        callee = np.array([_ref_code(line.func) for line in self.lines], dtype=np.int32).reshape(-1, 2)
        offsets = np.zeros(len(self.lines) + 1, dtype=np.int32)
        flat: list[tuple[int, int]] = []
        for k, line in enumerate(self.lines):
            flat.extend(_ref_code(a) for a in line.args)
            offsets[k + 1] = len(flat)
        args = np.array(flat, dtype=np.int32).reshape(-1, 2)
        return ProgramArrays(callee=callee, arg_offsets=offsets, args=args)

    @staticmethod
    def from_arrays(arrays: ProgramArrays) -> Program:
        """The inverse of ``to_arrays``."""
        lines = []
        for k in range(arrays.callee.shape[0]):
            lo, hi = int(arrays.arg_offsets[k]), int(arrays.arg_offsets[k + 1])
            args = tuple(_ref_from_code(int(c), int(v)) for c, v in arrays.args[lo:hi])
            lines.append(Line(_ref_from_code(int(arrays.callee[k, 0]), int(arrays.callee[k, 1])), args))
        return Program(tuple(lines))

    def __str__(self) -> str:
        return print_program(self)


@dataclass(frozen=True)
class ProgramArrays:
    """A program as integer arrays; refs are ``(kind_code, value_id)`` rows (module docstring)."""

    callee: np.ndarray
    """``int32[n_lines, 2]``: the callee ref of each line."""
    arg_offsets: np.ndarray
    """``int32[n_lines + 1]``: line k's arguments are ``args[arg_offsets[k]:arg_offsets[k+1]]``."""
    args: np.ndarray
    """``int32[n_args, 2]``: every argument ref, line after line."""


def _ref_code(ref: Ref) -> tuple[int, int]:
    if ref.kind == "input":
        return (0, 0)
    if ref.kind == "var":
        return (1, int(ref.value))
    if ref.kind == "const":
        return (2, registry.constant(str(ref.value)).id)
    return (3, registry.primitive(str(ref.value)).id)


def _ref_from_code(code: int, value: int) -> Ref:
    if code == 0:
        return INPUT
    if code == 1:
        return Ref("var", value)
    if code == 2:
        return Ref("const", registry.CONSTANTS[value].name)
    if code == 3:
        return Ref("prim", registry.PRIMITIVES[value].name)
    raise ValueError(f"unknown ref kind code {code}")


class ProgramError(ValueError):
    """A program text or IR that is not a well-formed, well-typed program."""

    def __init__(self, line: int, reason: str, text: str | None = None):
        self.line = line
        """1-based line number in the program text."""
        self.reason = reason
        """What is wrong, in words."""
        self.text = text
        """The offending source line, when known."""
        message = f"line {line}: {reason}"
        if text is not None:
            message += f"  [{text.strip()}]"
        super().__init__(message)


# ---------------------------------------------------------------------------------------------
# Static information about values: used by the type checker, the generator and the mutator.


@dataclass(frozen=True)
class ValueInfo:
    """What is statically known about the value of a ref."""

    type: DslType
    """Its static type."""
    arity: int | None = None
    """For a function value, how many arguments it takes, when known."""
    returns: DslType = ANY
    """For a function value, the static type of what it returns."""

    @property
    def may_be_function(self) -> bool:
        return bool(self.type.shapes & Shape.FUNCTION)


INPUT_INFO = ValueInfo(GRID)


def ref_info(ref: Ref, var_infos: list[ValueInfo] | tuple[ValueInfo, ...]) -> ValueInfo:
    """Static information about ``ref`` given the infos of the variables defined so far."""
    if ref.kind == "input":
        return INPUT_INFO
    if ref.kind == "var":
        return var_infos[int(ref.value)]
    if ref.kind == "const":
        return ValueInfo(registry.constant(str(ref.value)).type)
    spec = registry.primitive(str(ref.value))
    return ValueInfo(CALLABLE, spec.arity, spec.return_type)


def _join(a: ValueInfo, b: ValueInfo) -> ValueInfo:
    if a == b:
        return a
    shapes = a.type.shapes | b.type.shapes
    joined = a.type if shapes == a.type.shapes else b.type if shapes == b.type.shapes else ANY
    arity = a.arity if a.arity == b.arity else None
    returns = a.returns if a.returns == b.returns else ANY
    return ValueInfo(joined, arity, returns)


def _bound_arity(n: int | None) -> int | None:
    # lbind/rbind as in arc-dsl: a 2-parameter function gives 1, 3 gives 2, any other count a
    # 3-parameter lambda.
    if n is None:
        return None
    return {2: 1, 3: 2}.get(n, 3)


def _builder_info(name: str, args: list[ValueInfo]) -> ValueInfo | None:
    """The function value made by a function-building primitive, from its argument infos.

    compose, chain, fork and matcher make one-parameter functions whatever their parts take
    (arc-dsl's ``lambda x: ...``); ``power(f, 1)`` is ``f`` itself, any other n a one-parameter
    function, so its arity is known only when ``f`` takes one.
    """
    def arity(info: ValueInfo) -> int | None:
        return info.arity if info.may_be_function else None

    if name == "compose":
        return ValueInfo(CALLABLE, 1, args[0].returns)
    if name == "chain":
        return ValueInfo(CALLABLE, 1, args[0].returns)
    if name == "fork":
        return ValueInfo(CALLABLE, 1, args[0].returns)
    if name in ("lbind", "rbind"):
        return ValueInfo(CALLABLE, _bound_arity(arity(args[0])), args[0].returns)
    if name == "power":
        return ValueInfo(CALLABLE, 1 if arity(args[0]) == 1 else None, args[0].returns)
    if name == "matcher":
        return ValueInfo(CALLABLE, 1, BOOLEAN)
    return None


class CheckFailure(Exception):
    """A line that is ill-formed or ill-typed; the caller adds the line number."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def ref_name(ref: Ref, n_lines: int | None = None) -> str:
    """The canonical text of a ref (variables are ``x1, x2, ...``; the last line is ``O``)."""
    if ref.kind == "input":
        return INPUT_NAME
    if ref.kind == "var":
        k = int(ref.value)
        return OUTPUT_NAME if n_lines is not None and k == n_lines - 1 else f"x{k + 1}"
    return str(ref.value)


def infer_line(line: Line, var_infos: list[ValueInfo] | tuple[ValueInfo, ...],
               names: list[str] | None = None) -> ValueInfo:
    """Check one line against the infos of the variables before it; return its value's info.

    Raises ``CheckFailure`` with the reason when the line is ill-formed or ill-typed.
    ``names``, when given, are the source names of the variables (for messages).
    """
    def show(ref: Ref) -> str:
        if ref.kind == "var" and names is not None:
            return names[int(ref.value)]
        return ref_name(ref)

    for ref in (line.func, *line.args):
        if ref.kind == "var" and not 0 <= int(ref.value) < len(var_infos):
            raise CheckFailure(f"variable {show(ref)} is used before its definition")
        if ref.kind == "const" and ref.value not in registry.CONSTANTS_BY_NAME:
            raise CheckFailure(f"unknown constant {ref.value!r}")
        if ref.kind == "prim" and ref.value not in registry.PRIMITIVES_BY_NAME:
            raise CheckFailure(f"unknown primitive {ref.value!r}")
    arg_infos = [ref_info(a, var_infos) for a in line.args]
    n_args = len(line.args)
    if line.func.kind == "prim":
        spec = registry.primitive(str(line.func.value))
        if n_args != spec.arity:
            raise CheckFailure(
                f"{spec.name} takes {spec.arity} argument{'s' if spec.arity != 1 else ''} "
                f"({', '.join(spec.param_names)}), got {n_args}")
        for pos, (ref, info, pname, ptype) in enumerate(
                zip(line.args, arg_infos, spec.param_names, spec.param_types), start=1):
            if not is_compatible(info.type, ptype):
                raise CheckFailure(
                    f"argument {pos} of {spec.name} ({pname}) must be {ptype}, "
                    f"but {show(ref)} is {info.type}")
        built = _builder_info(spec.name, arg_infos)
        if built is not None:
            return built
        if spec.name == "identity":
            return arg_infos[0]
        if spec.name == "branch":
            return _join(arg_infos[1], arg_infos[2])
        if spec.name in ("valmax", "valmin"):
            # The extreme of compfunc's values: a pair when compfunc is shape, say.
            return ValueInfo(arg_infos[1].returns)
        return ValueInfo(spec.return_type)
    callee = ref_info(line.func, var_infos)
    if not callee.may_be_function:
        raise CheckFailure(f"{show(line.func)} is {callee.type}, not a function, and cannot be called")
    if callee.arity is not None and callee.arity != n_args:
        raise CheckFailure(
            f"{show(line.func)} is a function of {callee.arity} argument{'s' if callee.arity != 1 else ''}, "
            f"called with {n_args}")
    return ValueInfo(callee.returns)


def check(program: Program) -> tuple[ValueInfo, ...]:
    """Check an IR (from the parser, the generator or the mutator); return each line's info.

    Raises ``ProgramError`` naming the (source) line and the reason.
    """
    if not program.lines:
        raise ProgramError(1, "empty program: there is no line assigning O")
    infos: list[ValueInfo] = []
    for k, line in enumerate(program.lines):
        if not isinstance(line, Line) or not isinstance(line.func, Ref):
            raise ProgramError(program.source_line(k), f"not a Line: {line!r}")
        try:
            infos.append(infer_line(line, infos))
        except CheckFailure as e:
            raise ProgramError(program.source_line(k), e.reason) from None
    return tuple(infos)


# ---------------------------------------------------------------------------------------------
# Printer.


def print_line(line: Line, index: int, n_lines: int) -> str:
    """Canonical text of line ``index`` of a program of ``n_lines`` lines (no newline)."""
    target = OUTPUT_NAME if index == n_lines - 1 else f"x{index + 1}"
    args = ", ".join(ref_name(a, n_lines) for a in line.args)
    return f"{target} = {ref_name(line.func, n_lines)}({args})"


def print_program(program: Program) -> str:
    """Canonical text: variables ``x1, x2, ...`` in order, ``O`` last, one newline per line."""
    n = len(program.lines)
    return "".join(print_line(line, k, n) + "\n" for k, line in enumerate(program.lines))


# ---------------------------------------------------------------------------------------------
# Parser.

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>[0-9][0-9A-Za-z_.]*)
  | (?P<string>'[^']*'?|"[^"]*"?)
  | (?P<punct>\*\*|[=(),.*\[\]{}:;+\-/<>!@%&|^~\\`$?])
  | (?P<other>.)
""", re.VERBOSE)

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "space":
            continue
        tokens.append(_Token(kind, m.group()))
    return tokens


def _describe(tok: _Token | None) -> str:
    if tok is None:
        return "the end of the line"
    return f"{tok.text!r}"


def _misplaced(tok: _Token | None, following: _Token | None, where: str) -> str:
    """Why ``tok`` (followed by ``following``) cannot stand where a name is expected."""
    if tok is None:
        return f"expected a name {where}, found the end of the line"
    if tok.kind in ("number", "string"):
        return f"literal {tok.text} {where}: arguments must be names (constants such as ONE, T)"
    if tok.text in ("*", "**"):
        return f"star argument {where}: arguments must be plain names"
    if tok.text in ("(", "[", "{"):
        return f"{tok.text!r} {where}: tuples, lists, sets and parenthesized expressions are not allowed"
    if tok.kind == "name" and following is not None:
        if following.text == "(":
            return f"nested call {tok.text}(...) {where}: assign the inner call to its own variable"
        if following.text == ".":
            return f"attribute access {tok.text}. {where}: not allowed"
        if following.text == "=":
            return f"keyword argument {tok.text}= {where}: arguments are positional names"
        if following.text == "[":
            return f"subscription {tok.text}[...] {where}: not allowed"
    return f"unexpected {_describe(tok)} {where}"


@dataclass(frozen=True)
class _SyntaxLine:
    target: str
    callee: str
    args: tuple[str, ...]


def _parse_syntax(code: str) -> _SyntaxLine:
    """One line's syntax: ``NAME = NAME(NAME, ...)``; raises CheckFailure with the reason."""
    toks = _tokenize(code)

    def at(i: int) -> _Token | None:
        return toks[i] if i < len(toks) else None

    bad = next((t for t in toks if t.kind == "other"), None)
    if bad is not None:
        raise CheckFailure(f"unexpected character {bad.text!r}")
    if at(0) is not None and at(0).text == "return":
        raise CheckFailure("'return' is not part of the program format: the last line assigns O")
    if at(0) is None or at(0).kind != "name" or at(1) is None or at(1).text != "=":
        if at(0) is not None and at(0).kind == "name" and at(1) is not None and at(1).text == ",":
            raise CheckFailure("several assignment targets: assign one variable a line")
        if "=" not in [t.text for t in toks]:
            raise CheckFailure("not an assignment: expected NAME = FUNCTION(ARG, ...)")
        raise CheckFailure("the left side of '=' must be a single variable name")
    target = at(0).text
    callee_tok, after = at(2), at(3)
    if callee_tok is None:
        raise CheckFailure("nothing after '=': expected FUNCTION(ARG, ...)")
    if callee_tok.kind != "name":
        raise CheckFailure(_misplaced(callee_tok, after, "after '='").replace("arguments must", "calls must"))
    if after is None or after.text != "(":
        if after is None:
            raise CheckFailure(f"{target} = {callee_tok.text} is not a call: every line is one call")
        if after.text == ".":
            raise CheckFailure(f"attribute access {callee_tok.text}. after '=': not allowed")
        raise CheckFailure(f"expected '(' after {callee_tok.text}, found {_describe(after)}")
    i = 4
    args: list[str] = []
    if at(i) is not None and at(i).text == ")":
        i += 1
    else:
        while True:
            tok, nxt = at(i), at(i + 1)
            if tok is None or tok.kind != "name" or nxt is None or nxt.text not in (",", ")"):
                if tok is not None and tok.kind == "name" and nxt is None:
                    raise CheckFailure("missing ')' at the end of the call")
                if tok is not None and tok.text == ")" and args:
                    raise CheckFailure("trailing comma before ')'")
                raise CheckFailure(_misplaced(tok, nxt, f"in argument {len(args) + 1}"))
            args.append(tok.text)
            i += 2
            if nxt.text == ")":
                break
    if at(i) is not None:
        if at(i).text == "(":
            raise CheckFailure("calling the result of a call: assign it to a variable first")
        if at(i).text == ".":
            raise CheckFailure("attribute access on a call result: not allowed")
        raise CheckFailure(f"unexpected {_describe(at(i))} after the call")
    return _SyntaxLine(target, callee_tok.text, tuple(args))


def _strip_comment(text: str) -> str:
    return text.split("#", 1)[0]


def parse(text: str) -> Program:
    """Parse and check program text; raises ``ProgramError`` naming the line and the reason."""
    if not isinstance(text, str):
        raise TypeError(f"parse() takes program text (str), got {type(text).__name__}")
    raw_lines = text.splitlines()
    parsed: list[tuple[int, str, _SyntaxLine | CheckFailure]] = []
    for number, raw in enumerate(raw_lines, start=1):
        code = _strip_comment(raw).strip()
        if not code:
            continue
        try:
            parsed.append((number, raw, _parse_syntax(code)))
        except CheckFailure as e:
            parsed.append((number, raw, e))
    if not parsed:
        raise ProgramError(1, "empty program: there is no line assigning O")

    # Where every name is (first) assigned, so that a use before it can say so.
    first_definition: dict[str, int] = {}
    for number, _, item in parsed:
        if isinstance(item, _SyntaxLine):
            first_definition.setdefault(item.target, number)

    defined: dict[str, int] = {}        # name -> IR line index
    defined_at: dict[str, int] = {}     # name -> source line
    names: list[str] = []
    infos: list[ValueInfo] = []
    lines: list[Line] = []
    source_lines: list[int] = []
    output_line: int | None = None

    def resolve(name: str, number: int) -> Ref:
        if name in defined:
            return Ref("var", defined[name])
        if name == INPUT_NAME:
            return INPUT
        if name in registry.CONSTANTS_BY_NAME:
            return Ref("const", name)
        if name in registry.PRIMITIVES_BY_NAME:
            return Ref("prim", name)
        later = first_definition.get(name)
        if later is not None and later >= number:
            raise CheckFailure(f"{name} is used before its definition (line {later})")
        raise CheckFailure(f"unknown name {name!r}")

    for number, raw, item in parsed:
        try:
            if isinstance(item, CheckFailure):
                raise item
            if output_line is not None:
                raise CheckFailure(f"a line follows the output O (assigned on line {output_line}): O must be the last line")
            target = item.target
            if target == INPUT_NAME:
                raise CheckFailure("cannot assign to I: it is the input grid")
            if target in registry.PRIMITIVES_BY_NAME:
                raise CheckFailure(f"cannot assign to {target}: it is a primitive")
            if target in registry.CONSTANTS_BY_NAME:
                raise CheckFailure(f"cannot assign to {target}: it is a constant")
            if target in defined:
                raise CheckFailure(f"redefinition of {target} (first assigned on line {defined_at[target]})")
            func = resolve(item.callee, number)
            if func.kind in ("input", "const"):
                raise CheckFailure(f"{item.callee} is {'the input grid' if func.kind == 'input' else 'a constant'}, not a function, and cannot be called")
            args = tuple(resolve(a, number) for a in item.args)
            line = Line(func, args)
            infos.append(infer_line(line, infos, names))
        except CheckFailure as e:
            raise ProgramError(number, e.reason, raw) from None
        defined[target] = len(lines)
        defined_at[target] = number
        names.append(target)
        lines.append(line)
        source_lines.append(number)
        if target == OUTPUT_NAME:
            output_line = number
    if output_line is None:
        last_number, last_raw, _ = parsed[-1]
        raise ProgramError(last_number, "the program never assigns O: its last line must be O = ...", last_raw)
    return Program(tuple(lines), tuple(source_lines))


def is_name(text: str) -> bool:
    """Whether ``text`` is a syntactically valid variable name."""
    return bool(_NAME_RE.match(text))
