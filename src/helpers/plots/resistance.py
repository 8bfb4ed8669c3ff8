"""Figures of chapter 2 (resistance classes): stacked bars of the classes per group.

The tables drawn are those of :class:`helpers.analysis.resistance.ResistanceClasses` (one row
per group, one column of course counts per class).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from helpers.plots.style import CLASS_COLOURS, FIG_WIDTH
from helpers.units import CLASSES


def class_label(resistance_class: str) -> str:
    """A class name as the figures write it (``ongoing_benefit`` -> ``ongoing benefit``)."""
    return resistance_class.replace("_", " ")


def class_bars(
    counts: pd.DataFrame, title: str, proportions: bool = True, ax: plt.Axes | None = None
) -> plt.Figure:
    """Stacked bars of the resistance classes per group (rows of ``counts``, first on top).

    Drawn with seaborn's weighted histogram of a categorical axis: ``multiple="fill"`` stacks
    the shares of each group to 100 %, ``multiple="stack"`` the counts.

    Parameters
    ----------
    counts
        One row per group; columns named after the classes (others, such as ``total``, are
        ignored), e.g. a table of :func:`helpers.analysis.resistance.class_table`.
    title
        Title of the figure.
    proportions
        Shares of each group's courses (default) instead of counts.
    ax
        Axes to draw on (default: a new figure sized to the table).
    """
    present = [c for c in CLASSES if c in counts.columns]
    long = (
        counts[present]
        .astype(float)
        .set_axis([str(i) for i in counts.index])
        .rename_axis("group")
        .reset_index()
        .melt(id_vars="group", var_name="class", value_name="courses")
    )
    long["class"] = long["class"].map(class_label)
    labels = [class_label(c) for c in present]
    if ax is None:
        fig, ax = plt.subplots(figsize=(FIG_WIDTH, 0.42 * len(counts) + 1.4))
    else:
        fig = ax.figure
    sns.histplot(
        data=long,
        y="group",
        hue="class",
        weights="courses",
        multiple="fill" if proportions else "stack",
        discrete=True,
        shrink=0.8,
        # seaborn stacks the first hue level outermost: reversed, the first class starts at 0
        hue_order=labels[::-1],
        palette={class_label(c): CLASS_COLOURS[c] for c in present},
        alpha=1,
        linewidth=0,
        legend=False,
        ax=ax,
    )
    if proportions:
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.set_xlabel("share of courses" if proportions else "courses")
    ax.set_ylabel("")
    ax.set_title(title)
    ax.legend(
        handles=[Patch(color=CLASS_COLOURS[c], label=class_label(c)) for c in present],
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
    )
    fig.tight_layout()
    return fig
