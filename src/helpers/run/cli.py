"""``kpi-workbook``: the command line.

    kpi-workbook demo [--out DIR] [--jobs N]
    kpi-workbook run PARAMS.yaml [--period 2026Q3] [--team ID ...] [--jobs N] [--out DIR]
                     [--executor local|dask] [--scheduler ADDRESS] [--wait SECONDS]
    kpi-workbook validate PARAMS.yaml
    kpi-workbook map FOLDER [--out MAPPING.yaml] [--params PARAMS.yaml] [--force]
    kpi-workbook close PERIOD [--params PARAMS.yaml] [--out DIR] [--by NAME] [--force REASON]
    kpi-workbook signoff PERIOD MANAGER [--status signed|refused] [--date YYYY-MM-DD] [--version V]
    kpi-workbook history MANAGER [--params PARAMS.yaml] [--out DIR]
    kpi-workbook notebooks --out DIR [--language en|zh] [--params PARAMS.yaml] [--force]

``map`` drafts a source mapping (params/sources/<folder>.yaml) and run parameters
(params/<folder>.yaml) from a folder of exports, and prints the questions it could not
decide; ``validate`` on the drafted params is the next step.  ``notebooks`` writes the
workbook notebooks with their prose in one language, for reading and running them in
JupyterLab (the reports take each language's text whatever the notebooks show).

Exit codes: 0 done; 1 some notebook failed (the others are published, its earlier
report stays); 2 bad input or the output folder is held by another run (one line per
problem, no traceback, nothing written to the output folder); 130 interrupted (nothing
of the run published).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from helpers.errors import InputError, Problem
from helpers.files import printable

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Customer-manager performance workbook (客户经理绩效管理): run, validate, demo, map.")

DEMO_PARAMS = Path(__file__).resolve().parents[3] / "params" / "demo.yaml"
PARAMS_DIR = DEMO_PARAMS.parent


def _fail(exc: InputError) -> None:
    # a methodology file read by several checks (e.g. indicators.yaml) reports its problem once
    lines = list(dict.fromkeys(printable(str(p)) for p in exc.problems))
    for line in lines:
        typer.echo(f"error: {line}", err=True)
    typer.echo(f"{len(lines)} problem(s) found; nothing was run or written.", err=True)
    raise typer.Exit(2)


def _run(params: Path, period: str | None, team: list[str] | None, jobs: int | None, out: Path | None,
         language: str | None, progress: bool, executor: str | None = None, scheduler: str | None = None,
         wait: float = 0.0) -> int:
    from helpers.run.runner import Interrupted, execute, plan_run, start_fork_server, start_pool, stop_fork_server

    command = " ".join(["kpi-workbook", *sys.argv[1:]])[:300]
    started = None
    start_fork_server(params, executor, language)  # before the data is read: a fork of this process, its imports kept
    try:
        plan, ds = plan_run(params, period=period, teams=team, jobs=jobs, out=out, language=language,
                            executor=executor, scheduler=scheduler, wait=wait, command=command)
        from helpers.run.lifecycle import known_closed

        # the pool's workers get ready while the gate runs (killed if the run stops here); a
        # closed period is restated without notebooks: no pool
        started = None if known_closed(plan) else start_pool(plan)
        if started is None:
            stop_fork_server()
        from helpers.run.checks import gate

        problems, warnings = gate(plan, params, ds)  # the same gate as `validate`: refused here, not in a notebook
        if problems:
            raise InputError(problems)
        if warnings:
            typer.echo(f"note: {len(warnings)} warning(s) about the data and the methodology; "
                       f"`kpi-workbook validate {params}` lists them", err=True)
        if plan.skipped_teams:
            typer.echo(f"note: left out team(s) with no manager to review in {plan.period.label}: "
                       f"{', '.join(plan.skipped_teams)}", err=True)
        from helpers.run.lifecycle import prepare_record, restate_closed

        store, snap = prepare_record(plan, ds)
        say = lambda s: typer.echo(printable(s))  # noqa: E731
        if snap.period_closed:  # never rewritten: computed again, compared, differences booked
            if started is not None:
                started.discard()  # no notebook runs
            return restate_closed(plan, ds, store, snap, say)
        code, _, _ = execute(plan, ds, progress=progress, log=say, record=snap, started=started)
    except InputError as exc:
        if started is not None:
            started.discard()
        stop_fork_server()  # refused before its pool: the server started for it goes now, not after its imports
        _fail(exc)
    except Interrupted as exc:
        where = plan.out_root / plan.period.label
        if exc.published:
            typer.echo(f"interrupted while publishing: every notebook run was stopped; the run had finished and its "
                       f"reports were published to {where} in full.", err=True)
        else:
            typer.echo(f"interrupted: every notebook run was stopped and nothing of this run was published; "
                       f"the reports already in {where} are as they were.", err=True)
        return 130
    finally:
        if started is not None:
            started.discard()  # not taken by execute (a restatement, an error): killed, not waited for
    return code


EXECUTOR_HELP = "Where notebooks run: local (process pool) or dask (a Dask distributed cluster)."
WAIT_HELP = "Seconds to wait when another run is writing to the same output folder (default: exit 2 at once)."
SCHEDULER_HELP = "Dask scheduler address, e.g. tcp://10.0.0.5:8786 (with --executor dask; none: a local Dask cluster)."


@app.command()
def run(
    params: Path = typer.Argument(..., help="Run parameters (YAML), e.g. params/demo.yaml."),
    period: Optional[str] = typer.Option(None, "--period", help="Review period: 2026Q3 or 2026-09."),
    team: Optional[list[str]] = typer.Option(None, "--team", help="Team id (repeat for several); default all."),
    jobs: Optional[int] = typer.Option(None, "--jobs", min=1, help="Parallel notebook runs (default: cores)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: from the params)."),
    language: Optional[str] = typer.Option(None, "--language", help="Report language: zh or en."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    executor: Optional[str] = typer.Option(None, "--executor", help=EXECUTOR_HELP),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    wait: float = typer.Option(0.0, "--wait", min=0, help=WAIT_HELP),
) -> None:
    """Run the workbook notebooks for every team and render the HTML reports."""
    raise typer.Exit(_run(params, period, team, jobs, out, language, progress, executor, scheduler, wait))


@app.command()
def demo(
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: reports/)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", min=1, help="Parallel notebook runs (default: cores)."),
    language: Optional[str] = typer.Option(None, "--language", help="Report language: zh or en."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    wait: float = typer.Option(0.0, "--wait", min=0, help=WAIT_HELP),
) -> None:
    """Generate the demo data (first use) and run the whole workbook on it."""
    raise typer.Exit(_run(DEMO_PARAMS, None, None, jobs, out, language, progress, wait=wait))


@app.command()
def validate(params: Path = typer.Argument(..., help="Run parameters (YAML).")) -> None:
    """Check params and data without running anything; print a data summary."""
    from helpers.run.runner import plan_run

    try:
        plan, ds = plan_run(params)
    except InputError as exc:
        _fail(exc)
    typer.echo(f"params ok: {params} (period {plan.period.label}, {len(plan.teams)} teams, "
               f"notebooks: {', '.join(plan.notebooks)}; reports to {plan.out_root / plan.period.label})")
    if plan.skipped_teams:
        typer.echo(f"  note: team(s) with no manager to review in {plan.period.label} are left out: "
                   f"{', '.join(plan.skipped_teams)}")
    for name, df in ds.tables.items():
        typer.echo(f"  {name:<13} {len(df):>10,} rows  {ds.files.get(name, '')}")
    from helpers.data.sources import MappedDataset, quality_summary

    if isinstance(ds, MappedDataset) and ds.report is not None:
        for line in quality_summary(ds.report):
            typer.echo(f"  {line}")
    from helpers.run.checks import gate

    problems, warnings = gate(plan, params, ds)
    for w in warnings:
        typer.echo(f"  warning: {printable(w)}")
    if problems:
        _fail(InputError(problems))
    typer.echo("data ok; methodology files ok" if len(plan.notebooks) > 1 else "data ok")


PARAMS_HELP = "Run parameters (YAML) of the record (default: the demo's, params/demo.yaml)."
OUT_HELP = "Output folder of the reports (default: from the params); the store defaults to record.duckdb in it."


def _say(line: str) -> None:
    typer.echo(printable(line))


def _exit_with(command) -> None:
    """Run a record command: its exit code, or exit 2 with one line per problem."""
    try:
        code = command()
    except InputError as exc:
        _fail(exc)
    raise typer.Exit(code)


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


@app.command()
def close(
    period: str = typer.Argument(..., help="The period to close: 2026Q3 or 2026-09."),
    params: Path = typer.Option(DEMO_PARAMS, "--params", help=PARAMS_HELP),
    out: Optional[Path] = typer.Option(None, "--out", help=OUT_HELP),
    by: Optional[str] = typer.Option(None, "--by", help="Who closes it (default: the login name)."),
    force: Optional[str] = typer.Option(None, "--force", help="Close despite failed reports or open disputes; "
                                        "the REASON is recorded with the period."),
    wait: float = typer.Option(0.0, "--wait", min=0, help=WAIT_HELP),
) -> None:
    """Freeze a period's published results into the results store; it is never rewritten after."""
    from helpers.run.lifecycle import close_period

    if force is not None and not force.strip():
        _fail(InputError(Problem("--force", "a forced close needs a reason", fix='write it: --force "REASON"')))
    _exit_with(lambda: close_period(params, period, out, by or _user(), force, wait, _say))


