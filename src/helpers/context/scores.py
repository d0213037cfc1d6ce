"""The company's scores for the run: every manager's values, targets and scores under
the scoring plan, computed once per run and shared by the notebooks that read them
(04 reviews a team, 05 summarises the company), and the pay inputs of a team.

:func:`share_scores` computes them in the runner's pool (declared by notebook 04 in
its ``SHARED``); :func:`company_scores` reads them back, or computes them on the spot
when a notebook is opened in JupyterLab without a workspace."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers.context.record import snapshot
from helpers.context.review import team_review
from helpers.context.schemes import load_schemes
from helpers.context.targets import targets_only
from helpers.context.workbook import (cache_get, cache_key, cache_put, company_actuals, company_manager_ids,
                                      company_ratings, company_roster)
from helpers.core.rubric import rating_problems, soft_scores
from helpers.core import incentives as inc
from helpers.core import scoring
from helpers.core.phrases import Bilingual
from helpers.data.plan_csv import read_targets_csv
from helpers.data.responsibility import responsible_at, spells_from
from helpers.core.attainment import NO_DATA
from helpers.core.schemes import normalise, resolve_weights
from helpers.core.scorecard import (CompanyScores, assessment_status, manager_pay, score_table,
                                    scoring_plan_problems)
from helpers.errors import InputError, Problem, input_error
from helpers.kpis.indicators import VOLUME_UNITS, Library, indicator_values, load_library
from helpers.plan.params import RunParams, resolve
from helpers.plan.scoring import ScoringPlan, load_rubric, load_scoring_plan, scoring_plan_path
from helpers.plan.targets import load_target_plan
from helpers.plan.weights import read_scheme_spec

__all__ = ["check_scoring", "check_ratings", "company_scores", "targets_wide", "reviewed", "payout_inputs", "share_scores", "Quarterly", "score_team"]


def check_ratings(params: RunParams, params_file: str | Path, ds: Any) -> list[Problem]:
    """The soft appraisal's ratings against the rubric the scoring plan names (a rating
    that is not one of a dimension's levels, when the rubric asks for exact levels)."""
    path = scoring_plan_path(params, params_file)
    try:
        plan = load_scoring_plan(path)
        rubric = load_rubric(plan, path)
    except InputError as exc:
        return exc.problems
    if rubric is None or ds is None or not ds.has("ratings"):
        return []
    src = str(getattr(ds, "files", {}).get("ratings", "ratings"))
    return rating_problems(ds["ratings"], rubric, src)


def check_scoring(params: RunParams, params_file: str | Path) -> list[Problem]:
    """Every problem of the scoring plan and the incentive plan, before anything runs.

    Scoring plan: syntax and keys; unknown indicators; bad curves; grades; a weight
    scheme that does not exist or names unknown indicators; an indicator of the
    scheme without a target (neither in the target plan / targets CSV nor in
    ``fallback_targets``).  Incentive plan: everything :func:`helpers.core.incentives.load_plan`
    checks (overlapping or unordered tiers, unknown keys).
    """
    problems: list[Problem] = []
    pay_plan = None
    try:
        pay_plan = inc.load_plan(resolve(params_file, params.incentives))
    except InputError as exc:
        problems += exc.problems
    path = scoring_plan_path(params, params_file)
    try:
        plan = load_scoring_plan(path)
    except InputError as exc:
        return problems + exc.problems
    try:
        library = load_library(resolve(params_file, params.indicators))
    except InputError as exc:
        return problems + exc.problems
    from helpers.periods import parse_period

    try:
        first = parse_period(params.period).months[0].strftime("%Y-%m")
    except InputError:  # the params' own check reports the period
        first = "0000-00"
    sid, _ = plan.scheme_for(params.weight_scheme, first)  # the scheme the run's period is scored with
    weights: list[str] = []
    folder = resolve(params_file, params.weights)
    sfile = folder / f"{sid}.yaml"
    for n, ch in enumerate(plan.scheme_changes):
        if not (folder / f"{ch.scheme}.yaml").is_file():
            problems.append(Problem(str(path), f"weight scheme '{ch.scheme}' not found in {folder}",
                                    f"key 'scheme_changes[{n}].scheme'", "name a file of the weights folder without .yaml"))
    if not sfile.is_file():
        if sid == (plan.weight_scheme or params.weight_scheme):  # a change's scheme is reported above
            problems.append(Problem(str(path) if plan.weight_scheme else str(params_file),
                                    f"weight scheme '{sid}' not found in {folder}", "key 'weight_scheme'",
                                    "name a file of the weights folder without .yaml"))
    else:
        spec, sp = read_scheme_spec(sfile)
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
    problems += scoring_plan_problems(plan, library, weights, target_ids, str(path))
    if pay_plan is not None:
        problems += pay_plan_problems(pay_plan, library, str(resolve(params_file, params.incentives)))
    return problems


