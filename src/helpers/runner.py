"""Run the workbook: every listed notebook for every team, in parallel, to HTML.

Order of work (nothing is written to the output folder before step 4):

1. load and validate the params, the period, the notebooks and the teams;
2. load and validate the data (the demo is generated on first use);
3. prepare the shared workspace once (tables and KPI actuals as Parquet);
4. execute each (team, notebook) with papermill in a process pool — explicit
   kernel, absolute working folder, execution timeout — and render HTML with the
   report template in the same worker;
5. write ``index.html`` and ``manifest.json``; publish the whole period folder
   by renaming it into place (the previous reports stay intact until then).

A failed notebook is never published: its executed copy goes to
``<period>/failures/``, the end summary names it, the other teams continue, and the
exit code is 1.  Bad input exits with 2 before anything runs.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import platform
import shutil
import subprocess
import sys
import time
import traceback
import uuid
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator, Sequence

from jinja2 import Environment, select_autoescape

from helpers.errors import InputError, Problem
from helpers.i18n import t
from helpers.params import SLUG, RunParams, load_params, resolve
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


@dataclass
class TaskResult:
    team: str
    notebook: str
    ok: bool
    seconds: float
    error: str = ""
    artifacts: list[str] = field(default_factory=list)


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


# ------------------------------------------------------------------------ worker side

_EXPORTERS: dict[str, Any] = {}


def _exporter(lang: str):
    from helpers.report import make_exporter

    if lang not in _EXPORTERS:
        _EXPORTERS[lang] = make_exporter(lang)
    return _EXPORTERS[lang]


def _last_error_line(nb_path: str, exc: BaseException) -> str:
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = str(getattr(exc, "evalue", exc)).strip().splitlines()
    return f"{ename}: {evalue[-1] if evalue else ''}"[:300]


def _quiet_worker() -> None:
    """Pool initializer: kernels inherit this worker's stderr; their start-up chatter
    (e.g. ipykernel's transport warning) must not mix with the progress bar.  Errors
    are still reported: a failed notebook keeps its executed copy and error line."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


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
    import nbformat
    import papermill as pm

    from helpers.atomic import write_text_atomic
    from helpers.report import render_html

    start = time.perf_counter()
    Path(task.parts_dir).mkdir(parents=True, exist_ok=True)
    try:
        for attempt in range(1, KERNEL_ATTEMPTS + 1):
            try:
                pm.execute_notebook(
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
                )
                break
            except Exception as exc:  # noqa: BLE001 - sorted just below
                if _is_notebook_error(exc) or attempt == KERNEL_ATTEMPTS:
                    raise
                shutil.rmtree(task.parts_dir, ignore_errors=True)  # start the retry clean
                Path(task.parts_dir).mkdir(parents=True, exist_ok=True)
        nb = nbformat.read(task.work_ipynb, as_version=4)
        html = render_html(nb, task.meta, _exporter(task.meta.get("lang", "zh")))
        write_text_atomic(Path(task.html_path), html)
        arts = sorted(p.name for p in Path(task.parts_dir).iterdir() if p.is_file() and not p.name.startswith("."))
        for name in arts:
            os.replace(Path(task.parts_dir) / name, Path(task.html_path).parent / name)
        return TaskResult(task.team, task.notebook, True, time.perf_counter() - start, artifacts=arts)
    except Exception as exc:  # a failing notebook must not stop the others
        Path(task.failed_path).parent.mkdir(parents=True, exist_ok=True)
        if Path(task.work_ipynb).exists():
            shutil.copyfile(task.work_ipynb, task.failed_path)
        else:
            Path(task.failed_path).write_text(traceback.format_exc(), encoding="utf-8")
        return TaskResult(task.team, task.notebook, False, time.perf_counter() - start,
                          error=_last_error_line(task.work_ipynb, exc))
    finally:
        shutil.rmtree(task.parts_dir, ignore_errors=True)


# ------------------------------------------------------------------------ planning


def notebook_dir(params: RunParams, params_file: Path) -> Path:
    return resolve(params_file, params.notebook_folder)


def plan_run(
    params_file: str | Path,
    period: str | None = None,
    teams: Sequence[str] | None = None,
    jobs: int | None = None,
    out: str | Path | None = None,
    language: str | None = None,
    executor: str | None = None,
    scheduler: str | None = None,
):
    """Validate everything and load the data; returns (plan, dataset).  No writes
    except the demo data on first use."""
    from helpers.workbook import load_run_data

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
    nb_dir = notebook_dir(params, params_file)
    problems = []
    for name in params.notebooks:
        if not (nb_dir / f"{name}.ipynb").is_file():
            known = ", ".join(sorted(p.stem for p in nb_dir.glob("*.ipynb"))) or "none"
            problems.append(Problem(str(params_file), f"notebook '{name}' not found in {nb_dir}",
                                    where="key 'notebooks'", fix=f"use one of: {known}"))
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
    out_root = Path(out) if out else resolve(params_file, params.output.folder)
    n_jobs = jobs or params.execution.jobs or os.cpu_count() or 1
    inputs = {f"data/{k}": Path(v) for k, v in ds.files.items() if Path(v).exists()}
    for i, p in enumerate(getattr(ds, "inputs", [])):  # a source mapping: the mapping and every file it read
        inputs[f"source/{i}"] = Path(p)
    inputs["params"] = params_file.resolve()
    plan = RunPlan(params, params_file.resolve(), per, lang, wanted, names, regions, list(params.notebooks), nb_dir,
                   out_root.resolve(), max(1, int(n_jobs)), inputs, ex, sched)
    return plan, ds


NOTEBOOK_CHECKS: dict[str, tuple[str, ...]] = {
    "01_target_setting": ("helpers.targetlab",),
    "02_kpi_decomposition": ("helpers.strategy",),
    "03_weighting_scenarios": ("helpers.scenarios",),
    "04_quarterly_review": ("helpers.quarterly", "helpers.targetlab", "helpers.scenarios"),
    "05_leadership_summary": ("helpers.quarterly", "helpers.targetlab", "helpers.scenarios"),
}
"""Which methodology checks a notebook needs: each module's ``check(params, params_file)``."""


PRECOMPUTE: dict[str, tuple[str, ...]] = {
    "01_target_setting": ("targets",),
    "04_quarterly_review": ("scores",),
    "05_leadership_summary": ("targets", "scores"),
}
"""Company-wide results a notebook needs that are the same for every team: computed
once per run by :func:`precompute` instead of once per team notebook."""


def precompute(plan: RunPlan, workspace: Path) -> list[str]:
    """Compute the company-wide results the listed notebooks share and store them in
    the workspace cache (:func:`helpers.workbook.cache_put`): the target lab (every
    manager's targets, SMART flags, backtest) and the period's company scores.

    Returns what was stored.  A failure here stores nothing and is not reported: each
    notebook then computes the result itself and fails on its own, with its error in
    its executed copy, while the other notebooks go on (fault isolation)."""
    from helpers import quarterly, targetlab
    from helpers.workbook import cache_key, cache_put, open_team

    needs = {k for nb in plan.notebooks for k in PRECOMPUTE.get(nb, ())}
    done: list[str] = []
    if not needs:
        return done
    try:
        ctx = open_team(plan.params_file, "", plan.period.label, workspace, plan.language, "")
        if "targets" in needs:
            key = cache_key("targets", plan.period, plan.language)
            engine, *rest = targetlab.company_targets(ctx, plan.params_file, workspace)
            by_team = engine.roster(plan.period.period).groupby("team_id")["manager_id"].agg(list).to_dict()
            members = {team: by_team.get(team, []) for team in plan.teams}
            for team, part in engine.team_slices(members):  # each team notebook reads its own managers only
                cache_put(workspace, key, part, part=team)
            cache_put(workspace, key, (engine.sliced(()), *rest))  # written last: it marks the cache complete
            done.append(key)
        if "scores" in needs:
            key = cache_key("scores", plan.period)
            cache_put(workspace, key, quarterly.company_scores(ctx, plan.params_file, workspace, roster=ctx.roster))
            done.append(key)
    except Exception:  # noqa: BLE001 - the notebooks recompute and report it
        pass
    return done


def methodology_problems(params: RunParams, params_file: Path, ds, notebooks: Sequence[str]) -> list[Problem]:
    """Validate the methodology files the listed notebooks read, before anything runs."""
    import importlib

    modules = {m for nb in notebooks for m in NOTEBOOK_CHECKS.get(nb, ())}
    problems: list[Problem] = []
    for name in sorted(modules):
        mod = importlib.import_module(name)
        if name == "helpers.strategy":
            problems += mod.check(params, params_file, ds.team_regions())
        elif name == "helpers.targetlab":
            problems += mod.check(params, params_file, tables=set(ds.tables))
        else:
            problems += mod.check(params, params_file)
    return problems


# ------------------------------------------------------------------------ publishing


def recover(out_root: Path, label: str) -> None:
    """Undo a publish interrupted between its two renames (crash safety)."""
    final, previous = out_root / label, out_root / f".previous-{label}"
    if previous.exists() and not final.exists():
        os.replace(previous, final)
    shutil.rmtree(previous, ignore_errors=True)
    for pattern in (f".staging-{label}-*", f".work-{label}-*"):
        for stale in out_root.glob(pattern):
            shutil.rmtree(stale, ignore_errors=True)


def publish(staging: Path, out_root: Path, label: str) -> Path:
    """Swap the finished staging folder in for ``out_root/label``."""
    final, previous = out_root / label, out_root / f".previous-{label}"
    if final.exists():
        os.replace(final, previous)
    os.replace(staging, final)
    shutil.rmtree(previous, ignore_errors=True)
    return final


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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


# The index's one script: a filter box over the team rows (no data leaves the page).
# It is allowed by its sha256 in the page's Content-Security-Policy, nothing else runs.
INDEX_SCRIPT = """
const box = document.getElementById("kpi-filter"), failed = document.getElementById("kpi-only-failed");
function apply() {
  const q = box.value.trim().toLowerCase(), onlyFailed = failed && failed.checked;
  for (const body of document.querySelectorAll("#reports tbody")) {
    let shown = 0;
    for (const tr of body.querySelectorAll("tr[data-team]")) {
      const hit = (!q || tr.dataset.search.includes(q)) && (!onlyFailed || tr.dataset.failed === "1");
      tr.hidden = !hit; shown += hit;
    }
    body.querySelector("tr.kpi-group").hidden = shown === 0;
  }
}
box.addEventListener("input", apply);
if (failed) failed.addEventListener("change", apply);
"""

INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src '{{ script_hash }}'">
<title>{{ title }} · {{ period }}</title>
<style>{{ css | safe }}
.kpi-tools {display:flex; flex-wrap:wrap; gap:0.6em 1.4em; align-items:center; margin:0.8em 0;}
.kpi-tools input[type=search] {font-size:1em; padding:0.3em 0.5em; min-width:16em;}
.kpi-regions a {margin-right:0.9em; white-space:nowrap;}
tr.kpi-group th {text-align:left; background:#eef2f6;}</style></head>
<body class="kpi-report">
<header class="kpi-title"><div class="kpi-org">{{ title }}</div><h1 class="kpi-h1">{{ heading }}</h1>
<dl class="kpi-meta">{% for k, v in facts %}<div><dt>{{ k }}</dt><dd>{{ v }}</dd></div>{% endfor %}</dl></header>
<main>
<p>{{ summary }}</p>
{% if cross %}<h2>{{ cross_title }}</h2><ul>{% for label, href in cross %}<li>{% if href %}<a href="{{ href }}">{{ label }}</a>{% else %}<span class="kpi-flag">{{ label }}</span>{% endif %}</li>{% endfor %}</ul>{% endif %}
<h2>{{ teams_title }}</h2>
<div class="kpi-tools">
<label>{{ filter_label }} <input type="search" id="kpi-filter" placeholder="{{ filter_placeholder }}" autocomplete="off"></label>
{% if team_failed %}<label><input type="checkbox" id="kpi-only-failed"> {{ only_failed_label }}</label>{% endif %}
</div>
{% if groups | length > 1 %}<nav class="kpi-regions">{% for g in groups %}<a href="#{{ g.anchor }}">{{ g.region }} ({{ g.rows | length }})</a>{% endfor %}</nav>{% endif %}
<table class="kpi-table" id="reports">
<thead><tr><th>{{ col_region }}</th><th>{{ col_team }}</th>{% for nb in notebooks %}<th>{{ nb.title }}</th>{% endfor %}</tr></thead>
{% for g in groups %}<tbody>
<tr class="kpi-group" id="{{ g.anchor }}"><th colspan="{{ notebooks | length + 2 }}">{{ g.region }} · {{ g.count_label }}</th></tr>
{% for row in g.rows %}<tr data-team="{{ row.team }}" data-search="{{ row.search }}" data-failed="{{ 1 if row.failed else 0 }}"><td class="text">{{ row.region }}</td><td class="text">{{ row.name }} <span class="kpi-note">{{ row.team }}</span></td>
{% for cell in row.cells %}<td class="text">{% if cell.ok %}<a href="{{ cell.href }}">{{ ok_label }}</a>{% else %}<span class="kpi-flag">{{ failed_label }}</span>{% endif %}</td>{% endfor %}</tr>
{% endfor %}</tbody>
{% endfor %}</table>
{% if failed %}<p class="kpi-note">{{ failed_note }}</p>{% endif %}
</main>
<script>{{ script | safe }}</script></body></html>
"""


def script_hash(script: str) -> str:
    """CSP source expression allowing exactly this inline script: ``sha256-`` + base64(SHA-256(UTF-8 text))
    (W3C Content Security Policy Level 3, section 8.4 "hash-source")."""
    import base64

    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


def write_index(plan: RunPlan, results: list[TaskResult], staging: Path) -> None:
    """``index.html``: cross-team reports, then every team grouped by region with a link per
    report, a filter box (team, id or region) and, when a team report failed, a "failed only" switch."""
    from helpers.atomic import write_text_atomic
    from helpers.report import _css

    lang = plan.language
    status = {(r.team, r.notebook): r for r in results}
    per_team = [nb for nb in plan.notebooks if (COMPANY, nb) not in status]
    cross = [(_nb_title(nb, lang) + ("" if status[(COMPANY, nb)].ok else f" ({t('index.failed', lang)})"),
              f"{COMPANY}/{nb}.html" if status[(COMPANY, nb)].ok else "")  # a failed report is not published
             for nb in plan.notebooks if (COMPANY, nb) in status]
    groups: dict[str, list[dict]] = {}
    for team in plan.teams:
        cells = []
        for nb in per_team:
            r = status.get((team, nb))
            cells.append({"ok": bool(r and r.ok), "href": f"{team}/{nb}.html"})
        name, region = plan.team_names.get(team, team), plan.team_regions.get(team, "")
        groups.setdefault(region, []).append({
            "team": team, "name": name, "region": region, "cells": cells,
            "failed": not all(c["ok"] for c in cells),
            "search": " ".join([team, name, region]).lower(),
        })
    n_ok = sum(r.ok for r in results)
    n_failed = len(results) - n_ok
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    html = env.from_string(INDEX_TEMPLATE).render(
        lang=lang,
        title=plan.params.title_in(lang),
        heading=t("index.title", lang),
        period=plan.period.label,
        css=_css(),
        script=INDEX_SCRIPT,
        script_hash=script_hash(INDEX_SCRIPT),
        facts=[(t("report.period", lang), plan.period.label), (t("report.generated", lang), datetime.now().date().isoformat())],
        summary=t("index.summary", lang, ok=n_ok, failed=n_failed),
        notebooks=[{"title": _nb_title(nb, lang)} for nb in per_team],
        groups=[{"region": region or "—", "anchor": f"region-{i + 1}", "rows": rows,
                 "count_label": t("index.teams_in_region", lang, n=len(rows))}
                for i, (region, rows) in enumerate(groups.items())],
        ok_label=t("index.ok", lang),
        failed_label=t("index.failed", lang),
        failed=n_failed > 0,
        team_failed=any(row["failed"] for rows in groups.values() for row in rows),
        failed_note=t("index.failed_note", lang),
        col_region=t("report.region", lang),
        col_team=t("report.team", lang),
        cross=cross,
        cross_title=t("index.cross_team", lang),
        teams_title=t("index.teams", lang),
        filter_label=t("index.filter", lang),
        filter_placeholder=t("index.filter_placeholder", lang),
        only_failed_label=t("index.only_failed", lang),
    )
    write_text_atomic(staging / "index.html", html)


def _nb_title(nb: str, lang: str) -> str:
    try:
        return t(f"notebook.{nb}", lang)
    except KeyError:
        return nb


def write_manifest(plan: RunPlan, results: list[TaskResult], staging: Path, timings: dict[str, float]) -> None:
    from helpers.atomic import write_text_atomic

    manifest = {
        "tool": "kpi-workbook",
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
        "results": [asdict(r) | {"seconds": round(r.seconds, 3)} for r in results],
    }
    write_text_atomic(staging / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))


# ------------------------------------------------------------------------ run


COMPANY = "_company"
"""Folder (and task key) of the notebooks that run once per period across all teams;
the leading underscore keeps it apart from every team id (team ids are slugs)."""


def notebook_scope(path: Path) -> str:
    """``team`` (run per team, the default) or ``period`` (once per period, all teams),
    from the notebook's metadata ``kpi_workbook.scope``."""
    import json as _json

    meta = _json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    return str(meta.get("kpi_workbook", {}).get("scope", "team"))


def _task(plan: RunPlan, staging: Path, workspace: Path, team: str, nb: str) -> Task:
    lang = plan.language
    parts = staging / ".parts" / f"{team}__{nb}"
    if team == COMPANY:
        title = f"{_nb_title(nb, lang)}"
        facts = [[t("report.period", lang), plan.period.label],
                 [t("report.team", lang), str(len(plan.teams))]]
    else:
        title = f"{_nb_title(nb, lang)} · {plan.team_names.get(team, team)}"
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
    )


def build_tasks(plan: RunPlan, staging: Path, workspace: Path) -> list[Task]:
    """One task per period-scoped notebook, then one per team and team-scoped notebook.

    The period-scoped ones (the company-wide summary) are the longest single jobs, so
    they go first: started last, one of them would keep a core busy after the rest."""
    scopes = {nb: notebook_scope(plan.notebook_dir / f"{nb}.ipynb") for nb in plan.notebooks}
    tasks = [_task(plan, staging, workspace, COMPANY, nb) for nb in plan.notebooks if scopes[nb] == "period"]
    tasks += [_task(plan, staging, workspace, team, nb)
              for team in plan.teams for nb in plan.notebooks if scopes[nb] != "period"]
    return tasks


@contextmanager
def task_pool(plan: RunPlan, n_tasks: int) -> Iterator[Executor]:
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
        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn"),
                                 initializer=_quiet_worker) as pool:
            yield pool
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


