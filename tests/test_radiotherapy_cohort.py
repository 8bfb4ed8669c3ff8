"""Tests of the radiotherapy-salvage chapter's analyses (helpers.analysis.radiotherapy).

- literature: which rows are shown, duplicated or poolable in the curated table; pooling of
  comparable subgroups reproduces metafor (reference values in ../shared/reference/);
- cohort: course timing, BED/EQD2 groups, the post-progression table (immortal time handled at
  the exposure start), response tables (NE excluded and counted, hand-checked Clopper–Pearson
  intervals); the chapter's result for a cohort (its landmark set, its ``missing`` sentence)
  and its figures;
- recovery of the planted truths on the default simulated cohort: the adjusted time-varying RT
  hazard ratio covers the planted one, the naive comparison is more favourable to RT than the
  truth, and the in-field dose-response slope covers the planted slope.
"""

from __future__ import annotations

import json
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

from helpers.analysis import derive
from helpers.analysis import radiotherapy as rt
from helpers.book.sentences import radiotherapy as rt_text
from helpers.data.cohort import Cohort
from helpers.errors import InputError, ParameterError
from helpers.plots import radiotherapy as rt_plots
from helpers.simulate import simulate_cohort
from helpers.stats import survival
from helpers.stats.meta import meta_proportions
from helpers.stats.sensitivity import evalue_hr, shift_towards_null
from helpers.units import DAYS_PER_MONTH

REL = 1e-6


# ------------------------------------------------------------------ (a) literature


@pytest.fixture(scope="module")
def literature() -> pd.DataFrame:
    return rt.load_literature()


def test_literature_rows_shown_duplicated_and_poolable(literature):
    rows = rt.literature_response_rows(literature).set_index("study_id")
    # the review's only patient-level response counts of RT arms (README, 'Which rows are poolable')
    assert set(rows.index[rows["poolable"]]) == {"lin2022_npc_sbrt", "theelen2021_pooled_pembro_rt"}
    # Table 2 rows repeating a text result are not shown twice; single-patient "ORRs" not at all
    for study in ("t2r05_welsh2020", "t2r08_kwan2022_icepac", "t2r09_lin2022_npc"):
        assert not rows.loc[study, "shown"] and "duplicate" in rows.loc[study, "reason"]
    for study in (
        "t2r01_patel2021_pembro_ldrt",
        "t2r02_patel2021_ipinivo_ldrt",
        "t2r03_patel2021_pembro_ldrt",
    ):
        assert not rows.loc[study, "shown"] and "unclear" in rows.loc[study, "reason"]
    # PRaG is only in Table 2 (13.2% of an unknown subset): shown without counts
    assert rows.loc["t2r06_kong2022_prag", "shown"]
    assert np.isnan(rows.loc["t2r06_kong2022_prag", "ci_low"])
    assert rows.loc["t2r06_kong2022_prag", "orr"] == pytest.approx(0.132)
    # ongoing trials report nothing
    assert not rows.index.str.startswith("nct").any()
    # per-study interval: Wald on the logit scale, 6/7 -> log(6) +/- 1.96 sqrt(1/6 + 1/1)
    z = stats.norm.ppf(0.975)
    half = z * np.sqrt(1 / 6 + 1)
    expit = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    assert rows.loc["lin2022_npc_sbrt", "ci_low"] == pytest.approx(expit(np.log(6) - half), rel=REL)
    assert rows.loc["lin2022_npc_sbrt", "ci_high"] == pytest.approx(expit(np.log(6) + half), rel=REL)
    assert rows.loc["theelen2021_pooled_pembro_rt", "orr"] == pytest.approx(30 / 72)


def test_nothing_in_the_review_is_poolable(literature):
    pooled = rt.pool_literature(literature)
    assert (pooled["k"] == 1).all()
    assert pooled["status"].str.startswith("shown, not pooled").all()
    assert pooled["pooled_logit"].isna().all()
    assert set(pooled["setting"]) == {"salvage_after_icb_failure", "rt_with_icb_naive"}
    statement = rt_text.literature_statement(rt.literature_analysis())
    assert "nothing is pooled" in statement and "2 with counts" in statement
    # 8 RT arms shown: salvage 33%, 17%, 6/7 = 86%, PRaG 13.2%; with ICB 30/72 = 42%, 38%, 10%, ICE-PAC 31%
    assert statement.startswith("8 RT arm(s) report a patient-level response figure, 2 with counts;")
    assert "salvage after ICB failure report objective responses from 13% to 86% (4 arm(s))" in statement
    assert "ICB-naive patients report objective responses from 10% to 42% (4 arm(s))" in statement


