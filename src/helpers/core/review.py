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
from helpers.core.phrases import Amount, Bilingual, Capitalized, Items, OneOf, T, join_unique
from helpers.data.schema import SEGMENTS
from helpers.errors import InputError, Problem, input_error
from helpers.kpis.indicators import VOLUME_UNITS, Library
from helpers.kpis.measures import KPIS
from helpers.periods import ReviewPeriod, parse_period

__all__ = ["DEFAULT_INDICATORS", "PRORATED_KPIS", "SEGMENT_KPIS", "ADDITIVE_UNITS", "FindingRule",
           "review_indicators", "vertical_comparison", "horizontal_comparison", "segment_breakdown",
           "product_lines", "assess", "select_findings", "improvement_plan", "diagnose", "due_dates", "ACTIONS",
           "HORIZONS"]


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


def kpi_index(actuals: pd.DataFrame) -> dict[tuple[str, str, str, str], Any]:
    """``(manager_id, period label, kpi, segment)`` → value, of the first such row of
    ``actuals``: where a report looks up many single values (some twenty per manager in
    a summary, six per trend chart), one dictionary per team instead of a filter of
    the team's actuals for each."""
    keys = zip(actuals["manager_id"].astype(str).tolist(), actuals["period"].astype(str).tolist(), actuals["kpi"].tolist(),
               actuals["segment"].tolist())
    index: dict[tuple[str, str, str, str], Any] = {}
    for key, value in zip(keys, actuals["value"].tolist()):
        index.setdefault(key, value)
    return index


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
    grows = out["indicator"].map(lambda i: library[i].kpi in PRORATED_KPIS  # a declared sum grows too
                                 or (library[i].measure is not None and library[i].measure.grows))
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
    present = set(actuals["kpi"].unique().tolist())
    have = [k for k in kpis if k in present]
    unknown = [k for k in kpis if k not in KPIS]
    if unknown:
        raise input_error("kpis", f"unknown KPI(s) {', '.join(unknown)}", fix="use ids from helpers.kpis.measures.KPIS")
    in_data = set(actuals["segment"].unique().tolist())
    segs = [x for x in SEGMENTS if x in in_data]  # an export without segments has none
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
    comparisons: tuple[pd.DataFrame, pd.DataFrame] | None = None,
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

    ``comparisons``: ``(horizontal, vertical)`` as :func:`horizontal_comparison` and
    :func:`vertical_comparison` give them for the same arguments, when the caller has
    computed them already (a team review shows both): not computed again.
    """
    per = _period(period)
    if comparisons is None:
        comparisons = (horizontal_comparison(actuals, company, library, per, indicators=indicators,
                                             managers=managers, fractions=fractions),
                       vertical_comparison(actuals, library, per, indicators=indicators, managers=managers))
    hz, vt = comparisons
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


HORIZONS: dict[str, str] = {
    "quick": "end of the period + 14 days",
    "soon": "end of the period + 28 days",
    "mid": "middle of the next period: its first day + ⌊its days ÷ 2⌋ − 1",
    "end": "last day of the next period",
}
"""When an action is due, by how long it takes (:func:`due_dates`): a call back or an open
complaint two weeks after the period's end; winning back lapsed customers or a round of
visits four weeks after it; building a pipeline or fixing a conversion process by the
middle of the next period; product mix, margin and market share by its end."""


ACTIONS: dict[str, str] = {
    # action code: horizon; the words are review.do.<code> and review.cause.<code> (present layer)
    "sales_key": "soon",
    "sales_small": "soon",
    "sales_walkin": "mid",
    "sales_line": "mid",
    "sales_lapsed": "soon",
    "sales_weekly": "end",
    "margin_segment": "mid",
    "margin_line": "end",
    "margin_general": "end",
    "aov_segment": "mid",
    "aov_fell": "mid",
    "aov_gap": "end",
    "new_leads": "mid",
    "new_convert": "mid",
    "new_weekly": "end",
    "share_market_grew": "end",
    "share_sales_fell": "end",
    "share_gap": "end",
    "conv_segment": "mid",
    "conv_overload": "mid",
    "conv_follow_up": "quick",
    "retention_lost_key": "quick",
    "retention_at_risk_key": "quick",
    "retention_at_risk": "soon",
    "retention_lost_segment": "soon",
    "visits_key": "quick",
    "visits_unvisited": "soon",
    "visits_fell": "soon",
    "csat_open": "quick",
    "csat_key": "quick",
    "csat_low": "quick",
    "nps_detractors": "quick",
    "nps_passives": "mid",
    "complaints_repeat": "quick",
    "complaints_segment": "mid",
    "complaints_causes": "mid",
    "resolution_open": "quick",
    "resolution_escalated": "quick",
    "repeat_one_time": "soon",
    "repeat_segment": "soon",
    "referral_promoters": "mid",
    "generic": "end",
}
"""Every action the plan can propose, with its horizon (:data:`HORIZONS`).  Indicators of the same KPI share the actions (retention of key
accounts → the retention actions; churn is retention read the other way)."""


_MAX_IDS = 5  # customers named in an action; the count says how many there are in all
_AT_RISK_DAYS = 90  # no order in the last 90 days of the period: at risk


def due_dates(period: ReviewPeriod | str) -> dict[str, str]:
    """The due date of each horizon (:data:`HORIZONS`) for actions of ``period``'s review, ISO dates.

    2026Q3 → quick 2026-10-14, soon 2026-10-28, mid 2026-11-15, end 2026-12-31;
    2026-09 → 2026-10-14, 2026-10-28, 2026-10-15, 2026-10-31 (a month: mid before soon)."""
    per = _period(period)
    nxt = per.shift(1)
    end = per.end
    return {"quick": (end + pd.Timedelta(days=14)).date().isoformat(),
            "soon": (end + pd.Timedelta(days=28)).date().isoformat(),
            "mid": (nxt.start + pd.Timedelta(days=nxt.days // 2 - 1)).date().isoformat(),
            "end": nxt.end.date().isoformat()}


def _weeks(period: ReviewPeriod, horizon: str) -> int:
    """Whole weeks from the period's end to the horizon's due date (at least 1)."""
    days = (pd.Timestamp(due_dates(period)[horizon]) - period.end).days
    return max(1, round(days / 7))


def _ceil(x: float) -> int:
    return int(math.ceil(round(x, 6)))


class _Evidence:
    """What the diagnosis reads: the KPI actuals (value, numerator, denominator per
    manager × period × segment × KPI), the company figures and the optional tables."""

    def __init__(self, actuals: pd.DataFrame | None, company: pd.DataFrame | None, period: ReviewPeriod,
                 tables: Mapping[str, pd.DataFrame] | None):
        self.per = period
        self.prev = period.previous()
        a = actuals if actuals is not None else pd.DataFrame(columns=["manager_id", "period", "segment", "kpi", "value"])
        a = a.copy()
        for c in ("manager_id", "period", "segment", "kpi", "value", "numerator", "denominator"):
            if c not in a.columns:
                a[c] = np.nan
        a["manager_id"] = a["manager_id"].astype(str)
        self.a = a.set_index(["manager_id", "period", "segment", "kpi"])[["value", "numerator", "denominator"]]
        self.a = self.a[~self.a.index.duplicated()]
        c = company if company is not None else pd.DataFrame(columns=["period", "segment", "kpi", "median"])
        self.c = c.set_index(["period", "segment", "kpi"])["median"] if len(c) else pd.Series(dtype=float)
        self.c = self.c[~self.c.index.duplicated()]
        self.t = {k: v for k, v in (tables or {}).items() if isinstance(v, pd.DataFrame) and len(v)}

    def v(self, m: str, kpi: str, seg: str = "all", label: str | None = None, col: str = "value") -> float:
        key = (m, label or self.per.label, seg, kpi)
        if key not in self.a.index:
            return math.nan
        x = pd.to_numeric(self.a.at[key, col], errors="coerce")
        return float(x) if pd.notna(x) else math.nan

    def med(self, kpi: str, seg: str = "all") -> float:
        key = (self.per.label, seg, kpi)
        return float(self.c[key]) if key in self.c.index and pd.notna(self.c[key]) else math.nan

    def table(self, name: str, columns: Sequence[str]) -> pd.DataFrame | None:
        df = self.t.get(name)
        return df if df is not None and all(c in df.columns for c in columns) else None

    def dated(self, name: str, m: str | None, p: ReviewPeriod, columns: Sequence[str] = ()) -> pd.DataFrame | None:
        df = self.table(name, ("date", *columns, *(["manager_id"] if m is not None and name != "surveys" else [])))
        if df is None:
            return None
        d = pd.to_datetime(df["date"])
        out = df[(d >= p.start) & (d < p.end_exclusive)]
        return out[out["manager_id"].astype(str) == m] if m is not None and "manager_id" in out.columns else out

    def held(self, m: str) -> pd.DataFrame | None:
        """The customers ``m`` holds (customers.manager_id) at the end of the period."""
        cu = self.table("customers", ("customer_id", "manager_id", "acquired_date"))
        if cu is None:
            return None
        acq = pd.to_datetime(cu["acquired_date"])
        lost = pd.to_datetime(cu["lost_date"]) if "lost_date" in cu.columns else pd.Series(pd.NaT, index=cu.index)
        keep = (cu["manager_id"].astype(str) == m) & (acq <= self.per.end) & ~(lost <= self.per.end)
        return cu[keep]


def _seg_of(customers: pd.DataFrame | None) -> dict[str, str]:
    if customers is None or "segment" not in customers.columns:
        return {}
    return dict(zip(customers["customer_id"].astype(str), customers["segment"].astype(str)))


def _ids(ids: Sequence[str]) -> Items:
    return Items(tuple(str(i) for i in list(ids)[:_MAX_IDS]))


def _more(n: int) -> Any:
    """"(and k more)" after a list of at most _MAX_IDS ids."""
    return T("review.more", n=n - _MAX_IDS) if n > _MAX_IDS else ""


def _segment_changes(ev: _Evidence, m: str, kpi: str = "sales") -> dict[str, tuple[float, float]]:
    """segment → (this period, previous period) of ``kpi`` where both are known."""
    out = {}
    for s in SEGMENTS:
        cur, prev = ev.v(m, kpi, s), ev.v(m, kpi, s, ev.prev.label)
        if not (math.isnan(cur) or math.isnan(prev)):
            out[s] = (cur, prev)
    return out


def _sales_by(ev: _Evidence, m: str, key: str) -> pd.DataFrame | None:
    """Sales credited to ``m`` by ``key`` (product line, customer): ``cur`` this period and
    ``prev`` the previous one, 0 where there was none; None without the orders."""
    o_cur = ev.dated("orders", m, ev.per, ("amount", key))
    o_prev = ev.dated("orders", m, ev.prev, ("amount", key))
    if o_cur is None or o_prev is None:
        return None
    cur = o_cur.groupby(o_cur[key].astype(str))["amount"].sum()
    prev = o_prev.groupby(o_prev[key].astype(str))["amount"].sum()
    idx = cur.index.union(prev.index)
    return pd.DataFrame({"cur": cur.reindex(idx).fillna(0.0), "prev": prev.reindex(idx).fillna(0.0)})


def _line_changes(ev: _Evidence, m: str) -> pd.DataFrame | None:
    return _sales_by(ev, m, "product_line")


def _customer_sales(ev: _Evidence, m: str, seg: str | None = None) -> pd.DataFrame | None:
    """Per customer: sales this period and the previous one (orders credited to ``m``)."""
    df = _sales_by(ev, m, "customer_id")
    if df is None:
        return None
    if seg is not None and seg != "all":
        segs = _seg_of(ev.table("customers", ("customer_id",)))
        df = df[[segs.get(c) == seg for c in df.index]]
    return df


def _diag_sales(ev: _Evidence, m: str, seg: str, gap: float, nxt: Any) -> tuple[str, str, dict[str, Any]]:
    """Sales (and orders, profit short for lack of sales): where the shortfall sits."""
    cs = _customer_sales(ev, m, seg)
    if seg == "all":
        drops = {s: p - c for s, (c, p) in _segment_changes(ev, m).items() if p - c > 0}
        lines = _line_changes(ev, m)
        ld = (lines["prev"] - lines["cur"]) if lines is not None else pd.Series(dtype=float)
        ld = ld[ld > 0].sort_values(ascending=False, kind="stable")
        best_seg = max(drops, key=lambda s: drops[s], default=None)
        if best_seg is not None and (ld.empty or drops[best_seg] >= float(ld.iloc[0])):
            seg = best_seg
        elif not ld.empty:
            line = str(ld.index[0])
            cur, prev = float(lines.at[line, "cur"]), float(lines.at[line, "prev"])
            o_prev = ev.dated("orders", m, ev.prev, ("customer_id", "product_line"))
            o_cur = ev.dated("orders", m, ev.per, ("customer_id", "product_line"))
            was = set(o_prev.loc[o_prev["product_line"].astype(str) == line, "customer_id"].astype(str))
            now = set(o_cur.loc[o_cur["product_line"].astype(str) == line, "customer_id"].astype(str))
            gone = sorted(was - now)
            facts = {"line": line, "drop": prev - cur, "drop_pct": (prev - cur) / prev, "customers": len(gone),
                     "ids": gone[:_MAX_IDS]}
            return "line_drop", "sales_line", facts
        else:
            seg = "all"
    if seg != "all":
        cur, prev = ev.v(m, "sales", seg), ev.v(m, "sales", seg, ev.prev.label)
        if not (math.isnan(cur) or math.isnan(prev)) and prev > cur:
            fell = cs[cs["cur"] < cs["prev"]].sort_values("prev", ascending=False, kind="stable") if cs is not None else None
            ids = [str(i) for i in fell.index] if fell is not None else []
            facts = {"segment": seg, "drop": prev - cur, "drop_pct": (prev - cur) / prev if prev > 0 else math.nan,
                     "customers": len(ids) if fell is not None else math.nan, "ids": ids[:_MAX_IDS]}
            return "segment_drop", f"sales_{seg}", facts
    if cs is not None:
        lapsed = cs[(cs["prev"] > 0) & (cs["cur"] == 0)].sort_values("prev", ascending=False, kind="stable")
        if len(lapsed) and float(lapsed["prev"].sum()) >= 0.5 * gap:
            return "lapsed", "sales_lapsed", {"customers": len(lapsed), "sales_prev": float(lapsed["prev"].sum()),
                                              "ids": [str(i) for i in lapsed.index[:_MAX_IDS]]}
    weeks = _weeks(ev.per, "end")
    return "below_benchmark", "sales_weekly", {"gap": gap, "weeks": weeks, "per_week": gap / weeks}


def _diag_margin(ev: _Evidence, m: str, gap_pp: float) -> tuple[str, str, dict[str, Any]]:
    """Margin (and profit when the margin is below the company's): the segment or line losing most profit."""
    best: tuple[float, str, str, dict[str, Any]] | None = None
    for s in SEGMENTS:
        mg, sales, cm = ev.v(m, "margin", s), ev.v(m, "sales", s), ev.med("margin", s)
        if not any(math.isnan(x) for x in (mg, sales, cm)) and cm > mg and sales > 0:
            lost = (cm - mg) * sales
            if best is None or lost > best[0]:
                best = (lost, "segment_margin", "margin_segment",
                        {"segment": s, "margin": mg, "median": cm, "profit_short": lost})
    o_all = ev.dated("orders", None, ev.per, ("amount", "profit", "product_line", "manager_id"))
    if o_all is not None and len(o_all):
        lines = o_all.groupby(o_all["product_line"].astype(str))[["amount", "profit"]].sum()
        mine = o_all[o_all["manager_id"].astype(str) == m]
        own = mine.groupby(mine["product_line"].astype(str))[["amount", "profit"]].sum()
        for line, r in own.iterrows():
            if r["amount"] <= 0 or lines.at[line, "amount"] <= 0:
                continue
            mg, cm = r["profit"] / r["amount"], lines.at[line, "profit"] / lines.at[line, "amount"]
            lost = (cm - mg) * r["amount"]
            if cm > mg and (best is None or lost > best[0]):
                best = (lost, "line_margin", "margin_line", {"line": str(line), "margin": float(mg), "median": float(cm),
                                                             "profit_short": float(lost)})
    if best is not None:
        return best[1], best[2], best[3]
    sales = ev.v(m, "sales")
    return "below_benchmark", "margin_general", {"gap_pp": gap_pp, "sales": sales,
                                                 "profit_short": gap_pp / 100 * sales if sales == sales else math.nan}


def _diag_aov(ev: _Evidence, m: str, gap: float) -> tuple[str, str, dict[str, Any]]:
    best = None
    for s in SEGMENTS:
        v, cm, n = ev.v(m, "aov", s), ev.med("aov", s), ev.v(m, "orders", s)
        if not any(math.isnan(x) for x in (v, cm, n)) and cm > v and n > 0:
            short = (cm - v) * n
            if best is None or short > best[0]:
                best = (short, {"segment": s, "aov": v, "median": cm, "orders": n})
    if best is not None:
        return "segment_aov", "aov_segment", best[1]
    v, p = ev.v(m, "aov"), ev.v(m, "aov", label=ev.prev.label)
    n, pn = ev.v(m, "orders"), ev.v(m, "orders", label=ev.prev.label)
    if not any(math.isnan(x) for x in (v, p, n, pn)) and v < p and n > pn:
        return "aov_fell", "aov_fell", {"aov": v, "aov_prev": p, "orders": n, "orders_prev": pn}
    return "below_benchmark", "aov_gap", {"per_order": gap, "orders": n}


def _conversion(ev: _Evidence, m: str, seg: str, label: str | None = None) -> tuple[float, float]:
    """(converted, leads) of ``m`` in ``seg``."""
    return ev.v(m, "conversion_rate", seg, label, "numerator"), ev.v(m, "conversion_rate", seg, label, "denominator")


def _diag_new(ev: _Evidence, m: str, seg: str, gap: float) -> tuple[str, str, dict[str, Any]]:
    """New customers short by N: at the manager's conversion c, ⌈N ÷ c⌉ more leads; or convert better."""
    n = _ceil(gap)
    conv, leads = _conversion(ev, m, seg)
    c, cm = (conv / leads if leads > 0 else math.nan), ev.med("conversion_rate", seg)
    if not math.isnan(c) and not math.isnan(cm) and c < cm and leads > 0:
        at_median = _ceil(leads * cm)
        return "low_conversion", "new_convert", {"short": n, "leads": leads, "converted": conv, "conversion": c,
                                                 "median": cm, "at_median": at_median,
                                                 "more": at_median - int(conv)}
    rate = c if not math.isnan(c) and c > 0 else cm
    if not math.isnan(rate) and rate > 0:
        need = _ceil(n / rate)
        weeks = _weeks(ev.per, "mid")
        return "few_leads", "new_leads", {"short": n, "conversion": rate, "own_rate": not math.isnan(c) and c > 0,
                                          "leads_needed": need, "weeks": weeks, "per_week": _ceil(need / weeks)}
    weeks = _weeks(ev.per, "end")
    return "no_pipeline", "new_weekly", {"short": n, "weeks": weeks, "per_week": _ceil(n / weeks)}


def _diag_conversion(ev: _Evidence, m: str, seg: str, gap_pp: float) -> tuple[str, str, dict[str, Any]]:
    best = None
    for s in (SEGMENTS if seg == "all" else (seg,)):
        conv, leads = _conversion(ev, m, s)
        cm = ev.med("conversion_rate", s)
        if not any(math.isnan(x) for x in (conv, leads, cm)) and leads >= 5 and conv / leads < cm:
            more = _ceil(cm * leads - conv)
            if best is None or more > best[0]:
                best = (more, {"segment": s, "leads": leads, "converted": conv, "conversion": conv / leads,
                               "median": cm, "more": more})
    conv, leads = _conversion(ev, m, seg)
    pconv, pleads = _conversion(ev, m, seg, ev.prev.label)
    if (not any(math.isnan(x) for x in (conv, leads, pconv, pleads)) and pleads > 0 and leads > 0
            and leads >= 1.2 * pleads and conv / leads < pconv / pleads):
        return "overload", "conv_overload", {"leads": leads, "leads_prev": pleads, "conversion": conv / leads,
                                             "conversion_prev": pconv / pleads}
    if best is not None and seg == "all":
        return "segment_conversion", "conv_segment", best[1]
    open_ = leads - conv if not (math.isnan(leads) or math.isnan(conv)) else math.nan
    return "below_benchmark", "conv_follow_up", {"open": open_, "leads": leads,
                                                 "more": _ceil(gap_pp / 100 * leads) if leads == leads else math.nan}


def _last_orders(ev: _Evidence, m: str) -> pd.Series | None:
    o = ev.table("orders", ("date", "customer_id"))
    if o is None:
        return None
    d = pd.to_datetime(o["date"])
    o = o[d < ev.per.end_exclusive]
    return pd.to_datetime(o["date"]).groupby(o["customer_id"].astype(str)).max()


def _diag_retention(ev: _Evidence, m: str, seg: str) -> tuple[str, str, dict[str, Any]]:
    """Retention / churn: the key accounts lost, the customers at risk (no order in 90 days), or the segment losing most."""
    cu = ev.table("customers", ("customer_id", "manager_id", "lost_date"))
    segs = _seg_of(cu)
    if cu is not None:
        lost = pd.to_datetime(cu["lost_date"])
        gone = cu[(cu["manager_id"].astype(str) == m) & (lost >= ev.per.start) & (lost < ev.per.end_exclusive)]
        key = sorted(str(i) for i in gone["customer_id"] if segs.get(str(i)) == "key")
        if key and seg in ("all", "key"):
            return "lost_key", "retention_lost_key", {"customers": len(key), "ids": key[:_MAX_IDS],
                                                      "lost_all": len(gone)}
    held, last = ev.held(m), _last_orders(ev, m)
    if held is not None and last is not None:
        cutoff = ev.per.end_exclusive - pd.Timedelta(days=_AT_RISK_DAYS)
        ids = held["customer_id"].astype(str)
        lo = ids.map(last)
        risk = held[(lo < cutoff).to_numpy()].assign(_last=lo[lo < cutoff].to_numpy())
        if seg != "all":
            risk = risk[[segs.get(str(i)) == seg for i in risk["customer_id"]]]
        risk = risk.sort_values("_last", kind="stable")
        keyrisk = [str(i) for i in risk["customer_id"] if segs.get(str(i)) == "key"]
        if keyrisk:
            return "at_risk_key", "retention_at_risk_key", {"customers": len(keyrisk), "ids": keyrisk[:_MAX_IDS],
                                                            "days": _AT_RISK_DAYS}
        if len(risk):
            ids = [str(i) for i in risk["customer_id"]]
            return "at_risk", "retention_at_risk", {"customers": len(ids), "ids": ids[:_MAX_IDS],
                                                    "days": _AT_RISK_DAYS}
    losses = {s: ev.v(m, "lost_customers", s) for s in SEGMENTS}
    losses = {s: v for s, v in losses.items() if not math.isnan(v) and v > 0}
    s = max(losses, key=lambda k: losses[k], default=seg if seg != "all" else "small")
    return "lost_segment", "retention_lost_segment", {"segment": s, "customers": losses.get(s, 0.0),
                                                      "lost_all": ev.v(m, "lost_customers")}


def _diag_visits(ev: _Evidence, m: str, seg: str, kpi: str) -> tuple[str, str, dict[str, Any]]:
    if kpi == "visits":
        v, p = ev.v(m, "visits"), ev.v(m, "visits", label=ev.prev.label)
        if not (math.isnan(v) or math.isnan(p)) and v < p:
            return "visits_fell", "visits_fell", {"visits": v, "visits_prev": p}
    held, vis = ev.held(m), ev.dated("visits", m, ev.per, ("customer_id",))
    segs = _seg_of(ev.table("customers", ("customer_id",)))
    if held is not None and vis is not None:
        seen = set(vis["customer_id"].astype(str))
        not_seen = [str(i) for i in held["customer_id"] if str(i) not in seen]
        if seg != "all":
            not_seen = [i for i in not_seen if segs.get(i) == seg]
        key = [i for i in not_seen if segs.get(i) == "key"]
        if key:
            return "key_unvisited", "visits_key", {"customers": len(key), "ids": key[:_MAX_IDS],
                                                   "unvisited": len(not_seen)}
        n = len(not_seen)
    else:
        num, den = ev.v(m, "visit_coverage", seg, col="numerator"), ev.v(m, "visit_coverage", seg, col="denominator")
        n = _ceil(den - num) if not (math.isnan(num) or math.isnan(den)) else math.nan
    weeks = _weeks(ev.per, "soon")
    return "unvisited", "visits_unvisited", {"unvisited": n, "weeks": weeks,
                                             "per_week": _ceil(n / weeks) if n == n else math.nan}


def _open_complaints(ev: _Evidence, m: str) -> tuple[list[str], float]:
    """Unresolved complaints of the period (ids from the complaints table, else the count from the actuals)."""
    c = ev.dated("complaints", m, ev.per, ("complaint_id", "resolved"))
    if c is not None:
        open_ = c[~c["resolved"].astype(bool)]
        return sorted(open_["complaint_id"].astype(str)), float(len(open_))
    num, den = ev.v(m, "resolution_rate", col="numerator"), ev.v(m, "resolution_rate", col="denominator")
    return [], (den - num) if not (math.isnan(num) or math.isnan(den)) else math.nan


def _diag_csat(ev: _Evidence, m: str, seg: str) -> tuple[str, str, dict[str, Any]]:
    ids, n_open = _open_complaints(ev, m)
    low = {s: ev.v(m, "csat", s, col="denominator") - ev.v(m, "csat", s, col="numerator") for s in (*SEGMENTS, "all")}
    if n_open and n_open > 0:
        return "open_complaints", "csat_open", {"open": n_open, "ids": ids[:_MAX_IDS], "low": low["all"]}
    if seg in ("all", "key") and low.get("key", 0) > 0:
        return "key_low", "csat_key", {"low": low["key"], "responses": ev.v(m, "csat", "key", col="denominator")}
    return "low_scores", "csat_low", {"low": low.get(seg, math.nan), "responses": ev.v(m, "csat", seg, col="denominator")}


def _diag_nps(ev: _Evidence, m: str) -> tuple[str, str, dict[str, Any]]:
    held = ev.table("customers", ("customer_id", "manager_id"))
    sv = ev.dated("surveys", None, ev.per, ("customer_id", "nps"))
    if held is not None and sv is not None:
        mine = set(held.loc[held["manager_id"].astype(str) == m, "customer_id"].astype(str))
        s = sv[sv["customer_id"].astype(str).isin(mine)]
        score = pd.to_numeric(s["nps"], errors="coerce")
        det = sorted(set(s.loc[score <= 6, "customer_id"].astype(str)))
        passives = int(((score >= 7) & (score <= 8)).sum())
        if det:
            return "detractors", "nps_detractors", {"customers": len(det), "ids": det[:_MAX_IDS]}
        return "passives", "nps_passives", {"passives": passives, "responses": int(score.notna().sum())}
    return _diag_csat(ev, m, "all")


def _diag_complaints(ev: _Evidence, m: str) -> tuple[str, str, dict[str, Any]]:
    c = ev.dated("complaints", m, ev.per, ("customer_id",))
    if c is not None and len(c):
        counts = c["customer_id"].astype(str).value_counts()
        rep = sorted(counts[counts >= 2].index)
        if rep:
            return "repeat", "complaints_repeat", {"customers": len(rep), "ids": rep[:_MAX_IDS],
                                                   "complaints": int(counts[counts >= 2].sum())}
    n = {s: ev.v(m, "complaints", s) for s in SEGMENTS}
    total = ev.v(m, "complaints")
    n = {s: v for s, v in n.items() if not math.isnan(v) and v > 0}
    s = max(n, key=lambda k: n[k], default=None)
    if s is not None and total > 1 and n[s] / total >= 0.6:
        return "segment_complaints", "complaints_segment", {"segment": s, "complaints": n[s], "total": total}
    return "complaints", "complaints_causes", {"complaints": total, "buyers": ev.v(m, "buyers")}


def _diag_resolution(ev: _Evidence, m: str) -> tuple[str, str, dict[str, Any]]:
    ids, n_open = _open_complaints(ev, m)
    esc = ev.v(m, "escalations")
    if n_open and n_open > 0:
        return "open_complaints", "resolution_open", {"open": n_open, "ids": ids[:_MAX_IDS]}
    return "escalated", "resolution_escalated", {"escalated": esc}


def _diag_repeat(ev: _Evidence, m: str, seg: str) -> tuple[str, str, dict[str, Any]]:
    once = {s: ev.v(m, "repeat_purchase_rate", s, col="denominator") - ev.v(m, "repeat_purchase_rate", s, col="numerator")
            for s in (*SEGMENTS, "all")}
    total = once.get(seg, math.nan)
    segs = {s: v for s, v in once.items() if s != "all" and not math.isnan(v) and v > 0}
    s = max(segs, key=lambda k: segs[k], default=None)
    if seg == "all" and s is not None and total > 1 and segs[s] / total >= 0.6:
        return "segment_one_time", "repeat_segment", {"segment": s, "customers": segs[s], "total": total}
    return "one_time", "repeat_one_time", {"customers": total}


def _diag_share(ev: _Evidence, m: str, gap_pp: float) -> tuple[str, str, dict[str, Any]]:
    s, sp = ev.v(m, "market_share", col="numerator"), ev.v(m, "market_share", label=ev.prev.label, col="numerator")
    mk, mkp = ev.v(m, "market_share", col="denominator"), ev.v(m, "market_share", label=ev.prev.label, col="denominator")
    more = gap_pp / 100 * mk if not math.isnan(mk) else math.nan
    if not any(math.isnan(x) for x in (s, sp, mk, mkp)) and sp > 0 and mkp > 0:
        gs, gm = s / sp - 1, mk / mkp - 1
        if gs < 0:
            return "sales_fell", "share_sales_fell", {"sales_change": gs, "market_change": gm, "more_sales": more}
        if gm > gs:
            return "market_grew", "share_market_grew", {"sales_change": gs, "market_change": gm, "more_sales": more}
    return "below_benchmark", "share_gap", {"gap_pp": gap_pp, "more_sales": more}


def diagnose(ev: _Evidence, m: str, indicator: str, kpi: str, seg: str, gap: float) -> tuple[str, str, dict[str, Any]]:
    """(cause, action, facts) of one weakness: what the data shows, what to do, the numbers.

    ``gap`` as in :func:`improvement_plan` (percentage points for ratios).  Unknown KPIs
    and indicators without one get ``("below_benchmark", "generic", {})``."""
    if kpi in ("sales", "orders"):
        return _diag_sales(ev, m, seg, gap if kpi == "sales" else math.nan, None)
    if kpi == "profit":
        mg, cm = ev.v(m, "margin"), ev.med("margin")
        if not (math.isnan(mg) or math.isnan(cm)) and mg < cm:
            return _diag_margin(ev, m, (cm - mg) * 100)
        return _diag_sales(ev, m, seg, gap, None)
    if kpi == "margin":
        return _diag_margin(ev, m, gap)
    if kpi == "aov":
        return _diag_aov(ev, m, gap)
    if kpi == "new_customers":
        return _diag_new(ev, m, seg, gap)
    if kpi == "conversion_rate":
        return _diag_conversion(ev, m, seg, gap)
    if kpi in ("retention_rate", "churn_rate", "active_rate", "lost_customers"):
        return _diag_retention(ev, m, seg)
    if kpi in ("visits", "visit_coverage"):
        return _diag_visits(ev, m, seg, kpi)
    if kpi == "csat":
        return _diag_csat(ev, m, seg)
    if kpi == "nps":
        return _diag_nps(ev, m)
    if kpi in ("complaint_rate", "complaints", "escalations"):
        return _diag_complaints(ev, m)
    if kpi == "resolution_rate":
        return _diag_resolution(ev, m)
    if kpi == "repeat_purchase_rate":
        return _diag_repeat(ev, m, seg)
    if kpi in ("market_share", "market_share_change"):
        return _diag_share(ev, m, gap if kpi == "market_share" else math.nan)
    if kpi == "referral_rate":
        return "below_benchmark", "referral_promoters", {"new": ev.v(m, "new_customers"),
                                                         "referred": ev.v(m, "referral_rate", col="numerator")}
    return "below_benchmark", "generic", {}


def improvement_plan(
    findings: pd.DataFrame,
    period: ReviewPeriod | str,
    *,
    owners: Mapping[str, str] | pd.Series | None = None,
    actuals: pd.DataFrame | None = None,
    company: pd.DataFrame | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    library: Library | None = None,
) -> pd.DataFrame:
    """The improvement plan (改进计划) from the weaknesses of ``findings``: one row per weakness,
    with its gap, the cause the data shows, an action with the manager's own numbers and a due date.

    ::

        gap      = benchmark − value   (higher is better)   the improvement needed to
                 = value − benchmark   (lower is better)    reach the benchmark (> 0)
                   × 100 for ratio indicators (percentage points)
        gap_pct  = gap ÷ benchmark for money and counts (benchmark > 0)

    ``benchmark`` is the target when one was given, else the company median (pro-rated
    for part-period managers).  ``cause`` (a code), ``action_code`` and ``facts`` (the
    numbers: counts, customer ids, segment, product line …) come from :func:`diagnose`,
    reading ``actuals`` (the long KPI table with numerator and denominator, every
    period), ``company`` (medians per segment) and ``tables`` (orders, customers,
    complaints, visits, surveys; any may be missing); ``library`` says which KPI and
    segment an indicator measures.  Without them the cause is ``below_benchmark`` and
    the action the indicator's (or its family's) general one.  Examples of the rules:

    * new customers short by N, conversion c = converted ÷ leads this period: at or above
      the company's median conversion, ⌈N ÷ c⌉ more leads (per week until the due date);
      below it, the conversions the same leads would give at the median;
    * sales: the segment or product line with the largest fall on the previous period,
      else the customers who bought last period and not this one, else the gap per week;
    * retention / churn: the key accounts lost in the period (ids), else the customers
      held with no order in the last 90 days (key accounts first), else the segment
      that lost most; visits: the customers held not visited (key accounts first);
      CSAT / resolution: the complaints still open; complaints: customers who complained
      twice or more, else the segment with ≥ 60 % of them.

    ``horizon`` (:data:`HORIZONS`) and ``due`` (:func:`due_dates`) follow the action:
    quick fixes two weeks after the period's end, structural ones by the middle or end
    of the next period.  ``action`` is the phrase to word (``review.do.<action_code>``
    with the facts; ``generic``: ``review.action.<indicator>`` or its family's);
    ``cause_text`` the cause's phrase.  ``owner`` is the manager (``owners``: manager_id
    → name; the id when not given).
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
    ev = _Evidence(actuals, company, per, tables) if actuals is not None else None
    dues = due_dates(per)
    causes, codes, facts = [], [], []
    for r in w.itertuples(index=False):
        ind = library[r.indicator] if library is not None and r.indicator in library else None
        if ev is None or ind is None or ind.kpi is None:
            c, a, f = "below_benchmark", "generic", {}
        else:
            c, a, f = diagnose(ev, str(r.manager_id), r.indicator, ind.kpi, ind.segment, float(r.gap))
        causes.append(c)
        codes.append(a)
        facts.append(f)
    w["cause"] = causes
    w["action_code"] = codes
    w["facts"] = facts
    w["horizon"] = [ACTIONS[a] for a in codes]
    w["due"] = [dues[h] for h in w["horizon"]]
    w["cause_text"] = [_cause_phrase(a, f, per) for a, f in zip(codes, facts)]
    w["action"] = [OneOf((f"review.action.{i}", f"review.action.family.{fam}")) if a == "generic"
                   else _action_phrase(a, f, per) for a, f, i, fam in zip(codes, facts, w["indicator"], w["family"])]
    w["owner"] = w["manager_id"].map(lambda m: names.get(str(m), str(m)))
    cols = ["manager_id", "owner", "indicator", "name", "family", "unit", "value", "benchmark", "benchmark_kind",
            "gap", "gap_pct", "gap_unit", "cause", "cause_text", "action_code", "action", "facts", "horizon", "due"]
    return w[cols].reset_index(drop=True)


_AMOUNT_UNITS = {
    "drop": "currency", "sales_prev": "currency", "gap": "currency", "per_week": None, "profit_short": "currency",
    "aov": "currency", "median": None, "aov_prev": "currency", "per_order": "currency", "more_sales": "currency",
    "margin": "ratio", "conversion": "ratio", "conversion_prev": "ratio", "drop_pct": "ratio",
    "sales_change": "change", "market_change": "change", "sales": "currency",
}


def _values(code: str, facts: Mapping[str, Any], per: ReviewPeriod) -> dict[str, Any]:
    """The facts as phrase values: amounts with their unit, segments and lists as phrases."""
    out: dict[str, Any] = {}
    for k, v in facts.items():
        if k == "segment":
            out[k] = T(f"segment.{v}")
        elif k == "ids":
            out[k] = _ids(v)
        elif k == "own_rate":
            continue
        elif isinstance(v, str):
            out[k] = v
        elif isinstance(v, (int, float, np.floating, np.integer)) and math.isnan(float(v)):
            out[k] = T("report.no_data")
        elif k == "median":
            unit = "currency" if code.startswith("aov") else "ratio"
            out[k] = Amount(float(v), unit)
        elif k == "per_week":
            out[k] = Amount(float(v), "currency" if code == "sales_weekly" else "count")
        elif k == "gap_pp":
            out[k] = f"{float(v):.1f}"
        elif _AMOUNT_UNITS.get(k):
            out[k] = Amount(float(v), _AMOUNT_UNITS[k])
        else:
            out[k] = Amount(float(v), "count")
    if "ids" in facts:  # "(and k more)" after the ids shown
        n = facts.get("customers", facts.get("open", 0))
        out["more_ids"] = _more(int(n)) if n == n else ""
    out["next"] = T(f"review.summary.next.{per.freq}")
    return out


def _action_phrase(code: str, facts: Mapping[str, Any], per: ReviewPeriod) -> Any:
    key = f"review.do.{code}"
    if code == "new_leads" and not facts.get("own_rate", True):
        key += "_median"
    if code == "sales_line" and facts.get("customers", 0) == 0:
        key += "_none"
    return T(key, **_values(code, facts, per))


def _cause_phrase(code: str, facts: Mapping[str, Any], per: ReviewPeriod) -> Any:
    if code == "generic":
        return Capitalized(T("review.cause.generic"))
    return Capitalized(T(f"review.cause.{code}", **_values(code, facts, per)))  # a cell opens with it
