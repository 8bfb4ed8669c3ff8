"""Class comparisons stratified by cancer type and biopsy site (chapter 5).

The statistics (:mod:`helpers.stats.stratified`) are checked by hand on small strata, against
scipy (a single stratum is the Mann–Whitney test and the Hodges–Lehmann estimate), against
the exact permutation mean and variance of the statistic, against a brute-force inversion of
the test on shifted data, and against statsmodels. The analyses
(:mod:`helpers.analysis.tme`) are checked on hand-made sample tables, on confounded data
made here (not by the simulator, and not in the rank test's own model form), and on the
simulator's ``tme_by_type_and_site`` scenario, whose planted acquired-vs-primary shift is 0
within cancer type and site while the pooled comparison is biased.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy.stats import chi2, fisher_exact, mannwhitneyu, norm, rankdata
from statsmodels.stats.contingency_tables import Table2x2

from helpers.analysis import tme
from helpers.book.sentences import tme as tme_text
from helpers.errors import InputError, ParameterError
from helpers.plots import tme as tme_plots
from helpers.simulate import simulate_cohort
from helpers.stats.stratified import mantel_haenszel, stratified_wilcoxon

Z95 = norm.isf(0.025)


# ------------------------------------------------------------------ the van Elteren test


def test_van_elteren_by_hand():
    """Stratum A: x = 1, 4 and y = 2 (N = 3, weight 1/4); stratum B: x = 10 and y = 8, 9, 13
    (N = 4, weight 1/5).

    U_A = #{x > y} = 1 (4 > 2), U_B = 2 (10 > 8, 10 > 9): T = 1/4 + 2/5 = 0.65.
    E = (2·1/2)/4 + (1·3/2)/5 = 0.25 + 0.30 = 0.55.
    Var (no ties) = (1/16)·2·1·4/12 + (1/25)·1·3·5/12 = 1/24 + 1/20 = 11/120.
    Pairwise differences x - y: A gives -1 and 2 (weight 1/4 each), B gives 2, 1 and -3
    (weight 1/5 each). Sorted: -3 (0.2), -1 (0.25), 1 (0.2), 2 (0.45); total 1.1, half 0.55:
    the cumulative weight reaches 0.55 at 1 (0.2 + 0.25 + 0.2 = 0.65), so the shift is 1.
    """
    r = stratified_wilcoxon([1, 4, 10], [2, 8, 9, 13], ["A", "A", "B"], ["A", "B", "B", "B"])
    assert r.statistic == pytest.approx(0.65, rel=1e-12)
    assert r.expected == pytest.approx(0.55, rel=1e-12)
    assert r.variance == pytest.approx(11 / 120, rel=1e-12)
    assert r.z == pytest.approx(0.1 / np.sqrt(11 / 120), rel=1e-12)
    assert r.pvalue == pytest.approx(2 * norm.sf(0.1 / np.sqrt(11 / 120)), rel=1e-12)
    assert r.shift == 1.0
    assert (r.n_x, r.n_y, r.n_strata, r.dropped_x, r.dropped_y) == (3, 4, 2, 0, 0)
    # 11/120 is small beside the weights: the 95% interval spans every difference
    assert (r.ci_low, r.ci_high) == (-3.0, 2.0)


def test_symmetric_strata_give_a_midpoint_shift():
    # A: differences -1, 1; B: 2, -2 (equal weights): the weighted median is between -1 and 1
    r = stratified_wilcoxon([1, 3, 10], [2, 8, 12], ["A", "A", "B"], ["A", "B", "B"])
    assert r.shift == 0.0 and r.z == 0.0 and r.pvalue == 1.0


def test_one_stratum_is_mann_whitney_and_hodges_lehmann():
    rng = np.random.default_rng(7)
    x = np.round(rng.normal(0.4, 1, 23), 1)  # rounded: ties, which the test variance corrects for
    y = np.round(rng.normal(0.0, 1, 31), 1)
    r = stratified_wilcoxon(x, y)
    reference = mannwhitneyu(x, y, alternative="two-sided", method="asymptotic", use_continuity=False)
    assert r.pvalue == pytest.approx(reference.pvalue, rel=1e-10)
    assert r.statistic * (len(x) + len(y) + 1) == pytest.approx(reference.statistic, rel=1e-12)
    differences = np.sort(np.subtract.outer(x, y).ravel())
    assert r.shift == pytest.approx(np.median(differences), abs=1e-12)
    # Hollander & Wolfe's large-sample interval: d_(k) and d_(mn + 1 - k), k = ceil(mn/2 - z sd)
    m, n = len(x), len(y)
    k = int(np.ceil(m * n / 2 - Z95 * np.sqrt(m * n * (m + n + 1) / 12)))
    assert (r.ci_low, r.ci_high) == (differences[k - 1], differences[m * n - k])


def _npsm_van_elteren(x, y, sx, sy) -> tuple[float, float]:
    """R's ``npsm::vanElteren.test`` (npsm 2.0.0, Kloke & McKean), transcribed line by line:
    per stratum the rank sum of group 1 (here x), weight 1/(m + n + 1); W = sum(weight *
    rank sum), mu = sum(n) / 2, sigma = sqrt(sum(m n weight) / 12) (no tie correction)."""
    w_total = mu = var = 0.0
    for level in set(sx) | set(sy):
        xs, ys = x[sx == level], y[sy == level]
        n, m = len(xs), len(ys)  # npsm: n = #(g == 1), m = #(g == 0)
        weight = 1 / (m + n + 1)
        w_total += weight * rankdata(np.concatenate([xs, ys]))[:n].sum()
        mu += 0.5 * n
        var += m * n * weight / 12
    z = (w_total - mu) / np.sqrt(var)
    return z, 2 * norm.sf(abs(z))


def test_agrees_with_r_npsm_van_elteren_on_continuous_data():
    rng = np.random.default_rng(21)
    sx = rng.choice(["a", "b", "c", "d"], 40)
    sy = rng.choice(["a", "b", "c", "d"], 55)
    x, y = rng.normal(0.3, 1, 40) + (sx == "b"), rng.normal(0, 1, 55) + (sy == "b")
    r = stratified_wilcoxon(x, y, sx, sy)
    z, p = _npsm_van_elteren(x, y, sx, sy)
    assert r.z == pytest.approx(z, rel=1e-12) and r.pvalue == pytest.approx(p, rel=1e-10)


def test_the_null_moments_are_the_exact_permutation_moments():
    """Within-stratum permutations of tied values: the exact mean and variance of T are the
    expected value and tie-corrected variance the test uses."""
    strata = {
        "A": (np.array([1.0, 2.0, 2.0, 3.0, 5.0]), 2),
        "B": (np.array([0.5, 0.5, 0.5, 4.0, 6.0, 7.0]), 3),
    }
    statistics = []
    layouts = {s: list(itertools.combinations(range(len(v)), m)) for s, (v, m) in strata.items()}
    for choice in itertools.product(*layouts.values()):
        x, y, sx, sy = [], [], [], []
        for (name, (values, _)), chosen in zip(strata.items(), choice, strict=True):
            mask = np.isin(np.arange(len(values)), chosen)
            x.extend(values[mask])
            y.extend(values[~mask])
            sx.extend([name] * mask.sum())
            sy.extend([name] * (~mask).sum())
        statistics.append(stratified_wilcoxon(x, y, sx, sy).statistic)
    r = stratified_wilcoxon(x, y, sx, sy)
    assert len(statistics) == 10 * 20
    assert np.mean(statistics) == pytest.approx(r.expected, rel=1e-12)
    assert np.var(statistics) == pytest.approx(r.variance, rel=1e-12)


def _z_at(d: float, x, y, sx, sy) -> float:
    """The van Elteren z of x - d against y, from ranks of the shifted data (no-ties variance)."""
    t = e = v = 0.0
    for level in set(sx) | set(sy):
        xs, ys = x[sx == level] - d, y[sy == level]
        m, n = len(xs), len(ys)
        if m == 0 or n == 0:
            continue
        w = 1 / (m + n + 1)
        t += w * (rankdata(np.concatenate([xs, ys]))[:m].sum() - m * (m + 1) / 2)
        e += w * m * n / 2
        v += w**2 * m * n * (m + n + 1) / 12
    return (t - e) / np.sqrt(v)


def test_the_interval_is_the_set_of_shifts_the_test_does_not_reject():
    rng = np.random.default_rng(3)
    sx = np.repeat(["A", "B", "C"], [9, 4, 6])
    sy = np.repeat(["A", "B", "C", "D"], [5, 11, 7, 3])  # D holds y only: no information
    base = {"A": 0.0, "B": 3.0, "C": -2.0, "D": 9.0}
    x = np.array([base[s] for s in sx]) + 0.7 + rng.standard_exponential(len(sx))
    y = np.array([base[s] for s in sy]) + rng.standard_exponential(len(sy))
    r = stratified_wilcoxon(x, y, sx, sy)
    assert (r.n_x, r.n_y, r.n_strata, r.dropped_x, r.dropped_y) == (19, 23, 3, 0, 3)
    differences = np.unique(
        np.concatenate([np.subtract.outer(x[sx == s], y[sy == s]).ravel() for s in ("A", "B", "C")])
    )
    midpoints = np.r_[differences[0] - 1, (differences[1:] + differences[:-1]) / 2, differences[-1] + 1]
    accepted = np.array([abs(_z_at(d, x, y, sx, sy)) <= Z95 for d in midpoints])
    first, last = np.flatnonzero(accepted)[[0, -1]]
    assert r.ci_low == differences[first - 1]  # the accepted shifts start at this difference
    assert r.ci_high == differences[last]  # and end at this one
    assert accepted[first : last + 1].all()  # one interval
    # the estimate: z changes sign there
    assert _z_at(r.shift - 1e-9, x, y, sx, sy) >= 0 >= _z_at(r.shift + 1e-9, x, y, sx, sy)


def test_no_stratum_with_both_groups():
    r = stratified_wilcoxon([1.0, 2.0], [3.0], ["A", "A"], ["B"])
    assert np.isnan(r.shift) and np.isnan(r.pvalue)
    assert (r.n_strata, r.dropped_x, r.dropped_y) == (0, 2, 1)


def test_bad_input():
    with pytest.raises(InputError, match="missing value"):
        stratified_wilcoxon([1.0, np.nan], [2.0])
    with pytest.raises(InputError, match="one label per observation"):
        stratified_wilcoxon([1.0, 2.0], [2.0], ["A"], ["A"])
    with pytest.raises(InputError, match="missing labels"):
        stratified_wilcoxon([1.0], [2.0], [None], ["A"])
    with pytest.raises(ParameterError, match="confidence"):
        stratified_wilcoxon([1.0], [2.0], confidence=1.0)


# ------------------------------------------------------------------ Mantel–Haenszel


def test_mantel_haenszel_by_hand():
    """Two strata [[a, b], [c, d]]: OR_MH = sum(a d / n) / sum(b c / n); the CMH statistic is
    (sum(a - E a))^2 / sum(Var a) with E a = (a + b)(a + c) / n and
    Var a = (a + b)(c + d)(a + c)(b + d) / (n^2 (n - 1))."""
    tables = [np.array([[8, 2], [4, 6]]), np.array([[3, 7], [1, 9]]), np.array([[0, 5], [0, 4]])]
    r = mantel_haenszel(tables)
    used = tables[:2]  # the third has an empty column: no information
    assert (r.n_strata, r.n) == (2, 40)
    numerator = sum(t[0, 0] * t[1, 1] / t.sum() for t in used)
    denominator = sum(t[0, 1] * t[1, 0] / t.sum() for t in used)
    assert r.odds_ratio == pytest.approx(numerator / denominator, rel=1e-12)
    excess = sum(t[0, 0] - t[0].sum() * t[:, 0].sum() / t.sum() for t in used)
    variance = sum(
        t[0].sum() * t[1].sum() * t[:, 0].sum() * t[:, 1].sum() / (t.sum() ** 2 * (t.sum() - 1)) for t in used
    )

    assert r.pvalue == pytest.approx(chi2.sf(excess**2 / variance, 1), rel=1e-10)
    assert r.ci_low < r.odds_ratio < r.ci_high
    # one stratum: the sample odds ratio with Woolf's interval
    one = mantel_haenszel(tables[:1])
    woolf = Table2x2(tables[0])
    assert one.odds_ratio == pytest.approx(8 * 6 / (2 * 4), rel=1e-12)
    assert (one.ci_low, one.ci_high) == pytest.approx(woolf.oddsratio_confint(), rel=1e-10)
    with pytest.raises(InputError, match="2 x 2"):
        mantel_haenszel([np.array([[1, 2, 3], [4, 5, 6]])])


# ------------------------------------------------------------------ hand-made sample tables


def sample_table(rows: list[tuple[str, str, str | None, float | None]]) -> pd.DataFrame:
    """Post-progression samples: (class, cancer type, site, purity), one patient each."""
    n = len(rows)
    return pd.DataFrame(
        {
            "sample_id": [f"S{i}" for i in range(n)],
            "patient_id": [f"P{i}" for i in range(n)],
            "cancer_type": [r[1] for r in rows],
            "site": [r[2] for r in rows],
            "purity": [r[3] for r in rows],
            "timepoint": "post",
            "collection_day": 100.0,
            "resistance_class": [r[0] for r in rows],
            "immune_axis": 0.0,
            "fibrotic_axis": 0.0,
            "subtype": "D",
        }
    )


def scores(samples: pd.DataFrame, values: list[float], name: str = "IFNG_AYERS2017") -> pd.DataFrame:
    return pd.DataFrame([values], index=[name], columns=samples["sample_id"])


def test_compare_classes_stratifies_by_type_and_site_with_missing_sites_apart():
    samples = sample_table(
        [
            ("acquired", "NSCLC", "liver", None),
            ("primary", "NSCLC", "liver", None),
            ("acquired", "NSCLC", None, None),  # site not recorded: its own stratum
            ("primary", "NSCLC", None, None),
            ("primary", "NSCLC", None, None),
            ("acquired", "RCC", "liver", None),  # alone in its stratum: no information
            ("ongoing", "NSCLC", "liver", None),  # not a compared class
        ]
    )
    scaled = scores(samples, [5.0, 4.0, 0.0, 1.0, 2.0, 9.0, 7.0])
    table = tme.compare_classes(samples, scaled, ["IFNG_AYERS2017"])
    row = table.loc["IFNG_AYERS2017"]
    assert tme.compared_strata(samples) == ["cancer_type", "site"]
    assert (row["n_acquired"], row["n_primary"], row["n_strata"], row["n_dropped"]) == (2, 3, 2, 1)
    # NSCLC · liver: difference 1 (weight 1/3); NSCLC · not recorded: -1, -2 (weight 1/4 each);
    # total 1/3 + 1/2 = 5/6, half 5/12: cumulative -2: 1/4, -1: 1/2 >= 5/12, so the shift is -1
    by_hand = stratified_wilcoxon([5.0, 0.0], [4.0, 1.0, 2.0], ["l", "n"], ["l", "n", "n"])
    assert row["shift"] == by_hand.shift == -1.0
    assert row["p"] == pytest.approx(by_hand.pvalue, rel=1e-12)
    assert (row["median_acquired"], row["median_primary"]) == (2.5, 2.0)
    # pooled: every acquired against every primary, the RCC sample included
    pooled = tme.compare_classes(samples, scaled, ["IFNG_AYERS2017"], strata=()).loc["IFNG_AYERS2017"]
    assert (pooled["n_acquired"], pooled["n_primary"], pooled["n_strata"]) == (3, 3, 1)
    assert pooled["shift"] == np.median(np.subtract.outer([5.0, 0.0, 9.0], [4.0, 1.0, 2.0]))
    # a cohort without a site column is stratified by cancer type alone
    no_site = samples.drop(columns="site")
    assert tme.compared_strata(no_site) == ["cancer_type"]
    by_type = tme.compare_classes(no_site, scaled, ["IFNG_AYERS2017"]).loc["IFNG_AYERS2017"]
    assert (by_type["n_strata"], by_type["n_dropped"]) == (1, 1)


def confounded_samples(seed: int, n: int = 1200) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Post-progression samples whose scores depend on cancer type and site, never on class.

    Melanoma (inflamed, mostly acquired resistance) and RCC (cold, mostly primary); lymph
    nodes inflamed, livers cold, with sites mixed differently in the two types. Errors are
    skewed (exponential) with a spread that differs by stratum: not the rank test's model.
    """
    rng = np.random.default_rng(seed)
    cancer_type = rng.choice(["Melanoma", "RCC"], n)
    p_acquired = np.where(cancer_type == "Melanoma", 0.7, 0.25)
    klass = np.where(rng.random(n) < p_acquired, "acquired", "primary")
    p_node = np.where(cancer_type == "Melanoma", 0.6, 0.2)
    site = np.where(rng.random(n) < p_node, "lymph node", "liver")
    base = np.where(cancer_type == "Melanoma", 1.0, -0.5) + np.where(site == "lymph node", 0.8, -0.6)
    spread = np.where(site == "liver", 0.5, 1.2)
    value = base + spread * (rng.standard_exponential(n) - 1)
    samples = sample_table(list(zip(klass, cancer_type, site, rng.uniform(0.2, 0.9, n), strict=True)))
    return samples, scores(samples, list(value))


