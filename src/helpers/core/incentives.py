"""Incentive (variable pay) plan: commission tiers, bonuses, penalties, gates, caps.

The plan is a YAML file (``params/incentives.yaml``) validated by
:class:`helpers.plan.incentives.IncentivePlan` and read by
:func:`helpers.plan.incentives.load_plan` (both re-exported here).

Plan elements follow the seed note "绩效管理中的客户指标如何与员工薪酬挂钩?"
(伙伴云): 500 per new customer (plus extra for a large first order), commission 3 %
up to 100k and 5 % for 100k–500k, 10 % of the month's pay deducted per important
customer lost, CSAT ≥ 85 % → 1,000 bonus, +200 per complaint resolved, −300 per
complaint escalated.

Two implementations of the same rules, kept apart on purpose so each checks the
other in the tests:

* :func:`payout` — one manager, plain Python, returns a :class:`Statement` whose
  lines carry a plain-language explanation ("3% × 100,000.00 = 3,000.00") so a
  manager can recompute the pay by hand;
* :func:`payouts` — many managers, vectorised with numpy, one column per component.

Order of the computation (both implementations)::

    commission (gated on sales attainment)  + new-customer bonus + large-first-order bonus
    + satisfaction bonus + complaints resolved                       (= positive items)
    − key-customer-loss penalty − complaints escalated              (= penalties)
    − score gate (withholds all positive items if total score < gate; penalties stay)
    − cap adjustment  (net above the cap is cut to the cap)
    + floor adjustment (net below 0 is raised to 0 if caps.floor_at_zero)
    = total variable pay

Amounts are not rounded; round once at payroll (explanations show 2 decimals).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from helpers.core import points as pts
from helpers.core.phrases import Bilingual, Phrase, T
from helpers.plan.incentives import (  # the plan's models, re-exported with the pay they describe
    Caps,
    Commission,
    Complaints,
    Gates,
    IncentivePlan,
    KeyCustomerLossPenalty,
    LargeFirstOrder,
    NewCustomerBonus,
    Proration,
    SatisfactionBonus,
    Tier,
    _fmt,
    load_plan,
    plan_from_dict,
)
from helpers.plan.base import Strict
from helpers.errors import InputError, Problem, input_error

__all__ = [
    "Tier",
    "Commission",
    "LargeFirstOrder",
    "NewCustomerBonus",
    "SatisfactionBonus",
    "KeyCustomerLossPenalty",
    "Complaints",
    "Gates",
    "Caps",
    "Proration",
    "IncentivePlan",
    "ManagerInputs",
    "Statement",
    "COMPONENTS",
    "load_plan",
    "plan_from_dict",
    "payout",
    "payouts",
    "statement",
    "what_if",
    "pay_cliffs",
]


#: Output columns of :func:`payouts` (and ``component`` values of statement lines).
COMPONENTS: tuple[str, ...] = (
    "commission",
    "new_customer_bonus",
    "large_first_order_bonus",
    "satisfaction_bonus",
    "complaints_resolved",
    "key_customer_loss_penalty",
    "complaints_escalated",
    "points",
    "points_bonus",
    "points_year_bonus",
    "score_gate",
    "cap_adjustment",
    "floor_adjustment",
    "grade_adjustment",
)
_POSITIVE = ("commission", "new_customer_bonus", "large_first_order_bonus", "satisfaction_bonus",
             "complaints_resolved", "points_bonus", "points_year_bonus")
_TOL = 1e-9  # CSAT / gates: 0.85 computed as 17/20 or 0.8500000000001 counts as 0.85


# =========================================================================== plan model


# =========================================================================== loading


# =========================================================================== inputs


class ManagerInputs(Strict):
    """Inputs of one manager for one period.  NaN = no data (never read as 0).

    ``sales`` and ``sales_target`` in currency; ``sales_attainment`` = sales/target
    (for the commission gate); counts (``new_customers``, ``large_first_orders``,
    ``key_customers_lost``, ``complaints_resolved``, ``complaints_escalated``) are
    whole numbers ≥ 0; ``csat`` a 0–1 ratio; ``monthly_base_pay`` the full monthly
    base; ``months_in_period`` the length of the pay period in months;
    ``total_score`` the appraisal total (score gate); ``active_fraction`` ∈ (0, 1]
    the part of the period the manager was active (see
    :func:`helpers.core.scoring.prorate_fraction`).
    """

    manager_id: str = ""
    sales: float = math.nan
    sales_target: float = math.nan
    sales_attainment: float = math.nan
    new_customers: float = 0.0
    large_first_orders: float = 0.0
    csat: float = math.nan
    key_customers_lost: float = 0.0
    complaints_resolved: float = 0.0
    complaints_escalated: float = 0.0
    monthly_base_pay: float = math.nan
    months_in_period: float = 1.0
    total_score: float = math.nan
    active_fraction: float = 1.0
    csat_responses: float = math.nan
    new_customers_attainment: float = math.nan
    key_customers_lost_attributable: float = math.nan
    points_in: dict[str, float] = Field(default_factory=dict)
    year_points_before: float = 0.0
    year_end: float = 0.0

    @model_validator(mode="after")
    def _check(self) -> "ManagerInputs":
        row = pd.DataFrame([self.model_dump()]).set_index("manager_id")
        problems = _input_problems(row, f"inputs {self.manager_id}".strip())
        if problems:
            raise InputError(problems)
        return self

    @classmethod
    def from_row(cls, row: pd.Series | Mapping[str, Any], manager_id: Any = None) -> "ManagerInputs":
        """Build from one row of a :func:`payouts` table (unknown columns ignored)."""
        d = {k: row[k] for k in cls.model_fields if k not in ("manager_id", "points_in") and k in row}
        d = {k: (math.nan if v is None or v is pd.NA else float(v)) for k, v in d.items()}
        keys = row.index if isinstance(row, pd.Series) else list(row)
        pts = {str(k)[len(POINTS_PREFIX):]: row[k] for k in keys if str(k).startswith(POINTS_PREFIX)}
        d["points_in"] = {k: (math.nan if v is None or v is pd.NA else float(v)) for k, v in pts.items()}
        mid = manager_id if manager_id is not None else getattr(row, "name", "")
        return cls(manager_id="" if mid is None else str(mid), **d)


POINTS_PREFIX = "pt:"
"""Input columns ``pt:<indicator>``: the month's actual of each indicator of the points table."""


