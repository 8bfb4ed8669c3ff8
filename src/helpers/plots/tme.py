"""Figures of the TME chapter (matplotlib). Each function returns the Figure; none shows a
sample or patient identifier (samples are columns of a heat map, never labelled)."""
from __future__ import annotations

from typing import Callable, Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.patches import Patch

from helpers.plots.style import CLASS_COLOURS, simulated_caption
from helpers.analysis.tme import SUBTYPE_NAMES, SUBTYPES, TIMEPOINTS

SUBTYPE_COLOURS = {"IE/F": "#7d3c98", "IE": "#2e86c1", "F": "#d68910", "D": "#95a5a6"}
SCORE_CMAP = "RdBu_r"


def _subtype_legend(ax: plt.Axes, **kwargs: object) -> None:
    handles = [Patch(color=SUBTYPE_COLOURS[s], label=f"{s}: {SUBTYPE_NAMES[s]}") for s in SUBTYPES]
    ax.legend(handles=handles, **kwargs)


def axes_scatter(samples: pd.DataFrame, title: str, simulated: bool = True) -> plt.Figure:
    """Immune axis against fibrotic axis, one dot per sample, coloured by subtype; the
    quadrant lines at 0 are the subtype thresholds (the reference's median tumour)."""
    fig, ax = plt.subplots(figsize=(6.2, 5.2))
    called = samples.dropna(subset=["immune_axis", "fibrotic_axis", "subtype"])
    for subtype in SUBTYPES:
        part = called[called["subtype"] == subtype]
        ax.scatter(part["fibrotic_axis"], part["immune_axis"], s=6, alpha=0.45,
                   color=SUBTYPE_COLOURS[subtype], linewidths=0)
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("fibrotic axis (scaled; 0 = reference median)")
    ax.set_ylabel("immune axis (scaled; 0 = reference median)")
    ax.set_title(title)
    _subtype_legend(ax, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    simulated_caption(ax, simulated)
    fig.tight_layout()
    return fig


def subtype_bars(counts: pd.DataFrame, title: str, simulated: bool = True,
                 label: Callable[[int], str] = str) -> plt.Figure:
    """Stacked bars of subtype shares (%) per group (rows of :func:`tme.subtype_counts`),
    with the number of samples of each group at the end of its bar."""
    shares = counts[list(SUBTYPES)].div(counts["n"].replace(0, np.nan), axis=0) * 100
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(shares) + 1.6))
    y = np.arange(len(shares))[::-1]
    left = np.zeros(len(shares))
    for subtype in SUBTYPES:
        values = shares[subtype].fillna(0).to_numpy()
        ax.barh(y, values, left=left, color=SUBTYPE_COLOURS[subtype], label=subtype)
        left += values
    for yi, n in zip(y, counts["n"]):
        ax.text(101, yi, f"n={label(int(n))}", va="center", fontsize=8)
    names = [" · ".join(map(str, i)) if isinstance(i, tuple) else str(i) for i in shares.index]
    ax.set_yticks(y, names)
    ax.set_xlim(0, 112)
    ax.set_xlabel("% of samples")
    ax.set_title(title)
    _subtype_legend(ax, fontsize=7, ncol=1, loc="center left", bbox_to_anchor=(1.01, 0.5))
    simulated_caption(ax, simulated)
    fig.tight_layout()
    return fig


def _smooth(t: np.ndarray) -> np.ndarray:
    return 3 * t**2 - 2 * t**3


