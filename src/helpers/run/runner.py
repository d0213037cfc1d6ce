"""Run the workbook: every listed notebook for every team, in parallel, to HTML.

Order of work (nothing is written to the output folder before step 4):

1. load and validate the params, the period, the notebooks, the kernel, the teams
   and the output folder (:func:`helpers.run.publish.check_output`);
2. load and validate the data (the demo is generated on first use);
3. take the output folder's lock, finish or remove what dead runs left there, and
   prepare the shared workspace once (tables and KPI actuals as Parquet);
4. execute each (team, notebook) with papermill in a process pool — explicit
   kernel, absolute working folder, execution timeout — and render HTML with the
   report template in the same worker, into a staging folder;
5. publish (:mod:`helpers.run.publish`): the reports this run produced replace their
   earlier versions, every other report of the period stays, and ``index.html`` and
   ``manifest.json`` are rebuilt from everything present.

A failed notebook publishes nothing new: its last good report stays (marked stale in
the index), its executed copy goes to ``<period>/failures/``, the end summary names
it, the other teams continue, and the exit code is 1.  Bad input exits with 2 before
anything runs.  Ctrl-C or SIGTERM kills every worker and kernel and publishes nothing.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import platform
import shutil
import subprocess
import sys
import time
import traceback
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator, Sequence

from helpers.errors import InputError, Problem
from helpers.present.i18n import t
from helpers.present.index_page import COMPANY, notebook_title
from helpers.plan.params import SLUG, RunParams, load_params, resolve
from helpers.periods import ReviewPeriod, parse_period


@dataclass
class Task:
    """One notebook run for one team."""

    team: str
    notebook: str
    input_path: str
    parameters: dict[str, Any]
    work_ipynb: str
    parts_dir: str
    html_path: str
    failed_path: str
    kernel: str
    timeout: int
    cwd: str
    meta: dict[str, Any]
    preload: list[str] = field(default_factory=list)  # modules of the kernel template; empty: fresh kernels
    template: str = ""  # socket of the run's shared kernel template (local pool); empty: the worker's own


@dataclass
class TaskResult:
    team: str
    notebook: str
    ok: bool
    seconds: float
    error: str = ""
    artifacts: list[str] = field(default_factory=list)
    started: float = 0.0  # wall clock (epoch seconds) when the worker began it; with ``worker`` (its pid),
    worker: int = 0  # the manifest shows how the run used its workers (benchmarks/bench_reports.py)


@dataclass
class RunPlan:
    """Everything decided before any notebook runs."""

    params: RunParams
    params_file: Path
    period: ReviewPeriod
    language: str
    teams: list[str]
    team_names: dict[str, str]
    team_regions: dict[str, str]
    notebooks: list[str]
    notebook_dir: Path
    out_root: Path
    jobs: int
    input_files: dict[str, Path]
    executor: str = "local"
    scheduler: str | None = None
    wait: float = 0.0
    command: str = ""
    skipped_teams: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------ worker side

_EXPORTERS: dict[str, Any] = {}


def _exporter(lang: str):
    from helpers.present.report import make_exporter

    if lang not in _EXPORTERS:
        _EXPORTERS[lang] = make_exporter(lang)
    return _EXPORTERS[lang]


def warm_reports(lang: str = "") -> None:
    """What every report reads or builds the same way, done once in a process that
    forks the run's kernels and workers (its fork server): the message catalog, the
    page templates compiled, and for ``lang`` the report exporter with its templates
    compiled (a worker's first report took 0.23 core-seconds more for them, a kernel's
    0.02-0.05).  All of it is static package data: no run's data, nothing a notebook
    could change for the next one."""
    from helpers.present import html, i18n

    i18n.catalog()
    html.compile_all()
    if lang:
        from helpers.present.report import warm_exporter

        warm_exporter(_exporter(lang), lang)


def warm_up(preload: list[str], template: str = "", lang: str = "") -> None:
    """Get this worker ready ahead of its first notebook (submitted once per worker while
    the run prepares its shared workspace): connect to the run's kernel template
    (``template``, its socket) or start one of its own, and import what runs and
    renders a notebook."""
    if preload:
        from helpers.run import kernels

        if template:
            kernels.connect(template)
        else:
            kernels.template(preload)
    if lang:
        import papermill  # noqa: F401

        _exporter(lang)


def _last_error_line(nb_path: str, exc: BaseException) -> str:
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = str(getattr(exc, "evalue", exc)).strip().splitlines()
    return f"{ename}: {evalue[-1] if evalue else ''}"[:300]


def _quiet_worker() -> None:
    """Kernels inherit this worker's stderr; their start-up chatter (e.g. ipykernel's
    transport warning) must not mix with the progress bar.  Errors are still reported:
    a failed notebook keeps its executed copy and error line."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


def _worker_init(parent: int) -> None:
    """Pool initializer: quiet stderr, leave Ctrl-C to the main process, and die with it.

    A watchdog thread checks every half second that this worker's parent has not
    changed: the main process (``parent``), or the run's fork server, which ends with it
    once no worker holds it open (:func:`helpers.run.zygote.release_fork_server`).  When
    it has (the main process killed with -9, crashed) the worker kills its own kernels
    and exits, so nothing keeps writing into an abandoned run."""
    import signal
    import threading

    from helpers.run import noiri
    from helpers.run.zygote import tune_gc

    _quiet_worker()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    noiri.block()  # the worker imports nbformat for the export: not the IRI grammar (helpers.run.noiri)
    tune_gc()  # as the main process's (a worker spawned from nothing would have Python's)
    first = os.getppid()  # the main process, or the run's fork server (which ends with it)
    if first != parent:  # forked from the run's fork server: let it end when the main process does
        from helpers.run.zygote import release_fork_server

        release_fork_server(tracker=False)

    def watch() -> None:
        while True:
            if os.getppid() != first:
                _kill_descendants()
                os._exit(1)
            time.sleep(0.5)

    threading.Thread(target=watch, name="kpi-workbook-parent-watch", daemon=True).start()


