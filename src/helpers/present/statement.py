"""The per-manager pay & score statement (个人考核与薪酬确认单): one self-contained HTML
page per manager that prints on A4 (inline CSS, no script, no external resource).

:func:`statement_html` takes a plain data dict (numbers as raw floats or None, texts
already in the report's language) and writes it in words: the header, the scorecard,
the soft ratings, the score steps (hard, soft, the split, grade, ranks), the pay lines,
the adjustments, the total pay, the sign-off block and how to dispute a line.

Money is shown to the fen, rounded half up; a total is computed from the unrounded
amounts and then rounded, and when it differs from the sum of the rounded lines a
"rounding difference" line makes the column add up as printed.  A missing value is
"—" (with the reason when the data gives one); no ``nan``, ``None`` or ``∞`` reaches
the page.  Every value is escaped by the template (autoescaping).

The data dict::

    title, period, status ("ok" | "no_data"), closed, closed_at, version, plan_version,
    manager {id, name, team, region},
    totals {hard, soft, total, split, grade, rank_team, team_n, rank_company, company_n},
    indicators [{ref, name, unit, weight, target, actual, attainment, score, note}],
    soft [{ref, name, rating}],
    pay_lines [{ref, item, explanation, subtotal}], payout,
    adjustments [{ref, kind, relates_to_period, relates_to_ref, reason_code, reason,
                  approved_by, date, amount, indicator, indicator_name, credit}],
    pay_total, signoff {status, date, version}, dispute {contact, days}

``payout`` and ``pay_total`` are checked against the lines (a statement whose total is
not the sum of its lines is refused: ``ValueError``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

from helpers.core.money import pay_totals, to_fen
from helpers.present.display import fmt, percent
from helpers.present.html import render
from helpers.present.i18n import LANGUAGES, join, t
from helpers.core.refs import ref_code

__all__ = ["attainment_text", "finite_or_none", "money", "sections", "sections_css", "sections_html", "statement_html", "to_fen"]

_TOLERANCE = 0.005  # half a fen: a given total further than this from its lines is an error
_CSS_SAFE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@lru_cache(maxsize=1)
def _css() -> str:
    return resources.files("helpers.present").joinpath("templates/statement/statement.css").read_text(encoding="utf-8")


# --- values -------------------------------------------------------------------------


def finite_or_none(x: Any) -> float | None:
    """``x`` as a finite float, or None (None, NaN, ±∞, pandas NA, text, booleans): what a
    person may read as a number (statements, the payroll workbook)."""
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


_number = finite_or_none


def _text(x: Any) -> str:
    """A text value; None, NaN and blank → ""."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    s = str(x).strip()
    return "" if s.lower() in {"nan", "none", "<na>", "nat"} else s


def money(x: float | Decimal, signed: bool = False) -> str:
    """Money to the fen with thousands separators: ``27,922.78``; ``+500.00`` when ``signed``."""
    q = to_fen(x)
    return f"{q:+,.2f}" if signed and q != 0 else f"{q:,.2f}"


def _ref(x: Any) -> list[str]:
    """The printed code of a reference (:func:`helpers.record.results.ref_code`: a short
    language-free number, no programme names), as a list of parts for the template
    (which joins them with ``<wbr>``; copied text stays the code)."""
    text = _text(x)
    return [ref_code(text)] if text else ["—"]


def _weight(w: float | None) -> str:
    """A weight as a percent: whole when whole (30%), else one decimal (37.5%)."""
    if w is None:
        return "—"
    return percent(w, 0) if abs(w * 100 - round(w * 100)) < 1e-9 else percent(w, 1)


def _score(x: float | None) -> str:
    return "—" if x is None else fmt(x, "score")


def _value(x: Any, unit: str, language: str) -> str:
    v = _number(x)
    if v is None:
        return "—"
    if unit not in {"currency", "count", "ratio", "score", "points"}:
        unit = "score" if not float(v).is_integer() else "count"
    return fmt(v, unit, language)


