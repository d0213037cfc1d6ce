"""Run the benchmark suite and print one table: benchmark, measured, target, ratio, result.

    python -m benchmarks                       # everything (the batch part takes minutes)
    python -m benchmarks --quick               # smaller samples (stated in the output)
    python -m benchmarks --only helpers        # aggregation | declared | helpers | reports | charts | precompute | datacache | batch (batch includes report weight)

Figures are measured on this machine; baselines are measured in the same run.
Nothing is asserted: the table says pass or FAIL against each target.  Everything but
the ``datacache`` part runs with the prepared-data cache off (``KPI_WORKBOOK_CACHE=off``):
its figures are the computation's, not a read of what an earlier benchmark stored.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from datetime import datetime

from benchmarks.common import Result, machine, table

PARTS = {"aggregation": "benchmarks.bench_aggregation", "declared": "benchmarks.bench_declared",
         "helpers": "benchmarks.bench_helpers",
         "reports": "benchmarks.bench_reports", "charts": "benchmarks.bench_charts",
         "precompute": "benchmarks.bench_precompute", "datacache": "benchmarks.bench_datacache",
         "batch": "benchmarks.bench_batch"}
ALIASES = {"report": "batch", "scale": "aggregation", "robustness": "helpers", "scoring": "helpers",
           "cache": "precompute", "prepared": "datacache"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", choices=[*PARTS, *ALIASES],
                    help="run only this part (repeatable)")
    ap.add_argument("--quick", action="store_true",
                    help="sample: 1M order lines instead of 10M; naive batch loop on 2 teams, extrapolated")
    args = ap.parse_args(argv)
    os.environ["KPI_WORKBOOK_CACHE"] = "off"  # the computation's figures (bench_datacache turns it on for itself)
    parts = list(dict.fromkeys(ALIASES.get(p, p) for p in (args.only or PARTS)))
    print(f"kpi-workbook benchmarks · {datetime.now():%Y-%m-%d %H:%M} · {machine()}"
          + (" · --quick" if args.quick else ""))
    results: list[Result] = []
    for part in parts:
        t0 = time.perf_counter()
        try:
            results += importlib.import_module(PARTS[part]).run(quick=args.quick, log=lambda s: print(s, flush=True))
        except Exception as exc:  # report and go on with the other parts
            print(f"{part}: ERROR {type(exc).__name__}: {exc}", file=sys.stderr)
            results.append(Result(f"{part} (error)", 0.0, "s", note=str(exc).splitlines()[0][:80]))
        print(f"[{part}: {time.perf_counter() - t0:.0f} s]", flush=True)
    print()
    print(table(results))
    return 1 if any(r.ok is False for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
