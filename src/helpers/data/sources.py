"""Importers of real cohorts into the canonical format (DESIGN §3 and §7).

Two sources are read:

* the **tidy public tables** of ``../shared/data/public/<cohort>/`` (``clinical.tsv``, optional
  ``samples.tsv``, ``mutations.tsv``, ``expression.tsv.gz``): :func:`import_tidy`;
* a **cBioPortal study folder** (``meta_study.txt``, ``data_clinical_patient.txt``,
  ``data_clinical_sample.txt``, MAF mutations, discrete CNA, ``data_gene_panel_matrix.txt``,
  mRNA matrices): :func:`import_cbioportal`.

Both map the source onto one standard clinical frame (one row per patient: survival in months
with event flags, best response, regimen, covariates) and then through the same rules into
canonical tables, so a cohort imported either way obeys the same conventions:

* months are converted to days with 30.4375 days per month, never rounded;
* source identifiers are replaced by opaque pseudonyms; the mapping is written *beside* the
  cohort folder (``<out_dir>.pseudonyms.tsv``), never inside it, so it never reaches a notebook;
* imported cohorts are ``access: restricted`` unless the importer is told the data are open
  published data (``open_data=True``);
* known inconsistencies (PFS longer than OS, a death without its day, ...) are repaired only by
  the explicit rules of :data:`REPAIR_RULES`, each logged with its row count in ``cohort.json``
  (``repairs``); what the source lacks is listed in ``cohort.json`` (``lacks``);
* where the source's PFS event also counts death, a PFS event at the time of death is **not** a
  progression (``death_is_progression=False``, the default): the course gets no progression day
  and the death ends follow-up. ``death_is_progression=True`` keeps every PFS event as a
  progression, the convention of the "[data] SITC-rule classes" of ``FACTS.md``.

The public tables record neither the stop day nor the duration of response, so PFS time stands
in for the duration of benefit and for follow-up (``last_assessment_day``), and the stop day is
unknown.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from helpers.data.cohort import VARIANT_CLASSES, Cohort
from helpers.data.maf import map_foundationone
from helpers.data.panels import read_gene_list
from helpers.units import DAYS_PER_MONTH

#: Best-response codes of the tidy tables mapped onto the canonical vocabulary. A mixed
#: response (MR) is not a RECIST category: it is not evaluable.
TIDY_RESPONSE = {"CR": "CR", "PR": "PR", "SD": "SD", "PD": "PD", "NE": "NE", "MR": "NE"}

#: Two survival times closer than this (days) are the same day.
SAME_DAY = 1e-6

#: Every repair an importer may make, keyed by rule id (logged in ``cohort.json``).
REPAIR_RULES = {
    "pfs_after_death": "PFS time later than death: the PFS time is set to the day of death "
                       "(nothing can happen after death)",
    "followup_before_pfs": "OS censored before the PFS time: last follow-up is moved to the PFS "
                           "time, since a tumour assessment then shows the patient alive",
    "pfs_time_without_event": "PFS time without an event flag: PFS is not used for this patient",
    "pfs_event_without_time": "PFS event flag without a time: PFS is not used for this patient",
    "os_time_without_event": "OS time without a vital status: OS is not used for this patient",
    "death_without_time": "death recorded without its day: the death cannot be placed in time; "
                          "OS is not used for this patient",
    "sample_of_unknown_patient": "sample of a patient absent from the clinical table: dropped",
    "tmb_zero_is_missing": "TMB of exactly 0 in a source where 0 codes a missing value: set to "
                           "missing",
    "expression_offset": "expression given as log2(TPM + 0.001): converted to log2(TPM + 1) "
                         "(TPM = 2^x - 0.001, negative rounding residues set to 0)",
    "expression_sample_unknown": "expression column without a sample in the samples table: "
                                 "dropped",
}

#: What a death at the PFS time means, as written into ``cohort.json`` (``pfs_death_rule``).
DEATH_RULE_TEXT = {
    False: "a PFS event at the time of death is not a progression (DESIGN §4)",
    True: "every PFS event counts as a progression, including deaths (the FACTS.md convention)",
}

#: cBioPortal discrete copy-number values kept in the canonical ``cna`` table (0 = neutral is
#: implied for an assayed gene and not stored).
CNA_STATES = (-2, -1, 1, 2)

#: Panel sizes in Mb (coding territory used for TMB): MSK-IMPACT 341/410/468 (Samstein et al.
#: 2019, Methods: 0.98, 1.06 and 1.22 Mb); FoundationOne (Chalmers et al. 2017: ~1.1 Mb).
KNOWN_PANEL_SIZES_MB = {"IMPACT341": 0.98, "IMPACT410": 1.06, "IMPACT468": 1.22,
                        "FoundationOne": 1.1}

#: Per-cohort quirks of the tidy public tables (from each SOURCE.md).
TIDY_QUIRKS: dict[str, dict[str, Any]] = {
    # tmb is a count of pre-therapy nonsynonymous mutations, not per Mb
    "riaz2017_melanoma_nivolumab": {"tmb_per_mb": False},
    # half the patients have TMB exactly 0 although all had WES: 0 codes "missing"
    "miao2018_ccrcc_pd1": {"tmb_zero_is_missing": True, "regimen_column": "src_drug"},
    "imvigor210_urothelial_atezolizumab": {"ecog_column": "src_Baseline_ECOG_Score",
                                           "mutations": "foundationone"},
    "chang2024_loris_validation_cohorts": {"ecog_column": "src_Performance_status"},
    # MORRISON-1 has no event status (pfs_event/os_event empty) and no mutation calls
    "morrison1_melanoma_campbell2023": {},
}

#: Source cancer-type names mapped onto the book's vocabulary (the simulator's); other names
#: are kept as they are.
CANCER_TYPE_SYNONYMS = {
    "non-small cell lung cancer": "NSCLC", "nsclc": "NSCLC", "lung adenocarcinoma": "NSCLC",
    "melanoma": "Melanoma", "skin cutaneous melanoma": "Melanoma", "cutaneous melanoma": "Melanoma",
    "renal": "RCC", "renal cell carcinoma": "RCC", "clear cell renal cell carcinoma": "RCC",
    "kidney": "RCC",
    "head & neck": "HNSCC", "head and neck cancer": "HNSCC",
    "head and neck squamous cell carcinoma": "HNSCC",
    "bladder": "Urothelial", "bladder cancer": "Urothelial", "urothelial carcinoma": "Urothelial",
    "bladder urothelial carcinoma": "Urothelial",
    "esophagogastric cancer": "Gastro-oesophageal", "gastric": "Gastro-oesophageal",
    "esophageal": "Gastro-oesophageal",
}

#: VEP consequences (most severe first) mapped to MAF classes, as vcf2maf does; a consequence
#: list joined by '&' takes its most severe term. ``protein_protein_contact`` (an annotation of
#: the Riaz tables) is a missense change at a contact residue.
VEP_TO_MAF = (
    ("transcript_ablation", "Splice_Site"),
    ("splice_acceptor_variant", "Splice_Site"),
    ("splice_donor_variant", "Splice_Site"),
    ("stop_gained", "Nonsense_Mutation"),
    ("frameshift_variant", "Frame_Shift"),
    ("stop_lost", "Nonstop_Mutation"),
    ("start_lost", "Translation_Start_Site"),
    ("inframe_insertion", "In_Frame_Ins"),
    ("inframe_deletion", "In_Frame_Del"),
    ("missense_variant", "Missense_Mutation"),
    ("protein_altering_variant", "Missense_Mutation"),
    ("protein_protein_contact", "Missense_Mutation"),
    ("splice_region_variant", "Splice_Region"),
    ("incomplete_terminal_codon_variant", "Silent"),
    ("stop_retained_variant", "Silent"),
    ("synonymous_variant", "Silent"),
    ("5_prime_UTR_variant", "5'UTR"),
    ("3_prime_UTR_variant", "3'UTR"),
    ("intron_variant", "Intron"),
    ("upstream_gene_variant", "5'Flank"),
    ("downstream_gene_variant", "3'Flank"),
    ("intergenic_variant", "IGR"),
)

#: Previous HGNC symbols used by some public cohorts (Miao, Van Allen) → current symbols, as
#: the signatures in ``data/signatures`` use them (see its README).
SYMBOL_ALIASES = {
    "CTGF": "CCN2", "FAM101B": "RFLNB", "ATP5A1": "ATP5F1A", "ATP5B": "ATP5F1B",
    "ATP5C1": "ATP5F1C", "ATP5O": "ATP5PO", "ATP5G1": "ATP5MC1", "C10orf54": "VSIR",
    "IL8": "CXCL8", "ERO1L": "ERO1A",
}

#: Harmonised tidy ``variant_class`` values mapped to MAF classes (where unambiguous).
TIDY_VARIANT_CLASS_TO_MAF = {
    "Missense": "Missense_Mutation",
    "Nonsense": "Nonsense_Mutation",
    "Splice_Site": "Splice_Site",
    "Start_Lost": "Translation_Start_Site",
    "Stop_Lost": "Nonstop_Mutation",
}

_DRUG_TARGETS = {
    "pembrolizumab": "PD-1", "nivolumab": "PD-1", "cemiplimab": "PD-1", "dostarlimab": "PD-1",
    "tislelizumab": "PD-1", "sintilimab": "PD-1", "toripalimab": "PD-1", "camrelizumab": "PD-1",
    "spartalizumab": "PD-1", "atezolizumab": "PD-L1", "durvalumab": "PD-L1",
    "avelumab": "PD-L1", "ipilimumab": "CTLA-4", "tremelimumab": "CTLA-4",
}
_CHEMO_WORDS = ("chemo", "platin", "pemetrexed", "paclitaxel", "docetaxel", "gemcitabine",
                "etoposide", "fluorouracil", "5-fu", "nab-paclitaxel")


class SourceFormatError(ValueError):
    """A source folder or table does not have the expected format (the message says where)."""


@dataclass
class ImportResult:
    """An imported cohort with its pseudonym mapping and where it was written.

    ``pseudonyms`` has columns ``kind`` (patient/sample), ``source_id`` and ``pseudonym``; it
    must never be shown in the book.
    """

    cohort: Cohort
    pseudonyms: pd.DataFrame
    path: Path | None = None
    pseudonym_path: Path | None = None

    @property
    def lacks(self) -> list[str]:
        return list(self.cohort.meta.get("lacks", []))

    @property
    def repairs(self) -> list[dict[str, Any]]:
        return list(self.cohort.meta.get("repairs", []))

    def summary(self) -> str:
        """A few lines for the command line: counts, repairs and what the source lacks."""
        c = self.cohort
        counts = ", ".join(f"{len(df)} {name}" for name, df in c.tables.items()
                           if df is not None and name != "expression")
        if c.expression is not None:
            genes, n = c.expression.shape
            counts += f", expression {genes} genes x {n} samples"
        lines = [f"cohort '{c.name}' (access: {c.access}): {counts}"]
        for r in self.repairs:
            lines.append(f"  repair [{r['rows']} rows] {r['rule']}")
        if self.lacks:
            lines.append("  the source lacks: " + "; ".join(self.lacks))
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------
# the original tidy-table helper (used by the SITC class tests)
# ----------------------------------------------------------------------------------------
def courses_from_tidy_clinical(clinical: pd.DataFrame) -> pd.DataFrame:
    """Index ICB courses (canonical columns) from a tidy ``clinical.tsv``.

    * ``progression_day`` = PFS time where ``pfs_event`` is 1 (the event may be a death; the
      importers apply the death rule, see :func:`import_tidy`);
    * ``last_assessment_day`` = PFS time where the PFS time is censored;
    * ``best_response``: a source that records best response for some patients but not for
      one gives that patient NE (not evaluated); a source with no best response at all gives
      null, and the classifier falls back on progression timing.
    """
    for col in ("patient_id", "best_overall_response", "pfs_months", "pfs_event"):
        if col not in clinical.columns:
            raise KeyError(f"clinical.tsv: required column '{col}' is missing")
    pfs_days = pd.to_numeric(clinical["pfs_months"], errors="coerce") * DAYS_PER_MONTH
    event = pd.to_numeric(clinical["pfs_event"], errors="coerce")
    br = _best_response_column(clinical["best_overall_response"], TIDY_RESPONSE,
                               "clinical.tsv, column 'best_overall_response'")
    return pd.DataFrame({
        "patient_id": clinical["patient_id"].astype(str).to_numpy(),
        "start_day": 0.0,
        "stop_day": np.nan,
        "best_response": br.to_numpy(),
        "progression_day": pfs_days.where(event == 1).to_numpy(),
        "last_assessment_day": pfs_days.where(event == 0).to_numpy(),
    })


def _best_response_column(raw: pd.Series, vocabulary: Mapping[str, str], where: str) -> pd.Series:
    """Map best-response codes: a partly recorded column gives NE for the gaps, an empty one
    null."""
    codes = raw.astype("string").str.strip().str.upper()
    codes = codes.where(codes != "")
    unknown = codes.notna() & ~codes.isin(list(vocabulary))
    if unknown.any():
        raise SourceFormatError(f"{where}: unknown codes {sorted(codes[unknown].unique())} in "
                                f"{int(unknown.sum())} rows; known: {', '.join(vocabulary)}")
    br = codes.map(dict(vocabulary)).astype(object)
    if codes.notna().any():
        return br.where(codes.notna(), "NE")
    return pd.Series([None] * len(raw), index=raw.index, dtype=object)


# ----------------------------------------------------------------------------------------
# small vocabularies
# ----------------------------------------------------------------------------------------
def harmonise_cancer_type(name: object) -> str:
    """The book's name of a cancer type (NSCLC, Melanoma, RCC, ...); unknown names unchanged."""
    if name is None or (isinstance(name, float) and np.isnan(name)) or str(name).strip() == "":
        return "Unknown"
    text = str(name).strip()
    return CANCER_TYPE_SYNONYMS.get(text.lower(), text)


