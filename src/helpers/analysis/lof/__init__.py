"""Chapter 4, acquired loss-of-function (LoF) alterations (DESIGN §4).

The chapter's code, by step:

* :mod:`.names`: the comparisons, sample groups, criteria and call statuses;
* :mod:`.matrix`: panel-aware LoF calls (:func:`lof_matrix`), tumour mutational burden, the
  kind of each LoF event and the covariates of the Firth model;
* :mod:`.compare`: per-gene comparisons of two groups of samples (Fisher and adjusted Firth)
  and of pre/post pairs (exact McNemar);
* :mod:`.calls`: what a comparison says of a gene (enriched, depleted, ...) and a simulated
  cohort's planted effects beside their calls;
* :mod:`.chapter`: the sample rules, :func:`acquired_lof_analysis` and its
  :class:`AcquiredLofResult`, and the score against a simulated cohort's truth;
* :mod:`.tables`: the readable tables the page shows.

The statistics they use are general and live in :mod:`helpers.stats` (:mod:`~helpers.stats.firth`,
:mod:`~helpers.stats.contingency`, :mod:`~helpers.stats.multiple`); the LoF vocabulary lives in
:mod:`helpers.data.maf`. The names below are the chapter's public API (``from helpers.analysis
import lof``).
"""

from __future__ import annotations

from helpers.analysis.lof.calls import (
    PLANTED_COLUMNS,
    ROLE_LABELS,
    call_status,
    cohort_truth,
    planted_effects,
    planted_lof_pairs,
    selection_pairs,
)
from helpers.analysis.lof.chapter import (
    ALL_COMPARISONS,
    AcquiredLofResult,
    acquired_lof_analysis,
    discovery_report,
    select_lof_samples,
)
from helpers.analysis.lof.compare import compare_groups, paired_gain_test
from helpers.analysis.lof.matrix import (
    WHOLE_EXOME_KEY,
    lof_covariates,
    lof_event_kinds,
    lof_matrix,
    tmb_per_mb,
)
from helpers.analysis.lof.names import (
    ALL_PRE_COMPARISON,
    COMPARISON_LABELS,
    CRITERION_COLUMNS,
    DECIDING_ODDS_RATIOS,
    DEPLETED,
    DETECTABLE_POWER,
    ENRICHED,
    FOUND_CRITERIA,
    GROUP_COMPARISONS,
    GROUP_NAMES,
    LOF_GROUPS,
    NOT_SIGNIFICANT,
    NOT_TESTED,
    OPPOSITE,
    PAIRED_ACQUIRED,
    PAIRED_COMPARISONS,
    PAIRED_PRIMARY,
    PRIMARY_COMPARISON,
    SECONDARY_COMPARISON,
    SECONDARY_COMPARISONS,
    STATUSES,
)
from helpers.analysis.lof.tables import (
    DEPLETED_GENES_TABLE,
    FOUND_GENES_TABLE,
    TOP_GENES_TABLE,
    found_table,
    leading_genes,
    oncoprint_genes,
    paired_table,
    planted_table,
    reported_genes,
)

__all__ = [
    "ALL_COMPARISONS",
    "ALL_PRE_COMPARISON",
    "COMPARISON_LABELS",
    "CRITERION_COLUMNS",
    "DECIDING_ODDS_RATIOS",
    "DEPLETED",
    "DEPLETED_GENES_TABLE",
    "DETECTABLE_POWER",
    "ENRICHED",
    "FOUND_CRITERIA",
    "FOUND_GENES_TABLE",
    "GROUP_COMPARISONS",
    "GROUP_NAMES",
    "LOF_GROUPS",
    "NOT_SIGNIFICANT",
    "NOT_TESTED",
    "OPPOSITE",
    "PAIRED_ACQUIRED",
    "PAIRED_COMPARISONS",
    "PAIRED_PRIMARY",
    "PLANTED_COLUMNS",
    "PRIMARY_COMPARISON",
    "ROLE_LABELS",
    "SECONDARY_COMPARISON",
    "SECONDARY_COMPARISONS",
    "STATUSES",
    "TOP_GENES_TABLE",
    "WHOLE_EXOME_KEY",
    "AcquiredLofResult",
    "acquired_lof_analysis",
    "call_status",
    "cohort_truth",
    "compare_groups",
    "discovery_report",
    "found_table",
    "leading_genes",
    "lof_covariates",
    "lof_event_kinds",
    "lof_matrix",
    "oncoprint_genes",
    "paired_gain_test",
    "paired_table",
    "planted_effects",
    "planted_lof_pairs",
    "planted_table",
    "reported_genes",
    "select_lof_samples",
    "selection_pairs",
    "tmb_per_mb",
]
