"""The book on the smallest cohorts: does every chapter run (degrade, never crash)?

Runs every chapter with papermill, as ``icb-book run`` does, on simulated cohorts of 50 and 80
patients for seeds 0-4 and on the smallest public cohorts (imported as restricted, as a user
would), and prints one line per cohort with the chapters that failed. ``make bench`` runs it
after the timings; ``tests/test_small_cohorts.py`` covers two of the 50-patient seeds in
``make test``. Alone::

    python bench/sweep.py --sizes 50 --seeds 0 1
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PUBLIC = REPO.parent / "shared" / "data" / "public"
#: The smallest public cohorts by patients (each folder's clinical.tsv).
SMALLEST_PUBLIC = 3


def _smallest_public(k: int) -> list[Path]:
    import pandas as pd

    folders = (
        [f for f in sorted(PUBLIC.iterdir()) if (f / "clinical.tsv").is_file()] if PUBLIC.is_dir() else []
    )
    sizes = {f: len(pd.read_csv(f / "clinical.tsv", sep="\t", usecols=[0])) for f in folders}
    return sorted(sizes, key=sizes.get)[:k]


def _run_book(cohort: Path, work: Path) -> dict[str, str]:
    """Chapter -> "ok" or the first line of its error."""
    from helpers.book import pipeline

    outcome: dict[str, str] = {}
    params = pipeline.load_params()
    if PUBLIC.is_dir():
        params["public_dir"] = str(PUBLIC)
    for stem in pipeline.chapters():
        staging = work / stem
        try:
            pipeline.execute_notebooks(params, cohort, [stem], staging, log=lambda s: None, progress=False)
            outcome[stem] = "ok"
        except Exception as exc:  # a failing chapter is the finding: record it and go on
            outcome[stem] = str(exc).strip().splitlines()[0][:160]
    return outcome


def run(
    sizes: tuple[int, ...] = (50, 80), seeds: tuple[int, ...] = (0, 1, 2, 3, 4), public: bool = True
) -> int:
    """Print the sweep; return the number of chapter runs that failed."""
    from helpers.data.importers import import_tidy
    from helpers.simulate import save_simulated, simulate_cohort

    print(
        f"Small cohorts: every chapter on {', '.join(map(str, sizes))} patients x seeds {seeds}"
        + (f" and the {SMALLEST_PUBLIC} smallest public cohorts" if public else "")
    )
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        cohorts: list[tuple[str, Path]] = []
        for n in sizes:
            for seed in seeds:
                cohort, truth = simulate_cohort(n_patients=n, seed=seed)
                cohorts.append(
                    (
                        f"simulated n={n} seed={seed}",
                        save_simulated(cohort, truth, Path(tmp) / f"s{n}_{seed}"),
                    )
                )
        if public:
            for folder in _smallest_public(SMALLEST_PUBLIC):
                res = import_tidy(folder, Path(tmp) / f"public_{folder.name}")  # restricted, as by default
                cohorts.append(
                    (
                        f"public {folder.name} ({len(res.cohort.patients)} patients)",
                        Path(tmp) / f"public_{folder.name}",
                    )
                )
        for label, path in cohorts:
            t0 = time.perf_counter()
            outcome = _run_book(path, Path(tmp) / "runs" / path.name)
            bad = {s: e for s, e in outcome.items() if e != "ok"}
            failed += len(bad)
            status = (
                "all chapters ran"
                if not bad
                else f"{len(bad)} failed: " + "; ".join(f"{s}: {e}" for s, e in bad.items())
            )
            print(f"  {label:<58s} {time.perf_counter() - t0:6.0f} s  {status}", flush=True)
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 80])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--no-public", action="store_true")
    args = parser.parse_args(argv)
    return 1 if run(tuple(args.sizes), tuple(args.seeds), not args.no_public) else 0


if __name__ == "__main__":
    sys.exit(main())
