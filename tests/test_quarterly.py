"""Notebook 04's integration (helpers.notebooks.quarterly): scores, grades, ranks, pay, exports, checks."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers.core import incentives as inc
from helpers.context import scores as CSC
from helpers.context.workbook import save_xlsx
from helpers.core import scorecard as SC
from helpers.notebooks import quarterly as Q
from helpers.present.pay import worded
from helpers.plan import scoring as PS
from helpers.core.attainment import NO_DATA
from helpers.errors import InputError
from helpers.kpis.indicators import load_library
from helpers.plan.params import load_params
from helpers.record.results import ref_code
from helpers.present.display import half_up

from conftest import ROOT, SEED_PLAN, cjk_text, demo_words, run_cli

LIB = load_library(ROOT / "params" / "indicators.yaml")


# ------------------------------------------------------------------ scores, grades, ranks by hand


def _hand_case() -> dict:
    ids = pd.Index(["A", "B", "E", "C", "D"], name="manager_id")
    values = pd.DataFrame({"sales": [110, 90, 90, 70, np.nan], "complaint_rate": [0.04, 0.05, 0.05, 0.10, np.nan]},
                          index=ids)
    targets = pd.DataFrame({"sales": [100.0] * 5, "complaint_rate": [0.05] * 5}, index=ids)
    soft = pd.DataFrame({"attitude": [80, 90, 90, 100, np.nan]}, index=ids)
    weights = pd.Series({"sales": 0.6, "complaint_rate": 0.4})
    return dict(values=values, targets=targets, soft=soft, library=LIB, weights=weights)


def test_scores_grades_and_ranks_by_hand():
    plan = PS.ScoringPlan(split=0.7, soft={"indicators": ["attitude"]})
    res = SC.score_table(plan=plan, **_hand_case())
    att, sc, s = res["attainment"], res["score"], res["summary"]
    # attainment: sales actual/target; complaint rate (lower is better) target/actual
    assert att.loc["A", "sales"] == pytest.approx(1.1)
    assert att.loc["A", "complaint_rate"] == pytest.approx(1.25)      # 0.05 / 0.04
    assert att.loc["C", "complaint_rate"] == pytest.approx(0.5)       # 0.05 / 0.10
    # curve 80/100/120 % → 60/100/120, 0 below 80 %
    assert sc.loc["A", "sales"] == pytest.approx(110)                 # 100 + (1.1-1.0)/0.2 × 20
    assert sc.loc["A", "complaint_rate"] == pytest.approx(120)        # above the cap
    assert sc.loc["B", "sales"] == pytest.approx(80)                  # 60 + (0.9-0.8)/0.2 × 40
    assert sc.loc["C", "sales"] == 0 and sc.loc["C", "complaint_rate"] == 0
    # hard = 0.6·sales + 0.4·complaints; total = 0.7·hard + 0.3·soft
    assert s.loc["A", "hard"] == pytest.approx(114)                   # 66 + 48
    assert s.loc["A", "total"] == pytest.approx(103.8)                # 79.8 + 24
    assert s.loc["B", "hard"] == pytest.approx(88)                    # 48 + 40
    assert s.loc["B", "total"] == pytest.approx(88.6)                 # 61.6 + 27
    assert s.loc["C", "total"] == pytest.approx(30)                   # 0 + 30
    # no data: never 0
    assert math.isnan(s.loc["D", "total"]) and s.loc["D", "grade"] == NO_DATA and s["rank"].isna()["D"]
    # ranks: B and E tie → 1, 2, 2, 4
    assert list(s["rank"].loc[["A", "B", "E", "C"]]) == [1, 2, 2, 4]
    # forced 20/70/10 over the 4 managers with data: raw 0.8/2.8/0.4 → floors 0/2/0, the two seats
    # left go to the largest remainders .8 (A) and .8 (B) → quotas A 1, B 3, C 0
    assert list(s["grade"].loc[["A", "B", "E", "C", "D"]]) == ["A", "B", "B", "B", NO_DATA]


def test_absolute_bands_and_tie_straddling_a_quota():
    plan = PS.ScoringPlan(split=0.7, soft={"indicators": ["attitude"]}, grades={"method": "absolute"})
    s = SC.score_table(plan=plan, **_hand_case())["summary"]
    # S ≥ 110, A ≥ 100, B ≥ 85, C ≥ 70, D below
    assert list(s["grade"]) == ["A", "B", "B", "D", NO_DATA]
    # forced 50/50 over 4: A quota 2; the B/E tie occupies positions 2–3 → both get A (better grade),
    # and C is left with B
    plan = PS.ScoringPlan(split=0.7, soft={"indicators": ["attitude"]},
                         grades={"distribution": {"A": 0.5, "B": 0.5}})
    s = SC.score_table(plan=plan, **_hand_case())["summary"]
    assert list(s["grade"].loc[["A", "B", "E", "C"]]) == ["A", "A", "A", "B"]


def test_step_table_curve_and_min_weight():
    plan = PS.ScoringPlan(split=1.0, curves={"sales": {"bands": [[0.8, 60], [1.0, 100], [1.2, 120]]}},
                         min_weight_available=0.7)
    case = _hand_case()
    case["values"].loc["E", "complaint_rate"] = np.nan  # E: only sales (60 % of the weight) → below 70 %
    s = SC.score_table(plan=plan, **case)["summary"]
    # A: sales 110 % → band 1.0 → 100; complaints 120 → 0.6·100 + 0.4·120 = 108
    assert s.loc["A", "total"] == pytest.approx(108)
    assert math.isnan(s.loc["E", "total"]) and s.loc["E", "weight_available"] == pytest.approx(0.6)


# ------------------------------------------------------------------ pay: months summed, by hand


def test_pay_is_the_sum_of_the_months_by_hand():
    # the seed's amounts: 3 % to 100k, 5 % above; gate 60 %; settled month by month
    plan = inc.plan_from_dict({**SEED_PLAN, "gates": {"min_sales_attainment_for_commission": 0.6},
                               "caps": {"max_multiple_of_base_pay": 3.0}})
    base = dict(manager_id="M1", monthly_base_pay=20000.0, months_in_period=1.0, total_score=90.0,
                active_fraction=1.0)
    pin = pd.DataFrame([
        dict(base, month="2026-07", sales=150000.0, sales_target=120000.0, sales_attainment=1.25, new_customers=2,
             large_first_orders=1, csat=0.9, key_customers_lost=0, complaints_resolved=1, complaints_escalated=1),
        dict(base, month="2026-08", sales=50000.0, sales_target=100000.0, sales_attainment=0.5, new_customers=0,
             large_first_orders=0, csat=0.8, key_customers_lost=1, complaints_resolved=0, complaints_escalated=0),
    ], index=["M1 2026-07", "M1 2026-08"])
    totals, statements, wi = SC.manager_pay(plan, pin, [0.8, 1.0, 1.2])
    # July: 3 %·100,000 + 5 %·50,000 = 5,500; +2·500 new; +1,000 large first order; +1,000 CSAT ≥ 85 %;
    #       +200 resolved; −300 escalated → 8,400
    # August: attainment 50 % < 60 % gate → no commission; −10 %·20,000 key customer lost = −2,000;
    #         floored at 0 → 0
    assert totals["M1"] == pytest.approx(8400)
    st = worded(statements["M1"], "en")  # the core's statement holds phrases; the report words them
    assert st.total == pytest.approx(8400) and st.lines["subtotal"].sum() == pytest.approx(8400)
    assert set(st.lines["month"]) == {"2026-07", "2026-08"}
    assert st.lines["item"].str.startswith("2026-0").all()
    # what-if at 100 %: July sales 120,000 → 3,000 + 1,000 = 4,000 commission → 6,900;
    # August 100,000 → 3,000 − 2,000 = 1,000 → 7,900
    assert wi["M1"].loc[1.0, "total"] == pytest.approx(7900)


# ------------------------------------------------------------------ check()


def _params_copy(tmp_path: Path) -> Path:
    for name in ("indicators.yaml", "targets.yaml", "incentives.yaml", "scoring.yaml", "rubric.yaml"):
        shutil.copy(ROOT / "params" / name, tmp_path / name)
    shutil.copytree(ROOT / "params" / "weights", tmp_path / "weights")
    shutil.copytree(ROOT / "params" / "strategies", tmp_path / "strategies")
    raw = yaml.safe_load((ROOT / "params" / "demo.yaml").read_text(encoding="utf-8"))
    raw["data"] = {"folder": str(tmp_path / "data")}
    p = tmp_path / "run.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return p


def test_check_passes_on_the_repo_params():
    p = ROOT / "params" / "demo.yaml"
    assert CSC.check_scoring(load_params(p), p) == []


def test_check_names_file_and_entry(tmp_path):
    p = _params_copy(tmp_path)
    sc = yaml.safe_load((tmp_path / "scoring.yaml").read_text(encoding="utf-8"))
    tp = yaml.safe_load((tmp_path / "targets.yaml").read_text(encoding="utf-8"))
    del tp["indicators"]["profit"]                       # profit has no target any more
    (tmp_path / "targets.yaml").write_text(yaml.safe_dump(tp, allow_unicode=True), encoding="utf-8")
    sc["soft"]["indicators"].append("atitude")           # misspelt
    (tmp_path / "scoring.yaml").write_text(yaml.safe_dump(sc, allow_unicode=True), encoding="utf-8")
    w = yaml.safe_load((tmp_path / "weights" / "current.yaml").read_text(encoding="utf-8"))
    w["weights"]["salez"] = w["weights"].pop("sales")    # unknown indicator in the scheme
    (tmp_path / "weights" / "current.yaml").write_text(yaml.safe_dump(w, allow_unicode=True), encoding="utf-8")
    ip = yaml.safe_load((tmp_path / "incentives.yaml").read_text(encoding="utf-8"))
    ip["commission"]["tiers"][1]["from"] = 90000          # overlaps the first tier (upto 100,000)
    (tmp_path / "incentives.yaml").write_text(yaml.safe_dump(ip, allow_unicode=True), encoding="utf-8")
    problems = CSC.check_scoring(load_params(p), p)
    text = "\n".join(str(x) for x in problems)
    assert "no target for indicator 'profit'" in text and "fallback_targets.profit" in text
    assert "unknown indicator 'atitude'" in text and "attitude" in text
    assert "salez" in text and "current.yaml" in text
    assert "incentives.yaml" in text and "tiers[1]" in text
    assert any(x.source.endswith("scoring.yaml") for x in problems)


def test_unknown_key_in_scoring_plan(tmp_path):
    f = tmp_path / "scoring.yaml"
    f.write_text("split: 0.7\nsplt: 0.3\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        PS.load_scoring_plan(f)
    assert "splt" in str(e.value) and "scoring.yaml" in str(e.value)


# ------------------------------------------------------------------ one demo team: no data, exports


@pytest.fixture(scope="module")
def east1_missing(demo_params, tmp_path_factory):
    """east-1 for 2026Q3 with one manager's data for the quarter removed (a "no data" case)."""
    from helpers.context.workbook import open_team

    out = tmp_path_factory.mktemp("q04")
    ctx = open_team(demo_params, "east-1", output_dir=out)
    gone = ctx.manager_ids[1]
    ctx.actuals = ctx.actuals[~((ctx.actuals["manager_id"] == gone) & (ctx.actuals["period"] == "2026Q3"))]
    q = Q.build(ctx, demo_params, "", with_review=False)
    Q.save(q)
    return q, gone, out


