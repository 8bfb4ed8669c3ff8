"""Is an effect the same in every subgroup? Cochran's Q, I², DerSimonian–Laird τ², empirical-Bayes
shrinkage of subgroup estimates, and the likelihood-ratio test of an exposure × subgroup
interaction in a (stratified) Cox model.

- :func:`heterogeneity`: Cochran's Q (Cochran, Biometrics 1954;10:101–129) with its chi-square
  p-value, I² = max(0, (Q − df)/Q) (Higgins & Thompson, Stat Med 2002;21:1539–1558), the
  DerSimonian–Laird moment estimate of the between-subgroup variance τ² (DerSimonian & Laird,
  Control Clin Trials 1986;7:177–188) and the fixed- and random-effects means. Q, I² and the
  fixed-effect mean come from :func:`statsmodels.stats.meta_analysis.combine_effects`
  (``method_re="dl"``). Its τ² is *not* truncated at 0 (statsmodels 0.15 returns
  (Q − df)/c < 0 when Q < df, and then weights the random-effects mean by 1/(v + τ²) with that
  negative τ²), whereas DerSimonian & Laird, and metafor, set it to 0; so τ² is truncated here
  and the random-effects mean and its standard error are recomputed from the truncated value
  (two lines). ``tests/test_pps_heterogeneity.py`` checks the result against R metafor 3.8-1
  (``rma(yi, vi, method="DL")`` on ``dat.bcg``, ``../shared/reference/meta_knha_reference.json``)
  and against values worked out by hand, including a Q below its df. For the DL estimator,
  metafor's I² (from the "typical" within-study variance) equals (Q − df)/Q, so the two agree.
- :func:`shrink`: the empirical-Bayes (best linear unbiased) prediction of each subgroup's own
  effect under the random-effects model, ``mu + B_i (y_i − mu)`` with ``B_i = τ²/(τ² + se_i²)``,
  and its standard error ``sqrt(B_i se_i² + (1 − B_i)² Var(mu))`` (Raudenbush & Bryk, J Educ Stat
  1985;10:75–98; the formula of metafor's ``blup.rma.uni``). Hand-written because statsmodels has
  no such prediction; it is three lines. A subgroup with few events has a large ``se_i`` and is
  pulled most of the way to the pooled mean; when τ² is estimated as 0 every shrunken estimate
  *is* the random-effects (= fixed-effect) mean and its standard error is that of the mean.
- :func:`cox_interaction_test`: fits the Cox model with and without the exposure × subgroup
  product terms (one per subgroup but the reference) on the same rows, with lifelines'
  :class:`~lifelines.CoxPHFitter` (through :func:`helpers.stats.survival.cox`), and compares
  their partial log-likelihoods: LR = 2 (ℓ₁ − ℓ₀), chi-square with (subgroups − 1) degrees of
  freedom. The subgroup's main effect is absorbed by stratifying on it, as in R
  ``coxph(Surv(t, d) ~ x * strata(g))`` vs ``coxph(Surv(t, d) ~ x + strata(g))``.

This module knows nothing of cohorts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

from helpers.errors import InputError, Violation, check, raise_violations, require_columns
from helpers.stats import survival as sv

__all__ = [
    "Heterogeneity",
    "InteractionTest",
    "heterogeneity",
    "shrink",
    "cox_interaction_test",
    "likelihood_ratio_test",
]


@dataclass(frozen=True)
class Heterogeneity:
    """Cochran's Q, I² and the DerSimonian–Laird random-effects summary of ``k`` estimates.

    Attributes
    ----------
    k : int
        Number of estimates.
    q, df, p : float, int, float
        Cochran's Q, its degrees of freedom (k − 1) and its chi-square upper tail.
    i2 : float
        I² as a fraction in [0, 1] (max(0, (Q − df)/Q); 0 when Q = 0).
    tau2 : float
        DerSimonian–Laird between-estimate variance (truncated at 0).
    fixed, fixed_se : float
        Inverse-variance (fixed-effect) mean and its standard error.
    random, random_se, ci_low, ci_high : float
        Random-effects mean, its standard error and its Wald interval (normal quantile).
    """

    k: int
    q: float
    df: int
    p: float
    i2: float
    tau2: float
    fixed: float
    fixed_se: float
    random: float
    random_se: float
    ci_low: float
    ci_high: float


def _estimates(estimates: Any, standard_errors: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Two float arrays of the same length: finite estimates and positive, finite standard errors."""
    try:
        y = np.asarray(estimates, dtype=float).ravel()
        se = np.asarray(standard_errors, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: estimates and standard errors must be numbers") from exc
    if y.shape != se.shape:
        raise InputError(f"{where}: {len(y)} estimates but {len(se)} standard errors")
    frame = pd.DataFrame({"estimate": y, "se": se})
    violations: list[Violation] = []
    check(violations, frame, ~np.isfinite(y), table="estimates", column="estimate", rule="must be finite")
    check(
        violations,
        frame,
        ~(np.isfinite(se) & (se > 0)),
        table="estimates",
        column="se",
        rule="must be positive and finite",
    )
    raise_violations(violations, where)
    return y, se


def heterogeneity(estimates: Any, standard_errors: Any, alpha: float = 0.05) -> Heterogeneity:
    """Cochran's Q, I², τ² (DerSimonian–Laird) and the random-effects mean of ``k ≥ 2`` estimates.

    Parameters
    ----------
    estimates : array-like
        Estimates on a scale where they are roughly normal (e.g. log hazard ratios).
    standard_errors : array-like
        Their standard errors (positive).
    alpha : float, default 0.05
        1 − confidence level of the random-effects interval.

    Returns
    -------
    Heterogeneity

    Raises
    ------
    helpers.errors.InputError
        Fewer than two estimates, or a non-finite estimate or non-positive standard error.
    """
    where = "heterogeneity"
    y, se = _estimates(estimates, standard_errors, where)
    if len(y) < 2:
        raise InputError(f"{where}: needs at least two estimates, got {len(y)}")
    with np.errstate(divide="ignore", invalid="ignore"):  # its untruncated τ² can give sqrt(< 0)
        res = combine_effects(y, se**2, method_re="dl", alpha=alpha)
    q, df = float(res.q), int(len(y) - 1)
    z = float(stats.norm.isf(alpha / 2))
    # DerSimonian-Laird truncate the moment estimate at 0; statsmodels does not (see above)
    tau2 = max(0.0, float(res.tau2))
    weights = 1.0 / (se**2 + tau2)
    random = float((weights * y).sum() / weights.sum())
    random_se = float(np.sqrt(1.0 / weights.sum()))
    # statsmodels gives NaN for I² when Q = 0 (identical estimates): no heterogeneity at all
    i2 = float(res.i2) if q > 0 else 0.0
    return Heterogeneity(
        k=int(len(y)),
        q=q,
        df=df,
        p=float(stats.chi2.sf(q, df)),
        i2=max(0.0, i2),
        tau2=tau2,
        fixed=float(res.mean_effect_fe),
        fixed_se=float(res.sd_eff_w_fe),
        random=random,
        random_se=random_se,
        ci_low=random - z * random_se,
        ci_high=random + z * random_se,
    )


def shrink(
    estimates: Any,
    standard_errors: Any,
    tau2: float,
    mean: float,
    mean_se: float,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Empirical-Bayes (BLUP) estimates of each subgroup's own effect under a random-effects model.

    Each estimate is pulled towards ``mean`` with the weight ``B = tau2 / (tau2 + se²)`` it keeps
    on its own value: ``shrunken = mean + B (estimate − mean)``, standard error
    ``sqrt(B se² + (1 − B)² mean_se²)`` (metafor's ``blup.rma.uni``; Raudenbush & Bryk 1985).
    With ``tau2 = 0`` every shrunken estimate equals ``mean`` and its standard error ``mean_se``.
    The estimates need not be those that gave ``tau2`` and ``mean``: a subgroup too small to
    enter the heterogeneity analysis can still be shrunk towards the mean of the others.

    Parameters
    ----------
    estimates, standard_errors : array-like
        Subgroup estimates and their standard errors.
    tau2 : float
        Between-subgroup variance (e.g. :attr:`Heterogeneity.tau2`), ≥ 0.
    mean, mean_se : float
        Random-effects mean and its standard error (:attr:`Heterogeneity.random`, ``random_se``).
    alpha : float, default 0.05
        1 − confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per estimate: ``estimate, se, weight`` (B), ``shrunken, shrunken_se,
        shrunken_ci_low, shrunken_ci_high``.
    """
    where = "shrink"
    y, se = _estimates(estimates, standard_errors, where)
    if not (np.isfinite(tau2) and tau2 >= 0):
        raise InputError(f"{where}: tau2 must be a finite number >= 0, got {tau2!r}")
    if not (np.isfinite(mean) and np.isfinite(mean_se) and mean_se >= 0):
        raise InputError(
            f"{where}: mean and mean_se must be finite (mean_se >= 0), got {mean!r}, {mean_se!r}"
        )
    weight = tau2 / (tau2 + se**2)
    shrunken = mean + weight * (y - mean)
    shrunken_se = np.sqrt(weight * se**2 + (1 - weight) ** 2 * mean_se**2)
    z = float(stats.norm.isf(alpha / 2))
    return pd.DataFrame(
        {
            "estimate": y,
            "se": se,
            "weight": weight,
            "shrunken": shrunken,
            "shrunken_se": shrunken_se,
            "shrunken_ci_low": shrunken - z * shrunken_se,
            "shrunken_ci_high": shrunken + z * shrunken_se,
        }
    )


# --------------------------------------------------------------------------------------------
# interaction in a Cox model
# --------------------------------------------------------------------------------------------


def likelihood_ratio_test(loglik_full: float, loglik_reduced: float, df: int) -> tuple[float, float]:
    """LR = 2 (ℓ_full − ℓ_reduced) and its chi-square p-value on ``df`` degrees of freedom."""
    if int(df) < 1:
        raise InputError(f"likelihood_ratio_test: df must be >= 1, got {df!r}")
    statistic = max(0.0, 2.0 * (float(loglik_full) - float(loglik_reduced)))  # nested: ≥ 0 up to rounding
    return statistic, float(stats.chi2.sf(statistic, int(df)))


@dataclass(frozen=True)
class InteractionTest:
    """Likelihood-ratio test of an exposure × subgroup interaction (:func:`cox_interaction_test`).

    Attributes
    ----------
    statistic, df, p : float, int, float
        LR chi-square, its degrees of freedom (subgroups − 1) and p-value.
    loglik_full, loglik_reduced : float
        Partial log-likelihoods with and without the product terms.
    groups : tuple of str
        The subgroups, the reference first.
    n, events : int
        Rows and events of both fits.
    hazard_ratios : pandas.DataFrame
        The exposure's hazard ratio within each subgroup from the full model (``group, hr,
        log_hr, se``), the reference first.
    """

    statistic: float
    df: int
    p: float
    loglik_full: float
    loglik_reduced: float
    groups: tuple[str, ...]
    n: int
    events: int
    hazard_ratios: pd.DataFrame


def cox_interaction_test(
    data: pd.DataFrame,
    duration_col: str,
    event_col: str,
    exposure: str,
    by: str,
    covariates: Sequence[str] = (),
    *,
    stratify: bool = True,
    reference: str | None = None,
) -> InteractionTest:
    """Does the hazard ratio of ``exposure`` differ between the levels of ``by``? (LR test.)

    Reduced model: ``exposure + covariates`` (stratified by ``by`` if ``stratify``, else with
    ``by`` as main-effect dummies); full model: the same plus ``exposure × [by == level]`` for
    every level but ``reference``. Both are fitted on the same rows with Efron ties.

    Parameters
    ----------
    data : pandas.DataFrame
        Complete rows with the time, event, 0/1 exposure, ``by`` and numeric covariates.
    duration_col, event_col, exposure, by : str
        Column names.
    covariates : sequence of str
        Adjustment covariates (main effects only, common to all levels).
    stratify : bool, default True
        Stratify on ``by`` (each level its own baseline hazard), as the chapter's model does.
    reference : str, optional
        Reference level (default: the level with the most events).

    Returns
    -------
    InteractionTest

    Raises
    ------
    helpers.errors.InputError
        Missing columns, fewer than two levels, or an exposure that does not vary in a level.
    """
    where = "cox_interaction_test"
    covariates = list(covariates)
    require_columns(data, [duration_col, event_col, exposure, by, *covariates], "data")
    frame = data[[duration_col, event_col, exposure, by, *covariates]].copy()
    frame[by] = frame[by].astype(str)
    levels = sorted(frame[by].unique())
    if len(levels) < 2:
        raise InputError(f"{where}: {by!r} has {len(levels)} level(s); an interaction needs at least two")
    varies = frame.groupby(by)[exposure].nunique()
    constant = [str(level) for level, n in varies.items() if n < 2]
    if constant:
        raise InputError(f"{where}: {exposure!r} does not vary within {by} = {constant}; nothing to compare")
    if reference is None:
        events = frame.groupby(by)[event_col].sum()
        reference = str(events.sort_values(ascending=False, kind="stable").index[0])
    if reference not in levels:
        raise InputError(f"{where}: reference {reference!r} is not a level of {by!r} ({levels})")
    others = [level for level in levels if level != reference]
    product = {level: f"_{exposure}_x_{k}" for k, level in enumerate(others)}
    for level, name in product.items():
        frame[name] = frame[exposure] * (frame[by] == level).astype(float)
    base = [duration_col, event_col, exposure, *covariates]
    if stratify:
        reduced = sv.cox(frame[[*base, by]], duration_col, event_col, strata=by)
        full = sv.cox(frame[[*base, by, *product.values()]], duration_col, event_col, strata=by)
    else:
        dummies = pd.get_dummies(frame[by], prefix="_by", dtype=float).drop(columns=f"_by_{reference}")
        reduced = sv.cox(pd.concat([frame[base], dummies], axis=1), duration_col, event_col)
        full = sv.cox(
            pd.concat([frame[base], dummies, frame[list(product.values())]], axis=1), duration_col, event_col
        )
    statistic, p = likelihood_ratio_test(full.log_likelihood_, reduced.log_likelihood_, len(others))
    # the exposure's log HR within each level: main term + that level's product term
    params, cov = full.params_, full.variance_matrix_
    rows = []
    for level in [reference, *others]:
        names = [exposure] + ([product[level]] if level in product else [])
        log_hr = float(params[names].sum())
        se = float(np.sqrt(cov.loc[names, names].to_numpy().sum()))
        rows.append({"group": level, "hr": float(np.exp(log_hr)), "log_hr": log_hr, "se": se})
    return InteractionTest(
        statistic=statistic,
        df=len(others),
        p=p,
        loglik_full=float(full.log_likelihood_),
        loglik_reduced=float(reduced.log_likelihood_),
        groups=(reference, *others),
        n=int(len(frame)),
        events=int(frame[event_col].sum()),
        hazard_ratios=pd.DataFrame(rows, columns=["group", "hr", "log_hr", "se"]),
    )
