"""Reference-scaled scores and TME subtypes: the shipped reference, batch independence, and
recovery of the planted TME truths of the default simulated cohort."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from helpers.analysis import tme
from helpers.analysis.lof.matrix import lof_matrix
from helpers.data.cohort import sample_timepoints
from helpers.data.genesets import load_signatures
from helpers.errors import InputError, ParameterError, SourceFormatError
from helpers.stats.ssgsea import EmptyGeneSetWarning, ssgsea

GIDE = "gide2019_melanoma_pd1"


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def reference() -> tme.TMEReference:
    return tme.load_reference()


@pytest.fixture(scope="module")
def gide(public_dir: Path) -> pd.DataFrame:
    return tme.read_public_expression(public_dir / GIDE)


@pytest.fixture(scope="module")
def simulated(default_cohort):
    """Scores of the default cohort (within-cohort reference from its pre-treatment RNA)."""
    return tme.score_cohort(default_cohort)


@pytest.fixture(scope="module")
def planted(default_truth) -> pd.Series:
    return default_truth["tme"]["subtypes"].set_index("sample_id")["planted_subtype"]


# ------------------------------------------------------------------ the shipped reference


def test_shipped_reference_describes_the_public_cohorts(reference):
    stats = reference.statistics
    assert reference.name == "public_rnaseq_pre"
    assert len(reference.universe) == 17792  # genes shared by the five genome-wide cohorts
    assert (stats["n_samples"] == 189).all()  # 41 + 27 + 46 + 33 + 42 pre-treatment tumours
    assert reference.signatures == list(load_signatures())  # all 41 can be scaled
    assert reference.axis_members("immune_axis") == list(tme.IMMUNE_AXIS)
    assert reference.axis_members("fibrotic_axis") == list(tme.FIBROTIC_AXIS)
    assert (stats["scale"] > 0).all()
    # TRAC/TRBC1/TRBC2 are in no public cohort: T_cells has 8 of its 11 genes there
    assert stats.at["T_cells", "n_genes"] == 8


def test_shipped_reference_is_reproduced_by_the_script(public_dir, reference):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyGeneSetWarning)
        rebuilt = tme.build_public_reference(public_dir)
    assert rebuilt.universe == reference.universe
    # to 1e-12, not bit for bit: numpy's sums of many floats depend on the CPU's SIMD width, so
    # the file made on one machine differs from a rebuild on another in the 15th digit
    pd.testing.assert_frame_equal(
        rebuilt.statistics, reference.statistics, check_dtype=False, rtol=1e-12, atol=0
    )


def test_reference_round_trip_and_stale_signatures(tmp_path, reference):
    table, _ = tme.write_reference(reference, tmp_path)
    again = tme.load_reference(table)
    pd.testing.assert_frame_equal(again.statistics, reference.statistics, check_dtype=False)
    assert again.universe == reference.universe
    text = table.read_text().replace(reference.statistics.at["MHCI", "genes_sha1"], "000000000000")
    table.write_text(text)
    with pytest.raises(InputError, match=r"signature\(s\) \['MHCI'\] differ"):
        tme.load_reference(table)
    (tmp_path / "tme_reference_universe.txt").write_text("A\nB\n")
    with pytest.raises(SourceFormatError, match="does not match the fingerprint"):
        tme.load_reference(table)


# ------------------------------------------------------------------ when the reference applies


def test_reference_applies_only_to_genome_wide_universes(reference, gide, public_dir, default_cohort):
    assert tme.check_reference(gide.index, reference).applies
    imvigor = tme.read_public_expression(public_dir / "imvigor210_urothelial_atezolizumab")
    check = tme.check_reference(imvigor.index, reference)
    assert not check.applies
    assert check.n_present == 1760 and check.universe_coverage == pytest.approx(1760 / 17792)
    simulated = tme.check_reference(default_cohort.expression.index, reference)
    assert not simulated.applies and simulated.universe_coverage < 0.05
    # 1 % of the universe missing is tolerated, 3 % is not
    rng = np.random.default_rng(0)
    for share, applies in ((0.01, True), (0.03, False)):
        dropped = set(rng.choice(list(reference.universe), int(share * 17792), replace=False))
        signature_genes = {g for genes in load_signatures().values() for g in genes}
        kept = [g for g in gide.index if g not in dropped or g in signature_genes]
        assert tme.check_reference(kept, reference).applies is applies
    without_axis_gene = [g for g in gide.index if g != "COL1A1"]
    check = tme.check_reference(without_axis_gene, reference)
    assert not check.applies and check.missing_axis_genes == ("COL1A1",)


def test_size_adjustment_when_a_few_universe_genes_are_missing(reference, gide):
    """Raw scores grow with the number of ranked genes; the adjustment undoes that."""
    _, full = tme.scale_scores(gide, reference)
    signature_genes = {g for genes in load_signatures().values() for g in genes}
    rng = np.random.default_rng(1)
    candidates = [g for g in reference.universe if g not in signature_genes]
    dropped = set(rng.choice(candidates, size=int(0.015 * len(reference.universe)), replace=False))
    raw, partial = tme.scale_scores(gide.loc[[g for g in gide.index if g not in dropped]], reference)
    assert np.abs((partial - full).to_numpy()).max() < 0.05  # in reference SD units (measured 0.032)
    # Undo the adjustment (raw scores times n_present / n_universe): the scores then move up to
    # ten times as far (measured 0.32), so the adjustment is what keeps them in place.
    stats = reference.statistics.loc[reference.signatures]
    unadjusted = raw * (len(reference.universe) - len(dropped)) / len(reference.universe)
    unadjusted = unadjusted.sub(stats["centre"], axis=0).div(stats["scale"], axis=0)
    assert np.nanmax(np.abs((unadjusted - full).to_numpy())) > 0.2


def test_incomplete_signature_is_not_scaled(reference, gide):
    _, scaled = tme.scale_scores(gide.drop(index=["GZMA"]), reference)
    assert scaled.loc["CYTOLYTIC_ACTIVITY"].isna().all()
    assert scaled.loc["IFNG_AYERS2017"].notna().all()


# ------------------------------------------------------------------ batch independence


def assert_batch_independent(expression: pd.DataFrame, ref: tme.TMEReference, sample: str) -> None:
    others = [s for s in expression.columns if s != sample]
    batches = [[sample], [sample, *others[:9]], [*others[::-1], sample]]
    results = []
    for batch in batches:
        _, scaled = tme.scale_scores(expression[batch], ref)
        subtypes = tme.assign_subtypes(scaled, ref)
        results.append((scaled[sample], subtypes.loc[sample]))
    assert len(batches[1]) == 10
    for scaled, subtypes in results[1:]:
        np.testing.assert_array_equal(scaled.to_numpy(), results[0][0].to_numpy())
        assert subtypes["subtype"] == results[0][1]["subtype"]
        assert subtypes["immune_axis"] == results[0][1]["immune_axis"]
        assert subtypes["fibrotic_axis"] == results[0][1]["fibrotic_axis"]


def test_batch_independence_with_the_shipped_reference(reference, gide):
    for sample in gide.columns[[0, 17, 40]]:
        assert_batch_independent(gide, reference, sample)


def test_gsva_normalised_scores_are_not_batch_independent(gide):
    """The check above has teeth: GSVA's normalisation moves a sample with its batch."""
    sets = load_signatures(["IFNG_AYERS2017", "CAF"])
    sample = gide.columns[0]
    alone = ssgsea(gide[[sample]], sets, normalize=True)[sample]
    together = ssgsea(gide, sets, normalize=True)[sample]
    assert np.abs(alone - together).max() > 0.05


