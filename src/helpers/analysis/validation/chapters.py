"""The other chapters' methods on the public cohorts, and what a cohort supports.

Chapter 7 runs the analyses of chapters 2-5 on real patients where a public cohort supports
them: the resistance classes under both PFS-death conventions, survival after progression
(per cohort and pooled over cohorts that share no patients), pre-treatment loss of function in
IMvigor210 and the TME scores by immune phenotype. :func:`chapter_support` says, for any
cohort, which chapters of the book it supports and what is missing for the others.

Every ``public_*`` function takes the :class:`~helpers.analysis.validation.public.PublicCohorts`
of the chapter and returns a result whose ``missing`` says why a section is empty.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from helpers.analysis import lof, pps, radiotherapy, tme
from helpers.analysis.derive import patient_table
from helpers.analysis.resistance import classification_support
from helpers.analysis.result import AnalysisResult
from helpers.analysis.validation.public import (
    MSK_SUBCOHORTS_LEFT_OUT,
    POOLED_COHORTS,
    PUBLIC_COHORTS,
    PublicCohort,
    PublicCohorts,
    classes,
    km_median_months,
)
from helpers.data.cohort import Cohort, sample_timepoints
from helpers.data.genesets import load_signatures
from helpers.data.importers import lacks_table, repairs_table
from helpers.stats.ssgsea import ssgsea
from helpers.units import CLASSES

# ----------------------------------------------------------------------------------------
# what a cohort supports
# ----------------------------------------------------------------------------------------
#: The book's chapters, in order, with what each needs.
CHAPTERS = {
    "01_cohort_overview": "patients",
    "02_resistance_classes": "a best response or progression-free survival",
    "03_survival_after_progression": (
        "progression days, deaths after progression and both primary and acquired resistance"
    ),
    "04_acquired_lof": "mutation or copy-number calls on post-progression DNA samples",
    "05_tme_states": "expression (post-progression RNA for the main comparison)",
    "06_radiotherapy_salvage": "radiotherapy courses (the literature meta-analysis needs nothing)",
    "07_validation": "nothing from the run's cohort (it reads the public cohorts)",
}


def chapter_support(cohort: Cohort, benefit_months: float = 6, min_exposure_weeks: float = 6) -> pd.DataFrame:
    """Which chapters a cohort supports: ``supported`` (yes / partly / no) and what is missing.

    One row per chapter of :data:`CHAPTERS` (the index). Chapters that a cohort does not
    support still run: they say in one sentence what is missing instead of failing.
    """
    pt = patient_table(cohort, benefit_months, min_exposure_weeks)
    samples = cohort.samples.assign(timepoint=sample_timepoints(cohort).to_numpy())
    post = samples["timepoint"] == "post"
    dna = samples["assay"].isin(["DNA", "DNA+RNA"])
    rna = samples["assay"].isin(["RNA", "DNA+RNA"])
    if cohort.expression is not None:
        rna &= samples["sample_id"].isin(cohort.expression.columns)
    else:
        rna &= False
    rows = []

    def add(chapter: str, status: str, missing: str = "") -> None:
        rows.append({"chapter": chapter, "supported": status, "what is missing": missing})

    add("01_cohort_overview", "yes")
    add("02_resistance_classes", *classification_support(cohort.index_courses()))
    why = pps.unavailable_reason(pt)
    add("03_survival_after_progression", "no" if why else "yes", why or "")
    if not (cohort.has("mutations") or cohort.has("cna")):
        add("04_acquired_lof", "no", "no mutation or copy-number calls")
    elif (dna & post).any():
        add("04_acquired_lof", "yes")
    else:
        add("04_acquired_lof", "no", "no post-progression DNA samples (pre-treatment calls only)")
    if not rna.any():
        add("05_tme_states", "no", "no expression data")
    elif (rna & post).any():
        add("05_tme_states", "yes")
    else:
        add("05_tme_states", "partly", "no post-progression RNA: pre-treatment TME only")
    if cohort.has("radiotherapy"):
        add("06_radiotherapy_salvage", "yes")
    else:
        add("06_radiotherapy_salvage", "partly", "no radiotherapy courses: the literature meta-analysis only")
    add("07_validation", "yes")
    return pd.DataFrame(rows).set_index("chapter")


def support_matrix(
    cohorts: Mapping[str, PublicCohort], benefit_months: float = 6, min_exposure_weeks: float = 6
) -> pd.DataFrame:
    """Chapters (columns) each public cohort (rows, by label) supports: yes / partly / no."""
    rows = {
        pc.label: chapter_support(pc.cohort, benefit_months, min_exposure_weeks)["supported"]
        for pc in cohorts.values()
    }
    out = pd.DataFrame(rows).T if rows else pd.DataFrame(columns=list(CHAPTERS))
    out.index.name, out.columns.name = "cohort", None
    return out


@dataclass(kw_only=True)
class RunCohortReport(AnalysisResult):
    """What the cohort of this run supports and, for an imported cohort, how it was imported.

    Attributes
    ----------
    chapter_support
        :func:`chapter_support` of the run's cohort.
    import_tables
        ``{"run_cohort_repairs": ..., "run_cohort_lacks": ...}``: the repairs the importer
        made and what the source lacks; empty for a simulated cohort, which is not imported.
    """

    chapter_support: pd.DataFrame
    import_tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def run_cohort_report(
    cohort: Cohort, benefit_months: float = 6, min_exposure_weeks: float = 6
) -> RunCohortReport:
    """The first section of chapter 7: the cohort the book was run on."""
    tables = (
        {}
        if cohort.simulated
        else {"run_cohort_repairs": repairs_table(cohort), "run_cohort_lacks": lacks_table(cohort)}
    )
    return RunCohortReport(
        chapter_support=chapter_support(cohort, benefit_months, min_exposure_weeks), import_tables=tables
    )


# ----------------------------------------------------------------------------------------
# chapter 2 on the public cohorts: both PFS-death conventions
# ----------------------------------------------------------------------------------------
def class_counts_both_rules(
    cohorts: Mapping[str, PublicCohort], benefit_months: float = 6, min_exposure_weeks: float = 6
) -> pd.DataFrame:
    """SITC class counts per cohort under the FACTS convention and under the book's death rule.

    Rows: cohorts with a best response or a PFS (index ``cohort``, the label); columns
    ``<class> (FACTS)`` and ``<class> (book)``, ``basis`` and ``PFS events on the day of death``.
    """
    columns = [f"{k} (FACTS)" for k in CLASSES] + [f"{k} (book)" for k in CLASSES]
    columns += ["basis", "PFS events on the day of death"]
    rows = []
    for pc in cohorts.values():
        idx = pc.cohort.index_courses()
        if classification_support(idx)[0] == "no":
            continue
        a = classes(pc.facts_convention.cohort, benefit_months, min_exposure_weeks)
        b = classes(pc.cohort, benefit_months, min_exposure_weeks)
        row: dict[str, Any] = {"cohort": pc.label}
        for k in CLASSES:
            row[f"{k} (FACTS)"] = int((a["resistance_class"] == k).sum())
        for k in CLASSES:
            row[f"{k} (book)"] = int((b["resistance_class"] == k).sum())
        row["basis"] = "progression timing only" if idx["best_response"].isna().all() else "best response"
        fc = pc.facts_convention.cohort.index_courses()
        row["PFS events on the day of death"] = int(
            fc["progression_day"].notna().sum() - idx["progression_day"].notna().sum()
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=["cohort", *columns]).set_index("cohort")


@dataclass(kw_only=True)
class PublicClasses(AnalysisResult):
    """Chapter 2 on the public cohorts: :func:`class_counts_both_rules` as ``table``."""

    table: pd.DataFrame


def public_classes(
    public: PublicCohorts, benefit_months: float = 6, min_exposure_weeks: float = 6
) -> PublicClasses:
    """The SITC classes of every public cohort that records a best response or a PFS."""
    return PublicClasses(
        missing=public.missing,
        table=class_counts_both_rules(public.cohorts, benefit_months, min_exposure_weeks),
    )


# ----------------------------------------------------------------------------------------
# chapter 3 on the public cohorts: survival after progression
# ----------------------------------------------------------------------------------------
def pps_sets(
    cohorts: Mapping[str, PublicCohort], benefit_months: float = 6, min_exposure_weeks: float = 6
) -> dict[str, pd.DataFrame]:
    """The survival-after-progression analysis set of every cohort that supports it.

    LORIS keeps only its non-MSK sub-cohorts; each set gets a first column ``cohort`` (label).
    """
    out = {}
    for folder, pc in cohorts.items():
        pt = patient_table(pc.cohort, benefit_months, min_exposure_weeks)
        if pps.unavailable_reason(pt) is not None:
            continue
        if folder == "chang2024_loris_validation_cohorts":
            sub = pc.source_column("sub_cohort").reindex(pt["patient_id"]).to_numpy()
            pt = pt[~pd.Series(sub).isin(MSK_SUBCOHORTS_LEFT_OUT).to_numpy()]
        s = pps.pps_analysis_set(pt)
        s.insert(0, "cohort", pc.label)
        out[folder] = s
    return out


#: Columns of :func:`pps_table` (after the index ``set``).
PPS_COLUMNS = [
    *(
        f"{cls}: {what}"
        for cls in ("acquired", "primary")
        for what in ("patients", "deaths", "median PPS (months)")
    ),
    "hr",
    "ci_low",
    "ci_high",
    "p",
    "note",
]


def _pps_row(name: str, data: pd.DataFrame, strata: str | None) -> dict[str, Any]:
    """One row of :func:`pps_table`: counts and medians per class, then the Cox hazard ratio."""
    r: dict[str, Any] = {"set": name}
    for cls in ("acquired", "primary"):
        d = data[data["resistance_class"] == cls]
        r[f"{cls}: patients"] = int(len(d))
        r[f"{cls}: deaths"] = int(d["pps_event"].sum())
        r[f"{cls}: median PPS (months)"] = round(
            km_median_months(d.rename(columns={"pps_months": "months", "pps_event": "event"})), 2
        )
    r.update({"hr": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan, "note": ""})
    deaths = data.groupby("acquired")["pps_event"].sum()
    if len(deaths) < 2 or deaths.min() < 3:
        r["note"] = "fewer than 3 deaths in a class: no hazard ratio"
        return r
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small public cohorts: convergence notes, not errors
        fit = pps.fit_adjusted_cox(data, "pps_months", "pps_event", "acquired", [], strata=strata)
    hr = fit.exposure_hr()
    r.update({k: round(hr[k], 3) for k in ("hr", "ci_low", "ci_high")}, p=hr["p"])
    return r


def pps_table(sets: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Acquired vs primary survival after progression per cohort and pooled (no overlaps).

    Per cohort: patients and deaths per class, KM medians and the unadjusted Cox hazard ratio
    (95% CI). Pooled (last row): Cox stratified by cohort and cancer type over
    :data:`POOLED_COHORTS` (covariates are recorded too unevenly across the public cohorts to
    adjust for them).
    """
    rows = [_pps_row(data["cohort"].iat[0], data, None) for data in sets.values()]
    pooled = [sets[f] for f in POOLED_COHORTS if f in sets]
    if pooled:
        data = pd.concat(pooled, ignore_index=True)
        data["stratum"] = data["cohort"] + " · " + data["cancer_type"]
        rows.append(
            _pps_row("pooled (stratified by cohort and cancer type; no overlapping cohorts)", data, "stratum")
        )
    return pd.DataFrame(rows, columns=["set", *PPS_COLUMNS]).set_index("set")


