"""Who is reviewed by which team for a period, and for what share of it.

The workbook's one rule for rosters (every notebook and the target engine use it): a
manager belongs to the team they are in during their *last* employed month of the
period (a mover is reviewed by the new team), pro-rated by the share of the period's
days they were employed.  Facts only; the reader's note is worded by the context
(:func:`helpers.context.workbook.roster_notes`).
"""

from __future__ import annotations

import pandas as pd

from helpers.data.tables import Dataset
from helpers.periods import ReviewPeriod, month_label

__all__ = ["ROSTER_COLUMNS", "reviewed_teams", "team_roster"]


def _final_spans(ds: Dataset, period: ReviewPeriod) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(every membership span clipped to the period and to employment, the span that
    decides each manager's team: the one holding their last employed month)."""
    months = period.months
    mem = ds.membership()
    m = ds.managers.set_index("manager_id")
    rows = []
    first_m, last_m = months[0], months[-1]
    for r in mem.itertuples(index=False):
        end = r.end if pd.notna(r.end) else last_m
        lo, hi = max(r.start, first_m), min(end, last_m)
        if lo > hi:
            continue
        rows.append((r.manager_id, r.team_id, lo, hi))
    spans = pd.DataFrame(rows, columns=["manager_id", "team_id", "lo", "hi"])
    if spans.empty:
        return spans, spans
    # employment clipped to the period
    hire = m["hire_date"].reindex(spans["manager_id"]).to_numpy()
    leave = m["leave_date"].reindex(spans["manager_id"]).to_numpy()
    spans["active_from"] = pd.Series(hire).clip(lower=period.start).to_numpy()
    spans["active_to"] = pd.Series(leave).fillna(period.end).clip(upper=period.end).to_numpy()
    spans = spans[spans["active_from"] <= spans["active_to"]]
    # the team of the last employed month decides
    spans["last_emp_month"] = spans["active_to"].dt.to_period("M")
    ok = (spans["lo"] <= spans["last_emp_month"]) & (spans["last_emp_month"] <= spans["hi"])
    final = spans[ok].drop_duplicates("manager_id", keep="last")
    return spans, final


def reviewed_teams(ds: Dataset, period: ReviewPeriod) -> dict[str, int]:
    """team_id → number of managers it reviews for ``period`` (teams with nobody are absent)."""
    _, final = _final_spans(ds, period)
    return {str(k): int(v) for k, v in final["team_id"].value_counts().items()} if len(final) else {}


def team_roster(ds: Dataset, team_id: str | None, period: ReviewPeriod) -> pd.DataFrame:
    """Managers reviewed with ``team_id`` for ``period`` (``None``: every team's, each
    row with the team that reviews the manager).

    A manager belongs to the team they are in during their *last* employed month of
    the period (a mover is reviewed by the new team).  ``fraction`` is the share of the
    period's days the manager was employed (hire and leave dates inclusive), used for
    pro-rating.  ``moved_from`` / ``moved_month``: the earlier team and the first month
    in the reviewing team, for a manager who changed team in the period (else empty).

    Columns: manager_id, name, team_id, region, active_from, active_to, fraction,
    moved_from, moved_month.  :func:`roster_notes` turns them into the reader's note.
    """
    m = ds.managers.set_index("manager_id")
    spans, final = _final_spans(ds, period)
    if final.empty:
        return pd.DataFrame(columns=ROSTER_COLUMNS)
    mine = (final if team_id is None else final[final["team_id"] == team_id]).copy()
    other = spans[["manager_id", "team_id"]].rename(columns={"team_id": "other"})
    moved = mine[["manager_id", "team_id"]].merge(other, on="manager_id")
    moved = moved[moved["other"] != moved["team_id"]].drop_duplicates("manager_id").set_index("manager_id")["other"]
    earlier = moved.to_dict()
    mine["moved_from"] = [str(earlier.get(mid, "")) for mid in mine["manager_id"]]
    mine["moved_month"] = [month_label(lo) if mf else "" for lo, mf in zip(mine["lo"], mine["moved_from"])]
    mine["fraction"] = ((mine["active_to"] - mine["active_from"]).dt.days + 1) / period.days
    mine["name"] = m["name"].reindex(mine["manager_id"]).to_numpy()
    mine["region"] = m["region"].reindex(mine["manager_id"]).to_numpy()
    return mine[ROSTER_COLUMNS].sort_values("manager_id").reset_index(drop=True)


ROSTER_COLUMNS = ["manager_id", "name", "team_id", "region", "active_from", "active_to", "fraction",
                  "moved_from", "moved_month"]
