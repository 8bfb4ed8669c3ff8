"""Chapter 7: the book's methods on real patients, side by side with published facts.

The public cohorts of ``../shared/data/public/`` are imported with :mod:`helpers.data.sources` as
open published data and every number that ``FACTS.md`` states is recomputed from the imported
(canonical) cohort, or, for the few facts about source columns outside the data model (prior
ipilimumab, sub-cohort, immune phenotype, ...), from the source table. :data:`FACTS` is that
list, transcribed from ``FACTS.md``; :func:`facts_agreement` gives one row per fact with the
stated value, the computed value and whether they agree (counts exactly, Kaplan–Meier medians
to 0.01 month with :func:`helpers.stats.survival.km_median`).

Two conventions matter:

* The "[data] SITC-rule classes" of FACTS.md count every PFS event as a progression, although
  the sources' PFS event also counts deaths. The importers' default does not count a PFS event
  on the day of death as a progression (DESIGN §4), so the class counts are checked on an
  import with ``death_is_progression=True`` and the default counts are shown beside them
  (:func:`class_counts_both_rules`).
* Overlapping cohorts (:data:`OVERLAPS`) are never pooled twice: MORRISON-1 is not pooled at
  all (its '038', 'gide' and 'va' sub-cohorts are the Riaz, Gide and Van Allen patients), and
  of the MSK-IMPACT cohorts only Chowell is pooled (:data:`POOLED_COHORTS`,
  :data:`MSK_SUBCOHORTS_LEFT_OUT`).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from helpers.data.cohort import Cohort, sample_timepoints
from helpers.analysis.resistance import explain_resistance
from helpers.units import CLASSES, DAYS_PER_MONTH
from helpers.data.sources import ImportResult, tidy_to_cohort

REPO = Path(__file__).resolve().parents[3]
#: Where the public cohorts are looked for when the parameter ``public_dir`` is empty.
DEFAULT_PUBLIC_DIR = "../shared/data/public"

#: The public cohorts, in the order of the chapter, with a short label.
PUBLIC_COHORTS: dict[str, str] = {
    "riaz2017_melanoma_nivolumab": "Riaz 2017 (melanoma, nivolumab)",
    "gide2019_melanoma_pd1": "Gide 2019 (melanoma, anti-PD-1)",
    "vanallen2015_melanoma_ctla4": "Van Allen 2015 (melanoma, ipilimumab)",
    "miao2018_ccrcc_pd1": "Miao 2018 (ccRCC, anti-PD-(L)1)",
    "hugo2016_melanoma_pd1": "Hugo 2016 (melanoma, anti-PD-1)",
    "imvigor210_urothelial_atezolizumab": "IMvigor210 (urothelial, atezolizumab)",
    "chowell2021_pancancer_msk": "Chowell 2021 (MSK pan-cancer)",
    "chang2024_loris_validation_cohorts": "LORIS 2024 (7 cohorts)",
    "samstein2019_tmb_mskcc": "Samstein 2019 (MSK pan-cancer)",
    "rizvi2018_nsclc_msk": "Rizvi 2018 (MSK NSCLC)",
    "morrison1_melanoma_campbell2023": "MORRISON-1 (melanoma, harmonised)",
}

#: LORIS sub-cohorts treated at MSK: they may share patients with Chowell, Samstein and Rizvi.
MSK_SUBCOHORTS_LEFT_OUT = ("MSK1", "MSK2", "Vanguri_NSCLC")

#: Cohorts entering pooled analyses (LORIS without its MSK sub-cohorts).
POOLED_COHORTS = ("riaz2017_melanoma_nivolumab", "gide2019_melanoma_pd1",
                  "vanallen2015_melanoma_ctla4", "miao2018_ccrcc_pd1", "hugo2016_melanoma_pd1",
                  "imvigor210_urothelial_atezolizumab", "chowell2021_pancancer_msk",
                  "chang2024_loris_validation_cohorts")

#: Overlaps between the public cohorts (from the public README and each SOURCE.md).
OVERLAPS = pd.DataFrame([
    ("MORRISON-1, sub-cohort '038'", "Riaz 2017", "the same patients (CheckMate 038)",
     "MORRISON-1 is in no pooled analysis"),
    ("MORRISON-1, sub-cohort 'gide'", "Gide 2019", "overlapping patients",
     "MORRISON-1 is in no pooled analysis"),
    ("MORRISON-1, sub-cohort 'va'", "Van Allen 2015", "overlapping patients",
     "MORRISON-1 is in no pooled analysis"),
    ("Samstein 2019, Rizvi 2018, LORIS MSK1 and Vanguri (and MSK2, also treated at MSK)",
     "Chowell 2021 and each other", "MSK-IMPACT patients who may be shared; the identifiers "
     "are de-identified, so the overlap cannot be resolved",
     "pooled analyses keep Chowell and leave out Samstein, Rizvi and the LORIS MSK1, MSK2 and "
     "Vanguri sub-cohorts"),
    ("LORIS sheets Chowell_train/Chowell_test", "Chowell 2021", "the same patients",
     "not in the LORIS folder (left out at conversion)"),
], columns=["cohort", "overlaps with", "relation", "how the chapter avoids double counting"])


def resolve_public_dir(public_dir: str | Path = "", base: str | Path | None = None) -> Path | None:
    """The folder of public cohorts, or None if it does not exist.

    An empty ``public_dir`` means :data:`DEFAULT_PUBLIC_DIR`; a relative path is taken from
    ``base`` (default: the repository root).
    """
    text = str(public_dir).strip() or DEFAULT_PUBLIC_DIR
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = Path(base or REPO) / path
    path = path.resolve()
    return path if path.is_dir() and (path / "README.md").is_file() else None


# ----------------------------------------------------------------------------------------
# loading the public cohorts
# ----------------------------------------------------------------------------------------
@dataclass
class PublicCohort:
    """One public cohort: the default import, the FACTS-convention import, the source table."""

    folder: str
    label: str
    directory: Path
    imported: ImportResult
    facts_convention: ImportResult
    clinical: pd.DataFrame

    @property
    def cohort(self) -> Cohort:
        return self.imported.cohort

    def source_column(self, column: str, result: ImportResult | None = None) -> pd.Series:
        """A column of the source clinical table indexed by the cohort's patient pseudonyms."""
        res = result or self.imported
        m = res.pseudonyms[res.pseudonyms["kind"] == "patient"]
        to_pseudonym = dict(zip(m["source_id"], m["pseudonym"]))
        values = self.clinical.set_index(self.clinical["patient_id"].astype(str))[column]
        values.index = values.index.map(to_pseudonym)
        return values


