"""The simulated cohort: determinism, realism, and planted truths recomputed from its tables.

The truths in ``truth.json`` are written by the simulator; the tests here do not take them on
trust. Prevalences, shares, group sizes and powers are recomputed from the cohort's tables with
the book's own derivations (classes by :func:`helpers.analysis.resistance.classify_resistance`,
timepoints by :func:`helpers.analysis.derive.sample_table`), and the simulator's own class rule
(:mod:`helpers.simulate.classes`) is compared course by course with the book's classifier.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from lifelines import CoxPHFitter, KaplanMeierFitter
from scipy import stats

from helpers.analysis.derive import patient_table, sample_table
from helpers.analysis.resistance import classify_resistance
from helpers.data.maf import DEEP_DELETION, NONSYNONYMOUS_CLASSES, TRUNCATING_CLASSES
from helpers.errors import ParameterError
from helpers.simulate import (
    CANCER_TYPES,
    PLANTED_LOF,
    SCENARIOS,
    load_signature_sets,
    params,
    save_simulated,
    simulate_cohort,
)
from helpers.simulate.classes import sitc_class
from helpers.simulate.truth import schoenfeld_power
from helpers.units import CLASSES, DAYS_PER_MONTH

Z_975 = stats.norm.ppf(0.975)


# ----------------------------------------------------------------------------- helpers


def own_classes(courses: pd.DataFrame, **rule: object) -> np.ndarray:
    """The simulator's class of each course (its regimen passed on, as the simulator must)."""
    return sitc_class(
        courses["best_response"].to_numpy(dtype=object),
        courses["progression_day"].to_numpy(float),
        courses["last_assessment_day"].to_numpy(float),
        courses["stop_day"].to_numpy(float),
        start_day=courses["start_day"].to_numpy(float),
        regimen=courses["regimen"].to_numpy(dtype=object),
        **rule,
    )


def class_disagreements(
    courses: pd.DataFrame, book_classify: Callable[..., pd.Series], **rule: object
) -> pd.DataFrame:
    """The courses on which the simulator's rule and a book classifier disagree (empty if none)."""
    own = own_classes(courses, **rule)
    book = book_classify(courses, **rule).to_numpy(dtype=object)
    differ = own != book
    return courses.loc[differ].assign(simulator=own[differ], book=book[differ])


def boundary_courses(
    benefit_months: float = 6,
    min_exposure_weeks: float = 6,
    min_acquired_exposure_months: float = 6,
    max_weeks_after_last_dose: float | None = 12,
    **_: object,
) -> pd.DataFrame:
    """Every best response × regimen × progression × last assessment × stop day at and beside the
    boundaries: the benefit window, both exposure minimums and the limit after the last dose (stop
    days set relative to the progression day)."""
    window, exposure = benefit_months * DAYS_PER_MONTH, min_exposure_weeks * 7.0
    acquired = min_acquired_exposure_months * DAYS_PER_MONTH
    beside = [np.nan, 0.0, np.nextafter(window, 0), window, np.nextafter(window, np.inf), 3 * window]
    near = [np.nextafter(exposure, 0), exposure, np.nextafter(exposure, np.inf)]
    near += [np.nextafter(acquired, 0), acquired, np.nextafter(acquired, np.inf)]
    stops = [np.nan, *near, 800.0, -1.0, -2.0, -3.0]  # -1/-2/-3: just inside, at, beyond the limit
    grid = pd.MultiIndex.from_product(
        [
            ["CR", "PR", "SD", "PD", "NE", None],
            ["anti-PD-1", "ICB+chemo", "PD-1+CTLA-4", None],
            beside,
            beside,
            stops,
        ],
        names=["best_response", "regimen", "progression_day", "last_assessment_day", "stop_day"],
    ).to_frame(index=False)
    limit = 84.0 if max_weeks_after_last_dose is None else max_weeks_after_last_dose * 7.0
    prog = grid["progression_day"].to_numpy(float)
    for code, stop in (
        (-1.0, prog - np.nextafter(limit, 0)),
        (-2.0, prog - limit),
        (-3.0, prog - np.nextafter(limit, np.inf)),
    ):
        grid.loc[grid["stop_day"] == code, "stop_day"] = stop[grid["stop_day"].to_numpy() == code]
    grid["best_response"] = grid["best_response"].astype(object)
    grid["regimen"] = grid["regimen"].astype(object)
    grid.insert(0, "patient_id", [f"PT-{i:08x}" for i in range(len(grid))])
    grid.insert(1, "start_day", 0.0)
    return grid