def regimen_from_text(*texts: object) -> str | None:
    """The canonical regimen named by drug names or drug classes in free text, or None.

    The first text that names a regimen wins. Drug names (nivolumab, atezolizumab, ...) give
    their target; two targets joined by "or" are ambiguous (None); PD-(L)1 with CTLA-4 is the
    combination; a chemotherapy word makes it ICB+chemo. Drug-class labels are understood too
    ("PD-1", "PD-L1", "CTLA-4", "PD-1/PD-L1+CTLA-4", "Combo"); "PD-1/PD-L1" does not say which
    and gives None.
    """
    for text in texts:
        if text is None or (isinstance(text, float) and np.isnan(text)):
            continue
        t = str(text).strip()
        if not t:
            continue
        low = t.lower()
        targets = {target for drug, target in _DRUG_TARGETS.items() if drug in low}
        if not targets:
            norm = low.replace(" ", "").replace("pd1", "pd-1").replace("pdl1", "pd-l1")
            norm = norm.replace("pdl-1", "pd-l1").replace("ctla4", "ctla-4")
            if re.search(r"\bcombo\b|combination", low) and "ctla" in low or (
                    ("pd-1" in norm or "pd-l1" in norm) and "ctla-4" in norm
                    and ("+" in norm or "combination" in norm)):
                targets = {"PD-1", "CTLA-4"}
                low = "+"
            elif "ctla-4then" in norm or "pd-1then" in norm:
                return None  # a sequence of two drugs is not one regimen
            elif "pd-1/pd-l1" in norm or "pd-1orpd-l1" in norm:
                return None
            elif norm.startswith("pd-l1") or norm == "anti-pd-l1":
                targets = {"PD-L1"}
            elif norm.startswith("pd-1") or norm == "anti-pd-1":
                targets = {"PD-1"}
            elif norm.startswith("ctla-4") or norm == "anti-ctla-4":
                targets = {"CTLA-4"}
            elif re.search(r"\bcombo\b", low):
                targets = {"PD-1", "CTLA-4"}
                low = "+"
        if not targets:
            continue
        if any(w in low for w in _CHEMO_WORDS):
            return "ICB+chemo"
        if len(targets) == 1:
            return {"PD-1": "anti-PD-1", "PD-L1": "anti-PD-L1", "CTLA-4": "anti-CTLA-4"}[
                next(iter(targets))]
        if " or " in low or " then " in low or "-to-" in low:
            return None
        if "CTLA-4" in targets:
            return "PD-1+CTLA-4"
        return None  # PD-1 with PD-L1: not a canonical regimen
    return None


def vep_to_maf(consequence: object, hgvsc: object = None) -> str | None:
    """MAF Variant_Classification of a VEP consequence (most severe term of an '&' list)."""
    if consequence is None or (isinstance(consequence, float) and np.isnan(consequence)):
        return None
    terms = set(str(consequence).split("&"))
    for term, maf in VEP_TO_MAF:
        if term in terms:
            if maf == "Frame_Shift":
                return "Frame_Shift_Ins" if "ins" in str(hgvsc or "") or "dup" in str(
                    hgvsc or "") else "Frame_Shift_Del"
            return maf
    return None


# ----------------------------------------------------------------------------------------
# pseudonyms (DESIGN §7)
# ----------------------------------------------------------------------------------------
def pseudonym_path(out_dir: str | Path) -> Path:
    """Where the pseudonym mapping of a cohort folder lives: beside it, never inside it."""
    out = Path(out_dir)
    return out.parent / f"{out.name}.pseudonyms.tsv"