def pay_plan_problems(pay_plan: inc.IncentivePlan, library: Library, source: str) -> list[Problem]:
    """Indicators a points table or a level table names that the library does not have,
    or cannot measure, each with its key."""
    out: list[Problem] = []

    def check(iid: str, key: str, points: bool = False) -> None:
        if iid not in library:
            near = library.suggest(iid)
            out.append(Problem(source, f"unknown indicator '{iid}'", key,
                               (f"did you mean '{near}'? " if near else "") + f"use an id of {library.source}"))
        elif library[iid].kpi is None:
            out.append(Problem(source, f"indicator '{iid}' has no measure in the data", key,
                               "points and levels need an indicator the workbook computes"))
        elif points and not library[iid].volume:
            out.append(Problem(source, f"points are earned per unit of a volume, and '{iid}' is a "
                               f"{library[iid].unit}", key,
                               "give points for a currency or count indicator (a rate can be a level threshold)"))

    for pre, version in [("", pay_plan), *((f"changes[{i}].", v) for i, (_, v) in enumerate(pay_plan.changes))]:
        if version.points is not None:
            for n, r in enumerate(version.points.table):
                check(r.indicator, f"{pre}points.table[{n}].indicator", points=True)
        if version.levels is not None:
            for n, lv in enumerate(version.levels.table):
                for iid in lv.thresholds:
                    check(iid, f"{pre}levels.table[{n}].thresholds.{iid}")
    return list(dict.fromkeys(out))


def all_actuals(ctx: Any, params_file: str | Path, workspace: str | Path, freq: str) -> pd.DataFrame:
    """Every manager's KPI actuals at ``freq`` for every period (the run's workspace, else
    computed from the data)."""
    if workspace and (Path(workspace) / f"kpis_{freq}.parquet").is_file():
        return pd.read_parquet(Path(workspace) / f"kpis_{freq}.parquet")
    from helpers.context.workbook import load_run_data
    from helpers.kpis.measures import kpi_actuals

    return kpi_actuals(load_run_data(ctx.params, params_file), freq)


def _indicator_rows(actuals: pd.DataFrame, library: Library, ids: list[str], to_period: str | None = None
                    ) -> pd.DataFrame:
    """``manager_id, period, indicator, value`` of indicators ``ids`` (their KPI and
    segment) from long KPI actuals; ``to_period``: periods as ``pd.Period`` of that
    frequency."""
    frames = []
    for i in ids:
        ind = library[i]
        sel = actuals[(actuals["kpi"] == ind.kpi) & (actuals["segment"] == ind.segment)]
        frames.append(pd.DataFrame({"manager_id": sel["manager_id"].to_numpy(), "period": sel["period"].to_numpy(),
                                    "indicator": i, "value": sel["value"].to_numpy(dtype=float)}))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["manager_id", "period", "indicator", "value"])
    if to_period is not None:
        out["period"] = pd.PeriodIndex(out["period"].astype(str), freq=to_period)
    return out


