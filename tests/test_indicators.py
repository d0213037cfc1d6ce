"""Tests for helpers.kpis.indicators: the library file, SMART checks and data availability."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.kpis.indicators import (
    SMART_ATTRIBUTES,
    Indicator,
    Smart,
    data_availability,
    load_library,
    smart_check,
    smart_frame,
)
from helpers.kpis.measures import KPIS
from helpers.present.checks import availability_reasons, finding_reason

PARAMS = Path(__file__).resolve().parents[1] / "params"

# the ids other engineers' weight schemes and targets use: they must stay
ORIGINAL_IDS = """sales profit margin orders key_sales small_sales walkin_sales csat retention_rate visits
visit_coverage joint_projects new_customers market_share market_share_change new_key_customers
new_small_customers conversion_rate small_conversion walkin_first_purchase acquisition_cost nps
complaint_rate resolution_rate key_csat repeat_purchase_rate churn_rate referral_rate key_retention
small_active_rate walkin_repeat_rate aov clv attitude teamwork innovation work_quality work_quantity
summary_quality""".split()


@pytest.fixture(scope="module")
def lib():
    return load_library(PARAMS / "indicators.yaml")


def ind(**kw) -> Indicator:
    base = dict(id="x", zh="某指标", en="X", family="performance", kpi="sales", unit="currency",
                higher_is_better=True, kind="hard", formula="Σ orders.amount", source="orders",
                smart=Smart(specific="s", measurable="m", achievable="a", relevant="r", time_bound="t"))
    base.update(kw)
    return Indicator(**base)


def failing(findings, language: str = "en") -> dict[str, str]:
    """The failing attributes with their reasons in words (the core returns codes)."""
    return {f.attribute: finding_reason(f, language) for f in findings if not f.ok}


def test_library_keeps_every_id_and_states_smart_in_both_languages(lib):
    assert set(ORIGINAL_IDS) <= set(lib.ids())
    assert len(ORIGINAL_IDS) == 39
    for i in lib:
        for a in SMART_ATTRIBUTES:
            assert i.smart.stated(a), f"{i.id}: {a} not stated"
            assert i.smart.text(a, "zh") and i.smart.text(a, "en")
    # the library as it stands passes every SMART check for a quarterly review, except the
    # yearly joint projects (not time-bound to a quarter)
    sm = smart_frame(lib, lib.ids(), "quarter")
    assert sm.loc[~sm["passed"], "indicator"].tolist() == ["joint_projects"]


def test_segment_indicators_measure_their_segment(lib):
    for i in lib:
        assert i.segment == "all" or i.applies_to == [i.segment], i.id
        if i.kpi is not None:
            assert KPIS[i.kpi].higher_is_better == i.higher_is_better, i.id


def test_plain_text_smart_still_accepted():
    s = Smart(specific="what", measurable="how")
    assert s.stated("specific") and not s.stated("achievable")
    assert s.text("specific", "zh") == "what"


def test_smart_all_pass():
    assert failing(smart_check(ind(), "quarter", weight=0.2, target=1000.0)) == {}


def test_smart_each_attribute_fails_with_its_reason():
    bad = ind(smart=Smart(measurable="m", achievable="a", relevant="r", time_bound="t"), formula="")
    assert failing(smart_check(bad)) == {
        "specific": "no 'Specific' statement in the indicator library; no formula"}
    seg = ind(kpi="sales", segment="key", applies_to=["small"])
    assert "measured on segment key but applies to small" in failing(smart_check(seg))["specific"]
    ext = ind(kpi=None, source="")
    assert failing(smart_check(ext))["measurable"] == "neither a KPI nor a data source"
    ratio = ind(unit="ratio")
    assert failing(smart_check(ratio, target=1.2))["achievable"] == "target 120% is outside the range 0%–100%"
    assert failing(smart_check(ratio, target=-1.5, target_type="growth"))["achievable"].startswith("growth target")
    assert failing(smart_check(ind(), weight=0.03))["relevant"] == \
        "global weight 3.0% is below 5%: too small to change behaviour"
    assert failing(smart_check(ind(), weight=0.0))["relevant"] == "weight 0: the indicator is not used"
    assert "weight" not in failing(smart_check(ind(), weight=0.05)).get("relevant", "")  # exactly 5 % passes
    yearly = ind(period="year")
    assert failing(smart_check(yearly, review="quarter"))["time_bound"].startswith(
        "measured per year but reviewed per quarter")
    assert failing(smart_check(yearly, review="year")) == {}


def test_smart_reasons_in_chinese():
    r = failing(smart_check(ind(period="quarter"), review="month", weight=0.01), "zh")
    assert r["relevant"] == "全局权重 1.0% 低于 5%，对考核结果几乎没有影响"
    assert r["time_bound"].startswith("按季度统计，但考核周期是月")


def test_data_availability_statuses(lib):
    avail = pd.DataFrame({"kpi": ["sales", "csat", "retention_rate"], "available": [True, False, True],
                          "missing": ["", "surveys", ""]})
    values = pd.DataFrame({"sales": [1.0, 2.0, 3.0], "retention_rate": [0.9, np.nan, 0.8]}, index=["A", "B", "C"])
    da = data_availability(lib, avail, ["sales", "csat", "retention_rate", "joint_projects"], values)
    da["reason"] = availability_reasons(da, "en")
    da = da.set_index("indicator")
    assert da["status"].to_dict() == {"sales": "ok", "csat": "missing", "retention_rate": "partial",
                                      "joint_projects": "external"}
    assert da.loc["csat", "reason"] == "data missing: surveys"
    assert da.loc["retention_rate", "reason"] == "1 of 3 managers have no value (no base)"
    assert da.loc["retention_rate", "with_value"] == 2 and da.loc["joint_projects", "with_value"] == 0
    # without values: only what the tables allow
    assert data_availability(lib, avail, ["retention_rate"])["status"].tolist() == ["ok"]