def read_pseudonyms(path: str | Path) -> pd.DataFrame:
    """Read a pseudonym mapping written by an importer (kind, source_id, pseudonym)."""
    df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    missing = {"kind", "source_id", "pseudonym"} - set(df.columns)
    if missing:
        raise SourceFormatError(f"{path}: not a pseudonym mapping (missing columns "
                                f"{sorted(missing)})")
    return df


def _pseudonymise(ids: Iterable[str], prefix: str,
                  existing: Mapping[str, str] | None = None,
                  rng: np.random.Generator | None = None) -> dict[str, str]:
    """Random, unique, opaque pseudonyms (``prefix`` + 10 hex digits) for ``ids``.

    Identifiers already in ``existing`` keep their pseudonym (a re-import stays stable). The
    tokens come from the operating system's secure source unless ``rng`` is given.
    """
    out: dict[str, str] = {}
    used = set((existing or {}).values())
    for i in dict.fromkeys(str(x) for x in ids):
        if existing and i in existing:
            out[i] = existing[i]
            continue
        while True:
            token = (secrets.token_hex(5) if rng is None
                     else bytes(rng.integers(0, 256, 5, dtype=np.uint8)).hex())
            p = f"{prefix}{token}"
            if p not in used:
                break
        used.add(p)
        out[i] = p
    return out


# ----------------------------------------------------------------------------------------
# the shared core: a standard clinical frame → patients and index ICB courses
# ----------------------------------------------------------------------------------------
STANDARD_COLUMNS = ("patient_id", "cancer_type", "sex", "age", "ecog", "line", "regimen",
                    "best_response", "pfs_months", "pfs_event", "os_months", "os_event")


def _as_event(values: pd.Series, where: str) -> pd.Series:
    """Event flags as 0/1 floats (NaN = unknown); anything else is an error."""
    v = pd.to_numeric(values, errors="coerce")
    bad = values.notna() & (values.astype(str).str.strip() != "") & (
        v.isna() | ~v.isin([0, 1]))
    if bad.any():
        raise SourceFormatError(f"{where}: event flags must be 0 or 1, found "
                                f"{sorted(values[bad].astype(str).unique())[:5]} in "
                                f"{int(bad.sum())} rows")
    return v.astype(float)


def _as_months(values: pd.Series, where: str) -> pd.Series:
    v = pd.to_numeric(values, errors="coerce")
    bad = values.notna() & (values.astype(str).str.strip() != "") & v.isna()
    if bad.any():
        raise SourceFormatError(f"{where}: survival times must be numbers (months), found "
                                f"{sorted(values[bad].astype(str).unique())[:5]}")
    if (v < 0).any():
        raise SourceFormatError(f"{where}: negative survival times in {int((v < 0).sum())} rows")
    return v.astype(float)


class _Log:
    """Collects repairs (rule id → rows), lacks and notes of one import."""

    def __init__(self) -> None:
        self.repairs: dict[str, int] = {}
        self.lacks: list[str] = []
        self.notes: list[str] = []

    def repair(self, rule: str, n: int) -> None:
        if n:
            self.repairs[rule] = self.repairs.get(rule, 0) + int(n)

    def lack(self, what: str) -> None:
        if what not in self.lacks:
            self.lacks.append(what)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def as_meta(self) -> dict[str, Any]:
        return {"repairs": [{"id": k, "rule": REPAIR_RULES[k], "rows": v}
                            for k, v in self.repairs.items()],
                "lacks": list(self.lacks), "notes": list(self.notes)}


