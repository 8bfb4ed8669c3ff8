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

The radiotherapy-salvage chapter (DESIGN §4):

- literature: :func:`load_literature`, :func:`literature_response_rows` (the forest plot's rows),
  :func:`pool_literature` (comparable subgroups, pooled only with >= 3 studies),
  :func:`literature_statement`;
- cohort: :func:`rt_courses` (timing, BED/EQD2, modality, EQD2 group per course),
  :func:`rt_timing_table`, :func:`modality_table`, :func:`post_progression_table` (one row per
  progressed patient, time origin = progression), :func:`rt_survival_analysis` (the naive,
  immortal-time-biased comparison beside RT as a time-varying exposure adjusted for the
  observed confounders, and a landmark check), :func:`response_by_group` and
  :func:`response_dose_slope` (in-field and out-of-field response by dose).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import numpy as np
import pandas as pd
from scipy import stats

from helpers.stats import survival
from helpers.units import DAYS_PER_MONTH

__all__ = [
    "COVARIATE_LABELS",
    "DEFAULT_ADJUSTMENT",
    "EQD2_GROUP_EDGES_GY",
    "EVALUABLE_RESPONSES",
    "LITERATURE_PATH",
    "MIN_STUDIES_TO_POOL",
    "MODALITY_CLASSES",
    "MissingRadiotherapyColumnError",
    "ProportionMetaResult",
    "RTSurvivalResult",
    "RT_TIMINGS",
    "RadiotherapyInputError",
    "eqd2_group_labels",
    "exact_binomial_ci",
    "literature_response_rows",
    "literature_statement",
    "load_literature",
    "modality_table",
    "pool_literature",
    "post_progression_table",
    "response_by_group",
    "response_dose_slope",
    "rt_courses",
    "rt_survival_analysis",
    "rt_timing_table",
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

def bed(
    total_dose_gy: ArrayLike, fractions: ArrayLike, alpha_beta: ArrayLike = 10.0
) -> float | np.ndarray | pd.Series:
    r"""Biologically effective dose of a fractionated course (linear-quadratic model).

    .. math:: \mathrm{BED} = n d \left(1 + \frac{d}{\alpha/\beta}\right), \quad d = D/n

    (Fowler, Br J Radiol 1989;62:679-94; no time or repopulation factor.)

    Parameters
    ----------
    total_dose_gy : float, array-like or pandas Series
        Total physical dose ``D = n·d`` in Gy; must be > 0. NaN is treated as missing and
        gives NaN.
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


def eqd2(
    total_dose_gy: ArrayLike, fractions: ArrayLike, alpha_beta: ArrayLike = 10.0
) -> float | np.ndarray | pd.Series:
    r"""Equivalent dose in 2-Gy fractions, :math:`\mathrm{BED} / (1 + 2/(\alpha/\beta))`.

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
) -> str | None | np.ndarray | pd.Series:
    """Classify RT courses as ``low_dose``, ``conventional``, ``hypofractionated`` or ``SBRT``.

    The class is decided from the dose per fraction ``d = total/fractions`` and the total dose,
    by the first rule that matches (boundaries inclusive):

    1. ``low_dose``: ``d <= low_dose_max_per_fraction`` (2 Gy) **and**
       ``total <= low_dose_max_total`` (10 Gy). The review this book follows (Yang et al.,
       Transl Lung Cancer Res 2025;14:591-606) describes low-dose RT as "up to 2 Gy per
       fraction"; the ceiling on the total separates it from full-dose courses given in 2-Gy
       fractions. The low-dose schedules in that review (clinical: 1.4-1.5 Gy x 4-5, i.e.
       5.6-7 Gy; preclinical: 0.5 Gy x 4, 1 Gy x 2) all fall inside.
    2. ``SBRT``: ``d >= sbrt_min_per_fraction`` (5 Gy) **and**
       ``fractions <= sbrt_max_fractions`` (8). Stereotactic (ablative) courses are delivered
       in a few large fractions: the ACR-ASTRO practice parameter for SBRT describes 1-5
       fractions, and UK practice under the UK SABR Consortium guidance gives ablative doses in
       3-8 fractions (reviewed in "Stereotactic ablative radiotherapy in the UK: current status
       and developments", PMC3755401). A 5-Gy floor keeps every SBRT/SABR schedule in the
       review (5 Gy x 3-6, 8 Gy x 3, 9.5 Gy x 3, 12.5 Gy x 4, 20 Gy x 1) in this class.
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
    arr = _to_float_array(values, name)
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
        pooled, ci_low, ci_high = (
            float(inverse_freeman_tukey(v, harmonic)) for v in (estimate, lo, hi)
        )
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


# ============================================================================================
# The radiotherapy-salvage chapter: (a) the literature table, (b) the cohort analysis
# ============================================================================================

#: The curated literature table (``data/radiotherapy/README.md`` describes it).
LITERATURE_PATH = Path(__file__).resolve().parents[3] / "data" / "radiotherapy" / \
    "rt_salvage_literature.csv"

#: Fewest comparable studies a subgroup needs to be pooled (DESIGN §4); fewer are shown only.
MIN_STUDIES_TO_POOL = 3

#: Upper edges (Gy EQD2) of the dose groups: < 20 Gy (low-dose and single palliative fractions),
#: 20-50 Gy (most palliative and moderately hypofractionated courses, EQD2 of 30 Gy x 10 is
#: 32.5 Gy), >= 50 Gy (radical conventional courses and ablative SBRT).
EQD2_GROUP_EDGES_GY: tuple[float, ...] = (20.0, 50.0)

#: Timing of an RT course relative to the index ICB course (only the last one is an exposure).
RT_TIMINGS: tuple[str, ...] = ("before ICB", "after ICB start, before any progression",
                               "after progression")

#: Response categories of the radiotherapy table that can be evaluated (NE and missing cannot).
EVALUABLE_RESPONSES: tuple[str, ...] = ("CR", "PR", "SD", "PD")

#: Covariates of the adjusted survival model, with the labels the book shows.
COVARIATE_LABELS: dict[str, str] = {
    "rt": "RT after progression (time-varying)",
    "ever_rt": "RT at any time after progression (baseline group)",
    "rt_by_landmark": "RT by the landmark",
    "ecog": "ECOG performance status (per point)",
    "acquired": "acquired vs primary resistance",
    "class_not_evaluable": "class not evaluable vs primary resistance",
    "age_per_10y": "age (per 10 years)",
    "male": "male vs female",
    "line": "line of the index ICB course (per step)",
    "log2_tmb": "log2(TMB + 1) (per doubling)",
}

_SHORT_NAMES = {"log2_tmb": "TMB", "ecog": "ECOG", "age_per_10y": "age", "male": "sex",
                "line": "line", "acquired": "class", "class_not_evaluable": "class"}

#: Confounders and prognostic factors the adjusted model uses by default (see
#: :func:`rt_survival_analysis` for why each is there).
DEFAULT_ADJUSTMENT: tuple[str, ...] = ("ecog", "acquired", "class_not_evaluable", "age_per_10y",
                                       "male", "line")


class MissingRadiotherapyColumnError(KeyError):
    """A table handed to a radiotherapy-chapter helper lacks a column it needs."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def _require(table: pd.DataFrame, columns: Sequence[str], where: str, what: str) -> None:
    if not isinstance(table, pd.DataFrame):
        raise RadiotherapyInputError(f"{where}: {what} must be a pandas DataFrame, "
                                     f"got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise MissingRadiotherapyColumnError(
            f"{where}: {what} lacks column(s) {missing}; it has {list(table.columns)}")


# --------------------------------------------------------------------------------------------
# (a) literature
# --------------------------------------------------------------------------------------------

_LITERATURE_NUMERIC = ("table2_row", "ref_no", "n", "total_dose_gy", "fractions",
                       "dose_per_fraction_gy", "orr_events", "orr_n", "orr_pct_reported",
                       "dcr_pct_reported")
_LITERATURE_REQUIRED = ("study_id", "record_type", "source", "setting", "arm", "arm_role",
                        "linked_ids", "rt_modality", "response_unit", "response_scope",
                        "orr_events", "orr_n", "orr_pct_reported", "n")


def load_literature(path: str | Path | None = None) -> pd.DataFrame:
    """Read the curated literature table of RT salvage outcomes (CSV, never pickle).

    Parameters
    ----------
    path : str or Path, optional
        Defaults to :data:`LITERATURE_PATH` (``data/radiotherapy/rt_salvage_literature.csv``).

    Returns
    -------
    pandas.DataFrame
        One row per record, text columns with ``""`` for blanks and the numeric columns
        (``n``, doses, ``orr_events``, ``orr_n``, reported percentages) as floats (NaN blank).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    MissingRadiotherapyColumnError
        A column the chapter needs is missing.
    RadiotherapyInputError
        A numeric column holds text, or response counts are inconsistent.
    """
    path = Path(path) if path is not None else LITERATURE_PATH
    if not path.is_file():
        raise FileNotFoundError(f"load_literature: no literature table at {path}")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    _require(table, _LITERATURE_REQUIRED, "load_literature", f"the table {path.name}")
    for column in _LITERATURE_NUMERIC:
        if column not in table.columns:
            continue
        text = table[column].str.strip().replace("", np.nan)
        numbers = pd.to_numeric(text, errors="coerce")
        bad = text.notna() & numbers.isna()
        if bad.any():
            raise RadiotherapyInputError(
                f"load_literature: column {column!r} of {path.name} has non-numeric values in "
                f"{int(bad.sum())} row(s), e.g. {table.loc[bad, 'study_id'].head(3).tolist()}")
        table[column] = numbers.astype(float)
    events, totals = table["orr_events"], table["orr_n"]
    bad = (events.notna() != totals.notna()) | (events > totals) | (totals <= 0)
    if bad.any():
        raise RadiotherapyInputError(
            "load_literature: orr_events and orr_n must both be given, with 0 <= events <= n; "
            f"broken in {table.loc[bad, 'study_id'].tolist()}")
    if table["study_id"].duplicated().any():
        raise RadiotherapyInputError(
            "load_literature: study_id must be unique; duplicated: "
            f"{table.loc[table['study_id'].duplicated(), 'study_id'].tolist()}")
    return table


def _short_source(source: str) -> str:
    """'Lin J, et al. 2022, Radiat Oncol (ref. 100)' -> 'Lin 2022'."""
    author = source.split(",")[0].split(" ")[0] if source else "?"
    year = next((tok.strip(",.") for tok in source.split() if tok.strip(",.").isdigit()
                 and len(tok.strip(",.")) == 4), "")
    return f"{author} {year}".strip()


def _poolable(table: pd.DataFrame) -> pd.Series:
    """Rows that may enter a pooled estimate (data/radiotherapy/README.md, 'Which rows ...')."""
    return ((table["record_type"] == "text") & (table["arm_role"] == "rt")
            & table["orr_events"].notna() & (table["response_unit"] == "patient")
            & (table["setting"] != "") & (table["response_scope"] != ""))


def literature_response_rows(literature: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Every literature row that reports a response figure, with what the chapter does with it.

    A row is *shown* in the forest plot when its response is a patient-level figure: with
    counts (events/n) it gets a Wald confidence interval on the logit scale (metafor's
    ``escalc(measure="PLO")`` with 0.5 added to 0 or n events, as used for pooling); with a
    printed percentage only it is shown as a point without interval. A Table 2 row whose linked
    text rows already report a figure is a duplicate and is not shown again; a percentage whose
    unit cannot be a patient rate (``response_unit == "unclear"``) is not shown.

    Parameters
    ----------
    literature : pandas.DataFrame
        From :func:`load_literature`.
    level : float, default 0.95
        Confidence level of the per-study intervals.

    Returns
    -------
    pandas.DataFrame
        Columns ``study_id, label, setting, response_scope, rt_modality, arm_role, events, n,
        orr, ci_low, ci_high, orr_pct_reported, shown, poolable, reason`` (proportions on the
        0-1 scale), ordered by setting, scope, arm role and modality.
    """
    where = "literature_response_rows"
    _require(literature, _LITERATURE_REQUIRED, where, "the literature table")
    table = literature[literature["record_type"] != "ongoing"]
    has_figure = table["orr_events"].notna() | table["orr_pct_reported"].notna()
    table = table[has_figure]
    with_figure = set(table["study_id"])
    rows = []
    poolable = _poolable(table)
    for index, row in table.iterrows():
        linked = [s for s in str(row["linked_ids"]).split(";") if s]
        events, n = row["orr_events"], row["orr_n"]
        if row["record_type"] == "table2" and any(s in with_figure for s in linked):
            shown, reason = False, "Table 2 duplicate of text row(s) " + ", ".join(
                s for s in linked if s in with_figure)
        elif row["response_unit"] == "unclear":
            shown, reason = False, "percentage cannot be a patient-level rate (unit unclear)"
        elif pd.notna(events):
            shown, reason = True, "counts"
        else:
            shown, reason = True, "printed percentage only (no counts derivable)"
        if shown and row["arm_role"] == "icb_alone":
            reason += "; ICB-alone comparator, not an RT result"
        orr = ci_low = ci_high = np.nan
        if pd.notna(events):
            one = meta_proportions([events], [n], "logit", level)
            orr = events / n
            ci_low, ci_high = float(one.study_ci_low[0]), float(one.study_ci_high[0])
        elif pd.notna(row["orr_pct_reported"]):
            orr = row["orr_pct_reported"] / 100.0
        arm = str(row["arm"])
        arm = arm if len(arm) <= 48 else arm[:47] + "…"
        label = _short_source(str(row["source"]))
        label += f": {arm}" if arm else ""
        label += f" (Table 2, row {int(row['table2_row'])})" if row["record_type"] == "table2" \
            and pd.notna(row.get("table2_row")) else ""
        rows.append({
            "study_id": row["study_id"],
            "label": label,
            "setting": row["setting"], "response_scope": row["response_scope"] or "unreported",
            "rt_modality": row["rt_modality"] or "not given", "arm_role": row["arm_role"],
            "events": events, "n": n if pd.notna(n) else row["n"], "orr": orr,
            "ci_low": ci_low, "ci_high": ci_high,
            "orr_pct_reported": row["orr_pct_reported"], "shown": shown,
            "poolable": bool(poolable.loc[index]), "reason": reason,
        })
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    return out.sort_values(["setting", "response_scope", "arm_role", "rt_modality", "study_id"],
                           ascending=[False, True, False, True, True],
                           kind="stable").reset_index(drop=True)


def pool_literature(literature: pd.DataFrame, min_studies: int = MIN_STUDIES_TO_POOL,
                    level: float = 0.95) -> pd.DataFrame:
    """Random-effects pooled objective response per comparable subgroup of the literature.

    Comparable rows (DESIGN §4, ``data/radiotherapy/README.md``): text records of RT arms with
    patient-level response counts, grouped by setting (salvage after ICB failure vs RT with ICB
    in ICB-naive patients) and response scope (overall, in-field, out-of-field); within each,
    one subgroup per RT modality plus one over all modalities. A subgroup with at least
    ``min_studies`` rows is pooled with :func:`meta_proportions` (DerSimonian–Laird) on the
    logit scale (primary) and the Freeman–Tukey scale (check); a smaller one is listed with
    its studies and ``status`` saying it is shown, not pooled.

    Parameters
    ----------
    literature : pandas.DataFrame
        From :func:`load_literature`.
    min_studies : int, default 3
        Fewest studies to pool.
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        One row per subgroup: ``setting, response_scope, rt_modality, k, events, n, studies,
        status``, and for pooled subgroups ``pooled_logit, ci_low_logit, ci_high_logit, tau2,
        i2_pct, q, df, p_q, pooled_ft, ci_low_ft, ci_high_ft`` (proportions on the 0-1 scale;
        heterogeneity of the logit model).
    """
    where = "pool_literature"
    _require(literature, _LITERATURE_REQUIRED, where, "the literature table")
    if not (isinstance(min_studies, (int, np.integer)) and min_studies >= 2):
        raise RadiotherapyInputError(f"{where}: min_studies must be a whole number >= 2, "
                                     f"got {min_studies!r}")
    rows = literature[_poolable(literature)]
    columns = ["setting", "response_scope", "rt_modality", "k", "events", "n", "studies",
               "status", "pooled_logit", "ci_low_logit", "ci_high_logit", "tau2", "i2_pct",
               "q", "df", "p_q", "pooled_ft", "ci_low_ft", "ci_high_ft"]
    out = []
    for (setting, scope), group in rows.groupby(["setting", "response_scope"], sort=True):
        modalities = sorted(m for m in group["rt_modality"].unique() if m not in ("", "mixed"))
        subgroups = [(m, group[group["rt_modality"] == m]) for m in modalities]
        subgroups.append(("all modalities", group))
        for modality, sub in subgroups:
            k = len(sub)
            record = {"setting": setting, "response_scope": scope, "rt_modality": modality,
                      "k": k, "events": int(sub["orr_events"].sum()),
                      "n": int(sub["orr_n"].sum()),
                      "studies": "; ".join(sub["study_id"])}
            if k >= min_studies:
                events = pd.Series(sub["orr_events"].to_numpy(), index=sub["study_id"])
                logit = meta_proportions(events, sub["orr_n"].to_numpy(), "logit", level)
                ft = meta_proportions(events, sub["orr_n"].to_numpy(), "freeman-tukey", level)
                record.update(status="pooled", pooled_logit=logit.pooled,
                              ci_low_logit=logit.ci_low, ci_high_logit=logit.ci_high,
                              tau2=logit.tau2, i2_pct=logit.i2, q=logit.q, df=logit.df,
                              p_q=logit.p_q, pooled_ft=ft.pooled, ci_low_ft=ft.ci_low,
                              ci_high_ft=ft.ci_high)
            else:
                record["status"] = f"shown, not pooled (k = {k} < {min_studies})"
            out.append(record)
    return pd.DataFrame(out, columns=columns)


_SETTING_PHRASES = {"salvage_after_icb_failure": "given as salvage after ICB failure",
                    "rt_with_icb_naive": "given with ICB to ICB-naive patients"}


def literature_statement(responses: pd.DataFrame, pooled: pd.DataFrame) -> str:
    """One plain sentence on what the literature table allows, computed from the tables.

    Parameters
    ----------
    responses, pooled : pandas.DataFrame
        From :func:`literature_response_rows` and :func:`pool_literature`.
    """
    shown = responses[responses["shown"]] if len(responses) else responses
    rt_shown = shown[shown["arm_role"] == "rt"] if len(shown) else shown
    with_counts = int(rt_shown["events"].notna().sum()) if len(rt_shown) else 0
    n_pooled = int((pooled["status"] == "pooled").sum()) if len(pooled) else 0
    largest = int(pooled["k"].max()) if len(pooled) else 0
    text = (f"{len(rt_shown)} RT arm(s) report a patient-level response figure, {with_counts} "
            f"with counts; ")
    if n_pooled == 0:
        text += (f"no comparable subgroup (same setting and response scope) has the "
                 f"{MIN_STUDIES_TO_POOL} studies needed to pool (the largest has {largest}), so "
                 "nothing is pooled and every study is shown on its own.")
    else:
        text += f"{n_pooled} subgroup(s) have enough comparable studies to be pooled."
    for setting, group in (rt_shown.groupby("setting", sort=False) if len(rt_shown) else []):
        orr = 100 * group["orr"]
        text += (f" RT arms {_SETTING_PHRASES.get(setting, setting)} report objective "
                 f"responses from {orr.min():.0f}% to {orr.max():.0f}% ({len(group)} arm(s)).")
    return text


# --------------------------------------------------------------------------------------------
# (b) cohort: courses, doses, timing
# --------------------------------------------------------------------------------------------

def eqd2_group_labels(edges: Sequence[float] = EQD2_GROUP_EDGES_GY) -> list[str]:
    """Labels of the EQD2 groups defined by ``edges`` (e.g. ``['< 20 Gy', '20–50 Gy', ...]``)."""
    edges = [float(e) for e in edges]
    if not edges or any(b <= a for a, b in zip(edges, edges[1:])) or edges[0] <= 0:
        raise RadiotherapyInputError(
            f"eqd2 group edges must be positive and strictly increasing, got {edges}")
    fmt = [f"{e:g}" for e in edges]
    labels = [f"< {fmt[0]} Gy"]
    labels += [f"{a}–{b} Gy" for a, b in zip(fmt, fmt[1:])]
    labels.append(f"≥ {fmt[-1]} Gy")
    return labels


def rt_courses(radiotherapy: pd.DataFrame, patients: pd.DataFrame, alpha_beta: float = 10.0,
               eqd2_edges_gy: Sequence[float] = EQD2_GROUP_EDGES_GY) -> pd.DataFrame:
    """Annotate every RT course with its timing, dose metrics, modality and EQD2 group.

    Parameters
    ----------
    radiotherapy : pandas.DataFrame
        The cohort's radiotherapy table (``patient_id, start_day, total_dose_gy, fractions``
        and optionally ``site, technique, in_field_response, out_of_field_response``).
    patients : pandas.DataFrame
        One row per patient with ``patient_id`` and ``progression_day`` of the index course
        (NaN if none), e.g. :func:`helpers.analysis.derive.patient_table`.
    alpha_beta : float, default 10
        α/β ratio (Gy) for BED and EQD2.
    eqd2_edges_gy : sequence of float
        Upper edges of the EQD2 groups (a course at an edge belongs to the group above it).

    Returns
    -------
    pandas.DataFrame
        The input columns plus ``timing`` (one of :data:`RT_TIMINGS`), ``days_from_progression``,
        ``dose_per_fraction_gy``, ``bed_gy``, ``eqd2_gy``, ``modality``
        (:func:`classify_modality`), ``eqd2_group`` (ordered categorical) and
        ``first_after_progression`` (the patient's first course on or after progression: the
        start of the exposure). Sorted by patient and start day.
    """
    where = "rt_courses"
    _require(radiotherapy, ["patient_id", "start_day", "total_dose_gy", "fractions"], where,
             "the radiotherapy table")
    _require(patients, ["patient_id", "progression_day"], where, "the patient table")
    if patients["patient_id"].duplicated().any():
        raise RadiotherapyInputError(f"{where}: the patient table must have one row per patient")
    unknown = ~radiotherapy["patient_id"].isin(patients["patient_id"])
    if unknown.any():
        raise RadiotherapyInputError(
            f"{where}: {int(unknown.sum())} RT course(s) belong to patients missing from the "
            "patient table")
    start = pd.to_numeric(radiotherapy["start_day"], errors="coerce")
    if start.isna().any():
        raise RadiotherapyInputError(
            f"{where}: start_day is missing or not a number in {int(start.isna().sum())} "
            "RT course(s); the timing of a course relative to progression must be known")
    courses = radiotherapy.copy()
    courses["start_day"] = start.astype(float)
    total = courses["total_dose_gy"].astype(float)
    fractions = courses["fractions"].astype(float)
    progression = courses["patient_id"].map(
        patients.set_index("patient_id")["progression_day"]).astype(float)
    after = progression.notna() & (courses["start_day"] >= progression)
    timing = np.where(courses["start_day"] < 0, RT_TIMINGS[0],
                      np.where(after, RT_TIMINGS[2], RT_TIMINGS[1]))
    courses["timing"] = pd.Categorical(timing, categories=list(RT_TIMINGS), ordered=True)
    courses["days_from_progression"] = courses["start_day"] - progression
    courses["dose_per_fraction_gy"] = total / fractions
    courses["bed_gy"] = bed(total, fractions, alpha_beta)
    courses["eqd2_gy"] = eqd2(total, fractions, alpha_beta)
    courses["modality"] = classify_modality(total, fractions)
    labels = eqd2_group_labels(eqd2_edges_gy)
    bins = [-np.inf, *[float(e) for e in eqd2_edges_gy], np.inf]
    courses["eqd2_group"] = pd.cut(courses["eqd2_gy"], bins=bins, labels=labels, right=False,
                                   ordered=True)
    courses = courses.sort_values(["patient_id", "start_day"], kind="stable")
    courses = courses.reset_index(drop=True)
    post = courses[courses["timing"] == RT_TIMINGS[2]]
    first = post.groupby("patient_id", sort=False).head(1).index
    courses["first_after_progression"] = courses.index.isin(first)
    return courses


def rt_timing_table(courses: pd.DataFrame) -> pd.DataFrame:
    """Courses and patients by timing, and whether the timing counts as the exposure.

    Parameters
    ----------
    courses : pandas.DataFrame
        From :func:`rt_courses`.
    """
    _require(courses, ["patient_id", "timing"], "rt_timing_table", "the course table")
    grouped = courses.groupby("timing", observed=False)
    table = pd.DataFrame({
        "courses": grouped.size().astype(int),
        "patients": grouped["patient_id"].nunique().astype(int),
    })
    table["exposure in this chapter"] = ["no (before ICB)", "no (not after progression)",
                                         "yes (from the first such course)"]
    table.index = table.index.astype(str)
    table.index.name = "RT course timing"
    return table


def modality_table(courses: pd.DataFrame) -> pd.DataFrame:
    """RT courses after progression by modality: counts and dose summaries.

    Parameters
    ----------
    courses : pandas.DataFrame
        From :func:`rt_courses` (only courses with timing ``after progression`` are used).

    Returns
    -------
    pandas.DataFrame
        One row per modality (in :data:`MODALITY_CLASSES` order, then all): ``courses``,
        ``patients``, dose per fraction range, and median (quartiles) of BED and EQD2 in Gy.
    """
    _require(courses, ["timing", "modality", "patient_id", "dose_per_fraction_gy", "bed_gy",
                       "eqd2_gy"], "modality_table", "the course table")
    post = courses[courses["timing"] == RT_TIMINGS[2]]
    rows = []
    groups = [(m, post[post["modality"] == m]) for m in MODALITY_CLASSES]
    groups.append(("all", post))
    for name, sub in groups:
        if name != "all" and sub.empty:
            continue
        q = sub[["bed_gy", "eqd2_gy"]].quantile([0.25, 0.5, 0.75])
        rows.append({
            "modality": name, "courses": int(len(sub)),
            "patients": int(sub["patient_id"].nunique()),
            "dose per fraction min (Gy)": sub["dose_per_fraction_gy"].min(),
            "dose per fraction max (Gy)": sub["dose_per_fraction_gy"].max(),
            "BED median (Gy)": q.loc[0.5, "bed_gy"],
            "EQD2 median (Gy)": q.loc[0.5, "eqd2_gy"],
            "EQD2 Q1 (Gy)": q.loc[0.25, "eqd2_gy"], "EQD2 Q3 (Gy)": q.loc[0.75, "eqd2_gy"],
        })
    return pd.DataFrame(rows).set_index("modality")


# --------------------------------------------------------------------------------------------
# (b) cohort: survival after progression with RT as a time-varying exposure
# --------------------------------------------------------------------------------------------

def post_progression_table(patients: pd.DataFrame, courses: pd.DataFrame) -> pd.DataFrame:
    """One row per patient who progressed: survival after progression, RT timing, covariates.

    Time origin is the progression day of the index ICB course. ``rt_day`` is the start of the
    first RT course on or after progression (days from progression; NaN if none); RT starting
    on or after the end of follow-up is no exposure (it cannot have changed the outcome).
    Patients whose follow-up ends on the progression day have no time at risk and are left out
    (counted in ``result.attrs["excluded_no_followup"]``).

    Parameters
    ----------
    patients : pandas.DataFrame
        :func:`helpers.analysis.derive.patient_table` (needs ``patient_id, cancer_type,
        progression_day, pps_days, pps_event, resistance_class, ecog, age_at_icb, sex, line,
        tmb``).
    courses : pandas.DataFrame
        From :func:`rt_courses`.

    Returns
    -------
    pandas.DataFrame
        ``patient_id, cancer_type, pps_days, event, rt_day, ever_rt`` and the covariates
        ``ecog, acquired, class_not_evaluable, age_per_10y, male, line, log2_tmb`` (floats, NaN
        where unknown; ``log2_tmb`` is log2(TMB + 1) so that a TMB of 0 is allowed).
    """
    where = "post_progression_table"
    _require(patients, ["patient_id", "cancer_type", "progression_day", "pps_days", "pps_event",
                        "resistance_class", "ecog", "age_at_icb", "sex", "line", "tmb"],
             where, "the patient table")
    _require(courses, ["patient_id", "start_day", "first_after_progression"], where,
             "the course table")
    prog = patients[patients["progression_day"].notna()].copy()
    no_time = ~(prog["pps_days"].astype(float) > 0)
    first = courses[courses["first_after_progression"]].set_index("patient_id")["start_day"]
    data = pd.DataFrame({
        "patient_id": prog["patient_id"].to_numpy(),
        "cancer_type": prog["cancer_type"].fillna("unknown").astype(str).to_numpy(),
        "pps_days": prog["pps_days"].astype(float).to_numpy(),
        "event": prog["pps_event"].astype(float).to_numpy(),
    })
    data["rt_day"] = (prog["patient_id"].map(first).astype(float)
                      - prog["progression_day"].astype(float)).to_numpy()
    data["ever_rt"] = (data["rt_day"] < data["pps_days"]).astype(float)
    cls = prog["resistance_class"].to_numpy()
    known_class = pd.notna(cls)
    data["ecog"] = pd.to_numeric(prog["ecog"], errors="coerce").to_numpy(dtype=float)
    data["acquired"] = np.where(known_class, cls == "acquired", np.nan).astype(float)
    data["class_not_evaluable"] = np.where(known_class, cls == "not_evaluable",
                                           np.nan).astype(float)
    data["age_per_10y"] = pd.to_numeric(prog["age_at_icb"], errors="coerce").to_numpy() / 10
    sex = prog["sex"].astype(object).to_numpy()
    data["male"] = np.where(np.isin(sex, ["male", "female"]), sex == "male", np.nan).astype(float)
    data["line"] = pd.to_numeric(prog["line"], errors="coerce").to_numpy(dtype=float)
    data["log2_tmb"] = np.log2(pd.to_numeric(prog["tmb"], errors="coerce").to_numpy(float) + 1)
    data = data[~no_time.to_numpy()].reset_index(drop=True)
    if data["event"].isna().any():
        raise RadiotherapyInputError(
            f"{where}: pps_event is missing for {int(data['event'].isna().sum())} progressed "
            "patient(s)")
    data["event"] = data["event"].astype(int)
    data.attrs["excluded_no_followup"] = int(no_time.sum())
    return data


@dataclass(frozen=True)
class RTSurvivalResult:
    """Result of :func:`rt_survival_analysis`.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row per model (see :func:`rt_survival_analysis`).
    primary : pandas.DataFrame
        Hazard-ratio table of the primary (adjusted, time-varying) model with readable labels;
        empty if it could not be fitted.
    notes : tuple of str
        What was dropped, excluded or could not be fitted, in plain sentences.
    landmark : dict
        Landmark time and attrition (``helpers.stats.survival.landmark``'s ``attrs``).
    """

    estimates: pd.DataFrame
    primary: pd.DataFrame
    notes: tuple[str, ...]
    landmark: dict


def _prepare_covariates(data: pd.DataFrame, covariates: Sequence[str], model: str,
                        notes: list[str], count_format: Callable[[int], str] = str,
                        ) -> tuple[pd.DataFrame, list[str]]:
    """Drop unrecorded or constant covariates (with a note) and incomplete rows."""
    kept = []
    for column in covariates:
        if data[column].isna().all():
            notes.append(f"{model}: {COVARIATE_LABELS.get(column, column)} is not recorded in "
                         "this cohort, so the model cannot adjust for it.")
        else:
            kept.append(column)
    complete = data.dropna(subset=kept)
    if len(complete) < len(data):
        notes.append(f"{model}: {count_format(len(data) - len(complete))} patient(s) with a "
                     "missing covariate are left out (complete cases).")
    final = []
    for column in kept:
        if complete[column].nunique() < 2:
            notes.append(f"{model}: {COVARIATE_LABELS.get(column, column)} does not vary among "
                         "the patients analysed and is left out.")
        else:
            final.append(column)
    return complete, final


def rt_survival_analysis(
    data: pd.DataFrame,
    adjust_for: Sequence[str] = DEFAULT_ADJUSTMENT,
    *,
    sensitivity_covariates: Sequence[str] = ("log2_tmb",),
    strata: str | None = "cancer_type",
    landmark_days: float = 3 * DAYS_PER_MONTH,
    min_exposed_events: int = 5,
    count_format: Callable[[int], str] = str,
) -> RTSurvivalResult:
    """Effect of RT after progression on survival: the biased comparisons and the corrected one.

    The models, in the order of the ``estimates`` table:

    1. ``naive``: Cox model of "RT at any time after progression" vs "no RT" as a *baseline*
       group, unadjusted and unstratified. **Biased** in two ways: immortal time (a patient
       must survive until RT to be in the RT group, and that survival is credited to RT) and
       confounding by indication (fitter patients, with a better performance status, are the
       ones offered RT).
    2. ``baseline group, adjusted``: the same group, adjusted and stratified like the primary
       model: still biased by immortal time.
    3. ``time-varying, unadjusted``: RT as a time-varying exposure (a patient contributes
       unexposed time until the first RT fraction, exposed time afterwards; Cox on the
       counting process, stratified): no immortal time, still confounded.
    4. ``time-varying, adjusted`` (**primary**): plus the adjustment covariates. ECOG
       performance status is the observed confounder (it drives both who is offered RT and
       survival); cancer type is a stratum (own baseline hazard; RT practice differs by type).
       The resistance class (acquired / not evaluable vs primary), age, sex and line are strong
       prognostic factors: they are not needed to remove confounding where they do not affect
       who gets RT, but hazard ratios are non-collapsible, so leaving a strong prognostic factor
       out moves the RT hazard ratio towards 1; including them targets the hazard ratio
       conditional on them, which is the one a simulation plants.
    5. ``time-varying, adjusted + sensitivity covariates`` (default: log2 TMB), complete cases.
    6. ``landmark``: patients alive ``landmark_days`` after progression, grouped by RT before
       the landmark or not, survival from the landmark, adjusted as the primary model. RT after
       the landmark counts as "no RT", which dilutes the contrast towards 1.

    Parameters
    ----------
    data : pandas.DataFrame
        From :func:`post_progression_table`.
    adjust_for : sequence of str
        Covariates of the adjusted models (columns of ``data``). A covariate not recorded at all
        is dropped with a note, rows with a missing value are left out (complete cases).
    sensitivity_covariates : sequence of str
        Added to ``adjust_for`` in model 5 (skipped if empty or not recorded).
    strata : str or None, default "cancer_type"
        Stratification column of the adjusted and time-varying models.
    landmark_days : float
        Landmark after progression (days), > 0.
    min_exposed_events : int, default 5
        Fewest deaths after RT needed to fit anything; below it the table says so.
    count_format : callable, default str
        Formats patient counts in the notes (pass :func:`helpers.book.privacy.count_label` to
        suppress small counts for restricted cohorts).

    Returns
    -------
    RTSurvivalResult
        ``estimates`` has one row per model: ``model, design, bias, n_patients, n_exposed,
        n_events, n_exposed_events, hr, ci_low, ci_high, p`` (the hazard ratio of RT).
    """
    where = "rt_survival_analysis"
    needed = ["patient_id", "pps_days", "event", "rt_day", "ever_rt", *adjust_for,
              *sensitivity_covariates] + ([strata] if strata else [])
    _require(data, needed, where, "the post-progression table")
    if not (np.isfinite(landmark_days) and landmark_days > 0):
        raise RadiotherapyInputError(f"{where}: landmark_days must be > 0, got {landmark_days!r}")
    notes: list[str] = []
    strata_cols = [strata] if strata else []
    rows: list[dict[str, Any]] = []
    primary = pd.DataFrame()
    exposed_events = int(((data["ever_rt"] == 1) & (data["event"] == 1)).sum())
    base = {"n_patients": len(data), "n_exposed": int(data["ever_rt"].sum()),
            "n_events": int(data["event"].sum()), "n_exposed_events": exposed_events}
    specs = [
        ("naive: RT ever vs never", "baseline group, unadjusted",
         "biased: immortal time and confounding", "baseline", [], False),
        ("RT ever vs never, adjusted", "baseline group, adjusted, stratified",
         "biased: immortal time", "baseline", list(adjust_for), True),
        ("time-varying, unadjusted", "RT(t), stratified", "biased: confounding",
         "tv", [], True),
        ("time-varying, adjusted (primary)", "RT(t), adjusted, stratified",
         "corrects both (for the observed confounders)", "tv", list(adjust_for), True),
    ]
    extra = [c for c in sensitivity_covariates if c not in adjust_for]
    if extra:
        names = ", ".join(_SHORT_NAMES.get(c, c) for c in extra)
        specs.append((f"time-varying, adjusted + {names}", "RT(t), adjusted, stratified",
                      "sensitivity: complete cases", "tv", list(adjust_for) + extra, True))
    specs.append((f"landmark {landmark_days / DAYS_PER_MONTH:g} months: RT by then vs not",
                  "landmark, adjusted, stratified", "check: dilutes towards 1", "landmark",
                  list(adjust_for), True))
    landmark_info: dict = {}
    if exposed_events < min_exposed_events:
        notes.append(f"Only {count_format(exposed_events)} death(s) after RT (fewer than "
                     f"{min_exposed_events}): the RT effect is not estimated.")
        for model, design, bias, _, _, _ in specs:
            rows.append({"model": model, "design": design, "bias": bias, **base,
                         "hr": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan})
        return RTSurvivalResult(pd.DataFrame(rows), primary, tuple(notes), landmark_info)

    for model, design, bias, kind, covariates, stratify in specs:
        use_strata = strata_cols if stratify else []
        frame, covs = _prepare_covariates(data, covariates, model, notes, count_format)
        info = {"n_patients": len(frame), "n_events": int(frame["event"].sum())}
        try:
            if kind == "baseline":
                fit_frame = frame[["pps_days", "event", "ever_rt", *covs, *use_strata]]
                fitted = survival.cox(fit_frame, "pps_days", "event", strata=use_strata or None)
                term = "ever_rt"
                exposed = frame["ever_rt"] == 1
            elif kind == "tv":
                fit_frame = frame[["patient_id", "pps_days", "event", "rt_day", *covs,
                                   *use_strata]]
                long = survival.to_counting_process(fit_frame, "patient_id", "pps_days", "event",
                                                    "rt_day", exposure_col="rt")
                fitted = survival.cox_time_varying(long, "patient_id", "start", "stop", "event",
                                                   strata=use_strata or None)
                term = "rt"
                exposed = frame["ever_rt"] == 1
            else:
                marked = survival.landmark(
                    frame[["pps_days", "event", "rt_day", *covs, *use_strata]], landmark_days,
                    "pps_days", "event", known_by_landmark_col="rt_day",
                    group_col="rt_by_landmark")
                landmark_info = dict(marked.attrs["landmark"])
                fitted = survival.cox(marked.drop(columns=["rt_day"]), "pps_days", "event",
                                      strata=use_strata or None)
                term = "rt_by_landmark"
                info = {"n_patients": len(marked), "n_events": int(marked["event"].sum())}
                exposed = marked["rt_by_landmark"] == 1
                frame = marked
        except Exception as exc:  # a sparse cohort can make a model singular: say so, go on
            notes.append(f"{model}: could not be fitted ({type(exc).__name__}: {exc}).")
            rows.append({"model": model, "design": design, "bias": bias, **base, **info,
                         "hr": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan})
            continue
        table = survival.hazard_ratio_table(fitted).set_index("covariate")
        rows.append({"model": model, "design": design, "bias": bias, **info,
                     "n_exposed": int(exposed.sum()),
                     "n_exposed_events": int((exposed & (frame["event"] == 1)).sum()),
                     "hr": table.loc[term, "hr"], "ci_low": table.loc[term, "ci_low"],
                     "ci_high": table.loc[term, "ci_high"], "p": table.loc[term, "p"]})
        if model.endswith("(primary)"):
            primary = table.reset_index()[["covariate", "hr", "ci_low", "ci_high", "p"]]
            primary.insert(0, "term", primary["covariate"].map(COVARIATE_LABELS).fillna(
                primary["covariate"]))
            primary = primary.drop(columns="covariate")
    columns = ["model", "design", "bias", "n_patients", "n_exposed", "n_events",
               "n_exposed_events", "hr", "ci_low", "ci_high", "p"]
    return RTSurvivalResult(pd.DataFrame(rows)[columns], primary, tuple(notes), landmark_info)


# --------------------------------------------------------------------------------------------
# (b) cohort: in-field and out-of-field response
# --------------------------------------------------------------------------------------------

_SCOPES = {"in_field_response": "in-field", "out_of_field_response": "out-of-field (abscopal)"}


def exact_binomial_ci(events: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper–Pearson exact confidence interval of a proportion (NaN, NaN when n = 0)."""
    if n == 0:
        return float("nan"), float("nan")
    if not (0 <= events <= n):
        raise RadiotherapyInputError(f"exact_binomial_ci: need 0 <= events <= n, got {events}/{n}")
    alpha = 1 - level
    low = stats.beta.ppf(alpha / 2, events, n - events + 1) if events > 0 else 0.0
    high = stats.beta.ppf(1 - alpha / 2, events + 1, n - events) if events < n else 1.0
    return float(low), float(high)


def response_by_group(courses: pd.DataFrame, by: str = "eqd2_group",
                      level: float = 0.95, min_count: int | None = None) -> pd.DataFrame:
    """In-field and out-of-field (abscopal) objective response of RT courses after progression.

    Objective response = CR or PR among evaluable courses (CR, PR, SD, PD). Courses recorded
    ``NE`` are excluded from the denominator and counted in ``not evaluable (NE)``; courses with
    no record (for out-of-field response: no measurable lesion outside the field) are counted in
    ``not recorded``.

    Parameters
    ----------
    courses : pandas.DataFrame
        From :func:`rt_courses`; only courses with timing ``after progression`` are used.
    by : str, default "eqd2_group"
        Grouping column (e.g. ``"modality"``).
    level : float, default 0.95
        Level of the exact (Clopper–Pearson) interval of the response rate.
    min_count : int, optional
        For restricted cohorts: where the responses or the evaluable courses of a group are
        between 1 and ``min_count - 1``, the rate and its interval are blanked (NaN), since
        they would reveal the suppressed counts.

    Returns
    -------
    pandas.DataFrame
        One row per scope and group: ``scope, group, courses, not recorded, not evaluable (NE),
        evaluable, CR, PR, SD, PD, responses, ORR %, CI low %, CI high %``. Scopes whose column
        is absent from the table are skipped.
    """
    where = "response_by_group"
    _require(courses, ["timing", by], where, "the course table")
    post = courses[courses["timing"] == RT_TIMINGS[2]]
    groups = (list(post[by].cat.categories) if isinstance(post[by].dtype, pd.CategoricalDtype)
              else sorted(post[by].dropna().unique(), key=str))
    rows = []
    for column, scope in _SCOPES.items():
        if column not in post.columns:
            continue
        values = post[column].astype(object)
        bad = values.notna() & ~values.isin([*EVALUABLE_RESPONSES, "NE"])
        if bad.any():
            raise RadiotherapyInputError(
                f"{where}: {column} has values outside CR/PR/SD/PD/NE: "
                f"{sorted(set(values[bad]))[:5]}")
        for group in groups:
            v = values[(post[by] == group).to_numpy()]
            counts = {r: int((v == r).sum()) for r in EVALUABLE_RESPONSES}
            evaluable = sum(counts.values())
            responses = counts["CR"] + counts["PR"]
            low, high = exact_binomial_ci(responses, evaluable, level)
            rate = 100 * responses / evaluable if evaluable else np.nan
            if min_count is not None and any(0 < v < min_count for v in (responses, evaluable)):
                rate = low = high = np.nan
            rows.append({"scope": scope, "group": str(group), "courses": int(len(v)),
                         "not recorded": int(v.isna().sum()),
                         "not evaluable (NE)": int((v == "NE").sum()),
                         "evaluable": evaluable, **counts, "responses": responses,
                         "ORR %": rate, "CI low %": 100 * low, "CI high %": 100 * high})
    return pd.DataFrame(rows)


def response_dose_slope(courses: pd.DataFrame, column: str = "in_field_response",
                        level: float = 0.95) -> pd.Series:
    """Logistic regression of objective response (CR/PR vs SD/PD) on EQD2 (per Gy).

    Parameters
    ----------
    courses : pandas.DataFrame
        From :func:`rt_courses`; evaluable courses after progression are used.
    column : str, default "in_field_response"
        The response column.
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    pandas.Series
        ``n, responses, intercept, slope_per_gy, ci_low, ci_high, or_per_10gy, p`` (Wald); NaN
        when there are fewer than 10 evaluable courses or no variation in response or dose.
    """
    import statsmodels.api as sm

    where = "response_dose_slope"
    _require(courses, ["timing", "eqd2_gy", column], where, "the course table")
    post = courses[(courses["timing"] == RT_TIMINGS[2])
                   & courses[column].isin(EVALUABLE_RESPONSES)]
    y = post[column].isin(["CR", "PR"]).astype(float).to_numpy()
    x = post["eqd2_gy"].astype(float).to_numpy()
    out = {"n": len(post), "responses": int(y.sum()), "intercept": np.nan,
           "slope_per_gy": np.nan, "ci_low": np.nan, "ci_high": np.nan, "or_per_10gy": np.nan,
           "p": np.nan}
    if len(post) < 10 or y.min() == y.max() or np.ptp(x) == 0:
        return pd.Series(out, name=column)
    fit = sm.Logit(y, sm.add_constant(x)).fit(disp=0)
    ci = fit.conf_int(alpha=1 - level)
    out.update(intercept=float(fit.params[0]), slope_per_gy=float(fit.params[1]),
               ci_low=float(ci[1, 0]), ci_high=float(ci[1, 1]),
               or_per_10gy=float(np.exp(10 * fit.params[1])), p=float(fit.pvalues[1]))
    return pd.Series(out, name=column)