KERNEL_ATTEMPTS = 2
"""A notebook whose kernel failed (did not start, died) is run once more: kernels
started in parallel can lose a race for the same ports (nteract/papermill#511,
jupyter_client port selection).  An error in a cell or a cell timeout is the
notebook's own result and is never retried."""


def _is_notebook_error(exc: BaseException) -> bool:
    """True when ``exc`` comes from the notebook's code (a cell raised or timed out)."""
    from nbclient.exceptions import CellTimeoutError
    from papermill.exceptions import PapermillExecutionError

    return isinstance(exc, (PapermillExecutionError, CellTimeoutError))


def run_task(task: Task) -> TaskResult:
    """Execute one notebook with papermill and render its HTML (runs in a worker)."""
    import papermill as pm

    from helpers.atomic import write_text_atomic
    from helpers.present.report import render_html

    start = time.perf_counter()
    began, me = round(time.time(), 3), os.getpid()
    Path(task.parts_dir).mkdir(parents=True, exist_ok=True)
    engine: dict[str, Any] = {}
    if task.preload:
        from helpers.run import kernels

        tpl = kernels.connect(task.template) if task.template else kernels.template(task.preload)
        if tpl is not None:
            engine["kernel_manager_class"] = kernels.ForkKernelManager
    try:
        for attempt in range(1, KERNEL_ATTEMPTS + 1):
            try:
                executed = pm.execute_notebook(
                    task.input_path,
                    task.work_ipynb,
                    parameters=task.parameters,
                    kernel_name=task.kernel,
                    cwd=task.cwd,
                    execution_timeout=task.timeout,
                    start_timeout=120,
                    progress_bar=False,
                    log_output=False,
                    request_save_on_cell_execute=False,
                    shutdown_kernel="immediate",
                    **engine,
                )
                break
            except Exception as exc:  # noqa: BLE001 - sorted just below
                if _is_notebook_error(exc) or attempt == KERNEL_ATTEMPTS:
                    raise
                shutil.rmtree(task.parts_dir, ignore_errors=True)  # start the retry clean
                Path(task.parts_dir).mkdir(parents=True, exist_ok=True)
        # the notebook papermill wrote to work_ipynb, as it holds it (not read back: 0.04 s a report)
        html = render_html(executed, task.meta, _exporter(task.meta.get("lang", "zh")))
        write_text_atomic(Path(task.html_path), html)
        arts = sorted(p.name for p in Path(task.parts_dir).iterdir() if p.is_file() and not p.name.startswith("."))
        for name in arts:
            os.replace(Path(task.parts_dir) / name, Path(task.html_path).parent / name)
        return TaskResult(task.team, task.notebook, True, time.perf_counter() - start, artifacts=arts,
                          started=began, worker=me)
    except Exception as exc:  # a failing notebook must not stop the others
        Path(task.failed_path).parent.mkdir(parents=True, exist_ok=True)
        if Path(task.work_ipynb).exists():
            shutil.copyfile(task.work_ipynb, task.failed_path)
        else:
            Path(task.failed_path).write_text(traceback.format_exc(), encoding="utf-8")
        return TaskResult(task.team, task.notebook, False, time.perf_counter() - start,
                          error=_last_error_line(task.work_ipynb, exc), started=began, worker=me)
    finally:
        shutil.rmtree(task.parts_dir, ignore_errors=True)


# ------------------------------------------------------------------------ planning


def notebook_dir(params: RunParams, params_file: Path) -> Path:
    return resolve(params_file, params.notebook_folder)


def notebook_problems(params: RunParams, params_file: Path) -> list[Problem]:
    """Every notebook named in the params must be in the notebook folder.  A folder with
    no notebook at all (a wrong ``notebook_folder``) is one problem naming the folder, not
    one per notebook with nothing to choose from."""
    nb_dir = notebook_dir(params, params_file)
    missing = [name for name in params.notebooks if not (nb_dir / f"{name}.ipynb").is_file()]
    if not missing:
        return []
    known = sorted(p.stem for p in nb_dir.glob("*.ipynb")) if nb_dir.is_dir() else []
    if not known:
        what = f"the notebook folder {nb_dir} does not exist" if not nb_dir.is_dir() else \
            f"the notebook folder {nb_dir} has no notebooks (*.ipynb)"
        return [Problem(str(params_file), f"{what}, so notebook(s) {', '.join(missing)} cannot run",
                        where="key 'notebook_folder'",
                        fix=f"set notebook_folder (relative to {params_file.name}) to the folder of the workbook "
                            "notebooks, e.g. ../notebooks")]
    return [Problem(str(params_file), f"notebook '{name}' not found in {nb_dir}", where="key 'notebooks'",
                    fix=f"use one of: {', '.join(known)}") for name in missing]


