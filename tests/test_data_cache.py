"""The prepared-data cache (helpers.data.cache): what a process reads from it equals what
it would have computed, and anything that could change the result is a new entry.

The reference is a computation of the same folder: the first read of a folder without
a cache, or one with the cache off (``KPI_WORKBOOK_CACHE=off``); a read from the cache is
proven to be one by making the checks and the KPI computation raise while it happens."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers.data import cache, tables
from helpers.data.tables import load_dataset
from helpers.errors import InputError
from helpers.kpis import measures
from helpers.kpis.measures import availability, kpi_actuals

AS_OF = pd.Timestamp("2026-10-15")


@pytest.fixture
def demo(demo_dir: Path, tmp_path: Path) -> Path:
    """A copy of the demo data (6.9 MB, every table: above the cache's threshold), without any cache."""
    folder = tmp_path / "data"
    shutil.copytree(demo_dir, folder, ignore=shutil.ignore_patterns(cache.FOLDER))
    return folder


@pytest.fixture
def data(tiny_dir: Path, monkeypatch) -> Path:
    """The tiny data (tests/conftest.py), cached as if it were large."""
    monkeypatch.setattr(cache, "MIN_BYTES", 0)
    return tiny_dir


def _fresh(folder: Path, monkeypatch) -> tables.Dataset:
    with monkeypatch.context() as m:
        m.setenv("KPI_WORKBOOK_CACHE", "off")
        ds = load_dataset(folder, as_of=AS_OF)
    assert "_cache" not in ds.__dict__
    return ds


def _no_computing(monkeypatch) -> None:
    """From here on, checking the tables or computing KPI actuals fails the test."""
    def refuse(*_a, **_k):
        raise AssertionError("computed instead of read from the cache")

    monkeypatch.setattr(tables, "validate_tables", refuse)
    monkeypatch.setattr(measures, "_kpi_actuals", refuse)


def _sales(actuals: pd.DataFrame, data: Path, manager: str) -> float:
    """``manager``'s 2026Q3 sales in ``actuals``, checked against the orders summed from the CSV."""
    orders = pd.read_csv(data / "orders.csv", parse_dates=["date"])
    q3 = orders[(orders["manager_id"] == manager) & (orders["date"] >= "2026-07-01") & (orders["date"] < "2026-10-01")]
    row = actuals[(actuals["manager_id"] == manager) & (actuals["period"] == "2026Q3") & (actuals["kpi"] == "sales")
                  & (actuals["segment"] == "all")]
    assert row["value"].iloc[0] == pytest.approx(q3["amount"].sum(), abs=0.005)
    return float(row["value"].iloc[0])


def _entries(folder: Path) -> list[Path]:
    root = folder / cache.FOLDER
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.is_dir() else []


def test_tables_and_kpi_actuals_from_the_cache_equal_a_fresh_computation(demo, monkeypatch):
    data = demo
    first = load_dataset(data, as_of=AS_OF)  # checks, computes and stores
    kq, km, av = kpi_actuals(first, "Q"), kpi_actuals(first, "M"), availability(first)
    assert len(_entries(data)) == 1
    # it says what it is, and a repository the data lives in ignores it
    assert (data / cache.FOLDER / ".gitignore").read_text(encoding="utf-8").splitlines()[-1] == "*"
    assert "safe to delete" in (data / cache.FOLDER / "README.txt").read_text(encoding="utf-8")
    with monkeypatch.context() as m:
        _no_computing(m)
        again = load_dataset(data, as_of=AS_OF)
        cq, cm, cav = kpi_actuals(again, "Q"), kpi_actuals(again, "M"), availability(again)
    # the first read checked and computed them (the folder had no cache): the cache gives
    # every table and every derived frame back as it was, cell for cell, dtype for dtype
    assert list(again.tables) == list(first.tables) and again.files == first.files
    for name, df in first.tables.items():
        pd.testing.assert_frame_equal(again.tables[name], df, check_exact=True)
    for got, want in ((cq, kq), (cm, km), (cav, av)):
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    # the figures themselves, from the CSV: the quarter's sales of M001
    assert _sales(cq, data, "M001") > 0


def test_a_changed_byte_is_a_new_entry_with_the_new_figures(data, monkeypatch):
    before = _sales(kpi_actuals(load_dataset(data, as_of=AS_OF), "Q"), data, "M1")
    orders = (data / "orders.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    header = orders[0].rstrip("\n").split(",")
    i = next(i for i, line in enumerate(orders) if ",2026-07-" in line and ",M1," in line)  # an order of 2026Q3
    row = orders[i].rstrip("\n").split(",")
    amount = header.index("amount")
    row[amount] = f"{float(row[amount]) + 1000:.2f}"
    orders[i] = ",".join(row) + "\n"
    (data / "orders.csv").write_text("".join(orders), encoding="utf-8")
    changed = load_dataset(data, as_of=AS_OF)
    assert len(_entries(data)) == 2  # the old entry stays (it is the right one for the old bytes)
    ref = _fresh(data, monkeypatch)
    pd.testing.assert_frame_equal(changed.orders, ref.orders, check_exact=True)
    pd.testing.assert_frame_equal(kpi_actuals(changed, "Q"), kpi_actuals(ref, "Q"), check_exact=True)
    assert _sales(kpi_actuals(changed, "Q"), data, "M1") == pytest.approx(before + 1000)


def test_another_date_or_other_code_is_a_new_entry(data, monkeypatch):
    load_dataset(data, as_of=AS_OF)
    load_dataset(data, as_of=AS_OF + pd.Timedelta(days=1))  # future dates are judged against the date
    assert len(_entries(data)) == 2
    monkeypatch.setattr(cache, "code_digest", lambda: "other code")
    load_dataset(data, as_of=AS_OF)
    assert len(_entries(data)) == 3
    monkeypatch.setattr(cache, "KEEP", 2)
    load_dataset(data, as_of=AS_OF + pd.Timedelta(days=2))
    assert len(_entries(data)) == 2  # the newest are kept


def test_a_damaged_entry_is_computed_again(data, monkeypatch):
    kpi_actuals(load_dataset(data, as_of=AS_OF), "Q")
    (entry,) = _entries(data)
    (entry / "tables" / "orders.parquet").write_bytes(b"PAR1 not really")
    for f in (entry / "derived").glob("*.parquet"):
        f.write_bytes(b"damaged")
    ds = load_dataset(data, as_of=AS_OF)
    ref = _fresh(data, monkeypatch)
    pd.testing.assert_frame_equal(ds.orders, ref.orders, check_exact=True)
    pd.testing.assert_frame_equal(kpi_actuals(ds, "Q"), kpi_actuals(ref, "Q"), check_exact=True)
    with monkeypatch.context() as m:  # and stored anew: the next read is from the cache
        _no_computing(m)
        pd.testing.assert_frame_equal(load_dataset(data, as_of=AS_OF).orders, ref.orders, check_exact=True)


def test_bad_data_is_checked_every_time_and_never_stored(data):
    text = (data / "orders.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    row = text[1].split(",")
    header = text[0].split(",")
    row[header.index("date")] = "2026-13-45"
    text[1] = ",".join(row)
    (data / "orders.csv").write_text("".join(text), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(InputError) as exc:
            load_dataset(data, as_of=AS_OF)
        assert any("2026-13-45" in str(p) or "date" in str(p) for p in exc.value.problems)
    assert _entries(data) == []


def test_off_small_or_unwritable_folders_are_read_as_before(tiny_dir, monkeypatch):
    load_dataset(tiny_dir, as_of=AS_OF)  # two managers: checking is quicker than caching
    assert not (tiny_dir / cache.FOLDER).exists()
    monkeypatch.setattr(cache, "MIN_BYTES", 0)
    monkeypatch.setenv("KPI_WORKBOOK_CACHE", "off")
    load_dataset(tiny_dir, as_of=AS_OF)
    assert not (tiny_dir / cache.FOLDER).exists()
    monkeypatch.delenv("KPI_WORKBOOK_CACHE")
    data = tiny_dir
    (data / cache.FOLDER).write_text("not a folder", encoding="utf-8")  # cannot be written
    ds = load_dataset(data, as_of=AS_OF)
    ref = _fresh(data, monkeypatch)
    pd.testing.assert_frame_equal(kpi_actuals(ds, "Q"), kpi_actuals(ref, "Q"), check_exact=True)
    assert "_cache" not in ds.__dict__


def _demo_plan(demo: Path, demo_params: Path, tmp_path: Path):
    """The session's demo params pointed at this test's copy of the demo data: (the params
    as a dict, their file, the loaded params, the review period 2026Q3)."""
    import yaml

    from helpers.context.workbook import open_team
    from helpers.plan.params import load_params

    cfg = yaml.safe_load(demo_params.read_text(encoding="utf-8"))
    cfg["data"]["folder"] = str(demo)
    params_file = tmp_path / "p.yaml"
    params_file.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return cfg, params_file, load_params(params_file), open_team(params_file, "", "2026Q3", "", "zh", "").period


def test_the_targets_checks_and_backtest_from_the_cache_equal_a_fresh_computation(demo, demo_params, tmp_path, monkeypatch):
    """A run's gate sets every target, checks them (SMART) and backtests the plan; a
    later process on the same files and plan reads the checks and the backtest instead,
    and a changed plan file is computed again."""
    import yaml

    from helpers.context import targets as ctx_targets
    from helpers.context.targets import _dataset_backtest, dataset_targets
    from helpers.plan.params import load_params

    cfg, params_file, params, period = _demo_plan(demo, demo_params, tmp_path)

    def gate(ds):
        engine, _, smart = dataset_targets(params, params_file, ds, period)
        return (smart, *_dataset_backtest(params, params_file, ds, engine, period))

    smart, bt, skipped = gate(load_dataset(demo))
    assert len(smart) and len(bt)
    with monkeypatch.context() as m:
        def refuse(*_a, **_k):
            raise AssertionError("computed instead of read from the cache")
        m.setattr(ctx_targets, "smart_flags", refuse)
        m.setattr(ctx_targets, "run_backtest", refuse)
        c_smart, c_bt, c_skipped = gate(load_dataset(demo))
    # the first were computed (the folder had no cache): the cache gives them back as they were
    pd.testing.assert_frame_equal(c_smart, smart, check_exact=True)
    pd.testing.assert_frame_equal(c_bt, bt, check_exact=True)
    assert c_skipped == skipped
    # another plan (a target CSV's neighbour: the indicator library) is computed again
    library = Path(cfg["indicators"])
    changed = tmp_path / "indicators.yaml"
    changed.write_text(library.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    cfg["indicators"] = str(changed)
    params_file.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    params = load_params(params_file)
    calls = []
    real = ctx_targets.run_backtest
    monkeypatch.setattr(ctx_targets, "run_backtest", lambda *a: calls.append(1) or real(*a))
    pd.testing.assert_frame_equal(gate(load_dataset(demo))[1], bt, check_exact=True)
    assert calls, "a changed plan file must be backtested again"


def test_an_entry_not_signed_with_this_users_key_is_never_read(data, tmp_path, monkeypatch):
    """Whoever can write the data folder but not the user's key cannot slip tables or KPI
    actuals past the checks: a cached table or derived frame changed after it was stored
    (here: a valid Parquet file with one amount raised), or an entry made with another
    key, is computed again from the CSV files."""
    first = load_dataset(data, as_of=AS_OF)
    kq = kpi_actuals(first, "Q")
    (entry,) = _entries(data)
    for f in (entry / "derived").glob("*.parquet"):  # the KPI actuals, twice their value
        d = pd.read_parquet(f)
        if "value" in d.columns:
            d["value"] = d["value"] * 2
        d.to_parquet(f, index=True)
    pd.testing.assert_frame_equal(kpi_actuals(load_dataset(data, as_of=AS_OF), "Q"), kq, check_exact=True)
    orders = pd.read_parquet(entry / "tables" / "orders.parquet")  # an order raised by a million
    orders.loc[orders.index[0], "amount"] += 1_000_000
    orders.to_parquet(entry / "tables" / "orders.parquet", index=True)
    again = load_dataset(data, as_of=AS_OF)
    pd.testing.assert_frame_equal(again.orders, first.orders, check_exact=True)
    pd.testing.assert_frame_equal(kpi_actuals(again, "Q"), kq, check_exact=True)
    # another user's key (their own cache of the same folder): nothing of this one is read
    monkeypatch.setenv("KPI_WORKBOOK_CACHE_KEY", str(tmp_path / "other" / "cache.key"))
    calls = []
    real = tables.validate_tables
    monkeypatch.setattr(tables, "validate_tables", lambda *a, **k: calls.append(1) or real(*a, **k))
    pd.testing.assert_frame_equal(load_dataset(data, as_of=AS_OF).orders, first.orders, check_exact=True)
    assert calls == [1]
    assert (tmp_path / "other" / "cache.key").stat().st_mode & 0o077 == 0  # the key is its owner's only


def test_a_later_gate_reads_the_targets_checks_without_setting_the_targets(demo, demo_params, tmp_path, monkeypatch):
    """``validate`` and a run's gate need the targets' checks only: once an earlier process
    set the targets on the same data and plan files, they read the checks from the cache
    and set no target, and say the same; a plan the engine refuses is refused every time
    (its checks were never stored)."""
    import yaml

    from helpers.core.target_engine import TargetEngine
    from helpers.plan.params import load_params
    from helpers.run.checks import target_warnings

    cfg, params_file, params, period = _demo_plan(demo, demo_params, tmp_path)
    set_calls = []
    real = TargetEngine.all_targets
    monkeypatch.setattr(TargetEngine, "all_targets", lambda self, p: set_calls.append(1) or real(self, p))

    first = target_warnings(params, params_file, load_dataset(demo), period)
    assert set_calls == [1]
    again = target_warnings(params, params_file, load_dataset(demo), period)  # a new process on the same files
    assert set_calls == [1] and [str(p) for p in again] == [str(p) for p in first]
    # the demo plan sets a volume target of 0 for some managers: the warning is there both times
    assert any("is 0 for" in str(p) for p in first)

    # a plan the engine refuses (an unknown method) is refused by every gate, the cache notwithstanding
    plan = yaml.safe_load(Path(cfg["targets"]).read_text(encoding="utf-8"))
    first_indicator = next(iter(plan["indicators"]))
    plan["indicators"][first_indicator]["method"] = "no_such_method"
    bad = tmp_path / "targets.yaml"
    bad.write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    cfg["targets"] = str(bad)
    params_file.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    params = load_params(params_file)
    for _ in range(2):
        with pytest.raises(InputError):
            target_warnings(params, params_file, load_dataset(demo), period)
