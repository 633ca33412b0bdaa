"""Files written whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """``write(temporary path)``, flushed to disk, then renamed to ``path``: a kill at any moment
    leaves either the old file or the new one, never a part."""
    # A name of this process's own: a learner orphaned by a killed driver may still be writing
    # beside the one its restarted driver started, until it notices (``driver_gone``).
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    write(tmp)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
