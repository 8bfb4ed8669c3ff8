"""The canonical cohort: save/load round trip and a corpus of broken cohorts.

Each broken cohort breaks one rule; the error must name the table, the column and the rule,
and say how many rows break it, with example rows that show the cohort's (pseudonymous) ids.
"""

from __future__ import annotations

import json
import pathlib
import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.data.cohort import Cohort, sample_timepoints
from helpers.data.schema import SCHEMA, describe_schema
from helpers.data.validate import validate
from helpers.errors import CohortValidationError, InputError


def tiny_cohort() -> Cohort:
    """A hand-made valid cohort of three patients."""
    patients = pd.DataFrame(
        {
            "patient_id": ["PA", "PB", "PC"],
            "cancer_type": ["NSCLC", "Melanoma", "NSCLC"],
            "sex": ["female", "male", None],
            "age_at_icb": [61.0, 70.5, np.nan],
            "ecog": [0.0, 1.0, np.nan],
            "last_followup_day": [400.0, 250.0, 90.0],
            "death": [False, True, False],
        }
    )
    courses = pd.DataFrame(
        {
            "patient_id": ["PA", "PB", "PC", "PA"],
            "line": [1.0, 2.0, 1.0, 2.0],
            "regimen": ["anti-PD-1", "PD-1+CTLA-4", "ICB+chemo", "anti-CTLA-4"],
            "start_day": [0.0, 0.0, 0.0, -300.5],
            "stop_day": [120.0, np.nan, 60.0, -250.0],
            "best_response": ["PR", "PD", None, "SD"],
            "progression_day": [230.25, 55.0, np.nan, -100.0],
            "last_assessment_day": [170.0, np.nan, 56.0, -160.0],
        }
    )
    samples = pd.DataFrame(
        {
            "sample_id": ["SA1", "SA2", "SB1", "SC1"],
            "patient_id": ["PA", "PA", "PB", "PC"],
            "collection_day": [-20.0, 240.0, -3.5, 30.0],
            "assay": ["DNA+RNA", "DNA", "RNA", "DNA"],
            "panel_id": ["P1", "P1", None, None],
            "purity": [0.6, 0.4, 0.7, np.nan],
            "tmb": [5.0, 7.5, np.nan, 12.0],
            "msi": pd.array([False, False, None, True], dtype="boolean"),
            "site": ["primary", "liver", "lymph node", None],
        }
    )
    mutations = pd.DataFrame(
        {
            "sample_id": ["SA1", "SA2", "SC1"],
            "gene": ["TP53", "B2M", "KRAS"],
            "variant_classification": ["Missense_Mutation", "Nonsense_Mutation", "Missense_Mutation"],
            "protein_change": ["p.R175H", "p.Q12*", "p.G12C"],
            "vaf": [0.3, 0.2, 0.45],
        }
    )
    cna = pd.DataFrame({"sample_id": ["SA1"], "gene": ["CDKN2A"], "copy_state": [-2]})
    panels = pd.DataFrame({"panel_id": ["P1"] * 4, "gene": ["TP53", "B2M", "KRAS", "CDKN2A"]})
    expression = pd.DataFrame(
        {"SA1": [5.0, 1.0], "SB1": [4.0, 0.0]}, index=pd.Index(["CXCL9", "B2M"], name="gene")
    )
    rt = pd.DataFrame(
        {
            "patient_id": ["PA"],
            "start_day": [260.0],
            "site": ["bone"],
            "total_dose_gy": [24.0],
            "fractions": [3],
            "technique": ["SBRT"],
            "in_field_response": ["PR"],
            "out_of_field_response": [None],
        }
    )
    performance = pd.DataFrame(
        {"patient_id": ["PA", "PA", "PB"], "day": [0.0, 231.0, 60.0], "ecog": [0.0, 2.0, 1.0]}
    )
    return Cohort(
        tables={
            "patients": patients,
            "icb_courses": courses,
            "samples": samples,
            "mutations": mutations,
            "cna": cna,
            "panels": panels,
            "expression": expression,
            "radiotherapy": rt,
            "performance_status": performance,
        },
        meta={
            "name": "tiny",
            "source": "test",
            "simulated": True,
            "access": "open",
            "panel_sizes_mb": {"P1": 0.01},
            "version": "1",
            "repairs": [],
        },
    )


