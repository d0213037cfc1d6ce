"""Kernels forked from a pre-imported template, so a report does not pay for start-up.

A fresh Jupyter kernel spends about two core-seconds starting Python and importing
pandas, seaborn and the workbook before the notebook's first line runs.  Each run
worker keeps one :class:`KernelTemplate` (:mod:`helpers.run.zygote`): a process that
has done those imports once and forks a new kernel for every notebook.  papermill
and nbclient drive the forked kernel as any other (:class:`ForkKernelManager`, given
to papermill as ``kernel_manager_class``): the same ipykernel, the same messages,
its own process — nothing passes from one notebook (or team) to the next.

A run of the command line starts one template for all its workers
(:class:`SharedTemplate`): each worker asks it for kernels over a Unix socket
(:func:`connect`) instead of importing the same libraries in a template of its own.
The workers and this template are forked from the run's fork server, which imports
the libraries of both once (:func:`helpers.run.runner.pool_context`); on a system
without a fork server the template is ``python -m helpers.run.zygote --listen``.  A
process that is not given one keeps its own (:func:`template`).  Forked kernels and
templates are named ``kpi-kernel`` and ``kpi-template`` for ``ps`` and ``top``.

Only a standard IPython kernel spec (``python -m ipykernel_launcher``) of this
Python is forked; any other kernel, or a template that fails, starts the usual way.
``execution.fork_kernels: false`` in the params turns forking off.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from queue import Empty
from typing import Any, Sequence

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

BASE_MODULES = ("numpy", "pandas", "pyarrow.parquet", "pyarrow.dataset", "matplotlib.pyplot", "seaborn",
                "IPython.display", "openpyxl")
"""What the reports import, whatever their notebooks declare (pandas imports
``openpyxl`` only when a report writes its Excel file: 0.3 s in every such kernel)."""


class ForkedProcess:
    """The forked kernel, seen like a ``subprocess.Popen`` by the provisioner.

    Its parent is the template (which lets the system reap it), so the exit status is
    not known here: a kernel that has gone counts as exited with 0."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0
            except PermissionError:  # the pid was reused by another user's process
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class KernelTemplate:
    """One template process (:mod:`helpers.run.zygote`) and the pipe to it."""

    def __init__(self, python: str, modules: Sequence[str], start_timeout: float = 120):
        self.python = python
        self.modules = list(modules)
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(
            [python, "-m", "helpers.run.zygote", *self.modules],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
            cwd=str(Path.home()) if Path.home().is_dir() else None,
            env={**os.environ, "KPI_WORKBOOK_TEMPLATE_PARENT": str(os.getpid())},
        )
        self._buf = b""
        self.failed: list[str] = []
        line = self._read(start_timeout)
        if not line or not json.loads(line).get("ready"):
            self.close()
            raise RuntimeError("the kernel template did not start")
        self.failed = json.loads(line).get("failed", [])

    def _read(self, timeout: float) -> str:
        """One line from the template, or "" when none came within ``timeout`` seconds."""
        end = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return ""
            chunk = os.read(fd, 4096)
            if not chunk:  # the template exited
                return ""
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode("utf-8")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def fork(self, argv: list[str], cwd: str, env: dict[str, str]) -> int:
        """A new kernel process running ``ipykernel_launcher ARGV`` in ``cwd``; its pid."""
        with self._lock:
            try:
                self.proc.stdin.write((json.dumps({"argv": argv, "cwd": cwd, "env": env}) + "\n").encode("utf-8"))
                self.proc.stdin.flush()
            except OSError:
                line = ""
            else:
                line = self._read(30)
            if not line:  # in an unknown state: it is not used again
                self.close()
                raise RuntimeError("the kernel template did not answer")
        return int(json.loads(line)["pid"])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


FOLDER_PREFIX = "kpi-kernels-"
"""A run's template folder in the system's temporary folder: ``kpi-kernels-<random>-<run id>``
(:func:`helpers.run.publish.new_run_id`, which names the run's pid)."""


def sweep_stale_folders(tmp: str | None = None) -> list[str]:
    """Remove the template folders (:data:`FOLDER_PREFIX`) of this user's runs that no
    longer exist: a run killed outright (``kill -9``, a power cut) cannot remove its own,
    so the next run does.  A folder whose run is alive, another user's, or one without a
    run's pid in its name is left as it is.  Returns the folders removed."""
    import tempfile

    from helpers.run.publish import process_alive, run_pid  # as the staging folders of dead runs are told

    removed = []
    tmp = tmp or tempfile.gettempdir()
    try:
        names = os.listdir(tmp)
    except OSError:
        return removed
    for name in names:
        if not name.startswith(FOLDER_PREFIX):
            continue
        pid = run_pid(name)
        path = os.path.join(tmp, name)
        try:
            mine = os.lstat(path).st_uid == os.getuid()
        except OSError:
            continue
        if pid is not None and mine and pid != os.getpid() and not process_alive(pid):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


