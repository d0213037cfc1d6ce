"""Per-report cost: the demo batch against the strict floor, and where a report's time goes.

* **strict floor**: an in-process ``papermill.execute_notebook`` of a minimal notebook
  (a parameters cell and ``import pandas, seaborn, helpers``) on a fresh kernel, median
  of 3; the floor of a batch is reports × that ÷ cores — what the batch would cost if
  each report were only a kernel that starts and imports (issue 19).
* **demo batch**: ``kpi-workbook run`` of ``params/demo.yaml`` (31 reports, the demo's
  data generated beforehand into a temporary folder), wall time ÷ the floor; the same
  with ``execution.fork_kernels: false`` (every kernel started from nothing) for
  comparison.
* **where the time goes** (``--profile``, or ``python -m benchmarks.bench_reports``):
  one team's notebooks (and the company summary), each run in-process by papermill on
  a fresh kernel and on a forked one: kernel start-up, the setup cell (open the team,
  compute), the output cells, the HTML export and its size, from papermill's per-cell
  durations; then every notebook's code run in this process under ``cProfile`` (an
  IPython shell with the inline backend, as in a kernel), the functions that take the
  most time listed by what they do (reading the workspace, computing, tables, charts).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

import yaml

from benchmarks.common import PY, ROOT, Result, table

BIN = Path(PY).parent
TARGET_FLOOR_X = 1.5
FLOOR_IMPORTS = "import pandas\nimport seaborn\nimport helpers"


def minimal_notebook(path: Path, imports: str = FLOOR_IMPORTS) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('team = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(imports)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def strict_floor(tmp: Path, cwd: Path, n: int = 3) -> float:
    """Median seconds of an in-process papermill run of the minimal notebook, fresh kernel."""
    import papermill as pm

    mini = minimal_notebook(tmp / "minimal.ipynb")
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        pm.execute_notebook(str(mini), str(tmp / "minimal-out.ipynb"), parameters={"team": "x"},
                            kernel_name="python3", cwd=str(cwd), progress_bar=False, log_output=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def demo_params(tmp: Path, fork: bool = True) -> Path:
    """``params/demo.yaml`` on demo data generated into ``tmp`` (once)."""
    from benchmarks.bench_batch import make_params
    from helpers.data.demo import write_demo

    data = tmp / "demo-data"
    if not data.exists():
        write_demo(data)
    p = make_params(tmp, data)
    params = yaml.safe_load(p.read_text(encoding="utf-8"))
    params.setdefault("execution", {})["fork_kernels"] = fork
    out = tmp / ("params.yaml" if fork else "params-fresh.yaml")
    out.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def batch(params: Path, out: Path) -> tuple[float, int]:
    """Wall seconds of ``kpi-workbook run PARAMS --out OUT`` and the reports it wrote."""
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    t0 = time.perf_counter()
    proc = subprocess.run([str(BIN / "kpi-workbook"), "run", str(params), "--out", str(out), "--no-progress"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=3600)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise RuntimeError(f"kpi-workbook run failed:\n{proc.stdout[-1500:]}\n{proc.stderr[-3000:]}")
    n = sum(1 for p in out.rglob("*.html") if p.name != "index.html" and not p.name.startswith("statement_"))
    return wall, n


def run(quick: bool = False, log=print) -> list[Result]:
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="kpi-bench-reports-") as d:
        tmp = Path(d)
        params = demo_params(tmp)
        fresh = demo_params(tmp, fork=False)
        t_floor = strict_floor(tmp, ROOT / "notebooks")
        log(f"reports: strict floor (in-process papermill, {FLOOR_IMPORTS.replace(chr(10), '; ')}) "
            f"{t_floor:.2f} s, median of 3")
        wall, n = batch(params, tmp / "out")
        floor = n * t_floor / cores
        log(f"  demo batch: {n} reports in {wall:.1f} s → {wall / floor:.2f}× the floor ({floor:.1f} s)")
        rows = [Result("demo batch ÷ strict floor", wall / floor, "x", TARGET_FLOOR_X,
                       note=f"{wall:.1f} s vs floor {floor:.1f} s ({n} × {t_floor:.2f} s ÷ {cores} cores)")]
        if not quick:
            wall_f, _ = batch(fresh, tmp / "out-fresh")
            log(f"  the same with fresh kernels (fork_kernels: false): {wall_f:.1f} s → {wall_f / floor:.2f}×")
            rows.append(Result("  with fresh kernels (fork_kernels: false)", wall_f / floor, "x",
                               note=f"{wall_f:.1f} s; no target"))
    return rows


# ------------------------------------------------------------------------ the profile


def _cells(nb) -> list[tuple[str, float, list[str]]]:
    return [(c.source, float(c.metadata.get("papermill", {}).get("duration") or 0.0), c.metadata.get("tags", []))
            for c in nb.cells if c.cell_type == "code"]


def profile_kernels(plan, workspace: Path, team: str, tmp: Path, log=print) -> list[list[str]]:
    """Each notebook for ``team`` (and the period notebooks once), fresh and forked kernel."""
    import nbformat

    from helpers.run import kernels, runner

    preload = runner.preload_modules(plan) or []
    kernels.template(preload)
    tasks = [tk for tk in runner.build_tasks(plan, tmp / "stage", workspace) if tk.team in (team, runner.COMPANY)]
    rows = [["notebook", "kernel", "total s", "start-up s", "setup cell s", "output cells s", "export s", "HTML KB"]]
    for tk in tasks:
        for how in ("fresh", "fork"):
            tk.preload = preload if how == "fork" else []
            Path(tk.html_path).parent.mkdir(parents=True, exist_ok=True)
            Path(tk.work_ipynb).parent.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            res = runner.run_task(tk)
            total = time.perf_counter() - t0
            if not res.ok:
                raise RuntimeError(f"{tk.team}/{tk.notebook}: {res.error}")
            nb = nbformat.read(tk.work_ipynb, as_version=4)
            cells = _cells(nb)
            executed = float(nb.metadata.get("papermill", {}).get("duration") or 0.0)
            setup = sum(dur for _, dur, tags in cells if "remove" in tags or "parameters" in tags
                        or "injected-parameters" in tags)
            shown = sum(dur for _, dur, tags in cells) - setup
            export = total - executed
            rows.append([tk.notebook + ("" if tk.team == team else " (company)"), how, f"{total:.2f}",
                         f"{executed - setup - shown:.2f}", f"{setup:.2f}", f"{shown:.2f}", f"{export:.2f}",
                         f"{Path(tk.html_path).stat().st_size / 1024:.0f}"])
            log("  " + " · ".join(rows[-1]))
    kernels.close_template()
    return rows


CATEGORIES = [  # (label, substrings of "file:function" that put a profiled function in it), first match wins
    ("charts: draw and encode PNG", ("backend_agg", "print_figure", "savefig", "_png", "flush_figures")),
    ("charts: build (seaborn, matplotlib artists)", ("seaborn/", "matplotlib/axes", "matplotlib/figure")),
    ("tables: Styler / HTML", ("pandas/io/formats/style", "jinja2", "_repr_html_")),
    ("reading the workspace (Parquet, pickle)", ("read_parquet", "pyarrow", "cache_get", "pickle")),
]


def profile_inprocess(plan, workspace: Path, team: str, tmp: Path, top: int = 25, log=print) -> str:
    """Every notebook's code in this process under cProfile, as a kernel would run it."""
    from IPython.core.interactiveshell import InteractiveShell
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    from helpers.run import runner

    class Shell(InteractiveShell):  # a kernel's shell without its event loop
        def enable_gui(self, gui=None):
            pass

    shell = Shell.instance()
    shell.run_line_magic("matplotlib", "inline")
    out = io.StringIO()
    for tk in runner.build_tasks(plan, tmp / "stage-cp", workspace):
        if tk.team not in (team, runner.COMPANY):
            continue
        Path(tk.parts_dir).mkdir(parents=True, exist_ok=True)
        nb = parameterize_notebook(load_notebook_node(tk.input_path), tk.parameters)
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        os.chdir(tk.cwd)
        with redirect_stdout(io.StringIO()):
            for c in nb.cells:
                if c.cell_type == "code":
                    prof.runcall(shell.run_cell, c.source, store_history=False)
        wall = time.perf_counter() - t0
        st = pstats.Stats(prof)
        by_cat = dict.fromkeys([c for c, _ in CATEGORIES], 0.0)
        for (file, _line, func), (_cc, _nc, tt, _ct, _callers) in st.stats.items():
            key = f"{file}:{func}"
            for cat, subs in CATEGORIES:
                if any(s in key for s in subs):
                    by_cat[cat] += tt
                    break
        head = f"{tk.notebook} ({'company' if tk.team == runner.COMPANY else tk.team}): {wall:.2f} s in process"
        log("  " + head + " · " + " · ".join(f"{k} {v:.2f} s" for k, v in by_cat.items()))
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).strip_dirs().sort_stats("cumulative").print_stats(top)
        out.write(f"\n## {head}\n" + "\n".join(f"  {k}: {v:.2f} s (own time)" for k, v in by_cat.items()) + "\n")
        out.write(buf.getvalue())
    return out.getvalue()


