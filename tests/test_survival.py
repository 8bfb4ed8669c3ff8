"""Tests of helpers.stats.survival: conformance with R's survival package, published medians, unit tests.

The R reference (survfit, survdiff, coxph with Efron ties; survival 3.5-3) is read from
``../shared/reference/survival_reference.json``; its README says what was computed.
"""

from __future__ import annotations

import json
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers.errors import InputError  # noqa: E402
from helpers.plots.survival import forest_plot, plot_km  # noqa: E402
from helpers.stats import survival as sv  # noqa: E402

RTOL = 1e-6


# ------------------------------------------------------------------------------------------
# fixtures
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(reference_dir) -> dict:
    return json.loads((reference_dir / "survival_reference.json").read_text())


@pytest.fixture(scope="module")
def riaz_os(public_dir) -> pd.DataFrame:
    """Riaz 2017 rows with OS, responder = best overall response CR/PR (as in the R script)."""
    clinical = pd.read_csv(public_dir / "riaz2017_melanoma_nivolumab" / "clinical.tsv", sep="\t")
    clinical = clinical[clinical["os_months"].notna() & clinical["os_event"].notna()]
    return pd.DataFrame(
        {
            "patient_id": clinical["patient_id"],
            "os_months": clinical["os_months"].astype(float),
            "os_event": clinical["os_event"].astype(int),
            "responder": clinical["best_overall_response"].isin(["CR", "PR"]).astype(int),
            "bor": clinical["best_overall_response"],
        }
    ).reset_index(drop=True)


@pytest.fixture(scope="module")
def riaz_cox(riaz_os):
    return sv.cox(riaz_os[["os_months", "os_event", "responder"]], "os_months", "os_event")


# ------------------------------------------------------------------------------------------
# conformance with R (relative tolerance 1e-6)
# ------------------------------------------------------------------------------------------


def test_reference_cohort_size(riaz_os, reference):
    assert len(riaz_os) == reference["n"]
    assert riaz_os["os_event"].sum() == reference["events"]


def test_km_median_matches_survfit(riaz_os, reference):
    nonresponders = riaz_os[riaz_os["responder"] == 0]
    responders = riaz_os[riaz_os["responder"] == 1]
    median_non = sv.km_median(sv.kaplan_meier(nonresponders["os_months"], nonresponders["os_event"]))
    assert median_non == pytest.approx(reference["km_median_os_nonresponder"], rel=RTOL)
    # R reports NA: responders never fall to 50% survival
    assert reference["km_median_os_responder"] is None
    assert np.isnan(sv.km_median(sv.kaplan_meier(responders["os_months"], responders["os_event"])))


def test_km_survival_at_months_matches_survfit(riaz_os, reference):
    fitter = sv.kaplan_meier(riaz_os["os_months"], riaz_os["os_event"], label="all")
    months = [float(m) for m in reference["km_os_surv_at_months"]]
    got = sv.survival_at(fitter, months)
    expected = [reference["km_os_surv_at_months"][m] for m in reference["km_os_surv_at_months"]]
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=RTOL)


def test_logrank_matches_survdiff(riaz_os, reference):
    result = sv.logrank(riaz_os["os_months"], riaz_os["os_event"], riaz_os["responder"])
    assert result.test_statistic == pytest.approx(reference["logrank_chisq"], rel=RTOL)
    assert result.p_value == pytest.approx(reference["logrank_p"], rel=RTOL)


def test_cox_efron_matches_coxph(riaz_cox, reference):
    table = sv.hazard_ratio_table(riaz_cox).set_index("covariate").loc["responder"]
    assert table["coef"] == pytest.approx(reference["cox_efron_coef_responder"], rel=RTOL)
    assert table["hr"] == pytest.approx(reference["cox_efron_hr_responder"], rel=RTOL)
    assert table["se"] == pytest.approx(reference["cox_efron_se_responder"], rel=RTOL)
    assert table["ci_low"] == pytest.approx(reference["cox_efron_hr_ci95"][0], rel=RTOL)
    assert table["ci_high"] == pytest.approx(reference["cox_efron_hr_ci95"][1], rel=RTOL)
    assert riaz_cox.concordance_index_ == pytest.approx(reference["cox_concordance"], rel=RTOL)
    # tighter than the contract, within the rounding of the stored values: catches a fit that
    # stops early (lifelines' default stopping rule leaves the coefficient ~4e-7 off here)
    assert table["coef"] == pytest.approx(reference["cox_efron_coef_responder"], rel=2e-8)
    assert table["se"] == pytest.approx(reference["cox_efron_se_responder"], rel=2e-8)
    # the tidy table and lifelines' own summary agree
    assert table["p"] == pytest.approx(riaz_cox.summary.loc["responder", "p"], rel=1e-12)


