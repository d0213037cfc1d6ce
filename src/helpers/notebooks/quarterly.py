"""Quarterly (or monthly) review of one team: scores, grades, ranks, pay, sign-off.

Integration of the earlier steps for notebook 04 (one call per cell)::

    targets   user CSV (scoring plan ``targets_csv``) or the target-setting step
              (:func:`helpers.context.targets.targets_only`), plus ``fallback_targets``
    attainment actual / target (target / actual when lower is better)   helpers.core.attainment
    score      curve(attainment) per indicator                           helpers.core.scoring
    hard       Σ w_j·score_j / Σ w_j (weights of the chosen scheme)       helpers.core.schemes
    soft       mean of the qualitative ratings (0–100)
    total      split·hard + (1 − split)·soft                              seed "浅谈如何做好客户经理月度考核"
    ranks      within the team and within the company (company figures are computed
               from every manager but only this team's managers are shown)
    grades     forced distribution within the team or absolute bands
    pay        helpers.core.incentives (statement line by line, what-if 80/100/120 %)

A roster manager without any KPI value for the period is "no data" (never 0): no
score, no grade, no rank, no payout.

The scoring plan is ``params/scoring.yaml`` (:class:`helpers.plan.scoring.ScoringPlan`,
unknown keys are errors).  It is found next to the incentive plan (the params have no
``scoring`` key yet).  The company's scores are :mod:`helpers.context.scores` (once
per run), their arithmetic :mod:`helpers.core.scorecard`; this module shows one
team's part of them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown, display
from pandas.io.formats.style import Styler

from helpers.core.attainment import NO_DATA
from helpers.core.review import kpi_index
from helpers.present.display import escape, fmt, table
from helpers.present.html import render
from helpers.present.pay import worded
from helpers.present.words import render as render_words
from helpers.kpis.measures import kpi_name
from helpers.context.scores import Quarterly, score_team as build  # noqa: F401  (the notebook's one call)
from helpers.context.scores import (
    check_ratings,
    check_scoring,
    share_scores,
)
from helpers.atomic import write_text_atomic
from helpers.context.health import edges
from helpers.context.record import adjustment_frame, company_results, results_of, snapshot
from helpers.present.adjustments import adjustment_words
from helpers.present.excel import scorecard_sheets
from helpers.present.i18n import t
from helpers.present.statement import attainment_text, money, sections_css, sections_html, statement_html
from helpers.context.workbook import save_xlsx
from helpers.present import health as PH
from helpers.present import review as rv
from helpers.plan.scoring import CurveSpec
from helpers.context.schemes import check_schemes
from helpers.context.targets import check_plan
from helpers.errors import Problem
from helpers.plan.params import RunParams

__all__ = ["Quarterly", "build", "export_frames", "save", "check_inputs", "SHARED"]


# =========================================================================== plan


# =========================================================================== pure scoring


# =========================================================================== the team review


# =========================================================================== exports


STATEMENT_FILE = "statement_{manager}.html"
"""Each manager's own statement beside the team's report (written by :func:`save`)."""


def export_frames(q: Quarterly) -> dict[str, pd.DataFrame]:
    """``scorecard`` (one row per manager: totals, grade, ranks, payout, and per
    indicator actual, rows, target, attainment, score) and ``payout_lines``
    (every statement line)."""
    s = q.summary
    df = pd.DataFrame({
        "manager_id": s.index, "name": s["name"].to_numpy(), "team_id": q.ctx.team_id,
        "period": q.ctx.period.label, "status": s["status"].to_numpy(), "active_fraction": s["fraction"].to_numpy(),
        "hard": s["hard"].to_numpy(), "weight_available": s["weight_available"].to_numpy(),
        "soft": s["soft"].to_numpy(), "total": s["total"].to_numpy(), "grade": s["grade"].to_numpy(),
        "rank_team": s["rank"].to_numpy(), "rank_company": s["rank_company"].to_numpy(),
        "company_managers": q.company_n, "payout": s["payout"].to_numpy(),
        "adjustments": s["adjustments"].to_numpy(), "pay_total": s["pay_total"].to_numpy(),
    })
    pos = {m: _position(q, m) for m in s.index}
    if any(pos.values()):  # position levels: the level held and the monthly base pay it sets (for payroll)
        df["position_level"] = [p["level"] if p else None for p in pos.values()]
        df["monthly_base_pay"] = [p["base_pay"] if p else None for p in pos.values()]
    for i in q.weights.index:
        df[f"{i}_weight"] = float(q.weights[i])
        df[f"{i}_actual"] = q.values[i].reindex(s.index).to_numpy()
        df[f"{i}_rows"] = q.rows[i].reindex(s.index).to_numpy()
        df[f"{i}_target"] = q.targets[i].reindex(s.index).to_numpy()
        df[f"{i}_attainment"] = q.attainment[i].reindex(s.index).to_numpy()
        df[f"{i}_score"] = q.scores[i].reindex(s.index).to_numpy()
    for i in q.soft_ids:
        df[f"{i}_rating"] = q.soft[i].reindex(s.index).to_numpy()
        df[f"{i}_rows"] = q.rows[i].reindex(s.index).to_numpy()
    lines = [worded(st, q.ctx.language).lines.assign(manager_id=m) for m, st in q.statements.items()]
    cols = ["manager_id", "month", "component", "item", "quantity", "rate", "subtotal", "explanation"]
    pl = pd.concat(lines, ignore_index=True)[cols] if lines else pd.DataFrame(columns=cols)
    return {"scorecard": df, "payout_lines": pl}


def save(q: Quarterly) -> None:
    """Write ``scorecard.csv`` (for programs), ``scorecard.xlsx`` (for people: payroll,
    scorecard, pay lines, adjustments, notes in the report's language, amounts to the fen
    as on the statements: :func:`helpers.present.excel.scorecard_sheets`), each manager's
    statement and ``results.json``, the team's results as the record keeps them
    (``close`` freezes it)."""
    frames = export_frames(q)
    q.ctx.save_csv(frames["scorecard"], "scorecard")
    if q.ctx.output_dir is None:
        return
    data = {m: statement_data(q, m) for m in q.summary.index}
    adj = pd.DataFrame([{**a, "manager_id": m} for m, d in data.items() for a in d["adjustments"]])
    indicators = {i: (q.name(i), q.library[i].unit) for i in q.weights.index}
    sheets = scorecard_sheets(frames["scorecard"], record_results(q).pay_lines, adj, indicators,
                              {i: q.name(i) for i in q.soft_ids}, str(q.ctx.team_name), q.ctx.language)
    save_xlsx(q.ctx.output_dir, sheets, "scorecard")
    write_text_atomic(Path(q.ctx.output_dir) / "results.json", record_results(q).to_json())
    for m, d in data.items():  # each manager's own statement, for HR to hand over
        write_text_atomic(Path(q.ctx.output_dir) / STATEMENT_FILE.format(manager=m), statement_html(d, q.ctx.language))


def statement_data(q: Quarterly, m: str) -> dict[str, Any]:
    """What ``m``'s own statement shows (:func:`helpers.present.statement.statement_html`):
    only this manager's scorecard, pay lines, adjustments, sign-off and how to dispute.
    Built once per report and manager: the statement file, the pay section and the
    sign-off page read the same dict."""
    cache = q.__dict__.setdefault("_statement_data", {})
    if m not in cache:
        cache[m] = _statement_data(q, m)
    return cache[m]


def _statement_data(q: Quarterly, m: str) -> dict[str, Any]:
    r = q.summary.loc[m]
    ctx = q.ctx
    snap = snapshot(ctx)
    res = record_results(q)
    no_data = r["status"] == NO_DATA or m not in q.scores.index
    indicators = []
    if not no_data:
        for i in q.weights.index:
            unit = {"points": "score"}.get(q.library[i].unit, q.library[i].unit)
            sc = _cell(q.scores, m, i)
            att = _cell(q.attainment, m, i)
            indicators.append({"ref": f"I.{i}", "name": q.name(i), "unit": unit, "weight": float(q.weights[i]),
                               "curve": curve_text(q, i),
                               "target": _num(_cell(q.targets, m, i)), "actual": _num(_cell(q.values, m, i)),
                               "attainment": _num(att), "score": _num(sc),
                               "note": "" if not _na(sc) else _why_missing(q, m, i)})
    soft = [{"ref": f"I.{i}", "name": q.name(i), "rating": _num(_cell(q.soft, m, i))} for i in q.soft_ids
            if not no_data]
    lines = res.pay_lines[res.pay_lines["manager_id"] == m]
    adj = adjustment_frame(snap, m)
    words = adjustment_lines(q, m)
    adjustments = [{"ref": w["ref"], "kind": a["source"], "relates_to_period": a["relates_to_period"],
                    "relates_to_ref": a["relates_to_ref"], "reason_code": a["reason_code"], "reason": a["reason"],
                    "approved_by": a["approved_by"], "date": a["date"], "amount": _num(a["amount"]),
                    "indicator": a["indicator"], "indicator_name": q.name(a["indicator"])
                    if a["indicator"] in q.library.ids() else a["indicator"], "credit": _num(a["credit"])}
                   for a, w in zip(adj.to_dict("records"), words.to_dict("records"))]
    payout = float(lines["subtotal"].sum()) if len(lines) else 0.0
    so = snap.signoff_of(m)
    team_n = int(q.summary["rank"].notna().sum())
    return {
        "title": ctx.params.title_in(ctx.language), "period": ctx.period.label,
        "manager": {"id": m, "name": str(r["name"]), "team": str(ctx.team_name), "region": str(ctx.region)},
        "status": "no_data" if no_data else "ok", "closed": snap.period_closed, "closed_at": snap.closed_at,
        "version": statement_version(q, m), "plan_version": res.plan_version,
        "totals": {"hard": _num(r["hard"]), "soft": _num(r["soft"]), "total": _num(r["total"]),
                   "split": float(q.plan.split), "grade": None if r["grade"] == NO_DATA else str(r["grade"]),
                   "rank_team": _num(r["rank"]), "team_n": team_n, "rank_company": _num(r["rank_company"]),
                   "company_n": q.company_n},
        "indicators": indicators, "soft": soft, "position": _position(q, m), "pay_plans": _pay_plans(q),
        "pay_lines": [{"ref": x["ref"], "item": x["item"], "explanation": x["explanation"],
                       "subtotal": float(x["subtotal"])} for x in lines.to_dict("records")],
        "payout": payout, "adjustments": adjustments,
        "pay_total": payout + sum(a["amount"] or 0.0 for a in adjustments),
        "signoff": {"status": so["status"], "date": so["date"], "version": so["version"]} if so else
        {"status": None, "date": None, "version": None},
        "dispute": {"contact": ctx.params.record.contact_in(ctx.language), "days": ctx.params.record.dispute_days},
    }


def _num(x: Any) -> float | None:
    return None if _na(x) else float(x)


def _pay_plans(q: Quarterly) -> list[dict[str, Any]]:
    """The incentive plan versions in force in the period's months, in order: name and the
    month each took effect ("" for the plan as first written); none for a plan without
    dated changes (there is no version to name)."""
    from helpers.kpis.indicators import text_in

    base = q.cs.pay_plan_file if q.cs.pay_plan_file is not None else q.cs.pay_plan
    if not base.changes:
        return []
    out: list[dict[str, Any]] = []
    for month in q.ctx.period.months:
        v = q.cs.plan_for(month.strftime("%Y-%m"))
        name = text_in(v.name, q.ctx.language)
        if not out or out[-1]["name"] != name or out[-1]["from"] != v.since:
            out.append({"name": name, "from": v.since, "month": month.strftime("%Y-%m")})
    return out


def _position(q: Quarterly, m: str) -> dict[str, Any] | None:
    """The manager's position level in the period's quarter and the evidence it was set
    on (the pay plan's ``levels``), for the statement; None without levels."""
    res, lp = q.cs.levels, q.cs.pay_plan.levels
    if res is None or lp is None:
        return None
    quarter = q.ctx.period.period.asfreq("Q")
    lv = res.levels[(res.levels["manager_id"] == m) & (res.levels["period"] <= quarter)]
    if lv.empty:
        return None
    now = lv.iloc[-1]
    done = lv[lv["evaluated"]]
    ev = res.evidence[res.evidence["manager_id"] == m]
    at = done["period"].iloc[-1] if len(done) else None
    ev = ev[ev["period"] == at] if at is not None else ev.iloc[0:0]
    level = int(now["level"])

    def rows(lvl: int) -> list[dict[str, Any]]:
        e = ev[ev["level"] == lvl]
        return [{"name": q.name(r.indicator), "unit": q.library[r.indicator].unit,
                 "higher": bool(q.library[r.indicator].higher_is_better), "volume": bool(q.library[r.indicator].volume),
                 "value": _num(r.value), "threshold": float(r.threshold), "met": bool(r.met), "gap": float(r.gap)}
                for r in e.itertuples(index=False)]

    top = len(lp.table)
    return {"level": level, "base_pay": lp.base_pay(level), "quarter": str(quarter), "window": lp.window,
            "evaluated_at": str(at) if at is not None else None, "start": lp.start,
            "from": str(at - lp.window) if at is not None else None, "to": str(at - 1) if at is not None else None,
            "qualified": int(done["qualified"].iloc[-1]) if len(done) else None,
            "previous": int(done["previous"].iloc[-1]) if len(done) else None,
            "limited": str(done["limited"].iloc[-1]) if len(done) else "",
            "max_up": lp.max_up, "max_down": lp.max_down, "held": rows(level),
            "next": None if level >= top else {"level": level + 1, "base_pay": lp.base_pay(level + 1),
                                                "thresholds": rows(level + 1)}}


# =========================================================================== what the notebook shows


def intro(q: Quarterly) -> Markdown:
    """Overview: period, managers, scheme, split, grading rule, averages."""
    s = q.summary
    ok = s[s["status"] == "ok"]
    nd = s[s["status"] == NO_DATA]
    lang = q.ctx.language
    text = q.t("qr.intro", team=escape(q.ctx.team_name), period=q.ctx.period.label, n=len(s), ok=len(ok),
               scheme=escape(render_words(q.cs.scheme_name, q.ctx.language) if q.cs.scheme_name else q.scheme), hard=f"{q.plan.split:.0%}", soft=f"{1 - q.plan.split:.0%}",
               grading=q.t(f"qr.grading.{q.plan.grades.method}"),
               mean=fmt(ok["total"].mean() if len(ok) else math.nan, "score", lang),
               payout=fmt(s["pay_total"].sum() if s["pay_total"].notna().any() else math.nan, "currency", lang),
               company=q.company_n)
    if len(nd):
        text += "\n\n" + q.t("qr.no_data", names="、".join(escape(x) for x in nd["name"]) if lang == "zh"
                             else ", ".join(escape(x) for x in nd["name"]))
    if q.dropped:
        text += "\n\n" + q.t("qr.dropped", ids=", ".join(escape(q.name(i)) for i in q.dropped))
    if q.no_soft:
        text += "\n\n" + q.t("qr.no_soft")
    g = q.plan.grades
    if g.method == "forced":
        level = str(q.cs.summary["pool"].iloc[0]) if len(q.cs.summary) else "team"
        text += "\n\n" + q.t(f"qr.pool.{level}", min=g.min_pool)
        if g.min_active_share > 0:
            part = s[(s["fraction"] + 1e-9 < g.min_active_share) & (s["status"] != NO_DATA)]
            if len(part):
                sep = "、" if lang == "zh" else ", "
                text += " " + q.t("qr.pool.partial", share=f"{g.min_active_share:.0%}",
                                  names=sep.join(escape(x) for x in part["name"]))
    return Markdown(text)


def curve_text(q: Quarterly, i: str) -> str:
    """Indicator ``i``'s scoring curve in figures: ``80%/100%/120% → 60/100/120`` (attainment
    points → scores, straight lines between; a ramp's start first when the curve has one),
    or a step curve's bands ``≥80%: 60; ≥100%: 100``.  The weights table and each manager's
    statement show the same text."""
    c = q.plan.curves.get(i, q.plan.default_curve)
    if isinstance(c, CurveSpec):
        ramp = f"{c.floor_at:.0%}/" if c.floor_at is not None else ""
        low = f"{c.floor_score:g}/" if c.floor_at is not None else ""
        return (f"{ramp}{c.threshold:.0%}/{c.target:.0%}/{c.cap:.0%} → {low}{c.threshold_score:g}/"
                f"{c.target_score:g}/{c.cap_score:g}")
    return "; ".join(f"≥{a:.0%}: {b:g}" for a, b in c.bands)


def weights_table(q: Quarterly) -> Styler:
    """Weights, targets' source and curve per weighted indicator."""
    lang = q.ctx.language
    rows = []
    for i, w in q.weights.items():
        curve = curve_text(q, i)
        srcv = q.target_source["source"].get(i, "")
        mb = q.plan.min_base.get(i)
        rows.append({q.t("qr.col.indicator"): q.name(i), q.t("qr.col.weight"): w,
                     q.t("qr.col.direction"): q.t("qr.higher" if q.library[i].higher_is_better else "qr.lower"),
                     q.t("qr.col.target_source"): q.t("qr.src." + srcv.split(":")[0]),
                     q.t("qr.col.curve"): curve,
                     q.t("qr.col.min_base"): f"{mb:g}" if mb is not None else "—"})
    return table(pd.DataFrame(rows), {q.t("qr.col.weight"): "ratio"}, lang)


def rubric_table(q: Quarterly) -> Styler | Markdown:
    """The soft appraisal's scoring rules (考核细则): each dimension's levels, points and anchors."""
    r = q.cs.rubric
    if r is None:
        return Markdown(q.t("qr.rubric_none"))
    lang = q.ctx.language
    names = {q.library[i].kpi[len("qual_"):]: q.name(i) for i in q.soft_ids
             if (q.library[i].kpi or "").startswith("qual_")}
    rows = [{q.t("qr.col.dimension"): names.get(d, d), q.t("qr.col.level"): getattr(lv.label, lang),
             q.t("qr.col.points"): f"{lv.points:g}", q.t("qr.col.anchor"): getattr(lv.description, lang)}
            for d, dim in r.dimensions.items() for lv in dim.levels]
    display(Markdown(q.t("qr.rubric_intro", min=r.min_raters) + (" " + q.t("qr.rubric_calibrated")
                                                                   if r.calibrate else "")))
    df = pd.DataFrame(rows)
    return table(df, None, lang).set_properties(subset=[df.columns[-1]], **{"white-space": "normal"})


def _status_text(q: Quarterly, st: str) -> str:
    return q.t("qr.status." + ("no_data" if st == NO_DATA else st))


def summary_table(q: Quarterly) -> Styler:
    """One row per manager: hard, soft, total, grade, team and company rank, payout."""
    s = q.summary
    lang = q.ctx.language
    df = pd.DataFrame({
        q.t("qr.col.manager"): s["name"].to_numpy(),
        q.t("qr.col.hard"): s["hard"].to_numpy(), q.t("qr.col.soft"): s["soft"].to_numpy(),
        q.t("qr.col.total"): s["total"].to_numpy(),
        q.t("qr.col.grade"): [q.t("qr.status.no_data") if g == NO_DATA else g for g in s["grade"]],
        q.t("qr.col.rank_team"): [_rank(r) for r in s["rank"]],
        q.t("qr.col.rank_company"): [f"{_rank(r)} / {q.company_n}" if not _na(r) else "—" for r in s["rank_company"]],
        q.t("qr.col.payout"): s["pay_total"].to_numpy(),
        q.t("qr.col.status"): [_status_text(q, x) for x in s["status"]],
    })
    if not teammates_pay(q):  # each manager's pay is in their own statement only
        df = df.drop(columns=[q.t("qr.col.payout")])
    units = {q.t("qr.col.hard"): "score", q.t("qr.col.soft"): "score", q.t("qr.col.total"): "score",
             q.t("qr.col.payout"): "currency"}
    return table(df, units, lang)


def teammates_pay(q: Quarterly) -> bool:
    """Whether the team report shows each teammate's pay (``record.teammates_pay``; default not)."""
    return bool(q.ctx.params.record.teammates_pay)


def record_results(q: Quarterly) -> Any:
    """The team's results as the record keeps them (computed once per report)."""
    if getattr(q, "_record", None) is None:
        q._record = results_of(q)
    return q._record


def statement_version(q: Quarterly, m: str) -> str:
    """The version of ``m``'s statement (what a signature refers to); computed once per
    report and manager (the statement and the sign-off page show the same)."""
    cache = q.__dict__.setdefault("_statement_version", {})
    if m not in cache:
        cache[m] = record_results(q).version(m, snapshot(q.ctx).adjustments)
    return cache[m]


def _cell(frame: pd.DataFrame, m: str, i: str) -> float:
    """Manager ``m``'s value of indicator ``i`` in a managers × indicators frame (NaN if absent)."""
    return frame[i].get(m, math.nan) if m in frame.index else math.nan


def _na(x: Any) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def _rank(r: Any) -> str:
    return "—" if _na(r) else str(int(r))


def scorecard_table(q: Quarterly) -> Styler:
    """Indicator × manager: score (attainment) per weighted indicator, then the totals."""
    lang = q.ctx.language
    s = q.summary
    cols = {}
    for m in s.index:
        vals = []
        for i in q.weights.index:
            sc, at = _cell(q.scores, m, i), _cell(q.attainment, m, i)
            vals.append(f"{fmt(sc, 'score', lang)} ({attainment_text(at, _cell(q.targets, m, i), _cell(q.values, m, i), lang)})"
                        if not _na(sc) else _why_missing(q, m, i))
        for key in ("hard", "soft", "total"):
            vals.append(fmt(s.at[m, key], "score", lang))
        vals.append(q.t("qr.status.no_data") if s.at[m, "grade"] == NO_DATA else s.at[m, "grade"])
        vals.append(_rank(s.at[m, "rank"]))
        cols[s.at[m, "name"]] = vals
    index = [f"{q.name(i)} ({q.weights[i]:.0%})" for i in q.weights.index] + [
        q.t("qr.col.hard"), q.t("qr.col.soft"), q.t("qr.col.total"), q.t("qr.col.grade"), q.t("qr.col.rank_team")]
    df = pd.DataFrame(cols, index=index)
    df.index.name = q.t("qr.col.indicator")
    return table(df.reset_index(), None, lang)


def _why_missing(q: Quarterly, m: str, i: str) -> str:
    """Why a score is missing: no data, no target, or a zero target with a non-zero actual."""
    v, t = _cell(q.values, m, i), _cell(q.targets, m, i)
    if _na(v):
        return q.t("qr.status.no_data")
    thin = q.cs.thin(m, i)
    if thin is not None:
        return q.t("qr.thin", n=f"{thin:g}", min=f"{q.plan.min_base[i]:g}")
    if _na(t):
        return q.t("qr.no_target")
    if t == 0:
        return q.t("qr.nothing_asked") if v == 0 else q.t("qr.zero_target")
    return q.t("qr.undefined")


def edges_table(q: Quarterly) -> Styler | Markdown:
    """Team managers just below a jump of a scoring curve or the edge of a pay rule."""
    df = PH.cliffs_frame(edges(q.cs, q.attainment, q.pay_inputs), q.ctx.language, q.summary["name"], q.name)
    if df.empty:
        return Markdown(q.t("qr.edges_none"))
    display(Markdown(q.t("qr.edges_intro")))
    return table(df, None, q.ctx.language)


def distribution_chart(q: Quarterly) -> None:
    """Total score per manager (bars coloured by grade) with the grade bands or quotas."""
    import matplotlib.pyplot as plt

    from helpers.present import plotting

    s = q.summary[q.summary["total"].notna()].sort_values("total")
    if s.empty:
        display(Markdown(q.t("qr.no_scores")))
        return
    grades = list(dict.fromkeys(sorted(s["grade"].unique())))
    colours = dict(zip(grades, plotting.palette(len(grades))))
    fig, ax = plt.subplots(figsize=(9, max(2.5, 0.4 * len(s) + 1)))
    ax.barh(s["name"].astype(str), s["total"], color=[colours[g] for g in s["grade"]])
    for y, (v, g) in enumerate(zip(s["total"], s["grade"])):
        ax.text(v + 0.5, y, f"{v:.1f}  {g}", va="center", fontsize=9)
    ax.axvline(100, color="grey", ls="--", lw=1)
    ax.set_xlabel(q.t("qr.col.total"))
    ax.set_title(q.t("qr.chart.distribution"))
    ax.set_xlim(0, max(130, float(s["total"].max()) + 15))
    plotting.finish(fig)


TREND_MARGINS = (0.5, 0.15, 0.5, 0.62, 0.5)
"""The trend chart's margins in inches (left, right, bottom, top, between panels): y tick
labels of at most six characters at 7 pt, x labels at 45°, a title and the legend above."""


class TrendChart:
    """A team's trend charts: each manager's line against the company median, one panel
    per scored indicator, over the last six periods.  The panels, titles, ticks and
    legend are the same for every manager of the team, so they are built once and each
    manager's chart is the same figure with that manager's line: only the lines, the y
    axes and the panels' frames are drawn again (:class:`helpers.present.plotting.Redrawn`;
    a chart costs a fraction of one built anew, and the picture is the same)."""

    def __init__(self, q: Quarterly):
        self.q = q
        self.fig = None  # built for the first manager with a chart (a team may have none)
        self.redrawn = None

    def _build(self) -> None:
        import matplotlib.pyplot as plt

        from helpers.present import plotting

        q = self.q
        self.ids = [i for i in q.weights.index if q.library[i].kpi][:6]
        a, c = q.ctx.actuals, q.ctx.company
        periods = sorted(a["period"].unique())
        self.periods = [p for p in periods if p <= q.ctx.period.label][-6:]
        kpis = {q.library[i].kpi for i in self.ids}
        self.values = kpi_index(a[a["kpi"].isin(kpis) & a["period"].isin(self.periods)])
        fig, axes = plt.subplots(1, len(self.ids), figsize=(min(12, 2.2 * len(self.ids) + 1), 2.4), squeeze=False)
        self.fig, self.axes, self.lines = fig, list(axes[0]), []
        x = list(range(len(self.periods)))
        for ax, i in zip(self.axes, self.ids):
            ind = q.library[i]
            med = c[(c["kpi"] == ind.kpi) & (c["segment"] == ind.segment)].set_index("period")["median"]
            ax.plot(x, med.reindex(self.periods).to_numpy(dtype=float), color="grey", ls="--", lw=1,
                    label=q.t("qr.chart.median"))
            self.lines.append(ax.plot(x, [float("nan")] * len(x), marker="o", lw=1.5, label=q.t("qr.chart.manager"))[0])
            ax.set_title(q.name(i), fontsize=9, y=1.0)  # where matplotlib puts it; said, not measured at each draw
            ax.set_xticks(x)
            ax.set_xticklabels([plotting.period_tick(p) for p in self.periods], fontsize=7, rotation=45)
            ax.yaxis.set_major_formatter(plotting.value_formatter(ind.unit, q.ctx.language))
            ax.tick_params(axis="y", labelsize=7)
        handles, labels = self.axes[0].get_legend_handles_labels()  # above the panels, never over a line
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8, frameon=False)
        # per manager: the lines and the y scale change; the spines are drawn over the lines
        self.redrawn = plotting.Redrawn(fig, TREND_MARGINS, lambda ax: [ax.yaxis, *ax.lines, *ax.spines.values()])

    def show(self, m: str) -> None:
        """Display manager ``m``'s chart."""
        if self.fig is None:
            self._build()
        for ax, line, i in zip(self.axes, self.lines, self.ids):
            ind = self.q.library[i]
            line.set_ydata(np.array([self.values.get((m, p, ind.kpi, ind.segment), np.nan) for p in self.periods],
                                    dtype=float))
            ax.relim()
            ax.autoscale_view()
        self.redrawn.show()

    def close(self) -> None:
        import matplotlib.pyplot as plt

        if self.fig is not None:
            plt.close(self.fig)

    def __enter__(self) -> TrendChart:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def adjustment_lines(q: Quarterly, m: str) -> pd.DataFrame:
    """``m``'s adjustments of the period as statement lines: ref, item, explanation, amount
    (a prior-period adjustment names the closed line it corrects; a manual one its
    reason code, approver and date; an indicator credit its indicator and quantity)."""
    return adjustment_words(adjustment_frame(snapshot(q.ctx), m), q.ctx.language,
                            lambda i: q.name(i) if i in q.library.ids() else i)


