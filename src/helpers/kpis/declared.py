"""Declared measures (:mod:`helpers.plan.measures`), checked against the data model and
computed per manager and period with pandas.

One rule for every declared measure, said to a manager in one sentence: *the rows of
the table that pass the filter, each counted for the manager it is credited to (the
manager on the row, or the customer's responsible managers on the row's date with their
share) and weighted by its category's coefficient, aggregated over the period.*  A
manager employed in a period without a single such row has 0 for a sum, a count or a
distinct count, and *no value* for a mean, a minimum, a maximum or a ratio whose base is
0: no data is never a score.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from helpers.data.responsibility import responsible_at, spells
from helpers.data.schema import TABLES
from helpers.data.tables import Dataset
from helpers.errors import Problem
from helpers.kpis.measures import _employment_grid, _ord, period_labels
from helpers.plan.measures import AGGREGATES, MeasureDef, Range, Simple, parts

__all__ = ["measure_problems", "declared_values", "aggregate_pandas"]

Aggregator = Callable[[Dataset, Simple, str], pd.DataFrame]

NUMERIC = ("number", "count")
ADDITIVE = ("sum", "count", "distinct")
"""Aggregates that are 0 when nothing happened; the others have no value then."""


def measure_problems(m: MeasureDef, source: str, key: str) -> list[Problem]:
    """What the data model cannot compute in ``m`` (``key``: where the measure sits in
    ``source``, e.g. ``indicators.key_lines_sales.measure``), each with what to do."""
    out: list[Problem] = []
    for sub, s in parts(m):
        where = key + (f".{sub}" if sub else "")
        out += _simple_problems(s, source, where)
    return out


def _simple_problems(s: Simple, source: str, key: str) -> list[Problem]:
    table = TABLES.get(s.table)
    if table is None:
        return [Problem(source, f"'{s.table}' is not a table of the data model", where=f"key '{key}.table'",
                        fix="use one of: " + ", ".join(sorted(TABLES)))]
    cols = {c.name: c for c in table.columns}
    known = ", ".join(cols)
    out: list[Problem] = []
    if s.aggregate not in AGGREGATES:
        out.append(Problem(source, f"'{s.aggregate}' is not an aggregate", where=f"key '{key}.aggregate'",
                           fix="use one of: " + ", ".join(AGGREGATES)))
    if s.column is None and s.aggregate not in ("count",):
        if s.aggregate in AGGREGATES:
            out.append(Problem(source, f"the aggregate '{s.aggregate}' needs a column", where=f"key '{key}.column'",
                               fix=f"name a column of {s.table}: {known}"))
    elif s.column is not None and s.column not in cols:
        out.append(Problem(source, f"'{s.column}' is not a column of {s.table}", where=f"key '{key}.column'",
                           fix=f"use one of: {known}"))
    elif s.column is not None and s.aggregate in ("sum", "mean", "min", "max", "balance_mean") \
            and cols[s.column].kind not in NUMERIC:
        out.append(Problem(source, f"'{s.aggregate}' needs numbers, and {s.table}.{s.column} is {cols[s.column].kind}",
                           where=f"key '{key}.aggregate'",
                           fix="count its rows (count) or its distinct values (distinct), or aggregate a number column"))
    for col, cond in s.where.items():
        if col not in cols:
            out.append(Problem(source, f"'{col}' is not a column of {s.table}", where=f"key '{key}.where.{col}'",
                               fix=f"filter on one of: {known}"))
        elif isinstance(cond, Range) and cols[col].kind not in NUMERIC:
            out.append(Problem(source, f"a range needs numbers, and {s.table}.{col} is {cols[col].kind}",
                               where=f"key '{key}.where.{col}'", fix="list the values to keep instead"))
        elif isinstance(cond, list) and cols[col].kind in NUMERIC and not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in cond):
            out.append(Problem(source, f"{s.table}.{col} holds numbers, and the values listed are not all numbers",
                               where=f"key '{key}.where.{col}'", fix="list numbers, or give a range {min: ..., max: ...}"))
    if s.weights is not None:
        if s.weights.by not in cols:
            out.append(Problem(source, f"'{s.weights.by}' is not a column of {s.table}", where=f"key '{key}.weights.by'",
                               fix=f"weigh by one of: {known}"))
        if s.aggregate in ("distinct", "min", "max"):
            out.append(Problem(source, f"coefficients cannot weigh '{s.aggregate}'", where=f"key '{key}.weights'",
                               fix="use sum, count or mean with coefficients"))
    if s.first_per is not None and s.first_per not in cols:
        out.append(Problem(source, f"'{s.first_per}' is not a column of {s.table}", where=f"key '{key}.first_per'",
                           fix=f"use one of: {known}"))
    if s.customer and "customer_id" not in cols:
        out.append(Problem(source, f"{s.table} names no customer to filter on", where=f"key '{key}.customer'",
                           fix="filter the table's own columns under 'where'"))
    elif s.customer:
        ccols = {c.name: c for c in TABLES["customers"].columns}
        for col, cond in s.customer.items():
            if col not in ccols:
                out.append(Problem(source, f"'{col}' is not a column of customers", where=f"key '{key}.customer.{col}'",
                                   fix="filter on one of: " + ", ".join(ccols)))
            elif isinstance(cond, Range) and ccols[col].kind not in NUMERIC:
                out.append(Problem(source, f"a range needs numbers, and customers.{col} is {ccols[col].kind}",
                                   where=f"key '{key}.customer.{col}'", fix="list the values to keep instead"))
    if s.months is not None and s.aggregate not in ("sum", "count", "min", "max"):
        out.append(Problem(source, f"a window of months rolls up monthly figures, which '{s.aggregate}' cannot be",
                           where=f"key '{key}.months'", fix="use sum, count, min or max over a window"))
    if table.date_column is None:
        out.append(Problem(source, f"{s.table} has no date, so it cannot be counted by period",
                           where=f"key '{key}.table'", fix="measure a table with dated rows (orders, visits, leads, ...)"))
    if s.credit == "row" and "manager_id" not in cols:
        out.append(Problem(source, f"{s.table} names no manager", where=f"key '{key}.credit'",
                           fix="credit: responsible (the customer's responsible manager on the row's date)"))
    if s.credit == "responsible" and "customer_id" not in cols:
        out.append(Problem(source, f"{s.table} names no customer, so it has no responsible manager",
                           where=f"key '{key}.credit'", fix="credit: row"))
    return out


def declared_values(ds: Dataset, m: MeasureDef, freq: str = "Q", aggregate: Aggregator | None = None,
                    span: tuple[int, int] | None = None) -> pd.DataFrame:
    """The measure per manager and period (``freq`` ``Q`` or ``M``) for every period the
    manager was employed in, from the first to the last period of the data:
    ``manager_id, period, value, numerator, denominator, rows`` (``rows``: the table rows
    behind the figure; a ratio's numerator and denominator are its two measures').

    ``aggregate(ds, simple, freq)`` reduces the table to ``manager_id, p, value, rows``
    for the managers and periods with rows: pandas (:func:`aggregate_pandas`, the
    default) or DuckDB (:func:`helpers.kpis.declared_duckdb.aggregator`, the same
    definition compiled to SQL); everything after it is shared.  ``span``: the first and
    last period ordinal of the data, when the dataset's order lines are not in memory
    (DuckDB over Parquet); by default those of ``ds.orders``."""
    base = aggregate or aggregate_pandas

    def agg(d: Dataset, s: Simple, f: str) -> pd.DataFrame:  # a window of months: monthly figures rolled up
        return base(d, s, f) if s.months is None else _windowed(base(d, s, "M"), s, f)

    span = span or _span(ds, freq)
    if m.ratio is not None:
        num = _on_grid(ds, agg(ds, m.ratio.numerator, freq), m.ratio.numerator, span, freq)
        den = _on_grid(ds, agg(ds, m.ratio.denominator, freq), m.ratio.denominator, span, freq)
        j = num.merge(den, on=["manager_id", "p"], suffixes=("_n", "_d"), how="outer")
        d = j["value_d"]
        out = pd.DataFrame({"manager_id": j["manager_id"], "p": j["p"],
                            "value": (j["value_n"] / d.where(d != 0)).astype("float64"),
                            "numerator": j["value_n"], "denominator": d,
                            "rows": j["rows_n"].fillna(0) + j["rows_d"].fillna(0)})
    else:
        out = _on_grid(ds, agg(ds, m.simple(), freq), m.simple(), span, freq)
        out["numerator"], out["denominator"] = out["value"], np.nan
    if m.change is not None:
        out = _change(out, freq, m.change)
    out = out.sort_values(["manager_id", "p"], kind="stable").reset_index(drop=True)
    out.insert(1, "period", period_labels(out["p"], freq))
    out["rows"] = out["rows"].astype("int64")
    return out[["manager_id", "period", "value", "numerator", "denominator", "rows"]]


def _windowed(monthly: pd.DataFrame, s: Simple, freq: str) -> pd.DataFrame:
    """A measure over the ``s.months`` months up to each period's last month, from its
    monthly figures: each month counts for the periods whose window holds it (sums and
    counts added, extremes of the extremes)."""
    n = int(s.months or 1)
    m = monthly.astype({"p": "int64"})
    ends = m["p"].to_numpy()[:, None] + np.arange(n)[None, :]  # the window ends each month falls in
    rows = np.repeat(np.arange(len(m)), n)
    e = ends.ravel()
    x = pd.DataFrame({"manager_id": m["manager_id"].to_numpy()[rows], "e": e,
                      "value": m["value"].to_numpy(dtype="float64")[rows], "rows": m["rows"].to_numpy()[rows]})
    if freq == "Q":  # a quarter's window ends with its last month (month ordinal 3q + 2)
        x = x[x["e"] % 3 == 2].assign(p=lambda d: d["e"] // 3)
    else:
        x = x.assign(p=x["e"])
    how = {"min": "min", "max": "max"}.get(s.aggregate, "sum")
    g = x.groupby(["manager_id", "p"], sort=False)
    return pd.concat([g["value"].agg(how).rename("value"), g["rows"].sum().rename("rows")], axis=1).reset_index()


def _change(v: pd.DataFrame, freq: str, how: str) -> pd.DataFrame:
    """The value minus the same manager's value ``lag`` periods before (no value when
    either is missing: a change from nothing is not a change)."""
    lag = 1 if how == "previous" else (4 if freq == "Q" else 12)
    before = v[["manager_id", "p", "value"]].assign(p=v["p"] + lag).rename(columns={"value": "before"})
    j = v.merge(before, on=["manager_id", "p"], how="left")
    return j.assign(numerator=j["value"], denominator=j["before"], value=j["value"] - j["before"]).drop(columns="before")


def table_or_empty(ds: Dataset, name: str) -> pd.DataFrame:
    """The dataset's table ``name``, or an empty one with its columns when the data has none
    (every measure of it is then 0 or no value, never an error)."""
    return ds[name] if ds.has(name) else pd.DataFrame(columns=[c.name for c in TABLES[name].columns])


def _first_order(s: Simple) -> tuple[list[str], list[bool]]:
    """How the rows of one key are ordered to find its first: the earliest date, then the
    larger value of the measured column, then the table's id (both engines)."""
    table = TABLES[s.table]
    by, up = [table.date_column or "date"], [True]
    if s.column is not None:
        by, up = by + [s.column], up + [False]
    ids = [c.name for c in table.columns if c.unique and c.name not in by]
    return by + ids, up + [True] * len(ids)