def load_public_cohorts(public_dir: str | Path, folders: Iterable[str] | None = None, *,
                        include_expression: bool = True) -> dict[str, PublicCohort]:
    """Import the public cohorts (open published data) twice: default rule and FACTS convention.

    Parameters
    ----------
    public_dir
        The folder of tidy public cohorts.
    folders
        Which cohorts (default: every folder of :data:`PUBLIC_COHORTS` present).
    include_expression
        False skips the expression matrices (faster when no TME analysis is needed).
    """
    root = Path(public_dir)
    wanted = list(folders) if folders is not None else list(PUBLIC_COHORTS)
    unknown = [f for f in wanted if f not in PUBLIC_COHORTS]
    if unknown:
        raise KeyError(f"unknown public cohort(s) {unknown}; known: {', '.join(PUBLIC_COHORTS)}")
    out = {}
    for folder in wanted:
        d = root / folder
        if not (d / "clinical.tsv").is_file():
            continue
        # seeded pseudonyms: these imports of open data stay in memory, and a fixed row order
        # keeps the chapter's outputs identical from run to run
        default = tidy_to_cohort(d, open_data=True, include_expression=include_expression,
                                 pseudonym_seed=0)
        facts = tidy_to_cohort(d, open_data=True, death_is_progression=True,
                               include_expression=False,
                               existing_pseudonyms=default.pseudonyms)
        clinical = pd.read_csv(d / "clinical.tsv", sep="\t", low_memory=False,
                               dtype={"patient_id": str})
        out[folder] = PublicCohort(folder, PUBLIC_COHORTS[folder], d, default, facts, clinical)
    return out


# ----------------------------------------------------------------------------------------
# survival from a canonical cohort
# ----------------------------------------------------------------------------------------
def pfs_months(cohort: Cohort, deaths_count: bool = True) -> pd.DataFrame:
    """Progression-free survival of the index course: ``months`` and ``event`` (0/1).

    Event at the progression day; otherwise censored at the last progression-free assessment;
    with ``deaths_count``, a course with neither whose patient died has the event on the day
    of death (PFS = progression or death). Courses with no information are left out.

    On a cohort imported with ``death_is_progression=True`` every PFS event of the source is a
    progression day, so ``deaths_count=False`` gives exactly the source's PFS (a death of a
    patient whose source has no PFS at all is then not counted).
    """
    idx = cohort.index_courses().set_index("patient_id")
    pats = cohort.patients.set_index("patient_id")
    prog = pd.to_numeric(idx["progression_day"], errors="coerce")
    last = pd.to_numeric(idx["last_assessment_day"], errors="coerce")
    end = pd.to_numeric(pats["last_followup_day"], errors="coerce").reindex(idx.index)
    death = pats["death"].astype(bool).reindex(idx.index).fillna(False)
    time = prog.where(prog.notna(), last)
    event = prog.notna().astype(float)
    died = time.isna() & death & end.notna() & deaths_count
    time = time.where(~died, end)
    event = event.where(~died, 1.0)
    ok = time.notna()
    return pd.DataFrame({"months": time[ok] / DAYS_PER_MONTH, "event": event[ok].astype(int)})


