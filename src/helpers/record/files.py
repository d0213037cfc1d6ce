"""The files HR keeps beside the record: adjustments, disputes, sign-offs (CSV or YAML).

Each is checked like every input before anything is run or written: one
:class:`~helpers.errors.Problem` per bad cell, naming the file, the row (the CSV's line
number, or the YAML list's item), the column and what to do.  A YAML file is a list of
mappings with the same keys as the CSV's columns.

* **adjustments** — ``manager_id, period, amount`` *or* ``indicator, credit``,
  ``reason_code, reason, approved_by, date``; optional ``adjustment_id`` (else one is
  derived from the row's content, so the same row is the same adjustment on every run).
* **disputes** — ``dispute_id, manager_id, period, line_ref, raised_on, text, status``
  (open, accepted, rejected), ``amount`` (the money an accepted dispute pays or
  charges), ``decided_by, decided_on`` (required once decided).
* **signoffs** — ``manager_id, period, status`` (signed, refused), ``date``, optional
  ``version`` (the statement version signed).
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

from helpers.errors import InputError, Problem
from helpers.periods import parse_period
from helpers.plan.params import read_yaml
from helpers.record.results import REF_CODE

__all__ = ["read_adjustments", "read_disputes", "read_signoffs", "SPECS", "REF"]

REF = re.compile(r"^(I\.[A-Za-z0-9_]+|T\.(hard|soft|total)|P\.[a-z_]+\.[0-9]{4}(Q[1-4]|-[0-9]{2})\.[0-9]+|A\.[A-Za-z0-9_.\-]+)$")
CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")
VERSION = re.compile(r"^[0-9a-f]{12}$")

SPECS: dict[str, dict[str, list[str]]] = {
    "adjustments": {"required": ["manager_id", "period", "reason_code", "approved_by", "date"],
                    "optional": ["adjustment_id", "amount", "indicator", "credit", "reason"]},
    "disputes": {"required": ["dispute_id", "manager_id", "period", "line_ref", "raised_on", "status"],
                 "optional": ["text", "amount", "decided_by", "decided_on"]},
    "signoffs": {"required": ["manager_id", "period", "status", "date"], "optional": ["version"]},
}


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def _read(path: Path, kind: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows (each with ``_row``: the line or item a person finds it at) and where they are."""
    src = str(path)
    if not path.exists():
        raise InputError(Problem(src, f"the {kind} file does not exist", fix=f"create it, or remove record.{kind} from the params"))
    if path.suffix.lower() in (".yaml", ".yml"):
        doc = read_yaml(path)
        if doc is None:
            doc = []
        if not isinstance(doc, list) or not all(isinstance(x, dict) for x in doc):
            raise InputError(Problem(src, f"the {kind} file (YAML) must be a list of entries (- manager_id: …)",
                                     fix="write one '- key: value' block per entry"))
        return [{**{str(k): v for k, v in x.items()}, "_row": f"entry {i}"} for i, x in enumerate(doc, 1)], []
    if path.suffix.lower() != ".csv":
        raise InputError(Problem(src, f"the {kind} file must be .csv or .yaml", fix="save it as CSV (UTF-8) or YAML"))
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(Problem(src, "is not UTF-8", fix="save it as CSV UTF-8")) from None
    except pd.errors.ParserError as exc:
        raise InputError(Problem(src, f"is not a readable CSV ({str(exc).splitlines()[0][:120]})",
                                 fix="check the quoting and the number of columns on that line")) from None
    except pd.errors.EmptyDataError:
        raise InputError(Problem(src, "is empty", fix="write the header line at least")) from None
    df.columns = [str(c).strip() for c in df.columns]
    return [{**r, "_row": f"row {i + 2}"} for i, r in enumerate(df.to_dict("records"))], list(df.columns)


def _check_columns(src: str, kind: str, rows: list[dict[str, Any]], header: list[str]) -> list[Problem]:
    spec = SPECS[kind]
    allowed = set(spec["required"]) | set(spec["optional"])
    problems = []
    cols = header or sorted({k for r in rows for k in r if k != "_row"})
    for c in cols:
        if c not in allowed:
            problems.append(Problem(src, f"unknown column '{c}'", where=f"column {c}",
                                    fix=f"use only: {', '.join(spec['required'] + spec['optional'])}"))
    missing = [c for c in spec["required"] if c not in cols] if header else []
    for c in missing:
        problems.append(Problem(src, f"column '{c}' is missing", fix=f"add it (required: {', '.join(spec['required'])})"))
    return problems


