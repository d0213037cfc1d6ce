"""KPI actuals with the order lines aggregated by DuckDB directly over Parquet.

Same result as :func:`helpers.kpis.measures.kpi_actuals` (tested against it), but the
``orders`` table — the only big one: tens of millions of lines for a large
organisation — is never loaded into pandas.  DuckDB scans ``orders.parquet`` (or
every ``*.parquet`` file of an ``orders/`` folder) once and reduces it to one row
per (manager, month, segment, customer):

    n = number of order lines, amount = Σ amount, profit = Σ profit

from which the order-derived base measures follow exactly as in
:func:`helpers.kpis.measures.base_measures`:

* sales, profit, orders = Σ amount, Σ profit, Σ n per (manager, period, segment);
* buyers = number of distinct customers with an order in the period;
* repeat_buyers = customers with Σ n ≥ 2 in the period;
* the distinct (customer, month) pairs with an order, from which the active rate's
  buyers follow (the customers of each manager's base who bought in the month).

The other tables (managers, customers, surveys, …) are small and are loaded and
validated with :func:`helpers.data.tables.validate_tables`; the customer-base measures,
the derivation (:func:`helpers.kpis.measures.derive`) and the long table are those of
:mod:`helpers.kpis.measures`.  The order lines get the checks that matter for the figures
(every id known, no empty key, amount ≥ 0, a parsable date not in the future),
done in DuckDB; the full per-row validation of ``load_dataset`` is not repeated.

Period ordinals follow pandas: month ordinal = 12·(year − 1970) + month − 1,
quarter ordinal = 4·(year − 1970) + quarter − 1.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from helpers.data.tables import (
    Dataset,
    _row_problem,
    find_table_file,
    read_raw,
    validate_tables,
)
from helpers.errors import InputError, Problem
from helpers.frames import positions
from helpers.kpis.measures import (
    KPIS,
    _all_segments,
    _label,
    _market_share,
    _ord,
    _qualitative,
    _with_declared,
    availability,
    customer_measures,
    derive,
    on_grid,
    present_segments,
    qualitative_on,
    segments_of,
    survey_measures,
)
from helpers.data.responsibility import spells
from helpers.data.schema import QUAL_DIMENSIONS, SEGMENTS, TABLES
from helpers.plan.measures import Declared

__all__ = ["orders_source", "load_small_tables", "order_measures", "base_measures_parquet", "kpi_actuals_parquet"]


def orders_source(folder: str | Path) -> tuple[Path, str]:
    """The Parquet file(s) holding the order lines in ``folder``: ``orders.parquet``
    or an ``orders/`` folder of Parquet files.  Returns (path shown in messages,
    DuckDB glob)."""
    folder = Path(folder)
    single = folder / "orders.parquet"
    if single.is_file():
        return single, str(single)
    many = folder / "orders"
    if many.is_dir() and any(many.glob("*.parquet")):
        return many, str(many / "*.parquet")
    raise InputError(Problem(str(single), "no Parquet order lines found",
                             fix="write the orders as orders.parquet (or a folder orders/ of Parquet files), "
                                 "or use helpers.kpis.measures.kpi_actuals for CSV data"))


def _frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """``con.execute(sql).df()`` for text, BIGINT and DOUBLE columns, through Arrow: text as pandas' Arrow-backed ``str`` (as
    ``.df()`` gives it) without making a Python string of every value on the way (a
    million visits' distinct manager-customer-month rows: 0.13 s instead of 0.45 s)."""
    import pyarrow as pa

    rel = con.sql(sql)
    table = rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.fetch_arrow_table()  # DuckDB 2 / 1
    text = pd.StringDtype("pyarrow", na_value=np.nan)
    return table.to_pandas(types_mapper={pa.string(): text, pa.large_string(): text}.get)


def _customers(ds: Dataset) -> pd.DataFrame:
    """The customers as the queries join them: ``customer_id``, ``segment``
    (:func:`helpers.kpis.measures.segments_of`) and ``customer``, the row in ``ds.customers``."""
    seg = segments_of(ds.customers)
    return pd.DataFrame({"customer_id": seg.index.astype(object), "segment": seg.to_numpy(dtype=object),
                         "customer": np.arange(len(seg), dtype="int64")})


def _connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads or os.cpu_count() or 1)}")
    con.execute("SET preserve_insertion_order = false")
    return con


