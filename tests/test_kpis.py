"""KPI actuals against values computed by hand on the tiny fixture (tests/conftest.py).

The fixture, 2026Q3, manager M1:
  orders in Q3: O1 1000/300 (C1, Jul), O2 500/100 (C1, Jul), O3 200/50 (C2, Aug), O4 100/10 (C3, Jul)
  customers: C1 key (2025-01), C2 small (2025-06, lost 2026-08-05), C3 walk-in (2026-07-15, referred by C1)
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from helpers.data.tables import load_dataset
from helpers.kpis.measures import KPIS, availability, kpi_actuals

AS_OF = pd.Timestamp("2026-10-01")


def value(a: pd.DataFrame, kpi: str, manager: str = "M1", period: str = "2026Q3", segment: str = "all") -> float:
    row = a[(a["kpi"] == kpi) & (a["manager_id"] == manager) & (a["period"] == period) & (a["segment"] == segment)]
    assert len(row) == 1, f"{kpi} {manager} {period} {segment}: {len(row)} rows"
    return float(row["value"].iloc[0])


@pytest.fixture
def q(tiny_dir):
    return kpi_actuals(load_dataset(tiny_dir, as_of=AS_OF), "Q")


def test_sales_profit_orders(q):
    assert value(q, "sales") == 1800  # 1000 + 500 + 200 + 100
    assert value(q, "profit") == 460  # 300 + 100 + 50 + 10
    assert value(q, "margin") == pytest.approx(460 / 1800)
    assert value(q, "orders") == 4
    assert value(q, "aov") == 450  # 1800 / 4
    assert value(q, "sales", period="2026Q2") == 800  # O0 only


def test_segment_split(q):
    assert value(q, "sales", segment="key") == 1500  # C1: O1 + O2
    assert value(q, "sales", segment="small") == 200  # C2
    assert value(q, "sales", segment="walkin") == 100  # C3
    assert value(q, "repeat_purchase_rate", segment="key") == 1.0  # C1 bought twice


def test_customer_base(q):
    assert value(q, "buyers") == 3  # C1, C2, C3
    assert value(q, "repeat_purchase_rate") == pytest.approx(1 / 3)  # only C1 has 2 orders
    assert value(q, "new_customers") == 1  # C3
    assert value(q, "lost_customers") == 1  # C2
    assert value(q, "customers_start") == 2  # C1, C2 (acquired before 2026-07-01)
    assert value(q, "churn_rate") == 0.5  # C2 of {C1, C2}
    assert value(q, "retention_rate") == 0.5
    assert value(q, "referral_rate") == 1.0  # C3 referred, 1 of 1 new


def test_active_rate_and_clv(q):
    # month starts: Jul {C1,C2} + new C3 → base 3, buyers {C1,C3} = 2
    #               Aug {C1,C2,C3} → base 3, buyers {C2} = 1
    #               Sep {C1,C3} → base 2, buyers {} = 0
    assert value(q, "active_rate") == pytest.approx(3 / 8)
    # CLV (Gupta & Lehmann 2003): m = 460 / 8 customer-months; monthly retention
    # r = 1 − 1/7 (C2 lost in Aug out of 2 + 3 + 2 customers at month starts)
    i = 1.1 ** (1 / 12) - 1
    m, r = 460 / 8, 6 / 7
    assert value(q, "clv") == pytest.approx(m * r / (1 + i - r))


def test_satisfaction_and_complaints(q):
    assert value(q, "csat") == pytest.approx(2 / 3)  # C1: 5, C3: 4 satisfied; C2: 3 not
    assert value(q, "nps") == pytest.approx(0.0)  # one promoter (10), one detractor (6), one passive (8)
    assert value(q, "complaints") == 2
    assert value(q, "complaint_rate") == pytest.approx(2 / 3)  # 2 complaints / 3 buyers
    assert value(q, "resolution_rate") == 0.5
    assert value(q, "escalations") == 1


def test_visits_leads_market_ratings(q):
    assert value(q, "visits") == 3
    assert value(q, "visit_coverage") == pytest.approx(2 / 3)  # C1, C2 visited / (2 at start + 1 new)
    assert value(q, "conversion_rate") == 0.25  # L1 converted of L1..L4
    assert value(q, "conversion_rate", segment="walkin") == 0.5
    assert value(q, "market_share") == pytest.approx(1800 / 30000)
    assert value(q, "market_share_change") == pytest.approx(100 * (1800 / 30000 - 800 / 30000))
    assert value(q, "qual_attitude") == pytest.approx((85 + 100 + 70) / 3)  # two months + the quarter rating


def test_part_period_manager_and_no_base(q):
    # M2 was hired 2026-08-16: present in Q3 with its own order, no customers at start
    assert value(q, "sales", "M2") == 400
    assert value(q, "new_customers", "M2") == 1
    assert math.isnan(value(q, "churn_rate", "M2"))  # no base: NaN, never 0
    assert not ((q["manager_id"] == "M2") & (q["period"] == "2026Q2")).any()  # not employed yet


def test_monthly(tiny_dir):
    m = kpi_actuals(load_dataset(tiny_dir, as_of=AS_OF), "M")
    assert value(m, "sales", period="2026-07") == 1600  # 1000 + 500 + 100
    assert value(m, "sales", period="2026-09") == 0  # employed, no orders: a real zero
    assert value(m, "customers_start", period="2026-08") == 3
    assert value(m, "qual_attitude", period="2026-08") == 100  # quarterly rating not in a month


def test_audit_rows(q):
    row = q[(q["kpi"] == "csat") & (q["manager_id"] == "M1") & (q["period"] == "2026Q3") & (q["segment"] == "all")]
    assert int(row["rows"].iloc[0]) == 3 and row["numerator"].iloc[0] == 2 and row["denominator"].iloc[0] == 3


def test_absent_table_is_not_available_not_zero(tiny_dir):
    (tiny_dir / "surveys.csv").unlink()
    ds = load_dataset(tiny_dir, as_of=AS_OF)
    a = kpi_actuals(ds, "Q")
    assert "csat" not in set(a["kpi"]) and "nps" not in set(a["kpi"])
    av = availability(ds).set_index("kpi")
    assert not av.loc["csat", "available"] and av.loc["csat", "missing"] == "surveys"
    assert av.loc["sales", "available"]


def test_every_kpi_documented():
    for k in KPIS.values():
        assert k.zh and k.en and k.formula and k.tables


def test_demo_totals_match_a_plain_groupby(demo_dir):
    """Second method: company sales per quarter straight from the orders file."""
    ds = load_dataset(demo_dir, as_of=AS_OF)
    a = kpi_actuals(ds, "Q")
    orders = pd.read_csv(demo_dir / "orders.csv", parse_dates=["date"])
    direct = orders[orders["date"].dt.to_period("Q") == pd.Period("2026Q3")]["amount"].sum()
    ours = a[(a["kpi"] == "sales") & (a["period"] == "2026Q3") & (a["segment"] == "all")]["value"].sum()
    assert ours == pytest.approx(direct)
    new_direct = (pd.read_csv(demo_dir / "customers.csv", parse_dates=["acquired_date"])["acquired_date"]
                  .dt.to_period("Q") == pd.Period("2026Q3")).sum()
    ours_new = a[(a["kpi"] == "new_customers") & (a["period"] == "2026Q3") & (a["segment"] == "all")]["value"].sum()
    assert ours_new == new_direct


def test_a_share_above_100_percent_is_a_finding(tmp_path):
    """Shared accounts no longer push the active rate above 100 %: M1's customer C1 also
    buys from M2 in September.  The active rate counts the customers of a manager's own
    base who bought (from anyone): M2's base in 2026-09 is C4 (won on 1 September), who
    bought: 1 ÷ 1 = 100 %, not 2 ÷ 1; M1's base is C1 and C3 (C2 was lost in August), of
    whom C1 bought (from M2): 1 ÷ 2 = 50 %.  A share that still exceeds 100 % — here a
    profit of 1,000 on sales of 100 — is a finding, never a result shown as it is."""
    from conftest import tiny_tables, write_tables
    from helpers.kpis.measures import rates_above_one

    t = tiny_tables()
    t["orders"].append({"order_id": "O6", "date": "2026-09-03", "customer_id": "C1", "manager_id": "M2",
                        "amount": 300, "profit": 30, "product_line": "P"})
    a = kpi_actuals(load_dataset(write_tables(tmp_path / "d", t), as_of=pd.Timestamp("2026-10-01")), "M")
    act = a[(a["kpi"] == "active_rate") & (a["segment"] == "all") & (a["period"] == "2026-09")].set_index("manager_id")
    assert act.loc["M2", "value"] == pytest.approx(1.0)
    assert act.loc["M1", "value"] == pytest.approx(0.5)
    assert rates_above_one(a).empty
    t["orders"].append({"order_id": "O7", "date": "2026-09-04", "customer_id": "C4", "manager_id": "M2",
                        "amount": 100, "profit": 1000, "product_line": "P"})
    a = kpi_actuals(load_dataset(write_tables(tmp_path / "f", t), as_of=pd.Timestamp("2026-10-01")), "M")
    got = rates_above_one(a[a["segment"] == "all"])
    assert got[["manager_id", "period", "kpi"]].values.tolist() == [["M2", "2026-09", "margin"]]
    assert got["value"].iloc[0] == pytest.approx((80 + 30 + 1000) / (400 + 300 + 100))
    assert rates_above_one(kpi_actuals(load_dataset(write_tables(tmp_path / "e", tiny_tables()),
                                                    as_of=pd.Timestamp("2026-10-01")), "M")).empty
