"""The results store's schema, versioned, with its migrations.

Plain tables a person can query with SQL (``SELECT * FROM pay_lines WHERE period =
'2026Q3'``), the same on DuckDB and PostgreSQL.  ``record_meta`` holds the schema
version; :data:`MIGRATIONS` takes a store from any earlier version (0 = empty) to
:data:`SCHEMA_VERSION`, one step per version, each step in the caller's transaction.
A store of a newer version than this code knows is refused, never written.

Version 1: the closed results — ``periods`` (one row per closed period: when, by whom,
a forced close's reason, the plan version, the results version), ``plan_files`` (the
SHA-256 of every methodology file of a plan version), ``inputs`` (the fingerprint of
every input file of the runs that produced the closed results), ``grades`` (per manager:
scores, grade, ranks, pay), ``targets``, ``scores`` (per manager and indicator) and
``pay_lines`` (every line of every pay statement, with its stable reference).

Version 2: what happens around a period — ``adjustments`` (manual ones from the
adjustments file, prior-period adjustments booked by a restatement, accepted
disputes), ``disputes`` and ``signoffs``.
"""

from __future__ import annotations

from typing import Callable

import sqlalchemy as sa

__all__ = ["SCHEMA_VERSION", "metadata", "TABLES", "MIGRATIONS", "meta", "version_of_tables"]

metadata = sa.MetaData()
T, D, I = sa.Text, sa.Double, sa.Integer  # noqa: E741 - column types, read as a table's layout

meta = sa.Table("record_meta", metadata, sa.Column("key", T, primary_key=True), sa.Column("value", T))

# ---- version 1: closed results
periods = sa.Table(
    "periods", metadata,
    sa.Column("period", T, primary_key=True), sa.Column("status", T, nullable=False),
    sa.Column("closed_at", T), sa.Column("closed_by", T), sa.Column("forced_reason", T),
    sa.Column("plan_version", T), sa.Column("results_version", T), sa.Column("language", T),
    sa.Column("managers", I), sa.Column("pay_total", D))
plan_files = sa.Table(
    "plan_files", metadata,
    sa.Column("plan_version", T, primary_key=True), sa.Column("file", T, primary_key=True), sa.Column("sha256", T))
inputs = sa.Table(
    "inputs", metadata,
    sa.Column("period", T, primary_key=True), sa.Column("name", T, primary_key=True),
    sa.Column("path", T), sa.Column("sha256", T), sa.Column("bytes", sa.BigInteger), sa.Column("run", T))
grades = sa.Table(
    "grades", metadata,
    sa.Column("period", T, primary_key=True), sa.Column("manager_id", T, primary_key=True),
    sa.Column("name", T), sa.Column("team_id", T), sa.Column("status", T), sa.Column("active_fraction", D),
    sa.Column("hard", D), sa.Column("soft", D), sa.Column("total", D), sa.Column("grade", T),
    sa.Column("rank_team", I), sa.Column("rank_company", I), sa.Column("payout", D),
    sa.Column("adjustments", D), sa.Column("pay_total", D), sa.Column("version", T))
targets = sa.Table(
    "targets", metadata,
    sa.Column("period", T, primary_key=True), sa.Column("manager_id", T, primary_key=True),
    sa.Column("indicator", T, primary_key=True), sa.Column("target", D), sa.Column("source", T))
scores = sa.Table(
    "scores", metadata,
    sa.Column("period", T, primary_key=True), sa.Column("manager_id", T, primary_key=True),
    sa.Column("indicator", T, primary_key=True), sa.Column("kind", T), sa.Column("weight", D),
    sa.Column("actual", D), sa.Column("attainment", D), sa.Column("score", D))
pay_lines = sa.Table(
    "pay_lines", metadata,
    sa.Column("period", T, primary_key=True), sa.Column("manager_id", T, primary_key=True),
    sa.Column("ref", T, primary_key=True), sa.Column("month", T), sa.Column("component", T), sa.Column("item", T),
    sa.Column("quantity", D), sa.Column("rate", D), sa.Column("subtotal", D), sa.Column("explanation", T))

# ---- version 2: adjustments, disputes, sign-offs
adjustments = sa.Table(
    "adjustments", metadata,
    sa.Column("adjustment_id", T, primary_key=True),
    sa.Column("manager_id", T, nullable=False), sa.Column("period", T, nullable=False),
    sa.Column("amount", D), sa.Column("indicator", T), sa.Column("credit", D),
    sa.Column("reason_code", T), sa.Column("reason", T), sa.Column("approved_by", T), sa.Column("date", T),
    sa.Column("source", T, nullable=False), sa.Column("relates_to_period", T), sa.Column("relates_to_ref", T),
    sa.Column("recorded_at", T))
disputes = sa.Table(
    "disputes", metadata,
    sa.Column("dispute_id", T, primary_key=True), sa.Column("manager_id", T, nullable=False),
    sa.Column("period", T, nullable=False), sa.Column("line_ref", T, nullable=False), sa.Column("raised_on", T),
    sa.Column("text", T), sa.Column("status", T, nullable=False), sa.Column("amount", D),
    sa.Column("decided_by", T), sa.Column("decided_on", T), sa.Column("recorded_at", T))
signoffs = sa.Table(
    "signoffs", metadata,
    sa.Column("period", T, primary_key=True), sa.Column("manager_id", T, primary_key=True),
    sa.Column("status", T, nullable=False), sa.Column("date", T), sa.Column("version", T),
    sa.Column("source", T), sa.Column("recorded_at", T))

TABLES = {t.name: t for t in metadata.sorted_tables}
ADDED_IN = {1: [periods, plan_files, inputs, grades, targets, scores, pay_lines],
            2: [adjustments, disputes, signoffs]}
SCHEMA_VERSION = max(ADDED_IN)


def _create(tables: list[sa.Table]) -> Callable[[sa.Connection], None]:
    def step(conn: sa.Connection) -> None:
        for t in tables:
            t.create(conn, checkfirst=True)
    return step


MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {v: _create(ts) for v, ts in ADDED_IN.items()}
"""``MIGRATIONS[v]`` takes a store of version ``v - 1`` to version ``v`` (in the caller's transaction)."""


def version_of_tables(version: int) -> list[str]:
    """The tables a store of ``version`` has (besides ``record_meta``)."""
    return [t.name for v, ts in sorted(ADDED_IN.items()) if v <= version for t in ts]