def trend_note(q: Quarterly) -> Markdown:
    """Which periods of the trend charts are read from the record (as closed)."""
    hist = [p for p in snapshot(q.ctx).history if p < q.ctx.period.label]
    return Markdown(q.t("qr.trend_closed", periods=", ".join(hist[-6:])) if hist else "")


def statement_table(q: Quarterly, m: str) -> Styler | Markdown:
    """One manager's pay statement, line by line."""
    st = q.statements.get(m)
    if st is None:
        return Markdown(q.t("qr.status.no_data"))
    st = worded(st, q.ctx.language)
    # lines that pay something, and lines that could have but did not, with why (a bonus below
    # its minimum evidence or target, no data); lines with nothing to count are in scorecard.xlsx
    q_ = st.lines["quantity"]
    d = st.lines[(st.lines["subtotal"].abs() > 1e-9) | q_.isna() | (q_.abs() > 1e-9)]
    df = pd.DataFrame({q.t("qr.col.item"): d["item"], q.t("qr.col.explanation"): d["explanation"],
                       q.t("qr.col.subtotal"): d["subtotal"]})
    adj = adjustment_lines(q, m)
    if len(adj):
        df = pd.concat([df, adj.rename(columns={"item": q.t("qr.col.item"), "explanation": q.t("qr.col.explanation"),
                                                "amount": q.t("qr.col.subtotal")})[df.columns]], ignore_index=True)
    total = pd.DataFrame({q.t("qr.col.item"): [q.t("qr.col.payout")], q.t("qr.col.explanation"): [""],
                          q.t("qr.col.subtotal"): [float(q.summary.at[m, "pay_total"])]})
    return table(pd.concat([df, total], ignore_index=True), {q.t("qr.col.subtotal"): "currency"}, q.ctx.language)