_COUNTS = ("new_customers", "large_first_orders", "key_customers_lost", "complaints_resolved", "complaints_escalated",
           "csat_responses", "key_customers_lost_attributable")


def _input_problems(df: pd.DataFrame, source: str) -> list[Problem]:
    """Range checks shared by :class:`ManagerInputs` and :func:`payouts` (NaN = no data is fine)."""
    out: list[Problem] = []

    def flag(col: str, mask: np.ndarray, what: str, fix: str) -> None:
        if mask.any():
            ids = [str(i) for i in df.index[mask][:10]]
            more = f" and {int(mask.sum()) - 10} more" if mask.sum() > 10 else ""
            out.append(Problem(source, f"{what} for {', '.join(ids)}{more}", col, fix))

    def col(name: str) -> np.ndarray | None:
        return df[name].to_numpy(dtype=float, na_value=np.nan) if name in df.columns else None

    for c in _COUNTS:
        v = col(c)
        if v is not None:
            flag(c, (v < 0) | (np.isfinite(v) & (v != np.round(v))) | np.isinf(v),
                 "count is negative or not a whole number", "enter a whole number ≥ 0")
    v = col("csat")
    if v is not None:
        flag("csat", (v < 0) | (v > 1), "CSAT outside 0–1", "enter CSAT as a ratio (85 % → 0.85)")
    v = col("active_fraction")
    if v is not None:
        flag("active_fraction", np.isnan(v) | (v <= 0) | (v > 1), "active fraction missing or outside (0, 1]",
             "use prorate_fraction(); leave out managers not active at all")
    v = col("months_in_period")
    if v is not None:
        flag("months_in_period", ~np.isfinite(v) | (v <= 0), "months in period missing or ≤ 0", "e.g. 1 or 3")
    for c in ("monthly_base_pay", "sales_target"):
        v = col(c)
        if v is not None:
            flag(c, (v < 0) | np.isinf(v), "negative or infinite", "enter an amount ≥ 0")
    for c in ("sales", "sales_attainment", "total_score"):
        v = col(c)
        if v is not None:
            flag(c, np.isinf(v), "infinite value", "enter a finite number or leave empty (no data)")
    return out


def _base_pay_needed(plan: IncentivePlan) -> bool:
    return plan.key_customer_loss_penalty is not None or plan.caps.max_multiple_of_base_pay is not None


def _required_columns(plan: IncentivePlan) -> list[str]:
    """Input columns a plan needs (the others default: months 1, active fraction 1)."""
    cols: list[str] = []
    if plan.commission is not None:
        cols.append("sales")
    if plan.gates.min_sales_attainment_for_commission is not None and plan.commission is not None:
        cols.append("sales_attainment")
    if plan.new_customer_bonus is not None:
        cols.append("new_customers")
        if plan.new_customer_bonus.large_first_order is not None:
            cols.append("large_first_orders")
    if plan.satisfaction_bonus is not None:
        cols.append("csat")
        if plan.satisfaction_bonus.min_responses:
            cols.append("csat_responses")
    if plan.new_customer_bonus is not None and plan.new_customer_bonus.only_when_target_met:
        cols.append("new_customers_attainment")
    if plan.key_customer_loss_penalty is not None:
        cols.append("key_customers_lost")
    if plan.complaints is not None:
        cols += ["complaints_resolved", "complaints_escalated"]
    if plan.gates.min_total_score_for_variable_pay is not None:
        cols.append("total_score")
    if _base_pay_needed(plan):
        cols.append("monthly_base_pay")
    if plan.points is not None:
        cols += [POINTS_PREFIX + r.indicator for r in plan.points.table]
    return cols


# =========================================================================== one manager


