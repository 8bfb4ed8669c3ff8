"""Benchmark of the counting-process Cox fit (``helpers.stats.cox_counting``), for ``bench/run.py``.

Side by side in one run, on the same simulated (start, stop] data (one exposure that starts
at a random time for 30% of the patients, splitting their follow-up in two rows; a normal
covariate; 8 strata, as chapter 6's "cancer type"):

* old: lifelines' ``CoxTimeVaryingFitter`` with ``R_CONFORMANT_FIT_OPTIONS`` (what
  ``survival.cox_time_varying`` ran before; quadratic in the rows);
* new: ``helpers.stats.survival.cox_time_varying`` (input checks + ``fit_cox_counting``);

at 5,000 and 20,000 patients (``--quick``: 1,000 and 3,000): both times, their ratio and the
largest relative difference of coefficients and standard errors. The new fit alone is then
timed at 100,000 patients (``--quick``: 20,000), the chapter's size.

Run ``python bench/cox_counting.py [--quick]`` alone, or ``run(report)`` from ``bench/run.py``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from lifelines import CoxTimeVaryingFitter

from helpers.stats import survival as sv

Report = Callable[[str, float, str], None]

FULL = {"compare": (5000, 20000), "alone": 100_000}
QUICK = {"compare": (1000, 3000), "alone": 20_000}


def simulate(n: int, seed: int = 0) -> pd.DataFrame:
    """Counting-process rows of ``n`` patients (exposure from a random day for 30% of them)."""
    rng = np.random.default_rng(seed)
    exposure = np.where(rng.random(n) < 0.3, rng.uniform(0, 10, n), np.nan)
    first, after = rng.exponential(10, n), rng.exponential(20, n)
    exposed_first = ~np.isnan(exposure) & (first > exposure)
    death = np.where(exposed_first, exposure + after, first)
    time_ = np.round(np.minimum(death, 40.0), 2)  # recorded to 0.01: ties, as real follow-up
    data = pd.DataFrame(
        {
            "id": np.arange(n),
            "time": np.maximum(time_, 0.01),
            "event": (death <= 40.0).astype(int),
            "rt_day": np.where(exposure < time_, exposure, np.nan),
            "x": rng.normal(size=n),
            "stratum": rng.integers(0, 8, n),
        }
    )
    return sv.to_counting_process(data, "id", "time", "event", "rt_day", exposure_col="rt")


def old_fit(long: pd.DataFrame) -> CoxTimeVaryingFitter:
    """What ``survival.cox_time_varying`` ran before (without its input checks)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CoxTimeVaryingFitter().fit(
            long,
            event_col="event",
            start_col="start",
            stop_col="stop",
            id_col="id",
            strata=["stratum"],
            fit_options=dict(sv.R_CONFORMANT_FIT_OPTIONS),
        )


def new_fit(long: pd.DataFrame):
    return sv.cox_time_varying(long, "id", "start", "stop", "event", strata="stratum")


def _timed(function: Callable, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def run(report: Report, quick: bool = False) -> None:
    """Measure and ``report(name, value, unit)`` every figure of this benchmark."""
    size = QUICK if quick else FULL
    for n in size["compare"]:
        long = simulate(n)
        label = f"cox (start, stop] {n:,} patients ({len(long):,} rows)"
        new, new_seconds = _timed(new_fit, long)
        old, old_seconds = _timed(old_fit, long)
        coef = float(np.max(np.abs(new.params_ / old.params_ - 1)))
        se = float(np.max(np.abs(new.standard_errors_ / old.standard_errors_ - 1)))
        report(f"{label}: lifelines CoxTimeVaryingFitter", old_seconds, "s")
        report(f"{label}: helpers cox_time_varying", new_seconds, "s")
        report(f"{label}: speed-up", old_seconds / new_seconds, "x")
        report(f"{label}: largest relative difference, coef", coef, "")
        report(f"{label}: largest relative difference, se", se, "")
    n = size["alone"]
    long = simulate(n)
    _, seconds = _timed(new_fit, long)
    report(f"cox (start, stop] {n:,} patients ({len(long):,} rows): helpers cox_time_varying", seconds, "s")


def _report(name: str, value: float, unit: str) -> None:
    print(f"  {name:<78s} {value:>12.4g} {unit}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a try-out")
    args = parser.parse_args(argv)
    print("Cox model on counting-process data (start, stop]")
    run(_report, quick=args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
