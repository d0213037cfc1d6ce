"""Warnings ``kpi-workbook validate`` prints for methodology files that are valid but
questionable: SMART failures and indicators the data cannot compute (in English, like
every command-line message)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from helpers.context.strategy import load_strategy, strategy_files
from helpers.core.strategy import override_warnings
from helpers.errors import Problem
from helpers.periods import ReviewPeriod
from helpers.kpis.indicators import data_availability, load_library, smart_frame
from helpers.plan.params import RunParams, resolve
from helpers.present.checks import availability_reasons, smart_reasons


def strategy_warnings(
    params: RunParams,
    params_file: str | Path,
    availability: pd.DataFrame | None = None,
    review: str = "quarter",
    language: str = "en",
    teams: dict[str, str] | None = None,
) -> list[Problem]:
    """Warnings for valid strategy files: SMART failures, missing data, and (with
    ``teams``: team id → region) overrides for regions or teams the data lacks.

    One problem per failing indicator of each strategy's company tree (SMART, with
    its global weight and the review period) and, with ``availability``
    (:func:`helpers.kpis.measures.availability`), per indicator that cannot be computed.
    Call after :func:`check` found nothing.
    """
    library = load_library(resolve(params_file, params.indicators))
    out: list[Problem] = []
    for _, rel in strategy_files(params):
        strat = load_strategy(resolve(params_file, rel), library, rel)
        if teams is not None:
            out += override_warnings(strat.spec, teams, rel)
        tree = strat.tree()
        w = tree.weights()
        targets = {r.indicator: (r.target, r.type) for r in strat.targets().itertuples()}
        sm = smart_frame(library, list(w.index), review, w.to_dict(), targets)
        sm["reasons"] = smart_reasons(sm, language)
        for r in sm[~sm["passed"]].itertuples():
            out.append(Problem(rel, f"SMART: {r.reasons}", where=f"indicator '{r.indicator}'",
                               fix=f"revise it in {Path(library.source).name} or in the strategy"))
        if availability is not None:
            da = data_availability(library, availability, list(w.index))
            da["reason"] = availability_reasons(da, language)
            for r in da[da["status"] != "ok"].itertuples():
                out.append(Problem(rel, f"cannot be computed: {r.reason}", where=f"indicator '{r.indicator}'",
                                   fix="supply the data, or expect it to be left out of scores"))
    return out


def target_warnings(params: RunParams, params_file: str | Path, ds: Any, period: ReviewPeriod) -> list[Problem]:
    """Targets the plan would set that cannot be right: a part above its whole (key-account
    sales above sales, profit above sales: a margin over 100 %) or a volume target of 0
    for a higher-is-better indicator.  Sets every target as the run would (the same
    engine, on the loaded data, set once per dataset: the run's notebooks get these), or
    reads their checks from the dataset's prepared-data cache when an earlier process
    set them on the same files; a plan the run would refuse raises :class:`InputError`."""
    from helpers.context.targets import dataset_flags

    plan_file, flags = dataset_flags(params, params_file, ds, period)  # the targets' checks, kept with the data
    source = Path(plan_file).name
    out: list[Problem] = []
    for r in flags[flags["above_whole"]].itertuples(index=False):
        out.append(Problem(source, f"the target of '{r.indicator}' for {r.manager_id} ({r.target:,.0f}) is above "
                           f"their '{r.whole}' target: a part above its whole", where=f"key 'indicators.{r.indicator}'",
                           fix="set the part from the whole (method share_of) or check the user targets"))
    zero = flags[flags["zero_target"]]
    for ind, g in zero.groupby("indicator", sort=False):  # one line per indicator, however many managers
        who = list(g["manager_id"])
        named = ", ".join(who[:3]) + (f" and {len(who) - 3} more" if len(who) > 3 else "")
        out.append(Problem(source, f"the target of '{ind}' is 0 for {len(who)} manager(s) ({named}): nothing to aim at",
                           where=f"key 'indicators.{ind}'", fix="check the plan and the managers' history"))
    return out


def gate(plan: Any, params_file: str | Path, ds: Any) -> tuple[list[Problem], list[str]]:
    """Everything a run checks before any notebook starts, beyond :func:`helpers.run.runner.plan_run`:
    the methodology against the data.  ``kpi-workbook validate`` prints it; ``kpi-workbook run``
    refuses to start on any problem (exit 2), so a plan the data cannot serve is never a
    notebook failure.

    Returns ``(problems, warnings)``: problems stop the run (the target plan cannot be
    set on this data); warnings say what will be left out or fall back (KPIs not
    available, shares above 100 %, strategy overrides for regions the data lacks,
    targets of 0).
    """
    from helpers.errors import InputError
    from helpers.kpis.declared import measure_problems
    from helpers.kpis.measures import availability, kpi_actuals, rates_above_one

    warnings: list[str] = []
    problems: list[Problem] = []
    library = load_library(resolve(params_file, plan.params.indicators))
    for ind in library:  # a measure declared in YAML that the data model cannot compute
        if ind.measure is not None:
            problems += measure_problems(ind.measure, *library.key(ind.id, "measure"))
    avail = availability(ds)
    for r in avail.query("not available").itertuples(index=False):
        warnings.append(f"KPI '{r.kpi}' not available (missing {r.missing})")
    actuals = kpi_actuals(ds, plan.period.freq)
    over = rates_above_one(actuals)
    for kpi, g in over.groupby("kpi", sort=True):
        top = g.sort_values("value", ascending=False).iloc[0]
        warnings.append(f"KPI '{kpi}' is above 100 % for {len(g)} manager-period(s) (highest {top['value']:.0%}: "
                        f"{top['manager_id']} {top['period']}): a share cannot exceed 100 % — a numerator counts "
                        "what its base does not (e.g. profit above sales); check the export")
    if "02_kpi_decomposition" in plan.notebooks:
        review = {"Q": "quarter", "M": "month"}[plan.period.freq]
        warnings += [str(p) for p in strategy_warnings(plan.params, params_file, avail, review=review,
                                                        teams=ds.team_regions())]
    if {"01_target_setting", "04_quarterly_review", "05_leadership_summary"} & set(plan.notebooks):
        try:  # the targets the run would set, set here: a plan the run would refuse fails now
            warnings += [str(p) for p in target_warnings(plan.params, params_file, ds, plan.period)]
        except InputError as exc:
            problems += list(exc.problems)
    from helpers.run.lifecycle import record_problems

    problems += record_problems(plan, ds)  # the results store and the files HR keeps
    return list(dict.fromkeys(problems)), list(dict.fromkeys(warnings))
