"""kpi-workbook helpers: the tested calculations behind the notebooks.

Flow (one direction): params → data (load + validate) → KPI actuals → targets and
weights → scores and pay → report.

Imported before pyarrow by every process of the workbook (the command line, a run's
fork server, kernels and workers, the tests), this sets one thing for the process:
pyarrow's allocator (mimalloc) is told not to use transparent huge pages
(``MIMALLOC_ALLOW_THP=0``; mimalloc then turns them off for the process and the
processes it forks).  With them, every new process zeroed whole 2 MB pages for
allocations of a few kilobytes: about 8 % of the kernel-mode CPU of a demo run, and
the 10M-line aggregation benchmark took 9.7 s instead of 8.7 s.  A value set in the
environment beforehand is kept.
"""

import os as _os

_os.environ.setdefault("MIMALLOC_ALLOW_THP", "0")

__version__ = "0.1.0"
