"""Benchmarks of the book, measured side by side in one run: ``make bench``.

Prints the time to simulate the default cohort, the time of each notebook and of the book
build (in a throw-away copy of the sources, so the real ``_build/`` is untouched), and the
TME scoring benchmark (``bench/tme_bench.py``), the counting-process Cox fit against lifelines
(``bench/cox_counting.py``) and the scale table (``bench/scale.py``: wall time and peak RSS of the
simulation and of each chapter at 5,000, 20,000 and 100,000 patients, with the ratios to 5,000;
``--scale-small`` leaves out 100,000) and the small-cohort sweep (``bench/sweep.py``: every
chapter on 50 and 80 patients, seeds 0-4, and on the smallest public cohorts). ``--quick`` uses
small sizes.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def report(name: str, value: float, unit: str) -> None:
    print(f"  {name:<58s} {value:>12.4g} {unit}", flush=True)


def bench_book(n_patients: int, seed: int) -> None:
    from bookroot import copy_book_sources
    from helpers.book import pipeline
    from helpers.book.pipeline import load_params
    from helpers.simulate import save_simulated, simulate_cohort

    print(f"Book on the simulated cohort ({n_patients} patients, seed {seed})")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        cohort, truth = simulate_cohort(n_patients=n_patients, seed=seed)
        report("simulate the cohort", time.perf_counter() - t0, "s")
        t0 = time.perf_counter()
        path = save_simulated(cohort, truth, Path(tmp) / "cohort")
        report("write the cohort (Parquet)", time.perf_counter() - t0, "s")
        root = copy_book_sources(Path(tmp) / "repo")
        original = pipeline.REPO
        pipeline.REPO = root
        try:
            params = load_params()
            params.update(cohort=str(path), n_patients=n_patients, seed=seed)
            t0 = time.perf_counter()
            result = pipeline.run(params, progress=False, log=lambda s: None)
            total = time.perf_counter() - t0
        finally:
            pipeline.REPO = original
        for name, seconds in result.timings.items():
            label = "build the book (Jupyter Book)" if name == "(book build)" else f"notebook {name}"
            report(label, seconds, "s")
        report("whole run (notebooks + build)", total, "s")


def _bench_module(stem: str):
    """The benchmark script ``bench/<stem>.py`` as a module, or None when it is not there."""
    path = REPO / "bench" / f"{stem}.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"{stem}_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a try-out")
    parser.add_argument("--skip-book", action="store_true")
    parser.add_argument("--skip-tme", action="store_true")
    parser.add_argument("--skip-cox", action="store_true")
    parser.add_argument("--skip-scale", action="store_true", help="leave out the scale table")
    parser.add_argument("--skip-sweep", action="store_true", help="leave out the small-cohort sweep")
    parser.add_argument(
        "--scale-small",
        action="store_true",
        help="scale table at 5,000 and 20,000 patients only (not 100,000)",
    )
    args = parser.parse_args(argv)
    if not args.skip_book:
        bench_book(800 if args.quick else 5000, 0)
    if not args.skip_tme and (tme := _bench_module("tme_bench")):
        print("TME scoring (ssGSEA)")
        takes_quick = "quick" in inspect.signature(tme.run).parameters
        tme.run(report, **({"quick": args.quick} if takes_quick else {}))
    if not args.skip_cox and (cox := _bench_module("cox_counting")):
        print("Cox model on counting-process data (start, stop]): lifelines vs helpers.stats.cox_counting")
        cox.run(report, quick=args.quick)
    if not args.skip_scale and (scale := _bench_module("scale")):
        sizes = (800, 2000) if args.quick else (5000, 20000) if args.scale_small else scale.DEFAULT_SIZES
        scale.run(sizes)
    if not args.skip_sweep and (sweep := _bench_module("sweep")):
        sweep.run(seeds=(0, 2) if args.quick else (0, 1, 2, 3, 4))
    return 0


if __name__ == "__main__":
    sys.exit(main())
