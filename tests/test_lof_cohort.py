"""Tests of the cohort-level acquired-LoF analysis (helpers.analysis.lof, chapter 4): the batched Firth
fits against firth_logistic, the sample rules, a hand-made cohort outside the simulator's model
(baseline selection, a depleted gene, an acquired one), recovery of the planted genes that the
default simulated cohort has the power to detect, the false discovery proportion over several
simulated cohorts, the ``selection`` scenario, cohorts that cannot answer the question (no
post-progression DNA, as in IMvigor210), and the chapter's tables, sentences and figures."""

from __future__ import annotations

import dataclasses
from math import comb
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import papermill as pm  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

from helpers.analysis import lof  # noqa: E402
from helpers.analysis.lof import (  # noqa: E402
    PRIMARY_COMPARISON,
    SECONDARY_COMPARISON,
    acquired_lof_analysis,
    compare_groups,
    discovery_report,
    lof_covariates,
    paired_gain_test,
    select_lof_samples,
)
from helpers.book.sentences import lof as lof_text  # noqa: E402
from helpers.data.cohort import Cohort, sample_timepoints  # noqa: E402
from helpers.data.importers import import_tidy  # noqa: E402
from helpers.data.validate import validate  # noqa: E402
from helpers.errors import InputError  # noqa: E402
from helpers.plots import lof as lof_plots  # noqa: E402
from helpers.simulate import simulate_cohort  # noqa: E402
from helpers.stats.firth import firth_logistic, firth_logistic_batch  # noqa: E402
from helpers.stats.multiple import benjamini_hochberg  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------
# vectorised Firth = firth_logistic, gene by gene
# ------------------------------------------------------------------------------------------


def _sparse_design(seed: int = 5, n: int = 400, genes: int = 25):
    rng = np.random.default_rng(seed)
    group = (rng.random(n) < 0.15).astype(float)
    log_tmb = rng.normal(3.0, 1.0, n)
    purity = rng.uniform(0.2, 0.9, n)
    X = np.column_stack([np.ones(n), group, log_tmb, purity])
    rate = rng.uniform(0.005, 0.05, genes)
    Y = (rng.random((n, genes)) < rate * np.exp(0.4 * (log_tmb[:, None] - 3))).astype(float)
    Y[:, 0] = 0.0  # complete separation: every carrier in the group
    Y[np.flatnonzero(group)[:4], 0] = 1.0
    Y = Y[:, Y.sum(axis=0) >= 3]
    return X, Y


def test_batch_firth_equals_firth_logistic_per_gene():
    X, Y = _sparse_design()
    batch = firth_logistic_batch(X, Y, k=1)
    design = pd.DataFrame(X[:, 1:], columns=["group", "log_tmb", "purity"])
    assert batch.coef.shape == batch.se.shape == (4, Y.shape[1]) and batch.profiled == 1
    for j in range(Y.shape[1]):
        fit = firth_logistic(Y[:, j], design, profile="group")
        # every coefficient and standard error, not only the tested one
        assert batch.coef[:, j] == pytest.approx(fit.coef.to_numpy(), abs=1e-6)
        assert batch.se[:, j] == pytest.approx(fit.se.to_numpy(), rel=1e-6)
        assert batch.p_value[j] == pytest.approx(fit.p_value["group"], rel=1e-6)
        assert batch.ci_lower[j] == pytest.approx(fit.ci_lower["group"], abs=1e-6)
        assert batch.ci_upper[j] == pytest.approx(fit.ci_upper["group"], abs=1e-6)
    assert batch.converged.all()
    # the separated gene keeps a finite estimate and a finite interval
    assert np.isfinite(batch.ci_upper[0]) and batch.ci_lower[0] > 0
    without = firth_logistic_batch(X, Y, k=1, profile_ci=False)
    assert np.isnan(without.ci_lower).all() and np.isnan(without.ci_upper).all()
    assert without.p_value == pytest.approx(batch.p_value, rel=1e-9)


def test_batch_firth_two_by_two_closed_form():
    # with one binary covariate the Firth estimate is the log odds ratio of the table with 0.5
    # added to every cell (see test_lof.py), for every outcome at once
    n1, n0 = 30, 70
    X = np.column_stack([np.ones(n1 + n0), np.r_[np.ones(n1), np.zeros(n0)]])
    tables = [(7, 2), (3, 9), (5, 0), (0, 4)]
    Y = np.zeros((n1 + n0, len(tables)))
    for j, (a, c) in enumerate(tables):
        Y[:a, j] = 1.0
        Y[n1 : n1 + c, j] = 1.0
    batch = firth_logistic_batch(X, Y, k=1)
    for j, (a, c) in enumerate(tables):
        expected = np.log(((a + 0.5) / (n1 - a + 0.5)) / ((c + 0.5) / (n0 - c + 0.5)))
        assert batch.coef[1, j] == pytest.approx(expected, abs=1e-7)


