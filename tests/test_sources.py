"""Source mappings (helpers.data.sources): every feature on small exports written here, and
the public "Sample - Superstore" export end to end, checked by a second method.

The Superstore data lives in ../shared/data/superstore beside the repository; its
tests skip when it is missing, except under CI (CI=true), where they fail.
"""

from __future__ import annotations

import csv
import math
import os
import sqlite3
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml

from helpers.errors import InputError
from helpers.data.sources import NumberFormat, decode, load_mapped, parse_numbers, quality_summary, read_mapping, slugify

from conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
SUPERSTORE = Path(__file__).resolve().parents[2] / "shared" / "data" / "superstore"
SUPERSTORE_CSV = SUPERSTORE / "Sample - Superstore.csv"
AS_OF = pd.Timestamp("2026-10-01")

MANAGERS = {"rows": [
    {"manager_id": "M1", "name": "王伟", "team_id": "east-1", "region": "华东", "hire_date": "2020-01-01", "leave_date": None},
    {"manager_id": "M2", "name": "李娜", "team_id": "east-1", "region": "华东", "hire_date": "2020-01-01", "leave_date": None},
]}
CUSTOMERS = {"rows": [
    {"customer_id": "C1", "manager_id": "M1", "segment": "key", "acquired_date": "2021-01-01", "lost_date": None},
    {"customer_id": "C2", "manager_id": "M2", "segment": "small", "acquired_date": "2021-01-01", "lost_date": None},
]}
ORDER_COLUMNS = {"order_id": "单号", "date": "日期", "customer_id": "客户", "manager_id": "经理", "amount": "金额",
                 "profit": "毛利", "product_line": "产品线"}
HEADER = "单号,日期,客户,经理,金额,毛利,产品线\n"


def write_mapping(folder: Path, tables: dict, lookups: dict | None = None, name: str = "map.yaml") -> Path:
    doc: dict = {"tables": {"managers": MANAGERS, "customers": CUSTOMERS, **tables}}
    if lookups:
        doc["lookups"] = lookups
    path = folder / name
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def orders_source(files, **extra) -> dict:
    return {"files": files, "columns": ORDER_COLUMNS, **extra}


def problems(path: Path, as_of: pd.Timestamp = AS_OF) -> list[str]:
    with pytest.raises(InputError) as exc:
        load_mapped(path, as_of=as_of)
    return [str(p) for p in exc.value.problems]


# --------------------------------------------------------------------------- encodings


def test_gb18030_auto_detected_and_reported(tmp_path):
    text = HEADER + "O1,2026-07-01,C1,M1,100,10,华东大区冷饮\n"
    (tmp_path / "orders.csv").write_bytes(text.encode("gb18030"))
    path = write_mapping(tmp_path, {"orders": orders_source("orders.csv")})
    ds = load_mapped(path, as_of=AS_OF)
    assert ds.orders["product_line"].tolist() == ["华东大区冷饮"]
    (read,) = [r for r in ds.report.reads if r.table == "orders"]
    # the header is ASCII-free: its first byte is already not UTF-8 (GB18030 lead byte of 单)
    assert read.encoding == "gb18030 (not UTF-8 at byte 0)"
    assert any("gb18030" in line for line in quality_summary(ds.report))


def test_declared_encoding_wrong_names_file_and_byte(tmp_path):
    (tmp_path / "orders.csv").write_bytes((HEADER + "O1,2026-07-01,C1,M1,100,10,冷饮\n").encode("gbk"))
    path = write_mapping(tmp_path, {"orders": orders_source("orders.csv", encoding="utf-8")})
    (msg,) = problems(path)
    assert "orders.csv: encoding: is not valid utf-8 (byte 0)" in msg and "gb18030" in msg
    # declaring it works
    path = write_mapping(tmp_path, {"orders": orders_source("orders.csv", encoding="gbk")})
    assert load_mapped(path, as_of=AS_OF).orders["product_line"].tolist() == ["冷饮"]


def test_bom_csv(tmp_path):
    (tmp_path / "orders.csv").write_bytes(b"\xef\xbb\xbf" + (HEADER + "O1,2026-07-01,C1,M1,100,10,P\n").encode("utf-8"))
    path = write_mapping(tmp_path, {"orders": orders_source("orders.csv")})
    ds = load_mapped(path, as_of=AS_OF)
    assert ds.orders["order_id"].tolist() == ["O1"]  # header '\ufeff单号' would not have matched
    assert [r.encoding for r in ds.report.reads if r.table == "orders"] == ["utf-8-sig (BOM)"]
    # a declared utf-8 also drops the BOM
    text, enc = decode(b"\xef\xbb\xbfa,b\n", "utf-8", "x.csv")
    assert (text, enc) == ("a,b\n", "utf-8")


# --------------------------------------------------------------------------- numbers and dates


def test_parse_numbers_by_hand():
    s = pd.Series(["¥1,234.50", "1,000", "(2,500.25)", "-3", "12", None, "1,23", "1.234,5"])
    values, bad = parse_numbers(s, NumberFormat(thousands=",", currency=["¥"]))
    assert values.tolist()[:5] == [1234.5, 1000.0, -2500.25, -3.0, 12.0]
    assert pd.isna(values[5]) and not bad[5]  # empty stays empty, not an error
    # '1,23' breaks the thousands grouping; '1.234,5' has a '.' before a ',' under decimal '.'
    assert bad.tolist() == [False] * 6 + [True, True]
    eu = pd.Series(["1.234,50 €", "€ 12,5", "1 234,50 €", "0,75"])
    values, bad = parse_numbers(eu, NumberFormat(decimal=",", thousands=".", currency=["€"]))
    assert values.tolist()[:2] == [1234.5, 12.5] and values[3] == 0.75
    assert bad.tolist() == [False, False, True, False]  # a space is not the declared separator
    values, bad = parse_numbers(eu[2:3], NumberFormat(decimal=",", thousands=" ", currency=["€"]))
    assert values.tolist() == [1234.5] and not bad.any()


def test_numbers_and_dates_in_a_mapping(tmp_path):
    # DD/MM/YY dates, '¥1,234.50' amounts
    (tmp_path / "orders.csv").write_text(
        HEADER + 'O1,03/01/26,C1,M1,"¥1,234.50",¥100,P\nO2,28/02/26,C2,M2,"¥2,000",(¥50.5),P\n', encoding="utf-8")
    spec = orders_source("orders.csv", dates={"date": "%d/%m/%y"}, numbers={"thousands": ",", "currency": ["¥"]})
    ds = load_mapped(write_mapping(tmp_path, {"orders": spec}), as_of=AS_OF)
    assert ds.orders["date"].tolist() == [pd.Timestamp("2026-01-03"), pd.Timestamp("2026-02-28")]
    assert ds.orders["amount"].tolist() == [1234.5, 2000.0]
    assert ds.orders["profit"].tolist() == [100.0, -50.5]