def clinical_tables(standard: pd.DataFrame, *, death_is_progression: bool = False,
                    log: _Log | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Canonical ``patients`` and index ``icb_courses`` from a standard clinical frame.

    Parameters
    ----------
    standard
        One row per patient with :data:`STANDARD_COLUMNS` (months, 0/1 event flags, canonical
        best response and regimen codes or null).
    death_is_progression
        False (default): a PFS event on the day of death is not a progression. True: every
        PFS event is a progression (FACTS.md convention).
    log
        Collects the repairs made (see :data:`REPAIR_RULES`).

    Returns
    -------
    (patients, icb_courses) with source patient identifiers (pseudonymised later).
    """
    log = log if log is not None else _Log()
    missing = [c for c in STANDARD_COLUMNS if c not in standard.columns]
    if missing:
        raise SourceFormatError(f"standard clinical frame: missing columns {missing}")
    s = standard.reset_index(drop=True)
    pfs_t = _as_months(s["pfs_months"], "PFS time") * DAYS_PER_MONTH
    pfs_e = _as_event(s["pfs_event"], "PFS event")
    os_t = _as_months(s["os_months"], "OS time") * DAYS_PER_MONTH
    os_e = _as_event(s["os_event"], "OS event")

    # incomplete survival pairs cannot be used
    bad = pfs_t.notna() & pfs_e.isna()
    log.repair("pfs_time_without_event", bad.sum())
    pfs_t[bad] = np.nan
    bad = pfs_t.isna() & pfs_e.notna()
    log.repair("pfs_event_without_time", bad.sum())
    pfs_e[bad] = np.nan
    bad = os_t.notna() & os_e.isna()
    log.repair("os_time_without_event", bad.sum())
    os_t[bad] = np.nan
    bad = os_t.isna() & (os_e == 1)
    log.repair("death_without_time", bad.sum())
    os_e[bad] = np.nan
    os_e[os_t.isna()] = np.nan

    # PFS longer than OS
    after = pfs_t.notna() & os_t.notna() & (pfs_t > os_t + SAME_DAY)
    dead = after & (os_e == 1)
    log.repair("pfs_after_death", dead.sum())
    pfs_t[dead] = os_t[dead]
    alive = after & (os_e == 0)
    log.repair("followup_before_pfs", alive.sum())
    os_t[alive] = pfs_t[alive]

    death = (os_e == 1)
    # without OS the last contact is unknown (null); PFS censoring stays in last_assessment_day
    last_followup = os_t
    progressed = pfs_e == 1
    death_at_pfs = progressed & death & ((pfs_t - os_t).abs() <= SAME_DAY)
    if not death_is_progression:
        progressed &= ~death_at_pfs
    progression_day = pfs_t.where(progressed)
    last_assessment = pfs_t.where(pfs_e == 0)
    if not death_is_progression and death_at_pfs.any():
        log.note(f"{int(death_at_pfs.sum())} PFS events fall on the day of death; they are not "
                 "counted as progressions")

    patients = pd.DataFrame({
        "patient_id": s["patient_id"].astype(str),
        "cancer_type": s["cancer_type"].map(harmonise_cancer_type),
        "sex": s["sex"].where(s["sex"].isin(["female", "male"]), None).astype(object),
        "age_at_icb": pd.to_numeric(s["age"], errors="coerce").astype(float),
        "ecog": pd.to_numeric(s["ecog"], errors="coerce").astype(float),
        "last_followup_day": last_followup.astype(float),
        "death": death.astype(bool),
    })
    courses = pd.DataFrame({
        "patient_id": s["patient_id"].astype(str),
        "line": pd.to_numeric(s["line"], errors="coerce").astype(float),
        "regimen": s["regimen"].astype(object).where(s["regimen"].notna(), None),
        "start_day": 0.0,
        "stop_day": np.nan,
        "best_response": s["best_response"].astype(object).where(s["best_response"].notna(),
                                                                 None),
        "progression_day": progression_day.astype(float),
        "last_assessment_day": last_assessment.astype(float),
    })
    if patients["ecog"].isna().all():
        patients = patients.drop(columns="ecog")
    return patients, courses


def _lacks_from_standard(standard: pd.DataFrame, log: _Log) -> None:
    if pd.to_numeric(standard["os_event"], errors="coerce").notna().sum() == 0:
        log.lack("overall survival with vital status (OS)")
    if pd.to_numeric(standard["pfs_event"], errors="coerce").notna().sum() == 0:
        log.lack("progression-free survival with event status (PFS): no progression days, so "
                 "no survival after progression")
    if standard["best_response"].isna().all():
        log.lack("best overall response: resistance classes fall back on progression timing")
    if standard["regimen"].isna().all():
        log.lack("the ICB regimen (drug class not resolved to a canonical regimen)")
    if pd.to_numeric(standard["age"], errors="coerce").isna().all():
        log.lack("age at ICB")
    log.lack("stop day of ICB (exposure) and line of therapy")


# ----------------------------------------------------------------------------------------
# assembling and saving a cohort
# ----------------------------------------------------------------------------------------
def _assemble(name: str, source: str, tables: dict[str, pd.DataFrame | None], log: _Log, *,
              open_data: bool, death_is_progression: bool,
              existing_pseudonyms: pd.DataFrame | None = None,
              extra_meta: Mapping[str, Any] | None = None,
              pseudonym_seed: int | None = None) -> ImportResult:
    """Pseudonymise identifiers, sort rows by pseudonym, build and validate the Cohort."""
    patients = tables["patients"]
    samples = tables["samples"]
    known = {}
    if existing_pseudonyms is not None and len(existing_pseudonyms):
        for kind in ("patient", "sample"):
            sub = existing_pseudonyms[existing_pseudonyms["kind"] == kind]
            known[kind] = dict(zip(sub["source_id"], sub["pseudonym"]))
    rng = np.random.default_rng(pseudonym_seed) if pseudonym_seed is not None else None
    pmap = _pseudonymise(patients["patient_id"], "P", known.get("patient"), rng)
    smap = _pseudonymise(samples["sample_id"], "S", known.get("sample"), rng)
    out: dict[str, pd.DataFrame] = {}
    for tname, df in tables.items():
        if df is None:
            continue
        df = df.copy()
        if tname == "expression":
            df.columns = [smap[str(c)] for c in df.columns]
            df = df[sorted(df.columns)]
            df.index.name = None
            out[tname] = df
            continue
        if "patient_id" in df.columns:
            df["patient_id"] = df["patient_id"].astype(str).map(pmap)
        if "sample_id" in df.columns:
            df["sample_id"] = df["sample_id"].astype(str).map(smap)
        keys = [k for k in ("patient_id", "sample_id", "start_day", "gene", "panel_id")
                if k in df.columns]
        df = df.sort_values(keys, kind="mergesort").reset_index(drop=True)
        out[tname] = df
    meta = {"name": name, "source": source, "simulated": False,
            "access": "open" if open_data else "restricted", "version": 1,
            "pfs_death_rule": DEATH_RULE_TEXT[bool(death_is_progression)],
            "identifiers": "source identifiers replaced by random pseudonyms at import; the "
                           "mapping is kept outside the cohort folder",
            "panel_sizes_mb": {}}
    meta.update(dict(extra_meta or {}))
    meta.update(log.as_meta())
    cohort = Cohort(tables=out, meta=meta)
    from helpers.data.cohort import validate
    validate(cohort, where=f"imported cohort '{name}'")
    rows = ([("patient", k, v) for k, v in pmap.items()]
            + [("sample", k, v) for k, v in smap.items()])
    mapping = pd.DataFrame(rows, columns=["kind", "source_id", "pseudonym"])
    return ImportResult(cohort=cohort, pseudonyms=mapping)


def _save(result: ImportResult, out_dir: str | Path) -> ImportResult:
    """Write the cohort folder and its pseudonym mapping; a failure leaves the old pair intact."""
    out = Path(out_dir).expanduser().resolve()
    ppath = pseudonym_path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = ppath.with_name(ppath.name + ".tmp")
    result.pseudonyms.to_csv(tmp, sep="\t", index=False)
    try:
        result.cohort.save(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(ppath)
    result.path = out
    result.pseudonym_path = ppath
    return result


def _existing_pseudonyms(out_dir: str | Path | None) -> pd.DataFrame | None:
    if out_dir is None:
        return None
    p = pseudonym_path(Path(out_dir).expanduser().resolve())
    return read_pseudonyms(p) if p.is_file() else None


# ----------------------------------------------------------------------------------------
# tidy public tables
# ----------------------------------------------------------------------------------------
def _read_tsv(path: Path, **kw: Any) -> pd.DataFrame:
    try:
        return pd.read_csv(path, sep="\t", low_memory=False, **kw)
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise SourceFormatError(f"{path}: cannot be read as a tab-separated table ({exc})") \
            from None


def _citation(cohort_dir: Path) -> str:
    src = cohort_dir / "SOURCE.md"
    if not src.is_file():
        return ""
    lines = src.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Citation:"):
            text = [line.removeprefix("Citation:").strip()]
            for more in lines[i + 1:]:  # a citation may wrap onto the next lines
                if not more.strip() or re.match(r"^[A-Z][A-Za-z ]+:", more):
                    break
                text.append(more.strip())
            return " ".join(text)
    return ""


def _tidy_standard(clinical: pd.DataFrame, quirks: Mapping[str, Any]) -> pd.DataFrame:
    required = ("patient_id", "cancer_type", "best_overall_response", "pfs_months", "pfs_event",
                "os_months", "os_event")
    missing = [c for c in required if c not in clinical.columns]
    if missing:
        raise SourceFormatError(f"clinical.tsv: required columns missing: {', '.join(missing)}")
    dup = clinical["patient_id"].duplicated()
    if dup.any():
        raise SourceFormatError(f"clinical.tsv: patient_id must be unique ({int(dup.sum())} "
                                "duplicated rows)")
    br = _best_response_column(clinical["best_overall_response"], TIDY_RESPONSE,
                               "clinical.tsv, column 'best_overall_response'")
    reg_cols = [quirks.get("regimen_column"), "treatment", "drug_class"]
    reg_cols = [c for c in reg_cols if c and c in clinical.columns]
    regimen = clinical.apply(lambda r: regimen_from_text(*(r[c] for c in reg_cols)), axis=1) \
        if reg_cols else pd.Series([None] * len(clinical))
    ecog_col = quirks.get("ecog_column")
    ecog = clinical[ecog_col] if ecog_col in clinical.columns else np.nan
    sex = clinical["sex"].astype("string").str.lower() if "sex" in clinical.columns else None
    return pd.DataFrame({
        "patient_id": clinical["patient_id"].astype(str),
        "cancer_type": clinical["cancer_type"],
        "sex": sex.astype(object) if sex is not None else None,
        "age": clinical["age"] if "age" in clinical.columns else np.nan,
        "ecog": ecog,
        "line": np.nan,
        "regimen": regimen.astype(object),
        "best_response": br,
        "pfs_months": clinical["pfs_months"],
        "pfs_event": clinical["pfs_event"],
        "os_months": clinical["os_months"],
        "os_event": clinical["os_event"],
    })


def _tidy_assay(row: pd.Series) -> str | None:
    if "has_wes" in row.index or "has_rna" in row.index:
        dna = bool(row.get("has_wes", 0) == 1)
        rna = bool(row.get("has_rna", 0) == 1)
    else:
        text = str(row.get("assay", "")).lower()
        rna = "rna" in text
        dna = any(w in text for w in ("dna", "wes", "exome", "panel", "foundation"))
    if dna and rna:
        return "DNA+RNA"
    return "DNA" if dna else ("RNA" if rna else None)


def read_tidy_expression(path: str | Path, log: _Log | None = None) -> pd.DataFrame:
    """Read a tidy ``expression.tsv.gz`` (log2(TPM + 0.001)) as canonical log2(TPM + 1)."""
    log = log if log is not None else _Log()
    expr = _read_tsv(Path(path))
    if "gene" not in expr.columns:
        raise SourceFormatError(f"{path}: the first column must be 'gene'")
    expr = expr.set_index("gene")
    expr.columns = expr.columns.astype(str)
    values = expr.to_numpy(dtype=float)
    tpm = np.clip(np.exp2(values) - 0.001, 0.0, None)
    out = pd.DataFrame(np.log2(tpm + 1.0), index=expr.index.astype(str), columns=expr.columns)
    log.repair("expression_offset", out.shape[1])
    return rename_aliases(out, log)


def rename_aliases(expression: pd.DataFrame, log: _Log | None = None) -> pd.DataFrame:
    """Rename previous gene symbols (:data:`SYMBOL_ALIASES`) unless the current one is present."""
    present = set(expression.index)
    renames = {old: new for old, new in SYMBOL_ALIASES.items()
               if old in present and new not in present}
    if renames and log is not None:
        log.note(f"{len(renames)} previous gene symbols renamed to current HGNC symbols "
                 f"({', '.join(f'{a}→{b}' for a, b in sorted(renames.items()))})")
    return expression.rename(index=renames) if renames else expression


def tidy_to_cohort(cohort_dir: str | Path, *, open_data: bool = False,
                   death_is_progression: bool = False, name: str | None = None,
                   existing_pseudonyms: pd.DataFrame | None = None,
                   include_expression: bool = True,
                   pseudonym_seed: int | None = None) -> ImportResult:
    """Import one folder of tidy public tables into a canonical cohort held in memory.

    Parameters
    ----------
    cohort_dir
        A folder with ``clinical.tsv`` and optionally ``samples.tsv``, ``mutations.tsv`` and
        ``expression.tsv.gz`` (the layout of ``../shared/data/public/<cohort>/``).
    open_data
        True for published open data (``access: open``); default restricted.
    death_is_progression
        See the module docstring (default False: a PFS event at death is not a progression).
    name
        Cohort name (default: the folder name).
    existing_pseudonyms
        A previous mapping whose pseudonyms are kept for the same source identifiers.
    include_expression
        False skips the expression matrix (faster, for clinical-only uses).
    pseudonym_seed
        Draw pseudonyms from a seeded generator (reproducible) instead of the secure random
        source. Only for in-memory imports of open published data (chapter 7); never for a
        cohort that is saved or shared.

    Returns
    -------
    ImportResult
    """
    cdir = Path(cohort_dir).expanduser()
    if not (cdir / "clinical.tsv").is_file():
        raise FileNotFoundError(f"{cdir}: no clinical.tsv (expected a folder of tidy tables)")
    folder = cdir.resolve().name
    quirks = TIDY_QUIRKS.get(folder, {})
    log = _Log()
    clinical = _read_tsv(cdir / "clinical.tsv", dtype={"patient_id": str})
    standard = _tidy_standard(clinical, quirks)
    _lacks_from_standard(standard, log)
    patients, courses = clinical_tables(standard, death_is_progression=death_is_progression,
                                        log=log)
    known_patients = set(patients["patient_id"])

    # samples
    samples = pd.DataFrame(columns=["sample_id", "patient_id", "collection_day", "assay",
                                    "timepoint"])
    if (cdir / "samples.tsv").is_file():
        raw = _read_tsv(cdir / "samples.tsv", dtype={"sample_id": str, "patient_id": str})
        for col in ("sample_id", "patient_id"):
            if col not in raw.columns:
                raise SourceFormatError(f"{cdir / 'samples.tsv'}: column '{col}' is missing")
        unknown = ~raw["patient_id"].isin(known_patients)
        log.repair("sample_of_unknown_patient", unknown.sum())
        raw = raw[~unknown]
        assay = raw.apply(_tidy_assay, axis=1)
        tp = raw["timepoint"].astype("string").str.lower() if "timepoint" in raw.columns else None
        samples = pd.DataFrame({
            "sample_id": raw["sample_id"].astype(str),
            "patient_id": raw["patient_id"].astype(str),
            "collection_day": np.nan,
            "assay": assay,
            "timepoint": (tp.where(tp.isin(["pre", "on", "post"])).astype(object)
                          if tp is not None else None),
        })
        if "purity" in raw.columns:
            samples["purity"] = pd.to_numeric(raw["purity"], errors="coerce").to_numpy()
        if "tmb_per_mb" in raw.columns:
            samples["tmb"] = pd.to_numeric(raw["tmb_per_mb"], errors="coerce").to_numpy()
        samples = samples[samples["assay"].notna()]
        samples.loc[samples["timepoint"].isna(), "timepoint"] = "pre"
    else:
        log.lack("tumour samples (no samples.tsv)")

    # mutations
    mutations = cna = panels = None
    panel_sizes: dict[str, float | None] = {}
    if (cdir / "mutations.tsv").is_file():
        raw = _read_tsv(cdir / "mutations.tsv", dtype={"sample_id": str, "patient_id": str})
        if quirks.get("mutations") == "foundationone":
            mutations, cna = map_foundationone(raw)
            cna = cna[cna["copy_state"] != 0]
            panel_id = "FoundationOne"
            genes = sorted(set(raw["gene"].astype(str)))
            panels = pd.DataFrame({"panel_id": panel_id, "gene": genes})
            panel_sizes[panel_id] = KNOWN_PANEL_SIZES_MB[panel_id]
            dna = samples["assay"].isin(["DNA", "DNA+RNA"])
            samples["panel_id"] = np.where(dna, panel_id, None)
            log.note("FoundationOne panel: the gene list is not public; the genes with at least "
                     f"one reported alteration ({len(genes)}) stand for it, so other genes count "
                     "as not assayed; variants of unknown significance are not in the source")
        else:
            vc = raw.get("variant_class", pd.Series(index=raw.index, dtype=object))
            maf = vc.map(TIDY_VARIANT_CLASS_TO_MAF)
            if "variant_classification" in raw.columns:
                from_vep = raw.apply(lambda r: vep_to_maf(r["variant_classification"],
                                                          r.get("hgvsc")), axis=1)
                maf = maf.where(maf.notna(), from_vep)
                direct = raw["variant_classification"].where(
                    raw["variant_classification"].isin(VARIANT_CLASSES))
                maf = maf.where(maf.notna(), direct)
            unmapped = maf.isna()
            if unmapped.any():
                raise SourceFormatError(
                    f"{cdir / 'mutations.tsv'}: {int(unmapped.sum())} variants have a class that "
                    f"maps to no MAF class, e.g. {raw.loc[unmapped].head(3).to_dict('records')}")
            pc = raw.get("protein_change", pd.Series(index=raw.index, dtype=object))
            mutations = pd.DataFrame({
                "sample_id": raw["sample_id"].astype(str), "gene": raw["gene"].astype(str),
                "variant_classification": maf.astype(str),
                "protein_change": pc.where(pc.notna() & (pc.astype(str) != "."), None),
                "vaf": pd.to_numeric(raw.get("vaf"), errors="coerce"),
            })
            log.note("mutation calls are single-nucleotide variants only (no indels and no "
                     "copy-number calls in the public table): frameshift LoF cannot be seen")
        dna_ids = set(samples.loc[samples["assay"].isin(["DNA", "DNA+RNA"]), "sample_id"])
        with_calls = set(mutations["sample_id"]) | (set(cna["sample_id"]) if cna is not None
                                                    else set())
        stray = with_calls - dna_ids
        if stray:
            raise SourceFormatError(f"{cdir / 'mutations.tsv'}: {len(stray)} samples with "
                                    "variants are not DNA samples of samples.tsv")
        if quirks.get("mutations") != "foundationone":
            # DNA assayed on treatment but without public calls would look wild type: keep the
            # DNA flag only where the cohort holds the calls
            no_calls = samples["assay"].isin(["DNA", "DNA+RNA"]) & ~samples["sample_id"].isin(
                with_calls)
            if no_calls.any():
                log.note(f"{int(no_calls.sum())} exome samples have no public mutation calls "
                         "(on-treatment exomes: variants new on treatment carry no gene); their "
                         "DNA assay is not imported")
                samples.loc[no_calls & (samples["assay"] == "DNA+RNA"), "assay"] = "RNA"
                samples = samples[~(no_calls & (samples["assay"] == "DNA"))]
    else:
        log.lack("mutation calls (no LoF analysis)")

    # TMB from the clinical table, onto the patient's pre-treatment DNA sample
    tmb = pd.to_numeric(clinical.get("tmb"), errors="coerce") if "tmb" in clinical.columns \
        else pd.Series(dtype=float)
    if quirks.get("tmb_zero_is_missing"):
        log.repair("tmb_zero_is_missing", int((tmb == 0).sum()))
        tmb = tmb.where(tmb != 0)
    if quirks.get("tmb_per_mb", True) and tmb.notna().any():
        tmb_of = dict(zip(clinical["patient_id"].astype(str), tmb))
        dna = samples["assay"].isin(["DNA", "DNA+RNA"]) & (samples["timepoint"] == "pre")
        if "tmb" not in samples.columns:
            samples["tmb"] = np.nan
        first_dna = samples[dna].drop_duplicates("patient_id")
        fill = samples.index.isin(first_dna.index) & samples["tmb"].isna()
        samples.loc[fill, "tmb"] = samples.loc[fill, "patient_id"].map(tmb_of)
        have = set(samples.loc[dna, "patient_id"])
        need = [p for p, v in tmb_of.items() if pd.notna(v) and p not in have]
        if need:
            extra = pd.DataFrame({"sample_id": [f"{p}::tumour-dna" for p in need],
                                  "patient_id": need, "collection_day": np.nan, "assay": "DNA",
                                  "timepoint": "pre", "tmb": [tmb_of[p] for p in need]})
            samples = pd.concat([samples, extra], ignore_index=True)
            log.note(f"{len(need)} sequenced tumours are known only by their TMB (no mutation "
                     "calls); they are imported as DNA samples assumed to be taken before ICB")
    elif tmb.notna().any():
        log.note("the source's TMB is a mutation count, not per Mb: not imported as TMB")

    # expression
    expression = None
    if include_expression and (cdir / "expression.tsv.gz").is_file():
        expression = read_tidy_expression(cdir / "expression.tsv.gz", log)
        rna_ids = set(samples.loc[samples["assay"].isin(["RNA", "DNA+RNA"]), "sample_id"])
        unknown = [c for c in expression.columns if c not in rna_ids]
        log.repair("expression_sample_unknown", len(unknown))
        expression = expression.drop(columns=unknown)
        if expression.shape[0] < 5000:
            log.note(f"expression covers only {expression.shape[0]} genes (not genome-wide)")
    elif not (cdir / "expression.tsv.gz").is_file():
        log.lack("expression (no TME analysis)")
    if not (samples["timepoint"] == "post").any():
        log.lack("post-progression samples (no acquired-LoF or post-progression TME comparison)")
    if folder == "riaz2017_melanoma_nivolumab":
        log.note("on-treatment biopsies were taken at about week 4 of nivolumab, not at "
                 "progression; on-treatment RNA is not public")
    if folder == "miao2018_ccrcc_pd1":
        log.note("the PFS/OS event flags of the source object were inverted censoring flags; "
                 "the tidy table already holds the corrected events")

    samples = samples.reset_index(drop=True)
    if "tmb" in samples.columns and samples["tmb"].isna().all():
        samples = samples.drop(columns="tmb")
    samples = samples.astype({"sample_id": str, "patient_id": str})
    tables: dict[str, pd.DataFrame | None] = {
        "patients": patients, "icb_courses": courses, "samples": samples,
        "mutations": mutations, "cna": cna, "panels": panels, "expression": expression}
    return _assemble(name or folder, f"tidy public tables: {folder}", tables, log,
                     open_data=open_data, death_is_progression=death_is_progression,
                     existing_pseudonyms=existing_pseudonyms,
                     extra_meta={"citation": _citation(cdir), "panel_sizes_mb": panel_sizes},
                     pseudonym_seed=pseudonym_seed)


def import_tidy(cohort_dir: str | Path, out_dir: str | Path, open_data: bool = False, *,
                death_is_progression: bool = False, name: str | None = None) -> ImportResult:
    """Import a folder of tidy public tables and save it as a canonical cohort folder.

    The pseudonym mapping is written to :func:`pseudonym_path` (``<out_dir>.pseudonyms.tsv``);
    a previous mapping there is reused so a re-import keeps its pseudonyms. See
    :func:`tidy_to_cohort` for the parameters.
    """
    result = tidy_to_cohort(cohort_dir, open_data=open_data,
                            death_is_progression=death_is_progression, name=name,
                            existing_pseudonyms=_existing_pseudonyms(out_dir))
    return _save(result, out_dir)


# ----------------------------------------------------------------------------------------
# cBioPortal study folders
# ----------------------------------------------------------------------------------------
#: Best-response spellings of cBioPortal studies → canonical codes.
CBIO_RESPONSE = {
    "CR": "CR", "COMPLETE RESPONSE": "CR", "COMPLETE_RESPONSE": "CR",
    "PR": "PR", "PARTIAL RESPONSE": "PR", "PARTIAL_RESPONSE": "PR",
    "SD": "SD", "STABLE DISEASE": "SD", "STABLE_DISEASE": "SD", "STABLE": "SD",
    "PD": "PD", "PROGRESSIVE DISEASE": "PD", "PROGRESSIVE_DISEASE": "PD", "PROGRESSION": "PD",
    "NE": "NE", "NOT EVALUABLE": "NE", "NON-EVALUABLE": "NE", "NA": "NE", "MR": "NE",
    "MIXED RESPONSE": "NE",
}
#: Attribute names that may hold a best overall response (first match with a usable vocabulary).
CBIO_RESPONSE_COLUMNS = ("BEST_OVERALL_RESPONSE", "BEST_RESPONSE", "BOR", "RECIST_RESPONSE",
                         "RECIST", "BEST_RECIST_RESPONSE", "OBJECTIVE_RESPONSE", "RESPONSE",
                         "DURABLE_CLINICAL_BENEFIT")
CBIO_TREATMENT_COLUMNS = ("TREATMENT", "DRUG", "DRUG_TYPE", "TREATMENT_TYPE", "REGIMEN",
                          "IO_DRUG", "ICI_DRUG", "AGENT", "THERAPY", "DRUG_CLASS")
CBIO_TIMEPOINT_COLUMNS = ("TIMEPOINT", "SAMPLE_TIMEPOINT", "BIOPSY_TIMEPOINT",
                          "TREATMENT_TIMEPOINT", "SAMPLE_COLLECTION_TIMEPOINT", "BIOPSY_TIME",
                          "PRE_POST", "TIME_POINT")
#: mRNA matrices in order of preference: (file name, already log2?).
CBIO_EXPRESSION_FILES = (
    ("data_mrna_seq_tpm.txt", False),
    ("data_mrna_seq_v2_rsem.txt", False),
    ("data_RNA_Seq_v2_expression_median.txt", False),
    ("data_mrna_seq_fpkm.txt", False),
    ("data_RNA_Seq_expression_median.txt", False),
)


def read_meta(path: str | Path) -> dict[str, str]:
    """Read a cBioPortal ``meta_*.txt`` file (``key: value`` lines)."""
    out = {}
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        if ":" not in line:
            raise SourceFormatError(f"{path}, line {n}: expected 'key: value', got '{line[:60]}'")
        k, v = line.split(":", 1)
        out[k.strip()] = v.strip()
    return out


def read_cbioportal_table(path: str | Path) -> pd.DataFrame:
    """Read a cBioPortal data file, skipping its metadata lines that start with '#'.

    All values are read as text (identifiers such as '0012' keep their zeros).
    """
    path = Path(path)
    lines = path.read_text(errors="strict").splitlines()
    body = [ln for ln in lines if not ln.startswith("#")]
    if not body:
        raise SourceFormatError(f"{path}: no header line")
    from io import StringIO
    try:
        df = pd.read_csv(StringIO("\n".join(body)), sep="\t", dtype=str, keep_default_na=False,
                         na_values=["", "NA", "N/A", "NaN", "nan", "[Not Available]",
                                    "[Not Applicable]", "[Unknown]", "Unknown"], quoting=3)
    except pd.errors.ParserError as exc:
        raise SourceFormatError(f"{path}: cannot be parsed as a tab-separated table ({exc})") \
            from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _status_flag(values: pd.Series, where: str, ones: tuple[str, ...],
                 zeros: tuple[str, ...]) -> pd.Series:
    """cBioPortal status strings ('1:DECEASED', 'LIVING', ...) → 1/0/NaN."""
    out = pd.Series(np.nan, index=values.index, dtype=float)
    for i, v in values.items():
        if pd.isna(v):
            continue
        t = str(v).strip().upper()
        m = re.match(r"^([01])\s*:", t)
        if m:
            out[i] = float(m.group(1))
        elif t in ones:
            out[i] = 1.0
        elif t in zeros:
            out[i] = 0.0
        elif t in ("1", "0"):
            out[i] = float(t)
        else:
            raise SourceFormatError(f"{where}: cannot read the status '{v}' (expected e.g. "
                                    f"'1:{ones[0]}' or '0:{zeros[0]}')")
    return out


def _find_files(study: Path, pattern: str) -> list[Path]:
    return sorted(p for p in study.glob(pattern) if p.is_file())


def _pick_response(clin: pd.DataFrame, log: _Log) -> pd.Series:
    for col in CBIO_RESPONSE_COLUMNS:
        if col not in clin.columns:
            continue
        raw = clin[col].astype("string").str.strip().str.upper()
        present = raw.notna()
        if not present.any():
            continue
        if raw[present].isin(list(CBIO_RESPONSE)).all():
            log.note(f"best overall response read from the attribute {col}")
            br = raw.map(CBIO_RESPONSE).astype(object)
            return br.where(present, "NE")
        log.note(f"attribute {col} is not a RECIST best response (values such as "
                 f"{sorted(raw[present].unique())[:3]}): not used")
    return pd.Series([None] * len(clin), index=clin.index, dtype=object)


def _panel_gene_lists(study: Path) -> dict[str, list[str]]:
    """Gene panels defined inside the study folder (``stable_id:`` and ``gene_list:`` lines)."""
    panels: dict[str, list[str]] = {}
    for f in _find_files(study, "*gene_panel*.txt"):
        if f.name == "data_gene_panel_matrix.txt":
            continue
        text = f.read_text()
        sid = re.search(r"^stable_id:\s*(\S+)", text, re.M)
        genes = re.search(r"^gene_list:\s*(.+)$", text, re.M)
        if sid and genes:
            panels[sid.group(1)] = sorted(set(genes.group(1).split()))
    return panels


def cbioportal_to_cohort(study_dir: str | Path, *, open_data: bool = False,
                         death_is_progression: bool = False, name: str | None = None,
                         existing_pseudonyms: pd.DataFrame | None = None) -> ImportResult:
    """Import a cBioPortal study folder into a canonical cohort held in memory.

    Reads ``meta_study.txt``, ``data_clinical_patient.txt`` and ``data_clinical_sample.txt``
    (their ``#`` header lines are skipped), and where present ``data_mutations*.txt`` (MAF),
    ``data_cna*.txt`` (discrete copy number), ``data_gene_panel_matrix.txt`` and an mRNA
    matrix. Survival: ``OS_MONTHS``/``OS_STATUS`` and ``PFS_MONTHS``/``PFS_STATUS`` (taken to be
    measured from the start of ICB); best response from the first attribute of
    :data:`CBIO_RESPONSE_COLUMNS` with RECIST values. What the study lacks is listed in
    ``cohort.json`` (``lacks``).
    """
    study = Path(study_dir).expanduser()
    if not study.is_dir():
        raise FileNotFoundError(f"cBioPortal study folder not found: {study}")
    meta_file = study / "meta_study.txt"
    if not meta_file.is_file():
        raise SourceFormatError(f"{study}: no meta_study.txt (not a cBioPortal study folder)")
    meta = read_meta(meta_file)
    study_id = meta.get("cancer_study_identifier", study.name)
    log = _Log()
    pat_file = study / "data_clinical_patient.txt"
    smp_file = study / "data_clinical_sample.txt"
    if not pat_file.is_file() and not smp_file.is_file():
        raise SourceFormatError(f"{study}: neither data_clinical_patient.txt nor "
                                "data_clinical_sample.txt")
    pat = read_cbioportal_table(pat_file) if pat_file.is_file() else None
    smp = read_cbioportal_table(smp_file) if smp_file.is_file() else None
    if smp is not None:
        for col in ("SAMPLE_ID", "PATIENT_ID"):
            if col not in smp.columns:
                raise SourceFormatError(f"{smp_file}: column {col} is missing")
    if pat is None:
        pat = smp[["PATIENT_ID"]].drop_duplicates().reset_index(drop=True)
    if "PATIENT_ID" not in pat.columns:
        raise SourceFormatError(f"{pat_file}: column PATIENT_ID is missing")
    dup = pat["PATIENT_ID"].duplicated()
    if dup.any():
        raise SourceFormatError(f"{pat_file}: PATIENT_ID must be unique ({int(dup.sum())} "
                                "duplicated)")
    # patient attributes may sit in the sample file (one value per patient): bring them over
    clin = pat.copy()
    if smp is not None:
        first = smp.drop_duplicates("PATIENT_ID").set_index("PATIENT_ID")
        for col in first.columns:
            if col not in clin.columns and col != "SAMPLE_ID":
                clin[col] = clin["PATIENT_ID"].map(first[col])
    n = len(clin)

    def col_or_nan(c: str) -> pd.Series:
        return clin[c] if c in clin.columns else pd.Series([np.nan] * n, index=clin.index)

    os_e = (_status_flag(clin["OS_STATUS"], f"{pat_file.name}: OS_STATUS",
                         ("DECEASED", "DEAD"), ("LIVING", "ALIVE"))
            if "OS_STATUS" in clin.columns else col_or_nan("OS_STATUS"))
    pfs_e = (_status_flag(clin["PFS_STATUS"], f"{pat_file.name}: PFS_STATUS",
                          ("PROGRESSED", "PROGRESSION", "RECURRED/PROGRESSED", "EVENT"),
                          ("NOT PROGRESSED", "PROGRESSIONFREE", "PROGRESSION FREE", "CENSORED",
                           "DISEASEFREE", "CENSOR"))
             if "PFS_STATUS" in clin.columns else col_or_nan("PFS_STATUS"))
    sex = col_or_nan("SEX").astype("string").str.strip().str.lower()
    cancer = col_or_nan("CANCER_TYPE")
    cancer = cancer.where(cancer.notna(), meta.get("type_of_cancer", "Unknown"))
    treat_cols = [c for c in CBIO_TREATMENT_COLUMNS if c in clin.columns]
    regimen = clin.apply(lambda r: regimen_from_text(*(r[c] for c in treat_cols)), axis=1) \
        if treat_cols else pd.Series([None] * n, index=clin.index)
    ecog = next((clin[c] for c in ("ECOG", "ECOG_PS", "BASELINE_ECOG", "ECOG_SCORE")
                 if c in clin.columns), col_or_nan("ECOG"))
    standard = pd.DataFrame({
        "patient_id": clin["PATIENT_ID"].astype(str), "cancer_type": cancer,
        "sex": sex.where(sex.isin(["female", "male"])).astype(object),
        "age": pd.to_numeric(col_or_nan("AGE"), errors="coerce"),
        "ecog": pd.to_numeric(ecog, errors="coerce"),
        "line": np.nan, "regimen": regimen.astype(object),
        "best_response": _pick_response(clin, log),
        "pfs_months": col_or_nan("PFS_MONTHS"), "pfs_event": pfs_e,
        "os_months": col_or_nan("OS_MONTHS"), "os_event": os_e,
    })
    _lacks_from_standard(standard, log)
    log.note("survival times are taken to be measured from the start of ICB (OS_MONTHS, "
             "PFS_MONTHS)")
    patients, courses = clinical_tables(standard, death_is_progression=death_is_progression,
                                        log=log)
    known = set(patients["patient_id"])

    # samples
    if smp is None:
        raise SourceFormatError(f"{study}: data_clinical_sample.txt is missing")
    unknown = ~smp["PATIENT_ID"].isin(known)
    log.repair("sample_of_unknown_patient", unknown.sum())
    smp = smp[~unknown].reset_index(drop=True)
    tp = pd.Series([None] * len(smp), dtype=object)
    for c in CBIO_TIMEPOINT_COLUMNS:
        if c in smp.columns:
            t = smp[c].astype("string").str.lower()
            tp = np.where(t.str.contains("post|progress", na=False), "post",
                          np.where(t.str.contains(r"\bon\b|on[-_ ]treat|during", na=False), "on",
                                   np.where(t.str.contains("pre|baseline|archiv", na=False),
                                            "pre", None)))
            tp = pd.Series(tp, dtype=object)
            log.note(f"sample timepoints read from the attribute {c}")
            break
    if pd.isna(tp).any():
        log.note(f"{int(pd.isna(tp).sum())} samples have no timepoint: assumed taken before ICB")
        tp = tp.where(tp.notna(), "pre")

    # genomic data
    sample_ids = set(smp["SAMPLE_ID"])
    mutations = None
    maf_files = _find_files(study, "data_mutations*.txt")
    if maf_files:
        maf = read_cbioportal_table(maf_files[0])
        for col in ("Hugo_Symbol", "Tumor_Sample_Barcode", "Variant_Classification"):
            if col not in maf.columns:
                raise SourceFormatError(f"{maf_files[0]}: MAF column {col} is missing")
        keep = maf["Variant_Classification"].isin(VARIANT_CLASSES)
        if (~keep).any():
            other = sorted(maf.loc[~keep, "Variant_Classification"].dropna().unique())[:4]
            log.note(f"{int((~keep).sum())} MAF rows with classes outside the MAF vocabulary "
                     f"({', '.join(other)}) are not imported")
        stray = ~maf["Tumor_Sample_Barcode"].isin(sample_ids)
        if stray.any():
            raise SourceFormatError(f"{maf_files[0]}: {int(stray.sum())} rows name samples "
                                    "absent from data_clinical_sample.txt")
        maf = maf[keep]
        vaf = np.nan
        if {"t_alt_count", "t_ref_count"} <= set(maf.columns):
            alt = pd.to_numeric(maf["t_alt_count"], errors="coerce")
            ref = pd.to_numeric(maf["t_ref_count"], errors="coerce")
            vaf = (alt / (alt + ref)).where((alt + ref) > 0)
        pchange = maf["HGVSp_Short"] if "HGVSp_Short" in maf.columns else None
        mutations = pd.DataFrame({
            "sample_id": maf["Tumor_Sample_Barcode"].astype(str),
            "gene": maf["Hugo_Symbol"].astype(str),
            "variant_classification": maf["Variant_Classification"].astype(str),
            "protein_change": pchange.astype(object) if pchange is not None else None,
            "vaf": vaf,
        })
    else:
        log.lack("mutation calls (no LoF analysis)")
    cna = None
    cna_files = [f for f in _find_files(study, "data_cna*.txt")
                 if not any(w in f.name for w in ("log2", "continuous", "seg", "hg19", "hg38"))]
    if cna_files:
        raw = read_cbioportal_table(cna_files[0])
        if "Hugo_Symbol" not in raw.columns:
            raise SourceFormatError(f"{cna_files[0]}: column Hugo_Symbol is missing")
        scols = [c for c in raw.columns if c not in ("Hugo_Symbol", "Entrez_Gene_Id",
                                                     "Cytoband")]
        stray = [c for c in scols if c not in sample_ids]
        if stray:
            raise SourceFormatError(f"{cna_files[0]}: {len(stray)} columns name samples absent "
                                    "from data_clinical_sample.txt")
        long = raw.melt(id_vars=["Hugo_Symbol"], value_vars=scols, var_name="sample_id",
                        value_name="copy_state").dropna(subset=["copy_state"])
        state = pd.to_numeric(long["copy_state"], errors="coerce")
        if (state.isna() | ~state.isin([-2, -1, 0, 1, 2, -1.5])).any():
            raise SourceFormatError(f"{cna_files[0]}: discrete copy-number values must be -2, -1, "
                                    "0, 1 or 2")
        state = state.replace(-1.5, -1)
        long = long.assign(copy_state=state.astype(int))
        long = long[long["copy_state"].isin(CNA_STATES)]
        cna = (long.rename(columns={"Hugo_Symbol": "gene"})
               .drop_duplicates(["sample_id", "gene"], keep=False)[["sample_id", "gene",
                                                                    "copy_state"]])
    else:
        log.lack("copy-number calls (deep deletions cannot count as LoF)")

    panels = None
    panel_sizes: dict[str, float | None] = {}
    panel_of: dict[str, str | None] = {}
    matrix_file = study / "data_gene_panel_matrix.txt"
    if matrix_file.is_file():
        matrix = read_cbioportal_table(matrix_file)
        if "SAMPLE_ID" not in matrix.columns:
            raise SourceFormatError(f"{matrix_file}: column SAMPLE_ID is missing")
        pcol = "mutations" if "mutations" in matrix.columns else matrix.columns[1]
        panel_of = {s: (p if isinstance(p, str) and p.upper() not in ("WES", "WXS") else None)
                    for s, p in zip(matrix["SAMPLE_ID"], matrix[pcol])}
        used = sorted({p for p in panel_of.values() if p})
        defined = _panel_gene_lists(study)
        rows = []
        for p in used:
            genes = defined.get(p)
            if genes is None:
                genes = _shipped_panel(p)
            if genes is None:
                seen: set[str] = set()
                on = {s for s, q in panel_of.items() if q == p}
                if mutations is not None:
                    seen |= set(mutations.loc[mutations["sample_id"].isin(on), "gene"])
                if cna is not None:
                    seen |= set(cna.loc[cna["sample_id"].isin(on), "gene"])
                genes = sorted(seen)
                log.note(f"gene panel {p}: no gene list in the study; the {len(genes)} genes "
                         "with a reported alteration stand for it")
            rows += [(p, g) for g in genes]
            panel_sizes[p] = KNOWN_PANEL_SIZES_MB.get(p)
            if panel_sizes[p] is None:
                log.note(f"gene panel {p}: size in Mb unknown")
        panels = pd.DataFrame(rows, columns=["panel_id", "gene"]) if rows else None
        if panels is None:
            panel_of = {}
    elif mutations is not None:
        log.note("no data_gene_panel_matrix.txt: DNA samples are taken to be whole exomes")

    sequenced: set[str] = set()
    if mutations is not None:
        sequenced |= set(mutations["sample_id"])
    if cna is not None:
        sequenced |= set(cna["sample_id"])
    sequenced |= {s for s in panel_of}
    case_list = study / "case_lists" / "cases_sequenced.txt"
    if case_list.is_file():
        cl = read_meta(case_list).get("case_list_ids", "")
        sequenced |= set(cl.split())
    if mutations is None and cna is None:
        sequenced = set()  # no calls in the cohort: no DNA samples that would look wild type

    expression = None
    for fname, is_log in CBIO_EXPRESSION_FILES:
        f = study / fname
        if f.is_file():
            raw = read_cbioportal_table(f)
            gcol = "Hugo_Symbol" if "Hugo_Symbol" in raw.columns else raw.columns[0]
            raw = raw[raw[gcol].notna()].drop_duplicates(gcol, keep=False)
            scols = [c for c in raw.columns if c in sample_ids]
            values = raw[scols].apply(pd.to_numeric, errors="coerce")
            values.index = raw[gcol].astype(str)
            values = values.dropna(axis=0, how="any")
            if not is_log and (values.to_numpy() < 0).any():
                is_log = True
            expression = values if is_log else np.log2(values.clip(lower=0) + 1.0)
            expression = rename_aliases(expression, log)
            unit = "TPM" if "tpm" in fname.lower() else "the study's normalised values (not TPM)"
            log.note(f"expression from {fname}: {unit}, as log2(x + 1)")
            break
    if expression is None:
        log.lack("expression (no TME analysis)")
    rna = set(expression.columns) if expression is not None else set()

    assay = [("DNA+RNA" if s in sequenced and s in rna else "DNA" if s in sequenced else
              "RNA" if s in rna else None) for s in smp["SAMPLE_ID"]]
    samples = pd.DataFrame({
        "sample_id": smp["SAMPLE_ID"].astype(str), "patient_id": smp["PATIENT_ID"].astype(str),
        "collection_day": np.nan, "assay": assay, "timepoint": tp.to_numpy(),
    })
    tmb_col = next((c for c in ("TMB_NONSYNONYMOUS", "TMB", "TMB_SCORE") if c in smp.columns),
                   None)
    if tmb_col:
        samples["tmb"] = pd.to_numeric(smp[tmb_col], errors="coerce").to_numpy()
    if panel_of:
        samples["panel_id"] = samples["sample_id"].map(panel_of).astype(object)
    if "TUMOR_PURITY" in smp.columns:
        pur = pd.to_numeric(smp["TUMOR_PURITY"], errors="coerce")
        samples["purity"] = (pur / 100 if pur.max() > 1 else pur).to_numpy()
    n_unassayed = samples["assay"].isna().sum()
    if n_unassayed:
        if tmb_col:
            # a sample with a TMB was sequenced even without calls in the study
            has_tmb = samples["assay"].isna() & samples["tmb"].notna()
            samples.loc[has_tmb, "assay"] = "DNA"
        dropped = samples["assay"].isna()
        if dropped.any():
            log.note(f"{int(dropped.sum())} samples have no molecular data in the study: not "
                     "imported")
        samples = samples[~dropped]
    if "panel_id" in samples.columns:
        samples.loc[~samples["assay"].isin(["DNA", "DNA+RNA"]), "panel_id"] = None
    if not (samples["timepoint"] == "post").any():
        log.lack("post-progression samples (no acquired-LoF or post-progression TME comparison)")
    tables: dict[str, pd.DataFrame | None] = {
        "patients": patients, "icb_courses": courses, "samples": samples.reset_index(drop=True),
        "mutations": mutations, "cna": cna, "panels": panels, "expression": expression}
    return _assemble(name or study_id, f"cBioPortal study {study_id}", tables, log,
                     open_data=open_data, death_is_progression=death_is_progression,
                     existing_pseudonyms=existing_pseudonyms,
                     extra_meta={"citation": meta.get("citation", ""),
                                 "study_name": meta.get("name", study_id),
                                 "panel_sizes_mb": panel_sizes})


def _shipped_panel(panel_id: str) -> list[str] | None:
    """Gene list of a panel shipped in ``data/panels`` (e.g. IMPACT468), or None."""
    root = Path(__file__).resolve().parents[3] / "data" / "panels"
    f = root / f"{panel_id.lower()}_genes.txt"
    return read_gene_list(f) if f.is_file() else None


def import_cbioportal(study_dir: str | Path, out_dir: str | Path, open_data: bool = False, *,
                      death_is_progression: bool = False, name: str | None = None
                      ) -> ImportResult:
    """Import a cBioPortal study folder and save it as a canonical cohort folder.

    The pseudonym mapping goes to ``<out_dir>.pseudonyms.tsv`` (beside the folder). See
    :func:`cbioportal_to_cohort`.
    """
    result = cbioportal_to_cohort(study_dir, open_data=open_data,
                                  death_is_progression=death_is_progression, name=name,
                                  existing_pseudonyms=_existing_pseudonyms(out_dir))
    return _save(result, out_dir)


# ----------------------------------------------------------------------------------------
# for the book pages
# ----------------------------------------------------------------------------------------
def repairs_table(cohort: Cohort) -> pd.DataFrame:
    """The repairs logged at import (rule and rows), for the book's data pages."""
    rows = cohort.meta.get("repairs") or []
    return pd.DataFrame([{"repair": r.get("rule", ""), "rows": int(r.get("rows", 0))}
                         for r in rows], columns=["repair", "rows"])


def lacks_table(cohort: Cohort) -> pd.DataFrame:
    """What the cohort's source lacks, one line each."""
    return pd.DataFrame({"the source lacks": list(cohort.meta.get("lacks") or [])})
