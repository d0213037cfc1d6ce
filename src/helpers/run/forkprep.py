"""The first module a run's fork server imports (:func:`helpers.run.runner.pool_context`):
what the processes forked from it need settled before any library is imported.

* Kernels draw charts with the inline backend, which matplotlib reads from
  ``MPLBACKEND`` when it is imported (ipykernel sets the same before a fresh kernel
  imports it; a template imports it before any kernel exists).
* jsonschema (imported by nbformat) would import ``rfc3987_syntax`` and build four
  parsers nothing here uses (:func:`helpers.run.runner._no_iri_grammar`).
"""

from __future__ import annotations

import os
import sys

from helpers.run.zygote import INLINE

os.environ.setdefault("MPLBACKEND", INLINE)
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]
