"""The plan version: one content hash of every methodology file a run reads.

Two runs with the same plan version scored and paid with the same rules; a statement
names the version it was computed under, and the results store keeps, for each closed
period, the version and the SHA-256 of each file behind it (table ``plan_files``).

The files are the ones the run parameters name (indicator library, strategy and its
alternative, target plan, scoring plan, incentive plan), every file of the weights
folder, and the files those name in turn (the rubric of the scoring plan, the targets
and commitments CSVs of the target plan).  The run parameters themselves are an input
(their SHA-256 is among the run's input fingerprints), not part of the plan.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from helpers.errors import InputError
from helpers.plan.params import RunParams, read_yaml, resolve

__all__ = ["methodology_files", "plan_version", "file_sha256"]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _named(yaml_file: Path, keys: list[tuple[str, ...]]) -> list[Path]:
    """Files a methodology YAML names under ``keys`` (paths relative to that file)."""
    try:
        doc = read_yaml(yaml_file)
    except (InputError, OSError):
        return []
    out = []
    for key in keys:
        node = doc
        for k in key:
            node = node.get(k) if isinstance(node, dict) else None
        if isinstance(node, str) and node.strip():
            out.append(resolve(yaml_file, node))
    return out


def methodology_files(params: RunParams, params_file: str | Path) -> dict[str, Path]:
    """Every methodology file of the run, by a name relative to the params file's folder."""
    base = Path(params_file).resolve().parent
    found: list[Path] = [resolve(params_file, x) for x in (params.indicators, params.strategy, params.targets,
                                                            params.incentives, params.scoring) if x]
    if params.alternative_strategy:
        found.append(resolve(params_file, params.alternative_strategy))
    weights = resolve(params_file, params.weights)
    if weights.is_dir():
        found += sorted(p for p in weights.rglob("*") if p.is_file() and not p.name.startswith("."))
    found += _named(resolve(params_file, params.scoring), [("soft", "rubric")])
    found += _named(resolve(params_file, params.targets), [("targets_csv",), ("commitments_csv",)])
    out: dict[str, Path] = {}
    for p in found:
        if p.is_file():
            try:
                name = p.relative_to(base).as_posix()
            except ValueError:
                name = p.as_posix()
            out[name] = p
    return dict(sorted(out.items()))


def plan_version(params: RunParams, params_file: str | Path) -> tuple[str, dict[str, str]]:
    """(version, {file name: SHA-256}): the version is the first 12 hex digits of the
    SHA-256 over the sorted ``name sha256`` lines, so renaming or editing any file
    changes it and nothing else does."""
    shas = {name: file_sha256(p) for name, p in methodology_files(params, params_file).items()}
    digest = hashlib.sha256("".join(f"{n} {s}\n" for n, s in shas.items()).encode()).hexdigest()
    return digest[:12], shas
