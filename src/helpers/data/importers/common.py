"""What every importer shares: the standard clinical frame, the repair log, and the cohort it makes.

Both importers (:mod:`~helpers.data.importers.tidy`, :mod:`~helpers.data.importers.cbioportal`)
map their source onto one **standard clinical frame** (one row per patient, labelled by its
line in the source file: survival in months with 0/1 event flags, best response, regimen,
covariates; :data:`STANDARD_COLUMNS`), which :func:`clinical_tables` turns into canonical
``patients`` and index ``icb_courses`` by the same rules:

* months are converted to days with :data:`helpers.units.DAYS_PER_MONTH`, never rounded;
* known inconsistencies are repaired only by the explicit rules of :data:`REPAIR_RULES`, each
  logged with its row count in ``cohort.json`` (``repairs``); what the source lacks is listed
  there too (``lacks``);
* a PFS event at the time of death is not a progression unless ``death_is_progression``.

:func:`assemble` then pseudonymises the tables (:mod:`helpers.data.pseudonyms`), builds and
validates the :class:`~helpers.data.cohort.Cohort`, and :func:`save_import` writes it with its
mapping beside it. Errors in a source name the file, the column, the rule, the number of rows
and example rows by their line, with identifier values withheld (:data:`ID_COLUMNS`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from helpers.data.cohort import Cohort
from helpers.data.importers.vocabulary import SYMBOL_ALIASES, harmonise_cancer_type
from helpers.data.pseudonyms import pseudonym_path, pseudonymise_tables, read_pseudonyms
from helpers.data.validate import validate
from helpers.errors import (
    WITHHELD,
    SourceFormatError,
    Violation,
    check,
    examples,
    raise_violations,
    require_columns,
)
from helpers.units import DAYS_PER_MONTH

#: Columns of source tables that hold identifiers: their values never reach an error message.
ID_COLUMNS = (
    "patient_id",
    "sample_id",
    "PATIENT_ID",
    "SAMPLE_ID",
    "Tumor_Sample_Barcode",
    "Matched_Norm_Sample_Barcode",
    "src_patientId",
    "src_sample_sampleId",
)

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
    "tmb_zero_is_missing": "TMB of exactly 0 in a source where 0 codes a missing value: set to missing",
    "expression_offset": "expression given as log2(TPM + 0.001): converted to log2(TPM + 1) "
    "(TPM = 2^x - 0.001, negative rounding residues set to 0)",
    "expression_sample_unknown": "expression column without a sample in the samples table: dropped",
}

#: What a death at the PFS time means, as written into ``cohort.json`` (``pfs_death_rule``).
DEATH_RULE_TEXT = {
    False: "a PFS event at the time of death is not a progression (DESIGN §4)",
    True: "every PFS event counts as a progression, including deaths (the FACTS.md convention)",
}

#: The standard clinical frame: one row per patient.
STANDARD_COLUMNS = (
    "patient_id",
    "cancer_type",
    "sex",
    "age",
    "ecog",
    "line",
    "regimen",
    "best_response",
    "pfs_months",
    "pfs_event",
    "os_months",
    "os_event",
)


class ImportLog:
    """Collects the repairs (rule id → rows), what the source lacks and notes of one import."""

    def __init__(self) -> None:
        self.repairs: dict[str, int] = {}
        self.lacks: list[str] = []
        self.notes: list[str] = []

    def repair(self, rule: str, n: int) -> None:
        """Log ``n`` rows repaired by ``rule`` (a key of :data:`REPAIR_RULES`); 0 logs nothing."""
        if n:
            self.repairs[rule] = self.repairs.get(rule, 0) + int(n)

    def lack(self, what: str) -> None:
        """Log something the source does not have (once)."""
        if what not in self.lacks:
            self.lacks.append(what)

    def note(self, text: str) -> None:
        """Log a note on how the source was read (once)."""
        if text not in self.notes:
            self.notes.append(text)

    def as_meta(self) -> dict[str, Any]:
        """The ``repairs``, ``lacks`` and ``notes`` entries of ``cohort.json``."""
        return {
            "repairs": [{"id": k, "rule": REPAIR_RULES[k], "rows": v} for k, v in self.repairs.items()],
            "lacks": list(self.lacks),
            "notes": list(self.notes),
        }


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
        """What the source lacks (``cohort.json`` ``lacks``)."""
        return list(self.cohort.meta.get("lacks", []))

    @property
    def repairs(self) -> list[dict[str, Any]]:
        """The repairs made at import (``cohort.json`` ``repairs``)."""
        return list(self.cohort.meta.get("repairs", []))

    def summary(self) -> str:
        """A few lines for the command line: counts, repairs and what the source lacks."""
        c = self.cohort
        counts = ", ".join(
            f"{len(df)} {name}" for name, df in c.tables.items() if df is not None and name != "expression"
        )
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
# errors in a source: the shared checks, with identifiers withheld
# ----------------------------------------------------------------------------------------
def check_source(
    violations: list[Violation],
    frame: pd.DataFrame,
    bad: pd.Series | np.ndarray,
    *,
    file: str | Path,
    column: str,
    rule: str,
    show: Iterable[str] = (),
) -> bool:
    """:func:`helpers.errors.check` for a source table: identifier values are withheld.

    ``frame`` is labelled by the line of each row in ``file`` (a path: the violation names its
    file name), so the examples name the lines.
    """
    table = Path(str(file)).name
    return check(
        violations, frame, bad, table=table, column=column, rule=rule, show=show, withhold=ID_COLUMNS
    )


def raise_source_errors(violations: list[Violation], where: str | Path) -> None:
    """Raise a :class:`~helpers.errors.SourceFormatError` listing ``violations``, if any."""
    raise_violations(violations, f"{where} cannot be imported", error=SourceFormatError)


def require_source_columns(
    frame: pd.DataFrame, columns: Iterable[str], file: str | Path, *, withhold_header: bool = False
) -> None:
    """Raise a :class:`~helpers.errors.SourceFormatError` naming the required columns missing.

    Where ``frame.attrs["header_line"]`` gives the line of the header in ``file`` (both readers
    set it), each violation names that line and the header field most like the missing column
    (``withhold_header``: the header holds identifiers, e.g. the sample columns of a matrix).
    """
    columns = list(columns)
    line = frame.attrs.get("header_line")
    if line is None:
        require_columns(frame, columns, str(file), error=SourceFormatError)
        return
    fields = [str(c) for c in frame.columns]
    found = []
    for c in columns:
        if c in frame.columns:
            continue
        close = difflib.get_close_matches(c, fields, n=1, cutoff=0.6)
        similar = WITHHELD if withhold_header else (repr(close[0]) if close else "none")
        found.append(
            line_violation(
                file, line, c, "required column is missing from the header", {"similar column": similar}
            )
        )
    if found:
        raise SourceFormatError(found, where=f"{file} lacks required columns")


def line_labels(lines: Iterable[int]) -> pd.Index:
    """Row labels that are the lines of the rows in their source file."""
    return pd.Index(list(lines), name="line")


def line_violation(
    file: str | Path, line: int, column: str, rule: str, found: Mapping[str, object]
) -> Violation:
    """A broken rule at one ``line`` of ``file``; ``found`` are the values the example shows
    (those of identifier columns withheld)."""
    frame = pd.DataFrame({k: [v] for k, v in found.items()}, index=line_labels([line]))
    shown = examples(frame, np.ones(1, dtype=bool), list(found), withhold=ID_COLUMNS)
    return Violation(Path(str(file)).name, column, rule, 1, shown)


def raise_at_line(
    file: str | Path, line: int, column: str, rule: str, found: Mapping[str, object]
) -> NoReturn:
    """Raise a :class:`~helpers.errors.SourceFormatError` for one broken rule at one line."""
    raise SourceFormatError(
        [line_violation(file, line, column, rule, found)], where=f"{file} cannot be imported"
    )


#: Delimiters a table meant to be tab-separated may have been written with instead.
OTHER_DELIMITERS = {",": "comma", ";": "semicolon", "|": "pipe", " ": "space"}


def check_delimiter(frame: pd.DataFrame, header: str, file: str | Path, line: int = 1) -> None:
    """Raise when a table read as tab-separated has one column because another delimiter was used.

    Only the delimiter and its count are shown: a header may hold identifiers (sample columns).
    """
    if frame.shape[1] != 1 or "\t" in header:
        return
    used = [d for d in OTHER_DELIMITERS if d in header.strip()]
    if not used:
        return
    d = max(used, key=header.count)
    name = OTHER_DELIMITERS[d]
    raise_at_line(
        file,
        line,
        "(header)",
        f"the file must be tab-separated: its header line holds no tab but {header.count(d)} "
        f"{name}s (a {name}-separated file?)",
        {"delimiter found": repr(d)},
    )


def raise_field_count(exc: Exception, file: str | Path, file_line: Mapping[int, int] | None = None) -> None:
    """Raise the error of a row with more fields than the header, if pandas' ``exc`` says so.

    ``file_line`` maps the line pandas names (of the text it parsed) to the line in ``file``
    (where '#' lines or blank lines were dropped first). Only the counts are shown: the row
    may hold identifiers.
    """
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if not m:
        return
    expected, line, saw = (int(g) for g in m.groups())
    line = (file_line or {}).get(line, line)
    raise_at_line(
        file,
        line,
        "(fields)",
        "a row must have as many tab-separated fields as the header",
        {"fields": f"{saw} (the header has {expected})"},
    )


def raise_empty_file(file: str | Path, line: int = 1, what: str = "no line") -> NoReturn:
    """Raise the error of a file that holds no header line."""
    raise_at_line(
        file,
        line,
        "(header)",
        "the file is empty: expected a header line naming its columns",
        {"found": what},
    )


def check_sample_columns(
    frame: pd.DataFrame,
    columns: Iterable[str],
    known: set[str],
    file: str | Path,
    rule: str = "the column names a sample absent from data_clinical_sample.txt",
) -> None:
    """Raise when a column of a matrix (genes × samples) names no known sample.

    The columns' names are identifiers: the example gives each one's number in the header line
    (``frame.attrs["header_line"]``) instead.
    """
    number = {str(c): i + 1 for i, c in enumerate(frame.columns)}
    cols = [str(c) for c in columns]
    header = pd.DataFrame(
        {"column number": [number[c] for c in cols]},
        index=line_labels([frame.attrs.get("header_line", 1)] * len(cols)),
    )
    problems: list[Violation] = []
    check_source(
        problems,
        header,
        [c not in known for c in cols],
        file=file,
        column="(sample columns)",
        rule=rule,
        show=["column number"],
    )
    raise_source_errors(problems, file)


def read_key_values(path: str | Path, *, withhold_text: bool = False) -> dict[str, tuple[int, str]]:
    """The ``key: value`` lines of a file (a cBioPortal meta file or case list): key → (line, value).

    Blank lines and lines starting with '#' are skipped.

    Raises
    ------
    helpers.errors.SourceFormatError
        Naming every line that is not ``key: value`` (its text withheld with ``withhold_text``).
    """
    path = Path(path)
    out: dict[str, tuple[int, str]] = {}
    bad: dict[int, str] = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        if ":" not in line:
            bad[n] = line[:60]
            continue
        k, v = line.split(":", 1)
        out[k.strip()] = (n, v.strip())
    if bad:
        text = [WITHHELD if withhold_text else t for t in bad.values()]
        lines = pd.DataFrame({"text": text}, index=line_labels(bad))
        problems: list[Violation] = []
        check_source(
            problems,
            lines,
            np.ones(len(lines), dtype=bool),
            file=path,
            column="text",
            rule="expected 'key: value'",
        )
        raise_source_errors(problems, path)
    return out


def check_range(
    violations: list[Violation],
    frame: pd.DataFrame,
    column: str,
    file: str | Path,
    *,
    low: float | None = None,
    high: float | None = None,
    rule: str,
    show: Iterable[str] = (),
    text_is_missing: bool = False,
    text_rule: str = "values must be numbers",
) -> pd.Series:
    """Values of ``column`` as floats, recording values outside [``low``, ``high``] and text
    (unless ``text_is_missing``: text is then read as a missing value, as before).
    ``text_rule`` is the rule a text value breaks, as the message states it."""
    raw = frame[column]
    v = pd.to_numeric(raw, errors="coerce").astype(float)
    if not text_is_missing:
        given = raw.notna() & (raw.astype(str).str.strip() != "")
        check_source(
            violations,
            frame,
            given & v.isna(),
            file=file,
            column=column,
            rule=text_rule,
            show=show,
        )
    out = pd.Series(False, index=frame.index)
    if low is not None:
        out |= v < low
    if high is not None:
        out |= v > high
    check_source(violations, frame, out.to_numpy(), file=file, column=column, rule=rule, show=show)
    return v


def check_months(
    violations: list[Violation], frame: pd.DataFrame, column: str, file: str | Path
) -> pd.Series:
    """Survival times of ``column`` as floats (NaN = unknown), recording text and negative times."""
    return check_range(
        violations,
        frame,
        column,
        file,
        low=0,
        rule="survival times cannot be negative",
        show=["patient_id"],
        text_rule="survival times must be numbers (months)",
    )


def check_events(
    violations: list[Violation], frame: pd.DataFrame, column: str, file: str | Path
) -> pd.Series:
    """Event flags of ``column`` as 0/1 floats (NaN = unknown), recording anything else."""
    raw = frame[column]
    v = pd.to_numeric(raw, errors="coerce")
    given = raw.notna() & (raw.astype(str).str.strip() != "")
    check_source(
        violations,
        frame,
        given & (v.isna() | ~v.isin([0, 1])),
        file=file,
        column=column,
        rule="event flags must be 0 or 1",
        show=["patient_id"],
    )
    return v.astype(float)


# ----------------------------------------------------------------------------------------
# the standard clinical frame → patients and index ICB courses
# ----------------------------------------------------------------------------------------
def clinical_tables(
    standard: pd.DataFrame,
    *,
    death_is_progression: bool = False,
    log: ImportLog | None = None,
    source: str | Path = "clinical table",
    source_columns: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Canonical ``patients`` and index ``icb_courses`` from a standard clinical frame.

    Parameters
    ----------
    standard
        One row per patient with :data:`STANDARD_COLUMNS` (months, 0/1 event flags, canonical
        best response and regimen codes or null), labelled by the line of each patient in the
        source file.
    death_is_progression
        False (default): a PFS event on the day of death is not a progression. True: every
        PFS event is a progression (FACTS.md convention).
    log
        Collects the repairs made (see :data:`REPAIR_RULES`).
    source
        The file the frame was read from (named in error messages).
    source_columns
        The source's names of the standard columns, where they differ (for error messages).

    Returns
    -------
    (patients, icb_courses)
        With source patient identifiers (pseudonymised later) and a fresh row index.

    Raises
    ------
    helpers.errors.SourceFormatError
        A standard column is missing, a survival time is not a non-negative number, or an
        event flag is not 0/1 (rows named by their line; identifiers withheld).
    """
    log = log if log is not None else ImportLog()
    require_source_columns(standard, STANDARD_COLUMNS, "standard clinical frame")
    names = dict(source_columns or {})
    shown = standard.rename(columns=names)
    problems: list[Violation] = []
    survival = {
        col: (check_events if col.endswith("event") else check_months)(
            problems, shown, names.get(col, col), source
        )
        for col in ("pfs_months", "pfs_event", "os_months", "os_event")
    }
    raise_source_errors(problems, source)
    s = standard.reset_index(drop=True)
    pfs_t = survival["pfs_months"].reset_index(drop=True) * DAYS_PER_MONTH
    pfs_e = survival["pfs_event"].reset_index(drop=True)
    os_t = survival["os_months"].reset_index(drop=True) * DAYS_PER_MONTH
    os_e = survival["os_event"].reset_index(drop=True)

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

    death = os_e == 1
    # without OS the last contact is unknown (null); PFS censoring stays in last_assessment_day
    last_followup = os_t
    progressed = pfs_e == 1
    death_at_pfs = progressed & death & ((pfs_t - os_t).abs() <= SAME_DAY)
    if not death_is_progression:
        progressed &= ~death_at_pfs
    progression_day = pfs_t.where(progressed)
    last_assessment = pfs_t.where(pfs_e == 0)
    if not death_is_progression and death_at_pfs.any():
        log.note(
            f"{int(death_at_pfs.sum())} PFS events fall on the day of death; they are not counted as progressions"
        )

    patients = pd.DataFrame(
        {
            "patient_id": s["patient_id"].astype(str),
            "cancer_type": s["cancer_type"].map(harmonise_cancer_type),
            "sex": s["sex"].where(s["sex"].isin(["female", "male"]), None).astype(object),
            "age_at_icb": pd.to_numeric(s["age"], errors="coerce").astype(float),
            "ecog": pd.to_numeric(s["ecog"], errors="coerce").astype(float),
            "last_followup_day": last_followup.astype(float),
            "death": death.astype(bool),
        }
    )
    courses = pd.DataFrame(
        {
            "patient_id": s["patient_id"].astype(str),
            "line": pd.to_numeric(s["line"], errors="coerce").astype(float),
            "regimen": s["regimen"].astype(object).where(s["regimen"].notna(), None),
            "start_day": 0.0,
            "stop_day": np.nan,
            "best_response": s["best_response"].astype(object).where(s["best_response"].notna(), None),
            "progression_day": progression_day.astype(float),
            "last_assessment_day": last_assessment.astype(float),
        }
    )
    if patients["ecog"].isna().all():
        patients = patients.drop(columns="ecog")
    return patients, courses