def test_bad_number_and_date_name_file_row_and_export_column(tmp_path):
    (tmp_path / "orders.csv").write_text(
        HEADER + "O1,03/01/26,C1,M1,100,1,P\nO2,31/02/26,C1,M1,1.5k,1,P\nO3,01/03/26,C2,M2,7,1,P\n", encoding="utf-8")
    spec = orders_source("orders.csv", dates={"date": ["%d/%m/%y", "%Y-%m-%d"]})
    msgs = problems(write_mapping(tmp_path, {"orders": spec}))
    # data row 2 is line 3 of the file (header = line 1)
    assert any("orders.csv: row 3, column 日期 (→ date): '31/02/26' is not a date in the form %d/%m/%y or %Y-%m-%d" in m for m in msgs)
    assert any("orders.csv: row 3, column 金额 (→ amount): '1.5k' is not a number" in m and "numbers" in m for m in msgs)


# --------------------------------------------------------------------------- value maps


def _segment_export(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(HEADER + "O1,2026-07-01,C1,M1,100,10,P\n", encoding="utf-8")
    (tmp_path / "customers.csv").write_text(
        "id,mgr,type,since\nC1,M1,大客户,2021-01-01\nC2,M1,散客,2021-01-01\nC3,M1,VIP,2021-01-01\nC4,M1,VIP,2021-01-01\n",
        encoding="utf-8")


def _customers(unmatched: str, **extra) -> dict:
    return {"files": "customers.csv",
            "columns": {"customer_id": "id", "manager_id": "mgr", "segment": "type", "acquired_date": "since"},
            "constants": {"lost_date": None},
            "values": {"segment": {"map": {"大客户": "key", "小客户": "small", "散客": "walkin"}, "unmatched": unmatched, **extra}}}


def test_value_map_miss_is_an_error_with_rows(tmp_path):
    _segment_export(tmp_path)
    path = write_mapping(tmp_path, {"orders": orders_source("orders.csv"), "customers": _customers("error")})
    (msg,) = problems(path)
    assert "customers.csv: rows 4, 5, column type (→ segment): 'VIP' is not in the value map for customers.segment" in msg


def test_value_map_miss_dropped_or_defaulted_is_reported(tmp_path):
    _segment_export(tmp_path)
    path = write_mapping(tmp_path, {"orders": orders_source("orders.csv"), "customers": _customers("drop")})
    ds = load_mapped(path, as_of=AS_OF)
    assert ds.customers["customer_id"].tolist() == ["C1", "C2"]
    (miss,) = ds.report.misses
    assert (miss.value, miss.rows, miss.where, miss.action) == ("VIP", 2, "rows 4, 5, column type (→ segment)", "rows dropped")
    (drop,) = ds.report.dropped
    assert drop.rows == 2 and drop.where == "rows 4, 5"
    path = write_mapping(tmp_path, {"orders": orders_source("orders.csv"),
                                    "customers": _customers("default", default="small")})
    ds = load_mapped(path, as_of=AS_OF)
    assert ds.customers["segment"].tolist() == ["key", "walkin", "small", "small"]
    assert any("'VIP' is not in the value map (2 row(s)); replaced by 'small'" in str(w) for w in ds.warnings)


def test_value_map_keep_leaves_it_to_validation(tmp_path):
    _segment_export(tmp_path)
    path = write_mapping(tmp_path, {"orders": orders_source("orders.csv"), "customers": _customers("keep")})
    (msg,) = problems(path)
    # the data model's rule, pointed back at the export's rows and column
    assert "customers.csv: rows 4, 5, column type (→ segment): 'VIP' must be one of key, small, walkin" in msg


# --------------------------------------------------------------------------- files


def test_glob_concatenates_and_duplicates_name_both_files(tmp_path):
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "orders-2026-07.csv").write_text(HEADER + "O1,2026-07-01,C1,M1,100,10,P\nO2,2026-07-02,C1,M1,50,5,P\n")
    (tmp_path / "exports" / "orders-2026-08.csv").write_text(HEADER + "O3,2026-08-01,C2,M2,70,7,P\n")
    path = write_mapping(tmp_path, {"orders": orders_source("exports/orders-*.csv")})
    ds = load_mapped(path, as_of=AS_OF)
    assert ds.orders["order_id"].tolist() == ["O1", "O2", "O3"]
    assert ds.orders["amount"].sum() == 220.0  # 100 + 50 + 70
    assert [r.rows for r in ds.report.reads if r.table == "orders"] == [2, 1]
    # the same order id in both files: each file's row is named
    (tmp_path / "exports" / "orders-2026-08.csv").write_text(HEADER + "O3,2026-08-01,C2,M2,70,7,P\nO2,2026-08-02,C2,M2,1,1,P\n")
    msgs = problems(path)
    assert any("orders-2026-07.csv: row 3, column 单号 (→ order_id): 'O2' appears more than once" in m for m in msgs)
    assert any("orders-2026-08.csv: row 3, column 单号 (→ order_id): 'O2' appears more than once" in m for m in msgs)


def test_missing_file_and_missing_column(tmp_path):
    path = write_mapping(tmp_path, {"orders": orders_source("nope-*.csv")})
    (msg,) = problems(path)
    assert "nope-*.csv: key 'tables.orders.files': no file matches this pattern" in msg
    (tmp_path / "orders.csv").write_text("单号,日期,客户,经理,金额,毛利\nO1,2026-07-01,C1,M1,100,10\n")
    (msg,) = problems(write_mapping(tmp_path, {"orders": orders_source("orders.csv")}))
    assert "map.yaml: key 'tables.orders.columns.product_line': column '产品线' not found in" in msg
    assert "columns there: 单号, 日期, 客户, 经理, 金额, 毛利" in msg


