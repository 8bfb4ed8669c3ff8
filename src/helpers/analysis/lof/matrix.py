"""Panel-aware LoF calls, tumour mutational burden and the covariates of the Firth model.

The tables follow the canonical data model (DESIGN §3):

* ``mutations``: sample_id, gene, variant_classification (MAF vocabulary), [protein_change], [vaf]
* ``cna``: sample_id, gene, copy_state (integer, -2 deep deletion ... +2 amplification)
* ``panels``: panel_id, gene
* ``samples``: sample_id, patient_id, collection_day, assay (DNA/RNA/DNA+RNA), [panel_id], ...

LoF is a truncating variant (:data:`helpers.data.maf.TRUNCATING_CLASSES`) or a deep deletion
(:data:`helpers.data.maf.DEEP_DELETION`). A gene that is not on a sample's panel is *not
assayed* (NaN), never wild type.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from helpers.data.maf import DEEP_DELETION, MAF_VARIANT_CLASSES, NONSYNONYMOUS_CLASSES, TRUNCATING_CLASSES
from helpers.errors import InputError, Violation, check, raise_violations, require_columns

__all__ = ["WHOLE_EXOME_KEY", "lof_matrix", "tmb_per_mb", "lof_event_kinds", "lof_covariates"]

#: Key of ``panel_sizes_mb`` used for DNA samples without a panel (whole-exome sequencing).
WHOLE_EXOME_KEY: str = "whole_exome"

_ASSAYS_WITH_DNA = frozenset({"DNA", "DNA+RNA"})
_ASSAYS = frozenset({"DNA", "RNA", "DNA+RNA"})
_COPY_STATES = (-2, -1, 0, 1, 2)


# --------------------------------------------------------------------------------------------
# checks of the canonical tables
# --------------------------------------------------------------------------------------------


def _sample_violations(samples: pd.DataFrame) -> list[Violation]:
    found: list[Violation] = []
    check(
        found,
        samples,
        samples["sample_id"].isna(),
        table="samples",
        column="sample_id",
        rule="must not be missing",
        show=["assay"],
    )
    check(
        found,
        samples,
        samples["sample_id"].duplicated(keep=False),
        table="samples",
        column="sample_id",
        rule="must be unique",
        show=["assay"],
    )
    check(
        found,
        samples,
        ~samples["assay"].isin(_ASSAYS),
        table="samples",
        column="assay",
        rule=f"must be one of {sorted(_ASSAYS)}",
        show=["sample_id"],
    )
    return found


def _mutation_violations(mutations: pd.DataFrame) -> list[Violation]:
    found: list[Violation] = []
    check(
        found,
        mutations,
        ~mutations["variant_classification"].isin(MAF_VARIANT_CLASSES),
        table="mutations",
        column="variant_classification",
        rule="must be a Variant_Classification of the MAF vocabulary",
        show=["sample_id", "gene"],
    )
    return found


def _cna_violations(cna: pd.DataFrame) -> list[Violation]:
    found: list[Violation] = []
    state = pd.to_numeric(cna["copy_state"], errors="coerce")
    check(
        found,
        cna,
        state.isna() | ~state.isin(_COPY_STATES),
        table="cna",
        column="copy_state",
        rule="must be an integer in -2..2",
        show=["sample_id", "gene"],
    )
    return found


def _unknown_sample_violations(frame: pd.DataFrame, known: pd.Index, table: str) -> list[Violation]:
    found: list[Violation] = []
    check(
        found,
        frame,
        ~frame["sample_id"].isin(known),
        table=table,
        column="sample_id",
        rule="names a sample absent from the samples table",
        show=["gene"],
    )
    return found


def _with_panel_column(samples: pd.DataFrame) -> pd.DataFrame:
    """``samples`` with a ``panel_id`` column (all null when absent: every DNA sample is exome)."""
    out = samples.copy()
    if "panel_id" not in out.columns:
        out["panel_id"] = pd.NA
    return out


def _assayed_matrix(
    samples: pd.DataFrame, panels: pd.DataFrame, genes: list[str], where: str
) -> pd.DataFrame:
    """Boolean samples x genes: True where the sample's assay covers the gene."""
    require_columns(panels, ["panel_id", "gene"], "panels")
    has_dna = samples["assay"].isin(_ASSAYS_WITH_DNA).to_numpy()
    panel_of = samples["panel_id"]
    on_panel = panel_of.notna().to_numpy()
    known_panels = set(panels["panel_id"].dropna().unique())
    unknown: list[Violation] = []
    check(
        unknown,
        samples,
        has_dna & on_panel & ~panel_of.isin(known_panels).to_numpy(),
        table="samples",
        column="panel_id",
        rule=f"a DNA sample names a panel absent from the panels table (panels known: "
        f"{sorted(map(str, known_panels))})",
        show=["sample_id", "assay"],
    )
    raise_violations(unknown, f"{where}: samples and panels do not match")
    membership = pd.crosstab(panels["panel_id"], panels["gene"]).reindex(columns=genes, fill_value=0) > 0
    assayed = np.zeros((len(samples), len(genes)), dtype=bool)
    panel_rows = has_dna & on_panel
    if panel_rows.any():
        assayed[panel_rows] = membership.loc[panel_of[panel_rows].to_numpy()].to_numpy()
    # DNA without a panel: whole-exome, every gene assayed.
    assayed[has_dna & ~on_panel] = True
    return pd.DataFrame(assayed, index=samples["sample_id"].to_numpy(), columns=genes)


