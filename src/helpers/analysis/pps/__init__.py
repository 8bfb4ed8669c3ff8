"""Chapter 3: survival after progression, acquired vs primary resistance.

The primary endpoint (DESIGN §4) is survival *after progression*: the clock starts on the day
the index ICB course progressed, so both resistance classes are compared from the same
clinical moment. The primary model is a Cox model stratified by cancer type (each type its own
baseline hazard) with acquired (vs primary) resistance adjusted for age, sex, line of therapy,
log2(TMB + 1) and ECOG performance status. DESIGN names age, sex, line and TMB; ECOG is added
wherever a cohort records it because performance status drives both the class (poor ECOG
lowers the chance of a response) and survival, so leaving it out would confound the
comparison.

Real cohorts lack some covariates: a covariate a cohort does not record at all is dropped from
the model (and the chapter says which); a covariate recorded for some patients only is handled
by complete-case analysis (and the chapter says how many patients that costs).

Overall survival *from ICB start* must not be compared between the final classes, because a
patient has to live at least ``benefit_months`` to be called "acquired" (immortal time; see
:mod:`helpers.stats.survival`). :func:`immortal_time_table` puts the naive comparisons beside a
landmark analysis at ``benefit_months`` whose groups use only what is known then.

:func:`survival_after_progression` runs the whole chapter and returns a :class:`PPSResult`;
its figures are in :mod:`helpers.plots.pps` and its sentences in :mod:`helpers.book.sentences.pps`.
Times are in months (days / 30.4375) throughout.

Whether the difference is the same in every cancer type is tested, not assumed: a class ×
cancer-type interaction test, Cochran's Q and I² over the per-type hazard ratios, per-type
estimates beside empirical-Bayes shrunken ones, a log-rank test stratified as the model is, and
the restricted-mean-survival-time difference standardised over cancer types, which needs no
proportional hazards.

Modules: :mod:`~helpers.analysis.pps.sets` (who is analysed), :mod:`~helpers.analysis.pps.models`
(the models and tables), :mod:`~helpers.analysis.pps.heterogeneity` (the same in every cancer
type? and the RMST) and :mod:`~helpers.analysis.pps.chapter` (the whole chapter as one call);
this package re-exports their public names, so ``from helpers.analysis import pps`` is all a
caller needs.
"""

from helpers.analysis.pps.chapter import (
    PPSResult,
    planted_pps_hr,
    planted_pps_rmst,
    survival_after_progression,
)
from helpers.analysis.pps.heterogeneity import (
    POOLED_RMST,
    complete_case_table,
    heterogeneity_table,
    interaction_table,
    rmst_table,
    shrinkage_table,
)
from helpers.analysis.pps.models import (
    AdjustedCox,
    fit_adjusted_cox,
    forest_table,
    immortal_time_table,
    km_curves,
    km_curves_by_cancer_type,
    km_summary,
    logrank_table,
    per_cancer_type_pps,
    ph_table,
    pooled_pps_cox,
    sensitivity_table,
)
from helpers.analysis.pps.sets import (
    CLASS_ORDER,
    COVARIATE_LABELS,
    COVARIATE_SHORT,
    COVARIATES,
    LANDMARK_GROUPS,
    attrition_table,
    covariate_frame,
    landmark_os_set,
    naive_class_os_set,
    naive_response_os_set,
    pps_analysis_set,
    unavailable_reason,
)

__all__ = [
    "COVARIATES",
    "COVARIATE_LABELS",
    "COVARIATE_SHORT",
    "CLASS_ORDER",
    "LANDMARK_GROUPS",
    "PPSResult",
    "survival_after_progression",
    "AdjustedCox",
    "unavailable_reason",
    "covariate_frame",
    "pps_analysis_set",
    "attrition_table",
    "fit_adjusted_cox",
    "pooled_pps_cox",
    "per_cancer_type_pps",
    "forest_table",
    "sensitivity_table",
    "km_curves",
    "km_curves_by_cancer_type",
    "km_summary",
    "logrank_table",
    "ph_table",
    "landmark_os_set",
    "naive_class_os_set",
    "naive_response_os_set",
    "immortal_time_table",
    "planted_pps_hr",
    "planted_pps_rmst",
    "POOLED_RMST",
    "complete_case_table",
    "interaction_table",
    "heterogeneity_table",
    "shrinkage_table",
    "rmst_table",
]
