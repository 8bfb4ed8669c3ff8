"""The sentences chapter 6 (radiotherapy salvage) prints; the numbers come from its result objects."""

from __future__ import annotations

import math

import pandas as pd

from helpers.analysis.radiotherapy import (
    MIN_STUDIES_TO_POOL,
    LiteratureResult,
    RTCohortResult,
    RTSensitivityResult,
    analysis_label,
)
from helpers.book.privacy import count_label

__all__ = [
    "literature_statement",
    "sensitivity_notes",
    "sensitivity_statement",
    "settings_sentence",
    "survival_notes",
]

_SETTING_PHRASES = {
    "salvage_after_icb_failure": "given as salvage after ICB failure",
    "rt_with_icb_naive": "given with ICB to ICB-naive patients",
}


def settings_sentence(
    alpha_beta: float, landmark_months: float, benefit_months: float, rt_lag_months: float | None = None
) -> str:
    """The chapter's parameters, in one line."""
    lag = "" if rt_lag_months is None else f"; RT exposure lag {rt_lag_months:g} month(s)"
    return (
        f"alpha/beta {alpha_beta:g} Gy; landmark {landmark_months:g} months after progression; "
        f"resistance classes with a benefit window of {benefit_months:g} months{lag}"
    )


def _hr(row: pd.Series) -> str:
    return f"{row['hr']:.2f} (95% CI {row['ci_low']:.2f}–{row['ci_high']:.2f})"


def sensitivity_statement(result: RTSensitivityResult) -> str:
    """What the sensitivity analyses say about the RT estimate, one sentence per line.

    The E-values of the primary estimate, each warning rule with its value (fires, does not
    fire, or cannot be evaluated and why), the estimate with time-updated performance status
    where the cohort records it, and what the reader should conclude.

    Parameters
    ----------
    result : RTSensitivityResult
        :func:`helpers.analysis.radiotherapy.rt_sensitivity_analysis` (``cohort_analysis(...)
        .sensitivity``).
    """
    if not result.available:
        return str(result.missing)
    estimates = result.estimates.set_index("analysis")
    primary = estimates.loc["primary"]
    ev = result.evalues.iloc[0]
    conversion = (
        "death is rare here, so the hazard ratio is read as a risk ratio"
        if result.rare
        else (
            f"death is common ({100 * result.death_share:.0f}% of the patients analysed died), so "
            f"the hazard ratio is converted to a risk ratio of {ev['rr']:.2f}"
        )
    )
    limit = (
        "its interval already includes 1 (E-value of the limit 1)"
        if ev["covers_1"]
        else f"a risk ratio of {ev['evalue_limit']:.2f} each would move its interval to include 1"
    )
    lines = [
        f"The primary hazard ratio of RT is {_hr(primary)}; {conversion}. An unmeasured confounder "
        f"would need a risk ratio of {ev['evalue']:.2f} with both RT and death, beyond the measured "
        f"covariates, to explain the estimate away (E-value), and {limit}."
    ]
    evaluable = 0
    for _key, rule in result.rules.iterrows():
        value = rule["value"]
        shown = "" if value is None or (isinstance(value, float) and math.isnan(value)) else f" ({value:.2f})"
        if rule["fires"] is None:
            lines.append(f"Not evaluated — {rule['rule']}: {rule['reason']}.")
            continue
        evaluable += 1
        if rule["fires"]:
            lines.append(f"WARNING — {rule['rule']}{shown}: {rule['reading']}.")
        else:
            lines.append(f"No warning — not met: {rule['rule']}{shown}.")
    for key in ("early_window", "prior_rt"):
        if key in estimates.index and not math.isnan(estimates.loc[key, "hr"]):
            label = analysis_label(key, result.lag_months)
            lines.append(f"{label[0].upper()}{label[1:]}: hazard ratio {_hr(estimates.loc[key])}.")
    if "time_updated_ps" in estimates.index and not math.isnan(estimates.loc["time_updated_ps", "hr"]):
        lines.append(
            "With performance status updated over time (the last ECOG assessment at each time), the "
            f"hazard ratio of RT is {_hr(estimates.loc['time_updated_ps'])}: it adjusts for the "
            "performance status at the time RT is decided, which the baseline model cannot."
        )
    fired = len(result.fired)
    if fired:
        lines.append(
            f"{fired} of {evaluable} evaluable warning rule(s) fire: the hazard ratio of RT should not "
            "be read as an effect of RT; confounding by indication at progression can explain it."
        )
    else:
        lines.append(
            f"None of the {evaluable} evaluable warning rules fires. This does not rule out confounding "
            "by what the cohort does not record (symptoms, tumour burden, performance status at "
            "progression where it is not recorded)."
        )
    return "\n".join(lines)


def sensitivity_notes(result: RTSensitivityResult) -> str:
    """What the sensitivity models left out or could not fit, one sentence per line."""
    return "\n".join(result.notes)


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
