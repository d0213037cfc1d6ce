"""Leadership summary (notebook 05, helpers.notebooks.leadership): roll-ups, movers, risks, budget,
agreement with the team reviews, privacy of individual pay, and the rendered report."""

from __future__ import annotations

import math
import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers.notebooks import leadership as L
from helpers.notebooks import quarterly as Q
from helpers.core.attainment import NO_DATA
from helpers.present.i18n import t

from conftest import ROOT, cjk_text, demo_words, run_cli

NaN = math.nan


# ------------------------------------------------------------------ roll-up by hand


def _rows() -> pd.DataFrame:
    cols = ["team_id", "region", "status", "total", "grade", "payout", "sales", "sales_target", "profit",
            "new_customers", "complaints", "sales_prev", "sales_year_ago"]
    data = {
        "m1": ["A", "R1", "ok", 90.0, "A", 1000.0, 100.0, 80.0, 10.0, 1.0, 0.0, 50.0, NaN],
        "m2": ["A", "R1", "ok", 70.0, "B", 500.0, 60.0, 120.0, 5.0, 2.0, 3.0, 70.0, 40.0],
        "m3": ["B", "R1", NO_DATA, NaN, NO_DATA, NaN, NaN, NaN, NaN, NaN, NaN, 30.0, NaN],
        "m4": ["C", "R2", "ok", 100.0, "A", 2000.0, 200.0, 0.0, 50.0, 0.0, 1.0, NaN, 100.0],
    }
    return pd.DataFrame.from_dict(data, orient="index", columns=cols)


def test_rollup_by_team_by_hand():
    t = L.rollup(_rows(), ["region", "team_id"]).set_index("team_id")
    a = t.loc["A"]
    assert (a["managers"], a["scored"], a["mean_total"]) == (2, 2, 80.0)
    assert a["sales"] == 160 and a["sales_target"] == 200 and a["complaints"] == 3
    assert a["sales_attainment"] == pytest.approx(160 / 200)      # 0.8
    assert a["growth_prev"] == pytest.approx(160 / 120 - 1)       # both managers had sales before
    assert a["growth_year"] == pytest.approx(60 / 40 - 1)         # only m2 has a year-ago figure
    assert a["payout"] == 1500 and (a["grade_A"], a["grade_B"]) == (1, 1)
    b = t.loc["B"]  # one manager without data: nothing is summed as zero
    assert (b["managers"], b["scored"]) == (1, 0)
    assert all(math.isnan(b[c]) for c in ("mean_total", "sales", "payout", "sales_attainment", "growth_prev"))
    assert b["grade_A"] == 0
    c = t.loc["C"]  # a zero target cannot give an attainment
    assert c["sales_target"] == 0 and math.isnan(c["sales_attainment"])
    assert math.isnan(c["growth_prev"]) and c["growth_year"] == pytest.approx(200 / 100 - 1)


def test_rollup_by_region_and_company_by_hand():
    r = L.rollup(_rows(), "region").set_index("region")
    assert r.loc["R1", "managers"] == 3 and r.loc["R1", "scored"] == 2 and r.loc["R1", "sales"] == 160
    assert r.loc["R2", "payout"] == 2000
    c = L.rollup(_rows(), None).iloc[0]
    assert (c["managers"], c["scored"]) == (4, 3)
    assert c["mean_total"] == pytest.approx((90 + 70 + 100) / 3)
    assert c["sales"] == 360 and c["payout"] == 3500
    assert c["sales_attainment"] == pytest.approx(160 / 200)  # m4's zero target is left out of both sums
    assert c["growth_prev"] == pytest.approx((100 + 60) / (50 + 70) - 1)
    assert c["growth_year"] == pytest.approx((60 + 200) / (40 + 100) - 1)
    assert (c["grade_A"], c["grade_B"]) == (2, 1)
    assert "_all" not in L.rollup(_rows(), None).columns


