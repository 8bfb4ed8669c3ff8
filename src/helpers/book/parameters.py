"""The schema of the book's parameters: type, allowed values and meaning of each (DESIGN §6).

``params.yml`` holds the defaults; this module says what each parameter may be. The pipeline
checks every parameter against it before anything runs (:func:`check_parameters`), and a
notebook run alone with papermill checks its own parameters in its first cell
(:func:`check_notebook_parameters`), so a bad value fails at once, with every bad parameter
named beside its value and the rule it breaks, instead of chapters later.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from helpers.errors import ParameterError
from helpers.simulate.scenarios import SCENARIOS

#: A gene symbol as the book's gene lists spell them (HGNC style).
GENE_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9.\-]*$")


@dataclass(frozen=True)
class Parameter:
    """One book parameter.

    ``kind`` is ``"int"``, ``"float"``, ``"str"`` or ``"genes"`` (a list of gene symbols).
    ``low``/``high`` bound a number (``low_open``/``high_open`` make a bound strict);
    ``choices`` lists the allowed values of a text parameter.
    """

    name: str
    kind: str
    meaning: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()

    def rule(self) -> str:
        """The allowed values, in words (also shown in the book's methods page)."""
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "genes":
            return "a non-empty list of gene symbols"
        if self.kind == "str":
            return "text"
        noun = "an integer" if self.kind == "int" else "a number"
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '≥'} {self.low:g}")
        if self.high is not None:
            parts.append(f"{'<' if self.high_open else '≤'} {self.high:g}")
        return noun + (" " + " and ".join(parts) if parts else "")

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not allowed, or None when it is."""
        if self.kind == "genes":
            if isinstance(value, str) or not isinstance(value, Sequence) or not value:
                return f"must be {self.rule()}"
            bad = [g for g in value if not isinstance(g, str) or not GENE_SYMBOL.match(g)]
            return f"must be {self.rule()} (not {bad[:3]})" if bad else None
        if self.kind == "str":
            if not isinstance(value, str):
                return "must be text"
            if self.choices and value not in self.choices:
                return f"must be {self.rule()}"
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be {self.rule()}"
        if self.kind == "int" and not float(value).is_integer():
            return f"must be {self.rule()}"
        if not math.isfinite(float(value)):
            return f"must be {self.rule()}"
        too_low = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        too_high = self.high is not None and (value >= self.high if self.high_open else value > self.high)
        return f"must be {self.rule()}" if too_low or too_high else None


def _p(name: str, kind: str, meaning: str, **rule: Any) -> Parameter:
    return Parameter(name, kind, meaning, **rule)


#: Every parameter of the book, in the order of ``params.yml``.
SCHEMA: tuple[Parameter, ...] = (
    _p("cohort", "str", "a canonical cohort folder; empty = the default simulated cohort (cached)"),
    _p("seed", "int", "seed of the simulated cohort (and of random subsets shown in figures)", low=0),
    _p("n_patients", "int", "size of the simulated cohort", low=50, high=1_000_000),
    _p(
        "scenario",
        "str",
        "simulation scenario of the simulated cohort (icb-book simulate --list-scenarios)",
        choices=tuple(SCENARIOS),
    ),
    _p(
        "benefit_months",
        "float",
        "benefit window: progression at or after it = acquired resistance",
        low=0,
        low_open=True,
        high=60,
    ),
    _p("min_exposure_weeks", "float", "minimum ICB exposure for a primary-resistance call", low=0, high=52),
    _p("min_cell_count", "int", "restricted cohorts: counts below this are suppressed", low=1, high=1000),
    _p(
        "min_events_per_group",
        "int",
        "deaths needed in each class for a per-cancer-type hazard ratio",
        low=1,
    ),
    _p(
        "rmst_months",
        "float",
        "horizon (months after progression) of the restricted mean survival time",
        low=0,
        low_open=True,
        high=120,
    ),
    _p(
        "min_carriers",
        "int",
        "LoF carriers needed to test a gene (ch. 4: both groups together; ch. 5: carriers and as many non-carriers)",
        low=1,
    ),
    _p(
        "fdr",
        "float",
        "Benjamini-Hochberg false discovery rate",
        low=0,
        low_open=True,
        high=1,
        high_open=True,
    ),
    _p("tme_lof_genes", "genes", "LoF genes whose carriers' TME is compared"),
    _p(
        "tme_reference",
        "str",
        "what ssGSEA scores are scaled against",
        choices=("auto", "shipped", "within_cohort"),
    ),
    _p("alpha_beta", "float", "alpha/beta ratio (Gy) for BED and EQD2", low=0, low_open=True, high=100),
    _p(
        "rt_landmark_months",
        "float",
        "landmark after progression for the RT landmark check",
        low=0,
        low_open=True,
        high=60,
    ),
    _p(
        "rt_lag_months",
        "float",
        "exposure lag (months) and negative-control window of the RT sensitivity analyses",
        low=0,
        high=12,
    ),
    _p(
        "public_dir",
        "str",
        "folder of the public cohorts (FACTS.md); empty = ../shared/data/public beside the repository",
    ),
)

BY_NAME: dict[str, Parameter] = {p.name: p for p in SCHEMA}


def parameter_problems(params: Mapping[str, Any]) -> list[str]:
    """One line per parameter of ``params`` that breaks its rule (unknown ones included)."""
    lines = []
    for name, value in params.items():
        spec = BY_NAME.get(name)
        if spec is None:
            lines.append(f"  - {name} = {value!r}: unknown parameter")
            continue
        problem = spec.problem(value)
        if problem:
            lines.append(f"  - {name} = {value!r}: {problem} ({spec.meaning})")
    return lines


def check_parameters(params: Mapping[str, Any]) -> None:
    """Raise :class:`~helpers.errors.ParameterError` naming every bad parameter of ``params``."""
    lines = parameter_problems(params)
    if lines:
        n = len(lines)
        raise ParameterError(
            f"{n} bad parameter{'s' if n != 1 else ''}; nothing was run:\n" + "\n".join(lines)
        )


def check_notebook_parameters(namespace: Mapping[str, Any]) -> None:
    """Check the book parameters defined in a notebook's namespace (its first code cell).

    Only names of the schema are checked (a notebook also holds ``results_dir`` and ``chapter``,
    which the pipeline fills in).
    """
    check_parameters({name: namespace[name] for name in BY_NAME if name in namespace})


def parameters_table() -> list[dict[str, str]]:
    """The schema as rows (name, allowed values, meaning) for the methods page."""
    return [{"parameter": p.name, "allowed values": p.rule(), "meaning": p.meaning} for p in SCHEMA]
