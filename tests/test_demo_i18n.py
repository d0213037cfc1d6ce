"""The demo data has what the issue promises; the message catalog is complete."""

from __future__ import annotations

import pandas as pd

from helpers.data.tables import load_dataset
from helpers.data.demo import DemoConfig, generate, seasonality
from helpers.present.i18n import LANGUAGES, catalog


def test_demo_shape(demo_dir):
    ds = load_dataset(demo_dir, as_of=pd.Timestamp("2026-10-15"))  # validates too
    m = ds.managers
    assert len(m) == 48 and m["team_id"].nunique() == 6 and m["region"].nunique() == 3
    assert m["name"].is_unique and m["name"].str.match(r"^[\u4e00-\u9fff]{2,3}$").all()
    c = ds.customers
    assert 2000 <= len(c) <= 10000
    assert set(c["segment"]) == {"key", "small", "walkin"}
    o = ds.orders
    assert o["date"].min() >= pd.Timestamp("2024-01-01") and o["date"].max() <= pd.Timestamp("2026-09-30")
    months = o["date"].dt.to_period("M").nunique()
    assert months == 33
    for t in ("surveys", "complaints", "visits", "market", "ratings", "leads", "team_history", "teams"):
        assert ds.has(t) and len(ds[t])


def test_demo_story(demo_dir):
    ds = load_dataset(demo_dir, as_of=pd.Timestamp("2026-10-15"))
    m = ds.managers
    q3 = (pd.Timestamp("2026-07-01"), pd.Timestamp("2026-09-30"))
    hired = m[(m["hire_date"] > q3[0]) & (m["hire_date"] <= q3[1])]
    left = m[m["leave_date"].between(*q3)]
    assert len(hired) == 1 and len(left) == 1
    th = ds["team_history"]
    assert th["manager_id"].nunique() == 1 and th["team_id"].nunique() == 2  # one mover
    # heavy tail: the top 10 % of customers bring more than half the sales
    per_c = ds.orders.groupby("customer_id")["amount"].sum().sort_values(ascending=False)
    assert per_c.head(len(per_c) // 10).sum() > 0.5 * per_c.sum()
    # seasonality: Spring Festival month (Feb 2026) is the weakest month of 2026
    monthly = ds.orders.groupby(ds.orders["date"].dt.to_period("M"))["amount"].sum()
    assert monthly[monthly.index.year == 2026].idxmin() == pd.Period("2026-02")
    # growth: 2026 Q1–Q3 sales exceed the same months of 2025
    y = ds.orders.assign(y=ds.orders["date"].dt.year, mo=ds.orders["date"].dt.month)
    y = y[y["mo"] <= 9].groupby("y")["amount"].sum()
    assert y[2026] > y[2025]


def test_demo_deterministic_and_scalable():
    small = DemoConfig(managers=9, teams=3, start="2026-01", end="2026-03", customers_per_manager=20)
    a, b = generate(small), generate(small)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    more = generate(DemoConfig(managers=9, teams=3, start="2026-01", end="2026-03", customers_per_manager=20, order_rate=3))
    assert len(more["orders"]) > 2 * len(a["orders"])
    assert seasonality(pd.Period("2026-02", "M")) < 1 < seasonality(pd.Period("2026-12", "M"))


def test_catalog_complete():
    for key, entry in catalog().items():
        for lang in LANGUAGES:
            assert entry.get(lang), f"{key} lacks {lang}"


def test_readme_documents_the_data_model_and_kpis():
    from pathlib import Path

    import sys

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "tools"))
    from update_readme import render

    readme = (root / "README.md").read_text(encoding="utf-8")
    assert render(readme) == readme, "README is stale: run python tools/update_readme.py"
    assert "<!-- data-model:start -->\n### `teams`" in readme


def test_indicator_library_loads_and_maps_to_kpis(tiny_dir):
    from pathlib import Path

    from helpers.data.tables import load_dataset
    from helpers.kpis.indicators import indicator_values, load_library
    from helpers.kpis.measures import kpi_actuals

    lib = load_library(Path(__file__).resolve().parents[1] / "params" / "indicators.yaml")
    a = kpi_actuals(load_dataset(tiny_dir, as_of=pd.Timestamp("2026-10-01")), "Q")
    v = indicator_values(a, lib, "2026Q3", ["sales", "key_sales", "walkin_first_purchase", "joint_projects"])
    assert v.loc["M1", "sales"] == 1800 and v.loc["M1", "key_sales"] == 1500  # see test_kpis
    assert v.loc["M1", "walkin_first_purchase"] == 0.5  # L1 converted of L1, L2 (walk-in leads)
    assert v["joint_projects"].isna().all()  # not computable: n/a, not zero
