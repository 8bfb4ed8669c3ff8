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

Times are in months (days / 30.4375) throughout.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning
from lifelines.utils import median_survival_times

from helpers.stats import survival as sv
from helpers.plots.survival import forest_plot, plot_km
from helpers.units import DAYS_PER_MONTH

__all__ = [
    "PPSInputError",
    "COVARIATES",
    "COVARIATE_LABELS",
    "CLASS_ORDER",
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
    "km_summary",
    "logrank_table",
    "ph_table",
    "ph_sentence",
    "covariate_sentence",
    "landmark_os_set",
    "naive_class_os_set",
    "naive_response_os_set",
    "immortal_time_table",
    "landmark_sentence",
    "immortal_time_sentence",
    "planted_sentence",
    "skipped_sentence",
    "planted_pps_hr",
    "plot_km_by_class",
    "km_pooled_figure",
    "km_grid",
    "forest_figure",
    "immortal_time_figure",
]

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
    "age_per_10y": "age", "male": "sex", "line": "line", "log2_tmb": "TMB", "ecog": "ECOG",
}

#: The two classes compared, the reference last.
CLASS_ORDER: tuple[str, str] = ("acquired", "primary")

_MONTH = DAYS_PER_MONTH


class PPSInputError(ValueError):
    """The patient table cannot be analysed as asked (missing columns, nothing to compare)."""


