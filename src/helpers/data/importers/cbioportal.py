"""Importer of cBioPortal study folders (DESIGN §3 and §7).

A study folder holds ``meta_study.txt``, ``data_clinical_patient.txt`` and
``data_clinical_sample.txt`` (after their ``#`` header lines), and where the study has them a
MAF (``data_mutations*.txt``), discrete copy number (``data_cna*.txt``),
``data_gene_panel_matrix.txt`` with gene panel definitions, and an mRNA matrix.
:func:`cbioportal_to_cohort` maps it through the shared rules of
:mod:`~helpers.data.importers.common` into a canonical cohort held in memory;
:func:`import_cbioportal` also saves it, with the pseudonym mapping beside the folder.

Every table is read as text with its rows labelled by their line in the file, so an error
names the line (identifier values withheld).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data.importers.common import (
    ImportLog,
    ImportResult,
    assemble,
    check_delimiter,
    check_months,
    check_range,
    check_sample_columns,
    check_source,
    clinical_tables,
    existing_pseudonyms,
    lacks_from_standard,
    line_labels,
    raise_at_line,
    raise_empty_file,
    raise_field_count,
    raise_source_errors,
    read_key_values,
    rename_aliases,
    require_source_columns,
    save_import,
)
from helpers.data.importers.vocabulary import KNOWN_PANEL_SIZES_MB, regimen_from_text
from helpers.data.panels import PANEL_DIR, read_gene_list
from helpers.data.schema import VARIANT_CLASSES
from helpers.errors import SourceFormatError, Violation

#: Best-response spellings of cBioPortal studies → canonical codes.
CBIO_RESPONSE = {
    "CR": "CR",
    "COMPLETE RESPONSE": "CR",
    "COMPLETE_RESPONSE": "CR",
    "PR": "PR",
    "PARTIAL RESPONSE": "PR",
    "PARTIAL_RESPONSE": "PR",
    "SD": "SD",
    "STABLE DISEASE": "SD",
    "STABLE_DISEASE": "SD",
    "STABLE": "SD",
    "PD": "PD",
    "PROGRESSIVE DISEASE": "PD",
    "PROGRESSIVE_DISEASE": "PD",
    "PROGRESSION": "PD",
    "NE": "NE",
    "NOT EVALUABLE": "NE",
    "NON-EVALUABLE": "NE",
    "NA": "NE",
    "MR": "NE",
    "MIXED RESPONSE": "NE",
}
#: Attribute names that may hold a best overall response (first match with a usable vocabulary).
CBIO_RESPONSE_COLUMNS = (
    "BEST_OVERALL_RESPONSE",
    "BEST_RESPONSE",
    "BOR",
    "RECIST_RESPONSE",
    "RECIST",
    "BEST_RECIST_RESPONSE",
    "OBJECTIVE_RESPONSE",
    "RESPONSE",
    "DURABLE_CLINICAL_BENEFIT",
)
CBIO_TREATMENT_COLUMNS = (
    "TREATMENT",
    "DRUG",
    "DRUG_TYPE",
    "TREATMENT_TYPE",
    "REGIMEN",
    "IO_DRUG",
    "ICI_DRUG",
    "AGENT",
    "THERAPY",
    "DRUG_CLASS",
)
CBIO_TIMEPOINT_COLUMNS = (
    "TIMEPOINT",
    "SAMPLE_TIMEPOINT",
    "BIOPSY_TIMEPOINT",
    "TREATMENT_TIMEPOINT",
    "SAMPLE_COLLECTION_TIMEPOINT",
    "BIOPSY_TIME",
    "PRE_POST",
    "TIME_POINT",
)
#: mRNA matrices in order of preference: (file name, already log2?).
CBIO_EXPRESSION_FILES = (
    ("data_mrna_seq_tpm.txt", False),
    ("data_mrna_seq_v2_rsem.txt", False),
    ("data_RNA_Seq_v2_expression_median.txt", False),
    ("data_mrna_seq_fpkm.txt", False),
    ("data_RNA_Seq_expression_median.txt", False),
)
#: Status spellings of OS_STATUS and PFS_STATUS: (events, censorings).
OS_STATUS_WORDS = (("DECEASED", "DEAD"), ("LIVING", "ALIVE"))
PFS_STATUS_WORDS = (
    ("PROGRESSED", "PROGRESSION", "RECURRED/PROGRESSED", "EVENT"),
    ("NOT PROGRESSED", "PROGRESSIONFREE", "PROGRESSION FREE", "CENSORED", "DISEASEFREE", "CENSOR"),
)
#: Discrete copy-number values of cBioPortal (-1.5: a hemizygous loss of some pipelines = -1).
CBIO_CNA_VALUES = (-2, -1, 0, 1, 2, -1.5)
#: Copy states kept in the canonical ``cna`` table (0 = neutral is implied for an assayed gene).
CNA_STATES = (-2, -1, 1, 2)
#: Columns of a CNA matrix that are not samples.
CNA_GENE_COLUMNS = ("Hugo_Symbol", "Entrez_Gene_Id", "Cytoband")
#: Cells read as missing values.
NA_VALUES = ["", "NA", "N/A", "NaN", "nan", "[Not Available]", "[Not Applicable]", "[Unknown]", "Unknown"]


# ----------------------------------------------------------------------------------------
# reading the files
# ----------------------------------------------------------------------------------------
def read_meta(path: str | Path, *, withhold_text: bool = False) -> dict[str, str]:
    """Read a cBioPortal ``meta_*.txt`` or case-list file (``key: value`` lines).

    Parameters
    ----------
    path
        The file.
    withhold_text
        Do not quote a malformed line in the error (case lists hold sample identifiers).

    Raises
    ------
    helpers.errors.SourceFormatError
        Naming every line that is not ``key: value``.
    """
    return {k: v for k, (_, v) in read_key_values(path, withhold_text=withhold_text).items()}


def check_meta_files(study: Path) -> None:
    """Every ``meta_*.txt`` of the study whose ``data_filename`` names a file must have it.

    Raises
    ------
    helpers.errors.SourceFormatError
        Naming the meta file, the line of its ``data_filename`` and the missing file.
    """
    for meta in _find_files(study, "meta_*.txt"):
        entry = read_key_values(meta).get("data_filename")
        if entry and not (study / entry[1]).is_file():
            rule = "names a data file that is not in the study folder"
            raise_at_line(meta, entry[0], "data_filename", rule, {"data_filename": entry[1]})


def read_cbioportal_table(path: str | Path) -> pd.DataFrame:
    """Read a cBioPortal data file, skipping its metadata lines that start with '#'.

    All values are read as text (identifiers such as '0012' keep their zeros). Each row is
    labelled by its line in the file; ``attrs["header_line"]`` is the line of the header.

    ``attrs["meta_lines"]`` counts the '#' lines before the header.

    Raises
    ------
    helpers.errors.SourceFormatError
        If the file has no header line, is not tab-separated (e.g. comma-separated) or cannot
        be parsed as a tab-separated table.
    """
    path = Path(path)
    lines = path.read_text(errors="strict").splitlines()
    # pandas would skip empty and all-space lines; dropping them here keeps rows and lines paired
    body = [(n, ln) for n, ln in enumerate(lines, 1) if not ln.startswith("#") and ln.strip(" ")]
    if not body:
        n_meta = sum(ln.startswith("#") for ln in lines)
        raise_empty_file(path, len(lines) + 1, f"{n_meta} '#' lines and no header" if n_meta else "no line")
    try:
        df = pd.read_csv(
            StringIO("\n".join(ln for _, ln in body)),
            sep="\t",
            dtype=str,
            keep_default_na=False,
            na_values=NA_VALUES,
            quoting=3,
        )
    except pd.errors.ParserError as exc:
        raise_field_count(exc, path, {i: n for i, (n, _) in enumerate(body, 1)})
        raise SourceFormatError(f"{path}: cannot be parsed as a tab-separated table ({exc})") from None
    df.columns = [str(c).strip() for c in df.columns]
    check_delimiter(df, body[0][1], path, body[0][0])
    if len(df) == len(body) - 1:
        df.index = line_labels(n for n, _ in body[1:])
    else:
        df.index = pd.RangeIndex(1, len(df) + 1, name="row")
    df.attrs["header_line"] = body[0][0]
    df.attrs["meta_lines"] = sum(ln.startswith("#") for ln in lines[: body[0][0] - 1])
    return df


def _require_clinical_header(frame: pd.DataFrame, file: Path) -> None:
    """A clinical file starts with its 4 (or 5) '#' lines describing the attributes."""
    if frame.attrs.get("meta_lines", 0) < 4:
        raise_at_line(
            file,
            frame.attrs.get("header_line", 1),
            "(metadata lines)",
            "a cBioPortal clinical file starts with 4 lines beginning with '#' (display names, "
            "descriptions, datatypes and priorities of its attributes) before the header",
            {"'#' lines found": frame.attrs.get("meta_lines", 0)},
        )


def _status_flags(
    problems: list[Violation],
    frame: pd.DataFrame,
    column: str,
    file: Path,
    words: tuple[tuple[str, ...], ...],
) -> pd.Series:
    """cBioPortal status strings ('1:DECEASED', 'LIVING', ...) → 1/0/NaN, recording unknown ones."""
    ones, zeros = words
    values = frame[column]
    out = pd.Series(np.nan, index=values.index, dtype=float)
    unknown = np.zeros(len(values), dtype=bool)
    for pos, v in enumerate(values):
        if pd.isna(v):
            continue
        t = str(v).strip().upper()
        m = re.match(r"^([01])\s*:", t)
        if m:
            out.iat[pos] = float(m.group(1))
        elif t in ones:
            out.iat[pos] = 1.0
        elif t in zeros:
            out.iat[pos] = 0.0
        elif t in ("1", "0"):
            out.iat[pos] = float(t)
        else:
            unknown[pos] = True
    check_source(
        problems,
        frame,
        unknown,
        file=file,
        column=column,
        rule=f"cannot read the status (expected e.g. '1:{ones[0]}' or '0:{zeros[0]}')",
        show=["PATIENT_ID"],
    )
    return out


def _find_files(study: Path, pattern: str) -> list[Path]:
    return sorted(p for p in study.glob(pattern) if p.is_file())


def _pick_response(clin: pd.DataFrame, log: ImportLog) -> pd.Series:
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
        log.note(
            f"attribute {col} is not a RECIST best response (values such as "
            f"{sorted(raw[present].unique())[:3]}): not used"
        )
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


def _shipped_panel(panel_id: str) -> list[str] | None:
    """Gene list of a panel shipped in ``data/panels`` (e.g. IMPACT468), or None."""
    f = PANEL_DIR / f"{panel_id.lower()}_genes.txt"
    return read_gene_list(f) if f.is_file() else None


# ----------------------------------------------------------------------------------------
# the clinical files
# ----------------------------------------------------------------------------------------
def _read_clinical(
    study: Path,
) -> tuple[pd.DataFrame, pd.DataFrame, Path, Callable[[str], tuple[pd.DataFrame, Path]]]:
    """The patient frame (one row per patient, clinical attributes of both files), the sample
    file, the file the patient rows come from, and where each attribute was read (frame, file)."""
    pat_file = study / "data_clinical_patient.txt"
    smp_file = study / "data_clinical_sample.txt"
    if not pat_file.is_file() and not smp_file.is_file():
        raise SourceFormatError(f"{study}: neither data_clinical_patient.txt nor data_clinical_sample.txt")
    if not smp_file.is_file():
        raise SourceFormatError(f"{study}: data_clinical_sample.txt is missing")
    smp = read_cbioportal_table(smp_file)
    _require_clinical_header(smp, smp_file)
    require_source_columns(smp, ("SAMPLE_ID", "PATIENT_ID"), smp_file)
    # patient attributes may sit in the sample file (one value per patient): its first row
    first = smp.drop_duplicates("PATIENT_ID")
    if pat_file.is_file():
        pat = read_cbioportal_table(pat_file)
        _require_clinical_header(pat, pat_file)
        require_source_columns(pat, ("PATIENT_ID",), pat_file)
        clinical_file = pat_file
    else:
        pat, clinical_file = first[["PATIENT_ID"]], smp_file
    problems: list[Violation] = []
    check_source(
        problems,
        pat,
        pat["PATIENT_ID"].duplicated(keep=False),
        file=clinical_file,
        column="PATIENT_ID",
        rule="patient identifiers must be unique",
    )
    raise_source_errors(problems, clinical_file)
    clin = pat.copy()
    by_patient = first.set_index("PATIENT_ID")
    for col in by_patient.columns:
        if col not in clin.columns and col != "SAMPLE_ID":
            clin[col] = clin["PATIENT_ID"].map(by_patient[col])

    # an attribute read from the sample file is checked on the rows that were used
    used = first[first["PATIENT_ID"].isin(set(pat["PATIENT_ID"]))]

    def origin(col: str) -> tuple[pd.DataFrame, Path]:
        return (pat, clinical_file) if col in pat.columns else (used, smp_file)

    return clin, smp, clinical_file, origin


def _standard_frame(
    clin: pd.DataFrame,
    origin: Callable[[str], tuple[pd.DataFrame, Path]],
    meta: dict[str, str],
    log: ImportLog,
) -> pd.DataFrame:
    """The standard clinical frame of a study; survival attributes are checked where they
    were read (the patient or the sample file), rows named by their line there."""
    n = len(clin)

    def col_or_nan(c: str) -> pd.Series:
        return clin[c] if c in clin.columns else pd.Series([np.nan] * n, index=clin.index)

    problems: list[Violation] = []

    def status(col: str, words: tuple[tuple[str, ...], ...]) -> pd.Series:
        if col not in clin.columns:
            return col_or_nan(col)
        frame, file = origin(col)
        flags = _status_flags(problems, frame, col, file, words)
        if frame.index.equals(clin.index):
            return flags
        return clin["PATIENT_ID"].map(pd.Series(flags.to_numpy(), index=frame["PATIENT_ID"].to_numpy()))

    os_e = status("OS_STATUS", OS_STATUS_WORDS)
    pfs_e = status("PFS_STATUS", PFS_STATUS_WORDS)
    for col in ("OS_MONTHS", "PFS_MONTHS"):
        if col in clin.columns:
            frame, file = origin(col)
            check_months(problems, frame.rename(columns={"PATIENT_ID": "patient_id"}), col, file)
    raise_source_errors(problems, origin("PATIENT_ID")[1].parent)

    sex = col_or_nan("SEX").astype("string").str.strip().str.lower()
    cancer = col_or_nan("CANCER_TYPE")
    cancer = cancer.where(cancer.notna(), meta.get("type_of_cancer", "Unknown"))
    treat_cols = [c for c in CBIO_TREATMENT_COLUMNS if c in clin.columns]
    if treat_cols:
        regimen = clin.apply(lambda r: regimen_from_text(*(r[c] for c in treat_cols)), axis=1)
    else:
        regimen = pd.Series([None] * n, index=clin.index)
    ecog = next(
        (clin[c] for c in ("ECOG", "ECOG_PS", "BASELINE_ECOG", "ECOG_SCORE") if c in clin.columns),
        col_or_nan("ECOG"),
    )
    return pd.DataFrame(
        {
            "patient_id": clin["PATIENT_ID"].astype(str),
            "cancer_type": cancer,
            "sex": sex.where(sex.isin(["female", "male"])).astype(object),
            "age": pd.to_numeric(col_or_nan("AGE"), errors="coerce"),
            "ecog": pd.to_numeric(ecog, errors="coerce"),
            "line": np.nan,
            "regimen": regimen.astype(object),
            "best_response": _pick_response(clin, log),
            "pfs_months": col_or_nan("PFS_MONTHS"),
            "pfs_event": pfs_e,
            "os_months": col_or_nan("OS_MONTHS"),
            "os_event": os_e,
        }
    )


def _timepoints(smp: pd.DataFrame, log: ImportLog) -> pd.Series:
    """pre/on/post of each sample from the first timepoint attribute; none = before ICB."""
    tp = pd.Series([None] * len(smp), dtype=object)
    for c in CBIO_TIMEPOINT_COLUMNS:
        if c in smp.columns:
            t = smp[c].astype("string").str.lower()
            tp = np.where(
                t.str.contains("post|progress", na=False),
                "post",
                np.where(
                    t.str.contains(r"\bon\b|on[-_ ]treat|during", na=False),
                    "on",
                    np.where(t.str.contains("pre|baseline|archiv", na=False), "pre", None),
                ),
            )
            tp = pd.Series(tp, dtype=object)
            log.note(f"sample timepoints read from the attribute {c}")
            break
    if pd.isna(tp).any():
        log.note(f"{int(pd.isna(tp).sum())} samples have no timepoint: assumed taken before ICB")
        tp = tp.where(tp.notna(), "pre")
    return tp


# ----------------------------------------------------------------------------------------
# the molecular files
# ----------------------------------------------------------------------------------------
def _read_mutations(study: Path, sample_ids: set[str], log: ImportLog) -> pd.DataFrame | None:
    """Canonical mutations of the study's first MAF (classes outside the MAF vocabulary left out)."""
    maf_files = _find_files(study, "data_mutations*.txt")
    if not maf_files:
        log.lack("mutation calls (no LoF analysis)")
        return None
    maf_file = maf_files[0]
    maf = read_cbioportal_table(maf_file)
    require_source_columns(maf, ("Hugo_Symbol", "Tumor_Sample_Barcode", "Variant_Classification"), maf_file)
    keep = maf["Variant_Classification"].isin(VARIANT_CLASSES)
    if (~keep).any():
        other = sorted(maf.loc[~keep, "Variant_Classification"].dropna().unique())[:4]
        log.note(
            f"{int((~keep).sum())} MAF rows with classes outside the MAF vocabulary "
            f"({', '.join(other)}) are not imported"
        )
    problems: list[Violation] = []
    check_source(
        problems,
        maf,
        ~maf["Tumor_Sample_Barcode"].isin(sample_ids),
        file=maf_file,
        column="Tumor_Sample_Barcode",
        rule="names a sample absent from data_clinical_sample.txt",
        show=["Hugo_Symbol"],
    )
    raise_source_errors(problems, maf_file)
    maf = maf[keep]
    vaf = np.nan
    if {"t_alt_count", "t_ref_count"} <= set(maf.columns):
        alt = pd.to_numeric(maf["t_alt_count"], errors="coerce")
        ref = pd.to_numeric(maf["t_ref_count"], errors="coerce")
        vaf = (alt / (alt + ref)).where((alt + ref) > 0)
    pchange = maf["HGVSp_Short"] if "HGVSp_Short" in maf.columns else None
    return pd.DataFrame(
        {
            "sample_id": maf["Tumor_Sample_Barcode"].astype(str),
            "gene": maf["Hugo_Symbol"].astype(str),
            "variant_classification": maf["Variant_Classification"].astype(str),
            "protein_change": pchange.astype(object) if pchange is not None else None,
            "vaf": vaf,
        }
    )