def lof_samples(cohort, gene: str, cancer_type: str) -> pd.DataFrame:
    """DNA samples of a cancer type whose panel covers ``gene``, with the book's timepoint and
    class and whether the sample carries a LoF of the gene (truncating mutation or deep deletion)."""
    st = sample_table(cohort)
    covered = cohort.panels.loc[cohort.panels["gene"] == gene, "panel_id"]
    st = st[st["has_dna"] & st["panel_id"].isin(covered) & (st["cancer_type"] == cancer_type)].copy()
    mut = cohort.mutations
    truncating = mut[(mut["gene"] == gene) & mut["variant_classification"].isin(TRUNCATING_CLASSES)]
    cna = cohort.cna
    deleted = cna[(cna["gene"] == gene) & (cna["copy_state"] == DEEP_DELETION)]
    st["lof"] = st["sample_id"].isin(truncating["sample_id"]) | st["sample_id"].isin(deleted["sample_id"])
    return st


def exact_fisher_power(n1: int, p1: float, n0: int, p0: float, alpha: float, tail: float = 1e-9) -> float:
    """Power of Fisher's exact test by summing over the two binomial distributions (not Monte Carlo).

    Outcomes outside the central ``1 - 2·tail`` of each binomial are left out (their mass is
    below 4e-9 in all)."""

    def support(n: int, p: float) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = stats.binom.ppf([tail, 1 - tail], n, p).astype(int)
        x = np.arange(lo, hi + 1)
        return x, stats.binom.pmf(x, n, p)

    x1, w1 = support(n1, p1)
    x0, w0 = support(n0, p0)
    power = 0.0
    for a, wa in zip(x1, w1, strict=True):
        for b, wb in zip(x0, w0, strict=True):
            if stats.fisher_exact([[a, n1 - a], [b, n0 - b]])[1] <= alpha:
                power += wa * wb
    return power


def schoenfeld(hr: float, deaths: int, share: float) -> float:
    """Schoenfeld's power of a two-sided 5 % test of a hazard ratio, written out for the test."""
    return float(stats.norm.cdf(abs(np.log(hr)) * np.sqrt(deaths * share * (1 - share)) - Z_975))


def km_median_months(days: pd.Series, event: pd.Series) -> float:
    return (
        KaplanMeierFitter().fit(days.astype(float), event.astype(bool)).median_survival_time_ / DAYS_PER_MONTH
    )


def post_progression_rt(cohort, pt: pd.DataFrame) -> pd.Series:
    """Per progressor: whether an RT course started on or after the progression day (tables only)."""
    rt = cohort.radiotherapy.merge(pt[["patient_id", "progression_day"]], on="patient_id")
    after = rt.loc[rt["start_day"] >= rt["progression_day"], "patient_id"]
    progressors = pt[pt["progressed"]]
    return pd.Series(progressors["patient_id"].isin(after).to_numpy(), index=progressors.index)


# ----------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_tables(small_cohort_path: Path, tmp_path: Path) -> None:
    """Simulated again and saved, every table and the truth are identical, value for value."""
    again, truth = simulate_cohort(n_patients=800, seed=1)
    folder = save_simulated(again, truth, tmp_path / "again")
    files = sorted(f.name for f in small_cohort_path.glob("*.parquet"))
    assert files == sorted(f.name for f in folder.glob("*.parquet"))
    assert {"patients.parquet", "expression.parquet", "truth_tme_subtypes.parquet"} <= set(files)
    for name in files:
        pd.testing.assert_frame_equal(
            pd.read_parquet(small_cohort_path / name), pd.read_parquet(folder / name), check_exact=True
        )
    assert (small_cohort_path / "truth.json").read_bytes() == (folder / "truth.json").read_bytes()


