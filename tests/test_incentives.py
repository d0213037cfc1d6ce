"""Tests for helpers.core.incentives — every expected amount is worked out by hand in a
comment, or checked by a second implementation (scalar statement vs vectorised
payouts, and a tiny independent commission function)."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.errors import InputError
from helpers.core import incentives
from helpers.core.incentives import (
    COMPONENTS,
    IncentivePlan,
    ManagerInputs,
    Phrase,
    load_plan,
    payouts,
    plan_from_dict,
    what_if,
)
from helpers.present.pay import worded

from conftest import SEED_PLAN


def payout(plan: IncentivePlan, x: ManagerInputs, language: str = "en") -> incentives.Statement:
    """The core's statement, worded as a reader sees it (the core returns phrases, no language)."""
    return worded(incentives.payout(plan, x), language)


def statement(plan: IncentivePlan, table: pd.DataFrame, manager: str, language: str = "en") -> incentives.Statement:
    return worded(incentives.statement(plan, table, manager), language)

# Seed numbers (伙伴云 note): 3 % ≤ 100k, 5 % 100k–500k; 8 % above 500k added for the
# tests; 500 per new customer (+1,000 per first order ≥ 50,000); CSAT ≥ 85 % → 1,000;
# 10 % of monthly base pay per key customer lost (capped at 30 % per month);
# +200 per complaint resolved, −300 per escalation.
PLAN: dict = {
    "commission": {
        "mode": "marginal",
        "tiers": [
            {"from": 0, "upto": 100000, "rate": 0.03},
            {"from": 100000, "upto": 500000, "rate": 0.05},
            {"from": 500000, "upto": None, "rate": 0.08},
        ],
    },
    "new_customer_bonus": {"per_customer": 500, "large_first_order": {"min_amount": 50000, "extra": 1000}},
    "satisfaction_bonus": {"threshold": 0.85, "amount": 1000},
    "key_customer_loss_penalty": {"fraction_of_monthly_base_pay": 0.10, "max_fraction_per_month": 0.30},
    "complaints": {"per_resolved": 200, "per_escalated": 300},
}


def plan(**changes) -> IncentivePlan:
    d = copy.deepcopy(PLAN)
    for k, v in changes.items():
        d[k] = v
    return plan_from_dict(d, "test plan")


def commission_only(mode: str, **extra) -> IncentivePlan:
    return plan_from_dict({"commission": {**PLAN["commission"], "mode": mode}, **extra}, "test plan")


def sales_inputs(sales: float, **kw) -> ManagerInputs:
    return ManagerInputs(manager_id="m", sales=sales, **kw)


def component(st, name: str) -> float:
    return float(st.by_component()[name])


# ----------------------------------------------------------------------------- commission


def test_marginal_vs_whole_300k():
    # marginal: 3 % × 100,000 + 5 % × 200,000 = 3,000 + 10,000 = 13,000
    # whole:    5 % × 300,000 = 15,000 (300,000 falls in the 100k–500k tier)
    m = payout(commission_only("marginal"), sales_inputs(300_000))
    w = payout(commission_only("whole"), sales_inputs(300_000))
    assert m.total == pytest.approx(13_000)
    assert w.total == pytest.approx(15_000)
    assert m.lines["explanation"].tolist() == ["3% × 100,000.00 = 3,000.00", "5% × 200,000.00 = 10,000.00"]
    assert w.lines["explanation"].tolist() == ["5% × 300,000.00 = 15,000.00"]


@pytest.mark.parametrize(
    "sales, marginal, whole",
    [
        (0.0, 0.0, 0.0),
        # exactly at the first edge: upto is inclusive → first tier in whole mode
        (100_000.0, 3_000.0, 3_000.0),
        # one cent above: marginal 3,000 + 5 % × 0.01 ; whole 5 % × 100,000.01
        (100_000.01, 3_000.0005, 5_000.0005),
        # exactly 500,000: marginal 3,000 + 5 % × 400,000 = 23,000 ; whole 5 % × 500,000 = 25,000
        (500_000.0, 23_000.0, 25_000.0),
        # 600,000: marginal 23,000 + 8 % × 100,000 = 31,000 ; whole 8 % × 600,000 = 48,000
        (600_000.0, 31_000.0, 48_000.0),
        # 50,000: 3 % × 50,000 = 1,500 in both
        (50_000.0, 1_500.0, 1_500.0),
        # negative net sales (returns) → no commission
        (-5_000.0, 0.0, 0.0),
    ],
)
def test_commission_tier_edges(sales, marginal, whole):
    assert payout(commission_only("marginal"), sales_inputs(sales)).total == pytest.approx(marginal)
    assert payout(commission_only("whole"), sales_inputs(sales)).total == pytest.approx(whole)
    table = pd.DataFrame({"sales": [sales]})
    assert payouts(commission_only("marginal"), table)["total"].iloc[0] == pytest.approx(marginal)
    assert payouts(commission_only("whole"), table)["total"].iloc[0] == pytest.approx(whole)


