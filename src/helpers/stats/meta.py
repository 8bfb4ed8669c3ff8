"""Random-effects meta-analysis of single-group proportions (DerSimonian–Laird), as R metafor does it.

- :func:`meta_proportions`: DerSimonian–Laird random-effects pooling of proportions on the logit
  or Freeman–Tukey double-arcsine scale, numerically matching R ``metafor`` 3.8-1
  (``rma(measure="PLO"|"PFT", method="DL")`` with ``transf.ilogit`` / ``transf.ipft.hm``);
  conformance fixture in ``../shared/reference/meta_reference.json``.
- :func:`freeman_tukey`, :func:`inverse_freeman_tukey`: metafor's ``transf.pft`` and
  ``transf.ipft`` (the latter including its edge handling).
- :func:`random_effects_hk`: DerSimonian–Laird random-effects pooling of given estimates (log
  odds or hazard ratios) with Hartung–Knapp intervals, as metafor's ``rma(yi, vi, method="DL",
  test="knha")``; pooled by :func:`statsmodels.stats.meta_analysis.combine_effects`, conformance
  fixture in ``../shared/reference/meta_knha_reference.json``.

Why hand-written: no maintained Python package reproduces metafor's conventions together
(``escalc``'s 0.5 correction only for studies with zero events or zero non-events, the DL τ²
truncated at 0, metafor's I² from the typical within-study variance, and the Freeman–Tukey
back-transform at the harmonic mean of the study sizes with values outside the attainable range
clipped to 0 or 1). ``statsmodels.stats.meta_analysis.combine_effects`` pools given effects but
does none of the transforms or back-transforms, and the model itself is a few lines; the
conformance test against metafor guards all of it.

This module knows nothing of cohorts or chapters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

from helpers.errors import InputError, Violation, check, raise_violations
from helpers.stats.heterogeneity import heterogeneity

__all__ = [
    "ProportionMetaResult",
    "RandomEffectsHK",
    "freeman_tukey",
    "inverse_freeman_tukey",
    "meta_proportions",
    "random_effects_hk",
]

ArrayLike = float | int | np.ndarray | pd.Series | list | tuple

_TRANSFORMS = {
    "logit": "logit",
    "plo": "logit",
    "freeman-tukey": "freeman-tukey",
    "freeman_tukey": "freeman-tukey",
    "pft": "freeman-tukey",
}


def _as_float_array(value: Any, name: str, where: str) -> np.ndarray:
    """``value`` as a float array; text or other non-numbers are an :class:`InputError`."""
    if isinstance(value, pd.Series):
        value = value.to_numpy()
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: {name} must hold numbers, got {value!r}") from exc


def _check_sizes(size: np.ndarray, where: str) -> None:
    """Study sizes must be positive and finite."""
    flat = np.atleast_1d(size).ravel()
    frame = pd.DataFrame({"n": flat})
    violations: list[Violation] = []
    check(
        violations,
        frame,
        ~(np.isfinite(flat) & (flat > 0)),
        table="studies",
        column="n",
        rule="a study size must be a positive, finite number",
    )
    raise_violations(violations, where)


# --------------------------------------------------------------------------------------------
# Freeman-Tukey double arcsine (metafor's transf.pft / transf.ipft)
# --------------------------------------------------------------------------------------------


def freeman_tukey(proportion: ArrayLike, n: ArrayLike) -> np.ndarray | float:
    """Freeman–Tukey double-arcsine value of a proportion, on metafor's (halved) scale.

    ``0.5 * (asin(sqrt(x/(n+1))) + asin(sqrt((x+1)/(n+1))))`` with ``x = proportion * n``;
    this is metafor's ``transf.pft`` and the ``yi`` of ``escalc(measure="PFT")`` (whose
    sampling variance is ``1/(4n+2)``). It is half of the classical Freeman–Tukey (1950)
    transform, so its values lie in ``[0, pi/2]``.

    Raises
    ------
    InputError
        Non-numeric input, or a study size that is not positive and finite.
    """
    p = _as_float_array(proportion, "proportion", "freeman_tukey")
    size = _as_float_array(n, "n", "freeman_tukey")
    _check_sizes(size, "freeman_tukey")
    x = p * size
    value = 0.5 * (np.arcsin(np.sqrt(x / (size + 1))) + np.arcsin(np.sqrt((x + 1) / (size + 1))))
    return float(value) if np.ndim(value) == 0 else value


def inverse_freeman_tukey(value: ArrayLike, n: ArrayLike) -> np.ndarray | float:
    """Back-transform a Freeman–Tukey value to a proportion (Miller, Am Stat 1978;32:138).

    Reproduces metafor's ``transf.ipft`` exactly, including its edge handling:

    - ``p = 0.5 * (1 - sign(cos 2t) * sqrt(1 - (sin 2t + (sin 2t - 1/sin 2t)/n)^2))``;
    - where the square root is of a negative number the result is NaN (metafor: ``NA``);
    - values above ``freeman_tukey(1, n)`` give exactly 1 and values below
      ``freeman_tukey(0, n)`` give exactly 0 (so CI bounds are clipped to ``[0, 1]``).

    ``n`` is the study size for a single study; for a pooled estimate metafor's
    ``transf.ipft.hm`` uses the harmonic mean of the study sizes (see :func:`meta_proportions`).
    """
    t = _as_float_array(value, "value", "inverse_freeman_tukey")
    size = _as_float_array(n, "n", "inverse_freeman_tukey")
    _check_sizes(size, "inverse_freeman_tukey")
    t, size = np.broadcast_arrays(t, size)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.sin(2 * t)
        inner = 1 - (s + (s - 1 / s) / size) ** 2
        p = 0.5 * (1 - np.sign(np.cos(2 * t)) * np.sqrt(inner))
    p = np.where(np.isfinite(p), p, np.nan)
    upper = freeman_tukey(1.0, size)
    lower = freeman_tukey(0.0, size)
    p = np.where(t > upper, 1.0, p)
    p = np.where(t < lower, 0.0, p)
    return float(p) if np.ndim(p) == 0 else p


def _ilogit(value: Any) -> np.ndarray | float:
    """metafor's ``transf.ilogit``: ``exp(x)/(1+exp(x))``, computed stably."""
    out = 1.0 / (1.0 + np.exp(-np.asarray(value, dtype=float)))
    return float(out) if np.ndim(out) == 0 else out


