"""The report index: teams grouped by region, failures and stale reports marked, the filter
script allowed by hash.  The index is built from a manifest (everything published), made
here with :func:`helpers.run.publish.merge` from task results."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from helpers.present.index_page import index_html
from helpers.run.publish import merge, read_manifest
from helpers.run.runner import TaskResult

NOTEBOOKS = ["00_data_quality", "04_quarterly_review"]
LABELS = {"e1": ("华东一部", "华东"), "n1": ("华北一部", "华北"), "e2": ("华东二部", "华东")}
TITLES = {"zh": "演示公司", "en": "Demo Co."}


def write_index(language: str, results: list[TaskResult], folder, old: dict | None = None) -> dict:
    """Merge ``results`` into ``old`` (default: nothing published yet) and write the index."""
    manifest, _, _ = merge(old or read_manifest(folder), results, "p1-00000001", {"period": "2026Q3"}, LABELS, language)
    (folder / "index.html").write_text(index_html(manifest, language, TITLES[language], NOTEBOOKS), encoding="utf-8")
    return manifest


def test_index_groups_teams_by_region_and_marks_failures(tmp_path):
    results = [TaskResult(t, nb, not (t == "n1" and nb == "04_quarterly_review"), 1.0)
               for t in ("e1", "n1", "e2") for nb in ("00_data_quality", "04_quarterly_review")]
    write_index("zh", results, tmp_path)
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    groups = re.findall(r'<tr class="kpi-group" id="(region-\d)"><th colspan="4">([^<]*)</th>', html)
    assert groups == [("region-1", "华东 · 2 个团队"), ("region-2", "华北 · 1 个团队")]
    # rows follow their region's header: e1 and e2 (华东) before n1 (华北), whatever the team order
    rows = re.findall(r'<tr data-team="(\w+)" data-search="([^"]*)" data-failed="(\d)">', html)
    assert rows == [("e1", "e1 华东一部 华东", "0"), ("e2", "e2 华东二部 华东", "0"), ("n1", "n1 华北一部 华北", "1")]
    assert html.count('href="e1/') == 2 and html.count('href="n1/') == 1  # a failed report is not linked
    assert 'id="kpi-only-failed"' in html  # the switch exists only when something failed
    assert "已发布 5 份报告；0 份为上次成功的旧版（最近一次运行失败）；1 份失败、从未发布" in html


def test_no_failed_switch_when_only_the_company_report_failed(tmp_path):
    """The switch filters team rows; with every team report done it would hide them all."""
    results = [TaskResult(t, nb, True, 1.0) for t in ("e1", "n1", "e2") for nb in ("00_data_quality", "04_quarterly_review")]
    results.append(TaskResult("_company", "05_leadership_summary", False, 1.0))
    write_index("zh", results, tmp_path)
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "已发布 6 份报告；0 份为上次成功的旧版（最近一次运行失败）；1 份失败、从未发布" in html
    assert 'id="kpi-only-failed"' not in html


def test_a_failed_rerun_keeps_the_last_good_report_marked_stale(tmp_path):
    """Published first; the rerun of n1's review fails: its report stays linked, marked as
    an earlier version with the error beside it; a report that never worked has no link."""
    first = write_index("zh", [TaskResult(t, nb, True, 1.0) for t in ("e1", "n1", "e2") for nb in NOTEBOOKS], tmp_path)
    rerun = [TaskResult("n1", "04_quarterly_review", False, 1.0, error="KeyError: 'sales'"),
             TaskResult("n1", "00_data_quality", True, 1.0)]
    second = write_index("zh", rerun, tmp_path, old=first)
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert '<a href="n1/04_quarterly_review.html" class="kpi-stale" title="KeyError: &#39;sales&#39;">旧版</a>' in html
    assert html.count('href="e1/') == 2 and html.count('href="n1/') == 2  # all six still linked
    assert "已发布 5 份报告；1 份为上次成功的旧版（最近一次运行失败）；0 份失败、从未发布" in html
    assert '<a href="failures/n1__04_quarterly_review.ipynb">执行记录</a>' in html
    stale = [e for e in second["reports"] if e["status"] == "stale"]
    assert [(e["team"], e["notebook"], e["run"], e["failure"]["error"]) for e in stale] == \
        [("n1", "04_quarterly_review", "p1-00000001", "KeyError: 'sales'")]


def test_index_script_is_allowed_by_its_own_hash(tmp_path):
    """The CSP names the SHA-256 of exactly the text inside <script> (CSP Level 3 hash-source)."""
    write_index("en", [TaskResult(t, nb, True, 1.0) for t in ("e1", "n1", "e2")
                       for nb in ("00_data_quality", "04_quarterly_review")], tmp_path)
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    (script,) = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html).group(1)
    assert f"script-src 'sha256-{digest}'" in csp
    assert "default-src 'none'" in csp and "unsafe-inline'; img-src" in csp  # styles inline, no script inline
    assert 'id="kpi-only-failed"' not in html
    assert "Team reports" in html and 'placeholder="team, id or region"' in html
    assert "<title>Demo Co. · 2026Q3</title>" in html


@pytest.mark.browser
def test_filter_and_failed_switch_in_a_browser(tmp_path, browser):
    """The page's script, run by Chromium under the page's own CSP: the filter matches
    team id, name or region; the switch keeps the teams with a failed report."""
    results = [TaskResult(t, nb, not (t == "n1" and nb == "04_quarterly_review"), 1.0)
               for t in ("e1", "n1", "e2") for nb in ("00_data_quality", "04_quarterly_review")]
    write_index("zh", results, tmp_path)
    page = browser.new_page()
    logged: list[str] = []
    page.on("console", lambda m: logged.append(m.text))
    page.goto((tmp_path / "index.html").as_uri())
    page.wait_for_load_state("load")

    def shown() -> list[str]:
        return [r.get_attribute("data-team") for r in page.locator("tr[data-team]").all() if r.is_visible()]

    assert shown() == ["e1", "e2", "n1"]
    page.fill("#kpi-filter", "华东二")
    assert shown() == ["e2"] and page.locator("tr.kpi-group:visible").count() == 1
    page.fill("#kpi-filter", "")
    page.check("#kpi-only-failed")
    assert shown() == ["n1"]
    assert page.locator("tr.kpi-group:visible").all_inner_texts() == ["华北 · 1 个团队"]
    page.fill("#kpi-filter", "e1")  # both conditions: nothing left, every region header hidden
    assert shown() == [] and page.locator("tr.kpi-group:visible").count() == 0
    assert logged == []  # no CSP violation, no script error
    page.close()