def _exact(x: Any, unit: str, language: str) -> str:
    """A scorecard target or actual: money to the fen (the base a commission line computes
    on, so the page can be recomputed with a calculator), other units as :func:`_value`."""
    v = _number(x)
    return money(v) if unit == "currency" and v is not None else _value(x, unit, language)


def _signed_value(x: float, unit: str, language: str) -> str:
    s = _value(abs(x), unit, language)
    return ("-" if x < 0 else "+") + s


# --- sections -----------------------------------------------------------------------


def _indicator_rows(indicators: Iterable[Mapping[str, Any]], language: str) -> tuple[list[dict], bool, list]:
    """Rows of the scorecard; whether a weight was redistributed; (weight, points) of the scored rows."""
    items = list(indicators)
    scored_w = sum(_number(i.get("weight")) or 0.0 for i in items if _number(i.get("score")) is not None)
    redistributed = any(_number(i.get("score")) is None and (_number(i.get("weight")) or 0) > 0 for i in items)
    rows, terms = [], []
    for i in items:
        unit = _text(i.get("unit")) or "count"
        w = _number(i.get("weight"))
        s = _number(i.get("score"))
        row = {"ref": _ref(i.get("ref")), "name": _text(i.get("name")) or "—",
               "target": _exact(i.get("target"), unit, language), "actual": _exact(i.get("actual"), unit, language)}
        if s is None:
            note = _text(i.get("note"))
            row["weight"] = _weight(w)
            row["attainment"] = row["points"] = "—"
            row["note"] = (t("st.unscored", language, note=note.rstrip("。."), weight=_weight(w)) if note
                           else t("st.unscored_no_note", language, weight=_weight(w)))
        else:
            eff = (w or 0.0) / scored_w if scored_w > 0 else None
            row["weight"] = (t("st.weight_effective", language, weight=_weight(w), effective=_weight(eff))
                             if redistributed and eff is not None else _weight(w))
            att = _number(i.get("attainment"))
            row["attainment"] = percent(att, 1) if att is not None else _no_attainment(i, language)
            target, actual = _number(i.get("target")), _number(i.get("actual"))
            if att is None and target is not None and 0 in (target, actual):  # why there is none, below the row
                row["note"] = t("st.attainment_note." + ("target_zero" if target == 0 else "actual_zero"), language)
            row["points"] = _score(s)
            if eff is not None:
                terms.append((eff, s))
        rows.append(row)
    return rows, redistributed, terms


def _no_attainment(i: Mapping[str, Any], language: str, short: bool = False) -> str:
    """"—" when a scored indicator has no attainment (an infinite ratio is never shown as
    ∞): "— (no target)"; a target of 0 or an actual of 0 where lower is better get a note
    row saying so (:func:`_indicator_rows`), or with ``short`` the reason in the cell."""
    target, actual = _number(i.get("target")), _number(i.get("actual"))
    if target is None:
        return t("st.attainment_missing", language)
    if short and (target == 0 or actual == 0):
        return t("st.attainment_short." + ("target_zero" if target == 0 else "actual_zero"), language)
    return "—"


def attainment_text(attainment: Any, target: Any, actual: Any, language: str, digits: int = 1) -> str:
    """An attainment as a person reads it: a percent to ``digits`` decimals, or "—" with
    the reason (no target, target 0, actual 0) — never ``∞``, ``nan`` or ``None``."""
    att = _number(attainment)
    if att is not None:
        return percent(att, digits)
    return _no_attainment({"target": target, "actual": actual}, language, short=True)


def _curves(indicators: Iterable[Mapping[str, Any]], language: str) -> str:
    """How the points follow from attainment, in one sentence: each scoring curve in figures
    (``80%/100%/120% → 60/100/120``) with the indicators it scores; "" without curves."""
    by_curve: dict[str, list[str]] = {}
    for i in indicators:
        curve = _text(i.get("curve"))
        if curve:
            by_curve.setdefault(curve, []).append(_text(i.get("name")) or "—")
    if not by_curve:
        return ""
    items = ("；" if language == "zh" else "; ").join(
        t("st.curve.item", language, names=join(names, language), curve=curve) for curve, names in by_curve.items())
    return t("st.curve.note", language, items=items)


