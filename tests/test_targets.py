"""Tests for helpers.core.targets — every expected value is computed by hand (comments),
from a cited worked example, or by an independent second method."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.seasonal import seasonal_decompose

from helpers.errors import InputError
from helpers.periods import parse_period as parse_review_period
from helpers.data.plan_csv import read_commitments_csv, read_targets_csv
from helpers.core.targets import (
    achievability_flags,
    apportion,
    apportion_rows,
    apportionment_weights,
    attainment_distribution,
    backtest,
    blend_targets,
    fairness_flags,
    growth_target,
    growth_targets,
    implied_growth,
    make_growth_method,
    parse_period,
    period_months,
    phase_target,
    potential_target,
    reconcile,
    seasonal_indices,
)

Q = lambda s: pd.Period(s, freq="Q")  # noqa: E731
M = lambda s: pd.Period(s, freq="M")  # noqa: E731


# ------------------------------------------------------------------ growth


def test_growth_target_seed_example():
    # Seed article: 50 new customers last quarter, next quarter set to 60 → g = 20 %.
    assert growth_target(50, 0.20) == pytest.approx(60.0)
    assert growth_target(200, -0.10) == pytest.approx(180.0)
    with pytest.raises(InputError, match="base"):
        growth_target(-1, 0.2)
    with pytest.raises(InputError, match="growth"):
        growth_target(10, -1.5)


@pytest.fixture
def monthly_history() -> pd.Series:
    # 2025-01 … 2026-06 with values 1 … 18
    idx = pd.period_range("2025-01", "2026-06", freq="M")
    return pd.Series(np.arange(1, 19, dtype=float), index=idx)


def test_growth_targets_bases(monthly_history):
    h = monthly_history
    # last period of 2026Q3 is 2026Q2 = Apr..Jun 2026 = 16+17+18 = 51 → ×1.2 = 61.2
    assert growth_targets(h, "2026Q3", "last_period", 0.2) == pytest.approx(61.2)
    # same period last year 2025Q3 = Jul..Sep 2025 = 7+8+9 = 24 → ×1.2 = 28.8
    assert growth_targets(h, "2026Q3", "same_period_last_year", 0.2) == pytest.approx(28.8)
    # month: 2026-07 ← 2026-06 = 18 → 21.6 ; same month last year 2025-07 = 7 → 8.4
    assert growth_targets(h, "2026-07", "last_period", 0.2) == pytest.approx(21.6)
    assert growth_targets(h, "2026-07", "same_period_last_year", 0.2) == pytest.approx(8.4)
    # stock KPI: mean of Q2 2026 = 17 → 20.4
    assert growth_targets(h, "2026Q3", "last_period", 0.2, how="mean") == pytest.approx(20.4)
    # several periods → Series: 2026Q1 ← 2025Q4 = 10+11+12 = 33 ; 2026Q2 ← 2026Q1 = 13+14+15 = 42
    s = growth_targets(h, ["2026Q1", "2026Q2"], "last_period", 0.0)
    assert list(s.index) == [Q("2026Q1"), Q("2026Q2")]
    assert s.tolist() == pytest.approx([33.0, 42.0])
    # strings "YYYY-MM" as index work too
    hs = pd.Series(h.to_numpy(), index=[str(p) for p in h.index])
    assert growth_targets(hs, "2026Q3", "last_period", 0.2) == pytest.approx(61.2)


def test_growth_targets_missing_base_names_period(monthly_history):
    with pytest.raises(InputError, match="2024Q4"):
        growth_targets(monthly_history, "2025Q1", "last_period", 0.1)
    gap = monthly_history.drop(M("2026-05"))
    with pytest.raises(InputError, match="2026-05"):
        growth_targets(gap, "2026Q3", "last_period", 0.1)
    with pytest.raises(InputError, match="frequency"):
        growth_targets(monthly_history, "2026Q3", "last_period", 0.1, freq="M")
    with pytest.raises(InputError, match="basis"):
        growth_targets(monthly_history, "2026Q3", "last_year", 0.1)


def test_parse_period():
    assert parse_period("2026Q3") == Q("2026Q3")
    assert parse_period("2026-09") == M("2026-09")
    assert parse_period(pd.Timestamp("2026-08-16"), "Q") == Q("2026Q3")
    # extension for annual targets: a bare year
    assert parse_period("2026") == pd.Period("2026", freq="Y")
    # a ReviewPeriod from helpers.periods is taken as is
    assert parse_period(parse_review_period("2026Q3")) == Q("2026Q3")
    # quarters and months are read by helpers.periods.parse_period, which is strict
    # (labels end up in paths): "2026-q3" and "2026-9" are no longer accepted
    for bad in ("2026Q5", "2026-13", "Sep 2026", "", "2026-q3", "2026-9"):
        with pytest.raises(InputError, match="cannot read period"):
            parse_period(bad)


def test_period_months_and_base_periods():
    # 2026Q3 → Jul, Aug, Sep ; 2026 → 12 months ; 2026-09 → itself
    assert list(period_months("2026Q3")) == [M("2026-07"), M("2026-08"), M("2026-09")]
    assert len(period_months("2026")) == 12 and period_months("2026")[0] == M("2026-01")
    assert list(period_months("2026-09")) == [M("2026-09")]
    # annual target from a monthly history 2024-01..2025-12 with value 1 each month:
    # last period of 2026 = 2025 = 12 → ×1.1 = 13.2 ; same period last year is also 2025
    h = pd.Series(1.0, index=pd.period_range("2024-01", "2025-12", freq="M"))
    assert growth_targets(h, "2026", "last_period", 0.1) == pytest.approx(13.2)
    assert growth_targets(h, "2026", "same_period_last_year", 0.1) == pytest.approx(13.2)


# ------------------------------------------------------------------ seasonality


def test_seasonal_indices_hand_example_quarterly():
    # period = 4, three years of quarterly data, linear trend + seasonality.
    y = [10, 20, 30, 40, 12, 22, 32, 42, 14, 24, 34, 44]
    s = pd.Series(y, index=pd.period_range("2023Q1", periods=12, freq="Q"), dtype=float)
    # 2×4 centred MA at t (0-based) = (½y[t-2] + y[t-1] + y[t] + y[t+1] + ½y[t+2]) / 4
    # t=2: (5+20+30+40+6)/4 = 25.25   t=3: (10+30+40+12+11)/4 = 25.75
    # t=4: (15+40+12+22+16)/4 = 26.25  t=5: (20+12+22+32+21)/4 = 26.75
    # t=6: (6+22+32+42+7)/4 = 27.25    t=7: (11+32+42+14+12)/4 = 27.75
    # t=8: (16+42+14+24+17)/4 = 28.25  t=9: (21+14+24+34+22)/4 = 28.75
    raw = {
        1: (12 / 26.25 + 14 / 28.25) / 2,  # t=4, t=8
        2: (22 / 26.75 + 24 / 28.75) / 2,  # t=5, t=9
        3: (30 / 25.25 + 32 / 27.25) / 2,  # t=2, t=6
        4: (40 / 25.75 + 42 / 27.75) / 2,  # t=3, t=7
    }
    mean = sum(raw.values()) / 4
    expected = [raw[q] / mean for q in (1, 2, 3, 4)]
    got = seasonal_indices(s, period=4)
    assert list(got.index) == [1, 2, 3, 4]
    assert got.tolist() == pytest.approx(expected, rel=1e-12)
    assert got.mean() == pytest.approx(1.0, abs=1e-15)
    sm = seasonal_decompose(s.to_numpy(), model="multiplicative", period=4).seasonal[:4]
    assert got.tolist() == pytest.approx(list(sm), rel=1e-12)


def test_seasonal_indices_published_textbook_example():
    # Published worked example: quarterly television set sales (1000s) over four years,
    # Anderson, Sweeney & Williams, "Statistics for Business and Economics" (chapter
    # "Time Series Analysis and Forecasting", section "Time series decomposition",
    # table "Television set sales time series"; Table 15.18 in the 12th edition).
    # The book computes the centred moving averages 5.475, 5.738, 5.975, 6.188, …,
    # 7.075, the seasonal-irregular values (e.g. Q3 year 1: 6.0 / 5.475 = 1.096) and the
    # seasonal indexes 0.93, 0.84, 1.09, 1.14 (two decimals; they already sum to 4).
    y = [4.8, 4.1, 6.0, 6.5, 5.8, 5.2, 6.8, 7.4, 6.0, 5.6, 7.5, 7.8, 6.3, 5.9, 8.0, 8.4]
    s = pd.Series(y, index=pd.period_range("2021Q1", periods=16, freq="Q"))
    got = seasonal_indices(s, period=4)
    assert got.round(2).tolist() == [0.93, 0.84, 1.09, 1.14]
    # and the book's first seasonal-irregular value: (½·4.8 + 4.1 + 6.0 + 6.5 + ½·5.8) / 4
    # = 5.475 → 6.0 / 5.475 = 1.096
    assert round(6.0 / ((0.5 * 4.8 + 4.1 + 6.0 + 6.5 + 0.5 * 5.8) / 4), 3) == 1.096


def test_achievability_peer_floor_ignores_rounding_noise():
    # every target is +20 % on its own base, rounded to whole units: 1,234,567 × 1.2 =
    # 1,481,480.4 → 1,481,480, implied growth 0.2 − d (d = 0.4 / 1,234,567 ≈ 3.2e-7) while
    # the others are exactly 0.2.  MAD = 0, so the scale is 1.253314 × mean|x − med| =
    # 1.253314 × d / 5 and z = −d / (1.253314 d / 5) = −5 / 1.253314 = −3.989: an
    # "outlier" made of rounding.  With peer_floor = 0.05 the scale is 0.05, z ≈ −6e-6.
    bases = [100.0, 200.0, 300.0, 400.0, 1_234_567.0]
    hist = pd.DataFrame({"manager_id": list("abcde"), "indicator": "x", "month": "2025-07", "value": bases})
    t = pd.DataFrame({"manager_id": list("abcde"), "indicator": "x", "period": "2026-07",
                      "target": [120.0, 240.0, 360.0, 480.0, 1_481_480.0]})
    noisy = achievability_flags(t, hist, peer_on="growth", min_peers=3)
    assert noisy["peer_ok"].tolist() == [True, True, True, True, False]
    assert noisy["peer_z"].iloc[4] == pytest.approx(-5 / 1.253314, rel=1e-6)
    calm = achievability_flags(t, hist, peer_on="growth", min_peers=3, peer_floor=0.05)
    assert calm["peer_ok"].astype(bool).all() and (calm["peer_z"].abs() < 1e-4).all()


def test_seasonal_indices_equal_statsmodels_monthly_any_start():
    rng = np.random.default_rng(42)
    n = 36
    t = np.arange(n)
    # starts in April: position 0 is calendar month 4
    idx = pd.period_range("2023-04", periods=n, freq="M")
    y = (200 + 3 * t) * (1 + 0.15 * np.sin(2 * np.pi * idx.month.to_numpy() / 12)) + rng.normal(0, 2, n)
    s = pd.Series(y, index=idx)
    got = seasonal_indices(s)
    sm = seasonal_decompose(s.to_timestamp(), model="multiplicative", period=12).seasonal
    # statsmodels' seasonal at position i belongs to calendar month idx[i].month
    expected = pd.Series(sm.to_numpy()[:12], index=idx.month[:12]).sort_index()
    assert list(got.index) == list(range(1, 13))
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-12)
    # the same data with "YYYY-MM" strings gives the same result
    s2 = pd.Series(y, index=[str(p) for p in idx])
    np.testing.assert_allclose(seasonal_indices(s2).to_numpy(), got.to_numpy(), rtol=1e-15)


def test_seasonal_indices_odd_period_positional():
    # odd period: plain 5-term centred MA; RangeIndex → labels are positions 1..5
    rng = np.random.default_rng(3)
    y = 50 + np.arange(15) + 5 * np.tile([1, -1, 2, 0, -2], 3) + rng.random(15)
    got = seasonal_indices(pd.Series(y), period=5)
    assert list(got.index) == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(got.to_numpy(),
                               seasonal_decompose(y, model="multiplicative", period=5).seasonal[:5],
                               rtol=1e-12)


def test_seasonal_indices_errors():
    idx = pd.period_range("2024-01", periods=24, freq="M")
    ok = pd.Series(np.linspace(10, 20, 24), index=idx)
    with pytest.raises(InputError, match="2 full periods"):
        seasonal_indices(ok.iloc[:23])
    zero = ok.copy()
    zero.iloc[5] = 0
    with pytest.raises(InputError, match="2024-06"):
        seasonal_indices(zero)
    gap = ok.drop([M("2024-03"), M("2024-04")])
    gap = pd.concat([gap, pd.Series([30.0, 31.0], index=pd.period_range("2026-01", periods=2, freq="M"))])
    with pytest.raises(InputError, match="2024-03, 2024-04"):
        seasonal_indices(gap)


def test_phase_target_proportional_and_exact():
    idx = pd.Series({m: 1.0 for m in range(1, 13)})
    idx[7], idx[8], idx[9] = 1.2, 1.0, 0.8
    # 300 × 1.2/3.0 = 120, 300 × 1.0/3.0 = 100, 300 × 0.8/3.0 = 80
    got = phase_target(300.0, idx, ["2026-07", "2026-08", "2026-09"])
    assert list(got.index) == [M("2026-07"), M("2026-08"), M("2026-09")]
    assert got.tolist() == pytest.approx([120.0, 100.0, 80.0])
    assert got.sum() == 300.0
    # awkward float total: sum still exact
    idx[7], idx[8], idx[9] = 1.1, 0.97, 0.93
    got = phase_target(1000.1, idx, ["2026-07", "2026-08", "2026-09"])
    assert got.sum() == 1000.1
    # integer customers: quotas 100/3 each → 33 + one left over; equal weights, so the
    # first month in key order gets it → 34, 33, 33
    idx[7] = idx[8] = idx[9] = 1.0
    got = phase_target(100, idx, ["2026-09", "2026-07", "2026-08"])
    assert got.to_dict() == {M("2026-09"): 33, M("2026-07"): 34, M("2026-08"): 33}
    with pytest.raises(InputError, match="season"):
        phase_target(100, pd.Series({1: 1.0}), ["2026-07"])


# ------------------------------------------------------------------ apportionment


def test_apportion_largest_remainder_wikipedia_example():
    # Wikipedia, "Largest remainder method", example with the Hare quota
    # (https://en.wikipedia.org/wiki/Largest_remainder_method): 100,000 votes, 10 seats,
    # Hare quota 10,000 → quotas 4.70, 1.60, 1.58, 1.20, 0.61, 0.31; floors 4,1,1,1,0,0
    # (7 seats); the 3 left go to remainders .70, .61, .60 → 5, 2, 1, 1, 1, 0.
    votes = {"Yellows": 47_000, "Whites": 16_000, "Reds": 15_800, "Greens": 12_000,
             "Blues": 6_100, "Pinks": 3_100}
    got = apportion(10, votes)
    assert got.to_dict() == {"Yellows": 5, "Whites": 2, "Reds": 1, "Greens": 1, "Blues": 1, "Pinks": 0}
    assert got.dtype == np.int64
    # same with float shares (float path)
    shares = {k: v / 100_000 for k, v in votes.items()}
    assert apportion(10, shares).tolist() == [5, 2, 1, 1, 1, 0]


def test_apportion_ties_deterministic():
    # quotas 0.5 / 1.5 → both remainders .5, one unit left → larger weight (y) first
    assert apportion(2, {"x": 1, "y": 3}).to_dict() == {"x": 0, "y": 2}
    # equal weights → key order ascending, whatever the input order
    assert apportion(1, {"b": 1, "a": 1}).to_dict() == {"b": 0, "a": 1}
    assert apportion(2, {"c": 1, "b": 1, "a": 1}).to_dict() == {"c": 0, "b": 1, "a": 1}
    # float weights with a tie after rounding noise: 0.1+0.2 style shares
    assert apportion(1, {"b": 0.1, "a": 0.1}).to_dict() == {"b": 0, "a": 1}


def _hamilton_fraction(total: int, weights: dict[str, int]) -> dict[str, int]:
    """Independent brute force in exact rational arithmetic, same tie rule."""
    W = sum(weights.values())
    quota = {k: Fraction(total * w, W) for k, w in weights.items()}
    parts = {k: math.floor(q) for k, q in quota.items()}
    left = total - sum(parts.values())
    order = sorted(weights, key=lambda k: (-(quota[k] - parts[k]), -weights[k], k))
    for k in order[:left]:
        parts[k] += 1
    return parts


def test_apportion_property_random():
    rng = np.random.default_rng(7)
    for _ in range(400):
        n = int(rng.integers(1, 13))
        keys = [f"k{i:02d}" for i in rng.permutation(n)]
        w_int = rng.integers(0, 30, n)
        if w_int.sum() == 0:
            w_int[0] = 1
        total = int(rng.integers(0, 300))
        weights = dict(zip(keys, map(int, w_int)))
        got = apportion(total, weights)
        assert got.to_dict() == _hamilton_fraction(total, weights)
        # float weights: sum exact and quota rule ⌊q⌋ ≤ part ≤ ⌊q⌋+1
        wf = rng.random(n) * rng.choice([1e-3, 1.0, 1e6])
        got = apportion(total, dict(zip(keys, wf)))
        q = total * wf / wf.sum()
        assert int(got.sum()) == total
        assert np.all(got.to_numpy() >= np.floor(q) - 1e-9)
        assert np.all(got.to_numpy() <= np.floor(q) + 1 + 1e-9)
        # continuous: exact sum and proportional to the weights
        tot = float(rng.random() * 10_000)
        gotf = apportion(tot, dict(zip(keys, wf)))
        assert gotf.sum() == tot
        assert math.fsum(gotf) == tot and sum(gotf.tolist()) == tot  # any summation order
        np.testing.assert_allclose(gotf.to_numpy(), tot * wf / wf.sum(), rtol=1e-9, atol=1e-9)


def test_apportion_rows_is_apportion_row_by_row():
    """apportion_rows (the target engine's monthly phasing of every manager at once) gives
    each row exactly what apportion gives it alone, keys in column order: whole-number
    weights (ties: the larger weight, then the earlier column), fractional weights, zero
    weights, totals of 0, cents; and by hand: 10 over three equal months is 4, 3, 3."""
    np.testing.assert_array_equal(apportion_rows(np.array([10.0, 2.0]), np.array([[1.0, 1.0, 1.0], [1.0, 3.0, 0.0]])),
                                  [[4, 3, 3], [0, 2, 0]])
    rng = np.random.default_rng(11)
    for m, decimals in ((3, 0), (12, 0), (3, 2), (1, 0)):
        n = 600
        whole = rng.integers(0, 5, (n, m)).astype(float)
        frac = rng.random((n, m)) * rng.choice([1e-3, 1.0, 1e6], (n, 1))
        w = np.where(rng.random((n, 1)) < 0.4, whole, frac)
        w[rng.random((n, m)) < 0.1] = 0.0
        w[w.sum(axis=1) == 0, 0] = 1.0
        totals = np.round(rng.choice([0.0, 1.0, 1e3, 1e7], n) * rng.random(n), decimals)
        got = apportion_rows(totals, w, decimals=decimals)
        keys = [f"2026-{j + 1:02d}" for j in range(m)]
        for i in range(n):
            alone = apportion(float(totals[i]), pd.Series(w[i], index=keys), decimals=decimals)
            np.testing.assert_array_equal(got[i], alone.to_numpy(), err_msg=f"row {i}: {totals[i]} over {w[i]}")


def test_apportion_float_and_decimals():
    got = apportion(100.0, {"a": 1, "b": 1, "c": 1})
    assert got.sum() == 100.0
    assert got.tolist() == pytest.approx([100 / 3] * 3)
    # cents: 10000 cents / 3 = 3333.33… → 3333 each + 1 cent to key "a" (tie, key order)
    got = apportion(100.0, {"a": 1, "b": 1, "c": 1}, decimals=2)
    assert got.tolist() == [33.34, 33.33, 33.33]
    with pytest.raises(InputError, match="decimals"):
        apportion(100.001, {"a": 1}, decimals=2)
    with pytest.raises(InputError, match="whole"):
        apportion(10.5, {"a": 1}, integer=True)


def test_apportion_errors():
    with pytest.raises(InputError, match="total"):
        apportion(-5, {"a": 1})
    with pytest.raises(InputError) as e:
        apportion(5, {"a": 1, "b": -2, "c": float("nan")})
    assert "'b'" in str(e.value) and "'c'" in str(e.value) and len(e.value.problems) == 2
    with pytest.raises(InputError, match="all weights are 0"):
        apportion(5, {"a": 0, "b": 0})
    with pytest.raises(InputError, match="no weights"):
        apportion(5, {})
    # weights computed with NumPy are named as numbers, the way a reader writes them
    with pytest.raises(InputError) as e:
        apportion(5, pd.Series([1.0, -2.0], index=["a", "b"]))
    assert e.value.problems[0].what == "weight -2.0 is not a finite number ≥ 0"


def test_apportionment_weights_blend():
    f = pd.DataFrame({"manager_id": ["A", "B"], "historical_share": [30, 70],
                      "customer_base": [50, 50], "market_potential": [1, 3]})
    # shares: hist .3/.7, base .5/.5 ; β = 3:1 → .75/.25
    # A = .75×.3 + .25×.5 = .35 ; B = .75×.7 + .25×.5 = .65
    w = apportionment_weights(f, {"historical_share": 3, "customer_base": 1})
    assert w.to_dict() == pytest.approx({"A": 0.35, "B": 0.65})
    with pytest.raises(InputError, match="region_gdp"):
        apportionment_weights(f, {"historical_share": 1, "region_gdp": 1})
    bad = f.assign(customer_base=[-1, 5])
    with pytest.raises(InputError, match="customer_base"):
        apportionment_weights(bad, {"customer_base": 1})


def test_potential_target():
    # M = 1,000,000 × 5 % = 50,000 ; C = 200 × 300 = 60,000 ; ½M + ½C = 55,000
    assert potential_target(1_000_000, 0.05) == pytest.approx(50_000)
    assert potential_target(1_000_000, 0.05, 200, 300) == pytest.approx(55_000)
    # mix 0.8: 0.8×50,000 + 0.2×60,000 = 52,000
    assert potential_target(1_000_000, 0.05, 200, 300, mix=0.8) == pytest.approx(52_000)
    with pytest.raises(InputError, match="target_share"):
        potential_target(1_000_000, 5)
    with pytest.raises(InputError, match="together"):
        potential_target(1_000_000, 0.05, customer_base=200)


# ------------------------------------------------------------------ reconcile / blend


def test_reconcile_flags_missing_entities():
    td = pd.Series({"A": 100.0, "B": 200.0, "C": 50.0})
    bu = pd.Series({"A": 110.0, "B": 180.0, "D": 30.0})
    r = reconcile(td, bu)
    assert list(r.index) == ["A", "B", "C", "D", "TOTAL"]
    assert r.loc["A", "gap"] == pytest.approx(10) and r.loc["A", "gap_pct"] == pytest.approx(0.10)
    assert r.loc["B", "gap"] == pytest.approx(-20) and r.loc["B", "gap_pct"] == pytest.approx(-0.10)
    assert r.loc["C", "status"] == "missing bottom-up" and np.isnan(r.loc["C", "bottom_up"])
    assert np.isnan(r.loc["C", "gap"])
    assert r.loc["D", "status"] == "missing top-down" and np.isnan(r.loc["D", "top_down"])
    # totals over each side: 350 vs 320 → gap −30, −30/350
    assert r.loc["TOTAL", ["top_down", "bottom_up", "gap"]].tolist() == pytest.approx([350, 320, -30])
    assert r.loc["TOTAL", "gap_pct"] == pytest.approx(-30 / 350)
    assert "2 entities" in r.loc["TOTAL", "status"]
    r0 = reconcile(pd.Series({"A": 0.0}), pd.Series({"A": 5.0}))
    assert r0.loc["A", "status"] == "top-down is 0" and np.isnan(r0.loc["A", "gap_pct"])


def test_blend_targets():
    t = {"growth": pd.Series({"A": 100.0, "B": 200.0}),
         "potential": pd.Series({"A": 200.0, "B": 100.0})}
    # ω = 3:1 → A = .75×100 + .25×200 = 125 ; B = .75×200 + .25×100 = 175
    assert blend_targets(t, {"growth": 3, "potential": 1}).to_dict() == pytest.approx({"A": 125, "B": 175})
    with pytest.raises(InputError, match="peer"):
        blend_targets(t, {"growth": 1, "peer": 1})
    t["potential"] = pd.Series({"A": 200.0})
    with pytest.raises(InputError, match="B"):
        blend_targets(t, {"growth": 1, "potential": 1})


# ------------------------------------------------------------------ CSV input


def test_read_targets_csv_ok(tmp_path):
    p = tmp_path / "targets.csv"
    p.write_text("manager_id,indicator,period,target\nM1,new_customers,2026Q3,60\n\n"
                 "M2,sales,2026-09,1200.5\n", encoding="utf-8")
    df = read_targets_csv(p, ["M1", "M2"], ["new_customers", "sales"])
    assert df["period"].tolist() == [Q("2026Q3"), M("2026-09")]
    assert df["target"].tolist() == [60.0, 1200.5]


def test_read_targets_csv_reports_every_problem(tmp_path):
    p = tmp_path / "targets.csv"
    p.write_text(
        "manager_id,indicator,period,target\n"   # line 1
        "M1,new_customers,2026Q3,60\n"           # line 2 ok
        "M9,new_customers,2026Q3,10\n"           # line 3 unknown manager
        "M2,bogus,2026Q3,10\n"                   # line 4 unknown indicator
        "M1,new_customers,2026Q3,61\n"           # line 5 duplicate of line 2
        "M2,new_customers,2026Q3,abc\n"          # line 6 not a number
        "M2,sales,2026-09,-5\n"                  # line 7 negative
        "M2,sales,2026-13,5\n",                  # line 8 bad period
        encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_targets_csv(p, ["M1", "M2"], ["new_customers", "sales"])
    wheres = [(pr.where, pr.what) for pr in e.value.problems]
    assert len(wheres) == 6
    assert wheres[0][0] == "row 3, column manager_id" and "M9" in wheres[0][1]
    assert wheres[1][0] == "row 4, column indicator" and "bogus" in wheres[1][1]
    assert wheres[2][0] == "row 5" and "duplicate of row 2" in wheres[2][1]
    assert wheres[3][0] == "row 6, column target"
    assert wheres[4][0] == "row 7, column target" and "negative" in wheres[4][1]
    assert wheres[5][0] == "row 8, column period"
    assert all(pr.source == str(p) for pr in e.value.problems)


def test_read_targets_csv_gbk_excel_export(tmp_path):
    # Excel on Chinese Windows writes CSV in GBK; indicator names may be Chinese
    p = tmp_path / "t.csv"
    p.write_bytes("manager_id,indicator,period,target\nM1,新增客户数,2026Q3,60\n".encode("gbk"))
    df = read_targets_csv(p, ["M1"], ["新增客户数"])
    assert df.loc[0, "indicator"] == "新增客户数" and df.loc[0, "target"] == 60.0


def test_read_commitments_csv(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("manager_id,indicator,period\nM1,sales,2026Q3\n", encoding="utf-8")
    with pytest.raises(InputError, match="commitment"):
        read_commitments_csv(p, ["M1"])
    p.write_text("manager_id,indicator,period,commitment\nM1,sales,2026Q3,70\nM1,sales,2026Q3,71\n",
                 encoding="utf-8")
    with pytest.raises(InputError, match="row 3"):
        read_commitments_csv(p, ["M1"])
    p.write_text("manager_id,indicator,period,commitment\nM1,sales,2026Q3,70\n", encoding="utf-8")
    assert read_commitments_csv(p, ["M1"])["commitment"].tolist() == [70.0]


# ------------------------------------------------------------------ SMART checks


def test_implied_growth():
    assert implied_growth(60, 50) == pytest.approx(0.2)
    with pytest.raises(InputError, match="base is 0"):
        implied_growth(10, 0)


def _hist_panel() -> pd.DataFrame:
    rows = []
    for mgr in ["M1", "M2", "M3", "M4", "M5"]:
        for m in ("2025-07", "2025-08", "2025-09"):
            rows.append({"manager_id": mgr, "indicator": "new_customers", "month": M(m), "value": 10.0})
    return pd.DataFrame(rows)


def test_achievability_flags():
    hist = _hist_panel()  # base 2025Q3 = 30 for M1..M5, nothing for M6
    targets = pd.DataFrame({
        "manager_id": ["M1", "M2", "M3", "M4", "M5", "M6", "M1", "M1"],
        "indicator": ["new_customers"] * 6 + ["nps", "new_customers"],
        "period": ["2026Q3"] * 7 + ["2026Q7"],
        "target": [36.0, 60.0, 24.0, 33.0, 30.0, 35.0, 50.0, 10.0],
    })
    f = achievability_flags(targets, hist, band=(-0.1, 0.5), peer_z=2.0,
                            computable={"new_customers"})
    # implied growth: 36/30−1 = .2 ; 60/30−1 = 1.0 ; 24/30−1 = −.2 ; .1 ; 0
    assert f["implied_growth"].iloc[:5].tolist() == pytest.approx([0.2, 1.0, -0.2, 0.1, 0.0])
    assert f["growth_ok"].iloc[:5].tolist() == [True, False, False, True, True]
    assert pd.isna(f.loc[5, "growth_ok"]) and "no base" in f.loc[5, "reason"]
    # peers (new_customers, 2026Q3): 36, 60, 24, 33, 30, 35 → median 34
    # |x − 34| = 2, 26, 10, 1, 4, 1 → MAD = median(1,1,2,4,10,26) = 3 → scale 1.4826×3
    scale = 1.482602218505602 * 3
    expected_z = [(x - 34) / scale for x in (36, 60, 24, 33, 30, 35)]
    assert f["peer_z"].iloc[:6].tolist() == pytest.approx(expected_z, rel=1e-6)
    # |z|: .45, 5.85, 2.25, .22, .90, .22 → M2 and M3 are outliers
    assert f["peer_ok"].iloc[:6].tolist() == [True, False, False, True, True, True]
    assert f.loc[0, "ok"] and f.loc[0, "reason"] == "ok"
    assert not f.loc[1, "ok"] and "+100.0%" in f.loc[1, "reason"] and "outlier" in f.loc[1, "reason"]
    # nps has no data source; 2026Q7 is not a period
    assert not f.loc[6, "measurable"] and "nps" in f.loc[6, "reason"]
    assert not f.loc[7, "time_bound"] and "2026Q7" in f.loc[7, "reason"]
    assert f["time_bound"].iloc[:7].all()


def test_achievability_rejects_bad_input():
    t = pd.DataFrame({"manager_id": ["M1"], "indicator": ["new_customers"], "period": ["2026Q3"],
                      "target": ["lots"]})
    with pytest.raises(InputError, match="lots"):
        achievability_flags(t, _hist_panel())
    t["target"] = [10.0]
    with pytest.raises(InputError, match="duplicate"):
        achievability_flags(t, pd.concat([_hist_panel(), _hist_panel().iloc[:1]]))


def test_achievability_lower_is_better():
    hist = pd.DataFrame({"manager_id": ["M1"] * 3, "indicator": ["complaints"] * 3,
                         "month": ["2025-07", "2025-08", "2025-09"], "value": [4.0, 3.0, 3.0]})
    t = pd.DataFrame({"manager_id": ["M1"], "indicator": ["complaints"], "period": ["2026Q3"],
                      "target": [2.0]})
    # base 10 → target 2: improvement (10 − 2)/10 = 80 % > 50 % band → flagged
    f = achievability_flags(t, hist, lower_is_better={"complaints"})
    assert f.loc[0, "implied_growth"] == pytest.approx(-0.8)
    assert not f.loc[0, "growth_ok"] and "improvement +80.0%" in f.loc[0, "reason"]
    # target 9.5: improvement (10 − 9.5)/10 = 5 % → inside [−10 %, +50 %]
    t["target"] = [9.5]
    assert bool(achievability_flags(t, hist, lower_is_better={"complaints"}).loc[0, "growth_ok"])


# ------------------------------------------------------------------ backtest
# (attainment and pro-rating tests: tests/test_attainment.py)


def _bt_history() -> pd.DataFrame:
    rows = []
    months = pd.period_range("2025-01", "2026-09", freq="M")
    for m in months:
        for mgr, team, base in (("M1", "A", 10.0), ("M2", "B", 20.0)):
            v = base
            if m >= M("2026-07"):
                v = 1_000.0  # huge actuals in the tested quarter: any look-ahead shows
            rows.append({"manager_id": mgr, "team": team, "month": m, "value": v})
    # M3 joins in 2026-08: no history before 2026Q3, partial actuals
    for m in ("2026-08", "2026-09"):
        rows.append({"manager_id": "M3", "team": "A", "month": M(m), "value": 5.0})
    return pd.DataFrame(rows)


def test_backtest_no_look_ahead():
    hist = _bt_history()
    seen: dict[pd.Period, pd.Period] = {}

    def spy(train: pd.DataFrame, p: pd.Period) -> pd.Series:
        seen[p] = train["month"].max()
        return make_growth_method(0.0, basis="last_period")(train, p)

    bt = backtest(hist, spy, ["2026Q2", "2026Q3"], carry=("team",))
    # the method only saw months strictly before each quarter
    assert seen == {Q("2026Q2"): M("2026-03"), Q("2026Q3"): M("2026-06")}
    r = bt.set_index(["manager_id", "period"])
    # 2026Q3 target of M1 = 2026Q2 sum = 3×10 = 30 (not polluted by the 1,000s)
    assert r.loc[("M1", Q("2026Q3")), "target"] == 30.0
    assert r.loc[("M1", Q("2026Q3")), "actual"] == 3000.0
    assert r.loc[("M1", Q("2026Q3")), "attainment"] == pytest.approx(100.0)
    # 2026Q2: target = Q1 sum 60 for M2, actual 60 → 1.0
    assert r.loc[("M2", Q("2026Q2")), "attainment"] == pytest.approx(1.0)
    assert bool(r.loc[("M2", Q("2026Q2")), "reached_target"])
    assert not bool(r.loc[("M2", Q("2026Q2")), "reached_excellence"])
    # M3: no history → no target; actuals 2 of 3 months
    assert r.loc[("M3", Q("2026Q3")), "status"] == "no target"
    assert np.isnan(r.loc[("M3", Q("2026Q3")), "attainment"])
    assert r.loc[("M3", Q("2026Q3")), "months"] == 2
    assert r.loc[("M1", Q("2026Q3")), "team"] == "A"


def test_backtest_rejects_bad_method_output():
    hist = _bt_history()
    with pytest.raises(InputError, match="negative"):
        backtest(hist, lambda tr, p: pd.Series({"M1": -1.0}), ["2026Q2"])
    with pytest.raises(InputError, match="Series"):
        backtest(hist, lambda tr, p: {"M1": 1.0}, ["2026Q2"])


def test_backtest_zero_target_follows_unified_rule():
    # 2026Q2 actuals: M1 3×10 = 30, M2 3×20 = 60.  Targets: M1 0 (actual 30 > 0 →
    # undefined, was +inf), M2 60 → 60/60 = 1.0.
    hist = _bt_history()
    bt = backtest(hist, lambda tr, p: pd.Series({"M1": 0.0, "M2": 60.0}), ["2026Q2"])
    r = bt.set_index("manager_id")
    assert np.isnan(r.loc["M1", "attainment"])
    assert r.loc["M1", "status"] == "target is 0 but actual is not: ratio undefined"
    assert not r.loc["M1", ["reached_threshold", "reached_target", "reached_excellence"]].any()
    assert r.loc["M2", "attainment"] == pytest.approx(1.0) and r.loc["M2", "status"] == "ok"
    # the undefined row is excluded from the distribution, not counted as a success
    d = attainment_distribution(bt)
    assert d.loc[0, "n"] == 1 and d.loc[0, "n_excluded"] == 1 and d.loc[0, "share_target"] == 1.0
    # lower is better: zero complaints against a zero ceiling is the best result (+inf)
    zero = hist.assign(value=0.0)
    bt = backtest(zero, lambda tr, p: pd.Series({"M1": 0.0}), ["2026Q2"], higher_is_better=False)
    assert bt.set_index("manager_id").loc["M1", "attainment"] == np.inf


def test_attainment_distribution():
    att = pd.DataFrame({"team": ["A"] * 6 + ["B"] * 2,
                        "attainment": [0.7, 0.85, 1.0, 1.1, 1.25, np.nan, 0.5, 1.5]})
    d = attainment_distribution(att, by="team").set_index("team")
    # A: 5 valid: ≥.8 → 4/5, ≥1 → 3/5, ≥1.2 → 1/5, median 1.0 ; 1 excluded
    assert d.loc["A", ["n", "n_excluded"]].tolist() == [5, 1]
    assert d.loc["A", ["share_threshold", "share_target", "share_excellence", "median"]].tolist() == \
        pytest.approx([0.8, 0.6, 0.2, 1.0])
    # B: .5, 1.5 → 1/2 each, median 1.0
    assert d.loc["B", ["share_threshold", "share_target", "share_excellence"]].tolist() == \
        pytest.approx([0.5, 0.5, 0.5])
    overall = attainment_distribution(att)
    assert overall.loc[0, "n"] == 7 and overall.loc[0, "share_target"] == pytest.approx(4 / 7)


def test_fairness_flags_last_four_quarters():
    periods = [Q(p) for p in ("2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2")]
    medians = {
        "A": [1.0, 1.2, 1.15, 1.3, 1.0],   # last 4: over in 3 → too easy
        "B": [1.0, 0.85, 0.8, 0.95, 0.7],  # last 4: under in 3 → too hard
        "C": [1.5, 1.2, 1.3, 1.0, 1.0],    # last 4: over in 2 only (2025Q2 is outside)
    }
    rows = []
    for team, ms in medians.items():
        for p, m in zip(periods, ms):
            # three managers around the median m: m−.1, m, m+.1 → median m
            rows += [{"team": team, "period": p, "attainment": m + d} for d in (-0.1, 0.0, 0.1)]
    f = fairness_flags(pd.DataFrame(rows), by="team").set_index("team")
    assert f.loc["A", "flag"] == "systematically over target" and f.loc["A", "periods_over"] == 3
    assert f.loc["B", "flag"] == "systematically under target" and f.loc["B", "periods_under"] == 3
    assert f.loc["C", "flag"] == "" and f.loc["C", "periods_over"] == 2
    assert (f["periods"] == 4).all()
    # a 5-quarter window would flag C (over in 2025Q2, 2025Q3, 2025Q4)
    f5 = fairness_flags(pd.DataFrame(rows), by="team", last_n=5).set_index("team")
    assert f5.loc["C", "flag"] == "systematically over target"
