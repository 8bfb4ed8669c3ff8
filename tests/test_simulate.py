"""The simulated cohort: determinism, realism, planted truths present and consistent."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.derive import patient_table, sample_table
from helpers.analysis.resistance import classify_resistance
from helpers.simulate import CANCER_TYPES, PLANTED_LOF, load_signature_sets, simulate_cohort


def test_same_seed_gives_identical_tables(small_cohort) -> None:
    again, _ = simulate_cohort(n_patients=800, seed=1)
    for name, df in small_cohort.tables.items():
        other = again.tables[name]
        if name == "expression":
            np.testing.assert_array_equal(df.to_numpy(), other.to_numpy())
            assert list(df.index) == list(other.index)
        else:
            pd.testing.assert_frame_equal(df.reset_index(drop=True),
                                          other.reset_index(drop=True), check_dtype=False)


def test_other_seed_differs(small_cohort) -> None:
    other, _ = simulate_cohort(n_patients=800, seed=2)
    assert not small_cohort.patients["age_at_icb"].equals(other.patients["age_at_icb"])


def test_identifiers_are_opaque(small_cohort) -> None:
    for ids in (small_cohort.patients["patient_id"], small_cohort.samples["sample_id"]):
        assert ids.is_unique
        assert all(re.fullmatch(r"(PT|SM)-[0-9a-f]{8}", i) for i in ids)
        assert not any(i.isdigit() for i in ids)


def test_cancer_type_mix_and_outcomes_are_realistic(default_cohort) -> None:
    pt = patient_table(default_cohort)
    share = pt["cancer_type"].value_counts(normalize=True)
    for t, spec in CANCER_TYPES.items():
        assert abs(share[t] - spec.share) < 0.025, t
    assessed = pt[pt["best_response"].isin(["CR", "PR", "SD", "PD"])]
    orr = assessed.groupby("cancer_type")["best_response"].apply(
        lambda s: s.isin(["CR", "PR"]).mean())
    assert orr.between(0.12, 0.48).all(), orr
    from helpers.analysis.overview import _km_median_months
    for t, g in pt.groupby("cancer_type"):
        pfs = _km_median_months(g["pfs_days"], g["pfs_event"])
        assert 1.5 <= pfs <= 8.5, (t, pfs)
        prim = g[(g["resistance_class"] == "primary") & g["progressed"]]
        pps = _km_median_months(prim["pps_days"], prim["pps_event"])
        assert 3.0 <= pps <= 9.0, (t, pps)


def test_classes_emerge_and_every_course_is_classified(default_cohort) -> None:
    cls = classify_resistance(default_cohort.icb_courses)
    share = cls.value_counts(normalize=True)
    assert set(share.index) == {"primary", "acquired", "ongoing_benefit", "not_evaluable"}
    assert 0.45 < share["primary"] < 0.65
    assert 0.10 < share["acquired"] < 0.25
    assert "resistance_class" not in default_cohort.icb_courses.columns  # never labelled


def test_samples_and_assays_are_realistic(default_cohort) -> None:
    st = sample_table(default_cohort)
    pt = patient_table(default_cohort)
    has_pre = pt["patient_id"].isin(st.loc[st["timepoint"] == "pre", "patient_id"]).mean()
    assert 0.8 < has_pre < 0.9
    progressors = pt[pt["progressed"]]
    post = progressors["patient_id"].isin(st.loc[st["timepoint"] == "post", "patient_id"])
    assert 0.2 < post.mean() < 0.45  # a realistic minority of progressors
    acq = progressors["resistance_class"] == "acquired"
    assert post[acq].mean() > post[~acq].mean()
    assert st["has_rna"].mean() > 0.75


def test_panel_and_expression_cover_what_the_analyses_need(default_cohort) -> None:
    panels = default_cohort.panels
    sizes = panels.groupby("panel_id").size()
    assert sizes.min() >= 300 and sizes.max() == 468
    for gene, _ in PLANTED_LOF:
        assert (panels["gene"] == gene).sum() == 2  # on both panels
    expr = default_cohort.expression
    for name, genes in load_signature_sets().items():
        assert set(genes) <= set(expr.index), name
    assert len(expr.index) > 3000
    assert expr.to_numpy().min() >= 0


def test_truth_has_the_keys_of_the_design(default_truth, default_cohort) -> None:
    t = default_truth
    assert t["pps_hr"]["pooled"] < 1
    assert set(t["pps_hr"]["per_cancer_type"]) == set(CANCER_TYPES)
    assert "conditional on age, sex, line, log2 TMB" in t["pps_hr"]["model"]
    planted = {(d["gene"], d["cancer_type"]) for d in t["acquired_lof"]}
    assert planted == {("B2M", "NSCLC"), ("TGFBR2", "NSCLC"), ("CYLD", "HNSCC"),
                       ("RUNX1", "TNBC"), ("JAK1", "Melanoma"), ("JAK2", "Melanoma")}
    for d in t["acquired_lof"]:
        assert d["planted_prevalence_post_acquired"] > d["planted_prevalence_pre"]
    assert len(t["null_genes"]) > 400
    assert not planted & {(g, "x") for g in t["null_genes"]}
    sub = t["tme"]["subtypes"]
    rna = default_cohort.expression.columns
    assert set(sub["sample_id"]) == set(rna)
    assert set(sub["planted_subtype"]) == {"IE/F", "IE", "F", "D"}
    assert t["rt"]["hr"] < 1 and t["rt"]["confounder"] == "ecog"


def test_default_cohort_is_powered(default_truth) -> None:
    """DESIGN §5: each planted effect has at least 80% power with the intended method."""
    t = default_truth
    assert t["pps_hr"]["power"]["pooled"] >= 0.8
    assert min(t["pps_hr"]["power"]["per_cancer_type"].values()) >= 0.8
    for d in t["acquired_lof"]:
        assert d["power"] >= 0.8, d
    assert t["tme"]["power"]["ifn_acquired_vs_primary_post"] >= 0.8
    assert t["rt"]["power"]["value"] >= 0.8


def test_planted_lof_prevalence_is_realised(default_truth) -> None:
    for d in default_truth["acquired_lof"]:
        obs = d["observed_prevalence"]
        assert obs["post_acquired"] > 3 * max(obs["pre"], 0.01), d
        assert obs["post_primary"] < obs["post_acquired"]


def test_rt_is_confounded_by_ecog(default_truth) -> None:
    share = default_truth["rt"]["rt_share_by_ecog"]
    assert share["0"] > share["1"] > share["2"]


def test_bad_size_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least 50"):
        simulate_cohort(n_patients=10)
