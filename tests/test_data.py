"""Loading and validating the canonical tables: every problem names file, row and column."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import tiny_tables, write_tables
from helpers.data.tables import load_dataset
from helpers.errors import InputError

AS_OF = pd.Timestamp("2026-10-01")


def problems_for(tmp_path, mutate) -> list[str]:
    tables = tiny_tables()
    mutate(tables)
    folder = write_tables(tmp_path / "d", tables)
    with pytest.raises(InputError) as exc:
        load_dataset(folder, as_of=AS_OF)
    return [str(p) for p in exc.value.problems]


def test_tiny_loads(tiny_dir):
    ds = load_dataset(tiny_dir, as_of=AS_OF)
    assert len(ds.orders) == 6 and ds.has("surveys") and not ds.has("teams")
    assert ds.orders["amount"].dtype == "float64"
    assert ds.customers["lost_date"].isna().sum() == 3


def test_missing_required_column(tmp_path):
    def drop(t):
        for r in t["orders"]:
            r.pop("amount")
    msgs = problems_for(tmp_path, drop)
    assert len(msgs) == 1 and "orders.csv: header: missing column(s) amount" in msgs[0]


def test_bad_date_names_row_and_column(tmp_path):
    def bad(t):
        t["orders"][2]["date"] = "2026-13-40"
    (msg,) = problems_for(tmp_path, bad)
    assert "orders.csv: row 4, column date: '2026-13-40' is not a date" in msg  # data row 3 = line 4


def test_negative_amount(tmp_path):
    def bad(t):
        t["orders"][1]["amount"] = -5
    (msg,) = problems_for(tmp_path, bad)
    assert "row 3, column amount" in msg and "at least 0" in msg


def test_duplicate_id_lists_both_rows(tmp_path):
    def bad(t):
        t["orders"][3]["order_id"] = "O1"
    (msg,) = problems_for(tmp_path, bad)
    assert "rows 3, 5, column order_id" in msg and "'O1' appears more than once" in msg


def test_unknown_customer_reference(tmp_path):
    def bad(t):
        t["orders"][0]["customer_id"] = "C99"
    (msg,) = problems_for(tmp_path, bad)
    assert "row 2, column customer_id: 'C99' is not in customers.customer_id" in msg


def test_manager_in_two_teams(tmp_path):
    def bad(t):
        t["team_history"] = [
            {"manager_id": "M1", "team_id": "A", "start_month": "2020-01", "end_month": "2026-08"},
            {"manager_id": "M1", "team_id": "B", "start_month": "2026-08", "end_month": ""},
        ]
    (msg,) = problems_for(tmp_path, bad)
    assert "manager 'M1' is in two teams in 2026-08" in msg and "row 3" in msg


def test_future_date(tmp_path):
    def bad(t):
        t["orders"][5]["date"] = "2027-01-01"
    (msg,) = problems_for(tmp_path, bad)
    assert "row 7, column date: 2027-01-01 is in the future" in msg


def test_several_problems_reported_together(tmp_path):
    def bad(t):
        t["orders"][0]["amount"] = "abc"
        t["customers"][0]["segment"] = "vip"
        t["complaints"][0]["resolved"] = "maybe"
    msgs = problems_for(tmp_path, bad)
    text = "\n".join(msgs)
    assert "'abc' is not a number" in text
    assert "'maybe' is not true/false" in text
    assert "customers.csv: row 2, column segment: 'vip'" in text
    assert len(msgs) == 3


def test_bad_segment(tmp_path):
    def bad(t):
        t["customers"][1]["segment"] = "vip"
    (msg,) = problems_for(tmp_path, bad)
    assert "customers.csv: row 3, column segment" in msg and "key, small, walkin" in msg


def test_missing_required_table(tmp_path):
    folder = write_tables(tmp_path / "d", {k: v for k, v in tiny_tables().items() if k != "orders"})
    with pytest.raises(InputError, match="required table 'orders' is missing"):
        load_dataset(folder, as_of=AS_OF)


def test_empty_file(tmp_path):
    folder = write_tables(tmp_path / "d", tiny_tables())
    (folder / "visits.csv").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="visits.csv: the file is empty"):
        load_dataset(folder, as_of=AS_OF)


def test_not_utf8(tmp_path):
    folder = write_tables(tmp_path / "d", tiny_tables())
    text = (folder / "managers.csv").read_text(encoding="utf-8")
    (folder / "managers.csv").write_bytes(text.encode("gb18030"))
    with pytest.raises(InputError, match="managers.csv: is not UTF-8"):
        load_dataset(folder, as_of=AS_OF)


def test_missing_folder(tmp_path):
    with pytest.raises(InputError, match="data folder not found"):
        load_dataset(tmp_path / "nope")


def test_parquet_equals_csv(tmp_path, tiny_dir):
    csv = load_dataset(tiny_dir, as_of=AS_OF)
    pq = tmp_path / "pq"
    pq.mkdir()
    for name, df in csv.tables.items():
        df.to_parquet(pq / f"{name}.parquet", index=False)
    again = load_dataset(pq, as_of=AS_OF)
    for name in csv.tables:
        pd.testing.assert_frame_equal(csv[name].reset_index(drop=True), again[name].reset_index(drop=True),
                                      check_dtype=False)


def test_membership_and_roster(tiny_dir):
    from helpers.periods import parse_period
    from helpers.core.roster import team_roster

    ds = load_dataset(tiny_dir, as_of=AS_OF)
    r = team_roster(ds, "A", parse_period("2026Q3")).set_index("manager_id")
    assert r.loc["M1", "fraction"] == 1.0
    assert r.loc["M2", "moved_from"] == "" and r.loc["M2", "moved_month"] == ""
    # hired 2026-08-16: Aug 16–31 (16 days) + Sep (30) of 92 days
    assert r.loc["M2", "fraction"] == pytest.approx(46 / 92)


def test_roster_notes_are_written_from_the_rosters_facts(tiny_dir):
    """The roster itself holds facts (dates, the earlier team); the note a reader sees is
    written from them in the report's language: a joiner, a leaver and a mover."""
    from helpers.context.workbook import with_notes
    from helpers.core.roster import team_roster
    from helpers.periods import parse_period

    tables = tiny_tables()
    tables["managers"][0]["leave_date"] = "2026-09-10"
    tables["managers"].append({"manager_id": "M3", "name": "张三", "team_id": "A", "region": "R",
                               "hire_date": "2020-01-01", "leave_date": ""})
    tables["team_history"] = [{"manager_id": "M3", "team_id": "B", "start_month": "2020-01", "end_month": "2026-07"},
                              {"manager_id": "M3", "team_id": "A", "start_month": "2026-08", "end_month": ""}]
    ds = load_dataset(write_tables(tiny_dir.parent / "moves", tables), as_of=AS_OF)
    q3 = parse_period("2026Q3")
    r = team_roster(ds, "A", q3).set_index("manager_id")
    assert (r.loc["M3", "moved_from"], r.loc["M3", "moved_month"]) == ("B", "2026-08")
    notes = with_notes(team_roster(ds, "A", q3), q3, "zh").set_index("manager_id")["note"]
    assert notes["M1"] == "2026-09-10 离职"
    assert notes["M2"] == "2026-08-16 入职"
    assert notes["M3"] == "2026-08 起由 B 调入"
    assert with_notes(team_roster(ds, "A", q3), q3, "en").set_index("manager_id").loc["M3", "note"] == "moved from B in 2026-08"


