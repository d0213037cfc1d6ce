"""Source mappings: a CRM or spreadsheet export → the canonical tables.

A mapping file (``params/sources/*.yaml``) says, for each canonical table of
:mod:`helpers.data.schema`, where its rows come from and how the export's columns become
the canonical ones.  :func:`load_mapped` reads the sources, applies the mapping and
ends with :func:`helpers.data.tables.validate_tables`, so every rule of the data model
applies; problems name the *export's* file, row and column (not an intermediate
frame) and say what to do.

docs/MAPPING.md is the guide: every key below with a small example the tests run.

Mapping file (every key is checked; unknown keys are errors)::

    description: free text
    lookups:                      # small helper tables, referred to by name
      people: {rows: [{Region: West, Regional Manager: Sadie Pawthorne}]}
    tables:
      orders:                     # a canonical table name
        files: exports/orders-*.csv   # CSV, .xlsx/.xls (with `sheet`), .parquet; globs
        encoding: auto            # utf-8 | utf-8-sig | gb18030 | gbk | auto
        delimiter: ","            # the CSV field separator
        # or  sql: {url: "sqlite:///crm.db", query: "select ..."}   (relative paths:
        #     to this file; also duckdb:///file.duckdb; ${VAR} reads the environment)
        # or  rows: [{...}, ...]  (a small table written here)
        # or  from_table: {table: orders, key: customer_id} + aggregate: {...}
        # or  from_orders: {rule: share, months: 12}   (the assignments table only: who is
        #     responsible for each customer, month by month, from the trailing sales)
        keep: {Status: [Done]}    # keep only these rows (others dropped and counted)
        join: {table: orders, match: {Order ID: Order ID}}   # add another table's columns
        columns: {order_id: Row ID, date: Order Date, amount: Sales}   # canonical: export
        constants: {resolved: true}
        values: {segment: {map: {Consumer: walkin}, unmatched: error}}
        dates: {date: "%d/%m/%y"}             # one format or a list tried in order
        numbers: {decimal: ",", thousands: ".", currency: ["€"]}
        derive:
          order_id: {template: "{Order ID}-{Row ID}"}
          manager_id: {from: Region, lookup: {table: managers, key: region, value: manager_id}}
          team_id: {from: Region, map: {West: west}}
          segment: {revenue_bands: {bands: [{min: 10000, value: key}, {min: 0, value: small}]}}
        distinct: [complaint_id]  # one row per value (later duplicates merged, counted)
        optional: false           # true: leave the table out (and say so) if unreadable

Order of the steps for each table (each step sees the results of the earlier ones;
names refer to the export's columns and, once mapped, to the canonical columns):
read → join → keep → drop empty rows → columns → constants → values → dates →
numbers → derive → distinct.  A canonical column the mapping does not mention is
taken from an export column of the same name, if there is one.

Derived tables (``from_table``): one row per distinct ``key`` of the other table (or
lookup), with ``aggregate`` columns: ``min``/``max``/``sum`` of a column (numbers or
dates; text is read as numbers or refused, never compared as text), ``first``/``last``
value (in the order of ``by``, else the export's order), ``top`` (the value with the
largest sum of ``by``, or the most rows; ties: the smallest value), ``count``, and
``idle`` — the lost date: a customer with no order in the ``months`` before the
as-of date (or, without one, the latest date in that column) is lost, with
``lost_date`` = the last order date (``lost_date: last_order``, the default) or the
last order date plus ``months`` (``lost_date: threshold``, the day the customer
became overdue); active customers have no lost date.

What was read, dropped, merged and guessed is collected in a :class:`MappingReport`
(``MappedDataset.report``); :func:`quality_summary` prints it for
``kpi-workbook validate``.
"""

from __future__ import annotations

import codecs
import csv
import glob
import io
import os
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from helpers.plan.base import Strict, load_model
from helpers.data.tables import (
    _TZ_RE,
    FIRST_YEAR,
    LAST_YEAR,
    MAPPING_PLACE,
    MAX_ROWS_PER_PROBLEM,
    Dataset,
    date_format_hint,
    slugify,
    validate_tables,
    yaml_scalar,
)
from helpers.files import binary_kind, duplicate_header_problem, record_lines
from helpers.errors import InputError, Problem
from helpers.data.schema import TABLES

Encoding = Literal["utf-8", "utf-8-sig", "gb18030", "gbk", "auto"]
Unmatched = Literal["error", "keep", "drop", "default"]
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
_SRC, _LINE = "_src", "_line"  # provenance columns: file (display) and human row number
_FIELD = re.compile(r"\{([^{}]+)\}")


# --------------------------------------------------------------------------- schema




def _text_keys(v: Any) -> Any:
    """Value-map keys as text.  YAML reads ``Yes``/``No``/``on`` as booleans: refuse
    them (the original spelling is lost) and ask for quotes."""
    if not isinstance(v, dict):
        return v
    out = {}
    for k, val in v.items():
        if isinstance(k, bool) or k is None:
            raise ValueError(f"key {k!r} was read by YAML as {k!r}: put the export's text in quotes, e.g. 'Yes'")
        if isinstance(val, bool):
            val = "true" if val else "false"
        out[str(k)] = None if val is None else str(val)
    return out


class NumberFormat(Strict):
    """How numbers are written in the export: '1,234.50', '1.234,50 €', '¥1,234'."""

    decimal: Literal[".", ","] = Field(".", description="Decimal separator.")
    thousands: Literal[",", ".", " ", "'", ""] = Field("", description="Thousands separator ('' for none).")
    currency: list[str] = Field(default_factory=list, description="Currency signs to strip, e.g. ['¥', '€'].")

    @model_validator(mode="after")
    def _distinct(self) -> "NumberFormat":
        if self.decimal == self.thousands:
            raise ValueError("decimal and thousands separators must differ")
        return self


class ValueMap(Strict):
    """Export value → canonical value; ``unmatched`` says what to do with other values."""

    map: dict[str, str | None]
    unmatched: Unmatched = "error"
    default: str | None = None

    _keys = field_validator("map", mode="before")(_text_keys)

    @model_validator(mode="after")
    def _default(self) -> "ValueMap":
        if self.unmatched == "default" and self.default is None:
            raise ValueError("unmatched: default needs a `default` value")
        return self


class Lookup(Strict):
    """Find ``value`` in the row of ``table`` whose ``key`` equals this row's value."""

    table: str = Field(description="A name under `lookups`, or a canonical table of this mapping.")
    key: str
    value: str


class Band(Strict):
    min: float
    value: str


class RevenueBands(Strict):
    """Segment from the customer's total sales: the first band whose ``min`` it reaches."""

    bands: list[Band] = Field(min_length=1)
    table: str = "orders"
    key: str = "customer_id"
    amount: str = "amount"


