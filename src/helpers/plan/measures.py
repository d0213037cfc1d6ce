"""Measures a consultant declares in YAML instead of naming a built-in KPI (issue 20).

A measure reads one canonical table, keeps the rows a filter lets through, weighs each
row by a coefficient of its category if the plan says so, and aggregates per manager
and period; a ratio divides two such measures; ``change`` turns any of them into the
change against the previous period or a year ago.  For example::

    measure:                          # sales of two named product lines
      table: orders
      where: {product_line: [高端系列, 增值服务]}
      aggregate: sum
      column: amount

    measure:                          # a coefficient-weighted volume
      table: orders
      aggregate: sum
      column: amount
      weights: {by: product_line, values: {高端系列: 1.2, 配件耗材: 0.3}, default: 1.0}

    measure:                          # the share of a product line in the manager's sales
      ratio:
        numerator: {table: orders, where: {product_line: [高端系列]}, aggregate: sum, column: amount}
        denominator: {table: orders, aggregate: sum, column: amount}

``credit`` says whose the row is: ``row`` (the manager named on it, the default) or
``responsible`` (the managers responsible for its customer on its date, each with their
share: a customer handed over mid-quarter counts for each holder for their days).

This module holds the definition; :mod:`helpers.kpis.declared` checks it against the
data model (a table, a column, an aggregate or a type it does not have) and computes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal, Union

from pydantic import Field, model_validator

from helpers.plan.base import Strict

AGGREGATES: tuple[str, ...] = ("sum", "count", "distinct", "mean", "min", "max", "balance_mean")
"""``balance_mean``: the average balance over the dates of the period the table has (e.g. the
average daily deposits from daily balances): the credited balances summed per date,
averaged over the table's dates in the period on which the manager was employed."""


class Range(Strict):
    """A numeric range a column's value must lie in (either end open)."""

    min: float | None = None
    max: float | None = None


class Weights(Strict):
    """A coefficient per category of ``by``: a row counts ``values[category]`` times
    (``default`` for a category not listed)."""

    by: str
    values: dict[str, float]
    default: float = 1.0


Filter = dict[str, Union[list[Union[str, float]], Range]]


class _Rows(Strict):
    """What a measure counts, the keys a simple measure and a whole definition share: the
    rows (filter, customer, first row, window), their weights and whom they credit."""

    column: str | None = None
    where: Filter = Field(default_factory=dict)
    weights: Weights | None = None
    credit: Literal["row", "responsible"] = "row"
    months: int | None = Field(None, ge=1, le=36, description="A date window relative to the period: the rows of "
                               "the N months up to the period's last month (e.g. 12: a rolling year).")
    customer: Filter = Field(
        default_factory=dict, description="A filter on the row's customer (a column of customers, e.g. "
        "{segment: [key]}), for a table with customer_id.")
    first_per: str | None = Field(None, description="Only the first row (earliest date) of each value of this "
                                  "column over the whole table, e.g. customer_id: each customer's first order.")


class Simple(_Rows):
    """One table, a filter, an aggregate of a column (of the rows, for ``count``)."""

    table: str
    aggregate: str


class Ratio(Strict):
    numerator: Simple
    denominator: Simple


class MeasureDef(_Rows):
    """A declared measure: one :class:`Simple` (its keys at the top) or a ``ratio`` of
    two, optionally as its ``change`` against the previous period or a year ago."""

    table: str | None = None
    aggregate: str | None = None
    ratio: Ratio | None = None
    change: Literal["previous", "year_ago"] | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> "MeasureDef":
        if self.ratio is None and (self.table is None or self.aggregate is None):
            raise ValueError("a measure needs 'table' and 'aggregate' (or a 'ratio' of two measures)")
        if self.ratio is not None and (self.table is not None or self.aggregate is not None):
            raise ValueError("a ratio measure takes its tables from 'numerator' and 'denominator', not 'table'")
        return self

    @property
    def grows(self) -> bool:
        """True when the measure grows with the time a manager was active (a sum, a count
        or a distinct count, not a ratio, a change or a window): its benchmarks are
        pro-rated for part-period managers, like the built-in sums."""
        return (self.ratio is None and self.change is None and self.months is None
                and self.aggregate in ("sum", "count", "distinct"))

    def simple(self) -> Simple:
        """The measure as one :class:`Simple` (not for a ratio)."""
        assert self.ratio is None and self.table is not None and self.aggregate is not None
        return Simple(**self.model_dump(include=set(Simple.model_fields)))


def parts(m: MeasureDef) -> list[tuple[str, Simple]]:
    """The simple measures a definition reads, with the key each sits under."""
    if m.ratio is not None:
        return [("ratio.numerator", m.ratio.numerator), ("ratio.denominator", m.ratio.denominator)]
    return [("", m.simple())]


def _simple_formula(s: Simple) -> str:
    what = f"{s.table} rows" if s.column is None else f"{s.table}.{s.column}"
    text = f"{s.aggregate}({what}"
    if s.weights is not None:
        text += f" × coefficient of {s.weights.by}"
    conds = []
    if s.first_per is not None:
        conds.append(f"first row per {s.first_per}")
    for col, cond in s.customer.items():
        conds.append(f"customer's {col} ∈ {{{', '.join(str(v) for v in cond)}}}" if not isinstance(cond, Range)
                     else f"customer's {col} in range")
    for col, cond in s.where.items():
        if isinstance(cond, Range):
            lo = "" if cond.min is None else f"{cond.min:g} ≤ "
            hi = "" if cond.max is None else f" ≤ {cond.max:g}"
            conds.append(f"{lo}{col}{hi}")
        else:
            conds.append(f"{col} ∈ {{{', '.join(str(v) for v in cond)}}}")
    if conds:
        text += " | " + ", ".join(conds)
    text += ")"
    if s.credit == "responsible":
        text += " credited to the customer's responsible managers"
    if s.months is not None:
        text += f" over the {s.months} months to the period's end"
    return text


def formula(m: MeasureDef) -> str:
    """The definition in one line of formula notation (the indicator's ``formula`` when
    the YAML states none), e.g. ``sum(orders.amount | product_line ∈ {A, B})``."""
    if m.ratio is not None:
        text = f"{_simple_formula(m.ratio.numerator)} ÷ {_simple_formula(m.ratio.denominator)}"
    else:
        text = _simple_formula(m.simple())
    if m.change == "previous":
        text += " − the same of the previous period"
    elif m.change == "year_ago":
        text += " − the same a year earlier"
    return text


@dataclass(frozen=True)
class Declared:
    """A declared measure as the KPI actuals carry it: under the id of the indicator that
    declares it, with the indicator's names and unit (the KPI actuals of a plan's
    dataset hold one such row per manager and period beside the built-in KPIs)."""

    id: str
    zh: str
    en: str
    unit: str
    measure: MeasureDef

    @property
    def key(self) -> str:
        """The definition as canonical text: equal definitions, equal keys (a memo key)."""
        return json.dumps([self.id, self.unit, self.measure.model_dump(mode="json")], sort_keys=True,
                          ensure_ascii=False)

    def tables(self) -> list[str]:
        """The canonical tables the measure reads."""
        return list(dict.fromkeys(s.table for _, s in parts(self.measure)))
