"""Figures of chapter 7 (validation on real patients).

Both figures show public cohorts (real patients, open published data). A figure of a section
the public cohorts cannot fill says so in place of the plot.
"""

from __future__ import annotations

from collections.abc import Iterable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from helpers.analysis.validation import PHENOTYPES, PublicPPS
from helpers.plots.survival import forest_plot

#: Colour of the points of individual samples.
POINT_COLOUR = "#5d6d7e"


def _nothing_to_show(text: str, size: tuple[float, float] = (8, 1.2)) -> plt.Figure:
    """A small figure that says why there is no plot."""
    fig, ax = plt.subplots(figsize=size)
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=9, color="#555555")
    return fig


def pps_forest_figure(pps: PublicPPS, ax: plt.Axes | None = None) -> plt.Figure:
    """Forest plot of the acquired-vs-primary hazard ratios of :func:`~helpers.analysis.validation.pps_table`.

    One line per cohort with a hazard ratio and the pooled model last, each labelled with its
    deaths after progression.
    """
    table = pps.table
    rows = table[table["hr"].notna()].copy()
    if rows.empty:
        return _nothing_to_show("No public cohort has enough deaths after progression for a hazard ratio.")
    deaths = rows["acquired: deaths"] + rows["primary: deaths"]
    names = ["Pooled, no overlapping cohorts" if str(n).startswith("pooled") else str(n) for n in rows.index]
    rows["label"] = [f"{name}\n{int(d)} deaths" for name, d in zip(names, deaths, strict=True)]
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 0.6 * len(rows) + 1.4))
    else:
        fig = ax.figure
    forest_plot(
        ax,
        rows.reset_index(drop=True),
        label_col="label",
        xlabel="hazard ratio of death after progression, acquired vs primary (95% CI)",
    )
    ticks = [0.1, 0.2, 0.5, 1.0, 2.0]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlim(0.08, 2.5)
    ax.set_title("Survival after progression in the public cohorts (real patients)")
    fig.tight_layout()
    return fig


def phenotype_figure(
    scores: pd.DataFrame,
    signatures: Iterable[str] = ("IFNG_AYERS2017", "TCELL_INFLAMED_GEP", "TGFB_SIGNALLING"),
) -> plt.Figure:
    """Box plots of signature scores by IMvigor210 immune phenotype, with every sample as a point.

    ``scores`` is :attr:`~helpers.analysis.validation.PublicTME.phenotype_scores` (one row per
    RNA sample: ``phenotype`` and a column per signature); samples without a phenotype are
    left out.
    """
    signatures = list(signatures)
    data = scores[scores["phenotype"].isin(PHENOTYPES)]
    if data.empty:
        return _nothing_to_show("No RNA samples with a CD8 immune phenotype (IMvigor210) were found.")
    n = data["phenotype"].value_counts().reindex(PHENOTYPES, fill_value=0)
    fig, axes = plt.subplots(1, len(signatures), figsize=(3.2 * len(signatures), 3.4))
    for ax, sig in zip(np.atleast_1d(axes), signatures, strict=True):
        sns.boxplot(
            data=data,
            x="phenotype",
            y=sig,
            order=PHENOTYPES,
            ax=ax,
            showfliers=False,
            color="white",
            linecolor="black",
            width=0.5,
        )
        sns.stripplot(
            data=data,
            x="phenotype",
            y=sig,
            order=PHENOTYPES,
            ax=ax,
            color=POINT_COLOUR,
            alpha=0.5,
            size=2.5,
            jitter=0.15,
        )
        ax.set_xticks(range(len(PHENOTYPES)), [f"{p}\n(n={n[p]})" for p in PHENOTYPES])
        ax.set_xlabel("")
        ax.set_title(sig, fontsize=9)
        ax.set_ylabel("ssGSEA score (raw)")
    fig.suptitle("IMvigor210: signature scores by CD8 immune phenotype (real patients)", fontsize=10)
    fig.tight_layout()
    return fig