def lacks_from_standard(standard: pd.DataFrame, log: ImportLog) -> None:
    """Log what a standard clinical frame lacks (OS, PFS, best response, regimen, age)."""
    if pd.to_numeric(standard["os_event"], errors="coerce").notna().sum() == 0:
        log.lack("overall survival with vital status (OS)")
    if pd.to_numeric(standard["pfs_event"], errors="coerce").notna().sum() == 0:
        log.lack(
            "progression-free survival with event status (PFS): no progression days, so "
            "no survival after progression"
        )
    if standard["best_response"].isna().all():
        log.lack("best overall response: resistance classes fall back on progression timing")
    if standard["regimen"].isna().all():
        log.lack("the ICB regimen (drug class not resolved to a canonical regimen)")
    if pd.to_numeric(standard["age"], errors="coerce").isna().all():
        log.lack("age at ICB")
    log.lack("stop day of ICB (exposure) and line of therapy")


def rename_aliases(expression: pd.DataFrame, log: ImportLog | None = None) -> pd.DataFrame:
    """Rename previous gene symbols (:data:`SYMBOL_ALIASES`) unless the current one is present.

    Parameters
    ----------
    expression
        Genes as rows.
    log
        Gets a note listing the renames.
    """
    present = set(expression.index)
    renames = {old: new for old, new in SYMBOL_ALIASES.items() if old in present and new not in present}
    if renames and log is not None:
        log.note(
            f"{len(renames)} previous gene symbols renamed to current HGNC symbols "
            f"({', '.join(f'{a}→{b}' for a, b in sorted(renames.items()))})"
        )
    return expression.rename(index=renames) if renames else expression


