"""The state of a chapter being rendered: its cohort, where its results go, its banner.

Notebooks call :func:`open_cohort` first; it loads the cohort the pipeline passes in, remembers
where the chapter's result files go, and shows whether the data are simulated.
"""

from __future__ import annotations

import html
from pathlib import Path

from IPython.display import HTML, display
from myst_nb import glue

from helpers.data.cohort import Cohort
from helpers.simulate.scenarios import SCENARIOS

#: Where result tables of a chapter are published, relative to a chapter page of the book.
RESULTS_URL_FROM_CHAPTER = "../../results"

#: The chapter being rendered (one per kernel).
_state: dict[str, object] = {"cohort": None, "results_dir": None, "chapter": None, "min_cell_count": 11}


def open_cohort(
    path: str | Path,
    results_dir: str | Path = "",
    chapter: str = "",
    min_cell_count: int = 11,
    show_banner: bool = True,
) -> Cohort:
    """Load the cohort of a chapter, remember where results go, and show the data banner."""
    if not str(path):
        raise ValueError(
            "no cohort given: run the notebook through `icb-book run`, or pass "
            "-p cohort PATH to papermill (a cohort folder; see README)"
        )
    cohort = Cohort.load(path)
    _state.update(
        cohort=cohort,
        results_dir=Path(results_dir) if str(results_dir) else None,
        chapter=chapter,
        min_cell_count=int(min_cell_count),
        published={},
        glued={},
    )
    if show_banner:
        display(HTML(data_banner(cohort)))
    # what the data are, first in the chapter's Key results box (which comes before the banner)
    glue(DATA_KIND_KEY, data_kind(cohort), display=False)
    return cohort


#: The glue key of :func:`data_kind`, quoted first in every chapter's Key results box.
DATA_KIND_KEY = "data_kind"


def data_kind(cohort: Cohort) -> str:
    """One sentence on what the numbers describe: simulated data, or a real cohort and its access."""
    if cohort.simulated:
        return "Simulated data: these numbers test the methods; they are not findings about patients."
    if cohort.access == "restricted":
        return (
            f"A real cohort with restricted access: counts below {_state['min_cell_count']} are suppressed."
        )
    return "A real cohort with open access."


def data_banner(cohort: Cohort) -> str:
    """An HTML note saying what data the page shows (simulated or real, and access level)."""
    name = html.escape(cohort.name)
    if cohort.simulated:
        scenario = (cohort.meta.get("parameters") or {}).get("scenario", "default")
        departure = ""
        if scenario in SCENARIOS and scenario != "default":
            departure = (
                f" It is the scenario <b>{html.escape(scenario)}</b>, built to break an assumption of "
                f"the analyses: {html.escape(SCENARIOS[scenario])}."
            )
        return (
            "<div class='admonition warning'><p class='admonition-title'>Simulated data"
            "</p><p>Every number and figure on this page comes from a <b>simulated</b> "
            f"cohort ({name}) with planted, known effects.{departure} They test the methods; they are "
            "not findings about patients.</p></div>"
        )
    access = html.escape(cohort.access)
    extra = ""
    if cohort.access == "restricted":
        extra = f" Counts below {_state['min_cell_count']} are suppressed in tables and figure labels."
    return (
        "<div class='admonition note'><p class='admonition-title'>Real cohort</p>"
        f"<p>This page shows the real cohort <b>{name}</b> (access: {access}).{extra}"
        "</p></div>"
    )
