"""The one formatting module (helpers.present.display): values as a reader sees them."""

from __future__ import annotations

import math

import pytest

from helpers.present.display import amount, compact_number, money_scale, percent, signed_percent


@pytest.mark.parametrize("x, digits, text", [(0.153, 0, "15%"), (0.153, 1, "15.3%"), (1.0, 0, "100%"),
                                              (math.nan, 0, ""), (None, 0, ""), (math.inf, 0, "∞")])
def test_percent(x, digits, text):
    assert percent(x, digits) == text


def test_percent_says_what_is_missing_when_asked():
    assert percent(math.nan, missing="—") == "—"


@pytest.mark.parametrize("x, text", [(0.08, "+ 8%"), (-0.1, "− 10%"), (0.085, "+ 8.5%"), (0.0, "+ 0%")])
def test_signed_percent(x, text):
    assert signed_percent(x) == text


@pytest.mark.parametrize("x, unit, language, text", [
    (1_234_567, "currency", "zh", "123.5万"),  # 1,234,567 / 10,000 = 123.4567 → 123.5
    (9_999, "currency", "zh", "9,999"), (1_234_567, "currency", "en", "1,234,567"),
    (0.1534, "ratio", "zh", "15.3%"), (1234, "count", "en", "1,234"), (3.14159, "score", "zh", "3.1"),
])
def test_amount(x, unit, language, text):
    assert amount(x, unit, language) == text


def test_money_scale_and_axis_labels_agree():
    assert money_scale("zh") == 10_000 and money_scale("en") == 1_000
    assert compact_number(2.5e8, "currency", "zh") == "2.5亿" and compact_number(1_200_000, "currency", "en") == "1.2M"


def test_scores_and_shares_round_half_up_as_a_calculator_does():
    """Python formats 76.25 as 76.2 (half to even on the binary value); a manager checking
    (80 + 70 + 77.5 + 75 + 80 + 75) ÷ 6 = 76.25 by hand writes 76.3.  Reports round the
    figure as it reads: half up."""
    from helpers.present.display import fmt, half_up, percent

    assert f"{76.25:.1f}" == "76.2"  # what the reports printed before
    assert fmt((80 + 70 + 77.5 + 75 + 80 + 75) / 6, "score") == "76.3"
    assert fmt(83.75, "score") == "83.8" and fmt(83.74999, "score") == "83.7"
    assert fmt(0.32, "points") == "+0.3" and fmt(-0.04, "points") == "+0.0"  # no "-0.0"
    assert fmt(1.1125, "ratio") == "111.3%" and percent(0.125, 0) == "13%" and percent(0.995, 1) == "99.5%"
    assert str(half_up(1.005, 2)) == "1.01"  # the float 1.005 is 1.00499999999999989…; its text is 1.005