def position_levels_of(ctx: Any, params_file: str | Path, workspace: str | Path, library: Library,
                       levels: Any, managers: list[str]) -> Any:
    """Every manager's position level up to the review period's quarter (the pay plan's
    ``levels``, :func:`helpers.core.points.position_levels`) on the quarterly actuals."""
    from helpers.core.points import position_levels

    ids = sorted({i for lv in levels.table for i in lv.thresholds})
    q = _indicator_rows(all_actuals(ctx, params_file, workspace, "Q"), library, ids, "Q")
    last = ctx.period.period.asfreq("Q")  # a month's level is its quarter's
    first = q["period"].min() if len(q) else last
    periods = list(pd.period_range(first, last, freq="Q"))
    return position_levels(levels, q, periods, managers, higher={i: library[i].higher_is_better for i in ids},
                           volume={i: library[i].volume for i in ids})


def _scheme_indicators(spec: Any) -> list[str]:
    """Indicators named by a weight-scheme spec (direct weights or an indicator list)."""
    if getattr(spec, "weights", None) is not None:
        return list(spec.weights)
    return list(getattr(spec, "indicators", None) or [])


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


def company_scores(ctx: Any, params_file: str | Path | None = None, workspace: str | Path | None = None,
                   roster: pd.DataFrame | None = None) -> CompanyScores:
    """Values, targets and scores of every manager of the company for ``ctx.period``.

    ``ctx`` gives the params, the period, the language and the anonymous company
    aggregates (any team's context, or the company's); ``roster`` is every team's roster
    (:func:`helpers.context.workbook.company_roster`, read when not given) for the active
    fractions that pro-rate peer-median targets of part-period managers.
    """

    params_file = Path(params_file or ctx.params_file)
    workspace = str(workspace if workspace is not None else (getattr(ctx, "workspace", None) or ""))
    hit = cache_get(workspace, cache_key("scores", ctx.period))
    if hit is not None:  # computed once for the run by helpers.run.runner.precompute
        return hit
    plan_file = scoring_plan_path(ctx.params, params_file)
    plan = load_scoring_plan(plan_file)
    schemes, library = load_schemes(ctx.params, params_file)
    sid, since = plan.scheme_for(ctx.params.weight_scheme, ctx.period.months[0].strftime("%Y-%m"))
    if sid not in schemes:
        raise input_error(str(plan_file), f"weight scheme '{sid}' not found", "key 'weight_scheme'",
                          f"use one of: {', '.join(schemes)}")
    problems = scoring_plan_problems(plan, library, [], None, str(plan_file))
    if problems:
        raise InputError(problems)
    pay_file = inc.load_plan(resolve(params_file, ctx.params.incentives))
    pay_plan = pay_file.in_force(ctx.period.months[0].strftime("%Y-%m"))  # the version in force as the period opens

    # --- company values (all managers) and the weights of the chosen scheme
    comp = company_actuals(ctx, params_file, workspace)
    allvals = indicator_values(comp, library, ctx.period.label).sort_index()
    allvals = allvals.dropna(how="all")
    allvals = _with_credits(allvals, snapshot(ctx).credits())
    _, dropped = normalise(allvals, library)
    res = resolve_weights(schemes[sid], schemes, library, allvals, dropped)
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
    rubric = load_rubric(plan, plan_file)
    if rubric is not None and soft_ids:  # the published rules: levels, raters averaged, calibration
        soft_all = _rubric_soft(ctx, params_file, workspace, library, rubric, soft_all)
    bases = indicator_values(comp, library, ctx.period.label, column="denominator").reindex(company_ids)
    r_units = roster.set_index("manager_id")
    units = r_units.reindex(company_ids)[["team_id", "region"]]
    res_c = score_table(allvals[ids], targets, soft_all, library, plan, weights, None, str(plan_file),
                        bases=bases, units=units, fractions=fractions)
    levels = None
    if pay_plan.levels is not None:
        levels = position_levels_of(ctx, params_file, workspace, library, pay_plan.levels,
                                    sorted(set(roster["manager_id"]) | set(company_ids)))
    return CompanyScores(plan, plan_file, library, sid, weights, res.dropped, soft_ids, pay_plan, allvals[ids],
                         soft_all, targets, pd.Series(src).rename("source").to_frame(), tl, monthly_t,
                         res_c["attainment"], res_c["score"], res_c["summary"], no_soft,
                         _scheme_name(schemes[sid].spec.name, since), bases, rubric, levels,
                         pay_file)