def _steps(data: Mapping[str, Any], terms: list, soft_ratings: list[float], language: str) -> dict[str, Any]:
    tot = data.get("totals") or {}
    hard, soft, total = _number(tot.get("hard")), _number(tot.get("soft")), _number(tot.get("total"))
    split = _number(tot.get("split"))
    split = 1.0 if split is None else split
    lines: list[str] = []
    if hard is not None:
        formula = ""
        if terms and abs(sum(w * s for w, s in terms) - hard) < 0.05:  # the numbers shown do make the score
            formula = t("st.step.hard_formula", language,
                        terms=" + ".join(f"{_score(s)} × {_weight(w)}" for w, s in terms), hard=_score(hard))
        lines.append(t("st.step.hard", language, hard=_score(hard), formula=formula))
    if soft is not None and split < 1:
        formula = ""
        if soft_ratings and abs(sum(soft_ratings) / len(soft_ratings) - soft) < 0.05:
            formula = t("st.step.soft_formula", language, terms=" + ".join(_score(r) for r in soft_ratings),
                        n=len(soft_ratings), soft=_score(soft))
        lines.append(t("st.step.soft", language, soft=_score(soft), formula=formula))
    if total is not None and hard is not None and (soft is not None or split >= 1):
        split_line = t("st.step.split", language, hard=_score(hard), hard_share=_weight(split),
                       soft=_score(soft if soft is not None else 0.0), soft_share=_weight(1 - split),
                       total=_score(total))
    else:
        split_line = t("st.step.no_total", language, hard_share=_weight(split), soft_share=_weight(1 - split))
    sep = t("st.step.list_sep", language)
    grade = _text(tot.get("grade"))
    parts = [t("st.step.grade", language,
               grade=grade or t("st.missing_why", language, why=t("st.why.no_grade", language)))]
    for key, rank, n in (("st.step.rank_team", "rank_team", "team_n"), ("st.step.rank_company", "rank_company", "company_n")):
        r, m = _number(tot.get(rank)), _number(tot.get(n))
        if r is not None and m is not None:
            parts.append(t(key, language, rank=f"{r:.0f}", n=f"{m:.0f}"))
    return {"lines": lines, "split": split_line, "grade": sep.join(parts) + t("st.step.end", language),
            "note": t("st.step.unrounded", language)}


def _money_rows(rounded: Decimal, rounding: Decimal, language: str, signed: bool = False) -> tuple[str, dict | None]:
    """The rounded total and, when the rounded lines miss it by ``rounding``
    (:class:`helpers.core.money.PayTotals`), the rounding-difference row."""
    if rounding == 0:
        return money(rounded, signed), None
    return money(rounded, signed), {"label": t("st.rounding.line", language),
                            "note": t("st.rounding.line_note", language, lines=money(rounded - rounding),
                                      total=money(rounded)),
                            "amount": money(rounding, signed=True)}


def _check_total(given: Any, computed: float, what: str) -> None:
    g = _number(given)
    if given is not None and (g is None or abs(g - computed) > _TOLERANCE):
        raise ValueError(f"statement: {what} is {given!r} but its lines add up to {computed!r}")


def _indicator_unit(data: Mapping[str, Any], indicator: str) -> tuple[str, str]:
    """(name, unit) of an indicator by its reference (``I.sales`` or ``sales``)."""
    for i in data.get("indicators") or []:
        ref = _text(i.get("ref"))
        if indicator in (ref, ref.removeprefix("I."), "I." + ref):
            return _text(i.get("name")), _text(i.get("unit")) or "count"
    return "", "count"


