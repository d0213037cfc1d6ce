"""Notebook 01 (target setting): the plan, company-wide targets, SMART checks, backtests.

The target-setting plan (``params/targets.yaml``, validated by :class:`TargetPlan`)
says, per indicator, how its target is set.  :class:`TargetEngine` applies the plan to
the whole company for one period — top-down splits need every team — using only data
from before the period (no look-ahead), and :func:`build` wraps it for one team's
report: targets per manager × indicator × quarter and month, SMART flags and a
backtest of the plan over past periods with attainment distributions and fairness
flags by team and region.  The pure formulas live in :mod:`helpers.core.targets`; this
module decides which data goes into them and states every fallback it uses.

Rules (each stated in the report where it applies):

* **Volumes and rates.**  Indicators measured in money or counts (``currency``,
  ``count``) are volumes: they add up over months and managers, can be split top-down
  and are pro-rated.  The others (``ratio``, ``score``, ``points``) are rates: they
  are set per manager and are the same in every month.
* **Pro-rating.**  A manager active for a fraction ``f`` of the period (``ctx.roster``:
  joiners and leavers; a manager who changes team is reviewed by the new team for the
  whole period) gets ``f`` × the full-period volume target (growth, level, potential)
  or counts with weight ``w × f`` in a top-down split.  Rates are not pro-rated.
* **Whole numbers.**  Count targets are whole numbers: a top-down split uses the
  largest-remainder method at every level so the parts add up exactly; other count
  targets are rounded within the team by the same method (team total rounded half
  up).  Money targets are whole currency units; rates are kept to 4 decimals.
* **Missing months.**  A month without any order line in the whole company is an
  export gap: it counts as missing, never as zero.  A base period with only ``k`` of
  its ``n`` months in the data is scaled up from its monthly average (``× n / k``).
* **No history.**  A manager without a base (new hire, no data) gets the median
  full-period target of their team's other managers, else of the company; a weight
  basis without history uses the team's (else the company's) median run rate; a team
  without history gets the median total per active manager of the other teams.  If
  nobody has history the plan cannot be applied and :class:`InputError` says so.
* **Phasing.**  Volume targets are spread over the period's months in proportion to
  ``S_m × a_m`` — the month's seasonal index (classical multiplicative decomposition of
  the company's monthly history, :func:`helpers.core.targets.seasonal_indices`, when at
  least 24 consecutive months are available; else 1) times the share of the month
  the manager is active.  Months a manager is not active get no target row.
"""

from __future__ import annotations


import copy
import dataclasses
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from helpers.plan.base import Strict, load_model
from helpers.present.display import amount, money_scale, signed_percent
from helpers.core import targets as tg
from helpers.data.tables import Dataset, find_table_file, read_raw
from helpers.errors import InputError, Problem, input_error
from helpers.present.i18n import t
from helpers.kpis.indicators import Indicator, Library, load_library
from helpers.plan.params import RunParams, resolve
from helpers.periods import ReviewPeriod, month_label

__all__ = [
    "TargetPlan",
    "load_plan",
    "plan_problems",
    "check",
    "CompanyData",
    "company_data",
    "load_company",
    "TargetEngine",
    "PeriodTargets",
]

VOLUME_UNITS = ("currency", "count")
COMPONENTS = ("growth", "level", "topdown", "potential", "user", "commitments")
RATE_DECIMALS = 4
SEASONAL_MIN_MONTHS = 24
SEASONAL_MAX_MONTHS = 36

Basis = Literal["last_period", "same_period_last_year"]


# ======================================================================================
# the plan (params/targets.yaml)
# ======================================================================================




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


class IndicatorPlan(Strict):
    """How one indicator's target is set."""

    method: Literal["growth", "level", "topdown", "potential", "user", "commitments", "blend"]
    growth: GrowthSpec | None = None
    level: float | None = Field(None, ge=0, description="Fixed target for every manager.")
    topdown: TopDownSpec | None = None
    potential: PotentialSpec | None = None
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
            if c in ("growth", "level", "topdown", "potential") and getattr(self, c) is None:
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
    indicators: dict[str, IndicatorPlan] = Field(min_length=1)


def _is_volume(ind: Indicator) -> bool:
    return ind.unit in VOLUME_UNITS


def load_plan(path: str | Path) -> TargetPlan:
    """Read and validate a target plan; errors name the file and the key."""
    return load_model(path, TargetPlan, example="params/targets.yaml")


def plan_problems(plan: TargetPlan, library: Library, source: str = "targets.yaml",
                  teams: dict[str, str] | None = None) -> list[Problem]:
    """Checks of a (schema-valid) plan against the indicator library and the teams.

    ``teams`` (team_id → region), when given, is used to check the names in total
    mappings.  Returns every problem found (empty list: the plan is usable).
    """
    out: list[Problem] = []

    def add(where: str, what: str, fix: str = "") -> None:
        out.append(Problem(source, what, where=f"key '{where}'", fix=fix))

    for iid, ip in plan.indicators.items():
        key = f"indicators.{iid}"
        if iid not in library:
            add(key, f"unknown indicator '{iid}'", f"use an id from {library.source}")
            continue
        ind = library[iid]
        comps = set(ip.components())
        if ind.kpi is None and comps - {"level", "user", "commitments"}:
            add(key, f"'{iid}' cannot be computed from the data (no KPI), so it has no history",
                "use method level or user for it")
        if not _is_volume(ind):
            for c in sorted(comps & {"topdown", "potential", "commitments"}):
                add(f"{key}.method", f"{c} splits volumes, but '{iid}' is a rate ({ind.unit})",
                    "use growth (with points or rate), level or user")
        if "potential" in comps and ind.unit != "currency":
            add(f"{key}.potential", f"potential targets are money, but '{iid}' is a {ind.unit}",
                "use potential for sales indicators only")
        if ip.growth is not None and ip.growth.points is not None and _is_volume(ind):
            add(f"{key}.growth.points", f"points are for rates; '{iid}' is a volume ({ind.unit})",
                "use rate (relative growth) instead")
        if ip.level is not None and ip.level == 0 and ind.higher_is_better:
            add(f"{key}.level", f"a target of 0 for '{iid}' leaves attainment undefined (attainment = actual ÷ target)",
                "give a level above 0 for this higher-is-better indicator")
        if ip.level is not None and ind.unit == "ratio" and ip.level > 1:
            add(f"{key}.level", f"a rate target must be between 0 and 1, got {ip.level:g}",
                "write 80 % as 0.80")
        if "user" in comps and not plan.sources.targets_csv:
            add("sources.targets_csv", f"'{iid}' uses method user but no targets file is named",
                "name the CSV in sources.targets_csv")
        if "commitments" in comps and not plan.sources.commitments_csv:
            add("sources.commitments_csv", f"'{iid}' uses commitments but no commitments file is named",
                "name the CSV in sources.commitments_csv")
        tot = ip.topdown.total if ip.topdown is not None else None
        if teams is not None and tot is not None and isinstance(tot.value, dict):
            known = set(teams) if tot.scope == "team" else set(teams.values())
            unknown = sorted(set(tot.value) - known)
            missing = sorted(known - set(tot.value))
            if unknown:
                add(f"{key}.topdown.total.value", f"unknown {tot.scope}(s): {', '.join(unknown)}",
                    f"use one of: {', '.join(sorted(known))}")
            if missing:
                add(f"{key}.topdown.total.value", f"no total for {tot.scope}(s): {', '.join(missing)}",
                    "give every one a total (0 is allowed)")
    for i, iid in enumerate(plan.backtest.indicators):
        key = f"backtest.indicators[{i}]"
        if iid not in plan.indicators:
            add(key, f"'{iid}' is not in the plan's indicators", "backtest only indicators the plan sets")
            continue
        if iid not in library:
            continue
        if not _is_volume(library[iid]):
            add(key, f"'{iid}' is a rate; the backtest sums actuals over months",
                "backtest volume indicators (sales, counts)")
        comps = set(plan.indicators[iid].components())
        if comps & {"user", "commitments"}:
            add(key, f"'{iid}' uses targets from a file, which has no past periods to backtest",
                "backtest indicators whose targets are computed")
    return out


def _data_folder_ids(params: RunParams, params_file: str | Path) -> tuple[set[str] | None, dict[str, str] | None]:
    """Manager ids and team → region from the data folder (cheap: two tables), if present.

    With a source mapping instead of a folder (``data.source``) nothing is read here;
    the targets CSV is then checked for everything but the manager ids, which the
    notebook checks against the loaded data."""
    if getattr(params.data, "folder", None) is None:
        return None, None
    folder = resolve(params_file, params.data.folder)
    managers = teams = None
    try:
        f = find_table_file(folder, "managers")
        if f is not None:
            m = read_raw(f)
            managers = {str(x).strip() for x in m["manager_id"].dropna()}
            teams = {str(a).strip(): str(b).strip() for a, b in zip(m["team_id"], m["region"])}
        f = find_table_file(folder, "teams")
        if f is not None:
            tt = read_raw(f)
            teams = {str(a).strip(): str(b).strip() for a, b in zip(tt["team_id"], tt["region"])}
    except (OSError, KeyError, ValueError, pd.errors.ParserError):
        return None, None  # the data check reports unreadable tables
    return managers, teams


def check(params: RunParams, params_file: str | Path, tables: set[str] | None = None) -> list[Problem]:
    """Validate the target plan named by ``params`` and the CSV files it names.

    ``tables``: the canonical tables the data has (when known): an indicator set only
    by the potential method needs the market table (in a blend, or as a top-down
    basis, the engine falls back without it and the report says so).

    Problems name the file and the key (plan) or the row and column (CSV): schema
    (unknown keys, negative totals, all-zero weights, missing sections), indicators
    unknown or unsuitable for their method, names in total mappings, and in the
    targets / commitments CSV unknown managers or indicators, unreadable periods,
    duplicates and negative values.  Returns an empty list when all is well.
    """
    plan_file = resolve(params_file, params.targets)
    try:
        plan = load_plan(plan_file)
    except InputError as exc:
        return list(exc.problems)
    try:
        library = load_library(resolve(params_file, params.indicators))
    except InputError as exc:
        return list(exc.problems)
    managers, teams = _data_folder_ids(params, params_file)
    problems = plan_problems(plan, library, str(plan_file), teams)
    if tables is not None and "market" not in tables:
        for iid, ip in plan.indicators.items():
            if ip.components() == {"potential": 1.0}:
                problems.append(Problem(str(plan_file), f"'{iid}' is set by the potential method, which needs market "
                                        "sizes, and the data has no market table", where=f"key 'indicators.{iid}.method'",
                                        fix="choose another method (e.g. topdown) or supply market.csv"))
    for key, reader in (("targets_csv", tg.read_targets_csv), ("commitments_csv", tg.read_commitments_csv)):
        name = getattr(plan.sources, key)
        if not name:
            continue
        path = resolve(plan_file, name)
        if not path.is_file():
            problems.append(Problem(str(plan_file), f"file not found: {path}", where=f"key 'sources.{key}'",
                                    fix="check the path (relative to the plan file)"))
            continue
        try:
            df = reader(path, managers if managers is not None else _csv_ids(path), library.ids())
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        zero = df[df["target"] == 0] if key == "targets_csv" else df.iloc[0:0]
        for r in zero.itertuples(index=False):  # a user target of 0: attainment = actual ÷ 0
            if r.indicator in library.ids() and library[r.indicator].higher_is_better:
                problems.append(Problem(str(path), f"target 0 for '{r.indicator}' leaves attainment undefined "
                                        "(attainment = actual ÷ target)",
                                        where=f"row manager_id {r.manager_id}, indicator {r.indicator}, "
                                              f"period {r.period}, column target",
                                        fix="give a target above 0 for this higher-is-better indicator"))
        not_planned = sorted(set(df["indicator"]) - set(plan.indicators))
        if not_planned:
            problems.append(Problem(str(path), f"indicator(s) not in the plan: {', '.join(not_planned)}",
                                    where="column indicator", fix=f"add them to {plan_file.name} or drop the rows"))
    return problems