# ----------------------------------------------------------------------------------------
# assembling and saving a cohort
# ----------------------------------------------------------------------------------------
def assemble(
    name: str,
    source: str,
    tables: dict[str, pd.DataFrame | None],
    log: ImportLog,
    *,
    open_data: bool,
    death_is_progression: bool,
    existing_pseudonyms: pd.DataFrame | None = None,
    extra_meta: Mapping[str, Any] | None = None,
    pseudonym_seed: int | None = None,
) -> ImportResult:
    """Pseudonymise identifiers, sort rows by pseudonym, build and validate the cohort.

    Parameters
    ----------
    name, source
        The cohort's name and a description of its source (``cohort.json``).
    tables
        Canonical tables with source identifiers (None where the source has no such table).
    log
        The import's repairs, lacks and notes.
    open_data
        ``access: open`` (published open data) instead of ``restricted``.
    death_is_progression
        The death rule used (written into ``cohort.json``).
    existing_pseudonyms, pseudonym_seed
        See :func:`helpers.data.pseudonyms.pseudonymise_tables`.
    extra_meta
        More ``cohort.json`` entries (citation, panel sizes, ...).

    Raises
    ------
    helpers.errors.CohortValidationError
        If the imported cohort breaks a rule of the data model.
    """
    out, mapping = pseudonymise_tables(tables, existing_pseudonyms, pseudonym_seed)
    meta = {
        "name": name,
        "source": source,
        "simulated": False,
        "access": "open" if open_data else "restricted",
        "version": 1,
        "pfs_death_rule": DEATH_RULE_TEXT[bool(death_is_progression)],
        "identifiers": "source identifiers replaced by random pseudonyms at import; the "
        "mapping is kept outside the cohort folder",
        "panel_sizes_mb": {},
    }
    meta.update(dict(extra_meta or {}))
    meta.update(log.as_meta())
    cohort = Cohort(tables=out, meta=meta)
    validate(cohort, where=f"imported cohort '{name}'")
    return ImportResult(cohort=cohort, pseudonyms=mapping)


def save_import(result: ImportResult, out_dir: str | Path) -> ImportResult:
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


def existing_pseudonyms(out_dir: str | Path | None) -> pd.DataFrame | None:
    """The mapping already beside ``out_dir`` (a re-import keeps its pseudonyms), or None."""
    if out_dir is None:
        return None
    p = pseudonym_path(Path(out_dir).expanduser().resolve())
    return read_pseudonyms(p) if p.is_file() else None


# ----------------------------------------------------------------------------------------
# for the book pages
# ----------------------------------------------------------------------------------------
def repairs_table(cohort: Cohort) -> pd.DataFrame:
    """The repairs logged at import (rule and rows), for the book's data pages."""
    rows = cohort.meta.get("repairs") or []
    return pd.DataFrame(
        [{"repair": r.get("rule", ""), "rows": int(r.get("rows", 0))} for r in rows],
        columns=["repair", "rows"],
    )


def lacks_table(cohort: Cohort) -> pd.DataFrame:
    """What the cohort's source lacks, one line each."""
    return pd.DataFrame({"the source lacks": list(cohort.meta.get("lacks") or [])})
