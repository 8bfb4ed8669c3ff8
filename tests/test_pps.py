"""Chapter 3 (survival after progression): recovery of the planted truth and the mechanics.

The recovery tests use the default simulated cohort (5,000 patients, seed 0), whose planted
acquired-vs-primary hazard ratio and its model are in ``truth.json``; the rest use the small
cohort or hand-made tables whose answers can be worked out by hand.
"""

from __future__ import annotations

import dataclasses
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from lifelines.statistics import proportional_hazard_test  # noqa: E402

from helpers.analysis import derive, pps  # noqa: E402
from helpers.book.sentences import pps as pps_text  # noqa: E402
from helpers.data.cohort import Cohort  # noqa: E402
from helpers.errors import InputError  # noqa: E402
from helpers.plots import pps as pps_plots  # noqa: E402
from helpers.stats import survival as sv  # noqa: E402
from helpers.units import DAYS_PER_MONTH  # noqa: E402

BENEFIT_MONTHS = 6.0


@pytest.fixture(scope="module")
def default_patients(default_cohort) -> pd.DataFrame:
    return derive.patient_table(default_cohort, BENEFIT_MONTHS, 6.0)


@pytest.fixture(scope="module")
def default_pps(default_patients, default_cohort) -> pd.DataFrame:
    return pps.pps_analysis_set(default_patients, default_cohort.radiotherapy)


@pytest.fixture(scope="module")
def small_patients(small_cohort) -> pd.DataFrame:
    return derive.patient_table(small_cohort, BENEFIT_MONTHS, 6.0)


@pytest.fixture(scope="module")
def small_result(small_cohort, small_cohort_path) -> pps.PPSResult:
    return pps.survival_after_progression(
        small_cohort, BENEFIT_MONTHS, 6.0, 10, cohort_path=small_cohort_path
    )


# ------------------------------------------------------------------------------------------
# recovery of the planted truth (default cohort)
# ------------------------------------------------------------------------------------------


def test_truth_model_is_the_one_the_chapter_fits(default_truth):
    model = default_truth["pps_hr"]["model"]
    for term in ("stratified by cancer type", "age", "sex", "line", "log2 TMB", "ECOG"):
        assert term in model
    assert 0 < default_truth["pps_hr"]["pooled"] < 1


def test_pooled_hazard_ratio_ci_covers_the_planted_value(default_pps, default_truth):
    fit = pps.pooled_pps_cox(default_pps)
    assert fit.strata == "cancer_type"
    assert fit.covariates == ["age_per_10y", "male", "line", "log2_tmb", "ecog"]
    assert fit.dropped == {}
    hr = fit.exposure_hr()
    planted = default_truth["pps_hr"]["pooled"]
    assert hr["ci_low"] <= planted <= hr["ci_high"], hr
    assert hr["ci_high"] < 1.0  # and it is clearly protective
    # complete case: exactly the patients without a baseline TMB are left out
    no_tmb = int(default_pps["log2_tmb"].isna().sum())
    assert no_tmb > 500  # a quarter of the simulated patients have no pre-treatment DNA
    assert fit.missing_by_covariate == {"age_per_10y": 0, "male": 0, "line": 0, "log2_tmb": no_tmb, "ecog": 0}
    assert fit.n_used == len(default_pps) - no_tmb
    assert fit.events == int(default_pps.dropna(subset=["log2_tmb"])["pps_event"].sum())
    # the planted covariate effects are recovered too (same model as the simulation); with
    # four secondary checks, each at the 99.9% level so that the family does not fail by chance
    table = fit.hazard_ratios().set_index("covariate")
    planted_cov = default_truth["pps_hr"]["covariate_hr"]
    for ours, theirs in [
        ("age_per_10y", "age_per_10y"),
        ("male", "male"),
        ("line", "line_per_step"),
        ("ecog", "ecog_per_point"),
    ]:
        row = table.loc[ours]
        se = (math.log(row["ci_high"]) - math.log(row["ci_low"])) / (2 * 1.959964)
        assert abs(math.log(row["hr"]) - math.log(planted_cov[theirs])) < 3.29 * se, ours


