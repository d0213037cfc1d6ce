"""Tests for helpers.core.strategy (strategy files, KPI tree, validation, strategy shift).

Expected weights are computed by hand in the comments (global weight = product of
the local weights down the path); percentile scores by the mid-point formula
p = 100 × (below + ½ · equal) / n, written out per case.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers.errors import InputError
from helpers.kpis.indicators import load_library
from helpers.plan.params import load_params
from helpers.run.checks import strategy_warnings
from helpers.context.strategy import check_strategies as check
from helpers.context.strategy import load_strategy
from helpers.plan.strategy import ROOT, parse_strategy
from helpers.core.strategy import (
    for_manager,
    percentile_scores,
    pillar_split,
    rank_shift,
    strategy_problems,
    strategy_scores,
    weight_changes,
)

ROOT_DIR = Path(__file__).resolve().parents[1]
PARAMS = ROOT_DIR / "params"
PRESETS = ("expansion", "upmarket", "market_share", "loyalty")


@pytest.fixture(scope="module")
def lib():
    return load_library(PARAMS / "indicators.yaml")


def base_spec() -> dict:
    """hard 0.7 / soft 0.3; acquire 0.5 and grow 0.5 under hard; care 1.0 under soft."""
    return {
        "id": "test",
        "zh": "测试",
        "en": "Test",
        "summary": {"zh": "测试战略", "en": "A test strategy"},
        "split": {"hard": 0.7, "soft": 0.3},
        "objectives": [
            {"id": "acquire", "zh": "获客", "en": "Acquire", "parent": "hard", "weight": 0.5,
             "indicators": [{"id": "new_customers", "weight": 0.4}, {"id": "conversion_rate", "weight": 0.6}]},
            {"id": "grow", "zh": "增长", "en": "Grow", "parent": "hard", "weight": 0.5,
             "indicators": [{"id": "sales", "weight": 1.0}]},
            {"id": "care", "zh": "关怀", "en": "Care", "parent": "soft", "weight": 1.0,
             "indicators": [{"id": "visits", "weight": 0.5}, {"id": "visit_coverage", "weight": 0.5}]},
        ],
    }


def write(tmp_path: Path, spec: dict, name: str = "test") -> tuple[Path, str]:
    folder = tmp_path / "strategies"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path, f"strategies/{name}.yaml"


def problems_of(tmp_path: Path, spec: dict, lib, teams=None) -> list:
    path, label = write(tmp_path, spec)
    return strategy_problems(parse_strategy(path, label), lib, label, teams)


# ----------------------------------------------------------------------------- weight arithmetic


def test_global_weights_by_hand(tmp_path, lib):
    path, label = write(tmp_path, base_spec())
    tree = load_strategy(path, lib, label).tree()
    w = tree.weights()
    # new_customers: hard 0.7 × acquire 0.5 × 0.4 = 0.14; conversion_rate: 0.7 × 0.5 × 0.6 = 0.21
    # sales: 0.7 × 0.5 × 1.0 = 0.35; visits, visit_coverage: soft 0.3 × care 1.0 × 0.5 = 0.15
    expected = {"new_customers": 0.14, "conversion_rate": 0.21, "sales": 0.35, "visits": 0.15, "visit_coverage": 0.15}
    assert w.to_dict() == pytest.approx(expected)
    assert w.sum() == pytest.approx(1.0)
    assert pillar_split(tree) == pytest.approx({"hard": 0.7, "soft": 0.3})
    n = tree.nodes.set_index("id")
    assert n.loc["acquire", "weight"] == pytest.approx(0.35)  # 0.7 × 0.5
    assert n.loc["new_customers", "path"] == "test/hard/acquire/new_customers"
    assert n.loc[ROOT, "kind"] == "strategy" and n.loc["hard", "depth"] == 1


def test_objective_times_indicator(tmp_path, lib):
    """The brief's example: objective 0.4 × indicator 0.5 = 0.2 (whole weight on results)."""
    spec = base_spec()
    spec["split"] = {"hard": 1.0, "soft": 0.0}
    spec["objectives"] = [
        {"id": "a", "zh": "甲", "en": "A", "parent": "hard", "weight": 0.4,
         "indicators": [{"id": "sales", "weight": 0.5}, {"id": "profit", "weight": 0.5}]},
        {"id": "b", "zh": "乙", "en": "B", "parent": "hard", "weight": 0.6, "indicators": [{"id": "orders", "weight": 1}]},
    ]
    path, label = write(tmp_path, spec)
    w = load_strategy(path, lib, label).tree().weights()
    assert w["sales"] == pytest.approx(0.2) and w["profit"] == pytest.approx(0.2)  # 1 × 0.4 × 0.5
    assert w["orders"] == pytest.approx(0.6)  # 1 × 0.6 × 1


