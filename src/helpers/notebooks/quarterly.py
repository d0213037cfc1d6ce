"""Quarterly (or monthly) review of one team: scores, grades, ranks, pay, sign-off.

Integration of the earlier steps for notebook 04 (one call per cell)::

    targets   user CSV (scoring plan ``targets_csv``) or the target-setting step
              (:func:`helpers.notebooks.targetlab.build`), plus ``fallback_targets``
    attainment actual / target (target / actual when lower is better)   helpers.core.attainment
    score      curve(attainment) per indicator                           helpers.core.scoring
    hard       Σ w_j·score_j / Σ w_j (weights of the chosen scheme)       helpers.notebooks.scenarios
    soft       mean of the qualitative ratings (0–100)
    total      split·hard + (1 − split)·soft                              seed "浅谈如何做好客户经理月度考核"
    ranks      within the team and within the company (company figures are computed
               from every manager but only this team's managers are shown)
    grades     forced distribution within the team or absolute bands
    pay        helpers.core.incentives (statement line by line, what-if 80/100/120 %)

A roster manager without any KPI value for the period is "no data" (never 0): no
score, no grade, no rank, no payout.

The scoring plan is ``params/scoring.yaml`` (:class:`ScoringPlan`, unknown keys are
errors).  It is found next to the incentive plan (the params have no ``scoring`` key
yet).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown, display
from pandas.io.formats.style import Styler
from pydantic import Field, model_validator

from helpers.plan.base import Strict, load_model
from helpers.core import incentives as inc
from helpers import exports
from helpers.core import scoring
from helpers.core.attainment import NO_DATA
from helpers.present.display import escape, fmt, percent, table
from helpers.present.html import render
from helpers.present.pay import worded
from helpers.context.workbook import company_actuals, company_manager_ids
from helpers.context.targets import check_plan, targets_only
from helpers.plan.targets import load_target_plan
from helpers.errors import InputError, Problem, input_error
from helpers.kpis.indicators import Library, indicator_values, load_library
from helpers.plan.params import SLUG, RunParams, resolve

__all__ = [
    "ScoringPlan", "load_scoring_plan", "scoring_plan_path", "check", "score_table", "Quarterly",
    "CompanyScores", "company_scores", "reviewed", "build", "payout_inputs", "manager_pay", "save_xlsx", "export_frames", "save",
]

VOLUME_UNITS = ("currency", "count")


# =========================================================================== plan




class CurveSpec(Strict):
    """Threshold / target / cap curve (see :class:`helpers.core.scoring.ScoringCurve`)."""

    threshold: float = 0.8
    target: float = 1.0
    cap: float = 1.2
    floor_score: float = 0.0
    threshold_score: float = 60.0
    target_score: float = 100.0
    cap_score: float = 120.0


class StepSpec(Strict):
    """Step table: ``bands`` = [[min_attainment, score], ...] increasing."""

    bands: list[tuple[float, float]]
    below_score: float = 0.0


class SoftSpec(Strict):
    indicators: list[str] = Field(default_factory=list, description="Qualitative ratings (0–100) of the soft part.")


class GradeSpec(Strict):
    method: Literal["forced", "absolute"] = "forced"
    distribution: dict[str, float] = Field(default_factory=lambda: dict(scoring.DEFAULT_DISTRIBUTION))
    bands: dict[str, float] = Field(default_factory=lambda: dict(scoring.DEFAULT_BANDS))
    tie_breaker: Literal["sales_attainment", "none"] = "sales_attainment"


class PaySpec(Strict):
    monthly_base_pay: float = Field(20000.0, ge=0)
    what_if: list[float] = Field(default_factory=lambda: [0.8, 1.0, 1.2])


class ScoringPlan(Strict):
    """``params/scoring.yaml``."""

    weight_scheme: str | None = None
    targets_csv: str | None = None
    fallback_targets: dict[str, Union[Literal["peer_median"], float]] = Field(default_factory=dict)
    min_weight_available: float = Field(0.5, ge=0, le=1)
    default_curve: CurveSpec = CurveSpec()
    curves: dict[str, Union[CurveSpec, StepSpec]] = Field(default_factory=dict)
    split: float = Field(0.7, ge=0, le=1)
    soft: SoftSpec = SoftSpec()
    grades: GradeSpec = GradeSpec()
    pay: PaySpec = PaySpec()

    @model_validator(mode="after")
    def _scheme(self) -> "ScoringPlan":
        if self.weight_scheme is not None and not SLUG.match(self.weight_scheme):
            raise ValueError(f"weight_scheme {self.weight_scheme!r} must be a file name without folder or .yaml")
        return self


def scoring_plan_path(params: RunParams, params_file: str | Path) -> Path:
    """``scoring`` of the params if the key exists, else ``scoring.yaml`` beside the incentive plan."""
    own = getattr(params, "scoring", None)
    if own:
        return resolve(params_file, own)
    return resolve(params_file, params.incentives).parent / "scoring.yaml"


def load_scoring_plan(path: str | Path) -> ScoringPlan:
    """Read and validate a scoring plan; errors name the file and the key."""
    return load_model(path, ScoringPlan, example="params/scoring.yaml")


def curve_of(plan: ScoringPlan, indicator: str, source: str = "scoring.yaml") -> scoring.ScoringCurve | scoring.StepTable:
    """The curve of ``indicator`` (its own or the default)."""
    spec = plan.curves.get(indicator, plan.default_curve)
    name = f"{source}: curves.{indicator}" if indicator in plan.curves else f"{source}: default_curve"
    if isinstance(spec, StepSpec):
        return scoring.StepTable(tuple(spec.bands), spec.below_score, name=name)
    return scoring.ScoringCurve(**spec.model_dump(), name=name)


def _plan_problems(plan: ScoringPlan, library: Library, weights: list[str], target_ids: set[str] | None,
                   source: str) -> list[Problem]:
    """Semantic checks of a scoring plan against the library, the scheme and the targets."""
    out: list[Problem] = []
    for key, ids in (("curves", list(plan.curves)), ("fallback_targets", list(plan.fallback_targets)),
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


def check(params: RunParams, params_file: str | Path) -> list[Problem]:
    """Every problem of the scoring plan and the incentive plan, before anything runs.

    Scoring plan: syntax and keys; unknown indicators; bad curves; grades; a weight
    scheme that does not exist or names unknown indicators; an indicator of the
    scheme without a target (neither in the target plan / targets CSV nor in
    ``fallback_targets``).  Incentive plan: everything :func:`helpers.core.incentives.load_plan`
    checks (overlapping or unordered tiers, unknown keys).
    """
    problems: list[Problem] = []
    try:
        inc.load_plan(resolve(params_file, params.incentives))
    except InputError as exc:
        problems += exc.problems
    path = scoring_plan_path(params, params_file)
    try:
        plan = load_scoring_plan(path)
    except InputError as exc:
        return problems + exc.problems
    from helpers.notebooks import scenarios

    try:
        library = load_library(resolve(params_file, params.indicators))
    except InputError as exc:
        return problems + exc.problems
    sid = plan.weight_scheme or params.weight_scheme
    weights: list[str] = []
    folder = resolve(params_file, params.weights)
    sfile = folder / f"{sid}.yaml"
    if not sfile.is_file():
        problems.append(Problem(str(path) if plan.weight_scheme else str(params_file),
                                f"weight scheme '{sid}' not found in {folder}", "key 'weight_scheme'",
                                "name a file of the weights folder without .yaml"))
    else:
        spec, sp = scenarios._read_spec(sfile)
        problems += sp
        if spec is not None:
            weights = _scheme_indicators(spec)
            unknown = [i for i in weights if i not in library]
            if unknown:
                problems.append(Problem(str(sfile), f"weights name unknown indicator(s): {', '.join(unknown)}",
                                        "key 'weights'", f"use ids from {library.source}"))
    target_ids: set[str] | None = None
    if plan.targets_csv:
        csv = resolve(path, plan.targets_csv)
        if not csv.is_file():
            problems.append(Problem(str(path), f"targets file {csv} not found", "key 'targets_csv'", "check the path"))
        else:
            target_ids = set(pd.read_csv(csv, dtype=str)["indicator"].dropna().str.strip()) \
                if "indicator" in pd.read_csv(csv, nrows=0).columns else set()
    else:
        try:
            target_ids = set(load_target_plan(resolve(params_file, params.targets)).indicators)
        except InputError as exc:
            problems += exc.problems
    problems += _plan_problems(plan, library, weights, target_ids, str(path))
    return problems


def _scheme_indicators(spec: Any) -> list[str]:
    """Indicators named by a weight-scheme spec (direct weights or an indicator list)."""
    if getattr(spec, "weights", None) is not None:
        return list(spec.weights)
    return list(getattr(spec, "indicators", None) or [])


# =========================================================================== pure scoring


def score_table(
    values: pd.DataFrame,
    targets: pd.DataFrame,
    soft: pd.DataFrame,
    library: Library,
    plan: ScoringPlan,
    weights: pd.Series,
    groups: pd.Series | None = None,
    source: str = "scoring.yaml",
) -> dict[str, pd.DataFrame | pd.Series]:
    """Scores of many managers (rows) for one period.

    ``values`` / ``targets``: managers × the weighted indicators (NaN = no data / no
    target); ``soft``: managers × soft ratings (0–100); ``weights``: indicator →
    weight; ``groups``: team per manager (grades by forced distribution and team
    ranks are within it; None = one group).

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
    att = pd.DataFrame(index=values.index)
    for i in ids:
        att[i] = scoring.attainment(values[i].astype(float), targets[i].astype(float), library[i].higher_is_better)
    sc = pd.DataFrame({i: scoring.score(att[i], curve_of(plan, i, source)) for i in ids}, index=values.index)
    d = scoring.weighted_total_detail(sc, weights, min_available=plan.min_weight_available, source=source)
    soft_score = soft.mean(axis=1) if soft.shape[1] else pd.Series(np.nan, index=values.index)
    soft_score = soft_score.reindex(values.index)
    if plan.split >= 1:
        total = d["total"].rename("total")
    else:
        total = scoring.combine_hard_soft(d["total"], soft_score, plan.split)
    g = groups if groups is not None else pd.Series("all", index=values.index)
    summary = pd.DataFrame({"hard": d["total"], "weight_available": d["weight_available"],
                            "soft": soft_score, "total": total})
    summary["rank"] = scoring.rank(total, g)
    gp = plan.grades
    if gp.method == "forced":
        tb = att["sales"] if (gp.tie_breaker == "sales_attainment" and "sales" in att) else None
        summary["grade"] = scoring.grade_forced(total, gp.distribution, groups=g, tie_breaker=tb)
    else:
        summary["grade"] = scoring.grade_absolute(total, gp.bands)
    return {"attainment": att, "score": sc, "summary": summary}


