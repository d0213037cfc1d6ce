"""The company's targets for the run: the target engine over every manager's data, set
once per run and shared by the notebooks that read targets (01 sets and shows them,
04 scores against them, 05 summarises their backtest).

:func:`share_targets` computes them in the runner's pool (declared by notebook 01 in
its ``SHARED``) and stores the company part and one slice per team in the workspace
cache; :func:`company_targets` reads them back, or computes them on the spot when a
notebook is opened in JupyterLab without a workspace.  The cache does not depend on
the report's language: the engine returns numbers and notes, never words.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.context.workbook import cache_get, cache_key, cache_put, file_stamps, load_run_data, workspace_dataset
from helpers.core.target_checks import plan_problems, run_backtest, smart_flags
from helpers.core.target_engine import CompanyData, PeriodTargets, TargetEngine, company_data, company_inputs
from helpers.data.plan_csv import read_commitments_csv, read_targets_csv
from helpers.data.tables import find_table_file, read_raw
from helpers.errors import InputError, Problem, input_error
from helpers.kpis.indicators import load_library
from helpers.plan.params import RunParams, resolve
from helpers.plan.targets import load_target_plan
from helpers.plan.version import file_sha256

__all__ = ["check_plan", "load_company", "make_engine", "engine_for", "dataset_targets", "dataset_flags", "company_targets", "targets_only",
           "share_targets"]


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


def check_plan(params: RunParams, params_file: str | Path, tables: set[str] | None = None) -> list[Problem]:
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
        plan = load_target_plan(plan_file)
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
    for key, reader in (("targets_csv", read_targets_csv), ("commitments_csv", read_commitments_csv)):
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


def load_company(params: RunParams, params_file: str | Path, freq: str, workspace: str | Path = "",
                 kpis: set[str] | None = None) -> CompanyData:
    """Company inputs: from the runner's workspace (Parquet, read once per notebook) or,
    without one, computed from the data (interactive use)."""
    if not workspace:
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
    return company_inputs(monthly, periodic, freq, managers, th, info["team_names"], info["team_regions"], market,
                    set(avail.loc[avail["available"], "kpi"]))


def make_engine(ctx: Any, params_file: str | Path | None = None, workspace: str | Path | None = None) -> TargetEngine:
    """The target engine of the params' target plan over the company's data (every
    manager, at ``ctx.period``'s frequency).  Bad plans or CSVs raise :class:`InputError`.

    ``params_file`` / ``workspace`` are the notebook's parameters (taken from
    ``ctx.params_file`` / ``ctx.workspace`` when the context carries them)."""
    params_file = params_file or getattr(ctx, "params_file", None)
    if not params_file:
        raise input_error("targets", "no params file given", fix="pass the notebook's params_file")
    workspace = workspace if workspace is not None else (getattr(ctx, "workspace", None) or "")
    return engine_for(ctx.params, params_file,
                      lambda kpis: load_company(ctx.params, params_file, ctx.period.freq, workspace, kpis))


def engine_for(params: RunParams, params_file: str | Path, company: Any) -> TargetEngine:
    """The target engine of ``params``' target plan; ``company(kpis)`` gives the
    :class:`CompanyData` (from a workspace, or from a loaded dataset in ``validate``)."""
    plan_file = resolve(params_file, params.targets)
    plan = load_target_plan(plan_file)
    library = load_library(resolve(params_file, params.indicators))
    problems = plan_problems(plan, library, str(plan_file))
    if problems:
        raise InputError(problems)
    kpis = {library[i].kpi for i in plan.indicators if library[i].kpi} | {"sales", "buyers"}
    data = company(kpis)
    known = list(data.managers["manager_id"])
    user = com = None
    if plan.sources.targets_csv:
        user = read_targets_csv(resolve(plan_file, plan.sources.targets_csv), known, library.ids())
    if plan.sources.commitments_csv:
        com = read_commitments_csv(resolve(plan_file, plan.sources.commitments_csv), known, library.ids())
    return TargetEngine(data, plan, library, str(plan_file), user, com)


def dataset_targets(params: RunParams, params_file: str | Path, ds: Any, period: Any
                    ) -> tuple[TargetEngine, dict[str, PeriodTargets], pd.DataFrame]:
    """Every manager's targets for ``period`` over a loaded dataset, with their SMART
    flags: ``(engine, results, flags)``, set once per dataset while the plan's files are
    unchanged.  A run's gate sets them to check the plan (``validate`` too); the run
    then shares the same ones with its notebooks (:func:`company_targets` on the
    workspace written from this dataset) instead of setting every target again."""
    files = _plan_files(params, params_file)
    out = _dataset_results(params, params_file, ds, period, files)
    if out[2] is None:
        engine, results = out[0], out[1]
        out[2] = ds.derived(_plan_key("smart_flags", period, files), lambda: smart_flags(engine, results, period.period))
    return out[0], out[1], out[2]


def _dataset_results(params: RunParams, params_file: str | Path, ds: Any, period: Any, files: list[Path]) -> list:
    """``[engine, results, flags]`` of :func:`dataset_targets`, set once per dataset while
    the plan's ``files`` are unchanged; the flags (None until then) once a caller asks
    for them: :func:`targets_only` does not (the leadership summary's previous period,
    whose flags nobody reads)."""
    key = (str(files[0]), str(files[1]), period.label, period.freq)
    memo = ds.__dict__.setdefault("_targets", {})
    stamp = file_stamps(files)
    hit = memo.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    engine = engine_for(params, params_file, lambda kpis: company_data(ds, period.freq, kpis))
    out = [engine, engine.all_targets(period.period), None]
    memo[key] = (stamp, out)
    return out


def dataset_flags(params: RunParams, params_file: str | Path, ds: Any, period: Any) -> tuple[Path, pd.DataFrame]:
    """The target plan's file and the SMART flags of every target it sets for ``period``
    on a loaded dataset (:func:`dataset_targets`' third part), without setting the
    targets when an earlier process on the same data and plan files left the flags in
    the dataset's prepared-data cache (``validate``, then ``run``: its gate needs the
    flags only).  Flags are kept only after the targets were set without error, so a
    plan the engine would refuse is never passed over."""
    files = _plan_files(params, params_file)
    flags = ds.stored(_plan_key("smart_flags", period, files))
    if flags is None:
        flags = dataset_targets(params, params_file, ds, period)[2]
    return files[0], flags


def _plan_key(what: str, period: Any, files: list[Path]) -> tuple:
    """The key of a result of the target plan on a dataset (:meth:`Dataset.derived`): what,
    the period, and the contents of the plan's files (the plan, the indicator library,
    its targets and commitments CSVs), so a dataset kept in the prepared-data cache
    (:mod:`helpers.data.cache`) keeps it for exactly these files."""
    return (what, period.label, period.freq, *(file_sha256(f) for f in files))


def _plan_files(params: RunParams, params_file: str | Path) -> list[Path]:
    """The target plan's files: the plan, the indicator library, and its targets and
    commitments CSVs when it names them."""
    plan_file = resolve(params_file, params.targets)
    plan = load_target_plan(plan_file)
    return [plan_file, resolve(params_file, params.indicators),
            *(resolve(plan_file, f) for f in (plan.sources.targets_csv, plan.sources.commitments_csv) if f)]


def _dataset_backtest(params: RunParams, params_file: str | Path, ds: Any, engine: TargetEngine, period: Any
                      ) -> tuple[pd.DataFrame, list[tuple[str, str, str]]]:
    """:func:`run_backtest` of the dataset's targets, once per dataset and plan contents
    (:meth:`Dataset.derived`: in the process, and with the dataset's prepared-data cache
    entry like its KPI actuals)."""
    key = _plan_key("backtest", period, _plan_files(params, params_file))
    done: dict[str, Any] = {}

    def table() -> pd.DataFrame:
        done["bt"], done["skipped"] = run_backtest(engine, period.period)
        return done["bt"]

    def skipped() -> pd.DataFrame:
        rows = done["skipped"] if "skipped" in done else run_backtest(engine, period.period)[1]
        return pd.DataFrame(rows, columns=["indicator", "period", "reason"], dtype=object)

    bt = ds.derived(key, table)
    sk = ds.derived((*key, "skipped"), skipped)
    return bt, [tuple(r) for r in sk.itertuples(index=False, name=None)]


def _shared_dataset(ctx: Any, params_file: str | Path | None, workspace: str | Path) -> Any:
    """The loaded dataset whose targets this process sets once (:func:`dataset_targets`):
    in a run's own process the one its gate used (:func:`workspace_dataset`); in a
    notebook opened without a run's workspace the one it reads the data from
    (:func:`load_run_data`, read once per process), so a notebook that asks for the
    targets in several places sets them once; None in a run's kernel (it reads the
    workspace's files)."""
    if workspace:
        return workspace_dataset(workspace)
    params_file = params_file or getattr(ctx, "params_file", None)
    return load_run_data(ctx.params, params_file) if params_file else None