def _mask(x: pd.Series, cond: "list | Range", kind: str) -> np.ndarray:
    """The rows whose value passes a filter: a range (numbers), or a list of values
    (numbers compare as numbers, text as text)."""
    if isinstance(cond, Range):
        v = pd.to_numeric(x, errors="coerce").to_numpy(dtype="float64")
        keep = ~np.isnan(v)
        if cond.min is not None:
            keep &= v >= cond.min
        if cond.max is not None:
            keep &= v <= cond.max
        return keep
    if kind in NUMERIC:
        return pd.to_numeric(x, errors="coerce").isin([float(v) for v in cond]).to_numpy()
    return x.astype("string").isin([str(v) for v in cond]).fillna(False).to_numpy(dtype=bool)


def aggregate_pandas(ds: Dataset, s: Simple, freq: str) -> pd.DataFrame:
    """One simple measure with pandas: ``manager_id, p, value, rows`` for the managers
    and periods that have rows (``rows``: the table rows, before a missing value is left
    out of a sum or a mean)."""
    t = table_or_empty(ds, s.table)
    if s.first_per is not None:  # each key's earliest row (a tie on the day: the larger value of the column)
        by, up = _first_order(s)
        first = t.dropna(subset=[s.first_per]).sort_values(by, ascending=up, kind="stable", na_position="last")
        t = t.loc[first.index[~first[s.first_per].duplicated()]].sort_index()
    keep = np.ones(len(t), dtype=bool)
    for col, cond in s.where.items():
        keep &= _mask(t[col], cond, TABLES[s.table].col(col).kind)
    if s.customer:
        cust = ds.customers.drop_duplicates("customer_id").set_index("customer_id")
        for col, cond in s.customer.items():
            values = t["customer_id"].map(cust[col]) if col in cust.columns else pd.Series(pd.NA, index=t.index)
            keep &= _mask(values, cond, TABLES["customers"].col(col).kind)
    t = t[keep]
    date = t[TABLES[s.table].date_column]
    w = np.ones(len(t))
    if s.weights is not None:
        w = t[s.weights.by].astype(str).map({str(k): v for k, v in s.weights.values.items()}).fillna(
            s.weights.default).to_numpy(dtype="float64")
    if s.credit == "responsible":
        who = responsible_at(spells(ds), t["customer_id"].to_numpy(), date.to_numpy())
        e = who["event"].to_numpy()
        rows = pd.DataFrame({"manager_id": who["manager_id"].to_numpy(), "w": w[e] * who["share"].to_numpy(),
                             "p": _ord(date.dt.to_period(freq))[e]})
        if s.column is not None:
            rows["x"] = t[s.column].to_numpy()[e]
    else:
        rows = pd.DataFrame({"manager_id": t["manager_id"].to_numpy(), "w": w, "p": _ord(date.dt.to_period(freq))})
        if s.column is not None:
            rows["x"] = t[s.column].to_numpy()
    g = rows.groupby(["manager_id", "p"], sort=False)
    n = g.size().rename("rows")
    if s.aggregate == "count":
        val = g["w"].sum()
    elif s.aggregate == "distinct":
        val = rows.dropna(subset=["x"]).groupby(["manager_id", "p"], sort=False)["x"].nunique().astype("float64")
    else:
        rows["x"] = pd.to_numeric(rows["x"], errors="coerce")
        rows = rows.dropna(subset=["x"])
        rows["wx"] = rows["w"] * rows["x"]
        g = rows.groupby(["manager_id", "p"], sort=False)
        if s.aggregate in ("sum", "balance_mean"):  # a balance's mean: the sum, divided by the dates in _on_grid
            val = g["wx"].sum()
        elif s.aggregate == "mean":
            val = g["wx"].sum() / g["w"].sum().where(lambda x: x != 0)
        else:
            val = g["x"].min() if s.aggregate == "min" else g["x"].max()
    return pd.concat([val.rename("value"), n], axis=1).reset_index()