class _Rows:
    """Per-row checks that collect problems (file, row, column, what to do)."""

    def __init__(self, src: str):
        self.src = src
        self.problems: list[Problem] = []

    def bad(self, r: dict[str, Any], col: str, what: str, fix: str) -> None:
        self.problems.append(Problem(self.src, what, where=f"{r['_row']}, column {col}", fix=fix))

    def text(self, r: dict[str, Any], col: str, required: bool = True) -> str | None:
        v = r.get(col)
        if _blank(v):
            if required:
                self.bad(r, col, f"{col} is empty", "fill it in")
            return None
        return str(v).strip()

    def number(self, r: dict[str, Any], col: str) -> float | None:
        v = r.get(col)
        if _blank(v):
            return None
        try:
            x = float(str(v).replace(",", "").strip())
        except ValueError:
            self.bad(r, col, f"'{v}' is not a number", "write a plain number, e.g. -1234.50")
            return None
        if not math.isfinite(x):
            self.bad(r, col, f"'{v}' is not a finite number", "write a plain number")
            return None
        return x

    def day(self, r: dict[str, Any], col: str, required: bool = True) -> str | None:
        v = r.get(col)
        if isinstance(v, date):  # YAML reads 2026-10-20 as a date
            return v.isoformat()[:10]
        text = self.text(r, col, required)
        if text is None:
            return None
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            self.bad(r, col, f"'{text}' is not a date", "write YYYY-MM-DD, e.g. 2026-10-20")
            return None

    def period(self, r: dict[str, Any], col: str = "period") -> str | None:
        v = self.text(r, col)
        if v is None:
            return None
        try:
            return parse_period(v, source=self.src).label
        except InputError:
            self.bad(r, col, f"'{v}' is not a period", "write a quarter (2026Q3) or a month (2026-09)")
            return None

    def choice(self, r: dict[str, Any], col: str, options: Iterable[str]) -> str | None:
        v = self.text(r, col)
        if v is None:
            return None
        opts = list(options)
        if v.lower() not in opts:
            self.bad(r, col, f"'{v}' is not one of {', '.join(opts)}", f"write one of: {', '.join(opts)}")
            return None
        return v.lower()

    def member(self, r: dict[str, Any], col: str, known: set[str] | None, what: str) -> str | None:
        v = self.text(r, col)
        if v is not None and known is not None and v not in known:
            self.bad(r, col, f"{what} '{v}' is not in the data", f"check the {what}")
        return v


def _finish(kind: str, src: str, out: list[dict[str, Any]], problems: list[Problem], cols: list[str]) -> pd.DataFrame:
    if problems:
        raise InputError(problems)
    df = pd.DataFrame(out, columns=cols + ["_row", "_file"])
    df.attrs["file"] = src
    return df


def _load(path: str | Path, kind: str) -> tuple[str, list[dict[str, Any]], _Rows]:
    p = Path(path)
    rows, header = _read(p, kind)
    chk = _Rows(str(p))
    chk.problems += _check_columns(str(p), kind, rows, header)
    return str(p), rows, chk


def _derived_id(r: dict[str, Any]) -> str:
    text = "|".join(str(r.get(k) or "") for k in ("manager_id", "period", "amount", "indicator", "credit",
                                                  "reason_code", "reason", "approved_by", "date"))
    return "F-" + hashlib.sha256(text.encode()).hexdigest()[:10]


def read_adjustments(path: str | Path, managers: set[str] | None = None,
                     indicators: set[str] | None = None) -> pd.DataFrame:
    """The adjustments file, checked (see the module's docstring)."""
    src, rows, chk = _load(path, "adjustments")
    out, seen = [], {}
    for r in rows:
        a = {"manager_id": chk.member(r, "manager_id", managers, "manager"), "period": chk.period(r),
             "amount": chk.number(r, "amount"), "indicator": chk.text(r, "indicator", required=False),
             "credit": chk.number(r, "credit"), "reason_code": chk.text(r, "reason_code"),
             "reason": chk.text(r, "reason", required=False), "approved_by": chk.text(r, "approved_by"),
             "date": chk.day(r, "date")}
        if a["reason_code"] and not CODE.match(a["reason_code"]):
            chk.bad(r, "reason_code", f"'{a['reason_code']}' is not a reason code",
                    "use capitals, digits and _ (e.g. DATA_CORRECTION, MISATTRIBUTED_ORDER)")
        # which cells are filled, read or not: a number that does not read was reported above
        money, credit = not _blank(r.get("amount")), a["indicator"] is not None or not _blank(r.get("credit"))
        if money == credit:
            chk.bad(r, "amount", "give either an amount, or an indicator and a credit" if not money
                    else "an adjustment is an amount or an indicator credit, not both",
                    "fill amount (money), or indicator + credit (a quantity added to that indicator's actual)")
        elif credit and (a["indicator"] is None or _blank(r.get("credit"))):
            chk.bad(r, "credit" if _blank(r.get("credit")) else "indicator", "an indicator credit needs both "
                    "the indicator and the credit", "fill both columns")
        elif credit and indicators is not None and a["indicator"] not in indicators:
            chk.bad(r, "indicator", f"indicator '{a['indicator']}' is not scored",
                    f"use one of: {', '.join(sorted(indicators))}")
        aid = chk.text(r, "adjustment_id", required=False) or _derived_id(a)
        if aid in seen:
            chk.bad(r, "adjustment_id", f"adjustment {aid} is also on {seen[aid]}",
                    "give each adjustment its own id (or remove the duplicate row)")
        seen[aid] = r["_row"]
        out.append({"adjustment_id": aid, **a, "_row": r["_row"], "_file": src})
    return _finish("adjustments", src, out, chk.problems, ["adjustment_id", "manager_id", "period", "amount",
                                                           "indicator", "credit", "reason_code", "reason",
                                                           "approved_by", "date"])


