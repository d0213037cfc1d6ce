"""DuckDB-over-Parquet KPI engine against the pandas engine (the second method).

helpers.kpis.measures.kpi_actuals is itself tested against hand arithmetic on the tiny
fixture (tests/test_kpis.py); here the DuckDB engine must give the same long table,
row for row, within float rounding (sums are added in another order).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandas.testing as pdt
import pytest

from helpers.data.tables import load_dataset
from helpers.data.demo import DemoConfig, write_demo
from helpers.errors import InputError
from helpers.kpis.measures import kpi_actuals
from helpers.kpis.duckdb_engine import kpi_actuals_parquet

AS_OF = pd.Timestamp("2026-10-01")


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert len(a) == len(b) and len(a) > 0
    pdt.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True),
                           check_dtype=False, rtol=1e-9, atol=1e-9)


def _orders_to_parquet(folder: Path, typed_dates: bool = False) -> None:
    o = pd.read_csv(folder / "orders.csv", dtype=str)
    for c in ("amount", "profit"):
        o[c] = o[c].astype(float)
    if typed_dates:
        o["date"] = pd.to_datetime(o["date"])
    o.to_parquet(folder / "orders.parquet", index=False)
    (folder / "orders.csv").unlink()


@pytest.mark.parametrize("freq", ["Q", "M"])
@pytest.mark.parametrize("typed_dates", [False, True])
def test_tiny_equals_pandas(tiny_dir, freq, typed_dates):
    expected = kpi_actuals(load_dataset(tiny_dir, as_of=AS_OF), freq)
    _orders_to_parquet(tiny_dir, typed_dates)
    got = kpi_actuals_parquet(tiny_dir, freq, as_of=AS_OF)
    _same(got, expected)
    # one hand value as a guard that both are not wrong together: M1 2026Q3 sales 1000+500+200+100
    if freq == "Q":
        row = got[(got.manager_id == "M1") & (got.period == "2026Q3") & (got.segment == "all") & (got.kpi == "sales")]
        assert float(row["value"].iloc[0]) == 1800


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory) -> Path:
    cfg = DemoConfig(managers=24, teams=3, start="2025-04", end="2026-09", customers_per_manager=40, fmt="parquet")
    return write_demo(tmp_path_factory.mktemp("demo-pq") / "demo", cfg)


@pytest.mark.parametrize("freq", ["Q", "M"])
def test_demo_equals_pandas(small_demo, freq):
    expected = kpi_actuals(load_dataset(small_demo), freq)
    got = kpi_actuals_parquet(small_demo, freq, threads=2)
    _same(got, expected)
    assert set(got["kpi"]) >= {"sales", "buyers", "repeat_purchase_rate", "active_rate", "clv", "market_share"}


def test_orders_folder_of_files(small_demo, tmp_path):
    import shutil

    folder = tmp_path / "split"
    shutil.copytree(small_demo, folder)
    o = pd.read_parquet(folder / "orders.parquet")
    (folder / "orders.parquet").unlink()
    (folder / "orders").mkdir()
    half = len(o) // 2
    o.iloc[:half].to_parquet(folder / "orders" / "part-0.parquet", index=False)
    o.iloc[half:].to_parquet(folder / "orders" / "part-1.parquet", index=False)
    _same(kpi_actuals_parquet(folder, "Q"), kpi_actuals_parquet(small_demo, "Q"))


def test_unknown_customer_is_an_input_error(tiny_dir):
    _orders_to_parquet(tiny_dir)
    o = pd.read_parquet(tiny_dir / "orders.parquet")
    o.loc[2, "customer_id"] = "C99"
    o.to_parquet(tiny_dir / "orders.parquet", index=False)
    with pytest.raises(InputError, match="C99"):
        kpi_actuals_parquet(tiny_dir, "Q", as_of=AS_OF)


def test_no_parquet_orders_is_an_input_error(tiny_dir):
    with pytest.raises(InputError, match="orders.parquet"):
        kpi_actuals_parquet(tiny_dir, "Q", as_of=AS_OF)


def test_unknown_visit_customer_is_reported_like_load_dataset(tiny_dir):
    """The faster reference check gives the same message as helpers.data.tables."""
    v = pd.read_csv(tiny_dir / "visits.csv", dtype=str)
    v.loc[1, "customer_id"] = "C77"
    v.to_csv(tiny_dir / "visits.csv", index=False)
    with pytest.raises(InputError) as want:
        load_dataset(tiny_dir, as_of=AS_OF)
    _orders_to_parquet(tiny_dir)
    with pytest.raises(InputError) as got:
        kpi_actuals_parquet(tiny_dir, "Q", as_of=AS_OF)
    assert "C77" in str(got.value)
    assert str(got.value).replace("orders.parquet", "orders.csv") == str(want.value)


def test_both_engines_run_the_same_validation(tiny_dir):
    """One validation of the canonical tables whichever engine loads them: a leave date
    before the hire date is refused by the DuckDB engine with the same line."""
    m = pd.read_csv(tiny_dir / "managers.csv", dtype=str, keep_default_na=False)
    m.loc[0, "leave_date"] = "2019-12-31"  # hired 2020-01-01
    m.to_csv(tiny_dir / "managers.csv", index=False)
    with pytest.raises(InputError) as want:
        load_dataset(tiny_dir, as_of=AS_OF)
    _orders_to_parquet(tiny_dir)
    with pytest.raises(InputError) as got:
        kpi_actuals_parquet(tiny_dir, "Q", as_of=AS_OF)
    assert "row 2, column leave_date: leave_date 2019-12-31 is before hire_date 2020-01-01" in str(got.value)
    assert str(got.value) == str(want.value)


def test_sort_order_is_lexsort():
    """The counting sort of _long gives np.lexsort's permutation (random unique keys; and
    the fallback for duplicate keys)."""
    import numpy as np

    from helpers.kpis.duckdb_engine import _sort_order

    rng = np.random.default_rng(7)
    full = np.array(np.meshgrid(np.arange(5), np.arange(100, 109), np.arange(6), np.arange(4), indexing="ij")).reshape(4, -1)
    pick = rng.permutation(full.shape[1])[:700]
    m, p, k, s = (full[i][pick] for i in range(4))
    assert (_sort_order(m, p, k, s, 5, 6, 4) == np.lexsort((s, k, p, m))).all()
    m2, p2, k2, s2 = (np.concatenate([x, x[:3]]) for x in (m, p, k, s))  # three duplicated rows
    got = _sort_order(m2, p2, k2, s2, 5, 6, 4)
    assert (np.stack([m2, p2, k2, s2])[:, got] == np.stack([m2, p2, k2, s2])[:, np.lexsort((s2, k2, p2, m2))]).all()


def test_profit_is_optional_and_never_zero_in_both_engines(tiny_dir):
    """An export without a profit column: gross profit, margin and CLV are not available (no
    row at all, never 0); every other KPI is what it was; both engines agree."""
    from helpers.kpis.measures import availability

    full = kpi_actuals(load_dataset(tiny_dir, as_of=AS_OF), "Q")
    o = pd.read_csv(tiny_dir / "orders.csv", dtype=str).drop(columns="profit")
    o.to_csv(tiny_dir / "orders.csv", index=False)
    ds = load_dataset(tiny_dir, as_of=AS_OF)
    av = availability(ds).set_index("kpi")
    assert not av.loc["profit", "available"] and av.loc["profit", "missing"] == "orders.profit"
    assert not av.loc["margin", "available"] and not av.loc["clv", "available"] and av.loc["sales", "available"]
    got = kpi_actuals(ds, "Q")
    assert not set(got["kpi"]) & {"profit", "margin", "clv"}
    _same(got, full[~full["kpi"].isin(["profit", "margin", "clv"])])
    o["amount"] = o["amount"].astype(float)
    o.to_parquet(tiny_dir / "orders.parquet", index=False)
    (tiny_dir / "orders.csv").unlink()
    _same(kpi_actuals_parquet(tiny_dir, "Q", as_of=AS_OF), got)


def test_declared_measures_equal_pandas_in_the_actuals(small_demo):
    """The points plan's three declared indicators (two named product lines, a line's
    share, a weighted volume) in the long KPI actuals of both engines: the same rows in
    the same order, equal to 1e-9."""
    from helpers.kpis.indicators import load_library

    lib = load_library(Path(__file__).resolve().parents[1] / "params" / "plans" / "points" / "indicators.yaml")
    declared = lib.declared()
    assert [d.id for d in declared] == ["key_lines_sales", "premium_share", "weighted_volume"]
    for freq in ("Q", "M"):
        expected = kpi_actuals(load_dataset(small_demo).with_measures(declared), freq)
        got = kpi_actuals_parquet(small_demo, freq, threads=2, measures=declared)
        _same(got, expected)
        assert set(got["kpi"]) >= {d.id for d in declared}
