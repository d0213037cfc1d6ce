"""Shared fixtures: a tiny hand-made dataset, the demo data, and one demo run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
KPI_BIN = Path(sys.executable).parent / "kpi-workbook"
_CLI_LOCK = threading.Lock()
# the prepared-data cache signs its entries with a key in the user's configuration folder
# (helpers.data.cache); the tests, their command lines and kernels use one of their own
os.environ.setdefault("KPI_WORKBOOK_CACHE_KEY", str(Path(tempfile.gettempdir()) / f"kpi-workbook-tests-{os.getuid()}"
                                                    / "cache.key"))


def write_tables(folder: Path, tables: dict[str, list[dict]]) -> Path:
    """Write each table as a CSV in ``folder`` (values as given)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        pd.DataFrame(rows).to_csv(folder / f"{name}.csv", index=False)
    return folder


SEED_PLAN = {  # the incentive plan of the seed note as written (伙伴云): 3 % to 100k, 5 % to 500k a month, ...
    "commission": {"mode": "marginal", "tiers": [{"from": 0, "upto": 100000, "rate": 0.03},
                                                 {"from": 100000, "upto": None, "rate": 0.05}]},
    "new_customer_bonus": {"per_customer": 500, "large_first_order": {"min_amount": 50000, "extra": 1000}},
    "satisfaction_bonus": {"threshold": 0.85, "amount": 1000},
    "key_customer_loss_penalty": {"fraction_of_monthly_base_pay": 0.10, "max_fraction_per_month": 0.30},
    "complaints": {"per_resolved": 200, "per_escalated": 300},
}


def tiny_tables() -> dict[str, list[dict]]:
    """Two managers, four customers, one quarter: small enough to compute by hand
    (see tests/test_kpis.py for the arithmetic)."""
    return {
        "managers": [
            {"manager_id": "M1", "name": "王伟", "team_id": "A", "region": "R", "hire_date": "2020-01-01", "leave_date": ""},
            {"manager_id": "M2", "name": "李娜", "team_id": "A", "region": "R", "hire_date": "2026-08-16", "leave_date": ""},
        ],
        "customers": [
            {"customer_id": "C1", "manager_id": "M1", "segment": "key", "acquired_date": "2025-01-10", "lost_date": "", "referred_by": ""},
            {"customer_id": "C2", "manager_id": "M1", "segment": "small", "acquired_date": "2025-06-01", "lost_date": "2026-08-05", "referred_by": ""},
            {"customer_id": "C3", "manager_id": "M1", "segment": "walkin", "acquired_date": "2026-07-15", "lost_date": "", "referred_by": "C1"},
            {"customer_id": "C4", "manager_id": "M2", "segment": "small", "acquired_date": "2026-09-01", "lost_date": "", "referred_by": ""},
        ],
        "orders": [
            {"order_id": "O0", "date": "2026-06-10", "customer_id": "C1", "manager_id": "M1", "amount": 800, "profit": 200, "product_line": "P"},
            {"order_id": "O1", "date": "2026-07-03", "customer_id": "C1", "manager_id": "M1", "amount": 1000, "profit": 300, "product_line": "P"},
            {"order_id": "O2", "date": "2026-07-20", "customer_id": "C1", "manager_id": "M1", "amount": 500, "profit": 100, "product_line": "Q"},
            {"order_id": "O3", "date": "2026-08-01", "customer_id": "C2", "manager_id": "M1", "amount": 200, "profit": 50, "product_line": "P"},
            {"order_id": "O4", "date": "2026-07-15", "customer_id": "C3", "manager_id": "M1", "amount": 100, "profit": 10, "product_line": "Q"},
            {"order_id": "O5", "date": "2026-09-02", "customer_id": "C4", "manager_id": "M2", "amount": 400, "profit": 80, "product_line": "P"},
        ],
        "surveys": [
            {"date": "2026-08-10", "customer_id": "C1", "csat": 5, "nps": 10},
            {"date": "2026-07-10", "customer_id": "C2", "csat": 3, "nps": 6},
            {"date": "2026-09-01", "customer_id": "C3", "csat": 4, "nps": 8},
        ],
        "complaints": [
            {"complaint_id": "K1", "date": "2026-08-02", "customer_id": "C2", "manager_id": "M1", "resolved": "false", "escalated": "true"},
            {"complaint_id": "K2", "date": "2026-07-05", "customer_id": "C1", "manager_id": "M1", "resolved": "true", "escalated": "false"},
        ],
        "visits": [
            {"date": "2026-07-04", "manager_id": "M1", "customer_id": "C1", "channel": "visit"},
            {"date": "2026-08-04", "manager_id": "M1", "customer_id": "C1", "channel": "call"},
            {"date": "2026-08-06", "manager_id": "M1", "customer_id": "C2", "channel": "visit"},
        ],
        "market": [{"region": "R", "month": f"2026-{m:02d}", "market_size": 10000} for m in range(4, 10)],
        "ratings": [
            {"manager_id": "M1", "period": "2026-07", "dimension": "attitude", "score": 85, "rater": "主管"},
            {"manager_id": "M1", "period": "2026-08", "dimension": "attitude", "score": 100, "rater": "主管"},
            {"manager_id": "M1", "period": "2026Q3", "dimension": "attitude", "score": 70, "rater": "考核小组"},
        ],
        "leads": [
            {"lead_id": "L1", "date": "2026-07-01", "manager_id": "M1", "segment": "walkin", "converted": "true"},
            {"lead_id": "L2", "date": "2026-07-02", "manager_id": "M1", "segment": "walkin", "converted": "false"},
            {"lead_id": "L3", "date": "2026-08-01", "manager_id": "M1", "segment": "small", "converted": "false"},
            {"lead_id": "L4", "date": "2026-09-01", "manager_id": "M1", "segment": "small", "converted": "false"},
        ],
    }


