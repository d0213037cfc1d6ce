"""Load and validate the canonical tables.

``load_dataset(folder)`` reads ``<table>.csv`` or ``<table>.parquet`` for every
table of :mod:`helpers.data.schema`, coerces types, applies the value rules, checks the
references between tables, and returns a :class:`Dataset`.  Every problem found is
collected (a few rows per kind, with a count of the rest) and raised together as
one :class:`~helpers.errors.InputError`, so the analyst fixes the file in one pass.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
import pandas as pd

from helpers.errors import InputError, Problem
from helpers.files import duplicate_header_problem, printable, record_lines, text_file_problem
from helpers.frames import any_byte, isin
from helpers.data.schema import REQUIRED_TABLES, TABLES, Col, Table, pandera_schema
from helpers.plan.measures import Declared

if TYPE_CHECKING:
    import pandera.pandas as pa

MAX_ROWS_PER_PROBLEM = 5
_TRUE = {"true", "1", "yes", "y", "t", "是", "已解决", "x"}
_FALSE = {"false", "0", "no", "n", "f", "否", "未解决", ""}
_MONTH_RE = r"^\d{4}-(0[1-9]|1[0-2])$"
_PERIOD_RE = r"^\d{4}(-(0[1-9]|1[0-2])|Q[1-4])$"
_DATE_RE = r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
_TZ_RE = r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?)$"
_PARTIAL_RE = r"^\d{4}(?:[-/.]\d{1,2})?$"
FIRST_YEAR, LAST_YEAR = 1900, 2100
"""Dates outside these years are data-entry errors (``0001-01-01``, ``9999-12-31``)."""
MAX_NUMBER = 1e15
"""Amounts and counts beyond this are refused: sums of them would lose the cents (and
``1e308`` overflows to infinity as soon as two are added)."""
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Characters a report cannot show and Excel cannot store (tab and line breaks are allowed)."""
DATE_ORDER: tuple[tuple[str, str, str], ...] = (
    ("managers", "hire_date", "leave_date"),
    ("customers", "acquired_date", "lost_date"),
    ("assignments", "start_date", "end_date"),
)
"""(table, earlier, later): the later date may not come before the earlier one."""

MAPPING_PLACE = "in a source mapping (docs/MAPPING.md)"
"""Where a hint sends the fix when the data is a folder of tables; a source mapping's
messages replace it with the mapping's own key (``under tables.orders``)."""


def yaml_scalar(value: object) -> str:
    """``value`` as YAML text a person can paste into a mapping: plain when YAML reads
    it back as the same text, else in single quotes (``'Yes'``, ``'R&D: x'``)."""
    import yaml

    text = printable(value, 60)
    try:
        plain = re.fullmatch(r"[^\s'\"{}\[\],:#&*!|>%@`-][^{}\[\],:#]*", text) is not None and \
            yaml.safe_load(text) == text
    except yaml.YAMLError:
        plain = False
    return text if plain else "'" + text.replace("'", "''") + "'"


