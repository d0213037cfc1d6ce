"""Draft a source mapping from a folder of exports (``kpi-workbook map FOLDER``).

:func:`draft_mapping` reads every table in a folder — CSV/TSV/TXT files, each sheet of an
.xlsx/.xls workbook, Parquet files — and drafts a commented mapping file for
:mod:`helpers.data.sources`:

* text files: the encoding (charset-normalizer; the mapping says ``auto`` for UTF-8,
  UTF-8 with a BOM and GB18030, which the loader tells apart itself), the delimiter
  (``csv.Sniffer``, else counting ``, ; tab |``) and the header row;
* every column: dates and their format (day/month order from the values, two- or
  four-digit years; ISO dates need no format), numbers and how they are written, ids;
* for each canonical field of :data:`helpers.data.schema.TABLES`, the export columns that
  could hold it, by name (English and Chinese synonyms) and by content; the best goes
  into ``columns:``, the others into a comment beside it;
* which table is which: the largest table with a date, a customer and an amount is the
  orders (on a tie a text file wins over a workbook sheet); customers and managers come
  from their own tables when the folder has them, else they are derived from the orders
  (``from_table``), or the managers from a sheet of managers linked to the orders by a
  column both share (``lookup``).

Nothing is guessed silently: what the draft cannot decide becomes a numbered
``# QUESTION n:`` at the top of the file (and :attr:`Draft.questions`) — dates whose day
and month are all ≤ 12, a segment map, managers without employment dates — and the
draft writes its best answer so that the file can be validated at once.
:func:`draft_params` drafts the run parameters that go with it.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import textwrap
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

import charset_normalizer
import pandas as pd
import yaml

from helpers.data.schema import SEGMENTS, TABLES, TEAM_ID, Col
from helpers.data.sources import EXCEL_SUFFIXES, Mapping, NumberFormat, parse_dates, parse_numbers, slugify
from helpers.data.tables import DMY_DATE, MONTH_NAMES, YMD_DATE
from helpers.errors import InputError, Problem
from helpers.files import binary_kind

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
TABLE_SUFFIXES = TEXT_SUFFIXES + EXCEL_SUFFIXES + (".parquet",)
DELIMITERS = ",;\t|"
SAMPLE_LINES = 50  # lines used to find the delimiter and the header row
NOTEBOOKS = ("00_data_quality", "01_target_setting", "02_kpi_decomposition", "03_weighting_scenarios",
             "04_quarterly_review", "05_leadership_summary")

# --------------------------------------------------------------------------- names

NAMES: dict[str, tuple[str, ...]] = {
    # canonical field (or table.field) → export column names that mean it (lower case)
    "order_id": ("order id", "order no", "order number", "row id", "line id", "id", "no", "订单号", "订单编号",
                 "单号", "订单id", "单据编号", "流水号", "序号", "行号"),
    "date": ("date", "order date", "created", "created at", "created date", "create time", "transaction date",
             "日期", "订单日期", "下单日期", "下单时间", "创建日期", "创建时间", "交易日期", "销售日期", "时间"),
    "customer_id": ("customer id", "customer", "customer no", "customer code", "customer number", "account",
                    "account id", "client", "client id", "客户", "客户编号", "客户id", "客户代码", "客户号",
                    "客户名称"),
    "manager_id": ("manager", "manager id", "sales rep", "salesperson", "sales person", "rep", "agent", "owner",
                   "account manager", "account owner", "经理", "客户经理", "业务员", "销售员", "销售代表",
                   "负责人", "经理编号"),
    "amount": ("amount", "sales", "sales amount", "revenue", "value", "total", "net sales", "金额", "销售额",
               "销售金额", "订单金额", "成交金额", "收入", "营业额", "实收金额"),
    "profit": ("profit", "gross profit", "margin", "毛利", "毛利润", "利润", "毛利额"),
    "product_line": ("product line", "category", "product category", "product", "brand", "产品", "产品线",
                     "品类", "类别", "品牌", "商品类别", "产品类别"),
    "segment": ("segment", "customer segment", "customer type", "customer class", "customer tier", "tier",
                "客户类型", "客户分类", "客户等级", "客户类别", "客户级别"),
    "managers.manager_id": ("manager id", "employee id", "staff id", "rep id", "user id", "id", "工号",
                            "员工编号", "经理编号", "编号"),
    "managers.name": ("name", "manager", "manager name", "regional manager", "sales rep", "salesperson",
                      "employee", "employee name", "staff", "姓名", "名字", "经理", "客户经理", "员工姓名",
                      "业务员", "销售员"),
    "team_id": ("team", "team id", "group", "sales team", "团队", "小组", "部门", "组别", "销售团队"),
    "region": ("region", "area", "territory", "district", "区域", "地区", "大区", "片区", "营销区域", "销售区域"),
    "hire_date": ("hire date", "hired", "start date", "joined", "date of hire", "入职日期", "入职时间", "到岗日期"),
    "leave_date": ("leave date", "end date", "termination date", "left", "离职日期", "离职时间"),
    "acquired_date": ("acquired", "acquired date", "first order", "first order date", "first purchase",
                      "customer since", "since", "created", "created date", "开户日期", "建档日期", "首单日期",
                      "注册日期", "创建日期"),
    "lost_date": ("lost date", "churn date", "churned", "流失日期"),
    "referred_by": ("referred by", "referrer", "referral", "推荐人", "介绍人"),
    "team_name": ("team name", "name", "团队名称", "名称"),
    "csat": ("csat", "satisfaction", "satisfaction score", "满意度", "满意度评分"),
    "nps": ("nps", "likelihood to recommend", "推荐意愿", "净推荐值"),
    "complaint_id": ("complaint id", "ticket", "ticket id", "case id", "投诉编号", "工单号", "投诉单号"),
    "resolved": ("resolved", "solved", "closed", "已解决", "是否解决"),
    "escalated": ("escalated", "escalation", "升级", "是否升级"),
    "channel": ("channel", "method", "方式", "渠道", "拜访方式"),
    "month": ("month", "月份"),
    "market_size": ("market size", "market", "market sales", "市场规模", "市场容量", "市场总量"),
    "period": ("period", "month", "quarter", "考核期", "期间", "月份"),
    "dimension": ("dimension", "criterion", "维度", "考核项"),
    "score": ("score", "rating", "points", "得分", "分数", "评分"),
    "rater": ("rater", "reviewer", "rated by", "评分人", "考核人"),
    "lead_id": ("lead id", "lead", "线索编号", "线索id", "线索"),
    "converted": ("converted", "won", "conversion", "成交", "是否转化", "转化"),
    "start_month": ("start month", "开始月份"),
    "end_month": ("end month", "结束月份"),
}
_MANAGER_WORDS = ("manager", "rep", "agent", "owner", "salesperson", "sales person", "employee", "staff",
                  "经理", "业务员", "销售员", "销售代表", "负责人", "员工")
_SEGMENT_WORDS = ("segment", "type", "class", "tier", "类型", "分类", "等级", "类别", "级别")
AVOID: dict[str, tuple[str, ...]] = {
    # a column whose name holds one of these words never holds the field
    "customer_id": _MANAGER_WORDS + _SEGMENT_WORDS + ("date", "日期"),
    "amount": ("rep", "person", "quantity", "qty", "discount", "count", "price", "数量", "折扣", "单价", "员",
               "代表", "date", "日期"),
    "manager_id": ("date", "日期", "region", "区域"),
    "order_id": ("date", "日期"),
}
_ID_WORDS = ("id", "no", "code", "number", "key", "编号", "号", "代码", "编码")
_NAME_WORDS = ("name", "名称", "姓名", "名字")
TABLE_NAMES: dict[str, tuple[str, ...]] = {
    "managers": ("managers", "manager", "people", "staff", "employees", "sales reps", "reps", "users", "经理",
                 "客户经理", "员工", "人员", "销售人员"),
    "customers": ("customers", "customer", "clients", "accounts", "客户", "客户档案", "客户信息"),
    "orders": ("orders", "sales", "transactions", "订单", "销售", "销售明细"),
    "teams": ("teams", "团队"),
    "surveys": ("surveys", "survey", "satisfaction", "csat", "满意度", "调查", "回访"),
    "complaints": ("complaints", "tickets", "cases", "投诉"),
    "visits": ("visits", "calls", "activities", "拜访", "拜访记录"),
    "market": ("market", "market size", "市场", "市场规模"),
    "ratings": ("ratings", "appraisal", "scores", "评分", "考核"),
    "leads": ("leads", "线索", "商机"),
    "team_history": ("team history", "transfers", "调岗", "团队变动"),
}
SEGMENT_VALUES: dict[str, tuple[str, ...]] = {
    "key": ("key", "key account", "corporate", "enterprise", "large", "vip", "strategic", "major", "a",
            "大客户", "重点", "企业", "战略", "集团"),
    "small": ("small", "home office", "sme", "smb", "medium", "b", "小客户", "中小", "小微", "个体", "中型"),
    "walkin": ("walkin", "walk in", "consumer", "retail", "individual", "personal", "private", "c", "散客",
               "个人", "零售", "消费者"),
}
_STATUS_WORDS = ("status", "state", "状态", "订单状态")
_CJK = re.compile(r"[\u3400-\u9fff]")


def _norm(name: Any) -> str:
    """A column or file name for matching: lower case, separators as single spaces."""
    return re.sub(r"[\s_\-./()（）:：#]+", " ", str(name).lower()).strip()


def _has_word(text: str, word: str) -> bool:
    """``word`` in the normalised ``text``: as a whole word (Latin) or anywhere (Chinese)."""
    if _CJK.search(word):
        return word in text
    return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", text) is not None


def name_score(header: str, table: str, col: Col) -> float | None:
    """How well an export column's name says it holds ``table.col``: 1 the name itself
    (≈ a synonym), 0.6 a synonym inside it, 0 no hint; ids gain for 'ID'/'编号' and lose
    for 'name'.  None: the name rules the column out (e.g. 'Ship Date' for an order date)."""
    h = _norm(header)
    if any(_has_word(h, w) for w in AVOID.get(col.name, ())):
        return None
    words = NAMES.get(f"{table}.{col.name}", NAMES.get(col.name, ())) + (_norm(col.name),)
    if h in words:
        score = 1.0
    elif any(_has_word(h, w) for w in words):
        score = 0.6
    else:
        return 0.0
    if col.kind == "id":
        score += 0.2 * any(_has_word(h, w) for w in _ID_WORDS) - 0.3 * any(_has_word(h, w) for w in _NAME_WORDS)
    return max(score, 0.1)


def table_name_match(label: str) -> str | None:
    """The canonical table a file or sheet name suggests (the longest synonym found)."""
    h = _norm(label)
    best = max(((len(w), t) for t, words in TABLE_NAMES.items() for w in words if _has_word(h, w)), default=None)
    return best[1] if best else None


# --------------------------------------------------------------------------- columns


@dataclass
class DateGuess:
    """How a column's dates are written."""

    formats: list[str]  # empty: ISO dates or the workbook's own dates, no format needed
    dates: pd.Series  # the values as dates (NaT where they do not parse)
    ambiguous: bool = False  # every value has day and month ≤ 12
    conflict: bool = False  # some values are day first, others month first
    example: str = ""  # a value whose two readings differ
    from_column: str = ""  # the day/month order was taken from this column of the same file


