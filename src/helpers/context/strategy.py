"""The strategy files of a run: read, checked against the indicator library and the
teams, and loaded (:func:`load_strategy`, :func:`check_strategies`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from helpers.core.strategy import Strategy, strategy_problems
from helpers.errors import InputError, Problem
from helpers.kpis.indicators import Library, load_library
from helpers.plan.params import RunParams, resolve
from helpers.plan.strategy import parse_strategy

__all__ = ["load_strategy", "check_strategies", "strategy_files"]


def load_strategy(path: str | Path, library: Library, label: str | None = None,
                  teams: Mapping[str, str] | None = None) -> Strategy:
    """Read and validate a strategy file; raise one :class:`InputError` with every problem."""
    source = label or str(path)
    spec = parse_strategy(path, source)
    problems = strategy_problems(spec, library, source, teams)
    if problems:
        raise InputError(problems)
    return Strategy(spec, library, source)


def strategy_files(params: RunParams) -> list[tuple[str, str]]:
    out = [("strategy", params.strategy)]
    if params.alternative_strategy:
        out.append(("alternative_strategy", params.alternative_strategy))
    return out


def check_strategies(params: RunParams, params_file: str | Path, teams: Mapping[str, str] | None = None) -> list[Problem]:
    """Validate the indicator library and the strategy files named in ``params``.

    Returns every problem (empty = fine) for ``kpi-workbook validate`` (exit 2 when
    any).  Files are named as written in the params file (e.g.
    ``strategies/loyalty.yaml``).  ``teams`` (team id → region, optional) lets
    overrides be checked against the data.  Missing data and SMART failures are
    warnings: :func:`helpers.run.checks.strategy_warnings`.
    """
    try:
        library = load_library(resolve(params_file, params.indicators))
    except InputError as exc:
        return list(exc.problems)
    problems: list[Problem] = []
    for key, rel in strategy_files(params):
        path = resolve(params_file, rel)
        if not path.is_file():
            problems.append(Problem(str(params_file), f"strategy file '{rel}' not found ({path})", where=f"key '{key}'",
                                    fix="check the path (relative to the params file)"))
            continue
        try:
            spec = parse_strategy(path, rel)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(strategy_problems(spec, library, rel, teams))
    return problems
