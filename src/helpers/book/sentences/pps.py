"""Sentences of chapter 3 (survival after progression); the numbers come from :mod:`helpers.analysis.pps`.

Every function that prints a count takes ``count`` (default ``str``): pass
:func:`helpers.book.privacy.count_label` so that small counts of restricted cohorts are suppressed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from helpers.analysis.pps import (
    COVARIATE_LABELS,
    COVARIATE_SHORT,
    LANDMARK_GROUPS,
    AdjustedCox,
    PPSResult,
)
from helpers.errors import InputError
from helpers.units import DAYS_PER_MONTH

__all__ = [
    "parameters_sentence",
    "covariate_sentence",
    "planted_sentence",
    "pooled_model_text",
    "skipped_sentence",
    "ph_sentence",
    "landmark_sentence",
    "immortal_time_sentence",
]

_NO_PROGRESSION, _PROGRESSED = LANDMARK_GROUPS


def _hr_text(row: Mapping[str, Any]) -> str:
    return f"{row['hr']:.2f} (95% CI {row['ci_low']:.2f}–{row['ci_high']:.2f})"


def parameters_sentence(result: PPSResult) -> str:
    """The class definitions the chapter ran with."""
    return (
        f"benefit window {result.benefit_months:g} months; "
        f"minimum exposure {result.min_exposure_weeks:g} weeks"
    )


def covariate_sentence(fit: AdjustedCox, count: Callable[[int], str] = str) -> str:
    """Which covariates the model used, which it dropped and what complete cases cost.

    Parameters
    ----------
    fit : helpers.analysis.pps.AdjustedCox
        The fitted model.
    count : callable, default str
        Formats a count (pass :func:`helpers.book.privacy.count_label` to suppress small counts
        of restricted cohorts).
    """
    used = [COVARIATE_LABELS.get(c, c) for c in fit.covariates]
    text = "Adjusted for " + ", ".join(used) if used else "Not adjusted for any covariate"
    strata = f"stratified by {fit.strata.replace('_', ' ')}" if fit.strata else "unstratified"
    text += f" ({strata})."
    not_recorded = [
        COVARIATE_LABELS.get(c, c) for c, why in fit.dropped.items() if why.startswith("not recorded")
    ]
    constant = [
        COVARIATE_LABELS.get(c, c) for c, why in fit.dropped.items() if not why.startswith("not recorded")
    ]
    if not_recorded:
        text += " Not recorded in this cohort, so left out: " + ", ".join(not_recorded) + "."
    if constant:
        text += " No variation in the analysis set, so left out: " + ", ".join(constant) + "."
    lost = fit.n_input - fit.n_used
    if lost:
        parts = [
            f"{COVARIATE_SHORT.get(c, c)} missing for {count(n)}"
            for c, n in fit.missing_by_covariate.items()
            if n
        ]
        text += (
            f" Complete-case analysis: {count(lost)} of {count(fit.n_input)} patients lack "
            f"a covariate and are left out ({'; '.join(parts)}); {count(fit.n_used)} "
            f"patients and {count(fit.events)} deaths remain."
        )
    else:
        text += f" All {count(fit.n_used)} patients ({count(fit.events)} deaths) have every covariate."
    return text


def planted_sentence(fit: AdjustedCox, planted_hr: float) -> str:
    """Whether the pooled estimate's 95% CI covers the hazard ratio planted in a simulation."""
    hr = fit.exposure_hr()
    covered = hr["ci_low"] <= planted_hr <= hr["ci_high"]
    return (
        f"Simulated cohort: the planted hazard ratio is {planted_hr:g}; the estimate is "
        f"{_hr_text(hr)}, whose confidence interval "
        f"{'covers' if covered else 'does NOT cover'} it."
    )


def pooled_model_text(result: PPSResult, count: Callable[[int], str] = str) -> str:
    """What the primary model adjusts for and, for a simulated cohort, whether it finds the truth.

    One sentence per line: :func:`covariate_sentence`, then :func:`planted_sentence` where the
    cohort has a planted hazard ratio.
    """
    lines = [covariate_sentence(result.pooled, count=count)]
    if result.planted_hr is not None:
        lines.append(planted_sentence(result.pooled, result.planted_hr))
    return "\n".join(lines)


