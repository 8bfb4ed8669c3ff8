"""A corpus of broken inputs in their real formats, each with the message it must give.

Three kinds of input are broken one rule at a time, each built by hand in ``tmp_path``:

* folders of tidy tables (``clinical.tsv``, ``samples.tsv``, ``mutations.tsv``,
  ``expression.tsv.gz``) with the columns of the public cohorts (``../shared/data/public``:
  the common clinical columns, then ``src_`` columns; Riaz-style mutation calls with VEP
  consequences; expression as log2(TPM + 0.001), genes as rows);
* cBioPortal study folders as the cBioPortal file formats describe them: ``meta_*.txt`` files
  of ``key: value`` lines naming their ``data_filename``, clinical files that start with four
  ``#`` lines (display names, descriptions, datatypes, priorities), a MAF after its
  ``#version`` line, a discrete CNA matrix and a TPM matrix (genes as rows);
* canonical cohorts (pseudonymous ids), broken table by table and saved or loaded.

An importer's error names the file, the line, the column, the rule and the bad value, or
``<withheld>`` where the column holds identifiers (no planted source identifier may reach the
message); a cohort's error names the table, the rows and the pseudonymous ids. Every case gives
its expected message pattern in :data:`CASES`.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.data.cohort import Cohort
from helpers.data.importers import cbioportal_to_cohort, tidy_to_cohort
from helpers.errors import WITHHELD, CohortValidationError, InputError, SourceFormatError

#: Source identifiers planted in identifier columns: they must never reach a message.
PATIENTS = ["SECRET-PT-0001", "SECRET-PT-0002", "SECRET-PT-0003"]
SAMPLES = ["SECRET-SA-0001", "SECRET-SA-0002", "SECRET-SA-0003"]
STRAY_SAMPLE = "SECRET-SA-9999"
SECRETS = (*PATIENTS, *SAMPLES, STRAY_SAMPLE)


@dataclass(frozen=True)
class Expected:
    """The message a broken input must give.

    ``where`` is the file name (importers) or the table (cohort validation); ``at`` the lines
    of the file (``label`` "line"), the rows of the table ("row") or the positions of the
    expression matrix's columns ("column"); ``value`` the bad value as the message shows it
    (``<withheld>`` for identifiers); ``ids`` pseudonymous ids the message must name.
    """

    error: type[InputError]
    where: str
    column: str
    rule: str
    at: tuple[int, ...]
    value: str
    label: str = "line"
    ids: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------
# tidy tables, in the layout of ../shared/data/public/<cohort>/
# ---------------------------------------------------------------------------------------
def _clinical() -> pd.DataFrame:
    """Three patients with the common columns of every public clinical.tsv, then src_ ones."""
    return pd.DataFrame(
        {
            "patient_id": PATIENTS,
            "cohort_id": "test_melanoma_pd1",
            "cancer_type": "Melanoma",
            "treatment": "Nivolumab",
            "drug_class": "PD-1",
            "best_overall_response": ["PR", "PD", "SD"],
            "response_binary": [1, 0, 0],
            "pfs_months": [7.5, 1.75, 4.25],
            "pfs_event": [0, 1, 1],
            "os_months": [20.5, 5.25, 12.0],
            "os_event": [0, 1, 1],
            "prior_ipilimumab": [0, 1, 0],
            "age": [61, 70, 55],
            "sex": ["female", "male", "male"],
            "tmb": [12.5, 3.25, np.nan],
            "src_BOR": ["PR", "PD", "SD"],
            "src_OS": [624, 160, 365],
        }
    )


def _samples() -> pd.DataFrame:
    """One pre-treatment tumour per patient, exome and RNA (purity and TMB per Mb as Morrison's)."""
    return pd.DataFrame(
        {
            "sample_id": SAMPLES,
            "patient_id": PATIENTS,
            "assay": "WES+RNA-seq",
            "timepoint": "pre",
            "purity": [0.45, 0.6, 0.8],
            "tmb_per_mb": [11.0, 2.5, 7.75],
        }
    )


def _mutations() -> pd.DataFrame:
    """Riaz-style calls: VEP consequence, harmonised class, HGVS, depth and VAF."""
    return pd.DataFrame(
        {
            "sample_id": [SAMPLES[0], SAMPLES[0], SAMPLES[1]],
            "patient_id": [PATIENTS[0], PATIENTS[0], PATIENTS[1]],
            "timepoint": "pre",
            "gene": ["B2M", "TP53", "JAK1"],
            "chrom": ["15", "17", "1"],
            "start": [44711547, 7675088, 64833593],
            "end": [44711547, 7675088, 64833593],
            "variant_classification": ["stop_gained", "missense_variant", "missense_variant"],
            "variant_class": ["Nonsense", "Missense", "Missense"],
            "hgvsc": ["c.67C>T", "c.524G>A", "c.1901A>G"],
            "protein_change": ["p.Gln23*", "p.Arg175His", "p.Tyr634Cys"],
            "t_depth": [120, 200, 80],
            "t_alt_count": [30, 66, 12],
            "vaf": [0.25, 0.33, 0.15],
            "is_lof": [1, 0, 0],
        }
    )


def _expression() -> pd.DataFrame:
    """log2(TPM + 0.001) of five genes (rows) in the three samples."""
    values = np.array(
        [[5.5, 3.25, 4.0], [2.0, -9.9658, 1.5], [7.25, 6.5, 8.0], [0.5, 1.0, -1.5], [3.0, 3.5, 2.75]]
    )
    frame = pd.DataFrame(values, columns=SAMPLES)
    frame.insert(0, "gene", ["CXCL9", "CD274", "B2M", "IFNG", "GZMA"])
    return frame


def _tsv(frame: pd.DataFrame) -> str:
    return frame.to_csv(sep="\t", index=False, lineterminator="\n")


def write_tidy(
    folder: Path,
    clinical: pd.DataFrame | str | None = None,
    samples: pd.DataFrame | str | None = None,
    mutations: pd.DataFrame | None = None,
    expression: pd.DataFrame | str | None = None,
) -> Path:
    """A folder of tidy tables (the unbroken tables where a table is not given)."""
    folder.mkdir(parents=True, exist_ok=True)
    clinical = _clinical() if clinical is None else clinical
    (folder / "clinical.tsv").write_text(clinical if isinstance(clinical, str) else _tsv(clinical))
    samples = _samples() if samples is None else samples
    (folder / "samples.tsv").write_text(samples if isinstance(samples, str) else _tsv(samples))
    (folder / "mutations.tsv").write_text(_tsv(_mutations() if mutations is None else mutations))
    expression = _expression() if expression is None else expression
    text = expression if isinstance(expression, str) else _tsv(expression)
    with gzip.open(folder / "expression.tsv.gz", "wt") as handle:
        handle.write(text)
    return folder


def _set(frame: pd.DataFrame, row: int, column: str, value: object) -> pd.DataFrame:
    out = frame.astype({column: object}) if not isinstance(value, float) else frame.copy()
    out.loc[row, column] = value
    return out


def _tidy(**tables: object) -> Callable[[Path], Callable[[], object]]:
    def build(tmp: Path) -> Callable[[], object]:
        folder = write_tidy(tmp / "tidy_cohort", **tables)  # type: ignore[arg-type]
        return lambda: tidy_to_cohort(folder)

    return build


# ---------------------------------------------------------------------------------------
# cBioPortal study folders
# ---------------------------------------------------------------------------------------
STUDY = "skcm_test_pd1_2024"


def _clinical_file(frame: pd.DataFrame, kind: str, header_lines: bool = True) -> str:
    """A clinical data file: 4 '#' lines (display name, description, datatype, priority), then
    the attribute names and one row per patient or sample."""
    names = {"PATIENT_ID": "Patient Identifier", "SAMPLE_ID": "Sample Identifier"}
    cols = list(frame.columns)
    kinds = [
        "NUMBER" if c.endswith(("_MONTHS", "AGE", "TMB_NONSYNONYMOUS", "PURITY")) else "STRING" for c in cols
    ]
    meta = [
        "#" + "\t".join(names.get(c, c.replace("_", " ").title()) for c in cols),
        "#" + "\t".join(f"{names.get(c, c.lower())} of the {kind}" for c in cols),
        "#" + "\t".join(kinds),
        "#" + "\t".join("1" for _ in cols),
    ]
    body = frame.to_csv(sep="\t", index=False, na_rep="NA", lineterminator="\n")
    return ("\n".join(meta) + "\n" if header_lines else "") + body


def _cbio_patients() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "PATIENT_ID": PATIENTS,
            "SEX": ["Female", "Male", "Male"],
            "AGE": ["61", "70", "55"],
            "OS_MONTHS": ["20.5", "5.25", "12.0"],
            "OS_STATUS": ["0:LIVING", "1:DECEASED", "1:DECEASED"],
            "PFS_MONTHS": ["7.5", "1.75", "4.25"],
            "PFS_STATUS": ["0:CENSORED", "1:PROGRESSION", "1:PROGRESSION"],
            "BEST_OVERALL_RESPONSE": ["Partial Response", "Progressive Disease", "Stable Disease"],
            "TREATMENT": "Nivolumab",
        }
    )


