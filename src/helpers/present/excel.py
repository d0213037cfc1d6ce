"""The Excel workbooks for people (HR, payroll, leadership): the machine frames of the
exports (English column names, raw floats) turned into sheets in the report's language.

* sheet names and column headers from the catalog (``xl.*`` in ``locale/export.yaml``);
  the ids stay as values (``manager_id`` → a column "工号" / "Manager ID");
* a number format per column (money ``#,##0.00``, percentages ``0.0%``, scores ``0.0``,
  counts ``0``, dates ``yyyy-mm-dd``); the writing itself (frozen header, filter,
  widths, empty cells for NaN/∞, formula-safe text) is :func:`helpers.exports.save_xlsx`;
* the team's workbook starts with a payroll sheet (:func:`scorecard_sheets`): one row
  per manager with the amounts to pay rounded half up to the fen by the rule of the
  personal statement (:mod:`helpers.present.statement`): a total is the sum of the
  unrounded amounts, then rounded, and the pay lines sheet carries a "rounding
  difference" line where the rounded lines do not add up to it, so that each
  manager's lines add up exactly to the payroll total and to the statement's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from helpers.kpis.measures import KPIS, kpi_name
from helpers.exports import COUNT, DATE, MONEY, NUMBER, PERCENT, SCORE, Sheet
from helpers.present.i18n import catalog, t
from helpers.core.money import PayTotals, pay_totals, to_fen
from helpers.present.statement import finite_or_none

__all__ = ["PayTotals", "pay_totals", "scorecard_sheets", "leadership_sheets", "UNIT_FORMATS"]

UNIT_FORMATS = {"currency": MONEY, "count": COUNT, "ratio": PERCENT, "score": SCORE, "points": SCORE}
"""The number format of an indicator's actual and target, by its unit."""

# machine column → number format (the header is xl.col.<column>)
FORMATS: dict[str, str] = {
    "active_fraction": PERCENT, "hard": SCORE, "weight_available": PERCENT, "soft": SCORE, "total": SCORE,
    "rank_team": COUNT, "rank_company": COUNT, "company_managers": COUNT, "payout": MONEY, "adjustments": MONEY,
    "rounding": MONEY, "pay_total": MONEY, "amount": MONEY, "credit": NUMBER, "date": DATE,
    "managers": COUNT, "scored": COUNT, "mean_total": SCORE, "sales": MONEY, "profit": MONEY,
    "new_customers": COUNT, "complaints": COUNT, "sales_target": MONEY, "sales_attainment": PERCENT,
    "sales_prev": MONEY, "sales_year_ago": MONEY, "growth_prev": PERCENT, "growth_year": PERCENT,
    "current": SCORE, "previous": SCORE, "change": SCORE, "lost_date": DATE, "sales_12m": MONEY,
    "baseline": SCORE, "ratio": "0.00", "periods": COUNT, "periods_over": COUNT, "periods_under": COUNT,
    "median": PERCENT,
}


def _has(key: str) -> bool:
    return key in catalog()


def _header(col: str, language: str) -> str:
    if col in KPIS:  # a KPI's name has one home (helpers.kpis.measures)
        return kpi_name(col, language)
    if _has(f"xl.col.{col}"):
        return t(f"xl.col.{col}", language)
    if col.startswith("grade_"):
        return t("xl.col.grade_n", language, grade=col.removeprefix("grade_"))
    return col


def _word(prefix: str, value: Any, language: str) -> Any:
    """``value`` in words (``xl.<prefix>.<value>``) when the catalog has it, else as it is."""
    if not isinstance(value, str):
        return value
    key = f"{prefix}.{value.replace(' ', '_')}"
    return t(key, language) if _has(key) else value


_finite = finite_or_none


def _date(x: Any) -> Any:
    """An ISO date text (``2026-10-05``) as a date; anything else as it is (never lost)."""
    if isinstance(x, str):
        try:
            return dt.date.fromisoformat(x.strip()[:10]) if len(x.strip()) == 10 else x
        except ValueError:
            return x
    return x


def _fen(x: Decimal) -> float:
    return float(x)


