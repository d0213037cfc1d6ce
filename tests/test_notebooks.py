"""Every workbook notebook: committed clean, has a tagged parameters cell.  That it runs on its
defaults is checked on nbval's run of it: ``RunsOnDefaults`` in ``tests/conftest.py``
(``notebooks/<name>.ipynb::test_notebook_runs_on_defaults``)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_clean(path: Path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged 'parameters'"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit without outputs"
    for c in code:
        assert "\ndef " not in "\n" + c.source and "lambda" not in c.source, "logic belongs in src/helpers"
        assert "for " not in c.source.replace("format", ""), "no data-wrangling loops in notebooks"
    # prose in both languages: each markdown cell holds its text in zh and in en (tests/test_notebook_language.py)
    md = [c for c in nb.cells if c.cell_type == "markdown"]
    assert all(set(c.metadata.get("kpi_workbook", {}).get("prose", {})) == {"zh", "en"} for c in md)

