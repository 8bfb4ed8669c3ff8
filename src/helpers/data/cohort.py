"""The canonical cohort: one Parquet file per table, ``cohort.json`` metadata, validation on load.

A cohort folder holds ``patients.parquet``, ``icb_courses.parquet``, ``samples.parquet`` and,
where the source has them, ``mutations.parquet``, ``cna.parquet``, ``panels.parquet``,
``expression.parquet`` (genes as rows, one column per RNA sample) and
``radiotherapy.parquet``. Time is in days (floats) relative to the start of the index ICB
course; earlier events are negative. See the book's data dictionary for every column.

Validation collects every broken rule and raises one :class:`CohortValidationError` whose
message names, for each rule, the table, the column, the rule, how many rows break it and a
few example rows. Nothing is ever read from pickle: Parquet and JSON only.
"""
from __future__ import annotations

import json
import math
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pandas as pd

TABLES = (
    "patients",
    "icb_courses",
    "samples",
    "mutations",
    "cna",
    "panels",
    "expression",
    "radiotherapy",
)
REQUIRED_TABLES = ("patients", "icb_courses", "samples")

REGIMENS = ("anti-PD-1", "anti-PD-L1", "anti-CTLA-4", "PD-1+CTLA-4", "ICB+chemo")
RESPONSES = ("CR", "PR", "SD", "PD", "NE")
ASSAYS = ("DNA", "RNA", "DNA+RNA")
TIMEPOINTS = ("pre", "on", "post")
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
        _c("ecog", "float", "ECOG performance status (0-4) at the index course", required=False,
           nullable=True),
        _c("last_followup_day", "float", "day of death or last contact (null if unknown)",
           nullable=True),
        _c("death", "bool", "died at last_followup_day"),
    ),
    "icb_courses": (
        _c("patient_id", "str", "patient of the course"),
        _c("line", "float", "line of systemic therapy (1 = first line)", nullable=True),
        _c("regimen", "str", "ICB regimen class", nullable=True, vocabulary=REGIMENS),
        _c("start_day", "float", "first dose (day 0 for the index course)"),
        _c("stop_day", "float", "last dose (null if unknown)", required=False, nullable=True),
        _c("best_response", "str", "best overall response (RECIST-like); null where the source "
           "has none", nullable=True, vocabulary=RESPONSES),
        _c("progression_day", "float", "day of progression (null if none observed)",
           nullable=True),
        _c("last_assessment_day", "float", "last progression-free tumour assessment",
           nullable=True),
    ),
    "samples": (
        _c("sample_id", "str", "opaque sample identifier (unique)"),
        _c("patient_id", "str", "patient of the sample"),
        _c("collection_day", "float", "day the tumour sample was taken", nullable=True),
        _c("assay", "str", "what was assayed", vocabulary=ASSAYS),
        _c("panel_id", "str", "DNA gene panel (null = whole exome)", required=False,
           nullable=True),
        _c("purity", "float", "tumour purity (0-1)", required=False, nullable=True),
        _c("tmb", "float", "tumour mutational burden, mutations per Mb", required=False,
           nullable=True),
        _c("msi", "bool", "microsatellite-instability high", required=False, nullable=True),
        _c("timepoint", "str", "pre/on/post label where the source gives no day",
           required=False, nullable=True, vocabulary=TIMEPOINTS),
    ),
    "mutations": (
        _c("sample_id", "str", "sample carrying the variant"),
        _c("gene", "str", "HGNC gene symbol"),
        _c("variant_classification", "str", "MAF variant classification",
           vocabulary=VARIANT_CLASSES),
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
        _c("in_field_response", "str", "response of the irradiated lesion", required=False,
           nullable=True, vocabulary=RT_RESPONSES),
        _c("out_of_field_response", "str", "response outside the field (abscopal)",
           required=False, nullable=True, vocabulary=RT_RESPONSES),
    ),
}

#: How many example rows an error message shows.
N_EXAMPLES = 3