def test_reach_shares():
    s = L.reach_shares(pd.Series([0.7, 0.8, 1.0, 1.25, NaN]), (0.8, 1.0, 1.2))
    assert list(s) == [3 / 4, 2 / 4, 1 / 4]  # levels are inclusive; NaN is not counted
    assert L.reach_shares(pd.Series([NaN]), (1.0,)).isna().all()


def test_movers_order_and_ties():
    cur = pd.Series({"a": 80.0, "b": 70.0, "c": 60.0, "d": 50.0, "e": NaN})
    prev = pd.Series({"a": 70.0, "b": 60.0, "c": 70.0, "d": 50.0, "e": 10.0, "f": 40.0})
    up, down = L.movers(cur, prev, n=5)
    assert list(up["manager_id"]) == ["a", "b"] and list(up["change"]) == [10.0, 10.0]  # tie: by id
    assert list(down["manager_id"]) == ["c"] and down["change"].iloc[0] == -10.0        # d unchanged, e/f not in both
    up1, _ = L.movers(cur, prev, n=1)
    assert list(up1["manager_id"]) == ["a"]


def test_complaint_spikes_rule():
    rows = []
    hist = ["2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2"]
    for team, older, h, now in (("X", 100, 2, 6), ("Y", 0, 1, 3), ("Z", 0, 10, 12)):
        rows += [(team, hist[0], older)] + [(team, p, h) for p in hist[1:]] + [(team, "2026Q3", now)]
    rows.append(("W", "2026Q3", 5))
    counts = pd.DataFrame(rows, columns=["team", "period", "complaints"])
    s = L.complaint_spikes(counts, "2026Q3", history=4, ratio=1.5, min_extra=3).set_index("team")
    # X: baseline = mean of the 4 periods before (2, not 2025Q2's 100) → 6 = 3× and +4: spike
    assert s.loc["X", "baseline"] == 2 and s.loc["X", "ratio"] == 3 and s.loc["X", "spike"]
    assert not s.loc["Y", "spike"]            # 3× but only +2
    assert not s.loc["Z", "spike"]            # +2 and 1.2×
    assert s.loc["W", "spike"] and s.loc["W", "baseline"] == 0 and math.isnan(s.loc["W", "ratio"])  # 0 → 5
    assert list(s.index[:2]) == ["X", "W"] or set(s.index[:2]) == {"X", "W"}  # spikes first


def test_key_losses_window():
    d = pd.Timestamp
    customers = pd.DataFrame({
        "customer_id": ["K1", "K2", "K3", "K4", "K5"], "manager_id": ["M1", "M1", "M1", "M2", "M2"],
        "segment": ["key", "key", "small", "key", "key"],
        "lost_date": [d("2026-07-10"), d("2026-06-30"), d("2026-08-01"), pd.NaT, d("2026-09-30")]})
    orders = pd.DataFrame({
        "customer_id": ["K1", "K1", "K1", "K1", "K3"],
        "date": [d("2025-07-09"), d("2025-07-10"), d("2026-07-09"), d("2026-07-10"), d("2026-07-01")],
        "amount": [1000.0, 200.0, 300.0, 999.0, 50.0]})
    out = L.key_losses(customers, orders, d("2026-07-01"), d("2026-10-01"))
    # K2 lost before the quarter, K3 not a key account, K4 not lost; K1's window is
    # [2025-07-10, 2026-07-10): 200 + 300 (the order on the lost date itself and the one a day too early are out)
    assert list(out["customer_id"]) == ["K1", "K5"]
    assert list(out["sales_12m"]) == [500.0, 0.0]


def test_budget_status():
    b = L.budget_status(4500.0, 1000.0, 3)  # a quarter: 3 × the monthly budget
    assert b == {"budget": 3000.0, "payout": 4500.0, "used": 1.5, "gap": -1500.0}
    none = L.budget_status(4500.0, None, 3)
    assert math.isnan(none["budget"]) and math.isnan(none["used"]) and none["payout"] == 4500.0


# ------------------------------------------------------------------ the demo company


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, demo_params):
    from helpers.plan.params import load_params
    from helpers.context.workbook import prepare_workspace

    folder = tmp_path_factory.mktemp("ws")
    return prepare_workspace(load_params(demo_params), demo_params, folder)