def test_compare_groups_batches_panel_patterns_like_a_loop():
    # two panels: genes G3/G4 are missing on the small panel, so they form a second pattern
    rng = np.random.default_rng(11)
    n = 300
    index = [f"s{i}" for i in range(n)]
    lof_values = (rng.random((n, 5)) < [0.05, 0.08, 0.04, 0.06, 0.10]).astype(float)
    small_panel = rng.random(n) < 0.3
    lof_values[small_panel, 3:] = np.nan
    matrix = pd.DataFrame(lof_values, index=index, columns=["G0", "G1", "G2", "G3", "G4"])
    labels = pd.Series(np.where(rng.random(n) < 0.2, "post", "pre"), index=index)
    covariates = pd.DataFrame(
        {
            "log2_tmb": rng.normal(3, 1, n),
            "purity": np.where(rng.random(n) < 0.1, np.nan, rng.uniform(0.2, 0.9, n)),
            "msi": 0.0,
        },
        index=index,
    )
    out = compare_groups(matrix, labels, covariates, case_group="post").set_index("gene")
    for gene in matrix.columns:
        status = matrix[gene]
        keep = status.notna() & covariates["purity"].notna()
        design = pd.concat(
            [
                (labels[keep] == "post").astype(float).rename("group"),
                covariates.loc[keep, ["log2_tmb", "purity"]],
            ],
            axis=1,
        )
        fit = firth_logistic(status[keep], design, profile="group")
        assert out.loc[gene, "firth_or"] == pytest.approx(np.exp(fit.coef["group"]), rel=1e-6)
        assert out.loc[gene, "firth_p"] == pytest.approx(fit.p_value["group"], rel=1e-6)
        assert out.loc[gene, "firth_ci_upper"] == pytest.approx(np.exp(fit.ci_upper["group"]), rel=1e-5)
        assert out.loc[gene, "firth_n"] == int(keep.sum())
        assert out.loc[gene, "firth_dropped"] == "msi (constant)"
        assert out.loc[gene, "max_p"] == pytest.approx(
            max(out.loc[gene, "firth_p"], out.loc[gene, "fisher_p"])
        )
    q = benjamini_hochberg(out["max_p"].to_numpy())
    assert out["max_q"].to_numpy() == pytest.approx(q)


def test_firth_tail_is_too_small_where_fisher_is_exact():
    # 23 vs 318 samples, 3 carriers, all in the small group: under the null the chance of this
    # table is C(23,3)/C(341,3) = 2.70e-4, which is Fisher's two-sided p. The Firth penalised LRT
    # gives p < 1e-4: a nominal 1e-4 Firth test rejects with probability 2.7e-4 (methods page),
    # which is why a gene is found only when the larger of the two p-values passes.
    n1, n0 = 23, 318
    index = [f"s{i}" for i in range(n1 + n0)]
    matrix = pd.DataFrame({"G": np.r_[np.ones(3), np.zeros(n1 + n0 - 3)]}, index=index)
    labels = pd.Series(["post"] * n1 + ["pre"] * n0, index=index)
    row = compare_groups(matrix, labels, case_group="post").iloc[0]
    exact = comb(23, 3) / comb(341, 3)
    assert exact == pytest.approx(2.70e-4, rel=0.01)
    assert row["fisher_p"] == pytest.approx(exact, rel=1e-9)
    assert row["firth_p"] < 1e-4 < exact
    assert row["max_p"] == row["fisher_p"]


def test_paired_gain_test_min_carriers():
    patients = [f"p{i}" for i in range(10)]
    pre = pd.DataFrame(0.0, index=patients, columns=["A", "B"])
    post = pre.copy()
    post.iloc[:6, 0] = 1.0  # A: 6 gained
    post.iloc[0, 1] = 1.0  # B: 1 gained -> 1 carrier
    out = paired_gain_test(pre, post, min_carriers=3).set_index("gene")
    assert out.loc["A", "tested"] and out.loc["A", "p_value"] == pytest.approx(2 / 2**6)
    assert not out.loc["B", "tested"] and out.loc["B", "reason"] == "fewer than 3 carriers (1)"
    assert np.isnan(out.loc["B", "p_value"])
    assert out.loc["A", "q_value"] == pytest.approx(2 / 2**6)  # B is not counted by BH
    with pytest.raises(InputError, match="min_carriers"):
        paired_gain_test(pre, post, min_carriers=0)


# ------------------------------------------------------------------------------------------
# sample rules and covariates
# ------------------------------------------------------------------------------------------


def _sample_table() -> pd.DataFrame:
    rows = [
        # patient A, acquired: two pre (nearest day 0 wins), two post (earliest wins)
        ("a1", "A", -400.0, "pre", True, "NSCLC", "acquired"),
        ("a2", "A", -5.0, "pre", True, "NSCLC", "acquired"),
        ("a3", "A", 300.0, "post", True, "NSCLC", "acquired"),
        ("a4", "A", 250.0, "post", True, "NSCLC", "acquired"),
        # patient B, primary: a pre sample and a post sample; an RNA-only post is ignored
        ("b1", "B", -10.0, "pre", True, "NSCLC", "primary"),
        ("b0", "B", 70.0, "post", False, "NSCLC", "primary"),
        ("b2", "B", 90.0, "post", True, "NSCLC", "primary"),
        # patient C, not evaluable: its post sample is not used, its pre sample is
        ("c1", "C", -2.0, "pre", True, "NSCLC", "not_evaluable"),
        ("c2", "C", 120.0, "post", True, "NSCLC", "not_evaluable"),
        # patient D: an undated pre sample (source label) loses to a dated one; same-day tie by id
        ("d9", "D", np.nan, "pre", True, "HNSCC", "acquired"),
        ("d2", "D", -1.0, "pre", True, "HNSCC", "acquired"),
        ("d1", "D", -1.0, "pre", True, "HNSCC", "acquired"),
        ("d3", "D", 400.0, "on", True, "HNSCC", "acquired"),
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "sample_id",
            "patient_id",
            "collection_day",
            "timepoint",
            "has_dna",
            "cancer_type",
            "resistance_class",
        ],
    )


def test_select_lof_samples_rules():
    chosen = select_lof_samples(_sample_table()).set_index("sample_id")
    assert sorted(chosen.index) == ["a2", "a4", "b1", "b2", "c1", "d1"]
    assert chosen.loc["a2", "group"] == "pre" and chosen.loc["a4", "group"] == "post_acquired"
    assert chosen.loc["b2", "group"] == "post_primary"
    # A has an acquired post sample: its pre sample is kept for pairs, not as a reference
    assert not chosen.loc["a2", ["primary_reference", "all_pre_reference"]].any()
    # the primary comparison's reference: pre samples of acquired patients only (D)
    assert chosen.index[chosen["primary_reference"]].tolist() == ["d1"]
    # the secondary comparison's reference: every other pre sample, whatever the class
    assert sorted(chosen.index[chosen["all_pre_reference"]]) == ["b1", "c1", "d1"]
    assert not chosen.loc[["a4", "b2"], ["primary_reference", "all_pre_reference"]].any().any()
    with pytest.raises(InputError, match="resistance_class"):
        select_lof_samples(_sample_table().drop(columns="resistance_class"))


