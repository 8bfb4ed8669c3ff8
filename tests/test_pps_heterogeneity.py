"""Chapter 3, "the same in every cancer type?" and the RMST: the statistics and their recovery.

- Cochran's Q, I², τ² against R metafor (``dat.bcg``, ``../shared/reference/``) and textbook
  values worked out by hand; the empirical-Bayes shrinkage formula, and that it returns the
  pooled estimate when τ² = 0.
- The stratified log-rank test against lifelines / R ``survdiff`` (one stratum) and a
  hand-computed two-stratum example.
- The RMST of known Kaplan–Meier step functions and its Greenwood-type variance by hand.
- Recovery on data the analysis did not generate in its own model form: piecewise-exponential
  hazards with a fading hazard ratio (the true RMST difference by numerical integration of the
  known survival curves), and a hazard ratio of 1 in one big stratum and 0.5 in the others.
- The chapter's tables, sentences and figures, and the simulator's ``heterogeneous`` and
  ``non_ph`` scenarios where the simulator has them.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from lifelines.statistics import multivariate_logrank_test, proportional_hazard_test  # noqa: E402
from scipy import integrate  # noqa: E402

from helpers.analysis import derive, pps  # noqa: E402
from helpers.book.sentences import pps as pps_text  # noqa: E402
from helpers.data.cohort import Cohort  # noqa: E402
from helpers.errors import InputError  # noqa: E402
from helpers.plots import pps as pps_plots  # noqa: E402
from helpers.simulate import save_simulated, simulate_cohort  # noqa: E402
from helpers.stats import heterogeneity as het  # noqa: E402
from helpers.stats import survival as sv  # noqa: E402
from helpers.stats.rmst import rmst, rmst_difference, stratified_rmst_difference  # noqa: E402
from helpers.stats.stratified_logrank import stratified_logrank  # noqa: E402

# ------------------------------------------------------------------------------------------
# Cochran's Q, I², τ², shrinkage
# ------------------------------------------------------------------------------------------


def test_heterogeneity_matches_metafor_dersimonian_laird(reference_dir):
    data = pd.read_csv(reference_dir / "meta_knha_input.tsv", sep="\t")
    ref = json.loads((reference_dir / "meta_knha_reference.json").read_text())
    h = het.heterogeneity(data["yi"], np.sqrt(data["vi"]))
    assert h.k == 13 and h.df == ref["df"]
    assert h.q == pytest.approx(ref["q"], rel=1e-9)
    assert 100 * h.i2 == pytest.approx(ref["i2"], rel=1e-9)
    assert h.tau2 == pytest.approx(ref["tau2"], rel=1e-9)
    assert h.random == pytest.approx(ref["estimate"], rel=1e-9)
    # the reference's SE is Hartung–Knapp's; the DL (normal) SE is 1 / sqrt(sum of RE weights)
    assert h.random_se == pytest.approx(1 / math.sqrt((1 / (data["vi"] + ref["tau2"])).sum()), rel=1e-9)


def test_cochran_q_i2_and_tau2_by_hand():
    # y = 0, 2, 4 with se 1: FE mean 2, Q = 4 + 0 + 4 = 8 on 2 df, I² = (8 - 2)/8,
    # tau² = (Q - df) / (sum w - sum w² / sum w) = 6 / (3 - 1) = 3
    h = het.heterogeneity([0.0, 2.0, 4.0], [1.0, 1.0, 1.0])
    assert (h.q, h.df, h.i2, h.tau2) == pytest.approx((8.0, 2, 0.75, 3.0))
    assert h.fixed == pytest.approx(2.0) and h.random == pytest.approx(2.0)
    assert h.p == pytest.approx(math.exp(-8.0 / 2))  # chi-square on 2 df: exp(-x/2)
    # Q below its df: I² and tau² are truncated at 0
    h = het.heterogeneity([0.0, 1.0], [1.0, 1.0])
    assert (h.q, h.i2, h.tau2) == pytest.approx((0.5, 0.0, 0.0))
    # identical estimates: Q = 0, I² = 0 (not NaN)
    assert het.heterogeneity([0.3, 0.3], [0.1, 0.2]).i2 == 0.0


def test_shrinkage_formula_by_hand():
    # tau² = 3, se 1: the weight kept on the own estimate is 3/4; Var(mean) = 1/(3 * 1/4) = 4/3
    out = het.shrink([0.0, 2.0, 4.0], [1.0, 1.0, 1.0], tau2=3.0, mean=2.0, mean_se=math.sqrt(4 / 3))
    assert out["weight"].tolist() == pytest.approx([0.75] * 3)
    assert out["shrunken"].tolist() == pytest.approx([0.5, 2.0, 3.5])
    assert out["shrunken_se"].tolist() == pytest.approx([math.sqrt(0.75 + 0.0625 * 4 / 3)] * 3)
    # a noisy estimate moves further towards the mean than a precise one
    out = het.shrink([0.0, 0.0], [0.5, 3.0], tau2=1.0, mean=1.0, mean_se=0.1)
    assert out["shrunken"].iloc[0] < out["shrunken"].iloc[1] < 1.0


def test_shrunken_estimates_equal_the_pooled_one_when_tau2_is_zero():
    y, se = [0.1, 0.3, -0.2, 0.05], [0.3, 0.4, 0.5, 0.35]
    h = het.heterogeneity(y, se)
    assert h.tau2 == 0.0  # the spread is below chance (Q < df)
    assert h.random == pytest.approx(h.fixed)
    out = het.shrink(y, se, h.tau2, h.random, h.random_se)
    assert np.allclose(out["shrunken"], h.random) and np.allclose(out["shrunken_se"], h.random_se)
    assert np.allclose(out["weight"], 0.0)
    # the chapter's table and sentence: every type (also one with few deaths) gets the pooled HR
    per_type = pd.DataFrame(
        {
            "cancer_type": ["A", "B", "C", "D", "E"],
            "deaths_acquired": [40, 30, 25, 35, 3],
            "deaths_primary": [80, 60, 50, 70, 6],
            "hr": np.exp([*y, 1.2]),
            "ci_low": np.exp(np.array([*y, 1.2]) - 1.959963984540054 * np.array([*se, 1.5])),
            "ci_high": np.exp(np.array([*y, 1.2]) + 1.959963984540054 * np.array([*se, 1.5])),
            "status": "estimated",
        }
    )
    table = pps.shrinkage_table(per_type, min_events_per_group=10)
    assert table["few_deaths"].tolist() == [False, False, False, False, True]
    assert table["in_heterogeneity"].tolist() == [True, True, True, True, False]
    assert np.allclose(table["shrunken_hr"], math.exp(h.random))
    heterogeneity = pps.heterogeneity_table(per_type, 10)
    assert heterogeneity["tau2"].iloc[0] == 0.0
    assert heterogeneity["hr_random"].iloc[0] == pytest.approx(math.exp(h.random))
    sentence = pps_text.shrinkage_sentence(table, heterogeneity)
    assert "estimated as 0, so every shrunken estimate equals the random-effects" in sentence
    assert "E 3.32 → " in sentence  # the type with few deaths, own → shrunken


def test_heterogeneity_inputs_are_checked():
    with pytest.raises(InputError, match="at least two"):
        het.heterogeneity([0.1], [0.2])
    with pytest.raises(InputError, match="positive and finite"):
        het.heterogeneity([0.1, 0.2], [0.2, 0.0])
    with pytest.raises(InputError, match="tau2"):
        het.shrink([0.1], [0.2], tau2=-1.0, mean=0.0, mean_se=0.1)


# ------------------------------------------------------------------------------------------
# stratified log-rank
# ------------------------------------------------------------------------------------------


def test_stratified_logrank_hand_computed_example():
    # stratum A: group 1 dies at 1 and 3, group 0 dies at 2 and is censored at 4
    #   t=1: n=4 (2 in g1), d=1 in g1: E1 = 1/2, V = 1/4
    #   t=2: n=3 (1 in g1), d=1 in g0: E1 = 1/3, V = (1/3)(2/3) = 2/9
    #   t=3: n=2 (1 in g1), d=1 in g1: E1 = 1/2, V = 1/4       O1 - E1 = 2 - 4/3 = 2/3
    # stratum B: group 1 censored at 5, group 0 dies at 1 and 2
    #   t=1: n=3 (1 in g1): E1 = 1/3, V = 2/9;  t=2: n=2: E1 = 1/2, V = 1/4   O1 - E1 = -5/6
    # chi² = (2/3 - 5/6)² / (13/18 + 17/36) = (1/36) / (43/36) = 1/43
    time = [1, 3, 2, 4, 5, 1, 2]
    event = [1, 1, 1, 0, 0, 1, 1]
    group = [1, 1, 0, 0, 1, 0, 0]
    strata = ["A", "A", "A", "A", "B", "B", "B"]
    res = stratified_logrank(time, event, group, strata)
    assert res.statistic == pytest.approx(1 / 43, rel=1e-12)
    assert res.df == 1
    assert res.groups == ("0", "1")
    assert res.observed.tolist() == [3.0, 2.0]
    assert res.expected[1] == pytest.approx(4 / 3 + 5 / 6)
    assert res.variance[1, 1] == pytest.approx(43 / 36)
    # the per-stratum sums are the parts of the total
    parts = res.per_stratum.set_index("stratum")
    assert parts.loc["A", "expected_1"] == pytest.approx(4 / 3)
    assert parts.loc["B", "expected_1"] == pytest.approx(5 / 6)


def test_one_stratum_is_the_ordinary_logrank_test(public_dir, reference_dir):
    rng = np.random.default_rng(3)
    t = np.round(rng.exponential(5, 400), 1)  # ties
    e = (rng.uniform(size=400) < 0.7).astype(int)
    for k in (2, 3):
        g = rng.integers(0, k, 400)
        res = stratified_logrank(t, e, g, np.zeros(400))
        direct = multivariate_logrank_test(t, g, e)
        assert res.statistic == pytest.approx(direct.test_statistic, rel=1e-10)
        assert res.df == k - 1
    # and R's survdiff on the Riaz 2017 cohort (../shared/reference/survival_reference.json)
    clinical = pd.read_csv(public_dir / "riaz2017_melanoma_nivolumab" / "clinical.tsv", sep="\t")
    clinical = clinical[clinical["os_months"].notna() & clinical["os_event"].notna()]
    responder = clinical["best_overall_response"].isin(["CR", "PR"]).astype(int)
    res = stratified_logrank(
        clinical["os_months"], clinical["os_event"].astype(int), responder, ["all"] * len(clinical)
    )
    ref = json.loads((reference_dir / "survival_reference.json").read_text())
    assert res.statistic == pytest.approx(ref["logrank_chisq"], rel=1e-6)


def test_stratified_logrank_removes_confounding_by_stratum():
    # no group effect within strata, but group 1 lives mostly in the good-prognosis stratum
    rng = np.random.default_rng(5)
    rows = []
    for stratum, rate, share in (("good", 0.05, 0.8), ("poor", 0.4, 0.2)):
        n = 600
        g = (rng.uniform(size=n) < share).astype(int)
        rows.append(pd.DataFrame({"t": rng.exponential(1 / rate, n), "g": g, "s": stratum}))
    data = pd.concat(rows, ignore_index=True)
    data["e"] = 1
    pooled = sv.logrank(data["t"], data["e"], data["g"])
    stratified = stratified_logrank(data["t"], data["e"], data["g"], data["s"])
    assert pooled.p_value < 1e-6  # the unstratified test "finds" the stratum mix
    assert stratified.p > 0.01


# ------------------------------------------------------------------------------------------
# RMST
# ------------------------------------------------------------------------------------------


def test_rmst_of_known_step_functions():
    # all die at 1, 2, 3, 4: S = 1, 3/4, 1/2 on [0,1), [1,2), [2,2.5): area 1 + 0.75 + 0.25
    assert rmst([1, 2, 3, 4], [1, 1, 1, 1], 2.5).estimate == pytest.approx(2.0)
    # censored at 2: S = 3/4 on [1, 3), 3/8 on [3, 4): area to 3.5 = 1 + 1.5 + 0.1875
    res = rmst([1, 2, 3, 4], [1, 0, 1, 1], 3.5)
    assert res.estimate == pytest.approx(2.6875)
    # Greenwood-type variance: A(1) = 1.5 + 0.1875, A(3) = 0.1875;
    # A(1)² · 1/(4·3) + A(3)² · 1/(2·1)
    assert res.variance == pytest.approx(1.6875**2 / 12 + 0.1875**2 / 2)
    # the curve falls to 0 at 4: RMST to any later horizon is the area to 4
    assert rmst([1, 2, 3, 4], [1, 0, 1, 1], 10).estimate == pytest.approx(1 + 1.5 + 0.375)


def test_rmst_variance_without_censoring_is_the_sample_variance_over_n():
    x = np.array([0.4, 1.3, 2.0, 2.0, 3.7, 5.1, 8.2])
    res = rmst(x, np.ones(len(x)), horizon=20.0)
    assert res.estimate == pytest.approx(x.mean())
    assert res.variance == pytest.approx(((x - x.mean()) ** 2).sum() / len(x) ** 2)


def test_rmst_needs_follow_up_to_the_horizon():
    with pytest.raises(InputError, match="not known up to the horizon"):
        rmst([1, 2, 3], [1, 0, 0], 5.0)
    with pytest.raises(InputError, match="horizon"):
        rmst([1, 2, 3], [1, 0, 0], 0.0)
    table, pooled = stratified_rmst_difference(
        [1, 2, 9, 9, 1, 2, 3, 4], [1, 1, 0, 0, 1, 0, 0, 0], [1, 0, 1, 0, 1, 1, 0, 0], list("AAAABBBB"), 6.0
    )
    assert table.set_index("stratum").loc["B", "status"] == "not estimated: follow-up ends before the horizon"
    assert pooled["strata"] == 1 and table.set_index("stratum").loc["A", "weight"] == 1.0


def _piecewise_exponential(rng, n, rate, hr_early, change):
    """Times with hazard rate·hr_early before ``change`` and rate after (inversion of H)."""
    e = rng.exponential(1.0, n)
    early = rate * hr_early * change
    return np.where(e < early, e / (rate * hr_early), change + (e - early) / rate)


def _true_rmst(rate, hr_early, change, tau):
    def survival(t):
        h = rate * hr_early * min(t, change) + rate * max(t - change, 0.0)
        return math.exp(-h)

    return integrate.quad(survival, 0, tau, points=[change] if change < tau else None)[0]


# three strata with different prognoses and class mixes; acquired: HR 0.45 for 4 months, then 1
_STRATA = (("A", 0.12, 1200, 0.40), ("B", 0.25, 800, 0.15), ("C", 0.08, 600, 0.30))
_FADE = (0.45, 4.0)


def _fading_cohort(seed: int, scale: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for name, rate, n, share in _STRATA:
        n = int(round(n * scale))
        n_acq = int(round(n * share))
        acquired = np.r_[np.ones(n_acq), np.zeros(n - n_acq)].astype(int)
        t = np.where(
            acquired == 1,
            _piecewise_exponential(rng, n, rate, *_FADE),
            _piecewise_exponential(rng, n, rate, 1.0, _FADE[1]),
        )
        censor = rng.uniform(6.0, 30.0, n)
        rows.append(
            pd.DataFrame(
                {
                    "cancer_type": name,
                    "acquired": acquired,
                    "resistance_class": np.where(acquired == 1, "acquired", "primary"),
                    "pps_months": np.minimum(t, censor),
                    "pps_event": (t <= censor).astype(int),
                }
            )
        )
    data = pd.concat(rows, ignore_index=True)
    for covariate in pps.COVARIATES:  # a cohort that records none of the covariates
        data[covariate] = np.nan
    return data


def _true_pooled_difference(tau: float) -> float:
    diffs = [
        _true_rmst(rate, *_FADE, tau) - _true_rmst(rate, 1.0, _FADE[1], tau) for _, rate, _, _ in _STRATA
    ]
    weights = [n for _, _, n, _ in _STRATA]
    return float(np.average(diffs, weights=weights))


def test_rmst_difference_recovers_a_fading_advantage():
    """Non-proportional hazards the Cox model does not describe: the RMST CI covers the truth."""
    data = _fading_cohort(seed=11)
    truth = _true_pooled_difference(12.0)
    table = pps.rmst_table(data, rmst_months=12.0)
    pooled = table.set_index("set").loc[pps.POOLED_RMST]
    assert pooled["ci_low"] <= truth <= pooled["ci_high"]
    # weights are the acquired + primary patients of each type, as the simulator defines them
    per_type = table[table["set"] != pps.POOLED_RMST].set_index("set")
    assert per_type["weight"].tolist() == pytest.approx([1200 / 2600, 800 / 2600, 600 / 2600])
    for name, rate, _, _ in _STRATA:
        true = _true_rmst(rate, *_FADE, 12.0) - _true_rmst(rate, 1.0, _FADE[1], 12.0)
        row = per_type.loc[name]
        assert abs(row["difference"] - true) < 3.5 * (row["ci_high"] - row["ci_low"]) / (2 * 1.96)
    # the fade is what the proportional-hazards check is for: it flags it
    fit = pps.pooled_pps_cox(data)
    assert pps.ph_table(fit).iloc[0]["p"] < 0.01


def test_ph_check_of_a_stratified_model_ranks_time_not_rows():
    """lifelines' "rank" transform is the row order, which a stratified model sorts by stratum."""
    data = _fading_cohort(seed=11)
    fit = pps.pooled_pps_cox(data)
    ours = pps.ph_table(fit).iloc[0]
    rank = lambda t, c, w: t.where(c.astype(bool)).rank(method="first")  # noqa: E731
    direct = proportional_hazard_test(fit.model, fit.data, time_transform=rank).summary.iloc[0]
    assert ours["statistic"] == pytest.approx(float(direct["test_statistic"]), rel=1e-10)
    lifelines_rank = proportional_hazard_test(fit.model, fit.data, time_transform="rank").summary.iloc[0]
    assert lifelines_rank["p"] > 0.1 > 1e-6 > ours["p"]  # the row order misses the fade
    # one stratum: the rows are sorted by time, and the two agree
    single = sv.cox(data[["pps_months", "pps_event", "acquired"]], "pps_months", "pps_event")
    table = sv.proportional_hazards_test(single, data[["pps_months", "pps_event", "acquired"]])
    direct = proportional_hazard_test(
        single, data[["pps_months", "pps_event", "acquired"]], time_transform="rank"
    )
    assert table["statistic"].iloc[0] == pytest.approx(
        float(direct.summary["test_statistic"].iloc[0]), rel=1e-12
    )