def test_excel_sheet_and_parquet(tmp_path):
    orders = pd.DataFrame({"单号": [1, 2], "日期": pd.to_datetime(["2026-07-01", "2026-07-05"]),
                           "客户": ["C1", "C2"], "经理": ["M1", "M2"], "金额": [100.5, 200.0], "毛利": [10, 20],
                           "产品线": ["P", "Q"]})
    with pd.ExcelWriter(tmp_path / "crm.xlsx") as xw:
        pd.DataFrame({"x": [1]}).to_excel(xw, sheet_name="Notes", index=False)
        orders.to_excel(xw, sheet_name="Orders", index=False)
    path = write_mapping(tmp_path, {"orders": orders_source("crm.xlsx", sheet="Orders")})
    ds = load_mapped(path, as_of=AS_OF)
    # integer ids from Excel lose the '.0'; real dates stay dates; numbers stay numbers
    assert ds.orders["order_id"].tolist() == ["1", "2"]
    assert ds.orders["date"].tolist() == [pd.Timestamp("2026-07-01"), pd.Timestamp("2026-07-05")]
    assert ds.orders["amount"].sum() == 300.5
    (msg,) = problems(write_mapping(tmp_path, {"orders": orders_source("crm.xlsx", sheet="Sales")}))
    assert "crm.xlsx: key 'tables.orders.sheet': has no sheet 'Sales' — use one of: Notes, Orders" in msg
    orders.to_parquet(tmp_path / "orders.parquet")
    ds = load_mapped(write_mapping(tmp_path, {"orders": orders_source("orders.parquet")}), as_of=AS_OF)
    assert ds.orders["amount"].tolist() == [100.5, 200.0]


def test_xls_reader_missing_names_the_package(tmp_path, monkeypatch):
    """Where the .xls reader is not installed, the message names the package to install."""
    from helpers.data import sources

    def no_reader(*args, **kwargs):
        raise ImportError("Missing optional dependency 'python-calamine'")

    monkeypatch.setattr(sources.pd, "read_excel", no_reader)
    (tmp_path / "crm.xls").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    (msg,) = problems(write_mapping(tmp_path, {"orders": orders_source("crm.xls", sheet="Orders")}))
    assert "crm.xls: reading .xls files needs the Python package python-calamine — install it " \
           "(pip install python-calamine)" in msg


def test_optional_table_left_out_and_said_so(tmp_path):
    (tmp_path / "orders.csv").write_text(HEADER + "O1,2026-07-01,C1,M1,100,10,P\n")
    complaints = {"files": "complaints.csv", "optional": True}
    ds = load_mapped(write_mapping(tmp_path, {"orders": orders_source("orders.csv"), "complaints": complaints}), as_of=AS_OF)
    assert not ds.has("complaints")
    assert any("table complaints left out (optional): file not found" in str(w) for w in ds.warnings)


# --------------------------------------------------------------------------- SQL


def test_sqlite_query(tmp_path):
    con = sqlite3.connect(tmp_path / "crm.db")
    con.execute("create table sales (id text, d text, cust text, rep text, amt real, gp real, line text)")
    con.executemany("insert into sales values (?,?,?,?,?,?,?)",
                    [("O1", "2026-07-01", "C1", "M1", 100.0, 10.0, "P"), ("O2", "2026-07-02", "C2", "M2", 40.0, 4.0, "Q"),
                     ("O3", "2026-07-03", "C2", "M2", 999.0, 9.0, "Q")])
    con.commit()
    con.close()
    sql = {"url": "sqlite:///crm.db", "query": "select * from sales where amt < 500 order by id"}
    cols = {"order_id": "id", "date": "d", "customer_id": "cust", "manager_id": "rep", "amount": "amt",
            "profit": "gp", "product_line": "line"}
    path = write_mapping(tmp_path, {"orders": {"sql": sql, "columns": cols}})
    ds = load_mapped(path, as_of=AS_OF)
    assert ds.orders["amount"].tolist() == [100.0, 40.0]  # O3 filtered by the query
    assert ds.files["orders"] == (tmp_path / "crm.db").resolve() and (tmp_path / "crm.db").resolve() in ds.inputs
    bad = write_mapping(tmp_path, {"orders": {"sql": {**sql, "query": "select * from salez"}, "columns": cols}})
    (msg,) = problems(bad)
    assert "map.yaml: key 'tables.orders.sql.query': the query failed:" in msg and "salez" in msg


