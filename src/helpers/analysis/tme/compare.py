"""The chapter's comparisons on scored samples: classes, timepoints, pairs and LoF carriers.

Every function takes the sample table of :func:`tme_sample_table` (one row per scored RNA
sample with its patient, cancer type, biopsy site, purity, timepoint, resistance class, axes
and subtype) and the scaled scores (signatures x samples). One sample per patient and
timepoint enters each comparison (:func:`one_sample_per_patient`).

Class comparisons are stratified by cancer type and biopsy site where recorded
(:mod:`helpers.analysis.tme.strata`): the van Elteren test with its stratified
Hodges–Lehmann shift for scores (:func:`helpers.stats.stratified.stratified_wilcoxon`), the
Cochran–Mantel–Haenszel test for the immune-enriched share. ``strata=()`` gives the pooled
comparison (Mann–Whitney and Hodges–Lehmann, Fisher), which the book shows beside the
stratified one as confounded by type and site.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.stats import chi2_contingency, fisher_exact, norm

from helpers.analysis.derive import sample_table
from helpers.analysis.tme.reference import TMEScores
from helpers.analysis.tme.strata import NOT_RECORDED, STRATA, recorded_strata, stratum_labels
from helpers.analysis.tme.subtypes import AXES, IMMUNE_ENRICHED
from helpers.data.cohort import Cohort
from helpers.errors import InputError, ParameterError
from helpers.stats.multiple import benjamini_hochberg
from helpers.stats.stratified import mantel_haenszel, stratified_wilcoxon
from helpers.units import SUBTYPES, TIMEPOINTS

__all__ = [
    "COMPARED_CLASSES",
    "ICB_SIGNATURES",
    "TIME_SIGNATURES",
    "adjusted_class_difference",
    "compare_classes",
    "compared_strata",
    "lof_carrier_effects",
    "median_matrix",
    "one_sample_per_patient",
    "present_signatures",
    "scores_over_time",
    "shift_row",
    "shift_table",
    "subtype_share_test",
    "tme_sample_table",
]

#: The ICB signatures of DESIGN §4, in display order.
ICB_SIGNATURES = (
    "IFNG_AYERS2017",
    "TCELL_INFLAMED_GEP",
    "CYTOLYTIC_ACTIVITY",
    "ANTIGEN_PRESENTATION_MHCI",
    "TCELL_DYSFUNCTION",
    "CAF_MATRIX",
    "PROLIFERATION",
    "EMT_INVASIVENESS",
    "TGFB_SIGNALLING",
    "WNT_SIGNALLING",
    "GLYCOLYSIS",
    "OXPHOS",
)
#: Scores followed over time (pre / on / post).
TIME_SIGNATURES = ("IFNG_AYERS2017", "TCELL_DYSFUNCTION", "ANTIGEN_PRESENTATION_MHCI")
COMPARED_CLASSES = ("acquired", "primary")


def tme_sample_table(
    cohort: Cohort, tme: TMEScores, benefit_months: float = 6, min_exposure_weeks: float = 6
) -> pd.DataFrame:
    """One row per scored RNA sample: patient, cancer type, site, purity, timepoint, class,
    axes, subtype.

    Parameters
    ----------
    cohort
        The canonical cohort.
    tme
        Its scores (:func:`helpers.analysis.tme.reference.score_tme`).
    benefit_months, min_exposure_weeks
        The resistance-class parameters (see :mod:`helpers.analysis.resistance`).

    Returns
    -------
    pandas.DataFrame
        Columns ``sample_id``, ``patient_id``, ``cancer_type``, ``site`` and ``purity``
        (missing where the cohort does not record them), ``timepoint``, ``collection_day``,
        ``resistance_class``, ``immune_axis``, ``fibrotic_axis``, ``subtype``.
    """
    table = sample_table(cohort, benefit_months, min_exposure_weeks)
    table = table[table["sample_id"].isin(tme.scaled.columns)].copy()
    for optional in ("site", "purity"):
        if optional not in table:
            table[optional] = np.nan
    table["site"] = table["site"].astype(object)
    table["purity"] = table["purity"].astype(float)
    columns = [
        "sample_id",
        "patient_id",
        "cancer_type",
        "site",
        "purity",
        "timepoint",
        "collection_day",
        "resistance_class",
    ]
    table = table[columns].merge(
        tme.subtypes.reset_index(), on="sample_id", how="left", validate="one_to_one"
    )
    return table.reset_index(drop=True)


def one_sample_per_patient(samples: pd.DataFrame, timepoint: str) -> pd.DataFrame:
    """Each patient's sample at ``timepoint``: the last pre-treatment sample (nearest day 0),
    the first on-treatment sample, or the first post-progression sample."""
    if timepoint not in TIMEPOINTS:
        raise ParameterError(f"timepoint must be one of {TIMEPOINTS}, got {timepoint!r}")
    chosen = samples[samples["timepoint"] == timepoint]
    ascending = timepoint != "pre"
    chosen = chosen.sort_values(
        ["patient_id", "collection_day", "sample_id"], ascending=[True, ascending, True], na_position="last"
    )
    return chosen.drop_duplicates("patient_id", keep="first").reset_index(drop=True)


def present_signatures(signatures: Iterable[str], scaled: pd.DataFrame) -> list[str]:
    """Signatures with a row of scaled scores (a within-cohort reference on a small gene
    universe does not scale signatures with too few genes present)."""
    return [s for s in signatures if s in scaled.index]


def _with_axes(scaled: pd.DataFrame, samples: pd.DataFrame) -> pd.DataFrame:
    """Scaled scores with the two subtype axes appended as rows."""
    axes = samples.set_index("sample_id")[list(AXES)].T
    return pd.concat([scaled, axes.reindex(columns=scaled.columns)])


def _compared(samples: pd.DataFrame, timepoint: str, groups: tuple[str, str]) -> pd.DataFrame:
    """One sample per patient at ``timepoint``, of the two compared classes."""
    chosen = one_sample_per_patient(samples, timepoint)
    return chosen[chosen["resistance_class"].isin(groups)].reset_index(drop=True)


def compared_strata(
    samples: pd.DataFrame,
    timepoint: str = "post",
    groups: tuple[str, str] = COMPARED_CLASSES,
    strata: Iterable[str] = STRATA,
) -> list[str]:
    """The stratifying columns the compared samples record (what :func:`compare_classes`
    and :func:`subtype_share_test` stratify by)."""
    return recorded_strata(_compared(samples, timepoint, groups), strata)


def shift_row(
    x: np.ndarray,
    y: np.ndarray,
    x_strata: np.ndarray,
    y_strata: np.ndarray,
    names: tuple[str, str],
    confidence: float,
) -> dict[str, Any]:
    """The columns of a stratified (or pooled) shift of x against y."""
    a, b = names
    row: dict[str, Any] = {f"n_{a}": len(x), f"n_{b}": len(y)}
    if len(x) < 2 or len(y) < 2:
        return row
    test = stratified_wilcoxon(x, y, x_strata, y_strata, confidence=confidence)
    informative = set(x_strata) & set(y_strata)
    used_x = x[np.isin(x_strata, list(informative))]
    used_y = y[np.isin(y_strata, list(informative))]
    row.update(
        {
            f"n_{a}": test.n_x,
            f"n_{b}": test.n_y,
            "n_strata": test.n_strata,
            "n_dropped": test.dropped_x + test.dropped_y,
            f"median_{a}": float(np.median(used_x)) if len(used_x) else np.nan,
            f"median_{b}": float(np.median(used_y)) if len(used_y) else np.nan,
            "shift": test.shift,
            "ci_low": test.ci_low,
            "ci_high": test.ci_high,
            "p": test.pvalue,
        }
    )
    return row


def shift_table(rows: list[dict[str, Any]], names: tuple[str, str], index: str) -> pd.DataFrame:
    a, b = names
    columns = [
        f"n_{a}",
        f"n_{b}",
        "n_strata",
        "n_dropped",
        f"median_{a}",
        f"median_{b}",
        "shift",
        "ci_low",
        "ci_high",
        "p",
    ]
    table = pd.DataFrame(rows).set_index(index)
    table = table.reindex(columns=columns)
    for column in (f"n_{a}", f"n_{b}", "n_strata", "n_dropped"):
        table[column] = table[column].fillna(0).astype(int)
    table["q"] = benjamini_hochberg(table["p"].to_numpy(dtype=float))
    return table


def compare_classes(
    samples: pd.DataFrame,
    scaled: pd.DataFrame,
    signatures: Iterable[str] = ICB_SIGNATURES,
    timepoint: str = "post",
    groups: tuple[str, str] = COMPARED_CLASSES,
    strata: Iterable[str] = STRATA,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Scaled scores of one class's samples against another's (e.g. acquired vs primary),
    within strata of cancer type and biopsy site.

    One sample per patient at ``timepoint`` (:func:`one_sample_per_patient`). Per signature
    and subtype axis: van Elteren's stratified Wilcoxon test (two-sided) and the stratified
    Hodges–Lehmann shift with its interval (:func:`helpers.stats.stratified.stratified_wilcoxon`);
    Benjamini–Hochberg across them. The strata are the columns of ``strata`` that the
    compared samples record (:mod:`helpers.analysis.tme.strata`); a stratum holding one
    class only carries no information (``n_dropped`` counts its samples). ``strata=()``
    gives the pooled comparison: the Mann–Whitney test and the Hodges–Lehmann shift.

    Estimand: the location shift of class a's scaled scores against class b's within a
    stratum, common to the strata, in reference SD units (1 = one robust SD of the reference
    tumours); exactly 0 when the two classes' scores have the same distribution in every
    stratum, however the strata differ from each other.

    Returns
    -------
    pandas.DataFrame
        One row per signature (and the two axes): ``n_<a>``, ``n_<b>`` (samples in the
        informative strata), ``n_strata``, ``n_dropped``, ``median_<a>``, ``median_<b>``
        (of those samples, pooled over strata), ``shift`` (a minus b), ``ci_low``,
        ``ci_high``, ``p``, ``q``.
    """
    chosen = _compared(samples, timepoint, groups)
    labels = stratum_labels(chosen, recorded_strata(chosen, strata)).to_numpy()
    values = _with_axes(scaled, samples)
    klass = chosen["resistance_class"].to_numpy()
    rows = []
    for signature in [*present_signatures(signatures, scaled), *AXES]:
        y = values.loc[signature, chosen["sample_id"]].to_numpy(dtype=float)
        ok = ~np.isnan(y)
        in_a, in_b = ok & (klass == groups[0]), ok & (klass == groups[1])
        row = shift_row(y[in_a], y[in_b], labels[in_a], labels[in_b], groups, confidence)
        rows.append({"signature": signature, **row})
    return shift_table(rows, groups, "signature")


