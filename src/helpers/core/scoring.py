"""Attainment, scoring curves, weighted totals, ranks, grades and pro-rating.

Flow for one period::

    attainment(actual, target)          ratio per manager and indicator
      → score(attainment, curve)         points per indicator (ScoringCurve / StepTable)
      → weighted_total(scores, weights)  one total per manager (业绩考核 "hard" part)
      → combine_hard_soft(hard, soft)    业绩考核 × split + 市场考核 × (1 − split)
      → rank / grade_absolute / grade_forced

Everything here is pure and vectorised with numpy: scoring 100,000 managers × 20
indicators takes a few tens of milliseconds.

"No data" is never silently 0: a missing actual gives a NaN attainment, NaN scores,
and a grade of :data:`NO_DATA`; :func:`attainment_detail` returns the reason next to
every NaN, and :func:`weighted_total_detail` the share of the weight that was
available for each manager.

:func:`attainment`, :func:`attainment_detail` and :func:`prorate_fraction` are
defined in :mod:`helpers.core.attainment` (the one rule shared with
:mod:`helpers.core.targets`) and re-exported here; :func:`rank` uses
:func:`helpers.core.weighting.ranks` for the competition ranking.

Sources for the conventions used (cited in each docstring):

* linear threshold/target/cap ("entry point / target / maximum") scoring curves and
  capped attainment are standard practice in sales-compensation and KPI design, e.g.
  WorldatWork, *Sales Compensation Essentials*; Parmenter, *Key Performance
  Indicators* (Wiley, 4th ed. 2019);
* the 业绩考核 / 市场考核 (hard results / market work) split of the monthly appraisal
  of customer managers follows the seed note "浅谈如何做好客户经理月度考核" (2024);
* forced distribution quotas use the largest-remainder (Hamilton) method, the
  standard way to turn fractions into whole counts that add up to the group size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np
import pandas as pd

# Attainment and pro-rating live in helpers.core.attainment (one rule for the whole
# workbook); the names below are re-exported so ``helpers.core.scoring.attainment`` etc.
# keep working.
from helpers.core.attainment import (  # noqa: F401  (re-exports)
    NO_DATA,
    REASON_NEGATIVE_ACTUAL,
    REASON_NEGATIVE_TARGET,
    REASON_NO_ACTUAL,
    REASON_NO_TARGET,
    REASON_OK,
    REASON_ZERO_TARGET,
    ArrayLike,
    _check_fraction,
    _finite,
    _to_array,
    attainment,
    attainment_detail,
    prorate_by_fraction,
)
from helpers.core.attainment import active_fraction as prorate_fraction
from helpers.errors import InputError, Problem, input_error
from helpers.core.weighting import ranks as _weighting_ranks

from helpers.plan.scoring import DEFAULT_BANDS, DEFAULT_DISTRIBUTION  # the plan's defaults, one home

__all__ = [
    "NO_DATA",
    "DEFAULT_BANDS",
    "DEFAULT_DISTRIBUTION",
    "attainment",
    "attainment_detail",
    "ScoringCurve",
    "StepTable",
    "score",
    "score_frame",
    "weighted_total",
    "weighted_total_detail",
    "combine_hard_soft",
    "rank",
    "grade_absolute",
    "grade_forced",
    "forced_quotas",
    "grading_pool",
    "cliff_edges",
    "near_cliffs",
    "POOL_LEVELS",
    "prorate_fraction",
    "prorate_amount",
    "prorate_target",
    "prorate_score",
]

_TOL = 1e-9  # tolerance for comparisons against grade bounds and thresholds


# --------------------------------------------------------------------------- curves


@dataclass(frozen=True)
class ScoringCurve:
    """Piecewise-linear score as a function of attainment.

    ::

        attainment < threshold            → floor_score        (e.g. 0)
          or, with floor_at (continuous):   floor_score up to floor_at, then linear
                                            floor_score → threshold_score (no cliff)
        threshold ≤ att ≤ target          → linear threshold_score → target_score
        target ≤ att ≤ cap                → linear target_score → cap_score
        att > cap (incl. +inf)            → cap_score          (e.g. 120)
        NaN                               → NaN (no data)

    The jump at ``threshold`` (from ``floor_score`` to ``threshold_score``) is the
    usual "entry point" of a sales-compensation plan (WorldatWork, *Sales
    Compensation Essentials*: threshold / target / excellence).  Attainment ratios
    ``threshold < target ≤ cap``; scores ``floor ≤ threshold ≤ target ≤ cap``.
    With ``cap == target`` the curve is flat above target and ``cap_score`` must
    equal ``target_score``.

    Invalid values raise :class:`~helpers.errors.InputError` naming the field.
    """

    threshold: float = 0.8
    target: float = 1.0
    cap: float = 1.2
    floor_score: float = 0.0
    threshold_score: float = 60.0
    target_score: float = 100.0
    cap_score: float = 120.0
    floor_at: float | None = None
    name: str = field(default="scoring curve", compare=False)

    @property
    def continuous(self) -> bool:
        """No jump anywhere: a ramp below the threshold, or no drop at it."""
        return self.floor_at is not None or self.floor_score == self.threshold_score

    def __post_init__(self) -> None:
        problems: list[Problem] = []

        def bad(where: str, what: str, fix: str) -> None:
            problems.append(Problem(source=self.name, where=where, what=what, fix=fix))

        numeric = ("threshold", "target", "cap", "floor_score", "threshold_score", "target_score", "cap_score")
        for f in numeric:
            if not _finite(getattr(self, f)):
                bad(f, f"{f} is {getattr(self, f)!r}, not a finite number", "enter a number")
        if problems:
            raise InputError(problems)
        if self.floor_at is not None and not (_finite(self.floor_at) and 0 <= self.floor_at < self.threshold):
            bad("floor_at", f"floor_at {self.floor_at} is not between 0 and the threshold {self.threshold}",
                "the ramp starts below the threshold, e.g. floor_at 0.5 with threshold 0.8")
        if self.threshold < 0:
            bad("threshold", f"threshold {self.threshold} is negative", "use an attainment ratio ≥ 0, e.g. 0.8")
        if not self.threshold < self.target:
            bad("threshold", f"threshold {self.threshold} is not below target {self.target}",
                "the threshold must be a lower attainment than the target, e.g. 0.8 < 1.0")
        if not self.target <= self.cap:
            bad("cap", f"cap {self.cap} is below target {self.target}", "use cap ≥ target, e.g. 1.2")
        scores = [("floor_score", self.floor_score), ("threshold_score", self.threshold_score),
                  ("target_score", self.target_score), ("cap_score", self.cap_score)]
        for (n0, v0), (n1, v1) in zip(scores, scores[1:]):
            if v1 < v0:
                bad(n1, f"{n1} {v1} is below {n0} {v0}",
                    "scores must not decrease with attainment (floor ≤ threshold ≤ target ≤ cap)")
        if self.cap == self.target and self.cap_score != self.target_score:
            bad("cap_score", f"cap equals target ({self.cap}) but cap_score {self.cap_score} "
                f"differs from target_score {self.target_score}",
                "set cap above target, or cap_score equal to target_score")
        if problems:
            raise InputError(problems)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], name: str = "scoring curve") -> "ScoringCurve":
        """Build from a dict (e.g. a YAML section); unknown keys raise InputError."""
        allowed = {f for f in cls.__dataclass_fields__ if f != "name"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise InputError([Problem(source=name, where=k, what="unknown key",
                                      fix=f"allowed keys: {', '.join(sorted(allowed))}") for k in unknown])
        return cls(**dict(data), name=name)

    def score_array(self, att: np.ndarray) -> np.ndarray:
        """Vectorised score of a float array (see class docstring)."""
        att = np.asarray(att, dtype=float)
        if self.floor_at is not None:  # continuous: floor_score at floor_at, a straight ramp up to the threshold
            out = np.interp(att, [self.floor_at, self.threshold, self.target, self.cap],
                            [self.floor_score, self.threshold_score, self.target_score, self.cap_score])
            return np.where(np.isnan(att), np.nan, out)
        inside = np.interp(att, [self.threshold, self.target, self.cap],
                           [self.threshold_score, self.target_score, self.cap_score])
        out = np.where(att < self.threshold, self.floor_score, inside)
        return np.where(np.isnan(att), np.nan, out)


@dataclass(frozen=True)
class StepTable:
    """Banded score: the score of the highest band whose minimum attainment is reached.

    ``bands`` is a list of ``(min_attainment, score)`` pairs in increasing order of
    ``min_attainment`` (lower bounds inclusive, strictly increasing so bands never
    overlap; scores must not decrease).  Attainment below the first band scores
    ``below_score`` (default 0).  NaN → NaN.

    Example: ``StepTable([(0.8, 60), (1.0, 100), (1.2, 120)])`` gives 0 below 80 %,
    60 for 80–99.99 %, 100 for 100–119.99 %, 120 from 120 %.
    """

    bands: tuple[tuple[float, float], ...]
    below_score: float = 0.0
    name: str = field(default="step table", compare=False)

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        pairs: list[tuple[float, float]] = []
        raw = list(self.bands) if self.bands is not None else []
        if not raw:
            raise input_error(self.name, "no bands", where="bands", fix="give at least one (min_attainment, score) pair")
        for i, b in enumerate(raw):
            if isinstance(b, Mapping):
                b = (b.get("min"), b.get("score"))
            try:
                lo, sc = b
            except (TypeError, ValueError):
                problems.append(Problem(self.name, f"{b!r} is not a (min_attainment, score) pair", f"bands[{i}]"))
                continue
            if not (_finite(lo) and _finite(sc)):
                problems.append(Problem(self.name, f"({lo!r}, {sc!r}) has a value that is not a finite number",
                                        f"bands[{i}]"))
                continue
            pairs.append((float(lo), float(sc)))
        if problems:
            raise InputError(problems)
        for i in range(1, len(pairs)):
            (lo0, s0), (lo1, s1) = pairs[i - 1], pairs[i]
            if lo1 <= lo0:
                what = (f"min attainment {lo1} repeats bands[{i - 1}]" if lo1 == lo0 else
                        f"min attainment {lo1} is below bands[{i - 1}] ({lo0}): bands are not in increasing order")
                problems.append(Problem(self.name, what, f"bands[{i}]",
                                        "list bands from the lowest to the highest attainment, each bound once"))
            elif s1 < s0:
                problems.append(Problem(self.name, f"score {s1} is below bands[{i - 1}] score {s0}", f"bands[{i}]",
                                        "scores must not decrease with attainment"))
        if not _finite(self.below_score) or (pairs and self.below_score > pairs[0][1]):
            problems.append(Problem(self.name, f"below_score {self.below_score} is above the first band's score",
                                    "below_score", "use a score ≤ the first band's score"))
        if problems:
            raise InputError(problems)
        object.__setattr__(self, "bands", tuple(pairs))

    def score_array(self, att: np.ndarray) -> np.ndarray:
        """Vectorised score of a float array (``np.searchsorted`` over lower bounds)."""
        att = np.asarray(att, dtype=float)
        lows = np.array([b[0] for b in self.bands])
        vals = np.array([self.below_score] + [b[1] for b in self.bands])
        idx = np.searchsorted(lows, np.where(np.isnan(att), -np.inf, att), side="right")
        return np.where(np.isnan(att), np.nan, vals[idx])


Curve = Union[ScoringCurve, StepTable]


def score(att: ArrayLike, curve: Curve) -> Any:
    """Score attainment with a :class:`ScoringCurve` or :class:`StepTable`.

    Vectorised (``np.interp`` / ``np.searchsorted``); scalars, arrays, Series and
    DataFrames come back in the same shape.  NaN in → NaN out; +inf (lower-is-better
    with zero incidents) → the best score.
    """
    if not isinstance(curve, (ScoringCurve, StepTable)):
        raise input_error("score", f"curve is a {type(curve).__name__}",
                          fix="pass a ScoringCurve or a StepTable")
    arr, wrap = _to_array(att)
    return wrap(curve.score_array(arr))


def score_frame(attainments: pd.DataFrame, curves: Mapping[str, Curve] | Curve) -> pd.DataFrame:
    """Score every column of an attainment table with its own curve.

    ``curves`` maps column → curve (every column needs one; extra curves are an
    error), or is one curve for all columns.
    """
    if isinstance(curves, (ScoringCurve, StepTable)):
        arr = attainments.to_numpy(dtype=float, na_value=np.nan)
        return pd.DataFrame(curves.score_array(arr), index=attainments.index, columns=attainments.columns)
    cols = list(attainments.columns)
    problems = [Problem("curves", "no scoring curve for this indicator", str(c), "add a curve for it")
                for c in cols if c not in curves]
    problems += [Problem("curves", "curve for an indicator not in the attainment table", str(k),
                         f"indicators present: {', '.join(map(str, cols))}") for k in curves if k not in cols]
    if problems:
        raise InputError(problems)
    out = {c: curves[c].score_array(attainments[c].to_numpy(dtype=float, na_value=np.nan)) for c in cols}
    return pd.DataFrame(out, index=attainments.index, columns=attainments.columns)


def cliff_edges(curve: Curve) -> list[tuple[float, float, float]]:
    """The jumps of a curve: ``(attainment, points just below, points at it)`` for every
    attainment where the score steps up (a step table's band edges, the threshold of a
    step curve); a continuous curve has none."""
    if isinstance(curve, ScoringCurve):
        return [] if curve.continuous else [(curve.threshold, curve.floor_score, curve.threshold_score)]
    out, prev = [], curve.below_score
    for lo, sc in curve.bands:
        if sc > prev:
            out.append((lo, prev, sc))
        prev = sc
    return out


def near_cliffs(attainment: pd.DataFrame, curves: Mapping[str, Curve], margin: float = 0.03) -> pd.DataFrame:
    """Managers within ``margin`` (attainment points, 0.03 = 3 %) *below* a jump of their
    indicator's curve: one more sale or one complaint less would move their score by the
    whole step, so their score rests on an accident more than on their work.

    Returns ``manager_id, indicator, attainment, edge, points, points_at_edge`` (one
    row per manager and jump), sorted by indicator and attainment."""
    rows = []
    for i in attainment.columns:
        if i not in curves:
            continue
        a = attainment[i]
        for edge, below, at in cliff_edges(curves[i]):
            hit = a[(a >= edge - margin - _TOL) & (a < edge - _TOL)]
            rows += [(m, i, float(v), edge, below, at) for m, v in hit.items()]
    out = pd.DataFrame(rows, columns=["manager_id", "indicator", "attainment", "edge", "points", "points_at_edge"])
    return out.sort_values(["indicator", "attainment"], kind="mergesort").reset_index(drop=True)


# --------------------------------------------------------------------------- totals


def weighted_total_detail(
    scores: pd.DataFrame,
    weights: pd.Series | Mapping[str, float],
    *,
    strict: bool = False,
    min_available: float = 0.0,
    source: str = "weights",
) -> pd.DataFrame:
    """Weighted total per manager with re-normalisation over available indicators.

    Rows of ``scores`` are managers, columns indicators.  With ``w_j`` the weights
    (any positive scale — 30/50/20 and 0.3/0.5/0.2 are the same) and ``x_ij`` the
    scores::

        total_i            = Σ_j w_j·x_ij / Σ_j w_j·[x_ij present]
        weight_available_i = Σ_j w_j·[x_ij present] / Σ_j w_j

    i.e. a missing indicator (NaN) is left out and the remaining weights are scaled
    up so they add to 100 % again (the usual treatment of "not applicable" KPIs in a
    weighted scorecard).  ``weight_available`` shows how much of the plan stood
    behind each total.  A manager with no indicator at all gets NaN (no data).

    * ``strict=True``: any missing score (for an indicator with weight > 0) raises
      :class:`InputError` listing the first managers/indicators instead.
    * ``min_available``: totals resting on less than this share of the weight are set
      to NaN (no data); ``weight_available`` still says why.
    * weights naming indicators that are not columns of ``scores`` → InputError
      listing them; negative / non-finite weights or all-zero weights → InputError.
      Columns without a weight are ignored (e.g. informational columns).
    """
    w = pd.Series(weights, dtype=float) if not isinstance(weights, pd.Series) else weights.astype(float)
    problems: list[Problem] = []
    unknown = [str(k) for k in w.index if k not in scores.columns]
    if unknown:
        problems.append(Problem(source, f"weights name indicators that are not in the scores: {', '.join(unknown)}",
                                fix=f"indicators present: {', '.join(map(str, scores.columns))}"))
    for k, v in w.items():
        if not np.isfinite(v) or v < 0:
            problems.append(Problem(source, f"weight {v} is not a number ≥ 0", str(k), "use a non-negative weight"))
    if not problems and w.sum() <= 0:
        problems.append(Problem(source, "all weights are 0", fix="give at least one indicator a positive weight"))
    if not (0.0 <= min_available <= 1.0):
        problems.append(Problem(source, f"min_available {min_available} is outside 0–1", "min_available"))
    if problems:
        raise InputError(problems)

    w = w[w > 0]
    cols = list(w.index)
    x = scores[cols].to_numpy(dtype=float, na_value=np.nan)
    wv = w.to_numpy()
    present = ~np.isnan(x)
    if strict and not present.all():
        rows, cs = np.nonzero(~present)
        listed = [f"{scores.index[r]!s}/{cols[c]!s}" for r, c in zip(rows[:10], cs[:10])]
        more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
        raise input_error("scores", f"{len(rows)} missing score(s): {', '.join(listed)}{more}",
                          fix="fill in the data, or use strict=False to re-normalise the weights")
    num = np.where(present, x, 0.0) @ wv
    den = present.astype(float) @ wv
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    share = den / wv.sum()
    total = np.where(share + _TOL < min_available, np.nan, total)
    return pd.DataFrame({"total": total, "weight_available": share}, index=scores.index)


def weighted_total(
    scores: pd.DataFrame,
    weights: pd.Series | Mapping[str, float],
    *,
    strict: bool = False,
    min_available: float = 0.0,
    source: str = "weights",
) -> pd.Series:
    """Weighted total per manager; see :func:`weighted_total_detail` for the formula.

    Returns a Series named ``total``; ``result.attrs["weight_available"]`` holds the
    share of the weight that was available per manager (pandas may drop ``attrs``
    in later operations — use :func:`weighted_total_detail` to keep it as a column).
    """
    d = weighted_total_detail(scores, weights, strict=strict, min_available=min_available, source=source)
    out = d["total"].copy()
    out.attrs["weight_available"] = d["weight_available"].copy()
    return out


def combine_hard_soft(hard: pd.Series, soft: pd.Series, split: float = 0.7) -> pd.Series:
    """Monthly appraisal total: ``split·hard + (1 − split)·soft``.

    ``hard`` = 业绩考核 (results: sales, structure — "hard" indicators), ``soft`` =
    市场考核 (market work: visits, service, reports), as in the seed note
    "浅谈如何做好客户经理月度考核".  ``split`` ∈ [0, 1] (default 70 / 30).
    If either part is NaN for a manager the total is NaN (no data): the split is a
    policy choice, so a missing half is not silently re-weighted — use
    :func:`weighted_total_detail` with the two parts as columns if re-normalising is
    wanted.  Both Series must cover the same managers.
    """
    if not (_finite(split) and 0.0 <= split <= 1.0):
        raise input_error("combine_hard_soft", f"split {split} is outside 0–1", "split",
                          "use the share of the hard (业绩) part, e.g. 0.7")
    if not hard.index.equals(soft.index):
        if set(hard.index) != set(soft.index):
            only_h = [str(i) for i in hard.index.difference(soft.index)[:10]]
            only_s = [str(i) for i in soft.index.difference(hard.index)[:10]]
            raise input_error("combine_hard_soft", "hard and soft scores cover different managers "
                              f"(only in hard: {only_h}; only in soft: {only_s})",
                              fix="score both parts for the same managers")
        soft = soft.reindex(hard.index)
    out = split * hard.astype(float) + (1.0 - split) * soft.astype(float)
    out.name = "total"
    return out


# --------------------------------------------------------------------------- rank & grades


def rank(scores: pd.Series, groups: pd.Series | None = None) -> pd.Series:
    """Rank managers, 1 = best (highest score), within ``groups`` (teams) if given.

    Ties share the *minimum* rank ("competition ranking", 1-2-2-4): two managers tied
    for second are both 2 and the next is 4 (``scipy.stats.rankdata(-x,
    method="min")``).  The ranking itself is :func:`helpers.core.weighting.ranks`, so
    scores equal after rounding to ``weighting.RANK_DECIMALS`` (9) decimals tie, as in
    the weighting scenarios and in :func:`grade_forced`.  This function adds what
    scoring needs on top: NaN scores (no data) get no rank (``<NA>``) and the
    others are ranked without them; ``groups`` ranks within each team.  Missing group
    labels or infinite scores raise InputError.  Returns nullable integers (``Int64``).
    """
    s = scores.astype(float)
    valid = s.notna().to_numpy()
    if groups is not None:
        if not groups.index.equals(s.index):
            raise input_error("rank", "groups are not aligned with the scores (different row labels)",
                              fix="pass a team label for every manager, indexed like the scores")
        missing = groups.isna()
        if missing.any():
            raise input_error("rank", f"team missing for {int(missing.sum())} manager(s): "
                              f"{', '.join(map(str, groups.index[missing][:10]))}", fix="fill in the team")
    scored = pd.Series(s.to_numpy()[valid], index=s.index[valid])
    if groups is None:
        got = _weighting_ranks(scored).to_numpy()
    else:
        by_position = scored.reset_index(drop=True)
        got = by_position.groupby(groups.to_numpy()[valid], sort=False).transform(_weighting_ranks).to_numpy()
    out = pd.Series(pd.NA, index=s.index, dtype="Int64", name="rank")
    out[valid] = got
    return out


def _check_labels(labels: Sequence[str], source: str) -> None:
    bad = [lab for lab in labels if str(lab) == NO_DATA]
    if bad or len(set(labels)) != len(labels):
        raise input_error(source, "grade labels must be distinct and not 'no data'", fix="rename the grades")


def grade_absolute(total: ArrayLike, bands: Mapping[str, float] = DEFAULT_BANDS) -> Any:
    """Grade by fixed score bands: the best grade whose lower bound the total reaches.

    ``total ≥ bound`` (inclusive, with a 1e-9 tolerance against rounding), e.g. with
    the default bands S ≥ 110, A ≥ 100, B ≥ 85, C ≥ 70, D below.  The lowest band is
    open downwards (a total below its bound still gets the lowest grade).  NaN →
    :data:`NO_DATA`, never the worst grade.  Bands may be given in any order;
    bounds must be distinct finite numbers.
    """
    labels = list(bands.keys())
    bounds = np.array([bands[k] for k in labels], dtype=float) if labels else np.array([])
    if not labels:
        raise input_error("bands", "no grade bands", fix="give e.g. {'A': 100, 'B': 85, 'C': 0}")
    _check_labels(labels, "bands")
    if not np.isfinite(bounds).all() or len(set(bounds.tolist())) != len(bounds):
        raise input_error("bands", f"lower bounds {bounds.tolist()} must be distinct finite numbers")
    order = np.argsort(bounds)
    asc_b, asc_l = bounds[order], np.array(labels, dtype=object)[order]
    arr, wrap = _to_array(total)
    idx = np.searchsorted(asc_b, np.where(np.isnan(arr), -np.inf, arr) + _TOL, side="right") - 1
    out = np.where(np.isnan(arr), NO_DATA, asc_l[np.clip(idx, 0, None)]).astype(object)
    res = wrap(out)
    return res.rename("grade") if isinstance(res, pd.Series) else res


def _distribution(distribution: Mapping[str, float]) -> tuple[list[str], np.ndarray]:
    labels = list(distribution.keys())
    if not labels:
        raise input_error("distribution", "no grades", fix="give e.g. {'A': 0.2, 'B': 0.7, 'C': 0.1}")
    _check_labels(labels, "distribution")
    p = np.array([distribution[k] for k in labels], dtype=float)
    problems = [Problem("distribution", f"share {v} is not a number in 0–1", str(k))
                for k, v in zip(labels, p) if not (np.isfinite(v) and 0 <= v <= 1)]
    if problems:
        raise InputError(problems)
    if abs(p.sum() - 1.0) > 1e-6:
        raise input_error("distribution", f"shares add up to {p.sum():.6g}, not 1",
                          fix="make the shares add up to 100 %")
    return labels, p / p.sum()


def _quotas(n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Largest-remainder (Hamilton) quotas, shape (groups, grades); rows add up to n.

    ``floor(n·p_k)`` each, then the seats still missing go to the largest
    fractional parts; equal fractional parts favour the better (earlier) grade.
    """
    raw = n[:, None].astype(float) * p[None, :]
    base = np.floor(raw + _TOL)
    rem = np.round(np.clip(raw - base, 0.0, None), 9)
    short = n - base.sum(axis=1).astype(int)
    order = np.argsort(-rem, axis=1, kind="stable")
    pos = np.empty_like(order)
    np.put_along_axis(pos, order, np.arange(p.size)[None, :].repeat(len(n), axis=0), axis=1)
    return (base + (pos < short[:, None])).astype(int)