def test_time_varying_cox_on_split_intervals_matches_coxph(riaz_os, reference):
    """Splitting follow-up at an arbitrary time with time-fixed covariates must not change the fit."""
    data = riaz_os[["patient_id", "os_months", "os_event", "responder"]].assign(
        split_at=np.where(np.arange(len(riaz_os)) % 2 == 0, 3.0, np.nan)
    )
    long = sv.to_counting_process(data, "patient_id", "os_months", "os_event", "split_at")
    assert len(long) > len(data)
    model = sv.cox_time_varying(long.drop(columns="exposed"), "patient_id", "start", "stop", "os_event")
    table = sv.hazard_ratio_table(model).set_index("covariate").loc["responder"]
    assert table["coef"] == pytest.approx(reference["cox_efron_coef_responder"], rel=RTOL)
    assert table["se"] == pytest.approx(reference["cox_efron_se_responder"], rel=RTOL)


# ------------------------------------------------------------------------------------------
# published KM medians (FACTS.md, plain product-limit median, to 0.01 month)
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cohort", "endpoint", "median_months"),
    [
        ("riaz2017_melanoma_nivolumab", "pfs", 3.68),
        ("riaz2017_melanoma_nivolumab", "os", 23.26),
        ("gide2019_melanoma_pd1", "pfs", 9.03),
        ("gide2019_melanoma_pd1", "os", 29.27),
        ("vanallen2015_melanoma_ctla4", "pfs", 2.75),
        ("vanallen2015_melanoma_ctla4", "os", 10.66),
    ],
)
def test_km_median_matches_facts(public_dir, cohort, endpoint, median_months):
    clinical = pd.read_csv(public_dir / cohort / "clinical.tsv", sep="\t", low_memory=False)
    time_col, event_col = f"{endpoint}_months", f"{endpoint}_event"
    clinical = clinical[clinical[time_col].notna() & clinical[event_col].notna()]
    median = sv.km_median(sv.kaplan_meier(clinical[time_col], clinical[event_col]))
    assert abs(median - median_months) <= 0.005 + 1e-9


# ------------------------------------------------------------------------------------------
# Kaplan-Meier and log-rank on hand-computable data
# ------------------------------------------------------------------------------------------

# S(1) = 4/5, S(2) = 4/5 * 3/4 = 0.6 (one event, one censored at 2), S(3) = 0.6 * 1/2 = 0.3
SMALL_TIME = [1.0, 2.0, 2.0, 3.0, 4.0]
SMALL_EVENT = [1, 1, 0, 1, 0]


def test_survival_at_hand_computed_curve():
    fitter = sv.kaplan_meier(SMALL_TIME, SMALL_EVENT)
    got = sv.survival_at(fitter, [0.0, 0.5, 1.0, 2.0, 2.5, 3.0, 4.0, 5.0])
    expected = [1.0, 1.0, 0.8, 0.6, 0.6, 0.3, 0.3, np.nan]  # NaN: after the last follow-up
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-12)
    assert sv.km_median(fitter) == 3.0


def test_km_median_plain_rule_and_not_reached():
    # S = 0.75, 0.5, 0.25, 0: the plain rule gives 2 (R's survfit would average 2 and 3)
    assert sv.km_median(sv.kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1])) == 2.0
    # S(5) = 9/10*8/9*7/8*6/7*5/6 = 0.5 exactly in exact arithmetic, whatever the rounding
    assert sv.km_median(sv.kaplan_meier(np.arange(1.0, 11.0), np.ones(10))) == 5.0
    # one event in four: never reaches 0.5
    assert np.isnan(sv.km_median(sv.kaplan_meier([1, 2, 3, 4], [1, 0, 0, 0])))