@dataclass(kw_only=True)
class PublicPPS(AnalysisResult):
    """Chapter 3 on the public cohorts: the analysis sets and :func:`pps_table`."""

    sets: dict[str, pd.DataFrame]
    table: pd.DataFrame


def public_pps(public: PublicCohorts, benefit_months: float = 6, min_exposure_weeks: float = 6) -> PublicPPS:
    """Survival after progression, acquired vs primary, in every public cohort that supports it."""
    sets = pps_sets(public.cohorts, benefit_months, min_exposure_weeks)
    return PublicPPS(missing=public.missing, sets=sets, table=pps_table(sets))


# ----------------------------------------------------------------------------------------
# chapters 4 and 5 on the public cohorts
# ----------------------------------------------------------------------------------------
#: Genes with acquired LoF in the real-world study (B2M, TGFBR2, CYLD, RUNX1) and the IFN-γ
#: pathway genes of the simulation (JAK1, JAK2).
ACQUIRED_LOF_GENES = ("B2M", "TGFBR2", "CYLD", "RUNX1", "JAK1", "JAK2")

#: The public cohort with pre-treatment DNA calls, immune phenotypes and RNA.
IMVIGOR210 = "imvigor210_urothelial_atezolizumab"


def baseline_lof(pc: PublicCohort, genes: Iterable[str] = ACQUIRED_LOF_GENES) -> pd.DataFrame:
    """Pre-treatment LoF carriers of each gene (panel-aware, :func:`helpers.analysis.lof.lof_matrix`).

    Returns one row per gene: samples assayed (gene on the sample's panel), LoF carriers and
    whether the gene is on the (reconstructed) panel at all.
    """
    c = pc.cohort
    genes = list(genes)
    samples = c.samples.assign(timepoint=sample_timepoints(c).to_numpy())
    pre = samples[(samples["timepoint"] == "pre") & samples["assay"].isin(["DNA", "DNA+RNA"])]
    cna = (
        c.cna
        if c.cna is not None
        else pd.DataFrame(
            {
                "sample_id": pd.Series(dtype=str),
                "gene": pd.Series(dtype=str),
                "copy_state": pd.Series(dtype=int),
            }
        )
    )
    panels = c.panels if c.panels is not None else pd.DataFrame(columns=["panel_id", "gene"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # genes off the reconstructed panel are warned about
        m = lof.lof_matrix(
            c.mutations[c.mutations["sample_id"].isin(pre["sample_id"])],
            cna[cna["sample_id"].isin(pre["sample_id"])],
            pre,
            panels,
            genes,
        )
    return pd.DataFrame(
        {
            "gene": genes,
            "samples assayed": [int(m[g].notna().sum()) for g in genes],
            "LoF carriers": [int((m[g] == 1).sum()) for g in genes],
            "on the panel": ["yes" if m[g].notna().any() else "no (not assayed)" for g in genes],
        }
    ).set_index("gene")


@dataclass(kw_only=True)
class BaselineLof(AnalysisResult):
    """Chapter 4 on IMvigor210: :func:`baseline_lof` as ``table`` (empty when it is absent)."""

    table: pd.DataFrame


def public_baseline_lof(public: PublicCohorts, genes: Iterable[str] = ACQUIRED_LOF_GENES) -> BaselineLof:
    """Pre-treatment LoF of the acquired-LoF genes in IMvigor210."""
    imv = public.get(IMVIGOR210)
    if imv is None:
        empty = pd.DataFrame(columns=["gene", "samples assayed", "LoF carriers", "on the panel"]).set_index(
            "gene"
        )
        return BaselineLof(missing=public.missing or _absent(IMVIGOR210), table=empty)
    return BaselineLof(table=baseline_lof(imv, genes))


def _absent(folder: str) -> str:
    """The sentence of a section whose public cohort was not found."""
    return f"{PUBLIC_COHORTS[folder].split(' (')[0]} is not among the public cohorts found, so this section is empty."


#: Signatures compared across IMvigor210's immune phenotypes (data/signatures/icb_signatures.gmt).
PHENOTYPE_SIGNATURES = (
    "IFNG_AYERS2017",
    "TCELL_INFLAMED_GEP",
    "CYTOLYTIC_ACTIVITY",
    "TGFB_SIGNALLING",
    "CAF_MATRIX",
)
PHENOTYPES = ("inflamed", "excluded", "desert")


def phenotype_scores(pc: PublicCohort, signatures: Iterable[str] = PHENOTYPE_SIGNATURES) -> pd.DataFrame:
    """ssGSEA scores of IMvigor210 RNA samples with the patient's immune phenotype.

    Raw ssGSEA scores (a sample's score depends on that sample alone). Returns one row per
    RNA sample: ``phenotype`` plus one column per signature.

    Raises
    ------
    ValueError
        The cohort has no expression matrix.
    """
    c = pc.cohort
    if c.expression is None:
        raise ValueError(f"{pc.label}: the cohort has no expression matrix")
    sets = load_signatures(list(signatures))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # IMvigor210's 1,768 genes miss some signature genes
        scores = ssgsea(c.expression, sets).T
    patient_of = c.samples.set_index("sample_id")["patient_id"]
    ph = pc.source_column("src_immune_phenotype")
    scores.insert(0, "phenotype", patient_of.reindex(scores.index).map(ph).to_numpy())
    scores.index.name = None
    return scores.reset_index(drop=True)


def phenotype_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Median score per immune phenotype and the Kruskal–Wallis p across phenotypes."""
    data = scores[scores["phenotype"].isin(PHENOTYPES)]
    rows = []
    for sig in [c for c in scores.columns if c != "phenotype"]:
        groups = [data.loc[data["phenotype"] == p, sig] for p in PHENOTYPES]
        r: dict[str, Any] = {"signature": sig}
        for p, g in zip(PHENOTYPES, groups, strict=True):
            r[f"median, {p} (n={len(g)})"] = round(float(g.median()), 3)
        r["Kruskal-Wallis p"] = float(stats.kruskal(*groups).pvalue)
        rows.append(r)
    return pd.DataFrame(rows).set_index("signature")


def tme_validations(public_dir: str | Path) -> list[tuple[str, str, pd.DataFrame]]:
    """The real-data checks of the TME chapter's module (:mod:`helpers.analysis.tme`).

    Returns ``(name, caption, table)`` triples: the trend of immune scores from desert to
    excluded to inflamed IMvigor210 tumours, the TME subtypes by immune phenotype (with the
    one-sided Fisher test of immune-enriched subtypes among inflamed tumours) and the IFN-γ
    score of responders vs non-responders in every public cohort with RNA.
    """
    trend = tme.immune_phenotype_trend(public_dir)
    counts, test = tme.immune_subtypes_by_phenotype(public_dir)
    response = tme.response_association(public_dir).rename(index=PUBLIC_COHORTS)
    fisher = test.to_frame("IMvigor210").T
    return [
        (
            "public_tme_phenotype_trend",
            "IMvigor210: immune scores by immune phenotype, "
            "Jonckheere–Terpstra trend test (open published data)",
            trend,
        ),
        (
            "public_tme_subtypes_by_phenotype",
            "IMvigor210: TME subtypes by immune phenotype (open published data)",
            counts,
        ),
        (
            "public_tme_subtype_fisher",
            "IMvigor210: immune-enriched subtypes among inflamed "
            "tumours, one-sided Fisher test (open published data)",
            fisher,
        ),
        (
            "public_tme_response",
            "IFN-γ score (scaled) of responders vs non-responders, "
            "one-sided Mann–Whitney test (open published data)",
            response,
        ),
    ]


@dataclass(kw_only=True)
class PublicTME(AnalysisResult):
    """Chapter 5 on the public cohorts.

    Attributes
    ----------
    checks
        :func:`tme_validations` (empty when the public cohorts were not found).
    phenotype_scores
        :func:`phenotype_scores` of IMvigor210 (empty when it is absent).
    """

    checks: list[tuple[str, str, pd.DataFrame]]
    phenotype_scores: pd.DataFrame


def public_tme(public: PublicCohorts) -> PublicTME:
    """The TME chapter's checks on the public cohorts and IMvigor210's scores by phenotype."""
    checks = tme_validations(public.directory) if public.directory is not None else []
    imv = public.get(IMVIGOR210)
    if imv is None:
        scores = pd.DataFrame(columns=["phenotype", *PHENOTYPE_SIGNATURES])
        return PublicTME(
            missing=public.missing or _absent(IMVIGOR210), checks=checks, phenotype_scores=scores
        )
    return PublicTME(checks=checks, phenotype_scores=phenotype_scores(imv))


# ----------------------------------------------------------------------------------------
# checks that the chapter modules add
# ----------------------------------------------------------------------------------------
#: Chapter modules that may expose real-data checks for this chapter. A module that defines
#: ``real_data_validation(public_dir) -> list[(caption, DataFrame)]`` has its tables shown
#: by :func:`hooked_validations` without any change here.
CHAPTER_MODULES: dict[str, ModuleType] = {"pps": pps, "lof": lof, "tme": tme, "radiotherapy": radiotherapy}


def hooked_validations(public_dir: str | Path) -> list[tuple[str, str, pd.DataFrame]]:
    """``(name, caption, table)`` of the ``real_data_validation`` hook of each chapter module."""
    out = []
    for name, module in CHAPTER_MODULES.items():
        hook = getattr(module, "real_data_validation", None)
        if hook is None:
            continue
        for i, (caption, table) in enumerate(hook(public_dir), 1):
            out.append((f"public_{name}_check_{i}", f"{caption} (open published data)", table))
    return out


#: The sentence of the section when no chapter module defines a check.
NO_HOOKED_CHECKS = "No chapter module defines further real-data checks yet."


@dataclass(kw_only=True)
class ChapterChecks(AnalysisResult):
    """The checks the chapter modules add (:func:`hooked_validations`) as ``checks``."""

    checks: list[tuple[str, str, pd.DataFrame]]


def chapter_checks(public: PublicCohorts) -> ChapterChecks:
    """The real-data checks of the chapter modules, run on the public cohorts."""
    if public.directory is None:
        return ChapterChecks(missing=public.missing, checks=[])
    checks = hooked_validations(public.directory)
    return ChapterChecks(missing=None if checks else NO_HOOKED_CHECKS, checks=checks)
