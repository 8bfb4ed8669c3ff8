"""Radiotherapy helpers: fractionation radiobiology, modality classes, and the
random-effects meta-analysis of response proportions used in the radiotherapy-salvage chapter.

Contents
--------
- :func:`bed`, :func:`eqd2`: linear-quadratic biologically effective dose and the equivalent
  dose in 2-Gy fractions (vectorised over scalars, NumPy arrays and pandas Series).
- :func:`classify_modality`: low-dose / conventional / hypofractionated / SBRT classes from the
  dose per fraction and the total dose, with every threshold exposed as a keyword parameter.
- :func:`meta_proportions`: DerSimonian–Laird random-effects pooling of proportions on the logit
  or Freeman–Tukey double-arcsine scale, numerically matching R ``metafor`` 3.8-1
  (``rma(measure="PLO"|"PFT", method="DL")`` with ``transf.ilogit`` / ``transf.ipft.hm``).
- :func:`freeman_tukey`, :func:`inverse_freeman_tukey`: metafor's ``transf.pft`` and
  ``transf.ipft`` (the latter including its edge handling).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "MODALITY_CLASSES",
    "ProportionMetaResult",
    "RadiotherapyInputError",
    "bed",
    "classify_modality",
    "eqd2",
    "freeman_tukey",
    "inverse_freeman_tukey",
    "meta_proportions",
]

#: The four dose-based modality classes returned by :func:`classify_modality`.
MODALITY_CLASSES: tuple[str, ...] = ("low_dose", "conventional", "hypofractionated", "SBRT")

ArrayLike = Union[float, int, np.ndarray, pd.Series, list, tuple]


class RadiotherapyInputError(ValueError):
    """Bad input to a radiotherapy helper (the message says which argument and what is wrong)."""


# --------------------------------------------------------------------------------------------
# vectorisation plumbing: same kind out as in (scalar -> float, array -> ndarray, Series -> Series)
# --------------------------------------------------------------------------------------------

def _common_index(values: dict[str, Any]) -> pd.Index | None:
    """Index shared by the pandas Series among ``values`` (None if there is none)."""
    index = None
    for name, value in values.items():
        if isinstance(value, pd.Series):
            if index is None:
                index = value.index
            elif not value.index.equals(index):
                raise RadiotherapyInputError(
                    f"{name}: pandas Series arguments must share the same index "
                    "(align them first; silent alignment would pair the wrong courses)"
                )
    return index


def _to_float_array(value: Any, name: str) -> np.ndarray:
    if isinstance(value, pd.Series):
        value = value.to_numpy()
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise RadiotherapyInputError(f"{name}: expected numbers, got {value!r}") from exc
    return arr


def _check_positive(arr: np.ndarray, name: str, *, allow_nan: bool) -> None:
    """Raise if any value is non-positive or infinite (NaN is missing and allowed if asked)."""
    nan = np.isnan(arr)
    if nan.any() and not allow_nan:
        raise RadiotherapyInputError(f"{name}: missing (NaN) values are not allowed")
    bad = ~nan & ~(np.isfinite(arr) & (arr > 0))
    if bad.any():
        flat = np.atleast_1d(arr)[np.atleast_1d(bad)]
        where = np.flatnonzero(np.atleast_1d(bad))[:5].tolist()
        raise RadiotherapyInputError(
            f"{name}: must be positive and finite; {int(bad.sum())} value(s) are not "
            f"(e.g. {flat[:5].tolist()} at position(s) {where})"
        )


def _check_integer_valued(arr: np.ndarray, name: str) -> None:
    ok = np.isnan(arr) | (arr == np.round(arr))
    if not ok.all():
        flat = np.atleast_1d(arr)[~np.atleast_1d(ok)]
        raise RadiotherapyInputError(
            f"{name}: a number of fractions must be a whole number; got {flat[:5].tolist()}"
        )


def _wrap(result: np.ndarray, inputs: dict[str, Any], index: pd.Index | None, name: str):
    """Return ``result`` as the same kind as the inputs."""
    if index is not None:
        return pd.Series(result, index=index, name=name)
    if any(not np.isscalar(v) and np.ndim(v) > 0 for v in inputs.values()):
        return result
    value = result.item()
    return value if value is None or isinstance(value, str) else float(value)


def _dose_inputs(total_dose_gy: ArrayLike, fractions: ArrayLike):
    inputs = {"total_dose_gy": total_dose_gy, "fractions": fractions}
    index = _common_index(inputs)
    total = _to_float_array(total_dose_gy, "total_dose_gy")
    n = _to_float_array(fractions, "fractions")
    _check_positive(total, "total_dose_gy", allow_nan=True)
    _check_positive(n, "fractions", allow_nan=True)
    _check_integer_valued(n, "fractions")
    try:
        total, n = np.broadcast_arrays(total, n)
    except ValueError as exc:
        raise RadiotherapyInputError(
            f"total_dose_gy and fractions have incompatible shapes {total.shape} and {n.shape}"
        ) from exc
    return inputs, index, total, n


# --------------------------------------------------------------------------------------------
# BED / EQD2
# --------------------------------------------------------------------------------------------

def bed(total_dose_gy: ArrayLike, fractions: ArrayLike, alpha_beta: ArrayLike = 10.0):
    r"""Biologically effective dose of a fractionated course (linear-quadratic model).

    .. math:: \mathrm{BED} = n d \left(1 + \frac{d}{\alpha/\beta}\right), \quad d = D/n

    (Fowler, Br J Radiol 1989;62:679-94; no time or repopulation factor.)

    Parameters
    ----------
    total_dose_gy : float, array-like or pandas Series
        Total physical dose ``D = n·d`` in Gy; must be > 0. NaN is treated as missing and gives NaN.
    fractions : int, array-like or pandas Series
        Number of fractions ``n``; a positive whole number. NaN is treated as missing.
    alpha_beta : float, array-like or pandas Series, default 10.0
        α/β ratio in Gy (10 for tumour and early-reacting tissue, about 3 for late-reacting
        tissue); must be > 0 and not missing.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        BED in Gy, of the same kind as the inputs (a Series keeps the input index).

    Raises
    ------
    RadiotherapyInputError
        Non-positive or infinite doses, fractions or α/β; non-integer fractions; Series with
        different indexes; shapes that do not broadcast.

    Examples
    --------
    >>> bed(50, 4)            # SBRT 12.5 Gy x 4, alpha/beta 10
    112.5
    """
    inputs, index, total, n = _dose_inputs(total_dose_gy, fractions)
    inputs["alpha_beta"] = alpha_beta
    index = _common_index(inputs)
    ab = _to_float_array(alpha_beta, "alpha_beta")
    _check_positive(ab, "alpha_beta", allow_nan=False)
    try:
        total, n, ab = np.broadcast_arrays(total, n, ab)
    except ValueError as exc:
        raise RadiotherapyInputError(
            f"alpha_beta of shape {ab.shape} does not broadcast with the doses {total.shape}"
        ) from exc
    per_fraction = total / n
    result = total * (1.0 + per_fraction / ab)
    return _wrap(result, inputs, index, "bed_gy")


def eqd2(total_dose_gy: ArrayLike, fractions: ArrayLike, alpha_beta: ArrayLike = 10.0):
    r"""Equivalent dose in 2-Gy fractions: :math:`\mathrm{EQD2} = \mathrm{BED} / (1 + 2/(\alpha/\beta))`.

    Parameters and errors are those of :func:`bed`; the result has the same kind as the inputs.

    Examples
    --------
    >>> eqd2(50, 4)           # 12.5 Gy x 4, alpha/beta 10
    93.75
    >>> eqd2(60, 30)          # 2 Gy fractions are their own EQD2
    60.0
    """
    biological = bed(total_dose_gy, fractions, alpha_beta)  # validates everything
    factor = 1.0 + 2.0 / _to_float_array(alpha_beta, "alpha_beta")
    if isinstance(biological, pd.Series):
        return (biological / factor).rename("eqd2_gy")  # ndarray divides positionally
    if isinstance(biological, np.ndarray):
        return biological / factor
    return float(biological / factor)


# --------------------------------------------------------------------------------------------
# modality classes
# --------------------------------------------------------------------------------------------

def classify_modality(
    total_dose_gy: ArrayLike,
    fractions: ArrayLike,
    *,
    low_dose_max_total: float = 10.0,
    low_dose_max_per_fraction: float = 2.0,
    conventional_max_per_fraction: float = 2.2,
    sbrt_min_per_fraction: float = 5.0,
    sbrt_max_fractions: int = 8,
):
    """Classify RT courses as ``low_dose``, ``conventional``, ``hypofractionated`` or ``SBRT``.

    The class is decided from the dose per fraction ``d = total/fractions`` and the total dose,
    by the first rule that matches (boundaries inclusive):

    1. ``low_dose``: ``d <= low_dose_max_per_fraction`` (2 Gy) **and**
       ``total <= low_dose_max_total`` (10 Gy). The review this book follows (Yang et al.,
       Transl Lung Cancer Res 2025;14:591-606) describes low-dose RT as "up to 2 Gy per
       fraction"; the ceiling on the total separates it from full-dose courses given in 2-Gy
       fractions. The clinical low-dose schedules in that review (1.4-1.5 Gy x 4-5, i.e.
       5.6-7 Gy; 3 Gy scatter) and 0.5-1 Gy x 2-4 immunomodulatory schedules all fall inside.
    2. ``SBRT``: ``d >= sbrt_min_per_fraction`` (5 Gy) **and**
       ``fractions <= sbrt_max_fractions`` (8). Stereotactic (ablative) courses are delivered
       in a few large fractions: the ACR-ASTRO practice parameter for SBRT uses 1-5 fractions,
       and UK SABR Consortium guidance allows up to 8. A 5-Gy floor keeps every SBRT/SABR
       schedule in the review (5 Gy x 3-6, 8 Gy x 3, 9.5 Gy x 3, 12.5 Gy x 4, 20 Gy x 1) in
       this class.
    3. ``conventional``: ``d <= conventional_max_per_fraction`` (2.2 Gy): standard 1.8-2.2 Gy
       fractions (the review: "1.8-2 Gy"). Courses with smaller fractions whose total exceeds
       the low-dose ceiling (hyperfractionation, e.g. 1.5 Gy twice daily to 45 Gy) also land
       here: they are full-dose courses, neither hypofractionated nor low-dose.
    4. ``hypofractionated``: everything else, i.e. ``d > conventional_max_per_fraction`` and not
       SBRT (e.g. 3 Gy x 15, 4 Gy x 5, 5 Gy x 10; also a single 3 Gy fraction). The review calls
       > 2.5 Gy per fraction hypofractionated; 2.2-2.5 Gy (moderate hypofractionation) is put
       here as well.

    SBRT is strictly a *technique* (stereotactic planning and image guidance), not a dose; from
    dose alone this is a proxy, and a single 8 Gy palliative fraction is called ``SBRT``.

    Parameters
    ----------
    total_dose_gy, fractions : scalar, array-like or pandas Series
        Total dose (Gy, > 0) and number of fractions (positive whole number). NaN is missing and
        gives ``None``.
    low_dose_max_total, low_dose_max_per_fraction, conventional_max_per_fraction,
    sbrt_min_per_fraction : float
        Thresholds in Gy (see the rules above); must satisfy
        ``low_dose_max_per_fraction <= conventional_max_per_fraction < sbrt_min_per_fraction``.
    sbrt_max_fractions : int
        Largest number of fractions counted as SBRT (>= 1).

    Returns
    -------
    str, numpy.ndarray of object, or pandas.Series
        One class label per course (``None`` where an input is missing), of the same kind as
        the inputs.

    Raises
    ------
    RadiotherapyInputError
        Invalid doses/fractions (as in :func:`bed`) or inconsistent thresholds.
    """
    thresholds = {
        "low_dose_max_total": low_dose_max_total,
        "low_dose_max_per_fraction": low_dose_max_per_fraction,
        "conventional_max_per_fraction": conventional_max_per_fraction,
        "sbrt_min_per_fraction": sbrt_min_per_fraction,
        "sbrt_max_fractions": sbrt_max_fractions,
    }
    for key, value in thresholds.items():
        if not (np.isscalar(value) and np.isfinite(value) and value > 0):
            raise RadiotherapyInputError(f"{key} must be a positive finite number, got {value!r}")
    if not float(sbrt_max_fractions).is_integer():
        raise RadiotherapyInputError(
            f"sbrt_max_fractions must be a whole number, got {sbrt_max_fractions!r}"
        )
    if not low_dose_max_per_fraction <= conventional_max_per_fraction < sbrt_min_per_fraction:
        raise RadiotherapyInputError(
            "thresholds must satisfy low_dose_max_per_fraction <= conventional_max_per_fraction "
            f"< sbrt_min_per_fraction; got {low_dose_max_per_fraction}, "
            f"{conventional_max_per_fraction}, {sbrt_min_per_fraction}"
        )

    inputs, index, total, n = _dose_inputs(total_dose_gy, fractions)
    # tiny tolerance so that e.g. 66 Gy / 30 = 2.2000000000000002 counts as 2.2
    eps = 1e-9
    d = total / n
    missing = np.isnan(total) | np.isnan(n)
    low = (d <= low_dose_max_per_fraction + eps) & (total <= low_dose_max_total + eps)
    sbrt = (d >= sbrt_min_per_fraction - eps) & (n <= sbrt_max_fractions)
    conventional = d <= conventional_max_per_fraction + eps
    labels = np.select(
        [missing, low, sbrt, conventional],
        [None, "low_dose", "SBRT", "conventional"],
        default="hypofractionated",
    ).astype(object)
    labels[missing] = None
    return _wrap(labels, inputs, index, "rt_modality")


# --------------------------------------------------------------------------------------------
# Freeman-Tukey double arcsine (metafor's transf.pft / transf.ipft)
# --------------------------------------------------------------------------------------------

def freeman_tukey(proportion: ArrayLike, n: ArrayLike) -> np.ndarray | float:
    """Freeman–Tukey double-arcsine value of a proportion, on metafor's (halved) scale.

    ``0.5 * (asin(sqrt(x/(n+1))) + asin(sqrt((x+1)/(n+1))))`` with ``x = proportion * n``;
    this is metafor's ``transf.pft`` and the ``yi`` of ``escalc(measure="PFT")`` (whose
    sampling variance is ``1/(4n+2)``). It is half of the classical Freeman–Tukey (1950)
    transform, so its values lie in ``[0, pi/2]``.
    """
    p = _to_float_array(proportion, "proportion")
    size = _to_float_array(n, "n")
    _check_positive(size, "n", allow_nan=False)
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
    t = _to_float_array(value, "value")
    size = _to_float_array(n, "n")
    _check_positive(size, "n", allow_nan=False)
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


# --------------------------------------------------------------------------------------------
# random-effects meta-analysis of proportions
# --------------------------------------------------------------------------------------------

_TRANSFORMS = {"logit": "logit", "plo": "logit", "freeman-tukey": "freeman-tukey",
               "freeman_tukey": "freeman-tukey", "pft": "freeman-tukey"}


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


def _counts(values: Any, name: str) -> np.ndarray:
    if isinstance(values, pd.Series):
        values = values.to_numpy()
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise RadiotherapyInputError(f"{name}: expected counts, got {values!r}") from exc
    if arr.ndim != 1:
        raise RadiotherapyInputError(f"{name}: expected a one-dimensional sequence of counts")
    bad = ~np.isfinite(arr) | (arr != np.round(arr)) | (arr < 0)
    if bad.any():
        where = np.flatnonzero(bad)[:5].tolist()
        raise RadiotherapyInputError(
            f"{name}: counts must be finite non-negative whole numbers; "
            f"{int(bad.sum())} are not (position(s) {where}: {arr[bad][:5].tolist()})"
        )
    return arr


def meta_proportions(
    events: ArrayLike,
    totals: ArrayLike,
    transform: str = "logit",
    level: float = 0.95,
) -> ProportionMetaResult:
    """Random-effects (DerSimonian–Laird) meta-analysis of single-group proportions.

    Reproduces R ``metafor`` 3.8-1: ``rma(measure="PLO", xi=events, ni=totals, method="DL")``
    back-transformed with ``transf.ilogit``, and ``rma(measure="PFT", ...)`` back-transformed
    with ``transf.ipft.hm`` (``targs=list(ni=totals)``).

    Transforms (``escalc`` conventions)
    -----------------------------------
    - ``"logit"`` (``PLO``): ``yi = log(x/(n-x))``, ``vi = 1/x + 1/(n-x)``. A study with zero
      events or zero non-events gets 0.5 added to both cells (``add=1/2, to="only0"``, metafor's
      default), i.e. ``x + 0.5`` out of ``n + 1``; other studies are untouched.
    - ``"freeman-tukey"`` (``PFT``): ``yi = 0.5*(asin(sqrt(x/(n+1))) + asin(sqrt((x+1)/(n+1))))``,
      ``vi = 1/(4n+2)``. No correction (metafor sets ``add=0`` for PFT since 2.1-0); zero and
      full counts are handled by the transform itself.

    Model: ``w = 1/vi``; Q around the fixed-effect mean; ``tau2 = max(0, (Q-(k-1)) /
    (sum w - sum w^2/sum w))``; the pooled value uses ``w* = 1/(vi+tau2)`` with a normal
    (Wald) CI. I² is metafor's ``100 tau2 / (tau2 + s2)`` with the typical within-study variance
    ``s2 = (k-1) sum w / ((sum w)^2 - sum w^2)``.

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
    RadiotherapyInputError
        Empty input, unequal lengths, non-integer/negative counts, events above totals,
        zero totals, unknown transform or a level outside (0, 1).
    """
    key = str(transform).strip().lower()
    if key not in _TRANSFORMS:
        raise RadiotherapyInputError(
            f"transform must be 'logit' or 'freeman-tukey', got {transform!r}"
        )
    transform = _TRANSFORMS[key]
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise RadiotherapyInputError(
            f"level must be a confidence level strictly between 0 and 1 (e.g. 0.95), got {level!r}"
        )

    labels: tuple
    if isinstance(events, pd.Series):
        labels = tuple(events.index)
    elif isinstance(totals, pd.Series):
        labels = tuple(totals.index)
    else:
        labels = None  # set below
    x = _counts(events, "events")
    n = _counts(totals, "totals")
    if x.size == 0:
        raise RadiotherapyInputError("events: at least one study is needed")
    if x.size != n.size:
        raise RadiotherapyInputError(
            f"events and totals must have the same length, got {x.size} and {n.size}"
        )
    if (n < 1).any():
        raise RadiotherapyInputError(
            f"totals: every study needs at least one patient; zero at position(s) "
            f"{np.flatnonzero(n < 1)[:5].tolist()}"
        )
    if (x > n).any():
        where = np.flatnonzero(x > n)[:5].tolist()
        raise RadiotherapyInputError(
            f"events exceed totals at position(s) {where}: "
            f"{[(int(x[i]), int(n[i])) for i in where]}"
        )
    if labels is None:
        labels = tuple(range(x.size))
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
        back = _ilogit
        pooled, ci_low, ci_high = back(estimate), back(lo), back(hi)
        study_estimate = back(yi)
        study_low, study_high = back(yi - z * study_se), back(yi + z * study_se)
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


def _ilogit(value):
    """metafor's ``transf.ilogit``: ``exp(x)/(1+exp(x))``, computed stably."""
    out = 1.0 / (1.0 + np.exp(-np.asarray(value, dtype=float)))
    return float(out) if np.ndim(out) == 0 else out
