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
  manager × indicator, :func:`select_findings` keeps the most notable ones
  (:func:`helpers.present.review.strengths_weaknesses` writes a sentence with the
  numbers for each, in the report's language).
* **Improvement plan** — :func:`improvement_plan`: one row per weakness with the gap,
  a concrete action from the message catalog, the owner and the due date.
* **Monthly-summary draft** — :func:`helpers.present.review.monthly_summary`: the five
  sections the seed article recommends (片区销售情况分析、重点品牌分析、市场及客户分析、
  存在问题和建议、下月工作计划) as Markdown, from these numbers.

Sources: the seed articles in ``/work/shared/seeds`` — "浅谈如何做好客户经理月度考核 /
客户经理如何提高月度总结的质量" (004: monthly appraisal; the summary's structure; 纵向对比、
横向对比; problems must come with suggestions; next month's plan with decomposed tasks)
and the feedback guidance (000: "指出优点和不足"; 002: "提供具体的改进建议").

Conventions

* Every function takes plain frames and is testable without a notebook; no function
  takes a language: names are :class:`~helpers.core.phrases.Bilingual` (both languages),
  notes and reasons :class:`~helpers.core.phrases.Phrase` codes with their values,
  worded by :mod:`helpers.present.review`; :func:`helpers.context.review.team_review`
  is the one call a notebook makes with a :class:`~helpers.context.workbook.TeamContext`.
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
  :func:`helpers.data.plan_csv.read_targets_csv`); attainment follows the workbook's one rule,
  :func:`helpers.core.attainment.attainment_detail`.  Targets are used as given (pro-rate them
  beforehand with :func:`helpers.core.attainment.prorate` for part-period managers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from helpers.core.attainment import (
    REASON_NEGATIVE_ACTUAL,
    REASON_NEGATIVE_TARGET,
    REASON_NOTHING_ASKED,
    REASON_ZERO_TARGET,
    attainment_detail,
)
from helpers.core.phrases import Bilingual, Items, OneOf, T, join_unique
from helpers.data.schema import SEGMENTS
from helpers.errors import InputError, Problem, input_error
from helpers.kpis.indicators import VOLUME_UNITS, Library
from helpers.kpis.measures import KPIS
from helpers.periods import ReviewPeriod, parse_period

__all__ = ["DEFAULT_INDICATORS", "PRORATED_KPIS", "SEGMENT_KPIS", "ADDITIVE_UNITS", "FindingRule",
           "review_indicators", "vertical_comparison", "horizontal_comparison", "segment_breakdown",
           "product_lines", "assess", "select_findings", "improvement_plan"]


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


ADDITIVE_UNITS = VOLUME_UNITS
"""Units compared in % as well as in absolute terms (growth rates, gaps): the volumes."""


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
    REASON_NOTHING_ASKED: "nothing_asked",
    REASON_NEGATIVE_TARGET: "negative_target",
    REASON_NEGATIVE_ACTUAL: "negative_actual",
}


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


def _reason_text(code: str, label: str) -> Any:
    return "" if not code else T(f"review.reason.{code}", period=label)


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