def what_if_table(q: Quarterly, m: str) -> Styler | Markdown:
    """Pay at 80 / 100 / 120 % of the sales target."""
    w = q.what_if.get(m)
    if w is None:
        return Markdown(q.t("qr.no_what_if"))
    df = pd.DataFrame({q.t("qr.col.attainment"): [f"{a:.0%}" for a in w.index],
                       kpi_name("sales", q.ctx.language): w["sales"].to_numpy(),
                       q.t("qr.col.commission"): w["commission"].to_numpy(), q.t("qr.col.payout"): w["total"].to_numpy()})
    return table(df, {kpi_name("sales", q.ctx.language): "currency", q.t("qr.col.commission"): "currency",
                      q.t("qr.col.payout"): "currency"}, q.ctx.language)


def manager_sections(q: Quarterly) -> None:
    """A ``###`` section per manager: scorecard line, trend chart, the feedback (strengths,
    then one improvement plan whose rows are the weaknesses with cause, action and due
    date: each finding once), the draft of the period's summary (月度总结, the
    seed article's five parts) for the manager to complete, pay statement and what-if."""
    s = q.summary
    display(trend_note(q))
    with TrendChart(q) as trends:
        for m in s.index:
            r = s.loc[m]
            display(Markdown(f"### {escape(r['name'])}"))
            if r["status"] == NO_DATA:
                display(Markdown(q.t("qr.manager_no_data")))
                continue
            display(Markdown(q.t("qr.manager_line" if teammates_pay(q) else "qr.manager_line_nopay",
                                 total=fmt(r["total"], "score", q.ctx.language),
                                 grade=r["grade"] if r["grade"] != NO_DATA else q.t("qr.status.no_data"),
                                 rank=_rank(r["rank"]), n=int(s["rank"].notna().sum()),
                                 crank=_rank(r["rank_company"]), cn=q.company_n,
                                 payout=fmt(r["pay_total"], "currency", q.ctx.language))))
            trends.show(m)
            if q.review is not None:  # each strength and weakness once: strengths, then the plan of the weaknesses
                display(Markdown(f"**{q.t('qr.h.feedback')}**"))
                rv.feedback(q.review, m)
                display(Markdown(f"**{q.t('qr.h.summary')}**"))
                display(rv.summary_markdown(q.review, m, findings=False))
            if not teammates_pay(q):
                display(Markdown(q.t("qr.pay_private", file=STATEMENT_FILE.format(manager=m))))
                continue
            # the pay lines, adjustments and total as on the manager's statement (same template, same rounding)
            display(HTML(f"<style>{sections_css()}</style>"
                         + sections_html(statement_data(q, m), q.ctx.language, scores=False, table_class="kpi-table")))
            display(Markdown(f"**{q.t('qr.h.what_if')}**"))
            display(what_if_table(q, m))


