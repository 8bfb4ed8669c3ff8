"""Sentences of chapter 2 (resistance classes); the numbers come from :mod:`helpers.analysis.resistance`.

Every function that prints a count takes ``count`` (default ``str``): pass
:func:`helpers.book.privacy.count_label` so that small counts of restricted cohorts are suppressed.
"""

from __future__ import annotations

from collections.abc import Callable

from helpers.analysis.resistance import RULE_VARIANTS, ResistanceClasses
from helpers.book import glue
from helpers.book.privacy import count_label

__all__ = ["glue_results", "parameters_sentence", "rule_sensitivity_sentence", "transitions_caption"]

#: The rows of the rule-sensitivity table that the sentence names.
_BASE, *_VARIANTS = RULE_VARIANTS
_PREVIOUS = _VARIANTS[-1]


def parameters_sentence(classes: ResistanceClasses) -> str:
    """The parameters of the classes and, where the source limits them, how."""
    rule = classes.rule
    last_dose = (
        "no limit after the last dose"
        if rule.max_weeks_after_last_dose is None
        else f"progression more than {rule.max_weeks_after_last_dose:g} weeks after the last dose kept apart"
    )
    timing = ", ".join(rule.timing_rule_regimens) or "no regimen"
    text = (
        f"benefit window {classes.benefit_months:g} months, minimum exposure "
        f"{classes.min_exposure_weeks:g} weeks (primary) and {rule.min_acquired_exposure_months:g} months "
        f"(acquired), {last_dose}; {timing} classified by progression timing regardless of best response"
    )
    if classes.limitation:
        text += f" ({classes.limitation})"
    return text


def rule_sensitivity_sentence(classes: ResistanceClasses, count: Callable[[int], str] = str) -> str:
    """How many courses change class with the rules of the December 2026 revision, and how."""
    table = classes.rule_sensitivity
    if table.empty:
        return ""
    base, previous = table.loc[_BASE], table.loc[_PREVIOUS]
    changed = int(previous["changed"])
    if changed == 0:
        return (
            "The rules added in December 2026 (exposure for acquired resistance, the limit after the "
            "last dose, the timing rule for ICB+chemo) change no course of this cohort."
        )
    parts = [
        f"{label}: {count(int(table.loc[label, 'changed']))}"
        for label in _VARIANTS[:-1]
        if table.loc[label, "changed"]
    ]
    return (
        f"Under the rule the book used before December 2026, {count(changed)} of {count(int(base['total']))} "
        f"courses would be in another class (primary {count(int(previous['primary']))} instead of "
        f"{count(int(base['primary']))}, acquired {count(int(previous['acquired']))} instead of "
        f"{count(int(base['acquired']))}). Courses that change when each rule alone is switched off: "
        + "; ".join(parts)
        + "."
    )


def transitions_caption(classes: ResistanceClasses, other_months: float) -> str:
    """Caption of the cross-table of classes from the chapter's window to ``other_months``."""
    return f"Rows: window {classes.benefit_months:g} months; columns: {other_months:g} months"


def _count_text(n: int) -> str:
    """A count for the prose: suppressed like a table cell, with thousands separators."""
    shown = count_label(int(n))
    return f"{int(n):,}" if shown == str(int(n)) else shown


def glue_results(classes: ResistanceClasses) -> None:
    """Glue the numbers that chapter 2's prose quotes (read from its published tables).

    Call it after the chapter's tables are published: the counts come from the tables as shown
    (suppressed where the cohort is restricted), the shares from the same cells.
    """
    glue.phrase("ch2_parameters", parameters_sentence(classes))
    known, courses = classes.stop_days_recorded
    if known == 0:
        glue.phrase("ch2_stop_days", classes.stop_days)
    else:
        glue.count("ch2_stop_days_known", known, what="index courses that record their last dose")
        glue.count("ch2_stop_days_courses", courses, what="index courses")
        share = glue.share(
            "ch2_stop_days_pct", known, courses, what="index courses that record their last dose, %"
        )
        glue.phrase(
            "ch2_stop_days",
            f"{_count_text(known)} of {_count_text(courses)} courses ({share}) record their last dose; "
            "the exposure minimums and the limit after the last dose apply to those only.",
        )
    glue.phrase("ch2_missing", classes.missing or "")
    glue.cell("ch2_courses", "classes_overall", "all", "total", ",d")
    for cls in ("primary", "acquired", "ongoing_benefit", "not_evaluable"):
        glue.cell(f"ch2_{cls}", "classes_overall", "all", cls, ",d")
        glue.cell_share(
            f"ch2_{cls}_pct",
            "classes_overall",
            "all",
            cls,
            "total",
            what=f"{cls.replace('_', ' ')} courses, % of all index courses",
        )
    previous = _PREVIOUS
    glue.cell("ch2_changed_previous", "rule_sensitivity", previous, "changed", ",d")
    for cls in ("primary", "acquired"):
        glue.cell(f"ch2_{cls}_previous", "rule_sensitivity", previous, cls, ",d")
    for i, label in enumerate(_VARIANTS[:-1]):
        glue.cell(f"ch2_changed_variant_{i}", "rule_sensitivity", label, "changed", ",d")
