"""Sentences of chapter 4 (acquired LoF); the numbers come from :mod:`helpers.analysis.lof`.

The one sentence that says what a cohort lacks is the result's own ``missing``; the sentences
here describe a result that ran. None of them prints a count of patients, so none needs small
counts suppressed.
"""

from __future__ import annotations

from helpers.analysis.lof import (
    COMPARISON_LABELS,
    PAIRED_COMPARISONS,
    SECONDARY_COMPARISON,
    AcquiredLofResult,
    found_table,
    paired_table,
)
from helpers.errors import InputError

__all__ = [
    "parameters_sentence",
    "skipped_sentences",
    "found_sentence",
    "secondary_caption",
    "paired_caption",
]


def parameters_sentence(result: AcquiredLofResult) -> str:
    """The settings the chapter ran with."""
    return (
        f"benefit window {result.benefit_months:g} months, minimum exposure "
        f"{result.min_exposure_weeks:g} weeks, at least {result.min_carriers} carriers per tested "
        f"gene, FDR {result.fdr:g}"
    )


def skipped_sentences(result: AcquiredLofResult) -> list[str]:
    """One sentence per cancer type and comparison that could not be run (none when all ran)."""
    return [
        f"{row.cancer_type}: {COMPARISON_LABELS[row.comparison]} not run ({row.reason})."
        for row in result.skipped.itertuples(index=False)
    ]


def found_sentence(result: AcquiredLofResult, simulated: bool) -> str:
    """How many gene-by-cancer-type pairs pass the FDR, or that none does (the best follow).

    Parameters
    ----------
    result
        An analysis that ran.
    simulated
        Whether the cohort is simulated (the sentence says which kind of data it counts).
    """
    n_found = len(result.found())
    if n_found:
        kind = "simulated" if simulated else "real"
        return f"{n_found} gene-by-cancer-type pairs pass the FDR of {result.fdr:g} in this cohort ({kind} data)."
    return f"No gene passes the FDR of {result.fdr:g} in this cohort; the genes with the smallest p-values follow."


def secondary_caption(result: AcquiredLofResult) -> str:
    """Caption of the secondary comparison's table: empty, or why the table has no rows."""
    if len(found_table(result, SECONDARY_COMPARISON, rows="top", n=1)):
        return ""
    return "No gene had enough LoF carriers to be compared between acquired and primary resistance after progression."


def paired_caption(result: AcquiredLofResult, comparison: str) -> str:
    """Caption of a paired comparison's table: its name, and why it has no rows when it has none."""
    if comparison not in PAIRED_COMPARISONS:
        raise InputError(
            f"paired_caption: comparison must be one of {list(PAIRED_COMPARISONS)}, got {comparison!r}"
        )
    label = COMPARISON_LABELS[comparison]
    if len(paired_table(result, comparison, rows="top", n=1)):
        return label
    return f"{label}: no gene had {result.min_carriers} or more pairs carrying a LoF."
