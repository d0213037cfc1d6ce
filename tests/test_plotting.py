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


def _shown(fig, monkeypatch, **kw) -> tuple[bytes, int]:
    """What :func:`plotting.finish` displays for ``fig`` (PNG bytes) and how often it drew the figure."""
    import IPython.display
    from matplotlib.figure import Figure

    shown, draws, real = [], [], Figure.draw

    def counted(self, renderer):
        draws.append(1)
        return real(self, renderer)

    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj.data))
    monkeypatch.setattr(Figure, "draw", counted)
    plotting.finish(fig, **kw)
    monkeypatch.undo()
    assert len(shown) == 1
    return shown[0], len(draws)


def _pixels(png: bytes):
    import io

    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _ink_margins(a) -> tuple[int, int, int, int]:
    """Blank pixels between the picture's edges and its outermost non-white pixel: left, right, top, bottom."""
    import numpy as np

    ink = (a < 245).any(axis=2)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return int(cols[0]), int(a.shape[1] - 1 - cols[-1]), int(rows[0]), int(a.shape[0] - 1 - rows[-1])


def _two_panels():
    fig, axes = plt.subplots(1, 2, figsize=(6, 3))
    for ax in axes:
        ax.plot([0, 1, 2], [2.0e6, 1.1e6, 3.4e6], marker="o", label="本人")
        ax.set_title("新增大客户销售额（按月）")
        ax.set_ylabel("万元")
        ax.tick_params(axis="x", rotation=45)
        ax.set_xticks([0, 1, 2], ["2026-07", "2026-08", "2026-09"])
        ax.legend(loc="upper left")
    fig.suptitle("本团队月度实际与目标")
    return fig


def test_finish_draws_a_chart_once_with_every_label_inside_its_edge(monkeypatch):
    """The picture is the figure at its own size, drawn once (the inline backend's tight
    bounding box drew it three times), with white around the outermost text on every
    side, about as much as the inline backend's picture of the same chart had: nothing
    is cut, and the edges did not grow."""
    import io

    plotting.setup()
    fig = _two_panels()
    png, draws = _shown(fig, monkeypatch)
    a = _pixels(png)
    assert draws == 1
    assert a.shape[:2] == (300, 600)  # 3 x 6 inches at the report's 100 dpi
    inline = _two_panels()  # as plt.show() drew it: tight_layout, then cropped to everything drawn + 0.1 inch
    inline.tight_layout()
    buf = io.BytesIO()
    inline.savefig(buf, format="png", bbox_inches="tight", pad_inches=0.1)
    plt.close(inline)
    ours, theirs = _ink_margins(a), _ink_margins(_pixels(buf.getvalue()))
    # white on every side, as on the inline picture (its 0.1 inch, or the suptitle's own 0.06 at the top),
    # and no wide empty band: at most the width of the y label's box beyond its ink (12 px here)
    assert min(ours) >= 5 and min(theirs) >= 5, (ours, theirs)
    assert all(m <= t + 15 for m, t in zip(ours, theirs)), (ours, theirs)
    assert not plt.fignum_exists(fig.number)  # closed: not shown a second time when the cell ends


def _crowded(size: tuple[float, float], fontsize: float):
    fig, ax = plt.subplots(figsize=size)
    ax.plot([0, 1], [0, 1])
    ax.set_ylabel("一个远远长于这张小图高度的纵轴名称", fontsize=fontsize)
    ax.set_xlabel("同样放不下的横轴名称", fontsize=fontsize)
    return fig


@pytest.mark.parametrize(("size", "fontsize", "warns"), [
    ((2, 1.2), 16, False),  # the label is longer than the figure is high: tight_layout says nothing
    ((1.5, 0.8), 24, True),  # tight_layout gives up ("not applied")
])
def test_a_chart_too_large_for_its_figure_is_shown_whole_not_cut(monkeypatch, size, fontsize, warns):
    """Text that cannot fit the figure is not cut: the picture grows to everything drawn,
    as the inline backend's tight bounding box made it (the very PNG of savefig with
    bbox_inches="tight" of the same figure, in the report's palette)."""
    import io
    import warnings

    from helpers.present.png import compact_png

    plotting.setup()
    png, _ = _shown(_crowded(size, fontsize), monkeypatch)
    expected_fig = _crowded(size, fontsize)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        expected_fig.tight_layout(pad=plotting.EDGE_INCHES * 72 / plt.rcParams["font.size"], h_pad=1.08, w_pad=1.08)
    assert any("not applied" in str(w.message) for w in caught) == warns
    buf = io.BytesIO()
    expected_fig.savefig(buf, format="png", bbox_inches="tight", pad_inches=plotting.EDGE_INCHES)
    plt.close(expected_fig)
    assert png == compact_png(buf.getvalue())
    a = _pixels(png)
    assert a.shape[0] > size[1] * 100 + 50  # much taller than the figure: the whole label is in it
    assert min(_ink_margins(a)) >= 5


