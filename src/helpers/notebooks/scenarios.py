"""Notebook 03 (weighting scenarios): weight schemes, side-by-side ranks, robustness.

Weight schemes live in ``params/weights/*.yaml`` (the folder is ``weights`` in the
params file; the scheme used for scoring is ``weight_scheme``).  Each file is one
named scheme; its ``method`` says how the weights are obtained:

* ``direct`` — weights written down (must add up to 1, or to 100 as percentages);
* ``ahp`` — one or more experts' pairwise comparison matrices on a handful of
  indicators, combined by group AHP (:func:`helpers.core.weighting.group_ahp`);
* ``entropy`` / ``critic`` — data-driven, computed from *all* the company's managers
  for the review period (:func:`helpers.core.weighting.entropy_weights`,
  :func:`helpers.core.weighting.critic_weights`);
* ``blend`` — a subjective scheme (direct or AHP) combined with entropy or CRITIC
  weights on the same indicators (:func:`helpers.core.weighting.blend_weights`).

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
4. Ranks are within the team (1 = best, ties share the better rank).  The company
   population is used only for the 0–100 scale and the data-driven weights; the
   team report shows only the team's managers by name.

Sources are in :mod:`helpers.core.weighting`.
"""

from __future__ import annotations

import html

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from pandas.io.formats.style import Styler
from pydantic import Field, ValidationError

from helpers.plan.base import Strict
from helpers.present import plotting
from helpers.present.display import escape, table
from helpers.errors import InputError, Problem
from helpers.kpis.indicators import Library, indicator_values, load_library
from helpers.plan.params import SLUG, RunParams, read_yaml, resolve, validation_problems
from helpers.core.weighting import (
    CR_THRESHOLD,
    RI_TABLES,
    AHPResult,
    _as_float,
    ahp,
    biggest_movers,
    blend_weights,
    critic_weights,
    direct_weights,
    entropy_weights,
    group_ahp,
    pairwise_problems,
    rank_correlations,
    ranks,
    robustness,
)
from helpers.context.workbook import TeamContext, company_actuals

__all__ = [
    "METHODS",
    "Scheme",
    "Resolved",
    "Scenarios",
    "load_schemes",
    "check",
    "normalise",
    "resolve_weights",
    "team_scores",
    "prepare",
    "workshop",
    "workshop_table",
]

METHODS = ("direct", "ahp", "entropy", "critic", "blend")
NORMALISATIONS = ("minmax", "percentile")
#: Direct weights must add up to 1 (or 100 as percentages) within these tolerances.
SUM_TOL_SHARE = 1e-3
SUM_TOL_PERCENT = 0.1
DEFAULT_CONCENTRATION = 100.0
DEFAULT_DRAWS = 4000
#: Recommendation thresholds: a manager is "in the group" when P ≥ SURE, "on the
#: edge" when EDGE < P < SURE; two schemes "agree" when Kendall τ ≥ AGREE.
SURE = 0.9
EDGE = 0.1
AGREE = 0.7


# =========================================================================== schema




class Label(Strict):
    """A text in both report languages."""

    zh: str
    en: str


class RobustnessSettings(Strict):
    """Weight perturbation for the robustness check (read from the chosen scheme)."""

    concentration: float = Field(DEFAULT_CONCENTRATION, gt=0, description="Dirichlet concentration κ: larger = draws closer to the weights.")
    draws: int = Field(DEFAULT_DRAWS, ge=100, le=200_000, description="Number of weight draws.")
    top: float = Field(0.2, gt=0, le=1, description="Top group: this share of the team's managers (rounded up).")
    bottom: float = Field(0.2, gt=0, le=1, description="Bottom group: this share of the team's managers (rounded up).")
    seed: int = Field(0, ge=0, description="Random seed (same seed, same result).")


class _SchemeBase(Strict):
    name: Label
    description: Label | None = None
    robustness: RobustnessSettings = RobustnessSettings()


class DirectScheme(_SchemeBase):
    """Weights written down: indicator id → weight (sum 1, or 100 as percentages)."""

    method: Literal["direct"]
    weights: dict[str, Any] = Field(min_length=1)


class Expert(Strict):
    """One expert's pairwise comparison matrix (rows and columns in ``indicators`` order)."""

    name: str | Label = Field(description="Who judged: a name, or {zh: ..., en: ...}.")
    weight: float = Field(1.0, gt=0, description="The expert's weight in the group (geometric mean exponent).")

    def label(self, language: str) -> str:
        return self.name if isinstance(self.name, str) else getattr(self.name, language)
    matrix: list[list[Any]]


class AHPScheme(_SchemeBase):
    """AHP on a handful of indicators, one or more experts (group AHP)."""

    method: Literal["ahp"]
    indicators: list[str] = Field(min_length=2)
    experts: list[Expert] = Field(min_length=1)
    priority: Literal["eigen", "geometric"] = "eigen"
    ri_table: str = "saaty1980"


