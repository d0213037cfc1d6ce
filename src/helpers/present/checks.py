"""The checks of the indicator library in words: SMART findings and data availability.

:mod:`helpers.kpis.indicators` returns codes with values (:class:`~helpers.kpis.indicators.Issue`);
this module turns them into the sentences of the report's language, from the catalog
(``smart.*`` and ``avail.*`` in ``locale/02_kpi_decomposition.yaml``).
"""

from __future__ import annotations

import math

import pandas as pd

from helpers.kpis.indicators import Issue, SmartFinding
from helpers.present.i18n import t


def _range_text(unit: str, v: float) -> str:
    if math.isinf(v):
        return "∞"
    return f"{v:.0%}" if unit == "ratio" else f"{v:g}"


def issue_text(issue: Issue, language: str) -> str:
    """One SMART issue as a sentence in ``language``."""
    v = dict(issue.values)
    key = f"smart.{issue.code}"
    if issue.code == "not_stated":
        return t(key, language, attribute=t(f"smart.{v['attribute']}", language))
    if issue.code == "segment_mismatch":
        return t(key, language, segment=v["segment"], applies=", ".join(v["applies"]))
    if issue.code == "growth_range":
        return t(key, language, target=f"{v['target']:+.0%}")
    if issue.code == "target_range":
        unit, target = v["unit"], float(v["target"])
        shown = f"{target:.0%}" if unit == "ratio" else f"{target:g}"
        return t(key, language, target=shown, lo=_range_text(unit, v["lo"]), hi=_range_text(unit, v["hi"]))
    if issue.code == "weight_small":
        return t(key, language, weight=f"{v['weight']:.1%}", min=f"{v['min']:.0%}")
    if issue.code == "period_longer":
        return t(key, language, period=t(f"period.{v['period']}", language), review=t(f"period.{v['review']}", language))
    return t(key, language)


def finding_reason(finding: SmartFinding, language: str) -> str:
    """Why one SMART attribute failed ("" when it passed)."""
    return "; ".join(issue_text(i, language) for i in finding.issues)


def smart_reasons(frame: pd.DataFrame, language: str) -> pd.Series:
    """Per row of :func:`helpers.kpis.indicators.smart_frame`: "Attribute: why; …" for the failing attributes."""
    def row(findings: tuple[SmartFinding, ...]) -> str:
        return "; ".join(t("smart.reason", language, attribute=t(f"smart.{f.attribute}", language),
                           reason=finding_reason(f, language)) for f in findings)
    return pd.Series([row(f) for f in frame["findings"]], index=frame.index, dtype="str")


def availability_reasons(frame: pd.DataFrame, language: str) -> pd.Series:
    """Per row of :func:`helpers.kpis.indicators.data_availability`: why it cannot be
    computed (for every manager), "" when it can."""
    out = []
    for r in frame.itertuples(index=False):
        if r.status == "external":
            out.append(t("avail.external", language))
        elif r.status == "missing":
            out.append(t("avail.missing", language, missing=r.missing))
        elif r.status == "partial":
            out.append(t("avail.partial", language, k=int(r.managers) - int(r.with_value), n=int(r.managers)))
        else:
            out.append("")
    return pd.Series(out, index=frame.index, dtype="str")