@dataclass
class Statement:
    """Pay statement of one manager.

    ``lines``: DataFrame with columns ``component`` (one of :data:`COMPONENTS`),
    ``item`` (label), ``quantity`` (basis amount or count), ``rate`` (rate or unit
    amount, negative for deductions), ``subtotal`` and ``explanation`` (plain-language
    arithmetic, e.g. "3% × 100,000.00 = 3,000.00").  ``total`` = sum of subtotals.
    """

    manager_id: str
    lines: pd.DataFrame
    total: float

    def by_component(self) -> pd.Series:
        """Subtotals summed per component (all of :data:`COMPONENTS`, 0 where absent)."""
        return self.lines.groupby("component")["subtotal"].sum().reindex(list(COMPONENTS), fill_value=0.0)


def _pct(r: float) -> str:
    return f"{r * 100:.6g}%"


def _count(x: float) -> str:
    return f"{x:.0f}"


def _tier_label(t: Tier, f: float) -> "Phrase | str":
    lo, hi = t.from_ * f, (None if t.upto is None else t.upto * f)
    return f"{_fmt(lo)}–{_fmt(hi)}" if hi is not None else T("inc.range.above", lo=_fmt(lo))


def _commission_lines(plan: IncentivePlan, x: ManagerInputs) -> list[dict[str, Any]]:
    c = plan.commission
    assert c is not None
    gate = plan.gates.min_sales_attainment_for_commission
    nd = T("inc.no_data")

    def line(item: str, q: float, r: float, sub: float, text: str) -> dict[str, Any]:
        return dict(component="commission", item=item, quantity=q, rate=r, subtotal=sub, explanation=text)

    if math.isnan(x.sales):
        return [line(T("inc.item.commission"), math.nan, math.nan, 0.0, T("inc.x.no_sales", nd=nd))]
    if gate is not None:
        if math.isnan(x.sales_attainment):
            return [line(T("inc.item.commission"), x.sales, math.nan, 0.0,
                         T("inc.x.no_attainment", nd=nd, gate=_pct(gate)))]
        if x.sales_attainment + _TOL < gate:
            return [line(T("inc.item.commission"), x.sales, math.nan, 0.0,
                         T("inc.x.gate_below", att=_pct(x.sales_attainment), gate=_pct(gate)))]
    if x.sales <= 0:
        return [line(T("inc.item.commission"), x.sales, math.nan, 0.0, T("inc.x.sales_nonpositive", sales=_fmt(x.sales)))]
    if c.edges == "share_of_target" and not (math.isfinite(x.sales_target) and x.sales_target > 0):
        return [line(T("inc.item.commission"), x.sales, math.nan, 0.0, T("inc.x.no_target_edges", nd=nd))]
    f, note = _edge_scale(plan, x)
    if c.mode == "whole":
        i = next(k for k, t in enumerate(c.tiers) if t.upto is None or x.sales <= t.upto * f)
        t = c.tiers[i]
        sub = t.rate * x.sales
        return [line(T("inc.item.commission_whole", i=i + 1, range=_tier_label(t, f)), x.sales, t.rate, sub,
                     f"{_pct(t.rate)} × {_fmt(x.sales)} = {_fmt(sub)}" + note)]
    out = []
    for i, t in enumerate(c.tiers):
        lo = t.from_ * f
        hi = math.inf if t.upto is None else t.upto * f
        if x.sales <= lo:
            break
        part = min(x.sales, hi) - lo
        sub = t.rate * part
        out.append(line(T("inc.item.commission_tier", i=i + 1, range=_tier_label(t, f)), part, t.rate, sub,
                        f"{_pct(t.rate)} × {_fmt(part)} = {_fmt(sub)}" + note))
    return out


def _edge_scale(plan: IncentivePlan, x: ManagerInputs) -> tuple[float, "Phrase | str"]:
    """What the tier edges are multiplied by, and the note saying so: the sales target of
    the pay period (edges as shares of target), else the months of the pay period times
    the active share when tier edges are pro-rated."""
    c = plan.commission
    assert c is not None
    if c.edges == "share_of_target":
        return x.sales_target, T("inc.x.tier_share", target=_fmt(x.sales_target))
    f = x.active_fraction if plan.proration.tier_edges else 1.0
    note: "Phrase | str" = T("inc.x.tier_note", f=_pct(f)) if f != 1.0 else ""
    if x.months_in_period != 1.0:
        note = T("inc.x.tier_months", m=f"{x.months_in_period:g}") + note
    return f * x.months_in_period, note


