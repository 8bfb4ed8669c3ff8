"""``icb-book``: run the book, simulate a cohort, validate a cohort folder."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cohort import CohortValidationError


def _cmd_run(args: argparse.Namespace) -> int:
    from .pipeline import load_params, parse_overrides, run

    params = load_params(args.params, parse_overrides(args.param or []))
    result = run(params, only=args.only, build=not args.no_build)
    if not args.no_build:
        print(f"\nThe book is built: {result.html_index}")
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from .simulate import save_simulated, simulate_cohort

    cohort, truth = simulate_cohort(n_patients=args.n_patients, seed=args.seed)
    out = save_simulated(cohort, truth, args.out)
    print(f"simulated cohort written to {out} ({len(cohort.patients)} patients, "
          f"{len(cohort.samples)} samples)")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from .cohort import Cohort

    cohort = Cohort.load(args.path)
    counts = ", ".join(f"{len(df)} {name}" for name, df in cohort.tables.items()
                       if name != "expression")
    print(f"{args.path}: valid canonical cohort '{cohort.name}' ({counts})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="icb-book", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="execute the notebooks and build the book")
    p.add_argument("--params", help="a YAML file of parameters (overrides params.yml)")
    p.add_argument("-p", "--param", action="append", metavar="KEY=VALUE",
                   help="override one parameter (repeatable)")
    p.add_argument("--only", action="append", metavar="CHAPTER",
                   help="run only this chapter notebook (repeatable), e.g. 02_resistance_classes")
    p.add_argument("--no-build", action="store_true", help="execute notebooks, skip the site")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("simulate", help="write a simulated cohort folder")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--n-patients", type=int, default=5000)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser("validate", help="check a canonical cohort folder")
    p.add_argument("path", type=Path)
    p.set_defaults(func=_cmd_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``icb-book`` console script."""
    from .pipeline import PipelineError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (PipelineError, CohortValidationError, FileNotFoundError, ValueError) as exc:
        print(f"icb-book {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
