"""Adjustments in words: each a line of a pay statement (04's statement, each manager's own statement)."""

from __future__ import annotations

from typing import Callable

import pandas as pd

from helpers.present.i18n import t

__all__ = ["adjustment_words"]


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and pd.isna(v)) or (isinstance(v, str) and not v.strip())


def adjustment_words(adj: pd.DataFrame, language: str, name_of: Callable[[str], str] = str) -> pd.DataFrame:
    """``adj`` (rows of the store's ``adjustments``) as ``ref, item, explanation, amount``:
    a prior-period adjustment names the period and line it restates, an accepted dispute
    the line disputed, a manual one its reason code; the explanation gives the reason,
    the approver and the date.  An indicator credit has amount 0 (it moved the actual)."""
    rows = []
    for r in adj.to_dict("records"):
        src = r.get("source")
        if not _blank(r.get("indicator")) and not _blank(r.get("credit")):
            item = t("adj.item.credit", language, indicator=name_of(str(r["indicator"])), credit=f"{float(r['credit']):+,g}")
        elif src == "restatement":
            item = t("adj.item.restatement", language, period=r.get("relates_to_period"), ref=r.get("relates_to_ref"))
        elif src == "dispute":
            item = t("adj.item.dispute", language, period=r.get("relates_to_period"), ref=r.get("relates_to_ref"))
        else:
            item = t("adj.item.file", language, code=r.get("reason_code"))
        reason = "" if _blank(r.get("reason")) else str(r["reason"])
        by = "—" if _blank(r.get("approved_by")) else str(r["approved_by"])
        when = "—" if _blank(r.get("date")) else str(r["date"])
        rows.append({"ref": f"A.{r['adjustment_id']}", "item": item,
                     "explanation": t("adj.explain", language, reason=reason or r.get("reason_code") or "", by=by, date=when),
                     "amount": 0.0 if _blank(r.get("amount")) else float(r["amount"])})
    return pd.DataFrame(rows, columns=["ref", "item", "explanation", "amount"])
