"""The indicator library: every indicator the workbook knows (``params/indicators.yaml``).

An *indicator* is what a consultant puts in a KPI system and weights: "key-account
sales", "CSAT", "teamwork rating".  Most are measured by a KPI actual of
:mod:`helpers.kpis.measures` for one customer segment (``kpi`` + ``segment``); some (joint
projects, acquisition cost) need data the canonical tables do not hold and have no
``kpi`` — they are listed, flagged as not computable, never scored as zero.

Indicator ids are what weight schemes, strategies and target files refer to.

Checks (used by notebook 02 and ``kpi-workbook validate``):

* :func:`smart_check` — the SMART attributes of one indicator (Specific, Measurable,
  Achievable, Relevant, Time-bound; Doran 1981, "There's a S.M.A.R.T. way to write
  management's goals and objectives", *Management Review* 70(11):35–36; the seed
  articles in ``shared/seeds`` ask for SMART indicators).  Each attribute passes or
  fails with the reason; the rules are in the function's docstring.
* :func:`data_availability` — whether each indicator can be computed from the data
  actually present (:func:`helpers.kpis.measures.availability`) and, with actuals, for how
  many managers it has a value.  Missing data is a *warning*, never a crash.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import Field, field_validator, model_validator

from helpers.plan.base import Strict, Text, load_model
from helpers.errors import InputError, Problem
from helpers.kpis.measures import KPIS
from helpers.plan.measures import Declared, MeasureDef, formula
from helpers.plan.params import SLUG

Family = Literal[
    "performance", "relationship", "market_expansion", "acquisition", "satisfaction", "loyalty", "value", "qualitative"
]
Segment = Literal["all", "key", "small", "walkin"]


SMART_ATTRIBUTES = ("specific", "measurable", "achievable", "relevant", "time_bound")
MIN_WEIGHT = 0.05
"""Relevant: an indicator with a global weight below 5 % hardly moves a manager's score
(rule of thumb of KPI design: 单项指标权重一般不低于5%); drop it or weigh it more."""
PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}
UNIT_RANGES: dict[str, tuple[float, float]] = {
    "ratio": (0.0, 1.0), "count": (0.0, math.inf), "currency": (0.0, math.inf), "score": (0.0, 100.0),
    "points": (-100.0, 100.0),
}
"""Values a *level* target may take per unit (ratio 0–100 %, rating scores 0–100)."""


def text_in(value: "str | Text | None", language: str) -> str:
    """A plain or bilingual text in ``language`` ("" when absent)."""
    if value is None:
        return ""
    if isinstance(value, Text):
        return value.zh if language == "zh" else value.en
    return value


class Smart(Strict):
    """SMART attributes of an indicator (Specific, Measurable, Achievable, Relevant, Time-bound).

    Each is one sentence, either plain text or ``{zh: ..., en: ...}``.
    """

    specific: str | Text = Field("", description="What exactly is measured, in one sentence.")
    measurable: str | Text = Field("", description="The data source and formula.")
    achievable: str | Text = Field("", description="Why a target on it can be reached (history, peers).")
    relevant: str | Text = Field("", description="Which strategic objective it serves.")
    time_bound: str | Text = Field("", description="The period it is measured over (month, quarter, year).")

    def text(self, attribute: str, language: str = "zh") -> str:
        """The statement for ``attribute`` in ``language`` ("" when not stated)."""
        return text_in(getattr(self, attribute), language).strip()

    def stated(self, attribute: str) -> bool:
        """True when the attribute is stated (in both languages, if bilingual)."""
        v = getattr(self, attribute)
        return bool(v.zh.strip() and v.en.strip()) if isinstance(v, Text) else bool(v.strip())


VOLUME_UNITS = ("currency", "count")
"""Units of volumes: they add up over months and managers, are split top-down and pro-rated.
The other units (ratio, score, points) are rates, set per manager and the same every month."""


class Indicator(Strict):
    """One indicator of the library.

    An indicator that is a KPI as measured (``kpi`` given, segment ``all``) takes the
    KPI's names and formula (:data:`helpers.kpis.measures.KPIS`, their one home) unless
    it states its own; every other indicator states ``zh``, ``en`` and ``formula``."""

    id: str
    zh: str = ""
    en: str = ""
    family: Family
    measure: MeasureDef | None = Field(None, description="A measure declared in YAML (helpers.plan.measures) "
                                                         "instead of a built-in KPI; its actuals carry the indicator's id.")
    kpi: str | None = Field(None, description="KPI actual (helpers.kpis.measures) that measures it; none = not computable.")
    segment: Segment = "all"
    unit: Literal["currency", "count", "ratio", "score", "points"]
    higher_is_better: bool
    kind: Literal["hard", "soft"] = Field(description="hard: 业绩考核 results; soft: 市场考核 market work.")
    period: Literal["month", "quarter", "year"] = "quarter"
    applies_to: list[Literal["key", "small", "walkin"]] = Field(default_factory=lambda: ["key", "small", "walkin"])
    formula: str = ""
    source: str = Field("", description="Canonical table(s) or external data it is computed from.")
    smart: Smart = Smart()

    @model_validator(mode="before")
    @classmethod
    def _kpi_names(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("measure") is not None:
            return cls._declared(data)
        if isinstance(data, dict) and data.get("kpi") in KPIS and data.get("segment", "all") == "all":
            k = KPIS[data["kpi"]]
            data = {"zh": k.zh, "en": k.en, "formula": k.formula, **data}
        return data

    @staticmethod
    def _declared(data: dict) -> dict:
        """An indicator that declares its measure: its KPI actuals are kept under its own
        id (so it needs an id no built-in KPI has), it filters its own rows (segment all)
        and its formula, unless stated, is the definition's."""
        iid = data.get("id")
        if data.get("kpi") not in (None, iid):
            raise ValueError("give either 'kpi' (a built-in KPI) or 'measure' (a measure declared here), not both")
        if iid in KPIS:
            raise ValueError(f"'{iid}' is a built-in KPI: an indicator that declares its measure needs an id of its own")
        if data.get("segment", "all") != "all":
            raise ValueError("a declared measure chooses its rows itself: leave 'segment' out and filter in "
                             "'measure.where' (e.g. where: {segment: [key]} on a table that has the column)")
        data = dict(data)
        if not str(data.get("formula") or "").strip():
            try:
                data["formula"] = formula(MeasureDef.model_validate(data["measure"]))
            except Exception:  # noqa: BLE001 - the field's own validation names the key
                pass
        data["kpi"] = iid
        return data

    @property
    def declared(self) -> Declared | None:
        """The declared measure as the KPI actuals carry it (None for a built-in KPI)."""
        if self.measure is None:
            return None
        return Declared(self.id, self.zh, self.en, self.unit, self.measure)

    @model_validator(mode="after")
    def _named(self) -> "Indicator":
        if not (self.zh.strip() and self.en.strip()):
            raise ValueError("give the indicator's names: zh and en (only a KPI as measured, segment all, "
                             "takes the KPI's names)")
        return self

    @property
    def volume(self) -> bool:
        """A volume (money or a count), not a rate (:data:`VOLUME_UNITS`)."""
        return self.unit in VOLUME_UNITS

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG.match(v):
            raise ValueError("ids use letters, digits, '-' and '_'")
        return v

    @field_validator("kpi")
    @classmethod
    def _kpi(cls, v: str | None, info: Any) -> str | None:
        if v is not None and v not in KPIS and "measure" in info.data and info.data["measure"] is None:
            raise ValueError(f"unknown KPI '{v}' (known: {', '.join(KPIS)}), or declare the measure under 'measure'")
        return v


