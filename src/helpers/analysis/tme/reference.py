"""Batch-independent scaling of ssGSEA scores against a fixed TME reference.

Raw ssGSEA scores are scaled against a fixed :class:`TMEReference`: per signature, the median
and 1.4826 x MAD of the raw scores of reference samples, and the gene universe they were
scored on. The shipped reference (``data/reference/``) is made from public pre-treatment
tumours by ``scripts/make_tme_reference.py``; where it does not apply (a cohort that lacks
part of its gene universe), a reference is made once from the cohort's own pre-treatment
samples (:func:`score_tme`). Either way a sample's scaled score depends on that sample and the
fixed reference only, so it does not move with the batch it was scored in.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from helpers.analysis.tme.subtypes import AXES, FIBROTIC_AXIS, IMMUNE_AXIS, assign_subtypes
from helpers.data.genesets import load_signatures
from helpers.errors import InputError, ParameterError, SourceFormatError, require_columns
from helpers.stats.ssgsea import ssgsea

__all__ = [
    "GENE_ALIASES",
    "MIN_UNIVERSE_COVERAGE",
    "REFERENCE_DIR",
    "ReferenceCheck",
    "TMEReference",
    "TMEScores",
    "build_reference",
    "check_reference",
    "harmonise_gene_symbols",
    "load_reference",
    "scale_scores",
    "score_tme",
    "signature_coverage",
    "write_reference",
]

#: A signature is scaled only where at least this share of its genes (and two genes) is
#: in the gene universe the reference was made on.
MIN_SIGNATURE_COVERAGE = 0.5
#: An axis is computed only where at least this share of its signatures is scaled.
MIN_AXIS_SIGNATURES = 0.5
#: The shipped reference applies to a cohort whose genes cover at least this share of the
#: reference's gene universe (see data/reference/README.md for the measurements behind it).
MIN_UNIVERSE_COVERAGE = 0.98
#: MAD to standard deviation under normality.
MAD_TO_SD = 1.482602218505602

REFERENCE_DIR = Path(__file__).resolve().parents[4] / "data" / "reference"
REFERENCE_FILE = REFERENCE_DIR / "tme_reference.tsv"
REFERENCE_UNIVERSE_FILE = REFERENCE_DIR / "tme_reference_universe.txt"


def _genes_sha1(genes: Iterable[str]) -> str:
    """Fingerprint of a gene list (order-free), to detect edited signatures."""
    return hashlib.sha1("\n".join(sorted(set(genes))).encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class TMEReference:
    """Fixed summary statistics that raw ssGSEA scores are scaled against.

    Attributes
    ----------
    name
        Short identifier (e.g. ``"public_rnaseq_pre"`` or ``"within_cohort"``).
    statistics
        One row per feature (index ``feature``): every scaled signature, then the two axes.
        Columns: ``kind`` (``"signature"`` or ``"axis"``), ``centre`` (median of the
        reference samples), ``scale`` (1.4826 x MAD), ``n_samples``, ``n_genes`` (genes of
        the signature in the universe; axes: number of signatures) and ``genes_sha1`` (a
        fingerprint of the signature's full gene list; empty for axes).
    universe
        The genes the reference samples were scored on, in order; a cohort is scored on
        these genes only.
    description
        Where the reference samples came from.
    """

    name: str
    statistics: pd.DataFrame
    universe: tuple[str, ...]
    description: str = ""

    @property
    def signatures(self) -> list[str]:
        """The signatures this reference scales."""
        return list(self.statistics.index[self.statistics["kind"] == "signature"])

    def axis_members(self, axis: str) -> list[str]:
        """The signatures averaged into ``axis`` (``"immune_axis"`` or ``"fibrotic_axis"``)."""
        if axis not in AXES:
            raise KeyError(f"unknown axis {axis!r}; known: {list(AXES)}")
        scaled = set(self.signatures)
        return [name for name in AXES[axis] if name in scaled]


@dataclass(frozen=True)
class ReferenceCheck:
    """Whether a reference applies to a cohort's gene universe, and why.

    Attributes
    ----------
    applies
        True when the universe coverage reaches the minimum and every gene of the axis
        signatures that is in the reference universe is in the cohort.
    universe_coverage
        Share of the reference universe found among the cohort's genes.
    n_universe, n_present
        Size of the reference universe and how many of its genes the cohort has.
    missing_axis_genes
        Genes of the axis signatures that the reference used and the cohort lacks.
    reason
        One sentence for the chapter.
    """

    applies: bool
    universe_coverage: float
    n_universe: int
    n_present: int
    missing_axis_genes: tuple[str, ...]
    reason: str


def check_reference(
    genes: Iterable[str],
    reference: TMEReference,
    min_universe_coverage: float = MIN_UNIVERSE_COVERAGE,
) -> ReferenceCheck:
    """Does ``reference`` apply to a cohort with these genes?

    Raw ssGSEA scores depend on the gene universe a sample is ranked in, so the reference
    applies only to cohorts that contain (nearly) all of its universe; the scores are then
    computed on the reference universe, and a few missing genes are allowed for (see
    :func:`scale_scores`).

    Parameters
    ----------
    genes
        The cohort's gene symbols (after alias mapping, see :func:`harmonise_gene_symbols`).
    reference
        The reference.
    min_universe_coverage
        Minimum share of the reference universe the cohort must have.

    Returns
    -------
    ReferenceCheck
    """
    if not 0 < min_universe_coverage <= 1:
        raise ParameterError(f"min_universe_coverage must be in (0, 1], got {min_universe_coverage!r}")
    present = set(map(str, genes))
    universe = reference.universe
    n_present = sum(gene in present for gene in universe)
    coverage = n_present / len(universe)
    library = load_signatures(reference.signatures)
    in_universe = set(universe)
    axis_genes = {
        g for axis in AXES for name in reference.axis_members(axis) for g in library[name] if g in in_universe
    }
    missing_axis = tuple(sorted(axis_genes - present))
    if coverage < min_universe_coverage:
        reason = (
            f"the cohort has {n_present:,} of the {len(universe):,} genes the reference "
            f"{reference.name!r} was scored on ({coverage:.1%}; at least "
            f"{min_universe_coverage:.0%} needed)"
        )
    elif missing_axis:
        reason = (
            f"the cohort lacks {len(missing_axis)} gene(s) of the subtype-axis signatures "
            f"({', '.join(missing_axis[:8])}{', ...' if len(missing_axis) > 8 else ''})"
        )
    else:
        reason = (
            f"the cohort has {n_present:,} of the {len(universe):,} genes of the reference "
            f"{reference.name!r} ({coverage:.1%}) and every subtype-axis gene"
        )
    return ReferenceCheck(
        applies=coverage >= min_universe_coverage and not missing_axis,
        universe_coverage=coverage,
        n_universe=len(universe),
        n_present=n_present,
        missing_axis_genes=missing_axis,
        reason=reason,
    )


def _signature_subset(reference_genes: Iterable[str], gene_sets: Mapping[str, list[str]]) -> list[str]:
    """Signatures with enough of their genes in a universe to be scaled."""
    universe = set(reference_genes)
    usable = []
    for name, genes in gene_sets.items():
        n_in = sum(g in universe for g in set(genes))
        if n_in >= 2 and n_in >= MIN_SIGNATURE_COVERAGE * len(set(genes)):
            usable.append(name)
    return usable


def build_reference(
    expression: pd.DataFrame,
    *,
    name: str,
    description: str = "",
    universe: Iterable[str] | None = None,
    gene_sets: Mapping[str, list[str]] | None = None,
) -> TMEReference:
    """Summary statistics of raw ssGSEA scores of reference samples.

    Parameters
    ----------
    expression
        Genes x reference samples (e.g. pre-treatment tumours), already harmonised.
    name, description
        Identifier and provenance of the reference.
    universe
        Genes to score on (all must be in ``expression``); default: every gene of
        ``expression``.
    gene_sets
        Signatures (default: the shipped library). Only signatures with at least half of
        their genes (and two) in the universe are kept.

    Returns
    -------
    TMEReference
        Per signature and axis: median and 1.4826 x MAD over the reference samples.

    Raises
    ------
    helpers.errors.InputError
        Universe genes missing from ``expression``, fewer than 10 samples, a signature
        whose scores do not vary (MAD 0), or an axis with too few signatures.
    """
    library = dict(gene_sets) if gene_sets is not None else load_signatures()
    genes = list(map(str, universe)) if universe is not None else list(map(str, expression.index))
    absent = [g for g in genes if g not in expression.index]
    if absent:
        raise InputError(f"{len(absent)} universe gene(s) are not in the expression table, e.g. {absent[:5]}")
    if len(pd.Index(genes)) != len(set(genes)):
        raise InputError("the universe lists a gene more than once")
    if expression.shape[1] < 10:
        raise InputError(f"a reference needs at least 10 samples, got {expression.shape[1]}")
    usable = _signature_subset(genes, library)
    raw = ssgsea(expression.loc[genes], {n: library[n] for n in usable})
    centre = raw.median(axis=1)
    scale = raw.sub(centre, axis=0).abs().median(axis=1) * MAD_TO_SD
    flat = list(scale.index[~(scale > 0)])
    if flat:
        raise InputError(f"signature score(s) without spread in the reference samples: {flat}")
    stats = pd.DataFrame(
        {
            "kind": "signature",
            "centre": centre,
            "scale": scale,
            "n_samples": raw.shape[1],
            "n_genes": [sum(g in set(genes) for g in set(library[n])) for n in raw.index],
            "genes_sha1": [_genes_sha1(library[n]) for n in raw.index],
        }
    )
    scaled = raw.sub(centre, axis=0).div(scale, axis=0)
    rows = []
    for axis, members in AXES.items():
        present = [m for m in members if m in scaled.index]
        if len(present) < MIN_AXIS_SIGNATURES * len(members):
            raise InputError(
                f"{axis}: only {len(present)} of its {len(members)} signatures "
                "have enough genes in the universe"
            )
        values = scaled.loc[present].mean(axis=0)
        axis_centre = float(values.median())
        axis_scale = float((values - axis_centre).abs().median() * MAD_TO_SD)
        rows.append(
            {
                "feature": axis,
                "kind": "axis",
                "centre": axis_centre,
                "scale": axis_scale,
                "n_samples": raw.shape[1],
                "n_genes": len(present),
                "genes_sha1": "",
            }
        )
    stats = pd.concat([stats, pd.DataFrame(rows).set_index("feature")])
    stats.index.name = "feature"
    return TMEReference(name=name, statistics=stats, universe=tuple(genes), description=description)


def write_reference(
    reference: TMEReference, directory: str | os.PathLike[str] = REFERENCE_DIR
) -> tuple[Path, Path]:
    """Write ``tme_reference.tsv`` and ``tme_reference_universe.txt`` into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    table_path = directory / REFERENCE_FILE.name
    universe_path = directory / REFERENCE_UNIVERSE_FILE.name
    header = [
        f"# TME reference {reference.name}: {reference.description}",
        "# Made by scripts/make_tme_reference.py; see data/reference/README.md.",
        f"# universe: {universe_path.name}, {len(reference.universe)} genes, "
        f"sha1 {_universe_sha1(reference.universe)}",
    ]
    table = reference.statistics.reset_index()
    table.insert(0, "reference", reference.name)
    body = table.to_csv(sep="\t", index=False, float_format="%.17g", lineterminator="\n")
    table_path.write_text("\n".join(header) + "\n" + body, encoding="utf-8")
    universe_path.write_text("\n".join(reference.universe) + "\n", encoding="utf-8")
    return table_path, universe_path


def _universe_sha1(universe: Iterable[str]) -> str:
    return hashlib.sha1("\n".join(universe).encode("utf-8")).hexdigest()[:12]


def load_reference(path: str | os.PathLike[str] = REFERENCE_FILE) -> TMEReference:
    """Read a reference written by :func:`write_reference` (default: the shipped one).

    Raises
    ------
    FileNotFoundError
        If the table or its universe file is missing.
    helpers.errors.SourceFormatError
        If the file is malformed or the universe does not match its fingerprint.
    helpers.errors.InputError
        If a signature's genes differ from the shipped library (the reference is stale:
        rerun ``scripts/make_tme_reference.py``).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"TME reference not found: {path}")
    lines = path.read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if line.startswith("#")]
    universe_line = next((line for line in header if line.startswith("# universe:")), None)
    if universe_line is None:
        raise SourceFormatError(f"{path}: no '# universe:' header line")
    try:
        universe_name = universe_line.split(":", 1)[1].split(",")[0].strip()
        expected_sha = universe_line.rsplit("sha1", 1)[1].strip()
    except IndexError:
        raise SourceFormatError(f"{path}: malformed universe line {universe_line!r}") from None
    universe_path = path.parent / universe_name
    if not universe_path.is_file():
        raise FileNotFoundError(f"universe file of {path.name} not found: {universe_path}")
    universe = tuple(g for g in universe_path.read_text(encoding="utf-8").splitlines() if g)
    if _universe_sha1(universe) != expected_sha:
        raise SourceFormatError(f"{universe_path}: gene list does not match the fingerprint in {path.name}")
    table = pd.read_csv(
        path,
        sep="\t",
        comment="#",
        keep_default_na=False,
        float_precision="round_trip",
        dtype={"genes_sha1": str},
    )
    needed = ["reference", "feature", "kind", "centre", "scale", "n_samples", "n_genes", "genes_sha1"]
    require_columns(table, needed, table=str(path), error=SourceFormatError)
    names = table["reference"].unique()
    if len(names) != 1:
        raise SourceFormatError(f"{path}: expected one reference, found {list(names)}")
    stats = table.drop(columns="reference").set_index("feature")
    stats["centre"] = stats["centre"].astype(float)
    stats["scale"] = stats["scale"].astype(float)
    description = header[0].split(":", 1)[1].strip() if header and ":" in header[0] else ""
    reference = TMEReference(name=str(names[0]), statistics=stats, universe=universe, description=description)
    library = load_signatures()
    stale = [
        n
        for n in reference.signatures
        if n not in library or _genes_sha1(library[n]) != stats.at[n, "genes_sha1"]
    ]
    if stale:
        raise InputError(
            f"{path}: signature(s) {stale} differ from data/signatures; rerun scripts/make_tme_reference.py"
        )
    return reference


def scale_scores(
    expression: pd.DataFrame,
    reference: TMEReference,
    *,
    chunk_size: int = 16,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Raw and reference-scaled ssGSEA scores of the reference's signatures.

    Each sample is scored on the reference universe (the cohort's genes outside it are
    ignored). Raw ssGSEA scores grow in proportion to the number of genes ranked, so where
    some universe genes are missing the raw score is multiplied by
    ``len(universe) / n_present`` before scaling; :func:`check_reference` decides whether
    the cohort is close enough to the universe for this to hold. A signature whose
    universe genes are not all present gets no scaled score (NaN), since its score would
    not be comparable with the reference's.

    The result for a sample depends on that sample and the (fixed) reference only.

    Parameters
    ----------
    expression
        Genes x samples.
    reference
        The reference (:func:`load_reference`, :func:`build_reference`).
    chunk_size
        As :func:`helpers.stats.ssgsea.ssgsea`.

    Returns
    -------
    raw, scaled : pandas.DataFrame
        Signatures x samples: raw ssGSEA scores on the reference universe (size-adjusted
        as above) and ``(raw - centre) / scale``.

    Raises
    ------
    helpers.errors.InputError
        If fewer than two genes of the reference universe are in ``expression``.
    """
    library = load_signatures(reference.signatures)
    genes = [g for g in reference.universe if g in expression.index]
    if len(genes) < 2:
        raise InputError(
            f"the expression table has {len(genes)} gene(s) of the reference universe {reference.name!r}"
        )
    present = set(genes)
    in_universe = set(reference.universe)
    scorable = {n: library[n] for n in reference.signatures if any(g in present for g in library[n])}
    raw = ssgsea(expression.loc[genes], scorable, chunk_size=chunk_size)
    raw = raw * (len(reference.universe) / len(genes))
    raw = raw.reindex(reference.signatures)
    complete = [n for n in reference.signatures if all(g in present for g in library[n] if g in in_universe)]
    stats = reference.statistics.loc[reference.signatures]
    scaled = raw.sub(stats["centre"], axis=0).div(stats["scale"], axis=0)
    scaled.loc[~scaled.index.isin(complete)] = np.nan
    raw.index.name = scaled.index.name = "gene_set"
    return raw, scaled


# ----------------------------------------------------------------------------- scoring a cohort

#: Old symbols used by some public cohorts → the current HGNC symbols of the shipped
#: signatures (see data/signatures/README.md).
GENE_ALIASES = {
    "IL8": "CXCL8",
    "CTGF": "CCN2",
    "FAM101B": "RFLNB",
    "C10orf54": "VSIR",
    "ATP5A1": "ATP5F1A",
    "ATP5B": "ATP5F1B",
    "ATP5C1": "ATP5F1C",
    "ATP5O": "ATP5PO",
    "ATP5G1": "ATP5MC1",
    "ERO1L": "ERO1A",
}


def harmonise_gene_symbols(
    expression: pd.DataFrame, aliases: Mapping[str, str] = GENE_ALIASES
) -> pd.DataFrame:
    """Rename old gene symbols to current ones.

    A row is renamed only where its new symbol is not already a row (the row already under
    the current symbol is kept and the alias row dropped), so no duplicate is created.

    Parameters
    ----------
    expression
        Genes x samples.
    aliases
        ``{old symbol: current symbol}``.

    Returns
    -------
    pandas.DataFrame
        A renamed copy (row order kept).
    """
    index = pd.Index(map(str, expression.index))
    existing = set(index)
    renamed = [aliases[g] if g in aliases and aliases[g] not in existing else g for g in index]
    drop = np.array([g in aliases and aliases[g] in existing for g in index])
    out = expression.copy()
    out.index = pd.Index(renamed, name=expression.index.name)
    return out.loc[~drop]


def signature_coverage(
    genes: Iterable[str],
    gene_sets: Mapping[str, list[str]] | None = None,
) -> pd.DataFrame:
    """Genes present and missing per signature for a cohort's gene universe.

    Parameters
    ----------
    genes
        The cohort's genes.
    gene_sets
        Signatures (default: the shipped library).

    Returns
    -------
    pandas.DataFrame
        One row per signature (index ``signature``): ``genes``, ``present``,
        ``share_present``, ``missing`` (comma-separated, empty when none) and ``axis``
        (``immune``, ``fibrotic`` or empty).
    """
    library = dict(gene_sets) if gene_sets is not None else load_signatures()
    present = set(map(str, genes))
    rows = []
    for name, members in library.items():
        unique = list(dict.fromkeys(members))
        missing = [g for g in unique if g not in present]
        axis = "immune" if name in IMMUNE_AXIS else "fibrotic" if name in FIBROTIC_AXIS else ""
        rows.append(
            {
                "signature": name,
                "genes": len(unique),
                "present": len(unique) - len(missing),
                "share_present": (len(unique) - len(missing)) / len(unique),
                "missing": ", ".join(missing),
                "axis": axis,
            }
        )
    return pd.DataFrame(rows).set_index("signature")


@dataclass(frozen=True)
class TMEScores:
    """Scores and subtypes of a cohort's RNA samples.

    Attributes
    ----------
    raw
        Raw ssGSEA scores (signatures x samples) on the gene universe used for scaling.
    scaled
        Reference-scaled scores (same shape; NaN where a signature could not be scaled).
    subtypes
        Per sample: ``immune_axis``, ``fibrotic_axis``, ``subtype``.
    reference
        The reference used (the shipped one, or one made from this cohort).
    mode
        ``"shipped reference"`` or ``"within-cohort"``.
    check
        How the shipped reference compared with the cohort's genes.
    coverage
        :func:`signature_coverage` of the cohort.
    """

    raw: pd.DataFrame
    scaled: pd.DataFrame
    subtypes: pd.DataFrame
    reference: TMEReference
    mode: str
    check: ReferenceCheck
    coverage: pd.DataFrame

    def available(self, names: Iterable[str]) -> list[str]:
        """The signatures of ``names`` that have scaled scores (in the given order)."""
        return [n for n in names if n in self.scaled.index and self.scaled.loc[n].notna().any()]


def score_tme(
    expression: pd.DataFrame,
    *,
    reference: Literal["auto", "shipped", "within_cohort"] | TMEReference = "auto",
    calibration_samples: Iterable[str] | None = None,
    min_universe_coverage: float = MIN_UNIVERSE_COVERAGE,
) -> TMEScores:
    """Score every RNA sample, scale against a fixed reference and call TME subtypes.

    Parameters
    ----------
    expression
        Genes x samples, log2(TPM + 1) or similar; old symbols are mapped with
        :func:`harmonise_gene_symbols` first.
    reference
        ``"auto"`` (default): the shipped public reference where :func:`check_reference`
        says it applies, else a within-cohort reference. ``"shipped"``: the shipped
        reference, an error if it does not apply. ``"within_cohort"``: a reference made
        from this cohort's ``calibration_samples`` on the cohort's own genes. Or a
        :class:`TMEReference`.
    calibration_samples
        The samples a within-cohort reference is made from (e.g. the pre-treatment tumours;
        default: all samples). They are summarised once; every sample, these included, is
        then scaled against that fixed summary.
    min_universe_coverage
        See :func:`check_reference`.

    Returns
    -------
    TMEScores

    Raises
    ------
    helpers.errors.InputError
        ``reference="shipped"`` where the shipped reference does not apply, calibration
        samples that are not in ``expression``, or any error of :func:`build_reference`.
    helpers.errors.ParameterError
        An unknown ``reference``.
    """
    expression = harmonise_gene_symbols(expression)
    shipped = load_reference()
    check = check_reference(expression.index, shipped, min_universe_coverage)
    if isinstance(reference, TMEReference):
        chosen, mode = (
            reference,
            ("shipped reference" if reference.name == shipped.name else f"reference {reference.name!r}"),
        )
    elif reference == "shipped" or (reference == "auto" and check.applies):
        if not check.applies:
            raise InputError(f"the shipped TME reference does not apply: {check.reason}")
        chosen, mode = shipped, "shipped reference"
    elif reference in ("auto", "within_cohort"):
        calibration = list(expression.columns) if calibration_samples is None else list(calibration_samples)
        unknown = [s for s in calibration if s not in expression.columns]
        if unknown:
            raise InputError(f"calibration sample(s) not in the expression table: {unknown[:5]}")
        chosen = build_reference(
            expression[calibration],
            name="within_cohort",
            description=f"{len(calibration)} samples of the cohort itself, on its "
            f"{expression.shape[0]:,} genes",
        )
        mode = "within-cohort"
    else:
        raise ParameterError(
            f"reference must be 'auto', 'shipped', 'within_cohort' or a TMEReference, got {reference!r}"
        )
    raw, scaled = scale_scores(expression, chosen)
    subtypes = assign_subtypes(scaled, chosen)
    return TMEScores(
        raw=raw,
        scaled=scaled,
        subtypes=subtypes,
        reference=chosen,
        mode=mode,
        check=check,
        coverage=signature_coverage(expression.index),
    )
