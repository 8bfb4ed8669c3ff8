"""Figures on the page: shown once, marked as simulated where the cohort is.

This is the one place that adds the "simulated data" mark: figure functions in
:mod:`helpers.plots` know nothing of where their data came from.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from IPython.display import display

from helpers.book.session import _state
from helpers.data.cohort import Cohort

#: The mark on every figure drawn from a simulated cohort.
SIMULATED_MARK = "simulated data"


def mark_simulated(fig: plt.Figure) -> plt.Figure:
    """Add the "simulated data" mark to ``fig`` (once) when the chapter's cohort is simulated.

    Figures shown inside :func:`helpers.book.privacy.open_published_data` draw open published
    cohorts (real patients, chapter 7), not the chapter's cohort: they are never marked.
    """
    cohort = _state["cohort"]
    if isinstance(cohort, Cohort) and cohort.simulated and not _state.get("open_published"):
        if not any(text.get_text() == SIMULATED_MARK for text in fig.texts):
            fig.text(
                0.995,
                0.005,
                SIMULATED_MARK,
                ha="right",
                va="bottom",
                fontsize=8,
                color="#7f8c8d",
                style="italic",
            )
    return fig


def show(fig) -> None:
    """Display a matplotlib figure exactly once and release it.

    Closing the figure keeps the inline backend from showing it a second time, so the stored
    outputs are the same under papermill and under nbval re-execution.
    """
    display(mark_simulated(fig))
    plt.close(fig)