def test_every_cancer_type_points_the_planted_way(default_pps, default_truth):
    per_type = pps.per_cancer_type_pps(default_pps, min_events_per_group=10)
    planted = default_truth["pps_hr"]["per_cancer_type"]
    assert sorted(per_type["cancer_type"]) == sorted(planted)
    assert (per_type["status"] == "estimated").all(), per_type[["cancer_type", "status"]]
    for row in per_type.itertuples():
        assert np.sign(np.log(row.hr)) == np.sign(np.log(planted[row.cancer_type])), row
    # TNBC is all women in the simulation: sex cannot be adjusted for there
    tnbc = per_type.set_index("cancer_type").loc["TNBC"]
    assert tnbc["covariates_dropped"] == "male (no variation in the analysis set)"


def test_radiotherapy_as_time_varying_term_keeps_the_estimate(default_pps, default_truth):
    table = pps.sensitivity_table(default_pps).set_index("model")
    rt_row = table.loc["primary + radiotherapy after progression (time-varying)"]
    assert rt_row["ci_low"] <= default_truth["pps_hr"]["pooled"] <= rt_row["ci_high"]
    # RT is not given by class in the simulation, so adding it barely moves the class HR
    primary = table.iloc[0]
    assert abs(math.log(rt_row["hr"]) - math.log(primary["hr"])) < 0.02
    without_tmb = table.loc["without TMB (keeps patients without a DNA sample)"]
    assert without_tmb["patients"] == len(default_pps)


def test_naive_comparisons_carry_immortal_time(default_patients):
    naive = pps.naive_class_os_set(default_patients)
    early = naive["os_months"] <= BENEFIT_MONTHS
    early_deaths = naive[early & (naive["os_event"] == 1)].groupby("resistance_class").size()
    # nobody called "acquired" can die inside the benefit window; many primary patients do
    assert early_deaths.get("acquired", 0) == 0
    assert early_deaths["primary"] > 500

    table = pps.immortal_time_table(default_patients, BENEFIT_MONTHS).set_index("analysis")
    landmark = table.loc["landmark"]
    same_groups = table.loc["naive, landmark groups"]
    assert not landmark["biased"] and same_groups["biased"]
    # the landmark's own grouping analysed from ICB start exaggerates the benefit
    assert same_groups["ci_high"] < landmark["ci_low"]
    # both naive OS comparisons suggest far more benefit than the unbiased comparison of the
    # two classes from progression (the planted truth is in truth.json)
    final = table.loc["naive, final classes"]
    assert final["ci_high"] < 0.35 and same_groups["ci_high"] < 0.35
    # the check: the naive comparison of the final classes from ICB start shows a
    # larger apparent benefit than the landmark comparison, as immortal time predicts
    assert final["hr"] < landmark["hr"]


# ------------------------------------------------------------------------------------------
# mechanics on hand-made tables
# ------------------------------------------------------------------------------------------


def _toy_patients() -> pd.DataFrame:
    landmark = BENEFIT_MONTHS * DAYS_PER_MONTH  # 182.625 days
    rows = [
        # progressed before the landmark, died after it
        dict(
            cancer_type="A", os_days=300.0, os_event=True, progression_day=100.0, resistance_class="primary"
        ),
        # progressed after the landmark, alive
        dict(
            cancer_type="A", os_days=400.0, os_event=False, progression_day=250.0, resistance_class="acquired"
        ),
        # died before the landmark without progression
        dict(
            cancer_type="A",
            os_days=150.0,
            os_event=True,
            progression_day=np.nan,
            resistance_class="not_evaluable",
        ),
        # censored before the landmark without progression
        dict(
            cancer_type="A",
            os_days=100.0,
            os_event=False,
            progression_day=np.nan,
            resistance_class="not_evaluable",
        ),
        # progressed on the landmark day: known at the landmark
        dict(
            cancer_type="A",
            os_days=500.0,
            os_event=True,
            progression_day=landmark,
            resistance_class="acquired",
        ),
        # never progressed, alive long after the landmark
        dict(
            cancer_type="A",
            os_days=700.0,
            os_event=False,
            progression_day=np.nan,
            resistance_class="ongoing_benefit",
        ),
    ]
    return pd.DataFrame(rows)


