"""Pay statements in words: the items and explanations of :func:`helpers.core.incentives.payout`
(:class:`~helpers.core.incentives.Phrase` objects: catalog keys with values) written in
the report's language from the catalog (``inc.*`` in ``locale/incentives.yaml``)."""

from __future__ import annotations

from typing import Any

from helpers.core.incentives import Phrase, Statement
from helpers.present.i18n import t


def render(text: Any, language: str) -> str:
    """A phrase (or a plain string) in ``language``."""
    if isinstance(text, Phrase):
        return "".join(_part(p, language) for p in text.parts)
    return "" if text is None else str(text)


def _part(part: Any, language: str) -> str:
    if isinstance(part, str):
        return part
    key, values = part
    return t(key, language, **{k: render(v, language) if isinstance(v, Phrase) else v for k, v in values})


def worded(statement: Statement, language: str) -> Statement:
    """``statement`` with its items and explanations as text in ``language``."""
    lines = statement.lines.assign(
        item=[render(x, language) for x in statement.lines["item"]],
        explanation=[render(x, language) for x in statement.lines["explanation"]],
    )
    return Statement(statement.manager_id, lines, statement.total)
