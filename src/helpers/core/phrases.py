"""Machine-readable notes: what a calculation says about its numbers, without words.

The core knows no language.  A calculation that has something to say ("target scaled
up from 2 of 3 months", "commission 3 % × 100,000") returns a :class:`Phrase`: catalog
keys with their values, literal pieces joined by ``+``.  The presentation layer
(:func:`helpers.present.words.render`) writes it in the report's language.  A value
the presentation must format (money in 万 in Chinese) is an :class:`Amount`; a phrase
that opens a sentence in English is :class:`Capitalized`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Phrase", "T", "Amount", "Capitalized", "join"]


@dataclass(frozen=True)
class Phrase:
    """Literal pieces and catalog keys with their values (a value may itself be a
    phrase).  ``+`` joins phrases and strings; never ``str()``-ed by accident."""

    parts: tuple[Any, ...] = ()

    def __add__(self, other: "Phrase | str") -> "Phrase":
        return Phrase(self.parts + _parts(other))

    def __radd__(self, other: "Phrase | str") -> "Phrase":
        return Phrase(_parts(other) + self.parts)

    def __str__(self) -> str:  # the core knows no language
        raise TypeError("a Phrase is worded by helpers.present.words.render, not by str()")


@dataclass(frozen=True)
class Amount:
    """A number in a sentence, formatted by the presentation for ``unit``
    (:func:`helpers.present.display.amount`: 123.5万 in Chinese, 1,235,000 in English)."""

    value: float
    unit: str


@dataclass(frozen=True)
class Capitalized:
    """``phrase`` with its first letter upper-cased (a sentence opening in English)."""

    phrase: Phrase


def _parts(x: "Phrase | str") -> tuple[Any, ...]:
    return x.parts if isinstance(x, Phrase) else ((x,) if x else ())


def T(key: str, **values: Any) -> Phrase:
    """The catalog text ``key`` with ``values``, to be worded by the presentation."""
    return Phrase(((key, tuple(values.items())),))


def join(sep: str, items: Iterable["Phrase | str"]) -> Phrase:
    """``sep.join(items)`` for phrases."""
    out = Phrase()
    for k, x in enumerate(items):
        out = out + (sep if k else "") + x
    return out
