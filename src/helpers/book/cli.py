"""``icb-book``: run the book, simulate, validate, import or fetch a cohort."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.book.pipeline import load_params, parse_overrides, run
from helpers.data.cohort import Cohort
from helpers.data.fetch import fetch_study
from helpers.data.importers import import_cbioportal, import_tidy
from helpers.errors import HelpersError
from helpers.simulate import SCENARIOS, save_simulated, simulate_cohort


def _cmd_run(args: argparse.Namespace) -> int:
    params = load_params(args.params, parse_overrides(args.param or []))
    result = run(params, only=args.only, build=not args.no_build)
    if not args.no_build:
        print(f"\nThe book is built: {result.html_index}")
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    if args.list_scenarios:
        for name, description in SCENARIOS.items():
            print(f"{name:22s} {description}")
        return 0
    if not args.out:
        raise SystemExit("icb-book simulate: --out is required (or --list-scenarios)")
    cohort, truth = simulate_cohort(n_patients=args.n_patients, seed=args.seed, scenario=args.scenario)
    out = save_simulated(cohort, truth, args.out)
    print(
        f"simulated cohort written to {out} ({len(cohort.patients)} patients, {len(cohort.samples)} samples)"
    )
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    cohort = Cohort.load(args.path)
    counts = ", ".join(f"{len(df)} {name}" for name, df in cohort.tables.items() if name != "expression")
    print(f"{args.path}: valid canonical cohort '{cohort.name}' ({counts})")
    return 0


def _report_import(result, out: Path) -> None:
    print(result.summary())
    print(f"cohort written to {result.path}")
    print(f"pseudonym mapping (keep it private, never share it with the cohort): {result.pseudonym_path}")
    print(f"run the book on it with: icb-book run -p cohort={result.path}")


def _cmd_import_tidy(args: argparse.Namespace) -> int:
    result = import_tidy(
        args.cohort_dir, args.out_dir, open_data=args.open, death_is_progression=args.death_is_progression
    )
    _report_import(result, args.out_dir)
    return 0


def _cmd_import_cbioportal(args: argparse.Namespace) -> int:
    result = import_cbioportal(
        args.study_dir, args.out_dir, open_data=args.open, death_is_progression=args.death_is_progression
    )
    _report_import(result, args.out_dir)
    return 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    out = args.out or Path("cohorts") / args.study_id
    result = fetch_study(
        args.study_id,
        out,
        base_url=args.base_url,
        cache_dir=args.cache_dir,
        open_data=args.open,
        death_is_progression=args.death_is_progression,
        progress=not args.no_progress,
    )
    _report_import(result, out)
    return 0


def _import_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--open",
        action="store_true",
        help="the data are open published data (access: open, no small-count "
        "suppression); default: restricted",
    )
    p.add_argument(
        "--death-is-progression",
        action="store_true",
        help="count every PFS event as a progression, also a death (the FACTS.md "
        "convention); default: a PFS event on the day of death is not a "
        "progression",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="icb-book", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="execute the notebooks and build the book")
    p.add_argument("--params", help="a YAML file of parameters (overrides params.yml)")
    p.add_argument(
        "-p", "--param", action="append", metavar="KEY=VALUE", help="override one parameter (repeatable)"
    )
    p.add_argument(
        "--only",
        action="append",
        metavar="CHAPTER",
        help="run only this chapter notebook (repeatable), e.g. 02_resistance_classes",
    )
    p.add_argument("--no-build", action="store_true", help="execute notebooks, skip the site")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("simulate", help="write a simulated cohort folder")
    p.add_argument("--out", help="output folder")
    p.add_argument("--n-patients", type=int, default=5000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--scenario",
        default="default",
        choices=list(SCENARIOS),
        help="simulation scenario (see --list-scenarios)",
    )
    p.add_argument("--list-scenarios", action="store_true", help="print the scenarios and exit")
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser("validate", help="check a canonical cohort folder")
    p.add_argument("path", type=Path)
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser(
        "import-tidy",
        help="import a folder of tidy public tables "
        "(clinical.tsv, samples.tsv, mutations.tsv, expression.tsv.gz)",
    )
    p.add_argument("cohort_dir", type=Path)
    p.add_argument("out_dir", type=Path, help="canonical cohort folder to write")
    _import_options(p)
    p.set_defaults(func=_cmd_import_tidy)

    p = sub.add_parser("import-cbioportal", help="import a cBioPortal study folder")
    p.add_argument("study_dir", type=Path)
    p.add_argument("out_dir", type=Path, help="canonical cohort folder to write")
    _import_options(p)
    p.set_defaults(func=_cmd_import_cbioportal)

    p = sub.add_parser("fetch", help="download a cBioPortal datahub study (cached) and import it")
    p.add_argument("study_id", help="datahub study identifier, e.g. nsclc_pd1_msk_2018")
    p.add_argument("--out", type=Path, help="cohort folder to write (default: cohorts/STUDY_ID)")
    p.add_argument(
        "--base-url",
        help="datahub base URL (default: $ICB_BOOK_DATAHUB_URL or https://datahub.assets.cbioportal.org)",
    )
    p.add_argument(
        "--cache-dir", type=Path, help="download cache (default: $ICB_BOOK_CACHE or .cache/datahub)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _import_options(p)
    p.set_defaults(func=_cmd_fetch)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``icb-book`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    # HelpersError covers every error the package raises on purpose (bad parameters, bad
    # input, a failed notebook or download); the others are the standard library's own.
    except (HelpersError, FileNotFoundError, KeyError, ValueError) as exc:
        print(f"icb-book {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
