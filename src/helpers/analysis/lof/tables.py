"""The readable tables of chapter 4, from an :class:`~helpers.analysis.lof.chapter.AcquiredLofResult`.

The full result tables (``results``, ``paired``, ``availability``) are attributes of the result;
the functions here pick and rename the rows a page shows: the genes found (or the best ones when
none is found), the genes depleted, the leading genes of the figures, the genes gained within
pairs, and a simulated cohort's planted effects beside their calls.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.analysis.lof.calls import ROLE_LABELS
from helpers.analysis.lof.chapter import AcquiredLofResult
from helpers.analysis.lof.names import (
    DEPLETED,
    ENRICHED,
    GROUP_COMPARISONS,
    GROUP_NAMES,
    PAIRED_ACQUIRED,
    PAIRED_PRIMARY,
    PRIMARY_COMPARISON,
)
from helpers.errors import InputError

__all__ = [
    "FOUND_GENES_TABLE",
    "TOP_GENES_TABLE",
    "DEPLETED_GENES_TABLE",
    "planted_table",
    "leading_genes",
    "found_table",
    "reported_genes",
    "oncoprint_genes",
    "paired_table",
]

#: Names of the table of the genes found, of the best genes when none is found, and of the genes
#: depleted after acquired resistance.
FOUND_GENES_TABLE = "lof_found_genes"
TOP_GENES_TABLE = "lof_top_genes"
DEPLETED_GENES_TABLE = "lof_depleted_genes"


def leading_genes(result: AcquiredLofResult, n: int = 10) -> pd.DataFrame:
    """The genes to show in figures: every gene found, then the next best of the primary comparison.

    Parameters
    ----------
    result
        From :func:`~helpers.analysis.lof.chapter.acquired_lof_analysis`.
    n
        At most this many rows beyond the found genes (found genes are always all listed).

    Returns
    -------
    pandas.DataFrame
        Columns cancer_type, gene, found, status, odds ratio and q-value of the primary
        comparison; found genes first, then tested genes in order of the criterion's p-value
        (depleted genes among them, with their status). Empty when nothing was tested.
    """
    if int(n) != n or n < 0:
        raise InputError(f"leading_genes: n must be a non-negative integer, got {n}")
    results = result.results
    columns = ["cancer_type", "gene", "found", "status", "firth_or", result.p_column, result.q_column]
    if results.empty:
        return pd.DataFrame(columns=list(dict.fromkeys(columns)))
    primary = results[(results["comparison"] == PRIMARY_COMPARISON) & results["tested"].astype(bool)]
    primary = primary[primary[result.p_column].notna()]
    ordered = primary.sort_values(
        ["found", result.p_column, "cancer_type", "gene"],
        ascending=[False, True, True, True],
        kind="mergesort",
    )
    n_found = int(ordered["found"].sum())
    return ordered.head(max(n_found, int(n)))[list(dict.fromkeys(columns))].reset_index(drop=True)


def found_table(
    result: AcquiredLofResult,
    comparison: str = PRIMARY_COMPARISON,
    rows: str = "found",
    n: int = 10,
    percentages: bool = True,
) -> pd.DataFrame:
    """A readable table of one group comparison: counts, prevalences, odds ratios, p and q.

    Parameters
    ----------
    result
        From :func:`~helpers.analysis.lof.chapter.acquired_lof_analysis`.
    comparison
        One of :data:`~helpers.analysis.lof.names.GROUP_COMPARISONS`.
    rows
        ``"found"``: genes whose q-value (the analysis's criterion) passes the FDR with LoF
        enriched (every deciding odds ratio above 1; in the primary comparison, the genes
        found); ``"depleted"``: genes that pass with LoF depleted (odds ratios below 1);
        ``"top"``: the ``n`` tested genes with the smallest p-values, whatever their direction.
    n
        Number of rows for ``rows="top"``.
    percentages
        Include the share of carriers in each group. Leave them out for restricted cohorts, where
        small carrier counts are suppressed: a percentage and its denominator would give the
        count back.

    Returns
    -------
    pandas.DataFrame
        One row per cancer type and gene: carriers and samples in the case and reference groups,
        the share of carriers (%), Fisher's conditional odds ratio with its exact 95% CI and p,
        the Firth odds ratio (adjusted) with its profile 95% CI and p, the q-value that decides,
        and the status (enriched, depleted, ...).
    """
    if comparison not in GROUP_COMPARISONS:
        raise InputError(f"found_table: comparison must be a group comparison, got {comparison!r}")
    if rows not in ("found", "depleted", "top"):
        raise InputError(f"found_table: rows must be 'found', 'depleted' or 'top', got {rows!r}")
    case, reference = GROUP_NAMES[comparison]
    results = result.results
    if results.empty:
        part = results
    else:
        part = results[(results["comparison"] == comparison) & results["tested"].astype(bool)]
        part = part[part[result.p_column].notna()]
        if rows in ("found", "depleted"):
            part = part[part["status"] == (ENRICHED if rows == "found" else DEPLETED)]
            part = part.sort_values(["cancer_type", result.p_column, "gene"], kind="mergesort")
        else:
            part = part.sort_values([result.p_column, "cancer_type", "gene"], kind="mergesort").head(int(n))
    table = pd.DataFrame(
        {
            "cancer type": part.get("cancer_type", pd.Series(dtype=object)),
            "gene": part.get("gene", pd.Series(dtype=object)),
            f"carriers, {case}": part.get("carriers_case", pd.Series(dtype=int)),
            f"samples, {case}": part.get("n_case", pd.Series(dtype=int)),
            f"carriers, {reference}": part.get("carriers_ref", pd.Series(dtype=int)),
            f"samples, {reference}": part.get("n_ref", pd.Series(dtype=int)),
        }
    )
    if len(part) and percentages:
        table[f"% {case}"] = 100.0 * part["carriers_case"] / part["n_case"]
        table[f"% {reference}"] = 100.0 * part["carriers_ref"] / part["n_ref"]
    if len(part):
        for label, column in (
            ("Fisher OR", "fisher_or"),
            ("Fisher CI low", "fisher_ci_lower"),
            ("Fisher CI high", "fisher_ci_upper"),
            ("Fisher p", "fisher_p"),
            ("Firth OR", "firth_or"),
            ("Firth CI low", "firth_ci_lower"),
            ("Firth CI high", "firth_ci_upper"),
            ("Firth p", "firth_p"),
        ):
            table[label] = part[column].astype(float)
        table[f"q ({result.criterion})"] = part[result.q_column].astype(float)
        table["status"] = part["status"].astype(object)
    for column in table.columns[2:6]:
        table[column] = table[column].astype(int)
    return table.reset_index(drop=True)


def reported_genes(
    result: AcquiredLofResult, n: int = 10, percentages: bool = True
) -> tuple[str, pd.DataFrame]:
    """The table of the genes found, or of the ``n`` best genes when none is found, and its name.

    Parameters
    ----------
    result
        From :func:`~helpers.analysis.lof.chapter.acquired_lof_analysis`.
    n
        Rows of the table when no gene passes the FDR.
    percentages
        As in :func:`found_table`.

    Returns
    -------
    (name, table)
        :data:`FOUND_GENES_TABLE` and :func:`found_table` of the primary comparison when a gene is
        found; otherwise :data:`TOP_GENES_TABLE` and the ``n`` tested genes with the smallest
        p-values.
    """
    found = found_table(result, percentages=percentages)
    if len(found):
        return FOUND_GENES_TABLE, found
    return TOP_GENES_TABLE, found_table(result, rows="top", n=n, percentages=percentages)


def oncoprint_genes(leading: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """The genes of the paired oncoprint: the found rows of ``leading``, or its first ``n`` rows.

    Parameters
    ----------
    leading
        From :func:`leading_genes` (found genes first).
    n
        Rows to keep when no gene was found.
    """
    return leading[leading["found"]] if leading["found"].any() else leading.head(n)


def paired_table(
    result: AcquiredLofResult, comparison: str = PAIRED_ACQUIRED, rows: str = "found", n: int = 10
) -> pd.DataFrame:
    """A readable table of LoF gained within pre/post pairs.

    ``rows="found"`` keeps genes whose McNemar q-value passes the FDR, ``"top"`` the ``n``
    tested genes with the smallest p-values.
    """
    if comparison not in (PAIRED_ACQUIRED, PAIRED_PRIMARY):
        raise InputError(f"paired_table: comparison must be a paired comparison, got {comparison!r}")
    if rows not in ("found", "top"):
        raise InputError(f"paired_table: rows must be 'found' or 'top', got {rows!r}")
    paired = result.paired
    columns = ["cancer_type", "gene", "n_pairs", "gained", "lost", "both", "p_value", "q_value"]
    if paired.empty:
        return pd.DataFrame(columns=columns)
    part = paired[(paired["comparison"] == comparison) & paired["tested"].astype(bool)]
    if rows == "found":
        part = part[part["q_value"] <= result.fdr].sort_values(
            ["cancer_type", "p_value", "gene"], kind="mergesort"
        )
    else:
        part = part.sort_values(["p_value", "cancer_type", "gene"], kind="mergesort").head(int(n))
    out = part[columns].reset_index(drop=True)
    for column in ("n_pairs", "gained", "lost", "both"):
        out[column] = out[column].astype(int)
    return out


def planted_table(result: AcquiredLofResult) -> pd.DataFrame:
    """A simulated cohort's planted LoF effects beside their calls (readable columns).

    Parameters
    ----------
    result
        From :func:`~helpers.analysis.lof.chapter.acquired_lof_analysis` with ``truth``.

    Returns
    -------
    pandas.DataFrame
        One row per planted gene and cancer type: what was planted, the power the simulator
        recorded for the primary comparison (empty for the baseline-selection genes, which have
        nothing to detect), whether the cohort can detect it (power at least 80%), the status and
        q-value in the primary comparison, and the status against the pre-treatment samples of
        all patients. Empty when the result has no planted truth.
    """
    columns = [
        "cancer type",
        "gene",
        "planted",
        "recorded power",
        "detectable (power >= 80%)",
        "primary comparison",
        f"q ({result.criterion})",
        "vs all pre-treatment",
    ]
    planted = result.planted
    if planted is None or planted.empty:
        return pd.DataFrame(columns=columns)
    selection = planted["role"] != "acquired"
    return pd.DataFrame(
        {
            columns[0]: planted["cancer_type"],
            columns[1]: planted["gene"],
            columns[2]: planted["role"].map(ROLE_LABELS).fillna(planted["role"]),
            columns[3]: planted["power"].astype(float),
            columns[4]: np.select(
                [selection, planted["power"].isna(), planted["detectable"].astype(bool)],
                ["", "not recorded", "yes"],
                default="no",
            ),
            columns[5]: planted["status"],
            columns[6]: planted["q"].astype(float),
            columns[7]: planted["status_all_pre"],
        }
    ).reset_index(drop=True)