def os_months(cohort: Cohort) -> pd.DataFrame:
    """Overall survival from day 0: ``months`` and ``event`` (patients without follow-up are
    left out)."""
    p = cohort.patients
    end = pd.to_numeric(p["last_followup_day"], errors="coerce")
    ok = end.notna()
    return pd.DataFrame({"months": (end[ok] / DAYS_PER_MONTH).to_numpy(),
                         "event": p.loc[ok, "death"].astype(int).to_numpy()},
                        index=p.loc[ok, "patient_id"].to_numpy())


def km_median_months(table: pd.DataFrame) -> float:
    """Kaplan–Meier median (first time S(t) <= 0.5) of a ``months``/``event`` table."""
    from helpers.stats.survival import kaplan_meier, km_median
    if len(table) == 0:
        return float("nan")
    return km_median(kaplan_meier(table["months"], table["event"]))


def classes(cohort: Cohort, benefit_months: float = 6,
            min_exposure_weeks: float = 6) -> pd.DataFrame:
    """SITC class and reason of every index course (indexed by patient pseudonym)."""
    idx = cohort.index_courses()
    out = explain_resistance(idx, benefit_months, min_exposure_weeks)
    out.index = idx["patient_id"].to_numpy()
    return out


# ----------------------------------------------------------------------------------------
# the facts of FACTS.md
# ----------------------------------------------------------------------------------------
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


def _responders_by_source(column: str, value: Any) -> Callable[[PublicCohort], float]:
    def f(pc: PublicCohort) -> float:
        idx = pc.cohort.index_courses().set_index("patient_id")["best_response"]
        group = pc.source_column(column).reindex(idx.index)
        return float(((group == value) & idx.isin(["CR", "PR"])).sum())
    return f


def _assessed_by_source(column: str, value: Any) -> Callable[[PublicCohort], float]:
    def f(pc: PublicCohort) -> float:
        idx = pc.cohort.index_courses().set_index("patient_id")["best_response"]
        group = pc.source_column(column).reindex(idx.index)
        return float(((group == value) & idx.isin(["CR", "PR", "SD", "PD"])).sum())
    return f


def _reason_count(reason_part: str) -> Callable[[PublicCohort], float]:
    def f(pc: PublicCohort) -> float:
        r = classes(pc.facts_convention.cohort)
        return float(((r["resistance_class"] == "not_evaluable")
                      & r["reason"].str.contains(reason_part, regex=False)).sum())
    return f


def _patients_with_mutation_calls(pc: PublicCohort) -> float:
    c = pc.cohort
    return float(c.samples.loc[c.samples["sample_id"].isin(c.mutations["sample_id"]),
                               "patient_id"].nunique())


def _mutations_median_per_patient(pc: PublicCohort) -> float:
    c = pc.cohort
    per = c.mutations.merge(c.samples[["sample_id", "patient_id"]], on="sample_id")
    return float(per.groupby("patient_id").size().median())