def test_other_seed_differs(small_cohort) -> None:
    other, _ = simulate_cohort(n_patients=800, seed=2)
    assert not small_cohort.patients["age_at_icb"].equals(other.patients["age_at_icb"])


def test_identifiers_are_opaque(small_cohort) -> None:
    for ids in (small_cohort.patients["patient_id"], small_cohort.samples["sample_id"]):
        assert ids.is_unique
        assert all(re.fullmatch(r"(PT|SM)-[0-9a-f]{8}", i) for i in ids)
        assert not any(i.isdigit() for i in ids)


def test_bad_parameters_are_rejected() -> None:
    with pytest.raises(ParameterError, match="at least 50"):
        simulate_cohort(n_patients=10)
    one = np.array([np.nan])
    with pytest.raises(ParameterError, match="benefit_months and max_weeks_after_last_dose must be positive"):
        sitc_class(np.array(["SD"], dtype=object), one, one, one, benefit_months=0)
    with pytest.raises(ParameterError, match="unknown scenario 'nope'; choose one of: default, selection"):
        simulate_cohort(n_patients=100, scenario="nope")


# ----------------------------------------------------------------------------- realism


def test_cancer_type_mix_and_outcomes_are_realistic(default_cohort) -> None:
    pt = patient_table(default_cohort)
    share = pt["cancer_type"].value_counts(normalize=True)
    for t, spec in CANCER_TYPES.items():
        assert abs(share[t] - spec.share) < 0.025, t
    assessed = pt[pt["best_response"].isin(["CR", "PR", "SD", "PD"])]
    orr = assessed.groupby("cancer_type")["best_response"].apply(lambda s: s.isin(["CR", "PR"]).mean())
    assert orr.between(0.12, 0.48).all(), orr
    for t, g in pt.groupby("cancer_type"):
        pfs = km_median_months(g["pfs_days"], g["pfs_event"])
        assert 1.5 <= pfs <= 8.5, (t, pfs)
        prim = g[(g["resistance_class"] == "primary") & g["progressed"]]
        pps = km_median_months(prim["pps_days"], prim["pps_event"])
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
    assert planted == {
        ("B2M", "NSCLC"),
        ("TGFBR2", "NSCLC"),
        ("CYLD", "HNSCC"),
        ("RUNX1", "TNBC"),
        ("JAK1", "Melanoma"),
        ("JAK2", "Melanoma"),
    }
    for d in t["acquired_lof"]:
        assert d["planted_prevalence_post_acquired"] > d["planted_prevalence_pre"]
    assert len(t["null_genes"]) > 400
    assert not {g for g, _ in planted} & set(t["null_genes"])
    sub = t["tme"]["subtypes"]
    rna = default_cohort.expression.columns
    assert set(sub["sample_id"]) == set(rna)
    assert set(sub["planted_subtype"]) == {"IE/F", "IE", "F", "D"}
    assert t["rt"]["hr"] < 1 and t["rt"]["confounder"] == "ecog"


# ----------------------------------------------------------------------------- the class rule


