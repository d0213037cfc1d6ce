"""The scorecard of a period: every manager's attainment, scores, hard/soft total,
ranks and grades under the scoring plan, and their pay summed over the months.

Numbers only: pay statements hold :class:`~helpers.core.phrases.Phrase` texts, worded
by the presentation (:func:`helpers.present.pay.worded`).

    attainment actual / target (target / actual when lower is better)   helpers.core.attainment
    score      curve(attainment) per indicator                           helpers.core.scoring
    hard       Σ w_j·score_j / Σ w_j (weights of the chosen scheme)       helpers.core.schemes
    soft       mean of the qualitative ratings (0–100)
    total      split·hard + (1 − split)·soft                              seed "浅谈如何做好客户经理月度考核"
    ranks      within the team and within the company
    grades     forced distribution within the team or absolute bands
    pay        helpers.core.incentives (statement line by line, what-if 80/100/120 %)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from helpers.core import incentives as inc
from helpers.plan.incentives import month_of
from helpers.core import scoring
from helpers.core.attainment import NO_DATA
from helpers.core.phrases import Bilingual, T
from helpers.errors import InputError, Problem
from helpers.kpis.indicators import Library
from helpers.plan.scoring import ScoringPlan, StepSpec

__all__ = ["curve_of", "scoring_plan_problems", "totals", "score_table", "CompanyScores", "assessment_status",
           "grade_factor", "manager_pay"]


def curve_of(plan: ScoringPlan, indicator: str, source: str = "scoring.yaml") -> scoring.ScoringCurve | scoring.StepTable:
    """The curve of ``indicator`` (its own or the default)."""
    spec = plan.curves.get(indicator, plan.default_curve)
    name = f"{source}: curves.{indicator}" if indicator in plan.curves else f"{source}: default_curve"
    if isinstance(spec, StepSpec):
        return scoring.StepTable(tuple(spec.bands), spec.below_score, name=name)
    return scoring.ScoringCurve(**spec.model_dump(), name=name)


def scoring_plan_problems(plan: ScoringPlan, library: Library, weights: list[str], target_ids: set[str] | None,
                   source: str) -> list[Problem]:
    """Semantic checks of a scoring plan against the library, the scheme and the targets."""
    out: list[Problem] = []
    for key, ids in (("curves", list(plan.curves)), ("fallback_targets", list(plan.fallback_targets)),
                     ("min_base", list(plan.min_base)),
                     ("soft.indicators", plan.soft.indicators)):
        for i in ids:
            if i not in library:
                near = library.suggest(i)
                out.append(Problem(source, f"unknown indicator '{i}'", f"key '{key}'",
                                   f"did you mean '{near}'?" if near else f"use ids from {library.source}"))
    for i in plan.curves:
        try:
            curve_of(plan, i, source)
        except InputError as exc:
            out += exc.problems
    try:
        curve_of(plan, "", source)
    except InputError as exc:
        out += exc.problems
    for i, v in plan.fallback_targets.items():
        if not isinstance(v, str) and not (math.isfinite(v) and v >= 0):
            out.append(Problem(source, f"target {v} is not a number ≥ 0", f"key 'fallback_targets.{i}'"))
    for i, lo in plan.min_base.items():
        if i not in library:
            continue  # reported as unknown below
        if library[i].unit != "ratio":
            out.append(Problem(source, f"min_base for '{i}': it is not a ratio (unit {library[i].unit}), so it "
                               "has no base to count", f"key 'min_base.{i}'",
                               "set minimum bases for ratio indicators (csat, complaint_rate, retention_rate …)"))
        if not (math.isfinite(lo) and lo >= 0):
            out.append(Problem(source, f"minimum base {lo} is not a number ≥ 0", f"key 'min_base.{i}'"))
    if plan.split < 1 and not plan.soft.indicators:
        out.append(Problem(source, f"split {plan.split} leaves {1 - plan.split:.0%} to the soft part but no soft "
                           "indicators are listed", "key 'soft.indicators'", "list the ratings, or set split: 1"))
    for i in plan.soft.indicators:
        if i in library and library[i].unit != "score":
            out.append(Problem(source, f"soft indicator '{i}' is not a 0–100 rating (unit {library[i].unit})",
                               "key 'soft.indicators'", "list qualitative ratings (unit score) only"))
    g = plan.grades
    try:
        if g.method == "forced":
            scoring.forced_quotas(1, g.distribution)
        else:
            scoring.grade_absolute(50.0, g.bands)
    except InputError as exc:
        out += [Problem(source, p.what, f"key 'grades.{'distribution' if g.method == 'forced' else 'bands'}'", p.fix)
                for p in exc.problems]
    if target_ids is not None:
        for i in weights:
            if i in library and i not in target_ids and i not in plan.fallback_targets:
                out.append(Problem(source, f"no target for indicator '{i}' of the weight scheme",
                                   f"key 'fallback_targets.{i}'",
                                   "set a target for it in the target plan or the targets CSV, or add "
                                   f"'{i}: peer_median' (or a number) under fallback_targets"))
    return out


def totals(scores: pd.DataFrame, weights: pd.Series, soft: pd.DataFrame, plan: ScoringPlan,
           groups: pd.Series | None = None, tie_breaker: pd.Series | None = None,
           source: str = "scoring.yaml", units: pd.DataFrame | None = None,
           fractions: pd.Series | None = None) -> pd.DataFrame:
    """From curve scores to the review's totals, ranks and grades (the second half of
    :func:`score_table`; the weighting scenarios re-weight the same curve scores).

    ``scores``: managers × weighted indicators (curve points); ``soft``: managers × soft
    ratings; ``tie_breaker``: sales attainment (forced grades); ``groups``: the ranking
    group (team).  ``units`` (team_id, region per manager): the forced distribution's
    pool is chosen by :func:`helpers.core.scoring.grading_pool` from the plan's
    ``grades.pool`` and ``grades.min_pool`` (without ``units`` the pool is ``groups``);
    ``fractions``: active share of the period, below ``grades.min_active_share`` a
    manager takes no quota place.  Returns ``hard, weight_available, soft, total, rank,
    grade, pool`` (the pool level: team, region, company or absolute)."""
    idx = scores.index
    d = scoring.weighted_total_detail(scores[list(weights.index)], weights, min_available=plan.min_weight_available,
                                      source=source)
    soft_score = soft.mean(axis=1) if soft.shape[1] else pd.Series(np.nan, index=idx)
    soft_score = soft_score.reindex(idx)
    if plan.split >= 1:
        total = d["total"].rename("total")
    else:
        total = scoring.combine_hard_soft(d["total"], soft_score, plan.split)
    g = groups if groups is not None else pd.Series("all", index=idx)
    summary = pd.DataFrame({"hard": d["total"], "weight_available": d["weight_available"],
                            "soft": soft_score, "total": total})
    summary["rank"] = scoring.rank(total, g)
    gp = plan.grades
    takes = None
    if fractions is not None and gp.min_active_share > 0:
        takes = fractions.reindex(idx).fillna(1.0) + 1e-9 >= gp.min_active_share
    level, pool = "absolute", None
    if gp.method == "forced":
        if units is None:
            level, pool = ("team" if groups is not None else "company"), g
        else:
            graded = total.notna() & (takes if takes is not None else True)
            level, pool = scoring.grading_pool(units.reindex(idx), graded, gp.pool, gp.min_pool)
    if pool is not None:
        tb = tie_breaker if gp.tie_breaker == "sales_attainment" else None
        summary["grade"] = scoring.grade_forced(total, gp.distribution, groups=pool.reindex(idx), tie_breaker=tb,
                                                takes_place=takes)
    else:
        summary["grade"] = scoring.grade_absolute(total, gp.bands)
    summary["pool"] = level
    return summary


def score_table(
    values: pd.DataFrame,
    targets: pd.DataFrame,
    soft: pd.DataFrame,
    library: Library,
    plan: ScoringPlan,
    weights: pd.Series,
    groups: pd.Series | None = None,
    source: str = "scoring.yaml",
    bases: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    fractions: pd.Series | None = None,
) -> dict[str, pd.DataFrame | pd.Series]:
    """Scores of many managers (rows) for one period.

    ``values`` / ``targets``: managers × the weighted indicators (NaN = no data / no
    target); ``soft``: managers × soft ratings (0–100); ``weights``: indicator →
    weight; ``groups``: team per manager (grades by forced distribution and team
    ranks are within it; None = one group).

    * minimum evidence: with ``bases`` (managers × indicators: the ratio's base, e.g.
      survey responses), an indicator whose base is below the plan's ``min_base`` is
      not scored (NaN; its weight goes to the other indicators);
    * attainment = actual / target (target / actual when lower is better),
      :func:`helpers.core.attainment.attainment` (zero targets as documented there);
    * score = curve(attainment) (:func:`curve_of`);
    * hard = Σ w·score / Σ w over indicators with a score; NaN ("no data") when
      less than ``min_weight_available`` of the weight has a score;
    * soft = mean of the ratings present (NaN when none);
    * total = split·hard + (1 − split)·soft (NaN if a needed part is NaN; with
      split = 1 the soft part is not needed);
    * rank: 1 = best, ties share the better rank (1-2-2-4); grade: forced
      distribution (ties get the same, better grade; tie-breaker sales attainment)
      or absolute bands; NaN total → "no data".

    Returns ``attainment``, ``score`` (frames) and ``summary`` (hard,
    weight_available, soft, total, rank, grade).
    """
    ids = list(weights.index)
    if bases is not None and plan.min_base:  # minimum evidence: too small a base is not scored
        values = values.copy()
        for i, lo in plan.min_base.items():
            if i in values.columns and i in bases.columns:
                b = bases[i].reindex(values.index)
                values.loc[b.isna() | (b + 1e-9 < lo), i] = np.nan
    att = pd.DataFrame(index=values.index)
    for i in ids:
        att[i] = scoring.attainment(values[i].astype(float), targets[i].astype(float), library[i].higher_is_better)
    sc = pd.DataFrame({i: scoring.score(att[i], curve_of(plan, i, source)) for i in ids}, index=values.index)
    tb = att["sales"] if "sales" in att else None
    summary = totals(sc, weights, soft, plan, groups, tie_breaker=tb, source=source, units=units, fractions=fractions)
    return {"attainment": att, "score": sc, "summary": summary}


@dataclass
class CompanyScores:
    """The company-wide part of a review, the same for every team of a period: plans,
    weights, every manager's indicator values, targets and scores (built by
    :func:`company_scores`; team reviews and the leadership summary share it)."""

    plan: ScoringPlan
    plan_file: Path
    library: Library
    scheme: str
    weights: pd.Series
    dropped: dict[str, str]
    soft_ids: list[str]
    pay_plan: inc.IncentivePlan
    values: pd.DataFrame           # every manager with a value × weighted indicators
    soft: pd.DataFrame             # every manager × soft ratings
    targets: pd.DataFrame          # every manager × weighted indicators
    target_source: pd.DataFrame    # indicator → how its targets were set
    targets_long: pd.DataFrame     # manager_id, indicator, target (as set for the period)
    monthly_targets: pd.DataFrame  # manager_id, month, target (sales)
    attainment: pd.DataFrame
    scores: pd.DataFrame
    summary: pd.DataFrame          # hard, weight_available, soft, total, rank (company), grade (one group)
    no_soft: bool = False          # the plan has a soft part but the data has no ratings: total = hard
    scheme_name: Bilingual | None = None  # the scheme's display name (the same in every report)
    bases: pd.DataFrame | None = None     # every manager × weighted indicators: the base of each ratio (evidence)
    rubric: Any = None                     # the soft appraisal's rubric (helpers.plan.rubric.Rubric) or None
    levels: Any = None                     # position levels (helpers.core.points.LevelResult) when the pay plan has them
    pay_plan_file: Any = None              # the incentive plan as written, with its dated changes (pay_plan: the one in
                                           # force on the period's first month; plan_for: each month's)

    def plan_for(self, label: str) -> inc.IncentivePlan:
        """The incentive plan in force for a pay row's month (or a quarter settled at once)."""
        base = self.pay_plan_file if self.pay_plan_file is not None else self.pay_plan
        return base.in_force(month_of(label)) if base.changes else self.pay_plan

    def thin(self, manager: str, indicator: str) -> float | None:
        """The base behind a ratio when it is below the plan's minimum (not scored), else None."""
        lo = self.plan.min_base.get(indicator)
        if lo is None or self.bases is None or indicator not in self.bases.columns:
            return None
        b = self.bases[indicator].get(manager, np.nan)
        return float(0 if pd.isna(b) else b) if (pd.isna(b) or b + 1e-9 < lo) else None

    @property
    def n(self) -> int:
        """Managers with a total score (the denominator of company ranks)."""
        return int(self.summary["total"].notna().sum())


