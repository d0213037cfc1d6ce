"""Printed codes of the record's stable line references (see :mod:`helpers.record.results`).

A statement prints each reference as its code: ``P.commission.2026-07.1`` →
``P-3DBDF6``, the kind's letter and the first six hex digits of the reference's SHA-1 —
a short, language-free number with no programme names in it.  It lives in the core so
the presentation layer (statements, restatement reports) and the record (the disputes
file's check) compute it the same way.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["REF_CODE", "ref_code"]

REF_CODE = re.compile(r"^[IPTA]-[0-9A-F]{6}$")
"""A printed code (:func:`ref_code`)."""


def ref_code(ref: str) -> str:
    """The code a statement prints for the stable reference ``ref``: its kind letter
    (I, T, P, A) and the first six hex digits of its SHA-1, e.g. ``P-3DBDF6``.  The same
    reference always gives the same code; a code names one line of one statement (six
    hex digits, 16.7 million codes: two of a statement's 30 lines share one about once in
    37,000 statements, and the disputes check then accepts either line).
    A text that is not a reference, or already a code, is returned as it is."""
    ref = str(ref)
    if REF_CODE.match(ref) or len(ref) < 3 or ref[0] not in "IPTA" or ref[1] != ".":
        return ref
    return f"{ref[0]}-{hashlib.sha1(ref.encode('utf-8')).hexdigest()[:6].upper()}"
