"""Chapter 3, who is analysed: the survival-after-progression set, its covariates and attrition,
and the overall-survival sets of the landmark and the naive (biased) comparisons.

All tables start from the patient table of :func:`helpers.analysis.derive.patient_table` and
carry no identifiers; times are in months (days / 30.4375).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.errors import InputError, Violation, check, raise_violations, require_columns
from helpers.stats import survival as sv
from helpers.units import DAYS_PER_MONTH

#: Model covariates (derived by :func:`covariate_frame`), in the order of the tables.
COVARIATES: tuple[str, ...] = ("age_per_10y", "male", "line", "log2_tmb", "ecog")

#: Readable names of the model terms.
COVARIATE_LABELS: dict[str, str] = {
    "acquired": "acquired vs primary resistance",
    "no_progression_by_landmark": "no progression vs progression by the landmark",
    "progression_free_at_landmark": "alive and progression-free at the landmark vs not",
    "age_per_10y": "age (per 10 years)",
    "male": "male vs female",
    "line": "line of therapy (per line)",
    "log2_tmb": "log2(TMB + 1) (per unit)",
    "ecog": "ECOG performance status (per point)",
    "rt_after_progression": "radiotherapy after progression (time-varying)",
}

#: Short names of the covariates, for model descriptions.
COVARIATE_SHORT: dict[str, str] = {
    "age_per_10y": "age",
    "male": "sex",
    "line": "line",
    "log2_tmb": "TMB",
    "ecog": "ECOG",
}

#: The two classes compared, the reference last.
CLASS_ORDER: tuple[str, str] = ("acquired", "primary")

#: The groups of the landmark analysis (the ``group`` column of :func:`landmark_os_set`).
LANDMARK_GROUPS: tuple[str, str] = ("no progression by landmark", "progressed by landmark")

_MONTH = DAYS_PER_MONTH

# The table named in the messages about the patient table, with where it comes from.
_PATIENTS = "patients (helpers.analysis.derive.patient_table)"


def _events(values: pd.Series) -> pd.Series:
    """0/1 events from a bool/object column (NaN = unknown stays NaN)."""
    return pd.to_numeric(values.astype(object).where(values.notna()), errors="coerce")


# --------------------------------------------------------------------------------------------
# availability and analysis sets
# --------------------------------------------------------------------------------------------


def unavailable_reason(patients: pd.DataFrame) -> str | None:
    """Why the chapter cannot be shown for this cohort, as one sentence (None if it can).

    Parameters
    ----------
    patients : pandas.DataFrame
        The patient table of :func:`helpers.analysis.derive.patient_table`.

    Returns
    -------
    str or None
        ``None`` when there are progressions, deaths after progression and patients of both
        classes; otherwise a sentence for the reader.
    """
    require_columns(patients, ["resistance_class", "progression_day", "pps_days", "pps_event"], _PATIENTS)
    if patients["progression_day"].notna().sum() == 0:
        return (
            "This cohort records no progression days, so survival after progression cannot "
            "be measured and the analyses of this chapter are not shown."
        )
    deaths = _events(patients["pps_event"]).fillna(0)
    if (deaths[patients["pps_days"].notna()] == 1).sum() == 0:
        return (
            "This cohort records no deaths after progression (or no vital status), so "
            "survival after progression cannot be compared and the analyses of this "
            "chapter are not shown."
        )
    progressed = patients[patients["progression_day"].notna() & patients["pps_days"].notna()]
    missing = [k for k in CLASS_ORDER if not (progressed["resistance_class"] == k).any()]
    if missing:
        return (
            f"No patient with {' or '.join(missing)} resistance has a recorded "
            "progression in this cohort, so the two classes cannot be compared and the "
            "analyses of this chapter are not shown."
        )
    return None


def covariate_frame(patients: pd.DataFrame) -> pd.DataFrame:
    """The numeric model covariates of each patient (NaN where unknown).

    ``age_per_10y`` = age / 10; ``male`` = 1 for male, 0 for female; ``line``; ``log2_tmb`` =
    log2(TMB + 1) (the + 1 keeps a panel TMB of 0 finite); ``ecog``. A column the patient table
    does not have gives an all-missing covariate, which :func:`fit_adjusted_cox` drops as "not
    recorded in this cohort".

    Parameters
    ----------
    patients : pandas.DataFrame
        The patient table of :func:`helpers.analysis.derive.patient_table` (or any table with some of
        ``age_at_icb, sex, line, tmb, ecog``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COVARIATES`, same index as ``patients``.
    """

    def numeric(column: str) -> pd.Series:
        if column not in patients.columns:
            return pd.Series(np.nan, index=patients.index, dtype=float)
        return pd.to_numeric(patients[column], errors="coerce").astype(float)

    out = pd.DataFrame(index=patients.index)
    out["age_per_10y"] = numeric("age_at_icb") / 10.0
    if "sex" in patients.columns:
        out["male"] = patients["sex"].map({"male": 1.0, "female": 0.0}).astype(float)
    else:
        out["male"] = np.nan
    out["line"] = numeric("line")
    tmb = numeric("tmb")
    violations: list[Violation] = []
    check(
        violations,
        patients,
        tmb < 0,
        table="patients",
        column="tmb",
        rule="must be >= 0 (mutations per Mb)",
        show=["patient_id"],
    )
    raise_violations(violations, "covariate_frame")
    out["log2_tmb"] = np.log2(tmb + 1.0)
    out["ecog"] = numeric("ecog")
    return out


def pps_analysis_set(patients: pd.DataFrame, radiotherapy: pd.DataFrame | None = None) -> pd.DataFrame:
    """Patients of the survival-after-progression analysis: acquired or primary, progressed.

    Parameters
    ----------
    patients : pandas.DataFrame
        The patient table of :func:`helpers.analysis.derive.patient_table`.
    radiotherapy : pandas.DataFrame, optional
        The cohort's radiotherapy table (``patient_id, start_day``); if given, the column
        ``rt_months`` holds the months from progression to the first radiotherapy course
        starting on or after the progression day (NaN if none), for
        :func:`sensitivity_table`.

    Returns
    -------
    pandas.DataFrame
        One row per patient with ``cancer_type``, ``resistance_class``, ``acquired`` (1/0),
        ``pps_months``, ``pps_event`` (1 = death) and the :data:`COVARIATES` (no identifiers;
        the index is a plain row number). A primary
        resistance call without a progression day (best response PD with no progression date)
        has no time origin and is left out, and so is a "progression" dated on the day of
        death (in sources whose PFS event includes death, that is a death, not a
        progression); :func:`attrition_table` counts both.
    """
    where = "pps_analysis_set"
    require_columns(
        patients, ["cancer_type", "resistance_class", "progression_day", "pps_days", "pps_event"], _PATIENTS
    )
    in_class = patients["resistance_class"].isin(CLASS_ORDER)
    keep = in_class & patients["progression_day"].notna() & patients["pps_days"].notna()
    keep &= ~_progression_is_death(patients)
    rows = patients.loc[keep]
    violations: list[Violation] = []
    check(
        violations,
        rows,
        rows["pps_days"] < 0,
        table="patients",
        column="pps_days",
        rule="must be >= 0 (follow-up cannot end before progression)",
        show=["patient_id", "progression_day"],
    )
    raise_violations(violations, where)
    out = pd.DataFrame(
        {
            "cancer_type": rows["cancer_type"].astype(str),
            "resistance_class": rows["resistance_class"].astype(str),
            "acquired": (rows["resistance_class"] == "acquired").astype(int),
            "pps_months": rows["pps_days"].astype(float) / _MONTH,
            "pps_event": _events(rows["pps_event"]).fillna(0).astype(int),
        },
        index=rows.index,
    )
    out = pd.concat([out, covariate_frame(rows)], axis=1)
    if radiotherapy is not None:
        require_columns(rows, ["patient_id"], _PATIENTS)
        require_columns(radiotherapy, ["patient_id", "start_day"], "radiotherapy")
        rt = radiotherapy[["patient_id", "start_day"]].dropna()
        rt = rt.merge(rows[["patient_id", "progression_day"]], on="patient_id", how="inner")
        after = rt[rt["start_day"] >= rt["progression_day"]]
        first = after.groupby("patient_id")["start_day"].min()
        start = rows["patient_id"].map(first).astype(float)
        out["rt_months"] = (start - rows["progression_day"].astype(float)) / _MONTH
    return out.reset_index(drop=True)


def _progression_is_death(patients: pd.DataFrame) -> pd.Series:
    """Progression dated on the day of death: a PFS event that was a death."""
    same_day = pd.to_numeric(patients["pps_days"], errors="coerce") == 0
    return same_day & (_events(patients["pps_event"]) == 1)


def attrition_table(patients: pd.DataFrame) -> pd.DataFrame:
    """From all patients to the survival-after-progression analysis set, step by step.

    Returns
    -------
    pandas.DataFrame
        Columns ``step`` and ``patients``.
    """
    require_columns(patients, ["resistance_class", "progression_day", "pps_days", "pps_event"], _PATIENTS)
    in_class = patients["resistance_class"].isin(CLASS_ORDER)
    progressed = in_class & patients["progression_day"].notna()
    followed = progressed & patients["pps_days"].notna()
    analysed = followed & ~_progression_is_death(patients)
    steps = [
        ("all patients", len(patients)),
        ("acquired or primary resistance", int(in_class.sum())),
        ("… with a progression day (time origin)", int(progressed.sum())),
        ("… with known follow-up after progression", int(followed.sum())),
        ("… whose progression is not dated on the day of death", int(analysed.sum())),
    ]
    return pd.DataFrame(steps, columns=["step", "patients"])


# --------------------------------------------------------------------------------------------
# overall survival from ICB start: naive vs landmark
# --------------------------------------------------------------------------------------------


def _os_base(patients: pd.DataFrame, where: str) -> pd.DataFrame:
    require_columns(
        patients, ["cancer_type", "os_days", "os_event", "progression_day", "resistance_class"], _PATIENTS
    )
    known = patients["os_days"].notna() & patients["os_event"].notna()
    base = patients.loc[known].copy()
    base["os_event"] = _events(base["os_event"]).astype(int)
    base["os_days"] = base["os_days"].astype(float)
    return base


def landmark_os_set(patients: pd.DataFrame, benefit_months: float) -> pd.DataFrame:
    """Overall survival from the landmark ``benefit_months`` among patients at risk then.

    Keeps every patient alive and under follow-up at the landmark (any resistance class: at
    the landmark nobody knows yet who will have acquired resistance or ongoing benefit) and
    groups them by what is known then: progressed on or before the landmark, or not.

    Returns
    -------
    pandas.DataFrame
        ``cancer_type``, ``os_months`` (from the landmark), ``os_event``,
        ``no_progression_by_landmark`` (1/0), ``group`` (text) and the :data:`COVARIATES`;
        ``attrs["landmark"]`` holds the attrition of :func:`helpers.stats.survival.landmark`.
    """
    if not np.isfinite(benefit_months) or benefit_months <= 0:
        raise InputError(f"landmark_os_set: benefit_months must be > 0, got {benefit_months!r}")
    base = _os_base(patients, "landmark_os_set")
    lm = sv.landmark(
        base,
        benefit_months * _MONTH,
        "os_days",
        "os_event",
        known_by_landmark_col="progression_day",
        group_col="_progressed",
    )
    out = pd.DataFrame(
        {
            "cancer_type": lm["cancer_type"].astype(str),
            "os_months": lm["os_days"] / _MONTH,
            "os_event": lm["os_event"].astype(int),
            "no_progression_by_landmark": 1 - lm["_progressed"].astype(int),
        },
        index=lm.index,
    )
    out["group"] = np.where(out["no_progression_by_landmark"] == 1, *LANDMARK_GROUPS)
    out = pd.concat([out, covariate_frame(lm)], axis=1).reset_index(drop=True)
    out.attrs["landmark"] = dict(lm.attrs["landmark"])
    out.attrs["landmark"]["n_unknown_survival"] = int(len(patients) - len(base))
    return out


def naive_class_os_set(patients: pd.DataFrame) -> pd.DataFrame:
    """Overall survival from ICB start by *final* class, acquired vs primary (biased).

    This is the comparison the chapter warns against: a patient is only called "acquired"
    after surviving the benefit window, so that group has no deaths in it by construction.

    Returns
    -------
    pandas.DataFrame
        ``cancer_type, resistance_class, acquired, os_months, os_event`` and the covariates.
    """
    base = _os_base(patients, "naive_class_os_set")
    base = base[base["resistance_class"].isin(CLASS_ORDER)]
    out = pd.DataFrame(
        {
            "cancer_type": base["cancer_type"].astype(str),
            "resistance_class": base["resistance_class"].astype(str),
            "acquired": (base["resistance_class"] == "acquired").astype(int),
            "os_months": base["os_days"] / _MONTH,
            "os_event": base["os_event"].astype(int),
        },
        index=base.index,
    )
    return pd.concat([out, covariate_frame(base)], axis=1).reset_index(drop=True)


def naive_response_os_set(patients: pd.DataFrame, benefit_months: float) -> pd.DataFrame:
    """Overall survival from ICB start, "alive and progression-free at the landmark" vs the rest.

    The landmark's own grouping analysed the naive way ("analysis by tumour response",
    Anderson, Cain & Gelber 1983): every patient from day 0, with deaths before the landmark
    counted against the comparison group only. Patients lost to follow-up before the landmark
    without progression cannot be placed in either group and are left out.

    Returns
    -------
    pandas.DataFrame
        ``cancer_type, os_months, os_event, progression_free_at_landmark`` and the covariates.
    """
    if not np.isfinite(benefit_months) or benefit_months <= 0:
        raise InputError(f"naive_response_os_set: benefit_months must be > 0, got {benefit_months!r}")
    base = _os_base(patients, "naive_response_os_set")
    landmark = benefit_months * _MONTH
    progressed_by = base["progression_day"].notna() & (base["progression_day"] <= landmark)
    at_risk = base["os_days"] > landmark
    lost = ~at_risk & ~progressed_by & (base["os_event"] == 0)
    base = base[~lost]
    free = (base["os_days"] > landmark) & ~(base["progression_day"] <= landmark)
    out = pd.DataFrame(
        {
            "cancer_type": base["cancer_type"].astype(str),
            "os_months": base["os_days"] / _MONTH,
            "os_event": base["os_event"].astype(int),
            "progression_free_at_landmark": free.astype(int),
        },
        index=base.index,
    )
    return pd.concat([out, covariate_frame(base)], axis=1).reset_index(drop=True)