def test_at_risk_table_counts_and_suppression():
    curves = sv.kaplan_meier_by_group(SMALL_TIME + [1.0] * 12, SMALL_EVENT + [0] * 12, ["a"] * 5 + ["b"] * 12)
    table = sv.at_risk_table(curves, [0, 2, 3, 4.5])
    assert table.loc["a"].tolist() == [5, 4, 2, 0]
    assert table.loc["b"].tolist() == [12, 0, 0, 0]
    hidden = sv.at_risk_table(curves, [0, 2, 3, 4.5], min_cell_count=11)
    assert hidden.loc["a"].isna().tolist() == [True, True, True, False]  # 0 is not identifying
    assert hidden.loc["b", 0.0] == 12


def _survdiff_by_hand(time, event, group):
    """Log-rank chi-square as survdiff computes it (hypergeometric variance), written out."""
    time, event, group = map(np.asarray, (time, event, group))
    labels = np.unique(group)
    observed_minus_expected = np.zeros(len(labels))
    variance = np.zeros((len(labels), len(labels)))
    for t in np.unique(time[event == 1]):
        at_risk = np.array([np.sum((time >= t) & (group == g)) for g in labels], dtype=float)
        deaths = np.array([np.sum((time == t) & (event == 1) & (group == g)) for g in labels], dtype=float)
        n, d = at_risk.sum(), deaths.sum()
        observed_minus_expected += deaths - d * at_risk / n
        if n > 1:
            share = at_risk / n
            variance += d * (n - d) / (n - 1) * (np.diag(share) - np.outer(share, share))
    u = observed_minus_expected[:-1]
    return float(u @ np.linalg.solve(variance[:-1, :-1], u))


def test_logrank_three_groups_matches_survdiff_formula(riaz_os):
    data = riaz_os[riaz_os["bor"].isin(["CR", "PR", "SD", "PD"])]
    group = data["bor"].replace({"CR": "CR/PR", "PR": "CR/PR"})
    result = sv.logrank(data["os_months"], data["os_event"], group)
    expected = _survdiff_by_hand(data["os_months"], data["os_event"], group)
    assert result.test_statistic == pytest.approx(expected, rel=1e-10)
    assert result.degrees_of_freedom == 2


# ------------------------------------------------------------------------------------------
# Cox models: strata, time-varying, PH test
# ------------------------------------------------------------------------------------------


def _simulated_cohort(seed: int, n: int, hazard_ratio: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    treated = rng.integers(0, 2, n)
    site = rng.integers(0, 3, n)
    rate = 0.1 * np.array([1.0, 2.0, 0.5])[site] * np.where(treated == 1, hazard_ratio, 1.0)
    death = rng.exponential(1 / rate)
    censor = rng.uniform(5, 30, n)
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "time": np.ceil(np.minimum(death, censor) * 10) / 10,  # rounding up creates ties (Efron matters)
            "event": (death <= censor).astype(int),
            "treated": treated,
            "site": site,
        }
    )


def test_time_varying_cox_strata_equals_stratified_cox():
    data = _simulated_cohort(seed=1, n=300, hazard_ratio=0.6)
    stratified = sv.cox(data.drop(columns="id"), "time", "event", strata="site")
    long = data.rename(columns={"time": "stop"}).assign(start=0.0)
    varying = sv.cox_time_varying(long, "id", "start", "stop", "event", strata="site")
    assert varying.params_["treated"] == pytest.approx(stratified.params_["treated"], rel=1e-8)
    assert varying.standard_errors_["treated"] == pytest.approx(
        stratified.standard_errors_["treated"], rel=1e-8
    )
    # stratification changes the estimate: site is a strong prognostic factor here
    pooled = sv.cox(data.drop(columns=["id", "site"]), "time", "event")
    assert abs(pooled.params_["treated"] - stratified.params_["treated"]) > 1e-4


