"""Two-group comparisons stratified by a nuisance factor: the van Elteren test with its
Hodges–Lehmann shift, and the Cochran–Mantel–Haenszel test with its common odds ratio.

Why the rank test is written here: neither scipy nor statsmodels has the van Elteren (1960)
stratified Wilcoxon test (Lehmann, *Nonparametrics*, 1975, pp. 132–141; SAS PROC NPAR1WAY's
default stratified Wilcoxon test, R's ``npsm::vanElteren.test``), nor the shift estimate and
interval that come from inverting it (Hodges & Lehmann, Ann Math Stat 1963;34:598–611). The
building blocks are scipy's (``rankdata``, ``tiecorrect``). ``tests/test_tme_stratified.py``
checks: a single stratum against ``scipy.stats.mannwhitneyu`` (asymptotic, no continuity
correction), the median of pairwise differences and the large-sample order-statistic
interval (Hollander & Wolfe, *Nonparametric Statistical Methods*); several strata against a
line-by-line transcription of ``npsm::vanElteren.test`` (which has no tie correction) and
against hand-computed values; the null mean and tie-corrected variance against the exact
permutation moments of small tied strata; and the interval against a brute-force inversion
of the test on shifted data. The Mantel–Haenszel part is a thin wrapper of
``statsmodels.stats.contingency_tables.StratifiedTable``.

The shift and its interval
--------------------------
In stratum ``s`` with ``m_s`` observations of group x and ``n_s`` of group y
(``N_s = m_s + n_s``), the Mann–Whitney count of x shifted by ``d`` is
``U_s(d) = #{(i, j): x_i - d > y_j} + #{x_i - d = y_j} / 2``; van Elteren's statistic is
``T(d) = sum_s U_s(d) / (N_s + 1)`` (the locally most powerful weights when the shift is
common to the strata). ``T(d)`` is a weighted count of the within-stratum pairwise
differences ``x_i - y_j`` above ``d``, each weighted ``1 / (N_s + 1)``, and its null mean is
half the total weight. So the estimate that solves ``T(d) = E[T]`` is the *weighted median
of the within-stratum pairwise differences* (one stratum: the median of all ``x_i - y_j``,
the Hodges–Lehmann estimate), and the interval is the set of shifts the test does not
reject: ``d`` with ``|T(d) - E[T]| <= z * sd(T)``, using the null variance without ties
(scores are continuous). Its limits are order statistics of the pairwise differences; one
stratum gives ``d_(k)`` and ``d_(mn + 1 - k)`` with ``k = ceil(mn / 2 - z * sd)``.

Estimand: under a location-shift model within strata (in each stratum, group x's scores are
group y's moved by the same ``delta``) the estimate is consistent for ``delta``, on the scale
of the data. Without a common shift it estimates a weighted pseudo-median of within-stratum
differences; when group x and y have the same distribution in every stratum, it is 0
whatever the strata's own locations, which a pooled comparison is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm, rankdata, tiecorrect
from statsmodels.stats.contingency_tables import StratifiedTable

from helpers.errors import InputError, ParameterError

__all__ = ["MantelHaenszel", "StratifiedShift", "mantel_haenszel", "stratified_wilcoxon"]


@dataclass(frozen=True)
class StratifiedShift:
    """Result of :func:`stratified_wilcoxon`.

    Attributes
    ----------
    statistic
        ``T = sum_s U_s / (N_s + 1)`` at shift 0.
    expected, variance
        Null mean and tie-corrected null variance of ``T``.
    z, pvalue
        ``(T - expected) / sqrt(variance)`` and its two-sided normal p-value (NaN when the
        variance is 0: every informative stratum holds one value).
    shift, ci_low, ci_high
        The weighted Hodges–Lehmann shift (x minus y) and the interval of shifts the test
        does not reject at the confidence level.
    n_x, n_y
        Observations in the informative strata (those holding both groups).
    n_strata
        Informative strata.
    dropped_x, dropped_y
        Observations in strata holding only one group (they carry no information).
    """

    statistic: float
    expected: float
    variance: float
    z: float
    pvalue: float
    shift: float
    ci_low: float
    ci_high: float
    n_x: int
    n_y: int
    n_strata: int
    dropped_x: int
    dropped_y: int


def _as_float(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise InputError(f"{name} must be one-dimensional, got shape {array.shape}")
    if np.isnan(array).any():
        raise InputError(f"{name} holds {int(np.isnan(array).sum())} missing value(s); drop them first")
    return array


def _strata(labels: Sequence[object] | np.ndarray | None, n: int, name: str) -> np.ndarray:
    if labels is None:
        return np.zeros(n, dtype=object)
    array = np.asarray(labels, dtype=object)
    if array.shape != (n,):
        raise InputError(f"{name} must have one label per observation ({n}), got shape {array.shape}")
    if pd.isna(array).any():
        raise InputError(f"{name} holds missing labels; give them a level of their own first")
    return array


def _weighted_order(diffs: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Unique pairwise differences, the cumulative weight at or below each, and the total."""
    order = np.argsort(diffs, kind="stable")
    values, start = np.unique(diffs[order], return_index=True)
    cumulative = np.cumsum(weights[order])[np.r_[start[1:] - 1, len(order) - 1]]
    return values, cumulative, float(cumulative[-1])


