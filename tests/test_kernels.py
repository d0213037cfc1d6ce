"""Kernels forked from a pre-imported template (helpers.run.kernels): each notebook
gets its own fresh process, the outputs are those of a kernel started from nothing,
and nothing passes from one notebook to the next."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import papermill as pm
import pytest
from nbclient.exceptions import CellTimeoutError

from helpers.run import kernels

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="forking needs a POSIX system")


def notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('team = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(s) for s in sources)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def execute(src: Path, out: Path, fork: bool, **kw) -> nbformat.NotebookNode:
    extra = {"kernel_manager_class": kernels.ForkKernelManager} if fork else {}
    pm.execute_notebook(str(src), str(out), kernel_name="python3", cwd=str(src.parent), progress_bar=False,
                        log_output=False, **extra, **kw)
    return nbformat.read(out, as_version=4)


def outputs(nb: nbformat.NotebookNode) -> list[list[dict]]:
    return [[{k: v for k, v in o.items() if k != "execution_count"} for o in c.outputs]
            for c in nb.cells if c.cell_type == "code"]


def stdout_of(nb: nbformat.NotebookNode, cell: int) -> str:
    code = [c for c in nb.cells if c.cell_type == "code"]
    return "".join(o.get("text", "") for o in code[cell].outputs if o.output_type == "stream")


@pytest.fixture(scope="module")
def template():
    tpl = kernels.template(["helpers.notebooks.quarterly"])
    assert tpl is not None and tpl.alive() and tpl.failed == []
    yield tpl
    kernels.close_template()


def test_each_notebook_gets_a_fresh_process_and_no_state_of_the_last(template, tmp_path):
    """Two notebooks in a row on forked kernels: their own pids (children of the template),
    and neither a global nor a module attribute set by the first is seen by the second."""
    src = notebook(tmp_path / "leak.ipynb",
                   "import os\nimport helpers.core.money as money\n"
                   "print(os.getpid(), os.getppid(), globals().get('leaked', 'none'), getattr(money, 'leaked', 'none'))\n"
                   "leaked = team\nmoney.leaked = team")
    seen = []
    for team in ("east-1", "west-1"):
        out = execute(src, tmp_path / f"{team}.ipynb", fork=True, parameters={"team": team})
        pid, ppid, g, mod = stdout_of(out, 2).split()  # cells: parameters, injected parameters, the code
        assert (g, mod) == ("none", "none")
        assert int(ppid) == template.proc.pid
        seen.append(int(pid))
    assert len(set(seen)) == 2 and os.getpid() not in seen
    for pid in seen:  # every kernel is gone once its notebook is done
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_forked_kernel_shows_what_a_fresh_one_shows(template, tmp_path):
    """Tables, prose, charts (the inline backend, PNG bytes included), printed text and
    the notebook's working folder are the same as on a kernel started from nothing."""
    src = notebook(
        tmp_path / "report.ipynb",
        "import os, sys\nimport pandas as pd\nimport matplotlib.pyplot as plt\n"
        "from IPython.display import Markdown\nfrom helpers.present import plotting\nplotting.setup()\n"
        "print(os.getcwd(), 'matplotlib_inline' in str(plt.get_backend()))",
        "pd.DataFrame({'销售额': [1200.5, 3400.25]}, index=['王伟', '李娜'])",
        "Markdown('**完成** 2 位')",
        "fig, ax = plt.subplots(figsize=(4, 2))\nax.bar(['甲', '乙'], [3, 5])\nax.set_title('团队')\nplotting.finish(fig)",
    )
    fresh = execute(src, tmp_path / "fresh.ipynb", fork=False)
    forked = execute(src, tmp_path / "forked.ipynb", fork=True)
    assert stdout_of(forked, 1) == f"{tmp_path} True\n"  # the notebook's folder, the inline backend
    assert outputs(forked) == outputs(fresh)
    assert any("image/png" in o.get("data", {}) for cells in outputs(forked) for o in cells)


def test_a_cell_timeout_interrupts_the_forked_kernel(template, tmp_path):
    """The execution timeout reaches a forked kernel as on any other (SIGINT to its process group)."""
    src = notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(60)")
    with pytest.raises(CellTimeoutError):
        execute(src, tmp_path / "slow-out.ipynb", fork=True, execution_timeout=2)


def test_without_a_template_kernels_start_the_usual_way(tmp_path):
    """A template that has died is not used (the kernel starts from nothing), and the next
    call of ``template`` starts a new one."""
    tpl = kernels.template(["helpers.notebooks.quarterly"])
    tpl.proc.kill()
    tpl.proc.wait()
    src = notebook(tmp_path / "pid.ipynb", "import os\nprint(os.getppid())")
    out = execute(src, tmp_path / "pid-out.ipynb", fork=True)
    assert int(stdout_of(out, 1)) != tpl.proc.pid
    again = kernels.template(["helpers.notebooks.quarterly"])
    assert again is not tpl and again.alive()
    kernels.close_template()


def test_only_this_pythons_ipython_kernel_is_forked():
    assert kernels._forkable([sys.executable, "-m", "ipykernel_launcher", "-f", "k.json"]) == ["-f", "k.json"]
    assert kernels._forkable(["R", "--slave", "-e", "IRkernel::main()"]) is None
    assert kernels._forkable(["/usr/bin/python3.9-does-not-exist", "-m", "ipykernel_launcher", "-f", "k"]) is None


def test_a_kernel_never_outlives_its_template(tmp_path):
    """The template killed with -9 while a notebook runs: its kernel goes with it (a
    kernel forked an instant before a worker's clean-up is not left running)."""
    import threading
    import time

    import psutil

    tpl = kernels.template(["helpers.notebooks.quarterly"])
    src = notebook(tmp_path / "long.ipynb", "import time\ntime.sleep(60)")
    errors: list[BaseException] = []

    def run() -> None:
        try:
            execute(src, tmp_path / "long-out.ipynb", fork=True)
        except BaseException as exc:  # noqa: BLE001 - the kernel dies under it: expected
            errors.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    deadline = time.monotonic() + 30
    while not (kids := psutil.Process(tpl.proc.pid).children()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert kids, "no kernel was forked"
    tpl.proc.kill()
    gone, alive = psutil.wait_procs(kids, timeout=5)
    assert not alive
    t.join(60)
    assert errors  # the notebook run reports its dead kernel
    kernels.close_template()
