"""Run parameters: ``params/*.yaml`` validated with pydantic before anything runs.

Unknown keys are rejected, types are checked, and every problem is reported as
``file: key 'a.b': what — fix``.  Paths in a params file are relative to that file.
YAML is always read with a ``yaml.SafeLoader`` (no object construction) that refuses a
key given twice.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from helpers.errors import InputError, Problem
from helpers.files import text_file_problem
from helpers.plan.base import Strict, load_model
from helpers.periods import parse_period

SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
"""Team ids and notebook names: used in output paths, so no separators or dots."""




class DataParams(Strict):
    """Where the canonical tables come from."""

    folder: str | None = Field(None, description="Folder holding <table>.csv / .parquet, relative to the params file.")
    source: str | None = Field(None, description="Source mapping (params/sources/*.yaml) relative to the params file; instead of `folder`.")
    demo: bool = Field(False, description="Generate the built-in demo data into `folder` if it is missing.")
    as_of: date | None = Field(None, description="Date the data was extracted (YYYY-MM-DD); later dates are errors.")

    @model_validator(mode="after")
    def _one_source(self) -> "DataParams":
        if (self.folder is None) == (self.source is None):
            raise ValueError("give either folder (canonical tables) or source (a source mapping), not both or neither")
        if self.demo and self.folder is None:
            raise ValueError("demo: true needs folder (where the demo data is generated)")
        return self


class OutputParams(Strict):
    folder: str = Field("../reports", description="Where reports are written, relative to the params file.")


class ExecutionParams(Strict):
    timeout_seconds: int = Field(600, ge=10, description="Per-cell execution timeout.")
    jobs: int | None = Field(None, ge=1, description="Parallel notebook runs; default the number of cores.")
    kernel: str = Field("python3", description="Jupyter kernel name used by papermill.")
    fork_kernels: bool = Field(True, description="Fork each notebook's kernel from a process that has imported the "
                               "workbook once (a fresh process per notebook, without the start-up); false: start "
                               "every kernel from nothing. Only a standard IPython kernel of this Python is forked.")
    executor: Literal["local", "dask"] = Field("local", description="local: a process pool on this machine; "
                                               "dask: the tasks of a Dask distributed cluster.")
    scheduler: str | None = Field(None, description="Dask scheduler address (tcp://host:8786); none with "
                                  "executor dask: a local Dask cluster of `jobs` workers.")
    connect_timeout_seconds: int = Field(15, ge=1, le=600, description="How long to try reaching the Dask scheduler.")


class LeadershipParams(Strict):
    """The leadership summary (notebook 05): the only cross-team view."""

    individual_pay: bool = Field(False, description="Show each manager's payout (else team and region totals only).")
    movers: int = Field(5, ge=1, le=50, description="How many biggest risers and fallers to list.")
    complaint_spike_ratio: float = Field(1.5, gt=1, description="A team's complaints at least this multiple of its "
                                         "average over the previous periods is a spike.")
    complaint_spike_min: int = Field(3, ge=1, description="...and at least this many more complaints than that average.")
    spike_history: int = Field(4, ge=1, le=12, description="Previous periods averaged for the spike rule.")


class RecordParams(Strict):
    """The system of record (README, "Period life cycle"): the results store and the files HR keeps."""

    store: str | None = Field(None, description="The results store: a DuckDB file (path relative to the params file) "
                              "or a SQLAlchemy URL (postgresql+psycopg://user@host/db); default record.duckdb in the "
                              "output folder.")
    adjustments: str | None = Field(None, description="Adjustments file (CSV or YAML): manager_id, period, amount or "
                                    "indicator + credit, reason_code, reason, approved_by, date.")
    disputes: str | None = Field(None, description="Disputes file (CSV or YAML): dispute_id, manager_id, period, "
                                 "line_ref, raised_on, text, status (open/accepted/rejected), amount, decided_by, decided_on.")
    signoffs: str | None = Field(None, description="Sign-off file HR keeps (CSV or YAML): manager_id, period, status "
                                 "(signed/refused), date, version.")
    teammates_pay: bool = Field(False, description="The team's quarterly review lists every teammate's pay "
                                "(false: each manager's pay is only in their own statement).")
    dispute_days: int = Field(10, ge=1, le=90, description="Days after publication a manager has to raise a dispute.")
    dispute_contact: str | dict[str, str] = Field(
        {"zh": "人力资源部绩效专员", "en": "the HR performance officer"},
        description="Whom a manager writes to about a statement line (one text, or one per language).")

    def contact_in(self, language: str) -> str:
        if isinstance(self.dispute_contact, str):
            return self.dispute_contact
        return self.dispute_contact.get(language) or next(iter(self.dispute_contact.values()), "")


class RunParams(Strict):
    """One workbook run: data, period, teams, notebooks, language."""

    title: str | dict[str, str] = Field(
        "客户经理绩效管理", description="Report title shown in every title block: one text, or one per language "
        "({zh: ..., en: ...}; a language without its own falls back to the other).")
    language: Literal["zh", "en"] = Field("zh", description="Report language.")
    period: str = Field("2026Q3", description="Review period: 2026Q3 (quarter) or 2026-09 (month).")
    data: DataParams
    teams: Literal["all"] | list[str] = Field("all", description="Team ids to run, or 'all'.")
    notebooks: list[str] = Field(default_factory=lambda: ["00_data_quality"], min_length=1)
    notebook_folder: str = Field("../notebooks", description="Folder of the workbook notebooks, relative to the params file.")
    # methodology files, relative to the params file; each is validated by its module
    indicators: str = Field("indicators.yaml", description="Indicator library (helpers.kpis.indicators).")
    strategy: str = Field("strategies/expansion.yaml", description="Strategy → objectives → indicators (notebook 02).")
    alternative_strategy: str | None = Field("strategies/loyalty.yaml", description="Strategy shift to compare with.")
    weights: str = Field("weights", description="Folder of weight schemes and AHP judgements (notebook 03).")
    weight_scheme: str = Field("current", description="The scheme used for scoring (a file in `weights`).")
    targets: str = Field("targets.yaml", description="Target-setting plan (notebook 01).")
    incentives: str = Field("incentives.yaml", description="Compensation plan (notebook 04).")
    scoring: str = Field("scoring.yaml", description="Scoring plan: curves, split, grades (notebook 04).")
    output: OutputParams = OutputParams()
    execution: ExecutionParams = ExecutionParams()
    leadership: LeadershipParams = LeadershipParams()
    record: RecordParams = RecordParams()

    def title_in(self, language: str) -> str:
        """The report title in ``language`` (the one text, or that language's, else the other's)."""
        if isinstance(self.title, str):
            return self.title
        return self.title.get(language) or next(iter(self.title.values()), "")

    @field_validator("title")
    @classmethod
    def _title(cls, v: str | dict[str, str]) -> str | dict[str, str]:
        if isinstance(v, dict):
            unknown = sorted(set(v) - {"zh", "en"})
            if unknown:
                raise ValueError(f"unknown language {unknown[0]!r}: the title takes zh and en")
            if not any(x.strip() for x in v.values()):
                raise ValueError("give the title in at least one language, e.g. {zh: 客户经理绩效报告, en: Performance}")
        return v

    @field_validator("period")
    @classmethod
    def _period(cls, v: str) -> str:
        try:
            return parse_period(v).label
        except InputError as exc:
            raise ValueError(exc.problems[0].what + " (write 2026Q3 or 2026-09)") from None

    @field_validator("teams")
    @classmethod
    def _teams(cls, v: Any) -> Any:
        if isinstance(v, list):
            bad = [t for t in v if not SLUG.match(t)]
            if bad:
                raise ValueError(f"team ids {bad} may only use letters, digits, '-' and '_'")
        return v

    @field_validator("notebooks")
    @classmethod
    def _notebooks(cls, v: list[str]) -> list[str]:
        bad = [n for n in v if not SLUG.match(n)]
        if bad:
            raise ValueError(f"notebook names {bad} may only use letters, digits, '-' and '_' (no .ipynb, no folders)")
        return v


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validation_problems(exc: ValidationError, source: str) -> list[Problem]:
    """pydantic errors as :class:`Problem` lines naming file and key."""
    problems = []
    for err in exc.errors():
        key = _loc(err["loc"]) or "(top level)"
        kind = err["type"]
        if kind == "extra_forbidden":
            what, fix = "unknown key", "remove it or check its spelling"
        elif kind == "missing":
            what, fix = "required key is missing", "add it"
        else:
            what = err["msg"].removeprefix("Value error, ")
            fix = f"got {err.get('input')!r}" if not isinstance(err.get("input"), (dict, list)) else ""
        problems.append(Problem(source, what, where=f"key '{key}'", fix=fix))
    return problems


class DuplicateKey(yaml.YAMLError):
    def __init__(self, key: Any, first: int, again: int):
        super().__init__(f"key {key!r} appears twice")
        self.key, self.first, self.again = key, first, again


class _UniqueKeys:
    """A safe loader that refuses a key given twice in one mapping (plain YAML keeps
    the last one silently: ``period`` would quietly change)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            k = self.construct_object(key_node, deep=deep)
            try:
                if k in seen:
                    raise DuplicateKey(k, seen[k], key_node.start_mark.line + 1)
                seen[k] = key_node.start_mark.line + 1
            except TypeError:  # an unhashable key: SafeLoader reports it itself
                pass
        return super().construct_mapping(node, deep=deep)


