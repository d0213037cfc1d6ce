"""The prepared-data cache: a data folder's validated tables, and what is derived from
them (:meth:`Dataset.derived <helpers.data.tables.Dataset.derived>`: the KPI actuals; for
a target plan, the SMART checks of its targets and its backtest, keyed on the plan's
files too), kept beside the data so the next process that reads the same files does not
read, check and compute them again.

A run reads its data folder in several processes: ``validate``, then ``run`` (its gate
and its workspace), a rerun for one team, a restatement, every notebook opened on its
defaults.  Each read the CSV files, checked every cell and computed the KPI actuals
anew: on the demo 1.2 seconds a process, on ten million order lines minutes.  The
cache keeps the result of that work once it has passed every check.

**What makes an entry the same** (its key, a SHA-256): the bytes of every table file
the folder holds (the file picked for each table, as :func:`load_dataset` picks it), the
date the checks compare with (``as_of``, or today's date: a date in the future is an
error today and not tomorrow), the source code of the workbook (any change of the code
is a new key) and the versions of pandas, NumPy, pyarrow, pandera, pydantic and PyYAML.  A derived frame
is kept under the entry with its own key (for the KPI actuals: the frequency and the
plan's declared measures).  Nothing else is read: two folders with the same bytes share
nothing but give the same tables, and a changed byte is a new entry.

**What it never does**: keep data that failed a check (bad input is checked, and
reported, every time); keep anything for a folder smaller than
:data:`MIN_BYTES` (the checks take less time than the cache); put data outside the data
folder (the cache holds a copy of the data, so it lives, and is deleted, with it; only
its signing key lives elsewhere; a folder that cannot be written is simply not cached);
let a damaged or half-written
entry be read (an entry appears by one rename once complete, and one that cannot be
read is recomputed and replaced); read an entry not made with this user's key: every
entry is signed (HMAC-SHA256 over the entry's key and the SHA-256 of each of its files) with a
random key kept in the user's configuration folder, outside the data folder, so
whoever can write the data folder but not that key cannot slip checked-looking tables
or KPI actuals past the checks (changed data must change the CSV, whose SHA-256 the run
records).  ``KPI_WORKBOOK_CACHE=off`` turns it off.  Data read through a source mapping
(a foreign export) is read and checked as before.

Tested: ``tests/test_data_cache.py`` (every table and the KPI actuals from the cache
equal to a fresh computation, cell for cell and type for type; a changed byte, a
changed date, changed code, a changed plan file, a damaged entry, an entry changed
after it was stored and another user's key each recompute)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.plan.version import file_sha256

FOLDER = ".kpi-workbook-cache"
"""The cache's folder inside the data folder (hidden; :func:`load_dataset` reads only
the tables it knows, so it never mistakes the cache for data)."""
FORMAT = 1
"""The layout of an entry: a new layout is a new key."""
MIN_BYTES = 1_000_000
"""Folders whose table files are smaller than this are not cached (about 10,000 rows)."""
KEEP = 4
"""Entries kept per data folder (the newest; a folder whose data changes each run does
not grow without end)."""


README = """This folder is kpi-workbook's prepared-data cache: the tables of the data folder
it is in, as they were after every check passed, and what was computed from them (the
KPI actuals; the targets' checks and the plan's backtest), so the next run or validate
on the same files does not check and compute them again. Every entry is signed with a
key kept in your configuration folder; an entry that does not match it is never read.
Each entry is used only for exactly the same file contents, checking date, workbook code
and library versions. It is a copy of your data: it is safe to delete at any time (it is
made again when needed), and it should be handled like the data itself.
Turn it off with the environment variable KPI_WORKBOOK_CACHE=off.
"""


def enabled() -> bool:
    """False when ``KPI_WORKBOOK_CACHE`` is ``off`` (or ``0``, ``no``, ``false``)."""
    return os.environ.get("KPI_WORKBOOK_CACHE", "").strip().lower() not in ("off", "0", "no", "false")


def key_file() -> Path:
    """The signing key's file: ``KPI_WORKBOOK_CACHE_KEY`` when set, else ``cache.key`` in
    the user's configuration folder (``~/.config/kpi-workbook`` on Linux)."""
    env = os.environ.get("KPI_WORKBOOK_CACHE_KEY")
    if env:
        return Path(env)
    from platformdirs import user_config_dir

    return Path(user_config_dir("kpi-workbook")) / "cache.key"


def _secret() -> bytes | None:
    """The signing key (made on first use: 32 random bytes, readable by its owner only);
    None when it can be neither read nor made (then nothing is cached)."""
    path = key_file()
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except OSError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(32))
        try:
            os.link(tmp, path)  # the first process to make it wins; the others read its key
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        key = path.read_bytes()
        return key if len(key) >= 32 else None
    except OSError:
        return None


