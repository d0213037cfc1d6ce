"""A foreign-shaped CRM export end to end (issue 16): accounts bought from by several
agents, ten months of history, no profit, no surveys, no segments, mapped with the
documented features and run with the project's shipped presets.

``validate`` is the run's own gate: whatever ``run`` refuses, ``validate`` reported, and
what ``validate`` passes, ``run`` runs."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import ROOT, run_cli
from foreign import AS_OF, write_export, write_params
from helpers.data.sources import load_mapped
from helpers.kpis.measures import KPIS, kpi_actuals

pytestmark = pytest.mark.slow
TEAM = "dustin-brinkmann"


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crm")
    write_export(folder)
    return folder


def _errors(proc) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("error:")]


def test_the_export_validates_and_runs_with_the_shipped_presets(export):
    params = write_params(export, ROOT)
    v = run_cli("validate", str(params))
    assert v.returncode == 0, v.stdout[-3000:] + v.stderr[-3000:]
    # what falls back or is left out is said, not hidden
    assert "indicator 'new_small_customers': cannot be computed: data missing: customers.segment = small" in v.stdout
    assert "region '华北' is not in the data: its override is not used" in v.stdout
    assert "KPI 'profit' not available (missing orders.profit)" in v.stdout
    out = export / "out"
    r = run_cli("run", str(params), "--team", TEAM, "--out", str(out), "--no-progress", timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    period = out / "2017Q4"
    assert not (period / "failures").exists()
    a = pd.read_csv(period / TEAM / "kpi_actuals.csv")
    # nothing the data lacks is shown, least of all as 0; no share above 100 %
    assert not set(a["kpi"]) & {"profit", "margin", "clv", "csat", "nps", "complaint_rate", "visit_coverage"}
    assert set(a["segment"]) == {"all"}
    ratios = a[a["kpi"].map(lambda k: KPIS[k].unit == "ratio")]
    assert len(ratios) and (ratios["value"].dropna() <= 1 + 1e-9).all()
    card = pd.read_csv(period / TEAM / "scorecard.csv")
    assert not [c for c in card.columns if c.startswith(("profit", "margin", "csat"))]
    html = (period / TEAM / "01_target_setting.html").read_text(encoding="utf-8")
    assert "去年同期（2016Q4）没有数据，改用上一期（2017Q3）作基数" in html
    dq = (period / TEAM / "00_data_quality.html").read_text(encoding="utf-8")
    assert "数据中没有客户类型" in dq
    review = (period / TEAM / "04_quarterly_review.html").read_text(encoding="utf-8")
    assert "销售额按客户类型" not in review  # no line of zeros for segments the export does not have


def test_shared_accounts_add_up_to_the_customers_at_the_start(export):
    """Each month the agents who sold to an account in the last six months share it by
    their sales; summed over the agents, the customers at the start of 2017Q4 are the
    accounts won before 1 October, not lost by then, with a sale in May–October —
    counted here straight from the export."""
    ds = load_mapped(export / "crm.yaml", as_of=pd.Timestamp(AS_OF))
    a = kpi_actuals(ds, "Q")
    got = a[(a["kpi"] == "customers_start") & (a["period"] == "2017Q4") & (a["segment"] == "all")]["value"].sum()
    raw = pd.read_csv(export / "sales_pipeline.csv")
    won = raw[raw["deal_stage"] == "Won"].assign(date=lambda f: pd.to_datetime(f["close_date"]))
    first = won.groupby("account")["date"].min()
    last_before = won[won["date"] < "2017-10-01"].groupby("account")["date"].max()
    # lost (idle rule, 6 months before the as-of date): the last order before 2017-07-15; lost_date = that order
    last = won.groupby("account")["date"].max()
    lost = last[last < pd.Timestamp(AS_OF) - pd.DateOffset(months=6)]
    start = first[first < "2017-10-01"].index
    alive = [c for c in start if not (c in lost.index and lost[c] < pd.Timestamp("2017-10-01"))]
    window = won[(won["date"] >= "2017-05-01") & (won["date"] <= "2017-10-31")]["account"].unique()
    want = len(set(alive) & set(window))
    assert len(last_before) and got == pytest.approx(want)
    ratio = a[a["kpi"].map(lambda k: KPIS[k].unit == "ratio")]
    assert (ratio["value"].dropna() <= 1 + 1e-9).all()


def test_what_run_refuses_validate_reported(export):
    """Variants: the first quarter of the export (no base period for the targets), and
    the shipped demo with a strategy override for a region it lacks (a warning).  For
    each: a run refused is exit 2 before any notebook starts, with exactly the errors
    validate printed; a run validate passed has no failed notebook."""
    variants = [write_params(export, ROOT, ["01_target_setting", "04_quarterly_review"], "2017Q1", "q1.yaml"),
                write_params(export, ROOT, ["01_target_setting", "04_quarterly_review"], "2017Q3", "q3.yaml")]
    seen = set()
    for params in variants:
        v = run_cli("validate", str(params))
        out = export / f"out-{params.stem}"
        r = run_cli("run", str(params), "--team", TEAM, "--out", str(out), "--no-progress", timeout=900)
        seen.add(v.returncode)
        if r.returncode == 2:
            assert v.returncode == 2 and _errors(r) == _errors(v) and _errors(v)
            assert not (out / params.stem).exists()
        else:
            assert v.returncode == 0 and r.returncode == 0, r.stderr[-2000:]
            assert not (out / "2017Q3" / "failures").exists()
    assert seen == {0, 2}  # one variant of each kind
    q1 = run_cli("validate", str(variants[0]))
    assert "no history in base period 2016Q1 for 'sales'" in q1.stderr
