"""The results store (helpers.record), on a DuckDB file and on PostgreSQL.

Every store test runs twice through the ``store_url`` fixture (tests/store_backends.py):
on a fresh DuckDB file and on a fresh PostgreSQL database.  The figures are small
enough to check by hand:

====  =======================  =========  ==========================================
mgr   line                     subtotal
====  =======================  =========  ==========================================
M1    P.base.2026Q3.1           6,000.00
M1    P.commission.2026-07.1    3,000.00
M1    P.commission.2026-08.1    1,500.50   M1 payout 10,500.50
M2    P.base.2026Q3.1           6,000.00
M2    P.commission.2026-07.1    1,200.25
M2    P.penalty.2026-08.1        -300.00   M2 payout  6,900.25; period 17,400.75
====  =======================  =========  ==========================================
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import select
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import sqlalchemy as sa
import store_backends
from store_backends import postgres_admin_url, sql, tables_of

from helpers.errors import InputError
from helpers.record import schema as S
from helpers.record.files import read_adjustments, read_disputes, read_signoffs
from helpers.record.restate import restate
from helpers.record.results import Results, line_refs
from helpers.record.store import PAUSE_ENV, Store

store_url = store_backends.store_url  # the fixture: every store test on DuckDB and on PostgreSQL

Q3 = "2026Q3"
INPUTS = [{"name": "orders", "path": "data/orders.csv", "sha256": "a" * 64, "bytes": 123456, "run": "run-1"},
          {"name": "managers", "path": "data/managers.csv", "sha256": "b" * 64, "bytes": 789, "run": "run-1"}]
PLAN_FILES = {"plan/params.yaml": "c" * 64, "plan/kpis.yaml": "d" * 64}
M1_PAY, M2_PAY = 6000.00 + 3000.00 + 1500.50, 6000.00 + 1200.25 - 300.00
assert (M1_PAY, M2_PAY) == (10500.50, 6900.25)


def make_results(period: str = Q3, m1_commission: float = 3000.00, m1_total: float = 83.0) -> Results:
    """Two managers, two indicators, three pay lines each (the table in the module's docstring);
    ``m1_commission`` is M1's first commission line (3,000.00 as closed)."""
    if "Q" in period:  # the quarter's first two months
        first = pd.Period(period, freq="Q").asfreq("M", how="start")
        m_a, m_b = str(first), str(first + 1)
    else:
        m_a = m_b = period
    lines = []
    for m, rows in {"M1": [("base", None, "base pay", 6000.00), ("commission", m_a, "tier 1", m1_commission),
                           ("commission", m_b, "tier 1", 1500.50)],
                    "M2": [("base", None, "base pay", 6000.00), ("commission", m_a, "tier 1", 1200.25),
                           ("penalty", m_b, "key customer lost", -300.00)]}.items():
        df = pd.DataFrame([{"manager_id": m, "month": mo, "component": c, "item": it, "quantity": 1.0,
                            "rate": sub, "subtotal": sub, "explanation": f"{c} {it}"} for c, mo, it, sub in rows])
        df["ref"] = line_refs(df, period)
        lines.append(df)
    pay = pd.concat(lines, ignore_index=True)
    payout = pay.groupby("manager_id")["subtotal"].sum()
    grades = pd.DataFrame([
        {"manager_id": "M1", "name": "王伟", "team_id": "A", "status": "active", "active_fraction": 1.0,
         "hard": 80.0, "soft": 90.0, "total": m1_total, "grade": "B", "rank_team": 1, "rank_company": 1,
         "payout": float(payout["M1"])},
        {"manager_id": "M2", "name": "李娜", "team_id": "A", "status": "active", "active_fraction": 0.5,
         "hard": 60.0, "soft": 70.0, "total": 63.0, "grade": "C", "rank_team": 2, "rank_company": 2,
         "payout": float(payout["M2"])}])
    targets = pd.DataFrame([{"manager_id": m, "indicator": i, "target": t, "source": "plan"}
                            for m in ("M1", "M2") for i, t in (("sales", 150000.0), ("visits", 50.0))])
    scores = pd.DataFrame([
        {"manager_id": "M1", "indicator": "sales", "kind": "hard", "weight": 0.7, "actual": 120000.0,
         "attainment": 0.8, "score": 80.0},
        {"manager_id": "M1", "indicator": "visits", "kind": "soft", "weight": 0.3, "actual": 45.0,
         "attainment": 0.9, "score": 90.0},
        {"manager_id": "M2", "indicator": "sales", "kind": "hard", "weight": 0.7, "actual": 90000.0,
         "attainment": 0.6, "score": 60.0},
        {"manager_id": "M2", "indicator": "visits", "kind": "soft", "weight": 0.3, "actual": 35.0,
         "attainment": 0.7, "score": 70.0}])
    return Results(period, grades, targets, scores, pay, plan_version="plan-v1", language="zh", teams=["A"])


def _rows(df: pd.DataFrame) -> list[dict]:
    return [{k: None if pd.isna(v) else v for k, v in rec.items()} for rec in df.to_dict("records")]


def one_line(exc: InputError) -> str:
    """The error as the CLI prints it: one line, no traceback, no chained exception."""
    text = str(exc)
    assert len(exc.problems) == 1 and len(text.splitlines()) == 1, text
    assert "Traceback" not in text, text
    assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__), text
    return text