def test_tiny_cohort_is_valid_and_round_trips(tmp_path: Path) -> None:
    cohort = tiny_cohort()
    validate(cohort)
    cohort.save(tmp_path / "c")
    loaded = Cohort.load(tmp_path / "c")
    assert set(loaded.tables) == set(cohort.tables)
    pd.testing.assert_frame_equal(loaded.patients, cohort.patients)
    pd.testing.assert_frame_equal(loaded.icb_courses, cohort.icb_courses)
    pd.testing.assert_frame_equal(loaded.expression, cohort.expression, check_names=False)
    # days stay exact floats, including negative and fractional ones
    assert loaded.icb_courses["progression_day"].tolist()[0] == 230.25
    assert loaded.icb_courses["start_day"].min() == -300.5
    assert json.loads((tmp_path / "c" / "cohort.json").read_text())["name"] == "tiny"


def test_timepoints_are_derived() -> None:
    tp = sample_timepoints(tiny_cohort())
    assert tp.to_dict() == {"SA1": "pre", "SA2": "post", "SB1": "pre", "SC1": "on"}


def test_failed_save_keeps_the_previous_cohort(tmp_path: Path) -> None:
    good = tiny_cohort()
    good.save(tmp_path / "c")
    bad = tiny_cohort()
    bad.tables["patients"] = bad.patients.assign(death="maybe")
    with pytest.raises(CohortValidationError):
        bad.save(tmp_path / "c")
    assert Cohort.load(tmp_path / "c").patients["death"].tolist() == [False, True, False]


# --- the corpus of broken cohorts --------------------------------------------------------
def _drop_table(name: str) -> Callable[[Cohort], None]:
    def f(c: Cohort) -> None:
        del c.tables[name]

    return f


def _set(table: str, row: int, column: str, value: object) -> Callable[[Cohort], None]:
    def f(c: Cohort) -> None:
        df = c.tables[table].copy()
        if column in df.columns and not pd.api.types.is_object_dtype(df[column]):
            df[column] = df[column].astype(object)
        df.loc[df.index[row], column] = value
        c.tables[table] = df

    return f


def _drop_column(table: str, column: str) -> Callable[[Cohort], None]:
    def f(c: Cohort) -> None:
        c.tables[table] = c.tables[table].drop(columns=[column])

    return f


def _empty(c: Cohort) -> None:
    for name in list(c.tables):
        c.tables[name] = c.tables[name].iloc[0:0]
    c.tables.pop("expression")


def _dup_gene(c: Cohort) -> None:
    e = c.expression.copy()
    e.index = pd.Index(["CXCL9", "CXCL9"], name="gene")
    c.tables["expression"] = e


def _nan_gene(c: Cohort) -> None:
    e = c.expression.copy()
    e.index = pd.Index(["CXCL9", np.nan], name="gene")
    c.tables["expression"] = e


def _nan_value(c: Cohort) -> None:
    e = c.expression.copy()
    e.iloc[1, 0] = np.nan
    c.tables["expression"] = e


