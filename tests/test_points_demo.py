"""The shipped points-plan demo (params/plans/points/) runs end to end through the command
line, and the figures a manager reads on the pay statement are recomputed here from the
raw order lines with plain pandas: the declared measures (a coefficient-weighted volume,
two key product lines), the points of each rule with their caps, the bonus at the pass
mark, and the position level with its base pay."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import ROOT, run_cli

PLAN = ROOT / "params" / "plans" / "points"
COEF = {"高端系列": 1.2, "增值服务": 1.5, "标准系列": 1.0, "配件耗材": 0.3}
KEY_LINES = ("高端系列", "增值服务")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def points_run(tmp_path_factory, demo_dir):
    """The points plan for one team, every notebook, on the session's demo data (every
    other setting the shipped plan's: its paths made absolute)."""
    folder = tmp_path_factory.mktemp("points")
    raw = yaml.safe_load((PLAN / "run.yaml").read_text(encoding="utf-8"))
    raw["data"].update(folder=str(demo_dir), demo=False)
    raw["teams"] = ["east-1"]
    for key in ("notebook_folder", "indicators", "strategy", "alternative_strategy", "weights", "targets",
                "incentives", "scoring"):
        raw[key] = str((PLAN / raw[key]).resolve())
    raw["output"] = {"folder": str(folder / "reports")}
    params = folder / "params" / "run.yaml"
    params.parent.mkdir()
    params.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    proc = run_cli("run", str(params), "--no-progress")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return folder / "reports" / "2026Q3" / "east-1", demo_dir


def _month_sums(demo_dir: Path) -> pd.DataFrame:
    o = pd.read_csv(demo_dir / "orders.csv", dtype={"manager_id": str, "product_line": str})
    o["month"] = o["date"].str[:7]
    o["wv"] = o["amount"] * o["product_line"].map(COEF).fillna(1.0)
    o["kl"] = o["amount"].where(o["product_line"].isin(KEY_LINES), 0.0)
    return o.groupby(["manager_id", "month"])[["wv", "kl"]].sum()


def test_every_report_names_the_declared_indicators_as_the_yaml_does(points_run):
    """01 sets their targets, 02 puts them in the KPI tree, 03 weighs them, 04 scores them:
    each by the names in indicators.yaml (never by the id)."""
    out, _ = points_run
    names = ["折算业务量", "重点产品线销售额", "高端系列销售占比"]
    for nb, need in (("01_target_setting", names), ("02_kpi_decomposition", names),
                     ("03_weighting_scenarios", names[:2]), ("04_quarterly_review", names)):
        html = (out / f"{nb}.html").read_text(encoding="utf-8")
        for name in need:
            assert name in html, f"{name} not in {nb}"
        assert "weighted_volume" not in html and "premium_share" not in html, nb
    assert (out.parent / "_company" / "05_leadership_summary.html").is_file()


