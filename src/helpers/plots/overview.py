"""Figures of chapter 1 (cohort overview): attrition, sample availability, swimmer plot.

Each function takes a table of :class:`helpers.analysis.overview.CohortOverview` (or the
result itself), draws on ``ax`` if given, and returns the figure. Counts drawn as labels go
through ``count_label`` (pass :func:`helpers.book.privacy.count_label` so that a restricted
cohort's small counts are suppressed in the figure as in the tables).
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import offset_copy

from helpers.analysis.overview import Swimmer
from helpers.plots.style import FIG_WIDTH, OKABE_ITO, RESPONSE_COLOURS, SMALL_FONT_SIZE, wrap
from helpers.units import DAYS_PER_MONTH

#: Colour of bars that show patients (no class or response).
PATIENT_COLOUR = "#5d6d7e"

#: Marker and colour of each event kind in the swimmer plot (black-edged: they sit on the bars).
SWIMMER_EVENTS = {
    "pre biopsy": ("o", OKABE_ITO["reddish purple"]),
    "on biopsy": ("s", OKABE_ITO["orange"]),
    "post biopsy": ("D", OKABE_ITO["black"]),
    "radiotherapy": ("*", OKABE_ITO["bluish green"]),
}


def _figure(ax: plt.Axes | None, size: tuple[float, float]) -> tuple[plt.Figure, plt.Axes]:
    """The axes to draw on: ``ax`` if given, else a new figure of ``size`` inches."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=size)
    return fig, ax


def attrition_plot(
    attrition: pd.DataFrame, ax: plt.Axes | None = None, count_label: Callable[[int], str] = str
) -> plt.Figure:
    """Horizontal bars of patients per analysis set (rows of the attrition table, in order).

    Parameters
    ----------
    attrition
        :attr:`CohortOverview.attrition`: columns ``analysis set`` and ``patients`` (a count
        may be text, as a suppressed cell of the published table reads).
    ax
        Axes to draw on (default: a new figure sized to the table).
    count_label
        Text of a count at the end of its bar.
    """
    fig, ax = _figure(ax, (FIG_WIDTH, 0.5 * len(attrition) + 1))
    # one row per set: the bar is the count itself (no estimate, no error bar); long names of
    # sets are wrapped so that the bars keep most of the page's width. A count given as text
    # (hidden by small-count suppression) gets a bar of length 0 and its text.
    shown = attrition["patients"]
    counts = pd.to_numeric(shown, errors="coerce").fillna(0)
    sns.barplot(
        data=attrition.assign(**{"analysis set": attrition["analysis set"].map(wrap), "patients": counts}),
        x="patients",
        y="analysis set",
        color=PATIENT_COLOUR,
        errorbar=None,
        orient="h",
        ax=ax,
    )
    ax.bar_label(
        ax.containers[-1],
        labels=[f" {n}" if isinstance(n, str) else f" {count_label(int(n))}" for n in shown],
        fontsize=SMALL_FONT_SIZE,
    )
    ax.set_xlabel("patients")
    ax.set_ylabel("")
    ax.set_title("Attrition from all patients to each analysis set")
    fig.tight_layout()
    return fig


def availability_heatmap(
    availability: pd.DataFrame, ax: plt.Axes | None = None, count_label: Callable[[int], str] = str
) -> plt.Figure:
    """Heat map of the share of patients with each kind of sample, by cancer type.

    Parameters
    ----------
    availability
        :attr:`CohortOverview.sample_availability`: a ``patients`` column and one column of
        patient counts per kind of sample, one row per cancer type (and ``All``).
    ax
        Axes to draw on (default: a new figure sized to the table).
    count_label
        Text of a count. A cell whose count (or whose row's number of patients) the function
        suppresses is left blank and labelled with the suppressed count instead of a share,
        since the share would reveal it.
    """
    kinds = [c for c in availability.columns if c != "patients"]
    counts = availability[kinds].astype(int)
    patients = availability["patients"].astype(int)
    share = counts.div(patients.replace(0, np.nan), axis=0) * 100
    shown = counts.map(lambda n: count_label(int(n)))
    row_hidden = patients.map(lambda n: count_label(int(n)) != str(int(n)))
    hidden = (shown != counts.astype(str)) | pd.DataFrame(
        np.repeat(row_hidden.to_numpy()[:, None], len(kinds), axis=1), index=counts.index, columns=kinds
    )
    labels = share.map(lambda v: "" if pd.isna(v) else f"{v:.0f}%").where(~hidden, shown)

    fig, ax = _figure(ax, (FIG_WIDTH, 0.4 * len(share) + 1.6))
    sns.heatmap(
        share.where(~hidden),
        ax=ax,
        cmap="Blues",
        vmin=0,
        vmax=100,
        annot=labels.to_numpy(),
        fmt="",
        annot_kws={"fontsize": SMALL_FONT_SIZE},
        linewidths=0.5,
        linecolor="white",
        cbar_kws={"label": "% of patients"},
    )
    # seaborn leaves masked (suppressed) cells unlabelled: label them with the suppressed count
    for i, j in zip(*np.nonzero(hidden.to_numpy()), strict=True):
        ax.text(j + 0.5, i + 0.5, labels.iat[i, j], ha="center", va="center", fontsize=SMALL_FONT_SIZE)
    if len(share) > 1 and share.index[-1] == "All":  # set the total apart from the cancer types
        ax.axhline(len(share) - 1, color="white", linewidth=3)
    ax.set_xticklabels(ax.get_xticklabels(), rotation=30, ha="right")
    ax.set_yticklabels(ax.get_yticklabels(), rotation=0)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title("Availability of tumour samples by cancer type")
    fig.tight_layout()
    return fig


