"""Figures of chapter 5 (TME states). Each function returns the Figure; none shows a sample or
patient identifier (samples are unlabelled columns of a heat map).

The tables drawn are those of :class:`helpers.analysis.tme.TMEChapter`. Heat maps and stacked
shares are drawn with seaborn; the alluvial flows and the medians over time with matplotlib.
Colours of subtypes and classes are those of :mod:`helpers.plots.style`, keyed by the names of
:mod:`helpers.units`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter
from matplotlib.transforms import offset_copy

from helpers.plots.style import (
    CLASS_COLOURS,
    FIG_WIDTH,
    MAX_COLUMNS,
    MAX_SMALL_COLUMNS,
    OKABE_ITO,
    SMALL_FONT_SIZE,
    SUBTYPE_COLOURS,
    panel_grid,
)
from helpers.units import SUBTYPE_NAMES, SUBTYPES, TIMEPOINTS

__all__ = [
    "alluvial",
    "axes_scatter",
    "carrier_effect_heatmap",
    "median_heatmap",
    "sample_heatmap",
    "scores_over_time",
    "shift_comparison",
    "subtype_bars",
]

#: Diverging colour map of scaled scores (0 = the reference's median tumour).
SCORE_CMAP = "RdBu_r"
#: Colour of a missing class or subtype in the sample strips.
NO_COLOUR = "#ffffff"
#: Colours of the stratified (the chapter's) and the pooled (confounded) shifts.
STRATIFIED_COLOUR = OKABE_ITO["blue"]
POOLED_COLOUR = "#b3b6b7"


def _subtype_handles(names: bool = True) -> list[Patch]:
    return [
        Patch(color=SUBTYPE_COLOURS[s], label=f"{s}: {SUBTYPE_NAMES[s]}" if names else s) for s in SUBTYPES
    ]


def _own_axes(ax: plt.Axes | None, figsize: tuple[float, float]) -> tuple[plt.Figure, plt.Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def axes_scatter(samples: pd.DataFrame, title: str, ax: plt.Axes | None = None) -> plt.Figure:
    """Immune axis against fibrotic axis, one dot per sample, coloured by subtype.

    The quadrant lines at 0 are the subtype thresholds (the reference's median tumour).

    Parameters
    ----------
    samples
        Scored samples with ``immune_axis``, ``fibrotic_axis`` and ``subtype``
        (:attr:`helpers.analysis.tme.TMEChapter.samples`).
    title
        Title of the figure.
    ax
        Axes to draw on (default: a new figure).
    """
    fig, ax = _own_axes(ax, (FIG_WIDTH, 5.2))
    called = samples.dropna(subset=["immune_axis", "fibrotic_axis", "subtype"])
    sns.scatterplot(
        data=called,
        x="fibrotic_axis",
        y="immune_axis",
        hue="subtype",
        hue_order=list(SUBTYPES),
        palette=SUBTYPE_COLOURS,
        s=6,
        alpha=0.45,
        linewidth=0,
        legend=False,
        ax=ax,
    )
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("fibrotic axis (scaled; 0 = reference median)")
    ax.set_ylabel("immune axis (scaled; 0 = reference median)")
    ax.set_title(title)
    ax.legend(handles=_subtype_handles(), loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def subtype_bars(
    counts: pd.DataFrame, title: str, label: Callable[[int], str] = str, ax: plt.Axes | None = None
) -> plt.Figure:
    """Stacked bars of subtype shares per group, with each group's number of samples.

    Drawn with seaborn's weighted histogram of a categorical axis (``multiple="fill"`` stacks
    each group's shares to 100 %).

    Parameters
    ----------
    counts
        One row per group (first on top): a column per subtype and ``n``
        (:func:`helpers.analysis.tme.subtype_counts`).
    title
        Title of the figure.
    label
        Writes a count for the figure (e.g. :func:`helpers.book.privacy.count_label`, which
        suppresses small counts of a restricted cohort).
    ax
        Axes to draw on (default: a new figure sized to the table).
    """
    names = [" · ".join(map(str, i)) if isinstance(i, tuple) else str(i) for i in counts.index]
    long = (
        counts[list(SUBTYPES)]
        .astype(float)
        .set_axis(names)
        .rename_axis("group")
        .reset_index()
        .melt(id_vars="group", var_name="subtype", value_name="samples")
    )
    long["group"] = pd.Categorical(long["group"], categories=names)
    fig, ax = _own_axes(ax, (FIG_WIDTH, 0.45 * len(counts) + 1.6))
    sns.histplot(
        data=long,
        y="group",
        hue="subtype",
        weights="samples",
        multiple="fill",
        discrete=True,
        shrink=0.8,
        # seaborn stacks the first hue level outermost: reversed, the first subtype starts at 0
        hue_order=list(SUBTYPES)[::-1],
        palette=SUBTYPE_COLOURS,
        alpha=1,
        linewidth=0,
        legend=False,
        ax=ax,
    )
    for position, n in enumerate(counts["n"]):
        ax.text(1.01, position, f"n={label(int(n))}", va="center", fontsize=SMALL_FONT_SIZE)
    ax.set_xlim(0, 1.12)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1])
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.set_xlabel("share of samples")
    ax.set_ylabel("")
    ax.set_title(title)
    ax.legend(handles=_subtype_handles(), loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def _smooth(t: np.ndarray) -> np.ndarray:
    return 3 * t**2 - 2 * t**3


def _alluvial_panel(ax: plt.Axes, title: str, table: pd.DataFrame, label: Callable[[int], str]) -> None:
    width, gap = 0.08, 0.015
    t = np.linspace(0, 1, 60)
    table = table.reindex(index=list(SUBTYPES), columns=list(SUBTYPES), fill_value=0)
    total = int(table.to_numpy().sum())
    ax.set_title(f"{title} (pairs: {label(total)})")
    ax.set_xlim(-0.25, 1.25)
    ax.set_ylim(-0.02, 1 + gap * 3 + 0.02)
    ax.axis("off")
    if total == 0:
        ax.text(0.5, 0.5, "no pairs", ha="center", va="center")
        return
    share = table / total
    # Stack bottoms: subtypes from the top (IE/F) to the bottom (D), a gap between them.
    pre_bottom, post_bottom = {}, {}
    level = 1 + gap * 3
    for s in SUBTYPES:
        level -= share.loc[s].sum()
        pre_bottom[s] = level
        level -= gap
    level = 1 + gap * 3
    for s in SUBTYPES:
        level -= share[s].sum()
        post_bottom[s] = level
        level -= gap
    pre_cursor = {s: pre_bottom[s] + share.loc[s].sum() for s in SUBTYPES}
    post_cursor = {s: post_bottom[s] + share[s].sum() for s in SUBTYPES}
    for src in SUBTYPES:
        for dst in SUBTYPES:
            h = float(share.at[src, dst])
            if h <= 0:
                continue
            y0_top, y1_top = pre_cursor[src], post_cursor[dst]
            pre_cursor[src] -= h
            post_cursor[dst] -= h
            top = y0_top + (y1_top - y0_top) * _smooth(t)
            x = width + t * (1 - 2 * width)
            ax.fill_between(x, top - h, top, color=SUBTYPE_COLOURS[src], alpha=0.45, lw=0)
    for s in SUBTYPES:
        for x0, bottom, height, count in (
            (0.0, pre_bottom[s], share.loc[s].sum(), int(table.loc[s].sum())),
            (1 - width, post_bottom[s], share[s].sum(), int(table[s].sum())),
        ):
            if height <= 0:
                continue
            ax.bar(
                x0,
                height,
                width=width,
                bottom=bottom,
                align="edge",
                color=SUBTYPE_COLOURS[s],
                edgecolor="white",
            )
            side, ha = (-0.02, "right") if x0 == 0 else (1.02, "left")
            ax.text(
                side,
                bottom + height / 2,
                f"{s} ({label(count)})",
                ha=ha,
                va="center",
                fontsize=SMALL_FONT_SIZE,
            )
    ax.text(width / 2, -0.02, "pre", ha="center", va="top")
    ax.text(1 - width / 2, -0.02, "post", ha="center", va="top")


def alluvial(
    flows: Mapping[str, pd.DataFrame],
    label: Callable[[int], str] = str,
    axes: Sequence[plt.Axes] | None = None,
) -> plt.Figure:
    """Pre-treatment → post-progression subtype flows, one panel per resistance class.

    Bar and ribbon heights are shares of the panel's pairs.

    Parameters
    ----------
    flows
        Resistance class → pre x post count table
        (:attr:`helpers.analysis.tme.Transitions.flows`).
    label
        Writes a count for the figure (see :func:`subtype_bars`).
    axes
        One Axes per panel (default: a new figure as wide as the page, two panels a row).
    """
    if axes is None:
        _, grid = panel_grid(len(flows), panel_height=4.2, ncols=MAX_COLUMNS)
        axes = list(grid.ravel()[: len(flows)])
    fig = axes[0].figure
    for ax, (klass, table) in zip(axes, flows.items(), strict=True):
        _alluvial_panel(ax, f"{klass.replace('_', ' ')} resistance", table, label)
    fig.tight_layout()
    return fig


def scores_over_time(
    table: pd.DataFrame, min_n: int = 5, axes: Sequence[plt.Axes] | None = None
) -> plt.Figure:
    """Median (dot) and interquartile range (bar) of each score by timepoint and class.

    Parameters
    ----------
    table
        The long table of :func:`helpers.analysis.tme.scores_over_time`.
    min_n
        Groups with fewer samples are not drawn.
    axes
        One Axes per signature (default: a new figure as wide as the page, three small panels a
        row sharing y, the legend under them).
    """
    signatures = list(dict.fromkeys(table["signature"]))
    classes = list(dict.fromkeys(table["resistance_class"]))
    created = axes is None
    if axes is None:
        _, grid = panel_grid(
            len(signatures), panel_height=2.9, ncols=MAX_SMALL_COLUMNS, extra_height=0.5, sharey=True
        )
        axes = list(grid.ravel()[: len(signatures)])
    fig = axes[0].figure
    offsets = np.linspace(-0.12, 0.12, max(1, len(classes)))
    for ax, signature in zip(axes, signatures, strict=True):
        part = table[table["signature"] == signature]
        for offset, klass in zip(offsets, classes, strict=True):
            rows = part[part["resistance_class"] == klass].set_index("timepoint").reindex(TIMEPOINTS)
            x = np.arange(len(TIMEPOINTS)) + offset
            ok = rows["n"].fillna(0).to_numpy() >= min_n
            ax.errorbar(
                x[ok],
                rows["median"].to_numpy()[ok],
                yerr=[
                    (rows["median"] - rows["q1"]).to_numpy()[ok],
                    (rows["q3"] - rows["median"]).to_numpy()[ok],
                ],
                marker="o",
                ms=5,
                capsize=3,
                lw=1.2,
                color=CLASS_COLOURS.get(klass, "#34495e"),
                label=klass.replace("_", " "),
            )
        ax.axhline(0, color="#7f8c8d", lw=0.7, ls="--")
        ax.set_xticks(range(len(TIMEPOINTS)), TIMEPOINTS)
        ax.set_title(signature, fontsize=SMALL_FONT_SIZE + 1)
        ax.set_xlabel("timepoint")
    for ax in axes:  # the first panel of each row
        spec = ax.get_subplotspec()
        if spec is None or spec.is_first_col():
            ax.set_ylabel("scaled score (median, IQR)")
    handles, labels = axes[0].get_legend_handles_labels()
    if created:  # one legend for every panel, under them
        fig.legend(handles, labels, loc="lower center", ncol=max(1, len(labels)), bbox_to_anchor=(0.5, 0.0))
        fig.tight_layout(rect=(0, 0.45 / fig.get_figheight(), 1, 1))
    else:
        axes[-1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        fig.tight_layout()
    return fig


def median_heatmap(
    matrix: pd.DataFrame, title: str, limit: float = 1.5, ax: plt.Axes | None = None
) -> plt.Figure:
    """Heat map of median scaled scores, signatures (rows) x groups (columns), values shown.

    Parameters
    ----------
    matrix
        :attr:`helpers.analysis.tme.MedianScores.matrix`.
    title
        Title of the figure.
    limit
        Scores beyond ±``limit`` get the end colours of the scale.
    ax
        Axes to draw on (default: a new figure sized to the matrix).
    """
    fig, ax = _own_axes(ax, (min(FIG_WIDTH, 1.1 * matrix.shape[1] + 3.5), 0.32 * matrix.shape[0] + 1.8))
    sns.heatmap(
        matrix.astype(float),
        cmap=SCORE_CMAP,
        center=0,
        vmin=-limit,
        vmax=limit,
        annot=True,
        fmt=".2f",
        annot_kws={"fontsize": SMALL_FONT_SIZE},
        linewidths=0.5,
        linecolor="white",
        cbar_kws={"label": "median scaled score"},
        ax=ax,
    )
    ax.set_xticks(ax.get_xticks(), [str(c) for c in matrix.columns], rotation=30, ha="right")
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def _strip(ax: plt.Axes, colours: list[str], name: str) -> None:
    """One row of colours (a class or subtype per sample), drawn as a one-row heat map."""
    palette = list(dict.fromkeys(colours))
    codes = np.array([[palette.index(c) for c in colours]])
    sns.heatmap(codes, cmap=ListedColormap(palette), vmin=-0.5, vmax=len(palette) - 0.5, cbar=False, ax=ax)
    ax.set_xticks([])
    ax.set_yticks([0.5], [name], rotation=0, fontsize=SMALL_FONT_SIZE)


def sample_heatmap(scaled: pd.DataFrame, samples: pd.DataFrame, title: str, limit: float = 2.5) -> plt.Figure:
    """Scaled scores of every sample (columns, unlabelled), ordered by class then subtype,
    with colour strips for class and subtype above.

    A figure of several panels (two strips, the heat map, its colour bar), so it makes its
    own figure rather than drawing on a given Axes.

    Parameters
    ----------
    scaled
        Scaled scores, signatures (rows) x samples (:attr:`PostProgression.scaled
        <helpers.analysis.tme.PostProgression>`).
    samples
        The samples to show, with ``sample_id``, ``resistance_class``, ``subtype`` and
        ``immune_axis`` (:attr:`PostProgression.samples <helpers.analysis.tme.PostProgression>`).
    title
        Title of the figure.
    limit
        Scores beyond ±``limit`` get the end colours of the scale.
    """
    order = samples.assign(
        _class=pd.Categorical(
            samples["resistance_class"], ["acquired", "primary", "ongoing_benefit", "not_evaluable"]
        ),
        _subtype=pd.Categorical(samples["subtype"], SUBTYPES),
    ).sort_values(["_class", "_subtype", "immune_axis"], ascending=[True, True, False])
    values = scaled.loc[:, order["sample_id"]].astype(float)
    # constrained layout (tight_layout cannot lay out the colour bar of a grid): room for the
    # signature names on the left and for the legend under the heat map
    fig = plt.figure(figsize=(FIG_WIDTH, 0.2 * scaled.shape[0] + 2.4), layout="constrained")
    fig.get_layout_engine().set(hspace=0.01, wspace=0.01)
    grid = fig.add_gridspec(3, 2, height_ratios=[0.35, 0.35, 0.2 * scaled.shape[0]], width_ratios=[1, 0.02])
    class_ax, subtype_ax = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, 0])
    main, bar_ax = fig.add_subplot(grid[2, 0]), fig.add_subplot(grid[2, 1])
    _strip(class_ax, [CLASS_COLOURS.get(str(k), "#d5d8dc") for k in order["resistance_class"]], "class")
    _strip(subtype_ax, [SUBTYPE_COLOURS.get(str(s), NO_COLOUR) for s in order["subtype"]], "subtype")
    sns.heatmap(
        values,
        cmap=SCORE_CMAP,
        center=0,
        vmin=-limit,
        vmax=limit,
        xticklabels=False,
        yticklabels=True,
        cbar_ax=bar_ax,
        cbar_kws={"label": "scaled score"},
        ax=main,
    )
    main.tick_params(axis="y", labelsize=SMALL_FONT_SIZE)
    main.set_ylabel("")
    main.set_xlabel(f"samples ({values.shape[1]}), ordered by class, subtype and immune axis")
    class_ax.set_title(title)
    shown = dict.fromkeys(order["resistance_class"].dropna())  # in the order of the strip
    handles = [Patch(color=CLASS_COLOURS[k], label=k.replace("_", " ")) for k in shown if k in CLASS_COLOURS]
    handles += _subtype_handles(names=False)
    # under the x label whatever the number of signatures: anchored 30 points below the heat map
    below = offset_copy(main.transAxes, fig=fig, y=-30, units="points")
    main.legend(
        handles=handles,
        ncol=min(len(handles), 6),
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=below,
    )
    return fig


def carrier_effect_heatmap(
    effects: pd.DataFrame, fdr: float, limit: float = 1.5, ax: plt.Axes | None = None
) -> plt.Figure:
    """Carrier minus non-carrier difference (scaled units) per gene · cancer type (rows) and
    signature (columns); ``*`` marks q < ``fdr``.

    Parameters
    ----------
    effects
        :attr:`helpers.analysis.tme.CarrierEffects.effects`.
    fdr
        The false discovery rate the stars mark.
    limit
        Differences beyond ±``limit`` get the end colours of the scale.
    ax
        Axes to draw on (default: a new figure sized to the table).
    """
    effects = effects.assign(row=effects["gene"] + " · " + effects["cancer_type"])
    columns = list(dict.fromkeys(effects["signature"]))
    rows = list(dict.fromkeys(effects["row"]))
    estimate = effects.pivot(index="row", columns="signature", values="estimate").loc[rows, columns]
    q = effects.pivot(index="row", columns="signature", values="q").loc[rows, columns]
    stars = np.where(q.to_numpy(dtype=float) < fdr, "*", "")
    fig, ax = _own_axes(ax, (min(FIG_WIDTH, 0.55 * len(columns) + 3), max(3.6, 0.42 * len(rows) + 2.4)))
    sns.heatmap(
        estimate.astype(float),
        cmap=SCORE_CMAP,
        center=0,
        vmin=-limit,
        vmax=limit,
        annot=stars,
        fmt="",
        annot_kws={"fontsize": 12, "fontweight": "bold"},  # seaborn picks black or white per cell
        linewidths=0.5,
        linecolor="white",
        cbar_kws={"label": "carriers − non-carriers\n(scaled units)"},
        ax=ax,
    )
    ax.set_xticks(ax.get_xticks(), columns, rotation=60, ha="right", fontsize=SMALL_FONT_SIZE)
    ax.set_yticks(ax.get_yticks(), rows, rotation=0, fontsize=SMALL_FONT_SIZE)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(f"LoF carriers after progression (* q < {fdr:g})")
    fig.tight_layout()
    return fig


def shift_comparison(
    stratified: pd.DataFrame,
    pooled: pd.DataFrame,
    title: str,
    xlabel: str = "acquired − primary shift (scaled units, 95% CI)",
    strata_label: str = "within cancer type and site",
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """The stratified shift of each score beside the pooled one, with their intervals.

    The stratified estimate (within cancer type and biopsy site) is the dark dot; the pooled
    one (confounded by type and site), the grey dot below it. A line marks no shift.

    Parameters
    ----------
    stratified, pooled
        :func:`helpers.analysis.tme.compare_classes` with and without strata (or
        :func:`helpers.analysis.tme.compare_transitions`): ``shift``, ``ci_low``,
        ``ci_high`` per signature (index), in display order.
    title, xlabel
        Title and axis label.
    strata_label
        Legend entry of the stratified estimate (what it is stratified by).
    ax
        Axes to draw on (default: a new figure sized to the table).
    """
    signatures = list(stratified.index)
    fig, ax = _own_axes(ax, (FIG_WIDTH, 0.42 * len(signatures) + 1.6))
    position = np.arange(len(signatures))[::-1].astype(float)
    for table, offset, colour, label in (
        (stratified, 0.14, STRATIFIED_COLOUR, strata_label),
        (pooled.reindex(signatures), -0.14, POOLED_COLOUR, "pooled (confounded)"),
    ):
        values = table[["shift", "ci_low", "ci_high"]].astype(float)
        ax.hlines(position + offset, values["ci_low"], values["ci_high"], color=colour, linewidth=1.6)
        ax.plot(values["shift"], position + offset, "o", color=colour, markersize=5, label=label)
    ax.axvline(0, color="#566573", linewidth=0.8, linestyle="--")
    ax.set_yticks(position, [s.replace("_", " ") for s in signatures], fontsize=SMALL_FONT_SIZE)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(fontsize=SMALL_FONT_SIZE, loc="best")
    fig.tight_layout()
    return fig