def _synthetic_literature(counts: pd.DataFrame) -> pd.DataFrame:
    """metafor's five reference series as salvage RT arms (A-C SBRT, D-E conventional), plus
    rows that must never be pooled: a lesion-level row, an ICB-alone arm, a Table 2 row, a row
    of the other setting."""
    base = {
        "record_type": "text",
        "source": "X, et al. 2020, J (ref. 1)",
        "setting": "salvage_after_icb_failure",
        "arm": "RT",
        "arm_role": "rt",
        "linked_ids": "",
        "response_unit": "patient",
        "response_scope": "overall",
        "orr_pct_reported": np.nan,
        "n": np.nan,
    }
    rows = []
    for study, events, n in counts[["study", "events", "n"]].itertuples(index=False):
        rows.append(
            {
                **base,
                "study_id": f"s_{study}",
                "orr_events": float(events),
                "orr_n": float(n),
                "rt_modality": "SBRT" if study in "ABC" else "conventional",
            }
        )
    rows.append(
        {
            **base,
            "study_id": "lesion",
            "orr_events": 3.0,
            "orr_n": 9.0,
            "rt_modality": "SBRT",
            "response_unit": "lesion",
        }
    )
    rows.append(
        {
            **base,
            "study_id": "icb_arm",
            "orr_events": 2.0,
            "orr_n": 20.0,
            "rt_modality": "none",
            "arm_role": "icb_alone",
        }
    )
    rows.append(
        {
            **base,
            "study_id": "table2",
            "orr_events": 4.0,
            "orr_n": 10.0,
            "rt_modality": "SBRT",
            "record_type": "table2",
        }
    )
    rows.append(
        {
            **base,
            "study_id": "naive",
            "orr_events": 5.0,
            "orr_n": 10.0,
            "rt_modality": "SBRT",
            "setting": "rt_with_icb_naive",
        }
    )
    return pd.DataFrame(rows)


def test_pooling_matches_metafor(reference_dir):
    counts = pd.read_csv(reference_dir / "meta_input.tsv", sep="\t")
    expected = json.loads((reference_dir / "meta_reference.json").read_text())
    pooled = rt.pool_literature(_synthetic_literature(counts))
    salvage = pooled[pooled["setting"] == "salvage_after_icb_failure"].set_index("rt_modality")
    every = salvage.loc["all modalities"]
    assert every["status"] == "pooled" and every["k"] == 5
    assert every["studies"] == "s_A; s_B; s_C; s_D; s_E"  # the excluded rows stayed out
    assert every["pooled_logit"] == pytest.approx(expected["logit_pooled"], rel=REL)
    assert every["ci_low_logit"] == pytest.approx(expected["logit_ci95"][0], rel=REL)
    assert every["ci_high_logit"] == pytest.approx(expected["logit_ci95"][1], rel=REL)
    assert every["tau2"] == pytest.approx(expected["logit_tau2"], rel=REL)
    assert every["i2_pct"] == pytest.approx(expected["logit_I2_percent"], rel=REL)
    assert every["q"] == pytest.approx(expected["logit_Q"], rel=REL)
    assert every["pooled_ft"] == pytest.approx(expected["ft_pooled"], rel=REL)
    assert every["ci_high_ft"] == pytest.approx(expected["ft_ci95"][1], rel=REL)
    # SBRT: three studies, pooled exactly as meta_proportions pools them
    sbrt = salvage.loc["SBRT"]
    direct = meta_proportions(counts["events"][:3], counts["n"][:3], "logit")
    assert sbrt["k"] == 3 and sbrt["pooled_logit"] == pytest.approx(direct.pooled, rel=1e-12)
    # conventional: two studies, shown not pooled; the other setting: one study
    assert salvage.loc["conventional", "status"] == "shown, not pooled (k = 2 < 3)"
    assert np.isnan(salvage.loc["conventional", "pooled_logit"])
    naive = pooled[pooled["setting"] == "rt_with_icb_naive"]
    assert (naive["k"] == 1).all() and naive["pooled_logit"].isna().all()


def test_literature_bad_input(tmp_path, literature):
    with pytest.raises(InputError, match="column 'orr_events': required column is missing"):
        rt.pool_literature(literature.drop(columns=["orr_events"]))
    with pytest.raises(InputError, match="min_studies"):
        rt.pool_literature(literature, min_studies=1)
    broken = pd.read_csv(rt.LITERATURE_PATH, dtype=str, keep_default_na=False)
    broken.loc[0, "orr_n"] = "seven"
    broken.loc[2, "orr_events"] = "1"  # without orr_n
    path = tmp_path / "broken.csv"
    broken.to_csv(path, index=False)
    with pytest.raises(InputError, match="table 'broken.csv', column 'orr_n': must be a number") as caught:
        rt.load_literature(path)
    # the example row is the file's line 2 (the header is line 1), with its study and value
    assert re.search(r"\n\s+2\s+t2r01_patel2021_pembro_ldrt\s+seven", str(caught.value))
    broken.loc[0, "orr_n"] = ""
    broken.to_csv(path, index=False)
    with pytest.raises(InputError, match="orr_events and orr_n must be given together") as caught:
        rt.load_literature(path)
    assert re.search(r"\n\s+4\s+t2r03_patel2021_pembro_ldrt", str(caught.value))
    with pytest.raises(FileNotFoundError):
        rt.load_literature(tmp_path / "absent.csv")


# ------------------------------------------------------------------ (b) cohort, hand-made