def _scheme_name(name: Any, since: str) -> Bilingual:
    """The scheme's display name; a scheme that took effect from a month (``scheme_changes``)
    says so, so every report names the version it scored with."""
    if not since:
        return Bilingual(name.zh, name.en)
    return Bilingual(f"{name.zh}（{since} 起执行）", f"{name.en} (in force from {since})")


def _with_credits(values: pd.DataFrame, credits: pd.DataFrame) -> pd.DataFrame:
    """The indicator credits booked to the period (adjustments file: manager, indicator,
    credit) added to the managers' actuals before anything is scored; a credit for an
    indicator the manager has no value of starts from 0."""
    if credits.empty:
        return values
    out = values.copy()
    for r in credits.itertuples(index=False):
        if r.indicator in out.columns:
            if r.manager_id not in out.index:
                out.loc[r.manager_id] = float("nan")
            base = out.at[r.manager_id, r.indicator]
            out.at[r.manager_id, r.indicator] = (0.0 if pd.isna(base) else float(base)) + float(r.credit)
    return out.sort_index()


def _rubric_soft(ctx: Any, params_file: Path, workspace: str, library: Library, rubric: Any,
                 soft: pd.DataFrame) -> pd.DataFrame:
    """Soft ratings under the rubric: each rater's ratings of a manager averaged over the
    period, then the raters averaged (:func:`helpers.core.rubric.soft_scores`); a soft
    indicator that is not a rated dimension keeps its KPI value."""
    ratings = company_ratings(ctx, params_file, workspace)
    if ratings.empty:
        return soft
    scores, _ = soft_scores(ratings, rubric, list(ratings["period"].astype(str).unique()))  # already the period's
    out = soft.copy()
    for i in soft.columns:
        kpi = library[i].kpi or ""
        dim = kpi[len("qual_"):] if kpi.startswith("qual_") else None
        if dim is not None and dim in scores.columns:
            out[i] = scores[dim].reindex(out.index).astype(float)
    return out


def targets_wide(cs: CompanyScores) -> pd.DataFrame:
    """Every manager × every indicator with a target in force (the target plan's, the
    targets CSV's, and the scoring plan's fallbacks for the weighted ones)."""
    tl = cs.targets_long
    wide = tl.pivot_table(index="manager_id", columns="indicator", values="target", aggfunc="first") \
        if len(tl) else pd.DataFrame()
    wide = wide.reindex(wide.index.union(cs.targets.index))
    for i in cs.targets.columns:  # the weighted indicators: targets as the review uses them (fallbacks included)
        wide[i] = cs.targets[i].reindex(wide.index)
    wide.columns.name = None
    return wide.astype(float)