def assessment_status(total: pd.Series, values: pd.DataFrame, targets: pd.DataFrame,
                      reviewed: np.ndarray | pd.Series) -> pd.Series:
    """Each manager's status in the review: ``ok`` (a total score), ``not_assessed``
    (nothing asked and nothing done: every target of the plan 0 or missing and every
    value 0 or missing — neither ranked nor graded, and never scored 100), ``incomplete``
    (some data, but not enough of the weight for a total), ``no data`` (not in the
    period's data at all)."""
    idle = (values.fillna(0) == 0).all(axis=1) & (targets.fillna(0) == 0).all(axis=1)
    st = np.where(np.asarray(reviewed, dtype=bool),
                  np.where(total.notna(), "ok", np.where(idle.to_numpy(), "not_assessed", "incomplete")), NO_DATA)
    return pd.Series(st, index=total.index, name="status")


def grade_factor(pay_plan: inc.IncentivePlan, grades: pd.Series | None, index: pd.Index) -> pd.Series:
    """The grade consequence of the incentive plan per manager (1.0 without one, or for a
    grade the plan does not list, or "no data")."""
    gc = pay_plan.grade_consequence
    if gc is None or grades is None or not gc.multiplier:
        return pd.Series(1.0, index=index)
    return grades.reindex(index).map(lambda g: gc.multiplier.get(str(g), 1.0)).astype(float)


