"""Compute once, render many: what a team notebook reads from the run's shared work.

``DemoConfig(managers=1200, teams=150)`` (``--quick``: 480 managers, 60 teams), Parquet,
cached in ``benchmarks/.data``.  Measured:

* the runner's shared steps: load and validate (``plan_run``), the workspace of KPI
  actuals (``prepare_workspace``), and ``precompute`` (the company-wide target lab and
  period scores, the target lab stored as one company part plus one part per team);
* what one team notebook 01 reads from the cache (company part + its largest team
  part) against the baseline of one pickle of the whole company-wide target engine,
  as it was stored before the split (measured in the same run);
* splitting the engine into every team's part in one pass
  (:meth:`helpers.core.target_engine.TargetEngine.team_slices`) against filtering the company
  tables once per team (:meth:`~helpers.core.target_engine.TargetEngine.sliced`, timed on a
  sample of teams and extrapolated).

The issue sets no number for these; the rows say what the runner's fixed cost is and
how it grows, for the README's extrapolation to 30,000 managers.
"""

from __future__ import annotations

import pickle
import tempfile
import time
from pathlib import Path

from benchmarks.common import DATA, Result


def run(quick: bool = False, log=print) -> list[Result]:
    from benchmarks.bench_batch import make_params
    from helpers.context.targets import make_engine
    from helpers.data.demo import DemoConfig, write_demo
    from helpers.plan.params import load_params
    from helpers.run.runner import plan_run, precompute
    from helpers.context.workbook import open_team, prepare_workspace

    managers, teams = (480, 60) if quick else (1200, 150)
    cfg = DemoConfig(managers=managers, teams=teams, fmt="parquet")
    data = DATA / f"precompute-{cfg.digest()}"
    if not data.exists():
        t0 = time.perf_counter()
        write_demo(data, cfg)
        log(f"  generated {managers} managers / {teams} teams in {time.perf_counter() - t0:.1f} s")

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        params = make_params(tmp, data)
        t0 = time.perf_counter()
        plan, ds = plan_run(params, out=tmp / "out")
        t_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        ws = prepare_workspace(load_params(params), params, tmp / "ws", ds)
        t_ws = time.perf_counter() - t0
        t0 = time.perf_counter()
        stored = precompute(plan, ws)
        t_pre = time.perf_counter() - t0
        if not {"targets", "scores"} <= {key.split("-")[0] for key in stored}:  # and the plan health check
            raise RuntimeError(f"precompute stored {stored}, expected the target lab and the scores")
        key = next(k for k in stored if k.startswith("targets"))
        company_mb = (ws / "cache" / f"{key}.pkl").stat().st_size / 1e6
        team_mb = max(p.stat().st_size for p in (ws / "cache" / key).glob("*.pkl")) / 1e6
        log(f"  {managers} managers, {len(plan.teams)} teams: load {t_load:.1f} s, workspace {t_ws:.1f} s, "
            f"precompute {t_pre:.1f} s; cache: company part {company_mb:.1f} MB, largest team part {team_mb:.2f} MB")

        # baseline: the whole company-wide engine in one pickle (how the cache stored it before)
        ctx = open_team(params, "", plan.period.label, str(ws), plan.language, "")
        engine = make_engine(ctx, params, str(ws))
        engine.all_targets(plan.period.period)
        whole_mb = len(pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL)) / 1e6
        by_team = engine.roster(plan.period.period).groupby("team_id")["manager_id"].agg(list).to_dict()
        members = {t: by_team.get(t, []) for t in plan.teams}
        t0 = time.perf_counter()
        n = sum(1 for _ in engine.team_slices(members))
        t_split = time.perf_counter() - t0
        sample = list(members.items())[:10]
        t0 = time.perf_counter()
        for _, ids in sample:
            engine.sliced(ids)
        t_each = (time.perf_counter() - t0) / len(sample) * n
        log(f"  whole engine pickle {whole_mb:.1f} MB; split into {n} team parts in {t_split:.2f} s "
            f"(one filter per team: {t_each:.1f} s, from {len(sample)} teams)")

    read_mb = company_mb + team_mb
    return [
        Result(f"precompute, {managers} managers / {len(plan.teams)} teams", t_pre, "s",
               note=f"load {t_load:.1f} s, workspace {t_ws:.1f} s; no target"),
        Result("  notebook 01 reads: company + team part", read_mb, "MB",
               note=f"company {company_mb:.1f} MB + team {team_mb:.2f} MB; no target"),
        Result("  less than the whole-engine pickle", whole_mb / read_mb, "x",
               note=f"whole engine {whole_mb:.1f} MB; no target"),
        Result("  team parts in one pass vs one filter per team", t_each / t_split, "x",
               note=f"{t_split:.2f} s vs {t_each:.1f} s; no target"),
    ]