def test_stratified_comparison_removes_confounding_by_type_and_site():
    """Fails on the code before issue 11: the class comparison pooled the types and sites."""
    samples, scaled = confounded_samples(seed=11)
    stratified = tme.compare_classes(samples, scaled, ["IFNG_AYERS2017"]).loc["IFNG_AYERS2017"]
    pooled = tme.compare_classes(samples, scaled, ["IFNG_AYERS2017"], strata=()).loc["IFNG_AYERS2017"]
    assert stratified["n_strata"] == 4
    assert stratified["ci_low"] < 0 < stratified["ci_high"]
    assert pooled["ci_low"] > 0.5  # biased: the inflamed type and site have more acquired resistance
    adjusted = tme.adjusted_class_difference(samples, scaled, ["IFNG_AYERS2017"]).loc["IFNG_AYERS2017"]
    assert adjusted["adjusted_for"] == "cancer_type, site, purity"
    assert adjusted["ci_low"] < 0 < adjusted["ci_high"]


def test_adjusted_difference_is_statsmodels_ols_with_hc3():
    samples, scaled = confounded_samples(seed=5, n=300)
    samples.loc[samples.index[:7], "purity"] = np.nan  # complete cases only
    samples.loc[samples.index[7:12], "site"] = None  # a level of its own
    table = tme.adjusted_class_difference(samples, scaled, ["IFNG_AYERS2017"])
    row = table.loc["IFNG_AYERS2017"]
    data = samples.assign(
        y=scaled.loc["IFNG_AYERS2017", samples["sample_id"]].to_numpy(),
        acquired=(samples["resistance_class"] == "acquired").astype(float),
        site=samples["site"].fillna("not recorded"),
    ).dropna(subset=["purity"])
    fit = smf.ols("y ~ acquired + C(cancer_type) + C(site) + purity", data).fit(cov_type="HC3")
    assert row["n_missing"] == 7 and row["n_acquired"] + row["n_primary"] == 293
    assert row["estimate"] == pytest.approx(fit.params["acquired"], rel=1e-10)
    low, high = fit.conf_int().loc["acquired"]
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(low, rel=1e-10), pytest.approx(high, rel=1e-10))
    assert row["p"] == pytest.approx(fit.pvalues["acquired"], rel=1e-8)


