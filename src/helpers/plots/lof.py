"""Figures of the acquired-LoF chapter: volcano plots, a paired oncoprint and a forest plot.

Every function takes an :class:`~helpers.analysis.lof.AcquiredLofResult` (and, for the oncoprint
and the forest plot, the genes to draw), and returns the Figure; the "simulated data" mark is
added by :func:`helpers.book.figures.show`. When there is nothing to draw (no gene tested, no
pair), the figure says so in one line instead of failing. Patients and samples are never
identified: oncoprint columns are numbered, and counts in labels go through ``count_label`` so
a restricted cohort can suppress small ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch, Polygon
from matplotlib.transforms import offset_copy

from helpers.analysis.lof import (
    ALL_PRE_COMPARISON,
    COMPARISON_LABELS,
    DEPLETED,
    ENRICHED,
    GROUP_COMPARISONS,
    PRIMARY_COMPARISON,
    SECONDARY_COMPARISON,
    AcquiredLofResult,
)
from helpers.errors import InputError, require_columns
from helpers.plots.style import (
    DARK_GREY,
    FIG_WIDTH,
    FONT_SIZE,
    MAX_COLUMNS,
    OKABE_ITO,
    SMALL_FONT_SIZE,
    panel_grid,
)

__all__ = ["LOF_KIND_COLOURS", "volcano_plot", "pairs_oncoprint_figure", "lof_forest_plot"]

#: Colours of the oncoprint cells.
LOF_KIND_COLOURS: dict[str, str] = {
    "truncating": OKABE_ITO["vermillion"],
    "deep deletion": OKABE_ITO["blue"],
    "truncating + deep deletion": OKABE_ITO["reddish purple"],
    "wild type": "#CCCCCC",
    "not assayed": "#ffffff",
}
# red and blue stay distinct with every common colour-vision deficiency (tests/test_plot_sizes.py)
_FOUND_COLOUR = "#c0392b"
_DEPLETED_COLOUR = "#2471a3"
_OTHER_COLOUR = "#aaaaaa"
#: Genes that pass the FDR without being enriched or depleted (secondary comparisons).
_OTHER_PASSING_COLOUR = OKABE_ITO["orange"]
#: Height of one row of volcano panels (inches).
VOLCANO_PANEL_HEIGHT = 2.9
# Odds ratios are drawn on log2 axes clipped to this range (Firth estimates are finite but can be
# very large when a gene has carriers in one group only); clipped points are drawn as triangles.
_LOG2_OR_LIMIT = 8.0
_Y_LABELS = {
    "both": "-log10 p (larger of Fisher, Firth)",
    "firth": "-log10 p (Firth)",
    "fisher": "-log10 p (Fisher)",
}


def _nothing_to_draw(title: str, note: str) -> plt.Figure:
    """A small figure that says why there is nothing to draw."""
    fig, ax = plt.subplots(figsize=(FIG_WIDTH, 1.4))
    ax.set_axis_off()
    ax.set_title(title, fontsize=FONT_SIZE)
    ax.text(
        0.5, 0.4, note, ha="center", va="center", fontsize=FONT_SIZE, color="#566573", transform=ax.transAxes
    )
    return fig


def volcano_plot(
    result: AcquiredLofResult, comparison: str = PRIMARY_COMPARISON, ncols: int = MAX_COLUMNS
) -> plt.Figure:
    """Volcano plots, one panel per cancer type with tested genes.

    Parameters
    ----------
    result
        From :func:`helpers.analysis.lof.acquired_lof_analysis`: its ``results`` are drawn, the
        p-value of its ``criterion`` on the y axis; genes whose q-value is at most its ``fdr``
        are coloured by their status (red: enriched, which in the primary comparison is
        *found*; blue: depleted) and labelled.
    comparison
        Which group comparison to draw.
    ncols
        Panels per row, at most :data:`~helpers.plots.style.MAX_COLUMNS` (2) so that each panel
        stays legible at the page's width; the figure grows downwards with the cancer types.

    Returns
    -------
    matplotlib.figure.Figure
        x: log2 odds ratio of the Firth model (case vs reference group), y: -log10 p; a dashed
        line marks the largest p-value that passes the FDR in each panel (Benjamini–Hochberg
        thresholds differ between panels). A one-line note when no gene was tested.
    """
    if comparison not in GROUP_COMPARISONS:
        raise InputError(
            f"volcano_plot: comparison must be one of {list(GROUP_COMPARISONS)}, got {comparison!r}"
        )
    p_col, q_col, fdr = result.p_column, result.q_column, result.fdr
    results = result.results
    require_columns(
        results,
        ["cancer_type", "comparison", "gene", "tested", "status", "firth_or", p_col, q_col],
        "results",
    )
    tested = results[(results["comparison"] == comparison) & results["tested"].astype(bool)]
    tested = tested[tested[p_col].notna() & tested["firth_or"].notna()]
    title = f"LoF per gene: {COMPARISON_LABELS[comparison]}"
    if tested.empty:
        return _nothing_to_draw(title, "No gene had enough LoF carriers to be tested in any cancer type.")
    types = sorted(tested["cancer_type"].unique())
    fig, axes = panel_grid(
        len(types), panel_height=VOLCANO_PANEL_HEIGHT, ncols=min(ncols, MAX_COLUMNS), extra_height=0.8
    )
    for ax, cancer_type in zip(axes.ravel(), types, strict=False):
        part = tested[tested["cancer_type"] == cancer_type]
        x = np.log2(part["firth_or"].astype(float).to_numpy())
        clipped = np.abs(x) > _LOG2_OR_LIMIT
        x = np.clip(x, -_LOG2_OR_LIMIT, _LOG2_OR_LIMIT)
        p = part[p_col].astype(float).clip(lower=1e-300).to_numpy()
        y = -np.log10(p)
        status = part["status"].to_numpy()
        found = (part[q_col].astype(float) <= fdr).to_numpy()  # every gene that passes the FDR
        enriched, depleted = status == ENRICHED, status == DEPLETED
        other_passing = found & ~enriched & ~depleted
        for mask, colour, size in (
            (~found, _OTHER_COLOUR, 14),
            (other_passing, _OTHER_PASSING_COLOUR, 26),
            (enriched, _FOUND_COLOUR, 26),
            (depleted, _DEPLETED_COLOUR, 26),
        ):
            ax.scatter(x[mask & ~clipped], y[mask & ~clipped], s=size, color=colour, alpha=0.8, linewidths=0)
            ax.scatter(
                x[mask & clipped],
                y[mask & clipped],
                s=size + 6,
                color=colour,
                marker="^",
                alpha=0.8,
                linewidths=0,
            )
        if found.any():
            ax.axhline(-np.log10(p[found].max()), color="#566573", lw=0.7, ls="--")
            genes = part["gene"].to_numpy()
            for i in np.flatnonzero(found)[np.argsort(-y[found], kind="mergesort")]:
                ax.annotate(
                    genes[i],
                    (x[i], y[i]),
                    xytext=(3, 2),
                    textcoords="offset points",
                    fontsize=SMALL_FONT_SIZE,
                    color=_DEPLETED_COLOUR if depleted[i] else _FOUND_COLOUR,
                )
        ax.axvline(0, color="black", lw=0.6)
        ax.set_xlim(-_LOG2_OR_LIMIT - 0.5, _LOG2_OR_LIMIT + 0.5)
        ax.set_xticks([-8, -4, 0, 4, 8])
        # p-values start at 1 (y = 0, drawn just above the axis); room above the highest point
        top = max(1.0, float(y.max())) * 1.15
        ax.set_ylim(-0.04 * top, top)
        ax.set_title(f"{cancer_type} ({len(part)} gene{'s' if len(part) != 1 else ''} tested)")
    # one label per axis for the whole grid: every panel has the same axes
    fig.supxlabel("log2 odds ratio (Firth)")
    fig.supylabel(_Y_LABELS[result.criterion])
    fig.suptitle(
        f"{title}\nq ≤ {fdr:g}: red enriched, blue depleted; "
        f"triangles: |log2 OR| > {_LOG2_OR_LIMIT:g}, drawn at the edge",
        fontsize=FONT_SIZE,
    )
    fig.tight_layout()
    return fig


def _memo_order(pre: np.ndarray, post: np.ndarray) -> np.ndarray:
    """Column order of the oncoprint: gains first (gene by gene), then LoF in either sample."""
    gained = ((post == 1) & (pre == 0)).astype(int)  # NaN compares False: not assayed, not gained
    carried = ((post == 1) | (pre == 1)).astype(int)
    n_genes, n_columns = pre.shape
    # np.lexsort: the last key is the most significant; the column number breaks ties
    keys = [np.arange(n_columns)]
    keys += [-carried[g] for g in reversed(range(n_genes))]
    keys += [-gained[g] for g in reversed(range(n_genes))]
    return np.lexsort(keys)


def _pair_panels(result: AcquiredLofResult, genes: pd.DataFrame, pair_group: str) -> list[tuple]:
    """Per cancer type of ``genes`` with a pair: genes, sample ids and LoF status, in drawing order."""
    chosen = result.samples
    panels = []
    for cancer_type, rows in genes.groupby("cancer_type", sort=True):
        in_type = chosen[chosen["cancer_type"] == cancer_type]
        post = in_type[in_type["group"].astype(str) == pair_group].set_index("patient_id")["sample_id"]
        pre = in_type[in_type["group"].astype(str) == "pre"].set_index("patient_id")["sample_id"]
        patients = sorted(set(post.index) & set(pre.index))
        gene_list = [g for g in dict.fromkeys(rows["gene"]) if g in result.lof.columns]
        if not patients or not gene_list:
            continue
        pre_ids, post_ids = pre.loc[patients].to_numpy(), post.loc[patients].to_numpy()
        pre_lof = result.lof.loc[pre_ids, gene_list].to_numpy(dtype=float).T
        post_lof = result.lof.loc[post_ids, gene_list].to_numpy(dtype=float).T
        order = _memo_order(pre_lof, post_lof)
        panels.append(
            (cancer_type, gene_list, pre_ids[order], post_ids[order], pre_lof[:, order], post_lof[:, order])
        )
    return panels


def pairs_oncoprint_figure(
    result: AcquiredLofResult,
    genes: pd.DataFrame,
    pair_group: str = "post_acquired",
    count_label: Callable[[int], str] = str,
) -> plt.Figure:
    """Oncoprint of pre-treatment / post-progression pairs for the leading genes.

    Parameters
    ----------
    result
        From :func:`helpers.analysis.lof.acquired_lof_analysis`.
    genes
        Leading genes: columns ``cancer_type`` and ``gene`` (one panel per cancer type, genes in
        the given order), e.g. :func:`helpers.analysis.lof.oncoprint_genes`.
    pair_group
        ``post_acquired`` (default) or ``post_primary``: which post-progression samples are paired
        with the patient's pre-treatment sample.
    count_label
        Turns a count of patients into its label (the book passes
        :func:`helpers.book.privacy.count_label`, which suppresses small counts of restricted
        cohorts).

    Returns
    -------
    matplotlib.figure.Figure
        Each column is a patient (numbered, never identified), each row a gene; in each cell the
        lower-left triangle is the pre-treatment sample and the upper-right triangle the
        post-progression sample, coloured by the kind of LoF (truncating variant, deep deletion,
        both), wild type or not assayed. Patients who gained a LoF come first. A one-line note
        when no cancer type of ``genes`` has a pair.
    """
    require_columns(genes, ["cancer_type", "gene"], "genes")
    if pair_group not in ("post_acquired", "post_primary"):
        raise InputError(
            f"pairs_oncoprint_figure: pair_group must be post_acquired or post_primary, got {pair_group!r}"
        )
    resistance = pair_group.replace("post_", "")
    panels = _pair_panels(result, genes, pair_group)
    if not panels:
        return _nothing_to_draw(
            f"Pre-treatment and post-progression pairs ({resistance} resistance)",
            "No patient of these cancer types has both a pre-treatment and a post-progression DNA sample.",
        )
    kinds = (
        result.events.set_index(["sample_id", "gene"])["kind"]
        if len(result.events)
        else pd.Series(dtype=object)
    )

    def colour(sample_id: str, status: float, gene: str) -> str:
        if np.isnan(status):
            return LOF_KIND_COLOURS["not assayed"]
        if status == 0:
            return LOF_KIND_COLOURS["wild type"]
        kind = kinds.get((sample_id, gene), "truncating")
        return LOF_KIND_COLOURS.get(kind, LOF_KIND_COLOURS["truncating"])

    heights = [len(p[1]) + 1.2 for p in panels]
    fig, axes = plt.subplots(
        len(panels),
        1,
        figsize=(FIG_WIDTH, 0.42 * sum(heights) + 2.0),
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )
    for ax, (cancer_type, gene_list, pre_ids, post_ids, pre_lof, post_lof) in zip(
        axes[:, 0], panels, strict=True
    ):
        n_patients = len(pre_ids)
        for row, gene in enumerate(gene_list):
            y = len(gene_list) - 1 - row
            for col in range(n_patients):
                lower = Polygon(
                    [(col, y), (col + 0.9, y), (col, y + 0.9)],
                    closed=True,
                    facecolor=colour(pre_ids[col], pre_lof[row, col], gene),
                    edgecolor="#bfc9ca",
                    linewidth=0.2,
                )
                upper = Polygon(
                    [(col + 0.9, y), (col + 0.9, y + 0.9), (col, y + 0.9)],
                    closed=True,
                    facecolor=colour(post_ids[col], post_lof[row, col], gene),
                    edgecolor="#bfc9ca",
                    linewidth=0.2,
                )
                ax.add_patch(lower)
                ax.add_patch(upper)
            gained = int(np.nansum((post_lof[row] == 1) & (pre_lof[row] == 0)))
            ax.text(
                n_patients + 0.5,
                y + 0.45,
                f"gained {count_label(gained)}",
                va="center",
                fontsize=SMALL_FONT_SIZE,
            )
        ax.set_xlim(0, n_patients + max(7, 0.16 * n_patients))
        ax.set_ylim(0, len(gene_list))
        ax.set_yticks(np.arange(len(gene_list))[::-1] + 0.45, gene_list)
        step = max(1, int(np.ceil(n_patients / 15)))
        ticks = np.arange(0, n_patients, step)
        ax.set_xticks(ticks + 0.45, [str(t + 1) for t in ticks], fontsize=SMALL_FONT_SIZE)
        ax.tick_params(length=0)
        for side in ("top", "right", "left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.set_title(
            f"{cancer_type}: {count_label(n_patients)} patients with a pre-treatment and a "
            "post-progression DNA sample",
            fontsize=FONT_SIZE,
            loc="left",
        )
    axes[-1, 0].set_xlabel(
        "patients (numbered, not identified)\n"
        "lower-left triangle: pre-treatment sample, upper-right: post-progression sample",
    )
    handles = [Patch(facecolor=c, edgecolor="#bfc9ca", label=k) for k, c in LOF_KIND_COLOURS.items()]
    fig.legend(handles=handles, loc="lower center", ncol=3, bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(f"Pre-treatment and post-progression pairs ({resistance} resistance)")
    fig.tight_layout(rect=(0, 0.6 / fig.get_figheight(), 1, 1))
    return fig


def lof_forest_plot(
    result: AcquiredLofResult,
    genes: pd.DataFrame,
    comparisons: Sequence[str] = GROUP_COMPARISONS,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Forest plot of Firth odds ratios (95% profile CI) of the leading genes.

    Parameters
    ----------
    result
        From :func:`helpers.analysis.lof.acquired_lof_analysis` (its ``results`` are drawn).
    genes
        Columns ``cancer_type`` and ``gene``: the rows of the plot, top to bottom (e.g.
        :func:`helpers.analysis.lof.leading_genes`).
    comparisons
        One marker per comparison for each gene (where the gene was tested and the Firth model
        fitted).
    ax
        Axes to draw on; default a new figure sized to the number of genes.

    Returns
    -------
    matplotlib.figure.Figure
        Odds ratios on a log axis; an interval running beyond the axis ends in an arrow. A
        one-line note (on ``ax`` if given) when none of the genes has a fitted odds ratio.
    """
    results = result.results
    require_columns(
        results,
        ["cancer_type", "comparison", "gene", "tested", "firth_or", "firth_ci_lower", "firth_ci_upper"],
        "results",
    )
    require_columns(genes, ["cancer_type", "gene"], "genes")
    keyed = results[results["tested"].astype(bool) & results["firth_or"].notna()].set_index(
        ["cancer_type", "gene", "comparison"]
    )
    rows = list(zip(genes["cancer_type"], genes["gene"], strict=True))
    present = [(t, g) for t, g in rows if any((t, g, c) in keyed.index for c in comparisons)]
    if not present:
        note = "No leading gene has a fitted Firth odds ratio."
        if ax is None:
            return _nothing_to_draw("Leading genes", note)
        ax.set_axis_off()
        ax.text(
            0.5,
            0.5,
            note,
            ha="center",
            va="center",
            transform=ax.transAxes,
            fontsize=FONT_SIZE,
            color="#566573",
        )
        return ax.figure
    created = ax is None
    if created:
        fig, ax = plt.subplots(figsize=(FIG_WIDTH, 0.5 * len(present) + 2.2))
    else:
        fig = ax.figure
    lo_limit, hi_limit = 2.0**-_LOG2_OR_LIMIT, 2.0**_LOG2_OR_LIMIT
    markers = {
        PRIMARY_COMPARISON: ("s", OKABE_ITO["blue"], "black"),
        ALL_PRE_COMPARISON: ("^", "white", DARK_GREY),
        SECONDARY_COMPARISON: ("o", "white", OKABE_ITO["vermillion"]),
    }
    offsets = np.linspace(0.15, -0.15, len(comparisons)) if len(comparisons) > 1 else [0.0]
    for i, (cancer_type, gene) in enumerate(present):
        y = len(present) - 1 - i
        for offset, comparison in zip(offsets, comparisons, strict=True):
            if (cancer_type, gene, comparison) not in keyed.index:
                continue
            row = keyed.loc[(cancer_type, gene, comparison)]
            estimate = float(row["firth_or"])
            low = float(row["firth_ci_lower"]) if pd.notna(row["firth_ci_lower"]) else np.nan
            high = float(row["firth_ci_upper"]) if pd.notna(row["firth_ci_upper"]) else np.nan
            marker, face, edge = markers.get(comparison, ("D", "grey", "black"))
            if np.isfinite(low) and np.isfinite(high):
                ax.hlines(y + offset, max(low, lo_limit), min(high, hi_limit), color=edge, lw=1)
                if high > hi_limit:
                    ax.annotate(
                        "",
                        xy=(hi_limit, y + offset),
                        xytext=(hi_limit / 1.6, y + offset),
                        arrowprops={"arrowstyle": "->", "color": edge, "lw": 1},
                    )
            ax.plot(
                np.clip(estimate, lo_limit, hi_limit),
                y + offset,
                marker=marker,
                color=edge,
                markerfacecolor=face,
                markersize=6,
                linestyle="none",
            )
    for comparison in comparisons:
        marker, face, edge = markers.get(comparison, ("D", "grey", "black"))
        ax.plot(
            [],
            [],
            marker=marker,
            color=edge,
            markerfacecolor=face,
            linestyle="none",
            label=COMPARISON_LABELS.get(comparison, comparison),
        )
    ax.axvline(1.0, color="grey", ls="--", lw=0.8)
    ax.set_xscale("log", base=2)
    ax.set_xlim(lo_limit / 1.5, hi_limit * 1.5)
    # plain numbers (1/16, 1, 16) read better than superscripted powers of 2
    ticks = 2.0 ** np.arange(-_LOG2_OR_LIMIT, _LOG2_OR_LIMIT + 1, 4)
    ax.set_xticks(ticks, [f"{t:g}" if t >= 1 else f"1/{1 / t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_yticks(np.arange(len(present))[::-1], [f"{g} · {t}" for t, g in present])
    ax.set_xlabel("odds ratio of LoF, Firth model adjusted for TMB, purity and MSI (95% profile CI)")
    # under the x label whatever the height of the axes: anchored 36 points below them
    below = offset_copy(ax.transAxes, fig=fig, y=-36, units="points")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=below, ncol=1)
    ax.set_title("Leading genes")
    if created:  # a caller's figure keeps the layout its caller chose
        fig.tight_layout()
    return fig