def test_sub_objectives(tmp_path, lib):
    spec = base_spec()
    spec["split"] = {"hard": 1.0, "soft": 0.0}
    spec["objectives"] = [
        {"id": "x", "zh": "X", "en": "X", "parent": "hard", "weight": 1.0, "indicators": [{"id": "sales", "weight": 0.5}]},
        {"id": "y", "zh": "Y", "en": "Y", "parent": "x", "weight": 0.5,
         "indicators": [{"id": "profit", "weight": 0.6}, {"id": "orders", "weight": 0.4}]},
    ]
    path, label = write(tmp_path, spec)
    tree = load_strategy(path, lib, label).tree()
    w = tree.weights()
    # sales 1 × 1 × 0.5 = 0.5; profit 1 × 1 × 0.5 × 0.6 = 0.3; orders 1 × 1 × 0.5 × 0.4 = 0.2
    assert w.to_dict() == pytest.approx({"sales": 0.5, "profit": 0.3, "orders": 0.2})
    assert tree.nodes.set_index("id").loc["profit", "path"] == "test/hard/x/y/profit"


def test_weights_within_tolerance_are_normalised(tmp_path, lib):
    spec = base_spec()
    spec["objectives"][2]["indicators"] = [{"id": "visits", "weight": 0.333}, {"id": "visit_coverage", "weight": 0.333},
                                           {"id": "attitude", "weight": 0.333}]
    path, label = write(tmp_path, spec)
    w = load_strategy(path, lib, label).tree().weights()
    # 0.333 × 3 = 0.999 (within 0.005): each becomes 0.333 / 0.999 = 1/3 of soft 0.3 = 0.1
    assert w["visits"] == pytest.approx(0.1) and w.sum() == pytest.approx(1.0, abs=1e-12)


def test_overrides_cascade_most_specific_wins(tmp_path, lib):
    spec = base_spec()
    spec["overrides"] = {
        "regions": {"华北": {"weights": {"acquire": 0.8, "grow": 0.2}}},
        "teams": {"north-1": {"weights": {"acquire": 0.6, "grow": 0.4, "hard": 0.6, "soft": 0.4}}},
    }
    path, label = write(tmp_path, spec)
    s = load_strategy(path, lib, label)
    # region: sales = 0.7 × 0.2 × 1 = 0.14
    assert s.tree(region="华北").weights()["sales"] == pytest.approx(0.14)
    # team overrides the region: sales = 0.6 × 0.4 = 0.24; visits = 0.4 × 1 × 0.5 = 0.2
    t = s.tree(region="华北", team="north-1")
    assert t.weights()["sales"] == pytest.approx(0.24) and t.weights()["visits"] == pytest.approx(0.2)
    assert t.applied == ("region 华北", "team north-1")
    # another team of another region: the company tree
    assert s.tree(region="华东", team="east-1").weights()["sales"] == pytest.approx(0.35)


def test_for_manager_drops_segments_not_served(tmp_path, lib):
    spec = base_spec()
    spec["objectives"][1]["indicators"] = [{"id": "sales", "weight": 0.5}, {"id": "key_sales", "weight": 0.5}]
    spec["objectives"].insert(2, {"id": "keys", "zh": "大客户", "en": "Keys", "parent": "hard", "weight": 0.0,
                                  "indicators": [{"id": "key_csat", "weight": 1.0}]})
    path, label = write(tmp_path, spec)
    team = load_strategy(path, lib, label).tree()
    m = for_manager(team, {"small", "walkin"}, "M1")
    # key_sales and key_csat apply to key accounts only: dropped.  grow keeps sales alone:
    # sales = 0.7 × 0.5 × 1 = 0.35 (was 0.7 × 0.5 × 0.5 = 0.175); the objective 'keys' goes.
    assert set(m.dropped) == {"key_sales", "key_csat"}
    assert m.weights()["sales"] == pytest.approx(0.35)
    assert "keys" not in set(m.nodes["id"])
    assert m.weights().sum() == pytest.approx(1.0)
    same = for_manager(team, {"key", "small", "walkin"})
    assert same.weights().to_dict() == pytest.approx(team.weights().to_dict())