def _patients() -> pd.DataFrame:
    """Four patients; P1-P3 progressed on day 100, P4 never did."""
    return pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P3", "P4"],
            "cancer_type": ["NSCLC", "NSCLC", "Melanoma", "NSCLC"],
            "progression_day": [100.0, 100.0, 100.0, np.nan],
            "pps_days": [200.0, 50.0, 0.0, np.nan],
            "pps_event": [True, True, False, np.nan],
            "resistance_class": ["acquired", "primary", "not_evaluable", "ongoing_benefit"],
            "ecog": [0.0, 2.0, 1.0, 1.0],
            "age_at_icb": [60.0, 70.0, 55.0, 65.0],
            "sex": ["male", "female", "male", "female"],
            "line": [1.0, 2.0, 1.0, 1.0],
            "tmb": [0.0, 7.0, np.nan, 3.0],
        }
    )


def _radiotherapy() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P1", "P1", "P2", "P4"],
            "start_day": [-300.0, 40.0, 160.0, 130.0, 150.0, 20.0],
            "total_dose_gy": [60.0, 30.0, 50.0, 8.0, 20.0, 4.0],
            "fractions": [30, 10, 4, 1, 5, 4],
            "in_field_response": ["PR", "SD", "CR", "NE", "PD", None],
            "out_of_field_response": [None, None, "PR", "NE", None, None],
        }
    )


def test_course_timing_dose_and_first_exposure():
    courses = rt.rt_courses(_radiotherapy(), _patients(), alpha_beta=10.0)
    by_start = courses.set_index(["patient_id", "start_day"])
    assert by_start.loc[("P1", -300.0), "timing"] == "before ICB"
    assert by_start.loc[("P1", 40.0), "timing"] == "after ICB start, before any progression"
    assert by_start.loc[("P4", 20.0), "timing"] == "after ICB start, before any progression"
    assert by_start.loc[("P1", 160.0), "timing"] == "after progression"
    # textbook values: 12.5 Gy x 4 -> BED 112.5, EQD2 93.75; 3 Gy x 10 -> EQD2 32.5; 8 Gy x 1 -> 12
    assert by_start.loc[("P1", 160.0), "bed_gy"] == pytest.approx(112.5)
    assert by_start.loc[("P1", 160.0), "eqd2_gy"] == pytest.approx(93.75)
    assert by_start.loc[("P1", 160.0), "eqd2_group"] == "≥ 50 Gy"
    assert by_start.loc[("P1", 40.0), "eqd2_gy"] == pytest.approx(32.5)
    assert by_start.loc[("P1", 40.0), "eqd2_group"] == "20–50 Gy"
    assert by_start.loc[("P1", 130.0), "eqd2_gy"] == pytest.approx(12.0)
    assert by_start.loc[("P1", 130.0), "eqd2_group"] == "< 20 Gy"
    assert by_start.loc[("P1", 130.0), "modality"] == "SBRT"  # 8 Gy x 1: dose-rule proxy
    assert by_start.loc[("P1", -300.0), "modality"] == "conventional"
    assert by_start.loc[("P1", 40.0), "modality"] == "hypofractionated"
    # the exposure starts at the first course on/after progression (day 130, not 160)
    first = courses[courses["first_after_progression"]].set_index("patient_id")["start_day"]
    assert first.to_dict() == {"P1": 130.0, "P2": 150.0}
    timing = rt.rt_timing_table(courses)
    assert timing["courses"].tolist() == [1, 2, 3] and timing["patients"].tolist() == [1, 2, 2]
    # an edge belongs to the group above it
    edge = rt.rt_courses(
        pd.DataFrame(
            {"patient_id": ["P1"], "start_day": [150.0], "total_dose_gy": [20.0], "fractions": [10]}
        ),
        _patients(),
    )
    assert edge.loc[0, "eqd2_gy"] == pytest.approx(20.0) and edge.loc[0, "eqd2_group"] == "20–50 Gy"


def test_post_progression_table_exposure_and_covariates():
    courses = rt.rt_courses(_radiotherapy(), _patients())
    data = rt.post_progression_table(_patients(), courses).set_index("patient_id")
    # P3 has no time at risk after progression; P4 never progressed
    assert list(data.index) == ["P1", "P2"] and data.attrs["excluded_no_followup"] == 1
    assert data.loc["P1", "rt_day"] == pytest.approx(30.0) and data.loc["P1", "ever_rt"] == 1
    # P2's RT starts on day 50 after progression, the day of death: no exposure
    assert data.loc["P2", "rt_day"] == pytest.approx(50.0) and data.loc["P2", "ever_rt"] == 0
    assert data.loc["P1", "acquired"] == 1 and data.loc["P2", "acquired"] == 0
    assert data.loc["P1", "male"] == 1 and data.loc["P2", "male"] == 0
    assert data.loc["P1", "log2_tmb"] == pytest.approx(0.0)  # TMB 0 -> log2(0 + 1)
    assert data.loc["P2", "log2_tmb"] == pytest.approx(3.0)
    assert data.loc["P2", "age_per_10y"] == pytest.approx(7.0)


def test_too_few_exposed_deaths_are_reported_not_fitted():
    courses = rt.rt_courses(_radiotherapy(), _patients())
    data = rt.post_progression_table(_patients(), courses)
    result = rt.rt_survival_analysis(data)
    assert result.estimates["hr"].isna().all() and len(result.estimates) == 6
    assert "not estimated" in result.notes[0]
    assert result.missing == result.notes[0] and not result.available
    assert result.primary.empty


