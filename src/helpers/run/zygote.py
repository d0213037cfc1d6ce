"""The kernel template process: imports once, forks a fresh kernel per notebook.

Started by :class:`helpers.run.kernels.KernelTemplate` as
``python -m helpers.run.zygote MODULE ...``.  It imports ipykernel and the modules
named (the libraries every report uses and the modules the notebooks declare) and
runs no other code; then, for each line ``{"argv": [...], "cwd": ..., "env": {...}}``
read from stdin, it forks a child that becomes an IPython kernel exactly as
``python -m ipykernel_launcher ARGV`` would, and writes the child's pid back.

Every kernel is a copy of the same freshly imported state: nothing one notebook does
can reach the next one (each runs in its own process, forked from a template that
never runs notebook code).  What a kernel saves is Python's start-up and the imports
(about two core-seconds a report).
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import signal
import sys

INLINE = "module://matplotlib_inline.backend_inline"


def _die_with_parent(parent: int) -> None:
    """Be killed when ``parent`` exits (Linux ``PR_SET_PDEATHSIG``), and exit now if it
    already has: a kernel never outlives its template, nor a template its worker, even
    when they are killed with -9 between a fork and the worker's clean-up."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the worker's watchdog still kills its descendants
        pass
    if os.getppid() != parent:
        os._exit(1)


def _child(req: dict, template: int) -> None:
    """In the forked child: become ``python -m ipykernel_launcher ARGV``; never returns."""
    code = 1
    try:
        _die_with_parent(template)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the kernel waits for its own subprocesses
        os.setpgid(0, 0)  # its own process group, like a kernel jupyter_client starts (signals reach its children)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)  # fd 1 is the pipe to the worker: the kernel must not write into it
        os.close(devnull)
        sys.stdin = open(os.devnull, encoding="utf-8")
        os.chdir(req["cwd"])
        os.environ.clear()
        os.environ.update(req["env"])
        sys.argv = ["ipykernel_launcher", *req["argv"]]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance(argv=list(req["argv"]))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    finally:
        os._exit(code)


def main(modules: list[str]) -> None:
    _die_with_parent(int(os.environ.get("KPI_WORKBOOK_TEMPLATE_PARENT", os.getppid())))
    os.environ.pop("KPI_WORKBOOK_TEMPLATE_PARENT", None)
    os.environ.setdefault("MPLBACKEND", INLINE)  # what ipykernel sets before the notebook imports matplotlib
    if sys.path and sys.path[0] in ("", os.getcwd()):  # as ipykernel_launcher: not the template's folder
        del sys.path[0]
    import ipykernel.ipkernel  # noqa: F401 - the kernel itself
    import ipykernel.kernelapp  # noqa: F401

    failed = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - the notebook will import it and report the error itself
            failed.append(f"{name}: {type(exc).__name__}")
    gc.collect()
    gc.freeze()  # the imported objects stay shared between the template and its kernels (copy on write)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # finished kernels are reaped by the system
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    me = os.getpid()
    out.write(json.dumps({"ready": True, "failed": failed}) + "\n")
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(req, me)
        try:
            os.setpgid(pid, pid)  # also here, so the group exists before the worker can signal it
        except OSError:
            pass  # the child got there first, or already exited
        out.write(json.dumps({"pid": pid}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
