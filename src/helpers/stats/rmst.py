"""Restricted mean survival time (RMST): the area under the Kaplan–Meier curve up to a horizon,
its variance, the difference between two groups, and that difference standardised over strata.

The RMST up to ``tau`` is ``E[min(T, tau)] = ∫_0^tau S(t) dt``, the mean time alive in the first
``tau`` (Irwin 1949; Royston & Parmar, BMC Med Res Methodol 2013;13:152). A difference of RMSTs
is a summary of two survival curves that needs no proportional hazards: it is well defined
whatever the shape of the hazards, and reads in months.

Estimate: :func:`lifelines.utils.restricted_mean_survival_time` on lifelines' Kaplan–Meier
fit (exact for a KM step function).

Variance, hand-written: lifelines' ``return_variance=True`` returns the variance of the
*restricted survival time itself* (``E[min(T, tau)²] − RMST²``, the spread between patients),
not the sampling variance of the estimated RMST, so it cannot give a confidence interval. The
sampling variance here is the Greenwood-type (delta-method) variance of the area under the KM
curve, ``Σ_{t_j ≤ tau} A_j² d_j / (n_j (n_j − d_j))`` with ``A_j = ∫_{t_j}^{tau} S(u) du``
(Klein & Moeschberger, *Survival Analysis*, 2nd ed., 2003, §4.5; the formula of R's
``survRM2::rmst2`` and of ``print(survfit(...), rmean = tau)``); a term whose risk set dies out
entirely (``n_j = d_j``) has ``A_j = 0`` and contributes 0. For data without censoring and
``tau`` beyond the last time it is ``Σ (x_i − x̄)² / n²``, which a test checks.

Stratified difference (:func:`stratified_rmst_difference`): the per-stratum differences
``D_s`` (each from its own KM curves, so strata with different prognoses are never mixed)
averaged with fixed weights ``w_s`` (default: the stratum's number of patients, i.e.
standardised to the pooled stratum mix), ``D = Σ w_s D_s / Σ w_s`` and
``Var(D) = Σ w_s² Var(D_s) / (Σ w_s)²`` (strata are independent). This is direct
standardisation of the within-stratum contrast; it differs from a pooled KM difference, which
mixes the strata in each group's own proportions and so is confounded when the group mix
differs by stratum.

This module knows nothing of cohorts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.utils import restricted_mean_survival_time
from scipy import stats

from helpers.errors import InputError, Violation, positive_number, raise_violations
from helpers.stats import survival_checks as checks

__all__ = ["RMST", "rmst", "rmst_difference", "stratified_rmst_difference", "STRATIFIED_COLUMNS"]

#: Columns of the per-stratum table of :func:`stratified_rmst_difference`.
STRATIFIED_COLUMNS: tuple[str, ...] = (
    "stratum",
    "n_1",
    "n_0",
    "events_1",
    "events_0",
    "rmst_1",
    "rmst_0",
    "difference",
    "se",
    "ci_low",
    "ci_high",
    "weight",
    "status",
)


@dataclass(frozen=True)
class RMST:
    """The RMST of one Kaplan–Meier curve up to ``horizon``.

    Attributes
    ----------
    estimate, variance, se : float
        RMST, its Greenwood-type sampling variance and standard error.
    horizon : float
        The upper limit of the integral.
    n, events : int
        Observations and events (all times, not only those before the horizon).
    """

    estimate: float
    variance: float
    se: float
    horizon: float
    n: int
    events: int


def _defined_at(time: np.ndarray, event: np.ndarray, tau: float) -> bool:
    """Whether the KM curve is known on all of [0, tau]: follow-up reaches tau, or the curve hit 0."""
    if time.max() >= tau:
        return True
    last = time == time.max()
    at_risk = int((time >= time.max()).sum())
    return int(event[last].sum()) == at_risk  # everybody still at risk died at the last time


def _rmst(time: np.ndarray, event: np.ndarray, tau: float, where: str) -> RMST:
    if not _defined_at(time, event, tau):
        raise InputError(
            f"{where}: follow-up ends at {time.max():g} with the curve above 0, before the horizon "
            f"{tau:g}; the Kaplan-Meier curve is not known up to the horizon"
        )
    fitter = KaplanMeierFitter().fit(time, event)
    estimate = float(restricted_mean_survival_time(fitter, t=tau))
    # Greenwood-type variance of the area: event times up to tau, their risk sets and deaths
    times = np.unique(time[(event == 1) & (time <= tau)])
    if len(times) == 0:
        variance = 0.0
    else:
        d = np.array([((time == t) & (event == 1)).sum() for t in times], dtype=float)
        n = np.array([(time >= t).sum() for t in times], dtype=float)
        survival = np.cumprod(1.0 - d / n)  # S just after each event time
        widths = np.diff(np.append(times, tau))
        area_after = np.cumsum((survival * widths)[::-1])[::-1]  # A_j = ∫_{t_j}^tau S
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(n > d, area_after**2 * d / (n * (n - d)), 0.0)
        variance = float(terms.sum())
    return RMST(
        estimate=estimate,
        variance=variance,
        se=float(np.sqrt(variance)),
        horizon=tau,
        n=int(len(time)),
        events=int(event.sum()),
    )


def rmst(time: Any, event: Any, horizon: float) -> RMST:
    """RMST of the Kaplan–Meier curve of ``(time, event)`` up to ``horizon``, with its variance.

    Parameters
    ----------
    time, event : array-like
        Follow-up times (≥ 0) and events (0/1), as in :func:`helpers.stats.survival.kaplan_meier`.
    horizon : float
        Upper limit ``tau`` (> 0), in the units of ``time``.

    Returns
    -------
    RMST

    Raises
    ------
    helpers.errors.InputError
        Bad times or events, a bad horizon, or a curve that is not known up to the horizon
        (the last follow-up ends before it with patients still alive).
    """
    where = "rmst"
    tau = positive_number(horizon, "horizon", where)
    args = checks.arguments(where, time=time, event=event)
    violations: list[Violation] = []
    shown = ["time", "event"]
    checks.check_time(violations, args, "time", checks.ARGUMENTS, show=shown)
    checks.check_event(violations, args, "event", checks.ARGUMENTS, show=shown)
    raise_violations(violations, where)
    return _rmst(checks.floats(args["time"]), checks.floats(args["event"]).astype(int), tau, where)


def _checked(where: str, **named: Any) -> pd.DataFrame:
    args = checks.arguments(where, **named)
    violations: list[Violation] = []
    shown = list(named)
    checks.check_time(violations, args, "time", checks.ARGUMENTS, show=shown)
    checks.check_event(violations, args, "event", checks.ARGUMENTS, show=shown)
    for name in named:
        if name not in ("time", "event"):
            checks.check_complete(violations, args, name, checks.ARGUMENTS, show=shown)
    raise_violations(violations, where)
    return args


def _as_binary(group: pd.Series, where: str) -> np.ndarray:
    values = pd.to_numeric(group, errors="coerce")
    if values.isna().any() or not values.isin([0, 1]).all():
        raise InputError(
            f"{where}: 'group' must be 0/1 (1 = the group whose RMST comes first in the difference)"
        )
    return values.to_numpy(dtype=int)


def rmst_difference(
    time: Any, event: Any, group: Any, horizon: float, alpha: float = 0.05
) -> dict[str, float]:
    """RMST of group 1 minus RMST of group 0 up to ``horizon``, with a Wald interval.

    Returns
    -------
    dict
        ``rmst_1, rmst_0, difference, se, ci_low, ci_high, p`` (two-sided Wald test of 0).
    """
    where = "rmst_difference"
    tau = positive_number(horizon, "horizon", where)
    args = _checked(where, time=time, event=event, group=group)
    g = _as_binary(args["group"], where)
    t, e = checks.floats(args["time"]), checks.floats(args["event"]).astype(int)
    if len(set(g)) < 2:
        raise InputError(f"{where}: both groups (0 and 1) need observations")
    one, zero = _rmst(t[g == 1], e[g == 1], tau, where), _rmst(t[g == 0], e[g == 0], tau, where)
    return _difference(one, zero, alpha)


def _difference(one: RMST, zero: RMST, alpha: float) -> dict[str, float]:
    difference = one.estimate - zero.estimate
    se = float(np.sqrt(one.variance + zero.variance))
    z = float(stats.norm.isf(alpha / 2))
    p = float(2 * stats.norm.sf(abs(difference) / se)) if se > 0 else np.nan
    return {
        "rmst_1": one.estimate,
        "rmst_0": zero.estimate,
        "difference": difference,
        "se": se,
        "ci_low": difference - z * se,
        "ci_high": difference + z * se,
        "p": p,
    }


def stratified_rmst_difference(
    time: Any,
    event: Any,
    group: Any,
    strata: Any,
    horizon: float,
    weights: dict[str, float] | None = None,
    alpha: float = 0.05,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """RMST difference (group 1 − group 0) per stratum and standardised over the strata.

    A stratum enters the standardised difference only when both groups have patients and both
    KM curves are known up to the horizon; the others are listed with a ``status`` saying why,
    and the weights of the rest are renormalised.

    Parameters
    ----------
    time, event : array-like
        Follow-up times and events (0/1).
    group : array-like
        1 for the group whose RMST comes first in the difference, 0 for the other.
    strata : array-like
        Stratum label of each row (no missing values).
    horizon : float
        Upper limit of the RMST (> 0).
    weights : dict of str to float, optional
        Weight of each stratum (default: its number of rows, both groups together).
    alpha : float, default 0.05
        1 − confidence level.

    Returns
    -------
    per_stratum : pandas.DataFrame
        :data:`STRATIFIED_COLUMNS`, one row per stratum (sorted by label); ``weight`` is the
        normalised weight used (NaN where the stratum is left out).
    pooled : dict
        ``difference, se, ci_low, ci_high, p, strata, n`` (``strata``: strata used; ``n``:
        their rows).
    """
    where = "stratified_rmst_difference"
    tau = positive_number(horizon, "horizon", where)
    args = _checked(where, time=time, event=event, group=group, strata=strata)
    g = _as_binary(args["group"], where)
    t, e = checks.floats(args["time"]), checks.floats(args["event"]).astype(int)
    labels = args["strata"].astype(str).to_numpy()
    rows = []
    for label in sorted(set(labels)):
        mask = labels == label
        one, zero = mask & (g == 1), mask & (g == 0)
        row: dict[str, Any] = {
            "stratum": label,
            "n_1": int(one.sum()),
            "n_0": int(zero.sum()),
            "events_1": int(e[one].sum()),
            "events_0": int(e[zero].sum()),
            **dict.fromkeys(("rmst_1", "rmst_0", "difference", "se", "ci_low", "ci_high", "weight"), np.nan),
            "status": "estimated",
        }
        raw = float(mask.sum()) if weights is None else float(weights.get(label, np.nan))
        if row["n_1"] == 0 or row["n_0"] == 0:
            row["status"] = "not estimated: a group has no patients"
        elif not (_defined_at(t[one], e[one], tau) and _defined_at(t[zero], e[zero], tau)):
            row["status"] = "not estimated: follow-up ends before the horizon"
        elif not (np.isfinite(raw) and raw > 0):
            row["status"] = "not estimated: no positive weight given"
        else:
            diff = _difference(_rmst(t[one], e[one], tau, where), _rmst(t[zero], e[zero], tau, where), alpha)
            row.update({k: diff[k] for k in ("rmst_1", "rmst_0", "difference", "se", "ci_low", "ci_high")})
            row["weight"] = raw
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(STRATIFIED_COLUMNS))
    used = table["status"] == "estimated"
    if not used.any():
        raise InputError(f"{where}: no stratum has both groups followed up to the horizon {tau:g}")
    w = table.loc[used, "weight"] / table.loc[used, "weight"].sum()
    table.loc[used, "weight"] = w
    difference = float((w * table.loc[used, "difference"]).sum())
    se = float(np.sqrt((w**2 * table.loc[used, "se"] ** 2).sum()))
    z = float(stats.norm.isf(alpha / 2))
    pooled = {
        "difference": difference,
        "se": se,
        "ci_low": difference - z * se,
        "ci_high": difference + z * se,
        "p": float(2 * stats.norm.sf(abs(difference) / se)) if se > 0 else np.nan,
        "strata": int(used.sum()),
        "n": int(table.loc[used, ["n_1", "n_0"]].to_numpy().sum()),
    }
    return table, pooled
