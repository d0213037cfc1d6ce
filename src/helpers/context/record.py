"""What a notebook sees of the system of record, and the period's results as the record keeps them.

The run reads the store once, before any notebook starts, and leaves a **snapshot** in
its workspace (:func:`put_snapshot`): the adjustments booked to the period, its
sign-offs and disputes, whether it is closed, and the closed results of earlier
periods (for trends).  Notebooks read the snapshot (:func:`snapshot`), never the store:
a kernel needs no database connection or password, and a DuckDB file is never held by
several processes at once.  Opened in JupyterLab without a run, a notebook reads the
store beside the reports when there is one.

:func:`results_of` turns a scored team (``Quarterly``) into the record's bundle
(:class:`helpers.record.results.Results`); the quarterly review writes it beside its
report and the run computes it for every team when it restates a closed period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.context.workbook import cache_get, cache_key, cache_put
from helpers.plan.version import plan_version
from helpers.present.pay import worded
from helpers.record.results import Results, line_refs

__all__ = ["Snapshot", "snapshot", "put_snapshot", "take_snapshot", "results_of", "adjustment_frame",
           "closed_results", "company_results"]


def _columns(table: str) -> list[str]:
    """The columns of the store's table ``table`` (:mod:`helpers.record.schema`), imported
    when an empty one is made: a kernel reads the snapshot the run wrote and never
    imports SQLAlchemy (0.1 s)."""
    from helpers.record import schema as S

    return [c.name for c in getattr(S, table).columns]


@dataclass
class Snapshot:
    """The store as the notebooks of one run see it (see the module's docstring)."""

    store: str = ""
    period_closed: bool = False
    closed_at: str | None = None
    closed_periods: list[str] = field(default_factory=list)
    adjustments: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_columns("adjustments")))
    signoffs: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_columns("signoffs")))
    disputes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_columns("disputes")))
    history: dict[str, Results] = field(default_factory=dict)  # closed period → its closed results

    def adjustments_of(self, manager_id: str) -> pd.DataFrame:
        return self.adjustments[self.adjustments["manager_id"] == manager_id]

    def signoff_of(self, manager_id: str) -> dict[str, Any] | None:
        s = self.signoffs[self.signoffs["manager_id"] == manager_id]
        return None if s.empty else s.iloc[0].to_dict()

    def credits(self) -> pd.DataFrame:
        """Indicator credits booked to the period: manager_id, indicator, credit."""
        a = self.adjustments
        a = a[a["indicator"].notna() & a["credit"].notna()] if len(a) else a
        return a.groupby(["manager_id", "indicator"], as_index=False)["credit"].sum() if len(a) else \
            pd.DataFrame(columns=["manager_id", "indicator", "credit"])


def take_snapshot(store: Any, period: str, history: int = 8) -> Snapshot:
    """Read what the notebooks of a run of ``period`` need from ``store`` (one pass)."""
    closed = store.closed_periods()
    p = store.period(period)
    earlier = [c for c in closed if c < period and len(c) == len(period)][-history:]
    return Snapshot(store.label, p is not None and p["status"] == "closed", (p or {}).get("closed_at"), closed,
                    store.adjustments(period=period), store.frame("signoffs", period=period),
                    store.frame("disputes", period=period), {c: store.results(c) for c in earlier})


def put_snapshot(workspace: str | Path, period: Any, snap: Snapshot) -> None:
    cache_put(workspace, cache_key("record", period), snap)


def snapshot(ctx: Any) -> Snapshot:
    """The run's snapshot of the store for ``ctx.period``; without a run, the store
    beside the reports when it exists (read, never created), else an empty record."""
    hit = cache_get(getattr(ctx, "workspace", None), cache_key("record", ctx.period))
    if hit is not None:
        return hit
    if getattr(ctx, "workspace", None) or ctx.params_file is None:
        return Snapshot()
    from helpers.plan.params import resolve
    from helpers.record.store import Store, store_url

    url = store_url(ctx.params, ctx.params_file, resolve(ctx.params_file, ctx.params.output.folder))
    if url.startswith("duckdb:///") and not Path(url[len("duckdb:///"):]).exists():
        return Snapshot()
    try:
        return take_snapshot(Store(url), ctx.period.label)
    except Exception:  # noqa: BLE001 - a notebook in JupyterLab works without its record
        return Snapshot()


def closed_results(ctx: Any, label: str) -> Results | None:
    """The closed results of an earlier period ``label`` when the record has them, else None."""
    return snapshot(ctx).history.get(label)


