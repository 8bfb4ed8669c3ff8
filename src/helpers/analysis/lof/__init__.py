"""Chapter 4, acquired loss-of-function (LoF) alterations (DESIGN §4).

The chapter's code, by step:

* :mod:`.matrix`: panel-aware LoF calls (:func:`lof_matrix`), tumour mutational burden, the
  kind of each LoF event and the covariates of the Firth model;
* :mod:`.compare`: per-gene comparisons of two groups of samples (Fisher and adjusted Firth)
  and of pre/post pairs (exact McNemar);
* :mod:`.chapter`: the sample rules, :func:`acquired_lof_analysis` and its
  :class:`AcquiredLofResult`, and the score against a simulated cohort's truth;
* :mod:`.tables`: the readable tables the page shows.

The statistics they use are general and live in :mod:`helpers.stats` (:mod:`~helpers.stats.firth`,
:mod:`~helpers.stats.contingency`, :mod:`~helpers.stats.multiple`); the LoF vocabulary lives in
:mod:`helpers.data.maf`. The names below are the chapter's public API (``from helpers.analysis
import lof``).
"""

from __future__ import annotations

from helpers.analysis.lof.chapter import (
    COMPARISON_LABELS,
    CRITERION_COLUMNS,
    FOUND_CRITERIA,
    GROUP_COMPARISONS,
    LOF_GROUPS,
    PAIRED_ACQUIRED,
    PAIRED_COMPARISONS,
    PAIRED_PRIMARY,
    PRIMARY_COMPARISON,
    SECONDARY_COMPARISON,
    AcquiredLofResult,
    acquired_lof_analysis,
    discovery_report,
    planted_lof_pairs,
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
from helpers.analysis.lof.tables import (
    FOUND_GENES_TABLE,
    TOP_GENES_TABLE,
    found_table,
    leading_genes,
    oncoprint_genes,
    paired_table,
    reported_genes,
)

__all__ = [
    "COMPARISON_LABELS",
    "CRITERION_COLUMNS",
    "FOUND_CRITERIA",
    "FOUND_GENES_TABLE",
    "GROUP_COMPARISONS",
    "LOF_GROUPS",
    "PAIRED_ACQUIRED",
    "PAIRED_COMPARISONS",
    "PAIRED_PRIMARY",
    "PRIMARY_COMPARISON",
    "SECONDARY_COMPARISON",
    "TOP_GENES_TABLE",
    "WHOLE_EXOME_KEY",
    "AcquiredLofResult",
    "acquired_lof_analysis",
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
    "planted_lof_pairs",
    "reported_genes",
    "select_lof_samples",
    "tmb_per_mb",
]
