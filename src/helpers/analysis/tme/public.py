"""TME scores of the public ICB cohorts (``../shared/data/public``): the real-data checks.

The pre-treatment tumours of the public cohorts with an expression matrix are scored as a
canonical cohort's are; the genome-wide RNA-seq cohorts among them make the shipped
reference (:func:`build_public_reference`). The checks ask whether immune scores rise from
desert to excluded to inflamed IMvigor210 tumours, whether inflamed tumours are
immune-enriched, and whether the IFN-γ score is higher in responders.
"""

from __future__ import annotations

import gzip
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact, mannwhitneyu, spearmanr

from helpers.analysis.tme.reference import (
    TMEReference,
    TMEScores,
    build_reference,
    harmonise_gene_symbols,
    score_tme,
)
from helpers.analysis.tme.subtypes import IMMUNE_ENRICHED
from helpers.errors import (
    ParameterError,
    SourceFormatError,
    Violation,
    check,
    raise_violations,
    require_columns,
)
from helpers.stats.ssgsea import EmptyGeneSetWarning
from helpers.stats.trend import jonckheere_terpstra
from helpers.units import SUBTYPES

__all__ = [
    "IMMUNE_PHENOTYPES",
    "PUBLIC_RNA_COHORTS",
    "REFERENCE_COHORTS",
    "PublicCohortTME",
    "build_public_reference",
    "immune_phenotype_trend",
    "immune_subtypes_by_phenotype",
    "public_rna_samples",
    "read_public_expression",
    "response_association",
    "score_public_cohort",
]


#: Public cohorts of ../shared/data/public with an expression matrix.
PUBLIC_RNA_COHORTS = (
    "gide2019_melanoma_pd1",
    "hugo2016_melanoma_pd1",
    "riaz2017_melanoma_nivolumab",
    "miao2018_ccrcc_pd1",
    "vanallen2015_melanoma_ctla4",
    "imvigor210_urothelial_atezolizumab",
)
#: The genome-wide RNA-seq cohorts whose pre-treatment tumours make the shipped reference.
REFERENCE_COHORTS = PUBLIC_RNA_COHORTS[:5]
REFERENCE_NAME = "public_rnaseq_pre"
#: IMvigor210's immune phenotypes (CD8 immunohistochemistry), in their expected order.
IMMUNE_PHENOTYPES = ("desert", "excluded", "inflamed")


