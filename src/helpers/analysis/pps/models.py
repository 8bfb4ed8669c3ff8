"""Chapter 3, the models: adjusted Cox fits that drop what a cohort does not record, the
per-cancer-type and sensitivity analyses, Kaplan-Meier summaries, log-rank and proportional-hazards
tables, and the landmark-vs-naive comparison of overall survival.

The statistics themselves are :mod:`helpers.stats.survival`'s; this module knows the chapter's
tables (:mod:`helpers.analysis.pps.sets`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning
from lifelines.utils import median_survival_times

from helpers.analysis.pps.sets import (
    CLASS_ORDER,
    COVARIATE_LABELS,
    COVARIATE_SHORT,
    COVARIATES,
    landmark_os_set,
    naive_class_os_set,
    naive_response_os_set,
)
from helpers.errors import InputError, require_columns
from helpers.stats import survival as sv
from helpers.stats.stratified_logrank import stratified_logrank

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


#: Why a comparison of :func:`immortal_time_table` is not estimated in a small cohort.
NOT_ESTIMABLE = "too few patients or deaths for the model (collinear covariates or a group without events)"


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
    helpers.errors.InputError
        If a column is missing, the exposure does not vary, or no event remains.
    """
    where = "fit_adjusted_cox"
    covariates = list(covariates)
    require_columns(data, [time_col, event_col, exposure, *covariates] + ([strata] if strata else []), "data")
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
        raise InputError(
            f"{where}: {exposure!r} takes a single value in the analysis set "
            f"({len(frame)} rows); there is nothing to compare"
        )
    if frame[event_col].sum() == 0:
        raise InputError(f"{where}: no events in the analysis set ({len(frame)} rows)")
    frame[event_col] = frame[event_col].astype(int)
    try:
        model = sv.cox(frame, time_col, event_col, strata=strata)
    except (ConvergenceError, np.linalg.LinAlgError) as exc:
        raise InputError(
            f"{where}: the model of {exposure!r} cannot be estimated on these {len(frame)} rows "
            f"({int(frame[event_col].sum())} events): the covariates are collinear or a group has "
            "too few events in the strata"
        ) from exc
    return AdjustedCox(
        model=model,
        data=frame,
        exposure=exposure,
        covariates=usable,
        dropped=dropped,
        n_input=int(len(data)),
        n_used=int(len(frame)),
        missing_by_covariate=missing,
        strata=strata,
        time_col=time_col,
        event_col=event_col,
    )


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
    return fit_adjusted_cox(pps_set, "pps_months", "pps_event", "acquired", covariates, strata="cancer_type")


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
        raise InputError(
            f"per_cancer_type_pps: min_events_per_group must be >= 1, got {min_events_per_group!r}"
        )
    require_columns(pps_set, ["cancer_type", "acquired", "pps_months", "pps_event", *covariates], "pps_set")
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
        row: dict[str, Any] = {
            "cancer_type": cancer_type,
            **counts,
            "hr": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "p": np.nan,
            "covariates_dropped": "",
        }
        fewest = min(counts["deaths_acquired"], counts["deaths_primary"])
        if fewest < min_events_per_group:
            row["status"] = f"not estimated: fewer than {int(min_events_per_group)} deaths in a group"
        else:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error", ConvergenceWarning)
                    fit = fit_adjusted_cox(sub, "pps_months", "pps_event", "acquired", covariates)
                with np.errstate(over="ignore"):  # a huge SE gives an infinite upper limit, not a warning
                    row.update(fit.exposure_hr())
                row["status"] = "estimated"
                row["covariates_dropped"] = ", ".join(
                    f"{c} ({why})" for c, why in fit.dropped.items() if c in recorded
                )
            except (ConvergenceError, ConvergenceWarning, np.linalg.LinAlgError) as exc:
                row["status"] = f"not estimated: the model did not converge ({type(exc).__name__})"
        rows.append(row)
    columns = [
        "cancer_type",
        "n_acquired",
        "n_primary",
        "deaths_acquired",
        "deaths_primary",
        "hr",
        "ci_low",
        "ci_high",
        "p",
        "status",
        "covariates_dropped",
    ]
    return pd.DataFrame(rows, columns=columns)


