"""Chapter 7, pooled biomarkers: random effects with Hartung–Knapp intervals, per-cohort
estimates per within-cohort SD, no overlapping cohorts, and the chapter's result on the public
cohorts.

The pooling function must reproduce R metafor 3.8-1 ``rma(yi, vi, method="DL", test="knha")``
on ``dat.bcg`` (``../shared/reference/meta_knha_*``) to 1e-6 and small cases worked out by hand;
the per-cohort estimates of one real cohort are recomputed independently (statsmodels' formula
``logit`` and lifelines' ``CoxPHFitter`` on the raw ssGSEA scores, from the tidy tables).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from lifelines import CoxPHFitter
from scipy import stats

from helpers.analysis import tme
from helpers.analysis import validation as v
from helpers.analysis.validation import biomarkers as bm
from helpers.book.sentences import validation as validation_text
from helpers.errors import InputError, ParameterError
from helpers.plots import validation as validation_plots
from helpers.stats.meta import random_effects_hk

GIDE = "gide2019_melanoma_pd1"


# ----------------------------------------------------------------------------------------
# the pooling function
# ----------------------------------------------------------------------------------------
def test_random_effects_hk_reproduces_metafor_knha(reference_dir):
    data = pd.read_csv(reference_dir / "meta_knha_input.tsv", sep="\t")
    ref = json.loads((reference_dir / "meta_knha_reference.json").read_text())
    res = random_effects_hk(data["yi"], np.sqrt(data["vi"]))
    got = {
        "estimate": res.estimate,
        "se": res.se,
        "ci_low": res.ci_low,
        "ci_high": res.ci_high,
        "pval": res.p,
        "tau2": res.tau2,
        "i2": res.i2,
        "q": res.q,
        "df": res.df,
    }
    for key, value in got.items():
        assert value == pytest.approx(ref[key], abs=1e-6, rel=0), key
    assert res.k == 13
    assert res.weights.sum() == pytest.approx(100)


def test_random_effects_hk_two_studies_by_hand():
    # y = 0, 1 with se 1: Q = 0.5 < df = 1, so tau2 = 0 and the pool is the fixed-effect mean 0.5;
    # HK variance = sum w_rel (y - mu)^2 / df = 0.25, below the Wald 0.5 (factor 0.5, untruncated)
    res = random_effects_hk([0.0, 1.0], [1.0, 1.0])
    t = stats.t.ppf(0.975, 1)
    assert res.tau2 == 0 and res.i2 == 0
    assert res.q == pytest.approx(0.5)
    assert res.estimate == pytest.approx(0.5)
    assert res.se == pytest.approx(0.5)
    assert res.wald_se == pytest.approx(np.sqrt(0.5))
    assert res.hk_factor == pytest.approx(0.5)
    assert (res.ci_low, res.ci_high) == pytest.approx((0.5 - t * 0.5, 0.5 + t * 0.5))
    assert res.p == pytest.approx(0.5)  # t = 1 on 1 df


def test_random_effects_hk_three_studies_by_hand():
    # y = 0, 2, 4 with se 1: Q = 8, c = 3 - 3/3 = 2, tau2 = (8 - 2)/2 = 3, I² = 75 %;
    # w* = 1/4 each, mean 2, Wald var 4/3; HK factor sum w*(y-mu)^2/df = (8/4)/2 = 1
    res = random_effects_hk([0.0, 2.0, 4.0], [1.0, 1.0, 1.0])
    assert res.tau2 == pytest.approx(3.0)
    assert res.i2 == pytest.approx(75.0)
    assert res.q == pytest.approx(8.0) and res.df == 2
    assert res.p_q == pytest.approx(stats.chi2.sf(8, 2))
    assert res.estimate == pytest.approx(2.0)
    assert res.se == pytest.approx(np.sqrt(4 / 3))
    assert res.hk_factor == pytest.approx(1.0)
    assert res.p == pytest.approx(2 * stats.t.sf(2 / np.sqrt(4 / 3), 2))


def test_random_effects_hk_truncates_tau2_when_q_below_df():
    # statsmodels' DL tau2 is (0.02 - 2)/2 < 0 here; the pool must use tau2 = 0
    res = random_effects_hk([0.0, 0.1, 0.2], [1.0, 1.0, 1.0])
    assert res.tau2 == 0 and res.i2 == 0
    assert res.estimate == pytest.approx(0.1)
    se = np.sqrt((1 / 3) * 0.02 / 2)
    assert res.se == pytest.approx(se)
    assert res.hk_factor == pytest.approx(0.01)
    half = stats.t.ppf(0.975, 2) * se
    assert (res.ci_low, res.ci_high) == pytest.approx((0.1 - half, 0.1 + half))


@pytest.mark.parametrize(
    "estimates, ses",
    [([0.1], [0.2]), ([0.1, np.nan], [0.2, 0.3]), ([0.1, 0.2], [0.2, 0.0]), ([0.1, 0.2], [0.2])],
)
def test_random_effects_hk_rejects_bad_input(estimates, ses):
    with pytest.raises(InputError):
        random_effects_hk(estimates, ses)


# ----------------------------------------------------------------------------------------
# overlapping cohorts
# ----------------------------------------------------------------------------------------
def test_overlapping_cohorts_are_refused(public_dir):
    with pytest.raises(ParameterError, match="share patients"):
        v.check_no_overlap(["riaz2017_melanoma_nivolumab", "morrison1_melanoma_campbell2023"])
    with pytest.raises(ParameterError, match="share patients"):
        v.check_no_overlap(["chowell2021_pancancer_msk", "samstein2019_tmb_mskcc"])
    public = v.PublicCohorts(directory=public_dir)
    with pytest.raises(ParameterError):
        v.biomarker_meta(public, cohorts=[*v.BIOMARKER_COHORTS, "morrison1_melanoma_campbell2023"])
    fake = pd.DataFrame(
        {
            "folder": ["gide2019_melanoma_pd1", "morrison1_melanoma_campbell2023"],
            "cohort": ["Gide", "MORRISON-1"],
            "outcome": "response",
            "signature": "IFNG_AYERS2017",
            "n": 40,
            "events": 10,
            "log_effect": [0.5, 0.6],
            "se": [0.3, 0.3],
        }
    )
    with pytest.raises(ParameterError):
        bm.pool_estimates(fake)


def test_default_cohorts_share_no_patients():
    v.check_no_overlap(v.BIOMARKER_COHORTS)
    assert "morrison1_melanoma_campbell2023" not in v.BIOMARKER_COHORTS
    for overlap in v.OVERLAP_SETS:
        assert len(overlap & set(v.BIOMARKER_COHORTS)) <= 1


# ----------------------------------------------------------------------------------------
# the chapter's result on the public cohorts
# ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def meta(public_dir):
    # only the folder is read, so the cohorts are not imported here
    return v.biomarker_meta(v.PublicCohorts(directory=public_dir))


def test_per_cohort_estimates_match_an_independent_fit(public_dir, meta):
    """Gide 2019: Logit and Cox on the raw ssGSEA score times its SD, from the tidy tables."""
    scored = tme.score_public_cohort(public_dir, GIDE)
    clinical = pd.read_csv(public_dir / GIDE / "clinical.tsv", sep="\t", dtype={"patient_id": str})
    samples = pd.read_csv(public_dir / GIDE / "samples.tsv", sep="\t", dtype=str)
    data = samples.merge(clinical, on="patient_id")
    # the scaled score is linear in the raw one, so the per-SD effect is the same on either
    data["raw"] = scored.tme.raw.loc["IFNG_AYERS2017", data["sample_id"]].to_numpy()
    resp = data[data["best_overall_response"].isin(["CR", "PR", "SD", "PD"])].copy()
    resp["y"] = resp["best_overall_response"].isin(["CR", "PR"]).astype(int)
    fit = smf.logit("y ~ raw", data=resp).fit(disp=0)
    sd = resp["raw"].std()
    row = meta.estimates[
        (meta.estimates["folder"] == GIDE)
        & (meta.estimates["signature"] == "IFNG_AYERS2017")
        & (meta.estimates["outcome"] == "response")
    ].iloc[0]
    assert row["n"] == len(resp) == 41 and row["events"] == 19
    assert row["log_effect"] == pytest.approx(fit.params["raw"] * sd, rel=1e-6)
    assert row["se"] == pytest.approx(fit.bse["raw"] * sd, rel=1e-6)
    assert row["p"] == pytest.approx(fit.pvalues["raw"], rel=1e-5)

    os_ = data[data["os_months"].notna()][["os_months", "os_event", "raw"]]
    # lifelines' default stopping rule is looser than R's; iterate to convergence
    cph = CoxPHFitter().fit(
        os_, "os_months", "os_event", fit_options={"precision": 1e-12, "r_precision": 0.0}
    )
    sd = os_["raw"].std()
    row = meta.estimates[
        (meta.estimates["folder"] == GIDE)
        & (meta.estimates["signature"] == "IFNG_AYERS2017")
        & (meta.estimates["outcome"] == "overall survival")
    ].iloc[0]
    assert row["n"] == 41 and row["events"] == 24
    assert row["log_effect"] == pytest.approx(cph.params_["raw"] * sd, rel=1e-5)
    assert row["se"] == pytest.approx(cph.standard_errors_["raw"] * sd, rel=1e-5)


def test_miao_uses_corrected_event_flags(meta):
    # SOURCE.md: the PredictioR flags are censoring flags; after inversion there are 10 deaths
    assert meta.cohorts.loc["Miao 2018", "OS: deaths"] == 10
    assert meta.cohorts.loc["Miao 2018", "OS: patients"] == 33


def test_pooled_result_on_the_public_cohorts(meta):
    assert meta.missing is None
    assert list(meta.cohorts.index) == [
        "Riaz 2017",
        "Gide 2019",
        "Van Allen 2015",
        "Miao 2018",
        "Hugo 2016",
        "IMvigor210",
    ]
    assert {"cancer type", "ICB agent", "drug class"} <= set(meta.cohorts.columns)
    # Hugo records CR/PR/PD only; it still enters the response analysis (CR/PR vs PD)
    assert meta.cohorts.loc["Hugo 2016", "response: evaluable"] == 27
    left = set(meta.left_out["cohort"])
    assert v.PUBLIC_COHORTS["morrison1_melanoma_campbell2023"] in left
    pooled = meta.pooled
    for signature in v.HEADLINE_SIGNATURES:
        for outcome in ("response", "overall survival"):
            row = meta.pooled_row(signature, outcome)
            assert row is not None and row["k"] >= 5, (signature, outcome)
            assert row["effect_low"] < row["effect"] < row["effect_high"]
            assert 0 <= row["i2"] <= 100 and row["tau2"] >= 0
            assert row["q_bh"] >= row["p"]
            # the pool is the HK pool of the cohort estimates shown
            est = meta.estimates[
                (meta.estimates["signature"] == signature) & (meta.estimates["outcome"] == outcome)
            ]
            again = random_effects_hk(est["log_effect"], est["se"])
            assert row["log_estimate"] == pytest.approx(again.estimate)
            assert row["se"] == pytest.approx(again.se)
    # no pooled row mixes overlapping cohorts
    for names in pooled["cohorts"]:
        assert "MORRISON" not in names
    mel = pooled[pooled["analysis"] == "melanoma anti-PD-1"]
    assert set(mel["cohorts"]) == {"Riaz 2017, Gide 2019, Hugo 2016"}
    assert set(meta.summary.index) == set(tme.ICB_SIGNATURES)
    # a regression guard on the headline number (IFN-γ, response, all cohorts)
    assert meta.pooled_row("IFNG_AYERS2017", "response")["effect"] == pytest.approx(1.6462, abs=1e-3)


def test_forest_plots_and_sentences(meta):
    for signature, name in v.HEADLINE_SIGNATURES.items():
        fig = validation_plots.biomarker_forest_figure(meta.estimates, meta.pooled, signature, name)
        assert isinstance(fig, plt.Figure) and len(fig.axes) == 2
        labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
        assert any("Riaz 2017" in t and "nivolumab" in t for t in labels)
        assert not any("simulated" in t.get_text().lower() for t in fig.findobj(matplotlib.text.Text))
        plt.close(fig)
        text = validation_text.biomarker_sentence(meta, signature)
        assert "per within-cohort SD" in text and "odds ratio" in text
    assert "6 public cohorts" in validation_text.biomarker_cohorts_sentence(meta)


def test_without_public_cohorts_the_section_says_so():
    empty = v.biomarker_meta(v.PublicCohorts(missing=v.NOT_FOUND, directory=None))
    assert empty.missing == v.NOT_FOUND and empty.pooled.empty
    fig = validation_plots.biomarker_forest_figure(empty.estimates, empty.pooled, "IFNG_AYERS2017")
    assert isinstance(fig, plt.Figure)
    plt.close(fig)
    assert validation_text.biomarker_sentence(empty, "IFNG_AYERS2017") == v.NOT_FOUND