# The files that take longest, longest first (measured on a 2-core machine).  pytest-xdist
# (--dist loadfile --no-loadscope-reorder) hands out whole files in the order they are
# collected: a long file started last would keep one worker busy while the other has
# nothing left to do; started first, the short files fill the gaps at the end.  The
# first to ask for the demo runs (test_words: both languages) is near the top.  nbval's
# notebooks (notebooks/, collected after tests/) each wait on a kernel started from
# nothing, 3-6 s: between files that keep a core busy, not beside test_kernels.py (which
# waits too) and not after the short files.
LONGEST_FIRST = ["test_lifecycle.py", "test_words.py", "test_robustness.py", "test_publishing_runs.py",
                 "test_bad_inputs.py", "test_cli.py", "test_sources.py", "test_dask.py", "test_foreign.py",
                 "test_leadership.py", "test_points_demo.py",
                 "05_leadership_summary.ipynb", "test_targetlab.py", "04_quarterly_review.ipynb", "test_quarterly.py",
                 "01_target_setting.ipynb", "test_scenarios.py", "03_weighting_scenarios.ipynb", "test_print.py",
                 "02_kpi_decomposition.ipynb", "test_strategy.py", "00_data_quality.ipynb", "test_excel.py",
                 "test_data_cache.py", "test_kernels.py", "test_store.py", "test_declared.py", "test_kpis_duckdb.py"]


def pytest_configure(config) -> None:
    """The in-process tests run with the collector thresholds of the workbook's own
    processes (helpers.run.zygote.GC_THRESHOLD)."""
    from helpers.run.zygote import tune_gc

    tune_gc()


