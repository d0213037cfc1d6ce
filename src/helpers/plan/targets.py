"""The target-setting plan (``params/targets.yaml``): per indicator, how its target is set.

Validated by :class:`TargetPlan` (unknown keys refused, every section checked); read
by :func:`load_target_plan`.  The engine that applies it is
:class:`helpers.core.target_engine.TargetEngine`; the checks of a plan against the
indicator library are :func:`helpers.core.target_checks.plan_problems`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from helpers.plan.base import Strict, load_model

__all__ = ["TargetPlan", "IndicatorPlan", "load_target_plan", "COMPONENTS"]

COMPONENTS = ("growth", "level", "topdown", "potential", "user", "commitments", "share_of")
"""The methods a target can be set by (a blend mixes them)."""

Basis = Literal["last_period", "same_period_last_year"]


class GrowthSpec(Strict):
    """Growth on each manager's own base period."""

    rate: float | None = Field(None, ge=-1, description="Relative change: target = base × (1 + rate).")
    points: float | None = Field(None, description="For rates: target = base + points (0.01 = 1 percentage point).")
    basis: Basis = Field("same_period_last_year", description="last_period (环比) or same_period_last_year (同比).")

    @model_validator(mode="after")
    def _one(self) -> "GrowthSpec":
        if (self.rate is None) == (self.points is None):
            raise ValueError("give exactly one of 'rate' (relative change) or 'points' (for rates)")
        return self


class TotalSpec(Strict):
    """The total that a top-down split starts from."""

    scope: Literal["company", "region", "team"] = Field("company", description="Who the total is for.")
    value: float | dict[str, float] | None = Field(
        None, description="The total per scope entity (one number for all, or a mapping region/team → number).")
    per: Literal["quarter", "year"] = Field("quarter", description="The period `value` is for; phased by seasonal indices.")
    growth: float | None = Field(None, ge=-1, description="Instead of value: the entity's own base period × (1 + growth).")
    basis: Basis = "same_period_last_year"

    @model_validator(mode="after")
    def _check(self) -> "TotalSpec":
        if (self.value is None) == (self.growth is None):
            raise ValueError("give exactly one of 'value' (a total) or 'growth' (on the entity's own history)")
        if isinstance(self.value, dict):
            if self.scope == "company":
                raise ValueError("a company total is one number, not a mapping")
            if not self.value:
                raise ValueError("the mapping of totals is empty")
            bad = {k: v for k, v in self.value.items() if not (math.isfinite(v) and v >= 0)}
            if bad:
                raise ValueError(f"totals must be numbers ≥ 0, got {bad}")
        elif self.value is not None and not (math.isfinite(self.value) and self.value >= 0):
            raise ValueError(f"a total must be a number ≥ 0, got {self.value:g}")
        return self


class WeightSpec(Strict):
    """Apportionment bases and their weights (normalised to sum 1)."""

    historical_share: float = Field(0.0, ge=0, description="Share of the indicator over the history window.")
    market_potential: float = Field(0.0, ge=0, description="Share of the market size (region level; below it: customer base).")
    customer_base: float = Field(0.0, ge=0, description="Share of the customers at the start of the period.")

    @model_validator(mode="after")
    def _positive(self) -> "WeightSpec":
        if self.historical_share + self.market_potential + self.customer_base <= 0:
            raise ValueError("all weights are 0: give at least one positive weight")
        return self

    def as_dict(self) -> dict[str, float]:
        return {"historical_share": self.historical_share, "market_potential": self.market_potential,
                "customer_base": self.customer_base}


class TopDownSpec(Strict):
    total: TotalSpec
    weights: WeightSpec = Field(default_factory=lambda: WeightSpec(historical_share=1.0))


class PotentialSpec(Strict):
    target_share: float = Field(ge=0, le=1, description="Market share aimed at, as a fraction (0.12 = 12 %).")
    mix: float = Field(0.5, ge=0, le=1, description="Weight of the market part; 1 − mix on the customer-base part.")


class ShareOfSpec(Strict):
    """A target that follows another one: the other indicator's target × the manager's own
    ratio of the two over the history window (profit = sales target × own margin; key-account
    sales = sales target × own key share)."""

    indicator: str = Field(description="The indicator whose target this one follows (its whole), e.g. sales.")


