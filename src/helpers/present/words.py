"""The core's notes in words: :class:`~helpers.core.phrases.Phrase` objects (catalog
keys with values) written in the report's language from the one catalog."""

from __future__ import annotations

from typing import Any

from helpers.core.phrases import Amount, Capitalized, Phrase
from helpers.present.display import amount
from helpers.present.i18n import t


def render(text: Any, language: str) -> str:
    """A phrase, an amount (or a plain string) in ``language``."""
    if isinstance(text, Phrase):
        return "".join(_part(p, language) for p in text.parts)
    if isinstance(text, Amount):
        return amount(text.value, text.unit, language)
    if isinstance(text, Capitalized):
        s = render(text.phrase, language)
        return s[:1].upper() + s[1:]
    return "" if text is None else str(text)


def _part(part: Any, language: str) -> str:
    if isinstance(part, str):
        return part
    key, values = part
    return t(key, language, **{k: render(v, language) if isinstance(v, (Phrase, Amount, Capitalized)) else v
                              for k, v in values})
