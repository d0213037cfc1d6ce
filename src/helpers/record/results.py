"""A period's results as the record keeps them: one bundle, four frames.

``grades`` (one row per manager: status, hard, soft, total, grade, ranks, payout),
``targets`` and ``scores`` (per manager and indicator) and ``pay_lines`` (every
line of every pay statement, each with a stable reference).  The quarterly review
writes its team's bundle beside its report (``results.json``); ``close`` freezes the
published bundles of every team into the store; a run of a closed period computes the
bundle again and compares it with the closed one (:mod:`helpers.record.restate`).

**Stable line references** (a manager names one when disputing a line of their
statement): ``I.<indicator>`` an indicator of the scorecard, ``T.hard`` / ``T.soft``
/ ``T.total`` the scores, ``P.<component>.<month>.<n>`` the n-th line of a pay
component in a month (the period's label when pay is settled per period; n counts
from 1 in the plan's order, e.g. the tiers of commission), ``A.<id>`` an adjustment.
The same plan gives the same references on every run, so a closed line and the line
a later run computes are matched by their reference.

**Printed codes**: a statement prints each reference as its code, :func:`ref_code`
(``P.commission.2026-07.1`` → ``P-3DBDF6``: the kind's letter and the first six hex
digits of the reference's SHA-1), a short language-free number with no programme
names in it; the files HR keeps accept either the reference or its code.

**Statement version**: the first 12 hex digits of the SHA-256 of a manager's figures
(period, plan version, scores, targets, pay lines rounded to the fen, adjustments):
the same figures give the same version in either language and on every machine; the
sign-off block names it, so a signature refers to exactly one set of figures.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.core.refs import REF_CODE, ref_code  # noqa: F401 - the record's references, printed as codes

__all__ = ["Results", "COLUMNS", "line_refs", "ref_code", "REF_CODE", "FORMAT", "read_results", "concat_results", "records"]

FORMAT = 1
COLUMNS: dict[str, list[str]] = {
    "grades": ["manager_id", "name", "team_id", "status", "active_fraction", "hard", "soft", "total", "grade",
               "rank_team", "rank_company", "payout"],
    "targets": ["manager_id", "indicator", "target", "source"],
    "scores": ["manager_id", "indicator", "kind", "weight", "actual", "attainment", "score"],
    "pay_lines": ["manager_id", "ref", "month", "component", "item", "quantity", "rate", "subtotal", "explanation"],
}


def line_refs(lines: pd.DataFrame, period: str) -> list[str]:
    """``P.<component>.<month>.<n>`` for each line of one manager's statement, in order
    (a line of the whole period, e.g. the grade factor, takes the period's label)."""
    seen: dict[tuple[str, str], int] = {}
    out = []
    for comp, month in zip(lines["component"].astype(str), lines["month"].fillna("").astype(str)):
        month = month or period
        n = seen[(comp, month)] = seen.get((comp, month), 0) + 1
        out.append(f"P.{comp}.{month}.{n}")
    return out


def _clean(v: Any, text_inf: bool = True) -> Any:
    """A cell as plain Python: None for missing; ±inf as "inf"/"-inf" text for JSON
    (``text_inf``), else as a float (a database stores it as a number)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and not math.isfinite(v):
        if math.isnan(v):
            return None
        return ("inf" if v > 0 else "-inf") if text_inf else v
    if hasattr(v, "item"):  # numpy scalars
        return _clean(v.item(), text_inf)
    return v


def records(df: pd.DataFrame, text_inf: bool = True) -> list[dict[str, Any]]:
    """``df``'s rows as dicts of plain Python values (see :func:`_clean`)."""
    return [{k: _clean(v, text_inf) for k, v in row.items()} for row in df.to_dict("records")]


def _frame(rows: list[dict[str, Any]], cols: list[str]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=cols)
    for c in df.columns:
        if df[c].map(lambda v: v in ("inf", "-inf")).any():
            df[c] = pd.to_numeric(df[c].replace({"inf": math.inf, "-inf": -math.inf}))
    return df


def _fen(x: Any) -> str:
    """A number as the version hash sees it: money and scores to 2 decimals (the fen)."""
    try:
        f = float(x)
    except (TypeError, ValueError):
        return "" if x is None else str(x)
    if math.isnan(f):
        return ""
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    r = round(f, 2)
    return f"{0.0 if r == 0 else r:.2f}"


@dataclass
class Results:
    """One period's results (see the module's docstring)."""

    period: str
    grades: pd.DataFrame
    targets: pd.DataFrame
    scores: pd.DataFrame
    pay_lines: pd.DataFrame
    plan_version: str = ""
    language: str = "zh"
    teams: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name, cols in COLUMNS.items():
            df = getattr(self, name)
            missing = [c for c in cols if c not in df.columns]
            if missing:
                raise ValueError(f"results.{name} lacks column(s) {missing}")
            setattr(self, name, df[cols].reset_index(drop=True))

    @property
    def managers(self) -> list[str]:
        return list(self.grades["manager_id"].astype(str))

    def of(self, manager_id: str) -> dict[str, pd.DataFrame]:
        return {n: getattr(self, n)[getattr(self, n)["manager_id"] == manager_id] for n in COLUMNS}

    def version(self, manager_id: str, adjustments: pd.DataFrame | None = None) -> str:
        """The statement version of ``manager_id`` (see the module's docstring)."""
        parts = [self.period, self.plan_version]
        mine = self.of(manager_id)
        g = mine["grades"]
        for c in ("status", "hard", "soft", "total", "grade", "payout"):
            parts.append(f"{c}={_fen(g[c].iloc[0]) if len(g) else ''}")
        for _, r in mine["scores"].sort_values("indicator").iterrows():
            parts.append(f"I.{r['indicator']}={_fen(r['weight'])}|{_fen(r['actual'])}|{_fen(r['score'])}")
        for _, r in mine["targets"].sort_values("indicator").iterrows():
            parts.append(f"target.{r['indicator']}={_fen(r['target'])}")
        for _, r in mine["pay_lines"].sort_values("ref").iterrows():
            parts.append(f"{r['ref']}={_fen(r['subtotal'])}")
        if adjustments is not None and len(adjustments):
            a = adjustments[adjustments["manager_id"] == manager_id].sort_values("adjustment_id")
            for _, r in a.iterrows():
                parts.append(f"A.{r['adjustment_id']}={_fen(r['amount'])}|{r.get('indicator') or ''}|{_fen(r.get('credit'))}")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]

    def to_json(self) -> str:
        doc = {"format": FORMAT, "period": self.period, "plan_version": self.plan_version,
               "language": self.language, "teams": self.teams}
        doc |= {name: records(getattr(self, name)) for name in COLUMNS}
        return json.dumps(doc, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "Results":
        doc = json.loads(text)
        if doc.get("format") != FORMAT:
            raise ValueError(f"results format {doc.get('format')!r} is not {FORMAT}")
        return cls(doc["period"], *(_frame(doc[n], COLUMNS[n]) for n in COLUMNS), doc.get("plan_version", ""),
                   doc.get("language", "zh"), list(doc.get("teams", [])))


def read_results(path: str | Path) -> Results:
    return Results.from_json(Path(path).read_text(encoding="utf-8"))


def concat_results(parts: list[Results]) -> Results:
    """The teams' bundles of one period as one (each manager once, the first team's)."""
    if not parts:
        raise ValueError("no results")
    frames = {}
    for n in COLUMNS:
        df = pd.concat([getattr(p, n) for p in parts], ignore_index=True)
        key = ["manager_id"] + {"grades": [], "targets": ["indicator"], "scores": ["indicator"],
                                "pay_lines": ["ref"]}[n]
        frames[n] = df.drop_duplicates(key, keep="first")
    teams = sorted({t for p in parts for t in p.teams})
    return Results(parts[0].period, **frames, plan_version=parts[0].plan_version, language=parts[0].language,
                   teams=teams)