def _read_cna(study: Path, sample_ids: set[str], log: ImportLog) -> pd.DataFrame | None:
    """Canonical copy states of the study's discrete CNA matrix (neutral states not stored)."""
    cna_files = [
        f
        for f in _find_files(study, "data_cna*.txt")
        if not any(w in f.name for w in ("log2", "continuous", "seg", "hg19", "hg38"))
    ]
    if not cna_files:
        log.lack("copy-number calls (deep deletions cannot count as LoF)")
        return None
    cna_file = cna_files[0]
    raw = read_cbioportal_table(cna_file)
    require_source_columns(raw, ("Hugo_Symbol",), cna_file, withhold_header=True)
    positions = [i + 1 for i, c in enumerate(raw.columns) if c not in CNA_GENE_COLUMNS]
    scols = [c for c in raw.columns if c not in CNA_GENE_COLUMNS]
    problems: list[Violation] = []
    # the sample columns' names are identifiers: the examples give their position instead
    check_sample_columns(raw, scols, sample_ids, cna_file)
    long = raw.melt(
        id_vars=["Hugo_Symbol"], value_vars=scols, var_name="sample_id", value_name="copy_state"
    ).dropna(subset=["copy_state"])
    state = pd.to_numeric(long["copy_state"], errors="coerce")
    bad = (state.isna() | ~state.isin(CBIO_CNA_VALUES)).to_numpy()
    if bad.any():
        # melt stacks the sample columns: cell k is row k % n of column k // n
        k = long.index.to_numpy()[bad]
        cells = pd.DataFrame(
            {
                "Hugo_Symbol": long["Hugo_Symbol"].to_numpy()[bad],
                "column number": np.asarray(positions)[k // len(raw)],
                "value": long["copy_state"].to_numpy()[bad],
            },
            index=pd.Index(raw.index.to_numpy()[k % len(raw)], name=raw.index.name),
        ).sort_index(kind="mergesort")
        first_per_row = ~cells.index.duplicated()
        check_source(
            problems,
            cells,
            first_per_row,
            file=cna_file,
            column="(sample columns)",
            rule="discrete copy-number values must be -2, -1, 0, 1 or 2 (first bad cell of each row)",
            show=["Hugo_Symbol", "column number", "value"],
        )
        raise_source_errors(problems, cna_file)
    state = state.replace(-1.5, -1)
    long = long.assign(copy_state=state.astype(int))
    long = long[long["copy_state"].isin(CNA_STATES)]
    return long.rename(columns={"Hugo_Symbol": "gene"}).drop_duplicates(["sample_id", "gene"], keep=False)[
        ["sample_id", "gene", "copy_state"]
    ]


def _read_panels(
    study: Path, mutations: pd.DataFrame | None, cna: pd.DataFrame | None, log: ImportLog
) -> tuple[pd.DataFrame | None, dict[str, float | None], dict[str, str | None]]:
    """The gene panels used (genes, sizes in Mb) and the panel of each sample (None = exome)."""
    panels = None
    panel_sizes: dict[str, float | None] = {}
    panel_of: dict[str, str | None] = {}
    matrix_file = study / "data_gene_panel_matrix.txt"
    if not matrix_file.is_file():
        if mutations is not None:
            log.note("no data_gene_panel_matrix.txt: DNA samples are taken to be whole exomes")
        return panels, panel_sizes, panel_of
    matrix = read_cbioportal_table(matrix_file)
    require_source_columns(matrix, ("SAMPLE_ID",), matrix_file)
    if matrix.shape[1] < 2:
        rule = "needs a column of gene panels (e.g. 'mutations') after SAMPLE_ID"
        raise_at_line(matrix_file, matrix.attrs["header_line"], "(profiles)", rule, {"columns": 1})
    pcol = "mutations" if "mutations" in matrix.columns else matrix.columns[1]
    panel_of = {
        s: (p if isinstance(p, str) and p.upper() not in ("WES", "WXS") else None)
        for s, p in zip(matrix["SAMPLE_ID"], matrix[pcol], strict=True)
    }
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
            log.note(
                f"gene panel {p}: no gene list in the study; the {len(genes)} genes with a reported alteration stand for it"
            )
        rows += [(p, g) for g in genes]
        panel_sizes[p] = KNOWN_PANEL_SIZES_MB.get(p)
        if panel_sizes[p] is None:
            log.note(f"gene panel {p}: size in Mb unknown")
    panels = pd.DataFrame(rows, columns=["panel_id", "gene"]) if rows else None
    if panels is None:
        panel_of = {}
    return panels, panel_sizes, panel_of


def _read_expression(
    study: Path, sample_ids: set[str], log: ImportLog, in_sample_file: set[str] | None = None
) -> pd.DataFrame | None:
    """The first mRNA matrix of :data:`CBIO_EXPRESSION_FILES` as log2(x + 1), genes as rows.

    Its sample columns must be samples of ``in_sample_file`` (every sample of the clinical
    sample file; only those of ``sample_ids`` are kept)."""
    for fname, is_log in CBIO_EXPRESSION_FILES:
        f = study / fname
        if not f.is_file():
            continue
        raw = read_cbioportal_table(f)
        gcol = "Hugo_Symbol" if "Hugo_Symbol" in raw.columns else raw.columns[0]
        if in_sample_file is not None:
            others = [c for c in raw.columns if c not in (gcol, *CNA_GENE_COLUMNS)]
            check_sample_columns(raw, others, in_sample_file, f)
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
        return expression
    log.lack("expression (no TME analysis)")
    return None


def _sequenced(
    study: Path, mutations: pd.DataFrame | None, cna: pd.DataFrame | None, panel_of: dict[str, str | None]
) -> set[str]:
    """Samples with DNA sequencing: calls, a panel or the ``cases_sequenced`` case list."""
    if mutations is None and cna is None:
        return set()  # no calls in the cohort: no DNA samples that would look wild type
    sequenced: set[str] = set(panel_of)
    if mutations is not None:
        sequenced |= set(mutations["sample_id"])
    if cna is not None:
        sequenced |= set(cna["sample_id"])
    case_list = study / "case_lists" / "cases_sequenced.txt"
    if case_list.is_file():
        sequenced |= set(read_meta(case_list, withhold_text=True).get("case_list_ids", "").split())
    return sequenced


def _tmb_column(smp: pd.DataFrame) -> str | None:
    return next((c for c in ("TMB_NONSYNONYMOUS", "TMB", "TMB_SCORE") if c in smp.columns), None)


def _check_sample_values(smp: pd.DataFrame, file: Path) -> None:
    """TMB not negative; purity a fraction (0-1) or a percentage (0-100). Text stays missing."""
    problems: list[Violation] = []
    tmb_col = _tmb_column(smp)
    if tmb_col:
        rule = "TMB cannot be negative"
        check_range(problems, smp, tmb_col, file, low=0, rule=rule, show=["SAMPLE_ID"], text_is_missing=True)
    if "TUMOR_PURITY" in smp.columns:
        pur = pd.to_numeric(smp["TUMOR_PURITY"], errors="coerce")
        high, scale = (100, "a percentage between 0 and 100") if pur.max() > 1 else (1, "between 0 and 1")
        rule = f"purity must be {scale} (values above 1 are read as percentages)"
        check_range(
            problems,
            smp,
            "TUMOR_PURITY",
            file,
            low=0,
            high=high,
            rule=rule,
            show=["SAMPLE_ID"],
            text_is_missing=True,
        )
    raise_source_errors(problems, file)


# ----------------------------------------------------------------------------------------
# the importer
# ----------------------------------------------------------------------------------------
def cbioportal_to_cohort(
    study_dir: str | Path,
    *,
    open_data: bool = False,
    death_is_progression: bool = False,
    name: str | None = None,
    existing_pseudonyms: pd.DataFrame | None = None,
) -> ImportResult:
    """Import a cBioPortal study folder into a canonical cohort held in memory.

    Survival: ``OS_MONTHS``/``OS_STATUS`` and ``PFS_MONTHS``/``PFS_STATUS`` (taken to be
    measured from the start of ICB); best response from the first attribute of
    :data:`CBIO_RESPONSE_COLUMNS` with RECIST values. What the study lacks is listed in
    ``cohort.json`` (``lacks``).

    Parameters
    ----------
    study_dir
        The study folder (``meta_study.txt``, clinical files and where present MAF, CNA, gene
        panel matrix, mRNA matrix).
    open_data
        True for published open data (``access: open``); default restricted.
    death_is_progression
        See :func:`helpers.data.importers.tidy.tidy_to_cohort`.
    name
        Cohort name (default: the study identifier).
    existing_pseudonyms
        A previous mapping whose pseudonyms are kept for the same source identifiers.

    Raises
    ------
    FileNotFoundError
        If the folder does not exist.
    helpers.errors.SourceFormatError
        If a file breaks a rule of the study format (file, column, rule, rows by line;
        identifiers withheld).
    helpers.errors.CohortValidationError
        If the imported cohort breaks a rule of the data model.
    """
    study = Path(study_dir).expanduser()
    if not study.is_dir():
        raise FileNotFoundError(f"cBioPortal study folder not found: {study}")
    meta_file = study / "meta_study.txt"
    if not meta_file.is_file():
        raise SourceFormatError(f"{study}: no meta_study.txt (not a cBioPortal study folder)")
    meta = read_meta(meta_file)
    study_id = meta.get("cancer_study_identifier", study.name)
    check_meta_files(study)
    log = ImportLog()
    clin, smp, clinical_file, origin = _read_clinical(study)
    standard = _standard_frame(clin, origin, meta, log)
    lacks_from_standard(standard, log)
    log.note("survival times are taken to be measured from the start of ICB (OS_MONTHS, PFS_MONTHS)")
    patients, courses = clinical_tables(
        standard,
        death_is_progression=death_is_progression,
        log=log,
        source=clinical_file,
        source_columns={
            "pfs_months": "PFS_MONTHS",
            "pfs_event": "PFS_STATUS",
            "os_months": "OS_MONTHS",
            "os_event": "OS_STATUS",
        },
    )

    _check_sample_values(smp, study / "data_clinical_sample.txt")
    in_sample_file = set(smp["SAMPLE_ID"])
    unknown = ~smp["PATIENT_ID"].isin(set(patients["patient_id"]))
    log.repair("sample_of_unknown_patient", unknown.sum())
    smp = smp[~unknown].reset_index(drop=True)
    tp = _timepoints(smp, log)

    sample_ids = set(smp["SAMPLE_ID"])
    mutations = _read_mutations(study, sample_ids, log)
    cna = _read_cna(study, sample_ids, log)
    panels, panel_sizes, panel_of = _read_panels(study, mutations, cna, log)
    sequenced = _sequenced(study, mutations, cna, panel_of)
    expression = _read_expression(study, sample_ids, log, in_sample_file)
    rna = set(expression.columns) if expression is not None else set()

    assay = [
        (
            "DNA+RNA"
            if s in sequenced and s in rna
            else "DNA"
            if s in sequenced
            else "RNA"
            if s in rna
            else None
        )
        for s in smp["SAMPLE_ID"]
    ]
    samples = pd.DataFrame(
        {
            "sample_id": smp["SAMPLE_ID"].astype(str),
            "patient_id": smp["PATIENT_ID"].astype(str),
            "collection_day": np.nan,
            "assay": assay,
            "timepoint": tp.to_numpy(),
        }
    )
    tmb_col = _tmb_column(smp)
    if tmb_col:
        samples["tmb"] = pd.to_numeric(smp[tmb_col], errors="coerce").to_numpy()
    if panel_of:
        samples["panel_id"] = samples["sample_id"].map(panel_of).astype(object)
    if "TUMOR_PURITY" in smp.columns:
        pur = pd.to_numeric(smp["TUMOR_PURITY"], errors="coerce")
        samples["purity"] = (pur / 100 if pur.max() > 1 else pur).to_numpy()
    if samples["assay"].isna().any():
        if tmb_col:
            # a sample with a TMB was sequenced even without calls in the study
            has_tmb = samples["assay"].isna() & samples["tmb"].notna()
            samples.loc[has_tmb, "assay"] = "DNA"
        dropped = samples["assay"].isna()
        if dropped.any():
            log.note(f"{int(dropped.sum())} samples have no molecular data in the study: not imported")
        samples = samples[~dropped]
    if "panel_id" in samples.columns:
        samples.loc[~samples["assay"].isin(["DNA", "DNA+RNA"]), "panel_id"] = None
    if not (samples["timepoint"] == "post").any():
        log.lack("post-progression samples (no acquired-LoF or post-progression TME comparison)")
    tables: dict[str, pd.DataFrame | None] = {
        "patients": patients,
        "icb_courses": courses,
        "samples": samples.reset_index(drop=True),
        "mutations": mutations,
        "cna": cna,
        "panels": panels,
        "expression": expression,
    }
    return assemble(
        name or study_id,
        f"cBioPortal study {study_id}",
        tables,
        log,
        open_data=open_data,
        death_is_progression=death_is_progression,
        existing_pseudonyms=existing_pseudonyms,
        extra_meta={
            "citation": meta.get("citation", ""),
            "study_name": meta.get("name", study_id),
            "panel_sizes_mb": panel_sizes,
        },
    )


def import_cbioportal(
    study_dir: str | Path,
    out_dir: str | Path,
    open_data: bool = False,
    *,
    death_is_progression: bool = False,
    name: str | None = None,
) -> ImportResult:
    """Import a cBioPortal study folder and save it as a canonical cohort folder.

    The pseudonym mapping goes to ``<out_dir>.pseudonyms.tsv`` (beside the folder). See
    :func:`cbioportal_to_cohort` for the parameters and errors.
    """
    result = cbioportal_to_cohort(
        study_dir,
        open_data=open_data,
        death_is_progression=death_is_progression,
        name=name,
        existing_pseudonyms=existing_pseudonyms(out_dir),
    )
    return save_import(result, out_dir)