class LibraryFile(Strict):
    extends: str | None = Field(None, description="Another library file (relative to this one) whose indicators "
                                                  "come first: a plan adds its own to the shipped library.")
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
    places: dict[str, tuple[str, int]] = field(default_factory=dict)
    """id → (file, position in its ``indicators`` list): where a problem's key points."""

    def key(self, iid: str, sub: str = "") -> tuple[str, str]:
        """The file and YAML key of indicator ``iid`` (``sub``: a key inside it)."""
        src, n = self.places.get(iid, (self.source, None))
        k = f"indicators[{n}]" if n is not None else f"indicator '{iid}'"
        return src, k + (f".{sub}" if sub else "")

    def __getitem__(self, key: str) -> Indicator:
        return self.indicators[key]

    def __contains__(self, key: object) -> bool:
        return key in self.indicators

    def __iter__(self):
        return iter(self.indicators.values())

    def ids(self) -> list[str]:
        return list(self.indicators)

    def declared(self) -> tuple[Declared, ...]:
        """The measures the library declares (their KPI actuals carry the indicator ids)."""
        return tuple(i.declared for i in self if i.declared is not None)

    def name(self, key: str, language: str = "zh") -> str:
        ind = self.indicators[key]
        return ind.zh if language == "zh" else ind.en

    def check_known(self, ids: list[str], source: str, where: str = "") -> None:
        """Raise naming every id not in the library."""
        unknown = [i for i in ids if i not in self.indicators]
        if unknown:
            raise InputError(Problem(source, f"unknown indicator(s): {', '.join(unknown)}", where=where,
                                     fix=f"use ids from {self.source}"))

    def suggest(self, key: str) -> str:
        """The closest known id to a misspelt one ("" when nothing is close)."""
        near = difflib.get_close_matches(key, self.ids(), n=1, cutoff=0.6)
        return near[0] if near else ""

    def table(self, language: str = "zh") -> pd.DataFrame:
        """The library as a frame (one row per indicator)."""
        return pd.DataFrame([i.model_dump() | {"name": self.name(i.id, language)} for i in self])


