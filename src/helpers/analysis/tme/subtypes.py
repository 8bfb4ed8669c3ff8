"""The four TME subtypes of Bagaev et al. 2021, called from two axes of scaled scores.

A sample is placed on an immune axis (mean of the scaled immune signatures) and a fibrotic
axis (mean of the scaled stromal ones), each centred on the reference's median tumour; its
subtype is IE/F (both above 0), IE (immune only), F (fibrotic only) or D (neither). The
subtype names and their display order are in :mod:`helpers.units`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from statsmodels.stats.inter_rater import cohens_kappa

from helpers.errors import InputError
from helpers.units import SUBTYPES

if TYPE_CHECKING:  # pragma: no cover
    from helpers.analysis.tme.reference import TMEReference

__all__ = [
    "AXES",
    "FIBROTIC_AXIS",
    "IMMUNE_AXIS",
    "IMMUNE_ENRICHED",
    "assign_subtypes",
    "subtype_agreement",
    "subtype_counts",
    "transition_counts",
]

#: Bagaev signatures averaged into the immune axis (anti- and pro-tumour infiltrates).
IMMUNE_AXIS = (
    "MHCI", "MHCII", "Coactivation_molecules", "Effector_cells", "T_cells", "T_cell_traffic",
    "NK_cells", "B_cells", "M1_signatures", "Th1_signature", "Antitumor_cytokines",
    "Checkpoint_inhibition", "Treg", "T_reg_traffic", "Neutrophil_signature",
    "Granulocyte_traffic", "MDSC", "MDSC_traffic", "Macrophages", "Macrophage_DC_traffic",
    "Th2_signature",
)  # fmt: skip
#: Bagaev signatures averaged into the fibrotic (stromal) axis.
FIBROTIC_AXIS = ("CAF", "Matrix", "Matrix_remodeling", "Angiogenesis", "Endothelium")
AXES = {"immune_axis": IMMUNE_AXIS, "fibrotic_axis": FIBROTIC_AXIS}
#: The immune-enriched subtypes.
IMMUNE_ENRICHED = ("IE", "IE/F")


def assign_subtypes(scaled: pd.DataFrame, reference: TMEReference) -> pd.DataFrame:
    """Place each sample on the two axes and call its TME subtype.

    The immune axis is the mean of the scaled immune signatures (:data:`IMMUNE_AXIS`), the
    fibrotic axis the mean of the scaled stromal ones (:data:`FIBROTIC_AXIS`), each minus
    the reference's median of that mean, so that 0 is the reference's median tumour.
    A sample is immune-enriched when its immune axis is above 0 and fibrotic when its
    fibrotic axis is above 0: IE/F (both), IE (immune only), F (fibrotic only), D
    (neither). A sample without every axis signature scaled gets no subtype.

    Parameters
    ----------
    scaled
        Scaled scores from :func:`helpers.analysis.tme.reference.scale_scores`
        (signatures x samples).
    reference
        The reference they were scaled against.

    Returns
    -------
    pandas.DataFrame
        One row per sample (index ``sample_id``): ``immune_axis``, ``fibrotic_axis``,
        ``subtype`` (one of :data:`helpers.units.SUBTYPES`, or None).

    Raises
    ------
    helpers.errors.InputError
        If ``scaled`` lacks a signature of an axis.
    """
    result = pd.DataFrame(index=pd.Index(scaled.columns, name="sample_id"))
    for axis in AXES:
        members = reference.axis_members(axis)
        absent = [m for m in members if m not in scaled.index]
        if absent:
            raise InputError(f"scaled scores lack the {axis} signature(s) {absent}")
        block = scaled.loc[members]
        values = block.mean(axis=0) - reference.statistics.at[axis, "centre"]
        values[block.isna().any(axis=0)] = np.nan
        result[axis] = values.to_numpy(dtype=float)
    immune_high = result["immune_axis"] > 0
    fibrotic_high = result["fibrotic_axis"] > 0
    subtype = np.select(
        [immune_high & fibrotic_high, immune_high & ~fibrotic_high, ~immune_high & fibrotic_high],
        ["IE/F", "IE", "F"],
        default="D",
    ).astype(object)
    subtype[result[["immune_axis", "fibrotic_axis"]].isna().any(axis=1).to_numpy()] = None
    result["subtype"] = subtype
    return result


def subtype_counts(samples: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Samples per subtype for each group of ``by``.

    Returns
    -------
    pandas.DataFrame
        One row per group: a column per subtype (in :data:`helpers.units.SUBTYPES` order),
        ``n`` and ``immune_enriched_share`` (IE or IE/F).
    """
    called = samples[samples["subtype"].notna()]
    counts = (
        called.groupby(by)["subtype"]
        .value_counts()
        .unstack(fill_value=0)
        .reindex(columns=list(SUBTYPES), fill_value=0)
        .astype(int)
    )
    counts.columns.name = "subtype"
    counts["n"] = counts[list(SUBTYPES)].sum(axis=1)
    counts["immune_enriched_share"] = (counts["IE"] + counts["IE/F"]) / counts["n"]
    return counts


def transition_counts(pairs: pd.DataFrame) -> pd.DataFrame:
    """Pre-treatment subtype (rows) x post-progression subtype (columns) counts of pairs
    (:func:`helpers.analysis.tme.compare.paired_samples`)."""
    called = pairs.dropna(subset=["pre_subtype", "post_subtype"])
    table = pd.crosstab(
        pd.Categorical(called["pre_subtype"], SUBTYPES),
        pd.Categorical(called["post_subtype"], SUBTYPES),
        dropna=False,
    )
    table.index.name, table.columns.name = "pre", "post"
    return table.astype(int)


def subtype_agreement(called: pd.Series, planted: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """Agreement of called with planted (or any reference) subtypes.

    Cohen's kappa is :func:`statsmodels.stats.inter_rater.cohens_kappa` on the confusion
    table; it is undefined (NaN) when both raters put every sample in the same subtype.

    Parameters
    ----------
    called, planted
        Subtypes indexed by sample id; samples in both with a call are compared.

    Returns
    -------
    confusion : pandas.DataFrame
        Planted (rows) x called (columns) counts in :data:`helpers.units.SUBTYPES` order.
    summary : pandas.Series
        ``n``, ``accuracy`` and Cohen's ``kappa`` (agreement beyond chance).

    Raises
    ------
    helpers.errors.InputError
        If no sample has both a called and a planted subtype.
    """
    both = pd.concat({"called": called, "planted": planted}, axis=1, join="inner").dropna()
    if both.empty:
        raise InputError("no sample has both a called and a planted subtype")
    confusion = pd.crosstab(
        pd.Categorical(both["planted"], SUBTYPES), pd.Categorical(both["called"], SUBTYPES), dropna=False
    ).astype(int)
    confusion.index.name, confusion.columns.name = "planted", "called"
    table = confusion.to_numpy(dtype=float)
    n = table.sum()
    observed = np.trace(table) / n
    chance = float((table.sum(axis=0) * table.sum(axis=1)).sum() / n**2)
    kappa = float(cohens_kappa(table, return_results=False)) if chance < 1 else np.nan
    return confusion, pd.Series({"n": int(n), "accuracy": float(observed), "kappa": kappa})