# =========================================================================== the team review


@dataclass
class Quarterly:
    """Everything notebook 04 shows for one team and period (built by :func:`build`):
    the team's slice of the period's :class:`CompanyScores` (``cs``; plans, weights and
    the hard/soft fallback are read through it), ranked, graded and paid."""

    ctx: Any
    cs: "CompanyScores"
    values: pd.DataFrame        # team managers × weighted indicators
    rows: pd.DataFrame          # data rows behind each value
    targets: pd.DataFrame
    attainment: pd.DataFrame
    scores: pd.DataFrame
    soft: pd.DataFrame
    summary: pd.DataFrame       # every roster manager: name, status, hard, soft, total, ranks, grade, payout
    pay_inputs: pd.DataFrame    # one row per manager and month
    pay: pd.Series              # variable pay per manager (sum of the months)
    statements: dict[str, inc.Statement] = field(default_factory=dict)
    what_if: dict[str, pd.DataFrame] = field(default_factory=dict)
    review: Any = None

    plan = property(lambda self: self.cs.plan)
    plan_file = property(lambda self: self.cs.plan_file)
    library = property(lambda self: self.cs.library)
    scheme = property(lambda self: self.cs.scheme)
    weights = property(lambda self: self.cs.weights)
    dropped = property(lambda self: self.cs.dropped)
    soft_ids = property(lambda self: self.cs.soft_ids)
    target_source = property(lambda self: self.cs.target_source)
    incentive_plan = property(lambda self: self.cs.pay_plan)
    company_n = property(lambda self: self.cs.n)
    no_soft = property(lambda self: self.cs.no_soft)

    def t(self, key: str, **kw: Any) -> str:
        return self.ctx.t(key, **kw)

    def name(self, iid: str) -> str:
        return self.library.name(iid, self.ctx.language)