def test_landmark_set_uses_only_what_is_known_at_the_landmark():
    toy = _toy_patients()
    lm = pps.landmark_os_set(toy, BENEFIT_MONTHS)
    landmark = BENEFIT_MONTHS * DAYS_PER_MONTH
    assert len(lm) == 4  # rows 0, 1, 4, 5; the early death and the early censoring are out
    np.testing.assert_allclose(lm["os_months"], (np.array([300, 400, 500, 700]) - landmark) / DAYS_PER_MONTH)
    # the acquired patient of row 1 progressed only later: at the landmark it had not
    assert lm["no_progression_by_landmark"].tolist() == [0, 1, 0, 1]
    assert lm["os_event"].tolist() == [1, 0, 1, 0]
    info = lm.attrs["landmark"]
    assert (info["n_input"], info["n_kept"], info["n_excluded_events_by_landmark"]) == (6, 4, 1)
    assert pps_text.landmark_sentence(lm) == (
        "Of 6 patients, 1 died and 1 left follow-up by the landmark at 6 months; 4 were alive "
        "and under follow-up then: 2 had progressed and 2 had not."
    )


def test_naive_sets_start_at_icb_and_keep_early_deaths():
    toy = _toy_patients()
    final = pps.naive_class_os_set(toy)
    assert final["resistance_class"].tolist() == ["primary", "acquired", "acquired"]
    np.testing.assert_allclose(final["os_months"], np.array([300, 400, 500]) / DAYS_PER_MONTH)
    response = pps.naive_response_os_set(toy, BENEFIT_MONTHS)
    # the censored-before-landmark patient cannot be placed; the early death counts against
    # the comparison group, which is what makes this analysis biased
    assert len(response) == 5
    assert response["progression_free_at_landmark"].tolist() == [0, 1, 0, 0, 1]
    np.testing.assert_allclose(response["os_months"], np.array([300, 400, 150, 500, 700]) / DAYS_PER_MONTH)


def test_pps_set_time_origin_is_the_progression_day(small_patients):
    s = pps.pps_analysis_set(small_patients)
    rows = small_patients[
        small_patients["resistance_class"].isin(["acquired", "primary"])
        & small_patients["progression_day"].notna()
    ]
    assert len(s) == len(rows)
    expected = (rows["last_followup_day"] - rows["progression_day"]).to_numpy() / DAYS_PER_MONTH
    np.testing.assert_allclose(s["pps_months"].to_numpy(), expected)
    assert s["pps_event"].tolist() == rows["death"].astype(int).tolist()
    assert s["acquired"].tolist() == (rows["resistance_class"] == "acquired").astype(int).tolist()
    assert "patient_id" not in s.columns  # no identifiers leave the module
    att = pps.attrition_table(small_patients).set_index("step")["patients"]
    assert att.iloc[0] == len(small_patients)
    assert att.iloc[-1] == len(s)


def test_progression_on_the_day_of_death_is_not_a_progression(small_patients):
    pt = small_patients.copy()
    progressed = pt.index[
        pt["resistance_class"].isin(["acquired", "primary"]) & pt["progression_day"].notna()
    ]
    # a source whose PFS event counts death: two "progressions" are really deaths
    for i in progressed[:2]:
        pt.loc[i, "progression_day"] = pt.loc[i, "last_followup_day"]
        pt.loc[i, "pps_days"] = 0.0
        pt.loc[i, "pps_event"] = True
    assert len(pps.pps_analysis_set(pt)) == len(progressed) - 2
    steps = pps.attrition_table(pt)["patients"].tolist()
    assert steps[-2] - steps[-1] == 2


