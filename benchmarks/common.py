"""Shared pieces of the benchmark suite: result rows, the table, child processes."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / ".data"  # git-ignored cache of generated data
PY = sys.executable


@dataclass
class Result:
    """One line of the table.  ``lower_is_better``: the target is a maximum."""

    name: str
    measured: float
    unit: str
    target: float | None = None
    lower_is_better: bool = True
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """measured ÷ target (≤ 1 passes) for a maximum; target ÷ measured for a minimum."""
        if self.target is None or not self.measured:
            return None
        return self.measured / self.target if self.lower_is_better else self.target / self.measured

    @property
    def ok(self) -> bool | None:
        return None if self.ratio is None else self.ratio <= 1.0


def fmt(v: float, unit: str) -> str:
    if unit == "s":
        return f"{v:.3f} s" if v < 1 else f"{v:.1f} s"
    if unit == "MB":
        return f"{v:,.1f} MB"
    if unit == "x":
        return f"{v:.2f}×"
    return f"{v:,.3g} {unit}"


def table(results: list[Result]) -> str:
    rows = [("benchmark", "measured", "target", "ratio", "result", "note")]
    for r in results:
        tgt = "" if r.target is None else ("≤ " if r.lower_is_better else "≥ ") + fmt(r.target, r.unit)
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}"
        res = "" if r.ok is None else ("pass" if r.ok else "FAIL")
        rows.append((r.name, fmt(r.measured, r.unit), tgt, ratio, res, r.note))
    w = [max(len(row[i]) for row in rows) for i in range(6)]
    lines = ["  ".join(c.ljust(w[i]) for i, c in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * x for x in w))
    return "\n".join(lines)


def machine() -> str:
    mem = ""
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(x.split(":", 1)[1].strip() for x in Path("/proc/cpuinfo").read_text().splitlines()
                   if x.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}, {platform.system()}"


def child(module: str, *args: str, timeout: int = 3600) -> dict:
    """Run ``python -m module args`` in a fresh process; it prints one JSON line last.

    The child reports its own peak resident memory (``ru_maxrss`` of the process,
    which includes DuckDB's native allocations — tracemalloc would not see them)."""
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    proc = subprocess.run([PY, "-m", module, *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout, env=env)
    if proc.returncode:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