def _previous_label(period: Any) -> str:
    p = period.period - 1
    return str(p) if period.freq == "Q" else p.strftime("%Y-%m")


def _peer_median(ctx: Any, library: Library, iid: str) -> float:
    ind = library[iid]
    prev = _previous_label(ctx.period)
    c = ctx.company
    sel = c[(c["period"] == prev) & (c["kpi"] == ind.kpi) & (c["segment"] == ind.segment)]
    return float(sel["median"].iloc[0]) if len(sel) else math.nan


def _targets_long(ctx: Any, plan: ScoringPlan, plan_file: Path, library: Library, params_file: Path,
                  workspace: str) -> tuple[pd.DataFrame, str, pd.DataFrame]:
    """``manager_id, indicator, target`` for the period (every manager with a target),
    how they were set, and the monthly sales targets (``manager_id, month, target``)."""
    if plan.targets_csv:
        from helpers.core.targets import read_targets_csv

        known = company_manager_ids(ctx, params_file, workspace)
        t = read_targets_csv(resolve(plan_file, plan.targets_csv), known, library.ids())
        months = {m.strftime("%Y-%m") for m in ctx.period.months}
        lab = t["period"].astype(str)
        monthly = t[(t["indicator"] == "sales") & lab.isin(months) & (ctx.period.freq == "Q")]
        monthly = monthly.assign(month=monthly["period"].astype(str))[["manager_id", "month", "target"]]
        t = t[lab == ctx.period.label]
        return t[["manager_id", "indicator", "target"]], "csv", monthly
    results = targets_only(ctx, params_file, workspace)
    rows = [r.managers[["manager_id", "target"]].assign(indicator=iid) for iid, r in results.items()]
    t = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["manager_id", "target", "indicator"])
    mt = results["sales"].months if "sales" in results else pd.DataFrame(columns=["manager_id", "month", "target"])
    mt = mt.assign(month=mt["month"].astype(str))[["manager_id", "month", "target"]]
    return t[["manager_id", "indicator", "target"]], "targetlab", mt


def _fallback(ctx: Any, plan: ScoringPlan, library: Library, ids: pd.Index, fractions: pd.Series,
              iid: str) -> pd.Series:
    v = plan.fallback_targets[iid]
    base = _peer_median(ctx, library, iid) if v == "peer_median" else float(v)
    s = pd.Series(base, index=ids, dtype=float)
    if v == "peer_median" and library[iid].unit in VOLUME_UNITS:
        s = s * fractions.reindex(ids).fillna(1.0)
    return s


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

    @property
    def n(self) -> int:
        """Managers with a total score (the denominator of company ranks)."""
        return int(self.summary["total"].notna().sum())


