"""Declared measures (issue 20, first part): a consultant's YAML definition, computed per
manager and period and checked against the data model.  Every figure below is worked
out by hand from conftest.tiny_tables (orders O0–O5, two managers; M2 hired 2026-08-16)."""

from __future__ import annotations

import math

import pytest
import yaml

from conftest import tiny_tables, write_tables
from helpers.data.tables import load_dataset
from helpers.kpis.declared import declared_values, measure_problems
from helpers.plan.measures import MeasureDef


@pytest.fixture
def tiny(tmp_path):
    return load_dataset(write_tables(tmp_path / "tiny", tiny_tables()))


def measure(text: str) -> MeasureDef:
    return MeasureDef.model_validate(yaml.safe_load(text))


def value(ds, text: str, manager: str, period: str, freq: str = "Q", col: str = "value") -> float:
    v = declared_values(ds, measure(text), freq)
    row = v[(v["manager_id"] == manager) & (v["period"] == period)]
    assert len(row) == 1, v
    return float(row[col].iloc[0])


LINE_P = "{table: orders, where: {product_line: [P]}, aggregate: sum, column: amount}"


def test_sales_of_named_product_lines(tiny):
    # M1, 2026Q3, line P: O1 1,000 + O3 200; line Q: O2 500 + O4 100; M2: O5 400 (P)
    assert value(tiny, LINE_P, "M1", "2026Q3") == 1200.0
    assert value(tiny, LINE_P, "M2", "2026Q3") == 400.0
    assert value(tiny, "{table: orders, where: {product_line: [P, Q]}, aggregate: sum, column: amount}",
                 "M1", "2026Q3") == 1800.0
    assert value(tiny, LINE_P, "M1", "2026Q2") == 800.0  # O0
    assert value(tiny, LINE_P, "M1", "2026-07", "M") == 1000.0  # O1 alone in July


def test_share_of_a_product_line_in_sales(tiny):
    share = f"{{ratio: {{numerator: {LINE_P}, denominator: {{table: orders, aggregate: sum, column: amount}}}}}}"
    assert value(tiny, share, "M1", "2026Q3") == pytest.approx(1200 / 1800, abs=1e-12)
    assert value(tiny, share, "M1", "2026Q3", col="denominator") == 1800.0
    assert value(tiny, share, "M2", "2026Q3") == 1.0  # all of M2's sales are line P


def test_coefficient_weighted_volume(tiny):
    weighted = "{table: orders, aggregate: sum, column: amount, weights: {by: product_line, values: {P: 1.2, Q: 0.5}}}"
    assert value(tiny, weighted, "M1", "2026Q3") == pytest.approx(1200 * 1.2 + 600 * 0.5, abs=1e-9)  # 1,740
    default = "{table: orders, aggregate: sum, column: amount, weights: {by: product_line, values: {Q: 0.5}, default: 2}}"
    assert value(tiny, default, "M1", "2026Q3") == pytest.approx(1200 * 2 + 600 * 0.5, abs=1e-9)


def test_filters_counts_and_no_data(tiny):
    big = "{table: orders, where: {amount: {min: 500}}, aggregate: count}"
    assert value(tiny, big, "M1", "2026Q3") == 2.0  # O1 1,000 and O2 500
    assert value(tiny, "{table: orders, aggregate: distinct, column: customer_id}", "M1", "2026Q3") == 3.0  # C1-C3
    assert value(tiny, "{table: orders, aggregate: mean, column: amount}", "M1", "2026Q3") == 450.0  # 1,800 / 4
    # a quarter without a single line Q order: a sum of 0, but no mean (no data is not a value)
    assert value(tiny, "{table: orders, where: {product_line: [Q]}, aggregate: sum, column: amount}",
                 "M1", "2026Q2") == 0.0
    assert math.isnan(value(tiny, "{table: orders, where: {product_line: [Q]}, aggregate: mean, column: amount}",
                            "M1", "2026Q2"))
    v = declared_values(tiny, measure(LINE_P), "Q")
    assert "2026Q2" not in set(v.loc[v["manager_id"] == "M2", "period"])  # not employed then: no row at all


