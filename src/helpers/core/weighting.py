"""Weighting scenarios: direct, AHP, entropy, CRITIC, blends and rank robustness.

Every function validates its input and raises :class:`~helpers.errors.InputError`
naming the cell, column or key at fault; none returns a silent NaN.

Sources (formulas are restated in each docstring):

* AHP, eigenvector method and consistency ratio — Saaty, T.L. (1977) "A scaling
  method for priorities in hierarchical structures", J. Math. Psychology 15:234–281;
  Saaty, T.L. (1980) *The Analytic Hierarchy Process*, McGraw-Hill.
* AHP, row geometric mean — Crawford, G. & Williams, C. (1985) "A note on the
  analysis of subjective judgment matrices", J. Math. Psychology 29:387–405.
* Random index tables — Saaty (1980); Alonso, J.A. & Lamata, M.T. (2006)
  "Consistency in the analytic hierarchy process: a new approach", Int. J.
  Uncertainty, Fuzziness and Knowledge-Based Systems 14(4):445–459.
* Judgements to revise — Saaty, T.L. (2003) "Decision-making with the AHP: why is
  the principal eigenvector necessary", EJOR 145:85–91 (largest a_ij·w_j/w_i);
  Harker, P.T. (1987) "Derivatives of the Perron root of a positive reciprocal
  matrix", Math. Modelling 9:353–355 (the gradient variant, not used here).
* Group AHP (AIJ) — Aczél, J. & Saaty, T.L. (1983) "Procedures for synthesizing
  ratio judgements", J. Math. Psychology 27:93–102; Forman, E. & Peniwati, K.
  (1998) "Aggregating individual judgments and priorities with the AHP", EJOR
  108:165–169.
* Entropy weights — Hwang, C.L. & Yoon, K. (1981) *Multiple Attribute Decision
  Making*, Springer, §4.1 (after Shannon 1948).
* CRITIC — Diakoulaki, D., Mavrotas, G. & Papayannakis, L. (1995) "Determining
  objective weights in multiple criteria problems: the CRITIC method", Computers &
  Operations Research 22(7):763–770.
* Subjective/objective blends — Ma, J., Fan, Z.-P. & Huang, L.-H. (1999) "A
  subjective and objective integrated approach to determine attribute weights",
  EJOR 112:397–404 (linear combination); the multiplicative (product-normalised)
  form is the usual alternative in the same literature.
* Rank robustness — Monte-Carlo weight perturbation with a Dirichlet distribution
  centred on the base weights (e.g. Butler, Jia & Dyer 1997, "Simulation techniques
  for the sensitivity analysis of multi-criteria decision models", EJOR 103:531–546).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from helpers.errors import InputError, Problem, input_error

__all__ = [
    "AHPResult",
    "RI_TABLES",
    "CR_THRESHOLD",
    "RECIPROCAL_RTOL",
    "direct_weights",
    "ahp",
    "group_ahp",
    "pairwise_problems",
    "minmax_normalise",
    "entropy_weights",
    "critic_weights",
    "blend_weights",
    "weighted_scores",
    "MISSING_MODES",
    "ranks",
    "scenario_table",
    "rank_correlations",
    "biggest_movers",
    "sample_weights",
    "simulate_ranks",
    "robustness",
]

# --------------------------------------------------------------------------- constants

#: Random consistency index RI(n) for n = 1, 2, ... (index 0 is n = 1).
RI_TABLES: dict[str, tuple[float, ...]] = {
    # Saaty (1980), The Analytic Hierarchy Process (500 random matrices).
    "saaty1980": (0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49),
    # Alonso & Lamata (2006), IJUFKS 14(4):445-459 (100,000 random
    # matrices per n, entries drawn uniformly from the 17 Saaty-scale values).
    "alonso_lamata2006": (
        0.0, 0.0, 0.5245, 0.8815, 1.1086, 1.2479, 1.3417, 1.4056, 1.4499,
        1.4854, 1.5141, 1.5365, 1.5551, 1.5713, 1.5838,
    ),
}
RI_CITATIONS: dict[str, str] = {
    "saaty1980": "Saaty (1980), The Analytic Hierarchy Process, McGraw-Hill",
    "alonso_lamata2006": "Alonso & Lamata (2006), IJUFKS 14(4):445-459",
}

#: Saaty's rule: judgements are acceptably consistent when CR <= 0.10.
CR_THRESHOLD = 0.10
#: Tolerance for a_ij * a_ji == 1.  1 % accepts reciprocals typed to 3 decimals
#: (0.111 for 1/9 is off by 0.1 %, 0.143 for 1/7 by 0.1 %; the worst 3-decimal
#: case is 0.45 %) and still rejects real mistakes (3 against 1/2 is off by 50 %).
RECIPROCAL_RTOL = 0.01
#: Tolerance for the diagonal a_ii == 1 and for the upper end of the 1..9 scale.
EXACT_RTOL = 1e-9
#: Saaty's 1-9 scale and its reciprocals (used to suggest a revised judgement).
SAATY_SCALE = np.array([1 / k for k in range(9, 1, -1)] + list(range(1, 10)), dtype=float)
#: Scores are rounded to this many decimals before ranking, so that float noise
#: (e.g. two managers with identical indicator rows) does not break real ties.
RANK_DECIMALS = 9
#: At most this many cell problems are listed in one error; the rest are counted.
MAX_PROBLEMS = 20

_METHODS = ("eigen", "geometric")


# --------------------------------------------------------------------------- small helpers


def _raise_all(problems: list[Problem], source: str) -> None:
    """Raise one InputError with every problem (capped at MAX_PROBLEMS)."""
    if not problems:
        return
    if len(problems) > MAX_PROBLEMS:
        extra = len(problems) - MAX_PROBLEMS
        problems = problems[:MAX_PROBLEMS] + [
            Problem(source=source, what=f"... and {extra} more problem(s) of the same kinds")
        ]
    raise InputError(problems)


def _as_float(value: object) -> float | None:
    """A cell as float: numbers, numeric strings and fractions like '1/3'; else None."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            return float(Fraction(text))
        except (ValueError, ZeroDivisionError):
            return None
    return None


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _ceil_count(x: float) -> int:
    """ceil() that ignores float noise (0.7 * 10 = 7.000000000000001 -> 7)."""
    return int(math.ceil(x - 1e-9))


# --------------------------------------------------------------------------- direct


