"""Tests of the cohort-level acquired-LoF analysis (helpers.analysis.lof, chapter 4): the batched Firth
fits against firth_logistic, the sample rules, recovery of the planted genes of the simulated
cohort, the false discovery proportion over several simulated cohorts, cohorts that cannot answer
the question (no post-progression DNA, as in IMvigor210), and the chapter's tables, sentences and
figures."""

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
    assert not chosen.loc["a2", "primary_reference"]
    assert chosen.loc[["b1", "c1", "d1"], "primary_reference"].all()
    assert not chosen.loc[["a4", "b2"], "primary_reference"].any()
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
# the default simulated cohort: recovery of the planted truth
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_analysis(default_cohort):
    return acquired_lof_analysis(default_cohort)


def test_group_sizes_match_the_truth(default_analysis, default_truth):
    # the simulator records the realised sizes of the primary comparison per planted gene
    availability = default_analysis.availability
    for row in default_truth["acquired_lof"]:
        t = row["cancer_type"]
        assert availability.loc[t, "post-progression, acquired"] == row["n_post_acquired_patients"]
        assert availability.loc[t, "pre-treatment, primary comparison"] == row["n_pre_patients"]


def test_planted_genes_found_only_where_planted(default_analysis, default_truth):
    report = discovery_report(default_analysis, default_truth)
    planted = lof.planted_lof_pairs(default_truth)
    assert len(planted) == 6
    assert all(report["planted_found"].values()), report["planted_found"]
    planted_genes = {g for _, g in planted}
    wrong_type = [(t, g) for t, g in report["found"] if g in planted_genes and (t, g) not in planted]
    assert wrong_type == []
    assert report["fdp"] <= default_analysis.fdr
    found = default_analysis.found()
    # found genes pass by the larger of the two p-values, within cancer type
    assert (
        (found["max_q"] <= 0.1).all() and (found["fisher_q"] <= 0.1).all() and (found["firth_q"] <= 0.1).all()
    )
    # the planted effect is large: Firth odds ratios of the planted genes are well above 1
    planted_rows = found.set_index(["cancer_type", "gene"]).loc[planted]
    assert (planted_rows["firth_ci_lower"] > 1).all()
    # TGFBR2 in NSCLC: the counts behind the call agree with the truth's observed prevalences
    truth_row = next(r for r in default_truth["acquired_lof"] if r["gene"] == "TGFBR2")
    row = planted_rows.loc[("NSCLC", "TGFBR2")]
    assert row["carriers_case"] / row["n_case"] == pytest.approx(
        truth_row["observed_prevalence"]["post_acquired"], abs=0.02
    )


def test_secondary_and_paired_comparisons_point_the_same_way(default_analysis, default_truth):
    results = default_analysis.results.set_index(["cancer_type", "comparison", "gene"])
    paired = default_analysis.paired.set_index(["cancer_type", "comparison", "gene"])
    for t, g in lof.planted_lof_pairs(default_truth):
        assert results.loc[(t, SECONDARY_COMPARISON, g), "firth_or"] > 2
        gains = paired.loc[(t, lof.PAIRED_ACQUIRED, g)]
        assert gains["gained"] > gains["lost"]
    # B2M and TGFBR2 in NSCLC pairs: many gains, no loss, significant at the FDR
    for g in ("B2M", "TGFBR2"):
        row = paired.loc[("NSCLC", lof.PAIRED_ACQUIRED, g)]
        assert row["lost"] == 0 and row["q_value"] <= 0.1
        expected = stats.binomtest(int(row["gained"]), int(row["gained"]), 0.5).pvalue
        assert row["p_value"] == pytest.approx(expected)


def test_false_discovery_proportion_over_simulated_cohorts(default_analysis, default_truth):
    """Three cohorts of 5,000 patients (seeds 0-2; the full check is scripts/validate_lof_fdr.py).

    Per cohort the FDP is 0 or about 1/7 to 1/4 (one or two null genes among six found), so its
    standard deviation is about 0.1; if the true mean FDP is at most 0.1, the mean of three
    cohorts exceeds 0.1 + 2 x 0.1 / sqrt(3) ~ 0.2 with probability below 2.5%. Power: over 20
    cohorts every planted gene was found in at least 80% of them (JAK1 0.80, JAK2 0.95, the
    others 1.00), so about 17 of the 18 planted calls are expected; at least 16 must be made.
    """
    reports = [discovery_report(default_analysis, default_truth)]
    for seed in (1, 2):
        cohort, truth = simulate_cohort(n_patients=5000, seed=seed)
        analysis = acquired_lof_analysis(cohort, comparisons=(PRIMARY_COMPARISON,), profile_ci=False)
        reports.append(discovery_report(analysis, truth))
    mean_fdp = np.mean([r["fdp"] for r in reports])
    assert mean_fdp <= 0.2
    assert sum(sum(r["planted_found"].values()) for r in reports) >= 16


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
    texts = [str(o.get("data", {}).get("text/markdown", "")) + str(o.get("text", "")) for o in outputs]
    assert sum("no DNA samples taken after progression" in t for t in texts) == 1
    assert [o for o in outputs if "image/png" in o.get("data", {})] == []
    # the page says what is missing and shows the samples; it writes no empty result table
    assert sorted(p.name for p in (tmp_path / "res").glob("*.csv")) == ["lof_samples_by_cancer_type.csv"]


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


