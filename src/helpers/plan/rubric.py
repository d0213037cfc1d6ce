"""The scoring rules of the soft appraisal (市场考核 考核细则): per dimension, the levels a
rater may give, each with its points and the behaviour that earns it (the anchor).

Without published rules the soft appraisal is one rater's 0–100 with no anchors; a
rubric says what 85 means, may remove each rater's leniency (``calibrate``) and may
require several raters before a dimension is scored (``min_raters``).  The rules
themselves are applied by :mod:`helpers.core.rubric`.

A rubric in YAML::

    calibrate: true
    min_raters: 2
    on_level: exact          # or nearest: a score between levels is snapped and reported
    dimensions:
      attitude:
        levels:
          - points: 100
            label: {zh: 优秀, en: Excellent}
            description: {zh: 主动跟进每位客户……, en: Follows up every customer unprompted …}
          - points: 85
            label: {zh: 良好, en: Good}
            description: {zh: ……, en: …}
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from helpers.plan.base import Strict, Text

__all__ = ["Dimension", "Level", "Rubric"]


class Level(Strict):
    """One level of a dimension: its points, its name and the behaviour that earns it."""

    points: float = Field(ge=0, le=150, description="Points a rating at this level gives (0–150).")
    label: Text = Field(description="Name of the level (优秀, Excellent).")
    description: Text = Field(description="The anchor: what behaviour earns this level.")


class Dimension(Strict):
    """The levels of one dimension, from the most points to the fewest."""

    levels: list[Level] = Field(min_length=2, description="At least 2 levels, points strictly decreasing.")

    @model_validator(mode="after")
    def _decreasing(self) -> Dimension:
        for k in range(1, len(self.levels)):
            before, here = self.levels[k - 1].points, self.levels[k].points
            if not here < before:
                raise ValueError(f"levels[{k}] has {here:g} points, not fewer than levels[{k - 1}] ({before:g}): "
                                 "list the levels from the most points to the fewest, each with different points")
        return self

    @property
    def points(self) -> list[float]:
        """The levels' points, most first."""
        return [lv.points for lv in self.levels]


class Rubric(Strict):
    """The soft appraisal's scoring rules (考核细则)."""

    dimensions: dict[str, Dimension] = Field(description="Dimension id (as in the ratings table) → its levels.")
    calibrate: bool = Field(False, description="Remove each rater's leniency per dimension before averaging.")
    min_raters: int = Field(1, ge=1, description="A manager's dimension with fewer distinct raters is not scored.")
    on_level: Literal["exact", "nearest"] = Field(
        "exact", description="exact: a score that is not a level's points is an error; "
                             "nearest: it is snapped to the nearest level (ties to the lower) and reported.")
