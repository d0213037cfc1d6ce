"""The scoring plan (``params/scoring.yaml``): curves, the hard/soft split, grades,
fallback targets and base pay of the review.  Validated by :class:`ScoringPlan`
(unknown keys are errors), read by :func:`load_scoring_plan`; the checks against the
indicator library are :func:`helpers.core.scorecard.scoring_plan_problems`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Union

from pydantic import Field, model_validator

from helpers.plan.base import Strict, load_model
from helpers.plan.params import SLUG, RunParams, resolve
from helpers.plan.rubric import Rubric

__all__ = ["DEFAULT_BANDS", "DEFAULT_DISTRIBUTION", "CurveSpec", "StepSpec", "ScoringPlan", "scoring_plan_path",
           "load_scoring_plan", "load_rubric"]

#: Absolute grade bands: grade = the best band whose lower bound the score reaches.
DEFAULT_BANDS: dict[str, float] = {"S": 110.0, "A": 100.0, "B": 85.0, "C": 70.0, "D": 0.0}

#: Forced distribution, best grade first (20 / 70 / 10).
DEFAULT_DISTRIBUTION: dict[str, float] = {"A": 0.2, "B": 0.7, "C": 0.1}


class CurveSpec(Strict):
    """Threshold / target / cap curve (see :class:`helpers.core.scoring.ScoringCurve`)."""

    threshold: float = 0.8
    target: float = 1.0
    cap: float = 1.2
    floor_score: float = 0.0
    threshold_score: float = 60.0
    target_score: float = 100.0
    cap_score: float = 120.0
    floor_at: float | None = Field(None, description="Continuous curve: the attainment where the score reaches "
                                   "floor_score, a straight ramp up to the threshold (null = a step at the threshold).")


class StepSpec(Strict):
    """Step table: ``bands`` = [[min_attainment, score], ...] increasing."""

    bands: list[tuple[float, float]]
    below_score: float = 0.0


class SoftSpec(Strict):
    indicators: list[str] = Field(default_factory=list, description="Qualitative ratings (0–100) of the soft part.")
    rubric: str | None = Field(None, description="The soft appraisal's scoring rules (考核细则), a file beside the "
                               "scoring plan (helpers.plan.rubric.Rubric): anchored levels, raters averaged, "
                               "optional calibration; null = each rating used as it is")


class GradeSpec(Strict):
    method: Literal["forced", "absolute"] = "forced"
    distribution: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_DISTRIBUTION))
    bands: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_BANDS))
    tie_breaker: Literal["sales_attainment", "none"] = "sales_attainment"
    pool: Literal["team", "region", "company"] = Field(
        "team", description="Where the forced distribution is applied (helpers.core.scoring.grading_pool).")
    min_pool: int = Field(1, ge=1, description="Smallest pool forced on its own; smaller pools → the next level "
                          "(team → region → company), below it at company level the absolute bands.")
    min_active_share: float = Field(0.0, ge=0, le=1, description="Managers active for less than this share of "
                                    "the period are graded but take no place in the quotas.")


class PaySpec(Strict):
    monthly_base_pay: float = Field(20000.0, ge=0)
    what_if: list[float] = Field(default_factory=lambda: [0.8, 1.0, 1.2])


class SchemeChange(Strict):
    """From ``from`` (a month, YYYY-MM) on, the periods are scored with ``scheme``."""

    from_: str = Field(alias="from", pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    scheme: str = Field(pattern=r"^[A-Za-z0-9_-]+$")


class ScoringPlan(Strict):
    """``params/scoring.yaml``."""

    weight_scheme: str | None = None
    scheme_changes: list[SchemeChange] = Field(
        default_factory=list, description="Weight schemes that take effect from a month (strategy re-weighted): "
        "a period is scored with the scheme in force on its first month.")
    targets_csv: str | None = None
    fallback_targets: dict[str, Union[Literal["peer_median"], float]] = Field(default_factory=dict)
    min_weight_available: float = Field(0.5, ge=0, le=1)
    min_base: dict[str, float] = Field(
        default_factory=dict, description="Minimum evidence per ratio indicator: the smallest base (survey "
        "responses behind CSAT, buying customers behind the complaint rate) the indicator is scored on; below "
        "it the indicator is not scored and its weight goes to the others.")
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
        months = [c.from_ for c in self.scheme_changes]
        if months != sorted(set(months)):
            raise ValueError("scheme_changes: list the changes in the order they take effect, one per month")
        return self

    def scheme_for(self, default: str, month: str) -> tuple[str, str]:
        """The weight scheme in force in ``month`` (YYYY-MM) and the month it took effect
        ("" when it is ``weight_scheme`` itself, or ``default`` of the params file)."""
        sid, since = self.weight_scheme or default, ""
        for c in self.scheme_changes:
            if c.from_ <= month:
                sid, since = c.scheme, c.from_
        return sid, since


def scoring_plan_path(params: RunParams, params_file: str | Path) -> Path:
    """``scoring`` of the params if the key exists, else ``scoring.yaml`` beside the incentive plan."""
    own = getattr(params, "scoring", None)
    if own:
        return resolve(params_file, own)
    return resolve(params_file, params.incentives).parent / "scoring.yaml"


def load_scoring_plan(path: str | Path) -> ScoringPlan:
    """Read and validate a scoring plan; errors name the file and the key."""
    return load_model(path, ScoringPlan, example="params/scoring.yaml")


def load_rubric(plan: ScoringPlan, plan_file: str | Path) -> Rubric | None:
    """The soft appraisal's rubric the scoring plan names (``soft.rubric``), or None."""
    if not plan.soft.rubric:
        return None
    return load_model(resolve(plan_file, plan.soft.rubric), Rubric, example="params/rubric.yaml")