def load_small_tables(folder: str | Path, as_of: pd.Timestamp | None = None,
                      con: duckdb.DuckDBPyConnection | None = None) -> Dataset:
    """Every table except the order lines, loaded and validated as ``load_dataset``
    does.  ``orders`` in the result holds only the first order line (so that the
    references and :func:`helpers.kpis.measures.availability` work); use
    :func:`order_measures` for the figures."""
    folder = Path(folder)
    path, glob = orders_source(folder)
    raw: dict[str, pd.DataFrame] = {}
    files: dict[str, Path] = {"orders": path}
    for name in TABLES:
        if name == "orders":
            continue
        p = find_table_file(folder, name)
        if p is not None:
            files[name] = p
            raw[name] = read_raw(p)
    con = con or _connect()
    raw["orders"] = con.execute(f"SELECT * FROM read_parquet('{glob}') LIMIT 1").df()
    return validate_tables(raw, files, as_of, references=_check_references)


def _check_references(tables: dict[str, pd.DataFrame], files: dict[str, Path]) -> list[Problem]:
    """:func:`helpers.data.tables.check_references`, with the unknown ids counted by DuckDB
    (an anti-join: a fraction of a second for millions of visits against 270,000
    customers); only a table with unknown ids gets the row-by-row mask that names its
    rows.  Same problems, same messages."""
    problems: list[Problem] = []
    con = duckdb.connect()
    try:
        for name, df in tables.items():
            for column, other, other_col in TABLES[name].foreign_keys:
                if other not in tables or column not in df.columns:
                    continue
                con.register("a", df[[column]])
                con.register("b", tables[other][[other_col]])
                n_bad = con.execute(f'SELECT count(*) FROM a WHERE a."{column}" IS NOT NULL AND a."{column}" '
                                    f'NOT IN (SELECT b."{other_col}" FROM b WHERE b."{other_col}" IS NOT NULL)'
                                    ).fetchall()[0][0]
                con.unregister("a")
                con.unregister("b")
                if not n_bad:
                    continue
                known = pd.Index(tables[other][other_col].dropna().unique())
                bad = df[column].notna() & (known.get_indexer(df[column]) < 0)
                first = df.loc[bad, column].iloc[0]
                problems.append(_row_problem(str(files.get(name, name)), files.get(name), bad, column,
                                             f"'{first}' is not in {other}.{other_col}",
                                             f"add it to {files.get(other, other)} or correct the id"))
    finally:
        con.close()
    return problems


def _check_orders(con: duckdb.DuckDBPyConnection, src: Path, as_of: datetime.date) -> None:
    """Checks on all order lines that the figures depend on, from the counts
    :func:`order_measures` keeps in its one pass over them (table ``kpi_order_months``);
    raise InputError."""
    row = con.execute(
        """
        SELECT
          coalesce(sum(g.n_empty), 0), coalesce(sum(g.n_bad_date), 0),
          coalesce(sum(g.n) FILTER (WHERE g.customer_id IS NOT NULL AND c.customer_id IS NULL), 0),
          coalesce(sum(g.n) FILTER (WHERE g.manager_id IS NOT NULL AND m.manager_id IS NULL), 0),
          coalesce(sum(g.n_negative), 0), coalesce(sum(g.n_future), 0),
          any_value(g.customer_id) FILTER (WHERE g.customer_id IS NOT NULL AND c.customer_id IS NULL),
          any_value(g.manager_id) FILTER (WHERE g.manager_id IS NOT NULL AND m.manager_id IS NULL)
        FROM kpi_order_months g LEFT JOIN cust c USING (customer_id) LEFT JOIN mgr m ON g.manager_id = m.manager_id
        """
    ).fetchone()
    empty, bad_date, unk_c, unk_m, neg, future, first_c, first_m = row
    problems: list[Problem] = []
    if bad_date:
        problems.append(Problem(str(src), f"{bad_date:,} order line(s) have a date that cannot be read", where="column date",
                                fix="write dates as YYYY-MM-DD (or a Parquet date/timestamp column)"))
    if empty - bad_date > 0:
        problems.append(Problem(str(src), f"{empty - bad_date:,} order line(s) have an empty manager_id, customer_id, "
                                f"date, amount or profit", fix="fill them in"))
    if unk_c:
        problems.append(Problem(str(src), f"{unk_c:,} order line(s) name a customer not in customers "
                                f"(first: '{first_c}')", where="column customer_id",
                                fix="add the customers or correct the ids"))
    if unk_m:
        problems.append(Problem(str(src), f"{unk_m:,} order line(s) name a manager not in managers "
                                f"(first: '{first_m}')", where="column manager_id",
                                fix="add the managers or correct the ids"))
    if neg:
        problems.append(Problem(str(src), f"{neg:,} order line(s) have a negative amount", where="column amount",
                                fix="amounts are ≥ 0 (put returns in profit or leave them out)"))
    if future:
        problems.append(Problem(str(src), f"{future:,} order line(s) are dated after {as_of}", where="column date",
                                fix="correct the dates, or pass the as-of date the data was extracted on"))
    if problems:
        raise InputError(problems)