class Derive(Strict):
    """A canonical column computed from others (exactly one of template, from, revenue_bands)."""

    template: str | None = None
    from_: str | None = Field(None, alias="from")
    map: dict[str, str | None] | None = None
    lookup: Lookup | None = None
    unmatched: Unmatched = "error"
    default: str | None = None
    revenue_bands: RevenueBands | None = None
    slug: bool = Field(False, description="Lower-case ASCII letters, digits and '-' (for ids used in paths).")

    _keys = field_validator("map", mode="before")(_text_keys)

    @model_validator(mode="after")
    def _one(self) -> "Derive":
        kinds = [k for k, v in (("template", self.template), ("from", self.from_), ("revenue_bands", self.revenue_bands))
                 if v is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of template, from, revenue_bands")
        if (self.map is not None or self.lookup is not None) and self.from_ is None:
            raise ValueError("map and lookup need `from`")
        if self.map is not None and self.lookup is not None:
            raise ValueError("give map or lookup, not both")
        if self.unmatched == "default" and self.default is None:
            raise ValueError("unmatched: default needs a `default` value")
        return self


class Aggregate(Strict):
    """One column of a derived table (exactly one of min, max, sum, first, last, top, count, idle)."""

    min: str | None = None
    max: str | None = None
    sum: str | None = None
    first: str | None = None
    last: str | None = None
    top: str | None = None
    count: bool | None = None
    idle: str | None = Field(None, description="Date column: lost date when idle for `months`.")
    by: str | None = None
    months: int | None = Field(None, ge=1)
    lost_date: Literal["last_order", "threshold"] = "last_order"

    @model_validator(mode="after")
    def _one(self) -> "Aggregate":
        kinds = [k for k in ("min", "max", "sum", "first", "last", "top", "count", "idle") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of min, max, sum, first, last, top, count, idle")
        if kinds[0] == "idle" and self.months is None:
            raise ValueError("idle needs `months` (e.g. 12)")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("min", "max", "sum", "first", "last", "top", "count", "idle") if getattr(self, k) is not None)

    @property
    def column(self) -> str | None:
        return None if self.kind == "count" else getattr(self, self.kind)


class FromTable(Strict):
    table: str
    key: str


class FromOrders(Strict):
    """The ``assignments`` table derived from the orders (:func:`helpers.data.responsibility.from_orders`)."""

    rule: Literal["share", "main"] = "share"
    months: int = Field(12, ge=1, le=60)
    by: Literal["amount", "orders"] = "amount"


class Sql(Strict):
    url: str = Field(description="SQLAlchemy URL; sqlite:///file.db and duckdb:///file.duckdb relative to the mapping.")
    query: str


class Join(Strict):
    table: str
    match: dict[str, str] = Field(min_length=1, description="this source's column: the other table's column")
    unmatched: Literal["error", "drop"] = "error"


class Source(Strict):
    """Where one table's rows come from, and how its columns are mapped."""

    files: list[str] | None = None
    sheet: str | None = None
    encoding: Encoding = "auto"
    delimiter: str = Field(",", min_length=1, max_length=1)
    sql: Sql | None = None
    rows: list[dict[str, Any]] | None = None
    from_table: FromTable | None = None
    from_orders: FromOrders | None = None
    aggregate: dict[str, Aggregate] = Field(default_factory=dict)
    join: Join | None = None
    keep: dict[str, list[str]] = Field(default_factory=dict)
    columns: dict[str, str] = Field(default_factory=dict)
    constants: dict[str, Any] = Field(default_factory=dict)
    values: dict[str, ValueMap] = Field(default_factory=dict)
    dates: dict[str, str | list[str]] = Field(default_factory=dict)
    numbers: NumberFormat = NumberFormat()
    derive: dict[str, Derive] = Field(default_factory=dict)
    distinct: list[str] = Field(default_factory=list)
    optional: bool = False

    @field_validator("files", mode="before")
    @classmethod
    def _files(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("keep", mode="before")
    @classmethod
    def _keep(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        out = {}
        for k, vals in v.items():
            vals = vals if isinstance(vals, list) else [vals]
            if any(isinstance(x, bool) or x is None for x in vals):
                raise ValueError(f"a value of '{k}' was read by YAML as true/false/null: put the export's text in quotes, e.g. 'Yes'")
            out[k] = [str(x) for x in vals]
        return out

    @model_validator(mode="after")
    def _one(self) -> "Source":
        kinds = [k for k in ("files", "sql", "rows", "from_table", "from_orders") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of files, sql, rows, from_table, from_orders")
        if self.aggregate and self.from_table is None:
            raise ValueError("aggregate needs from_table")
        if self.from_table is not None and self.join is not None:
            raise ValueError("a derived table (from_table) cannot also join")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("files", "sql", "rows", "from_table", "from_orders") if getattr(self, k) is not None)


class Mapping(Strict):
    """A whole mapping file."""

    description: str = ""
    lookups: dict[str, Source] = Field(default_factory=dict)
    tables: dict[str, Source] = Field(min_length=1)


# --------------------------------------------------------------------------- report


@dataclass
class SourceRead:
    table: str
    source: str
    rows: int
    encoding: str = ""


@dataclass
class Dropped:
    table: str
    source: str
    reason: str
    rows: int
    where: str = ""


@dataclass
class Miss:
    table: str
    column: str
    value: str
    rows: int
    action: str
    source: str = ""
    where: str = ""


@dataclass
class MappingReport:
    """What :func:`load_mapped` read, dropped, merged and noticed."""

    mapping: Path
    reads: list[SourceRead] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    misses: list[Miss] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)

    def warnings(self) -> list[Problem]:
        """Everything an analyst should look at, as problems (not errors)."""
        out = list(self.skipped) + list(self.notes)
        out += [Problem(d.source, f"{d.rows:,} row(s) dropped: {d.reason}", where=d.where) for d in self.dropped]
        for m in self.misses:
            what = f"value '{m.value}' is not in the value map ({m.rows:,} row(s)); {m.action}"
            out.append(Problem(m.source, what, where=m.where, fix=f"add it under values/derive for {m.table}.{m.column}"))
        return out


def quality_summary(report: MappingReport) -> list[str]:
    """The mapping's data-quality report as text lines (for ``kpi-workbook validate``).

    Rows read per source (with the encoding used), rows dropped and why, values not in
    a value map (with rows), notes (e.g. an encoding fallback), optional tables left out.
    """
    lines = [f"source mapping: {report.mapping}"]
    for r in report.reads:
        enc = f"  [{r.encoding}]" if r.encoding else ""
        lines.append(f"  read {r.table:<12} {r.rows:>10,} rows  {r.source}{enc}")
    for d in report.dropped:
        where = f" ({d.where})" if d.where else ""
        lines.append(f"  dropped {d.table:<9} {d.rows:>10,} rows  {d.reason}{where}")
    for m in report.misses:
        lines.append(f"  unmapped {m.table}.{m.column}: '{m.value}' in {m.rows:,} row(s) of {m.source} ({m.where}) — {m.action}")
    for p in report.notes:
        lines.append(f"  note: {p}")
    for p in report.skipped:
        lines.append(f"  left out: {p}")
    return lines


@dataclass
class MappedDataset(Dataset):
    """A :class:`~helpers.data.tables.Dataset` loaded through a source mapping, with its report.

    ``files`` holds, per table, the main input file it came from (for the audit
    trail); ``inputs`` every file read, the mapping first.
    """

    report: MappingReport | None = None
    inputs: list[Path] = field(default_factory=list)


# --------------------------------------------------------------------------- helpers


def _where_rows(lines: list[int], total: int | None = None) -> str:
    shown = [str(x) for x in lines[:MAX_ROWS_PER_PROBLEM]]
    where = f"row {shown[0]}" if len(shown) == 1 else f"rows {', '.join(shown)}"
    more = (total if total is not None else len(lines)) - len(shown)
    if more > 0:
        where += f" and {more} more"
    return where


def _row_problems(w: pd.DataFrame, mask: pd.Series, column: str, what: str, fix: str) -> list[Problem]:
    """One problem per source file for the rows where ``mask`` is true."""
    out = []
    sel = w.loc[mask.to_numpy(), [_SRC, _LINE]]
    for src, grp in sel.groupby(_SRC, sort=False):
        out.append(Problem(str(src), what, where=f"{_where_rows(grp[_LINE].tolist())}, column {column}", fix=fix))
    return out


def _is_text(s: pd.Series) -> bool:
    return s.dtype == object or pd.api.types.is_string_dtype(s)


def _as_text(s: pd.Series) -> pd.Series:
    """Cells as stripped text (NaN for empty); integral floats from Excel/SQL lose '.0'."""
    present = s.notna()
    if pd.api.types.is_bool_dtype(s):
        out = s.map({True: "true", False: "false"})
    elif pd.api.types.is_numeric_dtype(s):
        num = s.astype("float64")
        integral = present & (num == num.round()) & (num.abs() < 2**53)
        out = pd.Series(
            np.where(integral, num.fillna(0).round().astype("int64").astype(str), num.astype(str)), index=s.index
        )
    elif pd.api.types.is_datetime64_any_dtype(s):
        out = s.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_string_dtype(s) and s.dtype != object:
        out = s.str.strip()
    else:
        out = s.astype("object").map(_cell_text, na_action="ignore")
    out = out.astype("object").where(present, None)
    return out.where(out != "", None)


def _blank(s: pd.Series) -> pd.Series:
    """Empty cells (missing, or only spaces)."""
    if pd.api.types.is_string_dtype(s) and s.dtype != object:
        return s.isna() | s.str.strip().eq("")
    return _as_text(s).isna() if s.dtype == object else s.isna()


def _cell_text(v: Any) -> str:
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == time(0) else v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v == round(v) and abs(v) < 2**53:
        return str(int(v))
    return str(v).strip()


@dataclass
class _Ctx:
    """State of one load: the mapping, its folder, built frames, the report."""

    path: Path
    mapping: Mapping
    as_of: pd.Timestamp | None
    report: MappingReport
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)  # working frames (export + canonical columns)
    lookups: dict[str, pd.DataFrame] = field(default_factory=dict)
    origin: dict[str, dict[str, str]] = field(default_factory=dict)  # table → canonical column → export column
    display: dict[str, str] = field(default_factory=dict)  # table → where its rows came from
    main_file: dict[str, Path] = field(default_factory=dict)
    inputs: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def base(self) -> Path:
        return self.path.parent

    def key_problem(self, key: str, what: str, fix: str = "") -> Problem:
        return Problem(str(self.path), what, where=f"key '{key}'", fix=fix)


class _Unreadable(Exception):
    """A source that cannot be read (an optional table is then left out)."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


# --------------------------------------------------------------------------- reading


def decode(data: bytes, encoding: str, source: str) -> tuple[str, str]:
    """Decode a text file; returns (text, encoding used).

    ``auto``: a byte-order mark decides (UTF-8 or UTF-16); otherwise UTF-8, and if the
    file is not valid UTF-8, GB18030 (a superset of GBK/GB2312, the usual encoding of
    Chinese Excel CSV exports).  A leading UTF-8 BOM is always dropped.
    """
    if encoding == "auto":
        if data.startswith(codecs.BOM_UTF8):
            return data[3:].decode("utf-8", errors="strict"), "utf-8-sig (BOM)"
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16"), "utf-16 (BOM)"
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError as exc:
            first_bad = exc.start
        try:
            return data.decode("gb18030"), f"gb18030 (not UTF-8 at byte {first_bad})"
        except UnicodeDecodeError as exc:
            raise _Unreadable(Problem(source, f"is neither UTF-8 nor GB18030 (bytes {first_bad} and {exc.start})",
                                      where="encoding", fix="save it as UTF-8, or declare its encoding")) from None
    try:
        if encoding in ("utf-8", "utf-8-sig"):
            return data.removeprefix(codecs.BOM_UTF8).decode("utf-8"), encoding
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        raise _Unreadable(Problem(source, f"is not valid {encoding} (byte {exc.start})", where="encoding",
                                  fix="set encoding: auto, or the file's real encoding (gb18030 for Chinese Excel exports)")) from None


def _read_file(path: Path, spec: Source, key: str, ctx: _Ctx) -> tuple[pd.DataFrame, str, str, int]:
    """One file as a frame; returns (frame, display name, encoding, header rows)."""
    shown = str(path)
    suffix = path.suffix.lower()
    try:
        if suffix in EXCEL_SUFFIXES:
            # .xls (Excel 97-2003) through calamine, pandas' recommended reader (xlrd is deprecated)
            engine, package = ("calamine", "python-calamine") if suffix == ".xls" else ("openpyxl", "openpyxl")
            sheet: str | int = spec.sheet if spec.sheet is not None else 0
            shown = f"{path} [sheet {spec.sheet}]" if spec.sheet else str(path)
            try:
                df = pd.read_excel(path, sheet_name=sheet, engine=engine)
            except ImportError:
                raise _Unreadable(Problem(str(path), f"reading {suffix} files needs the Python package {package}",
                                          fix=f"install it (pip install {package}), or save the sheet as .xlsx or CSV")) from None
            except ValueError as exc:
                if "not found" in str(exc).lower():
                    names = pd.ExcelFile(path, engine=engine).sheet_names
                    raise _Unreadable(Problem(str(path), f"has no sheet '{spec.sheet}'", where=f"key '{key}.sheet'",
                                              fix=f"use one of: {', '.join(names)}")) from None
                raise
            return df, shown, "", 1
        if suffix == ".parquet":
            return pd.read_parquet(path), shown, "", 0
        data = path.read_bytes()
        if not data.strip():
            raise _Unreadable(Problem(str(path), "the file is empty", fix="export it again with its header row"))
        kind = binary_kind(data[:1 << 16])
        if kind is not None:
            raise _Unreadable(Problem(str(path), f"is not a text (CSV) file: it looks like {kind}",
                                      fix="point the mapping at the CSV export, or give this file's real type (.xlsx, .parquet) its suffix"))
        text, enc = decode(data, spec.encoding, str(path))
        header = next(csv.reader(io.StringIO(text.split("\n", 1)[0]), delimiter=spec.delimiter or ","), [])
        dup = duplicate_header_problem(header, str(path))
        if dup is not None:
            raise _Unreadable(dup)
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""], sep=spec.delimiter)
        df.attrs["lines"] = _record_lines(text, spec.delimiter or ",")
        return df, shown, enc, 1
    except _Unreadable:
        raise
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError, ImportError) as exc:
        msg = re.sub(r"\s+", " ", str(exc))[:200]
        raise _Unreadable(Problem(str(path), f"cannot be read: {msg}", fix="check the file format and the mapping")) from None


def _record_lines(text: str, delimiter: str = ",") -> list[int] | None:
    """The line (as an editor numbers it) on which each data record of CSV text starts,
    when blank lines or quoted line breaks make it differ from "header + position"
    (None: it does not)."""
    if '"' not in text and "\n\n" not in text and "\r\n\r\n" not in text:
        return None  # the common case, without parsing the text again
    return record_lines(io.StringIO(text, newline=""), delimiter)


def _with_provenance(df: pd.DataFrame, src: str, first_line: int) -> pd.DataFrame:
    lines = df.attrs.get("lines")
    df = df.copy()
    df.columns = [str(c).strip() for c in df.columns]
    df[_SRC] = src
    if lines is not None and len(lines) == len(df):
        df[_LINE] = np.asarray(lines, dtype="int64")
    else:
        df[_LINE] = np.arange(first_line, first_line + len(df))
    df.attrs.pop("lines", None)
    return df.reset_index(drop=True)


def _read_files(name: str, spec: Source, key: str, ctx: _Ctx) -> pd.DataFrame:
    paths: list[Path] = []
    for pattern in spec.files or []:
        full = os.path.normpath(pattern if Path(pattern).expanduser().is_absolute() else str(ctx.base / pattern))
        found = sorted(Path(p) for p in glob.glob(os.path.expanduser(full)))
        found = [p for p in found if p.is_file()]
        if not found:
            what = "file not found" if not glob.has_magic(pattern) else "no file matches this pattern"
            raise _Unreadable(Problem(full, what, where=f"key '{key}.files'",
                                      fix=f"check the path in {ctx.path} (relative to that mapping file) and that the export is there"))
        paths += [p for p in found if p not in paths]
    frames = []
    shown_all: list[str] = []
    first_cols: list[str] | None = None
    for p in paths:
        df, shown, enc, header = _read_file(p, spec, key, ctx)
        df = _with_provenance(df, shown, header + 1)
        cols = [c for c in df.columns if c not in (_SRC, _LINE)]
        if first_cols is None:
            first_cols = cols
        else:
            missing = [c for c in first_cols if c not in cols]
            if missing:
                ctx.problems.append(Problem(shown, f"lacks column(s) {', '.join(missing)} that {paths[0].name} has",
                                            where="header", fix="files matched by one pattern must have the same columns"))
        ctx.report.reads.append(SourceRead(name, shown, len(df), enc))
        shown_all.append(shown)
        ctx.inputs.append(p.resolve())
        frames.append(df)
    ctx.main_file.setdefault(name, paths[0].resolve())
    ctx.display.setdefault(name, ", ".join(shown_all))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _expand_env(text: str, key: str, ctx: _Ctx) -> str:
    def sub(m: re.Match) -> str:
        if m.group(1) not in os.environ:
            raise _Unreadable(ctx.key_problem(key, f"environment variable {m.group(1)} is not set",
                                              "set it before running (keep passwords out of the mapping file)"))
        return os.environ[m.group(1)]
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", sub, text)


def _db_file(url: str, scheme: str, key: str, ctx: _Ctx) -> Path:
    rest = url[len(scheme):].split("?", 1)[0]
    p = Path(rest).expanduser()
    p = p if p.is_absolute() else (ctx.base / p).resolve()
    if not p.is_file():
        raise _Unreadable(Problem(str(p), "database file not found", where=f"key '{key}.sql.url'",
                                  fix="check the path (relative to the mapping file)"))
    return p


def _read_sql(name: str, spec: Sql, key: str, ctx: _Ctx) -> pd.DataFrame:
    """Run the query.  ``sqlite:///`` and ``duckdb:///`` files are opened read-only
    (DuckDB through its own Python API: ``duckdb_engine`` is not needed); any other
    URL goes to SQLAlchemy (its driver must be installed)."""
    url = _expand_env(spec.url, f"{key}.sql.url", ctx)
    try:
        if url.startswith("duckdb:///"):
            import duckdb

            path = _db_file(url, "duckdb:///", key, ctx)
            shown = f"{path} (query)"
            con = duckdb.connect(str(path), read_only=True)
            try:
                df = con.execute(spec.query).fetchdf()
            finally:
                con.close()
            ctx.inputs.append(path)
            ctx.main_file.setdefault(name, path)
        else:
            import sqlalchemy as sa

            if url.startswith("sqlite:///"):
                path = _db_file(url, "sqlite:///", key, ctx)
                uri = f"file:{quote(str(path))}?mode=ro"
                engine = sa.create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
                shown = f"{path} (query)"
                ctx.inputs.append(path)
                ctx.main_file.setdefault(name, path)
            else:
                engine = sa.create_engine(url)
                shown = f"{engine.url.render_as_string(hide_password=True)} (query)"
            try:
                with engine.connect() as conn:
                    df = pd.read_sql_query(sa.text(spec.query), conn)
            finally:
                engine.dispose()
    except _Unreadable:
        raise
    except ImportError as exc:
        raise _Unreadable(ctx.key_problem(f"{key}.sql.url", f"the database driver is not installed ({exc.name})",
                                          f"install the Python package for this database, e.g. pip install {exc.name}")) from None
    except Exception as exc:  # database errors: the driver's own message is the useful part
        msg = re.sub(r"\s+", " ", str(exc).split("\n[SQL:")[0])[:300]
        raise _Unreadable(ctx.key_problem(f"{key}.sql.query", f"the query failed: {msg}",
                                          "check the query (table and column names) against the database")) from None
    ctx.report.reads.append(SourceRead(name, shown, len(df)))
    ctx.display.setdefault(name, shown)
    return _with_provenance(df, shown, 1)


def _read_rows(name: str, spec: Source, key: str, ctx: _Ctx) -> pd.DataFrame:
    df = pd.DataFrame.from_records(spec.rows or [])
    shown = f"{ctx.path}: {key}.rows"
    ctx.report.reads.append(SourceRead(name, shown, len(df)))
    ctx.main_file.setdefault(name, ctx.path.resolve())
    ctx.display.setdefault(name, shown)
    return _with_provenance(df, shown, 1)


# --------------------------------------------------------------------------- derived tables


def _from_orders(name: str, spec: Source, key: str, ctx: _Ctx) -> pd.DataFrame:
    """Who is responsible for each customer, month by month, from the mapped orders
    (``assignments: {from_orders: {rule: share, months: 12}}``)."""
    from helpers.data.responsibility import from_orders

    fo = spec.from_orders
    assert fo is not None
    if name != "assignments":
        raise _Unreadable(ctx.key_problem(f"{key}.from_orders", "from_orders makes the assignments table only",
                                          "use it under tables.assignments"))
    o = ctx.frames.get("orders")
    if o is None:
        raise _Unreadable(ctx.key_problem(f"{key}.from_orders", "needs the orders table", "map tables.orders"))
    o = pd.DataFrame({"customer_id": o["customer_id"], "manager_id": o["manager_id"],
                      "date": pd.to_datetime(o["date"], errors="coerce"),
                      "amount": pd.to_numeric(o["amount"], errors="coerce")})
    a = from_orders(o.dropna(subset=["date", "amount"]), fo.rule, fo.months, fo.by)
    shown = f"{ctx.path}: {key}.from_orders"
    ctx.report.reads.append(SourceRead(name, shown, len(a)))
    ctx.main_file.setdefault(name, ctx.path.resolve())
    ctx.display.setdefault(name, shown)
    a = a.assign(start_date=a["start_date"].dt.strftime("%Y-%m-%d"), end_date=a["end_date"].dt.strftime("%Y-%m-%d"))
    return _with_provenance(a, shown, 1)


def _aggregate(name: str, spec: Source, key: str, ctx: _Ctx) -> pd.DataFrame:
    """One row per distinct key of another table or lookup (see the module docstring)."""
    ft = spec.from_table
    assert ft is not None
    src = _table_or_lookup(ft.table, ctx)
    assert src is not None  # _check_mapping: a table or lookup of this mapping, built before
    if ft.key not in src.columns:
        raise _Unreadable(ctx.key_problem(f"{key}.from_table.key", f"table {ft.table} has no column '{ft.key}'"))
    src = src[src[ft.key].notna()]
    keys = pd.Index(pd.unique(src[ft.key]))
    first = src.drop_duplicates(ft.key).set_index(ft.key)
    out = pd.DataFrame({ft.key: keys})
    out[_SRC] = first[_SRC].reindex(keys).to_numpy()
    out[_LINE] = first[_LINE].reindex(keys).to_numpy()
    for col, agg in spec.aggregate.items():
        c = agg.column
        where = f"{key}.aggregate.{col}"
        for needed in (c, agg.by):
            if needed is not None and needed not in src.columns:
                ctx.problems.append(ctx.key_problem(where, f"table {ft.table} has no column '{needed}'",
                                                    f"columns there: {', '.join(_visible(src))}"))
                break
        else:
            typed = _typed_for(src, agg, ft.table, where, ctx)
            if typed is not None:
                g = typed.groupby(ft.key, sort=False)
                out[col] = _agg_column(typed, g, ft.key, agg, ctx).reindex(keys).to_numpy()
                ctx.origin[name][col] = f"{agg.kind} {c or 'rows'} of {ft.table}"
    ctx.report.reads.append(SourceRead(name, f"derived from {ft.table} (one row per {ft.key})", len(out)))
    ctx.main_file.setdefault(name, ctx.main_file.get(ft.table, ctx.path.resolve()))
    ctx.display.setdefault(name, f"{name} derived from {ft.table} ({ctx.display.get(ft.table, '')})")
    return out


def _table_or_lookup(name: str, ctx: _Ctx) -> pd.DataFrame | None:
    """The working frame of a canonical table of this mapping, else of a lookup."""
    return ctx.frames[name] if name in ctx.frames else ctx.lookups.get(name)


def _source_key(table: str, ctx: _Ctx) -> tuple[str, Source | None]:
    if table in ctx.mapping.tables:
        return f"tables.{table}", ctx.mapping.tables[table]
    return f"lookups.{table}", ctx.mapping.lookups.get(table)


def _typed(src: pd.DataFrame, column: str, role: str, table: str, use: str, key: str, ctx: _Ctx) -> pd.Series | None:
    """``src[column]`` as the numbers or dates an aggregate needs (None: a problem was listed).

    ``role`` 'date': a column of dates (``idle``); 'number' (``sum``, a weight ``by``):
    numbers, text read with the source's ``numbers`` format; 'order' (``min``, ``max``,
    an order ``by``): dates or numbers.  Text is never compared as text: '03/01/26' is
    not before '28/12/25' because its characters sort first."""
    s = src[column]
    source_key, source_spec = _source_key(table, ctx)
    if pd.api.types.is_datetime64_any_dtype(s):
        if role == "number":
            ctx.problems.append(ctx.key_problem(key, f"'{column}' of {table} holds dates, not numbers ({use})",
                                                "name a number column"))
            return None
        return s
    if role == "date":
        ctx.problems.append(ctx.key_problem(key, f"'{column}' of {table} is not a column of dates ({use})",
                                            f"name the mapped date column, or declare its format under {source_key}.dates"))
        return None
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype("float64")
    fmt = source_spec.numbers if source_spec is not None else NumberFormat()
    values, bad = parse_numbers(_as_text(s), fmt)
    if bad.any():
        first = _as_text(s)[bad].iloc[0]
        dates = f"declare its format under {source_key}.dates, " if role == "order" else ""
        ctx.problems += _row_problems(src, bad, column, f"'{first}' is not a number ({use}, key '{key}')",
                                      f"{dates}name a {'date or ' if role == 'order' else ''}number column, "
                                      f"or declare how numbers are written under {source_key}.numbers")
        return None
    return values


def _typed_for(src: pd.DataFrame, agg: Aggregate, table: str, key: str, ctx: _Ctx) -> pd.DataFrame | None:
    """``src`` with the columns ``agg`` computes on as numbers or dates (None: a problem was listed)."""
    roles = {"sum": "number", "min": "order", "max": "order", "idle": "date"}
    need: dict[str, tuple[str, str]] = {}
    if agg.kind in roles and agg.column is not None:
        need[agg.column] = (roles[agg.kind], f"{agg.kind} of {agg.column}")
    if agg.by is not None and agg.kind in ("top", "first", "last"):
        need.setdefault(agg.by, ("number" if agg.kind == "top" else "order", f"{agg.kind} by {agg.by}"))
    if not need:
        return src
    out = src.copy()
    for column, (role, use) in need.items():
        typed = _typed(src, column, role, table, use, key, ctx)
        if typed is None:
            return None
        out[column] = typed.to_numpy()
    return out


def _agg_column(src: pd.DataFrame, g: Any, key: str, agg: Aggregate, ctx: _Ctx) -> pd.Series:
    c = agg.column
    if agg.kind == "count":
        return g.size()
    if agg.kind in ("min", "max", "sum"):
        return getattr(g[c], agg.kind)()
    if agg.kind in ("first", "last"):
        ordered = src.sort_values(agg.by, kind="stable") if agg.by else src
        ordered = ordered[ordered[c].notna()]
        return ordered.groupby(key, sort=False)[c].agg(agg.kind)
    if agg.kind == "top":
        weight = src[agg.by] if agg.by else pd.Series(1.0, index=src.index)
        w = pd.DataFrame({key: src[key], "v": src[c], "w": weight}).dropna(subset=["v"])
        tot = w.groupby([key, "v"], sort=True)["w"].sum().reset_index()
        tot = tot.sort_values([key, "w", "v"], ascending=[True, False, True], kind="stable")
        return tot.drop_duplicates(key).set_index(key)["v"]
    # idle: lost date
    last = g[c].max()
    ref = ctx.as_of if ctx.as_of is not None else src[c].max()
    cutoff = ref - pd.DateOffset(months=agg.months)
    lost = last < cutoff
    lost_date = last if agg.lost_date == "last_order" else last + pd.DateOffset(months=agg.months)
    return lost_date.where(lost)


# --------------------------------------------------------------------------- mapping steps


def _shown(ctx: _Ctx, name: str, col: str) -> str:
    """A canonical column as the analyst knows it: 'Order Date (→ date)'."""
    origin = ctx.origin.get(name, {}).get(col)
    return f"{origin} (→ {col})" if origin and origin != col else col


def _visible(w: pd.DataFrame) -> list[str]:
    return [str(c) for c in w.columns if c not in (_SRC, _LINE)]


def _need(w: pd.DataFrame, col: str, key: str, ctx: _Ctx, name: str) -> bool:
    if col in w.columns:
        return True
    ctx.problems.append(ctx.key_problem(key, f"column '{col}' not found in {ctx.display.get(name, name)}",
                                        f"columns there: {', '.join(_visible(w)) or 'none'}"))
    return False


def _drop(w: pd.DataFrame, mask: pd.Series, name: str, reason: str, ctx: _Ctx) -> pd.DataFrame:
    if mask.any():
        for src, grp in w.loc[mask.to_numpy(), [_SRC, _LINE]].groupby(_SRC, sort=False):
            ctx.report.dropped.append(Dropped(name, str(src), reason, len(grp), _where_rows(grp[_LINE].tolist())))
    return w.loc[~mask.to_numpy()].reset_index(drop=True)


def _apply_map(w: pd.DataFrame, values: pd.Series, table: dict[str, str | None], unmatched: str, default: str | None,
               name: str, column: str, shown: str, ctx: _Ctx) -> tuple[pd.DataFrame, pd.Series]:
    """Map text values; report misses (value, rows) and act on them."""
    text = _as_text(values)
    mapped = text.map(table)
    miss = text.notna() & ~text.isin(list(table))
    action = {"error": "an error", "keep": "kept as is", "drop": "rows dropped",
              "default": f"replaced by '{default}'"}[unmatched]
    if miss.any():
        for value, idx in text[miss].groupby(text[miss], sort=True).groups.items():
            rows = w.loc[idx, [_SRC, _LINE]]
            for src, grp in rows.groupby(_SRC, sort=False):
                ctx.report.misses.append(Miss(name, column, str(value), len(grp), action, str(src),
                                              f"{_where_rows(grp[_LINE].tolist())}, column {shown}"))
        if unmatched == "error":
            first = text[miss].iloc[0]
            ctx.problems += _row_problems(w, miss, shown, f"'{first}' is not in the value map for {name}.{column}"
                                          + (f" ({text[miss].nunique()} distinct values)" if text[miss].nunique() > 1 else ""),
                                          "add the value(s) to the map, or set unmatched: keep / drop / default")
        elif unmatched == "keep":
            mapped = mapped.where(~miss, text)
        elif unmatched == "default":
            mapped = mapped.where(~miss, default)
    if unmatched == "drop" and miss.any():
        keep = ~miss
        w = _drop(w, miss, name, f"{column}: value not in the value map", ctx)
        mapped = mapped[keep.to_numpy()].reset_index(drop=True)
    return w, mapped


def parse_numbers(s: pd.Series, fmt: NumberFormat) -> tuple[pd.Series, pd.Series]:
    """Numbers written as text → float; returns (values, bad-mask).

    Strips the declared currency signs and spaces, reads ``(1,234.50)`` and a
    trailing ``-`` as negative, checks the thousands grouping (so '1.234,5' under
    decimal '.' is an error, not 1.2345) and converts the decimal separator.
    """
    present = s.notna()
    t = s.astype("object").where(present, "").astype("str")
    for sign in sorted(fmt.currency, key=len, reverse=True):
        t = t.str.replace(sign, "", regex=False)
    t = t.str.replace(r"[\s\u00a0\u202f]+", " ", regex=True).str.strip()
    neg = t.str.match(r"^\(.*\)$") | t.str.endswith("-")
    t = t.str.replace(r"^\((.*)\)$", r"\1", regex=True).str.replace(r"-$", "", regex=True).str.strip()
    d = re.escape(fmt.decimal)
    if fmt.thousands:
        th = re.escape(fmt.thousands)
        pattern = rf"^[+-]?(\d{{1,3}}({th}\d{{3}})+|\d+)({d}\d+)?$|^[+-]?{d}\d+$"
    else:
        pattern = rf"^[+-]?\d+({d}\d+)?$|^[+-]?{d}\d+$"
    ok = t.str.match(pattern)
    plain = t.str.replace(fmt.thousands, "", regex=False) if fmt.thousands else t
    plain = plain.str.replace(fmt.decimal, ".", regex=False)
    out = pd.to_numeric(plain.where(ok & present), errors="coerce").astype("float64")
    out = out.where(~neg, -out)
    bad = present & (t != "") & ~ok
    return out.where(present & (t != "")), bad


def parse_dates(s: pd.Series, formats: list[str]) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """(dates, not a date in the formats, has a time-zone offset, outside the years the workbook handles)."""
    none = pd.Series(False, index=s.index)
    if pd.api.types.is_datetime64_any_dtype(s):
        return s, none, none, none
    text = _as_text(s)
    tz = text.notna() & text.fillna("").str.match(_TZ_RE)
    todo = text.where(~tz)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    out_of_range = none.copy()
    for fmt in formats:
        left = out.isna() & todo.notna() & ~out_of_range
        if not left.any():
            break
        kw = {"format": "ISO8601"} if fmt == "ISO8601" else {"format": fmt}
        try:
            got = pd.to_datetime(todo.where(left), errors="coerce", **kw)
        except (ValueError, OverflowError):  # e.g. values pandas cannot place on one time line
            continue
        year = got.dt.year
        far = left & got.notna() & ((year < FIRST_YEAR) | (year > LAST_YEAR))
        out_of_range |= far
        got = got.where(~far)
        out = out.where(~left, got.astype("datetime64[ns]"))
    return out, todo.notna() & out.isna() & ~out_of_range, tz, out_of_range


def _derive(w: pd.DataFrame, name: str, col: str, d: Derive, key: str, ctx: _Ctx) -> pd.DataFrame:
    if d.template is not None:
        fields = _FIELD.findall(d.template)
        missing = [f for f in fields if f not in w.columns]
        if not fields or missing:
            ctx.problems.append(ctx.key_problem(f"{key}.template", f"column(s) {', '.join(missing) or '(none named)'} not found",
                                                f"write {{column}} for each part; columns: {', '.join(_visible(w))}"))
            return w
        parts = {f: _as_text(w[f]) for f in fields}
        empty = pd.concat([parts[f].isna() for f in fields], axis=1).any(axis=1)
        value = pd.Series("", index=w.index, dtype="object")
        pos = 0
        for m in _FIELD.finditer(d.template):
            value = value + d.template[pos:m.start()] + parts[m.group(1)].fillna("")
            pos = m.end()
        value = (value + d.template[pos:]).where(~empty, None)
        origin = d.template
    elif d.revenue_bands is not None:
        rb = d.revenue_bands
        other = _table_or_lookup(rb.table, ctx)
        if other is None:
            ctx.problems.append(ctx.key_problem(f"{key}.revenue_bands.table", f"table '{rb.table}' is not mapped before {name}"))
            return w
        for c, k in ((rb.key, f"{key}.revenue_bands.key"), (rb.amount, f"{key}.revenue_bands.amount")):
            if not _need(other, c, k, ctx, rb.table):
                return w
        if not _need(w, rb.key, f"{key}.revenue_bands.key", ctx, name):
            return w
        amounts = _typed(other, rb.amount, "number", rb.table, f"revenue bands of {rb.amount}",
                         f"{key}.revenue_bands.amount", ctx)
        if amounts is None:
            return w
        totals = amounts.groupby(other[rb.key]).sum()
        total = w[rb.key].map(totals).fillna(0.0).astype("float64")
        value = pd.Series(None, index=w.index, dtype="object")
        for band in sorted(rb.bands, key=lambda b: b.min):
            value = value.where(total < band.min, band.value)
        below = value.isna()
        if below.any():
            lowest = min(b.min for b in rb.bands)
            ctx.problems += _row_problems(w, below, col, f"total {rb.amount} below the lowest band ({lowest:g})",
                                          "add a band with min: 0 (or lower)")
        counts = value.value_counts()
        shares = ", ".join(f"{b.value} (≥ {b.min:g}): {counts.get(b.value, 0):,}" for b in sorted(rb.bands, key=lambda b: -b.min))
        ctx.report.notes.append(Problem(ctx.display.get(name, name), f"{col} from revenue bands of total {rb.amount}: {shares}",
                                        where=f"key '{key}'"))
        origin = f"revenue bands of {rb.table}.{rb.amount}"
    else:
        src = d.from_ or ""
        if not _need(w, src, f"{key}.from", ctx, name):
            return w
        value = _as_text(w[src])
        origin = src
        if d.map is not None:
            w, value = _apply_map(w, w[src], d.map, d.unmatched, d.default, name, col, src, ctx)
        elif d.lookup is not None:
            lk = d.lookup
            table = ctx.lookups.get(lk.table, ctx.frames.get(lk.table))
            if table is None:
                ctx.problems.append(ctx.key_problem(f"{key}.lookup.table", f"no lookup or table named '{lk.table}' (mapped before {name})"))
                return w
            for c in (lk.key, lk.value):
                if not _need(table, c, f"{key}.lookup", ctx, lk.table):
                    return w
            pairs = pd.DataFrame({"k": _as_text(table[lk.key]), "v": _as_text(table[lk.value])}).dropna(subset=["k"])
            pairs = pairs.drop_duplicates()
            dup = pairs["k"][pairs["k"].duplicated()]
            if len(dup):
                ctx.problems.append(ctx.key_problem(f"{key}.lookup", f"'{dup.iloc[0]}' has more than one {lk.value} in {lk.table}",
                                                    f"a lookup key must be unique in {lk.table}.{lk.key}"))
                return w
            w, value = _apply_map(w, w[src], dict(zip(pairs["k"], pairs["v"])), d.unmatched, d.default, name, col, src, ctx)
            origin = f"{src} via {lk.table}.{lk.key} → {lk.value}"
    if d.slug:  # after any kind: a template, a map or lookup, a band
        slugged = value.map(slugify, na_action="ignore")
        bad = value.notna() & (slugged == "")
        if bad.any():
            ctx.problems += _row_problems(w, bad, _shown(ctx, name, col) if d.from_ is None else d.from_,
                                          f"'{value[bad].iloc[0]}' has no letters or digits for an id",
                                          "use a map to give it an id")
        value = slugged.where(~bad, None)
    w = w.copy()
    w[col] = value.to_numpy()
    ctx.origin[name][col] = origin
    return w


def _join(w: pd.DataFrame, name: str, j: Join, key: str, ctx: _Ctx) -> pd.DataFrame:
    """Add the columns of another mapped table (many matches give many rows; use
    ``distinct`` to collapse them).  Clashing column names get ' (<table>)'."""
    other = _table_or_lookup(j.table, ctx)
    if other is None:
        ctx.problems.append(ctx.key_problem(f"{key}.join.table", f"table '{j.table}' is not mapped"))
        return w
    if not all(_need(w, c, f"{key}.join.match", ctx, name) for c in j.match) or \
            not all(_need(other, c, f"{key}.join.match", ctx, j.table) for c in j.match.values()):
        return w
    keys = [f"_k{i}" for i in range(len(j.match))]
    left = w.copy()
    right = other.drop(columns=[_SRC, _LINE] + [r for l, r in j.match.items() if l == r])
    right = right.rename(columns={c: f"{c} ({j.table})" for c in right.columns if c in left.columns})
    for k, (lcol, rcol) in zip(keys, j.match.items()):
        left[k] = _as_text(w[lcol])
        right[k] = _as_text(other[rcol])
    found = left[keys].merge(right[keys].drop_duplicates(), how="left", indicator=True)["_merge"].eq("both")
    miss = pd.Series(~found.to_numpy(), index=left.index)
    if miss.any():
        shown = ", ".join(j.match)
        if j.unmatched == "error":
            first = " / ".join(str(left.loc[miss, k].iloc[0]) for k in keys)
            ctx.problems += _row_problems(left, miss, shown, f"'{first}' is not found in {j.table}",
                                          "correct it, or set join.unmatched: drop (the rows are then counted as dropped)")
            return w
        left = _drop(left, miss, name, f"no matching row in {j.table} ({shown})", ctx)
    return left.merge(right, how="inner", on=keys).drop(columns=keys).reset_index(drop=True)


def _build(name: str, spec: Source, key: str, ctx: _Ctx, canonical: bool) -> pd.DataFrame:
    """Read one source and apply its mapping steps; returns the working frame."""
    kind = spec.kind
    ctx.origin[name] = {}
    if kind == "files":
        w = _read_files(name, spec, key, ctx)
    elif kind == "sql":
        assert spec.sql is not None
        w = _read_sql(name, spec.sql, key, ctx)
    elif kind == "rows":
        w = _read_rows(name, spec, key, ctx)
    elif kind == "from_orders":
        w = _from_orders(name, spec, key, ctx)
    else:
        w = _aggregate(name, spec, key, ctx)
    if spec.join is not None:
        w = _join(w, name, spec.join, key, ctx)
    for col, allowed in spec.keep.items():
        if _need(w, col, f"{key}.keep.{col}", ctx, name):
            w = _drop(w, ~_as_text(w[col]).isin(allowed), name, f"{col} not in {allowed}", ctx)
    data_cols = _visible(w)
    if data_cols:
        empty = pd.concat([_blank(w[c]) for c in data_cols], axis=1).all(axis=1)
        w = _drop(w, empty, name, "empty row", ctx)
    table = TABLES.get(name) if canonical else None
    for col, src in spec.columns.items():
        if _need(w, src, f"{key}.columns.{col}", ctx, name):
            w[col] = w[src]
            ctx.origin[name][col] = src
    for col, value in spec.constants.items():
        w[col] = pd.Series([value] * len(w), index=w.index, dtype="object")
        ctx.origin[name][col] = f"constant {value!r}"
    for col, vm in spec.values.items():
        if _need(w, col, f"{key}.values.{col}", ctx, name):
            w, mapped = _apply_map(w, w[col], vm.map, vm.unmatched, vm.default, name, col, _shown(ctx, name, col), ctx)
            w[col] = mapped.to_numpy()
    date_cols = dict(spec.dates)
    if table is not None:
        for c in table.columns:
            if c.kind == "date" and c.name in w.columns and c.name not in date_cols:
                date_cols[c.name] = "ISO8601"
    for col, fmts in date_cols.items():
        if not _need(w, col, f"{key}.dates.{col}", ctx, name):
            continue
        fmts = [fmts] if isinstance(fmts, str) else fmts
        parsed, bad, tz, far = parse_dates(w[col], fmts)
        shown_col, text = _shown(ctx, name, col), _as_text(w[col])
        if bad.any():
            declared = fmts if col in spec.dates else []
            ctx.problems += _row_problems(w, bad, shown_col, f"'{text[bad].iloc[0]}' is not a date in the form {' or '.join(fmts)}",
                                          date_format_hint(text, bad, col, declared, f"under {key}"))
        if tz.any():
            ctx.problems += _row_problems(w, tz, shown_col, f"'{text[tz].iloc[0]}' has a time-zone offset",
                                          "export the local calendar date (the workbook counts days, not instants)")
        if far.any():
            ctx.problems += _row_problems(w, far, shown_col, f"'{text[far].iloc[0]}' is outside the years {FIRST_YEAR}–{LAST_YEAR}",
                                          "correct the date (leave the cell empty for no date)")
        w[col] = parsed
    if table is not None:
        for c in table.columns:
            if c.kind == "number" and c.name in w.columns and _is_text(w[c.name]):
                values, bad = parse_numbers(w[c.name], spec.numbers)
                if bad.any():
                    first = w.loc[bad, c.name].iloc[0]
                    ctx.problems += _row_problems(w, bad, _shown(ctx, name, c.name),
                                                  f"'{first}' is not a number (decimal '{spec.numbers.decimal}', thousands "
                                                  f"'{spec.numbers.thousands}', currency {spec.numbers.currency})",
                                                  f"correct it, or declare how numbers are written under {key}.numbers")
                w[c.name] = values
    for col, d in spec.derive.items():
        w = _derive(w, name, col, d, f"{key}.derive.{col}", ctx)
    if spec.distinct:
        if all(_need(w, c, f"{key}.distinct", ctx, name) for c in spec.distinct):
            dup = w.duplicated(subset=spec.distinct, keep="first")
            if dup.any():
                ctx.report.notes.append(Problem(ctx.display.get(name, name), f"{len(w):,} row(s) merged into "
                                                f"{int((~dup).sum()):,}: one row per {', '.join(spec.distinct)}", where=name))
            w = w[~dup.to_numpy()].reset_index(drop=True)
    return w


# --------------------------------------------------------------------------- load


def _dependencies(spec: Source) -> set[str]:
    deps: set[str] = set()
    if spec.from_table is not None:
        deps.add(spec.from_table.table)
    if spec.from_orders is not None:
        deps.add("orders")
    if spec.join is not None:
        deps.add(spec.join.table)
    for d in spec.derive.values():
        if d.lookup is not None:
            deps.add(d.lookup.table)
        if d.revenue_bands is not None:
            deps.add(d.revenue_bands.table)
    return deps


def _check_mapping(m: Mapping, ctx: _Ctx) -> list[str]:
    """Names and references; returns the tables in an order that respects dependencies."""
    problems: list[Problem] = []
    for name, spec in m.tables.items():
        key = f"tables.{name}"
        if name not in TABLES:
            problems.append(ctx.key_problem(key, f"'{name}' is not a canonical table", f"use one of: {', '.join(TABLES)}"))
            continue
        known = {c.name for c in TABLES[name].columns}
        defined: dict[str, str] = {}
        for part, cols in (("columns", spec.columns), ("constants", spec.constants), ("derive", spec.derive),
                           ("aggregate", spec.aggregate)):
            for col in cols:
                if col not in known:
                    problems.append(ctx.key_problem(f"{key}.{part}.{col}", f"'{col}' is not a column of {name}",
                                                    f"use one of: {', '.join(sorted(known))}"))
                elif col in defined:
                    problems.append(ctx.key_problem(f"{key}.{part}.{col}", f"'{col}' is also given under {defined[col]}",
                                                    "give each canonical column once"))
                defined.setdefault(col, part)
        for dep in _dependencies(spec):
            if dep not in m.tables and dep not in m.lookups:
                problems.append(ctx.key_problem(key, f"refers to '{dep}', which is neither a table nor a lookup here"))
            if dep == name:
                problems.append(ctx.key_problem(key, "refers to itself"))
    for name, spec in m.lookups.items():
        if name in TABLES:
            problems.append(ctx.key_problem(f"lookups.{name}", "a lookup cannot have the name of a canonical table",
                                            "rename it (e.g. people, regions)"))
        if spec.kind == "from_table" or _dependencies(spec):
            problems.append(ctx.key_problem(f"lookups.{name}", "a lookup is read as it is: no from_table, join, lookup or bands"))
    if problems:
        raise InputError(problems)
    order: list[str] = []
    visiting: set[str] = set()

    def visit(n: str, chain: list[str]) -> None:
        if n in order or n not in m.tables:
            return
        if n in visiting:
            raise InputError(ctx.key_problem("tables", f"circular references: {' → '.join(chain + [n])}"))
        visiting.add(n)
        for dep in sorted(_dependencies(m.tables[n])):
            visit(dep, chain + [n])
        visiting.discard(n)
        order.append(n)

    for n in m.tables:
        visit(n, [])
    return order


def read_mapping(path: str | Path) -> Mapping:
    """Load and validate a mapping file (safe YAML; unknown keys are errors)."""
    return load_model(path, Mapping, example="params/sources/superstore.yaml")


def _canonical_frame(name: str, w: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in TABLES[name].columns if c.name in w.columns]
    out = pd.DataFrame(index=range(len(w)))
    for c in cols:
        s = w[c.name].reset_index(drop=True)
        out[c.name] = _as_text(s) if c.kind in ("id", "text", "month", "period") else s
    return out


_WHERE = re.compile(r"^rows? (?P<rows>\d+(?:, \d+)*)(?: and (?P<more>\d+) more)?, column (?P<col>.+)$")


def _translate(p: Problem, labels: dict[str, str], ctx: _Ctx) -> list[Problem]:
    """A problem found by :func:`validate_tables` on a mapped table, pointed back at
    the export's file, rows and columns."""
    def readable(text: str) -> str:
        for label, name in labels.items():
            text = text.replace(label, ctx.display.get(name, name))
        return text

    name = labels.get(p.source)
    if name is None:
        return [Problem(readable(p.source), readable(p.what), p.where, readable(p.fix))]
    m = _WHERE.match(p.where)
    if not m:
        where = f"key 'tables.{name}'" + (f", {p.where}" if p.where else "")
        return [Problem(str(ctx.path), readable(p.what), where, readable(p.fix).replace(MAPPING_PLACE, f"under tables.{name}"))]
    prov = ctx.frames[name][[_SRC, _LINE]]
    col = m.group("col")
    shown = _shown(ctx, name, col)
    fix = readable(p.fix)
    value = _VALUE.match(p.what)
    if "slug: true" in fix and value:  # an id that is not a slug: say how the mapping makes one
        fix = _slug_fix(name, col, value.group(1), ctx)
    fix = fix.replace(MAPPING_PLACE, f"under tables.{name}")
    positions = [int(x) - 1 for x in m.group("rows").split(", ")]
    more = int(m.group("more") or 0)
    sel = prov.iloc[positions]
    out = []
    for i, (src, grp) in enumerate(sel.groupby(_SRC, sort=False)):
        where = _where_rows(grp[_LINE].tolist(), len(grp) + (more if i == 0 else 0))
        out.append(Problem(str(src), readable(p.what), f"{where}, column {shown}", fix))
    return out


