"""A sampling profiler for every Python process of a command (``benchmarks/suiteprofile``).

Put this folder first on ``PYTHONPATH`` and set ``KPI_PROFILE_OUT`` to a folder: every
Python process started under it (pytest and its workers, the command lines they run,
the runs' pool workers, forked kernels and their template, nbval's fresh kernels)
samples its own main thread 100 times a second of CPU time (``ITIMER_PROF``) and
appends ``count<TAB>frame;frame;...`` lines to ``<KPI_PROFILE_OUT>/<pid>.txt``.  A
forked child restarts the timer (timers are not inherited) and starts its own file.
``python -m benchmarks.suiteprofile.report FOLDER`` sums them.  What it costs: about 1 %.
Not used by the workbook or its tests; a tool to find where a whole suite's CPU goes
(issue 19: it found the data checked and computed again in every process).
"""

import atexit
import collections
import os
import signal

_OUT = os.environ.get("KPI_PROFILE_OUT")
_counts: collections.Counter = collections.Counter()
_n = [0]


def _flush() -> None:
    if not _counts:
        return
    # a sample may arrive while this runs (in a fork handler or at exit): write a copy
    lines = [f"{v}\t{k}\n" for k, v in list(_counts.items())]
    _counts.clear()
    try:
        with open(os.path.join(_OUT, f"{os.getpid()}.txt"), "a", encoding="utf-8") as fh:
            fh.writelines(lines)
    except OSError:
        pass


def _sample(_sig, frame) -> None:
    names = []
    while frame is not None:
        code = frame.f_code
        names.append(f"{code.co_filename.rsplit('/site-packages/', 1)[-1]}:{code.co_name}")
        frame = frame.f_back
    _counts[";".join(reversed(names))] += 1
    _n[0] += 1
    if _n[0] % 10 == 0:  # often: a kernel may end by SIGKILL
        _flush()


def _start() -> None:
    try:
        signal.signal(signal.SIGPROF, _sample)
        signal.setitimer(signal.ITIMER_PROF, 0.01, 0.01)
    except (ValueError, OSError):  # not the main thread
        pass


def _stop() -> None:
    try:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
    except (ValueError, OSError):
        pass
    _flush()


def _in_child() -> None:
    _counts.clear()
    _n[0] = 0
    if _about_to_exec():
        return
    _start()


def _about_to_exec() -> bool:
    """True in the child of ``subprocess`` with a ``preexec_fn`` (the only fork whose child
    runs these hooks before ``exec``): a timer started there would outlive the ``exec``
    (interval timers do) and end the new program with SIGPROF before it can catch it."""
    import sys

    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "_execute_child" and frame.f_code.co_filename.endswith("subprocess.py"):
            return True
        frame = frame.f_back
    return False


if _OUT:
    os.makedirs(_OUT, exist_ok=True)
    _start()
    os.register_at_fork(before=_flush, after_in_child=_in_child)
    atexit.register(_stop)
    _exit = os._exit

    def _exit_flushed(code: int) -> None:  # multiprocessing's children end with os._exit
        _stop()
        _exit(code)

    os._exit = _exit_flushed
