"""Formatting for reports, in one place: table values by unit, percentages, money in 万
or thousands, axis labels; report tables formatted and HTML-escaped, with "n/a" for
missing values.

Every user-supplied string (names, team ids, indicator names) reaches the HTML only
through :func:`table`, which escapes cells *and* headers, or through :func:`escape`
into Markdown; a manager named ``<img src=x onerror=alert(1)>`` or
``[x](javascript:alert(1)) **BOLD** $x$`` shows as text.
"""

from __future__ import annotations

import html
import math
import re
from typing import Mapping

import pandas as pd
from pandas.io.formats.style import Styler

from helpers.core.money import half_up  # reports round as the statements do
from helpers.present.i18n import t

UNIT_FORMATS: dict[str, str] = {
    "currency": "{:,.0f}",
    "count": "{:,.0f}",
    "ratio": "{:.1%}",
    "score": "{:.1f}",
    "points": "{:+.1f}",
    "change": "{:+.1%}",  # a growth rate: +18.4%, -5.5%
    "text": "{}",
}


_HALF_UP = {
    "score": lambda v: _fixed(v, 1),
    "points": lambda v: _fixed(v, 1, sign=True),
    "ratio": lambda v: f"{_fixed(v * 100, 1)}%",
    "change": lambda v: f"{_fixed(v * 100, 1, sign=True)}%",
}


def money_scale(language: str) -> float:
    """The unit money is shown in where space is short (charts): 万 (10,000) in Chinese, thousands in English."""
    return 1e4 if language == "zh" else 1e3


def _fixed(x: float, digits: int, sign: bool = False, sep: bool = False) -> str:
    q = half_up(x, digits)
    if q == 0:
        q = abs(q)  # no "-0.0"
    return f"{q:{'+' if sign else ''}{',' if sep else ''}.{digits}f}"


def percent(x: float | None, digits: int = 0, missing: str = "") -> str:
    """``0.153`` → ``15%`` (half up); ``missing`` for None or NaN; ``∞`` for an infinite ratio."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return missing
    return "∞" if math.isinf(x) else f"{_fixed(x * 100, digits)}%"


def signed_percent(x: float) -> str:
    """``+ 8%`` / ``− 10%``: a change with its sign spaced (for "× (1 + 8%)"); one decimal
    only when the whole percent would round it away."""
    a = abs(x)
    body = f"{a:.0%}" if abs(a * 100 - round(a * 100)) < 1e-9 else f"{a:.1%}"
    return ("− " if x < 0 else "+ ") + body


def amount(x: float, unit: str, language: str) -> str:
    """A value in a sentence: ratio ``15.3%``; money ``123.5万`` in Chinese from 10,000
    (else with thousands separators); a count with separators; else one decimal."""
    if unit == "ratio":
        return f"{x:.1%}"
    if unit == "currency":
        if language == "zh" and abs(x) >= 1e4:
            return f"{x / 1e4:,.1f}万"
        return f"{x:,.0f}"
    if unit == "count":
        return f"{x:,.0f}"
    return f"{x:,.1f}"


def compact_number(value: float, unit: str, language: str = "zh") -> str:
    """Axis label for one value, short and without matplotlib's "1e6" offset.

    ``ratio`` → percent (0.153 → "15%"); ``currency`` → 万 / 亿 in Chinese
    (1 234 567 → "123.5万", 2.5e8 → "2.5亿"), k / M in English (→ "1.2M");
    anything else → the number with thousands separators, at most one decimal.
    """
    v = float(value)
    if unit == "ratio":
        return f"{v:.0%}"
    a = abs(v)
    if unit == "currency":
        steps = [(1e8, "亿"), (1e4, "万")] if language == "zh" else [(1e9, "B"), (1e6, "M"), (1e3, "k")]
        for size, suffix in steps:
            if a >= size:
                x = v / size
                return f"{x:,.1f}".rstrip("0").rstrip(".") + suffix
        return f"{v:,.0f}"
    return f"{v:,.0f}" if a >= 100 or float(v).is_integer() else f"{v:,.1f}"


SHOWN_DECIMALS: dict[str, int] = {"currency": 0, "count": 0, "ratio": 3, "score": 1, "points": 1, "change": 3}
"""Decimals of a value as :func:`fmt` shows it (a ratio as 12.3 % keeps 3)."""


def shown(value: float, unit: str) -> float:
    """``value`` as a reader sees it in a table (rounded as :func:`fmt` rounds), so that a
    gap quoted in a sentence is the difference of the numbers shown beside it."""
    d = SHOWN_DECIMALS.get(unit)
    return value if d is None or not math.isfinite(value) else float(half_up(value, d))  # as fmt rounds: half up


def fmt(value: object, unit: str = "text", language: str = "zh") -> str:
    """One value as report text (NaN → "不可用"/"n/a")."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return t("report.not_available", language)
    if isinstance(value, bool):
        return t("word.yes" if value else "word.no", language)
    if isinstance(value, (int, float)) and math.isfinite(value) and unit in _HALF_UP:
        return _HALF_UP[unit](float(value))  # scores and shares: half up, as a calculator rounds
    return UNIT_FORMATS.get(unit, "{}").format(value)