def test_a_sample_alone_in_its_site_is_left_out_of_the_regression():
    """HC3 cannot weigh a point of leverage 1 (alone in its level); it says nothing about
    the class difference, so the fit without it is the same model."""
    samples, scaled = confounded_samples(seed=2, n=200)
    samples.loc[samples.index[0], "site"] = "lung"
    with_lone = tme.adjusted_class_difference(samples, scaled, ["IFNG_AYERS2017"], covariates=())
    without = tme.adjusted_class_difference(
        samples.iloc[1:], scaled.iloc[:, 1:], ["IFNG_AYERS2017"], covariates=()
    )
    a, b = with_lone.loc["IFNG_AYERS2017"], without.loc["IFNG_AYERS2017"]
    assert np.isfinite(a["ci_low"])
    assert a["estimate"] == pytest.approx(b["estimate"], rel=1e-10)
    assert a["ci_low"] == pytest.approx(b["ci_low"], rel=1e-10)


def test_subtype_share_test_by_hand():
    """Melanoma: acquired 3 IE of 4, primary 1 of 2; RCC: acquired 1 of 2, primary 1 of 4.
    OR_MH = (3·1/6 + 1·3/6) / (1·1/6 + 1·1/6) = 1 / (1/3) = 3; pooled 2 x 2: acquired 4 of
    6 immune-enriched, primary 2 of 6: OR 4·4 / (2·2) = 4."""
    rows = (
        [("acquired", "Melanoma", None, None)] * 4
        + [("primary", "Melanoma", None, None)] * 2
        + [("acquired", "RCC", None, None)] * 2
        + [("primary", "RCC", None, None)] * 4
    )
    samples = sample_table(rows)
    samples["subtype"] = ["IE", "IE/F", "IE", "D"] + ["IE", "F"] + ["IE", "D"] + ["IE/F", "D", "F", "D"]
    test = tme.subtype_share_test(samples)
    assert list(test.index) == ["stratified", "pooled"]
    stratified, pooled = test.loc["stratified"], test.loc["pooled"]
    assert stratified["strata"] == "cancer_type" and stratified["n_strata"] == 2
    assert stratified["odds_ratio"] == pytest.approx(3.0, rel=1e-12)
    assert pooled["odds_ratio"] == pytest.approx(4.0, rel=1e-12)
    assert pooled["p"] == pytest.approx(fisher_exact([[4, 2], [2, 4]])[1], rel=1e-12)
    assert (pooled["immune_enriched_acquired"], pooled["immune_enriched_primary"]) == (4 / 6, 2 / 6)


