"""Tests for helpers.notebooks.scenarios (notebook 03: weight schemes, ranks side by side, robustness).

Expected values are computed by hand (arithmetic in the comments) or by a second
method (the weighting functions on the same data, a loop over draws).
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers.context import schemes as CS
from helpers.core import schemes as CORE
from helpers.notebooks import scenarios as S
from helpers.plan import weights as PW
from helpers.errors import InputError
from helpers.kpis.indicators import load_library
from helpers.plan.params import load_params
from helpers.core.weighting import critic_weights, entropy_weights, ranks, robustness

from conftest import ROOT

LIB = load_library(ROOT / "params" / "indicators.yaml")


# ============================================================ scheme files


def make_params(tmp_path: Path, schemes: dict[str, str], chosen: str = "current") -> Path:
    """A params file in tmp_path with its own weights folder holding ``schemes``."""
    (tmp_path / "weights").mkdir(exist_ok=True)
    shutil.copy(ROOT / "params" / "indicators.yaml", tmp_path / "indicators.yaml")
    for name, text in schemes.items():
        (tmp_path / "weights" / f"{name}.yaml").write_text(text, encoding="utf-8")
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump({"data": {"folder": "data"}, "weight_scheme": chosen}), encoding="utf-8")
    return p


GOOD = """
name: {zh: 现行, en: Current}
method: direct
weights: {sales: 0.5, csat: 0.3, complaint_rate: 0.2}
"""


def problems(tmp_path: Path, text: str, name: str = "bad", extra: dict[str, str] | None = None) -> str:
    p = make_params(tmp_path, {"current": GOOD, name: text, **(extra or {})})
    found = CS.check_schemes(load_params(p), p)
    return "\n".join(str(x) for x in found)


def test_repo_schemes_are_valid():
    params_file = ROOT / "params" / "demo.yaml"
    assert CS.check_schemes(load_params(params_file), params_file) == []
    schemes, _ = CS.load_schemes(load_params(params_file), params_file)
    assert {"current", "expansion", "loyalty", "ahp_leadership", "entropy", "critic", "blended"} <= set(schemes)
    assert {s.method for s in schemes.values()} == set(PW.METHODS)


def test_good_file_has_no_problems(tmp_path):
    p = make_params(tmp_path, {"current": GOOD})
    assert CS.check_schemes(load_params(p), p) == []


AHP_HEAD = """
name: {zh: A, en: A}
method: ahp
indicators: [sales, csat, complaint_rate]
experts:
  - name: boss
    matrix:
"""


@pytest.mark.parametrize(
    "text, expected",
    [
        # unknown indicators → one error listing them all
        ("name: {zh: x, en: x}\nmethod: direct\nweights: {sales: 0.5, foo: 0.25, bar: 0.25}",
         ["unknown indicator(s): foo, bar", "key 'weights'"]),
        # NaN weight → names the key
        ("name: {zh: x, en: x}\nmethod: direct\nweights: {sales: .nan, csat: 1}", ["key 'weights.sales'", "not finite"]),
        # weights not adding up to 1 (or 100) → the sum is in the message
        ("name: {zh: x, en: x}\nmethod: direct\nweights: {sales: 0.5, csat: 0.4}", ["add up to 0.9", "not to 1"]),
        ("name: {zh: x, en: x}\nmethod: direct\nweights: {sales: 50, csat: 40}", ["add up to 90"]),
        # schema: unknown method, unknown key, missing key
        ("name: {zh: x, en: x}\nmethod: magic\nweights: {sales: 1}", ["unknown method 'magic'", "key 'method'"]),
        ("name: {zh: x, en: x}\nmethod: direct\nweights: {sales: 1}\nalpha: 3", ["unknown key", "key 'alpha'"]),
        ("method: direct\nweights: {sales: 1}", ["required key is missing", "key 'name'"]),
        # AHP: non-square
        (AHP_HEAD + "      - [1, 3, 5]\n      - [1/3, 1, 3]\n", ["experts[0] (boss)", "not square", "shape (2, 3)"]),
        (AHP_HEAD + "      - [1, 3]\n      - [1/3, 1]\n", ["experts[0] (boss)", "3 labels for a 2 × 2 matrix"]),
        (AHP_HEAD + "      - [1, 3]\n      - [1/3, 1, 3]\n      - [1/5, 1/3, 1]\n", ["not square"]),
        # AHP: non-positive, outside 1/9..9, NaN, non-reciprocal, diagonal
        (AHP_HEAD + "      - [1, 0, 5]\n      - [1/3, 1, 3]\n      - [1/5, 1/3, 1]\n", ["cell (sales, csat)", "not positive"]),
        (AHP_HEAD + "      - [1, -3, 5]\n      - [1/3, 1, 3]\n      - [1/5, 1/3, 1]\n", ["cell (sales, csat)", "not positive"]),
        (AHP_HEAD + "      - [1, 12, 5]\n      - [1/12, 1, 3]\n      - [1/5, 1/3, 1]\n",
         ["cell (sales, csat)", "outside Saaty's scale", "cell (csat, sales)"]),
        (AHP_HEAD + "      - [1, .nan, 5]\n      - [1/3, 1, 3]\n      - [1/5, 1/3, 1]\n", ["cell (sales, csat)", "not finite"]),
        (AHP_HEAD + "      - [1, 3, 5]\n      - [1/2, 1, 3]\n      - [1/5, 1/3, 1]\n",
         ["cell (sales, csat)", "not reciprocal", "1.5", "set cell (csat, sales) to 1/3"]),
        (AHP_HEAD + "      - [1, 3, 5]\n      - [1/3, 2, 3]\n      - [1/5, 1/3, 1]\n", ["cell (csat, csat)", "diagonal"]),
        (AHP_HEAD + "      - [1, 3, 5]\n      - [1/3, 1, many]\n      - [1/5, 1/3, 1]\n", ["cell (csat, complaint_rate)", "not a number"]),
        # AHP: unknown RI table, repeated indicator
        ("name: {zh: x, en: x}\nmethod: ahp\nri_table: golden\nindicators: [sales, csat]\nexperts: [{name: b, matrix: [[1, 2], [0.5, 1]]}]",
         ["unknown random-index table 'golden'"]),
        ("name: {zh: x, en: x}\nmethod: critic\nindicators: [sales, sales, csat]", ["listed more than once: sales"]),
        # blend: unknown or non-subjective reference
        ("name: {zh: x, en: x}\nmethod: blend\nsubjective: nowhere\nobjective: critic", ["no scheme named 'nowhere'", "current"]),
        ("name: {zh: x, en: x}\nmethod: blend\nsubjective: bad\nobjective: entropy", ["must be a direct or ahp scheme"]),
        ("name: {zh: x, en: x}\nmethod: blend\nsubjective: current\nobjective: critic\nalpha: 1.5", ["key 'alpha'"]),
        # robustness settings are validated too
        ("name: {zh: x, en: x}\nmethod: direct\nweights: {sales: 1}\nrobustness: {concentration: 0}", ["key 'robustness.concentration'"]),
        # YAML syntax error → line and column
        ("name: {zh: x, en: x\nmethod: direct", ["YAML syntax error", "line"]),
    ],
)
def test_bad_scheme_files_are_named(tmp_path, text, expected):
    msg = problems(tmp_path, text)
    assert "bad.yaml" in msg, msg  # every problem names the file
    for part in expected:
        assert part in msg, f"{part!r} not in:\n{msg}"


def test_all_matrix_problems_reported_at_once(tmp_path):
    two = AHP_HEAD + "      - [1, 3, 0]\n      - [1/2, 1, 3]\n      - [1/5, 1/3, 1]\n  - name: second\n    matrix:\n" \
        "      - [1, 3, 5]\n      - [1/3, 1, 3]\n      - [1/5, 1/3, 3]\n"
    msg = problems(tmp_path, two)
    assert "experts[0] (boss): cell (sales, complaint_rate)" in msg
    assert "experts[0] (boss): cell (sales, csat)" in msg and "not reciprocal" in msg
    assert "experts[1] (second): cell (complaint_rate, complaint_rate)" in msg


def test_chosen_scheme_must_exist_and_load_raises(tmp_path):
    p = make_params(tmp_path, {"current": GOOD}, chosen="missing")
    found = CS.check_schemes(load_params(p), p)
    assert len(found) == 1 and "weight scheme 'missing' not found" in str(found[0]) and "current" in str(found[0])
    with pytest.raises(InputError, match="missing"):
        CS.load_schemes(load_params(p), p)


def test_missing_weights_folder(tmp_path):
    p = tmp_path / "p.yaml"
    shutil.copy(ROOT / "params" / "indicators.yaml", tmp_path / "indicators.yaml")
    p.write_text(yaml.safe_dump({"data": {"folder": "data"}}), encoding="utf-8")
    found = CS.check_schemes(load_params(p), p)
    assert "weights folder" in str(found[0]) and "key 'weights'" in str(found[0])


def test_percent_weights_accepted(tmp_path):
    p = make_params(tmp_path, {"current": "name: {zh: x, en: x}\nmethod: direct\nweights: {sales: 60, csat: 40}"})
    assert CS.check_schemes(load_params(p), p) == []


# ============================================================ normalisation and scores by hand

# Four managers, three indicators: sales (more is better), csat (more is better,
# m4 has no surveys), complaint_rate (less is better).
VALUES = pd.DataFrame(
    {"sales": [100.0, 300.0, 200.0, 500.0], "csat": [0.8, 0.6, 1.0, np.nan], "complaint_rate": [0.10, 0.0, 0.05, 0.20],
     "acquisition_cost": [np.nan] * 4, "visits": [7.0, 7.0, 7.0, 7.0]},
    index=["m1", "m2", "m3", "m4"],
)


def test_normalise_minmax_by_hand():
    s, dropped = CORE.normalise(VALUES, LIB)
    # sales: (x − 100)/400 → 0, 50, 25, 100
    assert s["sales"].tolist() == pytest.approx([0, 50, 25, 100])
    # csat over the three with a value: (x − 0.6)/0.4 → 50, 0, 100, NaN
    assert s["csat"].tolist()[:3] == pytest.approx([50, 0, 100]) and math.isnan(s.loc["m4", "csat"])
    # complaint_rate, less is better: (0.20 − x)/0.20 → 50, 100, 75, 0
    assert s["complaint_rate"].tolist() == pytest.approx([50, 100, 75, 0])
    # documented fallbacks: no data at all → not computable; all equal → constant
    assert dropped == {"acquisition_cost": "not_computable", "visits": "constant"}
    assert s["visits"].isna().all() and s["acquisition_cost"].isna().all()


def test_normalise_percentile_by_hand():
    s, _ = CORE.normalise(VALUES, LIB, "percentile")
    # sales ranks (1 = worst): 1, 3, 2, 4 → 100·(r−1)/3 = 0, 66.67, 33.33, 100
    assert s["sales"].tolist() == pytest.approx([0, 200 / 3, 100 / 3, 100])
    # complaint_rate, less is better: 0.20 worst (1), 0.10 (2), 0.05 (3), 0.0 best (4)
    assert s["complaint_rate"].tolist() == pytest.approx([100 / 3, 100, 200 / 3, 0])
    with pytest.raises(InputError, match="unknown method"):
        CORE.normalise(VALUES, LIB, "zscore")


def test_team_scores_and_ranks_by_hand():
    s, _ = CORE.normalise(VALUES, LIB)
    w = pd.Series({"sales": 0.5, "csat": 0.3, "complaint_rate": 0.2})
    d = CORE.team_scores(s, w)
    # m1: .5·0 + .3·50 + .2·50 = 25;  m2: 25 + 0 + 20 = 45;  m3: 12.5 + 30 + 15 = 57.5
    # m4 has no csat: (.5·100 + .2·0)/(.5 + .2) = 50/0.7 = 71.43, weight_available 0.7
    assert d["score"].tolist() == pytest.approx([25, 45, 57.5, 50 / 0.7])
    assert d["weight_available"].tolist() == pytest.approx([1, 1, 1, 0.7])
    assert ranks(d["score"]).tolist() == [4, 3, 2, 1]
    # a manager with no value on any weighted indicator has no score (NaN), never 0
    only_csat = CORE.team_scores(s, pd.Series({"csat": 1.0}))
    assert math.isnan(only_csat.loc["m4", "score"]) and only_csat.loc["m4", "weight_available"] == 0


def _scheme(tmp_path: Path, name: str, text: str) -> tuple[dict, PW.Scheme]:
    p = make_params(tmp_path, {"current": GOOD, name: text})
    schemes, _ = CS.load_schemes(load_params(p), p)
    return schemes, schemes[name]


def test_resolve_direct_drops_and_renormalises(tmp_path):
    schemes, sch = _scheme(tmp_path, "d", "name: {zh: x, en: x}\nmethod: direct\n"
                           "weights: {sales: 0.4, acquisition_cost: 0.2, visits: 0.2, csat: 0.2}")
    _, dropped = CORE.normalise(VALUES, LIB)
    r = CORE.resolve_weights(sch, schemes, LIB, VALUES, dropped)
    # acquisition_cost (not computable) and visits (constant) dropped: 0.4, 0.2 → 2/3, 1/3
    assert r.weights.to_dict() == pytest.approx({"sales": 2 / 3, "csat": 1 / 3})
    assert r.dropped == {"acquisition_cost": "not_computable", "visits": "constant"}
    assert r.requested.sum() == pytest.approx(1.0)


def test_resolve_direct_nothing_left_is_an_error(tmp_path):
    schemes, sch = _scheme(tmp_path, "d", "name: {zh: x, en: x}\nmethod: direct\nweights: {acquisition_cost: 0.5, visits: 0.5}")
    _, dropped = CORE.normalise(VALUES, LIB)
    with pytest.raises(InputError) as err:
        CORE.resolve_weights(sch, schemes, LIB, VALUES, dropped)
    assert "d.yaml" in str(err.value) and "acquisition_cost" in str(err.value)


def test_resolve_entropy_and_critic_match_weighting_on_complete_rows(tmp_path):
    values = VALUES.assign(orders=[10.0, 40.0, 20.0, 30.0])
    _, dropped = CORE.normalise(values, LIB)
    benefit = {"sales": True, "csat": True, "complaint_rate": False, "orders": True}
    complete = values.loc[["m1", "m2", "m3"], list(benefit)]  # m4 has no csat
    for method, expected in [("entropy", entropy_weights(complete, benefit=benefit)),
                             ("critic", critic_weights(complete, benefit))]:
        schemes, sch = _scheme(tmp_path, method, f"name: {{zh: x, en: x}}\nmethod: {method}\n"
                               "indicators: [sales, csat, complaint_rate, orders, visits]")
        r = CORE.resolve_weights(sch, schemes, LIB, values, dropped)
        assert r.dropped == {"visits": "constant"}
        assert r.weights.to_dict() == pytest.approx(expected.to_dict(), abs=1e-12)
        assert (r.managers_used, r.managers_excluded) == (3, 1)


def test_resolve_objective_with_too_few_usable_indicators(tmp_path):
    schemes, sch = _scheme(tmp_path, "e", "name: {zh: x, en: x}\nmethod: entropy\nindicators: [sales, visits, acquisition_cost]")
    _, dropped = CORE.normalise(VALUES, LIB)
    with pytest.raises(InputError, match="at least 2 usable indicators"):
        CORE.resolve_weights(sch, schemes, LIB, VALUES, dropped)


def test_resolve_ahp_and_blend_by_hand(tmp_path):
    # consistent 2 × 2 (a12 = 3) → w = 3/4, 1/4 (sales, complaint_rate)
    ahp_text = ("name: {zh: a, en: a}\nmethod: ahp\nindicators: [sales, complaint_rate]\n"
                "experts: [{name: b, matrix: [[1, 3], [1/3, 1]]}]")
    blend_text = "name: {zh: b, en: b}\nmethod: blend\nsubjective: a\nobjective: critic\nalpha: 0.5"
    p = make_params(tmp_path, {"current": GOOD, "a": ahp_text, "bl": blend_text})
    schemes, _ = CS.load_schemes(load_params(p), p)
    _, dropped = CORE.normalise(VALUES, LIB)
    a = CORE.resolve_weights(schemes["a"], schemes, LIB, VALUES, dropped)
    assert a.weights.to_dict() == pytest.approx({"sales": 0.75, "complaint_rate": 0.25})
    assert a.group.cr == 0.0 and len(a.experts) == 1
    # CRITIC on two indicators: both conflict terms are 1 − r, the same, so
    # w ∝ σ_j of the min–max values (ddof 1), over all 4 managers:
    # sales z = 0, .5, .25, 1 → σ = 0.4269563; complaint z = .5, 1, .75, 0 → σ = 0.4269563
    # (the same spread) → 0.5 / 0.5; blend α = .5 → .625, .375
    b = CORE.resolve_weights(schemes["bl"], schemes, LIB, VALUES, dropped)
    assert b.weights.to_dict() == pytest.approx({"sales": 0.625, "complaint_rate": 0.375})


# ============================================================ the demo team


@pytest.fixture(scope="module")
def sc(demo_params):
    from helpers.context.workbook import open_team

    ctx = open_team(demo_params, "east-1")
    return S.prepare(ctx, demo_params)


def test_prepare_demo_team(sc):
    assert sc.chosen == "current" and sc.order[0] == "current"
    assert list(sc.ranks.columns) == sc.order
    assert set(sc.ranks.index) <= set(sc.ctx.manager_ids)  # only the team's managers
    assert sc.population > len(sc.ranks)  # data-driven weights from the whole company
    for r in sc.resolved.values():
        assert r.weights.sum() == pytest.approx(1.0) and not r.weights.isna().any()
    # expansion names acquisition_cost, which has no data: dropped, not zero-scored; and
    # indicators the plan sets no target for cannot be scored against one: dropped too
    d = sc.resolved["expansion"].dropped
    assert d["acquisition_cost"] == "not_computable"
    from helpers.context.scores import targets_wide

    with_target = set(targets_wide(sc.cs).columns)
    assert {k for k, v in d.items() if v == "no_target"} == \
        {i for i in sc.resolved["expansion"].requested.index if i not in with_target and i != "acquisition_cost"}
    # ranks are 1..n with competition ties
    for col in sc.ranks:
        assert sc.ranks[col].min() == 1 and sc.ranks[col].max() <= len(sc.ranks)


def test_scores_equal_independent_weighted_sum(sc):
    # second computation: split × Σ w_j s_j / Σ w_j over the present curve scores
    # + (1 − split) × mean soft rating, from the curve scores kept on the object
    w = sc.resolved["current"].weights
    s = sc.curve.loc[sc.ranks.index, list(w.index)]
    present = s.notna().to_numpy()
    hard = np.nansum(s.to_numpy() * w.to_numpy(), axis=1) / (present * w.to_numpy()).sum(axis=1)
    total = sc.split * hard + (1 - sc.split) * sc.soft.reindex(s.index).to_numpy() if sc.soft is not None else hard
    assert sc.scores["current"].to_numpy() == pytest.approx(total)


def test_ranks_under_the_plan_equal_the_quarterly_review(sc, demo_params):
    """The plan in force is scored one way: notebook 03's ranks and totals under the plan's
    scheme are notebook 04's team ranks and totals, manager by manager."""
    from helpers.notebooks import quarterly

    q = quarterly.build(sc.ctx, demo_params, with_review=False, statements=False)
    s = q.summary.loc[sc.ranks.index]
    assert sc.ranks[sc.chosen].astype(int).tolist() == s["rank"].astype(int).tolist()
    assert sc.scores[sc.chosen].to_numpy() == pytest.approx(s["total"].to_numpy())
    assert set(sc.excluded) == set(q.summary.index[q.summary["total"].isna()])