def _design_cases(just_before: float, exposure_short: float) -> list[tuple]:
    """Hand-checked classes of DESIGN §4 (6 months = 182.625 days, 6 weeks = 42 days, 12 weeks =
    84 days; regimen anti-PD-1 unless named)."""
    w, e, nan = 182.625, 42.0, np.nan
    b = just_before
    mono, chemo = "anti-PD-1", "ICB+chemo"
    return [  # best response, progression, last assessment, stop, regimen, expected class
        ("SD", w, nan, nan, mono, "acquired"),  # progression at exactly 6 months is "at or after"
        ("SD", b, nan, nan, mono, "primary"),
        ("SD", 100.0, nan, exposure_short, mono, "not_evaluable"),  # exposure just short
        ("SD", 100.0, nan, e, mono, "primary"),  # exactly the minimum exposure is enough
        ("PR", b, nan, nan, mono, "not_evaluable"),  # response then early progression
        ("PR", w, nan, 10.0, mono, "not_evaluable"),  # progression 172.6 days after the last dose
        ("SD", w, nan, b, mono, "not_evaluable"),  # acquired: exposure just short of 6 months
        ("SD", w, nan, w, mono, "acquired"),  # exactly 6 months' exposure is enough
        ("SD", 300.0, nan, 216.0, mono, "acquired"),  # progression exactly 12 weeks after the last dose
        ("SD", 300.0, nan, 215.875, mono, "not_evaluable"),  # just over 12 weeks after it
        ("PD", 150.0, nan, 50.0, mono, "not_evaluable"),  # 100 days after the last dose
        ("CR", nan, w, nan, mono, "ongoing_benefit"),
        ("CR", nan, w, 20.0, mono, "ongoing_benefit"),  # no progression: exposure does not matter
        ("CR", nan, b, nan, mono, "not_evaluable"),  # follow-up too short
        ("SD", nan, nan, nan, mono, "not_evaluable"),
        ("PD", nan, nan, nan, mono, "primary"),
        ("PD", 60.0, 30.0, 20.0, mono, "not_evaluable"),
        ("PD", 250.0, nan, nan, mono, "primary"),  # monotherapy: PD is primary whatever the timing
        ("NE", 60.0, nan, nan, mono, "not_evaluable"),
        (None, b, nan, nan, mono, "primary"),  # no best response: progression timing alone
        (None, w, nan, nan, mono, "acquired"),
        (None, nan, 400.0, nan, mono, "ongoing_benefit"),
        (None, nan, nan, nan, mono, "not_evaluable"),
        ("PR", b, nan, nan, chemo, "primary"),  # ICB+chemo: timing regardless of best response
        ("CR", w, nan, nan, chemo, "acquired"),
        ("PD", 250.0, nan, nan, chemo, "acquired"),
        ("PD", nan, nan, nan, chemo, "primary"),
        ("PR", 60.0, nan, exposure_short, chemo, "not_evaluable"),  # exposure just short
        ("PR", 60.0, nan, e, chemo, "primary"),
        ("NE", 60.0, nan, nan, chemo, "not_evaluable"),
        ("PR", b, nan, nan, "PD-1+CTLA-4", "not_evaluable"),  # ICB+ICB: the monotherapy rule
        ("PR", b, nan, nan, None, "not_evaluable"),  # regimen unknown: the monotherapy rule
    ]


@pytest.mark.parametrize(
    ("start", "just_before", "exposure_short"),
    [
        (0.0, np.nextafter(182.625, 0), np.nextafter(42.0, 0)),  # one float step inside
        (100.0, 182.5, 41.875),  # a later start (exact binary fractions survive the shift)
    ],
)
def test_simulator_class_rule_follows_design_at_the_boundaries(start, just_before, exposure_short) -> None:
    cases = _design_cases(just_before, exposure_short)
    br = np.array([c[0] for c in cases], dtype=object)
    prog, last, stop = (np.array([c[k] for c in cases], dtype=float) + start for k in (1, 2, 3))
    regimen = np.array([c[4] for c in cases], dtype=object)
    got = sitc_class(br, prog, last, stop, start_day=start, regimen=regimen)
    assert list(got) == [c[5] for c in cases]
    # without regimens every course follows the monotherapy rule (the ICB+chemo PR becomes NE)
    mono = sitc_class(br, prog, last, stop, start_day=start)
    assert [c for c, r in zip(mono, regimen, strict=True) if r == "ICB+chemo"][0] == "not_evaluable"


