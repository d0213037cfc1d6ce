"""Files a person hands the workbook: is it text at all, and is its header sane?

Foundation module (no other helpers import but the errors): the run params, the
methodology files, the canonical tables and the source mappings all use it, so a binary
file gets one line saying what it looks like and never a screen of raw bytes.
"""

from __future__ import annotations

import codecs
import csv
from pathlib import Path
from typing import Iterable

from helpers.errors import Problem

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another ZIP file"),
    (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook (.xls) or another Office file"),
    (b"PAR1", "a Parquet file"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"SQLite format 3", "an SQLite database"),
)


def binary_kind(head: bytes) -> str | None:
    """What a file that is not text looks like, from its first bytes (None: looks like text)."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    if b"\x00" in head:
        return "a binary file (it contains NUL bytes)"
    return None


def text_file_problem(path: Path, expected: str = "a CSV text file") -> Problem | None:
    """One line for a file that is not text at all (no raw bytes are ever printed)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
    except OSError as exc:
        return Problem(str(path), f"cannot be read: {exc.strerror or exc}", fix="check the file and its permissions")
    kind = binary_kind(head)
    if kind is None:
        return None
    return Problem(str(path), f"is not {expected}: it looks like {kind}",
                   fix="export the table as CSV (UTF-8), or read this file through a source mapping")


def duplicate_header_problem(header: list[str], src: str) -> Problem | None:
    """A header naming one column twice: pandas would silently read the second as ``name.1``."""
    seen: dict[str, int] = {}
    dups: list[str] = []
    for i, name in enumerate(header, start=1):
        k = str(name).strip()
        if k in seen and k:
            dups.append(f"'{k}' (columns {seen[k]} and {i})")
        seen.setdefault(k, i)
    if not dups:
        return None
    return Problem(src, f"column name {', '.join(dups)} appears twice", where="header",
                   fix="rename or remove one of them: the workbook cannot tell which one holds the data")


def record_lines(lines: Iterable[str], delimiter: str = ",") -> list[int]:
    """The line (as a text editor numbers it) on which each data record of a CSV starts
    (``lines``: an open file or ``io.StringIO`` read with ``newline=""``): blank lines are
    skipped like pandas skips them, a quoted field may span lines; the header is not a
    data record."""
    starts: list[int] = []
    reader = csv.reader(lines, delimiter=delimiter)
    line = 1
    for record in reader:
        if record:
            starts.append(line)
        line = reader.line_num + 1
    return starts[1:]


def printable(text: object, limit: int = 600) -> str:
    """``text`` safe for a message: control characters shown as ``\\xNN``, cut after ``limit`` characters."""
    out = "".join(ch if ch.isprintable() or ch == " " else ascii(ch)[1:-1] for ch in str(text))
    return out if len(out) <= limit else out[:limit - 1] + "…"
