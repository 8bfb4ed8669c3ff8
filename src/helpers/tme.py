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
"""
from __future__ import annotations

import os
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal, Union

import numpy as np
import pandas as pd

__all__ = [
    "DATA_DIR",
    "SIGNATURE_DIR",
    "GMTFormatError",
    "EmptyGeneSetWarning",
    "read_gmt",
    "load_signatures",
    "ssgsea",
]

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
SIGNATURE_DIR = DATA_DIR / "signatures"

GeneSets = Union[Mapping[str, Iterable[str]], str, "os.PathLike[str]"]


class GMTFormatError(ValueError):
    """A GMT file is malformed (the message names the file and the line)."""


class EmptyGeneSetWarning(UserWarning):
    """A gene set was dropped from scoring because too few of its genes are in the data."""


# ----------------------------------------------------------------------------- GMT files


def read_gmt(path: str | os.PathLike[str]) -> dict[str, list[str]]:
    """Read a GMT file into an ordered ``{set name: [genes]}`` mapping.

    Each non-blank line is ``name<TAB>description<TAB>gene<TAB>gene...``. Lines starting
    with ``#`` are skipped, trailing tabs at the end of a line are ignored, the
    description may be empty.

    Parameters
    ----------
    path
        The GMT file.

    Returns
    -------
    dict[str, list[str]]
        Gene sets in file order; genes in the order given.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    GMTFormatError
        On a line with fewer than three fields, an empty set name or gene field, a gene
        repeated within a set, a set name defined twice, or a file with no set. The
        message names the file and the line number.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"GMT file not found: {path}")
    gene_sets: dict[str, list[str]] = {}
    defined_on: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for line_no, raw_line in enumerate(handle, start=1):
            line = raw_line.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            where = f"{path}, line {line_no}"
            fields = line.rstrip("\t").split("\t")
            if len(fields) < 3:
                raise GMTFormatError(
                    f"{where}: expected 'name<TAB>description<TAB>gene...' with at least "
                    f"one gene, found {len(fields)} tab-separated field(s)"
                )
            name = fields[0].strip()
            genes = [gene.strip() for gene in fields[2:]]
            if not name:
                raise GMTFormatError(f"{where}: the gene-set name (field 1) is empty")
            empty_columns = [str(col) for col, gene in enumerate(genes, start=3) if not gene]
            if empty_columns:
                raise GMTFormatError(
                    f"{where}: gene set {name!r} has empty gene field(s) at "
                    f"column(s) {', '.join(empty_columns)}"
                )
            if name in gene_sets:
                raise GMTFormatError(
                    f"{where}: gene set {name!r} is defined twice "
                    f"(first on line {defined_on[name]})"
                )
            repeated = sorted(gene for gene, count in Counter(genes).items() if count > 1)
            if repeated:
                raise GMTFormatError(
                    f"{where}: gene set {name!r} lists gene(s) more than once: "
                    f"{', '.join(repeated)}"
                )
            gene_sets[name] = genes
            defined_on[name] = line_no
    if not gene_sets:
        raise GMTFormatError(f"{path}: no gene set found")
    return gene_sets