@dataclass
class Profile:
    """What one column holds."""

    name: str
    text: pd.Series  # non-empty cells as stripped text
    rows: int
    date: DateGuess | None = None
    number: NumberFormat | None = None  # how its numbers are written, if every value is one
    numbers: pd.Series | None = None

    @property
    def distinct(self) -> int:
        return int(self.text.nunique())

    @property
    def unique(self) -> bool:
        return len(self.text) == self.rows and self.distinct == self.rows


def _text(s: pd.Series) -> pd.Series:
    """Non-empty cells as stripped text (dates as ISO, whole numbers without '.0')."""
    s = s.dropna()
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_float_dtype(s):
        out = s.map(lambda v: str(int(v)) if float(v).is_integer() and abs(v) < 2**53 else str(v))
    else:
        out = s.astype(str).str.strip()
    return out[out != ""]


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_CN_DATE = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")
_COMPACT = re.compile(r"^(?:19|20)\d{6}$")


def _parse(values: pd.Series, formats: list[str]) -> pd.Series:
    """Text → dates as the loader reads them (:func:`helpers.data.sources.parse_dates`)."""
    return parse_dates(values, formats or ["ISO8601"])[0]


def _time_format(m: pd.DataFrame) -> pd.Series:
    """' %H:%M' / 'T%H:%M:%S' / '' for each matched value."""
    hm = m["tsep"].fillna("") + m["h"].notna().map({True: "%H:%M", False: ""})
    return hm + m["s"].notna().map({True: ":%S", False: ""})


def _field_formats(m: pd.DataFrame, parts: tuple[str, str, str]) -> list[str]:
    """Formats of the values matched by :data:`~helpers.data.tables.DMY_DATE` or :data:`~helpers.data.tables.YMD_DATE`, most common first;
    ``parts`` gives each field's directive in order, "Y" for the year (%Y or %y by its digits)."""
    year = m["y"].str.len().map({4: "%Y", 2: "%y"})
    a, b, c = (year if x == "Y" else x for x in parts)
    shapes = a + m["sep"] + b + m["sep"] + c + _time_format(m)
    return shapes.value_counts().index.tolist()[:4]


def _swap(fmt: str) -> str:
    """Day first ↔ month first."""
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def _shape(formats: list[str]) -> list[str]:
    return [f.replace("%m", "%d") for f in formats]


def guess_date(s: pd.Series) -> DateGuess | None:
    """Is the column a date column, and how are its dates written?  None: it is not.

    Day/month order comes from the values: a first field above 12 means day first, a
    second field above 12 month first; if every value has both ≤ 12 the guess is day
    first and marked ambiguous (the caller asks).  At least 95 % of the values must parse.
    """
    if pd.api.types.is_datetime64_any_dtype(s):
        return DateGuess([], s)
    v = _text(s)
    if v.empty or v.str.match(r"^\d").mean() < 0.95:
        return None
    if s.dtype == object and s.dropna().map(lambda x: isinstance(x, (date, pd.Timestamp))).all():
        return DateGuess([], pd.to_datetime(s.dropna()))
    v = pd.Series(v.unique())  # exports repeat dates: each spelling once is enough
    guess = _guess_text_date(v)
    if guess is None:
        return None
    parsed = _parse(v, guess.formats)
    if parsed.notna().mean() < 0.95:
        return None
    guess.dates = parsed
    return guess


def _guess_text_date(v: pd.Series) -> DateGuess | None:
    none = pd.Series(dtype="datetime64[ns]")
    if v.str.match(_ISO).mean() >= 0.95:
        return DateGuess([], none)
    if v.str.match(_CN_DATE).mean() >= 0.95:
        return DateGuess(["%Y年%m月%d日"], none)
    if v.str.match(_COMPACT).mean() >= 0.95:
        return DateGuess(["%Y%m%d"], none)
    ymd = v.str.extract(YMD_DATE)
    if ymd["y"].notna().mean() >= 0.95:
        m = ymd.dropna(subset=["y"])
        return DateGuess(_field_formats(m, ("%Y", "%m", "%d")), none)
    dmy = v.str.extract(DMY_DATE)
    if dmy["a"].notna().mean() < 0.95:
        return None
    m = dmy.dropna(subset=["a"])
    a, b = m["a"].astype(int), m["b"].astype(int)
    if (a > 31).any() or (b > 31).any() or (a == 0).any() or (b == 0).any():
        return None
    day_first, month_first = bool((a > 12).any()), bool((b > 12).any())
    parts = ("%m", "%d", "Y") if month_first and not day_first else ("%d", "%m", "Y")
    differ = v[m.index][(a != b).to_numpy()]
    example = differ.iloc[0] if len(differ) else v.iloc[0]
    return DateGuess(_field_formats(m, parts), none, ambiguous=not (day_first or month_first),
                     conflict=day_first and month_first, example=example)