class SharedTemplate:
    """The run's one template (main process side): ``python -m helpers.run.zygote --listen``
    on a Unix socket in a folder of its own that only this user can enter.  Started
    without waiting: the workers connect as soon as they start (:func:`connect`), and
    their first kernel waits for the template's imports.  The folder's name carries the
    run's pid, so that the next run removes it should this run be killed before it can
    (:func:`sweep_stale_folders`)."""

    def __init__(self, python: str, modules: Sequence[str], workers: int, context: Any = None):
        import tempfile

        from helpers.run.publish import new_run_id

        sweep_stale_folders()
        # mode 0700: no other user may ask for a kernel
        self.folder = tempfile.mkdtemp(prefix=FOLDER_PREFIX, suffix=f"-{new_run_id()}")
        self.path = os.path.join(self.folder, "template.sock")  # removed by the template once ``workers`` connected
        self.process: Any = None
        self.proc: subprocess.Popen | None = None
        if context is not None and context.get_start_method() == "forkserver":
            # forked from the run's fork server, which has imported the libraries already
            from helpers.run import zygote

            home = str(Path.home()) if Path.home().is_dir() else ""
            self.process = context.Process(target=zygote.serve_forked, daemon=True, name="kpi-kernel-template",
                                           args=(self.path, workers, [*BASE_MODULES, *modules], sys.path[1:], home))
            self.process.start()
            return
        self.proc = subprocess.Popen(
            [python, "-m", "helpers.run.zygote", "--listen", self.path, str(workers), *BASE_MODULES, *modules],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            cwd=str(Path.home()) if Path.home().is_dir() else None,
            env={**os.environ, "KPI_WORKBOOK_TEMPLATE_PARENT": str(os.getpid())},
        )

    def close(self) -> None:
        """Kill it (and so, by their parent-death signal, any kernel still running) and
        remove its folder."""
        if self.process is not None:
            if self.process.is_alive():
                self.process.kill()
            self.process.join()
        elif self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


class TemplateClient:
    """A worker's connection to the run's :class:`SharedTemplate`; used like a
    :class:`KernelTemplate` (``alive``, ``fork``).  Its kernels are the template's
    children; the template kills them if this connection closes (the worker died)."""

    def __init__(self, path: str, connect_timeout: float = 30):
        import socket

        self.path = path
        self._lock = threading.Lock()
        self._buf = b""
        self._answered = False
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        end = time.monotonic() + connect_timeout
        while True:  # the socket appears a moment after the template process starts
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > end:
                    self.sock.close()
                    raise RuntimeError("the run's kernel template cannot be reached") from None
                time.sleep(0.02)
        self._broken = False

    def alive(self) -> bool:
        return not self._broken

    def _read(self, timeout: float) -> str:
        end = time.monotonic() + timeout
        fd = self.sock.fileno()
        while b"\n" not in self._buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return ""
            chunk = self.sock.recv(4096)
            if not chunk:  # the template exited
                return ""
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode("utf-8")

    def fork(self, argv: list[str], cwd: str, env: dict[str, str]) -> int:
        """A new kernel process running ``ipykernel_launcher ARGV`` in ``cwd``; its pid."""
        with self._lock:
            try:
                self.sock.sendall((json.dumps({"argv": argv, "cwd": cwd, "env": env}) + "\n").encode("utf-8"))
            except OSError:
                line = ""
            else:  # the first answer waits for the template's imports
                line = self._read(30 if self._answered else 120)
            if not line:  # in an unknown state: it is not used again
                self.close()
                raise RuntimeError("the kernel template did not answer")
            self._answered = True
        return int(json.loads(line)["pid"])

    def close(self) -> None:
        self._broken = True
        try:
            self.sock.close()
        except OSError:
            pass


_TEMPLATE: KernelTemplate | TemplateClient | None = None
_TEMPLATE_LOCK = threading.Lock()
_CONNECTED: set[str] = set()


