"""Weight schemes (``params/weights/*.yaml``): one file per named scheme, its ``method``
saying how the weights are obtained (direct, ahp, entropy, critic, blend).

The models validate a file's shape (unknown keys refused); :func:`read_scheme_spec`
reads one file into its method's model.  The checks that need the indicator library
are :func:`helpers.core.schemes.scheme_problems`; reading the whole folder is
:func:`helpers.context.schemes.load_schemes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union

from pydantic import Field, ValidationError

from helpers.errors import InputError, Problem
from helpers.plan.base import Strict, Text
from helpers.plan.params import read_yaml, validation_problems

__all__ = ["METHODS", "Label", "RobustnessSettings", "DirectScheme", "Expert", "AHPScheme", "EntropyScheme",
           "CriticScheme", "BlendScheme", "SchemeSpec", "Scheme", "read_scheme_spec"]


METHODS = ("direct", "ahp", "entropy", "critic", "blend")
DEFAULT_CONCENTRATION = 100.0
DEFAULT_DRAWS = 4000


Label = Text
"""A scheme's name or description in both report languages."""


class RobustnessSettings(Strict):
    """Weight perturbation for the robustness check (read from the chosen scheme)."""

    concentration: float = Field(DEFAULT_CONCENTRATION, gt=0, description="Dirichlet concentration κ: larger = draws closer to the weights.")
    draws: int = Field(DEFAULT_DRAWS, ge=100, le=200_000, description="Number of weight draws.")
    top: float = Field(0.2, gt=0, le=1, description="Top group: this share of the team's managers (rounded up).")
    bottom: float = Field(0.2, gt=0, le=1, description="Bottom group: this share of the team's managers (rounded up).")
    seed: int = Field(0, ge=0, description="Random seed (same seed, same result).")


class _SchemeBase(Strict):
    name: Label
    description: Label | None = None
    robustness: RobustnessSettings = RobustnessSettings()


class DirectScheme(_SchemeBase):
    """Weights written down: indicator id → weight (sum 1, or 100 as percentages)."""

    method: Literal["direct"]
    weights: dict[str, Any] = Field(min_length=1)


class Expert(Strict):
    """One expert's pairwise comparison matrix (rows and columns in ``indicators`` order)."""

    name: str | Label = Field(description="Who judged: a name, or {zh: ..., en: ...}.")
    weight: float = Field(1.0, gt=0, description="The expert's weight in the group (geometric mean exponent).")

    def label(self, language: str) -> str:
        return self.name if isinstance(self.name, str) else getattr(self.name, language)
    matrix: list[list[Any]]


class AHPScheme(_SchemeBase):
    """AHP on a handful of indicators, one or more experts (group AHP)."""

    method: Literal["ahp"]
    indicators: list[str] = Field(min_length=2)
    experts: list[Expert] = Field(min_length=1)
    priority: Literal["eigen", "geometric"] = "eigen"
    ri_table: str = "saaty1980"


class EntropyScheme(_SchemeBase):
    """Entropy weights over the company's managers for the period."""

    method: Literal["entropy"]
    indicators: list[str] = Field(min_length=2)
    normalise: Literal["minmax", "none"] = "minmax"


class CriticScheme(_SchemeBase):
    """CRITIC weights over the company's managers for the period."""

    method: Literal["critic"]
    indicators: list[str] = Field(min_length=2)


class BlendScheme(_SchemeBase):
    """A subjective scheme (direct or AHP) blended with objective weights on its indicators."""

    method: Literal["blend"]
    subjective: str = Field(description="Id (file name without .yaml) of a direct or ahp scheme.")
    objective: Literal["entropy", "critic"]
    alpha: float = Field(0.5, ge=0, le=1, description="Share of the subjective weights (linear mode).")
    mode: Literal["linear", "multiplicative"] = "linear"


SchemeSpec = Union[DirectScheme, AHPScheme, EntropyScheme, CriticScheme, BlendScheme]


_MODELS: dict[str, type[_SchemeBase]] = {
    "direct": DirectScheme, "ahp": AHPScheme, "entropy": EntropyScheme, "critic": CriticScheme, "blend": BlendScheme,
}


@dataclass(frozen=True)
class Scheme:
    """One validated scheme file."""

    id: str
    path: Path
    spec: SchemeSpec

    @property
    def method(self) -> str:
        return self.spec.method

    @property
    def source(self) -> str:
        return str(self.path)

    def label(self, language: str) -> str:
        return getattr(self.spec.name, language)

    def indicators(self, schemes: dict[str, "Scheme"] | None = None) -> list[str]:
        """Indicator ids the scheme weights (a blend: its subjective scheme's)."""
        s = self.spec
        if isinstance(s, DirectScheme):
            return [str(k) for k in s.weights]
        if isinstance(s, BlendScheme):
            return schemes[s.subjective].indicators(schemes) if schemes and s.subjective in schemes else []
        return list(s.indicators)


def read_scheme_spec(path: Path) -> tuple[SchemeSpec | None, list[Problem]]:
    """Parse one file into its method's model; problems name the file and key."""
    source = str(path)
    try:
        raw = read_yaml(path)
    except InputError as exc:
        return None, list(exc.problems)
    if not isinstance(raw, dict):
        return None, [Problem(source, "must be a mapping of keys to values", fix="see params/weights/current.yaml")]
    method = raw.get("method")
    if method not in _MODELS:
        what = "required key is missing" if method is None else f"unknown method {method!r}"
        return None, [Problem(source, what, where="key 'method'", fix=f"use one of: {', '.join(METHODS)}")]
    try:
        return _MODELS[method].model_validate(raw), []
    except ValidationError as exc:
        return None, validation_problems(exc, source)