# --------------------------------------------------------------------------------------------
# random-effects meta-analysis of proportions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProportionMetaResult:
    """Result of :func:`meta_proportions` (DerSimonian–Laird random-effects model).

    Pooled quantities
    -----------------
    pooled, ci_low, ci_high : float
        Pooled proportion and its confidence interval, back-transformed to the proportion scale.
    estimate, se : float
        Pooled value and its standard error on the transformed (logit or double-arcsine) scale.
    tau2 : float
        DerSimonian–Laird between-study variance (transformed scale), truncated at 0.
    i2 : float
        I² in percent (metafor's definition; NaN when k = 1).
    q, df, p_q : float, int, float
        Cochran's Q, its degrees of freedom ``k - 1`` and upper-tail chi-square p-value
        (NaN when k = 1).
    k : int
        Number of studies.
    harmonic_mean_n : float or None
        Harmonic mean of the study sizes used by the Freeman–Tukey back-transform
        (``None`` for the logit).

    Per-study arrays (input order)
    ------------------------------
    events, totals : numpy.ndarray
        The counts as given.
    yi, vi : numpy.ndarray
        Transformed proportions and their sampling variances (after any 0.5 correction).
    weights : numpy.ndarray
        Random-effects weights in percent (sum 100), as metafor's ``weights()``.
    study_estimate, study_ci_low, study_ci_high : numpy.ndarray
        Each study's proportion and Wald CI at ``level``, computed on the transformed scale and
        back-transformed with the study's own n (``transf.ilogit`` / ``transf.ipft``): the rows
        of a forest plot.
    labels : tuple
        Study labels (the index of a Series input, else 0..k-1).
    """

    transform: str
    level: float
    k: int
    pooled: float
    ci_low: float
    ci_high: float
    estimate: float
    se: float
    tau2: float
    i2: float
    q: float
    df: int
    p_q: float
    harmonic_mean_n: float | None
    events: np.ndarray
    totals: np.ndarray
    yi: np.ndarray
    vi: np.ndarray
    weights: np.ndarray
    study_estimate: np.ndarray
    study_ci_low: np.ndarray
    study_ci_high: np.ndarray
    labels: tuple

    def study_table(self) -> pd.DataFrame:
        """Per-study table for a forest plot (one row per study, in input order)."""
        return pd.DataFrame(
            {
                "label": list(self.labels),
                "events": self.events,
                "total": self.totals,
                "proportion": self.events / self.totals,
                "estimate": self.study_estimate,
                "ci_low": self.study_ci_low,
                "ci_high": self.study_ci_high,
                "weight_pct": self.weights,
                "yi": self.yi,
                "vi": self.vi,
            }
        )


