"""Tumour-microenvironment (TME) signature scoring.

Gene signatures ship as GMT files in ``data/signatures/`` (see its README for citations).
Scores are single-sample GSEA (ssGSEA; Barbie et al., Nature 2009) computed exactly as
R's GSVA 1.46 does with ``gsva(expr, sets, method="ssgsea", tau=0.25, ssgsea.norm=...)``:

* within each sample, genes are ranked with ``as.integer(rank(x))`` (average ranks for
  ties, then truncated), so a gene's rank ``R`` is at least 1;
* genes are walked in decreasing order of ``R``; tied genes keep their input order;
* the enrichment score of a set with ``k`` member genes, at 1-based walk positions ``P_i``,
  with weights ``w_i = R_i ** tau``, among ``n`` genes, is the sum over the walk of the
  running difference "weighted fraction of set genes seen" minus "fraction of other genes
  seen", which has the closed form::

      ES = sum_i w_i * (n - P_i + 1) / sum_i w_i
           - (n * (n + 1) / 2 - sum_i (n - P_i + 1)) / (n - k)

  so only the set's own members are visited: no genes x samples running sum is built;
* ``ssgsea.norm=TRUE`` divides every score by the range of all scores of the run.

Raw scores of a sample depend on that sample alone; the normalised ones do not, which is
why ``normalize`` exists for conformance checks only.

Edge cases, decided as GSVA does where it decides: set genes absent from the data are
ignored; a set left with no gene (GSVA's default ``min.sz=1``) is dropped — GSVA drops it
silently, here with an :class:`EmptyGeneSetWarning` — and no set left at all is an error;
NaN is an error (every gene must be ranked in every sample); duplicated gene rows are an
error unless ``duplicate_genes="first"``.

The module also holds what the TME chapter builds on these scores:

* scoring past one machine: :func:`ssgsea_dask` (or ``ssgsea(..., client=...)``) scores
  sample chunks on a Dask cluster, from a DataFrame, a generator of chunks or a
  :class:`ChunkLoader` that makes chunks on the workers, with identical results;
* batch-independent scaling: raw scores are scaled against a fixed :class:`TMEReference`
  (the shipped one, ``data/reference/``, made from public pre-treatment tumours by
  ``scripts/make_tme_reference.py``; or one made once from a cohort's own pre-treatment
  samples where the shipped one does not apply), see :func:`score_tme`;
* the four TME subtypes of Bagaev et al. 2021 from two axes (:func:`assign_subtypes`);
* the chapter's analyses (:func:`score_cohort`, :func:`compare_classes`,
  :func:`paired_samples`, :func:`transition_summary`, :func:`scores_over_time`,
  :func:`lof_carrier_effects`) and the real-data checks on the public cohorts
  (:func:`immune_phenotype_trend`, :func:`immune_subtypes_by_phenotype`,
  :func:`response_association`, :func:`jonckheere_terpstra`).
"""
from __future__ import annotations

import gzip
import hashlib
import os
import warnings
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Literal, Union

import numpy as np
import pandas as pd

from helpers.data.genesets import SIGNATURE_DIR, GMTFormatError, load_signatures, read_gmt  # noqa: F401
from helpers.stats.multiple import benjamini_hochberg

if TYPE_CHECKING:  # pragma: no cover
    import distributed

    from helpers.data.cohort import Cohort

__all__ = [
    "DATA_DIR",
    "SIGNATURE_DIR",
    "GMTFormatError",
    "EmptyGeneSetWarning",
    "read_gmt",
    "load_signatures",
    "ssgsea",
    # Dask
    "ChunkLoader",
    "ssgsea_dask",
    # reference scaling and subtypes
    "SUBTYPES",
    "SUBTYPE_NAMES",
    "IMMUNE_AXIS",
    "FIBROTIC_AXIS",
    "AXES",
    "MIN_UNIVERSE_COVERAGE",
    "TMEReferenceError",
    "TMEReference",
    "ReferenceCheck",
    "check_reference",
    "build_reference",
    "write_reference",
    "load_reference",
    "scale_scores",
    "assign_subtypes",
    "GENE_ALIASES",
    "harmonise_gene_symbols",
    "signature_coverage",
    "TMEScores",
    "score_tme",
    # public cohorts
    "PUBLIC_RNA_COHORTS",
    "REFERENCE_COHORTS",
    "read_public_expression",
    "public_rna_samples",
    "build_public_reference",
    "PublicCohortTME",
    "score_public_cohort",
    "TrendTest",
    "jonckheere_terpstra",
    "immune_phenotype_trend",
    "immune_subtypes_by_phenotype",
    "response_association",
    # chapter analyses
    "ICB_SIGNATURES",
    "TIME_SIGNATURES",
    "CohortTME",
    "score_cohort",
    "tme_sample_table",
    "one_sample_per_patient",
    "compare_classes",
    "subtype_counts",
    "subtype_share_test",
    "paired_samples",
    "transition_counts",
    "transition_summary",
    "scores_over_time",
    "lof_carrier_effects",
    "subtype_agreement",
]

DATA_DIR = Path(__file__).resolve().parents[3] / "data"

GeneSets = Union[Mapping[str, Iterable[str]], str, "os.PathLike[str]"]


class EmptyGeneSetWarning(UserWarning):
    """A gene set was dropped from scoring because too few of its genes are in the data."""


# ----------------------------------------------------------------------------- ssGSEA


def ssgsea(
    expression: pd.DataFrame,
    gene_sets: GeneSets,
    tau: float = 0.25,
    normalize: bool = False,
    *,
    chunk_size: int = 16,
    duplicate_genes: Literal["error", "first"] = "error",
    min_size: int = 1,
    max_size: int | None = None,
    client: "distributed.Client | None" = None,
    scheduler: str | None = None,
    samples_per_task: int = 1000,
) -> pd.DataFrame:
    """Single-sample GSEA scores, identical to GSVA 1.46 ``method="ssgsea"``.

    Parameters
    ----------
    expression
        Genes x samples, numeric (e.g. log2(TPM+1)); gene symbols as the index. Must not
        contain NaN.
    gene_sets
        ``{set name: genes}`` or the path of a GMT file. Genes absent from ``expression``
        are ignored, a gene repeated within a set counts once.
    tau
        Weight exponent of the ranks (GSVA's ``tau``; 0.25 as in Barbie et al. 2009).
    normalize
        Divide all scores by their range over the whole result (GSVA's
        ``ssgsea.norm=TRUE``). This makes every score depend on the other samples and
        sets of the run; it exists for conformance with GSVA only.
    chunk_size
        Samples scored at once; bounds the working memory (roughly
        ``50 * chunk_size * n_genes`` bytes, 16 MB for 16 samples x 20,000 genes). Results
        do not depend on it.
    duplicate_genes
        ``"error"`` (default) rejects duplicated gene labels; ``"first"`` keeps the first
        row of each label, as the GSVA conformance reference did. (GSVA itself would rank
        the duplicate rows too but match set genes to the first one.)
    min_size, max_size
        Sets with fewer than ``min_size`` or more than ``max_size`` genes present in the
        data are dropped, as GSVA's ``min.sz`` (default 1) and ``max.sz`` (default Inf).
        A dropped set gives an :class:`EmptyGeneSetWarning`, not a row.
    client, scheduler, samples_per_task
        Score on a Dask cluster instead of in this process: an existing
        ``distributed.Client``, or a scheduler address (``"tcp://host:8786"``), or
        ``scheduler="local"`` for a :class:`distributed.LocalCluster` started for the call.
        The samples are sent in tasks of ``samples_per_task`` samples; see
        :func:`ssgsea_dask`. Results are identical to the in-memory path.

    Returns
    -------
    pandas.DataFrame
        Gene sets x samples (index name ``"gene_set"``), sets in input order.

    Raises
    ------
    TypeError
        If ``expression`` is not a DataFrame or has non-numeric columns.
    ValueError
        On NaN values (the message names them), fewer than two genes, no sample,
        duplicated gene labels with ``duplicate_genes="error"``, a bad ``tau``,
        ``chunk_size`` or size bound, a set covering every gene (its score is undefined),
        no set left after filtering, or normalisation of scores that are all equal.
    """
    if client is not None or scheduler is not None:
        return ssgsea_dask(
            expression, gene_sets, tau, normalize, client=client, scheduler=scheduler,
            samples_per_task=samples_per_task, chunk_size=chunk_size,
            duplicate_genes=duplicate_genes, min_size=min_size, max_size=max_size,
        )
    if not np.isfinite(tau) or tau < 0:
        raise ValueError(f"tau must be a finite number >= 0, got {tau!r}")
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    if min_size < 1:
        raise ValueError(f"min_size must be >= 1, got {min_size!r}")
    if max_size is not None and max_size < min_size:
        raise ValueError(f"max_size ({max_size}) is smaller than min_size ({min_size})")

    values, genes, samples = _expression_matrix(expression, duplicate_genes)
    n_genes = len(genes)
    names, members = _map_gene_sets(_as_gene_set_mapping(gene_sets), genes, min_size, max_size)

    # Only the union of set genes is ever looked up after ranking; the members of all sets,
    # concatenated, index into that union, and each set is one segment of the concatenation.
    union = np.unique(np.concatenate(members))
    concatenated = np.searchsorted(union, np.concatenate(members))
    set_sizes = np.array([len(idx) for idx in members], dtype=np.int64)
    segment_starts = np.concatenate(([0], np.cumsum(set_sizes)[:-1]))
    weight_of_rank = np.arange(n_genes + 1, dtype=np.float64) ** tau
    triangle = n_genes * (n_genes + 1) / 2.0
    n_outside = (n_genes - set_sizes).astype(np.float64)

    scores = np.empty((len(names), len(samples)), dtype=np.float64)
    for start in range(0, len(samples), chunk_size):
        stop = min(start + chunk_size, len(samples))
        walk, rank = _walk_positions_and_ranks(values[:, start:stop].T, union)
        walk = walk[:, concatenated]
        weight = weight_of_rank[rank[:, concatenated]]
        # reduceat sums each row on its own, so a sample's score never depends on its chunk.
        sum_weight = np.add.reduceat(weight, segment_starts, axis=1)
        sum_weighted_walk = np.add.reduceat(weight * walk, segment_starts, axis=1)
        sum_walk = np.add.reduceat(walk, segment_starts, axis=1)
        in_set = sum_weighted_walk / sum_weight
        out_set = (triangle - sum_walk) / n_outside
        scores[:, start:stop] = (in_set - out_set).T

    if normalize:
        spread = float(scores.max() - scores.min())
        if not spread > 0:
            raise ValueError("cannot normalise: all ssGSEA scores are equal (range 0)")
        scores = scores / spread
    return pd.DataFrame(scores, index=pd.Index(names, name="gene_set"), columns=samples)


