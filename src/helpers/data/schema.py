"""The data model of the canonical cohort (DESIGN §3): its tables, columns and vocabularies.

:data:`SCHEMA` lists, per table, every column with its kind, whether it is required or may be
null, and its vocabulary; :mod:`helpers.data.validate` checks a cohort against it and
:func:`describe_schema` renders it as the book's data dictionary. The expression matrix (genes
as rows, one column per RNA sample) has no fixed columns and is described separately.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from helpers.units import TIMEPOINTS

#: Every table a cohort may hold, in the order of DESIGN §3.
TABLES = (
    "patients",
    "icb_courses",
    "samples",
    "mutations",
    "cna",
    "panels",
    "expression",
    "radiotherapy",
    "performance_status",
)
#: The tables every cohort must have.
REQUIRED_TABLES = ("patients", "icb_courses", "samples")

#: The columns that identify a row of each table (shown in every example row of an error).
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "patients": ("patient_id",),
    "icb_courses": ("patient_id", "start_day"),
    "samples": ("sample_id", "patient_id"),
    "mutations": ("sample_id", "gene"),
    "cna": ("sample_id", "gene"),
    "panels": ("panel_id", "gene"),
    "radiotherapy": ("patient_id", "start_day"),
    "performance_status": ("patient_id", "day"),
}

REGIMENS = (
    "anti-PD-1",
    "anti-PD-L1",
    "anti-CTLA-4",
    "PD-1+CTLA-4",
    "PD-1+LAG-3",
    "ICB+chemo",
    "ICB+targeted",
)
#: Biopsy sites of a tumour sample (``samples.site``; TMEs differ by site).
SAMPLE_SITES = ("primary", "lymph node", "liver", "lung", "other")
RESPONSES = ("CR", "PR", "SD", "PD", "NE")
ASSAYS = ("DNA", "RNA", "DNA+RNA")
SEXES = ("female", "male")
#: MAF variant classifications (GDC MAF specification).
VARIANT_CLASSES = (
    "Frame_Shift_Del",
    "Frame_Shift_Ins",
    "In_Frame_Del",
    "In_Frame_Ins",
    "Missense_Mutation",
    "Nonsense_Mutation",
    "Silent",
    "Splice_Site",
    "Splice_Region",
    "Translation_Start_Site",
    "Nonstop_Mutation",
    "3'UTR",
    "3'Flank",
    "5'UTR",
    "5'Flank",
    "IGR",
    "Intron",
    "RNA",
    "Targeted_Region",
    "De_novo_Start_InFrame",
    "De_novo_Start_OutOfFrame",
)
RT_RESPONSES = ("CR", "PR", "SD", "PD", "NE")
ACCESS_LEVELS = ("open", "restricted")
#: Copy states of the ``cna`` table (-2 deep deletion ... +2 amplification).
COPY_STATES = (-2, -1, 0, 1, 2)
#: ECOG performance status values.
ECOG_VALUES = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class Column:
    """One column of a canonical table."""

    name: str
    kind: str  # "str", "float", "int", "bool"
    required: bool = True
    nullable: bool = False
    vocabulary: tuple[str, ...] | None = None
    description: str = ""


def _c(name: str, kind: str, description: str, **kw: Any) -> Column:
    return Column(name=name, kind=kind, description=description, **kw)


#: The data model of DESIGN §3. ``required=False`` columns are optional (may be absent).
SCHEMA: dict[str, tuple[Column, ...]] = {
    "patients": (
        _c("patient_id", "str", "opaque patient identifier (unique)"),
        _c("cancer_type", "str", "cancer type"),
        _c("sex", "str", "female or male (null if unknown)", nullable=True, vocabulary=SEXES),
        _c("age_at_icb", "float", "age in years at the start of the index ICB course", nullable=True),
        _c(
            "ecog",
            "float",
            "ECOG performance status (0-4) at the index course",
            required=False,
            nullable=True,
        ),
        _c("last_followup_day", "float", "day of death or last contact (null if unknown)", nullable=True),
        _c("death", "bool", "died at last_followup_day"),
    ),
    "icb_courses": (
        _c("patient_id", "str", "patient of the course"),
        _c("line", "float", "line of systemic therapy (1 = first line)", nullable=True),
        _c("regimen", "str", "ICB regimen class", nullable=True, vocabulary=REGIMENS),
        _c("start_day", "float", "first dose (day 0 for the index course)"),
        _c("stop_day", "float", "last dose (null if unknown)", required=False, nullable=True),
        _c(
            "best_response",
            "str",
            "best overall response (RECIST-like); null where the source has none",
            nullable=True,
            vocabulary=RESPONSES,
        ),
        _c("progression_day", "float", "day of progression (null if none observed)", nullable=True),
        _c("last_assessment_day", "float", "last progression-free tumour assessment", nullable=True),
    ),
    "samples": (
        _c("sample_id", "str", "opaque sample identifier (unique)"),
        _c("patient_id", "str", "patient of the sample"),
        _c("collection_day", "float", "day the tumour sample was taken", nullable=True),
        _c("assay", "str", "what was assayed", vocabulary=ASSAYS),
        _c("panel_id", "str", "DNA gene panel (null = whole exome)", required=False, nullable=True),
        _c("purity", "float", "tumour purity (0-1)", required=False, nullable=True),
        _c("tmb", "float", "tumour mutational burden, mutations per Mb", required=False, nullable=True),
        _c("msi", "bool", "microsatellite-instability high", required=False, nullable=True),
        _c(
            "site",
            "str",
            "biopsy site of the sample",
            required=False,
            nullable=True,
            vocabulary=SAMPLE_SITES,
        ),
        _c(
            "timepoint",
            "str",
            "pre/on/post label where the source gives no day",
            required=False,
            nullable=True,
            vocabulary=TIMEPOINTS,
        ),
    ),
    "mutations": (
        _c("sample_id", "str", "sample carrying the variant"),
        _c("gene", "str", "HGNC gene symbol"),
        _c("variant_classification", "str", "MAF variant classification", vocabulary=VARIANT_CLASSES),
        _c("protein_change", "str", "HGVS protein change", required=False, nullable=True),
        _c("vaf", "float", "variant allele fraction (0-1)", required=False, nullable=True),
    ),
    "cna": (
        _c("sample_id", "str", "sample"),
        _c("gene", "str", "HGNC gene symbol"),
        _c("copy_state", "int", "-2 deep deletion, -1 loss, 0 neutral, 1 gain, 2 amplification"),
    ),
    "panels": (
        _c("panel_id", "str", "gene panel"),
        _c("gene", "str", "gene on the panel"),
    ),
    "radiotherapy": (
        _c("patient_id", "str", "patient"),
        _c("start_day", "float", "first fraction"),
        _c("site", "str", "irradiated site", nullable=True),
        _c("total_dose_gy", "float", "total physical dose in Gy"),
        _c("fractions", "int", "number of fractions"),
        _c("technique", "str", "technique as recorded", nullable=True),
        _c(
            "in_field_response",
            "str",
            "response of the irradiated lesion",
            required=False,
            nullable=True,
            vocabulary=RT_RESPONSES,
        ),
        _c(
            "out_of_field_response",
            "str",
            "response outside the field (abscopal)",
            required=False,
            nullable=True,
            vocabulary=RT_RESPONSES,
        ),
    ),
    "performance_status": (
        _c("patient_id", "str", "patient"),
        _c("day", "float", "day of the assessment"),
        _c("ecog", "float", "ECOG performance status (0-4)"),
    ),
}


def describe_schema() -> pd.DataFrame:
    """The data dictionary as a table (for the book's data page).

    Returns
    -------
    pandas.DataFrame
        One row per column of every table: table, column, type, required, may be null,
        allowed values and meaning; a last row describes the expression matrix.
    """
    rows = []
    for t, cols in SCHEMA.items():
        for c in cols:
            rows.append(
                {
                    "table": t,
                    "column": c.name,
                    "type": c.kind,
                    "required": "yes" if c.required else "optional",
                    "may be null": "yes" if c.nullable else "no",
                    "allowed values": ", ".join(c.vocabulary) if c.vocabulary else "",
                    "meaning": c.description,
                }
            )
    rows.append(
        {
            "table": "expression",
            "column": "gene + one column per RNA sample",
            "type": "float",
            "required": "optional",
            "may be null": "no",
            "allowed values": "",
            "meaning": "log2(TPM+1), genes as rows",
        }
    )
    return pd.DataFrame(rows)
