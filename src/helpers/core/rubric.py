"""The soft appraisal (市场考核) under its published scoring rules (考核细则,
:class:`helpers.plan.rubric.Rubric`).

Numbers only.  The ratings table has the columns ``manager_id, period, dimension,
score, rater``; the steps, in the order :func:`soft_scores` applies them:

    levels       exact: a score that is not a level of its dimension is a problem
                 (:func:`rating_problems`); nearest: snapped to the nearest level,
                 ties to the lower (:func:`snap`, which also lists the changed rows)
    calibration  a rater who gives 10 points more than the average rater on the same
                 dimension has 10 points taken off each of their ratings (:func:`calibrate`)
    per rater    each rater's ratings of a manager in the period are averaged first, then
                 the raters' averages: a rater who rated three times does not outweigh
                 one who rated once
    min_raters   a manager's dimension rated by fewer distinct raters is not scored (NaN)

Dimensions the rubric does not list are neither checked nor snapped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.errors import Problem
from helpers.plan.rubric import Rubric

__all__ = ["MAX_LISTED", "MAX_POINTS", "calibrate", "rating_problems", "snap", "soft_scores"]

#: Calibrated scores are clipped to 0..MAX_POINTS (the highest points a level may have).
MAX_POINTS = 150.0

#: At most this many bad rows of one dimension are listed in a problem; the rest are counted.
MAX_LISTED = 10

_CHANGES = ["manager_id", "period", "dimension", "rater", "score", "snapped"]


def _num(x: float) -> str:
    return f"{x:g}"


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def _is_level(scores: np.ndarray, points: list[float]) -> np.ndarray:
    return np.isclose(scores[:, None], np.asarray(points, dtype=float)[None, :], rtol=0.0, atol=1e-9).any(axis=1)


def rating_problems(ratings: pd.DataFrame, rubric: Rubric, source: str) -> list[Problem]:
    """The ratings whose score is not one of its dimension's level points, one
    :class:`Problem` per dimension (rows listed up to :data:`MAX_LISTED`, then "and N
    more"); ``where`` names the file's line (positional row + 2: the header and 1-based
    lines) and the column ``score``.  Only for ``on_level: exact`` (with ``nearest`` such
    scores are snapped, :func:`snap`); dimensions the rubric does not list, and missing
    scores, are not checked here."""
    if rubric.on_level != "exact" or ratings.empty:
        return []
    dims = ratings["dimension"].to_numpy()
    scores = pd.to_numeric(ratings["score"], errors="coerce").to_numpy(dtype=float)
    out: list[Problem] = []
    for dim_id, dim in rubric.dimensions.items():
        pos = np.flatnonzero((dims == dim_id) & ~np.isnan(scores))
        bad = pos[~_is_level(scores[pos], dim.points)]
        if not len(bad):
            continue
        levels = ", ".join(_num(p) for p in dim.points)
        rows = [str(i + 2) for i in bad]
        values = [_num(scores[i]) for i in bad]
        if len(bad) == 1:
            where = f"row {rows[0]}, column score"
            what = f"score {values[0]} for dimension {dim_id} is not a level of the rubric ({levels})"
        else:
            where = f"rows {_listed(rows)}, column score"
            what = f"scores {_listed(values)} for dimension {dim_id} are not levels of the rubric ({levels})"
        out.append(Problem(source, what, where=where, fix="use one of the rubric's levels"))
    return out


def snap(ratings: pd.DataFrame, rubric: Rubric) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``ratings`` with each score of a rubric dimension moved to the nearest level's
    points (halfway between two levels → the lower), when ``on_level`` is ``nearest``;
    and the rows that changed (``manager_id, period, dimension, rater, score, snapped``,
    the ratings' index kept).  With ``on_level: exact`` nothing is snapped (the table of
    changes is empty: :func:`rating_problems` refuses such scores instead)."""
    out = ratings.copy()
    if rubric.on_level != "nearest" or ratings.empty:
        return out, pd.DataFrame(columns=_CHANGES)
    scores = pd.to_numeric(ratings["score"], errors="coerce").to_numpy(dtype=float)
    snapped = scores.copy()
    dims = ratings["dimension"].to_numpy()
    for dim_id, dim in rubric.dimensions.items():
        pos = np.flatnonzero((dims == dim_id) & ~np.isnan(scores))
        if not len(pos):
            continue
        points = np.sort(np.asarray(dim.points, dtype=float))  # ascending: argmin takes the first → the lower on a tie
        snapped[pos] = points[np.abs(scores[pos, None] - points[None, :]).argmin(axis=1)]
    out["score"] = snapped
    changed = ~np.isclose(snapped, scores, rtol=0.0, atol=1e-9) & ~np.isnan(scores)
    changes = ratings.loc[changed, ["manager_id", "period", "dimension", "rater", "score"]].assign(snapped=snapped[changed])
    return out, changes


