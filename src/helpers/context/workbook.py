"""What a notebook sees: the prepared data of one team for one period.

The runner does the shared work once per run (:func:`prepare_workspace`: load and
validate the data, compute KPI actuals monthly and quarterly) and writes it to a
workspace folder as Parquet.  Each notebook then calls :func:`open_team`, which
reads only its team's slice (Parquet filters on ``manager_id``; in a run, the slice the
run read once for all of the team's notebooks, :func:`share_teams`) plus anonymous
company aggregates for peer comparison.  Opened in JupyterLab without a workspace,
``open_team`` computes the same thing on the spot, so every notebook runs on its
defaults.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import weakref
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers.atomic import atomic_write
from helpers.data.tables import Dataset, load_dataset
from helpers.data.demo import ensure_demo
from helpers.errors import InputError, Problem
from helpers import exports
from helpers.exports import save_csv
from helpers.frames import isin
from helpers.present.i18n import t
from helpers.kpis.measures import availability, kpi_actuals
from helpers.plan.params import SLUG, RunParams, load_params, resolve
from helpers.core.roster import team_roster
from helpers.periods import ReviewPeriod, parse_period

PERSON_TABLES = ("managers", "team_history", "customers", "assignments", "orders", "complaints", "visits", "ratings",
                 "leads")


_LOADED: dict[tuple, tuple[tuple, Dataset]] = {}


def file_stamps(paths) -> tuple:
    """Name, size and modification time of each file (None when it is gone)."""
    out = []
    for p in paths:
        try:
            st = os.stat(p)
            out.append((str(p), st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((str(p), None, None))
    return tuple(out)


def load_run_data(params: RunParams, params_file: str | Path) -> Dataset:
    """The validated dataset named by ``params``: a folder of canonical tables (demo
    generated on first use) or a source mapping (:func:`helpers.data.sources.load_mapped`).

    Read once per process while its files are unchanged (a notebook opened without a
    run's workspace reads the company's data from several places; each read the same
    files and validated them again).  The dataset is shared: its tables are not changed.
    It carries the measures the plan declares (:func:`plan_measures`)."""
    key = (str(params.data.source and resolve(params_file, params.data.source)),
           str(params.data.folder and resolve(params_file, params.data.folder)), params.data.as_of, params.data.demo)

    def stamp(ds: Dataset) -> tuple:  # the folder's file list (a table added or removed) and every file read
        folder = resolve(params_file, params.data.folder) if params.data.source is None else None
        listing = tuple(sorted(p for p in folder.iterdir() if not p.name.startswith("."))) \
            if folder is not None and folder.is_dir() else ()  # not the prepared-data cache
        return file_stamps(listing) + file_stamps(_read_files(ds))

    measures = plan_measures(params, params_file)
    hit = _LOADED.pop(key, None)
    if hit is not None and hit[0] == stamp(hit[1]):
        _LOADED[key] = hit  # most recently used last
        return hit[1].with_measures(measures)
    ds = _load_run_data(params, params_file)
    _LOADED[key] = (stamp(ds), ds)
    while len(_LOADED) > 2:  # the latest two data sources only: a process that reads many stays small
        _LOADED.pop(next(iter(_LOADED)))
    return ds.with_measures(measures)


def plan_measures(params: RunParams, params_file: str | Path) -> tuple:
    """The measures the plan's indicator library declares in YAML
    (:meth:`helpers.kpis.indicators.Library.declared`): the plan's dataset computes them
    beside the built-in KPIs, so every reader of its KPI actuals sees the same rows."""
    from helpers.kpis.indicators import load_library

    return load_library(resolve(params_file, params.indicators)).declared()


def _read_files(ds: Dataset) -> list[Path]:
    return [*ds.files.values(), *getattr(ds, "inputs", [])]


def _load_run_data(params: RunParams, params_file: str | Path) -> Dataset:
    as_of = pd.Timestamp(params.data.as_of) if params.data.as_of else None
    if params.data.source is not None:
        from helpers.data.sources import load_mapped

        return load_mapped(resolve(params_file, params.data.source), as_of=as_of)
    assert params.data.folder is not None  # DataParams checks: folder or source
    folder = resolve(params_file, params.data.folder)
    if params.data.demo:
        ensure_demo(folder)
    return load_dataset(folder, as_of=as_of)


def roster_notes(roster: pd.DataFrame, period: ReviewPeriod, language: str) -> pd.Series:
    """The reader's note per manager: moved from another team, joined or left in the period."""
    notes = []
    for r in roster.itertuples(index=False):
        parts = []
        if r.moved_from:
            parts.append(t("roster.moved", language, old=r.moved_from, month=r.moved_month))
        if r.active_from > period.start:
            parts.append(t("roster.joined", language, date=r.active_from.date()))
        if r.active_to < period.end:
            parts.append(t("roster.left", language, date=r.active_to.date()))
        notes.append("; ".join(parts))
    return pd.Series(notes, index=roster.index, dtype="str")