def company_scores(ctx: Any, params_file: str | Path | None = None, workspace: str | Path | None = None,
                   roster: pd.DataFrame | None = None) -> CompanyScores:
    """Values, targets and scores of every manager of the company for ``ctx.period``.

    ``ctx`` gives the params, the period, the language and the anonymous company
    aggregates (any team's context, or the company's); ``roster`` is every team's roster
    (:func:`helpers.context.workbook.company_roster`, read when not given) for the active
    fractions that pro-rate peer-median targets of part-period managers.
    """
    from helpers.notebooks import scenarios
    from helpers.context.workbook import cache_get, cache_key, company_roster

    params_file = Path(params_file or ctx.params_file)
    workspace = str(workspace if workspace is not None else (getattr(ctx, "workspace", None) or ""))
    hit = cache_get(workspace, cache_key("scores", ctx.period))
    if hit is not None:  # computed once for the run by helpers.run.runner.precompute
        return hit
    plan_file = scoring_plan_path(ctx.params, params_file)
    plan = load_scoring_plan(plan_file)
    schemes, library = scenarios.load_schemes(ctx.params, params_file)
    sid = plan.weight_scheme or ctx.params.weight_scheme
    if sid not in schemes:
        raise input_error(str(plan_file), f"weight scheme '{sid}' not found", "key 'weight_scheme'",
                          f"use one of: {', '.join(schemes)}")
    problems = _plan_problems(plan, library, [], None, str(plan_file))
    if problems:
        raise InputError(problems)
    pay_plan = inc.load_plan(resolve(params_file, ctx.params.incentives))

    # --- company values (all managers) and the weights of the chosen scheme
    comp = company_actuals(ctx, params_file, workspace)
    allvals = indicator_values(comp, library, ctx.period.label).sort_index()
    allvals = allvals.dropna(how="all")
    _, dropped = scenarios.normalise(allvals, library)
    res = scenarios.resolve_weights(schemes[sid], schemes, library, allvals, dropped)
    weights = res.weights
    ids = list(weights.index)
    soft_ids = [i for i in plan.soft.indicators if i not in dropped]
    no_soft = plan.split < 1 and not soft_ids
    if no_soft:  # documented fallback: no ratings at all in the data → the total is the hard score
        plan = plan.model_copy(update={"split": 1.0})

    # --- targets
    tl, how, monthly_t = _targets_long(ctx, plan, plan_file, library, params_file, workspace)
    tw = tl.pivot_table(index="manager_id", columns="indicator", values="target", aggfunc="first")
    missing = [i for i in ids if i not in tw.columns and i not in plan.fallback_targets]
    if missing:
        raise InputError([Problem(str(plan_file), f"no target for indicator '{i}' of weight scheme '{sid}'",
                                  f"key 'fallback_targets.{i}'",
                                  "set it in the target plan or targets CSV, or add it under fallback_targets")
                          for i in missing])
    company_ids = allvals.index
    roster = company_roster(ctx) if roster is None else roster
    fractions = roster.set_index("manager_id")["fraction"].reindex(company_ids).fillna(1.0)
    targets = pd.DataFrame(index=company_ids)
    src = {}
    for i in ids:
        if i in tw.columns:
            targets[i] = tw[i].reindex(company_ids).astype(float)
            src[i] = how
        else:
            targets[i] = _fallback(ctx, plan, library, company_ids, fractions, i)
            src[i] = "fallback:" + str(plan.fallback_targets[i])
    soft_all = allvals.reindex(columns=soft_ids)
    res_c = score_table(allvals[ids], targets, soft_all, library, plan, weights, None, str(plan_file))
    return CompanyScores(plan, plan_file, library, sid, weights, res.dropped, soft_ids, pay_plan, allvals[ids],
                         soft_all, targets, pd.Series(src).rename("source").to_frame(), tl, monthly_t,
                         res_c["attainment"], res_c["score"], res_c["summary"], no_soft)


def reviewed(ctx: Any, cs: CompanyScores) -> list[str]:
    """The roster managers who are scored: some KPI value in the period (the others are "no data")."""
    own = ctx.actuals[ctx.actuals["period"] == ctx.period.label]
    with_rows = set(own.loc[own["value"].notna(), "manager_id"])
    return [m for m in ctx.manager_ids if m in cs.values.index and m in with_rows]


def build(ctx: Any, params_file: str | Path | None = None, workspace: str | Path | None = None,
          with_review: bool = True, company: CompanyScores | None = None, statements: bool = True) -> Quarterly:
    """Score, grade, rank and pay ``ctx``'s team for ``ctx.period`` (quarter or month).

    ``ctx`` may also be the company's context (``open_team(team="")``): every manager,
    ranked and graded within their team.  ``company``: the period's
    :func:`company_scores` when already computed; ``statements=False`` skips the pay
    statements and what-if tables (totals only)."""
    from helpers.notebooks.review import team_review

    params_file = Path(params_file or ctx.params_file)
    cs = company if company is not None else company_scores(ctx, params_file, workspace,
                                                            roster=None if ctx.team_id else ctx.roster)
    plan, library, weights, soft_ids = cs.plan, cs.library, cs.weights, cs.soft_ids
    ids = list(weights.index)

    # --- team ranks and grades within each team (the company context holds every team);
    #     company ranks from everyone
    team = reviewed(ctx, cs)
    g = ctx.roster.set_index("manager_id")["team_id"].reindex(pd.Index(team, name="manager_id"))
    tres = score_table(cs.values.loc[team, ids], cs.targets.loc[team], cs.soft.loc[team], library, plan, weights, g,
                       str(cs.plan_file))
    rows_w = _rows_wide(ctx, library, ids + soft_ids)

    # --- summary for every roster manager
    r = ctx.roster.set_index("manager_id")
    summ = pd.DataFrame(index=pd.Index(ctx.manager_ids, name="manager_id"))
    summ["name"] = r["name"]
    summ["team_id"] = r["team_id"]
    summ["fraction"] = r["fraction"]
    summ = summ.join(tres["summary"])
    summ["rank_company"] = cs.summary["rank"].reindex(summ.index).astype("Int64")
    summ["grade"] = summ["grade"].fillna(NO_DATA)
    summ["status"] = np.where(summ.index.isin(team), np.where(summ["total"].notna(), "ok", "incomplete"), NO_DATA)
    summ.loc[summ["status"] == NO_DATA, "rank_company"] = pd.NA

    # --- pay (per month of the period, summed)
    pin = payout_inputs(ctx, summ, cs.targets.reindex(team), cs.monthly_targets, plan, cs.pay_plan)
    totals, sts, wi = manager_pay(cs.pay_plan, pin, plan.pay.what_if, detail=statements, language=ctx.language)
    summ["payout"] = totals.reindex(summ.index).astype(float)

    q = Quarterly(ctx, cs, cs.values.reindex(team)[ids], rows_w, cs.targets.reindex(team), tres["attainment"],
                  tres["score"], cs.soft.reindex(team), summ, pin, totals, sts, wi)
    if with_review:
        tl = cs.targets_long
        tl_team = tl[tl["manager_id"].isin(ctx.manager_ids)].assign(period=ctx.period.period)
        q.review = team_review(ctx, library=library, params_file=params_file, targets=tl_team)
    return q