def reduce_orders(con: duckdb.DuckDBPyConnection, glob: str, freq: str, as_of: datetime.date) -> None:
    """The one pass over the order lines: view ``kpi_order_lines`` (typed columns) and table
    ``kpi_order_months``, one row per manager, customer, month and period with the sums and the counts
    :func:`_check_orders` needs.  It needs nothing from the other tables, so
    :class:`OrderReduction` runs it while they are read and checked."""
    cols = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{glob}')").fetchall()}
    has_profit = "profit" in cols  # optional: without it, profit KPIs are not available (never 0)
    profit = "CAST(profit AS DOUBLE)" if has_profit else "CAST(NULL AS DOUBLE)"
    # not TEMP: another connection to the database (the caller's) reads them; named so as
    # not to meet a caller's own tables, and dropped by order_measures
    con.execute(
        f"""
        CREATE OR REPLACE VIEW kpi_order_lines AS
        SELECT CAST(manager_id AS VARCHAR) AS manager_id, CAST(customer_id AS VARCHAR) AS customer_id,
               TRY_CAST(date AS DATE) AS d, date AS raw_date,
               CAST(amount AS DOUBLE) AS amount, {profit} AS profit
        FROM read_parquet('{glob}')
        """
    )
    profit_empty = "OR o.profit IS NULL" if has_profit else ""
    p_expr = "4 * (year(o.d) - 1970) + quarter(o.d) - 1" if freq == "Q" else "12 * (year(o.d) - 1970) + month(o.d) - 1"
    con.execute(
        f"""
        CREATE OR REPLACE TABLE kpi_order_months AS
        SELECT o.manager_id, o.customer_id, 12 * (year(o.d) - 1970) + month(o.d) - 1 AS m, {p_expr} AS p,
               count(*) AS n, sum(o.amount) AS amount, sum(o.profit) AS profit, min(o.d) AS d_min, max(o.d) AS d_max,
               count(*) FILTER (WHERE o.manager_id IS NULL OR o.customer_id IS NULL OR o.d IS NULL
                                OR o.amount IS NULL {profit_empty}) AS n_empty,
               count(*) FILTER (WHERE o.d IS NULL AND o.raw_date IS NOT NULL) AS n_bad_date,
               count(*) FILTER (WHERE o.amount < 0) AS n_negative,
               count(*) FILTER (WHERE o.d > DATE '{as_of.isoformat()}') AS n_future
        FROM kpi_order_lines o GROUP BY ALL
        """
    )