class EntropyScheme(_SchemeBase):
    """Entropy weights over the company's managers for the period."""

    method: Literal["entropy"]
    indicators: list[str] = Field(min_length=2)
    normalise: Literal["minmax", "none"] = "minmax"


class CriticScheme(_SchemeBase):
    """CRITIC weights over the company's managers for the period."""

    method: Literal["critic"]
    indicators: list[str] = Field(min_length=2)


class BlendScheme(_SchemeBase):
    """A subjective scheme (direct or AHP) blended with objective weights on its indicators."""

    method: Literal["blend"]
    subjective: str = Field(description="Id (file name without .yaml) of a direct or ahp scheme.")
    objective: Literal["entropy", "critic"]
    alpha: float = Field(0.5, ge=0, le=1, description="Share of the subjective weights (linear mode).")
    mode: Literal["linear", "multiplicative"] = "linear"


SchemeSpec = Union[DirectScheme, AHPScheme, EntropyScheme, CriticScheme, BlendScheme]
_MODELS: dict[str, type[_SchemeBase]] = {
    "direct": DirectScheme, "ahp": AHPScheme, "entropy": EntropyScheme, "critic": CriticScheme, "blend": BlendScheme,
}


@dataclass(frozen=True)
class Scheme:
    """One validated scheme file."""

    id: str
    path: Path
    spec: SchemeSpec

    @property
    def method(self) -> str:
        return self.spec.method

    @property
    def source(self) -> str:
        return str(self.path)

    def label(self, language: str) -> str:
        return getattr(self.spec.name, language)

    def indicators(self, schemes: dict[str, "Scheme"] | None = None) -> list[str]:
        """Indicator ids the scheme weights (a blend: its subjective scheme's)."""
        s = self.spec
        if isinstance(s, DirectScheme):
            return [str(k) for k in s.weights]
        if isinstance(s, BlendScheme):
            return schemes[s.subjective].indicators(schemes) if schemes and s.subjective in schemes else []
        return list(s.indicators)


# =========================================================================== loading


def _folder(params: RunParams, params_file: str | Path) -> Path:
    return resolve(params_file, params.weights)


def _scheme_files(folder: Path) -> list[Path]:
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def _read_spec(path: Path) -> tuple[SchemeSpec | None, list[Problem]]:
    """Parse one file into its method's model; problems name the file and key."""
    source = str(path)
    try:
        raw = read_yaml(path)
    except InputError as exc:
        return None, list(exc.problems)
    if not isinstance(raw, dict):
        return None, [Problem(source, "must be a mapping of keys to values", fix="see params/weights/current.yaml")]
    method = raw.get("method")
    if method not in _MODELS:
        what = "required key is missing" if method is None else f"unknown method {method!r}"
        return None, [Problem(source, what, where="key 'method'", fix=f"use one of: {', '.join(METHODS)}")]
    try:
        return _MODELS[method].model_validate(raw), []
    except ValidationError as exc:
        return None, validation_problems(exc, source)


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


def _semantic_problems(scheme: Scheme, library: Library, known: dict[str, Scheme]) -> list[Problem]:
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


def _load(params: RunParams, params_file: str | Path) -> tuple[dict[str, Scheme], Library | None, list[Problem]]:
    problems: list[Problem] = []
    try:
        library = load_library(resolve(params_file, params.indicators))
    except InputError as exc:
        return {}, None, list(exc.problems)
    folder = _folder(params, params_file)
    if not folder.is_dir():
        return {}, library, [Problem(str(params_file), f"weights folder {folder} not found", "key 'weights'",
                                     "create it with one <scheme>.yaml per weight scheme")]
    schemes: dict[str, Scheme] = {}
    for path in _scheme_files(folder):
        sid = path.stem
        if not SLUG.match(sid):
            problems.append(Problem(str(path), f"file name {sid!r} is not a plain scheme id",
                                    fix="use letters, digits, '-' and '_' only"))
            continue
        if sid in schemes:
            problems.append(Problem(str(path), f"scheme {sid!r} is defined twice ({schemes[sid].path.name})",
                                    fix="keep one file per scheme"))
            continue
        spec, found = _read_spec(path)
        problems += found
        if spec is not None:
            schemes[sid] = Scheme(sid, path, spec)
    for scheme in schemes.values():
        problems += _semantic_problems(scheme, library, schemes)
    if not schemes and not problems:
        problems.append(Problem(str(folder), "no weight schemes (*.yaml) found", fix="add at least current.yaml"))
    elif params.weight_scheme not in schemes and not any(Path(p.source).stem == params.weight_scheme for p in problems):
        problems.append(Problem(str(params_file), f"weight scheme {params.weight_scheme!r} not found in {folder}",
                                "key 'weight_scheme'", f"use one of: {', '.join(sorted(schemes))}"))
    return schemes, library, problems