def _rows_wide(ctx: Any, library: Library, ids: list[str]) -> pd.DataFrame:
    """Data rows behind each value (``rows`` of the KPI actuals), managers × indicators."""
    a = ctx.actuals[ctx.actuals["period"] == ctx.period.label]
    out = pd.DataFrame(index=pd.Index(ctx.manager_ids, name="manager_id"))
    for i in ids:
        ind = library[i]
        sel = a[(a["kpi"] == ind.kpi) & (a["segment"] == ind.segment)].drop_duplicates("manager_id")
        out[i] = sel.set_index("manager_id")["rows"].reindex(out.index)
    return out


def _month_fraction(roster: pd.DataFrame, months: list[pd.Period]) -> pd.DataFrame:
    """Active share of each month per manager (days inclusive), rows with share > 0."""
    rows = []
    for r in roster.itertuples(index=False):
        for mo in months:
            lo = max(r.active_from, mo.start_time.normalize())
            hi = min(r.active_to, mo.end_time.normalize())
            days = (hi - lo).days + 1
            if days > 0:
                rows.append((r.manager_id, mo, days / mo.days_in_month))
    return pd.DataFrame(rows, columns=["manager_id", "month", "active_fraction"])


def payout_inputs(ctx: Any, summary: pd.DataFrame, targets: pd.DataFrame, monthly_targets: pd.DataFrame,
                  plan: ScoringPlan, pay_plan: inc.IncentivePlan | None = None) -> pd.DataFrame:
    """Inputs of :func:`helpers.core.incentives.payouts`: one row per manager and month.

    The incentive plan's amounts are per pay period of one month (tiers, bonuses,
    caps), so a quarter is paid as the sum of its months.  Per month: sales (KPI),
    sales target (``monthly_targets``; else the period's target split evenly over its
    months), sales attainment, new customers, CSAT, key customers lost (KPI
    ``lost_customers``, segment key), complaints resolved / escalated (complaints
    table), large first orders (a new customer's first order, in the month the customer
    was acquired, of at least the incentive plan's ``large_first_order.min_amount``), the
    monthly base pay of the scoring plan, the period's total score (score gate) and
    the active share of the month.  Managers with status "no data" are left out.
    Index ``"<manager_id> <month>"``; columns ``manager_id`` and ``month`` say which.
    """
    ok = [m for m in summary.index if summary.at[m, "status"] != NO_DATA]
    months = list(ctx.period.months)
    frame = _month_fraction(ctx.roster[ctx.roster["manager_id"].isin(ok)], months)
    if frame.empty:
        return pd.DataFrame(columns=["manager_id", "month", "sales", "sales_target"])
    frame["label"] = frame["month"].map(lambda p: p.strftime("%Y-%m"))
    a = ctx.monthly

    def kpi(name: str, seg: str = "all") -> np.ndarray:
        s = a[(a["kpi"] == name) & (a["segment"] == seg)].drop_duplicates(["manager_id", "period"])
        s = s.set_index(["manager_id", "period"])["value"]
        return s.reindex(pd.MultiIndex.from_arrays([frame["manager_id"], frame["label"]])).to_numpy(dtype=float)

    out = pd.DataFrame({"manager_id": frame["manager_id"].to_numpy(), "month": frame["label"].to_numpy()})
    out.index = pd.Index(out["manager_id"] + " " + out["month"], name="row")
    out["sales"] = kpi("sales")
    mt = monthly_targets.set_index(["manager_id", "month"])["target"] if len(monthly_targets) else pd.Series(dtype=float)
    keys = pd.MultiIndex.from_arrays([out["manager_id"], out["month"]])
    tgt = mt.reindex(keys).to_numpy(dtype=float) if len(mt) else np.full(len(out), np.nan)
    even = (targets["sales"].reindex(out["manager_id"]).to_numpy(dtype=float) / len(months)
            if "sales" in targets else np.full(len(out), np.nan))
    out["sales_target"] = np.where(np.isnan(tgt), even, tgt)
    out["sales_attainment"] = scoring.attainment(out["sales"].to_numpy(), out["sales_target"].to_numpy())
    out["new_customers"] = np.nan_to_num(kpi("new_customers"))
    out["csat"] = kpi("csat")
    out["key_customers_lost"] = np.nan_to_num(kpi("lost_customers", "key"))
    comp = ctx.tables.get("complaints")
    res = np.zeros(len(out))
    esc = np.zeros(len(out))
    if comp is not None and len(comp):
        c = comp.assign(month=pd.to_datetime(comp["date"]).dt.strftime("%Y-%m"))
        r = c[c["resolved"].astype(bool)].groupby(["manager_id", "month"]).size()
        e = c[c["escalated"].astype(bool)].groupby(["manager_id", "month"]).size()
        res = r.reindex(keys).fillna(0).to_numpy(dtype=float)
        esc = e.reindex(keys).fillna(0).to_numpy(dtype=float)
    out["complaints_resolved"] = res
    out["complaints_escalated"] = esc
    lf = pay_plan.new_customer_bonus.large_first_order if pay_plan and pay_plan.new_customer_bonus else None
    out["large_first_orders"] = _large_first_orders(ctx, keys, lf.min_amount) if lf else 0.0
    out["monthly_base_pay"] = plan.pay.monthly_base_pay
    out["months_in_period"] = 1.0
    out["total_score"] = summary["total"].reindex(out["manager_id"]).to_numpy(dtype=float)
    out["active_fraction"] = frame["active_fraction"].to_numpy()
    return out