def _on_grid(ds: Dataset, agg: pd.DataFrame, s: Simple, span: tuple[int, int], freq: str) -> pd.DataFrame:
    """The aggregate on the employment grid: every manager and period employed; 0 where
    nothing happened for an additive aggregate, no value for the others."""
    lo, hi = span
    grid = _employment_grid(ds, freq, lo, hi)
    agg = agg.astype({"p": "int64"})
    out = grid.merge(agg[["manager_id", "p", "value", "rows"]], on=["manager_id", "p"], how="left")
    out["rows"] = out["rows"].fillna(0)
    if s.aggregate in ADDITIVE:
        out["value"] = out["value"].fillna(0.0)
    if s.aggregate == "balance_mean":
        days = _dates_employed(ds, s.table, freq, out)
        out["value"] = out["value"].fillna(0.0) / np.where(days > 0, days, np.nan)
    out["value"] = out["value"].astype("float64")
    return out


def _dates_employed(ds: Dataset, table: str, freq: str, grid: pd.DataFrame) -> np.ndarray:
    """Per grid row (manager, period): the table's dates in the period on which the manager
    was employed (the divisor of an average balance: a manager hired mid-quarter is
    averaged over the dates since the hire, not over the whole quarter)."""
    t = table_or_empty(ds, table)
    d = np.sort(pd.to_datetime(t[TABLES[table].date_column]).dropna().unique())
    per = pd.PeriodIndex.from_ordinals(grid["p"].to_numpy(dtype="int64"), freq=freq)
    m = ds.managers.drop_duplicates("manager_id").set_index("manager_id")
    hire = pd.to_datetime(m["hire_date"]).reindex(grid["manager_id"]).to_numpy()
    leave = pd.to_datetime(m["leave_date"]).reindex(grid["manager_id"]).to_numpy()
    lo = np.maximum(per.start_time.normalize().to_numpy(), np.where(pd.isna(hire), np.datetime64("1900-01-01"), hire))
    hi = np.minimum(per.end_time.normalize().to_numpy(), np.where(pd.isna(leave), np.datetime64("2200-01-01"), leave))
    n = np.searchsorted(d, hi, side="right") - np.searchsorted(d, lo, side="left")
    return np.maximum(n, 0).astype("float64")


def _span(ds: Dataset, freq: str) -> tuple[int, int]:
    """The first and last period ordinal of the data: the orders' (the table every
    dataset has), as the built-in KPIs use."""
    d = ds.orders["date"]
    per = pd.PeriodIndex([d.min(), d.max()], freq=freq)
    return int(per[0].ordinal), int(per[1].ordinal)