def _adjustment(data: Mapping[str, Any], a: Mapping[str, Any], language: str) -> dict[str, Any]:
    kind = _text(a.get("kind"))
    period, ref, code = _text(a.get("relates_to_period")), _text(a.get("relates_to_ref")), _text(a.get("reason_code"))
    ref = ref_code(ref) if ref else ""  # the line as that period's statement printed it
    reason = _text(a.get("reason"))
    details: list[str] = []
    indicator = _text(a.get("indicator"))
    credit = _number(a.get("credit"))
    if indicator and credit is not None:
        name, unit = _indicator_unit(data, indicator)
        name = _text(a.get("indicator_name")) or name or indicator
        what = t("st.adj.credit", language, indicator=name, credit=_signed_value(credit, unit, language))
        if reason:
            details.append(t("st.adj.reason", language, reason=reason))
    else:
        if kind == "restatement":
            what = (t("st.adj.restatement", language, period=period or "—", ref=ref) if ref
                    else t("st.adj.restatement_no_ref", language, period=period or "—"))
        elif kind == "file":
            what = t("st.adj.file", language, code=code) if code else t("st.adj.file_no_code", language)
        elif kind == "dispute":
            what = t("st.adj.dispute", language, ref=ref) if ref else t("st.adj.dispute_no_ref", language)
        else:
            what = t("st.adj.other", language)
        if reason:
            details.append(t("st.adj.reason", language, reason=reason))
    amount = _number(a.get("amount")) or 0.0
    approved = [x for x in (_text(a.get("approved_by")), _text(a.get("date"))) if x] or [
        t("st.missing_why", language, why=t("st.adj.not_recorded", language))]
    return {"ref": _ref(a.get("ref")), "what": what, "details": details, "approved": approved,
            "amount": money(amount, signed=True), "value": amount}


def _signoff(data: Mapping[str, Any], language: str) -> dict[str, Any]:
    version = _text(data.get("version")) or "—"
    plan = _text(data.get("plan_version"))
    so = data.get("signoff") or {}
    status, date, signed = _text(so.get("status")), _text(so.get("date")) or "—", _text(so.get("version"))
    lines = [t("st.sign.version", language, version=version, plan=plan) if plan
             else t("st.sign.version_no_plan", language, version=version)]
    warning = ""
    if status in ("signed", "refused"):
        lines.append(t(f"st.sign.{status}", language, date=date, version=signed or "—"))
        if signed and signed != version:
            warning = t("st.sign.earlier", language, signed=signed, version=version)
    else:
        lines.append(t("st.sign.none", language))
    return {"lines": lines, "warning": warning, "text": t("st.sign.text", language, version=version),
            "signers": [t("st.sign.manager", language), t("st.sign.supervisor", language)],
            "date_label": t("st.sign.date", language)}


def _dispute(data: Mapping[str, Any], language: str) -> str:
    d = data.get("dispute") or {}
    contact = _text(d.get("contact")) or t("st.dispute_contact_default", language)
    days = _number(d.get("days"))
    ref = next((_text(x.get("ref")) for key in ("pay_lines", "indicators", "adjustments")
                for x in (data.get(key) or []) if _text(x.get("ref"))), "")
    example = t("st.dispute_example", language, ref=ref_code(ref)) if ref else ""
    if days is None:
        return t("st.dispute_no_days", language, example=example, contact=contact)
    return t("st.dispute", language, days=f"{days:.0f}", example=example, contact=contact)


def _total_formula(payout: float, adj_sum: float, rounding: dict | None, total: str, language: str) -> str:
    """"Total pay = variable pay 73,457.90 − adjustments 1,234.50 = 72,223.40" (with the rounding difference if any)."""
    adj = to_fen(adj_sum)
    terms = t("st.total.payout_term", language, amount=money(payout))
    if adj != 0:
        terms += (" − " if adj < 0 else " + ") + t("st.total.adjustments_term", language, amount=money(abs(adj)))
    if rounding:
        diff = rounding["amount"]
        terms += (" − " if diff.startswith("-") else " + ") + t("st.total.rounding_term", language,
                                                                 amount=diff.lstrip("+-"))
    return t("st.total.formula", language, terms=terms, total=total)