def with_notes(roster: pd.DataFrame, period: ReviewPeriod, language: str) -> pd.DataFrame:
    """``roster`` with its ``note`` column in ``language`` (the roster a notebook sees)."""
    out = roster.copy()
    out["note"] = roster_notes(roster, period, language) if len(roster) else pd.Series(dtype="str")
    return out





def _cache_path(workspace: str | Path, key: str, part: str = "") -> Path | None:
    if not SLUG.match(key) or (part and not SLUG.match(part)):
        return None
    base = Path(workspace) / "cache"
    return base / key / f"{part}.pkl" if part else base / f"{key}.pkl"


def cache_get(workspace: str | Path | None, key: str, part: str = "") -> Any:
    """A result the runner computed once for this run (see
    :func:`helpers.run.runner.precompute`), or None (no workspace, or not computed).
    ``part`` names one team's slice of the result (stored apart, so that a team
    notebook reads its own rows and not the whole company's).

    The cache is a pickle in the run's own workspace folder (created by the runner
    beside the output, removed at the end of the run); nothing else is read as pickle."""
    if not workspace:
        return None
    path = _cache_path(workspace, key, part)
    return pickle.loads(path.read_bytes()) if path is not None and path.is_file() else None


def cache_put(workspace: str | Path, key: str, value: Any, part: str = "") -> None:
    """Store ``value`` under ``key`` (and ``part``) in the workspace cache (atomically)."""
    path = _cache_path(workspace, key, part)
    if path is None:
        raise ValueError(f"cache key {key!r} / {part!r} is not a plain name")
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