def test_manager_without_data_is_no_data_not_zero(east1_missing):
    q, gone, _ = east1_missing
    r = q.summary.loc[gone]
    assert r["status"] == NO_DATA and r["grade"] == NO_DATA
    assert math.isnan(r["total"]) and math.isnan(r["payout"]) and pd.isna(r["rank_company"])
    assert gone not in q.statements
    others = q.summary.drop(gone)
    assert others["total"].notna().all() and (others["payout"] > 0).all()
    assert q.summary["rank"].dropna().max() == len(others)
    html = Q.summary_table(q).to_html()
    assert "无数据" in html
    assert Q.signoff_html(q).count("kpi-page") == len(q.summary)


def test_each_trend_chart_is_the_managers_own_and_the_same_as_one_drawn_anew(east1_missing, monkeypatch):
    """The team's trend charts are one figure drawn again per manager: each chart shows the
    manager's own actuals (read here from the context's table) on a scale that holds the
    manager's line and the median's, and its PNG is byte for byte the one a figure built
    for that manager alone gives, also after a manager whose quarter has no data (a gap in
    the line).  Only the changing parts are drawn again for each manager
    (plotting.Redrawn): each picture is also byte for byte the whole figure drawn anew."""
    from helpers.present import plotting
    from helpers.present.png import figure_png

    plotting.setup()  # the report's style and CJK font, as the notebook sets them
    q, gone, _ = east1_missing
    others = [m for m in q.summary.index if m != gone]
    order = [others[0], gone, *others[1:]]
    shown: list[bytes] = []
    monkeypatch.setattr("IPython.display.display", lambda obj, *a, **k: shown.append(obj.data))
    shared = Q.TrendChart(q)
    a = q.ctx.actuals
    try:
        for m in order:
            shared.show(m)
            assert figure_png(shared.fig) == shown[-1], m  # the whole figure, drawn anew
            for ax, line, i in zip(shared.axes, shared.lines, shared.ids):
                ind = q.library[i]
                own = a[(a["manager_id"] == m) & (a["kpi"] == ind.kpi) & (a["segment"] == ind.segment)]
                expected = own.set_index("period")["value"].reindex(shared.periods).to_numpy(dtype=float)
                np.testing.assert_array_equal(np.asarray(line.get_ydata(), dtype=float), expected)
                drawn = np.concatenate([np.asarray(ln.get_ydata(), dtype=float) for ln in ax.lines])
                lo, hi = ax.get_ylim()  # the panel's scale holds both lines: nothing is cut off
                assert lo <= np.nanmin(drawn) and np.nanmax(drawn) <= hi, (m, i)
            if m == gone:
                assert np.isnan(shared.lines[0].get_ydata()[-1])  # the quarter without data is a gap
    finally:
        shared.close()
    assert len(shown) == len(order) and len(set(shown)) == len(order)  # one chart each, no two alike
    for m, png in zip(order, list(shown)):
        fresh = Q.TrendChart(q)
        try:
            fresh.show(m)
        finally:
            fresh.close()
        assert shown[-1] == png, m


