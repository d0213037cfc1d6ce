"""The weight schemes of a run: the folder read and checked once, and the company's
indicator values the data-driven schemes and the 0–100 scale are computed from."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.context.workbook import TeamContext, company_actuals
from helpers.core.schemes import scheme_problems
from helpers.errors import InputError, Problem
from helpers.kpis.indicators import Library, indicator_values, load_library
from helpers.plan.params import SLUG, RunParams, resolve
from helpers.plan.weights import Scheme, read_scheme_spec

__all__ = ["check_schemes", "load_schemes", "population_values"]


def _folder(params: RunParams, params_file: str | Path) -> Path:
    return resolve(params_file, params.weights)


def _scheme_files(folder: Path) -> list[Path]:
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def _load(params: RunParams, params_file: str | Path) -> tuple[dict[str, Scheme], Library | None, list[Problem]]:
    problems: list[Problem] = []
    try:
        library = load_library(resolve(params_file, params.indicators))
    except InputError as exc:
        return {}, None, list(exc.problems)
    folder = _folder(params, params_file)
    if not folder.is_dir():
        return {}, library, [Problem(str(params_file), f"weights folder {folder} not found", "key 'weights'",
                                     "create it with one <scheme>.yaml per weight scheme")]
    schemes: dict[str, Scheme] = {}
    for path in _scheme_files(folder):
        sid = path.stem
        if not SLUG.match(sid):
            problems.append(Problem(str(path), f"file name {sid!r} is not a plain scheme id",
                                    fix="use letters, digits, '-' and '_' only"))
            continue
        if sid in schemes:
            problems.append(Problem(str(path), f"scheme {sid!r} is defined twice ({schemes[sid].path.name})",
                                    fix="keep one file per scheme"))
            continue
        spec, found = read_scheme_spec(path)
        problems += found
        if spec is not None:
            schemes[sid] = Scheme(sid, path, spec)
    for scheme in schemes.values():
        problems += scheme_problems(scheme, library, schemes)
    if not schemes and not problems:
        problems.append(Problem(str(folder), "no weight schemes (*.yaml) found", fix="add at least current.yaml"))
    elif params.weight_scheme not in schemes and not any(Path(p.source).stem == params.weight_scheme for p in problems):
        problems.append(Problem(str(params_file), f"weight scheme {params.weight_scheme!r} not found in {folder}",
                                "key 'weight_scheme'", f"use one of: {', '.join(sorted(schemes))}"))
    return schemes, library, problems


def check_schemes(params: RunParams, params_file: str | Path) -> list[Problem]:
    """Every problem of every weight scheme file (empty list = all valid).

    Checks the schema of each file (unknown keys, types, the ``method``), indicator
    ids against the library, direct weights (numbers ≥ 0, adding up to 1 or 100),
    each expert's AHP matrix cell by cell (square, on Saaty's 1/9..9 scale,
    reciprocal, diagonal 1), blend references, and that ``weight_scheme`` exists.
    Data-dependent problems (an objective method with no varying indicator) can only
    show when the data is there, at run time.
    """
    return _load(params, params_file)[2]


def load_schemes(params: RunParams, params_file: str | Path) -> tuple[dict[str, Scheme], Library]:
    """The validated schemes (id → :class:`Scheme`) and the indicator library;
    raises :class:`InputError` with every problem found in any file."""
    schemes, library, problems = _load(params, params_file)
    if problems:
        raise InputError(problems)
    assert library is not None
    return schemes, library


def population_values(ctx: TeamContext, library: Library, params_file: str | Path | None = None,
                      workspace: str | Path | None = None) -> pd.DataFrame:
    """All the company's managers × every library indicator, for the review period.

    Read from the runner's workspace when given (``kpis_<freq>.parquet`` holds every
    manager); otherwise computed from the data (interactive use).  Objective weights
    and the 0–100 scale need the whole company; only aggregates of it are shown.
    """
    if not workspace and params_file is None:
        raise InputError(Problem("params_file", "needed to load the company data", fix="pass params_file"))
    actuals = company_actuals(ctx, params_file, workspace)
    return indicator_values(actuals, library, ctx.period.label).sort_index()