class OrderReduction:
    """:func:`reduce_orders` on a second connection to ``con``'s database, in a thread:
    DuckDB lets go of Python while it scans, so the order lines are reduced on its
    threads while Python reads and checks the other tables (at 10.4M lines about 1.5 s
    of the scan is hidden that way).  :meth:`wait` re-raises what the scan raised, at
    the point the scan would have run; :meth:`cancel` interrupts it."""

    def __init__(self, con: duckdb.DuckDBPyConnection, glob: str, freq: str, as_of: datetime.date) -> None:
        import threading

        self._cur = con.cursor()
        self.freq, self.as_of = freq, as_of
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(glob, freq, as_of), name="kpi-order-scan", daemon=True)
        self._thread.start()

    def _run(self, glob: str, freq: str, as_of: datetime.date) -> None:
        try:
            reduce_orders(self._cur, glob, freq, as_of)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller in wait()
            self._error = exc

    def wait(self) -> None:
        self._thread.join()
        self._cur.close()
        if self._error is not None:
            raise self._error

    def cancel(self) -> None:
        while self._thread.is_alive():  # again and again: an interrupt between two statements is lost
            self._cur.interrupt()
            self._thread.join(0.05)
        self._cur.close()


def order_measures(con: duckdb.DuckDBPyConnection, glob: str, ds: Dataset, freq: str,
                   src: Path | None = None, as_of: pd.Timestamp | None = None,
                   check: bool = True, reduced: "OrderReduction | None" = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, object]]:
    """Order-derived base measures computed by DuckDB over ``glob``.

    Returns ``(per_period, per_month, extent)``: ``per_period`` has columns manager_id,
    p, segment, sales, profit, orders, buyers, repeat_buyers; ``per_month`` has the
    distinct customers (``customer``: the customer's row in ``ds.customers``) and
    months (``p``, the month ordinal) with an order; ``extent`` has the first and last
    order date and the smallest and largest period ordinal (``None`` when there are no
    order lines).

    One pass over the order lines reduces them to one row per manager, customer and
    month (table ``kpi_order_months``, :func:`reduce_orders`; ``reduced``: that pass already started
    on ``con``'s database by :class:`OrderReduction`), with the counts the checks need
    (:func:`_check_orders`); the customers' segments are joined to that reduction, not
    to every line.
    """
    mgr = ds.managers[["manager_id"]].astype(object)
    con.register("cust", _customers(ds))
    con.register("mgr", mgr)
    try:
        if reduced is None:
            as_of = (as_of or pd.Timestamp.today().normalize()).date()
            reduce_orders(con, glob, freq, as_of)
        else:
            if reduced.freq != freq:
                raise ValueError(f"the order lines were reduced for freq {reduced.freq!r}, not {freq!r}")
            as_of = reduced.as_of  # the date the scan counted future lines against
            reduced.wait()
        if check:
            _check_orders(con, src or Path(glob), as_of)
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE mc AS
            SELECT g.manager_id, c.segment, c.customer, g.m, g.p, g.n, g.amount, g.profit, g.d_min, g.d_max
            FROM kpi_order_months g JOIN cust c USING (customer_id)
            """
        )
    finally:
        con.execute("DROP TABLE IF EXISTS kpi_order_months")
        con.execute("DROP VIEW IF EXISTS kpi_order_lines")
    # per manager, period, segment and customer: mc's rows themselves when the period is the month
    pc = ("SELECT manager_id, p, segment, customer, n, amount, profit FROM mc" if freq == "M" else
          "SELECT manager_id, p, segment, customer, sum(n) AS n, sum(amount) AS amount, sum(profit) AS profit "
          "FROM mc GROUP BY ALL")
    per_period = _frame(con, f"""
        WITH pc AS ({pc})
        SELECT manager_id, p, segment, sum(amount) AS sales, sum(profit) AS profit,
               CAST(sum(n) AS DOUBLE) AS orders, CAST(count(*) AS DOUBLE) AS buyers,
               CAST(count(*) FILTER (WHERE n >= 2) AS DOUBLE) AS repeat_buyers
        FROM pc GROUP BY ALL
        """)
    per_month = con.execute("SELECT DISTINCT customer, m AS p FROM mc").df()
    d_min, d_max, p_min, p_max = con.execute("SELECT min(d_min), max(d_max), min(p), max(p) FROM mc").fetchone()
    extent = {"date_min": d_min, "date_max": d_max, "p_min": p_min, "p_max": p_max}
    for f in (per_period, per_month):
        f["p"] = f["p"].astype("int64")
    return per_period, per_month, extent


_EVENT_SQL = {
    # table: (SQL over the table t joined to the customers c, measures it gives)
    "complaints": ("""SELECT t.manager_id, c.segment, {p} AS p, count(*) AS complaints,
                             count(*) FILTER (WHERE t.resolved) AS resolved,
                             count(*) FILTER (WHERE t.escalated) AS escalated
                      FROM t JOIN c USING (customer_id) GROUP BY ALL""",
                   ("complaints", "resolved", "escalated")),
    "visits": ("""SELECT t.manager_id, c.segment, {p} AS p, count(*) AS visits
                  FROM t JOIN c USING (customer_id) GROUP BY ALL""",
               ("visits",)),
    "leads": ("""SELECT t.manager_id, t.segment, {p} AS p, count(*) AS leads,
                        count(*) FILTER (WHERE t.converted) AS converted
                 FROM t GROUP BY ALL""",
              ("leads", "converted")),
}


def _event_measures(ds: Dataset, freq: str, keys: list[str]) -> tuple[list[pd.Series], pd.DataFrame | None]:
    """Complaint, visit and lead measures per (manager, period, segment), grouped by
    DuckDB over the validated tables (millions of visits and leads at scale), and the
    distinct (manager_id, customer_id, p) of the visits for visit coverage (None without
    visits).  The attribution rules are those of :func:`helpers.kpis.measures.base_measures`:
    a complaint and a visit count for the manager named on it, each in the customer's
    segment; a lead in its own segment (surveys follow responsibility:
    :func:`helpers.kpis.measures.survey_measures`)."""
    p_expr = ("4 * (year(t.date) - 1970) + quarter(t.date) - 1" if freq == "Q"
              else "12 * (year(t.date) - 1970) + month(t.date) - 1")
    con = duckdb.connect()
    con.execute("SET threads = %d" % int(os.cpu_count() or 1))
    con.register("c", _customers(ds))
    out: list[pd.Series] = []
    visited = None
    try:
        for name, (sql, measures) in _EVENT_SQL.items():
            if not ds.has(name):
                continue
            con.register("t", ds[name])
            r = _frame(con, sql.format(p=p_expr)).astype({"p": "int64"}).set_index(keys)
            out += [r[m].astype("float64").rename(m) for m in measures]
            if name == "visits":
                visited = _frame(con, f"SELECT DISTINCT t.manager_id, t.customer_id, {p_expr} AS p FROM t") \
                    .astype({"p": "int64"})
            con.unregister("t")
    finally:
        con.close()
    return out, visited


def base_measures_parquet(ds: Dataset, per_period: pd.DataFrame, per_month: pd.DataFrame,
                          extent: dict[str, object], freq: str = "Q") -> pd.DataFrame:
    """:func:`helpers.kpis.measures.base_measures` with the order parts given precomputed.

    The customer-base measures are the same function (:func:`helpers.kpis.measures.customer_measures`); the survey,
    complaint, visit and lead measures by DuckDB with the same attribution rules
    (:func:`_event_measures`)."""
    if freq not in ("M", "Q"):
        raise ValueError("freq must be 'M' or 'Q'")
    cust = ds.customers
    has_orders = extent["p_min"] is not None
    dates = [pd.Timestamp(extent["date_min"]) if has_orders else pd.NaT,
             pd.Timestamp(extent["date_max"]) if has_orders else pd.NaT, cust["acquired_date"].min()]
    lo = int(_ord(pd.PeriodIndex([min(d for d in dates if pd.notna(d))], freq=freq))[0])
    lo = max(lo, int(extent["p_min"])) if has_orders else lo
    hi = int(extent["p_max"]) if has_orders else lo
    keys = ["manager_id", "p", "segment"]
    pp = per_period.set_index(keys)
    parts: list[pd.Series] = [pp[c_] for c_ in ("sales", "profit", "orders", "buyers", "repeat_buyers")]

    sp = spells(ds)
    events, visited = _event_measures(ds, freq, keys)
    parts += customer_measures(cust, sp, freq, lo, hi, per_month, visited)
    if ds.has("surveys"):
        parts += survey_measures(ds, sp, segments_of(cust), freq)
    parts += events

    return on_grid(ds, freq, lo, hi, parts)


def kpi_actuals_parquet(folder: str | Path, freq: str = "Q", as_of: pd.Timestamp | None = None,
                        threads: int | None = None, check: bool = True,
                        measures: Sequence[Declared] = ()) -> pd.DataFrame:
    """All available KPIs per manager per period, with the order lines aggregated by
    DuckDB over the Parquet files in ``folder``.

    Same long table as :func:`helpers.kpis.measures.kpi_actuals` (``manager_id, period,
    segment, kpi, value, numerator, denominator, rows``), equal to it within float
    rounding (sums are added in a different order).  ``measures``: a plan's declared
    measures (:meth:`helpers.kpis.indicators.Library.declared`), compiled to SQL
    (:mod:`helpers.kpis.declared_duckdb`) and added under their indicator ids.
    """
    if freq not in ("M", "Q"):
        raise ValueError("freq must be 'M' or 'Q'")
    folder = Path(folder)
    src, glob = orders_source(folder)
    con = _connect(threads)
    try:
        scan = OrderReduction(con, glob, freq, (as_of or pd.Timestamp.today().normalize()).date())
        try:
            ds = load_small_tables(folder, as_of=as_of, con=con).with_measures(measures)
            per_period, per_month, extent = order_measures(con, glob, ds, freq, src=src, as_of=as_of, check=check,
                                                           reduced=scan)
        finally:
            scan.cancel()  # nothing left to stop unless something above failed
        b = _all_segments(base_measures_parquet(ds, per_period, per_month, extent, freq),
                          present_segments(ds.customers))
        out = _long(ds, b, freq)
        if ds.measures:
            out = _declared_rows(con, ds, out, glob, freq, extent)
    finally:
        con.close()
    return out


def _declared_rows(con: duckdb.DuckDBPyConnection, ds: Dataset, out: pd.DataFrame, glob: str, freq: str,
                   extent: dict[str, object]) -> pd.DataFrame:
    """``out`` with the declared measures after the built-in KPIs of each manager and
    period, as :func:`helpers.kpis.measures.kpi_actuals` orders them (a stable sort by
    manager and period keeps the built-ins' order)."""
    from helpers.kpis.declared_duckdb import aggregator

    relation = "read_parquet('" + glob.replace("'", "''") + "')"  # lines after as_of were refused above
    if extent["p_min"] is None:
        return out
    lo, hi = (pd.Period(pd.Timestamp(extent[k]), freq=freq).ordinal for k in ("date_min", "date_max"))
    avail = set(availability(ds).query("available")["kpi"])
    both = _with_declared(ds, out, freq, avail, aggregate=aggregator(con, {"orders": relation}), span=(lo, hi))
    return both.sort_values(["manager_id", "period"], kind="stable").reset_index(drop=True)


def _sort_order(m: np.ndarray, p: np.ndarray, k: np.ndarray, s: np.ndarray, n_m: int, n_k: int, n_s: int
                ) -> np.ndarray:
    """The permutation that sorts the rows by (m, p, k, s), like ``np.lexsort((s, k, p, m))``.

    The four codes are small non-negative integers and every row's combination is
    unique, so the combined key ((m·P + p′)·K + k)·S + s indexes a slot array: one
    scatter and one gather (a counting sort, linear time) instead of a comparison
    sort of millions of rows.  Falls back to ``np.lexsort`` when the slot array would
    be large or the keys are not unique."""
    n = len(m)
    if n == 0:
        return np.arange(0)
    p0 = int(p.min())
    n_p = int(p.max()) - p0 + 1
    size = n_m * n_p * n_k * n_s
    if size <= 8 * n + 1_000_000:
        key = m * n_p
        key += p - p0
        key *= n_k
        key += k
        key *= n_s
        key += s
        dtype = "int32" if n < 2 ** 31 else "int64"  # half the memory to touch
        slot = np.full(size, -1, dtype=dtype)
        slot[key] = np.arange(n, dtype=dtype)
        order = slot[slot >= 0]
        if len(order) == n:
            return order
    return np.lexsort((s, k, p, m))


def _long(ds: Dataset, b: pd.DataFrame, freq: str) -> pd.DataFrame:
    """The long table of :func:`helpers.kpis.measures.kpi_actuals` from base measures ``b``
    (with segment ``all``): same rows, values and order, built column-wise on integer
    codes (one ``np.lexsort`` instead of a keyed ``sort_values``, period labels made
    once per period) so that it stays fast at millions of rows."""
    wide = derive(b)
    avail = set(availability(ds).query("available")["kpi"])
    seg_kpis = [k for k in KPIS if k in wide.columns and k in avail]
    kpi_code = {k: i for i, k in enumerate(KPIS)}
    seg_names = ["all", *SEGMENTS]
    seg_code = {s_: i for i, s_ in enumerate(seg_names)}
    managers = pd.Index(pd.unique(b["manager_id"])).sort_values()

    def codes(ids: pd.Series) -> np.ndarray:
        return positions(ids, managers)

    cols: dict[str, list[np.ndarray]] = {c_: [] for c_ in ("m", "p", "s", "k", "value", "numerator", "denominator",
                                                           "rows")}

    def add(m, p, s, k, value, num, den, rows) -> None:
        n = len(m)
        cols["m"].append(np.asarray(m, dtype="int64"))
        cols["p"].append(np.asarray(p, dtype="int64"))
        cols["s"].append(np.broadcast_to(np.asarray(s, dtype="int64"), n))
        cols["k"].append(np.full(n, kpi_code[k], dtype="int64"))
        for name, x in (("value", value), ("numerator", num), ("denominator", den), ("rows", rows)):
            cols[name].append(np.broadcast_to(np.asarray(x, dtype="float64"), n))

    w_m, w_p = codes(wide["manager_id"]), wide["p"].to_numpy()
    w_s = wide["segment"].map(seg_code).to_numpy()
    for k in seg_kpis:
        add(w_m, w_p, w_s, k, wide[k], wide[f"{k}__num"], wide[f"{k}__den"], wide[f"{k}__rows"])
    b_all = b[b["segment"] == "all"]
    if "market_share" in avail:
        ms = _market_share(ds, b_all, freq)
        ms_m = codes(ms["manager_id"])
        add(ms_m, ms["p"], 0, "market_share", ms["market_share"], ms["sales"], ms["sum"],
            ms["orders"] + ms["size"].fillna(0))
        add(ms_m, ms["p"], 0, "market_share_change", ms["market_share_change"], np.nan, np.nan, ms["orders"])
    if ds.has("ratings"):
        on = qualitative_on(b_all, _qualitative(ds, freq))
        b_m, b_p = codes(b_all["manager_id"]), b_all["p"].to_numpy()
        for d in QUAL_DIMENSIONS:
            mean, total, size = on[d]
            add(b_m, b_p, 0, f"qual_{d}", mean, total, size, np.nan_to_num(size))
    c = {name: np.concatenate(v) for name, v in cols.items()}
    cols.clear()  # the pieces are in c now
    # kpi_actuals sorts by manager_id, period label, KPI order, segment order; within one
    # frequency the period labels sort like the period ordinals
    order = _sort_order(c["m"], c["p"], c["k"], c["s"], len(managers), len(KPIS), len(seg_names))
    # one column at a time (sorted, then the unsorted copy freed): millions of rows at scale
    p_sorted = c.pop("p")[order]
    p0 = int(p_sorted.min()) if len(p_sorted) else 0
    span = np.arange(p0, (int(p_sorted.max()) if len(p_sorted) else p0) + 1)  # every period label made once
    labels = pd.Index([_label(x) for x in pd.PeriodIndex.from_ordinals(span, freq=freq)], dtype="str")
    out = {"manager_id": managers.take(c.pop("m")[order]),
           "period": labels.take(p_sorted - p0)}
    del p_sorted
    out["segment"] = pd.Index(seg_names, dtype="str").take(c.pop("s")[order])
    out["kpi"] = pd.Index(list(KPIS), dtype="str").take(c.pop("k")[order])
    for name in ("value", "numerator", "denominator"):
        out[name] = c.pop(name)[order]
    rows = c.pop("rows")[order]
    out["rows"] = np.nan_to_num(rows, copy=False, nan=0.0).astype("int64")
    del rows, order
    return pd.DataFrame(out, copy=False)