def test_rmst_interval_has_nominal_coverage_on_fading_hazards():
    truth = _true_pooled_difference(12.0)
    covered, z = [], []
    for seed in range(60):
        data = _fading_cohort(seed=1000 + seed, scale=0.25)
        _, pooled = stratified_rmst_difference(
            data["pps_months"], data["pps_event"], data["acquired"], data["cancer_type"], 12.0
        )
        covered.append(pooled["ci_low"] <= truth <= pooled["ci_high"])
        z.append((pooled["difference"] - truth) / pooled["se"])
    assert 0.85 <= np.mean(covered) <= 1.0  # 60 data sets: sd of the coverage about 0.03
    assert abs(np.mean(z)) < 0.3 and 0.8 < np.std(z) < 1.2


def test_rmst_difference_of_two_groups_is_the_difference_of_their_rmsts():
    rng = np.random.default_rng(2)
    t, g = rng.exponential(6, 300), rng.integers(0, 2, 300)
    e = (rng.uniform(size=300) < 0.8).astype(int)
    d = rmst_difference(t, e, g, 5.0)
    one, zero = rmst(t[g == 1], e[g == 1], 5.0), rmst(t[g == 0], e[g == 0], 5.0)
    assert d["difference"] == pytest.approx(one.estimate - zero.estimate)
    assert d["se"] == pytest.approx(math.sqrt(one.variance + zero.variance))
    # one stratum: the stratified difference is the plain one
    _, pooled = stratified_rmst_difference(t, e, g, np.zeros(300), 5.0)
    assert pooled["difference"] == pytest.approx(d["difference"]) and pooled["se"] == pytest.approx(d["se"])