def test_time_varying_exposure_recovers_planted_effect():
    """Exposure (hazard ratio 0.5 once started) at a random day; splitting gives ~0.5."""
    rng = np.random.default_rng(7)
    n = 1500
    exposure_start = np.where(rng.random(n) < 0.5, rng.uniform(0, 10, n), np.nan)
    base_rate, hr = 0.1, 0.5
    # piecewise-exponential death time: rate base before exposure, base*hr after it
    first = rng.exponential(1 / base_rate, n)
    after = rng.exponential(1 / (base_rate * hr), n)
    exposed_before_death = ~np.isnan(exposure_start) & (first > exposure_start)
    death = np.where(exposed_before_death, exposure_start + after, first)
    time = np.minimum(death, 40.0)
    data = pd.DataFrame(
        {
            "id": np.arange(n),
            "time": time,
            "event": (death <= 40.0).astype(int),
            # an exposure planned after death or censoring is never observed
            "rt_day": np.where(exposure_start < time, exposure_start, np.nan),
        }
    )
    long = sv.to_counting_process(data, "id", "time", "event", "rt_day", exposure_col="rt")
    model = sv.cox_time_varying(long, "id", "start", "stop", "event")
    row = sv.hazard_ratio_table(model).set_index("covariate").loc["rt"]
    assert row["ci_low"] < hr < row["ci_high"]
    # the naive baseline comparison "ever exposed" is biased towards benefit (immortal time)
    naive = sv.cox(
        data.assign(ever=data["rt_day"].notna().astype(int))[["time", "event", "ever"]], "time", "event"
    )
    assert np.exp(naive.params_["ever"]) < row["ci_low"]


def test_proportional_hazards_test_separates_ph_from_crossing_hazards():
    rng = np.random.default_rng(3)
    n = 400
    treated = rng.integers(0, 2, n)
    death = rng.exponential(np.where(treated == 1, 5.0, 10.0))  # hazard ratio 2 at all times
    proportional = pd.DataFrame(
        {"time": np.minimum(death, 30.0), "event": (death <= 30.0).astype(int), "treated": treated}
    )
    model = sv.cox(proportional, "time", "event")
    ok = sv.proportional_hazards_test(model, proportional)
    assert list(ok.columns) == ["covariate", "transform", "statistic", "df", "p"]
    assert ok.loc[0, "covariate"] == "treated" and ok.loc[0, "transform"] == "rank"
    assert ok.loc[0, "p"] > 0.05

    # crossing hazards: treated patients die early at a high rate or late at a low one
    rng = np.random.default_rng(4)
    n = 400
    treated = rng.integers(0, 2, n)
    early = rng.exponential(2.0, n)
    late = 6.0 + rng.exponential(30.0, n)
    death = np.where(treated == 1, np.where(rng.random(n) < 0.5, early, late), rng.exponential(10.0, n))
    crossing = pd.DataFrame(
        {"time": np.minimum(death, 30.0), "event": (death <= 30.0).astype(int), "treated": treated}
    )
    bad = sv.proportional_hazards_test(sv.cox(crossing, "time", "event"), crossing, transform=["rank", "km"])
    assert set(bad["transform"]) == {"rank", "km"}
    assert (bad["p"] < 1e-6).all()


# ------------------------------------------------------------------------------------------
# landmark
# ------------------------------------------------------------------------------------------


def test_landmark_keeps_patients_at_risk_and_shifts_time():
    data = pd.DataFrame(
        {
            "pid": [
                "died_before",
                "censored_before",
                "died_at",
                "alive_long",
                "progressed_late",
                "progressed_early",
            ],
            "os": [3.0, 4.0, 6.0, 20.0, 15.0, 9.0],
            "death": [1, 0, 1, 0, 1, 1],
            "progression": [1.0, np.nan, 2.0, np.nan, 10.0, 5.0],
        }
    )
    result = sv.landmark(
        data, 6.0, "os", "death", known_by_landmark_col="progression", group_col="progressed"
    )
    assert result["pid"].tolist() == ["alive_long", "progressed_late", "progressed_early"]
    assert result["os"].tolist() == [14.0, 9.0, 3.0]
    assert result["death"].tolist() == [0, 1, 1]
    # progression on day 10 is after the landmark, so that patient is "not progressed" at it
    assert result["progressed"].tolist() == [0, 0, 1]
    assert result.attrs["landmark"] == {
        "landmark_time": 6.0,
        "n_input": 6,
        "n_excluded_ended_by_landmark": 3,
        "n_excluded_events_by_landmark": 2,
        "n_kept": 3,
        "horizon": None,
    }
    assert data["os"].tolist()[0] == 3.0  # input untouched

    capped = sv.landmark(data, 6.0, "os", "death", horizon=5.0)
    assert capped["os"].tolist() == [5.0, 5.0, 3.0]
    assert capped["death"].tolist() == [0, 0, 1]


