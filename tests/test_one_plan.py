"""One plan, scored one way (issue 14), checked on what the demo run publishes.

Every expectation is computed here from the published CSVs or the demo's raw data, not
taken from the code under test: the company target from orders.csv by hand, the sums
with pandas, the gaps of the sentences from the numbers printed beside them."""

from __future__ import annotations

import math
import re
from html import unescape
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def _teams(period_dir: Path) -> list[Path]:
    return sorted(p for p in period_dir.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def test_scenario_ranks_under_the_plan_equal_the_review(demo_run):
    """For every team, each manager's rank under the plan's scheme in scenario_ranks.csv
    (notebook 03) is rank_team in scorecard.csv (notebook 04)."""
    _, period_dir = demo_run
    checked = 0
    for team in _teams(period_dir):
        sr = pd.read_csv(team / "scenario_ranks.csv", dtype={"manager_id": str})
        card = pd.read_csv(team / "scorecard.csv", dtype={"manager_id": str}).set_index("manager_id")
        mine = sr[sr["chosen"]].set_index("manager_id")
        assert len(mine) > 0
        assert mine["rank"].astype(int).to_dict() == card.loc[mine.index, "rank_team"].astype(int).to_dict(), team.name
        assert (mine["score"] - card.loc[mine.index, "total"]).abs().max() < 1e-6
        checked += len(mine)
    assert checked >= 40


def test_targets_add_up_to_the_company_goal(demo_run, demo_dir):
    """Σ manager targets = team target, teams = region, regions = company = 2025Q3 sales
    × 1.08 (from orders.csv by hand), and leadership's company sales_target is that figure."""
    _, period_dir = demo_run
    o = pd.read_csv(demo_dir / "orders.csv", parse_dates=["date"])
    base = o.loc[(o["date"] >= "2025-07-01") & (o["date"] <= "2025-09-30"), "amount"].sum()
    goal = math.floor(base * 1.08 + 0.5)
    frames = [pd.read_csv(t / "targets.csv", dtype={"manager_id": str, "entity": str}) for t in _teams(period_dir)]
    t = pd.concat(frames, ignore_index=True)
    t = t[t["level"] == "quarter"]
    additive = t.loc[t["unit"].isin(["currency", "count"]), "indicator"].unique()
    for ind in additive:
        d = t[t["indicator"] == ind]
        teams = d[d["scope"] == "team"].drop_duplicates("entity").set_index("entity")["target"]
        if teams.empty:
            continue  # not split top-down
        managers = d[d["scope"] == "manager"].groupby("team_id")["target"].sum()
        assert (managers.reindex(teams.index) - teams).abs().max() < 1e-6, ind
        company = d[d["scope"] == "company"]["target"].unique()
        if len(company):
            regions = d[d["scope"] == "region"].drop_duplicates("entity")["target"]
            assert regions.sum() == pytest.approx(company[0], abs=1e-6) == managers.sum()
    sales_company = t[(t["indicator"] == "sales") & (t["scope"] == "company")]["target"].unique()
    assert list(sales_company) == [goal]
    ls = pd.read_csv(period_dir / "_company" / "leadership_summary.csv")
    assert float(ls.loc[ls["level"] == "company", "sales_target"].iloc[0]) == goal


def test_no_part_above_its_whole_and_profit_follows_the_territory(demo_run):
    _, period_dir = demo_run
    t = pd.concat([pd.read_csv(p / "targets.csv", dtype={"manager_id": str}) for p in _teams(period_dir)])
    t = t[(t["scope"] == "manager") & (t["level"] == "quarter")]
    w = t.pivot_table(index="manager_id", columns="indicator", values="target", aggfunc="first")
    assert (w["profit"] <= w["sales"]).all()
    assert (w["key_sales"] <= w["sales"]).all()
    assert (w["new_small_customers"] <= w["new_customers"]).all()
    # profit targets differ with the territory: they rise with the sales target
    assert w["profit"].nunique() > len(w) // 2
    assert w["profit"].corr(w["sales"]) > 0.9


_NUM = r"[-+]?[\d,]+(?:\.\d+)?%?"
_GAP = re.compile(rf"({_NUM})，(高于|低于)[^（，。]*（({_NUM})）([\d,]+(?:\.\d+)?)( 个百分点| 分|%)?")


def _num(s: str) -> float:
    return float(s.replace(",", "").rstrip("%"))


def test_every_quoted_gap_is_the_difference_of_the_numbers_shown(demo_run):
    """Each strength or weakness sentence of the quarterly reviews ("毛利率 25.6%，低于公司
    中位数（27.1%）1.5 个百分点") quotes the gap between the two numbers it prints."""
    _, period_dir = demo_run
    found = 0
    for team in _teams(period_dir):
        text = unescape(re.sub(r"<[^>]+>", " ", (team / "04_quarterly_review.html").read_text(encoding="utf-8")))
        for m in _GAP.finditer(text):
            v, b, gap, unit = _num(m.group(1)), _num(m.group(3)), _num(m.group(4)), m.group(5) or ""
            if unit == "%":  # money and counts: the gap relative to the benchmark, one decimal
                assert gap == pytest.approx(round(abs(v - b) / b * 100, 1), abs=1e-9), m.group(0)
            else:  # percentage points or points: the plain difference, as printed
                decimals = len(m.group(4).split(".")[1]) if "." in m.group(4) else 0
                assert gap == pytest.approx(round(abs(v - b), decimals), abs=1e-9), m.group(0)
            found += 1
    assert found >= 50