@pytest.fixture(scope="module")
def summary(demo_params, workspace):
    from helpers.context.workbook import open_team

    ctx = open_team(demo_params, "", "", str(workspace), "zh", "")
    return L.build(ctx, demo_params, str(workspace))


@pytest.mark.slow
def test_every_manager_as_in_the_team_reviews(summary, demo_params, workspace):
    """Second method: each team's own review (notebook 04's build) gives the same total,
    grade, team rank and payout as the company-wide summary."""
    from helpers.context.workbook import open_team

    m = summary.managers
    assert len(m) == 48 and set(m["team_id"]) == set(summary.ctx.team_names)
    for team in sorted(summary.ctx.team_names):
        ctx = open_team(demo_params, team, "", str(workspace), "zh", "")
        q = Q.build(ctx, demo_params, str(workspace), with_review=False)
        mine = m[m["team_id"] == team]
        assert sorted(mine.index) == sorted(q.summary.index)
        s = q.summary.reindex(mine.index)
        np.testing.assert_allclose(mine["total"].astype(float), s["total"].astype(float), rtol=1e-12)
        np.testing.assert_allclose(mine["payout"].astype(float), s["payout"].astype(float), rtol=1e-12)
        assert list(mine["grade"]) == list(s["grade"]) and list(mine["rank_team"]) == list(s["rank"])
    # and the roll-up adds the team figures up to the company's
    assert summary.teams["payout"].sum() == pytest.approx(summary.company["payout"].iloc[0])
    assert summary.teams["managers"].sum() == 48


@pytest.mark.slow
def test_demo_sales_and_losses_from_the_data(summary, demo_dir):
    """Company sales of the period and key accounts lost, straight from the CSVs."""
    orders = pd.read_csv(demo_dir / "orders.csv", parse_dates=["date"])
    q3 = orders[orders["date"].dt.to_period("Q") == pd.Period("2026Q3")]
    assert summary.company["sales"].iloc[0] == pytest.approx(q3["amount"].sum(), rel=1e-9)
    cust = pd.read_csv(demo_dir / "customers.csv", parse_dates=["lost_date"])
    lost = cust[(cust["segment"] == "key") & (cust["lost_date"].dt.to_period("Q") == pd.Period("2026Q3"))]
    assert sorted(summary.losses["customer_id"]) == sorted(lost["customer_id"])
    b = summary.budget
    assert b["budget"] == pytest.approx(3 * 500_000) and b["payout"] == pytest.approx(summary.teams["payout"].sum())


