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
from helpers.plots.style import (
    DARK_GREY,
    FIG_WIDTH,
    FONT_SIZE,
    OKABE_ITO,
    SMALL_FONT_SIZE,
    TICK_FONT_SIZE,
    panel_grid,
)
from helpers.plots.survival import forest_plot

#: Colour of the points of individual samples.
POINT_COLOUR = "#5d6d7e"


def _nothing_to_show(text: str, size: tuple[float, float] = (FIG_WIDTH, 1.2)) -> plt.Figure:
    """A small figure that says why there is no plot."""
    fig, ax = plt.subplots(figsize=size)
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=FONT_SIZE, color=DARK_GREY)
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
        fig, ax = plt.subplots(figsize=(FIG_WIDTH, 0.6 * len(rows) + 1.4))
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
    ax.set_title("Survival after progression in the public cohorts (real patients)", loc="right")
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
    # two panels a row as wide as the page (three would crowd the phenotype names); more rows below
    fig, grid = panel_grid(len(signatures), panel_height=3.0, extra_height=0.4)
    for ax, sig in zip(grid.ravel(), signatures, strict=False):
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
        ax.set_title(sig, fontsize=TICK_FONT_SIZE)
        ax.set_ylabel("ssGSEA score (raw)" if ax.get_subplotspec().is_first_col() else "")
    fig.suptitle("IMvigor210: signature scores by CD8 immune phenotype (real patients)", fontsize=FONT_SIZE)
    fig.tight_layout()
    return fig


#: How a drug class reads on the page.
_DRUG_CLASS = {
    "PD-1": "anti-PD-1",
    "PD-L1": "anti-PD-L1",
    "PD-1/PD-L1": "anti-PD-(L)1",
    "CTLA-4": "anti-CTLA-4",
}
#: Colours of a cohort's square and of the pooled diamonds.
COHORT_COLOUR, POOLED_COLOUR, SENSITIVITY_COLOUR = "#333333", OKABE_ITO["blue"], OKABE_ITO["vermillion"]


def _cohort_label(row: pd.Series) -> str:
    """``Riaz 2017`` over ``melanoma, nivolumab (anti-PD-1)``: cohort, cancer type and ICB agent."""
    drug = _DRUG_CLASS.get(str(row["drug_class"]), str(row["drug_class"]))
    agent = str(row["agent"])
    agent = (
        f"{agent.lower()} ({drug})" if "," not in agent else f"{drug} ({agent.split(' ')[0].lower()} mostly)"
    )
    cancer = str(row["cancer_type"])
    cancer = "ccRCC" if cancer.lower().startswith("clear cell renal") else cancer.lower()
    return f"{row['cohort']}\n{cancer}, {agent}"


def _diamond(ax: plt.Axes, y: float, estimate: float, low: float, high: float, colour: str) -> None:
    """A pooled estimate: a diamond from the lower to the upper limit."""
    xs = [low, estimate, high, estimate, low]
    ys = [y, y + 0.28, y, y - 0.28, y]
    ax.fill(xs, ys, color=colour, zorder=3)