def _study_counts(events: ArrayLike, totals: ArrayLike) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Checked event and total counts and the study labels."""
    where = "meta_proportions"
    if isinstance(events, pd.Series):
        labels: tuple | None = tuple(events.index)
    elif isinstance(totals, pd.Series):
        labels = tuple(totals.index)
    else:
        labels = None
    x = _as_float_array(events, "events", where)
    n = _as_float_array(totals, "totals", where)
    for name, values in (("events", x), ("totals", n)):
        if values.ndim != 1:
            raise InputError(f"{where}: {name} must be a one-dimensional sequence of counts")
    if x.size == 0:
        raise InputError(f"{where}: at least one study is needed")
    if x.size != n.size:
        raise InputError(f"{where}: events and totals must have the same length, got {x.size} and {n.size}")
    if labels is None:
        labels = tuple(range(x.size))
    studies = pd.DataFrame({"events": x, "totals": n}, index=pd.Index(labels, name="study"))
    violations: list[Violation] = []
    for name, values in (("events", x), ("totals", n)):
        not_count = ~np.isfinite(values) | (values != np.round(values)) | (values < 0)
        check(
            violations,
            studies,
            not_count,
            table="studies",
            column=name,
            rule="a count must be a finite, non-negative whole number",
        )
    check(
        violations,
        studies,
        n < 1,
        table="studies",
        column="totals",
        rule="every study needs at least one patient",
    )
    check(
        violations,
        studies,
        x > n,
        table="studies",
        column="events",
        show=["totals"],
        rule="events must not exceed totals",
    )
    raise_violations(violations, where)
    return x, n, labels


def meta_proportions(
    events: ArrayLike,
    totals: ArrayLike,
    transform: str = "logit",
    level: float = 0.95,
) -> ProportionMetaResult:
    """Random-effects (DerSimonian–Laird) meta-analysis of single-group proportions.

    Reproduces R ``metafor`` 3.8-1: ``rma(measure="PLO", xi=events, ni=totals, method="DL")``
    back-transformed with ``transf.ilogit``, and ``rma(measure="PFT", ...)`` back-transformed
    with ``transf.ipft.hm`` (``targs=list(ni=totals)``). Written by hand because no Python
    package reproduces these conventions (see the module docstring); the conformance test
    against metafor checks every pooled quantity.

    Transforms (``escalc`` conventions)
    -----------------------------------
    - ``"logit"`` (``PLO``): ``yi = log(x/(n-x))``, ``vi = 1/x + 1/(n-x)``. A study with zero
      events or zero non-events gets 0.5 added to both cells (``add=1/2, to="only0"``, metafor's
      default), i.e. ``x + 0.5`` out of ``n + 1``; other studies are untouched.
    - ``"freeman-tukey"`` (``PFT``): ``yi = 0.5*(asin(sqrt(x/(n+1))) + asin(sqrt((x+1)/(n+1))))``,
      ``vi = 1/(4n+2)``. No correction (metafor sets ``add=0`` for PFT since 2.1-0); zero and
      full counts are handled by the transform itself.

    Model: ``w = 1/vi``; Q around the fixed-effect mean; ``tau2 = max(0, (Q-(k-1)) /
    (sum w - sum w^2/sum w))`` (metafor truncates the DL estimate at 0); the pooled value uses
    ``w* = 1/(vi+tau2)`` with a normal (Wald) CI. I² is metafor's ``100 tau2 / (tau2 + s2)``
    with the typical within-study variance ``s2 = (k-1) sum w / ((sum w)^2 - sum w^2)``.

    Back-transform of the Freeman–Tukey pooled value and CI uses the harmonic mean of the study
    sizes (Miller 1978), values outside the attainable range being clipped to 0 or 1 and an
    impossible inversion giving NaN, exactly as ``transf.ipft.hm``. This back-transform is
    fragile (it depends on the harmonic mean, and Schwarzer et al., Res Synth Methods
    2019;10:476-83, show it can mislead), which is why the logit is the primary analysis and
    Freeman–Tukey a check.

    Parameters
    ----------
    events, totals : array-like or pandas Series of whole numbers
        Responders and patients (or lesions) per study; ``0 <= events <= totals``, ``totals >= 1``.
        A Series' index becomes the study labels.
    transform : {"logit", "freeman-tukey"}
        Scale on which to pool (``"PLO"`` and ``"PFT"`` are accepted as aliases).
    level : float, default 0.95
        Confidence level, strictly between 0 and 1 (metafor's ``level=95``).

    Returns
    -------
    ProportionMetaResult

    Raises
    ------
    InputError
        Empty input, unequal lengths, non-integer/negative counts, events above totals,
        zero totals, unknown transform or a level outside (0, 1).
    """
    key = str(transform).strip().lower()
    if key not in _TRANSFORMS:
        raise InputError(f"meta_proportions: transform must be 'logit' or 'freeman-tukey', got {transform!r}")
    transform = _TRANSFORMS[key]
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise InputError(
            f"meta_proportions: level must be a confidence level strictly between 0 and 1 (e.g. 0.95), "
            f"got {level!r}"
        )
    x, n, labels = _study_counts(events, totals)
    k = int(x.size)

    if transform == "logit":
        zero = (x == 0) | (x == n)
        xa = np.where(zero, x + 0.5, x)
        ma = np.where(zero, n - x + 0.5, n - x)
        yi = np.log(xa / ma)
        vi = 1.0 / xa + 1.0 / ma
    else:
        yi = 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))
        vi = 1.0 / (4.0 * n + 2.0)

    w = 1.0 / vi
    sum_w = w.sum()
    mu_fixed = np.sum(w * yi) / sum_w
    q = float(np.sum(w * (yi - mu_fixed) ** 2))
    df = k - 1
    if k > 1:
        c = sum_w - np.sum(w**2) / sum_w
        tau2 = max(0.0, (q - df) / c)
        s2 = df * sum_w / (sum_w**2 - np.sum(w**2))
        i2 = 100.0 * tau2 / (tau2 + s2)
        p_q = float(stats.chi2.sf(q, df))
    else:
        tau2, i2, p_q = 0.0, float("nan"), float("nan")

    w_star = 1.0 / (vi + tau2)
    estimate = float(np.sum(w_star * yi) / w_star.sum())
    se = float(np.sqrt(1.0 / w_star.sum()))
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    lo, hi = estimate - z * se, estimate + z * se
    study_se = np.sqrt(vi)

    if transform == "logit":
        pooled, ci_low, ci_high = _ilogit(estimate), _ilogit(lo), _ilogit(hi)
        study_estimate = _ilogit(yi)
        study_low, study_high = _ilogit(yi - z * study_se), _ilogit(yi + z * study_se)
        harmonic = None
    else:
        harmonic = float(1.0 / np.mean(1.0 / n))
        pooled, ci_low, ci_high = (float(inverse_freeman_tukey(v, harmonic)) for v in (estimate, lo, hi))
        study_estimate = inverse_freeman_tukey(yi, n)
        study_low = inverse_freeman_tukey(yi - z * study_se, n)
        study_high = inverse_freeman_tukey(yi + z * study_se, n)

    return ProportionMetaResult(
        transform=transform,
        level=float(level),
        k=k,
        pooled=float(pooled),
        ci_low=float(ci_low),
        ci_high=float(ci_high),
        estimate=estimate,
        se=se,
        tau2=float(tau2),
        i2=float(i2),
        q=q,
        df=df,
        p_q=p_q,
        harmonic_mean_n=harmonic,
        events=x,
        totals=n,
        yi=yi,
        vi=vi,
        weights=100.0 * w_star / w_star.sum(),
        study_estimate=np.asarray(study_estimate, dtype=float),
        study_ci_low=np.asarray(study_low, dtype=float),
        study_ci_high=np.asarray(study_high, dtype=float),
        labels=labels,
    )


# --------------------------------------------------------------------------------------------
# random-effects pooling of given estimates with Hartung-Knapp intervals
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RandomEffectsHK:
    """Result of :func:`random_effects_hk` (DerSimonian–Laird τ², Hartung–Knapp inference).

    Attributes
    ----------
    k : int
        Number of estimates pooled.
    estimate : float
        Random-effects mean (weights ``1 / (se² + τ²)``).
    se : float
        Hartung–Knapp standard error of the mean (the Wald one times ``sqrt(hk_factor)``).
    ci_low, ci_high : float
        ``estimate ± t(1 − alpha/2, k − 1) · se``.
    t, p : float
        ``estimate / se`` and its two-sided p-value from the t distribution with ``k − 1`` df.
    wald_se : float
        The usual (normal-theory) standard error ``sqrt(1 / sum w*)``, for comparison.
    hk_factor : float
        Hartung–Knapp scaling factor ``sum w* (y − estimate)² / (k − 1)``, applied untruncated
        (it may be below 1, which narrows the interval).
    tau2 : float
        DerSimonian–Laird between-estimate variance, truncated at 0.
    i2 : float
        I² in percent (metafor's ``100 τ² / (τ² + s²)``, equal to ``100 max(0, (Q − df)/Q)``
        for the DL estimator).
    q, df, p_q : float, int, float
        Cochran's Q, ``k − 1`` and the chi-square upper tail.
    weights : numpy.ndarray
        Random-effects weights in percent (sum 100), input order.
    alpha : float
        1 − confidence level.
    """

    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    t: float
    p: float
    wald_se: float
    hk_factor: float
    tau2: float
    i2: float
    q: float
    df: int
    p_q: float
    weights: np.ndarray
    alpha: float


def random_effects_hk(
    estimates: ArrayLike, standard_errors: ArrayLike, alpha: float = 0.05
) -> RandomEffectsHK:
    """DerSimonian–Laird random-effects mean of ``k ≥ 2`` estimates with a Hartung–Knapp interval.

    Reproduces R metafor 3.8-1 ``rma(yi, vi, method="DL", test="knha")``: the DL moment
    estimate of τ² truncated at 0 (DerSimonian & Laird 1986), the random-effects mean, and the
    Hartung–Knapp (2001) variance ``sum w* (y − mu)² / ((k − 1) sum w*)`` with a t interval and
    test on ``k − 1`` degrees of freedom. The scaling factor is **not** truncated at 1 (metafor's
    ``test="knha"`` does not truncate either; its ``"adhoc"`` variant would), so with little
    heterogeneity the interval can be narrower than the Wald one.

    The pooling is :func:`statsmodels.stats.meta_analysis.combine_effects`: ``method_re="dl"``
    (``"chi2"`` is its alias for the same DerSimonian–Laird estimator) with ``use_t=True``; its
    "random effect wls" row (``sd_eff_w_re_hksj``, ``conf_int()[3]``) is the Hartung–Knapp(–
    Sidik–Jonkman) standard error and t interval. statsmodels does not truncate τ² at 0: when
    Q < k − 1 its τ² is negative, and the truncated model (τ² = 0) is then its fixed-effect
    model, whose "fixed effect wls" row is the Hartung–Knapp result with τ² = 0; that row is
    taken instead. Q, I² and the truncated τ² come from
    :func:`helpers.stats.heterogeneity.heterogeneity`. The p-value (absent from statsmodels'
    summary) is the t tail of ``estimate / se``.

    Parameters
    ----------
    estimates : array-like
        Estimates on a scale where they are roughly normal (log odds ratios, log hazard ratios).
    standard_errors : array-like
        Their standard errors (positive, finite).
    alpha : float, default 0.05
        1 − confidence level.

    Returns
    -------
    RandomEffectsHK

    Raises
    ------
    InputError
        Fewer than two estimates, a non-finite estimate, a non-positive standard error or an
        ``alpha`` outside (0, 1).
    """
    where = "random_effects_hk"
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise InputError(f"{where}: alpha must lie strictly between 0 and 1, got {alpha!r}")
    het = heterogeneity(estimates, standard_errors, alpha=alpha)  # checks the input, k >= 2
    y = np.asarray(estimates, dtype=float).ravel()
    se = np.asarray(standard_errors, dtype=float).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):  # untruncated τ² < 0 can give sqrt(< 0)
        res = combine_effects(y, se**2, method_re="dl", use_t=True, alpha=alpha)
        intervals = res.conf_int(alpha)  # t quantile on k - 1 df, since use_t=True
    df = het.df
    if float(res.tau2) >= 0:
        mean, hk_se, ci = float(res.mean_effect_re), float(res.sd_eff_w_re_hksj), intervals[3]
        w = np.asarray(res.weights_re, dtype=float)
    else:  # τ² truncated at 0: the random-effects model is the fixed-effect one
        mean, hk_se, ci = float(res.mean_effect_fe), float(res.sd_eff_w_fe_hksj), intervals[2]
        w = np.asarray(res.weights_fe, dtype=float)
    wald_se = float(np.sqrt(1.0 / w.sum()))
    t_stat = mean / hk_se if hk_se > 0 else float("nan")
    return RandomEffectsHK(
        k=het.k,
        estimate=mean,
        se=hk_se,
        ci_low=float(ci[0]),
        ci_high=float(ci[1]),
        t=float(t_stat),
        p=float(2 * stats.t.sf(abs(t_stat), df)) if np.isfinite(t_stat) else float("nan"),
        wald_se=wald_se,
        hk_factor=float((hk_se / wald_se) ** 2),
        tau2=het.tau2,
        i2=100.0 * het.i2,
        q=het.q,
        df=df,
        p_q=het.p,
        weights=100.0 * w / w.sum(),
        alpha=float(alpha),
    )