def test_covariates_a_cohort_lacks_are_dropped_not_fatal(small_patients):
    lacking = small_patients.drop(columns=["ecog", "line"]).assign(tmb=np.nan)
    s = pps.pps_analysis_set(lacking)
    fit = pps.pooled_pps_cox(s)
    assert fit.covariates == ["age_per_10y", "male"]
    assert fit.dropped == {
        "line": "not recorded in this cohort",
        "log2_tmb": "not recorded in this cohort",
        "ecog": "not recorded in this cohort",
    }
    assert fit.n_used == len(s)  # nothing lost to complete cases
    sentence = pps_text.covariate_sentence(fit)
    assert "Not recorded in this cohort, so left out: line of therapy" in sentence
    assert f"All {len(s)} patients" in sentence
    # the same model fitted directly with only those covariates gives the same numbers
    direct = sv.cox(
        s[["pps_months", "pps_event", "cancer_type", "acquired", "age_per_10y", "male"]],
        "pps_months",
        "pps_event",
        strata="cancer_type",
    )
    assert fit.exposure_hr()["hr"] == pytest.approx(float(np.exp(direct.params_["acquired"])), rel=1e-12)
    # and the rest of the chapter runs too
    assert len(pps.per_cancer_type_pps(s)) == s["cancer_type"].nunique()
    table = pps.immortal_time_table(lacking, BENEFIT_MONTHS)
    assert table["hr"].between(0, 1).all()


def test_restricted_counts_are_suppressed_in_sentences(small_patients):
    fit = pps.pooled_pps_cox(pps.pps_analysis_set(small_patients))
    text = pps_text.covariate_sentence(fit, count=lambda n: "<11" if 0 < n < 11 else str(n))
    lost = fit.n_input - fit.n_used
    assert f"Complete-case analysis: {lost} of {fit.n_input} patients" in text


def test_sparse_cancer_types_are_skipped_with_counts(small_patients):
    s = pps.pps_analysis_set(small_patients)
    per_type = pps.per_cancer_type_pps(s, min_events_per_group=10).set_index("cancer_type")
    complete = s.dropna(subset=list(pps.COVARIATES))
    deaths = complete.groupby(["cancer_type", "acquired"])["pps_event"].sum().unstack(fill_value=0)
    for cancer_type, row in per_type.iterrows():
        assert row["deaths_acquired"] == deaths.loc[cancer_type, 1]
        assert row["deaths_primary"] == deaths.loc[cancer_type, 0]
        enough = min(deaths.loc[cancer_type, 1], deaths.loc[cancer_type, 0]) >= 10
        assert (row["status"] == "estimated") == enough
        assert np.isfinite(row["hr"]) == enough
    assert (per_type["status"] != "estimated").any()  # 800 patients: some types are too small
    sentence = pps_text.skipped_sentence(per_type.reset_index())
    assert sentence.startswith("Not estimated (fewer than 10 deaths in a group: ")
    forest = pps.forest_table(pps.pooled_pps_cox(s), per_type.reset_index())
    assert len(forest) == int((per_type["status"] == "estimated").sum()) + 1
    assert forest["label"].iloc[-1].startswith("Pooled")


def test_km_summary_and_logrank_agree_with_the_survival_module(small_patients):
    s = pps.pps_analysis_set(small_patients)
    curves = pps.km_curves(s, "pps_months", "pps_event", "resistance_class", pps.CLASS_ORDER)
    assert list(curves) == ["acquired", "primary"]
    summary = pps.km_summary(curves)
    for label, fitter in curves.items():
        sub = s[s["resistance_class"] == label]
        assert summary.loc[label, "patients"] == len(sub)
        assert summary.loc[label, "deaths"] == sub["pps_event"].sum()
        assert summary.loc[label, "median_months"] == sv.km_median(fitter)
        assert summary.loc[label, "median_ci_low"] <= summary.loc[label, "median_months"]
    lr = pps.logrank_table(s).iloc[0]
    direct = sv.logrank(s["pps_months"], s["pps_event"], s["acquired"])
    assert lr["chi2"] == pytest.approx(direct.test_statistic, rel=1e-12)


