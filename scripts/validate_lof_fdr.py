"""Validate the acquired-LoF analysis on many simulated cohorts: false discovery proportion and power.

For each seed a cohort is simulated (``helpers.simulate.simulate_cohort``), the primary comparison
of chapter 4 (acquired post-progression vs pre-treatment samples, Benjamini–Hochberg within each
cancer type) is run, and the genes found at the FDR are scored against the planted truth.
Printed: the false discovery proportion (null genes found / all genes found, over all cancer
types; 0 when nothing is found; a planted gene found in a cancer type where it was not planted
counts as null) averaged over the cohorts, and the power for each planted gene (the share of
cohorts in which it is found in its cancer type), for the book's criterion ``both`` (the larger
of the Fisher and Firth p-values must pass) and, for comparison, for each test alone. Exit
status 1 when the mean FDP of the book's criterion exceeds the FDR.

Usage::

    .venv/bin/python scripts/validate_lof_fdr.py --n-cohorts 20
    .venv/bin/python scripts/validate_lof_fdr.py --n-cohorts 5 --n-patients 3000 --first-seed 100

Only the p-values are needed, so the Firth intervals are not computed (``profile_ci=False``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import yaml

from helpers.analysis.lof import PRIMARY_COMPARISON, acquired_lof_analysis, discovery_report
from helpers.simulate import simulate_cohort

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    params = yaml.safe_load((REPO / "params.yml").read_text()) or {}
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-cohorts", type=int, default=20, help="number of simulated cohorts (seeds)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds first-seed, first-seed + 1, ...")
    parser.add_argument("--n-patients", type=int, default=5000, help="patients per simulated cohort")
    parser.add_argument("--fdr", type=float, default=float(params.get("fdr", 0.1)))
    parser.add_argument("--min-carriers", type=int, default=int(params.get("min_carriers", 3)))
    parser.add_argument("--benefit-months", type=float, default=float(params.get("benefit_months", 6)))
    parser.add_argument(
        "--min-exposure-weeks", type=float, default=float(params.get("min_exposure_weeks", 6))
    )
    args = parser.parse_args(argv)
    if args.n_cohorts < 1:
        parser.error("--n-cohorts must be at least 1")

    criteria = ("both", "firth", "fisher")
    fdp = {c: [] for c in criteria}
    n_false = {c: [] for c in criteria}
    power = {c: Counter() for c in criteria}
    false_pairs = {c: Counter() for c in criteria}
    planted: list[tuple[str, str]] = []
    print(
        f"{args.n_cohorts} simulated cohorts of {args.n_patients} patients, seeds "
        f"{args.first_seed}..{args.first_seed + args.n_cohorts - 1}; FDR {args.fdr:g}, "
        f"min_carriers {args.min_carriers}; primary comparison ({PRIMARY_COMPARISON})",
        flush=True,
    )
    started = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.n_cohorts):
        cohort, truth = simulate_cohort(n_patients=args.n_patients, seed=seed)
        analysis = acquired_lof_analysis(
            cohort,
            args.benefit_months,
            args.min_exposure_weeks,
            args.min_carriers,
            args.fdr,
            comparisons=(PRIMARY_COMPARISON,),
            profile_ci=False,
        )
        line = [f"seed {seed:4d}:"]
        for criterion in criteria:
            report = discovery_report(analysis, truth, criterion)
            planted = sorted(report["planted_found"])
            fdp[criterion].append(report["fdp"])
            n_false[criterion].append(len(report["false"]))
            power[criterion].update(pair for pair, hit in report["planted_found"].items() if hit)
            false_pairs[criterion].update(report["false"])
            false_text = ", ".join(f"{g} ({t})" for t, g in report["false"]) or "none"
            line.append(
                f"{criterion}: {len(report['true'])}/{len(planted)} planted, "
                f"false: {false_text}, FDP {report['fdp']:.3f};"
            )
        print(" ".join(line), flush=True)

    n = args.n_cohorts
    print(f"\nelapsed {time.perf_counter() - started:.0f} s")
    print("\ncriterion  mean FDP  (SE)     mean false discoveries per cohort")
    for criterion in criteria:
        values = np.array(fdp[criterion])
        se = values.std(ddof=1) / np.sqrt(n) if n > 1 else float("nan")
        print(f"{criterion:9s}  {values.mean():.4f}   ({se:.4f})   {np.mean(n_false[criterion]):.2f}")
    print("\npower (share of cohorts in which the planted gene is found in its cancer type)")
    print(f"{'cancer type':12s} {'gene':8s} " + " ".join(f"{c:>7s}" for c in criteria))
    for cancer_type, gene in planted:
        print(
            f"{cancer_type:12s} {gene:8s} "
            + " ".join(f"{power[c][(cancer_type, gene)] / n:7.2f}" for c in criteria)
        )
    for criterion in criteria:
        if false_pairs[criterion]:
            listed = ", ".join(f"{g} ({t}) x{k}" for (t, g), k in sorted(false_pairs[criterion].items()))
            print(f"\nfalse discoveries, {criterion}: {listed}")
    mean_fdp = float(np.mean(fdp["both"]))
    verdict = "PASS" if mean_fdp <= args.fdr else "FAIL"
    print(
        f"\n{verdict}: mean FDP of the book's criterion (both tests) {mean_fdp:.4f} vs nominal FDR {args.fdr:g}"
    )
    return 0 if mean_fdp <= args.fdr else 1


if __name__ == "__main__":
    sys.exit(main())
