"""Chapter 1, cohort overview: attrition to each analysis set, Table 1, sample availability and
a swimmer plot of a random subset of patients.

:func:`cohort_overview` computes the whole chapter from one patient table and one sample
table (:mod:`helpers.analysis.derive`). Every cohort supports the chapter, since it needs
patients only, so :attr:`CohortOverview.missing` is always ``None``; a cohort without samples
has an availability table of zeros.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.analysis.derive import patient_table, sample_table
from helpers.analysis.result import AnalysisResult
from helpers.data.cohort import Cohort
from helpers.stats.survival import kaplan_meier, km_median
from helpers.units import DAYS_PER_MONTH


@dataclass
class Swimmer:
    """The lanes and events of a swimmer plot; rows are numbered, identifiers are dropped.

    Attributes
    ----------
    lanes
        One row per patient: ``row`` (1 = shortest follow-up), ``cancer_type``,
        ``resistance_class``, ``best_response``, ``last_followup_day``, ``death``,
        ``progression_day``, ``stop_day``.
    events
        One row per sample or radiotherapy course: ``row``, ``day``, ``kind`` (``pre biopsy``,
        ``on biopsy``, ``post biopsy`` or ``radiotherapy``).
    """

    lanes: pd.DataFrame
    events: pd.DataFrame


@dataclass(kw_only=True)
class CohortOverview(AnalysisResult):
    """Chapter 1's tables (see :func:`attrition`, :func:`table_one`, :func:`sample_availability`)."""

    attrition: pd.DataFrame
    table_one: pd.DataFrame
    sample_availability: pd.DataFrame
    swimmer: Swimmer


def cohort_overview(
    cohort: Cohort,
    benefit_months: float = 6,
    min_exposure_weeks: float = 6,
    *,
    swimmer_patients: int = 40,
    seed: int = 0,
) -> CohortOverview:
    """The tables of chapter 1, from one patient and one sample table.

    Parameters
    ----------
    cohort
        The canonical cohort.
    benefit_months, min_exposure_weeks
        Parameters of the resistance classes (:func:`helpers.analysis.resistance.explain_resistance`).
    swimmer_patients
        Patients drawn for the swimmer plot.
    seed
        Seed of that random draw.
    """
    pt = patient_table(cohort, benefit_months, min_exposure_weeks)
    st = sample_table(cohort, benefit_months, min_exposure_weeks)
    return CohortOverview(
        attrition=_attrition(cohort, pt, st),
        table_one=_table_one(pt),
        sample_availability=_sample_availability(pt, st),
        swimmer=_swimmer(cohort, pt, st, swimmer_patients, seed),
    )


#: Which analysis set of :func:`attrition` each one is a subset of (its parent): the difference
#: between a set and its parent is a count of patients too (used by the small-count suppression).
ATTRITION_NESTING: dict[str, str] = {
    "Index ICB course with a resistance class other than not evaluable": "All patients",
    "Primary or acquired resistance": "Index ICB course with a resistance class other than not evaluable",
    "... progressed (survival after progression)": "Primary or acquired resistance",
    "... with a pre-treatment DNA sample": "Primary or acquired resistance",
    "... with a post-progression DNA sample": "... progressed (survival after progression)",
    "... with pre and post DNA (pairs)": "... with a post-progression DNA sample",
    "... with a post-progression RNA sample": "... progressed (survival after progression)",
    "... with pre and post RNA (pairs)": "... with a post-progression RNA sample",
    "Progressed (any class) and given radiotherapy after progression": "All patients",
}


def attrition(cohort: Cohort, benefit_months: float = 6, min_exposure_weeks: float = 6) -> pd.DataFrame:
    """Patients remaining at each step from the whole cohort to each analysis set.

    Each row is an analysis set: ``analysis set``, ``patients``, ``used in`` (the chapter that
    uses it) and ``% of all`` (one decimal). "Primary or acquired resistance" is the population
    of the survival and genomic comparisons; the rows starting with "..." are subsets of it
    (the pre-treatment DNA row among all of it, the others among those who progressed). A
    sample is pre-treatment or post-progression by :func:`helpers.data.cohort.sample_timepoints`;
    radiotherapy counts when it starts on or after the progression day.
    """
    pt = patient_table(cohort, benefit_months, min_exposure_weeks)
    st = sample_table(cohort, benefit_months, min_exposure_weeks)
    return _attrition(cohort, pt, st)


