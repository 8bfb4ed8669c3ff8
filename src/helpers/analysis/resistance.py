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
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.units import CLASSES, DAYS_PER_MONTH  # noqa: E402,F401  (the class names and month length live in units)

REASON_NE = "best response not evaluable (NE)"
REASON_EXPOSURE = "exposure shorter than the minimum"
REASON_SHORT_FOLLOWUP = "no progression and follow-up shorter than the benefit window"
REASON_EARLY_PROGRESSION_AFTER_RESPONSE = (
    "response (CR/PR) followed by progression within the benefit window (unclassified by SITC)")
REASON_NO_DATA = "no best response and no progression or assessment data"
REASONS = (REASON_NE, REASON_EXPOSURE, REASON_SHORT_FOLLOWUP,
           REASON_EARLY_PROGRESSION_AFTER_RESPONSE, REASON_NO_DATA)

REGIMEN_GROUPS = {
    "anti-PD-1": "monotherapy",
    "anti-PD-L1": "monotherapy",
    "anti-CTLA-4": "monotherapy",
    "PD-1+CTLA-4": "combination",
    "ICB+chemo": "ICB+chemo",
}


def explain_resistance(icb_courses: pd.DataFrame, benefit_months: float = 6,
                       min_exposure_weeks: float = 6) -> pd.DataFrame:
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
    """
    for col in ("start_day", "best_response", "progression_day", "last_assessment_day"):
        if col not in icb_courses.columns:
            raise KeyError(f"icb_courses: required column '{col}' is missing")
    if benefit_months <= 0 or min_exposure_weeks < 0:
        raise ValueError("benefit_months must be positive and min_exposure_weeks non-negative")
    window = benefit_months * DAYS_PER_MONTH
    min_exposure = min_exposure_weeks * 7.0

    start = pd.to_numeric(icb_courses["start_day"], errors="raise").to_numpy(float)
    prog = pd.to_numeric(icb_courses["progression_day"], errors="raise").to_numpy(float) - start
    last = pd.to_numeric(icb_courses["last_assessment_day"], errors="raise").to_numpy(float) - start
    if "stop_day" in icb_courses.columns:
        stop = pd.to_numeric(icb_courses["stop_day"], errors="raise").to_numpy(float) - start
    else:
        stop = np.full(len(icb_courses), np.nan)
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
    return pd.DataFrame({"resistance_class": cls, "reason": reason, "basis": basis},
                        index=icb_courses.index)


def classify_resistance(icb_courses: pd.DataFrame, benefit_months: float = 6,
                        min_exposure_weeks: float = 6) -> pd.Series:
    """The resistance class of each course, aligned with the input rows.

    One of ``primary``, ``acquired``, ``ongoing_benefit`` or ``not_evaluable``; see
    :func:`explain_resistance` for the reasons and the module docstring for the rule.
    """
    return explain_resistance(icb_courses, benefit_months, min_exposure_weeks)["resistance_class"]


def regimen_group(regimen: pd.Series) -> pd.Series:
    """Monotherapy, combination (PD-1+CTLA-4) or ICB+chemo; 'unknown' where not recorded."""
    return regimen.map(REGIMEN_GROUPS).fillna("unknown")


def class_table(classes: pd.Series, by: pd.Series | None = None) -> pd.DataFrame:
    """Counts of each class (columns, in canonical order), optionally per level of ``by``."""
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
    """Counts of the reasons why courses are not evaluable (the attrition of the classes)."""
    ne = explained[explained["resistance_class"] == "not_evaluable"]
    counts = ne["reason"].value_counts().rename_axis("reason").rename("courses").reset_index()
    counts["% of all courses"] = (100 * counts["courses"] / max(len(explained), 1)).round(1)
    return counts


def benefit_window_sensitivity(icb_courses: pd.DataFrame, windows_months: tuple[float, ...] =
                               (3, 6, 12), min_exposure_weeks: float = 6) -> pd.DataFrame:
    """Class counts for each benefit window (rows) — how the classes move with the window."""
    rows = {}
    for w in windows_months:
        cls = classify_resistance(icb_courses, w, min_exposure_weeks)
        rows[f"{w:g} months"] = cls.value_counts().reindex(CLASSES, fill_value=0)
    out = pd.DataFrame(rows).T
    out["total"] = out.sum(axis=1)
    return out


def class_transitions(icb_courses: pd.DataFrame, from_months: float, to_months: float,
                      min_exposure_weeks: float = 6) -> pd.DataFrame:
    """Cross-table of classes under two benefit windows (rows: ``from``, columns: ``to``)."""
    a = pd.Categorical(classify_resistance(icb_courses, from_months, min_exposure_weeks),
                       categories=CLASSES)
    b = pd.Categorical(classify_resistance(icb_courses, to_months, min_exposure_weeks),
                       categories=CLASSES)
    tab = pd.crosstab(pd.Series(a, name=f"{from_months:g} months"),
                      pd.Series(b, name=f"{to_months:g} months"), dropna=False)
    return tab
