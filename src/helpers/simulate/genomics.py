"""Panel sequencing of the DNA samples: background mutations and copy number, planted LoF, TMB.

Each patient has clonal background events (shared by all of their samples; on-treatment and
post-progression samples lose a few and gain subclonal ones). The planted LoF genes of
:data:`~helpers.simulate.params.PLANTED_LOF` are carried at their pre-treatment prevalence, and
post-progression samples gain them towards the prevalence planted after acquired or primary
resistance (the simulator's own class, :mod:`helpers.simulate.classes`). A sample reports only the
genes of its panel; TMB is the panel's nonsynonymous count per megabase.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from helpers.data.panels import PANEL_DIR, read_gene_list
from helpers.simulate.params import (
    DEEP_DELETION,
    NONSYNONYMOUS,
    PANEL_LARGE,
    PANEL_MB,
    PANEL_SMALL,
    PLANTED_LOF,
    TRUNCATING,
    VARIANT_MIX,
)

#: Share of the large panel's genes kept on the small one (the planted genes always are).
SMALL_PANEL_SHARE = 0.72


@dataclass(frozen=True)
class Genomics:
    """The genomic tables of a simulated cohort and the planted LoF carriers behind them."""

    samples: pd.DataFrame  # the samples with their TMB (and the private ``_`` columns)
    mutations: pd.DataFrame
    cna: pd.DataFrame
    panels: pd.DataFrame
    lof_carrier: dict[str, np.ndarray]  # planted gene -> per sample: a LoF on the sample's panel
    genes: list[str]  # the large panel
    planted_genes: list[str]
    small_panel_genes: list[str]


def load_panel_genes() -> list[str]:
    """Genes of the simulated large panel (the MSK-IMPACT 468 gene list shipped in data/)."""
    return read_gene_list(PANEL_DIR / "impact468_genes.txt")


def _hash_fraction(text: str) -> float:
    """A deterministic number in [0, 1) from a string (independent of the random stream)."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 2**32


def _gene_weights(genes: list[str]) -> np.ndarray:
    """Deterministic pseudo coding lengths (genes differ in mutational target size)."""
    w = np.array([_hash_fraction(g) for g in genes])
    return np.exp(stats.norm.ppf(0.01 + 0.98 * w) * 0.6)