@app.command()
def signoff(
    period: str = typer.Argument(..., help="The period of the statement: 2026Q3 or 2026-09."),
    manager: str = typer.Argument(..., help="The manager's id, e.g. M001."),
    status: str = typer.Option("signed", "--status", help="signed or refused."),
    when: Optional[str] = typer.Option(None, "--date", help="Date of the signature, YYYY-MM-DD (default: today)."),
    version: Optional[str] = typer.Option(None, "--version", help="The statement version printed in the sign-off "
                                          "block (checked against the current one)."),
    params: Path = typer.Option(DEMO_PARAMS, "--params", help=PARAMS_HELP),
    out: Optional[Path] = typer.Option(None, "--out", help=OUT_HELP),
) -> None:
    """Record that a manager signed (or refused) their statement of a period."""
    from helpers.run.lifecycle import record_signoff

    if when is not None:
        import datetime as _dt

        try:
            _dt.date.fromisoformat(when)
        except ValueError:
            _fail(InputError(Problem("--date", f"'{when}' is not a date", fix="write YYYY-MM-DD")))
    _exit_with(lambda: record_signoff(params, period, manager, status, when, version, out, _say))


@app.command()
def history(
    manager: str = typer.Argument(..., help="The manager's id, e.g. M001."),
    params: Path = typer.Option(DEMO_PARAMS, "--params", help=PARAMS_HELP),
    out: Optional[Path] = typer.Option(None, "--out", help=OUT_HELP),
) -> None:
    """Print a manager's record across periods: results, adjustments, disputes, sign-offs."""
    from helpers.run.lifecycle import history_lines

    try:
        lines = history_lines(params, manager, out)
    except InputError as exc:
        _fail(exc)
    for line in lines:
        typer.echo(printable(line))