def direct_weights(weights: Mapping[str, float] | pd.Series, source: str = "weights") -> pd.Series:
    """Validate weights given directly and normalise them to sum 1.

    ``w_j = v_j / Σ_k v_k``.  Every value must be a finite number ≥ 0 and at least
    one must be positive.  The error names the key at fault.
    """
    items = list(weights.items())
    if not items:
        raise input_error(source, "no weights given", fix="give at least one indicator and its weight")
    problems: list[Problem] = []
    keys: list[str] = []
    values: list[float] = []
    for key, raw in items:
        val = _as_float(raw)
        where = f"key {key!r}"
        if val is None:
            problems.append(Problem(source, f"weight {raw!r} is not a number", where, "enter a number ≥ 0"))
        elif not math.isfinite(val):
            problems.append(Problem(source, f"weight is {val} (not finite)", where, "enter a finite number ≥ 0"))
        elif val < 0:
            problems.append(Problem(source, f"weight {_fmt(val)} is negative", where, "enter a number ≥ 0"))
        keys.append(str(key))
        values.append(val if val is not None else math.nan)
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    for k in dupes:
        problems.append(Problem(source, "indicator appears more than once", f"key {k!r}", "keep one weight per indicator"))
    _raise_all(problems, source)
    arr = np.asarray(values, dtype=float)
    total = arr.sum()
    if total <= 0:
        raise input_error(source, "all weights are zero", fix="give at least one indicator a positive weight")
    return pd.Series(arr / total, index=pd.Index(keys, name="indicator"), name="weight")


# --------------------------------------------------------------------------- AHP


@dataclass(frozen=True, eq=False)
class AHPResult:
    """Priorities and consistency of one pairwise comparison matrix.

    ``weights`` sums to 1; ``ci = (λmax − n)/(n − 1)``; ``cr = ci / RI(n)`` (0 when
    n ≤ 2, where every reciprocal matrix is consistent and RI = 0); ``consistent``
    is ``cr <= 0.10`` (Saaty 1980).  ``matrix`` is the validated matrix actually used
    (reciprocal pairs made exact, see :func:`ahp`).
    """

    weights: pd.Series
    lambda_max: float
    ci: float
    cr: float
    ri: float
    consistent: bool
    method: str
    ri_table: str
    matrix: pd.DataFrame = field(repr=False)

    def worst_judgements(self, k: int = 3) -> pd.DataFrame:
        """The k judgements most worth revising, worst first.

        For each pair i < j: ``given`` = a_ij, ``implied`` = w_i / w_j (the value
        that would be perfectly consistent with the derived weights),
        ``ratio`` = ε_ij = a_ij·w_j/w_i and ``deviation`` = |ln ε_ij|.  Saaty (2003,
        EJOR 145:85–91) recommends revising the judgement with the largest ε_ij (or
        its reciprocal), which is the largest |ln ε_ij|.  ``suggested`` is the Saaty
        scale value (1..9 or a reciprocal) nearest, on a log scale, to ``implied``.
        """
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise input_error("k", f"k must be a whole number ≥ 1, got {k!r}")
        labels = list(self.matrix.index)
        a = self.matrix.to_numpy(dtype=float)
        w = self.weights.to_numpy(dtype=float)
        i, j = np.triu_indices(len(labels), k=1)
        implied = w[i] / w[j]
        ratio = a[i, j] / implied
        deviation = np.abs(np.log(ratio))
        nearest = np.abs(np.log(SAATY_SCALE)[None, :] - np.log(implied)[:, None]).argmin(axis=1)
        table = pd.DataFrame(
            {
                "row": [labels[x] for x in i],
                "col": [labels[x] for x in j],
                "given": a[i, j],
                "implied": implied,
                "ratio": ratio,
                "deviation": deviation,
                "suggested": SAATY_SCALE[nearest],
            }
        )
        table = table.sort_values("deviation", ascending=False, kind="stable")
        return table.head(k).reset_index(drop=True)


def _matrix_labels(matrix: object, labels: Sequence[str] | None, source: str) -> tuple[np.ndarray, list[str]]:
    """Raw object array and labels; DataFrame columns are aligned to its index."""
    if isinstance(matrix, pd.DataFrame):
        idx = [str(x) for x in matrix.index]
        cols = [str(x) for x in matrix.columns]
        if len(idx) != len(cols):
            raise input_error(
                source, f"matrix is not square: {len(idx)} rows × {len(cols)} columns",
                fix="give one row and one column per criterion",
            )
        if len(set(idx)) != len(idx):
            raise input_error(source, "row labels repeat", fix="give each criterion one row")
        if set(idx) != set(cols):
            missing = sorted(set(idx) - set(cols))
            extra = sorted(set(cols) - set(idx))
            raise input_error(
                source, "row and column labels differ",
                where=f"rows without a column: {missing}; columns without a row: {extra}",
                fix="use the same criteria, with the same names, for rows and columns",
            )
        frame = matrix.copy()
        frame.index = idx
        frame.columns = cols
        raw = frame.loc[idx, idx].to_numpy(dtype=object)
        if labels is not None and [str(x) for x in labels] != idx:
            raise input_error(source, f"labels {list(labels)} differ from the matrix index {idx}",
                              fix="leave labels out when passing a DataFrame")
        return raw, idx
    raw = np.asarray(matrix, dtype=object)
    if raw.ndim != 2 or raw.shape[0] != raw.shape[1]:
        raise input_error(
            source, f"matrix is not square: shape {raw.shape}",
            fix="give an n × n table of pairwise comparisons",
        )
    n = raw.shape[0]
    if labels is None:
        lab = [f"c{i + 1}" for i in range(n)]
    else:
        lab = [str(x) for x in labels]
        if len(lab) != n:
            raise input_error(source, f"{len(lab)} labels for a {n} × {n} matrix", fix="give one label per row")
        if len(set(lab)) != n:
            raise input_error(source, f"labels repeat: {lab}", fix="give each criterion its own name")
    return raw, lab