def _attrition(cohort: Cohort, pt: pd.DataFrame, st: pd.DataFrame) -> pd.DataFrame:
    evaluable = pt["resistance_class"].isin(["primary", "acquired"])
    progressed_eval = evaluable & pt["progressed"]

    def patients_with(mask: pd.Series) -> set[str]:
        return set(st.loc[mask, "patient_id"])

    pre_dna = patients_with((st["timepoint"] == "pre") & st["has_dna"])
    post_dna = patients_with((st["timepoint"] == "post") & st["has_dna"])
    pre_rna = patients_with((st["timepoint"] == "pre") & st["has_rna"])
    post_rna = patients_with((st["timepoint"] == "post") & st["has_rna"])
    rt = set()
    if cohort.radiotherapy is not None and len(cohort.radiotherapy):
        r = cohort.radiotherapy.merge(pt[["patient_id", "progression_day"]], on="patient_id")
        rt = set(r.loc[r["start_day"] >= r["progression_day"], "patient_id"])
    ids = pt["patient_id"]
    rows = [
        ("All patients", len(pt), "cohort overview"),
        (
            "Index ICB course with a resistance class other than not evaluable",
            int((pt["resistance_class"] != "not_evaluable").sum()),
            "resistance classes",
        ),
        ("Primary or acquired resistance", int(evaluable.sum()), "resistance classes"),
        (
            "... progressed (survival after progression)",
            int(progressed_eval.sum()),
            "survival after progression",
        ),
        (
            "... with a pre-treatment DNA sample",
            int(ids[evaluable].isin(pre_dna).sum()),
            "acquired LoF (pre group)",
        ),
        (
            "... with a post-progression DNA sample",
            int(ids[progressed_eval].isin(post_dna).sum()),
            "acquired LoF (post groups)",
        ),
        (
            "... with pre and post DNA (pairs)",
            int(ids[progressed_eval].isin(pre_dna & post_dna).sum()),
            "acquired LoF (pairs)",
        ),
        (
            "... with a post-progression RNA sample",
            int(ids[progressed_eval].isin(post_rna).sum()),
            "TME states",
        ),
        (
            "... with pre and post RNA (pairs)",
            int(ids[progressed_eval].isin(pre_rna & post_rna).sum()),
            "TME transitions",
        ),
        (
            "Progressed (any class) and given radiotherapy after progression",
            int((pt["progressed"] & ids.isin(rt)).sum()),
            "radiotherapy salvage",
        ),
    ]
    out = pd.DataFrame(rows, columns=["analysis set", "patients", "used in"])
    out["% of all"] = (100 * out["patients"] / len(pt)).round(1)
    return out


def _median_iqr(x: pd.Series, digits: int = 0) -> str:
    x = pd.to_numeric(x, errors="coerce").dropna()
    if x.empty:
        return "n/a"
    q1, q2, q3 = np.percentile(x, [25, 50, 75])
    return f"{q2:.{digits}f} ({q1:.{digits}f}-{q3:.{digits}f})"


def _percent(hit: pd.Series, known: pd.Series) -> float | str:
    """Share of ``hit`` among the rows where the value is known, in %, or "n/a"."""
    if not known.any():
        return "n/a"
    return round(100 * (hit & known).sum() / known.sum(), 1)


def _km_median_months(time_days: pd.Series, event: pd.Series) -> float:
    """Product-limit median (first time with S(t) <= 0.5) in months; NaN if not reached."""
    t = pd.to_numeric(time_days, errors="coerce")
    ok = (t.notna() & event.notna()).to_numpy()
    if not ok.any():
        return float("nan")
    fitter = kaplan_meier(t[ok].to_numpy(float), event[ok].astype(bool).to_numpy())
    return km_median(fitter) / DAYS_PER_MONTH


def table_one(cohort: Cohort, benefit_months: float = 6, min_exposure_weeks: float = 6) -> pd.DataFrame:
    """Table 1: patient characteristics and outcomes, overall (column ``All``) and by cancer type.

    Rows: patients (n); age, median (IQR); shares among patients whose value is known (female,
    first line, regimen group); ECOG shares among all patients (rows only where ECOG is
    recorded); baseline TMB, median (IQR); objective response among patients assessed
    (CR/PR/SD/PD); Kaplan-Meier medians of PFS and OS in months ("not recorded" for PFS when
    the source has no tumour assessments); progressed and died, % of all.
    """
    return _table_one(patient_table(cohort, benefit_months, min_exposure_weeks))


