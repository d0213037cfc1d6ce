"""Build a workbook notebook from a compact description (used by tools/make_notebooks.py).

Cells: ("md", text, [tags]) or ("code", text, [tags]).  Output: outputs stripped,
kernel python3, the parameters cell tagged.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat


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
    for kind, text, *rest in cells:
        tags = rest[0] if rest else []
        cell = nbformat.v4.new_markdown_cell(text.strip("\n")) if kind == "md" else nbformat.v4.new_code_cell(text.strip("\n"))
        if tags:
            cell.metadata["tags"] = list(tags)
        nb.cells.append(cell)
    for i, c in enumerate(nb.cells):
        c["id"] = f"c{i:02d}"
    nbformat.validate(nb)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit("import this module")