def test_commission_gate_on_sales_attainment():
    p = commission_only("marginal", gates={"min_sales_attainment_for_commission": 0.6})
    # 59 % < 60 % → 0 ; exactly 60 % passes → 3 % × 60,000 = 1,800
    below = payout(p, sales_inputs(59_000, sales_attainment=0.59))
    at = payout(p, sales_inputs(60_000, sales_attainment=0.60))
    nodata = payout(p, sales_inputs(60_000))
    assert below.total == 0.0 and "gate of 60% not reached: sales attainment 59.0%" in below.lines["explanation"].iloc[0]
    assert at.total == pytest.approx(1_800.0)
    assert nodata.total == 0.0 and nodata.lines["explanation"].iloc[0].startswith("no data")
    got = payouts(p, pd.DataFrame({"sales": [59_000, 60_000, 60_000], "sales_attainment": [0.59, 0.60, np.nan]}))
    np.testing.assert_allclose(got["total"], [0.0, 1_800.0, 0.0])
    assert got["no_data"].tolist() == ["", "", "sales_attainment"]


def test_missing_sales_is_no_data_not_zero_crash():
    st = payout(commission_only("marginal"), sales_inputs(math.nan))
    assert st.total == 0.0
    assert st.lines["explanation"].iloc[0].startswith("no data: sales missing")


def test_tier_edges_prorated_when_asked():
    p = commission_only("marginal", proration={"tier_edges": True})
    # active half the period: edges 50,000 / 250,000; sales 100,000 →
    # 3 % × 50,000 + 5 % × 50,000 = 1,500 + 2,500 = 4,000
    st = payout(p, sales_inputs(100_000, active_fraction=0.5))
    assert st.total == pytest.approx(4_000.0)
    got = payouts(p, pd.DataFrame({"sales": [100_000.0], "active_fraction": [0.5]}))
    assert got["commission"].iloc[0] == pytest.approx(4_000.0)
    # default: tier edges not pro-rated → 3,000
    assert payout(commission_only("marginal"), sales_inputs(100_000, active_fraction=0.5)).total == pytest.approx(3_000)


# ----------------------------------------------------------------------------- other elements


def full_inputs(**kw) -> ManagerInputs:
    base = dict(manager_id="m1", sales=0.0, new_customers=0, large_first_orders=0, csat=0.5, key_customers_lost=0,
                complaints_resolved=0, complaints_escalated=0, monthly_base_pay=8_000.0)
    base.update(kw)
    return ManagerInputs(**base)


def test_new_customer_bonus():
    # 3 new customers × 500 = 1,500 ; 1 large first order × 1,000 = 1,000 ; total 2,500
    st = payout(plan(), full_inputs(new_customers=3, large_first_orders=1))
    assert component(st, "new_customer_bonus") == pytest.approx(1_500)
    assert component(st, "large_first_order_bonus") == pytest.approx(1_000)
    assert st.total == pytest.approx(2_500)
    assert "500.00 × 3 new customer(s) = 1,500.00" in st.lines["explanation"].tolist()


@pytest.mark.parametrize(
    "csat, paid",
    [(0.85, 1_000.0), (17 / 20, 1_000.0), (0.8499, 0.0), (0.95, 1_000.0), (math.nan, 0.0)],
)
def test_satisfaction_threshold_inclusive(csat, paid):
    st = payout(plan(), full_inputs(csat=csat))
    assert component(st, "satisfaction_bonus") == pytest.approx(paid)
    line = st.lines.set_index("component").loc["satisfaction_bonus", "explanation"]
    if math.isnan(csat):
        assert line.startswith("no data: CSAT missing")