def _cbio_samples() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "PATIENT_ID": PATIENTS,
            "SAMPLE_ID": SAMPLES,
            "CANCER_TYPE": "Melanoma",
            "SAMPLE_TYPE": "Primary",
            "TMB_NONSYNONYMOUS": ["11.0", "2.5", "7.75"],
            "TUMOR_PURITY": ["45", "60", "80"],
        }
    )


#: MAF columns of cBioPortal's mutation format (a subset the importer reads, plus context).
MAF_COLUMNS = (
    "Hugo_Symbol",
    "Entrez_Gene_Id",
    "Center",
    "NCBI_Build",
    "Chromosome",
    "Start_Position",
    "End_Position",
    "Strand",
    "Variant_Classification",
    "Variant_Type",
    "Reference_Allele",
    "Tumor_Seq_Allele1",
    "Tumor_Seq_Allele2",
    "Tumor_Sample_Barcode",
    "HGVSp_Short",
    "t_ref_count",
    "t_alt_count",
)


def _maf(barcodes: list[str] | None = None, header: tuple[str, ...] = MAF_COLUMNS) -> str:
    rows = [
        (
            "B2M",
            "567",
            "TEST",
            "GRCh37",
            "15",
            "45003745",
            "45003745",
            "+",
            "Nonsense_Mutation",
            "SNP",
            "C",
            "C",
            "T",
        ),
        (
            "TP53",
            "7157",
            "TEST",
            "GRCh37",
            "17",
            "7578406",
            "7578406",
            "+",
            "Missense_Mutation",
            "SNP",
            "C",
            "C",
            "T",
        ),
        (
            "JAK1",
            "3716",
            "TEST",
            "GRCh37",
            "1",
            "65310489",
            "65310489",
            "+",
            "Missense_Mutation",
            "SNP",
            "T",
            "T",
            "C",
        ),
    ]
    barcodes = barcodes or [SAMPLES[0], SAMPLES[0], SAMPLES[1]]
    extra = [("p.Q23*", "90", "30"), ("p.R175H", "134", "66"), ("p.Y634C", "68", "12")]
    lines = ["#version 2.4", "\t".join(header)]
    for r, b, e in zip(rows, barcodes, extra, strict=True):
        lines.append("\t".join([*r, b, *e]))
    return "\n".join(lines) + "\n"