def _readings(example: str) -> str:
    """'03/04/19' → '3 April or 4 March'."""
    m = DMY_DATE.match(example)
    if not m:
        return ""
    a, b = int(m["a"]), int(m["b"])
    return f"{a} {MONTH_NAMES[b - 1]} or {b} {MONTH_NAMES[a - 1]}"


_NUMBER_FORMATS = ((".", ""), (".", ","), (",", ""), (",", "."), (",", " "), (".", " "), (".", "'"))
_CURRENCY = "¥￥$€£"
_NUMBERISH = re.compile(r"[-+(]?[\s¥￥$€£]*[\d.,' \u00a0\u202f]*\d[\d.,' \u00a0\u202f]*[\s¥￥$€£]*[)-]?")


def guess_number(s: pd.Series) -> tuple[NumberFormat, pd.Series] | None:
    """If every value is a number: how numbers are written (the first of
    :data:`_NUMBER_FORMATS` that reads them all) and the numbers."""
    if pd.api.types.is_bool_dtype(s):
        return None
    if pd.api.types.is_numeric_dtype(s):
        return NumberFormat(), s.dropna().astype("float64")
    v = _text(s)
    if v.empty or not v.str.fullmatch(_NUMBERISH).all() or v.str.match(r"^\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}").any():
        return None
    signs = [c for c in _CURRENCY if v.str.contains(c, regex=False).any()]
    for decimal, thousands in _NUMBER_FORMATS:
        fmt = NumberFormat(decimal=decimal, thousands=thousands, currency=signs)
        values, bad = parse_numbers(v, fmt)
        if not bad.any() and values.notna().all():
            return fmt, values
    return None


def profile(name: str, s: pd.Series) -> Profile:
    p = Profile(name, _text(s), len(s))
    num = guess_number(s)
    if num is not None:
        p.number, p.numbers = num
    if num is None or (len(p.text) and p.text.str.match(_COMPACT).all()):  # 20240305 is a number and a date
        p.date = guess_date(s)
    return p


# --------------------------------------------------------------------------- reading


@dataclass
class Found:
    """One table of the folder: a text or Parquet file (or several with the same header),
    or one sheet of a workbook."""

    files: list[Path]
    frame: pd.DataFrame
    sheet: str | None = None
    encoding: str = ""  # the Python codec it was read with (text files)
    detected: str = ""  # what charset-normalizer said
    delimiter: str = ""
    header_line: int = 1
    role: str = ""  # the canonical table drafted from it
    profiles: dict[str, Profile] = field(default_factory=dict)

    @property
    def label(self) -> str:
        names = ", ".join(p.name for p in self.files)
        return f"{names} [{self.sheet}]" if self.sheet else names

    @property
    def rows(self) -> int:
        return len(self.frame)

    @property
    def is_text(self) -> bool:
        return self.files[0].suffix.lower() in TEXT_SUFFIXES

    def col(self, name: str) -> Profile:
        if name not in self.profiles:
            self.profiles[name] = profile(name, self.frame[name])
        return self.profiles[name]