@pytest.mark.slow
def test_headline_messages_from_the_data(summary, demo_dir, demo_params):
    """The key messages leadership reads first, recomputed from the demo CSVs and the plan:
    company attainment and growth, the biggest key-account loss, pay against budget and
    the decision it calls for."""
    msgs = {m["code"]: m for m in L.key_messages(summary)}
    assert list(msgs) == ["attainment", "risk", "budget", "fairness", "decisions"]  # fairness: the demo has flags
    orders = pd.read_csv(demo_dir / "orders.csv", parse_dates=["date"])
    roster = set(summary.managers.index)
    by_q = orders[orders["manager_id"].isin(roster)].groupby(orders["date"].dt.to_period("Q"))["amount"].sum()
    a = msgs["attainment"]
    targets = summary.managers["sales_target"].astype(float)
    assert a["sales"] == pytest.approx(by_q[pd.Period("2026Q3")], rel=1e-9)
    assert a["attainment"] == pytest.approx(by_q[pd.Period("2026Q3")] / targets.sum(), rel=1e-9)
    per = orders[orders["manager_id"].isin(roster)].pivot_table(
        index="manager_id", columns=orders["date"].dt.to_period("Q"), values="amount", aggfunc="sum")
    for key, then in (("growth_prev", "2026Q2"), ("growth_year", "2025Q3")):  # like for like: managers in both
        both = per[[pd.Period("2026Q3"), pd.Period(then)]].dropna()
        assert a[key] == pytest.approx(both.iloc[:, 0].sum() / both.iloc[:, 1].sum() - 1, rel=1e-9)
    m = summary.managers
    q3 = orders[(orders["date"].dt.to_period("Q") == pd.Period("2026Q3")) & orders["manager_id"].isin(roster)]
    team_sales = q3.groupby(m["team_id"].reindex(q3["manager_id"]).to_numpy())["amount"].sum()
    team_att = team_sales / targets.groupby(m["team_id"]).sum()
    assert (a["teams_reached"], a["teams"]) == (int((team_att >= 1).sum()), 6)
    assert a["level"] == ("warn" if a["growth_prev"] < 0 else "ok")

    # the biggest risk: key accounts lost in the quarter, what they bought in the year before
    cust = pd.read_csv(demo_dir / "customers.csv", parse_dates=["lost_date"])
    lost = cust[(cust["segment"] == "key") & (cust["lost_date"].dt.to_period("Q") == pd.Period("2026Q3"))]
    stake = {}
    for _, c in lost.iterrows():
        o = orders[(orders["customer_id"] == c["customer_id"]) & (orders["date"] < c["lost_date"])
                   & (orders["date"] >= c["lost_date"] - pd.Timedelta(days=365))]
        stake[c["customer_id"]] = o["amount"].sum()
    r = msgs["risk"]
    assert r["kind"] == "losses" and r["lost"] == len(lost) >= 1
    assert r["at_stake"] == pytest.approx(sum(stake.values()))
    assert r["customer"] == max(stake, key=stake.get) and r["sales_12m"] == pytest.approx(max(stake.values()))

    # pay against budget: the plan's budget per month x 3 months, the payouts of the scorecards
    plan = yaml.safe_load((ROOT / "params" / "incentives.yaml").read_text(encoding="utf-8"))  # the plan demo.yaml names
    budget = 3 * float(plan["budget"]["variable_pay_per_month"])
    payout = float(summary.managers["payout"].sum())
    b = msgs["budget"]
    assert b["budget"] == pytest.approx(budget) and b["payout"] == pytest.approx(payout)
    assert b["kind"] == ("over" if payout > budget else "within")
    # why: the plan's cost with everyone exactly on target (the health check's costing) against the budget
    explained = b["kind"] == "over" and b["at_target"] <= 1 < a["attainment"]
    assert (f"{b['at_target']:.1%}" in L.headline(summary).data) == explained
    over = [d for d in msgs["decisions"]["items"] if d["what"] == "overrun"]
    assert (over[0]["gap"] == pytest.approx(payout - budget)) if payout > budget else not over
    f = summary.fairness
    flagged = f[f["flag"] != ""]
    fm = msgs["fairness"]
    assert fm["teams_flagged"] == flagged.loc[flagged["level"] == "team", "group"].nunique()
    far = flagged.loc[(flagged["median"] - 1).abs().idxmax()]
    assert (fm["group"], fm["indicator"]) == (far["group"], far["indicator"])

    # worded: one line per message, first in the report, each figure as the tables show it
    text = L.headline(summary).data
    assert text.count("\n- ") == len(msgs) - 1
    assert f"{a['attainment']:.1%}" in text and f"{payout:,.0f}" in text and r["customer"] in text


# ------------------------------------------------------------------ the rendered report


