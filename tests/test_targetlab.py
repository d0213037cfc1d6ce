"""Tests for helpers.notebooks.targetlab (notebook 01: the target plan applied to the company).

Expected values are computed by hand (arithmetic in the comments) on the tiny
dataset of tests/conftest.py, or independently from the demo CSV files with plain
pandas (not through helpers.kpis.measures)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, tiny_tables, write_tables
from helpers.notebooks import targetlab as tl
from helpers.data.tables import load_dataset
from helpers.errors import InputError
from helpers.kpis.indicators import load_library
from helpers.plan.params import load_params
from helpers.context.targets import check_plan as check
from helpers.core.target_checks import plan_problems
from helpers.core.target_engine import TargetEngine, company_data, phase_counts
from helpers.plan.targets import TargetPlan
from helpers.plan.targets import load_target_plan as load_plan
from helpers.present.words import render
from helpers.data.plan_csv import read_targets_csv
from helpers.context.workbook import open_team

M = lambda s: pd.Period(s, freq="M")  # noqa: E731
Q3 = pd.Period("2026Q3", freq="Q")
LIB = load_library(ROOT / "params" / "indicators.yaml")


def half_up(x: float) -> float:
    return float(math.floor(x + 0.5))


def engine(folder: Path, plan: dict, **kw) -> TargetEngine:
    ds = load_dataset(folder)
    return TargetEngine(company_data(ds, "Q"), TargetPlan.model_validate(plan), LIB, "plan.yaml", **kw)


def en(notes) -> list[str]:
    """The engine's notes (phrases) worded in English, as the report shows them."""
    return [render(x, "en") for x in notes]


def mgr(res, col: str = "target") -> dict[str, float]:
    return dict(zip(res.managers["manager_id"], res.managers[col]))


# ------------------------------------------------------------------ the plan


