"""The text files users give codeit (tasks, programs, solver files, settings), read so that a fault
of the file is reported as one, naming the file.

Bytes that are not UTF-8 and nesting deeper than a parser recurses are faults of the input, yet
Python reports them without the file (a ``UnicodeDecodeError`` that says only ``'utf-8' codec``,
a ``RecursionError``); :func:`read_text` and :func:`fault_of` put the file and the words back.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


class TextFileError(ValueError):
    """A file (or standard input) whose content cannot be read as text."""

    def __init__(self, source: str, fault: str):
        self.source = source
        """The file, or ``<stdin>``."""
        self.fault = fault
        """What is wrong with it, in words."""
        super().__init__(f"{source}: {fault}")


def fault_of(exc: UnicodeDecodeError | RecursionError) -> str:
    """The words for a fault of a file's content that Python reports without naming the file."""
    if isinstance(exc, UnicodeDecodeError):
        data = exc.object
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return f"not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line}, column {column}"
    return "nested too deeply to read"


def decode(data: bytes, source: str) -> str:
    """``data`` as UTF-8 text with its line ends made ``\\n`` (as Python's text files read them);
    raises :class:`TextFileError` naming ``source`` where it is not UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TextFileError(source, fault_of(exc)) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: str | Path) -> str:
    """The text of a UTF-8 file (``OSError`` when it cannot be read, :class:`TextFileError` when its
    bytes are not UTF-8)."""
    return decode(Path(path).read_bytes(), str(path))


@contextmanager
def naming(path: str | Path) -> Iterator[None]:
    """Within the block (a loader that reads ``path`` itself), a fault of the file's content that
    Python reports without the file becomes a :class:`TextFileError` naming it."""
    try:
        yield
    except (UnicodeDecodeError, RecursionError) as exc:
        raise TextFileError(str(path), fault_of(exc)) from None