# --- the sections (the statement page and the team review) -------------------------


_HEADING_NUMBER = re.compile(r"^(?:[一二三四五六七八九十]+、|\d+\.\s*)")


def _threshold(x: Mapping[str, Any], value: Any, language: str) -> str:
    unit = {"points": "score"}.get(x["unit"], x["unit"])
    return ("≥ " if x["higher"] else "≤ ") + fmt(value, unit, language)


def _gap(x: Mapping[str, Any], language: str) -> str:
    """What a threshold still needs: an amount more (or less), or percentage points for a share."""
    way = "up" if x["higher"] else "down"
    if x["value"] is None:
        return t("st.level.gap_none", language, name=x["name"])
    if x["unit"] == "ratio":
        return t(f"st.level.gap_pp_{way}", language, name=x["name"], gap=f"{x['gap'] * 100:.1f}")
    unit = {"points": "score"}.get(x["unit"], x["unit"])
    return t(f"st.level.gap_{way}", language, name=x["name"], gap=fmt(x["gap"], unit, language))


def _position(p: Mapping[str, Any] | None, language: str, with_pay: bool = True) -> dict[str, Any] | None:
    """The position level in words: the level and its base pay, how it was set (the
    window, the level the results reach, a step limit that held it), and a table of
    each threshold: the value over the window, what this level and the next ask."""
    if not p:
        return None
    lang = language
    base = money(float(p["base_pay"]))
    lines = [t("st.level.held" if with_pay else "st.level.held_nopay", lang, level=p["level"], quarter=p["quarter"],
               base=base)]
    if p.get("evaluated_at") is None:
        lines.append(t("st.level.start", lang, window=p["window"], level=p["start"]))
    else:
        lines.append(t("st.level.how", lang, at=p["evaluated_at"], window=p["window"], start=p["from"], end=p["to"],
                       qualified=p["qualified"], previous=p["previous"]))
        if p.get("limited") == "up":
            lines.append(t("st.level.limited_up", lang, n=p["max_up"], level=p["level"]))
        elif p.get("limited") == "down":
            lines.append(t("st.level.limited_down", lang, n=p["max_down"], level=p["level"]))
    nxt = p.get("next")
    held = {x["name"]: x for x in p.get("held") or []}
    ahead = {x["name"]: x for x in (nxt or {}).get("thresholds") or []}
    rows = []
    for name in dict.fromkeys([*held, *ahead]):
        x = held.get(name) or ahead[name]
        unit = {"points": "score"}.get(x["unit"], x["unit"])
        rows.append({"name": name, "value": fmt(x["value"], unit, lang),
                     "held": _threshold(x, held[name]["threshold"], lang) if name in held else "—",
                     "next": _threshold(x, ahead[name]["threshold"], lang) if name in ahead else "—",
                     "mark": "✓" if name in ahead and ahead[name]["met"] else ("✗" if name in ahead else "")})
    if nxt is None:
        lines.append(t("st.level.top", lang))
    else:
        gaps = [_gap(x, lang) for x in nxt["thresholds"] if not x["met"]]
        lines.append(t("st.level.next" if with_pay else "st.level.next_nopay", lang, level=nxt["level"],
                       base=money(float(nxt["base_pay"])), gaps=join(gaps, lang)) if gaps
                     else t("st.level.next_met", lang, level=nxt["level"]))
    return {"heading": t("st.h.level" if with_pay else "st.h.level_nopay", lang), "lines": lines, "rows": rows,
            "col": {"indicator": t("st.col.indicator", lang), "value": t("st.level.col.value", lang, window=p["window"]),
                    "held": t("st.level.col.level", lang, level=p["level"]),
                    "next": t("st.level.col.level", lang, level=nxt["level"]) if nxt else "—", "met": ""}}


