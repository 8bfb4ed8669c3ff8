"""Chapter 5 as one result object: every step says what a cohort lacks, and the tables the
notebook shows are the analyses' own (hand-checked small cases and the default cohort)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy.stats import t as student_t

from helpers.analysis import tme
from helpers.analysis.tme.chapter import NO_RNA
from helpers.book.sentences import tme as tme_text
from helpers.data.cohort import Cohort


def without(cohort: Cohort, *tables: str, **meta) -> Cohort:
    """A copy of ``cohort`` without some tables and with some metadata changed."""
    kept = {name: table for name, table in cohort.tables.items() if name not in tables}
    return replace(cohort, tables=kept, meta={**cohort.meta, **meta})


# ------------------------------------------------------------------ hand-made tables


def hand_samples(classes: list[str], timepoints: list[str]) -> pd.DataFrame:
    n = len(classes)
    return pd.DataFrame(
        {
            "sample_id": [f"S{i}" for i in range(n)],
            "patient_id": [f"P{i}" for i in range(n)],
            "cancer_type": "NSCLC",
            "timepoint": timepoints,
            "collection_day": 0.0,
            "resistance_class": classes,
            "immune_axis": 0.0,
            "fibrotic_axis": 0.0,
            "subtype": "D",
        }
    )


def test_median_matrix_by_hand():
    # post: acquired patients score 1, 2, 3 (median 2); primary 4 and 6 (median 5);
    # pre: one acquired patient (left out with min_n=2)
    samples = hand_samples(["acquired"] * 3 + ["primary"] * 2 + ["acquired"], ["post"] * 5 + ["pre"])
    scaled = pd.DataFrame(
        [[1.0, 2.0, 3.0, 4.0, 6.0, 9.0]], index=["IFNG_AYERS2017"], columns=samples["sample_id"]
    )
    matrix = tme.median_matrix(samples, scaled, ["IFNG_AYERS2017"], min_n=2)
    assert list(matrix.columns) == ["post · acquired", "post · primary"]
    assert matrix.loc["IFNG_AYERS2017"].tolist() == [2.0, 5.0]
    with_pre = tme.median_matrix(samples, scaled, ["IFNG_AYERS2017"], min_n=1)
    assert list(with_pre.columns) == ["pre · acquired", "post · acquired", "post · primary"]
    assert with_pre.at["IFNG_AYERS2017", "pre · acquired"] == 9.0


def test_carrier_effect_is_the_ols_difference_by_hand():
    """Carriers score 4, 5, 6 and non-carriers 1, 2, 3, all primary (no class covariate).

    OLS of score on carrier: estimate 5 - 2 = 3; residuals -1, 0, 1 in each group, so the
    residual variance is 4 / (6 - 2) = 1 and se = sqrt(1/3 + 1/3); t with 4 degrees of freedom.
    """
    samples = hand_samples(["primary"] * 6, ["post"] * 6)
    samples["immune_axis"] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    scaled = pd.DataFrame(
        [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]], index=["IFNG_AYERS2017"], columns=samples["sample_id"]
    )
    lof = pd.DataFrame({"B2M": [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]}, index=samples["sample_id"])
    effects = tme.lof_carrier_effects(samples, scaled, lof, ["B2M"], ["IFNG_AYERS2017"], min_carriers=3)
    assert list(effects["signature"]) == ["IFNG_AYERS2017", "immune_axis", "fibrotic_axis"]
    row = effects.iloc[0]
    se = math.sqrt(2 / 3)
    half = student_t.ppf(0.975, 4) * se
    assert (row["n_carriers"], row["n_non_carriers"]) == (3, 3)
    assert row["estimate"] == pytest.approx(3.0, rel=1e-12)
    assert (row["ci_low"], row["ci_high"]) == (
        pytest.approx(3 - half, rel=1e-12),
        pytest.approx(3 + half, rel=1e-12),
    )
    assert row["p"] == pytest.approx(2 * student_t.sf(3 / se, 4), rel=1e-10)
    # the immune axis was given the same values: the same test
    assert effects.iloc[1]["p"] == pytest.approx(row["p"], rel=1e-12)
    # the fibrotic axis is constant: an exact fit, difference 0 and no p-value
    fibrotic = effects.iloc[2]
    assert fibrotic["estimate"] == pytest.approx(0.0, abs=1e-12) and np.isnan(fibrotic["p"])


def test_subtype_agreement_is_undefined_when_everything_is_one_subtype():
    called = planted = pd.Series(["IE"] * 5)
    confusion, summary = tme.subtype_agreement(called, planted)
    assert summary["accuracy"] == 1.0 and np.isnan(summary["kappa"])
    assert confusion.loc["IE", "IE"] == 5 and confusion.to_numpy().sum() == 5


# ------------------------------------------------------------------ what a cohort lacks


def test_a_cohort_without_rna_says_so_in_every_step(small_cohort):
    result = tme.tme_chapter(without(small_cohort, "expression"))
    assert result.missing == NO_RNA and result.scores is None
    for step in (
        result.pre,
        result.agreement,
        result.post,
        result.medians,
        result.transitions,
        result.carriers,
        result.carriers.significant,
    ):
        assert step.missing == NO_RNA
    assert result.coverage is None and result.samples is None
    assert NO_RNA == "The cohort has no RNA expression data."
    assert tme_text.scaling_sentence(result) == (
        "This cohort has no RNA expression data, so this chapter has nothing to show."
    )
    assert tme_text.not_shown_sentence(result) == tme_text.scaling_sentence(result)


def test_a_real_cohort_without_dna(small_cohort, small_cohort_path):
    result = tme.tme_chapter(without(small_cohort, "mutations", "panels", simulated=False), small_cohort_path)
    assert result.missing is None
    assert result.agreement.missing == "A real cohort has no planted subtypes to compare with."
    assert result.carriers.missing.startswith("The cohort has no panel-aware DNA calls")
    assert result.carriers.significant.missing == (
        "No carrier effect was estimated, so none has a q-value below 0.1."
    )
    assert tme_text.not_shown_sentence(result) == (
        "Not available for this cohort: the LoF carrier comparison (the cohort has no panel-aware DNA "
        "calls (mutations and panels), so LoF carriers cannot be compared)."
    )
    # the steps that need RNA alone ran
    assert result.pre.missing is None and result.pre.counts["n"].sum() > 0


def test_a_simulated_cohort_without_its_truth(small_cohort):
    result = tme.tme_chapter(small_cohort, cohort_dir=None)
    assert "truth.json" in result.agreement.missing


def test_too_few_carriers_is_said_with_the_genes(small_cohort, small_cohort_path):
    result = tme.tme_chapter(small_cohort, small_cohort_path, lof_genes=["B2M"], min_carriers=1000)
    assert result.carriers.missing == (
        "No gene of B2M has 1000 or more LoF carriers and non-carriers among post-progression "
        "samples with RNA in any cancer type."
    )


# ------------------------------------------------------------------ the default cohort


@pytest.fixture(scope="module")
def chapter(default_cohort, default_cohort_path) -> tme.TMEChapter:
    return tme.tme_chapter(default_cohort, default_cohort_path)


def test_every_step_of_the_default_cohort_ran(chapter):
    assert chapter.missing is None
    for step in (
        chapter.pre,
        chapter.agreement,
        chapter.post,
        chapter.medians,
        chapter.transitions,
        chapter.carriers,
        chapter.carriers.significant,
    ):
        assert step.missing is None
    assert chapter.signatures == list(tme.ICB_SIGNATURES)
    assert list(chapter.transitions.flows) == ["acquired", "primary"]
    # the heat map: 12 signatures x (pre, on, post) x (acquired, primary), every group >= 5
    assert chapter.medians.matrix.shape == (12, 6)
    assert list(chapter.medians.matrix.columns[:2]) == ["pre · acquired", "pre · primary"]
    # the post-progression samples shown are one per patient, of the two classes
    post = chapter.post.samples
    assert post["patient_id"].is_unique and set(post["resistance_class"]) == {"acquired", "primary"}
    assert (chapter.post.counts["n"].to_dict()) == post["resistance_class"].value_counts().to_dict()


def test_significant_carrier_effects_are_those_below_the_fdr(chapter):
    effects, table = chapter.carriers.effects, chapter.carriers.significant.table
    below = effects[effects["q"] < 0.1]
    assert len(table) == len(below) > 0
    assert set(table.index) == set(zip(below["gene"], below["cancer_type"], below["signature"], strict=True))
    assert ("B2M", "NSCLC", "ANTIGEN_PRESENTATION_MHCI") in table.index  # the planted B2M loss


def test_sentences_of_the_default_cohort(chapter):
    """The chapter's sentences on the default cohort (generator 2.0, seed 0)."""
    assert tme_text.scaling_sentence(chapter, count=lambda n: "<11") == (
        "The shipped public reference does not apply to this cohort (the cohort has 778 of the 17,792 "
        "genes the reference 'public_rnaseq_pre' was scored on (4.4%; at least 98% needed)), so scores "
        "are scaled within the cohort: against the median and MAD of <11 of its own RNA samples (its "
        "pre-treatment tumours), summarised once and then held fixed. Subtypes are therefore relative to "
        "this cohort's untreated tumours and are not comparable with other cohorts' subtypes."
    )
    assert "MAD of 3,552 of its own RNA samples" in tme_text.scaling_sentence(chapter)
    assert tme_text.scaling_summary(chapter) == (
        "scaled within the cohort, because the shipped public reference does not apply to it"
    )
    assert tme_text.not_shown_sentence(chapter) == ""  # every step runs on the default cohort
    summary = chapter.agreement.summary  # glued as ch5_accuracy, ch5_kappa, ch5_agreement_n
    assert (f"{summary['accuracy']:.3f}", f"{summary['kappa']:.3f}", int(summary["n"])) == (
        "0.900",
        "0.866",
        4623,
    )
