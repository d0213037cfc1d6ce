"""The incentive (variable pay) plan (``params/incentives.yaml``): commission tiers,
bonuses, penalties, gates, caps, pro-rating and budget.

Validated by :class:`IncentivePlan` (unknown keys refused; tiers in order, contiguous,
starting at 0); :func:`load_plan` turns every validation problem into an
:class:`~helpers.errors.InputError` naming the file and the key path
(``params/incentives.yaml: commission.tiers[1].upto: ...``).  The pay it describes is
computed by :mod:`helpers.core.incentives`.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr, ValidationError, ValidationInfo, model_validator

from helpers.errors import InputError, Problem, input_error
from helpers.plan.base import Strict, Text
from helpers.plan.params import read_yaml
from helpers.plan.points import LevelPlan, PointsPlan

__all__ = ["Tier", "Commission", "LargeFirstOrder", "NewCustomerBonus", "SatisfactionBonus",
           "KeyCustomerLossPenalty", "Complaints", "Gates", "Caps", "Proration", "Budget", "GradeConsequence",
           "IncentivePlan",
           "plan_from_dict", "load_plan", "month_of"]


class Tier(Strict):
    """One commission tier: sales in ``(from, upto]`` (the first tier includes 0).

    ``upto`` is **inclusive**: with tiers 0–100,000 @ 3 % and 100,000–500,000 @ 5 %,
    sales of exactly 100,000 are in the first tier (whole-amount mode: 3,000).
    ``upto: null`` = no upper bound (only the last tier).
    """

    from_: float = Field(alias="from", ge=0)
    upto: float | None
    rate: float = Field(ge=0, le=1)


class Commission(Strict):
    """Sales commission.

    * ``marginal`` (超额累进): each slice of sales is paid at its own tier's rate —
      300,000 with 3 % ≤ 100k, 5 % 100k–500k → 3 % × 100,000 + 5 % × 200,000 = 13,000.
    * ``whole`` (全额): the entire amount at the rate of the tier the total falls
      in → 5 % × 300,000 = 15,000.  Whole-amount plans jump at tier edges
      (100,000 → 3,000 but 100,000.01 → 5,000.00); this is the plan's design, not a bug.
    """

    mode: Literal["marginal", "whole"]
    tiers: list[Tier] = Field(min_length=1)
    edges: Literal["amount", "share_of_target"] = Field(
        "amount", description="amount: tier edges in currency per month; share_of_target: tier edges as shares "
        "of the manager's own sales target of the pay period (0.8 = 80 % of target), so pay follows attainment "
        "rather than territory size")


class LargeFirstOrder(Strict):
    """Extra fixed amount per new customer whose first order is ≥ ``min_amount``.

    The count of such customers is an input (``large_first_orders``); ``min_amount``
    documents the rule in the plan and is shown in the statement.
    """

    min_amount: float = Field(gt=0)
    extra: float = Field(ge=0)


class NewCustomerBonus(Strict):
    """``per_customer`` × new customers (+ the large-first-order extra)."""

    per_customer: float = Field(ge=0)
    large_first_order: LargeFirstOrder | None = None
    only_when_target_met: bool = Field(
        False, description="Seed rule: the bonus is paid only when the new-customer target of the review period "
        "is met or exceeded (attainment ≥ 100 %)")


class SatisfactionBonus(Strict):
    """Flat ``amount`` when CSAT ≥ ``threshold`` (inclusive; CSAT as a 0–1 ratio)."""

    threshold: float = Field(gt=0, le=1)
    amount: float = Field(ge=0)
    min_responses: int = Field(0, ge=0, description="Minimum evidence: no bonus on fewer survey responses")


class KeyCustomerLossPenalty(Strict):
    """Deduction per key customer lost: ``fraction × monthly base pay`` **per customer**.

    The seed says 扣除当月工资10% (10 % of that month's pay).  We apply it per lost key
    customer and cap the total at ``max_fraction_per_month × monthly base pay ×
    months_in_period`` (null = no cap).  Not pro-rated (it is per event).
    """

    fraction_of_monthly_base_pay: float = Field(ge=0, le=1)
    max_fraction_per_month: float | None = Field(default=None, ge=0, le=1)
    attributable_only: bool = Field(
        False, description="Seed rule: only losses caused by the manager count (customers.lost_attributable); "
        "when the data does not say, every loss counts and the statement says so")


class Complaints(Strict):
    """``+per_resolved`` per complaint resolved, ``−per_escalated`` per complaint escalated."""

    per_resolved: float = Field(ge=0)
    per_escalated: float = Field(ge=0)


class Gates(Strict):
    """Conditions for variable pay (null = no gate).

    * ``min_sales_attainment_for_commission``: commission is 0 below this sales
      attainment (e.g. 0.6); equal passes.  Missing attainment → commission 0 with
      the reason "no data".
    * ``min_total_score_for_variable_pay``: all *positive* items are withheld when the
      total score is below this (penalties still apply).  Missing score → withheld.
    """

    min_sales_attainment_for_commission: float | None = Field(default=None, ge=0)
    min_total_score_for_variable_pay: float | None = None


class Caps(Strict):
    """Cap and floor on the net variable pay of the period.

    cap = min(``max_variable_pay``, ``max_multiple_of_base_pay`` × monthly base pay ×
    months_in_period) over those given (null = not used).  ``floor_at_zero``: net
    variable pay below 0 is raised to 0 — penalties can wipe out the variable pay but
    do not reduce base pay.  Set false to let deductions reach base pay (as the seed's
    "扣除工资" literally says).
    """

    max_variable_pay: float | None = Field(default=None, ge=0)
    max_multiple_of_base_pay: float | None = Field(default=None, ge=0)
    floor_at_zero: bool = True


class Proration(Strict):
    """What is multiplied by the manager's active fraction (part-period managers).

    Fixed amounts are pro-rated; amounts that already scale with activity (commission
    on actual sales, per-customer and per-complaint amounts) are not.

    * ``fixed_bonuses``: the satisfaction bonus (flat amount).
    * ``caps``: the absolute cap and the base-pay multiple cap.
    * ``tier_edges``: commission tier edges (off by default: tiers are per period).
    """

    fixed_bonuses: bool = True
    caps: bool = True
    tier_edges: bool = False


class Budget(Strict):
    """The company's budget for variable pay, compared with the payouts in the leadership summary."""

    variable_pay_per_month: float = Field(gt=0)


class GradeConsequence(Strict):
    """What the overall grade changes in pay (the seed: the appraisal decides the pay grade
    and the year-end bonus).  ``multiplier``: the period's variable pay × the grade's
    factor (A 1.2, B 1.0, C 0.8), one line on the statement; a grade not listed keeps 1.0."""

    multiplier: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _positive(self) -> "GradeConsequence":
        bad = [k for k, v in self.multiplier.items() if not (v >= 0)]
        if bad:
            raise ValueError(f"multiplier of grade(s) {', '.join(bad)} must be ≥ 0")
        return self


class IncentivePlan(Strict):
    """The whole plan; every element is optional (null / absent = not part of the plan).

    Amounts are per pay period of the plan (tiers, bonuses, absolute caps); base-pay
    based amounts use ``monthly_base_pay × months_in_period`` of the inputs.
    Unknown keys are rejected (``extra="forbid"``).
    """

    name: str | Text = Field("incentive plan", description="The plan's name as reports show it: one text, or "
                             "{zh: ..., en: ...}.")
    currency: str = "CNY"
    commission: Commission | None = None
    new_customer_bonus: NewCustomerBonus | None = None
    satisfaction_bonus: SatisfactionBonus | None = None
    key_customer_loss_penalty: KeyCustomerLossPenalty | None = None
    complaints: Complaints | None = None
    gates: Gates = Field(default_factory=Gates)
    caps: Caps = Field(default_factory=Caps)
    proration: Proration = Field(default_factory=Proration)
    budget: Budget | None = None
    settlement: Literal["month", "period"] = Field(
        "month", description="month: each month paid on its own (tiers, gates and caps per month, summed); "
        "period: the review period's results paid at once (edges, bonuses and caps × its months), so pay "
        "does not depend on the month an order landed in")
    grade_consequence: GradeConsequence | None = None
    points: PointsPlan | None = Field(None, description="A points plan (积分制): points per unit of indicators, "
                                                        "a monthly pass mark releasing a bonus base, a year-end settlement")
    levels: LevelPlan | None = Field(None, description="Position levels (岗位等级): the level, set on past results, "
                                                       "fixes the monthly base pay")
    _versions: tuple[tuple[str, "IncentivePlan"], ...] = PrivateAttr(default=())
    _since: str = PrivateAttr(default="")

    def in_force(self, month: str) -> "IncentivePlan":
        """The plan in force in ``month`` (``YYYY-MM``): the last change (``changes`` in the
        file) that took effect on or before it, else the plan as written."""
        plan = self
        for since, version in self._versions:
            if since <= month:
                plan = version
        return plan

    @property
    def since(self) -> str:
        """The month this version took effect ("" for the plan as first written)."""
        return self._since

    @property
    def changes(self) -> tuple[tuple[str, "IncentivePlan"], ...]:
        """Every change of the plan: (month it takes effect, the plan from then on)."""
        return self._versions

    @model_validator(mode="after")
    def _check_tiers(self, info: ValidationInfo) -> "IncentivePlan":
        source = (info.context or {}).get("source", "incentive plan") if info is not None else "incentive plan"
        if self.commission is not None:
            problems = _tier_problems(self.commission.tiers, source)
            if problems:
                raise InputError(problems)
        return self


def _fmt(x: float) -> str:
    return f"{x:,.2f}"


def _tier_problems(tiers: Sequence[Tier], source: str) -> list[Problem]:
    """Tiers must start at 0, be in order, contiguous, non-overlapping, last unbounded."""
    out: list[Problem] = []
    path = "commission.tiers"
    last = len(tiers) - 1
    if tiers[0].from_ != 0:
        out.append(Problem(source, f"first tier starts at {_fmt(tiers[0].from_)}, not 0", f"{path}[0].from",
                           "start the first tier at 0 so every sales amount has a rate"))
    for i, t in enumerate(tiers):
        if t.upto is None and i < last:
            out.append(Problem(source, f"tier {i} has no upper bound but is not the last tier", f"{path}[{i}].upto",
                               "only the last tier may have upto: null"))
        if t.upto is not None and t.upto <= t.from_:
            out.append(Problem(source, f"upto {_fmt(t.upto)} is not above from {_fmt(t.from_)}", f"{path}[{i}].upto",
                               "each tier must cover a positive range"))
        if i == last and t.upto is not None:
            out.append(Problem(source, f"last tier ends at {_fmt(t.upto)}: sales above it would have no rate",
                               f"{path}[{i}].upto", "set upto: null on the last tier"))
        if i > 0:
            p = tiers[i - 1]
            if t.from_ < p.from_:
                out.append(Problem(source, f"tiers are not in increasing order: tier {i} starts at {_fmt(t.from_)}, "
                                   f"below tier {i - 1} ({_fmt(p.from_)})", f"{path}[{i}].from",
                                   "list tiers from the lowest to the highest sales"))
            elif p.upto is not None and t.from_ < p.upto:
                out.append(Problem(source, f"overlap: tier {i} starts at {_fmt(t.from_)} but tier {i - 1} runs to "
                                   f"{_fmt(p.upto)}", f"{path}[{i}].from", f"set from to {_fmt(p.upto)}"))
            elif p.upto is not None and t.from_ > p.upto:
                out.append(Problem(source, f"gap: tier {i - 1} ends at {_fmt(p.upto)} but tier {i} starts at "
                                   f"{_fmt(t.from_)}", f"{path}[{i}].from", f"set from to {_fmt(p.upto)}"))
    return out


def _loc_path(loc: Sequence[Any]) -> str:
    """('commission', 'tiers', 1, 'upto') → 'commission.tiers[1].upto'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _unwrap(tp: Any) -> Any:
    """Strip Optional/list wrappers to reach a model class (or the plain type)."""
    origin = typing.get_origin(tp)
    if origin is None:
        return tp
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    return _unwrap(args[0]) if args else tp


def _allowed_keys(loc: Sequence[Any]) -> list[str]:
    """Keys accepted at the mapping that holds ``loc[-1]`` (for 'unknown key' messages)."""
    model: Any = IncentivePlan
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
        fld = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        if fld is None:
            return []
        model = _unwrap(fld.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [f.alias or n for n, f in model.model_fields.items()]
    return []


_RATIO_KEYS = {"rate", "threshold", "fraction_of_monthly_base_pay", "max_fraction_per_month"}


def _problems_from_validation(err: ValidationError, source: str) -> list[Problem]:
    problems = []
    for e in err.errors():
        loc = e.get("loc", ())
        where = _loc_path(loc)
        kind = e.get("type", "")
        msg = e.get("msg", "invalid value")
        if kind == "extra_forbidden":
            keys = _allowed_keys(loc)
            problems.append(Problem(source, "unknown key", where,
                                    "remove it or fix the spelling" + (f"; allowed here: {', '.join(keys)}" if keys else "")))
        elif kind == "missing":
            problems.append(Problem(source, "required key missing", where, "add it"))
        else:
            ratio = isinstance(loc[-1] if loc else None, str) and str(loc[-1]) in _RATIO_KEYS
            fix = "enter percentages as ratios (5% → 0.05, 85% → 0.85)" if ratio and kind == "less_than_equal" else ""
            got = e.get("input")
            msg = msg.removeprefix("Value error, ")
            problems.append(Problem(source, msg if isinstance(got, (dict, list)) else f"{msg} (got {got!r})", where,
                                    fix))
    return problems


def plan_from_dict(data: Mapping[str, Any], source: str = "incentive plan") -> IncentivePlan:
    """Validate a plan given as a dict; errors → InputError naming ``source`` and key paths.

    ``changes`` (optional): the plan's later versions, each ``{from: YYYY-MM, name: ...,
    <sections>}`` restating the sections it changes (a section given is replaced whole);
    each month is paid with the version in force then (:meth:`IncentivePlan.in_force`)."""
    if not isinstance(data, Mapping):
        raise input_error(source, f"the plan must be a mapping of keys, not {type(data).__name__}",
                          fix="see params/incentives.yaml for the layout")
    data = dict(data)
    raw_changes = data.pop("changes", None)
    try:
        plan = IncentivePlan.model_validate(data, context={"source": source})
    except ValidationError as err:
        raise InputError(_problems_from_validation(err, source)) from None
    if raw_changes is None:
        return plan
    if not isinstance(raw_changes, list):
        raise input_error(source, "changes must be a list of {from: YYYY-MM, name: ..., <sections changed>}",
                          "changes", "see params/plans/points/README.md")
    problems: list[Problem] = []
    versions: list[tuple[str, IncentivePlan]] = []
    for i, ch in enumerate(raw_changes):
        where = f"changes[{i}]"
        since = str(ch.get("from", "")) if isinstance(ch, Mapping) else ""
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", since):
            problems.append(Problem(source, f"a change needs the month it takes effect, got {since or 'none'}",
                                    f"{where}.from", "e.g. from: 2026-10 (quote nothing; YYYY-MM)"))
            continue
        if versions and since <= versions[-1][0]:
            problems.append(Problem(source, f"{since} is not after the previous change ({versions[-1][0]})",
                                    f"{where}.from", "list the changes in the order they take effect"))
            continue
        merged = {**data, **{k: v for k, v in ch.items() if k != "from"}}
        try:
            version = IncentivePlan.model_validate(merged, context={"source": source})
        except ValidationError as err:
            for p in _problems_from_validation(err, source):
                problems.append(Problem(p.source, p.what, f"{where}.{p.where}" if p.where else where, p.fix))
            continue
        if version.settlement != plan.settlement:
            problems.append(Problem(source, "a change cannot switch the settlement (it decides how a whole period is "
                                    "paid)", f"{where}.settlement", "keep the plan's settlement, or start a new plan "
                                    "file for the periods after the switch"))
            continue
        version._since = since
        versions.append((since, version))
    if problems:
        raise InputError(problems)
    plan._versions = tuple(versions)
    return plan


def month_of(label: str) -> str:
    """The first month (``YYYY-MM``) of a pay row's label: a month, or a quarter settled at once."""
    m = re.fullmatch(r"(\d{4})Q([1-4])", str(label))
    return f"{m.group(1)}-{(int(m.group(2)) - 1) * 3 + 1:02d}" if m else str(label)[:7]


def load_plan(path: str | Path) -> IncentivePlan:
    """Read and validate an incentive plan from YAML (:func:`helpers.plan.params.read_yaml`).

    Missing file, YAML syntax errors (with line and column), unknown keys, wrong
    types and inconsistent tiers all raise :class:`InputError` naming the file and
    the key path, e.g. ``params/incentives.yaml: commission.tiers[1].from: gap: ...``.
    """
    source = str(path)
    if not Path(path).is_file():
        raise input_error(source, "file not found", fix="check the path (default: params/incentives.yaml)")
    data = read_yaml(path)  # binary, non-UTF-8, syntax errors and duplicate keys: one line each
    if data is None:
        raise input_error(source, "file is empty", fix="see the example plan for the layout")
    return plan_from_dict(data, source)
