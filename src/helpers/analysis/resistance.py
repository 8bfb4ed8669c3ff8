"""Resistance classes of an ICB course, after the SITC consensus definitions.

Sources (each definition checked at its source; see the methods page):

* PD-(L)1 monotherapy: Kluger HM et al. Defining tumor resistance to PD-1 pathway blockade:
  recommendations from the first meeting of the SITC Immunotherapy Resistance Taskforce.
  J Immunother Cancer 2020;8:e000398, Table 1 (primary: drug exposure ≥ 6 weeks, best response
  PD or SD for < 6 months; secondary: drug exposure ≥ 6 months, best response CR, PR or SD for
  > 6 months; both with a confirmatory scan) and its definitions of progression after the end
  of treatment (resistance is progression on treatment or within 12 weeks of the last dose).
* ICB + chemotherapy: Rizvi N et al. SITC consensus definitions for resistance to combinations
  of immune checkpoint inhibitors with chemotherapy. J Immunother Cancer 2023;11:e005920,
  Table 3 (primary: exposure 6–8 weeks, RECIST progression ≤ 6 months; secondary: exposure
  > 6 months, progression > 6 months; both *regardless of best response*; no confirmatory scan).
* ICB + ICB (Kluger et al., J Immunother Cancer 2023;11:e005921) and ICB + targeted therapy
  (Atkins et al., J Immunother Cancer 2023;11:e005923): their tables could not be read at the
  source, so by default these courses follow the monotherapy rule; ``timing_rule_regimens``
  moves any regimen to the timing rule (a stated departure, see the methods page).

The rule, with the benefit window ``W = benefit_months`` (default 6 months of
:data:`~helpers.units.DAYS_PER_MONTH` days), all days counted from the course start, and each
step applied in this order (the first that applies gives the class and the reason):

1. best response NE → ``not_evaluable`` (:data:`REASON_NE`);
2. no best response, no progression and no assessment → ``not_evaluable``
   (:data:`REASON_NO_DATA`);
3. progression more than ``max_weeks_after_last_dose`` (12) weeks after the last dose (stop
   day known) → ``not_evaluable`` (:data:`REASON_AFTER_LAST_DOSE`): not resistance *to* the
   drug in the SITC sense;
4. the response × timing table. *Monotherapy rule*: PD → primary; SD → primary if progression
   before ``W``, acquired at or after ``W``; CR/PR → acquired at or after ``W``, not evaluable
   before it (:data:`REASON_EARLY_PROGRESSION_AFTER_RESPONSE`, which Kluger 2020 leaves
   unclassified). *Timing rule* (``timing_rule_regimens``, default ICB+chemo; and every course
   without a best response, the fallback of sources that record none): progression before ``W``
   → primary, at or after ``W`` → acquired, whatever the best response; PD without a
   progression day → primary. Without progression: CR/PR/SD (or no best response) with the last
   progression-free assessment at or after ``W`` → ``ongoing_benefit``, else ``not_evaluable``
   (:data:`REASON_SHORT_FOLLOWUP`);
5. a primary call with a known exposure (start to last dose) shorter than
   ``min_exposure_weeks`` (6) → ``not_evaluable`` (:data:`REASON_EXPOSURE`);
6. an acquired call with a known exposure shorter than ``min_acquired_exposure_months`` (6) →
   ``not_evaluable`` (:data:`REASON_ACQUIRED_EXPOSURE`).

An unknown stop day is never held against a course (steps 3, 5 and 6 need it). The confirmatory
scan of Kluger 2020 cannot be checked with this data model (one progression day per course).

The classifier (:func:`explain_resistance`) is shared by every chapter through
:func:`helpers.analysis.derive.patient_table`; :func:`class_summary` computes chapter 2's
tables from that patient table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from helpers.analysis.result import AnalysisResult
from helpers.data.schema import REGIMENS
from helpers.errors import ParameterError, Violation, check, raise_violations, require_columns
from helpers.units import CLASSES, DAYS_PER_MONTH

#: Best-response codes of the data model (DESIGN §3); null where the source records none.
BEST_RESPONSES = ("CR", "PR", "SD", "PD", "NE")

#: Columns of ``icb_courses`` the classifier reads (``stop_day`` and ``regimen`` are optional).
REQUIRED_COLUMNS = ("start_day", "best_response", "progression_day", "last_assessment_day")
#: The columns of days among them (days from the index course start, floats).
DAY_COLUMNS = ("start_day", "progression_day", "last_assessment_day", "stop_day")

REASON_NE = "best response not evaluable (NE)"
REASON_NO_DATA = "no best response and no progression or assessment data"
#: With the default limit; another ``max_weeks_after_last_dose`` names its own number of weeks.
REASON_AFTER_LAST_DOSE = "progression more than 12 weeks after the last dose (not resistance on treatment)"
REASON_EARLY_PROGRESSION_AFTER_RESPONSE = (
    "response (CR/PR) followed by progression within the benefit window (unclassified by SITC)"
)
REASON_SHORT_FOLLOWUP = "no progression and follow-up shorter than the benefit window"
REASON_EXPOSURE = "exposure shorter than the minimum"
REASON_ACQUIRED_EXPOSURE = "exposure shorter than the minimum for acquired resistance"
#: Every reason, in the order the rule applies them (module docstring).
REASONS = (
    REASON_NE,
    REASON_NO_DATA,
    REASON_AFTER_LAST_DOSE,
    REASON_EARLY_PROGRESSION_AFTER_RESPONSE,
    REASON_SHORT_FOLLOWUP,
    REASON_EXPOSURE,
    REASON_ACQUIRED_EXPOSURE,
)

#: Values of the ``rule`` column: which row set of the table decided the course.
RULE_RESPONSE = "best response and timing (Kluger 2020)"
RULE_TIMING = "progression timing regardless of best response (Rizvi 2023)"

#: Regimens classified by progression timing regardless of best response (Rizvi 2023, Table 3).
TIMING_RULE_REGIMENS: tuple[str, ...] = ("ICB+chemo",)

REGIMEN_GROUPS = {
    "anti-PD-1": "monotherapy",
    "anti-PD-L1": "monotherapy",
    "anti-CTLA-4": "monotherapy",
    "PD-1+CTLA-4": "combination",
    "PD-1+LAG-3": "combination",
    "ICB+chemo": "ICB+chemo",
    "ICB+targeted": "ICB+targeted",
}


@dataclass(frozen=True)
class ClassRule:
    """The parameters of the classes; the defaults are the SITC consensus (module docstring).

    Attributes
    ----------
    benefit_months
        Benefit window: progression before it is primary, at or after it acquired (months).
    min_exposure_weeks
        Minimum known exposure (start to last dose) for a primary call (Kluger 2020: 6 weeks;
        Rizvi 2023: 6–8 weeks, the lower end kept).
    min_acquired_exposure_months
        Minimum known exposure for an acquired call (Kluger 2020: 6 months; Rizvi 2023:
        "> 6 months", kept as ≥).
    max_weeks_after_last_dose
        Progression later than this after the last dose is kept apart (not evaluable); ``None``
        or infinity switches the rule off.
    timing_rule_regimens
        Regimens classified by progression timing regardless of best response (Rizvi 2023).
    """

    benefit_months: float = 6.0
    min_exposure_weeks: float = 6.0
    min_acquired_exposure_months: float = 6.0
    max_weeks_after_last_dose: float | None = 12.0
    timing_rule_regimens: tuple[str, ...] = TIMING_RULE_REGIMENS

    def __post_init__(self) -> None:
        problems = []
        if not self.benefit_months > 0:
            problems.append(f"benefit_months must be positive (got {self.benefit_months!r})")
        if not self.min_exposure_weeks >= 0:
            problems.append(f"min_exposure_weeks must be non-negative (got {self.min_exposure_weeks!r})")
        if not self.min_acquired_exposure_months >= 0:
            problems.append(
                f"min_acquired_exposure_months must be non-negative (got {self.min_acquired_exposure_months!r})"
            )
        if self.max_weeks_after_last_dose is not None and not self.max_weeks_after_last_dose > 0:
            problems.append(
                f"max_weeks_after_last_dose must be positive or None (got {self.max_weeks_after_last_dose!r})"
            )
        if isinstance(self.timing_rule_regimens, str):
            problems.append("timing_rule_regimens must be a collection of regimens, not one string")
        else:
            unknown = sorted(set(self.timing_rule_regimens) - set(REGIMENS))
            if unknown:
                problems.append(
                    f"timing_rule_regimens: unknown regimen(s) {unknown} (known: {', '.join(REGIMENS)})"
                )
        if problems:
            raise ParameterError("; ".join(problems))
        object.__setattr__(self, "timing_rule_regimens", tuple(self.timing_rule_regimens))

    @property
    def window_days(self) -> float:
        return self.benefit_months * DAYS_PER_MONTH

    @property
    def last_dose_days(self) -> float:
        """The last-dose limit in days (infinity when switched off)."""
        w = self.max_weeks_after_last_dose
        return np.inf if w is None else w * 7.0

    def kwargs(self) -> dict:
        """The parameters as keyword arguments of :func:`explain_resistance`."""
        return asdict(self)


def explain_resistance(
    icb_courses: pd.DataFrame,
    benefit_months: float = 6,
    min_exposure_weeks: float = 6,
    *,
    min_acquired_exposure_months: float = 6,
    max_weeks_after_last_dose: float | None = 12,
    timing_rule_regimens: Iterable[str] = TIMING_RULE_REGIMENS,
) -> pd.DataFrame:
    """Classify each course and say why.

    Parameters
    ----------
    icb_courses
        Canonical ``icb_courses`` rows: ``start_day``, ``best_response``, ``progression_day``,
        ``last_assessment_day`` and optionally ``stop_day`` (the last dose) and ``regimen``
        (days, floats; a missing ``regimen`` column or value means the monotherapy rule).
    benefit_months
        Length of the benefit window in months (30.4375 days each).
    min_exposure_weeks
        Minimum exposure for a primary-resistance call.
    min_acquired_exposure_months
        Minimum exposure for an acquired-resistance call (SITC: 6 months).
    max_weeks_after_last_dose
        Progression more than this many weeks after the last dose is not evaluable, with its own
        reason (SITC: 12 weeks); ``None`` switches the rule off.
    timing_rule_regimens
        Regimens classified by progression timing regardless of best response (SITC for
        ICB+chemo: Rizvi 2023, Table 3).

    An unknown stop day is not held against a course. See the module docstring for the rule and
    the order in which its steps apply.

    Returns
    -------
    DataFrame aligned with ``icb_courses`` (same index) with columns ``resistance_class``,
    ``reason`` (empty unless not evaluable; one of :data:`REASONS`), ``basis`` (``best
    response`` or ``progression timing only`` for courses without a best response) and ``rule``
    (:data:`RULE_RESPONSE` or :data:`RULE_TIMING`: the regimen's rule).

    Raises
    ------
    InputError
        A required column is missing, a day is not a number, or a best response is not one
        of :data:`BEST_RESPONSES` (or null).
    ParameterError
        A parameter is out of range (:class:`ClassRule`).
    """
    rule = ClassRule(
        float(benefit_months),
        float(min_exposure_weeks),
        float(min_acquired_exposure_months),
        None if max_weeks_after_last_dose is None else float(max_weeks_after_last_dose),
        timing_rule_regimens if isinstance(timing_rule_regimens, str) else tuple(timing_rule_regimens),
    )
    return _explain(icb_courses, rule)


def _explain(icb_courses: pd.DataFrame, rule: ClassRule) -> pd.DataFrame:
    """:func:`explain_resistance` with its parameters in one :class:`ClassRule`."""
    days = _checked_days(icb_courses)
    window = rule.window_days
    start = days["start_day"]
    prog = days["progression_day"] - start
    last = days["last_assessment_day"] - start
    exposure = days["stop_day"] - start  # NaN where the last dose is unknown
    br = icb_courses["best_response"].astype(object).where(icb_courses["best_response"].notna())
    br = br.to_numpy(dtype=object)
    regimen = (
        icb_courses["regimen"]
        if "regimen" in icb_courses.columns
        else pd.Series(None, index=icb_courses.index)
    )
    timing_regimen = regimen.isin(rule.timing_rule_regimens).to_numpy()

    missing = pd.isna(br)
    is_pd, is_sd, is_ne = br == "PD", br == "SD", br == "NE"
    is_resp = (br == "CR") | (br == "PR")
    has_prog = ~np.isnan(prog)
    early = has_prog & (prog < window)
    late = has_prog & (prog >= window)
    followed = ~has_prog & ~np.isnan(last) & (last >= window)
    by_timing = timing_regimen | missing  # the fallback of sources without a best response is the timing rule
    with np.errstate(invalid="ignore"):
        after_last_dose = has_prog & (prog - exposure > rule.last_dose_days)  # False where stop unknown
        short_primary = exposure < rule.min_exposure_weeks * 7.0
        short_acquired = exposure < rule.min_acquired_exposure_months * DAYS_PER_MONTH

    # step 4, the response x timing table, before the exposure checks
    # the timing rule calls a late progression acquired even after best response PD
    primary = (is_pd & ~(by_timing & late)) | (by_timing & early & ~is_ne) | (is_sd & early)
    acquired = late & ~is_ne & ~(is_pd & ~by_timing)
    ongoing = followed & (is_sd | is_resp | missing)
    candidate = np.select(
        [primary, acquired, ongoing], ["primary", "acquired", "ongoing_benefit"], "not_evaluable"
    )
    candidate_reason = np.select(
        [is_resp & early & ~by_timing, candidate == "not_evaluable"],
        [REASON_EARLY_PROGRESSION_AFTER_RESPONSE, REASON_SHORT_FOLLOWUP],
        "",
    )

    steps = [  # (condition, reason) in the order of the module docstring; first match wins
        (is_ne, REASON_NE),
        (missing & ~has_prog & np.isnan(last), REASON_NO_DATA),
        (after_last_dose & ~is_ne, _after_last_dose_reason(rule)),
        (candidate_reason != "", None),
        ((candidate == "primary") & short_primary, REASON_EXPOSURE),
        ((candidate == "acquired") & short_acquired, REASON_ACQUIRED_EXPOSURE),
    ]
    conditions = [c for c, _ in steps]
    reasons = [candidate_reason if r is None else np.full(len(br), r, dtype=object) for _, r in steps]
    reason = np.select(conditions, reasons, "").astype(object)
    cls = np.where(reason != "", "not_evaluable", candidate).astype(object)

    return pd.DataFrame(
        {
            "resistance_class": cls,
            "reason": reason,
            "basis": np.where(missing, "progression timing only", "best response"),
            "rule": np.where(timing_regimen, RULE_TIMING, RULE_RESPONSE),
        },
        index=icb_courses.index,
    )


def _after_last_dose_reason(rule: ClassRule) -> str:
    """:data:`REASON_AFTER_LAST_DOSE` with the rule's own limit (the default text when it is 12 weeks)."""
    weeks = rule.max_weeks_after_last_dose
    return REASON_AFTER_LAST_DOSE if weeks is None else REASON_AFTER_LAST_DOSE.replace("12", f"{weeks:g}")


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
    icb_courses: pd.DataFrame,
    benefit_months: float = 6,
    min_exposure_weeks: float = 6,
    **rule: object,
) -> pd.Series:
    """The resistance class of each course, aligned with the input rows.

    One of ``primary``, ``acquired``, ``ongoing_benefit`` or ``not_evaluable``; ``rule`` takes
    the keyword parameters of :func:`explain_resistance` (reasons there, the rule in the module
    docstring).
    """
    return explain_resistance(icb_courses, benefit_months, min_exposure_weeks, **rule)["resistance_class"]


