"""Points plans (积分制) and position levels (岗位等级): hand-computed examples.

The plan of every example: 6 points per 10,000 of weighted volume (at most 600 a
month), 40 per new customer (at most 200), 2 per 10,000 of key product-line sales (no
cap); a monthly pass mark of 800 points releasing a bonus base of 1,400, more points
paying proportionally; a year-end settlement of 0.5 per point above 9,600.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers.core import incentives as inc
from helpers.core.points import month_bonus, position_levels, rule_points, year_bonus
from helpers.errors import InputError
from helpers.plan.incentives import plan_from_dict
from helpers.plan.points import LevelPlan
from helpers.present.pay import worded

PLAN = {
    "name": "points plan (test)",
    "points": {
        "table": [
            {"indicator": "weighted_volume", "per": 10000, "points": 6, "cap": 600},
            {"indicator": "new_customers", "per": 1, "points": 40, "cap": 200},
            {"indicator": "key_lines_sales", "per": 10000, "points": 2},
        ],
        "month": {"pass_mark": 800, "bonus_base": 1400, "above": "proportional", "below": "proportional"},
        "year": {"pass_mark": 9600, "per_point": 0.5},
    },
}


def plan(**month):
    d = {**PLAN, "points": {**PLAN["points"], "month": {**PLAN["points"]["month"], **month}}}
    return plan_from_dict(d)


def row(wv, nc, kl, **kw):
    return {"pt:weighted_volume": wv, "pt:new_customers": nc, "pt:key_lines_sales": kl, **kw}


def test_points_per_rule_with_caps():
    p = plan()
    wv, nc, kl = p.points.table
    # 1,200,000 / 10,000 × 6 = 720, capped at 600; 6 new customers × 40 = 240, capped at 200
    assert rule_points(wv, 1_200_000)[0] == pytest.approx(600) and rule_points(wv, 1_200_000)[1] == pytest.approx(720)
    assert rule_points(nc, 6)[0] == pytest.approx(200)
    assert rule_points(kl, 2_000_000)[0] == pytest.approx(400)
    # no data and a negative actual earn nothing; a quarter settled at once has three months of cap
    assert rule_points(wv, math.nan)[0] == 0 and rule_points(wv, -5_000)[0] == 0
    assert rule_points(wv, 1_200_000, months=3)[0] == pytest.approx(720)


@pytest.mark.parametrize("points, below, expected", [
    (720, "proportional", 1400 * 720 / 800),   # 1,260: fewer points pay proportionally less
    (720, "none", 0.0),                        # below the pass mark: nothing
    (800, "none", 1400.0),                     # exactly the pass mark: the base
    (1200, "none", 1400 * 1200 / 800),         # 2,100: more points pay proportionally more
])
def test_month_bonus_at_below_and_above_the_pass_mark(points, below, expected):
    assert month_bonus(plan(below=below).points.month, points)[0] == pytest.approx(expected)


def test_flat_above_and_the_cap_on_the_bonus():
    assert month_bonus(plan(above="flat").points.month, 1200)[0] == pytest.approx(1400)
    bonus, _, _, capped = month_bonus(plan(max_multiple=1.25).points.month, 1200)
    assert bonus == pytest.approx(1750) and bool(capped)  # 2,100 capped at 1.25 × 1,400


def test_part_month_needs_part_of_the_pass_mark():
    # active half the month: pass mark 400, base 700; 500 points → 700 × 500 / 400 = 875 (= 1,400 × 500 / 800)
    bonus, mark, base, _ = month_bonus(plan(below="none").points.month, 500, active=0.5)
    assert (mark, base) == (400, 700) and bonus == pytest.approx(875)


def test_year_end_settlement():
    p = plan()
    assert year_bonus(p.points.year, 10_200) == pytest.approx(300)  # (10,200 − 9,600) × 0.5
    assert year_bonus(p.points.year, 9_000) == 0


def test_statement_says_how_the_points_were_earned_and_agrees_with_payouts():
    p = plan(max_multiple=2)
    names = {"weighted_volume": inc.Bilingual("折算业务量", "Weighted volume")}
    table = pd.DataFrame([
        row(1_200_000, 3, 500_000),                                         # 600 + 120 + 100 = 820
        row(1_000_000, 6, 0, year_points_before=9_000, year_end=1),         # 600 + 200 + 0 = 800; year 9,800
        row(math.nan, 1, 0),                                                 # no volume data: 40 points
    ], index=["A 2026-11", "A 2026-12", "B 2026-12"])
    vec = inc.payouts(p, table)
    assert vec.loc["A 2026-11", "points_bonus"] == pytest.approx(1400 * 820 / 800)      # 1,435
    assert vec.loc["A 2026-12", "points_bonus"] == pytest.approx(1400)
    assert vec.loc["A 2026-12", "points_year_bonus"] == pytest.approx((9_800 - 9_600) * 0.5)  # 100
    assert vec.loc["B 2026-12", "points_bonus"] == pytest.approx(1400 * 40 / 800)        # 70
    assert "pt:weighted_volume" in vec.loc["B 2026-12", "no_data"]
    for key in table.index:  # the statement and the vectorised pay agree line by line
        st = inc.statement(p, table, key, names)
        np.testing.assert_allclose(st.by_component().to_numpy(), vec.loc[key, list(inc.COMPONENTS)].to_numpy(float))
        assert st.total == pytest.approx(vec.loc[key, "total"])
    zh = worded(inc.statement(p, table, "A 2026-11", names), "zh").lines.set_index("component")
    assert "折算业务量" in zh.loc["points", "item"].iloc[0]
    assert zh.loc["points", "explanation"].iloc[0] == "1,200,000 ÷ 10,000 × 6 分 = 720 分，本项封顶 600 分"
    assert zh.loc["points_bonus", "explanation"] == "积分 820 ≥ 及格线 800：基数 1,400.00 × 820 ÷ 800 = 1,435.00"
    en = worded(inc.statement(p, table, "A 2026-12", names), "en").lines.set_index("component")
    assert en.loc["points_year_bonus", "explanation"] == (
        "the year's 9,800 points − pass mark 9,600 = 200 points × 0.5 = 100.00")


def test_a_points_column_missing_is_refused_by_name():
    with pytest.raises(InputError, match="pt:key_lines_sales"):
        inc.payouts(plan(), pd.DataFrame([{"pt:weighted_volume": 1.0, "pt:new_customers": 1.0}], index=["A"]))


def test_points_table_names_an_indicator_once():
    with pytest.raises(InputError, match="twice"):
        plan_from_dict({"points": {**PLAN["points"], "table": PLAN["points"]["table"] * 2}})


# ------------------------------------------------------------------------------ levels

LEVELS = LevelPlan.model_validate({
    "every": "quarter", "window": 2, "start": 1, "max_up": 1,
    "table": [
        {"level": 1, "base_pay": 5000},
        {"level": 2, "base_pay": 6000, "thresholds": {"weighted_volume": 6_000_000}},
        {"level": 3, "base_pay": 7000, "thresholds": {"weighted_volume": 9_000_000, "retention_rate": 0.8}},
    ],
})


def _values(per_quarter: dict[str, tuple[list[float], list[float]]]) -> pd.DataFrame:
    quarters = pd.period_range("2025Q1", "2025Q4", freq="Q")
    rows = []
    for m, (wv, ret) in per_quarter.items():
        for q, v, r in zip(quarters, wv, ret):
            rows += [{"manager_id": m, "period": q, "indicator": "weighted_volume", "value": v},
                     {"manager_id": m, "period": q, "indicator": "retention_rate", "value": r}]
    return pd.DataFrame(rows)


def test_level_needs_every_threshold_and_moves_one_step_at_a_time():
    values = _values({
        "A": ([4e6, 5e6, 5e6, 5e6], [0.85] * 4),   # Q3 window (Q1+Q2): 9M, 85 % → qualifies for 3, held to 2
        "B": ([5e6, 5e6, 5e6, 5e6], [0.70] * 4),   # 10M but retention 70 %: level 2 only
    })
    res = position_levels(LEVELS, values, list(pd.period_range("2025Q1", "2025Q4", freq="Q")), ["A", "B"],
                          volume={"weighted_volume": True, "retention_rate": False})
    lv = res.levels.set_index(["manager_id", res.levels["period"].astype(str)])
    assert lv.loc[("A", "2025Q1"), "level"] == 1 and not lv.loc[("A", "2025Q2"), "evaluated"]  # no full window yet
    assert (lv.loc[("A", "2025Q3"), "qualified"], lv.loc[("A", "2025Q3"), "level"]) == (3, 2)
    assert lv.loc[("A", "2025Q3"), "limited"] == "up"
    assert lv.loc[("A", "2025Q4"), "level"] == 3  # promoted: Q2+Q3 = 10M and 85 %, one step from 2
    assert lv.loc[("B", "2025Q4"), "level"] == 2
    ev = res.evidence
    b3 = ev[(ev["manager_id"] == "B") & (ev["period"].astype(str) == "2025Q4") & (ev["level"] == 3)].set_index("indicator")
    assert bool(b3.loc["weighted_volume", "met"]) and b3.loc["weighted_volume", "value"] == pytest.approx(10e6)
    assert not bool(b3.loc["retention_rate", "met"]) and b3.loc["retention_rate", "gap"] == pytest.approx(0.10)


def test_level_table_is_checked():
    with pytest.raises(ValueError, match="in order"):
        LevelPlan.model_validate({"table": [{"level": 2, "base_pay": 1}]})
    with pytest.raises(ValueError, match="drops"):
        LevelPlan.model_validate({"table": [{"level": 1, "base_pay": 1},
                                            {"level": 2, "base_pay": 2, "thresholds": {"a": 1}},
                                            {"level": 3, "base_pay": 3, "thresholds": {"b": 1}}]})


# ------------------------------------------------------------------------------ dated changes


def test_a_plan_change_takes_effect_from_its_month():
    from helpers.core.scorecard import manager_pay

    changed = {**PLAN, "changes": [{"from": "2026-12", "name": "from December",
                                    "points": {**PLAN["points"], "month": {**PLAN["points"]["month"], "bonus_base": 2800}}}]}
    p = plan_from_dict(changed)
    assert p.in_force("2026-11") is p and p.in_force("2026-12").points.month.bonus_base == 2800
    assert p.in_force("2027-03").since == "2026-12"
    pin = pd.DataFrame([{**row(1_000_000, 5, 0), "manager_id": "A", "month": "2026-11"},     # 600 + 200 = 800 points
                        {**row(1_000_000, 5, 0), "manager_id": "A", "month": "2026-12"}],
                       index=["A 2026-11", "A 2026-12"])
    totals, sts, _ = manager_pay(p, pin, [], plan_for=p.in_force)
    assert totals["A"] == pytest.approx(1400 + 2800)  # November under the plan as written, December under the change
    bonus = sts["A"].lines[sts["A"].lines["component"] == "points_bonus"]
    assert list(bonus["subtotal"]) == pytest.approx([1400, 2800])


@pytest.mark.parametrize("changes, fragment", [
    ([{"from": "2026-13", "name": "x"}], "changes[0].from"),
    ([{"from": "2026-10"}, {"from": "2026-09"}], "not after the previous change"),
    ([{"from": "2026-10", "settlement": "period"}], "cannot switch the settlement"),
    ([{"from": "2026-10", "points": {"table": []}}], "changes[0].points"),
])
def test_a_bad_change_is_refused_with_its_key(changes, fragment):
    with pytest.raises(InputError) as exc:
        plan_from_dict({**PLAN, "changes": changes}, source="incentives.yaml")
    assert fragment in str(exc.value)


def test_a_weight_scheme_takes_effect_from_a_month():
    from helpers.plan.scoring import ScoringPlan

    plan = ScoringPlan.model_validate({"scheme_changes": [{"from": "2026-10", "scheme": "loyalty"},
                                                          {"from": "2027-04", "scheme": "expansion"}]})
    assert plan.scheme_for("current", "2026-09") == ("current", "")
    assert plan.scheme_for("current", "2026-10") == ("loyalty", "2026-10")
    assert plan.scheme_for("current", "2027-06") == ("expansion", "2027-04")
    with pytest.raises(ValueError, match="order"):
        ScoringPlan.model_validate({"scheme_changes": [{"from": "2027-04", "scheme": "a"}, {"from": "2026-10", "scheme": "b"}]})


def test_the_period_is_scored_with_the_scheme_in_force(demo_params, tmp_path):
    """scoring.yaml's scheme_changes: 2026Q3 is scored with the scheme in force on
    2026-07 (the seed article's weights from that month), and the review names it."""
    import yaml

    from conftest import ROOT
    from helpers.context import scores as CSC
    from helpers.context.workbook import open_team

    sc = yaml.safe_load((ROOT / "params" / "scoring.yaml").read_text(encoding="utf-8"))
    sc["scheme_changes"] = [{"from": "2026-07", "scheme": "seed"}, {"from": "2026-10", "scheme": "loyalty"}]
    sc["soft"]["rubric"] = str(ROOT / "params" / "rubric.yaml")  # the copy's relative path would not resolve
    (tmp_path / "scoring.yaml").write_text(yaml.safe_dump(sc, allow_unicode=True), encoding="utf-8")
    raw = yaml.safe_load(demo_params.read_text(encoding="utf-8"))
    raw["scoring"] = str(tmp_path / "scoring.yaml")
    params = tmp_path / "demo.yaml"
    params.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    ctx = open_team(params, "east-1")
    cs = CSC.company_scores(ctx, params, "")
    seed = yaml.safe_load((ROOT / "params" / "weights" / "seed.yaml").read_text(encoding="utf-8"))["weights"]
    assert cs.scheme == "seed" and cs.weights.to_dict() == pytest.approx(seed)
    assert cs.scheme_name.zh.endswith("（2026-07 起执行）") and cs.scheme_name.en.endswith("(in force from 2026-07)")
    assert CSC.check_scoring(ctx.params, params) == []


def test_money_per_point_once_the_pass_mark_is_reached():
    p = plan_from_dict({**PLAN, "points": {**PLAN["points"], "month": {"pass_mark": 800, "per_point": 2,
                                                                       "max_bonus": 2200}}})
    rule = p.points.month
    assert month_bonus(rule, 820)[0] == pytest.approx(1640)     # 820 × 2
    assert month_bonus(rule, 720)[0] == 0                        # below the pass mark: nothing
    assert month_bonus(rule, 1200)[0] == pytest.approx(2200)    # 2,400 capped at 2,200
    table = pd.DataFrame([row(1_200_000, 3, 500_000)], index=["A 2026-11"])  # 820 points
    zh = worded(inc.statement(p, table, "A 2026-11"), "zh").lines.set_index("component")
    assert zh.loc["points_bonus", "explanation"] == "积分 820 ≥ 及格线 800：820 分 × 每分 2.00 = 1,640.00"
    with pytest.raises(InputError, match="either bonus_base"):
        plan_from_dict({**PLAN, "points": {**PLAN["points"], "month": {"pass_mark": 800, "per_point": 2,
                                                                       "bonus_base": 1}}})


def test_points_and_levels_name_indicators_the_library_has_in_every_version():
    from conftest import ROOT
    from helpers.context.scores import pay_plan_problems
    from helpers.kpis.indicators import load_library

    lib = load_library(ROOT / "params" / "indicators.yaml")
    changed = {**PLAN, "points": {**PLAN["points"], "table": [{"indicator": "sales", "per": 10000, "points": 8}]},
               "changes": [{"from": "2026-10", "points": {**PLAN["points"], "table": [
                   {"indicator": "csat", "per": 0.01, "points": 1}, {"indicator": "salez", "per": 1, "points": 1}]}}]}
    problems = pay_plan_problems(plan_from_dict(changed), lib, "incentives.yaml")
    assert [(p.where, p.what.split(",")[0]) for p in problems] == [
        ("changes[0].points.table[0].indicator", "points are earned per unit of a volume"),
        ("changes[0].points.table[1].indicator", "unknown indicator 'salez'"),
    ]