def slugify(text: str) -> str:
    """Lower-case ASCII letters, digits and '-' ('R&D Team' → 'r-d-team'), as ``slug: true`` makes it."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def id_fix(column: str, value: object, source: str = "<export column>", place: str = MAPPING_PLACE) -> str:
    """What to do with an id that is not a slug: let the mapping make one."""
    example = slugify(str(value))
    made = f" ('{printable(value, 60)}' → '{example}')" if example else ""
    return (f"use derive: {{{column}: {{from: {yaml_scalar(source)}, slug: true}}}} {place}{made}, "
            f"or write it with letters, digits, '-' and '_' only")


def bool_fix(column: str, values: Sequence[object], place: str = MAPPING_PLACE) -> str:
    """What to do with true/false values the workbook does not know: map them (each named)."""
    distinct = list(dict.fromkeys(printable(v, 40) for v in values))
    shown = ", ".join(f"{yaml_scalar(v)}: true|false" for v in distinct[:5]) + (", …" if len(distinct) > 5 else "")
    return (f"map them {place}: values: {{{column}: {{map: {{{shown}}}}}}} (write true or false for each), "
            "or write true or false in the export")


_TIME = r"(?:(?P<tsep>[ T])(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?)?"
DMY_DATE = re.compile(r"^(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})" + _TIME + "$")
"""A date written day/month/year or month/day/year (fields ``a``, ``b``, ``y``; an optional time)."""
YMD_DATE = re.compile(r"^(?P<y>\d{4})(?P<sep>[/.-])(?P<a>\d{1,2})(?P=sep)(?P<b>\d{1,2})" + _TIME + "$")
"""A date written year first."""
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December")


def _formats(matches: list[re.Match], order: str) -> list[str]:
    """The strftime formats of ``matches`` read in ``order`` ('dmy', 'mdy' or 'ymd'), in order of first use."""
    out: list[str] = []
    for m in matches:
        sep, year = m.group("sep"), "%Y" if len(m.group("y")) == 4 else "%y"
        day = {"dmy": f"%d{sep}%m{sep}{year}", "mdy": f"%m{sep}%d{sep}{year}", "ymd": f"%Y{sep}%m{sep}%d"}[order]
        if m.group("tsep"):
            day += f"{m.group('tsep')}%H:%M" + (":%S" if m.group("s") else "")
        if day not in out:
            out.append(day)
    return out


def _fmt_yaml(formats: list[str]) -> str:
    return f"'{formats[0]}'" if len(formats) == 1 else "[" + ", ".join(f"'{f}'" for f in formats) + "]"


def date_format_hint(values: pd.Series, bad: pd.Series, column: str, declared: Sequence[str] = (),
                     place: str = MAPPING_PLACE) -> str:
    """What to do with the dates of ``values`` where ``bad`` is true (they did not parse).

    The day/month order is read off every value of the column: a first number above 12
    means day first (``%d/%m/%Y``), a second number above 12 month first (``%m/%d/%Y``);
    2- and 4-digit years give ``%y``/``%Y``.  When every value could be read either way the
    hint says so and asks for the export's order: it never picks one, since the wrong one
    silently swaps day and month of every date up to the 12th.  Values of both kinds: the
    wrong ones are to be corrected.  The formats suggested are those of the failing values,
    added to the ``declared`` ones (or to ``ISO8601`` where other values parsed as such);
    a value whose format is declared already is itself wrong.
    """
    text = values.astype("object").where(values.notna()).map(lambda v: str(v).strip(), na_action="ignore")
    present = text.notna() & (text != "")
    every = [str(t) for t in pd.unique(text[present])]
    failing = [str(t) for t in pd.unique(text[present & bad.to_numpy()])]
    dmy_all = [m for m in map(DMY_DATE.match, every) if m]
    dmy = [m for m in map(DMY_DATE.match, failing) if m]
    ymd = [m for m in map(YMD_DATE.match, failing) if m]
    base = list(declared) or (["ISO8601"] if (present & ~bad.to_numpy()).any() else [])
    tail = "correct the value (no such day, or a typo)"

    def declare(formats: list[str]) -> str:
        new = [f for f in formats if f not in base]
        if not new:
            return tail
        return f"set dates: {{{column}: {_fmt_yaml(base + new)}}} {place}"

    if dmy:
        day_first = [m for m in dmy_all if int(m.group("a")) > 12]
        month_first = [m for m in dmy_all if int(m.group("b")) > 12]
        if day_first and month_first:
            return (f"the values mix day-first ('{day_first[0].string}') and month-first ('{month_first[0].string}') "
                    f"dates: correct the wrong ones in the export, then set the format {place} (dates: {{{column}: ...}})")
        if day_first:
            m = day_first[0]
            return f"the dates are day first ('{m.string}': {int(m.group('a'))} cannot be a month): " \
                   f"{declare(_formats(dmy, 'dmy'))}"
        if month_first:
            m = month_first[0]
            return f"the dates are month first ('{m.string}': {int(m.group('b'))} cannot be a month): " \
                   f"{declare(_formats(dmy, 'mdy'))}"
        d, mo = _formats(dmy, "dmy"), _formats(dmy, "mdy")
        if set(d) <= set(base) or set(mo) <= set(base):
            return tail
        m = next((m for m in dmy if m.group("a") != m.group("b")), dmy[0])
        a, b, y = int(m.group("a")), int(m.group("b")), m.group("y")
        head = (f"every value could be day/month or month/day (e.g. '{m.string}'), so the order cannot be read "
                "off the data: say which the export uses")
        d_yaml, mo_yaml = _fmt_yaml(base + d), _fmt_yaml(base + mo)
        if not (1 <= a <= 12 and 1 <= b <= 12):
            return f"{head} — dates: {{{column}: {d_yaml}}} or {mo_yaml} {place}"
        return (f"{head} — dates: {{{column}: {d_yaml}}} {place} if '{m.string}' is {a} {MONTH_NAMES[b - 1]} {y}, "
                f"{mo_yaml} if it is {b} {MONTH_NAMES[a - 1]} {y}")
    if ymd:
        return f"the dates are year first ('{ymd[0].string}'): {declare(_formats(ymd, 'ymd'))}"
    codes = "strftime codes: %d day, %m month, %Y year, %y two-digit year, %b month name"
    if declared:
        return f"correct the value, or add its format to the list {place} (dates: {{{column}: [...]}}; {codes})"
    return f"correct the value, or declare its format {place}, e.g. dates: {{{column}: '%d.%m.%Y'}} ({codes})"


@dataclass
class Dataset:
    """The canonical tables of one data source, validated.

    ``tables`` maps table name to frame; absent optional tables are simply missing.
    ``files`` maps table name to the file it was read from (for the audit trail).
    """

    tables: dict[str, pd.DataFrame]
    files: dict[str, Path] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    measures: tuple[Declared, ...] = ()
    """The plan's declared measures (:class:`helpers.plan.measures.Declared`): the KPI
    actuals of this dataset hold them beside the built-in KPIs."""

    def with_measures(self, measures: Sequence[Declared]) -> "Dataset":
        """This dataset's tables seen with a plan's declared measures (the same frames,
        not copied; one view per set of definitions, kept while the dataset lives, so the
        KPI actuals of a plan are computed once)."""
        measures = tuple(measures)
        k = tuple(m.key for m in measures)
        if k == tuple(m.key for m in self.measures):
            return self
        views = self.__dict__.setdefault("_views", {})
        if k not in views:
            views[k] = dataclasses.replace(self, measures=measures)  # a mapped dataset stays one
            if "_cache" in self.__dict__:  # the same frames: the same prepared-data cache entry
                views[k].__dict__["_cache"] = self.__dict__["_cache"]
        return views[k]

    def has(self, name: str) -> bool:
        """True when table ``name`` was supplied (it may still have zero rows)."""
        return name in self.tables

    def derived(self, key: tuple, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """A frame derived from the tables (e.g. the KPI actuals of a frequency), computed
        once per dataset: a run's checks, its gate and its workspace read the same result
        instead of computing it three times.  The tables of a loaded dataset are not
        changed; a table replaced by another frame (or added) starts a new entry.  Each
        caller gets its own shallow copy (copy on write: changing it leaves the stored one).

        A dataset read from a folder's prepared-data cache (:mod:`helpers.data.cache`)
        keeps the result there as well, under ``key`` and the plan's declared measures,
        so the next process reading the same files reads it instead of computing it."""
        kept = self.stored(key)
        if kept is not None:
            return kept
        memo, k, entry, dkey = self._derived_slot(key)
        memo[k] = compute()
        if entry is not None:
            entry.write_derived(dkey, memo[k])
        return memo[k].copy(deep=False)

    def stored(self, key: tuple) -> pd.DataFrame | None:
        """The frame :meth:`derived` keeps under ``key`` when it has one already, in this
        process or in the dataset's prepared-data cache (put there by an earlier process
        on the same files); None, computing nothing, when it has not."""
        memo, k, entry, dkey = self._derived_slot(key)
        if k not in memo and entry is not None:
            df = entry.read_derived(dkey)
            if df is not None:
                memo[k] = df
        return memo[k].copy(deep=False) if k in memo else None

    def _derived_slot(self, key: tuple) -> tuple[dict, tuple, Any, list | None]:
        """Where :meth:`derived` keeps ``key``: the process's memo and its key there, and
        the prepared-data cache entry with its key there (None, None when the dataset has
        none, or its tables were replaced since it was read)."""
        memo = self.__dict__.setdefault("_derived", {})
        k = (key, tuple((name, id(df), len(df)) for name, df in self.tables.items()))
        entry = self.__dict__.get("_cache")
        if entry is None or entry.table_ids != {name: id(df) for name, df in self.tables.items()}:
            return memo, k, None, None
        return memo, k, entry, [list(key), [m.key for m in self.measures]]

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    @property
    def managers(self) -> pd.DataFrame:
        return self.tables["managers"]

    @property
    def customers(self) -> pd.DataFrame:
        return self.tables["customers"]

    @property
    def orders(self) -> pd.DataFrame:
        return self.tables["orders"]

    def team_names(self) -> dict[str, str]:
        """team_id → display name (the id itself when no ``teams`` table)."""
        ids = sorted(set(self.managers["team_id"]) | set(self.membership()["team_id"]))
        names = {t: t for t in ids}
        if self.has("teams"):
            names.update(dict(zip(self["teams"]["team_id"], self["teams"]["team_name"])))
        return names

    def team_regions(self) -> dict[str, str]:
        """team_id → region."""
        if self.has("teams"):
            return dict(zip(self["teams"]["team_id"], self["teams"]["region"]))
        m = self.managers.drop_duplicates("team_id")
        return dict(zip(m["team_id"], m["region"]))

    def membership(self) -> pd.DataFrame:
        """Team membership intervals: manager_id, team_id, start (month), end (month or NaT).

        From ``team_history`` when given; else each manager's current team from hire to
        leave.  Months are ``pd.Period[M]``.
        """
        if self.has("team_history") and len(self["team_history"]):
            th = self["team_history"]
            out = pd.DataFrame(
                {
                    "manager_id": th["manager_id"],
                    "team_id": th["team_id"],
                    "start": pd.PeriodIndex(th["start_month"], freq="M"),
                    "end": pd.PeriodIndex(th["end_month"], freq="M"),
                }
            )
            covered = set(out["manager_id"])
            rest = self.managers[~self.managers["manager_id"].isin(covered)]
        else:
            out = pd.DataFrame(columns=["manager_id", "team_id", "start", "end"])
            rest = self.managers
        extra = pd.DataFrame(
            {
                "manager_id": rest["manager_id"],
                "team_id": rest["team_id"],
                "start": rest["hire_date"].dt.to_period("M"),
                "end": rest["leave_date"].dt.to_period("M"),
            }
        )
        frames = [f for f in (out, extra) if len(f)]
        return pd.concat(frames, ignore_index=True) if frames else extra


# --------------------------------------------------------------------------- reading


def find_table_file(folder: Path, name: str) -> Path | None:
    """``<name>.parquet`` or ``<name>.csv`` in ``folder`` (Parquet preferred)."""
    for ext in (".parquet", ".csv"):
        p = folder / f"{name}{ext}"
        if p.exists():
            return p
    return None


def read_raw(path: Path) -> pd.DataFrame:
    """Read a CSV (as text, UTF-8 with or without BOM) or a Parquet file.

    A file that is not text, or a CSV header that names a column twice, raises
    :class:`InputError` (one line; no raw bytes)."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    problem = text_file_problem(path)
    if problem is None:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(io.StringIO(fh.readline())), [])
        problem = duplicate_header_problem(header, str(path))
    if problem is not None:
        raise InputError(problem)
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")