def write_notebooks(params: Path, out: Path, language: str, force: bool = False) -> list[Path]:
    """Copy the params' notebook folder to ``out`` with the prose in ``language``, the
    parameters cell's ``language = "<language>"`` and its ``params_file`` pointing at
    ``params`` from ``out``; InputError (nothing written) on a bad language, params file
    or notebook, or notebooks already in ``out`` without ``force``."""
    import os

    import nbformat

    from helpers.atomic import write_text_atomic
    from helpers.plan.params import load_params
    from helpers.present.prose import LANGUAGES, in_language
    from helpers.run.runner import notebook_dir

    if language not in LANGUAGES:
        raise InputError(Problem("--language", f"'{language}' is not a notebook language",
                                 fix=f"write one of {', '.join(LANGUAGES)}"))
    nb_dir = notebook_dir(load_params(params), params)
    sources = sorted(nb_dir.glob("*.ipynb"))
    if not sources:
        raise InputError(Problem(str(nb_dir), "has no notebooks (*.ipynb)", where="key 'notebook_folder'",
                                 fix=f"set notebook_folder in {params} to the folder of the workbook notebooks"))
    out = out.resolve()
    taken = [out / p.name for p in sources if (out / p.name).exists()]
    if taken and not force:
        raise InputError([Problem(str(p), "already exists", fix="pass --force to overwrite it, or choose another "
                                  "folder with --out") for p in taken])
    target = params.resolve()
    try:  # relative when both are in one project (e.g. ../params/demo.yaml), else absolute
        shared = Path(os.path.commonpath([target, out]))
        where = Path(os.path.relpath(target, out)).as_posix() if shared.parent != shared else target.as_posix()
    except ValueError:  # another drive (Windows)
        where = target.as_posix()
    texts = {}
    for src in sources:
        try:
            nb = nbformat.read(src, as_version=4)
            texts[src.name] = nbformat.writes(in_language(nb, language, params_file=where)) + "\n"
        except (ValueError, OSError, nbformat.reader.NotJSONError) as exc:
            raise InputError(Problem(str(src), f"cannot be written in another language: {exc}",
                                     fix="regenerate it with python tools/make_notebooks.py")) from None
    out.mkdir(parents=True, exist_ok=True)
    return [write_text_atomic(out / name, text) for name, text in texts.items()]