def forced_quotas(n: int, distribution: Mapping[str, float] = DEFAULT_DISTRIBUTION) -> dict[str, int]:
    """Number of managers per grade for a group of ``n`` (largest remainder; adds up to n).

    Example: n = 10 with 20 / 70 / 10 → A 2, B 7, C 1; n = 7 → raw 1.4 / 4.9 / 0.7,
    floors 1 / 4 / 0, two seats left go to the largest remainders (.9 → B, .7 → C):
    A 1, B 5, C 1.
    """
    labels, p = _distribution(distribution)
    q = _quotas(np.array([int(n)]), p)[0]
    return dict(zip(labels, q.tolist()))


def grade_forced(
    total: pd.Series,
    distribution: Mapping[str, float] = DEFAULT_DISTRIBUTION,
    *,
    groups: pd.Series | None = None,
    tie_breaker: pd.Series | None = None,
    decimals: int = 9,
    takes_place: pd.Series | None = None,
) -> pd.Series:
    """Forced-distribution grades (e.g. 20 % A, 70 % B, 10 % C) within each group.

    Rule, per group (whole company if ``groups`` is None):

    1. Managers with a NaN total get :data:`NO_DATA` and do not count in the group
       size ``n``.
    2. Quotas: :func:`forced_quotas` — largest remainder over ``n`` so the counts add
       up to ``n`` (10 managers at 20/70/10 → 2/7/1).
    3. Managers are sorted by total descending (then by ``tie_breaker`` descending if
       given, e.g. sales attainment; NaN tie-breakers sort last).  Totals are rounded
       to ``decimals`` before comparing, so 84.999999999999 and 85 tie.
    4. Ties: managers with the same total (and same tie-breaker) always get the same
       grade.  A tie block straddling a quota boundary gets the grade that holds
       **most of its places** (the better one when they split evenly), so a two-way
       tie moves a grade by at most one place from the policy, and a tie of everyone
       gives everyone the middle grade instead of the best.  Positions after the block
       keep the cumulative quota boundaries.
    5. ``takes_place`` (optional, bool per manager): managers marked False (e.g. active
       for less than half the period) are graded but take no place in the quotas: the
       quotas are counted over the others, and each of them gets the grade a member of
       the pool with the same total would get (the grade of the first member, in
       ranking order, whose total and tie-breaker are not above theirs; below everyone:
       the last member's grade).

    Returns a Series of grade labels named ``grade``.
    """
    labels, p = _distribution(distribution)
    s = total.to_numpy(dtype=float, na_value=np.nan)
    if groups is None:
        codes = np.zeros(len(s), dtype=int)
    else:
        if not groups.index.equals(total.index):
            raise input_error("grade_forced", "groups are not aligned with the totals (different row labels)")
        if groups.isna().any():
            miss = groups.index[groups.isna()][:10]
            raise input_error("grade_forced", f"group missing for managers {', '.join(map(str, miss))}",
                              fix="fill in the team")
        codes = pd.factorize(groups, sort=False)[0]
    if tie_breaker is None:
        tb = np.zeros(len(s))
    else:
        if not tie_breaker.index.equals(total.index):
            raise input_error("grade_forced", "tie_breaker is not aligned with the totals (different row labels)")
        tb = tie_breaker.to_numpy(dtype=float, na_value=np.nan)
        tb = np.where(np.isnan(tb), -np.inf, np.round(tb, decimals))

    out = np.full(len(s), NO_DATA, dtype=object)
    if takes_place is not None:
        if not takes_place.index.equals(total.index):
            raise input_error("grade_forced", "takes_place is not aligned with the totals (different row labels)")
        member = takes_place.fillna(True).to_numpy(dtype=bool)
        if not member.all():
            inside = pd.Series(member, index=total.index)
            sub_g = None if groups is None else groups[inside]
            sub_tb = None if tie_breaker is None else tie_breaker[inside]
            graded = grade_forced(total[inside], distribution, groups=sub_g, tie_breaker=sub_tb, decimals=decimals)
            out_s = pd.Series(NO_DATA, index=total.index, dtype=object, name="grade")
            out_s[inside] = graded
            for k in np.flatnonzero(~member):
                if np.isnan(s[k]):
                    continue
                peers = inside & (pd.Series(codes, index=total.index) == codes[k]) & ~np.isnan(s)
                if not peers.any():
                    out_s.iloc[k] = labels[0]
                    continue
                ps = np.round(s[peers.to_numpy()], decimals)
                pt = tb[peers.to_numpy()]
                order = np.lexsort((-pt, -ps))
                ps, pt = ps[order], pt[order]
                pgrades = graded[peers[inside].to_numpy()].to_numpy()[order]
                mine = (np.round(s[k], decimals), tb[k])
                at_or_below = [j for j in range(len(ps)) if (ps[j], pt[j]) <= mine]
                out_s.iloc[k] = pgrades[at_or_below[0]] if at_or_below else pgrades[-1]
            return out_s
    valid = np.flatnonzero(~np.isnan(s))
    if valid.size:
        sv = np.round(s[valid], decimals)
        tv = tb[valid]
        n_groups = int(codes.max()) + 1 if codes.size else 0
        gv = codes[valid]
        order = np.lexsort((-tv, -sv, gv))  # primary: group, then total desc, then tie-breaker desc
        gs, ss, ts = gv[order], sv[order], tv[order]
        n_per = np.bincount(gv, minlength=n_groups)
        start_of_group = np.concatenate(([0], np.cumsum(n_per)[:-1]))
        pos = np.arange(order.size) - start_of_group[gs]
        new_block = np.ones(order.size, dtype=bool)
        new_block[1:] = (gs[1:] != gs[:-1]) | (ss[1:] != ss[:-1]) | (ts[1:] != ts[:-1])
        block_id = np.cumsum(new_block) - 1
        block_start = pos[new_block][block_id]
        block_size = np.bincount(block_id)[block_id]
        cum = np.cumsum(_quotas(n_per, p), axis=1)  # (groups, grades)
        hi = cum[gs]
        lo = np.concatenate([np.zeros((len(gs), 1), dtype=hi.dtype), hi[:, :-1]], axis=1)
        end = (block_start + block_size)[:, None]
        overlap = np.clip(np.minimum(end, hi) - np.maximum(block_start[:, None], lo), 0, None)
        k = overlap.argmax(axis=1)  # the grade holding most of the block's places; first (better) on a split
        out[valid[order]] = np.array(labels, dtype=object)[k]
    return pd.Series(out, index=total.index, name="grade", dtype=object)


