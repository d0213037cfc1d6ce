"""Publishing: a run adds its reports to the period folder and never wipes it.

Rules (the README's "Publishing" section says the same in plain words):

* **A run replaces exactly the reports it produced.**  Every other published report
  of the period stays as it is; ``index.html`` and ``manifest.json`` are rebuilt
  from everything present, and the manifest names the run that produced each report.
* **A failed notebook keeps its last good report**, marked *stale* in the index with
  the failure beside it; its executed copy goes to ``failures/``.  A notebook that
  never succeeded is listed as failed, with no link.
* **Nothing is half-written.**  The new files are first complete in a staging folder
  beside the period folder; then a *journal* (``.publish-<run>.json``) lists every
  rename and removal, and is carried out.  Each file appears by an atomic rename; a
  run killed in the middle is rolled forward from its journal by the next run.
* **One run per output folder at a time**: :func:`output_lock` (``filelock``) holds
  ``.kpi-workbook.lock`` for the run; a second run exits 2 naming the holder, or
  waits with ``--wait``.  A lock left by a killed run is released by the operating
  system and taken over; start-up cleanup removes only the folders of runs whose
  process is gone.
* **Output paths on purpose**: :func:`check_output` refuses a file, a system folder,
  a folder outside the params file's project (unless named with ``--out``) and a
  period folder that is not an earlier output of this tool.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterator, Sequence

from helpers.atomic import write_text_atomic
from helpers.errors import InputError, Problem

TOOL = "kpi-workbook"
MANIFEST = "manifest.json"
INDEX = "index.html"
FAILURES = "failures"
FORMAT = 2
"""Manifest format: 2 keeps a ``reports`` list (one entry per team × notebook, with the
run that produced it) and the ``runs`` that produced them; 1 (before merge
publishing) held one run's ``results`` only and is read as such."""
LOCK_FILE = ".kpi-workbook.lock"
HOLDER_FILE = ".kpi-workbook.lock.json"
LEFTOVER_PREFIXES = (".staging-", ".work-")
JOURNAL_PREFIX = ".publish-"


# ------------------------------------------------------------------------ processes


def process_alive(pid: int) -> bool:
    """True when process ``pid`` runs (and is not a zombie waiting for its parent)."""
    import psutil

    if pid <= 0:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return psutil.pid_exists(pid) if pid > 0 else False


_RUN_ID = re.compile(r"-p(\d+)-[0-9a-f]{8}$")


def new_run_id() -> str:
    """``p<pid>-<8 hex>``: the pid lets start-up cleanup tell a dead run's folders from a live one's."""
    return f"p{os.getpid()}-{os.urandom(4).hex()}"


def run_pid(name: str) -> int | None:
    """The pid in a name ending in a :func:`new_run_id` (``.staging-2026Q3-p1234-ab12cd34``), else None."""
    m = _RUN_ID.search(name)
    return int(m.group(1)) if m else None


# ------------------------------------------------------------------------ output paths

SYSTEM_TREES = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run",
                "/sbin", "/sys", "/usr", "/var/lib", "/var/log", "/var/cache", "/var/spool", "/var/run",
                "/System", "/Library", "/Applications", "C:/Windows", "C:/Program Files")
"""Folders (with everything below them) the workbook never writes to."""
SYSTEM_FOLDERS = ("/", "/home", "/var", "/opt", "/tmp", "/mnt", "/media", "/srv", "/root", "/Users")
"""Folders the workbook never writes into directly (a subfolder of them is fine)."""


def _is_system(path: Path) -> bool:
    posix = PurePosixPath(path.as_posix())
    home = Path.home().resolve()
    if path == home or str(posix) in SYSTEM_FOLDERS or path.parent == path:
        return True
    return any(posix == PurePosixPath(t) or PurePosixPath(t) in posix.parents for t in SYSTEM_TREES)


def project_folder(params_file: Path) -> Path:
    """The folder a params file's outputs belong to: the folder that holds its nearest
    ``params`` folder (``project/params/run.yaml`` and ``project/params/plans/points/run.yaml``
    → ``project``), else the folder above the params file's folder."""
    path = params_file.resolve()
    for folder in path.parents:
        if folder.name == "params":
            return folder.parent
    return path.parent.parent


