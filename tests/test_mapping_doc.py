"""docs/MAPPING.md is true: every example in it runs, and every mapping key is in it.

The guide's conventions (its section "How to read the examples"): inside a ``###``
section, ``File `name`:`` + a CSV block is an input file (``saved as <encoding>``,
``sheet `S` `` of an Excel workbook, ``SQLite table `T` ``, ``.parquet``: written from the
CSV with pandas); ``Mapping:`` + a YAML block is a mapping, loaded with the workbook's
loader (:func:`helpers.data.sources.load_mapped`) after adding the guide's shared tables
it does not map; after it, ``Result, table `t`:`` + a Markdown table is compared value by
value, ``Result: no table `t`.`` says the table is left out, ``Result: an error:`` + a
text block lists the problems exactly, ``Report:`` + a text block gives lines of the
data-quality report.  The key check walks the pydantic models of the mapping format, so
a key added to the code without a runnable example here fails.
"""

from __future__ import annotations

import io
import math
import re
import sqlite3
import typing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import BaseModel

from helpers.data.sources import Mapping, load_mapped, quality_summary, read_mapping
from helpers.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "MAPPING.md"

_FILE = re.compile(r"^File `(?P<name>[^`]+)`(?P<rest>.*):$")
_TABLE = re.compile(r"^Result, table `(?P<table>\w+)`:$")
_ABSENT = re.compile(r"^Result: no table `(?P<table>\w+)`\.$")


@dataclass
class DocFile:
    name: str
    text: str
    encoding: str = "utf-8"
    sheet: str | None = None
    sql_table: str | None = None


@dataclass
class Run:
    mapping: str
    line: int
    tables: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    error: list[str] | None = None
    report: list[str] = field(default_factory=list)

    def checks(self) -> int:
        return len(self.tables) + len(self.absent) + (self.error is not None) + len(self.report)


@dataclass
class Example:
    title: str
    files: list[DocFile] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)


@dataclass
class Guide:
    text: str
    shared: dict
    as_of: pd.Timestamp
    examples: list[Example]


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def parse_guide(text: str) -> Guide:
    lines = text.splitlines()
    examples: list[Example] = []
    shared: dict | None = None
    caption = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            caption = ""
            if line.startswith("### "):
                examples.append(Example(line[4:].strip()))
            elif line.startswith("## "):
                examples.append(Example(line[3:].strip()))  # a section of its own until a ### starts
            i += 1
            continue
        if line.startswith("```"):
            lang = line[3:].strip()
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            body = "\n".join(lines[i + 1:end]) + "\n"
            ex = examples[-1] if examples else None
            m = _FILE.match(caption)
            if caption == "Shared tables:":
                assert lang == "yaml", f"line {i + 1}: the shared tables are YAML"
                shared = yaml.safe_load(body)
            elif m:
                assert lang == "csv" and ex is not None, f"line {i + 1}: a file is a csv block in an example"
                rest = m.group("rest")
                enc = re.search(r"saved as ([\w-]+)", rest)
                sheet = re.search(r"sheet `([^`]+)`", rest)
                table = re.search(r"SQLite table `([^`]+)`", rest)
                ex.files.append(DocFile(m.group("name"), body, enc.group(1).lower() if enc else "utf-8",
                                        sheet.group(1) if sheet else None, table.group(1) if table else None))
            elif caption == "Mapping:":
                assert lang == "yaml" and ex is not None, f"line {i + 1}: a mapping is a yaml block in an example"
                ex.runs.append(Run(body, i + 1))
            elif caption in ("Result: an error:", "Report:"):
                assert lang == "text" and ex is not None and ex.runs, f"line {i + 1}: {caption} follows a mapping"
                found = [ln for ln in body.splitlines() if ln.strip()]
                if caption == "Report:":
                    ex.runs[-1].report += found
                else:
                    ex.runs[-1].error = found
            i, caption = end + 1, ""
            continue
        if line.startswith("|"):
            end = i
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            m = _TABLE.match(caption)
            if m:
                ex = examples[-1]
                assert ex.runs, f"line {i + 1}: a result follows a mapping"
                header = _cells(lines[i])
                rows = [_cells(r) for r in lines[i + 2:end]]
                assert all(len(r) == len(header) for r in rows), f"line {i + 1}: ragged table"
                ex.runs[-1].tables.append((m.group("table"), header, rows))
            i, caption = end, ""
            continue
        if line.strip():
            caption = line.strip()
            m = _ABSENT.match(caption)
            if m:
                examples[-1].runs[-1].absent.append(m.group("table"))
        i += 1
    as_of = re.search(r"read as of `(\d{4}-\d{2}-\d{2})`", text)
    assert shared is not None, "the guide shows its shared tables"
    assert as_of is not None, "the guide says the as-of date of its examples"
    return Guide(text, shared, pd.Timestamp(as_of.group(1)), [e for e in examples if e.runs])


