"""ssGSEA on a Dask cluster: sample chunks scored where they are, with bounded memory.

:func:`ssgsea_dask` scores chunks of samples on a ``distributed`` cluster, from a DataFrame, a
generator of chunks or a :class:`ChunkLoader` that makes chunks on the workers. Since a
sample's raw ssGSEA score depends on that sample alone, the result is identical, bit for
bit, to :func:`helpers.stats.ssgsea.ssgsea` on the whole matrix.

``distributed`` is imported inside the functions that start or use a cluster: it is slow to
load, and only this path needs it (the in-memory scorer does not).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from helpers.errors import InputError, ParameterError
from helpers.stats.ssgsea import (
    EmptyGeneSetWarning,
    check_ssgsea_parameters,
    gene_set_mapping,
    normalise_by_range,
    ssgsea,
)

if TYPE_CHECKING:  # pragma: no cover
    import distributed

__all__ = ["ChunkLoader", "ExpressionSource", "ssgsea_dask"]


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
        if (
            isinstance(self.n_chunks, bool)
            or not isinstance(self.n_chunks, (int, np.integer))
            or self.n_chunks < 1
        ):
            raise ParameterError(f"ChunkLoader.n_chunks must be a positive integer, got {self.n_chunks!r}")


ExpressionSource = pd.DataFrame | Iterable[pd.DataFrame] | ChunkLoader


def ssgsea_dask(
    source: ExpressionSource,
    gene_sets: Mapping[str, Iterable[str]],
    tau: float = 0.25,
    normalize: bool = False,
    *,
    client: distributed.Client | None = None,
    scheduler: str | None = None,
    samples_per_task: int = 1000,
    chunk_size: int = 16,
    duplicate_genes: Literal["error", "first"] = "error",
    min_size: int = 1,
    max_size: int | None = None,
    max_in_flight: int | None = None,
    cluster_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """:func:`helpers.stats.ssgsea.ssgsea` over sample chunks on a Dask cluster, with bounded memory.

    Each task scores one chunk of samples with ``ssgsea`` and returns only its scores;
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
        As :func:`helpers.stats.ssgsea.ssgsea`. ``chunk_size`` is the block scored at once inside a task;
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
    helpers.errors.ParameterError
        Bad parameters, or both ``client`` and ``scheduler`` given.
    helpers.errors.InputError
        An empty source, chunks whose genes differ from the first chunk's, a sample label
        in two chunks, or any input error of ``ssgsea`` on a chunk (a note names the chunk).
    TypeError
        A source or chunk that is not a DataFrame.
    """
    check_ssgsea_parameters(tau, chunk_size, duplicate_genes, min_size, max_size)
    for label, value in (("samples_per_task", samples_per_task), ("max_in_flight", max_in_flight)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1
        ):
            raise ParameterError(f"{label} must be a positive integer, got {value!r}")
    if client is not None and scheduler is not None:
        raise ParameterError("give either client or scheduler, not both")
    sets = {str(name): [str(g) for g in genes] for name, genes in gene_set_mapping(gene_sets).items()}
    options = {
        "tau": tau,
        "chunk_size": int(chunk_size),
        "duplicate_genes": duplicate_genes,
        "min_size": min_size,
        "max_size": max_size,
    }

    if isinstance(source, ChunkLoader):
        items: Iterator[tuple[int, Any]] = ((i, i) for i in range(source.n_chunks))
    elif isinstance(source, pd.DataFrame):
        n_samples = source.shape[1]
        if n_samples == 0:
            raise InputError("expression has no sample column")
        items = (
            (k, source.iloc[:, start : start + samples_per_task])
            for k, start in enumerate(range(0, n_samples, samples_per_task))
        )
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
        shared_sets, shared_options = dask_client.scatter([sets, options], broadcast=True, hash=False)
        if isinstance(source, ChunkLoader):
            shared_load = dask_client.scatter(source.load, broadcast=True, hash=False)

        def collect(done: Iterable[Any]) -> None:
            for future in done:
                index = in_flight.pop(future)
                results[index] = future.result()  # re-raises a task's error here
                future.release()

        for index, payload in items:
            if isinstance(source, ChunkLoader):
                future = dask_client.submit(
                    _load_and_score_chunk, shared_load, payload, shared_sets, shared_options, pure=False
                )
            else:
                if not isinstance(payload, pd.DataFrame):
                    raise TypeError(
                        f"chunk {index} is a {type(payload).__name__}, not a DataFrame (genes x samples)"
                    )
                data = dask_client.scatter(payload, hash=False)
                future = dask_client.submit(
                    _score_chunk, data, index, shared_sets, shared_options, pure=False
                )
                del data, payload  # the cluster holds the chunk until its task is done
            in_flight[future] = index
            while len(in_flight) >= limit:
                collect(wait(list(in_flight), return_when="FIRST_COMPLETED").done)
        while in_flight:
            collect(wait(list(in_flight), return_when="FIRST_COMPLETED").done)

    if not results:
        raise InputError("the expression source yielded no chunk")
    return _assemble_chunks(results, normalize)


@contextmanager
def _dask_client(
    client: distributed.Client | None,
    scheduler: str | None,
    cluster_options: Mapping[str, Any] | None,
) -> Iterator[distributed.Client]:
    """The given client, a client of the given scheduler, or a LocalCluster for the call."""
    if client is not None:
        yield client
        return
    from distributed import Client, LocalCluster

    if scheduler is None or scheduler == "local":
        options: dict[str, Any] = {
            "n_workers": 1,
            "threads_per_worker": 1,
            "processes": True,
            "memory_limit": "2GB",
            "dashboard_address": ":0",
        }
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


def _score_chunk(
    chunk: pd.DataFrame, index: int, sets: Mapping[str, list[str]], options: Mapping[str, Any]
) -> dict[str, Any]:
    """Score one chunk (a Dask task): scores, set names, samples, a key of its genes."""
    try:
        if not isinstance(chunk, pd.DataFrame):
            raise TypeError(f"the chunk is a {type(chunk).__name__}, not a DataFrame (genes x samples)")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", EmptyGeneSetWarning)
            scores = ssgsea(
                chunk,
                sets,
                options["tau"],
                False,
                chunk_size=options["chunk_size"],
                duplicate_genes=options["duplicate_genes"],
                min_size=options["min_size"],
                max_size=options["max_size"],
            )
    except Exception as error:
        error.add_note(f"while scoring expression chunk {index}")
        raise
    return {
        "scores": scores.to_numpy(),
        "sets": list(scores.index),
        "samples": list(scores.columns),
        "genes": _genes_key(chunk.index),
        "warnings": sorted({str(w.message) for w in caught if issubclass(w.category, EmptyGeneSetWarning)}),
    }


def _load_and_score_chunk(
    load: Callable[[int], pd.DataFrame], index: int, sets: Mapping[str, list[str]], options: Mapping[str, Any]
) -> dict[str, Any]:
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
            raise InputError(
                f"expression chunk {index} has other genes (or another gene order) "
                f"than chunk {order[0]}; every chunk must share the gene index"
            )
        if part["sets"] != first["sets"]:  # cannot differ when the genes agree; kept as a guard
            raise InputError(f"expression chunk {index} scored other gene sets than chunk {order[0]}")
    samples = [s for index in order for s in results[index]["samples"]]
    duplicated = pd.Index(samples).duplicated()
    if duplicated.any():
        examples = list(dict.fromkeys(np.asarray(samples, dtype=object)[duplicated]))[:5]
        raise InputError(
            f"{int(duplicated.sum())} sample label(s) occur in more than one chunk, e.g. {examples}"
        )
    for message in dict.fromkeys(m for index in order for m in results[index]["warnings"]):
        warnings.warn(message, EmptyGeneSetWarning, stacklevel=3)
    scores = np.concatenate([results[index]["scores"] for index in order], axis=1)
    if normalize:
        scores = normalise_by_range(scores)
    return pd.DataFrame(scores, index=pd.Index(first["sets"], name="gene_set"), columns=pd.Index(samples))
