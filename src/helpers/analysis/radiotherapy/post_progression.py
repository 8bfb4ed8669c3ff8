"""Survival after progression with RT after progression as a time-varying exposure.

- :func:`post_progression_table`: one row per progressed patient, time origin = progression,
  the start of the first RT course after progression and the covariates;
- :func:`rt_survival_analysis`: the naive, immortal-time-biased comparison beside RT as a
  time-varying exposure adjusted for the observed confounders, and a landmark check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from helpers.analysis.result import AnalysisResult
from helpers.errors import InputError, Violation, check, raise_violations, require_columns
from helpers.stats import survival
from helpers.units import DAYS_PER_MONTH

__all__ = [
    "COVARIATE_LABELS",
    "DEFAULT_ADJUSTMENT",
    "RTSurvivalResult",
    "post_progression_table",
    "prepare_covariates",
    "rt_survival_analysis",
]

#: Covariates of the adjusted survival model, with the labels the book shows.
COVARIATE_LABELS: dict[str, str] = {
    "rt": "RT after progression (time-varying)",
    "ever_rt": "RT at any time after progression (baseline group)",
    "rt_by_landmark": "RT by the landmark",
    "ecog": "ECOG performance status (per point)",
    "acquired": "acquired vs primary resistance",
    "class_not_evaluable": "class not evaluable vs primary resistance",
    "age_per_10y": "age (per 10 years)",
    "male": "male vs female",
    "line": "line of the index ICB course (per step)",
    "log2_tmb": "log2(TMB + 1) (per doubling)",
}

_SHORT_NAMES = {
    "log2_tmb": "TMB",
    "ecog": "ECOG",
    "age_per_10y": "age",
    "male": "sex",
    "line": "line",
    "acquired": "class",
    "class_not_evaluable": "class",
}

#: Confounders and prognostic factors the adjusted model uses by default (see
#: :func:`rt_survival_analysis` for why each is there).
DEFAULT_ADJUSTMENT: tuple[str, ...] = (
    "ecog",
    "acquired",
    "class_not_evaluable",
    "age_per_10y",
    "male",
    "line",
)


# --------------------------------------------------------------------------------------------
# (b) cohort: survival after progression with RT as a time-varying exposure
# --------------------------------------------------------------------------------------------


def post_progression_table(patients: pd.DataFrame, courses: pd.DataFrame) -> pd.DataFrame:
    """One row per patient who progressed: survival after progression, RT timing, covariates.

    Time origin is the progression day of the index ICB course. ``rt_day`` is the start of the
    first RT course on or after progression (days from progression; NaN if none); RT starting
    on or after the end of follow-up is no exposure (it cannot have changed the outcome).
    Patients whose follow-up ends on the progression day have no time at risk and are left out
    (counted in ``result.attrs["excluded_no_followup"]``).

    Parameters
    ----------
    patients : pandas.DataFrame
        :func:`helpers.analysis.derive.patient_table` (needs ``patient_id, cancer_type,
        progression_day, pps_days, pps_event, resistance_class, ecog, age_at_icb, sex, line,
        tmb``).
    courses : pandas.DataFrame
        From :func:`rt_courses`.

    Returns
    -------
    pandas.DataFrame
        ``patient_id, cancer_type, progression_day, pps_days, event, rt_day, ever_rt,
        prior_rt`` and the covariates ``ecog, acquired, class_not_evaluable, age_per_10y, male,
        line, log2_tmb`` (floats, NaN where unknown; ``log2_tmb`` is log2(TMB + 1) so that a TMB
        of 0 is allowed). ``progression_day`` is in days from the start of the index course (to
        place time-updated covariates on the post-progression clock); ``prior_rt`` is 1 for a
        patient with an RT course before the index ICB course (negative start day), the
        negative-control exposure of :func:`helpers.analysis.radiotherapy.rt_sensitivity_analysis`.
    """
    where = "post_progression_table"
    require_columns(
        patients,
        [
            "patient_id",
            "cancer_type",
            "progression_day",
            "pps_days",
            "pps_event",
            "resistance_class",
            "ecog",
            "age_at_icb",
            "sex",
            "line",
            "tmb",
        ],
        "patients",
    )
    require_columns(courses, ["patient_id", "start_day", "first_after_progression"], "RT courses")
    prog = patients[patients["progression_day"].notna()].copy()
    no_time = ~(prog["pps_days"].astype(float) > 0)
    first = courses[courses["first_after_progression"]].set_index("patient_id")["start_day"]
    before_icb = set(courses.loc[courses["start_day"].astype(float) < 0, "patient_id"])
    data = pd.DataFrame(
        {
            "patient_id": prog["patient_id"].to_numpy(),
            "cancer_type": prog["cancer_type"].fillna("unknown").astype(str).to_numpy(),
            "progression_day": prog["progression_day"].astype(float).to_numpy(),
            "pps_days": prog["pps_days"].astype(float).to_numpy(),
            "event": prog["pps_event"].astype(float).to_numpy(),
        }
    )
    data["rt_day"] = (
        prog["patient_id"].map(first).astype(float) - prog["progression_day"].astype(float)
    ).to_numpy()
    data["ever_rt"] = (data["rt_day"] < data["pps_days"]).astype(float)
    data["prior_rt"] = data["patient_id"].isin(before_icb).astype(float)
    cls = prog["resistance_class"].to_numpy()
    known_class = pd.notna(cls)
    data["ecog"] = pd.to_numeric(prog["ecog"], errors="coerce").to_numpy(dtype=float)
    data["acquired"] = np.where(known_class, cls == "acquired", np.nan).astype(float)
    data["class_not_evaluable"] = np.where(known_class, cls == "not_evaluable", np.nan).astype(float)
    data["age_per_10y"] = pd.to_numeric(prog["age_at_icb"], errors="coerce").to_numpy() / 10
    sex = prog["sex"].astype(object).to_numpy()
    data["male"] = np.where(np.isin(sex, ["male", "female"]), sex == "male", np.nan).astype(float)
    data["line"] = pd.to_numeric(prog["line"], errors="coerce").to_numpy(dtype=float)
    data["log2_tmb"] = np.log2(pd.to_numeric(prog["tmb"], errors="coerce").to_numpy(float) + 1)
    data = data[~no_time.to_numpy()].reset_index(drop=True)
    violations: list[Violation] = []
    check(
        violations,
        data,
        data["event"].isna(),
        table="patients",
        column="pps_event",
        show=["patient_id"],
        rule="must be known for every progressed patient with follow-up",
    )
    raise_violations(violations, where)
    data["event"] = data["event"].astype(int)
    data.attrs["excluded_no_followup"] = int(no_time.sum())
    return data


@dataclass(kw_only=True)
class RTSurvivalResult(AnalysisResult):
    """Result of :func:`rt_survival_analysis`.

    ``missing`` says why the RT effect is not estimated (too few deaths after RT), else None.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row per model (see :func:`rt_survival_analysis`).
    primary : pandas.DataFrame
        Hazard-ratio table of the primary (adjusted, time-varying) model with readable labels;
        empty if it could not be fitted.
    notes : tuple of str
        What was dropped, excluded or could not be fitted, in plain sentences.
    landmark : dict
        Landmark time and attrition (``helpers.stats.survival.landmark``'s ``attrs``).
    """

    estimates: pd.DataFrame = field(default_factory=pd.DataFrame)
    primary: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: tuple[str, ...] = ()
    landmark: dict = field(default_factory=dict)


def prepare_covariates(
    data: pd.DataFrame,
    covariates: Sequence[str],
    model: str,
    notes: list[str],
    count_format: Callable[[int], str] = str,
) -> tuple[pd.DataFrame, list[str]]:
    """Drop unrecorded or constant covariates (with a note) and incomplete rows."""
    kept = []
    for column in covariates:
        if data[column].isna().all():
            notes.append(
                f"{model}: {COVARIATE_LABELS.get(column, column)} is not recorded in "
                "this cohort, so the model cannot adjust for it."
            )
        else:
            kept.append(column)
    complete = data.dropna(subset=kept)
    if len(complete) < len(data):
        notes.append(
            f"{model}: {count_format(len(data) - len(complete))} patient(s) with a "
            "missing covariate are left out (complete cases)."
        )
    final = []
    for column in kept:
        if complete[column].nunique() < 2:
            notes.append(
                f"{model}: {COVARIATE_LABELS.get(column, column)} does not vary among "
                "the patients analysed and is left out."
            )
        else:
            final.append(column)
    return complete, final


def rt_survival_analysis(
    data: pd.DataFrame,
    adjust_for: Sequence[str] = DEFAULT_ADJUSTMENT,
    *,
    sensitivity_covariates: Sequence[str] = ("log2_tmb",),
    strata: str | None = "cancer_type",
    landmark_days: float = 3 * DAYS_PER_MONTH,
    min_exposed_events: int = 5,
    count_format: Callable[[int], str] = str,
) -> RTSurvivalResult:
    """Effect of RT after progression on survival: the biased comparisons and the corrected one.

    The models, in the order of the ``estimates`` table:

    1. ``naive``: Cox model of "RT at any time after progression" vs "no RT" as a *baseline*
       group, unadjusted and unstratified. **Biased** in two ways: immortal time (a patient
       must survive until RT to be in the RT group, and that survival is credited to RT) and
       confounding by indication (fitter patients, with a better performance status, are the
       ones offered RT).
    2. ``baseline group, adjusted``: the same group, adjusted and stratified like the primary
       model: still biased by immortal time.
    3. ``time-varying, unadjusted``: RT as a time-varying exposure (a patient contributes
       unexposed time until the first RT fraction, exposed time afterwards; Cox on the
       counting process, stratified): no immortal time, still confounded.
    4. ``time-varying, adjusted`` (**primary**): plus the adjustment covariates. ECOG
       performance status is the observed confounder (it drives both who is offered RT and
       survival); cancer type is a stratum (own baseline hazard; RT practice differs by type).
       The resistance class (acquired / not evaluable vs primary), age, sex and line are strong
       prognostic factors: they are not needed to remove confounding where they do not affect
       who gets RT, but hazard ratios are non-collapsible, so leaving a strong prognostic factor
       out moves the RT hazard ratio towards 1; including them targets the hazard ratio
       conditional on them, which is the one a simulation plants.
    5. ``time-varying, adjusted + sensitivity covariates`` (default: log2 TMB), complete cases.
    6. ``landmark``: patients alive ``landmark_days`` after progression, grouped by RT before
       the landmark or not, survival from the landmark, adjusted as the primary model. RT after
       the landmark counts as "no RT", which dilutes the contrast towards 1.

    Parameters
    ----------
    data : pandas.DataFrame
        From :func:`post_progression_table`.
    adjust_for : sequence of str
        Covariates of the adjusted models (columns of ``data``). A covariate not recorded at all
        is dropped with a note, rows with a missing value are left out (complete cases).
    sensitivity_covariates : sequence of str
        Added to ``adjust_for`` in model 5 (skipped if empty or not recorded).
    strata : str or None, default "cancer_type"
        Stratification column of the adjusted and time-varying models.
    landmark_days : float
        Landmark after progression (days), > 0.
    min_exposed_events : int, default 5
        Fewest deaths after RT needed to fit anything; below it the table says so.
    count_format : callable, default str
        Formats patient counts in the notes (pass :func:`helpers.book.privacy.count_label` to
        suppress small counts for restricted cohorts).

    Returns
    -------
    RTSurvivalResult
        ``estimates`` has one row per model: ``model, design, bias, n_patients, n_exposed,
        n_events, n_exposed_events, hr, ci_low, ci_high, p`` (the hazard ratio of RT).
        ``missing`` is set when the RT effect is not estimated: fewer than
        ``min_exposed_events`` deaths after RT, or a primary model that could not be fitted.
    """
    where = "rt_survival_analysis"
    needed = [
        "patient_id",
        "pps_days",
        "event",
        "rt_day",
        "ever_rt",
        *adjust_for,
        *sensitivity_covariates,
    ] + ([strata] if strata else [])
    require_columns(data, needed, "post-progression table")
    if not (np.isfinite(landmark_days) and landmark_days > 0):
        raise InputError(f"{where}: landmark_days must be > 0, got {landmark_days!r}")
    notes: list[str] = []
    strata_cols = [strata] if strata else []
    rows: list[dict[str, Any]] = []
    primary = pd.DataFrame()
    exposed_events = int(((data["ever_rt"] == 1) & (data["event"] == 1)).sum())
    base = {
        "n_patients": len(data),
        "n_exposed": int(data["ever_rt"].sum()),
        "n_events": int(data["event"].sum()),
        "n_exposed_events": exposed_events,
    }
    specs = [
        (
            "naive: RT ever vs never",
            "baseline group, unadjusted",
            "biased: immortal time and confounding",
            "baseline",
            [],
            False,
        ),
        (
            "RT ever vs never, adjusted",
            "baseline group, adjusted, stratified",
            "biased: immortal time",
            "baseline",
            list(adjust_for),
            True,
        ),
        ("time-varying, unadjusted", "RT(t), stratified", "biased: confounding", "tv", [], True),
        (
            "time-varying, adjusted (primary)",
            "RT(t), adjusted, stratified",
            "corrects both (for the observed confounders)",
            "tv",
            list(adjust_for),
            True,
        ),
    ]
    extra = [c for c in sensitivity_covariates if c not in adjust_for]
    if extra:
        names = ", ".join(_SHORT_NAMES.get(c, c) for c in extra)
        specs.append(
            (
                f"time-varying, adjusted + {names}",
                "RT(t), adjusted, stratified",
                "sensitivity: complete cases",
                "tv",
                list(adjust_for) + extra,
                True,
            )
        )
    specs.append(
        (
            f"landmark {landmark_days / DAYS_PER_MONTH:g} months: RT by then vs not",
            "landmark, adjusted, stratified",
            "check: dilutes towards 1",
            "landmark",
            list(adjust_for),
            True,
        )
    )
    landmark_info: dict = {}
    if exposed_events < min_exposed_events:
        reason = (
            f"Only {count_format(exposed_events)} death(s) after RT (fewer than "
            f"{min_exposed_events}): the RT effect is not estimated."
        )
        for model, design, bias, _, _, _ in specs:
            rows.append(
                {
                    "model": model,
                    "design": design,
                    "bias": bias,
                    **base,
                    "hr": np.nan,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "p": np.nan,
                }
            )
        return RTSurvivalResult(
            missing=reason,
            estimates=pd.DataFrame(rows),
            primary=primary,
            notes=(reason,),
            landmark=landmark_info,
        )

    for model, design, bias, kind, covariates, stratify in specs:
        use_strata = strata_cols if stratify else []
        frame, covs = prepare_covariates(data, covariates, model, notes, count_format)
        info = {"n_patients": len(frame), "n_events": int(frame["event"].sum())}
        try:
            if kind == "baseline":
                fit_frame = frame[["pps_days", "event", "ever_rt", *covs, *use_strata]]
                fitted = survival.cox(fit_frame, "pps_days", "event", strata=use_strata or None)
                term = "ever_rt"
                exposed = frame["ever_rt"] == 1
            elif kind == "tv":
                fit_frame = frame[["patient_id", "pps_days", "event", "rt_day", *covs, *use_strata]]
                long = survival.to_counting_process(
                    fit_frame, "patient_id", "pps_days", "event", "rt_day", exposure_col="rt"
                )
                fitted = survival.cox_time_varying(
                    long, "patient_id", "start", "stop", "event", strata=use_strata or None
                )
                term = "rt"
                exposed = frame["ever_rt"] == 1
            else:
                marked = survival.landmark(
                    frame[["pps_days", "event", "rt_day", *covs, *use_strata]],
                    landmark_days,
                    "pps_days",
                    "event",
                    known_by_landmark_col="rt_day",
                    group_col="rt_by_landmark",
                )
                landmark_info = dict(marked.attrs["landmark"])
                fitted = survival.cox(
                    marked.drop(columns=["rt_day"]), "pps_days", "event", strata=use_strata or None
                )
                term = "rt_by_landmark"
                info = {"n_patients": len(marked), "n_events": int(marked["event"].sum())}
                exposed = marked["rt_by_landmark"] == 1
                frame = marked
        except Exception as exc:  # a sparse cohort can make a model singular: say so, go on
            notes.append(f"{model}: could not be fitted ({type(exc).__name__}: {exc}).")
            rows.append(
                {
                    "model": model,
                    "design": design,
                    "bias": bias,
                    **base,
                    **info,
                    "hr": np.nan,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "p": np.nan,
                }
            )
            continue
        table = survival.hazard_ratio_table(fitted).set_index("covariate")
        rows.append(
            {
                "model": model,
                "design": design,
                "bias": bias,
                **info,
                "n_exposed": int(exposed.sum()),
                "n_exposed_events": int((exposed & (frame["event"] == 1)).sum()),
                "hr": table.loc[term, "hr"],
                "ci_low": table.loc[term, "ci_low"],
                "ci_high": table.loc[term, "ci_high"],
                "p": table.loc[term, "p"],
            }
        )
        if model.endswith("(primary)"):
            primary = table.reset_index()[["covariate", "hr", "ci_low", "ci_high", "p"]]
            primary.insert(0, "term", primary["covariate"].map(COVARIATE_LABELS).fillna(primary["covariate"]))
            primary = primary.drop(columns="covariate")
    columns = [
        "model",
        "design",
        "bias",
        "n_patients",
        "n_exposed",
        "n_events",
        "n_exposed_events",
        "hr",
        "ci_low",
        "ci_high",
        "p",
    ]
    missing = None
    if primary.empty:  # the fitting notes say why
        missing = "The primary model could not be fitted, so the RT effect is not estimated."
    return RTSurvivalResult(
        missing=missing,
        estimates=pd.DataFrame(rows)[columns],
        primary=primary,
        notes=tuple(notes),
        landmark=landmark_info,
    )