GUIDE = parse_guide(DOC.read_text(encoding="utf-8"))
RUNS = [(ex, run) for ex in GUIDE.examples for run in ex.runs]


def _frame(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text))


def write_files(folder: Path, files: list[DocFile]) -> None:
    sheets: dict[str, list[DocFile]] = {}
    for f in files:
        path = folder / f.name
        path.parent.mkdir(parents=True, exist_ok=True)
        if f.sheet is not None:
            sheets.setdefault(f.name, []).append(f)
        elif f.sql_table is not None:
            con = sqlite3.connect(path)
            _frame(f.text).to_sql(f.sql_table, con, index=False)
            con.close()
        elif path.suffix == ".parquet":
            _frame(f.text).to_parquet(path)
        else:
            path.write_bytes(f.text.encode(f.encoding))
    for name, parts in sheets.items():
        with pd.ExcelWriter(folder / name) as xw:
            for f in parts:
                _frame(f.text).to_excel(xw, sheet_name=f.sheet, index=False)


def write_mapping(folder: Path, run: Run) -> Path:
    doc = yaml.safe_load(run.mapping)
    tables = doc.setdefault("tables", {})
    for name, spec in GUIDE.shared["tables"].items():
        tables.setdefault(name, spec)
    path = folder / "mapping.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def same(expected: str, actual: object) -> bool:
    """A cell of the guide's table against a value of the loaded table."""
    if actual is None or (not isinstance(actual, str) and pd.isna(actual)):
        return expected == ""
    if isinstance(actual, (bool, np.bool_)):
        return expected == ("true" if actual else "false")
    if isinstance(actual, pd.Timestamp):
        return expected == actual.strftime("%Y-%m-%d")
    if isinstance(actual, (int, float, np.integer, np.floating)):
        try:
            return math.isclose(float(expected), float(actual), rel_tol=1e-12, abs_tol=1e-12)
        except ValueError:
            return False
    return expected == str(actual)


def _relative(text: str, folder: Path) -> str:
    return text.replace(f"{folder}/", "")


@pytest.mark.parametrize("example, run", RUNS, ids=[f"{ex.title} (line {run.line})" for ex, run in RUNS])
def test_example(tmp_path, example: Example, run: Run):
    assert run.checks(), f"line {run.line}: a mapping in the guide is followed by its result"
    folder = tmp_path / "example"
    folder.mkdir()
    write_files(folder, example.files)
    path = write_mapping(folder, run)
    if run.error is not None:
        assert not run.tables, f"line {run.line}: an error and a result table"
        with pytest.raises(InputError) as exc:
            load_mapped(path, as_of=GUIDE.as_of)
        assert [_relative(str(p), folder) for p in exc.value.problems] == run.error
        return
    ds = load_mapped(path, as_of=GUIDE.as_of)
    for name, header, rows in run.tables:
        assert ds.has(name), f"no table {name}"
        df = ds[name]
        assert len(df) == len(rows), f"{name}: {len(df)} rows, the guide shows {len(rows)}\n{df}"
        for col in header:
            assert col in df.columns, f"{name} has no column {col}"
        for i, row in enumerate(rows):
            for col, expected in zip(header, row):
                actual = df[col].iloc[i]
                assert same(expected, actual), f"{name} row {i + 1}, {col}: the guide says {expected!r}, got {actual!r}"
    for name in run.absent:
        assert not ds.has(name), f"{name} was not left out"
    assert ds.report is not None
    report = [re.sub(r"\s+", " ", _relative(line, folder)).strip() for line in quality_summary(ds.report)]
    for line in run.report:
        assert any(re.sub(r"\s+", " ", line) in r for r in report), f"not in the report: {line}\n" + "\n".join(report)