def forest_table(pooled: AdjustedCox, per_type: pd.DataFrame) -> pd.DataFrame:
    """Rows of the forest plot: every estimated cancer type, then the pooled estimate.

    Returns
    -------
    pandas.DataFrame
        Columns ``label, hr, ci_low, ci_high, deaths`` (deaths = both groups).
    """
    estimated = per_type[per_type["status"] == "estimated"]
    rows = [
        {
            "label": r.cancer_type,
            "hr": r.hr,
            "ci_low": r.ci_low,
            "ci_high": r.ci_high,
            "deaths": int(r.deaths_acquired + r.deaths_primary),
        }
        for r in estimated.itertuples()
    ]
    hr = pooled.exposure_hr()
    rows.append(
        {
            "label": "Pooled (stratified by cancer type)",
            "hr": hr["hr"],
            "ci_low": hr["ci_low"],
            "ci_high": hr["ci_high"],
            "deaths": pooled.events,
        }
    )
    return pd.DataFrame(rows, columns=["label", "hr", "ci_low", "ci_high", "deaths"])


# --------------------------------------------------------------------------------------------
# sensitivity analyses
# --------------------------------------------------------------------------------------------


def sensitivity_table(pps_set: pd.DataFrame, covariates: Sequence[str] = COVARIATES) -> pd.DataFrame:
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
    add(
        f"primary: stratified by cancer type, adjusted for {adjusted}",
        primary.n_used,
        primary.events,
        primary.exposure_hr(),
    )
    without_tmb = [c for c in covariates if c != "log2_tmb"]
    if "log2_tmb" in primary.covariates:
        fit = pooled_pps_cox(pps_set, without_tmb)
        add("without TMB (keeps patients without a DNA sample)", fit.n_used, fit.events, fit.exposure_hr())
    fit = fit_adjusted_cox(pps_set, "pps_months", "pps_event", "acquired", [], strata="cancer_type")
    add("unadjusted (stratified by cancer type only)", fit.n_used, fit.events, fit.exposure_hr())
    if "rt_months" in pps_set.columns and pps_set["rt_months"].notna().any():
        base = primary.data.copy()
        base["_id"] = np.arange(len(base))
        base["_rt"] = pps_set.loc[base.index, "rt_months"].to_numpy(dtype=float)
        base = base[base["pps_months"] > 0]  # a zero-length follow-up has no interval
        long = sv.to_counting_process(
            base, "_id", "pps_months", "pps_event", "_rt", exposure_col="rt_after_progression"
        )
        model = sv.cox_time_varying(long, "_id", "start", "stop", "pps_event", strata="cancer_type")
        table = sv.hazard_ratio_table(model).set_index("covariate")
        hr = {k: float(table.loc["acquired", k]) for k in ("hr", "ci_low", "ci_high", "p")}
        add(
            "primary + radiotherapy after progression (time-varying)",
            int(len(base)),
            int(base["pps_event"].sum()),
            hr,
        )
    return pd.DataFrame(rows, columns=["model", "patients", "deaths", "hr", "ci_low", "ci_high", "p"])


# --------------------------------------------------------------------------------------------
# Kaplan-Meier, log-rank, proportional hazards
# --------------------------------------------------------------------------------------------


def km_curves(
    data: pd.DataFrame, time_col: str, event_col: str, group_col: str, order: Sequence[str] | None = None
) -> dict[str, KaplanMeierFitter]:
    """Kaplan-Meier curve per group, in ``order`` (default: sorted labels)."""
    require_columns(data, [time_col, event_col, group_col], "data")
    curves = sv.kaplan_meier_by_group(
        data[time_col], data[event_col].astype(int), data[group_col].astype(str)
    )
    if order is None:
        return curves
    return {k: curves[k] for k in order if k in curves}


def km_curves_by_cancer_type(pps_set: pd.DataFrame) -> dict[str, dict[str, KaplanMeierFitter]]:
    """Survival after progression by class (:data:`CLASS_ORDER`) in each cancer type, sorted by name."""
    require_columns(pps_set, ["cancer_type", "pps_months", "pps_event", "resistance_class"], "pps_set")
    return {
        str(cancer_type): km_curves(sub, "pps_months", "pps_event", "resistance_class", CLASS_ORDER)
        for cancer_type, sub in sorted(pps_set.groupby("cancer_type"), key=lambda kv: str(kv[0]))
    }


