"""Sentences of chapter 6 (radiotherapy salvage); the numbers come from its result objects.

:func:`glue_results` glues every number and phrase the chapter's prose quotes; the other
functions build sentences from the results (counts pass
:func:`helpers.book.privacy.count_label`, so that small counts of restricted cohorts are
suppressed).
"""

from __future__ import annotations

import math

import pandas as pd

from helpers.analysis.radiotherapy import (
    COMMON_OUTCOME_SHARE,
    MIN_STUDIES_TO_POOL,
    NO_RT_AFTER_PROGRESSION,
    NO_RT_TABLE,
    RT_TIMINGS,
    LiteratureResult,
    RTCohortResult,
    RTSensitivityResult,
    analysis_label,
    eqd2_group_labels,
)
from helpers.book import glue
from helpers.book.privacy import count_label

__all__ = [
    "cohort_notes",
    "cohort_status",
    "evalue_scale",
    "glue_results",
    "literature_pooling",
    "literature_statement",
    "rules_not_evaluated",
    "sensitivity_notes",
    "sensitivity_statement",
    "sensitivity_verdict",
    "settings_sentence",
]

_SETTING_PHRASES = {
    "salvage_after_icb_failure": "given as salvage after ICB failure",
    "rt_with_icb_naive": "given with ICB to ICB-naive patients",
}