def test_lof_covariates():
    samples = pd.DataFrame(
        {
            "sample_id": ["s1", "s2", "s3"],
            "tmb": [0.0, 3.0, np.nan],
            "purity": [0.5, np.nan, 0.9],
            "msi": pd.array([True, False, None], dtype="boolean"),
        }
    )
    cov = lof_covariates(samples, tmb=pd.Series({"s3": 7.0}))
    assert cov["log2_tmb"].tolist() == pytest.approx([0.0, 2.0, 3.0])  # log2(TMB + 1)
    assert cov["msi"].iloc[:2].tolist() == [1.0, 0.0] and np.isnan(cov["msi"].iloc[2])
    assert np.isnan(cov.loc["s2", "purity"])
    with pytest.raises(InputError, match="column 'tmb': must not be negative"):
        lof_covariates(samples.assign(tmb=[-1.0, 0.0, 0.0]))
    with pytest.raises(InputError, match=r"column 'purity': must lie in \[0, 1\]"):
        lof_covariates(samples.assign(purity=[1.5, 0.1, 0.2]))


# ------------------------------------------------------------------------------------------
# a hand-made cohort: baseline selection, depletion and acquisition, not in the simulator's model
# ------------------------------------------------------------------------------------------

#: Baseline LoF prevalence by class of the hand-made cohort's genes, and what happens after
#: acquired resistance ("carried": the post sample carries the LoF iff the pre-treatment tumour
#: did; "lost": 90% of the carriers lose it; "gained": 35% of the non-carriers gain it).
HANDMADE_GENES = {
    # a LoF that predicts benefit (PBRM1-like): common before treatment in patients who benefit
    "SELB": ({"acquired": 0.30, "ongoing": 0.30, "primary": 0.05}, "carried"),
    # a LoF that predicts primary resistance (STK11-like): rare among patients who benefit
    "SELR": ({"acquired": 0.02, "ongoing": 0.02, "primary": 0.30}, "carried"),
    # a LoF that is *lost* after acquired resistance: depleted in the primary comparison
    "LOST": ({"acquired": 0.25, "ongoing": 0.25, "primary": 0.25}, "lost"),
    # a LoF acquired after acquired resistance: the one gene that must be found
    "GAIN": ({"acquired": 0.02, "ongoing": 0.02, "primary": 0.02}, "gained"),
    **{f"NULL{i:02d}": ({"acquired": 0.06, "ongoing": 0.06, "primary": 0.06}, "carried") for i in range(10)},
}


def _handmade_cohort(n: int = 1500, seed: int = 7) -> tuple[Cohort, pd.DataFrame]:
    """A whole-exome cohort of one cancer type whose classes come from best response and timing.

    Not the simulator: classes are drawn first and the courses written to match them (acquired:
    PR, progression after 8-23 months; primary: PD within 3 months; ongoing: PR, no progression),
    baseline LoF depends on the class (:data:`HANDMADE_GENES`), TMB and purity are independent of
    everything. Returns the cohort and the per-patient truth (class, pre/post sample ids).
    """
    rng = np.random.default_rng(seed)
    ids = [f"P{i:05d}" for i in range(n)]
    cls = rng.choice(["acquired", "primary", "ongoing"], size=n, p=[0.35, 0.45, 0.20])
    progression = np.where(
        cls == "acquired",
        rng.uniform(240, 700, n),
        np.where(cls == "primary", rng.uniform(40, 100, n), np.nan),
    )
    courses = pd.DataFrame(
        {
            "patient_id": ids,
            "line": 1.0,
            "regimen": "anti-PD-1",
            "start_day": 0.0,
            "best_response": np.where(cls == "primary", "PD", "PR"),
            "progression_day": progression,
            "last_assessment_day": np.where(
                cls == "primary", np.nan, np.where(cls == "acquired", progression - 60, 500.0)
            ),
        }
    )
    patients = pd.DataFrame(
        {
            "patient_id": ids,
            "cancer_type": "Lung",
            "sex": rng.choice(["female", "male"], size=n),
            "age_at_icb": rng.uniform(40, 85, n),
            "last_followup_day": 900.0,
            "death": False,
        }
    )
    has_pre = rng.random(n) < 0.9
    has_post = np.where(
        cls == "acquired", rng.random(n) < 0.5, np.where(cls == "primary", rng.random(n) < 0.3, False)
    )
    rows, truth = [], []
    for i, pid in enumerate(ids):
        pre_id = f"S{i:05d}a" if has_pre[i] else None
        post_id = f"S{i:05d}b" if has_post[i] else None
        for sid, day in ((pre_id, -10.0), (post_id, progression[i] + 14)):
            if sid is not None:
                rows.append((sid, pid, day))
        truth.append((pid, cls[i], pre_id, post_id))
    samples = pd.DataFrame(rows, columns=["sample_id", "patient_id", "collection_day"])
    samples["assay"] = "DNA"
    samples["tmb"] = np.exp(rng.normal(1.5, 0.8, len(samples)))
    samples["purity"] = rng.uniform(0.3, 0.9, len(samples))
    samples["msi"] = False
    truth_table = pd.DataFrame(truth, columns=["patient_id", "class", "pre", "post"])
    mutations = []
    for gene, (prevalence, after) in HANDMADE_GENES.items():
        baseline = rng.random(n) < np.array([prevalence[c] for c in cls])
        post = baseline.copy()
        acquired = cls == "acquired"
        if after == "lost":
            post &= ~(acquired & (rng.random(n) < 0.9))
        elif after == "gained":
            post |= acquired & (rng.random(n) < 0.35)
        for i in range(n):
            for sid, carrier in ((truth[i][2], baseline[i]), (truth[i][3], post[i])):
                if sid is not None and carrier:
                    mutations.append((sid, gene, "Nonsense_Mutation"))
    mutations = pd.DataFrame(mutations, columns=["sample_id", "gene", "variant_classification"])
    cohort = Cohort(
        tables={"patients": patients, "icb_courses": courses, "samples": samples, "mutations": mutations},
        meta={"name": "hand-made selection cohort", "simulated": False, "access": "open"},
    )
    return cohort, truth_table