def regimen_group(regimen: pd.Series) -> pd.Series:
    """Monotherapy, combination (two ICBs), ICB+chemo or ICB+targeted; 'unknown' where not recorded."""
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
    icb_courses: pd.DataFrame,
    windows_months: tuple[float, ...] = (3, 6, 12),
    min_exposure_weeks: float = 6,
    **rule: object,
) -> pd.DataFrame:
    """Class counts for each benefit window (rows ``"<w> months"``) and ``total``.

    How the classes move with the window: the same courses, classified with each window and the
    other parameters (``rule``: keywords of :func:`explain_resistance`) unchanged.
    """
    rows = {}
    for w in windows_months:
        cls = classify_resistance(icb_courses, w, min_exposure_weeks, **rule)
        rows[f"{w:g} months"] = cls.value_counts().reindex(CLASSES, fill_value=0)
    out = pd.DataFrame(rows).T
    out["total"] = out.sum(axis=1)
    return out


def class_transitions(
    icb_courses: pd.DataFrame,
    from_months: float,
    to_months: float,
    min_exposure_weeks: float = 6,
    **rule: object,
) -> pd.DataFrame:
    """Cross-table of classes under two benefit windows (rows: ``from``, columns: ``to``).

    Rows and columns are the four classes in canonical order (zeros included); the row axis
    is named ``"<from> months"`` and the column axis ``"<to> months"``.
    """
    a = classify_resistance(icb_courses, from_months, min_exposure_weeks, **rule)
    b = classify_resistance(icb_courses, to_months, min_exposure_weeks, **rule)
    tab = pd.crosstab(
        pd.Series(pd.Categorical(a, categories=CLASSES), name=f"{from_months:g} months"),
        pd.Series(pd.Categorical(b, categories=CLASSES), name=f"{to_months:g} months"),
        dropna=False,
    )
    return tab


