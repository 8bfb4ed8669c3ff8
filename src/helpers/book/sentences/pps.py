"""Sentences of chapter 3 (survival after progression); the numbers come from :mod:`helpers.analysis.pps`.

The chapter's page quotes its numbers through :func:`glue_results`, which glues them from the
published tables (after small-count suppression) and the phrases around them from the result.
The sentence functions above it say the same for a reader of a result outside the book; every
one that prints a count takes ``count`` (default ``str``): pass
:func:`helpers.book.privacy.count_label` so that small counts of restricted cohorts are suppressed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from helpers.analysis.pps import (
    CLASS_ORDER,
    COVARIATE_LABELS,
    COVARIATE_SHORT,
    LANDMARK_GROUPS,
    POOLED_RMST,
    AdjustedCox,
    PPSResult,
)
from helpers.book import glue, privacy
from helpers.errors import InputError
from helpers.units import DAYS_PER_MONTH

__all__ = [
    "glue_results",
    "parameters_sentence",
    "covariates_phrase",
    "covariate_sentence",
    "planted_sentence",
    "pooled_model_text",
    "skipped_sentence",
    "ph_sentence",
    "landmark_sentence",
    "immortal_time_sentence",
    "logrank_sentence",
    "interaction_sentence",
    "heterogeneity_sentence",
    "shrinkage_sentence",
    "rmst_sentence",
]

_NO_PROGRESSION, _PROGRESSED = LANDMARK_GROUPS


def _and_list(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _hr_text(row: Mapping[str, Any]) -> str:
    return f"{row['hr']:.2f} (95% CI {row['ci_low']:.2f}–{row['ci_high']:.2f})"


def _p_text(p: float) -> str:
    """A p-value as journals print it."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def parameters_sentence(result: PPSResult) -> str:
    """The class definitions the chapter ran with."""
    return (
        f"benefit window {result.benefit_months:g} months; "
        f"minimum exposure {result.min_exposure_weeks:g} weeks"
    )


def covariates_phrase(fit: AdjustedCox) -> str:
    """Which covariates the model used and which it dropped, and why (no counts)."""
    used = [COVARIATE_LABELS.get(c, c) for c in fit.covariates]
    adjusted = f"adjusted for {_and_list(used)}" if used else "not adjusted for any covariate"
    if fit.strata:
        text = f"The model is stratified by {fit.strata.replace('_', ' ')} and {adjusted}."
    else:
        text = f"The model has no strata and is {adjusted}."
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
    return text


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
    text = covariates_phrase(fit)
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
    unestimated = [name for name, row in rows.iterrows() if pd.isna(row["hr"])]
    if unestimated:
        reasons = "; ".join(f"{name}: {rows.loc[name, 'note']}" for name in unestimated)
        return (
            f"This cohort is too small for {len(unestimated)} of the three comparisons, which are "
            f"not estimated ({reasons})."
        )
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


# --------------------------------------------------------------------------------------------
# the same in every cancer type?
# --------------------------------------------------------------------------------------------


def logrank_sentence(table: pd.DataFrame) -> str:
    """The pooled log-rank tests of ``logrank_table``: unstratified and stratified by cancer type."""
    rows = table.set_index("set")
    pooled = rows.iloc[0]
    stratified = rows.loc["all cancer types (stratified by cancer type)"]
    if not np.isfinite(stratified["chi2"]):
        return "The log-rank tests could not be computed (a class has no deaths)."
    return (
        f"All cancer types together, the log-rank test gives χ² = {pooled['chi2']:.1f} "
        f"({_p_text(pooled['p'])}) unstratified and χ² = {stratified['chi2']:.1f} "
        f"({_p_text(stratified['p'])}) stratified by cancer type, as the model is; the stratified "
        "test compares the classes only within each cancer type, so the different class mix of "
        "the cancer types does not enter it."
    )


def interaction_sentence(table: pd.DataFrame, alpha: float = 0.05) -> str:
    """What the class × cancer-type interaction test (``interaction_table``) shows."""
    row = table.iloc[0]
    if not np.isfinite(row["chi2"]):
        return "The class × cancer-type interaction is " + row["test"] + "."
    text = (
        f"Class × cancer-type interaction (likelihood-ratio test over {int(row['cancer_types'])} "
        f"cancer types): χ² = {row['chi2']:.1f} on {int(row['df'])} degrees of freedom, "
        f"{_p_text(row['p'])}: "
    )
    if row["p"] < alpha:
        return text + (
            "the hazard ratio of acquired vs primary resistance differs between cancer types, "
            "so the pooled hazard ratio is an average that need not hold in any one type."
        )
    return text + (
        "no evidence that the hazard ratio differs between cancer types (which does not show "
        "that it is the same in each: the test has little power for small types)."
    )


