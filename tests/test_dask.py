"""The Dask executor (issue 8): notebook jobs on a Dask distributed cluster.

A ``LocalCluster`` started here stands for the organisation's cluster: the CLI connects
to its scheduler address like it would to ``tcp://scheduler:8786``.  Second method:
the same run with the local process pool gives byte-identical CSV artifacts."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from conftest import run_cli

pytestmark = pytest.mark.slow
distributed = pytest.importorskip("distributed")  # in the test extra; CI installs it


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.csv"))}


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


@pytest.fixture(scope="module")
def small_params(demo_params, tmp_path_factory) -> Path:
    raw = yaml.safe_load(demo_params.read_text(encoding="utf-8"))
    raw["notebooks"] = ["00_data_quality", "05_leadership_summary"]
    p = tmp_path_factory.mktemp("dask") / "p.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return p


def test_runs_on_a_dask_cluster_like_on_the_local_pool(cluster, small_params, demo_run, tmp_path):
    teams = ["--team", "east-1", "--team", "south-2"]
    dask_run = run_cli("run", str(small_params), *teams, "--executor", "dask", "--scheduler", cluster.scheduler_address,
                       "--out", str(tmp_path / "dask"), "--no-progress")
    assert dask_run.returncode == 0, dask_run.stderr[-2000:]
    assert "3 reports done, 0 failed" in dask_run.stdout or "3 份报告完成，0 份失败" in dask_run.stdout
    # the cluster's workers ran them (not a pool of this process): the scheduler saw run_task
    assert any("run_task" in k for k in cluster.scheduler.task_prefixes), cluster.scheduler.task_prefixes.keys()
    # the same files, byte for byte, as the session's demo run on the local pool wrote them
    # (a team's files and the company summary do not depend on which teams a run covers)
    d, loc = _digests(tmp_path / "dask" / "2026Q3"), _digests(demo_run[1])
    assert set(d) == {"east-1/kpi_actuals.csv", "south-2/kpi_actuals.csv", "_company/leadership_summary.csv"}
    assert d == {k: loc[k] for k in d}
    for page in ("east-1/00_data_quality.html", "south-2/00_data_quality.html", "_company/05_leadership_summary.html"):
        assert (tmp_path / "dask" / "2026Q3" / page).stat().st_size > 50_000


def test_unreachable_scheduler_is_bad_input(small_params, tmp_path):
    raw = yaml.safe_load(small_params.read_text(encoding="utf-8"))
    raw.setdefault("execution", {})["connect_timeout_seconds"] = 2
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    proc = run_cli("run", str(params), "--team", "east-1", "--executor", "dask", "--scheduler",
                   "tcp://127.0.0.1:9", "--out", str(out), "--no-progress")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--scheduler: cannot reach the Dask scheduler at tcp://127.0.0.1:9" in proc.stderr
    assert not out.exists()


def test_scheduler_without_dask_executor_is_bad_input(small_params, tmp_path):
    proc = run_cli("run", str(small_params), "--scheduler", "tcp://127.0.0.1:8786", "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "--scheduler: a scheduler address needs the dask executor" in proc.stderr