def test_landmark_removes_immortal_time_bias():
    """Progression timing has no effect on death here; the naive split finds one, the landmark doesn't."""
    rng = np.random.default_rng(11)
    n = 3000
    death = rng.exponential(12.0 / np.log(2), n)
    progression = rng.exponential(4.0 / np.log(2), n)
    progressed = progression < death
    data = pd.DataFrame(
        {
            "os": np.minimum(death, 36.0),
            "death": (death <= 36.0).astype(int),
            "progression": np.where(progressed, progression, np.nan),
        }
    )
    # naive: "acquired" (progression at >= 6 months) vs "primary" (< 6) with OS from time 0
    classified = data[progressed].assign(acquired=(data["progression"] >= 6.0).astype(int))
    naive = sv.cox(classified[["os", "death", "acquired"]], "os", "death")
    assert sv.hazard_ratio_table(naive).loc[0, "ci_high"] < 0.8  # a spurious "benefit"

    at_six = sv.landmark(
        data, 6.0, "os", "death", known_by_landmark_col="progression", group_col="progressed_by_6"
    )
    fit = sv.cox(at_six[["os", "death", "progressed_by_6"]], "os", "death")
    row = sv.hazard_ratio_table(fit).iloc[0]
    assert row["ci_low"] < 1.0 < row["ci_high"]


# ------------------------------------------------------------------------------------------
# counting process
# ------------------------------------------------------------------------------------------


def test_to_counting_process_splits_at_exposure():
    data = pd.DataFrame(
        {
            "pid": ["never", "mid", "on_last_day", "after_end", "at_origin", "before_origin"],
            "t": [10.0, 10.0, 10.0, 10.0, 10.0, 10.0],
            "dead": [1, 1, 0, 1, 1, 0],
            "rt": [np.nan, 4.0, 10.0, 12.0, 0.0, -3.0],
            "ecog": [0, 1, 2, 0, 1, 2],
        }
    )
    long = sv.to_counting_process(data, "pid", "t", "dead", "rt")
    assert list(long.columns) == ["pid", "start", "stop", "dead", "exposed", "ecog"]
    assert len(long) == len(data) + 1  # only "mid" is split
    mid = long[long["pid"] == "mid"]
    assert mid[["start", "stop", "dead", "exposed"]].to_numpy().tolist() == [[0, 4, 0, 0], [4, 10, 1, 1]]
    assert mid["ecog"].tolist() == [1, 1]
    flags = long.groupby("pid")["exposed"].apply(list).to_dict()
    assert flags == {
        "never": [0],
        "mid": [0, 1],
        "on_last_day": [0],
        "after_end": [0],
        "at_origin": [1],
        "before_origin": [1],
    }
    # no follow-up lost or invented, and exactly the input events
    follow_up = (long["stop"] - long["start"]).groupby(long["pid"]).sum()
    assert follow_up.to_dict() == dict(zip(data["pid"], data["t"], strict=True))
    assert long.groupby("pid")["dead"].sum().to_dict() == dict(zip(data["pid"], data["dead"], strict=True))
    assert (long.groupby("pid")["stop"].max() == long.groupby("pid")["stop"].last()).all()


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------


def _problems(error: pytest.ExceptionInfo) -> list[tuple[str, str, str, int]]:
    return [(v.table, v.column, v.rule, v.n_rows) for v in error.value.violations]


