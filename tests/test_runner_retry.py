"""A notebook whose kernel failed is run once more; a notebook whose cell failed is not."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from papermill.exceptions import PapermillExecutionError

from helpers.run import runner

META = {"title": "检查 · 华东一部", "org": "演示公司", "lang": "zh", "toc_title": "目录", "facts": [["团队", "east-1"]]}


def _task(tmp_path: Path) -> runner.Task:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## 检查"), nbformat.v4.new_code_cell("1 + 1")]
    src = tmp_path / "check.ipynb"
    nbformat.write(nb, src)
    return runner.Task(team="east-1", notebook="check", input_path=str(src), parameters={},
                       work_ipynb=str(tmp_path / "work" / "check.ipynb"), parts_dir=str(tmp_path / "parts"),
                       html_path=str(tmp_path / "east-1" / "check.html"), failed_path=str(tmp_path / "failures" / "x.ipynb"),
                       kernel="python3", timeout=60, cwd=str(tmp_path), meta=META)


def _fake_papermill(monkeypatch, failures: list[BaseException]) -> list[int]:
    """papermill.execute_notebook raising the given exceptions first, then succeeding."""
    import papermill

    calls: list[int] = []

    def execute(input_path, output_path, **_kw):
        calls.append(1)
        Path(output_path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(input_path, output_path)
        if failures:
            raise failures.pop(0)
        return nbformat.read(output_path, as_version=4)  # papermill returns the notebook it wrote

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    return calls


def test_a_dead_kernel_is_retried_once(tmp_path, monkeypatch):
    task = _task(tmp_path)
    calls = _fake_papermill(monkeypatch, [DeadKernelError("Kernel died")])
    Path(task.parts_dir).mkdir(parents=True)
    result = runner.run_task(task)
    assert result.ok and len(calls) == 2
    assert "检查" in Path(task.html_path).read_text(encoding="utf-8")


def test_a_kernel_failing_twice_fails_with_its_error(tmp_path, monkeypatch):
    task = _task(tmp_path)
    calls = _fake_papermill(monkeypatch, [RuntimeError("Kernel didn't respond in 120 seconds")] * 2)
    result = runner.run_task(task)
    assert not result.ok and len(calls) == runner.KERNEL_ATTEMPTS == 2
    assert result.error == "RuntimeError: Kernel didn't respond in 120 seconds"
    assert Path(task.failed_path).exists() and not Path(task.html_path).exists()


@pytest.mark.parametrize(("error", "line"), [
    (PapermillExecutionError(1, 1, "assert x", "AssertionError", "boom", []), "AssertionError: boom"),
    (CellTimeoutError("A cell timed out while it was being executed, after 60 seconds."),
     "CellTimeoutError: A cell timed out while it was being executed, after 60 seconds."),
])
def test_an_error_in_a_cell_is_not_retried(tmp_path, monkeypatch, error, line):
    task = _task(tmp_path)
    calls = _fake_papermill(monkeypatch, [error, error])
    result = runner.run_task(task)
    assert not result.ok and len(calls) == 1 and result.error == line