def test_correlations_and_movers_consistent(sc):
    c = sc.correlations.set_index(["scheme_a", "scheme_b"])
    a, b = sc.ranks["current"].to_numpy(), sc.ranks["loyalty"].to_numpy()
    # Kendall τ-b by counting pairs (no ties in these rankings)
    n = len(a)
    conc = sum(np.sign(a[i] - a[j]) * np.sign(b[i] - b[j]) for i in range(n) for j in range(i + 1, n))
    assert c.loc[("current", "loyalty"), "tau"] == pytest.approx(conc / (n * (n - 1) / 2))
    spread = sc.ranks.max(axis=1) - sc.ranks.min(axis=1)
    assert sc.movers["spread"].iloc[0] == spread.max()


def test_robustness_sanity(sc):
    rb = sc.robust
    n, k = len(sc.ranks), sc.robust.attrs["top"]
    assert k == math.ceil(0.2 * n)
    assert rb["base_rank"].tolist() == sc.ranks.loc[rb.index, "current"].tolist()
    assert (rb["rank_min"] <= rb["rank_p5"]).all() and (rb["rank_p95"] <= rb["rank_max"]).all()
    # exactly k managers in the top group per draw (no ties in continuous scores) → Σ P = k
    assert rb["p_top"].sum() == pytest.approx(k)
    # κ → ∞ collapses every interval onto the base rank
    w = sc.resolved["current"].weights
    off = (1 - sc.split) * sc.soft.reindex(rb.index) if sc.soft is not None else None
    tight = robustness(sc.curve.loc[rb.index, list(w.index)], w, concentration=1e9, draws=200,
                       missing="renormalise", scale=sc.split if sc.soft is not None else 1.0, offset=off)
    assert (tight["rank_p5"] == tight["base_rank"]).all() and (tight["rank_p95"] == tight["base_rank"]).all()


