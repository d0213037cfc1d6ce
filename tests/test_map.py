"""`kpi-workbook map FOLDER` (helpers.data.draft): a source mapping drafted from a folder of exports.

The Superstore case copies ../shared/data/superstore beside the repository (skipped
without it, failed under CI, as in test_sources.py) and checks the draft by a second
method: it must load the same orders and customers as the hand-written mapping.
The other cases are small exports written here.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from conftest import ROOT
from helpers.data.draft import draft_mapping, header_line, last_full_quarter, sniff_delimiter
from helpers.data.sources import load_mapped, read_mapping
from helpers.run import cli
from test_sources import SUPERSTORE, need_superstore

runner = CliRunner()

ORDERS = """order_no,date,customer,amount,sales rep,category
A1,03/04/2024,C1,100.5,Ann Lee,Paper
A2,05/06/2024,C2,200,Bob & Co,Paper
A3,01/02/2024,C1,50,Ann Lee,Ink
A4,{last},C3,75.25,Bob & Co,Ink
"""


def export(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(text.encode(encoding))
    return folder


def draft_and_load(folder: Path, tmp_path: Path):
    """Draft a mapping for ``folder``, write it, load it with the sources module."""
    path = tmp_path / "mapping.yaml"
    d = draft_mapping(folder, path)
    path.write_text(d.text, encoding="utf-8")
    read_mapping(path)  # the loader's own validation of the file
    return d, load_mapped(path)


# --------------------------------------------------------------------------- Superstore


@pytest.fixture(scope="module")
def superstore_draft(tmp_path_factory):
    """`kpi-workbook map` on a copy of the Superstore folder, into a project of its own."""
    need_superstore()
    root = tmp_path_factory.mktemp("map")
    folder = root / "superstore"
    shutil.copytree(SUPERSTORE, folder)
    mapping = root / "project" / "params" / "sources" / "superstore.yaml"
    res = runner.invoke(cli.app, ["map", str(folder), "--out", str(mapping)])
    return res, mapping, root / "project" / "params" / "superstore.yaml"


def test_superstore_draft_maps_the_export(superstore_draft):
    res, mapping, _ = superstore_draft
    assert res.exit_code == 0, res.output
    m = read_mapping(mapping)
    orders = m.tables["orders"]
    assert orders.files == ["../../../superstore/Sample - Superstore.csv"]  # the CSV wins the tie with the XLS sheet
    assert orders.encoding == "auto"
    assert orders.columns == {"order_id": "Row ID", "date": "Order Date", "customer_id": "Customer ID",
                              "amount": "Sales", "profit": "Profit", "product_line": "Category"}
    assert orders.dates == {"date": "%d/%m/%y"}
    assert orders.derive["manager_id"].from_ == "Region"
    assert orders.derive["manager_id"].lookup.model_dump() == {"table": "managers", "key": "region", "value": "manager_id"}
    managers = m.tables["managers"]
    assert (managers.sheet, managers.columns) == ("People", {"name": "Regional Manager", "region": "Region"})
    assert managers.derive["manager_id"].slug and managers.derive["manager_id"].from_ == "Regional Manager"
    assert managers.derive["team_id"].slug and managers.derive["team_id"].from_ == "Region"
    assert str(managers.constants["hire_date"]) == "2019-01-01" and managers.constants["leave_date"] is None
    customers = m.tables["customers"]
    assert customers.from_table.model_dump() == {"table": "orders", "key": "customer_id"}
    assert {k: a.kind for k, a in customers.aggregate.items()} == {
        "acquired_date": "min", "lost_date": "idle", "manager_id": "top", "segment": "first"}
    assert customers.values["segment"].map == {"Consumer": "walkin", "Corporate": "key", "Home Office": "small"}
    assert set(m.tables) == {"managers", "orders", "customers"}


def test_superstore_draft_asks_few_questions_naming_columns(superstore_draft):
    res, mapping, params = superstore_draft
    text = mapping.read_text(encoding="utf-8")
    in_file = re.findall(r"^# QUESTION (\d+): (.*)$", text, re.M)
    printed = re.findall(r"^  QUESTION (\d+): (.*)$", res.stdout, re.M)
    assert [n for n, _ in in_file] == [n for n, _ in printed] == ["1", "2"]
    assert "no employment dates: every manager is taken to be in post for the whole span" in printed[0][1]
    assert "Consumer → walkin, Corporate → key, Home Office → small" in printed[1][1]
    columns = ("Regional Manager", "Region", "Segment")
    assert all(any(c in q for c in columns) for _, q in printed)
    assert text.index("# QUESTION 1:") < text.index("tables:")  # at the top
    assert "not used" in text and "Returns" in text  # the sheets it left aside are named
    assert f"next: kpi-workbook validate {params}" in res.stdout


def test_superstore_draft_params_validate(superstore_draft):
    """The drafted params pass `kpi-workbook validate` as drafted (the questions' drafted
    answers are the right ones for this export: no edit needed)."""
    _, _, params = superstore_draft
    doc = yaml.safe_load(params.read_text(encoding="utf-8"))
    assert doc["period"] == "2022Q4" and str(doc["data"]["as_of"]) == "2022-12-31"
    assert doc["data"]["source"] == "sources/superstore.yaml" and doc["teams"] == "all"
    assert len(doc["notebooks"]) == 6 and doc["output"]["folder"] == "../reports/superstore"
    res = runner.invoke(cli.app, ["validate", str(params)])
    assert res.exit_code == 0, res.output[-3000:]
    assert "data ok; methodology files ok" in res.stdout
    assert re.search(r"orders\s+10,194 rows", res.stdout) and re.search(r"customers\s+804 rows", res.stdout)


def test_superstore_draft_loads_what_the_shipped_mapping_loads(superstore_draft):
    _, mapping, _ = superstore_draft
    as_of = pd.Timestamp("2022-12-31")
    drafted = load_mapped(mapping, as_of=as_of)
    shipped = load_mapped(ROOT / "params" / "sources" / "superstore.yaml", as_of=as_of)
    for table in ("orders", "customers"):
        pd.testing.assert_frame_equal(drafted.tables[table], shipped.tables[table])
    cols = ["manager_id", "name", "team_id", "region"]
    pd.testing.assert_frame_equal(drafted.tables["managers"][cols], shipped.tables["managers"][cols])


# --------------------------------------------------------------------------- dates


def test_ambiguous_dates_are_a_question(tmp_path):
    folder = export(tmp_path / "crm", "orders.csv", ORDERS.format(last="12/11/2024"))
    d, ds = draft_and_load(folder, tmp_path)
    orders = d.mapping["tables"]["orders"]
    assert orders["dates"] == {"date": "%d/%m/%Y"}  # the best guess, written...
    asked = [q for q in d.questions if "ambiguous" in q]
    assert len(asked) == 1  # ...and asked
    assert "column date" in asked[0] and "is 03/04/2024 3 April or 4 March?" in asked[0] and "%m/%d/%Y" in asked[0]
    assert re.search(r"^# QUESTION \d+: dates in column date of orders.csv are ambiguous", d.text, re.M)
    assert ds.tables["orders"]["date"].min() == pd.Timestamp("2024-02-01")


def test_a_day_above_12_decides(tmp_path):
    folder = export(tmp_path / "crm", "orders.csv", ORDERS.format(last="25/11/2024"))
    d, ds = draft_and_load(folder, tmp_path)
    assert d.mapping["tables"]["orders"]["dates"] == {"date": "%d/%m/%Y"}
    assert not [q for q in d.questions if "date" in q and "hire_date" not in q]
    assert ds.tables["orders"]["date"].max() == pd.Timestamp("2024-11-25")
    # ids with a space or '&' become slugs
    assert d.mapping["tables"]["orders"]["derive"]["manager_id"] == {"from": "sales rep", "slug": True}
    assert sorted(ds.tables["managers"]["manager_id"]) == ["ann-lee", "bob-co"]


def test_a_month_above_12_decides(tmp_path):
    folder = export(tmp_path / "crm", "orders.csv", ORDERS.format(last="11/25/2024"))
    d = draft_mapping(folder, tmp_path / "m.yaml")
    assert d.mapping["tables"]["orders"]["dates"] == {"date": "%m/%d/%Y"}
    assert not [q for q in d.questions if "ambiguous" in q]


def test_iso_dates_need_no_format(tmp_path):
    text = ORDERS.format(last="x").replace("03/04/2024", "2024-04-03").replace("05/06/2024", "2024-06-05") \
        .replace("01/02/2024", "2024-02-01").replace(",x,", ",2024-11-12,")
    d = draft_mapping(export(tmp_path / "crm", "orders.csv", text), tmp_path / "m.yaml")
    assert "dates" not in d.mapping["tables"]["orders"] and d.last_date.isoformat() == "2024-11-12"


# --------------------------------------------------------------------------- encodings and delimiters


def test_gb18030_chinese_headers(tmp_path):
    text = ("客户编号,日期,金额,客户经理\n"
            "C001,2024-03-05,1200.5,王伟\nC002,2024-03-06,300,李娜\nC001,2024-04-01,88,王伟\nC003,2024-05-20,560,李娜\n")
    data = text.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    folder = tmp_path / "导出"
    folder.mkdir()
    (folder / "销售明细.csv").write_bytes(data)
    d, ds = draft_and_load(folder, tmp_path)
    orders = d.mapping["tables"]["orders"]
    assert orders["encoding"] == "auto" and "detected: gb18030" in d.text
    assert orders["columns"] == {"date": "日期", "customer_id": "客户编号", "amount": "金额", "manager_id": "客户经理"}
    assert ds.report.reads[0].encoding.startswith("gb18030")
    assert sorted(ds.tables["managers"]["manager_id"]) == ["李娜", "王伟"]
    assert ds.tables["orders"]["amount"].sum() == pytest.approx(2148.5)
    # what it could not place is asked, each naming the field
    fields = [q.split(":")[0] for q in d.questions]
    assert fields == ["orders.order_id", "orders.product_line", "managers.team_id", "managers.hire_date",
                      "customers.segment"]


def test_semicolon_delimited_with_decimal_commas(tmp_path):
    text = "id;date;customer;amount;manager;product\n1;2024-01-15;K1;1.234,50;M1;A\n2;2024-02-01;K2;99,90;M2;B\n" \
           "3;2024-03-11;K1;10,00;M1;A\n"
    d, ds = draft_and_load(export(tmp_path / "crm", "export.csv", text), tmp_path)
    orders = d.mapping["tables"]["orders"]
    assert orders["delimiter"] == ";"
    assert orders["numbers"] == {"decimal": ",", "thousands": "."}
    assert orders["columns"]["order_id"] == "id" and orders["columns"]["amount"] == "amount"
    assert ds.tables["orders"]["amount"].tolist() == [1234.5, 99.9, 10.0]


def test_monthly_files_with_one_header_are_one_table(tmp_path):
    head = "order id,date,customer,amount,owner,product\n"
    folder = export(tmp_path / "crm", "orders-2024-01.csv", head + "1,2024-01-03,C1,5,Al,P\n2,2024-01-09,C2,7,Bo,Q\n")
    export(folder, "orders-2024-02.csv", head + "3,2024-02-03,C1,5,Al,P\n")
    d, ds = draft_and_load(folder, tmp_path)
    assert d.mapping["tables"]["orders"]["files"] == ["crm/orders-2024-01.csv", "crm/orders-2024-02.csv"]
    assert d.mapping["tables"]["orders"]["columns"]["manager_id"] == "owner"
    assert len(ds.tables["orders"]) == 3 and sorted(ds.tables["managers"]["manager_id"]) == ["Al", "Bo"]


def test_unnamed_columns_by_content_are_questions(tmp_path):
    text = "Nr;Datum;Kunde;Betrag\n1;15.01.2024;K1;12,50\n2;16.01.2024;K2;99,00\n3;01.02.2024;K1;5,00\n"
    d, ds = draft_and_load(export(tmp_path / "crm", "umsatz.csv", text), tmp_path)
    orders = d.mapping["tables"]["orders"]
    assert orders["columns"] == {"date": "Datum", "customer_id": "Kunde", "amount": "Betrag", "order_id": "Nr"}
    assert orders["dates"] == {"date": "%d.%m.%Y"}
    asked = " ".join(d.questions)
    assert all(f"the draft takes {c} by its content" in asked for c in ("Datum", "Kunde", "Betrag"))
    assert "'unassigned'" in asked and ds.tables["orders"]["manager_id"].eq("unassigned").all()


def test_delimiter_and_header_row():
    assert sniff_delimiter("a\tb\tc\n1\t2\t3\n") == "\t"
    assert sniff_delimiter("a|b\n1|2\n") == "|"
    sample = "Sales report 2024\n\nid,date,amount\n1,2024-01-01,5\n2,2024-01-02,6\n"
    assert header_line(sample, ",") == 3


def test_a_title_above_the_header_is_a_question(tmp_path):
    text = "Export of 2024-12-01\n" + ORDERS.format(last="25/11/2024")
    d = draft_mapping(export(tmp_path / "crm", "orders.csv", text), tmp_path / "m.yaml")
    assert d.mapping["tables"]["orders"]["columns"]["date"] == "date"
    assert any("header is on line 2" in q for q in d.questions)


def test_last_full_quarter():
    from datetime import date

    assert last_full_quarter(date(2019, 1, 3), date(2022, 12, 30)) == "2022Q4"
    assert last_full_quarter(date(2019, 1, 3), date(2022, 11, 15)) == "2022Q3"


# --------------------------------------------------------------------------- the command


def test_map_writes_beside_and_refuses_to_overwrite(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "PARAMS_DIR", tmp_path / "params")
    folder = export(tmp_path / "My CRM", "orders.csv", ORDERS.format(last="25/11/2024"))
    res = runner.invoke(cli.app, ["map", str(folder)])
    assert res.exit_code == 0, res.output
    mapping, params = tmp_path / "params" / "sources" / "my-crm.yaml", tmp_path / "params" / "my-crm.yaml"
    assert mapping.is_file() and params.is_file()
    assert yaml.safe_load(params.read_text(encoding="utf-8"))["data"]["source"] == "sources/my-crm.yaml"
    before = mapping.read_bytes()
    res = runner.invoke(cli.app, ["map", str(folder)])
    assert res.exit_code == 2 and "already exists" in res.stderr and "--force" in res.stderr
    assert mapping.read_bytes() == before
    assert runner.invoke(cli.app, ["map", str(folder), "--force"]).exit_code == 0


def test_map_missing_folder_exits_2(tmp_path):
    missing = tmp_path / "missing"
    res = runner.invoke(cli.app, ["map", str(missing), "--out", str(tmp_path / "m.yaml")])
    assert res.exit_code == 2
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {missing}: folder not found — give the folder that holds the exported files"]
    assert "Traceback" not in res.output and not (tmp_path / "m.yaml").exists()


def test_map_folder_without_tables_exits_2(tmp_path):
    folder = export(tmp_path / "crm", "notes.md", "# nothing here\n")
    res = runner.invoke(cli.app, ["map", str(folder), "--out", str(tmp_path / "m.yaml")])
    assert res.exit_code == 2 and "no readable table" in res.stderr and "Traceback" not in res.output
    export(folder, "people.csv", "name,city\nAnn,Paris\n")
    res = runner.invoke(cli.app, ["map", str(folder), "--out", str(tmp_path / "m.yaml")])
    assert res.exit_code == 2 and "none can be the orders" in res.stderr