def biomarker_forest_figure(
    estimates: pd.DataFrame, pooled: pd.DataFrame, signature: str, title: str = ""
) -> plt.Figure:
    """Forest plot of one signature: odds ratio of response and hazard ratio of death per SD.

    Parameters
    ----------
    estimates
        :attr:`~helpers.analysis.validation.BiomarkerMeta.estimates` (one row per cohort,
        outcome and signature, with ``cancer_type``, ``agent`` and ``drug_class``).
    pooled
        :attr:`~helpers.analysis.validation.BiomarkerMeta.pooled`: the random-effects pools
        of all cohorts and of the melanoma anti-PD-1 cohorts (diamonds, Hartung–Knapp 95% CI).
    signature
        The signature to draw.
    title
        The figure's title (default: the signature's name).

    Returns
    -------
    matplotlib.figure.Figure
        Two panels with the same cohort rows, one above the other (each as wide as the page):
        response (``fig.axes[0]``) and overall survival (``fig.axes[1]``), each row annotated
        with its patients and events.
    """
    est = estimates[estimates["signature"] == signature] if len(estimates) else estimates
    if est is None or len(est) == 0:
        return _nothing_to_show(f"No public cohort has an estimate for {signature}.")
    cohorts = est.drop_duplicates("cohort")
    labels = [_cohort_label(r) for _, r in cohorts.iterrows()]
    analyses = [
        ("all cohorts", "Pooled, all cohorts", POOLED_COLOUR),
        ("melanoma anti-PD-1", "Pooled, melanoma anti-PD-1", SENSITIVITY_COLOUR),
    ]
    n_rows = len(cohorts) + len(analyses)
    panel_height = 0.42 * n_rows + 1.0
    fig, axes = plt.subplots(2, 1, figsize=(FIG_WIDTH, 2 * panel_height + 0.4))
    y_cohort = {c: n_rows - 1 - i for i, c in enumerate(cohorts["cohort"])}
    y_pool = {a: len(analyses) - 1 - i for i, (a, _, _) in enumerate(analyses)}
    for ax, (outcome, xlabel, events) in zip(
        axes,
        [
            ("response", "odds ratio of response per SD (95% CI)", "responders"),
            ("overall survival", "hazard ratio of death per SD (95% CI)", "deaths"),
        ],
        strict=True,
    ):
        rows = est[(est["outcome"] == outcome) & np.isfinite(est["effect"])]
        for _, r in rows.iterrows():
            y = y_cohort[r["cohort"]]
            ax.hlines(y, r["effect_low"], r["effect_high"], color=COHORT_COLOUR, linewidth=1)
            ax.plot(r["effect"], y, "s", color=COHORT_COLOUR, markersize=5)
            ax.annotate(
                f"{int(r['n'])} pts, {int(r['events'])} {events}",
                (1.0, y),
                xycoords=("axes fraction", "data"),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=SMALL_FONT_SIZE,
                color=DARK_GREY,
            )
        for analysis, _, colour in analyses:
            p = pooled[
                (pooled["signature"] == signature)
                & (pooled["outcome"] == outcome)
                & (pooled["analysis"] == analysis)
            ]
            if len(p) == 0 or not np.isfinite(float(p["effect"].iat[0])):
                continue
            p = p.iloc[0]
            _diamond(
                ax,
                y_pool[analysis],
                float(p["effect"]),
                float(p["effect_low"]),
                float(p["effect_high"]),
                colour,
            )
            ax.annotate(
                f"k={int(p['k'])}, I²={p['i2']:.0f}%",
                (1.0, y_pool[analysis]),
                xycoords=("axes fraction", "data"),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=SMALL_FONT_SIZE,
                color=colour,
            )
        ax.axvline(1.0, color="grey", linestyle="--", linewidth=0.8)
        ax.axhline(len(analyses) - 0.5, color="#cccccc", linewidth=0.6)
        ax.set_xscale("log")
        values = pd.concat(
            [
                rows[["effect_low", "effect_high"]].stack(),
                pooled.loc[pooled["signature"] == signature, ["effect_low", "effect_high"]].stack(),
            ]
        )
        values = values[np.isfinite(values.astype(float))].astype(float)
        low, high = min(float(values.min()), 0.8), max(float(values.max()), 1.25)
        ax.set_xlim(low / 1.15, high * 1.15)
        nice = np.array([0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0])
        ticks = nice[(nice >= low / 1.15) & (nice <= high * 1.15)]
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel(xlabel)
        ax.set_title(outcome.capitalize(), fontsize=FONT_SIZE)
        ax.set_yticks(
            [*y_cohort.values(), *y_pool.values()],
            [*labels, *(name for _, name, _ in analyses)],
            fontsize=SMALL_FONT_SIZE,
        )
        ax.set_ylim(-0.7, n_rows - 0.3)
    fig.suptitle(title or signature)
    fig.tight_layout()
    return fig