def test_recommendation_is_written_from_the_numbers(sc):
    f = S.recommendation_facts(sc)
    mine = sc.correlations[(sc.correlations["scheme_a"] == "current") | (sc.correlations["scheme_b"] == "current")]
    assert f["closest"][1] == pytest.approx(mine["tau"].max())
    assert f["farthest"][1] == pytest.approx(mine["tau"].min())
    assert f["agreeing"] == int((mine["tau"] >= S.AGREE).sum())
    assert f["sure_top"] == list(sc.robust.index[sc.robust["p_top"] >= S.SURE])
    # the demo's third expert is inconsistent (CR 0.173) and is named
    assert [(sid, name) for sid, name, _ in f["inconsistent"]] == [("ahp_leadership", "总经理")]
    text = S.recommendation(sc).data
    assert f"{f['closest'][1]:.2f}" in text and "0.173" in text
    assert sc.names[sc.movers.index[0]] in text


def test_recommendation_english_and_escaped(sc, monkeypatch):
    monkeypatch.setattr(sc.ctx, "language", "en")
    mover = sc.movers.index[0]
    monkeypatch.setitem(sc.names, mover, "<img src=x onerror=alert(1)>")
    text = S.recommendation(sc).data
    assert "&lt;img src=x" in text and "<img" not in text
    assert "General manager" in text and "Kendall" in text