@pytest.fixture(scope="module")
def handmade():
    cohort, truth = _handmade_cohort()
    validate(cohort)
    return cohort, truth, acquired_lof_analysis(cohort)


def _row(result, gene: str, comparison: str = PRIMARY_COMPARISON) -> pd.Series:
    rows = result.results
    return rows[(rows["gene"] == gene) & (rows["comparison"] == comparison)].iloc[0]


def test_handmade_cohort_groups_are_the_planned_ones(handmade):
    cohort, truth, result = handmade
    acquired = truth[truth["class"] == "acquired"]
    # the reference of the primary comparison: acquired patients with a pre sample and no post
    # sample; a patient with both counts in the post group only (counted here from the plan)
    expected = int((acquired["pre"].notna() & acquired["post"].isna()).sum())
    availability = result.availability.loc["Lung"]
    assert availability["pre-treatment, primary comparison"] == expected
    assert availability["post-progression, acquired"] == int(acquired["post"].notna().sum())
    assert availability["pairs, acquired"] == int((acquired["pre"].notna() & acquired["post"].notna()).sum())
    unpaired_pre = truth["pre"].notna() & ~(truth["post"].notna() & (truth["class"] == "acquired"))
    assert availability["pre-treatment, all patients (secondary)"] == int(unpaired_pre.sum())
    # every class came out as planned (the book's classifier on courses written for it)
    chosen = result.samples.set_index("patient_id")
    classes = chosen["resistance_class"].groupby(level=0).first()
    planned = truth.set_index("patient_id")["class"].replace({"ongoing": "ongoing_benefit"})
    assert (classes == planned.loc[classes.index]).all()
    # GAIN, in the primary comparison: Fisher's test of the 2x2 table counted by hand
    lof_calls = set(zip(cohort.mutations["sample_id"], cohort.mutations["gene"], strict=True))
    post_ids = acquired["post"].dropna()
    ref_ids = acquired.loc[acquired["pre"].notna() & acquired["post"].isna(), "pre"]
    a = sum((sid, "GAIN") in lof_calls for sid in post_ids)
    b = sum((sid, "GAIN") in lof_calls for sid in ref_ids)
    row = _row(result, "GAIN")
    assert (row["carriers_case"], row["n_case"], row["carriers_ref"], row["n_ref"]) == (
        a,
        len(post_ids),
        b,
        len(ref_ids),
    )
    assert row["fisher_p"] == pytest.approx(
        stats.fisher_exact([[a, len(post_ids) - a], [b, len(ref_ids) - b]])[1]
    )


def test_depleted_gene_is_reported_as_depleted_never_found(handmade):
    # fails on the code before issue 11, where a q-value alone made a gene "found"
    _, _, result = handmade
    found = set(zip(result.found()["cancer_type"], result.found()["gene"], strict=True))
    assert ("Lung", "LOST") not in found
    row = _row(result, "LOST")
    assert row["max_q"] <= result.fdr and row["fisher_or"] < 1 and row["firth_or"] < 1
    assert row["status"] == lof.DEPLETED and not row["found"] and row["depleted"]
    assert result.depleted()["gene"].tolist() == ["LOST"]
    # STK11-like: depleted against all pre-treatment tumours, and never found anywhere
    assert _row(result, "SELR", lof.ALL_PRE_COMPARISON)["status"] == lof.DEPLETED
    assert ("Lung", "SELR") not in found
    assert lof_text.depleted_sentence(result).startswith("LoF of LOST (Lung) is less common after acquired")


def test_baseline_selection_is_not_read_as_acquisition(handmade):
    # fails on the code before issue 11, whose primary comparison used all pre-treatment samples
    _, _, result = handmade
    found = sorted(zip(result.found()["cancer_type"], result.found()["gene"], strict=True))
    assert found == [("Lung", "GAIN")]  # the acquired gene, and neither selection gene nor a null
    # the trap is live: against all pre-treatment tumours the benefit-predicting LoF is enriched
    assert _row(result, "SELB", lof.ALL_PRE_COMPARISON)["status"] == lof.ENRICHED
    assert _row(result, "SELB")["status"] == lof.NOT_SIGNIFICANT
    assert result.selection_candidates()["gene"].tolist() == ["SELB"]
    assert "SELB (Lung) is enriched here but not found in the primary comparison" in lof_text.all_pre_caveat(
        result
    )
    # and no pair gained it: it is carried, not acquired
    paired = result.paired.set_index(["comparison", "gene"])
    assert paired.loc[(lof.PAIRED_ACQUIRED, "SELB"), "gained"] == 0
    assert paired.loc[(lof.PAIRED_ACQUIRED, "GAIN"), "gained"] > 10


def test_call_status_by_hand():
    rows = pd.DataFrame(
        {
            "tested": [True, True, True, True, True, False],
            "max_q": [0.01, 0.01, 0.01, 0.5, np.nan, np.nan],
            "fisher_or": [3.0, 0.2, 2.0, 3.0, 3.0, np.nan],
            "firth_or": [2.5, 0.3, 0.8, 3.0, np.nan, np.nan],
        }
    )
    assert lof.call_status(rows, "both", 0.1).tolist() == [
        lof.ENRICHED,
        lof.DEPLETED,
        lof.OPPOSITE,
        lof.NOT_SIGNIFICANT,
        lof.NOT_SIGNIFICANT,  # the Firth model did not give a p-value: nothing is decided
        lof.NOT_TESTED,
    ]
    # with Fisher's test alone, only its odds ratio decides the direction
    assert lof.call_status(rows.assign(fisher_q=rows["max_q"]), "fisher", 0.1).tolist()[2] == lof.ENRICHED
    with pytest.raises(InputError, match="criterion"):
        lof.call_status(rows, "wald")


