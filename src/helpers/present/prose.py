"""The notebooks' prose in one language at a time.

A workbook notebook carries each heading and paragraph once, as one markdown cell
whose source is the text in the notebook's language and whose metadata holds the text
in every language::

    cell.metadata.kpi_workbook = {"prose": {"zh": "## 概览", "en": "## Overview"},
                                  "ids": {"zh": "c02", "en": "c03"}}

and the notebook says which language its sources are in
(``notebook.metadata.kpi_workbook.language``).  JupyterLab therefore shows one
language; a report (:class:`helpers.present.report.CleanOutputs`) and an export of the
notebooks in another language (``kpi-workbook notebooks``) put the text of their
language into the source.  ``ids`` keeps each language's cell id, so a report's HTML
is the same whichever language the notebook was opened in.  A text written in one
language only stays an ordinary markdown cell tagged ``zh`` or ``en``.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Mapping

import nbformat

LANGUAGES = ("zh", "en")
KEY = "kpi_workbook"


def prose_cell(texts: Mapping[str, str], language: str, tags: list[str] | None = None,
               ids: Mapping[str, str] | None = None) -> nbformat.NotebookNode:
    """One markdown cell for the same prose in several languages; its source is the text
    in ``language``."""
    cell = nbformat.v4.new_markdown_cell(texts[language])
    meta: dict[str, Any] = {"prose": dict(texts)}
    if ids:
        meta["ids"] = dict(ids)
        cell["id"] = ids[language]
    cell.metadata[KEY] = meta
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def texts(cell: Mapping[str, Any]) -> dict[str, str]:
    """The prose of a cell by language; empty for a cell that is not bilingual prose."""
    return dict(cell.get("metadata", {}).get(KEY, {}).get("prose", {}) or {})


def notebook_language(nb: Mapping[str, Any]) -> str | None:
    """The language the notebook's prose cells show (None: not said)."""
    return nb.get("metadata", {}).get(KEY, {}).get("language")


def show(cell: dict, language: str, edited_language: str | None = None, tag: bool = False) -> dict:
    """Put the cell's text in ``language`` into its source (and that language's cell id).

    ``edited_language`` is the notebook's language: a source someone edited in
    JupyterLab is kept when the report is in that language.  ``tag`` adds the
    language to the cell's tags first (a report's cell then has the class
    ``celltag_<language>`` it had when each language was a cell of its own).  A cell
    without the language's text is left as it is."""
    by_lang = texts(cell)
    if language not in by_lang:
        return cell
    if language != edited_language:
        cell["source"] = by_lang[language]
    meta = cell.setdefault("metadata", {})
    ids = meta.get(KEY, {}).get("ids") or {}
    if language in ids:
        cell["id"] = ids[language]
    if tag:
        meta["tags"] = [language, *(t for t in meta.get("tags", []) if t not in LANGUAGES)]
    return cell


_PARAM = r'^({name}[ \t]*=[ \t]*)("(?:[^"\\\n]|\\.)*")([ \t]*)(?=#|$)'


def set_parameter(source: str, name: str, value: str) -> str:
    """The parameters cell's source with ``name = "value"`` (its comment kept, in its
    column where it fits); ValueError when the cell has no such string assignment."""
    pattern = re.compile(_PARAM.format(name=re.escape(name)), re.M)
    literal = json.dumps(value, ensure_ascii=False)  # a valid Python string literal

    def put(m: re.Match) -> str:
        pad = m.group(3) and " " * max(1, len(m.group(2)) + len(m.group(3)) - len(literal))
        return m.group(1) + literal + pad

    new, n = pattern.subn(put, source, count=1)
    if not n:
        raise ValueError(f'the parameters cell has no line {name} = "..."')
    return new


def in_language(nb: nbformat.NotebookNode, language: str, **parameters: str) -> nbformat.NotebookNode:
    """A copy of the notebook whose prose shows ``language``, with ``language = "<language>"``
    in its parameters cell and the other ``parameters`` (name → string) set there too."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    out = copy.deepcopy(nb)
    for cell in out.cells:
        show(cell, language)
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            source = set_parameter(cell.source, "language", language)
            for name, value in parameters.items():
                source = set_parameter(source, name, value)
            cell.source = source
    out.metadata.setdefault(KEY, {})["language"] = language
    return out
