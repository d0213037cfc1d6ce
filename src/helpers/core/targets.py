"""Target setting: methods, seasonality, fair apportionment, sanity checks and backtests.

Pure calculations on plain pandas objects (loading and validation of raw data is done
elsewhere).  Conventions used throughout:

* A *month* is a ``pd.Period`` with freq ``"M"`` or a string ``"YYYY-MM"``; a *period*
  for targets is a month, a calendar quarter (``"2026Q3"``) or a year (``"2026"``).
  Month and quarter labels are read by :func:`helpers.periods.parse_period` (the
  labels the whole workbook uses); the year is an extension for annual targets.
* A monthly history of one KPI is a ``pd.Series`` indexed by month.
* A panel is a ``pd.DataFrame`` with columns ``manager_id``, ``month`` (Period[M]) and
  ``value`` (plus ``indicator`` when it holds several KPIs).

Methods covered (see the issue "Target setting: methods, seasonality, fair
apportionment and backtests" and the seed article on customer indicators — e.g. "a
team that won 50 new customers last quarter can be set 60 for the next one"):

* growth on a base period (last period or same period last year),
* seasonal phasing with classical multiplicative decomposition indices,
* top-down apportionment by weights with the largest-remainder (Hamilton) method,
* market / customer-base potential, blending of methods, top-down vs bottom-up
  reconciliation, pro-rating for partial periods (:func:`active_fraction`,
  :func:`prorate`, re-exported from :mod:`helpers.core.attainment`),
* SMART sanity checks (implied growth band, robust peer z-score, measurable,
  time-bound) and backtests of a method on history (attainment distributions and
  fairness flags per group).

Attainment in the backtests follows the workbook's one rule,
:func:`helpers.core.attainment.attainment_detail` (re-exported here as :func:`attainment`).

Every problem with the input raises :class:`helpers.errors.InputError` naming the key,
month, file row or column; no function returns a silent NaN (an undefined attainment
is NaN with its reason in the backtest ``status``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

# Attainment and pro-rating live in helpers.core.attainment (one rule for the whole
# workbook) and are re-exported here under their old names.
from helpers.core.attainment import active_fraction, attainment, attainment_detail, prorate
from helpers.errors import InputError, Problem, input_error
from helpers.periods import ReviewPeriod
from helpers.periods import _PER_YEAR, _kind, period_months, period_of as parse_period  # noqa: F401  (the targets' period labels)

__all__ = [
    "RULES_OF_THUMB",
    "parse_period",
    "period_months",
    "growth_target",
    "growth_targets",
    "seasonal_indices",
    "phase_target",
    "apportion",
    "apportionment_weights",
    "potential_target",
    "reconcile",
    "blend_targets",
    "active_fraction",
    "prorate",
    "implied_growth",
    "achievability_flags",
    "attainment",
    "backtest",
    "make_growth_method",
    "attainment_distribution",
    "fairness_flags",
]

#: Rules of thumb for a well-calibrated target set (share of managers reaching each
#: level of attainment).  Common sales-compensation guidance, not a standard: about
#: 90 % should reach the threshold, 60–65 % the target and about 10 % excellence.
RULES_OF_THUMB: dict[str, tuple[float, float]] = {
    "threshold": (0.90, 0.90),
    "target": (0.60, 0.65),
    "excellence": (0.10, 0.10),
}

_TOL = 1e-9

# --------------------------------------------------------------------------------------
# periods
# --------------------------------------------------------------------------------------


def _month(value: Any, source: str) -> pd.Period:
    if isinstance(value, pd.Period) and _kind(value) == "M":
        return value
    if isinstance(value, (pd.Timestamp, datetime, date, np.datetime64)):
        return pd.Timestamp(value).to_period("M")
    return parse_period(value, "M", source)


def _month_index(index: pd.Index, source: str) -> pd.PeriodIndex:
    """Convert an index of months (Periods, ``"YYYY-MM"`` strings or dates) to Period[M]."""
    if isinstance(index, pd.PeriodIndex) and index.freqstr == "M":
        return index
    if isinstance(index, pd.DatetimeIndex):
        return index.to_period("M")
    return pd.PeriodIndex([_month(v, source) for v in index], freq="M")


def _monthly_series(history: pd.Series, source: str) -> pd.Series:
    """Validated copy of a monthly history: Period[M] index, sorted, unique, finite."""
    if not isinstance(history, pd.Series):
        raise input_error(source, f"expected a pandas Series, got {type(history).__name__}")
    s = pd.Series(pd.to_numeric(history, errors="coerce").to_numpy(dtype=float),
                  index=_month_index(history.index, source))
    dup = s.index[s.index.duplicated()].unique()
    if len(dup):
        raise input_error(source, f"month(s) appear more than once: {', '.join(map(str, dup))}",
                          fix="keep one value per month")
    bad = s.index[~np.isfinite(s.to_numpy())]
    if len(bad):
        raise input_error(source, f"missing or non-numeric value in month(s) {', '.join(map(str, bad))}",
                          fix="fill in the values or drop those months")
    return s.sort_index()


def _check_number(x: Any, source: str, name: str, *, minimum: float | None = 0.0) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise input_error(source, f"{name} must be a number, got {x!r}") from None
    if not math.isfinite(v):
        raise input_error(source, f"{name} must be a finite number, got {x!r}")
    if minimum is not None and v < minimum:
        raise input_error(source, f"{name} must be ≥ {minimum:g}, got {v:g}")
    return v


# --------------------------------------------------------------------------------------
# growth
# --------------------------------------------------------------------------------------


def growth_target(base: float, growth: float) -> float:
    """Growth target ``T = base × (1 + g)``.

    Example (seed article): 50 new customers last quarter and g = 20 % → 60.
    ``growth`` may be negative (a planned decline) but not below −100 %.
    """
    b = _check_number(base, "growth_target", "base")
    g = _check_number(growth, "growth_target", "growth", minimum=-1.0)
    return b * (1.0 + g)


def _base_period(p: pd.Period, basis: str, source: str) -> pd.Period:
    if basis == "last_period":
        return p - 1
    if basis == "same_period_last_year":
        return p - 1 if _kind(p) == "Y" else ReviewPeriod(p).year_ago().period
    raise input_error(source, f"unknown basis {basis!r}",
                      fix='use "last_period" or "same_period_last_year"')


def _aggregate(values: np.ndarray, how: str, source: str) -> float:
    if how == "sum":
        return float(values.sum())
    if how == "mean":
        return float(values.mean())
    if how == "last":
        return float(values[-1])
    raise input_error(source, f"unknown aggregation {how!r}", fix='use "sum", "mean" or "last"')


def _base_value(s: pd.Series, base: pd.Period, how: str, source: str) -> float:
    months = period_months(base)
    missing = months.difference(s.index)
    if len(missing):
        raise input_error(
            source, f"base period {base} is not fully in the history "
            f"(missing month(s) {', '.join(map(str, missing))})",
            fix="extend the history, choose another basis, or set the target by hand")
    return _aggregate(s.loc[months].to_numpy(), how, source)


@overload
def growth_targets(history: pd.Series, period: str | pd.Period, basis: str = ...,
                   growth: float = ..., freq: str | None = ..., how: str = ...) -> float: ...
@overload
def growth_targets(history: pd.Series, period: Sequence[Any], basis: str = ...,
                   growth: float = ..., freq: str | None = ..., how: str = ...) -> pd.Series: ...


def growth_targets(history: pd.Series, period: Any, basis: str = "last_period",
                   growth: float = 0.0, freq: str | None = None,
                   how: str = "sum") -> float | pd.Series:
    """Growth target for ``period`` from a monthly history: ``T = base × (1 + g)``.

    The base is the previous period (``basis="last_period"``, e.g. 2026Q2 for 2026Q3)
    or the same period a year before (``"same_period_last_year"``, 2025Q3).  Its value
    is the aggregate of its months: ``how="sum"`` for flow KPIs (new customers, sales),
    ``"mean"`` or ``"last"`` for stock KPIs (balances, customer counts at month end).

    ``period`` is one period (returns a float) or a sequence (returns a Series indexed
    by the periods).  ``freq`` (``"M"``/``"Q"``/``"Y"``) is inferred from the period text;
    when given it must agree.  A base period with any month missing from the history
    raises :class:`InputError` naming the period and months — there is no fallback.
    """
    src = "growth_targets"
    s = _monthly_series(history, src)
    many = not isinstance(period, (str, pd.Period)) and isinstance(period, Iterable)
    periods = [parse_period(p, freq, src) for p in (period if many else [period])]
    out = [growth_target(_base_value(s, _base_period(p, basis, src), how, src), growth)
           for p in periods]
    if not many:
        return out[0]
    return pd.Series(out, index=pd.Index(periods, name="period"), name="target")


# --------------------------------------------------------------------------------------
# seasonality
# --------------------------------------------------------------------------------------


def _is_month_label(v: Any) -> bool:
    """True for a ``"YYYY-MM"`` month label (as read by :func:`parse_period`)."""
    if not isinstance(v, str):
        return False
    try:
        return _kind(parse_period(v)) == "M"
    except InputError:
        return False


def _season_labels(index: pd.Index, period: int, source: str) -> np.ndarray:
    """Season label (1..period) of each position; checks gaps for Period indexes."""
    n = len(index)
    pidx: pd.PeriodIndex | None = None
    if isinstance(index, pd.PeriodIndex):
        pidx = index
    elif isinstance(index, pd.DatetimeIndex) or (n and all(_is_month_label(v) for v in index)):
        pidx = _month_index(index, source)
    if pidx is None:
        return (np.arange(n) % period) + 1
    if pidx.has_duplicates:
        dup = pidx[pidx.duplicated()].unique()
        raise input_error(source, f"period(s) appear more than once: {', '.join(map(str, dup))}")
    if not pidx.is_monotonic_increasing:
        raise input_error(source, "the index is not in time order", fix="sort the series by month")
    full = pd.period_range(pidx[0], pidx[-1], freq=pidx.freq)
    missing = full.difference(pidx)
    if len(missing):
        raise input_error(source, f"missing period(s) in the series: {', '.join(map(str, missing))}",
                          fix="fill the gaps (the moving average needs consecutive periods)")
    kind = _kind(pidx[0])
    if kind == "M" and period == 12:
        return np.asarray(pidx.month)
    if kind == "Q" and period == 4:
        return np.asarray(pidx.quarter)
    return (np.arange(n) % period) + 1


def seasonal_indices(series: pd.Series, period: int = 12) -> pd.Series:
    """Seasonal indices by classical multiplicative decomposition.

    1. Trend = centred moving average: for even ``period`` a 2×``period`` MA
       ``(½y[t−k] + y[t−k+1] + … + y[t+k−1] + ½y[t+k]) / period`` with ``k = period/2``;
       for odd ``period`` the plain ``period``-term centred MA.
    2. Ratio ``y / trend`` where the trend exists.
    3. Average the ratios per season (position in the period), then normalise so the
       indices average exactly 1.

    Same numbers as ``statsmodels.tsa.seasonal.seasonal_decompose(series,
    model="multiplicative", period=period).seasonal`` (Hyndman & Athanasopoulos,
    *Forecasting: Principles and Practice*, 3rd ed., §3.4 "Classical decomposition").

    Result index ``season`` = 1..``period``.  For a monthly (Period[M], ``"YYYY-MM"`` or
    datetime) index with ``period=12`` the label is the calendar month (January is 1
    wherever the series starts); for a quarterly PeriodIndex with ``period=4`` the
    quarter; otherwise the position counted from the first observation.

    Needs at least two full periods, strictly positive values, no gaps.
    """
    src = "seasonal_indices"
    if not isinstance(series, pd.Series):
        raise input_error(src, f"expected a pandas Series, got {type(series).__name__}")
    if not isinstance(period, (int, np.integer)) or period < 2:
        raise input_error(src, f"period must be an integer ≥ 2, got {period!r}")
    n = len(series)
    if n < 2 * period:
        raise input_error(src, f"needs at least 2 full periods ({2 * period} values), got {n}",
                          fix="supply a longer history or set the phasing by hand")
    labels = _season_labels(series.index, period, src)
    y = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(y) | (y <= 0)
    if bad.any():
        where = ", ".join(f"{series.index[i]} ({series.iloc[i]!r})" for i in np.flatnonzero(bad))
        raise input_error(src, f"the multiplicative model needs values > 0; bad at {where}",
                          fix="fill missing values; for KPIs that can be 0 phase evenly or by hand")
    if period % 2 == 0:
        filt = np.r_[0.5, np.ones(period - 1), 0.5] / period
    else:
        filt = np.ones(period) / period
    half = len(filt) // 2
    trend = np.full(n, np.nan)
    trend[half:n - half] = np.convolve(y, filt, mode="valid")
    ratio = y / trend
    pos = np.arange(n) % period
    means = np.array([np.nanmean(ratio[pos == j]) for j in range(period)])
    means /= means.mean()
    season_of_pos = labels[:period]
    out = pd.Series(means, index=pd.Index(season_of_pos, name="season"), name="seasonal_index")
    return out.sort_index()


def _season_of(p: pd.Period) -> int:
    return {"M": p.month, "Q": p.quarter, "Y": 1}[_kind(p)]


def phase_target(total: float, indices: pd.Series, months: Sequence[Any],
                 integer: bool | None = None, decimals: int | None = None) -> pd.Series:
    """Spread a period total over its months in proportion to their seasonal indices.

    ``part_m = total × S_m / Σ S``, done with :func:`apportion` so the parts add up
    exactly to ``total`` (largest remainder for integer totals / ``decimals``).  Each
    month is looked up in ``indices`` by its calendar month (quarter for quarterly
    periods), matching the labels produced by :func:`seasonal_indices`.
    """
    src = "phase_target"
    if len(months) == 0:
        raise input_error(src, "no months given")
    ps = [parse_period(m, source=src) for m in months]
    seasons = [_season_of(p) for p in ps]
    missing = sorted({s for s in seasons if s not in indices.index})
    if missing:
        raise input_error(src, f"no seasonal index for season(s) {missing}",
                          fix="compute indices for all 12 months (seasonal_indices)")
    w = pd.Series([float(indices.loc[s]) for s in seasons], index=[str(p) for p in ps])
    parts = apportion(total, w, integer=integer, decimals=decimals, source=src)
    parts.index = pd.Index(ps, name="month")
    return parts.rename("target")


# --------------------------------------------------------------------------------------
# apportionment
# --------------------------------------------------------------------------------------


def _plain(x: Any) -> Any:
    """A NumPy scalar as the Python value it holds (a message shows ``-1.0``, not
    ``np.float64(-1.0)``); anything else as it is."""
    return x.item() if isinstance(x, np.generic) else x


def _weights_series(weights: Mapping[Any, float] | pd.Series, source: str) -> pd.Series:
    if isinstance(weights, pd.Series):
        w = weights
    elif isinstance(weights, Mapping):
        w = pd.Series(dict(weights), dtype=object)
    else:
        raise input_error(source, f"weights must be a mapping or Series, got {type(weights).__name__}")
    if len(w) == 0:
        raise input_error(source, "no weights given", fix="give at least one key with a weight")
    if w.index.has_duplicates:
        dup = w.index[w.index.duplicated()].unique()
        raise input_error(source, f"key(s) appear more than once: {', '.join(map(str, dup))}")
    numeric = isinstance(w.dtype, np.dtype) and w.dtype.kind in "fiub"  # NumPy numbers: nothing to read
    num = w.astype(np.float64) if numeric else pd.to_numeric(w, errors="coerce").astype(float)
    v = num.to_numpy()
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(~(np.isfinite(v) & (v >= 0)))  # checked at once; named one by one below
    if len(bad):
        raise InputError([Problem(source, f"weight {_plain(w.iloc[i])!r} is not a finite number ≥ 0",
                                  where=f"key {_plain(w.index[i])!r}", fix="give a non-negative weight")
                          for i in bad])
    if num.sum() <= 0:
        raise input_error(source, "all weights are 0", fix="give at least one positive weight")
    return num


def _key_rank(index: pd.Index) -> np.ndarray:
    """Rank of each key in ascending order (natural order, else as strings)."""
    try:
        order = np.argsort(np.asarray(index), kind="stable")
    except TypeError:
        order = np.argsort(np.asarray([str(k) for k in index]), kind="stable")
    rank = np.empty(len(index), dtype=np.int64)
    rank[order] = np.arange(len(index))
    return rank


def _largest_remainder(units: int, w: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Hamilton: floor the quotas, hand out the rest by largest fractional remainder.

    Ties on the remainder go to the larger weight, then the key that sorts first.
    Whole-number weights are handled in exact integer arithmetic (``units × w_i // Σw``
    and ``units × w_i mod Σw``); other weights in floats, remainders equal to 1e-9
    counting as ties.
    """
    if np.all(w == np.floor(w)) and units * w.sum() < 2.0**62:
        wi = w.astype(np.int64)
        big = int(wi.sum())
        floor = (units * wi) // big
        rem_exact = (units * wi) % big  # remainder × Σw, exact integers
        order = np.lexsort((rank, -w, -rem_exact))  # last key is primary
        parts = floor.astype(np.int64)
        parts[order[:int(units - floor.sum())]] += 1
        return parts
    quota = units * w / w.sum()
    floor = np.floor(quota + _TOL)
    rest = int(units - floor.sum())
    rem = np.round(quota - floor, 9)
    order = np.lexsort((rank, -w, -rem))  # last key is primary
    parts = floor.astype(np.int64)
    parts[order[:rest]] += 1
    return parts