def heterogeneity_sentence(table: pd.DataFrame) -> str:
    """Cochran's Q, I² and τ² of ``heterogeneity_table`` as one sentence."""
    row = table.iloc[0]
    if not np.isfinite(row["q"]):
        return "Fewer than two cancer types have their own estimate, so heterogeneity is not assessed."
    return (
        f"Over the {int(row['cancer_types'])} per-type hazard ratios: Cochran's Q = {row['q']:.1f} "
        f"on {int(row['df'])} degrees of freedom ({_p_text(row['p'])}), I² = {row['i2_percent']:.0f}% "
        f"(the share of the spread beyond what chance would give), between-type variance "
        f"τ² = {row['tau2']:.3g} on the log hazard-ratio scale; random-effects mean HR "
        f"{_hr_text({'hr': row['hr_random'], 'ci_low': row['ci_low'], 'ci_high': row['ci_high']})}."
    )


def shrinkage_sentence(table: pd.DataFrame, heterogeneity: pd.DataFrame) -> str:
    """What the empirical-Bayes estimates of ``shrinkage_table`` show, including the τ² = 0 case."""
    h = heterogeneity.iloc[0]
    shrunk = table[np.isfinite(table["shrunken_hr"])]
    if len(shrunk) == 0 or not np.isfinite(h["tau2"]):
        return "No shrunken estimates: fewer than two cancer types have their own estimate."
    if h["tau2"] == 0:
        text = (
            "The between-type variance is estimated as 0, so every shrunken estimate equals the "
            f"random-effects (here also fixed-effect) mean, HR {h['hr_random']:.2f}: the data give "
            "no reason to believe that any cancer type differs from the pooled value, and the "
            "spread of the per-type estimates is what chance alone would give."
        )
    else:
        text = (
            f"Each shrunken estimate keeps the weight τ²/(τ² + se²) on its own cancer type's "
            f"estimate and gives the rest to the random-effects mean (HR {h['hr_random']:.2f}); "
            "types with few deaths, whose own estimates are noisy, move most."
        )
    few = shrunk[shrunk["few_deaths"]]
    if len(few):
        parts = [f"{r.cancer_type} {r.hr:.2f} → {r.shrunken_hr:.2f}" for r in few.itertuples()]
        text += " Types with few deaths (own HR → shrunken HR): " + "; ".join(parts) + "."
    return text


def rmst_sentence(result: PPSResult) -> str:
    """The standardised RMST difference (``rmst_table``) and, in a simulation, whether it covers the truth."""
    table = result.rmst
    row = table.set_index("set").loc[POOLED_RMST]
    months = result.rmst_months
    text = (
        f"In the first {months:g} months after progression, patients with acquired resistance "
        f"lived on average {row['difference']:.2f} months (95% CI {row['ci_low']:.2f} to "
        f"{row['ci_high']:.2f}) {'longer' if row['difference'] >= 0 else 'shorter'} than patients "
        f"with primary resistance ({row['rmst_acquired']:.1f} vs {row['rmst_primary']:.1f} months), "
        "comparing the classes within each cancer type and averaging over the cohort's mix of "
        "cancer types."
    )
    left_out = table[(table["set"] != POOLED_RMST) & (table["status"] != "estimated")]
    if len(left_out):
        text += (
            " Left out: "
            + ", ".join(
                f"{r.set} ({r.status.removeprefix('not estimated: ')})" for r in left_out.itertuples()
            )
            + "."
        )
    if result.planted_rmst is not None:
        covered = row["ci_low"] <= result.planted_rmst <= row["ci_high"]
        text += (
            f"\nSimulated cohort: the planted difference is {result.planted_rmst:.2f} months; the "
            f"confidence interval {'covers' if covered else 'does NOT cover'} it."
        )
    return text


# --------------------------------------------------------------------------------------------
# the numbers of the chapter's prose, glued into its markdown
# --------------------------------------------------------------------------------------------

