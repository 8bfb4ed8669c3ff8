"""The SITC resistance classifier: edge cases, chapter 2's tables and the public cohorts' classes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import derive
from helpers.analysis.resistance import (
    REASON_ACQUIRED_EXPOSURE,
    REASON_AFTER_LAST_DOSE,
    REASON_EARLY_PROGRESSION_AFTER_RESPONSE,
    REASON_EXPOSURE,
    REASON_NE,
    REASON_NO_DATA,
    REASON_SHORT_FOLLOWUP,
    REASONS,
    RULE_RESPONSE,
    RULE_TIMING,
    RULE_VARIANTS,
    ClassRule,
    benefit_window_sensitivity,
    class_summary,
    class_table,
    class_transitions,
    classification_basis,
    classification_support,
    classify_resistance,
    explain_resistance,
    not_evaluable_reasons,
    regimen_group,
    rule_sensitivity,
    rule_table,
    stop_day_support,
)
from helpers.book.sentences import resistance as resistance_text
from helpers.data.importers.tidy import courses_from_tidy_clinical, tidy_to_cohort
from helpers.errors import InputError, ParameterError
from helpers.units import CLASSES, DAYS_PER_MONTH

SIX_MONTHS = 6 * DAYS_PER_MONTH  # 182.625 days


def course(
    best_response,
    progression_day=np.nan,
    last_assessment_day=np.nan,
    stop_day=np.nan,
    start_day=0.0,
    regimen="anti-PD-1",
) -> dict:
    return {
        "regimen": regimen,
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
    "no best response, no progression, no assessment": (course(None), "not_evaluable", REASON_NO_DATA),
    "later course measured from its own start": (course("SD", 400.0, 300.0, start_day=300.0), "primary", ""),
    # --- December 2026 (SITC): exposure for acquired resistance (Kluger 2020: >= 6 months)
    "SD late progression, exposure just under 6 months": (
        course("SD", 200.0, 150.0, stop_day=np.nextafter(SIX_MONTHS, 0)),
        "not_evaluable",
        REASON_ACQUIRED_EXPOSURE,
    ),
    "SD late progression, exposure exactly 6 months": (
        course("SD", 200.0, 150.0, stop_day=SIX_MONTHS),
        "acquired",
        "",
    ),
    "PR late progression, 3 months' exposure, progression 10 weeks after the last dose": (
        course("PR", 200.0, 150.0, stop_day=130.0),
        "not_evaluable",
        REASON_ACQUIRED_EXPOSURE,
    ),
    "CR late progression, unknown stop day": (course("CR", 400.0, 350.0), "acquired", ""),
    "CR no progression, stopped at 3 months": (
        course("CR", last_assessment_day=400.0, stop_day=90.0),
        "ongoing_benefit",
        "",
    ),
    # --- progression more than 12 weeks (84 days) after the last dose is kept apart
    "SD progression exactly 12 weeks after the last dose": (
        course("SD", 300.0, 250.0, stop_day=216.0),
        "acquired",
        "",
    ),
    "SD progression just over 12 weeks after the last dose": (
        course("SD", 300.0, 250.0, stop_day=np.nextafter(216.0, 0)),
        "not_evaluable",
        REASON_AFTER_LAST_DOSE,
    ),
    "PD progression 100 days after the last dose": (
        course("PD", 150.0, stop_day=50.0),
        "not_evaluable",
        REASON_AFTER_LAST_DOSE,
    ),
    "SD early progression 50 days after the last dose": (course("SD", 100.0, 56.0, 50.0), "primary", ""),
    "no best response, progression long after the last dose": (
        course(None, 400.0, 300.0, stop_day=200.0),
        "not_evaluable",
        REASON_AFTER_LAST_DOSE,
    ),
    # --- ICB+chemo (Rizvi 2023, Table 3): progression timing regardless of best response
    "ICB+chemo PR progressing before 6 months": (
        course("PR", 150.0, 100.0, 160.0, regimen="ICB+chemo"),
        "primary",
        "",
    ),
    "ICB+chemo CR progressing just before 6 months": (
        course("CR", np.nextafter(SIX_MONTHS, 0), 120.0, regimen="ICB+chemo"),
        "primary",
        "",
    ),
    "ICB+chemo PR progressing at exactly 6 months": (
        course("PR", SIX_MONTHS, 120.0, regimen="ICB+chemo"),
        "acquired",
        "",
    ),
    "ICB+chemo PD with progression after 6 months": (
        course("PD", 250.0, regimen="ICB+chemo"),
        "acquired",
        "",
    ),
    "ICB+chemo PD without a progression day": (course("PD", regimen="ICB+chemo"), "primary", ""),
    "ICB+chemo PR early progression, exposure 4 weeks": (
        course("PR", 60.0, 56.0, 28.0, regimen="ICB+chemo"),
        "not_evaluable",
        REASON_EXPOSURE,
    ),
    "ICB+chemo NE with progression": (course("NE", 100.0, regimen="ICB+chemo"), "not_evaluable", REASON_NE),
    "ICB+chemo SD no progression, long follow-up": (
        course("SD", last_assessment_day=300.0, regimen="ICB+chemo"),
        "ongoing_benefit",
        "",
    ),
    # --- other combinations follow the monotherapy rule by default (their tables were not read)
    "PD-1+CTLA-4 PR progressing before 6 months": (
        course("PR", 150.0, 100.0, regimen="PD-1+CTLA-4"),
        "not_evaluable",
        REASON_EARLY_PROGRESSION_AFTER_RESPONSE,
    ),
    "PD-1+LAG-3 PD progressing after 6 months": (course("PD", 250.0, regimen="PD-1+LAG-3"), "primary", ""),
    "ICB+targeted PR progressing before 6 months": (
        course("PR", 150.0, 100.0, regimen="ICB+targeted"),
        "not_evaluable",
        REASON_EARLY_PROGRESSION_AFTER_RESPONSE,
    ),
    "unknown regimen PR progressing before 6 months": (
        course("PR", 150.0, 100.0, regimen=None),
        "not_evaluable",
        REASON_EARLY_PROGRESSION_AFTER_RESPONSE,
    ),
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
    assert t.loc["all", "total"] == len(rows) == len(EDGES)
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


# ----------------------------------------------------------------------------- the SITC rules


def test_every_course_lands_in_one_class_with_its_reason() -> None:
    rows = pd.DataFrame([EDGES[n][0] for n in EDGES])
    out = explain_resistance(rows)
    assert out["resistance_class"].isin(CLASSES).all()
    ne = out["resistance_class"] == "not_evaluable"
    assert out.loc[ne, "reason"].isin(REASONS).all()  # every not-evaluable course says why
    assert (out.loc[~ne, "reason"] == "").all()  # and only those
    assert set(out["reason"]) - {""} == set(REASONS)  # the edge cases reach every reason


def test_rule_column_names_the_regimen_rule() -> None:
    rows = pd.DataFrame(
        [course("PR", 150.0, regimen=r) for r in ("ICB+chemo", "anti-PD-1", "PD-1+CTLA-4", None)]
    )
    assert explain_resistance(rows)["rule"].tolist() == [
        RULE_TIMING,
        RULE_RESPONSE,
        RULE_RESPONSE,
        RULE_RESPONSE,
    ]
    # no regimen column at all: the monotherapy rule
    no_regimen = rows.drop(columns="regimen")
    assert explain_resistance(no_regimen)["resistance_class"].tolist() == ["not_evaluable"] * 4
    assert (explain_resistance(no_regimen)["rule"] == RULE_RESPONSE).all()


def test_new_rules_are_documented_parameters() -> None:
    late_short = pd.DataFrame([course("SD", 200.0, 150.0, stop_day=100.0)])  # 100 d exposure, 100 d after
    assert classify_resistance(late_short).iat[0] == "not_evaluable"
    # the last-dose limit decides first (100 days > 12 weeks); switched off, the exposure minimum does
    assert explain_resistance(late_short)["reason"].iat[0] == REASON_AFTER_LAST_DOSE
    out = explain_resistance(late_short, max_weeks_after_last_dose=None)
    assert out["reason"].iat[0] == REASON_ACQUIRED_EXPOSURE
    out = explain_resistance(late_short, max_weeks_after_last_dose=10)
    assert out["reason"].iat[0] == REASON_AFTER_LAST_DOSE.replace("12 weeks", "10 weeks")
    out = explain_resistance(late_short, max_weeks_after_last_dose=15, min_acquired_exposure_months=3)
    assert out["resistance_class"].iat[0] == "acquired"
    assert classify_resistance(
        late_short, max_weeks_after_last_dose=None, min_acquired_exposure_months=0
    ).iat[0] == ("acquired")
    chemo = pd.DataFrame([course("PR", 150.0, 100.0, regimen="ICB+chemo")])
    assert classify_resistance(chemo).iat[0] == "primary"
    assert classify_resistance(chemo, timing_rule_regimens=()).iat[0] == "not_evaluable"
    ipi = pd.DataFrame([course("PR", 150.0, 100.0, regimen="PD-1+CTLA-4")])
    assert classify_resistance(ipi, timing_rule_regimens=["ICB+chemo", "PD-1+CTLA-4"]).iat[0] == "primary"


@pytest.mark.parametrize(
    "bad",
    [
        {"min_acquired_exposure_months": -1},
        {"max_weeks_after_last_dose": 0},
        {"timing_rule_regimens": ["chemo"]},
        {"timing_rule_regimens": "ICB+chemo"},  # one string, not a collection
    ],
)
def test_bad_rule_parameters(bad: dict) -> None:
    with pytest.raises(ParameterError):
        explain_resistance(pd.DataFrame([course("PD", 50.0)]), **bad)


def test_new_regimens_have_a_group() -> None:
    groups = regimen_group(pd.Series(["PD-1+LAG-3", "ICB+targeted", "PD-1+CTLA-4", None]))
    assert groups.tolist() == ["combination", "ICB+targeted", "combination", "unknown"]


#: Courses that each rule of the December 2026 revision changes, one rule per course.
REVISION = pd.DataFrame(
    [
        course("SD", 200.0, 150.0, stop_day=150.0),  # 5 months' exposure: acquired -> not evaluable
        course("PD", 150.0, stop_day=50.0),  # 100 days after the last dose: primary -> not evaluable
        course("PR", 150.0, 100.0, regimen="ICB+chemo"),  # early progression: not evaluable -> primary
        course("SD", 100.0, 150.0, stop_day=20.0),  # both exposure (20 d) and 80 d: primary stays withdrawn
        course("CR", last_assessment_day=400.0),  # unchanged
    ]
)


def test_rule_sensitivity_by_hand() -> None:
    t = rule_sensitivity(REVISION)
    assert list(t.index) == list(RULE_VARIANTS)
    cols = [*CLASSES, "total", "changed"]
    # primary, acquired, ongoing benefit, not evaluable, total, changed
    assert t.loc["SITC (the book's rule)", cols].tolist() == [1, 0, 1, 3, 5, 0]
    assert t.loc["without the acquired-exposure minimum", cols].tolist() == [1, 1, 1, 2, 5, 1]
    assert t.loc["without the 12-week limit after the last dose", cols].tolist() == [2, 0, 1, 2, 5, 1]
    assert t.loc["ICB+chemo by the monotherapy rule", cols].tolist() == [0, 0, 1, 4, 5, 1]
    assert t.loc["none of the three (the rule before December 2026)", cols].tolist() == [1, 1, 1, 2, 5, 3]
    # the last row is the classifier before the revision, applied by hand: exposure for primary only
    old = ["acquired", "primary", "not_evaluable", "not_evaluable", "ongoing_benefit"]
    before = classify_resistance(
        REVISION, min_acquired_exposure_months=0, max_weeks_after_last_dose=None, timing_rule_regimens=()
    )
    assert before.tolist() == old


def test_rule_table_and_sentences() -> None:
    rules = rule_table()
    assert list(rules.columns) == ["rule", "parameter", "value", "source"]
    values = dict(zip(rules["parameter"], rules["value"], strict=False))
    assert values["min_acquired_exposure_months"] == "6 months"
    assert values["max_weeks_after_last_dose"] == "12 weeks"
    assert rules["value"].str.contains("not checked").any()  # the confirmatory scan is a stated departure
    assert (
        rule_table(ClassRule(max_weeks_after_last_dose=None))
        .set_index("parameter")
        .loc["max_weeks_after_last_dose", "value"]
        == "off"
    )
    index_courses = REVISION.assign(patient_id=[f"P{i}" for i in range(len(REVISION))])
    patients = pd.concat([index_courses, explain_resistance(index_courses)], axis=1).assign(
        cancer_type="A", regimen_group=lambda d: regimen_group(d["regimen"])
    )
    res = class_summary(patients, index_courses)
    assert res.rule == ClassRule()
    assert res.by_rule.loc[RULE_TIMING].tolist() == [1, 0, 0, 0, 1]
    assert res.rule_sensitivity.equals(rule_sensitivity(index_courses))
    assert res.stop_days.startswith("3 of 5 courses (60%) record their last dose")
    assert resistance_text.parameters_sentence(res) == (
        "benefit window 6 months, minimum exposure 6 weeks (primary) and 6 months (acquired), "
        "progression more than 12 weeks after the last dose kept apart; ICB+chemo classified by "
        "progression timing regardless of best response"
    )
    assert resistance_text.rule_sensitivity_sentence(res) == (
        "Under the rule the book used before December 2026, 3 of 5 courses would be in another class "
        "(primary 1 instead of 1, acquired 1 instead of 0). Courses that change when each rule alone is "
        "switched off: without the acquired-exposure minimum: 1; without the 12-week limit after the "
        "last dose: 1; ICB+chemo by the monotherapy rule: 1."
    )
    # a summary with other rule parameters carries them into every table
    other = class_summary(patients, index_courses, timing_rule_regimens=())
    assert other.rule.timing_rule_regimens == ()
    assert other.window_sensitivity.loc["6 months", list(CLASSES)].tolist() == [0, 0, 1, 4]


def test_stop_day_support_without_stop_days() -> None:
    assert stop_day_support(MOVING).startswith("No course records its last dose")


def test_patient_table_passes_the_rule_on(small_cohort) -> None:
    """Every chapter classifies through derive.patient_table: its defaults are the SITC rule and its
    keyword parameters reach the classifier."""
    idx = small_cohort.index_courses()
    pt = derive.patient_table(small_cohort).set_index("patient_id")
    sitc = explain_resistance(idx).set_index(idx["patient_id"])
    assert (pt.loc[sitc.index, "resistance_class"] == sitc["resistance_class"]).all()
    assert (pt.loc[sitc.index, "rule"] == sitc["rule"]).all()
    before = {
        "min_acquired_exposure_months": 0,
        "max_weeks_after_last_dose": None,
        "timing_rule_regimens": (),
    }
    old = derive.patient_table(small_cohort, **before).set_index("patient_id")
    assert (old.loc[sitc.index, "resistance_class"] != sitc["resistance_class"]).sum() > 0
    st = derive.sample_table(small_cohort, **before)
    assert (
        st["resistance_class"].to_numpy() == old.loc[st["patient_id"], "resistance_class"].to_numpy()
    ).all()


@pytest.mark.parametrize("cohort", sorted(FACTS))
def test_public_cohorts_are_untouched_by_the_revision(public_dir, cohort: str) -> None:
    """The public cohorts record no stop days and no ICB+chemo, so the 2026 rules change nothing
    (imported with their regimens, which the tidy course table alone does not carry)."""
    courses = tidy_to_cohort(public_dir / cohort).cohort.index_courses()
    assert courses["stop_day"].isna().all()
    assert courses["regimen"].notna().all() and not courses["regimen"].eq("ICB+chemo").any()
    assert (rule_sensitivity(courses)["changed"] == 0).all()