def plan_run(
    params_file: str | Path,
    period: str | None = None,
    teams: Sequence[str] | None = None,
    jobs: int | None = None,
    out: str | Path | None = None,
    language: str | None = None,
    executor: str | None = None,
    scheduler: str | None = None,
    wait: float = 0.0,
    command: str = "",
):
    """Validate everything and load the data; returns (plan, dataset).  No writes
    except the demo data on first use.

    ``out`` is the folder named on the command line (``--out``): it may lie outside the
    params file's project folder; the params' ``output.folder`` may not."""
    from helpers.run.publish import check_output
    from helpers.context.workbook import load_run_data
    from helpers.core.roster import reviewed_teams

    params_file = Path(params_file)
    params = load_params(params_file)
    per = parse_period(period or params.period, source="--period" if period else f"{params_file}: key 'period'")
    lang = language or params.language
    if lang not in ("zh", "en"):
        raise InputError(Problem("--language", f"'{lang}' is not a report language", fix="use zh or en"))
    ex = executor or params.execution.executor
    if ex not in ("local", "dask"):
        raise InputError(Problem("--executor", f"'{ex}' is not an executor", fix="use local or dask"))
    sched = scheduler or params.execution.scheduler
    if sched and ex != "dask":
        raise InputError(Problem("--scheduler", "a scheduler address needs the dask executor",
                                 fix="add --executor dask, or leave out --scheduler"))
    out_root = Path(out).expanduser() if out else resolve(params_file, params.output.folder)
    out_src = "--out" if out else f"{params_file}: key 'output.folder'"
    problems = check_output(out_root, per.label, params_file, explicit=out is not None, source=out_src)
    nb_dir = notebook_dir(params, params_file)
    problems += notebook_problems(params, params_file)
    problems += kernel_problems(params.execution.kernel, str(params_file))
    if problems:
        raise InputError(problems)
    ds = load_run_data(params, params_file)
    names, regions = ds.team_names(), ds.team_regions()
    wanted = list(teams) if teams else (sorted(names) if params.teams == "all" else list(params.teams))
    src = "--team" if teams else f"{params_file}: key 'teams'"
    unknown = [tm for tm in wanted if tm not in names]
    bad_slug = [tm for tm in wanted if not SLUG.match(tm)]
    if bad_slug:
        raise InputError(Problem(src, f"team id(s) {', '.join(map(repr, bad_slug))} are not valid",
                                 fix="team ids use letters, digits, '-' and '_' only"))
    if unknown:
        raise InputError(Problem(src, f"unknown team(s): {', '.join(unknown)}", fix=f"use one of: {', '.join(sorted(names))}"))
    reviewed = reviewed_teams(ds, per)
    empty = [tm for tm in wanted if tm not in reviewed]
    skipped: list[str] = []
    if empty and (teams or params.teams != "all"):
        raise InputError(Problem(src, f"team(s) {', '.join(empty)} have no manager to review in {per.label}",
                                 fix="leave them out, choose another period, or check managers.csv / team_history.csv"))
    if empty:  # teams: all — a team with nobody in the period (e.g. dissolved) is left out, and said so
        skipped, wanted = empty, [tm for tm in wanted if tm in reviewed]
    if not wanted:
        raise InputError(Problem(src, f"no team has a manager to review in {per.label}",
                                 fix="choose another period, or check the hire and leave dates in managers.csv"))
    problems = methodology_problems(params, params_file, ds, params.notebooks)
    if problems:
        raise InputError(problems)
    o = ds.orders
    in_period = ((o["date"] >= per.start) & (o["date"] < per.end_exclusive)).any()
    if not in_period:
        lo, hi = o["date"].min().date(), o["date"].max().date()
        psrc = "--period" if period else f"{params_file}: key 'period'"
        raise InputError(Problem(psrc, f"no orders in {per.label} (the data covers {lo} to {hi})",
                                 fix="choose a period inside the data, or add that period's data"))
    n_jobs = jobs or params.execution.jobs or os.cpu_count() or 1
    inputs = {f"data/{k}": Path(v) for k, v in ds.files.items() if Path(v).exists()}
    for i, p in enumerate(getattr(ds, "inputs", [])):  # a source mapping: the mapping and every file it read
        inputs[f"source/{i}"] = Path(p)
    inputs["params"] = params_file.resolve()
    plan = RunPlan(params, params_file.resolve(), per, lang, wanted, names, regions, list(params.notebooks), nb_dir,
                   out_root.resolve(), max(1, int(n_jobs)), inputs, ex, sched, wait, command, skipped)
    return plan, ds