#: The chapter's published tables that the glued numbers are read from (after suppression).
ATTRITION_TABLE = "pps_attrition"
KM_TABLE = "pps_km_summary"
LOGRANK_TABLE = "pps_logrank"
COX_TABLE = "pps_cox_pooled"
COMPLETE_CASE_TABLE = "pps_complete_case"
FOREST_TABLE = "pps_forest"
INTERACTION_TABLE = "pps_interaction"
HETEROGENEITY_TABLE = "pps_heterogeneity"
SHRINKAGE_TABLE = "pps_shrinkage"
PH_TABLE = "pps_proportional_hazards"
RMST_TABLE = "pps_rmst"
SENSITIVITY_TABLE = "pps_sensitivity"
IMMORTAL_TABLE = "os_landmark_vs_naive"

#: What a phrase says when the cohort cannot support the chapter (``missing`` says why).
NOT_RUN = "not run for this cohort"
_ALPHA = 0.05
_POOLED_LOGRANK = "all cancer types (pooled, unstratified)"
_STRATIFIED_LOGRANK = "all cancer types (stratified by cancer type)"
_LAST_ATTRITION_STEP = "… whose progression is not dated on the day of death"
_POOLED_FOREST = "Pooled (stratified by cancer type)"
#: The rows of the immortal-time table: glue key, ``analysis``.
_IMMORTAL = (
    ("ch3_landmark_hr", "landmark"),
    ("ch3_naive_final_hr", "naive, final classes"),
    ("ch3_naive_groups_hr", "naive, landmark groups"),
)
#: The sensitivity analyses the prose names: glue key, start of the ``model`` label, and what
#: the prose says when the table has no such row.
_SENSITIVITY = (
    ("ch3_sens_no_tmb", "without TMB", "not run: the primary model has no TMB term to drop"),
    ("ch3_sens_unadjusted", "unadjusted", "not run"),
    ("ch3_sens_rt", "primary + radiotherapy", "not run: no radiotherapy after progression is recorded"),
)


def _finite(x: object) -> bool:
    """Whether ``x`` is a finite number (not NaN, not text such as a suppressed count)."""
    try:
        return bool(np.isfinite(float(x)))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _interval_text(estimate: str, low: str, high: str, why: str = "", *, sparse: bool = False) -> str:
    """Glued texts of an estimate and its 95% CI as one phrase, worded as :func:`glue.interval`.

    ``why`` follows a missing estimate; a ``sparse`` ratio (its interval wider than
    :data:`helpers.book.glue.MAX_RATIO_SPAN`) is not stated as an estimate.
    """
    if estimate == glue.NOT_ESTIMABLE:
        return f"{glue.NOT_ESTIMABLE}, {why}" if why else glue.NOT_ESTIMABLE
    if estimate == glue.SUPPRESSED or estimate.startswith("<"):
        return estimate
    if not (_finite(low) and _finite(high)):
        return f"{estimate} (no interval)"
    if sparse:
        return f"{glue.NOT_ESTIMABLE} (too few events: the interval runs from {low} to {high})"
    return f"{estimate} (95% CI {low}–{high})"


def _too_wide(low: object, high: object) -> bool:
    """Whether a ratio's 95% CI is too wide to state (:data:`helpers.book.glue.MAX_RATIO_SPAN`)."""
    finite = _finite(low) and _finite(high) and float(low) > 0  # type: ignore[arg-type]
    return finite and float(high) / float(low) > glue.MAX_RATIO_SPAN  # type: ignore[arg-type]


def _raw_row(table: pd.DataFrame | None, row: object) -> pd.Series | None:
    """The row of an unpublished result table that ``row`` picks (as :func:`glue.cell` does)."""
    if table is None:
        return None
    if isinstance(row, Mapping):
        mask = pd.Series(True, index=table.index)
        for column, wanted in row.items():
            mask &= table[column].astype(str) == str(wanted)
        return table[mask].iloc[0] if mask.sum() == 1 else None
    return table.loc[row] if row in table.index else None