def test_satisfaction_bonus_prorated_for_part_period():
    # active 16 of 31 days: 1,000 × 16/31 = 516.13
    st = payout(plan(), full_inputs(csat=0.9, active_fraction=16 / 31))
    assert component(st, "satisfaction_bonus") == pytest.approx(1_000 * 16 / 31)
    p = plan(proration={"fixed_bonuses": False})
    assert component(payout(p, full_inputs(csat=0.9, active_fraction=16 / 31)), "satisfaction_bonus") == 1_000


def test_key_customer_penalty_per_customer_and_cap():
    # 2 lost × 10 % × 8,000 = −1,600
    st = payout(plan(), full_inputs(key_customers_lost=2))
    assert component(st, "key_customer_loss_penalty") == pytest.approx(-1_600)
    # 5 lost → 4,000 raw, capped at 30 % × 8,000 × 1 month = 2,400
    st = payout(plan(), full_inputs(key_customers_lost=5))
    assert component(st, "key_customer_loss_penalty") == pytest.approx(-2_400)
    assert "capped" in st.lines.set_index("component").loc["key_customer_loss_penalty", "explanation"]
    # quarter (3 months): cap 30 % × 8,000 × 3 = 7,200 → 5 lost stays −4,000
    st = payout(plan(), full_inputs(key_customers_lost=5, months_in_period=3))
    assert component(st, "key_customer_loss_penalty") == pytest.approx(-4_000)


def test_complaints_reward_and_deduction():
    # +200 × 3 = 600 ; −300 × 1 = −300 ; net 300
    st = payout(plan(), full_inputs(complaints_resolved=3, complaints_escalated=1))
    assert component(st, "complaints_resolved") == pytest.approx(600)
    assert component(st, "complaints_escalated") == pytest.approx(-300)
    assert st.total == pytest.approx(300)


def test_floor_at_zero_and_without_floor():
    # penalties only: −10 % × 8,000 × 2 = −1,600 and −300 × 1 → net −1,900 → floored to 0 (+1,900)
    x = full_inputs(key_customers_lost=2, complaints_escalated=1)
    st = payout(plan(), x)
    assert st.total == 0.0
    assert component(st, "floor_adjustment") == pytest.approx(1_900)
    st = payout(plan(caps={"floor_at_zero": False}), x)
    assert st.total == pytest.approx(-1_900)


def test_score_gate_withholds_positive_items_only():
    p = plan(gates={"min_total_score_for_variable_pay": 60})
    x = full_inputs(sales=200_000, new_customers=2, csat=0.9, complaints_escalated=1, total_score=55)
    # positives: commission 3,000 + 5 % × 100,000 = 8,000 ; new customers 1,000 ; CSAT 1,000 → 10,000 withheld
    # deductions stay: −300 → net −300 → floor +300 → total 0
    st = payout(p, x)
    assert component(st, "score_gate") == pytest.approx(-10_000)
    assert st.total == 0.0
    # exactly at the gate → paid: 10,000 − 300 = 9,700
    assert payout(p, x.model_copy(update={"total_score": 60.0})).total == pytest.approx(9_700)


def test_caps_absolute_and_multiple_of_base_pay():
    # sales 1,000,000 marginal: 3,000 + 20,000 + 8 % × 500,000 = 63,000
    x = full_inputs(sales=1_000_000)
    assert payout(plan(), x).total == pytest.approx(63_000)
    # 3 × base 8,000 × 1 month = 24,000 cap → adjustment −39,000
    st = payout(plan(caps={"max_multiple_of_base_pay": 3}), x)
    assert st.total == pytest.approx(24_000)
    assert component(st, "cap_adjustment") == pytest.approx(-39_000)
    # absolute 20,000 cap pro-rated for half a period → 10,000 (the smaller cap wins)
    p = plan(caps={"max_variable_pay": 20_000, "max_multiple_of_base_pay": 3})
    assert payout(p, x.model_copy(update={"active_fraction": 0.5})).total == pytest.approx(10_000)
    got = payouts(p, pd.DataFrame([x.model_dump(), {**x.model_dump(), "active_fraction": 0.5}]))
    np.testing.assert_allclose(got["total"], [20_000, 10_000])