def _sheet(df: pd.DataFrame, formats: Mapping[str, str], language: str,
           comments: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None) -> Sheet:
    """``df`` with its headers in ``language`` (``headers`` first, then ``xl.col.*``)."""
    names = {c: (headers or {}).get(c) or _header(c, language) for c in df.columns}
    fmts = {names[c]: f for c, f in formats.items() if c in names}
    fmts.update({names[c]: FORMATS[c] for c in df.columns if c in FORMATS and names[c] not in fmts})
    fmts.update({names[c]: COUNT for c in df.columns if str(c).startswith("grade_") and names[c] not in fmts})
    return Sheet(df.rename(columns=names), fmts, {names[c]: v for c, v in (comments or {}).items() if c in names})


def _notes(language: str, period: str, generated: str, extra: Iterable[tuple[str, str]] = (),
           pay: bool = True) -> Sheet:
    rows = [(t("xl.note.period", language), period)]
    if generated:
        rows.append((t("xl.note.generated", language), generated))
    rows += [(t(f"xl.note.{k}", language), t(f"xl.note.{k}_text", language))
             for k in (("rounding",) if pay else ()) + ("empty", "precision", "ids")]
    rows += list(extra)
    df = pd.DataFrame(rows, columns=[t("xl.col.item_note", language), t("xl.col.note", language)])
    return Sheet(df)


# --- the team's workbook -------------------------------------------------------------


