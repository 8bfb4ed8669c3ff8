"""Figures of the radiotherapy-salvage chapter (matplotlib).

Each function takes tables of a result of :mod:`helpers.analysis.radiotherapy` (or the result
itself), draws on ``ax`` when one is given (else on a new figure of a suitable size) and returns
the ``Figure``. No function adds the "simulated data" mark: :func:`helpers.book.figures.show`
does. Figures never show patient identifiers: literature rows are labelled by study, cohort
figures by group.
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.transforms import offset_copy

from helpers.analysis.radiotherapy import MODALITY_CLASSES, RT_TIMINGS, RTCohortResult, RTSensitivityResult
from helpers.errors import InputError, require_columns
from helpers.plots.style import FIG_WIDTH, OKABE_ITO, SMALL_FONT_SIZE, wrap
from helpers.plots.survival import forest_plot, plot_km
from helpers.stats import survival
from helpers.units import DAYS_PER_MONTH

__all__ = [
    "eqd2_by_modality",
    "km_by_rt",
    "km_naive_and_landmark",
    "literature_forest",
    "response_bars",
    "rt_estimates_forest",
    "rt_sensitivity_forest",
]

SETTING_LABELS = {
    "salvage_after_icb_failure": "Salvage after ICB failure",
    "rt_with_icb_naive": "RT with ICB, ICB-naive patients",
}
SCOPE_LABELS = {
    "overall": "overall response",
    "out_of_field": "out-of-field (abscopal) response",
    "in_field": "in-field response",
    "unreported": "scope not reported",
}
ROLE_COLOURS = {"rt": OKABE_ITO["blue"], "icb_alone": OKABE_ITO["vermillion"]}
MODALITY_COLOURS = {
    "low_dose": OKABE_ITO["sky blue"],
    "conventional": OKABE_ITO["bluish green"],
    "hypofractionated": OKABE_ITO["orange"],
    "SBRT": OKABE_ITO["vermillion"],
}
#: Colours of the response scopes (in-field, out-of-field, ...) in :func:`response_bars`.
SCOPE_COLOURS = (OKABE_ITO["blue"], OKABE_ITO["orange"], OKABE_ITO["reddish purple"])
#: Colour of the line of a hazard ratio planted in a simulated cohort.
PLANTED_COLOUR = OKABE_ITO["vermillion"]
#: Characters per line of the study labels of :func:`literature_forest` (longer ones are wrapped).
LABEL_WIDTH = 42
#: Height of one KM panel with its at-risk rows (inches).
KM_PANEL_HEIGHT = 3.9


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new figure of ``figsize`` with one axes."""
    if ax is not None:
        return ax.figure, ax
    fig, new = plt.subplots(figsize=figsize)
    return fig, new