def load_library(path: str | Path, _seen: tuple[Path, ...] = ()) -> Library:
    """Read and validate ``indicators.yaml``; errors name the file and the entry.

    A library that ``extends`` another starts from that one's indicators (a plan's own
    file adds to the shipped library without copying it); an id both define is an
    error, as within one file."""
    path = Path(path)
    lib = load_model(path, LibraryFile, example="params/indicators.yaml")
    found: dict[str, Indicator] = {}
    places: dict[str, tuple[str, int]] = {}
    if lib.extends is not None:
        base = (path.parent / lib.extends).resolve()
        if base in _seen or base == path.resolve():
            raise InputError(Problem(str(path), f"extends {lib.extends}, which extends this file again",
                                     where="key 'extends'", fix="remove one of the two 'extends'"))
        if not base.is_file():
            raise InputError(Problem(str(path), f"the library it extends was not found: {base}", where="key 'extends'",
                                     fix="give the path relative to this file, e.g. ../../indicators.yaml"))
        parent = load_library(base, (*_seen, path.resolve()))
        found, places = dict(parent.indicators), dict(parent.places)
    for n, i in enumerate(lib.indicators):
        if i.id in found:
            raise InputError(Problem(str(path), f"indicator '{i.id}' is already defined in {lib.extends}",
                                     where=f"key 'indicators[{n}].id'", fix="give it an id of its own"))
        found[i.id] = i
        places[i.id] = (str(path), n)
    return Library(found, source=str(path), places=places)


def computable(library: Library, available_kpis: set[str]) -> dict[str, bool]:
    """indicator id → whether it can be computed from the KPIs available."""
    return {i.id: i.kpi is not None and i.kpi in available_kpis for i in library}


def indicator_values(actuals: pd.DataFrame, library: Library, period: str, ids: list[str] | None = None,
                     column: str = "value") -> pd.DataFrame:
    """Managers × indicators for one period, from the long KPI actuals table.

    Each indicator takes the value of its ``kpi`` for its ``segment``.  Indicators that
    are not computable (no ``kpi``, or that KPI absent from ``actuals``) are columns of
    NaN — "not available", never zero.  ``column="denominator"`` gives the base of each
    ratio instead (survey responses behind CSAT, buying customers behind the complaint
    rate): the evidence a minimum base is checked against.
    """
    ids = ids or library.ids()
    library.check_known(ids, library.source)
    sel = actuals[actuals["period"] == period]
    wide = sel.pivot_table(index="manager_id", columns=["kpi", "segment"], values=column, aggfunc="first", dropna=False)
    out = pd.DataFrame(index=wide.index if len(wide) else pd.Index([], name="manager_id"))
    for i in ids:
        ind = library[i]
        key = (ind.kpi, ind.segment)
        out[i] = wide[key] if ind.kpi is not None and key in wide.columns else float("nan")
    return out


