"""The period life cycle on the demo, end to end through the command line: run → close →
change an order → run again (restatement, prior-period adjustment) → the next period's
statement carries it, with a manual adjustment, an indicator credit and an accepted
dispute → close refused while a dispute is open → sign-off → history.

Expected figures come from the data and the plan, not from the workbook's output: the
commission difference of a 100,000 change of an order above target is the plan's top
tier rate × 100,000; a credit adds exactly its amount to the sales summed from the
orders; the closed pay equals the published scorecards' payout."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from conftest import ROOT, run_cli
from helpers.plan.params import RunParams
from helpers.record.results import ref_code

pytestmark = pytest.mark.slow

TEAMS = 6


def _params(folder: Path, data: Path) -> Path:
    params = yaml.safe_load((ROOT / "params" / "demo.yaml").read_text(encoding="utf-8"))
    params["data"].update(folder=str(data), demo=False)
    params["notebook_folder"] = str(ROOT / "notebooks")
    params["notebooks"] = ["04_quarterly_review"]
    defaults = RunParams.model_validate({"data": {"folder": "x"}})
    for key in ("indicators", "strategy", "alternative_strategy", "weights", "targets", "incentives", "scoring"):
        value = params.get(key, getattr(defaults, key))
        if value:
            params[key] = str(ROOT / "params" / value)
    params["record"] = {"adjustments": str(folder / "adjustments.csv"), "disputes": str(folder / "disputes.csv")}
    p = folder / "params" / "life.yaml"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


def _bump(data: Path, manager: str, start: str, end: str, by: float = 100000.0) -> str:
    """Add ``by`` to the amount of ``manager``'s first order dated in [start, end); returns its id."""
    o = pd.read_csv(data / "orders.csv", dtype=str, keep_default_na=False)
    i = o[(o["manager_id"] == manager) & (o["date"] >= start) & (o["date"] < end)].index[0]
    o.loc[i, "amount"] = f"{float(o.loc[i, 'amount']) + by:.2f}"
    o.to_csv(data / "orders.csv", index=False)
    return str(o.loc[i, "order_id"])