def _riaz_pre_on_wes(pc: PublicCohort) -> float:
    s = pd.read_csv(pc.directory / "samples.tsv", sep="\t")
    wes = s[s["has_wes"] == 1]
    both = set(wes.loc[wes["timepoint"] == "pre", "patient_id"]) & set(
        wes.loc[wes["timepoint"] == "on", "patient_id"])
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
        m = c.mutations[(c.mutations["gene"] == gene)
                        & c.mutations["variant_classification"].isin(classes_)]
        return float(c.samples.loc[c.samples["sample_id"].isin(m["sample_id"]),
                                   "patient_id"].nunique())
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
    return float(len(set(r.loc[r["timepoint"] == "pre", "patient_id"])
                     & set(r.loc[r["timepoint"] == "on", "patient_id"])))


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

    def add(cohort: str, quantity: str, expected: float, kind: str, source: str,
            observe: Callable[[PublicCohort], float], median: bool = False) -> None:
        F.append(Fact(cohort, quantity, float(expected), kind, source, observe, median))

    def bors(cohort: str, counts: Mapping[str, int]) -> None:
        for code, n in counts.items():
            add(cohort, f"best response {code}", n, "data", IMP, _bor(code))

    def surv(cohort: str, pfs: tuple[int, float] | None, os_: tuple[int, float] | None,
             os_n: int | None = None) -> None:
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
    add(c, "patients with pre-treatment exome calls", 68, "published", IMP,
        _patients_with_mutation_calls)
    add(c, "progressed on ipilimumab (NIV3-PROG)", 39, "data", SRC,
        _source_count("prior_ipilimumab", 1))
    add(c, "ipilimumab-naive", 34, "data", SRC, _source_count("prior_ipilimumab", 0))
    bors(c, {"PD": 31, "SD": 24, "PR": 12, "CR": 3, "NE": 3})
    for prior, label, counts in ((0, "ipilimumab-naive", {"CR": 2, "PR": 5, "SD": 9, "PD": 15,
                                                          "NE": 3}),
                                 (1, "ipilimumab-progressed", {"CR": 1, "PR": 7, "SD": 15,
                                                               "PD": 16})):
        for code, n in counts.items():
            add(c, f"best response {code}, {label}", n, "data", "imported cohort + source column",
                _bor_by_source("prior_ipilimumab", prior, code))
    surv(c, (58, 3.68), (42, 23.26))
    sitc(c, {"primary": 42, "acquired": 13, "ongoing_benefit": 12, "not_evaluable": 6})
    add(c, "not evaluable: best response NE", 3, "data", FC, _reason_count("(NE)"))
    add(c, "not evaluable: censored before 6 months", 3, "data", FC,
        _reason_count("follow-up shorter"))
    add(c, "nonsynonymous SNVs before treatment", 28589, "data", IMP,
        lambda pc: float(len(pc.cohort.mutations)))
    add(c, "median SNVs per patient", 182.5, "data", IMP, _mutations_median_per_patient)
    add(c, "patients with pre and on-treatment exomes", 41, "data", SRC, _riaz_pre_on_wes)
    add(c, "pre-treatment RNA samples", 46, "data", IMP, _rna_samples)
    add(c, "genes in the expression matrix", 19961, "data", IMP, _expression_genes)

    c = "imvigor210_urothelial_atezolizumab"
    add(c, "patients", 367, "data", IMP, _n_patients)
    bors(c, {"PD": 174, "SD": 67, "PR": 44, "CR": 27})
    add(c, "best response NE or missing (NE in the cohort)", 6 + 49, "data", IMP, _bor("NE"))
    add(c, "responders (CR/PR)", 71, "data", IMP,
        lambda pc: float(pc.cohort.index_courses()["best_response"].isin(["CR", "PR"]).sum()))
    add(c, "patients with CR/PR/SD/PD", 312, "data", IMP,
        lambda pc: float(pc.cohort.index_courses()["best_response"].isin(
            ["CR", "PR", "SD", "PD"]).sum()))
    surv(c, None, (232, 8.77), os_n=348)
    for ph, (resp, n) in {"inflamed": (16, 40), "excluded": (13, 59), "desert": (9, 44)}.items():
        add(c, f"immune phenotype {ph}: responders", resp, "data",
            "imported cohort + source column", _phenotype(ph, True))
        add(c, f"immune phenotype {ph}: with CR/PR/SD/PD", n, "data",
            "imported cohort + source column", _phenotype(ph, False))
    add(c, "FoundationOne samples", 293, "data", IMP, _dna_samples)
    add(c, "FoundationOne samples with an alteration", 283, "data", IMP, _altered_samples)
    add(c, "FoundationOne alteration rows", 1835, "data", IMP, _alteration_rows)
    add(c, "patients with a JAK1 frameshift", 2, "data", IMP,
        _gene_class_patients("JAK1", ("Frame_Shift_Del", "Frame_Shift_Ins")))
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
    add(c, "responders, training", 319, "data", SRC,
        lambda pc: float(((pc.clinical["src_split"] == "Training")
                          & (pc.clinical["response_binary"] == 1)).sum()))
    add(c, "responders, test", 90, "data", SRC,
        lambda pc: float(((pc.clinical["src_split"] == "Test")
                          & (pc.clinical["response_binary"] == 1)).sum()))
    surv(c, (1233, 2.66), (873, 14.32))

    c = "chang2024_loris_validation_cohorts"
    add(c, "patients", 1402, "data", IMP, _n_patients)
    for sub, n in {"MSK1": 453, "Ravi_NSCLC": 309, "Vanguri_NSCLC": 246, "Shim_NSCLC": 198,
                   "MSK2": 104, "Pradat_panCancer": 57, "Kato_panCancer": 35}.items():
        add(c, f"sub-cohort {sub}", n, "data", SRC, _source_count("sub_cohort", sub))
    add(c, "responders", 416, "data", SRC, _source_count("response_binary", 1))
    surv(c, (1103, 3.54), (845, 12.85))

    c = "samstein2019_tmb_mskcc"
    add(c, "patients in the cBioPortal export", 1661, "published", IMP, _n_patients)
    add(c, "anti-PD-1/PD-L1 (regimen not resolved to PD-1 or PD-L1)", 1307, "data", IMP,
        _regimen(None))
    add(c, "PD-(L)1 + CTLA-4 combination", 255, "data", IMP, _regimen("PD-1+CTLA-4"))
    add(c, "anti-CTLA-4", 99, "data", IMP, _regimen("anti-CTLA-4"))
    surv(c, None, (832, 18.0))

    c = "rizvi2018_nsclc_msk"
    add(c, "patients", 240, "published", IMP, _n_patients)
    for v, n in {"YES": 69, "NO": 158, "NE": 13}.items():
        add(c, f"durable clinical benefit {v}", n, "data", SRC,
            _source_count("src_durable_clinical_benefit", v))
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
        rows.append({"cohort": PUBLIC_COHORTS[f.cohort], "fact": f.quantity, "kind": f.kind,
                     "computed from": f.computed_from,
                     "FACTS.md": _number_text(f.expected, f.is_median),
                     "computed": _number_text(obs, f.is_median),
                     "agrees": "pass" if ok else "fail"})
    return pd.DataFrame(rows, columns=["cohort", "fact", "kind", "computed from", "FACTS.md",
                                       "computed", "agrees"])


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
    out = pd.DataFrame({"facts checked": g.size(),
                        "pass": g.apply(lambda a: int((a == "pass").sum())),
                        "fail": g.apply(lambda a: int((a == "fail").sum()))})
    out.loc["all cohorts"] = out.sum()
    return out.astype(int)