def _validate_pairwise(matrix: object, labels: Sequence[str] | None, source: str) -> tuple[np.ndarray, list[str]]:
    """Check a pairwise comparison matrix cell by cell; return it made exactly reciprocal.

    Rules: numbers (fractions like '1/3' accepted), finite, > 0, within
    [1/9, 9] (upper end exact to 1e-9 relative; lower end allows 1/9 typed as
    0.111, i.e. RECIPROCAL_RTOL), diagonal = 1 (1e-9), and a_ij·a_ji = 1 within
    RECIPROCAL_RTOL.  Accepted near-reciprocal pairs are made exact by the
    geometric mean a'_ij = sqrt(a_ij / a_ji), a'_ji = 1 / a'_ij.
    """
    raw, lab = _matrix_labels(matrix, labels, source)
    n = len(lab)
    if n == 0:
        raise input_error(source, "matrix is empty", fix="give at least one criterion")
    a = np.full((n, n), np.nan)
    ok = np.zeros((n, n), dtype=bool)
    problems: list[Problem] = []
    lo = (1 / 9) / (1 + RECIPROCAL_RTOL)
    hi = 9 * (1 + EXACT_RTOL)
    for r in range(n):
        for c in range(n):
            where = f"cell ({lab[r]}, {lab[c]})"
            val = _as_float(raw[r, c])
            if val is None:
                problems.append(Problem(source, f"{raw[r, c]!r} is not a number", where, "enter a number such as 3 or 1/3"))
            elif not math.isfinite(val):
                problems.append(Problem(source, f"value is {val} (missing or not finite)", where, "fill in the judgement"))
            elif val <= 0:
                problems.append(Problem(source, f"value {_fmt(val)} is not positive", where, "use 1..9 or 1/9..1"))
            elif r == c and abs(val - 1) > EXACT_RTOL:
                problems.append(Problem(source, f"diagonal value is {_fmt(val)}, must be 1", where, "set every diagonal cell to 1"))
            elif not lo <= val <= hi:
                problems.append(Problem(source, f"value {_fmt(val)} is outside Saaty's scale 1/9..9", where, "use 1..9 or 1/9..1"))
            else:
                a[r, c] = val
                ok[r, c] = True
    for r in range(n):
        for c in range(r + 1, n):
            if ok[r, c] and ok[c, r]:
                prod = a[r, c] * a[c, r]
                if abs(prod - 1) > RECIPROCAL_RTOL:
                    problems.append(
                        Problem(
                            source,
                            f"not reciprocal: {_fmt(a[r, c])} × {_fmt(a[c, r])} = {_fmt(prod)}, must be 1",
                            f"cell ({lab[r]}, {lab[c]})",
                            f"set cell ({lab[c]}, {lab[r]}) to 1/{_fmt(a[r, c])}",
                        )
                    )
    _raise_all(problems, source)
    upper = np.sqrt(a / a.T)  # exact reciprocal: upper * upper.T == 1
    np.fill_diagonal(upper, 1.0)
    return upper, lab


def pairwise_problems(matrix: object, labels: Sequence[str] | None = None, source: str = "matrix") -> list[Problem]:
    """Every problem of a pairwise comparison matrix, as a list (empty = valid).

    The same rules as :func:`ahp` (see :func:`_validate_pairwise`): square, numbers
    (fractions like '1/3' accepted), finite, > 0, within Saaty's 1/9..9, diagonal 1,
    a_ij·a_ji = 1 within :data:`RECIPROCAL_RTOL`.  Each problem names ``source``
    and the cell ``(row, column)``.  Used to validate scheme files without raising.
    """
    try:
        _validate_pairwise(matrix, labels, source)
    except InputError as exc:
        return list(exc.problems)
    return []


def _ri(table: str, n: int) -> float:
    if table not in RI_TABLES:
        known = ", ".join(f"{k!r} ({RI_CITATIONS[k]})" for k in RI_TABLES)
        raise input_error("ri_table", f"unknown random-index table {table!r}", fix=f"use one of {known}")
    values = RI_TABLES[table]
    if n > len(values):
        raise input_error(
            "ri_table", f"table {table!r} gives RI only up to n = {len(values)}, the matrix has n = {n}",
            fix="use 'alonso_lamata2006' (n ≤ 15) or split the criteria into a hierarchy",
        )
    return values[n - 1]


def _priorities(a: np.ndarray, method: str) -> tuple[np.ndarray, float]:
    """Weights (sum 1) and λmax of a positive reciprocal matrix.

    eigen: principal right eigenvector A w = λmax w (Saaty 1977).
    geometric: w_i ∝ (Π_j a_ij)^(1/n) (Crawford & Williams 1985), with
    λmax = mean_i (A w)_i / w_i.
    """
    if method == "eigen":
        vals, vecs = np.linalg.eig(a)
        top = int(np.argmax(vals.real))
        w = np.abs(vecs[:, top].real)
        w = w / w.sum()
        lam = float(vals[top].real)
    else:
        w = np.exp(np.log(a).mean(axis=1))
        w = w / w.sum()
        lam = float(np.mean((a @ w) / w))
    return w, lam


def ahp(
    matrix: object,
    ri_table: str = "saaty1980",
    method: str = "eigen",
    labels: Sequence[str] | None = None,
    source: str = "matrix",
) -> AHPResult:
    """Priorities of one pairwise comparison matrix (Analytic Hierarchy Process).

    ``matrix``: square array-like or DataFrame (labels from its index; columns are
    matched to the index by name).  a_ij says how much more important criterion i
    is than j on Saaty's 1..9 scale; a_ji = 1/a_ij.

    * ``method="eigen"``: w = principal right eigenvector, A w = λmax w, normalised
      to sum 1 (Saaty 1977, 1980).
    * ``method="geometric"``: w_i = (Π_j a_ij)^(1/n) / Σ_k (Π_j a_kj)^(1/n)
      (Crawford & Williams 1985); λmax = (1/n) Σ_i (A w)_i / w_i.

    CI = (λmax − n)/(n − 1) (0 for n = 1; tiny negative float noise is clipped to
    0); CR = CI / RI(n) from ``ri_table`` (:data:`RI_TABLES`), 0 when RI(n) = 0
    (n ≤ 2).  Validation is described in :func:`_validate_pairwise`.
    """
    if method not in _METHODS:
        raise input_error("method", f"unknown method {method!r}", fix=f"use one of {list(_METHODS)}")
    _ri(ri_table, 1)  # unknown table name → error before any work
    a, lab = _validate_pairwise(matrix, labels, source)
    return _ahp_from_valid(a, lab, method, ri_table)


