"""The core's notes in words: :class:`~helpers.core.phrases.Phrase` objects (catalog
keys with values) written in the report's language from the one catalog."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from helpers.core.phrases import Amount, Bilingual, Capitalized, Items, OneOf, Phrase
from helpers.present.display import amount, signed_percent
from helpers.present.i18n import catalog, t

MARKERS = (Phrase, Amount, Capitalized, Bilingual, Items, OneOf)


def render(text: Any, language: str) -> str:
    """A phrase, an amount (or a plain string) in ``language``."""
    if isinstance(text, Phrase):
        return "".join(_part(p, language) for p in text.parts)
    if isinstance(text, Amount):
        return signed_percent(text.value) if text.unit == "change" else amount(text.value, text.unit, language)
    if isinstance(text, Bilingual):
        return text.zh if language == "zh" else text.en
    if isinstance(text, Items):
        return ("、" if language == "zh" else ", ").join(render(x, language) for x in text.items)
    if isinstance(text, OneOf):
        return t(next((k for k in text.keys if k in catalog()), text.keys[-1]), language)
    if isinstance(text, Capitalized):
        s = render(text.phrase, language)
        return s[:1].upper() + s[1:]
    return "" if text is None else str(text)


def _part(part: Any, language: str) -> str:
    if isinstance(part, str):
        return part
    key, values = part
    return t(key, language, **{k: render(v, language) if isinstance(v, MARKERS) else v for k, v in values})


def worded(frame: pd.DataFrame, language: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """``frame`` with the notes of its text columns (phrases, names, lists) in ``language``.

    ``columns``: the columns to word (default: every column of Python objects)."""
    cols = [c for c in (frame.columns if columns is None else columns) if c in frame.columns
            and frame[c].dtype == object]
    if not cols:
        return frame
    return frame.assign(**{c: [render(x, language) if isinstance(x, MARKERS) else x for x in frame[c]]
                           for c in cols})
