"""Keep jsonschema from building the IRI grammar in this process (import it first).

nbformat imports jsonschema (so papermill, the HTML export and pytest's nbval do);
jsonschema imports the optional ``rfc3987_syntax`` for its "iri" format checkers, and
that package builds its Earley parsers as it is imported: about one core-second per
process (python-jsonschema/jsonschema#1428), for a check nothing here uses (nbformat
validates notebooks without format checking).  With ``rfc3987_syntax`` marked absent,
jsonschema goes on without those two checkers, as it does where the package is not
installed.  Imported by a run's fork server (:mod:`helpers.run.forkprep`), its pool's
workers, and the tests (``-p helpers.run.noiri`` in pyproject's pytest options, and first
in the tests' command-line server's preload)."""

from __future__ import annotations

import sys


def block() -> None:
    """Mark ``rfc3987_syntax`` absent, unless it is imported already."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


block()
