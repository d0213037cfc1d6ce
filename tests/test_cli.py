"""End to end: `kpi-workbook demo`, bad input, and a failing notebook."""

from __future__ import annotations

import json
import re

import nbformat
import pandas as pd
import pytest
import yaml

from conftest import ROOT, run_cli

pytestmark = pytest.mark.slow
TEAMS = ["east-1", "east-2", "north-1", "north-2", "south-1", "south-2"]


def test_demo_writes_every_team(demo_run):
    proc, period_dir = demo_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "31 份报告完成，0 份失败" in proc.stdout  # 6 teams × 5 notebooks + the leadership summary
    index = (period_dir / "index.html").read_text(encoding="utf-8")
    for team in TEAMS:
        assert (period_dir / team / "00_data_quality.html").stat().st_size > 50_000
        assert f'href="{team}/00_data_quality.html"' in index
    assert 'href="_company/05_leadership_summary.html"' in index
    assert not (period_dir / "failures").exists()
    # no staging, work folder or journal left: only the output folder's lock file
    assert sorted(p.name for p in period_dir.parent.iterdir() if p.name.startswith(".")) == [".kpi-workbook.lock"]


def test_every_demo_report_shows_its_charts(demo_run):
    """Kernels forked through the run's fork server draw with the inline backend: every
    demo report shows each chart its notebook draws (a cell calling ``…_chart``,
    ``…_bars``, ``…_trend`` or ``…_mix``), for every team; 04 also draws one in each
    manager's section, so it shows at least its own."""
    _, period_dir = demo_run
    counts: dict[str, list[int]] = {}
    for page in sorted(period_dir.glob("*/0*.html")):
        counts.setdefault(page.stem, []).append(page.read_text(encoding="utf-8").count("data:image/png"))
    for name, shown in counts.items():
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        drawn = sum(len(re.findall(r"\.\w+_(?:chart|bars|trend|mix)\(", c.source)) for c in nb.cells if c.cell_type == "code")
        assert drawn >= 1 and len(shown) == (1 if name.startswith("05") else len(TEAMS)), (name, shown)
        assert all(n >= drawn if name.startswith("04") else n == drawn for n in shown), (name, drawn, shown)
    assert len(counts) == 6


def test_demo_key_numbers(demo_run):
    """The teams' KPI CSVs add up to the company totals computed straight from the data."""
    _, period_dir = demo_run
    frames = [pd.read_csv(period_dir / t / "kpi_actuals.csv") for t in TEAMS]
    allk = pd.concat(frames)
    managers = set(allk["manager_id"])
    assert len(managers) == 48 and allk.groupby("manager_id")["period"].nunique().eq(1).all()
    assert not allk.duplicated(["manager_id", "kpi", "segment"]).any()  # each manager in one team only
    orders = pd.read_csv(ROOT / "data" / "demo" / "orders.csv", parse_dates=["date"])
    q3 = orders[orders["date"].dt.to_period("Q") == pd.Period("2026Q3")]
    sales = allk[(allk["kpi"] == "sales") & (allk["segment"] == "all")]["value"].sum()
    assert sales == pytest.approx(q3["amount"].sum(), rel=1e-9)
    key = allk[(allk["kpi"] == "sales") & (allk["segment"] == "key")]["value"].sum()
    cust = pd.read_csv(ROOT / "data" / "demo" / "customers.csv")
    key_direct = q3[q3["customer_id"].isin(cust.loc[cust["segment"] == "key", "customer_id"])]["amount"].sum()
    assert key == pytest.approx(key_direct, rel=1e-9)


