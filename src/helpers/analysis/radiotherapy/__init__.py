"""The radiotherapy-salvage chapter (DESIGN §4): radiobiology, the literature, the cohort.

- :mod:`.dose`: BED, EQD2 and the dose-based modality classes;
- :mod:`.literature`: part (a), the curated literature table and its pooling
  (:func:`literature_analysis` returns a :class:`LiteratureResult`);
- part (b), the cohort: :mod:`.courses` (RT courses after progression, their dose, and
  response by dose), :mod:`.post_progression` (survival with RT as a time-varying exposure),
  :mod:`.sensitivity` (E-values, lagged exposure, negative controls, time-updated performance
  status, and the warning rules), and :mod:`.cohort`, which runs both on a cohort (:func:`cohort_analysis` returns an
  :class:`RTCohortResult`).

The random-effects meta-analysis itself is general statistics: :mod:`helpers.stats.meta`.
The public names of the three modules are re-exported here, so that a notebook needs one
import (``from helpers.analysis import radiotherapy as rt``).
"""

from helpers.analysis.radiotherapy.cohort import (
    NO_RT_AFTER_PROGRESSION,
    NO_RT_TABLE,
    RTCohortResult,
    cohort_analysis,
    planted_rt_hr,
)
from helpers.analysis.radiotherapy.courses import (
    EQD2_GROUP_EDGES_GY,
    EVALUABLE_RESPONSES,
    RESPONSE_COUNT_COLUMNS,
    RT_TIMINGS,
    eqd2_group_labels,
    modality_by_eqd2_group,
    modality_table,
    response_by_group,
    response_dose_slope,
    response_dose_slopes,
    rt_courses,
    rt_timing_table,
)
from helpers.analysis.radiotherapy.dose import MODALITY_CLASSES, bed, classify_modality, eqd2
from helpers.analysis.radiotherapy.literature import (
    LITERATURE_PATH,
    MIN_STUDIES_TO_POOL,
    LiteratureResult,
    literature_analysis,
    literature_response_rows,
    load_literature,
    pool_literature,
)
from helpers.analysis.radiotherapy.post_progression import (
    COVARIATE_LABELS,
    DEFAULT_ADJUSTMENT,
    RTSurvivalResult,
    post_progression_table,
    rt_survival_analysis,
)
from helpers.analysis.radiotherapy.sensitivity import (
    COMMON_OUTCOME_SHARE,
    DEFAULT_RT_LAG_MONTHS,
    EVALUE_LIMIT_WARNING,
    LAG_SHIFT_WARNING,
    MIN_NEGATIVE_CONTROL_EVENTS,
    PS_SHIFT_WARNING,
    RULES,
    SENSITIVITY_ANALYSES,
    RTSensitivityResult,
    analysis_label,
    performance_status_changes,
    rt_sensitivity_analysis,
    rule_text,
)

__all__ = [
    "COMMON_OUTCOME_SHARE",
    "COVARIATE_LABELS",
    "DEFAULT_ADJUSTMENT",
    "DEFAULT_RT_LAG_MONTHS",
    "EVALUE_LIMIT_WARNING",
    "LAG_SHIFT_WARNING",
    "MIN_NEGATIVE_CONTROL_EVENTS",
    "PS_SHIFT_WARNING",
    "RULES",
    "SENSITIVITY_ANALYSES",
    "RTSensitivityResult",
    "EQD2_GROUP_EDGES_GY",
    "EVALUABLE_RESPONSES",
    "LITERATURE_PATH",
    "MIN_STUDIES_TO_POOL",
    "MODALITY_CLASSES",
    "NO_RT_AFTER_PROGRESSION",
    "NO_RT_TABLE",
    "RESPONSE_COUNT_COLUMNS",
    "RT_TIMINGS",
    "LiteratureResult",
    "RTCohortResult",
    "RTSurvivalResult",
    "analysis_label",
    "bed",
    "classify_modality",
    "cohort_analysis",
    "eqd2",
    "eqd2_group_labels",
    "literature_analysis",
    "literature_response_rows",
    "load_literature",
    "modality_by_eqd2_group",
    "modality_table",
    "performance_status_changes",
    "planted_rt_hr",
    "pool_literature",
    "post_progression_table",
    "response_by_group",
    "response_dose_slope",
    "response_dose_slopes",
    "rt_courses",
    "rt_sensitivity_analysis",
    "rt_survival_analysis",
    "rt_timing_table",
    "rule_text",
]