def test_ph_table_and_sentence(small_patients):
    fit = pps.pooled_pps_cox(pps.pps_analysis_set(small_patients))
    table = pps.ph_table(fit)
    assert table["covariate"].tolist() == ["acquired", *fit.covariates]
    assert table["term"].iloc[0] == "acquired vs primary resistance"
    # each row is lifelines' Schoenfeld test of that term on the fitted data, with time
    # transformed to the rank of the event times (lifelines' own "rank" is the row order, which
    # a stratified model sorts by stratum first; see helpers.stats.survival)
    direct = proportional_hazard_test(
        fit.model, fit.data, time_transform=lambda t, c, w: t.where(c.astype(bool)).rank(method="first")
    ).summary
    for row in table.itertuples():
        assert row.p == pytest.approx(float(direct.loc[row.covariate, "p"]), rel=1e-12)
        assert row.statistic == pytest.approx(float(direct.loc[row.covariate, "test_statistic"]), rel=1e-12)
    fake = table.assign(p=[0.01] + [0.5] * (len(table) - 1))
    assert "changes over time" in pps_text.ph_sentence(fake)
    assert "terms with p < 0.05: acquired vs primary resistance." in pps_text.ph_sentence(fake)
    calm = table.assign(p=0.5)
    assert pps_text.ph_sentence(calm) == (
        "For the class term the test gives p = 0.5: no evidence that its hazard ratio changes over time "
        "after progression; no term has p < 0.05."
    )


def test_unavailable_reason_explains_missing_progression_and_deaths(small_patients):
    assert pps.unavailable_reason(small_patients) is None
    no_progression = small_patients.assign(progression_day=np.nan, pps_days=np.nan, pps_event=np.nan)
    assert "records no progression days" in pps.unavailable_reason(no_progression)
    no_deaths = small_patients.assign(
        pps_event=small_patients["pps_event"].where(small_patients["pps_event"].isna(), False)
    )
    assert "no deaths after progression" in pps.unavailable_reason(no_deaths)
    only_primary = small_patients.assign(
        resistance_class=small_patients["resistance_class"].replace("acquired", "ongoing_benefit")
    )
    assert "No patient with acquired resistance" in pps.unavailable_reason(only_primary)


def test_bad_input_raises_clear_errors(small_patients):
    with pytest.raises(InputError, match=r"column 'pps_days': required column is missing") as error:
        pps.pps_analysis_set(small_patients.drop(columns=["pps_days"]))
    (violation,) = error.value.violations
    assert violation.table == "patients (helpers.analysis.derive.patient_table)"
    s = pps.pps_analysis_set(small_patients)
    with pytest.raises(InputError, match="min_events_per_group must be >= 1"):
        pps.per_cancer_type_pps(s, min_events_per_group=0)
    negative = small_patients.copy()
    negative.loc[negative.index[[3, 7]], "tmb"] = -1.0
    with pytest.raises(InputError, match=r"^covariate_frame \(1 problem\)") as error:
        pps.covariate_frame(negative)
    (violation,) = error.value.violations
    assert (violation.column, violation.rule, violation.n_rows) == (
        "tmb",
        "must be >= 0 (mutations per Mb)",
        2,
    )
    # the example rows name the patients (pseudonyms of the canonical cohort) and their values
    assert violation.examples["patient_id"].tolist() == negative["patient_id"].iloc[[3, 7]].tolist()
    assert violation.examples["tmb"].tolist() == [-1.0, -1.0]
    ended_early = small_patients.copy()
    first = ended_early.index[ended_early["pps_days"].notna()][0]
    ended_early.loc[first, "pps_days"] = -5.0
    with pytest.raises(InputError, match="follow-up cannot end before progression") as error:
        pps.pps_analysis_set(ended_early)
    assert error.value.violations[0].examples.index.tolist() == [first]
    with pytest.raises(InputError, match="single value"):
        pps.fit_adjusted_cox(s.assign(acquired=1), "pps_months", "pps_event", "acquired")
    with pytest.raises(InputError, match="benefit_months must be > 0"):
        pps.landmark_os_set(small_patients, 0.0)