def _csv_ids(path: Path) -> set[str]:
    try:
        return set(pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")["manager_id"].str.strip())
    except (KeyError, ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return set()


# ======================================================================================
# company-wide inputs (anonymous: no names)
# ======================================================================================


@dataclass
class CompanyData:
    """Everything the company-wide target split needs, without manager names.

    ``monthly`` / ``periodic``: KPI actuals of every manager (``manager_id, period
    (pd.Period), segment, kpi, value, rows``) monthly and at the review frequency.
    ``managers`` holds ``manager_id, team_id, region, hire_date, leave_date`` (names
    replaced by the id), ``team_history`` the team changes, ``market`` the market size
    per region and month (or None).
    """

    monthly: pd.DataFrame
    periodic: pd.DataFrame
    freq: str
    managers: pd.DataFrame
    team_history: pd.DataFrame | None
    team_names: dict[str, str]
    team_regions: dict[str, str]
    market: pd.DataFrame | None
    available: set[str]


def _periods(labels: pd.Series, freq: str) -> pd.Series:
    """Period labels → pd.Period (parsed once per distinct label)."""
    lab = labels.astype(str)
    uniq = pd.unique(lab)
    table = dict(zip(uniq, pd.PeriodIndex(uniq, freq=freq)))
    return pd.Series(pd.PeriodIndex(lab.map(table), freq=freq), index=labels.index)


def _prepare(actuals: pd.DataFrame, freq: str) -> pd.DataFrame:
    cols = ["manager_id", "period", "segment", "kpi", "value", "rows"]
    a = actuals[cols].copy()
    a["period"] = _periods(a["period"], freq)
    a["value"] = a["value"].astype(float)
    return a.reset_index(drop=True)


def _anonymous(managers: pd.DataFrame) -> pd.DataFrame:
    m = managers[["manager_id", "team_id", "region", "hire_date", "leave_date"]].copy()
    m["name"] = m["manager_id"]  # names never leave the team's own context
    return m


def company_data(ds: Dataset, freq: str = "Q", kpis: set[str] | None = None) -> CompanyData:
    """Company inputs computed from a loaded dataset (interactive use and tests)."""
    from helpers.kpis.measures import availability, kpi_actuals

    monthly = kpi_actuals(ds, "M")
    periodic = monthly if freq == "M" else kpi_actuals(ds, freq)
    if kpis is not None:
        monthly = monthly[monthly["kpi"].isin(kpis)]
        periodic = periodic[periodic["kpi"].isin(kpis)]
    market = None
    if ds.has("market") and len(ds["market"]):
        market = ds["market"][["region", "month", "market_size"]].copy()
    return _company(monthly, periodic, freq, ds.managers, ds["team_history"] if ds.has("team_history") else None,
                    ds.team_names(), ds.team_regions(), market,
                    set(availability(ds).query("available")["kpi"]))


def _company(monthly, periodic, freq, managers, team_history, names, regions, market, available) -> CompanyData:
    if market is not None:
        market = market.copy()
        market["month"] = pd.PeriodIndex(market["month"].astype(str).str[:7], freq="M")
        market["market_size"] = market["market_size"].astype(float)
    return CompanyData(monthly=_prepare(monthly, "M"), periodic=_prepare(periodic, freq), freq=freq,
                       managers=_anonymous(managers), team_history=team_history, team_names=dict(names),
                       team_regions=dict(regions), market=market, available=set(available))


def load_company(params: RunParams, params_file: str | Path, freq: str, workspace: str | Path = "",
                 kpis: set[str] | None = None) -> CompanyData:
    """Company inputs: from the runner's workspace (Parquet, read once per notebook) or,
    without one, computed from the data (interactive use)."""
    if not workspace:
        from helpers.context.workbook import load_run_data

        return company_data(load_run_data(params, params_file), freq, kpis)
    ws = Path(workspace)
    flt = [("kpi", "in", sorted(kpis))] if kpis else None
    cols = ["manager_id", "period", "segment", "kpi", "value", "rows"]
    monthly = pd.read_parquet(ws / "kpis_M.parquet", columns=cols, filters=flt)
    periodic = monthly if freq == "M" else pd.read_parquet(ws / f"kpis_{freq}.parquet", columns=cols, filters=flt)
    tables = ws / "tables"
    managers = pd.read_parquet(tables / "managers.parquet")
    th = pd.read_parquet(tables / "team_history.parquet") if (tables / "team_history.parquet").exists() else None
    market = pd.read_parquet(tables / "market.parquet") if (tables / "market.parquet").exists() else None
    info = json.loads((ws / "context.json").read_text(encoding="utf-8"))
    avail = pd.read_parquet(ws / "availability.parquet")
    return _company(monthly, periodic, freq, managers, th, info["team_names"], info["team_regions"], market,
                    set(avail.loc[avail["available"], "kpi"]))


# ======================================================================================
# the engine: one plan applied to the whole company for one period
# ======================================================================================


@dataclass
class PeriodTargets:
    """Targets of one indicator for one period, for every manager of the company.

    ``managers``: ``manager_id, team_id, region, fraction, target`` (pro-rated),
    ``full`` (before pro-rating: the figure the SMART checks compare with history),
    ``notes`` (list of report texts: fallbacks, pro-rating, scaling).
    ``entities``: the top-down chain (``level, entity, parent, target``) when a
    top-down split was used.  ``months``: ``manager_id, month, target``.
    ``text``: how the target was set, in plain words with the numbers.
    """

    indicator: str
    period: pd.Period
    managers: pd.DataFrame
    entities: pd.DataFrame
    months: pd.DataFrame
    text: list[str] = field(default_factory=list)
    components: dict[str, pd.Series] = field(default_factory=dict)


def _half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def _augment(i: int, x: np.ndarray, allowed: np.ndarray, pref: np.ndarray, used: np.ndarray,
             cap: np.ndarray, seen: set[int]) -> bool:
    """One augmenting path for row ``i`` in the bipartite b-matching of :func:`phase_counts`."""
    for m in np.argsort(-pref[i], kind="stable"):
        if not allowed[i, m] or x[i, m] or m in seen:
            continue
        seen.add(int(m))
        if used[m] < cap[m]:
            x[i, m] = 1
            used[m] += 1
            return True
        for j in np.flatnonzero(x[:, m]):
            if _augment(int(j), x, allowed, pref, used, cap, seen):
                x[j, m] = 0
                x[i, m] = 1
                return True
    return False


def phase_counts(totals: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Whole-number monthly targets for several managers at once (controlled rounding).

    ``totals[i]`` (whole numbers) is manager i's target for the period, ``weights[i, m]``
    the weight of month m (seasonal index × share of the month active; 0 = no target
    that month).  Exact quotas ``q_im = totals_i × w_im / Σ_m w_im``.  The result ``x``
    is a whole-number matrix with

    * row sums = ``totals`` (each manager's months add up to their target),
    * column sums = the team's month totals, apportioned from ``Σ totals`` by largest
      remainder over ``Σ_i q_im`` (the team follows the seasonal pattern — rounding
      each manager separately would push every leftover unit into the month with the
      largest index),
    * ``⌊q_im⌋ ≤ x_im ≤ ⌈q_im⌉`` and ``x_im = 0`` where ``w_im = 0``

    (zero-restricted controlled rounding of a two-way table: Cox & Ernst, "Controlled
    rounding", INFOR 20(4), 1982).  The leftover units are placed by augmenting paths
    of a bipartite b-matching, largest remainders first.  If no such matrix exists
    for the month totals chosen, each manager is rounded on their own (largest
    remainder by row), which keeps the row sums exact.
    """
    totals = np.asarray(totals, dtype=float)
    w = np.asarray(weights, dtype=float)
    q = np.zeros_like(w)
    ws = w.sum(axis=1)
    ok = ws > 0
    q[ok] = totals[ok, None] * w[ok] / ws[ok, None]
    fl = np.floor(q + 1e-9)
    frac = np.clip(q - fl, 0.0, None)
    allowed = (frac > 1e-9) & (w > 0)
    grand = int(round(totals.sum()))
    if grand <= 0:
        return np.zeros_like(q)
    cols = q.sum(axis=0)
    keep = cols > 0
    col_tot = np.zeros(q.shape[1], dtype=np.int64)
    if keep.any():
        col_tot[keep] = tg.apportion(grand, pd.Series(cols[keep]), integer=True).to_numpy()
    need_r = np.rint(totals).astype(np.int64) - fl.sum(axis=1).astype(np.int64)
    cap = col_tot - fl.sum(axis=0).astype(np.int64)
    x = np.zeros(q.shape, dtype=np.int64)
    used = np.zeros(q.shape[1], dtype=np.int64)
    feasible = (need_r >= 0).all() and (cap >= 0).all() and need_r.sum() == cap.sum()
    if feasible:
        for i in np.argsort(-frac.max(axis=1), kind="stable"):
            for _ in range(int(need_r[i])):
                if not _augment(int(i), x, allowed, frac, used, cap, set()):
                    feasible = False
                    break
            if not feasible:
                break
    if feasible:
        return fl + x
    out = np.zeros_like(q)  # fallback: each row by largest remainder on its own
    for i in range(q.shape[0]):
        if ws[i] > 0 and totals[i] > 0:
            out[i, w[i] > 0] = tg.apportion(int(round(totals[i])), pd.Series(w[i, w[i] > 0]), integer=True).to_numpy()
    return out


class TargetEngine:
    """Applies a :class:`TargetPlan` to every manager of the company for a period.

    Only data from months before the period is used (``cutoff`` = its first month),
    except the roster (who is active when) and the customers at the start of the
    period, both known when targets are set, and the market table's sizes for the
    period (a market forecast) in the potential method.
    """

    def __init__(self, data: CompanyData, plan: TargetPlan, library: Library, language: str = "zh",
                 plan_file: str = "targets.yaml", user_targets: pd.DataFrame | None = None,
                 commitments: pd.DataFrame | None = None):
        self.data, self.plan, self.library, self.lang = data, plan, library, language
        self.plan_file = plan_file
        self.user_targets, self.commitments = user_targets, commitments
        m = data.monthly
        sales = m[(m["kpi"] == "sales") & (m["segment"] == "all")].groupby("period")["rows"].sum()
        if len(m):
            span = pd.period_range(m["period"].min(), m["period"].max(), freq="M")
        else:
            span = pd.PeriodIndex([], freq="M")
        self.months_in_data = span
        if len(sales):
            self.gap_months = set(span[sales.reindex(span, fill_value=0).to_numpy() == 0])
        else:
            self.gap_months = set()
        self._month_team = self._expand_membership()
        self._rosters: dict[pd.Period, pd.DataFrame] = {}
        self._season: dict[tuple[str, pd.Period], tuple[pd.Series | None, str]] = {}
        self._panels: dict[str, pd.DataFrame] = {}
        self._cache: dict[tuple[str, pd.Period], PeriodTargets] = {}
        self._phased: set[tuple[str, pd.Period]] = set()
        self.sliced_to: list[str] | None = None  # set by sliced(): this copy holds these managers only

    # ------------------------------------------------------------------ helpers
    def t(self, key: str, **kw: Any) -> str:
        return t(key, self.lang, **kw)

    def name(self, iid: str) -> str:
        return self.library.name(iid, self.lang)

    def _expand_membership(self) -> pd.DataFrame:
        """(manager_id, month) → team_id over the data's months (team at the time)."""
        light = Dataset(tables={"managers": self.data.managers,
                                **({"team_history": self.data.team_history}
                                   if self.data.team_history is not None else {})})
        mem = light.membership()
        span = self.months_in_data
        if not len(span):
            return pd.DataFrame(columns=["manager_id", "period", "team_id"])
        lo, hi = span[0], span[-1]
        rows = []
        for r in mem.itertuples(index=False):
            s = max(r.start, lo) if pd.notna(r.start) else lo
            e = min(r.end, hi) if pd.notna(r.end) else hi
            if s > e:
                continue
            months = pd.period_range(s, e, freq="M")
            rows.append(pd.DataFrame({"manager_id": r.manager_id, "period": months, "team_id": r.team_id}))
        if not rows:
            return pd.DataFrame(columns=["manager_id", "period", "team_id"])
        return pd.concat(rows, ignore_index=True).drop_duplicates(["manager_id", "period"], keep="last")

    def roster(self, p: pd.Period) -> pd.DataFrame:
        """Every team's roster for ``p`` (the workbook's rule, helpers.context.workbook.team_roster),
        without names: manager_id, team_id, region, active_from, active_to, fraction."""
        if p not in self._rosters:
            from helpers.context.workbook import team_roster

            light = Dataset(tables={"managers": self.data.managers,
                                    **({"team_history": self.data.team_history}
                                       if self.data.team_history is not None else {}),
                                    "customers": pd.DataFrame(), "orders": pd.DataFrame()})
            rp = ReviewPeriod(p)
            parts = [team_roster(light, tm, rp) for tm in sorted(self.data.team_names)]
            parts = [x for x in parts if len(x)]
            if parts:
                r = pd.concat(parts, ignore_index=True)
            else:
                r = pd.DataFrame(columns=["manager_id", "team_id", "active_from", "active_to", "fraction"])
            r["region"] = [self.data.team_regions.get(tm, "") for tm in r["team_id"]]
            cols = ["manager_id", "team_id", "region", "active_from", "active_to", "fraction"]
            self._rosters[p] = r[cols].sort_values(["team_id", "manager_id"]).reset_index(drop=True)
        return self._rosters[p]

    def panel(self, iid: str) -> pd.DataFrame:
        """Monthly values of indicator ``iid`` per manager (export-gap months removed):
        manager_id, period (Period[M]), value."""
        if iid not in self._panels:
            ind = self.library[iid]
            m = self.data.monthly
            sel = m[(m["kpi"] == ind.kpi) & (m["segment"] == ind.segment)]
            sel = sel[~sel["period"].isin(self.gap_months)]
            self._panels[iid] = sel[["manager_id", "period", "value"]].reset_index(drop=True)
        return self._panels[iid]

    def _kpi_panel(self, kpi: str, segment: str) -> pd.DataFrame:
        m = self.data.monthly
        sel = m[(m["kpi"] == kpi) & (m["segment"] == segment) & ~m["period"].isin(self.gap_months)]
        return sel[["manager_id", "period", "value"]]

    def _require(self, kpi: str, what: str) -> None:
        if kpi not in self.data.available or not (self.data.monthly["kpi"] == kpi).any():
            raise input_error(self.plan_file, f"{what} needs the KPI '{kpi}', which the data cannot provide",
                              fix="supply the table it is computed from, or change the plan")

    @staticmethod
    def _months(p: pd.Period) -> pd.PeriodIndex:
        return tg.period_months(p)

    @staticmethod
    def _base_period(p: pd.Period, basis: str) -> pd.Period:
        if basis == "last_period":
            return p - 1
        return ReviewPeriod(p).year_ago().period

    def _active_months(self, roster: pd.DataFrame, p: pd.Period) -> pd.DataFrame:
        """Share of each month of ``p`` each roster manager is active (days, both ends)."""
        months = self._months(p)
        out = {}
        for m in months:
            lo, hi = m.start_time.normalize(), m.end_time.normalize()
            a = np.maximum(roster["active_from"].to_numpy(), np.datetime64(lo))
            b = np.minimum(roster["active_to"].to_numpy(), np.datetime64(hi))
            days = np.clip((b - a).astype("timedelta64[D]").astype(int) + 1, 0, None)
            out[m] = days / ((hi - lo).days + 1)
        return pd.DataFrame(out, index=roster["manager_id"].to_numpy())

    # ------------------------------------------------------------------ seasonality
    def seasonal(self, iid: str, cutoff: pd.Period) -> tuple[pd.Series | None, str]:
        """Seasonal indices (calendar month → index) from the company's monthly totals
        before ``cutoff``, or ``(None, reason)`` when they cannot be computed."""
        key = (iid, cutoff)
        if key in self._season:
            return self._season[key]
        ip = self.plan.indicators.get(iid)
        mode = (ip.phasing if ip is not None and ip.phasing else self.plan.phasing)
        if mode == "even":
            res: tuple[pd.Series | None, str] = (None, self.t("tl.phasing.even_plan"))
        else:
            tot = self.panel(iid).groupby("period")["value"].sum()
            tot = tot[tot.index < cutoff].sort_index()
            # the run of consecutive months ending just before the cutoff
            run: list[pd.Period] = []
            m = cutoff - 1
            while m in tot.index and len(run) < SEASONAL_MAX_MONTHS:
                run.append(m)
                m = m - 1
            run.reverse()
            if len(run) < SEASONAL_MIN_MONTHS:
                res = (None, self.t("tl.phasing.short", n=len(run), need=SEASONAL_MIN_MONTHS))
            else:
                s = tot.loc[run]
                if (s <= 0).any():
                    res = (None, self.t("tl.phasing.zero", months=", ".join(str(x) for x in s.index[s <= 0][:3])))
                else:
                    res = (tg.seasonal_indices(s, 12), self.t("tl.phasing.seasonal", n=len(run),
                                                              first=str(run[0]), last=str(run[-1])))
        self._season[key] = res
        return res

    def _unit_share(self, iid: str, p: pd.Period, per: str) -> float:
        """Share of a quarter / year total falling in ``p`` (by seasonal indices, else months)."""
        months = self._months(p)
        if per == "quarter":
            unit = self._months(months[0].asfreq("Q"))
        else:
            unit = self._months(pd.Period(year=months[0].year, freq="Y"))
        if set(months) == set(unit):
            return 1.0
        s, _ = self.seasonal(iid, months[0])
        w = (lambda m: float(s.loc[m.month])) if s is not None else (lambda m: 1.0)
        return sum(w(m) for m in months) / sum(w(m) for m in unit)

    # ------------------------------------------------------------------ bases
    def _volume_base(self, values: pd.DataFrame, b: pd.Period, keys: pd.Series) -> tuple[pd.Series, pd.Series]:
        """Σ of ``values`` over the months of ``b`` per key, scaled by n/k when only k of
        n months are in the data.  Returns (base, months found)."""
        months = self._months(b)
        sel = values[values["period"].isin(months)]
        by = keys.loc[sel.index]
        s = sel.groupby(by)["value"].sum()
        k = sel.groupby(by)["period"].nunique()  # months with data (not rows)
        base = s * len(months) / k
        return base, k

    def _manager_base(self, iid: str, b: pd.Period, ids: list[str]) -> tuple[pd.Series, dict[str, str]]:
        """Each manager's value in base period ``b`` (NaN = none) and notes."""
        ind = self.library[iid]
        notes: dict[str, str] = {}
        if _is_volume(ind):
            pnl = self.panel(iid)
            pnl = pnl[pnl["manager_id"].isin(ids)]
            base, k = self._volume_base(pnl, b, pnl["manager_id"])
            n = len(self._months(b))
            for mid, kk in k.items():
                if kk < n:
                    notes[mid] = self.t("tl.note.base_scaled", base=str(b), k=int(kk), n=n)
            return base.reindex(ids), notes
        if any(m in self.gap_months for m in self._months(b)):
            return pd.Series(np.nan, index=ids), notes
        per = self.data.monthly if b.freqstr == "M" else self.data.periodic
        sel = per[(per["kpi"] == ind.kpi) & (per["segment"] == ind.segment) & (per["period"] == b)]
        return sel.set_index("manager_id")["value"].reindex(ids).astype(float), notes

    def _fill_peers(self, full: pd.Series, roster: pd.DataFrame, iid: str, what: str,
                    note: str = "target") -> tuple[pd.Series, dict[str, str]]:
        """Replace NaN by the team median, else the company median (notes say which).

        ``note``: ``"target"`` (the value is a target) or ``"rate"`` (a monthly run
        rate used as a weight)."""
        notes: dict[str, str] = {}
        team = roster.set_index("manager_id")["team_id"].reindex(full.index)
        ok = full.notna()
        if not ok.any():
            raise input_error(self.plan_file, f"no manager has {what} for '{iid}'",
                              where=f"key 'indicators.{iid}'",
                              fix="choose another basis or method, or extend the data")
        team_med = full[ok].groupby(team[ok]).median()
        comp_med = float(full[ok].median())
        out = full.copy()
        for mid in full.index[~ok]:
            tm = team[mid]
            if tm in team_med.index:
                out[mid] = team_med[tm]
                notes[mid] = self.t(f"tl.note.fallback_team_{note}", value=self._num(iid, team_med[tm], note))
            else:
                out[mid] = comp_med
                notes[mid] = self.t(f"tl.note.fallback_company_{note}", value=self._num(iid, comp_med, note))
        return out, notes

    def _num(self, iid: str, x: float, note: str = "target") -> str:
        unit = self.library[iid].unit
        if note == "rate" and unit == "count":
            return f"{x:,.1f}"
        if note == "money_rate":
            return amount(x, "currency", self.lang)
        return amount(x, unit, self.lang)

    def _clip(self, full: pd.Series, unit: str) -> pd.Series:
        hi = 1.0 if unit == "ratio" else (100.0 if unit == "score" else np.inf)
        lo = -100.0 if unit == "points" else 0.0
        return full.clip(lower=lo, upper=hi)

    # ------------------------------------------------------------------ methods
    def _growth(self, iid: str, spec: GrowthSpec, p: pd.Period, roster: pd.DataFrame) -> tuple[pd.Series, dict, list[str]]:
        ind = self.library[iid]
        ids = list(roster["manager_id"])
        b = self._base_period(p, spec.basis)
        base, notes = self._manager_base(iid, b, ids)
        full = base * (1 + spec.rate) if spec.rate is not None else base + spec.points
        full, more = self._fill_peers(full, roster, iid, self.t("tl.what.base", base=str(b)))
        notes.update(more)
        full = self._clip(full, ind.unit)
        basis = self.t(f"tl.basis.{spec.basis}")
        if spec.rate is not None:
            text = self.t("tl.m.growth_rate", basis=basis, base=str(b), rate=signed_percent(spec.rate))
        else:
            text = self.t("tl.m.growth_points", basis=basis, base=str(b), points=("− " if spec.points < 0 else "+ ") + f"{abs(spec.points) * 100:.1f}")
        return full, notes, [text]

    def _level(self, iid: str, value: float, p: pd.Period, roster: pd.DataFrame) -> tuple[pd.Series, dict, list[str]]:
        ind = self.library[iid]
        full = pd.Series(float(value), index=list(roster["manager_id"]))
        key = "tl.m.level_rate" if not _is_volume(ind) else "tl.m.level_volume"
        return full, {}, [self.t(key, value=amount(value, ind.unit, self.lang))]

    def history(self, iid: str, cutoff: pd.Period, roster: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
        """History-based bases per roster manager, from the months before ``cutoff``.

        * ``run_rate``: mean monthly value of ``iid`` over the history window
          (``history_quarters`` × 3 months, months in the data only);
        * ``customers``: active customers — mean monthly number of distinct buying
          customers of the indicator's segment over the last 3 months.  Taken from the
          orders (who actually served the customer), because the customers table names
          the *current* manager: a leaver's customers would count for their successor
          over the whole history;
        * ``per_customer``: ``Σ value / Σ monthly buyers`` over the window (monthly value
          per active customer; used by the potential method).

        A manager without any month in the window (a new hire, or no data) gets the
        team's median of each basis, else the company's (one note says so).
        """
        ind = self.library[iid]
        self._require("buyers", self.t("tl.basis_name.customer_base"))
        ids = roster["manager_id"].to_numpy()
        window = pd.period_range(cutoff - 3 * self.plan.history_quarters, cutoff - 1, freq="M")
        v = self.panel(iid)
        v = v[v["period"].isin(window) & v["manager_id"].isin(ids)]
        b = self._kpi_panel("buyers", ind.segment)
        b = b[b["period"].isin(window) & b["manager_id"].isin(ids)]
        recent = b[b["period"] >= cutoff - 3]
        j = v.merge(b, on=["manager_id", "period"], suffixes=("", "_b"))
        g = j.groupby("manager_id")[["value", "value_b"]].sum()
        out = pd.DataFrame({
            "run_rate": v.groupby("manager_id")["value"].mean(),
            "customers": recent.groupby("manager_id")["value"].mean(),
            "per_customer": g["value"] / g["value_b"].where(g["value_b"] > 0),
        }).reindex(ids)
        seen = set(v["manager_id"])
        new = [m for m in ids if m not in seen]
        out.loc[[m for m in ids if m in seen], "customers"] = out["customers"].fillna(0.0)
        notes: dict[str, str] = {}
        if not seen:
            return out, notes
        team = pd.Series(roster["team_id"].to_numpy(), index=ids)
        old = out.loc[[m for m in ids if m in seen]]
        for mid in new:
            peers = old[team.reindex(old.index).to_numpy() == team[mid]]
            src = peers if len(peers) else old
            out.loc[mid] = src.median(numeric_only=True)
            notes[mid] = self.t("tl.note.fallback_team_history" if len(peers) else "tl.note.fallback_company_history")
        return out, notes

    def _split(self, total: float, kids: pd.DataFrame, beta: dict[str, float], ind: Indicator,
               label: str, notes: list[str]) -> pd.Series:
        """Apportion ``total`` over ``kids`` (index = child, columns = bases + ``capacity``)."""
        if len(kids) == 0:
            return pd.Series(dtype=float)
        used = {c: w for c, w in beta.items() if w > 0}
        weights = pd.Series(0.0, index=kids.index)
        kept = 0.0
        for c, w in used.items():
            x = kids[c].astype(float)
            if not (np.isfinite(x).all() and x.sum() > 0):
                notes.append(self.t("tl.note.basis_dropped", level=label,
                                    basis=self.t(f"tl.basis_name.{c}")))
                continue
            weights += w * x / x.sum()
            kept += w
        if kept == 0:
            cap = kids["capacity"].astype(float)
            weights = cap if cap.sum() > 0 else pd.Series(1.0, index=kids.index)
            notes.append(self.t("tl.note.weights_zero", level=label))
        if ind.unit == "count":
            return tg.apportion(_half_up(total), weights, integer=True, source=self.plan_file).astype(float)
        return tg.apportion(float(_half_up(total)), weights, decimals=0, source=self.plan_file)

    def _scope_totals(self, iid: str, spec: TotalSpec, p: pd.Period, roster: pd.DataFrame,
                      capacity: pd.Series) -> tuple[pd.Series, list[str]]:
        """Total per scope entity (company / region / team) for ``p``."""
        ind = self.library[iid]
        key = {"company": None, "region": "region", "team": "team_id"}[spec.scope]
        entities = ["company"] if key is None else sorted(roster[key].unique())
        text: list[str] = []
        if spec.value is not None:
            share = self._unit_share(iid, p, spec.per)
            if isinstance(spec.value, dict):
                missing = [e for e in entities if e not in spec.value]
                if missing:
                    raise input_error(self.plan_file, f"no {spec.scope} total for {', '.join(missing)}",
                                      where=f"key 'indicators.{iid}.topdown.total.value'",
                                      fix="give every one a total (0 is allowed)")
                raw = pd.Series({e: float(spec.value[e]) for e in entities})
            else:
                raw = pd.Series(float(spec.value), index=entities)
            tot = (raw * share).map(lambda x: float(_half_up(x)))  # whole units / counts
            per = self.t(f"tl.per.{spec.per}")
            shown = amount(float(raw.iloc[0]), ind.unit, self.lang) if not isinstance(spec.value, dict) \
                else self.t("tl.by_entity")
            text.append(self.t(f"tl.m.total_value_{spec.scope}", value=shown, per=per)
                        + (self.t("tl.m.total_share", share=f"{share:.1%}", period=str(p)) if share != 1 else ""))
            return tot, text
        b = self._base_period(p, spec.basis)
        pnl = self.panel(iid)
        if key is None:
            keys = pd.Series("company", index=pnl.index)
        else:
            mt = pnl[["manager_id", "period"]].merge(self._month_team, how="left", on=["manager_id", "period"])
            team_at = pd.Series(mt["team_id"].to_numpy(), index=pnl.index)
            keys = team_at if key == "team_id" else team_at.map(self.data.team_regions)
        ok = keys.notna()
        base, k = self._volume_base(pnl[ok], b, keys[ok])
        base = base.reindex(entities)
        if base.isna().all():
            raise input_error(self.plan_file, f"no history in base period {b} for '{iid}'",
                              where=f"key 'indicators.{iid}.topdown.total'",
                              fix="choose another basis, give a value, or extend the data")
        n = len(self._months(b))
        for e in entities:
            if e in k.index and k[e] < n:
                text.append(self.t("tl.note.base_scaled", base=str(b), k=int(k[e]), n=n))
        missing = base.index[base.isna()]
        if len(missing):
            per_cap = (base / capacity.reindex(base.index)).dropna()
            for e in missing:
                base[e] = float(per_cap.median()) * float(capacity.get(e, 0.0))
                text.append(self.t("tl.note.new_team", entity=e))
        tot = (base * (1 + spec.growth)).map(lambda x: float(_half_up(x)))  # whole units / counts
        basis = self.t(f"tl.basis.{spec.basis}")
        if key is None:
            text.insert(0, self.t("tl.m.total_growth_company", basis=basis, base_period=str(b),
                                  base=amount(float(base.iloc[0]), ind.unit, self.lang), rate=signed_percent(spec.growth),
                                  total=amount(float(tot.iloc[0]), ind.unit, self.lang)))
        else:
            text.insert(0, self.t(f"tl.m.total_growth_{spec.scope}", basis=basis, base_period=str(b),
                                  rate=signed_percent(spec.growth)))
        return tot, text

    def _topdown(self, iid: str, spec: TopDownSpec, p: pd.Period,
                 roster: pd.DataFrame) -> tuple[pd.Series, dict, list[str], pd.DataFrame]:
        ind = self.library[iid]
        cutoff = self._months(p)[0]
        ids = roster["manager_id"]
        f = pd.Series(roster["fraction"].to_numpy(dtype=float), index=ids.to_numpy())
        beta = spec.weights.as_dict()
        notes: dict[str, str] = {}
        text: list[str] = []
        if beta["market_potential"] > 0 and self.data.market is None:
            # documented fallback: without market sizes, their weight goes to the customer base
            beta["customer_base"] += beta["market_potential"]
            beta["market_potential"] = 0.0
            text.append(self.t("tl.note.no_market_topdown"))
        cols = pd.DataFrame({"capacity": f})
        hist, more = self.history(iid, cutoff, roster)
        notes.update(more)
        cols["historical_share"] = hist["run_rate"].to_numpy() * f.to_numpy()
        cols["customer_base"] = hist["customers"].to_numpy() * f.to_numpy()
        cols["team_id"] = roster["team_id"].to_numpy()
        cols["region"] = roster["region"].to_numpy()
        # below the region the market is not split in the data: its weight goes to the customer base
        low_beta = dict(beta)
        low_beta["customer_base"] += low_beta.pop("market_potential")
        split_notes: list[str] = []
        ent_rows: list[tuple[str, str, str, float]] = []
        team_cap = cols.groupby("team_id")["capacity"].sum()
        region_cap = cols.groupby("region")["capacity"].sum()
        scope = spec.total.scope
        cap = {"company": pd.Series({"company": float(f.sum())}), "region": region_cap, "team": team_cap}[scope]
        totals, ttext = self._scope_totals(iid, spec.total, p, roster, cap)
        text.extend(ttext)
        agg_cols = [c for c in ("historical_share", "customer_base", "capacity") if c in cols.columns]
        if scope == "company":
            total = float(totals.iloc[0])
            ent_rows.append(("company", "company", "", float(_half_up(total))))
            reg = cols.groupby("region")[agg_cols].sum()
            if beta["market_potential"] > 0:
                reg["market_potential"] = self._market_window(reg.index, cutoff)
            region_tot = self._split(total, reg, beta, ind, self.t("tl.level.region"), split_notes)
        elif scope == "region":
            region_tot = totals
        if scope in ("company", "region"):
            team_tot = []
            for rg, rt in region_tot.items():
                ent_rows.append(("region", rg, "company", float(rt)))
                tm = cols[cols["region"] == rg].groupby("team_id")[agg_cols].sum()
                team_tot.append(self._split(rt, tm, low_beta, ind, self.t("tl.level.team"), split_notes))
            team_tot = pd.concat(team_tot) if team_tot else pd.Series(dtype=float)
        else:
            team_tot = totals
        parts = []
        for tm, tt in team_tot.items():
            ent_rows.append(("team", tm, self.data.team_regions.get(tm, ""), float(tt)))
            mg = cols[cols["team_id"] == tm][agg_cols]
            parts.append(self._split(tt, mg, low_beta, ind, self.t("tl.level.manager"), split_notes))
        target = pd.concat(parts).reindex(ids.to_numpy()) if parts else pd.Series(np.nan, index=ids.to_numpy())
        wtxt = ", ".join(f"{self.t(f'tl.basis_name.{c}')} {w / sum(beta.values()):.0%}"
                         for c, w in beta.items() if w > 0)
        text.append(self.t("tl.m.topdown_split", weights=wtxt,
                           rounding=self.t("tl.m.rounding_count" if ind.unit == "count" else "tl.m.rounding_money")))
        text.append(self.t("tl.m.bases", months=3 * self.plan.history_quarters))
        if beta["market_potential"] > 0:
            text.append(self.t("tl.m.market_below_region"))
        text.extend(dict.fromkeys(split_notes))
        ent = pd.DataFrame(ent_rows, columns=["level", "entity", "parent", "target"])
        return target, notes, text, ent

    def _market_window(self, regions: pd.Index, cutoff: pd.Period) -> np.ndarray:
        mk = self.data.market
        if mk is None:
            raise input_error(self.plan_file, "market_potential needs the market table (market size by region and month)",
                              fix="supply market.csv or set market_potential to 0")
        n = 3 * self.plan.history_quarters
        window = pd.period_range(cutoff - n, cutoff - 1, freq="M")
        s = mk[mk["month"].isin(window)].groupby("region")["market_size"].sum()
        missing = [r for r in regions if not s.get(r, 0) > 0]
        if missing:
            raise input_error(self.plan_file, f"no market size for region(s) {', '.join(map(str, missing))} "
                              f"in {window[0]}…{window[-1]}", fix="complete the market table or set market_potential to 0")
        return s.reindex(regions).to_numpy(dtype=float)

    def _potential(self, iid: str, spec: PotentialSpec, p: pd.Period,
                   roster: pd.DataFrame) -> tuple[pd.Series, dict, list[str]]:
        months = self._months(p)
        cutoff = months[0]
        mk = self.data.market
        if mk is None:
            raise input_error(self.plan_file, "the potential method needs the market table",
                              where=f"key 'indicators.{iid}.potential'", fix="supply market.csv or choose another method")
        text: list[str] = []
        reg_market = {}
        for rg in sorted(roster["region"].unique()):
            r = mk[(mk["region"] == rg)].set_index("month")["market_size"]
            if all(m in r.index for m in months):
                reg_market[rg] = float(r.loc[list(months)].sum())
            elif all((m - 12) in r.index for m in months):
                reg_market[rg] = float(r.loc[[m - 12 for m in months]].sum())
                text.append(self.t("tl.note.market_last_year", region=rg))
            else:
                raise input_error(self.plan_file, f"no market size for region {rg} in {p} or a year earlier",
                                  where=f"key 'indicators.{iid}.potential'", fix="complete the market table")
        f = pd.Series(roster["fraction"].to_numpy(dtype=float), index=roster["manager_id"].to_numpy())
        hist, notes = self.history(iid, cutoff, roster)
        cust = pd.Series(hist["customers"].to_numpy(dtype=float), index=f.index)
        rpc = pd.Series(hist["per_customer"].to_numpy(dtype=float), index=f.index).fillna(0.0)
        region = pd.Series(roster["region"].to_numpy(), index=f.index)
        cf = cust * f
        reg_sum = cf.groupby(region).transform("sum")
        share = (cf / reg_sum).where(reg_sum > 0, f / f.groupby(region).transform("sum"))
        out = {}
        for mid in f.index:
            out[mid] = tg.potential_target(reg_market[region[mid]] * share[mid], spec.target_share,
                                           customer_base=float(cust[mid] * f[mid]),
                                           revenue_per_customer=float(rpc[mid]) * len(months), mix=spec.mix)
        text.insert(0, self.t("tl.m.potential", share=f"{spec.target_share:.0%}", mix=f"{spec.mix:.0%}",
                              rest=f"{1 - spec.mix:.0%}", months=len(months)))
        return pd.Series(out), notes, text

    def _from_file(self, iid: str, kind: str, p: pd.Period, roster: pd.DataFrame) -> tuple[pd.Series, dict, list[str]]:
        """Targets (``kind="user"``) or commitments for ``p`` from the plan's CSV, as they are."""
        ind = self.library[iid]
        df = self.user_targets if kind == "user" else self.commitments
        col = "target" if kind == "user" else "commitment"
        name = self.plan.sources.targets_csv if kind == "user" else self.plan.sources.commitments_csv
        if df is None:
            raise input_error(self.plan_file, f"'{iid}' needs {name or 'a CSV file'}, which was not read",
                              where=f"key 'sources.{'targets_csv' if kind == 'user' else 'commitments_csv'}'")
        rows = df[df["indicator"] == iid]
        months = list(self._months(p))
        year = pd.Period(year=months[0].year, freq="Y")
        out: dict[str, float] = {}
        notes: dict[str, str] = {}
        missing = []
        for mid in roster["manager_id"]:
            r = rows[rows["manager_id"] == mid].set_index("period")[col]
            if p in r.index:
                out[mid] = float(r[p])
            elif p.freqstr != "M" and all(m in r.index for m in months) and _is_volume(ind):
                out[mid] = float(r.loc[months].sum())
                notes[mid] = self.t("tl.note.file_months")
            elif year in r.index:
                out[mid] = float(r[year]) * (self._unit_share(iid, p, "year") if _is_volume(ind) else 1.0)
                notes[mid] = self.t("tl.note.file_year", year=str(year))
            else:
                missing.append(mid)
        if missing:
            raise input_error(str(name), f"no {col} for '{iid}' in {p} for manager(s) {', '.join(missing)}",
                              fix=f"add rows for {p} (or its months, or the year) or choose another method")
        key = "tl.m.user" if kind == "user" else "tl.m.commitments"
        return pd.Series(out), notes, [self.t(key, file=Path(str(name)).name)]

    # ------------------------------------------------------------------ one indicator, one period
    def targets(self, iid: str, p: pd.Period) -> PeriodTargets:
        """Targets of ``iid`` for ``p`` for every manager on the company roster."""
        key = (iid, p)
        if key in self._cache:
            return self._cache[key]
        ind = self.library[iid]
        ip = self.plan.indicators[iid]
        roster = self.roster(p)
        if not len(roster):
            raise input_error(self.plan_file, f"no manager is active in {p}", fix="check the period")
        ids = list(roster["manager_id"])
        f = pd.Series(roster["fraction"].to_numpy(dtype=float), index=ids)
        volume = _is_volume(ind)
        comps = ip.components()
        results: dict[str, pd.Series] = {}
        notes: dict[str, list[str]] = {m: [] for m in ids}
        text: list[str] = []
        if "potential" in comps and len(comps) > 1 and self.data.market is None:
            # documented fallback: without market sizes the blend keeps its other methods
            rest = {c: w for c, w in comps.items() if c != "potential"}
            comps = {c: w / sum(rest.values()) for c, w in rest.items()}
            text.append(self.t("tl.note.no_market_potential"))
        entities = pd.DataFrame(columns=["level", "entity", "parent", "target"])
        for c in comps:
            if c == "growth":
                full, nt, tx = self._growth(iid, ip.growth, p, roster)
                val = full * f if volume else full
            elif c == "level":
                full, nt, tx = self._level(iid, float(ip.level), p, roster)
                val = full * f if volume else full
            elif c == "topdown":
                val, nt, tx, entities = self._topdown(iid, ip.topdown, p, roster)
            elif c == "potential":
                val, nt, tx = self._potential(iid, ip.potential, p, roster)
            else:  # user / commitments: used as they are (no pro-rating)
                val, nt, tx = self._from_file(iid, c, p, roster)
            results[c] = val.reindex(ids).astype(float)
            for mid, n in nt.items():
                if mid in notes:
                    notes[mid].append(n)
            if len(comps) > 1:
                method = self.t(f"tl.method.{c}")
                text.append(self.t("tl.m.component", method=method[:1].upper() + method[1:],
                                   weight=f"{comps[c]:.0%}") + " ".join(tx))
            else:
                text.extend(tx)
        if "commitments" in comps and "topdown" not in comps:  # the reference for the reconciliation
            ref, _, tx, entities = self._topdown(iid, ip.topdown, p, roster)
            text.append(self.t("tl.m.reference") + " ".join(tx))
            reference = ref.reindex(ids).astype(float)
        else:
            reference = None
        if len(comps) > 1:
            target = tg.blend_targets(results, comps)
            text.insert(0, self.t("tl.m.blend", parts=" + ".join(f"{comps[c]:.0%} {self.t(f'tl.method.{c}')}"
                                                                 for c in comps)))
        else:
            target = next(iter(results.values()))
        target = target.reindex(ids).astype(float)
        target, rnote = self._round(target, roster, ind)
        if rnote:
            text.append(rnote)
        prorated = volume and not (set(comps) <= {"user", "commitments"})
        for mid in ids:
            if prorated and f[mid] < 1:
                notes[mid].append(self.t("tl.note.prorated", pct=f"{f[mid]:.0%}"))
        full = target / f.where(f > 0) if prorated else target
        mgr = pd.DataFrame({
            "manager_id": ids, "team_id": roster["team_id"].to_numpy(), "region": roster["region"].to_numpy(),
            "fraction": f.to_numpy(), "target": target.to_numpy(), "full": full.to_numpy(),
            "notes": [list(dict.fromkeys(notes[m])) for m in ids],
        })
        bad = mgr[~np.isfinite(mgr["target"]) | (mgr["target"] < 0)]
        if len(bad):  # never a silent NaN or negative target
            raise input_error(self.plan_file, f"could not set a target for '{iid}' in {p} for "
                              f"{', '.join(bad['manager_id'])}", where=f"key 'indicators.{iid}'",
                              fix="check the plan and the data for these managers")
        components = dict(results)
        if reference is not None:
            components["topdown"] = reference
        res = PeriodTargets(iid, p, mgr, entities, pd.DataFrame(columns=["manager_id", "month", "target"]),
                            text, components)
        self._cache[key] = res
        return res

    def phased(self, iid: str, p: pd.Period) -> PeriodTargets:
        """:meth:`targets` with the monthly targets filled in (and the phasing stated)."""
        res = self.targets(iid, p)
        if (iid, p) not in self._phased:
            months, ptext = self._phase(iid, p, res.managers, self.roster(p))
            res.months = months
            if ptext:
                res.text.append(ptext)
            self._phased.add((iid, p))
        return res

    def _round(self, target: pd.Series, roster: pd.DataFrame, ind: Indicator) -> tuple[pd.Series, str]:
        """Counts: whole numbers by largest remainder within each team; money: whole
        units (half up); rates: 4 decimals."""
        if ind.unit == "currency":
            return target.map(lambda x: float(_half_up(x))), ""
        if ind.unit != "count":
            return target.round(RATE_DECIMALS), ""
        out = target.copy()
        team = roster.set_index("manager_id")["team_id"].reindex(target.index)
        changed = False
        for tm, idx in target.groupby(team).groups.items():
            x = target.loc[idx]
            if x.sum() <= 0:
                out.loc[idx] = 0.0
                continue
            parts = tg.apportion(_half_up(float(x.sum())), x, integer=True, source=self.plan_file).astype(float)
            changed |= bool((parts - x).abs().max() > 1e-9)
            out.loc[idx] = parts
        return out, (self.t("tl.m.rounded_team") if changed else "")

    def _phase(self, iid: str, p: pd.Period, mgr: pd.DataFrame, roster: pd.DataFrame) -> tuple[pd.DataFrame, str]:
        """Monthly targets: volumes by seasonal index × active share of the month."""
        ind = self.library[iid]
        months = self._months(p)
        act = self._active_months(roster, p)
        rows = []
        if not _is_volume(ind) or len(months) == 1:
            for r in mgr.itertuples(index=False):
                for m in months:
                    if act.loc[r.manager_id, m] > 0:
                        rows.append((r.manager_id, m, r.target))
            return pd.DataFrame(rows, columns=["manager_id", "month", "target"]), ""
        s, why = self.seasonal(iid, months[0])
        sw = pd.Series([float(s.loc[m.month]) if s is not None else 1.0 for m in months], index=months)
        if ind.unit == "count":
            for _, g in mgr.groupby("team_id", sort=True):
                w = act.loc[g["manager_id"]].to_numpy() * sw.to_numpy()[None, :]
                x = phase_counts(g["target"].to_numpy(), w)
                for mid, xr, ar in zip(g["manager_id"], x, act.loc[g["manager_id"]].to_numpy()):
                    rows.extend((mid, m, float(v)) for m, v, a in zip(months, xr, ar) if a > 0)
        else:
            for r in mgr.itertuples(index=False):
                a = act.loc[r.manager_id]
                w = (sw * a)[a > 0]
                w.index = [str(m) for m in w.index]
                parts = tg.apportion(float(r.target), w, decimals=0, source=self.plan_file)
                rows.extend((r.manager_id, pd.Period(m, freq="M"), float(v)) for m, v in parts.items())
        if s is not None:
            idx = ", ".join(f"{month_label(m)} {s.loc[m.month]:.2f}" for m in months)
            text = why + self.t("tl.phasing.indices", indices=idx)
        else:
            text = why
        return pd.DataFrame(rows, columns=["manager_id", "month", "target"]), text

    def all_targets(self, p: pd.Period) -> dict[str, PeriodTargets]:
        """Every indicator of the plan for ``p``, with monthly targets."""
        if self.sliced_to is not None:
            raise RuntimeError("a sliced TargetEngine shows targets; set them with the company-wide engine")
        return {iid: self.phased(iid, p) for iid in self.plan.indicators}

    def sliced(self, manager_ids: Iterable[str]) -> TargetEngine:
        """A copy restricted to these managers, for showing one team's history.

        Targets are split company-wide (apportionment, peer checks), so they are set by
        the full engine once per run; each team notebook then needs only its own rows.
        Everything per manager (actuals, roster, membership, rosters already built) is
        cut to ``manager_ids``, so a slice's size does not grow with the company; the
        plan, library, gap months and seasonal indices are kept.  A slice refuses to
        set targets (:meth:`all_targets` raises).  Many slices: :meth:`team_slices`.
        """
        return next(self.team_slices({"": manager_ids}))[1]

    def team_slices(self, members: Mapping[str, Iterable[str]]) -> Iterator[tuple[str, TargetEngine]]:
        """``(group, slice)`` for each group of managers (see :meth:`sliced`).

        Each per-manager table is read once: row positions per manager, then each
        group's rows taken in their original order, so the cost is one pass plus the
        groups' own rows, not one pass over the company per group.
        """
        d = self.data
        tables: dict[str, pd.DataFrame | None] = {
            "monthly": d.monthly, "periodic": d.periodic, "managers": d.managers, "team_history": d.team_history,
            "month_team": self._month_team,
            **{f"panel:{k}": v for k, v in self._panels.items()},
            **{f"roster:{p}": v for p, v in self._rosters.items()},
        }
        positions = {k: v.groupby("manager_id", sort=False).indices for k, v in tables.items() if v is not None}

        def take(name: str, keep: set[str]) -> pd.DataFrame | None:
            df = tables[name]
            if df is None:
                return None
            parts = [positions[name][m] for m in keep if m in positions[name]]
            rows = np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=np.intp)
            return df.iloc[rows].reset_index(drop=True)

        for group, ids in members.items():
            keep = set(ids)
            out = copy.copy(self)
            out.data = dataclasses.replace(d, monthly=take("monthly", keep), periodic=take("periodic", keep),
                                           managers=take("managers", keep), team_history=take("team_history", keep))
            out._panels = {k: take(f"panel:{k}", keep) for k in self._panels}
            out._month_team = take("month_team", keep)
            out._rosters = {p: take(f"roster:{p}", keep) for p in self._rosters}
            out._cache, out._phased = {}, set()
            out.sliced_to = sorted(keep)
            yield group, out


# ======================================================================================
# SMART checks and backtests (company-wide; the report shows its own team)
# ======================================================================================


def _history_panel(engine: TargetEngine, iids: list[str], p: pd.Period) -> pd.DataFrame:
    """manager_id, indicator, month, value for the SMART base lookups.

    Volumes: the monthly values.  Rates: the value of each period at the review
    frequency given to each of its months, so that the mean over a base period is the
    period's own ratio (a quarter's ratio is not the mean of its monthly ratios).
    """
    frames = []
    for iid in iids:
        ind = engine.library[iid]
        if ind.kpi is None:
            continue
        if _is_volume(ind) or p.freqstr == "M":
            v = engine.panel(iid) if _is_volume(ind) else engine._kpi_panel(ind.kpi, ind.segment)
            frames.append(pd.DataFrame({"manager_id": v["manager_id"].to_numpy(), "indicator": iid,
                                        "month": v["period"].to_numpy(), "value": v["value"].to_numpy()}))
            continue
        q = engine.data.periodic
        q = q[(q["kpi"] == ind.kpi) & (q["segment"] == ind.segment) & q["value"].notna()]
        for k in range(3):
            months = pd.PeriodIndex([x.asfreq("M", "start") + k for x in q["period"]], freq="M")
            frames.append(pd.DataFrame({"manager_id": q["manager_id"].to_numpy(), "indicator": iid,
                                        "month": months, "value": q["value"].to_numpy()}))
    if not frames:
        return pd.DataFrame(columns=["manager_id", "indicator", "month", "value"])
    h = pd.concat(frames, ignore_index=True)
    return h[h["value"].notna()].reset_index(drop=True)


def smart_flags(engine: TargetEngine, results: dict[str, PeriodTargets], p: pd.Period) -> pd.DataFrame:
    """SMART checks of every manager's target (:func:`helpers.core.targets.achievability_flags`).

    * measurable: the indicator's KPI can be computed from the data;
    * time-bound: the target is for a calendar month or quarter (always, here);
    * achievable vs own history: implied growth of the full-period target (before
      pro-rating) over the manager's own base period lies in the plan's band
      (improvement for lower-is-better rates); not checked without an own base;
    * achievable vs peers: robust z-score of the implied growth among all managers
      of the company with the same indicator within ``peer_z``;
    * not zero: a volume target of 0 gives nothing to aim at.
    """
    ach = engine.plan.achievability
    lib = engine.library
    frames = []
    for iid, r in results.items():
        m = r.managers
        frames.append(pd.DataFrame({"manager_id": m["manager_id"], "indicator": iid, "period": p,
                                    "target": m["full"].astype(float), "team_id": m["team_id"]}))
    tgt = pd.concat(frames, ignore_index=True)
    computable = [i for i in results if lib[i].kpi is not None and lib[i].kpi in engine.data.available]
    lower = [i for i in results if not lib[i].higher_is_better]
    hist = _history_panel(engine, list(results), p)
    parts = []
    for volume in (True, False):
        sel = tgt[[_is_volume(lib[i]) == volume for i in tgt["indicator"]]]
        if not len(sel):
            continue
        h = hist[hist["indicator"].isin(set(sel["indicator"]))]
        f = tg.achievability_flags(sel[["manager_id", "indicator", "period", "target"]].reset_index(drop=True),
                                   h, band=tuple(ach.band), peer_z=ach.peer_z, basis=ach.basis,
                                   computable=computable, lower_is_better=lower, peer_on="growth",
                                   how="sum" if volume else "mean", min_peers=ach.min_peers,
                                   peer_floor=ach.peer_floor)
        f["team_id"] = sel["team_id"].to_numpy()
        parts.append(f)
    out = pd.concat(parts, ignore_index=True)
    vol = np.array([_is_volume(lib[i]) for i in out["indicator"]])
    out["zero_target"] = vol & (out["target"].to_numpy() == 0) & np.array([lib[i].higher_is_better
                                                                           for i in out["indicator"]])
    flagged = (out["growth_ok"].fillna(True) == False) | (out["peer_ok"].fillna(True) == False) \
        | ~out["measurable"].astype(bool) | ~out["time_bound"].astype(bool) | out["zero_target"]  # noqa: E712
    out["status"] = np.where(flagged, "flag", np.where(out["growth_ok"].isna(), "not checked", "ok"))
    return out


def run_backtest(engine: TargetEngine, p: pd.Period) -> tuple[pd.DataFrame, list[str]]:
    """Apply the plan to the ``backtest.periods`` periods before ``p`` for every
    backtest indicator (:func:`helpers.core.targets.backtest`: target from data before the
    period, actual = Σ of its months, attainment by the workbook's one rule).

    Returns the long table (``indicator, manager_id, period, target, actual,
    attainment, status, reached_*, team, region``) and the periods skipped with the
    reason (e.g. no base period in the data yet).
    """
    spec = engine.plan.backtest
    periods = [p - k for k in range(spec.periods, 0, -1)]
    frames, skipped = [], []
    for iid in spec.indicators:
        ok = []
        for q in periods:
            try:
                engine.targets(iid, q)
                ok.append(q)
            except InputError as exc:
                skipped.append(engine.t("tl.bt.skipped", indicator=engine.name(iid), period=str(q),
                                        reason=exc.problems[0].what))
        if not ok:
            continue
        pnl = engine.panel(iid)
        mt = pnl[["manager_id", "period"]].merge(engine._month_team, how="left", on=["manager_id", "period"])
        hist = pd.DataFrame({"manager_id": pnl["manager_id"].to_numpy(), "month": pnl["period"].to_numpy(),
                             "value": pnl["value"].to_numpy(), "team": mt["team_id"].to_numpy()})
        hist["region"] = hist["team"].map(engine.data.team_regions)

        def method(train: pd.DataFrame, q: pd.Period, iid: str = iid) -> pd.Series:
            # the engine applies the same cutoff (data before q) to every input
            m = engine.targets(iid, q).managers
            return pd.Series(m["target"].to_numpy(), index=m["manager_id"].to_numpy(), name="target")

        bt = tg.backtest(hist, method, ok, thresholds=tuple(spec.thresholds),
                         higher_is_better=engine.library[iid].higher_is_better, carry=("team", "region"))
        bt.insert(0, "indicator", iid)
        frames.append(bt)
    if not frames:
        return pd.DataFrame(), skipped
    return pd.concat(frames, ignore_index=True), skipped


# ======================================================================================
# one team's report
# ======================================================================================


@dataclass
class TargetLab:
    """Everything notebook 01 shows for one team (built by :func:`build`)."""

    ctx: Any
    plan: TargetPlan
    plan_file: Path
    library: Library
    engine: TargetEngine
    period: pd.Period
    results: dict[str, PeriodTargets]
    smart: pd.DataFrame
    backtest: pd.DataFrame
    skipped: list[str]

    @property
    def mine(self) -> list[str]:
        return list(self.ctx.roster["manager_id"])

    def names(self) -> pd.Series:
        return self.ctx.roster.set_index("manager_id")["name"]

    def t(self, key: str, **kw: Any) -> str:
        return self.ctx.t(key, **kw)


def make_engine(ctx: Any, params_file: str | Path | None = None, workspace: str | Path | None = None) -> TargetEngine:
    """The target engine of the params' target plan over the company's data (every
    manager, at ``ctx.period``'s frequency).  Bad plans or CSVs raise :class:`InputError`.

    ``params_file`` / ``workspace`` are the notebook's parameters (taken from
    ``ctx.params_file`` / ``ctx.workspace`` when the context carries them)."""
    params_file = params_file or getattr(ctx, "params_file", None)
    if not params_file:
        raise input_error("targetlab.build", "no params file given", fix="pass the notebook's params_file")
    workspace = workspace if workspace is not None else (getattr(ctx, "workspace", None) or "")
    plan_file = resolve(params_file, ctx.params.targets)
    plan = load_plan(plan_file)
    library = load_library(resolve(params_file, ctx.params.indicators))
    problems = plan_problems(plan, library, str(plan_file))
    if problems:
        raise InputError(problems)
    kpis = {library[i].kpi for i in plan.indicators if library[i].kpi} | {"sales", "buyers"}
    data = load_company(ctx.params, params_file, ctx.period.freq, workspace, kpis)
    known = list(data.managers["manager_id"])
    user = com = None
    if plan.sources.targets_csv:
        user = tg.read_targets_csv(resolve(plan_file, plan.sources.targets_csv), known, library.ids())
    if plan.sources.commitments_csv:
        com = tg.read_commitments_csv(resolve(plan_file, plan.sources.commitments_csv), known, library.ids())
    return TargetEngine(data, plan, library, ctx.language, str(plan_file), user, com)


def company_targets(ctx: Any, params_file: str | Path | None = None, workspace: str | Path | None = None
                    ) -> tuple[TargetEngine, dict[str, PeriodTargets], pd.DataFrame, pd.DataFrame, list[str]]:
    """Every manager's targets for ``ctx.period`` (:func:`make_engine`), their SMART
    flags and the backtest: the same for every team, so the runner computes it once
    per run (:func:`helpers.run.runner.precompute`) and the notebooks read it back."""
    from helpers.context.workbook import cache_get, cache_key

    workspace = workspace if workspace is not None else (getattr(ctx, "workspace", None) or "")
    key = cache_key("targets", ctx.period, ctx.language)
    hit = cache_get(workspace, key)
    team = getattr(ctx, "team_id", "")
    if hit is not None and team:  # a team notebook: its own slice of the engine's data
        engine = cache_get(workspace, key, part=team)
        if engine is not None:
            return (engine, *hit[1:])
    elif hit is not None:  # company context: plan, results, flags, backtest (no manager rows)
        return hit
    engine = make_engine(ctx, params_file, workspace)
    p = ctx.period.period
    results = engine.all_targets(p)
    smart = smart_flags(engine, results, p)
    bt, skipped = run_backtest(engine, p)
    return engine, results, smart, bt, skipped


def build(ctx: Any, params_file: str | Path | None = None, workspace: str | Path | None = None) -> TargetLab:
    """Set every target for ``ctx.period``, check them and backtest the plan
    (:func:`company_targets`); the notebook shows ``ctx``'s team."""
    engine, results, smart, bt, skipped = company_targets(ctx, params_file, workspace)
    return TargetLab(ctx, engine.plan, Path(engine.plan_file), engine.library, engine, ctx.period.period, results,
                     smart, bt, skipped)


# ======================================================================================
# what the notebook shows (one call per cell)
# ======================================================================================


def _esc(x: object) -> str:
    from helpers.present.display import escape

    return escape(x)


def _ind_names(lab: TargetLab, iids: list[str]) -> dict[str, str]:
    return {i: lab.library.name(i, lab.ctx.language) for i in iids}


def _volumes(lab: TargetLab) -> list[str]:
    return [i for i in lab.results if _is_volume(lab.library[i])]


def _rates(lab: TargetLab) -> list[str]:
    return [i for i in lab.results if not _is_volume(lab.library[i])]


def _own(lab: TargetLab, iid: str) -> pd.DataFrame:
    m = lab.results[iid].managers
    return m[m["manager_id"].isin(lab.mine)].set_index("manager_id").reindex(lab.mine)


def summary_text(lab: TargetLab) -> str:
    """Markdown: what this report does, for whom and for which period."""
    return lab.t("tl.summary", n=len(lab.mine), period=str(lab.ctx.period), k=len(lab.results),
                 plan=_esc(lab.plan_file.name), b=lab.plan.backtest.periods)


def plan_text(lab: TargetLab) -> str:
    """Markdown: one bullet per indicator — its method in plain words, with the numbers."""
    lines = []
    for iid, r in lab.results.items():
        name = _esc(lab.library.name(iid, lab.ctx.language))
        ip = lab.plan.indicators[iid]
        head = f"- **{name}** (`{iid}`, {lab.t(f'tl.method.{ip.method}')}): "
        if ip.method == "blend" or len(ip.components()) > 1:
            # the blend formula, then one sub-bullet per component, then the phasing
            lines.append(head + _esc(r.text[0]))
            lines.extend(f"    - {_esc(x)}" for x in r.text[1:])
        else:
            lines.append(head + " ".join(_esc(x) for x in r.text))
    return "\n".join(lines)


def _note_short(notes: list[str]) -> str:
    return "; ".join(notes)


def volume_table(lab: TargetLab):
    """Quarter (period) targets of the volume indicators: managers × indicators, team total."""
    from helpers.present.display import table

    vols = _volumes(lab)
    names = lab.names()
    df = pd.DataFrame({lab.t("col.name"): names.reindex(lab.mine).to_numpy(), lab.t("col.manager_id"): lab.mine})
    units = {}
    frac = lab.ctx.roster.set_index("manager_id")["fraction"].reindex(lab.mine)
    for iid in vols:
        col = lab.library.name(iid, lab.ctx.language)
        df[col] = _own(lab, iid)["target"].to_numpy()
        units[col] = lab.library[iid].unit
    df[lab.t("col.fraction")] = [f"{x:.1%}" for x in frac.to_numpy()]
    total = {lab.t("col.name"): lab.t("tl.col.team_total"), lab.t("col.manager_id"): "", lab.t("col.fraction"): ""}
    for iid in vols:
        col = lab.library.name(iid, lab.ctx.language)
        total[col] = float(df[col].sum())
    df = pd.concat([df, pd.DataFrame([total])], ignore_index=True)
    return table(df, units, lab.ctx.language, caption=lab.t("tl.cap.volumes", period=str(lab.ctx.period)))


def levels_text(lab: TargetLab) -> str:
    """Markdown: the rate targets that are the same for every manager, in one sentence."""
    parts = []
    for iid in _rates(lab):
        v = _own(lab, iid)["target"]
        if len(v) and v.nunique() == 1:
            parts.append(f"{_esc(lab.library.name(iid, lab.ctx.language))} "
                         f"{amount(float(v.iloc[0]), lab.library[iid].unit, lab.ctx.language)}")
    if not parts:
        return ""
    return lab.t("tl.levels", items="；".join(parts) if lab.ctx.language == "zh" else "; ".join(parts))


def rate_table(lab: TargetLab):
    """Rate targets that differ between managers (managers × indicators), or a sentence."""
    from IPython.display import Markdown

    from helpers.present.display import table

    cols = [i for i in _rates(lab) if _own(lab, i)["target"].nunique() > 1]
    if not cols:
        return Markdown(lab.t("tl.rates_none"))
    df = pd.DataFrame({lab.t("col.name"): lab.names().reindex(lab.mine).to_numpy()})
    units = {}
    for iid in cols:
        col = lab.library.name(iid, lab.ctx.language)
        df[col] = _own(lab, iid)["target"].to_numpy()
        units[col] = lab.library[iid].unit
    return table(df, units, lab.ctx.language, caption=lab.t("tl.cap.rates", period=str(lab.ctx.period)))


def split_table(lab: TargetLab):
    """The top-down chain for this team: company → its region → this team → Σ of its
    managers (exactly equal), per top-down indicator."""
    from IPython.display import Markdown

    from helpers.present.display import table

    rows = []
    for iid, r in lab.results.items():
        if r.entities.empty:
            continue
        e = r.entities
        name = lab.library.name(iid, lab.ctx.language)
        unit = lab.library[iid].unit
        own_sum = float(r.components["topdown"].reindex(lab.mine).sum())
        team_row = e[(e["level"] == "team") & (e["entity"] == lab.ctx.team_id)]
        for lvl, ent in (("company", "company"), ("region", lab.ctx.region)):
            x = e[(e["level"] == lvl) & (e["entity"] == ent)]
            if len(x):
                label = lab.t("tl.ent.company") if lvl == "company" else ent
                rows.append((name, lab.t(f"tl.lvl.{lvl}"), label, amount(float(x["target"].iloc[0]), unit, lab.ctx.language)))
        if len(team_row):
            tt = float(team_row["target"].iloc[0])
            rows.append((name, lab.t("tl.lvl.team"), lab.ctx.team_name, amount(tt, unit, lab.ctx.language)))
            ok = abs(own_sum - tt) < 1e-6
            rows.append((name, lab.t("tl.lvl.managers"), lab.t("tl.ent.sum_ok" if ok else "tl.ent.sum_bad"),
                         amount(own_sum, unit, lab.ctx.language)))
    if not rows:
        return Markdown(lab.t("tl.split_none"))
    df = pd.DataFrame(rows, columns=[lab.t("col.kpi"), lab.t("tl.col.level"), lab.t("tl.col.entity"),
                                     lab.t("tl.col.target")])
    return table(df, None, lab.ctx.language)


def notes_table(lab: TargetLab):
    """Pro-rating and fallbacks used for this team's managers (every one stated)."""
    from IPython.display import Markdown

    from helpers.present.display import table

    names = lab.names()
    rows = []
    for iid, r in lab.results.items():
        m = r.managers.set_index("manager_id")
        for mid in lab.mine:
            notes = m.loc[mid, "notes"]
            if notes:
                rows.append((names.get(mid, mid), lab.library.name(iid, lab.ctx.language), _note_short(notes)))
    if not rows:
        return Markdown(lab.t("tl.notes_none"))
    df = pd.DataFrame(rows, columns=[lab.t("col.name"), lab.t("col.kpi"), lab.t("col.note")])
    return table(df, None, lab.ctx.language)


def _scale(unit: str, language: str) -> tuple[float, str]:
    if unit == "currency":
        return money_scale(language), ("tl.axis.money_zh" if language == "zh" else "tl.axis.money_en")
    return 1.0, "tl.axis.count"


def history_chart(lab: TargetLab, months: int = 24) -> None:
    """Small multiples, one per volume indicator: this team's monthly actuals (its
    current managers) before the period, the same months a year earlier, and the
    monthly targets of the period."""
    import matplotlib.pyplot as plt

    from helpers.present import plotting

    vols = _volumes(lab)
    if not vols:
        return
    eng = lab.engine
    pm = list(eng._months(lab.period))
    cutoff = pm[0]
    hist_idx = pd.period_range(cutoff - months, cutoff - 1, freq="M")
    n = len(vols)
    ncol = min(2, n)
    nrow = int(math.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.2 * ncol, 3.1 * nrow), squeeze=False)
    c_hist, c_target, c_ly = plotting.palette(3)
    for ax, iid in zip(axes.ravel(), vols):
        unit = lab.library[iid].unit
        sc, ylab = _scale(unit, lab.ctx.language)
        pnl = eng.panel(iid)
        pnl = pnl[pnl["manager_id"].isin(lab.mine)]
        h = pnl.groupby("period")["value"].sum().reindex(hist_idx) / sc
        tm = lab.results[iid].months
        tgt = tm[tm["manager_id"].isin(lab.mine)].groupby("month")["target"].sum().reindex(pm) / sc
        ly = pnl.groupby("period")["value"].sum().reindex([m - 12 for m in pm]) / sc
        x_hist = np.arange(len(hist_idx))
        x_p = np.arange(len(hist_idx), len(hist_idx) + len(pm))
        ax.plot(x_hist, h.to_numpy(), color=c_hist, lw=1.8, marker="o", ms=2.5, label=lab.t("tl.leg.actual"))
        ax.bar(x_p, tgt.to_numpy(), color=c_target, width=0.7, label=lab.t("tl.leg.target"))
        ax.plot(x_p, ly.to_numpy(), ls="none", marker="D", ms=5, mfc="white", color=c_ly,
                label=lab.t("tl.leg.last_year"))
        labels = [str(m) for m in hist_idx] + [str(m) for m in pm]
        ticks = list(range(0, len(labels), 6)) + [len(labels) - 1]
        ax.set_xticks(ticks)
        ax.set_xticklabels([labels[i] for i in ticks], rotation=45, fontsize=8)
        ax.set_title(lab.library.name(iid, lab.ctx.language), fontsize=11)
        ax.set_ylabel(lab.t(ylab), fontsize=9)
        ax.set_ylim(bottom=0)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=8, frameon=False, loc="upper left")
    fig.suptitle(lab.t("tl.chart.history", period=str(lab.ctx.period)), fontweight="bold")
    plotting.finish(fig)


MAX_PEER_DOTS = 400
"""The growth chart draws at most this many other managers per indicator (a seeded
random sample, said under the chart) so that a large company stays a readable cloud."""


def growth_chart(lab: TargetLab) -> None:
    """Implied growth of every target over the manager's own base: this team's managers
    (coloured) against the company's other managers (grey; a sample of
    :data:`MAX_PEER_DOTS` per indicator when there are more), with the plan's band."""
    import matplotlib.pyplot as plt

    from helpers.present import plotting

    s = lab.smart
    s = s[np.isfinite(s["implied_growth"].astype(float))]
    if s.empty:
        return
    iids = [i for i in lab.results if i in set(s["indicator"])]
    lo, hi = lab.plan.achievability.band
    fig, ax = plt.subplots(figsize=(9.5, 0.45 * len(iids) + 1.6))
    lower = {i for i in iids if not lab.library[i].higher_is_better}
    rng = np.random.default_rng(0)
    c_team = plotting.palette(1)[0]
    sampled = False
    for y, iid in enumerate(iids):
        d = s[s["indicator"] == iid]
        g = d["implied_growth"].astype(float).to_numpy()
        g = -g if iid in lower else g
        g = np.clip(g, -1.0, 2.0)
        mine = d["manager_id"].isin(lab.mine).to_numpy()
        jit = rng.uniform(-0.18, 0.18, len(g))
        others = np.flatnonzero(~mine)
        if len(others) > MAX_PEER_DOTS:  # a seeded sample keeps the shape without 30,000 dots a row
            others = np.sort(rng.choice(others, MAX_PEER_DOTS, replace=False))
            sampled = True
        ax.scatter(g[others], y + jit[others], s=10, color="0.7", zorder=2)
        ax.scatter(g[mine], y + jit[mine], s=28, color=c_team, edgecolor="black", lw=0.4, zorder=3)
    ax.axvspan(lo, hi, color="0.92", zorder=0)
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_yticks(range(len(iids)))
    ax.set_yticklabels([lab.library.name(i, lab.ctx.language) + (" ↓" if i in lower else "") for i in iids])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:+.0%}"))
    ax.set_xlabel(lab.t("tl.axis.growth"))
    ax.set_title(lab.t("tl.chart.growth", lo=f"{lo:+.0%}", hi=f"{hi:+.0%}"))
    if sampled:
        ax.annotate(lab.t("tl.chart.growth_sampled", n=MAX_PEER_DOTS), xy=(1, 0), xycoords="axes fraction",
                    xytext=(0, -44), textcoords="offset points", ha="right", va="top", fontsize=8, color="0.35")
    plotting.finish(fig)


def smart_text(lab: TargetLab) -> str:
    """Markdown: how many of this team's targets pass the SMART checks."""
    s = lab.smart[lab.smart["manager_id"].isin(lab.mine)]
    c = s["status"].value_counts()
    return lab.t("tl.smart.summary", n=len(s), ok=int(c.get("ok", 0)), flag=int(c.get("flag", 0)),
                 nc=int(c.get("not checked", 0)), lo=f"{lab.plan.achievability.band[0]:+.0%}",
                 hi=f"{lab.plan.achievability.band[1]:+.0%}", z=f"{lab.plan.achievability.peer_z:g}")


def _smart_reason(lab: TargetLab, r: Any) -> str:
    parts = []
    lower = not lab.library[r.indicator].higher_is_better
    if r.zero_target:
        parts.append(lab.t("tl.smart.zero"))
    if not bool(r.measurable):
        parts.append(lab.t("tl.smart.not_measurable"))
    if pd.notna(r.growth_ok) and not bool(r.growth_ok):
        g = -r.implied_growth if lower else r.implied_growth
        key = "tl.smart.growth_low" if g < lab.plan.achievability.band[0] else "tl.smart.growth_high"
        parts.append(lab.t(key + ("_lower" if lower else ""), g=f"{g:+.0%}"))
    if pd.notna(r.peer_ok) and not bool(r.peer_ok):
        parts.append(lab.t("tl.smart.peer", z=f"{r.peer_z:+.1f}"))
    return "; ".join(parts)


def smart_table(lab: TargetLab):
    """This team's flagged targets: target, own base, implied growth and why."""
    from IPython.display import Markdown

    from helpers.present.display import table

    s = lab.smart[lab.smart["manager_id"].isin(lab.mine) & (lab.smart["status"] == "flag")]
    if s.empty:
        return Markdown(lab.t("tl.smart.none"))
    names = lab.names()
    lang = lab.ctx.language
    rows = []
    for r in s.itertuples(index=False):
        unit = lab.library[r.indicator].unit
        lower = not lab.library[r.indicator].higher_is_better
        rows.append((names.get(r.manager_id, r.manager_id), lab.library.name(r.indicator, lang) + (" ↓" if lower else ""),
                     amount(r.target, unit, lang), amount(r.base, unit, lang) if pd.notna(r.base) else
                     lab.t("report.not_available"), -r.implied_growth if lower else r.implied_growth,
                     _smart_reason(lab, r)))
    df = pd.DataFrame(rows, columns=[lab.t("col.name"), lab.t("col.kpi"), lab.t("tl.col.full_target"),
                                     lab.t("tl.col.base"), lab.t("tl.col.growth"), lab.t("tl.col.why")])
    return table(df, {lab.t("tl.col.growth"): "ratio"}, lang)


def reconcile_table(lab: TargetLab):
    """Bottom-up commitments against the top-down split for this team (gap shown),
    or a sentence when the plan names no commitments file."""
    from IPython.display import Markdown

    from helpers.present.display import table

    com = lab.engine.commitments
    if com is None:
        return Markdown(lab.t("tl.reconcile.none"))
    names = lab.names()
    frames = []
    for iid, r in lab.results.items():
        c = com[(com["indicator"] == iid) & (com["period"] == lab.period)]
        if c.empty:
            continue
        td = r.components.get("topdown", r.managers.set_index("manager_id")["target"]).reindex(lab.mine)
        bu = c.set_index("manager_id")["commitment"]
        bu = bu[bu.index.isin(lab.mine)]
        rec = tg.reconcile(td, bu, total_label=lab.t("tl.col.team_total"))
        unit = lab.library[iid].unit
        for c in ("top_down", "bottom_up", "gap"):
            rec[c] = [amount(v, unit, lab.ctx.language) if pd.notna(v) else lab.t("report.not_available")
                      for v in rec[c]]
        rec.insert(0, lab.t("col.kpi"), lab.library.name(iid, lab.ctx.language))
        rec.index = [names.get(i, i) for i in rec.index]
        frames.append(rec.reset_index(names=lab.t("col.name")))
    if not frames:
        return Markdown(lab.t("tl.reconcile.no_rows"))
    df = pd.concat(frames, ignore_index=True)
    df = df.rename(columns={"top_down": lab.t("tl.col.top_down"), "bottom_up": lab.t("tl.col.bottom_up"),
                            "gap": lab.t("tl.col.gap"), "gap_pct": lab.t("tl.col.gap_pct"),
                            "status": lab.t("tl.col.status")})
    return table(df, {lab.t("tl.col.gap_pct"): "ratio"}, lab.ctx.language)


def backtest_text(lab: TargetLab) -> str:
    """Markdown: which periods were backtested, how, and which were skipped."""
    bt = lab.backtest
    if bt.empty:
        return lab.t("tl.bt.none") + ("\n\n" + "\n".join(f"- {_esc(x)}" for x in lab.skipped) if lab.skipped else "")
    periods = sorted(bt["period"].unique())
    a, b, c = lab.plan.backtest.thresholds
    text = lab.t("tl.bt.intro", first=str(periods[0]), last=str(periods[-1]), n=len(periods),
                 inds="、".join(_ind_names(lab, list(dict.fromkeys(bt["indicator"]))).values())
                 if lab.ctx.language == "zh" else ", ".join(_ind_names(lab, list(dict.fromkeys(bt["indicator"]))).values()),
                 a=f"{a:.0%}", b=f"{b:.0%}", c=f"{c:.0%}")
    note = scope_note(lab)
    if note:
        text += "\n\n" + note
    if lab.skipped:
        text += "\n\n" + "\n".join(f"- {_esc(x)}" for x in lab.skipped)
    return text


MAX_GROUPS_SHOWN = 12
"""A team report lists at most this many regions and other teams in the company-wide
backtest views (chart rows, fairness table); the leadership summary lists them all."""


def shown_groups(lab: Any, regions: list[str], teams: list[str]) -> tuple[list[str], list[str]]:
    """The regions and teams a team report shows in the company-wide backtest views.

    Up to :data:`MAX_GROUPS_SHOWN` of each, all are shown.  Beyond, regions shrink to
    this team's region, and teams to the teams of this team's region (or, when that is
    still too many, this team alone), so that a company of 3,000 branches still gets a
    readable chart.  The cut is stated in the report (:func:`scope_note`).
    """
    own_region, own_team = lab.ctx.region, lab.ctx.team_id
    if len(regions) > MAX_GROUPS_SHOWN:
        regions = [r for r in regions if r == own_region]
    if len(teams) > MAX_GROUPS_SHOWN:
        team_regions = lab.engine.data.team_regions
        same = [t for t in teams if team_regions.get(t) == own_region]
        teams = same if len(same) <= MAX_GROUPS_SHOWN else [t for t in teams if t == own_team]
    return regions, teams


def scope_note(lab: TargetLab) -> str:
    """Markdown: which regions and teams the backtest views show, when not all."""
    bt = lab.backtest
    if bt.empty:
        return ""
    regions, teams = sorted(bt["region"].dropna().unique()), sorted(bt["team"].dropna().unique())
    r_shown, t_shown = shown_groups(lab, regions, teams)
    if len(r_shown) == len(regions) and len(t_shown) == len(teams):
        return ""
    return lab.t("tl.bt.scope", regions=len(regions), teams=len(teams), r_shown=len(r_shown), t_shown=len(t_shown),
                 max=MAX_GROUPS_SHOWN)


def _groups(lab: TargetLab, bt: pd.DataFrame, teams: str = "all") -> list[tuple[str, pd.DataFrame, bool]]:
    """(label, rows, is own) for the company, each region and each team shown
    (:func:`shown_groups`; ``teams="own"``: only this team)."""
    regions, all_teams = shown_groups(lab, sorted(bt["region"].dropna().unique()), sorted(bt["team"].dropna().unique()))
    out = [(lab.t("tl.ent.company"), bt, False)]
    for rg in regions:
        out.append((str(rg), bt[bt["region"] == rg], rg == lab.ctx.region))
    names = lab.engine.data.team_names
    for tm in all_teams:
        if teams == "all" or tm == lab.ctx.team_id:
            out.append((f"{names.get(tm, tm)}", bt[bt["team"] == tm], tm == lab.ctx.team_id))
    return out


def backtest_chart(lab: TargetLab) -> None:
    """Share of managers reaching threshold / target / excellence under the plan, for
    the company, each region and each team (dots), against the rules of thumb
    (shaded: about 90 % / 60–65 % / 10 %)."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from helpers.present import plotting

    bt = lab.backtest
    if bt.empty:
        return
    iids = list(dict.fromkeys(bt["indicator"]))
    th = tuple(lab.plan.backtest.thresholds)
    groups_all = _groups(lab, bt)
    fig, axes = plt.subplots(1, len(iids), figsize=(3.6 * len(iids) + 1.6, 0.36 * len(groups_all) + 2.2),
                             sharey=True, squeeze=False)
    cols = plotting.palette(3)
    keys = [("share_threshold", "tl.leg.threshold", "o"), ("share_target", "tl.leg.target_level", "s"),
            ("share_excellence", "tl.leg.excellence", "^")]
    thumbs = [tg.RULES_OF_THUMB["threshold"], tg.RULES_OF_THUMB["target"], tg.RULES_OF_THUMB["excellence"]]
    for ax, iid in zip(axes[0], iids):
        groups = _groups(lab, bt[bt["indicator"] == iid])
        y = np.arange(len(groups))
        for (lo, hi), c in zip(thumbs, cols):
            ax.axvspan(lo - 0.01, hi + 0.01, color=c, alpha=0.22, lw=0)
        for (col, _, mk), c in zip(keys, cols):
            vals = [float(tg.attainment_distribution(g, thresholds=th)[col].iloc[0]) if len(g) else np.nan
                    for _, g, _ in groups]
            ax.scatter(vals, y, marker=mk, s=34, color=c, edgecolor="black", lw=0.4, zorder=3)
        for yy, (_, _, own) in zip(y, groups):
            if own:
                ax.axhspan(yy - 0.45, yy + 0.45, color="0.9", zorder=0)
        ax.set_yticks(y)
        ax.set_yticklabels([g[0] for g in groups])
        for tick, (_, _, own) in zip(ax.get_yticklabels(), groups):
            if own:
                tick.set_fontweight("bold")
        ax.set_xlim(-0.02, 1.02)
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        ax.set_title(lab.library.name(iid, lab.ctx.language), fontsize=11)
    axes[0][0].invert_yaxis()
    handles = [Line2D([], [], ls="none", marker=mk, color=c, markeredgecolor="black", markersize=7,
                      label=lab.t(k, pct=f"{th[i]:.0%}")) for i, ((_, k, mk), c) in enumerate(zip(keys, cols))]
    handles.append(plt.Rectangle((0, 0), 1, 1, color="0.6", alpha=0.4, label=lab.t("tl.leg.thumb")))
    fig.legend(handles=handles, loc="lower center", ncol=4, frameon=False, fontsize=9)
    fig.suptitle(lab.t("tl.chart.backtest"), fontweight="bold")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    plt.show()
    plt.close(fig)


def backtest_table(lab: TargetLab):
    """Attainment distribution by region and team (and company) vs the rules of thumb."""
    from IPython.display import Markdown

    from helpers.present.display import table

    bt = lab.backtest
    if bt.empty:
        return Markdown(lab.t("tl.bt.none"))
    th = tuple(lab.plan.backtest.thresholds)
    rows = []
    for iid in dict.fromkeys(bt["indicator"]):
        d = bt[bt["indicator"] == iid]
        for label, g, _ in _groups(lab, d, teams="own"):
            dist = tg.attainment_distribution(g, thresholds=th).iloc[0]
            rows.append((lab.library.name(iid, lab.ctx.language), label, int(dist["n"]), dist["median"],
                         dist["share_threshold"], dist["share_target"], dist["share_excellence"]))
    df = pd.DataFrame(rows, columns=[lab.t("col.kpi"), lab.t("tl.col.group"), lab.t("tl.col.n"),
                                     lab.t("tl.col.median_att"), lab.t("tl.col.sh_threshold"),
                                     lab.t("tl.col.sh_target"), lab.t("tl.col.sh_excellence")])
    units = {c: "ratio" for c in df.columns[3:]}
    units[lab.t("tl.col.n")] = "count"
    return table(df, units, lab.ctx.language)


def fairness_table(lab: TargetLab):
    """Teams and regions whose backtest attainment is systematically over or under target."""
    from IPython.display import Markdown

    from helpers.present.display import table

    bt = lab.backtest
    if bt.empty:
        return Markdown(lab.t("tl.bt.none"))
    fs = lab.plan.backtest.fairness
    names = lab.engine.data.team_names
    shown = dict(zip(("region", "team"), map(set, shown_groups(
        lab, sorted(bt["region"].dropna().unique()), sorted(bt["team"].dropna().unique())))))
    rows = []
    for iid in dict.fromkeys(bt["indicator"]):
        d = bt[bt["indicator"] == iid]
        for by, lvl in (("region", "tl.lvl.region"), ("team", "tl.lvl.team")):
            f = tg.fairness_flags(d, by=by, low=fs.low, high=fs.high, last_n=fs.last_n, min_periods=fs.min_periods)
            for r in f.itertuples(index=False):
                ent = getattr(r, by)
                own = ent == (lab.ctx.team_id if by == "team" else lab.ctx.region)
                if (not r.flag and not own) or ent not in shown[by]:
                    continue  # the table lists flagged groups and this team's own
                label = names.get(ent, ent) if by == "team" else ent
                flag = {"systematically over target": lab.t("tl.fair.over"),
                        "systematically under target": lab.t("tl.fair.under")}.get(r.flag, lab.t("tl.fair.ok"))
                rows.append((lab.library.name(iid, lab.ctx.language), lab.t(lvl), label, r.median,
                             f"{r.periods_over}/{r.periods}", f"{r.periods_under}/{r.periods}", flag))
    df = pd.DataFrame(rows, columns=[lab.t("col.kpi"), lab.t("tl.col.level"), lab.t("tl.col.group"),
                                     lab.t("tl.col.median_att"), lab.t("tl.col.over", high=f"{fs.high:.0%}"),
                                     lab.t("tl.col.under", low=f"{fs.low:.0%}"), lab.t("tl.col.flag")])
    return table(df, {lab.t("tl.col.median_att"): "ratio"}, lab.ctx.language)


def own_backtest_chart(lab: TargetLab) -> None:
    """Heatmap: this team's managers × backtested periods, attainment under the plan."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    from helpers.present import plotting

    bt = lab.backtest
    if bt.empty:
        return
    iids = list(dict.fromkeys(bt["indicator"]))
    names = lab.names()
    fig, axes = plt.subplots(1, len(iids), figsize=(3.6 * len(iids) + 1.5, 0.36 * len(lab.mine) + 1.8),
                             sharey=True, squeeze=False)
    for k, (ax, iid) in enumerate(zip(axes[0], iids)):
        d = bt[(bt["indicator"] == iid) & bt["manager_id"].isin(lab.mine)]
        w = d.pivot_table(index="manager_id", columns="period", values="attainment", aggfunc="first", dropna=False)
        w = w.reindex([m for m in lab.mine if m in set(bt.loc[bt["indicator"].isin(iids), "manager_id"])])
        w.index = [names.get(i, i) for i in w.index]
        w.columns = [str(c) for c in w.columns]
        sns.heatmap(w.astype(float), ax=ax, cmap="RdBu", vmin=0.5, vmax=1.5, center=1.0, annot=True, fmt=".0%",
                    annot_kws={"fontsize": 7}, cbar=False, linewidths=0.5, linecolor="white")
        ax.grid(False)  # an empty cell (no target that quarter) stays blank, not crossed by the theme's grid
        ax.set_title(lab.library.name(iid, lab.ctx.language), fontsize=11)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.tick_params(axis="x", rotation=45, labelsize=8)
        ax.tick_params(axis="y", rotation=0)
    fig.suptitle(lab.t("tl.chart.own_backtest"), fontweight="bold")
    plotting.finish(fig)


def export(lab: TargetLab) -> pd.DataFrame:
    """Artifact ``targets.csv``: this team's targets per manager × indicator for the
    period and each month (``level`` quarter/month), with method, unit and notes.

    Columns: manager_id, team_id, indicator, period, level, target, unit, method, note.
    The quarterly review reads it (manager_id, indicator, period, target) when no user
    targets are supplied; :func:`helpers.core.targets.read_targets_csv` reads it as is.
    """
    rows = []
    lvl = "quarter" if lab.period.freqstr.startswith("Q") else "month"
    for iid, r in lab.results.items():
        ip = lab.plan.indicators[iid]
        method = ip.method if ip.method != "blend" else "blend(" + ",".join(
            f"{k}:{v:g}" for k, v in (ip.blend or {}).items()) + ")"
        unit = lab.library[iid].unit
        m = r.managers[r.managers["manager_id"].isin(lab.mine)]
        for x in m.itertuples(index=False):
            rows.append((x.manager_id, x.team_id, iid, str(lab.ctx.period), lvl, x.target, unit, method,
                         _note_short(x.notes)))
        if lvl == "quarter":
            mm = r.months[r.months["manager_id"].isin(lab.mine)]
            team = m.set_index("manager_id")["team_id"]
            for x in mm.itertuples(index=False):
                rows.append((x.manager_id, team[x.manager_id], iid, month_label(x.month), "month", x.target, unit,
                             method, ""))
    out = pd.DataFrame(rows, columns=["manager_id", "team_id", "indicator", "period", "level", "target", "unit",
                                      "method", "note"])
    return out.sort_values(["manager_id", "indicator", "level", "period"],
                           key=lambda s: s.map({"quarter": 0, "month": 1}) if s.name == "level" else s,
                           kind="stable").reset_index(drop=True)


# ======================================================================================
# what the run needs to know (read by helpers.run.runner; the notebook's metadata names this module)
# ======================================================================================


def check_inputs(params: RunParams, params_file: str | Path, ds: Any) -> list[Problem]:
    """The target plan (and a user targets file) for the tables the data holds."""
    return check(params, params_file, tables=set(ds.tables))


def share_targets(ctx: Any, params_file: str | Path, workspace: str | Path, teams: list[str]) -> str:
    """Compute every manager's targets once for the run and store them in the workspace
    cache: the company part and one part per team (each team notebook reads its own)."""
    from helpers.context.workbook import cache_key, cache_put

    key = cache_key("targets", ctx.period, ctx.language)
    engine, *rest = company_targets(ctx, params_file, workspace)
    by_team = engine.roster(ctx.period.period).groupby("team_id")["manager_id"].agg(list).to_dict()
    members = {team: by_team.get(team, []) for team in teams}
    for team, part in engine.team_slices(members):  # each team notebook reads its own managers only
        cache_put(workspace, key, part, part=team)
    cache_put(workspace, key, (engine.sliced(()), *rest))  # written last: it marks the cache complete
    return key


SHARED = {"targets": share_targets}
"""Company-wide results this notebook reads, each with the function that prepares it once per run."""
