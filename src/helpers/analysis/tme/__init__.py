"""Chapter 5, TME states: reference-scaled ssGSEA scores, TME subtypes and their comparisons.

The modules, from the bottom:

* :mod:`~helpers.analysis.tme.subtypes`: the two axes and the four subtypes of Bagaev et al.
  2021, subtype counts and agreement;
* :mod:`~helpers.analysis.tme.reference`: the fixed reference raw scores are scaled against
  (shipped, or made once from a cohort), and :func:`score_tme`;
* :mod:`~helpers.analysis.tme.public`: the public cohorts (the shipped reference and the
  real-data checks of chapter 7);
* :mod:`~helpers.analysis.tme.strata`: the strata (cancer type, biopsy site) of the class
  comparisons;
* :mod:`~helpers.analysis.tme.compare`: the chapter's comparisons on scored samples, stratified
  by cancer type and biopsy site where recorded, and pooled;
* :mod:`~helpers.analysis.tme.transitions`: paired pre→post samples, their subtype moves and
  score changes;
* :mod:`~helpers.analysis.tme.chapter`: :func:`tme_chapter`, every step of the chapter as
  one result object.

The scorer itself is :func:`helpers.stats.ssgsea.ssgsea` (its Dask path
:func:`helpers.stats.ssgsea_dask.ssgsea_dask`), the gene sets come from
:mod:`helpers.data.genesets`, the trend test from :mod:`helpers.stats.trend` and the
stratified tests from :mod:`helpers.stats.stratified`.
"""

from helpers.analysis.tme.chapter import (
    CarrierEffects,
    CohortTME,
    MedianScores,
    PlantedAgreement,
    PostProgression,
    PreTreatment,
    SignificantCarrierEffects,
    TMEChapter,
    Transitions,
    score_cohort,
    tme_chapter,
)
from helpers.analysis.tme.compare import (
    COMPARED_CLASSES,
    ICB_SIGNATURES,
    TIME_SIGNATURES,
    adjusted_class_difference,
    compare_classes,
    compared_strata,
    lof_carrier_effects,
    median_matrix,
    one_sample_per_patient,
    scores_over_time,
    subtype_share_test,
    tme_sample_table,
)
from helpers.analysis.tme.public import (
    IMMUNE_PHENOTYPES,
    PUBLIC_RNA_COHORTS,
    REFERENCE_COHORTS,
    PublicCohortTME,
    build_public_reference,
    immune_phenotype_trend,
    immune_subtypes_by_phenotype,
    public_rna_samples,
    read_public_expression,
    response_association,
    score_public_cohort,
)
from helpers.analysis.tme.reference import (
    GENE_ALIASES,
    MIN_UNIVERSE_COVERAGE,
    REFERENCE_DIR,
    ReferenceCheck,
    TMEReference,
    TMEScores,
    build_reference,
    check_reference,
    harmonise_gene_symbols,
    load_reference,
    scale_scores,
    score_tme,
    signature_coverage,
    write_reference,
)
from helpers.analysis.tme.strata import (
    NOT_RECORDED,
    STRATA,
    describe_strata,
    recorded_strata,
    stratum_labels,
)
from helpers.analysis.tme.subtypes import (
    AXES,
    FIBROTIC_AXIS,
    IMMUNE_AXIS,
    IMMUNE_ENRICHED,
    assign_subtypes,
    subtype_agreement,
    subtype_counts,
    transition_counts,
)
from helpers.analysis.tme.transitions import (
    compare_transitions,
    paired_samples,
    site_pairs,
    transition_changes,
    transition_summary,
)

__all__ = [
    "AXES",
    "COMPARED_CLASSES",
    "FIBROTIC_AXIS",
    "GENE_ALIASES",
    "ICB_SIGNATURES",
    "IMMUNE_AXIS",
    "IMMUNE_ENRICHED",
    "IMMUNE_PHENOTYPES",
    "MIN_UNIVERSE_COVERAGE",
    "NOT_RECORDED",
    "PUBLIC_RNA_COHORTS",
    "REFERENCE_COHORTS",
    "REFERENCE_DIR",
    "STRATA",
    "TIME_SIGNATURES",
    "CarrierEffects",
    "CohortTME",
    "MedianScores",
    "PlantedAgreement",
    "PostProgression",
    "PreTreatment",
    "PublicCohortTME",
    "ReferenceCheck",
    "SignificantCarrierEffects",
    "TMEChapter",
    "TMEReference",
    "TMEScores",
    "Transitions",
    "adjusted_class_difference",
    "assign_subtypes",
    "build_public_reference",
    "build_reference",
    "check_reference",
    "compare_classes",
    "compare_transitions",
    "compared_strata",
    "describe_strata",
    "harmonise_gene_symbols",
    "immune_phenotype_trend",
    "immune_subtypes_by_phenotype",
    "load_reference",
    "lof_carrier_effects",
    "median_matrix",
    "one_sample_per_patient",
    "paired_samples",
    "public_rna_samples",
    "read_public_expression",
    "recorded_strata",
    "response_association",
    "scale_scores",
    "score_cohort",
    "score_public_cohort",
    "score_tme",
    "scores_over_time",
    "signature_coverage",
    "site_pairs",
    "stratum_labels",
    "subtype_agreement",
    "subtype_counts",
    "subtype_share_test",
    "tme_chapter",
    "tme_sample_table",
    "transition_changes",
    "transition_counts",
    "transition_summary",
    "write_reference",
]
