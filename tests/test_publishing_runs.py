"""Publishing, the lock and dying cleanly, with real runs of the command line (issue 12).

The runs use a small probe notebook (one per team, a few seconds each) on the demo data:
what it does is set by ``mode.txt`` beside the params file — write an artifact named
after the mode, fail for one team, sleep, or hold until the test creates ``release``
beside it — so each test can change the behaviour of a rerun without changing the run's
inputs.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import nbformat
import psutil
import pytest
import yaml

from conftest import KPI_BIN, run_cli

pytestmark = pytest.mark.slow
TEAMS = ["east-1", "east-2", "north-1", "north-2", "south-1", "south-2"]

PROBE = '''
import pathlib, time
mode = pathlib.Path(params_file).with_name("mode.txt").read_text(encoding="utf-8").strip()
if mode == "fail:" + team:
    raise RuntimeError("boom for " + team)
if mode.startswith("sleep:"):
    time.sleep(float(mode.split(":")[1]))
if mode == "hold":
    release = pathlib.Path(params_file).with_name("release")
    deadline = time.monotonic() + 300
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
if output_dir:
    pathlib.Path(output_dir, "probe_" + mode.replace(":", "_") + ".csv").write_text("team,mode\\n" + team + "," + mode + "\\n")
print("probe", team, mode)
'''


@pytest.fixture
def probe(tmp_path, demo_params) -> tuple[Path, Path]:
    """(params file running the probe notebook on the demo data, output folder)."""
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell('params_file = ""\nteam = ""\nperiod = ""\nlanguage = ""\nworkspace = ""\noutput_dir = ""')
    p.metadata["tags"] = ["parameters"]
    nb.cells = [p, nbformat.v4.new_markdown_cell("## 探针"), nbformat.v4.new_code_cell(PROBE)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, nbdir / "probe.ipynb")
    cfg = yaml.safe_load(demo_params.read_text(encoding="utf-8"))
    cfg.update(notebook_folder=str(nbdir), notebooks=["probe"])
    params = tmp_path / "params" / "p.yaml"
    params.parent.mkdir()
    params.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    _mode(params, "v1")
    return params, tmp_path / "out"


def _mode(params: Path, mode: str) -> None:
    params.with_name("mode.txt").write_text(mode, encoding="utf-8")


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _run(params: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli("run", str(params), "--out", str(out), "--no-progress", "--jobs", "2", *args)


def _manifest(out: Path) -> dict:
    return json.loads((out / "2026Q3" / "manifest.json").read_text(encoding="utf-8"))


def test_a_run_for_one_team_keeps_every_other_report(probe):
    params, out = probe
    first = _run(params, out)
    assert first.returncode == 0, first.stdout + first.stderr
    before = _digest(out / "2026Q3")
    assert sum(k.endswith("probe.html") for k in before) == 6
    _mode(params, "v2")
    second = _run(params, out, "--team", "east-1")
    assert second.returncode == 0, second.stdout + second.stderr
    after = _digest(out / "2026Q3")
    for k, v in before.items():  # every other team's report and artifact, byte for byte
        if not k.startswith("east-1/") and k not in ("index.html", "manifest.json"):
            assert after[k] == v, k
    assert "east-1/probe_v2.csv" in after and "east-1/probe_v1.csv" not in after  # replaced with its artifact
    assert after["east-1/probe.html"] != before["east-1/probe.html"]
    m = _manifest(out)
    runs = {e["team"]: e["run"] for e in m["reports"]}
    assert len(set(runs.values())) == 2 and runs["east-1"] == m["last_run"]
    assert {t for t, r in runs.items() if r != m["last_run"]} == set(TEAMS) - {"east-1"}
    assert m["runs"][m["last_run"]]["teams"] == ["east-1"]
    index = (out / "2026Q3" / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{t}/probe.html"' in index for t in TEAMS)
    assert sorted(p.name for p in out.iterdir()) == [".kpi-workbook.lock", "2026Q3"]


def test_a_failing_rerun_keeps_the_last_good_report(probe):
    params, out = probe
    assert _run(params, out, "--team", "north-1", "--team", "east-2").returncode == 0
    good = _digest(out / "2026Q3")
    _mode(params, "fail:north-1")
    failed = _run(params, out, "--team", "north-1", "--team", "east-2")
    assert failed.returncode == 1
    assert "FAILED north-1/probe: RuntimeError: boom for north-1" in failed.stdout
    assert "the earlier report" in failed.stdout and "stays published, marked stale" in failed.stdout
    now = _digest(out / "2026Q3")
    assert now["north-1/probe.html"] == good["north-1/probe.html"] and "north-1/probe_v1.csv" in now
    assert "failures/north-1__probe.ipynb" in now
    (entry,) = [e for e in _manifest(out)["reports"] if e["team"] == "north-1"]
    assert entry["status"] == "stale" and "boom for north-1" in entry["failure"]["error"]
    index = (out / "2026Q3" / "index.html").read_text(encoding="utf-8")
    assert 'href="north-1/probe.html" class="kpi-stale"' in index and "boom for north-1" in index
    _mode(params, "v3")
    assert _run(params, out, "--team", "north-1").returncode == 0
    assert not (out / "2026Q3" / "failures").exists()
    assert [e["status"] for e in _manifest(out)["reports"]] == ["ok", "ok"]


def test_a_kernel_that_does_not_exist_is_refused_before_anything_runs(probe):
    params, out = probe
    cfg = yaml.safe_load(params.read_text(encoding="utf-8"))
    cfg["execution"] = dict(cfg.get("execution", {}), kernel="python-nope")
    params.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    for proc in (run_cli("validate", str(params)), _run(params, out)):
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "key 'execution.kernel': Jupyter kernel 'python-nope' is not installed — use one of: python3" in proc.stderr
    assert not out.exists()


def test_a_second_run_on_the_same_folder_waits_or_is_refused(probe, tmp_path):
    """The first run holds the folder until the test releases it (its notebook waits for
    a file), so the second run is refused, and the third waits, whatever the machine's
    speed: the first is released only once the third has said that it waits."""
    import threading

    params, out = probe
    _mode(params, "hold")
    first = subprocess.Popen([str(KPI_BIN), "run", str(params), "--out", str(out), "--no-progress", "--team", "east-1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    waiter = None
    try:
        deadline = time.monotonic() + 60
        while not (out / ".kpi-workbook.lock.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        refused = _run(params, out, "--team", "south-1")
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert f"is in use by another kpi-workbook run (pid {first.pid} on" in refused.stderr
        assert "--team east-1" in refused.stderr and "Traceback" not in refused.stderr
        with open(tmp_path / "waited.stderr", "w+", encoding="utf-8") as err:
            waiter = subprocess.Popen([str(KPI_BIN), "run", str(params), "--out", str(out), "--no-progress", "--jobs",
                                       "2", "--team", "south-1", "--wait", "120"],
                                      stdout=subprocess.PIPE, stderr=err, text=True)
            lines: list[str] = []
            reader = threading.Thread(target=lambda: lines.extend(waiter.stdout), daemon=True)
            reader.start()
            deadline = time.monotonic() + 120
            while not any("waiting up to 120 s" in ln for ln in lines) and waiter.poll() is None \
                    and time.monotonic() < deadline:
                time.sleep(0.05)
            params.with_name("release").write_text("", encoding="utf-8")  # the first run may finish now
            code = waiter.wait(timeout=180)
            reader.join(30)
            err.seek(0)
            stdout, stderr = "".join(lines), err.read()
        assert code == 0, stdout + stderr
        assert "waiting up to 120 s for the other run" in stdout
        assert first.wait(timeout=120) == 0
    finally:
        params.with_name("release").write_text("", encoding="utf-8")
        for proc in (first, waiter):
            if proc is not None and proc.poll() is None:
                proc.kill()
    assert {e["team"] for e in _manifest(out)["reports"]} == {"east-1", "south-1"}  # both runs' reports


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _wait_for_kernels(pid: int, n: int, seconds: float = 90) -> list[psutil.Process]:
    """The run's processes once ``n`` kernels (ipykernel_launcher) are running."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        procs = _descendants(pid)
        kernels = [p for p in procs if _is_kernel(p)]
        if len(kernels) >= n:
            return procs
        time.sleep(0.2)
    raise AssertionError(f"no {n} kernels started: {[_cmdline(p) for p in _descendants(pid)]}")


