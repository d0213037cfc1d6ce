"""The plan health check of the run: the whole company's pay and scores under the plan in
force, put through :func:`helpers.core.health.plan_health` (computed once per run and
shared by notebook 03, where the consultant designs the plan, and notebook 05, which
gives leadership its verdict in one line).

What is measured (each a number the report words, see :mod:`helpers.core.health`):

* pay against the total score and against territory size (the sales target), Spearman;
* the share of managers at the floor and at the cap of each indicator's curve;
* managers just below a jump of a scoring curve (:func:`helpers.core.scoring.near_cliffs`)
  and just short of a pay rule (:func:`helpers.core.incentives.pay_cliffs`);
* the cost if every manager reached 80 / 100 / 120 % of the sales target, against the
  budget;
* the pay difference if each manager's sales had come in at an even pace against the
  monthly targets (same quarter, different booking dates).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers.context.scores import company_scores, score_team
from helpers.context.workbook import cache_get, cache_key, cache_put, open_team
from helpers.core import health as H
from helpers.core import incentives as inc
from helpers.core import scoring
from helpers.core.attainment import NO_DATA
from helpers.core.scorecard import curve_of, manager_pay

__all__ = ["PlanHealth", "Edges", "edges", "COST_LEVELS", "plan_health_report", "company_health", "share_health"]

#: Attainment levels the plan's cost is shown at.
COST_LEVELS: tuple[float, ...] = (0.8, 1.0, 1.2)

#: "Near" a jump: within 3 attainment points below it.
MARGIN = 0.03


@dataclass
class PlanHealth:
    """The health check of the plan in force for one period (company-wide)."""

    health: H.Health
    rows: pd.DataFrame            # manager_id → name, team_id, payout, total, territory, payout_even
    score_cliffs: pd.DataFrame    # manager_id, indicator, attainment, edge, points, points_at_edge
    pay_cliffs: pd.DataFrame      # manager_id, rule, value, edge
    settlement: str               # the incentive plan's settlement (month | period)
    budget: float | None          # the period's budget


@dataclass
class Edges:
    """Managers just below a jump: of a scoring curve (``score_cliffs``) or of a pay rule
    (``pay_cliffs``: manager_id, rule, value, edge)."""

    score_cliffs: pd.DataFrame
    pay_cliffs: pd.DataFrame


def _curves(cs: Any) -> dict[str, Any]:
    """The scoring curve of each weighted indicator of the plan in force."""
    return {i: curve_of(cs.plan, i, str(cs.plan_file)) for i in cs.weights.index}


def edges(cs: Any, attainment: pd.DataFrame, pay_inputs: pd.DataFrame, margin: float = MARGIN) -> Edges:
    """Who is within ``margin`` below a jump of their indicators' curves (the plan in force)
    or just short of a pay rule (:func:`helpers.core.incentives.pay_cliffs`)."""
    curves = _curves(cs)
    sc = scoring.near_cliffs(attainment.reindex(columns=list(curves)), curves, margin)
    if pay_inputs.empty:
        return Edges(sc, pd.DataFrame(columns=["manager_id", "rule", "value", "edge"]))
    pc = inc.pay_cliffs(cs.pay_plan, pay_inputs, margin)
    pc.insert(0, "manager_id", pay_inputs["manager_id"].reindex(pc["row"]).to_numpy() if len(pc) else [])
    return Edges(sc, pc.drop(columns="row"))


def _even_pace(pin: pd.DataFrame) -> pd.DataFrame:
    """The same period's sales booked at an even pace: each month's sales = the period's
    sales × that month's share of the period's target (the same attainment every month)."""
    out = pin.copy()
    g = out.groupby("manager_id")
    s_tot, t_tot = g["sales"].transform("sum"), g["sales_target"].transform("sum")
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(t_tot > 0, out["sales_target"] / t_tot, 1.0 / g["sales"].transform("size"))
    out["sales"] = s_tot * share
    out["sales_attainment"] = scoring.attainment(out["sales"].to_numpy(), out["sales_target"].to_numpy())
    return out


def _at_level(pin: pd.DataFrame, a: float) -> pd.DataFrame:
    out = pin.copy()
    out["sales"] = a * out["sales_target"]
    out["sales_attainment"] = np.where(out["sales_target"] > 0, a, np.nan)
    return out


def plan_health_report(ctx: Any, params_file: str | Path | None = None,
                       workspace: str | Path | None = None) -> PlanHealth:
    """The health check of the plan in force, from the company's context (``team=""``)."""
    params_file = Path(params_file or ctx.params_file)
    workspace = str(workspace if workspace is not None else (ctx.workspace or ""))
    cs = company_scores(ctx, params_file, workspace, roster=ctx.roster)
    q = score_team(ctx, params_file, workspace, with_review=False, company=cs, statements=False)
    s = q.summary
    ok = s.index[(s["status"] != NO_DATA) & s["total"].notna()]
    pay_plan = cs.pay_plan
    grades = s["grade"]
    pin = q.pay_inputs
    if pay_plan.settlement == "period" or pin.empty:
        even = q.pay
    else:
        even, _, _ = manager_pay(pay_plan, _even_pace(pin), [], detail=False, grades=grades)
    territory = cs.targets["sales"] if "sales" in cs.targets.columns else pd.Series(np.nan, index=cs.targets.index)
    rows = pd.DataFrame({"name": s["name"], "team_id": s["team_id"], "payout": q.pay.reindex(s.index),
                         "total": s["total"], "territory": territory.reindex(s.index),
                         "payout_even": even.reindex(s.index)}).loc[ok]
    cost_at = {}
    if not pin.empty and pin["sales_target"].notna().any():
        for a in COST_LEVELS:
            t, _, _ = manager_pay(pay_plan, _at_level(pin, a), [], detail=False, grades=grades)
            cost_at[a] = float(t.sum())
    months = len(ctx.period.months)
    budget = pay_plan.budget.variable_pay_per_month * months if pay_plan.budget else None
    ids = list(cs.weights.index)
    curves = _curves(cs)
    max_s = {i: (c.cap_score if isinstance(c, scoring.ScoringCurve) else max(b[1] for b in c.bands))
             for i, c in curves.items()}
    floor_s = {i: (c.floor_score if isinstance(c, scoring.ScoringCurve) else c.below_score) for i, c in curves.items()}
    e = edges(cs, cs.attainment.reindex(ok), pin)
    health = H.plan_health(rows[["payout", "total", "territory", "payout_even"]], cs.scores.reindex(ok)[ids], max_s,
                           floor_scores=floor_s, cost_at=cost_at or None, budget=budget,
                           near_cliff=int(len(e.score_cliffs)))
    return PlanHealth(health, rows, e.score_cliffs, e.pay_cliffs, pay_plan.settlement, budget)


def company_health(ctx: Any, params_file: str | Path | None = None,
                   workspace: str | Path | None = None) -> PlanHealth:
    """The period's plan health check: the run's shared result, or computed here (a team's
    context opens the company's)."""
    params_file = Path(params_file or ctx.params_file)
    workspace = str(workspace if workspace is not None else (getattr(ctx, "workspace", None) or ""))
    hit = cache_get(workspace, cache_key("health", ctx.period))
    if hit is not None:
        return hit
    if ctx.team_id:
        ctx = open_team(params_file, "", ctx.period.label, workspace, ctx.language, "")
    return plan_health_report(ctx, params_file, workspace)


def share_health(ctx: Any, params_file: str | Path, workspace: str | Path, teams: list[str]) -> str:
    """Compute the plan health check once for the run (it is company-wide)."""
    key = cache_key("health", ctx.period)
    cache_put(workspace, key, plan_health_report(ctx, params_file, workspace))
    return key
