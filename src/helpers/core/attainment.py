"""Attainment ratios and pro-rating by active days: the one home of both rules.

Both :mod:`helpers.core.targets` (backtests) and :mod:`helpers.core.scoring` (scores and pay)
use these functions and re-export them under their old names, so there is a single
rule for zero targets, missing data and partial periods in the whole workbook:

* :func:`attainment` / :func:`attainment_detail` — ``actual / target`` (or
  ``target / actual`` when lower is better) with a documented table for zeros,
  negatives and gaps; "no data" is NaN with a reason, never 0 and never +inf for a
  zero target.
* :func:`active_fraction` — share of a period a manager was active, counting days
  inclusively (or month by month), and :func:`prorate` /
  :func:`prorate_by_fraction` — a target or fixed amount times that share.

This module sits just after the KPI actuals in the flow (params → data → KPI
actuals → targets and weights → scores and pay → report): it imports only
:mod:`helpers.errors` and :mod:`helpers.periods`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, Union

import numpy as np
import pandas as pd

from helpers.errors import InputError, input_error
from helpers.periods import ReviewPeriod, parse_period

__all__ = [
    "NO_DATA",
    "attainment",
    "attainment_detail",
    "active_fraction",
    "prorate",
    "prorate_by_fraction",
]

#: Value / grade / reason prefix used when a number is missing.  Never the worst grade.
NO_DATA = "no data"

# Reasons returned by attainment_detail (empty string = fine).
REASON_OK = ""
REASON_NO_ACTUAL = f"{NO_DATA}: actual missing"
REASON_NO_TARGET = "no target: target missing"
REASON_ZERO_TARGET = "target is 0 but actual is not: ratio undefined"
REASON_NEGATIVE_TARGET = "negative target: ratio undefined"
REASON_NEGATIVE_ACTUAL = "negative actual for a lower-is-better indicator: ratio undefined"
REASON_NOTHING_ASKED = "not assessed: target 0 and actual 0 (nothing asked, nothing done)"

ArrayLike = Union[float, int, np.ndarray, pd.Series, pd.DataFrame, Sequence[float]]


# --------------------------------------------------------------------------- shape helpers
# (shared with helpers.core.scoring)


def _finite(x: Any) -> bool:
    """True when ``x`` converts to a finite float."""
    try:
        return bool(np.isfinite(float(x)))
    except (TypeError, ValueError):
        return False


def _to_array(x: Any) -> tuple[np.ndarray, Callable[[np.ndarray], Any]]:
    """Return ``x`` as a float array and a function turning a result back into x's kind.

    Series keep their index (and name), DataFrames their index and columns, scalars
    come back as Python floats, everything else as numpy arrays.
    """
    if isinstance(x, pd.DataFrame):
        arr = x.to_numpy(dtype=float, na_value=np.nan)
        return arr, lambda v: pd.DataFrame(v, index=x.index, columns=x.columns)
    if isinstance(x, pd.Series):
        arr = x.to_numpy(dtype=float, na_value=np.nan)
        return arr, lambda v: pd.Series(v, index=x.index, name=x.name)
    if np.ndim(x) == 0:
        arr = np.asarray([np.nan if x is None else x], dtype=float)
        return arr, lambda v: (float(v[0]) if np.asarray(v).dtype.kind == "f" else v[0])
    arr = np.asarray(x, dtype=float)
    return arr, lambda v: v


def _pair_arrays(a: Any, b: Any, names: tuple[str, str],
                 source: str = "attainment") -> tuple[np.ndarray, np.ndarray, Callable]:
    """Broadcast two inputs; Series/DataFrames must carry the same labels."""
    if isinstance(a, (pd.Series, pd.DataFrame)) and isinstance(b, (pd.Series, pd.DataFrame)):
        if not a.index.equals(b.index):
            raise input_error(
                source,
                f"{names[0]} and {names[1]} are not aligned (different row labels)",
                fix="reindex both to the same managers first",
            )
        if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame) and not a.columns.equals(b.columns):
            raise input_error(
                source,
                f"{names[0]} and {names[1]} have different indicator columns (or column order)",
                fix="select the same columns in the same order for both tables",
            )
    pandas_like = [x for x in (a, b) if isinstance(x, (pd.Series, pd.DataFrame))]
    like = pandas_like[0] if pandas_like else (a if np.ndim(a) >= np.ndim(b) else b)
    try:
        arr_a, _ = _to_array(a)
        arr_b, _ = _to_array(b)
    except (TypeError, ValueError):
        raise input_error(source, f"{names[0]} or {names[1]} is not numeric",
                          fix="pass numbers (scalars, arrays or Series)") from None
    _, wrap = _to_array(like)
    try:
        arr_a, arr_b = np.broadcast_arrays(arr_a, arr_b)
    except ValueError:
        raise input_error(
            source,
            f"{names[0]} has shape {arr_a.shape} and {names[1]} has shape {arr_b.shape}",
            fix="pass arrays of the same length (one value per manager)",
        ) from None
    return arr_a, arr_b, wrap


# --------------------------------------------------------------------------- attainment


def attainment_detail(
    actual: ArrayLike,
    target: ArrayLike,
    higher_is_better: bool = True,
    cap: float | None = None,
) -> tuple[Any, Any]:
    """Attainment ratio and, next to every NaN, the reason.

    Formula (common KPI practice, e.g. Parmenter, *Key Performance Indicators*;
    WorldatWork, *Sales Compensation Essentials*):

    * higher is better (sales, new customers): ``attainment = actual / target``
    * lower is better (complaint rate, churn): ``attainment = target / actual``
      (the inverse ratio, so that 1.0 still means "on target" and beating the
      target gives more than 1.0: a 5 % complaint target with 4 % actual → 1.25).

    Rules for zeros, negatives and gaps, applied in this order:

    ======================  =========================================  ============
    case                    result                                     reason
    ======================  =========================================  ============
    actual is NaN           NaN (no data — never 0)                    no data
    target is NaN           NaN                                        no target
    higher, target = 0      NaN: actual 0 is "nothing asked, nothing    not assessed
                            done", not 100 %; actual > 0 undefined      undefined
    higher, target < 0      NaN                                        negative target
    lower, actual < 0       NaN (rates/counts cannot be negative)      negative actual
    lower, target < 0       NaN                                        negative target
    lower, actual = 0       best possible: ``cap`` if given, else +inf —
                            (any scoring curve maps +inf to its
                            ``cap_score``), also when target = 0
    lower, target = 0 < a   0.0 (worst: target was zero incidents)     —
    ======================  =========================================  ============

    0 against a target of 0 is *not assessed* (NaN), never 100 %: a manager who was
    asked for nothing and did nothing (a leaver's new-customer target, an agent
    without a territory) must not collect full points for it; the indicator drops out
    of the weighted total and its weight goes to the others, as for missing data.

    A zero target with a positive actual (higher is better) is *undefined*, not
    +inf: a zero target usually means "no target set", and +inf would dominate any
    average or median.  Set a real target or handle the manager by hand.

    A negative *actual* for a higher-is-better indicator (net sales after returns)
    is allowed and gives a negative ratio, which any curve scores at its floor.

    ``cap`` (optional): attainment is clipped to at most ``cap`` (e.g. 1.2 or 1.5) —
    the "maximum" of the plan.  NaN stays NaN.

    Returns ``(values, reasons)`` shaped like the input (Series keep their index);
    ``reasons`` is "" where the value is a number.  Misaligned Series/DataFrames
    raise :class:`~helpers.errors.InputError`.
    """
    a, t, wrap = _pair_arrays(actual, target, ("actual", "target"))
    out, code = _attainment_core(a, t, higher_is_better, cap)
    reason = _REASONS[code]
    if isinstance(actual, (pd.Series, pd.DataFrame)) or isinstance(target, (pd.Series, pd.DataFrame)):
        return wrap(out), wrap(reason)
    if np.ndim(actual) == 0 and np.ndim(target) == 0:
        return float(out[0]), str(reason[0])
    return out, reason


_REASONS = np.array([REASON_OK, REASON_NO_ACTUAL, REASON_NO_TARGET, REASON_ZERO_TARGET,
                     REASON_NEGATIVE_TARGET, REASON_NEGATIVE_ACTUAL, REASON_NOTHING_ASKED], dtype=object)


def _attainment_core(
    a: np.ndarray, t: np.ndarray, higher_is_better: bool, cap: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised rule table of :func:`attainment_detail`; returns values and reason codes."""
    if cap is not None and not (_finite(cap) and cap > 0):
        raise input_error("attainment", f"cap is {cap}", where="cap", fix="use a positive ratio such as 1.2")
    code = np.zeros(a.shape, dtype=np.int8)
    no_a = np.isnan(a)
    no_t = np.isnan(t) & ~no_a
    code[no_a] = 1
    code[no_t] = 2
    ok = ~no_a & ~no_t
    with np.errstate(divide="ignore", invalid="ignore"):
        if higher_is_better:
            out = np.where(ok & (t > 0), a / t, np.nan)
            zero_t = ok & (t == 0)
            code[zero_t & (a == 0)] = 6
            code[zero_t & (a != 0)] = 3
            code[ok & (t < 0)] = 4
        else:
            neg_a = ok & (a < 0)
            neg_t = ok & ~neg_a & (t < 0)
            code[neg_a] = 5
            code[neg_t] = 4
            good = ok & ~neg_a & ~neg_t
            out = np.where(good & (a > 0), t / a, np.nan)
            out[good & (a == 0)] = np.inf if cap is None else cap
    if cap is not None:
        out = np.minimum(out, cap)  # NaN stays NaN
    return out, code