def test_the_fixture_data_is_what_the_docstring_says():
    r = make_results()
    assert list(r.pay_lines["ref"]) == ["P.base.2026Q3.1", "P.commission.2026-07.1", "P.commission.2026-08.1",
                                        "P.base.2026Q3.1", "P.commission.2026-07.1", "P.penalty.2026-08.1"]
    assert r.pay_lines["subtotal"].sum() == 17400.75
    assert list(make_results("2026-10").pay_lines["ref"][:3]) == [
        "P.base.2026-10.1", "P.commission.2026-10.1", "P.commission.2026-10.2"]


# ---------------------------------------------------------------------------------- schema and migrations

def test_an_empty_store_is_migrated_to_the_current_schema(store_url):
    assert S.SCHEMA_VERSION == 2
    assert Store(store_url).schema_version() == 2
    v2 = ["periods", "plan_files", "inputs", "grades", "targets", "scores", "pay_lines",
          "adjustments", "disputes", "signoffs"]
    assert S.version_of_tables(2) == v2
    assert tables_of(store_url) == {"record_meta", *v2}
    assert sql(store_url, "SELECT key, value FROM record_meta") == [("schema_version", "2")]
    assert Store(store_url).check() == []
    assert Store(store_url).schema_version() == 2  # a second open migrates nothing
    assert sql(store_url, "SELECT COUNT(*) FROM record_meta") == [(1,)]


def test_a_version_1_store_is_upgraded_with_its_rows_intact(store_url):
    Store(store_url).migrate_to(1)
    v1 = ["periods", "plan_files", "inputs", "grades", "targets", "scores", "pay_lines"]
    assert S.version_of_tables(1) == v1
    assert tables_of(store_url) == {"record_meta", *v1}
    assert sql(store_url, "SELECT value FROM record_meta WHERE key = 'schema_version'") == [("1",)]

    # a period closed by a version-1 workbook, written straight into the v1 tables
    r = make_results()
    engine = sa.create_engine(store_url, poolclass=sa.pool.NullPool)
    with engine.begin() as c:
        c.execute(sa.insert(S.periods), [{"period": Q3, "status": "closed", "closed_at": "2026-10-05T09:00:00+00:00",
                                          "closed_by": "hr", "plan_version": "plan-v1", "results_version": "0" * 12,
                                          "language": "zh", "managers": 2, "pay_total": 17400.75}])
        g = r.grades.assign(period=Q3, adjustments=0.0, pay_total=r.grades["payout"], version="1" * 12)
        c.execute(sa.insert(S.grades), _rows(g))
        c.execute(sa.insert(S.pay_lines), _rows(r.pay_lines.assign(period=Q3)))
    engine.dispose()

    store = Store(store_url)
    assert store.schema_version() == 2
    assert tables_of(store_url) == {"record_meta", *S.version_of_tables(2)}
    assert sql(store_url, "SELECT value FROM record_meta WHERE key = 'schema_version'") == [("2",)]
    assert store.is_closed(Q3) and store.closed_periods() == [Q3]
    assert store.period(Q3)["pay_total"] == 17400.75
    assert sql(store_url, "SELECT COUNT(*), SUM(subtotal) FROM pay_lines WHERE period = '2026Q3'") == [(6, 17400.75)]
    assert sql(store_url, "SELECT manager_id, payout, version FROM grades ORDER BY manager_id") == [
        ("M1", 10500.50, "111111111111"), ("M2", 6900.25, "111111111111")]
    # the version-2 tables work: an adjustment of the next open period, then its close
    assert store.next_open(Q3) == "2026Q4"
    store.book([{"adjustment_id": "A-1", "manager_id": "M2", "period": "2026Q4", "amount": 100.0, "source": "manual"}])
    store.close(make_results("2026Q4"), INPUTS, PLAN_FILES, "hr")
    assert store.closed_periods() == [Q3, "2026Q4"]
    assert store.period("2026Q4")["pay_total"] == 17500.75


def test_a_store_of_a_newer_schema_is_refused_and_never_written(store_url, tmp_path):
    store = Store(store_url)
    store.close(make_results(), INPUTS, PLAN_FILES, "hr")
    sql(store_url, "UPDATE record_meta SET value = '99' WHERE key = 'schema_version'")

    def snapshot():
        tables = tables_of(store_url)
        return tables, {t: sql(store_url, f"SELECT COUNT(*) FROM {t}")[0][0] for t in sorted(tables)}

    before = snapshot()
    assert before[1]["pay_lines"] == 6 and before[1]["adjustments"] == 0

    problems = Store(store_url).check()
    assert len(problems) == 1
    assert "schema version 99" in problems[0].what and "up to version 2" in problems[0].what

    csv = tmp_path / "adjustments.csv"
    csv.write_text("adjustment_id,manager_id,period,amount,reason_code,approved_by,date\n"
                   "X-1,M1,2026Q4,10,DATA_FIX,hr,2026-10-01\n", encoding="utf-8")
    operations = {
        "schema_version": lambda s: s.schema_version(),
        "frame": lambda s: s.frame("pay_lines"),
        "is_closed": lambda s: s.is_closed(Q3),
        "results": lambda s: s.results(Q3),
        "close": lambda s: s.close(make_results("2026Q4"), INPUTS, PLAN_FILES, "hr"),
        "book": lambda s: s.book([{"adjustment_id": "B-1", "manager_id": "M1", "period": "2026Q4",
                                   "amount": 1.0, "source": "manual"}]),
        "sync": lambda s: s.sync(adjustments=read_adjustments(csv)),
        "signoff": lambda s: s.signoff(Q3, "M1", "signed", "2026-10-10", None),
        "migrate_to": lambda s: s.migrate_to(2),
    }
    for name, op in operations.items():
        with pytest.raises(InputError) as exc:
            op(Store(store_url))
        assert "schema version 99" in one_line(exc.value), name
    assert snapshot() == before
    assert sql(store_url, "SELECT value FROM record_meta WHERE key = 'schema_version'") == [("99",)]