@pytest.mark.parametrize(
    "rule",
    [
        {"benefit_months": 6, "min_exposure_weeks": 6},  # the SITC defaults
        {"benefit_months": 3, "min_exposure_weeks": 0, "min_acquired_exposure_months": 0},
        {"benefit_months": 12, "min_exposure_weeks": 12, "max_weeks_after_last_dose": None},
        {
            "benefit_months": 9,
            "min_exposure_weeks": 8,
            "min_acquired_exposure_months": 10,
            "max_weeks_after_last_dose": 6,
            "timing_rule_regimens": ("ICB+chemo", "PD-1+CTLA-4"),
        },
        {"benefit_months": 6, "min_exposure_weeks": 6, "timing_rule_regimens": ()},
    ],
)
def test_simulator_class_rule_agrees_with_the_book_classifier(small_cohort, rule) -> None:
    """Course by course, on the simulated cohort and on every boundary case."""
    courses = small_cohort.icb_courses
    assert class_disagreements(courses, classify_resistance, **rule).empty
    grid = boundary_courses(**rule)
    assert class_disagreements(grid, classify_resistance, **rule).empty
    # the comparison is not vacuous: the cohort and the grid hold every class
    assert set(own_classes(courses, **rule)) == set(CLASSES)
    assert set(classify_resistance(grid, **rule)) == set(CLASSES)


def test_the_truth_uses_the_classes_the_book_derives(small_cohort, small_truth) -> None:
    """The class behind each sample of the TME truth equals the book's class of its patient."""
    sub = small_truth["tme"]["subtypes"]
    st = sample_table(small_cohort).set_index("sample_id")
    book = st.loc[sub["sample_id"], "resistance_class"].to_numpy()
    assert (sub["resistance_class"].to_numpy() == book).all()
    assert {"acquired", "primary"} <= set(book)


def _strict_boundary(courses: pd.DataFrame, **rule: float) -> pd.Series:
    """A buggy book classifier: progression at exactly the benefit boundary counts as before it."""
    step_down = np.nextafter(courses["progression_day"].to_numpy(float), -np.inf)
    return classify_resistance(courses.assign(progression_day=step_down), **rule)


def _thirty_day_months(courses: pd.DataFrame, benefit_months: float = 6, **rule: float) -> pd.Series:
    """A buggy book classifier: a month of 30 days instead of 30.4375."""
    return classify_resistance(courses, benefit_months * 30.0 / DAYS_PER_MONTH, **rule)


def _no_acquired_exposure(courses: pd.DataFrame, **rule: object) -> pd.Series:
    """A buggy book classifier: no exposure minimum for acquired resistance (the rule before 2026)."""
    return classify_resistance(courses, **{**rule, "min_acquired_exposure_months": 0})


def _no_last_dose_limit(courses: pd.DataFrame, **rule: object) -> pd.Series:
    """A buggy book classifier: progression long after the last dose counts as resistance."""
    return classify_resistance(courses, **{**rule, "max_weeks_after_last_dose": None})


def _chemo_as_monotherapy(courses: pd.DataFrame, **rule: object) -> pd.Series:
    """A buggy book classifier: ICB+chemo courses by the anti-PD-1 rule (the rule before 2026)."""
    return classify_resistance(courses, **{**rule, "timing_rule_regimens": ()})


@pytest.mark.parametrize(
    ("buggy", "planted", "simulator", "book"),
    [
        (_strict_boundary, {"progression_day": 6 * DAYS_PER_MONTH}, "acquired", "primary"),  # at the boundary
        (_thirty_day_months, {"progression_day": 181.0}, "primary", "acquired"),  # in (180, 182.625) days
        (_no_acquired_exposure, {"progression_day": 200.0, "stop_day": 150.0}, "not_evaluable", "acquired"),
        (_no_last_dose_limit, {"progression_day": 300.0, "stop_day": 200.0}, "not_evaluable", "acquired"),
        (
            _chemo_as_monotherapy,
            {"progression_day": 150.0, "best_response": "PR", "regimen": "ICB+chemo"},
            "primary",
            "not_evaluable",
        ),
    ],
)
def test_class_comparison_catches_a_planted_discrepancy(
    small_cohort, buggy, planted, simulator, book
) -> None:
    """The comparison above fails when the book's classifier has a bug a course exposes."""
    course = {
        "patient_id": "PT-planted",
        "regimen": "anti-PD-1",
        "start_day": 0.0,
        "stop_day": np.nan,
        "best_response": "SD",
        "progression_day": np.nan,
        "last_assessment_day": np.nan,
    }
    planted = pd.DataFrame([{**course, **planted}])
    courses = pd.concat([small_cohort.icb_courses, planted], ignore_index=True)
    assert class_disagreements(courses, classify_resistance).empty  # the real classifier agrees
    found = class_disagreements(courses, buggy)
    assert "PT-planted" in set(found["patient_id"])
    row = found.set_index("patient_id").loc["PT-planted"]
    assert (row["simulator"], row["book"]) == (simulator, book)