def detect_encoding(data: bytes) -> tuple[str, str]:
    """(Python codec to read the bytes with, what was detected).

    charset-normalizer ranks the encodings that decode the bytes by its own measures; on
    a short Chinese file it often ranks a Korean or Japanese codec first, which decode
    the same bytes without error.  Among the encodings it finds plausible, UTF-8 comes
    first, then GB18030 (the usual encoding of Chinese Excel exports), then its best."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "utf-8-sig (BOM)"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "utf-16 (BOM)"
    found = [codecs.lookup(m.encoding).name for m in charset_normalizer.from_bytes(data)]
    for codec in found:
        if codec in ("utf-8", "ascii"):
            return "utf-8", codec
    for codec in found:
        if codec in ("gb18030", "gbk", "gb2312", "hz"):
            return "gb18030", codec
    if found:
        return found[0], found[0]
    return "utf-8", "unknown"


def mapping_encoding(codec: str) -> str | None:
    """What the mapping writes for a file read with ``codec`` (None: it cannot say it)."""
    return "auto" if codec in ("utf-8", "utf-8-sig", "utf-16", "gb18030") else None


def _consistent(records: list[list[str]]) -> tuple[float, int]:
    """(share of records with the most common field count, that count)."""
    counts = pd.Series([len(r) for r in records if r])
    if counts.empty:
        return 0.0, 0
    mode = int(counts.mode().max())
    return float((counts == mode).mean()), mode


def sniff_delimiter(sample: str) -> str:
    """The delimiter of CSV text: csv.Sniffer's, if it splits the sample into a steady
    number of fields; else the one of ``, ; tab |`` that does so best."""
    def fit(d: str) -> tuple[float, int]:
        share, n = _consistent(list(csv.reader(io.StringIO(sample), delimiter=d)))
        return (share, n) if n > 1 else (0.0, 0)

    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
        if fit(sniffed)[0] >= 0.9:
            return sniffed
    except csv.Error:
        pass
    best = max(DELIMITERS, key=lambda d: (fit(d), -DELIMITERS.index(d)))
    return best if fit(best)[1] > 1 else ","


def header_line(sample: str, delimiter: str) -> int:
    """The line (1 = first) of the header: the first record with the usual number of
    fields, none of them empty (title lines above a table have fewer)."""
    records = list(csv.reader(io.StringIO(sample), delimiter=delimiter))
    _, n = _consistent(records)
    for i, r in enumerate(records[:20]):
        if len(r) == n and all(c.strip() for c in r):
            return i + 1
    return 1


def _clean(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df.columns = [str(c).strip() for c in df.columns]
    return df.dropna(how="all").reset_index(drop=True)


def read_text_table(path: Path) -> Found:
    data = path.read_bytes()
    if not data.strip():
        raise ValueError("the file is empty")
    kind = binary_kind(data[:1 << 16])
    if kind is not None:
        raise ValueError(f"it is not text: it looks like {kind}")
    codec, detected = detect_encoding(data)
    text = data.decode(codec)
    sample = "\n".join(text.splitlines()[:SAMPLE_LINES])
    delimiter = sniff_delimiter(sample)
    line = header_line(sample, delimiter)
    df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""], sep=delimiter,
                     skiprows=line - 1)
    return Found([path], _clean(df), encoding=codec, detected=detected, delimiter=delimiter, header_line=line)


def read_workbook(path: Path) -> list[Found]:
    """Each sheet with data (read as the loader reads it: calamine for .xls, openpyxl else)."""
    engine = "calamine" if path.suffix.lower() == ".xls" else "openpyxl"
    sheets = pd.read_excel(path, sheet_name=None, engine=engine)
    out = []
    for name, df in sheets.items():
        df = _clean(df)
        if len(df) and len(df.columns):
            out.append(Found([path], df, sheet=str(name)))
    return out


def _group_same_header(found: list[Found]) -> list[Found]:
    """Text files with the same header, delimiter and encoding become one table (monthly exports)."""
    groups: dict[tuple, Found] = {}
    out: list[Found] = []
    for f in found:
        key = (tuple(f.frame.columns), f.delimiter, f.encoding, f.header_line) if f.is_text else None
        if key is not None and key in groups:
            g = groups[key]
            g.files.append(f.files[0])
            g.frame = pd.concat([g.frame, f.frame], ignore_index=True)
            continue
        if key is not None:
            groups[key] = f
        out.append(f)
    return out


def scan(folder: Path) -> tuple[list[Found], list[str]]:
    """Every table in ``folder`` (not its subfolders); and a note for each file left out."""
    found: list[Found] = []
    skipped: list[str] = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$"))):
        suffix = path.suffix.lower()
        if suffix not in TABLE_SUFFIXES:
            continue
        try:
            if suffix in TEXT_SUFFIXES:
                found.append(read_text_table(path))
            elif suffix == ".parquet":
                found.append(Found([path], _clean(pd.read_parquet(path))))
            else:
                found += read_workbook(path)
        except Exception as exc:  # any reader's error: the file is left out, and said so
            msg = re.sub(r"\s+", " ", str(exc))[:160]
            skipped.append(f"{path.name}: cannot be read ({msg})")
    found = [f for f in _group_same_header(found) if len(f.frame) and len(f.frame.columns)]
    return found, skipped


# --------------------------------------------------------------------------- matching


@dataclass
class Choice:
    """An export column for a canonical field."""

    column: str
    score: float
    by_content: bool = False


def fits(p: Profile, col: Col) -> str | None:
    """Why the column cannot hold the canonical column ``col`` (None: it can)."""
    if p.text.empty:
        return "is empty"
    if col.kind == "date":
        return None if p.date is not None else "does not hold dates"
    if col.kind in ("number", "count"):
        if p.numbers is None:
            return "does not hold numbers"
        if col.min is not None and (p.numbers < col.min).any():
            return f"has values below {col.min:g}"
        if col.max is not None and (p.numbers > col.max).any():
            return f"has values above {col.max:g}"
        return None
    if col.kind == "id":
        if p.date is not None:
            return "holds dates"
        if p.numbers is not None and (p.numbers != p.numbers.round()).any():
            return "holds decimal numbers"
        if col.unique and not p.unique:
            return f"is not unique ({p.distinct:,} values for {p.rows:,} rows)"
        return None
    if col.kind == "bool":
        return None if p.distinct <= 2 else "has more than two values"
    if col.kind in ("month", "period"):
        return None if p.text.str.match(r"^\d{4}(-\d{2}|Q[1-4])$").all() else "does not hold months (YYYY-MM)"
    return None


def content_score(p: Profile, col: Col) -> float:
    """A column whose name says nothing: how much its content looks like ``col`` (only for
    what identifies the orders: date, customer, amount)."""
    if col.name == "date" and p.date is not None:
        return 0.3
    if col.name == "amount" and p.numbers is not None and (p.numbers >= 0).all():
        return 0.2 + 0.1 * bool((p.numbers != p.numbers.round()).any())
    if col.name == "customer_id" and p.numbers is None and p.date is None:
        short = p.text.str.len().mean() <= 40
        repeated = 1 < p.distinct < 0.9 * len(p.text)
        return 0.2 if short and repeated else 0.0
    return 0.0


def candidates(f: Found, table: str, col: Col, content: bool = False) -> tuple[list[Choice], list[str]]:
    """The columns of ``f`` that could hold ``table.col``, best first; and why named ones were rejected."""
    out: list[Choice] = []
    rejected: list[str] = []
    for name in f.frame.columns:
        score = name_score(name, table, col)
        if score is None:
            continue
        p = f.col(name)
        if score == 0:
            if content and col.name in ("date", "amount", "customer_id"):
                cs = content_score(p, col)
                if cs > 0:
                    out.append(Choice(name, cs, by_content=True))
            continue
        why = fits(p, col)
        if why is not None:
            if score >= 1:  # named exactly like it: say why it is not taken
                rejected.append(f"{name} {why}")
            continue
        if col.kind == "text" and p.distinct > 50:
            score *= 0.6  # product lines, segments, regions: few distinct values
        out.append(Choice(name, score))
    out.sort(key=lambda c: -c.score)  # stable: equal scores keep the export's column order
    return out, rejected


@dataclass
class Match:
    """The fields of one canonical table placed in one export table."""

    chosen: dict[str, Choice] = field(default_factory=dict)
    others: dict[str, list[str]] = field(default_factory=dict)  # field → other candidate columns
    rejected: dict[str, list[str]] = field(default_factory=dict)  # field → named columns that do not fit

    def col(self, name: str) -> str | None:
        c = self.chosen.get(name)
        return c.column if c else None


def match(f: Found, table: str, content: bool = False) -> Match:
    """Place the fields of ``table`` in ``f``: the best-scoring pairs first, each column once."""
    m = Match()
    pairs = []
    for col in TABLES[table].columns:
        found, rejected = candidates(f, table, col, content)
        pairs += [(c.score, col.name, c) for c in found]
        m.rejected[col.name] = rejected
    used: set[str] = set()
    for _, name, c in sorted(pairs, key=lambda x: -x[0]):
        if name not in m.chosen and c.column not in used:
            m.chosen[name] = c
            used.add(c.column)
    for _, name, c in pairs:
        if name in m.chosen and c.column != m.chosen[name].column and c.column not in m.others.setdefault(name, []):
            m.others[name].append(c.column)
    return m


# --------------------------------------------------------------------------- YAML


def _scalar(v: Any) -> str:
    """One YAML scalar: plain when YAML reads it back as the same string, else quoted."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, date):
        return v.isoformat()
    s = str(v)
    plain = s and not re.search(r"[,\[\]{}#&*!|>'\"%@`\n]|: |:$|^[-?:\s]|\s$", s)
    if plain:
        try:
            plain = yaml.safe_load(s) == s
        except yaml.YAMLError:
            plain = False
    return s if plain else '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _flow(v: Any) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_scalar(k)}: {_flow(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_flow(x) for x in v) + "]"
    return _scalar(v)


_BLOCK = {"tables", "lookups", "columns", "constants", "dates", "derive", "aggregate", "values"}


class Doc:
    """A YAML document as data, with comments before and beside its keys."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.before: dict[tuple, list[str]] = {}
        self.beside: dict[tuple, str] = {}

    def note(self, path: tuple, text: str) -> None:
        self.before.setdefault(path, []).append(text)

    def render(self) -> str:
        out: list[str] = []
        self._emit(self.data, (), out)
        return "\n".join(out) + "\n"

    def _flows(self, path: tuple, value: dict) -> bool:
        if len(path) <= 2 or path[-1] in _BLOCK:
            return False
        commented = any(p[:len(path)] == path and p != path for p in (*self.before, *self.beside))
        return not commented and len(_flow(value)) <= 100

    def _emit(self, node: dict, path: tuple, out: list[str]) -> None:
        pad = "  " * len(path)
        for key, value in node.items():
            p = path + (key,)
            for line in self.before.get(p, []):
                out += [f"{pad}# {x}" for x in textwrap.wrap(line, 100 - len(pad), subsequent_indent="  ")] or [f"{pad}#"]
            tail = f"  # {self.beside[p]}" if p in self.beside else ""
            if isinstance(value, dict) and value and not self._flows(p, value):
                out.append(f"{pad}{_scalar(key)}:{tail}")
                self._emit(value, p, out)
            elif isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
                out.append(f"{pad}{_scalar(key)}:{tail}")
                out += [f"{pad}  - {_flow(x)}" for x in value]
            else:
                out.append(f"{pad}{_scalar(key)}: {_flow(value)}{tail}")


# --------------------------------------------------------------------------- the draft


@dataclass
class Draft:
    """A drafted mapping: its text, its content, the questions it asks, the data's span."""

    text: str
    mapping: dict[str, Any]
    questions: list[str]
    first_date: date | None
    last_date: date | None
    sources: dict[str, str]  # canonical table → where it comes from