def _cell_interval(
    key: str,
    table: str,
    row: object,
    columns: tuple[str, str, str] = ("hr", "ci_low", "ci_high"),
    fmt: str = ".2f",
    *,
    raw: pd.DataFrame | None = None,
    why: str = "",
) -> str:
    """Glue an estimate and its limits from a published table (``key``, ``key_low``, ``key_high``)
    and the phrase that quotes them (``key_ci``).

    ``raw`` is the table before publication, for a ratio: the limits before rounding say whether
    its interval is too wide to state (:data:`helpers.book.glue.MAX_RATIO_SPAN`). ``why`` says
    why a missing estimate is missing.
    """
    estimate, low, high = (
        glue.cell(key + suffix, table, row, column, fmt)
        for suffix, column in zip(("", "_low", "_high"), columns, strict=True)
    )
    limits = _raw_row(raw, row)
    sparse = limits is not None and _too_wide(limits[columns[1]], limits[columns[2]])
    return glue.phrase(f"{key}_ci", _interval_text(estimate, low, high, why, sparse=sparse))


def _p_phrase(shown: str) -> str:
    """``p = 0.07`` or ``p < 0.001`` from a p-value glued with the format ``"p"``."""
    if shown == glue.NOT_ESTIMABLE:
        return "p not estimable"
    if shown.startswith("<"):
        return f"p < {shown[1:]}"
    return f"p = {shown}"


def _cell_p(key: str, table: str, row: object, column: str = "p") -> str:
    """Glue a p-value of a published table (``key_value``) and its phrase ``p = …`` (``key``)."""
    return glue.phrase(key, _p_phrase(glue.cell(f"{key}_value", table, row, column, "p")))


def _degrees(df: str) -> str:
    """``7 degrees of freedom`` (singular for one)."""
    return f"{df} degree of freedom" if df == "1" else f"{df} degrees of freedom"


def _slug(text: object) -> str:
    """A cancer type as part of a glue key."""
    return "".join(ch if ch.isalnum() else "_" for ch in str(text).lower()).strip("_")


def _glue_parameters(result: PPSResult) -> None:
    glue.phrase(
        "ch3_parameters",
        f"{parameters_sentence(result)}; restricted mean survival up to {result.rmst_months:g} months "
        f"after progression; at least {result.min_events_per_group} deaths in each class for a cancer "
        "type's own estimate",
    )
    glue.phrase("ch3_missing", result.missing or "")
    glue.value("ch3_rmst_months", result.rmst_months, "g", what="RMST horizon, months after progression")
    glue.value("ch3_landmark_months", result.benefit_months, "g", what="landmark, months from ICB start")
    glue.value(
        "ch3_min_events", result.min_events_per_group, "d", what="deaths per class for a type's own HR"
    )


def _glue_analysis_set(result: PPSResult) -> None:
    glue.cell("ch3_all_patients", ATTRITION_TABLE, {"step": "all patients"}, "patients", ",d")
    resistance = {"step": "acquired or primary resistance"}
    glue.cell("ch3_resistance_patients", ATTRITION_TABLE, resistance, "patients", ",d")
    last = str(result.attrition["step"].iloc[-1]) if result.attrition is not None else _LAST_ATTRITION_STEP
    glue.cell("ch3_patients", ATTRITION_TABLE, {"step": last}, "patients", ",d")
    # the two classes add up to the analysis set the prose states: both are shown or neither
    km = result.km_summary
    hidden = km is not None and any(privacy.is_suppressed(int(n)) for n in km["patients"])
    for cls in CLASS_ORDER:
        if hidden:
            glue.phrase(f"ch3_{cls}_n", glue.SUPPRESSED)
        else:
            glue.cell(f"ch3_{cls}_n", KM_TABLE, cls, "patients", ",d")


def _glue_km(result: PPSResult) -> None:
    for cls in CLASS_ORDER:
        key = f"ch3_median_{cls}"
        estimate, low, high = (
            glue.cell(key + suffix, KM_TABLE, cls, column, ".1f")
            for suffix, column in zip(
                ("", "_low", "_high"), ("median_months", "median_ci_low", "median_ci_high"), strict=True
            )
        )
        reached = result.km_summary is None or _finite(result.km_summary.loc[cls, "median_months"])
        if estimate == glue.SUPPRESSED:
            text = "suppressed (too few deaths to show)"
        else:
            text = _interval_text(estimate, low, high) if reached else "not reached"
        glue.phrase(f"{key}_ci", text)
        glue.cell(f"ch3_survival12_{cls}", KM_TABLE, cls, "survival_12m", ".0%")
    for key, row in (("ch3_logrank", _POOLED_LOGRANK), ("ch3_logrank_stratified", _STRATIFIED_LOGRANK)):
        glue.cell(f"{key}_chi2", LOGRANK_TABLE, {"set": row}, "chi2", ".1f")
        _cell_p(f"{key}_p", LOGRANK_TABLE, {"set": row})