def test_response_by_group_counts_ne_and_exact_intervals():
    courses = rt.rt_courses(_radiotherapy(), _patients())
    table = rt.response_by_group(courses, "eqd2_group").set_index(["scope", "group"])
    # after progression: P1 8 Gy x1 (<20, NE), P1 12.5 Gy x4 (>=50, CR), P2 4 Gy x5 (20-50, PD)
    low = table.loc[("in-field", "< 20 Gy")]
    assert (low["courses"], low["not evaluable (NE)"], low["evaluable"]) == (1, 1, 0)
    assert np.isnan(low["ORR %"])
    high = table.loc[("in-field", "≥ 50 Gy")]
    assert (high["evaluable"], high["responses"], high["ORR %"]) == (1, 1, 100.0)
    mid = table.loc[("in-field", "20–50 Gy")]
    assert (mid["evaluable"], mid["PD"], mid["ORR %"]) == (1, 1, 0.0)
    out = table.loc[("out-of-field (abscopal)", "20–50 Gy")]
    assert (out["not recorded"], out["evaluable"]) == (1, 0)
    # restricted cohorts: a rate computed from a suppressed count is blanked too
    masked = rt.response_by_group(courses, "eqd2_group", min_count=11).set_index(["scope", "group"])
    assert np.isnan(masked.loc[("in-field", "≥ 50 Gy"), "ORR %"])
    assert np.isnan(masked.loc[("in-field", "≥ 50 Gy"), "CI high %"])
    assert masked.loc[("in-field", "≥ 50 Gy"), "responses"] == 1  # counts: reporting suppresses
    # exact (Clopper-Pearson) 95% interval of 1/1: [0.025, 1] (lower bound p solves p^1 = 0.025);
    # of 0/1: [0, 0.975]
    assert (high["CI low %"], high["CI high %"]) == (pytest.approx(2.5), 100.0)
    assert (mid["CI low %"], mid["CI high %"]) == (0.0, pytest.approx(97.5))
    assert np.isnan(low["CI low %"]) and np.isnan(low["CI high %"])  # nothing evaluable


def test_response_intervals_are_clopper_pearson():
    """Hand-derived exact intervals: x = n gives [(a/2)^(1/n), 1]; 0 of n gives [0, 1 - (a/2)^(1/n)];
    6/7 has upper bound 0.975^(1/7) (P(X <= 6) = 1 - p^7) and lower bound p with
    P(X >= 6) = 7 p^6 (1 - p) + p^7 = 0.025."""
    groups = {"6 of 7": ["CR"] * 6 + ["PD"], "11 of 11": ["PR"] * 11, "0 of 11": ["SD"] * 6 + ["PD"] * 5}
    courses = pd.DataFrame(
        [
            {"timing": rt.RT_TIMINGS[2], "eqd2_group": g, "in_field_response": r}
            for g, rs in groups.items()
            for r in rs
        ]
        + [
            {"timing": rt.RT_TIMINGS[0], "eqd2_group": "11 of 11", "in_field_response": "PD"}
        ]  # not after progression
    )
    table = rt.response_by_group(courses).set_index("group")
    assert table["evaluable"].to_dict() == {"0 of 11": 11, "11 of 11": 11, "6 of 7": 7}
    assert table.loc["11 of 11", "CI low %"] == pytest.approx(100 * 0.025 ** (1 / 11), rel=1e-9)  # 71.51
    assert table.loc["11 of 11", "CI high %"] == 100.0
    assert table.loc["0 of 11", "CI low %"] == 0.0
    assert table.loc["0 of 11", "CI high %"] == pytest.approx(
        100 * (1 - 0.025 ** (1 / 11)), rel=1e-9
    )  # 28.49
    assert table.loc["6 of 7", "CI high %"] == pytest.approx(100 * 0.975 ** (1 / 7), rel=1e-9)  # 99.64
    p = table.loc["6 of 7", "CI low %"] / 100
    assert 7 * p**6 * (1 - p) + p**7 == pytest.approx(0.025, rel=1e-8)
    assert p == pytest.approx(0.4213, abs=1e-4)  # published: 6/7 = 85.7% (42.1-99.6)
    # at 90%, the bound of 11/11 is 0.05^(1/11)
    ninety = rt.response_by_group(courses, level=0.90).set_index("group")
    assert ninety.loc["11 of 11", "CI low %"] == pytest.approx(100 * 0.05 ** (1 / 11), rel=1e-9)