# ------------------------------------------------------------------ paired transitions


def test_transitions_are_compared_within_type_and_site_pair():
    rows = []
    for klass, site_post, change in [
        ("acquired", "primary", 1.0),
        ("acquired", "primary", 2.0),
        ("primary", "primary", 0.5),
        ("acquired", "liver", -3.0),
        ("primary", "liver", -4.0),
        ("primary", "liver", -2.5),
    ]:
        rows.append((klass, "NSCLC", site_post, change))
    pairs = pd.DataFrame(
        {
            "patient_id": [f"P{i}" for i in range(len(rows))],
            "cancer_type": "NSCLC",
            "resistance_class": [r[0] for r in rows],
            "pre_sample": [f"A{i}" for i in range(len(rows))],
            "post_sample": [f"B{i}" for i in range(len(rows))],
            "pre_subtype": "D",
            "post_subtype": "D",
            "pre_immune_axis": 0.0,
            "post_immune_axis": [r[3] for r in rows],
            "pre_site": "primary",
            "post_site": [r[2] for r in rows],
        }
    )
    scaled = pd.DataFrame(
        [[0.0] * len(rows) + [r[3] for r in rows]],
        index=["IFNG_AYERS2017"],
        columns=[*pairs["pre_sample"], *pairs["post_sample"]],
    )
    compared = tme.compare_transitions(pairs, scaled, ["IFNG_AYERS2017"])
    by_hand = stratified_wilcoxon(
        [1.0, 2.0, -3.0], [0.5, -4.0, -2.5], ["same", "same", "liver"], ["same", "liver", "liver"]
    )
    row = compared.loc["IFNG_AYERS2017"]
    assert row["n_strata"] == 2 and row["shift"] == by_hand.shift
    assert row["p"] == pytest.approx(by_hand.pvalue, rel=1e-12)
    changes = tme.transition_changes(pairs, scaled, ["IFNG_AYERS2017"]).set_index(
        ["resistance_class", "pairs", "signature"]
    )
    assert changes.loc[("acquired", "same site", "IFNG_AYERS2017"), "n"] == 2
    assert changes.loc[("acquired", "same site", "IFNG_AYERS2017"), "median_change"] == 1.5
    assert changes.loc[("acquired", "all pairs", "IFNG_AYERS2017"), "median_change"] == 1.0
    assert list(tme.site_pairs(pairs)[:2]) == ["primary → primary"] * 2


