"""Build a workbook notebook from a compact description (used by tools/make_notebooks.py).

Cells: ("md", text, [tags]) or ("code", text, [tags]).  Output: outputs stripped,
kernel python3, the parameters cell tagged.

Prose written twice, a markdown cell tagged ``zh`` next to one tagged ``en`` (either
order, the same other tags), becomes ONE markdown cell: its source is the text in the
notebook's language (zh; JupyterLab shows only that) and its metadata holds both
(``kpi_workbook.prose``), from which a report or ``kpi-workbook notebooks --language en``
takes the other language (helpers.present.prose).  Cell ids are numbered as if the
pairs were still two cells, each prose cell remembering both (``kpi_workbook.ids``), so
the reports' HTML is what it was before pairs were merged.  A text in one language
only stays a markdown cell tagged with its language.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from helpers.present.prose import LANGUAGES, prose_cell

LANGUAGE = "zh"  # the language of the committed notebooks' prose (the shipped params are zh)


def build(cells: list[tuple], path: Path, scope: str = "team", module: str = "") -> None:
    """Write the notebook; ``scope`` "period" makes the runner run it once per period
    across all teams (e.g. the leadership summary) instead of once per team; ``module``
    names the helpers module that declares what the run must check and prepare for it
    (``check_inputs``, ``SHARED``)."""
    nb = nbformat.v4.new_notebook()
    meta = {"scope": scope} if scope != "team" else {}
    if module:
        meta["module"] = module
    if meta:
        nb.metadata["kpi_workbook"] = meta
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata.setdefault("kpi_workbook", {})["language"] = LANGUAGE
    rows = [(kind, text.strip("\n"), list(rest[0]) if rest else []) for kind, text, *rest in cells]
    i = 0
    while i < len(rows):
        pair = _pair(rows, i)
        if pair:
            by_lang = {_language(rows[j][2]): rows[j][1] for j in pair}
            ids = {_language(rows[j][2]): f"c{j:02d}" for j in pair}
            nb.cells.append(prose_cell(by_lang, LANGUAGE, _others(rows[i][2]), ids))
            i += len(pair)
            continue
        kind, text, tags = rows[i]
        cell = nbformat.v4.new_markdown_cell(text) if kind == "md" else nbformat.v4.new_code_cell(text)
        if tags:
            cell.metadata["tags"] = tags
        cell["id"] = f"c{i:02d}"
        nb.cells.append(cell)
        i += 1
    nbformat.validate(nb)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


def _language(tags: list[str]) -> str | None:
    langs = [t for t in tags if t in LANGUAGES]
    return langs[0] if len(langs) == 1 else None


def _others(tags: list[str]) -> list[str]:
    return [t for t in tags if t not in LANGUAGES]


def _pair(rows: list[tuple], i: int) -> tuple[int, ...] | None:
    """The indices of one prose text written in every language, starting at row ``i``:
    consecutive markdown cells each tagged with a different language and otherwise
    tagged alike; None when row ``i`` starts no such pair."""
    n = len(LANGUAGES)
    group = rows[i:i + n]
    if len(group) < n or any(kind != "md" for kind, _, _ in group):
        return None
    langs = [_language(tags) for _, _, tags in group]
    if None in langs or set(langs) != set(LANGUAGES):
        return None
    if any(_others(tags) != _others(group[0][2]) for _, _, tags in group):
        return None
    return tuple(range(i, i + n))


if __name__ == "__main__":
    sys.exit("import this module")