# ----------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class Issue:
    """Why a check did not pass, as a code and the values a sentence needs
    (:mod:`helpers.present.checks` writes the sentence in the report's language)."""

    code: str
    values: tuple[tuple[str, object], ...] = ()

    def get(self, key: str) -> object:
        return dict(self.values)[key]


@dataclass(frozen=True)
class SmartFinding:
    """One SMART attribute of one indicator: passed or not, and the issues that failed it."""

    indicator: str
    attribute: str  # one of SMART_ATTRIBUTES
    ok: bool
    issues: tuple[Issue, ...] = ()


def smart_check(
    ind: Indicator,
    review: str = "quarter",
    weight: float | None = None,
    target: float | None = None,
    target_type: str = "level",
) -> list[SmartFinding]:
    """Check the five SMART attributes of ``ind``; one finding per attribute.

    * **Specific** — the library states it, the indicator has a formula, and its
      segment is one it applies to (``segment`` ∈ ``applies_to``, or ``all``).
    * **Measurable** — it has a measure: a KPI of the workbook (``kpi``) or a named
      data source (``source``).  Whether that data is present is
      :func:`data_availability`'s job.
    * **Achievable** — a target, when given, lies in the unit's range
      (:data:`UNIT_RANGES`; a growth target must be above −100 %).
    * **Relevant** — with a ``weight`` (its global weight in a KPI tree): the weight is
      at least :data:`MIN_WEIGHT` (5 %); 0 means the indicator is switched off.
    * **Time-bound** — it is measured over a period no longer than the review period
      (``review``: month, quarter or year); a yearly indicator cannot be judged in a
      quarterly review, only its progress to date.

    Issue codes: ``not_stated`` (attribute), ``no_formula``, ``segment_mismatch``
    (segment, applies), ``no_measure``, ``target_not_finite``, ``growth_range``
    (target), ``target_range`` (target, unit, lo, hi), ``weight_zero``,
    ``weight_small`` (weight, min), ``period_longer`` (period, review).
    """
    def f(attr: str, issues: list[Issue]) -> SmartFinding:
        return SmartFinding(ind.id, attr, not issues, tuple(issues))

    def missing(attr: str) -> list[Issue]:
        return [] if ind.smart.stated(attr) else [Issue("not_stated", (("attribute", attr),))]

    if review not in PERIOD_MONTHS:
        raise InputError(Problem("review", f"unknown review period '{review}'", fix="use month, quarter or year"))
    out = []
    p = missing("specific")
    if not ind.formula.strip():
        p.append(Issue("no_formula"))
    if ind.segment != "all" and ind.segment not in ind.applies_to:
        p.append(Issue("segment_mismatch", (("segment", ind.segment), ("applies", tuple(ind.applies_to)))))
    out.append(f("specific", p))

    p = missing("measurable")
    if ind.kpi is None and not ind.source.strip():
        p.append(Issue("no_measure"))
    out.append(f("measurable", p))

    p = missing("achievable")
    if target is not None:
        if not math.isfinite(target):
            p.append(Issue("target_not_finite"))
        elif target_type == "growth":
            if target <= -1:
                p.append(Issue("growth_range", (("target", target),)))
        else:
            lo, hi = UNIT_RANGES[ind.unit]
            if not lo <= target <= hi:
                p.append(Issue("target_range", (("target", target), ("unit", ind.unit), ("lo", lo), ("hi", hi))))
    out.append(f("achievable", p))

    p = missing("relevant")
    if weight is not None:
        if weight <= 0:
            p.append(Issue("weight_zero"))
        elif weight < MIN_WEIGHT - 1e-9:
            p.append(Issue("weight_small", (("weight", weight), ("min", MIN_WEIGHT))))
    out.append(f("relevant", p))

    p = missing("time_bound")
    if PERIOD_MONTHS[ind.period] > PERIOD_MONTHS[review]:
        p.append(Issue("period_longer", (("period", ind.period), ("review", review))))
    out.append(f("time_bound", p))
    return out


