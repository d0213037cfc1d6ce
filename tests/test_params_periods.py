"""Params validation (file and key in every message) and review periods."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.errors import InputError
from helpers.plan.params import load_params
from helpers.periods import parse_period

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "p.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_demo_params_valid():
    p = load_params(ROOT / "params" / "demo.yaml")
    assert p.period == "2026Q3" and p.language == "zh" and p.teams == "all"


def test_title_per_language(tmp_path):
    p = load_params(ROOT / "params" / "demo.yaml")
    assert p.title_in("zh") == "演示公司 · 客户经理绩效报告" and p.title_in("en").startswith("Demo Co.")
    one = load_params(write(tmp_path, "data: {folder: x}\ntitle: {zh: 仅中文}\n"))
    assert one.title_in("en") == "仅中文"  # a language without its own title falls back to the other
    assert load_params(write(tmp_path, "data: {folder: x}\ntitle: Plain\n")).title_in("zh") == "Plain"
    for bad, why in (("{fr: Titre}", "unknown language 'fr'"), ("{zh: ' '}", "at least one language")):
        with pytest.raises(InputError) as exc:
            load_params(write(tmp_path, f"data: {{folder: x}}\ntitle: {bad}\n"))
        assert len(exc.value.problems) == 1 and "key 'title'" in str(exc.value) and why in str(exc.value)


def test_unknown_key(tmp_path):
    with pytest.raises(InputError) as exc:
        load_params(write(tmp_path, "data: {folder: x, colour: red}\n"))
    assert str(exc.value.problems[0]).startswith(f"{tmp_path / 'p.yaml'}: key 'data.colour': unknown key")


def test_missing_and_wrong_type(tmp_path):
    with pytest.raises(InputError) as exc:
        load_params(write(tmp_path, "language: fr\nexecution: {timeout_seconds: soon}\n"))
    text = str(exc.value)
    assert "key 'data': required key is missing" in text
    assert "key 'language'" in text and "key 'execution.timeout_seconds'" in text


def test_yaml_syntax_error_names_line(tmp_path):
    with pytest.raises(InputError, match=r"p.yaml: line 3, column 3: YAML syntax error"):
        load_params(write(tmp_path, "data:\n  folder: x\n  - item\n"))


def test_bad_period_and_team_slug(tmp_path):
    with pytest.raises(InputError) as exc:
        load_params(write(tmp_path, "data: {folder: x}\nperiod: 2026Q5\nteams: [../etc]\n"))
    text = str(exc.value)
    assert "key 'period'" in text and "key 'teams'" in text


def test_yaml_is_loaded_safely(tmp_path):
    with pytest.raises(InputError):
        load_params(write(tmp_path, "data: !!python/object/apply:os.system ['echo hi']\n"))


@pytest.mark.parametrize(
    "label, months, prev, year_ago, days",
    [
        ("2026Q3", ["2026-07", "2026-08", "2026-09"], "2026Q2", "2025Q3", 92),
        ("2026Q1", ["2026-01", "2026-02", "2026-03"], "2025Q4", "2025Q1", 90),
        ("2026-09", ["2026-09"], "2026-08", "2025-09", 30),
        ("2024-02", ["2024-02"], "2024-01", "2023-02", 29),
    ],
)
def test_periods(label, months, prev, year_ago, days):
    p = parse_period(label)
    assert [str(m) for m in p.months] == months
    assert p.previous().label == prev and p.year_ago().label == year_ago and p.days == days


@pytest.mark.parametrize("bad", ["2026Q0", "2026-13", "Q3", "2026/09", "../2026Q3", "2026Q3 ", ""])
def test_bad_periods(bad):
    if bad.strip() and bad.strip() != bad:  # surrounding spaces are tolerated
        assert parse_period(bad).label == bad.strip()
        return
    with pytest.raises(InputError, match="is not a review period"):
        parse_period(bad)