# ---------------------------------------------------------------------------------- close

def _version_by_hand(m: str, pay: list[tuple[str, float]], grade: tuple, scores: list[str],
                     adjustments: list[str] = ()) -> str:
    """The statement version as results.py's docstring describes it, spelled out."""
    status, hard, soft, total, g, payout = grade
    parts = [Q3, "plan-v1", f"status={status}", f"hard={hard}", f"soft={soft}", f"total={total}", f"grade={g}",
             f"payout={payout}", *scores, "target.sales=150000.00", "target.visits=50.00",
             *[f"{ref}={sub}" for ref, sub in pay], *adjustments]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


M1_VERSION_PARTS = {
    "pay": [("P.base.2026Q3.1", "6000.00"), ("P.commission.2026-07.1", "3000.00"),
            ("P.commission.2026-08.1", "1500.50")],
    "grade": ("active", "80.00", "90.00", "83.00", "B", "10500.50"),
    "scores": ["I.sales=0.70|120000.00|80.00", "I.visits=0.30|45.00|90.00"]}
M2_VERSION_PARTS = {
    "pay": [("P.base.2026Q3.1", "6000.00"), ("P.commission.2026-07.1", "1200.25"),
            ("P.penalty.2026-08.1", "-300.00")],
    "grade": ("active", "60.00", "70.00", "63.00", "C", "6900.25"),
    "scores": ["I.sales=0.70|90000.00|60.00", "I.visits=0.30|35.00|70.00"]}


def test_close_freezes_the_results_in_plain_tables(store_url):
    store = Store(store_url)
    r = make_results()
    row = store.close(r, INPUTS, PLAN_FILES, "hr@example", None)
    assert (row["period"], row["status"], row["managers"], row["pay_total"]) == (Q3, "closed", 2, 17400.75)

    assert sql(store_url, "SELECT SUM(subtotal) FROM pay_lines WHERE period='2026Q3'") == [(17400.75,)]
    assert sql(store_url, "SELECT manager_id, SUM(subtotal) FROM pay_lines GROUP BY manager_id ORDER BY 1") == [
        ("M1", 10500.50), ("M2", 6900.25)]
    assert sql(store_url, "SELECT subtotal FROM pay_lines WHERE manager_id = 'M2' AND ref = 'P.penalty.2026-08.1'") \
        == [(-300.0,)]
    assert sql(store_url, "SELECT month FROM pay_lines WHERE manager_id = 'M1' AND ref = 'P.base.2026Q3.1'") == [(None,)]
    assert sql(store_url, "SELECT period, status, closed_by, forced_reason, plan_version, language, managers, "
                          "pay_total FROM periods") == [(Q3, "closed", "hr@example", None, "plan-v1", "zh", 2, 17400.75)]
    assert sql(store_url, "SELECT COUNT(*) FROM targets WHERE period = '2026Q3'") == [(4,)]
    assert sql(store_url, "SELECT score FROM scores WHERE manager_id = 'M2' AND indicator = 'visits'") == [(70.0,)]
    assert sql(store_url, "SELECT name, sha256, bytes FROM inputs ORDER BY name") == [
        ("managers", "b" * 64, 789), ("orders", "a" * 64, 123456)]
    assert sql(store_url, "SELECT file FROM plan_files WHERE plan_version = 'plan-v1' ORDER BY file") == [
        ("plan/kpis.yaml",), ("plan/params.yaml",)]

    g = store.frame("grades").set_index("manager_id")
    assert g.loc["M1", "pay_total"] == 10500.50 and g.loc["M2", "pay_total"] == 6900.25
    assert g.loc["M1", "adjustments"] == 0.0 and g.loc["M2", "name"] == "李娜"
    none = store.adjustments(period=Q3)
    assert len(none) == 0
    for m, parts in (("M1", M1_VERSION_PARTS), ("M2", M2_VERSION_PARTS)):
        assert g.loc[m, "version"] == r.version(m, none) == r.version(m) == _version_by_hand(m, **parts)
    assert g.loc["M1", "version"] != g.loc["M2", "version"]
    results_version = hashlib.sha256(
        f"M1={g.loc['M1', 'version']}\nM2={g.loc['M2', 'version']}".encode()).hexdigest()[:12]
    assert store.period(Q3)["results_version"] == results_version

    back = store.results(Q3)  # as closed
    assert back.pay_lines.sort_values(["manager_id", "ref"])["subtotal"].tolist() == [
        6000.00, 3000.00, 1500.50, 6000.00, 1200.25, -300.00]
    assert back.teams == ["A"] and back.plan_version == "plan-v1"

    with pytest.raises(InputError) as exc:
        store.close(make_results(), INPUTS, PLAN_FILES, "hr@example")
    assert "period 2026Q3 is already closed" in one_line(exc.value)
    with pytest.raises(InputError) as exc:
        store.book([{"adjustment_id": "late", "manager_id": "M1", "period": Q3, "amount": 5.0, "source": "manual"}])
    assert "period 2026Q3 is closed" in one_line(exc.value)
    assert sql(store_url, "SELECT COUNT(*) FROM adjustments") == [(0,)]
    assert sql(store_url, "SELECT COUNT(*), SUM(subtotal) FROM pay_lines") == [(6, 17400.75)]

    assert store.next_open(Q3) == "2026Q4"
    store.close(make_results("2026Q4"), INPUTS, PLAN_FILES, "hr@example", "late data, closed anyway")
    assert store.next_open(Q3) == "2027Q1" and store.next_open("2026Q2") == "2027Q1"
    assert store.period("2026Q4")["forced_reason"] == "late data, closed anyway"
    assert sql(store_url, "SELECT COUNT(*) FROM plan_files") == [(2,)]  # the same plan version: stored once
    assert store.next_open("2026-09") == "2026-10"
    store.close(make_results("2026-10"), [], {}, "hr@example")
    assert store.next_open("2026-09") == "2026-11"
    assert store.closed_periods() == ["2026-10", Q3, "2026Q4"]
    assert sql(store_url, "SELECT SUM(subtotal) FROM pay_lines WHERE period = '2026-10'") == [(17400.75,)]


