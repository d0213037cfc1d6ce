"""Tests for the review (helpers.core.review, its words in helpers.present.review, helpers.context.review) — values worked out by hand in the comments, or by a second
method (plain pandas on the order lines) for the demo run."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.context import review as rv_ctx
from helpers.core import review as rv_core
from helpers.core.phrases import OneOf
from helpers.present import review as rv
from helpers.present.words import render
from helpers.errors import InputError
from helpers.kpis.indicators import load_library
from helpers.periods import parse_period

ROOT = Path(__file__).resolve().parents[1]
LIB = load_library(ROOT / "params" / "indicators.yaml")
IND = ["sales", "csat", "complaint_rate", "nps", "new_customers"]
Q3 = parse_period("2026Q3")
NAN = float("nan")


def _rows(mid: str, period: str, values: dict, segment: str = "all") -> list[dict]:
    """values: kpi → value or (value, denominator)."""
    out = []
    for kpi, v in values.items():
        val, den = v if isinstance(v, tuple) else (v, NAN)
        out.append({"manager_id": mid, "period": period, "segment": segment, "kpi": kpi, "value": val,
                    "numerator": NAN, "denominator": den, "rows": 1})
    return out


def small_actuals() -> pd.DataFrame:
    """Three managers, quarterly.  C joined in 2026Q3 (no earlier rows)."""
    r: list[dict] = []
    # A: nps 36.666… = 30 + 20/3 so that its score ties with sales (see test_ties_keep_indicator_order)
    r += _rows("A", "2026Q3", {"sales": 1200, "csat": (0.923, 13), "complaint_rate": (0.02, 50),
                               "nps": (30 + 20 / 3, 30), "new_customers": 6})
    r += _rows("A", "2026Q2", {"sales": 1000, "csat": (0.90, 10), "complaint_rate": (0.03, 40), "nps": (30, 20),
                               "new_customers": 4})
    r += _rows("A", "2025Q3", {"sales": 800, "csat": (0.85, 10), "nps": (20, 10), "new_customers": 5})  # no complaint row
    r += _rows("A", "2026Q3", {"sales": 700}, "key") + _rows("A", "2026Q3", {"sales": 400}, "small")
    r += _rows("A", "2026Q3", {"sales": 100}, "walkin")
    r += _rows("A", "2026Q2", {"sales": 600}, "key") + _rows("A", "2026Q2", {"sales": 300}, "small")
    r += _rows("A", "2026Q2", {"sales": 100}, "walkin")
    # B: previous sales 0 (growth undefined), CSAT with no survey this quarter (denominator 0)
    r += _rows("B", "2026Q3", {"sales": 500, "csat": (NAN, 0), "complaint_rate": (0.02, 25), "nps": (30, 10),
                               "new_customers": 2})
    r += _rows("B", "2026Q2", {"sales": 0, "csat": (0.8, 5), "complaint_rate": (0.05, 20), "nps": (25, 8),
                               "new_customers": 3})
    r += _rows("B", "2025Q3", {"sales": 400})
    r += _rows("B", "2026Q3", {"sales": 0}, "key") + _rows("B", "2026Q3", {"sales": 500}, "small")
    r += _rows("B", "2026Q3", {"sales": 0}, "walkin")
    # C: only 2026Q3; CSAT from 4 surveys (below the default minimum base of 5)
    r += _rows("C", "2026Q3", {"sales": 900, "csat": (0.80, 4), "complaint_rate": (0.14, 50), "nps": (40, 10),
                               "new_customers": 3})
    r += _rows("C", "2026Q3", {"sales": 900}, "key")
    return pd.DataFrame(r)


def small_company(quartiles: bool = False) -> pd.DataFrame:
    rows = [
        # kpi, mean, median, managers, q25, q75
        ("sales", 1100, 1000, 10, 800, 1150),
        ("csat", 0.85, 0.842, 10, 0.80, 0.95),
        ("complaint_rate", 0.08, 0.08, 10, 0.05, 0.10),
        ("nps", 30, 30, 10, 20, 45),
        ("new_customers", 4, 4, 3, 3, 5),  # 3 managers only: fewer than min_peers = 5
    ]
    df = pd.DataFrame(rows, columns=["kpi", "mean", "median", "managers", "q25", "q75"])
    df.insert(0, "segment", "all")
    df.insert(0, "period", "2026Q3")
    return df if quartiles else df.drop(columns=["q25", "q75"])


def row(df: pd.DataFrame, mid: str, ind: str) -> pd.Series:
    sel = df[(df["manager_id"] == mid) & (df["indicator"] == ind)]
    assert len(sel) == 1, (mid, ind, len(sel))
    return sel.iloc[0]


# ----------------------------------------------------------------------------- 纵向


def test_vertical_qoq_yoy_and_pp_for_ratios():
    v = rv.vertical_comparison(small_actuals(), LIB, Q3, indicators=IND, language="en")
    a = row(v, "A", "sales")
    # 1200 vs 1000: +200, +20 %; vs 800 a year ago: +400, +50 %
    assert (a["value"], a["previous"], a["year_ago"]) == (1200, 1000, 800)
    assert a["change_prev"] == 200 and a["change_prev_pct"] == pytest.approx(0.2)
    assert a["change_yoy"] == 400 and a["change_yoy_pct"] == pytest.approx(0.5)
    assert a["trend_prev"] == "better" and a["change_unit"] == "currency" and a["note"] == ""
    c = row(v, "A", "csat")
    # ratio → percentage points: (0.923 − 0.90) × 100 = 2.3 pp; (0.923 − 0.85) × 100 = 7.3 pp; no relative change
    assert c["change_prev"] == pytest.approx(2.3) and c["change_yoy"] == pytest.approx(7.3)
    assert math.isnan(c["change_prev_pct"]) and c["change_unit"] == "pp"
    k = row(v, "A", "complaint_rate")
    # (0.02 − 0.03) × 100 = −1.0 pp, and lower is better → "better"
    assert k["change_prev"] == pytest.approx(-1.0) and k["trend_prev"] == "better"
    assert math.isnan(k["year_ago"]) and math.isnan(k["change_yoy"]) and k["trend_yoy"] == ""
    assert "no data for 2025Q3" in k["note"]
    n = row(v, "A", "nps")  # points: 36.667 − 30 = 6.667 points
    assert n["change_prev"] == pytest.approx(20 / 3) and n["change_unit"] == "points"


def test_vertical_missing_data_is_nan_with_a_reason_never_zero():
    v = rv.vertical_comparison(small_actuals(), LIB, Q3, indicators=[*IND, "joint_projects"], language="en")
    b = row(v, "B", "sales")
    # previous 0: +500 absolute, growth rate undefined (not +inf, not 0)
    assert b["change_prev"] == 500 and math.isnan(b["change_prev_pct"])
    assert "2026Q2 is 0: growth rate undefined" in b["note"]
    bc = row(v, "B", "csat")
    assert math.isnan(bc["value"]) and "no base in 2026Q3" in bc["note"]
    cs = row(v, "C", "sales")
    assert math.isnan(cs["previous"]) and math.isnan(cs["change_prev"]) and "no data for 2026Q2" in cs["note"]
    jp = row(v, "A", "joint_projects")
    assert math.isnan(jp["value"]) and jp["note"] == "not computable: the data it needs is missing"
    zh = rv.vertical_comparison(small_actuals(), LIB, Q3, indicators=IND)
    assert "2026Q2 为 0" in row(zh, "B", "sales")["note"]


def test_vertical_monthly_uses_mom_and_same_month_last_year():
    m = pd.DataFrame(_rows("A", "2026-09", {"sales": 300}) + _rows("A", "2026-08", {"sales": 250})
                     + _rows("A", "2025-09", {"sales": 200}) + _rows("A", "2026-06", {"sales": 999}))
    v = rv.vertical_comparison(m, LIB, "2026-09", indicators=["sales"])
    a = row(v, "A", "sales")
    # MoM: 300 vs 250 (+50, +20 %); YoY: 300 vs 200 (+100, +50 %)
    assert (a["previous"], a["year_ago"]) == (250, 200)
    assert a["change_prev_pct"] == pytest.approx(0.2) and a["change_yoy_pct"] == pytest.approx(0.5)


def test_frequency_mismatch_and_bad_input_are_clear_errors():
    with pytest.raises(InputError, match=r"quarterly \(e.g. 2026Q3\) but the period 2026-09 is a month"):
        rv.vertical_comparison(small_actuals(), LIB, "2026-09")
    with pytest.raises(InputError, match="missing column"):
        rv.vertical_comparison(small_actuals().drop(columns=["kpi"]), LIB, Q3)
    with pytest.raises(InputError, match="unknown indicator"):
        rv.vertical_comparison(small_actuals(), LIB, Q3, indicators=["salez"])
    dup = pd.concat([small_actuals(), small_actuals().iloc[:1]])
    with pytest.raises(InputError, match="duplicate"):
        rv.vertical_comparison(dup, LIB, Q3)
    with pytest.raises(InputError, match="language"):
        rv.vertical_comparison(small_actuals(), LIB, Q3, language="fr")
    with pytest.raises(InputError, match="target_margin"):
        rv_core.FindingRule(target_margin=0)


# ----------------------------------------------------------------------------- 横向


def test_horizontal_team_company_rank_and_position():
    h = rv.horizontal_comparison(small_actuals(), small_company(), LIB, Q3, indicators=IND, language="en")
    a = row(h, "A", "sales")
    # team mean (1200 + 500 + 900) / 3 = 866.67; A − mean = 333.33 = +38.46 %
    assert a["team_mean"] == pytest.approx(2600 / 3)
    assert a["vs_team"] == pytest.approx(1200 - 2600 / 3) and a["vs_team_pct"] == pytest.approx(1200 / (2600 / 3) - 1)
    assert a["vs_median"] == 200 and a["vs_median_pct"] == pytest.approx(0.2)
    assert [row(h, m, "sales")["team_rank"] for m in "ABC"] == [1, 3, 2]
    # complaint rate, lower is better: A 2 %, B 2 % (tie → both rank 1), C 14 % → 3
    assert [row(h, m, "complaint_rate")["team_rank"] for m in "ABC"] == [1, 1, 3]
    k = row(h, "A", "complaint_rate")
    assert k["vs_median"] == pytest.approx(-6.0)  # (0.02 − 0.08) × 100 pp
    assert k["position"] == "above_median" and k["position_text"] == "better than the company median"
    # CSAT team mean over the managers with a value: (0.923 + 0.80) / 2, B has no base
    c = row(h, "A", "csat")
    assert c["team_mean"] == pytest.approx((0.923 + 0.80) / 2) and c["team_size"] == 2
    assert row(h, "C", "csat")["base"] == 4 and math.isnan(row(h, "A", "sales")["base"])
    assert row(h, "B", "nps")["position"] == "at_median"


def test_horizontal_quartile_position_is_polarity_aware():
    h = rv.horizontal_comparison(small_actuals(), small_company(quartiles=True), LIB, Q3, indicators=IND)
    # sales q25 800 / median 1000 / q75 1150: A 1200 ≥ q75 top; C 900 between q25 and median; B 500 ≤ q25
    assert [row(h, m, "sales")["position"] for m in "ABC"] == ["top_quartile", "bottom_quartile", "third_quartile"]
    # complaint q25 5 % / median 8 % / q75 10 %, lower is better: A 2 % ≤ q25 → top, C 14 % ≥ q75 → bottom
    assert row(h, "A", "complaint_rate")["position"] == "top_quartile"
    assert row(h, "C", "complaint_rate")["position"] == "bottom_quartile"
    # CSAT median 84.2 %, q75 95 %: A 92.3 % between them → second quartile
    assert row(h, "A", "csat")["position"] == "second_quartile"
    assert row(h, "A", "csat")["position_text"] == "公司前 25%–50%"


def test_part_period_managers_get_pro_rated_benchmarks():
    h = rv.horizontal_comparison(small_actuals(), small_company(), LIB, Q3, indicators=IND, fractions={"C": 0.5},
                                 language="en")
    c = row(h, "C", "sales")
    # money: median 1000 × 0.5 = 500, team mean 866.67 × 0.5 = 433.33; ratios are not pro-rated
    assert c["company_median"] == 500 and c["team_mean"] == pytest.approx(2600 / 6)
    assert row(h, "C", "csat")["company_median"] == pytest.approx(0.842)
    assert "benchmarks pro-rated to 50% of the period" in c["note"]
    f = rv.assess(small_actuals(), small_company(), LIB, Q3, indicators=IND, fractions={"C": 0.5}, language="zh")
    s = row(f, "C", "sales")
    # (900 − 500) / 500 / 0.15 = 5.333 → strength instead of neutral
    assert s["score"] == pytest.approx(5.333333333) and s["status"] == "strength"
    assert "（基准按在岗比例 50% 折算）" in s["text"]
    with pytest.raises(InputError, match="share of the period"):
        rv.horizontal_comparison(small_actuals(), small_company(), LIB, Q3, fractions={"C": 1.5})


# ----------------------------------------------------------------------------- segments, product lines


def test_segment_breakdown_shares_and_changes():
    s = rv.segment_breakdown(small_actuals(), Q3, kpis=("sales",), language="en")
    a = s[s["manager_id"] == "A"].set_index("segment")
    # key 700 of 1200 = 58.33 %; vs 600 in Q2: +16.67 %; walk-in 100 vs 100: 0 %
    assert a.loc["key", "sales_share"] == pytest.approx(700 / 1200)
    assert a.loc["key", "sales_prev_pct"] == pytest.approx(700 / 600 - 1)
    assert a.loc["walkin", "sales_prev_pct"] == 0
    assert a.loc["key", "segment_name"] == "Key accounts"
    c = s[s["manager_id"] == "C"].set_index("segment")
    assert c.loc["key", "sales_share"] == 1 and math.isnan(c.loc["small", "sales"])
    assert c.loc["small", "note"] == "no data or no base: Sales"


def orders_frame() -> pd.DataFrame:
    o = [("2026-07-05", "A", 600, "P"), ("2026-08-10", "A", 200, "P"), ("2026-09-01", "A", 400, "Q"),
         ("2026-05-01", "A", 500, "P"), ("2026-06-01", "A", 500, "Q"), ("2026-04-02", "A", 100, "R"),
         ("2025-08-01", "A", 400, "P"), ("2026-07-15", "B", 500, "P<x>")]
    return pd.DataFrame(o, columns=["date", "manager_id", "amount", "product_line"]).assign(
        date=lambda d: pd.to_datetime(d["date"]))


def test_product_lines_shares_changes_and_real_zeros():
    p = rv_core.product_lines(orders_frame(), Q3)
    a = p[p["manager_id"] == "A"].set_index("product_line")
    # P: 600 + 200 = 800 of 1200 (66.7 %), Q2 500 → +60 %, 2025Q3 400 → +100 %
    assert a.loc["P", "sales"] == 800 and a.loc["P", "share"] == pytest.approx(2 / 3)
    assert a.loc["P", "change_prev_pct"] == pytest.approx(0.6) and a.loc["P", "change_yoy_pct"] == pytest.approx(1.0)
    # Q: 400 vs 500 → −20 %; not sold in 2025Q3 although A sold P then → a real 0, growth undefined
    assert a.loc["Q", "change_prev_pct"] == pytest.approx(-0.2)
    assert a.loc["Q", "year_ago"] == 0 and math.isnan(a.loc["Q", "change_yoy_pct"])
    # R: sold only in Q2 → 0 this quarter, −100 %
    assert a.loc["R", "sales"] == 0 and a.loc["R", "change_prev_pct"] == -1
    assert list(a["rank"]) == [1, 2, 3]
    b = p[p["manager_id"] == "B"].iloc[0]
    assert b["share"] == 1 and math.isnan(b["previous"])  # B sold nothing at all in Q2: no data


# ----------------------------------------------------------------------------- strengths and weaknesses


def test_assessment_rule_polarity_nan_and_small_base():
    a = rv.assess(small_actuals(), small_company(), LIB, Q3, indicators=IND, language="en")
    # (1200 − 1000) / 1000 / 0.15 = 1.333
    assert row(a, "A", "sales")["score"] == pytest.approx(4 / 3) and row(a, "A", "sales")["basis"] == "median"
    # (0.923 − 0.842) × 100 / 5 = 1.62
    assert row(a, "A", "csat")["score"] == pytest.approx(1.62)
    # lower is better: −(0.02 − 0.08) × 100 / 5 = +1.2 → a strength; C: −(0.14 − 0.08) × 100 / 5 = −1.2 → weakness
    assert row(a, "A", "complaint_rate")["status"] == "strength"
    assert row(a, "C", "complaint_rate")["score"] == pytest.approx(-1.2)
    assert row(a, "C", "complaint_rate")["status"] == "weakness"
    # (500 − 1000) / 1000 / 0.15 = −3.333; (900 − 1000) / 1000 / 0.15 = −0.667 → neutral
    assert row(a, "B", "sales")["score"] == pytest.approx(-10 / 3)
    assert row(a, "C", "sales")["status"] == "neutral"
    assert row(a, "B", "nps")["score"] == 0 and row(a, "B", "nps")["status"] == "neutral"
    # not judged, with the reason
    assert row(a, "B", "csat")["status"] == "not_judged" and "no base in 2026Q3" in row(a, "B", "csat")["reason"]
    assert row(a, "C", "csat")["reason"] == "base of only 4 (fewer than 5): not judged"
    assert "fewer than 5 managers" in row(a, "A", "new_customers")["reason"]
    # without the minimum base C's CSAT is judged: (0.80 − 0.842) × 100 / 5 = −0.84
    a0 = rv.assess(small_actuals(), small_company(), LIB, Q3, indicators=IND, rule=rv_core.FindingRule(min_base=0))
    assert row(a0, "C", "csat")["score"] == pytest.approx(-0.84)


def test_sentences_carry_the_numbers_in_both_languages():
    zh = rv.assess(small_actuals(), small_company(), LIB, Q3, indicators=IND)
    en = rv.assess(small_actuals(), small_company(), LIB, Q3, indicators=IND, language="en")
    assert row(zh, "A", "csat")["text"] == "客户满意度 92.3%，高于公司中位数（84.2%）8.1 个百分点；同比 +7.3 个百分点。"
    assert row(en, "A", "csat")["text"] == ("Customer satisfaction (CSAT) 92.3%, 8.1 points above the company median "
                                           "(84.2%); +7.3 points year on year.")
    assert row(zh, "A", "complaint_rate")["text"] == "客户投诉率（越低越好） 2.0%，低于公司中位数（8.0%）6.0 个百分点。"
    assert row(en, "B", "sales")["text"] == "Sales 500, 50.0% below the company median (1,000); +25.0% year on year."
    assert row(en, "C", "sales")["text"] == ""  # neutral: no sentence


def test_selection_max_items_and_ties_keep_indicator_order():
    f = rv.strengths_weaknesses(small_actuals(), small_company(), LIB, Q3, indicators=IND)
    a = f[(f["manager_id"] == "A") & (f["kind"] == "strength")]
    # scores: csat 1.62, sales 1.333…, nps (36.667 − 30) / 5 = 1.333… (a tie), complaint 1.2 → top 3
    assert list(a["indicator"]) == ["csat", "sales", "nps"] and list(a["rank"]) == [1, 2, 3]
    rev = rv.strengths_weaknesses(small_actuals(), small_company(), LIB, Q3, indicators=IND[::-1])
    a2 = rev[(rev["manager_id"] == "A") & (rev["kind"] == "strength")]
    assert list(a2["indicator"]) == ["csat", "nps", "sales"]  # the tie follows the list order
    more = rv.strengths_weaknesses(small_actuals(), small_company(), LIB, Q3, indicators=IND,
                                   rule=rv_core.FindingRule(max_items=5))
    assert list(more[(more["manager_id"] == "A") & (more["kind"] == "strength")]["indicator"]) == [
        "csat", "sales", "nps", "complaint_rate"]
    c = f[f["manager_id"] == "C"]
    # C: nps (40 − 30) / 5 = 2 strength; complaint −1.2 weakness
    assert list(zip(c["kind"], c["indicator"])) == [("strength", "nps"), ("weakness", "complaint_rate")]


def test_quartile_rule():
    a = rv.assess(small_actuals(), small_company(quartiles=True), LIB, Q3, indicators=IND, language="en")
    s = row(a, "A", "sales")
    # (1200 − 1000) / (1150 − 1000) = 1.333 → top quartile
    assert s["basis"] == "quartile" and s["score"] == pytest.approx(4 / 3)
    assert s["text"] == ("Sales 1,200, 20.0% above the company median (1,000), in the company's top quartile; "
                         "+50.0% year on year.")
    # B: (500 − 1000) / (1000 − 800) = −2.5; C: (900 − 1000) / 200 = −0.5 → neutral
    assert row(a, "B", "sales")["score"] == pytest.approx(-2.5)
    assert row(a, "C", "sales")["status"] == "neutral"
    # lower is better: A (0.08 − 0.02) / (0.08 − 0.05) = 2; C −(0.14 − 0.08) / (0.10 − 0.08) = −3
    assert row(a, "A", "complaint_rate")["score"] == pytest.approx(2.0)
    assert row(a, "C", "complaint_rate")["score"] == pytest.approx(-3.0)


def targets_frame(extra: list[tuple] | None = None) -> pd.DataFrame:
    rows = [("A", "sales", "2026Q3", 1000), ("B", "sales", "2026Q3", 1000), ("C", "sales", "2026Q3", 1000),
            ("C", "complaint_rate", "2026Q3", 0.10), ("B", "nps", "2026Q3", 0), *(extra or [])]
    return pd.DataFrame(rows, columns=["manager_id", "indicator", "period", "target"])


def test_targets_use_attainment_with_boundary_and_zero_target():
    a = rv.assess(small_actuals(), small_company(), LIB, Q3, targets=targets_frame(), indicators=IND, language="en")
    s = row(a, "A", "sales")
    # 1200 / 1000 = 1.2 → (1.2 − 1) / 0.10 = 2
    assert s["benchmark_kind"] == "target" and s["attainment"] == pytest.approx(1.2)
    assert s["score"] == pytest.approx(2.0) and s["status"] == "strength"
    assert s["text"] == "Sales 1,200, 20.0% above target (1,000), 120.0% of target; +50.0% year on year."
    # exactly 10 % short: 900 / 1000 = 0.9 → (0.9 − 1) / 0.1 = −0.99999… rounded to −1 → a weakness
    assert row(a, "C", "sales")["score"] == -1.0 and row(a, "C", "sales")["status"] == "weakness"
    # lower is better: 0.10 / 0.14 = 0.714 → (0.714 − 1) / 0.1 = −2.857
    assert row(a, "C", "complaint_rate")["score"] == pytest.approx((0.10 / 0.14 - 1) / 0.1)
    # zero target with a positive actual: undefined (helpers.core.attainment), not judged
    z = row(a, "B", "nps")
    assert z["status"] == "not_judged" and z["reason"] == "target is 0 but the actual is not: attainment undefined"
    # pd.Period labels (as read by helpers.core.targets.read_targets_csv) work the same
    tp = targets_frame().assign(period=pd.Period("2026Q3", freq="Q"))
    a2 = rv.assess(small_actuals(), small_company(), LIB, Q3, targets=tp, indicators=IND)
    assert row(a2, "A", "sales")["attainment"] == pytest.approx(1.2)


def test_bad_targets_are_errors_naming_the_entry():
    with pytest.raises(InputError, match="unknown indicator"):
        rv.assess(small_actuals(), small_company(), LIB, Q3, targets=targets_frame([("A", "salez", "2026Q3", 1)]))
    with pytest.raises(InputError, match="more than one target for A, sales, 2026Q3"):
        rv.assess(small_actuals(), small_company(), LIB, Q3, targets=targets_frame([("A", "sales", "2026Q3", 2)]))
    with pytest.raises(InputError, match="not a number"):
        rv.assess(small_actuals(), small_company(), LIB, Q3, targets=targets_frame([("A", "csat", "2026Q3", "high")]))


# ----------------------------------------------------------------------------- improvement plan


def test_improvement_plan_gaps_actions_owners_and_due_dates():
    f = rv.strengths_weaknesses(small_actuals(), small_company(), LIB, Q3, targets=targets_frame(), indicators=IND)
    p = rv.improvement_plan(f, Q3, owners={"B": "李娜", "C": "王伟"})
    c = p[p["manager_id"] == "C"]
    # weakest first: complaint −2.857, then sales −1.0
    assert list(c["indicator"]) == ["complaint_rate", "sales"]
    k, s = c.iloc[0], c.iloc[1]
    assert k["gap"] == pytest.approx(4.0) and k["gap_unit"] == "pp"  # (0.14 − 0.10) × 100, reduce by 4 pp
    assert s["gap"] == 100 and s["gap_pct"] == pytest.approx(0.1)  # 1000 − 900, 10 % of the target
    assert k["action"] == "分析本期投诉原因，对重复出现的问题制定预防措施" and k["owner"] == "王伟"
    assert set(p["due"]) == {"2026-12-31"}  # end of 2026Q4
    b = p[p["manager_id"] == "B"].iloc[0]
    assert (b["gap"], b["gap_pct"], b["owner"]) == (500, 0.5, "李娜")
    # without targets the gap is to the company median: B sales 1000 − 500; C complaint (0.14 − 0.08) × 100
    f0 = rv.strengths_weaknesses(small_actuals(), small_company(), LIB, Q3, indicators=IND, language="en")
    p0 = rv.improvement_plan(f0, Q3, language="en")
    assert row(p0, "B", "sales")["gap"] == 500 and row(p0, "B", "sales")["benchmark_kind"] == "company_median"
    assert row(p0, "C", "complaint_rate")["gap"] == pytest.approx(6.0) and row(p0, "C", "complaint_rate")["owner"] == "C"
    # due date: end of the next period, month and year boundaries
    assert set(rv.improvement_plan(f0, "2026Q4")["due"]) == {"2027-03-31"}
    assert set(rv.improvement_plan(f0, "2026-09")["due"]) == {"2026-10-31"}
    assert set(rv.improvement_plan(f0, "2024-01")["due"]) == {"2024-02-29"}
    # an indicator without its own action takes its family's (NPS has one; churn → the 90-day call-back)
    assert "对近90天未下单的老客户逐一回访" in render(OneOf(("review.action.churn_rate", "review.action.family.loyalty")), "zh")
    assert render(OneOf(("review.action.key_sales", "review.action.family.performance")), "en").startswith("Agree next period")
    assert render(OneOf(("review.action.profit_per_visit", "review.action.family.value")), "en") == render(OneOf(("review.action.clv", "review.action.family.value")), "en")


# ----------------------------------------------------------------------------- monthly summary

SECTIONS = {
    ("zh", "Q"): ["一、片区销售情况分析", "二、重点品牌分析", "三、市场及客户分析", "四、存在问题和建议", "五、下季度工作计划"],
    ("en", "Q"): ["1. Sales in the territory", "2. Key product lines", "3. Market and customers",
                  "4. Problems and suggestions", "5. Plan for next quarter"],
    ("zh", "M"): ["一、片区销售情况分析", "二、重点品牌分析", "三、市场及客户分析", "四、存在问题和建议", "五、下月工作计划"],
    ("en", "M"): ["1. Sales in the territory", "2. Key product lines", "3. Market and customers",
                  "4. Problems and suggestions", "5. Plan for next month"],
}


@pytest.mark.parametrize("language", ["zh", "en"])
def test_summary_has_the_five_sections_in_order(language):
    md = rv.monthly_summary("B", small_actuals(), small_company(), LIB, Q3, orders=orders_frame(), indicators=IND,
                            name="<b>李娜</b>", language=language)
    pos = [md.index(f"**{s}**") for s in SECTIONS[(language, "Q")]]
    assert pos == sorted(pos)
    assert "&lt;b&gt;李娜&lt;/b&gt;" in md and "<b>" not in md  # the name is escaped
    assert "P&lt;x&gt;" in md  # so is the product line
    if language == "zh":
        assert "- 销售额 500，环比 +500（上期 0），同比 +25.0%（去年同期 400）。" in md
        # no segment or product line fell: the gap spread over the 13 weeks of 2026Q4, 500 ÷ 13 = 38.5 → 38
        assert "问题：销售额 500，低于公司中位数（1,000）50.0%；同比 +25.0%。 建议：差距 500 分摊到下季度的 13 周，每周约需多做 38" in md
    else:
        assert "Sales 500: +500 on the previous quarter (0), +25.0% year on year (400)." in md


def test_summary_monthly_sections_and_numbers():
    m = pd.DataFrame(_rows("A", "2026-09", {"sales": 300, "new_customers": 2}) + _rows("A", "2026-08", {"sales": 250})
                     + _rows("A", "2025-09", {"sales": 200}))
    comp = pd.DataFrame([{"period": "2026-09", "segment": "all", "kpi": "sales", "mean": 280, "median": 280,
                          "managers": 10}])
    for lang in ("zh", "en"):
        md = rv.monthly_summary("A", m, comp, LIB, "2026-09", language=lang, heading_level=3)
        for s in SECTIONS[(lang, "M")]:
            assert f"\n### {s}\n" in md
    md = rv.monthly_summary("A", m, comp, LIB, "2026-09")
    assert md.startswith("**A（A）2026-09 月度工作总结（草稿）**")
    # MoM 300 / 250 − 1 = +20 %, YoY 300 / 200 − 1 = +50 %
    assert "销售额 300，环比 +20.0%（上期 250），同比 +50.0%（去年同期 200）。" in md
    assert "未提供订单数据" in md  # no orders given: said so, not an empty section
    # no targets for 2026-10: placeholders stated as such; 300 × 1.05 = 315, 2 × 1.05 = 2.1 → 3 (counts round up)
    assert "尚未下达下月目标。" in md
    assert "销售额：按本期实际 300 增长 5% 约为 315（占位值，不是正式目标" in md
    assert "新增客户数：按本期实际 2 增长 5% 约为 3（占位值" in md


def test_summary_next_period_targets_are_decomposed_by_segment():
    tg = targets_frame([("A", "sales", "2026Q4", 1300), ("A", "csat", "2026Q4", 0.95)])
    md = rv.monthly_summary("A", small_actuals(), small_company(), LIB, Q3, targets=tg, indicators=IND)
    # 1300 in proportion to 700 / 400 / 100: 758.33, 433.33, 108.33 → floors 758 + 433 + 108 = 1299; the one
    # remaining unit goes to the largest remainder — all equal (.33), so to the largest weight (key accounts)
    assert "销售额目标 1,300，按本期客户结构分解：大客户 759、小客户 433、散客 108。" in md
    assert "客户满意度目标 95.0%。" in md
    assert "占位值" not in md
    # this period's sales target shows attainment: 1200 / 1000
    assert "本期销售额目标 1,000，完成率 120.0%。" in md
    with pytest.raises(InputError, match="not among the managers"):
        rv.monthly_summary("Z", small_actuals(), small_company(), LIB, Q3)


# ----------------------------------------------------------------------------- demo data


@pytest.fixture(scope="module")
def demo(demo_dir):
    from helpers.data.tables import load_dataset
    from helpers.kpis.measures import kpi_actuals
    from helpers.core.roster import team_roster

    ds = load_dataset(demo_dir, as_of=pd.Timestamp("2026-10-15"))
    actuals = kpi_actuals(ds, "Q")
    company = (actuals.groupby(["period", "segment", "kpi"])["value"]
               .agg(mean="mean", median="median", managers="count").reset_index())
    roster = team_roster(ds, "east-2", Q3)  # has a leaver (M002) and a joiner (M048)
    return ds, actuals, company, roster


def test_demo_team_runs_and_matches_a_second_method(demo):
    ds, actuals, company, roster = demo
    ids = list(roster["manager_id"])
    team = actuals[actuals["manager_id"].isin(ids)]
    fr = dict(zip(roster["manager_id"], roster["fraction"]))
    v = rv.vertical_comparison(team, LIB, Q3, managers=ids)
    h = rv.horizontal_comparison(team, company, LIB, Q3, managers=ids, fractions=fr)
    s = rv.segment_breakdown(team, Q3, managers=ids)
    f = rv.strengths_weaknesses(team, company, LIB, Q3, managers=ids, fractions=fr, language="en")
    p = rv.improvement_plan(f, Q3, owners=dict(zip(roster["manager_id"], roster["name"])))
    pl = rv_core.product_lines(ds.orders, Q3, managers=ids)
    assert set(v["manager_id"]) == set(ids) and len(v) == len(ids) * len(rv_core.review_indicators(LIB, team))
    # second method: sales straight from the order lines
    o = ds.orders
    for q, col in (("2026Q3", "value"), ("2026Q2", "previous"), ("2025Q3", "year_ago")):
        per = parse_period(q)
        inq = o[(o["date"] >= per.start) & (o["date"] < per.end_exclusive) & o["manager_id"].isin(ids)]
        direct = inq.groupby("manager_id")["amount"].sum()
        got = v[v["indicator"] == "sales"].set_index("manager_id")[col]
        got = got[got.notna()]
        assert np.allclose(got.reindex(direct.index).to_numpy(), direct.to_numpy())
    # product lines add up to the manager's sales; segment shares add up to 1
    tot = pl.groupby("manager_id")["sales"].sum()
    vs = v[v["indicator"] == "sales"].set_index("manager_id")["value"]
    assert np.allclose(tot.to_numpy(), vs.reindex(tot.index).to_numpy())
    shares = s.groupby("manager_id")["sales_share"].sum()
    assert np.allclose(shares[shares > 0], 1.0)
    # the leaver's money benchmarks are pro-rated by their share of the quarter
    m2 = row(h, "M002", "sales")
    med = company[(company["period"] == "2026Q3") & (company["segment"] == "all") & (company["kpi"] == "sales")]
    assert m2["company_median"] == pytest.approx(float(med["median"].iloc[0]) * fr["M002"]) and m2["prorated"]
    # … but not those of ratios of sums: average order value = sales ÷ orders does not grow with time
    aov = company[(company["period"] == "2026Q3") & (company["segment"] == "all") & (company["kpi"] == "aov")]
    assert row(h, "M002", "aov")["company_median"] == pytest.approx(float(aov["median"].iloc[0]))
    assert not row(h, "M002", "aov")["prorated"]
    assert (f["kind"].isin(["strength", "weakness"])).all() and f["text"].str.len().gt(20).all()
    assert len(p) == (f["kind"] == "weakness").sum() and (p["gap"] > 0).all()
    for m in (ids[0], "M048"):
        for lang in ("zh", "en"):
            md = rv.monthly_summary(m, team, company, LIB, Q3, orders=o[o["manager_id"].isin(ids)], managers=ids,
                                    fractions=fr, name=str(roster.set_index("manager_id").loc[m, "name"]),
                                    language=lang)
            assert all(sec in md for sec in SECTIONS[(lang, "Q")])


def test_team_review_on_a_team_context(demo_params):
    from helpers.context.workbook import open_team

    ctx = open_team(demo_params, "east-2", "2026Q3", language="en")
    r = rv_ctx.team_review(ctx, params_file=demo_params)
    assert set(r.names) == set(ctx.manager_ids)
    m = ctx.manager_ids[0]
    html = rv.vertical_table(r, m).to_html() + rv.horizontal_table(r, m).to_html() + rv.segment_table(r, m).to_html()
    assert "Year on year" in html and "Team rank" in html
    assert "**Strengths**" in rv.findings_markdown(r, m).data or "No indicator" in rv.findings_markdown(r, m).data
    assert "5. Plan for next quarter" in rv.summary_markdown(r, m).data
    plan = rv.plan_table(r, m)
    assert plan is not None
    # the thin wrappers agree with the bundle
    assert rv_ctx.findings_for(ctx, r._parts.library)["text"].tolist() == r.findings["text"].tolist()
    assert rv_ctx.review_library(ctx).ids() == r._parts.library.ids()  # ctx knows its params file
    ctx.params_file = None
    with pytest.raises(InputError, match="params file"):
        rv_ctx.review_library(ctx)


def test_kpi_index_is_the_first_row_of_each_key_as_a_filter_finds_it(demo):
    """The summaries and trend charts look values up in :func:`kpi_index`; it must give
    what filtering the actuals gives: by hand on a small frame (a repeated key keeps its
    first row, a missing one is absent), and on every row of a demo team's actuals."""
    small = pd.DataFrame({"manager_id": ["A", "A", "B", "A"], "period": ["2026Q3", "2026Q3", "2026Q3", "2026Q2"],
                          "kpi": ["sales", "sales", "sales", "sales"], "segment": ["all", "all", "all", "key"],
                          "value": [1200.0, 999.0, NAN, 600.0]})
    index = rv_core.kpi_index(small)
    assert index[("A", "2026Q3", "sales", "all")] == 1200.0  # the first of the two rows
    assert math.isnan(index[("B", "2026Q3", "sales", "all")]) and ("B", "2026Q2", "sales", "all") not in index
    assert index[("A", "2026Q2", "sales", "key")] == 600.0 and len(index) == 3
    assert math.isnan(rv._kpi(index, "B", "2026Q2", "sales")) and rv._kpi(index, "A", "2026Q3", "sales") == 1200.0
    _, actuals, _, roster = demo
    team = actuals[actuals["manager_id"].isin(roster["manager_id"])]
    index = rv_core.kpi_index(team)
    assert len(index) == len(team.drop_duplicates(["manager_id", "period", "kpi", "segment"]))
    for r in team.sample(200, random_state=1).itertuples():
        sel = team[(team["manager_id"] == r.manager_id) & (team["period"] == r.period) & (team["kpi"] == r.kpi)
                   & (team["segment"] == r.segment)]
        got, want = index[(r.manager_id, r.period, r.kpi, r.segment)], sel["value"].iloc[0]
        assert (math.isnan(got) and math.isnan(want)) or got == want