class _UniqueKeyLoader(_UniqueKeys, yaml.SafeLoader):
    """The pure-Python safe loader: its syntax-error messages are the ones users see."""


_FastUniqueKeyLoader = type("_FastUniqueKeyLoader", (_UniqueKeys, getattr(yaml, "CSafeLoader", yaml.SafeLoader)), {})
"""The same on libyaml (ten times faster) for every file that parses."""

_YAML_CACHE: dict[tuple[str, int, int], Any] = {}


def _plain_copy(x: Any) -> Any:
    """A deep copy of what the safe loader builds — dicts, lists, sets and immutable
    scalars (text, numbers, dates) — a few times faster than ``copy.deepcopy`` (a run
    reads its plan files about forty times)."""
    if type(x) is dict:
        return {k: _plain_copy(v) for k, v in x.items()}
    if type(x) is list:
        return [_plain_copy(v) for v in x]
    if type(x) is set:
        return set(x)
    return x


def read_yaml(path: str | Path) -> Any:
    """Read YAML safely (no object construction; a key given twice is an error); a
    missing file, a binary or non-UTF-8 file or a syntax error becomes an InputError."""
    path = Path(path)
    if not path.is_file():
        raise InputError(Problem(str(path), "file not found", fix="check the path"))
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    if key in _YAML_CACHE:  # parsed once per process (a run reads a plan file from several checks)
        return _plain_copy(_YAML_CACHE[key])
    binary = text_file_problem(path, expected="a YAML text file")
    if binary is not None:
        raise InputError(Problem(binary.source, binary.what, fix="point to the YAML file, or save it as UTF-8 text"))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(Problem(str(path), f"is not UTF-8 (byte {exc.start})", fix="save it as UTF-8")) from None
    try:
        try:
            data = yaml.load(text, Loader=_FastUniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
        except DuplicateKey:
            raise
        except yaml.YAMLError:  # parse again in Python: its message and position are the ones documented
            data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506
        _YAML_CACHE[key] = data
        return _plain_copy(data)
    except DuplicateKey as exc:
        raise InputError(Problem(str(path), f"key '{exc.key}' appears twice (lines {exc.first} and {exc.again})",
                                 where=f"line {exc.again}",
                                 fix="keep one of them: with two, only the last would count")) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(Problem(str(path), f"YAML syntax error: {what}", where=where,
                                 fix="fix the indentation or quoting there")) from None


def load_params(path: str | Path) -> RunParams:
    """Load and validate a run params file."""
    return load_model(path, RunParams, example="params/demo.yaml")


def resolve(params_file: str | Path, relative: str) -> Path:
    """A path from a params file, relative to that file's folder."""
    p = Path(relative).expanduser()
    return p if p.is_absolute() else (Path(params_file).resolve().parent / p).resolve()
