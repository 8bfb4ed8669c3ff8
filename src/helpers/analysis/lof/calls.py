"""What a group comparison says about a gene (enriched, depleted, ...), and the planted truth beside it.

:func:`call_status` turns the q-value of the criterion and the direction of the odds ratios of the
tests that decide into one status per gene (:data:`~helpers.analysis.lof.names.STATUSES`): a gene
is *enriched* only when its q-value passes the FDR **and** every deciding odds ratio is above 1,
*depleted* when it passes and every one is below 1. Benjamini–Hochberg runs on two-sided
p-values; declaring the sign of each rejection afterwards keeps the directional false discovery
rate (null genes and genes of the wrong sign among all the genes declared) at the same level for
independent tests (Benjamini & Yekutieli, J Am Stat Assoc 2005;100:71–81, who prove the control
Benjamini and Hochberg had conjectured).

:func:`planted_effects` sets each planted effect of a simulated cohort (``truth.json``) beside
its call, with the power the simulator recorded for the primary comparison, so the book can say
which planted effects the cohort is too small to detect.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers.analysis.lof.names import (
    ALL_PRE_COMPARISON,
    CRITERION_COLUMNS,
    DECIDING_ODDS_RATIOS,
    DEPLETED,
    DETECTABLE_POWER,
    ENRICHED,
    FOUND_CRITERIA,
    NOT_SIGNIFICANT,
    NOT_TESTED,
    OPPOSITE,
    PRIMARY_COMPARISON,
)
from helpers.data.cohort import Cohort
from helpers.errors import InputError

__all__ = [
    "PLANTED_COLUMNS",
    "ROLE_LABELS",
    "call_status",
    "cohort_truth",
    "planted_lof_pairs",
    "selection_pairs",
    "planted_effects",
]

#: Readable roles of planted genes (the truth's ``role`` of the ``selection`` genes).
ROLE_LABELS: dict[str, str] = {
    "acquired": "acquired after ICB",
    "predicts_benefit": "baseline LoF that predicts benefit, never gained",
    "predicts_primary_resistance": "baseline LoF that predicts primary resistance, never gained",
}

#: Columns of :func:`planted_effects`.
PLANTED_COLUMNS = (
    "cancer_type",
    "gene",
    "role",
    "power",
    "detectable",
    "status",
    "q",
    "fisher_or",
    "firth_or",
    "status_all_pre",
)


def _check_criterion(criterion: str, where: str) -> None:
    if criterion not in FOUND_CRITERIA:
        raise InputError(f"{where}: criterion must be one of {FOUND_CRITERIA}, got {criterion!r}")


def call_status(results: pd.DataFrame, criterion: str = "both", fdr: float = 0.1) -> pd.Series:
    """The status of each row of a group-comparison table.

    Parameters
    ----------
    results
        Rows of :func:`helpers.analysis.lof.compare_groups` (columns ``tested``, the criterion's
        q-value and the deciding odds ratios).
    criterion
        One of :data:`~helpers.analysis.lof.names.FOUND_CRITERIA`.
    fdr
        The Benjamini–Hochberg level.

    Returns
    -------
    pandas.Series
        Per row (same index): ``not tested``; ``not significant`` (q above ``fdr``, or no
        q-value because a deciding model was not fitted); ``enriched`` (q ≤ fdr and every
        deciding odds ratio above 1: Fisher's and Firth's under ``both``); ``depleted`` (every
        one below 1); or ``significant, odds ratios in opposite directions``.
    """
    _check_criterion(criterion, "call_status")
    if results.empty:
        return pd.Series([], index=results.index, dtype=object, name="status")
    q = pd.to_numeric(results[CRITERION_COLUMNS[criterion][1]], errors="coerce")
    tested = results["tested"].astype(bool).to_numpy()
    significant = tested & (q <= fdr).to_numpy()
    ratios = results[list(DECIDING_ODDS_RATIOS[criterion])].apply(pd.to_numeric, errors="coerce")
    above = (ratios > 1).all(axis=1).to_numpy()  # NaN compares False: never a direction
    below = (ratios < 1).all(axis=1).to_numpy()
    status = np.select(
        [~tested, ~significant, above, below],
        [NOT_TESTED, NOT_SIGNIFICANT, ENRICHED, DEPLETED],
        default=OPPOSITE,
    )
    return pd.Series(status, index=results.index, dtype=object, name="status")


def cohort_truth(cohort: Cohort, cohort_path: str | Path | None) -> dict[str, Any] | None:
    """The planted truth (``truth.json``) of a saved simulated cohort, or None.

    None for a real cohort, when no folder is given, or when the folder holds no ``truth.json``.
    """
    if not cohort.simulated or not cohort_path or not (Path(cohort_path) / "truth.json").is_file():
        return None
    return cohort.read_json(cohort_path, "truth.json")


def planted_lof_pairs(truth: Mapping) -> list[tuple[str, str]]:
    """(cancer_type, gene) pairs with planted acquired LoF in a simulated cohort's truth."""
    try:
        return sorted((str(row["cancer_type"]), str(row["gene"])) for row in truth["acquired_lof"])
    except (KeyError, TypeError) as err:
        raise InputError("truth: expected truth['acquired_lof'] rows with gene and cancer_type") from err