# ------------------------------------------------------------------ the chapter and its sentences


def test_the_chapter_shows_stratified_pooled_and_adjusted_comparisons(small_cohort, small_cohort_path):
    result = tme.tme_chapter(small_cohort, small_cohort_path)
    post, transitions = result.post, result.transitions
    assert post.missing is None and transitions.missing is None
    assert post.strata[0] == "cancer_type"
    assert list(post.stratified.index) == list(post.pooled.index) == list(post.adjusted.index)
    assert (post.pooled["n_strata"] == 1).all() and (post.stratified["n_strata"] > 1).all()
    assert list(post.share_test.index) == ["stratified", "pooled"]
    assert transitions.strata[0] == "cancer_type"
    assert list(transitions.stratified.index) == list(transitions.pooled.index)
    assert set(transitions.changes["pairs"]) <= {"same site", "all pairs"}
    assert set(result.carriers.effects["adjusted_for"]) <= {"acquired", "acquired + site"}


def _post(strata: list[str], rows: dict[str, tuple[float, float, float]], pooled_rows, dropped: int = 0):
    def table(values, n_strata):
        frame = pd.DataFrame(values, index=["shift", "ci_low", "ci_high"]).T
        return frame.assign(n_strata=n_strata, n_dropped=dropped)

    share = pd.DataFrame(
        {"odds_ratio": [2.5, 4.0], "ci_low": [1.2, 2.0], "ci_high": [5.0, 8.0], "p": [0.004, 1e-20],
         "homogeneity_p": [0.5, np.nan]},
        index=pd.Index(["stratified", "pooled"], name="analysis"),
    )  # fmt: skip
    return tme.PostProgression(
        strata=strata, stratified=table(rows, 6), pooled=table(pooled_rows, 1), share_test=share
    )