# ------------------------------------------------------------------------------------------
# the default simulated cohort: recovery of the planted effects the cohort can detect
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_analysis(default_cohort, default_truth):
    return acquired_lof_analysis(default_cohort, truth=default_truth)


def _detectable(truth) -> list[tuple[str, str]]:
    return sorted(
        (r["cancer_type"], r["gene"])
        for r in truth["acquired_lof"]
        if (r.get("power") or 0) >= lof.DETECTABLE_POWER
    )


def test_group_sizes_match_the_truth(default_analysis, default_truth):
    # the simulator records the realised sizes of the primary comparison per planted gene
    availability = default_analysis.availability
    for row in default_truth["acquired_lof"]:
        t = row["cancer_type"]
        assert availability.loc[t, "post-progression, acquired"] == row["n_post_acquired_patients"]
        assert availability.loc[t, "pre-treatment, primary comparison"] == row["n_pre_patients"]


def test_detectable_planted_genes_found_and_no_null_gene(default_analysis, default_truth):
    """Every planted effect with at least 80% recorded power is found, and no other gene is."""
    report = discovery_report(default_analysis, default_truth)
    detectable = _detectable(default_truth)
    assert detectable, "the default cohort should have at least one detectable planted effect"
    assert [pair for pair in detectable if not report["planted_found"][pair]] == []
    assert report["false"] == []
    found = default_analysis.found()
    assert (found["fisher_or"] > 1).all() and (found["firth_or"] > 1).all()
    assert ((found["max_q"] <= 0.1) & (found["fisher_q"] <= 0.1) & (found["firth_q"] <= 0.1)).all()
    # the planted table of the book says the same, gene by gene
    planted = default_analysis.planted.set_index(["cancer_type", "gene"])
    for pair in detectable:
        assert planted.loc[pair, "detectable"] and planted.loc[pair, "status"] == lof.ENRICHED


def test_found_genes_are_gained_within_pairs(default_analysis):
    # what the primary comparison finds is gained, not carried: more gains than losses
    paired = default_analysis.paired.set_index(["cancer_type", "comparison", "gene"])
    for t, g in zip(default_analysis.found()["cancer_type"], default_analysis.found()["gene"], strict=True):
        gains = paired.loc[(t, lof.PAIRED_ACQUIRED, g)]
        assert gains["gained"] > gains["lost"]


def test_false_discovery_proportion_over_simulated_cohorts(default_analysis, default_truth):
    """Three cohorts of 5,000 patients (seeds 0-2; the full check is scripts/validate_lof_fdr.py).

    Per cohort the FDP is 0 or, with one null gene among a few found, 1/5 to 1/2, so its standard
    deviation is at most about 0.2; if the true mean FDP is at most 0.1, the mean of three cohorts
    exceeds 0.1 + 2 x 0.2 / sqrt(3) ~ 0.33 with probability below 2.5%. Power: each cohort's
    truth records the power of each planted effect for its own group sizes; the number of
    detectable effects found over the three cohorts must not fall more than two standard
    deviations (of a sum of independent Bernoulli draws with those powers) below its expectation.
    """
    reports = [(discovery_report(default_analysis, default_truth), default_truth)]
    for seed in (1, 2):
        cohort, truth = simulate_cohort(n_patients=5000, seed=seed)
        analysis = acquired_lof_analysis(cohort, comparisons=(PRIMARY_COMPARISON,), profile_ci=False)
        reports.append((discovery_report(analysis, truth), truth))
    assert np.mean([r["fdp"] for r, _ in reports]) <= 0.33
    powers = [
        float(row["power"])
        for _, truth in reports
        for row in truth["acquired_lof"]
        if (row.get("power") or 0) >= lof.DETECTABLE_POWER
    ]
    hits = sum(r["planted_found"][pair] for r, truth in reports for pair in _detectable(truth))
    expected, sd = sum(powers), np.sqrt(sum(p * (1 - p) for p in powers))
    assert hits >= expected - 2 * sd, (hits, expected, sd)


# ------------------------------------------------------------------------------------------
# the selection scenario: baseline LoF that selects, never gained
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def selection_cohort():
    """The ``selection`` scenario at the default size (the selection genes need NSCLC's numbers at
    5,000 patients to be visible against all pre-treatment samples), simulated once per session."""
    return simulate_cohort(n_patients=5000, seed=0, scenario="selection")


@pytest.fixture(scope="module")
def selection_analysis(selection_cohort):
    cohort, truth = selection_cohort
    return acquired_lof_analysis(cohort, truth=truth, profile_ci=False)


@pytest.mark.slow
def test_selection_genes_are_not_found(selection_analysis, selection_cohort):
    _, truth = selection_cohort
    selected = lof.selection_pairs(truth)
    roles = {r["role"] for r in truth["selection"]}
    assert roles == {"predicts_benefit", "predicts_primary_resistance"}
    report = discovery_report(selection_analysis, truth)
    assert report["selection_found"] == [] and report["false"] == []
    detectable = _detectable(truth)
    assert [pair for pair in detectable if not report["planted_found"][pair]] == []
    # the trap is set: after acquired resistance the benefit gene is commoner than before treatment
    # in all patients, and the primary-resistance gene rarer (at 5,000 patients neither difference
    # passes the FDR in that comparison; test_baseline_selection_is_not_read_as_acquisition shows
    # the old comparison finding a selection gene on the hand-made cohort)
    results = selection_analysis.results.set_index(["cancer_type", "gene", "comparison"])
    for row in truth["selection"]:
        key = (row["cancer_type"], row["gene"], lof.ALL_PRE_COMPARISON)
        where = (key, results.loc[key, ["carriers_case", "n_case", "carriers_ref", "n_ref", "max_q"]])
        case = results.loc[key, "carriers_case"] / results.loc[key, "n_case"]
        ref = results.loc[key, "carriers_ref"] / results.loc[key, "n_ref"]
        by_class = row["prevalence_pre_by_class"]
        if row["role"] == "predicts_benefit":
            assert case > ref and by_class["acquired"] > 1.5 * by_class["primary"], where
        else:
            assert case < ref and by_class["acquired"] < 0.5 * by_class["primary"], where
    planted = selection_analysis.planted.set_index(["cancer_type", "gene"])
    assert all(planted.loc[pair, "status"] != lof.ENRICHED for pair in selected)
    sentence = lof_text.selection_sentence(selection_analysis)
    assert (
        sentence.endswith("The primary comparison must find neither.") and "found (wrongly)" not in sentence
    )