def test_duckdb_query(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect(str(tmp_path / "crm.duckdb"))
    con.execute("create table sales (id varchar, d date, cust varchar, rep varchar, amt double, gp double, line varchar)")
    con.execute("insert into sales values ('O1', '2026-07-01', 'C1', 'M1', 100.0, 10.0, 'P'),"
                " ('O2', '2026-07-09', 'C2', 'M2', 60.5, 6.0, 'Q')")
    con.close()
    sql = {"url": "duckdb:///crm.duckdb", "query": "select id as order_id, d as date, cust as customer_id, rep as manager_id,"
                                                  " amt as amount, gp as profit, line as product_line from sales"}
    ds = load_mapped(write_mapping(tmp_path, {"orders": {"sql": sql}}), as_of=AS_OF)
    assert ds.orders["amount"].sum() == 160.5 and ds.orders["date"].max() == pd.Timestamp("2026-07-09")


def test_sql_url_reads_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("KPI_TEST_DB", raising=False)
    sql = {"url": "sqlite:///${KPI_TEST_DB}", "query": "select 1"}
    (msg,) = problems(write_mapping(tmp_path, {"orders": {"sql": sql}}))
    assert "key 'tables.orders.sql.url': environment variable KPI_TEST_DB is not set" in msg


# --------------------------------------------------------------------------- derived fields and tables


def test_derived_tables_by_hand(tmp_path):
    """A small CRM export: order lines with a rep name; a staff list with each rep's
    boss; a returns list.  Expected values worked out by hand below."""
    (tmp_path / "lines.csv").write_text(
        "Order,Line,Day,Client,Rep,Sales,Kind\n"
        "A,1,2025-01-10,K1,Ann,600,x\n"    # K1: 600 + 300 (Ann) + 200 (Bob) = 1100
        "A,2,2025-01-10,K1,Ann,300,x\n"
        "B,1,2026-08-05,K1,Bob,200,y\n"
        "C,1,2025-03-01,K2,Bob,50,x\n"     # K2: 50 + 30 = 80, last order 2025-06-01
        "D,1,2025-06-01,K2,Bob,30,x\n"
        "E,1,2026-09-30,K3,Cy,5000,y\n")   # K3: 5000
    (tmp_path / "staff.csv").write_text("Name,Boss\nAnn,Zhou\nBob,Zhou\nCy,Qian\n")
    (tmp_path / "returns.csv").write_text("Order,Status\nA,Returned\nA,Returned\nE,Returned\nC,Cancelled\n")
    boss_team = {"Zhou": "east-1", "Qian": "east-2"}
    tables = {
        "managers": {"files": "staff.csv", "columns": {"name": "Name"},
                     "constants": {"region": "华东", "hire_date": "2020-01-01", "leave_date": None},
                     "derive": {"manager_id": {"from": "Name", "slug": True},
                                "team_id": {"from": "Boss", "map": boss_team}}},  # team = the manager's manager
        "orders": {"files": "lines.csv", "columns": {"date": "Day", "customer_id": "Client", "amount": "Sales",
                                                     "product_line": "Kind"},
                   "constants": {"profit": 0},
                   "derive": {"order_id": {"template": "{Order}-{Line}"},
                              "manager_id": {"from": "Rep", "lookup": {"table": "managers", "key": "name",
                                                                        "value": "manager_id"}}}},
        "customers": {"from_table": {"table": "orders", "key": "customer_id"},
                      "aggregate": {"acquired_date": {"min": "date"},
                                    "lost_date": {"idle": "date", "months": 12},
                                    "manager_id": {"top": "manager_id", "by": "amount"}},
                      "derive": {"segment": {"revenue_bands": {"bands": [{"min": 1000, "value": "key"},
                                                                         {"min": 100, "value": "small"},
                                                                         {"min": 0, "value": "walkin"}]}}}},
        "complaints": {"files": "returns.csv", "keep": {"Status": ["Returned"]},
                       "join": {"table": "orders", "match": {"Order": "Order"}},
                       "derive": {"complaint_id": {"template": "R-{Order}"}},
                       "constants": {"resolved": True, "escalated": False}, "distinct": ["complaint_id"]},
    }
    path = tmp_path / "map.yaml"
    path.write_text(yaml.safe_dump({"tables": tables}, allow_unicode=True), encoding="utf-8")
    ds = load_mapped(path, as_of=AS_OF)
    m = ds.managers.set_index("manager_id")
    assert m["team_id"].to_dict() == {"ann": "east-1", "bob": "east-1", "cy": "east-2"}
    assert ds.orders["order_id"].tolist() == ["A-1", "A-2", "B-1", "C-1", "D-1", "E-1"]
    assert ds.orders["manager_id"].tolist() == ["ann", "ann", "bob", "bob", "bob", "cy"]
    c = ds.customers.set_index("customer_id")
    assert c["acquired_date"].to_dict() == {"K1": pd.Timestamp("2025-01-10"), "K2": pd.Timestamp("2025-03-01"),
                                            "K3": pd.Timestamp("2026-09-30")}
    # as of 2026-10-01, 12 months idle = last order before 2025-10-01: only K2 (last 2025-06-01)
    assert c["lost_date"].dropna().to_dict() == {"K2": pd.Timestamp("2025-06-01")}
    # K1 bought 900 from Ann and 200 from Bob → Ann; totals 1100 / 80 / 5000 → key / walkin / key
    assert c["manager_id"].to_dict() == {"K1": "ann", "K2": "bob", "K3": "cy"}
    assert c["segment"].to_dict() == {"K1": "key", "K2": "walkin", "K3": "key"}
    # returns: A twice (2 lines each → 4 joined rows) and E once (1) → 5 rows, 2 complaints; C was cancelled
    k = ds["complaints"].set_index("complaint_id")
    assert k["customer_id"].to_dict() == {"R-A": "K1", "R-E": "K3"}
    assert k["manager_id"].to_dict() == {"R-A": "ann", "R-E": "cy"}
    assert k["date"].to_dict() == {"R-A": pd.Timestamp("2025-01-10"), "R-E": pd.Timestamp("2026-09-30")}
    assert k["resolved"].all() and not k["escalated"].any()
    (drop,) = ds.report.dropped
    assert (drop.table, drop.rows, drop.where) == ("complaints", 1, "row 5")
    assert any("5 row(s) merged into 2: one row per complaint_id" in str(n) for n in ds.report.notes)
    assert any("key (≥ 1000): 2, small (≥ 100): 0, walkin (≥ 0): 1" in str(n) for n in ds.report.notes)


def test_lost_date_threshold_and_without_as_of(tmp_path):
    (tmp_path / "orders.csv").write_text(
        HEADER + "O1,2025-01-15,C1,M1,1,0,P\nO2,2026-06-30,C2,M1,1,0,P\n")
    tables = {"orders": orders_source("orders.csv"),
              "customers": {"from_table": {"table": "orders", "key": "customer_id"},
                            "aggregate": {"acquired_date": {"min": "date"},
                                          "lost_date": {"idle": "date", "months": 6, "lost_date": "threshold"},
                                          "manager_id": {"first": "manager_id"}},
                            "constants": {"segment": "small"}}}
    path = write_mapping(tmp_path, tables)
    # no as-of date: the reference is the latest order, 2026-06-30; C1 idle since 2025-01-15 → overdue 2025-07-15
    ds = load_mapped(path)
    assert ds.customers.set_index("customer_id")["lost_date"].dropna().to_dict() == {"C1": pd.Timestamp("2025-07-15")}
    # as of 2027-01-15: C2 (last 2026-06-30) is idle more than 6 months too → lost 2026-12-30
    ds = load_mapped(path, as_of=pd.Timestamp("2027-01-15"))
    assert ds.customers["lost_date"].tolist() == [pd.Timestamp("2025-07-15"), pd.Timestamp("2026-12-30")]


def test_lookup_miss_and_unknown_reference_point_at_export_rows(tmp_path):
    (tmp_path / "orders.csv").write_text(
        "单号,日期,客户,区域,金额,毛利,产品线\nO1,2026-07-01,C1,North,1,0,P\nO2,2026-07-01,C9,South,1,0,P\n")
    cols = {k: v for k, v in ORDER_COLUMNS.items() if k != "manager_id"}
    region = {"rows": [{"区域名": "North", "经理": "M1"}, {"区域名": "East", "经理": "M2"}]}
    spec = {"files": "orders.csv", "columns": cols,
            "derive": {"manager_id": {"from": "区域", "lookup": {"table": "regions", "key": "区域名", "value": "经理"}}}}
    (msg,) = problems(write_mapping(tmp_path, {"orders": spec}, lookups={"regions": region}))
    assert "orders.csv: row 3, column 区域: 'South' is not in the value map for orders.manager_id" in msg
    region["rows"].append({"区域名": "South", "经理": "M2"})
    (msg,) = problems(write_mapping(tmp_path, {"orders": spec}, lookups={"regions": region}))
    # the data model's reference check, pointed back at the export
    assert "orders.csv: row 3, column 客户 (→ customer_id): 'C9' is not in customers.customer_id" in msg
    assert "map.yaml: tables.customers.rows" in msg  # where to add it


def test_slug():
    assert slugify("Home Office") == "home-office" and slugify(" Sadie  Pawthorne ") == "sadie-pawthorne"


# --------------------------------------------------------------------------- the mapping file itself


def test_mapping_errors_name_file_and_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("tables:\n  orders:\n    files: a.csv\n    colums: {}\n  order:\n    files: b.csv\n")
    with pytest.raises(InputError) as exc:
        read_mapping(bad)
    assert [str(p) for p in exc.value.problems] == [
        f"{bad}: key 'tables.orders.colums': unknown key — remove it or check its spelling"]
    bad.write_text("tables:\n  order:\n    files: b.csv\n  orders:\n    files: a.csv\n    columns: {amout: Sales}\n")
    msgs = problems(bad)
    assert f"{bad}: key 'tables.order': 'order' is not a canonical table" in msgs[0]
    assert f"{bad}: key 'tables.orders.columns.amout': 'amout' is not a column of orders" in msgs[1]
    bad.write_text("tables:\n  customers:\n    files: a.csv\n    values: {segment: {map: {Yes: key}}}\n")
    with pytest.raises(InputError) as exc:
        read_mapping(bad)
    assert "tables.customers.values.segment.map" in str(exc.value) and "in quotes" in str(exc.value)
    bad.write_text("tables:\n  orders:\n    files: a.csv\n    sql: {url: 'sqlite:///x.db', query: select 1}\n")
    with pytest.raises(InputError) as exc:
        read_mapping(bad)
    assert "give exactly one of files, sql, rows, from_table" in str(exc.value)


def test_circular_reference(tmp_path):
    tables = {"orders": {"from_table": {"table": "customers", "key": "customer_id"}},
              "customers": {"from_table": {"table": "orders", "key": "customer_id"}}}
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump({"tables": {"managers": MANAGERS, **tables}}))
    (msg,) = problems(path)
    assert "key 'tables': circular references: customers → orders → customers" in msg  # tables in file order