def apportion(total: float | int, weights: Mapping[Any, float] | pd.Series,
              integer: bool | None = None, decimals: int | None = None,
              source: str = "apportion") -> pd.Series:
    """Top-down apportionment of ``total`` in proportion to ``weights``.

    Exact quota ``q_i = total × w_i / Σw``.

    * Integer indicators (``integer=True``, or automatically when ``total`` is an
      ``int``): largest-remainder (Hamilton / Hare-quota) method — every key gets
      ``⌊q_i⌋``, the ``total − Σ⌊q_i⌋`` remaining units go one each to the largest
      fractional remainders.  Ties: larger weight first, then keys in ascending order.
      Parts add up exactly to ``total`` and each lies in ``[⌊q_i⌋, ⌊q_i⌋ + 1]``.
      (Balinski & Young, *Fair Representation*, 2nd ed. 2001; worked example in
      Wikipedia "Largest remainder method".)
    * ``decimals=d``: the same method on units of ``10^-d`` (e.g. cents); ``total`` must
      have at most ``d`` decimals.
    * Otherwise ``q_i`` as floats, each snapped to a whole multiple of the last binary
      digit of ``total`` (moves ≤ 2.2e-16 × total) with the leftover ulps handed out
      by largest remainder, so ``sum == total`` exactly in floating point, whatever
      the summation order.

    Result keeps the order of ``weights``; int64 for integer apportionment.
    """
    t = _check_number(total, source, "total")
    w = _weights_series(weights, source)
    rank = _key_rank(w.index)
    wv = w.to_numpy()
    if integer is None:
        integer = isinstance(total, (int, np.integer)) and not isinstance(total, bool)
    if integer:
        if abs(t - round(t)) > _TOL:
            raise input_error(source, f"total {t:g} is not a whole number but integer=True",
                              fix="round the total or apportion without integer=True")
        return pd.Series(_largest_remainder(int(round(t)), wv, rank), index=w.index, name="target")
    if decimals is not None:
        scale = 10 ** int(decimals)
        units = t * scale
        if abs(units - round(units)) > 1e-6:
            raise input_error(source, f"total {t!r} has more than {decimals} decimals",
                              fix="round the total first or raise decimals")
        parts = _largest_remainder(int(round(units)), wv, rank) / scale
        return pd.Series(parts, index=w.index, name="target")
    return pd.Series(_exact_float_parts(t, wv, rank), index=w.index, name="target")


