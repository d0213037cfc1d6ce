"""Strategy files (``params/strategies/*.yaml``): a strategy, its two pillars (业绩考核 /
市场考核), objectives with their weights, the indicators under each, segment
defaults and regional or team overrides.

:class:`StrategyFile` validates a file's shape (unknown keys refused);
:func:`parse_strategy` reads one.  The checks against the indicator library (weights
adding up, ids known) and the KPI tree are :mod:`helpers.core.strategy`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator

from helpers.plan.base import Strict, Text, load_model
from helpers.plan.params import SLUG

__all__ = ["PILLARS", "SEGMENTS", "ROOT", "WEIGHT_TOL", "Weighted", "Objective", "Split", "SegmentTarget",
           "Override", "Overrides", "StrategyFile", "parse_strategy"]


PILLARS = ("hard", "soft")
"""The two pillars under the root: hard = 业绩考核 (results), soft = 市场考核 (market work)."""


SEGMENTS = ("key", "small", "walkin")


ROOT = "*"
"""Node id of the root (the strategy) inside a tree; not a valid objective or indicator id."""


WEIGHT_TOL = 0.005
"""Sibling weights may sum to 1 ± 0.005 (three thirds typed as 0.333 sum to 0.999);
they are then normalised to sum exactly 1."""


Weight = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class Weighted(Strict):
    """An indicator under an objective, with its share of the objective."""

    id: str = Field(description="Indicator id from indicators.yaml.")
    weight: Weight = Field(description="Share of the objective (siblings sum to 1).")


class Objective(Strict):
    """A strategic objective: what the managers should achieve, measured by its indicators."""

    id: str
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    parent: str = Field(description="'hard' (业绩考核), 'soft' (市场考核) or the id of another objective.")
    weight: Weight = Field(description="Share of the parent (siblings sum to 1).")
    why: Text | None = Field(None, description="Why this objective serves the strategy, in plain words.")
    indicators: list[Weighted] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG.match(v):
            raise ValueError("ids use letters, digits, '-' and '_'")
        return v


class Split(Strict):
    """业绩考核 (hard results) vs 市场考核 (market work), e.g. 0.7 / 0.3."""

    hard: Weight
    soft: Weight


class SegmentTarget(Strict):
    """An example default target for one segment's indicator (read by the target-setting notebook)."""

    indicator: str
    target: Annotated[float, Field(allow_inf_nan=False)]
    type: Literal["level", "growth"] = Field("level", description="level: reach this value; growth: change vs a year earlier.")
    baseline: Annotated[float, Field(allow_inf_nan=False)] | None = Field(None, description="Starting value (e.g. 10 % → 15 %).")
    per: Literal["month", "quarter", "year"] = Field("quarter", description="Period the target counts over.")
    scope: Literal["manager", "team"] = Field("manager", description="Whose target: one manager or the whole team.")
    note: Text | None = None


class Override(Strict):
    """New local weights for named nodes of the tree (structure unchanged)."""

    weights: dict[str, Weight]
    note: Text | None = None


class Overrides(Strict):
    regions: dict[str, Override] = Field(default_factory=dict)
    teams: dict[str, Override] = Field(default_factory=dict)


class StrategyFile(Strict):
    """One strategy file (``params/strategies/*.yaml``)."""

    id: str
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    summary: Text
    split: Split
    objectives: list[Objective] = Field(min_length=1)
    segment_defaults: dict[Literal["key", "small", "walkin"], list[SegmentTarget]] = Field(default_factory=dict)
    overrides: Overrides = Overrides()

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG.match(v):
            raise ValueError("ids use letters, digits, '-' and '_'")
        return v


def parse_strategy(path: str | Path, label: str | None = None) -> StrategyFile:
    """Read a strategy file and check its shape (pydantic, unknown keys rejected)."""
    return load_model(path, StrategyFile, source=label or str(path), example="params/strategies/expansion.yaml")
