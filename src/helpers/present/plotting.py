"""One place for chart style: a CJK font, a colour-blind-safe palette, report-sized PNGs.

Chinese labels need a font with CJK glyphs.  We ship one through the pinned
``mplfonts`` wheel (Noto Sans CJK SC, SIL Open Font License) and register the file
with matplotlib directly, so charts render the same on any machine without system
fonts and without "Glyph missing" warnings.  seaborn's ``set_theme`` overwrites
``font.sans-serif``, so the font goes in through its ``rc=`` argument.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from functools import lru_cache
from importlib import util
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib import font_manager

from helpers.present.display import compact_number  # noqa: F401 - used by the tick formatter; kept as plotting.compact_number

CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
CJK_FAMILY = "Noto Sans CJK SC"
PALETTE = "colorblind"  # seaborn's colour-blind-safe palette (Okabe–Ito-like)


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """Path of the bundled Noto Sans CJK SC font (from the ``mplfonts`` wheel)."""
    spec = util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the mplfonts package is missing: reinstall kpi-workbook (pip install -e .)")
    path = Path(list(spec.submodule_search_locations)[0]) / "fonts" / CJK_FONT_FILE
    if not path.exists():
        raise RuntimeError(f"font file {path} is missing: reinstall mplfonts==0.0.11")
    return path


@lru_cache(maxsize=1)
def register_cjk_font() -> str:
    """Register the CJK font with matplotlib; return its family name."""
    font_manager.fontManager.addfont(str(cjk_font_path()))
    return font_manager.FontProperties(fname=str(cjk_font_path())).get_name()


def setup(dpi: int = 100) -> None:
    """Apply the report style: seaborn theme, CJK font, palette, compact PNG output."""
    family = register_cjk_font()
    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=PALETTE,
        rc={
            "font.family": "sans-serif",
            "font.sans-serif": [family, "DejaVu Sans"],
            "axes.unicode_minus": False,  # CJK fonts often lack U+2212
            # chart text is plain text: a name like "$x^2$" is shown as it is, never parsed as a formula
            "text.parse_math": False,
            "figure.dpi": dpi,
            "savefig.dpi": dpi,
            "figure.figsize": (9, 4),
            "axes.titlesize": 13,
            "axes.titleweight": "bold",
        },
    )
    # matplotlib logs font fallbacks; a report must not show them
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    try:  # inline backend (inside a kernel): PNG only, keeps reports small
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png")
    except Exception:  # pragma: no cover - outside IPython
        pass


def palette(n: int) -> list:
    """``n`` colours from the colour-blind-safe palette."""
    return sns.color_palette(PALETTE, n)


def heatmap(data, ax: plt.Axes, **kw):
    """seaborn's ``heatmap`` for a chart that turns its tick labels itself (after this
    call): without the whole-figure draw seaborn makes to find out whether the labels
    overlap and should be turned, which the caller's own turn overrides.  The picture
    is the same; a figure of three heatmaps drew itself three times before it was shown."""
    import seaborn.matrix as sm

    draw = getattr(sm, "_draw_figure", None)
    if draw is None:  # another seaborn: its own heatmap, as it is
        return sns.heatmap(data, ax=ax, **kw)
    sm._draw_figure = lambda fig: None
    try:
        out = sns.heatmap(data, ax=ax, **kw)
    finally:
        sm._draw_figure = draw
    for text in ax.texts:  # the cells' values sit inside their cells: they never move the layout
        text.set_in_layout(False)
    return out


@contextmanager
def same_jitter(seed: int = 0):
    """Draw with numpy's global random numbers seeded (and put back after): seaborn's
    strip plots jitter their points with them, so without a seed the same data gave a
    different picture at every run."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def value_formatter(unit: str, language: str = "zh"):
    """A matplotlib tick formatter applying :func:`compact_number`."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: compact_number(v, unit, language))


def period_tick(label: str) -> str:
    """Short quarter or month label that keeps the year: "2026Q3" → "26Q3", "2026-07" → "26-07"."""
    s = str(label)
    return s[2:] if len(s) >= 6 and s[:4].isdigit() else s


EDGE_INCHES = 0.1  # white space around a chart's outermost text: what the inline backend's tight bounding box left


def finish(fig: plt.Figure | None = None, rect: tuple[float, float, float, float] | None = None) -> None:
    """Tidy layout and show the figure (then close it, so it is not shown twice).

    ``tight_layout`` places the panels so that every label fits with
    :data:`EDGE_INCHES` to spare at the figure's edge (``rect``: the part of the figure
    they may take, e.g. leaving room for a legend below) and the figure is drawn once,
    at its own size.  (The inline backend's ``plt.show()`` measured every label twice
    more to crop the picture to a tight bounding box: a third of a chart's cost.)
    Should the text not fit (``tight_layout`` gives up and warns, or a label is longer
    than the figure and reaches its edge: :func:`reaches_edge`), the picture is
    cropped to everything drawn, as the inline backend did, so nothing is cut off.
    A chart shown again and again with other data: :class:`Redrawn`."""
    import warnings

    from IPython.display import Image, display

    from helpers.present.png import figure_png

    fig = fig or plt.gcf()
    between = 1.08  # matplotlib's default gap between panels, in font sizes (kept as it was)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.tight_layout(pad=EDGE_INCHES * 72 / plt.rcParams["font.size"], h_pad=between, w_pad=between, rect=rect)
    png = figure_png(fig)
    if any("not applied" in str(w.message) for w in caught) or reaches_edge(fig):
        png = cropped_png(fig)
    display(Image(data=png, format="png"))
    plt.close(fig)


def cropped_png(fig: plt.Figure) -> bytes:
    """``fig`` as the inline backend's ``plt.show()`` pictured it: cropped (or grown) to
    everything drawn with :data:`EDGE_INCHES` around it, then put in the report's palette
    as the export did (:func:`~helpers.present.png.compact_png`)."""
    import io

    from helpers.present.png import compact_png

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", pad_inches=EDGE_INCHES)
    return compact_png(buf.getvalue())


def reaches_edge(fig: plt.Figure) -> bool:
    """Whether anything on ``fig``'s drawn canvas touches its one-pixel frame: a label
    longer than the figure (``tight_layout`` cannot shorten it, and says nothing) would
    be cut there."""
    from matplotlib.colors import to_rgba

    a = np.asarray(fig.canvas.buffer_rgba())
    frame = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    background = np.round(np.array(to_rgba(fig.get_facecolor())) * 255).astype(a.dtype)
    return bool((frame != background).any())


def place(fig: plt.Figure, margins: tuple[float, float, float, float, float]) -> None:
    """Place the panels of ``fig`` (one row) by ``margins``: ``(left, right, bottom, top,
    gap)`` in inches, without measuring any label."""
    left, right, bottom, top, gap = margins
    w, h = fig.get_size_inches()
    n = max(1, len([ax for ax in fig.axes if ax.get_visible()]))
    panel = max(0.1, (w - left - right - gap * (n - 1)) / n)
    fig.subplots_adjust(left=left / w, right=1 - right / w, bottom=bottom / h, top=1 - top / h, wspace=gap / panel)


class Redrawn:
    """A figure shown again and again with only some of its artists changed (a chart
    repeated per manager: the same panels, titles, x axes and legend; another line and
    another y scale).  What does not change is drawn once and kept as pixels; each
    picture puts those pixels back and draws the changing artists over them, in the
    order matplotlib draws them (:meth:`png` gives the same PNG as the whole figure
    drawn anew: ``tests/test_plotting.py``).  The changing artists must not overlap
    the unchanging ones that matplotlib would draw after them (a panel's title and
    the figure's legend sit above the panels, clear of the y tick labels).

    ``changing(ax)``: the artists of ``ax`` that change between pictures (e.g. its
    lines, its y axis, and its spines, which matplotlib draws over the lines)."""

    def __init__(self, fig: plt.Figure, margins: tuple[float, float, float, float, float],
                 changing) -> None:
        self.fig, self.margins, self.changing = fig, margins, changing
        self._kept = None

    def _order(self) -> list:
        """The changing artists, each panel's in the order its ``draw`` would take them
        (by zorder; ties in the order of the panel's children)."""
        out = []
        for ax in self.fig.axes:
            mine = set(map(id, self.changing(ax)))
            out.extend(sorted((a for a in ax.get_children() if id(a) in mine and a.get_visible()),
                              key=lambda a: a.get_zorder()))
        return out

    def png(self) -> bytes:
        """The figure as it is now, as a PNG in the report's palette."""
        from helpers.present.png import canvas_png

        canvas = self.fig.canvas
        if self._kept is None:
            place(self.fig, self.margins)
            hidden = [a for ax in self.fig.axes for a in self.changing(ax) if a.get_visible()]
            for a in hidden:
                a.set_visible(False)
            try:
                canvas.draw()
                self._kept = canvas.copy_from_bbox(self.fig.bbox)
            finally:
                for a in hidden:
                    a.set_visible(True)
        else:
            canvas.restore_region(self._kept)
        renderer = canvas.get_renderer()
        for ax in self.fig.axes:
            ax.get_xlim(), ax.get_ylim()  # a pending autoscale is applied first, as draw would
        for a in self._order():
            a.draw(renderer)
        return canvas_png(canvas)

    def show(self) -> None:
        """Display :meth:`png`."""
        from IPython.display import Image, display

        display(Image(data=self.png(), format="png"))