def connect(path: str) -> TemplateClient | None:
    """This process's connection to the run's shared template at ``path`` (made on first
    use); None when it cannot be reached (kernels then start the usual way)."""
    global _TEMPLATE
    with _TEMPLATE_LOCK:
        if isinstance(_TEMPLATE, TemplateClient) and _TEMPLATE.path == path and _TEMPLATE.alive():
            return _TEMPLATE
        if _TEMPLATE is not None:
            _TEMPLATE.close()
            _TEMPLATE = None
        try:  # once connected, the template removes its socket: no second wait for it to appear
            _TEMPLATE = TemplateClient(path, connect_timeout=0 if path in _CONNECTED else 30)
            _CONNECTED.add(path)
        except (OSError, RuntimeError):
            _TEMPLATE = None
        return _TEMPLATE


def template(modules: Sequence[str]) -> KernelTemplate | None:
    """This process's kernel template (started on first use, again if it died); None
    when it cannot start (kernels then start the usual way)."""
    global _TEMPLATE
    with _TEMPLATE_LOCK:
        if isinstance(_TEMPLATE, KernelTemplate) and _TEMPLATE.alive():
            return _TEMPLATE
        if _TEMPLATE is not None:
            _TEMPLATE.close()
        try:
            _TEMPLATE = KernelTemplate(sys.executable, [*BASE_MODULES, *modules])
        except (OSError, RuntimeError, ValueError):
            _TEMPLATE = None
        return _TEMPLATE


def close_template() -> None:
    global _TEMPLATE
    with _TEMPLATE_LOCK:
        if _TEMPLATE is not None:
            _TEMPLATE.close()
            _TEMPLATE = None


def _forkable(cmd: Sequence[str]) -> list[str] | None:
    """The launcher's arguments when ``cmd`` starts this Python's IPython kernel, else None."""
    if len(cmd) < 3 or list(cmd[1:3]) != ["-m", "ipykernel_launcher"]:
        return None
    exe = shutil.which(cmd[0]) or cmd[0]
    try:
        same = os.path.samefile(exe, sys.executable)
    except OSError:
        same = False
    return list(cmd[3:]) if same else None


class ForkProvisioner(LocalProvisioner):
    """A local provisioner whose kernel is forked from the process's template."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):
        args = _forkable(cmd)
        tpl = _TEMPLATE if args is not None else None
        if tpl is None or not tpl.alive():
            return await super().launch_kernel(cmd, **kwargs)
        env = {str(k): str(v) for k, v in (kwargs.get("env") or os.environ).items()}
        cwd = str(kwargs.get("cwd") or os.getcwd())
        try:
            pid = tpl.fork(args, cwd, env)
        except RuntimeError:  # the template broke: this kernel starts the usual way
            return await super().launch_kernel(cmd, **kwargs)
        self.process = ForkedProcess(pid)
        self.pid = pid
        self.pgid = pid  # the template made the kernel the leader of its own group
        self.cwd = cwd
        return self.connection_info

    async def wait(self) -> int | None:
        """As the local provisioner's, polling every 10 ms instead of 100 ms."""
        if isinstance(self.process, ForkedProcess):
            while self.process.poll() is None:
                await asyncio.sleep(0.01)
            self.process = None
            return 0
        return await super().wait()


class QuickClient(AsyncKernelClient):
    """jupyter_client's client, ready as soon as the kernel is.

    The stock ``wait_for_ready`` ends by reading IOPub until it has been quiet for
    0.2 s — a fifth of a second of idle core per notebook.  This one reads IOPub until
    the kernel's ``idle`` status for its own ``kernel_info`` request: every message of
    the handshake has arrived then, and IOPub is known to be connected (a request whose
    status messages were missed, because IOPub was not yet subscribed, is sent again)."""

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                msg = await self._async_get_shell_msg(timeout=1)
            except Empty:
                pass
            else:
                if msg["msg_type"] == "kernel_info_reply" and await self._idle_after(msg["parent_header"]["msg_id"]):
                    self._handle_kernel_info_reply(msg)
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")

    wait_for_ready = _async_wait_for_ready  # the name the base class binds to its own version

    async def _idle_after(self, msg_id: str, timeout: float = 0.05) -> bool:
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            try:
                m = await self._async_get_iopub_msg(timeout=left)
            except Empty:
                return False
            if (m["msg_type"] == "status" and m["content"].get("execution_state") == "idle"
                    and m["parent_header"].get("msg_id") == msg_id):
                return True
        return False


class ForkKernelManager(AsyncKernelManager):
    """nbclient's kernel manager with :class:`ForkProvisioner` (forks when it can),
    :class:`QuickClient`, and a 10 ms poll (not 100 ms) for the kernel's exit."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.client_class = "helpers.run.kernels.QuickClient"  # the trait's observer sets the factory

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        await super()._async_wait(pollinterval=min(pollinterval, 0.01))

    async def _async_pre_start_kernel(self, **kw: Any):
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or str(uuid.uuid4())
            self.provisioner = ForkProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)