# --------------------------------------------------------------------------- hints: what to write in the mapping


STAFF_HEADER = "Id,Name,Team,Region,Hired\n"


def _staff_managers(**extra) -> dict:
    spec = {"files": "staff.csv", "columns": {"manager_id": "Id", "name": "Name", "team_id": "Team", "region": "Region",
                                              "hire_date": "Hired"}, "constants": {"leave_date": None}}
    for k, v in extra.items():
        spec[k] = {**spec.get(k, {}), **v} if isinstance(v, dict) else v
    return spec


def test_team_id_not_a_slug_says_derive_slug_once(tmp_path):
    (tmp_path / "staff.csv").write_text(STAFF_HEADER + "M1,Ann,R&D,East,2020-01-01\nM2,Bob,Sales East,East,2020-01-01\n")
    (tmp_path / "orders.csv").write_text(HEADER + "O1,2026-07-01,C1,M1,100,10,P\n")
    path = write_mapping(tmp_path, {"managers": _staff_managers(), "orders": orders_source("orders.csv")})
    # 'R&D' breaks two rules of team_id (letters-digits-dash, no '&'): one problem, naming the export column
    (msg,) = problems(path)
    assert msg == (f"{tmp_path / 'staff.csv'}: rows 2, 3, column Team (→ team_id): 'R&D' must use only letters, digits, "
                   "'-' and '_' (it names report folders) — use derive: {team_id: {from: Team, slug: true}} instead of "
                   "columns.team_id in each table that maps Team ('R&D' → 'r-d')")
    # doing what it says works
    spec = _staff_managers()
    del spec["columns"]["team_id"]
    spec["derive"] = {"team_id": {"from": "Team", "slug": True}}
    ds = load_mapped(write_mapping(tmp_path, {"managers": spec, "orders": orders_source("orders.csv")}), as_of=AS_OF)
    assert ds.managers["team_id"].tolist() == ["r-d", "sales-east"]
    # a derived team id: add slug to that derive; an export column of the canonical name: derive from it
    spec["derive"] = {"team_id": {"from": "Team", "map": {"R&D": "R&D", "Sales East": "Sales East"}}}
    (msg,) = problems(write_mapping(tmp_path, {"managers": spec, "orders": orders_source("orders.csv")}))
    assert msg.endswith("— add slug: true to tables.managers.derive.team_id ('R&D' → 'r-d')")
    (tmp_path / "staff.csv").write_text("Id,Name,team_id,Region,Hired\nM1,Ann,R&D,East,2020-01-01\nM2,Bob,b,East,2020-01-01\n")
    spec = _staff_managers()
    del spec["columns"]["team_id"]
    (msg,) = problems(write_mapping(tmp_path, {"managers": spec, "orders": orders_source("orders.csv")}))
    assert msg.endswith("— use derive: {team_id: {from: team_id, slug: true}} in each table that maps team_id "
                        "('R&D' → 'r-d')")


def test_id_with_ampersand_from_one_export_in_two_tables_is_one_problem(tmp_path):
    """orders and customers read the same export: a bad cell is one problem, not one per table."""
    (tmp_path / "orders.csv").write_text(HEADER + "O1,2026-07-01,A&B,M1,100,10,P\nO2,2026-07-02,C2,M9,5,1,P\n")
    customers = {"files": "orders.csv", "columns": {"customer_id": "客户", "manager_id": "经理", "acquired_date": "日期"},
                 "constants": {"segment": "key", "lost_date": None}, "distinct": ["customer_id"]}
    msgs = problems(write_mapping(tmp_path, {"orders": orders_source("orders.csv"), "customers": customers}))
    assert msgs == [f"{tmp_path / 'orders.csv'}: row 2, column 客户 (→ customer_id): 'A&B' must not contain control "
                    "characters, quotes, <, > or & — use derive: {customer_id: {from: 客户, slug: true}} instead of "
                    "columns.customer_id in each table that maps 客户 ('A&B' → 'a-b')"]
    (tmp_path / "orders.csv").write_text(HEADER + "O1,2026-07-01,C1,M1,100,10,P\nO2,2026-07-02,C2,M9,5,1,P\n")
    msgs = problems(write_mapping(tmp_path, {"orders": orders_source("orders.csv"), "customers": customers}))
    assert msgs == [f"{tmp_path / 'orders.csv'}: row 3, column 经理 (→ manager_id): 'M9' is not in managers.manager_id "
                    f"— add it to {tmp_path / 'map.yaml'}: tables.managers.rows or correct the id"]


def _folder_problem(manager: dict | None = None, order: dict | None = None) -> str:
    """The one problem a folder of canonical tables (no mapping) gets for these rows."""
    from helpers.data.tables import validate_tables

    raw = {"managers": pd.DataFrame([{**MANAGERS["rows"][0], **(manager or {})}]),
           "customers": pd.DataFrame(CUSTOMERS["rows"][:1]),
           "orders": pd.DataFrame([{"order_id": "O1", "date": "2026-07-01", "customer_id": "C1", "manager_id": "M1",
                                    "amount": "1", "product_line": "P", **(order or {})}])}
    with pytest.raises(InputError) as exc:
        validate_tables(raw, as_of=AS_OF)
    (msg,) = [str(p) for p in exc.value.problems]
    return msg