def company_targets(ctx: Any, params_file: str | Path | None = None, workspace: str | Path | None = None
                    ) -> tuple[TargetEngine, dict[str, PeriodTargets], pd.DataFrame, pd.DataFrame,
                               list[tuple[str, str, str]]]:
    """Every manager's targets for ``ctx.period`` (:func:`make_engine`), their SMART
    flags and the backtest: the same for every team, so the runner computes it once
    per run (:func:`helpers.run.runner.precompute`) and the notebooks read it back; a
    process that read the dataset itself sets them, and runs the backtest, once."""
    workspace = workspace if workspace is not None else (getattr(ctx, "workspace", None) or "")
    key = cache_key("targets", ctx.period)
    hit = cache_get(workspace, key)
    team = getattr(ctx, "team_id", "")
    if hit is not None and team:  # a team notebook: its own slice of the engine's data
        engine = cache_get(workspace, key, part=team)
        if engine is not None:
            return (engine, *hit[1:])
    elif hit is not None:  # company context: plan, results, flags, backtest (no manager rows)
        return hit
    p = ctx.period.period
    ds = _shared_dataset(ctx, params_file, workspace)
    if ds is None:
        engine = make_engine(ctx, params_file, workspace)
        results = engine.all_targets(p)
        return engine, results, smart_flags(engine, results, p), *run_backtest(engine, p)
    params_file = params_file or ctx.params_file
    engine, results, smart = dataset_targets(ctx.params, params_file, ds, ctx.period)
    return engine, results, smart, *_dataset_backtest(ctx.params, params_file, ds, engine, ctx.period)