def stratified_wilcoxon(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    x_strata: Sequence[object] | np.ndarray | None = None,
    y_strata: Sequence[object] | np.ndarray | None = None,
    confidence: float = 0.95,
) -> StratifiedShift:
    """Van Elteren's stratified Wilcoxon test of x against y, with the stratified shift.

    Parameters
    ----------
    x, y
        The two groups' values (no missing values).
    x_strata, y_strata
        The stratum of each value (any hashable labels; None: one stratum, which gives the
        Mann–Whitney test and the Hodges–Lehmann shift).
    confidence
        Confidence level of the shift's interval.

    Returns
    -------
    StratifiedShift
        NaN statistics (with the counts) when no stratum holds both groups.

    Raises
    ------
    helpers.errors.InputError
        Values that are missing, or strata whose length differs from their values'.
    helpers.errors.ParameterError
        ``confidence`` outside (0, 1).
    """
    if not 0 < confidence < 1:
        raise ParameterError(f"confidence must be in (0, 1), got {confidence!r}")
    x, y = _as_float(x, "x"), _as_float(y, "y")
    sx, sy = _strata(x_strata, len(x), "x_strata"), _strata(y_strata, len(y), "y_strata")
    statistic = expected = variance = variance_no_ties = 0.0
    diffs, weights = [], []
    n_x = n_y = n_strata = 0
    for level in pd.unique(np.concatenate([sx, sy])):
        xs, ys = x[sx == level], y[sy == level]
        m, n = len(xs), len(ys)
        if m == 0 or n == 0:
            continue
        total = m + n
        weight = 1.0 / (total + 1)
        pooled = np.concatenate([xs, ys])
        ranks = rankdata(pooled)
        u = float(ranks[:m].sum()) - m * (m + 1) / 2
        statistic += weight * u
        expected += weight * m * n / 2
        variance += weight**2 * m * n * (total + 1) / 12 * tiecorrect(ranks)
        variance_no_ties += weight**2 * m * n * (total + 1) / 12
        diffs.append(np.subtract.outer(xs, ys).ravel())
        weights.append(np.full(m * n, weight))
        n_x, n_y, n_strata = n_x + m, n_y + n, n_strata + 1
    counts = {
        "n_x": n_x,
        "n_y": n_y,
        "n_strata": n_strata,
        "dropped_x": len(x) - n_x,
        "dropped_y": len(y) - n_y,
    }
    if n_strata == 0:
        nan = float("nan")
        return StratifiedShift(nan, nan, nan, nan, nan, nan, nan, nan, **counts)
    z = (statistic - expected) / np.sqrt(variance) if variance > 0 else float("nan")
    pvalue = float(2 * norm.sf(abs(z))) if variance > 0 else float("nan")
    values, cumulative, total_weight = _weighted_order(np.concatenate(diffs), np.concatenate(weights))
    # the estimate: where the weight at or below d first reaches half the total (midpoint on a tie)
    half = total_weight / 2
    at = int(np.searchsorted(cumulative, half * (1 - 1e-12)))
    if np.isclose(cumulative[at], half, rtol=1e-10, atol=0) and at + 1 < len(values):
        shift = float((values[at] + values[at + 1]) / 2)
    else:
        shift = float(values[at])
    # the interval: T(d) = total - cumulative(d) (differences above d); lower limit, the first d
    # with T(d) <= E + z sd; upper limit, the last d with T(d-) = total - cumulative(d-) >= E - z sd
    margin = norm.isf((1 - confidence) / 2) * np.sqrt(variance_no_ties)
    tolerance = 1e-10 * total_weight
    above = total_weight - cumulative
    low = int(np.argmax(above <= half + margin + tolerance))
    at_or_above = total_weight - np.r_[0.0, cumulative[:-1]]
    high = int(np.flatnonzero(at_or_above >= half - margin - tolerance)[-1])
    return StratifiedShift(
        statistic=float(statistic),
        expected=float(expected),
        variance=float(variance),
        z=float(z),
        pvalue=pvalue,
        shift=shift,
        ci_low=float(values[low]),
        ci_high=float(values[high]),
        **counts,
    )


