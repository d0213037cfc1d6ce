"""Checks of targets and of the target plan: the plan against the indicator library,
SMART flags of every manager's target, and the backtest of the plan over past periods
(company-wide; a report shows its own team).  Numbers and flags only, no words."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.core import targets as tg
from helpers.core.target_engine import PeriodTargets, TargetEngine
from helpers.errors import InputError, Problem
from helpers.kpis.indicators import Library
from helpers.plan.targets import TargetPlan

__all__ = ["plan_problems", "smart_flags", "run_backtest"]


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
        if not ind.volume:
            for c in sorted(comps & {"topdown", "potential", "commitments"}):
                add(f"{key}.method", f"{c} splits volumes, but '{iid}' is a rate ({ind.unit})",
                    "use growth (with points or rate), level or user")
        if "potential" in comps and ind.unit != "currency":
            add(f"{key}.potential", f"potential targets are money, but '{iid}' is a {ind.unit}",
                "use potential for sales indicators only")
        if ip.growth is not None and ip.growth.points is not None and ind.volume:
            add(f"{key}.growth.points", f"points are for rates; '{iid}' is a volume ({ind.unit})",
                "use rate (relative growth) instead")
        if ip.level is not None and ip.level == 0 and ind.higher_is_better:
            add(f"{key}.level", f"a target of 0 for '{iid}' leaves attainment undefined (attainment = actual ÷ target)",
                "give a level above 0 for this higher-is-better indicator")
        if ip.level is not None and ind.unit == "ratio" and ip.level > 1:
            add(f"{key}.level", f"a rate target must be between 0 and 1, got {ip.level:g}",
                "write 80 % as 0.80")
        if ip.share_of is not None:
            w = ip.share_of.indicator
            if w == iid or w not in plan.indicators:
                add(f"{key}.share_of.indicator", f"'{iid}' follows '{w}', which is not another indicator of the plan",
                    "name an indicator the plan sets a target for, e.g. sales")
            elif plan.indicators[w].share_of is not None:
                add(f"{key}.share_of.indicator", f"'{w}' itself follows another indicator",
                    "follow an indicator whose target is set directly")
            elif w in library and (not ind.volume or library[w].unit != ind.unit):
                add(f"{key}.share_of.indicator", f"'{iid}' ({ind.unit}) cannot be a share of '{w}' ({library[w].unit})",
                    "use share_of for a volume that is part of another of the same unit (profit of sales)")
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
        if not library[iid].volume:
            add(key, f"'{iid}' is a rate; the backtest sums actuals over months",
                "backtest volume indicators (sales, counts)")
        comps = set(plan.indicators[iid].components())
        if comps & {"user", "commitments"}:
            add(key, f"'{iid}' uses targets from a file, which has no past periods to backtest",
                "backtest indicators whose targets are computed")
    return out


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
        if ind.volume or p.freqstr == "M":
            v = engine.panel(iid) if ind.volume else engine._kpi_panel(ind.kpi, ind.segment)
            frames.append(pd.DataFrame({"manager_id": v["manager_id"].to_numpy(), "indicator": iid,
                                        "month": v["period"].array, "value": v["value"].to_numpy()}))
            continue
        q = engine.data.periodic
        q = q[(q["kpi"] == ind.kpi) & (q["segment"] == ind.segment) & q["value"].notna()]
        first = pd.PeriodIndex(q["period"]).asfreq("M", how="start")  # each period's first month
        for k in range(3):
            months = first + k
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
    * not zero: a volume target of 0 gives nothing to aim at;
    * consistent: a part not above its whole (:meth:`TargetEngine.whole_of`: key-account
      sales within sales, profit within sales) — compared on the full-period targets.
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
        sel = tgt[[lib[i].volume == volume for i in tgt["indicator"]]]
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
    vol = np.array([lib[i].volume for i in out["indicator"]])
    out["zero_target"] = vol & (out["target"].to_numpy() == 0) & np.array([lib[i].higher_is_better
                                                                           for i in out["indicator"]])
    # a part above its whole (key-account sales above sales, profit above sales: margin > 100 %)
    whole_target = tgt.set_index(["manager_id", "indicator"])["target"]
    wholes = {iid: engine.whole_of(iid) for iid in results}
    out["whole"] = [wholes.get(i) or "" for i in out["indicator"]]
    out["above_whole"] = [bool(w) and float(t) > float(whole_target.get((m, w), np.inf)) + 1e-9
                          for m, w, t in zip(out["manager_id"], out["whole"], out["target"])]
    flagged = (out["growth_ok"].fillna(True) == False) | (out["peer_ok"].fillna(True) == False) \
        | ~out["measurable"].astype(bool) | ~out["time_bound"].astype(bool) | out["zero_target"] \
        | out["above_whole"]  # noqa: E712
    out["status"] = np.where(flagged, "flag", np.where(out["growth_ok"].isna(), "not checked", "ok"))
    return out


def run_backtest(engine: TargetEngine, p: pd.Period) -> tuple[pd.DataFrame, list[tuple[str, str, str]]]:
    """Apply the plan to the ``backtest.periods`` periods before ``p`` for every
    backtest indicator (:func:`helpers.core.targets.backtest`: target from data before the
    period, actual = Σ of its months, attainment by the workbook's one rule).

    Returns the long table (``indicator, manager_id, period, target, actual,
    attainment, status, reached_*, team, region``) and the periods skipped, each as
    ``(indicator, period, reason)`` (e.g. no base period in the data yet).
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
                skipped.append((iid, str(q), exc.problems[0].what))
        if not ok:
            continue
        pnl = engine.panel(iid)
        mt = pnl[["manager_id", "period"]].merge(engine._month_team, how="left", on=["manager_id", "period"])
        hist = pd.DataFrame({"manager_id": pnl["manager_id"].to_numpy(), "month": pnl["period"].array,
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
