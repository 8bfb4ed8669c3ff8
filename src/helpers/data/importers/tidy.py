"""Importer of the tidy public tables of ``../shared/data/public/<cohort>/`` (DESIGN §3 and §7).

A folder holds ``clinical.tsv`` (one row per patient: survival in months with event flags,
best response, covariates) and optionally ``samples.tsv``, ``mutations.tsv`` and
``expression.tsv.gz`` (log2(TPM + 0.001), genes as rows). :func:`tidy_to_cohort` maps it
through the shared rules of :mod:`~helpers.data.importers.common` into a canonical cohort held
in memory; :func:`import_tidy` also saves it, with the pseudonym mapping beside the folder.

The public tables record neither the stop day nor the duration of response, so PFS time stands
in for the duration of benefit and for follow-up (``last_assessment_day``), and the stop day is
unknown. Per-cohort quirks (from each ``SOURCE.md``) are in :data:`TIDY_QUIRKS`.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers.data.importers.common import (
    ImportLog,
    ImportResult,
    assemble,
    check_delimiter,
    check_range,
    check_source,
    clinical_tables,
    existing_pseudonyms,
    lacks_from_standard,
    line_labels,
    raise_empty_file,
    raise_field_count,
    raise_source_errors,
    rename_aliases,
    require_source_columns,
    save_import,
)
from helpers.data.importers.vocabulary import KNOWN_PANEL_SIZES_MB, regimen_from_text, vep_to_maf
from helpers.data.maf import map_foundationone
from helpers.data.schema import VARIANT_CLASSES
from helpers.errors import SourceFormatError, Violation
from helpers.units import DAYS_PER_MONTH, TIMEPOINTS

#: Best-response codes of the tidy tables mapped onto the canonical vocabulary. A mixed
#: response (MR) is not a RECIST category: it is not evaluable.
TIDY_RESPONSE = {"CR": "CR", "PR": "PR", "SD": "SD", "PD": "PD", "NE": "NE", "MR": "NE"}

#: Per-cohort quirks of the tidy public tables (from each SOURCE.md).
TIDY_QUIRKS: dict[str, dict[str, Any]] = {
    # tmb is a count of pre-therapy nonsynonymous mutations, not per Mb
    "riaz2017_melanoma_nivolumab": {"tmb_per_mb": False},
    # half the patients have TMB exactly 0 although all had WES: 0 codes "missing"
    "miao2018_ccrcc_pd1": {"tmb_zero_is_missing": True, "regimen_column": "src_drug"},
    "imvigor210_urothelial_atezolizumab": {
        "ecog_column": "src_Baseline_ECOG_Score",
        "mutations": "foundationone",
    },
    "chang2024_loris_validation_cohorts": {"ecog_column": "src_Performance_status"},
    # MORRISON-1 has no event status (pfs_event/os_event empty) and no mutation calls
    "morrison1_melanoma_campbell2023": {},
}

#: Harmonised tidy ``variant_class`` values mapped to MAF classes (where unambiguous).
TIDY_VARIANT_CLASS_TO_MAF = {
    "Missense": "Missense_Mutation",
    "Nonsense": "Nonsense_Mutation",
    "Splice_Site": "Splice_Site",
    "Start_Lost": "Translation_Start_Site",
    "Stop_Lost": "Nonstop_Mutation",
}

#: The required columns of ``clinical.tsv``.
CLINICAL_COLUMNS = (
    "patient_id",
    "cancer_type",
    "best_overall_response",
    "pfs_months",
    "pfs_event",
    "os_months",
    "os_event",
)

DNA_ASSAYS = ("DNA", "DNA+RNA")
RNA_ASSAYS = ("RNA", "DNA+RNA")


# ----------------------------------------------------------------------------------------
# reading the tables, rows labelled by their line
# ----------------------------------------------------------------------------------------
def _data_lines(path: Path) -> list[int]:
    """The line of every data row pandas reads from ``path`` (it skips blank lines)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        return [n for n, raw in enumerate(handle, 1) if n > 1 and raw.rstrip(b"\r\n").strip(b" ")]