def test_weight_changes_by_hand(tmp_path, lib):
    a_path, a_label = write(tmp_path, base_spec(), "a")
    spec = base_spec()
    spec["objectives"][0]["weight"], spec["objectives"][1]["weight"] = 0.2, 0.8
    b_path, b_label = write(tmp_path, spec, "b")
    a = load_strategy(a_path, lib, a_label).tree()
    b = load_strategy(b_path, lib, b_label).tree()
    ch = weight_changes(a, b).set_index("indicator")
    # sales 0.35 → 0.7 × 0.8 = 0.56 (+0.21); new_customers 0.14 → 0.7 × 0.2 × 0.4 = 0.056 (−0.084)
    assert ch.loc["sales", "change"] == pytest.approx(0.21)
    assert ch.loc["new_customers", "change"] == pytest.approx(-0.084)
    assert ch.loc["visits", "change"] == pytest.approx(0.0)
    assert ch.index[0] == "sales"  # largest increase first


# ----------------------------------------------------------------------------- validation


def whats(problems) -> str:
    return "\n".join(str(p) for p in problems)


def test_valid_spec_has_no_problems(tmp_path, lib):
    assert problems_of(tmp_path, base_spec(), lib) == []


def test_weights_not_summing_to_one(tmp_path, lib):
    spec = base_spec()
    spec["objectives"][0]["id"] = "loyalty"
    spec["objectives"][0]["indicators"] = [{"id": "new_customers", "weight": 0.4}, {"id": "conversion_rate", "weight": 0.5}]
    path, label = write(tmp_path, spec, "loyalty")
    with pytest.raises(InputError) as exc:
        load_strategy(path, lib, label)
    text = str(exc.value)
    assert "strategies/loyalty.yaml: objective 'loyalty': weights sum to 0.9" in text
    assert "new_customers 0.4 + conversion_rate 0.5" in text


def test_split_and_pillar_sums(tmp_path, lib):
    spec = base_spec()
    spec["split"] = {"hard": 0.8, "soft": 0.3}
    spec["objectives"][1]["weight"] = 0.4
    text = whats(problems_of(tmp_path, spec, lib))
    assert "split (hard = 业绩考核, soft = 市场考核): weights sum to 1.1 (hard 0.8 + soft 0.3)" in text
    assert "pillar 'hard': weights sum to 0.9 (acquire 0.5 + grow 0.4)" in text


def test_unknown_indicator_with_suggestion(tmp_path, lib):
    spec = base_spec()
    spec["objectives"][0]["indicators"][0]["id"] = "new_custmers"
    text = whats(problems_of(tmp_path, spec, lib))
    assert "objective 'acquire': unknown indicator 'new_custmers'" in text
    assert "did you mean 'new_customers'" in text


def test_cycle_and_orphans(tmp_path, lib):
    spec = base_spec()
    spec["objectives"] += [
        {"id": "a", "zh": "甲", "en": "A", "parent": "b", "weight": 1, "indicators": [{"id": "profit", "weight": 1}]},
        {"id": "b", "zh": "乙", "en": "B", "parent": "a", "weight": 1, "indicators": [{"id": "orders", "weight": 1}]},
        {"id": "lost", "zh": "丢", "en": "Lost", "parent": "nowhere", "weight": 1, "indicators": [{"id": "aov", "weight": 1}]},
        {"id": "empty", "zh": "空", "en": "Empty", "parent": "grow", "weight": 0},
    ]
    problems = problems_of(tmp_path, spec, lib)
    text = whats(problems)
    assert "objectives form a cycle: 'a' → 'b' → 'a'" in text
    assert text.count("form a cycle") == 1  # reported once, not once per member
    assert "objective 'lost': parent 'nowhere' is neither a pillar" in text
    assert "objective 'empty': has no indicators and no sub-objectives" in text


