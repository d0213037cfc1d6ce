"""Crash safety, determinism and escaping of user strings, end to end."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import KPI_BIN, ROOT, run_cli
from helpers.runner import notebook_scope

pytestmark = pytest.mark.slow
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def hostile_params(tmp_path_factory, demo_dir, demo_params) -> Path:
    """The demo with one east-1 manager named like an XSS payload."""
    root = tmp_path_factory.mktemp("hostile")
    data = root / "data"
    shutil.copytree(demo_dir, data)
    m = pd.read_csv(data / "managers.csv", dtype=str, keep_default_na=False)
    m.loc[m["team_id"] == "east-1", "name"] = m.loc[m["team_id"] == "east-1", "name"].where(
        m.loc[m["team_id"] == "east-1"].index != m.index[m["team_id"] == "east-1"][0], HOSTILE)
    m.to_csv(data / "managers.csv", index=False)
    params = yaml.safe_load(demo_params.read_text(encoding="utf-8"))
    params["data"]["folder"] = str(data)
    p = root / "p.yaml"
    p.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    return p


def digest_tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_user_strings_are_escaped_in_html_and_browser(hostile_params, tmp_path, browser):
    out = tmp_path / "out"
    proc = run_cli("run", str(hostile_params), "--team", "east-1", "--out", str(out), "--no-progress")
    assert proc.returncode == 0, proc.stderr[-2000:]
    pages = sorted((out / "2026Q3" / "east-1").glob("*.html"))
    notebooks = yaml.safe_load(hostile_params.read_text(encoding="utf-8"))["notebooks"]
    per_team = [nb for nb in notebooks if notebook_scope(ROOT / "notebooks" / f"{nb}.ipynb") == "team"]
    assert [p.stem for p in pages] == sorted(per_team)
    for page_path in pages:  # every notebook shows the manager's name; none may run it
        html = page_path.read_text(encoding="utf-8")
        assert "&lt;img src=x onerror=alert(1)&gt;" in html, page_path.name
        assert "<img src=x" not in html, page_path.name
    for page_path in (out / "2026Q3" / "_company").glob("*.html"):  # the leadership summary may name them too
        assert "<img src=x" not in page_path.read_text(encoding="utf-8"), page_path.name
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto((out / "2026Q3" / "east-1" / "00_data_quality.html").as_uri())
    page.wait_for_load_state("load")
    assert HOSTILE in page.locator("main").inner_text()  # shown as text
    assert page.locator('img[src="x"]').count() == 0 and dialogs == []
    page.close()


def test_two_runs_give_byte_identical_csv(demo_params, tmp_path):
    digests = []
    for name in ("a", "b"):
        out = tmp_path / name
        proc = run_cli("run", str(demo_params), "--team", "south-1", "--out", str(out), "--no-progress")
        assert proc.returncode == 0, proc.stderr[-2000:]
        digests.append({k: v for k, v in digest_tree(out / "2026Q3").items() if k.endswith(".csv")})
    assert digests[0] and digests[0] == digests[1]


@pytest.fixture(scope="module")
def dq_params(demo_params, tmp_path_factory) -> Path:
    """The demo params running notebook 00 only (a short run to kill)."""
    params = yaml.safe_load(demo_params.read_text(encoding="utf-8"))
    params["notebooks"] = ["00_data_quality"]
    p = tmp_path_factory.mktemp("dq") / "p.yaml"
    p.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    return p


@pytest.mark.parametrize("delay", [1.5, 4.0, 7.0])
def test_kill_9_leaves_previous_reports_intact(dq_params, tmp_path, delay):
    out = tmp_path / "out"
    args = [str(KPI_BIN), "run", str(dq_params), "--team", "east-2", "--out", str(out), "--no-progress"]
    first = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    before = digest_tree(out / "2026Q3")
    victim = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(delay)
    if victim.poll() is None:
        os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=60)
    period = out / "2026Q3"
    if period.exists():
        after = digest_tree(period)
        # either the old reports, untouched, or (if the run had finished) a complete new set
        if victim.returncode != 0:
            assert after == before
        assert not [k for k in after if k.endswith(".tmp") or "/." in "/" + k]
    else:  # killed between the two renames of the publish step: the old folder is aside
        assert (out / ".previous-2026Q3").exists()
    again = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert (period / "east-2" / "00_data_quality.html").exists()
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # the rerun cleaned up