def apportionable(totals: np.ndarray, weights: np.ndarray, decimals: int = 0) -> np.ndarray:
    """Which rows :func:`apportion_rows` takes as :func:`apportion` would: a finite total
    ≥ 0 with at most ``decimals`` decimals, weights finite, ≥ 0 and not all 0.  (The
    others are apportioned one by one, so that :func:`apportion` says what is wrong.)"""
    totals = np.asarray(totals, dtype="float64")
    w = np.asarray(weights, dtype="float64")
    units = totals * 10 ** int(decimals)
    with np.errstate(invalid="ignore"):
        return (np.isfinite(totals) & (totals >= 0) & (np.abs(units - np.round(units)) <= 1e-6)
                & np.isfinite(w).all(axis=1) & (w >= 0).all(axis=1) & (w.sum(axis=1) > 0))


def apportion_rows(totals: np.ndarray, weights: np.ndarray, decimals: int = 0) -> np.ndarray:
    """Row ``i`` of the result is ``apportion(totals[i], weights[i], decimals=decimals)``
    with the row's keys in column order (column ``j`` sorts before ``j + 1``), computed
    for all rows at once with the same arithmetic (:func:`_largest_remainder`, whole-number
    weights in integers, others in floats).  Every row must be :func:`apportionable`."""
    totals = np.asarray(totals, dtype="float64")
    w = np.ascontiguousarray(weights, dtype="float64")
    n, m = w.shape
    if n == 0:
        return np.zeros((0, m))
    scale = 10 ** int(decimals)
    units = np.round(totals * scale).astype(np.int64)
    total_w = w.sum(axis=1)
    whole = np.all(w == np.floor(w), axis=1) & (units * total_w < 2.0**62)
    parts = np.zeros((n, m), dtype=np.int64)
    rem = np.zeros((n, m), dtype="float64")  # the remainder each branch ranks by (larger first)
    if whole.any():
        wi, u = w[whole].astype(np.int64), units[whole][:, None]
        big = wi.sum(axis=1)[:, None]
        parts[whole] = (u * wi) // big
        rem[whole] = ((u * wi) % big).astype("float64")  # exact: below 2^53 where it matters (ties compare equal)
    if (~whole).any():
        wf, u = w[~whole], units[~whole]
        quota = u[:, None] * wf / total_w[~whole][:, None]
        floor = np.floor(quota + _TOL)
        parts[~whole] = floor.astype(np.int64)
        rem[~whole] = np.round(quota - floor, 9)
    left = units - parts.sum(axis=1)  # units to hand out, one each, by largest remainder
    row = np.repeat(np.arange(n), m)
    col = np.tile(np.arange(m), n)
    order = np.lexsort((col, -w.ravel(), -rem.ravel(), row))  # by row, then remainder, weight, key
    place = np.empty(n * m, dtype=np.int64)
    place[order] = np.arange(n * m) - row[order] * m  # rank within the row
    parts += (place.reshape(n, m) < left[:, None]).astype(np.int64)
    return parts / scale