def _months(months: float) -> str:
    return f"{months:g} month" + ("" if months == 1 else "s")


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def settings_sentence(
    alpha_beta: float, landmark_months: float, benefit_months: float, rt_lag_months: float | None = None
) -> str:
    """The chapter's parameters, in one line."""
    lag = "" if rt_lag_months is None else f"; RT exposure lag {_months(rt_lag_months)}"
    return (
        f"α/β {alpha_beta:g} Gy; landmark {_months(landmark_months)} after progression; "
        f"resistance classes with a benefit window of {_months(benefit_months)}{lag}"
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


def _sentence(note: str) -> str:
    """A note of the analysis (which starts with a model's label) as a sentence."""
    return note[:1].upper() + note[1:]


def sensitivity_notes(result: RTSensitivityResult) -> str:
    """What the sensitivity models left out or could not fit, as sentences."""
    return " ".join(_sentence(note) for note in result.notes)


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


# --------------------------------------------------------------------------------------------
# the numbers chapter 6's prose quotes
# --------------------------------------------------------------------------------------------

#: The rows of ``rt_survival_estimates`` the prose quotes, by their ``bias`` column -> key.
_SURVIVAL_ROWS = {
    "biased: immortal time and confounding": "naive",
    "biased: immortal time": "baseline_adjusted",
    "biased: confounding": "tv_unadjusted",
    "corrects both (for the observed confounders)": "primary",
    "sensitivity: complete cases": "tmb",
    "check: dilutes towards 1": "landmark",
}
_PRIMARY_BIAS = "corrects both (for the observed confounders)"

#: The sensitivity estimates the prose quotes (``analysis`` key -> glue key).
_SENSITIVITY_ROWS = {
    "lagged": "lagged",
    "early_window": "early_window",
    "prior_rt": "prior_rt",
    "time_updated_ps": "time_updated_ps",
}

#: Short names of the warning rules (:data:`helpers.analysis.radiotherapy.RULES`) in the prose.
_RULE_NAMES = {
    "evalue": "the E-value of the confidence limit nearer 1",
    "lag": "the lagged exposure",
    "early_window": "the negative-control period",
    "prior_rt": "the negative-control exposure",
    "time_updated_ps": "time-updated ECOG",
}

#: What the prose says of a count of a part the cohort cannot analyse.
_NOT_ANALYSED = "not analysed"

#: Why part (b) has nothing to analyse, as the Key results and part (b) say it.
_COHORT_STATUS = {
    NO_RT_TABLE: (
        "This cohort has no radiotherapy table, so part (b) has nothing to analyse; part (a) does "
        "not depend on the cohort."
    ),
    NO_RT_AFTER_PROGRESSION: (
        "This cohort has no RT course after progression, so part (b) has nothing to analyse; "
        "part (a) does not depend on the cohort."
    ),
}

#: Why the survival models are not fitted, as the end of a sentence.
_WHY_NOT_FITTED = {
    NO_RT_TABLE: "this cohort has no radiotherapy table",
    NO_RT_AFTER_PROGRESSION: "this cohort has no RT course after progression",
}

_LITERATURE_SETTINGS = {"salvage_after_icb_failure": "salvage", "rt_with_icb_naive": "naive"}


def cohort_status(result: RTCohortResult) -> str:
    """Why part (b), or its survival analysis, has nothing to show; empty when it has."""
    if result.missing:
        return _COHORT_STATUS.get(result.missing, result.missing)
    return result.survival.missing or ""


def literature_pooling(result: LiteratureResult) -> str:
    """The end of the sentence on pooling: what is pooled, given the largest subgroup."""
    pooled = result.pooled
    n_pooled = int((pooled["status"] == "pooled").sum()) if len(pooled) else 0
    if n_pooled == 0:
        return "so nothing is pooled and every study is shown on its own"
    verb = "is" if n_pooled == 1 else "are"
    return f"so {n_pooled} subgroup{'' if n_pooled == 1 else 's'} {verb} pooled (the diamonds of the figure)"


def cohort_notes(result: RTCohortResult) -> str:
    """Who the survival analysis leaves out and what its models drop, as sentences.

    The reason the RT effect is not estimated is left out: :func:`cohort_status` says it.
    Where part (b) has nothing to analyse, why the models are not fitted.
    """
    if result.missing:
        return f"These models are not fitted: {_WHY_NOT_FITTED.get(result.missing, result.missing)}."
    n = result.excluded_no_followup
    lines = [
        "Every progressed patient has follow-up after progression."
        if n == 0
        else f"{count_label(n)} progressed patient(s) without follow-up after progression are left out."
    ]
    lines += [_sentence(note) for note in result.survival.notes if note != result.survival.missing]
    return " ".join(lines)


def sensitivity_verdict(result: RTSensitivityResult) -> str:
    """What the warning rules say about the RT hazard ratio (no number of its own).

    Where the primary interval includes 1 there is no effect to explain away (the E-value rule
    then fires by construction); a negative control that fires still says that the patients
    given RT differ from the others.
    """
    if not result.available:
        return "The sensitivity analyses need an estimate of the RT effect, which this cohort does not give."
    fired = result.fired
    no_effect = not result.evalues.empty and bool(result.evalues.iloc[0]["covers_1"])
    if no_effect:
        others = [key for key in fired if key != "evalue"]
        text = (
            "The interval of the primary hazard ratio already includes 1: this cohort shows no effect "
            "of RT for confounding to explain"
        )
        if others:
            verb = "says" if len(others) == 1 else "say"
            text += (
                f"; {_and([_RULE_NAMES[key] for key in others])} still {verb} that the patients given RT "
                "differ from the others in ways the model does not adjust for"
            )
        return text + "."
    if not fired:
        return (
            "None fires. This does not rule out confounding by what the cohort does not record "
            "(symptoms, tumour burden, performance status at progression where it is not recorded)."
        )
    names = _and([_RULE_NAMES[key] for key in fired])
    subject = "The rule that fires" if len(fired) == 1 else "The rules that fire"
    verb = "says" if len(fired) == 1 else "say"
    return (
        f"{subject} ({names}) {verb} that the hazard ratio of RT should not be read as an effect of "
        "RT: confounding by indication at progression can explain it."
    )


def rules_not_evaluated(result: RTSensitivityResult) -> str:
    """The warning rules this cohort cannot evaluate, and why; empty when it evaluates all."""
    if not result.available or result.rules.empty:
        return ""
    skipped = result.rules[result.rules["fires"].isna()]
    if skipped.empty:
        return ""
    reasons = [
        f"{_RULE_NAMES[key]} ({str(reason).replace(' (see the notes)', '').replace(': there', ', so there')})"
        for key, reason in zip(skipped.index, skipped["reason"], strict=True)
    ]
    return f"Not evaluable here: {'; '.join(reasons)}."


def evalue_scale(result: RTSensitivityResult) -> str:
    """How the E-values treat death: a common outcome (converted to a risk ratio) or a rare one."""
    if not result.available:
        return "no E-value is computed"
    share = f"{100 * COMMON_OUTCOME_SHARE:.0f} %"
    if result.rare:
        return f"death is rare (below {share}), so the E-values read the hazard ratio as a risk ratio"
    return (
        f"death is common ({share} or more), so the E-values convert the hazard ratio to a risk ratio first"
    )


def glue_results(literature: LiteratureResult, result: RTCohortResult, benefit_months: float) -> None:
    """Glue the numbers and phrases that chapter 6's prose quotes.

    Call it once, after the chapter's tables are published: counts, E-values and response rates
    are read from the published tables (suppressed where the cohort is restricted); hazard
    ratios with their intervals, the literature's summary numbers and the parameters are glued
    as key numbers. Where part (b) has nothing to analyse, its counts say "not analysed", its
    estimates "not estimable", and :func:`cohort_status` says why.

    Parameters
    ----------
    literature : LiteratureResult
        :func:`helpers.analysis.radiotherapy.literature_analysis` (part (a)).
    result : RTCohortResult
        :func:`helpers.analysis.radiotherapy.cohort_analysis` (part (b)).
    benefit_months : float
        The benefit window of the resistance classes (a parameter of the chapter).
    """
    # the parameters
    glue.phrase(
        "ch6_parameters",
        settings_sentence(result.alpha_beta, result.landmark_months, benefit_months, result.rt_lag_months),
    )
    glue.value("ch6_alpha_beta", result.alpha_beta, "g", what="alpha/beta ratio (Gy) of BED and EQD2")
    glue.phrase("ch6_landmark", _months(result.landmark_months))
    glue.phrase("ch6_lag", _months(result.rt_lag_months))

    # (a) the literature: published studies, never suppressed
    responses, pooled = literature.responses, literature.pooled
    rt_arms = responses[responses["shown"] & (responses["arm_role"] == "rt")] if len(responses) else responses
    glue.value(
        "ch6_lit_rt_arms", len(rt_arms), "d", what="RT arms of the literature with a patient-level response"
    )
    glue.value(
        "ch6_lit_rt_arms_counts",
        int(rt_arms["events"].notna().sum()) if len(rt_arms) else 0,
        "d",
        what="RT arms of the literature with response counts",
    )
    glue.value(
        "ch6_lit_largest_k",
        int(pooled["k"].max()) if len(pooled) else 0,
        "d",
        what="studies in the largest comparable subgroup of the literature",
    )
    glue.phrase("ch6_lit_pooling", literature_pooling(literature))
    for setting, short in _LITERATURE_SETTINGS.items():
        arms = rt_arms[rt_arms["setting"] == setting] if len(rt_arms) else rt_arms
        orr = 100 * arms["orr"] if len(arms) else pd.Series(dtype=float)
        what = f"RT arms of the literature {_SETTING_PHRASES[setting]}"
        glue.value(f"ch6_lit_{short}_arms", len(arms), "d", what=what)
        glue.value(
            f"ch6_lit_{short}_orr_min", orr.min() if len(orr) else None, ".0f", what=f"lowest ORR (%), {what}"
        )
        glue.value(
            f"ch6_lit_{short}_orr_max",
            orr.max() if len(orr) else None,
            ".0f",
            what=f"highest ORR (%), {what}",
        )

    # (b) the cohort: RT courses
    glue.phrase("ch6_cohort_status", cohort_status(result))
    post = RT_TIMINGS[2]
    if result.available:
        glue.cell("ch6_courses_after", "rt_course_timing", post, "courses", ",d")
        glue.cell("ch6_patients_after", "rt_course_timing", post, "patients", ",d")
        glue.cell("ch6_courses_before", "rt_course_timing", RT_TIMINGS[0], "courses", ",d")
    else:
        glue.phrase("ch6_courses_after", "none recorded")
        glue.phrase("ch6_patients_after", "none")
        if result.courses.empty:
            glue.phrase("ch6_courses_before", "none recorded")
        else:
            before = int((result.courses["timing"] == RT_TIMINGS[0]).sum())
            glue.count("ch6_courses_before", before, what="RT courses before the index ICB course")
    glue.cell("ch6_eqd2_median", "rt_modality_doses", "all", "EQD2 median (Gy)", ".1f")

    # survival after progression
    estimates = result.survival.estimates
    by_bias = estimates.set_index("bias") if len(estimates) else pd.DataFrame()
    primary = {"bias": _PRIMARY_BIAS}
    for key, column in (("patients", "n_patients"), ("exposed", "n_exposed"), ("deaths", "n_events")):
        if result.available:
            glue.cell(f"ch6_surv_{key}", "rt_survival_estimates", primary, column, ",d")
        else:
            glue.phrase(f"ch6_surv_{key}", _NOT_ANALYSED)
    for bias, key in _SURVIVAL_ROWS.items():
        row = by_bias.loc[bias] if bias in by_bias.index else pd.Series(dtype=float)
        glue.interval(
            f"ch6_hr_{key}",
            row.get("hr"),
            row.get("ci_low"),
            row.get("ci_high"),
            what=f"hazard ratio of death for RT after progression, {key.replace('_', ' ')} model",
        )
    if result.planted_hr is None:
        glue.phrase("ch6_planted_hr", "none (not a simulated cohort)")
    else:
        glue.value(
            "ch6_planted_hr", result.planted_hr, "g", what="hazard ratio of RT planted in the simulation"
        )
    glue.phrase("ch6_survival_notes", cohort_notes(result))

    # sensitivity analyses
    sensitivity = result.sensitivity
    primary_label = {"model": analysis_label("primary", sensitivity.lag_months)}
    glue.cell("ch6_evalue", "rt_evalues", primary_label, "evalue", ".2f")
    glue.cell("ch6_evalue_limit", "rt_evalues", primary_label, "evalue_limit", ".2f")
    sens = sensitivity.estimates.set_index("analysis") if len(sensitivity.estimates) else pd.DataFrame()
    if sensitivity.available:
        row = sens.loc["primary"]
        glue.share(
            "ch6_death_pct",
            int(row["n_events"]),
            int(row["n_patients"]),
            what="patients of the sensitivity analyses who died, %",
        )
    else:
        glue.phrase("ch6_death_pct", _NOT_ANALYSED)
    glue.phrase("ch6_evalue_scale", evalue_scale(sensitivity))
    for analysis, key in _SENSITIVITY_ROWS.items():
        row = sens.loc[analysis] if analysis in sens.index else pd.Series(dtype=float)
        glue.interval(
            f"ch6_hr_{key}",
            row.get("hr"),
            row.get("ci_low"),
            row.get("ci_high"),
            what=f"hazard ratio, sensitivity analysis: {analysis_label(analysis, sensitivity.lag_months)}",
        )
    evaluable = int(sensitivity.rules["fires"].notna().sum()) if len(sensitivity.rules) else 0
    glue.value(
        "ch6_rules_fired",
        len(sensitivity.fired),
        "d",
        what="warning rules of the sensitivity analyses that fire",
    )
    glue.value("ch6_rules_evaluable", evaluable, "d", what="warning rules this cohort can evaluate")
    glue.phrase("ch6_sensitivity_verdict", sensitivity_verdict(sensitivity))
    glue.phrase("ch6_rules_not_evaluated", rules_not_evaluated(sensitivity))
    glue.phrase("ch6_sensitivity_notes", sensitivity_notes(sensitivity))

    # response by dose
    for group, key in zip(eqd2_group_labels(), ("low", "mid", "high"), strict=True):
        row = {"scope": "in-field", "group": group}
        glue.cell(f"ch6_orr_in_{key}", "rt_response_by_eqd2_group", row, "ORR %", ".1f")
    table = result.response_by_eqd2_group
    out = table[table["scope"] == "out-of-field (abscopal)"] if len(table) else table
    glue.share(
        "ch6_orr_out_all",
        int(out["responses"].sum()) if len(out) else 0,
        int(out["evaluable"].sum()) if len(out) else 0,
        what="out-of-field (abscopal) objective response, % of evaluable courses after progression",
    )
    slopes = result.dose_slopes
    for scope in ("in-field", "out-of-field"):
        row = slopes.loc[scope] if scope in slopes.index else pd.Series(dtype=float)
        estimate, low, high = (
            math.exp(10 * float(row[c])) if pd.notna(row.get(c)) else None
            for c in ("slope_per_gy", "ci_low", "ci_high")
        )
        glue.interval(
            f"ch6_or10_{scope.split('-')[0]}",
            estimate,
            low,
            high,
            what=f"odds ratio of {scope} objective response per 10 Gy EQD2 (logistic regression)",
        )