def test_simulator_lof_vocabulary_is_the_books() -> None:
    """The simulator's own truncating and TMB classes are those of helpers.data.maf."""
    assert set(params.TRUNCATING) == TRUNCATING_CLASSES
    assert set(params.NONSYNONYMOUS) == NONSYNONYMOUS_CLASSES
    assert params.DEEP_DELETION == DEEP_DELETION


# ----------------------------------------------------------------------------- planted LoF


def test_planted_lof_prevalence_is_realised(default_cohort, default_truth) -> None:
    """LoF prevalence before ICB and after acquired / primary resistance, from the tables."""
    recorded = {(d["gene"], d["cancer_type"]): d for d in default_truth["acquired_lof"]}
    for (gene, cancer_type), (p_pre, p_acq, p_prim) in PLANTED_LOF.items():
        st = lof_samples(default_cohort, gene, cancer_type)
        groups = {
            "pre": st[st["timepoint"] == "pre"],
            "post_acquired": st[(st["timepoint"] == "post") & (st["resistance_class"] == "acquired")],
            "post_primary": st[(st["timepoint"] == "post") & (st["resistance_class"] == "primary")],
        }
        obs = {k: g["lof"].mean() for k, g in groups.items()}
        where = (gene, cancer_type, obs)
        # the truth reports what is in the tables
        assert obs == pytest.approx(recorded[(gene, cancer_type)]["observed_prevalence"], abs=1e-12), where
        assert obs["post_primary"] < obs["post_acquired"], where
        # and what was planted: within 3 binomial standard errors, plus up to 2 points of
        # background LoF (unplanted truncating mutations and deep deletions, ~0.5 % a gene)
        for key, planted in (("pre", p_pre), ("post_acquired", p_acq), ("post_primary", p_prim)):
            n = len(groups[key])
            assert n >= 10, (where, key, n)
            tolerance = 3 * np.sqrt(planted * (1 - planted) / n) + 0.02
            assert abs(obs[key] - planted) <= tolerance, (where, key, planted, n)


def test_lof_power_recomputed_exactly_from_the_tables(default_cohort, default_truth) -> None:
    """Group sizes of the primary comparison (acquired post-progression vs acquired pre-treatment
    without a post sample) from the tables, and the exact power of Fisher's test at 0.1 / number
    of panel genes: agrees with the simulator's Monte Carlo value. Only B2M in NSCLC is planted
    large enough to be detectable at 5,000 patients (helpers.simulate.params)."""
    n_genes = default_cohort.panels.groupby("panel_id").size().max()
    recorded = {(d["gene"], d["cancer_type"]): d for d in default_truth["acquired_lof"]}
    for (gene, cancer_type), (p_pre, p_acq, _) in PLANTED_LOF.items():
        d = recorded[(gene, cancer_type)]
        st = lof_samples(default_cohort, gene, cancer_type)
        post = st[(st["timepoint"] == "post") & (st["resistance_class"] == "acquired")]
        pre = st[
            (st["timepoint"] == "pre")
            & (st["resistance_class"] == "acquired")
            & ~st["patient_id"].isin(post["patient_id"])
        ]
        n1, n0 = post["patient_id"].nunique(), pre["patient_id"].nunique()
        assert (n1, n0) == (d["n_post_acquired_patients"], d["n_pre_patients"]), (gene, cancer_type)
        background = max(st.loc[st["timepoint"] == "pre", "lof"].mean() - p_pre, 0.0)
        p1, p0 = min(p_acq + background, 1.0), p_pre + background
        power = exact_fisher_power(n1, p1, n0, p0, alpha=0.1 / n_genes)
        # the recorded value is a mean of 400 draws: within 4 Monte Carlo SEs (+1 draw of slack)
        mc_se = np.sqrt(power * (1 - power) / 400)
        assert abs(d["power"] - power) <= 4 * mc_se + 1 / 400, (gene, cancer_type, power, d["power"])
        if (gene, cancer_type) == ("B2M", "NSCLC"):
            assert power >= 0.8, power


