"""Regenerate the workbook notebooks from their descriptions in tools/notebooks/.

Each ``tools/notebooks/NN_name.py`` defines ``CELLS``: a list of
``("md" | "code", text, [tags])``.  Markdown prose is written twice, a cell tagged ``zh``
next to one tagged ``en``; the notebook gets ONE cell per text, showing the Chinese and
holding both (see nbbuild; the report takes its language's text, and
``kpi-workbook notebooks --language en --out DIR`` writes the notebooks in English); a
text in one language only stays a cell tagged with it, kept only in that language's
report.  The parameters cell is tagged ``parameters``;
set-up cells are tagged ``remove`` (hidden from reports).  A module-level
``SCOPE = "period"`` makes a notebook run once per period across all teams; ``MODULE``
names the helpers module that tells the run what to check and prepare for the notebook
(``check_inputs``, ``SHARED``).  Notebooks are written
without outputs.  Run ``python tools/make_notebooks.py [NAME ...]``.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from nbbuild import build

HERE = Path(__file__).resolve().parent
NB = HERE.parent / "notebooks"
sys.path.insert(0, str(HERE / "notebooks"))


def descriptions() -> dict[str, Path]:
    return {p.stem: p for p in sorted((HERE / "notebooks").glob("[0-9][0-9]_*.py"))}


def make(name: str, path: Path) -> None:
    spec = importlib.util.spec_from_file_location(f"nb_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    build(mod.CELLS, NB / f"{name}.ipynb", getattr(mod, "SCOPE", "team"), getattr(mod, "MODULE", ""))
    print(f"wrote notebooks/{name}.ipynb")


if __name__ == "__main__":
    wanted = sys.argv[1:]
    for name, path in descriptions().items():
        if not wanted or name in wanted:
            make(name, path)
