"""Figures of the radiotherapy-salvage chapter (matplotlib).

Each function draws on an ``Axes`` the caller owns and returns it; the numbers come from
:mod:`helpers.analysis.radiotherapy`. Figures never show patient identifiers: literature rows are
labelled by study, cohort figures by group.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from helpers.stats import survival
from helpers.plots.survival import forest_plot, plot_km
from helpers.analysis.radiotherapy import MODALITY_CLASSES, RadiotherapyInputError
from helpers.units import DAYS_PER_MONTH

__all__ = ["literature_forest", "eqd2_by_modality", "response_bars", "rt_estimates_forest",
           "km_by_rt"]

SETTING_LABELS = {"salvage_after_icb_failure": "Salvage after ICB failure",
                  "rt_with_icb_naive": "RT with ICB, ICB-naive patients"}
SCOPE_LABELS = {"overall": "overall response", "out_of_field": "out-of-field (abscopal) response",
                "in_field": "in-field response", "unreported": "scope not reported"}
ROLE_COLOURS = {"rt": "#1f4e79", "icb_alone": "#a04000"}
MODALITY_COLOURS = {"low_dose": "#7fb3d5", "conventional": "#52be80",
                    "hypofractionated": "#f5b041", "SBRT": "#c0392b"}


def _check_columns(table: pd.DataFrame, columns: list[str], where: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise RadiotherapyInputError(f"{where}: table lacks column(s) {missing}")


def literature_forest(ax: Axes, rows: pd.DataFrame, pooled: pd.DataFrame | None = None) -> Axes:
    """Forest plot of objective response per study, grouped by setting and response scope.

    Rows with counts are squares with a 95% CI (size grows with n); rows with a printed
    percentage only are open circles without an interval; ICB-alone comparator arms are drawn
    in another colour. Pooled subgroups (if any) are diamonds under their group.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    rows : pandas.DataFrame
        :func:`helpers.analysis.radiotherapy.literature_response_rows`; only rows with ``shown`` are
        drawn.
    pooled : pandas.DataFrame, optional
        :func:`helpers.analysis.radiotherapy.pool_literature`; rows with status ``pooled`` are drawn.

    Returns
    -------
    matplotlib.axes.Axes
    """
    _check_columns(rows, ["label", "setting", "response_scope", "arm_role", "events", "n", "orr",
                          "ci_low", "ci_high", "shown"], "literature_forest")
    shown = rows[rows["shown"]]
    if shown.empty:
        raise RadiotherapyInputError("literature_forest: no row to show")
    y = 0.0
    ticks, labels = [], []
    for (setting, scope), group in shown.groupby(["setting", "response_scope"], sort=False):
        ax.text(-0.02, y, f"{SETTING_LABELS.get(setting, setting)}: "
                f"{SCOPE_LABELS.get(scope, scope)}", transform=ax.get_yaxis_transform(),
                ha="right", va="center", fontweight="bold", fontsize=9)
        y -= 1
        for _, r in group.iterrows():
            colour = ROLE_COLOURS.get(r["arm_role"], "black")
            if pd.notna(r["events"]):
                ax.hlines(y, 100 * r["ci_low"], 100 * r["ci_high"], color=colour, linewidth=1.2)
                size = 4 + 2.2 * np.sqrt(float(r["n"]))
                ax.plot(100 * r["orr"], y, "s", color=colour, markersize=min(size, 22) / 2,
                        linestyle="none")
                text = f"{int(r['events'])}/{int(r['n'])}"
            else:
                ax.plot(100 * r["orr"], y, "o", markerfacecolor="white", markeredgecolor=colour,
                        markersize=6, linestyle="none")
                text = f"{100 * r['orr']:.1f}% (no counts)"
            ax.text(1.01, y, text, transform=ax.get_yaxis_transform(), va="center", fontsize=8)
            ticks.append(y)
            labels.append(str(r["label"]) + (" [ICB alone]" if r["arm_role"] == "icb_alone"
                                             else ""))
            y -= 1
        if pooled is not None and len(pooled):
            done = pooled[(pooled["setting"] == setting) & (pooled["response_scope"] == scope)
                          & (pooled["status"] == "pooled")]
            for _, p in done.iterrows():
                est, lo, hi = 100 * p["pooled_logit"], 100 * p["ci_low_logit"], \
                    100 * p["ci_high_logit"]
                ax.fill([lo, est, hi, est], [y, y + 0.3, y, y - 0.3], color="black")
                ticks.append(y)
                labels.append(f"pooled ({p['rt_modality']}, k = {p['k']}, I² = "
                              f"{p['i2_pct']:.0f}%)")
                y -= 1
        y -= 0.6
    ax.set_yticks(ticks, labels, fontsize=8)
    ax.set_ylim(y + 0.4, 0.8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("objective response (%), 95% CI (logit scale) where counts are known")
    ax.plot([], [], "s", color=ROLE_COLOURS["rt"], label="RT arm, counts")
    ax.plot([], [], "o", markerfacecolor="white", markeredgecolor=ROLE_COLOURS["rt"],
            label="RT arm, printed % only")
    ax.plot([], [], "s", color=ROLE_COLOURS["icb_alone"], label="ICB-alone comparator")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=8)
    return ax


def eqd2_by_modality(ax: Axes, courses: pd.DataFrame, edges: tuple[float, ...] = ()) -> Axes:
    """EQD2 of each RT course after progression, one strip per modality (jitter is fixed).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    courses : pandas.DataFrame
        :func:`helpers.analysis.radiotherapy.rt_courses` (courses with timing "after progression").
    edges : tuple of float
        EQD2 group edges to mark with dashed lines.
    """
    _check_columns(courses, ["timing", "modality", "eqd2_gy"], "eqd2_by_modality")
    post = courses[courses["timing"] == "after progression"]
    present = [m for m in MODALITY_CLASSES if (post["modality"] == m).any()]
    for i, modality in enumerate(present):
        values = post.loc[post["modality"] == modality, "eqd2_gy"].to_numpy(float)
        # deterministic jitter (golden-ratio sequence): identical figure on every run
        jitter = ((np.arange(len(values)) * 0.618034) % 1 - 0.5) * 0.5
        ax.plot(values, i + jitter, "o", markersize=2.5, alpha=0.35,
                color=MODALITY_COLOURS.get(modality, "grey"), linestyle="none")
        ax.plot([np.median(values)] * 2, [i - 0.35, i + 0.35], color="black", linewidth=2)
    for edge in edges:
        ax.axvline(edge, color="grey", linestyle="--", linewidth=0.8)
    ax.set_yticks(range(len(present)), [m.replace("_", "-") for m in present])
    ax.set_xlabel("EQD2 (Gy); black bar = median, dashed = dose-group edges")
    return ax


def response_bars(ax: Axes, table: pd.DataFrame, count_label: Callable[[int], str] = str) -> Axes:
    """Objective response (%) with exact 95% CI per group, in-field and out-of-field side by side.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    table : pandas.DataFrame
        :func:`helpers.analysis.radiotherapy.response_by_group`.
    count_label : callable, default str
        Formats counts in the labels (pass :func:`helpers.book.privacy.count_label` so that small
        counts are suppressed for restricted cohorts).
    """
    _check_columns(table, ["scope", "group", "responses", "evaluable", "ORR %", "CI low %",
                           "CI high %"], "response_bars")
    scopes = list(dict.fromkeys(table["scope"]))
    groups = list(dict.fromkeys(table["group"]))
    width = 0.8 / max(len(scopes), 1)
    colours = ["#1f4e79", "#e67e22", "#7d3c98"]
    for s, scope in enumerate(scopes):
        sub = table[table["scope"] == scope].set_index("group").reindex(groups)
        x = np.arange(len(groups)) + (s - (len(scopes) - 1) / 2) * width
        orr = sub["ORR %"].to_numpy(float)
        low = orr - sub["CI low %"].to_numpy(float)
        high = sub["CI high %"].to_numpy(float) - orr
        ax.bar(x, np.nan_to_num(orr), width=width * 0.9, color=colours[s % 3], label=scope)
        ax.errorbar(x, orr, yerr=[low, high], fmt="none", ecolor="black", linewidth=0.8,
                    capsize=2)
        for xi, (_, r) in zip(x, sub.iterrows()):
            if pd.notna(r["evaluable"]) and r["evaluable"] > 0:
                top = r["CI high %"] if pd.notna(r["CI high %"]) else 0.0
                ax.text(xi, top + 1.5, f"{count_label(int(r['responses']))}/"
                        f"{count_label(int(r['evaluable']))}", ha="center", va="bottom",
                        fontsize=7)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel("objective response, % of evaluable courses (exact 95% CI)")
    ax.set_ylim(0, 105)
    ax.legend(loc="upper left")
    return ax


def rt_estimates_forest(ax: Axes, estimates: pd.DataFrame, planted_hr: float | None = None) -> Axes:
    """Hazard ratio of RT in each model (naive to adjusted), with the planted value if known.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    estimates : pandas.DataFrame
        ``RTSurvivalResult.estimates`` from :func:`helpers.analysis.radiotherapy.rt_survival_analysis`;
        models that could not be fitted (NaN) are left out.
    planted_hr : float, optional
        The hazard ratio planted in a simulated cohort (drawn as a dotted line).
    """
    _check_columns(estimates, ["model", "bias", "hr", "ci_low", "ci_high"], "rt_estimates_forest")
    fitted = estimates.dropna(subset=["hr", "ci_low", "ci_high"]).copy()
    if fitted.empty:
        raise RadiotherapyInputError("rt_estimates_forest: no model was fitted")
    fitted["label"] = fitted["model"] + "\n(" + fitted["bias"] + ")"
    forest_plot(ax, fitted, label_col="label", xlabel="hazard ratio of death, RT vs no RT (95% CI)")
    if planted_hr is not None:
        ax.axvline(planted_hr, color="#c0392b", linestyle=":", linewidth=1.5,
                   label=f"planted HR {planted_hr:g}")
        ax.legend(loc="upper right", fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    return ax


def km_by_rt(ax: Axes, data: pd.DataFrame, group_col: str, labels: dict[int, str],
             time_col: str = "pps_days", event_col: str = "event",
             at_risk_months: tuple[float, ...] = (0, 6, 12, 18, 24),
             min_cell_count: int | None = None, xlabel: str = "months after progression") -> Axes:
    """Kaplan–Meier curves by an RT group (time in months) with an at-risk table.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    data : pandas.DataFrame
        One row per patient with ``time_col`` (days), ``event_col`` and ``group_col`` (0/1).
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
    """
    _check_columns(data, [time_col, event_col, group_col], "km_by_rt")
    curves = {}
    for value, label in labels.items():
        sub = data[data[group_col] == value]
        if len(sub):
            curves[label] = survival.kaplan_meier(sub[time_col] / DAYS_PER_MONTH, sub[event_col],
                                                  label=label)
    plot_km(ax, curves, at_risk_times=at_risk_months, min_cell_count=min_cell_count,
            xlabel=xlabel, ylabel="survival probability")
    return ax