@dataclass
class Violation:
    """One broken rule."""

    table: str
    column: str
    rule: str
    n_rows: int
    examples: pd.DataFrame | None = None

    def __str__(self) -> str:
        rows = "row" if self.n_rows == 1 else "rows"
        text = (f"table '{self.table}', column '{self.column}': {self.rule} "
                f"[{self.n_rows} {rows} break it]")
        if self.examples is not None and len(self.examples):
            shown = self.examples.head(N_EXAMPLES).to_string(max_colwidth=40)
            text += "\n    e.g.\n" + "\n".join("    " + line for line in shown.splitlines())
        return text


class CohortValidationError(ValueError):
    """A cohort broke one or more rules of the data model; ``violations`` lists them."""

    def __init__(self, violations: list[Violation], where: str = "cohort"):
        self.violations = violations
        lines = [f"{where} is not a valid canonical cohort ({len(violations)} "
                 f"problem{'s' if len(violations) != 1 else ''}):"]
        lines += [f"  - {v}" for v in violations]
        super().__init__("\n".join(lines))


@dataclass
class Cohort:
    """A canonical cohort: tables (DataFrames) plus metadata (``cohort.json``).

    Build one from tables and validate it, or :meth:`load` one from a folder (validated).
    ``expression`` is genes × samples (index = gene symbol, columns = sample_id).
    """

    tables: dict[str, pd.DataFrame]
    meta: dict[str, Any] = field(default_factory=dict)

    # -- table accessors ---------------------------------------------------------------
    def table(self, name: str) -> pd.DataFrame | None:
        """The table ``name``, or None where the cohort does not have it."""
        if name not in TABLES:
            raise KeyError(f"unknown table '{name}'; tables are {', '.join(TABLES)}")
        return self.tables.get(name)

    def has(self, name: str) -> bool:
        """True when the cohort has a non-empty table ``name``."""
        t = self.tables.get(name)
        return t is not None and t.size > 0

    @property
    def patients(self) -> pd.DataFrame:
        return self.tables["patients"]

    @property
    def icb_courses(self) -> pd.DataFrame:
        return self.tables["icb_courses"]

    @property
    def samples(self) -> pd.DataFrame:
        return self.tables["samples"]

    @property
    def mutations(self) -> pd.DataFrame | None:
        return self.tables.get("mutations")

    @property
    def cna(self) -> pd.DataFrame | None:
        return self.tables.get("cna")

    @property
    def panels(self) -> pd.DataFrame | None:
        return self.tables.get("panels")

    @property
    def expression(self) -> pd.DataFrame | None:
        return self.tables.get("expression")

    @property
    def radiotherapy(self) -> pd.DataFrame | None:
        return self.tables.get("radiotherapy")

    @property
    def name(self) -> str:
        return str(self.meta.get("name", "unnamed cohort"))

    @property
    def simulated(self) -> bool:
        return bool(self.meta.get("simulated", False))

    @property
    def access(self) -> str:
        return str(self.meta.get("access", "restricted"))

    def index_courses(self) -> pd.DataFrame:
        """The index ICB course of each patient (the course starting on day 0)."""
        c = self.icb_courses
        return c[c["start_day"] == 0].reset_index(drop=True)

    # -- I/O ---------------------------------------------------------------------------
    def save(self, path: str | Path, *, extra_json: Mapping[str, Any] | None = None,
             extra_tables: Mapping[str, pd.DataFrame] | None = None) -> Path:
        """Write the cohort to folder ``path`` atomically (a failed write leaves it intact).

        ``extra_json`` maps file names to JSON-serialisable objects (e.g. ``truth.json``);
        ``extra_tables`` maps file stems to DataFrames written as Parquet beside the tables.
        """
        path = Path(path)
        validate(self)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        try:
            for name, df in self.tables.items():
                if df is None:
                    continue
                if name == "expression":
                    out = df.copy()
                    out.index.name = "gene"
                    out = out.reset_index()
                else:
                    out = df.reset_index(drop=True)
                out.to_parquet(tmp / f"{name}.parquet", index=False)
            for stem, df in (extra_tables or {}).items():
                df.reset_index(drop=True).to_parquet(tmp / f"{stem}.parquet", index=False)
            (tmp / "cohort.json").write_text(json.dumps(_jsonable(self.meta), indent=2) + "\n")
            for fname, obj in (extra_json or {}).items():
                (tmp / fname).write_text(json.dumps(_jsonable(obj), indent=2) + "\n")
            if path.exists():
                backup = path.with_name(f".{path.name}.old")
                if backup.exists():
                    shutil.rmtree(backup)
                path.rename(backup)
                tmp.rename(path)
                shutil.rmtree(backup)
            else:
                tmp.rename(path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | Path, *, validate_tables: bool = True) -> "Cohort":
        """Read and validate a cohort folder."""
        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(f"cohort folder not found: {path}")
        meta_file = path / "cohort.json"
        if not meta_file.is_file():
            raise CohortValidationError(
                [Violation("cohort.json", "-", "the cohort folder must contain cohort.json", 1)],
                where=str(path))
        try:
            meta = json.loads(meta_file.read_text())
        except json.JSONDecodeError as exc:
            raise CohortValidationError(
                [Violation("cohort.json", "-", f"is not valid JSON ({exc})", 1)],
                where=str(path)) from None
        missing = [t for t in REQUIRED_TABLES if not (path / f"{t}.parquet").is_file()]
        if missing:
            raise CohortValidationError(
                [Violation(t, "-", f"required table file {t}.parquet is missing", 1)
                 for t in missing], where=str(path))
        tables: dict[str, pd.DataFrame] = {}
        for name in TABLES:
            f = path / f"{name}.parquet"
            if not f.is_file():
                continue
            df = pd.read_parquet(f)
            if name == "expression":
                if "gene" not in df.columns:
                    raise CohortValidationError(
                        [Violation("expression", "gene", "the first column must be 'gene'", 1)],
                        where=str(path))
                df = df.set_index("gene")
                df.columns = df.columns.astype(str)
            tables[name] = df
        cohort = cls(tables=tables, meta=meta)
        if validate_tables:
            validate(cohort, where=str(path))
        return cohort

    def read_json(self, path: str | Path, fname: str) -> Any:
        """Read a JSON file stored beside a saved cohort (e.g. ``truth.json``)."""
        return json.loads((Path(path) / fname).read_text())