def kernel_problems(kernel: str, source: str) -> list[Problem]:
    """The Jupyter kernel named in the params must be installed (papermill would fail every notebook)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(kernel)
        return []
    except NoSuchKernel:
        known = ", ".join(sorted(KernelSpecManager().find_kernel_specs())) or "none"
        return [Problem(source, f"Jupyter kernel '{kernel}' is not installed", where="key 'execution.kernel'",
                        fix=f"use one of: {known} (list them with `jupyter kernelspec list`)")]


def notebook_module(path: Path):
    """The helpers module a notebook declares in its metadata (``kpi_workbook.module``),
    imported; None for a notebook that declares none (it needs no checks and no shared
    results).  The module says what the run must do for it: ``check_inputs(params,
    params_file, dataset)`` lists the problems it would refuse, ``SHARED`` maps each
    company-wide result it reads to the function that prepares it once per run."""
    import importlib

    name = _notebook_meta(path).get("module")
    return importlib.import_module(name) if name else None


def _notebook_meta(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("kpi_workbook", {}))


def _modules(plan_or_dir: Path, notebooks: Sequence[str]) -> list[Any]:
    mods = [notebook_module(plan_or_dir / f"{nb}.ipynb") for nb in notebooks]
    return list({id(m): m for m in mods if m is not None}.values())


def shared_needs(plan: RunPlan) -> tuple[dict[str, Any], dict[str, set[str]]]:
    """(every shared result the listed notebooks read → the function that prepares it,
    in the order the notebooks declare them; notebook → the kinds it reads)."""
    providers: dict[str, Any] = {}
    needs: dict[str, set[str]] = {}
    for nb in plan.notebooks:
        mod = notebook_module(plan.notebook_dir / f"{nb}.ipynb")
        shared = dict(getattr(mod, "SHARED", {}) or {}) if mod is not None else {}
        needs[nb] = set(shared)
        for kind, prepare in shared.items():
            providers.setdefault(kind, prepare)
    return providers, needs


def prepare_shared(plan: RunPlan, workspace: Path, kind: str, prepare: Any, ctx: Any, log=lambda _: None) -> str | None:
    """Prepare one shared result in the workspace cache; None (said in one line) when it
    fails: each notebook then computes the result itself and fails on its own, with its
    error in its executed copy, while the other notebooks go on (fault isolation)."""
    try:
        return prepare(ctx, plan.params_file, workspace, plan.teams)
    except Exception as exc:  # noqa: BLE001 - the notebooks recompute it and report it
        log(f"note: the shared '{kind}' results could not be prepared once for all teams "
            f"({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}); "
            "each notebook computes them itself")
        return None


def precompute(plan: RunPlan, workspace: Path, log=lambda _: None) -> list[str]:
    """Prepare the company-wide results the listed notebooks share (each declared in its
    module's ``SHARED``), once per run, in the workspace cache; returns what was stored.
    (A run interleaves this with the notebooks: :func:`_execute` starts each notebook as
    soon as the results it reads are ready.)"""
    from helpers.context.workbook import open_team

    providers, _ = shared_needs(plan)
    if not providers:
        return []
    ctx = open_team(plan.params_file, "", plan.period.label, workspace, plan.language, "")
    done = [prepare_shared(plan, workspace, kind, prepare, ctx, log) for kind, prepare in providers.items()]
    return [d for d in done if d is not None]


def methodology_problems(params: RunParams, params_file: Path, ds, notebooks: Sequence[str]) -> list[Problem]:
    """Validate the methodology files the listed notebooks read, before anything runs:
    each notebook's module lists what it would refuse (``check_inputs``)."""
    nb_dir = notebook_dir(params, params_file)
    problems: list[Problem] = []
    for mod in _modules(nb_dir, notebooks):
        problems += mod.check_inputs(params, params_file, ds)
    return list(dict.fromkeys(problems))  # one file read by several notebooks reports its problem once


# ------------------------------------------------------------------------ provenance


def sha256(path: Path) -> str:
    from helpers.plan.version import file_sha256

    return file_sha256(path)


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _versions() -> dict[str, str]:
    names = ["kpi-workbook", "pandas", "numpy", "papermill", "nbconvert", "nbclient", "matplotlib", "seaborn",
             "pydantic", "pandera", "pyarrow", "ipykernel"]
    out = {}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            pass
    out["python"] = platform.python_version()
    return out


def run_record(plan: RunPlan, run_id: str, results: list[TaskResult], timings: dict[str, float],
               started: float = 0.0) -> dict[str, Any]:
    """What the manifest keeps of one run: params, SHA-256 of every input, package
    versions, git commit, timings and each task's result."""
    return {
        "run": run_id,
        "period": plan.period.label,
        "language": plan.language,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "params_file": str(plan.params_file),
        "params": plan.params.model_dump(mode="json"),
        "teams": plan.teams,
        "notebooks": plan.notebooks,
        "inputs": {k: {"path": str(p), "sha256": sha256(p), "bytes": p.stat().st_size}
                   for k, p in sorted(plan.input_files.items())},
        "packages": _versions(),
        "git_commit": _git_commit(),
        "jobs": plan.jobs,
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
        "started": round(started, 3),  # wall clock of the run's start (task ``started`` times are relative to it)
        "results": [asdict(r) | {"seconds": round(r.seconds, 3), "started": round(max(0.0, r.started - started), 3)}
                    for r in results],
    }


# ------------------------------------------------------------------------ run


# COMPANY ("_company", from helpers.present.index_page): folder (and task key) of the notebooks
# that run once per period across all teams; the leading underscore keeps it apart from
# every team id (team ids are slugs).


def notebook_scope(path: Path) -> str:
    """``team`` (run per team, the default) or ``period`` (once per period, all teams),
    from the notebook's metadata ``kpi_workbook.scope``."""
    return str(_notebook_meta(path).get("scope", "team"))


def _task(plan: RunPlan, staging: Path, workspace: Path, team: str, nb: str, preload: list[str]) -> Task:
    lang = plan.language
    parts = staging / ".parts" / f"{team}__{nb}"
    if team == COMPANY:
        title = f"{notebook_title(nb, lang)}"
        facts = [[t("report.period", lang), plan.period.label],  # the summary covers every team, not only those run
                 [t("report.scope", lang), t("report.scope.company", lang, n=len(plan.team_names))]]
    else:
        title = f"{notebook_title(nb, lang)} · {plan.team_names.get(team, team)}"
        facts = [[t("report.team", lang), f"{plan.team_names.get(team, team)} ({team})"],
                 [t("report.region", lang), plan.team_regions.get(team, "")],
                 [t("report.period", lang), plan.period.label]]
    meta = {
        "title": title,
        "org": plan.params.title_in(lang),
        "lang": lang,
        "toc_title": t("report.contents", lang),
        "facts": facts + [[t("report.generated", lang), datetime.now().date().isoformat()]],
    }
    return Task(
        team=team,
        notebook=nb,
        input_path=str(plan.notebook_dir / f"{nb}.ipynb"),
        parameters={
            "params_file": str(plan.params_file),
            "team": "" if team == COMPANY else team,
            "period": plan.period.label,
            "language": lang,
            "workspace": str(workspace),
            "output_dir": str(parts),
        },
        work_ipynb=str(staging / ".executed" / f"{team}__{nb}.ipynb"),
        parts_dir=str(parts),
        html_path=str(staging / team / f"{nb}.html"),
        failed_path=str(staging / "failures" / f"{team}__{nb}.ipynb"),
        kernel=plan.params.execution.kernel,
        timeout=plan.params.execution.timeout_seconds,
        cwd=str(plan.notebook_dir),
        meta=meta,
        preload=preload,
    )


def preload_modules(plan: RunPlan) -> list[str]:
    """What the kernel template imports: the workbook's context and chart modules and the
    modules the listed notebooks declare (``kpi_workbook.module``); empty when kernels are
    not forked (``execution.fork_kernels: false``, or a system without ``fork``)."""
    return _preload(plan.params, plan.notebook_dir, plan.notebooks)


def _preload(params: RunParams, nb_dir: Path, notebooks: Sequence[str]) -> list[str]:
    if not params.execution.fork_kernels or not hasattr(os, "fork"):
        return []
    mods = [_notebook_meta(nb_dir / f"{nb}.ipynb").get("module") for nb in notebooks]
    return ["helpers.context.workbook", "helpers.present.plotting", *sorted({str(m) for m in mods if m})]


def build_tasks(plan: RunPlan, staging: Path, workspace: Path) -> list[Task]:
    """One task per period-scoped notebook, then one per team and team-scoped notebook.

    The period-scoped ones (the company-wide summary) are the longest single jobs, so
    they go first: started last, one of them would keep a core busy after the rest."""
    scopes = {nb: notebook_scope(plan.notebook_dir / f"{nb}.ipynb") for nb in plan.notebooks}
    preload = preload_modules(plan)  # the same template for every task: read the notebooks once
    tasks = [_task(plan, staging, workspace, COMPANY, nb, preload) for nb in plan.notebooks if scopes[nb] == "period"]
    tasks += [_task(plan, staging, workspace, team, nb, preload)
              for team in plan.teams for nb in plan.notebooks if scopes[nb] != "period"]
    return tasks


WORKER_MODULES = ("papermill", "nbformat", "helpers.present.report", "helpers.run.kernels", "helpers.run.runner")
"""What a pool worker imports to run a notebook and render its report."""


def pool_context(preload: Sequence[str]) -> Any:
    """Where the run's worker processes come from.

    With forked kernels (``preload``: the template's modules): Python's fork server,
    which imports the libraries of the workers and of the kernel template once
    (:mod:`helpers.run.forkprep` first); the workers and the template are forked from
    it, already imported.  ``run`` starts that server before it reads its data, as a
    fork of itself (:func:`start_fork_server`); elsewhere multiprocessing starts it.
    Without (``execution.fork_kernels: false``, or no fork server on this system): each
    worker starts a fresh Python ("spawn")."""
    if preload and "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(fork_server_modules(preload))
        return ctx
    return mp.get_context("spawn")


def fork_server_modules(preload: Sequence[str]) -> list[str]:
    """What the run's fork server imports: its first module, the libraries of the kernel
    template (``preload``) and of the pool's workers."""
    from helpers.run.kernels import BASE_MODULES

    return list(dict.fromkeys(["helpers.run.forkprep", *BASE_MODULES, "ipykernel.ipkernel", "ipykernel.kernelapp",
                               "helpers.run.kernelstart", *preload, *WORKER_MODULES]))


def _prepare_server(modules: Sequence[str], lang: str) -> None:
    """In the run's fork server, before it serves: import ``modules`` (as
    ``multiprocessing``'s server would: a module that cannot be imported is left out),
    then :func:`warm_reports` for ``lang``.  A warm-up that fails is left to the workers,
    which would do it anyway."""
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    try:
        warm_reports(lang)
    except Exception:  # noqa: BLE001 - never stops the server: each worker builds what it needs
        pass


def start_fork_server(params_file: Path, executor: str | None = None, language: str | None = None) -> bool:
    """Start the run's fork server now, as a fork of this process, when the run will
    want one (local executor, forked kernels): called by ``run`` before it reads its data.
    Once imported, the server builds what every report of the run's ``language`` (or
    the params') reads the same way (:func:`warm_reports`), so that its workers and
    kernels find it built.

    ``multiprocessing`` would start it as a new Python that imports every library of
    the reports (about 2.5 core-seconds); forked from here it keeps what this process
    has imported already and imports only the rest.  Taken only while this process has
    done nothing but import and read its params (no data, no thread); otherwise, or on
    a Python whose fork server works differently, or when the params cannot be read
    (``plan_run`` says why), False and the pool starts its server the usual way.  The
    server is what ``multiprocessing`` would have started: the same ``main`` with the
    same modules, its own copy of the imports, no Python object of this process in use,
    and it ends with this process."""
    import threading
    from multiprocessing import connection, forkserver, resource_tracker

    if "forkserver" not in mp.get_all_start_methods() or threading.active_count() != 1:
        return False
    try:
        params = load_params(params_file)
        ex = executor or params.execution.executor
        preload = _preload(params, notebook_dir(params, params_file), params.notebooks)
        lang = language or params.language
    except Exception:  # noqa: BLE001 - plan_run reads the params again and reports the problem
        return False
    if ex != "local" or not preload:
        return False
    fs = forkserver._forkserver
    if hasattr(fs, "_forkserver_authkey") or not all(
            hasattr(fs, a) for a in ("_lock", "_forkserver_pid", "_forkserver_address", "_forkserver_alive_fd")):
        return False
    modules = fork_server_modules(preload)
    with fs._lock:
        if fs._forkserver_pid is not None:
            return False
        resource_tracker.ensure_running()  # as multiprocessing does first: the workers share its tracker
        inherited = [fd for fd in (fs._forkserver_alive_fd, getattr(resource_tracker._resource_tracker, "_fd", None))
                     if fd is not None]  # another server's and the tracker's: the server holds neither
        import socket

        with socket.socket(socket.AF_UNIX) as listener:
            address = connection.arbitrary_address("AF_UNIX")
            listener.bind(address)
            os.chmod(address, 0o600)
            listener.listen()
            alive_r, alive_w = os.pipe()
            pid = os.fork()
            if pid == 0:  # the server: multiprocessing's own loop, exits when every client is gone
                code = 0
                try:
                    for fd in (alive_w, *inherited):
                        os.close(fd)
                    _prepare_server(modules, lang)
                    forkserver.main(listener.fileno(), alive_r, modules)
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 0
                except BaseException:  # noqa: BLE001 - never back into the caller's code
                    code = 1
                finally:
                    os._exit(code)
            os.close(alive_r)
        fs._forkserver_address = address
        fs._forkserver_alive_fd = alive_w
        fs._forkserver_pid = pid
        fs._preload_modules = modules
        fs._kpi_forked = True  # ours to stop (stop_fork_server)
    return True


def stop_fork_server() -> None:
    """Kill the fork server :func:`start_fork_server` started, if it still runs (the run
    stopped before its pool: bad input, a closed period restated).  It would end with
    the run anyway, but only once its imports are done: until then it would keep the
    run's output pipes open, and a caller reading them would wait for it."""
    import signal
    from multiprocessing import forkserver

    fs = forkserver._forkserver
    pid = getattr(fs, "_forkserver_pid", None)
    if pid is None or not getattr(fs, "_kpi_forked", False):
        return
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (OSError, ChildProcessError):
        pass
    try:
        os.close(fs._forkserver_alive_fd)
    except (OSError, TypeError):
        pass
    fs._forkserver_address = fs._forkserver_alive_fd = fs._forkserver_pid = None
    fs._kpi_forked = False


def _local_pool(plan: RunPlan, jobs: int, ctx: Any) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init, initargs=(os.getpid(),))