def test_bad_time_and_event_inputs_raise_clear_errors():
    with pytest.raises(
        InputError, match=r"^kaplan_meier \(1 problem\):\n  - table 'arguments', column 'time': must be >= 0"
    ) as error:
        sv.kaplan_meier([1.0, -1.0, 2.0], [1, 0, 1])
    (violation,) = error.value.violations
    # the example is the offending row, whole: its label, its time and its event
    assert violation.examples.to_dict("index") == {1: {"time": -1.0, "event": 0}}
    assert "-1.0" in str(error.value)

    # every broken rule is reported at once, with the caller's row labels
    with pytest.raises(InputError, match=r"kaplan_meier \(2 problems\)") as error:
        sv.kaplan_meier(pd.Series([1.0, np.nan, 2.0, 3.0], index=[10, 11, 12, 13]), [1, 0, 2, -1])
    assert _problems(error) == [
        ("arguments", "time", "must not be missing", 1),
        ("arguments", "event", "must be 0 (censored) or 1 (event)", 2),
    ]
    assert error.value.violations[0].examples.index.tolist() == [11]
    assert error.value.violations[1].examples.index.tolist() == [12, 13]

    with pytest.raises(InputError) as error:
        sv.logrank([1.0, 2.0, 3.0], [1, np.nan, 0], ["a", "b", None])
    assert _problems(error) == [
        ("arguments", "event", "must not be missing", 1),
        ("arguments", "group", "must not be missing", 1),
    ]
    with pytest.raises(InputError, match=r"column 'time': must be numeric \(got dtype object\)"):
        sv.kaplan_meier(["1", "2"], [1, 0])
    with pytest.raises(InputError, match=r"kaplan_meier: inputs differ in length: \{'time': 2, 'event': 3\}"):
        sv.kaplan_meier([1.0, 2.0], [1, 0, 1])
    with pytest.raises(InputError, match=r"logrank: 'group' needs at least two distinct labels, got \['a'\]"):
        sv.logrank([1.0, 2.0], [1, 0], ["a", "a"])
    assert issubclass(InputError, ValueError)


def test_bad_tables_raise_clear_errors():
    table = pd.DataFrame({"t": [1.0, 2.0, 3.0, 4.0], "e": [1, 0, 1, 1], "x": [0.0, 1.0, np.nan, 1.0]})
    with pytest.raises(
        InputError, match=r"^cox: table 'data' lacks required columns \(it has: t, e, x\)"
    ) as error:
        sv.cox(table, "time", "e")
    assert [(v.column, v.rule) for v in error.value.violations] == [("time", "required column is missing")]

    with pytest.raises(InputError) as error:
        sv.cox(table.assign(sex=["f", "m", "f", "m"]), "t", "e")
    (missing_x, text_sex) = error.value.violations
    assert (missing_x.column, missing_x.n_rows, missing_x.examples.index.tolist()) == ("x", 1, [2])
    assert missing_x.rule.startswith("a covariate must not be missing")
    assert text_sex.column == "sex" and "must be numeric (got dtype object)" in text_sex.rule
    assert "get_dummies" in text_sex.rule

    with pytest.raises(InputError) as error:
        sv.landmark(table.assign(t=[1.0, -2.0, 3.0, 4.0]), 2.0, "t", "e")
    assert _problems(error) == [("data", "t", "must be >= 0 (a time since the origin)", 1)]
    with pytest.raises(InputError, match="landmark_time must be a finite number >= 0"):
        sv.landmark(table, -1.0, "t", "e")

    with pytest.raises(InputError) as error:
        sv.to_counting_process(
            table.assign(pid=[1, 1, 2, 3], rt=np.nan, t=[0.0, 1, 2, 3]), "pid", "t", "e", "rt"
        )
    (zero, duplicated) = error.value.violations
    assert (zero.column, zero.n_rows, zero.examples.index.tolist()) == ("t", 1, [0])
    assert zero.rule.startswith("must be > 0 (a zero-length follow-up has no interval")
    assert (duplicated.column, duplicated.rule, duplicated.n_rows) == (
        "pid",
        "must be unique (one row per patient)",
        2,
    )

    intervals = pd.DataFrame(
        {
            "pid": [1, 1, 2],
            "start": [0.0, 3.0, 0.0],
            "stop": [4.0, 6.0, 2.0],
            "e": [0, 1, 1],
            "x": [0.0, 1.0, 1.0],
        }
    )
    with pytest.raises(InputError) as error:
        sv.cox_time_varying(intervals, "pid", "start", "stop", "e")
    (overlap,) = error.value.violations
    assert (overlap.table, overlap.column, overlap.n_rows) == ("long_df", "pid", 1)
    assert overlap.rule.startswith("intervals of a patient must not overlap")
    # the example is the interval (3, 6] that starts before (0, 4] of the same patient stops
    assert overlap.examples.to_dict("index") == {1: {"pid": 1, "start": 3.0, "stop": 6.0}}
    with pytest.raises(InputError) as error:
        sv.cox_time_varying(intervals.assign(stop=[3.0, 3.0, 2.0]), "pid", "start", "stop", "e")
    assert _problems(error) == [("long_df", "stop", "must be > start (intervals are (start, stop])", 1)]