def test_change_against_the_previous_period(tiny):
    change = "{table: orders, where: {product_line: [P]}, aggregate: sum, column: amount, change: previous}"
    assert value(tiny, change, "M1", "2026Q3") == 400.0  # 1,200 − 800
    assert math.isnan(value(tiny, change, "M2", "2026Q3"))  # nothing before: no change


def test_credit_to_the_responsible_manager(tiny):
    # the surveys name no manager: each counts for the customer's manager on its date (C1, C2, C3: M1)
    assert value(tiny, "{table: surveys, aggregate: count, credit: responsible}", "M1", "2026Q3") == 3.0
    assert value(tiny, "{table: surveys, aggregate: mean, column: csat, credit: responsible}",
                 "M1", "2026Q3") == pytest.approx(4.0, abs=1e-12)  # (5 + 3 + 4) / 3


@pytest.mark.parametrize("text, key, fragment", [
    ("{table: order, aggregate: sum, column: amount}", "key 'm.table'", "'order' is not a table of the data model"),
    ("{table: orders, aggregate: sum, column: revenue}", "key 'm.column'", "'revenue' is not a column of orders"),
    ("{table: orders, aggregate: median, column: amount}", "key 'm.aggregate'", "'median' is not an aggregate"),
    ("{table: orders, aggregate: sum, column: product_line}", "key 'm.aggregate'",
     "'sum' needs numbers, and orders.product_line is text"),
    ("{table: orders, where: {product_line: {min: 3}}, aggregate: count}", "key 'm.where.product_line'",
     "a range needs numbers"),
    ("{table: orders, aggregate: max, column: amount, weights: {by: product_line, values: {P: 2}}}",
     "key 'm.weights'", "coefficients cannot weigh 'max'"),
    ("{table: surveys, aggregate: count}", "key 'm.credit'", "surveys names no manager"),
    ("{table: orders, where: {amount: [big]}, aggregate: count}", "key 'm.where.amount'",
     "orders.amount holds numbers, and the values listed are not all numbers"),
    ("{ratio: {numerator: {table: orders, aggregate: sum, column: amount}, "
     "denominator: {table: orders, aggregate: sum}}}", "key 'm.ratio.denominator.column'", "'sum' needs a column"),
])
def test_a_definition_the_data_model_cannot_compute_names_its_key(text, key, fragment):
    problems = measure_problems(measure(text), "indicators.yaml", "m")
    assert len(problems) == 1, problems
    p = problems[0]
    assert p.source == "indicators.yaml" and p.where == key and fragment in p.what and p.fix


def test_a_definition_with_neither_table_nor_ratio_is_refused():
    with pytest.raises(ValueError, match="needs 'table' and 'aggregate'"):
        measure("{aggregate: sum, column: amount}")


# ------------------------------------------------------------------ the same definition in DuckDB

DEFINITIONS = [
    LINE_P,
    "{table: orders, where: {product_line: [P, Q]}, aggregate: sum, column: amount}",
    "{table: orders, aggregate: sum, column: amount, weights: {by: product_line, values: {P: 1.2, Q: 0.5}}}",
    "{table: orders, where: {amount: {min: 500}}, aggregate: count}",
    "{table: orders, where: {amount: [500, 1000]}, aggregate: sum, column: profit}",
    "{table: orders, aggregate: distinct, column: customer_id}",
    "{table: orders, aggregate: mean, column: amount, weights: {by: product_line, values: {Q: 3}}}",
    "{table: orders, aggregate: min, column: profit}",
    "{table: orders, aggregate: max, column: amount, where: {product_line: [Q]}}",
    f"{{ratio: {{numerator: {LINE_P}, denominator: {{table: orders, aggregate: sum, column: amount}}}}}}",
    "{table: orders, where: {product_line: [P]}, aggregate: sum, column: amount, change: previous}",
    "{table: orders, aggregate: sum, column: amount, change: year_ago}",
    "{table: surveys, aggregate: count, credit: responsible}",
    "{table: surveys, aggregate: mean, column: csat, credit: responsible}",
    "{table: orders, aggregate: sum, column: amount, credit: responsible}",
    "{table: visits, where: {channel: [call]}, aggregate: count}",
]