def execute(plan: RunPlan, ds, progress: bool = True, log=print) -> tuple[int, Path, list[TaskResult]]:
    """Run the plan; returns (exit code, published folder, results).  Raises
    :class:`InputError` (nothing written) when the executor cannot start."""
    with task_pool(plan, len(plan.teams) * len(plan.notebooks)) as pool:
        return _execute(plan, ds, pool, progress, log)


def _execute(plan: RunPlan, ds, pool: Executor, progress: bool, log) -> tuple[int, Path, list[TaskResult]]:
    from tqdm import tqdm

    from helpers.workbook import prepare_workspace

    timings: dict[str, float] = {}
    out_root = plan.out_root
    out_root.mkdir(parents=True, exist_ok=True)
    label = plan.period.label
    recover(out_root, label)
    run_id = uuid.uuid4().hex[:8]
    staging = out_root / f".staging-{label}-{run_id}"
    workspace = out_root / f".work-{label}-{run_id}"
    try:
        t0 = time.perf_counter()
        prepare_workspace(plan.params, plan.params_file, workspace, ds)
        timings["prepare_workspace"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        precompute(plan, workspace)
        timings["precompute"] = time.perf_counter() - t0
        tasks = build_tasks(plan, staging, workspace)
        for tk in tasks:
            Path(tk.html_path).parent.mkdir(parents=True, exist_ok=True)
            Path(tk.work_ipynb).parent.mkdir(parents=True, exist_ok=True)
        results: list[TaskResult] = []
        t0 = time.perf_counter()
        bar = tqdm(total=len(tasks), desc=f"kpi-workbook {label}", unit="nb", disable=not progress, file=sys.stderr)
        futures = {pool.submit(run_task, tk): tk for tk in tasks}
        for fut in as_completed(futures):
            results.append(_result(fut, futures[fut]))
            bar.update()
        bar.close()
        timings["notebooks"] = time.perf_counter() - t0
        order = {(tk.team, tk.notebook): i for i, tk in enumerate(tasks)}
        results.sort(key=lambda r: order[(r.team, r.notebook)])
        shutil.rmtree(staging / ".parts", ignore_errors=True)
        shutil.rmtree(staging / ".executed", ignore_errors=True)
        for team in [*plan.teams, COMPANY]:  # a team whose every notebook failed leaves no empty folder
            d = staging / team
            if d.exists() and not any(d.iterdir()):
                d.rmdir()
        write_index(plan, results, staging)
        write_manifest(plan, results, staging, timings)
        final = publish(staging, out_root, label)
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
    failed = [r for r in results if not r.ok]
    log(t("index.summary", plan.language, ok=len(results) - len(failed), failed=len(failed)) + f" → {final / 'index.html'}")
    for r in failed:
        log(f"FAILED {r.team}/{r.notebook}: {r.error} (executed copy: {final / 'failures' / f'{r.team}__{r.notebook}.ipynb'})")
    return (1 if failed else 0), final, results
