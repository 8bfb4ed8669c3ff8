"""Single-sample GSEA (ssGSEA) computed exactly as R's GSVA 1.46 does.

Scores are single-sample GSEA (Barbie et al., Nature 2009) as
``gsva(expr, sets, method="ssgsea", tau=0.25, ssgsea.norm=...)`` computes them:

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

Why it is written here rather than taken from a library: no Python package reproduces GSVA.
``gseapy.ssgsea`` agrees with GSVA's raw score only on untied data (it ranks ties
differently) and builds the genes x samples running sum, so it is slower and needs several
times the memory (``bench/tme_bench.py`` measures both). The book's scores must equal R's
GSVA to 1e-8 (``tests/test_tme_scoring.py`` checks them against R fixtures) and must scale to
100,000 samples in bounded memory (the Dask path, :mod:`helpers.stats.ssgsea_dask`).

Raw scores of a sample depend on that sample alone; the normalised ones do not, which is
why ``normalize`` exists for conformance checks only.

Edge cases, decided as GSVA does where it decides: set genes absent from the data are
ignored; a set left with no gene (GSVA's default ``min.sz=1``) is dropped — GSVA drops it
silently, here with an :class:`EmptyGeneSetWarning` — and no set left at all is an error;
NaN is an error (every gene must be ranked in every sample); duplicated gene rows are an
error unless ``duplicate_genes="first"``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from typing import Literal

import numpy as np
import pandas as pd

from helpers.errors import (
    N_EXAMPLES,
    HelpersWarning,
    InputError,
    ParameterError,
    Violation,
    check,
    raise_violations,
)

__all__ = [
    "EmptyGeneSetWarning",
    "check_ssgsea_parameters",
    "gene_set_mapping",
    "normalise_by_range",
    "ssgsea",
]


class EmptyGeneSetWarning(HelpersWarning):
    """A gene set was dropped from scoring because too few of its genes are in the data."""


def ssgsea(
    expression: pd.DataFrame,
    gene_sets: Mapping[str, Iterable[str]],
    tau: float = 0.25,
    normalize: bool = False,
    *,
    chunk_size: int = 16,
    duplicate_genes: Literal["error", "first"] = "error",
    min_size: int = 1,
    max_size: int | None = None,
) -> pd.DataFrame:
    """Single-sample GSEA scores, identical to GSVA 1.46 ``method="ssgsea"``.

    Parameters
    ----------
    expression
        Genes x samples, numeric (e.g. log2(TPM+1)); gene symbols as the index. Must not
        contain NaN.
    gene_sets
        ``{set name: genes}`` (a GMT file is read with
        :func:`helpers.data.genesets.read_gmt`). Genes absent from ``expression`` are
        ignored, a gene repeated within a set counts once.
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

    To score on a Dask cluster (data larger than memory, many samples), use
    :func:`helpers.stats.ssgsea_dask.ssgsea_dask`: its results are identical.

    Returns
    -------
    pandas.DataFrame
        Gene sets x samples (index name ``"gene_set"``), sets in input order.

    Raises
    ------
    TypeError
        If ``expression`` is not a DataFrame or has non-numeric columns, or ``gene_sets``
        is not a mapping of names to lists of genes.
    helpers.errors.ParameterError
        A bad ``tau``, ``chunk_size``, ``duplicate_genes`` or size bound.
    helpers.errors.InputError
        NaN values or duplicated gene labels (with ``duplicate_genes="error"``; the
        message names the samples and genes), fewer than two genes, no sample, no gene
        set, a set covering every gene (its score is undefined), no set left after
        filtering, or normalisation of scores that are all equal.
    """
    check_ssgsea_parameters(tau, chunk_size, duplicate_genes, min_size, max_size)
    values, genes, samples = _expression_matrix(expression, duplicate_genes)
    n_genes = len(genes)
    names, members = _map_gene_sets(gene_set_mapping(gene_sets), genes, min_size, max_size)

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
        scores = normalise_by_range(scores)
    return pd.DataFrame(scores, index=pd.Index(names, name="gene_set"), columns=samples)


def _is_positive_integer(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value >= 1


def check_ssgsea_parameters(
    tau: float,
    chunk_size: int,
    duplicate_genes: str,
    min_size: int,
    max_size: int | None,
) -> None:
    """Raise :class:`~helpers.errors.ParameterError` on a bad parameter of :func:`ssgsea`."""
    if not np.isfinite(tau) or tau < 0:
        raise ParameterError(f"tau must be a finite number >= 0, got {tau!r}")
    if not _is_positive_integer(chunk_size):
        raise ParameterError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    if duplicate_genes not in ("error", "first"):
        raise ParameterError(f"duplicate_genes must be 'error' or 'first', got {duplicate_genes!r}")
    if min_size < 1:
        raise ParameterError(f"min_size must be >= 1, got {min_size!r}")
    if max_size is not None and max_size < min_size:
        raise ParameterError(f"max_size ({max_size}) is smaller than min_size ({min_size})")


def normalise_by_range(scores: np.ndarray) -> np.ndarray:
    """GSVA's ``ssgsea.norm=TRUE``: every score divided by the range of all scores."""
    spread = float(scores.max() - scores.min())
    if not spread > 0:
        raise InputError("cannot normalise: all ssGSEA scores are equal (range 0)")
    return scores / spread


