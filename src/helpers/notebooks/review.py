"""The review of a period: comparisons, strengths and weaknesses, plan and summary draft.

What the methodology asks of a quarterly (or monthly, 月度考核) review, computed from
the KPI actuals (:mod:`helpers.kpis.measures`) and the indicator library
(:mod:`helpers.kpis.indicators`):

* **纵向 (vertical)** — :func:`vertical_comparison`: each manager's value this period,
  the previous period (环比, QoQ or MoM: :meth:`ReviewPeriod.previous`) and the same
  period a year earlier (同比: :meth:`ReviewPeriod.year_ago`), with absolute and
  relative change.
* **横向 (horizontal)** — :func:`horizontal_comparison`: against the team average and
  the company mean/median (the anonymous aggregates of every manager), with the rank in
  the team and the position in the company.
* **Segments** — :func:`segment_breakdown` (key 大客户 / small 小客户 / walk-in 散客) and
  **product lines** — :func:`product_lines` (重点品牌).
* **Strengths and weaknesses** — :func:`assess` applies one documented rule to every
  manager × indicator, :func:`strengths_weaknesses` keeps the most notable ones and
  writes a sentence with the numbers for each, in the report's language.
* **Improvement plan** — :func:`improvement_plan`: one row per weakness with the gap,
  a concrete action from the message catalog, the owner and the due date.
* **Monthly-summary draft** — :func:`monthly_summary`: the five sections the seed article
  recommends (片区销售情况分析、重点品牌分析、市场及客户分析、存在问题和建议、下月工作计划) as Markdown.

Sources: the seed articles in ``/work/shared/seeds`` — "浅谈如何做好客户经理月度考核 /
客户经理如何提高月度总结的质量" (004: monthly appraisal; the summary's structure; 纵向对比、
横向对比; problems must come with suggestions; next month's plan with decomposed tasks)
and the feedback guidance (000: "指出优点和不足"; 002: "提供具体的改进建议").

Conventions

* Every function takes plain frames (plus ``language``) and is testable without a
  notebook; :func:`team_review` and the ``*_table`` / ``*_markdown`` functions are the
  thin layer a notebook calls with a :class:`~helpers.context.workbook.TeamContext`.
* *No data stays NaN, never 0*, and every NaN comes with a reason in the ``note`` (or
  ``reason``) column: no record for the period (not employed), no base (denominator 0),
  indicator not computable from the data supplied, growth rate undefined (base ≤ 0).
* Ratio indicators (unit ``ratio``: CSAT, churn …) are compared in **percentage
  points** (×100 of the difference), ``points``/``score`` indicators in points, money and
  counts in absolute units and in %.
* Polarity comes from the library (``higher_is_better``): for a lower-is-better indicator
  (complaint rate, churn) a *lower* value is *better* in every rank, position, trend,
  strength and weakness.
* Targets are optional: a frame ``manager_id, indicator, period, target`` (e.g. from
  :func:`helpers.core.targets.read_targets_csv`); attainment follows the workbook's one rule,
  :func:`helpers.core.attainment.attainment_detail`.  Targets are used as given (pro-rate them
  beforehand with :func:`helpers.core.attainment.prorate` for part-period managers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from IPython.display import Markdown
from pandas.io.formats.style import Styler

from helpers.core.attainment import (
    REASON_NEGATIVE_ACTUAL,
    REASON_NEGATIVE_TARGET,
    REASON_ZERO_TARGET,
    attainment_detail,
)
from helpers.present.display import escape, fmt, table
from helpers.errors import InputError, Problem, input_error
from helpers.present.i18n import LANGUAGES, catalog, t
from helpers.kpis.indicators import Library, load_library
from helpers.kpis.measures import KPIS
from helpers.plan.params import resolve
from helpers.periods import ReviewPeriod, parse_period
from helpers.data.schema import SEGMENTS
from helpers.core.targets import apportion
from helpers.context.workbook import TeamContext

__all__ = [
    "DEFAULT_INDICATORS",
    "PRORATED_KPIS",
    "SEGMENT_KPIS",
    "FindingRule",
    "TeamReview",
    "review_indicators",
    "vertical_comparison",
    "horizontal_comparison",
    "segment_breakdown",
    "product_lines",
    "assess",
    "select_findings",
    "strengths_weaknesses",
    "improvement_plan",
    "monthly_summary",
    "review_library",
    "team_review",
    "vertical_for",
    "horizontal_for",
    "segments_for",
    "findings_for",
    "plan_for",
    "summary_for",
    "vertical_table",
    "horizontal_table",
    "segment_table",
    "findings_markdown",
    "plan_table",
    "summary_markdown",
]

#: Indicators reviewed by default (those of them the data can compute).  One of each
#: complementary pair (retention, not churn) so a strength is not said twice.
DEFAULT_INDICATORS: tuple[str, ...] = (
    "sales", "profit", "margin", "aov", "new_customers", "conversion_rate", "retention_rate",
    "repeat_purchase_rate", "csat", "nps", "complaint_rate", "resolution_rate", "visit_coverage",
    "market_share",
)

#: KPIs of the segment breakdown (key / small / walk-in), when available.
SEGMENT_KPIS: tuple[str, ...] = (
    "sales", "profit", "margin", "orders", "buyers", "new_customers", "lost_customers",
    "retention_rate", "csat", "complaint_rate",
)

ADDITIVE_UNITS = ("currency", "count")
"""Units compared in % as well as in absolute terms (growth rates, gaps)."""

PRORATED_KPIS: frozenset[str] = frozenset({
    "sales", "profit", "orders", "buyers", "new_customers", "lost_customers", "complaints", "escalations",
    "visits", "market_share",
})
"""KPIs that grow with the time a manager was active (sums over the period, and market
share = period sales ÷ the full period's market): their benchmarks are pro-rated for
part-period managers.  Ratios of sums (AOV, margin, CSAT, CLV …) are not."""
_EPS_DIGITS = 9  # scores are rounded to 9 decimals before comparing (0.9 − 1 ≠ −0.1 in floats)

_ATTAINMENT_REASONS = {
    REASON_ZERO_TARGET: "zero_target",
    REASON_NEGATIVE_TARGET: "negative_target",
    REASON_NEGATIVE_ACTUAL: "negative_actual",
}


# =========================================================================== the rule


@dataclass(frozen=True)
class FindingRule:
    """The rule that makes an indicator a strength or a weakness (:func:`assess`).

    For every manager × indicator with a value, a *notability score* ``s`` says how far
    the value is from its benchmark, in multiples of the distance that counts as
    notable, signed so that ``s > 0`` is better (polarity-aware):

    1. **Target** (a target exists for the manager, indicator and period)::

           a = attainment(value, target)        # helpers.core.attainment: actual/target,
                                                # target/actual when lower is better
           s = (a − 1) / target_margin          # beats/misses target by target_margin

    2. **Company quartiles** (no target; ``company`` has ``q25`` and ``q75``)::

           d = ±(value − median)                # + when higher is better, − otherwise
           s = d / (q75 − median)   if better than the median  (higher is better)
           s = d / (median − q25)   if worse                   (higher is better)
           (mirrored for lower-is-better: the good side is below the median)

       so ``s ≥ 1`` ⇔ in the company's top quartile, ``s ≤ −1`` ⇔ bottom quartile.  A zero
       half-spread (quartile = median) falls back to rule 3.

    3. **Company median only** (no quartiles)::

           ratio:            s = ±(value − median) × 100 / pp_threshold
           points, score:    s = ±(value − median) / points_threshold
           currency, count:  s = ±(value − median) / median / relative_threshold
                             (median ≤ 0: not judged)

    A company figure needs at least ``min_peers`` managers, and a ratio or points value
    (CSAT, complaint rate, NPS …) a base of at least ``min_base`` (its denominator:
    responses, customers, complaints; ``actuals``' ``denominator`` column), else the
    indicator is not judged — one unhappy survey out of one is not a weakness.  For
    part-period managers the company benchmarks of indicators that grow with the time
    active (:data:`PRORATED_KPIS`) are pro-rated by the manager's share of the period
    (``fractions``).

    ``s ≥ 1`` → strength, ``s ≤ −1`` → weakness (``s`` rounded to 9 decimals first, so
    exactly 10 % over target counts).  Per manager at most ``max_items`` of each, the
    largest ``|s|`` first; ties keep the order of the indicator list (library order).
    """

    target_margin: float = 0.10
    pp_threshold: float = 5.0
    points_threshold: float = 5.0
    relative_threshold: float = 0.15
    min_peers: int = 5
    min_base: float = 5.0
    max_items: int = 3

    def __post_init__(self) -> None:
        problems = []
        if not (isinstance(self.min_base, (int, float)) and math.isfinite(self.min_base) and self.min_base >= 0):
            problems.append(Problem("FindingRule", f"min_base is {self.min_base!r}", where="min_base",
                                    fix="use a number ≥ 0 (0 = no minimum)"))
        for name in ("target_margin", "pp_threshold", "points_threshold", "relative_threshold"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                problems.append(Problem("FindingRule", f"{name} is {v!r}", where=name, fix="use a number above 0"))
        for name in ("min_peers", "max_items"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v >= 1):
                problems.append(Problem("FindingRule", f"{name} is {v!r}", where=name, fix="use a whole number ≥ 1"))
        if problems:
            raise InputError(problems)


# =========================================================================== input checks


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise input_error("language", f"unknown language {language!r}", fix=f"use one of: {', '.join(LANGUAGES)}")
    return language


def _period(period: ReviewPeriod | str) -> ReviewPeriod:
    return period if isinstance(period, ReviewPeriod) else parse_period(str(period), source="period")


def _require(df: Any, columns: Sequence[str], source: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise input_error(source, f"expected a table (DataFrame), got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise input_error(source, f"missing column(s) {', '.join(missing)}",
                          fix=f"the table needs the columns {', '.join(columns)}")
    return df


def _check_actuals(actuals: pd.DataFrame, period: ReviewPeriod, source: str = "actuals") -> pd.DataFrame:
    """Columns present, one row per (manager, period, segment, kpi), frequency matching."""
    _require(actuals, ("manager_id", "period", "segment", "kpi", "value"), source)
    labels = actuals["period"].astype(str)
    quarterly = labels.str.contains("Q", regex=False)
    wrong = quarterly if period.freq == "M" else ~quarterly
    if len(actuals) and bool(wrong.all()):
        have = "quarterly" if period.freq == "M" else "monthly"
        want = "monthly" if period.freq == "M" else "quarterly"
        raise input_error(source, f"the KPI actuals are {have} (e.g. {labels.iloc[0]}) but the period "
                          f"{period.label} is {'a month' if period.freq == 'M' else 'a quarter'}",
                          fix=f"pass the {want} actuals (ctx.actuals of a run for {period.label})")
    key = ["manager_id", "period", "segment", "kpi"]
    dup = actuals.duplicated(key)
    if dup.any():
        r = actuals.loc[dup, key].iloc[0]
        raise input_error(source, f"{int(dup.sum())} duplicate row(s), e.g. {r['manager_id']}, {r['period']}, "
                          f"{r['segment']}, {r['kpi']}", fix="keep one row per manager, period, segment and KPI")
    return actuals


def _managers(actuals: pd.DataFrame, period: ReviewPeriod, managers: Sequence[str] | None) -> list[str]:
    """Managers reviewed: as given, else those with a row in the period (sorted)."""
    if managers is not None:
        return [str(m) for m in managers]
    return sorted(actuals.loc[actuals["period"] == period.label, "manager_id"].astype(str).unique())


def _fractions(fractions: Mapping[str, float] | pd.Series | None, managers: Sequence[str]) -> pd.Series:
    """Share of the period each manager was active (1.0 when not given)."""
    if fractions is None:
        return pd.Series(1.0, index=pd.Index(managers, dtype=object), dtype=float)
    f = pd.Series(dict(fractions) if not isinstance(fractions, pd.Series) else fractions, dtype=object)
    f.index = f.index.astype(str)
    out = pd.to_numeric(f.reindex(managers), errors="coerce").astype(float).fillna(1.0)
    bad = out[~((out > 0) & (out <= 1))]
    if len(bad):
        raise input_error("fractions", "share of the period must be above 0 and at most 1, got "
                          + ", ".join(f"{k}: {v}" for k, v in bad.items()),
                          fix="use the roster's fraction column (helpers.context.workbook.team_roster)")
    return out


def _target_label(p: Any) -> str:
    if isinstance(p, ReviewPeriod):
        return p.label
    if isinstance(p, pd.Period):
        fs = p.freqstr
        if fs.startswith("Q"):
            return f"{p.year}Q{p.quarter}"
        if fs.startswith("M"):
            return f"{p.year}-{p.month:02d}"
        return str(p.year)
    return str(p).strip()


def _targets(targets: pd.DataFrame | None, library: Library) -> pd.DataFrame:
    """Targets normalised to string period labels, checked (known indicators, numbers, no duplicates)."""
    cols = ["manager_id", "indicator", "period", "target"]
    if targets is None:
        return pd.DataFrame(columns=cols)
    src = "targets"
    _require(targets, cols, src)
    out = targets[cols].copy()
    out["manager_id"] = out["manager_id"].astype(str).str.strip()
    out["indicator"] = out["indicator"].astype(str).str.strip()
    out["period"] = out["period"].map(_target_label)
    library.check_known(sorted(set(out["indicator"])), src, where="column indicator")
    num = pd.to_numeric(out["target"], errors="coerce")
    bad = num.isna() & out["target"].notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise input_error(src, f"target {out['target'].iloc[i]!r} is not a number",
                          where=f"row {i + 1} ({out['manager_id'].iloc[i]}, {out['indicator'].iloc[i]})",
                          fix="write a plain number")
    out["target"] = num.astype(float)
    dup = out.duplicated(["manager_id", "indicator", "period"])
    if dup.any():
        r = out[dup].iloc[0]
        raise input_error(src, f"more than one target for {r['manager_id']}, {r['indicator']}, {r['period']}",
                          fix="keep one row per manager, indicator and period")
    return out


def review_indicators(library: Library, actuals: pd.DataFrame, indicators: Sequence[str] | None = None) -> list[str]:
    """The indicators to review, in order.

    Given ``indicators``: all of them (unknown ids raise :class:`InputError`; ones the
    data cannot compute are kept and reported as "not computable").  Not given:
    :data:`DEFAULT_INDICATORS` that are in the library and whose KPI is in ``actuals``.
    """
    if indicators is not None:
        ids = [str(i) for i in indicators]
        library.check_known(ids, "indicators")
        return ids
    have = set(actuals["kpi"].unique()) if len(actuals) else set()
    return [i for i in DEFAULT_INDICATORS if i in library and library[i].kpi in have]


# =========================================================================== numbers


def _long_values(actuals: pd.DataFrame, library: Library, ids: Sequence[str], managers: Sequence[str],
                 label: str) -> pd.DataFrame:
    """manager × indicator values for one period label with a reason code for NaN.

    reason: "" | "not_computable" (no KPI, or KPI absent from the data) | "no_row" (no
    record for the period) | "no_base" (record with NaN value: denominator 0).
    """
    spec = pd.DataFrame({"indicator": list(ids),
                         "kpi": [library[i].kpi or "" for i in ids],
                         "segment": [library[i].segment for i in ids]})
    grid = pd.MultiIndex.from_product([list(managers), list(ids)], names=["manager_id", "indicator"]).to_frame(index=False)
    grid = grid.merge(spec, on="indicator", how="left")
    cols = ["manager_id", "segment", "kpi", "value"] + (["denominator"] if "denominator" in actuals.columns else [])
    sel = actuals.loc[actuals["period"] == label, cols].copy()
    sel["manager_id"] = sel["manager_id"].astype(str)
    sel["_row"] = True
    out = grid.merge(sel, on=["manager_id", "kpi", "segment"], how="left")
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype(float)
    out["base"] = pd.to_numeric(out["denominator"], errors="coerce").astype(float) if "denominator" in out else np.nan
    known = set(actuals["kpi"].unique()) if len(actuals) else set()
    reason = np.where(~out["kpi"].isin(known) | (out["kpi"] == ""), "not_computable",
                      np.where(out["_row"].isna(), "no_row", np.where(out["value"].isna(), "no_base", "")))
    out["reason"] = reason
    return out[["manager_id", "indicator", "value", "base", "reason"]]


def _reason_text(code: str, label: str, language: str) -> str:
    return "" if not code else t(f"review.reason.{code}", language, period=label)


def _diff(value: pd.Series, base: pd.Series, units: pd.Series) -> pd.Series:
    """value − base, in percentage points (×100) for ratio units."""
    d = value - base
    return d.where(units != "ratio", d * 100)


def _rel(value: pd.Series, base: pd.Series, units: pd.Series) -> pd.Series:
    """Relative change (value − base) / base for money and counts with base > 0, else NaN."""
    ok = units.isin(ADDITIVE_UNITS) & (base > 0)
    return ((value - base) / base.where(ok)).astype(float)


def _trend(d: pd.Series, hib: pd.Series) -> pd.Series:
    signed = d.where(hib, -d)
    return pd.Series(np.select([signed > 0, signed < 0, signed == 0], ["better", "worse", "same"], ""), index=d.index)


def _change_unit(unit: str) -> str:
    return {"ratio": "pp", "points": "points", "score": "points"}.get(unit, unit)


def _meta(library: Library, ids: Sequence[str], language: str) -> pd.DataFrame:
    return pd.DataFrame({
        "indicator": list(ids),
        "name": [library.name(i, language) for i in ids],
        "family": [library[i].family for i in ids],
        "unit": [library[i].unit for i in ids],
        "higher_is_better": [bool(library[i].higher_is_better) for i in ids],
    })


def _join_notes(*parts: pd.Series) -> pd.Series:
    frame = pd.concat(parts, axis=1)
    return frame.apply(lambda r: "; ".join(dict.fromkeys(x for x in r if x)), axis=1).astype(str)


def vertical_comparison(
    actuals: pd.DataFrame,
    library: Library,
    period: ReviewPeriod | str,
    *,
    indicators: Sequence[str] | None = None,
    managers: Sequence[str] | None = None,
    language: str = "zh",
) -> pd.DataFrame:
    """纵向对比: each manager × indicator against the previous period and a year earlier.

    ``actuals`` is the long KPI table at the period's frequency (quarterly for
    ``2026Q3``, monthly for ``2026-09``); the previous period is
    :meth:`ReviewPeriod.previous` (QoQ / MoM, 环比) and the year-ago period
    :meth:`ReviewPeriod.year_ago` (同比).

    Formulas (per row; ``v`` this period, ``p`` the comparison period)::

        change      = v − p               (ratio units: (v − p) × 100, percentage points)
        change_pct  = (v − p) / p          money and counts only, and only when p > 0
        trend       = better | worse | same, by the sign of (v − p), reversed when lower is better

    Columns: ``manager_id, indicator, name, family, unit, higher_is_better, value,
    previous, year_ago, change_prev, change_prev_pct, trend_prev, change_yoy,
    change_yoy_pct, trend_yoy, change_unit`` (``pp`` | ``points`` | ``currency`` |
    ``count``) and ``note`` (why a number is missing, in ``language``).  Missing data is
    NaN with a note, never 0.
    """
    language = _language(language)
    per = _period(period)
    _check_actuals(actuals, per)
    ids = review_indicators(library, actuals, indicators)
    mgrs = _managers(actuals, per, managers)
    labels = {"value": per.label, "previous": per.previous().label, "year_ago": per.year_ago().label}
    parts = {k: _long_values(actuals, library, ids, mgrs, lab) for k, lab in labels.items()}
    out = parts["value"][["manager_id", "indicator", "value"]].copy()
    out["previous"] = parts["previous"]["value"].to_numpy()
    out["year_ago"] = parts["year_ago"]["value"].to_numpy()
    out = out.merge(_meta(library, ids, language), on="indicator", how="left")
    units, hib = out["unit"], out["higher_is_better"].astype(bool)
    notes = [parts["value"]["reason"].map(lambda c: _reason_text(c, labels["value"], language))]
    for key, suffix in (("previous", "prev"), ("year_ago", "yoy")):
        out[f"change_{suffix}"] = _diff(out["value"], out[key], units)
        out[f"change_{suffix}_pct"] = _rel(out["value"], out[key], units)
        out[f"trend_{suffix}"] = _trend(out[f"change_{suffix}"], hib)
        code = parts[key]["reason"].where(parts["value"]["reason"] != "not_computable", "")
        notes.append(code.map(lambda c, lab=labels[key]: _reason_text(c, lab, language)))
        base = out[key]
        additive = units.isin(ADDITIVE_UNITS) & out["value"].notna()
        zero = np.where(additive & (base == 0), "zero_base", np.where(additive & (base < 0), "negative_base", ""))
        notes.append(pd.Series(zero, index=out.index).map(lambda c, lab=labels[key]: _reason_text(c, lab, language)))
    out["change_unit"] = units.map(_change_unit)
    out["note"] = _join_notes(*notes)
    cols = ["manager_id", "indicator", "name", "family", "unit", "higher_is_better", "value", "previous", "year_ago",
            "change_prev", "change_prev_pct", "trend_prev", "change_yoy", "change_yoy_pct", "trend_yoy",
            "change_unit", "note"]
    return out[cols]


def _company_rows(company: pd.DataFrame, library: Library, ids: Sequence[str], label: str) -> pd.DataFrame:
    """Company figures per indicator for one period (mean, median, managers, q25, q75 when present)."""
    _require(company, ("period", "segment", "kpi", "median"), "company")
    sel = company[company["period"].astype(str) == label]
    spec = pd.DataFrame({"indicator": list(ids), "kpi": [library[i].kpi or "" for i in ids],
                         "segment": [library[i].segment for i in ids]})
    keep = [c for c in ("mean", "median", "managers", "q25", "q75") if c in sel.columns]
    out = spec.merge(sel[["segment", "kpi", *keep]], on=["kpi", "segment"], how="left")
    for c in ("mean", "median", "managers", "q25", "q75"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float) if c in out.columns else np.nan
    if out["indicator"].duplicated().any():
        raise input_error("company", f"more than one company row for a KPI and segment in {label}",
                          fix="keep one row per period, segment and KPI")
    return out[["indicator", "mean", "median", "managers", "q25", "q75"]]


def _position(v: pd.Series, med: pd.Series, q25: pd.Series, q75: pd.Series, hib: pd.Series) -> pd.Series:
    """Quartile band (with quartiles) or side of the median, polarity-aware; "" without data."""
    good = v.where(hib, -v)
    m, lo, hi = med.where(hib, -med), q25.where(hib, -q75), q75.where(hib, -q25)  # mirror lower-is-better
    quart = lo.notna() & hi.notna()
    conds = [v.isna() | med.isna(),
             quart & (good >= hi), quart & (good <= lo), quart & (good >= m), quart,
             good > m, good < m]
    codes = ["", "top_quartile", "bottom_quartile", "second_quartile", "third_quartile",
             "above_median", "below_median"]
    return pd.Series(np.select(conds, codes, "at_median"), index=v.index)


def horizontal_comparison(
    actuals: pd.DataFrame,
    company: pd.DataFrame,
    library: Library,
    period: ReviewPeriod | str,
    *,
    indicators: Sequence[str] | None = None,
    managers: Sequence[str] | None = None,
    fractions: Mapping[str, float] | pd.Series | None = None,
    language: str = "zh",
) -> pd.DataFrame:
    """横向对比: each manager × indicator against the team and the company.

    * ``team_mean``: unweighted mean of the values of the reviewed ``managers`` that have
      one (the manager included) — the same definition as the company mean;
      ``team_rank``: competition rank in the team, 1 = best (lower value best when lower
      is better; ties share the better rank), of ``team_size`` managers with a value.
    * ``company_mean``, ``company_median``, ``company_managers``: the anonymous
      aggregates in ``company`` (``period, segment, kpi, mean, median, managers``; all
      managers of the company, this team included).
    * ``position`` — where the manager stands in the company.  The anonymous aggregates
      hold no distribution, so an exact percentile cannot be computed.  When ``company``
      also has the quartiles ``q25`` and ``q75`` the position is the quartile band
      (``top_quartile`` = at or beyond the better quartile, ``second_quartile`` = between
      the median and it, …); with the median only it is ``above_median`` /
      ``below_median`` / ``at_median`` (better / worse, polarity-aware).
    * ``vs_team``, ``vs_median``: difference to the benchmark (percentage points for
      ratios), ``vs_team_pct``, ``vs_median_pct``: relative difference for money and
      counts (benchmark > 0).
    * Part-period managers (``fractions``: manager → share of the period, e.g. the
      roster's ``fraction``): for indicators that grow with the time active
      (:data:`PRORATED_KPIS`: sales, profit, new customers, visits, market share …) the
      team and company benchmarks are pro-rated, ``benchmark × fraction`` (the
      workbook's pro-rating rule), and ``prorated`` is True.  Ratios of sums (AOV,
      margin, CSAT) are compared as they are.

    * ``base``: for ratio and points indicators, the denominator the value rests on
      (survey responses, customers at the start, complaints …; from ``actuals``'
      ``denominator`` column when present).

    Columns: ``manager_id, indicator, name, family, unit, higher_is_better, value,
    base, fraction, prorated, team_mean, vs_team, vs_team_pct, team_rank, team_size, company_mean,
    company_median, company_q25, company_q75, company_managers, vs_median,
    vs_median_pct, position, position_text, change_unit, note``.
    """
    language = _language(language)
    per = _period(period)
    _check_actuals(actuals, per)
    ids = review_indicators(library, actuals, indicators)
    mgrs = _managers(actuals, per, managers)
    frac = _fractions(fractions, mgrs)
    cur = _long_values(actuals, library, ids, mgrs, per.label)
    out = cur.merge(_meta(library, ids, language), on="indicator", how="left")
    out["base"] = out["base"].where(out["unit"].isin(("ratio", "points")))
    hib = out["higher_is_better"].astype(bool)
    out["fraction"] = out["manager_id"].map(frac).astype(float)
    grows = out["indicator"].map(lambda i: library[i].kpi in PRORATED_KPIS)
    scale = out["fraction"].where(grows, 1.0)
    out["prorated"] = (scale < 1) & out["value"].notna()
    team = out.groupby("indicator")["value"].agg(["mean", "count"])
    out["team_mean"] = out["indicator"].map(team["mean"]) * scale
    out["team_size"] = out["indicator"].map(team["count"]).astype(int)
    signed = out["value"].where(hib, -out["value"])
    out["team_rank"] = signed.groupby(out["indicator"]).rank(method="min", ascending=False)
    comp = _company_rows(company, library, ids, per.label)
    out = out.merge(comp, on="indicator", how="left")
    out = out.rename(columns={"mean": "company_mean", "median": "company_median", "managers": "company_managers",
                              "q25": "company_q25", "q75": "company_q75"})
    for c in ("company_mean", "company_median", "company_q25", "company_q75"):
        out[c] = out[c] * scale
    units = out["unit"]
    out["vs_team"] = _diff(out["value"], out["team_mean"], units)
    out["vs_team_pct"] = _rel(out["value"], out["team_mean"], units)
    out["vs_median"] = _diff(out["value"], out["company_median"], units)
    out["vs_median_pct"] = _rel(out["value"], out["company_median"], units)
    out["position"] = _position(out["value"], out["company_median"], out["company_q25"], out["company_q75"], hib)
    out["position_text"] = out["position"].map(lambda c: t(f"review.position.{c}", language) if c else "")
    out["change_unit"] = units.map(_change_unit)
    notes = [cur["reason"].map(lambda c: _reason_text(c, per.label, language))]
    no_comp = out["company_median"].isna() & (cur["reason"].to_numpy() == "")
    notes.append(pd.Series(np.where(no_comp, t("review.reason.no_company", language), ""), index=out.index))
    notes.append(pd.Series([t("review.reason.prorated", language, share=f"{f:.0%}") if p else ""
                            for p, f in zip(out["prorated"], out["fraction"])], index=out.index))
    out["note"] = _join_notes(*notes)
    cols = ["manager_id", "indicator", "name", "family", "unit", "higher_is_better", "value", "base", "fraction",
            "prorated", "team_mean", "vs_team", "vs_team_pct", "team_rank", "team_size", "company_mean", "company_median",
            "company_q25", "company_q75", "company_managers", "vs_median", "vs_median_pct", "position",
            "position_text", "change_unit", "note"]
    return out[cols]


def segment_breakdown(
    actuals: pd.DataFrame,
    period: ReviewPeriod | str,
    *,
    managers: Sequence[str] | None = None,
    kpis: Sequence[str] = SEGMENT_KPIS,
    language: str = "zh",
) -> pd.DataFrame:
    """Each manager's KPIs by customer segment (key 大客户 / small 小客户 / walk-in 散客).

    One row per manager × segment, one column per KPI of ``kpis`` present in the data
    (values as computed by :mod:`helpers.kpis.measures` for that segment), plus::

        sales_share       = sales of the segment ÷ sales of all segments   (NaN when no sales)
        sales_prev_pct    = segment sales ÷ previous period's − 1          (previous > 0)
        sales_yoy_pct     = segment sales ÷ year-ago period's − 1          (year-ago > 0)

    ``segment_name`` is the segment in ``language``; ``note`` lists the KPIs with no
    base in that segment (e.g. no surveys from walk-in customers): they stay NaN.
    """
    language = _language(language)
    per = _period(period)
    _check_actuals(actuals, per)
    mgrs = _managers(actuals, per, managers)
    have = [k for k in kpis if k in set(actuals["kpi"])]
    unknown = [k for k in kpis if k not in KPIS]
    if unknown:
        raise input_error("kpis", f"unknown KPI(s) {', '.join(unknown)}", fix="use ids from helpers.kpis.measures.KPIS")
    grid = pd.MultiIndex.from_product([mgrs, list(SEGMENTS)], names=["manager_id", "segment"]).to_frame(index=False)
    keys = pd.MultiIndex.from_frame(grid)

    def lookup(label: str, kpi: str, segments: pd.MultiIndex = keys) -> np.ndarray:
        """Values of ``kpi`` in ``label`` aligned with ``segments`` (NaN where no row)."""
        sel = actuals[(actuals["period"] == label) & (actuals["kpi"] == kpi)]
        s = pd.Series(pd.to_numeric(sel["value"], errors="coerce").to_numpy(dtype=float),
                      index=pd.MultiIndex.from_arrays([sel["manager_id"].astype(str), sel["segment"].astype(str)]))
        return s.reindex(segments).to_numpy(dtype=float)

    cur = grid.copy()
    for k in have:
        cur[k] = lookup(per.label, k)
    cur["segment_name"] = cur["segment"].map(lambda s: t(f"segment.{s}", language))
    if "sales" in have:
        totals = pd.MultiIndex.from_arrays([grid["manager_id"], ["all"] * len(grid)])
        den = pd.Series(lookup(per.label, "sales", totals), index=cur.index)
        cur["sales_share"] = cur["sales"] / den.where(den > 0)
        for key, lab in (("prev", per.previous().label), ("yoy", per.year_ago().label)):
            b = pd.Series(lookup(lab, "sales"), index=cur.index)
            cur[f"sales_{key}_pct"] = (cur["sales"] - b) / b.where(b > 0)
    no_base = cur[have].isna()
    sep = "、" if language == "zh" else ", "
    missing = [sep.join(KPIS[k].zh if language == "zh" else KPIS[k].en for k in have if row[k])
               for _, row in no_base.iterrows()]
    cur["note"] = [t("review.reason.segment_no_data", language, kpis=m) if m else "" for m in missing]
    extra = [c for c in ("sales_share", "sales_prev_pct", "sales_yoy_pct") if c in cur.columns]
    return cur[["manager_id", "segment", "segment_name", *have, *extra, "note"]]


def product_lines(
    orders: pd.DataFrame,
    period: ReviewPeriod | str,
    *,
    managers: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Sales per manager × product line (重点品牌), with their change.

    From the order lines (``date, manager_id, amount, product_line``)::

        sales       = Σ amount of the manager's order lines dated in the period
        share       = sales ÷ the manager's sales in the period
        previous    = the same sum in the previous period; year_ago: a year earlier
        change_prev_pct = sales ÷ previous − 1   (previous > 0, else NaN)
        change_yoy_pct  = sales ÷ year_ago − 1   (year_ago > 0, else NaN)
        rank        = 1 for the line with the most sales this period (ties: name order)

    A line the manager did not sell in a period in which they sold something counts 0
    there (a real zero: the line was not sold); a period with no order at all is NaN
    ("no data": not employed, or no sales recorded).  Lines sold only in the comparison
    periods appear with this period's ``sales`` 0.
    """
    per = _period(period)
    _require(orders, ("date", "manager_id", "amount", "product_line"), "orders")
    try:
        dates = pd.to_datetime(orders["date"])
    except (TypeError, ValueError):
        raise input_error("orders", "column date holds values that are not dates", where="column date",
                          fix="write dates as YYYY-MM-DD") from None
    o = pd.DataFrame({"manager_id": orders["manager_id"].astype(str), "line": orders["product_line"].astype(str),
                      "amount": pd.to_numeric(orders["amount"], errors="coerce"), "date": dates})
    if managers is not None:
        o = o[o["manager_id"].isin([str(m) for m in managers])]

    def sums(p: ReviewPeriod) -> pd.Series:
        inp = o[(o["date"] >= p.start) & (o["date"] < p.end_exclusive)]
        return inp.groupby(["manager_id", "line"])["amount"].sum()

    cur, prev, yoy = sums(per), sums(per.previous()), sums(per.year_ago())
    idx = cur.index.union(prev.index).union(yoy.index)

    def aligned(s: pd.Series) -> pd.Series:
        """0 for a line not sold by a manager who sold something that period; NaN if nothing at all."""
        sold = set(s.index.get_level_values(0))
        zero = pd.Series([0.0 if m in sold else np.nan for m in idx.get_level_values(0)], index=idx)
        return s.reindex(idx).fillna(zero)

    out = pd.DataFrame({"sales": aligned(cur), "previous": aligned(prev), "year_ago": aligned(yoy)},
                       index=idx).reset_index()
    out = out.rename(columns={"line": "product_line"})
    if out.empty:
        return pd.DataFrame(columns=["manager_id", "product_line", "sales", "share", "previous", "year_ago",
                                     "change_prev_pct", "change_yoy_pct", "rank"])
    total = out.groupby("manager_id")["sales"].transform("sum")
    out["share"] = out["sales"] / total.where(total > 0)
    out["change_prev_pct"] = out["sales"] / out["previous"].where(out["previous"] > 0) - 1
    out["change_yoy_pct"] = out["sales"] / out["year_ago"].where(out["year_ago"] > 0) - 1
    out = out.sort_values(["manager_id", "sales", "product_line"], ascending=[True, False, True], kind="stable")
    out["rank"] = out.groupby("manager_id").cumcount() + 1
    cols = ["manager_id", "product_line", "sales", "share", "previous", "year_ago", "change_prev_pct",
            "change_yoy_pct", "rank"]
    return out[cols].reset_index(drop=True)


# =========================================================================== strengths / weaknesses


def assess(
    actuals: pd.DataFrame,
    company: pd.DataFrame,
    library: Library,
    period: ReviewPeriod | str,
    *,
    targets: pd.DataFrame | None = None,
    indicators: Sequence[str] | None = None,
    managers: Sequence[str] | None = None,
    fractions: Mapping[str, float] | pd.Series | None = None,
    rule: FindingRule = FindingRule(),
    language: str = "zh",
) -> pd.DataFrame:
    """Every manager × indicator judged by the :class:`FindingRule` (the audit trail).

    Columns: ``manager_id, indicator, name, family, unit, higher_is_better, value, base,
    fraction, prorated, target, attainment, benchmark, benchmark_kind`` (``target`` |
    ``company_median``), ``basis`` (``target`` | ``quartile`` | ``median``), ``score``
    (the notability score ``s`` of the rule), ``status`` (``strength`` | ``weakness`` |
    ``neutral`` | ``not_judged``), ``position``, ``change_yoy``, ``change_yoy_pct``,
    ``change_unit``, ``reason`` (why not judged, in ``language``) and ``text`` (the
    sentence with the numbers, for strengths and weaknesses).
    """
    language = _language(language)
    per = _period(period)
    hz = horizontal_comparison(actuals, company, library, per, indicators=indicators, managers=managers,
                               fractions=fractions, language=language)
    vt = vertical_comparison(actuals, library, per, indicators=indicators, managers=managers, language=language)
    tg = _targets(targets, library)
    tg = tg[tg["period"] == per.label].set_index(["manager_id", "indicator"])["target"]
    out = hz[["manager_id", "indicator", "name", "family", "unit", "higher_is_better", "value", "base", "fraction",
              "prorated", "company_median", "company_q25", "company_q75", "company_managers", "position", "note"]].copy()
    out = out.merge(vt[["manager_id", "indicator", "change_yoy", "change_yoy_pct"]], on=["manager_id", "indicator"],
                    how="left", validate="one_to_one")
    keys = list(zip(out["manager_id"], out["indicator"]))
    out["target"] = np.array([tg.get(k, np.nan) for k in keys], dtype=float)
    n = len(out)
    att = np.full(n, np.nan)
    att_reason = np.full(n, "", dtype=object)
    for hib in (True, False):
        m = (out["higher_is_better"] == hib).to_numpy() & out["target"].notna().to_numpy()
        if m.any():
            a, r = attainment_detail(out.loc[m, "value"].to_numpy(), out.loc[m, "target"].to_numpy(), hib)
            att[m], att_reason[m] = a, r
    out["attainment"] = att
    score = np.full(n, np.nan)
    basis = np.full(n, "", dtype=object)
    reason = np.full(n, "", dtype=object)
    value = out["value"].to_numpy(dtype=float)
    med = out["company_median"].to_numpy(dtype=float)
    q25, q75 = out["company_q25"].to_numpy(dtype=float), out["company_q75"].to_numpy(dtype=float)
    peers = out["company_managers"].to_numpy(dtype=float)
    hibs = out["higher_is_better"].to_numpy(dtype=bool)
    units = out["unit"].to_numpy()
    has_target = out["target"].notna().to_numpy()
    base = out["base"].to_numpy(dtype=float)
    for i in range(n):
        v = value[i]
        if math.isnan(v):
            reason[i] = out["note"].iat[i]
            continue
        if not math.isnan(base[i]) and base[i] < rule.min_base:
            reason[i] = t("review.reason.small_base", language, n=f"{base[i]:g}", min=f"{rule.min_base:g}")
            continue
        if has_target[i]:
            basis[i] = "target"
            if math.isnan(att[i]):
                reason[i] = t(f"review.reason.{_ATTAINMENT_REASONS.get(att_reason[i], 'zero_target')}", language)
            else:
                score[i] = (att[i] - 1.0) / rule.target_margin
            continue
        if math.isnan(med[i]):
            reason[i] = t("review.reason.no_company", language)
            continue
        if not math.isnan(peers[i]) and peers[i] < rule.min_peers:
            reason[i] = t("review.reason.few_peers", language, n=rule.min_peers)
            continue
        sign = 1.0 if hibs[i] else -1.0
        d = sign * (v - med[i])
        good = (q75[i] - med[i]) if hibs[i] else (med[i] - q25[i])
        bad = (med[i] - q25[i]) if hibs[i] else (q75[i] - med[i])
        spread = good if d > 0 else bad
        if d == 0 and not math.isnan(q25[i]) and not math.isnan(q75[i]):
            basis[i], score[i] = "quartile", 0.0
        elif not math.isnan(spread) and spread > 0:
            basis[i], score[i] = "quartile", d / spread
        else:
            basis[i] = "median"
            if units[i] == "ratio":
                score[i] = d * 100 / rule.pp_threshold
            elif units[i] in ("points", "score"):
                score[i] = d / rule.points_threshold
            elif med[i] > 0:
                score[i] = d / med[i] / rule.relative_threshold
            else:
                basis[i] = ""
                reason[i] = t("review.reason.median_not_positive", language)
    out["score"] = np.round(score, _EPS_DIGITS)
    out["basis"] = basis
    out["benchmark_kind"] = np.where(has_target, "target", "company_median")
    out["benchmark"] = np.where(has_target, out["target"], out["company_median"])
    s = out["score"]
    out["status"] = np.select([s.isna(), s >= 1, s <= -1], ["not_judged", "strength", "weakness"], "neutral")
    out["reason"] = reason
    out["change_unit"] = out["unit"].map(_change_unit)
    out["text"] = [_sentence(r, language) if r["status"] in ("strength", "weakness") else ""
                   for _, r in out.iterrows()]
    cols = ["manager_id", "indicator", "name", "family", "unit", "higher_is_better", "value", "base", "fraction",
            "prorated", "target", "attainment", "benchmark", "benchmark_kind", "basis", "score", "status", "position", "change_yoy",
            "change_yoy_pct", "change_unit", "reason", "text"]
    return out[cols]


def _mag(diff: float, base: float, unit: str, language: str) -> str:
    """Size of a gap in words: percentage points, points, or % of the benchmark."""
    if unit == "ratio":
        return t("review.mag.pp", language, x=_pp(abs(diff) * 100, sign=False))
    if unit in ("points", "score"):
        return t("review.mag.pts", language, x=f"{abs(diff):.1f}")
    if base > 0:
        return f"{abs(diff) / base:.1%}"
    return fmt(abs(diff), unit, language)


def _pp(x: float, sign: bool = True) -> str:
    """Percentage points with one decimal, two when below 0.1 (market shares move little)."""
    d = 2 if 0 < abs(x) < 0.095 else 1
    return f"{x:+.{d}f}" if sign else f"{x:.{d}f}"


def change_text(change: float, change_pct: float, unit: str, language: str = "zh", words: bool = False) -> str:
    """A change as text: ``+1.3 个百分点`` / ``+1.3 pp`` for ratios (``change`` already in
    points), ``+2.0 分`` / ``+2.0 points`` for points and scores, ``+5.2%`` for money and
    counts (``+1,200`` when the relative change is undefined); NaN → "无数据" / "no data".
    ``words=True`` uses the wording of the sentences ("points" for pp in English)."""
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return t("report.no_data", language)
    if unit == "ratio" or unit == "pp":
        return t("review.mag.pp" if words else "review.fmt.pp", language, x=_pp(change))
    if unit in ("points", "score"):
        return t("review.mag.pts" if words else "review.fmt.pts", language, x=f"{change:+.1f}")
    if change_pct is not None and not (isinstance(change_pct, float) and math.isnan(change_pct)):
        return f"{change_pct:+.1%}"
    return f"{change:+,.0f}"


def _sentence(r: Mapping[str, Any], language: str) -> str:
    """One strength or weakness in words, with the numbers."""
    unit, v, b = r["unit"], float(r["value"]), float(r["benchmark"])
    name = r["name"] + ("" if r["higher_is_better"] else t("review.sentence.lower_better", language))
    diff = v - b
    direction = "above" if diff > 0 else ("below" if diff < 0 else "equal")
    text = t(f"review.sentence.{direction}", language, name=name, value=fmt(v, unit, language),
             bench=t(f"review.bench.{r['benchmark_kind']}", language), bench_value=fmt(b, unit, language),
             gap=_mag(diff, b, unit, language))
    if r["benchmark_kind"] == "target" and r["higher_is_better"] and np.isfinite(r["attainment"]):
        text += t("review.sentence.attainment", language, att=f"{r['attainment']:.1%}")
    if r["basis"] == "quartile" and r["position"] in ("top_quartile", "bottom_quartile"):
        text += t(f"review.sentence.{r['position']}", language)
    if r["benchmark_kind"] == "company_median" and r["prorated"]:
        text += t("review.sentence.prorated", language, share=f"{r['fraction']:.0%}")
    if not math.isnan(r["change_yoy"]):
        text += t("review.sentence.yoy", language,
                  chg=change_text(r["change_yoy"], r["change_yoy_pct"], unit, language, words=True))
    return text + t("review.sentence.end", language)


def select_findings(assessment: pd.DataFrame, max_items: int = 3) -> pd.DataFrame:
    """Strengths and weaknesses kept per manager from an :func:`assess` table.

    Strengths: ``status == "strength"``, largest score first; weaknesses: lowest score
    first; at most ``max_items`` of each per manager.  Ties (equal scores after rounding
    to 9 decimals) keep the order of the indicators in ``assessment`` (library order).
    Adds ``kind`` (``strength`` | ``weakness``) and ``rank`` (1, 2, …).
    """
    a = assessment.copy()
    a["_order"] = a.groupby("manager_id").cumcount()
    parts = []
    for kind, asc in (("strength", False), ("weakness", True)):
        sel = a[a["status"] == kind].copy()
        sel["_key"] = sel["score"] if asc else -sel["score"]
        sel = sel.sort_values(["manager_id", "_key", "_order"], kind="stable")
        sel = sel.groupby("manager_id", sort=False).head(max_items)
        sel["kind"] = kind
        sel["rank"] = sel.groupby("manager_id").cumcount() + 1
        parts.append(sel)
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["manager_id", "kind", "rank"], key=lambda c: c.map({"strength": 0, "weakness": 1})
                          if c.name == "kind" else c, kind="stable")
    cols = ["manager_id", "kind", "rank", *[c for c in assessment.columns if c not in ("manager_id",)]]
    return out[cols].reset_index(drop=True)


def strengths_weaknesses(
    actuals: pd.DataFrame,
    company: pd.DataFrame,
    library: Library,
    period: ReviewPeriod | str,
    *,
    targets: pd.DataFrame | None = None,
    indicators: Sequence[str] | None = None,
    managers: Sequence[str] | None = None,
    fractions: Mapping[str, float] | pd.Series | None = None,
    rule: FindingRule = FindingRule(),
    language: str = "zh",
) -> pd.DataFrame:
    """Strengths and weaknesses per manager, each with a sentence with the numbers.

    :func:`assess` (the :class:`FindingRule`) then :func:`select_findings`.  Example
    sentences: "客户满意度 92.3%，高于公司中位数（84.2%）8.1 个百分点，处于公司前 25%。" /
    "Customer satisfaction (CSAT) 92.3%, 8.1 points above the company median (84.2%), in
    the company's top quartile."  A lower complaint rate is a strength.
    """
    a = assess(actuals, company, library, period, targets=targets, indicators=indicators, managers=managers,
               fractions=fractions, rule=rule, language=language)
    return select_findings(a, rule.max_items)


# =========================================================================== improvement plan


def _action(indicator: str, family: str, language: str) -> str:
    key = f"review.action.{indicator}"
    return t(key if key in catalog() else f"review.action.family.{family}", language)


def improvement_plan(
    findings: pd.DataFrame,
    period: ReviewPeriod | str,
    *,
    owners: Mapping[str, str] | pd.Series | None = None,
    language: str = "zh",
) -> pd.DataFrame:
    """The improvement plan (改进计划) prefilled from the weaknesses of ``findings``.

    One row per weakness (:func:`strengths_weaknesses` order)::

        gap      = benchmark − value   (higher is better)   the improvement needed to
                 = value − benchmark   (lower is better)    reach the benchmark (> 0)
                   × 100 for ratio indicators (percentage points)
        gap_pct  = gap ÷ benchmark for money and counts (benchmark > 0)
        due      = last day of the next period (2026Q3 → 2026-12-31; 2026-09 → 2026-10-31)

    ``benchmark`` is the target when one was given, else the company median (pro-rated
    for part-period managers).  ``action`` comes from the catalog: the indicator's own
    action if there is one (churn → "对近90天未下单的老客户逐一回访…"), else its family's.
    ``owner`` is the manager (``owners``: manager_id → name; the id when not given).
    """
    language = _language(language)
    per = _period(period)
    _require(findings, ("manager_id", "kind", "indicator", "name", "family", "unit", "higher_is_better", "value",
                        "benchmark", "benchmark_kind"), "findings")
    w = findings[findings["kind"] == "weakness"].copy()
    names = {} if owners is None else {str(k): str(v) for k, v in dict(owners).items()}
    sign = np.where(w["higher_is_better"].astype(bool), 1.0, -1.0)
    gap = sign * (w["benchmark"].astype(float) - w["value"].astype(float))
    w["gap"] = np.where(w["unit"] == "ratio", gap * 100, gap)
    w["gap_pct"] = np.where(w["unit"].isin(ADDITIVE_UNITS) & (w["benchmark"] > 0), gap / w["benchmark"].where(
        w["benchmark"] > 0), np.nan)
    w["gap_unit"] = w["unit"].map(_change_unit)
    w["action"] = [_action(i, f, language) for i, f in zip(w["indicator"], w["family"])]
    w["owner"] = w["manager_id"].map(lambda m: names.get(str(m), str(m)))
    w["due"] = per.shift(1).end.date().isoformat()
    cols = ["manager_id", "owner", "indicator", "name", "family", "unit", "value", "benchmark", "benchmark_kind",
            "gap", "gap_pct", "gap_unit", "action", "due"]
    return w[cols].reset_index(drop=True)


def _gap_text(gap: float, gap_pct: float, unit: str, language: str) -> str:
    if unit == "ratio":
        return t("review.fmt.pp", language, x=_pp(gap, sign=False))
    if unit in ("points", "score"):
        return t("review.fmt.pts", language, x=f"{gap:.1f}")
    base = fmt(gap, unit, language)
    return base if math.isnan(gap_pct) else f"{base} ({gap_pct:.1%})"


# =========================================================================== monthly summary


def _kpi(actuals: pd.DataFrame, manager: str, label: str, kpi: str, segment: str = "all") -> float:
    sel = actuals[(actuals["manager_id"].astype(str) == manager) & (actuals["period"] == label)
                  & (actuals["kpi"] == kpi) & (actuals["segment"] == segment)]
    return float(sel["value"].iloc[0]) if len(sel) else float("nan")


def _rel_change(v: float, base: float) -> float:
    return (v - base) / base if base > 0 and not math.isnan(v) else float("nan")


def _chg(v: float, base: float, unit: str, language: str) -> str:
    """Change text of v against base (NaN-safe)."""
    if math.isnan(v) or math.isnan(base):
        return t("report.no_data", language)
    d = (v - base) * (100 if unit == "ratio" else 1)
    return change_text(d, _rel_change(v, base) if unit in ADDITIVE_UNITS else float("nan"), unit, language)


def _num(v: float, unit: str, language: str) -> str:
    return t("report.no_data", language) if math.isnan(v) else fmt(v, unit, language)


@dataclass
class _Parts:
    """Everything the summary of one manager needs (computed once per team)."""

    period: ReviewPeriod
    language: str
    library: Library
    actuals: pd.DataFrame
    company: pd.DataFrame
    managers: list[str]
    horizontal: pd.DataFrame
    findings: pd.DataFrame
    plan: pd.DataFrame
    products: pd.DataFrame | None
    targets: pd.DataFrame
    fractions: pd.Series


def _summary(parts: _Parts, manager_id: str, name: str, top_lines: int, placeholder_growth: float,
             heading_level: int | None) -> str:
    p, lang, a = parts.period, parts.language, parts.actuals
    cur, prev, yoy = p.label, p.previous().label, p.year_ago().label
    unit_word = t(f"review.summary.unit.{p.freq}", lang)

    def head(key: str) -> str:
        text = t(key, lang)
        return f"{'#' * heading_level} {text}" if heading_level else f"**{text}**"

    title = t(f"review.summary.title.{p.freq}", lang, name=escape(name), id=escape(manager_id), period=cur)
    lines: list[str] = [f"{'#' * heading_level} {title}" if heading_level else f"**{title}**", "",
                        f"*{t('review.summary.draft_note', lang)}*", ""]
    f = parts.findings[parts.findings["manager_id"] == manager_id]
    strengths = f[f["kind"] == "strength"]
    if len(strengths):
        items = ("" if lang == "zh" else " ").join(escape(x) for x in strengths["text"])
        lines.append(t("review.summary.highlights", lang, items=items))
    else:
        lines.append(t("review.summary.no_highlights", lang))
    lines.append("")

    # 一、片区销售情况分析 — sales with both comparisons, target, peers, profit
    lines += [head("review.summary.s1"), ""]
    s, sp, sy = (_kpi(a, manager_id, lab, "sales") for lab in (cur, prev, yoy))
    lines.append("- " + t("review.summary.sales", lang, value=_num(s, "currency", lang),
                          prev_chg=_chg(s, sp, "currency", lang), prev=_num(sp, "currency", lang),
                          yoy_chg=_chg(s, sy, "currency", lang), yoy=_num(sy, "currency", lang), unit=unit_word))
    tg = parts.targets
    st = tg[(tg["manager_id"] == manager_id) & (tg["indicator"] == "sales") & (tg["period"] == cur)]
    if len(st):
        att, _ = attainment_detail(s, float(st["target"].iloc[0]), True)
        lines.append("- " + t("review.summary.sales_target", lang, target=fmt(float(st["target"].iloc[0]),
                              "currency", lang), att=_num(att, "ratio", lang)))
    hz = parts.horizontal
    hs = hz[(hz["manager_id"] == manager_id) & (hz["indicator"] == "sales")]
    if len(hs):
        r = hs.iloc[0]
        pos = r["position_text"] or t("report.no_data", lang)
        note = t("review.sentence.prorated", lang, share=f"{r['fraction']:.0%}") if r["prorated"] else ""
        lines.append("- " + t("review.summary.sales_peers", lang, team=_num(r["team_mean"], "currency", lang),
                              median=_num(r["company_median"], "currency", lang), position=pos, note=note))
    pr = _kpi(a, manager_id, cur, "profit")
    mg, mgp, mgy = (_kpi(a, manager_id, lab, "margin") for lab in (cur, prev, yoy))
    if not (math.isnan(pr) and math.isnan(mg)):
        lines.append("- " + t("review.summary.profit", lang, profit=_num(pr, "currency", lang),
                              margin=_num(mg, "ratio", lang), prev_chg=_chg(mg, mgp, "ratio", lang),
                              yoy_chg=_chg(mg, mgy, "ratio", lang), unit=unit_word))
    lines.append("")

    # 二、重点品牌分析 — top product lines and their change
    lines += [head("review.summary.s2"), ""]
    if parts.products is None:
        lines.append("- " + t("review.summary.no_order_data", lang))
    else:
        pl = parts.products[(parts.products["manager_id"] == manager_id) & (parts.products["sales"] > 0)]
        if pl.empty:
            lines.append("- " + t("review.summary.no_orders", lang))
        for r in pl.head(top_lines).itertuples(index=False):
            lines.append("- " + t("review.summary.line", lang, line=escape(r.product_line),
                                  sales=fmt(r.sales, "currency", lang), share=_num(r.share, "ratio", lang),
                                  prev_chg=_chg(r.sales, r.previous, "currency", lang),
                                  yoy_chg=_chg(r.sales, r.year_ago, "currency", lang), unit=unit_word))
        rest = pl.iloc[top_lines:]
        if len(rest):
            key = "review.summary.other_lines" if len(rest) > 1 else "review.summary.other_line"
            lines.append("- " + t(key, lang, n=len(rest),
                                  sales=fmt(float(rest["sales"].sum()), "currency", lang),
                                  share=_num(float(rest["share"].sum()), "ratio", lang)))
    lines += [f"*{t('review.summary.lines_prompt', lang)}*", ""]

    # 三、市场及客户分析 — new/lost customers, segment mix, market share, service
    lines += [head("review.summary.s3"), ""]
    new, lost, start = (_kpi(a, manager_id, cur, k) for k in ("new_customers", "lost_customers", "customers_start"))
    ret, rety = _kpi(a, manager_id, cur, "retention_rate"), _kpi(a, manager_id, yoy, "retention_rate")
    if not (math.isnan(new) and math.isnan(lost)):
        lines.append("- " + t("review.summary.customers", lang, new=_num(new, "count", lang),
                              lost=_num(lost, "count", lang), start=_num(start, "count", lang),
                              retention=_num(ret, "ratio", lang), yoy_chg=_chg(ret, rety, "ratio", lang)))
    if not math.isnan(s) and s > 0:
        items = []
        for seg in SEGMENTS:
            v = _kpi(a, manager_id, cur, "sales", seg)
            v = 0.0 if math.isnan(v) else v
            items.append(t("review.summary.mix_item", lang, segment=t(f"segment.{seg}", lang),
                           sales=fmt(v, "currency", lang), share=fmt(v / s, "ratio", lang)))
        lines.append("- " + t("review.summary.mix", lang, items=("、" if lang == "zh" else ", ").join(items)))
    ms, msp, msy = (_kpi(a, manager_id, lab, "market_share") for lab in (cur, prev, yoy))
    if not math.isnan(ms):
        lines.append("- " + t("review.summary.market", lang, share=f"{ms:.2%}", prev_chg=_chg(ms, msp, "ratio", lang),
                              yoy_chg=_chg(ms, msy, "ratio", lang), unit=unit_word))
    cs, cr = _kpi(a, manager_id, cur, "csat"), _kpi(a, manager_id, cur, "complaint_rate")
    if not (math.isnan(cs) and math.isnan(cr)):
        lines.append("- " + t("review.summary.service", lang, csat=_num(cs, "ratio", lang),
                              complaints=_num(cr, "ratio", lang)))
    lines.append("")

    # 四、存在问题和建议 — the weaknesses with their numbers and a suggestion each
    lines += [head("review.summary.s4"), ""]
    weak = f[f["kind"] == "weakness"]
    plan = parts.plan[parts.plan["manager_id"] == manager_id]
    actions = dict(zip(plan["indicator"], plan["action"]))
    if weak.empty:
        lines.append("- " + t("review.summary.no_problems", lang))
    for r in weak.itertuples(index=False):
        lines.append("- " + t("review.summary.problem", lang, problem=escape(r.text),
                              action=escape(actions.get(r.indicator, _action(r.indicator, r.family, lang)))))
    lines += [f"*{t('review.summary.problems_prompt', lang)}*", ""]

    # 五、下月工作计划 — next period's targets decomposed by segment, or a stated placeholder
    lines += [head(f"review.summary.s5.{p.freq}"), ""]
    nxt = p.shift(1).label
    mine = tg[(tg["manager_id"] == manager_id) & (tg["period"] == nxt)]
    if mine.empty:
        lines.append("- " + t("review.summary.no_targets", lang, next=t(f"review.summary.next.{p.freq}", lang)))
        for ind in ("sales", "new_customers"):
            if ind not in parts.library or parts.library[ind].kpi is None:
                continue
            base = _kpi(a, manager_id, cur, parts.library[ind].kpi, parts.library[ind].segment)
            if math.isnan(base) or base <= 0:  # growth on nothing is no plan
                continue
            unit = parts.library[ind].unit
            value = base * (1 + placeholder_growth)
            value = math.ceil(value - 1e-9) if unit == "count" else round(value)  # a count target rounds up
            lines.append("- " + t("review.summary.placeholder", lang, name=escape(parts.library.name(ind, lang)),
                                  base=fmt(base, unit, lang), growth=f"{placeholder_growth:.0%}",
                                  value=fmt(value, unit, lang)))
    for r in mine.itertuples(index=False):
        ind = parts.library[r.indicator]
        nm, unit = escape(parts.library.name(r.indicator, lang)), ind.unit
        split = None
        if unit in ADDITIVE_UNITS and ind.segment == "all" and ind.kpi is not None and r.target >= 0:
            w = pd.Series({seg: _kpi(a, manager_id, cur, ind.kpi, seg) for seg in SEGMENTS}).fillna(0.0)
            if (w >= 0).all() and w.sum() > 0:
                whole = float(r.target).is_integer()
                split = apportion(int(r.target) if whole else float(r.target), w, integer=whole,
                                  source="targets")
        if split is None:
            lines.append("- " + t("review.summary.target_line", lang, name=nm, target=fmt(r.target, unit, lang)))
        else:
            items = ("、" if lang == "zh" else ", ").join(
                t("review.summary.split_item", lang, segment=t(f"segment.{seg}", lang), value=fmt(float(v), unit, lang))
                for seg, v in split.items())
            lines.append("- " + t("review.summary.target_split", lang, name=nm, target=fmt(r.target, unit, lang),
                                  items=items))
    for r in plan.itertuples(index=False):
        lines.append("- " + t("review.summary.action", lang, name=escape(r.name), action=escape(r.action), due=r.due))
    return "\n".join(lines).rstrip() + "\n"


def _parts(actuals: pd.DataFrame, company: pd.DataFrame, library: Library, period: ReviewPeriod | str, *,
           orders: pd.DataFrame | None, targets: pd.DataFrame | None, managers: Sequence[str] | None,
           fractions: Mapping[str, float] | pd.Series | None, indicators: Sequence[str] | None,
           owners: Mapping[str, str] | None, rule: FindingRule, language: str) -> _Parts:
    language = _language(language)
    per = _period(period)
    _check_actuals(actuals, per)
    mgrs = _managers(actuals, per, managers)
    kw = dict(indicators=indicators, managers=mgrs, fractions=fractions, language=language)
    hz = horizontal_comparison(actuals, company, library, per, **kw)
    findings = strengths_weaknesses(actuals, company, library, per, targets=targets, rule=rule, **kw)
    plan = improvement_plan(findings, per, owners=owners, language=language)
    products = None if orders is None else product_lines(orders, per, managers=mgrs)
    return _Parts(per, language, library, actuals, company, mgrs, hz, findings, plan, products,
                  _targets(targets, library), _fractions(fractions, mgrs))


def monthly_summary(
    manager_id: str,
    actuals: pd.DataFrame,
    company: pd.DataFrame,
    library: Library,
    period: ReviewPeriod | str,
    *,
    orders: pd.DataFrame | None = None,
    targets: pd.DataFrame | None = None,
    name: str | None = None,
    managers: Sequence[str] | None = None,
    fractions: Mapping[str, float] | pd.Series | None = None,
    indicators: Sequence[str] | None = None,
    rule: FindingRule = FindingRule(),
    language: str = "zh",
    top_lines: int = 3,
    placeholder_growth: float = 0.05,
    heading_level: int | None = None,
) -> str:
    """Draft of a manager's monthly (or quarterly) work summary, as Markdown.

    The structure the seed article recommends (客户经理如何提高月度总结的质量, 004):

    0. highlights — the strengths of :func:`strengths_weaknesses` (总体评价);
    1. 片区销售情况分析 — sales this period, change on the previous period (环比) and on the
       same period last year (同比), target attainment when a sales target is given,
       team average, company median and position (横向), profit and margin;
    2. 重点品牌分析 — the ``top_lines`` product lines by sales (:func:`product_lines`) with
       their share and change, the rest summed; a prompt for customer feedback;
    3. 市场及客户分析 — new / lost customers, customers at the start, retention (同比), sales
       by segment (mix), market share with its change, CSAT and complaint rate;
    4. 存在问题和建议 — every weakness with its numbers and a suggested action;
    5. 下月工作计划 (下季度 for a quarter) — the targets of the next period for the manager
       (``targets`` rows with the next period's label); money and count targets of
       all-segment indicators are decomposed by segment in proportion to this period's
       values (:func:`helpers.core.targets.apportion`, largest remainder for whole numbers).
       Without targets: a placeholder of this period's sales and new customers plus
       ``placeholder_growth`` (counts rounded up, money to whole units), stated as a
       placeholder, not a target; then the
       improvement actions with their due dates.

    Numbers missing in the data read "无数据" / "no data".  User strings (names, product
    lines) are HTML-escaped.  ``heading_level`` None writes section titles in bold,
    a number writes Markdown headings of that level.  ``managers`` is the team
    (for the team average; default: everyone in ``actuals`` in the period).
    """
    parts = _parts(actuals, company, library, period, orders=orders, targets=targets, managers=managers,
                   fractions=fractions, indicators=indicators, owners=None, rule=rule, language=language)
    if str(manager_id) not in parts.managers:
        raise input_error("manager_id", f"manager {manager_id!r} is not among the managers reviewed",
                          fix=f"use one of: {', '.join(parts.managers)}")
    return _summary(parts, str(manager_id), name or str(manager_id), top_lines, placeholder_growth, heading_level)


# =========================================================================== TeamContext layer


def review_library(ctx: TeamContext, params_file: str | Path | None = None) -> Library:
    """The indicator library named by the run's params (``indicators:``, relative to the params file).

    ``params_file`` is the notebook's ``params_file`` parameter; without it the
    context's ``params_file`` attribute is used when present.
    """
    pf = params_file or getattr(ctx, "params_file", None)
    if not pf:
        raise input_error("review_library", "the params file is not known",
                          fix="pass params_file (the notebook parameter) or a loaded library")
    return load_library(resolve(pf, ctx.params.indicators))


def _owners(ctx: TeamContext) -> dict[str, str]:
    return {str(m): str(n) for m, n in zip(ctx.roster["manager_id"], ctx.roster["name"])}


def _fractions_of(ctx: TeamContext) -> pd.Series:
    return pd.Series(ctx.roster["fraction"].to_numpy(dtype=float), index=ctx.roster["manager_id"].astype(str))


def vertical_for(ctx: TeamContext, library: Library, indicators: Sequence[str] | None = None) -> pd.DataFrame:
    """:func:`vertical_comparison` for the team's managers and period."""
    return vertical_comparison(ctx.actuals, library, ctx.period, indicators=indicators, managers=ctx.manager_ids,
                               language=ctx.language)


def horizontal_for(ctx: TeamContext, library: Library, indicators: Sequence[str] | None = None) -> pd.DataFrame:
    """:func:`horizontal_comparison` for the team (benchmarks pro-rated by the roster's fraction)."""
    return horizontal_comparison(ctx.actuals, ctx.company, library, ctx.period, indicators=indicators,
                                 managers=ctx.manager_ids, fractions=_fractions_of(ctx), language=ctx.language)


def segments_for(ctx: TeamContext) -> pd.DataFrame:
    """:func:`segment_breakdown` for the team."""
    return segment_breakdown(ctx.actuals, ctx.period, managers=ctx.manager_ids, language=ctx.language)


def findings_for(ctx: TeamContext, library: Library, targets: pd.DataFrame | None = None,
                 indicators: Sequence[str] | None = None, rule: FindingRule = FindingRule()) -> pd.DataFrame:
    """:func:`strengths_weaknesses` for the team."""
    return strengths_weaknesses(ctx.actuals, ctx.company, library, ctx.period, targets=targets,
                                indicators=indicators, managers=ctx.manager_ids, fractions=_fractions_of(ctx),
                                rule=rule, language=ctx.language)


def plan_for(ctx: TeamContext, library: Library, targets: pd.DataFrame | None = None,
             indicators: Sequence[str] | None = None, rule: FindingRule = FindingRule()) -> pd.DataFrame:
    """:func:`improvement_plan` for the team (owners = the roster's names)."""
    return improvement_plan(findings_for(ctx, library, targets, indicators, rule), ctx.period, owners=_owners(ctx),
                            language=ctx.language)


def summary_for(ctx: TeamContext, manager_id: str, library: Library, targets: pd.DataFrame | None = None,
                indicators: Sequence[str] | None = None, rule: FindingRule = FindingRule()) -> str:
    """:func:`monthly_summary` for one manager of the team."""
    return team_review(ctx, library=library, targets=targets, indicators=indicators, rule=rule).summary(manager_id)


@dataclass
class TeamReview:
    """Everything of the review of one team and period, computed once (:func:`team_review`).

    Frames as returned by the pure functions: ``vertical``, ``horizontal``,
    ``segments``, ``products``, ``assessment`` (every manager × indicator judged),
    ``findings`` (strengths and weaknesses kept), ``plan``.
    """

    period: ReviewPeriod
    language: str
    names: dict[str, str]
    vertical: pd.DataFrame
    horizontal: pd.DataFrame
    segments: pd.DataFrame
    products: pd.DataFrame
    assessment: pd.DataFrame
    findings: pd.DataFrame
    plan: pd.DataFrame
    _parts: _Parts = field(repr=False)

    def t(self, key: str, **values: Any) -> str:
        return t(key, self.language, **values)

    def summary(self, manager_id: str, top_lines: int = 3, placeholder_growth: float = 0.05,
                heading_level: int | None = None) -> str:
        """The monthly-summary draft of one manager (Markdown text)."""
        if manager_id not in self.names:
            raise input_error("manager_id", f"manager {manager_id!r} is not in this team",
                              fix=f"use one of: {', '.join(self.names)}")
        return _summary(self._parts, manager_id, self.names[manager_id], top_lines, placeholder_growth,
                        heading_level)


def team_review(
    ctx: TeamContext,
    *,
    library: Library | None = None,
    params_file: str | Path | None = None,
    targets: pd.DataFrame | None = None,
    indicators: Sequence[str] | None = None,
    rule: FindingRule = FindingRule(),
) -> TeamReview:
    """The whole review of ``ctx``'s team and period, for a notebook (one call).

    ``library``: the indicator library (else loaded from the params via
    :func:`review_library`); ``targets``: optional ``manager_id, indicator, period,
    target`` (user-supplied, or from the target-setting step), used for attainment and
    next period's plan.  Benchmarks are pro-rated by the roster's ``fraction``.
    """
    lib = library or review_library(ctx, params_file)
    owners = _owners(ctx)
    fr = _fractions_of(ctx)
    kw: dict[str, Any] = dict(indicators=indicators, managers=ctx.manager_ids, language=ctx.language)
    assessment = assess(ctx.actuals, ctx.company, lib, ctx.period, targets=targets, fractions=fr, rule=rule, **kw)
    findings = select_findings(assessment, rule.max_items)
    plan = improvement_plan(findings, ctx.period, owners=owners, language=ctx.language)
    orders = ctx.tables.get("orders")
    products = product_lines(orders, ctx.period, managers=ctx.manager_ids) if orders is not None else None
    hz = horizontal_comparison(ctx.actuals, ctx.company, lib, ctx.period, fractions=fr, **kw)
    parts = _Parts(ctx.period, ctx.language, lib, ctx.actuals, ctx.company, list(ctx.manager_ids), hz, findings,
                   plan, products, _targets(targets, lib), fr)
    return TeamReview(
        period=ctx.period, language=ctx.language, names=owners,
        vertical=vertical_comparison(ctx.actuals, lib, ctx.period, **kw),
        horizontal=hz,
        segments=segment_breakdown(ctx.actuals, ctx.period, managers=ctx.manager_ids, language=ctx.language),
        products=products if products is not None else pd.DataFrame(),
        assessment=assessment, findings=findings, plan=plan, _parts=parts,
    )


# --------------------------------------------------------------------------- report pieces


def _rows(df: pd.DataFrame, manager_id: str) -> pd.DataFrame:
    return df[df["manager_id"] == manager_id]


def vertical_table(rv: TeamReview, manager_id: str) -> Styler:
    """One manager's 纵向 table: this period, previous, change, year ago, change, note."""
    lang, p = rv.language, rv.period
    d = _rows(rv.vertical, manager_id)
    df = pd.DataFrame({
        rv.t("review.col.indicator"): d["name"],
        rv.t("review.col.current", period=p.label): [_num(v, u, lang) for v, u in zip(d["value"], d["unit"])],
        rv.t("review.col.previous", period=p.previous().label): [_num(v, u, lang) for v, u in zip(d["previous"], d["unit"])],
        rv.t("review.col.change_prev"): [change_text(c, q, u, lang) for c, q, u in
                                         zip(d["change_prev"], d["change_prev_pct"], d["unit"])],
        rv.t("review.col.year_ago", period=p.year_ago().label): [_num(v, u, lang) for v, u in zip(d["year_ago"], d["unit"])],
        rv.t("review.col.change_yoy"): [change_text(c, q, u, lang) for c, q, u in
                                        zip(d["change_yoy"], d["change_yoy_pct"], d["unit"])],
        t("col.note", lang): d["note"],
    })
    return table(df.reset_index(drop=True), None, lang)


def horizontal_table(rv: TeamReview, manager_id: str) -> Styler:
    """One manager's 横向 table: value, team average, company median, rank and position."""
    lang = rv.language
    d = _rows(rv.horizontal, manager_id)
    df = pd.DataFrame({
        rv.t("review.col.indicator"): d["name"],
        rv.t("review.col.value"): [_num(v, u, lang) for v, u in zip(d["value"], d["unit"])],
        rv.t("review.col.team_mean"): [_num(v, u, lang) for v, u in zip(d["team_mean"], d["unit"])],
        rv.t("review.col.vs_team"): [change_text(c, q, u, lang) for c, q, u in zip(d["vs_team"], d["vs_team_pct"], d["unit"])],
        rv.t("review.col.company_median"): [_num(v, u, lang) for v, u in zip(d["company_median"], d["unit"])],
        rv.t("review.col.vs_median"): [change_text(c, q, u, lang) for c, q, u in
                                       zip(d["vs_median"], d["vs_median_pct"], d["unit"])],
        rv.t("review.col.team_rank"): [rv.t("review.rank_of", rank=int(r), n=int(n)) if not math.isnan(r) else
                                       t("report.no_data", lang) for r, n in zip(d["team_rank"], d["team_size"])],
        rv.t("review.col.position"): d["position_text"],
        t("col.note", lang): d["note"],
    })
    return table(df.reset_index(drop=True), None, lang)


def segment_table(rv: TeamReview, manager_id: str) -> Styler:
    """One manager's KPIs by customer segment."""
    lang = rv.language
    d = _rows(rv.segments, manager_id)
    kpis = [c for c in d.columns if c in KPIS]
    df = pd.DataFrame({t("col.segment", lang): d["segment_name"]})
    units = {}
    for k in kpis:
        col = KPIS[k].zh if lang == "zh" else KPIS[k].en
        df[col] = d[k].to_numpy()
        units[col] = KPIS[k].unit
    if "sales_share" in d.columns:
        df[rv.t("review.col.sales_share")] = d["sales_share"].to_numpy()
        units[rv.t("review.col.sales_share")] = "ratio"
    return table(df.reset_index(drop=True), units, lang)


def findings_markdown(rv: TeamReview, manager_id: str) -> Markdown:
    """One manager's strengths and weaknesses as two Markdown lists (escaped)."""
    f = _rows(rv.findings, manager_id)
    if f.empty:
        return Markdown(rv.t("review.none_found"))
    out = []
    for kind, key in (("strength", "review.strengths"), ("weakness", "review.weaknesses")):
        sel = f[f["kind"] == kind]
        out.append(f"**{rv.t(key)}**\n")
        out += [f"- {escape(x)}" for x in sel["text"]] or [f"- {rv.t('review.none')}"]
        out.append("")
    return Markdown("\n".join(out))


def plan_table(rv: TeamReview, manager_id: str) -> Styler | Markdown:
    """One manager's improvement plan: indicator, actual, benchmark, gap, action, owner, due."""
    lang = rv.language
    d = _rows(rv.plan, manager_id)
    if d.empty:
        return Markdown(rv.t("review.summary.no_problems"))
    df = pd.DataFrame({
        rv.t("review.col.indicator"): d["name"],
        rv.t("review.col.value"): [_num(v, u, lang) for v, u in zip(d["value"], d["unit"])],
        rv.t("review.col.benchmark"): [f"{_num(v, u, lang)} ({rv.t('review.bench.' + k)})"
                                       for v, u, k in zip(d["benchmark"], d["unit"], d["benchmark_kind"])],
        rv.t("review.col.gap"): [_gap_text(g, q, u, lang) for g, q, u in zip(d["gap"], d["gap_pct"], d["unit"])],
        rv.t("review.col.action"): d["action"],
        rv.t("review.col.owner"): d["owner"],
        rv.t("review.col.due"): d["due"],
    })
    return table(df.reset_index(drop=True), None, lang)


def summary_markdown(rv: TeamReview, manager_id: str, heading_level: int | None = None) -> Markdown:
    """One manager's monthly-summary draft, ready to display."""
    return Markdown(rv.summary(manager_id, heading_level=heading_level))