def _is_kernel(p: psutil.Process) -> bool:
    """A kernel started from nothing (``python -m ipykernel_launcher``) or one forked from a
    kernel template: named ``kpi-kernel`` (it keeps the command line it was forked from:
    ``helpers.run.zygote``, or the run's fork server)."""
    if "ipykernel_launcher" in " ".join(_cmdline(p)):
        return True
    try:
        if p.name() == "kpi-kernel":
            return True
    except psutil.Error:
        return False
    try:
        parent = p.parent()
    except psutil.Error:
        return False
    return parent is not None and "helpers.run.zygote" in _cmdline(p) and "helpers.run.zygote" in _cmdline(parent)


def _cmdline(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except psutil.Error:
        return []


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def _left_after(procs: list[psutil.Process], seconds: float = 15) -> list[list[str]]:
    """Command lines of ``procs`` still running after up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while _alive(procs) and time.monotonic() < deadline:
        time.sleep(0.2)
    return [_cmdline(p) for p in _alive(procs)]


def test_kill_9_of_the_main_process_leaves_no_worker_or_kernel(probe):
    """Only the main process is killed (not its group): its workers notice within a
    second, before anything has reaped it, kill their kernels and exit; the next run
    removes the abandoned folders."""
    params, out = probe
    assert _run(params, out, "--team", "east-1").returncode == 0
    before = _digest(out / "2026Q3")
    _mode(params, "sleep:60")
    victim = subprocess.Popen([str(KPI_BIN), "run", str(params), "--out", str(out), "--no-progress", "--jobs", "2",
                               "--team", "east-1", "--team", "east-2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs = _wait_for_kernels(victim.pid, 2)
    victim.kill()
    assert _left_after(procs) == []  # even while the killed process is not yet reaped (a zombie)
    victim.wait()
    assert _digest(out / "2026Q3") == before
    left = sorted(p.name for p in out.iterdir() if p.name.startswith((".staging", ".work")))
    assert left  # abandoned by the killed run ...
    _mode(params, "v1")
    again = _run(params, out, "--team", "east-1")
    assert again.returncode == 0, again.stderr
    assert "ended without releasing" in again.stdout
    assert sorted(p.name for p in out.iterdir()) == [".kpi-workbook.lock", "2026Q3"]  # ... and removed by the next


def test_ctrl_c_stops_the_run_within_seconds_and_publishes_nothing(probe):
    params, out = probe
    assert _run(params, out, "--team", "east-1").returncode == 0
    before = _digest(out / "2026Q3")
    _mode(params, "sleep:60")
    run = subprocess.Popen([str(KPI_BIN), "run", str(params), "--out", str(out), "--no-progress", "--jobs", "2",
                            "--team", "east-1", "--team", "east-2"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    procs = _wait_for_kernels(run.pid, 2)
    t0 = time.monotonic()
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
    stdout, stderr = run.communicate(timeout=30)
    took = time.monotonic() - t0
    assert run.returncode == 130, stdout + stderr
    assert "interrupted: every notebook run was stopped and nothing of this run was published" in stderr
    assert "Traceback" not in stderr
    assert took < 15 and _left_after(procs) == []
    assert _digest(out / "2026Q3") == before
    assert sorted(p.name for p in out.iterdir()) == [".kpi-workbook.lock", "2026Q3"]


def test_sigterm_is_handled_like_ctrl_c(probe):
    params, out = probe
    _mode(params, "sleep:60")
    run = subprocess.Popen([str(KPI_BIN), "run", str(params), "--out", str(out), "--no-progress", "--team", "east-1"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    procs = _wait_for_kernels(run.pid, 1)
    run.terminate()
    stdout, stderr = run.communicate(timeout=30)
    assert run.returncode == 130 and "nothing of this run was published" in stderr, stdout + stderr
    assert _left_after(procs) == []
    assert not (out / "2026Q3").exists()