@lru_cache(maxsize=16)
def _csv_lines(path: str, mtime_ns: int) -> tuple[int, ...]:  # noqa: ARG001 - part of the cache key
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return tuple(record_lines(fh))


def _rows(index: pd.Index, path: Path | None) -> list[str]:
    """Human row numbers: the line in a CSV where the record starts (header on line 1),
    else the 1-based position.  Read only when a problem is reported."""
    if path is None or path.suffix != ".csv":
        return [str(int(i) + 1) for i in index]
    lines = _csv_lines(str(path), path.stat().st_mtime_ns) if path.is_file() else ()
    return [str(lines[int(i)]) if int(i) < len(lines) else str(int(i) + 2) for i in index]


def _row_problem(src: str, path: Path | None, bad: pd.Series, col: str, what: str, fix: str) -> Problem:
    """One problem for all rows where ``bad`` is true (first few listed)."""
    idx = bad[bad].index
    rows = _rows(idx[:MAX_ROWS_PER_PROBLEM], path)
    more = len(idx) - len(rows)
    where = f"row {rows[0]}" if len(rows) == 1 else f"rows {', '.join(rows)}"
    if more > 0:
        where += f" and {more} more"
    return Problem(src, what, where=f"{where}, column {col}", fix=fix)


Flaw = tuple[pd.Series, str, str]
"""(rows that are wrong, what is wrong — after the first bad value —, what to do)."""