def test_cohort_helpers_reject_bad_input():
    with pytest.raises(
        InputError, match="table 'patients', column 'progression_day': required column is missing"
    ):
        rt.rt_courses(_radiotherapy(), _patients().drop(columns=["progression_day"]))
    stranger = _radiotherapy().assign(patient_id=["P1", "P9", "P1", "P1", "P2", "P4"])
    with pytest.raises(
        InputError, match="column 'patient_id': the patient must be in the patient table"
    ) as caught:
        rt.rt_courses(stranger, _patients())
    assert "[1 row" in str(caught.value) and re.search(r"\n\s+1\s+40\.0\s+P9", str(caught.value))
    with pytest.raises(InputError, match="column 'start_day': must be a number") as caught:
        rt.rt_courses(_radiotherapy().assign(start_day=np.nan), _patients())
    assert "[6 rows" in str(caught.value)
    with pytest.raises(InputError, match="strictly increasing"):
        rt.rt_courses(_radiotherapy(), _patients(), eqd2_edges_gy=(50.0, 20.0))
    courses = rt.rt_courses(_radiotherapy(), _patients())
    with pytest.raises(InputError, match="column 'in_field_response': must be one of CR, PR, SD, PD, NE"):
        rt.response_by_group(courses.assign(in_field_response="good"))
    data = rt.post_progression_table(_patients(), courses)
    with pytest.raises(InputError, match="landmark_days"):
        rt.rt_survival_analysis(data, landmark_days=0)


# ------------------------------------------------------------------ recovery of planted truths


@pytest.fixture(scope="module")
def default_analysis(default_cohort):
    patients = derive.patient_table(default_cohort)
    courses = rt.rt_courses(default_cohort.radiotherapy, patients, alpha_beta=10.0)
    data = rt.post_progression_table(patients, courses)
    return courses, data, rt.rt_survival_analysis(data)


@pytest.mark.slow
def test_adjusted_time_varying_hr_covers_the_planted_rt_effect(default_analysis, default_truth):
    planted = default_truth["rt"]["hr"]
    assert planted == pytest.approx(0.75)
    # the simulation's model: Weibull PH stratified by cancer type with class, age, sex, line,
    # log2 TMB, ECOG and RT(t); ECOG is the confounder of who gets RT
    assert "stratified by cancer type" in default_truth["pps_hr"]["model"]
    assert default_truth["rt"]["confounder"] == "ecog"
    _, data, result = default_analysis
    est = result.estimates.set_index("model")
    primary = est.loc["time-varying, adjusted (primary)"]
    assert primary["ci_low"] <= planted <= primary["ci_high"]
    assert primary["n_patients"] == len(data) and primary["n_exposed"] == data["ever_rt"].sum()
    # the naive baseline comparison flatters RT beyond the truth (immortal time + selection)
    naive = est.loc["naive: RT ever vs never"]
    assert naive["hr"] < planted and naive["ci_high"] < planted
    # each correction moves the estimate towards the truth from the favourable side
    assert est.loc["RT ever vs never, adjusted", "hr"] > naive["hr"]  # ECOG: confounding
    assert est.loc["time-varying, unadjusted", "hr"] > naive["hr"]  # immortal time removed
    assert est.loc["time-varying, unadjusted", "hr"] < primary["hr"]  # ECOG: confounding
    # the confounder and the class recover their planted hazard ratios in the same model
    terms = result.primary.set_index("term")
    ecog = terms.loc[rt.COVARIATE_LABELS["ecog"]]
    assert ecog["ci_low"] <= default_truth["pps_hr"]["covariate_hr"]["ecog_per_point"] <= ecog["ci_high"]
    acquired = terms.loc[rt.COVARIATE_LABELS["acquired"]]
    assert acquired["ci_low"] <= default_truth["pps_hr"]["pooled"] <= acquired["ci_high"]
    # the landmark check and the TMB sensitivity analysis cover the truth as well
    for model in ("landmark 3 months: RT by then vs not", "time-varying, adjusted + TMB"):
        assert est.loc[model, "ci_low"] <= planted <= est.loc[model, "ci_high"], model


@pytest.mark.slow
def test_in_field_dose_response_recovers_the_planted_slope(default_analysis, default_truth):
    courses, _, _ = default_analysis
    # truth: "P(CR or PR) = expit(-1.6 + 0.035 EQD2) with alpha/beta 10"
    match = re.search(r"expit\(([-\d.]+) \+ ([\d.]+) EQD2\)", default_truth["rt"]["in_field_response"])
    intercept, slope = float(match.group(1)), float(match.group(2))
    fit = rt.response_dose_slope(courses, "in_field_response")
    assert fit["ci_low"] <= slope <= fit["ci_high"]
    assert fit["n"] > 500
    assert fit["intercept"] == pytest.approx(intercept, abs=0.4)
    # only courses after progression count; RT before ICB is never the exposure
    post = courses[courses["timing"] == "after progression"]
    assert (post["days_from_progression"] >= 0).all()
    assert default_truth["rt"]["n_progressors_with_rt"] == int(post["patient_id"].nunique())


# ------------------------------------------------------------------ the chapter's result and figures


@pytest.fixture(scope="module")
def small_result(small_cohort, small_cohort_path):
    return rt.cohort_analysis(small_cohort, cohort_path=small_cohort_path)