# ------------------------------------------------------------------------------------------
# cohorts that cannot answer the question
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def no_post_cohort_path(small_cohort, tmp_path_factory):
    timepoint = sample_timepoints(small_cohort)
    keep = small_cohort.samples[(timepoint != "post").to_numpy()]
    ids = set(keep["sample_id"])
    tables = dict(small_cohort.tables)
    tables["samples"] = keep.reset_index(drop=True)
    for name in ("mutations", "cna"):
        tables[name] = tables[name][tables[name]["sample_id"].isin(ids)].reset_index(drop=True)
    expression = tables["expression"]
    tables["expression"] = expression[[c for c in expression.columns if c in ids]]
    meta = dict(small_cohort.meta, name="simulated cohort without post-progression samples")
    path = tmp_path_factory.mktemp("cohorts") / "no_post"
    Cohort(tables=tables, meta=meta).save(path)
    return path


def test_no_post_progression_dna_gives_one_sentence(no_post_cohort_path):
    result = acquired_lof_analysis(Cohort.load(no_post_cohort_path))
    assert not result.available
    assert result.missing.startswith("This cohort has no DNA samples taken after progression")
    assert result.results.empty and result.found().empty and result.paired.empty
    assert result.availability["post-progression, acquired"].sum() == 0
    assert result.availability["pre-treatment"].sum() > 0


def test_chapter_runs_without_post_progression_dna(no_post_cohort_path, tmp_path):
    out = tmp_path / "04.ipynb"
    pm.execute_notebook(
        str(REPO / "notebooks" / "04_acquired_lof.ipynb"),
        str(out),
        parameters={"cohort": str(no_post_cohort_path), "results_dir": str(tmp_path / "res")},
        cwd=str(REPO),
        kernel_name="python3",
        progress_bar=False,
    )
    nb = nbformat.read(str(out), as_version=4)
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    texts = [" ".join(map(str, o.get("data", {}).values())) + str(o.get("text", "")) for o in outputs]
    assert sum("no DNA samples taken after progression" in t for t in texts) == 1  # glued once
    assert [o for o in outputs if any(k.endswith("image/png") for k in o.get("data", {}))] == []
    # the page says what is missing and shows the samples; it writes no empty result table
    written = sorted(p.name for p in (tmp_path / "res").glob("*.csv"))
    assert written == ["key_numbers.csv", "lof_samples_by_cancer_type.csv"]


def test_imvigor210_has_no_post_progression_dna(public_dir, tmp_path):
    # a real cohort: pre-treatment FoundationOne samples only
    imported = import_tidy(
        public_dir / "imvigor210_urothelial_atezolizumab", tmp_path / "imvigor", open_data=True
    )
    result = acquired_lof_analysis(Cohort.load(imported.path))
    assert "no DNA samples taken after progression" in result.missing
    assert result.availability.loc["Urothelial", "pre-treatment"] == 293  # 293 samples with calls


# ------------------------------------------------------------------------------------------
# tables, sentences and figures of the chapter
# ------------------------------------------------------------------------------------------


def test_chapter_tables(handmade, default_analysis):
    _, _, result = handmade
    found = lof.found_table(result)
    assert found[["cancer type", "gene", "status"]].values.tolist() == [["Lung", "GAIN", lof.ENRICHED]]
    assert (found["% post, acquired"] > found["% pre, acquired"]).all()
    row = found.iloc[0]
    assert row["% post, acquired"] == pytest.approx(
        100 * row["carriers, post, acquired"] / row["samples, post, acquired"]
    )
    depleted = lof.found_table(result, rows="depleted")
    assert depleted["gene"].tolist() == ["LOST"] and (depleted["Firth OR"] < 1).all()
    all_pre = lof.found_table(result, lof.ALL_PRE_COMPARISON, rows="found")
    assert sorted(all_pre["gene"]) == ["GAIN", "SELB"] and "samples, pre, all patients" in all_pre.columns
    restricted = lof.found_table(result, percentages=False)
    assert not [c for c in restricted.columns if c.startswith("%")]
    assert restricted["carriers, post, acquired"].tolist() == found["carriers, post, acquired"].tolist()
    name, reported = lof.reported_genes(result)
    assert name == lof.FOUND_GENES_TABLE and reported.equals(found)
    leading = lof.leading_genes(result, n=5)
    assert leading["gene"].iloc[0] == "GAIN" and leading["found"].tolist() == [True] + [False] * 4
    assert "LOST" in leading["gene"].tolist()  # depleted genes are leading too, with their status
    assert leading.set_index("gene").loc["LOST", "status"] == lof.DEPLETED
    assert lof.oncoprint_genes(leading).equals(leading[leading["found"]])
    # with nothing found: the best genes instead, and the first five leading genes in the oncoprint
    nothing = dataclasses.replace(
        default_analysis,
        fdr=1e-30,
        results=default_analysis.results.assign(found=False, status=lof.NOT_SIGNIFICANT),
    )
    name, top = lof.reported_genes(nothing, n=4)
    assert name == lof.TOP_GENES_TABLE and len(top) == 4
    assert lof.oncoprint_genes(lof.leading_genes(nothing, n=7)).shape[0] == 5
    assert lof.planted_table(result).empty  # a real cohort has no planted truth
    with pytest.raises(InputError, match="rows"):
        lof.found_table(result, rows="lost")


