"""The plan health check: does an incentive plan pay for the work, and can the company afford it?

A pure, language-free calculation (numbers and codes; the presentation words them).
:func:`plan_health` takes one period's pay and scores and runs six checks, each a
:class:`Check` (``code``, ``passed``, ``values``):

* ``pay_follows_score`` — pay should rank managers the way their total score does.
  When pay follows territory size (the sales target) more than the score, the plan
  rewards the territory, not the work.  Both are Spearman rank correlations
  (:func:`spearman`); the check passes when ``rho_total >= rho_territory``.
* ``zero_share`` — a curve that leaves many managers at its floor (0 points by
  default) no longer tells them apart and gives them nothing to aim for.  Passes when
  no indicator has more than ``max_zero_share`` of its scored managers at the floor.
* ``cap_share`` — likewise at the top: when many managers reach the curve's maximum,
  extra effort earns nothing and the target was probably too easy.
* ``near_cliff`` — managers just below a step (a gate, a tier's entry) have a reason
  to shift results between periods; the caller counts them and the check passes at 0.
* ``cost`` — what the plan costs at 100 % attainment should sit within the budget's
  band (``cost_band × budget``, 80–120 % by default); far below, the plan does not
  motivate, far above, it cannot be paid.  Nothing to check without a budget.
* ``timing`` — pay should not depend on *when* within the period results are booked.
  ``payout_even`` is what a manager would have been paid with the same results spread
  evenly over the months; a large total difference means booking dates move pay.

The verdict: ``"territory"`` when pay follows territory more than score,
``"performance"`` when every check passes, ``"review"`` otherwise.

This module sits with the scores and pay in the flow (params → data → KPI actuals →
targets and weights → scores and pay → report); it imports only :mod:`helpers.errors`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from helpers.errors import input_error

__all__ = [
    "CHECK_CODES",
    "VERDICT_PERFORMANCE",
    "VERDICT_REVIEW",
    "VERDICT_TERRITORY",
    "Check",
    "Health",
    "plan_health",
    "spearman",
]

VERDICT_PERFORMANCE = "performance"
VERDICT_TERRITORY = "territory"
VERDICT_REVIEW = "review"

#: The checks, in the order :func:`plan_health` returns them.
CHECK_CODES = ("pay_follows_score", "zero_share", "cap_share", "near_cliff", "cost", "timing")

#: Fewest managers a rank correlation is computed for.
MIN_MANAGERS = 3

#: Points within this distance of the floor / maximum count as "at" it (float noise).
_AT_TOL = 1e-9

#: Two rank correlations closer than this are equal (float noise, e.g. 1.0 vs 0.9999999999999998).
_RHO_TOL = 1e-12

_SOURCE = "plan_health"


@dataclass(frozen=True)
class Check:
    """One health check: its ``code`` (one of :data:`CHECK_CODES`), whether it
    ``passed``, and the ``values`` (floats, ints, strings) the presentation words.
    A ``values["note"]`` is a code saying why a check could not be made or was skipped
    (e.g. ``"too_few_managers"``, ``"no_budget"``)."""

    code: str
    passed: bool
    values: dict


@dataclass
class Health:
    """The plan health check of one period (see :func:`plan_health`)."""

    rho_total: float
    rho_territory: float
    zero_share: pd.Series
    cap_share: pd.Series
    near_cliff: int
    cost: pd.DataFrame
    timing: pd.DataFrame
    checks: list[Check]
    verdict: str

    @property
    def passed(self) -> bool:
        """True when the verdict is ``"performance"``: every check passed."""
        return self.verdict == VERDICT_PERFORMANCE

    def check(self, code: str) -> Check:
        """The check with ``code``."""
        for c in self.checks:
            if c.code == code:
                return c
        raise KeyError(code)


# --------------------------------------------------------------------------- rank correlation


def _spearman_detail(x: pd.Series, y: pd.Series) -> tuple[float, int, str]:
    """Spearman's rho of two aligned Series with no NaN, the count, and a note code
    (``""``, ``"too_few_managers"`` or ``"constant"``)."""
    n = len(x)
    if n < MIN_MANAGERS:
        return math.nan, n, "too_few_managers"
    rx = x.rank(method="average").to_numpy(dtype=float)
    ry = y.rank(method="average").to_numpy(dtype=float)
    dx, dy = rx - rx.mean(), ry - ry.mean()
    sx, sy = float(np.sqrt((dx * dx).sum())), float(np.sqrt((dy * dy).sum()))
    if sx == 0.0 or sy == 0.0:
        return math.nan, n, "constant"
    rho = float((dx * dy).sum() / (sx * sy))
    return max(-1.0, min(1.0, rho)), n, ""


def spearman(x: pd.Series, y: pd.Series) -> float:
    """Spearman rank correlation of ``x`` and ``y`` over the labels where both are known.

    Both sides are ranked with average ranks for ties (``rank(method="average")``) and
    the result is the Pearson correlation of the ranks (without ties this equals
    ``1 − 6·Σd² / (n(n² − 1))``).  NaN when fewer than 3 pairs are left or either side
    is constant (a correlation with nothing varying says nothing).
    """
    both = pd.concat([x.rename("x"), y.rename("y")], axis=1).dropna()
    return _spearman_detail(both["x"], both["y"])[0]


# --------------------------------------------------------------------------- inputs


def _number(x: Any, name: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise input_error(_SOURCE, f"{name} is {x!r}, not a number", where=name) from None
    return v


def _share_limit(x: float, name: str) -> float:
    v = _number(x, name)
    if not 0.0 <= v <= 1.0:
        raise input_error(_SOURCE, f"{name} is {x}", where=name, fix="give a share between 0 and 1, e.g. 0.25")
    return v


def _numeric_frame(df: pd.DataFrame, name: str) -> pd.DataFrame:
    try:
        return df.apply(pd.to_numeric, errors="raise").astype(float)
    except (TypeError, ValueError):
        raise input_error(_SOURCE, f"{name} holds values that are not numbers", where=name,
                          fix="leave a missing value empty (NaN)") from None


def _plain(v: Any) -> Any:
    """numpy scalars → Python floats/ints (values a presentation and a JSON dump take)."""
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return float(v)
    return v


# --------------------------------------------------------------------------- the checks


def _pay_follows_score(rows: pd.DataFrame) -> tuple[float, float, Check]:
    """Spearman of payout with total score and with territory size.

    The sample is the managers with both payout and total known (a NaN total or payout
    leaves the manager out of *both* correlations, so they compare the same people);
    the territory correlation further needs the territory known.  Passed when
    ``rho_total >= rho_territory``: pay that follows territory size more than the
    score rewards the territory, not the work.  When either correlation cannot be
    computed (fewer than 3 managers, or a side constant) the check is not passed:
    nothing shows that pay follows the score (``note`` says why).
    """
    known = rows.dropna(subset=["payout", "total"])
    rho_t, n_t, note_t = _spearman_detail(known["payout"], known["total"])
    terr = known.dropna(subset=["territory"])
    rho_r, n_r, note_r = _spearman_detail(terr["payout"], terr["territory"])
    values: dict[str, Any] = {"rho_total": rho_t, "rho_territory": rho_r, "n": n_t, "n_territory": n_r}
    if note_t or note_r:
        values["note"] = note_t or note_r
        values["note_on"] = "total" if note_t else "territory"
        return rho_t, rho_r, Check("pay_follows_score", False, values)
    return rho_t, rho_r, Check("pay_follows_score", rho_t >= rho_r - _RHO_TOL, values)


def _shares(scores: pd.DataFrame, max_scores: Mapping[str, float],
            floor_scores: Mapping[str, float] | None) -> tuple[pd.Series, pd.Series]:
    """Per indicator: share of its scored managers at the curve's floor and at its maximum.

    NaN scores (not scored) are out of the denominator; an indicator nobody was scored
    on has NaN shares.  "At" means within 1e-9 points (or beyond)."""
    cols = [str(c) for c in scores.columns]
    missing = [c for c in scores.columns if c not in max_scores]
    if missing:
        raise input_error(_SOURCE, f"no maximum score for {', '.join(map(str, missing))}", where="max_scores",
                          fix="give every scored indicator its curve's maximum points")
    floor_scores = floor_scores or {}
    top = np.array([_number(max_scores[c], f"max_scores[{c}]") for c in scores.columns])
    low = np.array([_number(floor_scores.get(c, 0.0), f"floor_scores[{c}]") for c in scores.columns])
    if (top < low).any():
        bad = [str(c) for c, t, f in zip(scores.columns, top, low) if t < f]
        raise input_error(_SOURCE, f"maximum below the floor for {', '.join(bad)}", where="max_scores",
                          fix="check the curves' points")
    v = scores.to_numpy(dtype=float)
    scored = ~np.isnan(v)
    n = scored.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        at_floor = (scored & (v <= low + _AT_TOL)).sum(axis=0) / n
        at_top = (scored & (v >= top - _AT_TOL)).sum(axis=0) / n
    return (pd.Series(at_floor, index=pd.Index(cols, name="indicator"), name="zero_share", dtype=float),
            pd.Series(at_top, index=pd.Index(cols, name="indicator"), name="cap_share", dtype=float))


def _share_check(code: str, share: pd.Series, limit: float) -> Check:
    """Passed when no indicator's share exceeds ``limit`` (a share equal to it passes);
    ``values``: the worst indicator, its share and the limit."""
    known = share.dropna()
    if known.empty:
        return Check(code, True, {"indicator": "", "share": math.nan, "limit": limit, "note": "no_scores"})
    worst = str(known.idxmax())
    s = float(known.loc[worst])
    return Check(code, s <= limit, {"indicator": worst, "share": s, "limit": limit,
                                    "n_over": int((known > limit).sum())})


def _cost(cost_at: Mapping[float, float] | None, budget: float | None,
          band: tuple[float, float]) -> tuple[pd.DataFrame, Check]:
    """Cost per attainment level against the budget.

    Passed when the cost at attainment 1.0 lies within ``band × budget`` (both ends
    included).  Without a budget, or without a cost at 1.0, there is nothing to check:
    passed, with ``note`` ``"no_budget"`` or ``"no_cost_at_target"``."""
    lo, hi = (_number(b, "cost_band") for b in band)
    if not (0 <= lo <= hi) or not math.isfinite(hi):
        raise input_error(_SOURCE, f"cost_band is {band}", where="cost_band", fix="give (low, high) with 0 ≤ low ≤ high")
    b = math.nan
    if budget is not None:
        b = _number(budget, "budget")
        if not (math.isfinite(b) and b > 0):
            raise input_error(_SOURCE, f"budget is {budget}", where="budget", fix="give a positive amount, or none")
    levels = {_number(k, "cost_at"): _number(v, f"cost_at[{k}]") for k, v in (cost_at or {}).items()}
    idx = pd.Index(sorted(levels), name="attainment", dtype=float)
    table = pd.DataFrame({"cost": [levels[k] for k in idx]}, index=idx, dtype=float)
    table["budget"] = b
    table["ratio"] = table["cost"] / b
    values: dict[str, Any] = {"budget": b, "low": lo, "high": hi}
    at_one = [k for k in levels if math.isclose(k, 1.0, abs_tol=1e-9)]
    if budget is None:
        return table, Check("cost", True, {**values, "cost": levels[at_one[0]] if at_one else math.nan,
                                           "ratio": math.nan, "note": "no_budget"})
    if not at_one or math.isnan(levels[at_one[0]]):
        return table, Check("cost", True, {**values, "cost": math.nan, "ratio": math.nan,
                                           "note": "no_cost_at_target"})
    c = levels[at_one[0]]
    ratio = c / b
    return table, Check("cost", bool(lo * b <= c <= hi * b), {**values, "cost": c, "ratio": ratio})


def _timing(rows: pd.DataFrame, limit: float) -> tuple[pd.DataFrame, Check]:
    """Payout as booked against payout with the results booked evenly.

    Only managers with both amounts known count (in the total payout as well).  Passed
    when ``Σ|payout_even − payout| ≤ limit × Σ payout``; without a ``payout_even``
    column (or no manager with both) nothing is checked: passed, ``note``
    ``"no_payout_even"``."""
    empty = pd.DataFrame({"payout": pd.Series(dtype=float), "payout_even": pd.Series(dtype=float),
                          "difference": pd.Series(dtype=float)})
    empty.index.name = rows.index.name
    if "payout_even" not in rows.columns:
        return empty, Check("timing", True, {"limit": limit, "note": "no_payout_even"})
    t = rows[["payout", "payout_even"]].dropna().astype(float)
    if t.empty:
        return empty, Check("timing", True, {"limit": limit, "note": "no_payout_even"})
    t["difference"] = t["payout_even"] - t["payout"]
    total_abs = float(t["difference"].abs().sum())
    paid = float(t["payout"].sum())
    if paid > 0:
        share = total_abs / paid
    else:
        share = 0.0 if total_abs == 0 else math.inf
    worst = t["difference"].abs().idxmax()
    values = {"total_abs": total_abs, "payout": paid, "share": share, "limit": limit,
              "manager_id": _plain(worst), "amount": float(t.loc[worst, "difference"])}
    return t, Check("timing", total_abs <= limit * paid, values)


# --------------------------------------------------------------------------- the health check


def plan_health(
    rows: pd.DataFrame,
    scores: pd.DataFrame,
    max_scores: Mapping[str, float],
    *,
    floor_scores: Mapping[str, float] | None = None,
    cost_at: Mapping[float, float] | None = None,
    budget: float | None = None,
    near_cliff: int = 0,
    max_zero_share: float = 0.25,
    max_cap_share: float = 0.25,
    max_timing_share: float = 0.05,
    cost_band: tuple[float, float] = (0.8, 1.2),
) -> Health:
    """The health of an incentive plan over one period's results.

    ``rows``: one row per manager (index manager_id) with ``payout``, ``total`` (the
    total score), ``territory`` (territory size, i.e. the sales target) and optionally
    ``payout_even`` (the pay with the period's results booked evenly across its months).
    ``scores``: managers × indicators, each indicator's curve points (NaN = not scored);
    ``max_scores``/``floor_scores``: each indicator's curve maximum and minimum points
    (floor 0 when not given).

    The checks (see the module docstring for why each matters):

    * ``pay_follows_score``: Spearman of payout with the total and with territory
      size, over the managers with payout and total known (a NaN total or payout is
      left out of both correlations; a NaN territory only out of the territory one).
      Passed when ``rho_total >= rho_territory``; not passed when either is NaN
      (fewer than 3 managers or a constant side; ``note`` says which).
    * ``zero_share`` / ``cap_share``: per indicator, the share of its scored managers at
      the floor / at the maximum; passed when none exceeds ``max_zero_share`` /
      ``max_cap_share``.
    * ``near_cliff``: passed when the caller's count of (manager, indicator) pairs just
      below a cliff is 0.
    * ``cost``: passed when the cost at attainment 1.0 is within ``cost_band × budget``;
      passed with a note when there is no budget or no cost at 1.0.
    * ``timing``: passed when ``Σ|payout_even − payout| ≤ max_timing_share × Σ payout``
      over the managers with both; passed with a note without ``payout_even``.

    Verdict: ``"territory"`` when ``rho_territory > rho_total`` (whatever else failed:
    the plan pays for the territory), else ``"performance"`` when every check passed,
    else ``"review"``.  Bad input (a missing column, a value that is not a number, an
    indicator without a maximum, a limit outside 0–1) raises
    :class:`~helpers.errors.InputError`.
    """
    need = [c for c in ("payout", "total", "territory") if c not in rows.columns]
    if need:
        raise input_error(_SOURCE, f"rows lack the column(s) {', '.join(need)}", where="rows",
                          fix="give payout, total and territory per manager")
    limits = {n: _share_limit(v, n) for n, v in (("max_zero_share", max_zero_share),
                                                 ("max_cap_share", max_cap_share),
                                                 ("max_timing_share", max_timing_share))}
    try:
        n_cliff = int(near_cliff)
    except (TypeError, ValueError):
        n_cliff = -1
    if n_cliff < 0 or n_cliff != near_cliff:
        raise input_error(_SOURCE, f"near_cliff is {near_cliff!r}", where="near_cliff",
                          fix="give the number of pairs near a cliff (0 or more)")
    cols = [c for c in ("payout", "total", "territory", "payout_even") if c in rows.columns]
    data = _numeric_frame(rows[cols], "rows")
    pts = _numeric_frame(scores, "scores")

    rho_t, rho_r, follows = _pay_follows_score(data)
    zero, cap = _shares(pts, max_scores, floor_scores)
    cost_table, cost_check = _cost(cost_at, budget, cost_band)
    timing_table, timing_check = _timing(data, limits["max_timing_share"])
    checks = [
        follows,
        _share_check("zero_share", zero, limits["max_zero_share"]),
        _share_check("cap_share", cap, limits["max_cap_share"]),
        Check("near_cliff", n_cliff == 0, {"n": n_cliff}),
        cost_check,
        timing_check,
    ]
    checks = [Check(c.code, bool(c.passed), {k: _plain(v) for k, v in c.values.items()}) for c in checks]
    if not (math.isnan(rho_t) or math.isnan(rho_r)) and rho_r > rho_t + _RHO_TOL:
        verdict = VERDICT_TERRITORY
    elif all(c.passed for c in checks):
        verdict = VERDICT_PERFORMANCE
    else:
        verdict = VERDICT_REVIEW
    return Health(rho_total=rho_t, rho_territory=rho_r, zero_share=zero, cap_share=cap, near_cliff=n_cliff,
                  cost=cost_table, timing=timing_table, checks=checks, verdict=verdict)