def test_duplicate_ids(tmp_path, lib):
    spec = base_spec()
    spec["objectives"].append(copy.deepcopy(spec["objectives"][1]))  # 'grow' twice, 'sales' twice
    spec["objectives"].append({"id": "profit", "zh": "利", "en": "P", "parent": "soft", "weight": 0,
                               "indicators": [{"id": "attitude", "weight": 1}]})
    text = whats(problems_of(tmp_path, spec, lib))
    assert "objective id 'grow' is used 2 times" in text
    assert "indicator 'sales' appears 2 times (objectives 'grow', 'grow')" in text
    assert "objective id 'profit' is also an indicator id" in text


def test_kind_must_match_pillar(tmp_path, lib):
    spec = base_spec()
    spec["objectives"][1]["indicators"] = [{"id": "attitude", "weight": 1.0}]  # soft indicator under hard
    text = whats(problems_of(tmp_path, spec, lib))
    assert "objective 'grow': indicator 'attitude' is soft (市场考核) but sits under pillar 'hard' (业绩考核)" in text


def test_pillar_with_weight_but_no_objectives(tmp_path, lib):
    spec = base_spec()
    spec["objectives"] = spec["objectives"][:2]
    text = whats(problems_of(tmp_path, spec, lib))
    assert "pillar 'soft': has weight 0.3 but no objectives" in text


def test_pydantic_shape_errors_name_the_key(tmp_path, lib):
    spec = base_spec()
    spec["objectives"][0]["weight"] = -0.5
    spec["colour"] = "blue"
    path, label = write(tmp_path, spec)
    with pytest.raises(InputError) as exc:
        parse_strategy(path, label)
    text = str(exc.value)
    assert "strategies/test.yaml: key 'objectives[0].weight'" in text and "greater than or equal to 0" in text
    assert "key 'colour': unknown key" in text


def test_segment_default_problems(tmp_path, lib):
    spec = base_spec()
    spec["segment_defaults"] = {
        "key": [{"indicator": "key_csat", "target": 90}],  # a percentage typed as 90, not 0.9
        "small": [{"indicator": "key_sales", "target": 0.2, "type": "growth"},  # key-account indicator
                  {"indicator": "smal_conversion", "target": 0.15}],
    }
    text = whats(problems_of(tmp_path, spec, lib))
    assert "segment_defaults.key[0]: target 90 is outside 0…1 for a ratio" in text
    assert "segment_defaults.small[0]: indicator 'key_sales' applies to key, not small" in text
    assert "unknown indicator 'smal_conversion'" in text and "did you mean 'small_conversion'" in text


def test_override_problems(tmp_path, lib):
    spec = base_spec()
    spec["overrides"] = {"regions": {"华北": {"weights": {"acquire": 0.6}}, "火星": {"weights": {"acquir": 0.5}}},
                         "teams": {"east-9": {"weights": {"visits": 0.5}}}}
    text = whats(problems_of(tmp_path, spec, lib, teams={"east-1": "华东", "north-1": "华北"}))
    assert "pillar 'hard' (override for region 华北): weights sum to 1.1 (acquire 0.6 + grow 0.5)" in text
    assert "override for region 火星: 'acquir' is not a node of the tree" in text
    # regions and teams the data lacks: not problems (a preset written for another company), warnings
    assert "is not in the data" not in text
    from helpers.core.strategy import override_warnings

    path, label = write(tmp_path, spec)
    warned = whats(override_warnings(parse_strategy(path, label), {"east-1": "华东", "north-1": "华北"}, label))
    assert "overrides.regions.火星: region '火星' is not in the data: its override is not used" in warned
    assert "overrides.teams.east-9: team 'east-9' is not in the data: its override is not used" in warned
    assert "华北" not in warned.replace("regions in the data: 华东, 华北", "")


# ----------------------------------------------------------------------------- scoring for rank moves


