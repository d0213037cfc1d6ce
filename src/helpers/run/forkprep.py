"""The first module a run's fork server imports (:func:`helpers.run.runner.pool_context`):
what the processes forked from it need settled before any library is imported.

* Kernels draw charts with the inline backend, which matplotlib reads from
  ``MPLBACKEND`` when it is imported (ipykernel sets the same before a fresh kernel
  imports it; a template imports it before any kernel exists).
* jsonschema (imported by nbformat) would import ``rfc3987_syntax`` and build
  parsers nothing here uses (:mod:`helpers.run.noiri`).
"""

from __future__ import annotations

import os

import helpers.run.noiri  # noqa: F401 - before nbformat is imported
from helpers.run.zygote import INLINE

os.environ.setdefault("MPLBACKEND", INLINE)
