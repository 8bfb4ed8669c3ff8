"""Chapter 3 as one call: :func:`survival_after_progression` returns a :class:`PPSResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter

from helpers.analysis.derive import patient_table
from helpers.analysis.pps.heterogeneity import (
    check_rmst_months,
    complete_case_table,
    heterogeneity_table,
    interaction_table,
    rmst_table,
    shrinkage_table,
)
from helpers.analysis.pps.models import (
    AdjustedCox,
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
    LANDMARK_GROUPS,
    attrition_table,
    landmark_os_set,
    naive_class_os_set,
    pps_analysis_set,
    unavailable_reason,
)
from helpers.analysis.result import AnalysisResult
from helpers.data.cohort import Cohort
from helpers.simulate import load_truth

# --------------------------------------------------------------------------------------------
# planted truth (simulated cohorts only)
# --------------------------------------------------------------------------------------------


def planted_pps_hr(cohort_path: str | Path) -> float | None:
    """The planted pooled acquired-vs-primary HR of a saved simulated cohort (None if absent)."""
    if not (Path(cohort_path) / "truth.json").is_file():
        return None
    value = load_truth(cohort_path).get("pps_hr", {}).get("pooled")
    return None if value is None else float(value)


def planted_pps_rmst(cohort_path: str | Path, rmst_months: float) -> float | None:
    """The planted pooled RMST difference (acquired − primary, months) of a saved simulated cohort.

    ``truth["pps_rmst"]["difference_months"]["pooled"]``, the average of the per-type planted
    differences weighted by the acquired + primary patients of each type (the weights of
    :func:`helpers.analysis.pps.rmst_table`); None when the truth has none or was computed at
    another horizon than ``rmst_months``.
    """
    if not (Path(cohort_path) / "truth.json").is_file():
        return None
    planted = load_truth(cohort_path).get("pps_rmst") or {}
    value = (planted.get("difference_months") or {}).get("pooled")
    horizon = planted.get("rmst_months")
    if value is None or horizon is None or abs(float(horizon) - float(rmst_months)) > 1e-9:
        return None
    return float(value)


# --------------------------------------------------------------------------------------------
# the chapter
# --------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class PPSResult(AnalysisResult):
    """Everything chapter 3 shows: tables, fitted models and Kaplan-Meier curves.

    When the cohort cannot support the chapter, ``missing`` says why and the other fields
    (but the parameters) are empty.

    Attributes
    ----------
    benefit_months, min_exposure_weeks, min_events_per_group, rmst_months
        The parameters the chapter ran with.
    attrition : pandas.DataFrame
        :func:`attrition_table`.
    analysis_set : pandas.DataFrame
        :func:`pps_analysis_set` (with ``rt_months`` where the cohort has radiotherapy).
    curves : dict of str to KaplanMeierFitter
        Survival after progression by class, all cancer types together (:data:`CLASS_ORDER`).
    curves_by_cancer_type : dict of str to dict of str to KaplanMeierFitter
        The same per cancer type (sorted by name).
    km_summary, logrank : pandas.DataFrame
        :func:`km_summary` of ``curves`` and :func:`logrank_table` (pooled, stratified by
        cancer type, per type).
    pooled : AdjustedCox
        The primary model (:func:`pooled_pps_cox`); ``pooled_hazard_ratios`` is its table and
        ``complete_case`` (:func:`complete_case_table`) what its complete-case step cost.
    per_cancer_type, forest, proportional_hazards, sensitivity : pandas.DataFrame
        :func:`per_cancer_type_pps`, :func:`forest_table`, :func:`ph_table` and
        :func:`sensitivity_table`.
    landmark_set, naive_set : pandas.DataFrame
        :func:`landmark_os_set` and :func:`naive_class_os_set` (overall survival).
    landmark_curves, naive_curves : dict of str to KaplanMeierFitter
        OS from the landmark by :data:`LANDMARK_GROUPS`; OS from ICB start by final class.
    immortal_time : pandas.DataFrame
        :func:`immortal_time_table`.
    interaction, heterogeneity, shrinkage : pandas.DataFrame
        :func:`interaction_table` (class × cancer type), :func:`heterogeneity_table` (Q, I²,
        τ²) and :func:`shrinkage_table` (per-type estimates, also with few deaths, beside their
        empirical-Bayes shrunken estimates).
    rmst : pandas.DataFrame
        :func:`rmst_table`: RMST difference up to ``rmst_months``, per type and standardised.
    planted_hr : float or None
        The hazard ratio planted in a simulated cohort (None for a real one).
    planted_rmst : float or None
        The pooled RMST difference planted at ``rmst_months`` (None for a real cohort, or when
        the truth has none at this horizon).
    """

    benefit_months: float
    min_exposure_weeks: float
    min_events_per_group: int = 10
    rmst_months: float = 12.0
    attrition: pd.DataFrame | None = None
    analysis_set: pd.DataFrame | None = None
    curves: dict[str, KaplanMeierFitter] = field(default_factory=dict)
    curves_by_cancer_type: dict[str, dict[str, KaplanMeierFitter]] = field(default_factory=dict)
    km_summary: pd.DataFrame | None = None
    logrank: pd.DataFrame | None = None
    pooled: AdjustedCox | None = None
    pooled_hazard_ratios: pd.DataFrame | None = None
    complete_case: pd.DataFrame | None = None
    per_cancer_type: pd.DataFrame | None = None
    forest: pd.DataFrame | None = None
    proportional_hazards: pd.DataFrame | None = None
    sensitivity: pd.DataFrame | None = None
    landmark_set: pd.DataFrame | None = None
    naive_set: pd.DataFrame | None = None
    landmark_curves: dict[str, KaplanMeierFitter] = field(default_factory=dict)
    naive_curves: dict[str, KaplanMeierFitter] = field(default_factory=dict)
    immortal_time: pd.DataFrame | None = None
    interaction: pd.DataFrame | None = None
    heterogeneity: pd.DataFrame | None = None
    shrinkage: pd.DataFrame | None = None
    rmst: pd.DataFrame | None = None
    planted_hr: float | None = None
    planted_rmst: float | None = None

    @property
    def heterogeneity_assessed(self) -> bool:
        """Whether at least two cancer types have their own estimate (Q, I², τ² and shrinkage exist)."""
        return self.heterogeneity is not None and bool(np.isfinite(self.heterogeneity["q"].iloc[0]))


def survival_after_progression(
    cohort: Cohort,
    benefit_months: float = 6.0,
    min_exposure_weeks: float = 6.0,
    min_events_per_group: int = 10,
    cohort_path: str | Path | None = None,
    rmst_months: float = 12.0,
) -> PPSResult:
    """Run chapter 3 on a cohort: survival after progression and the landmark analysis of OS.

    Parameters
    ----------
    cohort : helpers.data.cohort.Cohort
        The cohort.
    benefit_months, min_exposure_weeks : float
        The resistance-class rules (see :func:`helpers.analysis.derive.patient_table`); the
        landmark of the overall-survival analysis is ``benefit_months``.
    min_events_per_group : int, default 10
        Deaths needed in each class for a per-cancer-type estimate.
    cohort_path : str or Path, optional
        The cohort's folder; for a simulated cohort the planted hazard ratio and RMST
        difference are read from its ``truth.json``.
    rmst_months : float, default 12
        Horizon (months after progression) of the restricted mean survival time.

    Returns
    -------
    PPSResult
        With ``missing`` set (and nothing else computed) when the cohort has no progressions,
        no deaths after progression or not both classes.
    """
    parameters = {
        "benefit_months": benefit_months,
        "min_exposure_weeks": min_exposure_weeks,
        "min_events_per_group": int(min_events_per_group),
        "rmst_months": check_rmst_months(rmst_months),
    }
    patients = patient_table(cohort, benefit_months, min_exposure_weeks)
    missing = unavailable_reason(patients)
    if missing is not None:
        return PPSResult(missing=missing, **parameters)
    pps_set = pps_analysis_set(patients, cohort.radiotherapy)
    curves = km_curves(pps_set, "pps_months", "pps_event", "resistance_class", CLASS_ORDER)
    pooled = pooled_pps_cox(pps_set)
    per_type = per_cancer_type_pps(pps_set, min_events_per_group)
    # every type with a death in each class gets its own estimate, to show beside its shrunken one
    per_type_all = per_cancer_type_pps(pps_set, 1)
    landmark_set = landmark_os_set(patients, benefit_months)
    naive_set = naive_class_os_set(patients)
    simulated = cohort.simulated and cohort_path not in (None, "")
    return PPSResult(
        **parameters,
        attrition=attrition_table(patients),
        analysis_set=pps_set,
        curves=curves,
        curves_by_cancer_type=km_curves_by_cancer_type(pps_set),
        km_summary=km_summary(curves),
        logrank=logrank_table(pps_set),
        pooled=pooled,
        pooled_hazard_ratios=pooled.hazard_ratios(),
        complete_case=complete_case_table(pooled),
        per_cancer_type=per_type,
        forest=forest_table(pooled, per_type),
        proportional_hazards=ph_table(pooled),
        sensitivity=sensitivity_table(pps_set),
        landmark_set=landmark_set,
        naive_set=naive_set,
        landmark_curves=km_curves(landmark_set, "os_months", "os_event", "group", LANDMARK_GROUPS),
        naive_curves=km_curves(naive_set, "os_months", "os_event", "resistance_class", CLASS_ORDER),
        immortal_time=immortal_time_table(patients, benefit_months),
        interaction=interaction_table(pps_set, per_type, min_events_per_group),
        heterogeneity=heterogeneity_table(per_type, min_events_per_group),
        shrinkage=shrinkage_table(per_type_all, min_events_per_group),
        rmst=rmst_table(pps_set, parameters["rmst_months"]),
        planted_hr=planted_pps_hr(cohort_path) if simulated else None,
        planted_rmst=planted_pps_rmst(cohort_path, parameters["rmst_months"]) if simulated else None,
    )