def test_adjustments_of_a_period_are_frozen_with_it(store_url):
    store = Store(store_url)
    store.book([{"adjustment_id": "A-1", "manager_id": "M1", "period": Q3, "amount": 250.0, "source": "manual"},
                {"adjustment_id": "A-2", "manager_id": "M1", "period": "2026Q4", "amount": 999.0, "source": "manual"}])
    r = make_results()
    row = store.close(r, INPUTS, PLAN_FILES, "hr")
    assert row["pay_total"] == 17400.75 + 250.0 == 17650.75
    assert sql(store_url, "SELECT manager_id, payout, adjustments, pay_total FROM grades ORDER BY manager_id") == [
        ("M1", 10500.50, 250.0, 10750.50), ("M2", 6900.25, 0.0, 6900.25)]
    assert sql(store_url, "SELECT pay_total FROM periods WHERE period = '2026Q3'") == [(17650.75,)]
    g = store.frame("grades").set_index("manager_id")
    adj = store.adjustments(period=Q3)
    assert list(adj["adjustment_id"]) == ["A-1"]
    assert g.loc["M1", "version"] == r.version("M1", adj) == _version_by_hand("M1", **M1_VERSION_PARTS,
                                                                                 adjustments=["A.A-1=250.00||"])
    assert g.loc["M1", "version"] != r.version("M1")  # the adjustment is part of the signed figures
    assert g.loc["M2", "version"] == r.version("M2") == _version_by_hand("M2", **M2_VERSION_PARTS)
    with pytest.raises(InputError):
        store.book([{"adjustment_id": "A-3", "manager_id": "M2", "period": Q3, "amount": 1.0, "source": "manual"}])
    assert sql(store_url, "SELECT SUM(adjustments) FROM grades") == [(250.0,)]


# ---------------------------------------------------------------------------------- sync

ADJ_HEADER = "adjustment_id,manager_id,period,amount,reason_code,reason,approved_by,date\n"


def _ids(store, **where):
    return sorted(store.adjustments(**where)["adjustment_id"])