_VALUE = re.compile(r"^'(.*?)' (?:must|is|contains|appears)")


def _slug_fix(name: str, col: str, value: str, ctx: _Ctx) -> str:
    """How this mapping makes ``name.col`` an id of letters, digits and '-', naming the
    export column it comes from."""
    spec = ctx.mapping.tables[name]
    key = f"tables.{name}"
    made = slugify(value)
    example = f" ('{value}' → '{made}')" if made else ""
    if col in spec.derive:
        return f"add slug: true to {key}.derive.{col}{example}"
    if col in spec.constants:
        return f"write {key}.constants.{col} with letters, digits, '-' and '_' only" + (f" (e.g. {made})" if made else "")
    if col in spec.aggregate and spec.from_table is not None:
        return (f"make the ids a slug in {spec.from_table.table}, which {col} comes from "
                f"(derive: {{...: {{from: <export column>, slug: true}}}}){example}")
    source = spec.columns.get(col, col)
    instead = f" instead of columns.{col}" if col in spec.columns else ""
    # said the same for every table that reads the column, so the message is given once
    return (f"use derive: {{{col}: {{from: {yaml_scalar(source)}, slug: true}}}}{instead} in each table that maps "
            f"{yaml_scalar(source)}{example}")


def _unique(problems: list[Problem]) -> list[Problem]:
    """Each problem once, in the order found.  Two canonical tables read from one export
    (orders and customers from the same file) meet the same cell: after pointing back
    at the export, their problems are the same line."""
    return list(dict.fromkeys(problems))