def _table_one(pt: pd.DataFrame) -> pd.DataFrame:
    groups = [("All", pt)] + [(t, g) for t, g in pt.groupby("cancer_type", sort=True)]
    rows: dict[str, dict[str, object]] = {}
    for name, g in groups:
        n = len(g)
        col: dict[str, object] = {"Patients, n": n}
        col["Age, median (IQR)"] = _median_iqr(g["age_at_icb"])
        col["Female, % of known"] = _percent(g["sex"] == "female", g["sex"].notna())
        if g["ecog"].notna().any():
            for e in (0, 1, 2):
                col[f"ECOG {e}, %"] = round(100 * (g["ecog"] == e).mean(), 1)
            col["ECOG ≥3 or unknown, %"] = round(100 * ((g["ecog"] >= 3) | g["ecog"].isna()).mean(), 1)
        col["First line, % of known"] = _percent(g["line"] == 1, g["line"].notna())
        known_regimen = g["regimen_group"] != "unknown"
        for grp in ("monotherapy", "combination", "ICB+chemo"):
            col[f"{grp}, % of known"] = _percent(g["regimen_group"] == grp, known_regimen)
        col["Baseline TMB/Mb, median (IQR)"] = _median_iqr(g["tmb"], 1)
        br = g["best_response"]
        assessed = br.isin(["CR", "PR", "SD", "PD"])
        col["Objective response (CR/PR), % of assessed"] = (
            round(100 * br[assessed].isin(["CR", "PR"]).mean(), 1) if assessed.any() else np.nan
        )
        col["Median PFS, months (KM)"] = (
            round(_km_median_months(g["pfs_days"], g["pfs_event"]), 2)
            if g["pfs_days"].notna().any()
            else "not recorded"
        )
        col["Median OS, months (KM)"] = round(_km_median_months(g["os_days"], g["os_event"]), 2)
        col["Progressed, %"] = round(100 * g["progressed"].mean(), 1)
        col["Died, %"] = round(100 * g["death"].astype(bool).mean(), 1)
        rows[name] = col
    return pd.DataFrame(rows)


def sample_availability(
    cohort: Cohort, benefit_months: float = 6, min_exposure_weeks: float = 6
) -> pd.DataFrame:
    """Patients with at least one sample of each kind, by cancer type (rows) and ``All``.

    Columns: ``patients``, then patients with a pre-treatment DNA / RNA sample, an
    on-treatment sample, a post-progression DNA / RNA sample and both a pre and a post DNA /
    RNA sample. An RNA sample counts only where the expression matrix holds it.
    """
    pt = patient_table(cohort, benefit_months, min_exposure_weeks)
    st = sample_table(cohort, benefit_months, min_exposure_weeks)
    return _sample_availability(pt, st)


def _sample_availability(pt: pd.DataFrame, st: pd.DataFrame) -> pd.DataFrame:
    def having(mask: pd.Series) -> pd.Series:
        return pt["patient_id"].isin(set(st.loc[mask, "patient_id"]))

    flags = pd.DataFrame(
        {
            "pre DNA": having((st["timepoint"] == "pre") & st["has_dna"]),
            "pre RNA": having((st["timepoint"] == "pre") & st["has_rna"]),
            "on-treatment": having(st["timepoint"] == "on"),
            "post DNA": having((st["timepoint"] == "post") & st["has_dna"]),
            "post RNA": having((st["timepoint"] == "post") & st["has_rna"]),
        }
    )
    flags["pre+post DNA"] = flags["pre DNA"] & flags["post DNA"]
    flags["pre+post RNA"] = flags["pre RNA"] & flags["post RNA"]
    flags["cancer_type"] = pt["cancer_type"].to_numpy()
    out = flags.groupby("cancer_type").sum().astype(int)
    out.loc["All"] = out.sum()
    out.insert(0, "patients", pt.groupby("cancer_type").size().reindex(out.index[:-1]).tolist() + [len(pt)])
    return out


def swimmer_data(
    cohort: Cohort, n: int = 40, seed: int = 0, benefit_months: float = 6, min_exposure_weeks: float = 6
) -> Swimmer:
    """A random subset of ``n`` patients for a swimmer plot, numbered instead of identified.

    Patients are drawn with ``seed`` and numbered by follow-up (1 = shortest); see
    :class:`Swimmer` for the columns.
    """
    pt = patient_table(cohort, benefit_months, min_exposure_weeks)
    st = sample_table(cohort, benefit_months, min_exposure_weeks)
    return _swimmer(cohort, pt, st, n, seed)


def _swimmer(cohort: Cohort, pt: pd.DataFrame, st: pd.DataFrame, n: int, seed: int) -> Swimmer:
    rng = np.random.default_rng(seed)
    take = rng.choice(len(pt), size=min(n, len(pt)), replace=False)
    sub = pt.iloc[take].sort_values("last_followup_day", ascending=True).reset_index(drop=True)
    sub["row"] = np.arange(1, len(sub) + 1)
    rowmap = dict(zip(sub["patient_id"], sub["row"], strict=True))
    st = st[st["patient_id"].isin(rowmap)]
    events = [
        pd.DataFrame(
            {
                "row": st["patient_id"].map(rowmap),
                "day": st["collection_day"],
                "kind": st["timepoint"].map(lambda t: f"{t} biopsy"),
            }
        )
    ]
    if cohort.radiotherapy is not None:
        r = cohort.radiotherapy[cohort.radiotherapy["patient_id"].isin(rowmap)]
        events.append(
            pd.DataFrame({"row": r["patient_id"].map(rowmap), "day": r["start_day"], "kind": "radiotherapy"})
        )
    ev = pd.concat(events, ignore_index=True).dropna(subset=["day"])
    lanes = sub[
        [
            "row",
            "cancer_type",
            "resistance_class",
            "best_response",
            "last_followup_day",
            "death",
            "progression_day",
            "stop_day",
        ]
    ].copy()
    return Swimmer(lanes=lanes, events=ev)
