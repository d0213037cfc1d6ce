"""The target engine: one target plan applied to the whole company for one period.

The target-setting plan (``params/targets.yaml``, :class:`helpers.plan.targets.TargetPlan`)
says, per indicator, how its target is set.  :class:`TargetEngine` applies the plan to
the whole company for one period — top-down splits need every team — using only data
from before the period (no look-ahead): targets per manager × indicator × period and
month.  The pure formulas live in :mod:`helpers.core.targets`; this module decides
which data goes into them and records every fallback it uses as a machine-readable
note (:class:`~helpers.core.phrases.Phrase`), worded by the presentation.  It does no
I/O and knows no language; :mod:`helpers.core.target_checks` holds the SMART checks
and the backtest.

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
* **Ramp-up.**  With the plan's ``ramp_up`` (e.g. ``[0.5, 0.75]``) a new hire's month
  counts as that share of a month in the fraction above: half a month's target in the
  hire month, three quarters in the next, a full target after that — a newcomer is not
  asked for a veteran's results (their part of a top-down split goes to the others).
* **Phasing.**  Volume targets are spread over the period's months in proportion to
  ``S_m × a_m`` — the month's seasonal index (classical multiplicative decomposition of
  the company's monthly history, :func:`helpers.core.targets.seasonal_indices`, when at
  least 24 consecutive months are available; else 1) times the share of the month
  the manager is active.  Months a manager is not active get no target row.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.core import targets as tg
from helpers.core.phrases import Amount, Bilingual, Capitalized, Phrase, T, join
from helpers.core.roster import team_roster
from helpers.data.tables import Dataset
from helpers.errors import input_error
from helpers.kpis.indicators import Indicator, Library
from helpers.kpis.measures import availability, kpi_actuals
from helpers.periods import ReviewPeriod, month_label
from helpers.plan.targets import GrowthSpec, PotentialSpec, TargetPlan, TopDownSpec, TotalSpec

__all__ = ["CompanyData", "company_data", "company_inputs", "TargetEngine", "PeriodTargets", "phase_counts"]

RATE_DECIMALS = 4
SEASONAL_MIN_MONTHS = 24
SEASONAL_MAX_MONTHS = 36


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


def company_data(ds: Dataset, freq: str = "Q", kpis: set[str] | None = None,
                 periodic: pd.DataFrame | None = None) -> CompanyData:
    """Company inputs computed from a loaded dataset (interactive use, tests, ``validate``);
    ``periodic``: the KPI actuals at ``freq`` when the caller has them already."""
    monthly = periodic if freq == "M" and periodic is not None else kpi_actuals(ds, "M")
    if periodic is None:
        periodic = monthly if freq == "M" else kpi_actuals(ds, freq)
    if kpis is not None:
        monthly = monthly[monthly["kpi"].isin(kpis)]
        periodic = periodic[periodic["kpi"].isin(kpis)]
    market = None
    if ds.has("market") and len(ds["market"]):
        market = ds["market"][["region", "month", "market_size"]].copy()
    return company_inputs(monthly, periodic, freq, ds.managers, ds["team_history"] if ds.has("team_history") else None,
                    ds.team_names(), ds.team_regions(), market,
                    set(availability(ds).query("available")["kpi"]))


def company_inputs(monthly: pd.DataFrame, periodic: pd.DataFrame, freq: str, managers: pd.DataFrame,
                   team_history: pd.DataFrame | None, names: Mapping[str, str], regions: Mapping[str, str],
                   market: pd.DataFrame | None, available: Iterable[str]) -> CompanyData:
    """:class:`CompanyData` from KPI actuals and tables as read (periods as labels, names dropped)."""
    if market is not None:
        market = market.copy()
        market["month"] = pd.PeriodIndex(market["month"].astype(str).str[:7], freq="M")
        market["market_size"] = market["market_size"].astype(float)
    return CompanyData(monthly=_prepare(monthly, "M"), periodic=_prepare(periodic, freq), freq=freq,
                       managers=_anonymous(managers), team_history=team_history, team_names=dict(names),
                       team_regions=dict(regions), market=market, available=set(available))


@dataclass
class PeriodTargets:
    """Targets of one indicator for one period, for every manager of the company.

    ``managers``: ``manager_id, team_id, region, fraction, target`` (pro-rated),
    ``full`` (before pro-rating: the figure the SMART checks compare with history),
    ``notes`` (list of :class:`~helpers.core.phrases.Phrase`: fallbacks, pro-rating, scaling).
    ``entities``: the top-down chain (``level, entity, parent, target``) when a
    top-down split was used.  ``months``: ``manager_id, month, target``.
    ``text``: how the target was set, as phrases with the numbers (worded by the
    presentation, :func:`helpers.present.words.render`).
    """

    indicator: str
    period: pd.Period
    managers: pd.DataFrame
    entities: pd.DataFrame
    months: pd.DataFrame
    text: list[Phrase] = field(default_factory=list)
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
    except the roster (who is active when), known when targets are set.  The potential
    method forecasts the period's market by the same months a year earlier.
    """

    def __init__(self, data: CompanyData, plan: TargetPlan, library: Library,
                 plan_file: str = "targets.yaml", user_targets: pd.DataFrame | None = None,
                 commitments: pd.DataFrame | None = None):
        self.data, self.plan, self.library = data, plan, library
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
        self._season: dict[tuple[str, pd.Period], tuple[pd.Series | None, Phrase]] = {}
        self._panels: dict[str, pd.DataFrame] = {}
        self._cache: dict[tuple[str, pd.Period], PeriodTargets] = {}
        self._phased: set[tuple[str, pd.Period]] = set()
        self._activity: dict[pd.Period, tuple[pd.DataFrame, pd.DataFrame]] = {}  # p → (roster, its active months)
        self.sliced_to: list[str] | None = None  # set by sliced(): this copy holds these managers only

    # ------------------------------------------------------------------ helpers
    def _expand_membership(self) -> pd.DataFrame:
        """(manager_id, month) → team_id over the data's months (team at the time)."""
        light = Dataset(tables={"managers": self.data.managers,
                                **({"team_history": self.data.team_history}
                                   if self.data.team_history is not None else {})})
        mem = light.membership()
        span = self.months_in_data
        if not len(span):
            return pd.DataFrame(columns=["manager_id", "period", "team_id"])
        lo, hi = span[0].ordinal, span[-1].ordinal
        # each interval's months within the data's span (an open end: the span's), as month ordinals
        start, end = pd.PeriodIndex(mem["start"], freq="M"), pd.PeriodIndex(mem["end"], freq="M")
        first = np.where(start.isna(), lo, np.maximum(start.asi8, lo))
        last = np.where(end.isna(), hi, np.minimum(end.asi8, hi))
        n = np.where(first <= last, last - first + 1, 0)
        if not n.sum():
            return pd.DataFrame(columns=["manager_id", "period", "team_id"])
        row = np.repeat(np.arange(len(mem)), n)  # interval by interval, its months in order
        month = first[row] + np.arange(len(row)) - np.repeat(np.cumsum(n) - n, n)
        out = pd.DataFrame({"manager_id": mem["manager_id"].to_numpy()[row],
                            "period": pd.PeriodIndex.from_ordinals(month, freq="M"),
                            "team_id": mem["team_id"].to_numpy()[row]})
        return out.drop_duplicates(["manager_id", "period"], keep="last")  # a later interval wins

    def roster(self, p: pd.Period) -> pd.DataFrame:
        """Every team's roster for ``p`` (the workbook's rule, :func:`helpers.core.roster.team_roster`),
        without names: manager_id, team_id, region, active_from, active_to, fraction."""
        if p not in self._rosters:
            light = Dataset(tables={"managers": self.data.managers,
                                    **({"team_history": self.data.team_history}
                                       if self.data.team_history is not None else {}),
                                    "customers": pd.DataFrame(), "orders": pd.DataFrame()})
            rp = ReviewPeriod(p)
            r = team_roster(light, None, rp)  # every team's at once (the same rows as one call per team)
            r = r[r["team_id"].isin(set(self.data.team_names))].reset_index(drop=True)
            if not len(r):
                r = pd.DataFrame(columns=["manager_id", "team_id", "active_from", "active_to", "fraction"])
            r["region"] = [self.data.team_regions.get(tm, "") for tm in r["team_id"]]
            cols = ["manager_id", "team_id", "region", "active_from", "active_to", "fraction"]
            r = r[cols].sort_values(["team_id", "manager_id"]).reset_index(drop=True)
            if self.plan.ramp_up and len(r):  # new hires: a share of a full month's capacity in their first months
                act = self._active_months(r, p)
                days = np.array([m.days_in_month for m in act.columns], dtype=float)
                r["fraction"] = (act.to_numpy() * days).sum(axis=1) / days.sum()
            self._rosters[p] = r
        return self._rosters[p]

    def _ramp(self, roster: pd.DataFrame, months: list[pd.Period]) -> np.ndarray:
        """The plan's ramp-up factor of each roster manager in each month: ``ramp_up[k]`` in
        the k-th month of their employment (the hire month is month 0), 1 after it."""
        ramp = list(self.plan.ramp_up)
        hire = self.data.managers.set_index("manager_id")["hire_date"].reindex(roster["manager_id"])
        hm = pd.to_datetime(hire).dt.to_period("M")
        out = np.ones((len(roster), len(months)))
        for j, m in enumerate(months):
            k = np.array([(m - h).n if pd.notna(h) else 10**6 for h in hm], dtype=float)
            out[:, j] = [ramp[int(x)] if 0 <= x < len(ramp) else 1.0 for x in k]
        return out

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

    def _base_with_fallback(self, iid: str, p: pd.Period, basis: str) -> tuple[pd.Period, list[Phrase]]:
        """The base period of ``basis``; when the same period last year has no data at all
        for ``iid`` (a short export) and the last period has, the last period instead, with
        the note saying so (growth then also absorbs the season's difference)."""
        b = self._base_period(p, basis)
        if basis != "same_period_last_year":
            return b, []
        months = set(self.panel(iid)["period"].unique())  # the months with data (few), not every row's
        if any(m in months for m in self._months(b)):
            return b, []
        last = p - 1
        if any(m in months for m in self._months(last)):
            return last, [T("tl.note.basis_fallback", ago=str(b), last=str(last))]
        return b, []

    @staticmethod
    def _base_period(p: pd.Period, basis: str) -> pd.Period:
        if basis == "last_period":
            return p - 1
        return ReviewPeriod(p).year_ago().period

    def _roster_activity(self, roster: pd.DataFrame, p: pd.Period) -> pd.DataFrame:
        """:meth:`_active_months` of ``p``'s roster, computed once per period (every
        indicator's monthly phasing reads the same; read only)."""
        hit = self._activity.get(p)
        if hit is None or hit[0] is not roster:
            hit = self._activity[p] = (roster, self._active_months(roster, p))
        return hit[1]

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
        frame = pd.DataFrame(out, index=roster["manager_id"].to_numpy())
        if self.plan.ramp_up:  # a new hire's month counts at its ramp-up share
            frame = frame * self._ramp(roster, months)
        return frame

    # ------------------------------------------------------------------ seasonality
    def seasonal(self, iid: str, cutoff: pd.Period) -> tuple[pd.Series | None, Phrase]:
        """Seasonal indices (calendar month → index) from the company's monthly totals
        before ``cutoff``, or ``(None, reason)`` when they cannot be computed."""
        key = (iid, cutoff)
        if key in self._season:
            return self._season[key]
        ip = self.plan.indicators.get(iid)
        mode = (ip.phasing if ip is not None and ip.phasing else self.plan.phasing)
        if mode == "even":
            res: tuple[pd.Series | None, Phrase] = (None, T("tl.phasing.even_plan"))
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
                res = (None, T("tl.phasing.short", n=len(run), need=SEASONAL_MIN_MONTHS))
            else:
                s = tot.loc[run]
                if (s <= 0).any():
                    res = (None, T("tl.phasing.zero", months=", ".join(str(x) for x in s.index[s <= 0][:3])))
                else:
                    res = (tg.seasonal_indices(s, 12), T("tl.phasing.seasonal", n=len(run),
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

    def _manager_base(self, iid: str, b: pd.Period, ids: list[str]) -> tuple[pd.Series, dict[str, Phrase]]:
        """Each manager's value in base period ``b`` (NaN = none) and notes."""
        ind = self.library[iid]
        notes: dict[str, Phrase] = {}
        if ind.volume:
            pnl = self.panel(iid)
            pnl = pnl[pnl["manager_id"].isin(ids)]
            base, k = self._volume_base(pnl, b, pnl["manager_id"])
            n = len(self._months(b))
            for mid, kk in k.items():
                if kk < n:
                    notes[mid] = T("tl.note.base_scaled", base=str(b), k=int(kk), n=n)
            return base.reindex(ids), notes
        if any(m in self.gap_months for m in self._months(b)):
            return pd.Series(np.nan, index=ids), notes
        per = self.data.monthly if b.freqstr == "M" else self.data.periodic
        sel = per[(per["kpi"] == ind.kpi) & (per["segment"] == ind.segment) & (per["period"] == b)]
        return sel.set_index("manager_id")["value"].reindex(ids).astype(float), notes

    def _fill_peers(self, full: pd.Series, roster: pd.DataFrame, iid: str, what: str,
                    note: str = "target") -> tuple[pd.Series, dict[str, Phrase]]:
        """Replace NaN by the team median, else the company median (notes say which).

        ``note``: ``"target"`` (the value is a target) or ``"rate"`` (a monthly run
        rate used as a weight)."""
        notes: dict[str, Phrase] = {}
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
                notes[mid] = T(f"tl.note.fallback_team_{note}", value=self._num(iid, team_med[tm], note))
            else:
                out[mid] = comp_med
                notes[mid] = T(f"tl.note.fallback_company_{note}", value=self._num(iid, comp_med, note))
        return out, notes

    def _num(self, iid: str, x: float, note: str = "target") -> Amount | str:
        unit = self.library[iid].unit
        if note == "rate" and unit == "count":
            return f"{x:,.1f}"
        if note == "money_rate":
            return Amount(x, "currency")
        return Amount(x, unit)

    def _clip(self, full: pd.Series, unit: str) -> pd.Series:
        hi = 1.0 if unit == "ratio" else (100.0 if unit == "score" else np.inf)
        lo = -100.0 if unit == "points" else 0.0
        return full.clip(lower=lo, upper=hi)

    # ------------------------------------------------------------------ methods
    def _growth(self, iid: str, spec: GrowthSpec, p: pd.Period, roster: pd.DataFrame) -> tuple[pd.Series, dict, list[Phrase]]:
        ind = self.library[iid]
        ids = list(roster["manager_id"])
        b, fell = self._base_with_fallback(iid, p, spec.basis)
        base, notes = self._manager_base(iid, b, ids)
        full = base * (1 + spec.rate) if spec.rate is not None else base + spec.points
        full, more = self._fill_peers(full, roster, iid, f"data for the base period {b}")
        notes.update(more)
        full = self._clip(full, ind.unit)
        basis = T(f"tl.basis.{'last_period' if fell else spec.basis}")
        if spec.rate is not None:
            text = T("tl.m.growth_rate", basis=basis, base=str(b), rate=Amount(spec.rate, "change"))
        else:
            text = T("tl.m.growth_points", basis=basis, base=str(b), points=("− " if spec.points < 0 else "+ ") + f"{abs(spec.points) * 100:.1f}")
        return full, notes, [text, *fell]

    def _level(self, iid: str, value: float, p: pd.Period, roster: pd.DataFrame) -> tuple[pd.Series, dict, list[Phrase]]:
        ind = self.library[iid]
        full = pd.Series(float(value), index=list(roster["manager_id"]))
        key = "tl.m.level_rate" if not ind.volume else "tl.m.level_volume"
        return full, {}, [T(key, value=Amount(value, ind.unit))]

    def history(self, iid: str, cutoff: pd.Period, roster: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Phrase]]:
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
        self._require("buyers", "the customer base")
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
        notes: dict[str, Phrase] = {}
        if not seen:  # no history at all before the cutoff (a short export): nothing to fill from
            return out, notes
        known = [m for m in ids if m in seen]
        out.loc[known, "customers"] = out.loc[known, "customers"].fillna(0.0)
        team = pd.Series(roster["team_id"].to_numpy(), index=ids)
        old = out.loc[[m for m in ids if m in seen]]
        for mid in new:
            peers = old[team.reindex(old.index).to_numpy() == team[mid]]
            src = peers if len(peers) else old
            out.loc[mid] = src.median(numeric_only=True)
            notes[mid] = T("tl.note.fallback_team_history" if len(peers) else "tl.note.fallback_company_history")
        return out, notes

    def _split(self, total: float, kids: pd.DataFrame, beta: dict[str, float], ind: Indicator,
               label: Phrase, notes: list[Phrase]) -> pd.Series:
        """Apportion ``total`` over ``kids`` (index = child, columns = bases + ``capacity``)."""
        if len(kids) == 0:
            return pd.Series(dtype=float)
        used = {c: w for c, w in beta.items() if w > 0}
        weights = pd.Series(0.0, index=kids.index)
        kept = 0.0
        for c, w in used.items():
            x = kids[c].astype(float)
            if not (np.isfinite(x).all() and x.sum() > 0):
                notes.append(T("tl.note.basis_dropped", level=label,
                                    basis=T(f"tl.basis_name.{c}")))
                continue
            weights += w * x / x.sum()
            kept += w
        if kept == 0:
            cap = kids["capacity"].astype(float)
            weights = cap if cap.sum() > 0 else pd.Series(1.0, index=kids.index)
            notes.append(T("tl.note.weights_zero", level=label))
        if ind.unit == "count":
            return tg.apportion(_half_up(total), weights, integer=True, source=self.plan_file).astype(float)
        return tg.apportion(float(_half_up(total)), weights, decimals=0, source=self.plan_file)

    def _scope_totals(self, iid: str, spec: TotalSpec, p: pd.Period, roster: pd.DataFrame,
                      capacity: pd.Series) -> tuple[pd.Series, list[Phrase]]:
        """Total per scope entity (company / region / team) for ``p``."""
        ind = self.library[iid]
        key = {"company": None, "region": "region", "team": "team_id"}[spec.scope]
        entities = ["company"] if key is None else sorted(roster[key].unique())
        text: list[Phrase] = []
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
            per = T(f"tl.per.{spec.per}")
            shown = Amount(float(raw.iloc[0]), ind.unit) if not isinstance(spec.value, dict) \
                else T("tl.by_entity")
            text.append(T(f"tl.m.total_value_{spec.scope}", value=shown, per=per)
                        + (T("tl.m.total_share", share=f"{share:.1%}", period=str(p)) if share != 1 else ""))
            return tot, text
        b, fell = self._base_with_fallback(iid, p, spec.basis)
        text.extend(fell)
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
                text.append(T("tl.note.base_scaled", base=str(b), k=int(k[e]), n=n))
        missing = base.index[base.isna()]
        if len(missing):
            per_cap = (base / capacity.reindex(base.index)).dropna()
            for e in missing:
                base[e] = float(per_cap.median()) * float(capacity.get(e, 0.0))
                text.append(T("tl.note.new_team", entity=e))
        tot = (base * (1 + spec.growth)).map(lambda x: float(_half_up(x)))  # whole units / counts
        basis = T(f"tl.basis.{'last_period' if fell else spec.basis}")
        if key is None:
            text.insert(0, T("tl.m.total_growth_company", basis=basis, base_period=str(b),
                                  base=Amount(float(base.iloc[0]), ind.unit), rate=Amount(spec.growth, "change"),
                                  total=Amount(float(tot.iloc[0]), ind.unit)))
        else:
            text.insert(0, T(f"tl.m.total_growth_{spec.scope}", basis=basis, base_period=str(b),
                                  rate=Amount(spec.growth, "change")))
        return tot, text

    def _topdown(self, iid: str, spec: TopDownSpec, p: pd.Period,
                 roster: pd.DataFrame) -> tuple[pd.Series, dict, list[Phrase], pd.DataFrame]:
        ind = self.library[iid]
        cutoff = self._months(p)[0]
        ids = roster["manager_id"]
        f = pd.Series(roster["fraction"].to_numpy(dtype=float), index=ids.to_numpy())
        beta = spec.weights.as_dict()
        notes: dict[str, Phrase] = {}
        text: list[Phrase] = []
        if beta["market_potential"] > 0 and self.data.market is None:
            # documented fallback: without market sizes, their weight goes to the customer base
            beta["customer_base"] += beta["market_potential"]
            beta["market_potential"] = 0.0
            text.append(T("tl.note.no_market_topdown"))
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
        split_notes: list[Phrase] = []
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
            region_tot = self._split(total, reg, beta, ind, T("tl.level.region"), split_notes)
        elif scope == "region":
            region_tot = totals
        if scope in ("company", "region"):
            team_tot = []
            for rg, rt in region_tot.items():
                ent_rows.append(("region", rg, "company", float(rt)))
                tm = cols[cols["region"] == rg].groupby("team_id")[agg_cols].sum()
                team_tot.append(self._split(rt, tm, low_beta, ind, T("tl.level.team"), split_notes))
            team_tot = pd.concat(team_tot) if team_tot else pd.Series(dtype=float)
        else:
            team_tot = totals
        parts = []
        for tm, tt in team_tot.items():
            ent_rows.append(("team", tm, self.data.team_regions.get(tm, ""), float(tt)))
            mg = cols[cols["team_id"] == tm][agg_cols]
            parts.append(self._split(tt, mg, low_beta, ind, T("tl.level.manager"), split_notes))
        target = pd.concat(parts).reindex(ids.to_numpy()) if parts else pd.Series(np.nan, index=ids.to_numpy())
        wtxt = join(", ", (T(f"tl.basis_name.{c}") + f" {w / sum(beta.values()):.0%}"
                           for c, w in beta.items() if w > 0))
        text.append(T("tl.m.topdown_split", weights=wtxt,
                           rounding=T("tl.m.rounding_count" if ind.unit == "count" else "tl.m.rounding_money")))
        text.append(T("tl.m.bases", months=3 * self.plan.history_quarters))
        if beta["market_potential"] > 0:
            text.append(T("tl.m.market_below_region"))
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
                   roster: pd.DataFrame) -> tuple[pd.Series, dict, list[Phrase]]:
        months = self._months(p)
        cutoff = months[0]
        mk = self.data.market
        if mk is None:
            raise input_error(self.plan_file, "the potential method needs the market table",
                              where=f"key 'indicators.{iid}.potential'", fix="supply market.csv or choose another method")
        text: list[Phrase] = []
        reg_market = {}
        # the forecast: the same months a year earlier, known before the period (no look-ahead);
        # when a region has no market size then (a short history), the months just before the
        # period for every region, with a note
        ago = [m - 12 for m in months]
        last = [m - len(months) for m in months]
        regions = sorted(roster["region"].unique())
        sizes = {rg: mk[(mk["region"] == rg)].set_index("month")["market_size"] for rg in regions}
        use = ago if all(all(m in sizes[rg].index for m in ago) for rg in regions) else last
        for rg in regions:
            r = sizes[rg]
            if all(m in r.index for m in use):
                reg_market[rg] = float(r.loc[use].sum())
            else:
                raise input_error(self.plan_file, f"no market size for region {rg} in the months a year before {p} "
                                  f"({ago[0]}…{ago[-1]}) nor in the months just before it ({last[0]}…{last[-1]}), "
                                  "the forecast of the period's market",
                                  where=f"key 'indicators.{iid}.potential'", fix="complete the market table")
        key = "tl.note.market_forecast" if use is ago else "tl.note.market_forecast_last"
        text.append(T(key, first=str(use[0]), last=str(use[-1])))
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
        text.insert(0, T("tl.m.potential", share=f"{spec.target_share:.0%}", mix=f"{spec.mix:.0%}",
                              rest=f"{1 - spec.mix:.0%}", months=len(months)))
        return pd.Series(out), notes, text

    def _capped(self, target: pd.Series, cap: pd.Series, roster: pd.DataFrame,
                ind: Indicator) -> tuple[pd.Series, list[str]]:
        """Each team's total kept while no manager goes above their cap: managers over it
        are set to the cap and the rest of the team total is apportioned again over the
        others, in proportion to their targets (largest remainder, whole units), until
        nobody is over.  Teams whose caps together fall short of the total are returned
        (their total cannot be met without breaking a cap)."""
        out = target.copy()
        team = pd.Series(roster["team_id"].to_numpy(), index=roster["manager_id"].to_numpy())
        short: list[str] = []
        for tm, idx in target.groupby(team.reindex(target.index)).groups.items():
            free = list(idx)
            remaining = float(target.loc[free].sum())
            while free:
                w = target.loc[free].clip(lower=0)
                w = w if w.sum() > 0 else pd.Series(1.0, index=free)
                t = _half_up(remaining)
                parts = (tg.apportion(t, w, integer=True, source=self.plan_file).astype(float)
                         if ind.unit == "count" else tg.apportion(float(t), w, decimals=0, source=self.plan_file))
                over = parts > cap.loc[free] + 1e-9
                if not over.any():
                    out.loc[free] = parts
                    break
                hit = list(parts.index[over])
                out.loc[hit] = cap.loc[hit]
                remaining -= float(cap.loc[hit].sum())
                free = [m for m in free if m not in hit]
            if not free and remaining > 1e-9:
                short.append(str(tm))
        return out, short

    def _label(self, iid: str) -> Bilingual:
        ind = self.library[iid]
        return Bilingual(ind.zh, ind.en)

    def whole_of(self, iid: str) -> str | None:
        """The plan's indicator that ``iid`` is a part of, or None: the one it follows
        (``share_of``), the all-customer indicator of its KPI for a segment indicator
        (key-account sales of sales), sales for profit."""
        ip = self.plan.indicators[iid]
        if ip.share_of is not None:
            return ip.share_of.indicator if self.measurable(ip.share_of.indicator) else None
        ind = self.library[iid]
        if not ind.volume or ind.kpi is None:
            return None
        kpi = "sales" if ind.kpi == "profit" else ind.kpi
        for other in self.plan.indicators:
            o = self.library[other]
            if other != iid and o.kpi == kpi and o.segment == "all" and self.plan.indicators[other].share_of is None:
                return other if self.measurable(other) else None
        return None

    def _share_of(self, iid: str, whole: str, p: pd.Period, roster: pd.DataFrame) -> tuple[pd.Series, dict, list[Phrase]]:
        """``whole``'s target × the manager's own ratio ``Σ iid / Σ whole`` over the history
        window (months in the data); without history the team's median ratio, else the
        company's; the ratio is kept within 0–100 %."""
        cutoff = self._months(p)[0]
        window = pd.period_range(cutoff - 3 * self.plan.history_quarters, cutoff - 1, freq="M")
        ids = roster["manager_id"].to_numpy()
        part = self.panel(iid)
        total = self.panel(whole)
        part = part[part["period"].isin(window) & part["manager_id"].isin(ids)].groupby("manager_id")["value"].sum()
        total = total[total["period"].isin(window) & total["manager_id"].isin(ids)].groupby("manager_id")["value"].sum()
        ratio = (part.reindex(ids) / total.reindex(ids).where(total.reindex(ids) > 0)).clip(0.0, 1.0)
        ratio.index = ids
        team = pd.Series(roster["team_id"].to_numpy(), index=ids)
        notes: dict[str, Phrase] = {}
        ok = ratio.notna()
        if not ok.any():
            raise input_error(self.plan_file, f"no manager has both '{iid}' and '{whole}' in the history window",
                              where=f"key 'indicators.{iid}.share_of'", fix="choose another method or extend the data")
        team_med = ratio[ok].groupby(team[ok]).median()
        for mid in ratio.index[~ok]:
            if team[mid] in team_med.index:
                ratio[mid] = team_med[team[mid]]
                notes[mid] = T("tl.note.share_team", share=f"{ratio[mid]:.1%}")
            else:
                ratio[mid] = float(ratio[ok].median())
                notes[mid] = T("tl.note.share_company", share=f"{ratio[mid]:.1%}")
        base = self.targets(whole, p).managers.set_index("manager_id")["target"].reindex(ids)
        text = [T("tl.m.share_of", whole=self._label(whole), months=len(window))]
        return base * ratio, notes, text

    def _from_file(self, iid: str, kind: str, p: pd.Period, roster: pd.DataFrame) -> tuple[pd.Series, dict, list[Phrase]]:
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
        notes: dict[str, Phrase] = {}
        missing = []
        for mid in roster["manager_id"]:
            r = rows[rows["manager_id"] == mid].set_index("period")[col]
            if p in r.index:
                out[mid] = float(r[p])
            elif p.freqstr != "M" and all(m in r.index for m in months) and ind.volume:
                out[mid] = float(r.loc[months].sum())
                notes[mid] = T("tl.note.file_months")
            elif year in r.index:
                out[mid] = float(r[year]) * (self._unit_share(iid, p, "year") if ind.volume else 1.0)
                notes[mid] = T("tl.note.file_year", year=str(year))
            else:
                missing.append(mid)
        if missing:
            raise input_error(str(name), f"no {col} for '{iid}' in {p} for manager(s) {', '.join(missing)}",
                              fix=f"add rows for {p} (or its months, or the year) or choose another method")
        key = "tl.m.user" if kind == "user" else "tl.m.commitments"
        return pd.Series(out), notes, [T(key, file=Path(str(name)).name)]

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
        volume = ind.volume
        comps = ip.components()
        results: dict[str, pd.Series] = {}
        notes: dict[str, list[Phrase]] = {m: [] for m in ids}
        text: list[Phrase] = []
        if "potential" in comps and len(comps) > 1 and self.data.market is None:
            # documented fallback: without market sizes the blend keeps its other methods
            rest = {c: w for c, w in comps.items() if c != "potential"}
            comps = {c: w / sum(rest.values()) for c, w in rest.items()}
            text.append(T("tl.note.no_market_potential"))
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
            elif c == "share_of":
                val, nt, tx = self._share_of(iid, ip.share_of.indicator, p, roster)
            else:  # user / commitments: used as they are (no pro-rating)
                val, nt, tx = self._from_file(iid, c, p, roster)
            results[c] = val.reindex(ids).astype(float)
            for mid, n in nt.items():
                if mid in notes:
                    notes[mid].append(n)
            if len(comps) > 1:
                text.append(T("tl.m.component", method=Capitalized(T(f"tl.method.{c}")),
                              weight=f"{comps[c]:.0%}") + join(" ", tx))
            else:
                text.extend(tx)
        if "commitments" in comps and "topdown" not in comps:  # the reference for the reconciliation
            ref, _, tx, entities = self._topdown(iid, ip.topdown, p, roster)
            text.append(T("tl.m.reference") + join(" ", tx))
            reference = ref.reindex(ids).astype(float)
        else:
            reference = None
        if len(comps) > 1:
            target = tg.blend_targets(results, comps)
            text.insert(0, T("tl.m.blend", parts=join(" + ", (f"{comps[c]:.0%} " + T(f"tl.method.{c}")
                                                               for c in comps))))
        else:
            target = next(iter(results.values()))
        target = target.reindex(ids).astype(float)
        if "topdown" in comps and len(comps) > 1:  # the blend shapes the split, the top-down total holds
            target, entities = self._reconcile(iid, target, entities, roster, ip.topdown.total.scope)
            text.append(T("tl.m.reconciled"))
        target, rnote = self._round(target, roster, ind)
        if rnote:
            text.append(rnote)
        whole = self.whole_of(iid)
        # a part never above its whole (key-account sales ≤ sales, profit ≤ sales); targets
        # from a file are used as they are and flagged by the SMART check instead
        if whole is not None and not set(comps) <= {"user", "commitments"}:
            cap = self.targets(whole, p).managers.set_index("manager_id")["target"].reindex(ids)
            over = target > cap + 1e-9
            for mid in target.index[over]:
                notes[mid].append(T("tl.note.capped_whole", whole=self._label(whole)))
            if over.any() and not entities.empty:  # keep the team totals: the excess goes to teammates with room
                target, short = self._capped(target, cap, roster, ind)
                for tm in short:
                    text.append(T("tl.note.team_short", team=tm, whole=self._label(whole)))
            else:
                target = target.where(~over, cap)
        prorated = volume and not (set(comps) <= {"user", "commitments"})
        for mid in ids:
            if prorated and f[mid] < 1:
                notes[mid].append(T("tl.note.prorated", pct=f"{f[mid]:.0%}"))
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

    def _reconcile(self, iid: str, blended: pd.Series, entities: pd.DataFrame, roster: pd.DataFrame,
                   scope: str) -> tuple[pd.Series, pd.DataFrame]:
        """Blended manager targets brought back to the top-down totals, level by level.

        The totals the plan fixes (the company's, or each region's or team's with a
        region or team scope) stay as the top-down split set them.  Below them each
        level's total is apportioned over the level beneath in proportion to the blended
        targets it holds (largest remainder in whole units), so managers add up exactly
        to their team, teams to their region and regions to the company, and the blend
        decides only the shares.  Returns the manager targets and the entity rows
        (``level, entity, parent, target``) with the reconciled totals."""
        ind = self.library[iid]
        integer = ind.unit == "count"

        def split(total: float, weights: pd.Series) -> pd.Series:
            w = weights.clip(lower=0).astype(float)
            if not (w.sum() > 0):
                w = pd.Series(1.0, index=weights.index)
            t = _half_up(total)
            if integer:
                return tg.apportion(t, w, integer=True, source=self.plan_file).astype(float)
            return tg.apportion(float(t), w, decimals=0, source=self.plan_file)

        fixed = entities.set_index(["level", "entity"])["target"]
        b = pd.DataFrame({"manager_id": roster["manager_id"].to_numpy(), "team_id": roster["team_id"].to_numpy(),
                          "region": roster["region"].to_numpy(),
                          "value": blended.reindex(roster["manager_id"]).to_numpy(dtype=float)})
        rows: list[tuple[str, str, str, float]] = []
        if scope == "company":
            company = float(fixed[("company", "company")])
            rows.append(("company", "company", "", company))
            regions = split(company, b.groupby("region")["value"].sum())
        elif scope == "region":
            regions = pd.Series({rg: float(fixed[("region", rg)]) for rg in sorted(b["region"].unique())})
        if scope in ("company", "region"):
            teams = []
            for rg, total in regions.items():
                rows.append(("region", rg, "company", float(total)))
                teams.append(split(total, b[b["region"] == rg].groupby("team_id")["value"].sum()))
            team_tot = pd.concat(teams) if teams else pd.Series(dtype=float)
        else:
            team_tot = pd.Series({tm: float(fixed[("team", tm)]) for tm in sorted(b["team_id"].unique())})
        parts = []
        for tm, total in team_tot.items():
            rows.append(("team", tm, self.data.team_regions.get(tm, ""), float(total)))
            g = b[b["team_id"] == tm].set_index("manager_id")["value"]
            parts.append(split(total, g))
        target = pd.concat(parts).reindex(blended.index) if parts else blended
        return target.astype(float), pd.DataFrame(rows, columns=["level", "entity", "parent", "target"])

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

    def _round(self, target: pd.Series, roster: pd.DataFrame, ind: Indicator) -> tuple[pd.Series, Phrase | str]:
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
        return out, (T("tl.m.rounded_team") if changed else "")

    def _phase(self, iid: str, p: pd.Period, mgr: pd.DataFrame, roster: pd.DataFrame) -> tuple[pd.DataFrame, Phrase | str]:
        """Monthly targets: volumes by seasonal index × active share of the month."""
        ind = self.library[iid]
        months = self._months(p)
        act = self._roster_activity(roster, p)
        rows = []
        if not ind.volume or len(months) == 1:  # the period's target in each month the manager is active
            i, j = np.nonzero(act.loc[mgr["manager_id"], list(months)].to_numpy() > 0)  # manager by manager, in month order
            if not len(i):
                return pd.DataFrame(rows, columns=["manager_id", "month", "target"]), ""
            return pd.DataFrame({"manager_id": mgr["manager_id"].to_numpy(dtype=object)[i], "month": months[j],
                                 "target": mgr["target"].to_numpy(dtype=float)[i]}), ""
        s, why = self.seasonal(iid, months[0])
        sw = pd.Series([float(s.loc[m.month]) if s is not None else 1.0 for m in months], index=months)
        if ind.unit == "count":
            for _, g in mgr.groupby("team_id", sort=True):
                w = act.loc[g["manager_id"]].to_numpy() * sw.to_numpy()[None, :]
                x = phase_counts(g["target"].to_numpy(), w)
                for mid, xr, ar in zip(g["manager_id"], x, act.loc[g["manager_id"]].to_numpy()):
                    rows.extend((mid, m, float(v)) for m, v, a in zip(months, xr, ar) if a > 0)
        else:  # whole units by largest remainder, month by month in order
            a_all = act.loc[mgr["manager_id"]].to_numpy()
            w_all = sw.to_numpy()[None, :] * a_all
            tot = mgr["target"].to_numpy(dtype="float64")
            # managers active in every month (the same months as keys), targets apportion takes: all at once
            at_once = (a_all > 0).all(axis=1) & tg.apportionable(tot, w_all, decimals=0)
            together = iter(tg.apportion_rows(tot[at_once], w_all[at_once], decimals=0))
            for r, ok in zip(mgr.itertuples(index=False), at_once):
                if ok:
                    rows.extend((r.manager_id, m, float(v)) for m, v in zip(months, next(together)))
                    continue
                a = act.loc[r.manager_id]
                w = (sw * a)[a > 0]
                w.index = [str(m) for m in w.index]
                parts = tg.apportion(float(r.target), w, decimals=0, source=self.plan_file)
                rows.extend((r.manager_id, pd.Period(m, freq="M"), float(v)) for m, v in parts.items())
        if s is not None:
            idx = ", ".join(f"{month_label(m)} {s.loc[m.month]:.2f}" for m in months)
            text = why + T("tl.phasing.indices", indices=idx)
        else:
            text = why
        return pd.DataFrame(rows, columns=["manager_id", "month", "target"]), text

    def all_targets(self, p: pd.Period) -> dict[str, PeriodTargets]:
        """Every indicator of the plan for ``p``, with monthly targets."""
        if self.sliced_to is not None:
            raise RuntimeError("a sliced TargetEngine shows targets; set them with the company-wide engine")
        return {iid: self.phased(iid, p) for iid in self.plan.indicators if self.measurable(iid)}

    def measurable(self, iid: str) -> bool:
        """Whether the plan can set ``iid``'s target from what the data holds: a fixed level
        or a file always; a method reading history only when the data has the indicator's
        KPI (a CRM export without visits gets no visit target: the indicator is "not
        available" everywhere, never a target of 0)."""
        comps = set(self.plan.indicators[iid].components())
        if comps <= {"level", "user", "commitments"}:
            return True
        ind = self.library[iid]
        whole = self.plan.indicators[iid].share_of
        if ind.kpi is None or ind.kpi not in self.data.available:
            return False
        if ind.segment != "all" and (ind.kpi, ind.segment) not in self._measured:
            return False  # no customer of that segment in the data: not available, never a target of 0
        return whole is None or self.measurable(whole.indicator)

    @functools.cached_property
    def _measured(self) -> set[tuple[str, str]]:
        """The (KPI, segment) pairs the data has figures for."""
        m = self.data.monthly
        pairs = m[["kpi", "segment"]].drop_duplicates()
        return set(zip(pairs["kpi"].tolist(), pairs["segment"].tolist()))

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
            out._cache, out._phased, out._activity = {}, set(), {}
            out.sliced_to = sorted(keep)
            yield group, out