def attainment(
    actual: ArrayLike,
    target: ArrayLike,
    higher_is_better: bool = True,
    cap: float | None = None,
) -> Any:
    """Attainment ratio (``actual/target``, or ``target/actual`` when lower is better).

    See :func:`attainment_detail` for the full rule table (zero targets, zero actuals,
    missing data) and for the reason behind every NaN.  Scalars in → float out;
    Series/arrays in → same shape out.
    """
    a, t, wrap = _pair_arrays(actual, target, ("actual", "target"))
    return wrap(_attainment_core(a, t, higher_is_better, cap)[0])


# --------------------------------------------------------------------------- pro-rating


def _is_missing(x: Any) -> bool:
    """None, NaN, NaT, pd.NA or a blank string: an open end of the active window."""
    if x is None or (isinstance(x, str) and not x.strip()):
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _dates(x: Any, name: str, source: str) -> tuple[np.ndarray, pd.Index | None]:
    """Dates → numpy datetime64[D] (NaT where missing) and the Series index if any.

    Missing values (None, NaN, NaT, blank) become NaT; anything else that is not a
    date raises :class:`InputError` naming ``name`` (and the rows for a Series).
    """
    if np.ndim(x) == 0 and not isinstance(x, pd.Series):
        if _is_missing(x):
            return np.array(["NaT"], dtype="datetime64[D]"), None
        try:
            t = pd.Timestamp(x)
        except (TypeError, ValueError):
            raise input_error(source, f"{name} {x!r} is not a date", where=name,
                              fix="write dates as YYYY-MM-DD") from None
        return np.array([t.to_datetime64()]).astype("datetime64[D]"), None
    s = x if isinstance(x, pd.Series) else pd.Series(list(np.ravel(np.asarray(x, dtype=object))))
    missing = s.map(_is_missing).to_numpy(dtype=bool)
    d = pd.to_datetime(s.where(~missing), errors="coerce")
    bad = np.flatnonzero(d.isna().to_numpy() & ~missing)
    if bad.size:
        listed = ", ".join(f"{s.index[i]!s}: {s.iloc[i]!r}" for i in bad[:10])
        raise input_error(source, f"{name} is not a date for {bad.size} row(s) ({listed})",
                          where=name, fix="write dates as YYYY-MM-DD, or leave the cell empty for an open end")
    arr = d.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    return arr, (x.index if isinstance(x, pd.Series) else None)