def _large_first_orders(ctx: Any, keys: pd.MultiIndex, min_amount: float) -> np.ndarray:
    """New customers whose first order is at least ``min_amount``, per manager and month.

    A customer counts in the month of its ``acquired_date`` when its earliest order
    (ties: lowest order id) falls in that month and reaches ``min_amount``.  Tying the
    order to the acquisition month makes the count the same whether the orders are one
    team's slice or the whole company's (a customer reassigned from another manager
    is not new again)."""
    orders, customers = ctx.tables.get("orders"), ctx.tables.get("customers")
    if orders is None or not len(orders) or customers is None or not len(customers):
        return np.zeros(len(keys))
    o = orders.sort_values(["date", "order_id"], kind="mergesort").drop_duplicates("customer_id")
    o = o.merge(customers[["customer_id", "acquired_date"]], on="customer_id")
    month = pd.to_datetime(o["date"]).dt.to_period("M")
    o = o[(month == pd.to_datetime(o["acquired_date"]).dt.to_period("M")) & (o["amount"] >= min_amount)]
    n = o.assign(month=pd.to_datetime(o["date"]).dt.strftime("%Y-%m")).groupby(["manager_id", "month"]).size()
    return n.reindex(keys).fillna(0).to_numpy(dtype=float)


def manager_pay(pay_plan: inc.IncentivePlan, pin: pd.DataFrame, what_if: list[float], detail: bool = True,
                language: str = "en") -> tuple[pd.Series, dict[str, inc.Statement], dict[str, pd.DataFrame]]:
    """Pay per manager = Σ over the months of the period of :func:`helpers.core.incentives.payouts`.

    Returns totals, one statement per manager in ``language`` (every month's lines, the
    item prefixed with the month) and the what-if table (sum over the months, each month's sales at
    ``a`` × its target); with ``detail=False`` the totals only.
    """
    if pin.empty:
        return pd.Series(dtype=float, name="payout"), {}, {}
    cols = [c for c in pin.columns if c not in ("manager_id", "month")]
    pay = inc.payouts(pay_plan, pin[cols], source="payout inputs")
    totals = pay["total"].groupby(pin["manager_id"].to_numpy()).sum().rename("payout")
    if not detail:
        return totals, {}, {}
    statements: dict[str, inc.Statement] = {}
    wi: dict[str, pd.DataFrame] = {}
    for m, rows in pin.groupby("manager_id", sort=False):
        lines, frames = [], []
        for key in rows.index:
            st = worded(inc.statement(pay_plan, pin[cols], key), language)
            month = rows.at[key, "month"]
            lines.append(st.lines.assign(month=month, item=[f"{month} {x}" for x in st.lines["item"]]))
            x = inc.ManagerInputs.from_row(pin[cols].loc[key], manager_id=m)
            if math.isfinite(x.sales_target) and x.sales_target > 0:
                frames.append(inc.what_if(pay_plan, x, what_if))
        statements[m] = inc.Statement(m, pd.concat(lines, ignore_index=True), float(totals[m]))
        if frames and len(frames) == len(rows):
            wi[m] = sum(frames[1:], frames[0])
    return totals, statements, wi


# =========================================================================== exports


def save_xlsx(output_dir: Path | None, sheets: dict[str, pd.DataFrame], name: str) -> Path | None:
    """Write an .xlsx artifact atomically (temp file in the same folder, then os.replace).

    Mirrors :meth:`helpers.context.workbook.TeamContext.save_csv`; no-op without an output dir.
    """
    if output_dir is None:
        return None
    if not SLUG.match(name.removesuffix(".xlsx")):
        raise ValueError(f"artifact name {name!r} is not a plain file name")
    path = Path(output_dir) / (name if name.endswith(".xlsx") else f"{name}.xlsx")
    return exports.save_xlsx(path, sheets)


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
    })
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
    lines = [st.lines.assign(manager_id=m) for m, st in q.statements.items()]
    cols = ["manager_id", "month", "component", "item", "quantity", "rate", "subtotal", "explanation"]
    pl = pd.concat(lines, ignore_index=True)[cols] if lines else pd.DataFrame(columns=cols)
    return {"scorecard": df, "payout_lines": pl}


def save(q: Quarterly) -> None:
    """Write ``scorecard.csv`` and ``scorecard.xlsx`` (sheets scorecard, payout_lines)."""
    frames = export_frames(q)
    q.ctx.save_csv(frames["scorecard"], "scorecard")
    save_xlsx(q.ctx.output_dir, frames, "scorecard")


# =========================================================================== what the notebook shows


