"""How the book scales with the cohort: wall time and peak memory of each step, side by side.

For each cohort size (default 5,000, 20,000 and 100,000 patients) one child process simulates
and writes the cohort, and one child process per chapter runs the chapter's notebook as
``icb-book run`` would (papermill's parameters injected, every code cell executed in that
process, so its peak resident memory is the chapter's own). The table gives each step's wall
time and peak RSS and their ratios to the smallest size. Run from ``bench/run.py`` (``make
bench``) or alone::

    python bench/scale.py --sizes 5000 20000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = (5000, 20000, 100000)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _child_simulate(n_patients: int, out: str) -> dict:
    from helpers.simulate import save_simulated, simulate_cohort

    t0 = time.perf_counter()
    cohort, truth = simulate_cohort(n_patients=n_patients, seed=0)
    save_simulated(cohort, truth, Path(out))
    return {"seconds": time.perf_counter() - t0, "peak_mb": _peak_rss_mb()}


def _child_chapter(stem: str, cohort: str, results: str) -> dict:
    """Run one chapter's code cells in this process (papermill's parameters injected)."""
    import matplotlib

    matplotlib.use("Agg")
    import papermill as pm
    from IPython.core.interactiveshell import InteractiveShell

    from helpers.book import pipeline

    declared = pipeline.declared_parameters(stem)
    params = {k: v for k, v in pipeline.load_params().items() if k in declared}
    params.update(
        {
            k: v
            for k, v in {"cohort": cohort, "results_dir": results, "chapter": stem}.items()
            if k in declared
        }
    )
    nb = pm.iorw.load_notebook_node(str(REPO / "notebooks" / f"{stem}.ipynb"))  # as papermill reads it
    nb = pm.parameterize.parameterize_notebook(nb, params)
    shell = InteractiveShell.instance()
    t0 = time.perf_counter()
    for cell in nb.cells:
        if cell.cell_type == "code":
            result = shell.run_cell(cell.source, silent=True)
            if not result.success:
                raise RuntimeError(
                    f"{stem}: a cell failed: {result.error_in_exec or result.error_before_exec}"
                )
    return {"seconds": time.perf_counter() - t0, "peak_mb": _peak_rss_mb()}


def _run_child(args: list[str]) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, cwd=REPO
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["failed"]}
    return json.loads(lines[-1])


def measure(sizes: tuple[int, ...]) -> dict[int, dict[str, dict]]:
    """Wall time and peak RSS of the simulation and of each chapter at each size."""
    from helpers.book import pipeline

    out: dict[int, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            cohort = str(Path(tmp) / f"cohort_{n}")
            steps = {"simulate and write": _run_child(["simulate", str(n), cohort])}
            for stem in pipeline.chapters():
                results = str(Path(tmp) / f"results_{n}" / stem)
                steps[stem] = _run_child(["chapter", stem, cohort, results])
            out[n] = steps
    return out


def print_table(measured: dict[int, dict[str, dict]]) -> None:
    sizes = sorted(measured)
    base = sizes[0]
    head = "".join(f"{f'{n:,} pts':>24s}" for n in sizes)
    print(f"  {'step':<34s}{head}")
    print(f"  {'':<34s}" + "".join(f"{'s (x) / GB (x)':>24s}" for _ in sizes))
    steps = list(measured[base])
    totals = {n: 0.0 for n in sizes}
    for step in steps:
        cells = []
        for n in sizes:
            r = measured[n].get(step, {})
            if "error" in r:
                cells.append(f"{'failed':>24s}")
                continue
            b = measured[base][step]
            totals[n] += r["seconds"]
            ratio_t = r["seconds"] / b["seconds"] if b.get("seconds") else float("nan")
            ratio_m = r["peak_mb"] / b["peak_mb"] if b.get("peak_mb") else float("nan")
            cells.append(f"{r['seconds']:8.1f} ({ratio_t:4.1f}) {r['peak_mb'] / 1024:5.2f} ({ratio_m:3.1f})")
        print(f"  {step:<34s}" + "".join(f"{c:>24s}" for c in cells))
    print(
        f"  {'all steps (wall time)':<34s}"
        + "".join(f"{totals[n]:8.1f} ({totals[n] / totals[base]:4.1f}){'':>11s}" for n in sizes)
    )
    failures = {(n, s): r["error"] for n in sizes for s, r in measured[n].items() if "error" in r}
    for (n, s), error in failures.items():
        print(f"  failed at {n:,}: {s}: {error}")


def run(sizes: tuple[int, ...] = DEFAULT_SIZES) -> None:
    print(
        f"Scale: wall time and peak RSS per step at {', '.join(f'{n:,}' for n in sizes)} patients "
        f"(ratios to {sizes[0]:,})"
    )
    print_table(measure(tuple(sizes)))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        kind, *rest = argv[1:]
        result = _child_simulate(int(rest[0]), rest[1]) if kind == "simulate" else _child_chapter(*rest)
        print(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    args = parser.parse_args(argv)
    run(tuple(args.sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
