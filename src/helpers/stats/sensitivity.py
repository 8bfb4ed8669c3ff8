"""Sensitivity analyses for unmeasured confounding: E-values, and how far an estimate moves.

- :func:`hr_to_rr`: the approximate risk ratio of a hazard ratio (VanderWeele & Ding 2017);
- :func:`evalue_rr`: the E-value of a risk ratio;
- :func:`evalue_hr`: the E-values of a hazard ratio and of its confidence limit nearer 1;
- :func:`shift_towards_null`: the share of a log hazard ratio that another estimate removes.

The E-value (VanderWeele & Ding, *Ann Intern Med* 2017;167:268-274) is the smallest strength of
association, on the risk-ratio scale, that an unmeasured confounder would need to have with both
the exposure and the outcome, beyond the measured covariates, to move the estimate to 1:
``E = RR + sqrt(RR (RR - 1))`` for RR >= 1 (take 1/RR first for RR < 1). The E-value of a
confidence interval is that of its limit nearer 1, and 1 when the interval covers 1. A hazard
ratio is not a risk ratio: where the outcome is common (more than 15% by the end of follow-up,
as death after progression always is), the paper converts it with
``RR ~ (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))``; a rare outcome needs no conversion.

Why hand-written: the formulas are two lines and no Python package in the environment provides
them; they follow the R package ``EValue`` (``evalues.HR``, ``evalues.RR``, ``threshold``) of the
same authors for the null (``true = 1``), checked against its source. Hand-computed values are in
``tests/test_radiotherapy.py``.

This module knows nothing of cohorts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from helpers.errors import InputError, positive_number

__all__ = ["EValues", "evalue_hr", "evalue_rr", "hr_to_rr", "shift_towards_null"]


def hr_to_rr(hr: float, rare: bool = False) -> float:
    """The risk ratio a hazard ratio approximates (VanderWeele & Ding 2017).

    Parameters
    ----------
    hr : float
        A hazard ratio (> 0).
    rare : bool, default False
        True when the outcome is rare (under 15% by the end of follow-up): the hazard ratio then
        approximates the risk ratio itself. False (common outcome):
        ``(1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))``, which is 1 at HR = 1 and pulls every
        other value towards 1 (HR 0.5 -> RR 0.62).

    Returns
    -------
    float
    """
    hr = positive_number(hr, "hr", "hr_to_rr", "a positive, finite ratio")
    if rare:
        return hr
    return (1 - 0.5 ** math.sqrt(hr)) / (1 - 0.5 ** math.sqrt(1 / hr))


def evalue_rr(rr: float) -> float:
    """E-value of a risk ratio: ``RR + sqrt(RR (RR - 1))``, with ``1/RR`` for RR < 1.

    Parameters
    ----------
    rr : float
        A risk ratio (> 0). RR = 1 gives 1.

    Returns
    -------
    float
        The E-value (>= 1).
    """
    rr = positive_number(rr, "rr", "evalue_rr", "a positive, finite ratio")
    if rr < 1:
        rr = 1 / rr
    return rr + math.sqrt(rr * (rr - 1))


@dataclass(frozen=True)
class EValues:
    """E-values of a hazard ratio and of its confidence limit nearer 1.

    Attributes
    ----------
    hr, ci_low, ci_high : float
        The estimate and its interval.
    rr, rr_limit : float
        The risk ratios they correspond to (the limit nearer 1 only).
    limit : str
        ``"ci_high"`` for HR < 1, ``"ci_low"`` for HR > 1, ``"ci_low"`` for HR = 1 (EValue's
        convention); the limit whose E-value is reported.
    covers_null : bool
        The interval includes 1 (its E-value is then 1).
    evalue : float
        E-value of the point estimate.
    evalue_limit : float
        E-value of the limit nearer 1 (1 when the interval covers 1).
    rare : bool
        Whether the outcome was treated as rare (no conversion).
    """

    hr: float
    ci_low: float
    ci_high: float
    rr: float
    rr_limit: float
    limit: str
    covers_null: bool
    evalue: float
    evalue_limit: float
    rare: bool


def evalue_hr(hr: float, ci_low: float, ci_high: float, rare: bool = False) -> EValues:
    """E-values of a hazard ratio and of its confidence limit nearer 1 (null: HR = 1).

    Parameters
    ----------
    hr, ci_low, ci_high : float
        Hazard ratio and confidence limits (positive, ``ci_low <= hr <= ci_high``).
    rare : bool, default False
        The outcome is rare (see :func:`hr_to_rr`); death after progression is common.

    Returns
    -------
    EValues

    Raises
    ------
    helpers.errors.InputError
        A ratio that is not positive and finite, or limits that do not enclose the estimate.
    """
    where = "evalue_hr"
    hr = positive_number(hr, "hr", where, "a positive, finite ratio")
    ci_low = positive_number(ci_low, "ci_low", where, "a positive, finite ratio")
    ci_high = positive_number(ci_high, "ci_high", where, "a positive, finite ratio")
    if not ci_low <= hr <= ci_high:
        raise InputError(
            f"{where}: the interval must enclose the estimate (ci_low <= hr <= ci_high), "
            f"got {ci_low!r} <= {hr!r} <= {ci_high!r}"
        )
    limit = "ci_high" if hr < 1 else "ci_low"
    value = ci_high if hr < 1 else ci_low
    covers = ci_low <= 1 <= ci_high
    rr = hr_to_rr(hr, rare)
    rr_limit = hr_to_rr(value, rare)
    return EValues(
        hr=hr,
        ci_low=ci_low,
        ci_high=ci_high,
        rr=rr,
        rr_limit=rr_limit,
        limit=limit,
        covers_null=covers,
        evalue=evalue_rr(rr),
        evalue_limit=1.0 if covers else evalue_rr(rr_limit),
        rare=rare,
    )


def shift_towards_null(reference_hr: float, other_hr: float) -> float:
    """Share of the reference log hazard ratio that another estimate removes.

    ``1 - log(other) / log(reference)``: 0 when both agree, 1 when the other estimate is 1,
    above 1 when it lies on the other side of 1, negative when it lies further from 1 than the
    reference. Used to say how far a sensitivity analysis moves an estimate towards 1.

    Parameters
    ----------
    reference_hr, other_hr : float
        Positive hazard ratios; the reference must not be exactly 1 (nothing to remove).

    Returns
    -------
    float
    """
    where = "shift_towards_null"
    reference = positive_number(reference_hr, "reference_hr", where, "a positive, finite ratio")
    other = positive_number(other_hr, "other_hr", where, "a positive, finite ratio")
    if reference == 1:
        raise InputError(f"{where}: the reference hazard ratio is 1, so no share of it can be removed")
    return 1 - math.log(other) / math.log(reference)