def sections(data: Mapping[str, Any], language: str, *, scores: bool = True, pay: bool = True,
             pay_elsewhere: str = "", level: int = 2, table_class: str = "") -> dict[str, Any]:
    """The values of the statement's sections from the indicators' points to the total pay
    (template ``statement/sections.html.j2``, variable ``s``): the scorecard, the soft
    ratings, the score steps (hard, soft, the split, grade), the pay lines with their
    reasons, the adjustments, the total pay and the rounding rule.

    The statement page, the team review's sign-off page and its pay section all render
    these, so they cannot disagree.  ``scores`` / ``pay``: which part to show;
    ``pay_elsewhere``: a sentence shown instead of the pay part (the team review when
    each manager's pay is private); ``level``: the headings' level (numbered as on the
    statement only when both parts are shown); ``table_class``: extra class of the
    tables (the page's own table style).  Raises ``ValueError`` when ``payout`` or
    ``pay_total`` is not the sum of its lines (within half a fen).
    """
    lang = language
    m = data.get("manager") or {}
    name = _text(m.get("name")) or "—"
    period = _text(data.get("period")) or "—"
    no_data = _text(data.get("status")) == "no_data"
    numbered = scores and pay and not pay_elsewhere
    values: dict[str, Any] = {
        "level": level, "tc": f" {table_class}" if table_class else "", "scores": scores,
        "no_data": t("st.no_data", lang, name=name, period=period) if no_data else "",
        "h": {k: (lambda x: x if numbered else _HEADING_NUMBER.sub("", x))(t(f"st.h.{k}", lang))
              for k in ("scorecard", "soft", "steps", "pay", "adjustments", "total")},
        "col": {k: t(f"st.col.{k}", lang) for k in ("ref", "indicator", "weight", "target", "actual", "attainment",
                                                   "points", "rating", "item", "explanation", "amount",
                                                   "adjustment", "approved")},
    }
    if not no_data:
        rows, redistributed, terms = _indicator_rows(data.get("indicators") or [], lang)
        soft_rows, ratings = [], []
        for x in data.get("soft") or []:
            r = _number(x.get("rating"))
            soft_rows.append({"ref": _ref(x.get("ref")), "name": _text(x.get("name")) or "—", "rating": _score(r)})
            if r is not None:
                ratings.append(r)
        values.update(indicators=rows, weight_note=t("st.weight_note", lang) if redistributed else "",
                      curve_note=_curves(data.get("indicators") or [], lang),
                      no_indicators=t("st.no_indicators", lang), soft=soft_rows, no_soft=t("st.no_soft", lang),
                      steps=_steps(data, terms, ratings, lang))

    values["position"] = (_position(data.get("position"), lang, with_pay=pay and not pay_elsewhere)
                          if not no_data else None)  # a team page that keeps pay private shows no base pay either
    plans = data.get("pay_plans") or []
    values["pay_plan"] = "" if not plans else t("st.pay.plan", lang, plans=join(
        [t("st.pay.plan_since", lang, name=x["name"], since=x["from"]) if x.get("from")
         else t("st.pay.plan_one", lang, name=x["name"]) for x in plans], lang))

    # money: lines rounded to the fen, totals from the unrounded amounts
    pay_lines = [{"ref": _ref(p.get("ref")), "item": _text(p.get("item")) or "—",
                  "explanation": _text(p.get("explanation")), "value": _number(p.get("subtotal")) or 0.0}
                 for p in data.get("pay_lines") or []]
    for p in pay_lines:
        p["amount"] = money(p["value"])
    payout = sum(p["value"] for p in pay_lines)
    _check_total(data.get("payout"), payout, "payout")
    adjustments = [_adjustment(data, a, lang) for a in data.get("adjustments") or []]
    adj_sum = sum(a["value"] for a in adjustments)
    pay_total = payout + adj_sum
    _check_total(data.get("pay_total"), pay_total, "pay_total")
    pt = pay_totals([p["value"] for p in pay_lines], [a["value"] for a in adjustments])  # the rounding rule
    payout_shown, payout_rounding = _money_rows(pt.payout, pt.payout_rounding, lang)
    adj_shown, adj_rounding = _money_rows(pt.adjustment, pt.adjustment_rounding, lang, signed=True)
    total_shown, total_rounding = _money_rows(pt.total, pt.total_rounding, lang)
    values.update(
        show_pay=pay and bool(not no_data or pay_lines or adjustments), pay_elsewhere=pay_elsewhere,
        pay_lines=pay_lines, pay_none=t("st.pay.none", lang), pay_sum_label=t("st.pay.sum", lang),
        payout=payout_shown, payout_rounding=payout_rounding,
        adjustments=adjustments, adj_none=t("st.adj.none", lang), adj_sum_label=t("st.adj.sum", lang),
        adj_total=adj_shown, adj_rounding=adj_rounding,
        totals_rows=[(t("st.total.payout", lang), payout_shown), (t("st.total.adjustments", lang), adj_shown)],
        total_rounding=total_rounding, total_label=t("st.total.pay", lang), total=total_shown,
        total_formula=_total_formula(payout, adj_sum, total_rounding, total_shown, lang),
        rounding_rule=t("st.rounding.rule", lang),
    )
    return values


