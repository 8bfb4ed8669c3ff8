"""Figures of chapter 3 (survival after progression), drawn from a :class:`helpers.analysis.pps.PPSResult`.

Each function returns the ``Figure`` and adds no "simulated data" mark
(:func:`helpers.book.figures.show` does). Counts printed on a figure (numbers at risk, deaths in the
forest labels) go through ``count``: pass :func:`helpers.book.privacy.count_label` so that small
counts of restricted cohorts are suppressed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from lifelines import KaplanMeierFitter
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from helpers.analysis.pps import LANDMARK_GROUPS, POOLED_RMST, PPSResult
from helpers.errors import InputError
from helpers.plots.style import CLASS_COLOURS, FIG_WIDTH, MAX_COLUMNS, OKABE_ITO, panel_grid
from helpers.plots.survival import forest_plot, plot_km

__all__ = [
    "AT_RISK_MONTHS",
    "LANDMARK_COLOURS",
    "km_by_class",
    "km_pooled_figure",
    "km_grid",
    "forest_figure",
    "immortal_time_figure",
    "shrinkage_figure",
    "rmst_figure",
]

#: Colours of the per-type estimate and its empirical-Bayes shrunken estimate.
OWN_COLOUR, SHRUNKEN_COLOUR = "#222222", OKABE_ITO["vermillion"]
#: Colour of the line of a value planted in a simulated cohort.
PLANTED_COLOUR = OKABE_ITO["blue"]
#: Height of one KM panel with its at-risk rows (inches).
KM_PANEL_HEIGHT = 3.9

#: Months at which the number at risk is printed under the survival-after-progression curves.
AT_RISK_MONTHS: tuple[float, ...] = (0, 6, 12, 18, 24)

#: Colours of the landmark groups: no progression by the landmark like acquired, else like primary.
LANDMARK_COLOURS: dict[str, str] = dict(
    zip(LANDMARK_GROUPS, (CLASS_COLOURS["acquired"], CLASS_COLOURS["primary"]), strict=True)
)

Count = Callable[[int], str]


def _available(result: PPSResult, where: str) -> None:
    if result.missing:
        raise InputError(f"{where}: nothing to draw: {result.missing}")


def _km_panel(
    ax: Axes,
    curves: Mapping[str, KaplanMeierFitter],
    colours: Mapping[str, str],
    ticks: Sequence[float],
    count: Count | None,
    xlabel: str,
    ylabel: str,
) -> None:
    # the colour cycle decides each curve's line, band and censor marks together
    ax.set_prop_cycle(color=[colours.get(k, "#555555") for k in curves])
    plot_km(ax, curves, ticks, count=count, xlabel=xlabel, ylabel=ylabel)
    ax.set_xlim(0, max(ticks))


def km_by_class(
    curves: Mapping[str, KaplanMeierFitter],
    *,
    ax: Axes | None = None,
    title: str = "",
    at_risk_times: Sequence[float] = AT_RISK_MONTHS,
    count: Count | None = None,
) -> Figure:
    """KM curves of survival after progression, acquired vs primary, with at-risk numbers.

    Parameters
    ----------
    curves : mapping of class to KaplanMeierFitter
        E.g. ``result.curves`` or one entry of ``result.curves_by_cancer_type``.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).
    title : str
        Panel title.
    at_risk_times : sequence of float
        Months at which the number at risk is printed (and the x range).
    count : callable, optional
        Formats the at-risk counts (small-count suppression).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(FIG_WIDTH, 4.8))
    _km_panel(
        ax, curves, CLASS_COLOURS, at_risk_times, count, "Months since progression", "Survival probability"
    )
    if title:
        ax.set_title(title)
    return ax.figure


def km_pooled_figure(
    result: PPSResult, *, count: Count | None = None, at_risk_times: Sequence[float] = AT_RISK_MONTHS
) -> Figure:
    """KM curves of survival after progression by class, all cancer types together."""
    _available(result, "km_pooled_figure")
    fig, ax = plt.subplots(figsize=(FIG_WIDTH, 4.8))
    km_by_class(
        result.curves,
        ax=ax,
        title="Survival after progression, all cancer types",
        at_risk_times=at_risk_times,
        count=count,
    )
    fig.tight_layout()
    return fig


def km_grid(
    result: PPSResult,
    *,
    ncols: int = 2,
    count: Count | None = None,
    at_risk_times: Sequence[float] = AT_RISK_MONTHS,
) -> Figure:
    """One KM panel (acquired vs primary, with at-risk numbers) per cancer type.

    The panels fill the page's width, ``ncols`` a row (at most :data:`~helpers.plots.style.MAX_COLUMNS`,
    so that the at-risk rows stay legible); the figure grows downwards with the cancer types.
    One legend above the panels names the classes (the panels have none: it would hide curves).
    """
    _available(result, "km_grid")
    by_type = result.curves_by_cancer_type
    if not by_type:
        raise InputError("km_grid: no cancer type to draw")
    fig, axes = panel_grid(
        len(by_type), panel_height=KM_PANEL_HEIGHT, ncols=min(ncols, MAX_COLUMNS), extra_height=0.3
    )
    legend: dict[str, object] = {}
    for ax, (cancer_type, curves) in zip(axes.ravel(), by_type.items(), strict=False):
        km_by_class(curves, ax=ax, title=str(cancer_type), at_risk_times=at_risk_times, count=count)
        if ax.get_legend() is not None:
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                legend.setdefault(label, handle)
            ax.get_legend().remove()
    if legend:
        fig.legend(
            legend.values(), legend.keys(), loc="upper center", ncol=len(legend), bbox_to_anchor=(0.5, 1.0)
        )
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.3 / fig.get_figheight()), h_pad=1.5, w_pad=1.0)
    return fig