def _warm(plan: RunPlan, pool: Executor, jobs: int, template: str = "") -> None:
    """Let every worker get ready now (one warm-up task per worker)."""
    preload = preload_modules(plan)
    for _ in range(jobs):
        pool.submit(warm_up, preload, template, plan.language)


def _n_tasks(plan: RunPlan) -> int:
    return len(plan.teams) * len(plan.notebooks)


class StartedPool:
    """A local pool started as soon as the plan is known (:func:`start_pool`): its
    workers start their kernel templates while the run still checks its inputs (the
    gate, the results store), so the first notebook does not wait for them.  Nothing
    runs in it before :func:`execute` takes it; :meth:`discard` kills it when the run
    stops before (bad input, a closed period that is restated instead)."""

    def __init__(self, plan: RunPlan):
        from helpers.run import kernels

        jobs = max(1, min(plan.jobs, _n_tasks(plan)))
        preload = preload_modules(plan)
        ctx = pool_context(preload)
        self.template: kernels.SharedTemplate | None = None
        if preload:  # one kernel template for all the workers, started beside them
            try:
                self.template = kernels.SharedTemplate(sys.executable, preload, jobs, ctx)
            except OSError:
                self.template = None  # each worker starts its own
        self.executor = _local_pool(plan, jobs, ctx)
        self.taken = False
        _warm(plan, self.executor, jobs, self.socket)

    @property
    def socket(self) -> str:
        """Where the workers ask for kernels ("" when they start their own template)."""
        return self.template.path if self.template is not None else ""

    def close_template(self) -> None:
        if self.template is not None:
            self.template.close()

    def discard(self) -> None:
        if self.taken:
            return
        self.taken = True
        _kill_descendants()  # the workers and the template: nothing of theirs is needed
        # wait=True: the pool's manager thread, seeing its workers killed, closes the pool's
        # pipes itself; returning before it is done let the process's exit close them under
        # it (Python 3.11: "OSError: Bad file descriptor" in terminate_broken, a traceback on
        # a refused run's stderr, seen once in the bad-input corpus).  The workers are dead,
        # so the wait is over at once.
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.close_template()


