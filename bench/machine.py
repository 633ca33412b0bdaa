"""The machine line every benchmark prints first: CPU model, cores, load, Python and library versions."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown cpu"


def machine_info(**versions: str) -> str:
    """Two lines: the CPU, core count and load average; Python and the given library versions."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    libs = "".join(f", {name} {version}" for name, version in versions.items())
    return (f"machine: {cpu_model()}, {os.cpu_count()} logical cpus, load average {load}\n"
            f"python {platform.python_version()} on {platform.system()} {platform.release()}{libs}")
