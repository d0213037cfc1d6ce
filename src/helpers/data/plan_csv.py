"""Targets and commitments a consultant writes in a CSV file (``manager_id, indicator,
period, target`` / ``commitment``): read, every row checked, every problem named by
file, row and column."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.errors import InputError, Problem, input_error
from helpers.periods import period_of

__all__ = ["read_targets_csv", "read_commitments_csv"]


def _read_plan_csv(path: str | Path, value_col: str, known_managers: Iterable[Any],
                   known_indicators: Iterable[Any] | None) -> pd.DataFrame:
    src = str(path)
    cols = ["manager_id", "indicator", "period", value_col]
    opts: dict[str, Any] = dict(dtype=str, keep_default_na=False, skip_blank_lines=False)
    try:
        try:
            raw = pd.read_csv(path, encoding="utf-8-sig", **opts)
        except UnicodeDecodeError:  # Excel on Chinese Windows saves CSV as GBK
            raw = pd.read_csv(path, encoding="gb18030", **opts)
    except FileNotFoundError:
        raise input_error(src, "file not found") from None
    except pd.errors.EmptyDataError:
        raise input_error(src, "the file is empty", fix=f"write a header line: {','.join(cols)}") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise input_error(src, f"cannot read the file as CSV ({e})",
                          fix="save it as CSV (UTF-8) with one value per column") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    if "scope" in raw.columns:  # a targets.csv of notebook 01: the manager rows (the others are totals)
        raw = raw[raw["scope"].str.strip().isin(("", "manager"))]
    missing = [c for c in cols if c not in raw.columns]
    if missing:
        raise input_error(src, f"missing column(s) {', '.join(missing)}", where="line 1 (header)",
                          fix=f"the header must contain {','.join(cols)}")
    raw = raw[cols].apply(lambda c: c.str.strip())
    managers = {str(m).strip() for m in known_managers}
    indicators = None if known_indicators is None else {str(i).strip() for i in known_indicators}
    problems: list[Problem] = []
    rows: list[dict[str, Any]] = []
    first_seen: dict[tuple[str, str, pd.Period], int] = {}
    for i, rec in zip(raw.index, raw.itertuples(index=False)):
        line = int(i) + 2  # line 1 is the header
        mgr, ind, per, val = (str(v) for v in rec)
        if not (mgr or ind or per or val):
            continue  # blank line
        where = f"row {line}"
        if mgr not in managers:
            problems.append(Problem(src, f"unknown manager {mgr!r}", f"{where}, column manager_id",
                                    "use a manager_id from the staff list"))
        if indicators is not None and ind not in indicators:
            problems.append(Problem(src, f"unknown indicator {ind!r}", f"{where}, column indicator",
                                    "use an indicator code from the indicator dictionary"))
        p: pd.Period | None
        try:
            p = period_of(per, source=src)
        except InputError:
            p = None
            problems.append(Problem(src, f"cannot read period {per!r}", f"{where}, column period",
                                    'write "2026Q3", "2026-09" or "2026"'))
        try:
            v = float(val)
        except ValueError:
            v = math.nan
        if not math.isfinite(v):
            problems.append(Problem(src, f"{value_col} {val!r} is not a number", f"{where}, column {value_col}",
                                    "write a plain number, no thousands separators or units"))
        elif v < 0:
            problems.append(Problem(src, f"{value_col} {v:g} is negative", f"{where}, column {value_col}",
                                    "targets are ≥ 0; for lower-is-better KPIs give the ceiling"))
        if p is not None:
            key = (mgr, ind, p)
            if key in first_seen:
                problems.append(Problem(src, f"duplicate of row {first_seen[key]} ({mgr}, {ind}, {p})",
                                        where, "keep one row per manager, indicator and period"))
            else:
                first_seen[key] = line
        rows.append({"manager_id": mgr, "indicator": ind, "period": p, value_col: v})
    if problems:
        raise InputError(problems)
    out = pd.DataFrame(rows, columns=cols)
    out[value_col] = out[value_col].astype(float)
    return out


def read_targets_csv(path: str | Path, known_managers: Iterable[Any],
                     known_indicators: Iterable[Any]) -> pd.DataFrame:
    """Read user-supplied targets (``manager_id, indicator, period, target``), used as is.

    ``period`` is ``"2026Q3"``, ``"2026-09"`` or ``"2026"`` and is returned as a
    ``pd.Period``.  Every problem (unknown manager or indicator, unreadable period,
    duplicate (manager, indicator, period), non-numeric or negative target) is reported
    in one :class:`InputError` as ``file: row N, column C`` where N is the line in the
    file (the header is line 1).  Blank lines are skipped; values are stripped;
    ``manager_id``/``indicator`` are returned as strings (compared with the known
    ones as strings).  UTF-8 (with or without BOM) is read, GB18030 as a fallback.
    """
    return _read_plan_csv(path, "target", known_managers, known_indicators)


def read_commitments_csv(path: str | Path, known_managers: Iterable[Any],
                         known_indicators: Iterable[Any] | None = None) -> pd.DataFrame:
    """Read bottom-up commitments (``manager_id, indicator, period, commitment``).

    Same checks as :func:`read_targets_csv`; indicators are checked only when
    ``known_indicators`` is given.
    """
    return _read_plan_csv(path, "commitment", known_managers, known_indicators)
