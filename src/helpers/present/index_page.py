"""``index.html`` of a period folder, built from its manifest (everything published).

Cross-team reports first; then every team grouped by region with one cell per
notebook: *done* (linked), *earlier version* (linked; the last run of that notebook
failed, the failure is named beside it), *failed* (never published) or — (not run for
that team).  A filter box (team, id or region) and, when a team report is stale or
failed, a "failed only" switch; the one inline script is allowed by its SHA-256 in the
page's Content-Security-Policy.  The page is a Jinja template file
(``templates/index/index.html.j2``) rendered with autoescaping: every name is text.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any, Sequence

from helpers.present.html import render
from helpers.present.i18n import t

COMPANY = "_company"


@lru_cache(maxsize=1)
def report_css() -> str:
    """The reports' stylesheet (read without importing nbconvert, which takes seconds)."""
    return resources.files("helpers.present").joinpath("templates/kpi_report/report.css").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def script() -> str:
    """The index's one script: a filter box over the team rows (no data leaves the page)."""
    return resources.files("helpers.present").joinpath("templates/index/filter.js").read_text(encoding="utf-8")


def script_hash(text: str) -> str:
    """CSP source expression allowing exactly this inline script: ``sha256-`` + base64(SHA-256(UTF-8 text))
    (W3C Content Security Policy Level 3, section 8.4 "hash-source")."""
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def notebook_title(nb: str, lang: str) -> str:
    try:
        return t(f"notebook.{nb}", lang)
    except KeyError:
        return nb


def _state(entry: dict[str, Any] | None) -> str:
    return "none" if entry is None else str(entry.get("status", "failed"))


def index_html(manifest: dict[str, Any], language: str, title: str, notebook_order: Sequence[str] = (),
               record: dict[str, Any] | None = None) -> str:
    """The index page for a manifest in format 2 (see :mod:`helpers.run.publish`).

    ``record`` (from the results store): ``closed`` / ``closed_at`` and, per team,
    ``signoff`` = {n, signed, refused}: a column with each team's sign-off status and
    the period's state among the facts."""
    lang = language
    reports = manifest.get("reports", [])
    by_key = {(e["team"], e["notebook"]): e for e in reports}
    order = {nb: i for i, nb in enumerate(notebook_order)}

    def nb_sort(nb: str) -> tuple[int, str]:
        return (order.get(nb, len(order)), nb)

    cross_nbs = sorted({e["notebook"] for e in reports if e["team"] == COMPANY}, key=nb_sort)
    team_nbs = sorted({e["notebook"] for e in reports if e["team"] != COMPANY}, key=nb_sort)
    cross = []
    for nb in cross_nbs:
        e = by_key[(COMPANY, nb)]
        st = _state(e)
        cross.append({"label": notebook_title(nb, lang), "state": st, "error": _error(e),
                      "href": e.get("html") if st in ("ok", "stale") else ""})
    teams: dict[str, dict[str, Any]] = {}
    for e in reports:
        if e["team"] != COMPANY:
            teams.setdefault(e["team"], {"name": e.get("team_name") or e["team"], "region": e.get("region") or ""})
    groups: dict[str, list[dict[str, Any]]] = {}
    for team in sorted(teams, key=lambda x: (teams[x]["region"], x)):
        cells = []
        for nb in team_nbs:
            e = by_key.get((team, nb))
            st = _state(e)
            cells.append({"state": st, "href": e.get("html") if e and st in ("ok", "stale") else "", "error": _error(e)})
        name, region = teams[team]["name"], teams[team]["region"]
        so = (record or {}).get("signoff", {}).get(team)
        groups.setdefault(region, []).append({
            "team": team, "name": name, "region": region, "cells": cells,
            "signoff": _signoff_text(so, lang) if so else "",
            "failed": any(c["state"] in ("stale", "failed") for c in cells),
            "search": " ".join([team, name, region]).lower(),
        })
    counts = {s: sum(1 for e in reports if e.get("status") == s) for s in ("ok", "stale", "failed")}
    failures = [{"where": _where(e, lang), "error": _error(e), "copy_href": e["failure"]["copy"],
                 "when": _utc(e["failure"].get("when", "")),
                 "state_label": t("index.stale" if e.get("status") == "stale" else "index.failed", lang)}
                for e in reports if e.get("failure")]
    text = script()
    return render(
        "index/index.html.j2",
        lang=lang,
        title=title,
        heading=t("index.title", lang),
        period=manifest.get("period", ""),
        css=report_css(),
        script=text,
        script_hash=script_hash(text),
        facts=[(t("report.period", lang), manifest.get("period", "")),
               (t("index.updated", lang), datetime.now().date().isoformat())] + _record_facts(record, lang),
        signoff_col=t("index.signoff", lang) if record is not None and record.get("signoff") else "",
        summary=t("index.summary_all", lang, ok=counts["ok"], stale=counts["stale"], failed=counts["failed"]),
        notebooks=[{"title": notebook_title(nb, lang)} for nb in team_nbs],
        groups=[{"region": region or "—", "anchor": f"region-{i + 1}", "rows": rows,
                 "count_label": t("index.teams_in_region.one" if len(rows) == 1 else "index.teams_in_region", lang,
                                n=len(rows))}
                for i, (region, rows) in enumerate(groups.items())],
        ok_label=t("index.ok", lang),
        failed_label=t("index.failed", lang),
        stale_label=t("index.stale", lang),
        team_failed=any(row["failed"] for rows in groups.values() for row in rows),
        failures=failures,
        failures_title=t("index.failures_title", lang),
        failed_note=t("index.failed_note", lang),
        copy_label=t("index.executed_copy", lang),
        colon=t("word.colon", lang),
        col_region=t("report.region", lang),
        col_team=t("report.team", lang),
        cross=cross,
        cross_title=t("index.cross_team", lang),
        teams_title=t("index.teams", lang),
        filter_label=t("index.filter", lang),
        filter_placeholder=t("index.filter_placeholder", lang),
        only_failed_label=t("index.only_failed", lang),
    )


def _signoff_text(so: dict[str, int], lang: str) -> str:
    text = t("sign.summary", lang, signed=so["signed"], n=so["n"])
    return text + (t("sign.refused", lang, refused=so["refused"]) if so.get("refused") else "")


def _record_facts(record: dict[str, Any] | None, lang: str) -> list[tuple[str, str]]:
    if record is None:
        return []
    state = t("index.closed", lang, at=str(record.get("closed_at") or "")[:10]) if record.get("closed") \
        else t("index.open", lang)
    so = record.get("signoff") or {}
    facts = [(t("index.state", lang), state)]
    if so:
        total = {"n": sum(x["n"] for x in so.values()), "signed": sum(x["signed"] for x in so.values()),
                 "refused": sum(x["refused"] for x in so.values())}
        facts.append((t("index.signoff", lang), _signoff_text(total, lang)))
    return facts


def _utc(stamp: object) -> str:
    """``2026-12-03T07:50:12+00:00`` → ``2026-12-03 07:50 UTC`` (failures are stamped in UTC)."""
    text = str(stamp or "")
    return f"{text[:16].replace('T', ' ')} UTC" if len(text) >= 16 else text


def _error(entry: dict[str, Any] | None) -> str:
    return str((entry or {}).get("failure", {}).get("error", ""))


def _where(entry: dict[str, Any], lang: str) -> str:
    nb = notebook_title(entry["notebook"], lang)
    if entry["team"] == COMPANY:
        return nb
    return f"{entry.get('team_name') or entry['team']} ({entry['team']}) · {nb}"
