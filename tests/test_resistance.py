"""The SITC resistance classifier: edge cases, chapter 2's tables and the public cohorts' classes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.resistance import (
    REASON_EARLY_PROGRESSION_AFTER_RESPONSE,
    REASON_EXPOSURE,
    REASON_NE,
    REASON_NO_DATA,
    REASON_SHORT_FOLLOWUP,
    benefit_window_sensitivity,
    class_summary,
    class_table,
    class_transitions,
    classification_basis,
    classification_support,
    classify_resistance,
    explain_resistance,
    not_evaluable_reasons,
)
from helpers.data.importers.tidy import courses_from_tidy_clinical
from helpers.errors import InputError, ParameterError
from helpers.units import CLASSES, DAYS_PER_MONTH

SIX_MONTHS = 6 * DAYS_PER_MONTH  # 182.625 days


def course(
    best_response, progression_day=np.nan, last_assessment_day=np.nan, stop_day=np.nan, start_day=0.0
) -> dict:
    return {
        "start_day": start_day,
        "stop_day": stop_day,
        "best_response": best_response,
        "progression_day": progression_day,
        "last_assessment_day": last_assessment_day,
    }


EDGES = {
    # name: (course, class, reason)
    "PD": (course("PD", 60.0, stop_day=60.0), "primary", ""),
    "SD progressing just before 6 months": (course("SD", SIX_MONTHS - 0.01, 120.0, 200.0), "primary", ""),
    "SD progressing at exactly 6 months": (course("SD", SIX_MONTHS, 120.0, 200.0), "acquired", ""),
    "PR progressing at exactly 6 months": (course("PR", SIX_MONTHS, 170.0), "acquired", ""),
    "CR progressing late": (course("CR", 700.0, 650.0), "acquired", ""),
    "PD with exposure just under 6 weeks": (
        course("PD", 56.0, stop_day=41.99),
        "not_evaluable",
        REASON_EXPOSURE,
    ),
    "PD with exposure exactly 6 weeks": (course("PD", 56.0, stop_day=42.0), "primary", ""),
    "PD with exposure just over 6 weeks": (course("PD", 56.0, stop_day=42.01), "primary", ""),
    "PD with unknown stop day": (course("PD", 20.0), "primary", ""),
    "SD early progression, short exposure": (
        course("SD", 100.0, 56.0, 30.0),
        "not_evaluable",
        REASON_EXPOSURE,
    ),
    "NE": (course("NE", 100.0), "not_evaluable", REASON_NE),
    "NE without progression": (course("NE", last_assessment_day=400.0), "not_evaluable", REASON_NE),
    "SD no progression, long follow-up": (
        course("SD", last_assessment_day=SIX_MONTHS),
        "ongoing_benefit",
        "",
    ),
    "PR no progression, short follow-up": (
        course("PR", last_assessment_day=SIX_MONTHS - 1),
        "not_evaluable",
        REASON_SHORT_FOLLOWUP,
    ),
    "CR no progression, no assessment": (course("CR"), "not_evaluable", REASON_SHORT_FOLLOWUP),
    "PR progressing before 6 months": (
        course("PR", 150.0, 100.0),
        "not_evaluable",
        REASON_EARLY_PROGRESSION_AFTER_RESPONSE,
    ),
    "CR progressing before 6 months": (
        course("CR", 181.0, 120.0),
        "not_evaluable",
        REASON_EARLY_PROGRESSION_AFTER_RESPONSE,
    ),
    "no best response, early progression": (course(None, 90.0, 56.0), "primary", ""),
    "no best response, late progression": (course(None, 300.0, 250.0), "acquired", ""),
    "no best response, no progression, long follow-up": (
        course(None, last_assessment_day=400.0),
        "ongoing_benefit",
        "",
    ),
    "no best response, no progression, short follow-up": (
        course(None, last_assessment_day=90.0),
        "not_evaluable",
        REASON_SHORT_FOLLOWUP,
    ),
    "later course measured from its own start": (course("SD", 400.0, 300.0, start_day=300.0), "primary", ""),
}


@pytest.mark.parametrize("name", list(EDGES))
def test_edge_cases(name: str) -> None:
    row, expected_class, expected_reason = EDGES[name]
    out = explain_resistance(pd.DataFrame([row]))
    assert out["resistance_class"].iat[0] == expected_class
    assert out["reason"].iat[0] == expected_reason


def test_output_is_aligned_with_input_rows() -> None:
    names = list(EDGES)
    df = pd.DataFrame([EDGES[n][0] for n in names], index=[f"r{i}" for i in range(len(names))])
    shuffled = df.sample(frac=1.0, random_state=3)
    cls = classify_resistance(shuffled)
    assert list(cls.index) == list(shuffled.index)
    expected = {f"r{i}": EDGES[n][1] for i, n in enumerate(names)}
    assert cls.to_dict() == expected


def test_fallback_basis_is_flagged() -> None:
    out = explain_resistance(pd.DataFrame([course(None, 90.0), course("PD", 90.0)]))
    assert out["basis"].tolist() == ["progression timing only", "best response"]


def test_parameters_move_the_boundary() -> None:
    rows = pd.DataFrame([course("SD", 100.0, 56.0), course("SD", 300.0, 250.0)])
    assert classify_resistance(rows, benefit_months=3).tolist() == ["acquired", "acquired"]
    assert classify_resistance(rows, benefit_months=12).tolist() == ["primary", "primary"]
    short = pd.DataFrame([course("PD", 56.0, stop_day=50.0)])
    assert classify_resistance(short, min_exposure_weeks=8).iat[0] == "not_evaluable"
    assert classify_resistance(short, min_exposure_weeks=7).iat[0] == "primary"


def test_bad_input() -> None:
    with pytest.raises(InputError, match="best_response") as err:
        classify_resistance(pd.DataFrame({"start_day": [0.0]}))
    assert {v.column for v in err.value.violations} == {
        "best_response",
        "progression_day",
        "last_assessment_day",
    }
    with pytest.raises(ParameterError):
        classify_resistance(pd.DataFrame([course("PD", 50.0)]), benefit_months=0)
    with pytest.raises(ParameterError):
        classify_resistance(pd.DataFrame([course("PD", 50.0)]), min_exposure_weeks=-1)
    # a day that is not a number and a best response outside the vocabulary: one error, both named
    rows = pd.DataFrame([course("PD", "soon"), course("MR", 50.0)])
    with pytest.raises(InputError) as err:
        explain_resistance(rows)
    found = {(v.column, v.n_rows) for v in err.value.violations}
    assert found == {("progression_day", 1), ("best_response", 1)}
    assert "must be one of CR, PR, SD, PD, NE or empty" in str(err.value)


# FACTS.md, "[data] SITC-rule classes"; FACTS.md gives no class counts for Miao, whose counts
# were read off its clinical.tsv by hand (33 rows sorted by PFS): primary = 16 PD + 4 SD with a
# PFS event before 6 months (2.82, 2.85, 3.54, 5.61); acquired = 2 SD (7.21, 10.92) + 3 PR
# (16.39, 17.74, 22.03) with a PFS event after 6 months; ongoing benefit = censored after
# 6 months (PR 13.08, SD 14.20, PR 14.69, CR 14.89, PR 20.89, PR 26.92); not evaluable = 2 SD
# censored before 6 months (1.25, 1.41).
FACTS = {
    "riaz2017_melanoma_nivolumab": {"primary": 42, "acquired": 13, "ongoing_benefit": 12, "not_evaluable": 6},
    "gide2019_melanoma_pd1": {"primary": 19, "acquired": 10, "ongoing_benefit": 12, "not_evaluable": 0},
    "vanallen2015_melanoma_ctla4": {"primary": 30, "acquired": 5, "ongoing_benefit": 6, "not_evaluable": 1},
    "miao2018_ccrcc_pd1": {"primary": 20, "acquired": 5, "ongoing_benefit": 6, "not_evaluable": 2},
}


def facts_rule_by_hand(clinical: pd.DataFrame) -> dict[str, int]:
    """The rule exactly as FACTS.md writes it, in months, on the raw tidy columns."""
    bor = clinical["best_overall_response"]
    event, months = clinical["pfs_event"], clinical["pfs_months"]
    benefit = bor.isin(["CR", "PR", "SD"])
    primary = (bor == "PD") | ((bor == "SD") & (event == 1) & (months < 6))
    acquired = benefit & (event == 1) & (months >= 6)
    ongoing = benefit & (event == 0) & (months >= 6)
    assert not (primary & acquired).any() and not (acquired & ongoing).any()
    counts = {
        "primary": int(primary.sum()),
        "acquired": int(acquired.sum()),
        "ongoing_benefit": int(ongoing.sum()),
    }
    counts["not_evaluable"] = len(clinical) - sum(counts.values())
    return counts


@pytest.mark.parametrize("cohort", sorted(FACTS))
def test_public_cohort_class_counts(public_dir, cohort: str) -> None:
    clinical = pd.read_csv(public_dir / cohort / "clinical.tsv", sep="\t", low_memory=False)
    counts = classify_resistance(courses_from_tidy_clinical(clinical)).value_counts()
    counts = counts.reindex(list(CLASSES), fill_value=0).to_dict()
    # the stated (or hand-read) counts, the rule applied by hand and the classifier agree
    assert facts_rule_by_hand(clinical) == FACTS[cohort]
    assert counts == FACTS[cohort]
    assert sum(counts.values()) == len(clinical)


def test_riaz_not_evaluable_reasons(public_dir) -> None:
    clinical = pd.read_csv(public_dir / "riaz2017_melanoma_nivolumab" / "clinical.tsv", sep="\t")
    out = explain_resistance(courses_from_tidy_clinical(clinical))
    reasons = out.loc[out["resistance_class"] == "not_evaluable", "reason"].value_counts()
    assert reasons.to_dict() == {REASON_NE: 3, REASON_SHORT_FOLLOWUP: 3}


def test_tables() -> None:
    rows = pd.DataFrame([EDGES[n][0] for n in EDGES])
    cls = classify_resistance(rows)
    t = class_table(cls)
    expected = pd.Series([EDGES[n][1] for n in EDGES]).value_counts()
    assert t.loc["all", list(CLASSES)].tolist() == [int(expected.get(c, 0)) for c in CLASSES]
    assert t.loc["all", "total"] == len(rows) == 22
    sens = benefit_window_sensitivity(rows, (3, 6, 12))
    assert list(sens.index) == ["3 months", "6 months", "12 months"]
    assert (sens["total"] == len(rows)).all()
    assert sens.loc["6 months", list(CLASSES)].tolist() == t.loc["all", list(CLASSES)].tolist()


def test_class_table_by_group_counts_every_class() -> None:
    classes = pd.Series(["primary", "acquired", "primary", "not_evaluable", "primary"])
    groups = pd.Series(["b", "a", "a", "b", "b"], index=[10, 11, 12, 13, 14])  # aligned by position
    t = class_table(classes, groups)
    assert list(t.columns) == [*CLASSES, "total"]
    assert t.loc["a"].tolist() == [1, 1, 0, 0, 2]
    assert t.loc["b"].tolist() == [2, 0, 0, 1, 3]


def test_not_evaluable_reasons_and_basis() -> None:
    rows = pd.DataFrame(
        [
            course("NE", 100.0),
            course("NE", 80.0),
            course("PR", last_assessment_day=30.0),
            course(None),
            course(None, 90.0),
            course("PD", 60.0),
        ]
    )
    explained = explain_resistance(rows)
    reasons = not_evaluable_reasons(explained)
    assert reasons.to_dict("list") == {
        "reason": [REASON_NE, REASON_SHORT_FOLLOWUP, REASON_NO_DATA],
        "courses": [2, 1, 1],
        "% of all courses": [33.3, 16.7, 16.7],
    }
    basis = classification_basis(explained)
    assert basis.loc["best response"].to_dict() == {"not_evaluable": 3, "primary": 1}
    assert basis.loc["progression timing only"].to_dict() == {"not_evaluable": 1, "primary": 1}


#: Courses whose class moves between windows of 3, 6 and 12 months (3 months = 91.3 days,
#: 6 months = 182.6 days, 12 months = 365.25 days).
MOVING = pd.DataFrame(
    [
        course("PD", 60.0),  # primary under every window
        course("SD", 120.0, 100.0),  # 3: acquired; 6 and 12: primary
        course("SD", 300.0, 250.0),  # 3 and 6: acquired; 12: primary
        course("PR", 150.0, 100.0),  # 3: acquired; 6 and 12: response, early progression
        course("PR", last_assessment_day=150.0),  # 3: ongoing benefit; 6 and 12: follow-up too short
        course("CR", last_assessment_day=400.0),  # ongoing benefit under every window
    ]
)


def test_class_transitions_by_hand() -> None:
    to_3 = class_transitions(MOVING, 6, 3)
    assert (to_3.index.name, to_3.columns.name) == ("6 months", "3 months")
    assert list(to_3.index) == list(to_3.columns) == list(CLASSES)
    # rows: class under 6 months; columns: under 3 months (primary, acquired, ongoing, NE)
    assert to_3.to_numpy().tolist() == [[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 1, 1, 0]]
    to_12 = class_transitions(MOVING, 6, 12)
    assert to_12.to_numpy().tolist() == [[2, 0, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 2]]
    sens = benefit_window_sensitivity(MOVING, (3, 6, 12))
    assert sens.loc["3 months", list(CLASSES)].tolist() == [1, 3, 2, 0]
    assert sens.loc["6 months", list(CLASSES)].tolist() == [2, 1, 1, 2]
    assert sens.loc["12 months", list(CLASSES)].tolist() == [3, 0, 1, 2]
    # the row sums of a transition table are the classes under the first window
    assert to_3.sum(axis=1).tolist() == sens.loc["6 months", list(CLASSES)].tolist()
    assert to_3.sum(axis=0).tolist() == sens.loc["3 months", list(CLASSES)].tolist()


def test_class_summary_of_chapter_2() -> None:
    index_courses = MOVING.assign(patient_id=[f"P{i}" for i in range(len(MOVING))])
    explained = explain_resistance(index_courses)
    patients = pd.concat([index_courses, explained], axis=1).assign(
        cancer_type=["A", "A", "B", "B", "B", "A"],
        regimen=["anti-PD-1", None, "ICB+chemo", "anti-PD-1", "PD-1+CTLA-4", "anti-PD-1"],
    )
    patients["regimen_group"] = (
        patients["regimen"]
        .map({"anti-PD-1": "monotherapy", "PD-1+CTLA-4": "combination", "ICB+chemo": "ICB+chemo"})
        .fillna("unknown")
    )
    res = class_summary(patients, index_courses, benefit_months=6)
    assert res.missing is None and res.support == "yes" and res.limitation is None
    assert res.overall.loc["all"].tolist() == [2, 1, 1, 2, 6]
    assert res.by_cancer_type.loc["A"].tolist() == [2, 0, 1, 0, 3]
    assert res.by_cancer_type.loc["B"].tolist() == [0, 1, 0, 2, 3]
    assert res.by_regimen.loc["unknown"].tolist() == [1, 0, 0, 0, 1]
    assert res.by_regimen_group.loc["monotherapy"].tolist() == [1, 0, 1, 1, 3]
    assert res.by_cancer_type_and_regimen_group.loc["B · combination"].tolist() == [0, 0, 0, 1, 1]
    assert list(res.window_sensitivity.index) == ["3 months", "6 months", "12 months"]
    assert list(res.transitions) == [3.0, 12.0]
    pd.testing.assert_frame_equal(res.transitions[3.0], class_transitions(index_courses, 6, 3))
    # a window outside 3, 6 and 12 months joins the sensitivity table
    other = class_summary(patients, index_courses, benefit_months=9)
    assert list(other.window_sensitivity.index) == ["3 months", "6 months", "9 months", "12 months"]


def test_what_the_courses_support() -> None:
    assert classification_support(MOVING) == ("yes", "")
    no_pfs = MOVING.assign(progression_day=np.nan, last_assessment_day=np.nan)
    assert classification_support(no_pfs)[0] == "partly"
    no_response = MOVING.assign(best_response=None)
    assert classification_support(no_response) == (
        "partly",
        "no best response: classes from progression timing only",
    )
    nothing = no_pfs.assign(
        best_response=None, patient_id="P", cancer_type="A", regimen=None, regimen_group="unknown"
    )
    nothing = pd.concat([nothing, explain_resistance(nothing)], axis=1)
    res = class_summary(nothing, nothing, 6)
    assert res.support == "no"
    assert res.missing == (
        "The cohort records neither best response nor progression-free survival, so every "
        "course is not evaluable."
    )
    assert res.overall.loc["all", "not_evaluable"] == len(MOVING)