def intro(q: Quarterly) -> Markdown:
    """Overview: period, managers, scheme, split, grading rule, averages."""
    s = q.summary
    ok = s[s["status"] == "ok"]
    nd = s[s["status"] == NO_DATA]
    lang = q.ctx.language
    text = q.t("qr.intro", team=escape(q.ctx.team_name), period=q.ctx.period.label, n=len(s), ok=len(ok),
               scheme=escape(q.scheme), hard=f"{q.plan.split:.0%}", soft=f"{1 - q.plan.split:.0%}",
               grading=q.t(f"qr.grading.{q.plan.grades.method}"),
               mean=fmt(ok["total"].mean() if len(ok) else math.nan, "score", lang),
               payout=fmt(s["payout"].sum() if s["payout"].notna().any() else math.nan, "currency", lang),
               company=q.company_n)
    if len(nd):
        text += "\n\n" + q.t("qr.no_data", names="、".join(escape(x) for x in nd["name"]) if lang == "zh"
                             else ", ".join(escape(x) for x in nd["name"]))
    if q.dropped:
        text += "\n\n" + q.t("qr.dropped", ids=", ".join(escape(q.name(i)) for i in q.dropped))
    if q.no_soft:
        text += "\n\n" + q.t("qr.no_soft")
    return Markdown(text)


def weights_table(q: Quarterly) -> Styler:
    """Weights, targets' source and curve per weighted indicator."""
    lang = q.ctx.language
    rows = []
    for i, w in q.weights.items():
        c = q.plan.curves.get(i, q.plan.default_curve)
        curve = (f"{c.threshold:.0%}/{c.target:.0%}/{c.cap:.0%} → {c.threshold_score:g}/{c.target_score:g}/"
                 f"{c.cap_score:g}") if isinstance(c, CurveSpec) else "; ".join(f"≥{a:.0%}: {b:g}" for a, b in c.bands)
        srcv = q.target_source["source"].get(i, "")
        rows.append({q.t("qr.col.indicator"): q.name(i), q.t("qr.col.weight"): w,
                     q.t("qr.col.direction"): q.t("qr.higher" if q.library[i].higher_is_better else "qr.lower"),
                     q.t("qr.col.target_source"): q.t("qr.src." + srcv.split(":")[0]),
                     q.t("qr.col.curve"): curve})
    return table(pd.DataFrame(rows), {q.t("qr.col.weight"): "ratio"}, lang)


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
        q.t("qr.col.payout"): s["payout"].to_numpy(),
        q.t("qr.col.status"): [_status_text(q, x) for x in s["status"]],
    })
    units = {q.t("qr.col.hard"): "score", q.t("qr.col.soft"): "score", q.t("qr.col.total"): "score",
             q.t("qr.col.payout"): "currency"}
    return table(df, units, lang)


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
            vals.append(f"{sc:.0f} ({percent(at)})" if not _na(sc) else _why_missing(q, m, i))
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
    if _na(t):
        return q.t("qr.no_target")
    return q.t("qr.zero_target") if t == 0 else q.t("qr.undefined")


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


def _trend_chart(q: Quarterly, m: str) -> None:
    import matplotlib.pyplot as plt

    from helpers.present import plotting

    ids = [i for i in q.weights.index if q.library[i].kpi][:6]
    a, c = q.ctx.actuals, q.ctx.company
    periods = sorted(a["period"].unique())
    periods = [p for p in periods if p <= q.ctx.period.label][-6:]
    fig, axes = plt.subplots(1, len(ids), figsize=(min(12, 2.2 * len(ids) + 1), 2.4), squeeze=False)
    for ax, i in zip(axes[0], ids):
        ind = q.library[i]
        mine = a[(a["manager_id"] == m) & (a["kpi"] == ind.kpi) & (a["segment"] == ind.segment)]
        mine = mine.set_index("period")["value"].reindex(periods)
        med = c[(c["kpi"] == ind.kpi) & (c["segment"] == ind.segment)].set_index("period")["median"].reindex(periods)
        x = range(len(periods))
        ax.plot(x, med.to_numpy(dtype=float), color="grey", ls="--", lw=1, label=q.t("qr.chart.median"))
        ax.plot(x, mine.to_numpy(dtype=float), marker="o", lw=1.5, label=q.t("qr.chart.manager"))
        ax.set_title(q.name(i), fontsize=9)
        ax.set_xticks(list(x))
        ax.set_xticklabels([plotting.period_tick(p) for p in periods], fontsize=7, rotation=45)
        ax.yaxis.set_major_formatter(plotting.value_formatter(ind.unit, q.ctx.language))
        ax.tick_params(axis="y", labelsize=7)
    handles, labels = axes[0][0].get_legend_handles_labels()  # above the panels, never over a line
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8, frameon=False)
    plotting.finish(fig)


def statement_table(q: Quarterly, m: str) -> Styler | Markdown:
    """One manager's pay statement, line by line."""
    st = q.statements.get(m)
    if st is None:
        return Markdown(q.t("qr.status.no_data"))
    d = st.lines[st.lines["subtotal"].abs() > 1e-9]  # zero lines are in scorecard.xlsx
    df = pd.DataFrame({q.t("qr.col.item"): d["item"], q.t("qr.col.explanation"): d["explanation"],
                       q.t("qr.col.subtotal"): d["subtotal"]})
    total = pd.DataFrame({q.t("qr.col.item"): [q.t("qr.col.payout")], q.t("qr.col.explanation"): [""],
                          q.t("qr.col.subtotal"): [st.total]})
    return table(pd.concat([df, total], ignore_index=True), {q.t("qr.col.subtotal"): "currency"}, q.ctx.language)


def what_if_table(q: Quarterly, m: str) -> Styler | Markdown:
    """Pay at 80 / 100 / 120 % of the sales target."""
    w = q.what_if.get(m)
    if w is None:
        return Markdown(q.t("qr.no_what_if"))
    df = pd.DataFrame({q.t("qr.col.attainment"): [f"{a:.0%}" for a in w.index],
                       q.t("qr.col.sales"): w["sales"].to_numpy(), q.t("qr.col.commission"): w["commission"].to_numpy(),
                       q.t("qr.col.payout"): w["total"].to_numpy()})
    return table(df, {q.t("qr.col.sales"): "currency", q.t("qr.col.commission"): "currency",
                      q.t("qr.col.payout"): "currency"}, q.ctx.language)


