"""Restatement: a closed period computed again, compared line by line with what was closed.

A closed period is never rewritten.  When it is run again (the data was corrected, an
order's amount changed), each manager's pay lines are matched by their stable
reference: what was closed, what the data now gives, the difference (rounded to the
fen).  A difference not yet booked becomes a **prior-period adjustment** of the next
open period: ``R-<period>-<manager>-<ref>-<n>``, reason code ``RESTATEMENT``, so the
manager is paid (or charged) the difference once, on a later statement, and the
closed statement they signed stays as it was.  Running the closed period again with
the same data books nothing more; a second correction books only what is new.

Scores and grades are compared too and listed (``scores``), but not booked: a closed
grade stands; only money moves, through adjustments.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from helpers.record.results import Results

__all__ = ["Restatement", "restate", "RESTATEMENT"]

RESTATEMENT = "RESTATEMENT"
FEN = 0.005


@dataclass
class Restatement:
    period: str
    into: str                      # the open period the differences are booked to
    lines: pd.DataFrame            # manager_id, name, team_id, ref, component, month, item, closed, now, difference, booked_before, to_book
    scores: pd.DataFrame           # manager_id, name, team_id, closed_total, now_total, closed_grade, now_grade
    bookings: list[dict]           # adjustment rows to insert
    changed_inputs: list[str]

    @property
    def managers(self) -> list[str]:
        return sorted(self.lines.loc[self.lines["difference"].abs() >= FEN, "manager_id"].unique())


def _r(x: float) -> float:
    v = round(float(x), 2)
    return 0.0 if v == 0 else v


def restate(closed: Results, now: Results, booked: pd.DataFrame, into: str, changed_inputs: list[str],
            date: str) -> Restatement:
    """Compare ``now`` with ``closed`` (see the module's docstring).

    ``booked``: the adjustments already in the store (any period); those of source
    ``restatement`` relating to this period count as booked before.  ``into``: the
    open period new bookings go to."""
    key = ["manager_id", "ref"]
    c = closed.pay_lines.set_index(key)
    n = now.pay_lines.set_index(key)
    idx = c.index.union(n.index)
    lines = pd.DataFrame(index=idx)
    for col in ("component", "month", "item"):
        lines[col] = n[col].reindex(idx).fillna(c[col].reindex(idx))
    lines["closed"] = c["subtotal"].reindex(idx).astype(float).fillna(0.0)
    lines["now"] = n["subtotal"].reindex(idx).astype(float).fillna(0.0)
    lines["difference"] = (lines["now"] - lines["closed"]).map(_r)
    prior = booked[(booked["source"] == "restatement") & (booked["relates_to_period"] == closed.period)] \
        if len(booked) else booked
    before = prior.groupby(["manager_id", "relates_to_ref"])["amount"].sum() if len(prior) else pd.Series(dtype=float)
    before.index = before.index.set_names(key) if len(before) else before.index
    lines["booked_before"] = before.reindex(idx).fillna(0.0).astype(float).map(_r)
    lines["to_book"] = (lines["difference"] - lines["booked_before"]).map(_r)
    lines = lines.reset_index()
    who = pd.concat([closed.grades, now.grades]).drop_duplicates("manager_id").set_index("manager_id")
    lines.insert(1, "name", lines["manager_id"].map(who["name"]))
    lines.insert(2, "team_id", lines["manager_id"].map(who["team_id"]))
    lines = lines.sort_values(["team_id", "manager_id", "ref"], ignore_index=True)

    g = closed.grades.set_index("manager_id")
    h = now.grades.set_index("manager_id")
    ids = g.index.union(h.index)
    scores = pd.DataFrame({"name": who["name"].reindex(ids), "team_id": who["team_id"].reindex(ids),
                           "closed_total": g["total"].reindex(ids), "now_total": h["total"].reindex(ids),
                           "closed_grade": g["grade"].reindex(ids), "now_grade": h["grade"].reindex(ids)})
    moved = (scores["closed_total"].astype(float).round(2) != scores["now_total"].astype(float).round(2)) | \
        (scores["closed_grade"].astype(str) != scores["now_grade"].astype(str))
    scores = scores[moved].rename_axis("manager_id").reset_index()

    counts = prior.groupby(["manager_id", "relates_to_ref"]).size() if len(prior) else pd.Series(dtype=int)
    why = ", ".join(changed_inputs) if changed_inputs else "recalculated"
    bookings = []
    for r in lines[lines["to_book"].abs() >= FEN].itertuples(index=False):
        k = int(counts.get((r.manager_id, r.ref), 0)) + 1
        bookings.append({
            "adjustment_id": f"R-{closed.period}-{r.manager_id}-{r.ref}-{k}", "manager_id": r.manager_id,
            "period": into, "amount": float(r.to_book), "indicator": None, "credit": None,
            "reason_code": RESTATEMENT, "reason": f"{closed.period} {r.ref}: {why}",
            "approved_by": None, "date": date, "source": "restatement",
            "relates_to_period": closed.period, "relates_to_ref": r.ref})
    return Restatement(closed.period, into, lines, scores, bookings, list(changed_inputs))
