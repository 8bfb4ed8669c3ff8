"""Tests of chapter 4's building blocks: panel-aware LoF calls (helpers.analysis.lof.matrix), the
Firth, Fisher, McNemar and BH statistics (helpers.stats), the group and paired tests
(helpers.analysis.lof.compare), and the FoundationOne vocabulary of IMvigor210 (helpers.data.maf)
against the is_lof column made at conversion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import optimize, stats
from statsmodels.stats.multitest import multipletests

from helpers.analysis.lof import WHOLE_EXOME_KEY, compare_groups, lof_matrix, paired_gain_test, tmb_per_mb
from helpers.data.maf import (
    DEEP_DELETION,
    FOUNDATIONONE_COPY_STATES,
    FOUNDATIONONE_SHORT_VARIANT_CLASSES,
    TRUNCATING_CLASSES,
    map_foundationone,
)
from helpers.data.panels import read_gene_list
from helpers.errors import InputError, SourceFormatError
from helpers.stats.contingency import fisher_or, mcnemar_exact
from helpers.stats.firth import firth_logistic
from helpers.stats.multiple import benjamini_hochberg

REPO = Path(__file__).resolve().parents[1]
PANEL_FILE = REPO / "data" / "panels" / "impact468_genes.txt"


# ------------------------------------------------------------------------------------------
# small canonical tables
# ------------------------------------------------------------------------------------------


@pytest.fixture()
def tables():
    samples = pd.DataFrame(
        {
            "sample_id": ["s1", "s2", "s3", "s4"],
            "patient_id": ["p1", "p1", "p2", "p3"],
            "collection_day": [-10.0, 200.0, -3.0, -1.0],
            "assay": ["DNA", "DNA+RNA", "RNA", "DNA"],
            "panel_id": ["small", "small", None, None],
        }
    )
    panels = pd.DataFrame({"panel_id": ["small"] * 3, "gene": ["B2M", "TP53", "JAK1"]})
    mutations = pd.DataFrame(
        {
            "sample_id": ["s1", "s1", "s2", "s4", "s4", "s4"],
            "gene": ["B2M", "TP53", "TP53", "TGFBR2", "JAK1", "B2M"],
            "variant_classification": [
                "Nonsense_Mutation",
                "Missense_Mutation",
                "Splice_Region",
                "Frame_Shift_Del",
                "In_Frame_Del",
                "Translation_Start_Site",
            ],
        }
    )
    cna = pd.DataFrame(
        {
            "sample_id": ["s2", "s2", "s4"],
            "gene": ["JAK1", "B2M", "TP53"],
            "copy_state": [DEEP_DELETION, -1, 2],
        }
    )
    return mutations, cna, samples, panels


def test_lof_matrix_panel_aware(tables):
    mutations, cna, samples, panels = tables
    lof = lof_matrix(mutations, cna, samples, panels)
    assert list(lof.columns) == ["B2M", "JAK1", "TGFBR2", "TP53"]
    assert list(lof.index) == ["s1", "s2", "s3", "s4"]
    # s1, panel "small": B2M nonsense = LoF; TP53 missense = not; TGFBR2 off-panel = NaN
    assert lof.loc["s1", "B2M"] == 1.0
    assert lof.loc["s1", "TP53"] == 0.0
    assert lof.loc["s1", "JAK1"] == 0.0
    assert np.isnan(lof.loc["s1", "TGFBR2"])
    # s2: JAK1 deep deletion counts; B2M shallow loss (-1) and TP53 Splice_Region do not
    assert lof.loc["s2", "JAK1"] == 1.0
    assert lof.loc["s2", "B2M"] == 0.0
    assert lof.loc["s2", "TP53"] == 0.0
    # s3 is RNA only: nothing assayed
    assert lof.loc["s3"].isna().all()
    # s4: DNA without panel = whole exome; frameshift and start-site count, in-frame and amp do not
    assert lof.loc["s4"].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert int(np.nansum(lof.to_numpy())) == 4
    assert int(lof.isna().sum().sum()) == 4 + 2  # s3 row, TGFBR2 for s1 and s2


def test_lof_matrix_gene_order_and_off_panel_warning(tables):
    mutations, cna, samples, panels = tables
    off_panel = pd.concat(
        [
            mutations,
            pd.DataFrame(
                {"sample_id": ["s1"], "gene": ["TGFBR2"], "variant_classification": ["Nonsense_Mutation"]}
            ),
        ],
        ignore_index=True,
    )
    with pytest.warns(UserWarning, match="1 LoF events fall on genes"):
        lof = lof_matrix(off_panel, cna, samples, panels, genes=["TGFBR2", "B2M"])
    assert list(lof.columns) == ["TGFBR2", "B2M"]
    assert np.isnan(lof.loc["s1", "TGFBR2"])  # an off-panel call never makes the gene assayed


def test_lof_matrix_bad_input(tables):
    mutations, cna, samples, panels = tables
    bad = mutations.assign(
        variant_classification=mutations["variant_classification"].replace({"Nonsense_Mutation": "nonsense"})
    )
    with pytest.raises(InputError, match="MAF vocabulary"):
        lof_matrix(bad, cna, samples, panels)
    with pytest.raises(InputError, match="panel absent from the panels table"):
        lof_matrix(mutations, cna, samples.assign(panel_id=["other", "small", None, None]), panels)
    with pytest.raises(InputError, match="column 'copy_state'"):
        lof_matrix(mutations, cna.assign(copy_state=[-3, 0, 1]), samples, panels)
    with pytest.raises(InputError, match="absent from the samples table"):
        lof_matrix(mutations.assign(sample_id="zz"), cna, samples, panels)
    with pytest.raises(InputError, match="table 'panels', column 'gene': required column is missing"):
        lof_matrix(mutations, cna, samples, panels.drop(columns="gene"))


def test_lof_matrix_lists_every_broken_rule_in_one_message(tables):
    # two tables break a rule each: one error names both, with the row counts and example rows
    mutations, cna, samples, panels = tables
    bad_mutations = mutations.assign(sample_id=["s1", "zz", "s2", "s4", "zz", "s4"])
    bad_cna = cna.assign(copy_state=[-2, 5, 1])
    with pytest.raises(InputError) as caught:
        lof_matrix(bad_mutations, bad_cna, samples, panels)
    error = caught.value
    assert [(v.table, v.column, v.n_rows) for v in error.violations] == [
        ("cna", "copy_state", 1),
        ("mutations", "sample_id", 2),
    ]
    message = str(error)
    assert message.startswith("lof_matrix: the input tables break the canonical rules (2 problems):")
    assert (
        "table 'mutations', column 'sample_id': names a sample absent from the samples table [2 rows break it]"
        in message
    )
    assert "table 'cna', column 'copy_state': must be an integer in -2..2 [1 row" in message
    examples = error.violations[1].examples
    assert list(examples.index) == [1, 4] and set(examples["sample_id"]) == {"zz"}


def test_truncating_classes_documented_choice():
    assert TRUNCATING_CLASSES == {
        "Nonsense_Mutation",
        "Frame_Shift_Del",
        "Frame_Shift_Ins",
        "Splice_Site",
        "Translation_Start_Site",
        "Nonstop_Mutation",
    }
    assert "Splice_Region" not in TRUNCATING_CLASSES


def test_tmb_per_mb(tables):
    mutations, _, samples, panels = tables
    sizes = {"small": 0.5, WHOLE_EXOME_KEY: 30.0}
    tmb = tmb_per_mb(mutations, samples, sizes)
    # s1: nonsense + missense = 2 / 0.5; s2: Splice_Region is not nonsynonymous = 0;
    # s3 RNA = NaN; s4: frameshift, in-frame, start-site = 3 / 30
    assert tmb["s1"] == pytest.approx(4.0)
    assert tmb["s2"] == 0.0
    assert np.isnan(tmb["s3"])
    assert tmb["s4"] == pytest.approx(0.1)
    with pytest.raises(InputError, match="no size"):
        tmb_per_mb(mutations, samples, {"small": 0.5})


def test_impact468_panel_file():
    genes = read_gene_list(PANEL_FILE)
    assert len(genes) == 468
    assert PANEL_FILE.read_text().startswith("#")
    for gene in ["B2M", "TGFBR2", "CYLD", "RUNX1", "JAK1", "JAK2", "TP53", "KMT2D", "HLA-A"]:
        assert gene in genes
    # previous symbols were replaced by HGNC symbols
    assert not {"MLL2", "MRE11A", "PARK2", "FAM175A", "HIST1H3B"} & set(genes)


# ------------------------------------------------------------------------------------------
# Firth
# ------------------------------------------------------------------------------------------


def _two_by_two(a: int, n1: int, c: int, n0: int) -> tuple[np.ndarray, pd.DataFrame]:
    x = np.r_[np.ones(n1), np.zeros(n0)]
    y = np.r_[np.ones(a), np.zeros(n1 - a), np.ones(c), np.zeros(n0 - c)]
    return y, pd.DataFrame({"g": x})


def _augmented_loglik(events: np.ndarray, totals: np.ndarray, log_odds: np.ndarray) -> float:
    """Binomial log-likelihood of the 2x2 table with 0.5 added to every cell."""
    p = 1.0 / (1.0 + np.exp(-log_odds))
    return float(np.sum((events + 0.5) * np.log(p) + (totals - events + 0.5) * np.log(1.0 - p)))


@pytest.mark.parametrize("cells", [(7, 10, 2, 14), (3, 40, 9, 25), (5, 5, 0, 12)])
def test_firth_two_by_two_closed_form(cells):
    a, n1, c, n0 = cells
    y, X = _two_by_two(a, n1, c, n0)
    fit = firth_logistic(y, X)
    expected = np.log(((a + 0.5) / (n1 - a + 0.5)) / ((c + 0.5) / (n0 - c + 0.5)))
    assert fit.converged
    assert fit.coef["g"] == pytest.approx(expected, abs=1e-6)
    assert fit.coef["Intercept"] == pytest.approx(np.log((c + 0.5) / (n0 - c + 0.5)), abs=1e-6)

    # With one binary covariate the Jeffreys penalty is 0.5*log[p1(1-p1)p0(1-p0)] + const, so the
    # penalised likelihood IS the binomial likelihood of the table with 0.5 added to every cell.
    # The penalised LRT and profile limits therefore follow from that likelihood directly.
    events, totals = np.array([c, a], float), np.array([n0, n1], float)
    full = _augmented_loglik(events, totals, np.log((events + 0.5) / (totals - events + 0.5)))
    pooled = (events.sum() + 1.0) / (totals.sum() + 2.0)
    null = _augmented_loglik(events, totals, np.full(2, np.log(pooled / (1 - pooled))))
    assert fit.p_value["g"] == pytest.approx(stats.chi2.sf(2 * (full - null), 1), rel=1e-6)

    def profile(log_or: float) -> float:
        best = optimize.minimize_scalar(
            lambda b0: -_augmented_loglik(events, totals, np.array([b0, b0 + log_or])),
            bounds=(-30, 30),
            method="bounded",
            options={"xatol": 1e-12},
        )
        return -best.fun

    cutoff = stats.chi2.ppf(0.95, 1)
    for limit in (fit.ci_lower["g"], fit.ci_upper["g"]):
        assert np.isfinite(limit)
        assert 2 * (full - profile(limit)) == pytest.approx(cutoff, abs=1e-5)
    assert fit.ci_lower["g"] < fit.coef["g"] < fit.ci_upper["g"]


def test_firth_separation_is_finite():
    # complete separation: every exposed sample is a carrier, no unexposed one is
    y, X = _two_by_two(6, 6, 0, 20)
    fit = firth_logistic(y, X, profile="g")
    assert fit.converged
    assert fit.coef["g"] == pytest.approx(np.log((6.5 / 0.5) / (0.5 / 20.5)), abs=1e-6)
    assert np.isfinite(fit.ci_lower["g"]) and np.isfinite(fit.ci_upper["g"])
    assert fit.ci_lower["g"] > 0  # separation is strong evidence
    assert fit.p_value["g"] < 1e-3
    # continuous separation with an extra covariate
    rng = np.random.default_rng(1)
    z = rng.normal(size=30)
    fit2 = firth_logistic((z > 0).astype(float), pd.DataFrame({"z": z, "w": rng.normal(size=30)}))
    assert np.all(np.isfinite(fit2.coef)) and fit2.coef["z"] > 1


def test_firth_agrees_with_ml_in_large_samples():
    rng = np.random.default_rng(20240601)
    n = 4000
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.binomial(1, 0.4, size=n).astype(float)})
    eta = -0.5 + 0.8 * X["a"] - 0.6 * X["b"]
    y = pd.Series(rng.binomial(1, 1 / (1 + np.exp(-eta))).astype(float))
    firth = firth_logistic(y, X, profile="a")
    ml = sm.Logit(y, sm.add_constant(X).rename(columns={"const": "Intercept"})).fit(disp=0)
    # Firth removes the O(1/n) bias of ML: differences are a small fraction of one SE
    diff = (firth.coef - ml.params[firth.coef.index]).abs()
    assert (diff < 0.05 * ml.bse[firth.coef.index]).all()
    assert (diff > 0).any()
    assert firth.se.to_numpy() == pytest.approx(ml.bse[firth.se.index].to_numpy(), rel=0.01)
    # profile interval close to Wald interval in a large regular sample
    wald = ml.conf_int().loc["a"].to_numpy()
    assert [firth.ci_lower["a"], firth.ci_upper["a"]] == pytest.approx(wald, abs=0.01)
    assert np.isnan(firth.ci_lower["b"])  # not profiled


def test_firth_bad_input():
    with pytest.raises(InputError, match="table 'y', column 'y': must be 0/1"):
        firth_logistic([0, 1, 2], pd.DataFrame({"x": [1.0, 2.0, 3.0]}))
    with pytest.raises(InputError, match="rank deficient"):
        firth_logistic([0, 1, 0, 1], pd.DataFrame({"x": [1.0, 1.0, 1.0, 1.0]}))
    with pytest.raises(InputError, match="table 'X', column 'x': must not have missing"):
        firth_logistic([0, 1, 0], pd.DataFrame({"x": [1.0, np.nan, 0.0]}))
    with pytest.raises(InputError, match="not coefficients"):
        firth_logistic([0, 1, 0, 1], pd.DataFrame({"x": [1.0, 2.0, 0.0, 3.0]}), profile="nope")


# ------------------------------------------------------------------------------------------
# Fisher, BH
# ------------------------------------------------------------------------------------------


def test_fisher_tea_tasting():
    # Fisher's tea-tasting table [[3, 1], [1, 3]]: the hypergeometric table probabilities are
    # 1, 16, 36, 16, 1 out of 70, so the two-sided p is 34/70. R's fisher.test reports the
    # conditional MLE 6.408309 and 95% CI 0.2117329-621.9337505 (its upper limit comes from a
    # coarse uniroot on a flat tail, so only the estimate and lower limit are compared tightly).
    result = fisher_or(3, 4, 1, 4)
    assert result.p_value == pytest.approx(34 / 70, rel=1e-12)
    assert result.p_value == pytest.approx(stats.fisher_exact([[3, 1], [1, 3]])[1], rel=1e-12)
    assert result.odds_ratio == pytest.approx(6.408309, rel=1e-5)
    assert result.ci_lower == pytest.approx(0.2117329, rel=1e-4)
    assert result.ci_upper == pytest.approx(621.9337505, rel=0.01)


def test_fisher_conditional_definitions():
    # the conditional MLE makes the observed count the mean of Fisher's noncentral
    # hypergeometric distribution; the exact limits put 2.5% in each tail
    a, n1, b, n2 = 9, 30, 3, 41
    result = fisher_or(a, n1, b, n2)
    total, carriers = n1 + n2, a + b
    dist = lambda odds: stats.nchypergeom_fisher(total, n1, carriers, odds)  # noqa: E731
    assert dist(result.odds_ratio).mean() == pytest.approx(a, abs=1e-6)
    assert dist(result.ci_lower).sf(a - 1) == pytest.approx(0.025, abs=1e-6)
    assert dist(result.ci_upper).cdf(a) == pytest.approx(0.025, abs=1e-6)
    zero = fisher_or(4, 10, 0, 12)
    assert zero.odds_ratio == np.inf and zero.ci_upper == np.inf and zero.ci_lower > 0
    with pytest.raises(InputError, match="exceed"):
        fisher_or(5, 4, 1, 4)
    with pytest.raises(InputError, match="non-negative integer"):
        fisher_or(2.5, 4, 1, 4)


def test_benjamini_hochberg_hand_and_statsmodels():
    # sorted p 0.005, 0.01, 0.03, 0.04 (m = 4): 0.02, 0.02, 0.04, 0.04 after the step-up minimum
    p = pd.Series([0.01, np.nan, 0.04, 0.03, 0.005], index=list("abcde"))
    q = benjamini_hochberg(p)
    assert list(q.index) == list("abcde")
    assert np.isnan(q["b"])
    assert q.drop("b").to_numpy() == pytest.approx([0.02, 0.04, 0.04, 0.02], abs=1e-15)
    rng = np.random.default_rng(7)
    many = np.concatenate([rng.uniform(size=200), rng.uniform(0, 1e-3, size=20), [1.0, 1.0]])
    assert benjamini_hochberg(many) == pytest.approx(multipletests(many, method="fdr_bh")[1], abs=1e-14)
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        benjamini_hochberg([0.5, 1.2])


def test_mcnemar_exact_by_hand():
    # 8 gained vs 1 lost: two-sided binomial tail 2 * (C(9,0) + C(9,1)) / 2**9 = 20/512; 3 vs 3 is
    # the centre of the distribution (p = 1); no discordant pair: nothing to test (NaN)
    p = mcnemar_exact(np.array([8, 3, 0, 1]), np.array([1, 3, 0, 8]))
    assert p[0] == pytest.approx(20 / 512, rel=1e-12) and p[3] == pytest.approx(20 / 512, rel=1e-12)
    assert p[1] == pytest.approx(1.0) and np.isnan(p[2])
    with pytest.raises(InputError, match="non-negative integers"):
        mcnemar_exact(np.array([1.5]), np.array([0]))


# ------------------------------------------------------------------------------------------
# compare_groups, paired_gain_test
# ------------------------------------------------------------------------------------------


def _group_data():
    n_case, n_ref = 20, 30
    index = [f"s{i}" for i in range(n_case + n_ref)]
    lof = pd.DataFrame(0.0, index=index, columns=["G1", "G2", "G3", "G4"])
    lof.iloc[:6, 0] = 1.0  # G1: 6/20 vs 1/30
    lof.iloc[25, 0] = 1.0
    lof.iloc[0, 1] = 1.0  # G2: only 2 carriers
    lof.iloc[21, 1] = 1.0
    lof.iloc[[3, 22, 40], 2] = 1.0  # G3: exactly 3 carriers
    lof.iloc[n_case:, 3] = np.nan  # G4: not assayed in the reference group
    lof.iloc[:5, 3] = 1.0
    labels = pd.Series(["post"] * n_case + ["pre"] * n_ref, index=index)
    return lof, labels


def test_compare_groups_counts_filter_and_fisher():
    lof, labels = _group_data()
    out = compare_groups(lof, labels, case_group="post").set_index("gene")
    assert out.attrs["case_group"] == "post" and out.attrs["reference_group"] == "pre"
    assert out.loc["G1", ["carriers_case", "n_case", "carriers_ref", "n_ref"]].tolist() == [6, 20, 1, 30]
    assert out.loc["G1", "tested"] and out.loc["G3", "tested"]
    assert not out.loc["G2", "tested"] and out.loc["G2", "reason"] == "fewer than 3 carriers (2)"
    assert not out.loc["G4", "tested"] and out.loc["G4", "reason"] == "not assayed in both groups"
    assert np.isnan(out.loc["G2", "fisher_p"]) and np.isnan(out.loc["G2", "firth_p"])
    fisher = fisher_or(6, 20, 1, 30)
    assert out.loc["G1", "fisher_p"] == pytest.approx(stats.fisher_exact([[6, 14], [1, 29]])[1], rel=1e-12)
    assert out.loc["G1", "fisher_or"] == pytest.approx(fisher.odds_ratio, rel=1e-12)
    # Firth without covariates: closed form of the 2x2 table
    assert out.loc["G1", "firth_or"] == pytest.approx((6.5 / 14.5) / (1.5 / 29.5), rel=1e-6)
    # BH over the two tested genes only
    p = out.loc[["G1", "G3"], "fisher_p"].to_numpy()
    assert out.loc[["G1", "G3"], "fisher_q"].to_numpy() == pytest.approx(benjamini_hochberg(p), abs=1e-15)
    stricter = compare_groups(lof, labels, case_group="post", min_carriers=4).set_index("gene")
    assert stricter.loc["G3", "reason"] == "fewer than 4 carriers (3)"
    assert stricter.loc["G1", "fisher_q"] == pytest.approx(stricter.loc["G1", "fisher_p"])


def test_compare_groups_covariates():
    lof, labels = _group_data()
    rng = np.random.default_rng(3)
    covariates = pd.DataFrame(
        {
            "tmb": rng.gamma(2.0, 5.0, size=len(lof)),
            "purity": np.where(np.arange(len(lof)) % 10 == 0, np.nan, rng.uniform(0.2, 0.9, size=len(lof))),
            "msi": np.nan,
            "flag": 1.0,
        },
        index=lof.index,
    )
    out = compare_groups(lof, labels, covariates, case_group="post").set_index("gene")
    row = out.loc["G1"]
    assert row["firth_covariates"] == "tmb,purity"
    assert row["firth_dropped"] == "msi (all missing);flag (constant)"
    assert row["firth_n"] == 45  # 5 samples with missing purity left out of the Firth fit only
    assert row["n_case"] + row["n_ref"] == 50
    used = covariates.loc[covariates["purity"].notna(), ["tmb", "purity"]]
    design = pd.concat([(labels[used.index] == "post").astype(float).rename("group"), used], axis=1)
    direct = firth_logistic(lof.loc[used.index, "G1"], design, profile="group")
    assert row["firth_or"] == pytest.approx(np.exp(direct.coef["group"]), rel=1e-9)
    assert row["firth_p"] == pytest.approx(direct.p_value["group"], rel=1e-9)
    with pytest.raises(InputError, match="numeric"):
        compare_groups(lof, labels, covariates.assign(msi="MSS"))
    with pytest.raises(InputError, match="exactly two groups"):
        compare_groups(lof, labels.replace({"pre": "post"}))
    with pytest.raises(InputError, match="table 'lof', column 'G2': must be 0, 1 or NaN"):
        compare_groups(lof.assign(G2=2.0), labels)
    with pytest.raises(InputError, match="a labelled sample must be a row of lof"):
        compare_groups(lof, pd.concat([labels, pd.Series({"s99": "pre"})]))


def test_paired_gain_test():
    patients = [f"p{i}" for i in range(12)]
    pre = pd.DataFrame(0.0, index=patients, columns=["B2M", "JAK2"])
    post = pre.copy()
    post.iloc[:8, 0] = 1.0  # B2M: 8 gained
    pre.iloc[8, 0] = 1.0  # ... 1 lost
    post.iloc[8, 0] = 0.0
    pre.iloc[9, 0] = post.iloc[9, 0] = 1.0  # 1 carrier in both
    post.iloc[11, 0] = np.nan  # not assayed after: pair does not count
    post.iloc[0, 1] = 1.0
    out = paired_gain_test(pre, post.drop(index="p10")).set_index("gene")
    assert out.loc["B2M", ["n_pairs", "gained", "lost", "both"]].tolist() == [10, 8, 1, 1]
    # exact McNemar = two-sided binomial test of 8 vs 1: 2 * (1 + 9) / 2**9
    assert out.loc["B2M", "p_value"] == pytest.approx(20 / 512, rel=1e-12)
    assert out.loc["JAK2", "p_value"] == pytest.approx(1.0)
    assert out.loc["B2M", "q_value"] == pytest.approx(40 / 512, rel=1e-12)


# ------------------------------------------------------------------------------------------
# IMvigor210 FoundationOne vocabulary vs is_lof
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def imvigor(public_dir):
    path = public_dir / "imvigor210_urothelial_atezolizumab" / "mutations.tsv"
    return pd.read_csv(path, sep="\t")


def test_foundationone_mapping_covers_every_category(imvigor):
    categories = imvigor["variant_classification"].str.split(":", n=1).str[1]
    assert set(categories) <= set(FOUNDATIONONE_SHORT_VARIANT_CLASSES) | set(FOUNDATIONONE_COPY_STATES)
    mutations, cna = map_foundationone(imvigor)
    assert len(mutations) + len(cna) == len(imvigor) == 1835
    assert (cna["copy_state"] == DEEP_DELETION).sum() == 104
    assert cna["copy_state"].value_counts().to_dict() == {2: 364, -2: 104, 1: 43}
    counts = mutations["variant_classification"].value_counts().to_dict()
    assert counts["Nonsense_Mutation"] == 356
    assert counts["Frame_Shift_Del"] + counts["Frame_Shift_Ins"] == 243
    assert counts["Nonstop_Mutation"] == 1 and counts["Translation_Start_Site"] == 1
    assert counts["5'Flank"] == 186
    assert mutations.loc[
        mutations["protein_change"] == "L747_A750>S", "variant_classification"
    ].unique().tolist() == ["In_Frame_Del"]
    assert mutations.loc[
        mutations["protein_change"] == "N771_P772>SVDNP", "variant_classification"
    ].unique().tolist() == ["In_Frame_Ins"]


def test_foundationone_lof_agrees_with_is_lof(imvigor):
    mutations, cna = map_foundationone(imvigor)
    ours = pd.concat(
        [
            mutations["variant_classification"].isin(TRUNCATING_CLASSES),
            cna["copy_state"] == DEEP_DELETION,
        ]
    ).reindex(imvigor.index)
    theirs = imvigor["is_lof"].astype(bool)
    differ = imvigor[ours != theirs]
    # Deliberate differences: our rules call a start-lost variant (Translation_Start_Site) and a
    # stop-lost variant (FMI "Other", p.*359S -> Nonstop_Mutation) LoF; the conversion did not.
    assert len(differ) == 2
    assert sorted(differ["variant_class"]) == ["Other", "Start_Lost"]
    assert sorted(differ["gene"]) == ["CEBPA", "RB1"]
    assert not differ["is_lof"].any()
    assert (ours == theirs).sum() == 1833

    # the same at sample x gene level through lof_matrix (no panel list is public: whole exome)
    samples = pd.DataFrame({"sample_id": sorted(imvigor["sample_id"].unique())}).assign(
        patient_id=lambda d: d["sample_id"], collection_day=-1.0, assay="DNA", panel_id=None
    )
    panels = pd.DataFrame({"panel_id": pd.Series(dtype=str), "gene": pd.Series(dtype=str)})
    lof = lof_matrix(mutations, cna, samples, panels)
    expected = imvigor.groupby(["sample_id", "gene"])["is_lof"].max().unstack(fill_value=0)
    expected = expected.reindex(index=lof.index, columns=lof.columns, fill_value=0).astype(float)
    mismatch = (lof != expected).stack()
    pairs = sorted(mismatch[mismatch].index.get_level_values("gene"))
    assert pairs == ["CEBPA", "RB1"]
    assert int(lof.to_numpy().sum()) == int(expected.to_numpy().sum()) + 2


def test_foundationone_errors_name_rows_but_withhold_sample_ids():
    calls = pd.DataFrame(
        {
            "sample_id": ["SECRET-1", "SECRET-2", "SECRET-3"],
            "gene": ["TP53", "KRAS", "PTEN"],
            "variant_classification": ["known_short:Missense", "known_short:Frameshift", "loss:Weird"],
            "protein_change": ["R175H", "G12fs*3", ""],
            "hgvsc": ["c.524G>A", "c.35del", ""],
            "vaf": [0.3, 0.2, np.nan],
        },
        index=[10, 11, 12],
    )
    with pytest.raises(SourceFormatError, match="channel/class not mapped") as caught:
        map_foundationone(calls)
    (violation,) = caught.value.violations
    assert (violation.table, violation.column, violation.n_rows) == (
        "mutations.tsv",
        "variant_classification",
        1,
    )
    assert list(violation.examples.index) == [12] and "SECRET" not in str(caught.value)
    # a frameshift whose hgvsc gives no net length change cannot be told Del from Ins
    unresolvable = calls.iloc[:2].assign(hgvsc=["c.524G>A", "c.35_36delinsAT"])
    with pytest.raises(SourceFormatError, match="cannot be resolved") as caught:
        map_foundationone(unresolvable)
    assert list(caught.value.violations[0].examples.index) == [11]
    assert "c.35_36delinsAT" in str(caught.value) and "SECRET" not in str(caught.value)