def _planted(rows: list[tuple]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=["cancer_type", "gene", "role", "power", "status", "status_all_pre"])
    table["detectable"] = table["power"] >= 0.8
    table["q"] = np.nan
    table["fisher_or"] = table["firth_or"] = np.nan
    return table[list(lof.PLANTED_COLUMNS)]


def test_power_and_selection_sentences_by_hand(handmade):
    _, _, result = handmade
    assert lof_text.power_sentence(result) == "" and lof_text.selection_sentence(result) == ""
    planted = _planted(
        [
            ("NSCLC", "B2M", "acquired", 0.95, lof.ENRICHED, lof.ENRICHED),
            ("Melanoma", "JAK1", "acquired", 0.45, lof.NOT_SIGNIFICANT, lof.ENRICHED),
            ("TNBC", "RUNX1", "acquired", 0.81, lof.NOT_SIGNIFICANT, lof.NOT_SIGNIFICANT),
            ("RCC", "PBRM1", "predicts_benefit", np.nan, lof.NOT_SIGNIFICANT, lof.ENRICHED),
            ("NSCLC", "STK11", "predicts_primary_resistance", np.nan, lof.NOT_TESTED, lof.DEPLETED),
        ]
    )
    with_truth = dataclasses.replace(result, planted=planted)
    assert lof_text.power_sentence(with_truth) == (
        "This simulated cohort is too small to detect 1 of its 3 planted acquired LoF effects with the "
        "primary comparison (recorded power below 80%): JAK1 in Melanoma (power 45%, not found). A miss "
        "there is what that power predicts, not a failure of the method. Of the 2 it has the power to "
        "detect, 1 is found; missed: RUNX1 (TNBC)."
    )
    assert lof_text.selection_sentence(with_truth) == (
        "The simulated cohort plants baseline LoF that selects patients and is never gained: PBRM1 in RCC, "
        "whose baseline LoF predicts benefit, is not found; against all pre-treatment tumours: enriched; "
        "STK11 in NSCLC, whose baseline LoF predicts primary resistance, is not tested (too few carriers); "
        "against all pre-treatment tumours: depleted. The primary comparison must find neither."
    )
    strong = dataclasses.replace(result, planted=planted.iloc[[0]])
    assert lof_text.power_sentence(strong) == (
        "The cohort has at least 80% recorded power for its planted acquired LoF effect. "
        "The one it has the power to detect is found."
    )
    assert lof_text.truth_summary(strong) == (
        "This simulated cohort has at least 80% power for its planted acquired LoF effect, and finds it."
    )
    assert lof_text.truth_summary(with_truth) == (
        "This simulated cohort has at least 80% power for 2 of its 3 planted acquired LoF effects, "
        "and finds 1 of them."
    )
    weak = dataclasses.replace(result, planted=planted.iloc[[1]])
    assert lof_text.power_sentence(weak).startswith(
        "This simulated cohort is too small to detect its planted acquired LoF effect with"
    )
    assert lof_text.truth_summary(result) == ""  # a real cohort
    table = lof.planted_table(with_truth)
    assert table["detectable (power >= 80%)"].tolist() == ["yes", "no", "yes", "", ""]
    assert table["planted"].iloc[3] == "baseline LoF that predicts benefit, never gained"


def test_planted_effects_from_a_truth(handmade):
    _, _, result = handmade
    truth = {
        "acquired_lof": [
            {"gene": "GAIN", "cancer_type": "Lung", "power": 0.9},
            {"gene": "ABSENT", "cancer_type": "Lung", "power": 0.3},
        ],
        "selection": [{"gene": "SELB", "cancer_type": "Lung", "role": "predicts_benefit"}],
    }
    planted = lof.planted_effects(result.results, truth).set_index("gene")
    assert planted.loc["GAIN", ["status", "status_all_pre"]].tolist() == [lof.ENRICHED, lof.ENRICHED]
    assert planted.loc["GAIN", "q"] == pytest.approx(_row(result, "GAIN")["max_q"])
    assert planted.loc["ABSENT", "status"] == lof.NOT_TESTED and not planted.loc["ABSENT", "detectable"]
    assert planted.loc["SELB", ["status", "status_all_pre"]].tolist() == [lof.NOT_SIGNIFICANT, lof.ENRICHED]
    assert np.isnan(planted.loc["SELB", "power"])
    report = discovery_report(result, truth)
    assert report["found"] == [("Lung", "GAIN")] and report["depleted"] == [("Lung", "LOST")]
    old = discovery_report(result, truth, comparison=lof.ALL_PRE_COMPARISON)
    assert old["selection_found"] == [("Lung", "SELB")] and old["fdp"] == pytest.approx(0.5)