def reviewed(ctx: Any, cs: CompanyScores) -> list[str]:
    """The roster managers who are scored: some KPI value in the period (the others are "no data")."""
    own = ctx.actuals[ctx.actuals["period"] == ctx.period.label]
    with_rows = set(own.loc[own["value"].notna(), "manager_id"])
    return [m for m in ctx.manager_ids if m in cs.values.index and m in with_rows]


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
                  plan: ScoringPlan, pay_plan: inc.IncentivePlan | None = None,
                  attainment: pd.DataFrame | None = None, library: Library | None = None,
                  levels: Any = None, plan_for: Any = None) -> pd.DataFrame:
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

    A points plan adds the monthly actual of each indicator of its points table
    (``pt:<indicator>``, read through ``library``), the points earned earlier in the year
    and the year-end flag; position levels (``levels``, :func:`position_levels_of`) set
    the monthly base pay of the level each manager holds in the period's quarter.

    Evidence and the seed's switches: ``csat_responses`` (the surveys behind the month's
    CSAT), ``new_customers_attainment`` (the review period's new-customer attainment,
    from ``attainment``), ``key_customers_lost_attributable`` (key customers lost whose
    ``lost_attributable`` is true; NaN when the customers table has no such column).

    With the incentive plan's ``settlement: period`` the months are added up into one
    row per manager (``month`` = the period's label): sales, targets and counts summed,
    CSAT over the period's surveys, ``months_in_period`` = the period's months and the
    active share of the whole period — the pay no longer depends on which month an order
    landed in.
    """
    ok = [m for m in summary.index if summary.at[m, "status"] != NO_DATA]
    months = list(ctx.period.months)
    frame = _month_fraction(ctx.roster[ctx.roster["manager_id"].isin(ok)], months)
    if frame.empty:
        return pd.DataFrame(columns=["manager_id", "month", "sales", "sales_target"])
    frame["label"] = frame["month"].map(lambda p: p.strftime("%Y-%m"))
    a = ctx.monthly

    def kpi(name: str, seg: str = "all", column: str = "value") -> np.ndarray:
        s = a[(a["kpi"] == name) & (a["segment"] == seg)].drop_duplicates(["manager_id", "period"])
        s = s.set_index(["manager_id", "period"])[column]
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
    out["csat_responses"] = np.nan_to_num(kpi("csat", "all", "denominator"))
    out["key_customers_lost_attributable"] = _attributable_losses(ctx, keys)
    out["monthly_base_pay"] = plan.pay.monthly_base_pay
    out["months_in_period"] = 1.0
    out["total_score"] = summary["total"].reindex(out["manager_id"]).to_numpy(dtype=float)
    out["active_fraction"] = frame["active_fraction"].to_numpy()
    nca = attainment["new_customers"] if attainment is not None and "new_customers" in attainment else None
    out["new_customers_attainment"] = (nca.reindex(out["manager_id"]).to_numpy(dtype=float) if nca is not None
                                       else np.nan)
    plan_for = plan_for or (lambda _month: pay_plan)
    if pay_plan is not None and library is not None and any(
            plan_for(m.strftime("%Y-%m")).points is not None for m in months):
        out = _points_inputs(ctx, out, plan_for, library)
    if pay_plan is not None and pay_plan.levels is not None and levels is not None:
        held = levels.levels[levels.levels["period"] == ctx.period.period.asfreq("Q")].set_index("manager_id")["level"]
        base = held.reindex(out["manager_id"]).map(pay_plan.levels.base_pay)
        out["monthly_base_pay"] = base.fillna(plan.pay.monthly_base_pay).to_numpy(dtype=float)
    if pay_plan is not None and pay_plan.settlement == "period" and len(months) > 1:
        out = _whole_period(ctx, out, len(months))
    return out


def _points_inputs(ctx: Any, out: pd.DataFrame, plan_for: Any, library: Library) -> pd.DataFrame:
    """The points tables' monthly actuals (``pt:<indicator>``, for every indicator of the
    plan versions in force in the period), the points each manager earned earlier in the
    year (``year_points_before``: each earlier month's actuals under the plan in force in
    that month) and ``year_end`` (1 on December's row)."""
    from helpers.core.points import rule_points

    def rules(month: str) -> list:
        pp = plan_for(month).points
        return list(pp.table) if pp is not None else []

    row_month = pd.PeriodIndex(out["month"], freq="M")
    year_months = sorted({f"{y}-{mo:02d}" for y in set(row_month.year) for mo in range(1, 13)})
    ids = list(dict.fromkeys(r.indicator for m in year_months for r in rules(m)))
    rows = _indicator_rows(ctx.monthly, library, ids)
    wide = rows.pivot_table(index=["manager_id", "period"], columns="indicator", values="value", aggfunc="first")
    keys = pd.MultiIndex.from_arrays([out["manager_id"], out["month"]])
    out = out.copy()
    for i in ids:
        col = wide[i] if i in wide.columns else pd.Series(dtype=float)
        out[inc.POINTS_PREFIX + i] = col.reindex(keys).to_numpy(dtype=float)
    labels = wide.index.get_level_values("period")
    earned = np.zeros(len(wide))
    for m in pd.unique(labels):  # each month's points under the plan in force in that month
        at = np.asarray(labels == m)
        for r in rules(str(m)):
            if r.indicator in wide.columns:
                earned[at] += rule_points(r, wide[r.indicator].to_numpy()[at])[0]
    month = pd.PeriodIndex(labels, freq="M")
    per_m = pd.DataFrame({"manager_id": wide.index.get_level_values("manager_id"), "year": month.year,
                          "month": month.month, "points": earned})
    before = []
    for m, y, mo in zip(out["manager_id"], row_month.year, row_month.month):
        sel = per_m[(per_m["manager_id"] == m) & (per_m["year"] == y) & (per_m["month"] < mo)]
        before.append(float(sel["points"].sum()))
    out["year_points_before"] = before
    out["year_end"] = (row_month.month == 12).astype(float)
    return out


def _whole_period(ctx: Any, monthly: pd.DataFrame, n_months: int) -> pd.DataFrame:
    """The months of each manager added up into one row for the whole period."""
    g = monthly.groupby("manager_id", sort=False)
    sums = ["sales", "sales_target", "new_customers", "key_customers_lost", "complaints_resolved",
            "complaints_escalated", "large_first_orders", "csat_responses"]
    out = g[sums].sum(min_count=1)
    att_lost = g["key_customers_lost_attributable"].sum(min_count=1)
    out["key_customers_lost_attributable"] = att_lost
    for c in ("monthly_base_pay", "total_score", "new_customers_attainment"):
        out[c] = g[c].first()
    for c in [c for c in monthly.columns if c.startswith(inc.POINTS_PREFIX)]:  # a points plan settled at once
        out[c] = g[c].sum(min_count=1)
    if "year_points_before" in monthly.columns:
        out["year_points_before"] = g["year_points_before"].first()
        out["year_end"] = g["year_end"].max()
    out["sales_attainment"] = scoring.attainment(out["sales"], out["sales_target"])
    a = ctx.actuals[(ctx.actuals["period"] == ctx.period.label) & (ctx.actuals["kpi"] == "csat")
                    & (ctx.actuals["segment"] == "all")].drop_duplicates("manager_id").set_index("manager_id")
    out["csat"] = a["value"].reindex(out.index).to_numpy(dtype=float)
    out["csat_responses"] = a["denominator"].reindex(out.index).fillna(0).to_numpy(dtype=float)
    out["months_in_period"] = float(n_months)
    frac = ctx.roster.set_index("manager_id")["fraction"]
    out["active_fraction"] = frac.reindex(out.index).fillna(1.0).clip(upper=1.0).to_numpy(dtype=float)
    out.insert(0, "month", ctx.period.label)
    out.insert(0, "manager_id", out.index.to_numpy())
    out.index = pd.Index(out["manager_id"] + " " + ctx.period.label, name="row")
    return out


def _attributable_losses(ctx: Any, keys: pd.MultiIndex) -> np.ndarray:
    """Key customers lost that the data marks as caused by the manager (``customers.lost_attributable``),
    per manager and month, charged like every loss to the managers responsible on its day
    (with their share); NaN everywhere when the column is absent (the data cannot tell)."""
    cust = ctx.tables.get("customers")
    if cust is None or "lost_attributable" not in cust.columns or not cust["lost_attributable"].notna().any():
        return np.full(len(keys), np.nan)
    c = cust[(cust["segment"] == "key") & cust["lost_date"].notna()]
    c = c[c["lost_attributable"].fillna(False).astype(bool)]
    # charged to the managers responsible on the day of the loss, with their share
    sp = spells_from(cust, ctx.tables["managers"], ctx.tables.get("assignments"))
    who = responsible_at(sp, c["customer_id"].to_numpy(), c["lost_date"].to_numpy())
    month = pd.to_datetime(c["lost_date"]).dt.strftime("%Y-%m").to_numpy()[who["event"].to_numpy()]
    n = who.assign(month=month).groupby(["manager_id", "month"])["share"].sum()
    return n.reindex(keys).fillna(0).to_numpy(dtype=float)


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


def share_scores(ctx: Any, params_file: str | Path, workspace: str | Path, teams: list[str]) -> str:
    """Score every manager of the company once for the run (ranks and grades are company-wide)."""

    key = cache_key("scores", ctx.period)
    cache_put(workspace, key, company_scores(ctx, params_file, workspace, roster=ctx.roster))
    return key


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


def score_team(ctx: Any, params_file: str | Path | None = None, workspace: str | Path | None = None,
          with_review: bool = True, company: CompanyScores | None = None, statements: bool = True) -> Quarterly:
    """Score, grade, rank and pay ``ctx``'s team for ``ctx.period`` (quarter or month).

    ``ctx`` may also be the company's context (``open_team(team="")``): every manager,
    ranked and graded within their team.  ``company``: the period's
    :func:`company_scores` when already computed; ``statements=False`` skips the pay
    statements and what-if tables (totals only)."""
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
                       str(cs.plan_file), bases=cs.bases.reindex(team) if cs.bases is not None else None)
    # grades: the company's, from the plan's grading pools (a team may be pooled with its region)
    tres["summary"]["grade"] = cs.summary["grade"].reindex(tres["summary"].index)
    tres["summary"]["pool"] = cs.summary["pool"].reindex(tres["summary"].index)
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
    summ["status"] = assessment_status(summ["total"], cs.values.reindex(summ.index)[ids],
                                       cs.targets.reindex(summ.index)[ids], summ.index.isin(team))
    summ.loc[summ["status"] == NO_DATA, "rank_company"] = pd.NA

    # --- pay (per month of the period, summed)
    pin = payout_inputs(ctx, summ, cs.targets.reindex(team), cs.monthly_targets, plan, cs.pay_plan,
                        attainment=cs.attainment, library=library, levels=cs.levels, plan_for=cs.plan_for)
    names = {i: Bilingual(library[i].zh, library[i].en) for i in library.ids()}
    totals, sts, wi = manager_pay(cs.pay_plan, pin, plan.pay.what_if, detail=statements, grades=summ["grade"],
                                  names=names, plan_for=cs.plan_for)
    summ["payout"] = totals.reindex(summ.index).astype(float)
    adj = snapshot(ctx).adjustments
    by = adj.groupby("manager_id")["amount"].sum() if len(adj) else pd.Series(dtype=float)
    summ["adjustments"] = by.reindex(summ.index).fillna(0.0).astype(float)
    summ["pay_total"] = summ["payout"].fillna(0.0) + summ["adjustments"]
    summ.loc[summ["payout"].isna() & (summ["adjustments"] == 0), "pay_total"] = float("nan")  # no data: no pay

    q = Quarterly(ctx, cs, cs.values.reindex(team)[ids], rows_w, cs.targets.reindex(team), tres["attainment"],
                  tres["score"], cs.soft.reindex(team), summ, pin, totals, sts, wi)
    if with_review:
        tl = cs.targets_long
        tl_team = tl[tl["manager_id"].isin(ctx.manager_ids)].assign(period=ctx.period.period)
        q.review = team_review(ctx, library=library, params_file=params_file, targets=tl_team)
    return q