def literature_forest(
    rows: pd.DataFrame,
    pooled: pd.DataFrame | None = None,
    *,
    ax: Axes | None = None,
    title: str = "Objective response after RT in the literature (Yang et al. 2025)",
) -> Figure:
    """Forest plot of objective response per study, grouped by setting and response scope.

    Rows with counts are squares with a 95% CI (size grows with n); rows with a printed
    percentage only are open circles without an interval; ICB-alone comparator arms are drawn
    in another colour. Pooled subgroups (if any) are diamonds under their group.

    Parameters
    ----------
    rows : pandas.DataFrame
        ``LiteratureResult.responses`` (:func:`helpers.analysis.radiotherapy.literature_response_rows`);
        only rows with ``shown`` are drawn.
    pooled : pandas.DataFrame, optional
        ``LiteratureResult.pooled`` (:func:`helpers.analysis.radiotherapy.pool_literature`); rows
        with status ``pooled`` are drawn.
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure whose height grows with the number of rows.
    title : str
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    require_columns(
        rows,
        [
            "label",
            "setting",
            "response_scope",
            "arm_role",
            "events",
            "n",
            "orr",
            "ci_low",
            "ci_high",
            "shown",
        ],
        "literature response rows",
    )
    shown = rows[rows["shown"]]
    if shown.empty:
        raise InputError("literature_forest: no row to show")
    fig, ax = _axes(ax, (FIG_WIDTH, 0.42 * len(shown) + 2.8))
    y = 0.0
    ticks, labels = [], []
    for (setting, scope), group in shown.groupby(["setting", "response_scope"], sort=False):
        # the group's heading starts at the figure's left edge, on a row of its own
        ax.annotate(
            f"{SETTING_LABELS.get(setting, setting)}: {SCOPE_LABELS.get(scope, scope)}",
            xy=(0, y),
            xycoords=("figure fraction", "data"),
            xytext=(6, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontweight="bold",
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0},  # hides the y axis behind it
        )
        y -= 1
        for _, r in group.iterrows():
            colour = ROLE_COLOURS.get(r["arm_role"], "black")
            if pd.notna(r["events"]):
                ax.hlines(y, 100 * r["ci_low"], 100 * r["ci_high"], color=colour, linewidth=1.2)
                size = 4 + 2.2 * np.sqrt(float(r["n"]))
                ax.plot(100 * r["orr"], y, "s", color=colour, markersize=min(size, 22) / 2, linestyle="none")
                text = f"{int(r['events'])}/{int(r['n'])}"
            else:
                ax.plot(
                    100 * r["orr"],
                    y,
                    "o",
                    markerfacecolor="white",
                    markeredgecolor=colour,
                    markersize=6,
                    linestyle="none",
                )
                text = f"{100 * r['orr']:.1f}% (no counts)"
            ax.text(1.01, y, text, transform=ax.get_yaxis_transform(), va="center", fontsize=SMALL_FONT_SIZE)
            ticks.append(y)
            label = str(r["label"]) + (" [ICB\u00a0alone]" if r["arm_role"] == "icb_alone" else "")
            labels.append(wrap(label, LABEL_WIDTH))
            y -= 1
        if pooled is not None and len(pooled):
            done = pooled[
                (pooled["setting"] == setting)
                & (pooled["response_scope"] == scope)
                & (pooled["status"] == "pooled")
            ]
            for _, p in done.iterrows():
                est, lo, hi = 100 * p["pooled_logit"], 100 * p["ci_low_logit"], 100 * p["ci_high_logit"]
                ax.fill([lo, est, hi, est], [y, y + 0.3, y, y - 0.3], color="black")
                ticks.append(y)
                labels.append(
                    wrap(f"pooled ({p['rt_modality']}, k = {p['k']}, I² = {p['i2_pct']:.0f}%)", LABEL_WIDTH)
                )
                y -= 1
        y -= 0.6
    ax.set_yticks(ticks, labels, fontsize=SMALL_FONT_SIZE)
    ax.set_ylim(y + 0.4, 0.8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("objective response (%), 95% CI (logit scale) where counts are known")
    ax.plot([], [], "s", color=ROLE_COLOURS["rt"], label="RT arm, counts")
    ax.plot(
        [],
        [],
        "o",
        markerfacecolor="white",
        markeredgecolor=ROLE_COLOURS["rt"],
        label="RT arm, printed % only",
    )
    ax.plot([], [], "s", color=ROLE_COLOURS["icb_alone"], label="ICB-alone comparator")
    # under the x label whatever the number of rows: anchored 36 points below the axes
    below = offset_copy(ax.transAxes, fig=fig, y=-36, units="points")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=below, ncol=3)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def eqd2_by_modality(
    courses: pd.DataFrame,
    edges: tuple[float, ...] = (),
    *,
    ax: Axes | None = None,
    title: str = "EQD2 of RT courses after progression, by modality",
) -> Figure:
    """EQD2 of each RT course after progression, one strip per modality (jitter is fixed).

    Parameters
    ----------
    courses : pandas.DataFrame
        ``RTCohortResult.courses`` (:func:`helpers.analysis.radiotherapy.rt_courses`); courses
        with timing "after progression" are drawn.
    edges : tuple of float
        EQD2 group edges to mark with dashed lines.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure as wide as the page, 3.2 inches high).
    title : str
        Axes title.
    """
    require_columns(courses, ["timing", "modality", "eqd2_gy"], "RT courses")
    fig, ax = _axes(ax, (FIG_WIDTH, 3.2))
    post = courses[courses["timing"] == RT_TIMINGS[2]]
    present = [m for m in MODALITY_CLASSES if (post["modality"] == m).any()]
    for i, modality in enumerate(present):
        values = post.loc[post["modality"] == modality, "eqd2_gy"].to_numpy(float)
        # deterministic jitter (golden-ratio sequence): identical figure on every run
        jitter = ((np.arange(len(values)) * 0.618034) % 1 - 0.5) * 0.5
        ax.plot(
            values,
            i + jitter,
            "o",
            markersize=2.5,
            alpha=0.35,
            color=MODALITY_COLOURS.get(modality, "grey"),
            linestyle="none",
        )
        ax.plot([np.median(values)] * 2, [i - 0.35, i + 0.35], color="black", linewidth=2)
    for edge in edges:
        ax.axvline(edge, color="grey", linestyle="--", linewidth=0.8)
    ax.set_yticks(range(len(present)), [m.replace("_", "-") for m in present])
    ax.set_xlabel("EQD2 (Gy); black bar = median, dashed = dose-group edges")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def response_bars(
    table: pd.DataFrame,
    count_label: Callable[[int], str] = str,
    *,
    ax: Axes | None = None,
    xlabel: str | None = None,
    title: str | None = None,
) -> Figure:
    """Objective response (%) with exact 95% CI per group, in-field and out-of-field side by side.

    Parameters
    ----------
    table : pandas.DataFrame
        ``RTCohortResult.response_by_eqd2_group`` or ``.response_by_modality``
        (:func:`helpers.analysis.radiotherapy.response_by_group`).
    count_label : callable, default str
        Formats counts in the labels (pass :func:`helpers.book.privacy.count_label` so that small
        counts are suppressed for restricted cohorts).
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure as wide as the page, 4 inches high).
    xlabel, title : str, optional
        Axis label of the groups and axes title.
    """
    require_columns(
        table,
        ["scope", "group", "responses", "evaluable", "ORR %", "CI low %", "CI high %"],
        "response table",
    )
    fig, ax = _axes(ax, (FIG_WIDTH, 4.2))
    scopes = list(dict.fromkeys(table["scope"]))
    groups = list(dict.fromkeys(table["group"]))
    width = 0.8 / max(len(scopes), 1)
    for s, scope in enumerate(scopes):
        sub = table[table["scope"] == scope].set_index("group").reindex(groups)
        x = np.arange(len(groups)) + (s - (len(scopes) - 1) / 2) * width
        orr = sub["ORR %"].to_numpy(float)
        low = orr - sub["CI low %"].to_numpy(float)
        high = sub["CI high %"].to_numpy(float) - orr
        ax.bar(
            x, np.nan_to_num(orr), width=width * 0.9, color=SCOPE_COLOURS[s % len(SCOPE_COLOURS)], label=scope
        )
        ax.errorbar(x, orr, yerr=[low, high], fmt="none", ecolor="black", linewidth=0.8, capsize=2)
        for xi, (_, r) in zip(x, sub.iterrows(), strict=True):
            if pd.notna(r["evaluable"]) and r["evaluable"] > 0:
                top = r["CI high %"] if pd.notna(r["CI high %"]) else 0.0
                ax.text(
                    xi,
                    top + 1.5,
                    f"{count_label(int(r['responses']))}/{count_label(int(r['evaluable']))}",
                    ha="center",
                    va="bottom",
                    fontsize=SMALL_FONT_SIZE,
                )
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel("objective response (%)\nof evaluable courses, exact 95% CI")
    ax.set_ylim(0, 105)
    ax.legend(loc="upper left")
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if title is not None:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def _legend_below(ax: Axes) -> None:
    """The legend under the x label (not over the rows), whatever the height of the axes."""
    below = offset_copy(ax.transAxes, fig=ax.figure, y=-36, units="points")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=below)


def _drawable(estimates: pd.DataFrame) -> pd.DataFrame:
    """The rows with a finite, positive hazard ratio and interval (a small cohort can give an
    interval from 0 to infinity, which a log-scale forest plot cannot draw)."""
    values = estimates[["hr", "ci_low", "ci_high"]].apply(pd.to_numeric, errors="coerce")
    ok = (np.isfinite(values) & (values > 0)).all(axis=1)
    return estimates[ok].copy()


def rt_estimates_forest(
    estimates: pd.DataFrame,
    planted_hr: float | None = None,
    *,
    ax: Axes | None = None,
    title: str = "RT after progression: the naive comparisons and the corrected estimate",
) -> Figure:
    """Hazard ratio of RT in each model (naive to adjusted), with the planted value if known.

    Parameters
    ----------
    estimates : pandas.DataFrame
        ``RTSurvivalResult.estimates`` (:func:`helpers.analysis.radiotherapy.rt_survival_analysis`);
        models that could not be fitted (NaN), or whose interval reaches 0 or infinity (too few
        events: separation), are left out.
    planted_hr : float, optional
        The hazard ratio planted in a simulated cohort (drawn as a dotted line).
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure as wide as the page, its height growing with the rows).
    title : str
        Axes title.
    """
    require_columns(estimates, ["model", "bias", "hr", "ci_low", "ci_high"], "RT survival estimates")
    fitted = _drawable(estimates)
    if fitted.empty:
        raise InputError("rt_estimates_forest: no model was fitted")
    fig, ax = _axes(ax, (FIG_WIDTH, 0.55 * len(fitted) + 1.6))
    fitted["label"] = fitted["model"] + "\n(" + fitted["bias"] + ")"
    forest_plot(ax, fitted, label_col="label", xlabel="hazard ratio of death, RT vs no RT (95% CI)")
    if planted_hr is not None:
        ax.axvline(
            planted_hr, color=PLANTED_COLOUR, linestyle=":", linewidth=1.5, label=f"planted HR {planted_hr:g}"
        )
        _legend_below(ax)
    ax.tick_params(axis="y", labelsize=SMALL_FONT_SIZE)
    ax.set_title(title, loc="right")  # the labels take the left of the figure
    fig.tight_layout()
    return fig


def rt_sensitivity_forest(
    result: RTSensitivityResult,
    planted_hr: float | None = None,
    *,
    ax: Axes | None = None,
    title: str = "RT after progression: sensitivity to confounding by indication",
) -> Figure:
    """Hazard ratio of each sensitivity analysis, the rows whose warning rule fires marked.

    Parameters
    ----------
    result : RTSensitivityResult
        :func:`helpers.analysis.radiotherapy.rt_sensitivity_analysis`; estimates that could not
        be fitted (NaN) are left out. The negative controls are hazard ratios of their own term
        (RT in its first weeks, RT before the index course), not of RT.
    planted_hr : float, optional
        The hazard ratio of RT planted in a simulated cohort (dotted line).
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure as wide as the page, its height growing with the rows).
    title : str
        Axes title.
    """
    table = result.estimates
    require_columns(table, ["analysis", "model", "hr", "ci_low", "ci_high"], "RT sensitivity estimates")
    fitted = _drawable(table)
    if fitted.empty:
        raise InputError("rt_sensitivity_forest: no model was fitted")
    rule_of = {
        "lagged": "lag",
        "early_window": "early_window",
        "prior_rt": "prior_rt",
        "time_updated_ps": "time_updated_ps",
    }
    fired = set(result.fired)
    fitted["label"] = [
        wrap(f"{model} [warning]" if rule_of.get(key) in fired else model, 44)
        for key, model in zip(fitted["analysis"], fitted["model"], strict=True)
    ]
    fig, ax = _axes(ax, (FIG_WIDTH, 0.55 * len(fitted) + 1.6))
    forest_plot(ax, fitted, label_col="label", xlabel="hazard ratio of death (95% CI)")
    if planted_hr is not None:
        ax.axvline(
            planted_hr,
            color=PLANTED_COLOUR,
            linestyle=":",
            linewidth=1.5,
            label=f"planted HR of RT {planted_hr:g}",
        )
        _legend_below(ax)
    ax.tick_params(axis="y", labelsize=SMALL_FONT_SIZE)
    ax.set_title(title, loc="right")
    fig.tight_layout()
    return fig


def km_by_rt(
    data: pd.DataFrame,
    group_col: str,
    labels: dict[int, str],
    *,
    time_col: str = "pps_days",
    event_col: str = "event",
    at_risk_months: tuple[float, ...] = (0, 6, 12, 18, 24),
    min_cell_count: int | None = None,
    xlabel: str = "months after progression",
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Kaplan–Meier curves by an RT group (time in months) with an at-risk table.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient with ``time_col`` (days), ``event_col`` and ``group_col`` (0/1),
        e.g. ``RTCohortResult.post_progression`` or ``.landmark_set``.
    group_col : str
        The group column.
    labels : dict
        Curve label per group value (e.g. ``{0: "no RT", 1: "RT"}``).
    time_col, event_col : str
        Follow-up (days) and event columns.
    at_risk_months : tuple of float
        Times of the at-risk table.
    min_cell_count : int, optional
        Suppress small at-risk counts (restricted cohorts).
    xlabel : str
        Axis label.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure as wide as the page).
    title : str, optional
        Axes title.
    """
    require_columns(data, [time_col, event_col, group_col], "survival table")
    created = ax is None
    fig, ax = _axes(ax, (FIG_WIDTH, 4.6))
    curves = {}
    for value, label in labels.items():
        sub = data[data[group_col] == value]
        if len(sub):
            curves[label] = survival.kaplan_meier(sub[time_col] / DAYS_PER_MONTH, sub[event_col], label=label)
    plot_km(
        ax,
        curves,
        at_risk_times=at_risk_months,
        min_cell_count=min_cell_count,
        xlabel=xlabel,
        ylabel="survival probability",
    )
    if title is not None:
        ax.set_title(title)
    if created:  # a caller's figure keeps the layout its caller chose
        fig.tight_layout()
    return fig