def _ymd(txt: pd.Series, shaped: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day written in the first ten characters (YYYY-MM-DD) of the
    ``shaped`` values, 0 elsewhere: read from the bytes of the digits, which costs a
    fraction of parsing a million dates as text.  Digits of other scripts (full-width
    ２０２４) are read one by one, as ``int`` reads them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ten = pa.array(txt.str.slice(0, 10).where(shaped, "0000-00-00"))
    if isinstance(ten, pa.ChunkedArray):
        ten = ten.combine_chunks()
    binary = ten.cast(pa.large_binary())
    other = np.asarray(pc.not_equal(pc.binary_length(binary), 10), dtype=bool)
    if other.any():
        binary = pc.if_else(pa.array(other), pa.scalar(b"0000-00-00", pa.large_binary()), binary)
    fixed = pc.cast(binary, pa.binary(10))
    raw = np.frombuffer(fixed.buffers()[1], dtype=np.uint8)[fixed.offset * 10:(fixed.offset + len(fixed)) * 10]
    b = raw.reshape(-1, 10)

    def digit(k: int) -> np.ndarray:
        return b[:, k].astype(np.int64) - ord("0")

    year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3)
    month, day = digit(5) * 10 + digit(6), digit(8) * 10 + digit(9)
    for i in np.flatnonzero(other):
        t = ten[int(i)].as_py()
        year[i], month[i], day[i] = int(t[0:4]), int(t[5:7]), int(t[8:10])
    return year, month, day