def check_output(out_root: Path, label: str, params_file: Path, explicit: bool, source: str) -> list[Problem]:
    """Problems with writing ``out_root/label`` (nothing is created here).

    ``explicit``: the folder was named with ``--out`` (then it may lie outside the
    params file's project folder).  ``source`` names where the folder came from."""
    problems: list[Problem] = []
    out = out_root.resolve()
    for p in (out, *out.parents):
        if p.exists() and not p.is_dir():
            what = "is a file, not a folder" if p == out else f"cannot be created: {p} is a file"
            return [Problem(source, f"output folder {out} {what}", fix="name a folder for the reports")]
    if _is_system(out):
        return [Problem(source, f"output folder {out} is a system folder", fix="write the reports to a folder of your own, e.g. reports/")]
    project = project_folder(params_file)
    if not explicit and out != project and project not in out.parents:
        problems.append(Problem(source, f"output folder {out} is outside the params file's project folder {project}",
                                fix="use a folder inside it (e.g. ../reports), or name this one on the command line with --out"))
    period = out / label
    if period.exists():
        if not period.is_dir():
            problems.append(Problem(source, f"{period} is a file, not a report folder", fix="move it away, or choose another output folder"))
        elif any(period.iterdir()) and not _is_ours(period):
            problems.append(Problem(source, f"{period} exists and is not a report folder of {TOOL} (no {MANIFEST} of ours in it)",
                                    fix="move it away, or choose another output folder: it is never overwritten"))
    return problems


def _is_ours(period: Path) -> bool:
    doc = _read_json(period / MANIFEST)
    return isinstance(doc, dict) and doc.get("tool") == TOOL


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# ------------------------------------------------------------------------ the lock


def _holder_text(info: Any) -> str:
    if not isinstance(info, dict):
        return "holder unknown"
    started = info.get("started", "?")
    return f"pid {info.get('pid', '?')} on {info.get('host', '?')}, started {started}: {info.get('command', '')}".rstrip(": ")


@contextmanager
def output_lock(out_root: Path, wait: float = 0.0, command: str = "", log: Callable[[str], None] = print) -> Iterator[None]:
    """Hold the output folder's lock for a run.

    Held by another run: :class:`InputError` naming the holder (exit 2), or with
    ``wait`` > 0 a message and up to ``wait`` seconds of waiting.  The lock is an OS
    file lock (``filelock``), released by the operating system when its process dies,
    so a killed run's lock is simply taken over (and said so)."""
    from filelock import FileLock, Timeout

    out_root.mkdir(parents=True, exist_ok=True)
    holder = out_root / HOLDER_FILE
    lock = FileLock(str(out_root / LOCK_FILE))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        who = _holder_text(_read_json(holder))
        if wait <= 0:
            raise InputError(Problem(str(out_root), f"is in use by another {TOOL} run ({who})",
                                     fix="wait until it ends and run again, add --wait SECONDS to wait for it, "
                                         "or write to another folder with --out")) from None
        log(f"waiting up to {wait:g} s for the other run writing to {out_root} ({who}) …")
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            raise InputError(Problem(str(out_root), f"is still in use by another {TOOL} run after {wait:g} s ({who})",
                                     fix="wait until it ends, or write to another folder with --out")) from None
    try:
        previous = _read_json(holder)
        if isinstance(previous, dict) and previous.get("pid") != os.getpid():
            log(f"note: the run {_holder_text(previous)} ended without releasing {out_root}; taking over")
        write_text_atomic(holder, json.dumps({
            "pid": os.getpid(), "host": socket.gethostname(),
            "started": datetime.now().isoformat(timespec="seconds"), "command": command,
        }, ensure_ascii=False))
        yield
    finally:
        holder.unlink(missing_ok=True)
        lock.release()


