"""The SITC resistance classifier: edge cases and the class counts of the public cohorts."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.resistance import (DAYS_PER_MONTH, REASON_EARLY_PROGRESSION_AFTER_RESPONSE,
                                REASON_EXPOSURE, REASON_NE, REASON_SHORT_FOLLOWUP,
                                benefit_window_sensitivity, class_table, classify_resistance,
                                explain_resistance)
from helpers.data.sources import courses_from_tidy_clinical

SIX_MONTHS = 6 * DAYS_PER_MONTH  # 182.625 days


def course(best_response, progression_day=np.nan, last_assessment_day=np.nan,
           stop_day=np.nan, start_day=0.0) -> dict:
    return {"start_day": start_day, "stop_day": stop_day, "best_response": best_response,
            "progression_day": progression_day, "last_assessment_day": last_assessment_day}


EDGES = {
    # name: (course, class, reason)
    "PD": (course("PD", 60.0, stop_day=60.0), "primary", ""),
    "SD progressing just before 6 months": (course("SD", SIX_MONTHS - 0.01, 120.0, 200.0),
                                            "primary", ""),
    "SD progressing at exactly 6 months": (course("SD", SIX_MONTHS, 120.0, 200.0), "acquired",
                                           ""),
    "PR progressing at exactly 6 months": (course("PR", SIX_MONTHS, 170.0), "acquired", ""),
    "CR progressing late": (course("CR", 700.0, 650.0), "acquired", ""),
    "PD with exposure just under 6 weeks": (course("PD", 56.0, stop_day=41.99), "not_evaluable",
                                            REASON_EXPOSURE),
    "PD with exposure exactly 6 weeks": (course("PD", 56.0, stop_day=42.0), "primary", ""),
    "PD with exposure just over 6 weeks": (course("PD", 56.0, stop_day=42.01), "primary", ""),
    "PD with unknown stop day": (course("PD", 20.0), "primary", ""),
    "SD early progression, short exposure": (course("SD", 100.0, 56.0, 30.0), "not_evaluable",
                                             REASON_EXPOSURE),
    "NE": (course("NE", 100.0), "not_evaluable", REASON_NE),
    "NE without progression": (course("NE", last_assessment_day=400.0), "not_evaluable",
                               REASON_NE),
    "SD no progression, long follow-up": (course("SD", last_assessment_day=SIX_MONTHS),
                                          "ongoing_benefit", ""),
    "PR no progression, short follow-up": (course("PR", last_assessment_day=SIX_MONTHS - 1),
                                           "not_evaluable", REASON_SHORT_FOLLOWUP),
    "CR no progression, no assessment": (course("CR"), "not_evaluable", REASON_SHORT_FOLLOWUP),
    "PR progressing before 6 months": (course("PR", 150.0, 100.0), "not_evaluable",
                                       REASON_EARLY_PROGRESSION_AFTER_RESPONSE),
    "CR progressing before 6 months": (course("CR", 181.0, 120.0), "not_evaluable",
                                       REASON_EARLY_PROGRESSION_AFTER_RESPONSE),
    "no best response, early progression": (course(None, 90.0, 56.0), "primary", ""),
    "no best response, late progression": (course(None, 300.0, 250.0), "acquired", ""),
    "no best response, no progression, long follow-up": (course(None, last_assessment_day=400.0),
                                                         "ongoing_benefit", ""),
    "no best response, no progression, short follow-up": (course(None, last_assessment_day=90.0),
                                                          "not_evaluable",
                                                          REASON_SHORT_FOLLOWUP),
    "later course measured from its own start": (course("SD", 400.0, 300.0, start_day=300.0),
                                                 "primary", ""),
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
    with pytest.raises(KeyError, match="best_response"):
        classify_resistance(pd.DataFrame({"start_day": [0.0]}))
    with pytest.raises(ValueError):
        classify_resistance(pd.DataFrame([course("PD", 50.0)]), benefit_months=0)


# FACTS.md, "[data] SITC-rule classes"
FACTS = {
    "riaz2017_melanoma_nivolumab": {"primary": 42, "acquired": 13, "ongoing_benefit": 12,
                                    "not_evaluable": 6},
    "gide2019_melanoma_pd1": {"primary": 19, "acquired": 10, "ongoing_benefit": 12,
                              "not_evaluable": 0},
    "vanallen2015_melanoma_ctla4": {"primary": 30, "acquired": 5, "ongoing_benefit": 6,
                                    "not_evaluable": 1},
    "miao2018_ccrcc_pd1": None,  # FACTS gives no class counts; checked for completeness below
}


@pytest.mark.parametrize("cohort", sorted(FACTS))
def test_public_cohort_class_counts(public_dir, cohort: str) -> None:
    clinical = pd.read_csv(public_dir / cohort / "clinical.tsv", sep="\t", low_memory=False)
    courses = courses_from_tidy_clinical(clinical)
    counts = classify_resistance(courses).value_counts().to_dict()
    assert sum(counts.values()) == len(clinical)
    expected = FACTS[cohort]
    if expected is None:
        # every course lands in exactly one class
        assert set(counts) <= {"primary", "acquired", "ongoing_benefit", "not_evaluable"}
        return
    for cls, n in expected.items():
        assert counts.get(cls, 0) == n, (cls, counts)


def test_riaz_not_evaluable_reasons(public_dir) -> None:
    clinical = pd.read_csv(public_dir / "riaz2017_melanoma_nivolumab" / "clinical.tsv", sep="\t")
    out = explain_resistance(courses_from_tidy_clinical(clinical))
    reasons = out.loc[out["resistance_class"] == "not_evaluable", "reason"].value_counts()
    assert reasons.to_dict() == {REASON_NE: 3, REASON_SHORT_FOLLOWUP: 3}


def test_tables() -> None:
    rows = pd.DataFrame([EDGES[n][0] for n in EDGES])
    cls = classify_resistance(rows)
    t = class_table(cls)
    assert t.loc["all", "total"] == len(rows)
    sens = benefit_window_sensitivity(rows, (3, 6, 12))
    assert (sens["total"] == len(rows)).all()
    # a longer window can only move courses away from acquired
    assert sens.loc["12 months", "acquired"] <= sens.loc["6 months", "acquired"] <= \
        sens.loc["3 months", "acquired"]