def test_team_id_hint_for_a_folder_of_tables():
    msg = _folder_problem(manager={"team_id": "R&D"})
    assert msg == ("managers: row 1, column team_id: 'R&D' must use only letters, digits, '-' and '_' (it names report "
                   "folders) — use derive: {team_id: {from: <export column>, slug: true}} in a source mapping "
                   "(docs/MAPPING.md) ('R&D' → 'r-d'), or write it with letters, digits, '-' and '_' only")


def test_bool_not_true_false_says_map_it_with_its_values(tmp_path):
    (tmp_path / "orders.csv").write_text(HEADER + "O1,2026-07-01,C1,M1,100,10,P\n")
    (tmp_path / "tickets.csv").write_text("Id,Day,Client,Owner,Outcome,Up\nK1,2026-07-01,C1,M1,Won,no\n"
                                          "K2,2026-07-02,C1,M1,Lost,On\nK3,2026-07-03,C2,M2,Won,yes\nK4,2026-07-03,C2,M2,是,no\n")
    complaints = {"files": "tickets.csv", "columns": {"complaint_id": "Id", "date": "Day", "customer_id": "Client",
                                                      "manager_id": "Owner", "resolved": "Outcome", "escalated": "Up"}}
    msgs = problems(write_mapping(tmp_path, {"orders": orders_source("orders.csv"), "complaints": complaints}))
    tickets = tmp_path / "tickets.csv"
    # the distinct values, in the order met; 是 is accepted; 'On' is quoted (YAML would read it as true)
    assert msgs == [
        f"{tickets}: rows 2, 3, 4, column Outcome (→ resolved): 'Won' is not true/false (accepted: true, false, 1, 0, yes, "
        "no, 是, 否) — map them under tables.complaints: values: {resolved: {map: {Won: true|false, Lost: true|false}}} "
        "(write true or false for each), or write true or false in the export",
        f"{tickets}: row 3, column Up (→ escalated): 'On' is not true/false (accepted: true, false, 1, 0, yes, no, 是, 否) "
        "— map them under tables.complaints: values: {escalated: {map: {'On': true|false}}} (write true or false for "
        "each), or write true or false in the export"]
    # doing what it says works
    complaints["values"] = {"resolved": {"map": {"Won": True, "Lost": False, "是": True}},
                            "escalated": {"map": {"On": True, "yes": True, "no": False}}}
    ds = load_mapped(write_mapping(tmp_path, {"orders": orders_source("orders.csv"), "complaints": complaints}), as_of=AS_OF)
    assert ds["complaints"]["resolved"].tolist() == [True, False, True, True]
    assert ds["complaints"]["escalated"].tolist() == [False, True, True, False]


def _date_problem(tmp_path: Path, values: list[str], **extra) -> str:
    rows = "".join(f"O{i},{d},C1,M1,1,0,P\n" for i, d in enumerate(values, 1))
    (tmp_path / "orders.csv").write_text(HEADER + rows)
    msgs = problems(write_mapping(tmp_path, {"orders": orders_source("orders.csv", **extra)}))
    (msg,) = [m for m in msgs if "(→ date)" in m]
    return msg.split(" — ", 1)[1]


def test_date_hint_reads_the_day_month_order_off_the_values(tmp_path):
    # US data: a second number above 12 → month first; never the day-first format
    fix = _date_problem(tmp_path, ["01/03/2026", "12/25/2025"])
    assert fix == "the dates are month first ('12/25/2025': 25 cannot be a month): set dates: {date: '%m/%d/%Y'} under tables.orders"
    # a first number above 12 → day first; 2-digit years
    fix = _date_problem(tmp_path, ["01/03/26", "25/12/25"])
    assert fix == "the dates are day first ('25/12/25': 25 cannot be a month): set dates: {date: '%d/%m/%y'} under tables.orders"
    # 2- and 4-digit years both: both formats, in the order met
    fix = _date_problem(tmp_path, ["25/12/25", "01/03/2026"])
    assert fix.endswith("set dates: {date: ['%d/%m/%y', '%d/%m/%Y']} under tables.orders")
    # every value ambiguous: no format is picked; the reader says which the export uses
    fix = _date_problem(tmp_path, ["03/04/2026", "05/06/2026"])
    assert fix == ("every value could be day/month or month/day (e.g. '03/04/2026'), so the order cannot be read off the "
                   "data: say which the export uses — dates: {date: '%d/%m/%Y'} under tables.orders if '03/04/2026' is "
                   "3 April 2026, '%m/%d/%Y' if it is 4 March 2026")
    # both kinds: some values are wrong
    fix = _date_problem(tmp_path, ["25/12/2025", "12/26/2025"])
    assert fix.startswith("the values mix day-first ('25/12/2025') and month-first ('12/26/2025') dates: correct the wrong ones")
    # the right format is declared already: the value itself is wrong
    fix = _date_problem(tmp_path, ["25/12/2025", "31/02/2026"], dates={"date": "%d/%m/%Y"})
    assert fix == "the dates are day first ('25/12/2025': 25 cannot be a month): correct the value (no such day, or a typo)"
    # a time of day, another separator; other values that parsed (ISO) keep their format
    assert _date_problem(tmp_path, ["25.12.2025 14:30"]).endswith("set dates: {date: '%d.%m.%Y %H:%M'} under tables.orders")
    assert _date_problem(tmp_path, ["2026-01-05", "25/12/2025"]).endswith(
        "set dates: {date: ['ISO8601', '%d/%m/%Y']} under tables.orders")
    # declared formats are kept, the missing one added; year first
    fix = _date_problem(tmp_path, ["25/12/2025", "03/01/26"], dates={"date": "%d/%m/%Y"})
    assert fix.endswith("set dates: {date: ['%d/%m/%Y', '%d/%m/%y']} under tables.orders")
    fix = _date_problem(tmp_path, ["25/12/2025", "2026/01/05"], dates={"date": "%d/%m/%Y"})
    assert fix == "the dates are year first ('2026/01/05'): set dates: {date: ['%d/%m/%Y', '%Y/%m/%d']} under tables.orders"


def test_date_hint_for_a_folder_of_tables():
    msg = _folder_problem(order={"date": "12/25/2025"})
    assert msg == ("orders: row 1, column date: '12/25/2025' is not a date in YYYY-MM-DD form — write it as YYYY-MM-DD; or "
                   "the dates are month first ('12/25/2025': 25 cannot be a month): set dates: {date: '%m/%d/%Y'} in a "
                   "source mapping (docs/MAPPING.md)")


