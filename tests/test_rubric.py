"""Tests for the soft appraisal's scoring rules (考核细则): the model
(helpers.plan.rubric) and the rules (helpers.core.rubric).  Every expected value is
worked out by hand in the comments."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from pydantic import ValidationError

from helpers.core.rubric import calibrate, rating_problems, snap, soft_scores
from helpers.errors import InputError
from helpers.plan.base import load_model
from helpers.plan.rubric import Dimension, Rubric

COLS = ["manager_id", "period", "dimension", "score", "rater"]


def _level(points: float) -> dict:
    return {"points": points, "label": {"zh": f"{points:g}分", "en": f"{points:g} points"},
            "description": {"zh": "行为描述", "en": "what earns it"}}


def rubric(points=(100, 85, 70, 50), **kw) -> Rubric:
    return Rubric.model_validate({"dimensions": {"attitude": {"levels": [_level(p) for p in points]}}, **kw})


def frame(rows: list[tuple], index=None) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLS, index=index)


# --- the model -------------------------------------------------------------------------

YAML_OK = """\
calibrate: true
min_raters: 2
on_level: nearest
dimensions:
  attitude:
    levels:
      - points: 100
        label: {zh: 优秀, en: Excellent}
        description: {zh: 主动跟进每位客户, en: Follows up every customer unprompted}
      - points: 70
        label: {zh: 合格, en: Adequate}
        description: {zh: 按要求跟进, en: Follows up when asked}
"""


def test_a_rubric_file_loads(tmp_path):
    path = tmp_path / "rubric.yaml"
    path.write_text(YAML_OK, encoding="utf-8")
    r = load_model(path, Rubric)
    assert (r.calibrate, r.min_raters, r.on_level) == (True, 2, "nearest")
    assert r.dimensions["attitude"].points == [100.0, 70.0]
    assert r.dimensions["attitude"].levels[1].description.en == "Follows up when asked"
    # defaults
    d = Rubric.model_validate({"dimensions": {}})
    assert (d.calibrate, d.min_raters, d.on_level) == (False, 1, "exact")


def _load_error(tmp_path, text: str) -> list[str]:
    path = tmp_path / "rubric.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_model(path, Rubric, source="rubric.yaml")
    return [str(p) for p in err.value.problems]


def test_levels_must_decrease_strictly(tmp_path):
    # 100, 70, 70: levels[2] (70) is not fewer than levels[1] (70)
    text = YAML_OK + """\
      - points: 70
        label: {zh: 合格, en: Adequate}
        description: {zh: 按要求跟进, en: Follows up when asked}
