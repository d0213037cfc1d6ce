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

import pandas as pd

from helpers.errors import input_error

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