def _exact_float_parts(total: float, w: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Float parts of ``total`` proportional to ``w`` whose float sum is exactly ``total``.

    Every part is made a whole multiple of ``u = ulp(total)`` (a power of two): the
    quotas ``total × w_i / Σw`` are expressed in units of ``u``, floored, and the few
    units left over go by largest remainder (ties: larger weight, then key order).
    All partial sums are then multiples of ``u`` below ``2^53 u`` and hence exact in
    any summation order.  Each part moves by at most ``u`` (≈ 2.2e-16 × total).
    """
    if total == 0:
        return np.zeros(len(w))
    u = float(np.spacing(total))
    units = int(round(total / u))  # in [2^52, 2^53): exact
    raw = total * w / w.sum() / u
    k = np.floor(raw).astype(np.int64)
    rem = raw - k
    rest = units - int(k.sum())
    if rest >= 0:
        order = np.lexsort((rank, -w, -rem))
        k[order[:rest]] += 1
    else:  # floats overshot by a few units: take them back from the smallest remainders
        order = np.lexsort((rank, w, rem, k == 0))
        k[order[:-rest]] -= 1
    return k.astype(float) * u


def apportionment_weights(frame: pd.DataFrame, basis: Mapping[str, float]) -> pd.Series:
    """Blend apportionment weights from several bases.

    Each basis column ``c`` (e.g. ``historical_share``, ``market_potential``,
    ``customer_base``) becomes shares ``s_ic = x_ic / Σ_i x_ic``; the weight of entity
    ``i`` is ``Σ_c β_c s_ic`` with ``β = basis`` normalised to sum 1.  The result sums to
    1.  Entities are the frame index, or the ``manager_id`` column when present.
    """
    src = "apportionment_weights"
    f = frame.set_index("manager_id") if "manager_id" in frame.columns else frame
    beta = _weights_series(basis, f"{src} (basis)")
    missing = [c for c in beta.index if c not in f.columns]
    if missing:
        raise input_error(src, f"basis column(s) not in the frame: {', '.join(map(str, missing))}",
                          fix=f"available columns: {', '.join(map(str, f.columns))}")
    if len(f) == 0:
        raise input_error(src, "the frame has no rows")
    problems: list[Problem] = []
    shares = {}
    for c in beta.index:
        x = pd.to_numeric(f[c], errors="coerce").astype(float)
        for k in x.index[~(np.isfinite(x) & (x >= 0))]:
            problems.append(Problem(src, f"value {f.loc[k, c]!r} is not a number ≥ 0",
                                    where=f"row {k!r}, column {c!r}"))
        if x.sum() <= 0 and not problems:
            problems.append(Problem(src, "column sums to 0, cannot form shares", where=f"column {c!r}"))
        shares[c] = x / x.sum()
    if problems:
        raise InputError(problems)
    beta = beta / beta.sum()
    out = sum(beta[c] * shares[c] for c in beta.index)
    return pd.Series(out, index=f.index, name="weight")


def potential_target(market_size: float, target_share: float,
                     customer_base: int | None = None,
                     revenue_per_customer: float | None = None,
                     mix: float = 0.5) -> float:
    """Potential-based target.

    * Market potential ``M = market_size × target_share`` (share in [0, 1]).
    * Customer-base potential ``C = customer_base × revenue_per_customer``.
    * Blend ``T = mix × M + (1 − mix) × C`` (``mix`` = weight on market potential).

    Without ``customer_base`` and ``revenue_per_customer`` the target is ``M`` (``mix``
    ignored); giving only one of the two is an error.
    """
    src = "potential_target"
    share = _check_number(target_share, src, "target_share")
    m = _check_number(market_size, src, "market_size") * share
    if share > 1:
        raise input_error(src, f"target_share must be in [0, 1], got {target_share!r}",
                          fix="give the share as a fraction, e.g. 0.15 for 15 %")
    if customer_base is None and revenue_per_customer is None:
        return m
    if customer_base is None or revenue_per_customer is None:
        raise input_error(src, "customer_base and revenue_per_customer go together",
                          fix="give both or neither")
    c = _check_number(customer_base, src, "customer_base") * _check_number(
        revenue_per_customer, src, "revenue_per_customer")
    a = _check_number(mix, src, "mix")
    if a > 1:
        raise input_error(src, f"mix must be in [0, 1], got {mix!r}")
    return a * m + (1 - a) * c


# --------------------------------------------------------------------------------------
# reconciling and blending
# --------------------------------------------------------------------------------------


def _entity_series(s: pd.Series, source: str) -> pd.Series:
    if not isinstance(s, pd.Series):
        raise input_error(source, f"expected a pandas Series, got {type(s).__name__}")
    if s.index.has_duplicates:
        dup = s.index[s.index.duplicated()].unique()
        raise input_error(source, f"entity appears more than once: {', '.join(map(str, dup))}")
    x = pd.to_numeric(s, errors="coerce").astype(float)
    bad = x.index[~np.isfinite(x)]
    if len(bad):
        raise input_error(source, f"missing or non-numeric value for {', '.join(map(str, bad))}")
    return x


def reconcile(top_down: pd.Series, bottom_up: pd.Series, total_label: str = "TOTAL") -> pd.DataFrame:
    """Compare top-down targets with bottom-up commitments per entity.

    Columns ``top_down``, ``bottom_up``, ``gap = bottom_up − top_down``,
    ``gap_pct = gap / top_down`` and ``status``: ``"ok"``, ``"missing bottom-up"`` /
    ``"missing top-down"`` (entity on one side only: the other side, gap and gap % are
    NaN, not zero-filled) or ``"top-down is 0"`` (gap % undefined).

    A last row ``total_label`` sums each side over every entity present on it (the
    company total vs the sum of commitments); its status says how many entities are
    on one side only.
    """
    td = _entity_series(top_down, "reconcile (top_down)")
    bu = _entity_series(bottom_up, "reconcile (bottom_up)")
    if total_label in td.index or total_label in bu.index:
        raise input_error("reconcile", f"an entity is called {total_label!r}",
                          fix="pass another total_label")
    idx = td.index.append(bu.index.difference(td.index, sort=False))
    out = pd.DataFrame({"top_down": td.reindex(idx), "bottom_up": bu.reindex(idx)}, index=idx)
    tot = pd.DataFrame({"top_down": [td.sum()], "bottom_up": [bu.sum()]}, index=[total_label])
    status = np.where(out["bottom_up"].isna(), "missing bottom-up",
                      np.where(out["top_down"].isna(), "missing top-down", "ok")).astype(object)
    n_one_side = int((status != "ok").sum())
    out = pd.concat([out, tot])
    out.index.name = "entity"
    out["gap"] = out["bottom_up"] - out["top_down"]
    zero = out["top_down"] == 0
    out["gap_pct"] = out["gap"] / out["top_down"].where(~zero)
    status = list(status) + ["ok" if n_one_side == 0 else f"incomplete: {n_one_side} entities on one side only"]
    out["status"] = [("top-down is 0" if (z and s == "ok") else s) for z, s in zip(zero, status)]
    return out


def blend_targets(targets: Mapping[str, pd.Series], weights: Mapping[str, float]) -> pd.Series:
    """Weighted blend of the targets of several methods: ``T_i = Σ_m ω_m T_im``.

    ``ω = weights`` normalised to sum 1.  Every weighted method must be in ``targets``
    and all blended methods must cover the same entities (methods absent from
    ``weights`` are ignored).
    """
    src = "blend_targets"
    om = _weights_series(weights, f"{src} (weights)")
    missing = [m for m in om.index if m not in targets]
    if missing:
        raise input_error(src, f"method(s) {', '.join(map(str, missing))} have a weight but no targets",
                          fix=f"methods given: {', '.join(map(str, targets))}")
    series = {m: _entity_series(targets[m], f"{src} ({m})") for m in om.index}
    ref = next(iter(series.values())).index
    union = ref
    for s in series.values():
        union = union.union(s.index, sort=False)
    problems = [Problem(src, f"no target for {', '.join(map(str, union.difference(s.index)))}",
                        where=f"method {m!r}", fix="give every method a target for every entity")
                for m, s in series.items() if len(union.difference(s.index))]
    if problems:
        raise InputError(problems)
    om = om / om.sum()
    out = sum(om[m] * series[m].reindex(union) for m in om.index)
    return pd.Series(out, index=union, name="target")


# --------------------------------------------------------------------------------------
# user-supplied targets and commitments
# --------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# SMART / sanity checks
# --------------------------------------------------------------------------------------


def implied_growth(target: float, base: float) -> float:
    """Growth a target implies over its base: ``g = target / base − 1``.

    ``base`` must be > 0 (growth over nothing is undefined).
    """
    t = _check_number(target, "implied_growth", "target")
    b = _check_number(base, "implied_growth", "base")
    if b == 0:
        raise input_error("implied_growth", "base is 0, growth is undefined",
                          fix="judge the target on its own or against peers")
    return t / b - 1.0


_NORMAL_MAD = 0.6744897501960817  # the standard normal's 75th percentile: MAD / this estimates σ


def _robust_z(x: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """Modified z-score ``(x − median) / (1.4826 × MAD)`` (Iglewicz & Hoaglin 1993).

    When MAD = 0 the mean absolute deviation × 1.2533 is used instead (the usual
    fallback, e.g. IBM SPSS); when that is 0 too, all values are equal and z = 0.
    ``floor``: the scale is at least this (so that differences smaller than the
    floor — rounding noise, targets set by one rule for all — are never outliers).
    """
    med = np.median(x)
    scale = np.median(np.abs(x - med)) / _NORMAL_MAD  # scipy.stats.median_abs_deviation(x, scale="normal")
    if scale == 0:
        scale = 1.253314 * np.mean(np.abs(x - med))
    scale = max(scale, floor)
    if scale == 0:
        return np.zeros_like(x)
    return (x - med) / scale


def achievability_flags(targets: pd.DataFrame, history: pd.DataFrame,
                        band: tuple[float, float] = (-0.1, 0.5), peer_z: float = 2.0,
                        basis: str = "same_period_last_year",
                        computable: Collection[str] | None = None,
                        lower_is_better: Collection[str] = (),
                        peer_on: Literal["target", "growth"] = "target",
                        how: str = "sum", min_peers: int = 3, peer_floor: float = 0.0) -> pd.DataFrame:
    """SMART sanity checks for each (manager, indicator, period) target.

    * ``growth_ok``: implied growth ``g = target / base − 1`` against the manager's own
      base period (``basis`` as in :func:`growth_targets`, months aggregated by ``how``)
      lies in ``band``.  For ``lower_is_better`` indicators the improvement
      ``(base − target) / base`` is tested instead.  NA when the base is missing or 0.
    * ``peer_ok``: robust z-score of the target (``peer_on="target"``) or of the implied
      growth (``"growth"``) among all managers with the same indicator and period,
      ``|z| ≤ peer_z``, z = (x − median) / max(1.4826 × MAD, ``peer_floor``).  NA with
      fewer than ``min_peers`` values.  ``peer_floor`` (default 0) keeps rounding
      noise from counting: when every target follows one rule (+20 % for all), the
      MAD is ~0 and a difference in the 7th decimal would otherwise be an outlier.
    * ``measurable``: the indicator is in ``computable`` (default: it has history).
    * ``time_bound``: the period parses as a month, quarter or year.

    ``targets`` has ``manager_id, indicator, period, target``; ``history`` is a panel
    ``manager_id, [indicator,] month, value`` (``indicator`` may be left out when the
    targets have a single indicator).  Returns the targets with ``base``,
    ``implied_growth``, ``peer_median``, ``peer_z``, the four checks (nullable boolean:
    NA = could not check), ``ok`` (all four True) and a readable ``reason``.
    """
    src = "achievability_flags"
    need = ["manager_id", "indicator", "period", "target"]
    miss = [c for c in need if c not in targets.columns]
    if miss:
        raise input_error(src, f"targets lack column(s) {', '.join(miss)}")
    hneed = ["manager_id", "month", "value"]
    miss = [c for c in hneed if c not in history.columns]
    if miss:
        raise input_error(src, f"history lacks column(s) {', '.join(miss)}")
    lo, hi = band
    if lo > hi:
        raise input_error(src, f"band {band} has lower bound above upper bound")
    if how not in ("sum", "mean", "last"):
        raise input_error(src, f"unknown aggregation {how!r}", fix='use "sum", "mean" or "last"')
    t = targets[need].reset_index(drop=True).copy()
    t["target"] = pd.to_numeric(t["target"], errors="coerce").astype(float)
    bad = t.index[~(np.isfinite(t["target"]) & (t["target"] >= 0))]
    if len(bad):
        raise InputError([Problem(src, f"target {targets[need].iloc[i]['target']!r} is not a number ≥ 0",
                                  where=f"targets index {targets.index[i]!r} "
                                        f"({t.loc[i, 'manager_id']}, {t.loc[i, 'indicator']})")
                          for i in bad])
    h = history.copy()
    if "indicator" not in h.columns:
        inds = t["indicator"].unique()
        if len(inds) > 1:
            raise input_error(src, "history has no indicator column but targets have several indicators",
                              fix="add an indicator column to the history")
        h["indicator"] = inds[0] if len(inds) else ""
    h["month"] = _month_index(pd.Index(h["month"]), f"{src} (history month)")
    h["value"] = pd.to_numeric(h["value"], errors="coerce").astype(float)
    dup = h.duplicated(["manager_id", "indicator", "month"])
    if dup.any():
        r = h[dup].iloc[0]
        raise input_error(src, f"history has {int(dup.sum())} duplicate row(s), first "
                          f"{r['manager_id']} {r['indicator']} {r['month']}",
                          fix="keep one value per manager, indicator and month")

    def read(v: Any) -> pd.Period | None:
        try:
            return v if isinstance(v, pd.Period) and _kind(v) else parse_period(v)
        except InputError:
            return None

    parsed: dict[Any, pd.Period | None] = {}  # each distinct label read once (a plan's targets share a few)
    periods: list[pd.Period | None] = []
    for v in t["period"]:
        try:
            periods.append(parsed[v] if v in parsed else parsed.setdefault(v, read(v)))
        except TypeError:  # a label that cannot be a key: read where it stands
            periods.append(read(v))
    t["time_bound"] = pd.array([p is not None for p in periods], dtype="boolean")
    known = set(computable) if computable is not None else set(h["indicator"].unique())
    t["measurable"] = pd.array([i in known for i in t["indicator"]], dtype="boolean")

    # base value: explode each target row into its base months and join the history
    months_of: dict[pd.Period, np.ndarray] = {}  # each distinct period's base months (ordinals), once
    for p in periods:
        if p is not None and p not in months_of:
            months_of[p] = period_months(_base_period(p, basis, src)).asi8
    valid = [i for i, p in enumerate(periods) if p is not None]
    row = np.repeat(np.asarray(valid, dtype=np.int64), [len(months_of[periods[i]]) for i in valid])
    base = pd.Series(np.nan, index=range(len(t)))
    if len(row):  # one row per target and base month, target by target, months in order
        ex = pd.DataFrame({"row": row, "month": pd.PeriodIndex.from_ordinals(
            np.concatenate([months_of[periods[i]] for i in valid]), freq="M")})
        ex["manager_id"] = t["manager_id"].to_numpy()[ex["row"]]
        ex["indicator"] = t["indicator"].to_numpy()[ex["row"]]
        j = ex.merge(h[["manager_id", "indicator", "month", "value"]], how="left",
                     on=["manager_id", "indicator", "month"], validate="many_to_one")
        need_n = j.groupby("row").size().reindex(range(len(t)), fill_value=0)  # months needed
        have = j.groupby("row")["value"].count().reindex(range(len(t)), fill_value=0)
        agg = j.groupby("row")["value"].agg(how).reindex(range(len(t)))
        base = agg.where((have == need_n) & (need_n > 0))
    t["base"] = base.to_numpy()
    usable = t["base"].to_numpy() > 0
    g = np.full(len(t), np.nan)
    g[usable] = t["target"].to_numpy()[usable] / t["base"].to_numpy()[usable] - 1
    t["implied_growth"] = g
    lib = t["indicator"].isin(set(lower_is_better)).to_numpy()
    test = np.where(lib, -g, g)
    with np.errstate(invalid="ignore"):
        within = (lo <= test) & (test <= hi)
    t["growth_ok"] = pd.arrays.BooleanArray(np.where(usable, within, False), ~usable)  # NA: no base

    peer_x = t["target"].to_numpy() if peer_on == "target" else g
    z = np.full(len(t), np.nan)
    med = np.full(len(t), np.nan)
    keys = pd.Series([(i, str(p)) for i, p in zip(t["indicator"], periods)])
    for _, idx in keys.groupby(keys).groups.items():
        idx = np.asarray(idx)
        idx = idx[np.isfinite(peer_x[idx])]
        if len(idx) >= min_peers:
            z[idx] = _robust_z(peer_x[idx], peer_floor)
            med[idx] = np.median(peer_x[idx])
    t["peer_median"] = med
    t["peer_z"] = z
    finite = np.isfinite(z)
    t["peer_ok"] = pd.arrays.BooleanArray(np.where(finite, np.abs(np.where(finite, z, 0.0)) <= peer_z, False),
                                          ~finite)  # NA: too few peers
    checks = ["growth_ok", "peer_ok", "measurable", "time_bound"]
    t["ok"] = t[checks].fillna(False).all(axis=1).astype(bool)

    reasons = []
    columns = [t[c].tolist() for c in ("period", "indicator", "measurable", "growth_ok", "peer_ok", "peer_z",
                                        "peer_median")]
    for k, (period_k, indicator, measurable, gok, pok, pz, pmed) in enumerate(zip(*columns)):
        parts = []
        p = periods[k]
        if p is None:
            parts.append(f"period {period_k!r} is not a month, quarter or year")
        if not measurable:
            parts.append(f"no data source for indicator {indicator!r}")
        if pd.isna(gok):
            if p is not None:
                bp = _base_period(p, basis, src)
                parts.append(f"no base: {bp} is incomplete or 0 in the history")
        elif not gok:
            word = "improvement" if lib[k] else "growth"
            parts.append(f"implied {word} {test[k]:+.1%} outside [{lo:+.0%}, {hi:+.0%}]")
        if pd.isna(pok):
            parts.append(f"peer check skipped (fewer than {min_peers} peers)")
        elif not pok:
            parts.append(f"{peer_on} is an outlier among peers (robust z {pz:+.1f}, median {pmed:g})")
        reasons.append("; ".join(parts) if parts else "ok")
    t["reason"] = reasons
    t["period"] = [p if p is not None else v for p, v in zip(periods, t["period"])]
    return t


# --------------------------------------------------------------------------------------
# attainment, backtests and fairness
# --------------------------------------------------------------------------------------


def _panel(history: pd.DataFrame, source: str) -> pd.DataFrame:
    miss = [c for c in ("manager_id", "month", "value") if c not in history.columns]
    if miss:
        raise input_error(source, f"history lacks column(s) {', '.join(miss)}")
    h = history.copy()
    h["month"] = _month_index(pd.Index(h["month"]), source)
    h["value"] = pd.to_numeric(h["value"], errors="coerce").astype(float)
    bad = h.index[~np.isfinite(h["value"])]
    if len(bad):
        r = h.loc[bad[0]]
        raise input_error(source, f"{len(bad)} missing or non-numeric value(s), first for "
                          f"{r['manager_id']} {r['month']}", fix="fill or drop those rows")
    dup = h.duplicated(["manager_id", "month"])
    if dup.any():
        r = h[dup].iloc[0]
        raise input_error(source, f"manager {r['manager_id']} has more than one row for {r['month']}")
    return h


def _level_flags(att: np.ndarray, thresholds: Sequence[float]) -> dict[str, np.ndarray]:
    lo, mid, top = thresholds
    return {"reached_threshold": att >= lo, "reached_target": att >= mid,
            "reached_excellence": att >= top}


def backtest(history: pd.DataFrame, method: Callable[[pd.DataFrame, pd.Period], pd.Series],
             periods: Sequence[Any], thresholds: tuple[float, float, float] = (0.8, 1.0, 1.2),
             higher_is_better: bool = True, carry: Sequence[str] = (),
             freq: str | None = None) -> pd.DataFrame:
    """Backtest a target-setting method on a history panel, without look-ahead.

    For each period ``p``: ``targets = method(history[month < first month of p], p)``
    (a Series indexed by ``manager_id``), actual = sum of the manager's values in the
    months of ``p``, attainment by :func:`helpers.core.attainment.attainment_detail` (the
    workbook's one rule: ``actual / target``, ``target / actual`` when lower is
    better; ``0 / 0`` → 1; a zero target with actual > 0 is undefined, not +inf).
    The method never sees data from ``p`` or later.

    Returns one row per manager × period (managers with a target or actuals):
    ``manager_id, period, target, actual, months`` (months with data), ``attainment``,
    ``status`` (``"ok"``, ``"partial actuals"``, ``"no target"``, ``"no actuals"``, or
    the reason from :func:`~helpers.core.attainment.attainment_detail` when the ratio is
    undefined, e.g. ``"target is 0 but actual is not: ratio undefined"``; the
    attainment is NaN exactly for the last three kinds), ``reached_threshold``,
    ``reached_target``, ``reached_excellence`` (attainment ≥ each of ``thresholds``)
    and the ``carry`` columns (e.g. ``team``: the manager's last value up to the end
    of ``p``).
    """
    src = "backtest"
    h = _panel(history, src)
    miss = [c for c in carry if c not in h.columns]
    if miss:
        raise input_error(src, f"carry column(s) not in history: {', '.join(miss)}")
    if len(thresholds) != 3 or not (thresholds[0] <= thresholds[1] <= thresholds[2]):
        raise input_error(src, f"thresholds must be 3 increasing numbers, got {thresholds}")
    frames = []
    for raw_p in periods:
        p = parse_period(raw_p, freq, src)
        months = period_months(p)
        train = h[h["month"] < months[0]].copy()
        got = method(train, p)
        if not isinstance(got, pd.Series):
            raise input_error(src, f"method returned {type(got).__name__} for {p}, expected a Series")
        tg = _entity_series(got, f"{src} (method targets for {p})")
        if (tg < 0).any():
            raise input_error(src, f"method gave negative targets for {p}: "
                              f"{', '.join(map(str, tg.index[tg < 0]))}")
        cur = h[h["month"].isin(months)]
        act = cur.groupby("manager_id")["value"].agg(["sum", "count"])
        ids = tg.index.append(act.index.difference(tg.index, sort=False))
        f = pd.DataFrame({"manager_id": ids, "period": p,
                          "target": tg.reindex(ids).to_numpy(),
                          "actual": act["sum"].reindex(ids).to_numpy(),
                          "months": act["count"].reindex(ids).fillna(0).astype(int).to_numpy()})
        # unified rules (helpers.core.attainment): NaN for a missing side; a zero target
        # with actual > 0 is undefined (NaN + reason), not +inf
        att, why = attainment_detail(f["actual"].to_numpy(), f["target"].to_numpy(), higher_is_better)
        f["attainment"] = att
        f["status"] = np.where(f["target"].isna(), "no target",
                               np.where(f["actual"].isna(), "no actuals",
                                        np.where(why != "", why,
                                                 np.where(f["months"] < len(months), "partial actuals", "ok"))))
        upto = h[h["month"] <= months[-1]].sort_values("month")
        for c in carry:
            last = upto.groupby("manager_id")[c].last()
            f[c] = last.reindex(ids).to_numpy()
        frames.append(f)
    if not frames:
        raise input_error(src, "no periods to backtest")
    out = pd.concat(frames, ignore_index=True)
    a = out["attainment"].to_numpy()
    for k, v in _level_flags(a, thresholds).items():
        out[k] = v
    return out


def make_growth_method(growth: float, basis: str = "same_period_last_year",
                       how: str = "sum") -> Callable[[pd.DataFrame, pd.Period], pd.Series]:
    """A backtest method: each manager's :func:`growth_targets` on their own history.

    Managers whose base period is incomplete get no target (``"no target"`` in the
    backtest) instead of a guessed one.
    """
    def method(train: pd.DataFrame, p: pd.Period) -> pd.Series:
        out = {}
        for mgr, g in train.groupby("manager_id", sort=False):
            s = pd.Series(g["value"].to_numpy(), index=pd.PeriodIndex(g["month"], freq="M"))
            try:
                out[mgr] = growth_targets(s, p, basis=basis, growth=growth, how=how)
            except InputError:
                continue
        return pd.Series(out, dtype=float, name="target")

    return method


def attainment_distribution(att: pd.DataFrame, by: Sequence[str] | str = (),
                            thresholds: tuple[float, float, float] = (0.8, 1.0, 1.2)) -> pd.DataFrame:
    """Share of managers reaching threshold / target / excellence, per group.

    Per group of ``by`` (overall when empty): ``n`` (rows with an attainment),
    ``n_excluded`` (rows without: no target, no actuals or an undefined ratio such as
    a zero target with actual > 0), ``median`` attainment and
    ``share_threshold``, ``share_target``, ``share_excellence`` (attainment ≥ each of
    ``thresholds``).  Compare with :data:`RULES_OF_THUMB` (≈90 % / 60–65 % / ≈10 %).
    """
    src = "attainment_distribution"
    by = [by] if isinstance(by, str) else list(by)
    miss = [c for c in ["attainment", *by] if c not in att.columns]
    if miss:
        raise input_error(src, f"column(s) not in the attainment table: {', '.join(miss)}")
    a = pd.to_numeric(att["attainment"], errors="coerce").astype(float)
    d = att[by].copy()
    d["_valid"] = a.notna()
    d["_excluded"] = a.isna()
    for k, v in _level_flags(a.to_numpy(), thresholds).items():
        d[k.replace("reached_", "share_")] = np.where(a.notna(), v, np.nan)
    d["median"] = a
    keys = by if by else (lambda _: "all")
    g = d.groupby(keys, sort=True, dropna=False)
    out = pd.DataFrame({
        "n": g["_valid"].sum().astype(int),
        "n_excluded": g["_excluded"].sum().astype(int),
        "median": g["median"].median(),
        "share_threshold": g["share_threshold"].mean(),
        "share_target": g["share_target"].mean(),
        "share_excellence": g["share_excellence"].mean(),
    })
    if not by:
        out.index.name = None
    return out.reset_index() if by else out.reset_index(drop=True)


def fairness_flags(att: pd.DataFrame, by: Sequence[str] | str = "team", low: float = 0.9,
                   high: float = 1.1, last_n: int = 4, min_periods: int = 3) -> pd.DataFrame:
    """Flag groups whose targets are systematically too easy or too hard.

    For each group of ``by`` and each of the last ``last_n`` backtested periods (over
    the whole table), the median attainment of the group's managers is computed.  A
    group is ``"systematically over target"`` (targets too easy) when the median is
    above ``high`` in at least ``min_periods`` of those periods, ``"systematically under
    target"`` (too hard) when below ``low`` in at least ``min_periods``; otherwise
    ``""``.  Default: outside [0.9, 1.1] in ≥ 3 of the last 4 quarters.

    Returns per group: ``periods`` (with data), ``periods_over``, ``periods_under``,
    ``median`` (of the per-period medians), ``flag`` and ``reason``.
    """
    src = "fairness_flags"
    by = [by] if isinstance(by, str) else list(by)
    miss = [c for c in ["attainment", "period", *by] if c not in att.columns]
    if miss:
        raise input_error(src, f"column(s) not in the attainment table: {', '.join(miss)}",
                          fix="backtest with carry=('team',) or merge the grouping column")
    d = att[[*by, "period", "attainment"]].copy()
    d["attainment"] = pd.to_numeric(d["attainment"], errors="coerce").astype(float)
    d = d[d["attainment"].notna()]
    recent = sorted(d["period"].unique())[-last_n:]
    d = d[d["period"].isin(recent)]
    med = d.groupby([*by, "period"], dropna=False)["attainment"].median().rename("m").reset_index()
    g = med.groupby(by, dropna=False)["m"]
    out = pd.DataFrame({
        "periods": g.size(),
        "periods_over": g.apply(lambda s: int((s > high).sum())),
        "periods_under": g.apply(lambda s: int((s < low).sum())),
        "median": g.median(),
    }).reset_index()
    over = out["periods_over"] >= min_periods
    under = out["periods_under"] >= min_periods
    out["flag"] = np.where(over, "systematically over target",
                           np.where(under, "systematically under target", ""))
    out["reason"] = [
        (f"median attainment above {high:g} in {o} of the last {n} periods" if fo else
         f"median attainment below {low:g} in {u} of the last {n} periods" if fu else
         f"within [{low:g}, {high:g}] often enough ({o} over, {u} under of {n})")
        for o, u, n, fo, fu in zip(out["periods_over"], out["periods_under"], out["periods"], over, under)
    ]
    return out
