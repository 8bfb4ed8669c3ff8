"""Paired pre-treatment → post-progression samples: subtype moves and score changes.

A within-patient change is free of the patient's own baseline, but not of a change of biopsy
site; :func:`compare_transitions` compares the classes' changes within strata of cancer type
and site pair, and :func:`transition_changes` reports each class's change among pairs
biopsied at the same site beside the change among all pairs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

from helpers.analysis.tme.compare import (
    COMPARED_CLASSES,
    TIME_SIGNATURES,
    one_sample_per_patient,
    present_signatures,
    shift_row,
    shift_table,
)
from helpers.analysis.tme.strata import NOT_RECORDED, recorded_strata, stratum_labels
from helpers.analysis.tme.subtypes import IMMUNE_ENRICHED

__all__ = ["compare_transitions", "paired_samples", "site_pairs", "transition_changes", "transition_summary"]


def paired_samples(samples: pd.DataFrame) -> pd.DataFrame:
    """Patients with a pre-treatment and a post-progression RNA sample, one pair each.

    Returns
    -------
    pandas.DataFrame
        ``patient_id``, ``cancer_type``, ``resistance_class``, ``pre_sample``,
        ``post_sample``, ``pre_subtype``, ``post_subtype``, ``pre_immune_axis``,
        ``post_immune_axis``, ``pre_site``, ``post_site`` (missing where not recorded).
    """
    pre = one_sample_per_patient(samples, "pre")
    post = one_sample_per_patient(samples, "post")
    keep = ["patient_id", "sample_id", "subtype", "immune_axis", "site"]
    pre, post = (t.assign(site=t["site"] if "site" in t else np.nan) for t in (pre, post))
    pairs = pre[["cancer_type", "resistance_class", *keep]].merge(
        post[keep], on="patient_id", suffixes=("_pre", "_post"), validate="one_to_one"
    )
    renamed = {
        f"{c}_{when}": f"{when}_{c}" for c in ("subtype", "immune_axis", "site") for when in ("pre", "post")
    }
    pairs = pairs.rename(columns={"sample_id_pre": "pre_sample", "sample_id_post": "post_sample", **renamed})
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
            "pre_site",
            "post_site",
        ]
    ]


def _changes(pairs: pd.DataFrame, scaled: pd.DataFrame, signature: str) -> np.ndarray:
    """Post minus pre score of each pair (NaN where either is missing)."""
    if signature == "immune_axis":
        return (pairs["post_immune_axis"] - pairs["pre_immune_axis"]).to_numpy(dtype=float)
    post = scaled.loc[signature, pairs["post_sample"]].to_numpy(dtype=float)
    return post - scaled.loc[signature, pairs["pre_sample"]].to_numpy(dtype=float)


def site_pairs(pairs: pd.DataFrame) -> pd.Series:
    """``"<pre site> → <post site>"`` of each pair; missing where neither site is recorded."""
    pre = pairs["pre_site"].astype(object).where(pairs["pre_site"].notna(), NOT_RECORDED).astype(str)
    post = pairs["post_site"].astype(object).where(pairs["post_site"].notna(), NOT_RECORDED).astype(str)
    labels = (pre + " → " + post).astype(object)
    return labels.where(pairs["pre_site"].notna() | pairs["post_site"].notna())


def compare_transitions(
    pairs: pd.DataFrame,
    scaled: pd.DataFrame,
    signatures: Iterable[str] = TIME_SIGNATURES,
    groups: tuple[str, str] = COMPARED_CLASSES,
    strata: Iterable[str] = ("cancer_type", "site_pair"),
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Pre→post change of the scores of one class's pairs against another's, within strata
    of cancer type and the pair's two biopsy sites.

    A within-patient change is free of the patient's own baseline (cancer type, pre-treatment
    TME), but not of a change of biopsy site (a primary tumour before treatment, a liver
    metastasis after progression): pairs are therefore compared within strata of cancer type
    and site pair (``site_pair``, :func:`site_pairs`, where sites are recorded), by van
    Elteren's test and the stratified Hodges–Lehmann shift of the changes
    (:func:`compare_classes` describes both); ``strata=()`` gives the pooled comparison.

    Estimand: how much more class a's scores change from pre-treatment to progression than
    class b's, for pairs of the same cancer type biopsied at the same two sites, in
    reference SD units.

    Returns
    -------
    pandas.DataFrame
        As :func:`compare_classes`, one row per signature and ``immune_axis``; the medians
        are the median changes.
    """
    pairs = pairs[pairs["resistance_class"].isin(groups)].reset_index(drop=True)
    pairs = pairs.assign(site_pair=site_pairs(pairs))
    labels = stratum_labels(pairs, recorded_strata(pairs, strata)).to_numpy()
    klass = pairs["resistance_class"].to_numpy()
    rows = []
    for signature in [*present_signatures(signatures, scaled), "immune_axis"]:
        change = _changes(pairs, scaled, signature)
        ok = ~np.isnan(change)
        in_a, in_b = ok & (klass == groups[0]), ok & (klass == groups[1])
        row = shift_row(change[in_a], change[in_b], labels[in_a], labels[in_b], groups, confidence)
        rows.append({"signature": signature, **row})
    return shift_table(rows, groups, "signature")


def transition_changes(
    pairs: pd.DataFrame, scaled: pd.DataFrame, signatures: Iterable[str] = TIME_SIGNATURES
) -> pd.DataFrame:
    """Per class: the pre→post change of each score, among pairs biopsied at the same site
    (where sites are recorded) and among all pairs.

    Two biopsies of the same patient at the same site differ by neither cancer type nor site,
    so their change is the one a stratified comparison would make; a change between sites
    includes the difference between the sites. Wilcoxon signed-rank test (two-sided) of a
    median change of 0 where a group has at least 6 pairs.

    Returns
    -------
    pandas.DataFrame
        Long table: ``resistance_class``, ``pairs`` (``"same site"``, only where some pair
        has both sites recorded; ``"all pairs"``), ``signature``, ``n``, ``median_change``,
        ``p``.
    """
    same = pairs["pre_site"].notna() & (pairs["pre_site"] == pairs["post_site"])
    sets = [("same site", same)] if pairs[["pre_site", "post_site"]].notna().all(axis=1).any() else []
    sets.append(("all pairs", pd.Series(True, index=pairs.index)))
    rows = []
    for klass, group in pairs.groupby("resistance_class", sort=True):
        for name, chosen in sets:
            subset = group[chosen[group.index]]
            for signature in [*present_signatures(signatures, scaled), "immune_axis"]:
                change = _changes(subset, scaled, signature)
                change = change[~np.isnan(change)]
                rows.append(
                    {
                        "resistance_class": klass,
                        "pairs": name,
                        "signature": signature,
                        "n": len(change),
                        "median_change": float(np.median(change)) if len(change) else np.nan,
                        "p": float(wilcoxon(change).pvalue) if len(change) >= 6 else np.nan,
                    }
                )
    return pd.DataFrame(rows, columns=["resistance_class", "pairs", "signature", "n", "median_change", "p"])


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
        for signature in [*present_signatures(signatures, scaled), "immune_axis"]:
            change = _changes(group, scaled, signature)
            change = change[~np.isnan(change)]
            row[f"{signature}_median_change"] = float(np.median(change)) if len(change) else np.nan
            row[f"{signature}_p"] = float(wilcoxon(change).pvalue) if len(change) >= 6 else np.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index("resistance_class")