def test_percentile_scores_by_hand(lib):
    values = pd.DataFrame({"sales": [10, 20, 20, 40, np.nan], "churn_rate": [0.1, 0.2, 0.3, 0.4, 0.5]},
                          index=["A", "B", "C", "D", "E"])
    p = percentile_scores(values, lib)
    # sales (higher better), n = 4: A 100·(0 + ½)/4 = 12.5; B, C 100·(1 + ½·2)/4 = 50; D 100·(3 + ½)/4 = 87.5
    assert p["sales"].iloc[:4].tolist() == pytest.approx([12.5, 50, 50, 87.5])
    assert math.isnan(p.loc["E", "sales"])  # missing stays missing
    # churn (lower better), n = 5: A has 4 worse → 100·4.5/5 = 90; E 100·0.5/5 = 10
    assert p.loc["A", "churn_rate"] == pytest.approx(90) and p.loc["E", "churn_rate"] == pytest.approx(10)


def test_strategy_scores_skip_missing(lib):
    values = pd.DataFrame({"sales": [10, 20, 30], "csat": [0.9, np.nan, 0.5], "joint_projects": [np.nan] * 3},
                          index=["A", "B", "C"])
    w = pd.Series({"sales": 0.5, "csat": 0.3, "joint_projects": 0.2})
    s = strategy_scores(values, w, lib)
    # sales p: A 100·0.5/3 = 16.67, B 50, C 83.33; csat (n = 2): A 100·1.5/2 = 75, C 25
    # A: (0.5·16.67 + 0.3·75) / 0.8 = (8.333 + 22.5) / 0.8 = 38.54
    # B: sales only → 50 (coverage 0.5); C: (0.5·83.33 + 0.3·25) / 0.8 = (41.67 + 7.5) / 0.8 = 61.46
    assert s["score"].tolist() == pytest.approx([38.5417, 50.0, 61.4583], abs=1e-3)
    assert s["coverage"].tolist() == pytest.approx([0.8, 0.5, 0.8])
    assert s["rank"].tolist() == [3, 2, 1]


def test_rank_shift_by_hand(tmp_path, lib):
    spec_a = base_spec()
    spec_a["split"] = {"hard": 1.0, "soft": 0.0}
    spec_a["objectives"] = [{"id": "o", "zh": "o", "en": "o", "parent": "hard", "weight": 1,
                             "indicators": [{"id": "sales", "weight": 1}]}]
    spec_b = copy.deepcopy(spec_a)
    spec_b["objectives"][0]["indicators"] = [{"id": "retention_rate", "weight": 1}]
    pa, la = write(tmp_path, spec_a, "a")
    pb, lb = write(tmp_path, spec_b, "b")
    ta, tb = load_strategy(pa, lib, la).tree(), load_strategy(pb, lib, lb).tree()
    values = pd.DataFrame({"sales": [300, 200, 100], "retention_rate": [0.7, 0.8, 0.9]}, index=["A", "B", "C"])
    rs = rank_shift(values, ta, tb)
    # by sales A > B > C: ranks 1, 2, 3; by retention C > B > A: ranks 3, 2, 1 → moves −2, 0, +2
    assert rs["rank_current"].tolist() == [1, 2, 3]
    assert rs["rank_alternative"].tolist() == [3, 2, 1]
    assert rs["move"].tolist() == [-2, 0, 2]


# ----------------------------------------------------------------------------- presets and params


@pytest.mark.parametrize("name", PRESETS)
def test_presets_validate_and_sum_to_one(name, lib):
    s = load_strategy(PARAMS / "strategies" / f"{name}.yaml", lib, f"strategies/{name}.yaml")
    tree = s.tree()
    assert tree.weights().sum() == pytest.approx(1.0)
    assert pillar_split(tree) == pytest.approx({"hard": 0.7, "soft": 0.3})
    # the methodology's example defaults are recorded in every preset
    tg = s.targets().set_index("indicator")
    assert tg.loc["key_sales", "target"] == 0.20 and tg.loc["key_sales", "type"] == "growth"
    assert tg.loc["joint_projects", "target"] == 2 and tg.loc["key_csat", "target"] == 0.90
    assert tg.loc["new_small_customers", "target"] == 50 and tg.loc["new_small_customers", "per"] == "quarter"
    assert (tg.loc["small_conversion", "baseline"], tg.loc["small_conversion", "target"]) == (0.10, 0.15)
    assert tg.loc["small_active_rate", "target"] == 0.30
    assert tg.loc["walkin_first_purchase", "target"] == 0.08 and tg.loc["walkin_repeat_rate", "target"] == 0.05


