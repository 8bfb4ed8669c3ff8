"""The chapter's comparisons on scored samples: classes, timepoints, pairs and LoF carriers.

Every function takes the sample table of :func:`tme_sample_table` (one row per scored RNA
sample with its patient, timepoint, resistance class, axes and subtype) and the scaled
scores (signatures x samples). One sample per patient and timepoint enters each comparison
(:func:`one_sample_per_patient`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.stats import chi2_contingency, fisher_exact, mannwhitneyu, wilcoxon

from helpers.analysis.derive import sample_table
from helpers.analysis.tme.reference import TMEScores
from helpers.analysis.tme.subtypes import AXES, IMMUNE_ENRICHED
from helpers.data.cohort import Cohort
from helpers.errors import InputError, ParameterError
from helpers.stats.multiple import benjamini_hochberg
from helpers.units import SUBTYPES, TIMEPOINTS

__all__ = [
    "COMPARED_CLASSES",
    "ICB_SIGNATURES",
    "TIME_SIGNATURES",
    "compare_classes",
    "lof_carrier_effects",
    "median_matrix",
    "one_sample_per_patient",
    "paired_samples",
    "scores_over_time",
    "subtype_share_test",
    "tme_sample_table",
    "transition_summary",
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
    """One row per scored RNA sample: patient, cancer type, timepoint, class, axes, subtype.

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
        Columns ``sample_id``, ``patient_id``, ``cancer_type``, ``timepoint``,
        ``collection_day``, ``resistance_class``, ``immune_axis``, ``fibrotic_axis``,
        ``subtype``.
    """
    table = sample_table(cohort, benefit_months, min_exposure_weeks)
    table = table[table["sample_id"].isin(tme.scaled.columns)]
    columns = ["sample_id", "patient_id", "cancer_type", "timepoint", "collection_day", "resistance_class"]
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


def _present(signatures: Iterable[str], scaled: pd.DataFrame) -> list[str]:
    """Signatures with a row of scaled scores (a within-cohort reference on a small gene
    universe does not scale signatures with too few genes present)."""
    return [s for s in signatures if s in scaled.index]


def _with_axes(scaled: pd.DataFrame, samples: pd.DataFrame) -> pd.DataFrame:
    """Scaled scores with the two subtype axes appended as rows."""
    axes = samples.set_index("sample_id")[list(AXES)].T
    return pd.concat([scaled, axes.reindex(columns=scaled.columns)])


def compare_classes(
    samples: pd.DataFrame,
    scaled: pd.DataFrame,
    signatures: Iterable[str] = ICB_SIGNATURES,
    timepoint: str = "post",
    groups: tuple[str, str] = COMPARED_CLASSES,
) -> pd.DataFrame:
    """Scaled scores of one group's samples against another's (e.g. acquired vs primary).

    One sample per patient at ``timepoint`` (:func:`one_sample_per_patient`);
    two-sided Mann–Whitney U test per signature and per subtype axis, Benjamini–Hochberg
    across them.

    Returns
    -------
    pandas.DataFrame
        One row per signature (and the two axes): ``n_<a>``, ``n_<b>``, ``median_<a>``,
        ``median_<b>``, ``difference`` (median a - median b, in reference SD units),
        ``auc`` (P(a > b)), ``p``, ``q``.
    """
    a, b = groups
    chosen = one_sample_per_patient(samples, timepoint)
    values = _with_axes(scaled, samples)
    ids = {g: chosen.loc[chosen["resistance_class"] == g, "sample_id"] for g in groups}
    rows = []
    for signature in [*_present(signatures, scaled), *AXES]:
        x = values.loc[signature, ids[a]].dropna().to_numpy(dtype=float)
        y = values.loc[signature, ids[b]].dropna().to_numpy(dtype=float)
        row: dict[str, Any] = {"signature": signature, f"n_{a}": len(x), f"n_{b}": len(y)}
        if len(x) >= 2 and len(y) >= 2:
            test = mannwhitneyu(x, y, alternative="two-sided")
            row.update(
                {
                    f"median_{a}": float(np.median(x)),
                    f"median_{b}": float(np.median(y)),
                    "difference": float(np.median(x) - np.median(y)),
                    "auc": float(test.statistic) / (len(x) * len(y)),
                    "p": float(test.pvalue),
                }
            )
        rows.append(row)
    table = pd.DataFrame(rows).set_index("signature")
    for column in (f"median_{a}", f"median_{b}", "difference", "auc", "p"):
        if column not in table:
            table[column] = np.nan
    table["q"] = benjamini_hochberg(table["p"].to_numpy(dtype=float))
    return table


def subtype_share_test(
    samples: pd.DataFrame, timepoint: str = "post", groups: tuple[str, str] = COMPARED_CLASSES
) -> pd.DataFrame:
    """Immune-enriched share (IE or IE/F) in one class against another at ``timepoint``.

    One sample per patient; Fisher's exact test (two-sided) on immune-enriched vs not,
    and a chi-square test of the whole 2 x 4 subtype table.

    Returns
    -------
    pandas.DataFrame
        One row (index: the timepoint): ``n_<a>``, ``n_<b>``, ``immune_enriched_<a>``,
        ``immune_enriched_<b>`` (shares), ``odds_ratio``, ``fisher_p``, ``chi2_p``.
    """
    chosen = one_sample_per_patient(samples, timepoint)
    chosen = chosen[chosen["resistance_class"].isin(groups) & chosen["subtype"].notna()]
    a, b = groups
    table = pd.crosstab(chosen["resistance_class"], chosen["subtype"]).reindex(
        index=list(groups), columns=list(SUBTYPES), fill_value=0
    )
    enriched = table[list(IMMUNE_ENRICHED)].sum(axis=1)
    total = table.sum(axis=1)
    result: dict[str, Any] = {
        f"n_{a}": int(total[a]),
        f"n_{b}": int(total[b]),
        f"immune_enriched_{a}": float(enriched[a] / total[a]) if total[a] else np.nan,
        f"immune_enriched_{b}": float(enriched[b] / total[b]) if total[b] else np.nan,
        "odds_ratio": np.nan,
        "fisher_p": np.nan,
        "chi2_p": np.nan,
    }
    if total.min() > 0:
        odds, p = fisher_exact([[enriched[a], total[a] - enriched[a]], [enriched[b], total[b] - enriched[b]]])
        result.update(odds_ratio=float(odds), fisher_p=float(p))
        nonempty = table.loc[:, table.sum(axis=0) > 0]
        if nonempty.shape[1] >= 2:
            result["chi2_p"] = float(chi2_contingency(nonempty.to_numpy())[1])
    return pd.DataFrame([result], index=pd.Index([timepoint], name="timepoint"))


def paired_samples(samples: pd.DataFrame) -> pd.DataFrame:
    """Patients with a pre-treatment and a post-progression RNA sample, one pair each.

    Returns
    -------
    pandas.DataFrame
        ``patient_id``, ``cancer_type``, ``resistance_class``, ``pre_sample``,
        ``post_sample``, ``pre_subtype``, ``post_subtype``, ``pre_immune_axis``,
        ``post_immune_axis``.
    """
    pre = one_sample_per_patient(samples, "pre")
    post = one_sample_per_patient(samples, "post")
    keep = ["patient_id", "sample_id", "subtype", "immune_axis"]
    pairs = pre[["cancer_type", "resistance_class", *keep]].merge(
        post[keep], on="patient_id", suffixes=("_pre", "_post"), validate="one_to_one"
    )
    pairs = pairs.rename(
        columns={
            "sample_id_pre": "pre_sample",
            "sample_id_post": "post_sample",
            "subtype_pre": "pre_subtype",
            "subtype_post": "post_subtype",
            "immune_axis_pre": "pre_immune_axis",
            "immune_axis_post": "post_immune_axis",
        }
    )
    return pairs[
        [
            "patient_id",
            "cancer_type",
            "resistance_class",
            "pre_sample",
            "post_sample",
            "pre_subtype",
            "post_subtype",
            "pre_immune_axis",
            "post_immune_axis",
        ]
    ]


def transition_summary(
    pairs: pd.DataFrame, scaled: pd.DataFrame, signatures: Iterable[str] = TIME_SIGNATURES
) -> pd.DataFrame:
    """Per resistance class: how pre→post pairs move.

    ``gained_immune`` is the share of pairs that were not immune-enriched before treatment
    (F or D) and are immune-enriched (IE or IE/F) after progression, among pairs not
    immune-enriched before; ``lost_immune`` the reverse. Score changes (post minus pre)
    are tested with the Wilcoxon signed-rank test (two-sided).
    """
    rows = []
    for klass, group in pairs.groupby("resistance_class", sort=True):
        called = group.dropna(subset=["pre_subtype", "post_subtype"])
        pre_enriched = called["pre_subtype"].isin(IMMUNE_ENRICHED)
        post_enriched = called["post_subtype"].isin(IMMUNE_ENRICHED)
        row: dict[str, Any] = {
            "resistance_class": klass,
            "pairs": len(group),
            "gained_immune": float((~pre_enriched & post_enriched).sum() / max(1, (~pre_enriched).sum())),
            "lost_immune": float((pre_enriched & ~post_enriched).sum() / max(1, pre_enriched.sum())),
            "same_subtype": float((called["pre_subtype"] == called["post_subtype"]).mean())
            if len(called)
            else np.nan,
        }
        for signature in [*_present(signatures, scaled), "immune_axis"]:
            if signature == "immune_axis":
                change = (group["post_immune_axis"] - group["pre_immune_axis"]).to_numpy(dtype=float)
            else:
                change = scaled.loc[signature, group["post_sample"]].to_numpy(dtype=float) - scaled.loc[
                    signature, group["pre_sample"]
                ].to_numpy(dtype=float)
            change = change[~np.isnan(change)]
            row[f"{signature}_median_change"] = float(np.median(change)) if len(change) else np.nan
            row[f"{signature}_p"] = float(wilcoxon(change).pvalue) if len(change) >= 6 else np.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index("resistance_class")


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
            for signature in _present(signatures, scaled):
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
    signatures = _present(signatures, scaled)
    medians = scores_over_time(samples, scaled, signatures)
    medians = medians[medians["n"] >= min_n]
    matrix = medians.pivot_table(
        index="signature", columns=["timepoint", "resistance_class"], values="median", sort=False
    )
    matrix = matrix.reindex(index=signatures)
    matrix.columns = [f"{timepoint} · {klass}" for timepoint, klass in matrix.columns]
    return matrix


def _ols_effect(
    y: np.ndarray, carrier: np.ndarray, covariate: np.ndarray | None
) -> tuple[float, float, float, float]:
    """Carrier coefficient of the OLS fit y ~ 1 + carrier (+ covariate): estimate, 95% CI, p.

    statsmodels' OLS with its t-based interval and p-value; NaN where the design is rank
    deficient or leaves no residual degree of freedom, and no p-value for an exact fit.
    """
    columns = [np.ones_like(y), carrier]
    if covariate is not None and np.ptp(covariate) > 0:
        columns.append(covariate)
    design = np.column_stack(columns)
    if np.linalg.matrix_rank(design) < design.shape[1] or len(y) - design.shape[1] < 1:
        return np.nan, np.nan, np.nan, np.nan
    fit = sm.OLS(y, design).fit()
    estimate = float(fit.params[1])
    if fit.bse[1] == 0:
        return estimate, estimate, estimate, np.nan
    low, high = fit.conf_int(alpha=0.05)[1]
    return estimate, float(low), float(high), float(fit.pvalues[1])


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
    model ``score ~ carrier + acquired`` (acquired resistance vs any other class, since
    acquired LoF genes are enriched in acquired resistance, whose TME differs) gives the
    carrier difference in reference SD units with its 95% CI and p-value;
    Benjamini–Hochberg across the signatures and subtype axes of each gene and cancer type.

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
        ``n_non_carriers``, ``estimate``, ``ci_low``, ``ci_high``, ``p``, ``q``; empty (with
        these columns) when no gene has enough carriers.

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
            acquired = (group["resistance_class"] == "acquired").to_numpy(dtype=float)
            block = []
            for signature in [*_present(signatures, scaled), *AXES]:
                y = values.loc[signature, group["sample_id"]].to_numpy(dtype=float)
                ok = ~np.isnan(y)
                estimate, low, high, p = _ols_effect(y[ok], carrier[ok], acquired[ok])
                block.append(
                    {
                        "gene": gene,
                        "cancer_type": cancer_type,
                        "signature": signature,
                        "n_carriers": int(carrier[ok].sum()),
                        "n_non_carriers": int(ok.sum() - carrier[ok].sum()),
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
        "estimate",
        "ci_low",
        "ci_high",
        "p",
        "q",
    ]
    return pd.DataFrame(rows, columns=columns)
