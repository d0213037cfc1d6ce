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

__all__ = ["Phrase", "T", "Amount", "Capitalized", "Bilingual", "Items", "OneOf", "join", "join_unique"]


@dataclass(frozen=True)
class Phrase:
    """Literal pieces and catalog keys with their values (a value may itself be a
    phrase).  ``+`` joins phrases and strings; never ``str()``-ed by accident."""

    parts: tuple[Any, ...] = ()

    def __add__(self, other: "Phrase | str") -> "Phrase":
        return Phrase(self.parts + _parts(other))

    def __radd__(self, other: "Phrase | str") -> "Phrase":
        return Phrase(_parts(other) + self.parts)

    def __str__(self) -> str:
        """The codes, not words (for a look in JupyterLab or a log): ``⟨tl.note.prorated pct=50%⟩``.
        A report words a phrase with :func:`helpers.present.words.render`."""
        return "".join(p if isinstance(p, str) else "⟨" + " ".join([p[0], *(f"{k}={v}" for k, v in p[1])]) + "⟩"
                       for p in self.parts)

    __repr__ = __str__


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


@dataclass(frozen=True)
class Bilingual:
    """A text the data holds in both languages (an indicator's name, a KPI's label)."""

    zh: str
    en: str


@dataclass(frozen=True)
class Items:
    """A list in a sentence, joined the language's way (``、`` in Chinese, ``, `` in English)."""

    items: tuple[Any, ...]


@dataclass(frozen=True)
class OneOf:
    """The first of ``keys`` the catalog holds (an indicator's own text, else its family's)."""

    keys: tuple[str, ...]


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


def join_unique(sep: str, items: Iterable["Phrase | str"]) -> "Phrase | str":
    """The non-empty ``items``, each once, joined by ``sep``; ``""`` when there are none."""
    kept = list(dict.fromkeys(x for x in items if x))
    return join(sep, kept) if kept else ""
