"""Chapter 7: the book's methods on the public cohorts agree with FACTS.md.

Every fact of FACTS.md that the chapter checks must agree (counts exactly, Kaplan–Meier
medians to 0.01 month); the survival-after-progression hazard ratio of one cohort is checked
against an independent computation on the raw tidy table; pooled analyses leave out the
overlapping cohorts.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

import helpers.analysis.lof
from helpers.analysis import validation as v
from helpers.analysis.derive import patient_table
from helpers.analysis.pps import pps_analysis_set
from helpers.book.sentences import validation as validation_text
from helpers.data.cohort import Cohort
from helpers.plots import validation as validation_plots


@pytest.fixture(scope="module")
def public(public_dir):
    return v.open_public_cohorts(public_dir)


@pytest.fixture(scope="module")
def cohorts(public):
    return public.cohorts


@pytest.fixture(scope="module")
def agreement(cohorts):
    return v.facts_agreement(cohorts)


def test_every_fact_agrees(agreement):
    failed = agreement[agreement["agrees"] != "pass"]
    assert failed.empty, failed.to_string()
    assert len(agreement) == len(v.FACTS) == 146
    summary = v.facts_summary(agreement)
    assert summary.loc["all cohorts"].to_dict() == {"facts checked": 146, "pass": 146, "fail": 0}
    # every public cohort is checked
    assert set(agreement["cohort"]) == set(v.PUBLIC_COHORTS.values())


@pytest.mark.parametrize(
    "cohort, fact, value",
    [
        ("riaz2017_melanoma_nivolumab", "OS KM median (months)", "23.26"),
        ("riaz2017_melanoma_nivolumab", "SITC class primary", "42"),
        ("riaz2017_melanoma_nivolumab", "median SNVs per patient", "182.5"),
        ("chowell2021_pancancer_msk", "PFS KM median (months)", "2.66"),
        ("chang2024_loris_validation_cohorts", "OS deaths", "845"),
        ("imvigor210_urothelial_atezolizumab", "OS KM median (months)", "8.77"),
        ("imvigor210_urothelial_atezolizumab", "immune phenotype excluded: responders", "13"),
        ("samstein2019_tmb_mskcc", "OS KM median (months)", "18.00"),
        ("gide2019_melanoma_pd1", "SITC class acquired", "10"),
        ("miao2018_ccrcc_pd1", "OS KM median (months)", "38.98"),
    ],
)
def test_selected_facts(agreement, cohort, fact, value):
    row = agreement[(agreement["cohort"] == v.PUBLIC_COHORTS[cohort]) & (agreement["fact"] == fact)]
    assert len(row) == 1
    assert row["computed"].iat[0] == value == row["FACTS.md"].iat[0]


def test_agreement_rule():
    assert v.agrees(3.684, 3.68, True) and not v.agrees(3.686, 3.68, True)
    assert v.agrees(58.0, 58, False) and not v.agrees(57.0, 58, False)
    assert not v.agrees(float("nan"), 1.0, True)


def test_class_counts_under_both_rules(cohorts):
    t = v.class_counts_both_rules(cohorts)
    riaz = t.loc[v.PUBLIC_COHORTS["riaz2017_melanoma_nivolumab"]]
    assert [riaz[f"{k} (FACTS)"] for k in ("primary", "acquired", "ongoing_benefit", "not_evaluable")] == [
        42,
        13,
        12,
        6,
    ]
    assert [riaz[f"{k} (book)"] for k in ("primary", "acquired", "ongoing_benefit", "not_evaluable")] == [
        41,
        13,
        12,
        7,
    ]
    chowell = t.loc[v.PUBLIC_COHORTS["chowell2021_pancancer_msk"]]
    assert chowell["PFS events on the day of death"] == 159
    assert chowell["basis"] == "progression timing only"
    # the totals are the same under both rules
    for _, row in t.iterrows():
        assert sum(
            row[f"{k} (FACTS)"] for k in ("primary", "acquired", "ongoing_benefit", "not_evaluable")
        ) == sum(row[f"{k} (book)"] for k in ("primary", "acquired", "ongoing_benefit", "not_evaluable"))
    assert v.PUBLIC_COHORTS["samstein2019_tmb_mskcc"] not in t.index  # no BOR, no PFS


def _gide_pps_by_hand(public_dir) -> tuple[int, int, float]:
    """Acquired vs primary survival after progression on the raw Gide table, independently."""
    c = pd.read_csv(public_dir / "gide2019_melanoma_pd1" / "clinical.tsv", sep="\t")
    pfs, os_ = c["pfs_months"].copy(), c["os_months"]
    pfs[pfs > os_] = os_[pfs > os_]  # the logged repair: PFS after death -> day of death
    death_at_pfs = (c["pfs_event"] == 1) & (c["os_event"] == 1) & (np.abs(pfs - os_) < 1e-9)
    progressed = (c["pfs_event"] == 1) & ~death_at_pfs
    bor = c["best_overall_response"]
    six = 6.0  # months; both sides of the rule in months
    primary = progressed & ((bor == "PD") | ((bor == "SD") & (pfs < six)))
    acquired = progressed & bor.isin(["CR", "PR", "SD"]) & (pfs >= six)
    keep = primary | acquired
    d = pd.DataFrame(
        {"t": (os_ - pfs)[keep], "e": c["os_event"][keep], "acquired": acquired[keep].astype(int)}
    )
    fit = CoxPHFitter().fit(d, "t", "e")
    return int(acquired.sum()), int(primary.sum()), float(np.exp(fit.params_["acquired"]))


def test_survival_after_progression(public_dir, cohorts):
    sets = v.pps_sets(cohorts)
    table = v.pps_table(sets)
    gide = table.loc[v.PUBLIC_COHORTS["gide2019_melanoma_pd1"]]
    n_acq, n_pri, hr = _gide_pps_by_hand(public_dir)
    assert (gide["acquired: patients"], gide["primary: patients"]) == (n_acq, n_pri) == (9, 17)
    assert gide["hr"] == pytest.approx(hr, abs=5e-4)
    # cohorts without progression days (IMvigor210, Hugo, Samstein) or OS (Rizvi) or events
    # (MORRISON-1) have no analysis set
    assert set(sets) == {
        "riaz2017_melanoma_nivolumab",
        "gide2019_melanoma_pd1",
        "vanallen2015_melanoma_ctla4",
        "miao2018_ccrcc_pd1",
        "chowell2021_pancancer_msk",
        "chang2024_loris_validation_cohorts",
    }
    # LORIS enters without its MSK sub-cohorts
    loris = cohorts["chang2024_loris_validation_cohorts"]
    sub = loris.clinical["sub_cohort"]
    n_loris = len(sets["chang2024_loris_validation_cohorts"])
    assert n_loris == 379
    full = pps_analysis_set(patient_table(loris.cohort))
    assert len(full) > n_loris and sub.isin(v.MSK_SUBCOHORTS_LEFT_OUT).sum() == 803
    pooled = table.iloc[-1]
    assert pooled.name.startswith("pooled")
    per = table.iloc[:-1]
    assert pooled["acquired: patients"] == per["acquired: patients"].sum() == 345
    assert pooled["primary: patients"] == per["primary: patients"].sum() == 1243
    # the direction of the real-world study: longer survival after acquired resistance
    assert pooled["hr"] == pytest.approx(0.44, abs=0.005) and pooled["ci_high"] < 1


def test_no_overlapping_cohort_is_pooled():
    assert "morrison1_melanoma_campbell2023" not in v.POOLED_COHORTS
    assert "samstein2019_tmb_mskcc" not in v.POOLED_COHORTS
    assert "rizvi2018_nsclc_msk" not in v.POOLED_COHORTS
    text = v.OVERLAPS.to_string()
    for name in (
        "MORRISON-1",
        "Riaz",
        "Gide",
        "Van Allen",
        "Samstein",
        "Rizvi",
        "Chowell",
        "MSK1",
        "Vanguri",
    ):
        assert name in text


def test_baseline_lof_imvigor210(cohorts):
    t = v.baseline_lof(cohorts["imvigor210_urothelial_atezolizumab"])
    assert t.loc["JAK1", "LoF carriers"] == 2 and t.loc["JAK1", "samples assayed"] == 293
    assert t.loc["B2M", "on the panel"] == "no (not assayed)"
    assert t.loc["B2M", "LoF carriers"] == 0


def test_tme_by_immune_phenotype(cohorts):
    scores = v.phenotype_scores(cohorts["imvigor210_urothelial_atezolizumab"])
    assert len(scores) == 195
    s = v.phenotype_summary(scores)
    ifng = s.loc["IFNG_AYERS2017"]
    inflamed, excluded, desert = (ifng[c] for c in s.columns[:3])
    assert list(s.columns[:3]) == [
        "median, inflamed (n=46)",
        "median, excluded (n=73)",
        "median, desert (n=48)",
    ]
    assert inflamed > excluded > desert  # Mariathasan et al. 2018
    assert ifng["Kruskal-Wallis p"] < 1e-15
    tgfb = s.loc["TGFB_SIGNALLING"]
    assert tgfb.iloc[1] == max(tgfb.iloc[:3])  # TGF-beta highest in excluded tumours


def test_pfs_and_os_from_a_cohort(cohorts):
    c = cohorts["riaz2017_melanoma_nivolumab"].cohort
    os_ = v.os_months(c)
    assert len(os_) == 73 and int(os_["event"].sum()) == 42
    assert round(v.km_median_months(os_), 2) == 23.26
    assert np.isnan(v.km_median_months(pd.DataFrame({"months": [], "event": []})))


def test_public_dir_resolution(public_dir, tmp_path):
    assert v.resolve_public_dir("") == public_dir.resolve()
    assert v.resolve_public_dir(str(public_dir)) == public_dir.resolve()
    assert v.resolve_public_dir(tmp_path / "absent") is None
    assert v.resolve_public_dir(tmp_path) is None  # no README.md: not the public folder
    with pytest.raises(KeyError, match="unknown public cohort"):
        v.load_public_cohorts(public_dir, ["not_a_cohort"])


def test_tme_checks_of_the_tme_module(public_dir):
    checks = {name: table for name, _, table in v.tme_validations(public_dir)}
    assert list(checks) == [
        "public_tme_phenotype_trend",
        "public_tme_subtypes_by_phenotype",
        "public_tme_subtype_fisher",
        "public_tme_response",
    ]
    trend = checks["public_tme_phenotype_trend"].loc["IFNG_AYERS2017"]
    assert (trend["n_desert"], trend["n_excluded"], trend["n_inflamed"]) == (48, 72, 46)
    assert trend["median_desert"] < trend["median_excluded"] < trend["median_inflamed"]
    assert trend["jt_p"] < 1e-15
    assert checks["public_tme_subtypes_by_phenotype"].loc["inflamed", "immune_enriched_share"] > 0.9
    assert set(checks["public_tme_response"].index) == {
        v.PUBLIC_COHORTS[f]
        for f in (
            "riaz2017_melanoma_nivolumab",
            "gide2019_melanoma_pd1",
            "vanallen2015_melanoma_ctla4",
            "miao2018_ccrcc_pd1",
            "hugo2016_melanoma_pd1",
            "imvigor210_urothelial_atezolizumab",
        )
    }


def test_chapter_modules_can_hook_in_checks(public_dir, public, monkeypatch):
    assert v.chapter_checks(public).missing == v.NO_HOOKED_CHECKS  # no module defines one yet
    table = pd.DataFrame({"x": [1]})
    monkeypatch.setattr(
        helpers.analysis.lof,
        "real_data_validation",
        lambda d: [("a check of the LoF chapter", table)],
        raising=False,
    )
    hooked = {n: (c, t) for n, c, t in v.hooked_validations(public_dir)}
    assert hooked["public_lof_check_1"][0] == "a check of the LoF chapter (open published data)"
    assert hooked["public_lof_check_1"][1] is table
    checks = v.chapter_checks(public)
    assert checks.missing is None and checks.checks[0][2] is table


def test_the_facts_check_and_its_sentence(public):
    facts = v.check_facts(public)
    assert facts.missing is None
    assert (facts.n_facts, facts.n_failed) == (146, 0)
    assert validation_text.facts_sentence(facts) == "146 of 146 facts agree."
    failed = v.FactsCheck(
        agreement=facts.agreement.assign(agrees=["fail"] * 2 + ["pass"] * 144), summary=facts.summary
    )
    assert validation_text.facts_sentence(failed) == "144 of 146 facts agree; 2 do not (see the table)."


def test_the_sections_on_the_public_cohorts(public, cohorts):
    classes = v.public_classes(public)
    pd.testing.assert_frame_equal(classes.table, v.class_counts_both_rules(cohorts))
    pps = v.public_pps(public)
    assert pps.missing is None and pps.table.index[-1].startswith("pooled")
    baseline = v.public_baseline_lof(public)
    assert baseline.missing is None and baseline.table.loc["JAK1", "LoF carriers"] == 2
    tme = v.public_tme(public)
    assert tme.missing is None and len(tme.phenotype_scores) == 195
    assert [name for name, _, _ in tme.checks] == [
        "public_tme_phenotype_trend",
        "public_tme_subtypes_by_phenotype",
        "public_tme_subtype_fisher",
        "public_tme_response",
    ]
    fig = validation_plots.pps_forest_figure(pps)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[-1] == "Pooled, no overlapping cohorts\n1045 deaths"
    fig = validation_plots.phenotype_figure(tme.phenotype_scores)
    assert [ax.get_title() for ax in fig.axes] == ["IFNG_AYERS2017", "TCELL_INFLAMED_GEP", "TGFB_SIGNALLING"]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [
        "inflamed\n(n=46)",
        "excluded\n(n=73)",
        "desert\n(n=48)",
    ]


def test_without_the_public_cohorts_every_section_says_so(tmp_path):
    public = v.open_public_cohorts(tmp_path / "absent")
    assert public.directory is None and public.cohorts == {}
    assert public.missing == v.NOT_FOUND
    sections = [
        v.check_facts(public),
        v.public_classes(public),
        v.public_pps(public),
        v.public_baseline_lof(public),
        v.public_tme(public),
        v.chapter_checks(public),
    ]
    assert all(s.missing == v.NOT_FOUND for s in sections)
    facts, classes, pps, baseline, tme, checks = sections
    assert facts.agreement.empty and list(facts.summary.index) == ["all cohorts"]
    assert facts.summary.loc["all cohorts"].tolist() == [0, 0, 0]
    assert classes.table.empty and "primary (FACTS)" in classes.table.columns
    assert pps.sets == {} and pps.table.empty and "hr" in pps.table.columns
    assert baseline.table.empty and tme.checks == [] and tme.phenotype_scores.empty and checks.checks == []
    assert v.support_matrix(public.cohorts).empty and v.public_repairs(public.cohorts).empty
    assert validation_text.facts_sentence(facts) == ""
    # the figures say that there is nothing to show instead of failing
    for fig in (
        validation_plots.pps_forest_figure(pps),
        validation_plots.phenotype_figure(tme.phenotype_scores),
    ):
        assert len(fig.texts) + sum(len(ax.texts) for ax in fig.axes) == 1
    assert "not found" in validation_text.banner_html(public.directory, _named_cohort(simulated=True))


def test_a_public_folder_without_imvigor210(public_dir):
    public = v.PublicCohorts(
        directory=public_dir,
        cohorts=v.load_public_cohorts(public_dir, ["gide2019_melanoma_pd1"], include_expression=False),
    )
    baseline = v.public_baseline_lof(public)
    assert baseline.missing == "IMvigor210 is not among the public cohorts found, so this section is empty."
    assert baseline.table.empty


def _named_cohort(simulated: bool, **meta) -> Cohort:
    return Cohort({}, meta={"name": "Test cohort", "simulated": simulated, "access": "restricted", **meta})


def test_the_run_cohort_section(small_cohort, cohorts):
    run = v.run_cohort_report(small_cohort)
    assert run.import_tables == {}  # a simulated cohort was not imported
    assert run.chapter_support["supported"].tolist() == ["yes"] * 7
    riaz = v.run_cohort_report(cohorts["riaz2017_melanoma_nivolumab"].cohort)
    assert list(riaz.import_tables) == ["run_cohort_repairs", "run_cohort_lacks"]
    assert list(riaz.import_tables["run_cohort_repairs"].columns) == ["repair", "rows"]
    assert validation_text.run_cohort_sentence(small_cohort).endswith("no import repairs.")
    real = _named_cohort(
        False, source="a study", repairs=[{"rule": "x", "rows": 2}], pfs_death_rule="deaths count"
    )
    assert validation_text.run_cohort_sentence(real) == (
        "This run's cohort, Test cohort, is a real cohort (access: restricted) imported from a study; "
        "1 repair rule applied at import (below), and deaths count."
    )
    banner = validation_text.banner_html(None, real)
    assert "Real cohort and real published cohorts" in banner and "access: restricted" in banner