def km_naive_and_landmark(result: RTCohortResult) -> Figure:
    """Kaplan–Meier curves of the two designs, one above the other: naive grouping and landmark.

    The panels are stacked, each as wide as the page (side by side, the at-risk rows with their
    long group names would not fit); ``fig.axes`` is ``[naive, landmark]``.
    Top: RT at any time after progression vs never, from progression (biased: the RT curve
    cannot drop before RT starts). Bottom: patients alive at the landmark, by RT before it, from
    the landmark (``result.landmark_set``). At-risk counts below ``result.min_count`` are
    suppressed (restricted cohorts).

    Parameters
    ----------
    result : RTCohortResult
        From :func:`helpers.analysis.radiotherapy.cohort_analysis`.
    """
    fig, axes = plt.subplots(2, 1, figsize=(FIG_WIDTH, 2 * KM_PANEL_HEIGHT + 0.6))
    km_by_rt(
        result.post_progression,
        "ever_rt",
        {0: "no RT", 1: "RT at any time"},
        min_cell_count=result.min_count,
        ax=axes[0],
        title="Naive: RT ever vs never (BIASED)",
    )
    km_by_rt(
        result.landmark_set,
        "rt_by_landmark",
        {0: "no RT by the landmark", 1: "RT by the landmark"},
        min_cell_count=result.min_count,
        xlabel=f"months after the landmark ({result.landmark_months:g} months after progression)",
        ax=axes[1],
        title="Landmark",
    )
    fig.tight_layout(h_pad=1.5)
    return fig
