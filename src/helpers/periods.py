"""Review periods: a quarter (``2026Q3``) or a month (``2026-09``).

The workbook reviews quarterly by default and monthly on request (月度考核).  A
:class:`ReviewPeriod` knows its months, its first and last day, the previous period
(quarter-on-quarter / month-on-month, 环比) and the same period a year earlier
(year-on-year, 同比).  Period labels are also used in output paths, so parsing is
strict: anything that is not ``YYYYQn`` or ``YYYY-MM`` is rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from helpers.errors import InputError, input_error

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class ReviewPeriod:
    """A review period backed by a pandas ``Period`` of frequency ``Q`` or ``M``."""

    period: pd.Period

    @property
    def freq(self) -> str:
        """``"Q"`` for a quarter, ``"M"`` for a month."""
        return "Q" if self.period.freqstr.startswith("Q") else "M"

    @property
    def label(self) -> str:
        """Canonical label: ``2026Q3`` or ``2026-09``."""
        if self.freq == "Q":
            return f"{self.period.year}Q{self.period.quarter}"
        return f"{self.period.year}-{self.period.month:02d}"

    @property
    def months(self) -> list[pd.Period]:
        """Monthly periods covered, in order."""
        if self.freq == "M":
            return [self.period]
        first = self.period.asfreq("M", how="start")
        return [first + i for i in range(3)]

    @property
    def start(self) -> pd.Timestamp:
        """First day (00:00)."""
        return self.period.start_time.normalize()

    @property
    def end(self) -> pd.Timestamp:
        """Last day (00:00 of the last day, so day counts are inclusive)."""
        return self.period.end_time.normalize()

    @property
    def end_exclusive(self) -> pd.Timestamp:
        """First day after the period: filters use ``start <= date < end_exclusive``."""
        return self.end + pd.Timedelta(days=1)

    @property
    def days(self) -> int:
        """Number of calendar days, counting both ends."""
        return int((self.end - self.start).days) + 1

    def previous(self) -> "ReviewPeriod":
        """The period just before (环比 comparison)."""
        return ReviewPeriod(self.period - 1)

    def year_ago(self) -> "ReviewPeriod":
        """The same period one year earlier (同比 comparison)."""
        return ReviewPeriod(self.period - (4 if self.freq == "Q" else 12))

    def shift(self, n: int) -> "ReviewPeriod":
        """The period ``n`` steps later (negative: earlier)."""
        return ReviewPeriod(self.period + n)

    def __str__(self) -> str:
        return self.label


def parse_period(text: str, source: str = "--period") -> ReviewPeriod:
    """Parse ``2026Q3`` or ``2026-09`` into a :class:`ReviewPeriod`.

    Raises :class:`~helpers.errors.InputError` naming ``source`` for anything else;
    labels end up in file paths, so no other form is accepted.
    """
    text = str(text).strip()
    if m := _QUARTER.match(text):
        return ReviewPeriod(pd.Period(year=int(m.group(1)), quarter=int(m.group(2)), freq="Q"))
    if m := _MONTH.match(text):
        return ReviewPeriod(pd.Period(year=int(m.group(1)), month=int(m.group(2)), freq="M"))
    raise input_error(
        source,
        f"'{text}' is not a review period",
        fix="write a quarter as 2026Q3 or a month as 2026-09",
    )


def month_label(p: pd.Period) -> str:
    """``YYYY-MM`` label of a monthly period."""
    return f"{p.year}-{p.month:02d}"


def quarter_of(month: pd.Period) -> str:
    """``YYYYQn`` label of the quarter holding a monthly period."""
    return f"{month.year}Q{month.quarter}"


_PER_YEAR = {"M": 12, "Q": 4, "Y": 1}


_YEAR_RE = re.compile(r"^(\d{4})$")


_PERIOD_FIX = 'write it as "2026Q3" (quarter), "2026-09" (month) or "2026" (year)'


def _kind(p: pd.Period) -> str:
    """``"M"``, ``"Q"`` or ``"Y"`` for a calendar month, quarter or year Period."""
    name = type(p.freq).__name__
    if name == "MonthEnd":
        return "M"
    if name == "QuarterEnd" and p.freqstr == "Q-DEC":
        return "Q"
    if name == "YearEnd" and p.freqstr == "Y-DEC":
        return "Y"
    return ""


def _parse_label(text: str, source: str) -> pd.Period:
    """A period label: quarters and months by :func:`helpers.periods.parse_period`
    (strict ``2026Q3`` / ``2026-09``, the labels used everywhere in the workbook);
    extension for annual targets: ``2026`` → the calendar year."""
    s = text.strip()
    if m := _YEAR_RE.match(s):
        return pd.Period(year=int(m[1]), freq="Y")
    try:
        return parse_period(s, source=source).period
    except InputError:
        raise input_error(source, f"cannot read period {text!r}", fix=_PERIOD_FIX) from None


def period_of(value: Any, freq: str | None = None, source: str = "period") -> pd.Period:
    """Parse ``"2026Q3"`` / ``"2026-09"`` / ``"2026"`` (or a Period / date) to a Period.

    Quarter and month labels are read by :func:`helpers.periods.parse_period`, so
    exactly the labels the rest of the workbook accepts (``2026Q3``, ``2026-09``;
    not ``2026-q3`` or ``2026-9``).  Extension for targets: a bare year ``"2026"``
    gives an annual Period (freq ``Y-DEC``).  A :class:`~helpers.periods.ReviewPeriod`
    or a calendar month / quarter / year ``pd.Period`` is taken as is.

    ``freq`` (``"M"``, ``"Q"`` or ``"Y"``) is required for dates and, when given for a
    string or Period, must agree with it.  Only calendar quarters and years are accepted.
    """
    if freq is not None and freq not in _PER_YEAR:
        raise input_error(source, f"unknown frequency {freq!r}", fix='use "M", "Q" or "Y"')
    p: pd.Period | None = None
    if isinstance(value, ReviewPeriod):
        value = value.period
    if isinstance(value, pd.Period):
        p = value if _kind(value) else None
    elif isinstance(value, (pd.Timestamp, datetime, date, np.datetime64)):
        if freq is None:
            raise input_error(source, f"date {value!r} given without a frequency",
                              fix='pass freq="M", "Q" or "Y"')
        p = pd.Timestamp(value).to_period(freq)
    elif isinstance(value, str):
        p = _parse_label(value, source)
    if p is None:
        raise input_error(source, f"cannot read period {value!r}", fix=_PERIOD_FIX)
    if freq is not None and _kind(p) != freq:
        raise input_error(source, f"period {p} is not of frequency {freq!r}",
                          fix=f"give a {freq} period or drop the freq argument")
    return p


def period_months(period: Any) -> pd.PeriodIndex:
    """The calendar months making up a month, quarter or year period."""
    p = period_of(period)
    return pd.period_range(p.asfreq("M", "start"), p.asfreq("M", "end"), freq="M")