def alluvial(transitions: Mapping[str, pd.DataFrame], simulated: bool = True,
             label: Callable[[int], str] = str) -> plt.Figure:
    """Pre-treatment → post-progression subtype flows, one panel per group (e.g. class).

    ``transitions`` maps a panel title to a pre x post count table
    (:func:`tme.transition_counts`). Bar and ribbon heights are shares of the panel's pairs.
    """
    fig, axes = plt.subplots(1, len(transitions), figsize=(5.2 * len(transitions), 4.8),
                             squeeze=False)
    width, gap = 0.08, 0.015
    t = np.linspace(0, 1, 60)
    for ax, (title, table) in zip(axes[0], transitions.items()):
        table = table.reindex(index=list(SUBTYPES), columns=list(SUBTYPES), fill_value=0)
        total = int(table.to_numpy().sum())
        ax.set_title(f"{title} (pairs: {label(total)})")
        ax.set_xlim(-0.25, 1.25)
        ax.set_ylim(-0.02, 1 + gap * 3 + 0.02)
        ax.axis("off")
        if total == 0:
            ax.text(0.5, 0.5, "no pairs", ha="center", va="center")
            continue
        share = table / total
        # stack bottoms: subtypes from top (IE/F) to bottom (D)
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
                ax.bar(x0, height, width=width, bottom=bottom, align="edge",
                       color=SUBTYPE_COLOURS[s], edgecolor="white")
                side, ha = (-0.02, "right") if x0 == 0 else (1.02, "left")
                ax.text(side, bottom + height / 2, f"{s} ({label(count)})", ha=ha, va="center",
                        fontsize=8)
        ax.text(width / 2, -0.02, "pre", ha="center", va="top", fontsize=9)
        ax.text(1 - width / 2, -0.02, "post", ha="center", va="top", fontsize=9)
    simulated_caption(axes[0][0], simulated)
    fig.tight_layout()
    return fig


def scores_over_time(table: pd.DataFrame, simulated: bool = True, min_n: int = 5) -> plt.Figure:
    """Median (dot) and interquartile range (bar) of each score by timepoint and class
    (the long table of :func:`tme.scores_over_time`); groups with fewer than ``min_n``
    samples are not drawn."""
    signatures = list(dict.fromkeys(table["signature"]))
    classes = list(dict.fromkeys(table["resistance_class"]))
    fig, axes = plt.subplots(1, len(signatures), figsize=(4.2 * len(signatures), 3.8),
                             squeeze=False, sharey=True)
    offsets = np.linspace(-0.12, 0.12, max(1, len(classes)))
    for ax, signature in zip(axes[0], signatures):
        part = table[table["signature"] == signature]
        for offset, klass in zip(offsets, classes):
            rows = part[part["resistance_class"] == klass].set_index("timepoint").reindex(TIMEPOINTS)
            x = np.arange(len(TIMEPOINTS)) + offset
            colour = CLASS_COLOURS.get(klass, "#34495e")
            ok = rows["n"].fillna(0).to_numpy() >= min_n
            ax.errorbar(x[ok], rows["median"].to_numpy()[ok],
                        yerr=[(rows["median"] - rows["q1"]).to_numpy()[ok],
                              (rows["q3"] - rows["median"]).to_numpy()[ok]],
                        marker="o", ms=5, capsize=3, lw=1.2, color=colour,
                        label=klass.replace("_", " "))
        ax.axhline(0, color="#7f8c8d", lw=0.7, ls="--")
        ax.set_xticks(range(len(TIMEPOINTS)), TIMEPOINTS)
        ax.set_title(signature, fontsize=10)
        ax.set_xlabel("timepoint")
    axes[0][0].set_ylabel("scaled score (median, IQR)")
    axes[0][-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    simulated_caption(axes[0][0], simulated)
    fig.tight_layout()
    return fig


def median_heatmap(matrix: pd.DataFrame, title: str, simulated: bool = True,
                   limit: float = 1.5) -> plt.Figure:
    """Heat map of median scaled scores, signatures (rows) x groups (columns), values shown."""
    values = matrix.to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(1.1 * matrix.shape[1] + 3.5, 0.32 * matrix.shape[0] + 1.6))
    image = ax.imshow(values, cmap=SCORE_CMAP, norm=TwoSlopeNorm(0, -limit, limit), aspect="auto")
    ax.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns], rotation=30, ha="right")
    ax.set_yticks(range(matrix.shape[0]), matrix.index)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if np.isfinite(values[i, j]):
                ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if abs(values[i, j]) > 0.7 * limit else "black")
    fig.colorbar(image, ax=ax, label="median scaled score")
    ax.set_title(title)
    simulated_caption(ax, simulated)
    fig.tight_layout()
    return fig