def test_exports(sc):
    w = S.weights_export(sc)
    assert w.groupby("scheme")["weight"].sum().to_numpy() == pytest.approx(np.ones(len(sc.resolved)))
    row = w[(w["scheme"] == "expansion") & (w["indicator"] == "acquisition_cost")].iloc[0]
    assert row["weight"] == 0 and row["dropped"] == "not_computable" and row["requested_weight"] == pytest.approx(0.05)
    r = S.ranks_export(sc)
    assert len(r) == len(sc.ranks) * len(sc.resolved)
    assert set(r["manager_id"]) == set(sc.ranks.index)


def test_workshop_table_reproduces_the_scheme_and_moves(sc):
    w = sc.resolved["current"].weights
    t = S.workshop_table(sc, w)
    assert t[sc.t("ws.col.rank")].tolist() == sorted(sc.ranks["current"].tolist())
    assert (t[sc.t("ws.col.change")] == 0).all()
    # all weight on sales → ranks of split × sales points + (1 − split) × soft rating
    only = S.workshop_table(sc, {"sales": 1.0})
    expected = ranks(_one_indicator_total(sc, "sales"))
    assert only[sc.t("ws.col.rank")].to_dict() == expected.to_dict()


def _one_indicator_total(sc, iid: str) -> pd.Series:
    """The review's total with all the hard weight on one indicator (by hand)."""
    pts = sc.curve.loc[sc.ranks.index, iid]
    return sc.split * pts + (1 - sc.split) * sc.soft.reindex(pts.index) if sc.soft is not None else pts