def clean_leftovers(out_root: Path, log: Callable[[str], None] = print) -> list[str]:
    """Finish or remove what dead runs left in ``out_root`` (call with the lock held).

    A publish journal is rolled forward (its staging folder holds the new files); a
    staging or work folder is removed only when the process that made it is gone; a
    ``.previous-<period>`` folder of the older publish step is put back if its period
    folder is missing."""
    done: list[str] = []
    if not out_root.is_dir():
        return done
    for journal in sorted(out_root.glob(f"{JOURNAL_PREFIX}*.json")):
        pid = run_pid(journal.stem)
        if pid is not None and pid != os.getpid() and process_alive(pid):
            continue
        doc = _read_json(journal)
        if isinstance(doc, dict):
            apply_journal(out_root, doc)
            log(f"note: finished publishing an interrupted run ({journal.name})")
        journal.unlink(missing_ok=True)
        done.append(journal.name)
    for old in sorted(out_root.glob(".previous-*")):  # the older swap-the-folder publish, interrupted
        final = out_root / old.name.removeprefix(".previous-")
        if not final.exists():
            os.replace(old, final)
        else:
            shutil.rmtree(old, ignore_errors=True)
        done.append(old.name)
    for p in sorted(out_root.iterdir()):
        if not (p.is_dir() and p.name.startswith(LEFTOVER_PREFIXES)):
            continue
        pid = run_pid(p.name)
        if pid is not None and pid != os.getpid() and process_alive(pid):
            continue  # a live run's folder (cannot happen under the lock, unless the pid was reused)
        shutil.rmtree(p, ignore_errors=True)
        done.append(p.name)
    return done


# ------------------------------------------------------------------------ manifest


def key(team: str, notebook: str) -> str:
    return f"{team}/{notebook}"


def read_manifest(period: Path) -> dict[str, Any]:
    """The period's manifest in format 2 (an older one is converted; none: empty)."""
    doc = _read_json(period / MANIFEST)
    if not isinstance(doc, dict) or doc.get("tool") != TOOL:
        return {"tool": TOOL, "format": FORMAT, "reports": [], "runs": {}}
    if doc.get("format") == FORMAT:
        return doc
    reports = []  # format 1: one run's results
    run = "earlier"
    for r in doc.get("results", []):
        team, nb = str(r.get("team")), str(r.get("notebook"))
        entry = {"team": team, "notebook": nb, "run": run, "artifacts": list(r.get("artifacts", [])),
                 "language": doc.get("language", "")}
        if r.get("ok"):
            entry.update(status="ok", html=f"{team}/{nb}.html")
        else:
            entry.update(status="failed", html=None, failure={"run": run, "error": r.get("error", ""),
                                                              "copy": f"{FAILURES}/{team}__{nb}.ipynb"})
        reports.append(entry)
    runs = {run: {k: doc.get(k) for k in ("created", "language", "params_file", "teams", "notebooks", "git_commit")}}
    return {"tool": TOOL, "format": FORMAT, "period": doc.get("period"), "reports": reports, "runs": runs}


def _safe_rel(rel: str) -> str:
    """A path inside the period folder (manifests are data: never trust them with ``..``)."""
    p = PurePosixPath(rel)
    if p.is_absolute() or not p.parts or any(part in ("..", "") or part.startswith(".") for part in p.parts):
        raise ValueError(f"not a report path: {rel!r}")
    return str(p)


def _is_safe(rel: str) -> bool:
    try:
        _safe_rel(rel)
        return True
    except ValueError:
        return False


def _files(entry: dict[str, Any]) -> list[str]:
    out = [entry["html"]] if entry.get("html") else []
    out += [f"{entry['team']}/{a}" for a in entry.get("artifacts", [])]
    return out