# ------------------------------------------------------------------------------------------
# the interaction test
# ------------------------------------------------------------------------------------------


def _hr_by_type(seed: int, hrs: dict[str, float], sizes: dict[str, int]) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for name, hr in hrs.items():
        n = sizes[name]
        acquired = (rng.uniform(size=n) < 0.3).astype(int)
        rate = 0.15 * np.where(acquired == 1, hr, 1.0)
        t = rng.exponential(1 / rate)
        censor = rng.uniform(3, 36, n)
        rows.append(
            pd.DataFrame(
                {
                    "cancer_type": name,
                    "acquired": acquired,
                    "resistance_class": np.where(acquired == 1, "acquired", "primary"),
                    "pps_months": np.minimum(t, censor),
                    "pps_event": (t <= censor).astype(int),
                }
            )
        )
    data = pd.concat(rows, ignore_index=True)
    for covariate in pps.COVARIATES:
        data[covariate] = np.nan
    return data


_SIZES = {"big": 2000, "b": 400, "c": 400, "d": 400}


def test_interaction_test_rejects_when_the_big_type_has_no_effect():
    data = _hr_by_type(7, {"big": 1.0, "b": 0.5, "c": 0.5, "d": 0.5}, _SIZES)
    per_type = pps.per_cancer_type_pps(data, 10)
    row = pps.interaction_table(data, per_type, 10).iloc[0]
    assert row["cancer_types"] == 4 and row["df"] == 3 and row["reference"] == "big"
    assert row["p"] < 0.001
    h = pps.heterogeneity_table(per_type, 10).iloc[0]
    assert h["p"] < 0.01 and h["tau2"] > 0 and h["i2_percent"] > 50
    assert "differs between cancer types" in pps_text.interaction_sentence(
        pps.interaction_table(data, per_type, 10)
    )