def test_signoff_page_shows_what_is_signed(east1_missing):
    """Each sign-off page carries what is signed: every indicator by its stable reference with
    its points, and from them the hard score, the soft score, the split of the plan
    (params/scoring.yaml, read here) and the total, recomputed from the page alone to the
    printed precision; the statement version the signature refers to.  The team report keeps
    each manager's pay private (record.teammates_pay: false): the page names the manager's own
    statement instead of listing pay lines."""
    import re

    from test_statement import _cells, _recompute_scores, visible

    q, gone, _ = east1_missing
    split = yaml.safe_load((ROOT / "params" / "scoring.yaml").read_text(encoding="utf-8"))["split"]
    pages = Q.signoff_html(q).split("<div class='kpi-page kpi-signoff'")[1:]
    assert len(pages) == len(q.summary)
    for m, page in zip(q.summary.index, pages):
        # the statement version the signature refers to: the same as in the manager's own statement
        assert re.search(r"确认单版本</th><td[^>]*>([0-9a-f]{12})</td>", page).group(1) == Q.statement_version(q, m)
        if m == gone:  # no data: no indicator table, nothing to sign but the status
            assert "st-scorecard" not in page and "无数据" in page
            continue
        card = [r for r in _cells(page, "st-scorecard")[1:] if len(r) == 7]  # not the note rows
        assert [r[0] for r in card] == [ref_code(f"I.{i}") for i in q.weights.index]  # each line's printed code
        assert [r[1] for r in card] == [q.name(i) for i in q.weights.index]
        hard, soft, total = _recompute_scores(page, split)
        assert total == float(half_up(q.summary.at[m, "total"], 1))
        text = visible(page)
        # the pay is on the manager's own statement, named with the version the signature refers to
        assert "个人考核与薪酬确认单（版本 " + Q.statement_version(q, m) in text and "st-pay" not in page
        assert f"{q.summary.at[m, 'pay_total']:,.2f}" not in text