# --------------------------------------------------------------------------- every key


def _models(model: type[BaseModel], seen: dict[str, type[BaseModel]] | None = None) -> dict[str, type[BaseModel]]:
    """The models of the mapping format, reached from ``model`` through its fields' types."""
    seen = {} if seen is None else seen
    seen[model.__name__] = model

    def inner(tp: object) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp.__name__ not in seen:
                _models(tp, seen)
            return
        for arg in typing.get_args(tp):
            inner(arg)

    for f in model.model_fields.values():
        inner(f.annotation)
    return seen


def _key(model: type[BaseModel], name: str) -> str:
    return model.model_fields[name].alias or name


ALL_KEYS = {(m.__name__, _key(m, n)) for m in _models(Mapping).values() for n in m.model_fields}


def _used(obj: object, out: set[tuple[str, str]], values: set[tuple[str, str, str]]) -> None:
    """(model, key) set explicitly in a loaded mapping, and (model, key, value) for text values."""
    if isinstance(obj, BaseModel):
        for name in obj.model_fields_set:
            out.add((type(obj).__name__, _key(type(obj), name)))
            value = getattr(obj, name)
            if isinstance(value, str):
                values.add((type(obj).__name__, _key(type(obj), name), value))
            _used(value, out, values)
    elif isinstance(obj, dict):
        for v in obj.values():
            _used(v, out, values)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _used(v, out, values)


def test_the_guide_has_examples_for_a_whole_mapping():
    assert len(GUIDE.examples) >= 20 and len(RUNS) >= 30
    for ex in GUIDE.examples:
        for run in ex.runs:
            assert run.checks(), f"{ex.title}, line {run.line}: a mapping without a result"


def test_every_mapping_key_is_in_the_guide_and_in_a_runnable_example(tmp_path):
    assert len(ALL_KEYS) > 40  # the walk found the nested models (Source, Aggregate, Derive, ...)
    missing_text = sorted(f"{m}.{k}" for m, k in ALL_KEYS if f"`{k}`" not in GUIDE.text)
    assert not missing_text, f"keys the guide does not name (as `key`): {missing_text}"
    used: set[tuple[str, str]] = set()
    values: set[tuple[str, str, str]] = set()
    for i, (ex, run) in enumerate(RUNS):
        folder = tmp_path / str(i)
        folder.mkdir()
        _used(read_mapping(write_mapping(folder, run)), used, values)
    assert not sorted(ALL_KEYS - used), f"keys no example uses: {sorted(ALL_KEYS - used)}"
    # the choices a reader must see work: each value-map policy, both join policies, both lost dates
    for model, key, choices in (("ValueMap", "unmatched", ("error", "keep", "drop", "default")),
                                ("Join", "unmatched", ("error", "drop")),
                                ("Aggregate", "lost_date", ("last_order", "threshold"))):
        for choice in choices:
            assert (model, key, choice) in values, f"no example sets {model}.{key}: {choice}"
    assert {("Aggregate", k) for k in ("min", "max", "sum", "first", "last", "top", "count", "idle")} <= used
