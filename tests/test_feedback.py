"""Feedback worth reading (helpers.core.review.diagnose / improvement_plan / due_dates, worded by
helpers.present.review): the cause found in the data, an action with the manager's own numbers,
deadlines by kind of action.  Every expected number is worked out by hand in the comments."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from helpers.core import review as core
from helpers.kpis.indicators import load_library
from helpers.periods import parse_period
from helpers.present import review as rv

ROOT = Path(__file__).resolve().parents[1]
LIB = load_library(ROOT / "params" / "indicators.yaml")
Q3 = parse_period("2026Q3")
NAN = float("nan")


def actuals(rows: list[tuple]) -> pd.DataFrame:
    """rows: (manager, period, segment, kpi, value, numerator, denominator)."""
    return pd.DataFrame([dict(zip(("manager_id", "period", "segment", "kpi", "value", "numerator", "denominator"),
                                  (*r, *([NAN] * (7 - len(r)))))) for r in rows])


def company(rows: list[tuple]) -> pd.DataFrame:
    """rows: (segment, kpi, median) for 2026Q3."""
    return pd.DataFrame([{"period": "2026Q3", "segment": s, "kpi": k, "median": m} for s, k, m in rows])


def evidence(a: list[tuple], c: list[tuple] = (), **tables: pd.DataFrame) -> core._Evidence:
    return core._Evidence(actuals(a), company(list(c)), Q3, tables)


CUSTOMERS = pd.DataFrame([
    # K1, K2 key accounts; S1, S2 small; W1 walk-in; K3 a key account lost on 2026-08-20
    {"customer_id": "K1", "manager_id": "A", "segment": "key", "acquired_date": "2024-01-05", "lost_date": None},
    {"customer_id": "K2", "manager_id": "A", "segment": "key", "acquired_date": "2024-02-01", "lost_date": None},
    {"customer_id": "S1", "manager_id": "A", "segment": "small", "acquired_date": "2025-03-01", "lost_date": None},
    {"customer_id": "S2", "manager_id": "A", "segment": "small", "acquired_date": "2025-04-01", "lost_date": None},
    {"customer_id": "W1", "manager_id": "A", "segment": "walkin", "acquired_date": "2025-05-01", "lost_date": None},
    {"customer_id": "K3", "manager_id": "A", "segment": "key", "acquired_date": "2023-01-01",
     "lost_date": "2026-08-20"},
])


def orders(rows: list[tuple]) -> pd.DataFrame:
    """rows: (date, customer, amount, product line); all credited to A."""
    return pd.DataFrame([{"order_id": f"O{i}", "date": pd.Timestamp(d), "customer_id": c, "manager_id": "A",
                          "amount": float(x), "profit": 0.2 * x, "product_line": pl}
                         for i, (d, c, x, pl) in enumerate(rows)])


# ----------------------------------------------------------------------------- deadlines


def test_due_dates_follow_the_period_and_the_kind_of_action():
    # 2026Q3 ends 2026-09-30: +14 d = 10-14, +28 d = 10-28; 2026Q4 has 92 days: 10-01 + (46 − 1) d = 11-15; its end 12-31
    assert core.due_dates(Q3) == {"quick": "2026-10-14", "soon": "2026-10-28", "mid": "2026-11-15",
                                  "end": "2026-12-31"}
    # 2026-09 ends 09-30 too; October has 31 days: 10-01 + (15 − 1) d = 10-15; its end 10-31
    assert core.due_dates("2026-09") == {"quick": "2026-10-14", "soon": "2026-10-28", "mid": "2026-10-15",
                                         "end": "2026-10-31"}
    # February of a leap year is the next period of 2024-01: 29 days → 02-01 + 13 d = 02-14, end 02-29
    d = core.due_dates("2024-01")
    assert (d["quick"], d["mid"], d["end"]) == ("2024-02-14", "2024-02-14", "2024-02-29")
    for lang, words in (("zh", "2 周内（2026-10-14）"), ("en", "within 2 weeks (2026-10-14)")):
        rule = rv.due_rule(Q3, lang)
        assert words in rule and "2026-11-15" in rule and "2026-12-31" in rule and "2026-09-30" in rule


# ----------------------------------------------------------------------------- causes and numbers


def test_new_customers_short_more_leads_at_own_conversion():
    # 6 of 24 leads converted: c = 25 % ≥ company median 20 % → the leads are short, not the conversion.
    # 5 customers short: ⌈5 ÷ 0.25⌉ = 20 leads; due mid-Q4 (11-15), 46 days ≈ 7 weeks → ⌈20 ÷ 7⌉ = 3 a week
    ev = evidence([("A", "2026Q3", "all", "conversion_rate", 0.25, 6, 24)], [("all", "conversion_rate", 0.20)])
    cause, code, facts = core.diagnose(ev, "A", "new_customers", "new_customers", "all", 5.0)
    assert (cause, code) == ("few_leads", "new_leads")
    assert (facts["leads_needed"], facts["weeks"], facts["per_week"]) == (20, 7, 3)
    # a fractional gap (a part-period benchmark) still needs whole customers: 4.2 → 5
    assert core.diagnose(ev, "A", "new_customers", "new_customers", "all", 4.2)[2]["short"] == 5


def test_new_customers_short_with_conversion_below_the_median():
    # 6 of 24 at 25 % < median 30 %: at the median the same 24 leads give ⌈7.2⌉ = 8, i.e. 2 more
    ev = evidence([("A", "2026Q3", "all", "conversion_rate", 0.25, 6, 24)], [("all", "conversion_rate", 0.30)])
    cause, code, facts = core.diagnose(ev, "A", "new_customers", "new_customers", "all", 5.0)
    assert (cause, code) == ("low_conversion", "new_convert")
    assert (facts["at_median"], facts["more"]) == (8, 2)
    # no lead data at all: 5 over the 13 weeks to 12-31 (92 days ≈ 13.1 weeks) → ⌈5 ÷ 13⌉ = 1 a week
    cause, code, facts = core.diagnose(evidence([]), "A", "new_customers", "new_customers", "all", 5.0)
    assert (cause, code, facts["weeks"], facts["per_week"]) == ("no_pipeline", "new_weekly", 13, 1)


def test_sales_gap_named_by_segment_with_the_customers_who_bought_less():
    # key 1,000 → 700 (−300, −30 %); small 300 → 400 (up): the fall is in key accounts.
    # per customer: K1 600 → 300 (bought less), K2 400 → 400 (same) → 1 customer named: K1
    a = [("A", "2026Q2", "key", "sales", 1000), ("A", "2026Q3", "key", "sales", 700),
         ("A", "2026Q2", "small", "sales", 300), ("A", "2026Q3", "small", "sales", 400)]
    o = orders([("2026-05-03", "K1", 600, "X"), ("2026-05-04", "K2", 400, "X"), ("2026-05-05", "S1", 300, "Y"),
                ("2026-08-03", "K1", 300, "X"), ("2026-08-04", "K2", 400, "X"), ("2026-08-05", "S1", 400, "Y")])
    cause, code, facts = core.diagnose(evidence(a, orders=o, customers=CUSTOMERS), "A", "sales", "sales", "all", 250.0)
    assert (cause, code, facts["segment"]) == ("segment_drop", "sales_key", "key")
    assert facts["drop"] == 300 and facts["drop_pct"] == pytest.approx(0.3) and facts["ids"] == ["K1"]
    # without segment rows the product lines decide: X 1,000 → 700 is the largest fall;
    # S2 bought Y in Q2 only → Y 300 → 0 is a fall of 300 too, X comes first (equal falls: name order)
    o2 = orders([("2026-05-03", "K1", 1000, "X"), ("2026-05-05", "S2", 200, "Y"),
                 ("2026-08-03", "K1", 700, "X")])
    cause, code, facts = core.diagnose(evidence([], orders=o2, customers=CUSTOMERS), "A", "sales", "sales", "all", 250.0)
    assert (cause, code, facts["line"], facts["drop"]) == ("line_drop", "sales_line", "X", 300)
    assert facts["customers"] == 0  # K1 still buys X
    # nothing fell, nobody lapsed: the gap of 1,300 over the 13 weeks of Q4 = 100 a week
    o3 = orders([("2026-05-03", "K1", 100, "X"), ("2026-08-03", "K1", 200, "X")])
    cause, code, facts = core.diagnose(evidence([], orders=o3), "A", "sales", "sales", "all", 1300.0)
    assert (cause, code, facts["weeks"], facts["per_week"]) == ("below_benchmark", "sales_weekly", 13, 100)


def test_retention_names_the_lost_key_account_then_the_customers_at_risk():
    ev = evidence([], customers=CUSTOMERS, orders=orders([("2026-09-01", "K1", 100, "X")]))
    cause, code, facts = core.diagnose(ev, "A", "retention_rate", "retention_rate", "all", 3.0)
    assert (cause, code, facts["ids"], facts["customers"]) == ("lost_key", "retention_lost_key", ["K3"], 1)
    # without K3: at risk = held with no order in the 90 days before 10-01 (i.e. none since 07-03):
    # K1 ordered 09-01 (fine); K2 last on 06-30 (at risk, key); S1 07-02 (at risk); S2, W1 never ordered → no date, not listed
    cu = CUSTOMERS[CUSTOMERS["customer_id"] != "K3"]
    o = orders([("2026-09-01", "K1", 100, "X"), ("2026-06-30", "K2", 100, "X"), ("2026-07-02", "S1", 50, "Y")])
    cause, code, facts = core.diagnose(evidence([], customers=cu, orders=o), "A", "churn_rate", "churn_rate", "all", 3.0)
    assert (cause, code, facts["ids"]) == ("at_risk_key", "retention_at_risk_key", ["K2"])
    o = orders([("2026-09-01", "K1", 100, "X"), ("2026-09-02", "K2", 100, "X"), ("2026-07-02", "S1", 50, "Y")])
    cause, code, facts = core.diagnose(evidence([], customers=cu, orders=o), "A", "churn_rate", "churn_rate", "all", 3.0)
    assert (cause, code, facts["ids"], facts["customers"]) == ("at_risk", "retention_at_risk", ["S1"], 1)
    # no tables: the segment that lost most (actuals: small 3 of 4 lost)
    a = [("A", "2026Q3", s, "lost_customers", v) for s, v in (("all", 4), ("key", 0), ("small", 3), ("walkin", 1))]
    cause, code, facts = core.diagnose(evidence(a), "A", "retention_rate", "retention_rate", "all", 3.0)
    assert (code, facts["segment"], facts["customers"]) == ("retention_lost_segment", "small", 3)


def test_visits_and_complaints_counts():
    # held K1, K2, S1, S2, W1 (K3 lost); visited K1 and S1 → 3 not visited, key K2 among them
    v = pd.DataFrame({"date": pd.to_datetime(["2026-07-10", "2026-08-10"]), "manager_id": "A",
                      "customer_id": ["K1", "S1"]})
    cause, code, facts = core.diagnose(evidence([], customers=CUSTOMERS, visits=v), "A", "visit_coverage",
                                       "visit_coverage", "all", 10.0)
    assert (code, facts["ids"], facts["unvisited"]) == ("visits_key", ["K2"], 3)
    # from the actuals only: 20 held, 12 visited → 8 in 4 weeks (09-30 → 10-28) = 2 a week
    a = [("A", "2026Q3", "all", "visit_coverage", 0.6, 12, 20)]
    cause, code, facts = core.diagnose(evidence(a), "A", "visit_coverage", "visit_coverage", "all", 10.0)
    assert (code, facts["unvisited"], facts["weeks"], facts["per_week"]) == ("visits_unvisited", 8, 4, 2)
    # complaints: C2 and C3 open; S1 complained twice
    c = pd.DataFrame({"complaint_id": ["C1", "C2", "C3"], "date": pd.to_datetime(["2026-07-01", "2026-08-01",
                      "2026-09-01"]), "customer_id": ["S1", "S1", "K1"], "manager_id": "A",
                      "resolved": [True, False, False], "escalated": False})
    ev = evidence([], complaints=c)
    assert core.diagnose(ev, "A", "resolution_rate", "resolution_rate", "all", 20.0)[1:] == (
        "resolution_open", {"open": 2.0, "ids": ["C2", "C3"]})
    cause, code, facts = core.diagnose(ev, "A", "complaint_rate", "complaint_rate", "all", 2.0)
    assert (code, facts["ids"], facts["complaints"]) == ("complaints_repeat", ["S1"], 2)
    assert core.diagnose(ev, "A", "csat", "csat", "all", 5.0)[1] == "csat_open"


def test_each_family_has_at_least_three_actions_reachable_by_cause():
    """Grouped by the indicator's family (params/indicators.yaml), three or more distinct
    actions are reached by different data."""
    seen: dict[str, set[str]] = defaultdict(set)

    def run(ev, ind, gap):
        code = core.diagnose(ev, "A", ind, LIB[ind].kpi, LIB[ind].segment, gap)[1]
        seen[LIB[ind].family].add(code)
        return code

    conv = [("A", "2026Q3", "all", "conversion_rate", 0.25, 6, 24)]
    assert run(evidence(conv, [("all", "conversion_rate", 0.2)]), "new_customers", 5) == "new_leads"
    assert run(evidence(conv, [("all", "conversion_rate", 0.3)]), "new_customers", 5) == "new_convert"
    assert run(evidence([]), "new_customers", 5) == "new_weekly"
    share = [("A", "2026Q2", "all", "market_share", 0.1, 100, 1000), ("A", "2026Q3", "all", "market_share", 0.1, 110, 1200)]
    assert run(evidence(share), "market_share", 1.0) == "share_market_grew"  # market +20 %, sales +10 %
    # acquisition: a segment converting below its median; leads up ≥ 20 % with conversion down; else follow-up
    seg = [("A", "2026Q3", "all", "conversion_rate", 0.2, 4, 20), ("A", "2026Q3", "small", "conversion_rate", 0.1, 1, 10)]
    assert run(evidence(seg, [("small", "conversion_rate", 0.3)]), "conversion_rate", 5) == "conv_segment"
    over = [("A", "2026Q2", "all", "conversion_rate", 0.3, 3, 10), ("A", "2026Q3", "all", "conversion_rate", 0.2, 4, 20)]
    assert run(evidence(over), "conversion_rate", 5) == "conv_overload"
    assert run(evidence([("A", "2026Q3", "all", "conversion_rate", 0.2, 4, 20)]), "conversion_rate", 5) == "conv_follow_up"
    # performance: margin by segment, general margin, weekly sales
    mg = [("A", "2026Q3", "key", "margin", 0.20, 200, 1000), ("A", "2026Q3", "key", "sales", 1000)]
    assert run(evidence(mg, [("key", "margin", 0.25)]), "margin", 5) == "margin_segment"
    assert run(evidence([("A", "2026Q3", "all", "sales", 1000)]), "margin", 5) == "margin_general"
    assert run(evidence([]), "sales", 100) == "sales_weekly"
    # value: AOV by segment, AOV fell with more orders, the general gap per order
    aov = [("A", "2026Q3", "key", "aov", 100), ("A", "2026Q3", "key", "orders", 10)]
    assert run(evidence(aov, [("key", "aov", 150)]), "aov", 20) == "aov_segment"
    fell = [("A", "2026Q2", "all", "aov", 120), ("A", "2026Q3", "all", "aov", 100),
            ("A", "2026Q2", "all", "orders", 10), ("A", "2026Q3", "all", "orders", 14)]
    assert run(evidence(fell), "aov", 20) == "aov_fell"
    assert run(evidence([("A", "2026Q3", "all", "orders", 10)]), "aov", 20) == "aov_gap"
    # relationship: retention (lost key), visits, CSAT
    assert run(evidence([], customers=CUSTOMERS), "retention_rate", 3) == "retention_lost_key"
    assert run(evidence([("A", "2026Q3", "all", "visit_coverage", 0.6, 12, 20)]), "visit_coverage", 5) == "visits_unvisited"
    assert run(evidence([("A", "2026Q3", "all", "csat", 0.5, 5, 10)]), "csat", 5) == "csat_low"
    # satisfaction: open complaints, complaints concentrated in one segment, detractors
    res = [("A", "2026Q3", "all", "resolution_rate", 0.5, 2, 4)]
    assert run(evidence(res), "resolution_rate", 10) == "resolution_open"
    cs = [("A", "2026Q3", "all", "complaints", 5), ("A", "2026Q3", "small", "complaints", 4)]
    assert run(evidence(cs), "complaint_rate", 2) == "complaints_segment"  # 4 of 5 ≥ 60 %
    sv = pd.DataFrame({"date": pd.to_datetime(["2026-08-01", "2026-08-02"]), "customer_id": ["K1", "S1"],
                       "csat": [2, 5], "nps": [3, 9]})
    assert run(evidence([], customers=CUSTOMERS, surveys=sv), "nps", 10) == "nps_detractors"
    # loyalty: one-time buyers (one segment ≥ 60 % of them, or not), churn at risk
    rp = [("A", "2026Q3", s, "repeat_purchase_rate", NAN, n, d) for s, n, d in
          (("all", 10, 20), ("key", 5, 5), ("small", 3, 10), ("walkin", 2, 5))]  # one-time 10: small 7
    assert run(evidence(rp), "repeat_purchase_rate", 5) == "repeat_segment"
    assert run(evidence([("A", "2026Q3", "all", "repeat_purchase_rate", 0.5, 5, 10)]), "repeat_purchase_rate", 5) \
        == "repeat_one_time"
    assert run(evidence([], customers=CUSTOMERS), "churn_rate", 3) == "retention_lost_key"
    for family in ("performance", "value", "market_expansion", "acquisition", "relationship", "satisfaction",
                   "loyalty"):
        assert len(seen[family]) >= 3, (family, seen[family])
    assert set(core.ACTIONS) >= {c for codes in seen.values() for c in codes}


def test_plan_rows_carry_cause_action_and_due_in_both_languages():
    # one weakness: new customers 3 against a target of 8 → gap 5; conversion 25 % ≥ median 20 % → 20 leads, 3 a week
    f = pd.DataFrame([{"manager_id": "A", "kind": "weakness", "indicator": "new_customers",
                       "name": LIB["new_customers"].zh, "family": "market_expansion", "unit": "count",
                       "higher_is_better": True, "value": 3.0, "benchmark": 8.0, "benchmark_kind": "target"}])
    a = actuals([("A", "2026Q3", "all", "conversion_rate", 0.25, 6, 24)])
    c = company([("all", "conversion_rate", 0.20)])
    for lang, want in (("zh", "需新增线索 20 条，即 7 周内每周约 3 条"), ("en", "20 more leads: about 3 a week over 7 weeks")):
        p = rv.improvement_plan(f, Q3, actuals=a, company=c, library=LIB, language=lang)
        r = p.iloc[0]
        assert r["gap"] == 5 and r["action_code"] == "new_leads" and r["due"] == "2026-11-15"
        assert want in r["action"] and "25.0%" in r["cause_text"]
    # without the data the plan still works: the indicator's general action, due at the end of Q4
    p = rv.improvement_plan(f, Q3)
    assert p.iloc[0]["action_code"] == "generic" and p.iloc[0]["due"] == "2026-12-31"


# ----------------------------------------------------------------------------- the demo


@pytest.fixture(scope="module")
def demo_reviews(demo_params):
    from helpers.context import review as rv_ctx
    from helpers.context.workbook import open_team

    out = {}
    for team in ("east-1", "east-2"):
        ctx = open_team(demo_params, team, "2026Q3", language="zh")
        out[team] = rv_ctx.team_review(ctx, params_file=demo_params)
    return out


def test_demo_each_finding_once_and_actions_that_differ(demo_reviews):
    plans = []
    for team, r in demo_reviews.items():
        plans.append(r.plan)
        for m in r.names:
            html = (rv.strengths_markdown(r, m).data + rv.feedback_table(r, m).to_html()
                    + rv.summary_markdown(r, m, findings=False).data) if not r.plan[r.plan["manager_id"] == m].empty \
                else rv.strengths_markdown(r, m).data + rv.summary_markdown(r, m, findings=False).data
            for text in r.findings.loc[r.findings["manager_id"] == m, "text"]:
                assert html.count(text) == 1, (team, m, text)
        # a plan row per weakness, each with a due date the rule gives and a cause of its own
        w = r.findings[r.findings["kind"] == "weakness"]
        assert len(r.plan) == len(w)
        assert set(r.plan["due"]) <= set(core.due_dates("2026Q3").values())
    p = pd.concat(plans, ignore_index=True)
    # before: 14 distinct action texts over 113 rows of all seven teams, one deadline; here two teams:
    # nearly every row its own text (numbers, ids, segments), and more than one deadline
    assert len(p) >= 20
    assert p["action"].nunique() >= 0.8 * len(p), (p["action"].nunique(), len(p))
    assert p["due"].nunique() >= 3
    assert p["action_code"].nunique() >= 8