def check(params: RunParams, params_file: str | Path) -> list[Problem]:
    """Every problem of every weight scheme file (empty list = all valid).

    Checks the schema of each file (unknown keys, types, the ``method``), indicator
    ids against the library, direct weights (numbers ≥ 0, adding up to 1 or 100),
    each expert's AHP matrix cell by cell (square, on Saaty's 1/9..9 scale,
    reciprocal, diagonal 1), blend references, and that ``weight_scheme`` exists.
    Data-dependent problems (an objective method with no varying indicator) can only
    show when the data is there, at run time.
    """
    return _load(params, params_file)[2]


def load_schemes(params: RunParams, params_file: str | Path) -> tuple[dict[str, Scheme], Library]:
    """The validated schemes (id → :class:`Scheme`) and the indicator library;
    raises :class:`InputError` with every problem found in any file."""
    schemes, library, problems = _load(params, params_file)
    if problems:
        raise InputError(problems)
    assert library is not None
    return schemes, library


# =========================================================================== population and scores


def population_values(ctx: TeamContext, library: Library, params_file: str | Path | None = None,
                      workspace: str | Path | None = None) -> pd.DataFrame:
    """All the company's managers × every library indicator, for the review period.

    Read from the runner's workspace when given (``kpis_<freq>.parquet`` holds every
    manager); otherwise computed from the data (interactive use).  Objective weights
    and the 0–100 scale need the whole company; only aggregates of it are shown.
    """
    if not workspace and params_file is None:
        raise InputError(Problem("params_file", "needed to load the company data", fix="pass params_file"))
    actuals = company_actuals(ctx, params_file, workspace)
    return indicator_values(actuals, library, ctx.period.label).sort_index()


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


# =========================================================================== resolving weights


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


# =========================================================================== the notebook's data


@dataclass
class Scenarios:
    """Everything notebook 03 shows for one team and period."""

    ctx: TeamContext
    library: Library
    schemes: dict[str, Scheme]
    chosen: str
    resolved: dict[str, Resolved]
    population: int                     # managers in the company with data this period
    normalised: pd.DataFrame            # team managers × indicators, 0–100
    dropped: dict[str, str]
    names: pd.Series                    # manager_id → name (team only)
    excluded: list[str]                 # team managers without any usable data
    scores: pd.DataFrame                # team × schemes
    coverage: pd.DataFrame              # team × schemes, weight_available
    ranks: pd.DataFrame                 # team × schemes
    correlations: pd.DataFrame | None
    movers: pd.DataFrame
    robust: pd.DataFrame | None
    settings: RobustnessSettings
    normalisation: str = "minmax"

    def t(self, key: str, **kw: Any) -> str:
        return self.ctx.t(key, **kw)

    @property
    def language(self) -> str:
        return self.ctx.language

    def label(self, sid: str) -> str:
        return self.schemes[sid].label(self.language)

    def ind(self, iid: str) -> str:
        return self.library.name(iid, self.language)

    @property
    def order(self) -> list[str]:
        """Scheme ids: the chosen one first, then the others by file name."""
        return [self.chosen] + [s for s in sorted(self.resolved) if s != self.chosen]


def prepare(ctx: TeamContext, params_file: str | Path | None = None, workspace: str | Path | None = None,
            normalisation: str = "minmax") -> Scenarios:
    """Load and validate the schemes, resolve them for the period, score and rank the
    team under each, correlate the rankings and run the robustness check around the
    chosen scheme (``weight_scheme`` in the params)."""
    params_file = params_file or getattr(ctx, "params_file", None)
    workspace = workspace or getattr(ctx, "workspace", None)
    if params_file is None:
        raise InputError(Problem("params_file", "needed to find the weight schemes", fix="pass params_file"))
    schemes, library = load_schemes(ctx.params, params_file)
    values = population_values(ctx, library, params_file, workspace)
    values = values.dropna(how="all")
    scale, dropped = normalise(values, library, normalisation)
    resolved = {sid: resolve_weights(s, schemes, library, values, dropped) for sid, s in schemes.items()}
    chosen = ctx.params.weight_scheme

    names = ctx.roster.set_index("manager_id")["name"]
    team_ids = [m for m in ctx.manager_ids if m in scale.index]
    S = scale.reindex(team_ids)
    scores, cover = {}, {}
    for sid, r in resolved.items():
        d = team_scores(S, r.weights)
        scores[sid], cover[sid] = d["score"], d["weight_available"]
    scores_df, cover_df = pd.DataFrame(scores, index=team_ids), pd.DataFrame(cover, index=team_ids)
    no_data = scores_df.isna().any(axis=1)
    excluded = [m for m in ctx.manager_ids if m not in team_ids] + list(scores_df.index[no_data])
    scores_df, cover_df = scores_df[~no_data], cover_df[~no_data]
    rank_df = pd.DataFrame({sid: ranks(scores_df[sid]) for sid in scores_df.columns}, index=scores_df.index) \
        if len(scores_df) else pd.DataFrame(columns=scores_df.columns, dtype="int64")

    settings = schemes[chosen].spec.robustness
    sc = Scenarios(ctx, library, schemes, chosen, resolved, len(values), S, dropped, names, excluded,
                   scores_df, cover_df, rank_df, None, pd.DataFrame(), None, settings, normalisation)
    sc.scores, sc.coverage, sc.ranks = sc.scores[sc.order], sc.coverage[sc.order], sc.ranks[sc.order]
    varied = [c for c in sc.order if sc.ranks[c].nunique() >= 2]
    if len(sc.ranks) >= 3 and len(varied) >= 2:
        sc.correlations = rank_correlations(sc.ranks[varied])
    if len(sc.ranks):
        sc.movers = biggest_movers(sc.ranks, k=len(sc.ranks))
        w = resolved[chosen].weights
        sc.robust = robustness(S.loc[sc.ranks.index, list(w.index)], w, concentration=settings.concentration,
                               draws=settings.draws, top=settings.top, bottom=settings.bottom, seed=settings.seed,
                               missing="renormalise")
    return sc