def test_cohort_result_landmark_set_keeps_those_alive_at_the_landmark(small_result, small_truth):
    assert small_result.available and small_result.survival.available
    landmark_days = 3 * DAYS_PER_MONTH
    assert small_result.landmark_days == landmark_days
    pps, marked = small_result.post_progression, small_result.landmark_set
    # alive and followed beyond the landmark, clock restarted there, grouped by RT at or before it
    alive = pps[pps["pps_days"] > landmark_days]
    assert list(marked["patient_id"]) == list(alive["patient_id"]) and 0 < len(marked) < len(pps)
    np.testing.assert_array_equal(marked["pps_days"], alive["pps_days"] - landmark_days)
    np.testing.assert_array_equal(marked["rt_by_landmark"], (alive["rt_day"] <= landmark_days).astype(int))
    # RT after the landmark, or never, is "no RT by the landmark"; RT by then is always ever_rt
    later = alive["rt_day"].isna() | (alive["rt_day"] > landmark_days)
    assert (marked.loc[later.to_numpy(), "rt_by_landmark"] == 0).all()
    assert (alive.loc[(marked["rt_by_landmark"] == 1).to_numpy(), "ever_rt"] == 1).all()
    attrition = marked.attrs["landmark"]
    assert (attrition["n_input"], attrition["n_kept"]) == (len(pps), len(marked))
    # the adjusted landmark model uses the complete cases of the same set
    landmark_row = small_result.survival.estimates.set_index("model").loc[
        "landmark 3 months: RT by then vs not"
    ]
    assert landmark_row["n_patients"] <= len(marked)
    assert small_result.planted_hr == small_truth["rt"]["hr"]
    # the tables of the result add up
    courses = small_result.courses
    assert small_result.timing["courses"].sum() == len(courses)
    post = courses[courses["timing"] == rt.RT_TIMINGS[2]]
    assert small_result.modality_by_eqd2_group.to_numpy().sum() == len(post)
    assert small_result.modalities.loc["all", "courses"] == len(post)
    by_dose = small_result.response_by_eqd2_group
    assert (by_dose["evaluable"] == by_dose[["CR", "PR", "SD", "PD"]].sum(axis=1)).all()
    assert list(small_result.dose_slopes.index) == ["in-field", "out-of-field"]


def test_cohort_without_rt_after_progression_says_what_is_missing(small_cohort):
    tables = {name: table for name, table in small_cohort.tables.items() if name != "radiotherapy"}
    restricted = {**small_cohort.meta, "access": "restricted"}
    no_table = rt.cohort_analysis(Cohort(tables=tables, meta=restricted), min_cell_count=11)
    assert no_table.missing == rt.NO_RT_TABLE and not no_table.available
    assert no_table.survival.missing == rt.NO_RT_TABLE and no_table.courses.empty
    assert no_table.min_count == 11  # restricted: small counts are suppressed
    before_icb = small_cohort.radiotherapy.assign(start_day=-100.0)
    none_after = rt.cohort_analysis(
        Cohort(tables={**tables, "radiotherapy": before_icb}, meta=small_cohort.meta)
    )
    assert none_after.missing == rt.NO_RT_AFTER_PROGRESSION and not none_after.survival.available
    assert (none_after.courses["timing"] == rt.RT_TIMINGS[0]).all() and none_after.min_count is None


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.texts] + [t.get_text() for ax in fig.axes for t in ax.texts]


def test_figures_return_the_figure_and_add_no_simulated_mark(small_result):
    literature = rt.literature_analysis()
    figures = [
        rt_plots.literature_forest(literature.responses, literature.pooled),
        rt_plots.eqd2_by_modality(small_result.courses, rt.EQD2_GROUP_EDGES_GY),
        rt_plots.response_bars(small_result.response_by_eqd2_group, xlabel="EQD2 group"),
        rt_plots.rt_estimates_forest(small_result.survival.estimates, small_result.planted_hr),
        rt_plots.km_naive_and_landmark(small_result),
    ]
    try:
        for fig in figures:
            assert isinstance(fig, Figure)
            assert not any("simulated" in text for text in _texts(fig))  # book.figures.show adds it
        assert [ax.get_title() for ax in figures[-1].axes] == ["Naive: RT ever vs never (BIASED)", "Landmark"]
        # given an axes, a figure function draws there and returns that axes' figure
        fig, ax = plt.subplots()
        assert rt_plots.response_bars(small_result.response_by_modality, ax=ax) is fig
        assert [t.get_text() for t in ax.get_xticklabels()] == list(
            dict.fromkeys(small_result.response_by_modality["group"])
        )
        figures.append(fig)
        with pytest.raises(InputError, match="no model was fitted"):
            rt_plots.rt_estimates_forest(small_result.survival.estimates.assign(hr=np.nan))
    finally:
        for fig in figures:
            plt.close(fig)


# ------------------------------------------------------------------ sensitivity analyses


def _sensitivity_frame() -> pd.DataFrame:
    """Twelve progressed patients of one cancer type: RT on day 10 after progression for six;
    P2 dies on day 20, inside a 1-month lag; P6 gets RT on day 200, after death (no exposure);
    P7-P9 had RT before the index ICB course."""
    data = pd.DataFrame(
        {
            "patient_id": [f"P{i}" for i in range(1, 13)],
            "cancer_type": "NSCLC",
            "progression_day": 100.0,
            "pps_days": [300.0, 20.0, 150.0, 400.0, 90.0, 60.0, 80.0, 250.0, 30.0, 120.0, 45.0, 500.0],
            "event": [1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0],
            "rt_day": [10.0, 10.0, 10.0, 10.0, 10.0, 200.0, np.nan, 10.0, np.nan, np.nan, np.nan, np.nan],
            "prior_rt": [0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0],
            "ecog": [0, 1, 1, 0, 2, 1, 1, 0, 2, 1, 2, 0],
        }
    )
    data["ever_rt"] = (data["rt_day"] < data["pps_days"]).astype(float)
    return data


