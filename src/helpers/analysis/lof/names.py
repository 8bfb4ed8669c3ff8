"""Names shared by the acquired-LoF modules: comparisons, sample groups, criteria and call statuses.

DESIGN §4 (revision of December 2026). The *primary* comparison sets post-progression samples of
acquired resistance against pre-treatment samples of patients whose index course is *also*
acquired resistance, so a LoF that merely selects patients into that class before treatment (a
LoF that predicts benefit, never gained) is equally common in both groups and is not read as
acquisition. The comparison against pre-treatment samples of *all* patients is kept as a
secondary one: it has more reference samples, but it confounds baseline selection with
acquisition.
"""

from __future__ import annotations

__all__ = [
    "PRIMARY_COMPARISON",
    "ALL_PRE_COMPARISON",
    "SECONDARY_COMPARISON",
    "PAIRED_ACQUIRED",
    "PAIRED_PRIMARY",
    "GROUP_COMPARISONS",
    "SECONDARY_COMPARISONS",
    "PAIRED_COMPARISONS",
    "COMPARISON_LABELS",
    "GROUP_NAMES",
    "LOF_GROUPS",
    "FOUND_CRITERIA",
    "CRITERION_COLUMNS",
    "DECIDING_ODDS_RATIOS",
    "ENRICHED",
    "DEPLETED",
    "OPPOSITE",
    "NOT_SIGNIFICANT",
    "NOT_TESTED",
    "STATUSES",
    "DETECTABLE_POWER",
]

#: Primary comparison: post-progression samples of acquired resistance vs pre-treatment samples
#: of patients whose index course is also acquired resistance (a patient with both counts in the
#: post-progression group only).
PRIMARY_COMPARISON = "acquired_post_vs_acquired_pre"
#: Secondary comparison: post-progression samples of acquired resistance vs pre-treatment samples
#: of all patients (the primary comparison before December 2026). Reads baseline selection as
#: acquisition: a LoF that predicts benefit is enriched here without ever being gained.
ALL_PRE_COMPARISON = "acquired_post_vs_all_pre"
#: Secondary comparison: post-progression samples, acquired vs primary resistance.
SECONDARY_COMPARISON = "acquired_post_vs_primary_post"
#: Paired comparisons: LoF gained between a patient's pre-treatment and post-progression sample.
PAIRED_ACQUIRED = "paired_gain_acquired"
PAIRED_PRIMARY = "paired_gain_primary"
#: The comparisons of two groups of samples (primary first), the secondary ones, and the paired ones.
GROUP_COMPARISONS = (PRIMARY_COMPARISON, ALL_PRE_COMPARISON, SECONDARY_COMPARISON)
SECONDARY_COMPARISONS = (ALL_PRE_COMPARISON, SECONDARY_COMPARISON)
PAIRED_COMPARISONS = (PAIRED_ACQUIRED, PAIRED_PRIMARY)
#: Readable names of the comparisons (tables and figures).
COMPARISON_LABELS: dict[str, str] = {
    PRIMARY_COMPARISON: "acquired resistance, post-progression vs pre-treatment",
    ALL_PRE_COMPARISON: "post-progression of acquired resistance vs pre-treatment of all patients",
    SECONDARY_COMPARISON: "post-progression, acquired vs primary resistance",
    PAIRED_ACQUIRED: "gained within pre/post pairs, acquired resistance",
    PAIRED_PRIMARY: "gained within pre/post pairs, primary resistance",
}
#: Short names of the case and reference group of each group comparison (table columns).
GROUP_NAMES: dict[str, tuple[str, str]] = {
    PRIMARY_COMPARISON: ("post, acquired", "pre, acquired"),
    ALL_PRE_COMPARISON: ("post, acquired", "pre, all patients"),
    SECONDARY_COMPARISON: ("post, acquired", "post, primary"),
}
#: Sample groups of :func:`helpers.analysis.lof.select_lof_samples`.
LOF_GROUPS = ("pre", "post_acquired", "post_primary")

#: Which q-value decides that a gene is significant: ``both`` (max_q: Fisher and Firth must both
#: be significant), ``firth`` (firth_q) or ``fisher`` (fisher_q).
FOUND_CRITERIA = ("both", "firth", "fisher")
#: The (p-value, q-value) columns of each criterion.
CRITERION_COLUMNS: dict[str, tuple[str, str]] = {
    "both": ("max_p", "max_q"),
    "firth": ("firth_p", "firth_q"),
    "fisher": ("fisher_p", "fisher_q"),
}
#: The odds ratios of the tests that decide under each criterion: a significant gene is enriched
#: only when every one of them is above 1, depleted only when every one is below 1.
DECIDING_ODDS_RATIOS: dict[str, tuple[str, ...]] = {
    "both": ("fisher_or", "firth_or"),
    "firth": ("firth_or",),
    "fisher": ("fisher_or",),
}

#: Call status of a gene in a group comparison (column ``status`` of the results).
ENRICHED = "enriched"
DEPLETED = "depleted"
OPPOSITE = "significant, odds ratios in opposite directions"
NOT_SIGNIFICANT = "not significant"
NOT_TESTED = "not tested"
STATUSES = (ENRICHED, DEPLETED, OPPOSITE, NOT_SIGNIFICANT, NOT_TESTED)

#: Recorded power (``truth.json``) from which a planted effect counts as detectable by the cohort.
DETECTABLE_POWER = 0.8