def cache_key(kind: str, period: ReviewPeriod) -> str:
    """``kind-2026Q3``: cached results depend on the period only; they hold numbers and
    notes, never words, so every language reads the same entry."""
    return f"{kind}-{period.label}"


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def prepare_workspace(params: RunParams, params_file: str | Path, folder: str | Path, ds: Dataset | None = None) -> Path:
    """Do the shared data work once: validated tables and KPI actuals as Parquet."""
    folder = Path(folder)
    (folder / "tables").mkdir(parents=True, exist_ok=True)
    ds = ds or load_run_data(params, params_file)
    for name, df in ds.tables.items():
        _write_parquet(df, folder / "tables" / f"{name}.parquet")
    for freq in ("Q", "M"):
        actuals = kpi_actuals(ds, freq)
        _write_parquet(actuals, folder / f"kpis_{freq}.parquet")
        _write_parquet(_company(actuals), folder / f"company_{freq}.parquet")
    _write_parquet(availability(ds), folder / "availability.parquet")
    info = {
        "params_file": str(Path(params_file).resolve()),
        "files": {k: str(v) for k, v in ds.files.items()},
        "team_names": ds.team_names(),
        "team_regions": ds.team_regions(),
    }
    (folder / "context.json").write_text(json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")
    _WRITTEN_FROM[str(folder.resolve())] = weakref.ref(ds)
    return folder


_WRITTEN_FROM: dict[str, weakref.ref] = {}


def workspace_dataset(folder: str | Path) -> Dataset | None:
    """The dataset this process wrote the workspace ``folder`` from
    (:func:`prepare_workspace`), while it is alive; None in any other process (a
    notebook's kernel reads the workspace's files).  The run's own process uses it to
    reuse what its gate computed on that dataset instead of computing it again from
    the files it has just written."""
    ref = _WRITTEN_FROM.get(str(Path(folder).resolve())) if folder else None
    return ref() if ref is not None else None


@dataclass
class TeamContext:
    """One team's view of one period; everything a team notebook needs."""

    params: RunParams
    team_id: str
    team_name: str
    region: str
    period: ReviewPeriod
    language: str
    roster: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    actuals: pd.DataFrame  # this team's managers, KPI actuals at the period's frequency, all periods
    monthly: pd.DataFrame  # this team's managers, monthly KPI actuals
    company: pd.DataFrame  # all managers: mean and median per period × segment × kpi (anonymous)
    availability: pd.DataFrame
    files: dict[str, str] = field(default_factory=dict)
    output_dir: Path | None = None
    params_file: Path | None = None  # methodology paths in params are relative to it
    workspace: Path | None = None  # the runner's prepared data; None when computed on the spot
    team_names: dict[str, str] = field(default_factory=dict)  # every team's display name and region
    team_regions: dict[str, str] = field(default_factory=dict)

    def t(self, key: str, **values) -> str:
        """A catalog text in the report's language."""
        return t(key, self.language, **values)

    @property
    def manager_ids(self) -> list[str]:
        return list(self.roster["manager_id"])

    def save_csv(self, df: pd.DataFrame, name: str) -> Path | None:
        """Write an artifact CSV beside the report (atomically); no-op without an output dir."""
        if self.output_dir is None:
            return None
        if not SLUG.match(name.removesuffix(".csv")):
            raise ValueError(f"artifact name {name!r} is not a plain file name")
        path = self.output_dir / (name if name.endswith(".csv") else f"{name}.csv")
        return save_csv(df, path)


def _company(actuals: pd.DataFrame) -> pd.DataFrame:
    """Anonymous company aggregates per period × segment × kpi: mean, median, quartiles, count."""
    g = actuals.groupby(["period", "segment", "kpi"], sort=False)["value"]
    out = g.agg(mean="mean", median="median", managers="count")
    out["q25"] = g.quantile(0.25)
    out["q75"] = g.quantile(0.75)
    return out.reset_index()


def _membership(params: RunParams, params_file: str | Path, workspace: str | Path = "", read: Any = None) -> Dataset:
    """The managers and team history only (from the workspace when there is one;
    ``read(path, filters)`` reads a Parquet file there, as in :func:`read_team`)."""
    if not workspace:
        return load_run_data(params, params_file)
    read = read or _read_parquet
    tables_dir = Path(workspace) / "tables"
    base = {"managers": read(tables_dir / "managers.parquet", None)}
    th = tables_dir / "team_history.parquet"
    if th.exists():
        base["team_history"] = read(th, None)
    return Dataset(tables={**base, "customers": pd.DataFrame(), "orders": pd.DataFrame()})


def company_actuals(ctx: "TeamContext", params_file: str | Path | None = None,
                    workspace: str | Path | None = None) -> pd.DataFrame:
    """KPI actuals of *every* manager of the company for the review period: the one way
    company-wide data is read (ranks, percentiles and weights need the whole company;
    reports show only aggregates of it, or this team's managers).

    From the run's workspace when given (``kpis_<freq>.parquet`` holds every manager),
    else computed from the data (interactive use in JupyterLab)."""
    freq, label = ctx.period.freq, ctx.period.label
    if workspace:
        return pd.read_parquet(Path(workspace) / f"kpis_{freq}.parquet", filters=[("period", "==", label)])
    if params_file is None and ctx.params_file is None:
        raise InputError(Problem("params_file", "needed to load the company data", fix="pass params_file"))
    a = kpi_actuals(load_run_data(ctx.params, params_file or ctx.params_file), freq)
    return a[a["period"] == label].reset_index(drop=True)


def company_ratings(ctx: "TeamContext", params_file: str | Path | None = None,
                    workspace: str | Path | None = None) -> pd.DataFrame:
    """Every manager's qualitative ratings in the review period's months (the soft
    appraisal's raters are compared company-wide); empty when the data has none."""
    labels = [m.strftime("%Y-%m") for m in ctx.period.months] + [ctx.period.label]
    if workspace:
        f = Path(workspace) / "tables" / "ratings.parquet"
        if not f.exists():
            return pd.DataFrame(columns=["manager_id", "period", "dimension", "score", "rater"])
        r = pd.read_parquet(f)
    else:
        ds = load_run_data(ctx.params, params_file or ctx.params_file)
        if not ds.has("ratings"):
            return pd.DataFrame(columns=["manager_id", "period", "dimension", "score", "rater"])
        r = ds["ratings"]
    return r[r["period"].astype(str).isin(labels)].reset_index(drop=True)


def company_manager_ids(ctx: "TeamContext", params_file: str | Path | None = None,
                        workspace: str | Path | None = None) -> list[str]:
    """Every manager id of the company (the staff list), from the workspace when given."""
    return list(_membership(ctx.params, params_file or ctx.params_file or "", workspace or "").managers["manager_id"])


def company_roster(ctx: "TeamContext") -> pd.DataFrame:
    """Every team's roster for ``ctx.period`` (as :func:`team_roster` with ``None``)."""
    ds = _membership(ctx.params, ctx.params_file or "", ctx.workspace or "")
    return with_notes(team_roster(ds, None, ctx.period), ctx.period, ctx.language)


def read_team(params: RunParams, params_file: str | Path, workspace: Path, team: str, per: ReviewPeriod,
              read: Any = None, everyone: pd.DataFrame | None = None) -> tuple:
    """What :func:`open_team` reads from a run's ``workspace`` for ``team`` (``""``: every
    team) and ``per``: ``(roster without its notes, tables, KPI actuals at the period's
    frequency, monthly KPI actuals)``: the team's rows only (Parquet filters on
    ``manager_id``), and the customers it held for a while.  ``read(path, filters)``
    reads one Parquet file (default: :func:`pandas.read_parquet`; :class:`WholeFiles`
    when the run slices every team at once, :func:`share_teams`); ``everyone``: every
    team's roster for ``per``, when the caller has it (a team's is its rows)."""
    read = read or _read_parquet
    freq = per.freq
    tables_dir = workspace / "tables"
    light = _membership(params, params_file, workspace, read)
    managers = light.managers
    if everyone is not None and team:
        plain = everyone[everyone["team_id"] == team].reset_index(drop=True)
    else:
        plain = team_roster(light, team or None, per)
    ids = list(plain["manager_id"])
    flt = [("manager_id", "in", ids)] if ids and team else None
    tables: dict[str, pd.DataFrame] = {}
    for f in sorted(tables_dir.glob("*.parquet")):
        name = f.stem
        if name in PERSON_TABLES and name != "managers":
            tables[name] = read(f, flt) if ids else read(f, None).iloc[0:0]
        elif name == "managers":
            tables[name] = managers[managers["manager_id"].isin(ids)]
        elif name in ("teams", "market"):
            tables[name] = read(f, None)
    if ids and "assignments" in tables and "customers" in tables:  # customers held by the team only for a while
        extra = sorted(set(tables["assignments"]["customer_id"]) - set(tables["customers"]["customer_id"]))
        if extra:
            more = read(tables_dir / "customers.parquet", [("customer_id", "in", extra)])
            tables["customers"] = pd.concat([tables["customers"], more], ignore_index=True)
    cust_ids = set(tables["customers"]["customer_id"]) if "customers" in tables else set()
    if (tables_dir / "surveys.parquet").exists():
        s = read(tables_dir / "surveys.parquet", None)
        tables["surveys"] = s[isin(s["customer_id"], cust_ids)]
    actuals = read(workspace / f"kpis_{freq}.parquet", flt)
    monthly = read(workspace / "kpis_M.parquet", flt)
    if not ids:
        actuals, monthly = actuals.iloc[0:0], monthly.iloc[0:0]
    return plain, tables, actuals, monthly


def _read_parquet(path: Path, filters: list | None) -> pd.DataFrame:
    return pd.read_parquet(path, filters=filters)


class WholeFiles:
    """A ``read`` for :func:`read_team` that reads each Parquet file once, whole, and
    applies each read's filter (``[(column, "in", values)]``) in memory: the rows pyarrow's
    filter selects, in the file's order, with a fresh index, as the same frames
    (``tests/test_leadership.py`` checks every demo team's against a read of its own).

    Given the teams (:meth:`group`), slicing every team is one pass over each file: the
    rows are put in team order once (the file's order kept within a team), and a filter
    on exactly one team's managers takes that team's block of rows."""

    def __init__(self) -> None:
        self.frames: dict[Path, pd.DataFrame] = {}
        self.teams: dict[Any, str] = {}
        self.members: dict[str, set] = {}
        self.blocks: dict[Path, tuple[pd.DataFrame, dict[str, tuple[int, int]]]] = {}

    def group(self, teams: dict[Any, str]) -> None:
        """Slice by ``teams`` (manager id → team) from now on."""
        self.teams, self.members, self.blocks = dict(teams), {}, {}
        for manager, team in self.teams.items():
            self.members.setdefault(team, set()).add(manager)

    def __call__(self, path: Path, filters: list | None) -> pd.DataFrame:
        df = self.frames.get(path)
        if df is None:
            df = self.frames[path] = pd.read_parquet(path)
        if not filters:
            return df.reset_index(drop=True)
        (column, op, values), = filters
        if op != "in":
            raise ValueError(f"filter {op!r} is not read in memory")
        wanted = set(values)
        team = self.teams.get(next(iter(wanted))) if wanted else None
        if column == "manager_id" and team is not None and wanted == self.members[team]:
            ordered, at = self._blocks(path, df)
            lo, hi = at.get(team, (0, 0))
            return ordered.iloc[lo:hi].reset_index(drop=True)
        return df[isin(df[column], values)].reset_index(drop=True)

    def _blocks(self, path: Path, df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, tuple[int, int]]]:
        hit = self.blocks.get(path)
        if hit is None:
            codes, uniques = pd.factorize(df["manager_id"].map(self.teams))  # rows of no team: -1, in no block
            order = np.argsort(codes, kind="stable")
            bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
            hit = self.blocks[path] = (df.take(order), {u: (int(bounds[k]), int(bounds[k + 1]))
                                                        for k, u in enumerate(uniques)})
        return hit


