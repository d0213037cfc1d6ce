"""The console script's ``main`` in a process forked by the tests' CLI server
(:func:`conftest.run_cli`): only the standard library here, so the server and each
forked process import nothing the command line would not."""

from __future__ import annotations

import gc
import io
import os
import sys
import warnings


def main(argv: list[str], cwd: str, env: dict[str, str], out: str, err: str, code_file: str = "") -> None:
    """Run the command line with ``argv``, the environment and folder of the call, and
    stdout/stderr written to ``out``/``err``; ``sys.exit`` gives the process's exit code
    (multiprocessing makes it the exit code, as the console script's interpreter does),
    and is written to ``code_file`` too: the server reports 255 when it cannot read a
    child's status, which a test must not take for the command's own exit code."""
    gc.freeze()  # the server's imports stay: the collector never scans them (0.1 s of a validate on tiny data)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    for fd, path in ((1, out), (2, err)):
        f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(f, fd)
        os.close(f)
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", line_buffering=True)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace",
                                  line_buffering=True)
    sys.argv = list(argv)
    warnings.simplefilter("ignore")
    from helpers.run.cli import main as cli

    code = 1
    try:
        cli()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        raise
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        if code_file:
            with open(code_file, "w", encoding="utf-8") as fh:
                fh.write(str(code))
