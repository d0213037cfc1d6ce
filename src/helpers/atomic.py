"""Write a file aside and rename it into place: a reader (or a crash) never sees it half-written.

One mechanism for every artifact the workbook writes (HTML, CSV, Excel).  The temporary
file lives in the target folder (same filesystem, so ``os.replace`` is atomic), starts
with a dot (hidden from listings and from the artifact collection of the runner), gets the
permissions a normal ``open()`` would give under the current umask (``mkstemp`` alone
gives 0600, which a web server serving the reports could not read), and is removed if
writing fails.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[str], object]) -> Path:
    """Call ``write(tmp_path)`` to fill a temporary file beside ``path``, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp" + path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write UTF-8 text (``\\n`` line ends) atomically."""
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    return atomic_write(path, write)