def _meta(library: Library, ids: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({
        "indicator": list(ids),
        "name": [Bilingual(library[i].zh, library[i].en) for i in ids],
        "family": [library[i].family for i in ids],
        "unit": [library[i].unit for i in ids],
        "higher_is_better": [bool(library[i].higher_is_better) for i in ids],
    })


def _join_notes(*parts: pd.Series) -> pd.Series:
    frame = pd.concat(parts, axis=1)
    return pd.Series([join_unique("; ", row) for row in frame.itertuples(index=False)], index=frame.index, dtype=object)


def vertical_comparison(
    actuals: pd.DataFrame,
    library: Library,
    period: ReviewPeriod | str,
    *,
    indicators: Sequence[str] | None = None,
    managers: Sequence[str] | None = None,
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
    ``count``) and ``note`` (why a number is missing: a phrase).  Missing data is
    NaN with a note, never 0.
    """
    per = _period(period)
    _check_actuals(actuals, per)
    ids = review_indicators(library, actuals, indicators)
    mgrs = _managers(actuals, per, managers)
    labels = {"value": per.label, "previous": per.previous().label, "year_ago": per.year_ago().label}
    parts = {k: _long_values(actuals, library, ids, mgrs, lab) for k, lab in labels.items()}
    out = parts["value"][["manager_id", "indicator", "value"]].copy()
    out["previous"] = parts["previous"]["value"].to_numpy()
    out["year_ago"] = parts["year_ago"]["value"].to_numpy()
    out = out.merge(_meta(library, ids), on="indicator", how="left")
    units, hib = out["unit"], out["higher_is_better"].astype(bool)
    notes = [parts["value"]["reason"].map(lambda c: _reason_text(c, labels["value"]))]
    for key, suffix in (("previous", "prev"), ("year_ago", "yoy")):
        out[f"change_{suffix}"] = _diff(out["value"], out[key], units)
        out[f"change_{suffix}_pct"] = _rel(out["value"], out[key], units)
        out[f"trend_{suffix}"] = _trend(out[f"change_{suffix}"], hib)
        code = parts[key]["reason"].where(parts["value"]["reason"] != "not_computable", "")
        notes.append(code.map(lambda c, lab=labels[key]: _reason_text(c, lab)))
        base = out[key]
        additive = units.isin(ADDITIVE_UNITS) & out["value"].notna()
        zero = np.where(additive & (base == 0), "zero_base", np.where(additive & (base < 0), "negative_base", ""))
        notes.append(pd.Series(zero, index=out.index).map(lambda c, lab=labels[key]: _reason_text(c, lab)))
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
    per = _period(period)
    _check_actuals(actuals, per)
    ids = review_indicators(library, actuals, indicators)
    mgrs = _managers(actuals, per, managers)
    frac = _fractions(fractions, mgrs)
    cur = _long_values(actuals, library, ids, mgrs, per.label)
    out = cur.merge(_meta(library, ids), on="indicator", how="left")
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
    out["position_text"] = out["position"].map(lambda c: T(f"review.position.{c}") if c else "")
    out["change_unit"] = units.map(_change_unit)
    notes = [cur["reason"].map(lambda c: _reason_text(c, per.label))]
    no_comp = out["company_median"].isna() & (cur["reason"].to_numpy() == "")
    notes.append(pd.Series([T("review.reason.no_company") if x else "" for x in no_comp], index=out.index))
    notes.append(pd.Series([T("review.reason.prorated", share=f"{f:.0%}") if p else ""
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
) -> pd.DataFrame:
    """Each manager's KPIs by customer segment (key 大客户 / small 小客户 / walk-in 散客).

    One row per manager × segment, one column per KPI of ``kpis`` present in the data
    (values as computed by :mod:`helpers.kpis.measures` for that segment), plus::

        sales_share       = sales of the segment ÷ sales of all segments   (NaN when no sales)
        sales_prev_pct    = segment sales ÷ previous period's − 1          (previous > 0)
        sales_yoy_pct     = segment sales ÷ year-ago period's − 1          (year-ago > 0)

    ``segment_name`` is the segment (a phrase); ``note`` lists the KPIs with no
    base in that segment (e.g. no surveys from walk-in customers): they stay NaN.
    """
    per = _period(period)
    _check_actuals(actuals, per)
    mgrs = _managers(actuals, per, managers)
    have = [k for k in kpis if k in set(actuals["kpi"])]
    unknown = [k for k in kpis if k not in KPIS]
    if unknown:
        raise input_error("kpis", f"unknown KPI(s) {', '.join(unknown)}", fix="use ids from helpers.kpis.measures.KPIS")
    segs = [x for x in SEGMENTS if x in set(actuals["segment"])]  # an export without segments has none
    grid = pd.MultiIndex.from_product([mgrs, segs], names=["manager_id", "segment"]).to_frame(index=False)
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
    cur["segment_name"] = cur["segment"].map(lambda s: T(f"segment.{s}"))
    if "sales" in have:
        totals = pd.MultiIndex.from_arrays([grid["manager_id"], ["all"] * len(grid)])
        den = pd.Series(lookup(per.label, "sales", totals), index=cur.index)
        cur["sales_share"] = cur["sales"] / den.where(den > 0)
        for key, lab in (("prev", per.previous().label), ("yoy", per.year_ago().label)):
            b = pd.Series(lookup(lab, "sales"), index=cur.index)
            cur[f"sales_{key}_pct"] = (cur["sales"] - b) / b.where(b > 0)
    no_base = cur[have].isna()
    missing = [tuple(Bilingual(KPIS[k].zh, KPIS[k].en) for k in have if row[k]) for _, row in no_base.iterrows()]
    cur["note"] = [T("review.reason.segment_no_data", kpis=Items(m)) if m else "" for m in missing]
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
) -> pd.DataFrame:
    """Every manager × indicator judged by the :class:`FindingRule` (the audit trail).

    Columns: ``manager_id, indicator, name, family, unit, higher_is_better, value, base,
    fraction, prorated, target, attainment, benchmark, benchmark_kind`` (``target`` |
    ``company_median``), ``basis`` (``target`` | ``quartile`` | ``median``), ``score``
    (the notability score ``s`` of the rule), ``status`` (``strength`` | ``weakness`` |
    ``neutral`` | ``not_judged``), ``position``, ``change_yoy``, ``change_yoy_pct``,
    ``change_unit`` and ``reason`` (why not judged: a phrase;
    :func:`helpers.present.review.assess` adds ``text``, the sentence with the numbers
    for strengths and weaknesses).
    """
    per = _period(period)
    hz = horizontal_comparison(actuals, company, library, per, indicators=indicators, managers=managers,
                               fractions=fractions)
    vt = vertical_comparison(actuals, library, per, indicators=indicators, managers=managers)
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
            reason[i] = T("review.reason.small_base", n=f"{base[i]:g}", min=f"{rule.min_base:g}")
            continue
        if has_target[i]:
            basis[i] = "target"
            if math.isnan(att[i]):
                reason[i] = T(f"review.reason.{_ATTAINMENT_REASONS.get(att_reason[i], 'zero_target')}")
            else:
                score[i] = (att[i] - 1.0) / rule.target_margin
            continue
        if math.isnan(med[i]):
            reason[i] = T("review.reason.no_company")
            continue
        if not math.isnan(peers[i]) and peers[i] < rule.min_peers:
            reason[i] = T("review.reason.few_peers", n=rule.min_peers)
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
                reason[i] = T("review.reason.median_not_positive")
    out["score"] = np.round(score, _EPS_DIGITS)
    out["basis"] = basis
    out["benchmark_kind"] = np.where(has_target, "target", "company_median")
    out["benchmark"] = np.where(has_target, out["target"], out["company_median"])
    s = out["score"]
    out["status"] = np.select([s.isna(), s >= 1, s <= -1], ["not_judged", "strength", "weakness"], "neutral")
    out["reason"] = reason
    out["change_unit"] = out["unit"].map(_change_unit)
    cols = ["manager_id", "indicator", "name", "family", "unit", "higher_is_better", "value", "base", "fraction",
            "prorated", "target", "attainment", "benchmark", "benchmark_kind", "basis", "score", "status", "position", "change_yoy",
            "change_yoy_pct", "change_unit", "reason"]
    return out[cols]


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


def improvement_plan(
    findings: pd.DataFrame,
    period: ReviewPeriod | str,
    *,
    owners: Mapping[str, str] | pd.Series | None = None,
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
    w["action"] = [OneOf((f"review.action.{i}", f"review.action.family.{f}")) for i, f in zip(w["indicator"], w["family"])]
    w["owner"] = w["manager_id"].map(lambda m: names.get(str(m), str(m)))
    w["due"] = per.shift(1).end.date().isoformat()
    cols = ["manager_id", "owner", "indicator", "name", "family", "unit", "value", "benchmark", "benchmark_kind",
            "gap", "gap_pct", "gap_unit", "action", "due"]
    return w[cols].reset_index(drop=True)
