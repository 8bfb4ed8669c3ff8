"""Chapter 7: the book's methods on real patients, side by side with published facts.

The public cohorts of ``../shared/data/public/`` are imported with :mod:`helpers.data.importers` as
open published data, and every number that ``FACTS.md`` states is recomputed from the imported
(canonical) cohort or, for the few facts about source columns outside the data model, from the
source table. Then the other chapters' analyses run on the cohorts that support them.

The modules:

* :mod:`~helpers.analysis.validation.public`: the public cohorts, their overlaps and loading
  (:func:`open_public_cohorts` returns :class:`PublicCohorts`, whose ``missing`` says when the
  folder is not found);
* :mod:`~helpers.analysis.validation.facts`: :data:`FACTS` and their check (:func:`check_facts`);
* :mod:`~helpers.analysis.validation.chapters`: the other chapters on the public cohorts
  (``public_*`` functions, one result each) and :func:`chapter_support`, which says what any
  cohort supports;
* :mod:`~helpers.analysis.validation.biomarkers`: the pooled biomarker analysis
  (:func:`biomarker_meta`): each ICB signature's association with response and overall
  survival per cohort with pre-treatment RNA, pooled by random effects (DerSimonian–Laird,
  Hartung–Knapp) over cohorts that share no patients.

The chapter's figures are in :mod:`helpers.plots.validation` and its sentences and banner in
:mod:`helpers.book.sentences.validation`.

Two conventions matter:

* The "[data] SITC-rule classes" of FACTS.md count every PFS event as a progression, although
  the sources' PFS event also counts deaths. The importers' default does not count a PFS event
  on the day of death as a progression (DESIGN §4), so the class counts are checked on an
  import with ``death_is_progression=True`` and the default counts are shown beside them
  (:func:`class_counts_both_rules`).
* Overlapping cohorts (:data:`OVERLAPS`) are never pooled twice: MORRISON-1 is not pooled at
  all (its '038', 'gide' and 'va' sub-cohorts are the Riaz, Gide and Van Allen patients), and
  of the MSK-IMPACT cohorts only Chowell is pooled (:data:`POOLED_COHORTS`,
  :data:`MSK_SUBCOHORTS_LEFT_OUT`).
"""

from helpers.analysis.validation.biomarkers import (
    BIOMARKER_COHORTS,
    HEADLINE_SIGNATURES,
    OVERLAP_SETS,
    BiomarkerMeta,
    biomarker_meta,
    check_no_overlap,
)
from helpers.analysis.validation.chapters import (
    ACQUIRED_LOF_GENES,
    CHAPTER_MODULES,
    CHAPTERS,
    IMVIGOR210,
    NO_HOOKED_CHECKS,
    PHENOTYPE_SIGNATURES,
    PHENOTYPES,
    BaselineLof,
    ChapterChecks,
    PublicClasses,
    PublicPPS,
    PublicTME,
    RunCohortReport,
    baseline_lof,
    chapter_checks,
    chapter_support,
    class_counts_both_rules,
    hooked_validations,
    phenotype_scores,
    phenotype_summary,
    pps_sets,
    pps_table,
    public_baseline_lof,
    public_classes,
    public_pps,
    public_tme,
    run_cohort_report,
    support_matrix,
    tme_validations,
)
from helpers.analysis.validation.facts import (
    FACTS,
    Fact,
    FactsCheck,
    agrees,
    check_facts,
    facts_agreement,
    facts_summary,
)
from helpers.analysis.validation.public import (
    DEFAULT_PUBLIC_DIR,
    MSK_SUBCOHORTS_LEFT_OUT,
    NOT_FOUND,
    OVERLAPS,
    POOLED_COHORTS,
    PUBLIC_COHORTS,
    PublicCohort,
    PublicCohorts,
    classes,
    km_median_months,
    load_public_cohorts,
    open_public_cohorts,
    os_months,
    pfs_months,
    public_repairs,
    resolve_public_dir,
)

__all__ = [
    "ACQUIRED_LOF_GENES",
    "BIOMARKER_COHORTS",
    "HEADLINE_SIGNATURES",
    "OVERLAP_SETS",
    "BiomarkerMeta",
    "biomarker_meta",
    "check_no_overlap",
    "CHAPTERS",
    "CHAPTER_MODULES",
    "DEFAULT_PUBLIC_DIR",
    "FACTS",
    "IMVIGOR210",
    "MSK_SUBCOHORTS_LEFT_OUT",
    "NOT_FOUND",
    "NO_HOOKED_CHECKS",
    "OVERLAPS",
    "PHENOTYPES",
    "PHENOTYPE_SIGNATURES",
    "POOLED_COHORTS",
    "PUBLIC_COHORTS",
    "BaselineLof",
    "ChapterChecks",
    "Fact",
    "FactsCheck",
    "PublicCohort",
    "PublicCohorts",
    "PublicClasses",
    "PublicPPS",
    "PublicTME",
    "RunCohortReport",
    "agrees",
    "baseline_lof",
    "chapter_checks",
    "chapter_support",
    "check_facts",
    "class_counts_both_rules",
    "classes",
    "facts_agreement",
    "facts_summary",
    "hooked_validations",
    "km_median_months",
    "load_public_cohorts",
    "open_public_cohorts",
    "os_months",
    "pfs_months",
    "phenotype_scores",
    "phenotype_summary",
    "pps_sets",
    "pps_table",
    "public_baseline_lof",
    "public_classes",
    "public_pps",
    "public_repairs",
    "public_tme",
    "resolve_public_dir",
    "run_cohort_report",
    "support_matrix",
    "tme_validations",
]