def test_missing_notebook_names_the_notebooks_or_the_empty_folder(tmp_path):
    from helpers.run.runner import plan_run

    doc = yaml.safe_load((ROOT / "params" / "demo.yaml").read_text(encoding="utf-8"))
    doc["data"] = {"folder": str(tmp_path / "data"), "demo": False}
    doc.update(notebooks=["00_data_quality", "01_target_setting"], notebook_folder="nbs",
               output={"folder": str(tmp_path / "out")})
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")

    def notebook_msgs() -> list[str]:
        with pytest.raises(InputError) as exc:
            plan_run(params)
        return [str(p) for p in exc.value.problems if "notebook" in p.what]

    assert notebook_msgs() == [f"{params}: key 'notebook_folder': the notebook folder {tmp_path / 'nbs'} does not exist, "
                               "so notebook(s) 00_data_quality, 01_target_setting cannot run — set notebook_folder "
                               "(relative to p.yaml) to the folder of the workbook notebooks, e.g. ../notebooks"]
    (tmp_path / "nbs").mkdir()
    assert "has no notebooks (*.ipynb), so notebook(s) 00_data_quality, 01_target_setting cannot run" in notebook_msgs()[0]
    (tmp_path / "nbs" / "00_data_quality.ipynb").write_text("{}")
    (tmp_path / "nbs" / "summary.ipynb").write_text("{}")
    assert notebook_msgs() == [f"{params}: key 'notebooks': notebook '01_target_setting' not found in {tmp_path / 'nbs'} "
                               "— use one of: 00_data_quality, summary"]


# --------------------------------------------------------------------------- aggregates compute on numbers and dates


def test_aggregate_of_text_is_refused_not_compared_as_text(tmp_path):
    """min of the export's 'dd/mm/yy' text would sort by characters ('03/01/26' before '28/12/25'):
    refused, pointing at the mapped date column."""
    (tmp_path / "orders.csv").write_text(HEADER + "O1,28/12/25,C1,M1,1,0,P\nO2,03/01/26,C1,M1,1,0,P\n")
    customers = {"from_table": {"table": "orders", "key": "customer_id"},
                 "aggregate": {"acquired_date": {"min": "日期"}, "lost_date": {"idle": "金额", "months": 6},
                               "manager_id": {"first": "manager_id"}},
                 "constants": {"segment": "key"}}
    spec = orders_source("orders.csv", dates={"date": "%d/%m/%y"})
    msgs = problems(write_mapping(tmp_path, {"orders": spec, "customers": customers}))
    assert any("orders.csv: rows 2, 3, column 日期: '28/12/25' is not a number (min of 日期, key "
               "'tables.customers.aggregate.acquired_date') — declare its format under tables.orders.dates" in m for m in msgs)
    assert any("key 'tables.customers.aggregate.lost_date': '金额' of orders is not a column of dates (idle of 金额)" in m
               for m in msgs)
    customers["aggregate"].update(acquired_date={"min": "date"}, lost_date={"idle": "date", "months": 6})
    ds = load_mapped(write_mapping(tmp_path, {"orders": spec, "customers": customers}), as_of=AS_OF)
    assert ds.customers["acquired_date"].tolist() == [pd.Timestamp("2025-12-28")]


def test_from_table_of_a_lookup_sums_numbers_written_as_text(tmp_path):
    """One row per order from an order-lines export read as a lookup: amounts '1.234,50' summed as numbers."""
    (tmp_path / "lines.csv").write_text("Order;Day;Client;Rep;Sales;Kind\nA;2026-07-01;C1;M1;1.234,50;x\n"
                                        "A;2026-07-01;C1;M1;10,25;y\nB;2026-07-02;C2;M2;7;x\n")
    lines = {"files": "lines.csv", "delimiter": ";", "numbers": {"decimal": ",", "thousands": "."}}
    orders = {"from_table": {"table": "lines", "key": "Order"},
              "aggregate": {"date": {"min": "Day"}, "customer_id": {"first": "Client"}, "manager_id": {"first": "Rep"},
                            "amount": {"sum": "Sales"}, "product_line": {"top": "Kind", "by": "Sales"}},
              "derive": {"order_id": {"template": "{Order}"}}}
    # 'Day' is text in a lookup (nothing parses it unless declared): min refuses it
    msgs = problems(write_mapping(tmp_path, {"orders": orders}, lookups={"lines": lines}))
    assert any("'2026-07-01' is not a number (min of Day" in m and "lookups.lines.dates" in m for m in msgs)
    lines["dates"] = {"Day": "%Y-%m-%d"}
    ds = load_mapped(write_mapping(tmp_path, {"orders": orders}, lookups={"lines": lines}), as_of=AS_OF)
    assert ds.orders["amount"].tolist() == [1244.75, 7.0]
    assert ds.orders["product_line"].tolist() == ["x", "x"]
    assert ds.orders["date"].tolist() == [pd.Timestamp("2026-07-01"), pd.Timestamp("2026-07-02")]


def test_slug_after_a_template(tmp_path):
    (tmp_path / "orders.csv").write_text(HEADER + "A 1,2026-07-01,C1,M1,1,0,P\n")
    spec = orders_source("orders.csv")
    spec["columns"] = {k: v for k, v in ORDER_COLUMNS.items() if k != "order_id"}
    spec["derive"] = {"order_id": {"template": "{单号}/{产品线}", "slug": True}}
    ds = load_mapped(write_mapping(tmp_path, {"orders": spec}), as_of=AS_OF)
    assert ds.orders["order_id"].tolist() == ["a-1-p"]


# --------------------------------------------------------------------------- Superstore


def need_superstore(path: Path = SUPERSTORE_CSV) -> None:
    """Skip without the data; under CI the data must be there (fail)."""
    if path.is_file():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"the Superstore data is missing: {path} (CI needs ../shared/data/superstore)")
    pytest.skip(f"Superstore data not found at {path}")


def test_missing_superstore_fails_under_ci(tmp_path, monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="the Superstore data is missing"):
        need_superstore(tmp_path / "missing.csv")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        need_superstore(tmp_path / "missing.csv")