@pytest.mark.parametrize("name", PRESETS)
def test_presets_build_a_tree_for_every_demo_team(name, lib):
    from helpers.notebooks.decomposition import tree_layout

    teams = pd.read_csv(ROOT_DIR / "data" / "demo" / "teams.csv") if (ROOT_DIR / "data" / "demo" / "teams.csv").exists() \
        else pd.DataFrame({"team_id": ["east-1", "north-1"], "region": ["华东", "华北"]})
    s = load_strategy(PARAMS / "strategies" / f"{name}.yaml", lib, f"strategies/{name}.yaml")
    for r in teams.itertuples():
        tree = s.tree(region=r.region, team=r.team_id)
        lay = tree_layout(tree)
        leaves = lay[lay["kind"] == "indicator"]
        assert tree.weights().sum() == pytest.approx(1.0)
        assert sorted(leaves["row"]) == list(range(len(leaves)))  # one row per indicator


def test_expansion_north_override_by_hand(lib):
    s = load_strategy(PARAMS / "strategies" / "expansion.yaml", lib, "strategies/expansion.yaml")
    w = s.tree(region="华北", team="north-1").weights()
    # 华北: acquire 0.6 → new_customers = 0.7 × 0.6 × 0.4 = 0.168; sales = 0.7 × 0.25 × 0.6 = 0.105
    assert w["new_customers"] == pytest.approx(0.168) and w["sales"] == pytest.approx(0.105)
    assert s.tree(region="华东", team="east-1").weights()["new_customers"] == pytest.approx(0.14)  # 0.7 × 0.5 × 0.4


def test_check_demo_params_is_clean():
    params_file = PARAMS / "demo.yaml"
    teams = {"east-1": "华东", "east-2": "华东", "south-1": "华南", "south-2": "华南", "north-1": "华北", "north-2": "华北"}
    assert check(load_params(params_file), params_file, teams) == []


