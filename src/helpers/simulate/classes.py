"""The simulator's own resistance classes: the SITC rule of DESIGN §4, written apart from the book's.

Several planted truths depend on a course's resistance class: the acquired-vs-primary hazard
ratio of survival after progression, who is re-biopsied after progression, which
post-progression samples gain a planted LoF and which tumours move to another TME subtype. If the
simulator took these classes from the book's classifier
(:func:`helpers.analysis.resistance.classify_resistance`), a mistake in that classifier would be
copied into the truth and every recovery test would still pass. So the simulator classifies the
fields it generated with this module, an independent implementation of the same rule, and the
tests compare the two course by course.

The book's classifier applies its steps as a sequence of masks; this one is two decision tables
(one per regimen rule): each course gets a *response group* (row) and a *timing* (column), the
table of its regimen's rule gives the class, and three withdrawals then turn a call into
``not_evaluable``.

The rule (DESIGN §4, revision of December 2026), with the benefit window
``W = benefit_months × 30.4375`` days and all days counted from the course start.

*Monotherapy rule* (PD-(L)1 monotherapy, Kluger et al., J Immunother Cancer 2020;8:e000398,
Table 1; also every regimen not listed in ``timing_rule_regimens``):

========================  ==============  ==============  ==================  ==================
best response             progression     progression     no progression,     no progression,
                          before ``W``    at/after ``W``  assessed to ``W``   assessed < ``W``
========================  ==============  ==============  ==================  ==================
PD                        primary         primary         primary             primary
SD                        primary         acquired        ongoing_benefit     not_evaluable
CR or PR                  not_evaluable   acquired        ongoing_benefit     not_evaluable
not recorded (fallback)   primary         acquired        ongoing_benefit     not_evaluable
NE, or any other value    not_evaluable   not_evaluable   not_evaluable       not_evaluable
========================  ==============  ==============  ==================  ==================

*Timing rule* (ICB+chemo by default: Rizvi et al., J Immunother Cancer 2023;11:e005920,
Table 3, "regardless of best response"): the same table except that a progression before ``W``
is primary and one at or after ``W`` acquired for every recorded best response but NE (PD
without a progression day stays primary).

* "assessed to ``W``" means the last progression-free assessment is at or after ``W``; an
  unknown last assessment counts as shorter.
* Withdrawals, each only where the stop day (the last dose) is known: a progression more than
  ``max_weeks_after_last_dose`` × 7 days after the last dose makes any call ``not_evaluable``;
  a ``primary`` call needs an exposure (start to last dose) of at least ``min_exposure_weeks`` × 7
  days, an ``acquired`` call one of at least ``min_acquired_exposure_months`` months.

The simulator uses the SITC defaults (6 months, 6 weeks, 6 months, 12 weeks, ICB+chemo). When
the book's rule changes, this one must follow; the comparison tests (``tests/test_simulate.py``)
fail until it does.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from helpers.errors import ParameterError
from helpers.units import CLASSES, DAYS_PER_MONTH

#: Class codes: positions in helpers.units.CLASSES.
PRIMARY = CLASSES.index("primary")
ACQUIRED = CLASSES.index("acquired")
ONGOING = CLASSES.index("ongoing_benefit")
NOT_EVALUABLE = CLASSES.index("not_evaluable")

#: Response groups (rows of the decision tables).
_PD, _SD, _RESPONSE, _NOT_RECORDED, _UNUSABLE = range(5)
#: Timings (columns of the decision tables).
_EARLY, _LATE, _FOLLOWED, _UNFOLLOWED = range(4)

#: The monotherapy decision table of the module docstring, as class codes.
DECISION_TABLE = np.array(
    [
        # early      late       followed   unfollowed
        [PRIMARY, PRIMARY, PRIMARY, PRIMARY],  # PD
        [PRIMARY, ACQUIRED, ONGOING, NOT_EVALUABLE],  # SD
        [NOT_EVALUABLE, ACQUIRED, ONGOING, NOT_EVALUABLE],  # CR or PR
        [PRIMARY, ACQUIRED, ONGOING, NOT_EVALUABLE],  # not recorded
        [NOT_EVALUABLE, NOT_EVALUABLE, NOT_EVALUABLE, NOT_EVALUABLE],  # NE or other
    ]
)
#: The timing-rule decision table (progression timing regardless of best response).
TIMING_DECISION_TABLE = np.array(
    [
        # early      late       followed   unfollowed
        [PRIMARY, ACQUIRED, PRIMARY, PRIMARY],  # PD
        [PRIMARY, ACQUIRED, ONGOING, NOT_EVALUABLE],  # SD
        [PRIMARY, ACQUIRED, ONGOING, NOT_EVALUABLE],  # CR or PR
        [PRIMARY, ACQUIRED, ONGOING, NOT_EVALUABLE],  # not recorded
        [NOT_EVALUABLE, NOT_EVALUABLE, NOT_EVALUABLE, NOT_EVALUABLE],  # NE or other
    ]
)


def _response_group(best_response: np.ndarray) -> np.ndarray:
    """The row of the decision table of each course."""
    recorded = ~pd.isna(best_response)
    group = np.full(len(best_response), _UNUSABLE)
    group[~recorded] = _NOT_RECORDED
    values = np.where(recorded, best_response, "").astype(str)
    group[values == "PD"] = _PD
    group[values == "SD"] = _SD
    group[np.isin(values, ["CR", "PR"])] = _RESPONSE
    return group


def _timing(progression: np.ndarray, last_assessment: np.ndarray, window: float) -> np.ndarray:
    """The column of the decision table of each course (days from the course start)."""
    progressed = ~np.isnan(progression)
    with np.errstate(invalid="ignore"):
        followed = np.nan_to_num(last_assessment, nan=-np.inf) >= window
        before = progression < window
    return np.where(progressed, np.where(before, _EARLY, _LATE), np.where(followed, _FOLLOWED, _UNFOLLOWED))


def sitc_class(
    best_response: np.ndarray,
    progression_day: np.ndarray,
    last_assessment_day: np.ndarray,
    stop_day: np.ndarray,
    start_day: np.ndarray | float = 0.0,
    benefit_months: float = 6.0,
    min_exposure_weeks: float = 6.0,
    *,
    regimen: np.ndarray | None = None,
    min_acquired_exposure_months: float = 6.0,
    max_weeks_after_last_dose: float | None = 12.0,
    timing_rule_regimens: Iterable[str] = ("ICB+chemo",),
) -> np.ndarray:
    """The resistance class of each course by the SITC rule (see the module docstring).

    Parameters
    ----------
    best_response
        Best response per course (``CR``, ``PR``, ``SD``, ``PD``, ``NE``; ``None`` where not
        recorded).
    progression_day, last_assessment_day, stop_day
        Days (NaN where there is none or it is unknown): progression, the last progression-free
        assessment, and the last dose.
    start_day
        Day the course started (a scalar or one per course).
    benefit_months
        Length of the benefit window in months of :data:`helpers.units.DAYS_PER_MONTH` days.
    min_exposure_weeks
        Minimum known exposure for a primary-resistance call.
    regimen
        Regimen per course; ``None`` (or a missing value) means the monotherapy rule. Pass it:
        without it, ICB+chemo courses are classified by the monotherapy rule.
    min_acquired_exposure_months
        Minimum known exposure for an acquired-resistance call.
    max_weeks_after_last_dose
        A progression later than this after a known last dose is not evaluable; ``None``: no
        limit.
    timing_rule_regimens
        Regimens classified by progression timing regardless of best response.

    Returns
    -------
    numpy.ndarray
        Object array of class names from :data:`helpers.units.CLASSES`, one per course.

    Raises
    ------
    helpers.errors.ParameterError
        If ``benefit_months`` is not positive, an exposure minimum is negative or the limit
        after the last dose is not positive.
    """
    if (
        benefit_months <= 0
        or min_exposure_weeks < 0
        or min_acquired_exposure_months < 0
        or (max_weeks_after_last_dose is not None and max_weeks_after_last_dose <= 0)
    ):
        raise ParameterError(
            f"benefit_months and max_weeks_after_last_dose must be positive and the exposure minimums "
            f"non-negative (got {benefit_months!r}, {max_weeks_after_last_dose!r}, {min_exposure_weeks!r} "
            f"and {min_acquired_exposure_months!r})"
        )
    start = np.asarray(start_day, dtype=float)
    progression = np.asarray(progression_day, dtype=float) - start
    last_assessment = np.asarray(last_assessment_day, dtype=float) - start
    exposure = np.asarray(stop_day, dtype=float) - start
    window = benefit_months * DAYS_PER_MONTH
    n = len(progression)
    if regimen is None:
        timing = np.zeros(n, dtype=bool)
    else:
        timing = pd.Series(np.asarray(regimen, dtype=object)).isin(list(timing_rule_regimens)).to_numpy()

    rows = _response_group(np.asarray(best_response, dtype=object))
    cols = _timing(progression, last_assessment, window)
    code = np.where(timing, TIMING_DECISION_TABLE[rows, cols], DECISION_TABLE[rows, cols])

    limit = np.inf if max_weeks_after_last_dose is None else max_weeks_after_last_dose * 7.0
    with np.errstate(invalid="ignore"):  # every comparison with NaN (unknown) is False
        off_treatment = progression - exposure > limit
        primary_short = exposure < min_exposure_weeks * 7.0
        acquired_short = exposure < min_acquired_exposure_months * DAYS_PER_MONTH
    withdrawn = off_treatment | ((code == PRIMARY) & primary_short) | ((code == ACQUIRED) & acquired_short)
    code = np.where(withdrawn, NOT_EVALUABLE, code)
    return np.array(CLASSES, dtype=object)[code]