# ----------------------------------------------------------------------------- survival after progression


def test_pps_power_recomputed_from_the_tables(default_cohort, default_truth) -> None:
    """Schoenfeld's power of the planted HR 0.6 on the observed deaths after progression."""
    pt = patient_table(default_cohort)
    groups = pt[pt["progressed"] & pt["resistance_class"].isin(["acquired", "primary"])]
    recorded = default_truth["pps_hr"]["power"]
    hr = default_truth["pps_hr"]["pooled"]
    assert hr == 0.6

    def power(g: pd.DataFrame) -> float:
        return schoenfeld(hr, int(g["pps_event"].sum()), (g["resistance_class"] == "acquired").mean())

    assert power(groups) == pytest.approx(recorded["pooled"], abs=1e-12)
    assert power(groups) >= 0.8
    # per type the power is recorded, not promised: the small types have fewer deaths
    for t, g in groups.groupby("cancer_type"):
        assert power(g) == pytest.approx(recorded["per_cancer_type"][t], abs=1e-12), t


def test_schoenfeld_power_matches_a_hand_computed_value() -> None:
    """HR 0.6, 1:1: D = (1.95996 + 0.84162)² / (0.25 · log(0.6)²) = 120.3 deaths give 80 % power."""
    d80 = (Z_975 + stats.norm.ppf(0.8)) ** 2 / (0.25 * np.log(0.6) ** 2)
    assert d80 == pytest.approx(120.3, abs=0.05)
    assert schoenfeld_power(np.log(0.6), d80, 0.5) == pytest.approx(0.8, abs=1e-9)
    # 100 deaths: Φ(0.5108 · 5 − 1.96) = Φ(0.5941) = 0.7238
    assert schoenfeld_power(np.log(0.6), 100, 0.5) == pytest.approx(0.7238, abs=1e-4)
    assert schoenfeld_power(np.log(0.6), 0, 0.5) == 0.0


# ----------------------------------------------------------------------------- TME


def test_tme_power_recomputed_from_the_tables(default_cohort, default_truth) -> None:
    """Post-progression RNA samples of acquired vs primary resistance (book's classes), and the
    exact (noncentral t) power of the planted IFN shift (0.6 − (−0.2)) / 1.2 SD."""
    st = sample_table(default_cohort)
    post = st[(st["timepoint"] == "post") & st["has_rna"]]
    n1 = int((post["resistance_class"] == "acquired").sum())
    n2 = int((post["resistance_class"] == "primary").sum())
    d = (0.6 - (-0.2)) / 1.2
    df = n1 + n2 - 2
    nc = d * np.sqrt(n1 * n2 / (n1 + n2))
    crit = stats.t.ppf(0.975, df)
    # scipy's noncentral t returns NaN far in its tail, where the power is 1 to many digits
    power = stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc)
    if not np.isfinite(power):
        power = stats.norm.cdf(nc - stats.norm.ppf(0.975))
    recorded = default_truth["tme"]["power"]["ifn_acquired_vs_primary_post"]
    assert abs(recorded - power) < 0.01  # the simulator uses the normal approximation
    assert power >= 0.8


# ----------------------------------------------------------------------------- radiotherapy


def test_rt_power_recomputed_from_the_tables(default_cohort, default_truth) -> None:
    """Schoenfeld's power of the planted RT HR 0.75 on the deaths of progressors."""
    pt = patient_table(default_cohort)
    gets_rt = post_progression_rt(default_cohort, pt)
    progressors = pt[pt["progressed"]]
    assert int(gets_rt.sum()) == default_truth["rt"]["n_progressors_with_rt"]
    power = schoenfeld(default_truth["rt"]["hr"], int(progressors["death"].sum()), gets_rt.mean())
    assert power == pytest.approx(default_truth["rt"]["power"]["value"], abs=1e-12)
    assert power >= 0.8