def test_lagged_exposure_excludes_no_patient_and_counts_deaths_in_the_lag_as_unexposed():
    data = _sensitivity_frame()
    result = rt.rt_sensitivity_analysis(data, adjust_for=("ecog",), strata=None, min_exposed_events=1)
    assert result.available and result.lag_days == pytest.approx(DAYS_PER_MONTH)
    est = result.estimates.set_index("analysis")
    assert list(est.index) == list(rt.SENSITIVITY_ANALYSES)
    # every model keeps all 12 patients: no course is dropped for its outcome
    assert (est["n_patients"] == 12).all()
    # RT(t): P1-P5 and P8 exposed (P6's RT starts after death); 5 of them die while exposed
    assert (est.loc["primary", "n_exposed"], est.loc["primary", "n_exposed_events"]) == (6, 5)
    # lagged by 30.4 days: P2 (dead on day 20) never reaches exposure; 4 exposed deaths remain
    assert (est.loc["lagged", "n_exposed"], est.loc["lagged", "n_exposed_events"]) == (5, 4)
    # the early window holds the death of P2 only
    assert (
        est.loc["early_window", "n_exposed_events"] == 1 and est.loc["after_window", "n_exposed_events"] == 4
    )
    # the primary is the chapter's primary model (same data, same covariates)
    long = survival.to_counting_process(
        data[["patient_id", "pps_days", "event", "rt_day", "ecog"]],
        "patient_id",
        "pps_days",
        "event",
        "rt_day",
        exposure_col="rt",
    )
    direct = survival.hazard_ratio_table(
        survival.cox_time_varying(long, "patient_id", "start", "stop", "event")
    )
    assert est.loc["primary", "hr"] == pytest.approx(direct.set_index("covariate").loc["rt", "hr"], rel=1e-9)
    # the negative-control exposure: 3 patients, 3 deaths (fewer than 5): not estimated
    assert est.loc["prior_rt", "n_exposed"] == 3 and np.isnan(est.loc["prior_rt", "hr"])
    assert any("RT before the index" in note and "not estimated" in note for note in result.notes)
    # no performance_status table: no time-updated model, and its rule is not evaluated
    assert np.isnan(est.loc["time_updated_ps", "hr"])
    assert result.rules.loc["time_updated_ps", "fires"] is None
    assert result.rules.loc["prior_rt", "fires"] is None
    # a lag of 0 fits no window; the lagged model is then the primary
    no_lag = rt.rt_sensitivity_analysis(
        data, adjust_for=("ecog",), strata=None, rt_lag_months=0, min_exposed_events=1
    )
    by_key = no_lag.estimates.set_index("analysis")
    assert "early_window" not in by_key.index and by_key.loc["lagged", "hr"] == pytest.approx(
        by_key.loc["primary", "hr"]
    )
    assert no_lag.rules.loc["early_window", "fires"] is None
    with pytest.raises(ParameterError, match="rt_lag_months"):
        rt.rt_sensitivity_analysis(data, rt_lag_months=-1)


def test_performance_status_on_the_post_progression_clock():
    data = _sensitivity_frame().head(3)
    ps = pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P2", "P9"],
            "day": [0.0, 100.0, 160.0, 50.0],
            "ecog": [2.0, 3.0, 4.0, 1.0],
        }
    )
    changes = rt.performance_status_changes(ps, data)
    # baseline ECOG (day 0 = 100 days before progression) first; the table's day-0 value wins a tie;
    # P9 is not in the analysis
    assert changes.to_dict("list") == {
        "patient_id": ["P1", "P1", "P1", "P2", "P2", "P3"],
        "time": [-100.0, -100.0, 0.0, -100.0, 60.0, -100.0],
        "ecog_now": [0.0, 2.0, 3.0, 1.0, 4.0, 1.0],
    }