POOL_LEVELS: tuple[str, ...] = ("team", "region", "company")


def grading_pool(units: pd.DataFrame, graded: pd.Series, pool: str = "team", min_pool: int = 1,
                 ) -> tuple[str, pd.Series | None]:
    """The pool the forced distribution is applied in, and each manager's pool label.

    Rule (one sentence for the report): grades are forced within the plan's ``pool``
    (team, region or company) when every such pool has at least ``min_pool`` managers
    who take a place in the quotas (``graded``: True for them); otherwise within the
    next larger level (team → region → company); when even the company is smaller than
    ``min_pool``, no distribution is forced and the absolute bands apply (``"absolute"``,
    labels None).  ``units``: index manager_id, columns ``team_id`` and ``region``.

    A 20/70/10 quota on a team of 8 gives 25 % A (2 of 8) and on a team of 2 50 % A;
    pooling small teams keeps the shares near the policy.
    """
    if pool not in POOL_LEVELS:
        raise input_error("grades", f"pool {pool!r} is not one of {', '.join(POOL_LEVELS)}", "grades.pool")
    col = {"team": "team_id", "region": "region", "company": None}
    g = graded.reindex(units.index).fillna(False).astype(bool)
    for level in POOL_LEVELS[POOL_LEVELS.index(pool):]:
        c = col[level]
        labels = pd.Series("company", index=units.index) if c is None else units[c].astype(str)
        sizes = g.groupby(labels).sum()
        sizes = sizes[sizes > 0]
        if len(sizes) and int(sizes.min()) >= min_pool:
            return level, labels
    return "absolute", None