def test_manifest(demo_run):
    _, period_dir = demo_run
    m = json.loads((period_dir / "manifest.json").read_text(encoding="utf-8"))
    assert m["tool"] == "kpi-workbook" and m["format"] == 2 and m["period"] == "2026Q3"
    run = m["runs"][m["last_run"]]  # one run produced every report
    assert run["teams"] == TEAMS and {e["run"] for e in m["reports"]} == {m["last_run"]}
    assert re.fullmatch(r"[0-9a-f]{64}", run["inputs"]["data/orders"]["sha256"])
    assert "pandas" in run["packages"] and run["params"]["language"] == "zh"
    assert run["timings_seconds"]["notebooks"] > 0 and all(r["ok"] for r in run["results"])
    assert len(m["reports"]) == 31 and all(e["status"] == "ok" for e in m["reports"])
    scorecard = next(e for e in m["reports"] if e["team"] == "east-1" and e["notebook"] == "04_quarterly_review")
    assert scorecard["html"] == "east-1/04_quarterly_review.html" and "scorecard.xlsx" in scorecard["artifacts"]
    assert all((period_dir / e["html"]).is_file() for e in m["reports"])


def test_reports_are_private_and_static(demo_run):
    """No team report (any notebook) names another team's manager; no code, no remote links."""
    _, period_dir = demo_run
    managers = pd.read_csv(ROOT / "data" / "demo" / "managers.csv")
    pages = 0
    for team in TEAMS:
        mine = pd.read_csv(period_dir / team / "kpi_actuals.csv")["manager_id"].unique()
        others = managers[~managers["manager_id"].isin(mine)]["name"]
        statements = 0
        for page in sorted((period_dir / team).glob("*.html")):
            html = page.read_text(encoding="utf-8")
            leaked = [n for n in others if n in html]
            assert not leaked, f"{team}/{page.name} names other teams' managers: {leaked}"
            assert "open_team(" not in html and "Traceback" not in html
            assert not re.search(r'(src|href)="https?://', html)
            if page.name.startswith("statement_"):  # a manager's own statement names no teammate either
                me = page.stem.removeprefix("statement_")
                mates = managers[managers["manager_id"].isin(mine) & (managers["manager_id"] != me)]["name"]
                assert not [n for n in mates if n in html], f"{team}/{page.name} names a teammate"
                statements += 1
            else:
                pages += 1
        roster = pd.read_csv(period_dir / team / "scorecard.csv")["manager_id"]
        assert statements == len(roster)  # one statement per manager of the team's review
    assert pages == 6 * 5


def test_bad_params_exit_2_and_write_nothing(tmp_path):
    params = tmp_path / "bad.yaml"
    params.write_text("data: {folder: nowhere}\nperiod: 2026Q9\ncolour: blue\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = run_cli("run", str(params), "--out", str(out), "--no-progress")
    assert proc.returncode == 2
    assert "key 'period'" in proc.stderr and "key 'colour': unknown key" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not out.exists()


def test_unknown_team_and_period_on_command_line(tmp_path, demo_params):
    out = tmp_path / "out"
    proc = run_cli("run", str(demo_params), "--team", "west-9", "--out", str(out))
    assert proc.returncode == 2 and "unknown team(s): west-9" in proc.stderr and "east-1" in proc.stderr
    proc = run_cli("run", str(demo_params), "--period", "2030Q1", "--out", str(out))
    assert proc.returncode == 2 and "--period: no orders in 2030Q1" in proc.stderr
    proc = run_cli("run", str(demo_params), "--period", "../../etc", "--out", str(out))
    assert proc.returncode == 2 and "is not a review period" in proc.stderr
    assert not out.exists()


def test_validate(demo_params):
    proc = run_cli("validate", str(demo_params))
    assert proc.returncode == 0 and "data ok" in proc.stdout and "orders" in proc.stdout


def test_failing_notebook_is_isolated(tmp_path, demo_params):
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell('params_file = ""\nteam = "east-1"\nperiod = ""\nlanguage = ""\nworkspace = ""\noutput_dir = ""')
    p.metadata["tags"] = ["parameters"]
    nb.cells = [p, nbformat.v4.new_markdown_cell("## 检查"),
                nbformat.v4.new_code_cell('assert team != "north-1", "boom for " + team\nprint("ok", team)')]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, nbdir / "check.ipynb")
    params = tmp_path / "p.yaml"
    cfg = yaml.safe_load(demo_params.read_text(encoding="utf-8"))
    cfg.update(notebook_folder=str(nbdir), notebooks=["check"])
    params.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    proc = run_cli("run", str(params), "--team", "east-1", "--team", "north-1", "--out", str(out), "--jobs", "2")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAILED north-1/check" in proc.stdout and "boom for north-1" in proc.stdout, proc.stdout + proc.stderr
    period = out / "2026Q3"
    assert (period / "east-1" / "check.html").exists()
    assert not (period / "north-1").exists()
    failed = nbformat.read(period / "failures" / "north-1__check.ipynb", as_version=4)
    assert any(o.output_type == "error" for c in failed.cells if c.cell_type == "code" for o in c.outputs)
    assert "失败" in (period / "index.html").read_text(encoding="utf-8")