def adjusted_class_difference(
    samples: pd.DataFrame,
    scaled: pd.DataFrame,
    signatures: Iterable[str] = ICB_SIGNATURES,
    timepoint: str = "post",
    groups: tuple[str, str] = COMPARED_CLASSES,
    strata: Iterable[str] = STRATA,
    covariates: Iterable[str] = ("purity",),
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Mean difference of scaled scores between two classes from a linear model adjusted for
    cancer type, biopsy site and purity where recorded (a sensitivity analysis).

    Per signature and axis, ordinary least squares of the score on class a (vs b), a dummy
    per level of each recorded stratifying column (additive; a missing value is a level of
    its own) and each recorded covariate (complete cases: a sample missing a recorded
    covariate is left out and counted in ``n_missing``), with HC3 heteroskedasticity-robust
    standard errors (MacKinnon & White 1985) and a normal-based interval. A sample alone in
    its level (leverage 1, which HC3 cannot weigh) says nothing about the class difference
    and is left out. Purity is adjusted for here and not in :func:`compare_classes` because
    it is partly a consequence of the TME (infiltrating immune and stromal cells lower it):
    adjusting for it can remove part of a real difference, and not adjusting can leave the
    confounding of a purity that differs by class for other reasons.

    Returns
    -------
    pandas.DataFrame
        One row per signature (and the two axes): ``n_<a>``, ``n_<b>``, ``n_missing``,
        ``adjusted_for``, ``estimate`` (a minus b), ``ci_low``, ``ci_high``, ``p``, ``q``.
    """
    a, b = groups
    chosen = _compared(samples, timepoint, groups)
    used = recorded_strata(chosen, strata)
    covariates = [c for c in covariates if c in chosen.columns and chosen[c].notna().any()]
    complete = chosen[covariates].notna().all(axis=1).to_numpy()
    n_missing = int((~complete).sum())
    chosen = chosen[complete].reset_index(drop=True)
    design = pd.DataFrame({"const": 1.0, "class": (chosen["resistance_class"] == a).astype(float)})
    for column in used:
        levels = chosen[column].astype(object).where(chosen[column].notna(), NOT_RECORDED)
        design = design.join(pd.get_dummies(levels, prefix=column, drop_first=True, dtype=float))
    for column in covariates:
        design[column] = chosen[column].astype(float)
    adjusted_for = ", ".join([*used, *covariates]) or "nothing"
    values = _with_axes(scaled, samples)
    z = float(norm.isf((1 - confidence) / 2))
    rows = []
    for signature in [*present_signatures(signatures, scaled), *AXES]:
        y = values.loc[signature, chosen["sample_id"]].to_numpy(dtype=float)
        ok = ~np.isnan(y)
        row: dict[str, Any] = {
            "signature": signature,
            f"n_{a}": int((ok & (design["class"] == 1)).sum()),
            f"n_{b}": int((ok & (design["class"] == 0)).sum()),
            "n_missing": n_missing,
            "adjusted_for": adjusted_for,
        }
        row.update(_robust_class_effect(y[ok], design[ok], z))
        rows.append(row)
    table = pd.DataFrame(rows).set_index("signature")
    table["q"] = benjamini_hochberg(table["p"].to_numpy(dtype=float))
    return table


def _robust_class_effect(y: np.ndarray, design: pd.DataFrame, z: float) -> dict[str, float]:
    """The ``class`` coefficient of an OLS fit with HC3 errors (NaN where not estimable)."""
    nan = {"estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan}
    x = design.loc[:, design.std(ddof=0) > 0].assign(const=1.0)
    x = x[["const", *[c for c in x.columns if c != "const"]]]
    if "class" not in x or len(y) < 3:
        return nan
    for _ in range(len(y)):
        matrix = x.to_numpy(dtype=float)
        rank = np.linalg.matrix_rank(matrix)
        if rank - np.linalg.matrix_rank(np.delete(matrix, x.columns.get_loc("class"), axis=1)) != 1:
            return nan  # the class is confounded with the strata: no within-stratum contrast
        if len(y) - rank < 1:
            return nan
        leverage = (matrix * (np.linalg.pinv(matrix).T)).sum(axis=1)
        single = leverage > 1 - 1e-9
        if not single.any():
            break
        keep = ~single
        y, x = y[keep], x.loc[keep]
        x = x.loc[:, (x.std(ddof=0) > 0) | (x.columns == "const")]
        if "class" not in x:
            return nan
    fit = sm.OLS(y, x.to_numpy(dtype=float)).fit(cov_type="HC3")
    j = list(x.columns).index("class")
    estimate, se = float(fit.params[j]), float(fit.bse[j])
    if not se > 0:
        return {**nan, "estimate": estimate}
    return {
        "estimate": estimate,
        "ci_low": estimate - z * se,
        "ci_high": estimate + z * se,
        "p": float(fit.pvalues[j]),
    }


def subtype_share_test(
    samples: pd.DataFrame,
    timepoint: str = "post",
    groups: tuple[str, str] = COMPARED_CLASSES,
    strata: Iterable[str] = STRATA,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Immune-enriched share (IE or IE/F) in one class against another at ``timepoint``,
    within strata of cancer type and biopsy site, and pooled.

    One sample per patient. Stratified: the Mantel–Haenszel common odds ratio of being
    immune-enriched (class a vs b) with its Robins–Breslow–Greenland interval, the
    Cochran–Mantel–Haenszel test and the Breslow–Day test of a common odds ratio
    (:func:`helpers.stats.stratified.mantel_haenszel`; a stratum with one class or one
    outcome only carries no information). Pooled (confounded by type and site): the odds
    ratio of the 2 x 2 table with its Woolf interval, Fisher's exact test, and a chi-square
    test of the whole 2 x 4 subtype table.

    Returns
    -------
    pandas.DataFrame
        Two rows (index ``analysis``: ``stratified``, then ``pooled``): ``strata``,
        ``n_<a>``, ``n_<b>``, ``immune_enriched_<a>``, ``immune_enriched_<b>`` (shares
        among the samples counted), ``n_strata``, ``odds_ratio``, ``ci_low``, ``ci_high``,
        ``p`` (CMH, or Fisher), ``homogeneity_p`` (stratified), ``chi2_p`` (pooled).
    """
    chosen = _compared(samples, timepoint, groups)
    chosen = chosen[chosen["subtype"].notna()].reset_index(drop=True)
    used = recorded_strata(chosen, strata)
    chosen = chosen.assign(
        _stratum=stratum_labels(chosen, used).to_numpy(),
        _enriched=chosen["subtype"].isin(IMMUNE_ENRICHED).to_numpy(),
    )
    rows = [_share_row(chosen, groups, "_stratum", confidence), _share_row(chosen, groups, None, confidence)]
    rows[0].update(analysis="stratified", strata=", ".join(used) or "none")
    rows[1].update(analysis="pooled", strata="none")
    a, b = groups
    table = pd.crosstab(chosen["resistance_class"], chosen["subtype"]).reindex(
        index=list(groups), columns=list(SUBTYPES), fill_value=0
    )
    nonempty = table.loc[:, table.sum(axis=0) > 0]
    if table.sum(axis=1).min() > 0 and nonempty.shape[1] >= 2:
        rows[1]["chi2_p"] = float(chi2_contingency(nonempty.to_numpy())[1])
    columns = [
        "strata",
        f"n_{a}",
        f"n_{b}",
        f"immune_enriched_{a}",
        f"immune_enriched_{b}",
        "n_strata",
        "odds_ratio",
        "ci_low",
        "ci_high",
        "p",
        "homogeneity_p",
        "chi2_p",
    ]
    return pd.DataFrame(rows).set_index("analysis").reindex(columns=columns)


def _share_row(
    chosen: pd.DataFrame, groups: tuple[str, str], stratum: str | None, confidence: float
) -> dict[str, Any]:
    a, b = groups
    tables, counted = [], []
    for _, block in chosen.groupby(stratum, sort=True) if stratum else [("all", chosen)]:
        in_a = (block["resistance_class"] == a).to_numpy()
        enriched = block["_enriched"].to_numpy()
        t = np.array(
            [
                [(in_a & enriched).sum(), (in_a & ~enriched).sum()],
                [(~in_a & enriched).sum(), (~in_a & ~enriched).sum()],
            ]
        )
        if (t.sum(axis=0) > 0).all() and (t.sum(axis=1) > 0).all():
            tables.append(t)
            counted.append(block)
    used = pd.concat(counted) if counted else chosen.iloc[:0]
    in_a = used["resistance_class"] == a
    row: dict[str, Any] = {
        f"n_{a}": int(in_a.sum()),
        f"n_{b}": int((~in_a).sum()),
        f"immune_enriched_{a}": float(used.loc[in_a, "_enriched"].mean()) if in_a.any() else np.nan,
        f"immune_enriched_{b}": float(used.loc[~in_a, "_enriched"].mean()) if (~in_a).any() else np.nan,
        "n_strata": len(tables),
    }
    if not tables:
        return row
    mh = mantel_haenszel(tables, confidence=confidence)
    row.update(odds_ratio=mh.odds_ratio, ci_low=mh.ci_low, ci_high=mh.ci_high)
    if stratum:
        row.update(p=mh.pvalue, homogeneity_p=mh.homogeneity_p)
    else:
        row["p"] = float(fisher_exact(tables[0])[1])
    return row


def scores_over_time(
    samples: pd.DataFrame,
    scaled: pd.DataFrame,
    signatures: Iterable[str] = TIME_SIGNATURES,
    classes: Iterable[str] = COMPARED_CLASSES,
) -> pd.DataFrame:
    """Median and quartiles of scaled scores by class and timepoint (one sample per
    patient and timepoint).

    Returns
    -------
    pandas.DataFrame
        Long table: ``signature``, ``resistance_class``, ``timepoint``, ``n``, ``median``,
        ``q1``, ``q3``.
    """
    rows = []
    for timepoint in TIMEPOINTS:
        chosen = one_sample_per_patient(samples, timepoint)
        for klass in classes:
            ids = chosen.loc[chosen["resistance_class"] == klass, "sample_id"]
            for signature in present_signatures(signatures, scaled):
                values = scaled.loc[signature, ids].dropna().to_numpy(dtype=float)
                q1, median, q3 = (
                    np.quantile(values, [0.25, 0.5, 0.75]) if len(values) else (np.nan, np.nan, np.nan)
                )
                rows.append(
                    {
                        "signature": signature,
                        "resistance_class": klass,
                        "timepoint": timepoint,
                        "n": len(values),
                        "median": float(median),
                        "q1": float(q1),
                        "q3": float(q3),
                    }
                )
    return pd.DataFrame(rows)


def median_matrix(
    samples: pd.DataFrame, scaled: pd.DataFrame, signatures: Iterable[str] = ICB_SIGNATURES, min_n: int = 5
) -> pd.DataFrame:
    """Median scaled score of each signature by timepoint and class, for a heat map.

    Parameters
    ----------
    samples, scaled
        As :func:`scores_over_time`.
    signatures
        Rows, in this order.
    min_n
        Groups (timepoint and class) with fewer patients are left out.

    Returns
    -------
    pandas.DataFrame
        Signatures (rows) x ``"<timepoint> · <class>"`` (columns, timepoints in order).
    """
    signatures = present_signatures(signatures, scaled)
    medians = scores_over_time(samples, scaled, signatures)
    medians = medians[medians["n"] >= min_n]
    matrix = medians.pivot_table(
        index="signature", columns=["timepoint", "resistance_class"], values="median", sort=False
    )
    matrix = matrix.reindex(index=signatures)
    matrix.columns = [f"{timepoint} · {klass}" for timepoint, klass in matrix.columns]
    return matrix


def _independent(columns: list[np.ndarray]) -> list[np.ndarray]:
    """The columns that each add rank to the ones kept before them (in order)."""
    kept: list[np.ndarray] = []
    for column in columns:
        trial = np.column_stack([*kept, column])
        if np.linalg.matrix_rank(trial) == trial.shape[1]:
            kept.append(column)
    return kept


def _ols_effect(
    y: np.ndarray, carrier: np.ndarray, covariates: np.ndarray | None
) -> tuple[float, float, float, float]:
    """Carrier coefficient of the OLS fit y ~ 1 + covariates + carrier: estimate, 95% CI, p.

    statsmodels' OLS with its t-based interval and p-value. A covariate column that adds
    nothing to the intercept and the covariates before it (a constant class, a site level
    that another explains) is left out; NaN where the carrier adds nothing to them (it is
    confounded with them) or no residual degree of freedom is left, and no p-value for an
    exact fit.
    """
    extra = [] if covariates is None else list(np.atleast_2d(covariates.T))
    kept = _independent([np.ones_like(y), *extra])
    design = np.column_stack([kept[0], carrier, *kept[1:]])
    if np.linalg.matrix_rank(design) < design.shape[1] or len(y) - design.shape[1] < 1:
        return np.nan, np.nan, np.nan, np.nan
    fit = sm.OLS(y, design).fit()
    estimate = float(fit.params[1])
    if fit.bse[1] == 0:
        return estimate, estimate, estimate, np.nan
    low, high = fit.conf_int(alpha=0.05)[1]
    return estimate, float(low), float(high), float(fit.pvalues[1])


def _carrier_covariates(group: pd.DataFrame) -> tuple[np.ndarray, str]:
    """Acquired resistance (vs any other class) and, where recorded, a dummy per biopsy
    site (a missing site is a level of its own), with a phrase naming them."""
    columns = [(group["resistance_class"] == "acquired").to_numpy(dtype=float)]
    names = ["acquired"]
    if "site" in group and group["site"].notna().any():
        levels = group["site"].astype(object).where(group["site"].notna(), NOT_RECORDED)
        dummies = pd.get_dummies(levels, drop_first=True, dtype=float)
        columns.extend(dummies[c].to_numpy() for c in dummies.columns)
        names.append("site")
    return np.column_stack(columns), " + ".join(names)


def lof_carrier_effects(
    samples: pd.DataFrame,
    scaled: pd.DataFrame,
    lof: pd.DataFrame,
    genes: Iterable[str],
    signatures: Iterable[str] = ICB_SIGNATURES,
    min_carriers: int = 3,
) -> pd.DataFrame:
    """TME scores of LoF carriers against non-carriers after progression.

    For each gene and cancer type: the first post-progression sample of each patient whose
    RNA sample was also assayed for the gene (``lof`` not NaN), with at least
    ``min_carriers`` carriers and ``min_carriers`` non-carriers. Per signature, a linear
    model ``score ~ carrier + acquired (+ site)`` gives the carrier difference in reference
    SD units with its 95% CI and p-value; Benjamini–Hochberg across the signatures and
    subtype axes of each gene and cancer type. The comparison is within cancer type by
    construction; ``acquired`` (acquired resistance vs any other class) is in the model since
    acquired LoF genes are enriched in acquired resistance, whose TME differs, and the biopsy
    site (where recorded) since TMEs differ by site and carriers need not be biopsied where
    non-carriers are.

    Parameters
    ----------
    samples
        :func:`tme_sample_table`.
    scaled
        Scaled scores (signatures x samples).
    lof
        :func:`helpers.analysis.lof.lof_matrix` (samples x genes: 1 LoF, 0 assayed without, NaN not
        assayed), indexed by sample id.
    genes
        Genes to test.
    signatures
        Signatures to test (the two axes are added).
    min_carriers
        Minimum carriers (and non-carriers) for a test.

    Returns
    -------
    pandas.DataFrame
        Columns ``gene``, ``cancer_type``, ``signature``, ``n_carriers``,
        ``n_non_carriers``, ``adjusted_for``, ``estimate``, ``ci_low``, ``ci_high``, ``p``,
        ``q``; empty (with these columns) when no gene has enough carriers.

    Raises
    ------
    helpers.errors.ParameterError
        ``min_carriers`` below 1.
    helpers.errors.InputError
        A gene that is not a column of ``lof``.
    """
    if min_carriers < 1:
        raise ParameterError(f"min_carriers must be >= 1, got {min_carriers!r}")
    genes = list(genes)
    absent = [g for g in genes if g not in lof.columns]
    if absent:
        raise InputError(f"gene(s) {absent} are not columns of the LoF matrix")
    post = one_sample_per_patient(samples, "post")
    post = post[post["sample_id"].isin(lof.index)]
    values = _with_axes(scaled, samples)
    rows = []
    for gene in genes:
        status = lof.loc[post["sample_id"], gene].to_numpy(dtype=float)
        assayed = post.assign(carrier=status)[~np.isnan(status)]
        for cancer_type, group in assayed.groupby("cancer_type", sort=True):
            carrier = group["carrier"].to_numpy(dtype=float)
            n_carriers = int(carrier.sum())
            if n_carriers < min_carriers or len(carrier) - n_carriers < min_carriers:
                continue
            covariates, adjusted_for = _carrier_covariates(group)
            block = []
            for signature in [*present_signatures(signatures, scaled), *AXES]:
                y = values.loc[signature, group["sample_id"]].to_numpy(dtype=float)
                ok = ~np.isnan(y)
                estimate, low, high, p = _ols_effect(y[ok], carrier[ok], covariates[ok])
                block.append(
                    {
                        "gene": gene,
                        "cancer_type": cancer_type,
                        "signature": signature,
                        "n_carriers": int(carrier[ok].sum()),
                        "n_non_carriers": int(ok.sum() - carrier[ok].sum()),
                        "adjusted_for": adjusted_for,
                        "estimate": estimate,
                        "ci_low": low,
                        "ci_high": high,
                        "p": p,
                    }
                )
            q = benjamini_hochberg(np.array([r["p"] for r in block], dtype=float))
            for r, qv in zip(block, q, strict=True):
                r["q"] = float(qv)
            rows.extend(block)
    columns = [
        "gene",
        "cancer_type",
        "signature",
        "n_carriers",
        "n_non_carriers",
        "adjusted_for",
        "estimate",
        "ci_low",
        "ci_high",
        "p",
        "q",
    ]
    return pd.DataFrame(rows, columns=columns)