@app.command("notebooks")
def notebooks_(
    out: Path = typer.Option(..., "--out", help="Folder to write the notebooks to (created if missing)."),
    language: str = typer.Option("en", "--language", help="Language of the notebooks' prose and reports: zh or en."),
    params: Path = typer.Option(DEMO_PARAMS, "--params", help="Run parameters whose notebook folder is copied and "
                                "which the notebooks read (default: the demo's, params/demo.yaml)."),
    force: bool = typer.Option(False, "--force", help="Overwrite notebooks already in the folder."),
) -> None:
    """Write the workbook notebooks with their prose in one language, to read and run in JupyterLab."""
    try:
        written = write_notebooks(params, out, language, force)
    except InputError as exc:
        _fail(exc)
    typer.echo(printable(f"wrote {len(written)} notebook(s) with {language} prose to {out.resolve()} "
                         f"(parameters: language = \"{language}\", params_file = {params})"))
    typer.echo(printable(f"open them with: jupyter lab {out}"))


def _default_params(mapping: Path) -> Path:
    """Run params beside a mapping: params/sources/x.yaml → params/x.yaml; else x.params.yaml."""
    if mapping.parent.name == "sources":
        return mapping.parent.parent / mapping.name
    return mapping.with_name(f"{mapping.stem}.params.yaml")


@app.command("map")
def map_(
    folder: Path = typer.Argument(..., help="Folder of exported files (CSV/TSV/TXT, XLSX/XLS, Parquet)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Mapping file to write (default params/sources/<folder>.yaml)."),
    params: Optional[Path] = typer.Option(None, "--params", help="Run params to write (default params/<folder>.yaml)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the mapping and params files if they exist."),
) -> None:
    """Draft a source mapping and run params from a folder of exports; print its questions."""
    from helpers.atomic import write_text_atomic
    from helpers.data.draft import draft_mapping, draft_params
    from helpers.data.sources import slugify
    name = folder.resolve().name
    out = out or PARAMS_DIR / "sources" / f"{slugify(name) or 'export'}.yaml"
    params = params or _default_params(out)
    try:
        if not force:
            taken = [p for p in (out, params) if p.exists()]
            if taken:
                raise InputError([Problem(str(p), "already exists", fix="pass --force to overwrite it, or choose "
                                          "another file with --out / --params") for p in taken])
        draft = draft_mapping(folder, out)
    except InputError as exc:
        _fail(exc)
    write_text_atomic(out, draft.text)
    write_text_atomic(params, draft_params(draft, params, out, PARAMS_DIR, name))
    tables = "; ".join(f"{t}: {src}" for t, src in draft.sources.items())
    typer.echo(printable(f"wrote the source mapping {out} ({tables})"))
    span = f"orders {draft.first_date} to {draft.last_date}" if draft.last_date else "no order dates"
    typer.echo(printable(f"wrote the run parameters {params} ({span})"))
    if draft.questions:
        typer.echo(f"{len(draft.questions)} question(s) to answer in the mapping (also at its top):")
        for i, q in enumerate(draft.questions, 1):
            typer.echo(printable(f"  QUESTION {i}: {q}"))
    else:
        typer.echo("no questions: every field was placed; read the mapping's comments all the same")
    typer.echo(f"next: kpi-workbook validate {params}")


def main() -> None:
    """Console-script entry point."""
    from helpers.run.zygote import tune_gc

    tune_gc()  # the run's main process and what it forks (its fork server, the workers)
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted: nothing was published", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