def _rel(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()


def _values_text(values: list[str], n: int = 6) -> str:
    shown = ", ".join(values[:n])
    return shown + (f" … ({len(values)} values)" if len(values) > n else "")


class _Drafter:
    """Builds one draft: picks the tables, places the fields, collects the questions."""

    def __init__(self, folder: Path, mapping_path: Path, found: list[Found], skipped: list[str]):
        self.folder, self.base, self.found, self.skipped = folder, mapping_path.parent, found, skipped
        self.doc = Doc()
        self.tables: dict[str, Any] = {}
        self.doc.data = {"description": f"Drafted by kpi-workbook map from {folder.name}", "tables": self.tables}
        self.questions: list[str] = []
        self.orders: Found | None = None
        self.om = Match()
        self.first: date | None = None
        self.last: date | None = None
        self.sources: dict[str, str] = {}
        # the managers: (their table, its id column, its name column, the manager_id derive rule)
        self.staff: tuple[Found | None, str | None, str | None, dict[str, Any] | None] = (None, None, None, None)

    # ---- helpers

    def ask(self, text: str) -> None:
        self.questions.append(text)

    def note(self, table: str, *keys: str, text: str) -> None:
        self.doc.note(("tables", table, *keys), text)

    def beside(self, table: str, *keys: str, text: str) -> None:
        self.doc.beside[("tables", table, *keys)] = text

    def source(self, f: Found, table: str) -> dict[str, Any]:
        """files / sheet / encoding / delimiter of a table read from ``f``."""
        files = [_rel(p, self.base) for p in f.files]
        spec: dict[str, Any] = {"files": files[0] if len(files) == 1 else files}
        if f.sheet:
            spec["sheet"] = f.sheet
        if f.is_text:
            enc = mapping_encoding(f.encoding)
            spec["encoding"] = enc or "auto"
            self.beside(table, "encoding", text=f"detected: {f.detected}")
            if enc is None:
                self.ask(f"{f.label} looks like {f.detected} text, which a mapping cannot declare (it reads UTF-8 "
                         "and GB18030): save it as UTF-8 (Excel: Save as → CSV UTF-8)")
            if f.delimiter != ",":
                spec["delimiter"] = f.delimiter
            if f.header_line > 1:
                self.ask(f"{f.label}: the header is on line {f.header_line} (the lines above look like a title), "
                         "but the loader reads line 1 as the header: delete the lines above it")
        f.role = table
        self.sources[table] = f.label
        return spec

    def place(self, f: Found, table: str, m: Match, spec: dict[str, Any], skip: tuple[str, ...] = ()) -> None:
        """Write the chosen columns of ``m`` into ``spec`` (columns, dates, numbers) with comments."""
        columns: dict[str, str] = {}
        dates: dict[str, Any] = {}
        numbers: NumberFormat | None = None
        for col in TABLES[table].columns:
            c = m.chosen.get(col.name)
            if c is None or col.name in skip:
                continue
            columns[col.name] = c.column
            comment = []
            if m.others.get(col.name):
                comment.append("also: " + ", ".join(m.others[col.name][:4]))
            if c.by_content:
                comment.append("by content only")
            if comment:
                self.beside(table, "columns", col.name, text="; ".join(comment))
            p = f.col(c.column)
            if col.kind == "date" and p.date is not None:
                self._date_format(f, table, col.name, p, dates)
            if col.kind == "number" and p.number is not None and p.number != NumberFormat():
                numbers = numbers or p.number
        spec["columns"] = columns
        if dates:
            spec["dates"] = dates
        if numbers is not None:
            spec["numbers"] = numbers.model_dump(exclude_defaults=True)

    def _date_format(self, f: Found, table: str, name: str, p: Profile, dates: dict[str, Any]) -> None:
        g = self._date_guess(f, p)
        if g.formats:
            dates[name] = g.formats[0] if len(g.formats) == 1 else g.formats
        fmt = g.formats[0] if g.formats else ""
        if g.ambiguous:
            self.ask(f"dates in column {p.name} of {f.label} are ambiguous: every value has day and month ≤ 12; "
                     f"is {g.example} {_readings(g.example)}? The draft reads them day first ({fmt}); "
                     f"if they are month first write {_swap(fmt)} under tables.{table}.dates.{name}")
        elif g.conflict:
            self.ask(f"dates in column {p.name} of {f.label} are written both day first and month first "
                     f"(e.g. {g.example}): correct the export; the draft reads them as {fmt}")
        elif g.from_column:
            self.beside(table, "dates", name, text=f"day/month order as in column {g.from_column} of the same file")

    def _date_guess(self, f: Found, p: Profile) -> DateGuess:
        """The column's date guess; an ambiguous one takes the day/month order of another
        date column of the same file written the same way whose values decide it."""
        g = p.date
        assert g is not None
        if not g.ambiguous:
            return g
        for other in f.frame.columns:
            q = f.col(other).date if other != p.name else None
            if q and q.formats and not (q.ambiguous or q.conflict) and _shape(q.formats)[:1] == _shape(g.formats)[:1]:
                month_first = q.formats[0].find("%m") < q.formats[0].find("%d")
                formats = [_swap(x) for x in g.formats] if month_first else g.formats
                return DateGuess(formats, g.dates, from_column=str(other))
        return g

    def dates_of(self, f: Found, column: str) -> pd.Series:
        if f.col(column).date is None:
            return pd.Series(dtype="datetime64[ns]")
        g = self._date_guess(f, f.col(column))
        return _parse(f.col(column).text, g.formats) if g.formats else pd.to_datetime(g.dates, errors="coerce")

    # ---- orders

    def pick_orders(self) -> Found:
        """The largest table with a date, a customer and an amount (by name, else by content)."""
        best = None
        for content in (False, True):
            for f in self.found:
                m = match(f, "orders", content=content)
                if all(k in m.chosen for k in ("date", "customer_id", "amount")):
                    rank = (f.rows, f.is_text, sum(c.score for c in m.chosen.values()))
                    if best is None or rank > best[0]:
                        best = (rank, f, m)
            if best is not None:
                break
        if best is None:
            listed = "; ".join(f"{f.label}: {', '.join(map(str, f.frame.columns[:12]))}" for f in self.found)
            raise InputError(Problem(str(self.folder), "no table has a date, a customer and an amount column, so "
                                     "none can be the orders", fix=f"tables found: {listed}"))
        self.orders, self.om = best[1], best[2]
        return best[1]

    def draft_orders(self) -> dict[str, Any]:
        f, m = self.orders, self.om
        assert f is not None
        spec = self.source(f, "orders")
        self.note("orders", text=f"The largest table with a date, a customer and an amount ({f.rows:,} rows).")
        for twin in self.found:
            if twin is not f and list(twin.frame.columns) == list(f.frame.columns) and twin.rows == f.rows:
                self.note("orders", text=f"{twin.label} has the same columns and rows: not used.")
                twin.role = "not used (the same as the orders)"
        self.place(f, "orders", m, spec, skip=("manager_id",))
        for name in ("date", "customer_id", "amount"):
            c = m.chosen[name]
            if c.by_content:
                self.ask(f"orders.{name}: no column is named like one; the draft takes {c.column} by its content "
                         f"— check it (columns: {', '.join(map(str, f.frame.columns))})")
        self._order_id(f, m, spec)
        if "product_line" not in m.chosen:
            spec.setdefault("constants", {})["product_line"] = "all"
            self.ask("orders.product_line: no product or category column found; the draft puts every order in "
                     "one product line 'all' (tables.orders.constants)")
        self._status(f, spec)
        dates = self.dates_of(f, m.chosen["date"].column).dropna()
        if len(dates):
            self.first, self.last = dates.min().date(), dates.max().date()
        return spec

    def _order_id(self, f: Found, m: Match, spec: dict[str, Any]) -> None:
        """order_id: a unique column named like one; else any unique id-like column; else two
        columns that are unique together (named candidates, date and customer first)."""
        if "order_id" in m.chosen:
            if m.rejected.get("order_id"):
                self.beside("orders", "columns", "order_id", text=m.rejected["order_id"][0])
            return
        col = TABLES["orders"].col("order_id")
        used = {c.column for c in m.chosen.values()}
        single = next((c for c in f.frame.columns if c not in used and fits(f.col(c), col) is None), None)
        if single is not None:
            spec["columns"]["order_id"] = single
            self.ask(f"orders.order_id: no column is named like an order id; the draft takes {single}, whose values "
                     "are unique: check that it identifies an order line")
            return
        named = [w.split(" is not unique")[0] for w in m.rejected.get("order_id", []) if " is not unique" in w]
        pair = self._unique_pair(f, named[:1] + [m.chosen[k].column for k in ("date", "customer_id")])
        if pair:
            spec.setdefault("derive", {})["order_id"] = {"template": "-".join(f"{{{c}}}" for c in pair)}
            self.ask(f"orders.order_id: no column is unique on its own; the draft joins {' and '.join(pair)}, "
                     "which together are: check that they identify an order line")
        else:
            self.ask("orders.order_id: no column or pair of columns is unique: add a line number to the export "
                     f"and map it under tables.orders.columns.order_id (columns: {', '.join(map(str, f.frame.columns))})")

    def _unique_pair(self, f: Found, first: list[str]) -> tuple[str, str] | None:
        """Two columns without empty cells whose value pairs never repeat (``first`` tried first)."""
        ordered = list(dict.fromkeys(first + [c for c in f.frame.columns if f.col(c).numbers is None][:30]))
        for a, b in combinations(ordered, 2):
            if f.frame[[a, b]].notna().all().all() and not f.frame.duplicated(subset=[a, b]).any():
                return (a, b)
        return None

    def _status(self, f: Found, spec: dict[str, Any]) -> None:
        for name in f.frame.columns:
            if any(_has_word(_norm(name), w) for w in _STATUS_WORDS) and 1 < f.col(name).distinct <= 12:
                values = sorted(f.col(name).text.unique().tolist())
                self.ask(f"orders: column {name} has the values {_values_text(values)}: should cancelled or "
                         f"returned orders be left out? Then add tables.orders.keep: {{{name}: [the values to keep]}}")
                return

    # ---- managers

    def pick_managers(self) -> Found | None:
        """A table (not the orders) named like a list of staff, or with a column named like a manager."""
        best = None
        for f in self.found:
            if f is self.orders or f.role:
                continue
            named = table_name_match(f.sheet or f.files[0].stem) == "managers"
            score = max((name_score(c, "managers", TABLES["managers"].col("name")) or 0)
                        * any(_has_word(_norm(c), w) for w in _MANAGER_WORDS) for c in f.frame.columns)
            if (named or score > 0) and (best is None or (named, score, -f.rows) > best[0]):
                best = ((named, score, -f.rows), f)
        return best[1] if best else None

    def _name_column(self, f: Found, m: Match) -> str | None:
        return m.col("name") or next((c for c in f.frame.columns
                                      if any(_has_word(_norm(c), w) for w in _MANAGER_WORDS)), None)

    def draft_managers(self, f: Found | None) -> dict[str, Any]:
        if f is None:
            return self._managers_from_orders()
        spec = self.source(f, "managers")
        m = match(f, "managers")
        name = self._name_column(f, m)
        if name is not None and m.col("name") != name:
            m.chosen["name"] = Choice(name, 0.6)
        self.place(f, "managers", m, spec, skip=("manager_id", "team_id"))
        derive = spec.setdefault("derive", {})
        if m.col("manager_id"):
            spec["columns"] = {"manager_id": m.col("manager_id"), **spec["columns"]}
        elif name is not None:
            derive["manager_id"] = self._id_rule(f.col(name), name)
        else:
            self.ask(f"managers.manager_id: {f.label} has no id or name column for the managers")
        self._team(f, m, spec, "managers")
        self._employment(spec, f"{f.label} (columns {_values_text(list(map(str, f.frame.columns)))})", m)
        self._link_orders(f, m, spec)
        if not derive:
            del spec["derive"]
        return spec

    def _id_rule(self, p: Profile, column: str) -> dict[str, Any]:
        """manager_id from names: as a slug ('Sadie Pawthorne' → sadie-pawthorne) when the
        slugs stay distinct, else the names themselves."""
        values = p.text.unique().tolist()
        slugs = {slugify(v) for v in values}
        if "" not in slugs and len(slugs) == len(values):
            return {"from": column, "slug": True}
        return {"from": column}

    def _team_rule(self, values: list[str], column: str, table: str) -> dict[str, Any]:
        """team_id from a column: as it is if every value is already a lower-case id, a slug if
        the slugs stay distinct, else a map to team-1, team-2, … (and a question)."""
        if all(re.match(TEAM_ID, v) and v == slugify(v) for v in values):
            return {"from": column}
        slugs = {slugify(v) for v in values}
        if "" not in slugs and len(slugs) == len(values):
            return {"from": column, "slug": True}
        mapped = {v: f"team-{i}" for i, v in enumerate(sorted(values), 1)}
        self.ask(f"{table}.team_id: the values of {column} ({_values_text(sorted(values))}) cannot become ids by "
                 "themselves (letters, digits, '-' and '_' only); the draft numbers them team-1, team-2, …: give "
                 f"each a short Latin id under tables.{table}.derive.team_id.map")
        return {"from": column, "map": mapped}

    def _team(self, f: Found, m: Match, spec: dict[str, Any], table: str) -> None:
        team, region = m.col("team_id"), m.col("region")
        spec.setdefault("derive", {})
        source = team or region
        if source is not None:
            rule = self._team_rule(f.col(source).text.unique().tolist(), source, table)
            where = "columns" if rule == {"from": source} else "derive"
            spec[where]["team_id"] = source if where == "columns" else rule
            if team is None:
                self.note(table, where, "team_id", text=f"No team column: one team per {region}.")
            if region is None:
                spec["columns"]["region"] = team
        else:
            spec.setdefault("constants", {}).update({"team_id": "team-1", "region": "all"})
            self.ask(f"{table}.team_id: {f.label} has no team or region column; the draft puts every manager in "
                     "one team 'team-1' of region 'all' (tables.managers.constants)")

    def _employment(self, spec: dict[str, Any], where: str, m: Match) -> None:
        """hire_date and leave_date: mapped columns, else in post for the whole span."""
        constants = spec.setdefault("constants", {})
        if "hire_date" not in m.chosen:
            start = date(self.first.year, 1, 1) if self.first else date(2000, 1, 1)
            constants["hire_date"] = start
            self.ask(f"managers.hire_date: {where} has no hire date column — no employment dates: every manager is "
                     f"taken to be in post for the whole span (the draft writes hire_date {start}, no leave_date)")
        if "leave_date" not in m.chosen:
            constants["leave_date"] = None
        if not constants:
            del spec["constants"]

    def _managers_from_orders(self) -> dict[str, Any]:
        """Managers derived from the orders' manager column, or one placeholder manager."""
        f, m = self.orders, self.om
        assert f is not None
        mgr = m.col("manager_id")
        orders = self.tables["orders"]
        if mgr is None:
            orders.setdefault("constants", {})["manager_id"] = "unassigned"
            self.ask("orders.manager_id: no table or column names the manager of an order; the draft credits "
                     "every order to one manager 'unassigned' (tables.orders.constants and tables.managers.rows): "
                     "add the manager column to the export, or a sheet of managers with a column the orders share")
            start = date(self.first.year, 1, 1) if self.first else date(2000, 1, 1)
            self.sources["managers"] = "one placeholder manager"
            return {"rows": [{"manager_id": "unassigned", "name": "Unassigned", "team_id": "team-1", "region": "all",
                              "hire_date": start.isoformat(), "leave_date": None}]}
        slug = {"slug": True} if f.col(mgr).text.str.contains(r"[<>\"'&`]").any() else None  # not allowed in an id
        self.staff = (None, None, None, slug)
        self.credit(f, mgr, "orders")
        spec: dict[str, Any] = {"from_table": {"table": "orders", "key": "manager_id"}, "aggregate": {"name": {"first": mgr}}}
        self.note("managers", text=f"No table of managers: one row per manager of the orders ({mgr}).")
        self.sources["managers"] = f"derived from the orders ({mgr})"
        om = match(f, "managers")
        team, region = om.col("team_id"), om.col("region")
        group = region or team
        if group is not None:
            spec["aggregate"]["region"] = {"top": group, "by": "amount"}
            self.note("managers", "aggregate", "region", text="The region where the manager sold the most.")
            values = f.col(team or group).text.unique().tolist()
            if team is not None and region is not None:
                spec["aggregate"]["team_id"] = {"top": team, "by": "amount"}
                if not all(re.match(TEAM_ID, v) for v in values):
                    self.ask(f"managers.team_id: the values of {team} are not ids (letters, digits, '-', '_'): "
                             "map them in the export, or derive team_id from region instead")
            else:
                spec["derive"] = {"team_id": self._team_rule(values, "region", "managers")}
        else:
            spec["constants"] = {"team_id": "team-1", "region": "all"}
            self.ask("managers.team_id: the orders have no team or region column; the draft puts every manager "
                     "in one team 'team-1' of region 'all' (tables.managers.constants)")
        self._employment(spec, f"{f.label} (the orders, manager column {mgr})", Match())
        return spec

    def _link_orders(self, mf: Found, mm: Match, mspec: dict[str, Any]) -> None:
        """How an order finds its manager: the orders' own manager column, or a column both
        tables share (a lookup)."""
        f, om = self.orders, self.om
        assert f is not None
        self.staff = (mf, mspec["columns"].get("manager_id"), mm.col("name"), mspec.get("derive", {}).get("manager_id"))
        mgr = om.col("manager_id")
        if mgr is not None:
            self.credit(f, mgr, "orders")
            return
        orders = self.tables["orders"]
        shared = self._shared_column(mf, mm)
        if shared is None:
            orders.setdefault("constants", {})["manager_id"] = "unassigned"
            self.ask(f"orders.manager_id: the orders have no manager column and share no column with {mf.label} "
                     "whose values identify one manager: add the manager to the export (the draft writes "
                     "'unassigned', which is not a manager)")
            return
        ocol, key = shared
        orders.setdefault("derive", {})["manager_id"] = {"from": ocol, "lookup": {"table": "managers", "key": key, "value": "manager_id"}}
        self.note("orders", "derive", "manager_id", text=f"The order is credited to the manager of its {ocol} ({mf.label}).")

    def credit(self, f: Found, column: str, table: str) -> None:
        """manager_id of ``table`` from its manager column: as it is when it holds the managers'
        ids; when it holds their names, the managers' own rule (a slug) or a lookup by name."""
        spec = self.tables[table]
        mf, ids, name, rule = self.staff
        values = set(f.col(column).text)
        if mf is None or (ids and values <= set(mf.col(ids).text)):
            if rule is not None:  # managers derived from the orders, whose ids are slugs
                spec.setdefault("derive", {})["manager_id"] = {"from": column, **rule}
            else:
                spec["columns"]["manager_id"] = column
        elif name and values <= set(mf.col(name).text):
            how = {k: v for k, v in (rule or {}).items() if k != "from"} if not ids else {}
            how = how or {"lookup": {"table": "managers", "key": "name", "value": "manager_id"}}
            spec.setdefault("derive", {})["manager_id"] = {"from": column, **how}
        else:
            spec["columns"]["manager_id"] = column
            missing = sorted(values - set(mf.col(ids or name).text)) if (ids or name) else sorted(values)
            self.ask(f"{table}.manager_id: values of {column} are not in {mf.label} (e.g. {_values_text(missing, 3)}): "
                     "add those managers, or correct the names")

    def _shared_column(self, mf: Found, mm: Match) -> tuple[str, str] | None:
        """(orders column, managers key) for a column both tables have, unique in the managers
        and holding every value the orders have."""
        f = self.orders
        assert f is not None
        mapped = {c.column: name for name, c in mm.chosen.items()}
        by_norm = {_norm(c): c for c in f.frame.columns}
        for col in mf.frame.columns:
            ocol = by_norm.get(_norm(col))
            if ocol is None or col == mm.col("name"):
                continue
            mine, theirs = mf.col(col).text, set(f.col(ocol).text)
            if mine.is_unique and theirs and theirs <= set(mine):
                return ocol, mapped.get(col, col)
        return None

    # ---- customers

    def pick_customers(self) -> tuple[Found, Match] | None:
        """A table (not orders or managers) with one row per customer, named like one or
        holding a segment or a manager."""
        for f in self.found:
            if f.role:
                continue
            m = match(f, "customers")
            c = m.chosen.get("customer_id")
            if c is None or c.score < 0.6 or not f.col(c.column).unique:
                continue
            if table_name_match(f.sheet or f.files[0].stem) == "customers" or {"segment", "manager_id"} & set(m.chosen):
                return f, m
        return None

    def draft_customers(self) -> dict[str, Any]:
        picked = self.pick_customers()
        if picked is None:
            return self._customers_from_orders()
        f, m = picked
        spec = self.source(f, "customers")
        self.place(f, "customers", m, spec, skip=("manager_id",))
        self.tables["customers"] = spec
        if m.col("manager_id"):
            self.credit(f, m.col("manager_id"), "customers")
        for name in ("manager_id", "acquired_date"):
            if name not in m.chosen:
                self.ask(f"customers.{name}: {f.label} has no such column (columns: {', '.join(map(str, f.frame.columns))}): "
                         f"map one under tables.customers.columns.{name}")
        if "lost_date" not in m.chosen:
            spec.setdefault("constants", {})["lost_date"] = None
            self.ask(f"customers.lost_date: {f.label} has no lost date: every customer is taken to be active")
        if m.col("segment"):
            self._segment_values(f.col(m.col("segment")), spec)
        else:
            self._revenue_bands(spec)
        return spec

    def _customers_from_orders(self) -> dict[str, Any]:
        assert self.orders is not None
        spec: dict[str, Any] = {
            "from_table": {"table": "orders", "key": "customer_id"},
            "aggregate": {"acquired_date": {"min": "date"}, "lost_date": {"idle": "date", "months": 12},
                          "manager_id": {"top": "manager_id", "by": "amount"}},
        }
        self.sources["customers"] = "derived from the orders"
        self.note("customers", text="No table of customers: one row per customer of the orders.")
        self.note("customers", "aggregate", "acquired_date", text="The first order.")
        self.note("customers", "aggregate", "lost_date", text="Lost: no order in the 12 months before data.as_of "
                  "(the lost date is then the last order date); active customers have none.")
        self.note("customers", "aggregate", "manager_id", text="The manager with the largest sales to the customer.")
        found, _ = candidates(self.orders, "customers", TABLES["customers"].col("segment"))
        seg = found[0].column if found else None
        if seg is not None and self.orders.col(seg).distinct <= 20:
            spec["aggregate"]["segment"] = {"first": seg}
            self._segment_values(self.orders.col(seg), spec)
        else:
            self._revenue_bands(spec)
        return spec

    def _segment_values(self, p: Profile, spec: dict[str, Any]) -> None:
        values = sorted(p.text.unique().tolist())
        if set(values) <= set(SEGMENTS):
            return
        mapped, unsure = {}, []
        for v in values:
            seg = _segment_of(v)
            mapped[v] = seg or "small"
            if seg is None:
                unsure.append(v)
        spec.setdefault("values", {})["segment"] = {"map": mapped}
        shown = ", ".join(f"{k} → {v}" for k, v in mapped.items())
        extra = f" ({', '.join(unsure)}: not recognised, drafted as small)" if unsure else ""
        self.ask(f"customers.segment: drafted from column {p.name}: {shown}{extra}; segments are key (大客户), small "
                 "(小客户) and walkin (散客): check tables.customers.values.segment.map")

    def _revenue_bands(self, spec: dict[str, Any]) -> None:
        """No segment column: bands of the customers' total sales (top 10 % key, above the median small)."""
        f, m = self.orders, self.om
        assert f is not None
        amounts = f.col(m.chosen["amount"].column).numbers
        cust = f.frame.loc[amounts.index, m.chosen["customer_id"].column] if amounts is not None else None
        totals = amounts.groupby(cust.to_numpy()).sum() if amounts is not None and cust is not None else pd.Series(dtype=float)
        key = _round2(float(totals.quantile(0.9))) if len(totals) else 10000.0
        small = _round2(float(totals.median())) if len(totals) else 1000.0
        bands = [{"min": key, "value": "key"}, {"min": min(small, key), "value": "small"}, {"min": 0, "value": "walkin"}]
        spec.setdefault("derive", {})["segment"] = {"revenue_bands": {"bands": bands}}
        self.ask(f"customers.segment: no segment column; the draft bands customers by total {m.chosen['amount'].column}: "
                 f"≥ {key:g} key (the top 10 %), ≥ {min(small, key):g} small (above the median), else walkin — set "
                 "the bands your company uses under tables.customers.derive.segment")

    # ---- optional tables and the rest

    def draft_optional(self) -> None:
        """Tables named like an optional canonical table whose required columns are all there by name."""
        for f in self.found:
            if f.role:
                continue
            table = table_name_match(f.sheet or f.files[0].stem)
            if table is None or table in self.tables or TABLES[table].required:
                continue
            m = match(f, table)
            needed = [c.name for c in TABLES[table].columns if c.required]
            if not all(n in m.chosen and not m.chosen[n].by_content for n in needed):
                continue
            spec = self.source(f, table)
            spec["optional"] = True
            self.place(f, table, m, spec)
            self._bools(f, table, m, spec)
            self.note(table, text=f"{f.label} by its name; optional: left out (and said) if it cannot be read.")
            self.tables[table] = spec

    def _bools(self, f: Found, table: str, m: Match, spec: dict[str, Any]) -> None:
        known = {"true", "false", "1", "0", "yes", "no", "y", "n", "t", "f", "是", "否", "已解决", "未解决", "x"}
        for col in TABLES[table].columns:
            c = m.chosen.get(col.name)
            if col.kind == "bool" and c is not None:
                values = sorted(f.col(c.column).text.unique().tolist())
                if not {v.lower() for v in values} <= known:
                    spec.setdefault("values", {})[col.name] = {"map": {v: "true" if i == 0 else "false" for i, v in enumerate(values)}}
                    self.ask(f"{table}.{col.name}: which value of {c.column} means yes ({', '.join(values)})? "
                             f"check tables.{table}.values.{col.name}.map")

    def header(self) -> list[str]:
        lines = [f"Source mapping drafted by `kpi-workbook map` from {self.folder}.",
                 "A draft: answer the QUESTIONs, read every choice (other candidate columns are in the comments),",
                 "then check it with `kpi-workbook validate` on the run parameters drafted beside it.",
                 "Format: helpers/data/sources.py (module docstring); example: params/sources/superstore.yaml.",
                 "", "Tables found (rows × columns):"]
        for f in self.found:
            how = f", {f.detected}, delimiter {f.delimiter!r}" if f.is_text else ""
            role = f"→ {f.role}" if f.role in TABLES else (f.role or "not used")
            lines.append(f"  {f.label}: {f.rows:,} × {len(f.frame.columns)}{how} {role}")
            if not f.role:
                lines.append(f"      columns: {_values_text(list(map(str, f.frame.columns)), 10)}")
        lines += [f"  {s}" for s in self.skipped]
        if self.first and self.last:
            lines += ["", f"Orders from {self.first} to {self.last}."]
        if self.questions:
            lines.append("")
            lines += [f"QUESTION {i}: {q}" for i, q in enumerate(self.questions, 1)]
        return lines

    def build(self) -> Draft:
        self.pick_orders()
        orders = self.tables["orders"] = self.draft_orders()
        managers = self.draft_managers(self.pick_managers())  # may credit the orders to them
        customers = self.draft_customers()
        self.tables.clear()  # in the order a reader follows them
        self.tables.update(managers=managers, orders=orders, customers=customers)
        self.draft_optional()
        Mapping.model_validate(self.doc.data)  # the draft is a mapping the loader accepts
        head = "\n".join(f"# {x}".rstrip() for line in self.header()
                         for x in (textwrap.wrap(line, 98, subsequent_indent="    ") or [""]))
        text = head + "\n\n" + self.doc.render()
        if yaml.safe_load(text) != self.doc.data:
            raise AssertionError("the drafted YAML does not read back as drafted")
        return Draft(text, self.doc.data, self.questions, self.first, self.last, self.sources)


def _segment_of(value: str) -> str | None:
    v = _norm(value)
    for seg, words in SEGMENT_VALUES.items():
        if v in words:
            return seg
    for seg, words in SEGMENT_VALUES.items():
        if any(len(w) > 1 and _has_word(v, w) for w in words):
            return seg
    return None


def _round2(x: float) -> float:
    """Two significant digits: 12,345.6 → 12,000."""
    if x <= 0:
        return 0.0
    digits = len(str(int(x))) - 2
    return float(round(x, -digits)) if digits > 0 else float(round(x))


def draft_mapping(folder: str | Path, mapping_path: str | Path) -> Draft:
    """Draft a source mapping for the exports in ``folder``; file paths in it are
    relative to ``mapping_path`` (where it will be written).  Raises :class:`InputError`
    when the folder is missing or holds no table that can be the orders."""
    folder = Path(folder)
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "folder not found"
        raise InputError(Problem(str(folder), what, fix="give the folder that holds the exported files"))
    found, skipped = scan(folder)
    if not found:
        extra = f" ({'; '.join(skipped)})" if skipped else ""
        raise InputError(Problem(str(folder), f"no readable table (CSV, TSV, TXT, XLSX, XLS or Parquet) in this folder{extra}",
                                 fix="export the data into this folder as CSV or Excel files"))
    return _Drafter(folder, Path(mapping_path), found, skipped).build()


# --------------------------------------------------------------------------- run parameters


def last_full_quarter(first: date, last: date) -> str:
    """The last quarter the data covers: the quarter of the last date if that date is in
    the quarter's last week (exports often stop on the last working day), else the one before."""
    q = pd.Period(last, "Q")
    if pd.Timestamp(last) < q.end_time.normalize() - pd.Timedelta(days=6) and (q - 1).start_time >= pd.Timestamp(first):
        q -= 1
    return str(q)


def draft_params(draft: Draft, params_path: Path, mapping_path: Path, methodology: Path, name: str) -> str:
    """Run parameters for the drafted mapping, in the shape of ``params/superstore.yaml``:
    the last full quarter of the data, as of the day after its last order, every team and
    notebook, reports to ``../reports/<name>`` (inside the params file's project, as the
    runner requires).  ``methodology`` is the folder of the shipped methodology files
    (indicators, strategies, weights, …): a params file elsewhere names them by relative path."""
    base = params_path.parent
    first, last = draft.first_date, draft.last_date
    period = last_full_quarter(first, last) if first and last else "2026Q3"
    as_of = (last + timedelta(days=1)).isoformat() if last else "null"
    here = base.resolve() == methodology.resolve()

    def shipped(rel: str) -> str:
        return rel if here else _scalar(_rel(methodology / rel, base))

    title = {"zh": f"{name} · 客户经理绩效报告", "en": f"{name} · Customer-manager performance"}
    lines = [f"# kpi-workbook run parameters drafted by `kpi-workbook map` for {name}.",
             f"# The data is read through the source mapping {_rel(mapping_path, base)}; paths are relative to this file.",
             f"# The orders run from {first} to {last}: the review period is the last full quarter of the data,",
             "# the as-of date the day after the last order.  Check both, then: kpi-workbook validate <this file>",
             f"title: {_flow(title)}",
             "language: zh            # zh | en",
             f"period: {period}",
             "data:",
             f"  source: {_scalar(_rel(mapping_path, base))}",
             f"  as_of: {as_of}     # extraction date: later dates are errors; customers idle 12 months before it are lost",
             "teams: all",
             f"strategy: {shipped('strategies/market_share.yaml')}   # a preset without overrides for the demo's regions",
             f"alternative_strategy: {shipped('strategies/upmarket.yaml')}",
             "notebooks:", *(f"  - {n}" for n in NOTEBOOKS)]
    if not here:
        lines.append("# the methodology files shipped with the workbook")
        lines += [f"{key}: {shipped(rel)}" for key, rel in (("indicators", "indicators.yaml"), ("weights", "weights"),
                  ("targets", "targets.yaml"), ("incentives", "incentives.yaml"), ("scoring", "scoring.yaml"))]
        lines.append(f"notebook_folder: {_scalar(_rel(methodology.parent / 'notebooks', base))}")
    lines += ["output:", f"  folder: {_scalar('../reports/' + (slugify(name) or 'export'))}",
              "execution:", "  timeout_seconds: 600", "  kernel: python3"]
    return "\n".join(lines) + "\n"
