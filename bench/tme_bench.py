"""Benchmark of the TME scorer (``helpers.stats.ssgsea.ssgsea``), called by ``bench/run.py``.

Measured side by side in one run, each scorer in a fresh subprocess so that peak memory is
its own (Linux peak resident set size, reset with ``/proc/self/clear_refs`` after the input
matrix is built, so the figure is the scorer's working memory above its input):

* ``helpers.stats.ssgsea.ssgsea`` against ``gseapy.ssgsea`` (``sample_norm_method="rank"``, one
  thread) on 1,000 samples x 20,000 genes x 50 sets: time ratio, peak-memory ratio and the
  largest relative difference of the raw scores (gseapy's ``ES`` is GSVA's raw ssGSEA score
  on untied data; its ``NES`` is the batch-range normalisation);
* against a bare ``numpy.argsort`` of the same matrix along genes (the floor: every ssGSEA
  must rank every sample): throughput ratio;
* the Dask path (``helpers.stats.ssgsea_dask.ssgsea_dask``) on 100,000 samples x 20,000
  genes, generated chunk by chunk on the workers (never whole in memory), 2 worker
  processes x 1 thread with a 2 GB memory limit each:
  time, samples per second, and peak memory of the workers and of the client; two chunks
  are rescored in memory and must be identical.

Run ``python bench/tme_bench.py [--quick]`` alone, or ``run(report)`` from ``bench/run.py``.

``gseapy`` and ``distributed`` are imported only where they are measured: gseapy in the child
process that runs it (its import must not weigh on the other scorers' memory), distributed in
the Dask run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.stats.ssgsea import ssgsea
from helpers.stats.ssgsea_dask import ChunkLoader, ssgsea_dask

FULL = {
    "samples": 1000,
    "genes": 20000,
    "sets": 50,
    "dask_samples": 100_000,
    "dask_chunk": 1000,
    "dask_workers": 2,
    "memory_limit": "2GB",
}
QUICK = {
    "samples": 200,
    "genes": 5000,
    "sets": 50,
    "dask_samples": 4000,
    "dask_chunk": 500,
    "dask_workers": 2,
    "memory_limit": "2GB",
}
SEED = 20240601

Report = Callable[[str, float, str], None]


# ----------------------------------------------------------------------------- data


def gene_names(n_genes: int) -> list[str]:
    return [f"G{i:05d}" for i in range(n_genes)]


def gene_sets(n_genes: int, n_sets: int) -> dict[str, list[str]]:
    """Random sets of 15-200 genes (the usual ssGSEA size window)."""
    rng = np.random.default_rng(SEED)
    genes = gene_names(n_genes)
    return {
        f"SET{k:02d}": list(rng.choice(genes, size=int(rng.integers(15, 201)), replace=False))
        for k in range(n_sets)
    }


class SyntheticChunks:
    """Chunk ``i`` of a standard-normal genes x samples matrix, made where it is called."""

    def __init__(self, n_genes: int, chunk_samples: int) -> None:
        self.genes = pd.Index(gene_names(n_genes))
        self.chunk_samples = chunk_samples

    def __call__(self, index: int) -> pd.DataFrame:
        rng = np.random.default_rng([SEED, index])
        values = rng.standard_normal((len(self.genes), self.chunk_samples))
        columns = [f"S{index * self.chunk_samples + j:07d}" for j in range(self.chunk_samples)]
        return pd.DataFrame(values, index=self.genes, columns=columns)


# ----------------------------------------------------------------------------- memory


def _status(field: str) -> int:
    """A /proc/self/status field in bytes (VmRSS, VmHWM)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> int:
    """Reset the peak resident set size of this process; return the current RSS."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    return _status("VmRSS")


def peak_rss() -> int:
    return _status("VmHWM")


# ----------------------------------------------------------------------------- one scorer


def child(method: str, n_samples: int, n_genes: int, n_sets: int, out: str, repeats: int) -> None:
    """Run one scorer in this (fresh) process; print JSON with time and peak memory."""
    expression = SyntheticChunks(n_genes, n_samples)(0)
    sets = gene_sets(n_genes, n_sets)
    values = expression.to_numpy()
    if method == "ours":

        def work():
            return ssgsea(expression, sets).to_numpy()
    elif method == "gseapy":
        import gseapy

        def work():
            result = gseapy.ssgsea(
                data=expression,
                gene_sets=sets,
                sample_norm_method="rank",
                correl_norm_type="rank",
                min_size=1,
                max_size=100_000,
                weight=0.25,
                threads=1,
                outdir=None,
                no_plot=True,
                verbose=False,
            )
            es = result.res2d.pivot(index="Term", columns="Name", values="ES").astype(float)
            return es.loc[list(sets), list(expression.columns)].to_numpy()
    elif method == "argsort":

        def work():
            return np.argsort(values, axis=0)
    else:
        raise ValueError(f"unknown method {method!r}")
    baseline = reset_peak()
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    peak = peak_rss() - baseline
    if method != "argsort":
        np.save(out, result)
    print(json.dumps({"seconds": min(times), "peak_bytes": peak, "input_bytes": int(values.nbytes)}))


def _run_child(method: str, size: dict, out: Path, repeats: int) -> dict:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        method,
        "--samples",
        str(size["samples"]),
        "--genes",
        str(size["genes"]),
        "--sets",
        str(size["sets"]),
        "--out",
        str(out),
        "--repeats",
        str(repeats),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child {method} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- Dask


def _worker_reset_peak() -> int:
    return reset_peak()


def _worker_peak() -> int:
    return peak_rss()


def dask_run(size: dict) -> dict:
    """Score ``dask_samples`` samples generated chunk by chunk on a local cluster."""
    from distributed import Client, LocalCluster

    n_chunks = size["dask_samples"] // size["dask_chunk"]
    loader = SyntheticChunks(size["genes"], size["dask_chunk"])
    sets = gene_sets(size["genes"], size["sets"])
    with (
        LocalCluster(
            n_workers=size["dask_workers"],
            threads_per_worker=1,
            processes=True,
            memory_limit=size["memory_limit"],
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(_worker_reset_peak)
        client_baseline = reset_peak()
        start = time.perf_counter()
        scores = ssgsea_dask(ChunkLoader(loader, n_chunks), sets, client=client)
        seconds = time.perf_counter() - start
        client_peak = peak_rss() - client_baseline
        worker_peaks = client.run(_worker_peak)
    for index in (0, n_chunks - 1):  # identical to the in-memory path
        chunk = loader(index)
        expected = ssgsea(chunk, sets).to_numpy()
        np.testing.assert_array_equal(scores[chunk.columns].to_numpy(), expected)
    return {
        "seconds": seconds,
        "samples": scores.shape[1],
        "sets": scores.shape[0],
        "worker_peak_bytes": max(worker_peaks.values()),
        "client_peak_bytes": client_peak,
        "chunk_bytes": size["genes"] * size["dask_chunk"] * 8,
        "n_chunks": n_chunks,
    }


# ----------------------------------------------------------------------------- entry points


def run(report: Report, quick: bool = False) -> None:
    """Measure and ``report(name, value, unit)`` every figure of this benchmark."""
    size = QUICK if quick else FULL
    shape = f"{size['samples']}x{size['genes']}x{size['sets']}"
    with tempfile.TemporaryDirectory() as tmp:
        ours = _run_child("ours", size, Path(tmp) / "ours.npy", repeats=3)
        gsea = _run_child("gseapy", size, Path(tmp) / "gseapy.npy", repeats=1)
        floor = _run_child("argsort", size, Path(tmp) / "argsort.npy", repeats=3)
        ours_scores = np.load(Path(tmp) / "ours.npy")
        gsea_scores = np.load(Path(tmp) / "gseapy.npy")
    difference = np.abs(ours_scores - gsea_scores) / np.maximum(np.abs(gsea_scores), 1e-12)
    MB = 1024**2
    report(f"tme ssgsea {shape}: helpers.stats.ssgsea time", ours["seconds"], "s")
    report(f"tme ssgsea {shape}: gseapy time (1 thread)", gsea["seconds"], "s")
    report("tme ssgsea: speed-up vs gseapy (target >= 10)", gsea["seconds"] / ours["seconds"], "x")
    report(f"tme ssgsea {shape}: helpers.stats.ssgsea peak memory above input", ours["peak_bytes"] / MB, "MB")
    report(f"tme ssgsea {shape}: gseapy peak memory above input", gsea["peak_bytes"] / MB, "MB")
    report(
        "tme ssgsea: peak memory, helpers.stats.ssgsea / gseapy (target <= 0.2)",
        ours["peak_bytes"] / max(gsea["peak_bytes"], 1),
        "ratio",
    )
    report("tme ssgsea: largest relative difference to gseapy ES", float(difference.max()), "")
    report(f"tme argsort {size['samples']}x{size['genes']} along genes: time", floor["seconds"], "s")
    report("tme ssgsea: throughput vs numpy.argsort (target >= 0.7)", floor["seconds"] / ours["seconds"], "x")
    dask = dask_run(size)
    label = (
        f"tme ssgsea Dask {dask['samples']:,}x{size['genes']:,}x{size['sets']} "
        f"({size['dask_workers']} workers x 1 thread, {size['memory_limit']} each, "
        f"{dask['n_chunks']} chunks of {size['dask_chunk']})"
    )
    report(f"{label}: time", dask["seconds"], "s")
    report(f"{label}: throughput", dask["samples"] / dask["seconds"], "samples/s")
    report(f"{label}: worker peak memory", dask["worker_peak_bytes"] / MB, "MB")
    report(f"{label}: client peak memory above start", dask["client_peak_bytes"] / MB, "MB")
    report(f"{label}: one chunk of input", dask["chunk_bytes"] / MB, "MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="TME scorer benchmark")
    parser.add_argument("--quick", action="store_true", help="small sizes, for trying it")
    parser.add_argument("--child", choices=["ours", "gseapy", "argsort"], help=argparse.SUPPRESS)
    parser.add_argument("--samples", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--genes", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--sets", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.samples, args.genes, args.sets, args.out, args.repeats)
        return 0

    def report(name: str, value: float, unit: str) -> None:
        print(f"{name:110s} {value:12.4g} {unit}", flush=True)

    run(report, quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