def test_sentences_of_a_stratified_comparison():
    post = _post(
        ["cancer_type", "site"],
        {"IFNG_AYERS2017": (0.02, -0.2, 0.25), "CAF_MATRIX": (0.1, -0.1, 0.3)},
        {"IFNG_AYERS2017": (0.6, 0.4, 0.8), "CAF_MATRIX": (0.15, -0.05, 0.35)},
        dropped=4,
    )
    assert tme_text.stratification_sentence(post) == (
        "Here the strata are cancer type and biopsy site: 6 of them hold samples of both classes; 4 "
        "samples lie in strata holding one class only and carry no information."
    )
    assert "classes; <11 samples lie" in tme_text.stratification_sentence(post, count=lambda n: "<11")
    assert tme_text.confounding_sentence(post) == "They disagree for 1 of 2 scores: IFN-γ (Ayers 2017)."
    assert tme_text.strata_label(post.strata) == "within cancer type and biopsy site"
    by_type = _post(["cancer_type"], {"X": (0.1, 0.0, 0.2)}, {"X": (0.1, 0.0, 0.2)})
    assert tme_text.stratification_sentence(by_type) == (
        "Here the strata are cancer type alone (the cohort records no biopsy site): 6 of them hold "
        "samples of both classes."
    )
    assert tme_text.confounding_sentence(by_type).startswith("Here the two agree for every score")
    no_strata = _post(["cancer_type"], {"X": (np.nan, np.nan, np.nan)}, {"X": (0.1, 0.0, 0.2)})
    no_strata.stratified["n_strata"] = 0
    assert "but none holds samples of both classes" in tme_text.stratification_sentence(no_strata)
    assert tme_text.confounding_sentence(no_strata) == (
        "There is no stratified estimate to set the pooled one against."
    )
    missing = tme.PostProgression(missing="Fewer than 3 post-progression samples: no comparison.")
    assert tme_text.stratification_sentence(missing) == ""
    assert tme_text.confounding_sentence(missing) == "This cohort has no comparison after progression."


