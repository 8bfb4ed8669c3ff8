"""Numbers of chapter 1 (cohort overview) quoted in its prose; from :mod:`helpers.analysis.overview`."""

from __future__ import annotations

from helpers.analysis.overview import CohortOverview
from helpers.book import glue

__all__ = ["glue_results"]

#: Attrition rows the prose quotes: glue key suffix -> row label of the attrition table.
_ATTRITION = {
    "patients": "All patients",
    "classified": "Index ICB course with a resistance class other than not evaluable",
    "resistant": "Primary or acquired resistance",
    "progressed": "... progressed (survival after progression)",
    "dna_pairs": "... with pre and post DNA (pairs)",
    "rna_pairs": "... with pre and post RNA (pairs)",
    "rt": "Progressed (any class) and given radiotherapy after progression",
}


def glue_results(ov: CohortOverview) -> None:
    """Glue the numbers that chapter 1's prose quotes (after its tables are published)."""
    labels = set(ov.attrition["analysis set"]) if "analysis set" in ov.attrition else set()
    for suffix, label in _ATTRITION.items():
        if label in labels:
            glue.cell(f"ch1_{suffix}", "attrition", {"analysis set": label}, "patients", ",d")
        else:
            glue.phrase(f"ch1_{suffix}", "none")
    types = [c for c in ov.table_one.columns if c != "All"]
    glue.value("ch1_cancer_types", len(types), "d", what="cancer types in the cohort")
    glue.phrase("ch1_cancer_types_noun", "cancer type" if len(types) == 1 else "cancer types")
    glue.cell("ch1_median_os", "table1", "Median OS, months (KM)", "All", ".1f")
    glue.cell("ch1_median_pfs", "table1", "Median PFS, months (KM)", "All", ".1f")