#: The variants of :func:`rule_sensitivity`: label -> the parameters that change.
RULE_VARIANTS: dict[str, dict] = {
    "SITC (the book's rule)": {},
    "without the acquired-exposure minimum": {"min_acquired_exposure_months": 0.0},
    "without the 12-week limit after the last dose": {"max_weeks_after_last_dose": None},
    "ICB+chemo by the monotherapy rule": {"timing_rule_regimens": ()},
    "none of the three (the rule before December 2026)": {
        "min_acquired_exposure_months": 0.0,
        "max_weeks_after_last_dose": None,
        "timing_rule_regimens": (),
    },
}


def rule_sensitivity(icb_courses: pd.DataFrame, rule: ClassRule | None = None) -> pd.DataFrame:
    """Class counts with each SITC rule of the December 2026 revision switched off in turn.

    Rows are :data:`RULE_VARIANTS` (the first is ``rule`` itself, default :class:`ClassRule`);
    columns the four classes, ``total`` and ``changed`` (courses whose class differs from the
    first row). Shows what each rule does to the cohort, and how the classes compare with the
    rule the book used before (the last row).
    """
    rule = rule or ClassRule()
    base = _explain(icb_courses, rule)["resistance_class"]
    rows = {}
    for label, change in RULE_VARIANTS.items():
        cls = _explain(icb_courses, replace(rule, **change))["resistance_class"]
        row = cls.value_counts().reindex(CLASSES, fill_value=0)
        row["total"] = len(cls)
        row["changed"] = int((cls != base).sum())
        rows[label] = row
    return pd.DataFrame(rows).T.astype(int)