def _calendar_days(year: np.ndarray, month: np.ndarray, day: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """The dates (datetime64[ns]) of the ``ok`` year/month/day triples that name a day of
    the calendar; NaT for the others (month 13, 30 February) and where not ``ok``."""
    ok = ok & (month >= 1) & (month <= 12) & (day >= 1)
    first = (np.where(ok, year, 1970) - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (np.where(ok, month, 1) - 1)
    dates = first.astype("datetime64[D]") + (np.where(ok, day, 1) - 1)
    ok &= dates.astype("datetime64[M]") == first  # not past the month's last day
    return np.where(ok, dates.astype("datetime64[ns]"), np.datetime64("NaT", "ns"))


def _coerce_dates(s: pd.Series, column: str = "date") -> tuple[pd.Series, list[Flaw]]:
    """Dates are calendar days written YYYY-MM-DD (a time of day is ignored)."""
    present = s.notna()
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        year = out.dt.year
        bad = present & ((year < FIRST_YEAR) | (year > LAST_YEAR))
        out = out.where(~bad).astype("datetime64[ns]").dt.normalize()
        return out, [(bad, f"is outside the years {FIRST_YEAR}–{LAST_YEAR}", "correct the date")]
    txt = s.astype("str").str.strip().where(present)
    txt = txt.where(txt != "")
    present = txt.notna()
    filled = txt.fillna("")
    shaped = present & filled.str.match(_DATE_RE)
    # a time-zone offset or a year / month alone is never a well-shaped date: only the
    # others (usually none) are matched against those forms
    rest = present & ~shaped
    tz = pd.Series(False, index=txt.index)
    partial = pd.Series(False, index=txt.index)
    if rest.any():
        tz[rest] = filled[rest].str.match(_TZ_RE).to_numpy(dtype=bool)
        partial[rest] = filled[rest].str.match(_PARTIAL_RE).to_numpy(dtype=bool)
    year, month, day = _ymd(txt, shaped)
    out_of_range = shaped & ((year < FIRST_YEAR) | (year > LAST_YEAR))
    out = pd.Series(_calendar_days(year, month, day, (shaped & ~out_of_range).to_numpy()), index=txt.index)
    impossible = shaped & ~out_of_range & out.isna()
    other = present & ~shaped & ~tz & ~partial
    return out.where(shaped & ~out_of_range), [
        (tz, "has a time-zone offset", "write the local calendar date as YYYY-MM-DD (the workbook counts days, not instants)"),
        (partial, "is not a full date (a year or month only)", "write the full date as YYYY-MM-DD"),
        (out_of_range, f"is outside the years {FIRST_YEAR}–{LAST_YEAR}", "correct the date (leave the cell empty for no date)"),
        (impossible, "is not a date (no such day)", "correct the value"),
        (other, "is not a date in YYYY-MM-DD form",
         "write it as YYYY-MM-DD; or " + date_format_hint(txt, other, column) if other.any() else ""),
    ]


def _control_byte(b: np.ndarray) -> np.ndarray:
    """The bytes of :data:`CONTROL_CHARS`: below 0x20 but tab, line feed and carriage
    return, and DEL."""
    return ((b < 0x20) & (b != 0x09) & (b != 0x0A) & (b != 0x0D)) | (b == 0x7F)


def _control(text: pd.Series) -> pd.Series:
    """Cells of ``text`` with a control character (:data:`CONTROL_CHARS`).  In UTF-8 those
    bytes are never part of another character, so the column's bytes are scanned at
    once first and the cells matched one by one only when one of them is there (almost
    never; a million ids: 0.05 s less)."""
    if any_byte(text, _control_byte) is False:
        return pd.Series(False, index=text.index)
    return text.notna() & text.fillna("").str.contains(CONTROL_CHARS)


def _coerce_column(s: pd.Series, col: Col) -> tuple[pd.Series, list[Flaw]]:
    """Coerce one column to its kind; return (values, what is wrong where)."""
    present = s.notna()
    fix = "correct the value"
    if col.kind in ("id", "text"):
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            out = s.astype("str").str.strip().where(present)
        else:  # numbers read from Parquet, e.g. integer ids
            out = s.astype("str").where(present)
        out = out.where(out != "", None)
        out = out.astype("str").where(out.notna())
        control = _control(out)
        return out, [(control, "contains a control character (shown here as \\xNN)",
                      "remove it: reports cannot show it and Excel cannot store it")]
    if col.kind == "date":
        return _coerce_dates(s, col.name)
    if col.kind in ("month", "period"):
        txt = s.astype("str").str.strip().where(present)
        pattern = _MONTH_RE if col.kind == "month" else _PERIOD_RE
        bad = present & ~txt.fillna("").str.match(pattern)
        what = "is not a month (YYYY-MM)" if col.kind == "month" else "is not a month (YYYY-MM) or quarter (YYYYQn)"
        return txt.where(~bad), [(bad, what, fix)]
    if col.kind in ("number", "count"):
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            out = s.astype("float64")
        else:
            out = pd.to_numeric(s.astype("str").str.strip().where(present), errors="coerce").astype("float64")
        finite = np.isfinite(out.fillna(0.0))
        bad = present & (out.isna() | ~finite)
        huge = present & ~bad & (out.abs() > MAX_NUMBER)
        flaws = [(bad & ~(out.notna() & ~finite), "is not a number" if col.kind == "number" else "is not a whole number", fix),
                 (present & out.notna() & ~finite, "is too large to compute with (infinite)", fix),
                 (huge, f"is too large to compute with (more than {MAX_NUMBER:,.0f})", "correct the value (check the unit and the decimal point)")]
        if col.kind == "count":
            flaws.append((present & finite & out.notna() & (out != out.round()), "is not a whole number", fix))
        return out.where(~(bad | huge)), flaws
    if col.kind == "bool":
        if pd.api.types.is_bool_dtype(s):
            return (s.astype("boolean") if s.isna().any() else s.astype(bool)), []
        low = s.astype("str").str.strip().str.lower().where(present, "")
        out = pd.Series(np.where(low.isin(_TRUE), True, False), index=s.index)
        bad = ~(low.isin(_TRUE) | low.isin(_FALSE))
        hint = bool_fix(col.name, s[bad].astype("str").str.strip().tolist()) if bad.any() else fix
        return out, [(bad, "is not true/false (accepted: true, false, 1, 0, yes, no, 是, 否)", hint)]
    raise AssertionError(col.kind)


def coerce_table(df: pd.DataFrame, table: Table, src: str, path: Path | None) -> tuple[pd.DataFrame, list[Problem]]:
    """Coerce the known columns of ``df`` to their kinds; list unparsable cells."""
    problems: list[Problem] = []
    df = df.copy()
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c.name for c in table.columns if c.required and c.name not in df.columns]
    if missing:
        have = ", ".join(map(str, df.columns)) or "none"
        problems.append(
            Problem(src, f"missing column(s) {', '.join(missing)}", where="header",
                    fix=f"add them or map your column names in a source mapping (columns found: {have})")
        )
        return df, problems
    for col in table.columns:
        if col.name not in df.columns:
            kind = {"id": "str", "text": "str", "bool": "boolean"}.get(col.kind, "float64")
            df[col.name] = pd.Series(np.nan if kind == "float64" else pd.NA, index=df.index, dtype=kind)
            continue
        values, flaws = _coerce_column(df[col.name], col)
        for bad, what, fix in flaws:
            if bad.any():
                first = df.loc[bad, col.name].iloc[0]
                problems.append(_row_problem(src, path, bad, col.name, f"'{printable(first, 60)}' {what}", fix))
        df[col.name] = values
    return df, problems


def validate_values(df: pd.DataFrame, table: Table, src: str, path: Path | None) -> list[Problem]:
    """Apply the pandera value rules; one problem per column and rule.

    An id that is not a slug (a team id with a space or '&') breaks two rules of its
    column, letters-digits-dash and no '&': it is reported once, with the first."""
    import pandera.pandas as pa

    schema = pandera_schema(table)
    try:
        schema.validate(df, lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
    problems: list[Problem] = []
    pattern_errors = {c.name: _pattern_errors(schema, table, c.name) for c in table.columns if c.pattern}
    pairs = fc[["column", "check"]].dropna().astype("str").drop_duplicates().itertuples(index=False)
    pattern_failed = {c for c, chk in pairs if chk in pattern_errors.get(c, ())}
    for (column, check), grp in fc.groupby(["column", "check"], sort=False, dropna=False):
        if column is None or (isinstance(column, float) and np.isnan(column)):
            continue
        col = table.col(str(column)) if str(column) in {c.name for c in table.columns} else None
        is_value_check = str(check) not in ("not_nullable", "field_uniqueness")
        if col is not None and col.kind == "id" and is_value_check and str(column) in pattern_failed \
                and str(check) not in pattern_errors.get(str(column), ()):
            continue  # the same values, already reported as not a slug
        idx = pd.Index(grp["index"].dropna().astype(int).unique())
        bad = pd.Series(df.index.isin(idx), index=df.index)
        check = str(check)
        if check == "not_nullable":
            what, fix = "is empty", "fill it in"
        elif check == "field_uniqueness":
            dup = df.loc[bad, column].iloc[0] if bad.any() else ""
            what, fix = f"'{dup}' appears more than once", "ids must be unique: remove or renumber duplicates"
            bad = df[column].duplicated(keep=False) & df[column].notna()
        else:
            value = grp["failure_case"].iloc[0]
            what, fix = f"'{value}' {check}", "correct the value"
            if col is not None and col.kind == "id":
                fix = id_fix(str(column), value)
        if not bad.any():
            problems.append(Problem(src, what, where=f"column {column}", fix=fix))
        else:
            problems.append(_row_problem(src, path, bad, str(column), what, fix))
    return problems


def _pattern_errors(schema: pa.DataFrameSchema, table: Table, column: str) -> set[str]:
    """The messages of the column's own pattern rule (a team id: letters, digits, '-', '_')."""
    pattern = next((c.pattern for c in table.columns if c.name == column), None)
    if pattern is None:
        return set()
    return {str(ch.error) for ch in schema.columns[column].checks if (ch.statistics or {}).get("pattern") == pattern}


def check_references(tables: dict[str, pd.DataFrame], files: dict[str, Path]) -> list[Problem]:
    """Foreign keys: every referenced id must exist in the referenced table."""
    problems: list[Problem] = []
    for name, df in tables.items():
        for column, other, other_col in TABLES[name].foreign_keys:
            if other not in tables or column not in df.columns:
                continue
            known = tables[other][other_col].dropna().unique()
            bad = df[column].notna() & ~isin(df[column], known)
            if bad.any():
                first = df.loc[bad, column].iloc[0]
                problems.append(
                    _row_problem(
                        str(files.get(name, name)), files.get(name), bad, column,
                        f"'{first}' is not in {other}.{other_col}",
                        f"add it to {files.get(other, other)} or correct the id",
                    )
                )
    return problems


def check_team_history(tables: dict[str, pd.DataFrame], files: dict[str, Path]) -> list[Problem]:
    """A manager can be in one team per month: history intervals must not overlap."""
    if "team_history" not in tables or not len(tables["team_history"]):
        return []
    th = tables["team_history"].copy()
    src = str(files.get("team_history", "team_history"))
    th["_start"] = pd.PeriodIndex(th["start_month"], freq="M").astype("int64")
    end = pd.PeriodIndex(th["end_month"], freq="M")
    th["_end"] = np.where(end.isna(), np.iinfo("int64").max, end.astype("int64"))
    problems: list[Problem] = []
    bad_order = th["_end"] < th["_start"]
    if bad_order.any():
        problems.append(_row_problem(src, files.get("team_history"), bad_order, "end_month",
                                     "end_month is before start_month", "swap or correct the months"))
    th = th.sort_values(["manager_id", "_start"])
    prev_end = th.groupby("manager_id")["_end"].shift()
    overlap = prev_end.notna() & (th["_start"] <= prev_end)
    if overlap.any():
        mid = th.loc[overlap, "manager_id"].iloc[0]
        month = th.loc[overlap, "start_month"].iloc[0]
        problems.append(
            _row_problem(src, files.get("team_history"), overlap.reindex(tables["team_history"].index, fill_value=False),
                         "start_month", f"manager '{mid}' is in two teams in {month}",
                         "a manager belongs to one team per month: end the old membership the month before")
        )
    return problems


def check_balance_holders(tables: dict[str, pd.DataFrame], files: dict[str, Path]) -> list[Problem]:
    """Every balance names whose it is: a manager or a customer (or both)."""
    b = tables.get("balances")
    if b is None or not len(b):
        return []
    man = b["manager_id"] if "manager_id" in b.columns else pd.Series(pd.NA, index=b.index)
    cus = b["customer_id"] if "customer_id" in b.columns else pd.Series(pd.NA, index=b.index)
    bad = man.isna() & cus.isna()
    if not bad.any():
        return []
    src = str(files.get("balances", "balances"))
    return [_row_problem(src, files.get("balances"), bad, "manager_id", "the balance names neither a manager nor a "
                         "customer", "give manager_id (the manager's book) or customer_id (credited to the customer's "
                         "responsible manager)")]


def check_assignment_shares(tables: dict[str, pd.DataFrame], files: dict[str, Path]) -> list[Problem]:
    """The shares of one customer's managers add up to 1 on every day two or more of them
    share it (one alone may hold less: the rest is nobody's), and never to more than 1."""
    a = tables.get("assignments")
    if a is None or not len(a):
        return []
    from helpers.data.responsibility import share_overlaps

    bad = share_overlaps(a)
    if bad.empty:
        return []
    first = bad.iloc[0]
    src = str(files.get("assignments", "assignments"))
    rows = a["customer_id"].isin(bad["customer_id"]) if len(bad) > 1 else a["customer_id"].eq(first["customer_id"])
    return [_row_problem(src, files.get("assignments"), rows, "share",
                         f"customer '{first['customer_id']}' has shares adding up to {first['total']:g} on "
                         f"{first['date'].date()} ({len(bad)} customer-day(s) like it)",
                         "the shares of the managers responsible for one customer on one day add up to 1: "
                         "correct the shares or the dates")]


def check_dates(tables: dict[str, pd.DataFrame], files: dict[str, Path], as_of: pd.Timestamp) -> list[Problem]:
    """Dates after ``as_of`` (today by default) are data-entry errors."""
    problems: list[Problem] = []
    for name, df in tables.items():
        for col in TABLES[name].columns:
            if col.kind != "date" or col.name not in df.columns:
                continue
            bad = df[col.name].notna() & (df[col.name] > as_of)
            if bad.any():
                first = df.loc[bad, col.name].iloc[0].date()
                problems.append(
                    _row_problem(str(files.get(name, name)), files.get(name), bad, col.name,
                                 f"{first} is in the future (after {as_of.date()})",
                                 "correct the date, or pass the as-of date the data was extracted on")
                )
    return problems


def check_date_order(tables: dict[str, pd.DataFrame], files: dict[str, Path]) -> list[Problem]:
    """A leave date before the hire date, a loss before the customer was won: one of the two is wrong."""
    problems: list[Problem] = []
    for name, earlier, later in DATE_ORDER:
        df = tables.get(name)
        if df is None or earlier not in df.columns or later not in df.columns:
            continue
        bad = df[earlier].notna() & df[later].notna() & (df[later] < df[earlier])
        if bad.any():
            first = df.loc[bad].iloc[0]
            problems.append(_row_problem(
                str(files.get(name, name)), files.get(name), bad, later,
                f"{later} {first[later].date()} is before {earlier} {first[earlier].date()}",
                f"correct one of the two dates ({later} cannot come before {earlier})"))
    return problems


def validate_tables(
    raw: dict[str, pd.DataFrame], files: dict[str, Path] | None = None, as_of: pd.Timestamp | None = None,
    references: Callable[[dict[str, pd.DataFrame], dict[str, Path]], list[Problem]] | None = None,
) -> Dataset:
    """Coerce and validate raw frames (any source) into a :class:`Dataset`: the one
    validation of the canonical tables, whichever engine loads them.

    ``references`` checks the ids between tables (default :func:`check_references`; the
    DuckDB engine passes one that also covers order lines kept out of memory).  Raises
    :class:`InputError` listing every problem found.
    """
    files = files or {}
    problems: list[Problem] = []
    tables: dict[str, pd.DataFrame] = {}
    for name in REQUIRED_TABLES:
        if name not in raw:
            problems.append(Problem(str(files.get(name, name)), f"required table '{name}' is missing",
                                    fix=f"provide {name}.csv (see the data model in the README)"))
    for name, df in raw.items():
        table = TABLES[name]
        src = str(files.get(name, name))
        if len(df.columns) == 0:
            problems.append(Problem(src, "the file is empty (no header row)", fix="export the table again with its header"))
            continue
        coerced, probs = coerce_table(df, table, src, files.get(name))
        problems += probs
        if not probs:  # an optional column the file does not have is added empty: nothing to check in it
            absent = [c.name for c in table.columns if not c.required and c.name not in df.columns]
            problems += validate_values(coerced.drop(columns=absent), table, src, files.get(name))
        tables[name] = coerced
    if not problems:
        problems += (references or check_references)(tables, files)
        problems += check_date_order(tables, files)
        problems += check_team_history(tables, files)
        problems += check_assignment_shares(tables, files)
        problems += check_balance_holders(tables, files)
        problems += check_dates(tables, files, as_of or pd.Timestamp.today().normalize())
    if problems:
        raise InputError(problems)
    for name in REQUIRED_TABLES:
        if not len(tables[name]):
            problems.append(Problem(str(files.get(name, name)), f"table '{name}' has no rows",
                                    fix="check the export: a required table cannot be empty"))
    if problems:
        raise InputError(problems)
    return Dataset(tables=tables, files=dict(files))


def load_dataset(folder: str | Path, as_of: pd.Timestamp | None = None) -> Dataset:
    """Read every canonical table found in ``folder`` and validate it.

    Tables that passed every check are kept in the folder's prepared-data cache
    (:mod:`helpers.data.cache`): the next process that reads the same file contents,
    checked against the same date by the same code, reads them from there."""
    from helpers.data.cache import entry_for

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(Problem(str(folder), "data folder not found",
                                 fix="check data.folder in your params file, or run `kpi-workbook demo` to create the demo data"))
    found = {name: path for name in TABLES if (path := find_table_file(folder, name)) is not None}
    entry = entry_for(folder, found, as_of)
    cached = entry.read_tables() if entry is not None else None
    if entry is not None and cached is not None:
        return _linked(Dataset(tables=cached, files=_with_required(folder, found)), entry)
    raw: dict[str, pd.DataFrame] = {}
    files: dict[str, Path] = {}
    problems: list[Problem] = []
    for name, path in found.items():
        files[name] = path
        try:
            if path.stat().st_size == 0:
                raise pd.errors.EmptyDataError
            raw[name] = read_raw(path)
        except InputError as exc:
            problems += exc.problems
        except pd.errors.EmptyDataError:
            raw[name] = pd.DataFrame()
        except UnicodeDecodeError as exc:
            problems.append(Problem(str(path), f"is not UTF-8 (byte {exc.start})",
                                    fix="save it as UTF-8, or declare its encoding (e.g. gb18030) in a source mapping"))
        except (pd.errors.ParserError, ValueError, OSError) as exc:
            msg = re.sub(r"\s+", " ", str(exc))[:200]
            problems.append(Problem(str(path), f"cannot be read: {msg}", fix="check the file format"))
    if problems:
        raise InputError(problems)
    ds = validate_tables(raw, _with_required(folder, files), as_of=as_of)
    if entry is not None and not ds.warnings and entry.write_tables(ds.tables):
        _linked(ds, entry)
    return ds


def _with_required(folder: Path, files: dict[str, Path]) -> dict[str, Path]:
    out = dict(files)
    for name in REQUIRED_TABLES:
        out.setdefault(name, folder / f"{name}.csv")
    return out


def _linked(ds: Dataset, entry: Any) -> Dataset:
    """``ds`` with its cache entry: what is derived from these very frames is kept there too."""
    entry.table_ids = {name: id(df) for name, df in ds.tables.items()}
    ds.__dict__["_cache"] = entry
    return ds


def coverage_by_month(ds: Dataset) -> pd.DataFrame:
    """Rows per table per month (tables with a date column), for the data-quality report."""
    parts = []
    for name, df in ds.tables.items():
        dc = TABLES[name].date_column
        if dc is None or not len(df):
            continue
        counts = df[dc].dt.to_period("M").value_counts().rename("rows")
        parts.append(counts.rename_axis("month").reset_index().assign(table=name))
    if not parts:
        return pd.DataFrame(columns=["table", "month", "rows"])
    out = pd.concat(parts, ignore_index=True)
    out["month"] = out["month"].astype("str")
    return out.pivot_table(index="month", columns="table", values="rows", fill_value=0).sort_index()
