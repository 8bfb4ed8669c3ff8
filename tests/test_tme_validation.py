"""TME scores on real patients (../shared/data/public) and the trend test behind them."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import tme
from helpers.errors import InputError, ParameterError
from helpers.stats.trend import jonckheere_terpstra

IMVIGOR = "imvigor210_urothelial_atezolizumab"


# ------------------------------------------------------------------ Jonckheere–Terpstra


def test_jonckheere_statistic_by_hand():
    # A = [1, 2], B = [2, 3], C = [4]: A<B 1 + 1 + 0.5 + 1, A<C 2, B<C 2 -> J = 7.5;
    # null mean (N² - Σn²) / 4 = (25 - 9) / 4 = 4
    result = jonckheere_terpstra([1, 2, 2, 3, 4], list("AABBC"), ["A", "B", "C"])
    assert result.statistic == 7.5
    assert result.expected == 4.0
    assert result.group_sizes == (2, 2, 1)
    reverse = jonckheere_terpstra([1, 2, 2, 3, 4], list("AABBC"), ["C", "B", "A"])
    assert reverse.statistic == pytest.approx(8 - 7.5)  # Σ_{i<j} n_i n_j - J = 4 + 2 + 2 - J
    assert reverse.z == pytest.approx(-result.z)


def permutation_moments(values: list[float], sizes: tuple[int, ...]) -> tuple[float, float]:
    """Exact null mean and variance of J over every assignment of values to groups."""
    n = len(values)
    labels = [k for k, size in enumerate(sizes) for _ in range(size)]
    statistics = []
    for assignment in set(itertools.permutations(labels)):
        x = np.asarray(values, dtype=float)
        g = np.asarray(assignment)
        statistics.append(jonckheere_terpstra(x, g, list(range(len(sizes)))).statistic)
    assert len(statistics) == math.factorial(n) // np.prod([math.factorial(s) for s in sizes])
    return float(np.mean(statistics)), float(np.var(statistics))


@pytest.mark.parametrize(
    ("values", "sizes"),
    [
        ([0.3, 1.1, 2.5, 3.0, 4.2, 5.9, 7.7, 8.1], (3, 3, 2)),  # no ties
        ([1, 1, 2, 2, 2, 3, 4, 4], (3, 2, 3)),  # ties within and across groups
    ],
)
def test_jonckheere_variance_equals_the_exact_permutation_variance(values, sizes):
    mean, variance = permutation_moments(values, sizes)
    result = jonckheere_terpstra(
        values, [k for k, s in enumerate(sizes) for _ in range(s)], list(range(len(sizes)))
    )
    assert result.expected == pytest.approx(mean, rel=1e-12)
    assert result.variance == pytest.approx(variance, rel=1e-12)


def test_jonckheere_variance_and_p_values_by_hand():
    # A = [1, 2], B = [2, 3], C = [4]; N = 5, sizes 2, 2, 1, one tie of two (the 2s):
    # (5*4*15 - 2*(2*1*9) - 2*1*9) / 72 + 0 + (2 + 2) * 2 / (8*5*4) = 246/72 + 1/20 = 52/15
    result = jonckheere_terpstra([1, 2, 2, 3, 4], list("AABBC"), ["A", "B", "C"])
    assert result.variance == pytest.approx(52 / 15, rel=1e-12)
    z = (7.5 - 4.0) / math.sqrt(52 / 15)
    assert result.z == pytest.approx(z, rel=1e-12)
    assert result.pvalue == pytest.approx(0.5 * math.erfc(z / math.sqrt(2)), rel=1e-12)  # P(Z > z)
    for alternative, expected in (("decreasing", 1 - result.pvalue), ("two-sided", 2 * result.pvalue)):
        other = jonckheere_terpstra([1, 2, 2, 3, 4], list("AABBC"), ["A", "B", "C"], alternative=alternative)
        assert other.pvalue == pytest.approx(expected, rel=1e-12), alternative


def test_jonckheere_bad_input():
    with pytest.raises(InputError, match="NaN"):
        jonckheere_terpstra([1.0, np.nan], ["a", "b"], ["a", "b"])
    with pytest.raises(InputError, match="at least two groups need observations"):
        jonckheere_terpstra([1.0, 2.0], ["a", "a"], ["a", "b"])
    with pytest.raises(InputError, match="differ in length"):
        jonckheere_terpstra([1.0, 2.0], ["a"], ["a", "b"])
    with pytest.raises(ParameterError, match="alternative"):
        jonckheere_terpstra([1.0, 2.0], ["a", "b"], ["a", "b"], alternative="up")
    with pytest.raises(ParameterError, match="two distinct groups"):
        jonckheere_terpstra([1.0, 2.0], ["a", "b"], ["a", "a"])
    with pytest.raises(InputError, match="no variance"):
        jonckheere_terpstra([1.0, 1.0, 1.0, 1.0], list("aabb"), ["a", "b"])


# ------------------------------------------------------------------ IMvigor210


def test_imvigor_scores_rise_from_desert_to_inflamed(public_dir: Path):
    table = tme.immune_phenotype_trend(public_dir)
    for signature in ("IFNG_AYERS2017", "TCELL_INFLAMED_GEP"):
        row = table.loc[signature]
        assert (row["n_desert"], row["n_excluded"], row["n_inflamed"]) == (48, 72, 46)
        assert row["median_desert"] < row["median_excluded"] < row["median_inflamed"]
        assert row["jt_z"] > 8  # measured 9.5 (IFN-γ) and 10.3 (GEP)
        assert row["jt_p"] < 1e-10
        assert row["spearman_rho"] > 0.6
        assert row["scaling"] == "within-cohort"  # 1,768 genes: too few for the reference


def test_imvigor_inflamed_tumours_are_immune_enriched(public_dir: Path):
    counts, test = tme.immune_subtypes_by_phenotype(public_dir)
    assert counts.loc["inflamed", "immune_enriched_share"] > 0.8
    assert counts.loc["desert", "immune_enriched_share"] < 0.3
    shares = counts["immune_enriched_share"]
    assert shares["desert"] < shares["excluded"] < shares["inflamed"]
    assert test["odds_ratio"] > 10
    assert test["p"] < 1e-10
    assert test["inflamed_n"] + test["other_n"] == 166


# ------------------------------------------------------------------ responders


@pytest.fixture(scope="module")
def response(public_dir: Path) -> pd.DataFrame:
    return tme.response_association(public_dir)


def test_ifng_is_higher_in_responders_in_gide_and_imvigor(response):
    gide = response.loc["gide2019_melanoma_pd1"]
    assert (gide["n_responders"], gide["n_non_responders"]) == (19, 22)  # CR 4 + PR 15; SD 6 + PD 16
    assert gide["p_one_sided"] < 0.01
    assert gide["scaling"] == "shipped reference"
    imvigor = response.loc[IMVIGOR]
    assert (imvigor["n_responders"], imvigor["n_non_responders"]) == (42, 126)
    assert imvigor["p_one_sided"] < 0.01
    assert imvigor["auc"] > 0.6


def test_response_comparison_is_reported_for_every_cohort_with_rna(response):
    assert list(response.index) == list(tme.PUBLIC_RNA_COHORTS)
    assert response["p_one_sided"].between(0, 1).all()
    sizes = response[["n_responders", "n_non_responders"]]
    assert sizes.loc["riaz2017_melanoma_nivolumab"].tolist() == [9, 35]
    assert sizes.loc["hugo2016_melanoma_pd1"].tolist() == [14, 13]  # 27 with RNA
    assert sizes.loc["miao2018_ccrcc_pd1"].tolist() == [8, 25]  # FACTS: CR 1 + PR 7; SD 9 + PD 16
    # Not every cohort shows it: Hugo (anti-PD-1), Miao (renal, anti-PD-1) and Van Allen
    # (ipilimumab) do not reach p < 0.05 in their small RNA subsets.
    for cohort in ("hugo2016_melanoma_pd1", "miao2018_ccrcc_pd1", "vanallen2015_melanoma_ctla4"):
        assert response.loc[cohort, "p_one_sided"] > 0.05, cohort
