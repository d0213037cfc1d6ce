"""Fixed report texts in Chinese (default) and English, from one catalog.

The catalog is ``helpers/locale/messages.yaml``; :func:`t` looks a key up and fills
its ``{placeholders}``.  A missing key raises ``KeyError`` (tests check that every
key has both languages), so a report never shows a half-translated label.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

LANGUAGES = ("zh", "en")


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str]]:
    """The message catalog: key → {language → text}."""
    text = resources.files("helpers").joinpath("locale/messages.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return {str(k): {str(lang): str(v) for lang, v in val.items()} for k, val in data.items()}


def t(key: str, language: str = "zh", **values: Any) -> str:
    """The text for ``key`` in ``language``, with ``{placeholders}`` filled."""
    entry = catalog()[key]
    return entry[language].format(**values) if values else entry[language]
