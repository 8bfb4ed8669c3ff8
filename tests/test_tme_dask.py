"""ssGSEA on a Dask cluster: identical to the in-memory path, memory bounded by the chunk."""

from __future__ import annotations

import functools
import tracemalloc

import distributed
import numpy as np
import pandas as pd
import pytest

from helpers.errors import InputError, ParameterError
from helpers.stats.ssgsea import EmptyGeneSetWarning, ssgsea
from helpers.stats.ssgsea_dask import ChunkLoader, ssgsea_dask


@pytest.fixture(scope="module")
def client():
    """One in-process worker with one thread: light on the shared machine."""
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        with distributed.Client(cluster) as dask_client:
            yield dask_client


def synthetic_chunk(index: int, n_genes: int = 1500, n_samples: int = 25) -> pd.DataFrame:
    """Chunk ``index`` of a deterministic data set (rounded values: many ties)."""
    rng = np.random.default_rng(1000 + index)
    values = np.round(rng.normal(size=(n_genes, n_samples)), 2)
    return pd.DataFrame(
        values, index=[f"G{i}" for i in range(n_genes)], columns=[f"C{index}_S{j}" for j in range(n_samples)]
    )


@pytest.fixture(scope="module")
def gene_sets() -> dict[str, list[str]]:
    rng = np.random.default_rng(3)
    genes = [f"G{i}" for i in range(1500)]
    return {
        f"set{k}": list(rng.choice(genes, size=int(rng.integers(2, 60)), replace=False)) for k in range(12)
    }


@pytest.fixture(scope="module")
def expression() -> pd.DataFrame:
    return pd.concat([synthetic_chunk(i) for i in range(4)], axis=1)


def test_dataframe_source_is_identical_to_in_memory(client, expression, gene_sets):
    expected = ssgsea(expression, gene_sets)
    for per_task in (1, 7, 100):
        scores = ssgsea_dask(expression, gene_sets, client=client, samples_per_task=per_task)
        np.testing.assert_array_equal(scores.to_numpy(), expected.to_numpy())
        assert list(scores.columns) == list(expected.columns)
        assert list(scores.index) == list(expected.index)


def test_normalised_scores_are_identical_to_in_memory(client, expression, gene_sets):
    """Normalisation divides by the range of the whole result, after every chunk is back."""
    expected = ssgsea(expression, gene_sets, normalize=True)
    scores = ssgsea_dask(expression, gene_sets, normalize=True, client=client, samples_per_task=30)
    np.testing.assert_array_equal(scores.to_numpy(), expected.to_numpy())
    raw = ssgsea(expression, gene_sets).to_numpy()
    np.testing.assert_array_equal(scores.to_numpy(), raw / (raw.max() - raw.min()))


def test_generator_source_is_identical(client, expression, gene_sets):
    pulled = []

    def chunks():
        for i in range(4):
            pulled.append(i)
            yield synthetic_chunk(i)

    scores = ssgsea_dask(chunks(), gene_sets, client=client, max_in_flight=2)
    assert pulled == [0, 1, 2, 3]
    np.testing.assert_array_equal(scores.to_numpy(), ssgsea(expression, gene_sets).to_numpy())


def test_chunk_loader_runs_on_the_workers(client, expression, gene_sets):
    loader = ChunkLoader(functools.partial(synthetic_chunk, n_genes=1500, n_samples=25), 4)
    scores = ssgsea_dask(loader, gene_sets, client=client)
    np.testing.assert_array_equal(scores.to_numpy(), ssgsea(expression, gene_sets).to_numpy())
    assert list(scores.columns) == list(expression.columns)


def test_memory_is_bounded_by_the_chunk_not_the_data(client, gene_sets):
    """Peak traced memory with 12 generated chunks is close to that with 2."""

    def peak(n_chunks: int) -> int:
        loader = ChunkLoader(functools.partial(synthetic_chunk, n_genes=1500, n_samples=200), n_chunks)
        tracemalloc.start()
        try:
            ssgsea_dask(loader, gene_sets, client=client, max_in_flight=1)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(2), peak(12)
    chunk_bytes = 1500 * 200 * 8
    # six times the data: memory held per chunk would grow ~6x; the margin over 1 absorbs the
    # scheduler's timing (a busy machine lets a result and the next chunk overlap)
    assert large < 2 * small, (small, large)
    assert large < 12 * chunk_bytes  # never the whole data set at once


def test_local_cluster_when_asked(expression, gene_sets):
    """The default cluster has a worker *process*: tasks and loaders cross a pickle boundary."""
    loader = ChunkLoader(functools.partial(synthetic_chunk, n_genes=1500, n_samples=25), 2)
    scores = ssgsea_dask(loader, gene_sets, scheduler="local")
    np.testing.assert_array_equal(scores.to_numpy(), ssgsea(expression.iloc[:, :50], gene_sets).to_numpy())


def test_dropped_set_warns_once(client, expression):
    sets = {"present": ["G1", "G2", "G3"], "absent": ["NOT_A_GENE"]}
    with pytest.warns(EmptyGeneSetWarning, match=r"absent \(0 of 1 genes present\)") as caught:
        scores = ssgsea_dask(expression, sets, client=client, samples_per_task=10)
    assert len([w for w in caught if issubclass(w.category, EmptyGeneSetWarning)]) == 1
    assert list(scores.index) == ["present"]


def test_chunks_with_other_genes_are_an_error(client, gene_sets):
    chunks = [synthetic_chunk(0), synthetic_chunk(1).iloc[::-1]]
    with pytest.raises(InputError, match="expression chunk 1 has other genes"):
        ssgsea_dask(iter(chunks), gene_sets, client=client)


def test_a_bad_chunk_names_itself(client, gene_sets):
    def load(index: int) -> pd.DataFrame:
        chunk = synthetic_chunk(index)
        if index == 2:
            chunk.iloc[5, 3] = np.nan
        return chunk

    with pytest.raises(InputError, match=r"1 NaN value\(s\) in 1 sample") as caught:
        ssgsea_dask(ChunkLoader(load, 3), gene_sets, client=client)
    assert "while scoring expression chunk 2" in caught.value.__notes__


@pytest.mark.parametrize(
    ("source", "kwargs", "error", "message"),
    [
        ([synthetic_chunk(0), "not a frame"], {}, TypeError, "chunk 1 is a str"),
        ([synthetic_chunk(0), synthetic_chunk(0)], {}, InputError, "occur in more than one chunk"),
        ([], {}, InputError, "yielded no chunk"),
        ("expression.tsv", {}, TypeError, "source must be a DataFrame"),
        ([synthetic_chunk(0)], {"samples_per_task": 0}, ParameterError, "samples_per_task"),
        ([synthetic_chunk(0)], {"max_in_flight": 0}, ParameterError, "max_in_flight"),
        ([synthetic_chunk(0)], {"tau": -1.0}, ParameterError, "tau"),
        ([synthetic_chunk(0)], {"scheduler": "tcp://nowhere:1"}, ParameterError, "not both"),
    ],
)
def test_bad_input(client, gene_sets, source, kwargs, error, message):
    with pytest.raises(error, match=message):
        ssgsea_dask(source, gene_sets, client=client, **kwargs)


def test_chunk_loader_validates():
    with pytest.raises(TypeError, match="must be callable"):
        ChunkLoader("not callable", 2)
    with pytest.raises(ParameterError, match="positive integer"):
        ChunkLoader(synthetic_chunk, 0)
