"""Kernels forked from a pre-imported template (helpers.run.kernels): each notebook
gets its own fresh process, the outputs are those of a kernel started from nothing,
and nothing passes from one notebook to the next."""

from __future__ import annotations

import os
import subprocess
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
        # a chart a notebook of the user's own leaves to the inline backend (shown when the cell ends)
        "_ = plt.plot([1, 3, 2])",
    )
    fresh = execute(src, tmp_path / "fresh.ipynb", fork=False)
    forked = execute(src, tmp_path / "forked.ipynb", fork=True)
    assert stdout_of(forked, 1) == f"{tmp_path} True\n"  # the notebook's folder, the inline backend
    assert outputs(forked) == outputs(fresh)
    assert any("image/png" in o.get("data", {}) for cells in outputs(forked) for o in cells)
    assert any("image/png" in o.get("data", {}) for o in outputs(forked)[-1])  # the implicit one too


def test_a_forked_kernel_collects_cycles_less_often_but_collects_them(template, tmp_path):
    """The template's collector thresholds reach its kernels (helpers.run.zygote.GC_THRESHOLD,
    not Python's 700): the collector is on, and a reference cycle is freed by it."""
    from helpers.run.zygote import GC_THRESHOLD

    src = notebook(tmp_path / "gc.ipynb",
                   "import gc, weakref\nclass Node: pass\na, b = Node(), Node()\na.b, b.a = b, a\n"
                   "probe = weakref.ref(a)\ndel a, b\ngc.collect()\n"
                   "print(gc.get_threshold(), gc.isenabled(), probe() is None)")
    nb = execute(src, tmp_path / "gc-out.ipynb", fork=True)
    assert stdout_of(nb, 1) == f"{GC_THRESHOLD} True True\n"
    assert GC_THRESHOLD[0] > 700


def _thp(status: str) -> str:
    return status.split("THP_enabled:")[1].split()[0]


def test_a_forked_kernel_takes_no_transparent_huge_pages(template, tmp_path):
    """pyarrow's allocator is kept from transparent huge pages in the workbook's processes
    (``helpers/__init__.py``: ``MIMALLOC_ALLOW_THP=0`` before pyarrow is imported), and a
    kernel forked from the template inherits it; a value the user sets is kept."""
    if "THP_enabled:" not in Path("/proc/self/status").read_text():
        pytest.skip("the system does not report THP_enabled (Linux 5.0 and later do)")
    src = notebook(tmp_path / "thp.ipynb",
                   "import os, pyarrow\nprint(os.environ.get('MIMALLOC_ALLOW_THP'), open('/proc/self/status').read()"
                   ".split('THP_enabled:')[1].split()[0])")
    assert stdout_of(execute(src, tmp_path / "thp-out.ipynb", fork=True), 1) == "0 0\n"
    # a new Python as the system starts one (this process's setting, inherited across exec, undone)
    probe = "import helpers, pyarrow, pathlib; print(pathlib.Path('/proc/self/status').read_text())"
    env = {k: v for k, v in os.environ.items() if k != "MIMALLOC_ALLOW_THP"}

    def python(env: dict) -> str:
        import ctypes

        def allow() -> None:
            ctypes.CDLL(None, use_errno=True).prctl(41, 0, 0, 0, 0)  # PR_SET_THP_DISABLE, off

        return _thp(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                                   check=True, preexec_fn=allow).stdout)

    assert python(env) == "0"
    assert python(dict(env, MIMALLOC_ALLOW_THP="1")) == "1"


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