@pytest.mark.parametrize("values", [
    {"C2", "C4", "nobody"},                     # a set of ids (the foreign-key check)
    ["C1", float("nan")],                       # a missing value in the lookup matches missing cells
    {"C3", None},
    [],                                         # nothing: all False
    [1, 2],                                     # not text: pandas' own path
    pd.Series(["C1", "C9"], dtype="str"),       # another text column
    pd.Index(["C4"]),
])
def test_fast_isin_is_pandas_isin(values):
    """helpers.frames.isin returns what Series.isin returns, element for element, with
    the same index and name, on an Arrow text column with missing cells (and on an
    object column, where it is Series.isin itself)."""
    from helpers.frames import isin

    for dtype in ("str", object):
        s = pd.Series(["C1", None, "C2", "C3", "C1", "C4", None], dtype=dtype, name="customer_id",
                      index=[10, 11, 12, 13, 14, 15, 16])
        want, got = s.isin(values), isin(s, values)
        pd.testing.assert_series_equal(got, want)
        assert want.sum() > 0 or len(values) == 0 or list(values) == [1, 2]  # the cases are not all-False by accident


def test_byte_scans_flag_the_cells_the_regexes_flag():
    """The control-character check and the id rule scan a text column's bytes first; the
    cells they flag are the ones the regexes flag, on an Arrow column, an object column
    and an Arrow column in several chunks sliced from one buffer (as Parquet gives them)."""
    import pyarrow as pa

    from helpers.data.schema import ID_RE, plain_id
    from helpers.data.tables import CONTROL_CHARS, _control

    values = ["C1", "C\x01", None, "中文", "a<b", "x&y", 'q"', "t`", "it's", "ok\t", "", "M-9", "\x7f"]
    chunked = pd.Series(pd.arrays.ArrowStringArray(
        pa.chunked_array([pa.array(values, pa.large_string()).slice(i, 4) for i in range(0, len(values), 4)])))
    for s in (pd.Series(values, dtype="str"), pd.Series(values, dtype=object), chunked, chunked.iloc[2:]):
        want_control = s.notna() & s.fillna("").str.contains(CONTROL_CHARS)
        assert _control(s).tolist() == want_control.tolist()
        present = s.dropna()
        assert plain_id(present).tolist() == present.str.match(ID_RE).astype(bool).tolist()
    clean = pd.Series(["C1", "中文", "M-9"], dtype="str")
    assert not _control(clean).any() and plain_id(clean).all()
    # the one bad value in the last chunk of a column whose chunks share a buffer
    last = pa.array(["C1", "C2", "C3", "C4", "C5\x02<"], pa.large_string())
    s = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([last.slice(0, 2), last.slice(2, 2), last.slice(4)])))
    assert _control(s).tolist() == [False] * 4 + [True] and plain_id(s).tolist() == [True] * 4 + [False]


@pytest.mark.parametrize("index", [
    ["C4", "C1", "C9"],                          # text ids, one not in the column
    ["C3"],
    [],                                          # nothing: all -1
])
def test_fast_positions_is_get_indexer(index):
    """helpers.frames.positions returns what Index.get_indexer returns, position for
    position (missing cells and unknown ids -1), for Arrow text and object columns and
    for a column given as a Series, an Index or its array."""
    from helpers.frames import positions

    for dtype in ("str", object):
        s = pd.Series(["C1", None, "C2", "C3", "C1", "C4", None], dtype=dtype)
        idx = pd.Index(index, dtype=dtype)
        want = idx.get_indexer(s)
        for values in (s, pd.Index(s), s.array):
            got = positions(values, idx)
            assert got.tolist() == want.tolist()
    assert positions(pd.Series(["C1", "C4"], dtype="str"), pd.Index(["C4", "C1"], dtype="str")).tolist() == [1, 0]