def start_pool(plan: RunPlan) -> StartedPool | None:
    """The run's local pool, started now (None for the dask executor, whose workers are
    the cluster's)."""
    return StartedPool(plan) if plan.executor != "dask" else None


@contextmanager
def task_pool(plan: RunPlan, n_tasks: int, started: StartedPool | None = None) -> Iterator[Executor]:
    """Where the notebook jobs run, as a ``concurrent.futures`` executor.

    ``local``: a pool of ``jobs`` spawned processes on this machine.  ``dask``: the
    workers of the Dask distributed scheduler at ``plan.scheduler`` (every worker must
    import ``helpers``, have the Jupyter kernel, and see the output folder and the
    notebooks at the same paths: a shared filesystem), or, without an address, a local
    Dask cluster of ``jobs`` single-threaded worker processes.  A scheduler that cannot
    be reached is bad input (exit 2), raised before anything is written.
    """
    jobs = max(1, min(plan.jobs, n_tasks))
    if plan.executor != "dask":
        if started is None or started.taken:
            started = StartedPool(plan)
        started.taken = True
        try:
            with started.executor as pool:
                yield pool
        finally:
            started.close_template()
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError(Problem("--executor", "dask is not installed",
                                 fix='pip install -e ".[dask]" (dask[distributed])')) from None
    cluster = None
    try:
        if plan.scheduler:
            client = Client(plan.scheduler, timeout=plan.params.execution.connect_timeout_seconds)
        else:
            cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
            client.run(_quiet_worker)  # our own workers: kernel chatter must not cut through the progress bar
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise InputError(Problem("--scheduler", f"cannot reach the Dask scheduler at {plan.scheduler}: "
                                 f"{str(exc).splitlines()[0][:200]}",
                                 fix="start it (dask scheduler; dask worker ADDRESS) or check the address")) from None
    try:
        with client.get_executor(pure=False) as pool:
            yield pool
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _result(fut: Future, task: Task) -> TaskResult:
    """The task's result, or a failure when its worker died (killed, out of memory)."""
    try:
        return fut.result()
    except Exception as exc:  # the worker, not the notebook, failed: record it like a failed notebook
        Path(task.failed_path).parent.mkdir(parents=True, exist_ok=True)
        Path(task.failed_path).write_text(f"worker failed: {type(exc).__name__}: {exc}\n", encoding="utf-8")
        return TaskResult(task.team, task.notebook, False, 0.0, error=f"worker failed: {type(exc).__name__}: {exc}"[:300])


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a run: every notebook run is stopped.  ``published`` is
    true only when the interruption came while the finished run was being published
    (its publish journal was then carried out to the end)."""

    def __init__(self, published: bool = False):
        super().__init__()
        self.published = published


def _raise_interrupted(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
    raise Interrupted()


def _kill_descendants() -> None:
    """Kill every process this one started (pool workers, their kernels): none may outlive the run.

    Python's own multiprocessing resource tracker is left alone: it exits with this
    process, and killing it early makes multiprocessing print a traceback."""
    from multiprocessing import resource_tracker

    import psutil

    keep = {getattr(resource_tracker._resource_tracker, "_pid", None)}
    try:
        direct = {c.pid for c in psutil.Process().children()}
        children = [c for c in psutil.Process().children(recursive=True) if c.pid not in keep]
    except psutil.Error:
        return
    # this process's own children first: a worker killed cannot start a kernel in place of
    # one it saw die an instant earlier
    children.sort(key=lambda c: c.pid not in direct)
    for child in children:
        try:
            child.kill()
        except psutil.Error:
            pass
    # This process's own children (the pool's workers) are waited for without being reaped
    # (WNOWAIT): their exit status is left to the pool, which reaps them itself.  Reaped here
    # (psutil's wait), multiprocessing could no longer see them end: its pool manager thread
    # would take them for alive and spin at 100 % CPU in its shutdown, and the process would
    # never exit (seen when a run was refused by the gate while its workers were starting).
    waitid = getattr(os, "waitid", None)
    if waitid is not None:
        for pid in direct - keep:
            try:
                waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
            except (ChildProcessError, OSError):
                pass  # already reaped by its owner
        children = [c for c in children if c.pid not in direct]
    _wait_dead(children, timeout=5)


def _wait_dead(procs: list, timeout: float) -> None:
    """Wait until each of ``procs`` (killed, not this process's children) has ended: gone,
    or a zombie — dead, only not yet reaped by whoever adopted it (psutil's wait would
    wait for the reaping too, which an init process may do a second later)."""
    import psutil

    end = time.monotonic() + timeout
    left = list(procs)
    while left and time.monotonic() < end:
        still = []
        for p in left:
            try:
                if p.status() != psutil.STATUS_ZOMBIE:
                    still.append(p)
            except psutil.Error:  # gone
                pass
        left = still
        if left:
            time.sleep(0.01)


def execute(plan: RunPlan, ds, progress: bool = True, log=print, record: Any = None,
            started: StartedPool | None = None) -> tuple[int, Path, list[TaskResult]]:
    """Run the plan; returns (exit code, period folder, results).

    Raises :class:`InputError` (nothing written) when the executor cannot start or the
    output folder is held by another run, and :class:`Interrupted` on Ctrl-C/SIGTERM
    (every worker and kernel is killed, nothing of the run is published).  ``record``:
    the snapshot of the results store the notebooks read
    (:class:`helpers.context.record.Snapshot`); ``started``: the pool
    :func:`start_pool` started early, if any."""
    import signal

    from helpers.run.publish import JOURNAL_PREFIX, clean_leftovers, output_lock

    previous = signal.signal(signal.SIGTERM, _raise_interrupted) if _main_thread() else None
    try:
        if plan.executor != "dask" and (started is None or started.taken):
            started = StartedPool(plan)
        template = started.socket if started is not None else ""
        with task_pool(plan, _n_tasks(plan), started) as pool:
            with output_lock(plan.out_root, plan.wait, plan.command, log):
                clean_leftovers(plan.out_root, log)
                try:
                    return _execute(plan, ds, pool, progress, log, record, template)
                except KeyboardInterrupt:
                    _kill_descendants()  # before the pool's exit, which would wait for running notebooks
                    pool.shutdown(wait=False, cancel_futures=True)
                    finished = clean_leftovers(plan.out_root, lambda _: None)  # this run's staging, or its journal
                    raise Interrupted(published=any(n.startswith(JOURNAL_PREFIX) for n in finished)) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _submit_as_ready(plan: RunPlan, workspace: Path, tasks: list[Task], pool: Executor,
                     timings: dict[str, float], log) -> dict[Future, Task]:
    """Submit every task, each as soon as the shared results its notebook reads are in the
    workspace: the notebooks that read none start at once, and the others start while
    the rest is still being prepared here (the cores do not wait for the slowest
    preparation).  Within what is ready, tasks keep the order of :func:`build_tasks`."""
    from helpers.context.workbook import open_team, share_teams

    providers, needs = shared_needs(plan)
    ready: set[str] = set()
    futures: dict[Future, Task] = {}
    pending = list(tasks)

    def submit() -> None:
        for tk in [tk for tk in pending if needs.get(tk.notebook, set()) <= ready]:
            futures[pool.submit(run_task, tk)] = tk
            pending.remove(tk)

    submit()
    spent = 0.0
    teams = list(dict.fromkeys(tk.team for tk in tasks if tk.team and tk.team != COMPANY))
    if teams:  # each team's rows, read once for its notebooks (those started already read their own)
        t0 = time.perf_counter()
        try:
            share_teams(plan.params_file, workspace, teams, plan.period.label)
        except Exception:  # noqa: BLE001 - each notebook reads its team's rows itself, and says what is wrong
            pass
        spent += time.perf_counter() - t0
    if providers:
        t0 = time.perf_counter()
        ctx = open_team(plan.params_file, "", plan.period.label, workspace, plan.language, "")
        spent += time.perf_counter() - t0
        for kind, prepare in providers.items():
            t0 = time.perf_counter()
            prepare_shared(plan, workspace, kind, prepare, ctx, log)  # a failure: the notebooks compute it
            spent += time.perf_counter() - t0
            ready.add(kind)
            submit()
    timings["precompute"] = spent
    return futures


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _execute(plan: RunPlan, ds, pool: Executor, progress: bool, log, record: Any = None,
             template: str = "") -> tuple[int, Path, list[TaskResult]]:
    from tqdm import tqdm

    from helpers.present.index_page import index_html
    from helpers.run.publish import journal_path, merge, new_run_id, publish, read_manifest
    from helpers.context.workbook import prepare_workspace

    timings: dict[str, float] = {}
    out_root = plan.out_root
    label = plan.period.label
    run_id = new_run_id()
    staging = out_root / f".staging-{label}-{run_id}"
    workspace = out_root / f".work-{label}-{run_id}"
    results: list[TaskResult] = []
    try:
        t0 = time.perf_counter()
        prepare_workspace(plan.params, plan.params_file, workspace, ds)
        if record is not None:
            from helpers.context.record import put_snapshot

            put_snapshot(workspace, plan.period, record)
        timings["prepare_workspace"] = time.perf_counter() - t0
        tasks = build_tasks(plan, staging, workspace)
        for tk in tasks:
            tk.template = template  # the run's shared kernel template, if it has one
            Path(tk.html_path).parent.mkdir(parents=True, exist_ok=True)
            Path(tk.work_ipynb).parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        bar = tqdm(total=len(tasks), desc=f"kpi-workbook {label}", unit="nb", disable=not progress, file=sys.stderr)
        t_submit = time.time()
        futures = _submit_as_ready(plan, workspace, tasks, pool, timings, log)
        try:
            for fut in as_completed(futures):
                results.append(_result(fut, futures[fut]))
                bar.update()
        finally:
            bar.close()
        timings["notebooks"] = time.perf_counter() - t0
        order = {(tk.team, tk.notebook): i for i, tk in enumerate(tasks)}
        results.sort(key=lambda r: order[(r.team, r.notebook)])
        old = read_manifest(out_root / label)
        labels = {tm: (plan.team_names.get(tm, tm), plan.team_regions.get(tm, "")) for tm in plan.team_names}
        import psutil

        process_start = psutil.Process().create_time()  # the timeline of the run starts with its command
        timings["before_notebooks"] = t_submit - process_start
        manifest, moves, removes = merge(old, results, run_id, run_record(plan, run_id, results, timings,
                                                                           process_start),
                                         labels, plan.language)
        rec = None
        if record is not None:
            from helpers.run.lifecycle import index_record

            rec = index_record(manifest, [staging, out_root / label], record.signoffs, record.period_closed,
                               record.closed_at)
        html = index_html(manifest, plan.language, plan.params.title_in(plan.language), plan.notebooks, rec)
        final = publish(out_root, label, staging, run_id, manifest, moves, removes, html)
    except KeyboardInterrupt:
        _kill_descendants()  # before the staging folder goes: no worker may write into it afterwards
        raise
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
        if not journal_path(out_root, label, run_id).exists():  # else the journal still needs it (rolled forward)
            shutil.rmtree(staging, ignore_errors=True)
    failed = [r for r in results if not r.ok]
    log(t("index.summary", plan.language, ok=len(results) - len(failed), failed=len(failed)) + f" → {final / 'index.html'}")
    for r in failed:
        kept = "" if not (final / r.team / f"{r.notebook}.html").exists() else \
            f"; the earlier report {final / r.team / f'{r.notebook}.html'} stays published, marked stale"
        log(f"FAILED {r.team}/{r.notebook}: {r.error} (executed copy: {final / 'failures' / f'{r.team}__{r.notebook}.ipynb'}{kept})")
    return (1 if failed else 0), final, results