def manager_pay(pay_plan: inc.IncentivePlan, pin: pd.DataFrame, what_if: list[float], detail: bool = True,
                grades: pd.Series | None = None, names: Mapping[str, Bilingual] | None = None,
                plan_for: Callable[[str], inc.IncentivePlan] | None = None,
                ) -> tuple[pd.Series, dict[str, inc.Statement], dict[str, pd.DataFrame]]:
    """Pay per manager = Σ over the months of the period of :func:`helpers.core.incentives.payouts`
    (one row for the whole period with ``settlement: period``), times the plan's grade
    factor (``grade_consequence.multiplier``; one line on the statement).

    Returns totals, one statement per manager (every month's lines as phrases, the
    item prefixed with the month; worded by :func:`helpers.present.pay.worded`) and the what-if table (sum over the months, each month's sales at
    ``a`` × its target; before the grade factor); with ``detail=False`` the totals only.
    """
    if pin.empty:
        return pd.Series(dtype=float, name="payout"), {}, {}
    cols = [c for c in pin.columns if c not in ("manager_id", "month")]
    plan_for = plan_for or (lambda _month: pay_plan)
    plans = {m: plan_for(m) for m in pd.unique(pin["month"])}  # each month with the plan in force then
    pay = pd.concat([inc.payouts(plans[m], pin.loc[rows, cols], source="payout inputs")
                     for m, rows in pin.groupby("month", sort=False).groups.items()]).reindex(pin.index)
    before = pay["total"].groupby(pin["manager_id"].to_numpy()).sum()
    k = grade_factor(pay_plan, grades, before.index)
    totals = (before * k).rename("payout")
    if not detail:
        return totals, {}, {}
    statements: dict[str, inc.Statement] = {}
    wi: dict[str, pd.DataFrame] = {}
    for m, rows in pin.groupby("manager_id", sort=False):
        lines, frames = [], []
        for key in rows.index:
            month = rows.at[key, "month"]
            st = inc.statement(plans[month], pin[cols], key, names)
            lines.append(st.lines.assign(month=month, item=[f"{month} " + x for x in st.lines["item"]]))
            x = inc.ManagerInputs.from_row(pin[cols].loc[key], manager_id=m)
            if math.isfinite(x.sales_target) and x.sales_target > 0:
                frames.append(inc.what_if(plans[month], x, what_if))
        if k[m] != 1.0:
            g = str(grades.get(m)) if grades is not None else ""
            sub = float(before[m]) * (k[m] - 1.0)
            lines.append(pd.DataFrame([dict(
                component="grade_adjustment", item=T("inc.item.grade"), quantity=float(before[m]), rate=k[m],
                subtotal=sub, explanation=T("inc.x.grade", grade=g, net=inc._fmt(float(before[m])), k=f"{k[m]:g}",
                                            sub=inc._fmt(sub)), month="")]))
        statements[m] = inc.Statement(m, pd.concat(lines, ignore_index=True), float(totals[m]))
        if frames and len(frames) == len(rows):
            wi[m] = sum(frames[1:], frames[0])
    return totals, statements, wi