@dataclass(frozen=True)
class MantelHaenszel:
    """Result of :func:`mantel_haenszel`.

    Attributes
    ----------
    odds_ratio, ci_low, ci_high
        The Mantel–Haenszel common odds ratio and its Robins–Breslow–Greenland interval.
    pvalue
        Cochran–Mantel–Haenszel test of a common odds ratio of 1 (no continuity correction).
    homogeneity_p
        Breslow–Day test (Tarone-adjusted) that the odds ratio is the same in every stratum.
    n_strata
        Informative strata (both groups and both outcomes present).
    n
        Observations in them.
    """

    odds_ratio: float
    ci_low: float
    ci_high: float
    pvalue: float
    homogeneity_p: float
    n_strata: int
    n: int


def mantel_haenszel(tables: Sequence[np.ndarray] | np.ndarray, confidence: float = 0.95) -> MantelHaenszel:
    """Common odds ratio of a set of 2 x 2 tables, one per stratum.

    Each table is ``[[a, b], [c, d]]`` (rows: group 1, group 2; columns: outcome, no
    outcome). A table with an empty row or column carries no information and is left out
    (statsmodels would divide by zero on it).

    Raises
    ------
    helpers.errors.InputError
        A table that is not 2 x 2 or holds a negative count.
    """
    if not 0 < confidence < 1:
        raise ParameterError(f"confidence must be in (0, 1), got {confidence!r}")
    arrays = [np.asarray(t, dtype=float) for t in tables]
    for t in arrays:
        if t.shape != (2, 2) or (t < 0).any():
            raise InputError(f"each stratum needs a 2 x 2 table of counts, got {t.tolist()}")
    kept = [t for t in arrays if (t.sum(axis=0) > 0).all() and (t.sum(axis=1) > 0).all()]
    if not kept:
        nan = float("nan")
        return MantelHaenszel(nan, nan, nan, nan, nan, 0, 0)
    fit = StratifiedTable([t for t in kept])
    low, high = fit.oddsratio_pooled_confint(alpha=1 - confidence)
    homogeneity = fit.test_equal_odds(adjust=True).pvalue if len(kept) > 1 else float("nan")
    return MantelHaenszel(
        odds_ratio=float(fit.oddsratio_pooled),
        ci_low=float(low),
        ci_high=float(high),
        pvalue=float(fit.test_null_odds(correction=False).pvalue),
        homogeneity_p=float(homogeneity),
        n_strata=len(kept),
        n=int(sum(t.sum() for t in kept)),
    )