def manager_sections(q: Quarterly) -> None:
    """A ``###`` section per manager: scorecard line, trend chart, strengths and
    weaknesses, improvement plan, the draft of the period's summary (月度总结, the
    seed article's five parts) for the manager to complete, pay statement and what-if."""
    from helpers.notebooks import review as rv

    s = q.summary
    for m in s.index:
        r = s.loc[m]
        display(Markdown(f"### {escape(r['name'])}"))
        if r["status"] == NO_DATA:
            display(Markdown(q.t("qr.manager_no_data")))
            continue
        display(Markdown(q.t("qr.manager_line", total=fmt(r["total"], "score", q.ctx.language),
                             grade=r["grade"] if r["grade"] != NO_DATA else q.t("qr.status.no_data"),
                             rank=_rank(r["rank"]), n=int(s["rank"].notna().sum()),
                             crank=_rank(r["rank_company"]), cn=q.company_n,
                             payout=fmt(r["payout"], "currency", q.ctx.language))))
        _trend_chart(q, m)
        if q.review is not None:
            display(Markdown(f"**{q.t('qr.h.findings')}**"))
            display(rv.findings_markdown(q.review, m))
            display(Markdown(f"**{q.t('qr.h.plan')}**"))
            display(rv.plan_table(q.review, m))
            display(Markdown(f"**{q.t('qr.h.summary')}**"))
            display(rv.summary_markdown(q.review, m))
        display(Markdown(f"**{q.t('qr.h.statement')}**"))
        display(statement_table(q, m))
        display(Markdown(f"**{q.t('qr.h.what_if')}**"))
        display(what_if_table(q, m))


def signoff_html(q: Quarterly) -> str:
    """Sign-off pages (签字确认), one ``.kpi-page`` block per manager (page break before
    each), from the template ``present/templates/signoff/signoff.html.j2``."""
    lang = q.ctx.language
    pages = []
    for m, r in q.summary.iterrows():
        grade = q.t("qr.status.no_data") if r["grade"] == NO_DATA else r["grade"]
        facts = [(q.t("qr.col.manager"), str(r["name"])), (q.t("qr.sign.team"), str(q.ctx.team_name)),
                 (q.t("qr.sign.period"), q.ctx.period.label),
                 (q.t("qr.col.total"), fmt(r["total"], "score", lang)), (q.t("qr.col.grade"), str(grade)),
                 (q.t("qr.col.rank_team"), _rank(r["rank"])),
                 (q.t("qr.col.payout"), fmt(r["payout"], "currency", lang))]
        pages.append({"name": str(r["name"]), "facts": facts, "detail": _signoff_detail(q, m)})
    return render("signoff/signoff.html.j2", pages=pages, title=q.t("qr.sign.title"), text=q.t("qr.sign.text"),
                  detail_title=q.t("qr.sign.detail"), colon=q.t("word.colon"), date_label=q.t("qr.sign.date"),
                  signers=[q.t("qr.sign.manager"), q.t("qr.sign.supervisor")],
                  detail_head=[q.t("qr.col.indicator"), q.t("qr.col.weight"), q.t("qr.sign.col.target"),
                               q.t("qr.sign.col.actual"), q.t("qr.sign.col.attainment"), q.t("qr.sign.col.points")])


def _signoff_detail(q: Quarterly, m: str) -> list[list[str]]:
    """The manager's indicators on the sign-off page (what is signed is on the page):
    indicator, weight, target, actual, attainment and points, as in the scorecard."""
    if m not in q.scores.index or q.summary.at[m, "status"] == NO_DATA:
        return []
    lang = q.ctx.language
    rows = []
    for i in q.weights.index:
        unit = {"points": "score"}.get(q.library[i].unit, q.library[i].unit)  # no "+" sign on a target
        sc = _cell(q.scores, m, i)
        rows.append([str(v) for v in (q.name(i), f"{q.weights[i]:.0%}", fmt(_cell(q.targets, m, i), unit, lang),
                                      fmt(_cell(q.values, m, i), unit, lang), percent(_cell(q.attainment, m, i)),
                                      f"{sc:.1f}" if not _na(sc) else _why_missing(q, m, i))])
    return rows


def signoff_pages(q: Quarterly) -> HTML:
    """The sign-off pages, ready to display."""
    return HTML(signoff_html(q))


# ======================================================================================
# what the run needs to know (read by helpers.run.runner; the notebook's metadata names this module)
# ======================================================================================


def check_inputs(params: RunParams, params_file: str | Path, ds: Any) -> list[Problem]:
    """The scoring and pay plans, the weight scheme, and the target plan the review scores against."""
    from helpers.notebooks import scenarios

    return [*check(params, params_file), *check_plan(params, params_file, tables=set(ds.tables)),
            *scenarios.check_inputs(params, params_file, ds)]


def share_scores(ctx: Any, params_file: str | Path, workspace: str | Path, teams: list[str]) -> str:
    """Score every manager of the company once for the run (ranks and grades are company-wide)."""
    from helpers.context.workbook import cache_key, cache_put

    key = cache_key("scores", ctx.period)
    cache_put(workspace, key, company_scores(ctx, params_file, workspace, roster=ctx.roster))
    return key


SHARED = {"scores": share_scores}
"""Company-wide results this notebook reads, each with the function that prepares it once per run."""
