"""Make the shipped TME reference (data/reference/tme_reference.tsv and its gene universe).

The reference holds per-signature summary statistics (median, 1.4826 x MAD) of raw ssGSEA
scores of the pre-treatment tumours of the public genome-wide RNA-seq ICB cohorts in
../shared/data/public/, and the list of genes they were scored on. Only summary statistics
and gene symbols are written. The result is deterministic: rerunning the script on the same
inputs rewrites the same bytes. See data/reference/README.md.

Usage:
    python scripts/make_tme_reference.py [--public-dir ../shared/data/public] [--out data/reference]
    python scripts/make_tme_reference.py --check   # report transfer checks, write nothing
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.analysis import tme
from helpers.data.genesets import load_signatures
from helpers.stats.ssgsea import EmptyGeneSetWarning
from helpers.units import SUBTYPES

REPO = Path(__file__).resolve().parents[1]


def transfer_checks(public_dir: Path, reference: tme.TMEReference) -> None:
    """Print how well the reference transfers between the cohorts it was made from."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyGeneSetWarning)
        per_cohort = {}
        for name in tme.REFERENCE_COHORTS:
            samples = tme.public_rna_samples(public_dir / name)
            expression = tme.read_public_expression(public_dir / name)[samples["sample_id"]]
            raw, scaled = tme.scale_scores(expression, reference)
            per_cohort[name] = (expression, scaled, tme.assign_subtypes(scaled, reference))
        print("Per-cohort median of the scaled scores (0 = reference centre):")
        rows = {}
        for name, (_, scaled, subtypes) in per_cohort.items():
            rows[name] = {
                "immune_axis": subtypes["immune_axis"].median(),
                "fibrotic_axis": subtypes["fibrotic_axis"].median(),
                "max |signature median|": scaled.median(axis=1).abs().max(),
                "signature with it": scaled.median(axis=1).abs().idxmax(),
                **{f"share {s}": (subtypes["subtype"] == s).mean() for s in SUBTYPES},
            }
        print(pd.DataFrame(rows).T.to_string(float_format=lambda v: f"{v:.2f}"))
        print(
            "\nLeave one cohort out: subtype calls with the reference made without the cohort "
            "vs with the full reference:"
        )
        for name, (expression, _, subtypes) in per_cohort.items():
            others = [c for c in tme.REFERENCE_COHORTS if c != name]
            loo = tme.build_public_reference(public_dir, others)
            _, scaled = tme.scale_scores(expression, loo)
            calls = tme.assign_subtypes(scaled, loo)["subtype"]
            agree = float((calls == subtypes["subtype"]).mean())
            print(f"  {name:36s} agreement {agree:.2f}")
        print("\nMissing universe genes (Gide): change of scaled scores in reference MADs")
        expression = per_cohort[tme.REFERENCE_COHORTS[0]][0]
        _, base = tme.scale_scores(expression, reference)
        signature_genes = {g for genes in load_signatures().values() for g in genes}
        rng = np.random.default_rng(0)
        order = expression.loc[list(reference.universe)].mean(axis=1).sort_values().index
        for share in (0.02, 0.05, 0.10):
            k = int(share * len(reference.universe))
            candidates = [g for g in reference.universe if g not in signature_genes]
            for how, dropped in (
                ("random", set(rng.choice(candidates, size=k, replace=False))),
                ("lowest-expressed", set([g for g in order if g not in signature_genes][:k])),
            ):
                kept = expression.loc[[g for g in expression.index if g not in dropped]]
                _, scaled = tme.scale_scores(kept, reference)
                diff = (scaled - base).abs().to_numpy()
                print(
                    f"  {share:.0%} {how:17s} median {np.median(diff):.3f}  "
                    f"95th centile {np.quantile(diff, 0.95):.3f}  max {diff.max():.3f}"
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--public-dir", type=Path, default=REPO.parent / "shared" / "data" / "public")
    parser.add_argument("--out", type=Path, default=tme.REFERENCE_DIR)
    parser.add_argument(
        "--check",
        action="store_true",
        help="print transfer checks against the shipped reference; write nothing",
    )
    args = parser.parse_args(argv)
    if not args.public_dir.is_dir():
        parser.error(f"public data folder not found: {args.public_dir}")
    if args.check:
        transfer_checks(args.public_dir, tme.load_reference())
        return 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyGeneSetWarning)
        reference = tme.build_public_reference(args.public_dir)
    table, universe = tme.write_reference(reference, args.out)
    print(f"wrote {table} and {universe}: {reference.description}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