def forest_figure(result: PPSResult, *, count: Count = str) -> Figure:
    """Forest plot of acquired-vs-primary hazard ratios (per cancer type, then pooled).

    Parameters
    ----------
    result : helpers.analysis.pps.PPSResult
        Its ``forest`` table gives the rows; its ``planted_hr`` (simulated cohorts) is drawn as
        a dotted line.
    count : callable, default str
        Formats the death counts of the labels (small-count suppression).

    Returns
    -------
    matplotlib.figure.Figure
    """
    _available(result, "forest_figure")
    table, planted_hr = result.forest, result.planted_hr
    fig, ax = plt.subplots(figsize=(FIG_WIDTH, 0.42 * len(table) + 1.8))
    labelled = table.assign(label=[f"{r.label} ({count(r.deaths)} deaths)" for r in table.itertuples()])
    forest_plot(
        ax,
        labelled,
        label_col="label",
        xlabel="Hazard ratio of death after progression,\nacquired vs primary (95% CI)",
    )
    ax.axhline(0.5, color="#bbbbbb", linewidth=0.6)  # separates the pooled row
    if planted_hr is not None:
        ax.axvline(
            planted_hr,
            color=PLANTED_COLOUR,
            linestyle=":",
            linewidth=1.4,
            label=f"hazard ratio planted in the simulation ({planted_hr:g})",
        )
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def immortal_time_figure(result: PPSResult, *, count: Count | None = None) -> Figure:
    """Top: naive OS from ICB start by final class (biased); bottom: OS from the landmark.

    The two panels are stacked (each as wide as the page, so that the at-risk rows with the long
    landmark group names stay legible); ``fig.axes`` is ``[naive, landmark]``. The naive panel
    shades the first ``benefit_months``: the acquired group's immortal time.

    Parameters
    ----------
    result : helpers.analysis.pps.PPSResult
        Its ``naive_curves``, ``landmark_curves`` and ``benefit_months``.
    count : callable, optional
        Formats the at-risk counts (small-count suppression).

    Returns
    -------
    matplotlib.figure.Figure
    """
    _available(result, "immortal_time_figure")
    benefit_months = result.benefit_months
    fig, (naive, landmark) = plt.subplots(2, 1, figsize=(FIG_WIDTH, 2 * KM_PANEL_HEIGHT + 0.6))
    _km_panel(
        naive,
        result.naive_curves,
        CLASS_COLOURS,
        [0, 6, 12, 18, 24, 30, 36],
        count,
        "Months since the start of ICB",
        "Overall survival",
    )
    naive.axvspan(
        0,
        benefit_months,
        color=OKABE_ITO["orange"],
        alpha=0.25,
        linewidth=0,
        label="immortal time (acquired)",
    )
    naive.legend(frameon=False, loc="upper right", fontsize="small")
    naive.set_title("Naive, BIASED: final class, from ICB start")
    _km_panel(
        landmark,
        result.landmark_curves,
        LANDMARK_COLOURS,
        [0, 6, 12, 18, 24, 30],
        count,
        f"Months since the landmark ({benefit_months:g} months after ICB start)",
        "Overall survival",
    )
    landmark.set_title(f"Landmark at {benefit_months:g} months: patients alive then")
    fig.tight_layout(h_pad=1.5)
    return fig