def test_sync_adjustments_replaces_open_periods_and_refuses_closed_ones(store_url, tmp_path):
    store = Store(store_url)
    csv = tmp_path / "adjustments.csv"
    csv.write_text(ADJ_HEADER + "ADJ-0,M1,2026Q3,100,DATA_FIX,booked before the close,hr,2026-09-28\n"
                   "ADJ-1,M1,2026Q4,500,DATA_FIX,missed order,hr,2026-10-05\n", encoding="utf-8")
    assert store.sync(adjustments=read_adjustments(csv))["adjustments"] == 2
    store.close(make_results(), INPUTS, PLAN_FILES, "hr")
    assert sql(store_url, "SELECT adjustments, pay_total FROM grades WHERE manager_id = 'M1'") == [(100.0, 10600.50)]
    store.book([{"adjustment_id": "R-x", "manager_id": "M2", "period": "2026Q4", "amount": 7.0,
                 "source": "restatement"}])

    # the same file again: the closed row is kept as it is, the open rows are replaced by the file's
    assert store.sync(adjustments=read_adjustments(csv))["adjustments"] == 1
    a = store.adjustments().set_index("adjustment_id")
    assert sorted(a.index) == ["ADJ-0", "ADJ-1", "R-x"]
    assert (a.loc["ADJ-1", "period"], a.loc["ADJ-1", "amount"], a.loc["ADJ-1", "source"]) == ("2026Q4", 500.0, "file")
    assert a.loc["ADJ-1", "date"] == "2026-10-05" and a.loc["ADJ-1", "approved_by"] == "hr"

    # edited: ADJ-1 gone, ADJ-2 there; a booking that is not the file's stays
    csv.write_text(ADJ_HEADER + "ADJ-0,M1,2026Q3,100,DATA_FIX,booked before the close,hr,2026-09-28\n"
                   "ADJ-2,M2,2026Q4,-120.5,DATA_FIX,double counted,hr,2026-10-06\n", encoding="utf-8")
    store.sync(adjustments=read_adjustments(csv))
    assert _ids(store) == ["ADJ-0", "ADJ-2", "R-x"]
    assert sql(store_url, "SELECT manager_id, amount FROM adjustments WHERE adjustment_id = 'ADJ-2'") == [("M2", -120.5)]

    # a new row for the closed period: refused, naming the file and the row; nothing written
    csv.write_text(ADJ_HEADER + "ADJ-0,M1,2026Q3,100,DATA_FIX,booked before the close,hr,2026-09-28\n"
                   "ADJ-3,M1,2026Q3,50,DATA_FIX,too late,hr,2026-10-07\n"
                   "ADJ-4,M1,2026Q4,60,DATA_FIX,fine,hr,2026-10-07\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        store.sync(adjustments=read_adjustments(csv))
    text = one_line(exc.value)
    p = exc.value.problems[0]
    assert (p.source, p.where) == (str(csv), "row 3")
    assert text.startswith(f"{csv}: row 3: period 2026Q3 is closed") and "2026Q4" in p.fix
    assert _ids(store) == ["ADJ-0", "ADJ-2", "R-x"]

    # a closed row changed, or dropped from the file: refused too
    csv.write_text(ADJ_HEADER + "ADJ-0,M1,2026Q3,150,DATA_FIX,booked before the close,hr,2026-09-28\n",
                   encoding="utf-8")
    with pytest.raises(InputError) as exc:
        store.sync(adjustments=read_adjustments(csv))
    p = exc.value.problems[0]
    assert (p.source, p.where) == (str(csv), "row 2") and "ADJ-0" in p.what and "2026Q3" in p.what
    csv.write_text(ADJ_HEADER + "ADJ-0,M1,2026Q4,100,DATA_FIX,booked before the close,hr,2026-09-28\n",
                   encoding="utf-8")  # moved out of the closed period
    with pytest.raises(InputError) as exc:
        store.sync(adjustments=read_adjustments(csv))
    assert "adjustment ADJ-0 of closed period 2026Q3 differs from the store (period)" in one_line(exc.value)
    csv.write_text(ADJ_HEADER, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        store.sync(adjustments=read_adjustments(csv))
    assert "adjustment ADJ-0 of closed period 2026Q3 is missing" in one_line(exc.value)
    assert sql(store_url, "SELECT adjustment_id, amount FROM adjustments ORDER BY 1") == [
        ("ADJ-0", 100.0), ("ADJ-2", -120.5), ("R-x", 7.0)]


DISPUTE_HEADER = "dispute_id,manager_id,period,line_ref,raised_on,text,status,amount,decided_by,decided_on\n"
D2_OPEN = "D2,M2,2026Q3,P.penalty.2026-08.1,2026-10-03,not my customer,open,,,\n"


def test_sync_disputes_books_an_accepted_one_once_and_takes_it_back(store_url, tmp_path):
    store = Store(store_url)
    store.close(make_results(), INPUTS, PLAN_FILES, "hr")
    csv = tmp_path / "disputes.csv"

    def write(d1: str) -> None:
        csv.write_text(DISPUTE_HEADER + d1 + D2_OPEN, encoding="utf-8")

    accepted = "D1,M1,2026Q3,P.commission.2026-07.1,2026-10-02,order 7 missing,accepted,320.5,hr,2026-10-09\n"
    write(accepted)
    assert store.sync(disputes=read_disputes(csv)) == {"adjustments": 0, "disputes": 2, "signoffs": 0,
                                                       "dispute_adjustments": 1}
    assert store.sync(disputes=read_disputes(csv))["dispute_adjustments"] == 0  # booked once
    assert sql(store_url, "SELECT adjustment_id, manager_id, period, amount, reason_code, source, relates_to_period, "
                          "relates_to_ref, approved_by, date FROM adjustments") == [
        ("D-D1", "M1", "2026Q4", 320.5, "DISPUTE", "dispute", Q3, "P.commission.2026-07.1", "hr", "2026-10-09")]
    assert sql(store_url, "SELECT dispute_id, status, amount FROM disputes ORDER BY 1") == [
        ("D1", "accepted", 320.5), ("D2", "open", None)]

    # flipped back to open: the adjustment goes (its period is open); accepted again: booked again
    write("D1,M1,2026Q3,P.commission.2026-07.1,2026-10-02,order 7 missing,open,,,\n")
    store.sync(disputes=read_disputes(csv))
    assert sql(store_url, "SELECT COUNT(*) FROM adjustments") == [(0,)]
    assert sql(store_url, "SELECT dispute_id, status FROM disputes ORDER BY 1") == [("D1", "open"), ("D2", "open")]
    write(accepted)
    store.sync(disputes=read_disputes(csv))
    assert _ids(store) == ["D-D1"]
    write("D1,M1,2026Q3,P.commission.2026-07.1,2026-10-02,order 7 missing,rejected,,hr,2026-10-12\n")
    store.sync(disputes=read_disputes(csv))
    assert _ids(store) == []

    # accepted, then its period (2026Q4) closed: rejecting it later leaves the closed booking alone
    write(accepted)
    store.sync(disputes=read_disputes(csv))
    store.close(make_results("2026Q4"), INPUTS, PLAN_FILES, "hr")
    assert sql(store_url, "SELECT adjustments FROM grades WHERE period = '2026Q4' AND manager_id = 'M1'") == [(320.5,)]
    write("D1,M1,2026Q3,P.commission.2026-07.1,2026-10-02,order 7 missing,rejected,,hr,2026-10-12\n")
    store.sync(disputes=read_disputes(csv))
    assert sql(store_url, "SELECT adjustment_id, period FROM adjustments") == [("D-D1", "2026Q4")]

    # a dispute of an open period is booked to that period
    csv.write_text(DISPUTE_HEADER + "D3,M2,2027Q1,P.base.2027Q1.1,2027-02-01,,accepted,-40,hr,2027-02-03\n",
                   encoding="utf-8")
    store.sync(disputes=read_disputes(csv))
    assert sql(store_url, "SELECT period, amount FROM adjustments WHERE adjustment_id = 'D-D3'") == [("2027Q1", -40.0)]


def test_sync_signoffs_upserts(store_url, tmp_path):
    store = Store(store_url)
    store.close(make_results(), INPUTS, PLAN_FILES, "hr")
    v1 = store.frame("grades", manager_id="M1")["version"].iloc[0]
    csv = tmp_path / "signoffs.csv"
    csv.write_text(f"manager_id,period,status,date,version\nM1,2026Q3,signed,2026-10-10,{v1}\n"
                   "M2,2026Q3,refused,2026-10-11,\n", encoding="utf-8")
    assert store.sync(signoffs=read_signoffs(csv))["signoffs"] == 2
    store.sync(signoffs=read_signoffs(csv))
    assert sql(store_url, "SELECT manager_id, status, date, version, source FROM signoffs ORDER BY 1") == [
        ("M1", "signed", "2026-10-10", v1, "file"), ("M2", "refused", "2026-10-11", None, "file")]
    csv.write_text(f"manager_id,period,status,date,version\nM1,2026Q3,signed,2026-10-10,{v1}\n"
                   "M2,2026Q3,signed,2026-10-12,\n", encoding="utf-8")
    store.sync(signoffs=read_signoffs(csv))
    store.signoff(Q3, "M1", "refused", "2026-10-13", v1)
    assert sql(store_url, "SELECT manager_id, status, date, source FROM signoffs ORDER BY 1") == [
        ("M1", "refused", "2026-10-13", "command"), ("M2", "signed", "2026-10-12", "file")]


# ---------------------------------------------------------------------------------- restatement

def test_restate_books_each_difference_once(store_url):
    store = Store(store_url)
    store.close(make_results(), INPUTS, PLAN_FILES, "hr")
    closed = store.results(Q3)
    into = store.next_open(Q3)

    r = restate(closed, make_results(m1_commission=3000.00 + 8000.00), store.adjustments(), into,
                ["orders.csv"], "2026-10-20")
    assert len(r.lines) == 6
    moved = r.lines[r.lines["difference"] != 0]
    assert moved[["manager_id", "ref", "closed", "now", "difference", "booked_before", "to_book"]].values.tolist() \
        == [["M1", "P.commission.2026-07.1", 3000.0, 11000.0, 8000.0, 0.0, 8000.0]]
    assert r.managers == ["M1"] and r.scores.empty
    assert r.bookings == [{
        "adjustment_id": "R-2026Q3-M1-P.commission.2026-07.1-1", "manager_id": "M1", "period": "2026Q4",
        "amount": 8000.0, "indicator": None, "credit": None, "reason_code": "RESTATEMENT",
        "reason": "2026Q3 P.commission.2026-07.1: orders.csv", "approved_by": None, "date": "2026-10-20",
        "source": "restatement", "relates_to_period": Q3, "relates_to_ref": "P.commission.2026-07.1"}]
    assert store.book(r.bookings) == 1

    again = restate(closed, make_results(m1_commission=11000.00), store.adjustments(), into, [], "2026-10-21")
    assert again.bookings == [] and again.lines["to_book"].abs().sum() == 0
    assert again.lines.loc[again.lines["difference"] != 0, "booked_before"].tolist() == [8000.0]

    more = restate(closed, make_results(m1_commission=11500.00, m1_total=85.0), store.adjustments(), into,
                   ["orders.csv"], "2026-10-22")
    assert [(b["adjustment_id"], b["amount"]) for b in more.bookings] == [("R-2026Q3-M1-P.commission.2026-07.1-2", 500.0)]
    assert more.scores[["manager_id", "closed_total", "now_total"]].values.tolist() == [["M1", 83.0, 85.0]]
    store.book(more.bookings)
    assert sql(store_url, "SELECT SUM(amount) FROM adjustments WHERE relates_to_period = '2026Q3'") == [(8500.0,)]
    assert sql(store_url, "SELECT SUM(subtotal) FROM pay_lines WHERE period = '2026Q3'") == [(17400.75,)]  # as closed


# ---------------------------------------------------------------------------------- kill -9 inside close

KILLED_CLOSE = """
import json, sys, types
import helpers.record.store as st
from helpers.record.results import read_results

def paused(seconds):  # the pause inside close's transaction: say so, then sleep in it
    print("paused", flush=True)
    __import__("time").sleep(seconds)

st.time = types.SimpleNamespace(sleep=paused)
st.Store(sys.argv[2]).close(read_results(sys.argv[1]), json.loads(sys.argv[3]), {}, "killed")
print("closed", flush=True)
"""


def _wait_for_line(proc: subprocess.Popen, expected: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            if line.strip() == expected:
                return
            if not line:
                break
    proc.kill()
    pytest.fail(f"the subprocess did not print {expected!r}: {proc.communicate(timeout=10)}")


def test_a_close_killed_in_its_transaction_leaves_the_period_open(store_url, tmp_path, monkeypatch):
    monkeypatch.delenv(PAUSE_ENV, raising=False)
    results = tmp_path / "results.json"
    results.write_text(make_results().to_json(), encoding="utf-8")
    Store(store_url).schema_version()  # the schema exists before the close starts
    proc = subprocess.Popen([sys.executable, "-c", KILLED_CLOSE, str(results), store_url, json.dumps(INPUTS)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, PAUSE_ENV: "30"})
    try:
        _wait_for_line(proc, "paused", timeout=30)
        if store_url.startswith("postgresql"):  # the results written, not committed: one transaction open
            db, seen = sa.engine.make_url(store_url).database, []
            for _ in range(20):
                seen = sql(postgres_admin_url(), "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = :db "
                                                 "AND state = 'idle in transaction'", db=db)
                if seen == [(1,)]:
                    break
                time.sleep(0.1)
            assert seen == [(1,)]
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)

    store = Store(store_url)
    assert not store.is_closed(Q3) and store.period(Q3) is None
    for table in ("periods", "pay_lines", "grades", "scores", "targets", "inputs"):
        assert sql(store_url, f"SELECT COUNT(*) FROM {table}") == [(0,)], table
    store.close(make_results(), INPUTS, PLAN_FILES, "hr")
    assert store.is_closed(Q3)
    assert sql(store_url, "SELECT COUNT(*), SUM(subtotal) FROM pay_lines") == [(6, 17400.75)]
    assert sql(store_url, "SELECT COUNT(*) FROM inputs") == [(2,)]


# ---------------------------------------------------------------------------------- a store that cannot be used

HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(60)"


def test_a_duckdb_file_held_by_another_process(tmp_path):
    path = tmp_path / "record.duckdb"
    url = f"duckdb:///{path}"
    Store(url).close(make_results(), INPUTS, PLAN_FILES, "hr")
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        _wait_for_line(proc, "ready", timeout=20)
        problems = Store(url).check()
        assert len(problems) == 1
        assert "in use by another process" in problems[0].what and f"PID {proc.pid}" in problems[0].what
        assert "Traceback" not in str(problems[0]) and len(str(problems[0]).splitlines()) == 1
        for op in (lambda s: s.is_closed(Q3), lambda s: s.close(make_results("2026Q4"), [], {}, "hr"),
                   lambda s: s.schema_version()):
            with pytest.raises(InputError) as exc:
                op(Store(url))
            assert "the results store is in use by another process" in one_line(exc.value)
            assert one_line(exc.value).startswith(str(path))
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert Store(url).check() == [] and Store(url).closed_periods() == [Q3]


def test_a_damaged_duckdb_file(tmp_path):
    path = tmp_path / "record.duckdb"
    junk = random.Random(7).randbytes(16384)
    path.write_bytes(junk)
    url = f"duckdb:///{path}"
    problems = Store(url).check()
    assert len(problems) == 1 and "not a DuckDB database or is damaged" in problems[0].what
    for op in (lambda s: s.frame("periods"), lambda s: s.close(make_results(), [], {}, "hr")):
        with pytest.raises(InputError) as exc:
            op(Store(url))
        assert "the results store is not a DuckDB database or is damaged" in one_line(exc.value)
    assert path.read_bytes() == junk  # nothing written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["record.duckdb"]


def test_an_unreachable_postgresql_server():
    url = "postgresql+psycopg://kpi:x@127.0.0.1:1/nodb"
    problems = Store(url).check()
    assert len(problems) == 1 and "the results store cannot be reached" in problems[0].what
    assert "kpi:***@127.0.0.1:1/nodb" in problems[0].source and "kpi:x@" not in str(problems[0])
    for op in (lambda s: s.is_closed(Q3), lambda s: s.book([{"adjustment_id": "a", "manager_id": "M1",
                                                              "period": "2026Q4", "amount": 1.0, "source": "x"}])):
        with pytest.raises(InputError) as exc:
            op(Store(url))
        assert "cannot be reached" in one_line(exc.value) and "kpi:x@" not in str(exc.value)


# ---------------------------------------------------------------------------------- the files HR keeps

def _where(exc: InputError) -> list[str]:
    return [p.where for p in exc.problems]


def test_bad_adjustments_give_one_problem_per_bad_cell(tmp_path):
    csv = tmp_path / "adjustments.csv"
    csv.write_text("manager_id,period,amount,reason_code,approved_by,date\n"
                   "M1,2026Q5,100,DATA_FIX,hr,2026-10-01\n"      # row 2: period
                   "M1,2026Q4,12x,DATA_FIX,hr,2026-10-01\n"      # row 3: amount
                   "M1,2026Q4,100,DATA_FIX,hr,2026-13-01\n"      # row 4: date
                   "M1,2026Q4,100,bad code,hr,2026-10-01\n"      # row 5: reason_code
                   ",2026Q4,100,DATA_FIX,hr,2026-10-02\n"        # row 6: manager_id
                   "M2,2026Q4,100,DATA_FIX,hr,2026-10-02\n",     # row 7: fine
                   encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_adjustments(csv)
    assert _where(exc.value) == ["row 2, column period", "row 3, column amount", "row 4, column date",
                                 "row 5, column reason_code", "row 6, column manager_id"]
    assert all(p.source == str(csv) and p.fix for p in exc.value.problems)
    assert str(exc.value).splitlines()[1].startswith(f"{csv}: row 3, column amount: '12x' is not a number")

    yml = tmp_path / "adjustments.yaml"
    yml.write_text("- {manager_id: M1, period: 2026Q4, indicator: visits, credit: 2x, reason_code: MISSED, "
                   "approved_by: hr, date: 2026-10-01}\n"
                   "- {manager_id: M1, period: 2026Q4, amount: 5, indicator: visits, credit: 2, reason_code: MISSED, "
                   "approved_by: hr, date: 2026-10-01}\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_adjustments(yml, indicators={"sales", "visits"})
    assert _where(exc.value) == ["entry 1, column credit", "entry 2, column amount"]


def test_a_good_yaml_adjustments_file(tmp_path):
    yml = tmp_path / "adjustments.yml"
    yml.write_text("""\
- adjustment_id: Y-1
  manager_id: M1
  period: 2026Q4
  amount: -250.5
  reason_code: DATA_CORRECTION
  reason: duplicate order
  approved_by: hr
  date: 2026-10-20
- manager_id: M2
  period: 2026-11
  indicator: visits
  credit: 3
  reason_code: MISSED_VISITS
  approved_by: hr
  date: 2026-11-02
""", encoding="utf-8")
    df = read_adjustments(yml, managers={"M1", "M2"}, indicators={"sales", "visits"})
    derived = "F-" + hashlib.sha256(b"M2|2026-11||visits|3.0|MISSED_VISITS||hr|2026-11-02").hexdigest()[:10]
    got = df[["adjustment_id", "manager_id", "period", "amount", "indicator", "credit", "date"]]
    assert got.astype(object).where(got.notna(), None).values.tolist() == [
        ["Y-1", "M1", "2026Q4", -250.5, None, None, "2026-10-20"],
        [derived, "M2", "2026-11", None, "visits", 3.0, "2026-11-02"]]
    assert df.loc[0, "reason"] == "duplicate order" and df.loc[1, "reason_code"] == "MISSED_VISITS"
    assert list(df["_row"]) == ["entry 1", "entry 2"] and df.attrs["file"] == str(yml)
    assert list(read_adjustments(yml)["adjustment_id"]) == ["Y-1", derived]  # the same id on every read


def test_bad_disputes_and_signoffs_give_one_problem_per_bad_cell(tmp_path):
    csv = tmp_path / "disputes.csv"
    csv.write_text(DISPUTE_HEADER +
                   "D1,M1,2026Q3,P.base.2026Q3.1,2026-10-02,,maybe,,,\n"                 # row 2: status
                   "D2,M1,2026Q3,X.bad,2026-10-02,,open,,,\n"                            # row 3: line_ref
                   "D3,M1,2026Q3,P.base.2026Q3.1,02/10/2026,,open,,,\n"                  # row 4: raised_on
                   "D4,M1,2026Q3,P.base.2026Q3.1,2026-10-02,,accepted,,hr,2026-10-09\n"  # row 5: amount
                   "D5,M1,2026Q3,P.base.2026Q3.1,2026-10-02,,rejected,,,2026-10-09\n"    # row 6: decided_by
                   "D6,M1,2026Q3,I.sales,2026-10-02,,open,,,\n",                         # row 7: fine
                   encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_disputes(csv)
    assert _where(exc.value) == ["row 2, column status", "row 3, column line_ref", "row 4, column raised_on",
                                 "row 5, column amount", "row 6, column decided_by"]
    assert all(p.source == str(csv) for p in exc.value.problems)

    signoffs = tmp_path / "signoffs.csv"
    signoffs.write_text("manager_id,period,status,date,version\n"
                        "M1,2026Q3,ok,2026-10-10,\n"               # row 2: status
                        "M2,2026Q3,signed,2026-10-10,xyz\n"        # row 3: version
                        "M3,Q3,signed,2026-10-10,\n"               # row 4: period
                        "M1,2026Q4,signed,2026-10-10,\n"           # row 5: fine
                        "M1,2026Q4,refused,2026-10-11,\n",         # row 6: a second sign-off
                        encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_signoffs(signoffs)
    assert _where(exc.value) == ["row 2, column status", "row 3, column version", "row 4, column period",
                                 "row 6, column manager_id"]
    assert "row 5" in exc.value.problems[-1].what