def targets_only(ctx: Any, params_file: str | Path, workspace: str | Path) -> dict[str, PeriodTargets]:
    """Every manager's targets for ``ctx.period`` (indicator → :class:`PeriodTargets`)
    without the SMART checks and the backtest: from the run's cache when there, else the
    ones set once on the dataset this process read (:func:`_shared_dataset`: the run's
    gate, or a notebook opened without a workspace), else set here from the workspace."""
    hit = cache_get(workspace, cache_key("targets", ctx.period))
    if hit is not None:
        return hit[1]
    ds = _shared_dataset(ctx, params_file, workspace)
    if ds is not None:
        params_file = params_file or ctx.params_file
        return _dataset_results(ctx.params, params_file, ds, ctx.period, _plan_files(ctx.params, params_file))[1]
    return make_engine(ctx, params_file, workspace).all_targets(ctx.period.period)


def share_targets(ctx: Any, params_file: str | Path, workspace: str | Path, teams: list[str]) -> str:
    """Compute every manager's targets once for the run and store them in the workspace
    cache: the company part and one part per team (each team notebook reads its own)."""
    key = cache_key("targets", ctx.period)
    engine, *rest = company_targets(ctx, params_file, workspace)
    by_team = engine.roster(ctx.period.period).groupby("team_id")["manager_id"].agg(list).to_dict()
    members = {team: by_team.get(team, []) for team in teams}
    for team, part in engine.team_slices(members):  # each team notebook reads its own managers only
        cache_put(workspace, key, part, part=team)
    cache_put(workspace, key, (engine.sliced(()), *rest))  # written last: it marks the cache complete
    return key