def payout(plan: IncentivePlan, inputs: ManagerInputs, names: Mapping[str, Bilingual] | None = None) -> Statement:
    """Variable pay of one manager with a line-by-line statement (see module docstring).

    Missing data (NaN) in an activity input gives a line saying "no data" that pays 0
    and states why; a missing ``monthly_base_pay`` when the plan needs it (penalty,
    base-pay cap) raises InputError (it is master data, not activity).  Items and
    explanations are :class:`Phrase` objects (or plain arithmetic strings), worded in a
    language by :func:`helpers.present.pay.worded`.  ``names``: indicator id → its names
    (the points lines name the indicator; its id without them).
    """
    x = inputs
    nd = T("inc.no_data")
    who = x.manager_id or "manager"
    if _base_pay_needed(plan) and math.isnan(x.monthly_base_pay):
        raise input_error(f"inputs {who}", "monthly base pay missing", "monthly_base_pay",
                          "the plan's penalty or base-pay cap needs it")
    lines: list[dict[str, Any]] = []

    def add(component: str, q: float, r: float, sub: float, text: str, item: str | None = None) -> None:
        lines.append(dict(component=component, item=item or T(f"inc.item.{component}"), quantity=q, rate=r,
                          subtotal=sub, explanation=text))

    if plan.commission is not None:
        lines += _commission_lines(plan, x)

    nb = plan.new_customer_bonus
    if nb is not None:
        if math.isnan(x.new_customers):
            add("new_customer_bonus", math.nan, nb.per_customer, 0.0, T("inc.x.no_new_customers", nd=nd))
        elif nb.only_when_target_met and not (x.new_customers_attainment + _TOL >= 1.0):
            why = (T("inc.x.nc_not_assessed", n=_count(x.new_customers)) if math.isnan(x.new_customers_attainment)
                   else T("inc.x.nc_below", att=_pct(x.new_customers_attainment), n=_count(x.new_customers)))
            add("new_customer_bonus", x.new_customers, nb.per_customer, 0.0, why)
        else:
            sub = nb.per_customer * x.new_customers
            add("new_customer_bonus", x.new_customers, nb.per_customer, sub,
                T("inc.x.new_customers", per=_fmt(nb.per_customer), n=_count(x.new_customers), sub=_fmt(sub)))
        lf = nb.large_first_order
        if lf is not None:
            if math.isnan(x.large_first_orders):
                add("large_first_order_bonus", math.nan, lf.extra, 0.0, T("inc.x.no_large_first", nd=nd))
            else:
                sub = lf.extra * x.large_first_orders
                add("large_first_order_bonus", x.large_first_orders, lf.extra, sub,
                    T("inc.x.large_first", extra=_fmt(lf.extra), n=_count(x.large_first_orders),
                      min=_fmt(lf.min_amount), sub=_fmt(sub)))

    sb = plan.satisfaction_bonus
    if sb is not None:
        f = x.active_fraction if plan.proration.fixed_bonuses else 1.0
        m = x.months_in_period
        if math.isnan(x.csat):
            add("satisfaction_bonus", math.nan, sb.amount, 0.0, T("inc.x.no_csat", nd=nd))
        elif sb.min_responses and not (x.csat_responses >= sb.min_responses):
            n = 0 if math.isnan(x.csat_responses) else x.csat_responses
            add("satisfaction_bonus", x.csat, sb.amount, 0.0,
                T("inc.x.csat_thin", csat=_pct(x.csat), n=_count(n), min=str(sb.min_responses)))
        elif x.csat + _TOL >= sb.threshold:
            sub = sb.amount * m * f
            text = T("inc.x.csat_paid", csat=_pct(x.csat), th=_pct(sb.threshold), amount=_fmt(sb.amount))
            if not math.isnan(x.csat_responses):
                text += T("inc.x.csat_on", n=_count(x.csat_responses))
            text += T("inc.x.times_months", m=f"{m:g}", sub=_fmt(sb.amount * m)) if m != 1.0 else ""
            text += T("inc.x.active_times", f=_pct(f), sub=_fmt(sub)) if f != 1.0 else ""
            add("satisfaction_bonus", x.csat, sb.amount, sub, text)
        else:
            add("satisfaction_bonus", x.csat, sb.amount, 0.0,
                T("inc.x.csat_unpaid", csat=_pct(x.csat), th=_pct(sb.threshold)))

    cp = plan.complaints
    if cp is not None:
        if math.isnan(x.complaints_resolved):
            add("complaints_resolved", math.nan, cp.per_resolved, 0.0, T("inc.x.no_resolved", nd=nd))
        else:
            sub = cp.per_resolved * x.complaints_resolved
            add("complaints_resolved", x.complaints_resolved, cp.per_resolved, sub,
                f"{_fmt(cp.per_resolved)} × {_count(x.complaints_resolved)} = {_fmt(sub)}")

    kp = plan.key_customer_loss_penalty
    if kp is not None:
        lost, which = _key_losses(kp, x.key_customers_lost, x.key_customers_lost_attributable)
        if math.isnan(lost):
            add("key_customer_loss_penalty", math.nan, math.nan, 0.0, T("inc.x.no_key_lost", nd=nd))
        else:
            unit = kp.fraction_of_monthly_base_pay * x.monthly_base_pay
            raw = unit * lost
            text = T("inc.x.key_lost", frac=_pct(kp.fraction_of_monthly_base_pay), base=_fmt(x.monthly_base_pay),
                     n=_count(lost), sub=_fmt(-raw))
            if which == "attributable":
                text += T("inc.x.key_lost_attributable", all=_count(x.key_customers_lost))
            elif which == "unknown":
                text += T("inc.x.key_lost_unmarked")
            amount = raw
            if kp.max_fraction_per_month is not None:
                cap = kp.max_fraction_per_month * x.monthly_base_pay * x.months_in_period
                if raw > cap:
                    amount = cap
                    text += T("inc.x.key_lost_cap", frac=_pct(kp.max_fraction_per_month), base=_fmt(x.monthly_base_pay),
                              m=f"{x.months_in_period:g}", cap=_fmt(-cap))
            add("key_customer_loss_penalty", lost, -unit, -amount, text)

    if cp is not None:
        if math.isnan(x.complaints_escalated):
            add("complaints_escalated", math.nan, -cp.per_escalated, 0.0, T("inc.x.no_escalated", nd=nd))
        else:
            sub = -cp.per_escalated * x.complaints_escalated
            add("complaints_escalated", x.complaints_escalated, -cp.per_escalated, sub,
                f"-{_fmt(cp.per_escalated)} × {_count(x.complaints_escalated)} = {_fmt(sub)}")

    if plan.points is not None:
        lines += _points_lines(plan, x, names or {})

    gate = plan.gates.min_total_score_for_variable_pay
    if gate is not None:
        positive = sum(ln["subtotal"] for ln in lines if ln["component"] in _POSITIVE)
        if math.isnan(x.total_score) or x.total_score + _TOL < gate:
            why = (T("inc.x.no_score", nd=nd) if math.isnan(x.total_score)
                   else T("inc.x.score_below", score=f"{x.total_score:.2f}", gate=f"{gate:g}"))
            add("score_gate", x.total_score, gate, -positive,
                T("inc.x.score_gate", why=why, withheld=_fmt(-positive)))

    net = sum(ln["subtotal"] for ln in lines)
    caps = plan.caps
    fc = x.active_fraction if plan.proration.caps else 1.0
    active = T("inc.x.active", f=_pct(fc)) if fc != 1.0 else ""
    cands: list[tuple[float, str]] = []
    if caps.max_variable_pay is not None:
        v = caps.max_variable_pay * fc
        cands.append((v, f"{_fmt(caps.max_variable_pay)}" + active))
    if caps.max_multiple_of_base_pay is not None:
        v = caps.max_multiple_of_base_pay * x.monthly_base_pay * x.months_in_period * fc
        cands.append((v, T("inc.x.months", mult=f"{caps.max_multiple_of_base_pay:g}", base=_fmt(x.monthly_base_pay),
                           m=f"{x.months_in_period:g}") + active))
    if cands:
        cap, how = min(cands, key=lambda c: c[0])
        if net > cap:
            add("cap_adjustment", net, cap, cap - net,
                T("inc.x.cap", net=_fmt(net), cap=_fmt(cap), how=how, adj=_fmt(cap - net)), item=T("inc.item.cap"))
            net = cap
    if caps.floor_at_zero and net < 0:
        add("floor_adjustment", net, 0.0, -net, T("inc.x.floor", net=_fmt(net), adj=_fmt(-net)),
            item=T("inc.item.floor"))
        net = 0.0

    df = pd.DataFrame(lines, columns=["component", "item", "quantity", "rate", "subtotal", "explanation"])
    df = df.astype({"quantity": float, "rate": float, "subtotal": float})
    return Statement(manager_id=x.manager_id, lines=df, total=float(df["subtotal"].sum()))