def sample_heatmap(scaled: pd.DataFrame, samples: pd.DataFrame, title: str,
                   simulated: bool = True, limit: float = 2.5) -> plt.Figure:
    """Scaled scores of every sample (columns, unlabelled), ordered by class then subtype,
    with colour strips for class and subtype above."""
    order = samples.assign(
        _class=pd.Categorical(samples["resistance_class"],
                              ["acquired", "primary", "ongoing_benefit", "not_evaluable"]),
        _subtype=pd.Categorical(samples["subtype"], SUBTYPES),
    ).sort_values(["_class", "_subtype", "immune_axis"], ascending=[True, True, False])
    values = scaled.loc[:, order["sample_id"]].to_numpy(dtype=float)
    fig = plt.figure(figsize=(10, 0.2 * scaled.shape[0] + 2.2))
    grid = fig.add_gridspec(3, 2, height_ratios=[0.35, 0.35, 0.2 * scaled.shape[0]],
                            width_ratios=[1, 0.02], hspace=0.05, wspace=0.03)
    strips = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, 0])]
    main = fig.add_subplot(grid[2, 0])
    bar_ax = fig.add_subplot(grid[2, 1])
    class_colours = [CLASS_COLOURS.get(str(k), "#d5d8dc") for k in order["resistance_class"]]
    subtype_colours = [SUBTYPE_COLOURS.get(str(s), "#ffffff") for s in order["subtype"]]
    for ax, colours, name in ((strips[0], class_colours, "class"),
                              (strips[1], subtype_colours, "subtype")):
        ax.imshow(np.array([[plt.matplotlib.colors.to_rgb(c) for c in colours]]), aspect="auto")
        ax.set_xticks([])
        ax.set_yticks([0], [name], fontsize=8)
        for spine in ax.spines.values():
            spine.set_visible(False)
    image = main.imshow(values, cmap=SCORE_CMAP, norm=TwoSlopeNorm(0, -limit, limit),
                        aspect="auto", interpolation="nearest")
    main.set_yticks(range(scaled.shape[0]), scaled.index, fontsize=8)
    main.set_xticks([])
    main.set_xlabel(f"samples ({values.shape[1]}), ordered by class, subtype and immune axis")
    fig.colorbar(image, cax=bar_ax, label="scaled score")
    strips[0].set_title(title)
    handles = [Patch(color=CLASS_COLOURS[k], label=k.replace("_", " "))
               for k in dict.fromkeys(order["resistance_class"].dropna()) if k in CLASS_COLOURS]
    handles += [Patch(color=SUBTYPE_COLOURS[s], label=s) for s in SUBTYPES]
    main.legend(handles=handles, fontsize=7, ncol=len(handles), loc="upper center",
                bbox_to_anchor=(0.5, -0.08))
    simulated_caption(main, simulated)
    return fig


def carrier_effect_heatmap(effects: pd.DataFrame, fdr: float, simulated: bool = True,
                           limit: float = 1.5) -> plt.Figure:
    """Carrier minus non-carrier difference (scaled units) per gene · cancer type (rows) and
    signature (columns); ``*`` marks q < ``fdr``."""
    effects = effects.assign(row=effects["gene"] + " · " + effects["cancer_type"])
    estimate = effects.pivot(index="row", columns="signature", values="estimate")
    q = effects.pivot(index="row", columns="signature", values="q")
    columns = list(dict.fromkeys(effects["signature"]))
    rows = list(dict.fromkeys(effects["row"]))
    estimate, q = estimate.loc[rows, columns], q.loc[rows, columns]
    fig, ax = plt.subplots(figsize=(0.55 * len(columns) + 3, 0.42 * len(rows) + 2.4))
    image = ax.imshow(estimate.to_numpy(dtype=float), cmap=SCORE_CMAP,
                      norm=TwoSlopeNorm(0, -limit, limit), aspect="auto")
    for i in range(len(rows)):
        for j in range(len(columns)):
            if q.iat[i, j] < fdr:
                ax.text(j, i, "*", ha="center", va="center", fontsize=12, fontweight="bold")
    ax.set_xticks(range(len(columns)), columns, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    fig.colorbar(image, ax=ax, label="carriers − non-carriers (scaled units)")
    ax.set_title(f"LoF carriers after progression (* q < {fdr:g})")
    simulated_caption(ax, simulated)
    fig.tight_layout()
    return fig