# =========================================================================== texts and tables


def _join(items: list[str], language: str) -> str:
    return ("、" if language == "zh" else ", ").join(items)


def _sentences(parts: list[str], language: str) -> str:
    """Join notes or sentences: no spaces between Chinese sentences."""
    if not parts:
        return ""
    if language == "zh":
        return "；".join(parts) + "。"
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def intro_text(sc: Scenarios) -> Markdown:
    """What is compared, on which population, and which scheme is in use."""
    text = sc.t("ws.intro", n=len(sc.schemes), chosen=escape(sc.label(sc.chosen)), population=sc.population,
                team=len(sc.ranks), period=sc.ctx.period.label,
                scale=sc.t(f"ws.scale.{sc.normalisation}"))
    if sc.excluded:
        text += "\n\n" + sc.t("ws.excluded", names=_join([escape(sc.names.get(m, m)) for m in sc.excluded], sc.language))
    return Markdown(text)


def scheme_notes(sc: Scenarios, sid: str) -> list[str]:
    """Plain-text notes on one resolved scheme (chosen, dropped indicators, population, CR)."""
    r = sc.resolved[sid]
    notes = []
    if sid == sc.chosen:
        notes.append(sc.t("ws.note.chosen"))
    if r.dropped:
        items = [sc.t("ws.note.dropped_item", name=sc.ind(k), reason=sc.t("ws.reason." + v)) for k, v in r.dropped.items()]
        notes.append(sc.t("ws.note.dropped", items=_join(items, sc.language)))
    if r.managers_used is not None:
        notes.append(sc.t("ws.note.population", used=r.managers_used, excluded=r.managers_excluded))
    if r.group is not None:
        notes.append(sc.t("ws.note.ahp", experts=len(r.experts), cr=f"{r.group.cr:.3f}"))
    return notes


def scheme_list(sc: Scenarios) -> Markdown:
    """One bullet per scheme: name, file, method, number of indicators, description, notes.
    (A list rather than a table: descriptions are sentences and need room.)"""
    lines = []
    for sid in sc.order:
        r = sc.resolved[sid]
        desc = r.scheme.spec.description
        head = sc.t("ws.scheme_item", name=escape(sc.label(sid)), file=f"{sid}.yaml",
                    method=sc.t(f"ws.method.{r.scheme.method}"), n=len(r.weights))
        text = escape(getattr(desc, sc.language)) if desc else ""
        notes = _sentences([escape(n) for n in scheme_notes(sc, sid)], sc.language)
        lines.append(f"- {head}{text}" + (f" *{notes}*" if notes else ""))
    return Markdown("\n".join(lines))


def _fraction(v: float) -> str:
    """A Saaty-scale value as people write it: 3, 1/3, 1 (else 3 significant digits)."""
    if v >= 1:
        return f"{v:.0f}" if abs(v - round(v)) < 1e-6 else f"{v:.3g}"
    inv = 1 / v
    return f"1/{inv:.0f}" if abs(inv - round(inv)) < 1e-6 else f"{v:.3g}"


def _verdict(sc: Scenarios, res: AHPResult) -> str:
    n = len(res.weights)
    if n <= 2:
        return sc.t("ws.verdict.small")
    key = "ws.verdict.ok" if res.consistent else ("ws.verdict.weak" if res.cr <= 2 * CR_THRESHOLD else "ws.verdict.bad")
    return sc.t(key, cr=f"{res.cr:.3f}", threshold=f"{CR_THRESHOLD:.2f}")


def _matrix_table(sc: Scenarios, res: AHPResult) -> Styler:
    m = res.matrix
    labels = [sc.ind(i) for i in m.index]
    df = pd.DataFrame([[_fraction(v) for v in row] for row in m.to_numpy()], columns=labels)
    df.insert(0, "", labels)
    df[sc.t("ws.col.weight")] = res.weights.to_numpy()
    return table(df, {sc.t("ws.col.weight"): "ratio"}, sc.language)