def with_closed_history(ctx: Any) -> Any:
    """``ctx`` with the KPI values of closed earlier periods replaced by the values as
    closed (each weighted indicator's actual in the record, for the managers closed then)
    and the company aggregates of those periods computed from them: every trend,
    previous-period and year-ago comparison reads what was closed, not today's data."""
    hist = {p: r for p, r in snapshot(ctx).history.items() if len(p) == len(ctx.period.label)}
    if not hist or ctx.actuals.empty:
        return ctx
    import dataclasses

    from helpers.kpis.indicators import load_library
    from helpers.plan.params import resolve

    library = load_library(resolve(ctx.params_file, ctx.params.indicators))
    a = ctx.actuals.copy()
    key = ["manager_id", "period", "kpi", "segment"]
    closed_rows = []
    for label, res in hist.items():
        sc = res.scores[res.scores["kind"] == "hard"]
        for i, g in sc.groupby("indicator"):
            ind = library[i] if i in library else None
            if ind is None or not ind.kpi:
                continue
            closed_rows.append(pd.DataFrame({"manager_id": g["manager_id"].astype(str), "period": label,
                                             "kpi": ind.kpi, "segment": ind.segment,
                                             "value": g["actual"].astype(float)}))
    if not closed_rows:
        return ctx
    closed = pd.concat(closed_rows, ignore_index=True).dropna(subset=["value"])
    company = ctx.company.copy()
    agg = closed.groupby(["period", "segment", "kpi"])["value"]
    stats = agg.agg(mean="mean", median="median", managers="count")
    stats["q25"], stats["q75"] = agg.quantile(0.25), agg.quantile(0.75)
    stats = stats.reset_index()
    ck = ["period", "segment", "kpi"]
    company = pd.concat([company.merge(stats[ck], on=ck, how="left", indicator=True)
                         .query("_merge == 'left_only'").drop(columns="_merge"), stats], ignore_index=True)
    mine = closed[closed["manager_id"].isin(set(a["manager_id"]))]
    idx = a.set_index(key).index
    upd = mine.set_index(key)["value"]
    hit = idx.isin(upd.index)
    a.loc[hit, "value"] = upd.reindex(idx[hit]).to_numpy()
    return dataclasses.replace(ctx, actuals=a, company=company[ctx.company.columns])


def adjustment_frame(snap: Snapshot, manager_id: str) -> pd.DataFrame:
    """One manager's adjustments of the period, in booking order."""
    return snap.adjustments_of(manager_id).sort_values("adjustment_id", ignore_index=True)


def results_of(q: Any, params_file: str | Path | None = None) -> Results:
    """The record's bundle of a scored team (or of the whole company's context)."""
    ctx = q.ctx
    label = ctx.period.label
    s = q.summary
    grades = pd.DataFrame({
        "manager_id": s.index.astype(str), "name": s["name"].astype(str).to_numpy(),
        "team_id": s["team_id"].astype(str).to_numpy(), "status": s["status"].astype(str).to_numpy(),
        "active_fraction": s["fraction"].astype(float).to_numpy(), "hard": s["hard"].astype(float).to_numpy(),
        "soft": s["soft"].astype(float).to_numpy(), "total": s["total"].astype(float).to_numpy(),
        "grade": s["grade"].astype(str).to_numpy(), "rank_team": s["rank"].astype("Float64").to_numpy(),
        "rank_company": s["rank_company"].astype("Float64").to_numpy(),
        "payout": s["payout"].astype(float).to_numpy()})
    scored = [m for m in s.index if m in q.values.index]
    trows, srows = [], []
    src = q.target_source["source"] if "source" in q.target_source.columns else pd.Series(dtype=str)
    for m in scored:
        for i in q.weights.index:
            trows.append({"manager_id": m, "indicator": i, "target": _f(q.targets, m, i), "source": str(src.get(i, ""))})
            srows.append({"manager_id": m, "indicator": i, "kind": "hard", "weight": float(q.weights[i]),
                          "actual": _f(q.values, m, i), "attainment": _f(q.attainment, m, i),
                          "score": _f(q.scores, m, i)})
        for i in q.soft_ids:
            srows.append({"manager_id": m, "indicator": i, "kind": "soft", "weight": None,
                          "actual": _f(q.soft, m, i), "attainment": None, "score": _f(q.soft, m, i)})
    prows = []
    for m, st in q.statements.items():
        lines = worded(st, ctx.language).lines
        refs = line_refs(lines, label)
        for ref, r in zip(refs, lines.to_dict("records")):
            prows.append({"manager_id": m, "ref": ref, "month": str(r.get("month") or label),
                          "component": r["component"], "item": r["item"], "quantity": r["quantity"],
                          "rate": r["rate"], "subtotal": r["subtotal"], "explanation": r["explanation"]})
    pf = params_file or ctx.params_file
    version = plan_version(ctx.params, pf)[0] if pf else ""
    teams = sorted(set(grades["team_id"]))
    return Results(label, grades, pd.DataFrame(trows, columns=["manager_id", "indicator", "target", "source"]),
                   pd.DataFrame(srows, columns=["manager_id", "indicator", "kind", "weight", "actual", "attainment",
                                                "score"]),
                   pd.DataFrame(prows, columns=["manager_id", "ref", "month", "component", "item", "quantity", "rate",
                                                "subtotal", "explanation"]),
                   plan_version=version, language=ctx.language, teams=teams)


def _f(frame: pd.DataFrame, m: str, i: str) -> float | None:
    try:
        v = frame.at[m, i]
    except KeyError:
        return None
    return None if pd.isna(v) else float(v)


def company_results(params_file: str | Path, workspace: str | Path, period: str, language: str) -> Results:
    """Every manager's results of ``period`` computed in the run's workspace, as the
    teams' quarterly reviews compute them (ranks within each team, grades from the
    plan's pools): what a restatement compares with the closed results."""
    from helpers.context.scores import score_team
    from helpers.context.workbook import open_team

    ctx = open_team(params_file, "", period, workspace, language, "")
    return results_of(score_team(ctx, params_file, workspace, with_review=False), params_file)
