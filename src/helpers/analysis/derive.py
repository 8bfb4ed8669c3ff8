"""Derived tables shared by the chapters: one row per patient, one row per sample.

Nothing here is stored in a cohort: resistance classes, sample timepoints, TMB at baseline
and the survival times are recomputed from the canonical tables with the chapter's
parameters, so that a rerun with other parameters sees other classes.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from helpers.analysis.resistance import TIMING_RULE_REGIMENS, explain_resistance, regimen_group
from helpers.data.cohort import Cohort, sample_timepoints
from helpers.units import DAYS_PER_MONTH

#: Columns of the index course (and its class) that the patient table keeps.
INDEX_COURSE_COLUMNS = (
    "patient_id",
    "line",
    "regimen",
    "stop_day",
    "best_response",
    "progression_day",
    "last_assessment_day",
    "resistance_class",
    "reason",
    "basis",
    "rule",
)


def patient_table(
    cohort: Cohort,
    benefit_months: float = 6,
    min_exposure_weeks: float = 6,
    *,
    min_acquired_exposure_months: float = 6,
    max_weeks_after_last_dose: float | None = 12,
    timing_rule_regimens: Iterable[str] = TIMING_RULE_REGIMENS,
) -> pd.DataFrame:
    """One row per patient: covariates, index course, resistance class and survival times.

    Parameters
    ----------
    cohort
        The canonical cohort.
    benefit_months, min_exposure_weeks, min_acquired_exposure_months, max_weeks_after_last_dose, timing_rule_regimens
        Parameters of the resistance classes (:func:`helpers.analysis.resistance.explain_resistance`);
        the defaults are the SITC consensus, and every chapter uses them.

    Returns
    -------
    The ``patients`` table (in its row order) with the index course's columns
    (:data:`INDEX_COURSE_COLUMNS`: class, ``reason``, ``basis`` and ``rule`` included), ``regimen_group``,
    ``ecog`` (NaN where not recorded), ``tmb`` (from the pre-treatment DNA sample nearest day 0),
    ``os_days``/``os_event`` (from day 0), ``pfs_days``/``pfs_event`` (progression or death;
    censored at the last progression-free assessment where known; NaN when the source records
    no tumour assessments at all), ``progressed`` and, for patients who progressed,
    ``pps_days``/``pps_event`` (survival after progression); each ``*_days`` also in months
    (``*_months``).
    """
    pats = cohort.patients.copy()
    idx = cohort.index_courses()
    cls = explain_resistance(
        idx,
        benefit_months,
        min_exposure_weeks,
        min_acquired_exposure_months=min_acquired_exposure_months,
        max_weeks_after_last_dose=max_weeks_after_last_dose,
        timing_rule_regimens=timing_rule_regimens,
    )
    idx = pd.concat([idx, cls], axis=1)
    keep = list(INDEX_COURSE_COLUMNS)
    keep = [c for c in keep if c in idx.columns]
    df = pats.merge(idx[keep], on="patient_id", how="left", validate="one_to_one")
    df["regimen_group"] = regimen_group(df["regimen"])
    if "ecog" not in df.columns:
        df["ecog"] = np.nan

    tmb = baseline_tmb(cohort)
    df["tmb"] = df["patient_id"].map(tmb)
    end = pd.to_numeric(df["last_followup_day"], errors="coerce")
    prog = pd.to_numeric(df["progression_day"], errors="coerce")
    death = df["death"].fillna(False).astype(bool)
    df["os_days"] = end
    df["os_event"] = death & end.notna()
    # PFS: progression or death; otherwise censored at the last progression-free assessment
    # (where known), the usual rule when follow-up outlasts tumour assessments
    last = pd.to_numeric(df["last_assessment_day"], errors="coerce")
    censor = last.where(last.notna(), end)
    df["pfs_days"] = prog.where(prog.notna(), end.where(death, censor))
    df["pfs_event"] = prog.notna() | death
    if prog.isna().all() and last.isna().all():
        # the source records no tumour assessments at all: PFS cannot be told from OS
        df["pfs_days"] = np.nan
        df["pfs_event"] = np.nan
    df["progressed"] = prog.notna()
    df["pps_days"] = (end - prog).where(prog.notna())
    df["pps_event"] = death.where(prog.notna())
    for col in ("os", "pfs", "pps"):
        df[f"{col}_months"] = df[f"{col}_days"] / DAYS_PER_MONTH
    return df


def baseline_tmb(cohort: Cohort) -> pd.Series:
    """TMB of each patient's pre-treatment DNA sample nearest day 0 (indexed by patient)."""
    sam = cohort.samples
    if "tmb" not in sam.columns:
        return pd.Series(dtype=float)
    tp = sample_timepoints(cohort)
    s = sam.assign(timepoint=tp.to_numpy())
    s = s[(s["timepoint"] == "pre") & s["tmb"].notna()]
    s = s.sort_values("collection_day", ascending=False, na_position="last")
    return s.drop_duplicates("patient_id").set_index("patient_id")["tmb"].astype(float)


def sample_table(
    cohort: Cohort,
    benefit_months: float = 6,
    min_exposure_weeks: float = 6,
    **rule: object,
) -> pd.DataFrame:
    """One row per sample with its timepoint, what it holds and its patient's class.

    The ``samples`` table with ``timepoint`` (pre/on/post, :func:`helpers.data.cohort.sample_timepoints`),
    ``has_dna``, ``has_rna`` (an RNA sample counts only where the expression matrix holds it)
    and the patient's ``cancer_type``, ``resistance_class``, ``progression_day`` and
    ``regimen_group`` (:func:`patient_table` with the same parameters; ``rule`` takes its
    keyword parameters).
    """
    pt = patient_table(cohort, benefit_months, min_exposure_weeks, **rule)
    s = cohort.samples.copy()
    s["timepoint"] = sample_timepoints(cohort).to_numpy()
    s["has_dna"] = s["assay"].isin(["DNA", "DNA+RNA"])
    s["has_rna"] = s["assay"].isin(["RNA", "DNA+RNA"])
    if cohort.expression is not None:
        s["has_rna"] &= s["sample_id"].isin(cohort.expression.columns)
    else:
        s["has_rna"] = False
    cols = ["patient_id", "cancer_type", "resistance_class", "progression_day", "regimen_group"]
    return s.merge(pt[cols], on="patient_id", how="left")