def _jsonable(obj: Any) -> Any:
    """Convert numpy scalars and NaN for JSON."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return None if math.isnan(f) else f
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


# ----------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------
def _examples(df: pd.DataFrame, mask: pd.Series, cols: Iterable[str]) -> pd.DataFrame:
    cols = [c for c in cols if c in df.columns]
    return df.loc[mask.fillna(False).to_numpy(), cols].head(N_EXAMPLES)


def _coerce(df: pd.DataFrame, col: Column, table: str, out: list[Violation]) -> pd.Series | None:
    """Return the column converted to its kind, recording values that cannot be converted."""
    s = df[col.name]
    if col.kind == "str":
        bad = s.notna() & ~s.map(lambda v: isinstance(v, str))
        if bad.any():
            out.append(Violation(table, col.name, "values must be text", int(bad.sum()),
                                 _examples(df, bad, [col.name])))
            return None
        return s
    if col.kind in ("float", "int"):
        if pd.api.types.is_bool_dtype(s):
            out.append(Violation(table, col.name, "values must be numeric, found booleans",
                                 len(s), df[[col.name]].head(N_EXAMPLES)))
            return None
        num = pd.to_numeric(s, errors="coerce")
        bad = s.notna() & num.isna()
        if bad.any():
            out.append(Violation(table, col.name, "values must be numeric", int(bad.sum()),
                                 _examples(df, bad, [col.name])))
            return None
        inf = np.isinf(num.astype(float))
        if inf.any():
            out.append(Violation(table, col.name, "values must be finite", int(inf.sum()),
                                 _examples(df, inf, [col.name])))
            return None
        if col.kind == "int":
            frac = num.notna() & (num != np.round(num))
            if frac.any():
                out.append(Violation(table, col.name, "values must be whole numbers",
                                     int(frac.sum()), _examples(df, frac, [col.name])))
                return None
        return num.astype(float)
    if col.kind == "bool":
        ok = np.array([v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))
                       or isinstance(v, (bool, np.bool_)) or v in (0, 1) for v in s], dtype=bool)
        ok = pd.Series(ok, index=s.index)
        if not ok.all():
            out.append(Violation(table, col.name, "values must be true/false",
                                 int((~ok).sum()), _examples(df, ~ok, [col.name])))
            return None
        return s
    raise AssertionError(col.kind)


def _check_rule(out: list[Violation], df: pd.DataFrame, table: str, column: str, rule: str,
                broken: pd.Series, show: Iterable[str]) -> None:
    broken = broken.fillna(False).astype(bool)
    if broken.any():
        out.append(Violation(table, column, rule, int(broken.sum()),
                             _examples(df, broken, show)))


def validate(cohort: Cohort, where: str = "cohort") -> None:
    """Check every rule of the data model; raise :class:`CohortValidationError` if any breaks."""
    out: list[Violation] = []
    meta = cohort.meta or {}
    for key in ("name", "simulated", "access"):
        if key not in meta:
            out.append(Violation("cohort.json", key, "required metadata key is missing", 1))
    if meta.get("access", "restricted") not in ACCESS_LEVELS:
        out.append(Violation("cohort.json", "access", f"must be one of {ACCESS_LEVELS}", 1))

    tables = cohort.tables
    for t in REQUIRED_TABLES:
        if tables.get(t) is None:
            out.append(Violation(t, "-", "required table is missing", 1))
    unknown = sorted(set(tables) - set(TABLES))
    for t in unknown:
        out.append(Violation(t, "-", f"unknown table (tables are {', '.join(TABLES)})", 1))
    if out:
        raise CohortValidationError(out, where)

    # --- structure and types of each table --------------------------------------------
    typed: dict[str, dict[str, pd.Series]] = {}
    for t, cols in SCHEMA.items():
        df = tables.get(t)
        if df is None:
            continue
        typed[t] = {}
        for col in cols:
            if col.name not in df.columns:
                if col.required:
                    out.append(Violation(t, col.name, "required column is missing", len(df)))
                continue
            s = _coerce(df, col, t, out)
            if s is None:
                continue
            typed[t][col.name] = s
            if not col.nullable:
                _check_rule(out, df, t, col.name, "must not be empty (null)", s.isna(),
                            [col.name])
            if col.vocabulary is not None:
                bad = s.notna() & ~s.isin(col.vocabulary)
                _check_rule(out, df, t, col.name,
                            f"unknown code; allowed: {', '.join(col.vocabulary)}", bad,
                            [col.name])
    if tables.get("expression") is not None:
        _validate_expression(tables["expression"], out)
    if out:
        raise CohortValidationError(out, where)

    # --- content: emptiness, keys, references, time order -----------------------------
    pats = tables["patients"]
    if len(pats) == 0:
        out.append(Violation("patients", "patient_id", "the cohort has no patients", 0))
        raise CohortValidationError(out, where)
    P = typed["patients"]
    dup = pats["patient_id"].duplicated(keep=False)
    _check_rule(out, pats, "patients", "patient_id", "identifiers must be unique", dup,
                ["patient_id", "cancer_type"])
    _check_rule(out, pats, "patients", "age_at_icb", "age must be between 0 and 120",
                (P["age_at_icb"] < 0) | (P["age_at_icb"] > 120), ["patient_id", "age_at_icb"])
    if "ecog" in P:
        _check_rule(out, pats, "patients", "ecog", "ECOG must be 0, 1, 2, 3 or 4",
                    P["ecog"].notna() & ~P["ecog"].isin([0, 1, 2, 3, 4]), ["patient_id", "ecog"])
    _check_rule(out, pats, "patients", "last_followup_day",
                "last follow-up cannot precede the index course (day 0)",
                P["last_followup_day"] < 0, ["patient_id", "last_followup_day"])
    _check_rule(out, pats, "patients", "death", "a death needs its day (last_followup_day)",
                pats["death"].fillna(False).astype(bool) & P["last_followup_day"].isna(),
                ["patient_id", "death", "last_followup_day"])
    known_patients = set(pats["patient_id"])
    end_of = pats.set_index("patient_id")["last_followup_day"]
    end_of = pd.to_numeric(end_of, errors="coerce")
    end_of = end_of[~end_of.index.duplicated()]

    def after_end(df: pd.DataFrame, day: pd.Series) -> pd.Series:
        end = df["patient_id"].map(end_of)
        return day.notna() & end.notna() & (day > end + 1e-9)

    def unknown_patient(t: str) -> None:
        df = tables[t]
        _check_rule(out, df, t, "patient_id", "refers to a patient not in the patients table",
                    ~df["patient_id"].isin(known_patients), ["patient_id"])

    # icb_courses
    cou = tables["icb_courses"]
    C = typed["icb_courses"]
    unknown_patient("icb_courses")
    show = ["patient_id", "start_day", "stop_day", "best_response", "progression_day",
            "last_assessment_day"]
    _check_rule(out, cou, "icb_courses", "patient_id,start_day",
                "a patient cannot have two courses starting on the same day",
                cou.duplicated(["patient_id", "start_day"], keep=False), show)
    n_index = cou.loc[C["start_day"] == 0].groupby("patient_id").size()
    no_index = pats["patient_id"][~pats["patient_id"].isin(n_index.index)]
    if len(no_index):
        out.append(Violation("icb_courses", "start_day",
                             "every patient needs an index ICB course starting on day 0",
                             len(no_index), pats.loc[no_index.index, ["patient_id"]].head(3)))
    _check_rule(out, cou, "icb_courses", "line", "line must be 1 or more",
                C["line"] < 1, show + ["line"])
    if "stop_day" in C:
        _check_rule(out, cou, "icb_courses", "stop_day",
                    "a course cannot stop before it starts (stop_day < start_day)",
                    C["stop_day"] < C["start_day"], show)
        _check_rule(out, cou, "icb_courses", "stop_day", "nothing can happen after death or "
                    "last follow-up (stop_day > last_followup_day)",
                    after_end(cou, C["stop_day"]), show)
    _check_rule(out, cou, "icb_courses", "progression_day",
                "progression cannot precede the course start (progression_day < start_day)",
                C["progression_day"] < C["start_day"], show)
    _check_rule(out, cou, "icb_courses", "last_assessment_day",
                "an assessment cannot precede the course start",
                C["last_assessment_day"] < C["start_day"], show)
    _check_rule(out, cou, "icb_courses", "last_assessment_day",
                "the last progression-free assessment cannot follow the progression",
                C["last_assessment_day"] > C["progression_day"], show)
    for col in ("start_day", "progression_day", "last_assessment_day"):
        _check_rule(out, cou, "icb_courses", col, "nothing can happen after death or last "
                    f"follow-up ({col} > last_followup_day)", after_end(cou, C[col]), show)

    # samples
    sam = tables["samples"]
    S = typed["samples"]
    unknown_patient("samples")
    _check_rule(out, sam, "samples", "sample_id", "identifiers must be unique",
                sam["sample_id"].duplicated(keep=False), ["sample_id", "patient_id"])
    sshow = ["sample_id", "patient_id", "collection_day", "assay"]
    no_time = S["collection_day"].isna()
    if "timepoint" in S:
        no_time &= S["timepoint"].isna()
    _check_rule(out, sam, "samples", "collection_day",
                "a sample needs a collection_day or a timepoint label", no_time, sshow)
    _check_rule(out, sam, "samples", "collection_day", "nothing can happen after death or last "
                "follow-up (collection_day > last_followup_day)",
                after_end(sam, S["collection_day"]), sshow)
    if "purity" in S:
        _check_rule(out, sam, "samples", "purity", "purity must be between 0 and 1",
                    (S["purity"] < 0) | (S["purity"] > 1), sshow + ["purity"])
    if "tmb" in S:
        _check_rule(out, sam, "samples", "tmb", "TMB cannot be negative", S["tmb"] < 0,
                    sshow + ["tmb"])
    panel_ids: set[str] = set()
    if tables.get("panels") is not None:
        pan = tables["panels"]
        panel_ids = set(pan["panel_id"])
        _check_rule(out, pan, "panels", "panel_id,gene", "a gene is listed twice on a panel",
                    pan.duplicated(["panel_id", "gene"], keep=False), ["panel_id", "gene"])
    if "panel_id" in S:
        _check_rule(out, sam, "samples", "panel_id", "refers to a panel not in the panels table",
                    S["panel_id"].notna() & ~S["panel_id"].isin(panel_ids), sshow + ["panel_id"])
        sizes = (meta.get("panel_sizes_mb") or {})
        for pid in sorted(panel_ids):
            if pid not in sizes:
                out.append(Violation("cohort.json", "panel_sizes_mb",
                                     f"panel '{pid}' has no size in Mb", 1))
    dna_samples = set(sam.loc[sam["assay"].isin(["DNA", "DNA+RNA"]), "sample_id"])
    rna_samples = set(sam.loc[sam["assay"].isin(["RNA", "DNA+RNA"]), "sample_id"])
    known_samples = set(sam["sample_id"])

    for t in ("mutations", "cna"):
        df = tables.get(t)
        if df is None:
            continue
        _check_rule(out, df, t, "sample_id", "refers to a sample not in the samples table",
                    ~df["sample_id"].isin(known_samples), ["sample_id", "gene"])
        _check_rule(out, df, t, "sample_id", "refers to a sample without a DNA assay",
                    df["sample_id"].isin(known_samples) & ~df["sample_id"].isin(dna_samples),
                    ["sample_id", "gene"])
    if tables.get("mutations") is not None:
        mut = tables["mutations"]
        if "vaf" in typed["mutations"]:
            v = typed["mutations"]["vaf"]
            _check_rule(out, mut, "mutations", "vaf", "VAF must be between 0 and 1",
                        (v < 0) | (v > 1), ["sample_id", "gene", "vaf"])
    if tables.get("cna") is not None:
        cna = tables["cna"]
        cs = typed["cna"]["copy_state"]
        _check_rule(out, cna, "cna", "copy_state", "copy_state must be -2, -1, 0, 1 or 2",
                    ~cs.isin([-2, -1, 0, 1, 2]), ["sample_id", "gene", "copy_state"])
        _check_rule(out, cna, "cna", "sample_id,gene", "a gene has two copy states in a sample",
                    cna.duplicated(["sample_id", "gene"], keep=False),
                    ["sample_id", "gene", "copy_state"])
    if tables.get("expression") is not None:
        expr = tables["expression"]
        cols = pd.Series(list(expr.columns))
        bad = ~cols.isin(rna_samples)
        if bad.any():
            out.append(Violation("expression", "(sample columns)",
                                 "column is not a sample with an RNA assay", int(bad.sum()),
                                 pd.DataFrame({"sample_id": cols[bad].head(N_EXAMPLES)})))
    if tables.get("radiotherapy") is not None:
        rt = tables["radiotherapy"]
        R = typed["radiotherapy"]
        unknown_patient("radiotherapy")
        rshow = ["patient_id", "start_day", "total_dose_gy", "fractions"]
        _check_rule(out, rt, "radiotherapy", "total_dose_gy", "dose must be positive",
                    R["total_dose_gy"] <= 0, rshow)
        _check_rule(out, rt, "radiotherapy", "fractions", "fractions must be 1 or more",
                    R["fractions"] < 1, rshow)
        _check_rule(out, rt, "radiotherapy", "start_day", "nothing can happen after death or "
                    "last follow-up (start_day > last_followup_day)",
                    after_end(rt, R["start_day"]), rshow)
    if out:
        raise CohortValidationError(out, where)


def _validate_expression(expr: pd.DataFrame, out: list[Violation]) -> None:
    genes = pd.Series(expr.index, dtype=object)
    _check_rule(out, pd.DataFrame({"gene": genes}), "expression", "gene",
                "gene names must not be empty (NaN)", genes.isna() | (genes.astype(str) == ""),
                ["gene"])
    dup = genes.duplicated(keep=False) & genes.notna()
    _check_rule(out, pd.DataFrame({"gene": genes}), "expression", "gene",
                "gene names must be unique (duplicated rows)", dup, ["gene"])
    dupc = pd.Series(expr.columns).duplicated(keep=False)
    if dupc.any():
        out.append(Violation("expression", "(sample columns)", "a sample appears twice",
                             int(dupc.sum()),
                             pd.DataFrame({"sample_id": pd.Series(expr.columns)[dupc].head(3)})))
    nonnum = [c for c in expr.columns if not pd.api.types.is_numeric_dtype(expr[c])]
    if nonnum:
        out.append(Violation("expression", ",".join(map(str, nonnum[:3])),
                             "expression values must be numeric", len(nonnum)))
        return
    values = expr.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        rows = bad.any(axis=1)
        out.append(Violation("expression", "(values)",
                             "expression values must be finite (no NaN or infinity)",
                             int(rows.sum()),
                             pd.DataFrame({"gene": genes[rows].head(N_EXAMPLES)})))


# ----------------------------------------------------------------------------------------
# derived fields
# ----------------------------------------------------------------------------------------
def sample_timepoints(cohort: Cohort) -> pd.Series:
    """Derive pre/on/post for every sample (indexed by sample_id).

    pre: collected on or before day 0 (the index course start); post: on or after the index
    course's progression; on: in between. A sample without a collection day keeps the
    source's ``timepoint`` label.
    """
    sam = cohort.samples
    prog = cohort.index_courses().set_index("patient_id")["progression_day"]
    day = pd.to_numeric(sam["collection_day"], errors="coerce")
    p = pd.to_numeric(sam["patient_id"].map(prog), errors="coerce")
    tp = np.where(day <= 0, "pre", np.where(p.notna() & (day >= p), "post", "on"))
    result = pd.Series(tp, index=sam["sample_id"].to_numpy(), name="timepoint", dtype=object)
    if "timepoint" in sam.columns:
        label = sam["timepoint"].to_numpy()
        result[day.isna().to_numpy()] = label[day.isna().to_numpy()]
    result[day.isna().to_numpy() & pd.isna(result.to_numpy())] = None
    return result


def describe_schema() -> pd.DataFrame:
    """The data dictionary as a table (for the book's data page)."""
    rows = []
    for t, cols in SCHEMA.items():
        for c in cols:
            rows.append({
                "table": t,
                "column": c.name,
                "type": c.kind,
                "required": "yes" if c.required else "optional",
                "may be null": "yes" if c.nullable else "no",
                "allowed values": ", ".join(c.vocabulary) if c.vocabulary else "",
                "meaning": c.description,
            })
    rows.append({"table": "expression", "column": "gene + one column per RNA sample",
                 "type": "float", "required": "optional", "may be null": "no",
                 "allowed values": "", "meaning": "log2(TPM+1), genes as rows"})
    return pd.DataFrame(rows)