def selection_pairs(truth: Mapping) -> list[tuple[str, str]]:
    """(cancer_type, gene) pairs of the baseline-selection genes (scenario ``selection``; else [])."""
    try:
        return sorted((str(row["cancer_type"]), str(row["gene"])) for row in truth.get("selection") or [])
    except (KeyError, TypeError) as err:
        raise InputError("truth: expected truth['selection'] rows with gene and cancer_type") from err


def _power(row: Mapping) -> float:
    value = row.get("power")
    try:
        return float(value) if value is not None else np.nan
    except (TypeError, ValueError):
        return np.nan


def planted_effects(
    results: pd.DataFrame, truth: Mapping, criterion: str = "both", fdr: float = 0.1
) -> pd.DataFrame:
    """Each planted LoF effect of a simulated cohort beside what the primary comparison says of it.

    Parameters
    ----------
    results
        The group comparisons of :func:`helpers.analysis.lof.acquired_lof_analysis` (columns
        cancer_type, comparison, gene, tested, the q-values and odds ratios).
    truth
        The cohort's ``truth.json``: ``acquired_lof`` rows (gene, cancer_type, power of the
        primary comparison) and, in the ``selection`` scenario, ``selection`` rows (gene,
        cancer_type, role).
    criterion, fdr
        As in :func:`call_status`.

    Returns
    -------
    pandas.DataFrame
        :data:`PLANTED_COLUMNS`: one row per planted gene and cancer type; ``role`` (``acquired``,
        ``predicts_benefit``, ``predicts_primary_resistance``), ``power`` (recorded; NaN for the
        selection genes, which have nothing to detect, and where the truth records none),
        ``detectable`` (power ≥ :data:`~helpers.analysis.lof.names.DETECTABLE_POWER`), the
        status, q-value and odds ratios in the primary comparison (``not tested`` when the gene
        had too few carriers), and the status against the pre-treatment samples of all patients.
    """
    _check_criterion(criterion, "planted_effects")
    rows: list[dict[str, Any]] = []
    for row in truth.get("acquired_lof") or []:
        rows.append(
            {"cancer_type": row["cancer_type"], "gene": row["gene"], "role": "acquired", "power": _power(row)}
        )
    for row in truth.get("selection") or []:
        rows.append(
            {
                "cancer_type": row["cancer_type"],
                "gene": row["gene"],
                "role": str(row["role"]),
                "power": np.nan,
            }
        )
    table = pd.DataFrame(rows, columns=["cancer_type", "gene", "role", "power"])
    table["power"] = table["power"].astype(float)
    table["detectable"] = table["power"] >= DETECTABLE_POWER
    q_column = CRITERION_COLUMNS[criterion][1]
    for comparison, prefix in ((PRIMARY_COMPARISON, ""), (ALL_PRE_COMPARISON, "_all_pre")):
        part = results[results["comparison"] == comparison] if len(results) else results
        part = part.assign(status=call_status(part, criterion, fdr)).set_index(["cancer_type", "gene"])
        keys = list(zip(table["cancer_type"], table["gene"], strict=True))
        present = [k in part.index for k in keys]
        status = [part.loc[k, "status"] if p else NOT_TESTED for k, p in zip(keys, present, strict=True)]
        table[f"status{prefix}"] = pd.Series(status, index=table.index, dtype=object)
        if comparison == PRIMARY_COMPARISON:
            for out, column in (("q", q_column), ("fisher_or", "fisher_or"), ("firth_or", "firth_or")):
                values = [
                    float(part.loc[k, column]) if p else np.nan for k, p in zip(keys, present, strict=True)
                ]
                table[out] = pd.Series(values, index=table.index, dtype=float)
    table = table.reindex(columns=list(PLANTED_COLUMNS))
    return table.sort_values(["role", "cancer_type", "gene"], kind="mergesort").reset_index(drop=True)