def rule_table(rule: ClassRule | None = None) -> pd.DataFrame:
    """The rules of the classes: one row per rule with ``parameter``, ``value`` and ``source``.

    The values are those of ``rule`` (default :class:`ClassRule`, the SITC consensus); rules
    without a parameter (the confirmatory scan) say how the book handles them.
    """
    rule = rule or ClassRule()
    kluger = "Kluger et al. 2020, Table 1"
    rizvi = "Rizvi et al. 2023, Table 3"
    last_dose = (
        "off" if rule.max_weeks_after_last_dose is None else f"{rule.max_weeks_after_last_dose:g} weeks"
    )
    timing = ", ".join(rule.timing_rule_regimens) or "none"
    rows = [
        (
            "benefit window (primary before, acquired at or after)",
            "benefit_months",
            f"{rule.benefit_months:g} months",
            f"{kluger}; {rizvi}",
        ),
        (
            "minimum exposure for primary resistance",
            "min_exposure_weeks",
            f"{rule.min_exposure_weeks:g} weeks",
            f"{kluger} (≥ 6 weeks); {rizvi} (6–8 weeks)",
        ),
        (
            "minimum exposure for acquired resistance",
            "min_acquired_exposure_months",
            f"{rule.min_acquired_exposure_months:g} months",
            f"{kluger} (≥ 6 months); {rizvi} (> 6 months)",
        ),
        (
            "progression after the last dose kept apart beyond",
            "max_weeks_after_last_dose",
            last_dose,
            "Kluger et al. 2020 (resistance: on treatment or within 12 weeks of the last dose)",
        ),
        ("regimens classified by timing regardless of best response", "timing_rule_regimens", timing, rizvi),
        (
            "ICB+ICB and ICB+targeted courses",
            "timing_rule_regimens",
            "monotherapy rule unless listed above",
            "Kluger et al. 2023 and Atkins et al. 2023: tables not read at the source (departure)",
        ),
        (
            "confirmatory scan ≥ 4 weeks after progression",
            "—",
            "not checked (one progression day per course)",
            f"{kluger} (departure); {rizvi} does not require it",
        ),
        ("no best response recorded", "—", "progression timing alone", "the book's fallback (DESIGN §4)"),
    ]
    return pd.DataFrame(rows, columns=["rule", "parameter", "value", "source"])


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


