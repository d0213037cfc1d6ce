"""Declared measures at scale (issue 20): three measures a consultant writes in YAML —
sales of two named product lines, the share of one line in sales, a coefficient-weighted
volume — per manager and month over the aggregation benchmark's 10.4M order lines, with
DuckDB reading the Parquet files and with pandas holding the order lines in memory.  The
two must agree to 1e-9 absolute or 1e-12 relative (sums of millions differ in the last
bits with the summation order); their times are
reported, with no target (the built-in KPIs' targets are in ``bench_aggregation``)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from benchmarks.common import Result, child, peak_rss_mb

DEFINITIONS = {
    "two product lines": "{table: orders, where: {product_line: [高端系列, 增值服务]}, aggregate: sum, column: amount}",
    "share of a line": "{ratio: {numerator: {table: orders, where: {product_line: [高端系列]}, aggregate: sum, "
                       "column: amount}, denominator: {table: orders, aggregate: sum, column: amount}}}",
    "weighted volume": "{table: orders, aggregate: sum, column: amount, "
                       "weights: {by: product_line, values: {高端系列: 1.2, 配件耗材: 0.3}}}",
}


def child_main(engine: str, folder: str, out: str) -> None:
    """Compute the three measures with one engine (in a child process); one JSON line."""
    import duckdb
    import pandas as pd
    import yaml

    from helpers.kpis import duckdb_engine as kd
    from helpers.kpis.declared import declared_values
    from helpers.kpis.declared_duckdb import aggregator
    from helpers.plan.measures import MeasureDef

    ds = kd.load_small_tables(folder)
    defs = {k: MeasureDef.model_validate(yaml.safe_load(v)) for k, v in DEFINITIONS.items()}
    t0 = time.perf_counter()
    _, glob = kd.orders_source(folder)
    frames = []
    if engine == "duckdb":
        con = duckdb.connect()
        lo, hi = con.execute(f"SELECT min(date), max(date) FROM read_parquet('{glob}')").fetchone()
        per = pd.PeriodIndex([lo, hi], freq="M")
        agg = aggregator(con, {"orders": f"read_parquet('{glob}')"})
        for name, m in defs.items():
            frames.append(declared_values(ds, m, "M", agg, span=(int(per[0].ordinal), int(per[1].ordinal)))
                          .assign(measure=name))
    else:
        orders = pd.read_parquet(glob if "*" not in glob else str(Path(glob).parent))
        orders["date"] = pd.to_datetime(orders["date"])
        ds.tables["orders"] = orders
        for name, m in defs.items():
            frames.append(declared_values(ds, m, "M").assign(measure=name))
    seconds = time.perf_counter() - t0
    pd.concat(frames, ignore_index=True).to_parquet(out)
    print(json.dumps({"seconds": seconds, "peak_mb": peak_rss_mb()}))


def run(quick: bool = False, log=print) -> list[Result]:
    import tempfile

    import pandas as pd

    from benchmarks.bench_aggregation import ensure_data

    folder, _, n = ensure_data(quick)
    with tempfile.TemporaryDirectory() as tmp:
        runs = {e: child("benchmarks.bench_declared", e, str(folder), f"{tmp}/{e}.parquet") for e in ("duckdb", "pandas")}
        a, b = pd.read_parquet(f"{tmp}/duckdb.parquet"), pd.read_parquet(f"{tmp}/pandas.parquet")
        pd.testing.assert_frame_equal(a, b, check_exact=False, atol=1e-9, rtol=1e-12)
        diff = (a["value"] - b["value"]).abs()
        worst, rel = float(diff.max()), float((diff / b["value"].abs().where(b["value"] != 0)).max())
    d, p = runs["duckdb"], runs["pandas"]
    log(f"declared measures ({', '.join(DEFINITIONS)}) per manager and month on {n:,} order lines: "
        f"DuckDB {d['seconds']:.1f} s, {d['peak_mb']:,.0f} MB; pandas {p['seconds']:.1f} s, {p['peak_mb']:,.0f} MB; "
        f"{len(a):,} rows, largest difference {worst:.2e} ({rel:.1e} relative)")
    return [Result(f"3 declared measures/month, DuckDB, {n / 1e6:.1f}M lines", d["seconds"], "s",
                   note=f"{d['peak_mb']:,.0f} MB peak; equal to pandas: largest difference {worst:.1e}, "
                        f"{rel:.0e} relative"),
            Result("  the same with pandas (order lines in memory)", p["seconds"], "s",
                   note=f"{p['peak_mb']:,.0f} MB peak; no target")]


if __name__ == "__main__":
    child_main(*sys.argv[1:4])