def test_scorecard_xlsx_equals_csv(east1_missing):
    import openpyxl

    q, gone, out = east1_missing
    csv = pd.read_csv(out / "scorecard.csv")
    wb = openpyxl.load_workbook(out / "scorecard.xlsx", read_only=True)
    assert wb.sheetnames == ["工资表", "考核明细", "薪酬明细", "说明"]  # the demo books no adjustment
    xl = pd.read_excel(out / "scorecard.xlsx", sheet_name=None, engine="openpyxl")
    sc, lines = xl["考核明细"], xl["薪酬明细"]
    assert list(sc["工号"]) == list(csv["manager_id"]) == list(q.summary.index)
    sales = q.name("sales")
    for col, head in (("total", "总分"), ("hard", "业绩考核得分"), ("soft", "市场考核得分"),
                      ("sales_actual", f"{sales}·实际值"), ("sales_rows", f"{sales}·数据行数")):
        np.testing.assert_allclose(sc[head].to_numpy(dtype=float), csv[col].to_numpy(dtype=float), rtol=1e-9)
    # the amounts to pay are the CSV's to the fen
    np.testing.assert_allclose(sc["绩效工资"].to_numpy(dtype=float), csv["payout"].to_numpy(dtype=float), atol=0.005)
    # the pay lines (with any rounding difference) add up to each manager's payout
    by = lines.groupby("工号")["金额"].sum()
    np.testing.assert_allclose(by.reindex(csv["manager_id"].dropna()).fillna(np.nan).dropna().to_numpy(),
                               csv.set_index("manager_id")["payout"].dropna().to_numpy(), atol=0.005)
    assert csv.loc[csv["manager_id"] == gone, "status"].item() == NO_DATA
    # the audit trail: data rows behind each figure; targets and scores per indicator
    assert (csv.loc[csv["manager_id"] != gone, "sales_rows"] > 0).all()
    assert {"profit_target", "csat_attainment", "visits_score", "attitude_rating"} <= set(csv.columns)
    assert not list(out.glob(".*tmp*"))  # atomic write left no temp file


