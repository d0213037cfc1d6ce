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
to a read from the cache, and the cost of storing as a share of the baseline.  Then the
targets' checks of a run's gate and of ``validate`` (``target_warnings``: every target of
the demo plan set and checked) with the cache off, against a later process reading the
checks the first one kept (median of 3; the baseline's median of 3 on the demo, one run
on 1,200 managers).  The
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

import pandas as pd

from benchmarks.common import DATA, Result


def _load_and_compute(folder: Path) -> float:
    from helpers.data.tables import load_dataset
    from helpers.kpis.measures import kpi_actuals

    t0 = time.perf_counter()
    ds = load_dataset(folder)
    kpi_actuals(ds, "Q")
    kpi_actuals(ds, "M")
    return time.perf_counter() - t0


def _off_first_hit(folder: Path, timed, repeat: int = 3) -> tuple[float, float, float]:
    """``timed()`` with the cache off (median of ``repeat``), then on an empty cache (the
    first process, which stores), then reading it (median of 3); the folder's cache is
    removed afterwards and the setting put back."""
    from helpers.data import cache

    before = os.environ.get("KPI_WORKBOOK_CACHE")
    try:
        os.environ["KPI_WORKBOOK_CACHE"] = "off"
        base = statistics.median(timed() for _ in range(repeat))
        os.environ["KPI_WORKBOOK_CACHE"] = "on"
        shutil.rmtree(folder / cache.FOLDER, ignore_errors=True)
        first = timed()
        hit = statistics.median(timed() for _ in range(3))
    finally:
        if before is None:
            os.environ.pop("KPI_WORKBOOK_CACHE", None)
        else:
            os.environ["KPI_WORKBOOK_CACHE"] = before
        shutil.rmtree(folder / cache.FOLDER, ignore_errors=True)
    return base, first, hit


def _measure(name: str, folder: Path) -> list[Result]:
    base, first, hit = _off_first_hit(folder, lambda: _load_and_compute(folder))
    return [
        Result(f"{name}: checked tables + KPI actuals from the cache", base / hit, "x",
               note=f"{hit:.2f} s instead of {base:.2f} s; no target"),
        Result("  the first read, which stores them", first / base, "x",
               note=f"{first:.2f} s: storing costs {100 * (first / base - 1):.0f} % once; no target"),
    ]


def _gate_checks(folder: Path, params_file: Path) -> float:
    """The targets' checks of a run's gate (and ``validate``) on a newly read dataset: every
    target of the demo plan set and checked, or the checks read from the cache."""
    from helpers.data.tables import load_dataset
    from helpers.periods import parse_period
    from helpers.plan.params import load_params
    from helpers.run.checks import target_warnings

    params = load_params(params_file)
    ds = load_dataset(folder, as_of=pd.Timestamp(params.data.as_of) if params.data.as_of else None)
    t0 = time.perf_counter()
    target_warnings(params, params_file, ds, parse_period(params.period))
    return time.perf_counter() - t0


def _measure_gate(name: str, folder: Path, repeat: int) -> list[Result]:
    from benchmarks.bench_batch import make_params

    with tempfile.TemporaryDirectory() as d:
        params_file = make_params(Path(d), folder)
        base, _, hit = _off_first_hit(folder, lambda: _gate_checks(folder, params_file), repeat)
    return [Result(f"{name}: the gate's target checks from the cache", base / hit, "x",
                   note=f"{hit:.2f} s instead of {base:.2f} s (every target set); no target")]


def run(quick: bool = False, log=print) -> list[Result]:
    from helpers.data.demo import DemoConfig, write_demo

    results = []
    with tempfile.TemporaryDirectory() as d:
        demo = write_demo(Path(d) / "demo")
        log("  demo data (CSV)")
        results += _measure("demo, 48 managers (CSV, 6.9 MB)", demo)
        results += _measure_gate("demo", demo, 3)
    if not quick:
        cfg = DemoConfig(managers=1200, teams=150, fmt="parquet")
        data = DATA / f"precompute-{cfg.digest()}"
        if not data.exists():
            write_demo(data, cfg)
        log("  1,200 managers (Parquet)")
        results += _measure("1,200 managers / 150 teams (Parquet)", data)
        results += _measure_gate("1,200 managers", data, 1)
    return results
