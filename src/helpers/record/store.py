"""The results store: the system of record of closed periods, adjustments, disputes and sign-offs.

A DuckDB file by default (``record.duckdb`` beside the reports, or ``record.store`` in
the run parameters), or any SQLAlchemy URL (``postgresql+psycopg://user@host/db``)
when several analysts share one record.  The tables are in :mod:`helpers.record.schema`.

Rules:

* **A closed period is never rewritten.**  :meth:`Store.close` writes the period's
  results and marks it closed in one transaction: a process killed in the middle
  leaves the period either closed completely or not at all (the database rolls the
  unfinished transaction back).  Nothing in this module updates or deletes a row of a
  closed period's results; a later recalculation is booked as adjustments of an open
  period (:mod:`helpers.record.restate`).
* **One clear line when the store cannot be used**: locked by another process, not a
  database (damaged), written by a newer version of the workbook, or unreachable —
  :class:`helpers.errors.InputError` naming the store and what to do (exit 2).
* The connection is opened for each operation and closed after it (a DuckDB file is
  held only while it is being read or written).
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pandas as pd
import sqlalchemy as sa

from helpers.errors import InputError, Problem
from helpers.periods import parse_period
from helpers.plan.params import RunParams, resolve
from helpers.record import schema as S
from helpers.record.results import COLUMNS, Results, records

__all__ = ["Store", "store_url", "open_store", "now_utc"]

PAUSE_ENV = "KPI_WORKBOOK_TEST_CLOSE_PAUSE"
"""Seconds :meth:`Store.close` sleeps inside its transaction, after writing the results
and before marking the period closed (tests kill the process there: kill -9 must
leave the period not closed at all)."""


def now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def store_url(params: RunParams, params_file: str | Path, out_root: str | Path) -> str:
    """The store's SQLAlchemy URL: ``record.store`` (a URL, or a DuckDB file relative to
    the params file), else ``record.duckdb`` in the output folder."""
    where = params.record.store
    if where and "://" in where:
        return where
    path = resolve(params_file, where) if where else Path(out_root).resolve() / "record.duckdb"
    return f"duckdb:///{path}"


def open_store(params: RunParams, params_file: str | Path, out_root: str | Path, source: str = "") -> "Store":
    return Store(store_url(params, params_file, out_root), source or f"{params_file}: key 'record.store'")


_ADJ_FIELDS = ("manager_id", "period", "amount", "indicator", "credit", "reason_code", "reason", "approved_by", "date")
"""What an adjustment of the adjustments file says (a closed period's must not change)."""


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return records(df, text_inf=False)  # an infinite attainment is a number in the database


class Store:
    """One results store (see the module's docstring)."""

    def __init__(self, url: str, source: str = "record.store"):
        self.url = url
        self.source = source
        u = sa.engine.make_url(url)
        self.is_duckdb = u.get_backend_name() == "duckdb"
        self.label = str(u.database) if self.is_duckdb else u.render_as_string(hide_password=True)
        self._engine: sa.Engine | None = None
        self._ready = False

    # ------------------------------------------------------------------ connection

    def _problem(self, exc: BaseException) -> Problem:
        text = str(getattr(exc, "orig", None) or exc)
        first = next((ln.strip() for ln in text.splitlines() if ln.strip()), type(exc).__name__)
        low = text.lower()
        if "lock" in low and ("conflicting" in low or "could not set lock" in low):
            pid = ""
            if "PID" in text:
                pid = " (" + text[text.index("PID"):].split(")")[0].strip() + ")"
            return Problem(self.label, f"the results store is in use by another process{pid}",
                           fix="wait for that run or command to finish, then try again")
        if "not a valid duckdb database" in low or "corrupt" in low or "checksum" in low \
                or "serialization" in low or "invalid database" in low:
            return Problem(self.label, "the results store is not a DuckDB database or is damaged",
                           fix="restore it from a backup, or point record.store at the right file; nothing was written")
        if self.is_duckdb and ("newer version" in low or "storage version" in low):
            return Problem(self.label, "the results store was written by a newer DuckDB",
                           fix="upgrade duckdb (pip install -U duckdb) to read it; nothing was written")
        if not self.is_duckdb and isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError)):
            return Problem(self.label, f"the results store cannot be reached: {first[:200]}",
                           fix="check the URL, the server and the password (e.g. in ~/.pgpass); nothing was written")
        return Problem(self.label, f"the results store failed: {first[:200]}",
                       fix="check the store named in record.store; nothing was written")

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            if self.is_duckdb:
                Path(str(sa.engine.make_url(self.url).database)).parent.mkdir(parents=True, exist_ok=True)
            try:
                self._engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
            except (ImportError, sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
                raise InputError(Problem(self.source, f"'{self.label}' is not a usable store URL ({exc})",
                                         fix="use a DuckDB file path or a URL like "
                                             "postgresql+psycopg://user@host/dbname")) from None
        return self._engine

    @contextmanager
    def _conn(self, write: bool) -> Iterator[sa.Connection]:
        """A connection (in a transaction when ``write``), the store migrated to the
        current schema first; every database error becomes one clear line."""
        import warnings

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # duckdb-engine's notes about reflection
                if not self._ready:
                    with self.engine.begin() as c:
                        self._migrate(c)
                    self._ready = True
                if write:
                    with self.engine.begin() as c:
                        yield c
                else:
                    with self.engine.connect() as c:
                        yield c
        except InputError:
            raise
        except (sa.exc.SQLAlchemyError, OSError, RuntimeError) as exc:
            raise InputError(self._problem(exc)) from None
        except Exception as exc:  # duckdb raises its own errors through the dialect
            if type(exc).__module__.split(".")[0] in ("duckdb", "_duckdb", "psycopg"):
                raise InputError(self._problem(exc)) from None
            raise

    # ------------------------------------------------------------------ schema

    def _version(self, c: sa.Connection) -> int:
        if not sa.inspect(c).has_table("record_meta"):
            return 0
        v = c.execute(sa.select(S.meta.c.value).where(S.meta.c.key == "schema_version")).scalar()
        return int(v) if v is not None else 0

    def _migrate(self, c: sa.Connection, to: int | None = None) -> None:
        have = self._version(c)
        to = S.SCHEMA_VERSION if to is None else to
        if have > S.SCHEMA_VERSION:
            raise InputError(Problem(self.label, f"the results store has schema version {have}; this kpi-workbook "
                                     f"reads up to version {S.SCHEMA_VERSION}",
                                     fix="upgrade kpi-workbook (pip install -U kpi-workbook); nothing was written"))
        if have >= to:
            return
        if have == 0:
            S.meta.create(c, checkfirst=True)
        for v in range(have + 1, to + 1):
            S.MIGRATIONS[v](c)
        c.execute(sa.delete(S.meta).where(S.meta.c.key == "schema_version"))
        c.execute(sa.insert(S.meta), [{"key": "schema_version", "value": str(to)}])

    def migrate_to(self, version: int) -> None:
        """Bring the store to ``version`` (tests build earlier versions with it)."""
        try:
            with self.engine.begin() as c:
                self._migrate(c, to=version)
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            raise InputError(self._problem(exc)) from None

    def check(self) -> list[Problem]:
        """What would stop this store from being used, read without writing anything
        (a DuckDB file that does not exist yet is fine: the first run creates it)."""
        import warnings

        if self.is_duckdb and not Path(str(sa.engine.make_url(self.url).database)).exists():
            return []
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with self.engine.connect() as c:
                    have = self._version(c)
        except InputError as exc:
            return exc.problems
        except Exception as exc:  # noqa: BLE001 - every database error is one line
            return [self._problem(exc)]
        if have > S.SCHEMA_VERSION:
            return [Problem(self.label, f"the results store has schema version {have}; this kpi-workbook reads up "
                            f"to version {S.SCHEMA_VERSION}", fix="upgrade kpi-workbook (pip install -U kpi-workbook)")]
        return []

    def schema_version(self) -> int:
        with self._conn(False) as c:
            return self._version(c)

    # ------------------------------------------------------------------ reading

    def frame(self, table: str, **where: Any) -> pd.DataFrame:
        """Rows of ``table`` matching ``where`` (column = value), as a DataFrame."""
        t = S.TABLES[table]
        q = sa.select(t)
        for k, v in where.items():
            q = q.where(t.c[k] == v)
        with self._conn(False) as c:
            rows = c.execute(q).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=[col.name for col in t.columns])

    def period(self, label: str) -> dict[str, Any] | None:
        df = self.frame("periods", period=label)
        return None if df.empty else df.iloc[0].to_dict()

    def is_closed(self, label: str) -> bool:
        p = self.period(label)
        return p is not None and p["status"] == "closed"

    def closed_periods(self) -> list[str]:
        df = self.frame("periods", status="closed")
        return sorted(df["period"].astype(str))

    def next_open(self, label: str) -> str:
        """The first period after ``label`` (same length: quarter or month) that is not closed."""
        return self._next(label, set(self.closed_periods()))

    def results(self, label: str) -> Results:
        """The closed results of ``label`` (as closed: nothing recomputed)."""
        p = self.period(label)
        if p is None:
            raise InputError(Problem(self.label, f"period {label} is not closed in the results store",
                                     fix=f"close it first: kpi-workbook close {label}"))
        frames = {n: self.frame("grades" if n == "grades" else n, period=label) for n in COLUMNS}
        frames = {n: df[COLUMNS[n]] for n, df in frames.items()}
        teams = sorted(frames["grades"]["team_id"].dropna().astype(str).unique())
        return Results(label, **frames, plan_version=p["plan_version"] or "", language=p["language"] or "zh",
                       teams=teams)

    def adjustments(self, period: str | None = None, manager_id: str | None = None) -> pd.DataFrame:
        where = {k: v for k, v in (("period", period), ("manager_id", manager_id)) if v is not None}
        return self.frame("adjustments", **where).sort_values(["period", "manager_id", "adjustment_id"],
                                                              ignore_index=True)

    # ------------------------------------------------------------------ writing

    def close(self, results: Results, inputs: list[dict[str, Any]], plan_files: dict[str, str],
              closed_by: str, forced_reason: str | None = None) -> dict[str, Any]:
        """Freeze ``results`` as the closed results of their period, in one transaction.

        The adjustments booked to the period are frozen with it (each manager's
        ``adjustments`` and ``pay_total``); refuses a period that is already closed."""
        label = results.period
        with self._conn(True) as c:
            if c.execute(sa.select(S.periods.c.status).where(S.periods.c.period == label)).scalar() == "closed":
                raise InputError(Problem(self.label, f"period {label} is already closed",
                                         fix="a closed period is never rewritten: run it again to see a restatement"))
            adj = pd.DataFrame([dict(r) for r in c.execute(
                sa.select(S.adjustments).where(S.adjustments.c.period == label)).mappings().all()],
                columns=[col.name for col in S.adjustments.columns])
            g = results.grades.copy()
            by = adj.groupby("manager_id")["amount"].sum() if len(adj) else pd.Series(dtype=float)
            g["adjustments"] = g["manager_id"].map(by).fillna(0.0).astype(float)
            g["pay_total"] = g["payout"].astype(float).fillna(0.0) + g["adjustments"]
            g["version"] = [results.version(m, adj) for m in g["manager_id"]]
            g["period"] = label
            for n, t in (("grades", S.grades), ("targets", S.targets), ("scores", S.scores),
                         ("pay_lines", S.pay_lines)):
                df = g if n == "grades" else getattr(results, n).assign(period=label)
                rows = _records(df[[col.name for col in t.columns]])
                if rows:
                    c.execute(sa.insert(t), rows)
            known = set(c.execute(sa.select(S.plan_files.c.file).where(
                S.plan_files.c.plan_version == results.plan_version)).scalars())
            new = [{"plan_version": results.plan_version, "file": f, "sha256": s}
                   for f, s in plan_files.items() if f not in known]
            if new:
                c.execute(sa.insert(S.plan_files), new)
            if inputs:
                c.execute(sa.insert(S.inputs), [{**r, "period": label} for r in inputs])
            pause = float(os.environ.get(PAUSE_ENV, "0") or 0)
            if pause:
                time.sleep(pause)
            row = {"period": label, "status": "closed", "closed_at": now_utc(), "closed_by": closed_by,
                   "forced_reason": forced_reason, "plan_version": results.plan_version,
                   "results_version": _bundle_version(g),
                   "language": results.language, "managers": int(len(g)),
                   "pay_total": float(g["pay_total"].sum())}
            c.execute(sa.delete(S.periods).where(S.periods.c.period == label))
            c.execute(sa.insert(S.periods), [row])
        return row

    def book(self, rows: list[dict[str, Any]]) -> int:
        """Insert adjustments (each a dict of the ``adjustments`` columns); refuses one
        booked to a closed period.  Returns how many were inserted."""
        if not rows:
            return 0
        with self._conn(True) as c:
            closed = set(c.execute(sa.select(S.periods.c.period).where(S.periods.c.status == "closed")).scalars())
            bad = sorted({r["period"] for r in rows if r["period"] in closed})
            if bad:
                raise InputError(Problem(self.label, f"period {', '.join(bad)} is closed: nothing is booked to it",
                                         fix="book the adjustment to an open period"))
            c.execute(sa.insert(S.adjustments), [{"recorded_at": now_utc(), **r} for r in rows])
        return len(rows)

    def sync(self, adjustments: pd.DataFrame | None = None, disputes: pd.DataFrame | None = None,
             signoffs: pd.DataFrame | None = None) -> dict[str, int]:
        """Bring the files HR keeps into the store, in one transaction.

        ``adjustments`` (source ``file``): rows of open periods are replaced by the file's;
        a row of a closed period must already be in the store as it is (else refused:
        a closed figure changes only through an adjustment of an open period).
        ``disputes``: inserted or updated by ``dispute_id``; an accepted dispute with
        an amount becomes the adjustment ``D-<dispute_id>`` of the disputed period when
        it is open, else of the next open period (booked once).  ``signoffs``:
        inserted or updated per period and manager."""
        counts = {"adjustments": 0, "disputes": 0, "signoffs": 0, "dispute_adjustments": 0}
        with self._conn(True) as c:
            closed = set(c.execute(sa.select(S.periods.c.period).where(S.periods.c.status == "closed")).scalars())
            if adjustments is not None:
                have = {r["adjustment_id"]: dict(r) for r in c.execute(
                    sa.select(S.adjustments).where(S.adjustments.c.source == "file")).mappings()}
                problems = []
                for r in _records(adjustments):
                    if r["period"] in closed and r["adjustment_id"] not in have:
                        problems.append(Problem(str(r.get("_file", "adjustments")),
                                                f"period {r['period']} is closed: an adjustment is not booked to it",
                                                where=str(r.get("_row", "?")),
                                                fix=f"book it to an open period (e.g. {self._next(r['period'], closed)})"))
                        continue
                    was = have.get(r["adjustment_id"])
                    changed = [k for k in _ADJ_FIELDS if was is not None and was["period"] in closed
                               and r.get(k) != was[k]]
                    if changed:
                        problems.append(Problem(str(r.get("_file", "adjustments")),
                                                f"adjustment {r['adjustment_id']} of closed period {was['period']} "
                                                f"differs from the store ({', '.join(changed)})",
                                                where=str(r.get("_row", "?")),
                                                fix="keep the rows of closed periods as they are in the file; "
                                                    "book a correction to an open period "
                                                    f"(e.g. {self._next(was['period'], closed)})"))
                gone_closed = [a for a, r in have.items() if r["period"] in closed
                               and a not in set(adjustments["adjustment_id"])]
                for a in gone_closed:
                    problems.append(Problem(str(adjustments.attrs.get("file", "adjustments")),
                                            f"adjustment {a} of closed period {have[a]['period']} is missing",
                                            fix="keep the rows of closed periods as they are in the file"))
                if problems:
                    raise InputError(problems)
                c.execute(sa.delete(S.adjustments).where(S.adjustments.c.source == "file")
                          .where(S.adjustments.c.period.not_in(sorted(closed) or [""])))
                fresh = [{k: v for k, v in r.items() if not k.startswith("_")} | {"source": "file", "recorded_at": now_utc()}
                         for r in _records(adjustments) if r["period"] not in closed]
                if fresh:
                    c.execute(sa.insert(S.adjustments), fresh)
                counts["adjustments"] = len(fresh)
            if disputes is not None:
                for r in _records(disputes):
                    r = {k: v for k, v in r.items() if not k.startswith("_")} | {"recorded_at": now_utc()}
                    c.execute(sa.delete(S.disputes).where(S.disputes.c.dispute_id == r["dispute_id"]))
                    c.execute(sa.insert(S.disputes), [r])
                    counts["disputes"] += 1
                    aid = f"D-{r['dispute_id']}"
                    booked = c.execute(sa.select(S.adjustments.c.period).where(
                        S.adjustments.c.adjustment_id == aid)).scalar()
                    if r["status"] == "accepted" and r.get("amount") not in (None, 0) and booked is None:
                        into = r["period"] if r["period"] not in closed else self._next(r["period"], closed)
                        c.execute(sa.insert(S.adjustments), [{
                            "adjustment_id": aid, "manager_id": r["manager_id"], "period": into,
                            "amount": float(r["amount"]), "reason_code": "DISPUTE",
                            "reason": f"{r['period']} {r['line_ref']}: {r.get('text') or ''}".strip(),
                            "approved_by": r.get("decided_by"), "date": r.get("decided_on"), "source": "dispute",
                            "relates_to_period": r["period"], "relates_to_ref": r["line_ref"],
                            "recorded_at": now_utc()}])
                        counts["dispute_adjustments"] += 1
                    elif booked is not None and r["status"] != "accepted" and booked not in closed:
                        c.execute(sa.delete(S.adjustments).where(S.adjustments.c.adjustment_id == aid))
            if signoffs is not None:
                for r in _records(signoffs):
                    r = {k: v for k, v in r.items() if not k.startswith("_")}
                    self._signoff(c, r["period"], r["manager_id"], r["status"], r.get("date"), r.get("version"), "file")
                    counts["signoffs"] += 1
        return counts

    @staticmethod
    def _next(label: str, closed: set[str]) -> str:
        p = parse_period(label, source="period").shift(1)
        while p.label in closed:
            p = p.shift(1)
        return p.label

    @staticmethod
    def _signoff(c: sa.Connection, period: str, manager_id: str, status: str, date: Any, version: Any,
                 source: str) -> None:
        c.execute(sa.delete(S.signoffs).where(S.signoffs.c.period == period)
                  .where(S.signoffs.c.manager_id == manager_id))
        c.execute(sa.insert(S.signoffs), [{"period": period, "manager_id": manager_id, "status": status,
                                           "date": date, "version": version, "source": source,
                                           "recorded_at": now_utc()}])

    def signoff(self, period: str, manager_id: str, status: str, date: str | None, version: str | None) -> None:
        with self._conn(True) as c:
            self._signoff(c, period, manager_id, status, date, version, "command")


def _bundle_version(g: pd.DataFrame) -> str:
    """The closed period's results version: a hash of every manager's statement version."""
    import hashlib

    text = "\n".join(f"{m}={v}" for m, v in sorted(zip(g["manager_id"].astype(str), g["version"].astype(str))))
    return hashlib.sha256(text.encode()).hexdigest()[:12]