def _period_bounds(period: Any, source: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of a review period (``"2026Q3"``, ``"2026-09"``, a
    :class:`~helpers.periods.ReviewPeriod` or any calendar ``pd.Period``)."""
    if isinstance(period, ReviewPeriod):
        return period.start, period.end
    if isinstance(period, pd.Period):
        return period.start_time.normalize(), period.end_time.normalize()
    if isinstance(period, str):
        try:
            rp = parse_period(period, source=source)
        except InputError:
            raise input_error(source, f"{period!r} is not a review period and no period_end was given",
                              where="period_start",
                              fix="give a period such as 2026Q3 or 2026-09, or both period dates") from None
        return rp.start, rp.end
    raise input_error(source, f"period_end is missing and period_start {period!r} is not a period",
                      where="period_end", fix="give both period dates, or a period such as 2026Q3")


def _overlap_days(lo: np.ndarray, hi: np.ndarray, af: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Days of ``[lo, hi]`` inside ``[af, at]`` (NaT = open end), both ends counted."""
    start = np.where(np.isnat(af), lo, np.maximum(lo, af))
    end = np.where(np.isnat(at), hi, np.minimum(hi, at))
    return np.clip((end - start).astype(np.int64) + 1, 0, None)


def _span_days(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return (hi - lo).astype(np.int64) + 1


def _months_fraction(ps: np.ndarray, pe: np.ndarray, af: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``basis="months"``: mean over the calendar months of the period of each month's
    day fraction (the month clipped to the period)."""
    out = np.empty(ps.shape, dtype=float)
    for s, e in set(zip(ps.tolist(), pe.tolist())):
        rows = (ps == np.datetime64(s, "D")) & (pe == np.datetime64(e, "D"))
        s_d, e_d = np.datetime64(s, "D"), np.datetime64(e, "D")
        months = np.arange(s_d.astype("datetime64[M]"), e_d.astype("datetime64[M]") + 1)
        acc = np.zeros(int(rows.sum()))
        for m in months:
            lo = max(m.astype("datetime64[D]"), s_d)
            hi = min((m + 1).astype("datetime64[D]") - 1, e_d)
            acc += _overlap_days(lo, hi, af[rows], at[rows]) / _span_days(lo, hi)
        out[rows] = acc / len(months)
    return out


def active_fraction(
    period_start: Any,
    period_end: Any = None,
    active_from: Any = None,
    active_to: Any = None,
    basis: Literal["days", "months"] = "days",
) -> Any:
    """Share of a period during which a manager was active (both ends counted).

    ``basis="days"`` (default)::

        days_active = max(0, min(period_end, active_to) − max(period_start, active_from) + 1)
        fraction    = days_active / (period_end − period_start + 1)

    Both ends count: 1–31 March is 31 days, and a manager starting on 16 March is
    active 16 of 31 days → 0.516; joining on 16 Aug in 2026Q3 (92 days) gives
    16 + 30 = 46 active days → 0.5.

    ``basis="months"``: every calendar month of the period weighs the same and counts
    with its own day fraction, ``mean_m(days_active_m / days_m)``; joining on 16 Aug
    in 2026Q3 gives ``(0/31 + 16/31 + 30/30) / 3``.

    ``active_from`` missing (None/NaN/NaT/blank) = active since before the period;
    ``active_to`` missing = still active.  No overlap → 0.  Dates are truncated to
    days.  ``period_start`` may be a review period (``"2026Q3"``, ``"2026-09"``, a
    :class:`~helpers.periods.ReviewPeriod` or a ``pd.Period``) with ``period_end``
    left out.

    Scalars → float; any Series input → Series named ``active_fraction`` (Series
    inputs must share their index); other array inputs → ndarray.  A period ending
    before it starts, ``active_to`` before ``active_from``, or a value that is not a
    date raises :class:`~helpers.errors.InputError`.
    """
    src = "active_fraction"
    if basis not in ("days", "months"):
        raise input_error(src, f"unknown basis {basis!r}", where="basis", fix='use "days" or "months"')
    if period_end is None:
        period_start, period_end = _period_bounds(period_start, src)
    parts = [_dates(v, n, src) for v, n in ((period_start, "period_start"), (period_end, "period_end"),
                                            (active_from, "active_from"), (active_to, "active_to"))]
    indexes = [i for _, i in parts if i is not None]
    if any(not i.equals(indexes[0]) for i in indexes[1:]):
        raise input_error(src, "the date Series have different row labels", fix="align them to the same managers")
    index = indexes[0] if indexes else None
    ps, pe, af, at = (d for d, _ in parts)
    if np.isnat(ps).any() or np.isnat(pe).any():
        raise input_error(src, "period start or end is missing",
                          fix="give both period dates, e.g. 2024-03-01 and 2024-03-31")
    try:
        ps, pe, af, at = np.broadcast_arrays(ps, pe, af, at)
    except ValueError:
        raise input_error(src, "the date inputs have different lengths",
                          fix="give one date per manager, or one date for all") from None
    if (pe < ps).any():
        i = int(np.flatnonzero(pe < ps)[0])
        raise input_error(src, f"period ends ({pe.flat[i]}) before it starts ({ps.flat[i]})",
                          fix="swap the dates")
    bad = ~np.isnat(af) & ~np.isnat(at) & (at < af)
    if bad.any():
        pos = np.flatnonzero(bad)[:10]
        who = [str(index[i]) for i in pos] if index is not None else [f"position {i}" for i in pos]
        raise input_error(src, f"active_to is before active_from for {', '.join(who)}",
                          where="active_to", fix="check the dates")
    if basis == "days":
        frac = _overlap_days(ps, pe, af, at) / _span_days(ps, pe)
    else:
        frac = _months_fraction(ps, pe, af, at)
    if index is not None:
        return pd.Series(frac, index=index, name="active_fraction")
    if frac.size == 1 and all(np.ndim(v) == 0 for v in (period_start, period_end, active_from, active_to)):
        return float(frac[0])
    return frac


def _check_fraction(fraction: Any, source: str = "prorate") -> None:
    f = np.asarray(fraction, dtype=float)
    if np.isnan(f).any() or (f < 0).any() or (f > 1).any():
        raise input_error(source, "fraction must be a number in 0–1", where="fraction",
                          fix="use active_fraction() to compute it")


def prorate_by_fraction(value: ArrayLike, fraction: ArrayLike, source: str = "prorate") -> Any:
    """Pro-rated value ``value × fraction`` for a known active fraction in [0, 1].

    ``value`` is a target or a fixed money amount (≥ 0).  NaN stays NaN (a missing
    target stays missing and :func:`attainment_detail` reports it as "no target");
    a negative or infinite value, or a fraction outside 0–1, raises
    :class:`~helpers.errors.InputError`.  Same shape as the input; Series must be
    aligned.
    """
    _check_fraction(fraction, source)
    v, f, wrap = _pair_arrays(value, fraction, ("value", "fraction"), source)
    bad = np.isinf(v) | (v < 0)
    if bad.any():
        pos = np.flatnonzero(bad)[:10]
        raise input_error(source, f"value must be a finite number ≥ 0 (got {v[pos].tolist()})",
                          where="value", fix="targets and fixed amounts are ≥ 0")
    return wrap(v * f)


def prorate(
    value: ArrayLike,
    period_start: Any,
    period_end: Any = None,
    active_from: Any = None,
    active_to: Any = None,
    basis: Literal["days", "months"] = "days",
) -> Any:
    """Pro-rated target or fixed amount: ``value × active_fraction(...)``.

    For mid-period joiners and leavers (for a team change, pro-rate each team's
    target with its own active window).  Day counting (inclusive) and ``basis`` as
    in :func:`active_fraction`; value rules as in :func:`prorate_by_fraction`.
    Example: a 60-customer 2026Q3 target for a manager joining on 16 Aug →
    60 × 46/92 = 30.
    """
    frac = active_fraction(period_start, period_end, active_from, active_to, basis)
    return prorate_by_fraction(value, frac)