# --------------------------------------------------------------------------- pro-rating


def prorate_amount(amount: ArrayLike, fraction: ArrayLike) -> Any:
    """Fixed amount for a part-period manager: ``amount × fraction``.

    Rule of this workbook: *fixed* money amounts (a flat bonus, an absolute cap) are
    pro-rated by the active fraction; amounts that already scale with activity
    (commission on sales, per-customer bonuses) are not.
    """
    return prorate_by_fraction(amount, fraction, source="prorate_amount")


def prorate_target(target: ArrayLike, fraction: ArrayLike) -> Any:
    """Target for a part-period manager: ``target × fraction``.

    Pro-rate the *target* (not the score): attainment = actual / pro-rated target is
    then comparable with full-period managers, and the score needs no adjustment.
    """
    return prorate_by_fraction(target, fraction, source="prorate_target")


def prorate_score(score_value: ArrayLike, fraction: ArrayLike, *, targets_prorated: bool) -> Any:
    """Documented rule: scores are attainment-based and are **not** pro-rated.

    If the targets were pro-rated (:func:`prorate_target`), the score is returned
    unchanged.  Multiplying a score by the active fraction would punish a manager
    twice (smaller actual *and* smaller score), so with un-pro-rated targets this
    raises InputError asking to pro-rate the targets instead.
    """
    _check_fraction(fraction, "prorate_score")
    if not targets_prorated:
        raise input_error("prorate_score", "scores cannot be pro-rated: targets were not pro-rated",
                          fix="pro-rate the targets with prorate_target() and recompute attainment")
    return score_value
