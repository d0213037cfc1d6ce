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


def _strip_png(jitter_seeded: bool) -> bytes:
    import io

    import pandas as pd
    import seaborn as sns

    d = pd.DataFrame({"team": ["a"] * 20 + ["b"] * 20, "total": [float(i % 7) for i in range(40)]})
    fig, ax = plt.subplots(figsize=(4, 2))
    if jitter_seeded:
        with plotting.same_jitter():
            sns.stripplot(data=d, y="team", x="total", ax=ax)
    else:
        sns.stripplot(data=d, y="team", x="total", ax=ax)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def test_strip_plots_are_the_same_picture_at_every_run_and_leave_the_random_numbers_alone():
    import numpy as np

    np.random.seed(7)
    assert _strip_png(False) != _strip_png(False)  # seaborn's own jitter: a new picture each time
    before = np.random.get_state()[1].copy()
    first, second = _strip_png(True), _strip_png(True)
    assert first == second
    assert (np.random.get_state()[1] == before).all()  # the caller's random numbers are where they were


def _heatmaps_png(ours: bool, draws: list) -> bytes:
    import io

    import numpy as np
    import seaborn as sns
    from matplotlib.figure import Figure

    real = Figure.draw

    def counted(self, renderer):
        draws.append(1)
        return real(self, renderer)

    Figure.draw = counted
    try:
        data = np.arange(24, dtype=float).reshape(4, 6) / 23
        fig, axes = plt.subplots(1, 3, figsize=(9, 2.5), sharey=True)
        for ax in axes:
            (plotting.heatmap if ours else sns.heatmap)(data, ax=ax, annot=True, fmt=".0%", cbar=False,
                                                        annot_kws={"fontsize": 7})
            ax.tick_params(axis="x", rotation=45)  # the caller turns its labels, as the reports do
            ax.tick_params(axis="y", rotation=0)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
    finally:
        Figure.draw = real
    return buf.getvalue()


def test_heatmap_is_seaborns_picture_without_its_extra_draws():
    import seaborn.matrix as sm

    theirs_draws, ours_draws = [], []
    theirs, ours = _heatmaps_png(False, theirs_draws), _heatmaps_png(True, ours_draws)
    assert ours == theirs
    assert len(theirs_draws) == 4 and len(ours_draws) == 1  # seaborn drew the figure once per heatmap
    assert sm._draw_figure.__name__ == "_draw_figure"  # put back
