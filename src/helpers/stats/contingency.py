"""Exact tests of 2x2 tables: Fisher's test with the conditional odds ratio, and the exact McNemar test.

Thin wrappers around :mod:`scipy.stats` that fix the conventions the book reports: Fisher's test
as R's ``fisher.test`` (conditional MLE, exact interval), and McNemar's test in its exact form,
the binomial test of the discordant pairs. This module knows nothing of cohorts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from helpers.errors import InputError

__all__ = ["FisherResult", "fisher_or", "mcnemar_exact"]


@dataclass(frozen=True)
class FisherResult:
    """Fisher's exact test of a 2x2 table (group a vs group b, carrier vs not).

    ``odds_ratio`` is the conditional maximum-likelihood estimate (as R's ``fisher.test``), and
    ``ci_lower``/``ci_upper`` the exact conditional confidence interval; ``p_value`` is two-sided
    (tables as or less probable than the observed one).
    """

    odds_ratio: float
    ci_lower: float
    ci_upper: float
    p_value: float


def _count(value: object, name: str, where: str) -> int:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = np.nan
    if isinstance(value, (bool, np.bool_)) or not number.is_integer() or number < 0:
        raise InputError(f"{where}: {name} must be a non-negative integer, got {value!r}")
    return int(number)


def fisher_or(carriers_a: int, n_a: int, carriers_b: int, n_b: int, level: float = 0.95) -> FisherResult:
    """Fisher's exact test and conditional MLE odds ratio of carriers in group a vs group b.

    Parameters
    ----------
    carriers_a, n_a
        Carriers and assayed samples in group a (the numerator of the odds ratio).
    carriers_b, n_b
        The same in group b.
    level
        Confidence level of the exact interval.

    Returns
    -------
    FisherResult
        Conditional MLE odds ratio with its exact conditional CI (what R's ``fisher.test``
        reports; 0 or inf when a cell is empty, never a continuity-corrected value) and the
        two-sided p-value. When nobody (or everybody) is a carrier the odds ratio is NaN and the
        interval [0, inf].

    Raises
    ------
    InputError
        Counts that are not integers, carriers above n, or an empty group.
    """
    a, n1, b, n2 = (
        _count(carriers_a, "carriers_a", "fisher_or"),
        _count(n_a, "n_a", "fisher_or"),
        _count(carriers_b, "carriers_b", "fisher_or"),
        _count(n_b, "n_b", "fisher_or"),
    )
    if a > n1 or b > n2:
        raise InputError(f"fisher_or: carriers exceed n ({a}/{n1}, {b}/{n2})")
    if n1 == 0 or n2 == 0:
        raise InputError(f"fisher_or: a group is empty (n_a={n1}, n_b={n2})")
    table = np.array([[a, n1 - a], [b, n2 - b]])
    p_value = float(stats.fisher_exact(table, alternative="two-sided")[1])
    if table.sum(axis=0).min() == 0:
        # nobody (or everybody) is a carrier: no information on the odds ratio
        return FisherResult(np.nan, 0.0, np.inf, p_value)
    estimate = stats.contingency.odds_ratio(table, kind="conditional")
    interval = estimate.confidence_interval(confidence_level=level)
    return FisherResult(float(estimate.statistic), float(interval.low), float(interval.high), p_value)


def mcnemar_exact(changed_up: np.ndarray, changed_down: np.ndarray) -> np.ndarray:
    """Exact McNemar test of paired binary outcomes, one test per pair of discordant counts.

    Parameters
    ----------
    changed_up, changed_down
        Discordant pairs of each test: 0 -> 1 (e.g. LoF gained) and 1 -> 0 (lost). Equal shapes,
        non-negative integers; concordant pairs carry no information and are not needed.

    Returns
    -------
    numpy.ndarray
        Two-sided p-values: the exact binomial test of ``changed_up`` successes in
        ``changed_up + changed_down`` trials with p = 1/2 (:func:`scipy.stats.binomtest`); NaN
        where there is no discordant pair. Each distinct pair of counts is computed once.

    Raises
    ------
    InputError
        Shapes differ, or a count is negative or not an integer.
    """
    up = np.asarray(changed_up, dtype=float)
    down = np.asarray(changed_down, dtype=float)
    if up.shape != down.shape:
        raise InputError(f"mcnemar_exact: shapes differ ({up.shape} and {down.shape})")
    counts = np.concatenate([up.ravel(), down.ravel()])
    if np.any(~np.isfinite(counts) | (counts < 0) | (counts != np.round(counts))):
        raise InputError("mcnemar_exact: discordant counts must be non-negative integers")
    p_values = np.full(up.shape, np.nan)
    cache: dict[tuple[int, int], float] = {}
    for index in zip(*np.nonzero(up + down > 0), strict=True):
        key = (int(up[index]), int(up[index] + down[index]))
        if key not in cache:
            cache[key] = float(stats.binomtest(key[0], key[1], 0.5).pvalue)
        p_values[index] = cache[key]
    return p_values