def test_interaction_test_keeps_its_level_under_a_common_effect():
    p_values = []
    for seed in range(20):
        data = _hr_by_type(
            100 + seed, {"big": 0.6, "b": 0.6, "c": 0.6, "d": 0.6}, {k: v // 4 for k, v in _SIZES.items()}
        )
        p_values.append(
            het.cox_interaction_test(data, "pps_months", "pps_event", "acquired", "cancer_type").p
        )
    assert np.sum(np.array(p_values) < 0.05) <= 3  # 20 null data sets: 1 rejection expected
    assert 0.3 < np.mean(p_values) < 0.7  # p about uniform under the null (mean 0.5, sd 0.06)


def test_full_interaction_model_is_the_per_stratum_fits():
    # stratified with one exposure term per stratum, the model factorises into per-stratum fits
    data = _hr_by_type(9, {"big": 1.0, "b": 0.5, "c": 0.7}, {"big": 600, "b": 300, "c": 300})
    test = het.cox_interaction_test(data, "pps_months", "pps_event", "acquired", "cancer_type")
    loglik, hrs = 0.0, {}
    for name, sub in data.groupby("cancer_type"):
        fit = sv.cox(sub[["pps_months", "pps_event", "acquired"]], "pps_months", "pps_event")
        loglik += fit.log_likelihood_
        hrs[name] = float(np.exp(fit.params_["acquired"]))
    assert test.loglik_full == pytest.approx(loglik, rel=1e-8)
    table = test.hazard_ratios.set_index("group")
    for name, hr in hrs.items():
        assert table.loc[name, "hr"] == pytest.approx(hr, rel=1e-6)
    pooled = sv.cox(
        data[["pps_months", "pps_event", "acquired", "cancer_type"]],
        "pps_months",
        "pps_event",
        strata="cancer_type",
    )
    assert test.loglik_reduced == pytest.approx(pooled.log_likelihood_, rel=1e-10)
    assert test.statistic == pytest.approx(2 * (loglik - pooled.log_likelihood_), rel=1e-6)


def test_interaction_needs_two_levels_and_variation():
    data = _hr_by_type(1, {"a": 0.5}, {"a": 200})
    with pytest.raises(InputError, match="at least two"):
        het.cox_interaction_test(data, "pps_months", "pps_event", "acquired", "cancer_type")
    data = _hr_by_type(1, {"a": 0.5, "b": 0.5}, {"a": 200, "b": 200})
    data.loc[data["cancer_type"] == "b", "acquired"] = 1
    with pytest.raises(InputError, match="does not vary"):
        het.cox_interaction_test(data, "pps_months", "pps_event", "acquired", "cancer_type")


# ------------------------------------------------------------------------------------------
# the chapter's tables, sentences and figures (small simulated cohort)
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_result(small_cohort, small_cohort_path) -> pps.PPSResult:
    return pps.survival_after_progression(small_cohort, 6.0, 6.0, 10, cohort_path=small_cohort_path)


def test_chapter_holds_the_new_tables(small_result):
    r = small_result
    s = r.analysis_set
    assert r.rmst_months == 12.0
    logrank = r.logrank.set_index("set")
    direct = stratified_logrank(s["pps_months"], s["pps_event"], s["acquired"], s["cancer_type"])
    assert logrank.loc["all cancer types (stratified by cancer type)", "chi2"] == pytest.approx(
        direct.statistic
    )
    assert r.logrank["set"].iloc[0] == "all cancer types (pooled, unstratified)"
    pd.testing.assert_frame_equal(r.rmst, pps.rmst_table(s, 12.0))
    pooled = r.rmst.set_index("set").loc[pps.POOLED_RMST]
    assert pooled["n_acquired"] + pooled["n_primary"] == len(s)  # RMST needs no covariate: nobody lost
    cc = r.complete_case.set_index("step")["patients"]
    assert cc["patients in the analysis set"] == r.pooled.n_input
    assert cc["in the model (complete cases)"] == r.pooled.n_used
    assert cc["… lacking TMB"] == int(s["log2_tmb"].isna().sum())
    # 800 patients: one cancer type has its own estimate, so nothing is tested, and the book says so
    assert not r.heterogeneity_assessed
    assert "not tested" in pps_text.interaction_sentence(r.interaction)
    assert "not assessed" in pps_text.heterogeneity_sentence(r.heterogeneity)
    assert r.shrinkage["deaths_acquired"].tolist() == r.per_cancer_type["deaths_acquired"].tolist()
    assert "stratified by cancer type, as the model is" in pps_text.logrank_sentence(r.logrank)
    assert "months (95% CI" in pps_text.rmst_sentence(r)


def test_rmst_months_is_checked_and_sets_the_horizon(small_cohort, small_result):
    with pytest.raises(InputError, match="rmst_months"):
        pps.survival_after_progression(small_cohort, rmst_months=0)
    with pytest.raises(InputError, match="rmst_months"):
        pps.rmst_table(small_result.analysis_set, rmst_months=float("nan"))
    short = pps.rmst_table(small_result.analysis_set, rmst_months=6.0).set_index("set")
    long = small_result.rmst.set_index("set")
    assert (short["rmst_primary"] < long["rmst_primary"]).all()
    assert (short["rmst_primary"] <= 6.0).all() and (long["rmst_acquired"] <= 12.0).all()
    assert "In the first 12 months after progression" in pps_text.rmst_sentence(small_result)


def test_planted_rmst_only_at_its_own_horizon(small_cohort_path, small_truth, small_result, tmp_path):
    assert pps.planted_pps_rmst(tmp_path, 12.0) is None  # no truth.json
    if "pps_rmst" not in small_truth:
        pytest.skip("the simulator records no pps_rmst yet")
    planted = small_truth["pps_rmst"]
    assert (
        pps.planted_pps_rmst(small_cohort_path, planted["rmst_months"])
        == planted["difference_months"]["pooled"]
    )
    assert pps.planted_pps_rmst(small_cohort_path, planted["rmst_months"] + 1.0) is None
    assert small_result.planted_rmst == planted["difference_months"]["pooled"]
    assert "Simulated cohort: the planted difference is" in pps_text.rmst_sentence(small_result)


def test_figures_draw_the_shrunken_estimates_and_the_rmst(small_result):
    data = _hr_by_type(7, {"big": 1.0, "b": 0.5, "c": 0.5, "d": 0.5, "tiny": 0.5}, {**_SIZES, "tiny": 30})
    per_all = pps.per_cancer_type_pps(data, 1)
    per_type = pps.per_cancer_type_pps(data, 10)
    r = dataclasses.replace(
        small_result,
        shrinkage=pps.shrinkage_table(per_all, 10),
        heterogeneity=pps.heterogeneity_table(per_type, 10),
        rmst=pps.rmst_table(data, 12.0),
        planted_rmst=1.0,
    )
    assert r.heterogeneity_assessed
    assert r.shrinkage.set_index("cancer_type").loc["tiny", "few_deaths"]
    fig = pps_plots.shrinkage_figure(r, count=lambda n: f"n{n}")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[-1] == "Random-effects mean" and any("few deaths" in label for label in labels)
    plt.close(fig)
    fig = pps_plots.rmst_figure(r)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[-1].startswith(pps.POOLED_RMST)
    assert any("planted" in t.get_text() for t in fig.axes[0].get_legend().get_texts())
    plt.close(fig)


# ------------------------------------------------------------------------------------------
# the simulator's scenarios (where the simulator has them)
# ------------------------------------------------------------------------------------------

_HAS_SCENARIOS = "scenario" in inspect.signature(simulate_cohort).parameters
needs_scenarios = pytest.mark.skipif(not _HAS_SCENARIOS, reason="simulate_cohort has no scenario= yet")


def _scenario(tmp_path_factory, scenario: str, n: int, seed: int = 0) -> tuple[pd.DataFrame, Path]:
    """The survival-after-progression set of a simulated scenario, and its folder (for the truth)."""
    path = tmp_path_factory.mktemp("scenarios") / scenario
    cohort, truth = simulate_cohort(n_patients=n, seed=seed, scenario=scenario)
    save_simulated(cohort, truth, path)
    cohort = Cohort.load(path)
    return pps.pps_analysis_set(derive.patient_table(cohort, 6.0, 6.0)), path


# 3,000 patients: the interaction (HR 1 in NSCLC vs 0.6 elsewhere) and the fade (HR 0.45 for
# 4 months, then 1) are detected at 0.05 with room to spare (p about 0.002 and 0.001 at seed 0)
@pytest.fixture(scope="session")
def heterogeneous_set(tmp_path_factory) -> pd.DataFrame:
    return _scenario(tmp_path_factory, "heterogeneous", 3000)[0]


@pytest.fixture(scope="session")
def non_ph_set(tmp_path_factory) -> tuple[pd.DataFrame, Path]:
    return _scenario(tmp_path_factory, "non_ph", 3000)


@needs_scenarios
def test_heterogeneous_scenario_interaction_test_rejects(heterogeneous_set):
    interaction = pps.interaction_table(heterogeneous_set, pps.per_cancer_type_pps(heterogeneous_set, 10), 10)
    row = interaction.iloc[0]
    assert row["reference"] == "NSCLC" and row["p"] < 0.05, interaction.to_string()
    assert "differs between cancer types" in pps_text.interaction_sentence(interaction)


@needs_scenarios
def test_non_ph_scenario_flags_the_fade_and_the_rmst_covers_the_truth(non_ph_set):
    data, path = non_ph_set
    ph = pps.ph_table(pps.pooled_pps_cox(data))
    assert ph.iloc[0]["covariate"] == "acquired"
    assert ph.iloc[0]["p"] < 0.05, ph.to_string()
    planted = pps.planted_pps_rmst(path, 12.0)
    assert planted is not None
    pooled = pps.rmst_table(data, 12.0).set_index("set").loc[pps.POOLED_RMST]
    assert pooled["ci_low"] <= planted <= pooled["ci_high"], (planted, pooled.to_dict())