def _worst_table(sc: Scenarios, res: AHPResult, k: int = 3) -> Styler:
    wj = res.worst_judgements(k)
    df = pd.DataFrame({
        sc.t("ws.col.pair"): [f"{sc.ind(r)} : {sc.ind(c)}" for r, c in zip(wj["row"], wj["col"])],
        sc.t("ws.col.given"): [_fraction(v) for v in wj["given"]],
        sc.t("ws.col.implied"): [f"{v:.2f}" for v in wj["implied"]],
        sc.t("ws.col.suggested"): [_fraction(v) for v in wj["suggested"]],
    })
    return table(df, None, sc.language)


def show_judgements(sc: Scenarios) -> Markdown | None:
    """Every AHP scheme: each expert's matrix with CR and a verdict, the judgements
    most worth revising when inconsistent, and the group result."""
    ahp_ids = [sid for sid in sc.order if sc.resolved[sid].group is not None]
    if not ahp_ids:
        return Markdown(sc.t("ws.no_ahp"))
    for sid in ahp_ids:
        r = sc.resolved[sid]
        for expert, weight, res in r.experts:
            display(Markdown(sc.t("ws.expert_head", scheme=escape(sc.label(sid)), expert=escape(expert.label(sc.language)),
                                  weight=f"{weight:g}", verdict=_verdict(sc, res),
                                  lam=f"{res.lambda_max:.3f}", ci=f"{res.ci:.3f}")))
            display(_matrix_table(sc, res))
            if not res.consistent:
                display(Markdown(sc.t("ws.revise")))
                display(_worst_table(sc, res))
        display(Markdown(sc.t("ws.group_head", scheme=escape(sc.label(sid)), verdict=_verdict(sc, r.group))))
        display(_matrix_table(sc, r.group))
    return None


def weights_frame(sc: Scenarios) -> pd.DataFrame:
    """Indicators × schemes, used weights (NaN = not in the scheme or dropped)."""
    w = pd.DataFrame({sid: sc.resolved[sid].weights for sid in sc.order})
    first = sc.resolved[sc.chosen].weights
    order = list(first.sort_values(ascending=False).index) + sorted(
        [i for i in w.index if i not in first.index], key=lambda i: -w.loc[i].max())
    return w.reindex(order)


def weights_chart(sc: Scenarios) -> None:
    """Heatmap: indicators × schemes, the weight of each (in %)."""
    import seaborn as sns

    w = weights_frame(sc)
    fig, ax = plt.subplots(figsize=(1.25 * w.shape[1] + 3.2, 0.42 * w.shape[0] + 1.6))
    sns.heatmap(w * 100, ax=ax, annot=True, fmt=".0f", cmap="Blues", cbar=False, linewidths=0.5,
                linecolor="white", vmin=0, vmax=max(40.0, float(np.nanmax(w.to_numpy())) * 100))
    ax.set_xticklabels([sc.label(s) for s in w.columns], rotation=30, ha="right")
    ax.set_yticklabels([sc.ind(i) for i in w.index], rotation=0)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(sc.t("ws.weights_chart"))
    ax.grid(False)
    ax.xaxis.tick_top()
    plotting.finish(fig)


def weights_note(sc: Scenarios) -> Markdown:
    """Which indicators were dropped this period and why (or that none were)."""
    used = {k for r in sc.resolved.values() for k in list(r.requested.index) + list(r.dropped)}
    dropped = {k: v for k, v in sc.dropped.items() if k in used}
    if not dropped:
        return Markdown(sc.t("ws.dropped_none"))
    lines = [sc.t("ws.dropped_some")]
    lines += [f"- {escape(sc.ind(k))} (`{k}`): {sc.t('ws.reason.' + v)}" for k, v in dropped.items()]
    return Markdown("\n".join(lines))


def rank_table(sc: Scenarios) -> Styler | Markdown:
    """Managers × schemes: rank under each scheme, score under the chosen one, spread."""
    if sc.ranks.empty:
        return Markdown(sc.t("ws.no_managers"))
    r = sc.ranks.sort_values(sc.chosen, kind="stable")
    df = pd.DataFrame({sc.t("col.name"): sc.names.reindex(r.index).to_numpy()})
    score_col = sc.t("ws.col.score", scheme=sc.label(sc.chosen))
    df[score_col] = sc.scores.loc[r.index, sc.chosen].to_numpy()
    for sid in sc.order:
        df[sc.label(sid)] = r[sid].to_numpy()
    spread = sc.t("ws.col.spread")
    df[spread] = (r.max(axis=1) - r.min(axis=1)).to_numpy()
    units = {score_col: "score", spread: "count", **{sc.label(s): "count" for s in sc.order}}
    low = sc.coverage.loc[r.index, sc.chosen]
    if (low < 0.999).any():
        cov = sc.t("ws.col.coverage")
        df[cov] = low.to_numpy()
        units[cov] = "ratio"
    return table(df, units, sc.language)