def km_summary(
    curves: Mapping[str, KaplanMeierFitter], at_months: Sequence[float] = (6.0, 12.0)
) -> pd.DataFrame:
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
        for t, s in zip(at_months, at.to_numpy(), strict=True):
            row[f"survival_{t:g}m"] = float(s)
        rows[label] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "group"
    return table


def logrank_table(data: pd.DataFrame, min_events_per_group: int = 1) -> pd.DataFrame:
    """Log-rank test of acquired vs primary: pooled (unstratified), stratified, per cancer type.

    Rows: all cancer types pooled without strata (what the pooled Kaplan–Meier figure shows);
    all cancer types stratified by cancer type, as the primary model is
    (:func:`helpers.stats.stratified_logrank.stratified_logrank`; the class mix differs by
    type, so the unstratified test partly compares cancer types); then each cancer type.

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
    require_columns(data, ["cancer_type", "acquired", "pps_months", "pps_event"], "data")
    rows = []
    groups = [("all cancer types (pooled, unstratified)", data)]
    groups += sorted(data.groupby("cancer_type"), key=lambda kv: str(kv[0]))
    stratified = {
        "set": "all cancer types (stratified by cancer type)",
        "patients": int(len(data)),
        "deaths": int(data["pps_event"].sum()),
        "chi2": np.nan,
        "p": np.nan,
    }
    if data["acquired"].nunique() == 2 and data["pps_event"].sum() > 0:
        res = stratified_logrank(data["pps_months"], data["pps_event"], data["acquired"], data["cancer_type"])
        stratified.update(chi2=res.statistic, p=res.p)
    for name, sub in groups:
        deaths = sub.groupby("acquired")["pps_event"].sum()
        row = {
            "set": name,
            "patients": int(len(sub)),
            "deaths": int(sub["pps_event"].sum()),
            "chi2": np.nan,
            "p": np.nan,
        }
        if len(deaths) == 2 and deaths.min() >= min_events_per_group:
            res = sv.logrank(sub["pps_months"], sub["pps_event"], sub["acquired"])
            row.update(chi2=float(res.test_statistic), p=float(res.p_value))
        rows.append(row)
    rows.insert(1, stratified)
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


def immortal_time_table(
    patients: pd.DataFrame, benefit_months: float, covariates: Sequence[str] = COVARIATES
) -> pd.DataFrame:
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
        ci_high, p, note``; a comparison the cohort is too small for has NaN estimates and its
        reason in ``note``.
    """
    specs = [
        (
            "landmark",
            "no progression vs progression by the landmark",
            f"landmark ({benefit_months:g} months)",
            False,
            landmark_os_set(patients, benefit_months),
            "no_progression_by_landmark",
        ),
        (
            "naive, final classes",
            "acquired vs primary resistance (final class)",
            "ICB start",
            True,
            naive_class_os_set(patients),
            "acquired",
        ),
        (
            "naive, landmark groups",
            "alive and progression-free at the landmark vs not",
            "ICB start",
            True,
            naive_response_os_set(patients, benefit_months),
            "progression_free_at_landmark",
        ),
    ]
    rows = []
    for name, comparison, origin, biased, data, exposure in specs:
        row = {"analysis": name, "comparison": comparison, "origin": origin, "biased": biased}
        try:
            fit = fit_adjusted_cox(data, "os_months", "os_event", exposure, covariates, strata="cancer_type")
        except InputError:  # a small cohort: this comparison is dropped, with the reason
            # the reason is said without counts: the sentence reaches the page unsuppressed
            nan = float("nan")
            row |= {"patients": len(data), "deaths": int(data["os_event"].sum()), "hr": nan}
            row |= {"ci_low": nan, "ci_high": nan, "p": nan, "note": NOT_ESTIMABLE}
        else:
            row |= {"patients": fit.n_used, "deaths": fit.events, **fit.exposure_hr(), "note": ""}
        rows.append(row)
    return pd.DataFrame(
        rows,
        columns=[
            "analysis",
            "comparison",
            "origin",
            "biased",
            "patients",
            "deaths",
            "hr",
            "ci_low",
            "ci_high",
            "p",
            "note",
        ],
    )