def _pts(x: float) -> str:
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def _points_lines(plan: IncentivePlan, x: ManagerInputs, names: Mapping[str, Bilingual]) -> list[dict[str, Any]]:
    """How the month's points were earned (one line per rule of the points table, no money),
    the bonus they release at the pass mark, and the year-end settlement."""
    pp = plan.points
    assert pp is not None
    out: list[dict[str, Any]] = []
    m = x.months_in_period
    total = 0.0
    for r in pp.table:
        name = names.get(r.indicator, r.indicator)
        actual = x.points_in.get(r.indicator, math.nan)
        earned, raw = (float(v) for v in pts.rule_points(r, actual, m))
        total += earned
        if math.isnan(actual):
            text: Phrase | str = T("inc.x.points_none", nd=T("inc.no_data"))
        else:
            text = T("inc.x.points", actual=_pts(actual), per=_pts(r.per), pts=_pts(r.points),
                     raw=_pts(raw))
            if earned < raw:
                text += T("inc.x.points_cap", cap=_pts(r.cap * m), m=f"{m:g}")
        out.append(dict(component="points", item=T("inc.item.points", name=name), quantity=actual,
                        rate=r.points / r.per, subtotal=0.0, explanation=text))
    f = x.active_fraction if plan.proration.fixed_bonuses else 1.0
    bonus, mark, base, capped = (v.item() for v in pts.month_bonus(pp.month, total, m, f))
    rule = pp.month
    scale: Phrase | str = ""
    if m != 1.0 or f != 1.0:
        scale = T("inc.x.points_scale", mark=_pts(rule.pass_mark), base=_fmt(rule.base), m=f"{m:g}", f=_pct(f))
    args = dict(pts=_pts(total), mark=_pts(mark), base=_fmt(base), sub=_fmt(bonus))
    reached = total + 1e-9 >= mark
    if rule.per_point is not None:  # money per point
        args["rate"] = _fmt(rule.per_point)
        key = ("inc.x.points_per_point" if reached else
               "inc.x.points_per_point_below" if rule.below == "proportional" else "inc.x.points_below_none")
    elif reached:
        key = "inc.x.points_above" if rule.above == "proportional" else "inc.x.points_flat"
    else:
        key = "inc.x.points_below" if rule.below == "proportional" else "inc.x.points_below_none"
    text = T(key, **args) + scale
    if capped:
        text += (T("inc.x.points_max", mult=f"{rule.max_multiple:g}", sub=_fmt(bonus)) if rule.max_multiple is not None
                 and abs(bonus - rule.max_multiple * base) < 1e-9 else T("inc.x.points_max_bonus", sub=_fmt(bonus)))
    out.append(dict(component="points_bonus", item=T("inc.item.points_bonus"), quantity=total, rate=base,
                    subtotal=bonus, explanation=text))
    if pp.year is not None and x.year_end > 0:
        year = x.year_points_before + total
        sub = float(pts.year_bonus(pp.year, year))
        key = "inc.x.points_year" if sub > 0 else "inc.x.points_year_below"
        out.append(dict(component="points_year_bonus", item=T("inc.item.points_year_bonus"), quantity=year,
                        rate=pp.year.per_point, subtotal=sub,
                        explanation=T(key, year=_pts(year), mark=_pts(pp.year.pass_mark),
                                      over=_pts(max(year - pp.year.pass_mark, 0.0)), rate=_pts(pp.year.per_point),
                                      sub=_fmt(sub))))
    return out


