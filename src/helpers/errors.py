"""One base error for the package, and the shared checks that produce its messages.

Every error the package raises on purpose derives from :class:`HelpersError`. Bad input data
raise :class:`InputError` (or a subclass), whose message has one format everywhere (DESIGN §3):

    <where> (<n> problem(s)):
      - table 'samples', column 'collection_day': must be a number [2 rows break it]
        e.g.
             patient_id  collection_day
        12   PT-1a2b3c4d          banana

The examples show row labels and the offending values. For data read from a *source* (an
import), values of identifier columns are withheld (``withhold=``), so a real identifier never
reaches an error message; for a canonical cohort the ids shown are its pseudonyms.

This module is the base layer: it imports nothing from the package.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: How many example rows an error message shows.
N_EXAMPLES = 3

#: What replaces a withheld identifier in an error message.
WITHHELD = "<withheld>"


class HelpersError(Exception):
    """Base class of every error the package raises on purpose."""


class HelpersWarning(UserWarning):
    """Base class of the package's warnings."""


@dataclass
class Violation:
    """One broken rule: where (table or file, column), what rule, how many rows, examples."""

    table: str
    column: str
    rule: str
    n_rows: int
    examples: pd.DataFrame | None = None

    def __str__(self) -> str:
        count = "1 row breaks it" if self.n_rows == 1 else f"{self.n_rows} rows break it"
        text = f"table '{self.table}', column '{self.column}': {self.rule} [{count}]"
        if self.examples is not None and len(self.examples):
            shown = self.examples.head(N_EXAMPLES).to_string(max_colwidth=40)
            text += "\n    e.g.\n" + "\n".join("    " + line for line in shown.splitlines())
        return text


class InputError(HelpersError, ValueError):
    """Input data broke one or more rules; ``violations`` lists them (possibly empty)."""

    def __init__(self, message: str | Sequence[Violation], where: str = "input"):
        if isinstance(message, str):
            self.violations: list[Violation] = []
            super().__init__(message)
            return
        self.violations = list(message)
        n = len(self.violations)
        lines = [f"{where} ({n} problem{'s' if n != 1 else ''}):"]
        lines += [f"  - {v}" for v in self.violations]
        super().__init__("\n".join(lines))


class CohortValidationError(InputError):
    """A cohort broke one or more rules of the canonical data model."""

    def __init__(self, violations: Sequence[Violation] | str, where: str = "cohort"):
        if isinstance(violations, str):
            super().__init__(violations)
            return
        super().__init__(violations, where=f"{where} is not a valid canonical cohort")


class SourceFormatError(InputError):
    """A source (cBioPortal study, tidy public tables, GMT file) cannot be read as given."""


class ParameterError(HelpersError, ValueError):
    """A parameter value is outside its schema (type, range or allowed values)."""


class PipelineError(HelpersError, RuntimeError):
    """The book could not be built (a notebook failed, a parameter is wrong, ...)."""


class FetchError(HelpersError, RuntimeError):
    """A public study could not be downloaded or unpacked."""


def examples(
    frame: pd.DataFrame,
    bad: pd.Series | np.ndarray,
    columns: Iterable[str],
    withhold: Iterable[str] = (),
    row_label: str | None = None,
) -> pd.DataFrame:
    """The first rows of ``frame`` that break a rule, showing ``columns``.

    Values of the ``withhold`` columns are replaced by ``<withheld>`` (identifiers of a source).
    The row labels of ``frame`` are kept: callers label source rows by their line in the file.
    ``row_label`` names the row labels where ``frame``'s index has no name (e.g. "row").
    """
    cols = [c for c in dict.fromkeys(columns) if c in frame.columns]
    mask = np.asarray(bad, dtype=bool)
    shown = frame.loc[mask, cols].head(N_EXAMPLES).copy()
    for col in withhold:
        if col in shown.columns:
            shown[col] = WITHHELD
    if row_label is not None and shown.index.name is None:
        shown.index.name = row_label
    return shown


def check(
    violations: list[Violation],
    frame: pd.DataFrame,
    bad: pd.Series | np.ndarray,
    *,
    table: str,
    column: str,
    rule: str,
    show: Iterable[str] = (),
    withhold: Iterable[str] = (),
    row_label: str | None = None,
) -> bool:
    """Append a :class:`Violation` to ``violations`` when any row is ``bad``; True if one was.

    ``row_label`` names the example rows' labels where ``frame``'s index has none (see
    :func:`examples`).
    """
    mask = np.asarray(bad, dtype=bool)
    n_bad = int(mask.sum())
    if not n_bad:
        return False
    cols = [*show, column]
    shown = examples(frame, mask, cols, withhold, row_label)
    violations.append(Violation(table, column, rule, n_bad, shown))
    return True


def missing_columns(frame: pd.DataFrame, columns: Iterable[str], table: str) -> list[Violation]:
    """A violation per required column that ``frame`` lacks."""
    present = set(frame.columns)
    return [
        Violation(table, c, "required column is missing", len(frame)) for c in columns if c not in present
    ]


def require_columns(
    frame: pd.DataFrame,
    columns: Iterable[str],
    table: str,
    error: type[InputError] = InputError,
) -> None:
    """Raise ``error`` naming every required column that ``frame`` lacks."""
    found = missing_columns(frame, columns, table)
    if found:
        raise error(found, where=f"table '{table}' lacks required columns")


def raise_violations(
    violations: Sequence[Violation], where: str, error: type[InputError] = InputError
) -> None:
    """Raise ``error`` listing ``violations``; do nothing when there are none."""
    if violations:
        raise error(list(violations), where=where)


def positive_number(
    value: object, name: str, where: str | None = None, rule: str = "a finite number > 0"
) -> float:
    """``value`` as a float, or an :class:`InputError` naming ``name`` (and ``where``) and the rule.

    The one check behind every "must be a positive, finite number" argument of the statistics.
    """
    prefix = f"{where}: " if where else ""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise InputError(f"{prefix}{name} must be a number, got {value!r}") from exc
    if not (np.isfinite(number) and number > 0):
        raise InputError(f"{prefix}{name} must be {rule}, got {value!r}")
    return number