def merge(old: dict[str, Any], produced: Sequence[Any], run_id: str, run: dict[str, Any],
          labels: dict[str, tuple[str, str]], language: str) -> tuple[dict[str, Any], list[tuple[str, str]], list[str]]:
    """The new manifest, the renames from staging (relative paths) and the files to remove.

    ``produced``: what each task left in staging (:class:`helpers.run.runner.TaskResult`:
    team, notebook, ok, error, artifacts).

    ``labels``: team → (name, region) from this run's data (kept for teams it did not run)."""
    reports = {key(e["team"], e["notebook"]): dict(e) for e in old.get("reports", [])}
    moves: list[tuple[str, str]] = []
    removes: list[str] = []
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for p in produced:
        k = key(p.team, p.notebook)
        prev = reports.get(k)
        copy = f"{FAILURES}/{p.team}__{p.notebook}.ipynb"
        if p.ok:
            entry = {"team": p.team, "notebook": p.notebook, "status": "ok", "html": f"{p.team}/{p.notebook}.html",
                     "artifacts": sorted(p.artifacts), "run": run_id, "published": now, "language": language}
            moves += [(f, f) for f in _files(entry)]
            if prev:
                removes += [f for f in _files(prev) if f not in _files(entry)]
                if prev.get("failure"):
                    removes.append(prev["failure"]["copy"])
            reports[k] = entry
        else:
            failure = {"run": run_id, "error": p.error, "copy": copy, "when": now}
            moves.append((copy, copy))
            if prev and prev.get("status") in ("ok", "stale"):
                reports[k] = dict(prev, status="stale", failure=failure)
            else:
                reports[k] = {"team": p.team, "notebook": p.notebook, "status": "failed", "html": None,
                              "artifacts": [], "run": run_id, "language": language, "failure": failure}
    claimed = {f for e in reports.values() for f in _files(e)} | {e["failure"]["copy"] for e in reports.values() if e.get("failure")}
    removes = sorted({r for r in removes if r not in claimed and _is_safe(r)})  # a manifest is data: never leave the folder
    for e in reports.values():
        name, region = labels.get(e["team"], (e.get("team_name", e["team"]), e.get("region", "")))
        e["team_name"], e["region"] = name, region
    runs = dict(old.get("runs", {}))
    runs[run_id] = run
    used = {e["run"] for e in reports.values()} | {e["failure"]["run"] for e in reports.values() if e.get("failure")}
    runs = {r: v for r, v in runs.items() if r in used}
    manifest = {
        "tool": TOOL, "format": FORMAT, "period": run.get("period", old.get("period")), "updated": now,
        "last_run": run_id,
        "reports": sorted(reports.values(), key=lambda e: (e["team"] != "_company", e["team"], e["notebook"])),
        "runs": runs,
    }
    return manifest, moves, removes


# ------------------------------------------------------------------------ journal


def apply_journal(out_root: Path, journal: dict[str, Any]) -> None:
    """Carry out a publish journal; safe to repeat (a rename already done is skipped)."""
    period = out_root / journal["period"]
    staging = out_root / journal["staging"]
    period.mkdir(parents=True, exist_ok=True)
    for src, dst in journal["moves"]:
        s, d = staging / _safe_rel(src), period / _safe_rel(dst)
        if s.exists():
            d.parent.mkdir(parents=True, exist_ok=True)
            os.replace(s, d)
    for rel in journal["removes"]:
        target = period / _safe_rel(rel)
        if target.is_file():
            target.unlink()
    for d in sorted({(period / _safe_rel(r)).parent for r in journal["removes"]}, reverse=True):
        if d != period and d.is_dir() and not any(d.iterdir()):
            d.rmdir()  # a folder left empty (e.g. failures/ once everything passes)
    for name in (INDEX, MANIFEST):  # last: the index and manifest describe what is now in place
        s = staging / ".publish" / name
        if s.exists():
            os.replace(s, period / name)


def journal_path(out_root: Path, label: str, run_id: str) -> Path:
    return out_root / f"{JOURNAL_PREFIX}{label}-{run_id}.json"


def publish(out_root: Path, label: str, staging: Path, run_id: str, manifest: dict[str, Any],
            moves: list[tuple[str, str]], removes: list[str], index_html: str) -> Path:
    """Write the index and manifest into staging, record the journal, carry it out."""
    write_text_atomic(staging / ".publish" / INDEX, index_html)
    write_text_atomic(staging / ".publish" / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
    journal = {"period": label, "staging": staging.name, "moves": [list(m) for m in moves], "removes": removes}
    jpath = journal_path(out_root, label, run_id)
    write_text_atomic(jpath, json.dumps(journal, ensure_ascii=False))
    apply_journal(out_root, journal)
    jpath.unlink(missing_ok=True)
    shutil.rmtree(staging, ignore_errors=True)
    return out_root / label
