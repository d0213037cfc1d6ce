"""Tables for reports: formatted, HTML-escaped, with "n/a" for missing values.

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

from helpers.present.i18n import t

UNIT_FORMATS: dict[str, str] = {
    "currency": "{:,.0f}",
    "count": "{:,.0f}",
    "ratio": "{:.1%}",
    "score": "{:.1f}",
    "points": "{:+.1f}",
    "text": "{}",
}


def fmt(value: object, unit: str = "text", language: str = "zh") -> str:
    """One value as report text (NaN → "不可用"/"n/a")."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return t("report.not_available", language)
    if isinstance(value, bool):
        return t("word.yes" if value else "word.no", language)
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
    sty = df.style.format(formatters, escape="html")
    sty = sty.format_index(escape="html", axis=0).format_index(escape="html", axis=1)
    if not index:
        sty = sty.hide(axis="index")
    text_cols = [c for c in df.columns if units.get(c, "text") == "text"]
    if text_cols:  # text reads left-aligned; numbers stay right-aligned, and each header sits like its column
        sty = sty.set_properties(subset=text_cols, **{"text-align": "left"})
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
