"""The one style of the book's figures: seaborn's theme, quiet axes, a colour-blind-safe palette.

Every chapter notebook calls :func:`setup` once before drawing. The figures themselves live in
the chapter modules of :mod:`helpers.plots`; the colours of resistance classes, best responses
and TME subtypes are those of :mod:`helpers.units`, and the "simulated data" mark is added by
:func:`helpers.book.figures.show`, never by a figure function.
"""

from __future__ import annotations

import seaborn as sns

#: Base font size of the book's figures (points): seaborn's "notebook" context scaled to it.
FONT_SIZE = 10


def setup() -> None:
    """Apply the book's figure style (seaborn ``ticks`` theme, colour-blind-safe palette).

    Seaborn's theme sets fonts, ticks and the default colour cycle in one call; the overrides
    keep the book's look: no top or right spine, bold titles, legends without frames and a
    resolution sized for the page.
    """
    sns.set_theme(
        context="notebook",
        style="ticks",
        palette="colorblind",
        font_scale=FONT_SIZE / 12,  # the "notebook" context is drawn at 12 points
        rc={
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titleweight": "bold",
            "axes.titlesize": FONT_SIZE + 1,
            "legend.frameon": False,
        },
    )