def read_public_expression(cohort_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """``expression.tsv.gz`` of a public cohort (genes x samples), symbols harmonised.

    Raises
    ------
    FileNotFoundError
        If the cohort has no expression file.
    helpers.errors.SourceFormatError
        If gene labels are duplicated after harmonisation (the message shows them).
    """
    path = Path(cohort_dir) / "expression.tsv.gz"
    if not path.is_file():
        raise FileNotFoundError(f"no expression matrix in {Path(cohort_dir)} (looked for {path.name})")
    expression = harmonise_gene_symbols(pd.read_csv(path, sep="\t", index_col=0))
    if expression.index.duplicated().any():
        # Rows counted from 1 after renaming (a dropped alias row shifts the file's lines).
        genes = pd.DataFrame(
            {"gene": expression.index}, index=pd.RangeIndex(1, len(expression) + 1, name="row")
        )
        violations: list[Violation] = []
        check(
            violations,
            genes,
            expression.index.duplicated(),
            table=str(path),
            column="gene",
            rule="a gene must not repeat once old symbols are renamed to current ones",
        )
        raise_violations(violations, where=f"{path} cannot be read", error=SourceFormatError)
    return expression


def public_rna_samples(cohort_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """One pre-treatment RNA sample per patient of a public cohort, with its clinical data.

    The first pre-treatment sample of each patient in ``samples.tsv`` order is kept.

    Returns
    -------
    pandas.DataFrame
        Columns ``sample_id``, ``patient_id``, ``best_overall_response``, ``responder``
        (True for CR/PR, False for SD/PD, missing otherwise), ``cancer_type``,
        ``treatment`` and, where the cohort has it, ``immune_phenotype``.
    """
    cohort_dir = Path(cohort_dir)
    samples = pd.read_csv(cohort_dir / "samples.tsv", sep="\t", dtype=str)
    clinical = pd.read_csv(cohort_dir / "clinical.tsv", sep="\t", dtype={"patient_id": str})
    with gzip.open(cohort_dir / "expression.tsv.gz", "rt") as handle:
        expression_samples = handle.readline().rstrip("\n").split("\t")[1:]
    samples = samples[samples["sample_id"].isin(expression_samples)]
    if "timepoint" in samples.columns:
        samples = samples[samples["timepoint"].fillna("pre") == "pre"]
    samples = samples.drop_duplicates("patient_id", keep="first")
    columns = ["patient_id", "best_overall_response", "cancer_type", "treatment"]
    if "src_immune_phenotype" in clinical.columns:
        columns.append("src_immune_phenotype")
    table = samples[["sample_id", "patient_id"]].merge(
        clinical[columns], on="patient_id", how="left", validate="many_to_one"
    )
    table = table.rename(columns={"src_immune_phenotype": "immune_phenotype"})
    bor = table["best_overall_response"]
    table["responder"] = pd.array(
        np.where(bor.isin(["CR", "PR"]), True, np.where(bor.isin(["SD", "PD"]), False, None)), dtype="boolean"
    )
    return table.reset_index(drop=True)


def build_public_reference(
    public_dir: str | os.PathLike[str], cohorts: Iterable[str] = REFERENCE_COHORTS
) -> TMEReference:
    """The shipped reference: pre-treatment tumours of the public genome-wide cohorts.

    The universe is the genes common to every cohort (after alias mapping); every sample
    is scored on it and the per-signature median and 1.4826 x MAD of the pooled raw scores
    are kept (see ``data/reference/README.md``).
    """
    public_dir = Path(public_dir)
    cohorts = list(cohorts)
    matrices = []
    for name in cohorts:
        expression = read_public_expression(public_dir / name)
        samples = public_rna_samples(public_dir / name)
        matrices.append(expression[samples["sample_id"]].add_prefix(f"{name}:"))
    common = set(matrices[0].index)
    for matrix in matrices[1:]:
        common &= set(matrix.index)
    universe = [g for g in matrices[0].index if g in common]  # first cohort's order
    pooled = pd.concat([m.loc[universe] for m in matrices], axis=1)
    return build_reference(
        pooled,
        name=REFERENCE_NAME,
        universe=universe,
        description=(
            f"{pooled.shape[1]} pre-treatment tumours of {len(cohorts)} public "
            f"RNA-seq ICB cohorts ({', '.join(cohorts)}), log2(TPM + 0.001), "
            f"scored on the {len(universe):,} genes they share"
        ),
    )


@dataclass(frozen=True)
class PublicCohortTME:
    """A public cohort's pre-treatment samples with their TME scores.

    Attributes
    ----------
    name
        Cohort folder name.
    samples
        :func:`public_rna_samples` joined with the subtype table (``immune_axis``,
        ``fibrotic_axis``, ``subtype``).
    tme
        The :class:`TMEScores`.
    """

    name: str
    samples: pd.DataFrame
    tme: TMEScores


def score_public_cohort(public_dir: str | os.PathLike[str], name: str) -> PublicCohortTME:
    """Score a public cohort's pre-treatment RNA samples (``reference="auto"``)."""
    if name not in PUBLIC_RNA_COHORTS:
        raise ParameterError(f"{name!r} is not a public cohort with RNA; known: {list(PUBLIC_RNA_COHORTS)}")
    cohort_dir = Path(public_dir) / name
    samples = public_rna_samples(cohort_dir)
    expression = read_public_expression(cohort_dir)[samples["sample_id"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyGeneSetWarning)  # the coverage table reports them
        tme = score_tme(expression, reference="auto")
    table = samples.merge(tme.subtypes.reset_index(), on="sample_id", how="left")
    return PublicCohortTME(name=name, samples=table, tme=tme)


def immune_phenotype_trend(
    public_dir: str | os.PathLike[str],
    signatures: Iterable[str] = ("IFNG_AYERS2017", "TCELL_INFLAMED_GEP"),
    cohort: str = "imvigor210_urothelial_atezolizumab",
) -> pd.DataFrame:
    """Do immune scores rise from desert to excluded to inflamed tumours (IMvigor210)?

    Pre-treatment tumours with an immune phenotype (CD8 immunohistochemistry pattern,
    ``src_immune_phenotype``), one per patient. Trend tests: Jonckheere–Terpstra (one-sided,
    increasing) and Spearman's rank correlation with the phenotype coded 0, 1, 2.

    Returns
    -------
    pandas.DataFrame
        One row per signature: ``n_desert``, ``n_excluded``, ``n_inflamed``, median scaled
        score per phenotype, ``jt_statistic``, ``jt_z``, ``jt_p`` (one-sided),
        ``spearman_rho``, ``spearman_p`` (two-sided), ``scaling``.
    """
    scored = score_public_cohort(public_dir, cohort)
    require_columns(scored.samples, ["immune_phenotype"], table=f"{cohort} clinical (src_immune_phenotype)")
    table = scored.samples[scored.samples["immune_phenotype"].isin(IMMUNE_PHENOTYPES)]
    code = table["immune_phenotype"].map({p: k for k, p in enumerate(IMMUNE_PHENOTYPES)})
    rows = []
    for signature in signatures:
        values = scored.tme.scaled.loc[signature, table["sample_id"]].to_numpy(dtype=float)
        trend = jonckheere_terpstra(values, table["immune_phenotype"], IMMUNE_PHENOTYPES)
        rho, p_rho = spearmanr(code.to_numpy(), values)
        row: dict[str, Any] = {"signature": signature}
        for phenotype, n in zip(IMMUNE_PHENOTYPES, trend.group_sizes, strict=True):
            row[f"n_{phenotype}"] = n
        phenotypes = table["immune_phenotype"].to_numpy()
        for phenotype in IMMUNE_PHENOTYPES:
            row[f"median_{phenotype}"] = float(np.median(values[phenotypes == phenotype]))
        row.update(
            jt_statistic=trend.statistic,
            jt_z=trend.z,
            jt_p=trend.pvalue,
            spearman_rho=float(rho),
            spearman_p=float(p_rho),
            scaling=scored.tme.mode,
        )
        rows.append(row)
    return pd.DataFrame(rows).set_index("signature")


def immune_subtypes_by_phenotype(
    public_dir: str | os.PathLike[str], cohort: str = "imvigor210_urothelial_atezolizumab"
) -> tuple[pd.DataFrame, pd.Series]:
    """Are immune-enriched TME subtypes over-represented among inflamed tumours?

    Returns
    -------
    counts : pandas.DataFrame
        Immune phenotype x subtype counts (plus ``immune_enriched_share``).
    test : pandas.Series
        One-sided Fisher's exact test of immune-enriched (IE or IE/F) subtypes among
        inflamed tumours against excluded and desert ones: ``inflamed_immune_enriched``,
        ``inflamed_n``, ``other_immune_enriched``, ``other_n``, ``odds_ratio``, ``p``,
        ``scaling``.
    """
    scored = score_public_cohort(public_dir, cohort)
    table = scored.samples[
        scored.samples["immune_phenotype"].isin(IMMUNE_PHENOTYPES) & scored.samples["subtype"].notna()
    ]
    counts = pd.crosstab(
        pd.Categorical(table["immune_phenotype"], IMMUNE_PHENOTYPES),
        pd.Categorical(table["subtype"], SUBTYPES),
        dropna=False,
    )
    counts.index.name, counts.columns.name = "immune_phenotype", "subtype"
    enriched = table["subtype"].isin(IMMUNE_ENRICHED)
    inflamed = table["immune_phenotype"] == "inflamed"
    a, b = int((enriched & inflamed).sum()), int(inflamed.sum())
    c, d = int((enriched & ~inflamed).sum()), int((~inflamed).sum())
    odds, p = fisher_exact([[a, b - a], [c, d - c]], alternative="greater")
    counts = counts.astype(int)
    called = counts[list(SUBTYPES)].sum(axis=1)
    counts["immune_enriched_share"] = (counts["IE"] + counts["IE/F"]) / called
    test = pd.Series(
        {
            "inflamed_immune_enriched": a,
            "inflamed_n": b,
            "other_immune_enriched": c,
            "other_n": d,
            "odds_ratio": float(odds),
            "p": float(p),
            "scaling": scored.tme.mode,
        }
    )
    return counts, test


def response_association(
    public_dir: str | os.PathLike[str],
    cohorts: Iterable[str] = PUBLIC_RNA_COHORTS,
    signature: str = "IFNG_AYERS2017",
) -> pd.DataFrame:
    """Is the signature higher in responders (CR/PR) than in non-responders (SD/PD)?

    Pre-treatment tumours, one per patient; one-sided Mann–Whitney U test (greater in
    responders; scipy's exact p-value for small samples without ties, otherwise the
    normal approximation). The AUC is ``U / (n_responders x n_non_responders)``.

    Returns
    -------
    pandas.DataFrame
        One row per cohort: ``cancer_type``, ``treatment``, ``n_responders``,
        ``n_non_responders``, ``median_responders``, ``median_non_responders`` (scaled
        scores), ``auc``, ``mannwhitney_u``, ``p_one_sided``, ``scaling``.
    """
    rows = []
    for name in cohorts:
        scored = score_public_cohort(public_dir, name)
        table = scored.samples[scored.samples["responder"].notna()]
        values = scored.tme.scaled.loc[signature, table["sample_id"]].to_numpy(dtype=float)
        responder = table["responder"].to_numpy(dtype=bool)
        test = mannwhitneyu(values[responder], values[~responder], alternative="greater")
        n1, n0 = int(responder.sum()), int((~responder).sum())
        rows.append(
            {
                "cohort": name,
                "cancer_type": str(table["cancer_type"].mode().iat[0]),
                "treatment": str(table["treatment"].mode().iat[0]),
                "n_responders": n1,
                "n_non_responders": n0,
                "median_responders": float(np.median(values[responder])),
                "median_non_responders": float(np.median(values[~responder])),
                "auc": float(test.statistic) / (n1 * n0),
                "mannwhitney_u": float(test.statistic),
                "p_one_sided": float(test.pvalue),
                "scaling": scored.tme.mode,
            }
        )
    return pd.DataFrame(rows).set_index("cohort")