def _visible(html: str) -> str:
    """A page's text as a reader sees it (tags, including <wbr> break hints, removed)."""
    import html as html_mod

    body = re.sub(r"<(style|script)[^>]*>.*?</\1>", "", html, flags=re.S)
    return html_mod.unescape(re.sub(r"<[^>]+>", "", body))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sql(db: Path, q: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as c:
        return c.sql(q).fetchall()


def _top_rate() -> float:
    plan = yaml.safe_load((ROOT / "params" / "incentives.yaml").read_text(encoding="utf-8"))
    top = plan["commission"]["tiers"][-1]
    assert top["upto"] is None and top["from"] <= 1.0
    return float(top["rate"])


@pytest.fixture(scope="module")
def life(tmp_path_factory, demo_dir):
    """Runs the whole life cycle once; the tests read what each step left."""
    base = tmp_path_factory.mktemp("life")
    data = base / "data"
    shutil.copytree(demo_dir, data)
    params = _params(base, data)
    (base / "adjustments.csv").write_text("manager_id,period,amount,indicator,credit,reason_code,reason,approved_by,date\n",
                                          encoding="utf-8")
    (base / "disputes.csv").write_text("dispute_id,manager_id,period,line_ref,raised_on,text,status,amount,decided_by,"
                                       "decided_on\n", encoding="utf-8")
    out = base / "reports"
    db = out / "record.duckdb"
    steps: dict[str, object] = {"base": base, "data": data, "params": params, "out": out, "db": db}

    def cli(*args: str):
        return run_cli(*args, "--params", str(params), "--out", str(out))

    steps["run_q2"] = run_cli("run", str(params), "--period", "2026Q2", "--out", str(out), "--no-progress")
    steps["close_q2"] = cli("close", "2026Q2")
    q2 = out / "2026Q2"
    steps["q2_files"] = {p.relative_to(q2).as_posix(): _sha(p) for p in q2.rglob("*") if p.is_file()
                         and p.name != "index.html"}
    steps["closed_q2_sum"] = _sql(db, "SELECT SUM(subtotal) FROM pay_lines WHERE period = '2026Q2'")[0][0]
    steps["rerun_same"] = run_cli("run", str(params), "--period", "2026Q2", "--out", str(out), "--no-progress")
    steps["adj_after_same"] = _sql(db, "SELECT COUNT(*) FROM adjustments")[0][0]
    steps["order_q2"] = _bump(data, "M001", "2026-04-01", "2026-07-01")
    steps["restate_q2"] = run_cli("run", str(params), "--period", "2026Q2", "--out", str(out), "--no-progress")
    steps["restate_q2_again"] = run_cli("run", str(params), "--period", "2026Q2", "--out", str(out), "--no-progress")
    (base / "adjustments.csv").write_text(
        "manager_id,period,amount,indicator,credit,reason_code,reason,approved_by,date\n"
        "M001,2026Q3,-300,,,TRAVEL_ADVANCE,差旅借款扣回,王芳,2026-10-12\n"
        "M007,2026Q3,,sales,50000,MISATTRIBUTED_ORDER,订单误记在他人名下,王芳,2026-10-12\n", encoding="utf-8")
    (base / "disputes.csv").write_text(
        "dispute_id,manager_id,period,line_ref,raised_on,text,status,amount,decided_by,decided_on\n"
        # D001 quotes the code printed on the closed 2026Q2 statement (as typed: lower case), D002 the reference
        f"D001,M001,2026Q2,{ref_code('P.satisfaction_bonus.2026Q2.1').lower()},2026-07-10,问卷漏记,accepted,500,李强,"
        "2026-07-20\n"
        "D002,M007,2026Q3,I.csat,2026-10-20,满意度样本有误,open,,,\n", encoding="utf-8")
    steps["run_q3"] = run_cli("run", str(params), "--period", "2026Q3", "--out", str(out), "--no-progress")
    steps["close_q3_refused"] = cli("close", "2026Q3")
    text = (base / "disputes.csv").read_text(encoding="utf-8")
    (base / "disputes.csv").write_text(text.replace("D002,M007,2026Q3,I.csat,2026-10-20,满意度样本有误,open,,,",
                                                    "D002,M007,2026Q3,I.csat,2026-10-20,满意度样本有误,rejected,,李强,2026-10-25"),
                                       encoding="utf-8")
    steps["close_q3"] = cli("close", "2026Q3")
    steps["signoff"] = cli("signoff", "2026Q3", "M001", "--date", "2026-10-28")
    steps["order_q3"] = _bump(data, "M001", "2026-07-01", "2026-10-01")
    steps["restate_q3"] = run_cli("run", str(params), "--period", "2026Q3", "--out", str(out), "--no-progress")
    steps["history"] = cli("history", "M001")
    return steps


def test_close_freezes_what_was_published(life):
    assert life["run_q2"].returncode == 0, life["run_q2"].stderr[-2000:]
    assert life["close_q2"].returncode == 0, life["close_q2"].stderr
    q2 = life["out"] / "2026Q2"
    published = pd.concat([pd.read_csv(f) for f in sorted(q2.glob("*/scorecard.csv"))])
    assert len(published) > 0 and published["team_id"].nunique() == TEAMS
    db = life["db"]
    (status, managers, pay_total), = _sql(db, "SELECT status, managers, pay_total FROM periods WHERE period='2026Q2'")
    assert status == "closed" and managers == len(published)
    assert pay_total == pytest.approx(published["payout"].sum(), abs=0.01)  # no adjustments were booked to Q2
    assert life["closed_q2_sum"] == pytest.approx(published["payout"].sum(), abs=0.01)
    # scores as published: M001's total in the store is the one in the CSV
    m001 = published.set_index("manager_id").loc["M001"]
    (total, grade), = _sql(db, "SELECT total, grade FROM grades WHERE period='2026Q2' AND manager_id='M001'")
    assert total == pytest.approx(m001["total"]) and grade == m001["grade"]


def test_rerun_of_a_closed_period_with_the_same_data_books_nothing(life):
    r = life["rerun_same"]
    assert r.returncode == 0, r.stderr
    assert "its reports were not rewritten" in r.stdout and "nothing to book" in r.stdout
    assert life["adj_after_same"] == 0


def test_restatement_lists_exactly_the_changed_managers_difference(life):
    r = life["restate_q2"]
    assert r.returncode == 0, r.stderr
    db = life["db"]
    # the closed figures did not move, and neither did the published reports
    assert _sql(db, "SELECT SUM(subtotal) FROM pay_lines WHERE period='2026Q2'")[0][0] == life["closed_q2_sum"]
    q2 = life["out"] / "2026Q2"
    now = {p.relative_to(q2).as_posix(): _sha(p) for p in q2.rglob("*") if p.is_file() and p.name != "index.html"
           and "restatements" not in p.parts}
    assert now == life["q2_files"]
    (att,), = _sql(db, "SELECT attainment FROM scores WHERE period='2026Q2' AND manager_id='M001' AND indicator='sales'")
    assert att >= 1.0  # M001 was above target: the extra 100,000 falls in the top tier
    expected = round(_top_rate() * 100000, 2)
    csvs = sorted((q2 / "restatements").glob("restatement-*.csv"))
    lines = pd.read_csv(csvs[-2])  # the first restatement after the change (the last is the repeat)
    moved = lines[lines["difference"].abs() >= 0.005]
    assert list(moved["manager_id"]) == ["M001"]
    assert list(moved["ref"]) == ["P.commission.2026Q2.3"]
    assert moved["difference"].iloc[0] == pytest.approx(expected)
    rows = _sql(db, "SELECT adjustment_id, manager_id, period, amount, reason_code, relates_to_period, relates_to_ref "
                    "FROM adjustments WHERE source='restatement' AND relates_to_period='2026Q2'")
    assert rows == [("R-2026Q2-M001-P.commission.2026Q2.3-1", "M001", "2026Q3", pytest.approx(expected), "RESTATEMENT",
                     "2026Q2", "P.commission.2026Q2.3")]
    html = (csvs[-2].with_suffix(".html")).read_text(encoding="utf-8")
    assert ref_code("P.commission.2026Q2.3") in html and f"{expected:,.2f}" in html and "data/orders" in html


def test_a_second_run_books_nothing_twice(life):
    r = life["restate_q2_again"]
    assert r.returncode == 0 and "nothing new booked" in r.stdout
    assert _sql(life["db"], "SELECT COUNT(*) FROM adjustments WHERE source='restatement' "
                            "AND relates_to_period='2026Q2'")[0][0] == 1


def test_next_period_statement_carries_the_adjustments(life):
    r = life["run_q3"]
    assert r.returncode == 0, r.stderr[-2000:]
    east1 = life["out"] / "2026Q3" / "east-1"
    card = pd.read_csv(east1 / "scorecard.csv").set_index("manager_id")
    restated = round(_top_rate() * 100000, 2)
    assert card.at["M001", "adjustments"] == pytest.approx(restated + 500 - 300)
    assert card.at["M001", "pay_total"] == pytest.approx(card.at["M001", "payout"] + restated + 200)
    html = _visible((east1 / "statement_M001.html").read_text(encoding="utf-8"))
    for ref in (ref_code("A.R-2026Q2-M001-P.commission.2026Q2.3-1"), ref_code("A.D-D001"), "TRAVEL_ADVANCE", "王芳",
                "李强"):
        assert ref in html
    assert f"{card.at['M001', 'pay_total']:,.2f}" in html
    # only M001's figures: no teammate's name in M001's statement
    assert "M007" not in html and card.at["M007", "name"] not in html
    # the team report does not list teammates' pay (record.teammates_pay: false)
    team = (east1 / "04_quarterly_review.html").read_text(encoding="utf-8")
    assert "statement_M001.html" in team and f"{card.at['M001', 'pay_total']:,.0f}" not in team


def test_history_reads_the_closed_period_not_todays_data(life):
    """After 2026Q2 was closed, an order of it changed; 2026Q3's review compares with
    2026Q2 as closed (the sales in the record), not with the changed data, and says so."""
    team = _visible((life["out"] / "2026Q3" / "east-1" / "04_quarterly_review.html").read_text(encoding="utf-8"))
    (closed_sales,), = _sql(life["db"], "SELECT actual FROM scores WHERE period='2026Q2' AND manager_id='M001' "
                                        "AND indicator='sales'")
    o = pd.read_csv(life["data"] / "orders.csv", parse_dates=["date"])
    today = o[(o["date"] >= "2026-04-01") & (o["date"] < "2026-07-01") & (o["manager_id"] == "M001")]["amount"].sum()
    assert today == pytest.approx(closed_sales + 100000, abs=0.01)  # the data moved after the close
    assert f"上期 {closed_sales:,.0f}" in team and f"上期 {today:,.0f}" not in team
    assert "趋势图中已结账的期间（2026Q2）取结账时的数字" in team


def test_indicator_credit_moves_the_actual(life):
    east1 = life["out"] / "2026Q3" / "east-1"
    card = pd.read_csv(east1 / "scorecard.csv").set_index("manager_id")
    o = pd.read_csv(life["data"] / "orders.csv", parse_dates=["date"])
    q3 = o[(o["date"] >= "2026-07-01") & (o["date"] < "2026-10-01") & (o["manager_id"] == "M007")]
    assert card.at["M007", "sales_actual"] == pytest.approx(q3["amount"].sum() + 50000, abs=0.01)


def test_close_refuses_an_open_dispute_then_closes(life):
    r = life["close_q3_refused"]
    assert r.returncode == 2 and "D002" in r.stderr and "Traceback" not in r.stderr
    assert life["close_q3"].returncode == 0, life["close_q3"].stderr
    db = life["db"]
    assert _sql(db, "SELECT status FROM periods WHERE period='2026Q3'") == [("closed",)]
    (adj, payout, pay_total), = _sql(db, "SELECT adjustments, payout, pay_total FROM grades "
                                         "WHERE period='2026Q3' AND manager_id='M001'")
    assert adj == pytest.approx(round(_top_rate() * 100000, 2) + 200) and pay_total == pytest.approx(payout + adj)


def test_signoff_is_recorded_and_shown(life):
    r = life["signoff"]
    assert r.returncode == 0, r.stderr
    db = life["db"]
    (status, when, version), = _sql(db, "SELECT status, date, version FROM signoffs WHERE period='2026Q3' "
                                        "AND manager_id='M001'")
    closed_version = _sql(db, "SELECT version FROM grades WHERE period='2026Q3' AND manager_id='M001'")[0][0]
    assert (status, when, version) == ("signed", "2026-10-28", closed_version)
    index = (life["out"] / "2026Q3" / "index.html").read_text(encoding="utf-8")
    assert "1/8 人已签字" in index


def test_closed_q3_restated_into_q4_and_history(life):
    r = life["restate_q3"]
    assert r.returncode == 0, r.stderr
    assert "(M001)" in r.stdout and "2026Q4" in r.stdout
    expected = round(_top_rate() * 100000, 2)
    rows = _sql(life["db"], "SELECT manager_id, period, amount FROM adjustments WHERE relates_to_period='2026Q3'")
    assert rows == [("M001", "2026Q4", pytest.approx(expected))]
    h = life["history"]
    assert h.returncode == 0, h.stderr
    text = h.stdout
    assert re.search(r"2026Q2\s+closed\s+east-1", text) and re.search(r"2026Q3\s+closed\s+east-1", text)
    assert re.search(r"2026Q4\s+open", text)
    assert "signed 2026-10-28" in text
    for s in ("R-2026Q2-M001-P.commission.2026Q2.3-1", "D-D001", "TRAVEL_ADVANCE", "R-2026Q3-M001-P.commission.2026Q3.3-1",
              f"D001 about {ref_code('P.satisfaction_bonus.2026Q2.1')}"):
        assert s in text