def skipped_sentence(per_type: pd.DataFrame) -> str:
    """One sentence naming the cancer types without an estimate, and why.

    ``per_type`` is :attr:`PPSResult.per_cancer_type` (from ``per_cancer_type_pps``).
    """
    skipped = per_type[per_type["status"] != "estimated"]
    if len(skipped) == 0:
        return "Every cancer type has enough deaths in both classes for an estimate."
    parts = [
        f"{status.removeprefix('not estimated: ')}: {', '.join(map(str, group['cancer_type']))}"
        for status, group in skipped.groupby("status", sort=True)
    ]
    return "Not estimated (" + "; ".join(parts) + ")."


def ph_sentence(table: pd.DataFrame, alpha: float = 0.05) -> str:
    """One sentence saying what the proportional-hazards test (``ph_table``) shows."""
    flagged = table[table["p"] < alpha]
    exposure = table.iloc[0]
    first = f"For the class term the test gives p = {exposure['p']:.2g}: " + (
        "no evidence that its hazard ratio changes over time after progression"
        if exposure["p"] >= alpha
        else "the hazard ratio of acquired vs primary resistance changes over time after "
        "progression, so the pooled hazard ratio is an average over follow-up"
    )
    if len(flagged) == 0:
        return first + f"; no term has p < {alpha:g}."
    names = ", ".join(flagged["term"])
    return first + f"; terms with p < {alpha:g}: {names}."


def landmark_sentence(landmark_set: pd.DataFrame, count: Callable[[int], str] = str) -> str:
    """Who the landmark analysis keeps and who it leaves out (``landmark_os_set``), as a sentence."""
    info = landmark_set.attrs.get("landmark")
    if not info:
        raise InputError("landmark_sentence: expected the output of helpers.analysis.pps.landmark_os_set")
    months = info["landmark_time"] / DAYS_PER_MONTH
    died = info["n_excluded_events_by_landmark"]
    censored = info["n_excluded_ended_by_landmark"] - died
    groups = landmark_set["group"].value_counts()
    text = (
        f"Of {count(info['n_input'])} patients, {count(died)} died and {count(censored)} "
        f"left follow-up by the landmark at {months:g} months"
    )
    if info.get("n_unknown_survival"):
        text += f" ({count(info['n_unknown_survival'])} more have no known survival)"
    text += (
        f"; {count(info['n_kept'])} were alive and under follow-up then: "
        f"{count(int(groups.get(_PROGRESSED, 0)))} had progressed and "
        f"{count(int(groups.get(_NO_PROGRESSION, 0)))} had not."
    )
    return text


def immortal_time_sentence(table: pd.DataFrame) -> str:
    """What the landmark and the naive hazard ratios of ``immortal_time_table`` show."""
    rows = table.set_index("analysis")
    lm, final, groups = (rows.loc[k] for k in ("landmark", "naive, final classes", "naive, landmark groups"))
    text = (
        f"Landmark analysis (free of immortal time): HR {_hr_text(lm)} for patients without "
        f"progression by the landmark. The same two groups analysed naively from ICB "
        f"start give HR {_hr_text(groups)}"
    )
    if groups["ci_high"] < lm["ci_low"]:
        text += (
            ", a larger apparent benefit: the immortal-time bias, since every early death "
            "is counted against the comparison group."
        )
    elif groups["hr"] < lm["hr"]:
        text += ", a somewhat larger apparent benefit (the confidence intervals overlap)."
    else:
        text += ", no larger than the landmark estimate here."
    text += f" The naive comparison of the final classes gives HR {_hr_text(final)}"
    if final["ci_high"] < lm["ci_low"]:
        text += ", a larger apparent benefit than the landmark analysis."
    elif final["ci_low"] > lm["ci_high"]:
        text += ", a smaller apparent benefit than the landmark analysis."
    else:
        text += (
            ", close to the landmark estimate; the two compare different groups (the "
            "landmark's no-progression group also holds patients who never progress), so "
            "the similarity does not make the naive number valid."
        )
    return text