def test_a_redrawn_chart_is_the_whole_figure_drawn_anew_and_its_fixed_parts_are_drawn_once(monkeypatch):
    """plotting.Redrawn (a chart repeated per manager): for each data set the picture is
    byte for byte the whole figure drawn anew (lines on another scale, a gap, a line
    running into the frame), while the panels, titles, x axes and legend were drawn once
    for all of them."""
    import numpy as np
    from matplotlib.figure import Figure

    from helpers.present.png import figure_png

    plotting.setup()
    fig, axes = plt.subplots(1, 3, figsize=(7.6, 2.4), squeeze=False)
    axes = list(axes[0])
    lines = []
    for k, ax in enumerate(axes):
        ax.plot(range(6), [10, 12, 11, 13, 12, 14], color="grey", ls="--", lw=1, label="中位数")
        lines.append(ax.plot(range(6), [np.nan] * 6, marker="o", lw=1.5, label="本人")[0])
        ax.set_title(f"指标 {k + 1}", fontsize=9, y=1.0)
        ax.set_xticks(range(6), [f"26Q{q}" for q in range(1, 7)], fontsize=7, rotation=45)
        ax.tick_params(axis="y", labelsize=7)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="upper center", bbox_to_anchor=(0.5, 1.0), ncol=2,
               fontsize=8, frameon=False)
    redrawn = plotting.Redrawn(fig, (0.5, 0.15, 0.5, 0.62, 0.5), lambda ax: [ax.yaxis, *ax.lines,
                                                                             *ax.spines.values()])
    draws = []
    real = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, renderer: (draws.append(1), real(self, renderer))[1])
    data = [[1, 2, 3, 4, 5, 6], [900, 20, np.nan, 50, 60, 7000], [0.1, 0.2, 0.15, 0.3, 0.25, 0.2]]
    pictures = []
    for ys in data:
        for ax, line in zip(axes, lines):
            line.set_ydata(np.asarray(ys, dtype=float))
            ax.relim()
            ax.autoscale_view()
        pictures.append(redrawn.png())
    assert len(draws) == 1 and len(set(pictures)) == len(data)
    for ys, png in zip(data, pictures):
        for ax, line in zip(axes, lines):
            line.set_ydata(np.asarray(ys, dtype=float))
            ax.relim()
            ax.autoscale_view()
        assert figure_png(fig) == png, ys
    plt.close(fig)


def test_a_label_reaching_the_edge_is_seen_and_a_blank_edge_is_not():
    plotting.setup()
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_axis_off()
    fig.canvas.draw()
    assert not plotting.reaches_edge(fig)  # nothing drawn: a white frame
    fig.text(0.99, 0.5, "超出", fontsize=12)  # starts inside, runs past the right edge
    fig.canvas.draw()
    assert plotting.reaches_edge(fig)
    plt.close(fig)


@pytest.mark.slow
@pytest.mark.parametrize("language", ["zh", "en"])
def test_no_chart_of_the_demo_reports_is_cut_at_its_edge(demo_run, demo_run_en, language):
    """Every chart of every report of the session's demo runs (00–05 per team, each
    manager's trend charts, the company summary), in Chinese and in English: nothing
    drawn touches the picture's one-pixel frame, so no label runs off it."""
    import base64
    import re

    import numpy as np

    _, folder = demo_run if language == "zh" else demo_run_en
    charts = 0
    for page in sorted(folder.rglob("*.html")):
        for m in re.finditer(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page.read_text(encoding="utf-8")):
            a = _pixels(base64.b64decode(m.group(1)))
            frame = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
            assert (frame >= 250).all(), f"{page.relative_to(folder)}: chart {charts} touches its edge"
            charts += 1
    assert charts >= 6 * 20  # about 24 charts per team