def _planted_hr_phrase(result: PPSResult) -> str:
    if result.planted_hr is None:
        return "No hazard ratio was planted: the cohort is not simulated."
    planted = glue.value("ch3_planted_hr", result.planted_hr, "g", what="HR planted in the simulation")
    if result.pooled is None:
        return f"The simulation planted a hazard ratio of {planted}."
    hr = result.pooled.exposure_hr()
    covered = hr["ci_low"] <= result.planted_hr <= hr["ci_high"]
    return (
        f"The simulation planted a hazard ratio of {planted}; the 95% CI of the estimate "
        f"{'covers it' if covered else 'does not cover it'}."
    )


def _glue_model(result: PPSResult) -> None:
    glue.phrase(
        "ch3_covariates",
        covariates_phrase(result.pooled)
        if result.pooled is not None
        else "The model is not fitted for this cohort.",
    )
    for key, step in (
        ("ch3_cc_input", "patients in the analysis set"),
        ("ch3_cc_left_out", "left out (lacking any covariate of the model)"),
        ("ch3_model_patients", "in the model (complete cases)"),
    ):
        glue.cell(key, COMPLETE_CASE_TABLE, {"step": step}, "patients", ",d")
    glue.cell("ch3_model_deaths", FOREST_TABLE, {"label": _POOLED_FOREST}, "deaths", ",d")
    row = {"covariate": result.pooled.exposure if result.pooled is not None else "acquired"}
    _cell_interval("ch3_hr", COX_TABLE, row, raw=result.pooled_hazard_ratios)
    _cell_p("ch3_hr_p", COX_TABLE, row)
    glue.phrase("ch3_planted", _planted_hr_phrase(result))


def _glue_per_type(result: PPSResult) -> None:
    per_type = result.per_cancer_type
    types = 0 if per_type is None else len(per_type)
    estimated = 0 if per_type is None else int((per_type["status"] == "estimated").sum())
    glue.value("ch3_types", types, "d", what="cancer types in the analysis set")
    glue.value("ch3_types_estimated", estimated, "d", what="cancer types with an estimate of their own")
    if per_type is None:
        skipped = NOT_RUN
    elif estimated == types:
        skipped = "no cancer type is left out"
    else:
        parts = [
            f"{status.removeprefix('not estimated: ')}: {', '.join(map(str, group['cancer_type']))}"
            for status, group in per_type[per_type["status"] != "estimated"].groupby("status", sort=True)
        ]
        skipped = "not estimated (" + "; ".join(parts) + ")"
    glue.phrase("ch3_skipped", skipped)


def _glue_interaction(result: PPSResult) -> None:
    if result.interaction is None:
        glue.phrase("ch3_interaction", f"The interaction test is {NOT_RUN}.")
        glue.phrase("ch3_interaction_short", "Not tested for this cohort.")
        return
    raw = result.interaction.iloc[0]
    if not _finite(raw["chi2"]):
        why = str(raw["test"]).removeprefix("not tested: ")
        glue.phrase("ch3_interaction", f"The interaction is not tested: {why}.")
        glue.phrase("ch3_interaction_short", f"Not tested: {why}.")
        return
    types = glue.cell("ch3_interaction_types", INTERACTION_TABLE, 0, "cancer_types", "d")
    chi2 = glue.cell("ch3_interaction_chi2", INTERACTION_TABLE, 0, "chi2", ".1f")
    df = glue.cell("ch3_interaction_df", INTERACTION_TABLE, 0, "df", "d")
    p = _cell_p("ch3_interaction_p", INTERACTION_TABLE, 0)
    differs = raw["p"] < _ALPHA
    verdict = (
        "the hazard ratio of acquired vs primary resistance differs between cancer types, so the pooled "
        "hazard ratio is an average that need not hold in any one type"
        if differs
        else "no evidence that the hazard ratio differs between cancer types (which does not show that it "
        "is the same in each: the test has little power for small types)"
    )
    glue.phrase(
        "ch3_interaction",
        f"The likelihood-ratio test over {types} cancer types gives χ² = {chi2} on {_degrees(df)} ({p}): {verdict}.",
    )
    glue.phrase(
        "ch3_interaction_short",
        f"The hazard ratio differs between cancer types (interaction {p}); the pooled value is an average."
        if differs
        else f"No evidence that the hazard ratio differs between cancer types (interaction {p}).",
    )