def test_batch_independence_with_a_within_cohort_reference(default_cohort, simulated):
    assert simulated.tme.mode == "within-cohort"
    expression = default_cohort.expression
    timepoint = sample_timepoints(default_cohort)
    pre = [s for s in expression.columns if timepoint[s] == "pre"]
    assert simulated.tme.reference.statistics["n_samples"].iloc[0] == len(pre)
    post = [s for s in expression.columns if timepoint[s] == "post"]
    subset = expression[post[:200] + pre[:50]]
    assert_batch_independent(subset, simulated.tme.reference, post[3])
    # the frozen reference gives the same scores as the cohort-wide run
    _, scaled = tme.scale_scores(expression[[post[3]]], simulated.tme.reference)
    np.testing.assert_array_equal(scaled[post[3]].to_numpy(), simulated.tme.scaled[post[3]].to_numpy())


def test_score_tme_modes(gide, default_cohort):
    assert tme.score_tme(gide).mode == "shipped reference"
    with pytest.raises(InputError, match="does not apply"):
        tme.score_tme(default_cohort.expression, reference="shipped")
    forced = tme.score_tme(gide, reference="within_cohort")
    assert forced.mode == "within-cohort"
    with pytest.raises(InputError, match="calibration sample"):
        tme.score_tme(gide, reference="within_cohort", calibration_samples=["nope"])
    with pytest.raises(ParameterError, match="reference must be"):
        tme.score_tme(gide, reference="median")


