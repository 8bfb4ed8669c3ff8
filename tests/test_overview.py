"""Chapter 1 (cohort overview) on a six-patient cohort built by hand, where every value is known.

The cohort (days from the start of the index course; 6 months = 182.6 days):

====  =====  ===  ===  ====  ====  ==========  =====  =====  =====  ======  =====================
pt    type   sex  age  ECOG  line  regimen     best   prog.  last   end     class
====  =====  ===  ===  ====  ====  ==========  =====  =====  =====  ======  =====================
P1    Alpha  F    48   0     1     anti-PD-1   PD     60     30     200 †   primary
P2    Alpha  M    60   1     2     PD-1+CTLA-4 PR     300    250    400     acquired
P3    Alpha  F    64   1     1     ICB+chemo   SD     -      365    500     ongoing benefit
P4    Alpha  -    80   -     -     -           NE     -      -      30 †    not evaluable (NE)
P5    Beta   M    40   2     1     anti-PD-L1  SD     90     56     150 †   primary
P6    Beta   F    52   0     1     anti-PD-1   CR     -      100    120     not evaluable (short)
====  =====  ===  ===  ====  ====  ==========  =====  =====  =====  ======  =====================

Samples: P1 pre DNA at -100 (TMB 99) and -10 (TMB 10), post DNA+RNA at 70 (TMB 20); P2 pre RNA
at -5, on-treatment DNA at 100, post DNA+RNA at 310; P3 pre DNA+RNA at -20 (TMB 2); P5 pre DNA at
0 (TMB 4) and post RNA at 95 that is missing from the expression matrix. Radiotherapy: P1 at 100
(after progression), P5 at 50 (before progression), P3 at 200 (never progressed).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import overview
from helpers.data.cohort import Cohort
from helpers.data.validate import validate
from helpers.plots import overview as overview_plots
from helpers.units import DAYS_PER_MONTH

NAN = np.nan


@pytest.fixture(scope="module")
def cohort() -> Cohort:
    patients = pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
            "cancer_type": ["Alpha", "Alpha", "Alpha", "Alpha", "Beta", "Beta"],
            "sex": ["female", "male", "female", None, "male", "female"],
            "age_at_icb": [48.0, 60.0, 64.0, 80.0, 40.0, 52.0],
            "ecog": [0.0, 1.0, 1.0, NAN, 2.0, 0.0],
            "last_followup_day": [200.0, 400.0, 500.0, 30.0, 150.0, 120.0],
            "death": [True, False, False, True, True, False],
        }
    )
    courses = pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
            "line": [1.0, 2.0, 1.0, NAN, 1.0, 1.0],
            "regimen": ["anti-PD-1", "PD-1+CTLA-4", "ICB+chemo", None, "anti-PD-L1", "anti-PD-1"],
            "start_day": 0.0,
            "stop_day": [60.0, 280.0, 365.0, 20.0, 84.0, 100.0],
            "best_response": ["PD", "PR", "SD", "NE", "SD", "CR"],
            "progression_day": [60.0, 300.0, NAN, NAN, 90.0, NAN],
            "last_assessment_day": [30.0, 250.0, 365.0, NAN, 56.0, 100.0],
        }
    )
    samples = pd.DataFrame(
        {
            "sample_id": ["S1", "S9", "S2", "S3", "S5", "S4", "S8", "S6", "S7"],
            "patient_id": ["P1", "P1", "P1", "P2", "P2", "P2", "P3", "P5", "P5"],
            "collection_day": [-10.0, -100.0, 70.0, -5.0, 100.0, 310.0, -20.0, 0.0, 95.0],
            "assay": ["DNA", "DNA", "DNA+RNA", "RNA", "DNA", "DNA+RNA", "DNA+RNA", "DNA", "RNA"],
            "tmb": [10.0, 99.0, 20.0, NAN, NAN, NAN, 2.0, 4.0, NAN],
        }
    )
    expression = pd.DataFrame(
        np.arange(8, dtype=float).reshape(2, 4), index=["CD8A", "GZMB"], columns=["S2", "S3", "S4", "S8"]
    )  # S7 (P5, post RNA) is not in it
    radiotherapy = pd.DataFrame(
        {
            "patient_id": ["P1", "P5", "P3"],
            "start_day": [100.0, 50.0, 200.0],
            "site": ["lung", "bone", "brain"],
            "total_dose_gy": [30.0, 8.0, 20.0],
            "fractions": [10, 1, 5],
            "technique": ["3D", "3D", "SRS"],
        }
    )
    c = Cohort(
        {
            "patients": patients,
            "icb_courses": courses,
            "samples": samples,
            "expression": expression,
            "radiotherapy": radiotherapy,
        },
        meta={"name": "hand-built", "simulated": True, "access": "open"},
    )
    validate(c, "the hand-built cohort")  # a canonical cohort, as the chapters receive it
    return c


@pytest.fixture(scope="module")
def result(cohort: Cohort) -> overview.CohortOverview:
    return overview.cohort_overview(cohort)


def test_attrition_by_hand(result: overview.CohortOverview) -> None:
    att = result.attrition.set_index("analysis set")
    assert att["patients"].tolist() == [
        6,  # all patients
        4,  # P1, P2, P3, P5 have a class other than not evaluable
        3,  # primary or acquired: P1, P2, P5
        3,  # ... all three progressed
        2,  # ... pre-treatment DNA: P1, P5 (P3 is not primary or acquired)
        2,  # ... post-progression DNA: P1, P2 (P5's post sample is RNA)
        1,  # ... pre and post DNA: P1
        2,  # ... post-progression RNA in the expression matrix: P1, P2 (not P5)
        1,  # ... pre and post RNA: P2
        1,  # radiotherapy after progression: P1 (P5's was before, P3 never progressed)
    ]
    assert att["% of all"].tolist() == [100.0, 66.7, 50.0, 50.0, 33.3, 33.3, 16.7, 33.3, 16.7, 16.7]
    assert att.loc["Primary or acquired resistance", "used in"] == "resistance classes"
    assert att.loc["... with pre and post RNA (pairs)", "used in"] == "TME transitions"


def test_table_one_by_hand(result: overview.CohortOverview) -> None:
    t1 = result.table_one
    assert list(t1.columns) == ["All", "Alpha", "Beta"]
    expected = {
        "Patients, n": [6, 4, 2],
        # ages 40 48 52 60 64 80; numpy's linear quantiles
        "Age, median (IQR)": ["56 (49-63)", "62 (57-68)", "46 (43-49)"],
        "Female, % of known": [60.0, 66.7, 50.0],  # 3/5, 2/3 (P4 unknown), 1/2
        "ECOG 0, %": [33.3, 25.0, 50.0],
        "ECOG 1, %": [33.3, 50.0, 0.0],
        "ECOG 2, %": [16.7, 0.0, 50.0],
        "ECOG ≥3 or unknown, %": [16.7, 25.0, 0.0],
        "First line, % of known": [80.0, 66.7, 100.0],  # 4/5, 2/3, 2/2
        "monotherapy, % of known": [60.0, 33.3, 100.0],
        "combination, % of known": [20.0, 33.3, 0.0],
        "ICB+chemo, % of known": [20.0, 33.3, 0.0],
        # baseline TMB: the pre sample nearest day 0 (P1: 10, not 99 or the post 20), P3 2, P5 4
        "Baseline TMB/Mb, median (IQR)": ["4.0 (3.0-7.0)", "6.0 (4.0-8.0)", "4.0 (4.0-4.0)"],
        "Objective response (CR/PR), % of assessed": [40.0, 33.3, 50.0],  # NE is not assessed
        # PFS (progression or death, else censored at the last assessment): all 30† 60 90 100c
        # 300 365c -> S = 5/6, 4/6, 3/6 at 90 days; Alpha 30† 60 300 365c -> 0.5 at 60 days
        "Median PFS, months (KM)": [
            round(90 / DAYS_PER_MONTH, 2),
            round(60 / DAYS_PER_MONTH, 2),
            round(90 / DAYS_PER_MONTH, 2),
        ],
        # OS: all 30† 120c 150† 200† 400c 500c -> 5/6, 5/8, 5/12 at 200 days; Beta 120c 150†
        "Median OS, months (KM)": [
            round(200 / DAYS_PER_MONTH, 2),
            round(200 / DAYS_PER_MONTH, 2),
            round(150 / DAYS_PER_MONTH, 2),
        ],
        "Progressed, %": [50.0, 50.0, 50.0],
        "Died, %": [50.0, 50.0, 50.0],
    }
    assert list(t1.index) == list(expected)
    for row, values in expected.items():
        assert t1.loc[row].tolist() == values, row
    assert expected["Median PFS, months (KM)"] == [2.96, 1.97, 2.96]
    assert expected["Median OS, months (KM)"] == [6.57, 6.57, 4.93]


def test_table_one_without_ecog_or_tumour_assessments(cohort: Cohort) -> None:
    tables = dict(cohort.tables)
    tables["patients"] = cohort.patients.drop(columns="ecog")
    tables["icb_courses"] = cohort.icb_courses.assign(progression_day=NAN, last_assessment_day=NAN)
    t1 = overview.table_one(Cohort(tables, cohort.meta))
    assert not any(str(r).startswith("ECOG") for r in t1.index)
    assert t1.loc["Median PFS, months (KM)"].tolist() == ["not recorded"] * 3
    assert t1.loc["Median OS, months (KM)"].tolist() == [6.57, 6.57, 4.93]


def test_sample_availability_by_hand(result: overview.CohortOverview) -> None:
    avail = result.sample_availability
    assert list(avail.columns) == [
        "patients",
        "pre DNA",
        "pre RNA",
        "on-treatment",
        "post DNA",
        "post RNA",
        "pre+post DNA",
        "pre+post RNA",
    ]
    assert avail.loc["Alpha"].tolist() == [4, 2, 2, 1, 2, 2, 1, 1]
    assert avail.loc["Beta"].tolist() == [2, 1, 0, 0, 0, 0, 0, 0]  # P5's post RNA is not in the matrix
    assert avail.loc["All"].tolist() == [6, 3, 2, 1, 2, 2, 1, 1]


def test_the_chapter_functions_agree_with_the_result(cohort: Cohort, result: overview.CohortOverview) -> None:
    assert result.missing is None  # every cohort supports chapter 1
    pd.testing.assert_frame_equal(overview.attrition(cohort), result.attrition)
    pd.testing.assert_frame_equal(overview.table_one(cohort), result.table_one)
    pd.testing.assert_frame_equal(overview.sample_availability(cohort), result.sample_availability)


def test_swimmer_lanes_are_numbered_not_identified(cohort: Cohort, result: overview.CohortOverview) -> None:
    lanes, events = result.swimmer.lanes, result.swimmer.events
    assert "patient_id" not in lanes.columns and "patient_id" not in events.columns
    # all six drawn (n=40 > 6), numbered by follow-up: P4 30, P6 120, P5 150, P1 200, P2 400, P3 500
    assert lanes["row"].tolist() == [1, 2, 3, 4, 5, 6]
    assert lanes["last_followup_day"].tolist() == [30.0, 120.0, 150.0, 200.0, 400.0, 500.0]
    assert lanes["resistance_class"].tolist() == [
        "not_evaluable",
        "not_evaluable",
        "primary",
        "primary",
        "acquired",
        "ongoing_benefit",
    ]
    kinds = events.groupby(["row", "kind"]).size().to_dict()
    assert kinds == {
        (3, "pre biopsy"): 1,
        (3, "post biopsy"): 1,
        (3, "radiotherapy"): 1,
        (4, "pre biopsy"): 2,
        (4, "post biopsy"): 1,
        (4, "radiotherapy"): 1,
        (5, "pre biopsy"): 1,
        (5, "on biopsy"): 1,
        (5, "post biopsy"): 1,
        (6, "pre biopsy"): 1,
        (6, "radiotherapy"): 1,
    }
    few = overview.swimmer_data(cohort, n=3, seed=1)
    assert few.lanes["row"].tolist() == [1, 2, 3]
    assert few.lanes["last_followup_day"].is_monotonic_increasing
    assert set(few.events["row"]) <= {1, 2, 3}


def test_figures_draw_the_tables(result: overview.CohortOverview) -> None:
    fig = overview_plots.attrition_plot(result.attrition)
    labels = [t.get_text().strip() for t in fig.axes[0].texts]
    assert labels == ["6", "4", "3", "3", "2", "2", "1", "2", "1", "1"]
    fig = overview_plots.attrition_plot(
        result.attrition, count_label=lambda n: "<11" if 0 < n < 11 else str(n)
    )
    assert {t.get_text().strip() for t in fig.axes[0].texts} == {"<11"}

    fig = overview_plots.availability_heatmap(result.sample_availability)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == [
        "50%",
        "50%",
        "25%",
        "50%",
        "50%",
        "25%",
        "25%",  # Alpha, 4 patients
        "50%",
        "0%",
        "0%",
        "0%",
        "0%",
        "0%",
        "0%",  # Beta, 2 patients
        "50%",
        "33%",
        "17%",
        "33%",
        "33%",
        "17%",
        "17%",
    ]  # All, 6 patients
    # a suppressed count is labelled as such and its share is not shown
    hidden = overview_plots.availability_heatmap(
        result.sample_availability, count_label=lambda n: "<3" if 0 < n < 3 else str(n)
    )
    texts = [t.get_text() for t in hidden.axes[0].texts]
    # every count of 1 or 2 and the whole Beta row (2 patients) are hidden: only All's 3 is shown
    assert sorted(texts) == sorted(["50%"] + ["<3"] * 7 + ["<3", "0", "0", "0", "0", "0", "0"] + ["<3"] * 6)
    fig = overview_plots.swimmer_plot(result.swimmer)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][0] == "1 · Alpha"