def test_chapter_tables(default_analysis):
    found = lof.found_table(default_analysis)
    assert len(found) == len(default_analysis.found()) == 6
    assert sorted(zip(found["cancer type"], found["gene"], strict=True)) == sorted(
        zip(default_analysis.found()["cancer_type"], default_analysis.found()["gene"], strict=True)
    )
    assert (found["% post, acquired"] > found["% pre-treatment"]).all()
    row = found.set_index(["cancer type", "gene"]).loc[("NSCLC", "TGFBR2")]
    assert row["% post, acquired"] == pytest.approx(
        100 * row["carriers, post, acquired"] / row["samples, post, acquired"]
    )
    restricted = lof.found_table(default_analysis, percentages=False)
    assert not [c for c in restricted.columns if c.startswith("%")]
    assert restricted["carriers, post, acquired"].tolist() == found["carriers, post, acquired"].tolist()
    name, reported = lof.reported_genes(default_analysis)
    assert name == lof.FOUND_GENES_TABLE and reported.equals(found)
    leading = lof.leading_genes(default_analysis, n=10)
    assert (
        len(leading) == 10
        and leading["found"].iloc[: len(found)].all()
        and not leading["found"].iloc[len(found) :].any()
    )
    assert lof.oncoprint_genes(leading).equals(leading[leading["found"]])
    # with nothing found: the best genes instead, and the first five leading genes in the oncoprint
    nothing = dataclasses.replace(
        default_analysis, fdr=1e-30, results=default_analysis.results.assign(found=False)
    )
    name, top = lof.reported_genes(nothing, n=4)
    assert name == lof.TOP_GENES_TABLE and len(top) == 4
    assert lof.oncoprint_genes(lof.leading_genes(nothing, n=7)).shape[0] == 5


def test_chapter_sentences(default_analysis):
    assert lof_text.parameters_sentence(default_analysis) == (
        "benefit window 6 months, minimum exposure 6 weeks, at least 3 carriers per tested gene, FDR 0.1"
    )
    assert lof_text.found_sentence(default_analysis, simulated=True) == (
        "6 gene-by-cancer-type pairs pass the FDR of 0.1 in this cohort (simulated data)."
    )
    none_found = dataclasses.replace(default_analysis, results=default_analysis.results.assign(found=False))
    assert lof_text.found_sentence(none_found, simulated=False) == (
        "No gene passes the FDR of 0.1 in this cohort; the genes with the smallest p-values follow."
    )
    skipped = pd.DataFrame(
        {
            "cancer_type": ["RCC"],
            "comparison": [SECONDARY_COMPARISON],
            "reason": ["no post-progression DNA sample of primary resistance"],
        }
    )
    assert lof_text.skipped_sentences(dataclasses.replace(default_analysis, skipped=skipped)) == [
        "RCC: post-progression, acquired vs primary resistance not run (no post-progression DNA "
        "sample of primary resistance)."
    ]
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


def test_chapter_figures(default_analysis):
    found = default_analysis.found()
    fig = lof_plots.volcano_plot(default_analysis)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    tested_types = default_analysis.results.loc[
        default_analysis.results["comparison"].eq(PRIMARY_COMPARISON) & default_analysis.results["tested"],
        "cancer_type",
    ].nunique()
    assert len(visible) == tested_types == 8
    labels = sorted(t.get_text() for ax in visible for t in ax.texts)
    assert labels == sorted(found["gene"])
    assert not [t for t in fig.texts if "simulated" in t.get_text()]  # the book adds the mark
    plt.close(fig)

    leading = lof.leading_genes(default_analysis, n=10)
    shown = lof.oncoprint_genes(leading)
    fig = lof_plots.paired_oncoprint(default_analysis, shown, count_label=lambda n: f"<{n}>")
    pairs = default_analysis.availability["pairs, acquired"]
    expected = sum(2 * pairs[t] * n for t, n in shown.groupby("cancer_type").size().items())
    assert sum(len(ax.patches) for ax in fig.axes) == expected
    # counts in labels go through count_label (the book's suppresses small counts)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles[0].startswith(f"HNSCC: <{pairs['HNSCC']}> patients")
    assert all(t.get_text().startswith("gained <") for ax in fig.axes for t in ax.texts)
    plt.close(fig)

    fig = lof_plots.lof_forest_plot(default_analysis, leading)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()][
        0
    ] == f"{leading['gene'].iloc[0]} · {leading['cancer_type'].iloc[0]}"
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
    fig = lof_plots.paired_oncoprint(
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