@lru_cache(maxsize=1)
def code_digest() -> str:
    """SHA-256 of the workbook's Python source (every ``.py`` file of the ``helpers``
    package, by path and bytes): a cache entry made by other code is never read."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


@lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    import numpy
    import pandera
    import pyarrow
    import pydantic
    import yaml

    # what reads, checks and computes the tables, the KPI actuals and (from the plan's
    # YAML files) the targets' checks and backtest
    return {"pandas": pd.__version__, "numpy": numpy.__version__, "pyarrow": pyarrow.__version__,
            "pandera": pandera.__version__, "pydantic": pydantic.VERSION, "pyyaml": yaml.__version__}


@dataclass
class Entry:
    """One folder's cache entry for one set of file contents (see the module's text)."""

    folder: Path  # <data folder>/.kpi-workbook-cache
    key: str
    secret: bytes = field(repr=False)  # the user's signing key (:func:`_secret`)
    table_ids: dict[str, int] = field(default_factory=dict)  # the loaded frames: derived results are theirs only

    def _mac(self, what: str, digests: dict[str, str]) -> str:
        msg = json.dumps([FORMAT, self.key, what, sorted(digests.items())]).encode()
        return hmac.new(self.secret, msg, hashlib.sha256).hexdigest()

    @property
    def path(self) -> Path:
        return self.folder / self.key

    # ------------------------------------------------------------------ tables
    def read_tables(self) -> dict[str, pd.DataFrame] | None:
        """The validated tables of this entry; None when there is none (or it cannot be read)."""
        meta_file = self.path / "meta.json"
        if not meta_file.is_file():
            return None
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
            files = {name: self.path / "tables" / f"{name}.parquet" for name in meta["tables"]}
            digests = {name: file_sha256(f) for name, f in files.items()}
            if not hmac.compare_digest(str(meta.get("mac", "")), self._mac("tables", digests)):
                raise ValueError("not signed with this user's key")
            tables = {name: pd.read_parquet(f) for name, f in files.items()}
        except Exception:  # noqa: BLE001 - a damaged or foreign entry is recomputed and replaced
            shutil.rmtree(self.path, ignore_errors=True)
            return None
        try:
            os.utime(meta_file)  # recently used: kept when older entries are dropped
        except OSError:
            pass
        return tables

    def write_tables(self, tables: dict[str, pd.DataFrame]) -> bool:
        """Store the validated tables (complete, or not at all); False when the folder
        cannot be written."""
        tmp = self.folder / f".tmp-{self.key[:16]}-{uuid.uuid4().hex[:8]}"
        try:
            self._introduce()
            (tmp / "tables").mkdir(parents=True)
            digests = {}
            for name, df in tables.items():
                df.to_parquet(tmp / "tables" / f"{name}.parquet", index=True)
                digests[name] = file_sha256(tmp / "tables" / f"{name}.parquet")
            (tmp / "meta.json").write_text(json.dumps({"format": FORMAT, "tables": list(tables),
                                                       "mac": self._mac("tables", digests)}), encoding="utf-8")
            if self.path.exists():  # damaged or foreign (unread): replaced
                shutil.rmtree(self.path, ignore_errors=True)
            try:
                os.rename(tmp, self.path)
            except OSError:  # another process stored the same entry first: theirs is the same
                shutil.rmtree(tmp, ignore_errors=True)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            return False
        self._prune()
        return True

    def _introduce(self) -> None:
        """The cache folder, with a note saying what it is and a ``.gitignore`` that keeps
        it out of a repository the data may live in (as pytest does with its cache)."""
        if (self.folder / "README.txt").is_file():
            return
        self.folder.mkdir(exist_ok=True)
        (self.folder / ".gitignore").write_text("# made by kpi-workbook: a copy of the data beside it\n*\n",
                                                encoding="utf-8")
        (self.folder / "README.txt").write_text(README, encoding="utf-8")

    def _prune(self) -> None:
        entries = [p for p in self.folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
        if len(entries) <= KEEP:
            return

        def used(p: Path) -> float:
            try:
                return (p / "meta.json").stat().st_mtime
            except OSError:
                return 0.0

        for old in sorted(entries, key=used)[:-KEEP]:
            if old != self.path:
                shutil.rmtree(old, ignore_errors=True)

    # ------------------------------------------------------------------ derived frames
    def _derived_path(self, key: Any) -> Path:
        digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
        return self.path / "derived" / f"{digest}.parquet"

    def read_derived(self, key: Any) -> pd.DataFrame | None:
        path = self._derived_path(key)
        if not path.is_file():
            return None
        try:
            mac = path.with_suffix(".mac").read_text(encoding="utf-8").strip()
            if not hmac.compare_digest(mac, self._mac(path.stem, {"": file_sha256(path)})):
                raise ValueError("not signed with this user's key")
            return pd.read_parquet(path)
        except Exception:  # noqa: BLE001 - damaged or foreign: computed again and replaced
            path.unlink(missing_ok=True)
            return None

    def write_derived(self, key: Any, df: pd.DataFrame) -> None:
        path = self._derived_path(key)
        tmp = path.with_name(f".tmp-{uuid.uuid4().hex[:8]}-{path.name}")
        try:
            path.parent.mkdir(exist_ok=True)
            df.to_parquet(tmp, index=True)
            mac = self._mac(path.stem, {"": file_sha256(tmp)})
            path.unlink(missing_ok=True)  # no moment where the new table stands beside the old signature
            path.with_suffix(".mac").write_text(mac, encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)


def entry_for(folder: Path, files: dict[str, Path], as_of: pd.Timestamp | None) -> Entry | None:
    """The cache entry of the table files ``files`` (table → the file read for it) of
    ``folder`` checked against ``as_of``; None when caching is off or the files are
    smaller than :data:`MIN_BYTES`."""
    if not enabled() or not files:
        return None
    try:
        sizes = {name: p.stat().st_size for name, p in files.items()}
    except OSError:
        return None
    if sum(sizes.values()) < MIN_BYTES:
        return None
    key = {
        "format": FORMAT,
        "code": code_digest(),
        "versions": _versions(),
        "checked_on": as_of.isoformat() if as_of is not None else f"today {date.today().isoformat()}",
        "files": [[name, p.name, file_sha256(p)] for name, p in files.items()],
    }
    secret = _secret()
    if secret is None:
        return None
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
    return Entry(folder / FOLDER, digest, secret)
