"""Tests for helpers.core.health — the plan health check of an incentive plan.

Every expectation is worked out by hand in the comments: ranks and d² for Spearman
(``1 − 6Σd²/(n(n²−1))`` without ties, the Pearson correlation of average ranks with
ties), the shares at the floor and at the maximum counted per indicator, the cost
ratio and the timing share.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from helpers.core.health import CHECK_CODES, Check, Health, plan_health, spearman
from helpers.errors import InputError

IDS = ["M1", "M2", "M3", "M4", "M5"]


def base_rows(**changes) -> pd.DataFrame:
    """Five managers.

    payout    100 300 200 500 400  → ranks 1 3 2 5 4
    total      60  70  80  90  95  → ranks 1 2 3 4 5   d = 0 1 −1 1 −1, Σd² = 4
                                      rho_total = 1 − 6·4/(5·24) = 1 − 0.2 = 0.8
    territory   5   1   4   2   3  → ranks 5 1 4 2 3   d = −4 2 −2 3 1, Σd² = 34
                                      rho_territory = 1 − 6·34/120 = 1 − 1.7 = −0.7
    payout_even 100 310 195 500 NaN → differences 0 +10 −5 0 (M5 left out)
    """
    df = pd.DataFrame(
        {
            "payout": [100.0, 300.0, 200.0, 500.0, 400.0],
            "total": [60.0, 70.0, 80.0, 90.0, 95.0],
            "territory": [5.0, 1.0, 4.0, 2.0, 3.0],
            "payout_even": [100.0, 310.0, 195.0, 500.0, np.nan],
        },
        index=pd.Index(IDS, name="manager_id"),
    )
    for col, vals in changes.items():
        df[col] = vals
    return df


def healthy_scores() -> pd.DataFrame:
    """a (max 40): 10 20 30 40 25 → at 0: 0/5, at 40: 1/5 = 0.2
    b (max 30): 0 15 20 25 30  → at 0: 1/5 = 0.2, at 30: 1/5 = 0.2   (all ≤ 0.25)"""
    return pd.DataFrame({"a": [10.0, 20.0, 30.0, 40.0, 25.0], "b": [0.0, 15.0, 20.0, 25.0, 30.0]},
                        index=pd.Index(IDS, name="manager_id"))


MAX = {"a": 40.0, "b": 30.0}
COST = {0.8: 80_000.0, 1.0: 110_000.0, 1.2: 150_000.0}


def healthy(**kw) -> Health:
    args = {"cost_at": COST, "budget": 100_000.0}
    args.update(kw)
    rows = args.pop("rows", base_rows())
    scores = args.pop("scores", healthy_scores())
    max_scores = args.pop("max_scores", MAX)
    return plan_health(rows, scores, max_scores, **args)


# ----------------------------------------------------------------------------- Spearman


def test_spearman_without_ties_matches_the_d_squared_formula():
    h = healthy()
    assert h.rho_total == pytest.approx(0.8)
    assert h.rho_territory == pytest.approx(-0.7)
    c = h.check("pay_follows_score")
    assert c.passed is True
    assert c.values["rho_total"] == pytest.approx(0.8) and c.values["rho_territory"] == pytest.approx(-0.7)
    assert c.values["n"] == 5 and c.values["n_territory"] == 5 and "note" not in c.values
    # the standalone function gives the same numbers
    r = base_rows()
    assert spearman(r["payout"], r["total"]) == pytest.approx(0.8)
    assert spearman(r["payout"], r["territory"]) == pytest.approx(-0.7)


def test_spearman_with_ties_uses_average_ranks():
    # payout 100 200 200 300 400 400 → ranks 1 2.5 2.5 4 5.5 5.5 (mean 3.5)
    # total    1   2   3   3   5   6 → ranks 1 2   3.5 3.5 5 6   (mean 3.5)
    # deviations payout: −2.5 −1 −1 0.5 2 2      Σ² = 6.25+1+1+0.25+4+4 = 16.5
    # deviations total:  −2.5 −1.5 0 0 1.5 2.5   Σ² = 6.25+2.25+0+0+2.25+6.25 = 17
    # Σ products = 6.25 + 1.5 + 0 + 0 + 3 + 5 = 15.75
    # rho = 15.75 / √(16.5·17) = 15.75 / √280.5 = 0.940403…
    # (the no-ties formula would give Σd² = 0+0.25+1+0.25+0.25+0.25 = 2 → 1 − 12/210 = 0.942857: not it)
    payout = pd.Series([100.0, 200.0, 200.0, 300.0, 400.0, 400.0])
    total = pd.Series([1.0, 2.0, 3.0, 3.0, 5.0, 6.0])
    expected = 15.75 / math.sqrt(280.5)
    got = spearman(payout, total)
    assert got == pytest.approx(expected, abs=1e-12)
    assert got != pytest.approx(1 - 12 / 210, abs=1e-4)
    try:
        from scipy.stats import spearmanr
    except ImportError:  # pragma: no cover - scipy is optional
        return
    assert got == pytest.approx(float(spearmanr(payout, total)[0]), abs=1e-12)


# ----------------------------------------------------------------------------- verdicts


def test_every_check_passes_gives_performance():
    h = healthy()
    assert [c.code for c in h.checks] == list(CHECK_CODES)
    assert all(isinstance(c, Check) and c.passed for c in h.checks), h.checks
    assert h.verdict == "performance" and h.passed is True


def test_pay_following_territory_gives_territory_even_when_other_checks_fail():
    # territory 10 30 20 50 40 → ranks 1 3 2 5 4 = the payout ranks → rho_territory = 1.0 > 0.8
    rows = base_rows(territory=[10.0, 30.0, 20.0, 50.0, 40.0])
    h = healthy(rows=rows, near_cliff=2)
    assert h.rho_territory == pytest.approx(1.0) and h.rho_total == pytest.approx(0.8)
    assert h.check("pay_follows_score").passed is False
    assert h.check("near_cliff").passed is False
    assert h.verdict == "territory" and h.passed is False


def test_equal_correlations_count_for_the_score():
    # total and territory both rank like the payout → rho 1.0 each: rho_total >= rho_territory passes
    rows = base_rows(total=[1.0, 3.0, 2.0, 5.0, 4.0], territory=[10.0, 30.0, 20.0, 50.0, 40.0])
    h = healthy(rows=rows)
    assert h.rho_total == pytest.approx(1.0) and h.rho_territory == pytest.approx(1.0)
    assert h.check("pay_follows_score").passed is True
    assert h.verdict == "performance"


def test_another_failed_check_gives_review():
    h = healthy(near_cliff=3)
    c = h.check("near_cliff")
    assert c.passed is False and c.values == {"n": 3}
    assert h.near_cliff == 3
    assert [x.code for x in h.checks if not x.passed] == ["near_cliff"]
    assert h.verdict == "review" and h.passed is False


# ----------------------------------------------------------------------------- NaN handling


def test_nan_total_or_payout_is_left_out_of_both_correlations():
    # M6: total NaN, payout 1000, territory 0.5. Included in the territory correlation it
    # would give payout ranks 1 3 2 5 4 6 vs territory ranks 6 2 5 3 4 1, d = −5 1 −3 2 0 5,
    # Σd² = 64 → 1 − 384/210 = −0.829; left out, rho_territory stays −0.7.
    # M7: payout NaN → also out.
    rows = pd.concat([base_rows(), pd.DataFrame(
        {"payout": [1000.0, np.nan], "total": [np.nan, 100.0], "territory": [0.5, 9.0],
         "payout_even": [np.nan, np.nan]}, index=pd.Index(["M6", "M7"], name="manager_id"))])
    h = healthy(rows=rows)
    assert h.rho_total == pytest.approx(0.8)
    assert h.rho_territory == pytest.approx(-0.7)
    c = h.check("pay_follows_score")
    assert c.values["n"] == 5 and c.values["n_territory"] == 5


def test_nan_territory_is_left_out_of_the_territory_correlation_only():
    # M3 territory NaN: payout 100 300 500 400 → ranks 1 2 4 3; territory 5 1 2 3 → ranks 4 1 2 3
    # d = −3 1 2 0, Σd² = 14 → 1 − 6·14/(4·15) = 1 − 1.4 = −0.4; rho_total still 0.8 over 5
    h = healthy(rows=base_rows(territory=[5.0, 1.0, np.nan, 2.0, 3.0]))
    assert h.rho_total == pytest.approx(0.8)
    assert h.rho_territory == pytest.approx(-0.4)
    assert h.check("pay_follows_score").values["n_territory"] == 4


def test_fewer_than_three_managers_gives_nan_and_a_failed_check():
    # M2 and M3 only (their scores a 20/30, b 15/20 sit at no floor or cap; timing 15/500 = 0.03)
    rows = base_rows().iloc[1:3]
    scores = healthy_scores().iloc[1:3]
    h = healthy(rows=rows, scores=scores)
    assert math.isnan(h.rho_total) and math.isnan(h.rho_territory)
    c = h.check("pay_follows_score")
    assert c.passed is False
    assert c.values["note"] == "too_few_managers" and c.values["n"] == 2
    # the other checks pass, the verdict is neither performance nor territory
    assert all(x.passed for x in h.checks if x.code != "pay_follows_score")
    assert h.verdict == "review"
    # three managers are enough
    assert not math.isnan(healthy(rows=base_rows().iloc[:3], scores=healthy_scores().iloc[:3]).rho_total)


def test_a_constant_side_gives_nan():
    h = healthy(rows=base_rows(total=[80.0] * 5))
    assert math.isnan(h.rho_total) and h.rho_territory == pytest.approx(-0.7)
    c = h.check("pay_follows_score")
    assert c.passed is False and c.values["note"] == "constant" and c.values["note_on"] == "total"
    assert h.verdict == "review"


# ----------------------------------------------------------------------------- zero and cap shares


def test_shares_at_floor_and_cap_counted_by_hand():
    # a (floor 0, max 40):  0 40 20 NaN 40 → 4 scored; at 0: 1 → 1/4 = 0.25; at 40: 2 → 0.5
    # b (floor 5, max 30):  5 5 10 30 12   → 5 scored; at 5: 2 → 0.4;        at 30: 1 → 0.2
    # c (max 30): nobody scored → NaN, NaN
    scores = pd.DataFrame({"a": [0.0, 40.0, 20.0, np.nan, 40.0], "b": [5.0, 5.0, 10.0, 30.0, 12.0],
                           "c": [np.nan] * 5}, index=IDS)
    h = healthy(scores=scores, max_scores={"a": 40, "b": 30, "c": 30}, floor_scores={"b": 5})
    assert h.zero_share["a"] == pytest.approx(0.25) and h.zero_share["b"] == pytest.approx(0.4)
    assert h.cap_share["a"] == pytest.approx(0.5) and h.cap_share["b"] == pytest.approx(0.2)
    assert math.isnan(h.zero_share["c"]) and math.isnan(h.cap_share["c"])
    z, k = h.check("zero_share"), h.check("cap_share")
    assert z.passed is False and z.values["indicator"] == "b" and z.values["share"] == pytest.approx(0.4)
    assert z.values["limit"] == 0.25 and z.values["n_over"] == 1  # a at exactly 0.25 is not over
    assert k.passed is False and k.values["indicator"] == "a" and k.values["share"] == pytest.approx(0.5)
    assert h.verdict == "review"
    # default floor 0: b has no 0 → share 0; a's 0.25 equals the limit → passes
    h0 = healthy(scores=scores, max_scores={"a": 40, "b": 30, "c": 30})
    assert h0.zero_share["b"] == 0.0
    assert h0.check("zero_share").passed is True and h0.check("zero_share").values["indicator"] == "a"
    # a looser cap limit lets 0.5 pass
    assert healthy(scores=scores, max_scores={"a": 40, "b": 30, "c": 30}, max_cap_share=0.5).check(
        "cap_share").passed is True


def test_an_indicator_without_a_maximum_is_refused():
    with pytest.raises(InputError, match="no maximum score for b"):
        healthy(max_scores={"a": 40})


# ----------------------------------------------------------------------------- cost


def test_cost_ratio_against_budget():
    # budget 100,000: 80,000/100,000 = 0.8 ; 110,000/100,000 = 1.1 ; 150,000/100,000 = 1.5
    h = healthy()
    assert list(h.cost.index) == [0.8, 1.0, 1.2]
    assert list(h.cost.columns) == ["cost", "budget", "ratio"]
    np.testing.assert_allclose(h.cost["ratio"], [0.8, 1.1, 1.5])
    c = h.check("cost")
    assert c.passed is True and c.values["cost"] == 110_000 and c.values["ratio"] == pytest.approx(1.1)
    # budget 90,000: 110,000/90,000 = 1.222 > 1.2 → fails
    c = healthy(budget=90_000.0).check("cost")
    assert c.passed is False and c.values["ratio"] == pytest.approx(110 / 90)
    # budget 140,000: 110/140 = 0.786 < 0.8 → fails (too cheap to motivate)
    assert healthy(budget=140_000.0).check("cost").passed is False
    # a wider band (0.7, 1.3) lets 1.222 pass
    assert healthy(budget=90_000.0, cost_band=(0.7, 1.3)).check("cost").passed is True


def test_cost_without_budget_or_without_level_one_passes_with_a_note():
    h = healthy(budget=None)
    assert h.cost["ratio"].isna().all() and h.cost["budget"].isna().all()
    c = h.check("cost")
    assert c.passed is True and c.values["note"] == "no_budget"
    c = healthy(cost_at={0.8: 80_000.0, 1.2: 150_000.0}).check("cost")
    assert c.passed is True and c.values["note"] == "no_cost_at_target"
    h = healthy(cost_at=None, budget=None)
    assert h.cost.empty and h.check("cost").passed is True


# ----------------------------------------------------------------------------- timing


def test_timing_share_by_hand():
    # base: differences M1 0, M2 +10, M3 −5, M4 0 (M5 has no payout_even: out)
    # Σ|d| = 15; payout of the same four = 100+300+200+500 = 1100; share = 15/1100 = 0.01364 ≤ 0.05
    h = healthy()
    assert list(h.timing.index) == ["M1", "M2", "M3", "M4"]
    assert list(h.timing.columns) == ["payout", "payout_even", "difference"]
    assert h.timing["difference"].tolist() == [0.0, 10.0, -5.0, 0.0]
    c = h.check("timing")
    assert c.passed is True
    assert c.values["total_abs"] == 15.0 and c.values["share"] == pytest.approx(15 / 1100)
    assert c.values["manager_id"] == "M2" and c.values["amount"] == 10.0


def test_timing_fails_when_booking_dates_move_pay():
    # M2 even 400 → +100, M3 195 → −5: Σ|d| = 105, share = 105/1100 = 0.0955 > 0.05
    h = healthy(rows=base_rows(payout_even=[100.0, 400.0, 195.0, 500.0, np.nan]))
    c = h.check("timing")
    assert c.passed is False and c.values["share"] == pytest.approx(105 / 1100)
    assert c.values["manager_id"] == "M2" and c.values["amount"] == 100.0
    assert h.verdict == "review"
    # the worst by absolute amount, sign kept: M3 even 100 → −100 beats M2's +10
    c = healthy(rows=base_rows(payout_even=[100.0, 310.0, 100.0, 500.0, np.nan])).check("timing")
    assert c.values["manager_id"] == "M3" and c.values["amount"] == -100.0
    assert c.values["total_abs"] == 110.0 and c.passed is False  # 110/1100 = 0.1
    # a looser limit (0.10) passes 0.0955
    assert healthy(rows=base_rows(payout_even=[100.0, 400.0, 195.0, 500.0, np.nan]),
                   max_timing_share=0.10).check("timing").passed is True


def test_timing_without_payout_even_passes_with_a_note():
    h = healthy(rows=base_rows().drop(columns="payout_even"))
    c = h.check("timing")
    assert c.passed is True and c.values["note"] == "no_payout_even"
    assert h.timing.empty
    assert h.verdict == "performance"


# ----------------------------------------------------------------------------- inputs and import


def test_bad_inputs_are_input_errors():
    with pytest.raises(InputError, match="territory"):
        healthy(rows=base_rows().drop(columns="territory"))
    with pytest.raises(InputError):
        healthy(max_zero_share=1.5)
    with pytest.raises(InputError):
        healthy(near_cliff=-1)
    with pytest.raises(InputError):
        healthy(budget=0.0)


def test_values_are_plain_numbers_and_codes():
    h = healthy()
    for c in h.checks:
        for k, v in c.values.items():
            assert type(v) in (int, float, str, bool), (c.code, k, type(v))


def test_module_imports_on_its_own():
    proc = subprocess.run([sys.executable, "-c", "import helpers.core.health"], check=False, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
