"""Validate the acquired-LoF analysis on many simulated cohorts: false discovery proportion and power.

For each seed a cohort is simulated (``helpers.simulate.simulate_cohort``, optionally in a named
scenario), the primary comparison of chapter 4 (post-progression samples of acquired resistance
vs pre-treatment samples of patients of the same class, Benjamini–Hochberg within each cancer
type) and, for contrast, the secondary comparison with the pre-treatment samples of *all*
patients are run, and the genes *found* (q-value at the FDR and LoF enriched by every deciding
test) are scored against the planted truth. Printed, per comparison: the false discovery
proportion (null genes found / all genes found, over all cancer types; 0 when nothing is found; a
planted gene found in a cancer type where it was not planted, and a baseline-selection gene of
the ``selection`` scenario, count as false) averaged over the cohorts, the power for each planted
gene (the share of cohorts in which it is found in its cancer type) beside the power the
simulator recorded in ``truth.json``, and how often each baseline-selection gene was found. For
the primary comparison the book's criterion ``both`` (the larger of the Fisher and Firth
p-values must pass) is shown with each test alone. Exit status 1 when the mean FDP of the book's
call (primary comparison, criterion ``both``) exceeds the FDR, or a selection gene is found in
more than the FDR's share of the cohorts.

Usage::

    .venv/bin/python scripts/validate_lof_fdr.py --n-cohorts 20
    .venv/bin/python scripts/validate_lof_fdr.py --n-cohorts 20 --scenario selection
    .venv/bin/python scripts/validate_lof_fdr.py --n-cohorts 5 --n-patients 3000 --first-seed 100

Only the p-values are needed, so the Firth intervals are not computed (``profile_ci=False``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import yaml

from helpers.analysis.lof import (
    ALL_PRE_COMPARISON,
    PRIMARY_COMPARISON,
    acquired_lof_analysis,
    discovery_report,
    selection_pairs,
)
from helpers.simulate import SCENARIOS, simulate_cohort

REPO = Path(__file__).resolve().parents[1]
#: (comparison, criterion) pairs scored; the first is the book's call.
SCORED = (
    (PRIMARY_COMPARISON, "both"),
    (PRIMARY_COMPARISON, "firth"),
    (PRIMARY_COMPARISON, "fisher"),
    (ALL_PRE_COMPARISON, "both"),
)


def main(argv: list[str] | None = None) -> int:
    params = yaml.safe_load((REPO / "params.yml").read_text()) or {}
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-cohorts", type=int, default=20, help="number of simulated cohorts (seeds)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds first-seed, first-seed + 1, ...")
    parser.add_argument("--n-patients", type=int, default=5000, help="patients per simulated cohort")
    parser.add_argument("--scenario", default="default", choices=list(SCENARIOS), help="simulation scenario")
    parser.add_argument("--fdr", type=float, default=float(params.get("fdr", 0.1)))
    parser.add_argument("--min-carriers", type=int, default=int(params.get("min_carriers", 3)))
    parser.add_argument("--benefit-months", type=float, default=float(params.get("benefit_months", 6)))
    parser.add_argument(
        "--min-exposure-weeks", type=float, default=float(params.get("min_exposure_weeks", 6))
    )
    args = parser.parse_args(argv)
    if args.n_cohorts < 1:
        parser.error("--n-cohorts must be at least 1")

    fdp: dict[tuple[str, str], list[float]] = defaultdict(list)
    n_false: dict[tuple[str, str], list[int]] = defaultdict(list)
    power: dict[tuple[str, str], Counter] = defaultdict(Counter)
    selection_hits: dict[tuple[str, str], Counter] = defaultdict(Counter)
    false_pairs: dict[tuple[str, str], Counter] = defaultdict(Counter)
    recorded: dict[tuple[str, str], list[float]] = defaultdict(list)
    planted: list[tuple[str, str]] = []
    selected: list[tuple[str, str]] = []
    print(
        f"{args.n_cohorts} simulated cohorts ({args.scenario}) of {args.n_patients} patients, seeds "
        f"{args.first_seed}..{args.first_seed + args.n_cohorts - 1}; FDR {args.fdr:g}, "
        f"min_carriers {args.min_carriers}; primary comparison {PRIMARY_COMPARISON}",
        flush=True,
    )
    started = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.n_cohorts):
        cohort, truth = simulate_cohort(n_patients=args.n_patients, seed=seed, scenario=args.scenario)
        selected = selection_pairs(truth)
        for row in truth["acquired_lof"]:
            if row.get("power") is not None:
                recorded[(row["cancer_type"], row["gene"])].append(float(row["power"]))
        analysis = acquired_lof_analysis(
            cohort,
            args.benefit_months,
            args.min_exposure_weeks,
            args.min_carriers,
            args.fdr,
            comparisons=(PRIMARY_COMPARISON, ALL_PRE_COMPARISON),
            profile_ci=False,
        )
        line = [f"seed {seed:4d}:"]
        for key in SCORED:
            comparison, criterion = key
            report = discovery_report(analysis, truth, criterion, comparison=comparison)
            planted = sorted(report["planted_found"])
            fdp[key].append(report["fdp"])
            n_false[key].append(len(report["false"]))
            power[key].update(pair for pair, hit in report["planted_found"].items() if hit)
            selection_hits[key].update(report["selection_found"])
            false_pairs[key].update(report["false"])
            if criterion == "both":
                false_text = ", ".join(f"{g} ({t})" for t, g in report["false"]) or "none"
                name = "primary" if comparison == PRIMARY_COMPARISON else "all-pre"
                line.append(
                    f"{name}: {len(report['true'])}/{len(planted)} planted, false: {false_text}, "
                    f"FDP {report['fdp']:.3f};"
                )
        print(" ".join(line), flush=True)

    n = args.n_cohorts
    print(f"\nelapsed {time.perf_counter() - started:.0f} s")
    names = {key: f"{'primary' if key[0] == PRIMARY_COMPARISON else 'all-pre'}/{key[1]}" for key in SCORED}
    print("\ncomparison/criterion  mean FDP  (SE)     mean false discoveries per cohort")
    for key in SCORED:
        values = np.array(fdp[key])
        se = values.std(ddof=1) / np.sqrt(n) if n > 1 else float("nan")
        print(f"{names[key]:20s}  {values.mean():.4f}   ({se:.4f})   {np.mean(n_false[key]):.2f}")
    print("\npower (share of cohorts in which the planted gene is found in its cancer type)")
    print(f"{'cancer type':12s} {'gene':8s} {'recorded':>8s} " + " ".join(f"{names[k]:>15s}" for k in SCORED))
    for pair in planted:
        mean_recorded = np.mean(recorded[pair]) if recorded[pair] else float("nan")
        print(
            f"{pair[0]:12s} {pair[1]:8s} {mean_recorded:8.2f} "
            + " ".join(f"{power[k][pair] / n:15.2f}" for k in SCORED)
        )
    for pair in selected:
        print(
            f"selection gene {pair[1]} ({pair[0]}) found in: "
            + ", ".join(f"{names[k]} {selection_hits[k][pair] / n:.2f}" for k in SCORED)
        )
    for key in SCORED:
        if false_pairs[key]:
            listed = ", ".join(f"{g} ({t}) x{k}" for (t, g), k in sorted(false_pairs[key].items()))
            print(f"\nfalse discoveries, {names[key]}: {listed}")
    book = SCORED[0]
    mean_fdp = float(np.mean(fdp[book]))
    worst_selection = max((selection_hits[book][pair] / n for pair in selected), default=0.0)
    passed = mean_fdp <= args.fdr and worst_selection <= args.fdr
    print(
        f"\n{'PASS' if passed else 'FAIL'}: mean FDP of the book's call {mean_fdp:.4f} vs nominal FDR "
        f"{args.fdr:g}; selection genes found in at most {worst_selection:.2f} of the cohorts"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
