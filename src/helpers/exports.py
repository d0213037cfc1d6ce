"""Files for other programs (CSV for analysts, xlsx for HR and payroll): written
atomically, and with nothing in them that a spreadsheet would execute.

**The injection rule** (OWASP, "CSV Injection"): a text cell that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is written with a leading apostrophe
(``'=HYPERLINK(…)``), so Excel, WPS and LibreOffice show it as text instead of
running it as a formula; in xlsx every text cell is also stored as a string, never as
a formula.  Control characters (which Excel cannot store and terminals misread) are
replaced by ``�``, a visible mark.  Numbers are written as numbers: a negative
amount stays a number.  Every CSV and xlsx the workbook writes goes through
:func:`save_csv` or :func:`save_xlsx`.

**CSV** files are UTF-8 *with* a byte-order mark (``utf-8-sig``): Excel on a Chinese
(or any non-UTF-8) Windows otherwise opens them in the local code page and garbles
every name; pandas, DuckDB, Python's ``csv`` with ``encoding="utf-8-sig"`` and
LibreOffice read the mark as what it is.

**xlsx** sheets are written for people: the header row frozen and filtered, columns
as wide as their contents (a CJK character counts double), a number format per
column (:class:`Sheet`; ``MONEY``, ``PERCENT``, ``SCORE``, ``COUNT``, ``DATE``), dates
as real date cells without a time part, and no text where a number belongs: NaN,
±∞ and missing values are empty cells (the sheet's notes say why).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers.atomic import atomic_write

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MARK = "\ufffd"


def safe_cell(value: object) -> object:
    """A text value made safe for a spreadsheet cell; other values unchanged."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_START):
        value = "'" + value
    return CONTROL.sub(MARK, value)


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell and column name passed through :func:`safe_cell`."""
    out = df.copy()
    out.columns = [safe_cell(c) for c in out.columns]
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            out[col] = s.map(safe_cell, na_action="ignore")
    return out


CSV_ENCODING = "utf-8-sig"
"""The encoding of every CSV written (UTF-8 with a byte-order mark, for Excel)."""

MONEY = "#,##0.00"
PERCENT = "0.0%"
SCORE = "0.0"
COUNT = "0"
DATE = "yyyy-mm-dd"
NUMBER = "General"
MAX_WIDTH = 60  # characters; longer texts wrap in the cell's own view
MIN_WIDTH = 6


def save_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as UTF-8 CSV with a byte-order mark (``\\n`` line ends, floats to 10
    significant digits), atomically."""
    clean = safe_frame(df)
    return atomic_write(path, lambda tmp: clean.to_csv(tmp, index=False, encoding=CSV_ENCODING, lineterminator="\n",
                                                       float_format="%.10g"))


@dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook: the frame (its column names are the header row), a number
    format per column (columns not named: dates get ``DATE``, others ``General``) and
    optional header comments (column → text, shown when the header cell is pointed at)."""

    frame: pd.DataFrame
    formats: Mapping[str, str] = field(default_factory=dict)
    comments: Mapping[str, str] = field(default_factory=dict)


def text_width(text: str) -> int:
    """Display width of ``text`` in a spreadsheet column: wide (CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _value(x: Any) -> Any:
    """A cell value: numbers as Python numbers, dates as dates (no time part), nothing
    for NaN, ±∞, NaT and None; text unchanged (already made safe)."""
    if x is None or x is pd.NA or x is pd.NaT:
        return None
    if isinstance(x, (pd.Timestamp, dt.datetime)):
        return None if pd.isna(x) else x.date() if (x.hour, x.minute, x.second, x.microsecond) == (0, 0, 0, 0) else (
            x.to_pydatetime() if isinstance(x, pd.Timestamp) else x)
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    return x


def _shown(value: Any, fmt: str) -> str:
    """Roughly the text Excel shows for ``value`` in format ``fmt`` (for the column width)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return "0000-00-00"
    if isinstance(value, bool):
        return "FALSE"
    if fmt == MONEY:
        return f"{value:,.2f}"
    if fmt == PERCENT:
        return f"{value * 100:.1f}%"
    if fmt in (SCORE, COUNT):
        return f"{value:.1f}" if fmt == SCORE else f"{value:.0f}"
    return f"{value:.10g}"


def _sheet(ws: Any, sheet: Sheet) -> None:
    from openpyxl.cell.cell import TYPE_STRING
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    df = safe_frame(sheet.frame)
    formats = {safe_cell(k): v for k, v in sheet.formats.items()}
    comments = {safe_cell(k): v for k, v in sheet.comments.items()}
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    ws.append([str(c) for c in df.columns])
    widths = [text_width(str(c)) + 3 for c in df.columns]  # room for the filter button
    fmts = []
    for j, col in enumerate(df.columns):
        head = ws.cell(row=1, column=j + 1)
        head.font = bold
        head.alignment = Alignment(vertical="top", wrap_text=False)
        head.data_type = TYPE_STRING
        if col in comments:
            head.comment = Comment(comments[col], "kpi-workbook", width=300, height=120)
        fmt = formats.get(col)
        if fmt is None:
            fmt = DATE if pd.api.types.is_datetime64_any_dtype(df[col]) else NUMBER
        fmts.append(fmt)
    for i, row in enumerate(df.itertuples(index=False, name=None), start=2):
        for j, x in enumerate(row):
            v = _value(x)
            cell = ws.cell(row=i, column=j + 1, value=v)
            if isinstance(v, str):
                cell.data_type = TYPE_STRING  # openpyxl would store a text starting with '=' as a formula
                if text_width(v) > MAX_WIDTH:
                    cell.alignment = wrap
            elif isinstance(v, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            elif isinstance(v, dt.date):
                cell.number_format = DATE
            elif v is not None and not isinstance(v, bool):
                cell.number_format = fmts[j]
            widths[j] = max(widths[j], text_width(_shown(v, fmts[j])) + 1)
    for j, w in enumerate(widths):
        ws.column_dimensions[get_column_letter(j + 1)].width = max(MIN_WIDTH, min(MAX_WIDTH, w))
    ws.freeze_panes = "A2"
    if len(df.columns):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(df.columns))}{max(1, len(df) + 1)}"


def save_xlsx(path: str | Path, sheets: Mapping[str, pd.DataFrame | Sheet]) -> Path:
    """Write one sheet per frame (or :class:`Sheet`), atomically: header frozen and
    filtered, widths to the contents, number formats, text cells as strings (never
    formulas), no cell holding ``nan``/``inf``."""
    from openpyxl import Workbook

    def write(tmp: str) -> None:
        wb = Workbook()
        wb.remove(wb.active)
        for name, sheet in sheets.items():
            _sheet(wb.create_sheet(title=str(name)[:31]), sheet if isinstance(sheet, Sheet) else Sheet(sheet))
        wb.save(tmp)
    return atomic_write(path, write)
