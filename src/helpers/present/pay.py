"""Pay statements in words: the items and explanations of :func:`helpers.core.incentives.payout`
(:class:`~helpers.core.phrases.Phrase` objects: catalog keys with values) written in
the report's language from the catalog (``inc.*`` in ``locale/incentives.yaml``)."""

from __future__ import annotations

from helpers.core.incentives import Statement
from helpers.present.words import render

__all__ = ["render", "worded"]


def worded(statement: Statement, language: str) -> Statement:
    """``statement`` with its items and explanations as text in ``language``."""
    lines = statement.lines.assign(
        item=[render(x, language) for x in statement.lines["item"]],
        explanation=[render(x, language) for x in statement.lines["explanation"]],
    )
    return Statement(statement.manager_id, lines, statement.total)