def movers_text(sc: Scenarios) -> Markdown:
    """Who moves most across the schemes, in one or two sentences."""
    if sc.movers.empty or int(sc.movers["spread"].max()) == 0:
        return Markdown(sc.t("ws.movers_none"))
    top = sc.movers[sc.movers["spread"] == sc.movers["spread"].max()]
    parts = []
    for mid, row in top.head(3).iterrows():
        best_s = [sc.label(s) for s in sc.order if sc.ranks.loc[mid, s] == row["best"]][0]
        worst_s = [sc.label(s) for s in sc.order if sc.ranks.loc[mid, s] == row["worst"]][0]
        parts.append(sc.t("ws.mover", name=escape(sc.names.get(mid, mid)), best=int(row["best"]),
                          worst=int(row["worst"]), best_scheme=escape(best_s), worst_scheme=escape(worst_s)))
    moved = int((sc.movers["spread"] > 0).sum())
    return Markdown(sc.t("ws.movers_head", moved=moved, n=len(sc.ranks)) + " " + " ".join(parts))


def correlation_frame(sc: Scenarios) -> pd.DataFrame | None:
    """Schemes × schemes: Kendall τ below the diagonal, Spearman ρ above (text)."""
    if sc.correlations is None:
        return None
    ids = list(dict.fromkeys(list(sc.correlations["scheme_a"]) + list(sc.correlations["scheme_b"])))
    ids = [s for s in sc.order if s in ids]
    cells = pd.DataFrame("—", index=ids, columns=ids, dtype=object)
    for r in sc.correlations.itertuples(index=False):
        i, j = sorted([r.scheme_a, r.scheme_b], key=ids.index)
        cells.loc[j, i] = f"{r.tau:.2f}"   # lower triangle: τ
        cells.loc[i, j] = f"{r.rho:.2f}"   # upper triangle: ρ
    cells.index = [sc.label(s) for s in ids]
    cells.columns = [sc.label(s) for s in ids]
    return cells


def correlation_table(sc: Scenarios) -> Styler | Markdown:
    """The rank correlation matrix as a report table (or why there is none)."""
    cells = correlation_frame(sc)
    if cells is None:
        return Markdown(sc.t("ws.corr_none"))
    df = cells.reset_index().rename(columns={"index": sc.t("ws.col.scheme")})
    return table(df, None, sc.language)


def robustness_chart(sc: Scenarios) -> None:
    """Per manager: rank interval under perturbed weights, and P(top)/P(bottom)."""
    if sc.robust is None or sc.robust.empty:
        return
    rb = sc.robust.sort_values(["base_rank", "rank_p50"], kind="stable")
    names = sc.names.reindex(rb.index).to_numpy()
    y = np.arange(len(rb))
    n = len(rb)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 0.42 * n + 1.9), sharey=True,
                                 gridspec_kw={"width_ratios": [3, 2]})
    c_range, c_mid, c_top, c_bot = plotting.palette(4)
    ax.hlines(y, rb["rank_min"], rb["rank_max"], color="0.75", lw=2, label=sc.t("ws.rob.minmax"))
    ax.hlines(y, rb["rank_p5"], rb["rank_p95"], color=c_range, lw=7, alpha=0.8, label=sc.t("ws.rob.p90"))
    ax.plot(rb["base_rank"], y, "o", color="black", ms=6, label=sc.t("ws.rob.base"))
    ax.set_yticks(y)
    ax.set_yticklabels(names)
    ax.set_xlim(0.5, n + 0.5)
    ax.set_xticks(range(1, n + 1))
    ax.invert_yaxis()
    ax.set_xlabel(sc.t("ws.rob.rank_axis"))
    ax.set_title(sc.t("ws.rob.interval_title"))
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.6 / (0.42 * n + 0.6)), ncol=3)
    h = 0.38
    bx.barh(y - h / 2, rb["p_top"], height=h, color=c_top, label=sc.t("ws.rob.p_top", k=rb.attrs["top"]))
    bx.barh(y + h / 2, rb["p_bottom"], height=h, color=c_bot, label=sc.t("ws.rob.p_bottom", k=rb.attrs["bottom"]))
    bx.set_xlim(0, 1)
    bx.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    bx.set_title(sc.t("ws.rob.prob_title"))
    bx.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.6 / (0.42 * n + 0.6)), ncol=2)
    fig.suptitle(sc.t("ws.rob.title", scheme=sc.label(sc.chosen), kappa=f"{sc.settings.concentration:g}",
                      draws=f"{sc.settings.draws:,}"), fontweight="bold")
    plotting.finish(fig)


def robustness_table(sc: Scenarios) -> Styler | Markdown:
    """Per manager: base rank, 90 % rank range, P(top group), P(bottom group)."""
    if sc.robust is None or sc.robust.empty:
        return Markdown(sc.t("ws.no_managers"))
    rb = sc.robust.sort_values(["base_rank", "rank_p50"], kind="stable")
    p_top = sc.t("ws.col.p_top", k=rb.attrs["top"])
    p_bot = sc.t("ws.col.p_bottom", k=rb.attrs["bottom"])
    df = pd.DataFrame({
        sc.t("col.name"): sc.names.reindex(rb.index).to_numpy(),
        sc.t("ws.col.base_rank"): rb["base_rank"].to_numpy(),
        sc.t("ws.col.range90"): [f"{a}–{b}" if a != b else f"{a}" for a, b in zip(rb["rank_p5"], rb["rank_p95"])],
        p_top: rb["p_top"].to_numpy(),
        p_bot: rb["p_bottom"].to_numpy(),
    })
    return table(df, {sc.t("ws.col.base_rank"): "count", p_top: "ratio", p_bot: "ratio"}, sc.language)