def smart_frame(
    library: Library,
    ids: list[str],
    review: str = "quarter",
    weights: dict[str, float] | None = None,
    targets: dict[str, tuple[float, str]] | None = None,
) -> pd.DataFrame:
    """SMART findings for ``ids`` as one row per indicator.

    Columns: ``indicator``, one boolean column per attribute, ``passed`` (all five)
    and ``findings`` (the failing :class:`SmartFinding` objects, for the reasons:
    :func:`helpers.present.checks.smart_reasons`).  ``weights`` maps id → global
    weight, ``targets`` id → (target, "level" | "growth").
    """
    library.check_known(ids, library.source)
    weights, targets = weights or {}, targets or {}
    rows = []
    for i in ids:
        tgt, kind = targets.get(i, (None, "level"))
        found = smart_check(library[i], review, weights.get(i), tgt, kind)
        row: dict[str, object] = {"indicator": i}
        row.update({x.attribute: x.ok for x in found})
        row["passed"] = all(x.ok for x in found)
        row["findings"] = tuple(x for x in found if not x.ok)
        rows.append(row)
    return pd.DataFrame(rows, columns=["indicator", *SMART_ATTRIBUTES, "passed", "findings"])


def _segments(av: pd.DataFrame, kpi: str) -> list[str]:
    """The segments the data has for ``kpi`` (all three when the availability table
    predates the ``segments`` column)."""
    if "segments" not in av.columns:
        return ["key", "small", "walkin"]
    return [s_.strip() for s_ in str(av.loc[kpi, "segments"]).split(",") if s_.strip()]


def data_availability(
    library: Library,
    availability: pd.DataFrame,
    ids: list[str] | None = None,
    values: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Can each indicator be computed from the data present?

    ``availability`` is :func:`helpers.kpis.measures.availability` (``kpi, available, missing``).
    ``values`` (optional) is :func:`indicator_values` for the managers of interest in
    one period: then ``with_value`` counts the managers with a value (a ratio with no
    base — no surveys, no leads — has none).

    ``status`` is ``ok`` (computable, a value for every manager), ``partial`` (some
    managers lack a value), ``missing`` (the KPI's tables or columns are absent) or
    ``external`` (no KPI: the data is kept outside the canonical tables).  Columns:
    indicator, kpi, status, missing (tables/columns absent), with_value, managers,
    reason (in ``language``).
    """
    ids = list(ids) if ids is not None else library.ids()
    library.check_known(ids, library.source)
    need = {"kpi", "available", "missing"}
    if not need <= set(availability.columns):
        raise InputError(Problem("availability", f"columns {sorted(need - set(availability.columns))} are missing",
                                 fix="pass helpers.kpis.measures.availability(dataset)"))
    av = availability.set_index("kpi")
    n = len(values) if values is not None else None
    rows = []
    for i in ids:
        ind = library[i]
        with_value = None
        if ind.kpi is None:
            status, miss = "external", ""
        elif ind.kpi not in av.index or not bool(av.loc[ind.kpi, "available"]):
            status = "missing"
            miss = str(av.loc[ind.kpi, "missing"]) if ind.kpi in av.index else ind.kpi
        elif ind.segment != "all" and ind.segment not in _segments(av, ind.kpi):
            status, miss = "missing", f"customers.segment = {ind.segment}"
        else:
            status, miss = "ok", ""
            if values is not None:
                with_value = int(values[i].notna().sum()) if i in values.columns else 0
                if with_value < n:
                    status = "partial"
        if values is not None and status in ("external", "missing"):
            with_value = 0
        rows.append({"indicator": i, "kpi": ind.kpi or "", "status": status, "missing": miss,
                     "with_value": with_value, "managers": n})
    return pd.DataFrame(rows, columns=["indicator", "kpi", "status", "missing", "with_value", "managers"])