FORK_SERVER_PROBE = '''
import json, os, sys
from pathlib import Path
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver
sys.path.insert(0, sys.argv[2])
import probe
from helpers.run import runner
taken = runner.start_fork_server(Path(sys.argv[1]))
server = forkserver._forkserver._forkserver_pid
ctx = runner.pool_context(["helpers.context.workbook", "helpers.present.plotting"])
with ProcessPoolExecutor(1, mp_context=ctx) as pool:
    child = pool.submit(probe.probe).result()
print(json.dumps({"taken": taken, "me": os.getpid(), "server": server, "child": child,
                  "server_cmdline": Path(f"/proc/{server}/cmdline").read_bytes().decode(errors="replace"),
                  "my_cmdline": Path("/proc/self/cmdline").read_bytes().decode(errors="replace"),
                  "here": sorted(m for m in probe.LIBS if m in sys.modules)}))
'''


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc")
def test_the_runs_fork_server_is_forked_from_the_run_and_ends_with_it(demo_params, tmp_path):
    """``run`` starts multiprocessing's fork server as a fork of itself before it reads its
    data (not a new Python: its command line is the run's); a worker forked from it finds
    the reports' libraries imported without importing them itself, though the run's own
    process never imported them, and the message catalog read, the report exporter of
    the run's language built and every page template compiled (its first report compiles
    nothing); and the server ends when the run does."""
    import json
    import subprocess
    import time

    import psutil

    (tmp_path / "probe.py").write_text(
        "import os, sys\nLIBS = ('seaborn', 'ipykernel.kernelapp', 'papermill', 'helpers.present.report')\n"
        "def probe():\n"
        "    libs = sorted(m for m in LIBS if m in sys.modules)\n"
        "    import jinja2\n"
        "    from helpers.present import html, i18n, report\n"
        "    from helpers.run import runner\n"
        "    built, read = sorted(runner._EXPORTERS), i18n.catalog.cache_info().currsize\n"
        "    compiled = []\n"
        "    real = jinja2.Environment.compile\n"
        "    jinja2.Environment.compile = lambda env, src, name=None, *a, **k: (compiled.append(name),\n"
        "                                                                   real(env, src, name, *a, **k))[1]\n"
        "    report.warm_exporter(runner._exporter('zh'), 'zh')\n"
        "    html.compile_all()\n"
        "    return {'ppid': os.getppid(), 'libs': libs, 'exporters': built, 'catalog': read, 'compiled': compiled}\n",
        encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", FORK_SERVER_PROBE, str(demo_params), str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["taken"] is True
    assert got["server"] != got["me"] and got["child"]["ppid"] == got["server"]
    assert got["server_cmdline"] == got["my_cmdline"]  # a spawned server's would run multiprocessing.forkserver
    assert got["child"]["libs"] == ["helpers.present.report", "ipykernel.kernelapp", "papermill", "seaborn"]
    assert got["here"] == []  # imported by the server, not by the process that forked it
    # built by the server (the params' language is zh), not by the worker: nothing left to compile
    assert got["child"]["exporters"] == ["zh"] and got["child"]["catalog"] == 1
    assert got["child"]["compiled"] == []
    deadline = time.monotonic() + 10
    while psutil.pid_exists(got["server"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not psutil.pid_exists(got["server"]) or psutil.Process(got["server"]).status() == psutil.STATUS_ZOMBIE


STOP_PROBE = '''
import json, os, sys
from pathlib import Path
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver
from helpers.run import runner
taken = runner.start_fork_server(Path(sys.argv[1]))
first = forkserver._forkserver._forkserver_pid
runner.stop_fork_server()
gone = not Path(f"/proc/{first}").exists()  # killed and reaped, not left to finish its imports
ctx = runner.pool_context(["helpers.context.workbook", "helpers.present.plotting"])
with ProcessPoolExecutor(1, mp_context=ctx) as pool:
    ppid = pool.submit(os.getppid).result()
second = forkserver._forkserver._forkserver_pid
print(json.dumps({"taken": taken, "gone": gone, "first": first, "second": second, "ppid": ppid,
                  "cmdline": Path(f"/proc/{second}/cmdline").read_bytes().decode(errors="replace")}))
'''


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc")
def test_a_fork_server_the_run_no_longer_needs_is_stopped_at_once(demo_params):
    """A run refused before its pool stops the server it forked there and then, rather than
    leave it to end after its imports holding the run's output pipes; a pool started
    afterwards gets one the usual way (multiprocessing's own, a new Python)."""
    import json
    import subprocess

    proc = subprocess.run([sys.executable, "-c", STOP_PROBE, str(demo_params)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["taken"] is True and got["gone"] is True
    assert got["second"] not in (None, got["first"]) and got["ppid"] == got["second"]
    assert "multiprocessing.forkserver" in got["cmdline"]


KERNEL_START_PROBE = '''
import json, sys, threading
from helpers.run.zygote import KERNEL_START_MODULES, import_kernel_start
missing = import_kernel_start()
print(json.dumps({"missing": missing, "absent": [m for m in KERNEL_START_MODULES if m not in sys.modules],
                  "threads": threading.active_count(), "inline": "matplotlib_inline.backend_inline" in sys.modules}))
'''


def test_what_kernels_import_as_they_start_is_imported_once_quietly_and_starts_no_thread():
    """The template imports what every kernel would import as it starts (the debugger, the
    history's sqlite3, Agg, ...): every name on the list imports here (a misspelt one
    would silently cost each kernel its import), nothing is printed (pydevd warns about
    frozen modules as it loads: on a run's terminal, through its fork server), no thread
    is started (a forked kernel would lack it), and the inline backend is not imported
    (without a shell it would not show a kernel's open charts)."""
    import json
    import subprocess

    proc = subprocess.run([sys.executable, "-c", KERNEL_START_PROBE], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    got = json.loads(proc.stdout)
    assert got == {"missing": [], "absent": [], "threads": 1, "inline": False}


def test_the_next_run_removes_the_template_folder_of_a_run_that_was_killed(tmp_path):
    """A run killed outright cannot remove its kernel template's folder; the next run's
    sweep removes the folders whose run is gone, and only those: not a running run's,
    not one without a run's pid in its name (helpers.run.kernels.sweep_stale_folders)."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pid no process has now (the system does not reuse it at once)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        dead = tmp_path / f"{kernels.FOLDER_PREFIX}abc-p{gone.pid}-0000abcd"
        running = tmp_path / f"{kernels.FOLDER_PREFIX}def-p{alive.pid}-0000abcd"
        mine = tmp_path / f"{kernels.FOLDER_PREFIX}ghi-p{os.getpid()}-0000abcd"
        unnamed = tmp_path / f"{kernels.FOLDER_PREFIX}k7gmcd9o"  # the name before pids were in it
        other = tmp_path / "kpi-other-123"
        for folder in (dead, running, mine, unnamed, other):
            folder.mkdir()
        (dead / "template.sock").write_text("", encoding="utf-8")  # not empty: removed with what is in it
        assert kernels.sweep_stale_folders(str(tmp_path)) == [str(dead)]
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (running, mine, unnamed, other))
    finally:
        alive.kill()
        alive.wait()
