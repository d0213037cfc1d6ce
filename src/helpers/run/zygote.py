"""The kernel template process: imports once, forks a fresh kernel per notebook.

Started by :class:`helpers.run.kernels.KernelTemplate` as
``python -m helpers.run.zygote MODULE ...``.  It imports ipykernel and the modules
named (the libraries every report uses and the modules the notebooks declare) and
runs no other code; then, for each line ``{"argv": [...], "cwd": ..., "env": {...}}``
read from stdin, it forks a child that becomes an IPython kernel exactly as
``python -m ipykernel_launcher ARGV`` would, and writes the child's pid back.

Started as ``python -m helpers.run.zygote --listen SOCKET WORKERS MODULE ...`` (by
:class:`helpers.run.kernels.SharedTemplate`, one per run, in the run's main process)
it reads the same lines from every connection to the Unix socket ``SOCKET`` (one per
run worker, in a folder only its user can enter) and answers each on its own
connection.  A worker's kernels are killed when its connection closes (the worker
ended or died): a kernel outlives neither its template nor the worker it runs for.
Where the run has a fork server (Linux, macOS), that template is forked from it
instead, its libraries imported already (:func:`serve_forked`).

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


KERNEL_NAME = "kpi-kernel"
TEMPLATE_NAME = "kpi-template"
"""Process names (``ps -o comm``, ``top``, psutil's ``name()``) of a forked kernel and of
its template: forked processes keep the command line they were forked from."""


GC_THRESHOLD = (10000, 10, 10)
"""The cyclic collector's thresholds in the workbook's processes (Python's: 700, 10, 10).
A report or a run allocates a great many small containers (pandas on small tables,
matplotlib's artists) that plain reference counting frees; collecting after every 700
of them costs a kernel about 8 % of its time (the demo's notebooks, measured in one
process, 2026-12-06).  Cycles are still collected, after 10,000 allocations."""


KERNEL_START_MODULES = (
    # ipykernel's start: the debugger (debugpy and its vendored pydevd: about 150 modules), the
    # shell's history (sqlite3), completer, magics and pylab tools, the event loop's queues
    "ipykernel.debugger", "IPython.core.debugger", "IPython.core.completerlib", "IPython.extensions.storemagic",
    "IPython.core.pylabtools", "IPython.core.oinspect", "IPython.core.logger", "IPython.utils.wildcard", "sqlite3",
    "psutil", "faulthandler", "tornado.queues", "tornado.locks", "tornado.platform.asyncio", "xmlrpc.server",
    # the charts: Agg and Pillow's image plugins (Pillow loads them all on first use); not the inline
    # backend itself: imported, it ties itself to the IPython shell there is, and the template has none
    # (a kernel that found it imported would not show the charts a cell leaves open)
    "matplotlib.backends.backend_agg", "PIL.PngImagePlugin", "PIL.features",
    "PIL.BmpImagePlugin", "PIL.GifImagePlugin", "PIL.JpegImagePlugin", "PIL.PpmImagePlugin",
    # pandas modules the reports reach on first use
    "pandas.core.reshape.reshape", "pandas.core.arrays.arrow.extension_types", "pandas.core.methods.to_dict",
)
"""What a forked kernel imported after the fork, in every report of the demo (measured
2026-12-06: about 200 modules, most of them the debugger's, which ipykernel imports as
it starts): imported in the template, so each kernel inherits them instead of importing
them again.  Importing starts no thread (checked: a fork keeps only the forking thread)."""


def import_kernel_start() -> list[str]:
    """Import :data:`KERNEL_START_MODULES` (those not imported yet), without the notes
    they print as they load (pydevd's "frozen modules" warning, which a kernel's own
    import sends to its unread stderr); the ones that could not be imported (the kernel
    imports them itself, or does without: debugpy is optional)."""
    import contextlib
    import io

    missing = []
    with contextlib.redirect_stderr(io.StringIO()):
        for name in KERNEL_START_MODULES:
            if name in sys.modules:
                continue
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the kernel imports it itself, or does without
                missing.append(name)
    return missing


def tune_gc() -> None:
    """Apply :data:`GC_THRESHOLD` to this process (and so to the processes it forks)."""
    gc.set_threshold(*GC_THRESHOLD)


def set_name(name: str) -> None:
    """This process's name as the system shows it (Linux ``PR_SET_NAME``; 15 bytes at most)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(15, name.encode()[:15], 0, 0, 0)  # 15: PR_SET_NAME
    except (OSError, AttributeError):
        pass


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


def _child(req: dict, template: int, close: tuple[int, ...] = ()) -> None:
    """In the forked child: become ``python -m ipykernel_launcher ARGV``; never returns.
    ``close``: the template's sockets, which are not the kernel's."""
    code = 1
    try:
        _die_with_parent(template)
        set_name(KERNEL_NAME)
        for fd in close:
            try:
                os.close(fd)
            except OSError:
                pass
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the kernel waits for its own subprocesses
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a fresh Python (the template ignores it)
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


def _prepare(modules: list[str]) -> list[str]:
    """Import the kernel and ``modules`` (nothing else runs here); the modules that failed."""
    os.environ.setdefault("MPLBACKEND", INLINE)  # what ipykernel sets before the notebook imports matplotlib
    mpl = sys.modules.get("matplotlib")  # a template forked from a process that imported it before it was named
    if mpl is not None and mpl.rcParams._get("backend") != os.environ["MPLBACKEND"]:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None and getattr(pyplot, "_backend_mod", None) is not None:
            pyplot.switch_backend(os.environ["MPLBACKEND"])
        else:
            mpl.rcParams["backend"] = os.environ["MPLBACKEND"]
    if sys.path and sys.path[0] in ("", os.getcwd()):  # as ipykernel_launcher: not the template's folder
        del sys.path[0]
    import ipykernel.ipkernel  # noqa: F401 - the kernel itself
    import ipykernel.kernelapp  # noqa: F401

    import_kernel_start()
    failed = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - the notebook will import it and report the error itself
            failed.append(f"{name}: {type(exc).__name__}")
    gc.collect()
    gc.freeze()  # the imported objects stay shared between the template and its kernels (copy on write)
    tune_gc()  # the kernels' collector, as the template's
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # finished kernels are reaped by the system
    return failed


def _fork(req: dict, me: int, close: tuple[int, ...] = ()) -> int:
    pid = os.fork()
    if pid == 0:
        _child(req, me, close)
    try:
        os.setpgid(pid, pid)  # also here, so the group exists before the worker can signal it
    except OSError:
        pass  # the child got there first, or already exited
    return pid


def _is_my_child(pid: int, me: int) -> bool:
    """True when ``pid`` is a running child of this process (Linux: its parent in /proc;
    elsewhere: that it exists)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return int(fh.read().rsplit(b")", 1)[1].split()[1]) == me
    except FileNotFoundError:
        if os.path.isdir("/proc/self"):
            return False
    except (OSError, ValueError, IndexError):
        return False
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def serve(path: str, expect: int, modules: list[str]) -> None:
    """One template for a whole run: the kernels of every worker connected to ``path``.
    Once ``expect`` workers have connected, the socket and its folder are removed (none
    is left behind if the run is killed later)."""
    import select
    import socket

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)  # before the imports: the workers may connect at once (their first fork waits)
    listener.listen(64)
    _prepare(modules)
    me = os.getpid()
    conns: dict[socket.socket, list] = {}  # connection → [unread bytes, pids of the kernels forked for it]
    accepted = 0
    while True:
        ready, _, _ = select.select([listener, *conns], [], [])
        for sock in ready:
            if sock is listener:
                conn, _ = listener.accept()
                conns[conn] = [b"", []]
                accepted += 1
                if accepted == expect:
                    try:
                        os.unlink(path)
                        os.rmdir(os.path.dirname(path))
                    except OSError:
                        pass
                continue
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            state = conns[sock]
            if not data:  # the worker ended or died: none of its kernels may go on
                for pid in state[1]:
                    if _is_my_child(pid, me):
                        try:
                            os.killpg(pid, signal.SIGKILL)
                        except OSError:
                            pass
                del conns[sock]
                sock.close()
                continue
            state[0] += data
            while b"\n" in state[0]:
                line, state[0] = state[0].split(b"\n", 1)
                if not line.strip():
                    continue
                close = (listener.fileno(), *(c.fileno() for c in conns))
                pid = _fork(json.loads(line), me, close)
                for other in conns.values():  # a pid belongs to one kernel at a time
                    if pid in other[1]:
                        other[1].remove(pid)
                state[1] = [p for p in state[1] if _is_my_child(p, me)] + [pid]
                try:
                    sock.sendall((json.dumps({"pid": pid}) + "\n").encode("utf-8"))
                except OSError:
                    pass  # gone: its end of file comes next


def release_fork_server(tracker: bool = True) -> None:
    """In a process forked from a ``multiprocessing`` fork server: close the end of the
    server's "alive" pipe (and with ``tracker`` of the resource tracker's pipe) that
    every such process inherits.  The server ends when every holder of that end is
    gone; a process that starts nothing through the server (the kernel template, a
    run's pool worker) must not hold it, or the server would outlive a killed run and
    keep what is forked from it alive with it."""
    from multiprocessing import forkserver, resource_tracker

    owners = [(forkserver._forkserver, "_forkserver_alive_fd")]
    if tracker:
        owners.append((resource_tracker._resource_tracker, "_fd"))
    for owner, attr in owners:
        fd = getattr(owner, attr, None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass
            setattr(owner, attr, None)


def serve_forked(path: str, expect: int, modules: list[str], path_entries: list[str], home: str) -> None:
    """:func:`serve`, in a process forked from the run's fork server (started by
    :class:`helpers.run.kernels.SharedTemplate` as a ``multiprocessing`` process): the
    libraries are imported already.  It becomes what ``python -m helpers.run.zygote
    --listen`` would be: the run's ``sys.path`` without the folder of the command that
    started it (``path_entries``), the home folder, no output, Ctrl-C left to the run,
    and it dies with the fork server (which ends with the run)."""
    _die_with_parent(os.getppid())
    set_name(TEMPLATE_NAME)
    release_fork_server()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    sys.path[:] = path_entries
    if home:
        os.chdir(home)
    serve(path, expect, modules)


def main(modules: list[str]) -> None:
    _die_with_parent(int(os.environ.get("KPI_WORKBOOK_TEMPLATE_PARENT", os.getppid())))
    # Ctrl-C reaches the whole foreground process group, this template too: the run's main
    # process decides (it kills the workers, this template and the kernels).  Dying on
    # its own, the template would take its kernels with it while the workers still run,
    # and a worker would start a replacement kernel the usual way, which could escape the
    # main process's clean-up and keep the run's output pipes open.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.pop("KPI_WORKBOOK_TEMPLATE_PARENT", None)
    if modules[:1] == ["--listen"]:  # --listen SOCKET WORKERS MODULE ...
        serve(modules[1], int(modules[2]), modules[3:])
        return
    failed = _prepare(modules)
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    me = os.getpid()
    out.write(json.dumps({"ready": True, "failed": failed}) + "\n")
    for line in sys.stdin:
        if not line.strip():
            continue
        pid = _fork(json.loads(line), me)
        out.write(json.dumps({"pid": pid}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
