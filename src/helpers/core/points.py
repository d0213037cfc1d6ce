"""Points plans (积分制) and position levels (岗位等级): the rules of
:mod:`helpers.plan.points` applied to a manager's results.

Points, in one sentence each:

* a rule earns ``points`` per ``per`` units of the indicator's actual in the month
  (shares of a unit earn their share), at most ``cap`` points a month (× the months of
  the pay period when a quarter is settled at once); a negative or missing actual earns
  nothing;
* the month's bonus: at the pass mark the bonus base; above it, the base × points ÷
  pass mark (``above: proportional``) or the base (``flat``); below it, the base ×
  points ÷ pass mark (``below: proportional``) or nothing (``none``); at most
  ``max_multiple`` × the base.  A manager active for part of the month needs that part
  of the pass mark and gets that part of the base (the proportional pay per point is the
  same);
* the year-end settlement: the year's points above the year's pass mark × the rate per
  point, paid with the year's last month.

Levels: :func:`position_levels`.  Everything here returns numbers and codes; the words
are :mod:`helpers.present.points`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.plan.points import LevelPlan, PassRule, PointsRule, YearRule

__all__ = ["rule_points", "month_bonus", "year_bonus", "position_levels", "LevelResult"]


def rule_points(rule: PointsRule, actual, months=1.0):
    """Points of one rule for an actual (scalars or arrays): ``(earned, raw)`` where
    ``raw`` is before the cap; NaN and negative actuals earn 0."""
    a = np.nan_to_num(np.maximum(np.asarray(actual, dtype="float64"), 0.0))
    raw = a / rule.per * rule.points
    earned = raw if rule.cap is None else np.minimum(raw, rule.cap * np.asarray(months, dtype="float64"))
    return earned, raw


def month_bonus(rule: PassRule, points, months=1.0, active=1.0):
    """The bonus of a month (or of ``months`` settled at once) for ``points`` (scalars or
    arrays): ``(bonus, pass_mark, base, capped)`` with the pass mark and the base as they
    apply (× months × the active share)."""
    pts = np.asarray(points, dtype="float64")
    scale = np.asarray(months, dtype="float64") * np.asarray(active, dtype="float64")
    mark, base = rule.pass_mark * scale, rule.base * scale  # money per point: base = pass mark × rate
    share = np.divide(pts, mark, out=np.zeros_like(pts * mark), where=mark > 0)
    above = base * share if rule.above == "proportional" else base
    below = base * share if rule.below == "proportional" else np.zeros_like(share)
    bonus = np.where(pts + 1e-9 >= mark, above, below)
    capped = np.zeros_like(bonus, dtype=bool)
    top = None
    if rule.max_multiple is not None:
        top = rule.max_multiple * base
    if rule.max_bonus is not None:
        top = rule.max_bonus * scale if top is None else np.minimum(top, rule.max_bonus * scale)
    if top is not None:
        capped = bonus > top
        bonus = np.minimum(bonus, top)
    bonus = np.where(mark > 0, bonus, 0.0)
    return bonus, mark, base, capped


def year_bonus(rule: YearRule, year_points):
    """The year-end settlement for the year's points: (points − pass mark) × rate, not below 0."""
    return np.maximum(np.asarray(year_points, dtype="float64") - rule.pass_mark, 0.0) * rule.per_point


# ------------------------------------------------------------------------------ levels


@dataclass(frozen=True)
class LevelResult:
    """The position levels of every manager and period, with the evidence.

    ``levels``: ``manager_id, period, level, qualified, previous, limited`` (``up`` /
    ``down`` when a step limit held the level back, else ""), ``evaluated`` (True when
    the level was set at this period; else it is carried from the last evaluation).
    ``evidence``: ``manager_id, period, level, indicator, value, threshold, met, gap`` for
    the thresholds of the level held and of the next one (``gap``: what is missing to
    reach a threshold, 0 when met)."""

    levels: pd.DataFrame
    evidence: pd.DataFrame