def load_signatures(names: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Load the signatures shipped in ``data/signatures/*.gmt``.

    Parameters
    ----------
    names
        Signature names to return, in this order. ``None`` returns every shipped
        signature, file by file (files in alphabetical order), in file order.

    Returns
    -------
    dict[str, list[str]]
        ``{signature name: [HGNC symbols]}``.

    Raises
    ------
    FileNotFoundError
        If the signature directory or its GMT files are missing.
    GMTFormatError
        If a file is malformed or two files define the same signature name.
    KeyError
        If a requested name is not shipped (the message lists what is).
    TypeError
        If ``names`` is a single string rather than an iterable of names.
    """
    if isinstance(names, str):
        raise TypeError(f"names must be an iterable of signature names, not the string {names!r}")
    gmt_files = sorted(SIGNATURE_DIR.glob("*.gmt"))
    if not gmt_files:
        raise FileNotFoundError(f"no GMT file found in {SIGNATURE_DIR}")
    library: dict[str, list[str]] = {}
    source: dict[str, Path] = {}
    for gmt_file in gmt_files:
        for name, genes in read_gmt(gmt_file).items():
            if name in library:
                raise GMTFormatError(
                    f"signature {name!r} is defined in both {source[name].name} and {gmt_file.name}"
                )
            library[name] = genes
            source[name] = gmt_file
    if names is None:
        return library
    requested = list(names)
    unknown = [name for name in requested if name not in library]
    if unknown:
        raise KeyError(
            f"unknown signature(s) {unknown}; shipped in {SIGNATURE_DIR}: {sorted(library)}"
        )
    return {name: list(library[name]) for name in requested}


# ----------------------------------------------------------------------------- ssGSEA


def ssgsea(
    expression: pd.DataFrame,
    gene_sets: GeneSets,
    tau: float = 0.25,
    normalize: bool = False,
    *,
    chunk_size: int = 64,
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
        ``{set name: genes}`` or the path of a GMT file. Genes absent from ``expression``
        are ignored, a gene repeated within a set counts once.
    tau
        Weight exponent of the ranks (GSVA's ``tau``; 0.25 as in Barbie et al. 2009).
    normalize
        Divide all scores by their range over the whole result (GSVA's
        ``ssgsea.norm=TRUE``). This makes every score depend on the other samples and
        sets of the run; it exists for conformance with GSVA only.
    chunk_size
        Samples scored at once; bounds memory (about ``8 * chunk_size * n_genes`` bytes
        per working array). Results do not depend on it.
    duplicate_genes
        ``"error"`` (default) rejects duplicated gene labels; ``"first"`` keeps the first
        row of each label, as the GSVA conformance reference did. (GSVA itself would rank
        the duplicate rows too but match set genes to the first one.)
    min_size, max_size
        Sets with fewer than ``min_size`` or more than ``max_size`` genes present in the
        data are dropped, as GSVA's ``min.sz`` (default 1) and ``max.sz`` (default Inf).
        A dropped set gives an :class:`EmptyGeneSetWarning`, not a row.

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
        block = np.ascontiguousarray(values[:, start:stop].T)  # samples x genes
        walk, rank = _walk_positions_and_ranks(block, union)
        del block
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
            f"expression must be a pandas DataFrame (genes x samples), got {type(expression).__name__}"
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
    values = expression.to_numpy(dtype=np.float64, copy=False)
    missing = np.isnan(values)
    if missing.any():
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
    return values, expression.index, expression.columns


def _as_gene_set_mapping(gene_sets: GeneSets) -> Mapping[str, Iterable[str]]:
    if isinstance(gene_sets, (str, os.PathLike)):
        return read_gmt(gene_sets)
    if not isinstance(gene_sets, Mapping):
        raise TypeError(
            f"gene_sets must be a mapping of name -> genes or a GMT path, got {type(gene_sets).__name__}"
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
            raise TypeError(f"gene set {name!r} must be a list of genes, not the string {set_genes!r}")
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


def _walk_positions_and_ranks(block: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the genes ``wanted`` (sorted column indices) of each row of ``block`` (samples x
    genes): ``n - P + 1`` (P = 1-based position in GSVA's decreasing walk) and the truncated
    rank R, both as (rows x len(wanted)) integer arrays.

    With ascending 0-based positions: a tie group spanning positions ``a..b`` has average
    rank ``(a + b) / 2 + 1``, truncated by ``as.integer``; in the decreasing walk its
    members come in input order, so the member at stable ascending position ``p`` has
    ``n - P + 1 = a + b + 1 - p``. A gene tied with no other has ``a = b = p`` and both
    numbers reduce to ``p + 1``; ties among genes that are not wanted change nothing.
    """
    n_rows, n_genes = block.shape
    is_wanted = np.zeros(n_genes, dtype=bool)
    is_wanted[wanted] = True
    column_of = np.full(n_genes, -1, dtype=np.intp)
    column_of[wanted] = np.arange(len(wanted))

    order = np.argsort(block, axis=1)  # SIMD quicksort: fast but not stable, see below
    # Flat indices (row * n_genes + ascending position) of the wanted genes, row by row.
    flat = np.flatnonzero(np.take(is_wanted, order))
    flat_order = order.reshape(-1)
    flat_block = block.reshape(-1)
    gene = flat_order[flat]
    row = flat // n_genes
    row_start = row * n_genes
    pos = flat - row_start
    position = np.empty((n_rows, len(wanted)), dtype=np.int64)
    position[row, column_of[gene]] = pos

    # Is a wanted gene tied with a neighbour in sorted order? Only then do ties matter.
    value = block[:, wanted].reshape(-1)[row * len(wanted) + column_of[gene]]
    left = flat_block[row_start + flat_order[np.maximum(flat - 1, row_start)]]
    right = flat_block[row_start + flat_order[np.minimum(flat + 1, row_start + n_genes - 1)]]
    tied = ((pos > 0) & (left == value)) | ((pos < n_genes - 1) & (right == value))
    walk = position + 1
    rank = walk.copy()
    if tied.any():
        rows = np.unique(row[tied])
        walk[rows], rank[rows] = _tied_walk_positions_and_ranks(
            block[rows], order[rows], is_wanted, column_of, len(wanted)
        )
    return walk, rank


def _tied_walk_positions_and_ranks(
    block: np.ndarray,
    order: np.ndarray,
    is_wanted: np.ndarray,
    column_of: np.ndarray,
    n_wanted: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The tie-aware branch of :func:`_walk_positions_and_ranks` for rows with ties."""
    n_rows, n_genes = block.shape
    sorted_values = np.take_along_axis(block, order, axis=1)
    tied_with_next = sorted_values[:, 1:] == sorted_values[:, :-1]
    del sorted_values
    column = np.arange(n_genes)
    starts = np.ones((n_rows, n_genes), dtype=bool)
    starts[:, 1:] = ~tied_with_next
    ends = np.ones((n_rows, n_genes), dtype=bool)
    ends[:, :-1] = ~tied_with_next
    del tied_with_next
    group_start = np.maximum.accumulate(np.where(starts, column, 0), axis=1)
    group_end = np.minimum.accumulate(np.where(ends, column, n_genes)[:, ::-1], axis=1)[:, ::-1]

    # Put the genes of each tie group in input order (what a stable sort gives, and what
    # R's order(decreasing=TRUE) keeps): one sort of (row, group, gene) keys, tied entries only.
    row, pos = np.nonzero(~(starts & ends))
    del starts, ends
    keys = (row.astype(np.int64) * n_genes + group_start[row, pos]) * n_genes + order[row, pos]
    keys.sort()
    order[row, pos] = keys % n_genes
    del row, pos, keys

    row, pos = np.nonzero(is_wanted[order])
    p = np.empty((n_rows, n_wanted), dtype=np.int64)
    p[row, column_of[order[row, pos]]] = pos
    a = np.take_along_axis(group_start, p, axis=1)
    b = np.take_along_axis(group_end, p, axis=1)
    return a + b + 1 - p, (a + b) // 2 + 1