def pytest_collection_modifyitems(session, config, items) -> None:
    """Collect the files of :data:`LONGEST_FIRST` first, in that order; the order of the
    tests within a file, and of the other files, stays.  After the last cell nbval
    collected of each workbook notebook comes :class:`RunsOnDefaults` (same file: the same
    worker runs it next)."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
    last: dict = {}
    for i, item in enumerate(items):
        if type(item).__name__ == "IPyNbCell" and item.path.parent == ROOT / "notebooks":
            last[item.parent] = i
    for nbfile, i in sorted(last.items(), key=lambda kv: -kv[1]):
        items.insert(i + 1, RunsOnDefaults.from_parent(nbfile, name="test_notebook_runs_on_defaults"))


class RunsOnDefaults(pytest.Item):
    """The notebook, run on its defaults, shows its charts and no error: checked on the
    outputs of nbval's run of every code cell (on a kernel started from nothing, as a
    user's Jupyter would), where this test used to run the notebook once more on a
    forked kernel with papermill to check the same (the runs' papermill and forked
    kernels run every notebook in every demo run)."""

    def runtest(self) -> None:
        cells = [i for i in self.session.items if i.parent is self.parent and i is not self]
        code = [c for c in self.parent.nb.cells if c.cell_type == "code"]
        if len(cells) < len(code):
            pytest.skip("not every cell of the notebook was selected in this session")
        missing = [c.name for c in cells if not hasattr(c, "test_outputs")]
        assert not missing, "nbval no longer keeps a cell's outputs (IPyNbCell.test_outputs): check another way"
        assert all(c.test_outputs is not None for c in cells), "a cell did not run"
        outputs = [o for c in cells for o in c.test_outputs]
        assert not [o for o in outputs if o.get("output_type") == "error"]
        assert [o for o in outputs if "image/png" in o.get("data", {})], "the report shows charts"

    def repr_failure(self, excinfo, style=None):
        return f"{self.path.name} on its defaults: {excinfo.exconly()}"

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::{self.name}"


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    return write_tables(tmp_path / "tiny", tiny_tables())


def once(tmp_path_factory, name: str, make) -> Path:
    """A folder made once per test session and shared by every pytest-xdist worker: the
    first worker to ask makes it (``make(folder)``, under a file lock), the others wait
    for it and read it.  Without xdist it is an ordinary session folder."""
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the session's folder, above the workers'
    folder, done = root / f"shared-{name}", root / f"shared-{name}.done"
    with FileLock(str(root / f"shared-{name}.lock")):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            make(folder)
            done.touch()
    return folder


def _cli_once(tmp_path_factory, name: str, *args: str) -> tuple[subprocess.CompletedProcess, Path]:
    """``kpi-workbook ARGS --out FOLDER`` run once per session (see :func:`once`); the
    completed process as it ran, and the folder."""
    import json

    def make(folder: Path) -> None:
        proc = run_cli(*args, "--out", str(folder / "out"), "--no-progress")
        (folder / "proc.json").write_text(json.dumps({"args": proc.args, "returncode": proc.returncode,
                                                      "stdout": proc.stdout, "stderr": proc.stderr}), encoding="utf-8")

    folder = once(tmp_path_factory, name, make)
    rec = json.loads((folder / "proc.json").read_text(encoding="utf-8"))
    return subprocess.CompletedProcess(rec["args"], rec["returncode"], rec["stdout"], rec["stderr"]), folder / "out"


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """The built-in demo data, generated once per test session (shared by xdist workers)."""
    from helpers.data.demo import write_demo

    return once(tmp_path_factory, "demo-data", lambda folder: write_demo(folder / "demo")) / "demo"


@pytest.fixture(scope="session")
def demo_params(tmp_path_factory, demo_dir: Path) -> Path:
    """A params file pointing at the session's demo data and the repo notebooks."""
    import yaml

    from helpers.plan.params import RunParams

    folder = tmp_path_factory.mktemp("params")
    params = yaml.safe_load((ROOT / "params" / "demo.yaml").read_text(encoding="utf-8"))
    params["data"].update(folder=str(demo_dir), demo=False)
    params["notebook_folder"] = str(ROOT / "notebooks")
    # methodology files stay the repo's: make every path in the params absolute
    defaults = RunParams.model_validate({"data": {"folder": "x"}})
    for key in ("indicators", "strategy", "alternative_strategy", "weights", "targets", "incentives", "scoring"):
        value = params.get(key, getattr(defaults, key))
        if value:
            params[key] = str(ROOT / "params" / value)
    p = folder / "demo.yaml"
    p.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