def calibrate(ratings: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Each rater's leniency removed, dimension by dimension.

    A rater's leniency on a dimension is the mean of that rater's scores on it minus the
    mean of all scores on it: a rater who gives 10 points more than the average rater on
    the same dimension has 10 points taken off each of their ratings (and a strict one
    has points added).  A rater alone on a dimension has nothing to be compared with:
    their mean is the dimension's mean, so their leniency is 0.  Calibrated scores are clipped to 0..150.  The comparison assumes the
    raters rate comparable managers.

    Returns the ratings with calibrated scores and the leniency per ``(rater,
    dimension)`` (a Series named ``leniency``)."""
    if ratings.empty:
        idx = pd.MultiIndex.from_arrays([[], []], names=["rater", "dimension"])
        return ratings.copy(), pd.Series([], index=idx, dtype=float, name="leniency")
    score = pd.to_numeric(ratings["score"], errors="coerce")
    frame = pd.DataFrame({"rater": ratings["rater"].to_numpy(), "dimension": ratings["dimension"].to_numpy(),
                          "score": score.to_numpy(dtype=float)})
    dim_mean = frame.groupby("dimension")["score"].mean()
    rater_mean = frame.groupby(["rater", "dimension"])["score"].mean()
    # a rater alone on a dimension: their mean is the dimension's mean, so 0 (no special case)
    leniency = rater_mean - dim_mean.reindex(rater_mean.index.get_level_values("dimension")).to_numpy()
    leniency = leniency.fillna(0.0).rename("leniency")
    keys = pd.MultiIndex.from_arrays([frame["rater"], frame["dimension"]])
    off = leniency.reindex(keys).fillna(0.0).to_numpy()
    out = ratings.copy()
    out["score"] = np.clip(score.to_numpy(dtype=float) - off, 0.0, MAX_POINTS)
    return out, leniency


def soft_scores(ratings: pd.DataFrame, rubric: Rubric | None,
                period_labels: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Managers × dimensions: the soft appraisal of the period.

    Only the ratings whose ``period`` is one of ``period_labels`` count (e.g. a quarter's
    three months and the quarter's own label).  With a rubric, scores are first snapped
    (``on_level: nearest``, :func:`snap`) and calibrated within these ratings
    (``calibrate: true``, :func:`calibrate`).  Each rater's ratings of a manager are
    averaged, then the raters' averages: a rater who rated three times counts as much as
    one who rated once.  A manager's dimension with fewer distinct raters than
    ``rubric.min_raters`` is NaN (not scored).  Scores that are not levels under
    ``on_level: exact`` are not refused here: check them with :func:`rating_problems`.

    Returns the scores and the number of distinct raters (both indexed by
    ``manager_id``, columns the dimensions)."""
    r = ratings[ratings["period"].isin(list(period_labels))]
    r = r.assign(score=pd.to_numeric(r["score"], errors="coerce")).dropna(subset=["score"])
    if rubric is not None:
        r = snap(r, rubric)[0]
        if rubric.calibrate:
            r = calibrate(r)[0]
    min_raters = rubric.min_raters if rubric is not None else 1
    per_rater = r.groupby(["manager_id", "dimension", "rater"])["score"].mean()
    if per_rater.empty:
        empty = pd.DataFrame(index=pd.Index([], name="manager_id"), columns=pd.Index([], name="dimension"))
        return empty.astype(float), empty.astype(int)
    by_manager = per_rater.groupby(level=["manager_id", "dimension"])
    scores = by_manager.mean().unstack("dimension")
    raters = by_manager.size().unstack("dimension", fill_value=0).astype(int)
    scores = scores.where(raters >= min_raters)
    return scores, raters