# ----------------------------------------------------------------------------------------
# chapter 2 on the public cohorts: both PFS-death conventions
# ----------------------------------------------------------------------------------------
def class_counts_both_rules(cohorts: Mapping[str, PublicCohort], benefit_months: float = 6,
                            min_exposure_weeks: float = 6) -> pd.DataFrame:
    """SITC class counts per cohort under the FACTS convention and under the book's death rule.

    Rows: cohorts with a best response or a PFS; columns ``<class> (FACTS)`` and
    ``<class> (book)`` plus ``PFS events on the day of death``.
    """
    rows = []
    for folder, pc in cohorts.items():
        idx = pc.cohort.index_courses()
        if idx["best_response"].isna().all() and idx["progression_day"].isna().all() \
                and idx["last_assessment_day"].isna().all():
            continue
        a = classes(pc.facts_convention.cohort, benefit_months, min_exposure_weeks)
        b = classes(pc.cohort, benefit_months, min_exposure_weeks)
        row: dict[str, Any] = {"cohort": pc.label}
        for k in CLASSES:
            row[f"{k} (FACTS)"] = int((a["resistance_class"] == k).sum())
        for k in CLASSES:
            row[f"{k} (book)"] = int((b["resistance_class"] == k).sum())
        row["basis"] = ("progression timing only" if idx["best_response"].isna().all()
                        else "best response")
        fc = pc.facts_convention.cohort.index_courses()
        row["PFS events on the day of death"] = int(
            fc["progression_day"].notna().sum() - idx["progression_day"].notna().sum())
        rows.append(row)
    return pd.DataFrame(rows).set_index("cohort")


# ----------------------------------------------------------------------------------------
# chapter 3 on the public cohorts: survival after progression
# ----------------------------------------------------------------------------------------
def pps_sets(cohorts: Mapping[str, PublicCohort], benefit_months: float = 6,
             min_exposure_weeks: float = 6) -> dict[str, pd.DataFrame]:
    """The survival-after-progression analysis set of every cohort that supports it.

    LORIS keeps only its non-MSK sub-cohorts (column ``sub_cohort`` added for it).
    """
    from helpers.analysis.derive import patient_table
    from helpers.analysis.pps import pps_analysis_set, unavailable_reason

    out = {}
    for folder, pc in cohorts.items():
        pt = patient_table(pc.cohort, benefit_months, min_exposure_weeks)
        if unavailable_reason(pt) is not None:
            continue
        if folder == "chang2024_loris_validation_cohorts":
            sub = pc.source_column("sub_cohort").reindex(pt["patient_id"]).to_numpy()
            pt = pt[~pd.Series(sub).isin(MSK_SUBCOHORTS_LEFT_OUT).to_numpy()]
        s = pps_analysis_set(pt)
        s.insert(0, "cohort", pc.label)
        out[folder] = s
    return out