# =========================================================================== recommendation


def recommendation_facts(sc: Scenarios) -> dict[str, Any]:
    """The numbers the recommendation is written from (also used by the tests)."""
    facts: dict[str, Any] = {"chosen": sc.chosen}
    if sc.correlations is not None:
        c = sc.correlations
        mine = c[(c["scheme_a"] == sc.chosen) | (c["scheme_b"] == sc.chosen)].copy()
        mine["other"] = np.where(mine["scheme_a"] == sc.chosen, mine["scheme_b"], mine["scheme_a"])
        if len(mine):
            mine = mine.sort_values("tau", kind="stable")
            facts["closest"] = (mine.iloc[-1]["other"], float(mine.iloc[-1]["tau"]))
            facts["farthest"] = (mine.iloc[0]["other"], float(mine.iloc[0]["tau"]))
            facts["agreeing"] = int((mine["tau"] >= AGREE).sum())
            facts["others"] = len(mine)
    if sc.robust is not None and not sc.robust.empty:
        rb = sc.robust
        facts["sure_top"] = list(rb.index[rb["p_top"] >= SURE])
        facts["edge"] = list(rb.index[((rb["p_top"] > EDGE) & (rb["p_top"] < SURE))
                                      | ((rb["p_bottom"] > EDGE) & (rb["p_bottom"] < SURE))])
        facts["sure_bottom"] = list(rb.index[rb["p_bottom"] >= SURE])
        facts["top_k"], facts["bottom_k"] = rb.attrs["top"], rb.attrs["bottom"]
    facts["inconsistent"] = [(sid, e.label(sc.language), res.cr) for sid in sc.order for e, _, res in sc.resolved[sid].experts
                             if not res.consistent]
    facts["group_inconsistent"] = [(sid, sc.resolved[sid].group.cr) for sid in sc.order
                                   if sc.resolved[sid].group is not None and not sc.resolved[sid].group.consistent]
    return facts


def recommendation(sc: Scenarios) -> Markdown:
    """A paragraph written from the numbers: agreement between schemes, who moves,
    how robust the ranking is around the chosen scheme, and what to do."""
    f = recommendation_facts(sc)
    lang = sc.language

    def who(ids: list[str]) -> str:
        return _join([escape(sc.names.get(m, m)) for m in ids], lang)

    parts = []
    if "closest" in f:
        parts.append(sc.t("ws.rec.agreement", chosen=escape(sc.label(sc.chosen)), agreeing=f["agreeing"],
                          others=f["others"], closest=escape(sc.label(f["closest"][0])), tau_close=f"{f['closest'][1]:.2f}",
                          farthest=escape(sc.label(f["farthest"][0])), tau_far=f"{f['farthest'][1]:.2f}"))
    if not sc.movers.empty and int(sc.movers["spread"].max()) > 0:
        mid = sc.movers.index[0]
        parts.append(sc.t("ws.rec.mover", name=escape(sc.names.get(mid, mid)), best=int(sc.movers.iloc[0]["best"]),
                          worst=int(sc.movers.iloc[0]["worst"])))
    if "edge" in f:
        parts.append(sc.t("ws.rec.robust", kappa=f"{sc.settings.concentration:g}", k=f["top_k"],
                          sure=who(f["sure_top"]) if f["sure_top"] else sc.t("ws.rec.nobody"),
                          n_sure=len(f["sure_top"])))
        if f["edge"]:
            parts.append(sc.t("ws.rec.edge", names=who(f["edge"]), n=len(f["edge"])))
    if "edge" in f and not f["edge"] and f.get("agreeing", 0) == f.get("others", 0):
        parts.append(sc.t("ws.rec.keep", chosen=escape(sc.label(sc.chosen))))
    elif "edge" in f and f["edge"]:
        parts.append(sc.t("ws.rec.review"))
    else:
        parts.append(sc.t("ws.rec.discuss", chosen=escape(sc.label(sc.chosen))))
    for sid, name, cr in f["inconsistent"]:
        parts.append(sc.t("ws.rec.inconsistent", expert=escape(name), scheme=escape(sc.label(sid)), cr=f"{cr:.3f}"))
    for sid, cr in f["group_inconsistent"]:
        parts.append(sc.t("ws.rec.group_inconsistent", scheme=escape(sc.label(sid)), cr=f"{cr:.3f}"))
    return Markdown(("" if lang == "zh" else " ").join(parts))


# =========================================================================== artifacts