def test_check_reports_broken_files(tmp_path):
    (tmp_path / "strategies").mkdir()
    spec = base_spec()
    spec["objectives"][0]["indicators"][1]["weight"] = 0.5  # acquire: 0.4 + 0.5 = 0.9
    (tmp_path / "strategies" / "loyalty.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    (tmp_path / "indicators.yaml").write_text((PARAMS / "indicators.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    params_file = tmp_path / "p.yaml"
    params_file.write_text("data: {folder: data}\nstrategy: strategies/missing.yaml\n"
                           "alternative_strategy: strategies/loyalty.yaml\n", encoding="utf-8")
    problems = check(load_params(params_file), params_file)
    text = whats(problems)
    assert "key 'strategy': strategy file 'strategies/missing.yaml' not found" in text
    assert "strategies/loyalty.yaml: objective 'acquire': weights sum to 0.9" in text


def test_check_warnings_flag_missing_data_and_smart():
    from helpers.kpis.measures import KPIS

    params_file = PARAMS / "demo.yaml"
    params = load_params(params_file)
    avail = pd.DataFrame({"kpi": list(KPIS), "available": [k not in ("csat", "nps") for k in KPIS],
                          "missing": ["surveys" if k in ("csat", "nps") else "" for k in KPIS]})
    text = whats(strategy_warnings(params, params_file, avail, review="quarter"))
    # expansion uses acquisition_cost (no KPI) and csat (surveys absent here)
    assert "strategies/expansion.yaml: indicator 'acquisition_cost': cannot be computed: not in the canonical data" in text
    assert "strategies/expansion.yaml: indicator 'csat': cannot be computed: data missing: surveys" in text
    # monthly review: quarterly indicators are not time-bound to it
    monthly = whats(strategy_warnings(params, params_file, None, review="month"))
    assert "indicator 'retention_rate': SMART: Time-bound: measured per quarter but reviewed per month" in monthly


# ----------------------------------------------------------------------------- the notebook, every demo team


@pytest.mark.slow
@pytest.mark.parametrize("current,alternative", [("expansion", "loyalty"), ("upmarket", "market_share")])
def test_notebook_renders_every_demo_team(tmp_path, demo_params, demo_run, current, alternative):
    """expansion → loyalty is the demo's own pair: checked on the whole demo run;
    the other pair runs here for two teams (one with a regional override)."""
    from conftest import run_cli

    params = yaml.safe_load(demo_params.read_text(encoding="utf-8"))
    params.update(notebooks=["02_kpi_decomposition"], indicators=str(PARAMS / "indicators.yaml"),
                  strategy=str(PARAMS / "strategies" / f"{current}.yaml"),
                  alternative_strategy=str(PARAMS / "strategies" / f"{alternative}.yaml"))
    text = yaml.safe_dump(params, allow_unicode=True, sort_keys=False)
    params_file = tmp_path / "run.yaml"
    params_file.write_text(text, encoding="utf-8")
    if current == "expansion":
        proc, out = demo_run
        expected = ["east-1", "east-2", "north-1", "north-2", "south-1", "south-2"]
    else:
        proc = run_cli("run", str(params_file), "--out", str(tmp_path / "out"), "--no-progress",
                       "--team", "north-1", "--team", "south-2")
        out = tmp_path / "out" / "2026Q3"
        expected = ["north-1", "south-2"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    teams = sorted(p.name for p in out.iterdir() if p.is_dir() and (p / "02_kpi_decomposition.html").exists())
    assert teams == expected, proc.stdout
    for team in teams:
        html = (out / team / "02_kpi_decomposition.html").read_text(encoding="utf-8")
        assert html.count("data:image/png") >= 3  # tree, weight changes, rank moves
        tree = pd.read_csv(out / team / "kpi_tree.csv")
        leaves = tree[tree["kind"] == "indicator"]
        assert leaves["global_weight"].sum() == pytest.approx(1.0)
        # global weight = parent's global weight × local weight, for every node
        by_path = tree.set_index("path")["global_weight"]
        for r in tree[tree["level"] > 0].itertuples():
            parent = r.path.rsplit("/", 1)[0]
            assert r.global_weight == pytest.approx(by_path[parent] * r.local_weight)
    if current == "expansion":
        north = pd.read_csv(out / "north-1" / "kpi_tree.csv").set_index("id")
        assert north.loc["new_customers", "global_weight"] == pytest.approx(0.168)  # 0.7 × 0.6 × 0.4 (华北)


def test_the_plan_in_force_as_a_tree_and_against_the_strategy(demo_params):
    """Notebook 02 draws the plan the review pays on: each indicator's share of the total
    score is split × its scheme weight (results) or (1 − split) ÷ the number of ratings
    (market work), computed here from the files by hand; and the comparison with the
    strategy's tree names every indicator whose weight differs."""
    import yaml

    from helpers.context.workbook import open_team
    from helpers.notebooks import decomposition as kd

    ctx = open_team(demo_params, "east-1")
    d = kd.prepare(ctx, demo_params)
    pw = kd.paid_weights(d, demo_params).set_index("indicator")
    scheme = yaml.safe_load((PARAMS / "weights" / "current.yaml").read_text(encoding="utf-8"))["weights"]
    scoring = yaml.safe_load((PARAMS / "scoring.yaml").read_text(encoding="utf-8"))
    split, ratings = scoring["split"], scoring["soft"]["indicators"]
    expected = {i: split * w for i, w in scheme.items()} | {r: (1 - split) / len(ratings) for r in ratings}
    assert pw.loc[list(expected), "paid"].to_dict() == pytest.approx(expected)
    assert pw["paid"].sum() == pytest.approx(1.0) and pw["tree"].sum() == pytest.approx(1.0)
    assert pw.loc["new_customers", "tree"] == pytest.approx(0.7 * 0.5 * 0.4)  # expansion: hard × acquire × 40 %
    assert pw.loc["new_customers", "paid"] == pytest.approx(0.7 * 0.15)
    text = kd.plan_in_force_text(d, demo_params).data
    n = int((pw["difference"].abs() > 0.0005).sum())
    assert f"有 {n} 个指标的权重与树中不同" in text and "不是本期执行的考核方案" in text
    from helpers.core.strategy import scheme_tree

    tree = scheme_tree(d.strategy, pd.Series(scheme, dtype=float), split, ratings, d.strategy.label)
    assert tree.weights().to_dict() == pytest.approx(expected)
