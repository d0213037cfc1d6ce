"""Every workbook notebook: committed clean, has a tagged parameters cell, runs on its defaults."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill as pm
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


@pytest.fixture(scope="module")
def forked():
    """The run's kernels (forked from a template that imported the workbook); nbval runs
    the same notebooks on kernels started from nothing (``pytest`` collects notebooks/)."""
    from helpers.run import kernels

    modules = sorted({json.loads(p.read_text(encoding="utf-8"))["metadata"]["kpi_workbook"]["module"] for p in NOTEBOOKS})
    assert kernels.template(["helpers.context.workbook", "helpers.present.plotting", *modules]) is not None
    yield {"kernel_manager_class": kernels.ForkKernelManager}
    kernels.close_template()


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_defaults(path: Path, tmp_path: Path, forked):
    """Papermill with no parameters: the defaults must run on the demo data."""
    out = tmp_path / path.name
    pm.execute_notebook(str(path), str(out), kernel_name="python3", cwd=str(path.parent),
                        progress_bar=False, execution_timeout=600, **forked)
    nb = nbformat.read(out, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, "the report shows charts"