@pytest.mark.slow
def test_notebook_renders_with_and_without_individual_pay(demo_params, demo_dir, demo_run, tmp_path, summary):
    """Hidden (the demo's setting): the quarter's summary in the session's demo run
    (conftest.demo_run); shown, in English: a run of 05 for a month."""
    raw = yaml.safe_load(Path(demo_params).read_text(encoding="utf-8"))
    assert raw["leadership"]["individual_pay"] is False  # the demo run hides individual pay
    raw["notebooks"] = ["05_leadership_summary"]
    raw["leadership"] = {"individual_pay": True}
    shown = tmp_path / "shown.yaml"
    shown.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    month = run_cli("run", str(shown), "--out", str(tmp_path / "m"), "--no-progress", "--period", "2026-09",
                    "--language", "en")
    runs = {"q": demo_run, "m": (month, tmp_path / "m" / "2026-09")}
    for key, period, heading in (("q", "2026Q3", "目标公平性"), ("m", "2026-09", "Target fairness")):
        proc, period_dir = runs[key]
        assert proc.returncode == 0, proc.stderr + proc.stdout
        folder = period_dir / "_company"
        html = (folder / "05_leadership_summary.html").read_text(encoding="utf-8")
        assert heading in html and "Traceback" not in html
        # the key messages come first: the first section of the page, before any table or chart
        first_h2 = re.search(r"<h2[^>]*>(.*?)</h2>", html.split("<main>", 1)[1], re.S).group(1)
        assert ("本期要点" if key == "q" else "Key messages") in first_h2
        body = html.split("<main>", 1)[1]
        first = body.index("全公司销售达成率" if key == "q" else "The company reached")  # the first key message
        assert first < body.index("<table") and first < body.index("<img")
        assert 'href="_company/05_leadership_summary.html"' in (period_dir / "index.html").read_text(encoding="utf-8")
        csv = pd.read_csv(folder / "leadership_summary.csv")
        assert (csv["period"] == period).all() and list(csv["level"]).count("team") == 6
        xlsx = pd.read_excel(folder / "leadership_summary.xlsx", sheet_name=None, engine="openpyxl")
        lang = "zh" if key == "q" else "en"
        sheet = {k: t(f"xl.sheet.{k}", lang) for k in ("teams", "managers")}
        pay_col = t("xl.col.payout", lang)
        assert xlsx[sheet["teams"]][pay_col].sum() == pytest.approx(csv["payout"].sum())
        if key == "q":  # individual pay hidden: no manager's payout in the page or the files
            assert sheet["managers"] not in xlsx and t("ls.pay.hidden", "zh") in html
            pay = [f"{v:,.0f}" for v in summary.managers["payout"].dropna()]
            assert len(pay) == 48
            # amounts of four digits or more cannot turn up by chance ("16" can be any figure)
            big = [p for p in pay if len(p) >= 5]
            assert len(big) >= 40 and not [p for p in big if p in html]
            assert f"{csv.loc[csv['level'] == 'company', 'payout'].iloc[0]:,.0f}" in html  # the total is shown
        else:
            assert sheet["managers"] in xlsx
            assert len(xlsx[sheet["managers"]]) == csv.loc[csv["level"] == "company", "managers"].iloc[0]
            shown_pay = [f"{v:,.0f}" for v in xlsx[sheet["managers"]][pay_col].dropna()]
            assert shown_pay and all(p in html for p in shown_pay)
            assert cjk_text(html) <= demo_words(demo_dir), cjk_text(html) - demo_words(demo_dir)  # English only