def test_workshop_widget_updates_without_a_front_end(sc):
    box = S.workshop(sc)
    assert set(box.sliders) == set(sc.resolved["current"].weights.index)
    before = box.output.outputs[0]["data"]["text/html"]
    for iid, s in box.sliders.items():
        s.value = 60 if iid == "csat" else 0
    after = box.output.outputs[0]["data"]["text/html"]
    assert before != after and len(box.output.outputs) == 1
    csat_ranks = ranks(_one_indicator_total(sc, "csat").dropna())
    best = sc.names[csat_ranks.idxmin()]
    assert after.index(best) < min(after.index(sc.names[m]) for m in sc.ranks.index if m != csat_ranks.idxmin())


# ============================================================ notebook


@pytest.mark.slow
def test_notebook_renders_for_every_demo_team(demo_run):
    """Checks the whole demo run (conftest.demo_run)."""
    proc, period_dir = demo_run
    out = period_dir.parent
    assert proc.returncode == 0, proc.stdout + proc.stderr
    teams = sorted(d.name for d in (out / "2026Q3").iterdir() if d.is_dir() and (d / "03_weighting_scenarios.html").exists())
    assert len(teams) == 6
    for team in teams:
        html = (out / "2026Q3" / team / "03_weighting_scenarios.html").read_text(encoding="utf-8")
        assert "Traceback" not in html and "<img" in html
        assert "研讨模式" not in html  # workshop cells are hidden from the report
        ranks_csv = pd.read_csv(out / "2026Q3" / team / "scenario_ranks.csv")
        weights_csv = pd.read_csv(out / "2026Q3" / team / "weights.csv")
        assert set(ranks_csv["scheme"]) == set(weights_csv["scheme"])


def test_a_scheme_the_data_cannot_serve_is_left_out_and_said(demo_params, tmp_path):
    """A CRITIC scheme whose indicators the demo cannot compute (acquisition cost is not in the
    canonical data) no longer fails the weighting report: it is listed as not usable."""
    from helpers.context.workbook import open_team

    weights = tmp_path / "weights"
    shutil.copytree(ROOT / "params" / "weights", weights)
    (weights / "zz_costs.yaml").write_text(
        "name: {zh: 成本, en: Costs}\nmethod: critic\nindicators: [acquisition_cost, sales]\n", encoding="utf-8")
    cfg = yaml.safe_load(demo_params.read_text(encoding="utf-8"))
    cfg["weights"] = str(weights)
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    s = S.prepare(open_team(p, "east-1"), p)
    assert "zz_costs" not in s.resolved
    assert "at least 2 usable indicators" in s.unusable["zz_costs"]
    text = S.scheme_list(s).data
    assert "**成本**：本期无法使用，本期数据中可用（有差异）的指标少于 2 个" in text
    assert "current" in s.resolved and len(s.ranks.columns) == len(s.resolved)