"""
    assert _load_error(tmp_path, text) == [
        ("rubric.yaml: key 'dimensions.attitude': levels[2] has 70 points, not fewer than levels[1] (70): "
        "list the levels from the most points to the fewest, each with different points")]
    # increasing: 50 then 100 → levels[1] is named
    with pytest.raises(ValueError, match=r"levels\[1\] has 100 points, not fewer than levels\[0\] \(50\)"):
        Dimension.model_validate({"levels": [_level(50), _level(100)]})


def test_at_least_two_levels(tmp_path):
    text = YAML_OK.split("      - points: 70")[0]  # only the 100-point level left
    problems = _load_error(tmp_path, text)
    assert len(problems) == 1
    assert problems[0].startswith("rubric.yaml: key 'dimensions.attitude.levels': ")
    assert "at least 2 items" in problems[0]


def test_unknown_keys_and_bad_values_are_refused(tmp_path):
    problems = _load_error(tmp_path, YAML_OK.replace("calibrate: true", "calibrate: true\nanchors: yes"))
    assert problems == ["rubric.yaml: key 'anchors': unknown key — remove it or check its spelling"]
    problems = _load_error(tmp_path, YAML_OK.replace("        label: {zh: 优秀", "        anchor: x\n        label: {zh: 优秀"))
    assert problems == [("rubric.yaml: key 'dimensions.attitude.levels[0].anchor': unknown key — remove it or check "
                        "its spelling")]
    bad = YAML_OK.replace("min_raters: 2", "min_raters: 0").replace("on_level: nearest", "on_level: closest")
    wheres = [p.split(": ")[1] for p in _load_error(tmp_path, bad.replace("points: 100", "points: 151"))]
    assert sorted(wheres) == ["key 'dimensions.attitude.levels[0].points'", "key 'min_raters'", "key 'on_level'"]
    # a level without a description, a label without its English text
    with pytest.raises(ValidationError) as err:
        Rubric.model_validate({"dimensions": {"attitude": {"levels": [_level(100), {"points": 50,
                                                                                     "label": {"zh": "差"}}]}}})
    assert sorted(".".join(map(str, e["loc"])) for e in err.value.errors()) == [
        "dimensions.attitude.levels.1.description", "dimensions.attitude.levels.1.label.en"]


# --- exact levels ----------------------------------------------------------------------

def test_exact_a_score_between_levels_names_row_and_column():
    # levels 100, 85, 70, 50; positional row 1 (73) → line 1 + 2 = 3 of the CSV.
    # teamwork is not in the rubric: its 73 is not checked.
    r = frame([("M1", "2024-01", "attitude", 85.0, "A"),
               ("M1", "2024-01", "attitude", 73.0, "A"),
               ("M1", "2024-01", "teamwork", 73.0, "A"),
               ("M2", "2024-01", "attitude", 100.0, "A")],
              index=[40, 10, 30, 20])  # the index is not the position
    problems = rating_problems(r, rubric(), "ratings.csv")
    assert [str(p) for p in problems] == [
        ("ratings.csv: row 3, column score: score 73 for dimension attitude is not a level of the rubric "
        "(100, 85, 70, 50) — use one of the rubric's levels")]
    assert problems[0].where == "row 3, column score" and problems[0].fix == "use one of the rubric's levels"


def test_exact_many_bad_rows_are_listed_up_to_ten():
    # 12 bad attitude rows (scores 51..62, none a level) at positions 1..12 → lines 3..14; the first ten
    # are listed, "and 2 more"; position 0 (a level, 85) is fine.
    rows = [("M1", "2024-01", "attitude", 85.0, "A")]
    rows += [("M1", "2024-01", "attitude", 50.0 + k, "A") for k in range(1, 13)]
    (p,) = rating_problems(frame(rows), rubric(), "ratings.csv")
    assert p.where == "rows 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 and 2 more, column score"
    assert p.what == ("scores 51, 52, 53, 54, 55, 56, 57, 58, 59, 60 and 2 more for dimension attitude are not "
                      "levels of the rubric (100, 85, 70, 50)")


def test_exact_levels_pass_and_nearest_reports_no_problem():
    ok = frame([("M1", "2024-01", "attitude", s, "A") for s in (100.0, 85.0, 70.0, 50.0)])
    assert rating_problems(ok, rubric(), "ratings.csv") == []
    bad = frame([("M1", "2024-01", "attitude", 73.0, "A")])
    assert rating_problems(bad, rubric(on_level="nearest"), "ratings.csv") == []


# --- nearest level ---------------------------------------------------------------------

def test_nearest_snaps_ties_to_the_lower_level_and_reports_changes():
    # levels 100, 85, 70, 50:
    #   73   → 70  (|73−70| = 3 < |73−85| = 12)
    #   77.5 → 70  (7.5 from both 70 and 85: a tie goes to the lower)
    #   60   → 50  (10 from both 50 and 70: tie → lower)
    #   95   → 100 (5 < 10)
    #   120  → 100
    #   85   stays; teamwork (not in the rubric) 73 stays
    scores = [73.0, 77.5, 60.0, 95.0, 120.0, 85.0]
    r = frame([("M1", "2024-01", "attitude", s, "A") for s in scores] + [("M1", "2024-01", "teamwork", 73.0, "A")])
    out, changes = snap(r, rubric(on_level="nearest"))
    assert out["score"].tolist() == [70.0, 70.0, 50.0, 100.0, 100.0, 85.0, 73.0]
    assert list(changes.columns) == ["manager_id", "period", "dimension", "rater", "score", "snapped"]
    assert changes["score"].tolist() == [73.0, 77.5, 60.0, 95.0, 120.0]
    assert changes["snapped"].tolist() == [70.0, 70.0, 50.0, 100.0, 100.0]
    assert r["score"].tolist()[0] == 73.0  # the input is not changed
    # exact: nothing is snapped
    same, none = snap(r, rubric())
    assert same["score"].tolist() == r["score"].tolist() and none.empty


# --- calibration -----------------------------------------------------------------------

def test_leniency_by_hand():
    # attitude, 2 raters × 3 managers:
    #   A: 90, 80, 70 → mean 80;  B: 70, 60, 50 → mean 60;  all six: 420 / 6 = 70
    #   leniency A = 80 − 70 = +10, B = 60 − 70 = −10
    #   calibrated A: 80, 70, 60;  B: 80, 70, 60
    # teamwork: only A (75, 65) → alone, leniency 0, scores unchanged
    r = frame([("M1", "2024-01", "attitude", 90.0, "A"), ("M2", "2024-01", "attitude", 80.0, "A"),
               ("M3", "2024-01", "attitude", 70.0, "A"), ("M1", "2024-01", "attitude", 70.0, "B"),
               ("M2", "2024-01", "attitude", 60.0, "B"), ("M3", "2024-01", "attitude", 50.0, "B"),
               ("M1", "2024-01", "teamwork", 75.0, "A"), ("M2", "2024-01", "teamwork", 65.0, "A")])
    out, leniency = calibrate(r)
    assert leniency.index.names == ["rater", "dimension"]
    assert leniency.to_dict() == {("A", "attitude"): 10.0, ("B", "attitude"): -10.0, ("A", "teamwork"): 0.0}
    assert out["score"].tolist() == [80.0, 70.0, 60.0, 80.0, 70.0, 60.0, 75.0, 65.0]


def test_calibration_clips_to_0_and_150():
    # low: A: 0, 100 → mean 50; B: 10, 10 → mean 10; all: 120 / 4 = 30
    #   leniency A +20, B −20 → A: 0 − 20 = −20 → 0, 100 − 20 = 80;  B: 30, 30
    # high: A: 150, 50 → mean 100; B: 150, 150 → mean 150; all: 500 / 4 = 125
    #   leniency A −25, B +25 → A: 150 + 25 = 175 → 150, 50 + 25 = 75;  B: 125, 125
    r = frame([("M1", "2024-01", "low", 0.0, "A"), ("M2", "2024-01", "low", 100.0, "A"),
               ("M1", "2024-01", "low", 10.0, "B"), ("M2", "2024-01", "low", 10.0, "B"),
               ("M1", "2024-01", "high", 150.0, "A"), ("M2", "2024-01", "high", 50.0, "A"),
               ("M1", "2024-01", "high", 150.0, "B"), ("M2", "2024-01", "high", 150.0, "B")])
    out, leniency = calibrate(r)
    assert leniency[("A", "low")] == 20.0 and leniency[("A", "high")] == -25.0
    assert out["score"].tolist() == [0.0, 80.0, 30.0, 30.0, 150.0, 75.0, 125.0, 125.0]


# --- soft scores -----------------------------------------------------------------------

Q1 = ["2024-01", "2024-02", "2024-03"]


def test_each_rater_is_averaged_before_the_mean_across_raters():
    # M1 attitude in 2024Q1: A rates 85 in each of the three months, B rates 50 once.
    #   plain mean of the rows: (3·85 + 50) / 4 = 305 / 4 = 76.25
    #   per rater first: A 85, B 50 → (85 + 50) / 2 = 67.5
    # B's 0 in 2024-04 is outside the quarter and does not count (else B = 25 → 55).
    r = frame([("M1", m, "attitude", 85.0, "A") for m in Q1]
              + [("M1", "2024-02", "attitude", 50.0, "B"), ("M1", "2024-04", "attitude", 0.0, "B")])
    scores, raters = soft_scores(r, rubric(), Q1)
    assert scores.loc["M1", "attitude"] == 67.5
    assert raters.loc["M1", "attitude"] == 2
    # without a rubric: the same averaging
    assert soft_scores(r, None, Q1)[0].loc["M1", "attitude"] == 67.5


def test_min_raters_leaves_a_dimension_unscored():
    # M1: raters A (85) and B (70) → (85 + 70) / 2 = 77.5 with 2 raters;
    # M2: only A (100), twice → 1 rater: NaN with min_raters 2, 100 with min_raters 1
    r = frame([("M1", "2024-01", "attitude", 85.0, "A"), ("M1", "2024-01", "attitude", 70.0, "B"),
               ("M2", "2024-01", "attitude", 100.0, "A"), ("M2", "2024-02", "attitude", 100.0, "A")])
    scores, raters = soft_scores(r, rubric(min_raters=2), Q1)
    assert scores.loc["M1", "attitude"] == 77.5
    assert math.isnan(scores.loc["M2", "attitude"])
    assert raters["attitude"].to_dict() == {"M1": 2, "M2": 1}
    assert soft_scores(r, rubric(min_raters=1), Q1)[0].loc["M2", "attitude"] == 100.0


def test_soft_scores_calibrate_when_the_rubric_says_so():
    # attitude, A rates M1 and M2, B rates M2 and M3 (levels 100, 90, 80, 60, 50):
    #   A: 90, 80 → mean 85;  B: 60, 50 → mean 55;  all: 280 / 4 = 70
    #   leniency A +15, B −15 → A: M1 75, M2 65;  B: M2 75, M3 65
    #   calibrated: M1 75, M2 (65 + 75) / 2 = 70, M3 65
    #   not calibrated: M1 90, M2 (80 + 60) / 2 = 70, M3 50
    r = frame([("M1", "2024-01", "attitude", 90.0, "A"), ("M2", "2024-01", "attitude", 80.0, "A"),
               ("M2", "2024-01", "attitude", 60.0, "B"), ("M3", "2024-01", "attitude", 50.0, "B")])
    levels = (100, 90, 80, 60, 50)
    on = soft_scores(r, rubric(levels, calibrate=True), Q1)[0]["attitude"]
    off = soft_scores(r, rubric(levels, calibrate=False), Q1)[0]["attitude"]
    assert on.to_dict() == {"M1": 75.0, "M2": 70.0, "M3": 65.0}
    assert off.to_dict() == {"M1": 90.0, "M2": 70.0, "M3": 50.0}


def test_soft_scores_snap_under_nearest():
    # levels 100, 85, 70, 50, nearest: A's 77.5 → 70 (tie → lower), B's 95 → 100
    #   → (70 + 100) / 2 = 85 (unsnapped it would be (77.5 + 95) / 2 = 86.25)
    r = frame([("M1", "2024-01", "attitude", 77.5, "A"), ("M1", "2024-01", "attitude", 95.0, "B")])
    assert soft_scores(r, rubric(on_level="nearest"), Q1)[0].loc["M1", "attitude"] == 85.0
    assert soft_scores(r, rubric(), Q1)[0].loc["M1", "attitude"] == 86.25


def test_soft_scores_of_a_period_without_ratings_are_empty():
    r = frame([("M1", "2024-04", "attitude", 85.0, "A")])
    scores, raters = soft_scores(r, rubric(), Q1)
    assert scores.empty and raters.empty and scores.index.name == "manager_id"