def swimmer_plot(swimmer: Swimmer, ax: plt.Axes | None = None) -> plt.Figure:
    """Swimmer plot: one lane per patient (numbered, never identified), time in months.

    Bars run from day 0 to the last follow-up, coloured by best response; a tick marks the
    last ICB dose, a triangle the progression, a cross death and an arrow a patient alive at
    last contact. Samples and radiotherapy courses are drawn at their day.
    """
    lanes, events = swimmer.lanes, swimmer.events
    fig, ax = _figure(ax, (FIG_WIDTH, 0.22 * len(lanes) + 2.6))
    for _, r in lanes.iterrows():
        end = r["last_followup_day"] / DAYS_PER_MONTH
        response = r["best_response"] if isinstance(r["best_response"], str) else None
        ax.barh(r["row"], end, left=0, height=0.6, color=RESPONSE_COLOURS.get(response), alpha=0.85)
        if pd.notna(r.get("stop_day")):
            ax.plot([r["stop_day"] / DAYS_PER_MONTH], [r["row"]], marker="|", color="black", markersize=8)
        if pd.notna(r["progression_day"]):
            ax.plot(
                r["progression_day"] / DAYS_PER_MONTH,
                r["row"],
                marker="v",
                color="black",
                markersize=5,
                linestyle="none",
            )
        if bool(r["death"]):
            ax.plot(end, r["row"], marker="x", color="black", markersize=5)
        else:
            ax.annotate(
                "",
                xy=(end + 1.5, r["row"]),
                xytext=(end, r["row"]),
                arrowprops={"arrowstyle": "->", "color": "#555555", "lw": 0.8},
            )
    for kind, (marker, colour) in SWIMMER_EVENTS.items():
        e = events[events["kind"] == kind]
        ax.plot(
            e["day"] / DAYS_PER_MONTH,
            e["row"],
            marker=marker,
            color=colour,
            markeredgecolor="black",
            markeredgewidth=0.5,
            linestyle="none",
            markersize=8 if marker == "*" else 5,
        )
    handles = [
        Line2D(
            [],
            [],
            marker=marker,
            color=colour,
            markeredgecolor="black",
            markeredgewidth=0.5,
            linestyle="none",
            markersize=8 if marker == "*" else 5,
            label=kind,
        )
        for kind, (marker, colour) in SWIMMER_EVENTS.items()
    ]
    handles += [
        Line2D([], [], marker=m, color="black", linestyle="none", label=label)
        for m, label in (("v", "progression"), ("x", "death"), ("|", "last ICB dose"))
    ]
    handles += [
        Patch(color=colour, label=f"best response {resp}")
        for resp, colour in RESPONSE_COLOURS.items()
        if resp is not None
    ]
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(
        lanes["row"],
        [f"{r} · {t}" for r, t in zip(lanes["row"], lanes["cancer_type"], strict=True)],
        fontsize=SMALL_FONT_SIZE,
    )
    ax.set_xlabel("months from the start of the index ICB course (negative = before)")
    ax.set_title("Swimmer plot of a random subset of patients\n(rows are numbered, not identified)")
    # under the x label, whatever the number of lanes: anchored 36 points below the axes
    below = offset_copy(ax.transAxes, fig=fig, y=-36, units="points")
    ax.legend(handles=handles, ncol=4, loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=below)
    fig.tight_layout()
    return fig
