"""Trend tests across ordered groups: the Jonckheere–Terpstra test.

Why it is written here: neither scipy nor statsmodels has the Jonckheere–Terpstra test (in R
it is ``clinfun::jonckheere.test``). The statistic is a sum over pairs of groups; its null
variance needs the tie correction of Hollander & Wolfe, the part that is easy to get wrong, so
``tests/test_tme_validation.py`` checks the statistic by hand and the variance against the
exact permutation variance of small samples.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.stats import norm

from helpers.errors import InputError, ParameterError

__all__ = ["TrendTest", "jonckheere_terpstra"]


@dataclass(frozen=True)
class TrendTest:
    """Result of :func:`jonckheere_terpstra`.

    Attributes
    ----------
    statistic
        ``J``, the number of ordered pairs in the expected direction (ties count 1/2).
    expected, variance
        Null mean and tie-corrected null variance of ``J``.
    z
        ``(J - expected) / sqrt(variance)``.
    pvalue
        From the normal approximation, for the alternative asked for.
    group_sizes
        Observations per group, in the order given.
    """

    statistic: float
    expected: float
    variance: float
    z: float
    pvalue: float
    group_sizes: tuple[int, ...]


def jonckheere_terpstra(
    values: Iterable[float],
    groups: Iterable[object],
    order: Iterable[object],
    alternative: Literal["increasing", "decreasing", "two-sided"] = "increasing",
) -> TrendTest:
    """Jonckheere–Terpstra test for an ordered trend across groups.

    ``J`` counts, over every pair of groups ``i < j`` in ``order`` and every pair of
    observations, how often the one from the later group is larger (ties count 1/2). Its
    null mean is ``(N² - Σ n_i²) / 4`` and its variance is the tie-corrected formula of
    Hollander & Wolfe (*Nonparametric Statistical Methods*, 2nd ed., 1999, §6.2); the
    p-value is from the normal approximation, without continuity correction.

    Parameters
    ----------
    values
        Observations (no NaN).
    groups
        Group label of each observation.
    order
        Group labels from lowest to highest expected values; observations in other
        groups are ignored.
    alternative
        ``"increasing"`` (values rise along ``order``), ``"decreasing"`` or ``"two-sided"``.

    Returns
    -------
    TrendTest

    Raises
    ------
    helpers.errors.ParameterError
        An unknown ``alternative`` or an ``order`` without two distinct groups.
    helpers.errors.InputError
        NaN values, values and groups of different lengths, fewer than two groups with
        observations, or no variance (every value tied).
    """
    if alternative not in ("increasing", "decreasing", "two-sided"):
        raise ParameterError(
            f"alternative must be 'increasing', 'decreasing' or 'two-sided', got {alternative!r}"
        )
    x = np.asarray(list(values), dtype=float)
    g = np.asarray(list(groups), dtype=object)
    order = list(order)
    if len(x) != len(g):
        raise InputError(f"values ({len(x)}) and groups ({len(g)}) differ in length")
    if len(order) < 2 or len(set(order)) != len(order):
        raise ParameterError(f"order must list at least two distinct groups, got {order}")
    if np.isnan(x).any():
        raise InputError("values contain NaN")
    samples = [x[g == label] for label in order]
    sizes = tuple(len(s) for s in samples)
    if sum(n > 0 for n in sizes) < 2:
        raise InputError(
            f"at least two groups need observations; sizes {dict(zip(order, sizes, strict=True))}"
        )
    statistic = 0.0
    for i in range(len(samples)):
        for j in range(i + 1, len(samples)):
            lower, upper = samples[i][:, None], samples[j][None, :]
            statistic += float((upper > lower).sum() + 0.5 * (upper == lower).sum())
    pooled = np.concatenate(samples)
    n_total = float(len(pooled))
    n = np.asarray(sizes, dtype=float)
    _, tie_counts = np.unique(pooled, return_counts=True)
    t = tie_counts.astype(float)
    expected = (n_total**2 - (n**2).sum()) / 4.0
    variance = (
        n_total * (n_total - 1) * (2 * n_total + 5)
        - (n * (n - 1) * (2 * n + 5)).sum()
        - (t * (t - 1) * (2 * t + 5)).sum()
    ) / 72.0
    if n_total > 2:
        variance += (
            (n * (n - 1) * (n - 2)).sum()
            * (t * (t - 1) * (t - 2)).sum()
            / (36.0 * n_total * (n_total - 1) * (n_total - 2))
        )
    variance += (n * (n - 1)).sum() * (t * (t - 1)).sum() / (8.0 * n_total * (n_total - 1))
    if not variance > 0:
        raise InputError("the Jonckheere-Terpstra statistic has no variance (all values tied?)")
    z = (statistic - expected) / np.sqrt(variance)
    if alternative == "increasing":
        p = float(norm.sf(z))
    elif alternative == "decreasing":
        p = float(norm.cdf(z))
    else:
        p = float(min(1.0, 2 * norm.sf(abs(z))))
    return TrendTest(
        statistic=statistic,
        expected=expected,
        variance=float(variance),
        z=float(z),
        pvalue=p,
        group_sizes=sizes,
    )
