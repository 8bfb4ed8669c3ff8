"""The sentences chapter 6 (radiotherapy salvage) prints; the numbers come from its result objects."""

from __future__ import annotations

from helpers.analysis.radiotherapy import MIN_STUDIES_TO_POOL, LiteratureResult, RTCohortResult
from helpers.book.privacy import count_label

__all__ = ["literature_statement", "settings_sentence", "survival_notes"]

_SETTING_PHRASES = {
    "salvage_after_icb_failure": "given as salvage after ICB failure",
    "rt_with_icb_naive": "given with ICB to ICB-naive patients",
}


def settings_sentence(alpha_beta: float, landmark_months: float, benefit_months: float) -> str:
    """The chapter's parameters, in one line."""
    return (
        f"alpha/beta {alpha_beta:g} Gy; landmark {landmark_months:g} months after progression; "
        f"resistance classes with a benefit window of {benefit_months:g} months"
    )


def literature_statement(result: LiteratureResult) -> str:
    """What the literature table allows, in plain sentences computed from its tables.

    Parameters
    ----------
    result : LiteratureResult
        From :func:`helpers.analysis.radiotherapy.literature_analysis`.
    """
    responses, pooled = result.responses, result.pooled
    shown = responses[responses["shown"]] if len(responses) else responses
    rt_shown = shown[shown["arm_role"] == "rt"] if len(shown) else shown
    with_counts = int(rt_shown["events"].notna().sum()) if len(rt_shown) else 0
    n_pooled = int((pooled["status"] == "pooled").sum()) if len(pooled) else 0
    largest = int(pooled["k"].max()) if len(pooled) else 0
    text = f"{len(rt_shown)} RT arm(s) report a patient-level response figure, {with_counts} with counts; "
    if n_pooled == 0:
        text += (
            f"no comparable subgroup (same setting and response scope) has the "
            f"{MIN_STUDIES_TO_POOL} studies needed to pool (the largest has {largest}), so "
            "nothing is pooled and every study is shown on its own."
        )
    else:
        text += f"{n_pooled} subgroup(s) have enough comparable studies to be pooled."
    groups = rt_shown.groupby("setting", sort=False) if len(rt_shown) else []
    for setting, group in groups:
        orr = 100 * group["orr"]
        text += (
            f" RT arms {_SETTING_PHRASES.get(setting, setting)} report objective "
            f"responses from {orr.min():.0f}% to {orr.max():.0f}% ({len(group)} arm(s))."
        )
    return text


def survival_notes(result: RTCohortResult) -> str:
    """Who the survival analysis leaves out, what its models drop, and the planted effect.

    One sentence per line: the progressed patients without follow-up after progression, the
    notes of :func:`helpers.analysis.radiotherapy.rt_survival_analysis` (covariates dropped,
    complete cases, models that could not be fitted), and for a simulated cohort the hazard
    ratio it planted. Counts are suppressed for restricted cohorts.
    """
    lines = [
        f"{count_label(result.excluded_no_followup)} progressed patient(s) without follow-up "
        "after progression are left out.",
        *result.survival.notes,
    ]
    if result.planted_hr is not None:
        lines.append(
            f"The simulation planted a hazard ratio of {result.planted_hr:g} for RT after progression "
            "(conditional on the covariates of its survival model)."
        )
    return "\n".join(lines)
