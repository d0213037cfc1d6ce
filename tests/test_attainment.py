"""Tests for helpers.core.attainment — the one home of attainment and pro-rating.

Cases moved here from tests/test_scoring.py and tests/test_targets.py (values worked
out by hand in the comments); new cases check the vectorised day counting against a
brute-force loop over calendar days.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from helpers.core import scoring, targets
from helpers.core.attainment import (
    NO_DATA,
    active_fraction,
    attainment,
    attainment_detail,
    prorate,
    prorate_by_fraction,
)
from helpers.errors import InputError
from helpers.periods import parse_period


# ----------------------------------------------------------------------------- attainment


def test_attainment_higher_is_better_scalar_and_series():
    # 90 / 100 = 0.9 ; 130 / 100 = 1.3
    assert attainment(90, 100) == pytest.approx(0.9)
    s = attainment(pd.Series([90.0, 130.0], index=["a", "b"]), pd.Series([100.0, 100.0], index=["a", "b"]))
    assert list(s.index) == ["a", "b"]
    assert s.tolist() == pytest.approx([0.9, 1.3])
    # arrays: 1/2 = 0.5, 3/2 = 1.5
    np.testing.assert_allclose(attainment(np.array([1.0, 3.0]), np.array([2.0, 2.0])), [0.5, 1.5])


def test_attainment_lower_is_better_is_inverse_ratio():
    # complaint-rate target 5 %: actual 4 % → 5/4 = 1.25 (better than target);
    # actual 8 % → 5/8 = 0.625 (worse); actual = target → 1.0
    got = attainment(np.array([0.04, 0.08, 0.05]), 0.05, higher_is_better=False)
    np.testing.assert_allclose(got, [1.25, 0.625, 1.0])
    # target 5 complaints, actual 4 → 5/4 = 1.25
    assert attainment(4, 5, higher_is_better=False) == pytest.approx(1.25)


def test_attainment_zero_and_missing_rules_every_branch():
    # higher is better
    v, r = attainment_detail(0.0, 0.0)  # nothing asked, nothing done → not assessed, never 100 %
    assert math.isnan(v) and r.startswith("not assessed")
    v, r = attainment_detail(5.0, 0.0)  # target 0, actual 5 → undefined
    assert math.isnan(v) and "target is 0" in r
    v, r = attainment_detail(5.0, -2.0)
    assert math.isnan(v) and "negative target" in r
    v, r = attainment_detail(-50.0, 100.0)  # net sales after returns: allowed, −0.5
    assert v == pytest.approx(-0.5) and r == ""
    v, r = attainment_detail(math.nan, 100.0)  # no data stays NaN, never 0
    assert math.isnan(v) and r.startswith(NO_DATA)
    v, r = attainment_detail(10.0, math.nan)
    assert math.isnan(v) and "no target" in r
    # lower is better
    v, r = attainment_detail(0.0, 0.05, higher_is_better=False)  # zero incidents → best (+inf)
    assert v == math.inf and r == ""
    v, r = attainment_detail(0.0, 0.0, higher_is_better=False)  # also best
    assert v == math.inf
    v, r = attainment_detail(0.0, 0.05, higher_is_better=False, cap=1.2)  # best = the cap
    assert v == 1.2
    v, r = attainment_detail(0.02, 0.0, higher_is_better=False)  # target 0, actual > 0 → 0/0.02 = 0
    assert v == 0.0 and r == ""
    v, r = attainment_detail(-0.01, 0.05, higher_is_better=False)
    assert math.isnan(v) and "negative actual" in r
    v, r = attainment_detail(0.03, -0.05, higher_is_better=False)
    assert math.isnan(v) and "negative target" in r
    v, r = attainment_detail(math.nan, 0.05, higher_is_better=False)
    assert math.isnan(v) and r.startswith(NO_DATA)


def test_attainment_zero_targets_unified_rule():
    # Formerly helpers.core.targets.test_attainment_rules, which had x/0 → +inf and raised
    # on negative / missing values.  Under the unified rule (attainment_detail table):
    assert math.isnan(attainment(0, 0))                             # 0/0 → not assessed, never 1
    assert math.isnan(attainment(5, 0))                             # x/0 → undefined (was +inf)
    assert attainment(0, 0, higher_is_better=False) == math.inf     # zero complaints: best (was 1.0)
    assert attainment(0, 5, higher_is_better=False) == math.inf     # zero complaints vs ceiling 5
    assert attainment(2, 0, higher_is_better=False) == 0.0          # 0/2
    s = attainment(pd.Series([50.0, 0.0], index=["a", "b"]), pd.Series([100.0, 0.0], index=["a", "b"]))
    assert s["a"] == 0.5 and math.isnan(s["b"])                     # 50/100 ; 0/0 not assessed
    assert attainment(-1, 5) == pytest.approx(-0.2)                 # −1/5 (was an error)
    v, r = attainment_detail(np.nan, 5)                             # missing: NaN + reason (was an error)
    assert math.isnan(v) and r.startswith(NO_DATA)


def test_attainment_cap_and_reasons_align_with_series():
    a = pd.Series([150.0, np.nan, 80.0], index=["m1", "m2", "m3"])
    t = pd.Series([100.0, 100.0, 0.0], index=["m1", "m2", "m3"])
    v, r = attainment_detail(a, t, cap=1.2)
    # 150/100 = 1.5 → capped 1.2 ; NaN stays NaN ; target 0 with actual 80 → NaN
    assert v["m1"] == pytest.approx(1.2)
    assert math.isnan(v["m2"]) and math.isnan(v["m3"])
    assert r["m1"] == "" and r["m2"].startswith(NO_DATA) and "target is 0" in r["m3"]


def test_attainment_misaligned_series_raise():
    with pytest.raises(InputError):
        attainment(pd.Series([1.0], index=["a"]), pd.Series([1.0], index=["b"]))
    with pytest.raises(InputError):
        attainment(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0]))


def test_attainment_dataframes_must_share_columns():
    a = pd.DataFrame({"x": [1.0], "y": [2.0]})
    with pytest.raises(InputError):
        attainment(a, a[["y", "x"]])  # same shape, different column order → not silently misaligned
    got = attainment(a, pd.DataFrame({"x": [2.0], "y": [4.0]}))
    assert got.to_numpy().tolist() == [[0.5, 0.5]]


def test_attainment_matches_loop_over_rule_table():
    # second method: the rule table applied cell by cell in plain Python
    rng = np.random.default_rng(5)
    a = rng.choice([np.nan, 0.0, -1.0, 2.0, 3.5], 400)
    t = rng.choice([np.nan, 0.0, -2.0, 1.0, 4.0], 400)

    def rule(x: float, y: float, hib: bool) -> float:
        if math.isnan(x) or math.isnan(y):
            return math.nan
        if hib:
            if y > 0:
                return x / y
            return math.nan  # 0/0 not assessed; x/0 undefined; negative target undefined
        if x < 0 or y < 0:
            return math.nan
        return math.inf if x == 0 else y / x

    for hib in (True, False):
        got = attainment(a, t, higher_is_better=hib)
        exp = [rule(x, y, hib) for x, y in zip(a, t)]
        np.testing.assert_array_equal(got, exp)


# ----------------------------------------------------------------------------- active fraction


def test_active_fraction_inclusive_days_scoring_cases():
    # March 2024 has 31 days; active from 16 March → 16..31 = 16 days → 16/31
    assert active_fraction("2024-03-01", "2024-03-31", "2024-03-16") == pytest.approx(16 / 31)
    # left on 10 March → 1..10 = 10 days
    assert active_fraction("2024-03-01", "2024-03-31", None, "2024-03-10") == pytest.approx(10 / 31)
    # February 2024 (leap year, 29 days), from the 15th → 15/29
    assert active_fraction("2024-02-01", "2024-02-29", "2024-02-15") == pytest.approx(15 / 29)
    # single day active (start = end) → 1/31
    assert active_fraction("2024-03-01", "2024-03-31", "2024-03-05", "2024-03-05") == pytest.approx(1 / 31)
    frm = pd.Series(["2024-01-01", None, "2024-04-02", "2024-03-20"], index=list("abcd"))
    to = pd.Series([None, "2024-03-10", None, "2024-03-29"], index=list("abcd"))
    got = active_fraction("2024-03-01", "2024-03-31", frm, to)
    # whole period; 10 days; after the period → 0; 20..29 = 10 days
    np.testing.assert_allclose(got.to_numpy(), [1.0, 10 / 31, 0.0, 10 / 31])
    assert list(got.index) == list("abcd")
    with pytest.raises(InputError):
        active_fraction("2024-03-01", "2024-03-31", "2024-03-20", "2024-03-10")
    with pytest.raises(InputError):
        active_fraction("2024-03-31", "2024-03-01")


def test_active_fraction_and_prorate_targets_cases():
    # 2026Q3 = 1 Jul … 30 Sep = 31 + 31 + 30 = 92 days.
    # Joins 16 Aug: 16 Aug … 31 Aug = 16 days + September 30 days = 46 → 46/92 = 0.5
    assert active_fraction("2026-07-01", "2026-09-30", active_from="2026-08-16") == pytest.approx(46 / 92)
    assert active_fraction("2026Q3", active_from="2026-08-16") == pytest.approx(0.5)
    assert prorate(60, "2026-07-01", "2026-09-30", active_from="2026-08-16") == pytest.approx(30.0)
    # leaves 31 Jul: 31 days → 31/92
    assert active_fraction("2026Q3", active_to="2026-07-31") == pytest.approx(31 / 92)
    # only August: 31/92 ; before / after the period: 0
    assert active_fraction("2026Q3", None, "2026-08-01", "2026-08-31") == pytest.approx(31 / 92)
    assert active_fraction("2026Q3", active_to="2026-06-30") == 0.0
    assert active_fraction("2026Q3", active_from="2026-10-01") == 0.0
    # months basis: (16/31 + 30/30) / 3 — July not active, August 16 of 31 days, September all
    assert active_fraction("2026Q3", active_from="2026-08-16", basis="months") == pytest.approx((16 / 31 + 1) / 3)
    with pytest.raises(InputError, match="before it starts"):
        active_fraction("2026-09-30", "2026-07-01")
    with pytest.raises(InputError, match="active_to"):
        active_fraction("2026Q3", None, "2026-09-01", "2026-08-01")


def test_active_fraction_period_forms():
    # a ReviewPeriod and a pd.Period work like the label; a year Period too:
    # 2026 has 365 days, joining 1 Jul → Jul..Dec = 31+31+30+31+30+31 = 184 days
    assert active_fraction(parse_period("2026-09"), active_from="2026-09-16") == pytest.approx(15 / 30)
    assert active_fraction(pd.Period("2026Q3", freq="Q"), active_from="2026-08-16") == pytest.approx(0.5)
    assert active_fraction(pd.Period("2026", freq="Y"), active_from="2026-07-01") == pytest.approx(184 / 365)
    # months basis over a year: 6 of 12 months fully active
    assert active_fraction(pd.Period("2026", freq="Y"), active_from="2026-07-01",
                           basis="months") == pytest.approx(0.5)
    with pytest.raises(InputError, match="period_end"):
        active_fraction("2026-07-01")  # a date without an end is not a period
    with pytest.raises(InputError, match="basis"):
        active_fraction("2026Q3", basis="weeks")


def test_active_fraction_bad_input_is_named():
    frm = pd.Series(["2024-03-05", "next week", ""], index=["m1", "m2", "m3"])
    with pytest.raises(InputError, match="m2") as e:
        active_fraction("2024-03-01", "2024-03-31", frm)
    assert "m3" not in str(e.value)  # a blank cell is an open end, not an error
    with pytest.raises(InputError, match="not a date"):
        active_fraction("2024-03-01", "2024-03-31", "soon")
    with pytest.raises(InputError, match="row labels"):
        active_fraction("2024-03-01", "2024-03-31", pd.Series(["2024-03-05"], index=["a"]),
                        pd.Series(["2024-03-09"], index=["b"]))
    with pytest.raises(InputError, match="m2"):
        active_fraction("2024-03-01", "2024-03-31", pd.Series(["2024-03-05", "2024-03-20"], index=["m1", "m2"]),
                        pd.Series(["2024-03-09", "2024-03-10"], index=["m1", "m2"]))


def _loop_fraction(ps: date, pe: date, af: date | None, at: date | None, basis: str) -> float:
    """Independent brute force: walk every calendar day of the period."""
    days = [ps + timedelta(d) for d in range((pe - ps).days + 1)]

    def active(d: date) -> bool:
        return (af is None or d >= af) and (at is None or d <= at)

    if basis == "days":
        return sum(map(active, days)) / len(days)
    by_month: dict[tuple[int, int], list[bool]] = {}
    for d in days:
        by_month.setdefault((d.year, d.month), []).append(active(d))
    return sum(sum(v) / len(v) for v in by_month.values()) / len(by_month)


@pytest.mark.parametrize("basis", ["days", "months"])
def test_active_fraction_vectorised_matches_day_loop(basis):
    rng = np.random.default_rng(11)
    ps, pe = date(2024, 1, 15), date(2024, 5, 10)  # odd period: partial first and last months
    n = 300
    base = date(2023, 12, 1)
    a = [base + timedelta(int(x)) for x in rng.integers(0, 200, n)]
    b = [d + timedelta(int(x)) for d, x in zip(a, rng.integers(0, 120, n))]
    a = [None if u < 0.2 else d for d, u in zip(a, rng.random(n))]
    b = [None if u < 0.2 else d for d, u in zip(b, rng.random(n))]
    idx = [f"m{i}" for i in range(n)]
    got = active_fraction(ps, pe, pd.Series(a, index=idx, dtype=object),
                          pd.Series(b, index=idx, dtype=object), basis=basis)
    exp = [_loop_fraction(ps, pe, x, y, basis) for x, y in zip(a, b)]
    np.testing.assert_allclose(got.to_numpy(), exp, rtol=1e-12)
    assert list(got.index) == idx


# ----------------------------------------------------------------------------- prorate


def test_prorate_values_and_rules():
    # 310,000 × 0.5 = 155,000 ; 1,000 × 16/31 = 516.129…
    assert prorate_by_fraction(310000.0, 0.5) == pytest.approx(155000.0)
    assert prorate_by_fraction(1000.0, 16 / 31) == pytest.approx(516.129, abs=1e-3)
    # Series of targets, each with its own window in March 2024 (31 days):
    # a: whole month 100 ; b: from the 16th 62 × 16/31 = 32 ; c: missing target stays missing
    t = pd.Series([100.0, 62.0, np.nan], index=["a", "b", "c"])
    frm = pd.Series([None, "2024-03-16", None], index=["a", "b", "c"])
    got = prorate(t, "2024-03-01", "2024-03-31", frm)
    assert got["a"] == pytest.approx(100.0) and got["b"] == pytest.approx(32.0) and math.isnan(got["c"])
    with pytest.raises(InputError, match="fraction"):
        prorate_by_fraction(1000.0, 1.5)
    with pytest.raises(InputError, match="fraction"):
        prorate_by_fraction(1000.0, np.nan)
    with pytest.raises(InputError, match="value"):
        prorate_by_fraction(-5.0, 0.5)
    with pytest.raises(InputError, match="value"):
        prorate(math.inf, "2026Q3")
    with pytest.raises(InputError, match="aligned"):
        prorate_by_fraction(pd.Series([1.0], index=["a"]), pd.Series([0.5], index=["b"]))


# ----------------------------------------------------------------------------- re-exports


def test_old_names_are_the_same_functions():
    assert scoring.attainment is attainment and targets.attainment is attainment
    assert scoring.attainment_detail is attainment_detail
    assert scoring.prorate_fraction is active_fraction and targets.active_fraction is active_fraction
    assert targets.prorate is prorate
    assert scoring.NO_DATA == NO_DATA