def _window_values(values: pd.DataFrame, periods: list[pd.Period], volume: Mapping[str, bool]) -> pd.DataFrame:
    """Per manager and threshold indicator: the value over ``periods`` — a volume's sum,
    a rate's mean over the periods it has a value."""
    w = values[values["period"].isin(periods)]
    g = w.dropna(subset=["value"]).groupby(["manager_id", "indicator"])["value"]
    agg = pd.concat([g.sum().rename("sum"), g.mean().rename("mean")], axis=1).reset_index()
    agg["value"] = np.where(agg["indicator"].map(lambda i: bool(volume.get(i, True))), agg["sum"], agg["mean"])
    return agg.pivot(index="manager_id", columns="indicator", values="value")


def _qualified(plan: LevelPlan, row: pd.Series, higher: Mapping[str, bool]) -> int:
    best = 1
    for lv in plan.table[1:]:
        if all(_met(row.get(i, np.nan), t, higher.get(i, True)) for i, t in lv.thresholds.items()):
            best = lv.level
        else:
            break  # levels build on each other: a level above one not met is not reached
    return best


def _met(value: float, threshold: float, higher: bool) -> bool:
    if value is None or not np.isfinite(value):
        return False
    return value + 1e-9 >= threshold if higher else value - 1e-9 <= threshold


def position_levels(plan: LevelPlan, values: pd.DataFrame, periods: list[pd.Period],
                    managers: list[str], higher: Mapping[str, bool] | None = None,
                    volume: Mapping[str, bool] | None = None) -> LevelResult:
    """The level of every manager in each quarter of ``periods`` (in order, from the
    first quarter of the data): each evaluation (every quarter, or every first quarter
    of a year) sets the level on the ``window`` quarters before it — the highest level
    whose thresholds are all met (volumes summed over the window, rates averaged over
    the quarters that have a value; no value is not met), moved at most ``max_up`` /
    ``max_down`` levels from the level held; a manager starts at ``start``.

    ``values``: ``manager_id, period`` (quarterly ``pd.Period``), ``indicator``,
    ``value`` — every quarter available, before and in ``periods``; ``higher``: indicator
    → higher is better (default True); ``volume``: indicator → summed (default True)."""
    higher, volume = dict(higher or {}), dict(volume or {})
    rows, ev = [], []
    held = {m: plan.start for m in managers}
    first = min(values["period"]) if len(values) else (periods[0] if periods else None)
    for p in periods:
        due = plan.every == "quarter" or p.quarter == 1
        window = [p - k for k in range(plan.window, 0, -1)]
        ready = first is not None and window[0] >= first  # a full window of data behind it
        wide = _window_values(values, window, volume) if due and ready else pd.DataFrame()
        for m in managers:
            prev = held[m]
            level, qual, limited = prev, prev, ""
            if due and ready:
                row = wide.loc[m] if m in wide.index else pd.Series(dtype="float64")
                qual = _qualified(plan, row, higher)
                level = qual
                if plan.max_up is not None and level > prev + plan.max_up:
                    level, limited = prev + plan.max_up, "up"
                if plan.max_down is not None and level < prev - plan.max_down:
                    level, limited = prev - plan.max_down, "down"
                for lv in {level, min(level + 1, len(plan.table))}:
                    for i, t in plan.table[lv - 1].thresholds.items():
                        v = float(row.get(i, np.nan))
                        ok = _met(v, t, higher.get(i, True))
                        gap = 0.0 if ok else (t - v if higher.get(i, True) else v - t)
                        ev.append({"manager_id": m, "period": p, "level": lv, "indicator": i, "value": v,
                                   "threshold": t, "met": ok, "gap": gap})
            held[m] = level
            rows.append({"manager_id": m, "period": p, "level": level, "qualified": qual, "previous": prev,
                         "limited": limited, "evaluated": bool(due and ready)})
    levels = pd.DataFrame(rows, columns=["manager_id", "period", "level", "qualified", "previous", "limited",
                                         "evaluated"])
    evidence = pd.DataFrame(ev, columns=["manager_id", "period", "level", "indicator", "value", "threshold", "met",
                                         "gap"])
    return LevelResult(levels, evidence.sort_values(["manager_id", "period", "level"], kind="stable")
                       .reset_index(drop=True))