def _confounded_at_progression(n: int = 1200, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Null RT confounded by a decline at progression, in a model the simulator does not use.

    Log-normal survival after progression (not proportional hazards) shortened by ECOG at
    progression, which is baseline ECOG + 2 for the 35% who decline; RT (no effect) is less
    likely the worse ECOG at progression is; ECOG is recorded at day 0 and at progression.
    """
    rng = np.random.default_rng(seed)
    ecog0 = rng.choice([0.0, 1.0, 2.0], n, p=[0.35, 0.45, 0.2])
    ecog_progression = np.minimum(ecog0 + 2 * (rng.random(n) < 0.35), 4)
    progression = rng.uniform(60, 400, n)
    death = np.exp(rng.normal(np.log(200) - 0.45 * ecog_progression, 0.9))
    censor = rng.uniform(100, 900, n)
    given = rng.random(n) < 1 / (1 + np.exp(-(0.5 - 1.2 * ecog_progression)))
    rt_day = np.where(given, 5 + rng.gamma(2.0, 15.0, n), np.nan)
    ids = [f"P{i}" for i in range(n)]
    data = pd.DataFrame(
        {
            "patient_id": ids,
            "cancer_type": "NSCLC",
            "progression_day": progression,
            "pps_days": np.minimum(death, censor),
            "event": (death <= censor).astype(int),
            "rt_day": rt_day,
            "prior_rt": (rng.random(n) < 0.15).astype(float),
            "ecog": ecog0,
        }
    )
    data["ever_rt"] = (data["rt_day"] < data["pps_days"]).astype(float)
    ps = pd.DataFrame(
        {
            "patient_id": ids * 2,
            "day": np.r_[np.zeros(n), progression],
            "ecog": np.r_[ecog0, ecog_progression],
        }
    )
    return data, ps


def test_time_updated_ecog_removes_confounding_at_progression_that_baseline_ecog_leaves():
    data, ps = _confounded_at_progression()
    result = rt.rt_sensitivity_analysis(data, ps, adjust_for=("ecog",), strata=None)
    est = result.estimates.set_index("analysis")
    primary, updated = est.loc["primary"], est.loc["time_updated_ps"]
    assert primary["ci_high"] < 1  # baseline ECOG leaves RT looking protective
    assert updated["ci_low"] <= 1 <= updated["ci_high"]  # time-updated ECOG: no effect, as planted
    rules = result.rules
    assert rules.loc["time_updated_ps", "fires"] is True
    assert rules.loc["time_updated_ps", "value"] == pytest.approx(
        shift_towards_null(primary["hr"], updated["hr"]), rel=1e-12
    )
    # the rules read their values from the estimates and E-values, with the named thresholds
    ev = result.evalues.set_index("model").iloc[0]
    assert rules.loc["evalue", "value"] == ev["evalue_limit"] and rules.loc["evalue", "threshold"] == 1.5
    assert rules.loc["evalue", "fires"] is bool(ev["evalue_limit"] < rt.EVALUE_LIMIT_WARNING)
    expected = evalue_hr(primary["hr"], primary["ci_low"], primary["ci_high"], rare=False)
    assert ev["evalue"] == pytest.approx(expected.evalue) and not result.rare  # most patients die
    lag_shift = shift_towards_null(primary["hr"], est.loc["lagged", "hr"])
    assert rules.loc["lag", "value"] == pytest.approx(lag_shift)
    assert rules.loc["lag", "fires"] is bool(lag_shift > rt.LAG_SHIFT_WARNING)
    window = est.loc["early_window"]
    assert rules.loc["early_window", "fires"] is bool(window["ci_low"] > 1 or window["ci_high"] < 1)
    assert set(result.fired) <= set(rt.RULES) and "time_updated_ps" in result.fired
    text = rt_text.sensitivity_statement(result)
    assert "WARNING — time-updated ECOG" in text and "should not be read as an effect of RT" in text


# ------------------------------------------------------------------ the rt_confounded scenarios

#: The smallest cohort at which the baseline-adjusted estimate of rt_confounded excludes 1.
CONFOUNDED_N = 2000


@pytest.fixture(scope="session")
def confounded_results():
    """rt_confounded and rt_confounded_ps, simulated and analysed once per test session."""
    results = {}
    for scenario in ("rt_confounded", "rt_confounded_ps"):
        cohort, truth = simulate_cohort(n_patients=CONFOUNDED_N, seed=0, scenario=scenario)
        results[scenario] = (rt.cohort_analysis(cohort), truth, cohort)
    return results


def test_rt_confounded_baseline_adjustment_is_biased_and_a_rule_fires(confounded_results):
    """RT has no effect (planted HR 1) but is given by a decline at progression that also
    shortens survival: the baseline-adjusted estimate is biased away from 1 (its interval
    excludes 1, towards benefit) and at least one sensitivity rule fires. Fails on the code
    before issue 11 (no scenario, no sensitivity analyses)."""
    result, truth, cohort = confounded_results["rt_confounded"]
    assert truth["rt"]["hr"] == 1.0 and truth["rt"]["confounder_recorded"] is None
    assert not cohort.has("performance_status")
    estimates = result.sensitivity.estimates.set_index("analysis")
    assert estimates.loc["primary", "ci_high"] < 1.0
    rules = result.sensitivity.rules
    assert rules["fires"].eq(True).any(), rules
    # without a performance_status table the time-updated rule is not evaluated, never "passes"
    assert rules.loc["time_updated_ps", "fires"] is None or pd.isna(rules.loc["time_updated_ps", "fires"])


def test_rt_confounded_ps_time_updated_model_covers_the_null(confounded_results):
    """The same cohort with the decline recorded in ``performance_status``: the model with
    time-updated ECOG covers the planted HR 1 and its rule fires."""
    result, truth, cohort = confounded_results["rt_confounded_ps"]
    assert truth["rt"]["confounder_recorded"] == "performance_status"
    assert cohort.has("performance_status")
    estimates = result.sensitivity.estimates.set_index("analysis")
    row = estimates.loc["time_updated_ps"]
    assert row["ci_low"] <= truth["rt"]["hr"] <= row["ci_high"]
    assert estimates.loc["primary", "ci_high"] < 1.0
    assert bool(result.sensitivity.rules.loc["time_updated_ps", "fires"])
