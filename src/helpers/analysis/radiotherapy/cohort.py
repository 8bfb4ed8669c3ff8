"""Part (b) of the radiotherapy-salvage chapter for one cohort: :func:`cohort_analysis`.

It runs :mod:`.courses` (RT courses after progression, their dose and response) and
:mod:`.post_progression` (survival with RT as a time-varying exposure) on a cohort and returns
the chapter's :class:`RTCohortResult`, with a ``missing`` sentence where the cohort has no RT
course after progression.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.analysis import derive
from helpers.analysis.radiotherapy.courses import (
    RT_TIMINGS,
    modality_by_eqd2_group,
    modality_table,
    response_by_group,
    response_dose_slopes,
    rt_courses,
    rt_timing_table,
)
from helpers.analysis.radiotherapy.post_progression import (
    RTSurvivalResult,
    post_progression_table,
    rt_survival_analysis,
)
from helpers.analysis.radiotherapy.sensitivity import (
    DEFAULT_RT_LAG_MONTHS,
    RTSensitivityResult,
    rt_sensitivity_analysis,
)
from helpers.analysis.result import AnalysisResult
from helpers.data.cohort import Cohort
from helpers.simulate import load_truth
from helpers.stats.survival import landmark
from helpers.units import DAYS_PER_MONTH

__all__ = [
    "NO_RT_AFTER_PROGRESSION",
    "NO_RT_TABLE",
    "RTCohortResult",
    "cohort_analysis",
    "planted_rt_hr",
]


# --------------------------------------------------------------------------------------------
# the chapter's part (b) for one cohort
# --------------------------------------------------------------------------------------------

#: What the book says when a cohort has no RT table, or no RT course after progression.
NO_RT_TABLE = (
    "This cohort has no radiotherapy table, so part (b) is skipped; part (a) above does "
    "not depend on the cohort."
)
NO_RT_AFTER_PROGRESSION = (
    "This cohort has no RT course after progression, so part (b) is skipped; "
    "part (a) above does not depend on the cohort."
)


@dataclass(kw_only=True)
class RTCohortResult(AnalysisResult):
    """Part (b) of the chapter for one cohort: RT courses after progression, survival, response.

    ``missing`` is :data:`NO_RT_TABLE` or :data:`NO_RT_AFTER_PROGRESSION` when the cohort cannot
    support part (b) (the tables are then empty), else None.

    Attributes
    ----------
    alpha_beta, landmark_months, landmark_days, rt_lag_months : float
        The α/β ratio of BED/EQD2, the landmark after progression and the exposure lag of the
        sensitivity analyses.
    min_count : int or None
        Counts below it are suppressed (restricted cohorts only; None otherwise): used for the
        at-risk rows of the Kaplan–Meier figure and to blank response rates.
    courses : pandas.DataFrame
        :func:`rt_courses` (every course, all timings).
    timing, modalities, modality_by_eqd2_group : pandas.DataFrame
        :func:`rt_timing_table`, :func:`modality_table`, :func:`modality_by_eqd2_group`.
    post_progression : pandas.DataFrame
        :func:`post_progression_table`; ``excluded_no_followup`` counts the progressed patients
        without follow-up after progression that it leaves out.
    survival : RTSurvivalResult
        :func:`rt_survival_analysis` (its ``missing`` says why the RT effect is not estimated).
    sensitivity : RTSensitivityResult
        :func:`rt_sensitivity_analysis`: E-values, lagged exposure, negative controls,
        time-updated performance status, and the warning rules (``rt_lag_months`` is its lag).
    landmark_set : pandas.DataFrame
        Patients alive ``landmark_days`` after progression, time from the landmark, grouped by RT
        before it (``rt_by_landmark``): :func:`helpers.stats.survival.landmark` of
        ``post_progression`` (unadjusted, every patient; the Kaplan–Meier curves).
    response_by_eqd2_group, response_by_modality : pandas.DataFrame
        :func:`response_by_group` by EQD2 group and by modality.
    dose_slopes : pandas.DataFrame
        :func:`response_dose_slopes`.
    planted_hr : float or None
        The RT hazard ratio planted in a simulated cohort (``truth.json``), None otherwise.
    """

    alpha_beta: float = 10.0
    landmark_months: float = 3.0
    landmark_days: float = 3.0 * DAYS_PER_MONTH
    rt_lag_months: float = DEFAULT_RT_LAG_MONTHS
    min_count: int | None = None
    courses: pd.DataFrame = field(default_factory=pd.DataFrame)
    timing: pd.DataFrame = field(default_factory=pd.DataFrame)
    modalities: pd.DataFrame = field(default_factory=pd.DataFrame)
    modality_by_eqd2_group: pd.DataFrame = field(default_factory=pd.DataFrame)
    post_progression: pd.DataFrame = field(default_factory=pd.DataFrame)
    excluded_no_followup: int = 0
    survival: RTSurvivalResult = field(default_factory=RTSurvivalResult)
    sensitivity: RTSensitivityResult = field(default_factory=RTSensitivityResult)
    landmark_set: pd.DataFrame = field(default_factory=pd.DataFrame)
    response_by_eqd2_group: pd.DataFrame = field(default_factory=pd.DataFrame)
    response_by_modality: pd.DataFrame = field(default_factory=pd.DataFrame)
    dose_slopes: pd.DataFrame = field(default_factory=pd.DataFrame)
    planted_hr: float | None = None


def planted_rt_hr(cohort: Cohort, cohort_path: str | Path | None) -> float | None:
    """The RT hazard ratio a simulated cohort planted (its ``truth.json``), or None."""
    if not cohort.simulated or not cohort_path or not (Path(cohort_path) / "truth.json").is_file():
        return None
    return float(load_truth(cohort_path)["rt"]["hr"])


def cohort_analysis(
    cohort: Cohort,
    benefit_months: float = 6.0,
    min_exposure_weeks: float = 6.0,
    *,
    alpha_beta: float = 10.0,
    landmark_months: float = 3.0,
    rt_lag_months: float = DEFAULT_RT_LAG_MONTHS,
    min_cell_count: int = 11,
    count_format: Callable[[int], str] = str,
    cohort_path: str | Path | None = None,
) -> RTCohortResult:
    """Part (b) of the radiotherapy-salvage chapter for ``cohort``.

    RT courses are annotated (:func:`rt_courses`); RT after progression is analysed as a
    time-varying exposure beside the biased comparisons (:func:`rt_survival_analysis`), with the
    landmark set of the Kaplan–Meier figure; response is tabulated by EQD2 group and modality
    and regressed on EQD2.

    Parameters
    ----------
    cohort : helpers.data.cohort.Cohort
        The cohort.
    benefit_months, min_exposure_weeks : float
        Resistance-class rules (:func:`helpers.analysis.derive.patient_table`).
    alpha_beta : float, default 10
        α/β ratio (Gy) for BED and EQD2.
    landmark_months : float, default 3
        Landmark after progression (months) of the landmark check.
    rt_lag_months : float, default 1
        Exposure lag (months) of the sensitivity analyses, and the length of the
        negative-control window after the start of RT (:func:`rt_sensitivity_analysis`).
    min_cell_count : int, default 11
        Smallest count shown for a restricted cohort (ignored for open and simulated cohorts).
    count_format : callable, default str
        Formats patient counts in the notes (the book passes
        :func:`helpers.book.privacy.count_label`).
    cohort_path : str or Path, optional
        The cohort folder, to read the planted RT effect of a simulated cohort.

    Returns
    -------
    RTCohortResult
    """
    landmark_days = landmark_months * DAYS_PER_MONTH
    settings: dict[str, Any] = {
        "alpha_beta": alpha_beta,
        "landmark_months": landmark_months,
        "landmark_days": landmark_days,
        "rt_lag_months": rt_lag_months,
        "min_count": min_cell_count if cohort.access == "restricted" else None,
    }
    if not cohort.has("radiotherapy"):
        return RTCohortResult(
            missing=NO_RT_TABLE,
            survival=RTSurvivalResult(missing=NO_RT_TABLE),
            sensitivity=RTSensitivityResult(missing=NO_RT_TABLE),
            **settings,
        )
    patients = derive.patient_table(cohort, benefit_months, min_exposure_weeks)
    courses = rt_courses(cohort.radiotherapy, patients, alpha_beta)
    if not (courses["timing"] == RT_TIMINGS[2]).any():
        return RTCohortResult(
            missing=NO_RT_AFTER_PROGRESSION,
            courses=courses,
            survival=RTSurvivalResult(missing=NO_RT_AFTER_PROGRESSION),
            sensitivity=RTSensitivityResult(missing=NO_RT_AFTER_PROGRESSION),
            **settings,
        )
    pps = post_progression_table(patients, courses)
    landmark_set = landmark(
        pps, landmark_days, "pps_days", "event", known_by_landmark_col="rt_day", group_col="rt_by_landmark"
    )
    survival_result = rt_survival_analysis(pps, landmark_days=landmark_days, count_format=count_format)
    if survival_result.available:
        sensitivity = rt_sensitivity_analysis(
            pps,
            cohort.performance_status if cohort.has("performance_status") else None,
            rt_lag_months=rt_lag_months,
            count_format=count_format,
        )
    else:
        sensitivity = RTSensitivityResult(missing=survival_result.missing)
    return RTCohortResult(
        **settings,
        courses=courses,
        timing=rt_timing_table(courses),
        modalities=modality_table(courses),
        modality_by_eqd2_group=modality_by_eqd2_group(courses),
        post_progression=pps,
        excluded_no_followup=int(pps.attrs["excluded_no_followup"]),
        survival=survival_result,
        sensitivity=sensitivity,
        landmark_set=landmark_set,
        response_by_eqd2_group=response_by_group(courses, "eqd2_group", min_count=settings["min_count"]),
        response_by_modality=response_by_group(courses, "modality", min_count=settings["min_count"]),
        dose_slopes=response_dose_slopes(courses),
        planted_hr=planted_rt_hr(cohort, cohort_path),
    )
