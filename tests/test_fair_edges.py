"""Fair at the edges (issue 15): every rule by hand, then the demo plan against its own checks.

Rules: 0 against a target of 0 is not assessed; minimum evidence for ratios and bonuses;
continuous curves and the managers near a jump; grading pools, part-period managers and
ties; the seed's rules as switches (new-customer bonus only when the target is met,
attributable losses only, grade → pay); commission tiers as shares of target; settling a
whole period at once.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers.core import incentives as inc
from helpers.core import scoring
from helpers.core.attainment import NO_DATA
from helpers.core.scorecard import grade_factor, manager_pay, score_table
from helpers.kpis.indicators import load_library
from helpers.plan import scoring as PS
from helpers.present.pay import worded

from conftest import ROOT

LIB = load_library(ROOT / "params" / "indicators.yaml")


# ------------------------------------------------------------------ not assessed, minimum evidence


def test_zero_against_zero_is_not_assessed_and_its_weight_moves_to_the_others():
    ids = pd.Index(["A", "B"], name="manager_id")
    values = pd.DataFrame({"sales": [110.0, 110.0], "new_customers": [0.0, 2.0]}, index=ids)
    targets = pd.DataFrame({"sales": [100.0, 100.0], "new_customers": [0.0, 2.0]}, index=ids)
    plan = PS.ScoringPlan(split=1.0, min_weight_available=0.5)
    res = score_table(values, targets, pd.DataFrame(index=ids), LIB, plan, pd.Series({"sales": 0.6, "new_customers": 0.4}))
    s, sc = res["summary"], res["score"]
    # A: 0 new customers against a target of 0 → not assessed (never 100 points); sales 110 % → 110 points
    assert math.isnan(sc.loc["A", "new_customers"])
    assert s.loc["A", "hard"] == pytest.approx(110) and s.loc["A", "weight_available"] == pytest.approx(0.6)
    # B: 2 of 2 → 100 points; 0.6·110 + 0.4·100 = 106
    assert s.loc["B", "hard"] == pytest.approx(106)


def test_a_ratio_on_too_few_cases_is_not_scored():
    ids = pd.Index(["A", "B"], name="manager_id")
    values = pd.DataFrame({"sales": [100.0, 100.0], "csat": [1.0, 0.8]}, index=ids)
    targets = pd.DataFrame({"sales": [100.0, 100.0], "csat": [0.8, 0.8]}, index=ids)
    bases = pd.DataFrame({"sales": [np.nan, np.nan], "csat": [2.0, 5.0]}, index=ids)  # survey responses
    plan = PS.ScoringPlan(split=1.0, min_base={"csat": 5})
    w = pd.Series({"sales": 0.5, "csat": 0.5})
    s = score_table(values, targets, pd.DataFrame(index=ids), LIB, plan, w, bases=bases)["summary"]
    # A: CSAT 100 % on 2 responses (< 5) is not scored: the total is sales alone (100), not 0.5·100 + 0.5·120 = 110
    assert s.loc["A", "hard"] == pytest.approx(100) and s.loc["A", "weight_available"] == pytest.approx(0.5)
    # B: 5 responses (= the minimum) count: CSAT 80 % of an 80 % target → 100 points
    assert s.loc["B", "hard"] == pytest.approx(100) and s.loc["B", "weight_available"] == pytest.approx(1.0)
    # without the bases the old behaviour: A's one happy customer pays 120 points
    s0 = score_table(values, targets, pd.DataFrame(index=ids), LIB, plan, w)["summary"]
    assert s0.loc["A", "hard"] == pytest.approx(110)


def test_min_base_must_name_a_ratio():
    from helpers.core.scorecard import scoring_plan_problems

    plan = PS.ScoringPlan(min_base={"sales": 5, "csat": 5})
    probs = scoring_plan_problems(plan, LIB, [], None, "scoring.yaml")
    assert any("min_base.sales" in p.where and "not a ratio" in p.what for p in probs)
    assert not any("min_base.csat" in p.where for p in probs)


# ------------------------------------------------------------------ curves without cliffs


def test_continuous_curve_by_hand():
    c = scoring.ScoringCurve(floor_at=0.5)  # 50 % → 0, 80 % → 60, 100 % → 100, 120 % → 120
    got = scoring.score(np.array([0.4, 0.5, 0.65, 0.8 - 1e-9, 0.8, 0.9, 1.1, 1.5, np.nan]), c)
    np.testing.assert_allclose(got, [0, 0, 30, 60, 60, 80, 110, 120, np.nan], atol=1e-6)
    step = scoring.ScoringCurve()  # the classic threshold: 0 below 80 %
    assert scoring.score(0.8 - 1e-9, step) == 0 and scoring.score(0.8, step) == 60
    assert scoring.cliff_edges(c) == [] and scoring.cliff_edges(step) == [(0.8, 0.0, 60.0)]
    assert scoring.cliff_edges(scoring.StepTable(((0.8, 60), (1.0, 100), (1.2, 100)))) == [(0.8, 0.0, 60), (1.0, 60, 100)]
    with pytest.raises(Exception, match="floor_at"):
        scoring.ScoringCurve(floor_at=0.9)


def test_managers_just_below_a_jump_are_flagged():
    att = pd.DataFrame({"sales": [0.78, 0.76, 0.8, 0.99], "csat": [0.78, 0.78, 0.78, 0.78]},
                       index=pd.Index(["A", "B", "C", "D"], name="manager_id"))
    curves = {"sales": scoring.StepTable(((0.8, 60), (1.0, 100))), "csat": scoring.ScoringCurve(floor_at=0.5)}
    got = scoring.near_cliffs(att, curves, margin=0.03)
    # sales: A at 78 % is within 3 points below 80 % (0 → 60 points), D at 99 % below 100 % (60 → 100);
    # B at 76 % is too far, C at 80 % already over; CSAT's curve is continuous: nobody
    assert got[["manager_id", "edge", "points", "points_at_edge"]].values.tolist() == [["A", 0.8, 0.0, 60.0],
                                                                                        ["D", 1.0, 60.0, 100.0]]


# ------------------------------------------------------------------ grading pools, part-period managers, ties


def test_grading_pool_grows_until_every_pool_is_big_enough():
    units = pd.DataFrame({"team_id": ["t1"] * 8 + ["t2"] * 9 + ["t3"] * 7 + ["t4"] * 8,
                          "region": ["R1"] * 17 + ["R2"] * 15})
    graded = pd.Series(True, index=units.index)
    assert scoring.grading_pool(units, graded, "team", 7)[0] == "team"       # smallest team 7
    level, labels = scoring.grading_pool(units, graded, "team", 10)            # teams of 7–9 → regions of 17, 15
    assert level == "region" and labels.nunique() == 2
    assert scoring.grading_pool(units, graded, "team", 16)[0] == "company"     # R2 has 15
    assert scoring.grading_pool(units, graded, "team", 40) == ("absolute", None)  # 32 in all
    graded.iloc[:2] = False                                                    # two leavers take no place
    assert scoring.grading_pool(units, graded, "region", 16)[0] == "company"   # R1: 15 places left


def test_a_leaver_takes_no_quota_place_and_shields_nobody():
    ids = [f"M{i}" for i in range(10)]
    total = pd.Series([100.0, 99, 98, 97, 96, 95, 94, 93, 92, 91], index=ids)
    # everyone takes a place: 20/70/10 of 10 → A 2, B 7, C 1; the last (M9) takes the only C
    assert scoring.grade_forced(total).tolist() == ["A"] * 2 + ["B"] * 7 + ["C"]
    takes = pd.Series(True, index=ids)
    takes["M9"] = False  # M9 left in the second month
    got = scoring.grade_forced(total, takes_place=takes)
    # quotas over 9: raw 1.8 / 6.3 / 0.9 → floors 1 / 6 / 0, the 2 seats left to the largest
    # remainders .9 (C) and .8 (A) → A 2, B 6, C 1: M8 (92) now takes the C he earned;
    # M9 (91) is below every member → the last member's grade, C
    assert got.tolist() == ["A"] * 2 + ["B"] * 6 + ["C", "C"]
    total2 = total.copy()
    total2["M9"] = 99.5  # a leaver with a top total gets the grade of the first member at or below him (M1 99 → A)
    assert scoring.grade_forced(total2, takes_place=takes)["M9"] == "A"


def test_a_tie_takes_the_grade_holding_most_of_its_places():
    five = pd.Series([80.0] * 5)
    # 20/70/10 of 5 → A 1, B 4, C 0; the block of 5 holds 1 A place and 4 B places → all B (not all A)
    assert scoring.grade_forced(five).tolist() == ["B"] * 5
    t = pd.Series([90.0, 80, 80, 80, 70])
    # 40/60 of 5 → A 2, B 3; the 80s hold positions 2–4: one A place, two B places → B
    assert scoring.grade_forced(t, {"A": 0.4, "B": 0.6}).tolist() == ["A", "B", "B", "B", "B"]
    t2 = pd.Series([90.0, 80, 80, 70])
    # 50/50 of 4 → A 2, B 2; the 80s split one A, one B → the better grade
    assert scoring.grade_forced(t2, {"A": 0.5, "B": 0.5}).tolist() == ["A", "A", "A", "B"]


# ------------------------------------------------------------------ pay: the seed's rules and the new options


BASE = dict(monthly_base_pay=20000.0, months_in_period=1.0, total_score=90.0, active_fraction=1.0,
            complaints_resolved=0, complaints_escalated=0, large_first_orders=0, key_customers_lost=0,
            csat_responses=np.nan, new_customers_attainment=np.nan, key_customers_lost_attributable=np.nan)


def _plan(**over):
    d = {"commission": {"mode": "marginal", "edges": "share_of_target",
                        "tiers": [{"from": 0, "upto": 0.8, "rate": 0.0}, {"from": 0.8, "upto": 1.0, "rate": 0.06},
                                  {"from": 1.0, "upto": None, "rate": 0.08}]},
         "new_customer_bonus": {"per_customer": 500, "only_when_target_met": True},
         "satisfaction_bonus": {"threshold": 0.85, "amount": 1000, "min_responses": 5},
         "key_customer_loss_penalty": {"fraction_of_monthly_base_pay": 0.10, "attributable_only": True}}
    d.update(over)
    return inc.plan_from_dict(d)


def _both(plan, rows: list[dict]) -> tuple[pd.DataFrame, list]:
    table = pd.DataFrame([{**BASE, **r} for r in rows], index=[f"m{i}" for i in range(len(rows))])
    vec = inc.payouts(plan, table)
    one = [inc.statement(plan, table, k) for k in table.index]
    np.testing.assert_allclose(vec["total"], [s.total for s in one])  # the two implementations agree
    return vec, one


def test_commission_tiers_as_shares_of_target_by_hand():
    plan = _plan()
    vec, one = _both(plan, [
        dict(sales=330_000, sales_target=300_000, sales_attainment=1.1, new_customers=0, csat=np.nan),
        dict(sales=230_000, sales_target=300_000, sales_attainment=230 / 300, new_customers=0, csat=np.nan),
        dict(sales=330_000, sales_target=np.nan, sales_attainment=np.nan, new_customers=0, csat=np.nan),
    ])
    # edges at 0.8 × 300k = 240k and 300k: 6 % × 60,000 = 3,600 ; 8 % × 30,000 = 2,400 → 6,000
    assert vec["commission"].tolist() == pytest.approx([6000, 0, 0])
    # no target: no commission, and the statement says why
    assert "no sales target" in worded(one[2], "en").lines["explanation"].iloc[0]
    # the same attainment in a territory twice the size earns twice — but the rate is the same
    v2, _ = _both(plan, [dict(sales=660_000, sales_target=600_000, sales_attainment=1.1, new_customers=0, csat=np.nan)])
    assert v2["commission"].iloc[0] == pytest.approx(12_000)


def test_new_customer_bonus_only_when_the_target_is_met():
    vec, one = _both(_plan(), [
        dict(sales=0, sales_target=1, sales_attainment=0, new_customers=3, new_customers_attainment=0.75, csat=np.nan),
        dict(sales=0, sales_target=1, sales_attainment=0, new_customers=3, new_customers_attainment=1.0, csat=np.nan),
        dict(sales=0, sales_target=1, sales_attainment=0, new_customers=3, new_customers_attainment=np.nan, csat=np.nan),
    ])
    assert vec["new_customer_bonus"].tolist() == pytest.approx([0, 1500, 0])  # 3 × 500 only at 100 %
    assert "75.0%" in worded(one[0], "en").lines.query("component == 'new_customer_bonus'")["explanation"].iloc[0]
    off = _plan(new_customer_bonus={"per_customer": 500})  # the switch off: paid on every new customer
    v_off, _ = _both(off, [dict(sales=0, sales_target=1, sales_attainment=0, new_customers=3,
                                new_customers_attainment=0.75, csat=np.nan)])
    assert v_off["new_customer_bonus"].iloc[0] == pytest.approx(1500)


def test_satisfaction_bonus_needs_enough_responses_and_settles_per_month():
    vec, one = _both(_plan(), [
        dict(sales=0, sales_target=1, sales_attainment=0, new_customers=0, csat=0.9, csat_responses=4),
        dict(sales=0, sales_target=1, sales_attainment=0, new_customers=0, csat=0.9, csat_responses=5),
        dict(sales=0, sales_target=1, sales_attainment=0, new_customers=0, csat=0.9, csat_responses=15,
             months_in_period=3.0),
    ])
    # 4 responses < 5: nothing; 5: 1,000; a quarter settled at once: 1,000 × 3 months = 3,000
    assert vec["satisfaction_bonus"].tolist() == pytest.approx([0, 1000, 3000])
    text = worded(one[0], "en").lines.query("component == 'satisfaction_bonus'")["explanation"].iloc[0]
    assert "4 response" in text and "minimum of 5" in text


def test_key_customer_penalty_counts_attributable_losses_only():
    vec, one = _both(_plan(), [
        dict(sales=0, sales_target=1, sales_attainment=0, new_customers=0, csat=np.nan, key_customers_lost=3,
             key_customers_lost_attributable=1),
        dict(sales=0, sales_target=1, sales_attainment=0, new_customers=0, csat=np.nan, key_customers_lost=3,
             key_customers_lost_attributable=np.nan),
    ])
    # 10 % × 20,000 per loss: 1 attributable → −2,000; unmarked → all 3 → −6,000 (floored at 0 in the total)
    assert vec["key_customer_loss_penalty"].tolist() == pytest.approx([-2000, -6000])
    text = worded(one[1], "en").lines.query("component == 'key_customer_loss_penalty'")["explanation"].iloc[0]
    assert "does not say" in text


def test_whole_period_settlement_multiplies_amount_edges_by_the_months():
    plan = inc.plan_from_dict({"commission": {"mode": "marginal", "tiers": [
        {"from": 0, "upto": 100000, "rate": 0.03}, {"from": 100000, "upto": None, "rate": 0.05}]}})
    vec, _ = _both(plan, [dict(sales=450_000, sales_target=np.nan, sales_attainment=np.nan, months_in_period=3.0,
                               new_customers=0, csat=np.nan)])
    # a quarter at once: edge 3 × 100,000 = 300,000 → 3 % × 300,000 + 5 % × 150,000 = 16,500
    assert vec["commission"].iloc[0] == pytest.approx(16_500)


def test_grade_changes_pay_by_its_factor():
    plan = inc.plan_from_dict({"satisfaction_bonus": {"threshold": 0.85, "amount": 1000},
                               "grade_consequence": {"multiplier": {"A": 1.2, "C": 0.8}}})
    pin = pd.DataFrame([{**BASE, "manager_id": m, "month": "2026-07", "csat": 0.9} for m in ("a", "b", "c")],
                       index=["a 2026-07", "b 2026-07", "c 2026-07"])
    grades = pd.Series({"a": "A", "b": "B", "c": "C"})
    totals, sts, _ = manager_pay(plan, pin, [], grades=grades)
    assert totals.to_dict() == pytest.approx({"a": 1200, "b": 1000, "c": 800})  # 1,000 × 1.2 / 1.0 / 0.8
    line = worded(sts["a"], "en").lines.query("component == 'grade_adjustment'")
    assert line["subtotal"].iloc[0] == pytest.approx(200) and "grade A" in line["explanation"].iloc[0]
    assert "grade_adjustment" not in set(sts["b"].lines["component"])
    assert grade_factor(plan, grades, grades.index).tolist() == [1.2, 1.0, 0.8]


def test_pay_rules_just_out_of_reach_are_listed():
    plan = _plan()
    table = pd.DataFrame([{**BASE, "sales": 0, "sales_target": 1, "sales_attainment": 0, **r} for r in [
        dict(new_customers=2, new_customers_attainment=2 / 3, csat=0.84, csat_responses=9),   # 1 short; CSAT 1 pt
        dict(new_customers=1, new_customers_attainment=1 / 3, csat=0.80, csat_responses=9),   # 2 short; 5 pts
        dict(new_customers=3, new_customers_attainment=1.0, csat=0.90, csat_responses=4),     # met; 1 response short
    ]], index=["a", "b", "c"])
    got = inc.pay_cliffs(plan, table, 0.03)
    assert sorted(zip(got["row"], got["rule"])) == [("a", "csat_threshold"), ("a", "new_customer_target"),
                                                     ("c", "csat_responses")]


# ------------------------------------------------------------------ the demo plan against its own checks


@pytest.fixture(scope="module")
def demo():
    from helpers.context.health import plan_health_report
    from helpers.context.workbook import open_team
    from helpers.data.demo import ensure_demo

    ensure_demo(ROOT / "data" / "demo")
    ctx = open_team(ROOT / "params" / "demo.yaml", team="")
    ph = plan_health_report(ctx)
    from helpers.context.scores import company_scores, score_team

    cs = company_scores(ctx, roster=ctx.roster)
    q = score_team(ctx, with_review=False, company=cs, statements=True)
    return ctx, cs, q, ph


@pytest.mark.slow
def test_demo_pay_follows_the_score_more_than_the_territory(demo):
    ctx, cs, q, ph = demo
    s = q.summary[q.summary["status"] == "ok"]
    pay, total, target = q.pay.reindex(s.index), s["total"], cs.targets["sales"].reindex(s.index)
    # Spearman by a second method: Pearson of the average ranks
    rho_total = np.corrcoef(pay.rank(), total.rank())[0, 1]
    rho_target = np.corrcoef(pay.rank(), target.rank())[0, 1]
    assert rho_total > rho_target
    assert ph.health.rho_total == pytest.approx(rho_total) and ph.health.rho_territory == pytest.approx(rho_target)
    assert ph.health.verdict == "performance" and ph.health.passed


@pytest.mark.slow
def test_demo_no_points_for_nothing_asked_nothing_done(demo):
    ctx, cs, q, ph = demo
    for i in cs.weights.index:
        if not cs.library[i].higher_is_better:
            continue
        zero = (cs.values[i] == 0) & (cs.targets[i] == 0)
        assert cs.scores.loc[zero[zero].index, i].isna().all(), i
    # the leaver M002 had no new-customer target and won none: not assessed
    assert cs.targets.loc["M002", "new_customers"] == 0 and math.isnan(cs.scores.loc["M002", "new_customers"])


@pytest.mark.slow
def test_demo_grades_are_forced_in_pools_big_enough(demo):
    ctx, cs, q, ph = demo
    g = cs.plan.grades
    r = ctx.roster.set_index("manager_id")
    s = cs.summary.join(r[["team_id", "region", "fraction"]])
    teams = s[s["total"].notna()].groupby("team_id").size()
    assert (teams < g.min_pool).any()  # the demo's teams are too small to be forced on their own
    assert set(s["pool"]) == {"region"}
    for region, d in s[s["total"].notna()].groupby("region"):
        members = d[d["fraction"] + 1e-9 >= g.min_active_share]
        assert len(members) >= g.min_pool
        want = scoring.forced_quotas(len(members), g.distribution)
        got = members["grade"].value_counts().reindex(list(want), fill_value=0).to_dict()
        assert got == want, region  # the quotas hold exactly (no ties straddle a boundary in the demo)


@pytest.mark.slow
def test_demo_bonuses_rest_on_enough_evidence(demo):
    ctx, cs, q, ph = demo
    pin = q.pay_inputs.set_index("manager_id")
    plan = cs.pay_plan
    pay = inc.payouts(plan, q.pay_inputs.drop(columns=["manager_id", "month"]))
    pay.index = q.pay_inputs["manager_id"]
    paid_csat = pay["satisfaction_bonus"] > 0
    assert paid_csat.any()
    assert (pin.loc[paid_csat[paid_csat].index, "csat_responses"] >= plan.satisfaction_bonus.min_responses).all()
    paid_nc = pay["new_customer_bonus"] > 0
    assert paid_nc.any() and (pin.loc[paid_nc[paid_nc].index, "new_customers_attainment"] >= 1 - 1e-9).all()
    # the quarter is settled at once: one pay row per manager
    assert q.pay_inputs["manager_id"].is_unique and set(q.pay_inputs["month"]) == {ctx.period.label}
    # the grade factor: an A-graded manager's pay is 1.2 × the pay before it
    a = q.summary.index[(q.summary["grade"] == "A") & q.summary["payout"].notna()][0]
    assert q.pay[a] == pytest.approx(1.2 * pay.loc[a, "total"])


@pytest.mark.slow
def test_demo_soft_appraisal_follows_the_rubric(demo):
    ctx, cs, q, ph = demo
    r = pd.read_csv(ROOT / "data" / "demo" / "ratings.csv")
    months = [m.strftime("%Y-%m") for m in ctx.period.months]
    r = r[r["period"].isin(months) & (r["manager_id"] == "M001") & (r["dimension"] == "attitude")]
    assert set(r["score"]) <= {100, 85, 70, 55, 40} and r["rater"].nunique() == 2  # levels only; two raters
    # each rater's three months averaged, then the two raters averaged
    by_rater = r.groupby("rater")["score"].mean()
    assert cs.soft.loc["M001", "attitude"] == pytest.approx(by_rater.mean())
    assert cs.rubric is not None and cs.rubric.on_level == "exact"


@pytest.mark.slow
def test_demo_quarter_is_paid_on_the_quarters_results(demo):
    ctx, cs, q, ph = demo
    pin = q.pay_inputs.set_index("manager_id")
    a = ctx.actuals[(ctx.actuals["period"] == ctx.period.label) & (ctx.actuals["segment"] == "all")]
    sales = a[a["kpi"] == "sales"].set_index("manager_id")["value"]
    csat = a[a["kpi"] == "csat"].set_index("manager_id")
    m = "M001"
    assert pin.loc[m, "sales"] == pytest.approx(sales[m])
    assert pin.loc[m, "csat"] == pytest.approx(csat.loc[m, "value"])
    assert pin.loc[m, "csat_responses"] == csat.loc[m, "denominator"]
    assert pin.loc[m, "months_in_period"] == 3 and pin.loc[m, "sales_target"] == pytest.approx(cs.targets.loc[m, "sales"])


def test_even_pace_keeps_the_quarter_and_follows_the_monthly_targets():
    from helpers.context.health import _even_pace

    pin = pd.DataFrame({"manager_id": ["a", "a"], "month": ["2026-07", "2026-08"], "sales": [300.0, 0.0],
                        "sales_target": [100.0, 200.0]})
    even = _even_pace(pin)
    # 300 in total, booked at the pace of the targets (1/3, 2/3): 100 and 200 → 100 % both months
    assert even["sales"].tolist() == pytest.approx([100, 200]) and even["sales_attainment"].tolist() == pytest.approx([1, 1])


def test_the_verdict_says_what_pay_follows():
    from types import SimpleNamespace

    from helpers.core.health import plan_health
    from helpers.present import health as PH

    rows = pd.DataFrame({"payout": [10.0, 20, 30, 40], "total": [90.0, 80, 70, 60], "territory": [1.0, 2, 3, 4]})
    h = plan_health(rows, pd.DataFrame({"sales": [100.0, 100, 100, 100]}), {"sales": 120})
    assert h.verdict == "territory"
    ph = SimpleNamespace(health=h, rows=rows, settlement="month")
    zh, en = PH.verdict_text(ph, "zh"), PH.verdict_text(ph, "en")
    assert "跟着辖区走" in zh and "ρ = 1.00" in zh and "ρ = -1.00" in zh
    assert "pay follows the territory" in en and "settles month by month" in en


def test_nothing_asked_nothing_done_is_not_assessed_not_a_score():
    from helpers.core.scorecard import assessment_status

    ids = pd.Index(["idle", "partial", "ok", "absent"])
    total = pd.Series([np.nan, np.nan, 95.0, np.nan], index=ids)
    values = pd.DataFrame({"sales": [0.0, 50.0, 100.0, np.nan], "csat": [np.nan, np.nan, 0.9, np.nan]}, index=ids)
    targets = pd.DataFrame({"sales": [0.0, 100.0, 100.0, 100.0], "csat": [np.nan, 0.8, 0.8, 0.8]}, index=ids)
    got = assessment_status(total, values, targets, np.array([True, True, True, False]))
    # idle: no target and no activity → not assessed (the CRM export's agents without a deal scored 100
    # before); partial: a target but too little data → incomplete; absent: not in the data → no data
    assert got.tolist() == ["not_assessed", "incomplete", "ok", NO_DATA]


@pytest.mark.slow
def test_demo_statement_says_why_a_bonus_was_not_paid(demo):
    """The HTML statement shows a line that could have paid but did not, with its reason
    (new customers won but the target missed); lines with nothing to count stay in the xlsx."""
    from helpers.notebooks import quarterly as Q

    ctx, cs, q, ph = demo
    pin = q.pay_inputs.set_index("manager_id")
    missed = pin.index[(pin["new_customers"] > 0) & (pin["new_customers_attainment"] < 1)]
    assert len(missed)
    html = Q.statement_table(q, missed[0]).to_html()
    assert "新客户目标达成率" in html and "不发奖励" in html