def sections_html(data: Mapping[str, Any], language: str, **options: Any) -> str:
    """The sections of :func:`sections` as an HTML fragment for another page (the team
    review): headings at level 4 unless told, inside ``<div class="kpi-statement">``;
    the fragment's style is :func:`sections_css`."""
    options.setdefault("level", 4)
    return ("<div class='kpi-statement'>" + render("statement/sections.html.j2", s=sections(data, language, **options))
            + "</div>")


@lru_cache(maxsize=1)
def sections_css() -> str:
    """The style of :func:`sections_html` in another page (rules scoped to ``.kpi-statement``)."""
    return resources.files("helpers.present").joinpath("templates/statement/sections.css").read_text(encoding="utf-8")


# --- the page -----------------------------------------------------------------------


def statement_html(data: dict, language: str) -> str:
    """The statement of one manager as a complete standalone HTML document (A4 print).

    ``language`` is ``"zh"`` or ``"en"``; ``data`` as described in the module docstring.
    Raises ``ValueError`` for another language, or when ``payout`` / ``pay_total``
    is not the sum of its lines (within half a fen).
    """
    if language not in LANGUAGES:
        raise ValueError(f"statement: language {language!r} is not one of {', '.join(LANGUAGES)}")
    lang = language
    m = data.get("manager") or {}
    name, mid = _text(m.get("name")) or "—", _text(m.get("id")) or "—"
    period = _text(data.get("period")) or "—"
    title = _text(data.get("title"))
    closed = bool(data.get("closed"))
    closed_at = _text(data.get("closed_at"))
    version = _text(data.get("version")) or "—"

    facts = [(t("st.fact.name", lang), name), (t("st.fact.id", lang), mid),
             (t("st.fact.team", lang), _text(m.get("team")) or "—"),
             (t("st.fact.region", lang), _text(m.get("region")) or "—"),
             (t("st.fact.period", lang), period),
             (t("st.fact.status", lang), t("st.status.closed" if closed else "st.status.draft", lang))]
    state = (t("st.closed", lang, date=closed_at) if closed and closed_at else
             t("st.closed_undated", lang) if closed else t("st.draft", lang))
    return render(
        "statement/statement.html.j2", s=sections(data, lang),
        lang="zh-CN" if lang == "zh" else "en", css=_css(), title=title, period=period,
        heading=t("st.heading", lang), facts=facts, closed=closed, state=state, colon=t("word.colon", lang),
        version=version, page_version=version if _CSS_SAFE.match(version) else "",
        h={k: t(f"st.h.{k}", lang) for k in ("signoff", "dispute")},
        signoff=_signoff(data, lang), dispute=_dispute(data, lang),
        footer=t("st.footer", lang, title=title or "—", period=period, name=name, id=mid, version=version),
    )