def profile(team: str = "", top: int = 25, log=print) -> None:
    from helpers.context.workbook import prepare_workspace
    from helpers.run.runner import plan_run, precompute

    with tempfile.TemporaryDirectory(prefix="kpi-profile-") as d:
        tmp = Path(d)
        params = demo_params(tmp)
        t0 = time.perf_counter()
        plan, ds = plan_run(params, out=tmp / "out")
        t_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        ws = prepare_workspace(plan.params, plan.params_file, tmp / "ws", ds)
        t_ws = time.perf_counter() - t0
        t0 = time.perf_counter()
        precompute(plan, ws)
        t_pre = time.perf_counter() - t0
        team = team or plan.teams[0]
        log(f"shared work once per run: load and validate {t_load:.2f} s · workspace {t_ws:.2f} s · "
            f"precompute {t_pre:.2f} s")
        t_floor = strict_floor(tmp, plan.notebook_dir)
        log(f"strict floor (fresh kernel, {FLOOR_IMPORTS.replace(chr(10), '; ')}): {t_floor:.2f} s")
        rows = profile_kernels(plan, ws, team, tmp, log=lambda _: None)
        w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        log("\n".join("  ".join(c.rjust(w[i]) if i > 1 else c.ljust(w[i]) for i, c in enumerate(r)) for r in rows))
        log("")
        log(profile_inprocess(plan, ws, team, tmp, top=top, log=log))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_reports", description=__doc__.splitlines()[0])
    ap.add_argument("--team", default="", help="team to profile (default: the first)")
    ap.add_argument("--top", type=int, default=25, help="functions listed per notebook")
    ap.add_argument("--batch", action="store_true", help="the batch ratio instead of the profile")
    args = ap.parse_args(argv)
    if args.batch:
        print(table(run()))
        return 0
    profile(args.team, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