def shrinkage_figure(result: PPSResult, *, count: Count = str) -> Figure:
    """Per-cancer-type hazard ratios beside their empirical-Bayes shrunken estimates.

    One row per cancer type with an estimate (types with fewer than ``min_events_per_group``
    deaths in a class are marked "few deaths"): its own estimate (black square) and, just
    below, the shrunken one (orange circle), each with its 95% interval; the last row is the
    random-effects mean. When τ² = 0 every orange point sits on the random-effects mean.

    Parameters
    ----------
    result : helpers.analysis.pps.PPSResult
        Its ``shrinkage`` and ``heterogeneity`` tables; ``planted_hr`` (simulated cohorts) is
        drawn as a dotted line.
    count : callable, default str
        Formats the death counts of the labels (small-count suppression).

    Returns
    -------
    matplotlib.figure.Figure
    """
    _available(result, "shrinkage_figure")
    table = result.shrinkage[np.isfinite(result.shrinkage["shrunken_hr"])]
    if len(table) == 0:
        raise InputError("shrinkage_figure: no cancer type has a shrunken estimate")
    h = result.heterogeneity.iloc[0]
    n = len(table) + 1
    fig, ax = plt.subplots(figsize=(FIG_WIDTH, 0.5 * n + 1.8))
    y = np.arange(n)[::-1].astype(float)
    labels = []
    for yi, r in zip(y[:-1], table.itertuples(), strict=True):
        deaths = int(r.deaths_acquired + r.deaths_primary)
        labels.append(f"{r.cancer_type} ({count(deaths)} deaths{', few deaths' if r.few_deaths else ''})")
        ax.hlines(yi + 0.15, r.ci_low, r.ci_high, color=OWN_COLOUR, linewidth=1)
        ax.plot(r.hr, yi + 0.15, "s", color=OWN_COLOUR, markersize=5)
        ax.hlines(yi - 0.15, r.shrunken_ci_low, r.shrunken_ci_high, color=SHRUNKEN_COLOUR, linewidth=1)
        ax.plot(r.shrunken_hr, yi - 0.15, "o", color=SHRUNKEN_COLOUR, markersize=5)
    labels.append("Random-effects mean")
    ax.hlines(y[-1], h["ci_low"], h["ci_high"], color=OWN_COLOUR, linewidth=2)
    ax.plot(h["hr_random"], y[-1], "D", color=OWN_COLOUR, markersize=6)
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=0.8)
    ax.axvline(h["hr_random"], color=SHRUNKEN_COLOUR, linestyle="-", linewidth=0.6, alpha=0.5)
    ax.axhline(y[-1] + 0.5, color="#bbbbbb", linewidth=0.6)
    ax.set_xscale("log")
    values = np.concatenate(
        [table[["ci_low", "ci_high", "shrunken_ci_low", "shrunken_ci_high"]].to_numpy().ravel(), [1.0]]
    )
    ax.set_xlim(max(values.min() / 1.15, 0.02), min(values.max() * 1.15, 50.0))
    nice = np.array([0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0])
    low, high = ax.get_xlim()
    ticks = nice[(nice >= low) & (nice <= high)]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_yticks(y, labels)
    ax.set_xlabel("Hazard ratio of death after progression,\nacquired vs primary (95% CI)")
    handles = [
        plt.Line2D(
            [], [], color=OWN_COLOUR, marker="s", linestyle="-", label="own estimate of the cancer type"
        ),
        plt.Line2D(
            [], [], color=SHRUNKEN_COLOUR, marker="o", linestyle="-", label=f"shrunken (τ² = {h['tau2']:.3g})"
        ),
    ]
    if result.planted_hr is not None:
        ax.axvline(result.planted_hr, color=PLANTED_COLOUR, linestyle=":", linewidth=1.4)
        handles.append(
            plt.Line2D([], [], color=PLANTED_COLOUR, linestyle=":", label=f"planted ({result.planted_hr:g})")
        )
    ax.legend(
        handles=handles, loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, ncol=2, fontsize="small"
    )
    fig.tight_layout()
    return fig


def rmst_figure(result: PPSResult, *, count: Count = str) -> Figure:
    """Restricted-mean-survival differences (acquired − primary) per cancer type and standardised.

    Parameters
    ----------
    result : helpers.analysis.pps.PPSResult
        Its ``rmst`` table and ``rmst_months``; ``planted_rmst`` (simulated cohorts) is drawn
        as a dotted line.
    count : callable, default str
        Formats the patient counts of the labels (small-count suppression).

    Returns
    -------
    matplotlib.figure.Figure
    """
    _available(result, "rmst_figure")
    table = result.rmst[
        result.rmst["status"].str.startswith("estimated") | (result.rmst["set"] == POOLED_RMST)
    ]
    table = table[np.isfinite(table["difference"])]
    fig, ax = plt.subplots(figsize=(FIG_WIDTH, 0.5 * len(table) + 1.9))
    y = np.arange(len(table))[::-1]
    pooled = (table["set"] == POOLED_RMST).to_numpy()
    ax.hlines(y, table["ci_low"], table["ci_high"], color="black", linewidth=1)
    ax.plot(table["difference"][~pooled], y[~pooled], "s", color="black", markersize=5, linestyle="none")
    ax.plot(table["difference"][pooled], y[pooled], "D", color="black", markersize=7, linestyle="none")
    ax.axvline(0.0, color="grey", linestyle="--", linewidth=0.8)
    ax.axhline(0.5, color="#bbbbbb", linewidth=0.6)
    labels = [
        f"{r.set}\n({count(int(r.n_acquired))} acquired, {count(int(r.n_primary))} primary)"
        for r in table.itertuples()
    ]
    ax.set_yticks(y, labels)
    ax.set_xlabel(
        f"Restricted mean survival up to {result.rmst_months:g} months after progression:\n"
        "acquired − primary (months, 95% CI)"
    )
    if result.planted_rmst is not None:
        ax.axvline(
            result.planted_rmst,
            color=PLANTED_COLOUR,
            linestyle=":",
            linewidth=1.4,
            label=f"difference planted in the simulation ({result.planted_rmst:.2f} months)",
        )
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.tight_layout()
    return fig