@pytest.mark.slow
def test_precomputed_company_results_equal_the_ones_computed_on_the_spot(demo_params, tmp_path):
    """runner.precompute stores the target lab and the company scores once per run; a
    notebook reading them gets what it would have computed itself."""
    from helpers.notebooks import targetlab
    from helpers.plan.params import load_params
    from helpers.run.runner import plan_run, precompute
    from helpers.context.workbook import open_team, prepare_workspace

    plan, ds = plan_run(demo_params, out=tmp_path / "out")
    plain = prepare_workspace(load_params(demo_params), demo_params, tmp_path / "plain", ds)
    cached = prepare_workspace(load_params(demo_params), demo_params, tmp_path / "cached", ds)
    # no language: numbers and notes, not words
    assert sorted(precompute(plan, cached)) == ["health-2026Q3", "scores-2026Q3", "targets-2026Q3"]
    assert not (plain / "cache").exists()
    a_ctx, b_ctx = (open_team(demo_params, "north-2", "", str(w), "zh", "") for w in (plain, cached))
    a, b = targetlab.build(a_ctx, demo_params, str(plain)), targetlab.build(b_ctx, demo_params, str(cached))
    for iid in a.results:
        pd.testing.assert_frame_equal(a.results[iid].managers, b.results[iid].managers)
    pd.testing.assert_frame_equal(a.backtest, b.backtest)
    pd.testing.assert_frame_equal(targetlab.export(a), targetlab.export(b))
    # an English report reads the same cache entry and words it in English (east-2 has a
    # joiner and a leaver: pro-rated targets with their notes)
    a_en, b_en = (targetlab.build(open_team(demo_params, "east-2", "", str(w), "en", ""), demo_params, str(w))
                  for w in (plain, cached))
    ea, eb = targetlab.export(a_en), targetlab.export(b_en)
    pd.testing.assert_frame_equal(ea, eb)
    assert ea["note"].str.contains("pro-rated", regex=False).any()
    assert not ea["note"].str.contains("[\u4e00-\u9fff]").any()  # no Chinese left in the English notes
    # the team notebook reads its own managers' history, not the whole company's
    assert set(b.engine.data.monthly["manager_id"]) == set(b.mine) < set(a.engine.data.monthly["manager_id"])
    for name in ("monthly", "periodic", "managers"):  # the one-pass split equals a plain filter, row order kept
        full = getattr(a.engine.data, name)
        pd.testing.assert_frame_equal(getattr(b.engine.data, name),
                                      full[full["manager_id"].isin(b.mine)].reset_index(drop=True))
    for iid in targetlab._volumes(a):
        full = a.engine.panel(iid)
        pd.testing.assert_frame_equal(b.engine.panel(iid),
                                      full[full["manager_id"].isin(b.mine)].reset_index(drop=True))
    with pytest.raises(RuntimeError):
        b.engine.all_targets(b.period)  # targets are split company-wide, never from a slice
    team_pkl = cached / "cache" / "targets-2026Q3" / "north-2.pkl"
    company_pkl = cached / "cache" / "targets-2026Q3.pkl"
    assert team_pkl.stat().st_size < 0.35 * len(pickle.dumps(a.engine))  # 8 of 48 managers, plus the plan
    assert company_pkl.stat().st_size < 0.35 * len(pickle.dumps(a.engine))
    qa, qb = Q.build(a_ctx, demo_params, str(plain)), Q.build(b_ctx, demo_params, str(cached))
    pd.testing.assert_frame_equal(qa.summary, qb.summary)
    # the plan health check: a team's notebook opens the company's context when nothing is cached
    from helpers.context.health import company_health

    ha, hb = company_health(a_ctx, demo_params, str(plain)), company_health(b_ctx, demo_params, str(cached))
    pd.testing.assert_frame_equal(ha.rows, hb.rows)
    assert [c.values for c in ha.health.checks] == [c.values for c in hb.health.checks]
    assert len(ha.rows) == 48 and ha.health.verdict == hb.health.verdict == "performance"


@pytest.mark.slow
def test_each_teams_rows_read_once_for_the_run_equal_its_own_read(demo_params, tmp_path, monkeypatch):
    """The run reads every team's rows once (``share_teams``: each workspace file read whole,
    filtered in memory); a team notebook then opens its team from that slice, frame for
    frame (values, types, index) what it would have read from the workspace's Parquet
    files itself, in either language, and reads no Parquet file of its team's rows."""
    from helpers.context import workbook
    from helpers.plan.params import load_params
    from helpers.run.runner import plan_run

    plan, ds = plan_run(demo_params, out=tmp_path / "out")
    ws = workbook.prepare_workspace(load_params(demo_params), demo_params, tmp_path / "ws", ds)
    teams = list(plan.teams)
    assert len(teams) == 6
    own = {(t, lang): workbook.open_team(demo_params, t, "", str(ws), lang, "") for t in teams for lang in ("zh", "en")}
    assert workbook.share_teams(demo_params, ws, teams) == "team-2026Q3"
    assert sorted(p.stem for p in (ws / "cache" / "team-2026Q3").iterdir()) == sorted(teams)

    def no_read(*args, **kwargs):
        raise AssertionError("read the team's rows again")

    monkeypatch.setattr(workbook, "read_team", no_read)
    for (team, lang), ref in own.items():
        ctx = workbook.open_team(demo_params, team, "", str(ws), lang, "")
        frames = [(a, getattr(ctx, a), getattr(ref, a)) for a in ("roster", "actuals", "monthly", "company", "availability")]
        assert set(ctx.tables) == set(ref.tables)
        frames += [(k, ctx.tables[k], ref.tables[k]) for k in ref.tables]
        for name, got, want in frames:
            pd.testing.assert_frame_equal(got, want, check_exact=True, obj=f"{team} {lang} {name}")
            assert type(got.index) is type(want.index) and got.index.equals(want.index), (team, name)
        assert ctx.manager_ids == ref.manager_ids and len(ctx.manager_ids) >= 7
        assert len(ctx.tables["orders"]) > 1000 and set(ctx.tables["orders"]["manager_id"]) <= set(ctx.manager_ids)
    # another period, or the whole company: read from the files, as before
    with pytest.raises(AssertionError, match="read the team's rows again"):
        workbook.open_team(demo_params, teams[0], "2026Q2", str(ws), "zh", "")
    with pytest.raises(AssertionError, match="read the team's rows again"):
        workbook.open_team(demo_params, "", "", str(ws), "zh", "")