def test_statement_lines_add_up_and_are_readable():
    x = full_inputs(sales=300_000, new_customers=3, large_first_orders=1, csat=0.85, key_customers_lost=1,
                    complaints_resolved=2, complaints_escalated=1)
    st = payout(plan(), x)
    # 3,000 + 10,000 + 1,500 + 1,000 + 1,000 + 400 − 800 − 300 = 15,800
    assert st.total == pytest.approx(15_800)
    assert st.lines["subtotal"].sum() == pytest.approx(st.total)
    assert list(st.lines.columns) == ["component", "item", "quantity", "rate", "subtotal", "explanation"]
    assert "-10% × 8,000.00 monthly base pay × 1 customer(s) = -800.00" in st.lines["explanation"].tolist()


# ----------------------------------------------------------------------------- many managers


def random_table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = pd.DataFrame(
        {
            "sales": rng.choice([0, 100_000, 500_000, 50_000], n) * (rng.random(n) < 0.2)
            + rng.uniform(0, 900_000, n) * (rng.random(n) >= 0.2),
            "sales_attainment": rng.uniform(0.3, 1.6, n),
            "new_customers": rng.integers(0, 8, n).astype(float),
            "large_first_orders": rng.integers(0, 3, n).astype(float),
            "csat": rng.choice([0.85, 0.8, 0.9, 0.95, 0.5], n),
            "key_customers_lost": rng.integers(0, 6, n).astype(float),
            "complaints_resolved": rng.integers(0, 5, n).astype(float),
            "complaints_escalated": rng.integers(0, 6, n).astype(float),
            "monthly_base_pay": rng.uniform(3_000, 15_000, n),
            "months_in_period": rng.choice([1.0, 3.0], n),
            "total_score": rng.uniform(40, 120, n),
            "active_fraction": np.where(rng.random(n) < 0.3, rng.uniform(0.1, 1.0, n), 1.0),
        },
        index=[f"m{i:03d}" for i in range(n)],
    )
    for col in ("sales", "sales_attainment", "csat", "new_customers", "total_score", "complaints_escalated"):
        t.loc[rng.random(n) < 0.07, col] = np.nan
    return t


@pytest.mark.parametrize("mode", ["marginal", "whole"])
@pytest.mark.parametrize("variant", [0, 1])
def test_vectorised_payouts_match_per_manager_loop(mode, variant):
    extra = {
        0: dict(gates={"min_sales_attainment_for_commission": 0.6, "min_total_score_for_variable_pay": 60},
                caps={"max_variable_pay": 30_000, "max_multiple_of_base_pay": 2.5}),
        1: dict(caps={"max_multiple_of_base_pay": 1.0, "floor_at_zero": False},
                proration={"tier_edges": True, "fixed_bonuses": False, "caps": False}),
    }[variant]
    d = copy.deepcopy(PLAN)
    d["commission"]["mode"] = mode
    d.update(extra)
    p = plan_from_dict(d, "test plan")
    table = random_table(200, seed=variant)
    vec = payouts(p, table)
    for mid, row in table.iterrows():
        st = payout(p, ManagerInputs.from_row(row, manager_id=mid))
        np.testing.assert_allclose(st.by_component().to_numpy(), vec.loc[mid, list(COMPONENTS)].to_numpy(dtype=float),
                                   rtol=1e-12, atol=1e-9, err_msg=str(mid))
        assert st.total == pytest.approx(vec.loc[mid, "total"], abs=1e-9)
        assert st.lines["subtotal"].sum() == pytest.approx(st.total, abs=1e-9)


def _commission_by_units(sales: float, tiers, mode: str) -> float:
    """Third method: walk the tiers as a list of (lo, hi, rate) with no numpy."""
    if sales <= 0:
        return 0.0
    if mode == "whole":
        for lo, hi, rate in tiers:
            if hi is None or sales <= hi:
                return rate * sales
    total = 0.0
    for lo, hi, rate in tiers:
        top = sales if hi is None else min(sales, hi)
        if top > lo:
            total += (top - lo) * rate
    return total


@pytest.mark.parametrize("mode", ["marginal", "whole"])
def test_commission_matches_independent_function(mode):
    tiers = [(0, 100_000, 0.03), (100_000, 500_000, 0.05), (500_000, None, 0.08)]
    sales = np.concatenate([np.random.default_rng(3).uniform(0, 1_000_000, 300), [100_000, 500_000, 0]])
    got = payouts(commission_only(mode), pd.DataFrame({"sales": sales}))["commission"].to_numpy()
    exp = [_commission_by_units(s, tiers, mode) for s in sales]
    np.testing.assert_allclose(got, exp, rtol=1e-12)


