"""Survival figures: Kaplan-Meier curves with an at-risk table, and forest plots of hazard ratios.

Both functions draw on the ``Axes`` they are given (or on a new figure when ``ax`` is None) and
return the ``Figure``, so callers control size and layout and can put several panels on one
figure. They add no "simulated data" mark: :func:`helpers.book.figures.show` does. The numbers
come from :mod:`helpers.stats.survival`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter

from helpers.errors import InputError, Violation, check, raise_violations, require_columns
from helpers.stats.survival import at_risk_table

__all__ = ["plot_km", "forest_plot"]

#: Distance (points) from the bottom of a KM panel to its "Number at risk" line (under the tick
#: labels and the x label), and from one at-risk row to the next.
AT_RISK_TOP, AT_RISK_STEP = 46.0, 12.0


def _as_mapping(
    fitters: Mapping[str, KaplanMeierFitter] | Sequence[KaplanMeierFitter] | KaplanMeierFitter,
) -> dict[str, KaplanMeierFitter]:
    if isinstance(fitters, KaplanMeierFitter):
        fitters = [fitters]
    if isinstance(fitters, Mapping):
        return {str(label): fitter for label, fitter in fitters.items()}
    return {str(getattr(fitter, "_label", f"curve {i}")): fitter for i, fitter in enumerate(fitters)}


def plot_km(
    ax: Axes | None,
    fitters: Mapping[str, KaplanMeierFitter] | Sequence[KaplanMeierFitter] | KaplanMeierFitter,
    at_risk_times: Iterable[float] | None = None,
    *,
    ci: bool = True,
    censor_marks: bool = True,
    min_cell_count: int | None = None,
    count: Callable[[int], str] | None = None,
    xlabel: str = "Time",
    ylabel: str = "Survival probability",
) -> Figure:
    """Draw Kaplan-Meier curves, optionally with a number-at-risk table under the axes.

    The at-risk rows are drawn here rather than by lifelines' ``add_at_risk_counts`` because
    restricted cohorts need small counts suppressed (``min_cell_count`` or ``count``) and
    lifelines has no hook for that.

    Parameters
    ----------
    ax : matplotlib.axes.Axes or None
        Where to draw; None draws on a new figure.
    fitters : mapping of label to KaplanMeierFitter, a sequence of them, or one
        The fitted curves (e.g. from :func:`helpers.stats.survival.kaplan_meier_by_group`).
    at_risk_times : iterable of float, optional
        Times at which to print the number at risk under the x axis (and to place the ticks).
    ci : bool, default True
        Shade each curve's pointwise confidence band.
    censor_marks : bool, default True
        Mark censoring times with "+".
    min_cell_count : int, optional
        Suppress at-risk counts 0 < n < ``min_cell_count`` (restricted cohorts); shown as
        "<min_cell_count".
    count : callable, optional
        Formats each at-risk count (e.g. :func:`helpers.book.privacy.count_label`, which
        suppresses small counts of restricted cohorts); default ``str``.
    xlabel, ylabel : str
        Axis labels.

    Returns
    -------
    matplotlib.figure.Figure
        The figure of ``ax``; the curve of label L is the line with ``get_label() == L``, the
        at-risk numbers are texts with gid ``at_risk``.
    """
    curves = _as_mapping(fitters)
    if not curves:
        raise InputError("plot_km: no curves to plot")
    for label, fitter in curves.items():
        if not hasattr(fitter, "survival_function_"):
            raise InputError(f"plot_km: curve {label!r} is not a fitted KaplanMeierFitter")
    if ax is None:
        _, ax = plt.subplots()
    label_of = count or str
    for label, fitter in curves.items():
        curve = fitter.survival_function_.iloc[:, 0]
        (line,) = ax.step(curve.index, curve.to_numpy(), where="post", label=label)
        color = line.get_color()
        if ci:
            band = fitter.confidence_interval_survival_function_
            ax.fill_between(
                band.index, band.iloc[:, 0], band.iloc[:, 1], step="post", alpha=0.2, color=color, linewidth=0
            )
        if censor_marks:
            durations = np.asarray(fitter.durations, dtype=float)
            censored = np.unique(durations[np.asarray(fitter.event_observed) == 0])
            if len(censored):
                heights = fitter.survival_function_at_times(censored).to_numpy()
                ax.plot(censored, heights, "+", color=color, markersize=6, linestyle="none")
    ax.set_ylim(0, 1.05)
    ax.set_xlim(left=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if len(curves) > 1:
        ax.legend(frameon=False)

    if at_risk_times is not None:
        times = [float(t) for t in at_risk_times]
        table = at_risk_table(curves, times, min_cell_count=min_cell_count)
        ax.set_xticks(times)
        ax.set_xlim(min(0.0, times[0]), max(times[-1], ax.get_xlim()[1]))
        # one text row per curve below the axis; rows are placed in points under the axes
        # (below the tick labels and the x label), so that their spacing does not depend on the
        # height of the panel; row labels end 18 points left of the axis so they clear the
        # counts centred at t = 0
        ax.annotate(
            "Number at risk",
            xy=(0, 0),
            xycoords="axes fraction",
            xytext=(-18, -AT_RISK_TOP),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize="small",
            fontweight="bold",
        )
        for row_number, (label, counts) in enumerate(table.iterrows()):
            offset = -AT_RISK_TOP - AT_RISK_STEP * (row_number + 1)
            ax.annotate(
                label,
                xy=(0, 0),
                xycoords="axes fraction",
                xytext=(-18, offset),
                textcoords="offset points",
                ha="right",
                va="center",
                fontsize="small",
            )
            for t, n in counts.items():
                text = f"<{min_cell_count}" if pd.isna(n) else label_of(int(n))
                ax.annotate(
                    text,
                    xy=(t, 0),
                    xycoords=("data", "axes fraction"),
                    xytext=(0, offset),
                    textcoords="offset points",
                    ha="center",
                    va="center",
                    fontsize="small",
                    gid="at_risk",
                )
    return ax.figure


def forest_plot(
    ax: Axes | None,
    table: pd.DataFrame,
    *,
    label_col: str = "covariate",
    xlabel: str = "Hazard ratio (95% CI)",
) -> Figure:
    """Forest plot of hazard ratios on a log scale.

    Parameters
    ----------
    ax : matplotlib.axes.Axes or None
        Where to draw; None draws on a new figure.
    table : pandas.DataFrame
        With columns ``hr``, ``ci_low``, ``ci_high`` and ``label_col``, e.g. from
        :func:`helpers.stats.survival.hazard_ratio_table`; one row per line, top to bottom.
    label_col : str, default "covariate"
        Column with the row labels.
    xlabel : str
        Axis label.

    Returns
    -------
    matplotlib.figure.Figure
        The figure of ``ax``, with a reference line at HR = 1; the estimates are the line with
        gid ``hr_points``.
    """
    require_columns(table, [label_col, "hr", "ci_low", "ci_high"], "forest table")
    values = table[["hr", "ci_low", "ci_high"]].astype(float)
    violations: list[Violation] = []
    for column in values.columns:
        bad = ~(values[column] > 0)  # NaN fails too
        check(
            violations,
            table,
            bad,
            table="forest table",
            column=column,
            rule="must be a positive number",
            show=[label_col],
        )
    raise_violations(violations, "forest_plot")
    if ax is None:
        _, ax = plt.subplots()
    y = np.arange(len(table))[::-1]
    ax.hlines(y, values["ci_low"], values["ci_high"], color="black", linewidth=1)
    ax.plot(values["hr"], y, "s", color="black", markersize=5, linestyle="none", gid="hr_points")
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xscale("log")
    # plain-number ticks (0.5, 1, 2) read better than 10^x on a hazard-ratio axis
    low = float(min(values["ci_low"].min(), 1.0))
    high = float(max(values["ci_high"].max(), 1.0))
    nice = np.array([0.05, 0.1, 0.2, 0.25, 0.33, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0])
    ticks = nice[(nice >= low / 1.05) & (nice <= high * 1.05)]
    if len(ticks) > 7:
        ticks = ticks[np.isin(ticks, [0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0])]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FixedFormatter([f"{t:g}" for t in ticks]))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(y)
    ax.set_yticklabels(table[label_col].astype(str))
    ax.set_xlabel(xlabel)
    return ax.figure