# ------------------------------------------------------------------------------------------
# the chapter as one call
# ------------------------------------------------------------------------------------------


def test_chapter_result_holds_the_tables_of_each_step(
    small_result, small_cohort, small_patients, small_truth
):
    r = small_result
    assert r.missing is None and r.available
    s = pps.pps_analysis_set(small_patients, small_cohort.radiotherapy)
    pd.testing.assert_frame_equal(r.analysis_set, s)
    pd.testing.assert_frame_equal(r.attrition, pps.attrition_table(small_patients))
    pooled = pps.pooled_pps_cox(s)
    pd.testing.assert_frame_equal(r.pooled_hazard_ratios, pooled.hazard_ratios())
    pd.testing.assert_frame_equal(r.per_cancer_type, pps.per_cancer_type_pps(s, 10))
    pd.testing.assert_frame_equal(r.forest, pps.forest_table(pooled, r.per_cancer_type))
    pd.testing.assert_frame_equal(r.sensitivity, pps.sensitivity_table(s))
    pd.testing.assert_frame_equal(r.immortal_time, pps.immortal_time_table(small_patients, BENEFIT_MONTHS))
    # the curves are those of the tables: pooled by class, per cancer type, OS by landmark group
    assert list(r.curves) == list(pps.CLASS_ORDER)
    assert r.km_summary.loc["acquired", "patients"] == int((s["acquired"] == 1).sum())
    assert sorted(r.curves_by_cancer_type) == sorted(s["cancer_type"].unique())
    for cancer_type, curves in r.curves_by_cancer_type.items():
        sub = s[s["cancer_type"] == cancer_type]
        for label, fitter in curves.items():
            assert len(fitter.durations) == int((sub["resistance_class"] == label).sum())
    assert list(r.landmark_curves) == list(pps.LANDMARK_GROUPS)
    assert len(r.landmark_curves["progressed by landmark"].durations) == int(
        (r.landmark_set["no_progression_by_landmark"] == 0).sum()
    )
    # the planted truth of a simulated cohort is read from its truth.json
    assert r.planted_hr == small_truth["pps_hr"]["pooled"]


def test_planted_truth_only_for_a_simulated_cohort_with_its_folder(small_cohort, small_cohort_path, tmp_path):
    assert pps.planted_pps_hr(tmp_path) is None  # no truth.json
    real = Cohort(small_cohort.tables, {**small_cohort.meta, "simulated": False})
    assert pps.survival_after_progression(real, cohort_path=small_cohort_path).planted_hr is None
    assert pps.survival_after_progression(small_cohort).planted_hr is None


def test_a_cohort_without_progressions_says_so_and_computes_nothing(small_cohort, small_result):
    courses = small_cohort.icb_courses.assign(progression_day=np.nan)
    no_progression = Cohort({**small_cohort.tables, "icb_courses": courses}, dict(small_cohort.meta))
    r = pps.survival_after_progression(no_progression, BENEFIT_MONTHS, 6.0)
    assert not r.available
    assert r.missing.startswith("This cohort records no progression days")
    assert r.analysis_set is None and r.pooled is None and r.curves == {}
    with pytest.raises(InputError, match="km_grid: nothing to draw: This cohort records no progression days"):
        pps_plots.km_grid(r)