def test_payouts_input_errors():
    with pytest.raises(InputError) as err:
        payouts(plan(), pd.DataFrame({"sales": [1.0]}))
    msg = str(err.value)
    assert "csat" in msg and "new_customers" in msg and "monthly_base_pay" in msg
    t = random_table(5, 0)
    t.loc["m001", "csat"] = 85  # percent instead of ratio
    t.loc["m002", "new_customers"] = 1.5
    t.loc["m003", "monthly_base_pay"] = np.nan
    with pytest.raises(InputError) as err:
        payouts(plan(), t)
    wheres = {p.where: str(p) for p in err.value.problems}
    assert "m001" in wheres["csat"] and "m002" in wheres["new_customers"] and "m003" in wheres["monthly_base_pay"]
    with pytest.raises(InputError):
        ManagerInputs(csat=85.0)


def test_statement_on_demand_matches_payouts():
    p = plan()
    t = random_table(10, 4)
    st = statement(p, t, "m004")
    assert st.total == pytest.approx(payouts(p, t).loc["m004", "total"])
    with pytest.raises(InputError):
        statement(p, t, "nobody")


def test_what_if_scales_sales_keeps_the_rest():
    x = full_inputs(sales=123.0, sales_target=250_000, new_customers=2, csat=0.9)
    got = what_if(plan(), x)
    # sales 200k / 250k / 300k → commission 3,000 + 5,000 = 8,000 ; 3,000 + 7,500 = 10,500 ; 13,000
    # plus 2 × 500 = 1,000 and CSAT 1,000 kept in every scenario
    assert got.index.tolist() == [0.8, 1.0, 1.2]
    np.testing.assert_allclose(got["sales"], [200_000, 250_000, 300_000])
    np.testing.assert_allclose(got["commission"], [8_000, 10_500, 13_000])
    np.testing.assert_allclose(got["total"], [10_000, 12_500, 15_000])
    with pytest.raises(InputError):
        what_if(plan(), full_inputs())  # no sales target


# ----------------------------------------------------------------------------- plan validation


def bad_plan(mutate) -> InputError:
    d = copy.deepcopy(PLAN)
    mutate(d)
    with pytest.raises(InputError) as err:
        plan_from_dict(d, "params/incentives.yaml")
    return err.value


def test_overlapping_tiers_named():
    e = bad_plan(lambda d: d["commission"]["tiers"][1].update({"from": 80_000}))
    assert [p.where for p in e.problems] == ["commission.tiers[1].from"]
    assert "overlap" in str(e) and "80,000.00" in str(e) and "100,000.00" in str(e)
    assert str(e).startswith("params/incentives.yaml: commission.tiers[1].from:")


def test_gap_between_tiers_named():
    e = bad_plan(lambda d: d["commission"]["tiers"][1].update({"from": 120_000}))
    assert [p.where for p in e.problems] == ["commission.tiers[1].from"]
    assert "gap" in str(e) and "120,000.00" in str(e)


def test_unordered_tiers_named():
    e = bad_plan(lambda d: d["commission"].update({"tiers": [d["commission"]["tiers"][i] for i in (1, 0, 2)]}))
    wheres = [p.where for p in e.problems]
    assert "commission.tiers[0].from" in wheres  # does not start at 0
    assert "commission.tiers[1].from" in wheres and "not in increasing order" in str(e)


def test_unbounded_and_bounded_last_tier_named():
    e = bad_plan(lambda d: d["commission"]["tiers"][1].update({"upto": None}))
    assert "commission.tiers[1].upto" in [p.where for p in e.problems]
    e = bad_plan(lambda d: d["commission"]["tiers"][2].update({"upto": 900_000}))
    assert [p.where for p in e.problems] == ["commission.tiers[2].upto"]
    e = bad_plan(lambda d: d["commission"]["tiers"][0].update({"upto": 0}))
    assert "commission.tiers[0].upto" in [p.where for p in e.problems]