def cjk_text(html: str) -> set[str]:
    """Runs of CJK characters (and CJK punctuation) in a page's visible text: styles,
    scripts and tags removed, entities decoded."""
    import html as html_mod
    import re

    body = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S | re.I)
    text = html_mod.unescape(re.sub(r"<[^>]+>", "\n", body))
    return set(re.findall(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+", text))


def demo_words(demo_dir: Path) -> set[str]:
    """Chinese data values an English report may show as they are: names of managers,
    teams and regions, product lines."""
    m = pd.read_csv(demo_dir / "managers.csv")
    t = pd.read_csv(demo_dir / "teams.csv")
    lines = pd.read_csv(demo_dir / "orders.csv", usecols=["product_line"])["product_line"]
    return set(m["name"]) | set(t["team_name"]) | set(t["region"]) | set(m["region"]) | set(lines.unique())


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the command line as the console script does, each call in a process of its own;
    return the completed process (text).

    The process is forked from a server that has imported the command line once per test
    worker (:func:`_cli_server`, :mod:`cli_child`), so a test pays the run, not Python's start and 1.5 s
    of imports (the bad-input corpus alone is 125 runs).  Everything else is the
    console script's: ``sys.argv``, the environment and the folder at the call, stdout and
    stderr as text, the exit code of ``sys.exit`` (or of a signal).  The tests that
    need the script itself (signals, locks, killed runs) start it with ``KPI_BIN``."""
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    cwd = cwd or ROOT
    ctx = _cli_server()
    if ctx is None:
        return subprocess.run([str(KPI_BIN), *args], capture_output=True, text=True, cwd=cwd, timeout=timeout, env=env)
    import tempfile

    import cli_child

    with tempfile.TemporaryDirectory(prefix="kpi-cli-") as d:
        out, err, code = Path(d) / "stdout", Path(d) / "stderr", Path(d) / "code"
        proc = ctx.Process(target=cli_child.main,
                           args=([str(KPI_BIN), *args], str(cwd), env, str(out), str(err), str(code)))
        proc.start()
        proc.join(timeout)
        if proc.exitcode is None:
            proc.kill()
            proc.join()
            raise subprocess.TimeoutExpired([str(KPI_BIN), *args], timeout)
        # the command's own exit code when it ended (the server may lose a child's status: 255);
        # the process's when it did not (killed by a signal)
        returncode = int(code.read_text()) if code.exists() and code.read_text().strip() else proc.exitcode
        return subprocess.CompletedProcess([str(KPI_BIN), *args], returncode,
                                           out.read_text(encoding="utf-8", errors="replace"),
                                           err.read_text(encoding="utf-8", errors="replace"))


# not cli_child: each child imports that small module after the fork.  The server does not get
# this process's sys.path (Python 3.11's forkserver leaves it unused): it finds tests/ (cli_warm)
# through PYTHONPATH, set for it alone (_cli_server)
CLI_PRELOAD = ["helpers.run.noiri",  # first: the server imports nbformat below, not jsonschema's IRI grammar
               "helpers.run.cli", "helpers.run.runner", "helpers.run.checks", "helpers.run.lifecycle",
               "helpers.context.targets", "helpers.kpis.measures", "helpers.notebooks.dataquality",
               "helpers.notebooks.targetlab", "helpers.notebooks.decomposition", "helpers.notebooks.scenarios",
               "helpers.notebooks.quarterly", "helpers.notebooks.leadership",
               # imported on first use by every validate and run: pandera where the data is validated,
               # jupyter_client where the kernel is checked (a forked child would import them again)
               "pandera.pandas", "pandera.backends.pandas.register", "pandera.accessors.pandas_accessor",
               "helpers.data.sources", "helpers.kpis.declared", "helpers.run.publish", "jupyter_client.kernelspec",
               "ipykernel.kernelspec", "pyarrow.pandas_compat", "pydantic.type_adapter",
               # and by every run: the workspace's Parquet files, the output lock, the fork server's client side
               "pyarrow.parquet", "pyarrow.dataset", "filelock", "psutil", "tqdm", "multiprocessing.popen_forkserver",
               "multiprocessing.synchronize", "helpers.run.kernels", "helpers.run.zygote",
               # and by a run's fork server, forked from the run (helpers.run.runner.start_fork_server):
               # the libraries of the kernel template and of the pool's workers
               "matplotlib.pyplot", "seaborn", "openpyxl", "ipykernel.ipkernel", "ipykernel.kernelapp",
               "helpers.present.plotting", "papermill", "nbformat", "helpers.present.report",
               # and what every kernel imports as it starts (helpers.run.zygote.KERNEL_START_MODULES)
               "helpers.run.kernelstart",
               # last: the reports' templates and exporters, compiled once for every run the server forks
               "helpers.run.prewarm",
               # and a validate run in the server (tests/cli_warm.py: the server's path holds tests/)
               "cli_warm"]
_CLI_SERVER: list = []


def _cli_server():
    """The multiprocessing ``forkserver`` context whose server imported :data:`CLI_PRELOAD`
    and ran one ``validate`` (:mod:`cli_warm`: about 0.05 core-seconds of every command's
    first-call set-up done once; the bad-input corpus 57 → 52 core-seconds), started on
    first use, once per test process; None where there is no fork
    (``KPI_WORKBOOK_TEST_CLI=subprocess`` forces the console script too)."""
    import multiprocessing

    if os.environ.get("KPI_WORKBOOK_TEST_CLI") == "subprocess" or "forkserver" not in multiprocessing.get_all_start_methods():
        return None
    with _CLI_LOCK:
        if not _CLI_SERVER:
            from multiprocessing import forkserver
            from unittest import mock

            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(CLI_PRELOAD)
            path = [str(ROOT / "tests"), *filter(None, [os.environ.get("PYTHONPATH")])]
            with mock.patch.dict(os.environ, PYTHONPATH=os.pathsep.join(path)):  # the server's own path
                forkserver.ensure_running()  # (the forked commands get this process's)
            _CLI_SERVER.append(ctx)
    return _CLI_SERVER[0]


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """`kpi-workbook demo --out TMP`, run once per session for the e2e and browser tests
    (shared by xdist workers; tests read its reports and never change them)."""
    proc, out = _cli_once(tmp_path_factory, "demo-run", "demo")
    return proc, out / "2026Q3"


@pytest.fixture(scope="session")
def demo_run_en(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """`kpi-workbook demo --out TMP --language en`, run once: the English reports."""
    proc, out = _cli_once(tmp_path_factory, "demo-run-en", "demo", "--language", "en")
    return proc, out / "2026Q3"


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Debian's package) driven by Playwright; required in CI."""
    exe = chromium()
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is required in CI (apt-get install chromium)")
        pytest.skip("Chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=BROWSER_ARGS)
        yield b
        b.close()


def print_pdf(browser, html: Path, out: Path) -> Path:
    """``html`` printed to ``out`` by headless Chromium as its print-to-PDF does
    (``chromium --headless --print-to-pdf --no-pdf-header-footer``: the page size and
    margins of the page's CSS ``@page``, no header or footer, no backgrounds), in the
    session's browser instead of a new Chromium per page.  The same pages, each with the
    same text, as the command line's for the demo's 03, 04, 05 and a statement (checked
    2026-12-06)."""
    page = browser.new_page()
    try:
        page.goto(html.as_uri())
        page.pdf(path=str(out), prefer_css_page_size=True, display_header_footer=False, print_background=False)
    finally:
        page.close()
    assert out.stat().st_size > 0
    return out