def _require(table: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    if not isinstance(table, pd.DataFrame):
        raise PPSInputError(f"{where}: expected a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise PPSInputError(
            f"{where}: the patient table lacks column(s) {missing}; build it with "
            f"helpers.analysis.derive.patient_table(cohort, benefit_months, min_exposure_weeks)")


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
    _require(patients, ["resistance_class", "progression_day", "pps_days", "pps_event"],
             "unavailable_reason")
    if patients["progression_day"].notna().sum() == 0:
        return ("This cohort records no progression days, so survival after progression cannot "
                "be measured and the analyses of this chapter are not shown.")
    deaths = _events(patients["pps_event"]).fillna(0)
    if (deaths[patients["pps_days"].notna()] == 1).sum() == 0:
        return ("This cohort records no deaths after progression (or no vital status), so "
                "survival after progression cannot be compared and the analyses of this "
                "chapter are not shown.")
    progressed = patients[patients["progression_day"].notna() & patients["pps_days"].notna()]
    missing = [k for k in CLASS_ORDER if not (progressed["resistance_class"] == k).any()]
    if missing:
        return (f"No patient with {' or '.join(missing)} resistance has a recorded "
                "progression in this cohort, so the two classes cannot be compared and the "
                "analyses of this chapter are not shown.")
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
    if (tmb < 0).any():
        raise PPSInputError(f"covariate_frame: 'tmb' has {int((tmb < 0).sum())} negative value(s)")
    out["log2_tmb"] = np.log2(tmb + 1.0)
    out["ecog"] = numeric("ecog")
    return out


def pps_analysis_set(patients: pd.DataFrame,
                     radiotherapy: pd.DataFrame | None = None) -> pd.DataFrame:
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
    _require(patients, ["cancer_type", "resistance_class", "progression_day", "pps_days",
                        "pps_event"], where)
    in_class = patients["resistance_class"].isin(CLASS_ORDER)
    keep = in_class & patients["progression_day"].notna() & patients["pps_days"].notna()
    keep &= ~_progression_is_death(patients)
    rows = patients.loc[keep]
    if (rows["pps_days"] < 0).any():
        raise PPSInputError(f"{where}: {int((rows['pps_days'] < 0).sum())} patient(s) have "
                            "follow-up ending before progression (pps_days < 0)")
    out = pd.DataFrame({
        "cancer_type": rows["cancer_type"].astype(str),
        "resistance_class": rows["resistance_class"].astype(str),
        "acquired": (rows["resistance_class"] == "acquired").astype(int),
        "pps_months": rows["pps_days"].astype(float) / _MONTH,
        "pps_event": _events(rows["pps_event"]).fillna(0).astype(int),
    }, index=rows.index)
    out = pd.concat([out, covariate_frame(rows)], axis=1)
    if radiotherapy is not None:
        _require(rows, ["patient_id"], where)
        _require(radiotherapy, ["patient_id", "start_day"], where + " (radiotherapy)")
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
    _require(patients, ["resistance_class", "progression_day", "pps_days", "pps_event"],
             "attrition_table")
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
# Cox models that drop what a cohort does not record
# --------------------------------------------------------------------------------------------


@dataclass
class AdjustedCox:
    """A fitted Cox model with the bookkeeping the chapter reports.

    Attributes
    ----------
    model : lifelines.CoxPHFitter
        The fitted model.
    data : pandas.DataFrame
        The complete-case table it was fitted on (time, event, strata, exposure, covariates).
    exposure : str
        The term of interest (first row of :meth:`hazard_ratios`).
    covariates : list of str
        Adjustment covariates used.
    dropped : dict of str to str
        Covariates asked for but not used, with the reason.
    n_input, n_used : int
        Patients before and after the complete-case step.
    missing_by_covariate : dict of str to int
        Patients lacking each used covariate (they are the complete-case loss).
    strata : str or None
        Stratification column.
    time_col, event_col : str
        Names of the time and event columns in ``data``.
    """

    model: CoxPHFitter
    data: pd.DataFrame
    exposure: str
    covariates: list[str]
    dropped: dict[str, str] = field(default_factory=dict)
    n_input: int = 0
    n_used: int = 0
    missing_by_covariate: dict[str, int] = field(default_factory=dict)
    strata: str | None = None
    time_col: str = "time"
    event_col: str = "event"

    @property
    def events(self) -> int:
        """Number of events in the fitted data."""
        return int(self.data[self.event_col].sum())

    def hazard_ratios(self) -> pd.DataFrame:
        """Hazard ratios of every term with 95% CI and readable labels (exposure first)."""
        table = sv.hazard_ratio_table(self.model)
        order = [self.exposure] + [c for c in table["covariate"] if c != self.exposure]
        table = table.set_index("covariate").loc[order].reset_index()
        table.insert(1, "term", table["covariate"].map(COVARIATE_LABELS).fillna(table["covariate"]))
        return table

    def exposure_hr(self) -> dict[str, float]:
        """HR, CI and p of the exposure term."""
        row = self.hazard_ratios().iloc[0]
        return {k: float(row[k]) for k in ("hr", "ci_low", "ci_high", "p")}


def fit_adjusted_cox(
    data: pd.DataFrame,
    time_col: str,
    event_col: str,
    exposure: str,
    covariates: Sequence[str] = COVARIATES,
    strata: str | None = None,
) -> AdjustedCox:
    """Cox model of ``exposure`` adjusted for the covariates this data set actually has.

    Steps: a covariate missing for every row is dropped ("not recorded"); rows missing any
    remaining covariate are dropped (complete case, counted per covariate); a covariate that
    does not vary among the remaining rows is dropped ("no variation", e.g. sex in a cancer
    type of women only). Then :func:`helpers.stats.survival.cox` fits (Efron ties, R-conformant).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient with the time, event, exposure (0/1), covariate and strata columns.
    time_col, event_col : str
        Follow-up time (>= 0) and event (0/1).
    exposure : str
        The 0/1 term of interest; it must vary.
    covariates : sequence of str
        Adjustment covariates to use where possible.
    strata : str, optional
        Column to stratify on (separate baseline hazard per level).

    Returns
    -------
    AdjustedCox

    Raises
    ------
    PPSInputError
        If a column is missing, the exposure does not vary, or no event remains.
    """
    where = "fit_adjusted_cox"
    covariates = list(covariates)
    _require(data, [time_col, event_col, exposure, *covariates] + ([strata] if strata else []),
             where)
    dropped: dict[str, str] = {}
    usable = []
    for c in covariates:
        if data[c].isna().all():
            dropped[c] = "not recorded in this cohort"
        else:
            usable.append(c)
    missing = {c: int(data[c].isna().sum()) for c in usable}
    frame = data[[time_col, event_col, exposure, *usable] + ([strata] if strata else [])]
    frame = frame.dropna(subset=[exposure, *usable]).copy()
    for c in list(usable):
        if frame[c].nunique() < 2:
            dropped[c] = "no variation in the analysis set"
            usable.remove(c)
            missing.pop(c)
            frame = frame.drop(columns=c)
    if frame[exposure].nunique() < 2:
        raise PPSInputError(f"{where}: {exposure!r} takes a single value in the analysis set "
                            f"({len(frame)} rows); there is nothing to compare")
    if frame[event_col].sum() == 0:
        raise PPSInputError(f"{where}: no events in the analysis set ({len(frame)} rows)")
    frame[event_col] = frame[event_col].astype(int)
    model = sv.cox(frame, time_col, event_col, strata=strata)
    return AdjustedCox(model=model, data=frame, exposure=exposure, covariates=usable,
                       dropped=dropped, n_input=int(len(data)), n_used=int(len(frame)),
                       missing_by_covariate=missing, strata=strata, time_col=time_col,
                       event_col=event_col)


def pooled_pps_cox(pps_set: pd.DataFrame, covariates: Sequence[str] = COVARIATES) -> AdjustedCox:
    """The primary model: acquired vs primary, stratified by cancer type, adjusted.

    Parameters
    ----------
    pps_set : pandas.DataFrame
        From :func:`pps_analysis_set`.
    covariates : sequence of str
        Adjustment set (default :data:`COVARIATES`; those a cohort lacks are dropped).

    Returns
    -------
    AdjustedCox
    """
    return fit_adjusted_cox(pps_set, "pps_months", "pps_event", "acquired", covariates,
                            strata="cancer_type")


def per_cancer_type_pps(
    pps_set: pd.DataFrame,
    min_events_per_group: int = 10,
    covariates: Sequence[str] = COVARIATES,
) -> pd.DataFrame:
    """The primary model without strata in every cancer type with enough deaths.

    A cancer type is estimated only when each class has at least ``min_events_per_group``
    deaths among its complete cases (fewer deaths give unstable hazard ratios).

    Parameters
    ----------
    pps_set : pandas.DataFrame
        From :func:`pps_analysis_set`.
    min_events_per_group : int, default 10
        Minimum deaths in the acquired and in the primary group.
    covariates : sequence of str
        Adjustment set.

    Returns
    -------
    pandas.DataFrame
        One row per cancer type (sorted by name): ``cancer_type, n_acquired, n_primary,
        deaths_acquired, deaths_primary, hr, ci_low, ci_high, p, status, covariates_dropped``;
        ``status`` is ``estimated`` or says why not.
    """
    if int(min_events_per_group) < 1:
        raise PPSInputError(f"per_cancer_type_pps: min_events_per_group must be >= 1, got "
                            f"{min_events_per_group!r}")
    _require(pps_set, ["cancer_type", "acquired", "pps_months", "pps_event", *covariates],
             "per_cancer_type_pps")
    recorded = [c for c in covariates if not pps_set[c].isna().all()]
    rows = []
    for cancer_type, sub in sorted(pps_set.groupby("cancer_type"), key=lambda kv: str(kv[0])):
        complete = sub.dropna(subset=[c for c in recorded if not sub[c].isna().all()])
        counts = {
            "n_acquired": int((complete["acquired"] == 1).sum()),
            "n_primary": int((complete["acquired"] == 0).sum()),
            "deaths_acquired": int(complete.loc[complete["acquired"] == 1, "pps_event"].sum()),
            "deaths_primary": int(complete.loc[complete["acquired"] == 0, "pps_event"].sum()),
        }
        row: dict[str, Any] = {"cancer_type": cancer_type, **counts, "hr": np.nan,
                               "ci_low": np.nan, "ci_high": np.nan, "p": np.nan,
                               "covariates_dropped": ""}
        fewest = min(counts["deaths_acquired"], counts["deaths_primary"])
        if fewest < min_events_per_group:
            row["status"] = (f"not estimated: fewer than {int(min_events_per_group)} deaths "
                             "in a group")
        else:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error", ConvergenceWarning)
                    fit = fit_adjusted_cox(sub, "pps_months", "pps_event", "acquired", covariates)
                row.update(fit.exposure_hr())
                row["status"] = "estimated"
                row["covariates_dropped"] = ", ".join(
                    f"{c} ({why})" for c, why in fit.dropped.items() if c in recorded)
            except (ConvergenceError, ConvergenceWarning, np.linalg.LinAlgError) as exc:
                row["status"] = f"not estimated: the model did not converge ({type(exc).__name__})"
        rows.append(row)
    columns = ["cancer_type", "n_acquired", "n_primary", "deaths_acquired", "deaths_primary",
               "hr", "ci_low", "ci_high", "p", "status", "covariates_dropped"]
    return pd.DataFrame(rows, columns=columns)


def skipped_sentence(per_type: pd.DataFrame) -> str:
    """One sentence naming the cancer types without an estimate, and why."""
    skipped = per_type[per_type["status"] != "estimated"]
    if len(skipped) == 0:
        return "Every cancer type has enough deaths in both classes for an estimate."
    parts = [f"{status.removeprefix('not estimated: ')}: "
             f"{', '.join(map(str, group['cancer_type']))}"
             for status, group in skipped.groupby("status", sort=True)]
    return "Not estimated (" + "; ".join(parts) + ")."


def forest_table(pooled: AdjustedCox, per_type: pd.DataFrame) -> pd.DataFrame:
    """Rows of the forest plot: every estimated cancer type, then the pooled estimate.

    Returns
    -------
    pandas.DataFrame
        Columns ``label, hr, ci_low, ci_high, deaths`` (deaths = both groups).
    """
    estimated = per_type[per_type["status"] == "estimated"]
    rows = [{"label": r.cancer_type, "hr": r.hr, "ci_low": r.ci_low, "ci_high": r.ci_high,
             "deaths": int(r.deaths_acquired + r.deaths_primary)}
            for r in estimated.itertuples()]
    hr = pooled.exposure_hr()
    rows.append({"label": "Pooled (stratified by cancer type)", "hr": hr["hr"],
                 "ci_low": hr["ci_low"], "ci_high": hr["ci_high"], "deaths": pooled.events})
    return pd.DataFrame(rows, columns=["label", "hr", "ci_low", "ci_high", "deaths"])


# --------------------------------------------------------------------------------------------
# sensitivity analyses
# --------------------------------------------------------------------------------------------


def sensitivity_table(pps_set: pd.DataFrame,
                      covariates: Sequence[str] = COVARIATES) -> pd.DataFrame:
    """The pooled acquired-vs-primary hazard ratio under other model choices.

    Rows: the primary model; without TMB (so no patient is lost for lacking a DNA sample);
    unadjusted (stratified by cancer type only); and, where ``pps_set`` has the column
    ``rt_months`` (built with the cohort's radiotherapy table), the primary model plus
    radiotherapy after progression as a *time-varying* term (a course that starts after
    progression cannot be a baseline group). The simulation's hazard model has that term, so
    this row is the model that generated the simulated data.

    Parameters
    ----------
    pps_set : pandas.DataFrame
        From :func:`pps_analysis_set`.
    covariates : sequence of str
        The primary adjustment set.

    Returns
    -------
    pandas.DataFrame
        Columns ``model, patients, deaths, hr, ci_low, ci_high, p``.
    """
    rows = []

    def add(name: str, fit_n: int, deaths: int, hr: Mapping[str, float]) -> None:
        rows.append({"model": name, "patients": fit_n, "deaths": deaths, **hr})

    primary = pooled_pps_cox(pps_set, covariates)
    adjusted = ", ".join(COVARIATE_SHORT.get(c, c) for c in primary.covariates) or "nothing"
    add(f"primary: stratified by cancer type, adjusted for {adjusted}",
        primary.n_used, primary.events, primary.exposure_hr())
    without_tmb = [c for c in covariates if c != "log2_tmb"]
    if "log2_tmb" in primary.covariates:
        fit = pooled_pps_cox(pps_set, without_tmb)
        add("without TMB (keeps patients without a DNA sample)", fit.n_used, fit.events,
            fit.exposure_hr())
    fit = fit_adjusted_cox(pps_set, "pps_months", "pps_event", "acquired", [],
                           strata="cancer_type")
    add("unadjusted (stratified by cancer type only)", fit.n_used, fit.events, fit.exposure_hr())
    if "rt_months" in pps_set.columns and pps_set["rt_months"].notna().any():
        base = primary.data.copy()
        base["_id"] = np.arange(len(base))
        base["_rt"] = pps_set.loc[base.index, "rt_months"].to_numpy(dtype=float)
        base = base[base["pps_months"] > 0]  # a zero-length follow-up has no interval
        long = sv.to_counting_process(base, "_id", "pps_months", "pps_event", "_rt",
                                      exposure_col="rt_after_progression")
        model = sv.cox_time_varying(long, "_id", "start", "stop", "pps_event",
                                    strata="cancer_type")
        table = sv.hazard_ratio_table(model).set_index("covariate")
        hr = {k: float(table.loc["acquired", k]) for k in ("hr", "ci_low", "ci_high", "p")}
        add("primary + radiotherapy after progression (time-varying)", int(len(base)),
            int(base["pps_event"].sum()), hr)
    return pd.DataFrame(rows, columns=["model", "patients", "deaths", "hr", "ci_low", "ci_high",
                                       "p"])


# --------------------------------------------------------------------------------------------
# Kaplan-Meier, log-rank, proportional hazards
# --------------------------------------------------------------------------------------------


def km_curves(data: pd.DataFrame, time_col: str, event_col: str, group_col: str,
              order: Sequence[str] | None = None) -> dict[str, KaplanMeierFitter]:
    """Kaplan-Meier curve per group, in ``order`` (default: sorted labels)."""
    _require(data, [time_col, event_col, group_col], "km_curves")
    curves = sv.kaplan_meier_by_group(data[time_col], data[event_col].astype(int),
                                      data[group_col].astype(str))
    if order is None:
        return curves
    return {k: curves[k] for k in order if k in curves}


def km_summary(curves: Mapping[str, KaplanMeierFitter],
               at_months: Sequence[float] = (6.0, 12.0)) -> pd.DataFrame:
    """Patients, deaths, median (95% CI) and survival at given months per curve.

    Returns
    -------
    pandas.DataFrame
        Indexed by group: ``patients, deaths, median_months, median_ci_low, median_ci_high``
        and ``survival_<t>m`` per time (NaN where not estimable).
    """
    rows = {}
    for label, fitter in curves.items():
        ci = median_survival_times(fitter.confidence_interval_)
        low, high = (float(v) for v in np.asarray(ci, dtype=float).ravel()[:2])
        row: dict[str, Any] = {
            "patients": int(len(fitter.durations)),
            "deaths": int(np.asarray(fitter.event_observed).sum()),
            "median_months": sv.km_median(fitter),
            "median_ci_low": low if np.isfinite(low) else np.nan,
            "median_ci_high": high if np.isfinite(high) else np.nan,
        }
        at = sv.survival_at(fitter, at_months)
        for t, s in zip(at_months, at.to_numpy()):
            row[f"survival_{t:g}m"] = float(s)
        rows[label] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "group"
    return table


def logrank_table(data: pd.DataFrame, min_events_per_group: int = 1) -> pd.DataFrame:
    """Log-rank test of acquired vs primary, pooled (unstratified) and per cancer type.

    Parameters
    ----------
    data : pandas.DataFrame
        From :func:`pps_analysis_set`.
    min_events_per_group : int, default 1
        A cancer type is tested only if both classes have at least this many deaths.

    Returns
    -------
    pandas.DataFrame
        Columns ``set, patients, deaths, chi2, p`` (NaN where not tested).
    """
    _require(data, ["cancer_type", "acquired", "pps_months", "pps_event"], "logrank_table")
    rows = []
    groups = [("all cancer types (pooled, unstratified)", data)]
    groups += sorted(data.groupby("cancer_type"), key=lambda kv: str(kv[0]))
    for name, sub in groups:
        deaths = sub.groupby("acquired")["pps_event"].sum()
        row = {"set": name, "patients": int(len(sub)), "deaths": int(sub["pps_event"].sum()),
               "chi2": np.nan, "p": np.nan}
        if len(deaths) == 2 and deaths.min() >= min_events_per_group:
            res = sv.logrank(sub["pps_months"], sub["pps_event"], sub["acquired"])
            row.update(chi2=float(res.test_statistic), p=float(res.p_value))
        rows.append(row)
    return pd.DataFrame(rows, columns=["set", "patients", "deaths", "chi2", "p"])


def ph_table(fit: AdjustedCox) -> pd.DataFrame:
    """Schoenfeld-residual test of proportional hazards for every term of a fitted model.

    Uses the rank of time (see :func:`helpers.stats.survival.proportional_hazards_test`).

    Returns
    -------
    pandas.DataFrame
        Columns ``covariate, term, statistic, df, p``, in the order of the model's terms.
    """
    table = sv.proportional_hazards_test(fit.model, fit.data, transform="rank")
    order = [fit.exposure] + fit.covariates
    table = table.set_index("covariate").loc[[c for c in order if c in set(table["covariate"])]]
    table = table.reset_index().drop(columns="transform")
    table.insert(1, "term", table["covariate"].map(COVARIATE_LABELS).fillna(table["covariate"]))
    return table


def ph_sentence(table: pd.DataFrame, alpha: float = 0.05) -> str:
    """One sentence saying what the proportional-hazards test shows."""
    flagged = table[table["p"] < alpha]
    exposure = table.iloc[0]
    first = (f"For the class term the test gives p = {exposure['p']:.2g}: "
             + ("no evidence that its hazard ratio changes over time after progression"
                if exposure["p"] >= alpha else
                "the hazard ratio of acquired vs primary resistance changes over time after "
                "progression, so the pooled hazard ratio is an average over follow-up"))
    if len(flagged) == 0:
        return first + f"; no term has p < {alpha:g}."
    names = ", ".join(flagged["term"])
    return first + f"; terms with p < {alpha:g}: {names}."


def covariate_sentence(fit: AdjustedCox, count: Callable[[int], str] = str) -> str:
    """Which covariates the model used, which it dropped and what complete cases cost.

    Parameters
    ----------
    fit : AdjustedCox
        The fitted model.
    count : callable, default str
        Formats a count (pass :func:`helpers.book.privacy.count_label` to suppress small counts
        of restricted cohorts).
    """
    used = [COVARIATE_LABELS.get(c, c) for c in fit.covariates]
    text = ("Adjusted for " + ", ".join(used) if used else "Not adjusted for any covariate")
    strata = f"stratified by {fit.strata.replace('_', ' ')}" if fit.strata else "unstratified"
    text += f" ({strata})."
    not_recorded = [COVARIATE_LABELS.get(c, c) for c, why in fit.dropped.items()
                    if why.startswith("not recorded")]
    constant = [COVARIATE_LABELS.get(c, c) for c, why in fit.dropped.items()
                if not why.startswith("not recorded")]
    if not_recorded:
        text += " Not recorded in this cohort, so left out: " + ", ".join(not_recorded) + "."
    if constant:
        text += " No variation in the analysis set, so left out: " + ", ".join(constant) + "."
    lost = fit.n_input - fit.n_used
    if lost:
        parts = [f"{COVARIATE_SHORT.get(c, c)} missing for {count(n)}"
                 for c, n in fit.missing_by_covariate.items() if n]
        text += (f" Complete-case analysis: {count(lost)} of {count(fit.n_input)} patients lack "
                 f"a covariate and are left out ({'; '.join(parts)}); {count(fit.n_used)} "
                 f"patients and {count(fit.events)} deaths remain.")
    else:
        text += (f" All {count(fit.n_used)} patients ({count(fit.events)} deaths) have every "
                 "covariate.")
    return text


# --------------------------------------------------------------------------------------------
# overall survival from ICB start: naive vs landmark
# --------------------------------------------------------------------------------------------


def _os_base(patients: pd.DataFrame, where: str) -> pd.DataFrame:
    _require(patients, ["cancer_type", "os_days", "os_event", "progression_day",
                        "resistance_class"], where)
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
        raise PPSInputError(f"landmark_os_set: benefit_months must be > 0, got {benefit_months!r}")
    base = _os_base(patients, "landmark_os_set")
    lm = sv.landmark(base, benefit_months * _MONTH, "os_days", "os_event",
                     known_by_landmark_col="progression_day", group_col="_progressed")
    out = pd.DataFrame({
        "cancer_type": lm["cancer_type"].astype(str),
        "os_months": lm["os_days"] / _MONTH,
        "os_event": lm["os_event"].astype(int),
        "no_progression_by_landmark": 1 - lm["_progressed"].astype(int),
    }, index=lm.index)
    out["group"] = np.where(out["no_progression_by_landmark"] == 1, "no progression by landmark",
                            "progressed by landmark")
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
    out = pd.DataFrame({
        "cancer_type": base["cancer_type"].astype(str),
        "resistance_class": base["resistance_class"].astype(str),
        "acquired": (base["resistance_class"] == "acquired").astype(int),
        "os_months": base["os_days"] / _MONTH,
        "os_event": base["os_event"].astype(int),
    }, index=base.index)
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
        raise PPSInputError(
            f"naive_response_os_set: benefit_months must be > 0, got {benefit_months!r}")
    base = _os_base(patients, "naive_response_os_set")
    landmark = benefit_months * _MONTH
    progressed_by = base["progression_day"].notna() & (base["progression_day"] <= landmark)
    at_risk = base["os_days"] > landmark
    lost = ~at_risk & ~progressed_by & (base["os_event"] == 0)
    base = base[~lost]
    free = (base["os_days"] > landmark) & ~(base["progression_day"] <= landmark)
    out = pd.DataFrame({
        "cancer_type": base["cancer_type"].astype(str),
        "os_months": base["os_days"] / _MONTH,
        "os_event": base["os_event"].astype(int),
        "progression_free_at_landmark": free.astype(int),
    }, index=base.index)
    return pd.concat([out, covariate_frame(base)], axis=1).reset_index(drop=True)


def immortal_time_table(patients: pd.DataFrame, benefit_months: float,
                        covariates: Sequence[str] = COVARIATES) -> pd.DataFrame:
    """Overall-survival hazard ratios: the landmark analysis beside two naive ones.

    All three are Cox models stratified by cancer type and adjusted like the primary model;
    each hazard ratio compares the "benefit" group with the rest, so HR < 1 favours it.

    Rows
    ----
    1. ``landmark``: patients alive at ``benefit_months``; no progression vs progression by
       then; OS from the landmark. Free of immortal time.
    2. ``naive, final classes``: acquired vs primary from ICB start (biased: the acquired
       group cannot die before ``benefit_months``).
    3. ``naive, landmark groups``: alive and progression-free at ``benefit_months`` vs the
       rest, from ICB start (biased in the same way, on the landmark's own grouping).

    Returns
    -------
    pandas.DataFrame
        Columns ``analysis, comparison, origin, biased, patients, deaths, hr, ci_low,
        ci_high, p``.
    """
    specs = [
        ("landmark", "no progression vs progression by the landmark",
         f"landmark ({benefit_months:g} months)", False,
         landmark_os_set(patients, benefit_months), "no_progression_by_landmark"),
        ("naive, final classes", "acquired vs primary resistance (final class)", "ICB start",
         True, naive_class_os_set(patients), "acquired"),
        ("naive, landmark groups", "alive and progression-free at the landmark vs not",
         "ICB start", True, naive_response_os_set(patients, benefit_months),
         "progression_free_at_landmark"),
    ]
    rows = []
    for name, comparison, origin, biased, data, exposure in specs:
        fit = fit_adjusted_cox(data, "os_months", "os_event", exposure, covariates,
                               strata="cancer_type")
        rows.append({"analysis": name, "comparison": comparison, "origin": origin,
                     "biased": biased, "patients": fit.n_used, "deaths": fit.events,
                     **fit.exposure_hr()})
    return pd.DataFrame(rows, columns=["analysis", "comparison", "origin", "biased", "patients",
                                       "deaths", "hr", "ci_low", "ci_high", "p"])


def _hr_text(row: Mapping[str, Any]) -> str:
    return f"{row['hr']:.2f} (95% CI {row['ci_low']:.2f}–{row['ci_high']:.2f})"


def landmark_sentence(landmark_set: pd.DataFrame, count: Callable[[int], str] = str) -> str:
    """Who the landmark analysis keeps and who it leaves out, as a sentence."""
    info = landmark_set.attrs.get("landmark")
    if not info:
        raise PPSInputError("landmark_sentence: expected the output of landmark_os_set")
    months = info["landmark_time"] / _MONTH
    died = info["n_excluded_events_by_landmark"]
    censored = info["n_excluded_ended_by_landmark"] - died
    groups = landmark_set["group"].value_counts()
    text = (f"Of {count(info['n_input'])} patients, {count(died)} died and {count(censored)} "
            f"left follow-up by the landmark at {months:g} months")
    if info.get("n_unknown_survival"):
        text += f" ({count(info['n_unknown_survival'])} more have no known survival)"
    text += (f"; {count(info['n_kept'])} were alive and under follow-up then: "
             f"{count(int(groups.get('progressed by landmark', 0)))} had progressed and "
             f"{count(int(groups.get('no progression by landmark', 0)))} had not.")
    return text


def immortal_time_sentence(table: pd.DataFrame) -> str:
    """What the landmark and the naive hazard ratios of :func:`immortal_time_table` show."""
    rows = table.set_index("analysis")
    lm, final, groups = (rows.loc[k] for k in ("landmark", "naive, final classes",
                                               "naive, landmark groups"))
    text = (f"Landmark analysis (free of immortal time): HR {_hr_text(lm)} for patients without "
            f"progression by the landmark. The same two groups analysed naively from ICB "
            f"start give HR {_hr_text(groups)}")
    if groups["ci_high"] < lm["ci_low"]:
        text += (", a larger apparent benefit: the immortal-time bias, since every early death "
                 "is counted against the comparison group.")
    elif groups["hr"] < lm["hr"]:
        text += ", a somewhat larger apparent benefit (the confidence intervals overlap)."
    else:
        text += ", no larger than the landmark estimate here."
    text += f" The naive comparison of the final classes gives HR {_hr_text(final)}"
    if final["ci_high"] < lm["ci_low"]:
        text += ", a larger apparent benefit than the landmark analysis."
    elif final["ci_low"] > lm["ci_high"]:
        text += ", a smaller apparent benefit than the landmark analysis."
    else:
        text += (", close to the landmark estimate; the two compare different groups (the "
                 "landmark's no-progression group also holds patients who never progress), so "
                 "the similarity does not make the naive number valid.")
    return text


def planted_sentence(fit: AdjustedCox, planted_hr: float) -> str:
    """Whether the pooled estimate's 95% CI covers the hazard ratio planted in a simulation."""
    hr = fit.exposure_hr()
    covered = hr["ci_low"] <= planted_hr <= hr["ci_high"]
    return (f"Simulated cohort: the planted hazard ratio is {planted_hr:g}; the estimate is "
            f"{_hr_text(hr)}, whose confidence interval "
            f"{'covers' if covered else 'does NOT cover'} it.")


# --------------------------------------------------------------------------------------------
# planted truth (simulated cohorts only)
# --------------------------------------------------------------------------------------------


def planted_pps_hr(cohort_path: str | Path) -> float | None:
    """The planted pooled acquired-vs-primary HR of a saved simulated cohort (None if absent)."""
    import json

    f = Path(cohort_path) / "truth.json"
    if not f.is_file():
        return None
    truth = json.loads(f.read_text())
    value = truth.get("pps_hr", {}).get("pooled")
    return None if value is None else float(value)


# --------------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------------

_CLASS_COLOURS = {"acquired": "#2471a3", "primary": "#c0392b"}
_LANDMARK_COLOURS = {"no progression by landmark": "#2471a3",
                     "progressed by landmark": "#c0392b"}
_LANDMARK_ORDER = tuple(_LANDMARK_COLOURS)


def _km_panel(ax: plt.Axes, curves: Mapping[str, KaplanMeierFitter], colours: Mapping[str, str],
              ticks: Sequence[float], min_cell_count: int | None, xlabel: str,
              ylabel: str) -> None:
    # the colour cycle decides each curve's line, band and censor marks together
    ax.set_prop_cycle(color=[colours.get(k, "#555555") for k in curves])
    plot_km(ax, curves, ticks, min_cell_count=int(min_cell_count) if min_cell_count else None,
            xlabel=xlabel, ylabel=ylabel)
    ax.set_xlim(0, max(ticks))


def plot_km_by_class(ax: plt.Axes, data: pd.DataFrame, *, title: str = "",
                     at_risk_times: Sequence[float] = (0, 6, 12, 18, 24),
                     min_cell_count: int | None = None) -> plt.Axes:
    """KM curves of survival after progression, acquired vs primary, with at-risk numbers.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    data : pandas.DataFrame
        From :func:`pps_analysis_set` (or a subset of it).
    title : str
        Panel title.
    at_risk_times : sequence of float
        Months at which the number at risk is printed (and the x range).
    min_cell_count : int, optional
        Suppress at-risk counts below it (pass it for restricted cohorts only).

    Returns
    -------
    matplotlib.axes.Axes
    """
    curves = km_curves(data, "pps_months", "pps_event", "resistance_class", CLASS_ORDER)
    _km_panel(ax, curves, _CLASS_COLOURS, at_risk_times, min_cell_count,
              "Months since progression", "Survival probability")
    if title:
        ax.set_title(title)
    return ax


def km_pooled_figure(data: pd.DataFrame, *, min_cell_count: int | None = None,
                     at_risk_times: Sequence[float] = (0, 6, 12, 18, 24)) -> plt.Figure:
    """KM curves of survival after progression by class, all cancer types together."""
    fig, ax = plt.subplots(figsize=(7, 4.8))
    plot_km_by_class(ax, data, title="Survival after progression, all cancer types",
                     at_risk_times=at_risk_times, min_cell_count=min_cell_count)
    fig.tight_layout()
    return fig


def km_grid(data: pd.DataFrame, *, ncols: int = 2, min_cell_count: int | None = None,
            at_risk_times: Sequence[float] = (0, 6, 12, 18, 24)) -> plt.Figure:
    """One KM panel (acquired vs primary, with at-risk numbers) per cancer type."""
    types = sorted(data["cancer_type"].unique(), key=str)
    if not types:
        raise PPSInputError("km_grid: no cancer type to draw")
    nrows = int(np.ceil(len(types) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.4 * ncols, 4.6 * nrows), squeeze=False)
    for ax, cancer_type in zip(axes.ravel(), types):
        sub = data[data["cancer_type"] == cancer_type]
        plot_km_by_class(ax, sub, title=str(cancer_type), at_risk_times=at_risk_times,
                         min_cell_count=min_cell_count)
    for ax in axes.ravel()[len(types):]:
        ax.set_visible(False)
    fig.tight_layout(h_pad=5.0, w_pad=6.0)
    return fig


def forest_figure(table: pd.DataFrame, planted_hr: float | None = None,
                  count: Callable[[int], str] = str) -> plt.Figure:
    """Forest plot of acquired-vs-primary hazard ratios (per cancer type, then pooled).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`forest_table`.
    planted_hr : float, optional
        For a simulated cohort, the planted hazard ratio, drawn as a dotted line.
    count : callable, default str
        Formats the death counts of the labels (small-count suppression).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=(8.5, 0.42 * len(table) + 1.6))
    labelled = table.assign(
        label=[f"{r.label} ({count(r.deaths)} deaths)" for r in table.itertuples()])
    forest_plot(ax, labelled, label_col="label",
                xlabel="Hazard ratio of death after progression, acquired vs primary (95% CI)")
    ax.axhline(0.5, color="#bbbbbb", linewidth=0.6)  # separates the pooled row
    if planted_hr is not None:
        ax.axvline(planted_hr, color="#2471a3", linestyle=":", linewidth=1.4,
                   label=f"hazard ratio planted in the simulation ({planted_hr:g})")
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def immortal_time_figure(landmark_set: pd.DataFrame, naive_set: pd.DataFrame,
                         benefit_months: float, min_cell_count: int | None = None) -> plt.Figure:
    """Left: naive OS from ICB start by final class (biased); right: OS from the landmark.

    Parameters
    ----------
    landmark_set : pandas.DataFrame
        From :func:`landmark_os_set`.
    naive_set : pandas.DataFrame
        From :func:`naive_class_os_set`.
    benefit_months : float
        The landmark (shaded on the naive panel as the acquired group's immortal time).
    min_cell_count : int, optional
        Suppress at-risk counts below it (restricted cohorts).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    naive = km_curves(naive_set, "os_months", "os_event", "resistance_class", CLASS_ORDER)
    _km_panel(left, naive, _CLASS_COLOURS, [0, 6, 12, 18, 24, 30, 36], min_cell_count,
              "Months since the start of ICB", "Overall survival")
    left.axvspan(0, benefit_months, color="#f5b041", alpha=0.25, linewidth=0,
                 label="immortal time (acquired)")
    left.legend(frameon=False, loc="upper right", fontsize="small")
    left.set_title("Naive, BIASED: final class, from ICB start")
    landmark = km_curves(landmark_set, "os_months", "os_event", "group", _LANDMARK_ORDER)
    _km_panel(right, landmark, _LANDMARK_COLOURS, [0, 6, 12, 18, 24, 30], min_cell_count,
              f"Months since the landmark ({benefit_months:g} months after ICB start)",
              "Overall survival")
    right.set_title(f"Landmark at {benefit_months:g} months: patients alive then")
    fig.tight_layout(w_pad=6.0)
    return fig
