"""Tests for helpers.core.weighting.

Expected values come from (a) hand arithmetic written out in the comments,
(a') worked examples from the published literature (cited in each test: Saaty
1990 and 2008 for AHP, Zavadskas & Podvezko 2016 and Xu 2004 for entropy, Tuş &
Aytaç Adalı 2019 for CRITIC),
(b) mathematical facts with a citation (a consistent matrix a_ij = w_i/w_j has
principal eigenvector w and λmax = n, Saaty 1977; for n = 3 the eigenvector and
row-geometric-mean priorities coincide, Crawford & Williams 1985), or (c) a second,
independent computation in the test (power iteration, scipy.linalg.eig, the
statistics module, brute-force loops, Monte-Carlo).
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
from scipy.stats import rankdata

from helpers.errors import InputError
from helpers.core.weighting import (
    RI_TABLES,
    _competition_ranks,
    ahp,
    biggest_movers,
    blend_weights,
    critic_weights,
    direct_weights,
    entropy_weights,
    group_ahp,
    minmax_normalise,
    rank_correlations,
    ranks,
    robustness,
    sample_weights,
    scenario_table,
    simulate_ranks,
    weighted_scores,
)

LABELS = ["sales", "csat", "retention"]
# A common 3 × 3 textbook-style matrix (used only with independent checks below).
A3 = [[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]]


def consistent(w: list[float]) -> np.ndarray:
    """a_ij = w_i / w_j: perfectly consistent (Saaty 1977)."""
    w_arr = np.asarray(w, dtype=float)
    return w_arr[:, None] / w_arr[None, :]


def power_iteration(a: np.ndarray, iters: int = 2000) -> tuple[np.ndarray, float]:
    """Perron vector by repeated multiplication (independent of numpy.linalg.eig)."""
    x = np.ones(a.shape[0])
    for _ in range(iters):
        y = a @ x
        x = y / y.sum()
    lam = float((a @ x).sum() / x.sum())  # Σ(Ax) / Σx = λ when Ax = λx
    return x, lam


# ============================================================ direct weights


def test_direct_weights_normalise():
    # 2, 1, 1 → 0.5, 0.25, 0.25
    w = direct_weights({"sales": 2, "csat": 1, "retention": 1})
    assert w.to_dict() == pytest.approx({"sales": 0.5, "csat": 0.25, "retention": 0.25})
    assert w.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "bad, what",
    [
        ({"sales": -1, "csat": 1}, "negative"),
        ({"sales": float("nan"), "csat": 1}, "not finite"),
        ({"sales": float("inf"), "csat": 1}, "not finite"),
        ({"sales": "lots", "csat": 1}, "not a number"),
    ],
)
def test_direct_weights_bad_value_names_key(bad, what):
    with pytest.raises(InputError) as err:
        direct_weights(bad)
    assert "'sales'" in str(err.value) and what in str(err.value)


def test_direct_weights_all_zero():
    with pytest.raises(InputError, match="all weights are zero"):
        direct_weights({"sales": 0, "csat": 0.0})


# ============================================================ AHP


@pytest.mark.parametrize("method", ["eigen", "geometric"])
def test_ahp_consistent_matrix_returns_its_weights(method):
    # a_ij = w_i/w_j: A w = n w exactly, so w is the eigenvector with λmax = n
    # (Saaty 1977), and the row geometric mean is w_i / (Π_j w_j)^(1/n) ∝ w_i.
    w = [0.4, 0.3, 0.2, 0.1]
    res = ahp(consistent(w), method=method, labels=["a", "b", "c", "d"])
    assert res.weights.to_numpy() == pytest.approx(w, abs=1e-12)
    assert list(res.weights.index) == ["a", "b", "c", "d"]
    assert res.lambda_max == pytest.approx(4.0, abs=1e-10)
    assert res.ci == pytest.approx(0.0, abs=1e-10)
    assert res.cr == pytest.approx(0.0, abs=1e-10)
    assert res.consistent and res.method == method and res.ri == 0.90


def test_ahp_3x3_geometric_by_hand():
    # Row products: 1·3·5 = 15, (1/3)·1·3 = 1, (1/5)(1/3)·1 = 1/15.
    # Cube roots: 2.4662121, 1, 0.4054801; sum 3.8716922
    # w = 0.6369856, 0.2582850, 0.1047294
    # A w = (1.9354877, 0.7848018, 0.3182215); ratios / w = 3.03851 each on average
    # λmax = 3.0385111, CI = 0.0385111/2 = 0.0192555, CR = CI/0.58 = 0.0331992
    res = ahp(A3, method="geometric")
    assert res.weights.to_numpy() == pytest.approx([0.6369856, 0.2582850, 0.1047294], abs=1e-7)
    assert res.lambda_max == pytest.approx(3.0385111, abs=1e-7)
    assert res.ci == pytest.approx(0.0192555, abs=1e-7)
    assert res.cr == pytest.approx(0.0331992, abs=1e-7)
    assert res.consistent


def test_ahp_3x3_eigen_equals_geometric_and_power_iteration():
    # For n = 3 the eigenvector and geometric-mean priorities coincide
    # (Crawford & Williams 1985, J. Math. Psych. 29:387-405).
    eig = ahp(A3, method="eigen")
    assert eig.weights.to_numpy() == pytest.approx([0.6369856, 0.2582850, 0.1047294], abs=1e-7)
    x, lam = power_iteration(np.array(A3))
    assert eig.weights.to_numpy() == pytest.approx(x, abs=1e-10)
    assert eig.lambda_max == pytest.approx(lam, abs=1e-10)
    assert eig.cr == pytest.approx((lam - 3) / 2 / 0.58, abs=1e-10)


def test_ahp_4x4_inconsistent_against_power_iteration_and_scipy():
    a = np.array(
        [
            [1, 3, 7, 9],
            [1 / 3, 1, 5, 7],
            [1 / 7, 1 / 5, 1, 3],
            [1 / 9, 1 / 7, 1 / 3, 1],
        ]
    )
    res = ahp(a)
    x, lam = power_iteration(a)
    vals, vecs = scipy.linalg.eig(a)
    top = np.argmax(vals.real)
    v = np.abs(vecs[:, top].real)
    assert res.weights.to_numpy() == pytest.approx(x, abs=1e-10)
    assert res.weights.to_numpy() == pytest.approx(v / v.sum(), abs=1e-10)
    assert res.lambda_max == pytest.approx(lam, abs=1e-10)
    assert res.ci == pytest.approx((lam - 4) / 3, abs=1e-10)
    assert res.cr == pytest.approx((lam - 4) / 3 / 0.90, abs=1e-10)
    # geometric: w_i ∝ (Π_j a_ij)^(1/4), λ = mean((A w)_i / w_i)
    g = np.array([(1 * 3 * 7 * 9) ** 0.25, (1 / 3 * 5 * 7) ** 0.25,
                  (1 / 7 * 1 / 5 * 3) ** 0.25, (1 / 9 * 1 / 7 * 1 / 3) ** 0.25])
    g /= g.sum()
    geo = ahp(a, method="geometric")
    assert geo.weights.to_numpy() == pytest.approx(g, abs=1e-12)
    assert geo.lambda_max == pytest.approx(np.mean(a @ g / g), abs=1e-12)


def test_ahp_inconsistent_flagged():
    # a > b (9), b > c (9), but c > a (9): a cycle, far from consistent.
    a = [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]
    res = ahp(a)
    assert res.cr > 0.10 and not res.consistent
    # cyclic symmetric: all weights equal 1/3, and λ = 1 + 9 + 1/9 (A·1 = (1+9+1/9)·1)
    assert res.weights.to_numpy() == pytest.approx([1 / 3] * 3, abs=1e-12)
    assert res.lambda_max == pytest.approx(1 + 9 + 1 / 9, abs=1e-10)


def test_ahp_small_n_cr_zero():
    one = ahp([[1]])
    assert one.weights.tolist() == [1.0] and one.cr == 0.0 and one.ci == 0.0
    two = ahp([[1, 4], [1 / 4, 1]], labels=["x", "y"])
    # w = 4/5, 1/5; λ = 2 exactly; RI(2) = 0 → CR defined as 0, never NaN
    assert two.weights.to_numpy() == pytest.approx([0.8, 0.2])
    assert two.cr == 0.0 and not math.isnan(two.cr)


def test_ahp_alonso_lamata_table():
    res = ahp(A3, ri_table="alonso_lamata2006")
    # CI = 0.0192555 (above); RI(3) = 0.5245 (Alonso & Lamata 2006)
    assert res.ri == 0.5245
    assert res.cr == pytest.approx(0.0192555 / 0.5245, abs=1e-6)
    # n = 12 is beyond Saaty's 1980 table but inside Alonso & Lamata's
    w = list(np.linspace(1, 3, 12))
    assert ahp(consistent(w), ri_table="alonso_lamata2006").ri == 1.5365
    with pytest.raises(InputError, match="up to n = 10"):
        ahp(consistent(w))


@pytest.mark.parametrize("n", [3, 4])
def test_alonso_lamata_ri_by_monte_carlo(n):
    # RI(n) = mean CI of random reciprocal matrices with upper entries drawn
    # uniformly from the 17 values 1/9..1/2, 1, 2..9 (Alonso & Lamata 2006).
    # 100,000 matrices: standard error ≈ 0.002, tolerance 0.01.
    scale = np.array([1 / k for k in range(9, 1, -1)] + list(range(1, 10)), dtype=float)
    rng = np.random.default_rng(12345)
    size = 100_000
    a = np.ones((size, n, n))
    iu = np.triu_indices(n, 1)
    v = scale[rng.integers(0, 17, (size, iu[0].size))]
    a[:, iu[0], iu[1]] = v
    a[:, iu[1], iu[0]] = 1 / v
    lam = np.linalg.eigvals(a).real.max(axis=1)
    assert ((lam - n) / (n - 1)).mean() == pytest.approx(RI_TABLES["alonso_lamata2006"][n - 1], abs=0.01)


def test_ahp_unknown_ri_table_lists_known():
    with pytest.raises(InputError) as err:
        ahp(A3, ri_table="golden")
    assert "golden" in str(err.value)
    assert "saaty1980" in str(err.value) and "alonso_lamata2006" in str(err.value)


def test_ahp_dataframe_labels_and_column_order():
    frame = pd.DataFrame(A3, index=LABELS, columns=LABELS)
    shuffled = frame[["retention", "sales", "csat"]]  # same matrix, columns reordered
    res = ahp(shuffled)
    assert list(res.weights.index) == LABELS
    assert res.weights.to_numpy() == pytest.approx([0.6369856, 0.2582850, 0.1047294], abs=1e-7)


def test_ahp_accepts_rounded_reciprocals_and_fractions():
    # 0.333 for 1/3 and 0.2 for 1/5 (3-decimal rounding, |a_ij·a_ji − 1| = 0.001)
    rounded = [[1, 3, 5], [0.333, 1, 3], [0.2, 0.333, 1]]
    res = ahp(rounded)
    assert res.weights.to_numpy() == pytest.approx([0.6369856, 0.2582850, 0.1047294], abs=2e-4)
    # the matrix used is exactly reciprocal: a'_ij = sqrt(a_ij / a_ji)
    m = res.matrix.to_numpy()
    assert m * m.T == pytest.approx(np.ones((3, 3)))
    assert m[0, 1] == pytest.approx(math.sqrt(3 / 0.333))
    text = [["1", "3", "5"], ["1/3", "1", "3"], ["1/5", "1/3", "1"]]
    assert ahp(text).weights.to_numpy() == pytest.approx([0.6369856, 0.2582850, 0.1047294], abs=1e-7)


def test_worst_judgements_finds_the_perturbed_pair():
    # Consistent 4 × 4 from w = (8, 4, 2, 1)/15; then change a_14 from 8 to 1/2
    # (and a_41 to 2). That judgement is the one to revise.
    a = consistent([8, 4, 2, 1])
    a[0, 3], a[3, 0] = 0.5, 2.0
    res = ahp(a, labels=["a", "b", "c", "d"])
    worst = res.worst_judgements(k=2)
    assert list(worst.columns) == ["row", "col", "given", "implied", "ratio", "deviation", "suggested"]
    assert (worst.loc[0, "row"], worst.loc[0, "col"]) == ("a", "d")
    assert len(worst) == 2
    w = res.weights
    # implied = w_a / w_d; deviation = |ln(a_ad · w_d / w_a)|
    assert worst.loc[0, "given"] == 0.5
    assert worst.loc[0, "implied"] == pytest.approx(w["a"] / w["d"])
    assert worst.loc[0, "deviation"] == pytest.approx(abs(math.log(0.5 * w["d"] / w["a"])))
    assert worst["deviation"].is_monotonic_decreasing
    # every pair is listed once when k ≥ n(n-1)/2
    assert len(res.worst_judgements(k=10)) == 6


def test_worst_judgements_suggested_value_is_nearest_scale_value():
    res = ahp(consistent([6, 1, 1]))  # implied a_12 = 6, a_13 = 6, a_23 = 1
    wj = res.worst_judgements(k=3).set_index(["row", "col"])
    assert wj.loc[("c1", "c2"), "suggested"] == pytest.approx(6.0)
    assert wj.loc[("c2", "c3"), "suggested"] == pytest.approx(1.0)


# ------------------------------------------------------------ AHP bad input


def _err(matrix, **kw) -> str:
    with pytest.raises(InputError) as err:
        ahp(matrix, **kw)
    return str(err.value)


def test_ahp_non_square():
    assert "not square" in _err([[1, 2, 3], [0.5, 1, 2]])
    frame = pd.DataFrame([[1, 2, 3], [0.5, 1, 2]], index=["a", "b"], columns=["a", "b", "c"])
    assert "not square" in _err(frame)


@pytest.mark.parametrize(
    "cell_value, expected",
    [
        (float("nan"), "not finite"),
        (float("inf"), "not finite"),
        (0.0, "not positive"),
        (-3.0, "not positive"),
        (10.0, "outside Saaty's scale"),
        ("many", "not a number"),
    ],
)
def test_ahp_bad_cell_named(cell_value, expected):
    m = pd.DataFrame(A3, index=LABELS, columns=LABELS).astype(object)
    m.loc["sales", "csat"] = cell_value
    msg = _err(m)
    assert "cell (sales, csat)" in msg and expected in msg


def test_ahp_scale_bounds():
    # Below 1/9: 0.1 (with its reciprocal 10 outside too) is named by cell.
    m = pd.DataFrame(A3, index=LABELS, columns=LABELS)
    m.loc["csat", "sales"] = 1 / 10
    msg = _err(m)
    assert "cell (csat, sales)" in msg and "outside Saaty's scale" in msg
    # 1/9 typed as 0.111 is accepted (9 × 0.111 = 0.999), 0.105 is not.
    ok = consistent([9, 1])
    ok[1, 0] = 0.111
    assert ahp(ok).weights.to_numpy() == pytest.approx([0.9, 0.1], abs=1e-3)
    ok[1, 0] = 0.105
    assert "cell (c2, c1)" in _err(ok)


def test_ahp_diagonal_not_one():
    m = pd.DataFrame(A3, index=LABELS, columns=LABELS)
    m.loc["csat", "csat"] = 2
    msg = _err(m)
    assert "cell (csat, csat)" in msg and "diagonal" in msg


def test_ahp_non_reciprocal():
    m = pd.DataFrame(A3, index=LABELS, columns=LABELS)
    m.loc["csat", "sales"] = 1 / 2  # should be 1/3: 3 × 1/2 = 1.5
    msg = _err(m)
    assert "cell (sales, csat)" in msg and "not reciprocal" in msg and "1.5" in msg


def test_ahp_collects_all_problems():
    m = pd.DataFrame(A3, index=LABELS, columns=LABELS).astype(object)
    m.loc["sales", "retention"] = float("nan")
    m.loc["retention", "retention"] = 3
    msg = _err(m)
    assert "cell (sales, retention)" in msg and "cell (retention, retention)" in msg


def test_ahp_unknown_method_and_label_mismatch():
    assert "unknown method" in _err(A3, method="mean")
    frame = pd.DataFrame(np.ones((2, 2)), index=["a", "b"], columns=["a", "z"])
    assert "labels differ" in _err(frame)
    assert "labels" in _err(A3, labels=["x", "y"])


# ============================================================ group AHP


def test_group_ahp_geometric_mean_by_hand():
    # Expert 1: a12 = 2, a13 = 4, a23 = 2.  Expert 2: a12 = 8, a13 = 4, a23 = 1/2.
    # Geometric mean: a12 = √16 = 4, a13 = √16 = 4, a23 = √1 = 1 →
    # [[1,4,4],[1/4,1,1],[1/4,1,1]] is consistent with w = (4, 1, 1)/6.
    e1 = [[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]]
    e2 = [[1, 8, 4], [1 / 8, 1, 1 / 2], [1 / 4, 2, 1]]
    res = group_ahp([e1, e2], labels=LABELS)
    assert res.matrix.loc["sales", "csat"] == pytest.approx(4.0)
    assert res.matrix.loc["csat", "retention"] == pytest.approx(1.0)
    assert res.weights.to_numpy() == pytest.approx([4 / 6, 1 / 6, 1 / 6], abs=1e-12)
    assert res.cr == pytest.approx(0.0, abs=1e-10)
    # Expert weights 3:1 → λ = (0.75, 0.25):
    # a12 = 2^0.75 · 8^0.25 = 2^1.5 = 2.8284271; a13 = 4; a23 = 2^0.75 · 2^-0.25 = √2
    weighted = group_ahp([e1, e2], labels=LABELS, expert_weights=[3, 1])
    assert weighted.matrix.loc["sales", "csat"] == pytest.approx(2.8284271, abs=1e-7)
    assert weighted.matrix.loc["sales", "retention"] == pytest.approx(4.0)
    assert weighted.matrix.loc["csat", "retention"] == pytest.approx(1.4142136, abs=1e-7)
    assert weighted.matrix.loc["csat", "sales"] == pytest.approx(1 / 2.8284271, abs=1e-7)


def test_group_ahp_aligns_dataframes_by_label():
    e1 = pd.DataFrame([[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]], index=LABELS, columns=LABELS)
    order = ["retention", "sales", "csat"]
    e2 = pd.DataFrame([[1, 8, 4], [1 / 8, 1, 1 / 2], [1 / 4, 2, 1]], index=LABELS, columns=LABELS).loc[order, order]
    res = group_ahp([e1, e2])
    assert res.weights["sales"] == pytest.approx(4 / 6)


def test_group_ahp_errors_name_expert():
    bad = [[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 2]]
    with pytest.raises(InputError) as err:
        group_ahp([A3, bad])
    assert "matrices[1]" in str(err.value) and "cell (c3, c3)" in str(err.value)
    with pytest.raises(InputError, match="2 matrices"):
        group_ahp([A3, A3], expert_weights=[1])
    with pytest.raises(InputError, match="differ"):
        group_ahp([pd.DataFrame(A3, index=LABELS, columns=LABELS), pd.DataFrame(A3, index=list("xyz"), columns=list("xyz"))])


# ============================================================ entropy


ENTROPY_X = pd.DataFrame({"a": [1, 2, 3], "b": [2, 2, 4], "c": [0, 1, 1]}, index=["m1", "m2", "m3"])
# m = 3, k = 1/ln 3 = 0.9102392
# a: p = 1/6, 1/3, 1/2; H = 0.2986266 + 0.3662041 + 0.3465736 = 1.0114043; e = 0.9206198; d = 0.0793802
# b: p = .25, .25, .5;  H = 0.3465736·2 + 0.3465736 = 1.0397208;         e = 0.9463946; d = 0.0536054
# c: p = 0, .5, .5 (0·ln0 := 0); H = 0.6931472;                          e = 0.6309298; d = 0.3690702
# Σd = 0.5020558 → w = 0.1581102, 0.1067717, 0.7351180
ENTROPY_W = [0.1581102, 0.1067717, 0.7351180]


def test_entropy_by_hand():
    w = entropy_weights(ENTROPY_X)
    assert w.to_numpy() == pytest.approx(ENTROPY_W, abs=1e-7)
    assert w.attrs["entropy"]["c"] == pytest.approx(0.6309298, abs=1e-7)
    assert w.attrs["degenerate"] == []


def test_entropy_constant_and_zero_columns_get_zero_weight():
    x = ENTROPY_X.assign(const=[5, 5, 5], zero=[0, 0, 0])
    w = entropy_weights(x)
    assert w["const"] == 0.0 and w["zero"] == 0.0
    assert w[["a", "b", "c"]].to_numpy() == pytest.approx(ENTROPY_W, abs=1e-7)
    assert w.attrs["degenerate"] == ["const", "zero"]
    assert not w.isna().any()


def test_entropy_all_degenerate_raises_naming_columns():
    with pytest.raises(InputError) as err:
        entropy_weights(pd.DataFrame({"x": [1, 1], "y": [0, 0]}))
    assert "'x'" in str(err.value) and "'y'" in str(err.value)


def test_entropy_negative_needs_normalising():
    x = ENTROPY_X.assign(b=[2, -1, 4])
    with pytest.raises(InputError) as err:
        entropy_weights(x)
    assert "column 'b'" in str(err.value) and "-1" in str(err.value) and "benefit" in str(err.value)


def test_entropy_with_benefit_normalises_first():
    x = pd.DataFrame({"sales": [10, -5, 40, 25], "complaints": [3, 0, 1, 6], "flat": [2, 2, 2, 2]})
    benefit = {"sales": True, "complaints": False, "flat": True}
    w = entropy_weights(x, benefit=benefit)
    # min–max by hand: sales (x+5)/45 = 1/3, 0, 1, 2/3; complaints (6-x)/6 = 1/2, 1, 5/6, 0
    z = minmax_normalise(x, benefit)
    assert z["sales"].to_numpy() == pytest.approx([1 / 3, 0, 1, 2 / 3])
    assert z["complaints"].to_numpy() == pytest.approx([0.5, 1, 5 / 6, 0])
    # entropy of each column by hand formula on z
    def e(col):
        p = np.asarray(col) / sum(col)
        return -sum(v * math.log(v) for v in p if v > 0) / math.log(4)
    d = np.array([1 - e(z["sales"]), 1 - e(z["complaints"])])
    assert w[["sales", "complaints"]].to_numpy() == pytest.approx(d / d.sum(), abs=1e-12)
    assert w["flat"] == 0.0 and w.attrs["degenerate"] == ["flat"]


def test_entropy_bad_input():
    with pytest.raises(InputError, match="at least 2 managers"):
        entropy_weights(ENTROPY_X.iloc[:1])
    x = ENTROPY_X.astype(float)
    x.loc["m2", "b"] = np.nan
    with pytest.raises(InputError) as err:
        entropy_weights(x)
    assert "row 'm2', column 'b'" in str(err.value)
    with pytest.raises(InputError, match="no direction"):
        entropy_weights(ENTROPY_X, benefit={"a": True})


# ============================================================ CRITIC


CRITIC_X = pd.DataFrame(
    {"sales": [10, 20, 30, 40], "visits": [1, 3, 2, 5], "complaints": [8, 6, 2, 4]},
    index=["m1", "m2", "m3", "m4"],
)
CRITIC_BENEFIT = {"sales": True, "visits": True, "complaints": False}
# z (min–max with direction): sales (x−10)/30 = 0, 1/3, 2/3, 1
#                              visits (x−1)/4  = 0, .5, .25, 1
#                              complaints (8−x)/6 = 0, 1/3, 1, 2/3
# σ (ddof=1): 0.4303315, 0.4269563, 0.4303315
# r: r(s,v) = 0.4583333/√(0.5555556·0.546875) = 0.8315218; r(s,c) = 0.4444444/0.5555556 = 0.8;
#    r(v,c) = 0.2083333/0.5511977 = 0.3779645
# Σ(1−r): s 0.3684782, v 0.7905137, c 0.8220355
# C = σ·Σ(1−r): 0.1585678, 0.3375148, 0.3537478; ΣC = 0.8498303
# w = 0.1865875, 0.3971555, 0.4162569
CRITIC_W = [0.1865875, 0.3971555, 0.4162569]


def test_critic_by_hand():
    w = critic_weights(CRITIC_X, CRITIC_BENEFIT)
    assert w.to_numpy() == pytest.approx(CRITIC_W, abs=1e-7)
    assert w.attrs["conflict"]["visits"] == pytest.approx(0.7905137, abs=1e-7)
    assert w.attrs["sigma"]["sales"] == pytest.approx(0.4303315, abs=1e-7)


def test_critic_against_statistics_module_and_ddof_invariance():
    # Second computation with the standard library, population σ (ddof = 0):
    # the common factor √((m−1)/m) cancels in w_j = C_j / ΣC.
    z = [[0, 1 / 3, 2 / 3, 1], [0, 0.5, 0.25, 1], [0, 1 / 3, 1, 2 / 3]]
    c = [statistics.pstdev(zj) * sum(1 - statistics.correlation(zj, zk) for zk in z) for zj in z]
    w = critic_weights(CRITIC_X, [True, True, False])
    assert w.to_numpy() == pytest.approx(np.array(c) / sum(c), abs=1e-12)


def test_critic_constant_column_fallback():
    x = CRITIC_X.assign(flat=[7, 7, 7, 7])
    w = critic_weights(x, {**CRITIC_BENEFIT, "flat": True})
    assert w["flat"] == 0.0 and w.attrs["degenerate"] == ["flat"]
    assert w[["sales", "visits", "complaints"]].to_numpy() == pytest.approx(CRITIC_W, abs=1e-7)
    assert not w.isna().any()


def test_critic_errors():
    with pytest.raises(InputError, match="at least two indicators that vary"):
        critic_weights(CRITIC_X.assign(visits=1, complaints=2), CRITIC_BENEFIT)
    # sales and 2·sales are perfectly correlated: every C_j = 0
    with pytest.raises(InputError, match="perfectly correlated"):
        critic_weights(pd.DataFrame({"a": [1, 2, 3], "b": [2, 4, 6]}), [True, True])
    with pytest.raises(InputError, match="3 indicators"):
        critic_weights(CRITIC_X, [True, False])
    with pytest.raises(InputError, match="True or False"):
        critic_weights(CRITIC_X, {"sales": "yes", "visits": True, "complaints": False})


# ============================================================ blends


def test_blend_linear_and_multiplicative_by_hand():
    s = {"a": 5, "b": 3, "c": 2}  # → 0.5, 0.3, 0.2
    o = pd.Series({"c": 0.5, "a": 0.2, "b": 0.3})  # different order: aligned by name
    # linear α = 0.7: a = .35 + .06 = .41, b = .21 + .09 = .30, c = .14 + .15 = .29
    lin = blend_weights(s, o, alpha=0.7)
    assert lin.to_dict() == pytest.approx({"a": 0.41, "b": 0.30, "c": 0.29})
    # multiplicative: .5·.2 = .10, .3·.3 = .09, .2·.5 = .10; Σ = .29
    mult = blend_weights(s, o, mode="multiplicative")
    assert mult.to_dict() == pytest.approx({"a": 0.10 / 0.29, "b": 0.09 / 0.29, "c": 0.10 / 0.29})
    assert blend_weights(s, o, alpha=1.0).to_dict() == pytest.approx({"a": 0.5, "b": 0.3, "c": 0.2})


def test_blend_errors():
    with pytest.raises(InputError) as err:
        blend_weights({"a": 1, "b": 1}, {"a": 1, "c": 1})
    assert "['b']" in str(err.value) and "['c']" in str(err.value)
    with pytest.raises(InputError, match="outside"):
        blend_weights({"a": 1}, {"a": 1}, alpha=1.5)
    with pytest.raises(InputError, match="unknown blend mode"):
        blend_weights({"a": 1}, {"a": 1}, mode="geometric")
    with pytest.raises(InputError, match="both sets"):
        blend_weights({"a": 1, "b": 0}, {"a": 0, "b": 1}, mode="multiplicative")


# ============================================================ scores and ranks


S = pd.DataFrame(
    {"sales": [90, 60, 70, 50, 80], "csat": [50, 90, 70, 60, 40], "name": ["p", "q", "r", "s", "t"]},
    index=["m1", "m2", "m3", "m4", "m5"],
)


def test_weighted_scores_by_hand():
    # w = 3:1 → .75/.25; m1 = 67.5 + 12.5 = 80, m2 = 45 + 22.5 = 67.5, m3 = 70,
    # m4 = 37.5 + 15 = 52.5, m5 = 60 + 10 = 70  (extra column 'name' is ignored)
    sc = weighted_scores(S, {"sales": 3, "csat": 1})
    assert sc.to_dict() == pytest.approx({"m1": 80, "m2": 67.5, "m3": 70, "m4": 52.5, "m5": 70})
    # competition ranking: m1 1, m3 & m5 tie at 2, m2 4, m4 5
    assert ranks(sc).to_dict() == {"m1": 1, "m2": 4, "m3": 2, "m4": 5, "m5": 2}


def test_weighted_scores_errors():
    with pytest.raises(InputError, match=r"\['visits'\]"):
        weighted_scores(S, {"sales": 1, "visits": 1})
    bad = S.astype({"csat": float})
    bad.loc["m3", "csat"] = np.nan
    with pytest.raises(InputError, match="row 'm3', column 'csat'"):
        weighted_scores(bad, {"sales": 1, "csat": 1})
    with pytest.raises(InputError, match="m2"):
        ranks(pd.Series([1.0, np.nan], index=["m1", "m2"]))


def test_competition_ranks_match_scipy():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 6, size=(50, 30)).astype(float)  # many ties
    rmin, rmax = _competition_ranks(scores)
    assert np.array_equal(rmin, rankdata(-scores, method="min", axis=1))
    assert np.array_equal(rmax, rankdata(-scores, method="max", axis=1))


def test_scenario_table_correlations_and_movers():
    schemes = {"sales_only": {"sales": 1}, "csat_only": {"csat": 1}, "mix": {"sales": 3, "csat": 1}}
    table = scenario_table(S, schemes)
    r = table["rank"]
    # sales 90,60,70,50,80 → 1,4,3,5,2; csat 50,90,70,60,40 → 4,1,2,3,5
    assert r["sales_only"].tolist() == [1, 4, 3, 5, 2]
    assert r["csat_only"].tolist() == [4, 1, 2, 3, 5]
    assert table[("score", "mix")]["m1"] == pytest.approx(80)
    corr = rank_correlations(table).set_index(["scheme_a", "scheme_b"])
    # sales_only x = (1,4,3,5,2) vs csat_only y = (4,1,2,3,5), 10 pairs:
    # concordant (same sign of x_i−x_j and y_i−y_j): (m1,m5), (m2,m4), (m3,m4) = 3;
    # discordant: the other 7.  No ties → τ-b = (3 − 7)/10 = −0.4.
    # Spearman: d = −3, 3, 1, 2, −3; Σd² = 32; ρ = 1 − 6·32/(5·24) = −0.6.
    assert corr.loc[("sales_only", "csat_only"), "tau"] == pytest.approx(-0.4)
    assert corr.loc[("sales_only", "csat_only"), "rho"] == pytest.approx(-0.6)
    assert len(corr) == 3
    movers = biggest_movers(r, k=2)
    # spreads: m1 |1−4| = 3 (mix rank 1), m2 4−1=3 (mix 4), m3 3,2,2 → 1, m4 5,3,5 → 2, m5 5,2,2 → 3
    assert movers["spread"].tolist() == [3, 3]
    assert list(movers.index) == ["m1", "m2"]  # spread 3, best rank 1 first
    assert movers.loc["m1", "worst"] == 4


def test_rank_correlations_all_tied_scheme_errors():
    with pytest.raises(InputError, match="scheme 'flat'"):
        rank_correlations(pd.DataFrame({"a": [1, 2, 3], "flat": [1, 1, 1]}))


# ============================================================ robustness


def _indicator_frame(n: int = 40, p: int = 5, seed: int = 7) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    cols = [f"k{j}" for j in range(p)]
    frame = pd.DataFrame(rng.uniform(0, 100, (n, p)), columns=cols, index=[f"m{i}" for i in range(n)])
    return frame, pd.Series(rng.uniform(0.5, 1.5, p), index=cols)


def test_sample_weights_dirichlet_moments():
    # Dirichlet(κw): mean w, variance w(1−w)/(κ+1).  20,000 draws → SE of mean ≈ 3e-4.
    w = direct_weights({"a": 0.5, "b": 0.3, "c": 0.2})
    draws = sample_weights(w, concentration=50, draws=20_000, seed=1)
    assert draws.sum(axis=1).to_numpy() == pytest.approx(np.ones(20_000))
    assert draws.mean().to_numpy() == pytest.approx(w.to_numpy(), abs=3e-3)
    assert draws.var().to_numpy() == pytest.approx((w * (1 - w) / 51).to_numpy(), rel=0.05)


def test_robustness_brute_force_loop_equals_vectorised():
    frame, w = _indicator_frame()
    w["k2"] = 0.0  # a zero weight: stays 0 in every draw
    W = sample_weights(w, concentration=20, draws=25, seed=4)
    assert (W["k2"] == 0).all()
    sim = simulate_ranks(frame, w, concentration=20, draws=25, seed=4, chunk=7)
    for d in range(25):
        expected = ranks(weighted_scores(frame, W.iloc[d]))  # one draw at a time, pandas path
        assert sim.iloc[d].tolist() == expected.tolist()
    # the summary equals numpy statistics of those same simulated ranks
    out = robustness(frame, w, concentration=20, draws=25, seed=4, top=5, bottom=0.1)
    arr = sim.to_numpy()
    for q, col in [(0.05, "rank_p5"), (0.5, "rank_p50"), (0.95, "rank_p95")]:
        assert out[col].tolist() == np.quantile(arr, q, axis=0, method="inverted_cdf").astype(int).tolist()
    assert out["rank_min"].tolist() == arr.min(axis=0).tolist()
    assert out["rank_max"].tolist() == arr.max(axis=0).tolist()
    assert out["p_top"].to_numpy() == pytest.approx((arr <= 5).mean(axis=0))
    # bottom 0.1 of 40 = 4 managers: rank > 36 (no ties here)
    assert out["p_bottom"].to_numpy() == pytest.approx((arr > 36).mean(axis=0))
    assert out.attrs["bottom"] == 4
    assert out["base_rank"].tolist() == ranks(weighted_scores(frame, w)).tolist()


def test_robustness_huge_concentration_collapses_to_base_rank():
    # Dirichlet(κw) with κ = 1e7: sd of each weight ≤ √(0.25/1e7) ≈ 1.6e-4, so a score
    # on 0–100 moves by ~0.05 at most; seed 28 gives base scores ≥ 1.8 apart.
    frame, w = _indicator_frame(n=12, seed=28)
    assert np.diff(np.sort(weighted_scores(frame, w).to_numpy())).min() > 1.8
    out = robustness(frame, w, concentration=1e7, draws=500, seed=0)
    for col in ["rank_p5", "rank_p50", "rank_p95", "rank_min", "rank_max"]:
        assert out[col].tolist() == out["base_rank"].tolist()
    top_k = math.ceil(0.2 * 12)  # 3
    assert out["p_top"].tolist() == (out["base_rank"] <= top_k).astype(float).tolist()


def test_robustness_dominant_and_dominated_managers():
    frame, w = _indicator_frame()
    frame.loc["star"] = 101.0  # best in every indicator
    frame.loc["last"] = -1.0  # worst in every indicator
    out = robustness(frame, w, concentration=1.0, draws=2000, top=1, bottom=1, seed=3)
    assert out.loc["star", "p_top"] == 1.0 and out.loc["star", "rank_max"] == 1
    assert out.loc["last", "p_bottom"] == 1.0 and out.loc["last", "rank_min"] == 42
    assert out["p_top"].sum() == pytest.approx(1.0)  # exactly one manager on top per draw
    assert ((out[["p_top", "p_bottom"]] >= 0) & (out[["p_top", "p_bottom"]] <= 1)).all().all()
    assert (out["rank_min"] <= out["rank_p5"]).all()
    assert (out["rank_p5"] <= out["rank_p50"]).all() and (out["rank_p50"] <= out["rank_p95"]).all()
    assert (out["rank_p95"] <= out["rank_max"]).all()


def test_robustness_ties_are_all_in_the_group():
    frame, w = _indicator_frame(n=10)
    frame.loc["twin"] = frame.loc["m0"]
    frame.loc[["m0", "twin"]] = 200.0  # two identical leaders
    out = robustness(frame, w, draws=200, top=1, seed=0)
    assert out.loc["m0", "p_top"] == 1.0 and out.loc["twin", "p_top"] == 1.0
    assert out.loc["twin", "rank_max"] == 1


def test_robustness_deterministic_and_chunk_independent():
    frame, w = _indicator_frame()
    a = robustness(frame, w, draws=300, seed=11, chunk=500)
    b = robustness(frame, w, draws=300, seed=11, chunk=13)
    pd.testing.assert_frame_equal(a, b)
    c = robustness(frame, w, draws=300, seed=12)
    assert not a.equals(c)


def test_robustness_group_sizes_and_errors():
    frame, w = _indicator_frame(n=11)
    assert robustness(frame, w, draws=10, top=0.2).attrs["top"] == 3  # ceil(2.2)
    assert robustness(frame, w, draws=10, top=0.7).attrs["top"] == 8  # ceil(7.7)
    for kwargs, match in [
        ({"top": 12}, "there are 11"),
        ({"top": 1.5}, "fraction"),
        ({"concentration": 0}, "concentration"),
        ({"draws": 0}, "draws"),
    ]:
        with pytest.raises(InputError, match=match):
            robustness(frame, w, **{"draws": 10, **kwargs})
    with pytest.raises(InputError, match="k9"):
        robustness(frame, {"k0": 1, "k9": 1}, draws=10)


def test_robustness_percentiles_when_q_times_draws_is_whole():
    # 200 draws: q·N = 10, 100, 190 exactly; inverted-CDF picks the 10th, 100th,
    # 190th smallest rank (numpy method="inverted_cdf").
    frame, w = _indicator_frame()
    out = robustness(frame, w, concentration=5, draws=200, seed=2)
    arr = np.sort(simulate_ranks(frame, w, concentration=5, draws=200, seed=2).to_numpy(), axis=0)
    assert out["rank_p5"].tolist() == arr[9].tolist()
    assert out["rank_p50"].tolist() == arr[99].tolist()
    assert out["rank_p95"].tolist() == arr[189].tolist()


# ============================================================ published worked examples
#
# Each test below reproduces numbers printed in a published source, to the
# precision printed there.


def test_ahp_saaty_2008_drinks_example():
    # Saaty, T.L. (2008) "Decision making with the analytic hierarchy process",
    # Int. J. Services Sciences 1(1):83–98, Table 2 ("Which drink is consumed more
    # in the US?"): the judgements below give the priorities .177, .019, .042,
    # .116, .190, .129, .327 and CR = .022 (Saaty's RI table).  The same numbers
    # are the reference values of the AHPy package's test suite.
    drinks = ["coffee", "wine", "tea", "beer", "sodas", "milk", "water"]
    a = [
        [1, 9, 5, 2, 1, 1, 1 / 2],
        [1 / 9, 1, 1 / 3, 1 / 9, 1 / 9, 1 / 9, 1 / 9],
        [1 / 5, 3, 1, 1 / 3, 1 / 4, 1 / 3, 1 / 9],
        [1 / 2, 9, 3, 1, 1 / 2, 1, 1 / 3],
        [1, 9, 4, 2, 1, 2, 1 / 2],
        [1, 9, 3, 1, 1 / 2, 1, 1 / 3],
        [2, 9, 9, 3, 2, 3, 1],
    ]
    res = ahp(a, labels=drinks)
    assert res.weights.round(3).tolist() == [0.177, 0.019, 0.042, 0.116, 0.190, 0.129, 0.327]
    assert round(res.cr, 3) == 0.022
    assert res.consistent


# Saaty, T.L. (1990) "How to make a decision: the analytic hierarchy process",
# EJOR 48:9–26, the house-buying example (from Saaty 1980): eight
# criteria — size of house, transportation, neighbourhood, age of house, yard
# space, modern facilities, general condition, financing.
HOUSE = [
    [1, 5, 3, 7, 6, 6, 1 / 3, 1 / 4],
    [1 / 5, 1, 1 / 3, 5, 3, 3, 1 / 5, 1 / 7],
    [1 / 3, 3, 1, 6, 3, 4, 6, 1 / 5],
    [1 / 7, 1 / 5, 1 / 6, 1, 1 / 3, 1 / 4, 1 / 7, 1 / 8],
    [1 / 6, 1 / 3, 1 / 3, 3, 1, 1 / 2, 1 / 5, 1 / 6],
    [1 / 6, 1 / 3, 1 / 4, 4, 2, 1, 1 / 5, 1 / 6],
    [3, 5, 1 / 6, 7, 5, 5, 1, 1 / 2],
    [4, 7, 5, 8, 6, 6, 2, 1],
]


def test_ahp_saaty_1990_house_example():
    # Published: priorities .173, .054, .188, .018, .031, .036, .167, .333;
    # λmax = 9.669, C.I. = 0.238, C.R. = 0.169 (RI(8) = 1.41) — not consistent.
    res = ahp(HOUSE)
    assert res.weights.round(3).tolist() == [0.173, 0.054, 0.188, 0.018, 0.031, 0.036, 0.167, 0.333]
    assert round(res.lambda_max, 3) == 9.669
    assert round(res.ci, 3) == 0.238
    assert round(res.cr, 3) == 0.169
    assert res.ri == 1.41 and not res.consistent


def test_ahp_house_example_worst_judgement_revision_lowers_cr():
    # Not a published number: a second check on the same published matrix.  The
    # judgement named first (neighbourhood vs general condition, a_37 = 6 while the
    # weights imply ≈ 1.13) is the largest |ln(a_ij w_j / w_i)|; replacing it (and
    # its reciprocal) by the suggested scale value must lower the CR.
    res = ahp(HOUSE)
    worst = res.worst_judgements(k=1).iloc[0]
    assert (worst["row"], worst["col"]) == ("c3", "c7")
    fixed = np.array(HOUSE, dtype=float)
    fixed[2, 6], fixed[6, 2] = worst["suggested"], 1 / worst["suggested"]
    assert ahp(fixed).cr < res.cr


def test_entropy_zavadskas_podvezko_2016_example():
    # Zavadskas, E.K. & Podvezko, V. (2016) "Integrated determination of objective
    # criteria weights in MCDM", Int. J. Information Technology & Decision Making
    # 15(2):267–283: entropy weights of the 4 × 4 example, on the raw values
    # (p_ij = x_ij / Σ_i x_ij): .1146, .1981, .4185, .2689.  (Reference values as
    # used in the pyrepo-mcda test suite, which cites this paper.)
    x = pd.DataFrame([[3.0, 100, 10, 7], [2.5, 80, 8, 5], [1.8, 50, 20, 11], [2.2, 70, 12, 9]])
    assert entropy_weights(x).round(4).tolist() == [0.1146, 0.1981, 0.4185, 0.2689]


def test_entropy_xu_2004_example_nearly_constant_column():
    # Xu, X. (2004) "A note on the subjective and objective integrated approach to
    # determine attribute weights", EJOR 156(2):530–532: entropy weights .4630,
    # .3992, .1378, .0000 — the fourth attribute (29, 29, 28.9, 29) is almost
    # constant and gets (almost) no weight.  (Reference values as used in the
    # pyrepo-mcda test suite, which cites this paper.)
    x = pd.DataFrame([[30, 30, 38, 29], [19, 54, 86, 29], [19, 15, 85, 28.9], [68, 70, 60, 29]])
    w = entropy_weights(x)
    assert w.round(4).tolist() == [0.4630, 0.3992, 0.1378, 0.0]
    assert 0 < w.iloc[3] < 5e-5  # not degenerate: tiny, but a real weight


def test_critic_tus_aytac_adali_2019_example():
    # Tuş, A. & Aytaç Adalı, E. (2019) "The new combination with CRITIC and WASPAS
    # methods for the time and attendance software selection problem", Opsearch
    # 56(2):528–538: CRITIC weights .157, .249, .168, .121, .154, .151.  These are
    # reproduced with every column min–max normalised as (x − min)/(max − min),
    # i.e. benefit direction throughout.  (Reference values as used in the
    # pyrepo-mcda test suite, which cites this paper.)
    x = pd.DataFrame([[5000, 3, 3, 4, 3, 2], [680, 5, 3, 2, 2, 1], [2000, 3, 2, 3, 4, 3],
                      [600, 4, 3, 1, 2, 2], [800, 2, 4, 3, 3, 4]])
    w = critic_weights(x, [True] * 6)
    assert w.round(3).tolist() == [0.157, 0.249, 0.168, 0.121, 0.154, 0.151]


# ============================================================ missing values (renormalise)


def test_weighted_scores_renormalise_by_hand():
    s = pd.DataFrame({"a": [80.0, 60.0, np.nan], "b": [40.0, np.nan, np.nan], "c": [20.0, 10.0, 50.0]},
                     index=["m1", "m2", "m3"])
    w = {"a": 0.5, "b": 0.3, "c": 0.2}
    sc = weighted_scores(s, w, missing="renormalise")
    # m1: all present → 40 + 12 + 4 = 56
    # m2: a, c → (0.5·60 + 0.2·10)/0.7 = 32/0.7 = 45.7142857
    # m3: c only → 50
    assert sc.to_dict() == pytest.approx({"m1": 56.0, "m2": 32 / 0.7, "m3": 50.0})
    assert sc.attrs["weight_available"].to_dict() == pytest.approx({"m1": 1.0, "m2": 0.7, "m3": 0.2})
    with pytest.raises(InputError, match="row 'm2', column 'b'"):
        weighted_scores(s, w)  # default: a missing cell is an error
    with pytest.raises(InputError, match="unknown mode"):
        weighted_scores(s, w, missing="zero")
    # a manager with no weighted value at all is an error, never a score of 0
    with pytest.raises(InputError, match="m3"):
        weighted_scores(s, {"a": 1, "b": 1}, missing="renormalise")


def test_robustness_renormalise_equals_per_draw_loop():
    frame, w = _indicator_frame(n=15, p=4, seed=5)
    frame.iloc[2, 1] = np.nan
    frame.iloc[7, 0] = np.nan
    frame.iloc[7, 3] = np.nan
    W = sample_weights(w, concentration=10, draws=30, seed=9)
    sim = simulate_ranks(frame, w, concentration=10, draws=30, seed=9, missing="renormalise")
    for d in range(30):
        expected = ranks(weighted_scores(frame, W.iloc[d], missing="renormalise"))
        assert sim.iloc[d].tolist() == expected.tolist()
    out = robustness(frame, w, concentration=10, draws=30, seed=9, missing="renormalise")
    assert out["base_rank"].tolist() == ranks(weighted_scores(frame, w, missing="renormalise")).tolist()
    assert out["rank_min"].tolist() == sim.to_numpy().min(axis=0).tolist()
    with pytest.raises(InputError, match="row 'm2'"):
        robustness(frame, w, draws=10)


def test_pairwise_problems_lists_without_raising():
    from helpers.core.weighting import pairwise_problems

    assert pairwise_problems(A3, LABELS) == []
    bad = [[1, 3, 5], [1 / 2, 1, 3], [1 / 5, 1 / 3, 1]]
    probs = pairwise_problems(bad, LABELS, source="ahp.yaml: experts[0]")
    assert len(probs) == 1
    assert probs[0].source == "ahp.yaml: experts[0]" and probs[0].where == "cell (sales, csat)"
    assert "not reciprocal" in probs[0].what