def _glue_heterogeneity(result: PPSResult) -> None:
    if not result.heterogeneity_assessed:
        glue.phrase(
            "ch3_heterogeneity",
            "Fewer than two cancer types have their own estimate, so Q, I² and τ² are not computed."
            if result.available
            else "Q, I² and τ² are not computed for this cohort.",
        )
        glue.phrase(
            "ch3_shrinkage",
            "No shrunken estimates: fewer than two cancer types have their own estimate."
            if result.available
            else "No shrunken estimates for this cohort.",
        )
        return
    types = glue.cell("ch3_het_types", HETEROGENEITY_TABLE, 0, "cancer_types", "d")
    q = glue.cell("ch3_het_q", HETEROGENEITY_TABLE, 0, "q", ".1f")
    df = glue.cell("ch3_het_df", HETEROGENEITY_TABLE, 0, "df", "d")
    p = _cell_p("ch3_het_p", HETEROGENEITY_TABLE, 0)
    i2 = glue.cell("ch3_het_i2", HETEROGENEITY_TABLE, 0, "i2_percent", ".0f")
    tau2 = glue.cell("ch3_het_tau2", HETEROGENEITY_TABLE, 0, "tau2", ".3g")
    random = _cell_interval(
        "ch3_hr_random", HETEROGENEITY_TABLE, 0, ("hr_random", "ci_low", "ci_high"), raw=result.heterogeneity
    )
    glue.phrase(
        "ch3_heterogeneity",
        f"Over the {types} per-type hazard ratios, Cochran's Q = {q} on {_degrees(df)} ({p}), I² = {i2} % "
        f"and τ² = {tau2} on the log hazard-ratio scale; the random-effects mean hazard ratio is {random}.",
    )
    mean = glue.cell("ch3_hr_random", HETEROGENEITY_TABLE, 0, "hr_random", ".2f")
    if float(result.heterogeneity["tau2"].iloc[0]) == 0:
        text = (
            "The between-type variance τ² is estimated as 0, so every shrunken estimate equals the "
            f"random-effects mean, {mean}: the data give no reason to believe that any cancer type "
            "differs from it, and the spread of the per-type estimates is what chance alone would give."
        )
    else:
        text = (
            "Each shrunken estimate keeps the weight τ²/(τ² + se²) on its own cancer type's estimate and "
            f"gives the rest to the random-effects mean ({mean}); types with few deaths, whose own "
            "estimates are noisy, move most."
        )
    shrinkage = result.shrinkage
    few = shrinkage[shrinkage["few_deaths"].astype(bool) & shrinkage["shrunken_hr"].map(_finite)]
    parts = []
    for name in few["cancer_type"]:
        where = {"cancer_type": name}
        own = glue.cell(f"ch3_shrink_{_slug(name)}_hr", SHRINKAGE_TABLE, where, "hr", ".2f")
        shrunk = glue.cell(
            f"ch3_shrink_{_slug(name)}_shrunken_hr", SHRINKAGE_TABLE, where, "shrunken_hr", ".2f"
        )
        parts.append(f"{name} {own} → {shrunk}")
    if parts:
        text += " Types with few deaths (own hazard ratio → shrunken): " + "; ".join(parts) + "."
    glue.phrase("ch3_shrinkage", text)


def _glue_ph(result: PPSResult) -> None:
    table = result.proportional_hazards
    exposure = result.pooled.exposure if result.pooled is not None else "acquired"
    p = _cell_p("ch3_ph_p", PH_TABLE, {"covariate": exposure})
    if table is None or table.empty or not _finite(table["p"].iloc[0]):
        glue.phrase("ch3_ph_verdict", "the test could not be computed for this cohort")
        glue.phrase("ch3_ph_flagged", "No term of the model is tested.")
        glue.phrase("ch3_ph_short", "Not tested.")
        return
    drifts = table["p"].iloc[0] < _ALPHA
    glue.phrase(
        "ch3_ph_verdict",
        "the hazard ratio of acquired vs primary resistance changes over time after progression, so the "
        "pooled hazard ratio is an average over follow-up"
        if drifts
        else "no evidence that its hazard ratio changes over time after progression",
    )
    flagged = list(table.loc[table["p"] < _ALPHA, "term"].astype(str))
    if flagged:
        which = f"only {flagged[0]} has" if len(flagged) == 1 else f"{_and_list(flagged)} have"
        text = f"Of all the terms of the model, {which} p < {_ALPHA:g}."
    else:
        text = f"No term of the model has p < {_ALPHA:g}."
    glue.phrase("ch3_ph_flagged", text)
    glue.phrase(
        "ch3_ph_short",
        f"The hazard ratio changes over follow-up ({p}): read the restricted mean survival time."
        if drifts
        else f"No evidence that the hazard ratio changes over follow-up ({p}).",
    )