def _ahp_from_valid(a: np.ndarray, lab: list[str], method: str, ri_table: str) -> AHPResult:
    n = len(lab)
    ri = _ri(ri_table, n)
    w, lam = _priorities(a, method)
    ci = max((lam - n) / (n - 1), 0.0) if n > 1 else 0.0
    cr = ci / ri if ri > 0 else 0.0
    return AHPResult(
        weights=pd.Series(w, index=pd.Index(lab, name="indicator"), name="weight"),
        lambda_max=lam,
        ci=ci,
        cr=cr,
        ri=ri,
        consistent=bool(cr <= CR_THRESHOLD),
        method=method,
        ri_table=ri_table,
        matrix=pd.DataFrame(a, index=lab, columns=lab),
    )


def group_ahp(
    matrices: Sequence[object],
    labels: Sequence[str] | None = None,
    method: str = "eigen",
    ri_table: str = "saaty1980",
    expert_weights: Sequence[float] | None = None,
    source: str = "matrices",
) -> AHPResult:
    """Group AHP by aggregating individual judgements (AIJ), then :func:`ahp`.

    ``a_ij^group = Π_k (a_ij^(k))^(λ_k)`` with expert weights λ_k ≥ 0 normalised to
    sum 1 (equal weights by default): the (weighted) element-wise geometric mean,
    the only aggregation that keeps the group matrix reciprocal (Aczél & Saaty
    1983; Forman & Peniwati 1998).  Each matrix is validated on its own (errors
    name ``matrices[k]`` and the cell); DataFrames are aligned by label, and all
    matrices must rate the same criteria.
    """
    if method not in _METHODS:
        raise input_error("method", f"unknown method {method!r}", fix=f"use one of {list(_METHODS)}")
    _ri(ri_table, 1)
    mats = list(matrices)
    if not mats:
        raise input_error(source, "no matrices given", fix="give one matrix per expert")
    checked = [_validate_pairwise(m, labels, f"{source}[{k}]") for k, m in enumerate(mats)]
    ref = checked[0][1]
    logs = []
    for k, (a, lab) in enumerate(checked):
        if set(lab) != set(ref):
            raise input_error(
                f"{source}[{k}]", f"criteria {sorted(lab)} differ from matrices[0] {sorted(ref)}",
                fix="every expert must compare the same criteria",
            )
        order = [lab.index(x) for x in ref]
        logs.append(np.log(a[np.ix_(order, order)]))
    if expert_weights is None:
        lam = np.full(len(mats), 1 / len(mats))
    else:
        ew = list(expert_weights)
        if len(ew) != len(mats):
            raise input_error("expert_weights", f"{len(ew)} weights for {len(mats)} matrices",
                              fix="give one weight per expert")
        lam = direct_weights({f"expert {k}": v for k, v in enumerate(ew)}, "expert_weights").to_numpy()
    group = np.exp(np.tensordot(lam, np.stack(logs), axes=1))
    np.fill_diagonal(group, 1.0)
    return _ahp_from_valid(group, list(ref), method, ri_table)


# --------------------------------------------------------------------------- objective weights


