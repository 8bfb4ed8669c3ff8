"""The simulator's own resistance classes: the SITC rule of DESIGN §4, written apart from the book's.

Several planted truths depend on a course's resistance class: the acquired-vs-primary hazard
ratio of survival after progression, who is re-biopsied after progression, which
post-progression samples gain a planted LoF and which tumours move to another TME subtype. If the
simulator took these classes from the book's classifier
(:func:`helpers.analysis.resistance.classify_resistance`), a mistake in that classifier would be
copied into the truth and every recovery test would still pass. So the simulator classifies the
fields it generated with this module, an independent implementation of the same rule, and the
tests compare the two course by course.

The book's classifier overwrites class masks in sequence; this one is a decision table: each
course gets a *response group* (row) and a *timing* (column), the table gives the class, and the
exposure rule then withdraws a primary call whose exposure was too short.

The rule (Kluger et al., J Immunother Cancer 2020;8:e000398; DESIGN §4), with the benefit window
``W = benefit_months × 30.4375`` days and all days counted from the course start:

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

* "assessed to ``W``" means the last progression-free assessment is at or after ``W``; an
  unknown last assessment counts as shorter.
* A response (CR/PR) followed by progression before ``W`` is left unclassified, as by SITC.
* Where no best response was recorded the class falls back on progression timing alone.
* Exposure: a ``primary`` call needs a drug exposure (start to stop) of at least
  ``min_exposure_weeks`` × 7 days where the stop day is known; a shorter known exposure makes
  the course ``not_evaluable`` instead. An unknown stop day is not held against a course.

The simulator uses the defaults of DESIGN §4 (6 months, 6 weeks;
:data:`helpers.simulate.params.BENEFIT_MONTHS`, :data:`~helpers.simulate.params.MIN_EXPOSURE_WEEKS`).
The December 2026 revision of DESIGN §4 (six months' exposure for acquired resistance,
progression long after the last dose, ICB+chemo) is not in the book's classifier yet, and so
not here either: when the book's rule changes, this one must follow, and the comparison tests
(``tests/test_simulate.py``) fail until it does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.errors import ParameterError
from helpers.units import CLASSES, DAYS_PER_MONTH

#: Class codes: positions in helpers.units.CLASSES.
PRIMARY = CLASSES.index("primary")
ACQUIRED = CLASSES.index("acquired")
ONGOING = CLASSES.index("ongoing_benefit")
NOT_EVALUABLE = CLASSES.index("not_evaluable")

#: Response groups (rows of the decision table).
_PD, _SD, _RESPONSE, _NOT_RECORDED, _UNUSABLE = range(5)
#: Timings (columns of the decision table).
_EARLY, _LATE, _FOLLOWED, _UNFOLLOWED = range(4)

#: The decision table of the module docstring, as class codes.
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
) -> np.ndarray:
    """The resistance class of each course by the SITC rule (see the module docstring).

    Parameters
    ----------
    best_response
        Best response per course (``CR``, ``PR``, ``SD``, ``PD``, ``NE``; ``None`` where not
        recorded).
    progression_day, last_assessment_day, stop_day
        Days (NaN where there is none or it is unknown): progression, the last progression-free
        assessment, and the end of the drug exposure.
    start_day
        Day the course started (a scalar or one per course).
    benefit_months
        Length of the benefit window in months of :data:`helpers.units.DAYS_PER_MONTH` days.
    min_exposure_weeks
        Minimum known exposure for a primary-resistance call.

    Returns
    -------
    numpy.ndarray
        Object array of class names from :data:`helpers.units.CLASSES`, one per course.

    Raises
    ------
    helpers.errors.ParameterError
        If ``benefit_months`` is not positive or ``min_exposure_weeks`` is negative.
    """
    if benefit_months <= 0 or min_exposure_weeks < 0:
        raise ParameterError(
            f"benefit_months must be positive and min_exposure_weeks non-negative (got {benefit_months!r} "
            f"and {min_exposure_weeks!r})"
        )
    start = np.asarray(start_day, dtype=float)
    progression = np.asarray(progression_day, dtype=float) - start
    last_assessment = np.asarray(last_assessment_day, dtype=float) - start
    exposure = np.asarray(stop_day, dtype=float) - start
    window = benefit_months * DAYS_PER_MONTH

    code = DECISION_TABLE[
        _response_group(np.asarray(best_response, dtype=object)),
        _timing(progression, last_assessment, window),
    ]
    with np.errstate(invalid="ignore"):
        too_short = exposure < min_exposure_weeks * 7.0  # False where the stop day is unknown
    code = np.where((code == PRIMARY) & too_short, NOT_EVALUABLE, code)
    return np.array(CLASSES, dtype=object)[code]