def _both(ds, text: str, freq: str):
    import duckdb
    import pandas as pd

    from helpers.kpis.declared_duckdb import aggregator

    m = measure(text)
    a = declared_values(ds, m, freq)
    with duckdb.connect() as con:
        b = declared_values(ds, m, freq, aggregator(con))
    pd.testing.assert_frame_equal(a, b, check_exact=False, atol=1e-9, rtol=1e-12)  # summation order
    return a


@pytest.mark.parametrize("freq", ["Q", "M"])
@pytest.mark.parametrize("text", DEFINITIONS)
def test_duckdb_computes_the_same_definition(tiny, text, freq):
    a = _both(tiny, text, freq)
    assert len(a) > 0


@pytest.mark.parametrize("text", [
    "{table: orders, where: {product_line: [高端系列, 增值服务]}, aggregate: sum, column: amount}",
    "{ratio: {numerator: {table: orders, where: {product_line: [高端系列]}, aggregate: sum, column: amount}, "
    "denominator: {table: orders, aggregate: sum, column: amount}}}",
    "{table: orders, aggregate: sum, column: amount, weights: {by: product_line, values: {高端系列: 1.2, 配件耗材: 0.3}}}",
    "{table: customers, where: {segment: [key]}, aggregate: count, credit: row}",
    "{table: orders, where: {amount: {min: 5000}}, aggregate: distinct, column: customer_id, credit: responsible}",
    "{table: orders, first_per: customer_id, customer: {segment: [key]}, where: {amount: {min: 50000}}, "
    "aggregate: count}",
    "{table: visits, where: {channel: [call]}, customer: {segment: [key, small]}, aggregate: count, months: 12}",
])
def test_duckdb_and_pandas_agree_on_the_demo(demo_dir, text):
    from helpers.data.tables import load_dataset

    ds = load_dataset(demo_dir)
    a = _both(ds, text, "Q")
    assert a["value"].abs().sum() > 0 and a["manager_id"].nunique() == len(ds.managers)


# ------------------------------------------------------------- indicators that declare a measure

LIBRARY = """
extends: {base}
indicators:
- id: line_p_sales
  zh: P 产品线销售额
  en: Line P sales
  family: performance
  unit: currency
  higher_is_better: true
  kind: hard
  measure: {{table: orders, where: {{product_line: [P]}}, aggregate: sum, column: amount}}
- id: assigned_customers
  zh: 分配客户数
  en: Customers assigned
  family: relationship
  unit: count
  higher_is_better: true
  kind: hard
  measure: {{table: assignments, aggregate: count}}
"""


@pytest.fixture
def plan_library(tmp_path):
    from pathlib import Path

    from helpers.kpis.indicators import load_library

    base = Path(__file__).resolve().parents[1] / "params" / "indicators.yaml"
    (tmp_path / "indicators.yaml").write_text(LIBRARY.format(base=base), encoding="utf-8")
    return load_library(tmp_path / "indicators.yaml")


