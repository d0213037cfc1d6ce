"""The indicator library: every indicator the workbook knows (``params/indicators.yaml``).

An *indicator* is what a consultant puts in a KPI system and weights: "key-account
sales", "CSAT", "teamwork rating".  Most are measured by a KPI actual of
:mod:`helpers.kpis` for one customer segment (``kpi`` + ``segment``); some (joint
projects, acquisition cost) need data the canonical tables do not hold and have no
``kpi`` — they are listed, flagged as not computable, never scored as zero.

Indicator ids are what weight schemes, strategies and target files refer to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from helpers.errors import InputError, Problem
from helpers.kpis import KPIS
from helpers.params import SLUG, read_yaml, validation_problems

Family = Literal[
    "performance", "relationship", "market_expansion", "acquisition", "satisfaction", "loyalty", "value", "qualitative"
]
Segment = Literal["all", "key", "small", "walkin"]


class Smart(BaseModel):
    """SMART attributes of an indicator (Specific, Measurable, Achievable, Relevant, Time-bound)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    specific: str = Field("", description="What exactly is measured, in one sentence.")
    measurable: str = Field("", description="The data source and formula.")
    achievable: str = Field("", description="Why a target on it can be reached (history, peers).")
    relevant: str = Field("", description="Which strategic objective it serves.")
    time_bound: str = Field("", description="The period it is measured over (month, quarter, year).")


class Indicator(BaseModel):
    """One indicator of the library."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    zh: str
    en: str
    family: Family
    kpi: str | None = Field(None, description="KPI actual (helpers.kpis) that measures it; none = not computable.")
    segment: Segment = "all"
    unit: Literal["currency", "count", "ratio", "score", "points"]
    higher_is_better: bool
    kind: Literal["hard", "soft"] = Field(description="hard: 业绩考核 results; soft: 市场考核 market work.")
    period: Literal["month", "quarter", "year"] = "quarter"
    applies_to: list[Literal["key", "small", "walkin"]] = Field(default_factory=lambda: ["key", "small", "walkin"])
    formula: str = ""
    source: str = Field("", description="Canonical table(s) or external data it is computed from.")
    smart: Smart = Smart()

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG.match(v):
            raise ValueError("ids use letters, digits, '-' and '_'")
        return v

    @field_validator("kpi")
    @classmethod
    def _kpi(cls, v: str | None) -> str | None:
        if v is not None and v not in KPIS:
            raise ValueError(f"unknown KPI '{v}' (known: {', '.join(KPIS)})")
        return v


class LibraryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    indicators: list[Indicator]

    @model_validator(mode="after")
    def _unique(self) -> "LibraryFile":
        seen: set[str] = set()
        dup = [i.id for i in self.indicators if i.id in seen or seen.add(i.id)]
        if dup:
            raise ValueError(f"duplicate indicator id(s): {', '.join(dup)}")
        return self


@dataclass(frozen=True)
class Library:
    """The loaded indicator library, by id."""

    indicators: dict[str, Indicator]
    source: str = "indicators.yaml"

    def __getitem__(self, key: str) -> Indicator:
        return self.indicators[key]

    def __contains__(self, key: object) -> bool:
        return key in self.indicators

    def __iter__(self):
        return iter(self.indicators.values())

    def ids(self) -> list[str]:
        return list(self.indicators)

    def name(self, key: str, language: str = "zh") -> str:
        ind = self.indicators[key]
        return ind.zh if language == "zh" else ind.en

    def check_known(self, ids: list[str], source: str, where: str = "") -> None:
        """Raise naming every id not in the library."""
        unknown = [i for i in ids if i not in self.indicators]
        if unknown:
            raise InputError(Problem(source, f"unknown indicator(s): {', '.join(unknown)}", where=where,
                                     fix=f"use ids from {self.source}"))

    def table(self, language: str = "zh") -> pd.DataFrame:
        """The library as a frame (one row per indicator)."""
        return pd.DataFrame([i.model_dump() | {"name": self.name(i.id, language)} for i in self])


def load_library(path: str | Path) -> Library:
    """Read and validate ``indicators.yaml``; errors name the file and the entry."""
    raw = read_yaml(path)
    try:
        lib = LibraryFile.model_validate(raw)
    except ValidationError as exc:
        raise InputError(validation_problems(exc, str(path))) from None
    return Library({i.id: i for i in lib.indicators}, source=str(path))


def computable(library: Library, available_kpis: set[str]) -> dict[str, bool]:
    """indicator id → whether it can be computed from the KPIs available."""
    return {i.id: i.kpi is not None and i.kpi in available_kpis for i in library}


def indicator_values(actuals: pd.DataFrame, library: Library, period: str, ids: list[str] | None = None) -> pd.DataFrame:
    """Managers × indicators for one period, from the long KPI actuals table.

    Each indicator takes the value of its ``kpi`` for its ``segment``.  Indicators that
    are not computable (no ``kpi``, or that KPI absent from ``actuals``) are columns of
    NaN — "not available", never zero.
    """
    ids = ids or library.ids()
    library.check_known(ids, library.source)
    sel = actuals[actuals["period"] == period]
    wide = sel.pivot_table(index="manager_id", columns=["kpi", "segment"], values="value", aggfunc="first", dropna=False)
    out = pd.DataFrame(index=wide.index if len(wide) else pd.Index([], name="manager_id"))
    for i in ids:
        ind = library[i]
        key = (ind.kpi, ind.segment)
        out[i] = wide[key] if ind.kpi is not None and key in wide.columns else float("nan")
    return out