BROKEN = {
    "ECOG out of range": (
        _set("performance_status", 1, "ecog", 5.0),
        "performance_status",
        "ecog",
        "ECOG must be one of",
    ),
    "assessment after last follow-up": (
        _set("performance_status", 2, "day", 300.0),
        "performance_status",
        "day",
        "after death or last follow-up",
    ),
    "assessment of unknown patient": (
        _set("performance_status", 0, "patient_id", "PZ"),
        "performance_status",
        "patient_id",
        "not in the patients table",
    ),
    "unknown biopsy site": (_set("samples", 0, "site", "moon"), "samples", "site", "unknown code"),
    "missing table": (_drop_table("samples"), "samples", "-", "required table is missing"),
    "missing column": (_drop_column("patients", "death"), "patients", "death", "required column is missing"),
    "duplicate patient ids": (
        _set("patients", 1, "patient_id", "PA"),
        "patients",
        "patient_id",
        "identifiers must be unique",
    ),
    "duplicate sample ids": (
        _set("samples", 3, "sample_id", "SA1"),
        "samples",
        "sample_id",
        "identifiers must be unique",
    ),
    "sample of unknown patient": (
        _set("samples", 2, "patient_id", "PZ"),
        "samples",
        "patient_id",
        "not in the patients table",
    ),
    "course stops before it starts": (
        _set("icb_courses", 0, "stop_day", -5.0),
        "icb_courses",
        "stop_day",
        "cannot stop before it starts",
    ),
    "progression before course start": (
        _set("icb_courses", 1, "progression_day", -1.0),
        "icb_courses",
        "progression_day",
        "progression cannot precede the course start",
    ),
    "event after death": (
        _set("icb_courses", 1, "progression_day", 300.0),
        "icb_courses",
        "progression_day",
        "after death or last follow-up",
    ),
    "sample after last follow-up": (
        _set("samples", 3, "collection_day", 95.0),
        "samples",
        "collection_day",
        "after death or last follow-up",
    ),
    "unknown response code": (
        _set("icb_courses", 0, "best_response", "iCPD"),
        "icb_courses",
        "best_response",
        "unknown code",
    ),
    "unknown variant code": (
        _set("mutations", 0, "variant_classification", "missense"),
        "mutations",
        "variant_classification",
        "unknown code",
    ),
    "unknown regimen": (
        _set("icb_courses", 0, "regimen", "nivolumab"),
        "icb_courses",
        "regimen",
        "unknown code",
    ),
    "non-numeric day": (
        _set("icb_courses", 0, "stop_day", "120 days"),
        "icb_courses",
        "stop_day",
        "values must be numeric",
    ),
    "non-numeric age": (
        _set("patients", 0, "age_at_icb", "sixty"),
        "patients",
        "age_at_icb",
        "values must be numeric",
    ),
    "NaN gene in expression": (_nan_gene, "expression", "gene", "must not be empty"),
    "duplicated gene in expression": (_dup_gene, "expression", "gene", "must be unique"),
    "NaN expression value": (_nan_value, "expression", "(values)", "must be finite"),
    "empty cohort": (_empty, "patients", "patient_id", "the cohort has no patients"),
    "copy state out of range": (_set("cna", 0, "copy_state", 3), "cna", "copy_state", "copy_state must be"),
    "unknown panel": (
        _set("samples", 0, "panel_id", "P9"),
        "samples",
        "panel_id",
        "panel not in the panels table",
    ),
    "last assessment after progression": (
        _set("icb_courses", 0, "last_assessment_day", 231.0),
        "icb_courses",
        "last_assessment_day",
        "cannot follow the progression",
    ),
    "mutation in an RNA-only sample": (
        _set("mutations", 0, "sample_id", "SB1"),
        "mutations",
        "sample_id",
        "without a DNA assay",
    ),
    "patient without index course": (
        _set("icb_courses", 2, "start_day", 5.0),
        "icb_courses",
        "start_day",
        "index ICB course starting on day 0",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_cohort_gives_a_clear_error(case: str, tmp_path: Path) -> None:
    breaker, table, column, rule = BROKEN[case]
    cohort = tiny_cohort()
    breaker(cohort)
    with pytest.raises(CohortValidationError) as info:
        validate(cohort)
    message = str(info.value)
    matching = [v for v in info.value.violations if v.table == table and v.column == column]
    assert matching, f"no violation for {table}.{column} in:\n{message}"
    assert any(rule in v.rule for v in matching), message
    assert f"table '{table}', column '{column}'" in message
    counts = {f"[{v.n_rows} rows break it]" if v.n_rows != 1 else "[1 row breaks it]" for v in matching}
    assert any(c in message for c in counts), message  # the count of rows


def test_error_shows_count_and_examples() -> None:
    cohort = tiny_cohort()
    courses = cohort.icb_courses.copy()
    courses["stop_day"] = [-1.0, -2.0, -3.0, -400.0]
    cohort.tables["icb_courses"] = courses
    with pytest.raises(CohortValidationError) as info:
        validate(cohort)
    v = [v for v in info.value.violations if v.column == "stop_day" and "stop before" in v.rule]
    assert v[0].n_rows == 4
    assert "[4 rows break it]" in str(info.value)
    assert "PB" in str(info.value)  # an example row is shown


def test_error_names_the_row_and_its_ids() -> None:
    cohort = tiny_cohort()
    _set("samples", 3, "collection_day", 95.0)(cohort)  # SC1 of PC, who was last seen on day 90
    with pytest.raises(CohortValidationError) as info:
        validate(cohort, where="tiny")
    assert isinstance(info.value, InputError) and isinstance(info.value, ValueError)
    (v,) = info.value.violations
    assert (v.table, v.column, v.n_rows) == ("samples", "collection_day", 1)
    assert v.examples.index.tolist() == [3]  # the row of the samples table
    assert v.examples[["sample_id", "patient_id"]].iloc[0].tolist() == ["SC1", "PC"]
    assert v.examples["collection_day"].iloc[0] == 95.0
    lines = str(info.value).splitlines()
    assert lines[0] == "tiny is not a valid canonical cohort (1 problem):"
    assert lines[1] == (
        "  - table 'samples', column 'collection_day': nothing can happen after death or last "
        "follow-up (collection_day > last_followup_day) [1 row breaks it]"
    )
    assert lines[-1].split() == ["3", "SC1", "PC", "95.0", "DNA"]


def test_type_errors_show_the_key_of_the_row() -> None:
    cohort = tiny_cohort()
    _set("patients", 0, "age_at_icb", "sixty")(cohort)
    with pytest.raises(CohortValidationError) as info:
        validate(cohort)
    (v,) = info.value.violations
    assert v.rule == "values must be numeric"
    assert v.examples.to_dict("index") == {0: {"patient_id": "PA", "age_at_icb": "sixty"}}


def test_load_reports_missing_files(tmp_path: Path) -> None:
    tiny_cohort().save(tmp_path / "c")
    (tmp_path / "c" / "samples.parquet").unlink()
    with pytest.raises(CohortValidationError, match="samples.parquet is missing"):
        Cohort.load(tmp_path / "c")
    (tmp_path / "c" / "cohort.json").unlink()
    with pytest.raises(CohortValidationError, match="must contain cohort.json"):
        Cohort.load(tmp_path / "c")
    with pytest.raises(FileNotFoundError):
        Cohort.load(tmp_path / "nowhere")


class _Payload:
    """Unpickling this object creates ``marker`` (stands for code a pickle could run)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def test_load_reads_no_pickle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tiny_cohort().save(tmp_path / "c")
    marker = tmp_path / "code-ran"
    payload = pickle.dumps(_Payload(marker))
    pickle.loads(payload)  # the payload works: unpickling it creates the marker
    assert marker.is_file()
    marker.unlink()
    # planted beside the tables: under a table's name, with the pickle suffix, and as "truth"
    for name in ("patients.pkl", "samples.pickle", "expression.pkl", "truth.pkl", "radiotherapy.pkl"):
        (folder / name).write_bytes(payload)
    pd.DataFrame({"patient_id": ["PX"]}).to_pickle(folder / "mutations.pkl")

    def refuse(*args, **kwargs):
        raise AssertionError("Cohort.load unpickled a file")

    for module, name in ((pickle, "load"), (pickle, "loads"), (pickle, "Unpickler"), (pd, "read_pickle")):
        monkeypatch.setattr(module, name, refuse)
    loaded = Cohort.load(folder)
    assert not marker.exists()
    pd.testing.assert_frame_equal(loaded.patients, tiny_cohort().patients)
    assert loaded.mutations["sample_id"].tolist() == ["SA1", "SA2", "SC1"]  # the Parquet table


def test_describe_schema_lists_every_column() -> None:
    table = describe_schema()
    assert len(table) == sum(len(cols) for cols in SCHEMA.values()) + 1  # + the expression matrix
    row = table[(table["table"] == "icb_courses") & (table["column"] == "best_response")].iloc[0]
    assert row["allowed values"] == "CR, PR, SD, PD, NE"
    assert (row["required"], row["may be null"]) == ("yes", "yes")
    assert table.loc[table["column"] == "stop_day", "required"].tolist() == ["optional"]


def test_a_saved_cohort_is_validated_again_only_when_its_files_or_the_rules_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from helpers.data import cohort as cohort_module

    calls: list[str] = []
    real_validate = cohort_module.validate
    monkeypatch.setattr(
        cohort_module, "validate", lambda c, where="": calls.append(where) or real_validate(c, where)
    )
    folder = tiny_cohort().save(tmp_path / "c")
    calls.clear()
    Cohort.load(folder)
    assert calls == []  # stamped and untouched: not checked again
    # an edited table breaks the stamp: the load checks it and finds the broken rule
    patients = pd.read_parquet(folder / "patients.parquet")
    patients.loc[0, "age_at_icb"] = 150.0
    patients.to_parquet(folder / "patients.parquet", index=False)
    with pytest.raises(CohortValidationError, match="age_at_icb"):
        Cohort.load(folder)
    assert len(calls) == 1
    # newer rules than the stamp's: checked again
    folder = tiny_cohort().save(tmp_path / "d")
    calls.clear()
    monkeypatch.setattr(cohort_module, "VALIDATOR_VERSION", "a later version")
    Cohort.load(folder)
    assert len(calls) == 1


def test_tables_are_read_when_first_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from helpers.data import cohort as cohort_module

    folder = tiny_cohort().save(tmp_path / "c")
    read: list[str] = []
    real_read = cohort_module._read_table
    monkeypatch.setattr(cohort_module, "_read_table", lambda f, name: read.append(name) or real_read(f, name))
    loaded = Cohort.load(folder)
    assert read == []
    assert "expression" in loaded.tables and loaded.has("patients")
    assert read == ["patients"]
    assert loaded.expression.shape == tiny_cohort().expression.shape
    assert read == ["patients", "expression"]
