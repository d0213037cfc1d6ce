"""The restatement report of a closed period, in the report's language (one standalone HTML file)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from helpers.present.html import render
from helpers.present.i18n import t
from helpers.present.statement import money
from helpers.core.refs import ref_code

__all__ = ["restatement_html"]


def _money(x: Any) -> str:
    """Money to the fen (the statement's rule: half up); '—' for none."""
    return "—" if x is None or pd.isna(x) else money(x)


def restatement_html(rs: Any, closed: dict[str, Any], title: str, language: str) -> str:
    """``rs``: :class:`helpers.record.restate.Restatement`; ``closed``: the period's row of the store."""
    lang = language
    lines = rs.lines[rs.lines["difference"].abs() >= 0.005]
    booked_now = {(b["manager_id"], b["relates_to_ref"]): b["amount"] for b in rs.bookings}
    rows = []
    for r in lines.itertuples(index=False):
        rows.append([f"{r.name} ({r.manager_id})", str(r.team_id), ref_code(r.ref),  # as the statement printed it
                     str(r.item or ""), _money(r.closed),
                     _money(r.now), _money(r.difference), _money(r.booked_before),
                     _money(booked_now.get((r.manager_id, r.ref), 0.0))])
    total = [t("rs.total", lang), "", "", "", _money(lines["closed"].sum()), _money(lines["now"].sum()),
             _money(lines["difference"].sum()), _money(lines["booked_before"].sum()),
             _money(sum(b["amount"] for b in rs.bookings))]
    when = str(closed.get("closed_at") or "?").replace("T", " ")[:16] + (" UTC" if closed.get("closed_at") else "")
    intro = [t("rs.closed", lang, period=rs.period, closed_at=when,
               by=closed.get("closed_by") or "?"),
             t("rs.recomputed", lang, period=rs.period),
             t("rs.inputs", lang, inputs=", ".join(rs.changed_inputs)) if rs.changed_inputs else t("rs.no_inputs", lang)]
    if lines.empty:
        intro.append(t("rs.nothing", lang))
    elif rs.bookings:
        intro.append(t("rs.booked", lang, total=_money(sum(b["amount"] for b in rs.bookings)), into=rs.into))
    else:
        intro.append(t("rs.all_booked", lang))
    scores = [[f"{r.name} ({r.manager_id})", str(r.team_id), "",
               "—" if pd.isna(r.closed_total) else f"{r.closed_total:.1f}",
               "—" if pd.isna(r.now_total) else f"{r.now_total:.1f}", f"{r.closed_grade} → {r.now_grade}"]
              for r in rs.scores.itertuples(index=False)]
    for s in scores:
        del s[2]
    head = [t(f"rs.col.{k}", lang) for k in ("manager", "team", "ref", "item", "closed", "now", "difference",
                                                  "before", "booked")]
    scores_head = [t("rs.col.manager", lang), t("rs.col.team", lang), t("rs.col.total_closed", lang),
                   t("rs.col.total_now", lang), t("rs.col.grade", lang)]
    return render("restatement/restatement.html.j2", lang="zh-CN" if lang == "zh" else "en",
                  heading=t("rs.heading", lang, period=rs.period), title=title, intro=intro,
                  h_lines=t("rs.h.lines", lang), head=head, rows=rows, total=total,
                  h_scores=t("rs.h.scores", lang), scores_note=t("rs.scores_note", lang), scores_head=scores_head,
                  scores=scores, footer=t("rs.footer", lang, store=closed.get("store", "")))
