"""Points plans (积分制) and position levels (岗位等级) in ``incentives.yaml`` (issue 20).

A **points plan** pays from points a manager earns each month: a points table gives
points per unit of an indicator's monthly actual (6 points per 10,000 of weighted
volume, 40 per new customer), each rule with an optional monthly cap; a **pass mark**
(及格线, e.g. 800 points a month) releases a **bonus base** (e.g. 1,400), more points pay
proportionally more, fewer pay proportionally less or nothing; a year-end settlement
pays the year's points above the year's pass mark at a rate per point::

    points:
      table:
        - {indicator: weighted_volume, per: 10000, points: 6, cap: 600}
        - {indicator: new_customers, per: 1, points: 40, cap: 200}
      month: {pass_mark: 800, bonus_base: 1400, below: proportional, above: proportional, max_multiple: 2}
      year: {pass_mark: 9600, per_point: 0.5}

**Position levels** fix base pay: a level table (level, base pay, thresholds on one or
more indicators that must all be met), re-evaluated every quarter (or year) on the
trailing ``window`` periods before it, with at most ``max_up`` / ``max_down`` steps at a
time::

    levels:
      every: quarter
      window: 4
      start: 2
      max_up: 1
      max_down: 1
      table:
        - {level: 1, base_pay: 5000}
        - {level: 2, base_pay: 6000, thresholds: {weighted_volume: 6000000}}
        - {level: 3, base_pay: 7000, thresholds: {weighted_volume: 9000000, retention_rate: 0.8}}

The rules are applied by :mod:`helpers.core.points`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from helpers.plan.base import Strict

__all__ = ["PointsRule", "PassRule", "YearRule", "PointsPlan", "Level", "LevelPlan"]


class PointsRule(Strict):
    """``points`` per ``per`` units of the indicator's monthly actual (a share of a unit
    earns its share of the points), at most ``cap`` points a month."""

    indicator: str
    per: float = Field(1.0, gt=0)
    points: float = Field(gt=0)
    cap: float | None = Field(None, gt=0)


class PassRule(Strict):
    """The monthly pass mark and what it releases: a bonus base, or money per point.

    ``bonus_base``: the money paid at exactly the pass mark; ``above``: ``proportional``
    (base × points ÷ pass mark) or ``flat`` (the base); ``below``: ``proportional`` (base ×
    points ÷ pass mark) or ``none`` (nothing).  ``max_multiple``: the bonus is at most this
    multiple of the base.  Or ``per_point``: each point pays this much once the pass mark
    is reached (``below: proportional``: below it too), at most ``max_bonus`` a month."""

    pass_mark: float = Field(gt=0)
    bonus_base: float | None = Field(None, gt=0)
    per_point: float | None = Field(None, gt=0)
    above: Literal["proportional", "flat"] = "proportional"
    below: Literal["proportional", "none"] = "none"
    max_multiple: float | None = Field(None, ge=1)
    max_bonus: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_way(self) -> "PassRule":
        if (self.bonus_base is None) == (self.per_point is None):
            raise ValueError("give either bonus_base (paid at the pass mark) or per_point (money per point), not both")
        if self.per_point is not None and (self.above != "proportional" or self.max_multiple is not None):
            raise ValueError("money per point pays every point: 'above: flat' and 'max_multiple' belong to a "
                             "bonus base (cap it with max_bonus)")
        return self

    @property
    def base(self) -> float:
        """The money at exactly the pass mark (per point: the pass mark's points × the rate)."""
        return self.bonus_base if self.bonus_base is not None else self.pass_mark * float(self.per_point or 0)


class YearRule(Strict):
    """The year-end settlement: the year's points above ``pass_mark`` at ``per_point``
    each, paid with the year's last month."""

    pass_mark: float = Field(ge=0)
    per_point: float = Field(gt=0)


class PointsPlan(Strict):
    table: list[PointsRule] = Field(min_length=1)
    month: PassRule
    year: YearRule | None = None

    @model_validator(mode="after")
    def _unique(self) -> "PointsPlan":
        ids = [r.indicator for r in self.table]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"indicator(s) {', '.join(dup)} appear twice in the points table: one rule each")
        return self


class Level(Strict):
    """One position level: its base pay a month and the thresholds (indicator → value over
    the window) that must all be reached to hold it."""

    level: int = Field(ge=1)
    base_pay: float = Field(gt=0)
    thresholds: dict[str, float] = Field(default_factory=dict)


class LevelPlan(Strict):
    """Position levels (岗位等级): the level table and how often and how far a level moves."""

    every: Literal["quarter", "year"] = "quarter"
    window: int = Field(4, ge=1, description="Quarters of results a level is set on (the ones before it).")
    start: int = Field(1, ge=1, description="The level before the first evaluation.")
    max_up: int | None = Field(None, ge=1, description="Most levels gained at one evaluation (null: no limit).")
    max_down: int | None = Field(None, ge=1, description="Most levels lost at one evaluation (null: no limit).")
    table: list[Level] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> "LevelPlan":
        levels = [x.level for x in self.table]
        if levels != list(range(1, len(levels) + 1)):
            raise ValueError("list the levels in order from 1 without gaps (1, 2, 3, ...)")
        if self.table[0].thresholds:
            raise ValueError("level 1 is where everyone starts: it takes no thresholds")
        if self.start > len(levels):
            raise ValueError(f"start level {self.start} is not in the table (levels 1–{len(levels)})")
        for lo, hi in zip(self.table, self.table[1:]):
            missing = sorted(set(lo.thresholds) - set(hi.thresholds))
            if missing:
                raise ValueError(f"level {hi.level} drops the threshold(s) {', '.join(missing)} of level {lo.level}: "
                                 "a higher level asks at least what a lower one does")
        return self

    def base_pay(self, level: int) -> float:
        return self.table[level - 1].base_pay
