"""Batch run and report weight: the whole workbook for 12 teams.

* **batch**: ``DemoConfig(managers=96, teams=12)`` into a temporary folder, a copy of
  ``params/demo.yaml`` pointing at it (same notebook list), then
  ``kpi-workbook run PARAMS --out TMP`` (default ``--jobs`` = cores).  Wall time of
  the command, compared with
  - the **strict floor** (issue 19): number of notebook runs × the time of an in-process
    papermill run of a minimal notebook importing pandas, seaborn and helpers on a fresh
    kernel (median of 3) ÷ cores — target ≤ 1.5× the floor;
  - a **naive serial loop**: per team and notebook, ``papermill`` then ``jupyter
    nbconvert --to html`` as separate commands, without the runner's prepared
    workspace (each notebook loads the data itself) — target ≥ 2.5× faster.  With
    ``--quick`` only 2 teams are looped and the time is extrapolated to 12
    (× 12/2 for the per-team notebooks; period-scoped notebooks are run once anyway).
* **report weight**: the size of every team report of that run (≤ 1.5 MB each), and
  an index page of 500 teams rendered by :func:`helpers.present.index_page.index_html` from a
  fake plan (size, render time).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.common import PY, ROOT, Result

BIN = Path(PY).parent
TEAMS = 12
TARGET_FLOOR_X, TARGET_NAIVE_X = 1.5, 2.5
TARGET_REPORT_MB, TARGET_INDEX_MB, TARGET_INDEX_S = 1.5, 1.5, 1.0


def make_params(tmp: Path, data: Path) -> Path:
    """A copy of params/demo.yaml with absolute paths, pointing at ``data``."""
    from helpers.plan.params import RunParams

    params = yaml.safe_load((ROOT / "params" / "demo.yaml").read_text(encoding="utf-8"))
    params["data"].update(folder=str(data), demo=False)
    params["notebook_folder"] = str(ROOT / "notebooks")
    defaults = RunParams.model_validate({"data": {"folder": "x"}})
    for key in ("indicators", "strategy", "alternative_strategy", "weights", "targets", "incentives", "scoring"):
        value = params.get(key, getattr(defaults, key))
        if value:
            params[key] = str(ROOT / "params" / value)
    p = tmp / "params.yaml"
    p.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


def _run(cmd: list[str], cwd: Path | None = None, timeout: int = 3600) -> float:
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd or ROOT, timeout=timeout, env=env)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stdout[-1500:]}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - t0


def run(quick: bool = False, log=print) -> list[Result]:
    from helpers.data.demo import DemoConfig, write_demo
    from helpers.present.index_page import index_html
    from helpers.run.publish import merge, read_manifest
    from helpers.run.runner import COMPANY, TaskResult, build_tasks, plan_run

    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="kpi-bench-") as tmp_s:
        tmp = Path(tmp_s)
        data = write_demo(tmp / "data", DemoConfig(managers=96, teams=TEAMS))
        params = make_params(tmp, data)
        plan, _ = plan_run(params, out=tmp / "naive")

        # ---- the real run
        wall = _run([str(BIN / "kpi-workbook"), "run", str(params), "--out", str(tmp / "out"), "--no-progress"])
        out = tmp / "out" / plan.period.label
        htmls = [p for p in out.rglob("*.html") if p.name != "index.html"]
        n_runs = sum(not p.name.startswith("statement_") for p in htmls)  # a manager's statement is not a notebook run
        log(f"batch: {len(plan.teams)} teams × {len(plan.notebooks)} notebooks = {n_runs} reports in {wall:.1f} s "
            f"({plan.jobs} jobs, {cores} cores)")

        # ---- the strict floor: in-process papermill of a minimal notebook (pandas, seaborn, helpers)
        from benchmarks.bench_reports import FLOOR_IMPORTS, strict_floor

        t_min = strict_floor(tmp, plan.notebook_dir)
        floor = n_runs * t_min / cores
        log(f"  strict floor (in-process papermill, {FLOOR_IMPORTS.replace(chr(10), '; ')}): {t_min:.2f} s "
            f"→ floor {floor:.1f} s")

        # ---- naive serial loop of papermill + nbconvert commands
        tasks = build_tasks(plan, tmp / "naive", tmp / "naive-ws")
        sample_teams = plan.teams[:2] if quick else plan.teams
        chosen = [t for t in tasks if t.team in sample_teams or t.team == COMPANY]
        per_team_s, company_s = 0.0, 0.0
        for t in chosen:
            Path(t.parts_dir).mkdir(parents=True, exist_ok=True)
            Path(t.work_ipynb).parent.mkdir(parents=True, exist_ok=True)
            pfile = Path(t.work_ipynb).with_suffix(".yaml")
            # no prepared workspace: each notebook loads and computes on the spot, as a plain loop would
            pfile.write_text(yaml.safe_dump({**t.parameters, "workspace": ""}, allow_unicode=True), encoding="utf-8")
            s = _run([str(BIN / "papermill"), t.input_path, t.work_ipynb, "-f", str(pfile), "--cwd", t.cwd,
                      "--no-progress-bar"])
            s += _run([str(BIN / "jupyter"), "nbconvert", "--to", "html", t.work_ipynb])
            if t.team == COMPANY:
                company_s += s
            else:
                per_team_s += s
        naive = company_s + per_team_s * len(plan.teams) / len(sample_teams)
        how = (f"{len(sample_teams)} of {len(plan.teams)} teams looped, ×{len(plan.teams) / len(sample_teams):g}"
               if quick else f"all {len(plan.teams)} teams")
        log(f"  naive serial papermill + nbconvert: {naive:.1f} s ({how})")

        # ---- report weight
        sizes = {p: p.stat().st_size / 1e6 for p in htmls}
        biggest = max(sizes, key=sizes.get)
        fake = [f"team-{i:03d}" for i in range(500)]
        labels = {t: (f"营业部 {t}", f"区域 {i % 30}") for i, t in enumerate(fake)}
        results = [TaskResult(t, nb, i % 97 != 0, 1.0) for i, t in enumerate(fake) for nb in plan.notebooks]
        (tmp / "index500").mkdir()
        t0 = time.perf_counter()  # what a run does at the end: merge into the manifest, render the index from it
        manifest, _, _ = merge(read_manifest(tmp / "index500"), results, "p1-00000001", {"period": plan.period.label},
                               labels, plan.language)
        html = index_html(manifest, plan.language, plan.params.title_in(plan.language), plan.notebooks)
        (tmp / "index500" / "index.html").write_text(html, encoding="utf-8")
        t_index = time.perf_counter() - t0
        index_mb = (tmp / "index500" / "index.html").stat().st_size / 1e6
        log(f"  largest report {biggest.relative_to(out)} {sizes[biggest]:.2f} MB; "
            f"index of 500 teams {index_mb:.2f} MB in {t_index:.3f} s")

    return [
        Result(f"batch run, {TEAMS} teams × {len(plan.notebooks)} notebooks ÷ strict floor", wall / floor, "x",
               TARGET_FLOOR_X,
               note=f"{wall:.1f} s vs floor {floor:.1f} s ({n_runs} × {t_min:.2f} s ÷ {cores} cores)"),
        Result("  speed-up vs naive papermill+nbconvert loop", naive / wall, "x", TARGET_NAIVE_X, lower_is_better=False,
               note=f"naive {naive:.0f} s" + (" (extrapolated from 2 teams)" if quick else "")),
        Result("largest team report", sizes[biggest], "MB", TARGET_REPORT_MB, note=f"{biggest.parent.name}/{biggest.name}"),
        Result("index of 500 teams: size", index_mb, "MB", TARGET_INDEX_MB),
        Result("index of 500 teams: render", t_index, "s", TARGET_INDEX_S),
    ]