def _cna(values: list[list[str]] | None = None) -> str:
    values = values or [["0", "-2", "0"], ["1", "0", "2"]]
    lines = ["\t".join(["Hugo_Symbol", "Entrez_Gene_Id", *SAMPLES])]
    for gene, entrez, row in zip(["CDKN2A", "MYC"], ["1029", "4609"], values, strict=True):
        lines.append("\t".join([gene, entrez, *row]))
    return "\n".join(lines) + "\n"


def _tpm(samples: list[str] | None = None, cell: str | None = None) -> str:
    samples = samples or SAMPLES
    lines = ["\t".join(["Hugo_Symbol", "Entrez_Gene_Id", *samples])]
    for i, (gene, entrez) in enumerate([("CXCL9", "4283"), ("CD274", "29126"), ("GZMA", "3001")]):
        values = [f"{(i + 1) * 10 + j * 2.5:.2f}" for j in range(len(samples))]
        lines.append("\t".join([gene, entrez, *values]))
    return "\n".join(lines) + "\n"


def _meta(alteration: str, datatype: str, data_file: str, **more: str) -> str:
    entries = {
        "cancer_study_identifier": STUDY,
        "genetic_alteration_type": alteration,
        "datatype": datatype,
        **more,
        "data_filename": data_file,
    }
    return "".join(f"{k}: {v}\n" for k, v in entries.items())


def write_study(folder: Path, **files: str | None) -> Path:
    """A cBioPortal study folder; ``files`` replace (text) or remove (None) its files."""
    profile = {"show_profile_in_analysis_tab": "true"}
    contents: dict[str, str | None] = {
        "meta_study.txt": f"type_of_cancer: skcm\ncancer_study_identifier: {STUDY}\n"
        "name: Melanoma anti-PD-1 (test build)\ndescription: a hand-built study\n"
        "citation: none\n",
        "meta_clinical_patient.txt": _meta("CLINICAL", "PATIENT_ATTRIBUTES", "data_clinical_patient.txt"),
        "data_clinical_patient.txt": _clinical_file(_cbio_patients(), "patient"),
        "meta_clinical_sample.txt": _meta("CLINICAL", "SAMPLE_ATTRIBUTES", "data_clinical_sample.txt"),
        "data_clinical_sample.txt": _clinical_file(_cbio_samples(), "sample"),
        "meta_mutations.txt": _meta(
            "MUTATION_EXTENDED",
            "MAF",
            "data_mutations.txt",
            stable_id="mutations",
            profile_name="Mutations",
            profile_description="Mutations (exome)",
            **profile,
        ),
        "data_mutations.txt": _maf(),
        "meta_cna.txt": _meta(
            "COPY_NUMBER_ALTERATION",
            "DISCRETE",
            "data_cna.txt",
            stable_id="gistic",
            profile_name="Putative copy-number alterations",
            profile_description="GISTIC calls",
            **profile,
        ),
        "data_cna.txt": _cna(),
        "meta_mrna_seq_tpm.txt": _meta(
            "MRNA_EXPRESSION",
            "CONTINUOUS",
            "data_mrna_seq_tpm.txt",
            stable_id="mrna_seq_tpm",
            profile_name="mRNA expression (TPM)",
            profile_description="TPM",
            **profile,
        ),
        "data_mrna_seq_tpm.txt": _tpm(),
    }
    contents.update(files)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in contents.items():
        if text is not None:
            (folder / name).write_text(text)
    return folder


def _cbio(**files: str | None) -> Callable[[Path], Callable[[], object]]:
    def build(tmp: Path) -> Callable[[], object]:
        folder = write_study(tmp / STUDY, **files)
        return lambda: cbioportal_to_cohort(folder)

    return build