def _numeric_frame(X: pd.DataFrame, source: str, allow_nan: bool = False) -> np.ndarray:
    """X as a float array; every non-numeric, missing or infinite cell is an error.

    With ``allow_nan`` a missing cell (NaN/None) is kept as NaN; text and ±inf are
    still errors."""
    if not isinstance(X, pd.DataFrame):
        raise input_error(source, f"expected a DataFrame (rows = managers, columns = indicators), got {type(X).__name__}")
    if X.shape[1] == 0:
        raise input_error(source, "no indicator columns", fix="give at least one indicator")
    problems: list[Problem] = []
    out = np.empty(X.shape, dtype=float)
    for j, col in enumerate(X.columns):
        values = pd.to_numeric(X[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isfinite(values)
        if allow_nan:
            bad &= ~(np.isnan(values) & X[col].isna().to_numpy())
        for r in np.flatnonzero(bad)[:5]:
            problems.append(Problem(source, f"value {X[col].iloc[r]!r} is missing or not a finite number",
                                    f"row {X.index[r]!r}, column {col!r}", "fill in a number"))
        if bad.sum() > 5:
            problems.append(Problem(source, f"{int(bad.sum()) - 5} more bad cells", f"column {col!r}"))
        out[:, j] = values
    _raise_all(problems, source)
    return out


def _benefit_vector(benefit: Mapping[str, bool] | Sequence[bool] | pd.Series, columns: Sequence[str], source: str = "benefit") -> np.ndarray:
    """True for 'more is better', False for 'less is better', one per column."""
    cols = [str(c) for c in columns]
    if isinstance(benefit, (Mapping, pd.Series)):
        keys = {str(k): v for k, v in benefit.items()}
        missing = [c for c in cols if c not in keys]
        if missing:
            raise input_error(source, f"no direction given for {missing}",
                              fix="map every indicator to True (more is better) or False (less is better)")
        values = [keys[c] for c in cols]
        names = cols
    elif isinstance(benefit, (str, bytes)):
        raise input_error(source, f"expected one True/False per indicator, got {benefit!r}")
    else:
        values = list(benefit)
        names = cols
        if len(values) != len(cols):
            raise input_error(source, f"{len(values)} directions for {len(cols)} indicators {cols}",
                              fix="give one True/False per indicator")
    bad = [n for n, v in zip(names, values) if not isinstance(v, (bool, np.bool_))]
    if bad:
        raise input_error(source, f"direction must be True or False for {bad}",
                          fix="True = more is better (benefit), False = less is better (cost)")
    return np.asarray(values, dtype=bool)


def minmax_normalise(
    X: pd.DataFrame, benefit: Mapping[str, bool] | Sequence[bool] | pd.Series, source: str = "X"
) -> pd.DataFrame:
    """Min–max normalisation with direction, per column.

    benefit: z = (x − min)/(max − min); cost: z = (max − x)/(max − min).
    A constant column (max = min) has no spread: it is set to 0 and listed in
    ``result.attrs["degenerate"]``.
    """
    arr = _numeric_frame(X, source)
    ben = _benefit_vector(benefit, list(X.columns))
    z, degenerate = _minmax(arr, ben)
    out = pd.DataFrame(z, index=X.index, columns=X.columns)
    out.attrs["degenerate"] = [str(c) for c, d in zip(X.columns, degenerate) if d]
    return out


def _minmax(arr: np.ndarray, ben: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = arr.min(axis=0), arr.max(axis=0)
    span = hi - lo
    degenerate = span <= 0
    safe = np.where(degenerate, 1.0, span)
    z = np.where(ben, (arr - lo) / safe, (hi - arr) / safe)
    z[:, degenerate] = 0.0
    return z, degenerate


def _check_rows(arr: np.ndarray, source: str, need: int = 2) -> None:
    if arr.shape[0] < need:
        raise input_error(source, f"{arr.shape[0]} row(s): objective weights need at least {need} managers",
                          fix="use data with more managers or set the weights directly")


def entropy_weights(
    X: pd.DataFrame, benefit: Mapping[str, bool] | Sequence[bool] | pd.Series | None = None, source: str = "X"
) -> pd.Series:
    """Entropy weights (Hwang & Yoon 1981, §4.1).

    X: rows = alternatives (managers, m ≥ 2), columns = indicators.
    p_ij = x_ij / Σ_i x_ij;  e_j = −(1/ln m) Σ_i p_ij ln p_ij  (convention
    0·ln 0 := 0);  d_j = 1 − e_j;  w_j = d_j / Σ_k d_k.

    Without ``benefit`` the values must be ≥ 0 (they are shares of a total): a
    negative value is an error naming the column.  With ``benefit`` (one True =
    more is better / False = less is better per column), X is first min–max
    normalised with direction (:func:`minmax_normalise`); note this gives the
    worst manager p = 0 in every column.

    Fallback: a column that is constant (including all zero) carries no
    information: e_j = 1, d_j = 0, weight 0.  Such columns are listed in
    ``result.attrs["degenerate"]``; if every column is degenerate the function
    raises, naming them.  ``result.attrs["entropy"]`` holds e_j per column.
    """
    arr = _numeric_frame(X, source)
    _check_rows(arr, source)
    cols = [str(c) for c in X.columns]
    if benefit is not None:
        arr, degenerate = _minmax(arr, _benefit_vector(benefit, cols))
    else:
        problems = []
        for j in np.flatnonzero((arr < 0).any(axis=0)):
            r = int(np.argmax(arr[:, j] < 0))
            problems.append(Problem(source, f"negative value {_fmt(arr[r, j])} (row {X.index[r]!r}); entropy needs shares ≥ 0",
                                    f"column {cols[j]!r}", "normalise first, or pass benefit= to min–max normalise"))
        _raise_all(problems, source)
        degenerate = arr.max(axis=0) == arr.min(axis=0)
    m = arr.shape[0]
    totals = arr.sum(axis=0)
    safe = np.where(degenerate, 1.0, totals)
    p = arr / safe
    from scipy.special import xlogy

    e = -xlogy(p, p).sum(axis=0) / math.log(m)
    e = np.clip(np.where(degenerate, 1.0, e), 0.0, 1.0)
    d = 1.0 - e
    if d.sum() <= 0:
        raise input_error(source, f"every indicator is constant across managers: {cols}",
                          fix="entropy weights need indicators that differ between managers; set weights directly")
    out = pd.Series(d / d.sum(), index=pd.Index(cols, name="indicator"), name="weight")
    out.attrs["degenerate"] = [c for c, g in zip(cols, degenerate) if g]
    out.attrs["entropy"] = dict(zip(cols, e.tolist()))
    return out


def critic_weights(
    X: pd.DataFrame, benefit: Mapping[str, bool] | Sequence[bool] | pd.Series, source: str = "X"
) -> pd.Series:
    """CRITIC weights (Diakoulaki, Mavrotas & Papayannakis 1995).

    1. Min–max normalise with direction: benefit z = (x − min)/(max − min),
       cost z = (max − x)/(max − min).
    2. σ_j = standard deviation of z_j with ddof = 1 (sample).  The paper says
       "standard deviation"; the choice of ddof scales every σ_j by the same
       factor and so does not change the weights.
    3. C_j = σ_j Σ_k (1 − r_jk), r = Pearson correlation between columns of z.
    4. w_j = C_j / Σ_k C_k.

    Fallback: a constant column has σ = 0 and an undefined correlation; it gets
    weight 0 and is left out of steps 2–4 (so the other weights equal CRITIC on
    the data without it).  Listed in ``result.attrs["degenerate"]``.  Fewer than two
    varying columns, or all C_j = 0 (every pair perfectly correlated), raise.
    ``attrs`` also holds ``sigma``, ``conflict`` (Σ(1 − r)) and ``information`` (C).
    """
    arr = _numeric_frame(X, source)
    _check_rows(arr, source)
    cols = [str(c) for c in X.columns]
    z, degenerate = _minmax(arr, _benefit_vector(benefit, cols))
    keep = np.flatnonzero(~degenerate)
    if keep.size < 2:
        raise input_error(
            source, f"CRITIC needs at least two indicators that vary across managers; constant: {[cols[j] for j in np.flatnonzero(degenerate)]}",
            fix="add indicators or set the weights directly",
        )
    zk = z[:, keep]
    sigma = zk.std(axis=0, ddof=1)
    r = np.corrcoef(zk, rowvar=False)
    conflict = (1.0 - r).sum(axis=0)
    info = np.clip(sigma * conflict, 0.0, None)
    if info.sum() <= 0:
        raise input_error(source, "all varying indicators are perfectly correlated (C_j = 0 for all)",
                          fix="CRITIC cannot tell them apart; set the weights directly")
    w = np.zeros(len(cols))
    w[keep] = info / info.sum()
    out = pd.Series(w, index=pd.Index(cols, name="indicator"), name="weight")
    out.attrs["degenerate"] = [c for c, g in zip(cols, degenerate) if g]
    for name, values in (("sigma", sigma), ("conflict", conflict), ("information", info)):
        out.attrs[name] = {cols[j]: float(v) for j, v in zip(keep, values)}
    return out


# --------------------------------------------------------------------------- blends


def blend_weights(
    subjective: Mapping[str, float] | pd.Series,
    objective: Mapping[str, float] | pd.Series,
    alpha: float = 0.5,
    mode: str = "linear",
) -> pd.Series:
    """Combine subjective and objective weights (each first normalised to sum 1).

    * linear: w_j = α·s_j + (1 − α)·o_j  (Ma, Fan & Huang 1999).
    * multiplicative: w_j = s_j·o_j / Σ_k s_k·o_k.

    Both sets must cover the same indicators (error names the missing ones);
    α must lie in [0, 1].  The result follows the subjective order.
    """
    if mode not in ("linear", "multiplicative"):
        raise input_error("mode", f"unknown blend mode {mode!r}", fix="use 'linear' or 'multiplicative'")
    a = _as_float(alpha)
    if a is None or not math.isfinite(a) or not 0.0 <= a <= 1.0:
        raise input_error("alpha", f"alpha = {alpha!r} is outside [0, 1]", fix="use a share between 0 and 1")
    s = direct_weights(subjective, "subjective")
    o = direct_weights(objective, "objective")
    only_s = [k for k in s.index if k not in o.index]
    only_o = [k for k in o.index if k not in s.index]
    if only_s or only_o:
        raise input_error(
            "weights", "subjective and objective weights cover different indicators",
            where=f"missing from objective: {only_s}; missing from subjective: {only_o}",
            fix="give both weight sets for the same indicators",
        )
    o = o.reindex(s.index)
    if mode == "linear":
        w = a * s + (1 - a) * o
    else:
        prod = s * o
        if prod.sum() <= 0:
            raise input_error("weights", "no indicator has a positive weight in both sets",
                              fix="use mode='linear' or revise the weights")
        w = prod / prod.sum()
    return w.rename("weight")


# --------------------------------------------------------------------------- scoring and ranks


#: How :func:`weighted_scores`, :func:`simulate_ranks` and :func:`robustness` treat a
#: missing cell (NaN): "error" raises naming it; "renormalise" leaves the indicator
#: out for that manager and scales the remaining weights back to 1.
MISSING_MODES = ("error", "renormalise")


def _check_missing_mode(missing: str) -> bool:
    if missing not in MISSING_MODES:
        raise input_error("missing", f"unknown mode {missing!r}", fix=f"use one of {list(MISSING_MODES)}")
    return missing == "renormalise"


def _score_matrix(S: pd.DataFrame, indicators: Sequence[str], source: str = "S", allow_nan: bool = False) -> np.ndarray:
    """S[indicators] as float (managers × indicators); missing columns/cells raise
    (missing cells are kept as NaN with ``allow_nan``)."""
    if not isinstance(S, pd.DataFrame):
        raise input_error(source, f"expected a DataFrame (rows = managers, columns = indicators), got {type(S).__name__}")
    names = {str(c): c for c in S.columns}
    missing = [k for k in indicators if k not in names]
    if missing:
        raise input_error(source, f"indicator column(s) {missing} are missing",
                          fix="score every weighted indicator, or drop it from the weights")
    if S.shape[0] == 0:
        raise input_error(source, "no managers (rows)")
    return _numeric_frame(S[[names[k] for k in indicators]], source, allow_nan=allow_nan)


def _masked(arr: np.ndarray, w: np.ndarray, index: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """(S with NaN → 0, presence mask as float); a manager with no weighted indicator raises."""
    present = ~np.isnan(arr)
    covered = present.astype(float) @ (w > 0).astype(float)
    empty = np.flatnonzero(covered == 0)
    if empty.size:
        raise input_error("S", f"no weighted indicator has a value for {[index[i] for i in empty[:10]]}",
                          fix="leave these managers out (no data) or fill in their values")
    return np.where(present, arr, 0.0), present.astype(float)


def weighted_scores(
    S: pd.DataFrame, weights: Mapping[str, float] | pd.Series, missing: str = "error"
) -> pd.Series:
    """Composite score per manager: score_i = Σ_j w_j S_ij with w normalised to sum 1.

    S: rows = managers, columns = indicators on a common scale (e.g. 0–100).
    Columns of S not in ``weights`` are ignored; a weighted indicator missing from S
    is an error.

    ``missing="renormalise"``: a missing cell leaves that indicator out for that
    manager and the remaining weights are scaled back to 1:
    score_i = Σ_j w_j m_ij S_ij / Σ_j w_j m_ij with m_ij = 1 if S_ij is present;
    ``result.attrs["weight_available"]`` holds Σ_j w_j m_ij per manager.  A manager
    with no weighted value at all raises (never a score of 0).
    """
    w = direct_weights(weights)
    renorm = _check_missing_mode(missing)
    arr = _score_matrix(S, list(w.index), allow_nan=renorm)
    wv = w.to_numpy()
    if not renorm:
        out = pd.Series(arr @ wv, index=S.index, name="score")
        out.attrs["weight_available"] = pd.Series(1.0, index=S.index)
        return out
    filled, mask = _masked(arr, wv, S.index)
    den = mask @ wv
    out = pd.Series((filled @ wv) / den, index=S.index, name="score")
    out.attrs["weight_available"] = pd.Series(den, index=S.index)
    return out


def _competition_ranks(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise ranks of a (draws × managers) score array, rank 1 = highest.

    Returns (min_rank, max_rank): for tied scores min_rank is the competition
    ("1224") rank and max_rank the last position of the tie block.  Scores are
    rounded to RANK_DECIMALS first.  Vectorised: one argsort per row block (not a
    stable sort: the order inside a tie block does not change its ranks, and the
    default SIMD sort is several times faster).  Without any tie in the block
    (the usual case for continuous scores) min_rank = max_rank = position + 1.
    """
    c, n = scores.shape
    key = -np.round(scores, RANK_DECIMALS)
    order = np.argsort(key, axis=1)
    s = np.take_along_axis(key, order, axis=1)
    pos = np.arange(n, dtype=np.int32)
    start = np.ones((c, n), dtype=bool)
    start[:, 1:] = s[:, 1:] != s[:, :-1]
    if start.all():
        r = np.empty((c, n), dtype=np.int32)
        np.put_along_axis(r, order, np.broadcast_to(pos + 1, (c, n)), axis=1)
        return r, r
    end = np.ones((c, n), dtype=bool)
    end[:, :-1] = start[:, 1:]
    first = np.maximum.accumulate(np.where(start, pos, 0), axis=1)
    last = np.minimum.accumulate(np.where(end, pos, n - 1)[:, ::-1], axis=1)[:, ::-1]
    rmin = np.empty((c, n), dtype=np.int32)
    rmax = np.empty((c, n), dtype=np.int32)
    np.put_along_axis(rmin, order, first + 1, axis=1)
    np.put_along_axis(rmax, order, last + 1, axis=1)
    return rmin, rmax


def ranks(scores: pd.Series) -> pd.Series:
    """Rank 1 = best (highest score); ties share the smallest rank (competition
    ranking, "1224").  Scores equal after rounding to 9 decimals count as tied."""
    values = pd.to_numeric(scores, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise input_error("scores", f"score is missing or not finite for {[scores.index[i] for i in bad[:10]]}",
                          fix="every manager needs a score before ranking")
    rmin, _ = _competition_ranks(values[None, :])
    return pd.Series(rmin[0].astype(np.int64), index=scores.index, name="rank")


def scenario_table(S: pd.DataFrame, schemes: Mapping[str, Mapping[str, float] | pd.Series]) -> pd.DataFrame:
    """Score and rank of every manager under every weighting scheme.

    Columns are a MultiIndex (measure, scheme) with measure in {"score", "rank"}:
    ``table["rank"]`` is the managers × schemes rank table used by
    :func:`rank_correlations` and :func:`biggest_movers`.
    """
    if not schemes:
        raise input_error("schemes", "no weighting schemes given", fix="give at least one name → weights")
    parts: dict[tuple[str, str], pd.Series] = {}
    scored = {name: weighted_scores(S, w) for name, w in schemes.items()}
    for name, sc in scored.items():
        parts[("score", str(name))] = sc
    for name, sc in scored.items():
        parts[("rank", str(name))] = ranks(sc)
    table = pd.DataFrame(parts)
    table.columns = pd.MultiIndex.from_tuples(table.columns, names=["measure", "scheme"])
    return table


def _rank_frame(rank_table: pd.DataFrame) -> pd.DataFrame:
    if isinstance(rank_table.columns, pd.MultiIndex) and "rank" in rank_table.columns.get_level_values(0):
        return rank_table["rank"]
    return rank_table


def rank_correlations(rank_table: pd.DataFrame) -> pd.DataFrame:
    """Kendall τ-b and Spearman ρ (scipy.stats) for every pair of schemes.

    ``rank_table``: managers × schemes ranks, or the whole :func:`scenario_table`.
    One row per pair (scheme_a, scheme_b) with tau, tau_p, rho, rho_p.  A scheme
    under which all managers tie has no defined correlation: error.
    """
    from scipy import stats  # imported here: a run's checks need this module, not scipy

    r = _rank_frame(rank_table)
    names = [str(c) for c in r.columns]
    for c in r.columns:
        if r[c].nunique() < 2:
            raise input_error("rank_table", "all managers share one rank; correlation undefined",
                              where=f"scheme {c!r}", fix="drop this scheme from the comparison")
    rows = []
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            x, y = r.iloc[:, a].to_numpy(), r.iloc[:, b].to_numpy()
            tau = stats.kendalltau(x, y, variant="b")
            rho = stats.spearmanr(x, y)
            rows.append({"scheme_a": names[a], "scheme_b": names[b], "tau": float(tau.statistic),
                         "tau_p": float(tau.pvalue), "rho": float(rho.statistic), "rho_p": float(rho.pvalue)})
    return pd.DataFrame(rows, columns=["scheme_a", "scheme_b", "tau", "tau_p", "rho", "rho_p"])


def biggest_movers(rank_table: pd.DataFrame, k: int = 5) -> pd.DataFrame:
    """The k managers whose rank moves most across schemes.

    spread = max rank − min rank over the schemes; sorted by spread (largest
    first), then by best rank.  Columns: one per scheme, then best, worst, spread.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise input_error("k", f"k must be a whole number ≥ 1, got {k!r}")
    r = _rank_frame(rank_table).copy()
    out = r.copy()
    out["best"] = r.min(axis=1)
    out["worst"] = r.max(axis=1)
    out["spread"] = out["worst"] - out["best"]
    out = out.sort_values(["spread", "best"], ascending=[False, True], kind="stable")
    return out.head(k)


# --------------------------------------------------------------------------- robustness


def _check_positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise input_error(name, f"{name} must be a whole number ≥ 1, got {value!r}")
    return int(value)


def _dirichlet(w: np.ndarray, concentration: float, draws: int, seed: int) -> np.ndarray:
    """draws × len(w) weight vectors ~ Dirichlet(concentration · w) on the positive part.

    Zero weights stay exactly 0 in every draw (a zero-weighted indicator stays
    out); the Dirichlet is drawn over the positive entries only.
    """
    c = _as_float(concentration)
    if c is None or not math.isfinite(c) or c <= 0:
        raise input_error("concentration", f"concentration = {concentration!r} must be a finite number > 0",
                          fix="e.g. 100 (larger = draws closer to the base weights)")
    draws = _check_positive_int(draws, "draws")
    rng = np.random.default_rng(seed)
    out = np.zeros((draws, w.size))
    pos = np.flatnonzero(w > 0)
    if pos.size == 1:
        out[:, pos[0]] = 1.0
    else:
        out[:, pos] = rng.dirichlet(c * w[pos], size=draws)
    return out


def sample_weights(
    weights: Mapping[str, float] | pd.Series, concentration: float = 100.0, draws: int = 10_000, seed: int = 0
) -> pd.DataFrame:
    """Random weight vectors around ``weights`` (draws × indicators).

    w* ~ Dirichlet(κ·w) with κ = ``concentration`` and w normalised to sum 1:
    E[w*_j] = w_j and Var[w*_j] = w_j(1 − w_j)/(κ + 1), so a larger κ gives draws
    closer to w.  Indicators with weight 0 stay at 0.  Deterministic in ``seed``
    (numpy ``default_rng``).
    """
    w = direct_weights(weights)
    arr = _dirichlet(w.to_numpy(), concentration, draws, seed)
    return pd.DataFrame(arr, columns=w.index)


def _rank_chunks(
    S_arr: np.ndarray, W: np.ndarray, chunk: int, mask: np.ndarray | None = None, fallback: np.ndarray | None = None,
    scale: float = 1.0, offset: np.ndarray | None = None,
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(start, min_rank, max_rank) per block of draws: (chunk × p) @ (p × n) then rank.

    With ``mask`` (managers × indicators, 1 = present; S_arr has 0 where absent) the
    scores are re-normalised per manager: (W @ Sᵀ) / (W @ Mᵀ).  A draw in which none
    of a manager's present indicators has weight (only possible when a Dirichlet
    component underflows to 0) uses ``fallback`` (the base score) for that cell.
    """
    St = np.ascontiguousarray(S_arr.T)
    Mt = None if mask is None else np.ascontiguousarray(mask.T)
    for start in range(0, W.shape[0], chunk):
        Wc = W[start:start + chunk]
        scores = Wc @ St
        if Mt is not None:
            den = Wc @ Mt
            ok = den > 0
            scores = np.where(ok, scores / np.where(ok, den, 1.0), fallback[None, :])
        if scale != 1.0 or offset is not None:
            scores = scale * scores + (0.0 if offset is None else offset[None, :])
        rmin, rmax = _competition_ranks(scores)
        yield start, rmin, rmax


def _prepared(S: pd.DataFrame, w: pd.Series, missing: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """(scores array, mask or None, base scores) for the simulation."""
    renorm = _check_missing_mode(missing)
    arr = _score_matrix(S, list(w.index), allow_nan=renorm)
    wv = w.to_numpy()
    if renorm and np.isnan(arr).any():
        filled, mask = _masked(arr, wv, S.index)
        return filled, mask, (filled @ wv) / (mask @ wv)
    return arr, None, arr @ wv


def simulate_ranks(
    S: pd.DataFrame,
    weights: Mapping[str, float] | pd.Series,
    concentration: float = 100.0,
    draws: int = 10_000,
    seed: int = 0,
    chunk: int = 500,
    missing: str = "error",
) -> pd.DataFrame:
    """Rank of every manager (columns) under each weight draw (rows) of
    :func:`sample_weights` with the same arguments; competition ranks, 1 = best.
    ``missing`` as in :func:`weighted_scores`."""
    w = direct_weights(weights)
    S_arr, mask, base = _prepared(S, w, missing)
    W = _dirichlet(w.to_numpy(), concentration, draws, seed)
    chunk = _check_positive_int(chunk, "chunk")
    out = np.empty((W.shape[0], S_arr.shape[0]), dtype=np.int32)
    for start, rmin, _ in _rank_chunks(S_arr, W, chunk, mask, base):
        out[start:start + rmin.shape[0]] = rmin
    return pd.DataFrame(out, columns=S.index)


def _group_size(value: int | float, n: int, name: str) -> int:
    """A count (int, 1..n) or a fraction of n (float in (0, 1], rounded up)."""
    if isinstance(value, bool):
        raise input_error(name, f"{name} must be a count or a fraction, got {value!r}")
    if isinstance(value, (int, np.integer)):
        if not 1 <= value <= n:
            raise input_error(name, f"{name} = {value} managers, but there are {n}", fix=f"use 1..{n} or a fraction")
        return int(value)
    f = _as_float(value)
    if f is None or not math.isfinite(f) or not 0 < f <= 1:
        raise input_error(name, f"{name} = {value!r}: a fraction must lie in (0, 1]", fix="e.g. 0.2 for the top 20 %")
    return max(1, _ceil_count(f * n))


def robustness(
    S: pd.DataFrame,
    weights: Mapping[str, float] | pd.Series,
    concentration: float = 100.0,
    draws: int = 10_000,
    top: int | float = 0.2,
    bottom: int | float = 0.2,
    seed: int = 0,
    chunk: int = 500,
    missing: str = "error",
    scale: float = 1.0,
    offset: pd.Series | None = None,
) -> pd.DataFrame:
    """How stable each manager's rank is when the weights are perturbed.

    Draw ``draws`` weight vectors w* ~ Dirichlet(κ·w) (:func:`sample_weights`:
    mean w, larger κ = tighter; zero weights stay 0), score every manager under
    every draw in blocks of ``chunk`` draws ((chunk × p) @ (p × n)), rank each
    draw (competition ranks, 1 = best) and summarise per manager:

    * ``base_rank``: rank under w itself;
    * ``rank_p5``, ``rank_p50``, ``rank_p95``: percentiles of the simulated rank,
      inverted-CDF definition (smallest r with P(rank ≤ r) ≥ q, numpy
      ``method="inverted_cdf"``), so they are actual ranks;
    * ``rank_min``, ``rank_max``;
    * ``p_top``: share of draws with fewer than ``top`` managers scoring strictly
      higher (rank ≤ top); ``p_bottom``: share with fewer than ``bottom`` managers
      scoring strictly lower.  Ties at a cut-off are all in the group.

    ``top``/``bottom``: a count of managers (int) or a fraction of them (float in
    (0, 1], rounded up: 0.2 of 11 → 3).  Memory: the ranks are kept as
    n × draws small integers plus one block of chunk × n floats.  Deterministic
    in ``seed``, and independent of ``chunk``.

    ``missing="renormalise"``: a manager's missing indicators are left out and the
    drawn weights re-normalised over the rest, per draw (as in
    :func:`weighted_scores`); the default ``"error"`` raises on a missing cell.

    ``scale``/``offset``: the ranked score is ``scale × Σ w*·s + offset`` per manager
    (a review's total = split × hard score + (1 − split) × soft score: the weights
    perturbed are the hard part's, the soft part stays as it is).
    """
    w = direct_weights(weights)
    S_arr, mask, raw_base = _prepared(S, w, missing)
    off = np.zeros(S_arr.shape[0]) if offset is None else offset.reindex(S.index).fillna(0.0).to_numpy(dtype=float)
    base_scores = scale * raw_base + off
    n = S_arr.shape[0]
    top_k = _group_size(top, n, "top")
    bottom_k = _group_size(bottom, n, "bottom")
    chunk = _check_positive_int(chunk, "chunk")
    W = _dirichlet(w.to_numpy(), concentration, draws, seed)
    base, _ = _competition_ranks(base_scores[None, :])
    store = np.empty((n, W.shape[0]), dtype=np.min_scalar_type(n))
    in_top = np.zeros(n, dtype=np.int64)
    in_bottom = np.zeros(n, dtype=np.int64)
    for start, rmin, rmax in _rank_chunks(S_arr, W, chunk, mask, raw_base, scale, off):
        store[:, start:start + rmin.shape[0]] = rmin.T
        in_top += (rmin <= top_k).sum(axis=0)
        in_bottom += (rmax >= n - bottom_k + 1).sum(axis=0)
    store.sort(axis=1)
    N = W.shape[0]

    def pct(q: float) -> np.ndarray:
        return store[:, max(_ceil_count(q * N), 1) - 1].astype(np.int64)

    out = pd.DataFrame(
        {
            "base_rank": base[0].astype(np.int64),
            "rank_p5": pct(0.05),
            "rank_p50": pct(0.50),
            "rank_p95": pct(0.95),
            "rank_min": store[:, 0].astype(np.int64),
            "rank_max": store[:, -1].astype(np.int64),
            "p_top": in_top / N,
            "p_bottom": in_bottom / N,
        },
        index=S.index,
    )
    out.attrs.update({"draws": N, "concentration": float(concentration), "seed": seed,
                      "top": top_k, "bottom": bottom_k})
    return out