def test_unknown_keys_and_bad_values_named():
    e = bad_plan(lambda d: d["commission"]["tiers"][1].update({"uptoo": 3}))
    assert [p.where for p in e.problems] == ["commission.tiers[1].uptoo"]
    assert "from, upto, rate" in str(e)
    e = bad_plan(lambda d: d.update({"bonuses": {}}))
    assert [p.where for p in e.problems] == ["bonuses"]
    e = bad_plan(lambda d: d["satisfaction_bonus"].update({"threshold": 85}))
    assert [p.where for p in e.problems] == ["satisfaction_bonus.threshold"] and "0.85" in str(e)
    e = bad_plan(lambda d: d["commission"].update({"mode": "progressive"}))
    assert [p.where for p in e.problems] == ["commission.mode"]


def test_load_plan_from_yaml(tmp_path: Path):
    good = tmp_path / "incentives.yaml"
    good.write_text(
        "commission:\n  mode: whole\n  tiers:\n"
        "    - {from: 0, upto: 100000, rate: 0.03}\n"
        "    - {from: 100000, upto: null, rate: 0.05}\n"
        "satisfaction_bonus: {threshold: 0.85, amount: 1000}\n",
        encoding="utf-8",
    )
    p = load_plan(good)
    # whole: 5 % × 300,000 = 15,000 ; CSAT 0.9 → 1,000
    assert payout(p, ManagerInputs(sales=300_000, csat=0.9)).total == pytest.approx(16_000)

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "commission:\n  mode: marginal\n  tiers:\n"
        "    - {from: 0, upto: 100000, rate: 0.03}\n"
        "    - {from: 90000, upto: null, rate: 0.05}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        load_plan(bad)
    assert str(err.value).startswith(f"{bad}: commission.tiers[1].from: overlap")

    syntax = tmp_path / "syntax.yaml"
    syntax.write_text("commission:\n  mode: [marginal\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_plan(syntax)
    assert "line" in err.value.problems[0].where

    with pytest.raises(InputError):
        load_plan(tmp_path / "missing.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InputError):
        load_plan(empty)


REPO = Path(__file__).resolve().parents[1]


def test_seed_plan_numbers():
    p = plan_from_dict(SEED_PLAN)
    x = ManagerInputs(sales=300_000, sales_attainment=1.0, new_customers=1, large_first_orders=0, csat=0.85,
                      key_customers_lost=1, complaints_resolved=1, complaints_escalated=1, monthly_base_pay=8_000)
    # seed: 3 % × 100k + 5 % × 200k = 13,000 ; +500 ; +1,000 (CSAT 85 %) ; −10 % × 8,000 = −800 ; +200 ; −300
    # = 13,600
    assert payout(p, x).total == pytest.approx(13_600)


def test_statement_in_chinese_has_the_same_numbers():
    """The statement speaks the report's language: the same lines and amounts, the
    texts from the catalog (no English words left in the Chinese statement)."""
    import re

    x = full_inputs(sales=300_000, new_customers=3, large_first_orders=1, csat=0.85, key_customers_lost=1,
                    complaints_resolved=2, complaints_escalated=1)
    en, zh = payout(plan(), x), payout(plan(), x, "zh")
    assert zh.total == en.total
    assert zh.lines["subtotal"].tolist() == en.lines["subtotal"].tolist()
    assert zh.lines["item"].tolist()[:2] == ["提成第 1 档（0–100,000）", "提成第 2 档（100,000–500,000）"]
    assert "3 个新客户" in " ".join(zh.lines["explanation"])
    english = [t for t in zh.lines["item"].tolist() + zh.lines["explanation"].tolist() if re.search(r"[a-z]{3,}", t)]
    assert english == [t for t in english if "CSAT" in t] == [], english


def test_the_core_statement_holds_phrases_not_words():
    """The calculation knows no language: its items and explanations are catalog keys
    with values (or plain arithmetic), worded only by the presentation."""
    st = incentives.payout(plan(), full_inputs(sales=300_000, new_customers=3))
    kinds = {type(x) for x in [*st.lines["item"], *st.lines["explanation"]]}
    assert kinds <= {Phrase, str} and Phrase in kinds
    first = st.lines["item"].iloc[0]
    assert first.parts[0][0] == "inc.item.commission_tier" and dict(first.parts[0][1])["i"] == 1
    assert str(first).startswith("⟨inc.item.commission_tier i=1 ")  # codes, not words: a look in JupyterLab shows the key