def pps_table(sets: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Acquired vs primary survival after progression per cohort and pooled (no overlaps).

    Per cohort: patients and deaths per class, KM medians and the unadjusted Cox hazard ratio
    (95% CI). Pooled: Cox stratified by cohort and cancer type over :data:`POOLED_COHORTS`
    (covariates are recorded too unevenly across the public cohorts to adjust for them).
    """
    from helpers.analysis.pps import fit_adjusted_cox

    rows = []

    def row(name: str, data: pd.DataFrame, strata: str | None) -> dict[str, Any]:
        r: dict[str, Any] = {"set": name}
        for cls in ("acquired", "primary"):
            d = data[data["resistance_class"] == cls]
            r[f"{cls}: patients"] = int(len(d))
            r[f"{cls}: deaths"] = int(d["pps_event"].sum())
            r[f"{cls}: median PPS (months)"] = round(
                km_median_months(d.rename(columns={"pps_months": "months",
                                                   "pps_event": "event"})), 2)
        r.update({"hr": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan,
                  "note": ""})
        deaths = data.groupby("acquired")["pps_event"].sum()
        if len(deaths) < 2 or deaths.min() < 3:
            r["note"] = "fewer than 3 deaths in a class: no hazard ratio"
            return r
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = fit_adjusted_cox(data, "pps_months", "pps_event", "acquired", [],
                                   strata=strata)
        hr = fit.exposure_hr()
        r.update({k: round(hr[k], 3) for k in ("hr", "ci_low", "ci_high")}, p=hr["p"])
        return r

    for folder, data in sets.items():
        rows.append(row(data["cohort"].iat[0], data, None))
    pooled = [sets[f] for f in POOLED_COHORTS if f in sets]
    if pooled:
        data = pd.concat(pooled, ignore_index=True)
        data["stratum"] = data["cohort"] + " · " + data["cancer_type"]
        rows.append(row("pooled (stratified by cohort and cancer type; no overlapping cohorts)",
                        data, "stratum"))
    return pd.DataFrame(rows).set_index("set")


# ----------------------------------------------------------------------------------------
# chapters 4 and 5 on the public cohorts
# ----------------------------------------------------------------------------------------
#: Genes with acquired LoF in the real-world study (B2M, TGFBR2, CYLD, RUNX1) and the IFN-γ
#: pathway genes of the simulation (JAK1, JAK2).
ACQUIRED_LOF_GENES = ("B2M", "TGFBR2", "CYLD", "RUNX1", "JAK1", "JAK2")


def baseline_lof(pc: PublicCohort, genes: Iterable[str] = ACQUIRED_LOF_GENES) -> pd.DataFrame:
    """Pre-treatment LoF carriers of each gene (panel-aware, :func:`helpers.analysis.lof.lof_matrix`).

    Returns one row per gene: samples assayed (gene on the sample's panel), LoF carriers and
    whether the gene is on the (reconstructed) panel at all.
    """
    from helpers.analysis.lof import lof_matrix

    c = pc.cohort
    genes = list(genes)
    samples = c.samples.copy()
    samples["timepoint"] = sample_timepoints(c).to_numpy()
    pre = samples[(samples["timepoint"] == "pre") & samples["assay"].isin(["DNA", "DNA+RNA"])]
    empty_cna = pd.DataFrame({"sample_id": pd.Series(dtype=str), "gene": pd.Series(dtype=str),
                              "copy_state": pd.Series(dtype=int)})
    panels = c.panels if c.panels is not None else pd.DataFrame(columns=["panel_id", "gene"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = lof_matrix(c.mutations[c.mutations["sample_id"].isin(pre["sample_id"])],
                       (c.cna if c.cna is not None else empty_cna).pipe(
                           lambda d: d[d["sample_id"].isin(pre["sample_id"])]),
                       pre, panels, genes)
    return pd.DataFrame({
        "gene": genes,
        "samples assayed": [int(m[g].notna().sum()) for g in genes],
        "LoF carriers": [int((m[g] == 1).sum()) for g in genes],
        "on the panel": ["yes" if (m[g].notna().any()) else "no (not assayed)" for g in genes],
    }).set_index("gene")


#: Signatures compared across IMvigor210's immune phenotypes (data/signatures/icb_signatures.gmt).
PHENOTYPE_SIGNATURES = ("IFNG_AYERS2017", "TCELL_INFLAMED_GEP", "CYTOLYTIC_ACTIVITY",
                        "TGFB_SIGNALLING", "CAF_MATRIX")
PHENOTYPES = ("inflamed", "excluded", "desert")


def phenotype_scores(pc: PublicCohort, signatures: Iterable[str] = PHENOTYPE_SIGNATURES
                     ) -> pd.DataFrame:
    """ssGSEA scores of IMvigor210 RNA samples with the patient's immune phenotype.

    Raw ssGSEA scores (a sample's score depends on that sample alone). Returns one row per
    RNA sample: ``phenotype`` plus one column per signature.
    """
    from helpers.analysis.tme import load_signatures, ssgsea

    c = pc.cohort
    if c.expression is None:
        raise ValueError(f"{pc.label}: the cohort has no expression matrix")
    sets = load_signatures(list(signatures))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = ssgsea(c.expression, sets).T
    patient_of = c.samples.set_index("sample_id")["patient_id"]
    ph = pc.source_column("src_immune_phenotype")
    scores.insert(0, "phenotype", patient_of.reindex(scores.index).map(ph).to_numpy())
    scores.index.name = None
    return scores.reset_index(drop=True)


def phenotype_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Median score per immune phenotype and the Kruskal–Wallis p across phenotypes."""
    from scipy import stats

    data = scores[scores["phenotype"].isin(PHENOTYPES)]
    rows = []
    for sig in [c for c in scores.columns if c != "phenotype"]:
        groups = [data.loc[data["phenotype"] == p, sig] for p in PHENOTYPES]
        r: dict[str, Any] = {"signature": sig}
        for p, g in zip(PHENOTYPES, groups):
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
    from helpers.analysis import tme

    trend = tme.immune_phenotype_trend(public_dir)
    counts, test = tme.immune_subtypes_by_phenotype(public_dir)
    response = tme.response_association(public_dir).rename(index=PUBLIC_COHORTS)
    fisher = test.to_frame("IMvigor210").T
    return [
        ("public_tme_phenotype_trend", "IMvigor210: immune scores by immune phenotype, "
         "Jonckheere–Terpstra trend test (open published data)", trend),
        ("public_tme_subtypes_by_phenotype", "IMvigor210: TME subtypes by immune phenotype "
         "(open published data)", counts),
        ("public_tme_subtype_fisher", "IMvigor210: immune-enriched subtypes among inflamed "
         "tumours, one-sided Fisher test (open published data)", fisher),
        ("public_tme_response", "IFN-γ score (scaled) of responders vs non-responders, "
         "one-sided Mann–Whitney test (open published data)", response),
    ]


#: Chapter modules that may expose real-data checks for this chapter. A module that defines
#: ``real_data_validation(public_dir) -> list[(caption, DataFrame)]`` has its tables shown
#: by :func:`hooked_validations` without any change here.
CHAPTER_MODULES = ("pps", "lof", "tme", "radiotherapy")


def hooked_validations(public_dir: str | Path) -> list[tuple[str, str, pd.DataFrame]]:
    """Tables from the ``real_data_validation`` hook of each chapter module that has one."""
    import importlib

    out = []
    for name in CHAPTER_MODULES:
        module = importlib.import_module(f"{__package__}.{name}")
        hook = getattr(module, "real_data_validation", None)
        if hook is None:
            continue
        for i, (caption, table) in enumerate(hook(public_dir), 1):
            out.append((f"public_{name}_check_{i}", f"{caption} (open published data)", table))
    return out


# ----------------------------------------------------------------------------------------
# what a cohort supports
# ----------------------------------------------------------------------------------------
#: The book's chapters, in order, with what each needs.
CHAPTERS = {
    "01_cohort_overview": "patients",
    "02_resistance_classes": "a best response or progression-free survival",
    "03_survival_after_progression": "progression days, deaths after progression and both "
                                     "primary and acquired resistance",
    "04_acquired_lof": "mutation or copy-number calls on post-progression DNA samples",
    "05_tme_states": "expression (post-progression RNA for the main comparison)",
    "06_radiotherapy_salvage": "radiotherapy courses (the literature meta-analysis needs nothing)",
    "07_validation": "nothing from the run's cohort (it reads the public cohorts)",
}


def chapter_support(cohort: Cohort, benefit_months: float = 6,
                    min_exposure_weeks: float = 6) -> pd.DataFrame:
    """Which chapters a cohort supports: ``supported`` (yes / partly / no) and what is missing.

    Chapters that a cohort does not support still run: they say in one sentence what is
    missing instead of failing.
    """
    from helpers.analysis.derive import patient_table

    pt = patient_table(cohort, benefit_months, min_exposure_weeks)
    idx = cohort.index_courses()
    tp = sample_timepoints(cohort)
    samples = cohort.samples.assign(timepoint=tp.to_numpy())
    dna = samples["assay"].isin(["DNA", "DNA+RNA"])
    rna = samples["assay"].isin(["RNA", "DNA+RNA"])
    if cohort.expression is not None:
        rna &= samples["sample_id"].isin(cohort.expression.columns)
    else:
        rna &= False
    has_calls = cohort.has("mutations") or cohort.has("cna")
    rows = []

    def add(ch: str, status: str, missing: str = "") -> None:
        rows.append({"chapter": ch, "supported": status, "what is missing": missing})

    add("01_cohort_overview", "yes")
    has_br = idx["best_response"].notna().any()
    has_pfs = idx["progression_day"].notna().any() or idx["last_assessment_day"].notna().any()
    if has_br and has_pfs:
        add("02_resistance_classes", "yes")
    elif has_br:
        add("02_resistance_classes", "partly", "no progression-free survival: only best "
            "response PD (primary) can be classified")
    elif has_pfs:
        add("02_resistance_classes", "partly", "no best response: classes from progression "
            "timing only")
    else:
        add("02_resistance_classes", "no", "neither best response nor progression-free survival")
    from helpers.analysis.pps import unavailable_reason
    why = unavailable_reason(pt)
    add("03_survival_after_progression", "no" if why else "yes", why or "")
    post_dna = (dna & (samples["timepoint"] == "post")).any()
    if has_calls and post_dna:
        add("04_acquired_lof", "yes")
    elif has_calls:
        add("04_acquired_lof", "no", "no post-progression DNA samples (pre-treatment calls only)")
    else:
        add("04_acquired_lof", "no", "no mutation or copy-number calls")
    if rna.any() and (rna & (samples["timepoint"] == "post")).any():
        add("05_tme_states", "yes")
    elif rna.any():
        add("05_tme_states", "partly", "no post-progression RNA: pre-treatment TME only")
    else:
        add("05_tme_states", "no", "no expression data")
    if cohort.has("radiotherapy"):
        add("06_radiotherapy_salvage", "yes")
    else:
        add("06_radiotherapy_salvage", "partly", "no radiotherapy courses: the literature "
            "meta-analysis only")
    add("07_validation", "yes")
    return pd.DataFrame(rows).set_index("chapter")


def support_matrix(cohorts: Mapping[str, PublicCohort], benefit_months: float = 6,
                   min_exposure_weeks: float = 6) -> pd.DataFrame:
    """Chapters (columns) each public cohort (rows) supports: yes / partly / no."""
    rows = {}
    for folder, pc in cohorts.items():
        s = chapter_support(pc.cohort, benefit_months, min_exposure_weeks)
        rows[pc.label] = s["supported"]
    out = pd.DataFrame(rows).T
    out.index.name, out.columns.name = "cohort", None
    return out


# ----------------------------------------------------------------------------------------
# figures and page helpers
# ----------------------------------------------------------------------------------------
def pps_forest_figure(table: pd.DataFrame):
    """Forest plot of the acquired-vs-primary hazard ratios of :func:`pps_table`."""
    import matplotlib.pyplot as plt

    from helpers.plots.survival import forest_plot

    rows = table[table["hr"].notna()].copy()
    deaths = rows["acquired: deaths"] + rows["primary: deaths"]
    names = ["Pooled, no overlapping cohorts" if str(n).startswith("pooled") else str(n)
             for n in rows.index]
    rows["label"] = [f"{name}\n{int(d)} deaths" for name, d in zip(names, deaths)]
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(rows) + 1.4))
    forest_plot(ax, rows.reset_index(drop=True), label_col="label",
                xlabel="hazard ratio of death after progression, acquired vs primary (95% CI)")
    ticks = [0.1, 0.2, 0.5, 1.0, 2.0]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlim(0.08, 2.5)
    ax.set_title("Survival after progression in the public cohorts (real patients)")
    fig.tight_layout()
    return fig


def phenotype_figure(scores: pd.DataFrame, signatures: Iterable[str] = (
        "IFNG_AYERS2017", "TCELL_INFLAMED_GEP", "TGFB_SIGNALLING")):
    """Box plots of signature scores by IMvigor210 immune phenotype."""
    import matplotlib.pyplot as plt

    signatures = list(signatures)
    data = scores[scores["phenotype"].isin(PHENOTYPES)]
    fig, axes = plt.subplots(1, len(signatures), figsize=(3.2 * len(signatures), 3.4))
    for ax, sig in zip(np.atleast_1d(axes), signatures):
        groups = [data.loc[data["phenotype"] == p, sig].to_numpy() for p in PHENOTYPES]
        ax.boxplot(groups, showfliers=False)
        for i, g in enumerate(groups, 1):
            x = np.full(len(g), i) + np.linspace(-0.15, 0.15, len(g)) if len(g) else []
            ax.plot(x, g, ".", color="#5d6d7e", alpha=0.5, markersize=3)
        ax.set_xticks(range(1, len(PHENOTYPES) + 1),
                      [f"{p}\n(n={len(g)})" for p, g in zip(PHENOTYPES, groups)])
        ax.set_title(sig, fontsize=9)
        ax.set_ylabel("ssGSEA score (raw)")
    fig.suptitle("IMvigor210: signature scores by CD8 immune phenotype (real patients)",
                 fontsize=10)
    fig.tight_layout()
    return fig


def banner_html(public_dir: Path | None, cohort: Cohort) -> str:
    """The note at the top of chapter 7: which sections show the run's cohort, which real data."""
    import html as _html

    name = _html.escape(cohort.name)
    if cohort.simulated:
        title = "Simulated data and real published cohorts"
        first = (f"The first section describes the cohort of this run, <b>{name}</b>, which is "
                 "<b>simulated</b>.")
        kind = "warning"
    else:
        title = "Real cohort and real published cohorts"
        first = (f"The first section describes the cohort of this run, <b>{name}</b> "
                 f"(access: {_html.escape(cohort.access)}).")
        kind = "note"
    where = (" The folder of public cohorts was not found, so those sections are empty."
             if public_dir is None else "")
    return (f"<div class='admonition {kind}'><p class='admonition-title'>{title}</p><p>{first} "
            "Every other section applies the book's methods to <b>real patients</b> of "
            "published immunotherapy cohorts: open, de-identified data whose counts are "
            f"published, so they are shown unsuppressed.{where}</p></div>")


def run_cohort_sentence(cohort: Cohort) -> str:
    """One sentence on the cohort of this run (simulated or imported)."""
    if cohort.simulated:
        return (f"This run's cohort, {cohort.name}, is simulated: it has every table the book "
                "needs and no import repairs.")
    n_rep = len(cohort.meta.get("repairs") or [])
    return (f"This run's cohort, {cohort.name}, is a real cohort (access: {cohort.access}) "
            f"imported from {cohort.meta.get('source', 'an unknown source')}; "
            f"{n_rep} repair rule{'s' if n_rep != 1 else ''} applied at import "
            f"(below), and {cohort.meta.get('pfs_death_rule', 'no PFS death rule recorded')}.")


def public_repairs(cohorts: Mapping[str, PublicCohort]) -> pd.DataFrame:
    """Every repair made when importing the public cohorts (cohort, rule, rows)."""
    rows = []
    for pc in cohorts.values():
        for r in pc.cohort.meta.get("repairs") or []:
            rows.append({"cohort": pc.label, "repair": r["rule"], "rows": int(r["rows"])})
    return pd.DataFrame(rows, columns=["cohort", "repair", "rows"])