def test_rt_is_confounded_by_ecog(default_cohort, default_truth) -> None:
    """ECOG lowers the share of progressors given RT and raises the hazard of death (tables only)."""
    pt = patient_table(default_cohort)
    progressors = pt[pt["progressed"]].assign(rt=post_progression_rt(default_cohort, pt).astype(int))
    share = progressors.groupby("ecog")["rt"].mean()
    recorded = default_truth["rt"]["rt_share_by_ecog"]
    for ecog in (0, 1, 2):
        assert share[float(ecog)] == pytest.approx(recorded[str(ecog)], abs=1e-12)
    assert share[0.0] > share[1.0] > share[2.0]
    # planted: log-odds of RT -0.9 per ECOG point, within cancer type (SE ≈ 0.06 at 5,000)
    fit = smf.logit("rt ~ ecog + C(cancer_type)", data=progressors).fit(disp=0)
    assert fit.params["ecog"] == pytest.approx(-0.9, abs=0.2)
    # planted: death HR 1.55 per ECOG point; unadjusted it reads a little higher, since RT
    # (which lowers the hazard) goes more often to the fitter patients
    surv = progressors[["pps_days", "pps_event", "ecog"]].astype(float)
    hr = CoxPHFitter().fit(surv, "pps_days", "pps_event").hazard_ratios_["ecog"]
    assert 1.4 < hr < 1.9


# ----------------------------------------------------------------------------- scenarios


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_scenario_makes_a_valid_cohort_with_its_truths(scenario) -> None:
    """Each scenario's cohort validates (simulate_cohort validates it) and records what it
    planted; the tables a scenario adds appear in it only."""
    cohort, truth = simulate_cohort(n_patients=300, seed=2, scenario=scenario)
    assert truth["scenario"] == scenario and truth["scenario_description"] == SCENARIOS[scenario]
    assert cohort.meta["parameters"]["scenario"] == scenario
    rmst = truth["pps_rmst"]
    assert rmst["rmst_months"] == 12.0 and set(rmst["weights"]) <= set(CANCER_TYPES)
    assert cohort.has("performance_status") == (scenario == "rt_confounded_ps")
    assert ("site" in cohort.samples.columns) == (scenario == "tme_by_type_and_site")
    assert ("selection" in truth) == (scenario == "selection")
    assert ("class_shift_scaled" in truth["tme"]) == (scenario == "tme_by_type_and_site")
    assert truth["rt"]["hr"] == (1.0 if scenario.startswith("rt_confounded") else 0.75)
    if scenario == "heterogeneous":
        assert truth["pps_hr"]["per_cancer_type"]["NSCLC"] == 1.0 and truth["pps_hr"]["pooled"] is None
    if scenario == "rt_confounded_ps":
        ps = cohort.performance_status
        assert ps["ecog"].between(0, 4).all() and (ps["day"] >= 0).all()
    if scenario == "selection":
        assert {(r["gene"], r["cancer_type"]) for r in truth["selection"]} == {
            ("STK11", "NSCLC"),
            ("ARID1A", "NSCLC"),
        }
        assert not {"STK11", "ARID1A"} & set(truth["null_genes"])


def test_a_scenario_leaves_the_default_draws_in_order_until_it_changes_them() -> None:
    """Scenario draws come from their own generator: the patients' baseline covariates of a
    scenario that changes only what happens after progression equal the default's."""
    default, _ = simulate_cohort(n_patients=200, seed=4)
    fading, _ = simulate_cohort(n_patients=200, seed=4, scenario="non_ph")
    columns = ["patient_id", "cancer_type", "sex", "age_at_icb", "ecog"]
    pd.testing.assert_frame_equal(default.patients[columns], fading.patients[columns])
    # responses and progressions are drawn before survival after progression
    before = ["patient_id", "line", "regimen", "best_response", "progression_day"]
    pd.testing.assert_frame_equal(default.icb_courses[before], fading.icb_courses[before])