def weights_export(sc: Scenarios) -> pd.DataFrame:
    """``weights.csv``: one row per scheme × indicator (requested and used weight)."""
    rows = []
    for sid in sc.order:
        r = sc.resolved[sid]
        for iid in dict.fromkeys(list(r.requested.index) + list(r.weights.index)):
            rows.append({"scheme": sid, "method": r.scheme.method, "indicator": iid,
                         "requested_weight": float(r.requested.get(iid, np.nan)),
                         "weight": float(r.weights.get(iid, 0.0)),
                         "dropped": r.dropped.get(iid, ""), "chosen": sid == sc.chosen})
    return pd.DataFrame(rows, columns=["scheme", "method", "indicator", "requested_weight", "weight", "dropped", "chosen"])


def ranks_export(sc: Scenarios) -> pd.DataFrame:
    """``scenario_ranks.csv``: one row per manager × scheme (score 0–100, rank in team)."""
    cols = ["manager_id", "name", "scheme", "score", "rank", "weight_available", "chosen"]
    if sc.ranks.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for sid in sc.order:
        for mid in sc.ranks.index:
            rows.append({"manager_id": mid, "name": sc.names.get(mid, ""), "scheme": sid,
                         "score": float(sc.scores.loc[mid, sid]), "rank": int(sc.ranks.loc[mid, sid]),
                         "weight_available": float(sc.coverage.loc[mid, sid]), "chosen": sid == sc.chosen})
    return pd.DataFrame(rows, columns=cols)


def save(sc: Scenarios) -> None:
    """Write ``weights.csv`` and ``scenario_ranks.csv`` beside the report."""
    sc.ctx.save_csv(weights_export(sc), "weights.csv")
    sc.ctx.save_csv(ranks_export(sc), "scenario_ranks.csv")


# =========================================================================== workshop mode


def workshop_table(sc: Scenarios, weights: dict[str, float] | pd.Series) -> pd.DataFrame:
    """Scores and ranks of the team under ``weights`` (any positive scale), with the
    change against the chosen scheme's rank (positive = moves up)."""
    w = direct_weights(weights, "workshop")
    w = w[w > 0]
    d = team_scores(sc.normalised.loc[sc.ranks.index], w)
    r = ranks(d["score"])
    base = sc.ranks[sc.chosen]
    out = pd.DataFrame({
        sc.t("col.name"): sc.names.reindex(d.index).to_numpy(),
        sc.t("ws.col.score", scheme=sc.t("ws.workshop.label")): d["score"].to_numpy(),
        sc.t("ws.col.rank"): r.to_numpy(),
        sc.t("ws.col.base_rank"): base.reindex(d.index).to_numpy(),
        sc.t("ws.col.change"): (base.reindex(d.index) - r).to_numpy(),
    }, index=d.index)
    return out.sort_values(sc.t("ws.col.rank"), kind="stable")


def workshop(sc: Scenarios):
    """ipywidgets for a live session with leadership: one slider per indicator of the
    chosen scheme; scores and ranks update as the sliders move (weights are scaled
    to 100 % automatically).  Building the widget needs no front end, so the
    notebook still runs under papermill; the report hides this cell."""
    import ipywidgets as widgets

    base = sc.resolved[sc.chosen].weights
    sliders = {iid: widgets.FloatSlider(value=round(float(v) * 100, 1), min=0, max=60, step=1,
                                        description=sc.ind(iid), continuous_update=False, readout_format=".0f",
                                        style={"description_width": "180px"}, layout=widgets.Layout(width="520px"))
               for iid, v in base.items()}
    shares = widgets.HTML()
    out = widgets.Output()

    def update(_: Any = None) -> None:
        values = {k: s.value for k, s in sliders.items()}
        total = sum(values.values())
        out.outputs = ()
        if total <= 0 or sc.ranks.empty:
            shares.value = escape(sc.t("ws.workshop.zero"))
            return
        shares.value = escape(_join([f"{sc.ind(k)} {v / total:.0%}" for k, v in values.items()], sc.language))
        units = {sc.t("ws.col.score", scheme=sc.t("ws.workshop.label")): "score", sc.t("ws.col.change"): "points"}
        out.append_display_data(table(workshop_table(sc, values), units, sc.language))

    for s in sliders.values():
        s.observe(update, names="value")
    reset = widgets.Button(description=sc.t("ws.workshop.reset"))

    def on_reset(_: Any) -> None:
        for iid, s in sliders.items():
            s.value = round(float(base[iid]) * 100, 1)

    reset.on_click(on_reset)
    update()
    head = widgets.HTML(html.escape(sc.t("ws.workshop.help", scheme=sc.label(sc.chosen))))
    box = widgets.VBox([head, *sliders.values(), reset, shares, out])
    box.sliders = sliders  # for tests and scripting
    box.output = out
    return box


# ======================================================================================
# what the run needs to know (read by helpers.run.runner; the notebook's metadata names this module)
# ======================================================================================


def check_inputs(params: RunParams, params_file: str | Path, ds: Any) -> list[Problem]:
    """The weight schemes this notebook compares."""
    return check(params, params_file)


SHARED: dict = {}
"""Company-wide results this notebook reads, each with the function that prepares it once per run."""