def simulate_genomics(
    rng: np.random.Generator,
    samples: pd.DataFrame,
    kind: np.ndarray,
    cancer_type: np.ndarray,
    tmb_true: np.ndarray,
    panel_genes: list[str],
    selection_carrier: dict[tuple[str, str], np.ndarray] | None = None,
) -> Genomics:
    """Mutations, copy number and panels of the DNA samples.

    Parameters
    ----------
    rng
        The simulation's random generator.
    samples, kind
        The samples and their timepoints (:func:`helpers.simulate.samples.simulate_samples`).
    cancer_type, tmb_true
        Per patient: cancer type and the true TMB (mutations / Mb).
    panel_genes
        Genes of the large panel (:func:`load_panel_genes`).
    selection_carrier
        Baseline-selection LoF per (gene, cancer type): per patient, carried before treatment
        (scenario ``selection``). Every DNA sample of a carrier reports it and no other sample
        does: such a LoF is never gained.

    Returns
    -------
    Genomics
        The ``mutations``, ``cna`` and ``panels`` tables, the samples with TMB, and which samples
        carry a planted-gene LoF on their panel.
    """
    ct = cancer_type
    genes = list(panel_genes)
    selection_carrier = selection_carrier or {}
    planted_genes = sorted({g for g, _ in PLANTED_LOF} | {g for g, _ in selection_carrier})
    keep_small = [g for g in genes if g in planted_genes or _hash_fraction("small:" + g) < SMALL_PANEL_SHARE]
    panels = pd.concat(
        [
            pd.DataFrame({"panel_id": PANEL_LARGE, "gene": genes}),
            pd.DataFrame({"panel_id": PANEL_SMALL, "gene": keep_small}),
        ],
        ignore_index=True,
    )
    on_panel = {PANEL_LARGE: np.ones(len(genes), bool), PANEL_SMALL: np.isin(genes, keep_small)}
    weights = _gene_weights(genes)
    gene_index = {g: j for j, g in enumerate(genes)}
    classes = list(VARIANT_MIX)
    cprobs = np.array(list(VARIANT_MIX.values()))
    cprobs = cprobs / cprobs.sum()
    trunc_classes = list(TRUNCATING)

    n = len(ct)
    # latent baseline LoF of planted genes per patient, and post-ICB gains
    baseline_lof: dict[tuple[str, str], np.ndarray] = {}
    for (g, t), (p_pre, _, _) in PLANTED_LOF.items():
        baseline_lof[(g, t)] = (ct == t) & (rng.random(n) < p_pre)
    dna = samples["panel_id"].notna().to_numpy()
    pidx = samples["_pidx"].to_numpy()
    mut_rows: list[tuple] = []
    cna_rows: list[tuple] = []
    lof_carrier = {g: np.zeros(len(samples), bool) for g in planted_genes}
    gain_draw = {key: rng.random(n) for key in PLANTED_LOF}
    clonal: dict[int, list[tuple]] = {}  # patient -> baseline mutations (shared by samples)
    clonal_cna: dict[int, list[tuple]] = {}
    tmb_obs = np.full(len(samples), np.nan)
    for s in range(len(samples)):
        i = pidx[s]
        if i not in clonal:
            m = rng.poisson(tmb_true[i] * PANEL_MB[PANEL_LARGE] / 0.8)  # all classes
            gi = rng.choice(len(genes), size=m, p=weights / weights.sum())
            vc = rng.choice(classes, size=m, p=cprobs)
            clonal[i] = [(int(a), str(b), float(rng.uniform(0.05, 0.6))) for a, b in zip(gi, vc, strict=True)]
            states = rng.choice([-2, -1, 1, 2], size=len(genes), p=[0.25, 0.3, 0.35, 0.1])
            altered = rng.random(len(genes)) < 0.06
            altered_idx = np.flatnonzero(altered)
            # most background deep deletions are dropped: they would read as LoF
            clonal_cna[i] = [
                (int(j), int(states[j]))
                for j in altered_idx
                if states[j] != DEEP_DELETION or rng.random() < 0.1
            ]
        if not dna[s]:
            continue
        panel = samples["panel_id"].iat[s]
        mask = on_panel[panel]
        muts = list(clonal[i])
        cnas = list(clonal_cna[i])
        if kind[s] in ("on", "post"):
            # keep most clonal events, add a few new subclonal ones
            muts = [mu for mu in muts if rng.random() < 0.9]
            extra = rng.poisson(0.25 * len(clonal[i]) + 0.5)
            gi = rng.choice(len(genes), size=extra, p=weights / weights.sum())
            vc = rng.choice(classes, size=extra, p=cprobs)
            muts += [(int(a), str(b), float(rng.uniform(0.05, 0.4))) for a, b in zip(gi, vc, strict=True)]
        for (g, t), (p_pre, p_acq, p_prim) in PLANTED_LOF.items():
            if ct[i] != t:
                continue
            carrier = baseline_lof[(g, t)][i]
            if kind[s] == "post":
                cls_i = samples["_cls"].iat[s]
                target = p_acq if cls_i == "acquired" else p_prim
                q = max(target - p_pre, 0.0) / (1 - p_pre)
                carrier = carrier or gain_draw[(g, t)][i] < q
            if carrier:
                j = gene_index[g]
                if rng.random() < 0.2:
                    cnas = [c for c in cnas if c[0] != j] + [(j, DEEP_DELETION)]
                else:
                    muts.append(
                        (j, trunc_classes[rng.integers(len(trunc_classes))], float(rng.uniform(0.15, 0.6)))
                    )
        for (g, t), carriers in selection_carrier.items():
            if ct[i] == t and carriers[i]:
                j = gene_index[g]
                muts.append(
                    (j, trunc_classes[rng.integers(len(trunc_classes))], float(rng.uniform(0.2, 0.6)))
                )
        sid = samples["sample_id"].iat[s]
        n_nonsyn = 0
        for j, vc, vaf in muts:
            if mask[j]:
                mut_rows.append((sid, genes[j], vc, vaf))
                n_nonsyn += vc in NONSYNONYMOUS
        seen_cna = set()
        for j, state in cnas:
            if mask[j] and j not in seen_cna:
                seen_cna.add(j)
                cna_rows.append((sid, genes[j], state))
        tmb_obs[s] = n_nonsyn / PANEL_MB[panel]
        for g in planted_genes:
            j = gene_index[g]
            if mask[j]:
                lof_carrier[g][s] = any(m[0] == j and m[1] in TRUNCATING for m in muts) or any(
                    c[0] == j and c[1] == DEEP_DELETION for c in cnas
                )
    mutations = pd.DataFrame(mut_rows, columns=["sample_id", "gene", "variant_classification", "vaf"])
    mutations["vaf"] = mutations["vaf"].round(3)
    mutations["protein_change"] = None
    mutations = mutations[["sample_id", "gene", "variant_classification", "protein_change", "vaf"]]
    cna = pd.DataFrame(cna_rows, columns=["sample_id", "gene", "copy_state"])
    samples = samples.copy()
    samples["tmb"] = np.round(tmb_obs, 2)
    return Genomics(
        samples=samples,
        mutations=mutations,
        cna=cna,
        panels=panels,
        lof_carrier=lof_carrier,
        genes=genes,
        planted_genes=planted_genes,
        small_panel_genes=keep_small,
    )