# ------------------------------------------------------------------------------------------
# plots
# ------------------------------------------------------------------------------------------


def test_plot_km_draws_curves_and_at_risk_numbers(riaz_os):
    curves = sv.kaplan_meier_by_group(riaz_os["os_months"], riaz_os["os_event"], riaz_os["responder"])
    fig, ax = plt.subplots()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no silent matplotlib/lifelines warnings
            drawn = plot_km(ax, curves, at_risk_times=[0, 12, 24, 36])
        assert drawn is fig
        lines = {line.get_label(): line for line in ax.get_lines()}
        for label, fitter in curves.items():
            np.testing.assert_allclose(
                lines[label].get_ydata(), fitter.survival_function_.iloc[:, 0].to_numpy()
            )
        numbers = [text.get_text() for text in ax.texts if text.get_gid() == "at_risk"]
        # counted by hand in the Riaz table (os_months >= t): 58 non-responders and 15 responders
        # at the start, then 29, 14, 0 and 15, 14, 2; row by row, in the order of the curves
        assert numbers == ["58", "29", "14", "0", "15", "15", "14", "2"]
        assert not fig.texts  # no "simulated data" mark: helpers.book.figures.show adds it
    finally:
        plt.close(fig)


def test_plot_km_suppresses_small_at_risk_counts():
    curves = sv.kaplan_meier_by_group(SMALL_TIME + [1.0] * 12, SMALL_EVENT + [0] * 12, ["a"] * 5 + ["b"] * 12)
    # at risk at 0, 2, 3, 4.5: a = 5, 4, 2, 0 and b = 12, 0, 0, 0 (test_at_risk_table_counts_and_suppression)
    fig = plot_km(None, curves, [0, 2, 3, 4.5], min_cell_count=11)
    try:
        ax = fig.axes[0]
        numbers = [t.get_text() for t in ax.texts if t.get_gid() == "at_risk"]
        assert numbers == ["<11", "<11", "<11", "0", "12", "0", "0", "0"]
    finally:
        plt.close(fig)
    fig = plot_km(None, curves, [0, 2, 3, 4.5], count=lambda n: "<11" if 0 < n < 11 else f"n={n}")
    try:
        numbers = [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "at_risk"]
        assert numbers == ["<11", "<11", "<11", "n=0", "n=12", "n=0", "n=0", "n=0"]
    finally:
        plt.close(fig)


def test_forest_plot_places_hazard_ratios(riaz_cox):
    table = sv.hazard_ratio_table(riaz_cox)
    fig, ax = plt.subplots()
    try:
        assert forest_plot(ax, table) is fig
        (points,) = [line for line in ax.get_lines() if line.get_gid() == "hr_points"]
        np.testing.assert_allclose(points.get_xdata(), table["hr"].to_numpy())
        (interval,) = ax.collections  # the 95% CI as one horizontal segment
        np.testing.assert_allclose(
            interval.get_segments()[0][:, 0], table.loc[0, ["ci_low", "ci_high"]].to_numpy(dtype=float)
        )
        assert ax.get_xscale() == "log"
        assert [t.get_text() for t in ax.get_yticklabels()] == ["responder"]
    finally:
        plt.close(fig)


def test_forest_plot_rejects_bad_tables(riaz_cox):
    table = sv.hazard_ratio_table(riaz_cox)
    with pytest.raises(InputError, match=r"table 'forest table', column 'label': required column is missing"):
        forest_plot(None, table, label_col="label")
    with pytest.raises(InputError) as error:
        forest_plot(None, table.assign(ci_low=0.0))
    assert [(v.column, v.rule) for v in error.value.violations] == [("ci_low", "must be a positive number")]
    plt.close("all")
