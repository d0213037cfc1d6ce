"""A real browser (headless Chromium) opens the index and a team report."""

from __future__ import annotations

import pytest

from conftest import ROOT
from helpers.plan.params import load_params
from helpers.run.runner import notebook_scope

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def open_page(browser, path):
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.console = []  # what the page logged, e.g. a blocked script
    page.on("console", lambda m: page.console.append(m.text))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, requests


def test_index_and_team_report(browser, demo_run):
    _, period_dir = demo_run
    page, requests = open_page(browser, period_dir / "index.html")
    assert page.locator("h1").inner_text() == "报告索引"
    rows = page.locator("#reports tr[data-team]")
    assert rows.count() == 6  # one row per team
    assert page.locator("#reports tr.kpi-group").all_inner_texts() == ["华东 · 2 个团队", "华北 · 2 个团队",
                                                                       "华南 · 2 个团队"]
    # the filter box runs (its script is allowed by hash in the CSP) and keeps only matching rows
    page.fill("#kpi-filter", "华南")
    visible = [r.get_attribute("data-team") for r in rows.all() if r.is_visible()]
    assert visible == ["south-1", "south-2"]
    assert page.locator("#reports tr.kpi-group:visible").all_inner_texts() == ["华南 · 2 个团队"]
    page.fill("#kpi-filter", "east-2")
    assert [r.get_attribute("data-team") for r in rows.all() if r.is_visible()] == ["east-2"]
    page.fill("#kpi-filter", "")
    assert sum(r.is_visible() for r in rows.all()) == 6
    assert not [m for m in page.console if "Content Security Policy" in m]
    links = page.locator("#reports a")
    per_team = [nb for nb in load_params(ROOT / "params" / "demo.yaml").notebooks
                if notebook_scope(ROOT / "notebooks" / f"{nb}.ipynb") == "team"]
    assert links.count() == 6 * len(per_team)
    assert page.locator('a[href="_company/05_leadership_summary.html"]').count() == 1
    href = links.first.get_attribute("href")
    page.close()

    report, requests = open_page(browser, period_dir / href)
    headings = report.locator("main h2").all_inner_texts()
    for h in ("概览", "数据覆盖", "校验结果", "KPI实际值", "月度趋势", "客户结构"):
        assert any(h in x for x in headings), (h, headings)
    assert "华东一部" in report.locator("header.kpi-title").inner_text()
    sizes = report.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
    assert len(sizes) >= 4 and all(ok and w > 300 for ok, w in sizes)
    assert report.locator("nav.kpi-toc a").count() >= 6
    # offline: the page asks for nothing but itself (images are inline data: URIs)
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    # the Chinese text is laid out with a CJK font, not tofu boxes: a glyph run of 4
    # CJK characters must be wider than 3 em (tofu fallbacks are narrow or zero-width)
    width = report.evaluate(
        "(() => { const s = document.createElement('span'); s.style.fontSize='20px'; s.textContent='客户经理';"
        " document.body.appendChild(s); const w = s.getBoundingClientRect().width; s.remove(); return w; })()"
    )
    assert width >= 60
    report.close()