@pytest.mark.slow
def test_many_teams_are_summarised_by_region(summary, monkeypatch):
    """Beyond MAX_TEAMS_CHARTED teams the charts go per region and the table lists the
    best and worst teams by sales attainment (all of them stay in the Excel file)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.present import plotting

    plotting.setup()
    assert not summary.many_teams  # 6 demo teams: one bar each, every team listed
    assert len(L.team_table(summary).data) == 6
    monkeypatch.setattr(L, "MAX_TEAMS_CHARTED", 2)
    monkeypatch.setattr(L, "TEAMS_LISTED", 2)
    assert summary.many_teams
    sty = L.team_table(summary)
    att = summary.teams.set_index("team_id")["sales_attainment"].sort_values(ascending=False)
    names = [summary.team_name(t) for t in [*att.index[:2], *att.index[-2:]]]
    assert list(sty.data.iloc[:, 2]) == names  # band, region, team, ...
    assert "共 6 个团队" in sty.caption and "“团队汇总”工作表" in sty.caption
    shown = []
    monkeypatch.setattr(plotting, "finish", lambda fig=None, **k: (shown.append([ax.get_title() for ax in fig.axes]),
                                                                   plt.close(fig)))
    L.team_chart(summary)
    L.distribution_chart(summary)
    L.payout_chart(summary)
    assert shown[0] == ["销售达成率（每点一个团队）", "平均总分（每点一个团队）"]
    assert shown[1][1] == "各区域客户经理总分分布" and shown[2][0] == "各区域绩效工资"
    assert "teams" in L.export_frames(summary) and (L.export_frames(summary)["teams"]["level"] == "team").sum() == 6


@pytest.mark.slow
def test_long_risk_tables_list_the_most_severe_rows(summary, monkeypatch):
    """Beyond MAX_ROWS_LISTED rows, a risk table shows the most severe ones and names the
    Excel sheet with all of them; the sheet holds every row."""
    spikes = L.spikes_table(summary)
    assert spikes.caption is None and len(spikes.data) == len(summary.spikes) == 6
    monkeypatch.setattr(L, "MAX_ROWS_LISTED", 2)
    capped = L.spikes_table(summary)
    assert len(capped.data) == 2 and "共 6 行" in capped.caption and "“投诉”工作表" in capped.caption
    top = summary.spikes.head(2)  # spikes first, then by ratio: the severest rows
    assert list(capped.data.iloc[:, 0]) == [summary.team_name(t) for t in top["team"]]
    if len(summary.losses) > 2:
        shown = L.losses_table(summary).data.iloc[:, -1].tolist()
        assert shown == sorted(summary.losses["sales_12m"], reverse=True)[:2]
    assert len(L.export_frames(summary)["complaints"]) == 6 and "fairness" in L.export_frames(summary)
