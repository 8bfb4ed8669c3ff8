"""Sentences and the banner of chapter 7 (validation on real patients).

The numbers come from :mod:`helpers.analysis.validation`. Counts of the public cohorts are
published already, so they are never suppressed; the run's own cohort is described without
counts.
"""

from __future__ import annotations

import html
from pathlib import Path

from helpers.analysis.validation import FactsCheck
from helpers.data.cohort import Cohort

__all__ = ["banner_html", "run_cohort_sentence", "facts_sentence"]


def banner_html(public_dir: Path | None, cohort: Cohort) -> str:
    """The note at the top of chapter 7: which sections show the run's cohort, which real data.

    Parameters
    ----------
    public_dir
        The folder of public cohorts, or None if it was not found (the note then says that
        those sections are empty).
    cohort
        The cohort of this run.
    """
    name = html.escape(cohort.name)
    if cohort.simulated:
        title = "Simulated data and real published cohorts"
        first = (
            f"The first section describes the cohort of this run, <b>{name}</b>, which is <b>simulated</b>."
        )
        kind = "warning"
    else:
        title = "Real cohort and real published cohorts"
        first = (
            f"The first section describes the cohort of this run, <b>{name}</b> "
            f"(access: {html.escape(cohort.access)})."
        )
        kind = "note"
    where = (
        " The folder of public cohorts was not found, so those sections are empty."
        if public_dir is None
        else ""
    )
    return (
        f"<div class='admonition {kind}'><p class='admonition-title'>{title}</p><p>{first} "
        "Every other section applies the book's methods to <b>real patients</b> of "
        "published immunotherapy cohorts: open, de-identified data whose counts are "
        f"published, so they are shown unsuppressed.{where}</p></div>"
    )


def run_cohort_sentence(cohort: Cohort) -> str:
    """One sentence on the cohort of this run (simulated, or imported with how many repairs)."""
    if cohort.simulated:
        return (
            f"This run's cohort, {cohort.name}, is simulated: it has every table the book "
            "needs and no import repairs."
        )
    n_rep = len(cohort.meta.get("repairs") or [])
    return (
        f"This run's cohort, {cohort.name}, is a real cohort (access: {cohort.access}) "
        f"imported from {cohort.meta.get('source', 'an unknown source')}; "
        f"{n_rep} repair rule{'s' if n_rep != 1 else ''} applied at import "
        f"(below), and {cohort.meta.get('pfs_death_rule', 'no PFS death rule recorded')}."
    )


def facts_sentence(facts: FactsCheck) -> str:
    """How many facts of FACTS.md agree (empty when no public cohort was loaded)."""
    if facts.n_facts == 0:
        return ""
    n_fail = facts.n_failed
    agreed = f"{facts.n_facts - n_fail} of {facts.n_facts} facts agree"
    return agreed + ("." if n_fail == 0 else f"; {n_fail} do not (see the table).")