def test_pooled_model_text_adds_the_planted_sentence_for_simulated_cohorts(small_result):
    fit = small_result.pooled
    text = pps_text.pooled_model_text(small_result)
    hr = fit.exposure_hr()
    planted = small_result.planted_hr
    covered = "covers" if hr["ci_low"] <= planted <= hr["ci_high"] else "does NOT cover"
    assert text.split("\n") == [
        pps_text.covariate_sentence(fit),
        f"Simulated cohort: the planted hazard ratio is {planted:g}; the estimate is {hr['hr']:.2f} "
        f"(95% CI {hr['ci_low']:.2f}–{hr['ci_high']:.2f}), whose confidence interval {covered} it.",
    ]
    real = dataclasses.replace(small_result, planted_hr=None)
    assert pps_text.pooled_model_text(real) == pps_text.covariate_sentence(fit)
    assert pps_text.parameters_sentence(small_result) == "benefit window 6 months; minimum exposure 6 weeks"


# ------------------------------------------------------------------------------------------
# figures
# ------------------------------------------------------------------------------------------


def test_forest_figure_draws_estimates_and_planted_line(small_result):
    result = dataclasses.replace(small_result, planted_hr=0.62)
    forest = result.forest
    fig = pps_plots.forest_figure(result, count=lambda n: f"n={n}")
    try:
        ax = fig.axes[0]
        (points,) = [line for line in ax.get_lines() if line.get_gid() == "hr_points"]
        np.testing.assert_allclose(points.get_xdata(), forest["hr"].to_numpy())
        planted = [line for line in ax.get_lines() if "planted" in line.get_label()]
        assert len(planted) == 1 and planted[0].get_xdata()[0] == 0.62
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert "1" in labels and not any("10^" in t or "$" in t for t in labels)
        rows = [t.get_text() for t in ax.get_yticklabels()]
        assert rows == [f"{r.label} (n={r.deaths} deaths)" for r in forest.itertuples()]
        assert not fig.texts  # no "simulated data" mark here: helpers.book.figures.show adds it
    finally:
        plt.close(fig)
    fig = pps_plots.forest_figure(dataclasses.replace(small_result, planted_hr=None))
    try:
        assert not [line for line in fig.axes[0].get_lines() if "planted" in line.get_label()]
    finally:
        plt.close(fig)


def test_km_figures_have_one_panel_per_cancer_type(small_result):
    s = small_result.analysis_set
    fig = pps_plots.km_grid(small_result)
    try:
        visible = [ax for ax in fig.axes if ax.get_visible()]
        assert [ax.get_title() for ax in visible] == sorted(s["cancer_type"].unique())
        at_risk = [t.get_text() for t in visible[0].texts if t.get_gid() == "at_risk"]
        sub = s[s["cancer_type"] == visible[0].get_title()]
        assert at_risk[0] == str(int((sub["acquired"] == 1).sum()))
        assert at_risk[5] == str(int((sub["acquired"] == 0).sum()))  # second row, at month 0
    finally:
        plt.close(fig)
    fig = pps_plots.km_pooled_figure(small_result, count=lambda n: "<11" if 0 < n < 11 else str(n))
    try:
        at_risk = [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "at_risk"]
        expected = sv.at_risk_table(small_result.curves, pps_plots.AT_RISK_MONTHS, min_cell_count=11)
        assert at_risk == ["<11" if pd.isna(n) else str(int(n)) for n in expected.to_numpy().ravel()]
        assert {line.get_label() for line in fig.axes[0].get_lines()} >= {"acquired", "primary"}
    finally:
        plt.close(fig)
    fig = pps_plots.immortal_time_figure(small_result)
    try:
        left, right = fig.axes
        assert "BIASED" in left.get_title()
        assert {line.get_label() for line in right.get_lines()} >= {
            "no progression by landmark",
            "progressed by landmark",
        }
        # the shaded immortal time spans the benefit window
        (band,) = [p for p in left.patches if p.get_label() == "immortal time (acquired)"]
        assert (band.get_x(), band.get_x() + band.get_width()) == (0.0, BENEFIT_MONTHS)
    finally:
        plt.close(fig)
