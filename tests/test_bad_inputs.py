"""Bad-input corpus (issue 7, item 3): malformed inputs through the real CLI.

Every case starts from the tiny hand-made dataset (``conftest.tiny_tables``) and a
copy of the repository's methodology files, applies one mutation, and runs
``kpi-workbook validate`` (or ``run`` where the case must prove that nothing is
written).  Each must exit with code 2, print a message naming the file and the
row / column / key and saying what to do (the exact fragments below), print no
traceback, and leave the output folder untouched: absent, or — for the cases with
previous reports — byte for byte as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import pytest
import yaml

from conftest import ROOT, run_cli, tiny_tables, write_tables

pytestmark = pytest.mark.slow  # ~75 CLI processes (a few minutes); deselect with -m "not slow"
METHODOLOGY = ["indicators.yaml", "targets.yaml", "incentives.yaml", "scoring.yaml", "rubric.yaml", "strategies", "weights"]
NOTEBOOKS = ["00_data_quality", "01_target_setting", "02_kpi_decomposition", "03_weighting_scenarios", "04_quarterly_review"]


@dataclass
class Workspace:
    """One case's folder: ``data/`` (tiny tables), ``params/`` (methodology copy and
    ``run.yaml``) and ``out/`` (the output folder named in the params)."""

    root: Path
    tables: dict[str, list[dict]] = field(default_factory=tiny_tables)
    params: dict[str, Any] = field(default_factory=dict)
    command: str = "validate"  # or "run"
    extra_args: list[str] = field(default_factory=list)
    after: list[Callable[[], None]] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def meth(self) -> Path:
        return self.root / "params"

    @property
    def params_file(self) -> Path:
        return self.meth / "run.yaml"

    @property
    def out(self) -> Path:
        return self.root / "out"

    def edit_yaml(self, rel: str, fn: Callable[[Any], Any]) -> None:
        """Load a methodology file, change it with ``fn`` (in place or returned), save it."""
        path = self.meth / rel
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        new = fn(doc)
        path.write_text(yaml.safe_dump(doc if new is None else new, allow_unicode=True, sort_keys=False), encoding="utf-8")

    def append_text(self, rel: str, text: str) -> None:
        path = self.meth / rel
        path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")

    def run_mode(self) -> None:
        self.command = "run"

    def previous_reports(self) -> None:
        """An output folder holding an earlier run's reports (must stay unchanged)."""
        self.command = "run"
        team = self.out / "2026Q3" / "A"
        team.mkdir(parents=True)
        (team / "00_data_quality.html").write_text("<html>earlier report</html>", encoding="utf-8")
        (team / "kpi_actuals.csv").write_text("manager_id,kpi,value\nM1,sales,1800\n", encoding="utf-8")
        (self.out / "2026Q3" / "index.html").write_text("<html>index</html>", encoding="utf-8")
        manifest = {"tool": "kpi-workbook", "format": 2, "period": "2026Q3", "reports": [
            {"team": "A", "notebook": "00_data_quality", "status": "ok", "html": "A/00_data_quality.html",
             "artifacts": ["kpi_actuals.csv"], "run": "p1-00000001"}], "runs": {"p1-00000001": {}}}
        (self.out / "2026Q3" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def base_params() -> dict[str, Any]:
    return {
        "title": "bad-input test",
        "language": "en",
        "period": "2026Q3",
        "data": {"folder": "../data", "as_of": "2026-10-15"},
        "teams": "all",
        "notebooks": list(NOTEBOOKS),
        "notebook_folder": str(ROOT / "notebooks"),
        "output": {"folder": "../out"},
    }


def digest_tree(folder: Path) -> dict[str, str]:
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def prepare(tmp_path: Path, mutate: Callable[[Workspace], None]) -> Workspace:
    ws = Workspace(tmp_path, params=base_params())
    ws.meth.mkdir(parents=True)
    for name in METHODOLOGY:
        src = ROOT / "params" / name
        (shutil.copytree if src.is_dir() else shutil.copyfile)(src, ws.meth / name)
    for strategy in ("expansion", "loyalty"):  # their regional overrides name the demo's regions
        ws.edit_yaml(f"strategies/{strategy}.yaml", lambda d: {k: v for k, v in d.items() if k != "overrides"})
    mutate(ws)
    write_tables(ws.data, ws.tables)
    if not ws.params_file.exists():  # a case may write its own (e.g. a syntax error)
        ws.params_file.write_text(yaml.safe_dump(ws.params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    for fn in ws.after:
        fn()
    return ws


def cli_args(ws: Workspace) -> list[str]:
    extra = list(ws.extra_args)
    out = str(ws.out)
    if "--out-file" in extra:  # --out names an existing file
        extra.remove("--out-file")
        out = str(ws.root / "afile")
        (ws.root / "afile").write_text("not a folder", encoding="utf-8")
    if "--no-out" in extra:  # the output folder comes from the params
        extra.remove("--no-out")
        return ["run", str(ws.params_file), "--no-progress", *extra]
    if "--out" in extra:  # the case names its own --out
        i = extra.index("--out")
        out = extra.pop(i + 1)
        extra.pop(i)
    if ws.command == "run":
        return ["run", str(ws.params_file), "--out", out, "--no-progress", *extra]
    return ["validate", str(ws.params_file), *extra]


# ----------------------------------------------------------------------------- mutations
# Row numbers are CSV lines (the header is line 1): tiny orders O0..O5 are lines 2..7.


def _set(table: str, row: int, **values: Any) -> Callable[[Workspace], None]:
    def mutate(ws: Workspace) -> None:
        ws.tables[table][row].update(values)
    return mutate


def _drop_column(table: str, column: str, rename: str | None = None) -> Callable[[Workspace], None]:
    def mutate(ws: Workspace) -> None:
        for r in ws.tables[table]:
            value = r.pop(column)
            if rename:
                r[rename] = value
    return mutate


def _missing_file(ws: Workspace) -> None:
    ws.after.append(lambda: (ws.data / "orders.csv").unlink())


def _empty_file(ws: Workspace) -> None:
    ws.after.append(lambda: (ws.data / "orders.csv").write_bytes(b""))


def _header_only(ws: Workspace) -> None:
    ws.after.append(lambda: (ws.data / "orders.csv").write_text(
        "order_id,date,customer_id,manager_id,amount,profit,product_line\n", encoding="utf-8"))


def _gbk(ws: Workspace) -> None:
    def write() -> None:
        text = (ws.data / "managers.csv").read_text(encoding="utf-8")
        (ws.data / "managers.csv").write_bytes(text.encode("gb18030"))
    ws.after.append(write)


def _duplicate_order(ws: Workspace) -> None:
    ws.tables["orders"][3]["order_id"] = "O1"


def _duplicate_manager(ws: Workspace) -> None:
    ws.tables["managers"].append(dict(ws.tables["managers"][0], name="王伟二"))


def _two_teams(ws: Workspace) -> None:
    ws.tables["team_history"] = [
        {"manager_id": "M1", "team_id": "A", "start_month": "2020-01", "end_month": ""},
        {"manager_id": "M1", "team_id": "B", "start_month": "2026-08", "end_month": ""},
    ]


def _history_backwards(ws: Workspace) -> None:
    ws.tables["team_history"] = [{"manager_id": "M1", "team_id": "A", "start_month": "2026-08", "end_month": "2026-05"}]


def _no_data_period(ws: Workspace) -> None:
    ws.extra_args += ["--period", "2025Q1"]


def _params(**values: Any) -> Callable[[Workspace], None]:
    def mutate(ws: Workspace) -> None:
        ws.params.update(values)
    return mutate


def _params_text(text: str) -> Callable[[Workspace], None]:
    def mutate(ws: Workspace) -> None:
        ws.meth.mkdir(parents=True, exist_ok=True)
        ws.params_file.write_text(text, encoding="utf-8")
    return mutate


def _args(*args: str, run: bool = False) -> Callable[[Workspace], None]:
    def mutate(ws: Workspace) -> None:
        ws.extra_args += list(args)
        if run:
            ws.run_mode()
    return mutate


def _missing_params_file(ws: Workspace) -> None:
    ws.after.append(lambda: ws.params_file.unlink())


def _syntax(rel: str) -> Callable[[Workspace], None]:
    def mutate(ws: Workspace) -> None:
        ws.append_text(rel, "\nbroken: [unclosed\n")
    return mutate


def _unknown_key(rel: str) -> Callable[[Workspace], None]:
    def mutate(ws: Workspace) -> None:
        ws.edit_yaml(rel, lambda d: d.update(colour="blue"))
    return mutate


def _strategy_weights(ws: Workspace) -> None:
    ws.edit_yaml("strategies/expansion.yaml", lambda d: d["objectives"][0]["indicators"][0].update(weight=0.9))


def _strategy_cycle(ws: Workspace) -> None:
    def fn(d: dict) -> None:
        a, b = d["objectives"][0], d["objectives"][1]
        a["parent"], b["parent"] = b["id"], a["id"]
    ws.edit_yaml("strategies/expansion.yaml", fn)


def _strategy_unknown_indicator(ws: Workspace) -> None:
    ws.edit_yaml("strategies/expansion.yaml", lambda d: d["objectives"][0]["indicators"][0].update(id="new_custmers"))


def _weights(**values: Any) -> Callable[[Workspace], None]:
    def mutate(ws: Workspace) -> None:
        ws.edit_yaml("weights/current.yaml", lambda d: d["weights"].update(values))
    return mutate


def _weights_unknown_indicator(ws: Workspace) -> None:
    def fn(d: dict) -> None:
        d["weights"]["salez"] = d["weights"].pop("sales")
    ws.edit_yaml("weights/current.yaml", fn)


def _ahp_not_reciprocal(ws: Workspace) -> None:
    ws.edit_yaml("weights/ahp_leadership.yaml", lambda d: d["experts"][0]["matrix"][1].__setitem__(0, "3"))


def _targets_csv(rows: list[dict]) -> Callable[[Workspace], None]:
    def mutate(ws: Workspace) -> None:
        pd.DataFrame(rows).to_csv(ws.meth / "t.csv", index=False)
        ws.edit_yaml("targets.yaml", lambda d: d["sources"].update(targets_csv="t.csv"))
    return mutate


def _mapping(tables: dict | None = None, **edits: Any) -> Callable[[Workspace], None]:
    """A source mapping reading the tiny CSVs as they are (then ``edits`` to one table)."""
    def mutate(ws: Workspace) -> None:
        doc = {"tables": {t: {"files": f"../../data/{t}.csv"} for t in ws.tables}}
        for t, extra in (tables or {}).items():
            doc["tables"][t].update(extra)
        (ws.meth / "sources").mkdir(exist_ok=True)
        (ws.meth / "sources" / "map.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
        ws.params["data"] = {"source": "sources/map.yaml", "as_of": "2026-10-15"}
    return mutate


def _then(*fns: Callable[[Workspace], None]) -> Callable[[Workspace], None]:
    def mutate(ws: Workspace) -> None:
        for fn in fns:
            fn(ws)
    return mutate


P = "run.yaml"  # the run params file's name in every case


def _eof(rel: str) -> int:
    """The line a syntax error appended by :func:`_syntax` is reported on (the file's
    last line + 3), so that editing a shipped methodology file does not break the case."""
    return (ROOT / "params" / rel).read_text(encoding="utf-8").count("\n") + 3


def _key_line(rel: str, key: str) -> int:
    """The line of a top-level ``key:`` in a shipped methodology file."""
    lines = (ROOT / "params" / rel).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(f"{key}:"))
_N_IND = len(yaml.safe_load((ROOT / "params" / "indicators.yaml").read_text(encoding="utf-8"))["indicators"])


def _declare(measure: dict) -> Callable[[Workspace], None]:
    """An indicator added to the library with a measure declared in YAML."""
    entry = {"id": "line_sales", "zh": "产品线销售额", "en": "Line sales", "family": "performance", "unit": "currency",
             "higher_is_better": True, "kind": "hard", "measure": measure}
    return lambda ws: ws.edit_yaml("indicators.yaml", lambda d: d["indicators"].append(entry))


_POINTS = {"table": [{"indicator": "sales", "per": 10000, "points": 8}],
           "month": {"pass_mark": 700, "bonus_base": 1400}}


CASES: list[tuple[str, Callable[[Workspace], None], list[str]]] = [
    # --- data files ---------------------------------------------------------------
    ("missing_file", _then(_missing_file, Workspace.run_mode), ["data/orders.csv: required table 'orders' is missing — provide orders.csv"]),
    ("empty_file", _empty_file, ["orders.csv: the file is empty (no header row) — export the table again with its header"]),
    ("header_only", _header_only, ["orders.csv: table 'orders' has no rows — check the export"]),
    ("missing_column", _drop_column("orders", "amount"), ["orders.csv: header: missing column(s) amount", "add them or map your column names"]),
    ("renamed_column", _drop_column("orders", "amount", "sales_amount"), ["orders.csv: header: missing column(s) amount", "columns found:", "sales_amount"]),
    ("amount_not_number", _set("orders", 2, amount="abc"), ["orders.csv: row 4, column amount: 'abc' is not a number", "correct the value"]),
    ("amount_thousands_sep", _set("orders", 1, amount="1,000"), ["orders.csv: row 3, column amount: '1,000' is not a number"]),
    ("amount_currency_sign", _set("orders", 1, amount="¥1000"), ["orders.csv: row 3, column amount: '¥1000' is not a number"]),
    ("bool_not_bool", _set("complaints", 0, resolved="maybe"), ["complaints.csv: row 2, column resolved: 'maybe' is not true/false"]),
    ("csat_out_of_range", _set("surveys", 1, csat=7), ["surveys.csv: row 3, column csat: '7.0' must be at most 5 — correct the value"]),
    ("unparsable_date", _set("orders", 1, date="03/07/2026"), ["orders.csv: row 3, column date: '03/07/2026' is not a date in YYYY-MM-DD form"]),
    ("impossible_date", _set("orders", 1, date="2026-02-30"), ["orders.csv: row 3, column date: '2026-02-30' is not a date"]),
    ("bad_month", _set("market", 0, month="2026-13"), ["market.csv: row 2, column month: '2026-13' is not a month (YYYY-MM)"]),
    ("negative_amount", _set("orders", 4, amount=-100), ["orders.csv: row 6, column amount: '-100.0' must be at least 0 — correct the value"]),
    ("negative_market", _set("market", 2, market_size=-1), ["market.csv: row 4, column market_size: '-1.0' must be at least 0"]),
    ("duplicate_order_id", _duplicate_order, ["orders.csv: rows 3, 5, column order_id: 'O1' appears more than once", "ids must be unique"]),
    ("duplicate_manager_id", _duplicate_manager, ["managers.csv: rows 2, 4, column manager_id: 'M1' appears more than once"]),
    ("unknown_manager", _set("orders", 3, manager_id="M9"), ["orders.csv: row 5, column manager_id: 'M9' is not in managers.manager_id", "correct the id"]),
    ("unknown_customer", _set("orders", 5, customer_id="C9"), ["orders.csv: row 7, column customer_id: 'C9' is not in customers.customer_id"]),
    ("customer_unknown_manager", _set("customers", 0, manager_id="MX"), ["customers.csv: row 2, column manager_id: 'MX' is not in managers.manager_id"]),
    ("two_teams_one_month", _two_teams, ["team_history.csv: row 3, column start_month: manager 'M1' is in two teams in 2026-08", "end the old membership"]),
    ("history_backwards", _history_backwards, ["team_history.csv: row 2, column end_month: end_month is before start_month"]),
    ("future_date", _set("orders", 2, date="2026-12-01"), ["orders.csv: row 4, column date: 2026-12-01 is in the future (after 2026-10-15) — correct the date"]),
    ("empty_required_cell", _set("managers", 1, name=""), ["managers.csv: row 3, column name: is empty", "fill it in"]),
    ("unknown_segment", _set("customers", 1, segment="vip"), ["customers.csv: row 3, column segment: 'vip' must be one of key, small, walkin — correct the value"]),
    ("team_id_traversal", _set("managers", 0, team_id="../x"), ["managers.csv: row 2, column team_id: '../x' must use only letters, digits, '-' and '_'"]),
    ("gbk_encoding", _gbk, ["managers.csv: is not UTF-8 (byte 55) — save it as UTF-8, or declare its encoding (e.g. gb18030) in a source mapping"]),
    ("no_data_period", _then(_no_data_period, Workspace.previous_reports), ["--period: no orders in 2025Q1 (the data covers 2026-06-10 to 2026-09-02)", "choose a period inside the data"]),
    ("data_folder_missing", _then(_params(data={"folder": "../nowhere"}), Workspace.run_mode), ["nowhere: data folder not found — check data.folder in your params file"]),
    # --- run params and command line ---------------------------------------------
    ("params_missing", _missing_params_file, [f"{P}: file not found", "check the path"]),
    ("params_yaml_syntax", _params_text("data:\n  folder: [../data\nperiod: 2026Q3\n"), [f"{P}: line 3, column 7: YAML syntax error", "fix the indentation or quoting there"]),
    ("params_not_mapping", _params_text("- 2026Q3\n"), [f"{P}: must be a mapping of keys to values — see params/demo.yaml"]),
    ("params_unknown_key", _then(_params(colour="blue"), Workspace.previous_reports), [f"{P}: key 'colour': unknown key", "remove it or check its spelling"]),
    ("params_unknown_nested_key", _params(output={"folder": "../out", "fromat": "pdf"}), [f"{P}: key 'output.fromat': unknown key"]),
    ("params_bad_period", _params(period="2026Q5"), [f"{P}: key 'period': '2026Q5' is not a review period (write 2026Q3 or 2026-09)"]),
    ("params_folder_and_source", _params(data={"folder": "../data", "source": "sources/x.yaml"}), [f"{P}: key 'data': give either folder (canonical tables) or source (a source mapping), not both or neither"]),
    ("params_bad_type", _params(execution={"timeout_seconds": "soon"}), [f"{P}: key 'execution.timeout_seconds': Input should be a valid integer", "got 'soon'"]),
    ("params_team_traversal", _params(teams=["../x"]), [f"{P}: key 'teams': team ids ['../x'] may only use letters, digits, '-' and '_'"]),
    ("unknown_notebook", _then(_params(notebooks=["00_data_quality", "09_nothing"]), Workspace.run_mode), [f"{P}: key 'notebooks': notebook '09_nothing' not found", "use one of: 00_data_quality"]),
    ("notebook_path", _params(notebooks=["../00_data_quality"]), [f"{P}: key 'notebooks': notebook names ['../00_data_quality'] may only use letters", "no .ipynb, no folders"]),
    ("cli_unknown_team", _args("--team", "Z", run=True), ["--team: unknown team(s): Z", "use one of: A"]),
    ("cli_team_traversal", _args("--team", "../x", run=True), ["--team: team id(s) '../x' are not valid", "letters, digits"]),
    ("cli_bad_period", _args("--period", "2026Q9", run=True), ["--period: '2026Q9' is not a review period — write a quarter as 2026Q3 or a month as 2026-09"]),
    ("cli_period_traversal", _args("--period", "../x", run=True), ["--period: '../x' is not a review period — write a quarter as 2026Q3"]),
    ("cli_bad_language", _args("--language", "fr", run=True), ["--language: 'fr' is not a report language", "use zh or en"]),
    ("cli_bad_executor", _args("--executor", "spark", run=True), ["--executor: 'spark' is not an executor", "use local or dask"]),
    ("params_bad_executor", _params(execution={"executor": "spark"}), [f"{P}: key 'execution.executor'", "'local' or 'dask'"]),
    ("unknown_team_in_params", _params(teams=["A", "B"]), [f"{P}: key 'teams': unknown team(s): B", "use one of: A"]),
    # --- methodology files -------------------------------------------------------
    ("indicators_syntax", _syntax("indicators.yaml"), [f"indicators.yaml: line {_eof('indicators.yaml')}, column 1: YAML syntax error", "fix the indentation or quoting there", "\n1 problem(s) found"]),
    ("indicators_unknown_key", _unknown_key("indicators.yaml"), ["indicators.yaml: key 'colour': unknown key — remove it or check its spelling", "\n1 problem(s) found"]),
    ("strategy_syntax", _syntax("strategies/expansion.yaml"), ["strategies/expansion.yaml: line 137, column 1: YAML syntax error", "fix the indentation or quoting there"]),
    ("strategy_unknown_key", _unknown_key("strategies/expansion.yaml"), ["strategies/expansion.yaml: key 'colour': unknown key — remove it or check its spelling"]),
    ("strategy_weights_sum", _strategy_weights,
     ["strategies/expansion.yaml: objective 'acquire': weights sum to 1.5 (new_customers 0.9 + ", "make them add up to 1 (now off by +0.5)"]),
    ("strategy_cycle", _strategy_cycle,
     ["strategies/expansion.yaml: objective 'acquire': objectives form a cycle: 'acquire' → 'grow' → 'acquire'", "give one of them parent: hard or soft"]),
    ("strategy_unknown_indicator", _strategy_unknown_indicator,
     ["strategies/expansion.yaml: objective 'acquire': unknown indicator 'new_custmers'", "did you mean 'new_customers'?"]),
    ("alt_strategy_missing", _params(alternative_strategy="strategies/nothing.yaml"), [f"{P}: key 'alternative_strategy': strategy file 'strategies/nothing.yaml' not found", "check the path"]),
    ("weights_syntax", _syntax("weights/current.yaml"), ["weights/current.yaml: line 29, column 1: YAML syntax error"]),
    ("weights_unknown_key", _unknown_key("weights/current.yaml"), ["weights/current.yaml: key 'colour': unknown key — remove it or check its spelling"]),
    ("weights_nan", _weights(sales=float("nan")), ["weights/current.yaml: key 'weights.sales': weight is nan (not finite)", "enter a finite number ≥ 0"]),
    ("weights_not_summing", _then(_weights(sales=0.5), Workspace.previous_reports), ["weights/current.yaml: key 'weights': weights add up to 1.2, not to 1 (or 100 %)", "change them so they add up to 1"]),
    ("weights_negative", _weights(sales=-0.3), ["weights/current.yaml: key 'weights.sales': weight -0.3 is negative", "enter a number ≥ 0"]),
    # --- indicators declared in YAML, points plans, position levels (issue 20) --------------
    ("measure_unknown_column", _declare({"table": "orders", "aggregate": "sum", "column": "amout"}),
     [f"indicators.yaml: key 'indicators[{_N_IND}].measure.column': 'amout' is not a column of orders",
      "use one of: order_id, date"]),
    ("measure_unknown_table", _declare({"table": "order", "aggregate": "count"}),
     [f"indicators.yaml: key 'indicators[{_N_IND}].measure.table': 'order' is not a table of the data model",
      "use one of: assignments, balances, complaints"]),
    ("measure_sum_of_text", _declare({"table": "orders", "aggregate": "sum", "column": "product_line"}),
     [f"key 'indicators[{_N_IND}].measure.aggregate': 'sum' needs numbers, and orders.product_line is text",
      "count its rows (count)"]),
    ("measure_and_kpi", _declare({"table": "orders", "aggregate": "count", "kpi": "sales"}),
     [f"indicators.yaml: key 'indicators[{_N_IND}].measure.kpi': unknown key"]),
    ("points_unknown_indicator",
     lambda ws: ws.edit_yaml("incentives.yaml", lambda d: d.update(points={**_POINTS, "table": [
         {"indicator": "salez", "per": 10000, "points": 8}]})),
     ["incentives.yaml: points.table[0].indicator: unknown indicator 'salez'", "did you mean 'sales'?"]),
    ("points_on_a_rate",
     lambda ws: ws.edit_yaml("incentives.yaml", lambda d: d.update(points={**_POINTS, "table": [
         {"indicator": "csat", "per": 0.01, "points": 8}]})),
     ["incentives.yaml: points.table[0].indicator: points are earned per unit of a volume, and 'csat' is a ratio"]),
    ("levels_out_of_order",
     lambda ws: ws.edit_yaml("incentives.yaml", lambda d: d.update(levels={"table": [
         {"level": 2, "base_pay": 7000}, {"level": 1, "base_pay": 6000}]})),
     ["incentives.yaml: levels: list the levels in order from 1 without gaps (1, 2, 3, ...)"]),
    ("levels_unknown_indicator",
     lambda ws: ws.edit_yaml("incentives.yaml", lambda d: d.update(levels={"table": [
         {"level": 1, "base_pay": 6000}, {"level": 2, "base_pay": 7000, "thresholds": {"saels": 1000}}]})),
     ["incentives.yaml: levels.table[1].thresholds.saels: unknown indicator 'saels'"]),
    ("scheme_change_unknown_scheme",
     lambda ws: ws.edit_yaml("scoring.yaml", lambda d: d.update(scheme_changes=[{"from": "2026-07", "scheme": "loyalti"}])),
     ["scoring.yaml: key 'scheme_changes[0].scheme': weight scheme 'loyalti' not found in"]),
    ("weights_unknown_indicator", _weights_unknown_indicator, ["weights/current.yaml: key 'weights': unknown indicator(s): salez", "use ids from"]),
    ("ahp_not_reciprocal", _ahp_not_reciprocal, ["weights/ahp_leadership.yaml: experts[0] (Sales director): cell (sales, new_customers): not reciprocal: 3 × 3 = 9, must be 1",
      "set cell (new_customers, sales) to 1/3"]),
    # the soft appraisal's rubric: a rating must be one of its dimension's levels (params/rubric.yaml)
    ("rating_off_level", lambda ws: ws.tables["ratings"][0].update(score=73),
     ["ratings.csv: row 2, column score: score 73 for dimension attitude is not a level of the rubric "
      "(100, 85, 70, 55, 40) — use one of the rubric's levels"]),
    ("weight_scheme_missing", _params(weight_scheme="nothing"), [f"{P}: key 'weight_scheme': weight scheme 'nothing' not found in", "use one of: ahp_leadership, blended"]),
    # validate sets the targets as the run would: a plan the data cannot serve fails here, not in notebook 01
    # (sales falls back from the missing 2025Q3 to 2026Q2; the tiny data has no walk-in repeat buyers at all)
    ("targets_without_history", _params(notebooks=["01_target_setting"]),
     ["targets.yaml: key 'indicators.walkin_repeat_rate': no manager has data for the base period 2026Q2 "
      "for 'walkin_repeat_rate'", "choose another basis or method, or extend the data"]),
    ("targets_syntax", _syntax("targets.yaml"), [f"targets.yaml: line {_eof('targets.yaml')}, column 1: YAML syntax error"]),
    ("targets_unknown_key", _unknown_key("targets.yaml"), ["targets.yaml: key 'colour': unknown key — remove it or check its spelling"]),
    ("targets_csv_missing", _then(lambda ws: ws.edit_yaml("targets.yaml", lambda d: d["sources"].update(targets_csv="none.csv"))),
     ["targets.yaml: key 'sources.targets_csv': file not found:", "none.csv", "relative to the plan file"]),
    ("targets_csv_unknown_manager", _targets_csv([{"manager_id": "M7", "indicator": "sales", "period": "2026Q3", "target": 1000}]),
     ["t.csv: row 2, column manager_id: unknown manager 'M7'", "use a manager_id from the staff list"]),
    ("targets_csv_zero", _targets_csv([{"manager_id": "M1", "indicator": "sales", "period": "2026Q3", "target": 0}]),
     ["t.csv: row manager_id M1, indicator sales, period 2026Q3, column target: target 0 for 'sales' leaves attainment undefined",
      "give a target above 0"]),
    ("targets_level_zero", lambda ws: ws.edit_yaml("targets.yaml", lambda d: d["indicators"]["csat"].update(level=0)),
     ["targets.yaml: key 'indicators.csat.level': a target of 0 for 'csat' leaves attainment undefined", "give a level above 0"]),
    ("targets_csv_not_number", _targets_csv([{"manager_id": "M1", "indicator": "sales", "period": "2026Q3", "target": "lots"}]),
     ["t.csv: row 2, column target: target 'lots' is not a number", "write a plain number"]),
    # --- source mappings ---------------------------------------------------------
    ("source_unknown_key", _mapping({"orders": {"colour": "blue"}}), ["sources/map.yaml: key 'tables.orders.colour': unknown key — remove it or check its spelling"]),
    ("source_missing_export", _then(_mapping({"orders": {"files": "../../data/orders_2026.csv"}}), Workspace.run_mode),
     ["data/orders_2026.csv: key 'tables.orders.files': file not found", "sources/map.yaml (relative to that mapping file)"]),
    ("source_syntax", _then(_mapping(), lambda ws: ws.append_text("sources/map.yaml", "\n  - [broken\n")), ["sources/map.yaml: line 21, column 3: YAML syntax error"]),
    ("source_missing_column", _mapping({"orders": {"columns": {"amount": "Sales"}}}), ["sources/map.yaml: key 'tables.orders.columns.amount': column 'Sales' not found in", "columns there: order_id, date"]),
]


CASES += [
    ("incentives_syntax", _then(_syntax("incentives.yaml"), _params(notebooks=["04_quarterly_review"])),
     ["incentives.yaml: line", "YAML syntax error", "fix the indentation or quoting there"]),
    ("incentives_unknown_key", _then(_unknown_key("incentives.yaml"), _params(notebooks=["04_quarterly_review"])),
     ["incentives.yaml: colour: unknown key — remove it or fix the spelling"]),
]


# ----------------------------------------------------------------------------- issue 12: more kinds of bad input


def _raw(table: str, fn: Callable[[str], str | bytes]) -> Callable[[Workspace], None]:
    """Rewrite a written table file: ``fn`` gets its text, returns text or bytes."""
    def mutate(ws: Workspace) -> None:
        def edit() -> None:
            path = ws.data / f"{table}.csv"
            new = fn(path.read_text(encoding="utf-8"))
            path.write_bytes(new if isinstance(new, bytes) else new.encode("utf-8"))
        ws.after.append(edit)
    return mutate


def _all(table: str, **values: Any) -> Callable[[Workspace], None]:
    def mutate(ws: Workspace) -> None:
        for row in ws.tables[table]:
            row.update({k: (v(row) if callable(v) else v) for k, v in values.items()})
    return mutate


def _xlsx_bytes(_: str) -> bytes:
    import io

    import openpyxl

    buf = io.BytesIO()
    openpyxl.Workbook().save(buf)
    return buf.getvalue()


def _meth_text(rel: str, fn: Callable[[str], str | bytes]) -> Callable[[Workspace], None]:
    """Rewrite a methodology (or params) file after everything else is written."""
    def mutate(ws: Workspace) -> None:
        def edit() -> None:
            path = ws.meth / rel
            new = fn(path.read_text(encoding="utf-8"))
            path.write_bytes(new if isinstance(new, bytes) else new.encode("utf-8"))
        ws.after.append(edit)
    return mutate


def _append_first_key(text: str) -> str:
    """Append the file's first top-level key once more (a key given twice)."""
    first = next(line for line in text.splitlines() if line[:1].isalpha() and ":" in line)
    return text.rstrip("\n") + "\n" + first.split(":")[0] + ": null\n"


def _gb18030(text: str) -> bytes:
    return ("# 中文注释：此文件以 GB18030 保存\n" + text).encode("gb18030")


def _dormant_team(ws: Workspace) -> None:
    """Team B exists (a manager who left in 2025) but has nobody to review in 2026Q3 (the
    data quality notebook only: the tiny data has no history for the demo's target plan)."""
    ws.params["notebooks"] = ["00_data_quality"]
    ws.tables["managers"].append({"manager_id": "M3", "name": "赵六", "team_id": "B", "region": "R",
                                  "hire_date": "2024-01-01", "leave_date": "2025-06-30"})


def _foreign_period(ws: Workspace) -> None:
    ws.command = "run"
    (ws.out / "2026Q3").mkdir(parents=True)
    (ws.out / "2026Q3" / "budget.xlsx").write_text("someone else's file", encoding="utf-8")


def _blank_lines(text: str) -> str:
    head, rest = text.split("\n", 1)
    return head + "\n\n\n" + rest  # two blank lines after the header: data starts on line 4


def _quoted_newline(text: str) -> str:
    lines = text.split("\n")
    lines[2] = lines[2].replace(",P", ',"P\ncontinued"', 1)  # O1's product line spans two lines
    return "\n".join(lines)


SHIFTED = "03/07/2026"  # a bad date to locate after the file's layout changed
CASES += [
    # --- dates --------------------------------------------------------------------
    ("tz_offset_one_row", _set("orders", 1, date="2026-07-03T10:00:00+08:00"),
     ["orders.csv: row 3, column date: '2026-07-03T10:00:00+08:00' has a time-zone offset", "write the local calendar date as YYYY-MM-DD"]),
    ("tz_offset_all_rows", _all("orders", date=lambda r: r["date"] + "T09:30:00+08:00"),
     ["orders.csv: rows 2, 3, 4, 5, 6 and 1 more, column date: '2026-06-10T09:30:00+08:00' has a time-zone offset"]),
    ("tz_utc_z", _set("visits", 0, date="2026-07-04T01:00:00Z"), ["visits.csv: row 2, column date: '2026-07-04T01:00:00Z' has a time-zone offset"]),
    ("date_year_1", _set("managers", 0, hire_date="0001-01-01"),
     ["managers.csv: row 2, column hire_date: '0001-01-01' is outside the years 1900–2100", "correct the date"]),
    ("date_year_9999", _set("customers", 0, lost_date="9999-12-31"), ["customers.csv: row 2, column lost_date: '9999-12-31' is outside the years 1900–2100"]),
    ("partial_date_year", _then(_set("orders", 1, date="2026"), Workspace.previous_reports),
     ["orders.csv: row 3, column date: '2026' is not a full date (a year or month only) — write the full date as YYYY-MM-DD"]),
    ("partial_date_month", _set("customers", 2, acquired_date="2026-07"), ["customers.csv: row 4, column acquired_date: '2026-07' is not a full date"]),
    ("leave_before_hire", _set("managers", 0, leave_date="2019-12-31"),
     ["managers.csv: row 2, column leave_date: leave_date 2019-12-31 is before hire_date 2020-01-01", "correct one of the two dates"]),
    ("lost_before_acquired", _set("customers", 1, lost_date="2025-05-01"),
     ["customers.csv: row 3, column lost_date: lost_date 2025-05-01 is before acquired_date 2025-06-01"]),
    # --- numbers --------------------------------------------------------------------
    ("amount_1e308", _then(_set("orders", 2, amount="1e308"), Workspace.previous_reports),
     ["orders.csv: row 4, column amount: '1e308' is too large to compute with (more than 1,000,000,000,000,000)", "check the unit"]),
    ("amount_1e16", _set("orders", 0, amount="1e16"), ["orders.csv: row 2, column amount: '1e16' is too large to compute with"]),
    ("amount_inf", _set("orders", 3, amount="inf"), ["orders.csv: row 5, column amount: 'inf' is too large to compute with (infinite)"]),
    ("market_huge", _set("market", 1, market_size="5e20"), ["market.csv: row 3, column market_size: '5e20' is too large to compute with"]),
    ("profit_negative_huge", _set("orders", 1, profit="-2e15"), ["orders.csv: row 3, column profit: '-2e15' is too large to compute with"]),
    # --- text -------------------------------------------------------------------------
    ("control_char_in_name", _set("managers", 0, name="王\x07伟"),
     ["managers.csv: row 2, column name: '王\\x07伟' contains a control character", "remove it"]),
    ("escape_char_in_id", _set("customers", 3, customer_id="C4\x1b[31m"),
     ["customers.csv: row 5, column customer_id: 'C4\\x1b[31m' contains a control character"]),
    # --- file shape -------------------------------------------------------------------
    ("duplicate_header", _raw("orders", lambda t: t.replace("product_line", "amount", 1)),
     ["orders.csv: header: column name 'amount' (columns 5 and 7) appears twice", "cannot tell which one holds the data"]),
    ("xlsx_saved_as_csv", _raw("orders", _xlsx_bytes),
     ["orders.csv: is not a CSV text file: it looks like an Excel workbook (.xlsx) or another ZIP file", "export the table as CSV (UTF-8)"]),
    ("nul_filled_csv", _then(_raw("orders", lambda _: b"\x00" * 50_000), Workspace.previous_reports),
     ["orders.csv: is not a CSV text file: it looks like a binary file (it contains NUL bytes)"]),
    ("xls_saved_as_csv", _raw("customers", lambda _: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 40),
     ["customers.csv: is not a CSV text file: it looks like an Excel 97-2003 workbook (.xls)"]),
    ("parquet_saved_as_csv", _raw("visits", lambda _: b"PAR1" + bytes(range(256)) * 8 + b"PAR1"),
     ["visits.csv: is not a CSV text file: it looks like a Parquet file"]),
    ("pdf_saved_as_csv", _raw("managers", lambda _: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n" + bytes(range(256))),
     ["managers.csv: is not a CSV text file: it looks like a PDF document"]),
    ("blank_lines_keep_line_numbers", _then(_set("orders", 2, date=SHIFTED), _raw("orders", _blank_lines)),
     ["orders.csv: row 6, column date: '03/07/2026' is not a date in YYYY-MM-DD form"]),
    ("quoted_newline_keeps_line_numbers", _then(_set("orders", 2, date=SHIFTED), _raw("orders", _quoted_newline)),
     ["orders.csv: row 5, column date: '03/07/2026' is not a date in YYYY-MM-DD form"]),
    # --- teams --------------------------------------------------------------------------
    ("team_nobody_to_review", _then(_dormant_team, _args("--team", "B", run=True)),
     ["--team: team(s) B have no manager to review in 2026Q3", "leave them out, choose another period"]),
    ("team_nobody_in_params", _then(_dormant_team, _params(teams=["A", "B"])),
     [f"{P}: key 'teams': team(s) B have no manager to review in 2026Q3"]),
    # --- YAML: keys given twice, encodings, binary ----------------------------------------
    ("params_duplicate_key", _params_text("period: 2026Q3\ndata: {folder: ../data}\nperiod: 2026Q2\n"),
     [f"{P}: line 3: key 'period' appears twice (lines 1 and 3)", "only the last would count"]),
    ("indicators_duplicate_key", _meth_text("indicators.yaml", _append_first_key), ["indicators.yaml: line", "key 'indicators' appears twice (lines 9 and"]),
    ("targets_duplicate_key", _meth_text("targets.yaml", _append_first_key), ["targets.yaml: line", f"key 'sources' appears twice (lines {_key_line('targets.yaml', 'sources')} and"]),
    ("scoring_duplicate_key", _then(_meth_text("scoring.yaml", _append_first_key), _params(notebooks=["04_quarterly_review"])),
     ["scoring.yaml: line", "key 'weight_scheme' appears twice (lines 11 and"]),
    ("incentives_duplicate_key", _then(_meth_text("incentives.yaml", _append_first_key), _params(notebooks=["04_quarterly_review"])),
     ["incentives.yaml: line", "key 'name' appears twice (lines 9 and"]),
    ("weights_duplicate_key", _meth_text("weights/current.yaml", _append_first_key), ["weights/current.yaml: line", "key 'name' appears twice (lines 5 and"]),
    ("strategy_duplicate_key", _meth_text("strategies/expansion.yaml", _append_first_key),
     ["strategies/expansion.yaml: line", "key 'id' appears twice (lines 1 and"]),
    ("nested_duplicate_key", _meth_text("targets.yaml", lambda t: re.sub(r"(?m)^(backtest:.*)$", r"\1\n  periods: 3", t, count=1)),
     ["targets.yaml: line", "key 'periods' appears twice"]),
    ("incentives_gb18030", _then(_meth_text("incentives.yaml", _gb18030), _params(notebooks=["04_quarterly_review"])),
     ["incentives.yaml: is not UTF-8 (byte 2) — save it as UTF-8"]),
    ("indicators_gb18030", _meth_text("indicators.yaml", _gb18030), ["indicators.yaml: is not UTF-8 (byte 2)"]),
    ("strategy_gb18030", _meth_text("strategies/expansion.yaml", _gb18030), ["strategies/expansion.yaml: is not UTF-8 (byte 2)"]),
    ("params_gb18030", _meth_text(P, _gb18030), [f"{P}: is not UTF-8 (byte 2)"]),
    ("targets_is_a_png", _meth_text("targets.yaml", lambda _: b"\x89PNG\r\n\x1a\n" + bytes(range(256))),
     ["targets.yaml: is not a YAML text file: it looks like a PNG image"]),
    # --- output folders -------------------------------------------------------------------
    ("out_is_a_file", _args("--out-file", run=True), ["--out: output folder", "afile is a file, not a folder — name a folder for the reports"]),
    ("out_system_folder", _args("--out", "/etc", run=True), ["--out: output folder /etc is a system folder"]),
    ("params_output_system_folder", _then(_params(output={"folder": "/usr/local/share"}), _args("--no-out", run=True)),
     [f"{P}: key 'output.folder': output folder /usr/local/share is a system folder"]),
    ("params_output_outside_project", _then(_params(output={"folder": "../../elsewhere"}), _args("--no-out", run=True)),
     [f"{P}: key 'output.folder': output folder", "is outside the params file's project folder", "name this one on the command line with --out"]),
    ("foreign_period_folder", _foreign_period,
     ["2026Q3 exists and is not a report folder of kpi-workbook (no manifest.json of ours in it)", "it is never overwritten"]),
    # --- run settings -----------------------------------------------------------------------
    ("kernel_missing", _params(execution={"kernel": "python-nope"}),
     [f"{P}: key 'execution.kernel': Jupyter kernel 'python-nope' is not installed", "jupyter kernelspec list"]),
    # --- source mappings ----------------------------------------------------------------------
    ("source_duplicate_header", _then(_mapping(), _raw("orders", lambda t: t.replace("product_line", "amount", 1))),
     ["data/orders.csv: header: column name 'amount' (columns 5 and 7) appears twice"]),
    ("source_binary_file", _then(_mapping(), _raw("orders", _xlsx_bytes)),
     ["data/orders.csv: is not a text (CSV) file: it looks like an Excel workbook (.xlsx)"]),
    ("source_tz_offset", _then(_mapping(), _set("orders", 1, date="2026-07-03T10:00:00+08:00")),
     ["data/orders.csv: row 3, column date: '2026-07-03T10:00:00+08:00' has a time-zone offset"]),
    ("source_blank_lines", _then(_mapping(), _set("orders", 2, date=SHIFTED), _raw("orders", _blank_lines)),
     ["data/orders.csv: row 6, column date: '03/07/2026' is not a date"]),
    ("source_date_year_1", _then(_mapping(), _set("customers", 0, acquired_date="0001-01-01")),
     ["data/customers.csv: row 2, column acquired_date: '0001-01-01' is outside the years 1900–2100"]),
    ("source_duplicate_key", _then(_mapping(), _meth_text("sources/map.yaml", _append_first_key)),
     ["sources/map.yaml: line", "key 'tables' appears twice (lines 1 and"]),
]


# --- the files HR keeps and the results store (issue 17) -------------------------------------

ADJ_HEAD = "manager_id,period,amount,indicator,credit,reason_code,reason,approved_by,date\n"
DISP_HEAD = "dispute_id,manager_id,period,line_ref,raised_on,text,status,amount,decided_by,decided_on\n"
SIGN_HEAD = "manager_id,period,status,date,version\n"


def _hr(kind: str, text: str | bytes, name: str = "") -> Callable[[Workspace], None]:
    """Write an HR file (adjustments, disputes or signoffs) beside the params and name it in ``record``."""
    def mutate(ws: Workspace) -> None:
        fname = name or f"{kind}.csv"
        path = ws.meth / fname
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        ws.params.setdefault("record", {})[kind] = fname
    return mutate


def _store_file(content: bytes | None = None, schema: int | None = None) -> Callable[[Workspace], None]:
    """A results store at params/record.duckdb: garbage bytes, or a DuckDB file of schema ``schema``."""
    def mutate(ws: Workspace) -> None:
        path = ws.meth / "record.duckdb"
        if content is not None:
            path.write_bytes(content)
        else:
            import duckdb

            with duckdb.connect(str(path)) as c:
                c.execute("CREATE TABLE record_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
                c.execute("INSERT INTO record_meta VALUES ('schema_version', ?)", [str(schema)])
        ws.params.setdefault("record", {})["store"] = "record.duckdb"
    return mutate


A = "params/adjustments.csv"
D = "params/disputes.csv"
S = "params/signoffs.csv"
CASES += [
    ("adj_amount_not_number", _hr("adjustments", ADJ_HEAD + "M1,2026Q3,12x,,,DATA_FIX,,王芳,2026-10-12\n"),
     [f"{A}: row 2, column amount: '12x' is not a number — write a plain number"]),
    ("adj_neither_amount_nor_credit", _hr("adjustments", ADJ_HEAD + "M1,2026Q3,,,,DATA_FIX,,王芳,2026-10-12\n"),
     [f"{A}: row 2, column amount: give either an amount, or an indicator and a credit"]),
    ("adj_amount_and_credit", _hr("adjustments", ADJ_HEAD + "M1,2026Q3,100,sales,5,DATA_FIX,,王芳,2026-10-12\n"),
     [f"{A}: row 2, column amount: an adjustment is an amount or an indicator credit, not both"]),
    ("adj_unknown_manager", _hr("adjustments", ADJ_HEAD + "M9,2026Q3,100,,,DATA_FIX,,王芳,2026-10-12\n"),
     [f"{A}: row 2, column manager_id: manager 'M9' is not in the data — check the manager"]),
    ("adj_bad_period", _hr("adjustments", ADJ_HEAD + "M1,2026Q5,100,,,DATA_FIX,,王芳,2026-10-12\n"),
     [f"{A}: row 2, column period: '2026Q5' is not a period — write a quarter (2026Q3) or a month (2026-09)"]),
    ("adj_bad_date", _hr("adjustments", ADJ_HEAD + "M1,2026Q3,100,,,DATA_FIX,,王芳,12/10/2026\n"),
     [f"{A}: row 2, column date: '12/10/2026' is not a date — write YYYY-MM-DD"]),
    ("adj_no_approver", _hr("adjustments", ADJ_HEAD + "M1,2026Q3,100,,,DATA_FIX,,,2026-10-12\n"),
     [f"{A}: row 2, column approved_by: approved_by is empty — fill it in"]),
    ("adj_lowercase_code", _hr("adjustments", ADJ_HEAD + "M1,2026Q3,100,,,data fix,,王芳,2026-10-12\n"),
     [f"{A}: row 2, column reason_code: 'data fix' is not a reason code — use capitals, digits and _"]),
    ("adj_unknown_indicator", _hr("adjustments", ADJ_HEAD + "M1,2026Q3,,turnover,5,DATA_FIX,,王芳,2026-10-12\n"),
     [f"{A}: row 2, column indicator: indicator 'turnover' is not scored — use one of:"]),
    ("adj_unknown_column", _hr("adjustments", ADJ_HEAD.replace("\n", ",note\n") + "M1,2026Q3,100,,,DATA_FIX,,王芳,2026-10-12,x\n"),
     [f"{A}: column note: unknown column 'note' — use only:"]),
    ("adj_missing_column", _hr("adjustments", "manager_id,period,amount,reason_code,date\nM1,2026Q3,100,DATA_FIX,2026-10-12\n"),
     [f"{A}: column 'approved_by' is missing — add it"]),
    ("adj_missing_file", _then(_params(record={"adjustments": "nope.csv"})),
     ["params/nope.csv: the adjustments file does not exist — create it, or remove record.adjustments from the params"]),
    ("adj_xlsx", _hr("adjustments", b"PK\x03\x04", name="adjustments.xlsx"),
     ["params/adjustments.xlsx: the adjustments file must be .csv or .yaml — save it as CSV (UTF-8) or YAML"]),
    ("adj_yaml_not_list", _hr("adjustments", "manager_id: M1\nperiod: 2026Q3\n", name="adjustments.yaml"),
     ["params/adjustments.yaml: the adjustments file (YAML) must be a list of entries"]),
    ("adj_yaml_bad_entry", _hr("adjustments", "- {manager_id: M1, period: 2026Q3, amount: 1e400x, reason_code: X_Y,"
                                              " approved_by: a, date: 2026-10-12}\n", name="adjustments.yaml"),
     ["params/adjustments.yaml: entry 1, column amount: '1e400x' is not a number"]),
    ("adj_gb18030", _hr("adjustments", (ADJ_HEAD + "M1,2026Q3,100,,,DATA_FIX,差旅,王芳,2026-10-12\n").encode("gb18030")),
     [f"{A}: is not UTF-8 — save it as CSV UTF-8"]),
    ("adj_run_keeps_reports", _then(Workspace.previous_reports,
                                    _hr("adjustments", ADJ_HEAD + "M1,2026Q3,abc,,,DATA_FIX,,王芳,2026-10-12\n")),
     [f"{A}: row 2, column amount: 'abc' is not a number"]),
    ("dispute_bad_status", _hr("disputes", DISP_HEAD + "D1,M1,2026Q3,I.sales,2026-10-20,x,pending,,,\n"),
     [f"{D}: row 2, column status: 'pending' is not one of open, accepted, rejected"]),
    ("dispute_bad_ref", _hr("disputes", DISP_HEAD + "D1,M1,2026Q3,commission line 2,2026-10-20,x,open,,,\n"),
     [f"{D}: row 2, column line_ref: 'commission line 2' is not a line reference — copy the code printed on the statement"]),
    ("dispute_accepted_no_amount", _hr("disputes", DISP_HEAD + "D1,M1,2026Q3,I.sales,2026-10-20,x,accepted,,李强,2026-10-25\n"),
     [f"{D}: row 2, column amount: an accepted dispute needs the amount it pays (or charges)"]),
    ("dispute_decided_no_one", _hr("disputes", DISP_HEAD + "D1,M1,2026Q3,I.sales,2026-10-20,x,rejected,,,\n"),
     [f"{D}: row 2, column decided_by: a dispute rejected needs decided_by", f"{D}: row 2, column decided_on:"]),
    ("dispute_duplicate_id", _hr("disputes", DISP_HEAD + "D1,M1,2026Q3,I.sales,2026-10-20,x,open,,,\n"
                                                         "D1,M2,2026Q3,T.total,2026-10-21,y,open,,,\n"),
     [f"{D}: row 3, column dispute_id: dispute D1 is also on row 2"]),
    ("signoff_bad_status", _hr("signoffs", SIGN_HEAD + "M1,2026Q3,ok,2026-10-28,\n"),
     [f"{S}: row 2, column status: 'ok' is not one of signed, refused"]),
    ("signoff_bad_version", _hr("signoffs", SIGN_HEAD + "M1,2026Q3,signed,2026-10-28,v1\n"),
     [f"{S}: row 2, column version: 'v1' is not a statement version"]),
    ("signoff_twice", _hr("signoffs", SIGN_HEAD + "M1,2026Q3,signed,2026-10-28,\nM1,2026Q3,refused,2026-10-29,\n"),
     [f"{S}: row 3, column manager_id: M1 has a second sign-off for 2026Q3 (also row 2)"]),
    ("store_damaged", _then(_store_file(content=b"not a database" * 100), Workspace.run_mode),
     ["record.duckdb: the results store is not a DuckDB database or is damaged"]),
    ("store_newer_schema", _then(_store_file(schema=99), Workspace.run_mode),
     ["record.duckdb: the results store has schema version 99; this kpi-workbook reads up to version",
      "upgrade kpi-workbook"]),
    ("store_unreachable", _then(_params(record={"store": "postgresql+psycopg://kpi:secret@127.0.0.1:1/record"}),
                                Workspace.run_mode),
     ["postgresql+psycopg://kpi:***@127.0.0.1:1/record: the results store cannot be reached"]),
]


@dataclass
class Outcome:
    proc: Any
    existed: bool
    before: dict[str, str]
    after: dict[str, str]
    entries: list[str]


def _play(root: Path, mutate: Callable[[Workspace], None]) -> Outcome:
    ws = prepare(root, mutate)
    existed, before = ws.out.exists(), digest_tree(ws.out)
    proc = run_cli(*cli_args(ws), timeout=180)
    entries = sorted(p.name for p in ws.out.iterdir()) if ws.out.exists() else []
    return Outcome(proc, existed, before, digest_tree(ws.out), entries)


@pytest.fixture(scope="module")
def outcomes(request, tmp_path_factory) -> dict[str, Outcome]:
    """Every selected case, run a few at a time (each is one CLI process, ~2-3 s)."""
    wanted = {item.callspec.params["case_id"] for item in request.session.items
              if getattr(item, "callspec", None) is not None and "case_id" in item.callspec.params}
    todo = [c for c in CASES if c[0] in wanted]
    with ThreadPoolExecutor(max_workers=max(2, min(6, os.cpu_count() or 2))) as pool:
        # the case folders are made here, not in the threads: pytest's tmp_path_factory is not thread-safe
        roots = {c[0]: tmp_path_factory.mktemp(c[0]) for c in todo}
        done = pool.map(lambda c: _play(roots[c[0]], c[1]), todo)
        return {c[0]: o for c, o in zip(todo, done)}


@pytest.mark.parametrize("case_id, fragments", [pytest.param(c[0], c[2], id=c[0]) for c in CASES])
def test_bad_input(outcomes: dict[str, Outcome], case_id: str, fragments: list[str]) -> None:
    o = outcomes[case_id]
    output = o.proc.stdout + o.proc.stderr
    assert o.proc.returncode == 2, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    for fragment in fragments:
        assert fragment in o.proc.stderr, f"{fragment!r} not in:\n{o.proc.stderr[-3000:]}"
    assert "nothing was run or written" in o.proc.stderr
    if o.existed:
        assert o.after == o.before  # the previous reports, byte for byte
        assert o.entries == ["2026Q3"]  # no staging or work folders left beside them
    else:
        assert o.entries == [] and not o.after  # the output folder was not created


def test_corpus_size() -> None:
    assert len(CASES) >= 120 and len({c[0] for c in CASES}) == len(CASES)


def test_a_dormant_team_is_left_out_of_teams_all_with_a_note(tmp_path) -> None:
    """With ``teams: all`` a team that has nobody to review in the period is not an error:
    validate and run leave it out and say so (named with --team it is an error, above)."""
    ws = prepare(tmp_path, _dormant_team)
    proc = run_cli("validate", str(ws.params_file), timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "(period 2026Q3, 1 teams," in proc.stdout
    assert "note: team(s) with no manager to review in 2026Q3 are left out: B" in proc.stdout