def _expression_matrix(
    expression: pd.DataFrame, duplicate_genes: str
) -> tuple[np.ndarray, pd.Index, pd.Index]:
    """Validate the expression table and return (genes x samples float64 array, genes, samples)."""
    if not isinstance(expression, pd.DataFrame):
        raise TypeError(
            "expression must be a pandas DataFrame (genes x samples), "
            f"got {type(expression).__name__}"
        )
    if duplicate_genes not in ("error", "first"):
        raise ValueError(f"duplicate_genes must be 'error' or 'first', got {duplicate_genes!r}")
    bad_columns = [
        col
        for col, dtype in expression.dtypes.items()
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
    ]
    if bad_columns:
        raise TypeError(f"expression has non-numeric sample column(s): {bad_columns[:5]}")
    if expression.shape[1] == 0:
        raise ValueError("expression has no sample column")
    if expression.index.hasnans:
        raise ValueError("expression has missing gene labels in its index")
    duplicated = expression.index.duplicated(keep="first")
    if duplicated.any():
        if duplicate_genes == "error":
            examples = list(dict.fromkeys(expression.index[duplicated]))[:5]
            raise ValueError(
                f"expression has {int(duplicated.sum())} duplicated gene row(s), e.g. {examples}; "
                "aggregate them first or pass duplicate_genes='first' to keep the first row of each"
            )
        expression = expression.loc[~duplicated]
    if expression.shape[0] < 2:
        raise ValueError(f"expression needs at least two genes, got {expression.shape[0]}")
    # Nullable (extension) columns: pd.NA becomes NaN, then caught below.
    extension = any(isinstance(dtype, pd.api.extensions.ExtensionDtype) for dtype in expression.dtypes)
    na_value = {"na_value": np.nan} if extension else {}
    values = expression.to_numpy(dtype=np.float64, copy=False, **na_value)
    # Checked column block by column block: no genes x samples temporary.
    step = max(1, 2**22 // max(1, values.shape[0]))
    for start in range(0, values.shape[1], step):
        if np.isnan(values[:, start : start + step]).any():
            _raise_on_nan(expression, values)
    return values, expression.index, expression.columns


def _raise_on_nan(expression: pd.DataFrame, values: np.ndarray) -> None:
    missing = np.isnan(values)
    gene_idx, sample_idx = np.nonzero(missing)
    examples = [
        f"{expression.index[g]}/{expression.columns[s]}"
        for g, s in zip(gene_idx[:5], sample_idx[:5])
    ]
    raise ValueError(
        f"expression has {int(missing.sum())} NaN value(s) (gene/sample: {', '.join(examples)}"
        f"{', ...' if len(gene_idx) > 5 else ''}); ssGSEA ranks every gene of a sample, so "
        "impute or drop them first"
    )


def _as_gene_set_mapping(gene_sets: GeneSets) -> Mapping[str, Iterable[str]]:
    if isinstance(gene_sets, (str, os.PathLike)):
        return read_gmt(gene_sets)
    if not isinstance(gene_sets, Mapping):
        raise TypeError(
            "gene_sets must be a mapping of name -> genes or a GMT path, "
            f"got {type(gene_sets).__name__}"
        )
    if not gene_sets:
        raise ValueError("gene_sets is empty")
    return gene_sets


def _map_gene_sets(
    gene_sets: Mapping[str, Iterable[str]],
    genes: pd.Index,
    min_size: int,
    max_size: int | None,
) -> tuple[list[str], list[np.ndarray]]:
    """Row indices of each set's genes present in the data; drop sets outside the size bounds."""
    names: list[str] = []
    members: list[np.ndarray] = []
    dropped: list[str] = []
    for name, set_genes in gene_sets.items():
        if isinstance(set_genes, str):
            raise TypeError(
                f"gene set {name!r} must be a list of genes, not the string {set_genes!r}"
            )
        unique_genes = list(dict.fromkeys(set_genes))  # a repeated gene counts once
        positions = genes.get_indexer(unique_genes)
        positions = positions[positions >= 0]
        size = len(positions)
        if size < min_size or (max_size is not None and size > max_size):
            dropped.append(f"{name} ({size} of {len(unique_genes)} genes present)")
            continue
        if size == len(genes):
            raise ValueError(
                f"gene set {name!r} contains every gene of the data; its ssGSEA score is undefined"
            )
        names.append(str(name))
        members.append(positions.astype(np.intp))
    if dropped:
        bounds = f"[{min_size}, {'inf' if max_size is None else max_size}]"
        warnings.warn(
            f"gene set(s) dropped, number of genes present outside {bounds}: {'; '.join(dropped)}",
            EmptyGeneSetWarning,
            stacklevel=3,
        )
    if not names:
        raise ValueError("no gene set left to score: none has enough genes present in the data")
    return names, members


_SIGN_BIT = np.uint64(1 << 63)
_SIGN_BIT_SIGNED = np.int64(-(1 << 63))


def _order_keys(block: np.ndarray) -> np.ndarray:
    """uint64 keys that sort like the float64 values (no NaN), with -0.0 equal to +0.0.

    Returned C-contiguous whatever the layout of ``block``; a new array.
    """
    bits = np.add(block, 0.0, order="C").view(np.uint64)  # x + 0.0 turns -0.0 into +0.0
    # Non-negative floats: set the sign bit; negative floats: flip every bit. The arithmetic
    # shift of the signed view gives all ones for negative values and 0 otherwise; done in
    # place, three passes and one temporary.
    flip = bits.view(np.int64) >> 63
    flip |= _SIGN_BIT_SIGNED
    bits ^= flip.view(np.uint64)
    return bits


def _walk_positions_and_ranks(
    block: np.ndarray, wanted: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For the genes ``wanted`` (sorted column indices) of each row of ``block`` (samples x
    genes): ``n - P + 1`` (P = 1-based position in GSVA's decreasing walk) and the truncated
    rank R, both as (rows x len(wanted)) int64 arrays.

    With ascending 0-based positions: a tie group spanning positions ``a..b`` has average
    rank ``(a + b) / 2 + 1``, truncated by ``as.integer``; in the decreasing walk its
    members come in input order, so the member at stable ascending position ``p`` has
    ``n - P + 1 = a + b + 1 - p``. A gene tied with no other has ``a = b = p`` and both
    numbers reduce to ``p + 1``.

    Sorting: each value becomes an order-preserving 64-bit key whose low ``shift`` bits are
    replaced by the gene's column index, and the packed keys are sorted (a plain SIMD sort,
    about three times faster than ``argsort``). Genes then come out ordered by value and,
    among equal values, by input order, which is the stable order GSVA walks. Only genes
    whose keys agree above the low ``shift`` bits but differ below them (values within a
    relative ~1e-11 of each other for 20,000 genes) can come out of order; they are found
    and re-sorted.
    """
    n_rows, n_genes = block.shape
    n_wanted = len(wanted)
    shift = max(1, int(n_genes - 1).bit_length())
    low_mask = np.uint64((1 << shift) - 1)
    is_wanted = np.zeros(n_genes, dtype=bool)
    is_wanted[wanted] = True
    column_of = np.full(n_genes, -1, dtype=np.intp)
    column_of[wanted] = np.arange(n_wanted)

    packed = _order_keys(block)
    packed &= ~low_mask
    packed |= np.arange(n_genes, dtype=np.uint64)
    packed.sort(axis=1)
    # Adjacent sorted entries whose keys agree above the gene bits: equal or nearly equal values.
    close_to_next = (packed[:, 1:] ^ packed[:, :-1]) <= low_mask
    packed &= low_mask
    genes_sorted = packed.view(np.int64)

    a_rows = a_cols = a_values = b_values = None
    if close_to_next.any():
        in_run = np.zeros((n_rows, n_genes), dtype=bool)
        in_run[:, 1:] = close_to_next
        in_run[:, :-1] |= close_to_next
        row, pos = np.nonzero(in_run)
        del in_run
        gene = genes_sorted[row, pos]
        full_key = _order_keys(block[row, gene])  # only the (nearly) tied entries
        continues_run = np.zeros(len(row), dtype=bool)
        continues_run[1:] = close_to_next[row[1:], pos[1:] - 1] & (row[1:] == row[:-1])
        run_id = np.cumsum(~continues_run)
        if np.any(continues_run[1:] & (full_key[1:] < full_key[:-1])):
            # Nearly equal values out of order: sort each run by (value, gene).
            reorder = np.lexsort((gene, full_key, run_id))
            gene, full_key = gene[reorder], full_key[reorder]
            genes_sorted[row, pos] = gene
        tied_to_previous = continues_run.copy()
        tied_to_previous[1:] &= full_key[1:] == full_key[:-1]
        if tied_to_previous.any():
            # Tie groups: bounds (first and last sorted position) of each tied gene's group.
            group_id = np.cumsum(~tied_to_previous) - 1
            group_first = pos[~tied_to_previous]
            group_last = pos[np.append(~tied_to_previous[1:], True)]
            keep = (column_of[gene] >= 0) & (group_first[group_id] != group_last[group_id])
            a_rows, a_cols = row[keep], column_of[gene[keep]]
            a_values = group_first[group_id[keep]]
            b_values = group_last[group_id[keep]]
    del close_to_next

    flat = np.flatnonzero(np.take(is_wanted, genes_sorted))
    row = flat // n_genes
    position = np.empty((n_rows, n_wanted), dtype=np.int64)
    position[row, column_of[genes_sorted.reshape(-1)[flat]]] = flat - row * n_genes
    walk = position + 1
    if a_rows is None or len(a_rows) == 0:
        return walk, walk
    a = position.copy()
    b = position.copy()
    a[a_rows, a_cols] = a_values
    b[a_rows, a_cols] = b_values
    return a + b + 1 - position, (a + b) // 2 + 1


# ----------------------------------------------------------------------------- Dask


@dataclass(frozen=True)
class ChunkLoader:
    """Expression chunks made where they are scored: ``load(i)`` returns chunk ``i``.

    Use it when the data must never be whole in one memory: each Dask task calls
    ``load(i)`` on its worker (reading a slice of a file or store, or generating data),
    scores the chunk and keeps only the scores, so a worker holds one chunk per thread.

    Attributes
    ----------
    load
        ``load(i) -> DataFrame`` (genes x samples) for ``i`` in ``range(n_chunks)``. Every
        chunk must have the same genes in the same order and its own sample labels. When
        the workers are separate processes it must be picklable: a module-level function,
        a :func:`functools.partial` of one, or an instance of a module-level class.
    n_chunks
        Number of chunks.
    """

    load: Callable[[int], pd.DataFrame]
    n_chunks: int

    def __post_init__(self) -> None:
        if not callable(self.load):
            raise TypeError(f"ChunkLoader.load must be callable, got {type(self.load).__name__}")
        if isinstance(self.n_chunks, bool) or not isinstance(self.n_chunks, (int, np.integer)) \
                or self.n_chunks < 1:
            raise ValueError(f"ChunkLoader.n_chunks must be a positive integer, got {self.n_chunks!r}")


ExpressionSource = Union[pd.DataFrame, Iterable[pd.DataFrame], ChunkLoader]


def ssgsea_dask(
    source: ExpressionSource,
    gene_sets: GeneSets,
    tau: float = 0.25,
    normalize: bool = False,
    *,
    client: "distributed.Client | None" = None,
    scheduler: str | None = None,
    samples_per_task: int = 1000,
    chunk_size: int = 16,
    duplicate_genes: Literal["error", "first"] = "error",
    min_size: int = 1,
    max_size: int | None = None,
    max_in_flight: int | None = None,
    cluster_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """:func:`ssgsea` over sample chunks on a Dask cluster, with bounded memory.

    Each task scores one chunk of samples with :func:`ssgsea` and returns only its scores;
    since a sample's raw score depends on that sample alone, the result is identical, bit
    for bit, to scoring everything in memory.

    Parameters
    ----------
    source
        Where the samples come from (genes x samples in every case):

        * a DataFrame, cut into chunks of ``samples_per_task`` samples, each sent to the
          cluster when a slot is free;
        * an iterable (e.g. a generator) of DataFrames, consumed lazily: at most
          ``max_in_flight`` chunks exist outside the generator at any time, so data larger
          than memory can stream through;
        * a :class:`ChunkLoader`: chunks are loaded (or generated) on the workers and never
          pass through this process.
    gene_sets, tau, normalize, chunk_size, duplicate_genes, min_size, max_size
        As :func:`ssgsea`. ``chunk_size`` is the block scored at once inside a task;
        ``normalize`` divides by the range over the whole result, after all chunks.
    client
        An existing ``distributed.Client``.
    scheduler
        A scheduler address (``"tcp://host:8786"``) to connect to, or ``"local"``. With
        neither ``client`` nor ``scheduler``, a ``LocalCluster`` is started for the call and
        closed after it (1 worker process, 1 thread, 2 GB memory limit; change with
        ``cluster_options``, the keyword arguments of ``distributed.LocalCluster``).
    samples_per_task
        Samples per chunk when ``source`` is a DataFrame.
    max_in_flight
        Chunks submitted and not yet scored, at most (default: twice the cluster's
        threads). Bounds the memory of this process and of the cluster.
    cluster_options
        Keyword arguments for the ``LocalCluster`` started when no client or address is
        given.

    Returns
    -------
    pandas.DataFrame
        Gene sets x samples, samples in source order (index name ``"gene_set"``).

    Raises
    ------
    ValueError
        Bad parameters, both ``client`` and ``scheduler`` given, an empty source, chunks
        whose genes differ from the first chunk's, a sample label in two chunks, or any
        error of :func:`ssgsea` on a chunk (the message names the chunk).
    TypeError
        A chunk that is not a DataFrame.
    """
    if not np.isfinite(tau) or tau < 0:
        raise ValueError(f"tau must be a finite number >= 0, got {tau!r}")
    for label, value in (("samples_per_task", samples_per_task), ("chunk_size", chunk_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{label} must be a positive integer, got {value!r}")
    if max_in_flight is not None and (not isinstance(max_in_flight, (int, np.integer))
                                      or max_in_flight < 1):
        raise ValueError(f"max_in_flight must be a positive integer, got {max_in_flight!r}")
    if client is not None and scheduler is not None:
        raise ValueError("give either client or scheduler, not both")
    sets = {str(name): _set_gene_list(name, genes)
            for name, genes in _as_gene_set_mapping(gene_sets).items()}
    options = {"tau": tau, "chunk_size": int(chunk_size), "duplicate_genes": duplicate_genes,
               "min_size": min_size, "max_size": max_size}

    if isinstance(source, ChunkLoader):
        items: Iterator[tuple[int, Any]] = ((i, i) for i in range(source.n_chunks))
    elif isinstance(source, pd.DataFrame):
        n_samples = source.shape[1]
        if n_samples == 0:
            raise ValueError("expression has no sample column")
        items = ((k, source.iloc[:, start:start + samples_per_task])
                 for k, start in enumerate(range(0, n_samples, samples_per_task)))
    elif isinstance(source, Iterable) and not isinstance(source, (str, bytes)):
        items = enumerate(source)
    else:
        raise TypeError(
            "source must be a DataFrame, an iterable of DataFrames or a ChunkLoader, "
            f"got {type(source).__name__}"
        )

    with _dask_client(client, scheduler, cluster_options) as dask_client:
        from distributed import wait

        limit = max_in_flight or max(2, 2 * sum(dask_client.nthreads().values()))
        results: dict[int, dict[str, Any]] = {}
        in_flight: dict[Any, int] = {}
        # Sent to the cluster once, not pickled into every task.
        shared_sets, shared_options = dask_client.scatter([sets, options], broadcast=True,
                                                          hash=False)
        if isinstance(source, ChunkLoader):
            shared_load = dask_client.scatter(source.load, broadcast=True, hash=False)

        def collect(done: Iterable[Any]) -> None:
            for future in done:
                index = in_flight.pop(future)
                results[index] = future.result()  # re-raises a task's error here
                future.release()

        for index, payload in items:
            if isinstance(source, ChunkLoader):
                future = dask_client.submit(_load_and_score_chunk, shared_load, payload,
                                            shared_sets, shared_options, pure=False)
            else:
                if not isinstance(payload, pd.DataFrame):
                    raise TypeError(f"chunk {index} is a {type(payload).__name__}, "
                                    "not a DataFrame (genes x samples)")
                data = dask_client.scatter(payload, hash=False)
                future = dask_client.submit(_score_chunk, data, index, shared_sets,
                                            shared_options, pure=False)
                del data, payload  # the cluster holds the chunk until its task is done
            in_flight[future] = index
            while len(in_flight) >= limit:
                collect(wait(list(in_flight), return_when="FIRST_COMPLETED").done)
        while in_flight:
            collect(wait(list(in_flight), return_when="FIRST_COMPLETED").done)

    if not results:
        raise ValueError("the expression source yielded no chunk")
    return _assemble_chunks(results, normalize)


def _set_gene_list(name: object, genes: Iterable[str]) -> list[str]:
    if isinstance(genes, str):
        raise TypeError(f"gene set {name!r} must be a list of genes, not the string {genes!r}")
    return [str(g) for g in genes]


@contextmanager
def _dask_client(
    client: "distributed.Client | None",
    scheduler: str | None,
    cluster_options: Mapping[str, Any] | None,
) -> Iterator["distributed.Client"]:
    """The given client, a client of the given scheduler, or a LocalCluster for the call."""
    if client is not None:
        yield client
        return
    from distributed import Client, LocalCluster

    if scheduler is None or scheduler == "local":
        options: dict[str, Any] = {"n_workers": 1, "threads_per_worker": 1, "processes": True,
                                   "memory_limit": "2GB", "dashboard_address": ":0"}
        options.update(cluster_options or {})
        with LocalCluster(**options) as cluster, Client(cluster) as local_client:
            yield local_client
        return
    if not isinstance(scheduler, str):
        raise TypeError(f"scheduler must be an address string or 'local', got {scheduler!r}")
    with Client(scheduler) as remote_client:
        yield remote_client


def _genes_key(genes: pd.Index) -> str:
    return hashlib.sha1("\x1f".join(map(str, genes)).encode("utf-8")).hexdigest()


def _score_chunk(chunk: pd.DataFrame, index: int, sets: Mapping[str, list[str]],
                 options: Mapping[str, Any]) -> dict[str, Any]:
    """Score one chunk (a Dask task): scores, set names, samples, a key of its genes."""
    try:
        if not isinstance(chunk, pd.DataFrame):
            raise TypeError(f"the chunk is a {type(chunk).__name__}, not a DataFrame (genes x samples)")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", EmptyGeneSetWarning)
            scores = ssgsea(chunk, sets, options["tau"], False, chunk_size=options["chunk_size"],
                            duplicate_genes=options["duplicate_genes"],
                            min_size=options["min_size"], max_size=options["max_size"])
    except Exception as error:
        error.add_note(f"while scoring expression chunk {index}")
        raise
    return {"scores": scores.to_numpy(), "sets": list(scores.index),
            "samples": list(scores.columns), "genes": _genes_key(chunk.index),
            "warnings": sorted({str(w.message) for w in caught
                                if issubclass(w.category, EmptyGeneSetWarning)})}


def _load_and_score_chunk(load: Callable[[int], pd.DataFrame], index: int,
                          sets: Mapping[str, list[str]], options: Mapping[str, Any]) -> dict[str, Any]:
    """Load chunk ``index`` on the worker and score it (a Dask task)."""
    try:
        chunk = load(index)
    except Exception as error:
        error.add_note(f"while loading expression chunk {index}")
        raise
    return _score_chunk(chunk, index, sets, options)


def _assemble_chunks(results: Mapping[int, dict[str, Any]], normalize: bool) -> pd.DataFrame:
    order = sorted(results)
    first = results[order[0]]
    for index in order[1:]:
        part = results[index]
        if part["genes"] != first["genes"]:
            raise ValueError(f"expression chunk {index} has other genes (or another gene order) "
                             f"than chunk {order[0]}; every chunk must share the gene index")
        if part["sets"] != first["sets"]:  # cannot differ when the genes agree; kept as a guard
            raise ValueError(f"expression chunk {index} scored other gene sets than chunk {order[0]}")
    samples = [s for index in order for s in results[index]["samples"]]
    duplicated = pd.Index(samples).duplicated()
    if duplicated.any():
        examples = list(dict.fromkeys(np.asarray(samples, dtype=object)[duplicated]))[:5]
        raise ValueError(f"{int(duplicated.sum())} sample label(s) occur in more than one chunk, "
                         f"e.g. {examples}")
    for message in dict.fromkeys(m for index in order for m in results[index]["warnings"]):
        warnings.warn(message, EmptyGeneSetWarning, stacklevel=3)
    scores = np.concatenate([results[index]["scores"] for index in order], axis=1)
    if normalize:
        spread = float(scores.max() - scores.min())
        if not spread > 0:
            raise ValueError("cannot normalise: all ssGSEA scores are equal (range 0)")
        scores = scores / spread
    return pd.DataFrame(scores, index=pd.Index(first["sets"], name="gene_set"),
                        columns=pd.Index(samples))


# ----------------------------------------------------------------------------- TME subtypes

#: The four TME subtypes of Bagaev et al. 2021, in display order.
SUBTYPES = ("IE/F", "IE", "F", "D")
SUBTYPE_NAMES = {
    "IE/F": "immune-enriched, fibrotic",
    "IE": "immune-enriched, non-fibrotic",
    "F": "fibrotic",
    "D": "depleted",
}
#: Bagaev signatures averaged into the immune axis (anti- and pro-tumour infiltrates).
IMMUNE_AXIS = (
    "MHCI", "MHCII", "Coactivation_molecules", "Effector_cells", "T_cells", "T_cell_traffic",
    "NK_cells", "B_cells", "M1_signatures", "Th1_signature", "Antitumor_cytokines",
    "Checkpoint_inhibition", "Treg", "T_reg_traffic", "Neutrophil_signature",
    "Granulocyte_traffic", "MDSC", "MDSC_traffic", "Macrophages", "Macrophage_DC_traffic",
    "Th2_signature",
)
#: Bagaev signatures averaged into the fibrotic (stromal) axis.
FIBROTIC_AXIS = ("CAF", "Matrix", "Matrix_remodeling", "Angiogenesis", "Endothelium")
AXES = {"immune_axis": IMMUNE_AXIS, "fibrotic_axis": FIBROTIC_AXIS}
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

REFERENCE_DIR = DATA_DIR / "reference"
REFERENCE_FILE = REFERENCE_DIR / "tme_reference.tsv"
REFERENCE_UNIVERSE_FILE = REFERENCE_DIR / "tme_reference_universe.txt"


class TMEReferenceError(ValueError):
    """A TME reference is malformed, stale, or does not apply to the data."""


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
        raise ValueError(f"min_universe_coverage must be in (0, 1], got {min_universe_coverage!r}")
    present = set(map(str, genes))
    universe = reference.universe
    n_present = sum(gene in present for gene in universe)
    coverage = n_present / len(universe)
    library = load_signatures(reference.signatures)
    in_universe = set(universe)
    axis_genes = {g for axis in AXES for name in reference.axis_members(axis)
                  for g in library[name] if g in in_universe}
    missing_axis = tuple(sorted(axis_genes - present))
    if coverage < min_universe_coverage:
        reason = (f"the cohort has {n_present:,} of the {len(universe):,} genes the reference "
                  f"{reference.name!r} was scored on ({coverage:.1%}; at least "
                  f"{min_universe_coverage:.0%} needed)")
    elif missing_axis:
        reason = (f"the cohort lacks {len(missing_axis)} gene(s) of the subtype-axis signatures "
                  f"({', '.join(missing_axis[:8])}{', ...' if len(missing_axis) > 8 else ''})")
    else:
        reason = (f"the cohort has {n_present:,} of the {len(universe):,} genes of the reference "
                  f"{reference.name!r} ({coverage:.1%}) and every subtype-axis gene")
    return ReferenceCheck(applies=coverage >= min_universe_coverage and not missing_axis,
                          universe_coverage=coverage, n_universe=len(universe),
                          n_present=n_present, missing_axis_genes=missing_axis, reason=reason)


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
    TMEReferenceError
        Universe genes missing from ``expression``, fewer than 10 samples, a signature
        whose scores do not vary (MAD 0), or an axis with too few signatures.
    """
    library = dict(gene_sets) if gene_sets is not None else load_signatures()
    genes = list(map(str, universe)) if universe is not None else list(map(str, expression.index))
    absent = [g for g in genes if g not in expression.index]
    if absent:
        raise TMEReferenceError(f"{len(absent)} universe gene(s) are not in the expression table, "
                             f"e.g. {absent[:5]}")
    if len(pd.Index(genes)) != len(set(genes)):
        raise TMEReferenceError("the universe lists a gene more than once")
    if expression.shape[1] < 10:
        raise TMEReferenceError(f"a reference needs at least 10 samples, got {expression.shape[1]}")
    usable = _signature_subset(genes, library)
    raw = ssgsea(expression.loc[genes], {n: library[n] for n in usable})
    centre = raw.median(axis=1)
    scale = raw.sub(centre, axis=0).abs().median(axis=1) * MAD_TO_SD
    flat = list(scale.index[~(scale > 0)])
    if flat:
        raise TMEReferenceError(f"signature score(s) without spread in the reference samples: {flat}")
    stats = pd.DataFrame({
        "kind": "signature", "centre": centre, "scale": scale,
        "n_samples": raw.shape[1],
        "n_genes": [sum(g in set(genes) for g in set(library[n])) for n in raw.index],
        "genes_sha1": [_genes_sha1(library[n]) for n in raw.index],
    })
    scaled = raw.sub(centre, axis=0).div(scale, axis=0)
    rows = []
    for axis, members in AXES.items():
        present = [m for m in members if m in scaled.index]
        if len(present) < MIN_AXIS_SIGNATURES * len(members):
            raise TMEReferenceError(f"{axis}: only {len(present)} of its {len(members)} signatures "
                                 "have enough genes in the universe")
        values = scaled.loc[present].mean(axis=0)
        axis_centre = float(values.median())
        axis_scale = float((values - axis_centre).abs().median() * MAD_TO_SD)
        rows.append({"feature": axis, "kind": "axis", "centre": axis_centre, "scale": axis_scale,
                     "n_samples": raw.shape[1], "n_genes": len(present), "genes_sha1": ""})
    stats = pd.concat([stats, pd.DataFrame(rows).set_index("feature")])
    stats.index.name = "feature"
    return TMEReference(name=name, statistics=stats, universe=tuple(genes),
                        description=description)


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
    TMEReferenceError
        If the file is malformed, the universe does not match its fingerprint, or a
        signature's genes differ from the shipped library (the reference is stale: rerun
        ``scripts/make_tme_reference.py``).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"TME reference not found: {path}")
    lines = path.read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if line.startswith("#")]
    universe_line = next((line for line in header if line.startswith("# universe:")), None)
    if universe_line is None:
        raise TMEReferenceError(f"{path}: no '# universe:' header line")
    try:
        universe_name = universe_line.split(":", 1)[1].split(",")[0].strip()
        expected_sha = universe_line.rsplit("sha1", 1)[1].strip()
    except IndexError:
        raise TMEReferenceError(f"{path}: malformed universe line {universe_line!r}") from None
    universe_path = path.parent / universe_name
    if not universe_path.is_file():
        raise FileNotFoundError(f"universe file of {path.name} not found: {universe_path}")
    universe = tuple(g for g in universe_path.read_text(encoding="utf-8").splitlines() if g)
    if _universe_sha1(universe) != expected_sha:
        raise TMEReferenceError(f"{universe_path}: gene list does not match the fingerprint "
                                f"in {path.name}")
    table = pd.read_csv(path, sep="\t", comment="#", keep_default_na=False,
                        float_precision="round_trip", dtype={"genes_sha1": str})
    needed = ["reference", "feature", "kind", "centre", "scale", "n_samples", "n_genes", "genes_sha1"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise TMEReferenceError(f"{path}: missing column(s) {missing}")
    names = table["reference"].unique()
    if len(names) != 1:
        raise TMEReferenceError(f"{path}: expected one reference, found {list(names)}")
    stats = table.drop(columns="reference").set_index("feature")
    stats["centre"] = stats["centre"].astype(float)
    stats["scale"] = stats["scale"].astype(float)
    description = header[0].split(":", 1)[1].strip() if header and ":" in header[0] else ""
    reference = TMEReference(name=str(names[0]), statistics=stats, universe=universe,
                             description=description)
    library = load_signatures()
    stale = [n for n in reference.signatures
             if n not in library or _genes_sha1(library[n]) != stats.at[n, "genes_sha1"]]
    if stale:
        raise TMEReferenceError(f"{path}: signature(s) {stale} differ from data/signatures; "
                             "rerun scripts/make_tme_reference.py")
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
        As :func:`ssgsea`.

    Returns
    -------
    raw, scaled : pandas.DataFrame
        Signatures x samples: raw ssGSEA scores on the reference universe (size-adjusted
        as above) and ``(raw - centre) / scale``.
    """
    library = load_signatures(reference.signatures)
    genes = [g for g in reference.universe if g in expression.index]
    if len(genes) < 2:
        raise TMEReferenceError(f"the expression table has {len(genes)} gene(s) of the reference "
                             f"universe {reference.name!r}")
    present = set(genes)
    in_universe = set(reference.universe)
    scorable = {n: library[n] for n in reference.signatures
                if any(g in present for g in library[n])}
    raw = ssgsea(expression.loc[genes], scorable, chunk_size=chunk_size)
    raw = raw * (len(reference.universe) / len(genes))
    raw = raw.reindex(reference.signatures)
    complete = [n for n in reference.signatures
                if all(g in present for g in library[n] if g in in_universe)]
    stats = reference.statistics.loc[reference.signatures]
    scaled = raw.sub(stats["centre"], axis=0).div(stats["scale"], axis=0)
    scaled.loc[~scaled.index.isin(complete)] = np.nan
    raw.index.name = scaled.index.name = "gene_set"
    return raw, scaled


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
        Scaled scores from :func:`scale_scores` (signatures x samples).
    reference
        The reference they were scaled against.

    Returns
    -------
    pandas.DataFrame
        One row per sample (index ``sample_id``): ``immune_axis``, ``fibrotic_axis``,
        ``subtype`` (one of :data:`SUBTYPES`, or None).
    """
    result = pd.DataFrame(index=pd.Index(scaled.columns, name="sample_id"))
    for axis in AXES:
        members = reference.axis_members(axis)
        absent = [m for m in members if m not in scaled.index]
        if absent:
            raise TMEReferenceError(f"scaled scores lack the {axis} signature(s) {absent}")
        block = scaled.loc[members]
        values = block.mean(axis=0) - reference.statistics.at[axis, "centre"]
        values[block.isna().any(axis=0)] = np.nan
        result[axis] = values.to_numpy(dtype=float)
    immune_high = result["immune_axis"] > 0
    fibrotic_high = result["fibrotic_axis"] > 0
    subtype = np.select(
        [immune_high & fibrotic_high, immune_high & ~fibrotic_high,
         ~immune_high & fibrotic_high],
        ["IE/F", "IE", "F"], default="D").astype(object)
    subtype[result[["immune_axis", "fibrotic_axis"]].isna().any(axis=1).to_numpy()] = None
    result["subtype"] = subtype
    return result


# ----------------------------------------------------------------------------- scoring a cohort

#: Old symbols used by some public cohorts → the current HGNC symbols of the shipped
#: signatures (see data/signatures/README.md).
GENE_ALIASES = {
    "IL8": "CXCL8", "CTGF": "CCN2", "FAM101B": "RFLNB", "C10orf54": "VSIR",
    "ATP5A1": "ATP5F1A", "ATP5B": "ATP5F1B", "ATP5C1": "ATP5F1C", "ATP5O": "ATP5PO",
    "ATP5G1": "ATP5MC1", "ERO1L": "ERO1A",
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
        rows.append({"signature": name, "genes": len(unique),
                     "present": len(unique) - len(missing),
                     "share_present": (len(unique) - len(missing)) / len(unique),
                     "missing": ", ".join(missing), "axis": axis})
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
    note
        One or two sentences for the chapter on how the scores were scaled.
    """

    raw: pd.DataFrame
    scaled: pd.DataFrame
    subtypes: pd.DataFrame
    reference: TMEReference
    mode: str
    check: ReferenceCheck
    coverage: pd.DataFrame
    note: str

    def available(self, names: Iterable[str]) -> list[str]:
        """The signatures of ``names`` that have scaled scores (in the given order)."""
        return [n for n in names
                if n in self.scaled.index and self.scaled.loc[n].notna().any()]


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
    """
    expression = harmonise_gene_symbols(expression)
    shipped = load_reference()
    check = check_reference(expression.index, shipped, min_universe_coverage)
    if isinstance(reference, TMEReference):
        chosen, mode = reference, ("shipped reference" if reference.name == shipped.name
                                   else f"reference {reference.name!r}")
    elif reference == "shipped" or (reference == "auto" and check.applies):
        if not check.applies:
            raise TMEReferenceError(f"the shipped TME reference does not apply: {check.reason}")
        chosen, mode = shipped, "shipped reference"
    elif reference in ("auto", "within_cohort"):
        calibration = list(expression.columns) if calibration_samples is None \
            else list(calibration_samples)
        unknown = [s for s in calibration if s not in expression.columns]
        if unknown:
            raise KeyError(f"calibration sample(s) not in the expression table: {unknown[:5]}")
        chosen = build_reference(
            expression[calibration], name="within_cohort",
            description=f"{len(calibration)} samples of the cohort itself, on its "
                        f"{expression.shape[0]:,} genes")
        mode = "within-cohort"
    else:
        raise ValueError(f"reference must be 'auto', 'shipped', 'within_cohort' or a "
                         f"TMEReference, got {reference!r}")
    raw, scaled = scale_scores(expression, chosen)
    subtypes = assign_subtypes(scaled, chosen)
    if mode == "within-cohort":
        note = (f"The shipped public reference does not apply to this cohort ({check.reason}), "
                "so scores are scaled within the cohort: against the median and MAD of "
                f"{chosen.statistics['n_samples'].iloc[0]:,} of its own samples "
                "(its pre-treatment tumours where given), summarised once and then held fixed. "
                "Subtypes are therefore relative to this cohort's untreated tumours and are not "
                "comparable with other cohorts' subtypes.")
    else:
        note = (f"Scores are scaled against the fixed reference {chosen.name!r} "
                f"({chosen.description}); {check.reason}.")
    return TMEScores(raw=raw, scaled=scaled, subtypes=subtypes, reference=chosen, mode=mode,
                     check=check, coverage=signature_coverage(expression.index), note=note)


# ----------------------------------------------------------------------------- public cohorts

#: Public cohorts of ../shared/data/public with an expression matrix.
PUBLIC_RNA_COHORTS = (
    "gide2019_melanoma_pd1", "hugo2016_melanoma_pd1", "riaz2017_melanoma_nivolumab",
    "miao2018_ccrcc_pd1", "vanallen2015_melanoma_ctla4", "imvigor210_urothelial_atezolizumab",
)
#: The genome-wide RNA-seq cohorts whose pre-treatment tumours make the shipped reference.
REFERENCE_COHORTS = PUBLIC_RNA_COHORTS[:5]
REFERENCE_NAME = "public_rnaseq_pre"


def read_public_expression(cohort_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """``expression.tsv.gz`` of a public cohort (genes x samples), symbols harmonised.

    Raises
    ------
    FileNotFoundError
        If the cohort has no expression file.
    ValueError
        If gene labels are duplicated after harmonisation.
    """
    path = Path(cohort_dir) / "expression.tsv.gz"
    if not path.is_file():
        raise FileNotFoundError(f"no expression matrix in {Path(cohort_dir)} (looked for {path.name})")
    expression = harmonise_gene_symbols(pd.read_csv(path, sep="\t", index_col=0))
    if expression.index.duplicated().any():
        raise ValueError(f"{path}: duplicated gene labels after harmonisation, e.g. "
                         f"{list(expression.index[expression.index.duplicated()][:5])}")
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
    table = samples[["sample_id", "patient_id"]].merge(clinical[columns], on="patient_id",
                                                       how="left", validate="many_to_one")
    table = table.rename(columns={"src_immune_phenotype": "immune_phenotype"})
    bor = table["best_overall_response"]
    table["responder"] = pd.array(np.where(bor.isin(["CR", "PR"]), True,
                                           np.where(bor.isin(["SD", "PD"]), False, None)),
                                  dtype="boolean")
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
        pooled, name=REFERENCE_NAME, universe=universe,
        description=(f"{pooled.shape[1]} pre-treatment tumours of {len(cohorts)} public "
                     f"RNA-seq ICB cohorts ({', '.join(cohorts)}), log2(TPM + 0.001), "
                     f"scored on the {len(universe):,} genes they share"))


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
        raise KeyError(f"{name!r} is not a public cohort with RNA; known: {list(PUBLIC_RNA_COHORTS)}")
    cohort_dir = Path(public_dir) / name
    samples = public_rna_samples(cohort_dir)
    expression = read_public_expression(cohort_dir)[samples["sample_id"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyGeneSetWarning)  # the coverage table reports them
        tme = score_tme(expression, reference="auto")
    table = samples.merge(tme.subtypes.reset_index(), on="sample_id", how="left")
    return PublicCohortTME(name=name, samples=table, tme=tme)


@dataclass(frozen=True)
class TrendTest:
    """Result of :func:`jonckheere_terpstra`."""

    statistic: float
    expected: float
    variance: float
    z: float
    pvalue: float
    group_sizes: tuple[int, ...]


def jonckheere_terpstra(
    values: Iterable[float], groups: Iterable[object], order: Iterable[object],
    alternative: Literal["increasing", "decreasing", "two-sided"] = "increasing",
) -> TrendTest:
    """Jonckheere–Terpstra test for an ordered trend across groups.

    ``J`` counts, over every pair of groups ``i < j`` in ``order`` and every pair of
    observations, how often the one from the later group is larger (ties count 1/2). Its
    null mean is ``(N² - Σ n_i²) / 4`` and its variance is the tie-corrected formula of
    Hollander & Wolfe (*Nonparametric Statistical Methods*, 2nd ed., 1999, §6.2); the
    p-value is from the normal approximation, without continuity correction.

    Parameters
    ----------
    values
        Observations (no NaN).
    groups
        Group label of each observation.
    order
        Group labels from lowest to highest expected values; observations in other
        groups are ignored.
    alternative
        ``"increasing"`` (values rise along ``order``), ``"decreasing"`` or ``"two-sided"``.

    Returns
    -------
    TrendTest
    """
    from scipy.stats import norm

    x = np.asarray(list(values), dtype=float)
    g = np.asarray(list(groups), dtype=object)
    order = list(order)
    if len(x) != len(g):
        raise ValueError(f"values ({len(x)}) and groups ({len(g)}) differ in length")
    if len(order) < 2 or len(set(order)) != len(order):
        raise ValueError(f"order must list at least two distinct groups, got {order}")
    if np.isnan(x).any():
        raise ValueError("values contain NaN")
    samples = [x[g == label] for label in order]
    sizes = tuple(len(s) for s in samples)
    if sum(n > 0 for n in sizes) < 2:
        raise ValueError(f"at least two groups need observations; sizes {dict(zip(order, sizes))}")
    statistic = 0.0
    for i in range(len(samples)):
        for j in range(i + 1, len(samples)):
            lower, upper = samples[i][:, None], samples[j][None, :]
            statistic += float((upper > lower).sum() + 0.5 * (upper == lower).sum())
    pooled = np.concatenate(samples)
    n_total = float(len(pooled))
    n = np.asarray(sizes, dtype=float)
    _, tie_counts = np.unique(pooled, return_counts=True)
    t = tie_counts.astype(float)
    expected = (n_total**2 - (n**2).sum()) / 4.0
    variance = (n_total * (n_total - 1) * (2 * n_total + 5) - (n * (n - 1) * (2 * n + 5)).sum()
                - (t * (t - 1) * (2 * t + 5)).sum()) / 72.0
    if n_total > 2:
        variance += ((n * (n - 1) * (n - 2)).sum() * (t * (t - 1) * (t - 2)).sum()
                     / (36.0 * n_total * (n_total - 1) * (n_total - 2)))
    variance += (n * (n - 1)).sum() * (t * (t - 1)).sum() / (8.0 * n_total * (n_total - 1))
    if not variance > 0:
        raise ValueError("the Jonckheere-Terpstra statistic has no variance (all values tied?)")
    z = (statistic - expected) / np.sqrt(variance)
    if alternative == "increasing":
        p = float(norm.sf(z))
    elif alternative == "decreasing":
        p = float(norm.cdf(z))
    elif alternative == "two-sided":
        p = float(min(1.0, 2 * norm.sf(abs(z))))
    else:
        raise ValueError("alternative must be 'increasing', 'decreasing' or 'two-sided', "
                         f"got {alternative!r}")
    return TrendTest(statistic=statistic, expected=expected, variance=float(variance),
                     z=float(z), pvalue=p, group_sizes=sizes)


IMMUNE_PHENOTYPES = ("desert", "excluded", "inflamed")


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
    from scipy.stats import spearmanr

    scored = score_public_cohort(public_dir, cohort)
    if "immune_phenotype" not in scored.samples.columns:
        raise KeyError(f"{cohort} has no immune phenotype column (src_immune_phenotype)")
    table = scored.samples[scored.samples["immune_phenotype"].isin(IMMUNE_PHENOTYPES)]
    code = table["immune_phenotype"].map({p: k for k, p in enumerate(IMMUNE_PHENOTYPES)})
    rows = []
    for signature in signatures:
        values = scored.tme.scaled.loc[signature, table["sample_id"]].to_numpy(dtype=float)
        trend = jonckheere_terpstra(values, table["immune_phenotype"], IMMUNE_PHENOTYPES)
        rho, p_rho = spearmanr(code.to_numpy(), values)
        row: dict[str, Any] = {"signature": signature}
        for phenotype, n in zip(IMMUNE_PHENOTYPES, trend.group_sizes):
            row[f"n_{phenotype}"] = n
        phenotypes = table["immune_phenotype"].to_numpy()
        for phenotype in IMMUNE_PHENOTYPES:
            row[f"median_{phenotype}"] = float(np.median(values[phenotypes == phenotype]))
        row.update(jt_statistic=trend.statistic, jt_z=trend.z, jt_p=trend.pvalue,
                   spearman_rho=float(rho), spearman_p=float(p_rho), scaling=scored.tme.mode)
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
    from scipy.stats import fisher_exact

    scored = score_public_cohort(public_dir, cohort)
    table = scored.samples[scored.samples["immune_phenotype"].isin(IMMUNE_PHENOTYPES)
                           & scored.samples["subtype"].notna()]
    counts = pd.crosstab(pd.Categorical(table["immune_phenotype"], IMMUNE_PHENOTYPES),
                         pd.Categorical(table["subtype"], SUBTYPES), dropna=False)
    counts.index.name, counts.columns.name = "immune_phenotype", "subtype"
    enriched = table["subtype"].isin(["IE", "IE/F"])
    inflamed = table["immune_phenotype"] == "inflamed"
    a, b = int((enriched & inflamed).sum()), int(inflamed.sum())
    c, d = int((enriched & ~inflamed).sum()), int((~inflamed).sum())
    odds, p = fisher_exact([[a, b - a], [c, d - c]], alternative="greater")
    counts = counts.astype(int)
    called = counts[list(SUBTYPES)].sum(axis=1)
    counts["immune_enriched_share"] = (counts["IE"] + counts["IE/F"]) / called
    test = pd.Series({"inflamed_immune_enriched": a, "inflamed_n": b,
                      "other_immune_enriched": c, "other_n": d, "odds_ratio": float(odds),
                      "p": float(p), "scaling": scored.tme.mode})
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
    from scipy.stats import mannwhitneyu

    rows = []
    for name in cohorts:
        scored = score_public_cohort(public_dir, name)
        table = scored.samples[scored.samples["responder"].notna()]
        values = scored.tme.scaled.loc[signature, table["sample_id"]].to_numpy(dtype=float)
        responder = table["responder"].to_numpy(dtype=bool)
        test = mannwhitneyu(values[responder], values[~responder], alternative="greater")
        n1, n0 = int(responder.sum()), int((~responder).sum())
        rows.append({
            "cohort": name,
            "cancer_type": str(table["cancer_type"].mode().iat[0]),
            "treatment": str(table["treatment"].mode().iat[0]),
            "n_responders": n1, "n_non_responders": n0,
            "median_responders": float(np.median(values[responder])),
            "median_non_responders": float(np.median(values[~responder])),
            "auc": float(test.statistic) / (n1 * n0),
            "mannwhitney_u": float(test.statistic), "p_one_sided": float(test.pvalue),
            "scaling": scored.tme.mode,
        })
    return pd.DataFrame(rows).set_index("cohort")


# ----------------------------------------------------------------------------- chapter analyses

#: The ICB signatures of DESIGN §4, in display order.
ICB_SIGNATURES = (
    "IFNG_AYERS2017", "TCELL_INFLAMED_GEP", "CYTOLYTIC_ACTIVITY", "ANTIGEN_PRESENTATION_MHCI",
    "TCELL_DYSFUNCTION", "CAF_MATRIX", "PROLIFERATION", "EMT_INVASIVENESS", "TGFB_SIGNALLING",
    "WNT_SIGNALLING", "GLYCOLYSIS", "OXPHOS",
)
#: Scores followed over time (pre / on / post).
TIME_SIGNATURES = ("IFNG_AYERS2017", "TCELL_DYSFUNCTION", "ANTIGEN_PRESENTATION_MHCI")
TIMEPOINTS = ("pre", "on", "post")
COMPARED_CLASSES = ("acquired", "primary")


def tme_sample_table(cohort: "Cohort", tme: TMEScores, benefit_months: float = 6,
                     min_exposure_weeks: float = 6) -> pd.DataFrame:
    """One row per scored RNA sample: patient, cancer type, timepoint, class, axes, subtype.

    Parameters
    ----------
    cohort
        The canonical cohort.
    tme
        Its scores (:func:`score_tme`).
    benefit_months, min_exposure_weeks
        The resistance-class parameters (see :mod:`helpers.analysis.resistance`).

    Returns
    -------
    pandas.DataFrame
        Columns ``sample_id``, ``patient_id``, ``cancer_type``, ``timepoint``,
        ``collection_day``, ``resistance_class``, ``immune_axis``, ``fibrotic_axis``,
        ``subtype``.
    """
    from helpers.analysis.derive import sample_table

    table = sample_table(cohort, benefit_months, min_exposure_weeks)
    table = table[table["sample_id"].isin(tme.scaled.columns)]
    columns = ["sample_id", "patient_id", "cancer_type", "timepoint", "collection_day",
               "resistance_class"]
    table = table[columns].merge(tme.subtypes.reset_index(), on="sample_id", how="left",
                                 validate="one_to_one")
    return table.reset_index(drop=True)


def one_sample_per_patient(samples: pd.DataFrame, timepoint: str) -> pd.DataFrame:
    """Each patient's sample at ``timepoint``: the last pre-treatment sample (nearest day 0),
    the first on-treatment sample, or the first post-progression sample."""
    if timepoint not in TIMEPOINTS:
        raise ValueError(f"timepoint must be one of {TIMEPOINTS}, got {timepoint!r}")
    chosen = samples[samples["timepoint"] == timepoint]
    ascending = timepoint != "pre"
    chosen = chosen.sort_values(["patient_id", "collection_day", "sample_id"],
                                ascending=[True, ascending, True], na_position="last")
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
    from scipy.stats import mannwhitneyu


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
            row.update({f"median_{a}": float(np.median(x)), f"median_{b}": float(np.median(y)),
                        "difference": float(np.median(x) - np.median(y)),
                        "auc": float(test.statistic) / (len(x) * len(y)),
                        "p": float(test.pvalue)})
        rows.append(row)
    table = pd.DataFrame(rows).set_index("signature")
    for column in (f"median_{a}", f"median_{b}", "difference", "auc", "p"):
        if column not in table:
            table[column] = np.nan
    table["q"] = benjamini_hochberg(table["p"].to_numpy(dtype=float))
    return table


def subtype_counts(samples: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Samples per subtype (columns, in :data:`SUBTYPES` order) for each group of ``by``,
    with ``n`` and ``immune_enriched_share`` (IE or IE/F)."""
    called = samples[samples["subtype"].notna()]
    counts = (called.groupby(by)["subtype"].value_counts().unstack(fill_value=0)
              .reindex(columns=list(SUBTYPES), fill_value=0).astype(int))
    counts.columns.name = "subtype"
    counts["n"] = counts[list(SUBTYPES)].sum(axis=1)
    counts["immune_enriched_share"] = (counts["IE"] + counts["IE/F"]) / counts["n"]
    return counts


def subtype_share_test(samples: pd.DataFrame, timepoint: str = "post",
                       groups: tuple[str, str] = COMPARED_CLASSES) -> pd.DataFrame:
    """Immune-enriched share (IE or IE/F) in one class against another at ``timepoint``.

    One sample per patient; Fisher's exact test (two-sided) on immune-enriched vs not,
    and a chi-square test of the whole 2 x 4 subtype table.

    Returns
    -------
    pandas.DataFrame
        One row (index: the timepoint): ``n_<a>``, ``n_<b>``, ``immune_enriched_<a>``,
        ``immune_enriched_<b>`` (shares), ``odds_ratio``, ``fisher_p``, ``chi2_p``.
    """
    from scipy.stats import chi2_contingency, fisher_exact

    chosen = one_sample_per_patient(samples, timepoint)
    chosen = chosen[chosen["resistance_class"].isin(groups) & chosen["subtype"].notna()]
    a, b = groups
    table = pd.crosstab(chosen["resistance_class"], chosen["subtype"]).reindex(
        index=list(groups), columns=list(SUBTYPES), fill_value=0)
    enriched = table[["IE", "IE/F"]].sum(axis=1)
    total = table.sum(axis=1)
    result: dict[str, Any] = {
        f"n_{a}": int(total[a]), f"n_{b}": int(total[b]),
        f"immune_enriched_{a}": float(enriched[a] / total[a]) if total[a] else np.nan,
        f"immune_enriched_{b}": float(enriched[b] / total[b]) if total[b] else np.nan,
        "odds_ratio": np.nan, "fisher_p": np.nan, "chi2_p": np.nan}
    if total.min() > 0:
        odds, p = fisher_exact([[enriched[a], total[a] - enriched[a]],
                                [enriched[b], total[b] - enriched[b]]])
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
        post[keep], on="patient_id", suffixes=("_pre", "_post"), validate="one_to_one")
    pairs = pairs.rename(columns={
        "sample_id_pre": "pre_sample", "sample_id_post": "post_sample",
        "subtype_pre": "pre_subtype", "subtype_post": "post_subtype",
        "immune_axis_pre": "pre_immune_axis", "immune_axis_post": "post_immune_axis"})
    return pairs[["patient_id", "cancer_type", "resistance_class", "pre_sample", "post_sample",
                  "pre_subtype", "post_subtype", "pre_immune_axis", "post_immune_axis"]]


def transition_counts(pairs: pd.DataFrame) -> pd.DataFrame:
    """Pre-treatment subtype (rows) x post-progression subtype (columns) counts."""
    called = pairs.dropna(subset=["pre_subtype", "post_subtype"])
    table = pd.crosstab(pd.Categorical(called["pre_subtype"], SUBTYPES),
                        pd.Categorical(called["post_subtype"], SUBTYPES), dropna=False)
    table.index.name, table.columns.name = "pre", "post"
    return table.astype(int)


def transition_summary(pairs: pd.DataFrame, scaled: pd.DataFrame,
                       signatures: Iterable[str] = TIME_SIGNATURES) -> pd.DataFrame:
    """Per resistance class: how pre→post pairs move.

    ``gained_immune`` is the share of pairs that were not immune-enriched before treatment
    (F or D) and are immune-enriched (IE or IE/F) after progression, among pairs not
    immune-enriched before; ``lost_immune`` the reverse. Score changes (post minus pre)
    are tested with the Wilcoxon signed-rank test (two-sided).
    """
    from scipy.stats import wilcoxon

    rows = []
    for klass, group in pairs.groupby("resistance_class", sort=True):
        called = group.dropna(subset=["pre_subtype", "post_subtype"])
        pre_enriched = called["pre_subtype"].isin(["IE", "IE/F"])
        post_enriched = called["post_subtype"].isin(["IE", "IE/F"])
        row: dict[str, Any] = {
            "resistance_class": klass, "pairs": len(group),
            "gained_immune": float((~pre_enriched & post_enriched).sum()
                                   / max(1, (~pre_enriched).sum())),
            "lost_immune": float((pre_enriched & ~post_enriched).sum()
                                 / max(1, pre_enriched.sum())),
            "same_subtype": float((called["pre_subtype"] == called["post_subtype"]).mean())
            if len(called) else np.nan,
        }
        for signature in [*_present(signatures, scaled), "immune_axis"]:
            if signature == "immune_axis":
                change = (group["post_immune_axis"] - group["pre_immune_axis"]).to_numpy(dtype=float)
            else:
                change = (scaled.loc[signature, group["post_sample"]].to_numpy(dtype=float)
                          - scaled.loc[signature, group["pre_sample"]].to_numpy(dtype=float))
            change = change[~np.isnan(change)]
            row[f"{signature}_median_change"] = float(np.median(change)) if len(change) else np.nan
            row[f"{signature}_p"] = float(wilcoxon(change).pvalue) if len(change) >= 6 else np.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index("resistance_class")


def scores_over_time(samples: pd.DataFrame, scaled: pd.DataFrame,
                     signatures: Iterable[str] = TIME_SIGNATURES,
                     classes: Iterable[str] = COMPARED_CLASSES) -> pd.DataFrame:
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
                q1, median, q3 = (np.quantile(values, [0.25, 0.5, 0.75]) if len(values)
                                  else (np.nan, np.nan, np.nan))
                rows.append({"signature": signature, "resistance_class": klass,
                             "timepoint": timepoint, "n": len(values), "median": float(median),
                             "q1": float(q1), "q3": float(q3)})
    return pd.DataFrame(rows)


def _ols_effect(y: np.ndarray, carrier: np.ndarray,
                covariate: np.ndarray | None) -> tuple[float, float, float, float]:
    """Carrier coefficient of y ~ 1 + carrier (+ covariate): estimate, 95% CI, p."""
    from scipy.stats import t as student_t

    columns = [np.ones_like(y), carrier]
    if covariate is not None and np.ptp(covariate) > 0:
        columns.append(covariate)
    design = np.column_stack(columns)
    beta, _, rank, _ = np.linalg.lstsq(design, y, rcond=None)
    df = len(y) - design.shape[1]
    if rank < design.shape[1] or df < 1:
        return np.nan, np.nan, np.nan, np.nan
    residual = y - design @ beta
    sigma2 = float(residual @ residual) / df
    se = float(np.sqrt(sigma2 * np.linalg.inv(design.T @ design)[1, 1]))
    estimate = float(beta[1])
    if se == 0:
        return estimate, estimate, estimate, np.nan
    half = float(student_t.ppf(0.975, df)) * se
    p = float(2 * student_t.sf(abs(estimate / se), df))
    return estimate, estimate - half, estimate + half, p


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
    """

    if min_carriers < 1:
        raise ValueError(f"min_carriers must be >= 1, got {min_carriers!r}")
    genes = list(genes)
    absent = [g for g in genes if g not in lof.columns]
    if absent:
        raise KeyError(f"gene(s) {absent} are not columns of the LoF matrix")
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
                block.append({"gene": gene, "cancer_type": cancer_type, "signature": signature,
                              "n_carriers": int(carrier[ok].sum()),
                              "n_non_carriers": int(ok.sum() - carrier[ok].sum()),
                              "estimate": estimate, "ci_low": low, "ci_high": high, "p": p})
            q = benjamini_hochberg(np.array([r["p"] for r in block], dtype=float))
            for r, qv in zip(block, q):
                r["q"] = float(qv)
            rows.extend(block)
    columns = ["gene", "cancer_type", "signature", "n_carriers", "n_non_carriers", "estimate",
               "ci_low", "ci_high", "p", "q"]
    return pd.DataFrame(rows, columns=columns)


@dataclass(frozen=True)
class CohortTME:
    """A canonical cohort's TME scores with its sample table (:func:`score_cohort`).

    Attributes
    ----------
    tme
        The :class:`TMEScores`.
    samples
        :func:`tme_sample_table`.
    calibration
        Which samples a within-cohort reference was made from (one sentence).
    """

    tme: TMEScores
    samples: pd.DataFrame
    calibration: str


def score_cohort(cohort: "Cohort", benefit_months: float = 6, min_exposure_weeks: float = 6,
                 reference: Literal["auto", "shipped", "within_cohort"] = "auto") -> CohortTME | None:
    """Score a canonical cohort's RNA samples (None when it has no expression data).

    A within-cohort reference (used when the shipped one does not apply) is made from the
    cohort's pre-treatment RNA samples, or from all RNA samples when fewer than 10 are
    pre-treatment.
    """
    from helpers.data.cohort import sample_timepoints

    expression = cohort.expression
    if expression is None or expression.shape[1] == 0:
        return None
    timepoint = sample_timepoints(cohort)
    pre = [s for s in expression.columns if timepoint.get(s) == "pre"]
    if len(pre) >= 10:
        calibration = pre
        text = f"the cohort's {len(pre):,} pre-treatment RNA samples"
    else:
        calibration = list(expression.columns)
        text = (f"all {len(calibration):,} RNA samples of the cohort (fewer than 10 are "
                "pre-treatment)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyGeneSetWarning)  # the coverage table shows them
        scores = score_tme(expression, reference=reference, calibration_samples=calibration)
    samples = tme_sample_table(cohort, scores, benefit_months, min_exposure_weeks)
    return CohortTME(tme=scores, samples=samples,
                     calibration=text if scores.mode == "within-cohort" else "")


def subtype_agreement(called: pd.Series, planted: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """Agreement of called with planted (or any reference) subtypes.

    Parameters
    ----------
    called, planted
        Subtypes indexed by sample id; samples in both with a call are compared.

    Returns
    -------
    confusion : pandas.DataFrame
        Planted (rows) x called (columns) counts in :data:`SUBTYPES` order.
    summary : pandas.Series
        ``n``, ``accuracy`` and Cohen's ``kappa`` (agreement beyond chance).
    """
    both = pd.concat({"called": called, "planted": planted}, axis=1, join="inner").dropna()
    if both.empty:
        raise ValueError("no sample has both a called and a planted subtype")
    confusion = pd.crosstab(pd.Categorical(both["planted"], SUBTYPES),
                            pd.Categorical(both["called"], SUBTYPES), dropna=False).astype(int)
    confusion.index.name, confusion.columns.name = "planted", "called"
    table = confusion.to_numpy(dtype=float)
    n = table.sum()
    observed = np.trace(table) / n
    expected = float((table.sum(axis=0) * table.sum(axis=1)).sum() / n**2)
    kappa = (observed - expected) / (1 - expected) if expected < 1 else np.nan
    return confusion, pd.Series({"n": int(n), "accuracy": float(observed), "kappa": float(kappa)})
