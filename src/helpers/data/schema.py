"""The canonical data model: what each table holds, and its validation rules.

Every source (the demo generator, a CRM export mapped by ``params/sources``, a
folder of CSV or Parquet files) ends up as these tables.  Only ``managers``,
``customers`` and ``orders`` are required; a KPI whose table is absent is reported
as *not available*, never as zero.

Each table is described once, in :data:`TABLES`; from that description come the
type coercion (with row-level problems), the pandera schema for value rules, and
the data-model documentation (:func:`data_model_markdown`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from helpers.frames import any_byte

if TYPE_CHECKING:
    import pandera.pandas as pa

Kind = Literal["id", "text", "date", "month", "period", "number", "count", "bool"]

TEAM_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
"""Team ids name report folders: no separators, dots or spaces (no path traversal)."""

SEGMENTS: tuple[str, ...] = ("key", "small", "walkin")
"""Customer segments: key account 大客户, small customer 小客户, walk-in 散客."""

QUAL_DIMENSIONS: tuple[str, ...] = (
    "attitude",
    "teamwork",
    "innovation",
    "work_quality",
    "work_quantity",
    "summary_quality",
)
"""Qualitative appraisal dimensions (工作态度, 团队合作, 创新能力, 工作质量, 工作量, 月度总结质量)."""


@dataclass(frozen=True)
class Col:
    """One column of a canonical table."""

    name: str
    kind: Kind
    doc: str
    required: bool = True  # the column must be present
    nullable: bool = False  # empty cells allowed
    unique: bool = False
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    pattern: str | None = None  # regular expression the text must match


@dataclass(frozen=True)
class Table:
    """One canonical table."""

    name: str
    doc: str
    columns: tuple[Col, ...]
    required: bool = False
    date_column: str | None = None  # for coverage by month
    foreign_keys: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)
    """(column, other table, other column): every non-empty value must exist there."""

    def col(self, name: str) -> Col:
        return next(c for c in self.columns if c.name == name)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "teams",
            "Teams and their display names (optional; ids are shown if absent).",
            (
                Col("team_id", "id", "Team id; letters, digits, '-' and '_' (used in file paths).", unique=True, pattern=TEAM_ID),
                Col("team_name", "text", "Display name, e.g. 华东一部."),
                Col("region", "text", "Region the team belongs to."),
            ),
        ),
        Table(
            "managers",
            "Customer managers (客户经理).",
            (
                Col("manager_id", "id", "Manager id.", unique=True),
                Col("name", "text", "Full name."),
                Col("team_id", "id", "Current team (see team_history for changes); letters, digits, '-', '_'.", pattern=TEAM_ID),
                Col("region", "text", "Region (营销区域)."),
                Col("hire_date", "date", "First working day."),
                Col("leave_date", "date", "Last working day; empty while employed.", nullable=True),
            ),
            required=True,
        ),
        Table(
            "team_history",
            "Team membership by month, for managers who change team (optional).",
            (
                Col("manager_id", "id", "Manager id."),
                Col("team_id", "id", "Team for these months.", pattern=TEAM_ID),
                Col("start_month", "month", "First month in the team (YYYY-MM)."),
                Col("end_month", "month", "Last month in the team; empty if current.", nullable=True),
            ),
            foreign_keys=(("manager_id", "managers", "manager_id"),),
        ),
        Table(
            "customers",
            "Customers and their segment: key 大客户, small 小客户, walkin 散客.",
            (
                Col("customer_id", "id", "Customer id.", unique=True),
                Col("manager_id", "id", "Responsible manager (current)."),
                Col("segment", "text", "key | small | walkin.  Optional: without it (or where it is empty) the "
                    "customer counts in every total but in no segment, and indicators for one segment are not "
                    "available.", allowed=SEGMENTS, required=False, nullable=True),
                Col("acquired_date", "date", "Date the customer was won (first purchase)."),
                Col("lost_date", "date", "Date the customer was lost; empty if active.", nullable=True),
                Col("referred_by", "id", "Customer who referred this one.", required=False, nullable=True),
                Col("lost_attributable", "bool", "The loss was caused by the manager (true/false; the key-customer "
                    "loss penalty counts only these when the plan says attributable_only).", required=False,
                    nullable=True),
            ),
            required=True,
            date_column="acquired_date",
            foreign_keys=(("manager_id", "managers", "manager_id"),),
        ),
        Table(
            "assignments",
            "Who is responsible for a customer when (optional): ownership history and credit splits "
            "(主办/协办).  Customer-based indicators (customer base, new and lost customers, retention, "
            "churn, active rate, CSAT, NPS) credit the managers responsible on the day of each event, "
            "pro-rated by share.  Without this table the customer's current manager "
            "(customers.manager_id) is responsible; either way, never before the manager's hire date or "
            "after the leave date.",
            (
                Col("customer_id", "id", "Customer."),
                Col("manager_id", "id", "Manager responsible."),
                Col("start_date", "date", "First day of the responsibility; empty: since the customer exists.",
                    nullable=True),
                Col("end_date", "date", "Last day; empty while it lasts.", nullable=True),
                Col("share", "number", "Share of the credit (0–1; the shares of one customer on any day add "
                    "up to 1).  Optional: 1.", required=False, nullable=True, min=0, max=1),
            ),
            date_column="start_date",
            foreign_keys=(("customer_id", "customers", "customer_id"), ("manager_id", "managers", "manager_id")),
        ),
        Table(
            "orders",
            "Order lines.",
            (
                Col("order_id", "id", "Order id.", unique=True),
                Col("date", "date", "Order date."),
                Col("customer_id", "id", "Customer."),
                Col("manager_id", "id", "Manager credited with the order."),
                Col("amount", "number", "Sales amount (revenue), in currency units.", min=0),
                Col("profit", "number", "Gross profit (may be negative). Optional: without it gross profit, margin "
                    "and CLV are shown as not available, never as 0.", required=False),
                Col("product_line", "text", "Product line (重点品牌/产品线)."),
            ),
            required=True,
            date_column="date",
            foreign_keys=(("customer_id", "customers", "customer_id"), ("manager_id", "managers", "manager_id")),
        ),
        Table(
            "surveys",
            "Customer satisfaction survey responses.",
            (
                Col("date", "date", "Response date."),
                Col("customer_id", "id", "Customer."),
                Col("csat", "number", "Satisfaction 1–5; 4 and 5 count as satisfied.", min=1, max=5),
                Col("nps", "number", "Likelihood to recommend 0–10.", nullable=True, min=0, max=10),
            ),
            date_column="date",
            foreign_keys=(("customer_id", "customers", "customer_id"),),
        ),
        Table(
            "complaints",
            "Customer complaints.",
            (
                Col("complaint_id", "id", "Complaint id.", unique=True),
                Col("date", "date", "Date received."),
                Col("customer_id", "id", "Customer."),
                Col("manager_id", "id", "Manager responsible."),
                Col("resolved", "bool", "Resolved (true/false)."),
                Col("escalated", "bool", "Escalated beyond the manager (true/false)."),
            ),
            date_column="date",
            foreign_keys=(("customer_id", "customers", "customer_id"), ("manager_id", "managers", "manager_id")),
        ),
        Table(
            "visits",
            "Customer visits and calls (拜访).",
            (
                Col("date", "date", "Visit date."),
                Col("manager_id", "id", "Manager."),
                Col("customer_id", "id", "Customer visited."),
                Col("channel", "text", "visit | call | online.", required=False, nullable=True),
            ),
            date_column="date",
            foreign_keys=(("customer_id", "customers", "customer_id"), ("manager_id", "managers", "manager_id")),
        ),
        Table(
            "market",
            "Market size by region and month (for market share).",
            (
                Col("region", "text", "Region."),
                Col("month", "month", "Month (YYYY-MM)."),
                Col("market_size", "number", "Total market sales in the region, same currency as orders.", min=0),
            ),
        ),
        Table(
            "ratings",
            "Qualitative appraisal (市场考核): scores given by raters.",
            (
                Col("manager_id", "id", "Manager rated."),
                Col("period", "period", "Month (YYYY-MM) or quarter (YYYYQn) rated."),
                Col("dimension", "text", "attitude | teamwork | innovation | work_quality | work_quantity | summary_quality.", allowed=QUAL_DIMENSIONS),
                Col("score", "number", "Score 0–100.", min=0, max=100),
                Col("rater", "text", "Who rated (role or id)."),
            ),
            foreign_keys=(("manager_id", "managers", "manager_id"),),
        ),
        Table(
            "leads",
            "Sales leads, for conversion rates (optional).",
            (
                Col("lead_id", "id", "Lead id.", unique=True),
                Col("date", "date", "Date the lead was created."),
                Col("manager_id", "id", "Manager working the lead."),
                Col("segment", "text", "key | small | walkin.", allowed=SEGMENTS),
                Col("converted", "bool", "Became a customer."),
            ),
            date_column="date",
            foreign_keys=(("manager_id", "managers", "manager_id"),),
        ),
        Table(
            "balances",
            "Periodic balances (optional), for firms that manage stocks: deposits, loans, assets under "
            "management.  One row per date and holder (a manager's book, or a customer whose responsible "
            "manager gets the credit) and product; a declared measure with aggregate balance_mean gives "
            "the average balance over the dates of the period (e.g. 日均存款 from daily balances).",
            (
                Col("date", "date", "Date of the balance (every day, or every month end: the dates the firm records)."),
                Col("manager_id", "id", "Manager whose book it is (or give customer_id).", required=False,
                    nullable=True),
                Col("customer_id", "id", "Customer the balance belongs to (or give manager_id).", required=False,
                    nullable=True),
                Col("product", "text", "Product, e.g. savings | time deposit | loan.", required=False, nullable=True),
                Col("balance", "number", "The balance at the end of the date (negative for an overdraft)."),
            ),
            date_column="date",
            foreign_keys=(("manager_id", "managers", "manager_id"), ("customer_id", "customers", "customer_id")),
        ),
    )
}

REQUIRED_TABLES: tuple[str, ...] = tuple(n for n, t in TABLES.items() if t.required)


ID_RE = r"^[^\x00-\x1f<>\"'&`]+$"
"""An id: not empty, no control character, quote, <, > or & (it names files and reports)."""


def _mark(b: np.ndarray) -> np.ndarray:
    """The bytes :data:`ID_RE` refuses: control characters, quotes, <, > and &."""
    return (b < 0x20) | (b == 0x22) | (b == 0x26) | (b == 0x27) | (b == 0x3C) | (b == 0x3E) | (b == 0x60)


def plain_id(s: pd.Series) -> pd.Series:
    """The ids of ``s`` that follow :data:`ID_RE`.  When no byte of the column is one of
    the forbidden characters (ASCII: in UTF-8 never part of another character) and no
    id is empty, all pass without a regex per cell (a million ids: 0.05 s less)."""
    if any_byte(s, _mark) is False and not (s.str.len() == 0).any():
        return pd.Series(True, index=s.index)
    return s.str.match(ID_RE, na=False).astype(bool)


def pandera_schema(table: Table) -> pa.DataFrameSchema:
    """Value rules of ``table`` as a pandera schema (applied after type coercion).  pandera
    is imported here, where data is validated: the notebooks' kernels read prepared data
    and never pay its import (0.2 s)."""
    import pandera.pandas as pa

    cols: dict[str, pa.Column] = {}
    for c in table.columns:
        checks: list[pa.Check] = []
        if c.min is not None:
            checks.append(pa.Check.ge(c.min, error=f"must be at least {c.min:g}"))
        if c.max is not None:
            checks.append(pa.Check.le(c.max, error=f"must be at most {c.max:g}"))
        if c.allowed is not None:
            checks.append(pa.Check.isin(list(c.allowed), error="must be one of " + ", ".join(c.allowed)))
        if c.pattern is not None:
            checks.append(pa.Check.str_matches(c.pattern, error="must use only letters, digits, '-' and '_' (it names report folders)"))
        if c.kind == "id":
            checks.append(pa.Check(plain_id, error="must not contain control characters, quotes, <, > or &"))
        cols[c.name] = pa.Column(
            checks=checks or None,
            nullable=c.nullable,
            unique=c.unique,
            required=c.required,
        )
    return pa.DataFrameSchema(cols, strict=False, name=table.name)


def data_model_markdown() -> str:
    """The data model as a Markdown section (used by the README and the docs test)."""
    lines: list[str] = []
    for t in TABLES.values():
        need = "required" if t.required else "optional"
        lines.append(f"### `{t.name}` ({need})\n\n{t.doc}\n")
        lines.append("| column | type | rule | meaning |\n|---|---|---|---|")
        for c in t.columns:
            rule = []
            if not c.required:
                rule.append("optional column")
            if c.nullable:
                rule.append("may be empty")
            if c.unique:
                rule.append("unique")
            if c.min is not None:
                rule.append(f"≥ {c.min:g}")
            if c.max is not None:
                rule.append(f"≤ {c.max:g}")
            doc = c.doc.replace("|", "\\|")  # a '|' in a cell would end it (visit | call | online)
            lines.append(f"| `{c.name}` | {c.kind} | {', '.join(rule)} | {doc} |")
        lines.append("")
    return "\n".join(lines)


def empty_frame(table: str) -> pd.DataFrame:
    """An empty frame with the columns of ``table`` (for code paths that need a shape)."""
    return pd.DataFrame({c.name: pd.Series(dtype="object") for c in TABLES[table].columns})