def _glue_rmst(result: PPSResult) -> None:
    row = {"set": POOLED_RMST}
    for cls in CLASS_ORDER:
        glue.cell(f"ch3_rmst_{cls}", RMST_TABLE, row, f"rmst_{cls}", ".1f")
    _cell_interval("ch3_rmst_difference", RMST_TABLE, row, ("difference", "ci_low", "ci_high"))
    _cell_p("ch3_rmst_p", RMST_TABLE, row)
    table = result.rmst
    if table is None:
        left_out = ""
    else:
        rows = table[(table["set"] != POOLED_RMST) & (table["status"] != "estimated")]
        left_out = "; ".join(
            f"{', '.join(map(str, group['set']))} ({str(status).removeprefix('not estimated: ')})"
            for status, group in rows.groupby("status", sort=True)
        )
    glue.phrase(
        "ch3_rmst_left_out",
        f"Left out of the average: {left_out}."
        if left_out
        else "Every cancer type has patients in both classes and enters the average."
        if table is not None
        else "The RMST is not computed for this cohort.",
    )
    if result.planted_rmst is not None:
        what = "RMST difference planted in the simulation (months)"
        planted = glue.value("ch3_planted_rmst", result.planted_rmst, ".2f", what=what)
        pooled = table.set_index("set").loc[POOLED_RMST] if table is not None else None
        covered = pooled is not None and pooled["ci_low"] <= result.planted_rmst <= pooled["ci_high"]
        text = (
            f"The simulation planted a difference of {planted} months; the 95% CI "
            f"{'covers it' if covered else 'does not cover it'}."
        )
    elif result.planted_hr is not None:
        text = f"The simulation's truth holds no RMST difference at {result.rmst_months:g} months to check against."
    else:
        text = "No difference was planted: the cohort is not simulated."
    glue.phrase("ch3_rmst_planted", text)


def _glue_sensitivity(result: PPSResult) -> None:
    models = [] if result.sensitivity is None else list(result.sensitivity["model"].astype(str))
    for key, prefix, absent in _SENSITIVITY:
        label = next((m for m in models if m.startswith(prefix)), None)
        if label is None:
            glue.phrase(f"{key}_ci", absent if result.available else NOT_RUN)
        else:
            _cell_interval(key, SENSITIVITY_TABLE, {"model": label}, raw=result.sensitivity)


def _glue_landmark_set(result: PPSResult) -> None:
    """The patients of the landmark analysis, hiding every count a shown one would give back."""
    info = result.landmark_set.attrs.get("landmark", {}) if result.landmark_set is not None else {}
    if not info:
        for key in ("ch3_lm_all", "ch3_lm_kept", "ch3_lm_progressed", "ch3_lm_not_progressed"):
            glue.phrase(key, glue.NOT_ESTIMABLE)
        glue.phrase("ch3_lm_before", f"The landmark analysis is {NOT_RUN}.")
        return
    died = int(info["n_excluded_events_by_landmark"])
    censored = int(info["n_excluded_ended_by_landmark"]) - died
    unknown = int(info.get("n_unknown_survival", 0))
    kept = int(info["n_kept"])
    groups = result.landmark_set["group"].value_counts()
    progressed, not_progressed = (int(groups.get(g, 0)) for g in (_PROGRESSED, _NO_PROGRESSION))
    before = died + censored + unknown
    glue.count("ch3_lm_all", kept + before, what="all patients, before the landmark step")
    if privacy.is_suppressed(before):  # then the kept patients would give it back, and their split too
        glue.phrase("ch3_lm_kept", f"all but {privacy.count_label(before)}")
        for key in ("ch3_lm_progressed", "ch3_lm_not_progressed"):
            glue.phrase(key, glue.SUPPRESSED)
        glue.phrase(
            "ch3_lm_before",
            f"The others ({privacy.count_label(before)}) died, left follow-up or have no known survival.",
        )
        return
    glue.count("ch3_lm_kept", kept, what="patients alive and under follow-up at the landmark")
    if privacy.is_suppressed(progressed) or privacy.is_suppressed(not_progressed):
        for key in ("ch3_lm_progressed", "ch3_lm_not_progressed"):
            glue.phrase(key, glue.SUPPRESSED)
    else:
        glue.count("ch3_lm_progressed", progressed, what="patients at the landmark, progressed by then")
        glue.count("ch3_lm_not_progressed", not_progressed, what="patients at the landmark, no progression")
    if before == 0:
        glue.phrase("ch3_lm_before", "Nobody died or left follow-up before the landmark.")
        return
    total = glue.count("ch3_lm_before_n", before, what="patients not at risk at the landmark")
    parts = [(died, "died"), (censored, "left follow-up"), (unknown, "have no known survival")]
    parts = [(n, what) for n, what in parts if n]
    if len(parts) == 1:
        text = f"The other {total} {parts[0][1]} before the landmark."
    elif any(privacy.is_suppressed(n) for n, _ in parts):
        text = (
            f"The other {total} {_and_list([what for _, what in parts]).replace(' and ', ' or ')} before the "
            "landmark (how many of each is not shown: one of the counts is too small to publish)."
        )
    else:
        shown = [
            f"{glue.count(f'ch3_lm_{_slug(what)}', n, what=f'patients who {what} before the landmark')} {what}"
            for n, what in parts
        ]
        text = f"Of the other {total}, {_and_list(shown)} before the landmark."
    glue.phrase("ch3_lm_before", text)


