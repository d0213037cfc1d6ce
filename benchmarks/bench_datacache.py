"""The prepared-data cache (helpers.data.cache): a process that reads a data folder
another process has checked reads the checked tables and the KPI actuals instead of
checking and computing them again.

Measured on the demo data (CSV, 6.9 MB) and, without ``--quick``, on 1,200 managers /
150 teams (Parquet, ``benchmarks/.data``): ``load_dataset`` + the KPI actuals per
quarter and per month,

* with the cache off (the baseline, median of 3),
* the first time with the cache (checks, computes and stores the entry),
* again (reads the entry; median of 3),

each on a new dataset, as a new process would.  Reported as the ratio of the baseline
to a read from the cache, and the cost of storing as a share of the baseline.  The
issue sets no number; the rest of the suite runs with the cache off
(``benchmarks/run.py``), so its figures are the computation's.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import DATA, Result


def _load_and_compute(folder: Path) -> float:
    from helpers.data.tables import load_dataset
    from helpers.kpis.measures import kpi_actuals

    t0 = time.perf_counter()
    ds = load_dataset(folder)
    kpi_actuals(ds, "Q")
    kpi_actuals(ds, "M")
    return time.perf_counter() - t0


def _measure(name: str, folder: Path) -> list[Result]:
    from helpers.data import cache

    before = os.environ.get("KPI_WORKBOOK_CACHE")
    try:
        os.environ["KPI_WORKBOOK_CACHE"] = "off"
        base = statistics.median(_load_and_compute(folder) for _ in range(3))
        os.environ["KPI_WORKBOOK_CACHE"] = "on"
        shutil.rmtree(folder / cache.FOLDER, ignore_errors=True)
        first = _load_and_compute(folder)
        hit = statistics.median(_load_and_compute(folder) for _ in range(3))
    finally:
        if before is None:
            os.environ.pop("KPI_WORKBOOK_CACHE", None)
        else:
            os.environ["KPI_WORKBOOK_CACHE"] = before
        shutil.rmtree(folder / cache.FOLDER, ignore_errors=True)
    return [
        Result(f"{name}: checked tables + KPI actuals from the cache", base / hit, "x",
               note=f"{hit:.2f} s instead of {base:.2f} s; no target"),
        Result("  the first read, which stores them", first / base, "x",
               note=f"{first:.2f} s: storing costs {100 * (first / base - 1):.0f} % once; no target"),
    ]


def run(quick: bool = False, log=print) -> list[Result]:
    from helpers.data.demo import DemoConfig, write_demo

    results = []
    with tempfile.TemporaryDirectory() as d:
        demo = write_demo(Path(d) / "demo")
        log("  demo data (CSV)")
        results += _measure("demo, 48 managers (CSV, 6.9 MB)", demo)
    if not quick:
        cfg = DemoConfig(managers=1200, teams=150, fmt="parquet")
        data = DATA / f"precompute-{cfg.digest()}"
        if not data.exists():
            write_demo(data, cfg)
        log("  1,200 managers (Parquet)")
        results += _measure("1,200 managers / 150 teams (Parquet)", data)
    return results