def test_shift_figure_draws_both_estimates():
    samples, scaled = confounded_samples(seed=11, n=300)
    stratified = tme.compare_classes(samples, scaled, ["IFNG_AYERS2017"])
    pooled = tme.compare_classes(samples, scaled, ["IFNG_AYERS2017"], strata=())
    fig = tme_plots.shift_comparison(
        stratified, pooled, "t", strata_label="within cancer type and biopsy site"
    )
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["within cancer type and biopsy site", "pooled (confounded)"]
    dots = [line.get_xdata()[0] for line in ax.get_lines() if line.get_marker() == "o"]
    assert dots == [stratified.iloc[0]["shift"], pooled.iloc[0]["shift"]]


# ------------------------------------------------------------------ the tme_by_type_and_site scenario

#: The smallest cohort at which the pooled comparison's bias is unmistakable (see the test).
SITE_N, SITE_SEED = 3000, 0


@pytest.fixture(scope="session")
def by_type_and_site():
    """The ``tme_by_type_and_site`` cohort, simulated and scored once per test session."""
    cohort, truth = simulate_cohort(n_patients=SITE_N, seed=SITE_SEED, scenario="tme_by_type_and_site")
    return cohort, truth, tme.score_cohort(cohort)


def test_stratified_comparison_covers_the_planted_shift_where_the_pooled_one_is_biased(by_type_and_site):
    """Planted: no acquired-vs-primary shift within cancer type and site (truth.json
    ``tme.class_shift_scaled``), baselines that differ by type and site, and a class mix that
    differs by type. Fails on the code before issue 11 (an unstratified comparison, no site).

    Each planted 0 must lie in the stratified interval: Bonferroni-adjusted over the k
    signatures with a planted shift (simultaneous 95% coverage; k separate 95% intervals
    would all cover with probability 0.95^k only). The pooled 95% interval of the immune
    scores excludes 0: the inflamed types and sites hold more acquired resistance.
    """
    cohort, truth, scored = by_type_and_site
    planted = truth["tme"]["class_shift_scaled"]
    signatures = [s for s in planted if s in scored.tme.scaled.index]
    assert len(signatures) >= 3
    samples, scaled = scored.samples, scored.tme.scaled
    assert tme.compared_strata(samples) == ["cancer_type", "site"]
    confidence = 1 - 0.05 / len(signatures)
    stratified = tme.compare_classes(samples, scaled, signatures, confidence=confidence)
    pooled = tme.compare_classes(samples, scaled, signatures, strata=())
    for signature in signatures:
        row = stratified.loc[signature]
        assert row["ci_low"] <= planted[signature] <= row["ci_high"], signature
    # the immune scores carry the confounding (inflamed types, lymph-node biopsies): their pooled
    # intervals exclude 0 and the stratified estimates are nearer the planted 0 (other scores
    # move with them only through the rank-based scoring, by less than the noise of 3,000 patients)
    immune = ["IFNG_AYERS2017", "TCELL_INFLAMED_GEP", "CYTOLYTIC_ACTIVITY"]
    gap = (stratified["shift"] - pd.Series(planted)).abs()
    gap_pooled = (pooled["shift"] - pd.Series(planted)).abs()
    for signature in immune:
        assert pooled.loc[signature, "ci_low"] > 0, signature
        assert gap[signature] < gap_pooled[signature] / 2, signature