def load_mapped(mapping_path: str | Path, as_of: pd.Timestamp | None = None) -> MappedDataset:
    """Read the sources named by a mapping file (``data.source`` in a params file),
    map them and validate the result with :func:`helpers.data.tables.validate_tables`.

    Raises :class:`InputError` listing every problem (mapping keys; export files with
    rows and columns).  The returned dataset carries the :class:`MappingReport`.
    """
    path = Path(mapping_path)
    mapping = read_mapping(path)
    ctx = _Ctx(path=path, mapping=mapping, as_of=as_of, report=MappingReport(path), inputs=[path.resolve()])
    order = _check_mapping(mapping, ctx)
    for name, spec in mapping.lookups.items():
        try:
            ctx.lookups[name] = _build(name, spec, f"lookups.{name}", ctx, canonical=False)
        except _Unreadable as exc:
            ctx.problems.append(exc.problem)
    if ctx.problems:
        raise InputError(_unique(ctx.problems))
    skipped: set[str] = set()
    for name in order:
        spec = mapping.tables[name]
        key = f"tables.{name}"
        missing_deps = sorted(_dependencies(spec) & skipped)
        if missing_deps:
            p = ctx.key_problem(key, f"depends on {', '.join(missing_deps)}, which was left out")
            if spec.optional:
                ctx.report.skipped.append(p)
                skipped.add(name)
            else:
                ctx.problems.append(p)
            continue
        if _dependencies(spec) & ((set(mapping.tables) - set(ctx.frames)) - skipped):
            continue  # a dependency failed: its problems are listed
        n_before = len(ctx.problems)
        try:
            w = _build(name, spec, key, ctx, canonical=True)
        except _Unreadable as exc:
            if spec.optional:
                p = exc.problem
                ctx.report.skipped.append(Problem(p.source, f"table {name} left out (optional): {p.what}", p.where, p.fix))
                skipped.add(name)
            else:
                ctx.problems.append(exc.problem)
            continue
        if len(ctx.problems) > n_before:
            continue
        missing = [c.name for c in TABLES[name].columns if c.required and c.name not in w.columns]
        if missing:
            ctx.problems.append(ctx.key_problem(key, f"no mapping for column(s) {', '.join(missing)}",
                                                f"add them under columns (export column names: {', '.join(_visible(w))}), "
                                                "constants or derive"))
            continue
        ctx.frames[name] = w.reset_index(drop=True)
    if ctx.problems:
        raise InputError(_unique(ctx.problems))
    raw = {name: _canonical_frame(name, w) for name, w in ctx.frames.items()}
    labels = {f"<{name}>": name for name in raw}
    files = {name: Path(f"<{name}>") for name in raw}
    try:
        ds = validate_tables(raw, files, as_of=as_of)
    except InputError as exc:
        translated: list[Problem] = []
        for p in exc.problems:
            translated += _translate(p, labels, ctx)
        raise InputError(_unique(translated)) from None
    ctx.report.notes += [Problem(p.source, p.what, p.where, p.fix) for p in ds.warnings]
    main = {name: ctx.main_file.get(name, path.resolve()) for name in ds.tables}
    inputs = list(dict.fromkeys(ctx.inputs))
    return MappedDataset(tables=ds.tables, files=main, warnings=ctx.report.warnings(), report=ctx.report, inputs=inputs)

