"""Sentences of chapter 2 (resistance classes); the numbers come from :mod:`helpers.analysis.resistance`."""

from __future__ import annotations

from helpers.analysis.resistance import ResistanceClasses

__all__ = ["parameters_sentence", "transitions_caption"]


def parameters_sentence(classes: ResistanceClasses) -> str:
    """The parameters of the classes and, where the source limits them, how."""
    text = (
        f"benefit window {classes.benefit_months:g} months, minimum exposure "
        f"{classes.min_exposure_weeks:g} weeks"
    )
    if classes.limitation:
        text += f" ({classes.limitation})"
    return text


def transitions_caption(classes: ResistanceClasses, other_months: float) -> str:
    """Caption of the cross-table of classes from the chapter's window to ``other_months``."""
    return f"Rows: window {classes.benefit_months:g} months; columns: {other_months:g} months"
