"""The one style of the book's figures: seaborn's theme, Okabe–Ito colours, sizes for the page.

Every chapter notebook calls :func:`setup` once before drawing; every figure function of
:mod:`helpers.plots` takes its sizes, fonts and colours from here. The "simulated data" mark is
added by :func:`helpers.book.figures.show`, never by a figure function.

The page
--------
A figure reaches the page as the PNG of the inline backend: the figure's tight bounding box
plus 0.1 inch of padding on each side, at ``figure.dpi``. sphinx-book-theme 1.3 (on
pydata-sphinx-theme 0.17) shows it in the article column with ``max-width: 100%``: a wider
PNG is scaled down, and its text with it. The column is the page (at most 88 rem = 1408 px)
less the primary sidebar (20 %), the secondary sidebar (17 rem, from 1200 px windows up) and
the article's padding (2 rem each side): **790 CSS px** (49 rem) from 1440 px windows up,
757 px at 1366 px and 688 px at 1280 px.

The rule
--------
- :data:`DPI` = 100: one inch of figure is 100 CSS px, one point of text 100/72 = 1.39 CSS px.
- A full-width figure is :data:`FIG_WIDTH` = 7.5 inches (a PNG of about 750 px); no PNG is
  wider than :data:`MAX_WIDTH_PX` = 790 px, so it is shown at its own size (1 : 1) in the widest
  column and scaled by no less than 0.87 from 1280 px windows up.
- Text: axis labels :data:`FONT_SIZE` = 10 pt (13.9 CSS px), ticks and legends 9 pt
  (12.5 px), titles 11 pt; nothing under :data:`MIN_FONT_SIZE` = 8 pt (11.1 CSS px at 1 : 1,
  still ≥ 9.7 px where a 1280 px window scales a full-width figure down).
- Several panels: at most :data:`MAX_COLUMNS` = 2 a row (:data:`MAX_SMALL_COLUMNS` = 3 for
  small panels that share their y axis), each axes at least :data:`MIN_PANEL_WIDTH` = 2 inches
  wide; the height grows with the number of rows (:func:`panel_grid`), never the width.
- Colours: the Okabe–Ito palette (:data:`OKABE_ITO`), safe for the common colour-vision
  deficiencies; the resistance classes, best responses and TME subtypes keep one colour each
  in every figure (:data:`CLASS_COLOURS`, :data:`RESPONSE_COLOURS`, :data:`SUBTYPE_COLOURS`,
  keyed by the names of :mod:`helpers.units`); :data:`COLOUR_CYCLE`, the same palette, is
  the default colour cycle (seaborn's ``colorblind`` is close, but its orange and vermillion
  look alike with deuteranopia).

:func:`layout_problems` checks a figure against the rule (``tests/test_plot_sizes.py`` runs
it on every figure of the book).
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text

from helpers.units import CLASSES, SUBTYPES

__all__ = [
    "CLASS_COLOURS",
    "COLOUR_CYCLE",
    "CONTENT_WIDTH_PX",
    "DPI",
    "FIG_WIDTH",
    "FONT_SIZE",
    "MAX_COLUMNS",
    "MAX_SMALL_COLUMNS",
    "MAX_WIDTH_PX",
    "MIN_FONT_SIZE",
    "MIN_PANEL_WIDTH",
    "OKABE_ITO",
    "RESPONSE_COLOURS",
    "SMALL_FONT_SIZE",
    "SUBTYPE_COLOURS",
    "TICK_FONT_SIZE",
    "TITLE_SIZE",
    "layout_problems",
    "panel_grid",
    "png_width_px",
    "setup",
    "wrap",
]

#: Width of sphinx-book-theme's article column in a window of 1440 CSS px or more.
CONTENT_WIDTH_PX = 790
#: Resolution of the figures (PNG pixels per inch of figure; one CSS px each on the page).
DPI = 100
#: Width of a full-width figure (inches).
FIG_WIDTH = 7.5
#: No figure's PNG (tight bounding box plus padding) is wider than this (pixels).
MAX_WIDTH_PX = CONTENT_WIDTH_PX
#: Padding of the inline backend's tight bounding box (inches, each side).
PAD_INCHES = 0.1

#: Axis labels and body text (points); "small" in matplotlib's relative sizes is 8.3 pt.
FONT_SIZE = 10
#: Tick labels and legends (points).
TICK_FONT_SIZE = 9
#: Titles of axes and figures (points).
TITLE_SIZE = 11
#: Annotations, counts in cells and dense tick labels: the smallest text of any figure.
SMALL_FONT_SIZE = 8
#: No text of a figure is smaller (points).
MIN_FONT_SIZE = SMALL_FONT_SIZE

#: Panels per row of a multi-panel figure ...
MAX_COLUMNS = 2
#: ... and of small panels that share their y axis (no tick labels between them).
MAX_SMALL_COLUMNS = 3
#: The narrowest axes of a multi-panel figure (inches).
MIN_PANEL_WIDTH = 2.0

#: Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
#: deficiency.
OKABE_ITO: dict[str, str] = {
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
    "black": "#000000",
}
#: The default colour cycle (curves and bars without a colour of their own).
COLOUR_CYCLE: tuple[str, ...] = tuple(
    OKABE_ITO[name]
    for name in (
        "blue",
        "orange",
        "bluish green",
        "vermillion",
        "reddish purple",
        "sky blue",
        "yellow",
        "black",
    )
)
#: Greys for what is not a category of its own (not evaluable, not assayed, reference lines).
GREY, LIGHT_GREY, DARK_GREY = "#999999", "#DDDDDD", "#555555"

#: Colours of the resistance classes (names of :data:`helpers.units.CLASSES`) in every figure.
CLASS_COLOURS: dict[str, str] = dict(
    zip(
        CLASSES,
        (OKABE_ITO["vermillion"], OKABE_ITO["blue"], OKABE_ITO["bluish green"], "#BBBBBB"),
        strict=True,
    )
)
#: Colours of the best overall responses (RECIST), from response (blue) to progression.
RESPONSE_COLOURS: dict[str | None, str] = {
    "CR": OKABE_ITO["blue"],
    "PR": OKABE_ITO["sky blue"],
    "SD": OKABE_ITO["yellow"],
    "PD": OKABE_ITO["vermillion"],
    "NE": GREY,
    None: LIGHT_GREY,
}
#: Colours of the TME subtypes (names of :data:`helpers.units.SUBTYPES`).
SUBTYPE_COLOURS: dict[str, str] = dict(
    zip(
        SUBTYPES,
        (OKABE_ITO["reddish purple"], OKABE_ITO["sky blue"], OKABE_ITO["orange"], "#666666"),
        strict=True,
    )
)


def setup() -> None:
    """Apply the book's figure style: seaborn ``ticks`` theme, Okabe–Ito colour cycle, the sizes above.

    Seaborn's theme sets fonts, ticks and the default colour cycle in one call; the overrides
    keep the book's look (no top or right spine, bold titles, legends without frames) and its
    page rule (resolution, full-width default size, font sizes).
    """
    sns.set_theme(
        context="notebook",
        style="ticks",
        palette=list(COLOUR_CYCLE),
        font_scale=FONT_SIZE / 12,  # the "notebook" context is drawn at 12 points
        rc={
            "figure.dpi": DPI,
            "savefig.dpi": DPI,
            "figure.figsize": (FIG_WIDTH, 4.5),
            "font.size": FONT_SIZE,
            "axes.labelsize": FONT_SIZE,
            "axes.titlesize": TITLE_SIZE,
            "axes.titleweight": "bold",
            "figure.titlesize": TITLE_SIZE,
            "figure.labelsize": FONT_SIZE,
            "xtick.labelsize": TICK_FONT_SIZE,
            "ytick.labelsize": TICK_FONT_SIZE,
            "legend.fontsize": TICK_FONT_SIZE,
            "legend.title_fontsize": TICK_FONT_SIZE,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
        },
    )


def panel_grid(
    n: int,
    *,
    panel_height: float,
    ncols: int = MAX_COLUMNS,
    extra_height: float = 0.0,
    width: float = FIG_WIDTH,
    **subplots: object,
) -> tuple[Figure, np.ndarray]:
    """A figure of ``n`` panels, ``ncols`` (at most) a row, as wide as the page.

    Parameters
    ----------
    n : int
        Number of panels; the cells of the grid beyond ``n`` are removed from the figure (so
        ``fig.axes`` holds the ``n`` panels only).
    panel_height : float
        Height of one row of panels (inches): the figure grows by it per row.
    ncols : int
        Panels per row (fewer when ``n`` is smaller); :data:`MAX_COLUMNS` by default.
    extra_height : float
        Inches added once (a figure title, a legend under the panels).
    width : float
        Figure width (inches), :data:`FIG_WIDTH` by default.
    **subplots
        Passed to :func:`matplotlib.pyplot.subplots` (``sharey=True``, ``gridspec_kw`` ...).

    Returns
    -------
    (Figure, numpy.ndarray)
        The figure and its axes as a 2-d array (``squeeze=False``), row by row; draw on the
        first ``n`` of ``axes.ravel()``.
    """
    ncols = max(1, min(int(ncols), int(n)))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(width, panel_height * nrows + extra_height), squeeze=False, **subplots
    )
    for ax in axes.ravel()[n:]:
        ax.remove()
    return fig, axes


def wrap(label: object, width: int = 40) -> str:
    """``label`` broken into lines of at most ``width`` characters (long row labels of a figure)."""
    return textwrap.fill(str(label), width, break_long_words=False)


def png_width_px(fig: Figure) -> float:
    """Width (pixels) of the PNG the book shows: tight bounding box plus padding, at ``fig.dpi``."""
    box = fig.get_tightbbox(fig.canvas.get_renderer())
    return (box.width + 2 * PAD_INCHES) * fig.dpi


def _panels(fig: Figure) -> list[Axes]:
    """Visible axes that hold a plot (colour bars are left out: they are narrow by design)."""
    return [ax for ax in fig.axes if ax.get_visible() and getattr(ax, "_colorbar", None) is None]


def layout_problems(
    fig: Figure,
    *,
    max_width_px: float = MAX_WIDTH_PX,
    min_font_size: float = MIN_FONT_SIZE,
    min_panel_width: float = MIN_PANEL_WIDTH,
) -> list[str]:
    """What breaks the page rule in ``fig`` (an empty list when nothing does).

    Checks that the PNG is at most ``max_width_px`` wide, that every visible text is at least
    ``min_font_size`` points, and, when the figure has several panels, that each is at least
    ``min_panel_width`` inches wide. The figure is drawn first so that ticks and layout are
    final.
    """
    fig.canvas.draw()
    problems = []
    width = png_width_px(fig)
    if width > max_width_px + 0.5:
        problems.append(f"the PNG is {width:.0f} px wide, more than {max_width_px:g} px")
    small = sorted(
        {
            (round(t.get_fontsize(), 1), t.get_text().strip().replace("\n", " ")[:40])
            for t in fig.findobj(Text)
            if t.get_visible()
            and t.get_text().strip()
            and (t.axes is None or t.axes.get_visible())
            and t.get_fontsize() < min_font_size - 1e-6
        }
    )
    if small:
        shown = ", ".join(f"{text!r} ({size:g} pt)" for size, text in small[:5])
        problems.append(f"{len(small)} texts under {min_font_size:g} pt: {shown}")
    panels = _panels(fig)
    if len(panels) > 1:
        narrow = [
            (
                ax.get_title() or ax.get_title(loc="left") or f"panel {i + 1}",
                ax.get_position().width * fig.get_figwidth(),
            )
            for i, ax in enumerate(panels)
            if ax.get_position().width * fig.get_figwidth() < min_panel_width - 1e-6
        ]
        if narrow:
            shown = ", ".join(f"{title!r} ({w:.2f} in)" for title, w in narrow[:5])
            problems.append(f"{len(narrow)} panels narrower than {min_panel_width:g} in: {shown}")
    return problems