# ------------------------------------------------------------------ the subtype rule


def test_subtype_rule_on_hand_made_scores():
    ref = tme.load_reference()
    samples = ["both_high", "immune_only", "fibrotic_only", "neither", "on_threshold", "missing"]
    centre = {axis: ref.statistics.at[axis, "centre"] for axis in tme.AXES}
    immune = np.array([1.0, 0.5, -0.2, -1.0, 0.0, 1.0]) + centre["immune_axis"]
    fibrotic = np.array([0.3, -0.4, 2.0, -0.1, 0.0, np.nan]) + centre["fibrotic_axis"]
    scaled = pd.DataFrame(0.0, index=ref.signatures, columns=samples)
    scaled.loc[list(tme.IMMUNE_AXIS)] = immune
    scaled.loc[list(tme.FIBROTIC_AXIS)] = fibrotic
    calls = tme.assign_subtypes(scaled, ref)
    assert list(calls["subtype"]) == ["IE/F", "IE", "F", "D", "D", None]
    np.testing.assert_allclose(calls["immune_axis"].iloc[:5], [1.0, 0.5, -0.2, -1.0, 0.0], atol=1e-12)


def test_cohen_kappa_textbook_example():
    # 50 items: 20 agree on IE, 15 agree on D, 5 and 10 disagree: p_o 0.7, p_e 0.5, kappa 0.4
    called = pd.Series(["IE"] * 20 + ["D"] * 5 + ["IE"] * 10 + ["D"] * 15)
    planted = pd.Series(["IE"] * 25 + ["D"] * 25)
    confusion, summary = tme.subtype_agreement(called, planted)
    assert summary["accuracy"] == pytest.approx(0.7)
    assert summary["kappa"] == pytest.approx(0.4)
    assert confusion.loc["IE", "D"] == 5 and confusion.loc["D", "IE"] == 10


# ------------------------------------------------------------------ planted truths


def test_subtypes_agree_with_the_planted_subtypes(simulated, planted):
    confusion, summary = tme.subtype_agreement(simulated.samples.set_index("sample_id")["subtype"], planted)
    assert summary["n"] == len(planted) > 4000  # every RNA sample has a call
    # measured on the default cohort: accuracy 0.909, kappa 0.878 (test_tme_chapter.py checks the sentence)
    assert summary["accuracy"] >= 0.85
    assert summary["kappa"] >= 0.80
    # opposite corners (D called IE/F, IE/F called D) are rare
    rows = confusion.sum(axis=1)
    assert confusion.loc["D", "IE/F"] / rows["D"] < 0.02
    assert confusion.loc["IE/F", "D"] / rows["IE/F"] < 0.02


