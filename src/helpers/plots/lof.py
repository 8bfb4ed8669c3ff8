"""Figures of the acquired-LoF chapter: volcano plots, a paired oncoprint and a forest plot.

Every function takes the tables of :func:`helpers.analysis.lof.acquired_lof_analysis`, draws a new
figure, marks it as simulated where it is, and returns the Figure. Patients and samples are
never identified: oncoprint columns are numbered.
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch, Polygon

from helpers.analysis.lof import (
    COMPARISON_LABELS,
    CRITERION_COLUMNS,
    PRIMARY_COMPARISON,
    SECONDARY_COMPARISON,
    AcquiredLofAnalysis,
)
from helpers.plots.style import simulated_caption
from helpers.book.privacy import count_label

__all__ = ["LOF_KIND_COLOURS", "PlotLofError", "volcano_plot", "paired_oncoprint", "lof_forest_plot"]

#: Colours of the oncoprint cells.
LOF_KIND_COLOURS: dict[str, str] = {
    "truncating": "#b03a2e",
    "deep deletion": "#2e86c1",
    "truncating + deep deletion": "#7d3c98",
    "wild type": "#e5e8e8",
    "not assayed": "#ffffff",
}
_FOUND_COLOUR = "#c0392b"
_OTHER_COLOUR = "#95a5a6"
# Odds ratios are drawn on log2 axes clipped to this range (Firth estimates are finite but can be
# very large when a gene has carriers in one group only); clipped points are drawn as triangles.
_LOG2_OR_LIMIT = 8.0


class PlotLofError(ValueError):
    """A figure of :mod:`helpers.plots.lof` was asked for something the tables do not hold."""


def _require(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise PlotLofError(f"{what}: table lacks column(s) {missing}")


def volcano_plot(
    results: pd.DataFrame,
    comparison: str = PRIMARY_COMPARISON,
    fdr: float = 0.1,
    criterion: str = "both",
    simulated: bool = True,
    ncols: int = 4,
) -> plt.Figure | None:
    """Volcano plots, one panel per cancer type with tested genes.

    Parameters
    ----------
    results
        ``AcquiredLofAnalysis.results``.
    comparison
        Which comparison to draw.
    fdr, criterion
        The p-value of ``criterion`` (:data:`helpers.analysis.lof.CRITERION_COLUMNS`) is drawn, and genes
        whose q-value is at most ``fdr`` are coloured and labelled.
    simulated
        Mark the figure as simulated.
    ncols
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure or None
        None when no gene was tested in this comparison. x: log2 odds ratio of the Firth model
        (case vs reference group), y: -log10 p; a dashed line marks the largest p-value that
        passes the FDR in each panel (Benjamini–Hochberg thresholds differ between panels).
    """
    if criterion not in CRITERION_COLUMNS:
        raise PlotLofError(f"volcano_plot: criterion must be one of {list(CRITERION_COLUMNS)}, got {criterion!r}")
    p_col, q_col = CRITERION_COLUMNS[criterion]
    _require(results, ["cancer_type", "comparison", "gene", "tested", "firth_or", p_col, q_col], "volcano_plot")
    tested = results[(results["comparison"] == comparison) & results["tested"].astype(bool)]
    tested = tested[tested[p_col].notna() & tested["firth_or"].notna()]
    if tested.empty:
        return None
    types = sorted(tested["cancer_type"].unique())
    ncols = max(1, min(ncols, len(types)))
    nrows = int(np.ceil(len(types) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.1 * ncols, 2.9 * nrows + 0.8), squeeze=False)
    for ax in axes.ravel()[len(types):]:
        ax.set_visible(False)
    y_label = {"both": "-log10 p (larger of Fisher, Firth)", "firth": "-log10 p (Firth)",
               "fisher": "-log10 p (Fisher)"}[criterion]
    for ax, cancer_type in zip(axes.ravel(), types):
        part = tested[tested["cancer_type"] == cancer_type]
        x = np.log2(part["firth_or"].astype(float).to_numpy())
        clipped = np.abs(x) > _LOG2_OR_LIMIT
        x = np.clip(x, -_LOG2_OR_LIMIT, _LOG2_OR_LIMIT)
        p = part[p_col].astype(float).clip(lower=1e-300).to_numpy()
        y = -np.log10(p)
        found = (part[q_col].astype(float) <= fdr).to_numpy()
        for mask, colour, size in ((~found, _OTHER_COLOUR, 9), (found, _FOUND_COLOUR, 22)):
            ax.scatter(x[mask & ~clipped], y[mask & ~clipped], s=size, color=colour, alpha=0.8,
                       linewidths=0)
            ax.scatter(x[mask & clipped], y[mask & clipped], s=size + 6, color=colour, marker="^",
                       alpha=0.8, linewidths=0)
        if found.any():
            ax.axhline(-np.log10(p[found].max()), color=_FOUND_COLOUR, lw=0.7, ls="--")
            genes = part["gene"].to_numpy()
            for i in np.flatnonzero(found)[np.argsort(-y[found], kind="mergesort")]:
                ax.annotate(genes[i], (x[i], y[i]), xytext=(3, 2), textcoords="offset points",
                            fontsize=7, color=_FOUND_COLOUR)
        ax.axvline(0, color="black", lw=0.6)
        ax.set_xlim(-_LOG2_OR_LIMIT - 0.5, _LOG2_OR_LIMIT + 0.5)
        ax.set_title(f"{cancer_type} ({len(part)} genes tested)", fontsize=9)
        ax.set_xlabel("log2 odds ratio (Firth)", fontsize=8)
        ax.set_ylabel(y_label, fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle(f"LoF per gene: {COMPARISON_LABELS.get(comparison, comparison)}\n"
                 f"red: found (q <= {fdr:g}); triangles: |log2 OR| > {_LOG2_OR_LIMIT:g}, drawn at "
                 "the edge", fontsize=9)
    simulated_caption(axes.ravel()[0], simulated)
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


def paired_oncoprint(
    analysis: AcquiredLofAnalysis,
    genes: pd.DataFrame,
    pair_group: str = "post_acquired",
    simulated: bool = True,
) -> plt.Figure | None:
    """Oncoprint of pre-treatment / post-progression pairs for the leading genes.

    Parameters
    ----------
    analysis
        From :func:`helpers.analysis.lof.acquired_lof_analysis`.
    genes
        Leading genes: columns ``cancer_type`` and ``gene`` (one panel per cancer type, genes in
        the given order).
    pair_group
        ``post_acquired`` (default) or ``post_primary``: which post-progression samples are paired
        with the patient's pre-treatment sample.
    simulated
        Mark the figure as simulated.

    Returns
    -------
    matplotlib.figure.Figure or None
        None when no cancer type of ``genes`` has a pair. Each column is a patient (numbered, never
        identified), each row a gene; in each cell the lower-left triangle is the pre-treatment
        sample and the upper-right triangle the post-progression sample, coloured by the kind of
        LoF (truncating variant, deep deletion, both), wild type or not assayed. Patients who
        gained a LoF come first.
    """
    _require(genes, ["cancer_type", "gene"], "paired_oncoprint")
    if pair_group not in ("post_acquired", "post_primary"):
        raise PlotLofError(f"paired_oncoprint: pair_group must be post_acquired or post_primary, got {pair_group!r}")
    chosen = analysis.samples
    kinds = (analysis.events.set_index(["sample_id", "gene"])["kind"] if len(analysis.events)
             else pd.Series(dtype=object))
    panels = []
    for cancer_type, rows in genes.groupby("cancer_type", sort=True):
        in_type = chosen[chosen["cancer_type"] == cancer_type]
        post = in_type[in_type["group"].astype(str) == pair_group].set_index("patient_id")["sample_id"]
        pre = in_type[in_type["group"].astype(str) == "pre"].set_index("patient_id")["sample_id"]
        patients = sorted(set(post.index) & set(pre.index))
        gene_list = [g for g in dict.fromkeys(rows["gene"]) if g in analysis.lof.columns]
        if not patients or not gene_list:
            continue
        pre_ids, post_ids = pre.loc[patients].to_numpy(), post.loc[patients].to_numpy()
        pre_lof = analysis.lof.loc[pre_ids, gene_list].to_numpy(dtype=float).T
        post_lof = analysis.lof.loc[post_ids, gene_list].to_numpy(dtype=float).T
        order = _memo_order(pre_lof, post_lof)
        panels.append((cancer_type, gene_list, pre_ids[order], post_ids[order],
                       pre_lof[:, order], post_lof[:, order]))
    if not panels:
        return None

    heights = [len(p[1]) + 1.2 for p in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 0.42 * sum(heights) + 1.4), squeeze=False,
                             gridspec_kw={"height_ratios": heights})

    def colour(sample_id: str, status: float, gene: str) -> str:
        if np.isnan(status):
            return LOF_KIND_COLOURS["not assayed"]
        if status == 0:
            return LOF_KIND_COLOURS["wild type"]
        kind = kinds.get((sample_id, gene), "truncating")
        return LOF_KIND_COLOURS.get(kind, LOF_KIND_COLOURS["truncating"])

    for ax, (cancer_type, gene_list, pre_ids, post_ids, pre_lof, post_lof) in zip(axes[:, 0], panels):
        n_patients = len(pre_ids)
        for row, gene in enumerate(gene_list):
            y = len(gene_list) - 1 - row
            for col in range(n_patients):
                lower = Polygon([(col, y), (col + 0.9, y), (col, y + 0.9)], closed=True,
                                facecolor=colour(pre_ids[col], pre_lof[row, col], gene),
                                edgecolor="#bfc9ca", linewidth=0.2)
                upper = Polygon([(col + 0.9, y), (col + 0.9, y + 0.9), (col, y + 0.9)], closed=True,
                                facecolor=colour(post_ids[col], post_lof[row, col], gene),
                                edgecolor="#bfc9ca", linewidth=0.2)
                ax.add_patch(lower)
                ax.add_patch(upper)
            gained = int(np.nansum((post_lof[row] == 1) & (pre_lof[row] == 0)))
            ax.text(n_patients + 0.5, y + 0.45, f"gained {count_label(gained)}", va="center", fontsize=7)
        ax.set_xlim(0, n_patients + max(6, 0.12 * n_patients))
        ax.set_ylim(0, len(gene_list))
        ax.set_yticks(np.arange(len(gene_list))[::-1] + 0.45, gene_list, fontsize=8)
        step = max(1, int(np.ceil(n_patients / 20)))
        ticks = np.arange(0, n_patients, step)
        ax.set_xticks(ticks + 0.45, [str(t + 1) for t in ticks], fontsize=6)
        ax.tick_params(length=0)
        for side in ("top", "right", "left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.set_title(f"{cancer_type}: {count_label(n_patients)} patients with a pre-treatment and a "
                     f"post-progression DNA sample ({pair_group.replace('post_', '')} resistance)",
                     fontsize=9, loc="left")
    axes[-1, 0].set_xlabel("patients (numbered, not identified); lower-left triangle: pre-treatment, "
                           "upper-right: post-progression", fontsize=8)
    handles = [Patch(facecolor=c, edgecolor="#bfc9ca", label=k) for k, c in LOF_KIND_COLOURS.items()]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=7,
               bbox_to_anchor=(0.5, 0.0))
    simulated_caption(axes[0, 0], simulated)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def lof_forest_plot(
    results: pd.DataFrame,
    genes: pd.DataFrame,
    comparisons: Sequence[str] = (PRIMARY_COMPARISON, SECONDARY_COMPARISON),
    simulated: bool = True,
) -> plt.Figure | None:
    """Forest plot of Firth odds ratios (95% profile CI) of the leading genes.

    Parameters
    ----------
    results
        ``AcquiredLofAnalysis.results``.
    genes
        Columns ``cancer_type`` and ``gene``: the rows of the plot, top to bottom.
    comparisons
        One marker per comparison for each gene (where the gene was tested and the Firth model
        fitted).
    simulated
        Mark the figure as simulated.

    Returns
    -------
    matplotlib.figure.Figure or None
        None when none of the genes has a fitted odds ratio. Odds ratios are drawn on a log
        axis; an interval running beyond the axis ends in an arrow.
    """
    _require(results, ["cancer_type", "comparison", "gene", "tested", "firth_or", "firth_ci_lower",
                       "firth_ci_upper"], "lof_forest_plot")
    _require(genes, ["cancer_type", "gene"], "lof_forest_plot")
    keyed = results[results["tested"].astype(bool) & results["firth_or"].notna()].set_index(
        ["cancer_type", "gene", "comparison"])
    rows = [(t, g) for t, g in zip(genes["cancer_type"], genes["gene"])]
    present = [(t, g) for t, g in rows if any((t, g, c) in keyed.index for c in comparisons)]
    if not present:
        return None
    lo_limit, hi_limit = 2.0 ** -_LOG2_OR_LIMIT, 2.0 ** _LOG2_OR_LIMIT
    markers = {PRIMARY_COMPARISON: ("s", "#1f4e79", "black"), SECONDARY_COMPARISON: ("o", "white", "#b9770e")}
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(present) + 1.6))
    offsets = np.linspace(0.15, -0.15, len(comparisons)) if len(comparisons) > 1 else [0.0]
    for i, (cancer_type, gene) in enumerate(present):
        y = len(present) - 1 - i
        for offset, comparison in zip(offsets, comparisons):
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
                    ax.annotate("", xy=(hi_limit, y + offset), xytext=(hi_limit / 1.6, y + offset),
                                arrowprops={"arrowstyle": "->", "color": edge, "lw": 1})
            ax.plot(np.clip(estimate, lo_limit, hi_limit), y + offset, marker=marker, color=edge,
                    markerfacecolor=face, markersize=6, linestyle="none")
    for comparison in comparisons:
        marker, face, edge = markers.get(comparison, ("D", "grey", "black"))
        ax.plot([], [], marker=marker, color=edge, markerfacecolor=face, linestyle="none",
                label=COMPARISON_LABELS.get(comparison, comparison))
    ax.axvline(1.0, color="grey", ls="--", lw=0.8)
    ax.set_xscale("log", base=2)
    ax.set_xlim(lo_limit / 1.5, hi_limit * 1.5)
    ax.set_yticks(np.arange(len(present))[::-1], [f"{g} · {t}" for t, g in present], fontsize=8)
    ax.set_xlabel("odds ratio of LoF, Firth model adjusted for TMB, purity and MSI (95% profile CI)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=1, fontsize=8)
    ax.set_title("Leading genes")
    simulated_caption(ax, simulated)
    fig.tight_layout()
    return fig