def _bias_phrase(result: PPSResult, naive: str, final: bool) -> str:
    """How a naive hazard ratio of the immortal-time table compares with the landmark's."""
    table = result.immortal_time
    if table is None:
        return NOT_RUN
    rows = table.set_index("analysis")
    lm, other = rows.loc[_IMMORTAL[0][1]], rows.loc[naive]
    stated = [_finite(r["hr"]) and not _too_wide(r["ci_low"], r["ci_high"]) for r in (lm, other)]
    if not all(stated):
        return "without both estimates the bias cannot be measured in this cohort"
    if other["ci_high"] < lm["ci_low"]:
        return (
            "a larger apparent benefit than the landmark analysis"
            if final
            else "a larger apparent benefit than the landmark analysis, with confidence intervals apart: the "
            "immortal-time bias, since every early death counts against the comparison group"
        )
    if final and other["ci_low"] > lm["ci_high"]:
        return "a smaller apparent benefit than the landmark analysis"
    if final:
        return (
            "close to the landmark estimate, but the two compare different groups (the landmark's "
            "no-progression group also holds patients who never progress), so the similarity does not "
            "make the naive number valid"
        )
    if other["hr"] < lm["hr"]:
        return (
            "a somewhat larger apparent benefit than the landmark analysis (the confidence intervals overlap)"
        )
    return "no larger an apparent benefit than the landmark analysis in this cohort"


def _glue_immortal_time(result: PPSResult) -> None:
    _glue_landmark_set(result)
    notes = result.immortal_time.set_index("analysis")["note"] if result.immortal_time is not None else {}
    for key, analysis in _IMMORTAL:
        where = {"analysis": analysis}
        _cell_interval(key, IMMORTAL_TABLE, where, raw=result.immortal_time, why=str(notes.get(analysis, "")))
    glue.phrase("ch3_naive_groups_verdict", _bias_phrase(result, _IMMORTAL[2][1], final=False))
    glue.phrase("ch3_naive_final_verdict", _bias_phrase(result, _IMMORTAL[1][1], final=True))


def glue_results(result: PPSResult) -> None:
    """Glue the numbers and phrases that chapter 3's prose quotes.

    Call it once, after the chapter's tables are published: numbers are read from the tables as
    shown (suppressed where the cohort is restricted, see :func:`helpers.book.glue.cell`), the
    phrases around them from ``result``. A cohort that cannot support the chapter glues every
    key all the same, with "not estimable" or :data:`NOT_RUN` (``ch3_missing`` says why).
    """
    _glue_parameters(result)
    _glue_analysis_set(result)
    _glue_km(result)
    _glue_model(result)
    _glue_per_type(result)
    _glue_interaction(result)
    _glue_heterogeneity(result)
    _glue_ph(result)
    _glue_rmst(result)
    _glue_sensitivity(result)
    _glue_immortal_time(result)