def read_disputes(path: str | Path, managers: set[str] | None = None,
                  line_exists: Callable[[str, str, str], bool | None] | None = None) -> pd.DataFrame:
    """The disputes file, checked.  ``line_exists(period, manager, ref)`` says whether the
    manager's statement of that period has the line (None: not known yet)."""
    src, rows, chk = _load(path, "disputes")
    out, seen = [], {}
    for r in rows:
        d = {"dispute_id": chk.text(r, "dispute_id"), "manager_id": chk.member(r, "manager_id", managers, "manager"),
             "period": chk.period(r), "line_ref": chk.text(r, "line_ref"), "raised_on": chk.day(r, "raised_on"),
             "text": chk.text(r, "text", required=False), "status": chk.choice(r, "status", ("open", "accepted", "rejected")),
             "amount": chk.number(r, "amount"), "decided_by": chk.text(r, "decided_by", required=False),
             "decided_on": chk.day(r, "decided_on", required=False)}
        if d["line_ref"] and REF_CODE.match(d["line_ref"].upper()):
            d["line_ref"] = d["line_ref"].upper()  # the code printed on the statement (p-7d1c0b reads the same)
        if d["line_ref"] and not (REF.match(d["line_ref"]) or REF_CODE.match(d["line_ref"])):
            chk.bad(r, "line_ref", f"'{d['line_ref']}' is not a line reference",
                    "copy the code printed on the statement in the line's 编号/Ref. column, e.g. P-3DBDF6")
        elif d["line_ref"] and d["period"] and d["manager_id"] and line_exists is not None:
            ok = line_exists(d["period"], d["manager_id"], d["line_ref"])
            if ok is False:
                chk.bad(r, "line_ref", f"{d['manager_id']}'s statement of {d['period']} has no line {d['line_ref']}",
                        "copy the reference from that statement")
        if d["status"] in ("accepted", "rejected"):
            for col in ("decided_by", "decided_on"):
                if d[col] is None:
                    chk.bad(r, col, f"a dispute {d['status']} needs {col}", f"fill {col}")
        if d["status"] == "accepted" and d["amount"] is None:
            chk.bad(r, "amount", "an accepted dispute needs the amount it pays (or charges)",
                    "write the amount (0 when nothing is paid)")
        if d["dispute_id"] in seen:
            chk.bad(r, "dispute_id", f"dispute {d['dispute_id']} is also on {seen[d['dispute_id']]}",
                    "give each dispute its own id")
        seen[d["dispute_id"]] = r["_row"]
        out.append({**d, "_row": r["_row"], "_file": src})
    return _finish("disputes", src, out, chk.problems, ["dispute_id", "manager_id", "period", "line_ref", "raised_on",
                                                        "text", "status", "amount", "decided_by", "decided_on"])


def read_signoffs(path: str | Path, managers: set[str] | None = None) -> pd.DataFrame:
    """The sign-off file HR keeps, checked."""
    src, rows, chk = _load(path, "signoffs")
    out, seen = [], {}
    for r in rows:
        s = {"manager_id": chk.member(r, "manager_id", managers, "manager"), "period": chk.period(r),
             "status": chk.choice(r, "status", ("signed", "refused")), "date": chk.day(r, "date"),
             "version": chk.text(r, "version", required=False)}
        if s["version"] and not VERSION.match(s["version"]):
            chk.bad(r, "version", f"'{s['version']}' is not a statement version",
                    "copy the 12-character version printed in the statement's sign-off block")
        k = (s["manager_id"], s["period"])
        if k in seen:
            chk.bad(r, "manager_id", f"{k[0]} has a second sign-off for {k[1]} (also {seen[k]})",
                    "keep one row per manager and period")
        seen[k] = r["_row"]
        out.append({**s, "_row": r["_row"], "_file": src})
    return _finish("signoffs", src, out, chk.problems, ["manager_id", "period", "status", "date", "version"])
