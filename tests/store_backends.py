"""The results store's test backends: a DuckDB file and a PostgreSQL server.

``store_url`` is a fixture parametrized over both: ``duckdb`` a fresh file in the
test's ``tmp_path``; ``postgresql`` a fresh database of its own on the server named by
``KPI_WORKBOOK_TEST_POSTGRES`` (a SQLAlchemy URL, e.g.
``postgresql+psycopg://kpi:PASSWORD@localhost:5432/kpi_test``; its role needs
CREATEDB), created for the test and dropped after it.  Without that variable the
PostgreSQL tests are skipped, except under CI (``CI=true``), where they fail: .ci/run
starts the server and sets the variable.

A test module uses it with ``import store_backends`` and ``store_url = store_backends.store_url``
(an assignment, so that the tests' ``store_url`` arguments do not shadow an import).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

__all__ = ["POSTGRES_ENV", "postgres_admin_url", "sql", "store_url", "tables_of"]

POSTGRES_ENV = "KPI_WORKBOOK_TEST_POSTGRES"


def postgres_admin_url() -> str:
    """The URL in ``KPI_WORKBOOK_TEST_POSTGRES``; skips the test when it is unset (fails under CI)."""
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if not url:
        why = f"{POSTGRES_ENV} is not set (a PostgreSQL URL whose role may CREATE DATABASE)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{why}: CI must run the PostgreSQL store tests (.ci/run starts the server)")
        pytest.skip(why)
    return url


def _fresh_postgres_database(admin_url: str) -> Iterator[str]:
    name = f"kpi_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _drop(admin, name)
        admin.dispose()


def _drop(admin: sa.Engine, name: str, attempts: int = 20) -> None:
    """Drop the test database.  FORCE: a connection a killed test process left behind.
    The server's autovacuum may be working in it just then, and ending that worker needs
    ``pg_signal_backend`` (.ci/run grants it): without it, wait for the worker and retry."""
    for attempt in range(attempts):
        try:
            with admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except sa.exc.ProgrammingError as exc:
            if "pg_signal_backend" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.25)


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A URL of an empty results store: a DuckDB file, or a PostgreSQL database of its own."""
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path / 'record.duckdb'}"
    else:
        yield from _fresh_postgres_database(postgres_admin_url())


def sql(url: str, query: str, **params: Any) -> list[tuple]:
    """Rows of one plain SQL statement, on a connection of its own (closed after it,
    so a DuckDB file is not held)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as c:
            result = c.execute(sa.text(query), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


def tables_of(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as c:
            return set(sa.inspect(c).get_table_names())
    finally:
        engine.dispose()