@pytest.mark.parametrize("strata", [tme.STRATA, ()], ids=["stratified", "pooled"])
def test_acquired_post_progression_is_inflamed_and_dysfunctional(simulated, strata):
    table = tme.compare_classes(simulated.samples, simulated.tme.scaled, strata=strata)
    assert table.loc["IFNG_AYERS2017", "n_acquired"] > 300
    assert table.loc["IFNG_AYERS2017", "n_primary"] > 450
    for signature in (
        "IFNG_AYERS2017",
        "TCELL_INFLAMED_GEP",
        "TCELL_DYSFUNCTION",
        "CYTOLYTIC_ACTIVITY",
        "immune_axis",
    ):
        assert table.loc[signature, "ci_low"] > 0.7, signature
        assert table.loc[signature, "q"] < 1e-20, signature
    # dysfunction rises more than the other immune scores (planted +0.8 SD vs +0.6 IFN)
    assert table.loc["TCELL_DYSFUNCTION", "shift"] > table.loc["IFNG_AYERS2017", "shift"]
    # the stroma was not moved
    for signature in ("CAF_MATRIX", "fibrotic_axis"):
        assert table.loc[signature, "p"] > 0.05, signature


def test_acquired_post_progression_is_immune_enriched(simulated):
    test = tme.subtype_share_test(simulated.samples)
    for analysis in ("stratified", "pooled"):
        row = test.loc[analysis]
        assert row["immune_enriched_acquired"] > 0.7
        assert row["immune_enriched_primary"] < 0.4
        assert row["p"] < 1e-20 and row["ci_low"] > 3
    assert test.loc["stratified", "homogeneity_p"] > 0.01  # the planted shift is the same in every type


def test_paired_transitions_follow_the_planted_moves(simulated):
    pairs = tme.paired_samples(simulated.samples)
    summary = tme.transition_summary(pairs, simulated.tme.scaled)
    # planted: half of acquired tumours move to IE/IE-F, 30 % of primary ones to F/D
    assert summary.loc["acquired", "gained_immune"] > 0.45
    assert summary.loc["primary", "lost_immune"] > 0.2
    assert summary.loc["acquired", "lost_immune"] < 0.1
    assert summary.loc["acquired", "IFNG_AYERS2017_median_change"] > 0
    assert summary.loc["acquired", "IFNG_AYERS2017_p"] < 1e-6
    assert summary.loc["primary", "IFNG_AYERS2017_median_change"] < 0
    counts = tme.transition_counts(pairs[pairs["resistance_class"] == "acquired"])
    assert counts.to_numpy().sum() == summary.loc["acquired", "pairs"]


#: Scores each planted LoF shift moves (truth["tme"]["lof_carrier_shifts_sd"] mapped to the
#: shipped signatures through the simulator's programmes), with the planted direction.
PLANTED_CARRIER_SHIFTS = {
    "B2M": {"ANTIGEN_PRESENTATION_MHCI": -1, "MHCI": -1},
    "TGFBR2": {"EMT_INVASIVENESS": +1},
    "CYLD": {"PROLIFERATION": +1},
    "RUNX1": {"GLYCOLYSIS": +1},
    # JAK1/2 lower the IFN programme, which drives the Ayers IFN-γ genes and most of the GEP
    "JAK1": {"IFNG_AYERS2017": -1, "TCELL_INFLAMED_GEP": -1},
    "JAK2": {"IFNG_AYERS2017": -1, "TCELL_INFLAMED_GEP": -1},
}