def _expression_matrix(
    expression: pd.DataFrame, duplicate_genes: str
) -> tuple[np.ndarray, pd.Index, pd.Index]:
    """Validate the expression table and return (genes x samples float64 array, genes, samples)."""
    if not isinstance(expression, pd.DataFrame):
        raise TypeError(
            f"expression must be a pandas DataFrame (genes x samples), got {type(expression).__name__}"
        )
    bad_columns = [
        col
        for col, dtype in expression.dtypes.items()
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
    ]
    if bad_columns:
        raise TypeError(f"expression has non-numeric sample column(s): {bad_columns[:5]}")
    if expression.shape[1] == 0:
        raise InputError("expression has no sample column")
    _check_gene_labels(expression.index, duplicate_genes)
    duplicated = expression.index.duplicated(keep="first")
    if duplicated.any():
        expression = expression.loc[~duplicated]
    if expression.shape[0] < 2:
        raise InputError(f"expression needs at least two genes, got {expression.shape[0]}")
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


def _check_gene_labels(genes: pd.Index, duplicate_genes: str) -> None:
    """Missing gene labels, and repeated ones unless ``duplicate_genes="first"``, are errors."""
    if not (genes.hasnans or (duplicate_genes == "error" and genes.has_duplicates)):
        return
    # Rows numbered from 1, as a reader counts the rows of the table.
    labels = pd.DataFrame({"gene": genes}, index=pd.RangeIndex(1, len(genes) + 1, name="row"))
    violations: list[Violation] = []
    check(
        violations,
        labels,
        genes.isna(),
        table="expression",
        column="gene",
        rule="every row needs a gene label",
    )
    if duplicate_genes == "error":
        check(
            violations,
            labels,
            genes.duplicated(keep="first") & ~genes.isna(),
            table="expression",
            column="gene",
            rule="a gene label must not repeat (aggregate the rows first, or pass "
            "duplicate_genes='first' to keep the first row of each)",
        )
    raise_violations(violations, where="expression (genes x samples) cannot be ranked")


def _raise_on_nan(expression: pd.DataFrame, values: np.ndarray) -> None:
    """One violation per sample with NaN (the first few samples), naming the genes."""
    missing = np.isnan(values)
    per_sample = missing.sum(axis=0)
    with_nan = np.flatnonzero(per_sample)
    violations: list[Violation] = []
    for position in with_nan[:N_EXAMPLES]:
        column = expression.iloc[:, [position]]
        check(
            violations,
            column,
            missing[:, position],
            table="expression",
            column=column.columns[0],
            rule="must not be NaN: ssGSEA ranks every gene of a sample, so impute or drop them first",
        )
    shown = "" if len(with_nan) <= N_EXAMPLES else f"; the first {N_EXAMPLES} shown"
    raise_violations(
        violations,
        where=f"expression has {int(missing.sum())} NaN value(s) in {len(with_nan)} sample(s){shown}",
    )


def gene_set_mapping(gene_sets: Mapping[str, Iterable[str]]) -> Mapping[str, Iterable[str]]:
    """Check that ``gene_sets`` is a non-empty ``{name: genes}`` mapping and return it."""
    if isinstance(gene_sets, (str, os.PathLike)):
        raise TypeError(
            f"gene_sets must be a mapping of name -> genes, got the path {str(gene_sets)!r}; "
            "read a GMT file with helpers.data.genesets.read_gmt"
        )
    if not isinstance(gene_sets, Mapping):
        raise TypeError(f"gene_sets must be a mapping of name -> genes, got {type(gene_sets).__name__}")
    if not gene_sets:
        raise InputError("gene_sets is empty")
    for name, genes in gene_sets.items():
        if isinstance(genes, str):
            raise TypeError(f"gene set {name!r} must be a list of genes, not the string {genes!r}")
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
        unique_genes = list(dict.fromkeys(set_genes))  # a repeated gene counts once
        positions = genes.get_indexer(unique_genes)
        positions = positions[positions >= 0]
        size = len(positions)
        if size < min_size or (max_size is not None and size > max_size):
            dropped.append(f"{name} ({size} of {len(unique_genes)} genes present)")
            continue
        if size == len(genes):
            raise InputError(
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
        raise InputError("no gene set left to score: none has enough genes present in the data")
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


def _walk_positions_and_ranks(block: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
