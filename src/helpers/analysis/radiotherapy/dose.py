"""Radiobiology of fractionated radiotherapy: BED, EQD2 and dose-based modality classes.

- :func:`bed`, :func:`eqd2`: linear-quadratic biologically effective dose and the equivalent
  dose in 2-Gy fractions (vectorised over scalars, NumPy arrays and pandas Series).
- :func:`classify_modality`: low-dose / conventional / hypofractionated / SBRT classes from the
  dose per fraction and the total dose, with every threshold exposed as a keyword parameter.

Bad doses raise :class:`helpers.errors.InputError` listing every broken rule (DESIGN §3).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from helpers.errors import InputError, Violation, check, raise_violations

__all__ = ["MODALITY_CLASSES", "bed", "classify_modality", "eqd2"]

#: The four dose-based modality classes returned by :func:`classify_modality`.
MODALITY_CLASSES: tuple[str, ...] = ("low_dose", "conventional", "hypofractionated", "SBRT")

ArrayLike = float | int | np.ndarray | pd.Series | list | tuple

#: The table named in error messages about doses.
_DOSE_TABLE = "RT courses"


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
                raise InputError(
                    f"{name}: pandas Series arguments must share the same index "
                    "(align them first; silent alignment would pair the wrong courses)"
                )
    return index


def _to_float_array(value: Any, name: str) -> np.ndarray:
    if isinstance(value, pd.Series):
        value = value.to_numpy()
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: expected numbers, got {value!r}") from exc


def _check_dose_values(
    violations: list[Violation],
    arr: np.ndarray,
    name: str,
    index: pd.Index | None,
    *,
    allow_nan: bool,
    whole: bool = False,
) -> None:
    """Record the values of ``arr`` that are not positive and finite (and whole, if asked).

    NaN is a missing value: allowed for doses and fractions (it gives a missing result), not for
    the α/β ratio. Example rows are labelled by the Series index where there is one.
    """
    flat = np.atleast_1d(arr).ravel()
    labels = index if index is not None and len(index) == flat.size else None
    frame = pd.DataFrame({name: flat}, index=labels)
    nan = np.isnan(flat)
    if not allow_nan:
        check(violations, frame, nan, table=_DOSE_TABLE, column=name, rule="must not be missing (NaN)")
    check(
        violations,
        frame,
        ~nan & ~(np.isfinite(flat) & (flat > 0)),
        table=_DOSE_TABLE,
        column=name,
        rule="must be a positive, finite number",
    )
    if whole:
        fractional = np.isfinite(flat) & (flat != np.round(flat))
        check(
            violations,
            frame,
            fractional,
            table=_DOSE_TABLE,
            column=name,
            rule="a number of fractions must be a whole number",
        )


def _wrap(result: np.ndarray, inputs: dict[str, Any], index: pd.Index | None, name: str):
    """Return ``result`` as the same kind as the inputs."""
    if index is not None:
        return pd.Series(result, index=index, name=name)
    if any(not np.isscalar(v) and np.ndim(v) > 0 for v in inputs.values()):
        return result
    value = result.item()
    return value if value is None or isinstance(value, str) else float(value)


def _dose_inputs(where: str, total_dose_gy: ArrayLike, fractions: ArrayLike, **extra: ArrayLike):
    """Checked, broadcast doses and fractions (and any ``extra`` positive parameter, e.g. α/β)."""
    inputs = {"total_dose_gy": total_dose_gy, "fractions": fractions, **extra}
    index = _common_index(inputs)
    total = _to_float_array(total_dose_gy, "total_dose_gy")
    n = _to_float_array(fractions, "fractions")
    others = {name: _to_float_array(value, name) for name, value in extra.items()}
    violations: list[Violation] = []
    _check_dose_values(violations, total, "total_dose_gy", index, allow_nan=True)
    _check_dose_values(violations, n, "fractions", index, allow_nan=True, whole=True)
    for name, arr in others.items():
        _check_dose_values(violations, arr, name, index, allow_nan=False)
    raise_violations(violations, where)
    try:
        total, n = np.broadcast_arrays(total, n)
    except ValueError as exc:
        raise InputError(
            f"{where}: total_dose_gy and fractions have incompatible shapes {total.shape} and {n.shape}"
        ) from exc
    try:
        broadcast = np.broadcast_arrays(total, n, *others.values())
    except ValueError as exc:
        raise InputError(
            f"{where}: {', '.join(others)} does not broadcast with the doses {total.shape}"
        ) from exc
    return inputs, index, broadcast


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
    InputError
        Non-positive or infinite doses, fractions or α/β; non-integer fractions; Series with
        different indexes; shapes that do not broadcast.

    Examples
    --------
    >>> bed(50, 4)            # SBRT 12.5 Gy x 4, alpha/beta 10
    112.5
    """
    inputs, index, (total, n, ab) = _dose_inputs("bed", total_dose_gy, fractions, alpha_beta=alpha_beta)
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
    InputError
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
            raise InputError(f"{key} must be a positive finite number, got {value!r}")
    if not float(sbrt_max_fractions).is_integer():
        raise InputError(f"sbrt_max_fractions must be a whole number, got {sbrt_max_fractions!r}")
    if not low_dose_max_per_fraction <= conventional_max_per_fraction < sbrt_min_per_fraction:
        raise InputError(
            "thresholds must satisfy low_dose_max_per_fraction <= conventional_max_per_fraction "
            f"< sbrt_min_per_fraction; got {low_dose_max_per_fraction}, "
            f"{conventional_max_per_fraction}, {sbrt_min_per_fraction}"
        )

    inputs, index, (total, n) = _dose_inputs("classify_modality", total_dose_gy, fractions)
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
