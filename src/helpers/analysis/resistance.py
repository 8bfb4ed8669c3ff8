"""Resistance classes of an ICB course, after the SITC Immunotherapy Resistance Taskforce.

Kluger HM et al. Defining tumor resistance to PD-1 pathway blockade: recommendations from the
first meeting of the SITC Immunotherapy Resistance Taskforce. J Immunother Cancer 2020;8:e000398.

The rule (DESIGN §4), with ``benefit_months`` (default 6) and ``min_exposure_weeks`` (default 6):

* ``primary``: best response PD, or SD with progression before ``benefit_months``; the exposure
  (start to stop) must be at least ``min_exposure_weeks`` where the stop day is known.
* ``acquired``: best response CR, PR or SD with progression at or after ``benefit_months``.
* ``ongoing_benefit``: best response CR, PR or SD, no progression, last progression-free
  assessment at or after ``benefit_months``.
* ``not_evaluable``: everything else, with the reason kept.

Where the source records no best response the class falls back on progression timing alone.

The classifier (:func:`explain_resistance`) is shared by every chapter through
:func:`helpers.analysis.derive.patient_table`; :func:`class_summary` computes chapter 2's
tables from that patient table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.analysis.result import AnalysisResult
from helpers.errors import ParameterError, Violation, check, raise_violations, require_columns
from helpers.units import CLASSES, DAYS_PER_MONTH

#: Best-response codes of the data model (DESIGN §3); null where the source records none.
BEST_RESPONSES = ("CR", "PR", "SD", "PD", "NE")

#: Columns of ``icb_courses`` the classifier reads (``stop_day`` is optional).
REQUIRED_COLUMNS = ("start_day", "best_response", "progression_day", "last_assessment_day")
#: The columns of days among them (days from the index course start, floats).
DAY_COLUMNS = ("start_day", "progression_day", "last_assessment_day", "stop_day")

REASON_NE = "best response not evaluable (NE)"
REASON_EXPOSURE = "exposure shorter than the minimum"
REASON_SHORT_FOLLOWUP = "no progression and follow-up shorter than the benefit window"
REASON_EARLY_PROGRESSION_AFTER_RESPONSE = (
    "response (CR/PR) followed by progression within the benefit window (unclassified by SITC)"
)
REASON_NO_DATA = "no best response and no progression or assessment data"
REASONS = (
    REASON_NE,
    REASON_EXPOSURE,
    REASON_SHORT_FOLLOWUP,
    REASON_EARLY_PROGRESSION_AFTER_RESPONSE,
    REASON_NO_DATA,
)

REGIMEN_GROUPS = {
    "anti-PD-1": "monotherapy",
    "anti-PD-L1": "monotherapy",
    "anti-CTLA-4": "monotherapy",
    "PD-1+CTLA-4": "combination",
    "ICB+chemo": "ICB+chemo",
}


def explain_resistance(
    icb_courses: pd.DataFrame, benefit_months: float = 6, min_exposure_weeks: float = 6
) -> pd.DataFrame:
    """Classify each course and say why.

    Parameters
    ----------
    icb_courses
        Canonical ``icb_courses`` rows: ``start_day``, ``best_response``, ``progression_day``,
        ``last_assessment_day`` and optionally ``stop_day`` (days, floats).
    benefit_months
        Length of the benefit window in months (30.4375 days each).
    min_exposure_weeks
        Minimum exposure for a primary-resistance call; an unknown stop day is not held
        against a course.

    Returns
    -------
    DataFrame aligned with ``icb_courses`` (same index) with columns ``resistance_class``,
    ``reason`` (empty unless not evaluable) and ``basis`` (``best response`` or
    ``progression timing only`` for sources without a best response).

    Raises
    ------
    InputError
        A required column is missing, a day is not a number, or a best response is not one
        of :data:`BEST_RESPONSES` (or null).
    ParameterError
        ``benefit_months`` is not positive or ``min_exposure_weeks`` is negative.
    """
    if not benefit_months > 0 or not min_exposure_weeks >= 0:
        raise ParameterError(
            f"benefit_months must be positive and min_exposure_weeks non-negative (got "
            f"{benefit_months!r} and {min_exposure_weeks!r})"
        )
    days = _checked_days(icb_courses)
    window = benefit_months * DAYS_PER_MONTH
    min_exposure = min_exposure_weeks * 7.0

    start = days["start_day"]
    prog = days["progression_day"] - start
    last = days["last_assessment_day"] - start
    stop = days["stop_day"] - start
    br = icb_courses["best_response"].astype(object).where(icb_courses["best_response"].notna())
    br = br.to_numpy(dtype=object)

    has_prog = ~np.isnan(prog)
    early = has_prog & (prog < window)
    late = has_prog & (prog >= window)
    long_followup = ~has_prog & ~np.isnan(last) & (last >= window)
    short_exposure = ~np.isnan(stop) & (stop < min_exposure)
    missing = pd.isna(br)
    is_pd = br == "PD"
    is_sd = br == "SD"
    is_resp = (br == "CR") | (br == "PR")
    is_ne = br == "NE"
    benefit_capable = is_sd | is_resp

    n = len(icb_courses)
    cls = np.full(n, "not_evaluable", dtype=object)
    reason = np.full(n, "", dtype=object)

    primary_candidate = is_pd | (is_sd & early) | (missing & early)
    cls[primary_candidate & ~short_exposure] = "primary"
    reason[primary_candidate & short_exposure] = REASON_EXPOSURE
    cls[(benefit_capable | missing) & late] = "acquired"
    cls[(benefit_capable | missing) & long_followup] = "ongoing_benefit"
    reason[(benefit_capable | missing) & ~has_prog & ~long_followup] = REASON_SHORT_FOLLOWUP
    reason[is_resp & early] = REASON_EARLY_PROGRESSION_AFTER_RESPONSE
    reason[is_ne] = REASON_NE
    cls[is_ne] = "not_evaluable"
    no_data = missing & ~has_prog & np.isnan(last)
    reason[no_data] = REASON_NO_DATA

    basis = np.where(missing, "progression timing only", "best response")
    return pd.DataFrame({"resistance_class": cls, "reason": reason, "basis": basis}, index=icb_courses.index)


def _checked_days(icb_courses: pd.DataFrame) -> dict[str, np.ndarray]:
    """The :data:`DAY_COLUMNS` as float arrays (``stop_day`` NaN where absent), after the input checks.

    Missing columns raise an :class:`~helpers.errors.InputError` first; otherwise one
    InputError lists every broken rule: days that are not numbers and best responses outside
    :data:`BEST_RESPONSES`.
    """
    require_columns(icb_courses, REQUIRED_COLUMNS, "icb_courses")
    violations: list[Violation] = []
    days = {}
    for col in DAY_COLUMNS:
        if col not in icb_courses.columns:
            days[col] = np.full(len(icb_courses), np.nan)
            continue
        raw = icb_courses[col]
        value = pd.to_numeric(raw, errors="coerce")
        check(
            violations,
            icb_courses,
            raw.notna() & value.isna(),
            table="icb_courses",
            column=col,
            rule="must be a number of days",
            show=["patient_id"],
        )
        days[col] = value.to_numpy(float)
    response = icb_courses["best_response"]
    check(
        violations,
        icb_courses,
        response.notna() & ~response.isin(BEST_RESPONSES),
        table="icb_courses",
        column="best_response",
        rule=f"must be one of {', '.join(BEST_RESPONSES)} or empty",
        show=["patient_id"],
    )
    raise_violations(violations, "icb_courses cannot be classified")
    return days


def classify_resistance(
    icb_courses: pd.DataFrame, benefit_months: float = 6, min_exposure_weeks: float = 6
) -> pd.Series:
    """The resistance class of each course, aligned with the input rows.

    One of ``primary``, ``acquired``, ``ongoing_benefit`` or ``not_evaluable``; see
    :func:`explain_resistance` for the reasons and the module docstring for the rule.
    """
    return explain_resistance(icb_courses, benefit_months, min_exposure_weeks)["resistance_class"]


def regimen_group(regimen: pd.Series) -> pd.Series:
    """Monotherapy, combination (PD-1+CTLA-4) or ICB+chemo; 'unknown' where not recorded."""
    return regimen.map(REGIMEN_GROUPS).fillna("unknown")


def class_table(classes: pd.Series, by: pd.Series | None = None) -> pd.DataFrame:
    """Counts of each class (columns, in canonical order) and ``total``, optionally per level of ``by``.

    Without ``by`` the one row is labelled ``all``; with it, one row per level of ``by``
    (sorted), aligned with ``classes`` by position. A class no course has is a column of zeros.
    """
    frame = pd.DataFrame({"resistance_class": pd.Categorical(classes, categories=CLASSES)})
    if by is None:
        counts = frame["resistance_class"].value_counts().reindex(CLASSES).to_frame().T
        counts.index = ["all"]
    else:
        frame["group"] = by.to_numpy()
        counts = pd.crosstab(frame["group"], frame["resistance_class"], dropna=False)
        counts = counts.reindex(columns=list(CLASSES), fill_value=0)
    counts.columns.name = None
    counts["total"] = counts.sum(axis=1)
    return counts


def not_evaluable_reasons(explained: pd.DataFrame) -> pd.DataFrame:
    """Counts of the reasons why courses are not evaluable (the attrition of the classes).

    ``explained`` has the columns ``resistance_class`` and ``reason`` of
    :func:`explain_resistance` (e.g. the patient table). Returns one row per reason, most
    frequent first: ``reason``, ``courses`` and ``% of all courses`` (of every row of
    ``explained``, one decimal).
    """
    ne = explained[explained["resistance_class"] == "not_evaluable"]
    counts = ne["reason"].value_counts().rename_axis("reason").rename("courses").reset_index()
    counts["% of all courses"] = (100 * counts["courses"] / max(len(explained), 1)).round(1)
    return counts


def benefit_window_sensitivity(
    icb_courses: pd.DataFrame, windows_months: tuple[float, ...] = (3, 6, 12), min_exposure_weeks: float = 6
) -> pd.DataFrame:
    """Class counts for each benefit window (rows ``"<w> months"``) and ``total``.

    How the classes move with the window: the same courses, classified with each window.
    """
    rows = {}
    for w in windows_months:
        cls = classify_resistance(icb_courses, w, min_exposure_weeks)
        rows[f"{w:g} months"] = cls.value_counts().reindex(CLASSES, fill_value=0)
    out = pd.DataFrame(rows).T
    out["total"] = out.sum(axis=1)
    return out


def class_transitions(
    icb_courses: pd.DataFrame, from_months: float, to_months: float, min_exposure_weeks: float = 6
) -> pd.DataFrame:
    """Cross-table of classes under two benefit windows (rows: ``from``, columns: ``to``).

    Rows and columns are the four classes in canonical order (zeros included); the row axis
    is named ``"<from> months"`` and the column axis ``"<to> months"``.
    """
    a = pd.Categorical(classify_resistance(icb_courses, from_months, min_exposure_weeks), categories=CLASSES)
    b = pd.Categorical(classify_resistance(icb_courses, to_months, min_exposure_weeks), categories=CLASSES)
    tab = pd.crosstab(
        pd.Series(a, name=f"{from_months:g} months"), pd.Series(b, name=f"{to_months:g} months"), dropna=False
    )
    return tab


def classification_basis(explained: pd.DataFrame) -> pd.DataFrame:
    """Courses per basis of the classification (rows) and class (columns, alphabetical).

    Shows how many courses were classified from progression timing alone because the source
    recorded no best response. ``explained`` has the columns ``basis`` and
    ``resistance_class`` (e.g. the patient table).
    """
    return explained.groupby("basis")["resistance_class"].value_counts().unstack(fill_value=0)


def classification_support(index_courses: pd.DataFrame) -> tuple[str, str]:
    """Whether the courses can be classified: ``("yes" | "partly" | "no", what is missing)``.

    "partly": only a best response (no progression-free survival, so only best response PD can
    be called primary) or only progression timing (no best response); "no": neither.
    """
    has_response = index_courses["best_response"].notna().any()
    has_pfs = (
        index_courses["progression_day"].notna().any() or index_courses["last_assessment_day"].notna().any()
    )
    if has_response and has_pfs:
        return "yes", ""
    if has_response:
        return "partly", "no progression-free survival: only best response PD (primary) can be classified"
    if has_pfs:
        return "partly", "no best response: classes from progression timing only"
    return "no", "neither best response nor progression-free survival"


@dataclass(kw_only=True)
class ResistanceClasses(AnalysisResult):
    """Chapter 2's tables: the classes of the index courses, overall and by group.

    Attributes
    ----------
    benefit_months, min_exposure_weeks
        The parameters of the classes.
    support
        ``yes``, ``partly`` or ``no`` (:func:`classification_support`); ``limitation`` says what
        limits a ``partly`` classification, and ``missing`` what the cohort lacks when it is
        ``no`` (every course is then not evaluable).
    overall, by_cancer_type, by_regimen_group, by_regimen, by_cancer_type_and_regimen_group
        :func:`class_table` of the index courses, overall and per group.
    not_evaluable_reasons, basis
        :func:`not_evaluable_reasons` and :func:`classification_basis`.
    window_sensitivity
        :func:`benefit_window_sensitivity` over 3, 6 and 12 months and ``benefit_months``.
    transitions
        :func:`class_transitions` from ``benefit_months`` to each other window (keys, months).
    """

    benefit_months: float
    min_exposure_weeks: float
    support: str
    limitation: str | None
    overall: pd.DataFrame
    not_evaluable_reasons: pd.DataFrame
    basis: pd.DataFrame
    by_cancer_type: pd.DataFrame
    by_regimen_group: pd.DataFrame
    by_regimen: pd.DataFrame
    by_cancer_type_and_regimen_group: pd.DataFrame
    window_sensitivity: pd.DataFrame
    transitions: dict[float, pd.DataFrame] = field(default_factory=dict)


#: Benefit windows (months) of the sensitivity table, besides the chapter's own.
SENSITIVITY_WINDOWS = (3.0, 6.0, 12.0)


def class_summary(
    patients: pd.DataFrame,
    index_courses: pd.DataFrame,
    benefit_months: float = 6,
    min_exposure_weeks: float = 6,
    other_windows: Iterable[float] = (3.0, 12.0),
) -> ResistanceClasses:
    """The tables of chapter 2 from the patient table and the index courses.

    Parameters
    ----------
    patients
        :func:`helpers.analysis.derive.patient_table` of the cohort, made with the same
        ``benefit_months`` and ``min_exposure_weeks``.
    index_courses
        The cohort's index courses (:meth:`helpers.data.cohort.Cohort.index_courses`): the
        sensitivity tables classify them again under other windows.
    benefit_months, min_exposure_weeks
        Parameters of the classes (:func:`explain_resistance`).
    other_windows
        Windows (months) of the transition tables from ``benefit_months``.
    """
    support, what = classification_support(index_courses)
    windows = tuple(sorted({*SENSITIVITY_WINDOWS, float(benefit_months)}))
    cls = patients["resistance_class"]
    return ResistanceClasses(
        missing=f"The cohort records {what}, so every course is not evaluable." if support == "no" else None,
        benefit_months=benefit_months,
        min_exposure_weeks=min_exposure_weeks,
        support=support,
        limitation=what if support == "partly" else None,
        overall=class_table(cls),
        not_evaluable_reasons=not_evaluable_reasons(patients),
        basis=classification_basis(patients),
        by_cancer_type=class_table(cls, patients["cancer_type"]),
        by_regimen_group=class_table(cls, patients["regimen_group"]),
        by_regimen=class_table(cls, patients["regimen"].fillna("unknown")),
        by_cancer_type_and_regimen_group=class_table(
            cls, patients["cancer_type"] + " · " + patients["regimen_group"]
        ),
        window_sensitivity=benefit_window_sensitivity(index_courses, windows, min_exposure_weeks),
        transitions={
            float(other): class_transitions(index_courses, benefit_months, other, min_exposure_weeks)
            for other in other_windows
        },
    )
