"""Sentences of chapter 5 (TME states); the numbers come from :mod:`helpers.analysis.tme`.

The one sentence that says what a cohort or a step lacks is the result's own ``missing``; the
sentences here describe a result that ran. The agreement sentence counts RNA samples of a
simulated cohort only (a real cohort has no planted subtypes), so no count needs suppressing;
every other function that prints a count takes ``count`` (default ``str``): pass
:func:`helpers.book.privacy.count_label` so that small counts of restricted cohorts are
suppressed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from helpers.analysis.tme import (
    CarrierEffects,
    PlantedAgreement,
    PostProgression,
    TMEChapter,
    TMEScores,
    Transitions,
    describe_strata,
)

__all__ = [
    "agreement_sentence",
    "carrier_strata_sentence",
    "confounding_sentence",
    "scaling_sentence",
    "scoring_sentences",
    "share_sentence",
    "strata_label",
    "stratification_sentence",
    "transition_strata_sentence",
]


def scaling_sentence(scores: TMEScores) -> str:
    """How the scores were scaled: against the shipped reference, or within the cohort."""
    if scores.mode == "within-cohort":
        n_samples = scores.reference.statistics["n_samples"].iloc[0]
        return (
            f"The shipped public reference does not apply to this cohort ({scores.check.reason}), "
            "so scores are scaled within the cohort: against the median and MAD of "
            f"{n_samples:,} of its own samples (its pre-treatment tumours where given), summarised "
            "once and then held fixed. Subtypes are therefore relative to this cohort's untreated "
            "tumours and are not comparable with other cohorts' subtypes."
        )
    return (
        f"Scores are scaled against the fixed reference {scores.reference.name!r} "
        f"({scores.reference.description}); {scores.check.reason}."
    )


def scoring_sentences(result: TMEChapter) -> list[str]:
    """What the chapter opens with: how scores were scaled, and from which samples.

    A cohort without RNA expression data has no scores: the chapter then opens by saying it
    has nothing to show (each step repeats only the short ``missing`` sentence).
    """
    if result.scores is None:
        return ["This cohort has no RNA expression data, so this chapter has nothing to show."]
    sentences = [scaling_sentence(result.scores.tme)]
    if result.scores.calibration:
        sentences.append(f"The within-cohort reference was made from {result.scores.calibration}.")
    return sentences


def agreement_sentence(agreement: PlantedAgreement) -> str:
    """Accuracy and Cohen's kappa of called against planted subtypes (a step that ran)."""
    summary = agreement.summary
    return (
        f"accuracy {summary['accuracy']:.3f}, Cohen's kappa {summary['kappa']:.3f} "
        f"over {int(summary['n']):,} samples"
    )


def strata_label(strata: list[str]) -> str:
    """A short label of what a comparison is stratified by ("within cancer type and biopsy site")."""
    return "pooled" if not strata else f"within {describe_strata(strata)}"


def _dropped(table: pd.DataFrame) -> int:
    """Samples of the most complete row that lie in strata holding one class only."""
    return int(table["n_dropped"].max()) if table["n_dropped"].notna().any() else 0


def stratification_sentence(post: PostProgression, count: Callable[[int], str] = str) -> str:
    """What the post-progression comparison is stratified by, and what the strata leave out."""
    strata = describe_strata(post.strata)
    no_site = "" if "site" in post.strata else " (the cohort records no biopsy site)"
    stratified = post.stratified
    n_strata = int(stratified["n_strata"].max()) if stratified["n_strata"].notna().any() else 0
    if n_strata == 0:
        return (
            f"Acquired and primary resistance are compared within strata of {strata}{no_site}, "
            "but no stratum holds samples of both classes, so there is no stratified comparison."
        )
    dropped = _dropped(stratified)
    left_out = (
        f"; {count(dropped)} samples lie in strata holding one class only and carry no information"
        if dropped
        else ""
    )
    return (
        f"Acquired and primary resistance are compared within strata of {strata}{no_site}: "
        f"{count(n_strata)} strata hold samples of both classes{left_out}. Within a stratum the "
        "classes are compared by the Wilcoxon rank-sum test, and the strata are combined as van "
        "Elteren proposed (each weighted by 1/(its size + 1)); the shift is the stratified "
        "Hodges–Lehmann estimate of how far acquired-resistance scores lie above primary-resistance "
        "scores of the same stratum, in reference SD units, with the 95% interval of shifts the "
        "test does not reject."
    )


