"""Axis labels: compact numbers without matplotlib's offset text, periods with their year."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers.present import plotting  # noqa: E402


@pytest.mark.parametrize(
    ("value", "unit", "language", "expected"),
    [
        (1_234_567, "currency", "zh", "123.5万"),  # 1 234 567 / 10 000 = 123.4567
        (250_000_000, "currency", "zh", "2.5亿"),  # 2.5e8 / 1e8
        (30_000, "currency", "zh", "3万"),
        (8_500, "currency", "zh", "8,500"),
        (1_234_567, "currency", "en", "1.2M"),
        (340_000, "currency", "en", "340k"),
        (0.153, "ratio", "zh", "15%"),
        (1_250, "count", "zh", "1,250"),
        (7.26, "score", "en", "7.3"),
        (-2_000_000, "currency", "en", "-2M"),
    ],
)
def test_compact_number(value, unit, language, expected):
    assert plotting.compact_number(value, unit, language) == expected


def test_period_tick_keeps_the_year():
    assert plotting.period_tick("2026Q3") == "26Q3"
    assert plotting.period_tick("2025-12") == "25-12"
    assert plotting.period_tick("H1") == "H1"


def test_formatter_removes_the_offset_text():
    """Without the formatter matplotlib writes a shared '1e6' above the axis."""
    plotting.setup()
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [1.1e6, 1.6e6, 2.3e6])
    fig.canvas.draw()
    assert ax.yaxis.get_offset_text().get_text() != ""  # the default shows an offset
    ax.yaxis.set_major_formatter(plotting.value_formatter("currency", "zh"))
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert ax.yaxis.get_offset_text().get_text() == ""
    assert labels and all(s.endswith("万") for s in labels)
    assert "140万" in labels  # the 1.4e6 tick of the default 0.2e6-step locator
    plt.close(fig)
