"""Tests for helpers.core.scoring — expected values are worked out by hand in the comments,
or come from a second method (scipy, a brute-force loop)."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata

from helpers.errors import InputError
from helpers.core.weighting import ranks as weighting_ranks
from helpers.core.scoring import (
    NO_DATA,
    ScoringCurve,
    StepTable,
    attainment,
    combine_hard_soft,
    forced_quotas,
    grade_absolute,
    grade_forced,
    prorate_amount,
    prorate_score,
    prorate_target,
    rank,
    score,
    score_frame,
    weighted_total,
    weighted_total_detail,
)


def problems_where(err: pytest.ExceptionInfo) -> list[str]:
    return [p.where for p in err.value.problems]


# (attainment and pro-rating by dates: tests/test_attainment.py)


# ----------------------------------------------------------------------------- curves


def test_default_curve_at_each_breakpoint_and_in_between():
    c = ScoringCurve()  # 0.8/1.0/1.2 → 0 | 60 .. 100 .. 120
    att = np.array([0.0, 0.79, 0.8, 0.9, 1.0, 1.1, 1.2, 1.5, np.inf, -np.inf, np.nan])
    # 0.9: 60 + (0.9−0.8)/(1.0−0.8)·(100−60) = 60 + 0.5·40 = 80
    # 1.1: 100 + (1.1−1.0)/(1.2−1.0)·(120−100) = 110
    expected = [0, 0, 60, 80, 100, 110, 120, 120, 120, 0, np.nan]
    np.testing.assert_allclose(score(att, c), expected)


def test_other_curve_in_between_values():
    c = ScoringCurve(threshold=0.5, target=1.0, cap=1.5, floor_score=10, threshold_score=50,
                     target_score=100, cap_score=150)
    # 0.75: 50 + 0.25/0.5·50 = 75 ; 1.25: 100 + 0.25/0.5·50 = 125 ; 0.4 < 0.5 → floor 10
    assert score(0.75, c) == pytest.approx(75.0)
    assert score(1.25, c) == pytest.approx(125.0)
    assert score(0.4, c) == pytest.approx(10.0)
    # lower-is-better with zero incidents → +inf → best score
    assert score(attainment(0.0, 0.05, higher_is_better=False), c) == 150.0


def test_flat_curve_when_cap_equals_target():
    c = ScoringCurve(threshold=0.8, target=1.0, cap=1.0, cap_score=100)
    np.testing.assert_allclose(score([0.9, 1.0, 1.3], c), [80, 100, 100])


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(threshold=1.0, target=1.0), "threshold"),
        (dict(threshold=1.1), "threshold"),
        (dict(cap=0.9), "cap"),
        (dict(threshold_score=110), "target_score"),  # target 100 below threshold 110
        (dict(cap_score=90), "cap_score"),
        (dict(floor_score=70), "threshold_score"),
        (dict(cap=1.0), "cap_score"),  # cap = target but cap_score 120 ≠ 100
        (dict(target=float("nan")), "target"),
        (dict(threshold=-0.1), "threshold"),
    ],
)
def test_curve_validation_names_field(kwargs, field):
    with pytest.raises(InputError) as err:
        ScoringCurve(**kwargs)
    assert field in problems_where(err)


def test_curve_from_mapping_rejects_unknown_key():
    with pytest.raises(InputError) as err:
        ScoringCurve.from_mapping({"threshold": 0.8, "treshold_score": 60}, name="sales curve")
    assert problems_where(err) == ["treshold_score"]
    assert err.value.problems[0].source == "sales curve"


def test_step_table_bands():
    st = StepTable([(0.8, 60), (1.0, 100), (1.2, 120)])
    # lower bounds inclusive; below the first band → 0
    got = score(pd.Series([0.5, 0.8, 0.99, 1.0, 1.19, 1.2, 3.0, np.nan]), st)
    np.testing.assert_allclose(got.to_numpy(), [0, 60, 60, 100, 100, 120, 120, np.nan])


@pytest.mark.parametrize(
    "bands, where",
    [
        ([(1.0, 100), (0.8, 60)], "bands[1]"),  # unordered
        ([(0.8, 60), (0.8, 70)], "bands[1]"),  # duplicate bound (overlap)
        ([(0.8, 60), (1.0, 50)], "bands[1]"),  # decreasing score
        ([(0.8, 60), ("x", 70)], "bands[1]"),
    ],
)
def test_step_table_validation(bands, where):
    with pytest.raises(InputError) as err:
        StepTable(bands)
    assert where in problems_where(err)


def test_score_frame_per_indicator_curves():
    att = pd.DataFrame({"sales": [0.9, 1.1], "complaints": [1.0, np.nan]}, index=["m1", "m2"])
    curves = {"sales": ScoringCurve(), "complaints": StepTable([(1.0, 100)])}
    got = score_frame(att, curves)
    # sales 0.9 → 80, 1.1 → 110 (see default curve test); complaints 1.0 → 100, NaN → NaN
    np.testing.assert_allclose(got.to_numpy(), [[80, 100], [110, np.nan]])
    with pytest.raises(InputError) as err:
        score_frame(att, {"sales": ScoringCurve()})
    assert problems_where(err) == ["complaints"]


# ----------------------------------------------------------------------------- totals


SCORES = pd.DataFrame(
    {"a": [100.0, 90.0, np.nan], "b": [80.0, 70.0, np.nan], "c": [60.0, np.nan, np.nan], "note": [1.0, 2.0, 3.0]},
    index=["m1", "m2", "m3"],
)
WEIGHTS = pd.Series({"a": 50.0, "b": 30.0, "c": 20.0})


def test_weighted_total_renormalises_missing_indicator():
    d = weighted_total_detail(SCORES, WEIGHTS)
    # m1: (100·50 + 80·30 + 60·20)/100 = (5000 + 2400 + 1200)/100 = 86
    # m2: c missing → (90·50 + 70·30)/(50 + 30) = 6600/80 = 82.5, weight available 80/100
    # m3: nothing → NaN (no data), weight available 0
    assert d.loc["m1", "total"] == pytest.approx(86.0)
    assert d.loc["m2", "total"] == pytest.approx(82.5)
    assert math.isnan(d.loc["m3", "total"])
    np.testing.assert_allclose(d["weight_available"], [1.0, 0.8, 0.0])
    s = weighted_total(SCORES, WEIGHTS / 100)  # same weights on another scale
    assert s["m2"] == pytest.approx(82.5)
    np.testing.assert_allclose(s.attrs["weight_available"], [1.0, 0.8, 0.0])


def test_weighted_total_min_available_and_strict():
    d = weighted_total_detail(SCORES, WEIGHTS, min_available=0.9)
    assert d.loc["m1", "total"] == pytest.approx(86.0)
    assert math.isnan(d.loc["m2", "total"]) and d.loc["m2", "weight_available"] == pytest.approx(0.8)
    with pytest.raises(InputError) as err:
        weighted_total(SCORES, WEIGHTS, strict=True)
    assert "m2/c" in str(err.value)


def test_weighted_total_bad_weights():
    with pytest.raises(InputError) as err:
        weighted_total(SCORES, pd.Series({"a": 1.0, "zz": 1.0, "yy": 2.0}))
    assert "zz" in str(err.value) and "yy" in str(err.value)
    with pytest.raises(InputError) as err:
        weighted_total(SCORES, pd.Series({"a": -1.0, "b": 2.0}))
    assert problems_where(err) == ["a"]
    with pytest.raises(InputError):
        weighted_total(SCORES, pd.Series({"a": 0.0}))


def test_weighted_total_matches_loop():
    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.uniform(0, 120, (50, 6)), columns=list("abcdef"))
    x = x.mask(rng.random((50, 6)) < 0.2)
    w = pd.Series(rng.uniform(0.5, 3, 6), index=list("abcdef"))
    got = weighted_total(x, w)
    for i in range(50):
        num = den = 0.0
        for c in x.columns:
            if not np.isnan(x.loc[i, c]):
                num += w[c] * x.loc[i, c]
                den += w[c]
        exp = num / den if den else np.nan
        assert got[i] == pytest.approx(exp, nan_ok=True)


def test_combine_hard_soft():
    hard = pd.Series([90.0, 100.0, np.nan], index=["m1", "m2", "m3"])
    soft = pd.Series([80.0, 50.0, 90.0], index=["m1", "m2", "m3"])
    got = combine_hard_soft(hard, soft)
    # 0.7·90 + 0.3·80 = 63 + 24 = 87 ; 0.7·100 + 0.3·50 = 85 ; NaN hard → NaN
    assert got["m1"] == pytest.approx(87.0)
    assert got["m2"] == pytest.approx(85.0)
    assert math.isnan(got["m3"])
    # 0.5 split: (90 + 80)/2 = 85
    assert combine_hard_soft(hard, soft, split=0.5)["m1"] == pytest.approx(85.0)
    with pytest.raises(InputError):
        combine_hard_soft(hard, soft, split=1.5)
    with pytest.raises(InputError):
        combine_hard_soft(hard, soft.rename({"m3": "m4"}))


# ----------------------------------------------------------------------------- rank & grades


def test_rank_ties_share_minimum_rank():
    s = pd.Series([90.0, 80.0, 80.0, 70.0, np.nan], index=list("abcde"))
    r = rank(s)
    assert r.iloc[:4].tolist() == [1, 2, 2, 4]  # competition ranking 1-2-2-4
    assert r.isna().tolist() == [False] * 4 + [True]
    # second method: scipy rankdata on the negated scores
    np.testing.assert_array_equal(r.iloc[:4].to_numpy(dtype=int), rankdata(-s.iloc[:4], method="min"))


def test_rank_within_team():
    s = pd.Series([90.0, 80.0, 95.0, 80.0, 60.0], index=list("abcde"))
    team = pd.Series(["x", "x", "y", "y", "y"], index=list("abcde"))
    # team x: a 90 → 1, b 80 → 2 ; team y: c 95 → 1, d 80 → 2, e 60 → 3
    assert rank(s, team).tolist() == [1, 2, 1, 2, 3]
    with pytest.raises(InputError):
        rank(s, team.where(team != "x"))


def test_rank_is_weighting_ranks_plus_no_data_and_groups():
    # float noise does not break a tie (scores rounded to 9 decimals, as in
    # helpers.core.weighting.ranks and grade_forced): 0.1 + 0.2 and 0.3 tie for 2nd
    s = pd.Series([0.5, 0.1 + 0.2, 0.3, np.nan, 0.1], index=list("abcde"))
    r = rank(s)
    assert r.tolist()[:3] == [1, 2, 2] and r["e"] == 4 and r.isna().tolist() == [False] * 3 + [True, False]
    assert r.dtype == "Int64" and r.name == "rank"
    # without NaN it is exactly weighting.ranks
    full = pd.Series([3.0, 1.0, 2.0, 3.0], index=["w", "x", "y", "z"])
    assert rank(full).tolist() == weighting_ranks(full).tolist() == [1, 4, 3, 1]
    # groups with a NaN score: team x = a 90 → 1, b NaN → <NA>, c 90 → 1 ; team y = d → 1
    s = pd.Series([90.0, np.nan, 90.0, 10.0], index=list("abcd"))
    team = pd.Series(["x", "x", "x", "y"], index=list("abcd"))
    got = rank(s, team)
    assert got[["a", "c", "d"]].tolist() == [1, 1, 1] and pd.isna(got["b"])
    # nothing to rank: all <NA>
    assert rank(pd.Series([np.nan, np.nan])).isna().all()


def test_grade_absolute_boundaries():
    t = pd.Series([120, 110, 109.99, 100, 99.99, 85, 84.99, 70, 69.99, 0, -5, np.nan])
    # S ≥ 110, A ≥ 100, B ≥ 85, C ≥ 70, D ≥ 0 (and below); NaN → "no data"
    expected = ["S", "S", "A", "A", "B", "B", "C", "C", "D", "D", "D", NO_DATA]
    assert grade_absolute(t).tolist() == expected
    assert grade_absolute(100.0 - 1e-12) == "A"  # rounding noise does not drop a grade
    assert grade_absolute(85.0, {"pass": 60, "fail": 0}) == "pass"


def test_forced_quotas_largest_remainder():
    assert forced_quotas(10) == {"A": 2, "B": 7, "C": 1}
    # n = 7: raw 1.4 / 4.9 / 0.7 → floors 1/4/0, 2 seats left → largest remainders .9 (B), .7 (C)
    assert forced_quotas(7) == {"A": 1, "B": 5, "C": 1}
    # n = 3: raw 0.6 / 2.1 / 0.3 → floors 0/2/0, 1 seat → .6 (A)
    assert forced_quotas(3) == {"A": 1, "B": 2, "C": 0}
    for n in range(0, 60):
        assert sum(forced_quotas(n).values()) == n


def test_grade_forced_group_of_ten_no_ties():
    t = pd.Series([100, 95, 92, 90, 88, 85, 80, 75, 70, 60.0], index=[f"m{i}" for i in range(10)])
    g = grade_forced(t.sample(frac=1, random_state=0))  # order of rows must not matter
    assert g.reindex(t.index).tolist() == ["A"] * 2 + ["B"] * 7 + ["C"]


def test_grade_forced_tie_across_a_b_boundary_gets_better_grade():
    # quotas 2/7/1. Positions 1 and 2 tie at 95 across the A|B boundary → both A;
    # B keeps the cumulative boundary at 9, so B gets positions 3..8 (6), C position 9.
    t = pd.Series([100, 95, 95, 90, 88, 85, 80, 75, 70, 60.0])
    assert grade_forced(t).tolist() == ["A", "A", "A"] + ["B"] * 6 + ["C"]


def test_grade_forced_tie_across_b_c_boundary_and_no_data():
    # last two tie at 70 across the B|C boundary → both B, C quota shrinks to 0;
    # the NaN manager is "no data" and does not count in the group size (still 10).
    t = pd.Series([100, 95, 92, 90, 88, 85, 80, 75, 70, 70.0, np.nan])
    assert grade_forced(t).tolist() == ["A"] * 2 + ["B"] * 8 + [NO_DATA]


def test_grade_forced_tie_breaker():
    t = pd.Series([100, 95, 95, 90, 88, 85, 80, 75, 70, 60.0])
    tb = pd.Series([1.0, 0.9, 1.3, 1, 1, 1, 1, 1, 1, 1])
    # the two 95s are split by sales attainment: 1.3 → A (position 1), 0.9 → B (position 2)
    assert grade_forced(t, tie_breaker=tb).tolist() == ["A", "B", "A"] + ["B"] * 6 + ["C"]


def _brute_force_forced(total, groups, dist):
    """Independent loop version of the documented rule."""
    labels = list(dist)
    out = {}
    for g in pd.unique(groups):
        idx = [i for i in total.index if groups[i] == g and not np.isnan(total[i])]
        n = len(idx)
        # Hamilton quotas by hand
        raw = [n * dist[k] for k in labels]
        q = [math.floor(r + 1e-9) for r in raw]
        rem = sorted(range(len(labels)), key=lambda k: (-(round(raw[k] - q[k], 9)), k))
        for k in rem[: n - sum(q)]:
            q[k] += 1
        bounds = np.cumsum(q)
        ordered = sorted(idx, key=lambda i: -total[i])
        pos = 0
        while pos < n:
            block = [i for i in ordered if total[i] == total[ordered[pos]]]
            # the grade holding most of the block's places; the better one on an even split
            places = [sum(1 for x in range(pos, pos + len(block)) if (bounds[j - 1] if j else 0) <= x < bounds[j])
                      for j in range(len(labels))]
            k = places.index(max(places))
            for i in block:
                out[i] = labels[k]
            pos += len(block)
    return [out.get(i, NO_DATA) for i in total.index]


def test_grade_forced_matches_brute_force_with_groups_and_ties():
    rng = np.random.default_rng(7)
    n = 300
    total = pd.Series(rng.integers(60, 75, n).astype(float))  # many ties
    total[rng.random(n) < 0.05] = np.nan
    groups = pd.Series(rng.choice(["t1", "t2", "t3", "t4"], n))
    dist = {"S": 0.1, "A": 0.2, "B": 0.5, "C": 0.15, "D": 0.05}
    got = grade_forced(total, dist, groups=groups).tolist()
    assert got == _brute_force_forced(total, groups, dist)


def test_grade_forced_validation():
    t = pd.Series([1.0, 2.0])
    with pytest.raises(InputError):
        grade_forced(t, {"A": 0.5, "B": 0.6})
    with pytest.raises(InputError):
        grade_forced(t, {"A": 0.5, NO_DATA: 0.5})


# ----------------------------------------------------------------------------- pro-rating


def test_prorate_amount_target_score_rules():
    assert prorate_amount(1000.0, 16 / 31) == pytest.approx(516.129, abs=1e-3)
    assert prorate_target(310000.0, 0.5) == pytest.approx(155000.0)
    assert prorate_score(95.0, 0.5, targets_prorated=True) == 95.0
    with pytest.raises(InputError):
        prorate_score(95.0, 0.5, targets_prorated=False)
    with pytest.raises(InputError):
        prorate_amount(1000.0, 1.5)


# ----------------------------------------------------------------------------- speed


def test_timing_100k_managers_20_indicators():
    rng = np.random.default_rng(0)
    cols = [f"k{i}" for i in range(20)]
    actual = pd.DataFrame(rng.uniform(0, 150, (100_000, 20)), columns=cols)
    actual = actual.mask(rng.random(actual.shape) < 0.02)
    target = pd.DataFrame(100.0, index=actual.index, columns=cols)
    weights = pd.Series(rng.uniform(1, 5, 20), index=cols)
    t0 = time.perf_counter()
    att = attainment(actual, target, cap=1.5)
    sc = score_frame(att, ScoringCurve())
    total = weighted_total(sc, weights)
    grades = grade_absolute(total)
    elapsed = time.perf_counter() - t0
    print(f"\nscoring 100,000 managers × 20 indicators (attainment, curve, weighted total, grade): {elapsed:.3f} s")
    assert len(grades) == 100_000 and total.notna().all()