def test_lof_carriers_show_the_planted_immune_escape(default_cohort, simulated, default_truth):
    genes = list(PLANTED_CARRIER_SHIFTS)
    calls = lof_matrix(
        default_cohort.mutations,
        default_cohort.cna,
        default_cohort.samples,
        default_cohort.panels,
        genes=genes,
    )
    effects = tme.lof_carrier_effects(
        simulated.samples, simulated.tme.scaled, calls, genes, signatures=[*tme.ICB_SIGNATURES, "MHCI"]
    )
    shifts = default_truth["tme"]["lof_carrier_shifts_sd"]
    assert shifts["B2M"] == {"mhci": -1.0} and shifts["TGFBR2"] == {"emt": 0.8}
    assert shifts["CYLD"] == {"proliferation": 0.8} and shifts["RUNX1"] == {"glycolysis": 0.8}
    indexed = effects.set_index(["gene", "cancer_type", "signature"])
    # B2M: the most carriers, a large shift (measured about -0.8 scaled units, q ~ 0.02)
    for signature in ("ANTIGEN_PRESENTATION_MHCI", "MHCI"):
        row = indexed.loc[("B2M", "NSCLC", signature)]
        assert row["n_carriers"] >= 10
        assert row["estimate"] < -0.6 and row["q"] < 0.05, signature
    # TGFBR2 (NSCLC), CYLD (HNSCC), RUNX1 (TNBC), JAK1/JAK2 (melanoma): a few carriers each,
    # so each is only nominally significant; each goes the planted way and together they are
    # unmistakable (Stouffer's combination of the one-sided p-values of those tested).
    z = []
    for key, sign in [
        (("TGFBR2", "NSCLC", "EMT_INVASIVENESS"), +1),
        (("CYLD", "HNSCC", "PROLIFERATION"), +1),
        (("RUNX1", "TNBC", "GLYCOLYSIS"), +1),
        (("JAK1", "Melanoma", "IFNG_AYERS2017"), -1),
        (("JAK2", "Melanoma", "IFNG_AYERS2017"), -1),
    ]:
        if key not in indexed.index:  # too few carriers with RNA after progression to test
            continue
        row = indexed.loc[key]
        assert sign * row["estimate"] > 0.2, key
        z.append(norm.isf(row["p"] / 2))
    assert len(z) >= 3
    assert norm.sf(sum(z) / np.sqrt(len(z))) < 1e-3
    # the nulls: every other score of every gene and cancer type tested
    planted = [
        PLANTED_CARRIER_SHIFTS[g].get(s) is not None
        for g, s in zip(effects["gene"], effects["signature"], strict=True)
    ]
    null = effects[~np.array(planted)]
    assert len(null) > 60
    assert (null["q"] < 0.1).sum() <= 1


def test_lof_carrier_effects_bad_input(simulated):
    calls = pd.DataFrame({"B2M": [1.0]}, index=["x"])
    with pytest.raises(InputError, match="not columns of the LoF matrix"):
        tme.lof_carrier_effects(simulated.samples, simulated.tme.scaled, calls, ["CYLD"])
    with pytest.raises(ParameterError, match="min_carriers"):
        tme.lof_carrier_effects(simulated.samples, simulated.tme.scaled, calls, ["B2M"], min_carriers=0)


# ------------------------------------------------------------------ helpers


def test_harmonise_gene_symbols():
    expression = pd.DataFrame({"s": [1.0, 2.0, 3.0, 4.0]}, index=["IL8", "CTGF", "CCN2", "TP53"])
    out = tme.harmonise_gene_symbols(expression)
    assert list(out.index) == ["CXCL8", "CCN2", "TP53"]
    assert out.loc["CCN2", "s"] == 3.0  # the row under the current symbol wins


def test_signature_coverage_names_missing_genes(public_dir):
    imvigor = tme.read_public_expression(public_dir / "imvigor210_urothelial_atezolizumab")
    coverage = tme.signature_coverage(imvigor.index)
    assert coverage.loc["T_reg_traffic", "present"] == 0
    assert coverage.loc["IFNG_AYERS2017", "present"] == 6
    assert coverage.loc["CAF", "axis"] == "fibrotic"
    assert "TRAC" in coverage.loc["T_cells", "missing"]


def test_build_reference_needs_enough_samples(gide):
    with pytest.raises(InputError, match="at least 10 samples"):
        tme.build_reference(gide.iloc[:, :5], name="tiny")
    with pytest.raises(InputError, match="not in the expression table"):
        tme.build_reference(gide, name="x", universe=["NOT_A_GENE", *gide.index[:10]])
