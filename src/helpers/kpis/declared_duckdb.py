"""Declared measures (:mod:`helpers.plan.measures`) compiled to SQL and aggregated by
DuckDB: the same definition as :func:`helpers.kpis.declared.aggregate_pandas`, tested
equal to it.  The order lines can stay in Parquet (tens of millions of rows are never
loaded into pandas); the other tables, and the responsibility spells a ``credit:
responsible`` measure joins, are the loaded dataset's frames.

Period ordinals follow pandas, as in :mod:`helpers.kpis.duckdb_engine`:
month = 12·(year − 1970) + month − 1, quarter = 4·(year − 1970) + quarter − 1.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import pandas as pd

from helpers.data.responsibility import spells
from helpers.data.schema import TABLES
from helpers.data.tables import Dataset
from helpers.kpis.declared import NUMERIC, table_or_empty
from helpers.plan.measures import Range, Simple

__all__ = ["aggregator", "simple_sql"]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(v: object) -> str:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return repr(float(v))
    return "'" + str(v).replace("'", "''") + "'"


def _period(col: str, freq: str) -> str:
    if freq == "M":
        return f"(12 * (year({col}) - 1970) + month({col}) - 1)"
    return f"(4 * (year({col}) - 1970) + quarter({col}) - 1)"


def _conds(alias: str, table: str, where: Mapping) -> list[str]:
    out = []
    for col, cond in where.items():
        c = f"{alias}." + _q(col)
        if isinstance(cond, Range):
            if cond.min is not None:
                out.append(f"{c} >= {float(cond.min)!r}")
            if cond.max is not None:
                out.append(f"{c} <= {float(cond.max)!r}")
            out.append(f"{c} IS NOT NULL")
        elif TABLES[table].col(col).kind in NUMERIC:
            out.append(f"CAST({c} AS DOUBLE) IN ({', '.join(repr(float(v)) for v in cond)})")
        else:
            out.append(f"CAST({c} AS VARCHAR) IN ({', '.join(_lit(str(v)) for v in cond)})")
    return out


def simple_sql(s: Simple, freq: str, relation: str, customers: str = "ds_customers") -> str:
    """The SQL of one simple measure over ``relation`` (a table name or a
    ``read_parquet(...)`` call): ``manager_id, p, value, rows`` per manager and period.
    ``customers``: the relation of the customers table (for a filter on the row's customer)."""
    from helpers.kpis.declared import _first_order

    table = TABLES[s.table]
    date = f"TRY_CAST(t.{_q(table.date_column or 'date')} AS DATE)"  # an export's Parquet may hold dates as text
    if s.first_per is not None:  # each key's first row, ordered as the pandas engine orders it
        by, up = _first_order(s)
        order = ", ".join((date if c == by[0] else f"t.{_q(c)}") + (" ASC" if u else " DESC") + " NULLS LAST"
                          for c, u in zip(by, up))
        relation = (f"(SELECT * FROM {relation} AS t WHERE t.{_q(s.first_per)} IS NOT NULL "
                    f"QUALIFY row_number() OVER (PARTITION BY t.{_q(s.first_per)} ORDER BY {order}) = 1)")
    conds = [f"{date} IS NOT NULL", *_conds("t", s.table, s.where)]
    if s.customer:
        conds += _conds("cu", "customers", s.customer)
    w = "1.0"
    if s.weights is not None:
        cases = " ".join(f"WHEN {_lit(str(k))} THEN {float(v)!r}" for k, v in s.weights.values.items())
        w = f"(CASE CAST(t.{_q(s.weights.by)} AS VARCHAR) {cases} ELSE {float(s.weights.default)!r} END)"
    x = f"t.{_q(s.column)}" if s.column is not None else "NULL"
    if s.credit == "responsible":
        src = (f"{relation} AS t JOIN spells AS sp ON sp.customer_id = t.customer_id "
               f"AND (sp.start IS NULL OR sp.start <= {date}) AND (sp.\"end\" IS NULL OR {date} <= sp.\"end\")")
        who, w = "sp.manager_id", f"{w} * sp.share"
    else:
        src, who = f"{relation} AS t", "t.manager_id"
    if s.customer:
        src += f" LEFT JOIN {customers} AS cu ON cu.customer_id = t.customer_id"
    inner = (f"SELECT {who} AS manager_id, {_period(date, freq)} AS p, {w} AS w, {x} AS x "
             f"FROM {src} WHERE {' AND '.join(conds)}")
    value = {
        "sum": "SUM(w * CAST(x AS DOUBLE))",
        "balance_mean": "SUM(w * CAST(x AS DOUBLE))",  # divided by the employed dates in declared._on_grid
        "count": "SUM(w)",
        "distinct": "CAST(COUNT(DISTINCT x) AS DOUBLE)",
        "mean": "SUM(w * CAST(x AS DOUBLE)) / NULLIF(SUM(CASE WHEN x IS NOT NULL THEN w END), 0)",
        "min": "CAST(MIN(x) AS DOUBLE)",
        "max": "CAST(MAX(x) AS DOUBLE)",
    }[s.aggregate]
    return (f"SELECT manager_id, CAST(p AS BIGINT) AS p, {value} AS value, COUNT(*) AS rows "
            f"FROM ({inner}) GROUP BY manager_id, p")


def aggregator(con: duckdb.DuckDBPyConnection, sources: Mapping[str, str] | None = None):
    """An ``aggregate`` for :func:`helpers.kpis.declared.declared_values` that runs each
    simple measure in DuckDB on ``con``: a table named in ``sources`` is read from there
    (e.g. ``{"orders": "read_parquet('/data/orders/*.parquet')"}``), any other from the
    dataset's frame, registered on first use."""
    sources = dict(sources or {})
    registered: set[str] = set()

    def aggregate(ds: Dataset, s: Simple, freq: str) -> pd.DataFrame:
        relation = sources.get(s.table)
        if relation is None:
            relation = f"ds_{s.table}"
            if relation not in registered:
                con.register(relation, table_or_empty(ds, s.table))
                registered.add(relation)
        if s.credit == "responsible" and "spells" not in registered:
            con.register("spells", spells(ds))
            registered.add("spells")
        if s.customer and "ds_customers" not in registered:
            con.register("ds_customers", ds.customers.drop_duplicates("customer_id"))
            registered.add("ds_customers")
        return con.execute(simple_sql(s, freq, relation)).df()

    return aggregate
