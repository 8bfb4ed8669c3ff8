"""Survival toolkit: Kaplan-Meier, log-rank, Cox models, landmark and time-varying analyses.

Thin, validated wrappers around :mod:`lifelines` that return lifelines' own fitted objects, plus
tidy tables for the book; the Cox model on counting-process data is fitted by
:mod:`helpers.stats.cox_counting` (exact, O(n log n), where lifelines' is quadratic). Numbers agree with R's ``survival`` package (``survfit``, ``survdiff``,
``coxph(ties = "efron")``) to a relative tolerance of 1e-6; ``tests/test_survival.py`` checks this
against ``../shared/reference/survival_reference.json``. This module knows nothing of cohorts.

Conventions
-----------
* ``time`` is any non-negative float (days in the canonical cohort, months in the public tables);
  ``event`` is 1 for the event (death, progression) and 0 for censoring.
* Bad input (NaN, negative times, events other than 0/1, missing columns, overlapping intervals)
  raises :class:`helpers.errors.InputError` in the package's one message format: the function,
  then every broken rule with its table (the DataFrame argument by its parameter name, or
  ``arguments`` for array arguments), column, number of rows and example rows (the checks are
  in :mod:`helpers.stats.survival_checks`).

Why a landmark?
---------------
Comparing overall survival *from the start of ICB* between acquired and primary resistance is
biased: a patient can only be called "acquired" after surviving the ``benefit_months`` window, so
that group is granted "immortal" time it could not have died in (Suissa 2008, Am J Epidemiol
167:492; Anderson, Cain & Gelber 1983, J Clin Oncol 1:710). The landmark method removes the bias by
(1) choosing a landmark time L, (2) keeping only patients still alive and under follow-up at L,
(3) defining groups only from what is known at L (e.g. "progressed by L or not"), and (4) measuring
survival from L. See :func:`landmark`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import StatisticalResult, multivariate_logrank_test, proportional_hazard_test
from scipy import stats

from helpers.errors import InputError, Violation, check, raise_violations
from helpers.stats import survival_checks as checks
from helpers.stats.cox_counting import CoxCountingFit, fit_cox_counting

__all__ = [
    "R_CONFORMANT_FIT_OPTIONS",
    "kaplan_meier",
    "kaplan_meier_by_group",
    "km_median",
    "survival_at",
    "logrank",
    "cox",
    "hazard_ratio_table",
    "proportional_hazards_test",
    "landmark",
    "to_counting_process",
    "cox_time_varying",
    "at_risk_table",
]

#: Newton-Raphson options for lifelines' Cox fitters that reproduce R's ``coxph`` to ~1e-10.
#: lifelines (0.30) stops by default when the *relative change of the log-likelihood* falls below
#: ``r_precision=1e-9``; the log-likelihood is flat near the optimum (its change is quadratic in
#: the step), so the coefficients it returns are still ~4e-7 (relative) away from the maximum, the
#: same order as the tolerance we promise. Switching that rule off (``r_precision=0``) and asking
#: for a Newton decrement below 1e-14 keeps iterating until the step itself is ~1e-7 in the
#: standardised scale; it costs one or two extra iterations.
R_CONFORMANT_FIT_OPTIONS: dict[str, float] = {"precision": 1e-14, "r_precision": 0.0}

# S(t) is a product of fractions, so a curve that is exactly 0.5 in exact arithmetic can land a few
# ulps above it in floating point; such values count as "reached 0.5".
_HALF_TOLERANCE = 1e-10


# --------------------------------------------------------------------------------------------
# Kaplan-Meier
# --------------------------------------------------------------------------------------------


def kaplan_meier(time: Any, event: Any, label: str | None = None, alpha: float = 0.05) -> KaplanMeierFitter:
    """Fit a Kaplan-Meier (product-limit) estimator.

    Parameters
    ----------
    time : array-like of float
        Follow-up time, >= 0, no missing values.
    event : array-like of {0, 1} or bool
        1 if the event was observed at ``time``, 0 if censored.
    label : str, optional
        Name of the curve (used in plots and tables).
    alpha : float, default 0.05
        1 - confidence level of the pointwise (exponential Greenwood) confidence band.

    Returns
    -------
    lifelines.KaplanMeierFitter
        The fitted estimator.

    Raises
    ------
    helpers.errors.InputError
        If a time is negative or missing, or an event is not 0/1 (every broken rule is listed).
    """
    where = "kaplan_meier"
    args = checks.arguments(where, time=time, event=event)
    violations: list[Violation] = []
    checks.check_time(violations, args, "time", checks.ARGUMENTS, show=["time", "event"])
    checks.check_event(violations, args, "event", checks.ARGUMENTS, show=["time", "event"])
    raise_violations(violations, where)
    fitter = KaplanMeierFitter(alpha=alpha)
    return fitter.fit(
        args["time"].astype(float).to_numpy(), args["event"].astype(int).to_numpy(), label=label
    )


def kaplan_meier_by_group(
    time: Any, event: Any, group: Any, alpha: float = 0.05
) -> dict[str, KaplanMeierFitter]:
    """Fit one Kaplan-Meier curve per group.

    Parameters
    ----------
    time, event
        As in :func:`kaplan_meier`.
    group : array-like
        Group label of each row (no missing values).
    alpha : float, default 0.05
        1 - confidence level of the bands.

    Returns
    -------
    dict of str to lifelines.KaplanMeierFitter
        Fitted curves keyed by ``str(group label)``, in sorted label order.
    """
    where = "kaplan_meier_by_group"
    args = checks.checked_groups(where, time, event, group)
    durations = args["time"].astype(float).reset_index(drop=True)
    events = args["event"].astype(int).reset_index(drop=True)
    groups = args["group"].reset_index(drop=True)
    curves = {}
    for value in sorted(groups.unique(), key=str):
        mask = (groups == value).to_numpy()
        curves[str(value)] = kaplan_meier(durations[mask], events[mask], label=str(value), alpha=alpha)
    return curves


def _survival_curve(fitter: KaplanMeierFitter) -> pd.Series:
    if not isinstance(fitter, KaplanMeierFitter) or not hasattr(fitter, "survival_function_"):
        raise InputError(f"expected a fitted lifelines.KaplanMeierFitter, got {type(fitter).__name__}")
    return fitter.survival_function_.iloc[:, 0]


def km_median(fitter: KaplanMeierFitter) -> float:
    """Median survival time of a Kaplan-Meier curve, by the plain product-limit rule.

    The median is the first time at which S(t) <= 0.5. If the curve never reaches 0.5 the
    median is not estimable and NaN is returned.

    Parameters
    ----------
    fitter : lifelines.KaplanMeierFitter
        A fitted estimator (e.g. from :func:`kaplan_meier`).

    Returns
    -------
    float
        The median, or ``nan`` if S(t) stays above 0.5.

    Notes
    -----
    This equals R's ``survfit`` median except when the curve sits *exactly* at 0.5 over an
    interval: R then reports the midpoint between the time S reaches 0.5 and the next event time,
    whereas this function reports the start of that interval (as do ``FACTS.md`` and lifelines'
    ``median_survival_time_``).
    """
    curve = _survival_curve(fitter)
    reached = curve.index[curve.to_numpy() <= 0.5 + _HALF_TOLERANCE]
    return float(reached[0]) if len(reached) else float("nan")


def survival_at(fitter: KaplanMeierFitter, times: float | Iterable[float]) -> pd.Series:
    """Kaplan-Meier survival probability S(t) at given times (right-continuous step function).

    Parameters
    ----------
    fitter : lifelines.KaplanMeierFitter
        A fitted estimator.
    times : float or iterable of float
        Times at which to read the curve; events at exactly ``t`` are included in S(t).

    Returns
    -------
    pandas.Series
        S(t) indexed by ``times``. Beyond the last follow-up time the curve is undefined
        (NaN, as R's ``summary(survfit, times)`` drops such times) unless it has already
        dropped to 0.
    """
    curve = _survival_curve(fitter)
    query = np.atleast_1d(np.asarray(list(times) if not np.isscalar(times) else [times], dtype=float))
    if np.isnan(query).any():
        raise InputError("survival_at: 'times' contains NaN")
    grid = curve.index.to_numpy(dtype=float)
    values = curve.to_numpy(dtype=float)
    position = np.searchsorted(grid, query, side="right") - 1
    result = np.where(position >= 0, values[np.clip(position, 0, None)], 1.0)
    last_time = float(fitter.durations.max())
    beyond = (query > last_time) & (values[-1] > 0)
    result[beyond] = np.nan
    return pd.Series(result, index=pd.Index(query, name="time"), name=curve.name)


def at_risk_table(
    fitters: Mapping[str, KaplanMeierFitter] | Sequence[KaplanMeierFitter],
    times: Iterable[float],
    min_cell_count: int | None = None,
) -> pd.DataFrame:
    """Number at risk (follow-up time >= t) per curve at each time, as printed under KM plots.

    Written here rather than taken from lifelines' ``add_at_risk_counts`` because restricted
    cohorts need small counts suppressed, and lifelines counts and draws in one step.

    Parameters
    ----------
    fitters : mapping of label to KaplanMeierFitter, or a sequence of them
        The curves; a sequence uses each fitter's own label.
    times : iterable of float
        The times of the columns.
    min_cell_count : int, optional
        If given, counts with 0 < n < ``min_cell_count`` are suppressed (shown as missing,
        ``<NA>``), as the book requires for restricted cohorts.

    Returns
    -------
    pandas.DataFrame
        One row per curve, one column per time, nullable integer counts.
    """
    if isinstance(fitters, Mapping):
        items = list(fitters.items())
    else:
        items = [(getattr(fitter, "_label", f"curve {i}"), fitter) for i, fitter in enumerate(fitters)]
    time_points = [float(t) for t in times]
    rows = {}
    for label, fitter in items:
        _survival_curve(fitter)
        if getattr(fitter, "entry", None) is not None:
            raise InputError(
                f"at_risk_table: curve {label!r} was fitted with delayed entry, which is not supported"
            )
        durations = np.asarray(fitter.durations, dtype=float)
        rows[str(label)] = [int((durations >= t).sum()) for t in time_points]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=time_points).astype("Int64")
    table.index.name = "curve"
    table.columns.name = "time"
    if min_cell_count is not None:
        table = table.mask((table > 0) & (table < min_cell_count))
    return table


# --------------------------------------------------------------------------------------------
# log-rank
# --------------------------------------------------------------------------------------------


def logrank(time: Any, event: Any, group: Any) -> StatisticalResult:
    """Log-rank test of equal survival across two or more groups (R's ``survdiff``, rho = 0).

    Parameters
    ----------
    time, event
        As in :func:`kaplan_meier`.
    group : array-like
        Group label of each row; at least two distinct labels, no missing values.

    Returns
    -------
    lifelines.statistics.StatisticalResult
        ``test_statistic`` is the chi-square with (groups - 1) degrees of freedom,
        ``p_value`` its upper tail.
    """
    where = "logrank"
    args = checks.checked_groups(where, time, event, group)
    groups = args["group"]
    if groups.nunique() < 2:
        raise InputError(f"logrank: 'group' needs at least two distinct labels, got {list(groups.unique())}")
    return multivariate_logrank_test(
        args["time"].astype(float).to_numpy(), groups.to_numpy(), args["event"].astype(int).to_numpy()
    )


# --------------------------------------------------------------------------------------------
# Cox models
# --------------------------------------------------------------------------------------------


def cox(
    data: pd.DataFrame,
    duration_col: str,
    event_col: str,
    strata: str | Sequence[str] | None = None,
    *,
    alpha: float = 0.05,
    penalizer: float = 0.0,
    fit_options: Mapping[str, float] | None = None,
    **fit_kwargs: Any,
) -> CoxPHFitter:
    """Fit a Cox proportional-hazards model (Efron ties) on all other columns of ``data``.

    Parameters
    ----------
    data : pandas.DataFrame
        The duration and event columns, optional strata columns, and the covariates: every
        other column is a covariate, so select columns before calling. Covariates must be
        numeric (bool is cast to 0/1) and complete.
    duration_col, event_col : str
        Follow-up time (>= 0) and event indicator (0/1).
    strata : str or list of str, optional
        Columns to stratify on (separate baseline hazards), as ``strata()`` in R.
    alpha : float, default 0.05
        1 - confidence level of the intervals.
    penalizer : float, default 0
        lifelines' ridge/elastic-net penalty (0 reproduces R's unpenalised ``coxph``).
    fit_options : mapping, optional
        Newton-Raphson options merged over :data:`R_CONFORMANT_FIT_OPTIONS`.
    **fit_kwargs
        Passed to :meth:`lifelines.CoxPHFitter.fit` (e.g. ``weights_col``, ``robust``).

    Returns
    -------
    lifelines.CoxPHFitter
        The fitted model; see :func:`hazard_ratio_table` for a tidy summary.
    """
    where = "cox"
    strata_cols = checks.as_list(strata)
    special = [duration_col, event_col, *strata_cols]
    special += [fit_kwargs[k] for k in ("weights_col", "cluster_col", "entry_col") if fit_kwargs.get(k)]
    checks.require_frame(data, special, where, "data")
    violations: list[Violation] = []
    shown = [duration_col, event_col]
    checks.check_time(violations, data, duration_col, "data", show=shown)
    checks.check_event(violations, data, event_col, "data", show=shown)
    covariates = checks.check_model_columns(violations, data, special, strata_cols, "data", where)
    raise_violations(violations, where)
    frame = checks.model_frame(data, covariates, event_col)
    options = {**R_CONFORMANT_FIT_OPTIONS, **dict(fit_options or {})}
    model = CoxPHFitter(alpha=alpha, penalizer=penalizer)
    return model.fit(
        frame,
        duration_col=duration_col,
        event_col=event_col,
        strata=strata_cols or None,
        fit_options=options,
        **fit_kwargs,
    )


def hazard_ratio_table(model: CoxPHFitter | CoxCountingFit, alpha: float | None = None) -> pd.DataFrame:
    """Tidy hazard-ratio table of a fitted Cox model.

    Parameters
    ----------
    model : lifelines.CoxPHFitter or helpers.stats.cox_counting.CoxCountingFit
        A fitted model (anything with ``params_``, ``standard_errors_`` and ``alpha``).
    alpha : float, optional
        1 - confidence level; defaults to the model's own ``alpha``.

    Returns
    -------
    pandas.DataFrame
        Columns ``covariate, coef, se, hr, ci_low, ci_high, z, p``: the Wald interval
        exp(coef -/+ z_{1-alpha/2} se) and two-sided Wald p-value, as R's ``summary(coxph)``.
    """
    if not hasattr(model, "params_"):
        raise InputError(
            f"hazard_ratio_table: expected a fitted lifelines Cox model, got {type(model).__name__}"
        )
    alpha = model.alpha if alpha is None else alpha
    z_crit = stats.norm.ppf(1 - alpha / 2)
    coef = model.params_.to_numpy(dtype=float)
    se = model.standard_errors_.to_numpy(dtype=float)
    z = coef / se
    return pd.DataFrame(
        {
            "covariate": list(model.params_.index),
            "coef": coef,
            "se": se,
            "hr": np.exp(coef),
            "ci_low": np.exp(coef - z_crit * se),
            "ci_high": np.exp(coef + z_crit * se),
            "z": z,
            "p": 2 * stats.norm.sf(np.abs(z)),
        }
    )


def proportional_hazards_test(
    model: CoxPHFitter, data: pd.DataFrame, transform: str | Sequence[str] = "rank"
) -> pd.DataFrame:
    """Schoenfeld-residual test of proportional hazards, one row per covariate (and transform).

    Wraps :func:`lifelines.statistics.proportional_hazard_test`: the scaled Schoenfeld residuals
    are correlated with a transform of time (default: its rank, which Park & Hendry 2015 found
    well-behaved). This is the score-test approximation R's ``cox.zph`` used before survival 3.0;
    survival >= 3.0 uses an exact score test, so p-values differ somewhat from current R.

    The "rank" transform is this module's, not lifelines': lifelines (0.30) computes it as the
    running count of events in the model's row order (``np.cumsum(events)``), which is the rank
    of the event times only when the rows are sorted by time. A *stratified* model keeps its
    rows sorted by stratum, then time, so lifelines' "rank" there is the order of the strata,
    not of time, and misses a hazard ratio that changes over follow-up (a hazard ratio of 0.45
    for four months, then 1, went unflagged: p = 0.76, vs p < 1e-8 with the rank of time).
    Here the rank is that of each event's time among all event times (ties by row order, as
    lifelines does for sorted rows), so unstratified results are lifelines' own.

    Parameters
    ----------
    model : lifelines.CoxPHFitter
        A model fitted (e.g. by :func:`cox`) on ``data``.
    data : pandas.DataFrame
        The table the model was fitted on.
    transform : str or list of str, default "rank"
        Time transform(s): "rank", "km", "identity", "log", or "all".

    Returns
    -------
    pandas.DataFrame
        Columns ``covariate, transform, statistic, df, p``; a small p suggests the hazard
        ratio of that covariate changes over time.
    """
    if not isinstance(model, CoxPHFitter) or not hasattr(model, "params_"):
        raise InputError(
            f"proportional_hazards_test: expected a fitted lifelines.CoxPHFitter, got {type(model).__name__}"
        )
    transforms = ["km", "rank", "identity", "log"] if transform == "all" else checks.as_list(transform)
    rows = []
    for name in transforms:
        transform_fn = _rank_of_event_times if name == "rank" else name
        result = proportional_hazard_test(model, data, time_transform=transform_fn)
        summary = result.summary
        for covariate, row in summary.iterrows():
            covariate = covariate[0] if isinstance(covariate, tuple) else covariate
            rows.append(
                {
                    "covariate": covariate,
                    "transform": name,
                    "statistic": float(row["test_statistic"]),
                    "df": 1,
                    "p": float(row["p"]),
                }
            )
    return pd.DataFrame(rows, columns=["covariate", "transform", "statistic", "df", "p"])


def _rank_of_event_times(durations: pd.Series, events: pd.Series, weights: pd.Series) -> pd.Series:
    """Rank of each event's time among all event times (1 = earliest; ties by row order).

    The time transform of :func:`proportional_hazards_test` for ``"rank"``; values at censored
    rows are 0 (lifelines keeps only the event rows). Correct whatever the row order of a
    stratified model.
    """
    dead = np.asarray(events, dtype=bool)
    ranks = np.zeros(len(durations))
    ranks[dead] = stats.rankdata(np.asarray(durations, dtype=float)[dead], method="ordinal")
    return pd.Series(ranks, index=durations.index)


# --------------------------------------------------------------------------------------------
# landmark analysis
# --------------------------------------------------------------------------------------------


def landmark(
    data: pd.DataFrame,
    landmark_time: float,
    time_col: str,
    event_col: str,
    *,
    known_by_landmark_col: str | None = None,
    group_col: str = "event_by_landmark",
    horizon: float | None = None,
) -> pd.DataFrame:
    """Landmark data set: patients at risk at ``landmark_time``, with time measured from it.

    Why: a group defined by something that happens *during* follow-up (e.g. "acquired
    resistance" needs >= 6 months of benefit, hence >= 6 months alive) carries immortal time,
    so comparing survival from time 0 flatters that group. The landmark method fixes a time L,
    keeps only patients still alive and under follow-up at L, assigns groups only from what is
    known at L, and restarts the clock at L. Anything that happens after L (a later
    progression) must not move a patient between groups.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient.
    landmark_time : float
        The landmark L, in the units of ``time_col`` (>= 0).
    time_col, event_col : str
        Follow-up time from the original origin, and the event indicator (0/1).
    known_by_landmark_col : str, optional
        Time (same origin and units) of an intermediate event that defines the groups, e.g.
        the progression day; NaN means it never happened. If given, ``group_col`` is added:
        1 if that event happened at or before L, else 0 (later events do not count).
    group_col : str, default "event_by_landmark"
        Name of the added group column.
    horizon : float, optional
        If given, administratively censor follow-up at ``horizon`` after L.

    Returns
    -------
    pandas.DataFrame
        The rows with ``time_col > L``, with ``time_col`` replaced by ``time_col - L`` (and
        events after the horizon censored). ``result.attrs["landmark"]`` records L and the
        attrition (input rows, excluded because the event or censoring happened at or before
        L, kept), to be shown beside the analysis.

    Notes
    -----
    A patient whose follow-up ends exactly at L (event or censoring) has no time at risk after
    L and is excluded, as is anyone who died before L.
    """
    where = "landmark"
    checks.require_frame(data, [time_col, event_col] + checks.as_list(known_by_landmark_col), where, "data")
    if not np.isfinite(landmark_time) or landmark_time < 0:
        raise InputError(f"{where}: landmark_time must be a finite number >= 0, got {landmark_time!r}")
    if horizon is not None and (not np.isfinite(horizon) or horizon <= 0):
        raise InputError(f"{where}: horizon must be a finite number > 0, got {horizon!r}")
    if group_col in data.columns:
        raise InputError(f"{where}: group_col {group_col!r} already exists in the table")
    violations: list[Violation] = []
    shown = [time_col, event_col]
    checks.check_time(violations, data, time_col, "data", show=shown)
    checks.check_event(violations, data, event_col, "data", show=shown)
    if known_by_landmark_col is not None and not pd.api.types.is_numeric_dtype(data[known_by_landmark_col]):
        dtype = data[known_by_landmark_col].dtype
        rule = f"must hold numeric times (NaN = never happened) (got dtype {dtype})"
        violations.append(Violation("data", known_by_landmark_col, rule, len(data)))
    raise_violations(violations, where)

    times = data[time_col].astype(float)
    at_risk = (times > landmark_time).to_numpy()
    result = data.loc[at_risk].copy()
    result[time_col] = result[time_col].astype(float) - landmark_time
    result[event_col] = result[event_col].astype(int)
    if known_by_landmark_col is not None:
        happened = result[known_by_landmark_col].astype(float)
        result[group_col] = (happened <= landmark_time).astype(int)  # NaN (never) compares False
    if horizon is not None:
        beyond = result[time_col] > horizon
        result.loc[beyond, time_col] = float(horizon)
        result.loc[beyond, event_col] = 0
    result.attrs["landmark"] = {
        "landmark_time": float(landmark_time),
        "n_input": int(len(data)),
        "n_excluded_ended_by_landmark": int((~at_risk).sum()),
        "n_excluded_events_by_landmark": int(((~at_risk) & (data[event_col].to_numpy() == 1)).sum()),
        "n_kept": int(at_risk.sum()),
        "horizon": None if horizon is None else float(horizon),
    }
    return result


# --------------------------------------------------------------------------------------------
# time-varying exposure
# --------------------------------------------------------------------------------------------


def to_counting_process(
    data: pd.DataFrame,
    id_col: str,
    time_col: str,
    event_col: str,
    exposure_start_col: str,
    *,
    exposure_col: str = "exposed",
    start_col: str = "start",
    stop_col: str = "stop",
) -> pd.DataFrame:
    """Split each patient's follow-up at the exposure start into (start, stop] intervals.

    A patient exposed at day s with follow-up to T (0 < s < T) gets two rows: (0, s] unexposed
    without event and (s, T] exposed carrying the event. A patient never exposed during
    follow-up (s missing, or s >= T: an exposure on the day of death or censoring cannot have
    caused it) keeps one unexposed row (0, T]; a patient exposed at or before the origin
    (s <= 0) keeps one exposed row. Other columns are copied to every row of the patient as
    time-fixed covariates; ``exposure_start_col`` is dropped, since it looks into the future.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient.
    id_col : str
        Patient identifier (unique).
    time_col, event_col : str
        Follow-up time from the origin (> 0) and event indicator (0/1).
    exposure_start_col : str
        Time the exposure (e.g. radiotherapy) started, same origin and units; NaN if never.
    exposure_col, start_col, stop_col : str
        Names of the output columns.

    Returns
    -------
    pandas.DataFrame
        Columns ``id_col, start_col, stop_col, event_col, exposure_col`` then the other input
        columns, sorted by patient and start. Total (stop - start) per patient equals T.
    """
    where = "to_counting_process"
    checks.require_frame(data, [id_col, time_col, event_col, exposure_start_col], where, "data")
    for name in (exposure_col, start_col, stop_col):
        if name in data.columns and name not in (time_col, event_col, exposure_start_col):
            raise InputError(f"{where}: output column {name!r} already exists in the table")
    violations: list[Violation] = []
    shown = [id_col, time_col, event_col, exposure_start_col]
    if checks.check_time(violations, data, time_col, "data", show=shown):
        zero = checks.floats(data[time_col]) == 0
        rule = "must be > 0 (a zero-length follow-up has no interval; exclude it or add an explicit offset)"
        check(violations, data, zero, table="data", column=time_col, rule=rule, show=shown)
    checks.check_event(violations, data, event_col, "data", show=shown)
    checks.check_complete(violations, data, id_col, "data", show=shown)
    duplicated = data[id_col].duplicated(keep=False).to_numpy()
    check(
        violations,
        data,
        duplicated,
        table="data",
        column=id_col,
        rule="must be unique (one row per patient)",
        show=shown,
    )
    exposure = data[exposure_start_col]
    if checks.is_number(exposure):
        check(
            violations,
            data,
            np.isinf(checks.floats(exposure)),
            table="data",
            column=exposure_start_col,
            rule="must be finite (NaN = never exposed)",
            show=shown,
        )
    else:
        rule = f"must be numeric (NaN = never exposed) (got dtype {exposure.dtype})"
        violations.append(Violation("data", exposure_start_col, rule, len(data)))
    raise_violations(violations, where)

    exposure = exposure.astype(float).to_numpy()
    covariates = data.drop(columns=[id_col, time_col, event_col, exposure_start_col])
    stop_all = data[time_col].astype(float).to_numpy()
    event_all = data[event_col].astype(int).to_numpy()
    ids = data[id_col].to_numpy()
    split = (exposure > 0) & (exposure < stop_all)  # NaN compares False
    exposed_from_origin = exposure <= 0

    def block(
        mask: np.ndarray, start: np.ndarray, stop: np.ndarray, event: np.ndarray, exposed: int
    ) -> pd.DataFrame:
        part = pd.DataFrame(
            {
                id_col: ids[mask],
                start_col: start,
                stop_col: stop,
                event_col: event,
                exposure_col: np.full(int(mask.sum()), exposed, dtype=int),
            }
        )
        extra = covariates.loc[mask].reset_index(drop=True)
        return pd.concat([part, extra], axis=1)

    unsplit = ~split
    pieces = [
        block(unsplit, np.zeros(unsplit.sum()), stop_all[unsplit], event_all[unsplit], 0),
        block(split, np.zeros(split.sum()), exposure[split], np.zeros(split.sum(), dtype=int), 0),
        block(split, exposure[split], stop_all[split], event_all[split], 1),
    ]
    pieces[0][exposure_col] = exposed_from_origin[unsplit].astype(int)
    long = pd.concat(pieces, ignore_index=True)
    long = long.sort_values([id_col, start_col], kind="stable").reset_index(drop=True)
    long[event_col] = long[event_col].astype(int)
    return long


def cox_time_varying(
    long_df: pd.DataFrame,
    id_col: str,
    start_col: str,
    stop_col: str,
    event_col: str,
    strata: str | Sequence[str] | None = None,
    *,
    alpha: float = 0.05,
    penalizer: float = 0.0,
    fit_options: Mapping[str, float] | None = None,
) -> CoxCountingFit:
    """Cox model on counting-process data (time-varying covariates), Efron ties.

    The equivalent of R's ``coxph(Surv(start, stop, event) ~ ... + strata(...))``. A patient is in
    the risk set at time t when start < t <= stop. Use :func:`to_counting_process` to build
    ``long_df`` from one row per patient and an exposure start time.

    The fit is :func:`helpers.stats.cox_counting.fit_cox_counting`: O(n log n) per Newton step
    where lifelines' :class:`~lifelines.CoxTimeVaryingFitter` is quadratic in the rows (its
    module docstring says why and how); it maximises the same partial likelihood (agreement
    with lifelines ~1e-12, with R's ``coxph`` 1e-6 in ``tests/test_survival.py``).

    Parameters
    ----------
    long_df : pandas.DataFrame
        One row per patient-interval; every column other than the id, start, stop, event and
        strata columns is a covariate (numeric, complete).
    id_col, start_col, stop_col, event_col : str
        Patient id, interval bounds (0 <= start < stop, non-overlapping within a patient), event
        at ``stop`` (0/1).
    strata : str or list of str, optional
        Columns to stratify on.
    alpha, penalizer, fit_options
        As in :func:`cox` (``fit_options``: ``precision``, ``r_precision``, ``max_steps``;
        ``step_size`` is ignored, steps are full Newton steps halved as in R).

    Returns
    -------
    helpers.stats.cox_counting.CoxCountingFit
        The fitted model with lifelines' attribute names (``params_``, ``standard_errors_``,
        ``variance_matrix_``, ``confidence_intervals_``, ``hazard_ratios_``, ``summary``,
        ``log_likelihood_``, ``log_likelihood_ratio_test()``, ``alpha``; model-based standard
        errors) and R's score test at beta = 0 (``score_test_``); :func:`hazard_ratio_table`
        takes it. No baseline hazard is computed.

    Raises
    ------
    helpers.errors.InputError
        Bad input (every broken rule listed).
    helpers.stats.cox_counting.SingularFitError
        Collinear or constant covariates, or no events (a lifelines ``ConvergenceError`` and a
        ``numpy.linalg.LinAlgError``). A fit that does not converge, or whose coefficient may be
        infinite, warns with lifelines' ``ConvergenceWarning``.
    """
    where = "cox_time_varying"
    strata_cols = checks.as_list(strata)
    special = [id_col, start_col, stop_col, event_col, *strata_cols]
    checks.require_frame(long_df, special, where, "long_df")
    violations: list[Violation] = []
    checks.check_event(
        violations, long_df, event_col, "long_df", show=[id_col, start_col, stop_col, event_col]
    )
    checks.check_intervals(violations, long_df, id_col, start_col, stop_col, "long_df")
    covariates = checks.check_model_columns(violations, long_df, special, strata_cols, "long_df", where)
    raise_violations(violations, where)
    frame = checks.model_frame(long_df, covariates, event_col)
    options = {**R_CONFORMANT_FIT_OPTIONS, **dict(fit_options or {})}
    return fit_cox_counting(
        frame[covariates],
        frame[start_col],
        frame[stop_col],
        frame[event_col],
        frame[strata_cols] if strata_cols else None,
        ids=frame[id_col],
        alpha=alpha,
        penalizer=penalizer,
        columns={
            "id_col": id_col,
            "start_col": start_col,
            "stop_col": stop_col,
            "event_col": event_col,
            "strata": strata_cols or None,
        },
        **options,
    )