def test_save_xlsx_without_output_dir_is_a_no_op():
    assert save_xlsx(None, {"x": pd.DataFrame({"a": [1]})}, "scorecard") is None
    with pytest.raises(ValueError):
        save_xlsx(Path("/tmp"), {"x": pd.DataFrame()}, "../evil")


# ------------------------------------------------------------------ the notebook, quarterly and monthly


@pytest.mark.slow
def test_notebook_renders_quarterly_and_monthly(demo_params, demo_dir, demo_run, tmp_path):
    """The quarter: east-1's review in the session's demo run (conftest.demo_run); the
    month, in English: a run of 04 for east-1 alone."""
    raw = yaml.safe_load(Path(demo_params).read_text(encoding="utf-8"))
    raw["notebooks"] = ["04_quarterly_review"]
    params = tmp_path / "run.yaml"
    params.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    month = run_cli("run", str(params), "--out", str(tmp_path / "m"), "--team", "east-1", "--no-progress",
                    "--period", "2026-09", "--language", "en")
    quarter, quarter_dir = demo_run
    managers = pd.read_csv(demo_dir / "managers.csv")
    for proc, folder, period, word in ((quarter, quarter_dir / "east-1", "2026Q3", "签字确认"),
                                       (month, tmp_path / "m" / "2026-09" / "east-1", "2026-09", "Sign-off")):
        assert proc.returncode == 0, proc.stderr + proc.stdout
        html = (folder / "04_quarterly_review.html").read_text(encoding="utf-8")
        assert "Traceback" not in html and word in html
        csv = pd.read_csv(folder / "scorecard.csv")
        assert (folder / "scorecard.xlsx").is_file()
        assert (csv["period"] == period).all()
        assert html.count("kpi-page kpi-signoff") == len(csv)
        others = managers.loc[~managers["manager_id"].isin(csv["manager_id"]), "name"]
        assert not [n for n in others if n in html], "names other teams' managers"
        assert csv["total"].notna().all() and (csv["payout"] > 0).all()
        if period == "2026-09":  # English: no Chinese left but the data's own names
            assert cjk_text(html) <= demo_words(demo_dir), cjk_text(html) - demo_words(demo_dir)


def test_large_first_orders_count_new_customers_only():
    """A large first order is a new customer's earliest order, in its acquisition month."""
    from types import SimpleNamespace

    d = pd.Timestamp
    customers = pd.DataFrame({"customer_id": ["C1", "C2", "C3", "C4"],
                              "acquired_date": [d("2026-07-05"), d("2025-01-10"), d("2026-08-10"), d("2026-09-01")]})
    orders = pd.DataFrame({
        "order_id": ["O1", "O2", "O3", "A2", "A1"], "customer_id": ["C1", "C2", "C3", "C4", "C4"],
        "manager_id": ["M1", "M1", "M2", "M2", "M2"],
        "date": [d("2026-07-05"), d("2026-08-03"), d("2026-08-10"), d("2026-09-01"), d("2026-09-01")],
        "amount": [60_000.0, 80_000.0, 40_000.0, 30_000.0, 70_000.0]})
    ctx = SimpleNamespace(tables={"orders": orders, "customers": customers})
    keys = pd.MultiIndex.from_tuples([("M1", "2026-07"), ("M1", "2026-08"), ("M2", "2026-08"), ("M2", "2026-09")])
    # C1 counts; C2 is an old customer (reassigned), C3 is below 50,000; C4's first order is A1 (70,000: lower id)
    assert list(CSC._large_first_orders(ctx, keys, 50_000.0)) == [1.0, 0.0, 0.0, 1.0]