def test_an_indicator_declares_its_measure_and_the_actuals_carry_it(tiny, plan_library):
    from helpers.kpis.indicators import indicator_values
    from helpers.kpis.measures import availability, kpi_actuals

    lib = plan_library
    assert "sales" in lib and lib["line_p_sales"].kpi == "line_p_sales"  # the shipped library, then its own
    assert lib["line_p_sales"].formula == "sum(orders.amount | product_line ∈ {P})"
    ds = tiny.with_measures(lib.declared())
    assert ds.with_measures(lib.declared()) is ds and tiny.measures == ()  # one view per definition; the data unchanged
    a = kpi_actuals(ds, "Q")
    row = a[(a["kpi"] == "line_p_sales") & (a["manager_id"] == "M1") & (a["period"] == "2026Q3")]
    assert len(row) == 1 and float(row["value"].iloc[0]) == 1200.0 and row["segment"].iloc[0] == "all"
    assert indicator_values(a, lib, "2026Q3", ["line_p_sales"]).loc["M2", "line_p_sales"] == 400.0
    assert "line_p_sales" not in set(kpi_actuals(tiny, "Q")["kpi"])
    av = availability(ds).set_index("kpi")
    assert bool(av.loc["line_p_sales", "available"]) and av.loc["line_p_sales", "zh"] == "P 产品线销售额"
    # a measure of a table the data lacks is not available (never 0), and has no actuals
    assert not bool(av.loc["assigned_customers", "available"]) and av.loc["assigned_customers", "missing"] == "assignments"
    assert "assigned_customers" not in set(a["kpi"])