class IndicatorPlan(Strict):
    """How one indicator's target is set."""

    method: Literal["growth", "level", "topdown", "potential", "user", "commitments", "share_of", "blend"]
    growth: GrowthSpec | None = None
    level: float | None = Field(None, ge=0, description="Fixed target for every manager.")
    topdown: TopDownSpec | None = None
    potential: PotentialSpec | None = None
    share_of: ShareOfSpec | None = None
    blend: dict[str, float] | None = Field(None, description="method → weight, for method: blend.")
    phasing: Literal["seasonal", "even"] | None = Field(None, description="Overrides the plan's phasing.")

    @model_validator(mode="after")
    def _sections(self) -> "IndicatorPlan":
        if self.method == "blend":
            if not self.blend:
                raise ValueError("method blend needs 'blend: {method: weight, ...}'")
            unknown = [k for k in self.blend if k not in COMPONENTS]
            if unknown:
                raise ValueError(f"unknown method(s) in blend: {', '.join(unknown)} (use {', '.join(COMPONENTS)})")
            bad = {k: v for k, v in self.blend.items() if not (math.isfinite(v) and v >= 0)}
            if bad:
                raise ValueError(f"blend weights must be numbers ≥ 0, got {bad}")
            if sum(self.blend.values()) <= 0:
                raise ValueError("all blend weights are 0: give at least one positive weight")
        elif self.blend is not None:
            raise ValueError("'blend' is only read with method: blend")
        for c in self.components():
            if c in ("growth", "level", "topdown", "potential", "share_of") and getattr(self, c) is None:
                raise ValueError(f"method {c} needs a '{c}' section")
        if "commitments" in self.components() and self.topdown is None:
            raise ValueError("commitments are reconciled against a top-down split: add a 'topdown' section")
        return self

    def components(self) -> dict[str, float]:
        """method → weight (normalised), one entry unless the method is a blend."""
        if self.method != "blend":
            return {self.method: 1.0}
        w = {k: v for k, v in (self.blend or {}).items() if v > 0}
        s = sum(w.values())
        return {k: v / s for k, v in w.items()}


class AchievabilitySpec(Strict):
    basis: Basis = "same_period_last_year"
    band: tuple[float, float] = Field((-0.10, 0.50), description="Allowed implied growth over the own base.")
    peer_z: float = Field(2.5, gt=0, description="Robust z-score limit of the implied growth among all managers.")
    peer_floor: float = Field(0.05, ge=0, description="Smallest spread of implied growth used in the z-score "
                                                      "(differences below it are never outliers).")
    min_peers: int = Field(5, ge=2)

    @model_validator(mode="after")
    def _band(self) -> "AchievabilitySpec":
        if self.band[0] > self.band[1]:
            raise ValueError(f"band {list(self.band)}: the lower bound is above the upper bound")
        return self


class FairnessSpec(Strict):
    low: float = Field(0.9, gt=0)
    high: float = Field(1.1, gt=0)
    last_n: int = Field(4, ge=1)
    min_periods: int = Field(3, ge=1)

    @model_validator(mode="after")
    def _order(self) -> "FairnessSpec":
        if self.low > self.high:
            raise ValueError(f"low {self.low:g} is above high {self.high:g}")
        if self.min_periods > self.last_n:
            raise ValueError(f"min_periods {self.min_periods} is more than last_n {self.last_n}")
        return self


class BacktestSpec(Strict):
    periods: int = Field(6, ge=1, le=12, description="Past periods (at the review frequency) to backtest.")
    indicators: list[str] = Field(default_factory=lambda: ["sales", "new_customers"])
    thresholds: tuple[float, float, float] = Field((0.8, 1.0, 1.2), description="Threshold, target, excellence.")
    fairness: FairnessSpec = Field(default_factory=FairnessSpec)

    @model_validator(mode="after")
    def _thresholds(self) -> "BacktestSpec":
        a, b, c = self.thresholds
        if not (0 < a <= b <= c):
            raise ValueError(f"thresholds must be increasing numbers > 0, got {list(self.thresholds)}")
        return self


class SourcesSpec(Strict):
    targets_csv: str | None = Field(None, description="User targets (manager_id,indicator,period,target), used as is.")
    commitments_csv: str | None = Field(None, description="Bottom-up commitments (manager_id,indicator,period,commitment).")


class TargetPlan(Strict):
    """The target-setting plan (``params/targets.yaml``)."""

    sources: SourcesSpec = Field(default_factory=SourcesSpec)
    history_quarters: int = Field(4, ge=1, le=12, description="Window for historical shares and run rates.")
    phasing: Literal["seasonal", "even"] = "seasonal"
    achievability: AchievabilitySpec = Field(default_factory=AchievabilitySpec)
    backtest: BacktestSpec = Field(default_factory=BacktestSpec)
    ramp_up: list[Annotated[float, Field(gt=0, le=1)]] = Field(
        default_factory=list, description="New hires' volume targets: the share of a full month's target in "
        "their hire month, the month after, … (e.g. [0.5, 0.75]: half, three quarters, then full).")
    indicators: dict[str, IndicatorPlan] = Field(min_length=1)


def load_target_plan(path: str | Path) -> TargetPlan:
    """Read and validate a target plan; errors name the file and the key."""
    return load_model(path, TargetPlan, example="params/targets.yaml")