def test_the_shipped_plan_validates(demo_dir):
    proc = run_cli("validate", str(PLAN / "run.yaml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_points_bonus_on_the_statement_recomputed_from_the_order_lines(points_run):
    out, demo_dir = points_run
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    lines = pd.DataFrame(res["pay_lines"])
    sums = _month_sums(demo_dir)
    checked = 0
    for (m, month), g in lines[lines["component"].isin(["points", "points_bonus"])].groupby(["manager_id", "month"]):
        wv, kl = sums.loc[(m, month)] if (m, month) in sums.index else (0.0, 0.0)
        pts = g[g["component"] == "points"].reset_index(drop=True)
        assert pts.loc[0, "quantity"] == pytest.approx(wv, rel=1e-12)      # the weighted volume the line shows
        assert pts.loc[1, "quantity"] == pytest.approx(kl, rel=1e-12)      # the key lines' sales
        nc = pts.loc[2, "quantity"]                                          # new customers (a built-in KPI)
        per_key_line = 4 if month >= "2026-09" else 3  # the plan's change from September (incentives.yaml)
        points = min(wv / 10000 * 8, 1000) + kl / 10000 * per_key_line + min(nc * 50, 250)
        bonus = min(1400 * points / 700, 3500)
        assert float(g.loc[g["component"] == "points_bonus", "subtotal"].iloc[0]) == pytest.approx(bonus, abs=1e-6)
        checked += 1
    assert checked >= 20  # eight managers × three months (less the months a manager was not active)
    html = (out / "statement_M001.html").read_text(encoding="utf-8")
    assert "积分：折算业务量" in html and "及格线 700" in html
    assert ("适用的激励方案：“2026年积分制方案（示例）”、“2026年积分制方案·9月起加大重点产品线积分（示例）”"
            "（2026-09 起执行）。") in html


def test_position_level_and_base_pay_recomputed(points_run):
    """M001's level in 2026Q3, replayed by hand from the first quarter with four quarters of
    data behind it (start level 2, at most one step a quarter): each quarter's level is set
    on the four quarters before it, the weighted volume summed from the order lines, the
    retention rate averaged over the quarters."""
    out, demo_dir = points_run
    from helpers.data.tables import load_dataset
    from helpers.kpis.measures import kpi_actuals

    o = pd.read_csv(demo_dir / "orders.csv", dtype={"manager_id": str, "product_line": str})
    o = o[o["manager_id"] == "M001"]
    o["q"] = pd.PeriodIndex(pd.to_datetime(o["date"]), freq="Q")
    wv_q = (o["amount"] * o["product_line"].map(COEF)).groupby(o["q"]).sum()
    a = kpi_actuals(load_dataset(demo_dir), "Q")
    r = a[(a["manager_id"] == "M001") & (a["kpi"] == "retention_rate") & (a["segment"] == "all")]
    ret_q = pd.Series(r["value"].to_numpy(), index=pd.PeriodIndex(r["period"], freq="Q"))
    table = yaml.safe_load((PLAN / "incentives.yaml").read_text(encoding="utf-8"))["levels"]["table"]
    first = pd.Period(a["period"].min(), freq="Q")
    level, q = 2, first + 4
    while q <= pd.Period("2026Q3", freq="Q"):
        window = [q - k for k in range(4, 0, -1)]
        wv, ret = float(wv_q.reindex(window).fillna(0).sum()), float(ret_q.reindex(window).dropna().mean())
        reached = 1
        for lv in table[1:]:
            t = lv["thresholds"]
            if wv >= t["weighted_volume"] and ret >= t.get("retention_rate", -1):
                reached = lv["level"]
            else:
                break
        level = max(level - 1, min(level + 1, reached))
        q += 1
    html = (out / "statement_M001.html").read_text(encoding="utf-8")
    base = next(lv["base_pay"] for lv in table if lv["level"] == level)
    assert f"岗位等级为 {level} 级，月基本工资 {base:,.2f} 元" in html
    assert f"{wv:,.0f}" in html and f"{ret:.1%}" in html  # the values of the last window, as shown
    assert "前 4 个季度（2025Q3–2026Q2）" in html


def test_payroll_has_each_managers_level_and_base_pay_as_the_statement(points_run):
    """HR's payroll sheet (the workbook's first) carries the position level and the monthly
    base pay it sets, the same as each statement and the machine scorecard say."""
    out, _ = points_run
    payroll = pd.read_excel(out / "scorecard.xlsx", sheet_name=0, engine="openpyxl", dtype={0: str})
    card = pd.read_csv(out / "scorecard.csv", dtype={"manager_id": str}).set_index("manager_id")
    assert len(payroll) == len(card) == 8
    for mid, level, base in zip(payroll.iloc[:, 0], payroll["岗位等级"], payroll["月基本工资"]):
        html = (out / f"statement_{mid}.html").read_text(encoding="utf-8")
        assert f"岗位等级为 {int(level)} 级，月基本工资 {float(base):,.2f} 元" in html
        assert card.loc[mid, "position_level"] == level and card.loc[mid, "monthly_base_pay"] == base


def test_the_team_report_shows_levels_but_keeps_base_pay_private(points_run):
    """The team review (pay private by default) shows each manager's level and what the
    next one needs, never the base pay; the manager's own statement shows it."""
    out, _ = points_run
    team = (out / "04_quarterly_review.html").read_text(encoding="utf-8")
    assert "基本工资见本人的确认单" in team and "月基本工资" not in team
    assert "月基本工资" in (out / "statement_M001.html").read_text(encoding="utf-8")
