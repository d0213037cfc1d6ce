"""Pay statements in words: the items and explanations of :func:`helpers.core.incentives.payout`
(:class:`~helpers.core.phrases.Phrase` objects: catalog keys with values) written in
the report's language from the catalog (``inc.*`` in ``locale/incentives.yaml``).

The core's notes keep their numbers unrounded (``54.9608%``, ``0.00–100,000.00``); the
wording is where a person's figures are made: a measured share (sales attainment, CSAT,
the active share of a part-period manager) to one decimal (``55.0%``), a tier edge as
money without pointless decimals (``0–100,000``), an infinite or undefined share as
"—", and never a ``-0.00``.  The plan's own rates (a 6 % commission, a 60 % gate) are
shown as the plan states them.
"""

from __future__ import annotations

import math
import re
from typing import Any

from helpers.core.incentives import Statement
from helpers.core.phrases import Phrase
from helpers.present.words import render

__all__ = ["render", "worded", "word"]

_SHARES = frozenset({"att", "csat", "f"})  # measured shares in the notes: one decimal
_EDGES = frozenset({"range", "lo", "target"})  # tier edges and the target they are shares of
_PERCENT = re.compile(r"^\s*(-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?|-?inf|nan)\s*%\s*$", re.I)
_ZERO_FEN = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})*)\.00(?!\d)")
_MINUS_ZERO = re.compile(r"(?<![\d.,])-(0\.00)(?!\d)")


def _share(v: str) -> str:
    """``54.9608%`` → ``55.0%``; ``inf%`` / ``nan%`` → ``—``; anything else as it is."""
    m = _PERCENT.match(v)
    if not m:
        return v
    x = float(m.group(1))
    return f"{x:.1f}%" if math.isfinite(x) else "—"


def _edge(v: str) -> str:
    """``0.00–1,861,518.40`` → ``0–1,861,518.40``; ``100,000.00`` → ``100,000``."""
    return _ZERO_FEN.sub(r"\1", v)


def _value(key: str, v: Any) -> Any:
    if isinstance(v, Phrase):
        return _phrase(v)
    if isinstance(v, str):
        if key in _SHARES:
            return _share(v)
        if key in _EDGES:
            return _edge(v)
    return v


def _phrase(p: Phrase) -> Phrase:
    return Phrase(tuple(x if isinstance(x, str) else (x[0], tuple((k, _value(k, v)) for k, v in x[1]))
                        for x in p.parts))


def word(note: Any, language: str) -> str:
    """One item or explanation of a pay statement in ``language`` (see the module docstring)."""
    text = render(_phrase(note) if isinstance(note, Phrase) else note, language)
    return _MINUS_ZERO.sub(r"\1", text)


def worded(statement: Statement, language: str) -> Statement:
    """``statement`` with its items and explanations as text in ``language``."""
    lines = statement.lines.assign(
        item=[word(x, language) for x in statement.lines["item"]],
        explanation=[word(x, language) for x in statement.lines["explanation"]],
    )
    return Statement(statement.manager_id, lines, statement.total)
