"""Sentences and glued numbers of chapter 5 (TME states); the numbers come from :mod:`helpers.analysis.tme`.

:func:`glue_results` glues every number and phrase the chapter's prose quotes. The other
functions build its phrases: how scores are scaled, what a comparison is stratified by, where
the pooled and stratified comparisons disagree, and what a cohort cannot show. A step that did
not run says so with its own ``missing`` sentence, and its numbers glue "not estimable" or
"not analysed". Every function that writes a count of samples takes ``count`` (default ``str``):
pass :func:`helpers.book.privacy.count_label` so that small counts of restricted cohorts are
suppressed.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from helpers.analysis.tme import (
    COMPARED_CLASSES,
    CarrierEffects,
    PostProgression,
    TMEChapter,
    Transitions,
    describe_strata,
    one_sample_per_patient,
)
from helpers.book import glue
from helpers.book.labels import label
from helpers.book.privacy import count_label

__all__ = [
    "carrier_strata_sentence",
    "confounding_sentence",
    "glue_results",
    "not_shown_sentence",
    "scaling_sentence",
    "scaling_summary",
    "strata_label",
    "stratification_sentence",
    "transition_strata_sentence",
]

#: What a number of a step that did not run reads in the prose.
NOT_ANALYSED = "not analysed"
#: What the chapter says when the cohort has no RNA expression data.
NO_RNA_SENTENCE = "This cohort has no RNA expression data, so this chapter has nothing to show."
#: The scores whose class comparisons the prose quotes (the others are in the tables).
HEADLINE_SCORES = {"ifng": "IFNG_AYERS2017", "dysfunction": "TCELL_DYSFUNCTION"}
#: Shifts that differ by more than this (reference SD units) count as a disagreement.
DISAGREEMENT_SD = 0.2


def _count(count: Callable[[int], str], n: int) -> str:
    """``count(n)``, with a thousands separator where it shows the number itself."""
    text = count(int(n))
    return f"{int(n):,}" if text == str(int(n)) else text


def scaling_sentence(result: TMEChapter, count: Callable[[int], str] = str) -> str:
    """How the scores were scaled: against the shipped reference, or within the cohort."""
    if result.scores is None:
        return NO_RNA_SENTENCE
    scores = result.scores.tme
    if scores.mode != "within-cohort":
        return (
            f"Scores are scaled against the fixed reference {scores.reference.name!r} "
            f"({scores.reference.description}); {scores.check.reason}."
        )
    n_reference = int(scores.reference.statistics["n_samples"].iloc[0])
    n_pre = int((result.scores.samples["timepoint"] == "pre").sum())
    if n_reference == n_pre:
        which, relative = "its pre-treatment tumours", "this cohort's untreated tumours"
    else:
        which, relative = "all of them, since fewer than 10 are pre-treatment", "this cohort's tumours"
    return (
        f"The shipped public reference does not apply to this cohort ({scores.check.reason}), so "
        f"scores are scaled within the cohort: against the median and MAD of {_count(count, n_reference)} of "
        f"its own RNA samples ({which}), summarised once and then held fixed. Subtypes are therefore "
        f"relative to {relative} and are not comparable with other cohorts' subtypes."
    )


def scaling_summary(result: TMEChapter) -> str:
    """How the scores were scaled, in a few words (for the key results)."""
    if result.scores is None:
        return "as the cohort has no RNA expression data"
    if result.scores.tme.mode == "within-cohort":
        return "scaled within the cohort, because the shipped public reference does not apply to it"
    return f"scaled against the shipped public reference ({result.scores.tme.reference.name})"


def strata_label(strata: list[str]) -> str:
    """A short label of what a comparison is stratified by ("within cancer type and biopsy site")."""
    return "pooled" if not strata else f"within {describe_strata(strata)}"


def _dropped(table: pd.DataFrame) -> int:
    """Samples of the most complete row that lie in strata holding one class only."""
    return int(table["n_dropped"].max()) if table["n_dropped"].notna().any() else 0


def stratification_sentence(post: PostProgression, count: Callable[[int], str] = str) -> str:
    """What the post-progression comparison is stratified by, and what the strata leave out.

    Empty when the comparison did not run (its ``missing`` sentence says why).
    """
    if post.missing or post.stratified is None:
        return ""
    if "site" in post.strata:
        strata = f"Here the strata are {describe_strata(post.strata)}"
    else:
        strata = (
            f"Here the strata are {describe_strata(post.strata)} alone (the cohort records no biopsy site)"
        )
    stratified = post.stratified
    n_strata = int(stratified["n_strata"].max()) if stratified["n_strata"].notna().any() else 0
    if n_strata == 0:
        return (
            f"{strata}, but none holds samples of both classes, so there is no stratified comparison: "
            "only the pooled one."
        )
    dropped = _dropped(stratified)
    left_out = (
        f"; {_count(count, dropped)} samples lie in strata holding one class only and carry no information"
        if dropped
        else ""
    )
    return f"{strata}: {n_strata:,} of them hold samples of both classes{left_out}."


def confounding_sentence(post: PostProgression) -> str:
    """Where the pooled comparison and the stratified one disagree (names of the scores).

    A score disagrees when one interval excludes 0 and the other does not, or when the two
    shifts differ by more than :data:`DISAGREEMENT_SD` reference SD.
    """
    if post.missing or post.stratified is None or post.pooled is None:
        return "This cohort has no comparison after progression."
    both = (
        post.stratified[["shift", "ci_low", "ci_high"]]
        .join(post.pooled[["shift", "ci_low", "ci_high"]], rsuffix="_pooled")
        .dropna()
    )
    if both.empty:
        return "There is no stratified estimate to set the pooled one against."
    excludes = (both["ci_low"] > 0) | (both["ci_high"] < 0)
    excludes_pooled = (both["ci_low_pooled"] > 0) | (both["ci_high_pooled"] < 0)
    differ = (excludes != excludes_pooled) | ((both["shift"] - both["shift_pooled"]).abs() > DISAGREEMENT_SD)
    if not differ.any():
        return (
            f"Here the two agree for every score: no shift differs by more than {DISAGREEMENT_SD:g} SD, "
            "and no interval excludes 0 where the other does not."
        )
    names = [label(name) for name in both.index[differ]]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"They disagree for {int(differ.sum())} of {len(both)} scores: {listed}."


def transition_strata_sentence(transitions: Transitions) -> str:
    """What the classes' pre→post changes are stratified by (empty when they were not compared)."""
    if transitions.missing:
        return ""
    if "site_pair" in transitions.strata:
        return "Here the strata are cancer type and the pair's two biopsy sites."
    return (
        "Here the strata are cancer type alone: the cohort records no biopsy site, so a change of "
        "site cannot be accounted for."
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


def _clause(sentence: str) -> str:
    """A ``missing`` sentence as a clause inside parentheses: first letter lower, no full stop."""
    text = sentence.strip().rstrip(".")
    return text[:1].lower() + text[1:]


def not_shown_sentence(result: TMEChapter) -> str:
    """What this cohort cannot show, step by step; empty when every step ran.

    The comparison with planted subtypes is left out: only a simulated cohort has them.
    """
    if result.missing:
        return NO_RNA_SENTENCE
    steps = {
        "pre-treatment subtypes": result.pre.missing,
        "the comparison after progression": result.post.missing,
        "the paired transitions": result.transitions.missing,
        "the LoF carrier comparison": result.carriers.missing,
    }
    parts = [f"{name} ({_clause(why)})" for name, why in steps.items() if why]
    if not parts:
        return ""
    return "Not available for this cohort: " + "; ".join(parts) + "."


def _row(table: pd.DataFrame | None, row: object) -> pd.Series:
    """One row of a result table, or an empty row where the table or row is absent."""
    if table is None or row not in table.index:
        return pd.Series(dtype=float)
    return table.loc[row]


def _interval(key: str, table: pd.DataFrame | None, row: object, estimate: str, what: str) -> None:
    """Glue ``estimate`` of ``row`` with its interval (``ci_low``, ``ci_high``)."""
    values = _row(table, row)
    glue.interval(key, values.get(estimate), values.get("ci_low"), values.get("ci_high"), what=what)


def _glue_scaling(result: TMEChapter) -> None:
    """The RNA samples, how they are scaled, and the signatures' coverage."""
    glue.phrase("ch5_missing", result.missing or "")
    glue.phrase("ch5_not_shown", not_shown_sentence(result))
    glue.phrase("ch5_scaling", scaling_sentence(result, count_label))
    glue.phrase("ch5_scaling_short", scaling_summary(result))
    n_samples = 0 if result.samples is None else len(result.samples)
    glue.count("ch5_rna_samples", n_samples, what="RNA samples scored")
    coverage = result.coverage
    n_signatures = n_complete = n_unscaled = 0
    if coverage is not None and result.scores is not None:
        n_signatures = len(coverage)
        n_complete = int((coverage["present"] == coverage["genes"]).sum())
        n_unscaled = n_signatures - len(result.scores.tme.available(coverage.index))
    glue.value("ch5_signatures", n_signatures, "d", what="signatures scored")
    glue.value(
        "ch5_signatures_complete", n_complete, "d", what="signatures with every gene in the expression data"
    )
    glue.value("ch5_signatures_unscaled", n_unscaled, "d", what="signatures not scaled (too few genes)")


def _glue_pre_and_agreement(result: TMEChapter) -> None:
    """Pre-treatment subtypes and, in a simulated cohort, the agreement with planted ones."""
    glue.phrase("ch5_pre_status", result.pre.missing or "")
    agreement = result.agreement
    glue.phrase("ch5_agreement_status", agreement.missing or "")
    summary = agreement.summary if agreement.summary is not None else pd.Series(dtype=float)
    glue.value("ch5_accuracy", summary.get("accuracy"), ".3f", what="accuracy of called vs planted subtypes")
    glue.value("ch5_kappa", summary.get("kappa"), ".3f", what="Cohen's kappa of called vs planted subtypes")
    glue.count("ch5_agreement_n", int(summary.get("n", 0)), what="RNA samples with a planted subtype")


def _glue_post(result: TMEChapter) -> None:
    """The comparison of post-progression tumours, acquired vs primary resistance."""
    post = result.post
    glue.phrase("ch5_post_status", post.missing or "")
    glue.phrase("ch5_post_strata", stratification_sentence(post, count_label))
    glue.phrase("ch5_post_confounding", confounding_sentence(post))
    glue.phrase("ch5_medians_status", result.medians.missing or "")  # the heat map of medians
    for klass in COMPARED_CLASSES:
        if not post.missing:
            glue.cell(f"ch5_post_n_{klass}", "subtypes_post_by_class", klass, "n", ",d")
            glue.cell(f"ch5_post_ie_{klass}", "subtypes_post_by_class", klass, "immune_enriched_share", ".1%")
            continue
        n = 0
        if result.samples is not None:
            post_samples = one_sample_per_patient(result.samples, "post")
            n = int((post_samples["resistance_class"] == klass).sum())
        glue.count(f"ch5_post_n_{klass}", n, what=f"post-progression RNA samples, {klass} resistance")
        glue.phrase(f"ch5_post_ie_{klass}", NOT_ANALYSED)
    stratified = "post_progression_acquired_vs_primary"
    for key, signature in HEADLINE_SCORES.items():
        _interval(
            f"ch5_post_{key}",
            post.stratified,
            signature,
            "shift",
            f"stratified shift of {label(signature)} after progression, acquired over primary resistance",
        )
        glue.cell(f"ch5_post_{key}_q", stratified, signature, "q", "p")
        _interval(
            f"ch5_post_{key}_adjusted",
            post.adjusted,
            signature,
            "estimate",
            f"adjusted mean difference of {label(signature)} after progression, acquired vs primary",
        )
    share = "post_progression_subtype_test"
    for analysis in ("stratified", "pooled"):
        _interval(
            f"ch5_post_or_{analysis}",
            post.share_test,
            analysis,
            "odds_ratio",
            f"odds ratio of an immune-enriched subtype after progression, acquired vs primary, {analysis}",
        )
        glue.cell(f"ch5_post_or_{analysis}_p", share, analysis, "p", "p")
    glue.cell("ch5_post_or_homogeneity_p", share, "stratified", "homogeneity_p", "p")


def _glue_transitions(result: TMEChapter) -> None:
    """The paired pre→post transitions of acquired and primary resistance."""
    transitions = result.transitions
    glue.phrase("ch5_transitions_status", transitions.missing or "")
    glue.phrase("ch5_transitions_strata", transition_strata_sentence(transitions))
    for klass in COMPARED_CLASSES:
        for key, column, fmt in (
            ("pairs", "pairs", ",d"),
            ("gained", "gained_immune", ".1%"),
            ("lost", "lost_immune", ".1%"),
        ):
            if transitions.missing:
                glue.phrase(f"ch5_{key}_{klass}", NOT_ANALYSED)
            else:
                glue.cell(f"ch5_{key}_{klass}", "transition_summary", klass, column, fmt)
    for key, signature in (("ifng", "IFNG_AYERS2017"), ("immune_axis", "immune_axis")):
        _interval(
            f"ch5_change_{key}",
            transitions.stratified,
            signature,
            "shift",
            f"stratified shift of the pre→post change of {label(signature)}, acquired over primary",
        )
        glue.cell(f"ch5_change_{key}_q", "transition_changes_acquired_vs_primary", signature, "q", "p")


def _glue_carriers(result: TMEChapter) -> None:
    """LoF carriers against non-carriers after progression."""
    carriers = result.carriers
    glue.phrase("ch5_carriers_status", carriers.missing or carrier_strata_sentence(carriers))
    glue.phrase("ch5_carrier_genes", ", ".join(carriers.genes) if carriers.genes else "none")
    glue.value("ch5_fdr", carriers.fdr, "g", what="false discovery rate of the carrier effects")
    effects = carriers.effects if carriers.effects is not None else pd.DataFrame()
    n_pairs = len(effects[["gene", "cancer_type"]].drop_duplicates()) if len(effects) else 0
    glue.value("ch5_carrier_pairs", n_pairs, "d", what="genes and cancer types with enough carriers")
    glue.value("ch5_carrier_tests", len(effects), "d", what="carrier effects estimated")
    significant = carriers.significant.table
    glue.value(
        "ch5_carrier_significant",
        0 if significant is None else len(significant),
        "d",
        what="carrier effects with a q-value below the FDR",
    )
    glue.phrase("ch5_significant_status", carriers.significant.missing or "")


def glue_results(result: TMEChapter) -> None:
    """Glue the numbers and phrases that chapter 5's prose quotes.

    Call it once, after the chapter's tables are published: counts and shares come from the
    tables as shown (suppressed where the cohort is restricted); estimates with their intervals,
    which no suppression touches, from the result.
    """
    _glue_scaling(result)
    _glue_pre_and_agreement(result)
    _glue_post(result)
    _glue_transitions(result)
    _glue_carriers(result)