@pytest.mark.parametrize("entry, fragment", [
    ("{id: x, zh: X, en: X, family: performance, unit: currency, higher_is_better: true, kind: hard, kpi: sales, "
     "measure: {table: orders, aggregate: count}}", "either 'kpi'"),
    ("{id: sales, zh: X, en: X, family: performance, unit: currency, higher_is_better: true, kind: hard, "
     "measure: {table: orders, aggregate: count}}", "built-in KPI"),
    ("{id: x, zh: X, en: X, family: performance, unit: currency, higher_is_better: true, kind: hard, segment: key, "
     "measure: {table: orders, aggregate: count}}", "measure.where"),
    ("{id: x, zh: X, en: X, family: performance, unit: currency, higher_is_better: true, kind: hard, "
     "measure: {table: orders}}", "needs 'table' and 'aggregate'"),
])
def test_an_indicator_with_a_bad_measure_is_refused_with_its_key(tmp_path, entry, fragment):
    from helpers.errors import InputError
    from helpers.kpis.indicators import load_library

    (tmp_path / "lib.yaml").write_text(f"indicators:\n- {entry}\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_library(tmp_path / "lib.yaml")
    text = str(exc.value)
    assert fragment in text and "indicators[0]" in text and "lib.yaml" in text


def test_extends_refuses_an_id_twice_and_a_loop(tmp_path):
    from helpers.errors import InputError
    from helpers.kpis.indicators import load_library

    (tmp_path / "a.yaml").write_text("extends: b.yaml\nindicators: []\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nindicators: []\n", encoding="utf-8")
    with pytest.raises(InputError, match="extends"):
        load_library(tmp_path / "a.yaml")
    one = ("- {id: s, zh: S, en: S, family: performance, kpi: sales, unit: currency, higher_is_better: true, "
           "kind: hard}\n")
    (tmp_path / "base.yaml").write_text("indicators:\n" + one, encoding="utf-8")
    (tmp_path / "child.yaml").write_text("extends: base.yaml\nindicators:\n" + one, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_library(tmp_path / "child.yaml")
    assert "already defined in base.yaml" in str(exc.value) and "indicators[0].id" in str(exc.value)


def test_data_quality_names_a_declared_measure_by_its_yaml_names(tiny, plan_library):
    """The data-quality report lists a KPI without a base or not available by name: a
    declared measure's name is the YAML's (the availability table carries it)."""
    from types import SimpleNamespace

    from helpers.kpis.measures import availability
    from helpers.notebooks.dataquality import _name

    av = availability(tiny.with_measures(plan_library.declared()))
    assert _name(SimpleNamespace(language="zh", availability=av), "line_p_sales") == "P 产品线销售额"
    assert _name(SimpleNamespace(language="en", availability=av), "assigned_customers") == "Customers assigned"
    assert _name(SimpleNamespace(language="en", availability=av), "csat") == "Customer satisfaction (CSAT)"


# ------------------------------------------------------------- periodic balances (average daily balance)

BALANCES = [
    {"date": "2026-07-31", "manager_id": "M1", "customer_id": "", "product": "savings", "balance": 1000},
    {"date": "2026-07-31", "manager_id": "M1", "customer_id": "", "product": "time", "balance": 2000},
    {"date": "2026-08-31", "manager_id": "M1", "customer_id": "", "product": "savings", "balance": 1200},
    {"date": "2026-08-31", "manager_id": "M1", "customer_id": "", "product": "time", "balance": 2000},
    {"date": "2026-08-31", "manager_id": "M2", "customer_id": "", "product": "savings", "balance": 600},
    {"date": "2026-09-30", "manager_id": "M1", "customer_id": "", "product": "savings", "balance": 1300},
    {"date": "2026-09-30", "manager_id": "M1", "customer_id": "", "product": "time", "balance": 2300},
    {"date": "2026-09-30", "manager_id": "M2", "customer_id": "", "product": "savings", "balance": 900},
    {"date": "2026-09-30", "manager_id": "", "customer_id": "C1", "product": "savings", "balance": 500},
]


@pytest.fixture
def with_balances(tmp_path):
    return load_dataset(write_tables(tmp_path / "tiny", {**tiny_tables(), "balances": BALANCES}))


BAL = "{table: balances, aggregate: balance_mean, column: balance}"


def test_average_balance_over_the_dates_of_the_period(with_balances):
    ds = with_balances
    # M1, month-end balances of 2026Q3: (3,000 + 3,200 + 3,600) / 3
    assert value(ds, BAL, "M1", "2026Q3") == pytest.approx(9800 / 3, abs=1e-9)
    # M2 was hired on 2026-08-16: averaged over the two month ends since, (600 + 900) / 2
    assert value(ds, BAL, "M2", "2026Q3") == pytest.approx(750, abs=1e-9)
    assert value(ds, BAL, "M1", "2026-07", "M") == 3000
    savings = "{table: balances, where: {product: [savings]}, aggregate: balance_mean, column: balance}"
    assert value(ds, savings, "M1", "2026Q3") == pytest.approx(3500 / 3, abs=1e-9)
    weighted = ("{table: balances, aggregate: balance_mean, column: balance, "
                "weights: {by: product, values: {savings: 1.1, time: 0.3}}}")
    assert value(ds, weighted, "M1", "2026Q3") == pytest.approx((1100 + 600 + 1320 + 600 + 1430 + 690) / 3, abs=1e-9)
    # a customer's balance credited to the customer's responsible manager (C1: M1), over M1's three dates
    by_customer = "{table: balances, aggregate: balance_mean, column: balance, credit: responsible}"
    assert value(ds, by_customer, "M1", "2026Q3") == pytest.approx(500 / 3, abs=1e-9)
    for text in (BAL, savings, weighted, by_customer):
        for freq in ("Q", "M"):
            _both(ds, text, freq)  # DuckDB computes the same


def test_a_balance_without_holder_is_refused_with_its_row(tmp_path):
    from helpers.errors import InputError

    rows = [*BALANCES, {"date": "2026-09-30", "manager_id": "", "customer_id": "", "product": "savings", "balance": 1}]
    folder = write_tables(tmp_path / "tiny", {**tiny_tables(), "balances": rows})
    with pytest.raises(InputError) as exc:
        load_dataset(folder)
    text = str(exc.value)
    assert "balances.csv" in text and "row 11, column manager_id" in text and "neither a manager nor a customer" in text


def test_balances_are_optional_and_a_measure_of_them_is_not_available_without(tiny):
    from helpers.kpis.measures import availability, kpi_actuals
    from helpers.plan.measures import Declared

    d = Declared("adb", "日均余额", "Average balance", "currency", measure(BAL))
    ds = tiny.with_measures([d])
    av = availability(ds).set_index("kpi")
    assert not bool(av.loc["adb", "available"]) and av.loc["adb", "missing"] == "balances"
    assert "adb" not in set(kpi_actuals(ds, "Q")["kpi"])


def test_a_date_window_relative_to_the_period(tiny):
    """months: N — the rows of the N months up to the period's last month (M1's line P:
    June 800, July 1,000, August 200)."""
    p3 = "{table: orders, where: {product_line: [P]}, aggregate: sum, column: amount, months: 3}"
    assert value(tiny, p3, "M1", "2026-08", "M") == 2000.0   # June + July + August
    assert value(tiny, p3, "M1", "2026-07", "M") == 1800.0   # May–July
    assert value(tiny, p3, "M1", "2026-09", "M") == 1200.0   # July–September
    year = "{table: orders, where: {product_line: [P]}, aggregate: sum, column: amount, months: 12}"
    assert value(tiny, year, "M1", "2026Q3") == 2000.0        # October 2025 – September 2026
    assert value(tiny, year, "M1", "2026Q2") == 800.0
    assert value(tiny, "{table: orders, aggregate: count, months: 2}", "M1", "2026-08", "M") == 4.0  # O1, O2, O4; O3
    assert value(tiny, "{table: orders, aggregate: max, column: amount, months: 3}", "M1", "2026-08", "M") == 1000.0
    assert measure(year).grows is False  # a rolling year is not pro-rated for a part-period manager
    problems = measure_problems(measure("{table: orders, aggregate: mean, column: amount, months: 3}"), "lib.yaml", "m")
    assert [p.where for p in problems] == ["key 'm.months'"]
    for text in (p3, year):
        for freq in ("Q", "M"):
            _both(tiny, text, freq)  # DuckDB computes the same


def test_each_customers_first_row_and_a_filter_on_the_customer(tiny):
    """first_per: customer_id keeps each customer's first order (C1: O0 in June, C2: O3,
    C3: O4, C4: O5); customer: {segment: [...]} filters on the row's customer."""
    big_first = "{table: orders, first_per: customer_id, where: {amount: {min: 300}}, aggregate: count}"
    assert value(tiny, big_first, "M1", "2026Q2") == 1.0   # C1's first order, 800 in June
    assert value(tiny, big_first, "M1", "2026Q3") == 0.0   # C2 200 and C3 100: first orders below 300
    assert value(tiny, big_first, "M2", "2026Q3") == 1.0   # C4, 400
    key_sales = "{table: orders, customer: {segment: [key]}, aggregate: sum, column: amount}"
    assert value(tiny, key_sales, "M1", "2026Q3") == 1500.0  # C1: O1 1,000 + O2 500
    small = "{table: orders, customer: {segment: [small]}, aggregate: sum, column: amount}"
    assert value(tiny, small, "M1", "2026Q3") == 200.0 and value(tiny, small, "M2", "2026Q3") == 400.0
    new_key = ("{table: orders, first_per: customer_id, customer: {segment: [key]}, where: {amount: {min: 500}}, "
               "aggregate: count}")  # new key accounts whose first order is at least 500
    assert value(tiny, new_key, "M1", "2026Q2") == 1.0 and value(tiny, new_key, "M1", "2026Q3") == 0.0
    assert measure(new_key).simple().first_per == "customer_id"
    for text in (big_first, key_sales, new_key):
        for freq in ("Q", "M"):
            _both(tiny, text, freq)  # DuckDB computes the same


@pytest.mark.parametrize("text, key", [
    ("{table: orders, first_per: client, aggregate: count}", "m.first_per"),
    ("{table: leads, customer: {segment: [key]}, aggregate: count}", "m.customer"),
    ("{table: orders, customer: {tier: [gold]}, aggregate: count}", "m.customer.tier"),
])
def test_a_bad_first_or_customer_filter_names_its_key(text, key):
    problems = measure_problems(measure(text), "lib.yaml", "m")
    assert [p.where for p in problems] == [f"key '{key}'"]
