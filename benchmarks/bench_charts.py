"""Showing a chart: :func:`helpers.present.plotting.finish` against the inline backend's way.

Before issue 19's sixth round a report's chart was shown with ``tight_layout`` and
``plt.show()``: the inline backend then measured every label again to crop the
picture to a tight bounding box, drew it, encoded a full-colour PNG, and the export
decoded it and encoded it again in a 256-colour palette (``compact_png``).  ``finish``
lays the panels out with ``tight_layout`` so that the text ends 0.1 inch inside the
edge, draws the figure once at its own size straight into the palette
(``figure_png``) and checks its one-pixel frame (a label longer than the figure
falls back to the old way).

Four charts shaped like the reports' (a six-panel trend with a suptitle, an annotated
heatmap with turned month labels, horizontal bars with long names, a strip plot),
each built anew and shown both ways; median of 7 per chart, the ratio of the sums.
The baseline is the old way, measured in the same run.

Second measurement: 04's trend chart, one figure shown once per manager of a team
(:class:`helpers.present.plotting.Redrawn`, issue 19's seventh round): only the lines,
the y axes and the panels' frames drawn again over the kept rest, against the whole
figure drawn for each manager; both give the same PNGs (checked as it is measured).
"""

from __future__ import annotations

import statistics
import time

from benchmarks.common import Result


def _figures():
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd
    import seaborn as sns

    from helpers.present import plotting

    rng = np.random.default_rng(0)

    def trend():
        fig, axes = plt.subplots(3, 2, figsize=(10.4, 9.3))
        for k, ax in enumerate(axes.flat):
            x = np.arange(24)
            ax.plot(x, 400 + 30 * x + rng.normal(0, 80, 24), marker="o", ms=3, label="实际（本团队现有客户经理）")
            ax.bar(x[-3:], 500 + rng.normal(0, 40, 3), color="C1", label="本期月度目标")
            ax.set_title(f"指标 {k + 1}")
            ax.set_xticks(x[::6], [f"2025-{m:02d}" for m in range(1, 25, 6)], rotation=45)
            ax.set_ylabel("万元")
            if k == 0:
                ax.legend(fontsize=8, loc="upper left")
        fig.suptitle("本团队月度实际与 2026Q3 目标")
        return fig

    def heatmap():
        fig, ax = plt.subplots(figsize=(12.8, 4.4))
        data = pd.DataFrame(rng.integers(2, 700, (6, 24)), index=["Complaints", "Customers", "Leads", "Orders",
                                                                 "Visits", "Surveys"],
                            columns=[f"{2024 + (m + 9) // 12}-{(m + 9) % 12 + 1:02d}" for m in range(24)])
        plotting.heatmap(data, ax=ax, annot=True, fmt="d", cbar=False, cmap="Blues", annot_kws={"fontsize": 7})
        ax.tick_params(axis="x", rotation=90)
        ax.set_title("Rows per table and month (this team)")
        return fig

    def bars():
        fig, ax = plt.subplots(figsize=(10, 5.3))
        names = ["Walk-in second-purchase rate", "Small-customer conversion rate", "Customer satisfaction (CSAT)",
                 "Key-account sales", "New small customers", "Gross profit", "Sales", "Visits"]
        ax.barh(names, rng.uniform(0.05, 0.3, len(names)))
        ax.set_xlabel("Weight in the plan")
        ax.set_title("Weights of the scheme in force")
        return fig

    def strip():
        fig, ax = plt.subplots(figsize=(9.5, 7.9))
        d = pd.DataFrame({"indicator": np.repeat([f"指标{i}" for i in range(14)], 40),
                          "growth": rng.normal(0.1, 0.3, 560)})
        with plotting.same_jitter():
            sns.stripplot(data=d, x="growth", y="indicator", ax=ax, color="0.7", size=4)
        ax.axvspan(-0.1, 0.5, color="0.9", zorder=0)
        ax.set_title("目标隐含增长：本团队（彩色）与全公司（灰色）")
        return fig

    return [trend, heatmap, bars, strip]


def _old_way(fig) -> bytes:
    """tight_layout, then what the inline backend did (savefig cropped to everything drawn,
    0.1 inch around it) and what the export did after it (compact_png)."""
    from helpers.present import plotting

    fig.tight_layout()
    return plotting.cropped_png(fig)


def _time(build, show, n: int) -> float:
    import matplotlib.pyplot as plt

    times = []
    for _ in range(n):
        fig = build()
        t0 = time.perf_counter()
        show(fig)
        times.append(time.perf_counter() - t0)
        plt.close(fig)
    return statistics.median(times)


