"""The package's layers, enforced (issue 13): the import-linter contracts in
``pyproject.toml`` must hold, so the shape cannot decay silently.

Known debts (a calculation that still writes sentences) are listed there under
``ignore_imports``; this test also fails when one of them is no longer needed, so the
list only shrinks."""

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
    assert "(1 ignored import)" in proc.stdout  # no new exception slipped in; remove one when its debt is paid


def test_every_ignored_import_still_exists():
    """An ignored edge that no longer exists must leave the list (import-linter warns; we fail)."""
    import tomllib

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    ignored = [c for c in cfg["tool"]["importlinter"]["contracts"] if "ignore_imports" in c][0]["ignore_imports"]
    for edge in ignored:
        importer, imported = (x.strip() for x in edge.split("->"))
        path = ROOT / "src" / (importer.replace(".", "/") + ".py")
        assert f"from {imported} import" in path.read_text(encoding="utf-8"), edge
