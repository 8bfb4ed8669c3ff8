"""Figures shared by the chapters (matplotlib). Each function draws on an Axes it is given or
creates, and returns the Figure, so notebooks stay one line per figure."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers.units import CLASSES, DAYS_PER_MONTH

CLASS_COLOURS = {"primary": "#c0392b", "acquired": "#2471a3", "ongoing_benefit": "#27ae60",
                 "not_evaluable": "#95a5a6"}
RESPONSE_COLOURS = {"CR": "#1e8449", "PR": "#52be80", "SD": "#f4d03f", "PD": "#cb4335",
                    "NE": "#aab7b8", None: "#d5d8dc"}


def setup() -> None:
    """A quiet, readable default style for the book's figures."""
    plt.rcParams.update({
        "figure.dpi": 100, "savefig.dpi": 100, "axes.spines.top": False,
        "axes.spines.right": False, "axes.titleweight": "bold", "font.size": 10,
        "axes.titlesize": 11, "legend.frameon": False,
    })


def simulated_caption(ax: plt.Axes, simulated: bool) -> None:
    """Mark a figure as showing simulated data (every figure of the default book)."""
    if simulated:
        ax.figure.text(0.995, 0.005, "simulated data", ha="right", va="bottom", fontsize=8,
                       color="#7f8c8d", style="italic")


def attrition_plot(table: pd.DataFrame, simulated: bool = True) -> plt.Figure:
    """Horizontal bars of patients per analysis set."""
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(table) + 1))
    y = np.arange(len(table))[::-1]
    ax.barh(y, table["patients"], color="#5d6d7e")
    ax.set_yticks(y, table["analysis set"])
    for yi, v in zip(y, table["patients"]):
        ax.text(v, yi, f" {v}", va="center", fontsize=8)
    ax.set_xlabel("patients")
    ax.set_title("Attrition from all patients to each analysis set")
    simulated_caption(ax, simulated)
    fig.tight_layout()
    return fig


def class_bars(counts: pd.DataFrame, title: str, simulated: bool = True,
               proportions: bool = True) -> plt.Figure:
    """Stacked bars of resistance classes per group (rows of ``counts``)."""
    data = counts[[c for c in CLASSES if c in counts.columns]].astype(float)
    if proportions:
        data = data.div(data.sum(axis=1).replace(0, np.nan), axis=0) * 100
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(data) + 1.4))
    left = np.zeros(len(data))
    y = np.arange(len(data))[::-1]
    for c in data.columns:
        ax.barh(y, data[c], left=left, color=CLASS_COLOURS[c], label=c.replace("_", " "))
        left += data[c].fillna(0).to_numpy()
    ax.set_yticks(y, [str(i) for i in data.index])
    ax.set_xlabel("% of courses" if proportions else "courses")
    ax.set_title(title)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    simulated_caption(ax, simulated)
    fig.tight_layout()
    return fig


def swimmer_plot(lanes: pd.DataFrame, events: pd.DataFrame, simulated: bool = True) -> plt.Figure:
    """Swimmer plot: one lane per patient (numbered, never identified), time in months."""
    fig, ax = plt.subplots(figsize=(9, 0.22 * len(lanes) + 1.8))
    for _, r in lanes.iterrows():
        end = r["last_followup_day"] / DAYS_PER_MONTH
        colour = RESPONSE_COLOURS.get(r["best_response"] if isinstance(r["best_response"], str)
                                      else None)
        ax.barh(r["row"], end, left=0, height=0.6, color=colour, alpha=0.85)
        if pd.notna(r.get("stop_day")):
            ax.plot([r["stop_day"] / DAYS_PER_MONTH], [r["row"]], marker="|", color="black",
                    markersize=8)
        if pd.notna(r["progression_day"]):
            ax.plot(r["progression_day"] / DAYS_PER_MONTH, r["row"], marker="v", color="black",
                    markersize=5, linestyle="none")
        if bool(r["death"]):
            ax.plot(end, r["row"], marker="x", color="black", markersize=5)
        else:
            ax.annotate("", xy=(end + 1.5, r["row"]), xytext=(end, r["row"]),
                        arrowprops={"arrowstyle": "->", "color": "#555555", "lw": 0.8})
    styles = {"pre biopsy": ("o", "#884ea0"), "on biopsy": ("o", "#d68910"),
              "post biopsy": ("D", "#2e4053"), "radiotherapy": ("*", "#e67e22")}
    for kind, (marker, colour) in styles.items():
        e = events[events["kind"] == kind]
        ax.plot(e["day"] / DAYS_PER_MONTH, e["row"], marker=marker, color=colour,
                linestyle="none", markersize=5, label=kind)
    for resp, colour in RESPONSE_COLOURS.items():
        if resp is not None:
            ax.barh([np.nan], [0], color=colour, label=f"best response {resp}")
    ax.plot([], [], marker="v", color="black", linestyle="none", label="progression")
    ax.plot([], [], marker="x", color="black", linestyle="none", label="death")
    ax.plot([], [], marker="|", color="black", linestyle="none", label="last ICB dose")
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(lanes["row"], [f"{r} · {t}" for r, t in zip(lanes["row"], lanes["cancer_type"])],
                  fontsize=7)
    ax.set_xlabel("months from the start of the index ICB course (negative = before)")
    ax.set_title("Swimmer plot of a random subset of patients (rows are numbered, not identified)")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    simulated_caption(ax, simulated)
    fig.tight_layout()
    return fig


def availability_heatmap(table: pd.DataFrame, simulated: bool = True) -> plt.Figure:
    """Share of patients with each kind of sample, by cancer type."""
    cols = [c for c in table.columns if c != "patients"]
    share = table[cols].div(table["patients"], axis=0) * 100
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(share) + 1.6))
    im = ax.imshow(share.to_numpy(float), cmap="Blues", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right")
    ax.set_yticks(range(len(share)), share.index)
    for i in range(share.shape[0]):
        for j in range(share.shape[1]):
            v = share.iat[i, j]
            ax.text(j, i, f"{v:.0f}%", ha="center", va="center", fontsize=7,
                    color="white" if v > 60 else "black")
    fig.colorbar(im, ax=ax, label="% of patients")
    ax.set_title("Availability of tumour samples by cancer type")
    simulated_caption(ax, simulated)
    fig.tight_layout()
    return fig