# ---------------------------------------------------------------------------------------
# canonical cohorts (pseudonymous ids)
# ---------------------------------------------------------------------------------------
PA, PB, PC = "P1a2b3c4d5e", "P6f7a8b9c0d", "P0e1f2a3b4c"
SA, SB, SC = "S9d8c7b6a5f", "S4e3d2c1b0a", "S5a6b7c8d9e"


def canonical_tables() -> dict[str, pd.DataFrame]:
    """A small valid canonical cohort: PB died on day 160."""
    return {
        "patients": pd.DataFrame(
            {
                "patient_id": [PA, PB, PC],
                "cancer_type": "Melanoma",
                "sex": ["female", "male", None],
                "age_at_icb": [61.0, 70.0, 55.0],
                "last_followup_day": [624.0, 160.0, 365.0],
                "death": [False, True, False],
            }
        ),
        "icb_courses": pd.DataFrame(
            {
                "patient_id": [PA, PB, PC],
                "line": [1.0, 2.0, np.nan],
                "regimen": ["anti-PD-1", "anti-PD-1", "PD-1+CTLA-4"],
                "start_day": 0.0,
                "stop_day": [180.0, 90.0, np.nan],
                "best_response": ["PR", "PD", "SD"],
                "progression_day": [np.nan, 54.0, 129.0],
                "last_assessment_day": [228.0, np.nan, 90.0],
            }
        ),
        "samples": pd.DataFrame(
            {
                "sample_id": [SA, SB, SC],
                "patient_id": [PA, PB, PC],
                "collection_day": [-14.0, -7.0, np.nan],
                "assay": ["DNA+RNA", "DNA+RNA", "RNA"],
                "purity": [0.45, 0.6, 0.8],
                "tmb": [11.0, 2.5, np.nan],
                "timepoint": ["pre", "pre", "pre"],
            }
        ),
        "mutations": pd.DataFrame(
            {
                "sample_id": [SA, SA, SB],
                "gene": ["B2M", "TP53", "JAK1"],
                "variant_classification": ["Nonsense_Mutation", "Missense_Mutation", "Missense_Mutation"],
                "protein_change": ["p.Q23*", "p.R175H", "p.Y634C"],
                "vaf": [0.25, 0.33, 0.15],
            }
        ),
        "cna": pd.DataFrame({"sample_id": [SA, SB], "gene": ["CDKN2A", "MYC"], "copy_state": [-2, 2]}),
        "expression": pd.DataFrame(
            {SA: [5.5, 2.0, 7.25], SB: [3.25, 0.0, 6.5], SC: [4.0, 1.5, 8.0]},
            index=pd.Index(["CXCL9", "CD274", "B2M"], name="gene"),
        ),
        "radiotherapy": pd.DataFrame(
            {
                "patient_id": [PA],
                "start_day": [200.0],
                "site": ["bone"],
                "total_dose_gy": [24.0],
                "fractions": [3],
                "technique": ["SBRT"],
            }
        ),
    }


META = {"name": "corpus", "source": "hand-built", "simulated": False, "access": "restricted"}


def _cohort(table: str, change: Callable[[pd.DataFrame], pd.DataFrame], via: str = "save"):
    """Break ``table``; ``via`` "save" validates it on save, "load" writes a valid cohort, puts
    the broken table's Parquet file in its place and loads it (the content hash no longer
    matches, so the load validates)."""

    def build(tmp: Path) -> Callable[[], object]:
        tables = canonical_tables()
        broken = change(tables[table].copy())
        if via == "save":
            tables[table] = broken
            return lambda: Cohort(tables=dict(tables), meta=dict(META)).save(tmp / "cohort")
        Cohort(tables=dict(tables), meta=dict(META)).save(tmp / "cohort")
        broken.reset_index(drop=True).to_parquet(tmp / "cohort" / f"{table}.parquet", index=False)
        return lambda: Cohort.load(tmp / "cohort")

    return build