def _header_text(path: Path) -> str:
    """The first line of ``path`` (the header of a tidy table)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        return handle.readline().decode(errors="replace").rstrip("\r\n")


def read_tidy_table(path: str | Path, **kw: Any) -> pd.DataFrame:
    """Read a tab-separated tidy table, each row labelled by its line in the file.

    Where a quoted field spans lines, so that lines and rows do not match one to one, the rows
    are labelled by their number instead (index name ``row``). ``attrs["header_line"]`` is the
    line of the header (1).

    Raises
    ------
    helpers.errors.SourceFormatError
        If the file is empty, is not tab-separated (e.g. comma-separated) or cannot be read as
        a tab-separated table.
    """
    path = Path(path)
    try:
        df = pd.read_csv(path, sep="\t", low_memory=False, **kw)
        lines = _data_lines(path)
        header = _header_text(path)
    except pd.errors.EmptyDataError:
        raise_empty_file(path)
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise_field_count(exc, path)
        raise SourceFormatError(f"{path}: cannot be read as a tab-separated table ({exc})") from None
    check_delimiter(df, header, path)
    if len(lines) == len(df):
        df.index = line_labels(lines)
    else:
        df.index = pd.RangeIndex(1, len(df) + 1, name="row")
    df.attrs["header_line"] = 1
    return df


def _citation(cohort_dir: Path) -> str:
    src = cohort_dir / "SOURCE.md"
    if not src.is_file():
        return ""
    lines = src.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Citation:"):
            text = [line.removeprefix("Citation:").strip()]
            for more in lines[i + 1 :]:  # a citation may wrap onto the next lines
                if not more.strip() or re.match(r"^[A-Z][A-Za-z ]+:", more):
                    break
                text.append(more.strip())
            return " ".join(text)
    return ""


# ----------------------------------------------------------------------------------------
# the clinical table
# ----------------------------------------------------------------------------------------
def _best_response_column(
    clinical: pd.DataFrame, vocabulary: Mapping[str, str], file: str | Path
) -> pd.Series:
    """Map best-response codes: a partly recorded column gives NE for the gaps, an empty one null."""
    raw = clinical["best_overall_response"]
    codes = raw.astype("string").str.strip().str.upper()
    codes = codes.where(codes != "")
    unknown = (codes.notna() & ~codes.isin(list(vocabulary))).to_numpy()
    problems: list[Violation] = []
    found = sorted(codes[unknown].unique())
    check_source(
        problems,
        clinical,
        unknown,
        file=file,
        column="best_overall_response",
        rule=f"unknown codes {found}; known: {', '.join(vocabulary)}",
        show=["patient_id"],
    )
    raise_source_errors(problems, file)
    br = codes.map(dict(vocabulary)).astype(object)
    if codes.notna().any():
        return br.where(codes.notna(), "NE")
    return pd.Series([None] * len(raw), index=raw.index, dtype=object)


def courses_from_tidy_clinical(clinical: pd.DataFrame) -> pd.DataFrame:
    """Index ICB courses (canonical columns) from a tidy ``clinical.tsv``.

    * ``progression_day`` = PFS time where ``pfs_event`` is 1 (the event may be a death; the
      importers apply the death rule, see :func:`tidy_to_cohort`);
    * ``last_assessment_day`` = PFS time where the PFS time is censored;
    * ``best_response``: a source that records best response for some patients but not for
      one gives that patient NE (not evaluated); a source with no best response at all gives
      null, and the classifier falls back on progression timing.

    Raises
    ------
    helpers.errors.SourceFormatError
        A required column is missing or a best-response code is unknown.
    """
    require_source_columns(
        clinical, ("patient_id", "best_overall_response", "pfs_months", "pfs_event"), "clinical.tsv"
    )
    pfs_days = pd.to_numeric(clinical["pfs_months"], errors="coerce") * DAYS_PER_MONTH
    event = pd.to_numeric(clinical["pfs_event"], errors="coerce")
    br = _best_response_column(clinical, TIDY_RESPONSE, "clinical.tsv")
    return pd.DataFrame(
        {
            "patient_id": clinical["patient_id"].astype(str).to_numpy(),
            "start_day": 0.0,
            "stop_day": np.nan,
            "best_response": br.to_numpy(),
            "progression_day": pfs_days.where(event == 1).to_numpy(),
            "last_assessment_day": pfs_days.where(event == 0).to_numpy(),
        }
    )


def _tidy_standard(clinical: pd.DataFrame, quirks: Mapping[str, Any], file: Path) -> pd.DataFrame:
    """The standard clinical frame of a tidy ``clinical.tsv`` (rows keep their line labels)."""
    require_source_columns(clinical, CLINICAL_COLUMNS, file)
    problems: list[Violation] = []
    check_source(
        problems,
        clinical,
        clinical["patient_id"].duplicated(keep=False),
        file=file,
        column="patient_id",
        rule="patient identifiers must be unique",
    )
    sex = None
    if "sex" in clinical.columns:
        sex = clinical["sex"].astype("string").str.strip().str.lower()
        sex = sex.where(sex != "")
        odd = (sex.notna() & ~sex.isin(["female", "male"])).to_numpy()
        check_source(
            problems,
            clinical,
            odd,
            file=file,
            column="sex",
            rule=f"sex must be 'female' or 'male' (any case) or empty; unknown codes {sorted(set(sex[odd]))}",
            show=["patient_id"],
        )
    if "tmb" in clinical.columns:
        check_range(
            problems, clinical, "tmb", file, low=0, rule="TMB cannot be negative", show=["patient_id"]
        )
    raise_source_errors(problems, file)
    br = _best_response_column(clinical, TIDY_RESPONSE, file)
    reg_cols = [quirks.get("regimen_column"), "treatment", "drug_class"]
    reg_cols = [c for c in reg_cols if c and c in clinical.columns]
    if reg_cols:
        regimen = clinical.apply(lambda r: regimen_from_text(*(r[c] for c in reg_cols)), axis=1)
    else:
        regimen = pd.Series([None] * len(clinical), index=clinical.index)
    ecog_col = quirks.get("ecog_column")
    ecog = clinical[ecog_col] if ecog_col in clinical.columns else np.nan
    return pd.DataFrame(
        {
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
        }
    )


# ----------------------------------------------------------------------------------------
# samples, mutations, TMB, expression
# ----------------------------------------------------------------------------------------
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


def _tidy_samples(path: Path, known_patients: set[str], log: ImportLog) -> pd.DataFrame:
    """Canonical samples of ``samples.tsv`` (all taken before ICB unless labelled otherwise)."""
    raw = read_tidy_table(path, dtype={"sample_id": str, "patient_id": str})
    require_source_columns(raw, ("sample_id", "patient_id"), path)
    problems: list[Violation] = []
    show = ["sample_id", "patient_id"]
    if "purity" in raw.columns:
        rule = "purity must be a fraction between 0 and 1"
        check_range(problems, raw, "purity", path, low=0, high=1, rule=rule, show=show)
    if "tmb_per_mb" in raw.columns:
        check_range(problems, raw, "tmb_per_mb", path, low=0, rule="TMB cannot be negative", show=show)
    raise_source_errors(problems, path)
    unknown = ~raw["patient_id"].isin(known_patients)
    log.repair("sample_of_unknown_patient", unknown.sum())
    raw = raw[~unknown]
    assay = raw.apply(_tidy_assay, axis=1)
    tp = raw["timepoint"].astype("string").str.lower() if "timepoint" in raw.columns else None
    samples = pd.DataFrame(
        {
            "sample_id": raw["sample_id"].astype(str),
            "patient_id": raw["patient_id"].astype(str),
            "collection_day": np.nan,
            "assay": assay,
            "timepoint": (tp.where(tp.isin(TIMEPOINTS)).astype(object) if tp is not None else None),
        }
    )
    if "purity" in raw.columns:
        samples["purity"] = pd.to_numeric(raw["purity"], errors="coerce").to_numpy()
    if "tmb_per_mb" in raw.columns:
        samples["tmb"] = pd.to_numeric(raw["tmb_per_mb"], errors="coerce").to_numpy()
    samples = samples[samples["assay"].notna()]
    samples.loc[samples["timepoint"].isna(), "timepoint"] = "pre"
    return samples


def _short_variants(raw: pd.DataFrame, file: Path) -> pd.DataFrame:
    """Canonical mutations of a tidy ``mutations.tsv`` of short variants (VEP or MAF classes)."""
    vc = raw.get("variant_class", pd.Series(index=raw.index, dtype=object))
    maf = vc.map(TIDY_VARIANT_CLASS_TO_MAF)
    if "variant_classification" in raw.columns:
        from_vep = raw.apply(lambda r: vep_to_maf(r["variant_classification"], r.get("hgvsc")), axis=1)
        maf = maf.where(maf.notna(), from_vep)
        direct = raw["variant_classification"].where(raw["variant_classification"].isin(VARIANT_CLASSES))
        maf = maf.where(maf.notna(), direct)
    problems: list[Violation] = []
    column = "variant_classification" if "variant_classification" in raw.columns else "variant_class"
    shown = [c for c in ("sample_id", "gene", "variant_class") if c in raw.columns and c != column]
    check_source(
        problems,
        raw,
        maf.isna(),
        file=file,
        column=column,
        rule="the variant class maps to no MAF class",
        show=shown,
    )
    vaf = pd.Series(np.nan, index=raw.index)
    if "vaf" in raw.columns:
        rule = "VAF (variant allele fraction) must be between 0 and 1"
        vaf = check_range(problems, raw, "vaf", file, low=0, high=1, rule=rule, show=["sample_id", "gene"])
    raise_source_errors(problems, file)
    pc = raw.get("protein_change", pd.Series(index=raw.index, dtype=object))
    return pd.DataFrame(
        {
            "sample_id": raw["sample_id"].astype(str),
            "gene": raw["gene"].astype(str),
            "variant_classification": maf.astype(str),
            "protein_change": pc.where(pc.notna() & (pc.astype(str) != "."), None),
            "vaf": vaf,
        }
    )


def read_tidy_expression(path: str | Path, log: ImportLog | None = None) -> pd.DataFrame:
    """Read a tidy ``expression.tsv.gz`` (log2(TPM + 0.001)) as canonical log2(TPM + 1).

    Raises
    ------
    helpers.errors.SourceFormatError
        If there is no ``gene`` column or a value is not a number (the first bad cell of each
        line: its gene, value and column number; the sample columns' names, which are
        identifiers, are withheld).
    """
    log = log if log is not None else ImportLog()
    expr = read_tidy_table(Path(path))
    require_source_columns(expr, ("gene",), path, withhold_header=True)
    samples = [c for c in expr.columns if c != "gene"]
    text = [c for c in samples if not pd.api.types.is_numeric_dtype(expr[c])]
    if text:
        given = expr[text].notna() & (expr[text].apply(pd.to_numeric, errors="coerce").isna())
        rows = given.any(axis=1)
        first = given[rows].idxmax(axis=1)  # the first sample column holding text, per line
        number = {c: i + 1 for i, c in enumerate(expr.columns)}
        cells = pd.DataFrame(
            {
                "gene": expr.loc[rows, "gene"],
                "column number": first.map(number),
                "value": [expr.at[r, c] for r, c in first.items()],
            },
            index=first.index,
        )
        problems: list[Violation] = []
        check_source(
            problems,
            cells,
            np.ones(len(cells), dtype=bool),
            file=path,
            column="(sample columns)",
            rule=f"expression values must be numbers (text in {len(text)} sample "
            f"column{'s' if len(text) != 1 else ''}; first bad cell of each line)",
            show=["gene", "column number", "value"],
        )
        raise_source_errors(problems, path)
    expr = expr.set_index("gene")
    expr.columns = expr.columns.astype(str)
    values = expr.to_numpy(dtype=float)
    tpm = np.clip(np.exp2(values) - 0.001, 0.0, None)
    out = pd.DataFrame(np.log2(tpm + 1.0), index=expr.index.astype(str), columns=expr.columns)
    log.repair("expression_offset", out.shape[1])
    return rename_aliases(out, log)


def _with_clinical_tmb(
    samples: pd.DataFrame, clinical: pd.DataFrame, quirks: Mapping[str, Any], log: ImportLog
) -> pd.DataFrame:
    """Put the clinical table's TMB onto each patient's first pre-treatment DNA sample."""
    tmb = (
        pd.to_numeric(clinical.get("tmb"), errors="coerce")
        if "tmb" in clinical.columns
        else pd.Series(dtype=float)
    )
    if quirks.get("tmb_zero_is_missing"):
        log.repair("tmb_zero_is_missing", int((tmb == 0).sum()))
        tmb = tmb.where(tmb != 0)
    if not tmb.notna().any():
        return samples
    if not quirks.get("tmb_per_mb", True):
        log.note("the source's TMB is a mutation count, not per Mb: not imported as TMB")
        return samples
    tmb_of = dict(zip(clinical["patient_id"].astype(str), tmb, strict=True))
    dna = samples["assay"].isin(DNA_ASSAYS) & (samples["timepoint"] == "pre")
    if "tmb" not in samples.columns:
        samples["tmb"] = np.nan
    first_dna = samples[dna].drop_duplicates("patient_id")
    fill = samples.index.isin(first_dna.index) & samples["tmb"].isna()
    samples.loc[fill, "tmb"] = samples.loc[fill, "patient_id"].map(tmb_of)
    have = set(samples.loc[dna, "patient_id"])
    need = [p for p, v in tmb_of.items() if pd.notna(v) and p not in have]
    if need:
        extra = pd.DataFrame(
            {
                "sample_id": [f"{p}::tumour-dna" for p in need],
                "patient_id": need,
                "collection_day": np.nan,
                "assay": "DNA",
                "timepoint": "pre",
                "tmb": [tmb_of[p] for p in need],
            }
        )
        samples = pd.concat([samples, extra], ignore_index=True)
        log.note(
            f"{len(need)} sequenced tumours are known only by their TMB (no mutation "
            "calls); they are imported as DNA samples assumed to be taken before ICB"
        )
    return samples


# ----------------------------------------------------------------------------------------
# the importer
# ----------------------------------------------------------------------------------------
def tidy_to_cohort(
    cohort_dir: str | Path,
    *,
    open_data: bool = False,
    death_is_progression: bool = False,
    name: str | None = None,
    existing_pseudonyms: pd.DataFrame | None = None,
    include_expression: bool = True,
    pseudonym_seed: int | None = None,
) -> ImportResult:
    """Import one folder of tidy public tables into a canonical cohort held in memory.

    Parameters
    ----------
    cohort_dir
        A folder with ``clinical.tsv`` and optionally ``samples.tsv``, ``mutations.tsv`` and
        ``expression.tsv.gz`` (the layout of ``../shared/data/public/<cohort>/``).
    open_data
        True for published open data (``access: open``); default restricted.
    death_is_progression
        False (default): a PFS event at the time of death is not a progression (the course
        gets no progression day and the death ends follow-up). True: every PFS event is a
        progression, the convention of the "[data] SITC-rule classes" of ``FACTS.md``.
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

    Raises
    ------
    FileNotFoundError
        If the folder has no ``clinical.tsv``.
    helpers.errors.SourceFormatError
        If a table breaks a rule of its format (file, column, rule, rows by line; identifiers
        withheld).
    helpers.errors.CohortValidationError
        If the imported cohort breaks a rule of the data model.
    """
    cdir = Path(cohort_dir).expanduser()
    if not (cdir / "clinical.tsv").is_file():
        raise FileNotFoundError(f"{cdir}: no clinical.tsv (expected a folder of tidy tables)")
    folder = cdir.resolve().name
    quirks = TIDY_QUIRKS.get(folder, {})
    log = ImportLog()
    clinical_file = cdir / "clinical.tsv"
    clinical = read_tidy_table(clinical_file, dtype={"patient_id": str})
    standard = _tidy_standard(clinical, quirks, clinical_file)
    lacks_from_standard(standard, log)
    patients, courses = clinical_tables(
        standard, death_is_progression=death_is_progression, log=log, source=clinical_file
    )

    samples = pd.DataFrame(columns=["sample_id", "patient_id", "collection_day", "assay", "timepoint"])
    if (cdir / "samples.tsv").is_file():
        samples = _tidy_samples(cdir / "samples.tsv", set(patients["patient_id"]), log)
    else:
        log.lack("tumour samples (no samples.tsv)")

    mutations = cna = panels = None
    panel_sizes: dict[str, float | None] = {}
    mutations_file = cdir / "mutations.tsv"
    if mutations_file.is_file():
        raw = read_tidy_table(mutations_file, dtype={"sample_id": str, "patient_id": str})
        require_source_columns(raw, ("sample_id", "gene"), mutations_file)
        if quirks.get("mutations") == "foundationone":
            mutations, cna = map_foundationone(raw)
            cna = cna[cna["copy_state"] != 0]
            panel_id = "FoundationOne"
            genes = sorted(set(raw["gene"].astype(str)))
            panels = pd.DataFrame({"panel_id": panel_id, "gene": genes})
            panel_sizes[panel_id] = KNOWN_PANEL_SIZES_MB[panel_id]
            dna = samples["assay"].isin(DNA_ASSAYS)
            samples["panel_id"] = np.where(dna, panel_id, None)
            log.note(
                "FoundationOne panel: the gene list is not public; the genes with at least "
                f"one reported alteration ({len(genes)}) stand for it, so other genes count "
                "as not assayed; variants of unknown significance are not in the source"
            )
        else:
            mutations = _short_variants(raw, mutations_file)
            log.note(
                "mutation calls are single-nucleotide variants only (no indels and no "
                "copy-number calls in the public table): frameshift LoF cannot be seen"
            )
        dna_ids = set(samples.loc[samples["assay"].isin(DNA_ASSAYS), "sample_id"])
        with_calls = set(mutations["sample_id"]) | (set(cna["sample_id"]) if cna is not None else set())
        stray = with_calls - dna_ids
        problems: list[Violation] = []
        check_source(
            problems,
            raw,
            raw["sample_id"].isin(stray) | raw["sample_id"].astype(str).isin(stray),
            file=mutations_file,
            column="sample_id",
            rule="the variant's sample is not a DNA sample of samples.tsv",
            show=["gene"],
        )
        raise_source_errors(problems, mutations_file)
        if quirks.get("mutations") != "foundationone":
            # DNA assayed on treatment but without public calls would look wild type: keep the
            # DNA flag only where the cohort holds the calls
            no_calls = samples["assay"].isin(DNA_ASSAYS) & ~samples["sample_id"].isin(with_calls)
            if no_calls.any():
                log.note(
                    f"{int(no_calls.sum())} exome samples have no public mutation calls "
                    "(on-treatment exomes: variants new on treatment carry no gene); their "
                    "DNA assay is not imported"
                )
                samples.loc[no_calls & (samples["assay"] == "DNA+RNA"), "assay"] = "RNA"
                samples = samples[~(no_calls & (samples["assay"] == "DNA"))]
    else:
        log.lack("mutation calls (no LoF analysis)")

    samples = _with_clinical_tmb(samples, clinical, quirks, log)

    expression = None
    expression_file = cdir / "expression.tsv.gz"
    if include_expression and expression_file.is_file():
        expression = read_tidy_expression(expression_file, log)
        rna_ids = set(samples.loc[samples["assay"].isin(RNA_ASSAYS), "sample_id"])
        unknown = [c for c in expression.columns if c not in rna_ids]
        log.repair("expression_sample_unknown", len(unknown))
        expression = expression.drop(columns=unknown)
        if expression.shape[0] < 5000:
            log.note(f"expression covers only {expression.shape[0]} genes (not genome-wide)")
    elif not expression_file.is_file():
        log.lack("expression (no TME analysis)")
    if not (samples["timepoint"] == "post").any():
        log.lack("post-progression samples (no acquired-LoF or post-progression TME comparison)")
    if folder == "riaz2017_melanoma_nivolumab":
        log.note(
            "on-treatment biopsies were taken at about week 4 of nivolumab, not at "
            "progression; on-treatment RNA is not public"
        )
    if folder == "miao2018_ccrcc_pd1":
        log.note(
            "the PFS/OS event flags of the source object were inverted censoring flags; "
            "the tidy table already holds the corrected events"
        )

    samples = samples.reset_index(drop=True)
    if "tmb" in samples.columns and samples["tmb"].isna().all():
        samples = samples.drop(columns="tmb")
    samples = samples.astype({"sample_id": str, "patient_id": str})
    tables: dict[str, pd.DataFrame | None] = {
        "patients": patients,
        "icb_courses": courses,
        "samples": samples,
        "mutations": mutations,
        "cna": cna,
        "panels": panels,
        "expression": expression,
    }
    return assemble(
        name or folder,
        f"tidy public tables: {folder}",
        tables,
        log,
        open_data=open_data,
        death_is_progression=death_is_progression,
        existing_pseudonyms=existing_pseudonyms,
        extra_meta={"citation": _citation(cdir), "panel_sizes_mb": panel_sizes},
        pseudonym_seed=pseudonym_seed,
    )


def import_tidy(
    cohort_dir: str | Path,
    out_dir: str | Path,
    open_data: bool = False,
    *,
    death_is_progression: bool = False,
    name: str | None = None,
) -> ImportResult:
    """Import a folder of tidy public tables and save it as a canonical cohort folder.

    The pseudonym mapping is written to :func:`helpers.data.pseudonyms.pseudonym_path`
    (``<out_dir>.pseudonyms.tsv``); a previous mapping there is reused so a re-import keeps its
    pseudonyms. See :func:`tidy_to_cohort` for the parameters and errors.
    """
    result = tidy_to_cohort(
        cohort_dir,
        open_data=open_data,
        death_is_progression=death_is_progression,
        name=name,
        existing_pseudonyms=existing_pseudonyms(out_dir),
    )
    return save_import(result, out_dir)