def _key_losses(kp: KeyCustomerLossPenalty, lost: Any, attributable: Any) -> tuple[Any, str]:
    """The key-customer losses the penalty counts: all of them, or (seed rule,
    ``attributable_only``) those the data marks as caused by the manager; when the data
    does not say (NaN), every loss counts and the statement says so.  Works on floats
    and arrays; the second value is ``all``, ``attributable`` or ``unknown`` (a scalar
    call) — arrays return ``unknown`` where no mark exists."""
    if not kp.attributable_only:
        return lost, "all"
    if np.ndim(lost) == 0:
        return (lost, "unknown") if math.isnan(attributable) else (attributable, "attributable")
    return np.where(np.isnan(attributable), lost, attributable), "mixed"


# =========================================================================== many managers


def _column(table: pd.DataFrame, name: str, default: float) -> np.ndarray:
    if name in table.columns:
        return table[name].to_numpy(dtype=float, na_value=np.nan)
    return np.full(len(table), default, dtype=float)


def _vector_commission(plan: IncentivePlan, sales: np.ndarray, att: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Commission of many managers; ``f``: what the tier edges are multiplied by (see :func:`_edge_scale`)."""
    c = plan.commission
    assert c is not None
    s = np.where(np.isnan(sales), 0.0, np.maximum(sales, 0.0))
    f = np.where(np.isnan(f) | (f <= 0), np.nan, f)
    s = np.where(np.isnan(f), 0.0, s)
    f = np.nan_to_num(f, nan=1.0)
    froms = np.array([t.from_ for t in c.tiers])
    uptos = np.array([np.inf if t.upto is None else t.upto for t in c.tiers])
    rates = np.array([t.rate for t in c.tiers])
    lo = froms[None, :] * f[:, None]
    hi = uptos[None, :] * f[:, None]
    if c.mode == "marginal":
        with np.errstate(invalid="ignore"):
            width = np.where(np.isinf(hi), np.inf, hi - lo)
        comm = (np.clip(s[:, None] - lo, 0.0, width) * rates[None, :]).sum(axis=1)
    else:
        k = (s[:, None] > hi[:, :-1]).sum(axis=1)  # upto inclusive
        comm = rates[k] * s
    gate = plan.gates.min_sales_attainment_for_commission
    if gate is not None:
        comm = np.where(np.isnan(att) | (att + _TOL < gate), 0.0, comm)
    return comm


def payouts(plan: IncentivePlan, table: pd.DataFrame, source: str = "payout inputs") -> pd.DataFrame:
    """Variable pay for many managers (vectorised); rows as in ``table``.

    ``table`` has one row per manager and the columns of :class:`ManagerInputs` that
    the plan needs (missing ones → InputError listing them; ``months_in_period`` and
    ``active_fraction`` default to 1).  Returns one column per component in
    :data:`COMPONENTS` (deductions negative), ``total`` and ``no_data`` (the inputs
    that were missing for that manager, ";"-separated, "" if none).  The line-by-line
    statement of one manager: :func:`statement`.  Same rules as :func:`payout`.
    """
    missing = [c for c in _required_columns(plan) if c not in table.columns]
    if missing:
        raise input_error(source, f"missing column(s): {', '.join(missing)}",
                          fix="add them (one row per manager); NaN cells mean no data")
    problems = _input_problems(table, source)
    n = len(table)
    base = _column(table, "monthly_base_pay", np.nan)
    if _base_pay_needed(plan) and np.isnan(base).any():
        ids = ", ".join(map(str, table.index[np.isnan(base)][:10]))
        problems.append(Problem(source, f"monthly base pay missing for {ids}", "monthly_base_pay",
                                "the plan's penalty or base-pay cap needs it"))
    if problems:
        raise InputError(problems)

    months = _column(table, "months_in_period", 1.0)
    f = _column(table, "active_fraction", 1.0)
    out: dict[str, np.ndarray] = {c: np.zeros(n) for c in COMPONENTS}
    nodata: list[np.ndarray] = []

    def note(name: str, mask: np.ndarray) -> None:
        nodata.append(np.where(mask, name, ""))

    if plan.commission is not None:
        sales = _column(table, "sales", np.nan)
        att = _column(table, "sales_attainment", np.nan)
        if plan.commission.edges == "share_of_target":
            fe = _column(table, "sales_target", np.nan)
        else:
            fe = (f if plan.proration.tier_edges else np.ones(n)) * months
        out["commission"] = _vector_commission(plan, sales, att, fe)
        note("sales", np.isnan(sales))
        if plan.gates.min_sales_attainment_for_commission is not None:
            note("sales_attainment", np.isnan(att) & ~np.isnan(sales))
    nb = plan.new_customer_bonus
    if nb is not None:
        nc = _column(table, "new_customers", np.nan)
        out["new_customer_bonus"] = np.nan_to_num(nb.per_customer * nc)
        if nb.only_when_target_met:
            nca = _column(table, "new_customers_attainment", np.nan)
            out["new_customer_bonus"] = np.where(nca + _TOL >= 1.0, out["new_customer_bonus"], 0.0)
        note("new_customers", np.isnan(nc))
        if nb.large_first_order is not None:
            lf = _column(table, "large_first_orders", np.nan)
            out["large_first_order_bonus"] = np.nan_to_num(nb.large_first_order.extra * lf)
            note("large_first_orders", np.isnan(lf))
    sb = plan.satisfaction_bonus
    if sb is not None:
        csat = _column(table, "csat", np.nan)
        fb = f if plan.proration.fixed_bonuses else 1.0
        ok = ~np.isnan(csat) & (csat + _TOL >= sb.threshold)
        if sb.min_responses:
            ok &= _column(table, "csat_responses", np.nan) >= sb.min_responses
        out["satisfaction_bonus"] = np.where(ok, sb.amount * months * fb, 0.0)
        note("csat", np.isnan(csat))
    cp = plan.complaints
    if cp is not None:
        cr = _column(table, "complaints_resolved", np.nan)
        ce = _column(table, "complaints_escalated", np.nan)
        out["complaints_resolved"] = np.nan_to_num(cp.per_resolved * cr)
        out["complaints_escalated"] = np.nan_to_num(-cp.per_escalated * ce)
        note("complaints_resolved", np.isnan(cr))
        note("complaints_escalated", np.isnan(ce))
    kp = plan.key_customer_loss_penalty
    if kp is not None:
        lost, _ = _key_losses(kp, _column(table, "key_customers_lost", np.nan),
                              _column(table, "key_customers_lost_attributable", np.nan))
        pen = kp.fraction_of_monthly_base_pay * base * lost
        if kp.max_fraction_per_month is not None:
            pen = np.minimum(pen, kp.max_fraction_per_month * base * months)
        out["key_customer_loss_penalty"] = -np.nan_to_num(pen)
        note("key_customers_lost", np.isnan(lost))
    pp = plan.points
    if pp is not None:
        total = np.zeros(n)
        for r in pp.table:
            actual = _column(table, POINTS_PREFIX + r.indicator, np.nan)
            total += pts.rule_points(r, actual, months)[0]
            note(POINTS_PREFIX + r.indicator, np.isnan(actual))
        fb = f if plan.proration.fixed_bonuses else np.ones(n)
        out["points_bonus"] = pts.month_bonus(pp.month, total, months, fb)[0]
        if pp.year is not None:
            year = _column(table, "year_points_before", 0.0) + total
            out["points_year_bonus"] = np.where(_column(table, "year_end", 0.0) > 0, pts.year_bonus(pp.year, year), 0.0)
    gate = plan.gates.min_total_score_for_variable_pay
    if gate is not None:
        ts = _column(table, "total_score", np.nan)
        positive = sum(out[c] for c in _POSITIVE)
        out["score_gate"] = np.where(np.isnan(ts) | (ts + _TOL < gate), -positive, 0.0)
        note("total_score", np.isnan(ts))
    net = sum(out[c] for c in COMPONENTS)
    caps = plan.caps
    fc = f if plan.proration.caps else np.ones(n)
    cap = np.full(n, np.inf)
    if caps.max_variable_pay is not None:
        cap = np.minimum(cap, caps.max_variable_pay * fc)
    if caps.max_multiple_of_base_pay is not None:
        cap = np.minimum(cap, caps.max_multiple_of_base_pay * base * months * fc)
    out["cap_adjustment"] = np.where(net > cap, cap - net, 0.0)
    net = net + out["cap_adjustment"]
    if caps.floor_at_zero:
        out["floor_adjustment"] = np.where(net < 0, -net, 0.0)
        net = net + out["floor_adjustment"]
    res = pd.DataFrame(out, index=table.index)
    res["total"] = net
    if nodata:
        stacked = np.stack(nodata, axis=1)
        res["no_data"] = [";".join(v for v in row if v) for row in stacked]
    else:
        res["no_data"] = ""
    return res


def statement(plan: IncentivePlan, table: pd.DataFrame, manager: Any,
              names: Mapping[str, Bilingual] | None = None) -> Statement:
    """Line-by-line statement of one manager (row label ``manager``) of a payouts table."""
    if manager not in table.index:
        raise input_error("statement", f"manager {manager!r} not in the table", fix="use a row label of the table")
    return payout(plan, ManagerInputs.from_row(table.loc[manager], manager_id=manager), names)


def what_if(plan: IncentivePlan, inputs: ManagerInputs, attainments: Sequence[float] = (0.8, 1.0, 1.2)) -> pd.DataFrame:
    """Pay if sales were at the given attainments of the sales target.

    For each attainment ``a``: ``sales = a × sales_target`` and ``sales_attainment =
    a``; every other input (new customers, CSAT, total score, ...) is kept as it is —
    in reality a higher sales attainment would also raise the total score, so read
    the score gate column with that in mind.  Needs ``sales_target`` > 0.
    Returns one row per attainment (index ``attainment``): ``sales``, the component
    columns of :func:`payouts` and ``total``.
    """
    if not (math.isfinite(inputs.sales_target) and inputs.sales_target > 0):
        raise input_error(f"inputs {inputs.manager_id}".strip(), f"sales target is {inputs.sales_target}",
                          "sales_target", "what-if needs a positive sales target")
    a = np.asarray(list(attainments), dtype=float)
    if a.size == 0 or not np.isfinite(a).all() or (a < 0).any():
        raise input_error("what_if", f"attainments {list(attainments)} must be finite numbers ≥ 0",
                          fix="e.g. (0.8, 1.0, 1.2)")
    row = inputs.model_dump()
    row.pop("manager_id")
    row.update({POINTS_PREFIX + k: v for k, v in row.pop("points_in").items()})
    table = pd.DataFrame([row] * a.size, index=pd.Index(a, name="attainment"))
    table["sales"] = a * inputs.sales_target
    table["sales_attainment"] = a
    res = payouts(plan, table, source=f"what-if {inputs.manager_id}".strip())
    res.insert(0, "sales", table["sales"])
    return res.drop(columns="no_data")


def pay_cliffs(plan: IncentivePlan, table: pd.DataFrame, margin: float = 0.03) -> pd.DataFrame:
    """Pay rules a manager is just short of, where a small change would pay a whole amount:

    * ``commission_gate``: sales attainment within ``margin`` below the commission gate;
    * ``new_customer_target``: (seed rule ``only_when_target_met``) one new customer short
      of the new-customer target — the whole new-customer bonus hangs on it;
    * ``csat_threshold``: CSAT within ``margin`` below the bonus threshold;
    * ``csat_responses``: one survey response short of the minimum;
    * ``score_gate``: the total score within ``margin × 100`` points below the score gate.

    Returns ``row, rule, value, edge`` (``row``: the label of ``table``'s row)."""
    rows: list[tuple[Any, str, float, float]] = []

    def col(name: str) -> pd.Series:
        return table[name].astype(float) if name in table.columns else pd.Series(np.nan, index=table.index)

    g = plan.gates.min_sales_attainment_for_commission
    if plan.commission is not None and g is not None:
        a = col("sales_attainment")
        rows += [(r, "commission_gate", float(v), g) for r, v in a[(a >= g - margin) & (a + _TOL < g)].items()]
    nb = plan.new_customer_bonus
    if nb is not None and nb.only_when_target_met:
        n, att = col("new_customers"), col("new_customers_attainment")
        with np.errstate(divide="ignore", invalid="ignore"):
            target = n / att
        short = (att + _TOL < 1.0) & (att > 0) & (target - n <= 1.0 + _TOL)
        rows += [(r, "new_customer_target", float(att[r]), 1.0) for r in table.index[short.to_numpy()]]
    sb = plan.satisfaction_bonus
    if sb is not None:
        c = col("csat")
        rows += [(r, "csat_threshold", float(v), sb.threshold)
                 for r, v in c[(c >= sb.threshold - margin) & (c + _TOL < sb.threshold)].items()]
        if sb.min_responses:
            k = col("csat_responses")
            rows += [(r, "csat_responses", float(v), float(sb.min_responses))
                     for r, v in k[(k == sb.min_responses - 1) & (c + _TOL >= sb.threshold)].items()]
    sg = plan.gates.min_total_score_for_variable_pay
    if sg is not None:
        t = col("total_score")
        rows += [(r, "score_gate", float(v), sg) for r, v in t[(t >= sg - margin * 100) & (t + _TOL < sg)].items()]
    return pd.DataFrame(rows, columns=["row", "rule", "value", "edge"])