def _cell(row: int, column: str, value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda df: _set(df, row, column, value)


# ---------------------------------------------------------------------------------------
# the corpus
# ---------------------------------------------------------------------------------------
def _mut(**cells: object) -> pd.DataFrame:
    m = _mutations()
    for column, value in cells.items():
        m = _set(m, 1, column, value)
    return m


def _comma_clinical() -> str:
    return _clinical().to_csv(index=False, lineterminator="\n")


def _duplicate_patient() -> pd.DataFrame:
    c = _clinical()
    c.loc[2, "patient_id"] = PATIENTS[0]
    return c


def _expression_text() -> str:
    e = _expression().astype(object)
    e.iloc[3, 2] = "high"  # IFNG in the second sample
    return _tsv(e)


def _patients_with(row: int, column: str, value: str) -> str:
    return _clinical_file(_set(_cbio_patients(), row, column, value), "patient")


def _samples_with(row: int, column: str, value: str) -> str:
    return _clinical_file(_set(_cbio_samples(), row, column, value), "sample")


def _duplicate_cbio_patient() -> str:
    p = _cbio_patients()
    p.loc[1, "PATIENT_ID"] = PATIENTS[2]
    return _clinical_file(p, "patient")


def _comma_samples() -> str:
    text = _clinical_file(_cbio_samples(), "sample").splitlines()
    return "\n".join(text[:4] + [line.replace("\t", ",") for line in text[4:]]) + "\n"


def _extra_field(text: str, line: int) -> str:
    """``text`` with one more tab-separated field on ``line``."""
    lines = text.splitlines()
    lines[line - 1] += "\tunexpected"
    return "\n".join(lines) + "\n"


MAF_BAD_HEADER = tuple("Tumor_Sample" if c == "Tumor_Sample_Barcode" else c for c in MAF_COLUMNS)

#: id → (how the broken input is built and read, the message it must give).
CASES: dict[str, tuple[Callable[[Path], Callable[[], object]], Expected]] = {
    # --- tidy tables ---------------------------------------------------------------------
    "tidy-negative-pfs": (
        _tidy(clinical=_set(_clinical(), 1, "pfs_months", -2.5)),
        Expected(
            SourceFormatError, "clinical.tsv", "pfs_months", "survival times cannot be negative", (3,), "-2.5"
        ),
    ),
    "tidy-non-numeric-months": (
        _tidy(clinical=_set(_clinical(), 2, "os_months", "about 12")),
        Expected(
            SourceFormatError,
            "clinical.tsv",
            "os_months",
            "survival times must be numbers (months)",
            (4,),
            "about 12",
        ),
    ),
    "tidy-missing-required-column": (
        _tidy(clinical=_clinical().drop(columns="os_event")),
        Expected(
            SourceFormatError,
            "clinical.tsv",
            "os_event",
            "required column is missing from the header",
            (1,),
            "'pfs_event'",
        ),
    ),
    "tidy-unknown-best-response": (
        _tidy(clinical=_set(_clinical(), 0, "best_overall_response", "uCR")),
        Expected(
            SourceFormatError, "clinical.tsv", "best_overall_response", "unknown codes ['UCR']", (2,), "uCR"
        ),
    ),
    "tidy-duplicate-patient": (
        _tidy(clinical=_duplicate_patient()),
        Expected(
            SourceFormatError,
            "clinical.tsv",
            "patient_id",
            "patient identifiers must be unique",
            (2, 4),
            WITHHELD,
        ),
    ),
    "tidy-event-flag-not-0-or-1": (
        _tidy(clinical=_set(_clinical(), 2, "pfs_event", 2)),
        Expected(SourceFormatError, "clinical.tsv", "pfs_event", "event flags must be 0 or 1", (4,), "2"),
    ),
    "tidy-inconsistent-sex-vocabulary": (
        _tidy(clinical=_set(_clinical(), 1, "sex", "M")),
        Expected(SourceFormatError, "clinical.tsv", "sex", "sex must be 'female' or 'male'", (3,), "M"),
    ),
    "tidy-negative-tmb": (
        _tidy(clinical=_set(_clinical(), 0, "tmb", -3.5)),
        Expected(SourceFormatError, "clinical.tsv", "tmb", "TMB cannot be negative", (2,), "-3.5"),
    ),
    "tidy-negative-tmb-per-mb": (
        _tidy(samples=_set(_samples(), 2, "tmb_per_mb", -0.5)),
        Expected(SourceFormatError, "samples.tsv", "tmb_per_mb", "TMB cannot be negative", (4,), "-0.5"),
    ),
    "tidy-purity-above-1": (
        _tidy(samples=_set(_samples(), 1, "purity", 1.7)),
        Expected(
            SourceFormatError,
            "samples.tsv",
            "purity",
            "purity must be a fraction between 0 and 1",
            (3,),
            "1.7",
        ),
    ),
    "tidy-mutation-of-unknown-sample": (
        _tidy(mutations=_mut(sample_id=STRAY_SAMPLE)),
        Expected(
            SourceFormatError,
            "mutations.tsv",
            "sample_id",
            "the variant's sample is not a DNA sample of samples.tsv",
            (3,),
            WITHHELD,
        ),
    ),
    "tidy-unknown-variant-classification": (
        _tidy(mutations=_mut(variant_classification="novel_consequence", variant_class="Other")),
        Expected(
            SourceFormatError,
            "mutations.tsv",
            "variant_classification",
            "the variant class maps to no MAF class",
            (3,),
            "novel_consequence",
        ),
    ),
    "tidy-vaf-above-1": (
        _tidy(mutations=_mut(vaf=1.25)),
        Expected(
            SourceFormatError,
            "mutations.tsv",
            "vaf",
            "VAF (variant allele fraction) must be between 0 and 1",
            (3,),
            "1.25",
        ),
    ),
    "tidy-non-numeric-expression": (
        _tidy(expression=_expression_text()),
        Expected(
            SourceFormatError,
            "expression.tsv.gz",
            "(sample columns)",
            "expression values must be numbers",
            (5,),
            "high",
        ),
    ),
    "tidy-expression-without-gene-column": (
        _tidy(expression=_expression().rename(columns={"gene": "Gene_Symbol"})),
        Expected(
            SourceFormatError,
            "expression.tsv.gz",
            "gene",
            "required column is missing from the header",
            (1,),
            WITHHELD,
        ),
    ),
    "tidy-row-with-an-extra-field": (
        _tidy(samples=_extra_field(_tsv(_samples()), 3)),
        Expected(
            SourceFormatError,
            "samples.tsv",
            "(fields)",
            "a row must have as many tab-separated fields as the header",
            (3,),
            "7 (the header has 6)",
        ),
    ),
    "tidy-empty-file": (
        _tidy(clinical=""),
        Expected(SourceFormatError, "clinical.tsv", "(header)", "the file is empty", (1,), "no line"),
    ),
    "tidy-comma-separated-file": (
        _tidy(clinical=_comma_clinical()),
        Expected(
            SourceFormatError, "clinical.tsv", "(header)", "the file must be tab-separated", (1,), "','"
        ),
    ),
    # --- cBioPortal study folders --------------------------------------------------------
    "cbio-negative-pfs": (
        _cbio(**{"data_clinical_patient.txt": _patients_with(1, "PFS_MONTHS", "-1.2")}),
        Expected(
            SourceFormatError,
            "data_clinical_patient.txt",
            "PFS_MONTHS",
            "survival times cannot be negative",
            (7,),
            "-1.2",
        ),
    ),
    "cbio-non-numeric-months": (
        _cbio(**{"data_clinical_patient.txt": _patients_with(2, "OS_MONTHS", "12 mo")}),
        Expected(
            SourceFormatError,
            "data_clinical_patient.txt",
            "OS_MONTHS",
            "survival times must be numbers",
            (8,),
            "12 mo",
        ),
    ),
    "cbio-unknown-os-status": (
        _cbio(**{"data_clinical_patient.txt": _patients_with(0, "OS_STATUS", "Alive?")}),
        Expected(
            SourceFormatError,
            "data_clinical_patient.txt",
            "OS_STATUS",
            "cannot read the status",
            (6,),
            "Alive?",
        ),
    ),
    "cbio-duplicate-patient": (
        _cbio(**{"data_clinical_patient.txt": _duplicate_cbio_patient()}),
        Expected(
            SourceFormatError,
            "data_clinical_patient.txt",
            "PATIENT_ID",
            "patient identifiers must be unique",
            (7, 8),
            WITHHELD,
        ),
    ),
    "cbio-clinical-file-without-header-lines": (
        _cbio(
            **{"data_clinical_patient.txt": _clinical_file(_cbio_patients(), "patient", header_lines=False)}
        ),
        Expected(
            SourceFormatError,
            "data_clinical_patient.txt",
            "(metadata lines)",
            "a cBioPortal clinical file starts with 4 lines beginning with '#'",
            (1,),
            "0",
        ),
    ),
    "cbio-missing-required-column": (
        _cbio(
            **{
                "data_clinical_sample.txt": _clinical_file(
                    _cbio_samples().rename(columns={"PATIENT_ID": "PATIENT"}), "sample"
                )
            }
        ),
        Expected(
            SourceFormatError,
            "data_clinical_sample.txt",
            "PATIENT_ID",
            "required column is missing from the header",
            (5,),
            "'PATIENT'",
        ),
    ),
    "cbio-negative-tmb": (
        _cbio(**{"data_clinical_sample.txt": _samples_with(1, "TMB_NONSYNONYMOUS", "-4")}),
        Expected(
            SourceFormatError,
            "data_clinical_sample.txt",
            "TMB_NONSYNONYMOUS",
            "TMB cannot be negative",
            (7,),
            "-4",
        ),
    ),
    "cbio-purity-above-100-percent": (
        _cbio(**{"data_clinical_sample.txt": _samples_with(2, "TUMOR_PURITY", "170")}),
        Expected(
            SourceFormatError,
            "data_clinical_sample.txt",
            "TUMOR_PURITY",
            "purity must be a percentage between 0 and 100",
            (8,),
            "170",
        ),
    ),
    "cbio-comma-separated-file": (
        _cbio(**{"data_clinical_sample.txt": _comma_samples()}),
        Expected(
            SourceFormatError,
            "data_clinical_sample.txt",
            "(header)",
            "the file must be tab-separated",
            (5,),
            "','",
        ),
    ),
    "cbio-row-with-an-extra-field": (
        _cbio(**{"data_clinical_sample.txt": _extra_field(_clinical_file(_cbio_samples(), "sample"), 7)}),
        Expected(
            SourceFormatError,
            "data_clinical_sample.txt",
            "(fields)",
            "a row must have as many tab-separated fields as the header",
            (7,),
            "7 (the header has 6)",
        ),
    ),
    "cbio-meta-file-names-missing-data-file": (
        _cbio(
            **{
                "meta_mutations.txt": _meta(
                    "MUTATION_EXTENDED", "MAF", "data_mutations_extended.txt", stable_id="mutations"
                )
            }
        ),
        Expected(
            SourceFormatError,
            "meta_mutations.txt",
            "data_filename",
            "names a data file that is not in the study folder",
            (5,),
            "data_mutations_extended.txt",
        ),
    ),
    "cbio-malformed-maf-header": (
        _cbio(**{"data_mutations.txt": _maf(header=MAF_BAD_HEADER)}),
        Expected(
            SourceFormatError,
            "data_mutations.txt",
            "Tumor_Sample_Barcode",
            "required column is missing from the header",
            (2,),
            "'Tumor_Sample'",
        ),
    ),
    "cbio-mutation-of-unknown-sample": (
        _cbio(**{"data_mutations.txt": _maf(barcodes=[SAMPLES[0], STRAY_SAMPLE, SAMPLES[1]])}),
        Expected(
            SourceFormatError,
            "data_mutations.txt",
            "Tumor_Sample_Barcode",
            "names a sample absent from data_clinical_sample.txt",
            (4,),
            WITHHELD,
        ),
    ),
    "cbio-cna-value-outside-range": (
        _cbio(**{"data_cna.txt": _cna([["0", "-2", "0"], ["1", "3", "2"]])}),
        Expected(
            SourceFormatError,
            "data_cna.txt",
            "(sample columns)",
            "discrete copy-number values must be -2, -1, 0, 1 or 2",
            (3,),
            "3",
        ),
    ),
    "cbio-expression-sample-not-in-sample-file": (
        _cbio(**{"data_mrna_seq_tpm.txt": _tpm([*SAMPLES, STRAY_SAMPLE])}),
        Expected(
            SourceFormatError,
            "data_mrna_seq_tpm.txt",
            "(sample columns)",
            "the column names a sample absent from data_clinical_sample.txt",
            (1,),
            "6",  # the column's number; its name is an identifier
        ),
    ),
    "cbio-empty-file": (
        _cbio(**{"data_cna.txt": ""}),
        Expected(SourceFormatError, "data_cna.txt", "(header)", "the file is empty", (1,), "no line"),
    ),
    # --- canonical cohorts ---------------------------------------------------------------
    "cohort-course-stops-before-it-starts": (
        _cohort("icb_courses", _cell(1, "stop_day", -30.0)),
        Expected(
            CohortValidationError,
            "icb_courses",
            "stop_day",
            "a course cannot stop before it starts",
            (1,),
            "-30.0",
            label="row",
            ids=(PB,),
        ),
    ),
    "cohort-progression-before-course-start": (
        _cohort("icb_courses", _cell(2, "progression_day", -12.5)),
        Expected(
            CohortValidationError,
            "icb_courses",
            "progression_day",
            "progression cannot precede the course start",
            (2,),
            "-12.5",
            label="row",
            ids=(PC,),
        ),
    ),
    "cohort-pfs-longer-than-os": (  # no repair rule applies to a canonical cohort
        _cohort("icb_courses", _cell(0, "progression_day", 700.0), via="load"),
        Expected(
            CohortValidationError,
            "icb_courses",
            "progression_day",
            "nothing can happen after death or last follow-up (progression_day > last_followup_day)",
            (0,),
            "700.0",
            label="row",
            ids=(PA,),
        ),
    ),
    "cohort-event-after-death": (
        _cohort("radiotherapy", lambda df: df.assign(patient_id=PB, start_day=175.0)),
        Expected(
            CohortValidationError,
            "radiotherapy",
            "start_day",
            "nothing can happen after death or last follow-up (start_day > last_followup_day)",
            (0,),
            "175.0",
            label="row",
            ids=(PB,),
        ),
    ),
    "cohort-non-numeric-days": (
        _cohort("samples", lambda df: df.assign(collection_day=["-14", "week 1", None]), via="load"),
        Expected(
            CohortValidationError,
            "samples",
            "collection_day",
            "values must be numeric",
            (1,),
            "week 1",
            label="row",
            ids=(SB, PB),
        ),
    ),
    "cohort-duplicate-patient": (
        _cohort("patients", lambda df: df.assign(patient_id=[PA, PB, PA]), via="load"),
        Expected(
            CohortValidationError,
            "patients",
            "patient_id",
            "identifiers must be unique",
            (0, 2),
            PA,
            label="row",
            ids=(PA,),
        ),
    ),
    "cohort-sample-of-unknown-patient": (
        _cohort("samples", _cell(2, "patient_id", "Pfedcba9876")),
        Expected(
            CohortValidationError,
            "samples",
            "patient_id",
            "refers to a patient not in the patients table",
            (2,),
            "Pfedcba9876",
            label="row",
            ids=(SC,),
        ),
    ),
    "cohort-mutation-of-unknown-sample": (
        _cohort("mutations", _cell(1, "sample_id", "S0000000000")),
        Expected(
            CohortValidationError,
            "mutations",
            "sample_id",
            "refers to a sample not in the samples table",
            (1,),
            "S0000000000",
            label="row",
            ids=("S0000000000",),
        ),
    ),
    "cohort-expression-sample-not-in-samples": (
        _cohort("expression", lambda df: df.rename(columns={SC: "S1111111111"})),
        Expected(
            CohortValidationError,
            "expression",
            "(sample columns)",
            "column is not a sample with an RNA assay",
            (2,),
            "S1111111111",
            label="column",
            ids=("S1111111111",),
        ),
    ),
    "cohort-inconsistent-sex-vocabulary": (
        _cohort("patients", _cell(1, "sex", "M")),
        Expected(
            CohortValidationError,
            "patients",
            "sex",
            "unknown code; allowed: female, male",
            (1,),
            "M",
            label="row",
            ids=(PB,),
        ),
    ),
    "cohort-unknown-best-response": (
        _cohort("icb_courses", _cell(0, "best_response", "MR")),
        Expected(
            CohortValidationError,
            "icb_courses",
            "best_response",
            "unknown code; allowed: CR, PR, SD, PD, NE",
            (0,),
            "MR",
            label="row",
            ids=(PA,),
        ),
    ),
    "cohort-cna-value-outside-range": (
        _cohort("cna", _cell(1, "copy_state", 3)),
        Expected(
            CohortValidationError,
            "cna",
            "copy_state",
            "copy_state must be -2, -1, 0, 1 or 2",
            (1,),
            "3",
            label="row",
            ids=(SB,),
        ),
    ),
    "cohort-vaf-above-1": (
        _cohort("mutations", _cell(2, "vaf", 1.5)),
        Expected(
            CohortValidationError,
            "mutations",
            "vaf",
            "VAF must be between 0 and 1",
            (2,),
            "1.5",
            label="row",
            ids=(SB,),
        ),
    ),
    "cohort-negative-tmb": (
        _cohort("samples", _cell(0, "tmb", -2.0)),
        Expected(
            CohortValidationError,
            "samples",
            "tmb",
            "TMB cannot be negative",
            (0,),
            "-2.0",
            label="row",
            ids=(SA, PA),
        ),
    ),
    "cohort-purity-above-1": (
        _cohort("samples", _cell(1, "purity", 1.2)),
        Expected(
            CohortValidationError,
            "samples",
            "purity",
            "purity must be between 0 and 1",
            (1,),
            "1.2",
            label="row",
            ids=(SB, PB),
        ),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_broken_input_gives_its_message(case: str, tmp_path: Path) -> None:
    build, expected = CASES[case]
    run = build(tmp_path)
    with pytest.raises(InputError) as info:
        run()
    error = info.value
    message = str(error)
    assert isinstance(error, expected.error), f"{type(error).__name__}: {message}"
    # the violation: where (file or table), column and rule
    found = [
        v
        for v in error.violations
        if v.table == expected.where and v.column == expected.column and expected.rule in v.rule
    ]
    assert found, f"no violation of {expected.where}/{expected.column}/{expected.rule!r} in:\n{message}"
    (violation,) = found
    assert f"table '{expected.where}', column '{expected.column}': " in message
    assert expected.rule in message
    # the lines of the file, or the rows of the table, that break it
    shown = violation.examples
    assert shown is not None and shown.index.name == expected.label, message
    assert tuple(shown.index[: len(expected.at)]) == expected.at, message
    assert re.search(rf"^\s+{expected.label}\s*$", message, re.M), message
    for n in expected.at:
        assert re.search(rf"^\s+{n}\s", message, re.M), f"{expected.label} {n} not shown:\n{message}"
    # the bad value (withheld for identifiers) ...
    cells = {str(v) for v in shown.to_numpy().ravel()}
    assert expected.value in cells, f"{expected.value!r} not among {cells}:\n{message}"
    assert expected.value in message
    # ... and no source identifier; a cohort's message names its pseudonyms
    for planted in SECRETS:
        assert planted not in message, f"{planted} leaked:\n{message}"
    for pseudonym in expected.ids:
        assert pseudonym in message


def test_the_corpus_covers_every_kind_of_input() -> None:
    kinds = {case.split("-")[0] for case in CASES}
    assert kinds == {"tidy", "cbio", "cohort"} and len(CASES) >= 24
    errors = {expected.error for _, expected in CASES.values()}
    assert errors == {SourceFormatError, CohortValidationError}


def test_the_unbroken_inputs_import(tmp_path: Path) -> None:
    """Each case breaks one rule: the same inputs unbroken are valid."""
    tidy = tidy_to_cohort(write_tidy(tmp_path / "tidy"))
    assert len(tidy.cohort.patients) == 3 and len(tidy.cohort.mutations) == 3
    assert tidy.cohort.expression.shape == (5, 3)
    study = cbioportal_to_cohort(write_study(tmp_path / STUDY))
    c = study.cohort
    assert len(c.patients) == 3 and len(c.mutations) == 3 and len(c.cna) == 3
    assert c.expression.shape == (3, 3) and c.samples["purity"].max() == 0.8
    assert set(c.patients["sex"]) == {"female", "male"}
    saved = Cohort(tables=canonical_tables(), meta=dict(META)).save(tmp_path / "cohort")
    assert len(Cohort.load(saved).patients) == 3