def signoff_html(q: Quarterly) -> str:
    """Sign-off pages (签字确认), one ``.kpi-page`` block per manager (page break before
    each), from the template ``present/templates/signoff/signoff.html.j2``: the facts
    and the statement version the signature refers to, then the manager's statement
    sections (:func:`helpers.present.statement.sections_html`, the same as in
    ``statement_<id>.html``): every indicator's points, the hard and soft scores, the
    split, total and grade, and — when the team report shows teammates' pay
    (``record.teammates_pay``) — each pay line with its reason, the adjustments and the
    total pay with the rounding rule; otherwise a sentence naming the manager's own
    statement, which carries the pay."""
    lang = q.ctx.language
    show_pay = teammates_pay(q)
    pages = []
    for m, r in q.summary.iterrows():
        grade = q.t("qr.status.no_data") if r["grade"] == NO_DATA else r["grade"]
        version = statement_version(q, m)
        facts = [(q.t("qr.col.manager"), str(r["name"])), (q.t("qr.sign.team"), str(q.ctx.team_name)),
                 (q.t("qr.sign.period"), q.ctx.period.label),
                 (q.t("qr.col.total"), fmt(r["total"], "score", lang)), (q.t("qr.col.grade"), str(grade)),
                 (q.t("qr.col.rank_team"), _rank(r["rank"]))]
        if show_pay:
            facts.append((q.t("qr.col.payout"), money(r["pay_total"]) if not _na(r["pay_total"]) else "—"))
        facts.append((q.t("qr.sign.version"), version))
        elsewhere = "" if show_pay else t("st.pay_elsewhere", lang, file=STATEMENT_FILE.format(manager=m),
                                          version=version)
        pages.append({"name": str(r["name"]), "facts": facts,
                      "sections": sections_html(statement_data(q, m), lang, pay=show_pay, pay_elsewhere=elsewhere,
                                                table_class="kpi-table")})
    text = q.t("qr.sign.text" if show_pay else "qr.sign.text_scores")  # never confirm pay the page does not show
    return render("signoff/signoff.html.j2", pages=pages, title=q.t("qr.sign.title"), text=text,
                  colon=q.t("word.colon"), date_label=q.t("qr.sign.date"), css=sections_css(),
                  signers=[q.t("qr.sign.manager"), q.t("qr.sign.supervisor")])


def signoff_pages(q: Quarterly) -> HTML:
    """The sign-off pages, ready to display."""
    return HTML(signoff_html(q))


# ======================================================================================
# what the run needs to know (read by helpers.run.runner; the notebook's metadata names this module)
# ======================================================================================


def check_inputs(params: RunParams, params_file: str | Path, ds: Any) -> list[Problem]:
    """The scoring and pay plans, the weight scheme, and the target plan the review scores against."""
    return [*check_scoring(params, params_file), *check_plan(params, params_file, tables=set(ds.tables)),
            *check_schemes(params, params_file), *check_ratings(params, params_file, ds)]


SHARED = {"scores": share_scores}
"""Company-wide results this notebook reads, each with the function that prepares it once per run."""

RECORD = company_results
"""The period's results as the record keeps them, for every team: what a run of a closed
period compares with the closed results (``(params_file, workspace, period, language) → Results``)."""