def test_period_scoped_notebook_runs_once(tmp_path, demo_params):
    """A notebook with metadata kpi_workbook.scope = period runs once, across teams."""
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell('params_file = ""\nteam = "x"\nperiod = ""\nlanguage = ""\nworkspace = ""\noutput_dir = ""')
    p.metadata["tags"] = ["parameters"]
    nb.cells = [p, nbformat.v4.new_markdown_cell("## 汇总"), nbformat.v4.new_code_cell('print("team=[" + team + "]")')]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["kpi_workbook"] = {"scope": "period"}
    nbformat.write(nb, nbdir / "summary.ipynb")
    cfg = yaml.safe_load(demo_params.read_text(encoding="utf-8"))
    cfg.update(notebook_folder=str(nbdir), notebooks=["summary"])
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    proc = run_cli("run", str(params), "--out", str(out), "--no-progress")
    assert proc.returncode == 0, proc.stderr[-2000:]
    period = out / "2026Q3"
    html = (period / "_company" / "summary.html").read_text(encoding="utf-8")
    assert "team=[]" in html  # no team: the notebook sees every team
    assert not any((period / t).exists() for t in TEAMS)
    assert 'href="_company/summary.html"' in (period / "index.html").read_text(encoding="utf-8")


def test_a_short_history_validates_and_runs_with_the_shipped_presets(tmp_path, demo_params):
    """Ten months of data, two regions (the presets name a third): validate passes with
    warnings, and the run sets targets on the last period instead of the missing same
    period last year and backtests only what the history allows — no notebook fails."""
    from helpers.data.demo import DemoConfig, write_demo

    data = write_demo(tmp_path / "data", DemoConfig(start="2025-12", end="2026-09", managers=12, teams=2))
    orders = pd.read_csv(data / "orders.csv", dtype=str)
    orders.drop(columns="profit").to_csv(data / "orders.csv", index=False)  # an export without profit
    cfg = yaml.safe_load(demo_params.read_text(encoding="utf-8"))
    cfg["data"]["folder"] = str(data)
    cfg["notebooks"] = ["01_target_setting", "04_quarterly_review", "05_leadership_summary"]
    params = tmp_path / "short.yaml"
    params.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    v = run_cli("validate", str(params))
    assert v.returncode == 0, v.stdout[-2000:] + v.stderr[-2000:]
    out = tmp_path / "out"
    r = run_cli("run", str(params), "--out", str(out), "--no-progress", "--team", "east-1")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert not (out / "2026Q3" / "failures").exists()
    html = (out / "2026Q3" / "east-1" / "01_target_setting.html").read_text(encoding="utf-8")
    assert "去年同期（2025Q3）没有数据，改用上一期（2026Q2）作基数" in html
    # no profit in the data: not scored and never shown as 0 (the scheme's other weights scaled up)
    card = pd.read_csv(out / "2026Q3" / "east-1" / "scorecard.csv")
    assert not [c for c in card.columns if c.startswith("profit")] or card.filter(like="profit").isna().all().all()
    assert card["total"].notna().all()