def confounding_sentence(stratified: pd.DataFrame, pooled: pd.DataFrame, strata: list[str]) -> str:
    """Where the pooled comparison and the stratified one (by ``strata``) disagree.

    A score disagrees when one interval excludes 0 and the other does not, or when the two
    shifts differ by more than 0.2 reference SD.
    """
    both = stratified[["shift", "ci_low", "ci_high"]].join(
        pooled[["shift", "ci_low", "ci_high"]], rsuffix="_pooled"
    )
    both = both.dropna()
    excludes = (both["ci_low"] > 0) | (both["ci_high"] < 0)
    excludes_pooled = (both["ci_low_pooled"] > 0) | (both["ci_high_pooled"] < 0)
    differ = (excludes != excludes_pooled) | ((both["shift"] - both["shift_pooled"]).abs() > 0.2)
    opening = (
        f"The pooled comparison ignores {describe_strata(strata)}; since the class mix differs by "
        "cancer type and TMEs differ by cancer type and biopsy site, it is confounded by them and "
        "is shown only beside the stratified one."
    )
    if not differ.any():
        return opening + " Here the two agree for every score (no shift differs by more than 0.2 SD)."
    listed = "; ".join(
        f"{name.replace('_', ' ')} {row['shift']:+.2f} stratified vs {row['shift_pooled']:+.2f} pooled"
        for name, row in both[differ].iterrows()
    )
    return opening + f" They disagree for {int(differ.sum())} of {len(both)} scores: {listed}."


def _p(p: float) -> str:
    """A p-value in a sentence ("p < 1e-300" where it underflows to 0)."""
    return "p < 1e-300" if p < 1e-300 else f"p = {p:.2g}"


def _ratio(row: pd.Series) -> str:
    return f"{row['odds_ratio']:.2f} (95% CI {row['ci_low']:.2f}–{row['ci_high']:.2f})"


def share_sentence(post: PostProgression) -> str:
    """The immune-enriched odds ratio within strata, and pooled."""
    stratified, pooled = post.share_test.loc["stratified"], post.share_test.loc["pooled"]
    if not np.isfinite(stratified["odds_ratio"]):
        return "No stratum holds both classes with both immune-enriched and other subtypes: no stratified odds ratio."
    text = (
        f"Within strata of {describe_strata(post.strata)}, "
        "the odds of an immune-enriched subtype (IE or IE/F) after progression are "
        f"{_ratio(stratified)} times as high in acquired as in primary resistance (Mantel–Haenszel; "
        f"Cochran–Mantel–Haenszel {_p(stratified['p'])}"
    )
    if np.isfinite(stratified["homogeneity_p"]):
        text += f"; Breslow–Day test of one odds ratio in every stratum {_p(stratified['homogeneity_p'])}"
    text += ")."
    if np.isfinite(pooled["odds_ratio"]):
        text += f" Pooled over strata (confounded): {_ratio(pooled)}, Fisher {_p(pooled['p'])}."
    return text


def transition_strata_sentence(transitions: Transitions) -> str:
    """How the classes' pre→post changes are compared."""
    by_site = "site_pair" in transitions.strata
    strata = "cancer type and the pair's two biopsy sites" if by_site else "cancer type"
    site_note = (
        "" if by_site else " (the cohort records no biopsy site, so a change of site cannot be accounted for)"
    )
    return (
        "A change within a patient is free of that patient's cancer type and baseline, but not of a "
        "change of biopsy site between the two samples: the classes' changes are therefore compared "
        f"within strata of {strata}{site_note}, by the same stratified test and shift, with the "
        "pooled comparison beside it. Each class's own change is shown among pairs biopsied at the "
        "same site (where sites are recorded) and among all pairs."
    )


def carrier_strata_sentence(carriers: CarrierEffects) -> str:
    """What the carrier comparison is adjusted for."""
    adjusted = set(carriers.effects["adjusted_for"]) if carriers.effects is not None else set()
    site = any("site" in a for a in adjusted)
    return (
        "Carriers are compared with non-carriers within each cancer type (so cancer type cannot "
        "confound them), in a linear model adjusted for acquired vs other resistance"
        + (" and the biopsy site" if site else " (the cohort records no biopsy site)")
        + "."
    )