# --------------------------------------------------------------------------------------------
# LoF matrix, TMB, kinds of LoF
# --------------------------------------------------------------------------------------------


def lof_matrix(
    mutations: pd.DataFrame,
    cna: pd.DataFrame,
    samples: pd.DataFrame,
    panels: pd.DataFrame,
    genes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Panel-aware LoF carrier matrix.

    Parameters
    ----------
    mutations, cna, samples, panels
        Canonical tables (DESIGN §3). ``cna`` lists altered genes only: a gene on the panel
        without a cna row has copy state 0.
    genes
        Genes (columns) to report, in this order. Default: every gene on any panel or in
        ``mutations``/``cna``, sorted.

    Returns
    -------
    pandas.DataFrame
        Samples (index ``sample_id``, in the order of ``samples``) x genes, float: 1.0 = LoF
        (a :data:`~helpers.data.maf.TRUNCATING_CLASSES` variant or copy_state
        :data:`~helpers.data.maf.DEEP_DELETION`), 0.0 = assayed without LoF, NaN = not assayed
        (gene off the sample's panel, or the sample has no DNA assay). A DNA sample whose
        ``panel_id`` is null is treated as whole-exome: every gene is assayed.

    Raises
    ------
    InputError
        Missing columns, values outside the vocabularies, unknown sample ids or panels,
        repeated genes; every broken rule is listed with example rows.

    Warns
    -----
    UserWarning
        When LoF events are reported for genes a sample did not assay (off-panel calls or calls
        on RNA-only samples); they stay NaN, because the panel, not the caller, defines coverage.
    """
    require_columns(samples, ["sample_id", "assay"], "samples")
    require_columns(mutations, ["sample_id", "gene", "variant_classification"], "mutations")
    require_columns(cna, ["sample_id", "gene", "copy_state"], "cna")
    require_columns(panels, ["panel_id", "gene"], "panels")
    samples = _with_panel_column(samples)
    known = pd.Index(samples["sample_id"])
    raise_violations(
        _sample_violations(samples)
        + _mutation_violations(mutations)
        + _cna_violations(cna)
        + _unknown_sample_violations(mutations, known, "mutations")
        + _unknown_sample_violations(cna, known, "cna"),
        "lof_matrix: the input tables break the canonical rules",
    )

    if genes is None:
        gene_list = sorted(
            set(panels["gene"].dropna()) | set(mutations["gene"].dropna()) | set(cna["gene"].dropna())
        )
    else:
        gene_list = list(genes)
        repeated = sorted({g for g in gene_list if gene_list.count(g) > 1})
        if repeated:
            raise InputError(f"lof_matrix: genes has repeated symbol(s) {repeated}")

    assayed = _assayed_matrix(samples, panels, gene_list, "lof_matrix")

    truncating = mutations.loc[
        mutations["variant_classification"].isin(TRUNCATING_CLASSES), ["sample_id", "gene"]
    ]
    deleted = cna.loc[pd.to_numeric(cna["copy_state"]) == DEEP_DELETION, ["sample_id", "gene"]]
    events = pd.concat([truncating, deleted], ignore_index=True)
    events = events[events["gene"].isin(gene_list)].drop_duplicates()

    result = pd.DataFrame(np.where(assayed.to_numpy(), 0.0, np.nan), index=assayed.index, columns=gene_list)
    if len(events):
        rows = assayed.index.get_indexer(events["sample_id"])
        cols = pd.Index(gene_list).get_indexer(events["gene"])
        covered = assayed.to_numpy()[rows, cols]
        if (~covered).any():
            warnings.warn(
                f"lof_matrix: {int((~covered).sum())} LoF events fall on genes their sample did "
                "not assay (off-panel or no DNA assay); they are left as not assayed (NaN)",
                UserWarning,
                stacklevel=2,
            )
        values = result.to_numpy()
        values[rows[covered], cols[covered]] = 1.0
        result = pd.DataFrame(values, index=assayed.index, columns=gene_list)
    result.index.name = "sample_id"
    result.columns.name = "gene"
    return result


def tmb_per_mb(
    mutations: pd.DataFrame,
    samples: pd.DataFrame,
    panel_sizes_mb: Mapping[str, float],
    panels: pd.DataFrame | None = None,
) -> pd.Series:
    """Tumour mutational burden: nonsynonymous mutations per Mb of the sample's assay.

    Parameters
    ----------
    mutations, samples
        Canonical tables. Mutations in :data:`~helpers.data.maf.NONSYNONYMOUS_CLASSES` are
        counted.
    panel_sizes_mb
        Size in Mb of each panel_id's coding target; DNA samples without a panel (whole-exome)
        use the key :data:`WHOLE_EXOME_KEY`.
    panels
        Optional canonical panels table. When given, only mutations in genes on the sample's
        panel are counted, so numerator and denominator cover the same territory.

    Returns
    -------
    pandas.Series
        Mutations per Mb indexed by sample_id (order of ``samples``); NaN for samples without a
        DNA assay. A DNA sample without mutations has TMB 0.

    Raises
    ------
    InputError
        Unknown sample ids, bad vocabularies, a missing or non-positive panel size.
    """
    require_columns(samples, ["sample_id", "assay"], "samples")
    require_columns(mutations, ["sample_id", "gene", "variant_classification"], "mutations")
    samples = _with_panel_column(samples)
    raise_violations(
        _sample_violations(samples)
        + _mutation_violations(mutations)
        + _unknown_sample_violations(mutations, pd.Index(samples["sample_id"]), "mutations"),
        "tmb_per_mb: the input tables break the canonical rules",
    )
    has_dna = samples["assay"].isin(_ASSAYS_WITH_DNA)
    keys = samples["panel_id"].where(samples["panel_id"].notna(), WHOLE_EXOME_KEY)
    needed = sorted(set(keys[has_dna].astype(str)))
    missing = [k for k in needed if k not in panel_sizes_mb]
    if missing:
        raise InputError(
            f"tmb_per_mb: panel_sizes_mb has no size for {missing} (DNA samples without a panel "
            f"use the key {WHOLE_EXOME_KEY!r})"
        )
    bad_size = [k for k in needed if not float(panel_sizes_mb[k]) > 0]
    if bad_size:
        raise InputError(f"tmb_per_mb: panel_sizes_mb sizes must be positive, got {bad_size}")

    counted = mutations[mutations["variant_classification"].isin(NONSYNONYMOUS_CLASSES)]
    if panels is not None:
        genes = sorted(set(counted["gene"]) | set(panels["gene"]))
        assayed = _assayed_matrix(samples, panels, genes, "tmb_per_mb")
        rows = assayed.index.get_indexer(counted["sample_id"])
        cols = pd.Index(genes).get_indexer(counted["gene"])
        counted = counted[assayed.to_numpy()[rows, cols]]
    counts = counted.groupby("sample_id").size()
    sizes = keys.map(lambda k: float(panel_sizes_mb.get(k, np.nan)))
    tmb = counts.reindex(samples["sample_id"]).fillna(0).to_numpy() / sizes.to_numpy()
    out = pd.Series(np.where(has_dna, tmb, np.nan), index=samples["sample_id"].to_numpy(), name="tmb")
    out.index.name = "sample_id"
    return out


def lof_event_kinds(
    mutations: pd.DataFrame | None, cna: pd.DataFrame | None, genes: Iterable[str] | None = None
) -> pd.DataFrame:
    """What makes each LoF call: a truncating variant, a deep deletion or both.

    Returns
    -------
    pandas.DataFrame
        One row per (sample_id, gene) with a LoF event, column ``kind`` in ``truncating``,
        ``deep deletion``, ``truncating + deep deletion``. Not panel-aware: combine it with
        :func:`lof_matrix`, which decides what was assayed.

    Raises
    ------
    InputError
        Missing columns or values outside the vocabularies.
    """
    parts = []
    if mutations is not None and len(mutations):
        require_columns(mutations, ["sample_id", "gene", "variant_classification"], "mutations")
        raise_violations(_mutation_violations(mutations), "lof_event_kinds: bad mutations table")
        is_truncating = mutations["variant_classification"].isin(TRUNCATING_CLASSES)
        trunc = mutations.loc[is_truncating, ["sample_id", "gene"]]
        parts.append(trunc.drop_duplicates().assign(truncating=True))
    if cna is not None and len(cna):
        require_columns(cna, ["sample_id", "gene", "copy_state"], "cna")
        raise_violations(_cna_violations(cna), "lof_event_kinds: bad cna table")
        deleted = cna.loc[pd.to_numeric(cna["copy_state"]) == DEEP_DELETION, ["sample_id", "gene"]]
        parts.append(deleted.drop_duplicates().assign(deleted=True))
    if not parts:
        return pd.DataFrame(
            {
                "sample_id": pd.Series(dtype=object),
                "gene": pd.Series(dtype=object),
                "kind": pd.Series(dtype=object),
            }
        )
    events = parts[0]
    for part in parts[1:]:
        events = events.merge(part, on=["sample_id", "gene"], how="outer")
    no = pd.Series(False, index=events.index)
    truncating = events["truncating"].notna() if "truncating" in events else no
    deleted = events["deleted"].notna() if "deleted" in events else no
    events["kind"] = np.where(
        truncating & deleted,
        "truncating + deep deletion",
        np.where(truncating, "truncating", "deep deletion"),
    )
    if genes is not None:
        events = events[events["gene"].isin(set(genes))]
    return events[["sample_id", "gene", "kind"]].sort_values(["sample_id", "gene"]).reset_index(drop=True)


def lof_covariates(samples: pd.DataFrame, tmb: pd.Series | None = None) -> pd.DataFrame:
    """Covariates of the Firth model per sample: log2(TMB + 1), purity and MSI (0/1).

    Parameters
    ----------
    samples
        Canonical samples table (sample_id and, where known, tmb, purity, msi).
    tmb
        Optional TMB per sample_id (e.g. from :func:`tmb_per_mb`) used where ``samples.tmb`` is
        missing.

    Returns
    -------
    pandas.DataFrame
        Indexed by sample_id, columns ``log2_tmb``, ``purity``, ``msi``; NaN where unknown. TMB is
        log-transformed because mutation counts are right-skewed and their effect on the chance of
        a LoF call is multiplicative; the +1 keeps a TMB of 0 finite.

    Raises
    ------
    InputError
        Missing sample_id, repeated sample ids, negative TMB, purity outside [0, 1].
    """
    require_columns(samples, ["sample_id"], "samples")
    repeated: list[Violation] = []
    check(
        repeated,
        samples,
        samples["sample_id"].duplicated(keep=False),
        table="samples",
        column="sample_id",
        rule="must be unique",
    )
    raise_violations(repeated, "lof_covariates: bad samples table")
    index = pd.Index(samples["sample_id"], name="sample_id")

    def column(name: str) -> pd.Series:
        if name not in samples.columns:
            return pd.Series(np.nan, index=index)
        values = pd.to_numeric(samples[name].astype(object).where(samples[name].notna()), errors="coerce")
        return pd.Series(values.to_numpy(dtype=float), index=index)

    burden = column("tmb")
    if tmb is not None:
        burden = burden.fillna(tmb.reindex(index).astype(float))
    purity = column("purity")
    shown = pd.DataFrame(
        {"sample_id": samples["sample_id"].to_numpy(), "tmb": burden.to_numpy(), "purity": purity.to_numpy()},
        index=samples.index,
    )
    violations: list[Violation] = []
    check(
        violations,
        shown,
        (burden < 0).to_numpy(),
        table="samples",
        column="tmb",
        rule="must not be negative",
        show=["sample_id"],
    )
    check(
        violations,
        shown,
        ((purity < 0) | (purity > 1)).to_numpy(),
        table="samples",
        column="purity",
        rule="must lie in [0, 1]",
        show=["sample_id"],
    )
    raise_violations(violations, "lof_covariates: bad samples table")
    msi = column("msi")
    return pd.DataFrame({"log2_tmb": np.log2(burden + 1.0), "purity": purity, "msi": msi})
