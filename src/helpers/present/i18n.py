"""Fixed report texts in Chinese (default) and English, from one catalog.

The catalog is the set of ``helpers/present/locale/*.yaml`` files (one per notebook plus
``common.yaml``, so parallel work never edits the same file), merged into one
mapping; a key defined twice is an error.  :func:`t` looks a key up and fills its
``{placeholders}``.  A missing key raises ``KeyError`` (tests check that every key
has both languages), so a report never shows a half-translated label.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any, Iterable

import yaml

LANGUAGES = ("zh", "en")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed: the catalog loads 10× faster


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str]]:
    """The message catalog: key → {language → text}."""
    merged: dict[str, dict[str, str]] = {}
    folder = resources.files("helpers.present").joinpath("locale")
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = yaml.load(entry.read_text(encoding="utf-8"), Loader=_LOADER) or {}  # noqa: S506 - safe
        for k, val in data.items():
            if str(k) in merged:
                raise ValueError(f"message key {k!r} is defined twice (again in locale/{entry.name})")
            merged[str(k)] = {str(lang): str(v) for lang, v in val.items()}
    return merged


def t(key: str, language: str = "zh", **values: Any) -> str:
    """The text for ``key`` in ``language``, with ``{placeholders}`` filled."""
    entry = catalog()[key]
    return entry[language].format(**values) if values else entry[language]


def join(items: Iterable[str], language: str = "zh") -> str:
    """A list in running text: 甲、乙、丙 in Chinese, "a, b, c" in English."""
    return ("、" if language == "zh" else ", ").join(items)