def stop_day_support(index_courses: pd.DataFrame) -> str:
    """One sentence on how many courses record their last dose (the exposure rules need it)."""
    n = len(index_courses)
    known = int(index_courses["stop_day"].notna().sum()) if "stop_day" in index_courses.columns else 0
    if known == 0:
        return (
            "No course records its last dose, so the exposure minimums and the limit after the "
            "last dose cannot be applied (an unknown stop day is never held against a course)."
        )
    return (
        f"{known} of {n} courses ({100 * known / max(n, 1):.0f}%) record their last dose; the "
        "exposure minimums and the limit after the last dose apply to those only."
    )


@dataclass(kw_only=True)
class ResistanceClasses(AnalysisResult):
    """Chapter 2's tables: the classes of the index courses, overall and by group.

    Attributes
    ----------
    benefit_months, min_exposure_weeks
        The two book parameters of the classes.
    rule
        Every parameter of the classes (:class:`ClassRule`).
    support
        ``yes``, ``partly`` or ``no`` (:func:`classification_support`); ``limitation`` says what
        limits a ``partly`` classification, and ``missing`` what the cohort lacks when it is
        ``no`` (every course is then not evaluable).
    stop_days
        :func:`stop_day_support`.
    rules
        :func:`rule_table`: each rule, its value and its source.
    overall, by_cancer_type, by_regimen_group, by_regimen, by_cancer_type_and_regimen_group, by_rule
        :func:`class_table` of the index courses, overall and per group (``by_rule``: per
        regimen rule, :data:`RULE_RESPONSE` or :data:`RULE_TIMING`).
    not_evaluable_reasons, basis
        :func:`not_evaluable_reasons` and :func:`classification_basis`.
    rule_sensitivity
        :func:`rule_sensitivity`: the classes with each rule of the 2026 revision switched off.
    window_sensitivity
        :func:`benefit_window_sensitivity` over 3, 6 and 12 months and ``benefit_months``.
    transitions
        :func:`class_transitions` from ``benefit_months`` to each other window (keys, months).
    """

    benefit_months: float
    min_exposure_weeks: float
    rule: ClassRule = field(default_factory=ClassRule)
    support: str
    limitation: str | None
    stop_days: str = ""
    #: (courses that record their last dose, index courses): the numbers of ``stop_days``.
    stop_days_recorded: tuple[int, int] = (0, 0)
    rules: pd.DataFrame = field(default_factory=pd.DataFrame)
    overall: pd.DataFrame
    not_evaluable_reasons: pd.DataFrame
    basis: pd.DataFrame
    by_cancer_type: pd.DataFrame
    by_regimen_group: pd.DataFrame
    by_regimen: pd.DataFrame
    by_cancer_type_and_regimen_group: pd.DataFrame
    by_rule: pd.DataFrame = field(default_factory=pd.DataFrame)
    rule_sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)
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
    **rule: object,
) -> ResistanceClasses:
    """The tables of chapter 2 from the patient table and the index courses.

    Parameters
    ----------
    patients
        :func:`helpers.analysis.derive.patient_table` of the cohort, made with the same
        parameters.
    index_courses
        The cohort's index courses (:meth:`helpers.data.cohort.Cohort.index_courses`): the
        sensitivity tables classify them again under other windows and rules.
    benefit_months, min_exposure_weeks
        Parameters of the classes (:func:`explain_resistance`).
    other_windows
        Windows (months) of the transition tables from ``benefit_months``.
    **rule
        The other keyword parameters of :func:`explain_resistance` (SITC defaults).
    """
    params = ClassRule(float(benefit_months), float(min_exposure_weeks), **rule)
    kw = {k: v for k, v in params.kwargs().items() if k not in ("benefit_months", "min_exposure_weeks")}
    support, what = classification_support(index_courses)
    windows = tuple(sorted({*SENSITIVITY_WINDOWS, float(benefit_months)}))
    cls = patients["resistance_class"]
    rule_of = (
        patients["rule"] if "rule" in patients.columns else pd.Series(RULE_RESPONSE, index=patients.index)
    )
    return ResistanceClasses(
        missing=f"The cohort records {what}, so every course is not evaluable." if support == "no" else None,
        benefit_months=benefit_months,
        min_exposure_weeks=min_exposure_weeks,
        rule=params,
        support=support,
        limitation=what if support == "partly" else None,
        stop_days=stop_day_support(index_courses),
        stop_days_recorded=(
            int(index_courses["stop_day"].notna().sum()) if "stop_day" in index_courses.columns else 0,
            len(index_courses),
        ),
        rules=rule_table(params),
        overall=class_table(cls),
        not_evaluable_reasons=not_evaluable_reasons(patients),
        basis=classification_basis(patients),
        by_cancer_type=class_table(cls, patients["cancer_type"]),
        by_regimen_group=class_table(cls, patients["regimen_group"]),
        by_regimen=class_table(cls, patients["regimen"].fillna("unknown")),
        by_cancer_type_and_regimen_group=class_table(
            cls, patients["cancer_type"] + " · " + patients["regimen_group"]
        ),
        by_rule=class_table(cls, rule_of),
        rule_sensitivity=rule_sensitivity(index_courses, params),
        window_sensitivity=benefit_window_sensitivity(index_courses, windows, min_exposure_weeks, **kw),
        transitions={
            float(other): class_transitions(index_courses, benefit_months, other, min_exposure_weeks, **kw)
            for other in other_windows
        },
    )
