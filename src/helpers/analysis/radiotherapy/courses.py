"""RT courses of a cohort: timing relative to progression, dose, modality, and response by dose.

- :func:`rt_courses` (timing, BED/EQD2, modality, EQD2 group per course), :func:`rt_timing_table`,
  :func:`modality_table`, :func:`modality_by_eqd2_group`;
- :func:`response_by_group`, :func:`response_dose_slope`, :func:`response_dose_slopes`
  (in-field and out-of-field response by dose).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from helpers.analysis.radiotherapy.dose import MODALITY_CLASSES, bed, classify_modality, eqd2
from helpers.errors import InputError, Violation, check, raise_violations, require_columns

__all__ = [
    "EQD2_GROUP_EDGES_GY",
    "EVALUABLE_RESPONSES",
    "RESPONSE_COUNT_COLUMNS",
    "RT_TIMINGS",
    "eqd2_group_labels",
    "modality_by_eqd2_group",
    "modality_table",
    "response_by_group",
    "response_dose_slope",
    "response_dose_slopes",
    "rt_courses",
    "rt_timing_table",
]

#: Upper edges (Gy EQD2) of the dose groups: < 20 Gy (low-dose and single palliative fractions),
#: 20-50 Gy (most palliative and moderately hypofractionated courses, EQD2 of 30 Gy x 10 is
#: 32.5 Gy), >= 50 Gy (radical conventional courses and ablative SBRT).
EQD2_GROUP_EDGES_GY: tuple[float, ...] = (20.0, 50.0)

#: Timing of an RT course relative to the index ICB course (only the last one is an exposure).
RT_TIMINGS: tuple[str, ...] = ("before ICB", "after ICB start, before any progression", "after progression")

#: Response categories of the radiotherapy table that can be evaluated (NE and missing cannot).
EVALUABLE_RESPONSES: tuple[str, ...] = ("CR", "PR", "SD", "PD")


# --------------------------------------------------------------------------------------------
# (b) cohort: courses, doses, timing
# --------------------------------------------------------------------------------------------


def eqd2_group_labels(edges: Sequence[float] = EQD2_GROUP_EDGES_GY) -> list[str]:
    """Labels of the EQD2 groups defined by ``edges`` (e.g. ``['< 20 Gy', '20–50 Gy', ...]``)."""
    edges = [float(e) for e in edges]
    if not edges or any(b <= a for a, b in zip(edges[:-1], edges[1:], strict=True)) or edges[0] <= 0:
        raise InputError(f"eqd2 group edges must be positive and strictly increasing, got {edges}")
    fmt = [f"{e:g}" for e in edges]
    labels = [f"< {fmt[0]} Gy"]
    labels += [f"{a}–{b} Gy" for a, b in zip(fmt[:-1], fmt[1:], strict=True)]
    labels.append(f"≥ {fmt[-1]} Gy")
    return labels


def rt_courses(
    radiotherapy: pd.DataFrame,
    patients: pd.DataFrame,
    alpha_beta: float = 10.0,
    eqd2_edges_gy: Sequence[float] = EQD2_GROUP_EDGES_GY,
) -> pd.DataFrame:
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
    require_columns(radiotherapy, ["patient_id", "start_day", "total_dose_gy", "fractions"], "radiotherapy")
    require_columns(patients, ["patient_id", "progression_day"], "patients")
    violations: list[Violation] = []
    check(
        violations,
        patients,
        patients["patient_id"].duplicated(keep=False),
        table="patients",
        column="patient_id",
        rule="must be unique (one row per patient)",
    )
    check(
        violations,
        radiotherapy,
        ~radiotherapy["patient_id"].isin(patients["patient_id"]),
        table="radiotherapy",
        column="patient_id",
        show=["start_day"],
        rule="the patient must be in the patient table",
    )
    start = pd.to_numeric(radiotherapy["start_day"], errors="coerce")
    check(
        violations,
        radiotherapy,
        start.isna(),
        table="radiotherapy",
        column="start_day",
        show=["patient_id"],
        rule="must be a number: the timing of a course relative to progression must be known",
    )
    raise_violations(violations, where)
    courses = radiotherapy.copy()
    courses["start_day"] = start.astype(float)
    total = courses["total_dose_gy"].astype(float)
    fractions = courses["fractions"].astype(float)
    progression = courses["patient_id"].map(patients.set_index("patient_id")["progression_day"]).astype(float)
    after = progression.notna() & (courses["start_day"] >= progression)
    timing = np.where(courses["start_day"] < 0, RT_TIMINGS[0], np.where(after, RT_TIMINGS[2], RT_TIMINGS[1]))
    courses["timing"] = pd.Categorical(timing, categories=list(RT_TIMINGS), ordered=True)
    courses["days_from_progression"] = courses["start_day"] - progression
    courses["dose_per_fraction_gy"] = total / fractions
    courses["bed_gy"] = bed(total, fractions, alpha_beta)
    courses["eqd2_gy"] = eqd2(total, fractions, alpha_beta)
    courses["modality"] = classify_modality(total, fractions)
    labels = eqd2_group_labels(eqd2_edges_gy)
    bins = [-np.inf, *[float(e) for e in eqd2_edges_gy], np.inf]
    courses["eqd2_group"] = pd.cut(courses["eqd2_gy"], bins=bins, labels=labels, right=False, ordered=True)
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
    require_columns(courses, ["patient_id", "timing"], "RT courses")
    grouped = courses.groupby("timing", observed=False)
    table = pd.DataFrame(
        {
            "courses": grouped.size().astype(int),
            "patients": grouped["patient_id"].nunique().astype(int),
        }
    )
    table["exposure in this chapter"] = [
        "no (before ICB)",
        "no (not after progression)",
        "yes (from the first such course)",
    ]
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
    require_columns(
        courses,
        ["timing", "modality", "patient_id", "dose_per_fraction_gy", "bed_gy", "eqd2_gy"],
        "RT courses",
    )
    post = courses[courses["timing"] == RT_TIMINGS[2]]
    rows = []
    groups = [(m, post[post["modality"] == m]) for m in MODALITY_CLASSES]
    groups.append(("all", post))
    for name, sub in groups:
        if name != "all" and sub.empty:
            continue
        q = sub[["bed_gy", "eqd2_gy"]].quantile([0.25, 0.5, 0.75])
        rows.append(
            {
                "modality": name,
                "courses": int(len(sub)),
                "patients": int(sub["patient_id"].nunique()),
                "dose per fraction min (Gy)": sub["dose_per_fraction_gy"].min(),
                "dose per fraction max (Gy)": sub["dose_per_fraction_gy"].max(),
                "BED median (Gy)": q.loc[0.5, "bed_gy"],
                "EQD2 median (Gy)": q.loc[0.5, "eqd2_gy"],
                "EQD2 Q1 (Gy)": q.loc[0.25, "eqd2_gy"],
                "EQD2 Q3 (Gy)": q.loc[0.75, "eqd2_gy"],
            }
        )
    return pd.DataFrame(rows).set_index("modality")


def modality_by_eqd2_group(courses: pd.DataFrame) -> pd.DataFrame:
    """RT courses after progression counted by modality (rows) and EQD2 group (columns)."""
    require_columns(courses, ["timing", "modality", "eqd2_group"], "RT courses")
    post = courses[courses["timing"] == RT_TIMINGS[2]]
    return pd.crosstab(post["modality"], post["eqd2_group"])


# --------------------------------------------------------------------------------------------
# (b) cohort: in-field and out-of-field response
# --------------------------------------------------------------------------------------------

_SCOPES = {"in_field_response": "in-field", "out_of_field_response": "out-of-field (abscopal)"}


def response_by_group(
    courses: pd.DataFrame, by: str = "eqd2_group", level: float = 0.95, min_count: int | None = None
) -> pd.DataFrame:
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
        Level of the exact (Clopper–Pearson) interval of the response rate, from
        ``scipy.stats.binomtest(responses, evaluable).proportion_ci(level, method="exact")``
        (NaN where no course is evaluable).
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
    require_columns(courses, ["timing", by], "RT courses")
    post = courses[courses["timing"] == RT_TIMINGS[2]]
    groups = (
        list(post[by].cat.categories)
        if isinstance(post[by].dtype, pd.CategoricalDtype)
        else sorted(post[by].dropna().unique(), key=str)
    )
    rows = []
    for column, scope in _SCOPES.items():
        if column not in post.columns:
            continue
        values = post[column].astype(object)
        violations: list[Violation] = []
        check(
            violations,
            post,
            values.notna() & ~values.isin([*EVALUABLE_RESPONSES, "NE"]),
            table="RT courses",
            column=column,
            show=["patient_id"] if "patient_id" in post else [],
            rule="must be one of CR, PR, SD, PD, NE (or missing)",
        )
        raise_violations(violations, where)
        for group in groups:
            v = values[(post[by] == group).to_numpy()]
            counts = {r: int((v == r).sum()) for r in EVALUABLE_RESPONSES}
            evaluable = sum(counts.values())
            responses = counts["CR"] + counts["PR"]
            if evaluable:
                interval = stats.binomtest(responses, evaluable).proportion_ci(level, method="exact")
                low, high = interval.low, interval.high
            else:
                low = high = np.nan
            rate = 100 * responses / evaluable if evaluable else np.nan
            if min_count is not None and any(0 < v < min_count for v in (responses, evaluable)):
                rate = low = high = np.nan
            rows.append(
                {
                    "scope": scope,
                    "group": str(group),
                    "courses": int(len(v)),
                    "not recorded": int(v.isna().sum()),
                    "not evaluable (NE)": int((v == "NE").sum()),
                    "evaluable": evaluable,
                    **counts,
                    "responses": responses,
                    "ORR %": rate,
                    "CI low %": 100 * low,
                    "CI high %": 100 * high,
                }
            )
    return pd.DataFrame(rows)


def response_dose_slope(
    courses: pd.DataFrame, column: str = "in_field_response", level: float = 0.95
) -> pd.Series:
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
    require_columns(courses, ["timing", "eqd2_gy", column], "RT courses")
    post = courses[(courses["timing"] == RT_TIMINGS[2]) & courses[column].isin(EVALUABLE_RESPONSES)]
    y = post[column].isin(["CR", "PR"]).astype(float).to_numpy()
    x = post["eqd2_gy"].astype(float).to_numpy()
    out = {
        "n": len(post),
        "responses": int(y.sum()),
        "intercept": np.nan,
        "slope_per_gy": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "or_per_10gy": np.nan,
        "p": np.nan,
    }
    if len(post) < 10 or y.min() == y.max() or np.ptp(x) == 0:
        return pd.Series(out, name=column)
    fit = sm.Logit(y, sm.add_constant(x)).fit(disp=0)
    ci = fit.conf_int(alpha=1 - level)
    out.update(
        intercept=float(fit.params[0]),
        slope_per_gy=float(fit.params[1]),
        ci_low=float(ci[1, 0]),
        ci_high=float(ci[1, 1]),
        or_per_10gy=float(np.exp(10 * fit.params[1])),
        p=float(fit.pvalues[1]),
    )
    return pd.Series(out, name=column)


def response_dose_slopes(courses: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """:func:`response_dose_slope` of in-field and out-of-field response, one row per scope.

    Scopes whose response column the course table lacks are left out; rows are labelled
    ``in-field`` and ``out-of-field``.
    """
    columns = [c for c in ("in_field_response", "out_of_field_response") if c in courses.columns]
    slopes = pd.DataFrame([response_dose_slope(courses, column, level) for column in columns])
    slopes.index = slopes.index.str.replace("_response", "").str.replace("_", "-")
    return slopes


#: Count columns of the response tables (suppressed for restricted cohorts when published).
RESPONSE_COUNT_COLUMNS: tuple[str, ...] = (
    "courses",
    "not recorded",
    "not evaluable (NE)",
    "evaluable",
    "CR",
    "PR",
    "SD",
    "PD",
    "responses",
)
