"""Weight schemes applied to a period: checks against the indicator library, the
transparent 0–100 scale, the weights a scheme resolves to, and team scores under it.

The transparent score (what every scheme is applied to)
--------------------------------------------------------
1. Each indicator's value for the period is put on 0–100 across **all managers in
   the company** who have a value, with its polarity from ``indicators.yaml``:
   min–max (default) ``s = 100·(x − min)/(max − min)`` when more is better,
   ``s = 100·(max − x)/(max − min)`` when less is better; or percentile
   ``s = 100·(r − 1)/(m − 1)`` with r the average rank (1 = worst) among the m
   managers with a value.
2. score_i = Σ_j w_j s_ij / Σ_j w_j·[s_ij present]: a manager's missing indicator
   (e.g. no surveys → no CSAT) is left out and the remaining weights are scaled
   back to 100 % (``weight_available`` says how much of the scheme stood behind the
   score).  Never scored as zero.
3. An indicator that cannot be computed for the period (no data for any manager,
   or no KPI behind it) or that is the same for every manager (no information) is
   dropped from every scheme that weights it, and the scheme's other weights are
   scaled back to 1.  The report lists what was dropped and why.
4. Ranks are within the team (1 = best, ties share the better rank).

The weighting methods are in :mod:`helpers.core.weighting`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.core.weighting import (
    RI_TABLES,
    AHPResult,
    _as_float,
    ahp,
    blend_weights,
    critic_weights,
    direct_weights,
    entropy_weights,
    group_ahp,
    pairwise_problems,
)
from helpers.errors import InputError, Problem
from helpers.kpis.indicators import Library
from helpers.plan.weights import (
    AHPScheme,
    CriticScheme,
    DirectScheme,
    EntropyScheme,
    Expert,
    Scheme,
)

__all__ = ["NORMALISATIONS", "scheme_problems", "normalise", "Resolved", "resolve_weights", "team_scores"]


NORMALISATIONS = ("minmax", "percentile")

#: Direct weights must add up to 1 (or 100 as percentages) within these tolerances.
SUM_TOL_SHARE = 1e-3
SUM_TOL_PERCENT = 0.1


def _unknown(ids: list[str], library: Library, source: str, where: str) -> list[Problem]:
    unknown = [i for i in ids if i not in library]
    if not unknown:
        return []
    return [Problem(source, f"unknown indicator(s): {', '.join(unknown)}", where=where,
                    fix=f"use ids from {library.source}")]


def _duplicates(ids: list[str], source: str, where: str) -> list[Problem]:
    dup = sorted({i for i in ids if ids.count(i) > 1})
    return [Problem(source, f"indicator(s) listed more than once: {', '.join(dup)}", where=where,
                    fix="list each indicator once")] if dup else []


def _weights_key(where: str) -> str:
    """"key 'sales'" (from direct_weights) → "key 'weights.sales'"."""
    if where.startswith("key '") and where.endswith("'"):
        return f"key 'weights.{where[5:-1]}'"
    return where or "key 'weights'"


def _direct_problems(spec: DirectScheme, library: Library, source: str) -> list[Problem]:
    ids = [str(k) for k in spec.weights]
    problems = _unknown(ids, library, source, "key 'weights'")
    try:
        direct_weights(spec.weights, source)
    except InputError as exc:
        return problems + [Problem(p.source, p.what, _weights_key(p.where), p.fix) for p in exc.problems]
    total = float(sum(_as_float(v) for v in spec.weights.values()))
    if abs(total - 1.0) > SUM_TOL_SHARE and abs(total - 100.0) > SUM_TOL_PERCENT:
        problems.append(Problem(source, f"weights add up to {total:.6g}, not to 1 (or 100 %)", "key 'weights'",
                                "change them so they add up to 1 (or to 100 when written as percentages)"))
    return problems


def _ahp_problems(spec: AHPScheme, library: Library, source: str) -> list[Problem]:
    problems = _unknown(spec.indicators, library, source, "key 'indicators'")
    problems += _duplicates(spec.indicators, source, "key 'indicators'")
    if spec.ri_table not in RI_TABLES:
        problems.append(Problem(source, f"unknown random-index table {spec.ri_table!r}", "key 'ri_table'",
                                f"use one of: {', '.join(RI_TABLES)}"))
    elif len(spec.indicators) > len(RI_TABLES[spec.ri_table]):
        problems.append(Problem(source, f"table {spec.ri_table!r} gives RI only up to n = {len(RI_TABLES[spec.ri_table])}, "
                                f"the scheme compares {len(spec.indicators)} indicators", "key 'ri_table'",
                                "use alonso_lamata2006 (n ≤ 15) or compare fewer indicators"))
    if problems:
        return problems
    for k, e in enumerate(spec.experts):
        problems += pairwise_problems(e.matrix, spec.indicators, f"{source}: experts[{k}] ({e.label('en')})")
    return problems


def scheme_problems(scheme: Scheme, library: Library, known: dict[str, Scheme]) -> list[Problem]:
    """Problems the schema cannot see: indicator ids, sums, matrices, references."""
    s, source = scheme.spec, scheme.source
    if isinstance(s, DirectScheme):
        return _direct_problems(s, library, source)
    if isinstance(s, AHPScheme):
        return _ahp_problems(s, library, source)
    if isinstance(s, (EntropyScheme, CriticScheme)):
        return _unknown(s.indicators, library, source, "key 'indicators'") + _duplicates(s.indicators, source, "key 'indicators'")
    ref = known.get(s.subjective)
    if ref is None:
        return [Problem(source, f"no scheme named {s.subjective!r} in {scheme.path.parent}", "key 'subjective'",
                        f"use one of: {', '.join(sorted(known)) or '(none)'}")]
    if ref.method not in ("direct", "ahp"):
        return [Problem(source, f"scheme {s.subjective!r} is {ref.method}; the subjective part must be a direct or ahp scheme",
                        "key 'subjective'", "name a direct or ahp scheme")]
    return []


def normalise(values: pd.DataFrame, library: Library, method: str = "minmax") -> tuple[pd.DataFrame, dict[str, str]]:
    """Each indicator on 0–100 across all managers, with polarity (see the module doc).

    Returns (scores, dropped) where dropped maps an indicator to ``"not_computable"``
    (no manager has a value) or ``"constant"`` (every manager has the same value);
    dropped columns are NaN.  Missing cells stay NaN.
    """
    if method not in NORMALISATIONS:
        raise InputError(Problem("normalisation", f"unknown method {method!r}", fix=f"use one of {list(NORMALISATIONS)}"))
    out = pd.DataFrame(index=values.index)
    dropped: dict[str, str] = {}
    for col in values.columns:
        x = pd.to_numeric(values[col], errors="coerce").astype(float)
        higher = library[col].higher_is_better
        present = x.notna()
        if not present.any():
            dropped[col] = "not_computable"
            out[col] = np.nan
            continue
        lo, hi = x.min(), x.max()
        if hi == lo:
            dropped[col] = "constant"
            out[col] = np.nan
            continue
        if method == "minmax":
            s = (x - lo) / (hi - lo) if higher else (hi - x) / (hi - lo)
        else:
            r = x.rank(method="average", ascending=higher)  # 1 = worst
            s = (r - 1) / (present.sum() - 1)
        out[col] = 100.0 * s
    return out, dropped


@dataclass
class Resolved:
    """A scheme turned into the weight vector actually used for the period."""

    scheme: Scheme
    weights: pd.Series                  # used weights (sum 1) over the indicators kept
    requested: pd.Series                # weights before dropping (sum 1)
    dropped: dict[str, str] = field(default_factory=dict)   # indicator → reason
    experts: list[tuple[Expert, float, AHPResult]] = field(default_factory=list)
    group: AHPResult | None = None
    managers_used: int | None = None    # data-driven: managers with complete data
    managers_excluded: int = 0


def _renormalise(w: pd.Series, drop: dict[str, str], source: str) -> pd.Series:
    kept = w.drop([k for k in w.index if k in drop])
    if kept.empty or kept.sum() <= 0:
        why = ", ".join(f"{k} ({r})" for k, r in drop.items() if k in w.index)
        raise InputError(Problem(source, f"no weighted indicator can be used this period: {why}",
                                 fix="weight indicators that have data, or check the data"))
    return (kept / kept.sum()).rename("weight")


def _objective(method: str, ids: list[str], values: pd.DataFrame, library: Library, source: str,
               entropy_mode: str = "minmax") -> tuple[pd.Series, int, int]:
    """Entropy or CRITIC weights over the managers with a value for every indicator."""
    X = values[ids].apply(pd.to_numeric, errors="coerce")
    complete = X.dropna()
    excluded = len(X) - len(complete)
    benefit = {i: library[i].higher_is_better for i in ids}
    try:
        if method == "entropy":
            w = entropy_weights(complete, benefit=benefit if entropy_mode == "minmax" else None, source=source)
        else:
            w = critic_weights(complete, benefit, source=source)
    except InputError as exc:
        raise InputError([Problem(source, p.what, p.where, p.fix) for p in exc.problems]) from None
    return w, len(complete), excluded


def resolve_weights(scheme: Scheme, schemes: dict[str, Scheme], library: Library, values: pd.DataFrame,
                    dropped: dict[str, str]) -> Resolved:
    """The weights of ``scheme`` for this period.

    ``values``: company managers × indicators (raw); ``dropped``: indicators that
    cannot be used this period (from :func:`normalise`).  Subjective weights are
    computed on every indicator they name and then the dropped ones are removed and
    the rest scaled back to 1; objective weights are computed only on usable
    indicators, over the managers with a value for all of them.
    """
    s, source = scheme.spec, scheme.source
    if isinstance(s, DirectScheme):
        req = direct_weights(s.weights, source)
        drop = {k: dropped[k] for k in req.index if k in dropped}
        return Resolved(scheme, _renormalise(req, drop, source), req, drop)
    if isinstance(s, AHPScheme):
        experts = [(e, e.weight, ahp(e.matrix, s.ri_table, s.priority, labels=s.indicators,
                                     source=f"{source}: experts[{k}] ({e.label('en')})"))
                   for k, e in enumerate(s.experts)]
        group = group_ahp([e.matrix for e in s.experts], labels=s.indicators, method=s.priority,
                          ri_table=s.ri_table, expert_weights=[e.weight for e in s.experts], source=source)
        req = group.weights
        drop = {k: dropped[k] for k in req.index if k in dropped}
        return Resolved(scheme, _renormalise(req, drop, source), req, drop, experts, group)
    if isinstance(s, (EntropyScheme, CriticScheme)):
        drop = {k: dropped[k] for k in s.indicators if k in dropped}
        ids = [k for k in s.indicators if k not in drop]
        if len(ids) < 2:
            raise InputError(Problem(source, f"{s.method} needs at least 2 usable indicators; usable: {ids}",
                                     fix="add indicators that vary across managers"))
        w, used, excluded = _objective(s.method, ids, values, library, source,
                                       getattr(s, "normalise", "minmax"))
        w = w.rename("weight")
        return Resolved(scheme, w, w, drop, managers_used=used, managers_excluded=excluded)
    sub = resolve_weights(schemes[s.subjective], schemes, library, values, dropped)
    ids = list(sub.weights.index)
    if len(ids) < 2:
        w = sub.weights
        return Resolved(scheme, w, w, sub.dropped)
    obj, used, excluded = _objective(s.objective, ids, values, library, source)
    w = blend_weights(sub.weights, obj, alpha=s.alpha, mode=s.mode)
    return Resolved(scheme, w, w, sub.dropped, managers_used=used, managers_excluded=excluded)


def team_scores(S: pd.DataFrame, weights: pd.Series) -> pd.DataFrame:
    """score and weight_available per manager (see the module doc, step 2).

    score_i = Σ_j w_j s_ij / Σ_j w_j [s_ij present]; NaN only for a manager with no
    value on any weighted indicator (reported as no data, never 0).
    """
    x = S.reindex(columns=weights.index).to_numpy(dtype=float)
    w = weights.to_numpy(dtype=float)
    present = ~np.isnan(x)
    num = np.where(present, x, 0.0) @ w
    den = present.astype(float) @ w
    score = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return pd.DataFrame({"score": score, "weight_available": den}, index=S.index)
