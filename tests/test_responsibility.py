"""Customers that change hands and are shared (issue 16): customer-based indicators
credit the managers responsible on the day of each event, pro-rated by share, and a
manager is never credited or charged for what happened before joining.

Every expected value is counted by hand from the tiny data of ``conftest.tiny_tables``
(M1 employed since 2020; M2 hired 2026-08-16) plus the rows each test adds."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import tiny_tables, write_tables
from helpers.data.responsibility import from_orders, share_overlaps
from helpers.data.tables import load_dataset
from helpers.errors import InputError
from helpers.kpis.measures import kpi_actuals

AS_OF = pd.Timestamp("2026-10-01")


def _kpis(tmp_path, t, freq="Q", name="d"):
    return kpi_actuals(load_dataset(write_tables(tmp_path / name, t), as_of=AS_OF), freq)


def _v(a, manager, period, kpi, col="value", segment="all"):
    r = a[(a["manager_id"] == manager) & (a["period"] == period) & (a["kpi"] == kpi) & (a["segment"] == segment)]
    return float(r[col].iloc[0]) if len(r) else None


def _with_c5(t):
    """C5: a key account of M2 today, lost on 10 August and surveyed on 1 August, both
    before M2 joined on 16 August."""
    t["customers"].append({"customer_id": "C5", "manager_id": "M2", "segment": "key", "acquired_date": "2025-03-01",
                           "lost_date": "2026-08-10", "referred_by": ""})
    t["surveys"].append({"date": "2026-08-01", "customer_id": "C5", "csat": 5, "nps": 10})
    return t


def test_a_joiner_is_neither_credited_nor_charged_for_earlier_events(tmp_path):
    base = _kpis(tmp_path, tiny_tables(), name="base")
    a = _kpis(tmp_path, _with_c5(tiny_tables()))
    # M2 joined on 16 August: the loss of 10 August and the survey of 1 August are not his
    assert _v(a, "M2", "2026Q3", "lost_customers") == 0
    assert _v(a, "M2", "2026Q3", "csat", "denominator") == 0
    assert _v(a, "M2", "2026Q3", "customers_start") == 0
    # nobody else is charged either: the data names no one before M2
    for kpi in ("lost_customers", "churn_rate", "csat", "customers_start"):
        assert _v(a, "M1", "2026Q3", kpi) == pytest.approx(_v(base, "M1", "2026Q3", kpi))


def test_an_ownership_history_charges_the_manager_of_the_day(tmp_path):
    """C5 was M1's until 15 August, M2's from the 16th: the loss (10 August) and the
    survey (1 August) are M1's.  M1 in 2026Q3: customers at the start C1, C2, C5 = 3 (C3
    was won in July), lost from them C2 and C5 = 2 → churn 2/3; CSAT: C1 5, C2 3, C3 4,
    C5 5 → 3 satisfied of 4."""
    t = _with_c5(tiny_tables())
    t["assignments"] = [
        {"customer_id": "C5", "manager_id": "M1", "start_date": "", "end_date": "2026-08-15", "share": 1},
        {"customer_id": "C5", "manager_id": "M2", "start_date": "2026-08-16", "end_date": "", "share": 1},
    ]
    a = _kpis(tmp_path, t)
    assert _v(a, "M1", "2026Q3", "customers_start") == 3
    assert _v(a, "M1", "2026Q3", "lost_customers") == 2
    assert _v(a, "M1", "2026Q3", "churn_rate") == pytest.approx(2 / 3)
    assert _v(a, "M1", "2026Q3", "csat") == pytest.approx(3 / 4)
    assert _v(a, "M2", "2026Q3", "lost_customers") == 0


def test_a_credit_split_counts_each_manager_with_his_share(tmp_path):
    """From 1 September C1 is shared, M1 60 % (主办) and M2 40 % (协办); C1 buys from M1
    on 3 September.  September, monthly: at the month's start M1 holds C1·0.6 + C3 = 1.6
    customers, M2 C1·0.4 = 0.4; M2 also wins C4 (1).  Active rate = the base's customers
    who bought, with the same shares: M1 0.6 ÷ 1.6, M2 (0.4 + 1) ÷ 1.4 = 100 %."""
    t = tiny_tables()
    t["orders"].append({"order_id": "O6", "date": "2026-09-03", "customer_id": "C1", "manager_id": "M1",
                        "amount": 100, "profit": 10, "product_line": "P"})
    t["assignments"] = [
        {"customer_id": "C1", "manager_id": "M1", "start_date": "", "end_date": "2026-08-31", "share": 1},
        {"customer_id": "C1", "manager_id": "M1", "start_date": "2026-09-01", "end_date": "", "share": 0.6},
        {"customer_id": "C1", "manager_id": "M2", "start_date": "2026-09-01", "end_date": "", "share": 0.4},
    ]
    a = _kpis(tmp_path, t, "M")
    assert _v(a, "M1", "2026-09", "customers_start") == pytest.approx(1.6)
    assert _v(a, "M2", "2026-09", "customers_start") == pytest.approx(0.4)
    assert _v(a, "M1", "2026-09", "active_rate") == pytest.approx(0.6 / 1.6)
    assert _v(a, "M2", "2026-09", "active_rate") == pytest.approx(1.0)
    # sales stay with the order's manager
    assert _v(a, "M1", "2026-09", "sales") == 100
    assert _v(a, "M2", "2026-09", "sales") == 400


def test_shares_that_do_not_add_up_are_refused_naming_the_customer(tmp_path):
    t = tiny_tables()
    t["assignments"] = [
        {"customer_id": "C1", "manager_id": "M1", "start_date": "2026-09-01", "end_date": "", "share": 0.6},
        {"customer_id": "C1", "manager_id": "M2", "start_date": "2026-09-01", "end_date": "", "share": 0.6},
    ]
    with pytest.raises(InputError) as e:
        load_dataset(write_tables(tmp_path / "d", t), as_of=AS_OF)
    msg = str(e.value)
    assert "assignments.csv" in msg and "'C1'" in msg and "1.2" in msg and "2026-09-01" in msg
    ok = pd.DataFrame({"customer_id": ["C1", "C1", "C2"], "start_date": pd.to_datetime(["2026-09-01"] * 2 + [None]),
                       "end_date": pd.NaT, "share": [0.6, 0.4, 0.5]})
    assert share_overlaps(ok).empty  # one holder of half a customer is allowed: the rest is nobody's


def test_responsibility_derived_from_the_orders():
    """X buys 300 from M1 in January and 100 from M2 in February; a two-month window:
    January M1 alone; February M1 300/400, M2 100/400; March M2 alone (January has left
    the window).  The main seller holds February alone: M1."""
    o = pd.DataFrame({"customer_id": ["X", "X", "X"], "manager_id": ["M1", "M2", "M2"],
                      "date": pd.to_datetime(["2026-01-15", "2026-02-03", "2026-03-20"]), "amount": [300, 100, 0]})
    got = from_orders(o, "share", months=2)
    rows = [(r.manager_id, r.start_date.strftime("%Y-%m-%d"), r.end_date.strftime("%Y-%m-%d"), round(r.share, 6))
            for r in got.itertuples()]
    assert rows == [("M1", "2026-01-01", "2026-01-31", 1.0), ("M1", "2026-02-01", "2026-02-28", 0.75),
                    ("M2", "2026-02-01", "2026-02-28", 0.25), ("M2", "2026-03-01", "2026-03-31", 1.0)]
    main = from_orders(o, "main", months=2)
    assert main[main["start_date"] == "2026-02-01"][["manager_id", "share"]].values.tolist() == [["M1", 1.0]]
    assert share_overlaps(got).empty


def test_both_engines_agree_on_shared_customers(tmp_path):
    from helpers.kpis.duckdb_engine import kpi_actuals_parquet

    t = _with_c5(tiny_tables())
    t["assignments"] = [
        {"customer_id": "C5", "manager_id": "M1", "start_date": "", "end_date": "2026-08-15", "share": 1},
        {"customer_id": "C5", "manager_id": "M2", "start_date": "2026-08-16", "end_date": "", "share": 1},
        {"customer_id": "C1", "manager_id": "M1", "start_date": "", "end_date": "", "share": 0.7},
        {"customer_id": "C1", "manager_id": "M2", "start_date": "2026-08-16", "end_date": "", "share": 0.3},
    ]
    t["assignments"][2]["end_date"] = "2026-08-15"
    t["assignments"].append({"customer_id": "C1", "manager_id": "M1", "start_date": "2026-08-16", "end_date": "",
                             "share": 0.7})
    t["assignments"][2]["share"] = 1
    folder = write_tables(tmp_path / "d", t)
    want = kpi_actuals(load_dataset(folder, as_of=AS_OF), "M")
    pd.read_csv(folder / "orders.csv").to_parquet(folder / "orders.parquet", index=False)
    (folder / "orders.csv").unlink()
    got = kpi_actuals_parquet(folder, "M", as_of=AS_OF)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False)
    assert _v(want, "M2", "2026-09", "customers_start") == pytest.approx(0.3)


def test_an_export_without_segments_counts_everyone_in_totals_and_no_segment(tmp_path):
    """No segment column: the totals are those of the tiny data (C1–C4 in M1's and M2's
    figures as before), no segment rows are reported, and an indicator for key accounts
    is not available with its reason — never 0."""
    from helpers.kpis.indicators import data_availability, load_library
    from helpers.kpis.measures import availability
    from conftest import ROOT

    base = _kpis(tmp_path, tiny_tables(), name="base")
    t = tiny_tables()
    for c in t["customers"]:
        del c["segment"]
    for lead in t["leads"]:
        lead["segment"] = "small"
    ds = load_dataset(write_tables(tmp_path / "noseg", t), as_of=AS_OF)
    a = kpi_actuals(ds, "Q")
    assert set(a["segment"]) == {"all"}
    for kpi in ("sales", "customers_start", "new_customers", "churn_rate", "active_rate", "csat"):
        assert _v(a, "M1", "2026Q3", kpi) == pytest.approx(_v(base, "M1", "2026Q3", kpi))
    lib = load_library(ROOT / "params" / "indicators.yaml")
    key = next(i.id for i in lib if i.segment == "key")
    da = data_availability(lib, availability(ds), [key, "sales"]).set_index("indicator")
    assert da.loc[key, "status"] == "missing" and da.loc[key, "missing"] == "customers.segment = key"
    assert da.loc["sales", "status"] == "ok"