def write_plan(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "targets.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def problems_of(path: Path) -> list[str]:
    with pytest.raises(InputError) as exc:
        load_plan(path)
    return [str(p) for p in exc.value.problems]


def test_shipped_plan_and_demo_params_are_valid():
    params_file = ROOT / "params" / "demo.yaml"
    assert check(load_params(params_file), params_file) == []
    plan = load_plan(ROOT / "params" / "targets.yaml")
    # the indicators the methodology names all have a target
    for iid in ("sales", "new_customers", "key_sales", "csat", "retention_rate", "complaint_rate",
                "new_small_customers", "small_conversion", "walkin_first_purchase", "walkin_repeat_rate"):
        assert iid in plan.indicators


def test_plan_negative_total_names_file_and_entry(tmp_path):
    p = write_plan(tmp_path, """
indicators:
  sales:
    method: topdown
    topdown: {total: {scope: company, value: -5}}
""")
    (msg,) = problems_of(p)
    assert str(p) in msg and "indicators.sales.topdown.total" in msg and "≥ 0" in msg and "-5" in msg


def test_plan_all_zero_weights_and_unknown_key(tmp_path):
    p = write_plan(tmp_path, """
indicators:
  sales:
    method: topdown
    topdown:
      total: {value: 100}
      weights: {historical_share: 0, customer_base: 0}
    growht: {rate: 0.1}
""")
    msgs = problems_of(p)
    assert any("indicators.sales.topdown.weights" in m and "all weights are 0" in m for m in msgs)
    assert any("indicators.sales.growht" in m and "unknown key" in m for m in msgs)


def test_plan_section_rules(tmp_path):
    p = write_plan(tmp_path, """
indicators:
  sales: {method: growth}
  csat: {method: blend, blend: {level: 0, growth: 0}, level: 0.8}
  key_sales: {method: growth, growth: {rate: 0.1, points: 0.01}}
""")
    msgs = "\n".join(problems_of(p))
    assert "method growth needs a 'growth' section" in msgs
    assert "all blend weights are 0" in msgs
    assert "exactly one of 'rate'" in msgs


def test_plan_problems_against_the_library():
    plan = TargetPlan.model_validate({
        "sources": {},
        "indicators": {
            "salez": {"method": "level", "level": 1},
            "csat": {"method": "topdown", "topdown": {"total": {"value": 1}}},
            "sales": {"method": "growth", "growth": {"points": 0.01}},
            "retention_rate": {"method": "level", "level": 80},
            "new_customers": {"method": "user"},
            "joint_projects": {"method": "growth", "growth": {"rate": 0.1}},
            "new_small_customers": {"method": "topdown", "topdown": {"total": {"scope": "team", "value": {"A": 5, "Z": 1}}}},
        },
        "backtest": {"indicators": ["csat", "nps"]},
    })
    got = "\n".join(str(p) for p in plan_problems(plan, LIB, "plan.yaml", teams={"A": "R", "B": "R"}))
    assert "unknown indicator 'salez'" in got
    assert "topdown splits volumes, but 'csat' is a rate" in got
    assert "points are for rates; 'sales' is a volume" in got
    assert "a rate target must be between 0 and 1, got 80" in got
    assert "'new_customers' uses method user but no targets file is named" in got
    assert "'joint_projects' cannot be computed from the data" in got
    assert "unknown team(s): Z" in got and "no total for team(s): B" in got
    assert "key 'backtest.indicators[0]'" in got and "'csat' is a rate" in got
    assert "'nps' is not in the plan's indicators" in got


def test_check_reports_unknown_managers_and_indicators_in_targets_csv(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    write_tables(tmp_path / "data", tiny_tables())
    (folder / "targets.yaml").write_text(
        "sources: {targets_csv: t.csv}\nindicators:\n  sales: {method: user}\nbacktest: {indicators: []}\n",
        encoding="utf-8")
    (folder / "t.csv").write_text("manager_id,indicator,period,target\nM1,sales,2026Q3,100\n"
                                  "M9,sales,2026Q3,100\nM2,salez,2026Q3,5\n", encoding="utf-8")
    params = folder / "run.yaml"
    params.write_text(f"data: {{folder: {tmp_path / 'data'}}}\nindicators: {ROOT / 'params' / 'indicators.yaml'}\n",
                      encoding="utf-8")
    got = [str(p) for p in check(load_params(params), params)]
    assert any("t.csv: row 3, column manager_id: unknown manager 'M9'" in g for g in got)
    assert any("t.csv: row 4, column indicator: unknown indicator 'salez'" in g for g in got)
    # a missing file is named with the plan key
    (folder / "t.csv").unlink()
    got = [str(p) for p in check(load_params(params), params)]
    assert len(got) == 1 and "key 'sources.targets_csv'" in got[0] and "file not found" in got[0]


# ------------------------------------------------------------------ tiny data, by hand
# Tiny: team A (region R); M1 employed all along; M2 joins 2026-08-16, active
# 16 + 30 = 46 of 92 days of 2026Q3 → fraction 0.5.  The data starts 2026-06: June
# is the only month before the period (sales 800 for M1, 0 new customers).


def test_tiny_growth_missing_months_new_manager_and_phasing(tiny_dir):
    e = engine(tiny_dir, {"indicators": {"sales": {"method": "growth",
                                                   "growth": {"rate": 0.1, "basis": "last_period"}}}})
    r = e.phased("sales", Q3)
    # M1: base 2026Q2 has only June (800) of its 3 months → 800 × 3 = 2400; × 1.1 = 2640
    # M2: no base → team median of full targets = 2640; pro-rated × 0.5 = 1320
    assert mgr(r) == {"M1": 2640.0, "M2": 1320.0}
    assert mgr(r, "full") == {"M1": 2640.0, "M2": 2640.0}
    notes = dict(zip(r.managers["manager_id"], map(en, r.managers["notes"])))
    assert notes["M1"] == ["base 2026Q2 has 1 of 3 months in the data, scaled up from the monthly average"]
    assert notes["M2"] == ["no own base: team median 2,640", "pro-rated to 50% of the period"]
    # months: fewer than 24 months of history → even by active days.
    # M1: 2640 / 3 = 880 each.  M2: Aug 16/31 active, Sep 30/30: 1320 × (16/31) / (16/31 + 1)
    # = 1320 × 16/47 = 449.36 and 870.64 → whole units, largest remainder: 449 + 871
    months = {(m, str(x)): v for m, x, v in r.months.itertuples(index=False)}
    assert months == {("M1", "2026-07"): 880.0, ("M1", "2026-08"): 880.0, ("M1", "2026-09"): 880.0,
                      ("M2", "2026-08"): 449.0, ("M2", "2026-09"): 871.0}
    # (June is the only month of history before the period)
    assert any("only 1 consecutive month(s)" in x for x in en(r.text))


def test_tiny_topdown_by_historical_share_and_exact_sum(tiny_dir):
    e = engine(tiny_dir, {"history_quarters": 1, "indicators": {
        "sales": {"method": "topdown", "topdown": {"total": {"value": 3000}, "weights": {"historical_share": 1}}}}})
    r = e.targets("sales", Q3)
    # window = Apr–Jun 2026, in the data only June: M1 run rate 800 / month; M2 none →
    # team median 800.  Weights run rate × share of period: 800 × 1 and 800 × 0.5 →
    # 3000 × 2/3 = 2000 and 3000 × 1/3 = 1000
    assert mgr(r) == {"M1": 2000.0, "M2": 1000.0}
    ent = r.entities.set_index(["level", "entity"])["target"]
    assert ent[("company", "company")] == ent[("region", "R")] == ent[("team", "A")] == 3000.0


def test_tiny_all_zero_bases_fall_back_to_share_of_period(tiny_dir):
    e = engine(tiny_dir, {"history_quarters": 1, "indicators": {
        "new_customers": {"method": "topdown",
                          "topdown": {"total": {"value": 5}, "weights": {"historical_share": 1}}}}})
    r = e.targets("new_customers", Q3)
    # no new customer in the window for anybody: the basis is 0 for all → split by share
    # of the period, 1 : 0.5 → quotas 3.33 and 1.67 → floors 3 + 1, the last unit to the
    # larger remainder (M2) → 3 and 2, summing exactly to 5
    assert mgr(r) == {"M1": 3.0, "M2": 2.0}
    assert any("every basis is 0" in x for x in en(r.text))


def test_tiny_level_rate_not_prorated_and_no_month_before_joining(tiny_dir):
    e = engine(tiny_dir, {"indicators": {"csat": {"method": "level", "level": 0.8}}})
    r = e.phased("csat", Q3)
    assert mgr(r) == {"M1": 0.8, "M2": 0.8}
    got = {(m, str(x)) for m, x, _ in r.months.itertuples(index=False)}
    assert got == {("M1", "2026-07"), ("M1", "2026-08"), ("M1", "2026-09"), ("M2", "2026-08"), ("M2", "2026-09")}


def test_tiny_no_base_for_anyone_is_a_clear_error(tiny_dir):
    e = engine(tiny_dir, {"indicators": {"sales": {"method": "growth", "growth": {"rate": 0.1}}}})
    # 2026Q2: neither the same period last year (2025Q2) nor the last period (2026Q1) has data
    with pytest.raises(InputError, match="no manager has data for the base period 2025Q2 for 'sales'"):
        e.targets("sales", pd.Period("2026Q2", freq="Q"))
    # 2026Q3: no 2025Q3 either, but the last period (2026Q2) has data: it is the base, and the note says so
    r = e.targets("sales", Q3)
    assert any("basis_fallback ago=2025Q3 last=2026Q2" in str(x) for x in r.text)


def test_new_team_without_history_gets_documented_fallback(tmp_path):
    t = tiny_tables()
    t["managers"].append({"manager_id": "M3", "name": "张三", "team_id": "B", "region": "R",
                          "hire_date": "2026-07-01", "leave_date": ""})
    t["orders"].append({"order_id": "O9", "date": "2026-07-09", "customer_id": "C1", "manager_id": "M3",
                        "amount": 50, "profit": 5, "product_line": "P"})
    folder = write_tables(tmp_path / "d", t)
    e = engine(folder, {"indicators": {"sales": {"method": "topdown", "topdown": {
        "total": {"scope": "team", "growth": 0.1, "basis": "last_period"},
        "weights": {"historical_share": 1}}}}})
    r = e.targets("sales", Q3)
    # team A: 2026Q2 = June only, 800 → 2400 (scaled); active managers 1 + 0.5 = 1.5 →
    # 1600 per active manager.  Team B (only M3, new, fraction 1) has no history →
    # 1600 × 1 = 1600.  Totals × 1.1: A 2640, B 1760.
    ent = r.entities.set_index(["level", "entity"])["target"]
    assert ent[("team", "A")] == 2640.0 and ent[("team", "B")] == 1760.0
    assert mgr(r)["M3"] == 1760.0
    assert any("B has no history" in x for x in en(r.text))
    notes = dict(zip(r.managers["manager_id"], map(en, r.managers["notes"])))
    assert notes["M3"] == ["no own or team history before the period: split and potential inputs from the company median"]


def test_user_targets_used_as_they_are_and_missing_rows_named(tiny_dir, tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("manager_id,indicator,period,target\nM1,sales,2026Q3,1000\n", encoding="utf-8")
    plan = {"sources": {"targets_csv": str(csv)}, "indicators": {"sales": {"method": "user"}}}
    users = read_targets_csv(csv, ["M1", "M2"], LIB.ids())
    with pytest.raises(InputError, match="no target for 'sales' in 2026Q3 for manager\\(s\\) M2"):
        engine(tiny_dir, plan, user_targets=users).targets("sales", Q3)
    csv.write_text("manager_id,indicator,period,target\nM1,sales,2026Q3,1000\n"
                   "M2,sales,2026-08,100\nM2,sales,2026-09,300\nM2,sales,2026-07,0\n", encoding="utf-8")
    users = read_targets_csv(csv, ["M1", "M2"], LIB.ids())
    r = engine(tiny_dir, plan, user_targets=users).targets("sales", Q3)
    # as they are: no pro-rating; M2's months add up to 400
    assert mgr(r) == {"M1": 1000.0, "M2": 400.0}


def test_commitments_reconciled_against_topdown(tiny_dir, tmp_path):
    from helpers.core.targets import reconcile
    from helpers.data.plan_csv import read_commitments_csv

    csv = tmp_path / "c.csv"
    csv.write_text("manager_id,indicator,period,commitment\nM1,sales,2026Q3,2500\nM2,sales,2026Q3,1500\n",
                   encoding="utf-8")
    com = read_commitments_csv(csv, ["M1", "M2"], LIB.ids())
    e = engine(tiny_dir, {"history_quarters": 1, "sources": {"commitments_csv": str(csv)}, "indicators": {
        "sales": {"method": "commitments",
                  "topdown": {"total": {"value": 3000}, "weights": {"historical_share": 1}}}}}, commitments=com)
    r = e.targets("sales", Q3)
    assert mgr(r) == {"M1": 2500.0, "M2": 1500.0}
    rec = reconcile(r.components["topdown"], com.set_index("manager_id")["commitment"])
    # top-down 2000 / 1000 (as above); gaps +500 each; total 3000 vs 4000 → +1000
    assert rec["gap"].tolist() == [500.0, 500.0, 1000.0]


# ------------------------------------------------------------------ helpers


def test_phase_counts_controlled_rounding():
    # two managers, equal months: 2 × (1/3, 1/3, 1/3) and 1 × (…) → quotas 0.667 / 0.333.
    # Month totals: 3 × 1/3 each = 1, 1, 1.  Rounding each row alone would give
    # (1, 1, 0) and (1, 0, 0): 2 in July.  Controlled: every month 1, rows 2 and 1.
    x = phase_counts(np.array([2, 1]), np.ones((2, 3)))
    assert x.sum(axis=1).tolist() == [2, 1] and x.sum(axis=0).tolist() == [1, 1, 1]
    # inactive months get nothing; margins stay exact
    w = np.array([[1.0, 0.88, 0.95]] * 5 + [[0.0, 0.5, 0.95]])
    t = np.array([3, 2, 4, 1, 3, 2])
    x = phase_counts(t, w)
    assert x.sum(axis=1).tolist() == t.tolist() and x[5, 0] == 0
    # month quotas 4.61 / 4.73 / 5.66 → Hamilton on 15: floors 4, 4, 5 + Aug, Sep → 4, 5, 6
    assert x.sum(axis=0).tolist() == [4, 5, 6]


# ------------------------------------------------------------------ demo data


@pytest.fixture(scope="module")
def demo_engine(demo_dir) -> TargetEngine:
    ds = load_dataset(demo_dir)
    plan = load_plan(ROOT / "params" / "targets.yaml")
    return TargetEngine(company_data(ds, "Q"), plan, LIB, "targets.yaml")


def test_demo_topdown_adds_up_exactly_at_every_level(demo_engine):
    """The targets in force (70 % top-down + 30 % potential, reconciled) add up exactly:
    managers to teams, teams to regions, regions to the company total."""
    r = demo_engine.targets("sales", Q3)
    td = r.managers.set_index("manager_id")["target"]
    ent = r.entities
    team = r.managers.set_index("manager_id")["team_id"]
    teams = ent[ent["level"] == "team"].set_index("entity")["target"]
    regions = ent[ent["level"] == "region"].set_index("entity")["target"]
    company = float(ent.loc[ent["level"] == "company", "target"].iloc[0])
    assert td.groupby(team).sum().to_dict() == teams.to_dict()
    reg_of = ent[ent["level"] == "team"].set_index("entity")["parent"]
    assert teams.groupby(reg_of).sum().to_dict() == regions.to_dict()
    assert regions.sum() == company == td.sum()
    assert (td == np.floor(td)).all()  # whole currency units
    # the pure top-down part adds up too (its own chain), and the blend moved the shares
    own = r.components["topdown"]
    assert own.sum() == company and not np.allclose(own.reindex(td.index), td)
    # counts: every team 25 new small customers, whole numbers, exactly
    n = demo_engine.targets("new_small_customers", Q3).managers
    assert (n.groupby("team_id")["target"].sum() == 25).all()
    assert (n["target"] == np.floor(n["target"])).all()


def test_demo_company_total_is_growth_on_last_year(demo_engine, demo_dir):
    # independent: Σ orders.amount in 2025Q3 (the company's same period last year) × 1.08
    o = pd.read_csv(demo_dir / "orders.csv", parse_dates=["date"])
    base = o.loc[(o["date"] >= "2025-07-01") & (o["date"] <= "2025-09-30"), "amount"].sum()
    ent = demo_engine.targets("sales", Q3).entities
    assert float(ent.loc[ent["level"] == "company", "target"].iloc[0]) == half_up(base * 1.08)


def test_demo_prorating_of_new_hire_and_leaver(demo_engine, demo_dir):
    m = pd.read_csv(demo_dir / "managers.csv")
    leaver = m.loc[m["leave_date"].notna(), "manager_id"].item()
    hire = m.loc[m["hire_date"] == m["hire_date"].max(), "manager_id"].item()
    assert (leaver, hire) == ("M002", "M048")
    roster = demo_engine.roster(Q3).set_index("manager_id")
    # leaves 2026-08-21: 31 + 21 = 52 of 92 days; joins 2026-08-17: 15 + 30 = 45 of 92
    assert roster.loc["M002", "fraction"] == pytest.approx(52 / 92)
    # the plan's ramp-up [0.5, 0.75]: the hire month (Aug: 15 days) counts half, the next (Sep: 30
    # days) three quarters → 7.5 + 22.5 = 30 of 92 (45 of 92 without the ramp)
    assert roster.loc["M048", "fraction"] == pytest.approx(30 / 92)
    assert roster.loc["M002", "team_id"] == roster.loc["M048", "team_id"] == "east-2"
    # key-account sales, growth +20 % on 2025Q3, computed from the CSV files
    o = pd.read_csv(demo_dir / "orders.csv", parse_dates=["date"])
    c = pd.read_csv(demo_dir / "customers.csv")
    o = o.merge(c[["customer_id", "segment"]], on="customer_id")
    q = o[(o["date"] >= "2025-07-01") & (o["date"] <= "2025-09-30") & (o["segment"] == "key")]
    base = q.groupby("manager_id")["amount"].sum()
    team = roster.index[roster["team_id"] == "east-2"]
    full = base.reindex(team).dropna() * 1.2
    r = demo_engine.phased("key_sales", Q3)
    got = mgr(r)
    assert got["M002"] == half_up(full["M002"] * 52 / 92)
    # the new hire has no base: the median of the team's full targets, × 30/92 (ramped up)
    assert "M048" not in full.index
    assert got["M048"] == half_up(float(np.median(full.to_numpy())) * 30 / 92)
    months = r.months
    assert set(months.loc[months["manager_id"] == "M048", "month"].astype(str)) == {"2026-08", "2026-09"}
    assert set(months.loc[months["manager_id"] == "M002", "month"].astype(str)) == {"2026-07", "2026-08"}
    # months add up to the quarter for every manager
    s = months.groupby("manager_id")["target"].sum()
    assert s.to_dict() == {k: v for k, v in got.items() if k in s.index}


def test_demo_mover_is_reviewed_by_new_team_for_the_whole_period(demo_engine):
    roster = demo_engine.roster(Q3).set_index("manager_id")
    assert roster.loc["M005", "team_id"] == "north-2" and roster.loc["M005", "fraction"] == 1.0


def test_demo_seasonal_phasing_uses_company_history(demo_engine):
    s, why = demo_engine.seasonal("sales", M("2026-07"))
    assert s is not None and "30 months 2024-01 to 2026-06" in render(why, "en")
    assert s.mean() == pytest.approx(1.0)
    # December (year-end peak) is the highest; January the lowest: with a centred 2×12
    # moving average the only January with a trend value is January 2025, the demo's
    # Spring Festival month (the festival moves: February in 2024 and 2026)
    assert s.idxmax() == 12 and s.idxmin() == 1


# ------------------------------------------------------------------ the notebook, every demo team


@pytest.mark.slow
def test_notebook_renders_for_every_demo_team(demo_dir, demo_run, demo_run_en):
    """Checks the whole demo run (conftest.demo_run), then a team's report of the English one."""
    proc, period_dir = demo_run
    assert proc.returncode == 0, proc.stderr + proc.stdout
    out = period_dir.parent
    managers = pd.read_csv(demo_dir / "managers.csv")
    teams = sorted(managers["team_id"].unique())
    for team in teams:
        folder = out / "2026Q3" / team
        html = (folder / "01_target_setting.html").read_text(encoding="utf-8")
        assert "Traceback" not in html
        assert html.count("<img") == 4  # history, implied growth, backtest, own backtest
        csv = pd.read_csv(folder / "targets.csv")
        csv = csv[csv["scope"] == "manager"]  # the team, region and company totals are beside them
        mine = set(csv["manager_id"])
        others = managers.loc[~managers["manager_id"].isin(mine), "name"]
        assert not [n for n in others if n in html], f"{team} names other teams' managers"
        assert csv["target"].notna().all() and (csv["target"] >= 0).all()
        assert {"manager_id", "indicator", "period", "target", "method", "note"} <= set(csv.columns)
        # months add up to the quarter for volumes
        vol = csv[csv["unit"].isin(["currency", "count"])]
        qt = vol[vol["level"] == "quarter"].set_index(["manager_id", "indicator"])["target"]
        mt = vol[vol["level"] == "month"].groupby(["manager_id", "indicator"])["target"].sum()
        assert (mt.reindex(qt.index) == qt).all()
        # the quarterly review can read it as user targets
        read_targets_csv(folder / "targets.csv", mine, LIB.ids())
    # English
    proc, period_dir = demo_run_en
    assert proc.returncode == 0, proc.stderr
    html = (period_dir / "east-2" / "01_target_setting.html").read_text(encoding="utf-8")
    assert "How the targets are set" in html and "Backtest" in html


def test_build_and_every_report_part_on_tiny_data(tiny_dir, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from helpers.notebooks import targetlab as tl
    from helpers.context.workbook import open_team

    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "c.csv").write_text("manager_id,indicator,period,commitment\nM1,sales,2026Q3,2500\n"
                                  "M2,sales,2026Q3,1500\n", encoding="utf-8")
    (folder / "targets.yaml").write_text("""
sources: {commitments_csv: c.csv}
history_quarters: 1
backtest: {periods: 2, indicators: [new_customers]}
indicators:
  sales:
    method: blend
    blend: {topdown: 1, commitments: 1}
    topdown: {total: {value: 3000}, weights: {historical_share: 1}}
  new_customers: {method: growth, growth: {rate: 0.2, basis: last_period}}
  csat: {method: level, level: 0.8}
""", encoding="utf-8")
    params = folder / "run.yaml"
    params.write_text(f"data: {{folder: {tiny_dir}}}\nindicators: {ROOT / 'params' / 'indicators.yaml'}\n"
                      "language: en\n", encoding="utf-8")
    assert check(load_params(params), params) == []
    ctx = open_team(params, "A")
    lab = tl.build(ctx, params)
    # blend of top-down 2000 / 1000 and commitments 2500 / 1500, half each → 2250 / 1250,
    # then reconciled to the top-down total 3000: 3000 × 2250/3500 = 1928.57, × 1250/3500 =
    # 1071.43 → floors 1928 + 1071 = 2999, the last unit to the larger remainder (M1)
    assert mgr(lab.results["sales"]) == {"M1": 1929.0, "M2": 1071.0}
    assert "reconciled to the top-down total" in tl.plan_text(lab)
    assert "exactly the company total 3,000" in tl.split_check_text(lab)
    rec = tl.reconcile_table(lab).data
    assert rec.iloc[:, -1].tolist() == ["ok", "ok", "ok"]  # status
    assert rec["Gap %"].round(4).tolist() == [0.25, 0.5, round(1000 / 3000, 4)]
    # no past period has data before it: every backtest period is skipped and said so
    assert lab.backtest.empty and len(lab.skipped) == 2
    assert "not backtested" in tl.backtest_text(lab)
    for part in (tl.summary_text, tl.plan_text, tl.levels_text, tl.smart_text):
        assert isinstance(part(lab), str)
    for part in (tl.volume_table, tl.rate_table, tl.split_table, tl.notes_table, tl.smart_table,
                 tl.backtest_table, tl.fairness_table):
        part(lab)
    for chart in (tl.history_chart, tl.growth_chart, tl.backtest_chart, tl.own_backtest_chart):
        chart(lab)
    out = tl.export(lab)
    assert out["target"].notna().all()
    csv = tmp_path / "targets.csv"
    out.to_csv(csv, index=False)
    back = read_targets_csv(csv, ["M1", "M2"], LIB.ids())  # the manager rows; the totals are skipped
    assert len(back) == (out["scope"] == "manager").sum() and len(back) < len(out)
    q = out[(out["indicator"] == "sales") & (out["level"] == "quarter")]
    assert dict(zip(q["scope"] + ":" + q["entity"], q["target"])) == {
        "manager:M1": 1929.0, "manager:M2": 1071.0, "team:A": 3000.0, "region:R": 3000.0, "company:company": 3000.0}


def test_without_market_table_the_documented_fallbacks_apply(demo_dir):
    """No market sizes in the data: a blend leaves out the potential method (the rest
    re-weighted) and a top-down market-potential weight goes to the customer base —
    the same targets as a plan written that way (second method), and the text says so."""
    import dataclasses

    ds = load_dataset(demo_dir)
    data = dataclasses.replace(company_data(ds, "Q"), market=None)
    topdown = {"total": {"scope": "company", "growth": 0.08, "basis": "same_period_last_year"},
               "weights": {"historical_share": 0.6, "market_potential": 0.2, "customer_base": 0.2}}
    shipped = {"indicators": {"sales": {"method": "blend", "blend": {"topdown": 0.7, "potential": 0.3},
                                        "topdown": topdown, "potential": {"target_share": 0.12, "mix": 0.5}}}}
    written = {"indicators": {"sales": {"method": "topdown", "topdown": {
        **topdown, "weights": {"historical_share": 0.6, "customer_base": 0.4}}}}}
    a = TargetEngine(data, TargetPlan.model_validate(shipped), LIB, "plan.yaml").targets("sales", Q3)
    b = TargetEngine(data, TargetPlan.model_validate(written), LIB, "plan.yaml").targets("sales", Q3)
    assert mgr(a) == mgr(b) and sum(mgr(a).values()) > 0
    text = " ".join(en(a.text))
    assert "no market sizes: the potential method is left out" in text
    assert "the weight of market potential goes to the customer base" in text


def test_potential_only_plan_without_market_table_is_bad_input(tmp_path):
    plan = write_plan(tmp_path, "indicators:\n  sales:\n    method: potential\n    potential: {target_share: 0.1}\n")
    params = tmp_path / "run.yaml"
    params.write_text(f"data: {{folder: {tmp_path}}}\ntargets: {plan}\nindicators: {ROOT / 'params' / 'indicators.yaml'}\n",
                      encoding="utf-8")
    p = load_params(params)
    msgs = [str(x) for x in check(p, params, tables={"managers", "customers", "orders"})]
    assert any("'sales' is set by the potential method, which needs market sizes" in m
               and "key 'indicators.sales.method'" in m for m in msgs), msgs
    assert not [m for m in (str(x) for x in check(p, params, tables={"managers", "customers", "orders", "market"}))
                if "potential method" in m]


def _scope_lab(region: str, team: str, team_regions: dict[str, str]):
    from types import SimpleNamespace

    return SimpleNamespace(ctx=SimpleNamespace(region=region, team_id=team),
                           engine=SimpleNamespace(data=SimpleNamespace(team_regions=team_regions)))


def test_backtest_views_stay_readable_for_many_teams():
    """Up to 12 regions and teams all are listed; beyond, the own region and its teams,
    or the own team alone when its region alone has more than 12 teams."""
    small = {f"t{i}": f"r{i % 3}" for i in range(6)}
    lab = _scope_lab("r1", "t1", small)
    assert tl.shown_groups(lab, ["r0", "r1", "r2"], sorted(small)) == (["r0", "r1", "r2"], sorted(small))
    big = {f"t{i:03d}": f"r{i % 30:02d}" for i in range(300)}  # 30 regions of 10 teams
    lab = _scope_lab("r07", "t037", big)
    regions, teams = tl.shown_groups(lab, sorted(set(big.values())), sorted(big))
    assert regions == ["r07"] and teams == [f"t{i:03d}" for i in range(7, 300, 30)] and len(teams) == 10
    crowded = {f"t{i:03d}": "r00" if i < 13 else "r01" for i in range(20)}  # own region has 13 teams
    lab = _scope_lab("r00", "t004", crowded)
    assert tl.shown_groups(lab, ["r00", "r01"], sorted(crowded)) == (["r00", "r01"], ["t004"])


def test_backtest_scope_is_stated_when_cut(demo_params, monkeypatch):
    lab = tl.build(open_team(demo_params, "north-2"), demo_params)
    assert tl.scope_note(lab) == ""  # 3 regions, 6 teams: everything is shown
    monkeypatch.setattr(tl, "MAX_GROUPS_SHOWN", 2)
    labels = [g[0] for g in tl._groups(lab, lab.backtest)]
    assert labels == ["全公司", "华北", "华北一部", "华北二部"]
    assert "3 个区域、6 个团队" in tl.scope_note(lab) and tl.scope_note(lab) in tl.backtest_text(lab)
    shown = set(tl.fairness_table(lab).data.iloc[:, 2])
    assert shown <= {"华北", "华北一部", "华北二部"} and {"华北", "华北二部"} <= shown


def test_growth_chart_samples_the_company_when_large(demo_params, monkeypatch):
    """Beyond MAX_PEER_DOTS other managers per indicator, a seeded sample of them is drawn
    (and said under the chart); this team's managers are always all drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.present import plotting

    plotting.setup()
    lab = tl.build(open_team(demo_params, "east-1"), demo_params)
    seen: list = []
    monkeypatch.setattr(plotting, "finish", lambda fig=None, **k: (seen.append(fig.axes[0]), plt.close(fig)))
    monkeypatch.setattr(tl, "MAX_PEER_DOTS", 5)
    tl.growth_chart(lab)
    ax = seen[0]
    grey, team = ax.collections[0::2], ax.collections[1::2]  # one grey and one team scatter per indicator
    s = lab.smart[np.isfinite(lab.smart["implied_growth"].astype(float))]
    mine = s["manager_id"].isin(lab.mine)
    per_ind = [i for i in lab.results if i in set(s["indicator"])]
    assert [len(c.get_offsets()) for c in team] == [int((mine & (s["indicator"] == i)).sum()) for i in per_ind]
    assert all(len(c.get_offsets()) == 5 for c in grey)  # dozens of other managers each, sampled down to 5
    assert any("随机抽取的 5 名" in t.get_text() for t in ax.texts)


def test_a_part_above_its_whole_is_flagged_in_01_and_by_validate(tiny_dir, tmp_path):
    """User targets where key-account sales (5,000) exceed sales (3,000): the SMART check
    of notebook 01 flags it and validate warns, naming the manager; the engine's own
    targets are never above their whole (capped)."""
    from helpers.data.tables import load_dataset
    from helpers.periods import parse_period
    from helpers.run.checks import target_warnings

    (tmp_path / "t.csv").write_text("manager_id,indicator,period,target\nM1,sales,2026Q3,3000\n"
                                    "M1,key_sales,2026Q3,5000\nM2,sales,2026Q3,1000\nM2,key_sales,2026Q3,800\n",
                                    encoding="utf-8")
    (tmp_path / "targets.yaml").write_text("sources: {targets_csv: t.csv}\nbacktest: {indicators: [new_customers]}\n"
                                           "indicators:\n  sales: {method: user}\n  key_sales: {method: user}\n"
                                           "  new_customers: {method: growth, growth: {rate: 0.2, basis: last_period}}\n",
                                           encoding="utf-8")
    params = tmp_path / "run.yaml"
    params.write_text(f"data: {{folder: {tiny_dir}}}\nindicators: {ROOT / 'params' / 'indicators.yaml'}\n"
                      "targets: targets.yaml\n", encoding="utf-8")
    warns = target_warnings(load_params(params), params, load_dataset(tiny_dir), parse_period("2026Q3"))
    text = "\n".join(str(w) for w in warns)
    assert "'key_sales' for M1 (5,000) is above their 'sales' target" in text
    assert "'key_sales' for M2" not in text  # 800 ≤ 1,000
    # the engine's own split is capped: growth on key sales cannot pass the sales target
    e = engine(tiny_dir, {"history_quarters": 1, "indicators": {
        "sales": {"method": "level", "level": 100},
        "key_sales": {"method": "growth", "growth": {"rate": 5.0, "basis": "last_period"}}}})
    s, k = e.targets("sales", Q3).managers, e.targets("key_sales", Q3).managers
    assert (k["target"].to_numpy() <= s["target"].to_numpy()).all()


# ------------------------------------------------------------------ a short history (issue 16, first part)


@pytest.fixture(scope="module")
def short_dir(tmp_path_factory) -> Path:
    """Ten months of data (2025-12 … 2026-09), two teams in two regions: no same period last year."""
    from helpers.data.demo import DemoConfig, write_demo

    return write_demo(tmp_path_factory.mktemp("short") / "data", DemoConfig(start="2025-12", end="2026-09",
                                                                            managers=12, teams=2))


@pytest.fixture(scope="module")
def short_engine(short_dir) -> TargetEngine:
    ds = load_dataset(short_dir)
    return TargetEngine(company_data(ds, "Q"), load_plan(ROOT / "params" / "targets.yaml"), LIB, "targets.yaml")


def test_short_history_falls_back_to_the_last_period_and_says_so(short_engine, short_dir):
    # the plan asks for +8 % on the same period last year (2025Q3), which the data does not have:
    # the last period (2026Q2) is the base instead — Σ orders.amount of 2026Q2 × 1.08, by hand
    o = pd.read_csv(short_dir / "orders.csv", parse_dates=["date"])
    base = o.loc[(o["date"] >= "2026-04-01") & (o["date"] <= "2026-06-30"), "amount"].sum()
    r = short_engine.targets("sales", Q3)
    assert float(r.entities.loc[r.entities["level"] == "company", "target"].iloc[0]) == half_up(base * 1.08)
    said = [str(x) for x in r.text]
    assert any("tl.note.basis_fallback ago=2025Q3 last=2026Q2" in x for x in said), said
    # the market forecast of the potential part: the months just before the period, said too
    assert any("tl.note.market_forecast_last first=2026-04 last=2026-06" in x for x in said), said
    # a manager-level growth target (key accounts +20 %) takes the same fallback
    k = short_engine.targets("key_sales", Q3)
    assert any("basis_fallback" in str(x) for x in k.text)


def test_short_history_backtest_skips_the_periods_it_cannot_set_and_never_crashes(short_engine):
    from helpers.core.target_checks import run_backtest

    bt, skipped = run_backtest(short_engine, Q3)  # six quarters asked, two and a half in the data
    periods = {(i, p) for i, p, _ in skipped}
    assert ("sales", "2025Q1") in periods and all(why for _, _, why in skipped)
    assert len(bt) == 0 or set(bt["period"].astype(str)) <= {"2026Q1", "2026Q2"}


def test_short_history_fallback_names_the_base_it_used(short_engine):
    from helpers.present.words import render

    r = short_engine.targets("sales", Q3)
    text = " ".join(render(x, "zh") for x in r.text)
    assert "公司上一期（2026Q2）实际值" in text and "去年同期（2026Q2）" not in text


# ------------------------------------------------------------------ targets set once per run (issue 19)


@pytest.mark.parametrize("period", ["2026Q3", "2026-08"])
def test_targets_the_gate_sets_are_the_ones_the_notebooks_would_set(demo_params, tmp_path, period):
    """The run sets every target once, in its gate, on the loaded dataset, and shares those
    with its notebooks; a notebook without the run's process sets them from the workspace's
    files.  Both must give the same targets, notes and SMART flags, frame by frame, and
    the run's process must reuse the gate's (the same engine object, not a recomputation)."""
    from helpers.context.targets import company_targets, dataset_targets, make_engine
    from helpers.context.workbook import open_team, prepare_workspace, workspace_dataset
    from helpers.core.target_checks import smart_flags
    from helpers.run.runner import plan_run

    plan, ds = plan_run(demo_params, period=period, out=tmp_path / "out")
    engine, results, flags = dataset_targets(plan.params, plan.params_file, ds, plan.period)
    assert dataset_targets(plan.params, plan.params_file, ds, plan.period)[0] is engine  # once per dataset
    ws = prepare_workspace(plan.params, plan.params_file, tmp_path / "ws", ds)
    assert workspace_dataset(ws) is ds and workspace_dataset(tmp_path) is None
    ctx = open_team(plan.params_file, "", plan.period.label, ws, plan.language, "")
    fresh = make_engine(ctx, plan.params_file, ws)  # what a kernel does: read the workspace's files
    again = fresh.all_targets(plan.period.period)
    assert results.keys() == again.keys() and len(results) >= 5
    for iid in results:
        for part in ("managers", "entities", "months"):
            pd.testing.assert_frame_equal(getattr(results[iid], part), getattr(again[iid], part))
        assert results[iid].text == again[iid].text
    pd.testing.assert_frame_equal(flags, smart_flags(fresh, again, plan.period.period))
    shared = company_targets(ctx, plan.params_file, ws)
    assert shared[0] is engine and shared[1] is results and shared[2] is flags