def share_teams(params_file: str | Path, workspace: str | Path, teams: list[str], period: str = "") -> str:
    """Read every team's part of the run's ``workspace`` once (:func:`read_team`, each
    file read whole once: :class:`WholeFiles`) and store each in the workspace cache,
    where :func:`open_team` finds it: a run's five notebooks of a team read the same
    rows, and each would read them again from a dozen Parquet files and build the
    team's roster (about 0.09 CPU-seconds a notebook on the demo)."""
    params = load_params(params_file)
    per = parse_period(period or params.period)
    key = cache_key("team", per)
    reads = WholeFiles()
    everyone = team_roster(_membership(params, params_file, workspace, reads), None, per)
    reads.group(dict(zip(everyone["manager_id"], everyone["team_id"])))
    for team in teams:
        cache_put(workspace, key, read_team(params, params_file, Path(workspace), team, per, reads, everyone), part=team)
    return key


def open_team(
    params_file: str | Path,
    team: str,
    period: str = "",
    workspace: str | Path = "",
    language: str = "",
    output_dir: str | Path = "",
) -> TeamContext:
    """Open ``team`` for ``period`` (default: the params' period).

    With ``workspace`` (set by the runner) reads the prepared Parquet slices; without
    it loads and computes everything here (interactive use in JupyterLab).

    ``team=""`` opens the whole company (every team's roster, tables and actuals): the
    view of the period-scoped notebooks such as the leadership summary, and the only
    cross-team one.
    """
    params = load_params(params_file)
    per = parse_period(period or params.period)
    lang = language or params.language
    freq = per.freq
    if workspace:
        ws = Path(workspace)
        info = json.loads((ws / "context.json").read_text(encoding="utf-8"))
        part = cache_get(ws, cache_key("team", per), part=team) if team else None  # written by the run: share_teams
        plain, tables, actuals, monthly = part if part is not None else read_team(params, params_file, ws, team, per)
        roster = with_notes(plain, per, lang)
        company = pd.read_parquet(ws / f"company_{freq}.parquet")
        avail = pd.read_parquet(ws / "availability.parquet")
        names, regions, files = info["team_names"], info["team_regions"], info["files"]
    else:
        ds = load_run_data(params, params_file)
        roster = with_notes(team_roster(ds, team or None, per), per, lang)
        ids = list(roster["manager_id"])
        all_q = kpi_actuals(ds, freq)
        actuals = all_q[all_q["manager_id"].isin(ids)]
        monthly = kpi_actuals(ds, "M")
        monthly = monthly[monthly["manager_id"].isin(ids)]
        company = _company(all_q)
        avail = availability(ds)
        names, regions = ds.team_names(), ds.team_regions()
        files = {k: str(v) for k, v in ds.files.items()}
        held = ds["assignments"].loc[ds["assignments"]["manager_id"].isin(ids), "customer_id"] \
            if ds.has("assignments") else pd.Series([], dtype=object)
        cust_ids = set(ds.customers.loc[ds.customers["manager_id"].isin(ids), "customer_id"].tolist()) | set(held.tolist())
        tables = {}
        for name, df in ds.tables.items():
            if name == "customers":
                tables[name] = df[isin(df["customer_id"], cust_ids)]
            elif name in PERSON_TABLES:
                tables[name] = df[df["manager_id"].isin(ids)]
            elif name == "surveys":
                tables[name] = df[isin(df["customer_id"], cust_ids)]
            else:
                tables[name] = df
    if team and team not in names:
        known = ", ".join(sorted(names))
        raise InputError(Problem("team", f"unknown team '{team}'", fix=f"use one of: {known}"))
    ctx = TeamContext(
        params=params,
        team_id=team,
        team_name=names[team] if team else t("report.company", lang),
        region=regions.get(team, ""),
        period=per,
        language=lang,
        roster=roster,
        tables=tables,
        actuals=actuals.reset_index(drop=True),
        monthly=monthly.reset_index(drop=True),
        company=company,
        availability=avail,
        files=files,
        output_dir=Path(output_dir) if output_dir else None,
        params_file=Path(params_file).resolve(),
        workspace=Path(workspace) if workspace else None,
        team_names=dict(names),
        team_regions=dict(regions),
    )
    from helpers.context.record import with_closed_history

    return with_closed_history(ctx)  # earlier periods as closed, where the record has them


def today() -> str:
    """Report date (ISO)."""
    return date.today().isoformat()


def clean_dir(path: Path) -> None:
    """Remove a folder if it exists (ignore errors)."""
    shutil.rmtree(path, ignore_errors=True)


def save_xlsx(output_dir: Path | None, sheets: dict[str, pd.DataFrame | exports.Sheet], name: str) -> Path | None:
    """Write an .xlsx artifact atomically (the sheets given, text cells neutralised; a
    :class:`helpers.exports.Sheet` carries its number formats and header comments).

    Mirrors :meth:`helpers.context.workbook.TeamContext.save_csv`; no-op without an output dir.
    """
    if output_dir is None:
        return None
    if not SLUG.match(name.removesuffix(".xlsx")):
        raise ValueError(f"artifact name {name!r} is not a plain file name")
    path = Path(output_dir) / (name if name.endswith(".xlsx") else f"{name}.xlsx")
    return exports.save_xlsx(path, sheets)