def superstore_csv_rows() -> list[dict[str, str]]:
    with open(SUPERSTORE_CSV, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def superstore():
    need_superstore()
    return load_mapped(ROOT / "params" / "sources" / "superstore.yaml", as_of=pd.Timestamp("2023-01-31"))


def test_superstore_loads_and_totals_match_the_csv(superstore):
    ds = superstore
    rows = superstore_csv_rows()
    assert len(ds.orders) == len(rows) == 10194
    # second method: Σ Sales per Region straight from the CSV with the csv module
    by_region: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        by_region[r["Region"]].append(float(r["Sales"]))
    team_of = dict(zip(ds.managers["manager_id"], ds.managers["team_id"]))
    ours = ds.orders.assign(team=ds.orders["manager_id"].map(team_of)).groupby("team")["amount"].apply(math.fsum)
    assert set(ours.index) == {"central", "east", "south", "west"}
    for region, values in by_region.items():
        assert ours[region.lower()] == pytest.approx(math.fsum(values), rel=1e-12), region
    assert ds.orders["profit"].sum() == pytest.approx(math.fsum(float(r["Profit"]) for r in rows), rel=1e-12)
    # dates are DD/MM/YY: the first line is 03/01/19 = 3 January 2019; the span is 2019-2022
    assert ds.orders["date"].iloc[0] == pd.Timestamp("2019-01-03")
    assert ds.orders["date"].min() == pd.Timestamp("2019-01-03") and ds.orders["date"].max() == pd.Timestamp("2022-12-30")
    assert ds.orders["order_id"].is_unique and ds.orders["order_id"].iloc[-1] == rows[-1]["Row ID"]


def test_superstore_managers_customers_and_segments(superstore):
    ds = superstore
    rows = superstore_csv_rows()
    m = ds.managers.set_index("team_id")["name"].to_dict()
    assert m == {"west": "Sadie Pawthorne", "east": "Chuck Magee", "central": "Roxanne Rodriguez", "south": "Fred Suzuki"}
    assert ds.team_names() == {"central": "Central", "east": "East", "south": "South", "west": "West"}
    # customers: one per Customer ID, acquired on the first order (dates parsed by hand)
    first: dict[str, datetime] = {}
    segment: dict[str, str] = {}
    for r in rows:
        d = datetime.strptime(r["Order Date"], "%d/%m/%y")
        first[r["Customer ID"]] = min(d, first.get(r["Customer ID"], d))
        segment[r["Customer ID"]] = r["Segment"]
    c = ds.customers.set_index("customer_id")
    assert len(c) == len(first) == 804
    assert all(c.loc[k, "acquired_date"] == pd.Timestamp(v) for k, v in first.items())
    expected = Counter({"Consumer": "walkin", "Corporate": "key", "Home Office": "small"}[s] for s in segment.values())
    assert c["segment"].value_counts().to_dict() == dict(expected)
    # the People sheet read by hand: one manager per region, and every order goes to its region's manager
    region_of = dict(zip(ds.managers["manager_id"], ds.managers["region"]))
    assert (ds.orders["manager_id"].map(region_of).to_numpy() == [r["Region"] for r in rows]).all()
    # lost: no order in the 12 months before 2023-01-31 → last order before 2022-01-31
    last: dict[str, datetime] = {}
    for r in rows:
        d = datetime.strptime(r["Order Date"], "%d/%m/%y")
        last[r["Customer ID"]] = max(d, last.get(r["Customer ID"], d))
    lost = {k: pd.Timestamp(v) for k, v in last.items() if v < datetime(2022, 1, 31)}
    assert c["lost_date"].dropna().to_dict() == lost


def test_superstore_complaints_from_returns(superstore):
    ds = superstore
    # 800 Returns rows (one per returned order line) = 296 returned orders.  Per region,
    # counted with a separate reader of the XLS while writing the mapping: West 189, East 44,
    # Central 39, South 24 (sum 296).
    k = ds["complaints"]
    team_of = dict(zip(ds.managers["manager_id"], ds.managers["team_id"]))
    assert k["manager_id"].map(team_of).value_counts().to_dict() == {"west": 189, "east": 44, "central": 39, "south": 24}


def test_superstore_params_file():
    """params/superstore.yaml: a period inside the data, as-of after its last order."""
    doc = yaml.safe_load((ROOT / "params" / "superstore.yaml").read_text(encoding="utf-8"))
    assert doc["data"]["source"] == "sources/superstore.yaml" and "folder" not in doc["data"]
    assert doc["period"] == "2022Q4" and str(doc["data"]["as_of"]) == "2023-01-31"
    demo = yaml.safe_load((ROOT / "params" / "demo.yaml").read_text(encoding="utf-8"))
    assert doc["notebooks"] == demo["notebooks"] and doc["teams"] == "all"  # the whole workbook


@pytest.mark.slow
def test_superstore_whole_workbook(tmp_path):
    """`kpi-workbook run params/superstore.yaml` renders a report per region."""
    from helpers.plan.params import DataParams

    need_superstore()
    if "source" not in DataParams.model_fields:
        pytest.skip("data.source is not wired into helpers.plan.params yet")
    out = tmp_path / "out"
    res = run_cli("run", str(ROOT / "params" / "superstore.yaml"), "--out", str(out), "--no-progress", timeout=1200)
    assert res.returncode == 0, res.stderr[-3000:]
    notebooks = ["00_data_quality", "01_target_setting", "02_kpi_decomposition", "03_weighting_scenarios",
                 "04_quarterly_review"]
    for team in ("central", "east", "south", "west"):
        for nb in notebooks:  # the whole workbook renders on a real export
            html = (out / "2022Q4" / team / f"{nb}.html").read_text(encoding="utf-8")
            assert "Traceback" not in html
    assert (out / "2022Q4" / "_company" / "05_leadership_summary.html").is_file()
    # no ratings in the export: the documented fallback makes the total the hard score
    sc = pd.read_csv(out / "2022Q4" / "west" / "scorecard.csv")
    assert sc["total"].tolist() == pytest.approx(sc["hard"].tolist())
    assert "数据中没有任何定性评分" in (out / "2022Q4" / "west" / "04_quarterly_review.html").read_text(encoding="utf-8")
    # the West report's KPI export: 2022Q4 sales of Sadie Pawthorne = Σ Sales of West lines in Oct–Dec 2022
    rows = superstore_csv_rows()
    west = math.fsum(float(r["Sales"]) for r in rows if r["Region"] == "West"
                     and datetime.strptime(r["Order Date"], "%d/%m/%y") >= datetime(2022, 10, 1))
    k = pd.read_csv(out / "2022Q4" / "west" / "kpi_actuals.csv")
    sales = k[(k["period"] == "2022Q4") & (k["segment"] == "all") & (k["kpi"] == "sales")]
    assert sales["manager_id"].tolist() == ["sadie-pawthorne"]
    assert sales["value"].iloc[0] == pytest.approx(west, rel=1e-9)
    res = run_cli("validate", str(ROOT / "params" / "superstore.yaml"))
    assert res.returncode == 0 and "read orders" in res.stdout and "utf-8-sig (BOM)" in res.stdout