def _indicator_columns(card: pd.DataFrame, indicators: Mapping[str, tuple[str, str]], soft: Mapping[str, str],
                       language: str) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Headers, formats and comments of the per-indicator columns of the scorecard frame."""
    heads, fmts, notes = {}, {}, {}
    fields = {"weight": PERCENT, "rows": COUNT, "attainment": PERCENT, "score": SCORE}
    for i, (name, unit) in indicators.items():
        for f in ("weight", "actual", "rows", "target", "attainment", "score"):
            col = f"{i}_{f}"
            if col not in card.columns:
                continue
            heads[col] = t(f"xl.ind.{f}", language, name=name)
            fmts[col] = fields.get(f) or UNIT_FORMATS.get(unit, NUMBER)
            values = pd.to_numeric(card[col], errors="coerce")
            if np.isinf(values.to_numpy(dtype=float)).any():
                notes[col] = t("xl.comment.inf", language)
    for i, name in soft.items():
        for f, key, fmt in (("rating", "rating", SCORE), ("rows", "ratings", COUNT)):
            col = f"{i}_{f}"
            if col in card.columns:
                heads[col] = t(f"xl.ind.{key}", language, name=name)
                fmts[col] = fmt
    return heads, fmts, notes


def scorecard_sheets(card: pd.DataFrame, lines: pd.DataFrame, adjustments: pd.DataFrame,
                     indicators: Mapping[str, tuple[str, str]], soft: Mapping[str, str], team: str,
                     language: str, generated: str = "") -> dict[str, Sheet]:
    """The team's ``scorecard.xlsx`` for people: payroll, scorecard, pay lines, adjustments
    (only when there are any) and notes.

    ``card``: the machine scorecard (one row per manager: ``manager_id``, ``name``,
    ``period``, ``status``, ``grade``, ``total``, …, ``{indicator}_{field}``);
    ``lines``: the statements' pay lines (``manager_id``, ``ref``, ``month``,
    ``component``, ``item``, ``quantity``, ``rate``, ``subtotal``, ``explanation``);
    ``adjustments``: the statements' adjustments (``manager_id``, ``ref``, ``kind``,
    ``relates_to_period``, ``relates_to_ref``, ``reason_code``, ``reason``,
    ``approved_by``, ``date``, ``amount``, ``indicator``, ``indicator_name``, ``credit``);
    ``indicators``: weighted indicator id → (name, unit); ``soft``: soft indicator id → name.
    """
    lang = language
    period = str(card["period"].iloc[0]) if len(card) else ""
    names = dict(zip(card["manager_id"], card["name"]))
    adj = adjustments if len(adjustments) else pd.DataFrame(columns=["manager_id", "amount"])
    pay: dict[str, PayTotals] = {}
    rows: list[dict[str, Any]] = []
    for m in card["manager_id"]:
        mine = lines[lines["manager_id"] == m]
        madj = adj[adj["manager_id"] == m]
        p = pay[m] = pay_totals(mine["subtotal"].astype(float).tolist(),
                                [_finite(a) or 0.0 for a in madj["amount"]])
        for (_, r), amount in zip(mine.iterrows(), p.lines):
            rows.append({"manager_id": m, "name": names[m], "ref": r["ref"], "line_kind": t("xl.kind.pay", lang),
                         "month": r["month"], "component": _word("inc.item", r["component"], lang),
                         "item": r["item"], "quantity": _finite(r["quantity"]), "rate": _finite(r["rate"]),
                         "amount": _fen(amount), "explanation": r["explanation"]})
        rounding = [(p.payout_rounding, "payout")]
        for (_, a), amount in zip(madj.iterrows(), p.adjustments):
            what = (a.get("indicator_name") or "") if _finite(a.get("credit")) is not None else ""
            rows.append({"manager_id": m, "name": names[m], "ref": a.get("ref"),
                         "line_kind": t("xl.kind.adjustment", lang), "month": a.get("relates_to_period") or "",
                         "component": _word("xl.adj", "credit" if what else a.get("kind"), lang),
                         "item": what or a.get("reason_code") or "", "quantity": None, "rate": None,
                         "amount": _fen(amount), "explanation": a.get("reason") or ""})
        rounding += [(p.adjustment_rounding, "adjustments"), (p.total_rounding, "total")]
        for diff, what in rounding:
            if diff != 0:
                rows.append({"manager_id": m, "name": names[m], "ref": "", "line_kind": t("xl.kind.rounding", lang),
                             "month": period, "component": t("xl.kind.rounding", lang),
                             "item": t(f"xl.rounding.{what}", lang), "quantity": None, "rate": None,
                             "amount": _fen(diff), "explanation": ""})
    line_cols = ["manager_id", "name", "ref", "line_kind", "month", "component", "item", "quantity", "rate",
                 "amount", "explanation"]
    pay_lines = pd.DataFrame(rows, columns=line_cols)

    status = card["status"].map(lambda s: _word("xl.status", s, lang))
    grade = [g if isinstance(g, str) and g.replace(" ", "_") != "no_data" else None for g in card["grade"]]
    payroll = pd.DataFrame({
        "manager_id": card["manager_id"], "name": card["name"], "team": team, "period": card["period"],
        "status": status, "grade": grade, "total": card["total"],
        "active_fraction": card["active_fraction"] if "active_fraction" in card else np.nan,
        **({c: card[c] for c in ("position_level", "monthly_base_pay") if c in card}),  # levels set base pay
        "payout": [_fen(pay[m].payout) for m in card["manager_id"]],
        "adjustments": [_fen(pay[m].adjustment) for m in card["manager_id"]],
        "rounding": [_fen(pay[m].total_rounding) for m in card["manager_id"]],
        "pay_total": [_fen(pay[m].total) for m in card["manager_id"]],
    })
    money_note = {c: t("xl.comment.pay", lang) for c in ("payout", "adjustments", "pay_total")}

    detail = card.copy()
    detail["status"] = status
    detail["grade"] = grade
    for col, attr in (("payout", "payout"), ("adjustments", "adjustment"), ("pay_total", "total")):
        if col in detail:  # the amounts to pay as the payroll sheet has them; none where no pay was computed
            detail[col] = [_fen(getattr(pay[m], attr)) if _finite(v) is not None else None
                           for m, v in zip(detail["manager_id"], detail[col])]
    heads, fmts, comments = _indicator_columns(card, indicators, soft, lang)
    comments.update(money_note)

    sheets = {
        t("xl.sheet.payroll", lang): _sheet(payroll, {}, lang, money_note),
        t("xl.sheet.scorecard", lang): _sheet(detail, fmts, lang, comments, heads),
        t("xl.sheet.pay_lines", lang): _sheet(pay_lines, {}, lang),
    }
    if len(adjustments):
        a = adjustments.copy()
        a["name"] = a["manager_id"].map(names)
        a["kind"] = [_word("xl.adj", "credit" if _finite(c) is not None and i else k, lang)
                     for k, c, i in zip(a["kind"], a.get("credit", [None] * len(a)), a.get("indicator", [""] * len(a)))]
        a["amount"] = [_fen(to_fen(_finite(x) or 0.0)) for x in a["amount"]]
        a["date"] = [_date(x) for x in a["date"]]
        if "indicator_name" in a:
            a["indicator"] = a["indicator_name"].where(a["indicator_name"].astype(bool), a["indicator"])
        cols = [c for c in ["manager_id", "name", "ref", "kind", "relates_to_period", "relates_to_ref", "reason_code",
                            "reason", "approved_by", "date", "amount", "indicator", "credit"] if c in a]
        sheets[t("xl.sheet.adjustments", lang)] = _sheet(a[cols], {}, lang)
    sheets[t("xl.sheet.notes", lang)] = _notes(lang, period, generated)
    return sheets


# --- the leadership summary's workbook ------------------------------------------------


def _fair_reason(r: Mapping[str, Any], low: float | None, high: float | None, language: str) -> str:
    n, o, u = int(r["periods"]), int(r["periods_over"]), int(r["periods_under"])
    flag = r.get("flag") or ""
    if flag.endswith("over target") and high is not None:
        return t("xl.fair.why_over", language, k=o, n=n, high=f"{high:.0%}")
    if flag.endswith("under target") and low is not None:
        return t("xl.fair.why_under", language, k=u, n=n, low=f"{low:.0%}")
    if low is None or high is None:
        return t("xl.fair.why_ok_nobounds", language, o=o, u=u, n=n)
    return t("xl.fair.why_ok", language, low=f"{low:.0%}", high=f"{high:.0%}", o=o, u=u, n=n)


def leadership_sheets(frames: Mapping[str, pd.DataFrame], language: str, indicator_names: Mapping[str, str],
                      team_names: Mapping[str, str], period: str, generated: str = "",
                      fairness_band: tuple[float, float] | None = None) -> dict[str, Sheet]:
    """The leadership summary's ``leadership_summary.xlsx`` for people: the frames of
    :func:`helpers.notebooks.leadership.export_frames` (``teams``, ``movers``,
    ``key_losses``, ``complaints``, ``fairness``, ``managers``) with headers and
    words in ``language``, and a notes sheet."""
    lang = language
    low, high = fairness_band if fairness_band else (None, None)
    sheets: dict[str, Sheet] = {}
    for key, df in frames.items():
        d = df.copy()
        if "level" in d:
            d["level"] = d["level"].map(lambda x: _word("xl.level", x, lang))
        if "status" in d:
            d["status"] = d["status"].map(lambda x: _word("xl.status", x, lang))
        if "direction" in d:
            d["direction"] = d["direction"].map(lambda x: _word("xl.dir", x, lang))
        if "spike" in d:
            d["spike"] = [t("xl.yes" if bool(x) else "xl.no", lang) if pd.notna(x) else None for x in d["spike"]]
        if "grade" in d:
            d["grade"] = [None if isinstance(g, str) and g.replace(" ", "_") == "no_data" else g for g in d["grade"]]
        if key == "complaints" and "team" in d:
            d = d.rename(columns={"team": "team_id"})
        if "team_id" in d:
            d.insert(list(d.columns).index("team_id") + 1, "team",
                     [team_names.get(x, x) if isinstance(x, str) and x else "" for x in d["team_id"]])
        if key == "fairness" and len(d):
            d["reason"] = [_fair_reason(r, low, high, lang) for r in d.to_dict("records")]
            d["flag"] = [t("xl.fair.over", lang) if str(x).endswith("over target") else
                         t("xl.fair.under", lang) if str(x).endswith("under target") else "" for x in d["flag"]]
            d["indicator"] = [indicator_names.get(i, i) for i in d["indicator"]]
            first = [c for c in ("indicator", "level", "group") if c in d]
            d = d[first + [c for c in d.columns if c not in first]]
        if "lost_date" in d:
            d["lost_date"] = pd.to_datetime(d["lost_date"], errors="coerce").dt.normalize()
        heads = {"reason": t("xl.fair.col_reason", lang)} if key == "fairness" else {}
        fmts = {"current": COUNT} if key == "complaints" else {}
        sheets[t(f"xl.sheet.{key}", lang) if _has(f"xl.sheet.{key}") else key] = _sheet(d, fmts, lang, None, heads)
    sheets[t("xl.sheet.notes", lang)] = _notes(lang, period, generated, pay=False)
    return sheets
