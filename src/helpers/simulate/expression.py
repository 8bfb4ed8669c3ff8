"""RNA expression of the RNA samples, driven by planted TME subtypes and programmes.

Every RNA sample has a planted TME subtype (Bagaev et al. 2021): the patient's subtype before
ICB, of which half of the acquired-resistance post-progression tumours move to an immune-enriched
subtype and 30 % of the other post-progression tumours to a non-immune one. The subtype sets the
means of two axes (immune, fibrotic); each TME programme loads on the axes, post-progression
tumours and LoF carriers get planted programme shifts, and every signature gene follows the
programme of the first gene set that lists it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data.genesets import SIGNATURE_DIR, read_gmt
from helpers.simulate.clinical import Clinical
from helpers.simulate.params import (
    AXIS_LOADINGS,
    LOF_SHIFTS,
    N_BACKGROUND_GENES,
    POST_SHIFTS,
    PROGRAMME_OF_SET,
    PROGRAMMES,
    SUBTYPE_AXES,
    TME_SITE_OFFSETS,
    TME_TYPE_OFFSETS,
)


def load_signature_sets() -> dict[str, list[str]]:
    """All gene sets shipped in data/signatures/, the ICB signatures first.

    The order matters to the simulation: a gene listed by several sets is driven by the
    programme of the first, so the specific ICB signatures (IFN-γ, GEP, MHC-I, dysfunction,
    ...) claim their genes before the broader Bagaev immune signatures.

    Returns
    -------
    dict[str, list[str]]
        ``{set name: genes}``: ``icb_signatures.gmt`` first, then the other GMT files in
        alphabetical order.

    Raises
    ------
    FileNotFoundError
        If no gene set is shipped.
    """
    files = sorted(SIGNATURE_DIR.glob("*.gmt"), key=lambda f: (f.name != "icb_signatures.gmt", f.name))
    sets: dict[str, list[str]] = {}
    for gmt in files:
        sets.update(read_gmt(gmt))
    if not sets:
        raise FileNotFoundError(f"no gene sets found in {SIGNATURE_DIR}")
    return sets


def programme_of(set_name: str) -> str:
    """The TME programme that drives the genes of a gene set (by keywords of its name)."""
    key = set_name.upper()
    for word, prog in PROGRAMME_OF_SET:
        if word in key:
            return prog
    return "immune"  # the remaining Bagaev sets are immune-cell and cytokine signatures


def simulate_expression(
    rng: np.random.Generator,
    samples: pd.DataFrame,
    kind: np.ndarray,
    clinical: Clinical,
    lof_carrier: dict[str, np.ndarray],
    panel_genes: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``expression`` matrix of the RNA samples and their planted subtypes.

    Parameters
    ----------
    rng
        The simulation's random generator.
    samples, kind
        The samples (with the private ``_pidx`` column) and their timepoints.
    clinical
        The simulated patients (planted subtype before ICB, the simulator's class).
    lof_carrier
        Planted gene -> per sample: carries a LoF (:class:`helpers.simulate.genomics.Genomics`).
    panel_genes
        Genes of the large panel (expressed too, without a programme).

    Returns
    -------
    expression, subtypes
        Genes × RNA samples (float32, log scale, ≥ 0); and per RNA sample the planted subtype
        and the two planted axis values (rounded to 4 decimals).
    """
    sets = load_signature_sets()
    gene_prog: dict[str, str] = {}
    for name, genes in sets.items():
        for g in genes:
            gene_prog.setdefault(g, programme_of(name))
    sig_genes = list(gene_prog)
    other = [g for g in panel_genes if g not in gene_prog]
    background = [f"SIMBG{j:05d}" for j in range(1, N_BACKGROUND_GENES + 1)]
    universe = sig_genes + other + background
    n_genes = len(universe)

    rna = samples["assay"].isin(["RNA", "DNA+RNA"]).to_numpy()
    ridx = np.flatnonzero(rna)
    pidx = samples["_pidx"].to_numpy()[ridx]
    k = kind[ridx]
    # planted subtype of each RNA sample
    sub = clinical.subtype_pre[pidx].astype(object)
    cls_s = clinical.resistance_class[pidx]
    is_post = k == "post"
    u = rng.random(len(ridx))
    by_type_and_site = clinical.scenario.tme_by_type_and_site
    fibrotic_now = np.isin(sub, ["IE/F", "F"])
    if by_type_and_site:
        # the same moves for every class: no acquired-vs-primary shift within type and site
        to_immune = np.zeros(len(ridx), bool)
        to_cold = is_post & (u < 0.3)
    else:
        to_immune = is_post & (cls_s == "acquired") & (u < 0.5)
        to_cold = is_post & (cls_s != "acquired") & (u < 0.3)
    sub = np.where(to_immune, np.where(fibrotic_now, "IE/F", "IE"), sub)
    sub = np.where(to_cold, np.where(fibrotic_now, "F", "D"), sub).astype(object)

    ax = np.array([SUBTYPE_AXES[s] for s in sub])
    immune_axis = ax[:, 0] + rng.normal(0, 0.35, len(ridx))
    fibro_axis = ax[:, 1] + rng.normal(0, 0.35, len(ridx))
    if by_type_and_site:
        types = clinical.cancer_type[pidx]
        sites = samples["site"].to_numpy(dtype=object)[ridx]
        immune_axis = immune_axis + np.array(
            [TME_TYPE_OFFSETS[t][0] + TME_SITE_OFFSETS[x][0] for t, x in zip(types, sites, strict=True)]
        )
        fibro_axis = fibro_axis + np.array(
            [TME_TYPE_OFFSETS[t][1] + TME_SITE_OFFSETS[x][1] for t, x in zip(types, sites, strict=True)]
        )
    prog_scores = {}
    for p in PROGRAMMES:
        li, lf = AXIS_LOADINGS[p]
        prog_scores[p] = li * immune_axis + lf * fibro_axis + rng.normal(0, 0.5, len(ridx))
    post_cls = np.where(cls_s == "acquired", "acquired", "primary")
    for group, shifts in ({} if by_type_and_site else POST_SHIFTS).items():
        sel = is_post & (post_cls == group)
        for p, d in shifts.items():
            prog_scores[p] = prog_scores[p] + d * sel
    carrier_rows = {}
    # LoF carriers are commoner after acquired resistance: their programme shifts (and the drop
    # of their own transcript) would plant a class difference, so tme_by_type_and_site has none
    for g, shifts in ({} if by_type_and_site else LOF_SHIFTS).items():
        carrier = lof_carrier[g][ridx] & is_post
        carrier_rows[g] = carrier
        for p, d in shifts.items():
            prog_scores[p] = prog_scores[p] + d * carrier

    base = rng.uniform(1.5, 8.0, n_genes)
    load = rng.uniform(0.5, 1.1, n_genes)
    noise_sd = rng.uniform(0.3, 0.7, n_genes)
    # genes of no signature (other panel genes, background) follow no programme
    P = np.stack(
        [prog_scores[gene_prog[g]] if g in gene_prog else np.zeros(len(ridx)) for g in universe], axis=0
    )
    values = base[:, None] + load[:, None] * P + noise_sd[:, None] * rng.standard_normal((n_genes, len(ridx)))
    # a LoF alteration lowers the gene's own transcript (nonsense-mediated decay)
    gpos = {g: j for j, g in enumerate(universe)}
    for g, carrier in carrier_rows.items():
        if g in gpos:
            values[gpos[g], carrier] -= 1.5
    values = np.clip(values, 0.0, None).astype(np.float32)
    sample_ids = samples["sample_id"].to_numpy()[ridx]
    expr = pd.DataFrame(values, index=pd.Index(universe, name="gene"), columns=sample_ids)
    subtypes = pd.DataFrame(
        {
            "sample_id": sample_ids,
            "planted_subtype": sub.astype(str),
            "planted_immune_axis": immune_axis.round(4),
            "planted_fibrotic_axis": fibro_axis.round(4),
        }
    )
    return expr, subtypes
