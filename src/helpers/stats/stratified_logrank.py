"""The log-rank test stratified by a nuisance factor (R's ``survdiff(Surv(t, d) ~ g + strata(s))``).

Why hand-written: lifelines (0.30) has the log-rank test for two or more groups
(:func:`lifelines.statistics.logrank_test`, ``multivariate_logrank_test``) but no stratified
version, and ``survival_difference_at_fixed_point_in_time_test`` compares survival at one time
point, which is another test. The stratified test compares the groups *within* each stratum and
adds up the evidence: in stratum ``s``, at each distinct event time, with ``n_g`` at risk and
``d_g`` deaths in group ``g`` (``n``, ``d`` in all groups),

- expected deaths ``E_g = d n_g / n``;
- hypergeometric covariance ``V_gh = d (n − d)/(n − 1) · (n_g/n)(δ_gh − n_h/n)`` (0 when n = 1);

then ``U = Σ_s Σ_t (O − E)`` and ``V = Σ_s Σ_t V`` over all strata, and the statistic is
``U' V⁻ U`` on the first (groups − 1) components, chi-square with (groups − 1) degrees of
freedom (Mantel, Cancer Chemother Rep 1966;50:163–170; Peto & Peto, J R Stat Soc A
1972;135:185–207; Klein & Moeschberger, *Survival Analysis*, 2nd ed., 2003, §7.5). With one
stratum it is the ordinary log-rank test, which ``tests/test_pps_heterogeneity.py`` checks
against lifelines (itself checked against R's ``survdiff``); several strata are checked against
a hand-computed example and against the sum of per-stratum (O − E) and variances.

Stratifying keeps strata with different prognoses from being compared with each other: a
pooled, unstratified log-rank test mixes them in each group's own proportions and so is
confounded when the group mix differs by stratum.

This module knows nothing of cohorts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from helpers.errors import InputError, Violation, raise_violations
from helpers.stats import survival_checks as checks

__all__ = ["StratifiedLogrank", "stratified_logrank"]


@dataclass(frozen=True)
class StratifiedLogrank:
    """Result of :func:`stratified_logrank`.

    Attributes
    ----------
    statistic, df, p : float, int, float
        Chi-square, degrees of freedom (groups − 1) and upper-tail p-value.
    groups : tuple of str
        Group labels (sorted), the order of ``observed``, ``expected`` and ``variance``.
    observed, expected : numpy.ndarray
        Deaths observed and expected under the null in each group, summed over strata.
    variance : numpy.ndarray
        The (groups × groups) covariance of observed − expected.
    per_stratum : pandas.DataFrame
        ``stratum, n, events`` and, per group ``g``, ``observed_<g>`` and ``expected_<g>``.
    """

    statistic: float
    df: int
    p: float
    groups: tuple[str, ...]
    observed: np.ndarray
    expected: np.ndarray
    variance: np.ndarray
    per_stratum: pd.DataFrame


def _stratum_sums(
    time: np.ndarray, event: np.ndarray, codes: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed, expected and covariance of one stratum (groups coded 0..k-1)."""
    event_times = np.unique(time[event == 1])
    observed = np.zeros(k)
    expected = np.zeros(k)
    variance = np.zeros((k, k))
    if len(event_times) == 0:
        return observed, expected, variance
    at_risk = np.empty((len(event_times), k))
    deaths = np.empty((len(event_times), k))
    for g in range(k):
        t_g = np.sort(time[codes == g])
        # at risk at t: follow-up time >= t (a patient censored at t is still at risk then)
        at_risk[:, g] = len(t_g) - np.searchsorted(t_g, event_times, side="left")
        dead_g = np.sort(time[(codes == g) & (event == 1)])
        deaths[:, g] = np.searchsorted(dead_g, event_times, side="right") - np.searchsorted(
            dead_g, event_times, side="left"
        )
    n = at_risk.sum(axis=1)
    d = deaths.sum(axis=1)
    share = at_risk / n[:, None]
    observed = deaths.sum(axis=0)
    expected = (d[:, None] * share).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n > 1, d * (n - d) / (n - 1), 0.0)
    # V_gh = Σ_t factor · share_g (δ_gh − share_h)
    variance = np.einsum("t,tg,gh->gh", factor, share, np.eye(k)) - np.einsum(
        "t,tg,th->gh", factor, share, share
    )
    return observed, expected, variance


def stratified_logrank(time: Any, event: Any, group: Any, strata: Any) -> StratifiedLogrank:
    """Log-rank test of equal survival across groups, stratified (R ``survdiff`` with ``strata()``).

    Parameters
    ----------
    time, event : array-like
        Follow-up times (≥ 0) and events (0/1).
    group : array-like
        Group label of each row (two or more labels; compared as text).
    strata : array-like
        Stratum label of each row.

    Returns
    -------
    StratifiedLogrank

    Raises
    ------
    helpers.errors.InputError
        Bad times or events, missing labels, fewer than two groups, or no events.
    """
    where = "stratified_logrank"
    args = checks.arguments(where, time=time, event=event, group=group, strata=strata)
    violations: list[Violation] = []
    shown = ["time", "event", "group", "strata"]
    checks.check_time(violations, args, "time", checks.ARGUMENTS, show=shown)
    checks.check_event(violations, args, "event", checks.ARGUMENTS, show=shown)
    checks.check_complete(violations, args, "group", checks.ARGUMENTS, show=shown)
    checks.check_complete(violations, args, "strata", checks.ARGUMENTS, show=shown)
    raise_violations(violations, where)
    t = checks.floats(args["time"])
    e = checks.floats(args["event"]).astype(int)
    labels = args["group"].astype(str).to_numpy()
    groups = tuple(sorted(set(labels)))
    if len(groups) < 2:
        raise InputError(f"{where}: 'group' needs at least two distinct labels, got {list(groups)}")
    if e.sum() == 0:
        raise InputError(f"{where}: no events; there is nothing to compare")
    codes = np.searchsorted(np.array(groups), labels)
    k = len(groups)
    strata_labels = args["strata"].astype(str).to_numpy()
    observed, expected, variance = np.zeros(k), np.zeros(k), np.zeros((k, k))
    rows = []
    for label in sorted(set(strata_labels)):
        mask = strata_labels == label
        o, ex, v = _stratum_sums(t[mask], e[mask], codes[mask], k)
        observed, expected, variance = observed + o, expected + ex, variance + v
        row: dict[str, Any] = {"stratum": label, "n": int(mask.sum()), "events": int(e[mask].sum())}
        for g, name in enumerate(groups):
            row[f"observed_{name}"] = float(o[g])
            row[f"expected_{name}"] = float(ex[g])
        rows.append(row)
    u = (observed - expected)[: k - 1]
    v = variance[: k - 1, : k - 1]
    # pinv: a group with nobody at risk at any event time leaves V singular (the test drops it)
    statistic = float(u @ np.linalg.pinv(v) @ u)
    df = int(np.linalg.matrix_rank(v)) if k > 2 else 1
    return StratifiedLogrank(
        statistic=statistic,
        df=df,
        p=float(stats.chi2.sf(statistic, df)) if df > 0 else np.nan,
        groups=groups,
        observed=observed,
        expected=expected,
        variance=variance,
        per_stratum=pd.DataFrame(rows),
    )
