"""The facts of FACTS.md, recomputed from the imported public cohorts.

:data:`FACTS` is the list of every number that ``FACTS.md`` states, transcribed from it, each
with how to recompute it: from the imported (canonical) cohort, from the import under the
FACTS convention (every PFS event a progression; see :mod:`helpers.analysis.validation`), or,
for the few facts about source columns outside the data model (prior ipilimumab, sub-cohort,
immune phenotype, ...), from the source table. :func:`facts_agreement` gives one row per fact
with the stated value, the computed value and whether they agree (counts exactly,
Kaplan–Meier medians to 0.01 month with :func:`helpers.stats.survival.km_median`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from helpers.analysis.result import AnalysisResult
from helpers.analysis.validation.public import (
    PUBLIC_COHORTS,
    PublicCohort,
    PublicCohorts,
    classes,
    km_median_months,
    os_months,
    pfs_months,
)


@dataclass(frozen=True)
class Fact:
    """One number stated in FACTS.md and how to recompute it."""

    cohort: str
    quantity: str
    expected: float
    kind: str  # "published" or "data"
    computed_from: str  # "imported cohort", "imported cohort (FACTS convention)", "source table"
    observe: Callable[[PublicCohort], float]
    is_median: bool = False


def _bor(code: str) -> Callable[[PublicCohort], float]:
    return lambda pc: float((pc.cohort.index_courses()["best_response"] == code).sum())


def _sitc(cls: str) -> Callable[[PublicCohort], float]:
    return lambda pc: float((classes(pc.facts_convention.cohort)["resistance_class"] == cls).sum())


def _n_patients(pc: PublicCohort) -> float:
    return float(len(pc.cohort.patients))


def _source_pfs(pc: PublicCohort) -> pd.DataFrame:
    return pfs_months(pc.facts_convention.cohort, deaths_count=False)


def _pfs_events(pc: PublicCohort) -> float:
    return float(_source_pfs(pc)["event"].sum())


def _pfs_median(pc: PublicCohort) -> float:
    return km_median_months(_source_pfs(pc))


def _os_events(pc: PublicCohort) -> float:
    return float(os_months(pc.cohort)["event"].sum())


def _os_n(pc: PublicCohort) -> float:
    return float(len(os_months(pc.cohort)))


def _os_median(pc: PublicCohort) -> float:
    return km_median_months(os_months(pc.cohort))


def _source_count(column: str, value: Any) -> Callable[[PublicCohort], float]:
    return lambda pc: float((pc.clinical[column] == value).sum())


def _bor_by_source(column: str, value: Any, code: str) -> Callable[[PublicCohort], float]:
    def f(pc: PublicCohort) -> float:
        idx = pc.cohort.index_courses().set_index("patient_id")["best_response"]
        group = pc.source_column(column).reindex(idx.index)
        return float(((group == value) & (idx == code)).sum())

    return f


def _reason_count(reason_part: str) -> Callable[[PublicCohort], float]:
    def f(pc: PublicCohort) -> float:
        r = classes(pc.facts_convention.cohort)
        return float(
            (
                (r["resistance_class"] == "not_evaluable")
                & r["reason"].str.contains(reason_part, regex=False)
            ).sum()
        )

    return f


def _patients_with_mutation_calls(pc: PublicCohort) -> float:
    c = pc.cohort
    return float(c.samples.loc[c.samples["sample_id"].isin(c.mutations["sample_id"]), "patient_id"].nunique())


def _mutations_median_per_patient(pc: PublicCohort) -> float:
    c = pc.cohort
    per = c.mutations.merge(c.samples[["sample_id", "patient_id"]], on="sample_id")
    return float(per.groupby("patient_id").size().median())


def _riaz_pre_on_wes(pc: PublicCohort) -> float:
    s = pd.read_csv(pc.directory / "samples.tsv", sep="\t")
    wes = s[s["has_wes"] == 1]
    both = set(wes.loc[wes["timepoint"] == "pre", "patient_id"]) & set(
        wes.loc[wes["timepoint"] == "on", "patient_id"]
    )
    return float(len(both))


def _dna_samples(pc: PublicCohort) -> float:
    return float(pc.cohort.samples["assay"].isin(["DNA", "DNA+RNA"]).sum())


def _altered_samples(pc: PublicCohort) -> float:
    c = pc.cohort
    return float(len(set(c.mutations["sample_id"]) | set(c.cna["sample_id"])))


def _alteration_rows(pc: PublicCohort) -> float:
    return float(len(pc.cohort.mutations) + len(pc.cohort.cna))


def _gene_class_patients(gene: str, classes_: tuple[str, ...]) -> Callable[[PublicCohort], float]:
    def f(pc: PublicCohort) -> float:
        c = pc.cohort
        m = c.mutations[(c.mutations["gene"] == gene) & c.mutations["variant_classification"].isin(classes_)]
        return float(c.samples.loc[c.samples["sample_id"].isin(m["sample_id"]), "patient_id"].nunique())

    return f


def _gene_any_alteration(gene: str) -> Callable[[PublicCohort], float]:
    def f(pc: PublicCohort) -> float:
        c = pc.cohort
        return float((c.mutations["gene"] == gene).sum() + (c.cna["gene"] == gene).sum())

    return f


def _rna_samples(pc: PublicCohort) -> float:
    e = pc.cohort.expression
    return float(e.shape[1]) if e is not None else 0.0


def _expression_genes(pc: PublicCohort) -> float:
    e = pc.cohort.expression
    return float(e.shape[0]) if e is not None else 0.0


def _regimen(code: str | None) -> Callable[[PublicCohort], float]:
    def f(pc: PublicCohort) -> float:
        r = pc.cohort.index_courses()["regimen"]
        return float(r.isna().sum() if code is None else (r == code).sum())

    return f


def _source_samples(assay: str, timepoint: str) -> Callable[[PublicCohort], float]:
    def f(pc: PublicCohort) -> float:
        s = pd.read_csv(pc.directory / "samples.tsv", sep="\t")
        return float(((s["assay"] == assay) & (s["timepoint"] == timepoint)).sum())

    return f


def _source_pre_on_rna(pc: PublicCohort) -> float:
    s = pd.read_csv(pc.directory / "samples.tsv", sep="\t")
    r = s[s["assay"] == "RNA"]
    return float(
        len(
            set(r.loc[r["timepoint"] == "pre", "patient_id"])
            & set(r.loc[r["timepoint"] == "on", "patient_id"])
        )
    )


def _phenotype(value: str, responders: bool) -> Callable[[PublicCohort], float]:
    def f(pc: PublicCohort) -> float:
        idx = pc.cohort.index_courses().set_index("patient_id")["best_response"]
        ph = pc.source_column("src_immune_phenotype").reindex(idx.index)
        assessed = idx.isin(["CR", "PR", "SD", "PD"])
        hit = (ph == value) & assessed
        if responders:
            hit &= idx.isin(["CR", "PR"])
        return float(hit.sum())

    return f


def _facts() -> list[Fact]:
    F: list[Fact] = []
    IMP, FC, SRC = "imported cohort", "imported cohort (FACTS convention)", "source table"

    def add(
        cohort: str,
        quantity: str,
        expected: float,
        kind: str,
        source: str,
        observe: Callable[[PublicCohort], float],
        median: bool = False,
    ) -> None:
        F.append(Fact(cohort, quantity, float(expected), kind, source, observe, median))

    def bors(cohort: str, counts: Mapping[str, int]) -> None:
        for code, n in counts.items():
            add(cohort, f"best response {code}", n, "data", IMP, _bor(code))

    def surv(
        cohort: str, pfs: tuple[int, float] | None, os_: tuple[int, float] | None, os_n: int | None = None
    ) -> None:
        if pfs:
            add(cohort, "PFS events", pfs[0], "data", FC, _pfs_events)
            add(cohort, "PFS KM median (months)", pfs[1], "data", FC, _pfs_median, True)
        if os_:
            if os_n is not None:
                add(cohort, "patients with OS", os_n, "data", IMP, _os_n)
            add(cohort, "OS deaths", os_[0], "data", IMP, _os_events)
            add(cohort, "OS KM median (months)", os_[1], "data", IMP, _os_median, True)

    def sitc(cohort: str, counts: Mapping[str, int]) -> None:
        for cls, n in counts.items():
            add(cohort, f"SITC class {cls}", n, "data", FC, _sitc(cls))

    c = "riaz2017_melanoma_nivolumab"
    add(c, "patients", 73, "data", IMP, _n_patients)
    add(c, "patients with pre-treatment exome calls", 68, "published", IMP, _patients_with_mutation_calls)
    add(c, "progressed on ipilimumab (NIV3-PROG)", 39, "data", SRC, _source_count("prior_ipilimumab", 1))
    add(c, "ipilimumab-naive", 34, "data", SRC, _source_count("prior_ipilimumab", 0))
    bors(c, {"PD": 31, "SD": 24, "PR": 12, "CR": 3, "NE": 3})
    for prior, label, counts in (
        (0, "ipilimumab-naive", {"CR": 2, "PR": 5, "SD": 9, "PD": 15, "NE": 3}),
        (1, "ipilimumab-progressed", {"CR": 1, "PR": 7, "SD": 15, "PD": 16}),
    ):
        for code, n in counts.items():
            add(
                c,
                f"best response {code}, {label}",
                n,
                "data",
                "imported cohort + source column",
                _bor_by_source("prior_ipilimumab", prior, code),
            )
    surv(c, (58, 3.68), (42, 23.26))
    sitc(c, {"primary": 42, "acquired": 13, "ongoing_benefit": 12, "not_evaluable": 6})
    add(c, "not evaluable: best response NE", 3, "data", FC, _reason_count("(NE)"))
    add(c, "not evaluable: censored before 6 months", 3, "data", FC, _reason_count("follow-up shorter"))
    add(
        c,
        "nonsynonymous SNVs before treatment",
        28589,
        "data",
        IMP,
        lambda pc: float(len(pc.cohort.mutations)),
    )
    add(c, "median SNVs per patient", 182.5, "data", IMP, _mutations_median_per_patient)
    add(c, "patients with pre and on-treatment exomes", 41, "data", SRC, _riaz_pre_on_wes)
    add(c, "pre-treatment RNA samples", 46, "data", IMP, _rna_samples)
    add(c, "genes in the expression matrix", 19961, "data", IMP, _expression_genes)

    c = "imvigor210_urothelial_atezolizumab"
    add(c, "patients", 367, "data", IMP, _n_patients)
    bors(c, {"PD": 174, "SD": 67, "PR": 44, "CR": 27})
    add(c, "best response NE or missing (NE in the cohort)", 6 + 49, "data", IMP, _bor("NE"))
    add(
        c,
        "responders (CR/PR)",
        71,
        "data",
        IMP,
        lambda pc: float(pc.cohort.index_courses()["best_response"].isin(["CR", "PR"]).sum()),
    )
    add(
        c,
        "patients with CR/PR/SD/PD",
        312,
        "data",
        IMP,
        lambda pc: float(pc.cohort.index_courses()["best_response"].isin(["CR", "PR", "SD", "PD"]).sum()),
    )
    surv(c, None, (232, 8.77), os_n=348)
    for ph, (resp, n) in {"inflamed": (16, 40), "excluded": (13, 59), "desert": (9, 44)}.items():
        add(
            c,
            f"immune phenotype {ph}: responders",
            resp,
            "data",
            "imported cohort + source column",
            _phenotype(ph, True),
        )
        add(
            c,
            f"immune phenotype {ph}: with CR/PR/SD/PD",
            n,
            "data",
            "imported cohort + source column",
            _phenotype(ph, False),
        )
    add(c, "FoundationOne samples", 293, "data", IMP, _dna_samples)
    add(c, "FoundationOne samples with an alteration", 283, "data", IMP, _altered_samples)
    add(c, "FoundationOne alteration rows", 1835, "data", IMP, _alteration_rows)
    add(
        c,
        "patients with a JAK1 frameshift",
        2,
        "data",
        IMP,
        _gene_class_patients("JAK1", ("Frame_Shift_Del", "Frame_Shift_Ins")),
    )
    add(c, "B2M alterations", 0, "data", IMP, _gene_any_alteration("B2M"))
    add(c, "RNA samples", 195, "data", IMP, _rna_samples)
    add(c, "genes in the expression matrix", 1768, "data", IMP, _expression_genes)

    c = "morrison1_melanoma_campbell2023"
    add(c, "subjects (Liu 2019 removed)", 285, "data", IMP, _n_patients)
    bors(c, {"PD": 123, "PR": 76, "SD": 57, "CR": 29})
    add(c, "prior anti-CTLA-4", 39, "data", SRC, _source_count("prior_ipilimumab", 1))
    for tp, n in {"pre": 241, "on": 77, "post": 3}.items():
        add(c, f"RNA samples {tp}", n, "data", SRC, _source_samples("RNA", tp))
    add(c, "subjects with pre and on RNA", 68, "data", SRC, _source_pre_on_rna)

    c = "chowell2021_pancancer_msk"
    add(c, "patients", 1479, "published", IMP, _n_patients)
    add(c, "training set", 1184, "published", SRC, _source_count("src_split", "Training"))
    add(c, "test set", 295, "published", SRC, _source_count("src_split", "Test"))
    add(c, "responders", 409, "data", SRC, _source_count("response_binary", 1))
    add(
        c,
        "responders, training",
        319,
        "data",
        SRC,
        lambda pc: float(
            ((pc.clinical["src_split"] == "Training") & (pc.clinical["response_binary"] == 1)).sum()
        ),
    )
    add(
        c,
        "responders, test",
        90,
        "data",
        SRC,
        lambda pc: float(
            ((pc.clinical["src_split"] == "Test") & (pc.clinical["response_binary"] == 1)).sum()
        ),
    )
    surv(c, (1233, 2.66), (873, 14.32))

    c = "chang2024_loris_validation_cohorts"
    add(c, "patients", 1402, "data", IMP, _n_patients)
    for sub, n in {
        "MSK1": 453,
        "Ravi_NSCLC": 309,
        "Vanguri_NSCLC": 246,
        "Shim_NSCLC": 198,
        "MSK2": 104,
        "Pradat_panCancer": 57,
        "Kato_panCancer": 35,
    }.items():
        add(c, f"sub-cohort {sub}", n, "data", SRC, _source_count("sub_cohort", sub))
    add(c, "responders", 416, "data", SRC, _source_count("response_binary", 1))
    surv(c, (1103, 3.54), (845, 12.85))

    c = "samstein2019_tmb_mskcc"
    add(c, "patients in the cBioPortal export", 1661, "published", IMP, _n_patients)
    add(c, "anti-PD-1/PD-L1 (regimen not resolved to PD-1 or PD-L1)", 1307, "data", IMP, _regimen(None))
    add(c, "PD-(L)1 + CTLA-4 combination", 255, "data", IMP, _regimen("PD-1+CTLA-4"))
    add(c, "anti-CTLA-4", 99, "data", IMP, _regimen("anti-CTLA-4"))
    surv(c, None, (832, 18.0))

    c = "rizvi2018_nsclc_msk"
    add(c, "patients", 240, "published", IMP, _n_patients)
    for v, n in {"YES": 69, "NO": 158, "NE": 13}.items():
        add(
            c,
            f"durable clinical benefit {v}",
            n,
            "data",
            SRC,
            _source_count("src_durable_clinical_benefit", v),
        )
    surv(c, (198, 3.43), None)

    c = "hugo2016_melanoma_pd1"
    add(c, "patients", 38, "published", IMP, _n_patients)
    bors(c, {"PD": 17, "PR": 14, "CR": 7})
    surv(c, None, (19, 31.0), os_n=37)
    add(c, "RNA samples", 27, "data", IMP, _rna_samples)

    c = "gide2019_melanoma_pd1"
    add(c, "patients (PD-1 monotherapy arm)", 41, "data", IMP, _n_patients)
    bors(c, {"PD": 16, "PR": 15, "SD": 6, "CR": 4})
    surv(c, (29, 9.03), (24, 29.27))
    sitc(c, {"primary": 19, "acquired": 10, "ongoing_benefit": 12, "not_evaluable": 0})

    c = "vanallen2015_melanoma_ctla4"
    add(c, "patients", 42, "data", IMP, _n_patients)
    bors(c, {"PD": 27, "SD": 7, "PR": 5, "CR": 2})
    add(c, "best response missing (NE in the cohort)", 1, "data", IMP, _bor("NE"))
    surv(c, (36, 2.75), (29, 10.66))
    sitc(c, {"primary": 30, "acquired": 5, "ongoing_benefit": 6, "not_evaluable": 1})

    c = "miao2018_ccrcc_pd1"
    add(c, "patients", 33, "data", IMP, _n_patients)
    bors(c, {"PD": 16, "SD": 9, "PR": 7, "CR": 1})
    surv(c, (25, 3.44), (10, 38.98))
    return F


#: Every checked number of FACTS.md (one :class:`Fact` each).
FACTS: list[Fact] = _facts()


def agrees(observed: float, expected: float, is_median: bool) -> bool:
    """Counts must be equal; medians must equal the stated value to 0.01 month."""
    if observed is None or not np.isfinite(observed):
        return False
    if is_median:
        return abs(round(observed, 2) - expected) < 1e-9
    return abs(observed - expected) < 1e-9


def facts_agreement(cohorts: Mapping[str, PublicCohort]) -> pd.DataFrame:
    """One row per fact of :data:`FACTS` for the loaded cohorts: stated, computed, agreement.

    Columns: ``cohort`` (label), ``fact``, ``kind`` (published/data), ``computed from``,
    ``FACTS.md``, ``computed``, ``agrees`` ("pass"/"fail").
    """
    rows = []
    for f in FACTS:
        pc = cohorts.get(f.cohort)
        if pc is None:
            continue
        obs = float(f.observe(pc))
        ok = agrees(obs, f.expected, f.is_median)
        rows.append(
            {
                "cohort": PUBLIC_COHORTS[f.cohort],
                "fact": f.quantity,
                "kind": f.kind,
                "computed from": f.computed_from,
                "FACTS.md": _number_text(f.expected, f.is_median),
                "computed": _number_text(obs, f.is_median),
                "agrees": "pass" if ok else "fail",
            }
        )
    return pd.DataFrame(
        rows, columns=["cohort", "fact", "kind", "computed from", "FACTS.md", "computed", "agrees"]
    )


def _number_text(value: float, is_median: bool) -> str:
    """Numbers of the agreement table as text (medians with 2 decimals, counts as integers)."""
    if value is None or not np.isfinite(value):
        return "not estimable"
    if is_median:
        return f"{value:.2f}"
    return f"{int(value)}" if float(value).is_integer() else f"{value:g}"


def facts_summary(agreement: pd.DataFrame) -> pd.DataFrame:
    """Facts checked, passed and failed per cohort (and in total)."""
    g = agreement.groupby("cohort", sort=False)["agrees"]
    out = pd.DataFrame(
        {
            "facts checked": g.size(),
            "pass": g.apply(lambda a: int((a == "pass").sum())),
            "fail": g.apply(lambda a: int((a == "fail").sum())),
        }
    )
    out.loc["all cohorts"] = out.sum()
    return out.astype(int)


#: What the agreement table's ``computed`` column says of a fact that could not be computed.
NOT_COMPUTED = _number_text(float("nan"), False)


def facts_by_cohort(agreement: pd.DataFrame) -> pd.DataFrame:
    """The agreement table (:func:`facts_agreement`) in one row per cohort, for the page.

    Columns: ``facts checked``; ``agree`` (the computed value equals the stated one);
    ``disagree`` (a value was computed and differs); ``not checkable`` (no value could be
    computed from the imported cohort, shown as :data:`NOT_COMPUTED` in the agreement table).
    Cohorts in the order of the agreement table (index ``cohort``), then the row
    ``all cohorts``. An empty agreement table (no public cohort loaded) gives that row of zeros.
    """
    passed = agreement["agrees"] == "pass"
    unknown = ~passed & (agreement["computed"] == NOT_COMPUTED)
    flags = pd.DataFrame(
        {
            "cohort": agreement["cohort"],
            "facts checked": 1,
            "agree": passed.astype(int),
            "disagree": (~passed & ~unknown).astype(int),
            "not checkable": unknown.astype(int),
        }
    )
    out = flags.groupby("cohort", sort=False).sum()
    out.loc["all cohorts"] = out.sum() if len(out) else 0
    out.index.name = "cohort"
    return out.astype(int)


@dataclass(kw_only=True)
class FactsCheck(AnalysisResult):
    """The facts of FACTS.md beside the values computed from the loaded public cohorts.

    Attributes
    ----------
    agreement
        :func:`facts_agreement`: one row per fact.
    summary
        :func:`facts_summary`: facts checked, passed and failed per cohort and in total.
    """

    agreement: pd.DataFrame
    summary: pd.DataFrame

    @property
    def n_facts(self) -> int:
        """Facts checked."""
        return len(self.agreement)

    @property
    def n_failed(self) -> int:
        """Facts whose computed value does not agree."""
        return int((self.agreement["agrees"] == "fail").sum())


def check_facts(public: PublicCohorts) -> FactsCheck:
    """Every fact of :data:`FACTS` whose cohort is loaded, checked (empty tables if none is)."""
    agreement = facts_agreement(public.cohorts)
    return FactsCheck(missing=public.missing, agreement=agreement, summary=facts_summary(agreement))
