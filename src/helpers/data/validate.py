"""Validation of a canonical cohort against the data model (DESIGN §3).

:func:`validate` collects every broken rule (schema, types, vocabularies, keys, references and
time order) and raises one :class:`helpers.errors.CohortValidationError`. Each violation names
the table, the column, the rule and how many rows break it, with a few example rows built by
:func:`helpers.errors.check`: the row label of the table and its key columns (the cohort's
pseudonymous ids), then the offending values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from helpers.data.schema import (
    ACCESS_LEVELS,
    COPY_STATES,
    ECOG_VALUES,
    KEY_COLUMNS,
    REQUIRED_TABLES,
    SCHEMA,
    TABLES,
    Column,
)
from helpers.errors import CohortValidationError, Violation, raise_violations
from helpers.errors import check as check_rows

if TYPE_CHECKING:  # the cohort model imports this module; the annotation alone needs it
    from helpers.data.cohort import Cohort

#: Two days closer than this are the same day (time-order rules).
TOLERANCE_DAYS = 1e-9

#: The checks of a canonical table: example rows are labelled "row" (their row in the table,
#: from 0); the matrix's sample columns are labelled "column" (their position, from 0).
check = partial(check_rows, row_label="row")


def _fail(out: list[Violation], where: str) -> None:
    raise_violations(out, where, error=CohortValidationError)


def _is_bool_like(value: object) -> bool:
    missing = value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
    return missing or isinstance(value, (bool, np.bool_)) or value in (0, 1)


def _coerce(df: pd.DataFrame, col: Column, table: str, out: list[Violation]) -> pd.Series | None:
    """The column converted to its kind, or None after recording values that do not convert."""
    s = df[col.name]
    keys = KEY_COLUMNS.get(table, ())

    def bad_values(mask: pd.Series | np.ndarray, rule: str) -> bool:
        return check(out, df, mask, table=table, column=col.name, rule=rule, show=keys)

    if col.kind == "str":
        if bad_values(s.notna() & ~s.map(lambda v: isinstance(v, str)), "values must be text"):
            return None
        return s
    if col.kind in ("float", "int"):
        if pd.api.types.is_bool_dtype(s):
            bad_values(np.ones(len(s), dtype=bool), "values must be numeric, found booleans")
            return None
        num = pd.to_numeric(s, errors="coerce")
        if bad_values(s.notna() & num.isna(), "values must be numeric"):
            return None
        if bad_values(np.isinf(num.astype(float)), "values must be finite"):
            return None
        if col.kind == "int" and bad_values(
            num.notna() & (num != np.round(num)), "values must be whole numbers"
        ):
            return None
        return num.astype(float)
    if col.kind == "bool":
        ok = np.array([_is_bool_like(v) for v in s], dtype=bool)
        if bad_values(~ok, "values must be true/false"):
            return None
        return s
    raise AssertionError(col.kind)


def _validate_metadata(cohort: Cohort, out: list[Violation]) -> None:
    meta = cohort.meta or {}
    for key in ("name", "simulated", "access"):
        if key not in meta:
            out.append(Violation("cohort.json", key, "required metadata key is missing", 1))
    if meta.get("access", "restricted") not in ACCESS_LEVELS:
        out.append(Violation("cohort.json", "access", f"must be one of {ACCESS_LEVELS}", 1))
    for t in REQUIRED_TABLES:
        if cohort.tables.get(t) is None:
            out.append(Violation(t, "-", "required table is missing", 1))
    for t in sorted(set(cohort.tables) - set(TABLES)):
        out.append(Violation(t, "-", f"unknown table (tables are {', '.join(TABLES)})", 1))


def _typed_columns(tables: dict[str, pd.DataFrame], out: list[Violation]) -> dict[str, dict[str, pd.Series]]:
    """Every column of every table in its kind; records missing columns, bad types and codes."""
    typed: dict[str, dict[str, pd.Series]] = {}
    for t, cols in SCHEMA.items():
        df = tables.get(t)
        if df is None:
            continue
        typed[t] = {}
        keys = KEY_COLUMNS.get(t, ())
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
                check(out, df, s.isna(), table=t, column=col.name, rule="must not be empty (null)", show=keys)
            if col.vocabulary is not None:
                rule = f"unknown code; allowed: {', '.join(col.vocabulary)}"
                check(
                    out,
                    df,
                    s.notna() & ~s.isin(col.vocabulary),
                    table=t,
                    column=col.name,
                    rule=rule,
                    show=keys,
                )
    return typed


def _validate_expression(expr: pd.DataFrame, out: list[Violation]) -> None:
    """Gene names present and unique, sample columns unique, values finite numbers."""
    genes = pd.DataFrame({"gene": pd.Series(expr.index, dtype=object)})
    g = genes["gene"]
    check(
        out,
        genes,
        g.isna() | (g.astype(str) == ""),
        table="expression",
        column="gene",
        rule="gene names must not be empty (NaN)",
    )
    check(
        out,
        genes,
        g.duplicated(keep=False) & g.notna(),
        table="expression",
        column="gene",
        rule="gene names must be unique (duplicated rows)",
    )
    columns = pd.DataFrame({"sample_id": pd.Series(expr.columns, dtype=object)}).rename_axis("column")
    check(
        out,
        columns,
        columns["sample_id"].duplicated(keep=False),
        table="expression",
        column="(sample columns)",
        rule="a sample appears twice",
        show=["sample_id"],
    )
    nonnum = [c for c in expr.columns if not pd.api.types.is_numeric_dtype(expr[c])]
    if nonnum:
        check(
            out,
            columns,
            columns["sample_id"].isin(nonnum),
            table="expression",
            column="(sample columns)",
            rule="expression values must be numeric",
            show=["sample_id"],
        )
        return
    finite = np.isfinite(expr.to_numpy(dtype=float))
    check(
        out,
        genes,
        ~finite.all(axis=1),
        table="expression",
        column="(values)",
        rule="expression values must be finite (no NaN or infinity)",
        show=["gene"],
    )


#: The version of the rules below. A cohort stamped valid under another version is checked
#: again when loaded (:func:`helpers.data.cohort.Cohort.load`): raise it whenever a rule changes.
VALIDATOR_VERSION = "2026.12.1"


def validate(cohort: Cohort, where: str = "cohort") -> None:
    """Check every rule of the data model; raise if any breaks.

    Parameters
    ----------
    cohort
        The cohort to check (its ``tables`` and ``meta``).
    where
        What the message calls the cohort (its folder, or "imported cohort 'x'").

    Raises
    ------
    helpers.errors.CohortValidationError
        Listing every broken rule: table, column, rule, number of rows, example rows.
    """
    out: list[Violation] = []
    _validate_metadata(cohort, out)
    _fail(out, where)
    tables = cohort.tables
    typed = _typed_columns(tables, out)
    if tables.get("expression") is not None:
        _validate_expression(tables["expression"], out)
    _fail(out, where)
    if len(tables["patients"]) == 0:
        out.append(Violation("patients", "patient_id", "the cohort has no patients", 0))
        _fail(out, where)
    _Content(tables, typed, cohort.meta or {}, out).check_all()
    _fail(out, where)


class _Content:
    """The content rules (keys, references, ranges, time order) of one cohort whose columns
    already have their kinds; every broken rule is appended to ``out``."""

    def __init__(
        self,
        tables: dict[str, pd.DataFrame],
        typed: dict[str, dict[str, pd.Series]],
        meta: dict,
        out: list[Violation],
    ):
        self.tables, self.typed, self.meta, self.out = tables, typed, meta, out
        pats = tables["patients"]
        self.known_patients = set(pats["patient_id"])
        end_of = pd.to_numeric(pats.set_index("patient_id")["last_followup_day"], errors="coerce")
        self.end_of = end_of[~end_of.index.duplicated()]

    def rule(self, table: str, column: str, rule: str, broken: pd.Series, show: Iterable[str]) -> None:
        frame = self.tables[table]
        check(self.out, frame, broken.fillna(False), table=table, column=column, rule=rule, show=show)

    def after_end(self, table: str, day: pd.Series) -> pd.Series:
        """Rows whose ``day`` falls after the patient's death or last follow-up."""
        end = self.tables[table]["patient_id"].map(self.end_of)
        return day.notna() & end.notna() & (day > end + TOLERANCE_DAYS)

    def unknown_patient(self, table: str) -> None:
        df = self.tables[table]
        self.rule(
            table,
            "patient_id",
            "refers to a patient not in the patients table",
            ~df["patient_id"].isin(self.known_patients),
            KEY_COLUMNS.get(table, ("patient_id",)),
        )

    def check_all(self) -> None:
        self.patients()
        self.icb_courses()
        self.samples()
        self.molecular()
        self.radiotherapy()
        self.performance_status()

    def patients(self) -> None:
        pats, P = self.tables["patients"], self.typed["patients"]
        show = ["patient_id"]
        self.rule(
            "patients",
            "patient_id",
            "identifiers must be unique",
            pats["patient_id"].duplicated(keep=False),
            ["patient_id", "cancer_type"],
        )
        self.rule(
            "patients",
            "age_at_icb",
            "age must be between 0 and 120",
            (P["age_at_icb"] < 0) | (P["age_at_icb"] > 120),
            show,
        )
        if "ecog" in P:
            self.rule(
                "patients",
                "ecog",
                "ECOG must be 0, 1, 2, 3 or 4",
                P["ecog"].notna() & ~P["ecog"].isin(ECOG_VALUES),
                show,
            )
        self.rule(
            "patients",
            "last_followup_day",
            "last follow-up cannot precede the index course (day 0)",
            P["last_followup_day"] < 0,
            show,
        )
        self.rule(
            "patients",
            "death",
            "a death needs its day (last_followup_day)",
            pats["death"].fillna(False).astype(bool) & P["last_followup_day"].isna(),
            ["patient_id", "last_followup_day"],
        )

    def icb_courses(self) -> None:
        t = "icb_courses"
        cou, C = self.tables[t], self.typed[t]
        self.unknown_patient(t)
        show = [
            "patient_id",
            "start_day",
            "stop_day",
            "best_response",
            "progression_day",
            "last_assessment_day",
        ]
        self.rule(
            t,
            "patient_id,start_day",
            "a patient cannot have two courses starting on the same day",
            cou.duplicated(["patient_id", "start_day"], keep=False),
            show,
        )
        pats = self.tables["patients"]
        with_index = set(cou.loc[C["start_day"] == 0, "patient_id"])
        check(
            self.out,
            pats,
            ~pats["patient_id"].isin(with_index),
            table=t,
            column="start_day",
            rule="every patient needs an index ICB course starting on day 0",
            show=["patient_id"],
        )
        self.rule(t, "line", "line must be 1 or more", C["line"] < 1, show)
        if "stop_day" in C:
            self.rule(
                t,
                "stop_day",
                "a course cannot stop before it starts (stop_day < start_day)",
                C["stop_day"] < C["start_day"],
                show,
            )
            self.rule(
                t,
                "stop_day",
                "nothing can happen after death or last follow-up (stop_day > last_followup_day)",
                self.after_end(t, C["stop_day"]),
                show,
            )
        self.rule(
            t,
            "progression_day",
            "progression cannot precede the course start (progression_day < start_day)",
            C["progression_day"] < C["start_day"],
            show,
        )
        self.rule(
            t,
            "last_assessment_day",
            "an assessment cannot precede the course start",
            C["last_assessment_day"] < C["start_day"],
            show,
        )
        self.rule(
            t,
            "last_assessment_day",
            "the last progression-free assessment cannot follow the progression",
            C["last_assessment_day"] > C["progression_day"],
            show,
        )
        for col in ("start_day", "progression_day", "last_assessment_day"):
            self.rule(
                t,
                col,
                f"nothing can happen after death or last follow-up ({col} > last_followup_day)",
                self.after_end(t, C[col]),
                show,
            )

    def samples(self) -> None:
        t = "samples"
        sam, S = self.tables[t], self.typed[t]
        self.unknown_patient(t)
        self.rule(
            t,
            "sample_id",
            "identifiers must be unique",
            sam["sample_id"].duplicated(keep=False),
            ["sample_id", "patient_id"],
        )
        show = ["sample_id", "patient_id", "collection_day", "assay"]
        no_time = S["collection_day"].isna()
        if "timepoint" in S:
            no_time &= S["timepoint"].isna()
        self.rule(t, "collection_day", "a sample needs a collection_day or a timepoint label", no_time, show)
        self.rule(
            t,
            "collection_day",
            "nothing can happen after death or last follow-up (collection_day > last_followup_day)",
            self.after_end(t, S["collection_day"]),
            show,
        )
        if "purity" in S:
            self.rule(
                t, "purity", "purity must be between 0 and 1", (S["purity"] < 0) | (S["purity"] > 1), show
            )
        if "tmb" in S:
            self.rule(t, "tmb", "TMB cannot be negative", S["tmb"] < 0, show)
        panel_ids: set[str] = set()
        if self.tables.get("panels") is not None:
            pan = self.tables["panels"]
            panel_ids = set(pan["panel_id"])
            self.rule(
                "panels",
                "panel_id,gene",
                "a gene is listed twice on a panel",
                pan.duplicated(["panel_id", "gene"], keep=False),
                ["panel_id", "gene"],
            )
        if "panel_id" in S:
            self.rule(
                t,
                "panel_id",
                "refers to a panel not in the panels table",
                S["panel_id"].notna() & ~S["panel_id"].isin(panel_ids),
                show,
            )
            sizes = self.meta.get("panel_sizes_mb") or {}
            for pid in sorted(panel_ids):
                if pid not in sizes:
                    self.out.append(
                        Violation("cohort.json", "panel_sizes_mb", f"panel '{pid}' has no size in Mb", 1)
                    )

    def molecular(self) -> None:
        sam = self.tables["samples"]
        dna_samples = set(sam.loc[sam["assay"].isin(["DNA", "DNA+RNA"]), "sample_id"])
        rna_samples = set(sam.loc[sam["assay"].isin(["RNA", "DNA+RNA"]), "sample_id"])
        known_samples = set(sam["sample_id"])
        show = ["sample_id", "gene"]
        for t in ("mutations", "cna"):
            df = self.tables.get(t)
            if df is None:
                continue
            known = df["sample_id"].isin(known_samples)
            self.rule(t, "sample_id", "refers to a sample not in the samples table", ~known, show)
            self.rule(
                t,
                "sample_id",
                "refers to a sample without a DNA assay",
                known & ~df["sample_id"].isin(dna_samples),
                show,
            )
        if self.tables.get("mutations") is not None and "vaf" in self.typed["mutations"]:
            v = self.typed["mutations"]["vaf"]
            self.rule("mutations", "vaf", "VAF must be between 0 and 1", (v < 0) | (v > 1), show)
        if self.tables.get("cna") is not None:
            cna = self.tables["cna"]
            cs = self.typed["cna"]["copy_state"]
            self.rule(
                "cna", "copy_state", "copy_state must be -2, -1, 0, 1 or 2", ~cs.isin(COPY_STATES), show
            )
            self.rule(
                "cna",
                "sample_id,gene",
                "a gene has two copy states in a sample",
                cna.duplicated(["sample_id", "gene"], keep=False),
                [*show, "copy_state"],
            )
        if self.tables.get("expression") is not None:
            columns = pd.DataFrame(
                {"sample_id": pd.Series(self.tables["expression"].columns, dtype=object)}
            ).rename_axis("column")
            check(
                self.out,
                columns,
                ~columns["sample_id"].isin(rna_samples),
                table="expression",
                column="(sample columns)",
                rule="column is not a sample with an RNA assay",
                show=["sample_id"],
            )

    def radiotherapy(self) -> None:
        t = "radiotherapy"
        if self.tables.get(t) is None:
            return
        R = self.typed[t]
        self.unknown_patient(t)
        show = ["patient_id", "start_day", "total_dose_gy", "fractions"]
        self.rule(t, "total_dose_gy", "dose must be positive", R["total_dose_gy"] <= 0, show)
        self.rule(t, "fractions", "fractions must be 1 or more", R["fractions"] < 1, show)
        self.rule(
            t,
            "start_day",
            "nothing can happen after death or last follow-up (start_day > last_followup_day)",
            self.after_end(t, R["start_day"]),
            show,
        )

    def performance_status(self) -> None:
        t = "performance_status"
        if self.tables.get(t) is None:
            return
        S = self.typed[t]
        self.unknown_patient(t)
        show = ["patient_id", "day", "ecog"]
        self.rule(
            t,
            "ecog",
            f"ECOG must be one of {ECOG_VALUES}",
            S["ecog"].notna() & ~S["ecog"].isin(ECOG_VALUES),
            show,
        )
        self.rule(
            t,
            "day",
            "nothing can happen after death or last follow-up (day > last_followup_day)",
            self.after_end(t, S["day"]),
            show,
        )
