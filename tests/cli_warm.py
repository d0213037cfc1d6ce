"""Imported last by the tests' command-line server (:data:`conftest.CLI_PRELOAD`): one
``validate`` of the bad-input corpus's tiny workspace, run in the server itself, so that
every command the server forks finds done what any command does on its first call in a
process (lazy imports, pandera's and pydantic's validators built, jupyter_client's kernel
provisioners looked up, regular expressions compiled).  Nothing of the validated
workspace is kept: it is a temporary folder, removed here.  A warm-up that fails leaves
the server as it was."""

from __future__ import annotations

import contextlib
import io
import shutil
import sys
import tempfile
from pathlib import Path


def warm() -> None:
    import test_bad_inputs

    from helpers.run.cli import main

    root = Path(tempfile.mkdtemp(prefix="kpi-cli-warm-"))
    argv = sys.argv
    try:
        ws = test_bad_inputs.prepare(root, lambda ws: None)
        sys.argv = ["kpi-workbook", "validate", str(ws.params_file)]
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                main()
            except SystemExit:
                pass
    finally:
        sys.argv = argv
        shutil.rmtree(root, ignore_errors=True)


try:
    warm()
except Exception:  # noqa: BLE001 - see above
    pass