def run(quick: bool = False, log=print) -> list[Result]:
    import matplotlib

    matplotlib.use("Agg")
    import IPython.display

    from helpers.present import plotting

    plotting.setup()
    n = 3 if quick else 7
    shown: list = []
    real_display = IPython.display.display
    IPython.display.display = shown.append  # finish displays its picture; here it is only kept
    try:
        old = new = 0.0
        for build in _figures():
            _time(build, _old_way, 1)  # warm-up: fonts, glyph caches
            o, f = _time(build, _old_way, n), _time(build, plotting.finish, n)
            log(f"  {build.__name__:8s} old way {o * 1000:6.0f} ms, finish {f * 1000:6.0f} ms")
            old, new = old + o, new + f
        whole, redrawn = _trend_per_manager(n, log)
    finally:
        IPython.display.display = real_display
    return [Result("charts: finish, 4 report-shaped charts", new, "s", old,
                   note=f"baseline = tight_layout + the inline backend's tight bounding box + compact_png, "
                        f"measured here: {old:.3f} s; ratio {new / old:.2f}"),
            Result(f"charts: a team's trend chart for {MANAGERS} managers (plotting.Redrawn)", redrawn, "s", whole,
                   note=f"baseline = the whole figure drawn for each manager, measured here: {whole:.3f} s; "
                        f"ratio {redrawn / whole:.2f}")]


MANAGERS = 10
"""Managers of the trend-chart measurement (a team of 10)."""


def _trend_per_manager(n: int, log) -> tuple[float, float]:
    """04's trend chart (six panels: the median and the manager's line, titles, turned
    period labels, a legend above) shown for :data:`MANAGERS` managers: the whole figure
    drawn for each (as 04 did before ``Redrawn``), against only the lines, y axes and frames drawn
    again over the kept rest (``Redrawn``); median of ``n`` per way; both ways must give
    the same PNGs."""
    import matplotlib.pyplot as plt
    import numpy as np

    from helpers.present import plotting
    from helpers.present.png import figure_png

    rng = np.random.default_rng(1)
    data = [[rng.uniform(50, 5000) * (1 + 0.1 * rng.normal(size=6)) for _ in range(6)] for _ in range(MANAGERS)]
    margins = (0.5, 0.15, 0.5, 0.62, 0.5)

    def build():
        fig, axes = plt.subplots(1, 6, figsize=(12, 2.4), squeeze=False)
        axes, lines = list(axes[0]), []
        for k, ax in enumerate(axes):
            ax.plot(range(6), 1000 + 100 * np.arange(6), color="grey", ls="--", lw=1, label="公司中位数")
            lines.append(ax.plot(range(6), [np.nan] * 6, marker="o", lw=1.5, label="本人")[0])
            ax.set_title(f"指标 {k + 1}", fontsize=9, y=1.0)
            ax.set_xticks(range(6), [f"{25 + (q + 2) // 4}Q{(q + 2) % 4 + 1}" for q in range(6)], fontsize=7,
                          rotation=45)
            ax.yaxis.set_major_formatter(plotting.value_formatter("currency", "zh"))
            ax.tick_params(axis="y", labelsize=7)
        fig.legend(*axes[0].get_legend_handles_labels(), loc="upper center", bbox_to_anchor=(0.5, 1.0), ncol=2,
                   fontsize=8, frameon=False)
        return fig, axes, lines

    def pictures(redraw: bool) -> tuple[float, list[bytes]]:
        fig, axes, lines = build()
        r = plotting.Redrawn(fig, margins, lambda ax: [ax.yaxis, *ax.lines, *ax.spines.values()])
        out, t0 = [], time.perf_counter()
        for panels in data:
            for ax, line, ys in zip(axes, lines, panels):
                line.set_ydata(ys)
                ax.relim()
                ax.autoscale_view()
            if redraw:
                out.append(r.png())
            else:
                plotting.place(fig, margins)
                out.append(figure_png(fig))
        took = time.perf_counter() - t0
        plt.close(fig)
        return took, out

    pictures(False), pictures(True)  # warm-up
    runs: dict[bool, list] = {False: [], True: []}
    for _ in range(n):
        for way in (False, True):
            runs[way].append(pictures(way))
    if any(a[1] != b[1] for a, b in zip(runs[False], runs[True])):
        raise AssertionError("Redrawn gave other pictures than the whole figure drawn anew")
    whole, redrawn = (statistics.median(t for t, _ in runs[w]) for w in (False, True))
    log(f"  trend x{MANAGERS} whole figure {whole * 1000:6.0f} ms, Redrawn {redrawn * 1000:6.0f} ms (same PNGs)")
    return whole, redrawn