def test_chapter_sentences(handmade, default_analysis):
    _, _, result = handmade
    assert lof_text.parameters_sentence(result) == (
        "benefit window 6 months, minimum exposure 6 weeks, at least 3 carriers per tested gene, FDR 0.1"
    )
    assert lof_text.found_sentence(result) == (
        "1 gene-by-cancer-type pair passes the FDR of 0.1 with LoF more common after acquired resistance "
        "than before treatment in patients of the same class: GAIN (Lung)."
    )
    none_found = dataclasses.replace(result, results=result.results.assign(found=False, depleted=False))
    assert lof_text.found_sentence(none_found) == (
        "No gene passes the FDR of 0.1 with LoF more common after acquired resistance than before "
        "treatment; the table lists the genes with the smallest p-values instead."
    )
    nothing_tested = dataclasses.replace(result, results=result.results.assign(tested=False, found=False))
    assert lof_text.found_sentence(nothing_tested).startswith("No gene had enough LoF carriers to be tested")
    not_run = dataclasses.replace(result, missing="This cohort has no DNA.")
    assert lof_text.found_sentence(not_run) == lof_text.NOT_RUN and lof_text.skipped_sentence(not_run) == ""
    assert lof_text.skipped_sentence(result) == "Every comparison could be run in every cancer type."
    assert lof_text.depleted_sentence(none_found) == ""
    skipped = pd.DataFrame(
        {
            "cancer_type": ["RCC", "TNBC", "Urothelial", "Urothelial", "Urothelial"],
            "comparison": [SECONDARY_COMPARISON, SECONDARY_COMPARISON, *lof.GROUP_COMPARISONS],
            "reason": ["no post-progression DNA sample of primary resistance"] * 2
            + ["no post-progression DNA sample of acquired resistance"] * 3,
        }
    )
    assert lof_text.skipped_sentence(dataclasses.replace(result, skipped=skipped)) == (
        "Some comparisons lack the samples they need (the empty groups of the table) and were not run: "
        "in Urothelial, the three comparisons of groups; in RCC and TNBC, the comparison of acquired "
        "with primary resistance after progression."
    )
    assert lof_text.secondary_caption(default_analysis) == ""
    assert lof_text.paired_caption(default_analysis, lof.PAIRED_ACQUIRED) == (
        "gained within pre/post pairs, acquired resistance"
    )
    untested = dataclasses.replace(
        default_analysis,
        paired=default_analysis.paired.assign(tested=False),
        results=default_analysis.results.assign(tested=False),
    )
    assert lof_text.paired_caption(untested, lof.PAIRED_PRIMARY) == (
        "gained within pre/post pairs, primary resistance: no gene had 3 or more pairs carrying a LoF."
    )
    assert lof_text.secondary_caption(untested).startswith("No gene had enough LoF carriers")
    assert lof_text.secondary_caption(untested, lof.ALL_PRE_COMPARISON).endswith(
        "pre-treatment tumours of all patients."
    )
    no_candidate = dataclasses.replace(result, results=result.results.assign(status=lof.NOT_SIGNIFICANT))
    assert lof_text.all_pre_caveat(no_candidate).endswith(
        "No gene is enriched here without also being found in the primary comparison."
    )


def test_chapter_figures(handmade, default_analysis):
    _, _, result = handmade
    fig = lof_plots.volcano_plot(result)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 1
    labels = {t.get_text(): t.get_color() for ax in visible for t in ax.texts}
    assert labels == {"GAIN": "#c0392b", "LOST": "#2471a3"}  # found in red, depleted in blue
    assert not [t for t in fig.texts if "simulated" in t.get_text()]  # the book adds the mark
    plt.close(fig)
    fig = lof_plots.volcano_plot(result, comparison=lof.ALL_PRE_COMPARISON)
    assert {"SELB", "SELR"} <= {t.get_text() for ax in fig.axes for t in ax.texts}
    plt.close(fig)

    primary = default_analysis.results[default_analysis.results["comparison"].eq(PRIMARY_COMPARISON)]
    fig = lof_plots.volcano_plot(default_analysis)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert (
        len(visible) == primary.loc[primary["tested"] & primary["firth_or"].notna(), "cancer_type"].nunique()
    )
    passing = primary[primary["max_q"] <= default_analysis.fdr]
    assert sorted(t.get_text() for ax in visible for t in ax.texts) == sorted(passing["gene"])
    plt.close(fig)

    leading = lof.leading_genes(default_analysis, n=10)
    shown = lof.oncoprint_genes(leading)
    fig = lof_plots.pairs_oncoprint_figure(default_analysis, shown, count_label=lambda n: f"<{n}>")
    pairs = default_analysis.availability["pairs, acquired"]
    expected = sum(2 * pairs[t] * n for t, n in shown.groupby("cancer_type").size().items())
    assert sum(len(ax.patches) for ax in fig.axes) == expected
    # counts in labels go through count_label (the book's suppresses small counts)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    first = sorted(shown["cancer_type"].unique())[0]
    assert titles[0].startswith(f"{first}: <{pairs[first]}> patients")
    assert all(t.get_text().startswith("gained <") for ax in fig.axes for t in ax.texts)
    plt.close(fig)

    fig = lof_plots.lof_forest_plot(default_analysis, leading)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()][
        0
    ] == f"{leading['gene'].iloc[0]} · {leading['cancer_type'].iloc[0]}"
    assert len(ax.get_legend().get_texts()) == 3  # the primary and both secondary comparisons
    plt.close(fig)
    fig, ax = plt.subplots()
    assert lof_plots.lof_forest_plot(default_analysis, leading, ax=ax) is fig
    assert len(ax.get_yticklabels()) == len(leading)
    plt.close(fig)
    with pytest.raises(InputError, match="comparison"):
        lof_plots.volcano_plot(default_analysis, comparison=lof.PAIRED_ACQUIRED)


def test_figures_say_when_there_is_nothing_to_draw(default_analysis):
    untested = dataclasses.replace(default_analysis, results=default_analysis.results.assign(tested=False))
    fig = lof_plots.volcano_plot(untested)
    assert [t.get_text() for t in fig.axes[0].texts] == [
        "No gene had enough LoF carriers to be tested in any cancer type."
    ]
    plt.close(fig)
    fig = lof_plots.lof_forest_plot(untested, lof.leading_genes(default_analysis))
    assert [t.get_text() for t in fig.axes[0].texts] == ["No leading gene has a fitted Firth odds ratio."]
    plt.close(fig)
    fig = lof_plots.pairs_oncoprint_figure(
        default_analysis, pd.DataFrame({"cancer_type": ["Nowhere"], "gene": ["B2M"]})
    )
    assert "No patient of these cancer types" in fig.axes[0].texts[0].get_text()
    plt.close(fig)


def test_bad_arguments(default_cohort):
    with pytest.raises(InputError, match="unknown comparison"):
        acquired_lof_analysis(default_cohort, comparisons=("post_vs_pre",))
    with pytest.raises(InputError, match="criterion"):
        acquired_lof_analysis(default_cohort, criterion="wald")
    with pytest.raises(InputError, match="fdr"):
        acquired_lof_analysis(default_cohort, fdr=1.5)
    with pytest.raises(InputError, match="min_carriers"):
        acquired_lof_analysis(default_cohort, min_carriers=0)
