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
"""

from __future__ import annotations

import re
from pathlib import Path

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


def save_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as UTF-8 CSV (``\\n`` line ends, floats to 10 significant digits), atomically."""
    clean = safe_frame(df)
    return atomic_write(path, lambda tmp: clean.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n",
                                                       float_format="%.10g"))


def save_xlsx(path: str | Path, sheets: dict[str, pd.DataFrame]) -> Path:
    """Write one sheet per frame, atomically; text cells are strings (never formulas)."""
    from openpyxl.cell.cell import TYPE_STRING

    def write(tmp: str) -> None:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            for sheet, df in sheets.items():
                safe_frame(df).to_excel(xw, sheet_name=sheet, index=False)
                for row in xw.sheets[sheet].iter_rows():
                    for cell in row:
                        if isinstance(cell.value, str) and cell.data_type != TYPE_STRING:
                            cell.data_type = TYPE_STRING  # openpyxl stores a text starting with '=' as a formula
    return atomic_write(path, write)