def table(
    df: pd.DataFrame,
    units: Mapping[str, str] | None = None,
    language: str = "zh",
    index: bool = False,
    caption: str | None = None,
) -> Styler:
    """A report table: values formatted per column unit, everything HTML-escaped.

    ``units`` maps column → unit (``currency``, ``count``, ``ratio``, ``score``,
    ``points``, ``text``); unlisted columns are shown as text.
    """
    units = dict(units or {})
    formatters = {c: (lambda v, u=units.get(c, "text"): fmt(v, u, language)) for c in df.columns}
    sty = Styler(df, cell_ids=False).format(formatters, escape="html")  # ids only on cells a rule styles
    sty = sty.format_index(escape="html", axis=0).format_index(escape="html", axis=1)
    if not index:
        sty = sty.hide(axis="index")
    text_cols = [c for c in df.columns if units.get(c, "text") == "text"]
    if text_cols:  # text reads left-aligned (one CSS rule per column, not one per cell); numbers stay right-aligned
        sty = sty.set_table_styles({c: [{"selector": "td", "props": "text-align: left"}] for c in text_cols},
                                   overwrite=False)
    left = set(text_cols)
    sty = sty.map_index(lambda c: "text-align: left" if c in left else "text-align: right", axis=1)
    sty = sty.set_table_attributes('class="kpi-table"')
    if caption:
        sty = sty.set_caption(html.escape(caption))
    return sty


_MD_INLINE = re.compile(r"([\\`*_\[\]{}()!|~$])")
_MD_LINE_START = re.compile(r"^(\s*)([#+\-=>])")
_MD_ORDERED = re.compile(r"^(\s*\d+)([.)])")


def escape(text: object) -> str:
    """A user-supplied string made plain text inside Markdown (the one helper every
    Markdown cell uses for names, ids, file names and data values).

    Markdown's inline marks (``* _ ` [ ] ( ) ! | ~ $ { } \\``) are backslash-escaped,
    so ``[x](javascript:…)`` is no link, ``**x**`` is no bold and ``$x$`` is no
    formula; a leading ``#``, ``-``, ``+``, ``=``, ``>`` or ``1.`` starts no heading,
    list or quote; line breaks become spaces; and HTML is escaped last (``<img …>``
    is text).  For an HTML context (a table caption, a widget) use ``html.escape``."""
    s = " ".join(str(text).splitlines())
    s = _MD_INLINE.sub(r"\\\1", s)
    s = _MD_LINE_START.sub(r"\1\\\2", s)
    s = _MD_ORDERED.sub(r"\1\\\2", s)
    return html.escape(s, quote=True)
