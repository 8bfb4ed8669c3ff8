"""Sentences of chapter 3 (survival after progression); the numbers come from :mod:`helpers.analysis.pps`.

Every function that prints a count takes ``count`` (default ``str``): pass
:func:`helpers.book.privacy.count_label` so that small counts of restricted cohorts are suppressed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from helpers.analysis.pps import (
    COVARIATE_LABELS,
    COVARIATE_SHORT,
    LANDMARK_GROUPS,
    POOLED_RMST,
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
    "logrank_sentence",
    "interaction_sentence",
    "heterogeneity_sentence",
    "shrinkage_sentence",
    "heterogeneity_text",
    "rmst_sentence",
]

_NO_PROGRESSION, _PROGRESSED = LANDMARK_GROUPS


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


def heterogeneity_text(result: PPSResult) -> str:
    """The interaction test, the heterogeneity statistics and the shrinkage, one sentence per line."""
    return "\n".join(
        [
            interaction_sentence(result.interaction),
            heterogeneity_sentence(result.heterogeneity),
            shrinkage_sentence(result.shrinkage, result.heterogeneity),
        ]
    )


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
