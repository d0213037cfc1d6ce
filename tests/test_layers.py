"""The package's layers, enforced (issue 13): the import-linter contracts in
``pyproject.toml`` must hold, so the shape cannot decay silently.

No exceptions are listed: the calculation core imports neither the text catalog nor
anything that draws."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_import_contracts_hold():
    proc = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports; "
                           "raise SystemExit(lint_imports(no_cache=True, no_logo=True))"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "Contracts: 3 kept, 0 broken." in proc.stdout
    assert "ignored import" not in proc.stdout  # no exceptions: every layer holds without one


def test_no_contract_carries_exceptions():
    """The contracts hold as written: no ``ignore_imports`` (a new exception needs a reason
    in docs/ARCHITECTURE.md and a change to this test)."""
    import tomllib

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = cfg["tool"]["importlinter"]["contracts"]
    assert len(contracts) == 3 and not [c["name"] for c in contracts if c.get("ignore_imports")]


def test_the_run_knows_notebooks_only_by_what_they_declare():
    """Each workbook notebook names its module in its metadata; the module says what the
    run must check (``check_inputs``) and prepare once (``SHARED``).  The runner names no
    notebook and imports no notebook module itself."""
    from helpers.run.runner import notebook_module

    declared = {}
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        mod = notebook_module(nb)
        assert mod is not None and callable(mod.check_inputs) and isinstance(mod.SHARED, dict), nb.name
        declared[nb.stem] = sorted(mod.SHARED)
    assert declared == {"00_data_quality": [], "01_target_setting": ["targets"], "02_kpi_decomposition": ["scores"],
                        "03_weighting_scenarios": ["health", "scores"], "04_quarterly_review": ["scores"],
                        "05_leadership_summary": ["health", "scores", "targets"]}
    runner = (ROOT / "src" / "helpers" / "run" / "runner.py").read_text(encoding="utf-8")
    assert "helpers.notebooks" not in runner and "_target_setting" not in runner and "_quarterly_review" not in runner


def test_every_methodology_model_has_the_one_strict_base():
    """One base (unknown keys refused, values frozen) and one loader for every file a
    consultant writes: no module defines a pydantic base of its own."""
    import ast

    from pydantic import BaseModel

    from helpers.plan.base import Strict

    defined = []
    for path in sorted((ROOT / "src" / "helpers").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(getattr(b, "id", "") == "BaseModel" for b in node.bases):
                defined.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert defined == ["src/helpers/plan/base.py:Strict"]
    assert Strict.model_config["extra"] == "forbid" and issubclass(Strict, BaseModel)


def test_no_calculation_takes_a_language_or_a_notebook_context():
    """The calculation core returns numbers and notes, never words: no public or private
    function of ``core`` has a parameter for a language or a notebook context (the
    presentation words the notes; below the core, only accessors that pick one language
    of a text the data holds in both, such as ``Library.name``, take a language)."""
    import importlib
    import inspect
    import pkgutil

    import helpers

    found = []
    for sub in ("core",):
        pkg = importlib.import_module(f"helpers.{sub}")
        for info in pkgutil.iter_modules(pkg.__path__, f"helpers.{sub}."):
            mod = importlib.import_module(info.name)
            for name, obj in vars(mod).items():
                funcs = [obj] if inspect.isfunction(obj) else []
                if inspect.isclass(obj):
                    funcs = [f for f in vars(obj).values() if inspect.isfunction(f)]
                for f in funcs:
                    if getattr(f, "__module__", "") != info.name:
                        continue
                    bad = {"language", "lang", "ctx", "context"} & set(inspect.signature(f).parameters)
                    if bad:
                        found.append(f"{info.name}.{f.__qualname__}({', '.join(sorted(bad))})")
    assert helpers and found == []


def test_kpi_names_have_one_home():
    """A KPI's name and formula are written once (``helpers.kpis.measures.KPIS``): no catalog
    text repeats one, and the shipped indicator library lets its KPI indicators take them."""
    import yaml

    from helpers.kpis.measures import KPIS
    from helpers.present.i18n import catalog

    names = {k.zh for k in KPIS.values()}
    assert [k for k, v in catalog().items() if v["zh"] in names] == []
    raw = yaml.safe_load((ROOT / "params" / "indicators.yaml").read_text(encoding="utf-8"))["indicators"]
    repeated = [i["id"] for i in raw if i.get("kpi") in KPIS and i.get("segment", "all") == "all"
                and any(i.get(f) == getattr(KPIS[i["kpi"]], f) for f in ("zh", "en", "formula"))]
    assert repeated == []
    from helpers.kpis.indicators import load_library

    lib = load_library(ROOT / "params" / "indicators.yaml")
    assert (lib["sales"].zh, lib["sales"].en, lib["sales"].formula) == (KPIS["sales"].zh, KPIS["sales"].en,
                                                                          KPIS["sales"].formula)
